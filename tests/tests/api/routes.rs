//! One route table: `template.yaml` and `openapi.yaml` declare exactly the
//! routes of `orgkeys_shared::routes::ROUTES`, served by the same functions,
//! under the same protection; and every function answers each of its routes.

use orgkeys_shared::routes::{Access, Function, ROUTES, Route};
use orgkeys_tests::{Reply, http_event};
use serde_json::json;
use serde_norway::Value;
use std::collections::BTreeSet;

/// (method, path, function, protection): protection is `admin`, `key`,
/// `key:<scope>` or `none` (no authorizer: the function checks a signature).
type RouteSet = BTreeSet<(String, String, String, String)>;

fn yaml(name: &str) -> Value {
    let path = format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn row(route: &Route, protection: String) -> (String, String, String, String) {
    (
        route.method.to_owned(),
        route.path.to_owned(),
        route.function.name().to_owned(),
        protection,
    )
}

/// The table as the template can say it: API Gateway knows IAM or the authorizer, not scopes.
fn table_for_template() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| {
            let protection = match r.access {
                Access::Admin => "admin",
                Access::Key(_) | Access::AnyKey => "key",
                Access::GitHubSignature => "none",
                Access::User | Access::AnyUser => "user",
            };
            row(r, protection.to_owned())
        })
        .collect()
}

/// The table as OpenAPI says it, scopes included, with each `operationId`.
fn table_for_openapi() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| {
            let protection = match r.access {
                Access::Admin => "admin".to_owned(),
                Access::Key(scope) => format!("key:{scope}"),
                Access::AnyKey => "key".to_owned(),
                Access::GitHubSignature => "none".to_owned(),
                Access::User | Access::AnyUser => "user".to_owned(),
            };
            row(r, format!("{protection} {}", r.operation_id))
        })
        .collect()
}

/// Every `HttpApi` event of every function; the default authorizer is the orgkeys one.
fn template_routes() -> RouteSet {
    let template = yaml("template.yaml");
    let mut routes = RouteSet::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        // The webhooks function's stream and queue events are no routes.
        for event in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        {
            let props = &event["Properties"];
            let protection = match props["Auth"]["Authorizer"].as_str() {
                Some("AWS_IAM") => "admin",
                Some("NONE") => "none",
                Some("ConsoleJwt") => "user",
                None => "key",
                Some(other) => panic!("unexpected authorizer {other}"),
            };
            routes.insert((
                props["Method"].as_str().unwrap().to_uppercase(),
                props["Path"].as_str().unwrap().to_owned(),
                binary.clone(),
                protection.to_owned(),
            ));
        }
    }
    routes
}

/// Every operation; its tag names the function, its security requirement the protection.
fn openapi_routes() -> RouteSet {
    let document = yaml("openapi.yaml");
    let mut routes = RouteSet::new();
    for (path, item) in document["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if method == "parameters" {
                continue;
            }
            let requirements = operation["security"].as_sequence().unwrap();
            let protection = match requirements.first() {
                // `security: []`: no scheme the gateway checks.
                None => "none".to_owned(),
                Some(requirement) => {
                    let (scheme, scopes) = requirement.as_mapping().unwrap().iter().next().unwrap();
                    let scopes: Vec<&str> = scopes
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap())
                        .collect();
                    match (scheme.as_str().unwrap(), scopes.as_slice()) {
                        ("adminIam", []) => "admin".to_owned(),
                        ("orgKey", [scope]) => format!("key:{scope}"),
                        ("orgKey", []) => "key".to_owned(),
                        ("consoleJwt", []) => "user".to_owned(),
                        other => panic!("unexpected security requirement {other:?}"),
                    }
                }
            };
            routes.insert((
                method.to_uppercase(),
                path.as_str().unwrap().to_owned(),
                operation["tags"][0].as_str().unwrap().to_owned(),
                format!(
                    "{protection} {}",
                    operation["operationId"].as_str().unwrap()
                ),
            ));
        }
    }
    routes
}

#[test]
fn template_declares_exactly_the_route_table() {
    assert_eq!(template_routes(), table_for_template());
}

#[test]
fn openapi_declares_exactly_the_route_table_with_scopes_and_operation_ids() {
    assert_eq!(openapi_routes(), table_for_openapi());
}

async fn call(function: Function, request: lambda_http::Request) -> Reply {
    let store = orgkeys_tests::unreachable_store().await;
    let response = match function {
        Function::Keygen => keygen::handle(&store, request).await,
        Function::Schedules => schedules::handle(&store, request).await,
        Function::Dispatch => dispatch::handle(&store, request).await,
    };
    response.unwrap().into()
}

/// Each function serves every route the table gives it (it asks for the
/// caller: 401 without one) and no other route (404).
#[tokio::test]
async fn every_function_serves_its_routes_and_only_those() {
    for route in ROUTES {
        let params: Vec<(&str, &str)> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| (name, "x"))
            .collect();
        for function in [Function::Keygen, Function::Schedules, Function::Dispatch] {
            let event = http_event(route.key, &params, None, json!(null));
            let reply = call(function, event).await;
            let expected = if function == route.function { 401 } else { 404 };
            reply.problem(expected);
        }
    }
}

/// `TestApp::method_of` matches on `Operation` with no wildcard, so a route
/// without a method does not compile; this checks each method builds its own
/// route, with a value for each of the route's path parameters.
#[test]
fn every_route_has_its_test_app_method() {
    let app = orgkeys_tests::app::TestApp::over_http("http://127.0.0.1:9", "unused");
    for route in ROUTES {
        let call = app.method_of(route.operation);
        assert_eq!(call.operation(), route.operation, "{}", route.key);
        let names: Vec<&str> = call
            .params()
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let template: Vec<&str> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(names, template, "{}", route.key);
    }
}
