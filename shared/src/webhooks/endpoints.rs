//! An organization's webhook endpoints: item `ORG#<orgId>` /
//! `WEBHOOK#<endpointId>` (`itemType = WEBHOOK_ENDPOINT`). Each change is
//! one transaction with its audit event (`webhook.created`, `.updated`,
//! `.deleted`, `.secret_rolled`, `.disabled`), which carries the URL and the
//! settings but never a secret; the secret is stored sealed (`secrets`).
//! At most [`MAX_ENDPOINTS`] per organization, held exactly by a counter
//! item `ORG#<orgId>` / `WEBHOOKS` that each create and delete changes in
//! the same transaction, conditionally.
//!
//! Health is state, not a change anyone made: `failingSince` is set by the
//! first failed attempt after a success and cleared by the next success;
//! disabling for failures (or a 410) is recorded as `webhook.disabled` by
//! the system.

use super::MAX_ENDPOINTS;
use crate::audit::{Action, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{
    CREATED_AT, CorruptItem, ITEM_TYPE, Item, ORG_ID, UPDATED_AT, item_address, n, optional_bool,
    optional_string, optional_time, parsed_list, required_time, s, stored_org_id, string, strings,
    time,
};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError};
use crate::tenancy;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use serde_json::{Value, json};

const SK_PREFIX: &str = "WEBHOOK#";
const COUNTER_SK: &str = "WEBHOOKS";
const ITEM_TYPE_VALUE: &str = "WEBHOOK_ENDPOINT";
const ENDPOINT_ID: &str = "endpointId";
const URL: &str = "url";
const DESCRIPTION: &str = "description";
const EVENT_TYPES: &str = "eventTypes";
const INCLUDE_SUB_ORGANIZATIONS: &str = "includeSubOrganizations";
const ENABLED: &str = "enabled";
const DISABLED_REASON: &str = "disabledReason";
const FAILING_SINCE: &str = "failingSince";
const SECRET: &str = "sealedSecret";
const PREVIOUS_SECRET: &str = "previousSealedSecret";
const PREVIOUS_SECRET_EXPIRES_AT: &str = "previousSecretExpiresAt";
const REVISION: &str = "revision";
const COUNT: &str = "count";

/// An endpoint as stored; its secrets sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub organization_id: OrgId,
    pub endpoint_id: String,
    pub url: String,
    pub description: Option<String>,
    /// The event types it hears; `None`: all.
    pub event_types: Option<Vec<String>>,
    /// Whether it also hears the organizations below its own.
    pub include_sub_organizations: bool,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; `None` after a success.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sealed_secret: Vec<u8>,
    /// The secret before the last roll, and until when it still signs.
    pub previous_secret: Option<(Vec<u8>, DateTime<Utc>)>,
    revision: i64,
}

impl Endpoint {
    /// Whether it hears events of `event_type` (a test event always).
    pub fn wants(&self, event_type: &str) -> bool {
        event_type == super::events::TEST_EVENT
            || self
                .event_types
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| t == event_type))
    }

    /// The sealed secrets that sign at `now`: the current one, and the
    /// previous one until it expires.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&[u8]> {
        let mut secrets = vec![self.sealed_secret.as_slice()];
        if let Some((previous, until)) = &self.previous_secret
            && now < *until
        {
            secrets.push(previous.as_slice());
        }
        secrets
    }

    /// What its audit events say of it: the settings, never a secret.
    fn audit_details(&self) -> serde_json::Map<String, Value> {
        details([
            ("url", json!(self.url)),
            ("eventTypes", json!(self.event_types)),
            (
                "includeSubOrganizations",
                json!(self.include_sub_organizations),
            ),
            ("enabled", json!(self.enabled)),
        ])
    }
}

/// A new endpoint's settings and sealed secret.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint {
    pub endpoint_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub include_sub_organizations: bool,
    pub sealed_secret: Vec<u8>,
}

/// A change of an endpoint's settings; `None`: unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    /// `Some(None)`: all event types.
    pub event_types: Option<Option<Vec<String>>>,
    pub include_sub_organizations: Option<bool>,
    pub enabled: Option<bool>,
}

/// What a create did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    Endpoint(Box<Endpoint>),
    /// The organization has [`MAX_ENDPOINTS`] already.
    LimitReached,
}

fn address(org_id: &OrgId, endpoint_id: &str) -> Item {
    item_address(
        tenancy::partition(org_id),
        format!("{SK_PREFIX}{endpoint_id}"),
    )
}

fn counter_address(org_id: &OrgId) -> Item {
    item_address(tenancy::partition(org_id), COUNTER_SK.to_owned())
}

