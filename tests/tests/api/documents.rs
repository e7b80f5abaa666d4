//! Drift guards: the copies of the code's facts that documents and fixtures
//! carry (the key format's pattern, the example keys, the audit actions, the
//! route lists of the README and docs/api.md) agree with the code.

use orgkeys_shared::audit::Action;
use orgkeys_shared::key_format::{ApiKey, BODY_LEN, PREFIX, SCAN_REGEX};
use orgkeys_shared::routes::{Access, ROUTES};
use orgkeys_shared::webhooks::EVENT_TYPES;
use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn openapi() -> Value {
    serde_norway::from_str(&read("openapi.yaml")).unwrap()
}

/// The key-shaped strings of `text`: the prefix and the body's alphabet,
/// as long as a key's body or longer (a longer run is a key with text after it).
fn key_like(text: &str) -> Vec<&str> {
    let in_body = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut found = Vec::new();
    for (at, _) in text.match_indices(PREFIX) {
        let body = &text.as_bytes()[at + PREFIX.len()..];
        let len = body.iter().take_while(|&&b| in_body(b)).count();
        if len >= BODY_LEN {
            found.push(&text[at..at + PREFIX.len() + len]);
        }
    }
    found
}

#[test]
fn the_scan_regex_is_the_key_formats_alphabet_and_length() {
    assert_eq!(SCAN_REGEX, format!("{PREFIX}[A-Za-z0-9_-]{{{BODY_LEN}}}"));
}

#[test]
fn openapi_and_the_rest_authorizer_snippet_use_the_key_formats_pattern() {
    let pattern =
        &openapi()["components"]["schemas"]["ApiKeyCreated"]["properties"]["apiKey"]["pattern"];
    assert_eq!(pattern.as_str(), Some(format!("^{SCAN_REGEX}$").as_str()));
    assert!(
        read("docs/deploying.md").contains(&format!("'^([Bb]earer )?{SCAN_REGEX}$'")),
        "docs/deploying.md's ValidationExpression differs from key_format::SCAN_REGEX"
    );
    assert!(read("docs/api.md").contains(&format!("`{SCAN_REGEX}`")));
}

/// Example keys in documents must be real keys (checksum included), so a
/// reader who copies one into a test sees the answer the document promises.
#[test]
fn every_example_key_in_the_documents_is_a_valid_key() {
    for name in [
        "openapi.yaml",
        "docs/api.md",
        "README.md",
        "docs/operations.md",
    ] {
        for key in key_like(&read(name)) {
            assert!(
                ApiKey::parse(key).is_ok(),
                "{name}: {key} is not a valid key"
            );
        }
    }
}

