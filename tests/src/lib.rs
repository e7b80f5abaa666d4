//! The integration-test harness: a fresh table per test on a DynamoDB-API
//! server, and API Gateway HTTP API (payload 2.0) events built the way API
//! Gateway sends them. The server is the one `AWS_ENDPOINT_URL_DYNAMODB` names
//! (`scripts/test` starts one for the whole run); when it is unset, the first
//! test of the process starts an embedded moto (after `scripts/venv`), which
//! ends with the test process. Tests call the API's routes through
//! [`app::TestApp`], over the handlers or over HTTP; the event builders below
//! are its parts, and serve the tests of what is not a route.

pub mod app;
pub mod fault_proxy;
pub mod github;
pub mod http_client;
pub mod local_gateway;

use aws_sdk_dynamodb::config::{Credentials, Region};
use devserver::moto::EmbeddedMoto;
use lambda_http::{Body, Request, Response};
use orgkeys_shared::Store;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// The IAM principal the admin events carry.
pub const ADMIN_ARN: &str = "arn:aws:iam::123456789012:user/test-admin";

/// A store on a new, empty table of its own, so tests run in parallel.
pub async fn fresh_store() -> Store {
    let client = client_for(&endpoint()).await;
    let table = format!("orgkeys-test-{}", random_hex(8));
    orgkeys_shared::dynamo::table::ensure_table(&client, &table)
        .await
        .expect("create the test table");
    Store::new(client, table)
}

/// A DynamoDB client for `endpoint` with orgkeys' timeouts and retries and
/// dummy credentials (moto accepts any).
pub async fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = orgkeys_shared::dynamo::config::loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::for_tests())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// The DynamoDB server's endpoint: `AWS_ENDPOINT_URL_DYNAMODB`, or a moto
/// server of this test process's own, started once.
pub fn endpoint() -> String {
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        return endpoint;
    }
    static EMBEDDED: OnceLock<EmbeddedMoto> = OnceLock::new();
    let server = EMBEDDED.get_or_init(|| {
        EmbeddedMoto::start(devserver::moto::default_python()).unwrap_or_else(|err| {
            panic!("AWS_ENDPOINT_URL_DYNAMODB is unset and no moto could be started: {err}")
        })
    });
    server.endpoint.clone()
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("OS random");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HTTP API payload 2.0 event. `route` is the route key template
/// (`"POST /v1/admin/organizations/{orgId}/api-keys"`); `params` fill it.
pub fn http_event(
    route: &str,
    params: &[(&str, &str)],
    body: Option<&str>,
    authorizer: Value,
) -> Request {
    to_request(http_event_json(route, params, body, authorizer))
}

/// Parses an event the way `lambda_http` does in Lambda.
pub fn to_request(event: Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("valid API Gateway v2 event")
}

/// Adds query parameters to an event from [`http_event_json`].
pub fn with_query(mut event: Value, query: &[(&str, &str)]) -> Value {
    let raw: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    event["rawQueryString"] = json!(raw.join("&"));
    event["queryStringParameters"] = Value::Object(
        query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect(),
    );
    event
}

/// Adds a header (lower-case, as HTTP APIs deliver them).
pub fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name.to_ascii_lowercase()] = json!(value);
    event
}

/// The context the orgkeys authorizer passes on for a key of `org` with `scopes`.
pub fn key_authorizer(org: &str, scopes: &str) -> Value {
    json!({"lambda": {"organizationId": org, "keyId": "key_test", "scopes": scopes}})
}

