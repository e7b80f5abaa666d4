//! One route table: `template.yaml`, the local gateway and `openapi.yaml`
//! declare the same routes, served by the same functions, under the same auth.

use devserver::routes::{Auth, ROUTES};
use serde_norway::Value;
use std::collections::BTreeSet;

type RouteSet = BTreeSet<(String, String, String, String)>;

fn yaml(name: &str) -> Value {
    let path = format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn auth_name(auth: Auth) -> String {
    match auth {
        Auth::Iam => "iam".into(),
        Auth::OrgKey => "orgkey".into(),
    }
}

fn devserver_routes() -> RouteSet {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.name().to_owned(),
                auth_name(r.auth),
            )
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
        for event in events.values() {
            assert_eq!(event["Type"].as_str(), Some("HttpApi"));
            let props = &event["Properties"];
            let auth = match props["Auth"]["Authorizer"].as_str() {
                Some("AWS_IAM") => "iam",
                None => "orgkey",
                Some(other) => panic!("unexpected authorizer {other}"),
            };
            routes.insert((
                props["Method"].as_str().unwrap().to_uppercase(),
                props["Path"].as_str().unwrap().to_owned(),
                binary.clone(),
                auth.to_owned(),
            ));
        }
    }
    routes
}

/// Every operation; its tag names the function, its security scheme the auth.
fn openapi_routes() -> RouteSet {
    let document = yaml("openapi.yaml");
    let mut routes = RouteSet::new();
    for (path, item) in document["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if method == "parameters" {
                continue;
            }
            let scheme = operation["security"][0]
                .as_mapping()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .as_str()
                .unwrap();
            let auth = match scheme {
                "adminIam" => "iam",
                "orgKey" => "orgkey",
                other => panic!("unexpected security scheme {other}"),
            };
            routes.insert((
                method.to_uppercase(),
                path.as_str().unwrap().to_owned(),
                operation["tags"][0].as_str().unwrap().to_owned(),
                auth.to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn template_gateway_and_openapi_declare_the_same_routes() {
    let gateway = devserver_routes();
    assert_eq!(gateway.len(), ROUTES.len(), "no route twice in the gateway");
    assert_eq!(
        template_routes(),
        gateway,
        "template.yaml vs the local gateway"
    );
    assert_eq!(
        openapi_routes(),
        gateway,
        "openapi.yaml vs the local gateway"
    );
}

#[test]
fn every_route_the_functions_handle_is_in_the_table() {
    // The route keys each function matches on, read from its source.
    for function in ["keygen", "schedules", "dispatch"] {
        let path = format!(
            "{}/../functions/{function}/src/lib.rs",
            env!("CARGO_MANIFEST_DIR")
        );
        let source = std::fs::read_to_string(path).unwrap();
        let handled: BTreeSet<String> = source
            .split('"')
            .filter(|s| s.contains(" /v1/") && s.split(' ').count() == 2)
            .map(str::to_owned)
            .collect();
        let declared: BTreeSet<String> = ROUTES
            .iter()
            .filter(|r| r.function.name() == function)
            .map(|r| r.key())
            .collect();
        assert_eq!(handled, declared, "{function}");
    }
}
