//! The commands and options: one command per admin route.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Administer orgkeys: organizations, API keys, console users, schedules,
/// webhook endpoints, audit events and usage.
///
/// Against the local gateway (`scripts/dev`) pass its admin token; against a
/// deployed stack requests are signed with SigV4 (service execute-api) using
/// the standard AWS credential chain: environment, profiles, SSO, credential
/// processes, container and instance roles.
#[derive(Debug, Parser)]
#[command(name = "orgkeys", version)]
pub struct Cli {
    /// The API's base URL (the stack's ApiUrl output in AWS).
    #[arg(
        long,
        global = true,
        env = "ORGKEYS_API_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub api: String,
    /// The local gateway's admin token; without it, requests are signed with SigV4.
    #[arg(
        long,
        global = true,
        env = "ORGKEYS_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Read the admin token from this file (`-`: stdin), kept out of the
    /// process list and the environment; wins over --admin-token.
    #[arg(long, global = true, value_name = "PATH")]
    pub admin_token_file: Option<std::path::PathBuf>,
    /// Send the admin token over plain http:// to a host other than this
    /// machine (loopback), where anyone on the way can read it.
    #[arg(long, global = true)]
    pub insecure_http: bool,
    /// The region to sign for (default: the AWS configuration's, e.g. AWS_REGION).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// How to print answers: tables for people, or the API's exact JSON.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Organizations: create, read, list, change, suspend, resume, delete.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API keys: create (shown once), list, read, change, roll, delete, revoke a leaked one.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Schedules: the platform's sync, and the organization's list.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Console users of an organization (Cognito): invite, list, change role, remove.
    #[command(subcommand)]
    User(UserCommand),
    /// Webhook endpoints: create (the signing secret shown once), list, read,
    /// change, delete, roll the secret, send a test event, the delivery log, resend.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Conversations: the downstream sender's status reports.
    #[command(subcommand)]
    Conversation(ConversationCommand),
    /// An organization's audit events, newest first.
    Audit {
        org: String,
        /// Only events of this action (e.g. api_key.deleted).
        #[arg(long)]
        action: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// An organization's contacts and dispatches per UTC day.
    Usage {
        org: String,
        /// How many days back, today included (1-90).
        #[arg(long)]
        days: Option<u32>,
    },
}

/// One page of a listing.
#[derive(Debug, Args)]
pub struct Page {
    /// Items per page (1-100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// The nextCursor of the previous page.
    #[arg(long)]
    pub cursor: Option<String>,
}

/// Limits of an organization: a number, or `default`.
#[derive(Debug, Args)]
pub struct Limits {
    /// Requests per minute for each key (1-100000, or "default").
    #[arg(long)]
    pub requests_per_minute: Option<Limit>,
    /// Contacts per UTC day for the organization (1-10000000, or "default").
    #[arg(long)]
    pub contacts_per_day: Option<Limit>,
}

/// A limit on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Default,
    Value(u32),
}