/// The fixtures named `*-good.json` carry a valid key, `*-bad.json` a key of
/// the right shape whose checksum fails (so the authorizer's cheapest check
/// is what refuses it), and `*-missing.json` none.
#[test]
fn the_event_fixtures_keys_are_good_or_bad_as_their_names_say() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("events")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("authorizer-") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let keys = key_like(&text);
        let valid = |key: &&str| ApiKey::parse(key).is_ok();
        if name.ends_with("-good.json") {
            assert!(
                !keys.is_empty() && keys.iter().all(valid),
                "{name}: {keys:?}"
            );
        } else if name.ends_with("-missing.json") {
            assert!(!text.contains(PREFIX), "{name} carries a key");
        } else if name.ends_with("-bad.json") {
            assert!(!keys.iter().any(valid), "{name}: {keys:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 9, "three shapes, each good, bad and missing");
}

#[test]
fn openapis_audit_actions_are_the_codes() {
    let listed: Vec<String> = openapi()["components"]["schemas"]["AuditAction"]["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let code: Vec<String> = Action::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(listed, code);
}

/// The document's `webhooks` (one entry per event type, in the code's
/// order) and its `WebhookEventType` enum are the code's event types.
#[test]
fn openapis_webhooks_are_the_codes_event_types() {
    let document = openapi();
    let code: Vec<String> = EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    let webhooks: Vec<String> = document["webhooks"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(webhooks, code);
    let listed: Vec<String> = document["components"]["schemas"]["WebhookEventType"]["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, code);
    for (name, hook) in document["webhooks"].as_mapping().unwrap() {
        let body =
            &hook["post"]["requestBody"]["content"]["application/json"]["schema"]["allOf"][1];
        assert_eq!(body["properties"]["type"]["const"].as_str(), name.as_str());
    }
}

/// (method, path) of each route a markdown table lists in `section` (from
/// its heading to the next heading of the same or a higher level). A row's
/// first cell names its methods and path in backticks: `` `PUT` · `GET /v1/x` ``.
fn listed_routes(markdown: &str, section: &str) -> BTreeSet<(String, String)> {
    let level = section.chars().take_while(|&c| c == '#').count();
    let mut lines = markdown.lines().skip_while(|l| l.trim() != section).skip(1);
    let mut routes = BTreeSet::new();
    for line in lines.by_ref() {
        let heading = line.chars().take_while(|&c| c == '#').count();
        if heading > 0 && heading <= level {
            break;
        }
        let Some(cell) = line.strip_prefix("| ").and_then(|l| l.split(" | ").next()) else {
            continue;
        };
        let mut methods = Vec::new();
        let mut path = None;
        for code in cell.split('`').skip(1).step_by(2) {
            let mut words = code.split_whitespace();
            let first = words.next().unwrap_or_default();
            if ["GET", "PUT", "POST", "PATCH", "DELETE"].contains(&first) {
                methods.push(first.to_owned());
            }
            if let Some(p) = code.split_whitespace().find(|w| w.starts_with("/v1/")) {
                path = Some(p.split('?').next().unwrap().to_owned());
            }
        }
        if let Some(path) = path {
            routes.extend(methods.into_iter().map(|m| (m, path.clone())));
        }
    }
    routes
}

fn table(filter: impl Fn(Access) -> bool) -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .filter(|r| filter(r.access))
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect()
}

#[test]
fn the_readme_lists_every_admin_route_and_no_other() {
    let readme = read("README.md");
    assert_eq!(
        listed_routes(&readme, "### Admin routes"),
        table(|a| a == Access::Admin)
    );
}

#[test]
fn docs_api_lists_every_route_and_no_other() {
    let api = read("docs/api.md");
    let mut listed = listed_routes(&api, "## Admin API (`keygen`, IAM-protected)");
    listed.extend(listed_routes(&api, "## Public API"));
    listed.extend(listed_routes(
        &api,
        "## Console API (`keygen`, OpenID Connect)",
    ));
    assert_eq!(listed, table(|_| true));
}

/// A schema's `pattern` as a regular expression.
fn pattern(schema: &Value) -> regex_lite::Regex {
    let pattern = schema["pattern"].as_str().expect("a pattern");
    regex_lite::Regex::new(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}"))
}

#[test]
fn openapis_text_patterns_refuse_the_characters_the_code_refuses() {
    use orgkeys_api::text::is_unsafe;
    let document = openapi();
    let schemas = &document["components"]["schemas"];
    let text = pattern(&schemas["OrganizationInput"]["properties"]["name"]);
    let variable = pattern(&schemas["Contact"]["properties"]["variables"]["additionalProperties"]);
    let email = pattern(&schemas["UserInput"]["properties"]["email"]);
    for c in (0..=0xFFFF).filter_map(char::from_u32) {
        let code = c as u32;
        for placed in [format!("a{c}"), format!("{c}a"), format!("a{c}a")] {
            assert_eq!(text.is_match(&placed), !is_unsafe(c), "text, U+{code:04X}");
        }
        let multiline = c == '\t' || c == '\n';
        let want = multiline || !is_unsafe(c);
        assert_eq!(
            variable.is_match(&format!("a{c}")),
            want,
            "variable, U+{code:04X}"
        );
        if !c.is_whitespace() && c != '@' && c != '.' {
            let address = format!("a{c}@example.com");
            assert_eq!(
                email.is_match(&address),
                !is_unsafe(c),
                "email, U+{code:04X}"
            );
        }
    }
    // Blank is refused, as the code trims before it looks.
    for blank in ["", " ", "\t \n"] {
        assert!(!text.is_match(blank), "{blank:?}");
    }
    assert!(text.is_match(" Acme "));
    // Every free-text field of the document has this one pattern.
    let text_fields = [
        ("SubOrganizationInput", "name"),
        ("OrganizationPatch", "name"),
        ("ApiKeyInput", "name"),
        ("ApiKeyPatch", "name"),
        ("RevokeInput", "reason"),
        ("ScheduleInput", "name"),
        ("ScheduleInput", "campaign"),
        ("Contact", "name"),
        ("Contact", "customerUid"),
        ("DispatchInput", "reference"),
        ("ConversationStatusInput", "providerMessageId"),
        ("WebhookEndpointInput", "description"),
        ("WebhookEndpointPatch", "description"),
    ];
    for (schema, field) in text_fields {
        let field = &schemas[schema]["properties"][field];
        assert_eq!(
            field["pattern"].as_str(),
            Some(text.as_str()),
            "{schema}.{field:?}"
        );
    }
}