/// The JSON of [`http_event`], for tests that add to it.
pub fn http_event_json(
    route: &str,
    params: &[(&str, &str)],
    body: Option<&str>,
    authorizer: Value,
) -> Value {
    let (method, template) = route.split_once(' ').expect("route key is 'METHOD /path'");
    let mut path = template.to_owned();
    for (name, value) in params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    let path_parameters: serde_json::Map<String, Value> = params
        .iter()
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com"},
        "pathParameters": path_parameters,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api123",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "orgkeys-tests"
            },
            "requestId": random_hex(8),
            "routeKey": route,
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64
        },
        "isBase64Encoded": false
    });
    if !authorizer.is_null() {
        event["requestContext"]["authorizer"] = authorizer;
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// The IAM authorizer context API Gateway attaches to SigV4-signed requests.
pub fn iam_authorizer() -> Value {
    json!({"iam": {
        "accessKey": "AKIAEXAMPLE",
        "accountId": "123456789012",
        "callerId": "AIDAEXAMPLE",
        "principalOrgId": null,
        "userArn": ADMIN_ARN,
        "userId": "AIDAEXAMPLE"
    }})
}

/// An admin request as API Gateway delivers it after IAM auth.
pub fn admin(route: &str, params: &[(&str, &str)], body: Option<&str>) -> Request {
    http_event(route, params, body, iam_authorizer())
}

/// A response, its body parsed as JSON (`Value::Null` for an empty body).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status, and returns it.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(self.json["status"], status);
        assert!(self.json["type"].is_string() && self.json["title"].is_string());
        assert!(self.json["detail"].is_string());
        &self.json
    }

    /// Asserts a problem+json response with this status, and returns the
    /// JSON pointers its `errors` list names, in order.
    pub fn pointers(&self, status: u16) -> Vec<&str> {
        self.problem(status)["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors list in {}", self.body))
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect()
    }
}

impl From<Response<Body>> for Reply {
    fn from(response: Response<Body>) -> Reply {
        let body = String::from_utf8(response.body().to_vec()).expect("UTF-8 body");
        let json = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).expect("JSON body")
        };
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
            json,
        }
    }
}

/// Every item in the table, rendered as text, for "no secret stored" checks.
pub async fn dump_table(store: &Store) -> String {
    scan_all(store)
        .await
        .iter()
        .map(|item| format!("{item:?}\n"))
        .collect()
}

/// Every item in the table, all pages.
pub async fn scan_all(store: &Store) -> Vec<orgkeys_shared::dynamo::attributes::Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

/// The key the `events/*-good.json` fixtures carry (see `events/README.md`).
pub const FIXTURE_KEY: &str = "orgk_RBGrFeruKs6g-JK2PRwiCQX9YNZumKwAcg8yiYanqwzlvJ79";
pub const FIXTURE_ORG: &str = "fixture-org";
pub const FIXTURE_KEY_ID: &str = "key_fixture";

/// The audit draft of the harness's own seeding writes: the test admin.
pub fn seed_draft() -> orgkeys_shared::audit::Draft {
    let admin = orgkeys_shared::audit::Actor::admin(ADMIN_ARN);
    let retention = orgkeys_shared::audit::Retention::default();
    orgkeys_shared::audit::Draft::new(admin, Default::default(), chrono::Utc::now(), retention)
        .expect("OS random")
}

/// Records `sub` (email `email`) as a console user of `org` with `role`, as
/// an invitation does: the membership record every console request is
/// checked against. A token for them must be issued after this (`iat`).
pub async fn seed_member(
    store: &Store,
    org: &str,
    sub: &str,
    email: &str,
    role: orgkeys_api::Role,
) {
    use orgkeys_shared::users::{Member, MemberStatus};
    let now = chrono::Utc::now();
    let member = Member {
        user_id: sub.to_owned(),
        organization_id: org_id(org),
        email: email.to_owned(),
        role,
        status: MemberStatus::Active,
        created_at: now,
        updated_at: now,
    };
    store
        .add_member(&member, &seed_draft())
        .await
        .expect("record the member");
}

/// `id` as an organization ID; a test's IDs follow the rule.
pub fn org_id(id: &str) -> orgkeys_api::OrgId {
    orgkeys_api::OrgId::parse(id).expect("a test's organization ID follows the ID rule")
}

/// The store of the local gateway's table `table` (on [`endpoint`]).
pub async fn store_of(table: &str) -> Store {
    Store::new(client_for(&endpoint()).await, table)
}