impl std::str::FromStr for Limit {
    type Err = String;
    fn from_str(text: &str) -> Result<Limit, String> {
        match text {
            "default" => Ok(Limit::Default),
            number => number
                .parse()
                .map(Limit::Value)
                .map_err(|_| format!("expected a whole number or \"default\", got {text:?}")),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization, or replace its name, parent and limits.
    Put {
        org: String,
        #[arg(long)]
        name: String,
        /// The parent organization's ID.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Read an organization.
    Get { org: String },
    /// List organizations in ID order.
    List {
        #[command(flatten)]
        page: Page,
    },
    /// Change an organization: only what is given changes.
    Update {
        org: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, conflicts_with = "no_parent")]
        parent: Option<String>,
        /// Remove the parent.
        #[arg(long)]
        no_parent: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// Suspend an organization: the authorizer refuses all its keys.
    Suspend { org: String },
    /// Resume a suspended organization: its keys work again.
    Resume { org: String },
    /// Delete an organization with its keys and schedules: asks for its ID
    /// on a terminal first.
    Delete {
        org: String,
        /// Delete without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a key. The key goes to stdout (shown once), the warning to stderr.
    Create {
        org: String,
        #[arg(long)]
        name: Option<String>,
        /// A scope the key carries (repeat for several; default all).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// When the key stops working (RFC 3339).
        #[arg(long)]
        expires_at: Option<String>,
        /// The key's own requests per minute, over its organization's.
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// List an organization's keys (hints only).
    List { org: String },
    /// Read one key (hint only).
    Get { org: String, key: String },
    /// Change a key: only what is given changes.
    Update {
        org: String,
        key: String,
        #[arg(long)]
        name: Option<String>,
        /// Replace the key's scopes (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long, conflicts_with = "no_expiry")]
        expires_at: Option<String>,
        /// Remove the expiry.
        #[arg(long)]
        no_expiry: bool,
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Refuse the key until it is enabled again.
        #[arg(long)]
        disable: bool,
        /// The key's own requests per minute, or "default" for its organization's.
        #[arg(long)]
        requests_per_minute: Option<Limit>,
    },
    /// Replace a key; the old one works for a grace period.
    Roll {
        org: String,
        key: String,
        /// Seconds the old key keeps working (0-604800; default 3600).
        #[arg(long)]
        grace: Option<i64>,
    },
    /// Delete a key.
    Delete { org: String, key: String },
    /// Revoke a leaked key, whoever's it is: the key is read from stdin
    /// (never an argument, which shell history and `ps` would keep); the
    /// answer names its organization and keyId.
    Revoke {
        /// Why, for the audit event (e.g. "pasted in ticket 4711").
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create or replace a schedule.
    Put {
        org: String,
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        campaign: String,
        /// sms, whatsapp, webchat or email.
        #[arg(long)]
        channel: String,
        /// active, paused or ended.
        #[arg(long)]
        status: String,
        #[arg(long)]
        starts_at: Option<String>,
        #[arg(long)]
        ends_at: Option<String>,
    },
    /// List an organization's schedules.
    List {
        org: String,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Delete a schedule.
    Delete { org: String, id: String },
}

#[derive(Debug, Subcommand)]
pub enum ConversationCommand {
    /// Report what became of a conversation (as the downstream sender).
    Status {
        org: String,
        conversation: String,
        /// sent, delivered or failed.
        #[arg(long)]
        status: String,
        /// The sender's (or its provider's) ID of the message.
        #[arg(long)]
        provider_message_id: Option<String>,
        /// Why it failed (with --status failed and --error-message).
        #[arg(long, requires = "error_message")]
        error_code: Option<String>,
        #[arg(long, requires = "error_code")]
        error_message: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Invite a user: Cognito emails them a temporary password (on the
    /// local gateway: GET /local/outbox).
    Invite {
        org: String,
        email: String,
        /// org-admin or org-viewer.
        #[arg(long)]
        role: String,
    },
    /// List an organization's users.
    List { org: String },
    /// Change a user's role.
    Update {
        org: String,
        /// The userId the list shows.
        user: String,
        /// org-admin or org-viewer.
        #[arg(long)]
        role: String,
    },
    /// Remove a user: they can no longer sign in.
    Remove { org: String, user: String },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint. Its signing secret goes to stdout (shown once),
    /// the warning and the endpointId to stderr.
    Create {
        org: String,
        /// https://, or http:// to an address in WEBHOOK_ALLOWED_NETWORKS.
        url: String,
        #[arg(long)]
        description: Option<String>,
        /// An event type it receives (repeat for several; default all).
        #[arg(long = "event")]
        events: Vec<String>,
        /// Also the events of every organization below this one.
        #[arg(long)]
        include_sub_organizations: bool,
    },
    /// List an organization's endpoints and their state.
    List { org: String },
    /// Read one endpoint.
    Get { org: String, endpoint: String },
    /// Change an endpoint: only what is given changes.
    Update {
        org: String,
        endpoint: String,
        #[arg(long)]
        url: Option<String>,
        #[arg(long, conflicts_with = "no_description")]
        description: Option<String>,
        /// Remove the description.
        #[arg(long)]
        no_description: bool,
        /// Replace the event types (repeat for several).
        #[arg(long = "event", conflicts_with = "all_events")]
        events: Vec<String>,
        /// Every event type from now on.
        #[arg(long)]
        all_events: bool,
        #[arg(long, conflicts_with = "no_sub_organizations")]
        include_sub_organizations: bool,
        /// Only this organization's own events.
        #[arg(long)]
        no_sub_organizations: bool,
        /// Enable it again (clears why it was disabled).
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Send it nothing until enabled.
        #[arg(long)]
        disable: bool,
    },
    /// Delete an endpoint.
    Delete { org: String, endpoint: String },
    /// A new signing secret (stdout, shown once); the old one keeps signing
    /// beside it for a while.
    RollSecret {
        org: String,
        endpoint: String,
        /// Seconds the old secret keeps signing (0-86400; default 86400).
        #[arg(long)]
        expires_in: Option<i64>,
    },
    /// Send a webhook.test event to this endpoint.
    Test { org: String, endpoint: String },
    /// The endpoint's delivery log, newest first.
    Messages {
        org: String,
        endpoint: String,
        #[command(flatten)]
        page: Page,
    },
    /// Send a message again (one attempt, the same webhook-id).
    Resend {
        org: String,
        endpoint: String,
        /// The messageId the log shows.
        message: String,
    },
}
