//! What each command asks of the API: the operation (its method and path
//! come from the route table), the path parameters, the query, the body, and
//! how a table shows the answer.

use crate::args::{
    Command, ConversationCommand, KeyCommand, Limit, Limits, OrgCommand, Page, ScheduleCommand,
    UserCommand,
};
use orgkeys_api::body::{
    ConversationStatusInput, CreateKeyInput, DeliveryErrorInput, Field, KeyPatchInput, LimitsInput,
    Object, OrganizationInput, OrganizationPatch, RevokeInput, RollInput, ScheduleInput, UserInput,
    UserPatch,
};
use orgkeys_api::routes::{Operation, Route, route};
use serde::Serialize;
use serde_json::Value;

mod webhook;

/// One request to the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub route: &'static Route,
    pub params: Vec<(&'static str, String)>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
    /// A JSON merge patch (sent as `application/merge-patch+json`).
    pub merge_patch: bool,
    /// A body field whose value is a secret read from stdin, never argv.
    pub stdin_field: Option<&'static str>,
    pub view: View,
    /// When the authorizer sees the change, for commands that change what it decides.
    pub takes_effect: Option<&'static str>,
}

/// A change that refuses keys or changes what they may do reaches the
/// authorizer's caches within their windows, not at once.
pub const REACHES_THE_AUTHORIZER: &str = "the authorizer applies this within AUTH_CACHE_TTL_SECONDS plus API Gateway's ReauthorizeEvery (60 s with the defaults; 30 s on the local gateway)";
/// A refused key that may work again is refused from the caches only briefly.
pub const WORKS_AGAIN: &str = "a re-enabled key or a resumed organization's keys work again within AUTH_DENY_CACHE_TTL_SECONDS plus API Gateway's ReauthorizeEvery (35 s with the defaults; 5 s on the local gateway)";

/// How a table shows a successful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// One object, a field a line.
    Object,
    /// `items` as rows: (header, what the column shows of an item).
    List(&'static [(&'static str, Cell)]),
    /// A new key: the key alone on stdout, the warning on stderr.
    NewKey,
    /// A new webhook signing secret: the secret alone on stdout, the
    /// warning and the endpointId on stderr.
    NewSecret,
    /// 204: nothing to show.
    Done,
}

/// What a table column shows of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The value at a JSON pointer.
    At(&'static str),
    /// A key's state: enabled, disabled, expired, or rolled with its end.
    KeyState,
    /// An audit event's details, summarized.
    Details,
    /// A webhook endpoint's state: enabled, or disabled and why.
    EndpointState,
    /// A webhook message's attempts: how many, and how the last one ended.
    Attempts,
}

const ORGANIZATIONS: &[(&str, Cell)] = &[
    ("ORGANIZATION", Cell::At("/organizationId")),
    ("NAME", Cell::At("/name")),
    ("STATUS", Cell::At("/status")),
    ("PARENT", Cell::At("/parentId")),
    ("REQ/MIN", Cell::At("/limits/requestsPerMinute")),
    ("CONTACTS/DAY", Cell::At("/limits/contactsPerDay")),
];
const KEYS: &[(&str, Cell)] = &[
    ("KEY", Cell::At("/keyId")),
    ("NAME", Cell::At("/name")),
    ("HINT", Cell::At("/hint")),
    ("SCOPES", Cell::At("/scopes")),
    ("STATE", Cell::KeyState),
    ("EXPIRES", Cell::At("/expiresAt")),
    ("LAST USED", Cell::At("/lastUsedAt")),
];
const SCHEDULES: &[(&str, Cell)] = &[
    ("SCHEDULE", Cell::At("/scheduleId")),
    ("NAME", Cell::At("/name")),
    ("CHANNEL", Cell::At("/channel")),
    ("STATUS", Cell::At("/status")),
    ("CAMPAIGN", Cell::At("/campaign")),
];
const USERS: &[(&str, Cell)] = &[
    ("USER", Cell::At("/userId")),
    ("EMAIL", Cell::At("/email")),
    ("ROLE", Cell::At("/role")),
    ("STATUS", Cell::At("/status")),
    ("CREATED", Cell::At("/createdAt")),
];
const EVENTS: &[(&str, Cell)] = &[
    ("WHEN", Cell::At("/occurredAt")),
    ("ACTION", Cell::At("/action")),
    ("ACTOR", Cell::At("/actor/id")),
    ("TARGET", Cell::At("/target/id")),
    ("DETAILS", Cell::Details),
];
const DAYS: &[(&str, Cell)] = &[
    ("DATE", Cell::At("/date")),
    ("CONTACTS", Cell::At("/contacts")),
    ("DISPATCHES", Cell::At("/dispatches")),
];