/// Puts an organization in the table (the keygen tests create theirs through
/// the handler; everyone else only needs one to exist).
pub async fn seed_org(store: &Store, id: &str) {
    use orgkeys_shared::organizations::{Organization, OrganizationStatus};
    let now = chrono::Utc::now();
    store
        .save_organization(&org_id(id), &seed_draft(), |_| {
            Ok::<_, orgkeys_shared::StoreError>(Organization {
                organization_id: org_id(id),
                name: id.into(),
                parent_id: None,
                status: OrganizationStatus::Active,
                limits: Default::default(),
                created_at: now,
                updated_at: now,
            })
        })
        .await
        .expect("seed organization");
}

/// The record of a new key `key_id` of `org` for `key`, as the test admin
/// makes it now: every scope, no name, no expiry, enabled, the
/// organization's terms and limits.
pub fn key_record(
    org: &str,
    key_id: &str,
    key: &orgkeys_shared::key_format::ApiKey,
) -> orgkeys_shared::keys::KeyRecord {
    orgkeys_shared::keys::KeyRecord {
        organization_id: org_id(org),
        key_id: key_id.into(),
        name: None,
        hint: key.hint(),
        scopes: orgkeys_shared::keys::Scope::ALL.to_vec(),
        created_at: chrono::Utc::now(),
        created_by: orgkeys_shared::audit::Actor::admin(ADMIN_ARN),
        expires_at: None,
        last_used_at: None,
        rolled_to: None,
        enabled: true,
        requests_per_minute: None,
        terms: Default::default(),
        leaked: None,
    }
}

/// Puts the fixture organization and the fixture key (all scopes, no expiry) in the table.
pub async fn seed_fixture_key(store: &Store) {
    use orgkeys_shared::key_format::ApiKey;
    use orgkeys_shared::key_hash::KeyHash;
    use orgkeys_shared::keys::KeyRecord;
    seed_org(store, FIXTURE_ORG).await;
    let key = ApiKey::parse(FIXTURE_KEY).expect("fixture key is well-formed");
    let record = KeyRecord {
        name: Some("fixture".into()),
        ..key_record(FIXTURE_ORG, FIXTURE_KEY_ID, &key)
    };
    store
        .create_key(&record, &KeyHash::of(&key), &seed_draft())
        .await
        .expect("seed fixture key");
}

/// Puts an active SMS schedule `schedule_id` of `org` in the table.
pub async fn seed_schedule(store: &Store, org: &str, schedule_id: &str) {
    use orgkeys_shared::schedules::{Channel, Schedule, ScheduleStatus};
    let now = chrono::Utc::now();
    let schedule = Schedule {
        organization_id: org_id(org),
        schedule_id: schedule_id.into(),
        name: "Spring".into(),
        campaign: "Renewals".into(),
        channel: Channel::Sms,
        status: ScheduleStatus::Active,
        starts_at: None,
        ends_at: None,
        created_at: now,
        updated_at: now,
    };
    store
        .put_schedule(&schedule, &seed_draft())
        .await
        .expect("seed schedule");
}

/// The schedule `dispatch-outbound.json` sends on: `fixture-schedule`, active.
pub async fn seed_fixture_schedule(store: &Store) {
    seed_schedule(store, FIXTURE_ORG, "fixture-schedule").await;
}

/// Reads a file of `events/`.
pub fn event_fixture(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A client whose endpoint is a loopback port nobody listens on: every call fails.
pub async fn unreachable_store() -> Store {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let client = client_for(&format!("http://127.0.0.1:{port}")).await;
    Store::new(client, "orgkeys-unreachable")
}

/// Runs the Python helper `tests/tests/http/support/NAME` (an independent
/// implementation: botocore's SigV4, joserfc's JWTs) with the project's
/// virtualenv, `input` on its standard input; its standard output.
pub fn python_support(name: &str, input: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let script = format!("{}/tests/http/support/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(devserver::moto::default_python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run .venv/bin/python (scripts/venv installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{name} failed");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
