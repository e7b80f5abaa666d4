//! The IAM policies `docs/operations.md` hands out, read from the document and
//! evaluated against every admin route of the route table: the administrator
//! reaches every route, an organization's operator reaches its keys,
//! schedules, audit events and usage but cannot change, replace or delete the
//! organization itself, nor see another, its support staff only read, and
//! the downstream sender only reports conversations' status.

use orgkeys_shared::routes::{Access, Operation, ROUTES, route};
use serde_json::Value;

const PREFIX: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default";

/// Every JSON block of the document that is an IAM policy, by its first `Sid`.
fn documented_policies() -> Vec<(String, Value)> {
    let doc = include_str!("../../../docs/operations.md");
    doc.split("```json\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter_map(|json| serde_json::from_str::<Value>(json).ok())
        .filter(|policy| policy["Version"] == "2012-10-17")
        .map(|policy| {
            let sid = policy["Statement"][0]["Sid"].as_str().unwrap().to_owned();
            (sid, policy)
        })
        .collect()
}

fn policy(sid: &str) -> Value {
    documented_policies()
        .into_iter()
        .find(|(found, _)| found == sid)
        .unwrap_or_else(|| panic!("docs/operations.md has no policy {sid}"))
        .1
}

/// IAM's wildcards: `*` any run of characters (`/` included), `?` one.
fn matches(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .any(|i| matches(&pattern[1..], &text[i..])),
        Some(c) => {
            text.starts_with(|t: char| c == '?' || t == c) && {
                let width = text.chars().next().map_or(0, char::len_utf8);
                matches(&pattern[c.len_utf8()..], &text[width..])
            }
        }
    }
}

fn resources(statement: &Value) -> Vec<&str> {
    match &statement["Resource"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM's evaluation for one identity policy: an explicit deny wins, then an allow.
fn allows(policy: &Value, method: &str, path: &str) -> bool {
    let arn = format!("{PREFIX}/{method}{path}");
    let statements = policy["Statement"].as_array().unwrap();
    let hit = |effect: &str| {
        statements.iter().any(|s| {
            s["Effect"] == effect
                && s["Action"] == "execute-api:Invoke"
                && resources(s).iter().any(|r| matches(r, &arn))
        })
    };
    !hit("Deny") && hit("Allow")
}

/// Every admin route with `org` as its organization (other parameters filled in).
fn admin_routes(org: &str) -> Vec<(&'static str, String, &'static str)> {
    ROUTES
        .iter()
        .filter(|route| route.access == Access::Admin)
        .map(|route| {
            let path = route
                .path
                .replace("{orgId}", org)
                .replace("{keyId}", "key_1")
                .replace("{scheduleId}", "spring")
                .replace("{conversationId}", "conv_1");
            (route.method, path, route.path)
        })
        .collect()
}

#[test]
fn wildcards_match_as_iam_matches_them() {
    assert!(matches("a/*/c", "a/b/x/c"));
    assert!(matches("a/?/c", "a/b/c"));
    assert!(!matches("a/?/c", "a/bb/c"));
    assert!(!matches("a/*", "b/a"));
}

#[test]
fn the_administrator_policy_reaches_every_admin_route() {
    let admin = policy("OrgkeysAdmin");
    for (method, path, _) in admin_routes("acme") {
        assert!(allows(&admin, method, &path), "{method} {path}");
    }
}

#[test]
fn an_operator_manages_the_organizations_keys_and_schedules_but_not_the_organization() {
    let operator = policy("OrgkeysAcmeOperator");
    let itself = "/v1/admin/organizations/{orgId}";
    for (method, path, template) in admin_routes("acme") {
        let expected = if template == itself {
            method == "GET"
        } else {
            template.starts_with(itself)
        };
        assert_eq!(
            allows(&operator, method, &path),
            expected,
            "{method} {path}"
        );
    }
    for (method, path, _) in admin_routes("acme-corp") {
        assert!(!allows(&operator, method, &path), "{method} {path}");
    }
    for (method, path, _) in admin_routes("globex") {
        assert!(!allows(&operator, method, &path), "{method} {path}");
    }
}

#[test]
fn support_staff_only_read_their_organization() {
    let support = policy("OrgkeysAcmeSupport");
    for (method, path, _) in admin_routes("acme") {
        let expected = method == "GET" && path.starts_with("/v1/admin/organizations/acme");
        assert_eq!(allows(&support, method, &path), expected, "{method} {path}");
    }
    for (method, path, _) in admin_routes("globex") {
        assert!(!allows(&support, method, &path), "{method} {path}");
    }
}

#[test]
fn the_sender_reports_conversations_status_and_nothing_else() {
    let sender = policy("OrgkeysSender");
    let status = route(Operation::ReportConversationStatus).path;
    for org in ["acme", "globex"] {
        for (method, path, template) in admin_routes(org) {
            let expected = template == status;
            assert_eq!(allows(&sender, method, &path), expected, "{method} {path}");
        }
    }
}
