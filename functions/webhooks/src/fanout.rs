//! Fan-out: the table's stream, filtered to new audit events and delivery
//! requests, becomes one queue job per endpoint that wants each event. An
//! event's endpoints are its organization's own and those of the
//! organizations above it that include sub-organizations; each job's
//! `webhook-id` is derived from the event and the endpoint, so a batch the
//! stream delivers twice gives the same messages again, never new ones.
//! Nothing is written to the table here: the first attempt writes the log.

use crate::job::Job;
use crate::queue::Queue;
use orgkeys_api::OrgId;
use orgkeys_shared::audit::{self, AuditEvent};
use orgkeys_shared::dynamo::attributes::{ITEM_TYPE, Item};
use orgkeys_shared::webhooks::messages::REQUEST_ITEM_TYPE;
use orgkeys_shared::webhooks::{self, DeliveryRequest, Endpoint, WebhookEvent};
use orgkeys_shared::{Store, StoreError};
use std::collections::HashMap;

/// One new item from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// The record's position in its shard: what a partial batch failure names.
    pub sequence_number: String,
    pub new_image: Item,
}

/// The item types the stream's filter lets through (an `INSERT` of one of
/// these): `template.yaml`'s filter criteria and the local poller use it.
pub const ITEM_TYPES: [&str; 2] = [audit::ITEM_TYPE_VALUE, REQUEST_ITEM_TYPE];

/// Whether the fan-out wants a new item of this image.
pub fn wanted(image: &Item) -> bool {
    image
        .get(ITEM_TYPE)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|t| ITEM_TYPES.contains(&t.as_str()))
}

/// Queues the jobs of `records`. Returns the sequence number of the first
/// record not wholly queued (the stream retries from it), or `None`.
pub async fn fan_out(
    store: &Store,
    queue: &Queue,
    records: &[StreamRecord],
) -> Result<Option<String>, StoreError> {
    let mut endpoints = EndpointsOf::new(store);
    let mut jobs = Vec::new();
    // The record each job comes from, to name the first one that failed.
    let mut sources = Vec::new();
    for (index, record) in records.iter().enumerate() {
        for job in jobs_of(&mut endpoints, &record.new_image).await? {
            jobs.push(job);
            sources.push(index);
        }
    }
    let refused = queue.send_all(&jobs).await?;
    let first = refused.iter().map(|&job| sources[job]).min();
    Ok(first.map(|index| records[index].sequence_number.clone()))
}

/// The jobs one new item makes; a malformed item makes none (logged), so
/// it cannot hold the stream up.
async fn jobs_of(endpoints: &mut EndpointsOf<'_>, image: &Item) -> Result<Vec<Job>, StoreError> {
    let kind = image
        .get(ITEM_TYPE)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str);
    if kind == Some(REQUEST_ITEM_TYPE) {
        return Ok(match DeliveryRequest::from_item(image) {
            Ok(request) => vec![Job::first(request)],
            Err(err) => {
                tracing::error!(error = %err.0, "a delivery request item is malformed");
                Vec::new()
            }
        });
    }
    let event = match AuditEvent::from_item(image) {
        Ok(event) => event,
        Err(err) => {
            tracing::error!(error = %err.0, "an audit event item is malformed");
            return Ok(Vec::new());
        }
    };
    let payload = WebhookEvent::of_audit(&event).body();
    let wanting = endpoints.wanting(&event).await?;
    Ok(wanting
        .into_iter()
        .map(|endpoint| {
            let seed = format!("{} {}", event.event_id, endpoint.endpoint_id);
            Job::first(DeliveryRequest {
                organization_id: endpoint.organization_id.clone(),
                endpoint_id: endpoint.endpoint_id.clone(),
                message_id: webhooks::message_id(event.occurred_at, seed.as_bytes()),
                event_type: event.action.as_str().to_owned(),
                created_at: event.occurred_at,
                payload: payload.clone(),
                once: false,
            })
        })
        .collect())
}

/// The endpoints of organizations and their ancestry, each read once per
/// batch.
struct EndpointsOf<'a> {
    store: &'a Store,
    own: HashMap<OrgId, Vec<Endpoint>>,
    ancestors: HashMap<OrgId, Vec<OrgId>>,
}

impl<'a> EndpointsOf<'a> {
    fn new(store: &'a Store) -> EndpointsOf<'a> {
        EndpointsOf {
            store,
            own: HashMap::new(),
            ancestors: HashMap::new(),
        }
    }

    async fn of(&mut self, org_id: &OrgId) -> Result<&[Endpoint], StoreError> {
        if !self.own.contains_key(org_id) {
            let endpoints = self.store.list_endpoints(org_id).await?;
            self.own.insert(org_id.clone(), endpoints);
        }
        Ok(self.own.get(org_id).map(Vec::as_slice).unwrap_or_default())
    }

    /// The enabled endpoints that hear `event`: its organization's own, and
    /// those above it that include sub-organizations; none made after it
    /// happened (the stream may bring it later), nor its own creation. An
    /// organization that is
    /// gone (its deletion's own event) has no ancestry to read: its own
    /// endpoints went with it, and those above it are not told.
    async fn wanting(&mut self, event: &AuditEvent) -> Result<Vec<Endpoint>, StoreError> {
        let org_id = &event.organization_id;
        let hears = |e: &&Endpoint| {
            e.enabled && e.created_at < event.occurred_at && e.wants(event.action.as_str())
        };
        if !self.ancestors.contains_key(org_id) {
            let ancestors = self.store.ancestors_of(org_id).await?.unwrap_or_default();
            self.ancestors.insert(org_id.clone(), ancestors);
        }
        let ancestors = self.ancestors.get(org_id).cloned().unwrap_or_default();
        let mut wanting: Vec<Endpoint> = self
            .of(org_id)
            .await?
            .iter()
            .filter(hears)
            .cloned()
            .collect();
        for ancestor in &ancestors {
            wanting.extend(
                self.of(ancestor)
                    .await?
                    .iter()
                    .filter(|e| e.include_sub_organizations && hears(e))
                    .cloned(),
            );
        }
        Ok(wanting)
    }
}