impl Call {
    fn new(operation: Operation, params: &[(&'static str, &str)], view: View) -> Call {
        Call {
            route: route(operation),
            params: params.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
            query: Vec::new(),
            body: None,
            merge_patch: false,
            stdin_field: None,
            view,
            takes_effect: None,
        }
    }

    /// Sets [`Call::stdin_field`] of the body to `secret` (trimmed: a
    /// trailing newline from `echo` or a file is not part of it).
    pub fn with_stdin_secret(mut self, secret: &str) -> Call {
        if let (Some(field), Some(Value::Object(body))) = (self.stdin_field, &mut self.body) {
            body.insert(field.to_owned(), Value::from(secret.trim()));
        }
        self
    }

    fn takes_effect(mut self, when: &'static str) -> Call {
        self.takes_effect = Some(when);
        self
    }

    /// The body: one of the API's own request types.
    fn body(mut self, body: &impl Serialize) -> Call {
        self.body = Some(serde_json::to_value(body).expect("request bodies serialize"));
        self
    }

    fn patch(mut self, body: &impl Serialize) -> Call {
        self.merge_patch = true;
        self.body(body)
    }

    fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Call {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    fn page(self, page: &Page) -> Call {
        self.query("limit", page.limit)
            .query("cursor", page.cursor.as_deref())
    }

    /// The request a command makes.
    pub fn of(command: &Command) -> Call {
        match command {
            Command::Org(command) => org(command),
            Command::Key(command) => key(command),
            Command::Schedule(command) => schedule(command),
            Command::User(command) => user(command),
            Command::Webhook(command) => webhook::call(command),
            Command::Conversation(command) => conversation(command),
            Command::Audit { org, action, page } => Call::new(
                Operation::ListAuditEvents,
                &[("orgId", org)],
                View::List(EVENTS),
            )
            .query("action", action.as_deref())
            .page(page),
            Command::Usage { org, days } => Call::new(
                Operation::GetOrganizationUsage,
                &[("orgId", org)],
                View::List(DAYS),
            )
            .query("days", *days),
        }
    }

    /// The path with its parameters filled in, percent-encoded, and the query.
    pub fn path_and_query(&self) -> String {
        self.route.url(&self.params, &self.query)
    }
}

/// A limit option: left out, back to the default (`null`), or a number.
fn limit(limit: Option<Limit>) -> Field<i64> {
    match limit {
        None => Field::Absent,
        Some(Limit::Default) => Field::Null,
        Some(Limit::Value(value)) => Field::Value(value.into()),
    }
}

/// The limits options, if any was given.
fn limits(limits: &Limits) -> Option<Object<LimitsInput>> {
    let input = LimitsInput {
        requests_per_minute: limit(limits.requests_per_minute),
        contacts_per_day: limit(limits.contacts_per_day),
    };
    (input != LimitsInput::default()).then_some(Object(input))
}

/// A value, or `null` when its `--no-...` flag removes it.
fn set_or_clear<T: Clone>(value: &Option<T>, clear: bool) -> Field<T> {
    match (value, clear) {
        (_, true) => Field::Null,
        (Some(value), false) => Field::Value(value.clone()),
        (None, false) => Field::Absent,
    }
}

fn org(command: &OrgCommand) -> Call {
    use Operation::*;
    let status = |org: &str, status: &str| {
        let when = match status {
            "active" => WORKS_AGAIN,
            _ => REACHES_THE_AUTHORIZER,
        };
        Call::new(UpdateOrganization, &[("orgId", org)], View::Object)
            .patch(&OrganizationPatch {
                status: Field::Value(status.to_owned()),
                ..OrganizationPatch::default()
            })
            .takes_effect(when)
    };
    match command {
        OrgCommand::Put {
            org,
            name,
            parent,
            limits: set,
        } => Call::new(PutOrganization, &[("orgId", org)], View::Object).body(&OrganizationInput {
            name: Some(name.clone()),
            parent_id: parent.clone(),
            limits: limits(set),
        }),
        OrgCommand::Get { org } => Call::new(GetOrganization, &[("orgId", org)], View::Object),
        OrgCommand::List { page } => {
            Call::new(ListOrganizations, &[], View::List(ORGANIZATIONS)).page(page)
        }
        OrgCommand::Update {
            org,
            name,
            parent,
            no_parent,
            limits: set,
        } => Call::new(UpdateOrganization, &[("orgId", org)], View::Object)
            .patch(&OrganizationPatch {
                name: Field::from_change(name.clone().map(Some)),
                parent_id: set_or_clear(parent, *no_parent),
                limits: Field::from_change(limits(set).map(Some)),
                ..OrganizationPatch::default()
            })
            .takes_effect(REACHES_THE_AUTHORIZER),
        OrgCommand::Suspend { org } => status(org, "suspended"),
        OrgCommand::Resume { org } => status(org, "active"),
        OrgCommand::Delete { org, .. } => {
            Call::new(DeleteOrganization, &[("orgId", org)], View::Done)
        }
    }
}

fn key(command: &KeyCommand) -> Call {
    use Operation::*;
    let scopes = |scopes: &[String]| (!scopes.is_empty()).then(|| scopes.to_vec());
    match command {
        KeyCommand::Create {
            org,
            name,
            scopes: requested,
            expires_at,
            requests_per_minute,
        } => Call::new(CreateApiKey, &[("orgId", org)], View::NewKey).body(&CreateKeyInput {
            name: name.clone(),
            scopes: scopes(requested),
            expires_at: expires_at.clone(),
            requests_per_minute: requests_per_minute.map(i64::from),
        }),
        KeyCommand::List { org } => Call::new(ListApiKeys, &[("orgId", org)], View::List(KEYS)),
        KeyCommand::Get { org, key } => {
            Call::new(GetApiKey, &[("orgId", org), ("keyId", key)], View::Object)
        }
        KeyCommand::Update {
            org,
            key,
            name,
            scopes: requested,
            expires_at,
            no_expiry,
            enable,
            disable,
            requests_per_minute,
        } => Call::new(
            UpdateApiKey,
            &[("orgId", org), ("keyId", key)],
            View::Object,
        )
        .patch(&KeyPatchInput {
            name: Field::from_change(name.clone().map(Some)),
            scopes: Field::from_change(scopes(requested).map(Some)),
            expires_at: set_or_clear(expires_at, *no_expiry),
            enabled: match (enable, disable) {
                (true, _) => Field::Value(true),
                (_, true) => Field::Value(false),
                _ => Field::Absent,
            },
            requests_per_minute: limit(*requests_per_minute),
        })
        .takes_effect(if *enable {
            WORKS_AGAIN
        } else {
            REACHES_THE_AUTHORIZER
        }),
        KeyCommand::Roll { org, key, grace } => {
            Call::new(RollApiKey, &[("orgId", org), ("keyId", key)], View::NewKey)
                .body(&RollInput {
                    grace_period_seconds: *grace,
                })
                .takes_effect(REACHES_THE_AUTHORIZER)
        }
        KeyCommand::Delete { org, key } => {
            Call::new(DeleteApiKey, &[("orgId", org), ("keyId", key)], View::Done)
                .takes_effect(REACHES_THE_AUTHORIZER)
        }
        KeyCommand::Revoke { reason } => Call {
            stdin_field: Some("apiKey"),
            ..Call::new(RevokeLeakedApiKey, &[], View::Object).body(&RevokeInput {
                api_key: String::new(),
                reason: reason.clone(),
            })
        },
    }
}

fn schedule(command: &ScheduleCommand) -> Call {
    use Operation::*;
    match command {
        ScheduleCommand::Put {
            org,
            id,
            name,
            campaign,
            channel,
            status,
            starts_at,
            ends_at,
        } => Call::new(
            PutSchedule,
            &[("orgId", org), ("scheduleId", id)],
            View::Object,
        )
        .body(&ScheduleInput {
            name: Some(name.clone()),
            campaign: Some(campaign.clone()),
            channel: Some(channel.clone()),
            status: Some(status.clone()),
            starts_at: starts_at.clone(),
            ends_at: ends_at.clone(),
        }),
        ScheduleCommand::List {
            org,
            status,
            channel,
            page,
        } => Call::new(
            ListOrganizationSchedules,
            &[("orgId", org)],
            View::List(SCHEDULES),
        )
        .query("status", status.as_deref())
        .query("channel", channel.as_deref())
        .page(page),
        ScheduleCommand::Delete { org, id } => Call::new(
            DeleteSchedule,
            &[("orgId", org), ("scheduleId", id)],
            View::Done,
        ),
    }
}

fn conversation(command: &ConversationCommand) -> Call {
    let ConversationCommand::Status {
        org,
        conversation,
        status,
        provider_message_id,
        error_code,
        error_message,
    } = command;
    let error = (error_code.is_some() || error_message.is_some()).then(|| {
        Object(DeliveryErrorInput {
            code: error_code.clone(),
            message: error_message.clone(),
        })
    });
    Call::new(
        Operation::ReportConversationStatus,
        &[("orgId", org), ("conversationId", conversation)],
        View::Object,
    )
    .body(&ConversationStatusInput {
        status: Some(status.clone()),
        provider_message_id: provider_message_id.clone(),
        error,
    })
}

fn user(command: &UserCommand) -> Call {
    use Operation::*;
    match command {
        UserCommand::Invite { org, email, role } => {
            Call::new(InviteUser, &[("orgId", org)], View::Object).body(&UserInput {
                email: email.clone(),
                role: role.clone(),
            })
        }
        UserCommand::List { org } => Call::new(ListUsers, &[("orgId", org)], View::List(USERS)),
        UserCommand::Update { org, user, role } => Call::new(
            UpdateUser,
            &[("orgId", org), ("userId", user)],
            View::Object,
        )
        .patch(&UserPatch { role: role.clone() }),
        UserCommand::Remove { org, user } => {
            Call::new(RemoveUser, &[("orgId", org), ("userId", user)], View::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::Parser;
    use serde_json::json;

    fn call(args: &[&str]) -> Call {
        let cli = Cli::try_parse_from([&["orgkeys"], args].concat()).expect("valid arguments");
        Call::of(&cli.command)
    }

    #[test]
    fn every_admin_route_has_a_command() {
        let commands: &[&[&str]] = &[
            &["org", "put", "acme", "--name", "Acme"],
            &["org", "get", "acme"],
            &["org", "list"],
            &["org", "update", "acme", "--name", "A"],
            &["org", "delete", "acme", "--yes"],
            &["key", "create", "acme"],
            &["key", "list", "acme"],
            &["key", "get", "acme", "key_1"],
            &["key", "update", "acme", "key_1", "--disable"],
            &["key", "roll", "acme", "key_1"],
            &["key", "delete", "acme", "key_1"],
            &["key", "revoke", "--reason", "pasted in a ticket"],
            &[
                "schedule",
                "put",
                "acme",
                "s",
                "--name",
                "n",
                "--campaign",
                "c",
                "--channel",
                "sms",
                "--status",
                "active",
            ],
            &["schedule", "list", "acme"],
            &["schedule", "delete", "acme", "s"],
            &["audit", "acme"],
            &["usage", "acme"],
            &[
                "user",
                "invite",
                "acme",
                "ann@acme.example",
                "--role",
                "org-viewer",
            ],
            &["user", "list", "acme"],
            &["user", "update", "acme", "u-1", "--role", "org-admin"],
            &["user", "remove", "acme", "u-1"],
            &["webhook", "create", "acme", "https://hooks.example/in"],
            &["webhook", "list", "acme"],
            &["webhook", "get", "acme", "ep_1"],
            &["webhook", "update", "acme", "ep_1", "--disable"],
            &["webhook", "delete", "acme", "ep_1"],
            &["webhook", "roll-secret", "acme", "ep_1"],
            &["webhook", "test", "acme", "ep_1"],
            &["webhook", "messages", "acme", "ep_1"],
            &["webhook", "resend", "acme", "ep_1", "msg_1"],
            &[
                "conversation",
                "status",
                "acme",
                "conv_1",
                "--status",
                "sent",
            ],
        ];
        let covered: std::collections::BTreeSet<&str> =
            commands.iter().map(|args| call(args).route.key).collect();
        let admin: std::collections::BTreeSet<&str> = orgkeys_api::routes::ROUTES
            .iter()
            .filter(|r| r.access == orgkeys_api::routes::Access::Admin)
            .map(|r| r.key)
            .collect();
        assert_eq!(covered, admin);
    }

    #[test]
    fn a_revoked_key_is_taken_from_stdin_into_the_body_and_never_from_argv() {
        let revoke = call(&["key", "revoke", "--reason", "in a gist"]);
        assert_eq!(revoke.body, Some(json!({"reason": "in a gist"})));
        assert_eq!(revoke.stdin_field, Some("apiKey"));
        let revoke = revoke.with_stdin_secret("orgk_secret\n");
        assert_eq!(
            revoke.body,
            Some(json!({"reason": "in a gist", "apiKey": "orgk_secret"}))
        );
        let cli = Cli::try_parse_from(["orgkeys", "key", "revoke", "orgk_secret", "--reason", "r"]);
        assert!(cli.is_err(), "the key is no argument");
    }

    #[test]
    fn bodies_carry_only_what_was_given_and_patches_say_so() {
        let update = call(&[
            "key",
            "update",
            "acme",
            "key_1",
            "--disable",
            "--no-expiry",
            "--requests-per-minute",
            "default",
        ]);
        assert!(update.merge_patch);
        assert_eq!(
            update.body,
            Some(json!({"enabled": false, "expiresAt": null, "requestsPerMinute": null}))
        );
        let suspend = call(&["org", "suspend", "acme"]);
        assert_eq!(suspend.route.operation, Operation::UpdateOrganization);
        assert_eq!(suspend.body, Some(json!({"status": "suspended"})));
        let put = call(&[
            "org",
            "put",
            "acme",
            "--name",
            "Acme",
            "--contacts-per-day",
            "20",
        ]);
        assert_eq!(
            put.body,
            Some(json!({"name": "Acme", "limits": {"contactsPerDay": 20}}))
        );
        assert!(!put.merge_patch);
    }

    #[test]
    fn webhook_bodies_carry_only_what_was_given() {
        let create = call(&[
            "webhook",
            "create",
            "acme",
            "https://hooks.example/in",
            "--event",
            "api_key.leaked",
            "--event",
            "webhook.test",
            "--include-sub-organizations",
        ]);
        assert_eq!(create.view, View::NewSecret);
        assert_eq!(
            create.body,
            Some(json!({
                "url": "https://hooks.example/in",
                "eventTypes": ["api_key.leaked", "webhook.test"],
                "includeSubOrganizations": true
            }))
        );
        let update = call(&[
            "webhook",
            "update",
            "acme",
            "ep_1",
            "--all-events",
            "--no-description",
            "--no-sub-organizations",
            "--enable",
        ]);
        assert!(update.merge_patch);
        assert_eq!(
            update.body,
            Some(json!({
                "eventTypes": null,
                "description": null,
                "includeSubOrganizations": false,
                "enabled": true
            }))
        );
        let roll = call(&[
            "webhook",
            "roll-secret",
            "acme",
            "ep_1",
            "--expires-in",
            "0",
        ]);
        assert_eq!(roll.body, Some(json!({"expiresIn": 0})));
        assert_eq!(roll.view, View::NewSecret);
        let resend = call(&["webhook", "resend", "acme", "ep_1", "msg_1"]);
        assert_eq!(
            resend.path_and_query(),
            "/v1/admin/organizations/acme/webhooks/ep_1/messages/msg_1/resend"
        );
        let clash = [
            "orgkeys",
            "webhook",
            "update",
            "acme",
            "ep_1",
            "--event",
            "x",
            "--all-events",
        ];
        assert_eq!(Cli::try_parse_from(clash).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn a_status_report_sends_the_error_only_when_given() {
        let failed = call(&[
            "conversation",
            "status",
            "acme",
            "conv_1",
            "--status",
            "failed",
            "--error-code",
            "30007",
            "--error-message",
            "filtered",
        ]);
        assert_eq!(
            failed.path_and_query(),
            "/v1/admin/organizations/acme/conversations/conv_1/status"
        );
        assert_eq!(
            failed.body,
            Some(json!({"status": "failed", "error": {"code": "30007", "message": "filtered"}}))
        );
        let sent = call(&[
            "conversation",
            "status",
            "acme",
            "conv_1",
            "--status",
            "sent",
            "--provider-message-id",
            "SM1",
        ]);
        assert_eq!(
            sent.body,
            Some(json!({"status": "sent", "providerMessageId": "SM1"}))
        );
        let half = [
            "conversation",
            "status",
            "a",
            "c",
            "--status",
            "failed",
            "--error-code",
            "x",
        ];
        let err = Cli::try_parse_from([&["orgkeys"][..], &half].concat()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn paths_are_filled_from_the_route_table_and_encoded() {
        let get = call(&["key", "get", "acme corp", "key/1"]);
        assert_eq!(
            get.path_and_query(),
            "/v1/admin/organizations/acme%20corp/api-keys/key%2F1"
        );
        let audit = call(&[
            "audit",
            "acme",
            "--action",
            "api_key.deleted",
            "--limit",
            "5",
        ]);
        assert_eq!(
            audit.path_and_query(),
            "/v1/admin/organizations/acme/audit-events?action=api_key.deleted&limit=5"
        );
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for args in [
            &["key", "update", "acme", "k", "--enable", "--disable"][..],
            &["org", "put", "acme"],
            &["org", "update", "acme", "--contacts-per-day", "lots"],
        ] {
            let err = Cli::try_parse_from([&["orgkeys"], args].concat()).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn changes_the_authorizer_decides_on_say_when_they_apply() {
        let when = |args: &[&str]| call(args).takes_effect;
        assert_eq!(
            when(&["org", "suspend", "acme"]),
            Some(REACHES_THE_AUTHORIZER)
        );
        assert_eq!(when(&["org", "resume", "acme"]), Some(WORKS_AGAIN));
        assert_eq!(
            when(&["key", "update", "acme", "k", "--enable"]),
            Some(WORKS_AGAIN)
        );
        assert_eq!(
            when(&["key", "update", "acme", "k", "--disable"]),
            Some(REACHES_THE_AUTHORIZER)
        );
        assert_eq!(
            when(&["key", "delete", "acme", "k"]),
            Some(REACHES_THE_AUTHORIZER)
        );
        assert_eq!(when(&["org", "get", "acme"]), None);
        assert_eq!(when(&["key", "list", "acme"]), None);
    }
}