fn to_item(endpoint: &Endpoint) -> Item {
    let mut item = address(&endpoint.organization_id, &endpoint.endpoint_id);
    item.extend([
        (ITEM_TYPE.to_owned(), s(ITEM_TYPE_VALUE)),
        (ORG_ID.to_owned(), s(&endpoint.organization_id)),
        (ENDPOINT_ID.to_owned(), s(&endpoint.endpoint_id)),
        (URL.to_owned(), s(&endpoint.url)),
        (
            INCLUDE_SUB_ORGANIZATIONS.to_owned(),
            AttributeValue::Bool(endpoint.include_sub_organizations),
        ),
        (ENABLED.to_owned(), AttributeValue::Bool(endpoint.enabled)),
        (CREATED_AT.to_owned(), time(endpoint.created_at)),
        (UPDATED_AT.to_owned(), time(endpoint.updated_at)),
        (
            SECRET.to_owned(),
            AttributeValue::B(Blob::new(endpoint.sealed_secret.clone())),
        ),
        (REVISION.to_owned(), n(endpoint.revision)),
    ]);
    let optional = [
        (DESCRIPTION, endpoint.description.as_ref().map(s)),
        (
            EVENT_TYPES,
            endpoint
                .event_types
                .as_ref()
                .map(|t| strings(t.iter().map(String::as_str))),
        ),
        (DISABLED_REASON, endpoint.disabled_reason.as_ref().map(s)),
        (FAILING_SINCE, endpoint.failing_since.map(time)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    }
    if let Some((previous, until)) = &endpoint.previous_secret {
        item.insert(
            PREVIOUS_SECRET.to_owned(),
            AttributeValue::B(Blob::new(previous.clone())),
        );
        item.insert(PREVIOUS_SECRET_EXPIRES_AT.to_owned(), time(*until));
    }
    item
}

fn bytes(item: &Item, name: &str) -> Result<Option<Vec<u8>>, CorruptItem> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::B(blob)) => Ok(Some(blob.as_ref().to_vec())),
        Some(_) => Err(CorruptItem(format!("{name} is not binary"))),
    }
}

fn from_item(item: &Item) -> Result<Endpoint, CorruptItem> {
    let previous = match (
        bytes(item, PREVIOUS_SECRET)?,
        optional_time(item, PREVIOUS_SECRET_EXPIRES_AT)?,
    ) {
        (Some(secret), Some(until)) => Some((secret, until)),
        _ => None,
    };
    Ok(Endpoint {
        organization_id: stored_org_id(item, ORG_ID)?,
        endpoint_id: string(item, ENDPOINT_ID)?,
        url: string(item, URL)?,
        description: optional_string(item, DESCRIPTION)?,
        event_types: item
            .contains_key(EVENT_TYPES)
            .then(|| parsed_list(item, EVENT_TYPES))
            .transpose()?,
        include_sub_organizations: optional_bool(item, INCLUDE_SUB_ORGANIZATIONS)?.unwrap_or(false),
        enabled: optional_bool(item, ENABLED)?.unwrap_or(true),
        disabled_reason: optional_string(item, DISABLED_REASON)?,
        failing_since: optional_time(item, FAILING_SINCE)?,
        created_at: required_time(item, CREATED_AT)?,
        updated_at: required_time(item, UPDATED_AT)?,
        sealed_secret: bytes(item, SECRET)?
            .ok_or_else(|| CorruptItem(format!("missing {SECRET}")))?,
        previous_secret: previous,
        revision: crate::dynamo::attributes::optional_number(item, REVISION)?.unwrap_or(0),
    })
}

/// Holds while the endpoint is as read.
fn unchanged(endpoint: &Endpoint) -> Condition {
    Condition::new("#revision = :revision")
        .name("#revision", REVISION)
        .value(":revision", n(endpoint.revision))
}

/// How many times a change re-reads an endpoint changed under it.
const ATTEMPTS: usize = 5;

impl Store {
    /// Creates an endpoint with its `webhook.created` event, unless the
    /// organization is gone ([`StoreError::NotFound`]) or has
    /// [`MAX_ENDPOINTS`] already.
    pub async fn create_endpoint(
        &self,
        org_id: &OrgId,
        new: NewEndpoint,
        draft: &Draft,
    ) -> Result<Created, StoreError> {
        let endpoint = Endpoint {
            organization_id: org_id.to_owned(),
            endpoint_id: new.endpoint_id,
            url: new.url,
            description: new.description,
            event_types: new.event_types,
            include_sub_organizations: new.include_sub_organizations,
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            created_at: draft.occurred_at,
            updated_at: draft.occurred_at,
            sealed_secret: new.sealed_secret,
            previous_secret: None,
            revision: 1,
        };
        let below_limit = Condition::new("attribute_not_exists(#count) OR #count < :max")
            .name("#count", COUNT)
            .value(":max", n(MAX_ENDPOINTS));
        let event = draft.event(
            org_id,
            Action::WebhookCreated,
            Target::new(TargetType::Webhook, &endpoint.endpoint_id),
            endpoint.audit_details(),
        );
        let writes = vec![
            self.organization_exists(org_id)?,
            Update::at(counter_address(org_id), below_limit)
                .add(COUNT, n(1))
                .transaction_write(self)?,
            self.put_new(to_item(&endpoint))?,
            self.record(&event)?,
        ];
        match self.transact(writes).await? {
            None => Ok(Created::Endpoint(Box::new(endpoint))),
            Some(0) => Err(StoreError::NotFound),
            Some(1) => Ok(Created::LimitReached),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    /// The organization's endpoints, in ID order.
    pub async fn list_endpoints(&self, org_id: &OrgId) -> Result<Vec<Endpoint>, StoreError> {
        let items = self
            .query_all(tenancy::partition(org_id), SK_PREFIX)
            .await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    pub async fn get_endpoint(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        Ok(self
            .get(address(org_id, endpoint_id))
            .await?
            .as_ref()
            .map(from_item)
            .transpose()?)
    }

    /// Applies `change`; records `webhook.updated` when anything changed.
    /// Enabling an endpoint clears why it was disabled and its failures.
    /// `None` when there is no such endpoint.
    pub async fn update_endpoint(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        change: &EndpointChange,
        draft: &Draft,
    ) -> Result<Option<Endpoint>, StoreError> {
        self.change_endpoint(
            org_id,
            endpoint_id,
            Action::WebhookUpdated,
            draft,
            |endpoint| {
                let before = endpoint.clone();
                if let Some(url) = &change.url {
                    endpoint.url.clone_from(url);
                }
                if let Some(description) = &change.description {
                    endpoint.description.clone_from(description);
                }
                if let Some(types) = &change.event_types {
                    endpoint.event_types.clone_from(types);
                }
                if let Some(include) = change.include_sub_organizations {
                    endpoint.include_sub_organizations = include;
                }
                if let Some(enabled) = change.enabled {
                    if enabled && !endpoint.enabled {
                        endpoint.disabled_reason = None;
                        endpoint.failing_since = None;
                    }
                    endpoint.enabled = enabled;
                    if !enabled && before.enabled {
                        endpoint.disabled_reason = Some("disabled by an administrator".into());
                    }
                }
                *endpoint != before
            },
        )
        .await
    }

    /// A new sealed secret; the current one keeps signing until
    /// `previous_until` (none when that is now or earlier).
    pub async fn roll_endpoint_secret(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        sealed_secret: Vec<u8>,
        previous_until: DateTime<Utc>,
        draft: &Draft,
    ) -> Result<Option<Endpoint>, StoreError> {
        let now = draft.occurred_at;
        self.change_endpoint(
            org_id,
            endpoint_id,
            Action::WebhookSecretRolled,
            draft,
            |endpoint| {
                let current = std::mem::replace(&mut endpoint.sealed_secret, sealed_secret.clone());
                endpoint.previous_secret =
                    (previous_until > now).then_some((current, previous_until));
                true
            },
        )
        .await
    }

    /// Disables an enabled endpoint for `reason`, recorded as
    /// `webhook.disabled` by `draft`'s actor (the system, for failures).
    /// `false` when it was already disabled or is gone.
    pub async fn disable_endpoint(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        reason: &str,
        draft: &Draft,
    ) -> Result<bool, StoreError> {
        let changed = self
            .change_endpoint(
                org_id,
                endpoint_id,
                Action::WebhookDisabled,
                draft,
                |endpoint| {
                    let was = endpoint.enabled;
                    endpoint.enabled = false;
                    endpoint.disabled_reason = Some(reason.to_owned());
                    was
                },
            )
            .await?;
        Ok(changed.is_some_and(|endpoint| endpoint.disabled_reason.as_deref() == Some(reason)))
    }

    /// Reads, changes with `change` (which says whether it changed
    /// anything) and writes the endpoint with its event, conditional on the
    /// revision read.
    async fn change_endpoint(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        action: Action,
        draft: &Draft,
        mut change: impl FnMut(&mut Endpoint) -> bool,
    ) -> Result<Option<Endpoint>, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(read) = self.get_endpoint(org_id, endpoint_id).await? else {
                return Ok(None);
            };
            let mut endpoint = read.clone();
            if !change(&mut endpoint) {
                return Ok(Some(read));
            }
            endpoint.updated_at = draft.occurred_at;
            endpoint.revision = read.revision + 1;
            let event = draft.event(
                org_id,
                action,
                Target::new(TargetType::Webhook, endpoint_id),
                endpoint.audit_details(),
            );
            let put = aws_sdk_dynamodb::types::Put::builder()
                .table_name(self.table())
                .set_item(Some(to_item(&endpoint)))
                .condition_expression("#revision = :revision")
                .expression_attribute_names("#revision", REVISION)
                .expression_attribute_values(":revision", n(read.revision))
                .build()
                .map_err(StoreError::from_build)?;
            let writes = vec![
                TransactWriteItem::builder().put(put).build(),
                self.record(&event)?,
            ];
            match self.transact(writes).await? {
                None => return Ok(Some(endpoint)),
                Some(0) => continue,
                Some(_) => return Err(StoreError::Conflict),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Deletes the endpoint with its `webhook.deleted` event; `false` when
    /// there was none. Its messages leave by their TTL.
    pub async fn delete_endpoint(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        draft: &Draft,
    ) -> Result<bool, StoreError> {
        let Some(endpoint) = self.get_endpoint(org_id, endpoint_id).await? else {
            return Ok(false);
        };
        let event = draft.event(
            org_id,
            Action::WebhookDeleted,
            Target::new(TargetType::Webhook, endpoint_id),
            endpoint.audit_details(),
        );
        let writes = vec![
            self.delete_when(address(org_id, endpoint_id), unchanged(&endpoint))?,
            Update::at(
                counter_address(org_id),
                Condition::new("attribute_exists(PK)"),
            )
            .add(COUNT, n(-1))
            .transaction_write(self)?,
            self.record(&event)?,
        ];
        match self.transact(writes).await? {
            None => Ok(true),
            // Changed or gone since it was read: gone is the same answer.
            Some(0) => match self.get_endpoint(org_id, endpoint_id).await? {
                None => Ok(false),
                Some(_) => Err(StoreError::Conflict),
            },
            Some(_) => Err(StoreError::Conflict),
        }
    }

    /// Notes a failed attempt: the endpoint is failing since `at` unless it
    /// already was.
    pub async fn endpoint_failing(
        &self,
        endpoint: &Endpoint,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let not_yet = Condition::new("attribute_exists(PK) AND attribute_not_exists(#since)")
            .name("#since", FAILING_SINCE);
        let result = Update::at(
            address(&endpoint.organization_id, &endpoint.endpoint_id),
            not_yet,
        )
        .set(FAILING_SINCE, time(at))
        .request(self)
        .send()
        .await;
        crate::dynamo::conditional(result).map(|_| ())
    }

    /// Notes a delivered attempt: the endpoint is failing no longer.
    pub async fn endpoint_recovered(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let exists = Condition::new("attribute_exists(PK)");
        let result = Update::at(
            address(&endpoint.organization_id, &endpoint.endpoint_id),
            exists,
        )
        .remove(FAILING_SINCE)
        .request(self)
        .send()
        .await;
        crate::dynamo::conditional(result).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        let at = crate::wire_time::parse("2026-01-01T00:00:00Z").unwrap();
        Endpoint {
            organization_id: OrgId::parse("acme").unwrap(),
            endpoint_id: "ep_0123456789abcdef01234567".into(),
            url: "https://hooks.example/orgkeys".into(),
            description: Some("CRM".into()),
            event_types: Some(vec!["api_key.created".into()]),
            include_sub_organizations: true,
            enabled: false,
            disabled_reason: Some("410".into()),
            failing_since: Some(at),
            created_at: at,
            updated_at: at,
            sealed_secret: vec![1, 2, 3],
            previous_secret: Some((vec![4, 5], at)),
            revision: 7,
        }
    }

    #[test]
    fn an_endpoint_round_trips_through_its_item() {
        let endpoint = endpoint();
        assert_eq!(from_item(&to_item(&endpoint)).unwrap(), endpoint);
        let bare = Endpoint {
            description: None,
            event_types: None,
            disabled_reason: None,
            failing_since: None,
            previous_secret: None,
            ..endpoint
        };
        assert_eq!(from_item(&to_item(&bare)).unwrap(), bare);
    }

    #[test]
    fn event_type_filters_and_the_test_event() {
        let mut endpoint = endpoint();
        assert!(endpoint.wants("api_key.created"));
        assert!(!endpoint.wants("schedule.updated"));
        assert!(endpoint.wants("webhook.test"));
        endpoint.event_types = None;
        assert!(endpoint.wants("schedule.updated"));
    }

    #[test]
    fn the_previous_secret_signs_until_it_expires() {
        let endpoint = endpoint();
        let (_, until) = endpoint.previous_secret.clone().unwrap();
        assert_eq!(
            endpoint
                .signing_secrets(until - chrono::Duration::seconds(1))
                .len(),
            2
        );
        assert_eq!(endpoint.signing_secrets(until).len(), 1);
    }

    #[test]
    fn audit_details_never_carry_a_secret() {
        let text = Value::Object(endpoint().audit_details()).to_string();
        assert!(!text.contains("ecret"), "{text}");
    }
}
