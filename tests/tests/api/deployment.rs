//! `template.yaml` as a customer deploys it: own domains only with their
//! certificates, no localhost outside the dev stage, MFA, email through SES,
//! every function rolled out through its alias, the checkov skips explained,
//! and docs/deploying.md's table naming exactly the template's parameters.

use super::template::{reference, template, text};
use serde_norway::Value;
use std::collections::BTreeSet;

/// The tag of a `!Tag value` node (`If`, `Ref`, ...), and its value.
fn tagged(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

/// The three arguments of `!If [condition, then, else]`.
fn if_branches(value: &Value) -> (&str, &Value, &Value) {
    let (tag, args) = tagged(value).unwrap_or_else(|| panic!("expected !If, found {value:?}"));
    assert_eq!(tag, "If", "expected !If, found {value:?}");
    let args = args.as_sequence().expect("!If takes a list");
    (text(&args[0]), &args[1], &args[2])
}

/// The parameters a `!Not [!Equals [!Ref P, ""]]` (or an `!And` of them)
/// requires to be set, and the conditions it includes.
fn required_settings(condition: &Value) -> BTreeSet<String> {
    let (tag, args) = tagged(condition).expect("a condition function");
    match tag.as_str() {
        "And" => args
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(required_settings)
            .collect(),
        "Condition" => BTreeSet::from([format!("condition {}", text(args))]),
        "Not" => {
            let (equals, pair) = tagged(&args[0]).unwrap();
            assert_eq!(equals, "Equals");
            assert_eq!(pair[1].as_str(), Some(""), "{condition:?}");
            BTreeSet::from([reference(&pair[0]).to_owned()])
        }
        other => panic!("unexpected condition function {other}"),
    }
}

/// Every string under `value` that is not in the `then` branch of an
/// `!If [IsDev, ...]` nor a `Description` (prose), with the path that leads to it.
fn strings_outside_dev<'a>(value: &'a Value, path: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => found.push((path, s)),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                strings_outside_dev(item, format!("{path}/{i}"), found);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                let key = key.as_str().unwrap_or("?");
                if key == "Description" {
                    continue;
                }
                strings_outside_dev(item, format!("{path}/{key}"), found);
            }
        }
        Value::Tagged(t) => {
            let args = t.value.as_sequence();
            let dev_only = t.tag == "If" && args.is_some_and(|a| a[0].as_str() == Some("IsDev"));
            if dev_only {
                strings_outside_dev(&args.unwrap()[2], format!("{path}/!If(not dev)"), found);
            } else {
                strings_outside_dev(&t.value, format!("{path}/{}", t.tag), found);
            }
        }
        _ => {}
    }
}

fn is_local(s: &str) -> bool {
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|l| s.contains(l))
}

#[test]
fn localhost_appears_only_in_the_dev_stage_and_dev_is_not_the_default() {
    let template = template();
    let stage = &template["Parameters"]["Stage"];
    assert_eq!(text(&stage["Default"]), "prod");
    let (tag, equals) = tagged(&template["Conditions"]["IsDev"]).unwrap();
    assert_eq!(tag, "Equals");
    assert_eq!(reference(&equals[0]), "Stage");
    assert_eq!(text(&equals[1]), "dev");

    let mut found = Vec::new();
    strings_outside_dev(&template, String::new(), &mut found);
    let local: Vec<_> = found.iter().filter(|(_, s)| is_local(s)).collect();
    assert_eq!(
        local,
        Vec::<&(String, &str)>::new(),
        "localhost outside Stage dev"
    );
    // The walk sees the dev branch's URL when it is not guarded by IsDev.
    let client = &template["Resources"]["UserPoolClient"]["Properties"];
    let mut all = Vec::new();
    strings_outside_dev(
        &Value::Sequence(vec![client.clone()]),
        String::new(),
        &mut all,
    );
    let unguarded = serde_norway::to_string(client)
        .unwrap()
        .replace("IsDev", "HostConsole");
    let unguarded: Value = serde_norway::from_str(&unguarded).unwrap();
    let mut leaked = Vec::new();
    strings_outside_dev(&unguarded, String::new(), &mut leaked);
    assert!(
        leaked.iter().any(|(_, s)| is_local(s)),
        "the check would miss an unguarded localhost"
    );
}

#[test]
fn each_own_domain_needs_its_certificate_and_names_its_dns_record() {
    let template = template();
    let conditions = &template["Conditions"];
    let resources = &template["Resources"];
    let outputs = &template["Outputs"];
    for (condition, settings, resource, record) in [
        (
            "HasApiDomain",
            vec!["ApiDomainName", "ApiCertificateArn"],
            "ApiDomain",
            "ApiDnsRecord",
        ),
        (
            "HasConsoleDomain",
            vec![
                "ConsoleDomainName",
                "ConsoleCertificateArn",
                "condition HostConsole",
            ],
            "ConsoleDistribution",
            "ConsoleDnsRecord",
        ),
        (
            "HasLoginDomain",
            vec![
                "LoginDomainName",
                "LoginCertificateArn",
                "condition CreateUserPool",
            ],
            "UserPoolCustomDomain",
            "LoginDnsRecord",
        ),
    ] {
        let wanted: BTreeSet<String> = settings.into_iter().map(str::to_owned).collect();
        assert_eq!(
            required_settings(&conditions[condition]),
            wanted,
            "{condition}"
        );
        assert_eq!(text(&outputs[record]["Condition"]), condition);
        if resource != "ConsoleDistribution" {
            assert_eq!(text(&resources[resource]["Condition"]), condition);
        }
    }
    for setting in ["ApiDomainName", "ConsoleDomainName", "LoginDomainName"] {
        assert_eq!(
            text(&template["Parameters"][setting]["Default"]),
            "",
            "{setting}"
        );
    }
    assert_eq!(
        text(&resources["ApiDomainMapping"]["Condition"]),
        "HasApiDomain"
    );
    let config = &resources["ConsoleDistribution"]["Properties"]["DistributionConfig"];
    let (condition, aliases, _) = if_branches(&config["Aliases"]);
    assert_eq!(
        (condition, reference(&aliases[0])),
        ("HasConsoleDomain", "ConsoleDomainName")
    );
    let (condition, certificate, _) = if_branches(&config["ViewerCertificate"]);
    assert_eq!(condition, "HasConsoleDomain");
    assert_eq!(
        reference(&certificate["AcmCertificateArn"]),
        "ConsoleCertificateArn"
    );
    assert_eq!(text(&certificate["MinimumProtocolVersion"]), "TLSv1.2_2021");
    // What the console's config.json is made of follows the domains.
    for (output, condition) in [
        ("ApiUrl", "HasApiDomain"),
        ("ConsoleUrl", "HasConsoleDomain"),
        ("ConsoleLoginDomain", "HasLoginDomain"),
    ] {
        assert_eq!(
            if_branches(&outputs[output]["Value"]).0,
            condition,
            "{output}"
        );
    }
}

#[test]
fn console_users_sign_in_with_an_authenticator_app_and_invitations_can_go_through_ses() {
    let template = template();
    let mfa = &template["Parameters"]["ConsoleMfa"];
    assert_eq!(text(&mfa["Default"]), "OPTIONAL");
    let allowed: Vec<&str> = mfa["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert_eq!(allowed, ["OFF", "OPTIONAL", "ON"]);
    let pool = &template["Resources"]["UserPool"]["Properties"];
    assert_eq!(reference(&pool["MfaConfiguration"]), "ConsoleMfa");
    let (condition, _, enabled) = if_branches(&pool["EnabledMfas"]);
    assert_eq!(condition, "MfaOff");
    assert_eq!(
        enabled.as_sequence().unwrap(),
        &[Value::from("SOFTWARE_TOKEN_MFA")]
    );

    // The console sets up a user's authenticator with their access token on
    // the pool's own API: the app client grants that scope, and the
    // console's CSP lets it call there.
    let client = &template["Resources"]["UserPoolClient"]["Properties"];
    let scopes: Vec<&str> = client["AllowedOAuthScopes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert!(
        scopes.contains(&"aws.cognito.signin.user.admin"),
        "{scopes:?}"
    );
    let headers = &template["Resources"]["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
        ["SecurityHeadersConfig"];
    let (sub, args) = tagged(&headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]).unwrap();
    assert_eq!(sub, "Sub");
    let csp = text(&args[0]);
    let connect = csp
        .split(';')
        .find(|directive| directive.trim().starts_with("connect-src"))
        .unwrap();
    assert!(
        connect
            .split_whitespace()
            .any(|source| source == "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}"),
        "{connect}"
    );

    let (condition, ses, cognito) = if_branches(&pool["EmailConfiguration"]);
    assert_eq!(condition, "SendThroughSes");
    assert_eq!(
        required_settings(&template["Conditions"][condition]),
        BTreeSet::from(["SesIdentityArn".to_owned()])
    );
    assert_eq!(text(&ses["EmailSendingAccount"]), "DEVELOPER");
    assert_eq!(reference(&ses["SourceArn"]), "SesIdentityArn");
    assert_eq!(reference(&ses["From"]), "EmailFrom");
    assert_eq!(text(&cognito["EmailSendingAccount"]), "COGNITO_DEFAULT");
}

#[test]
fn every_function_rolls_out_through_its_alias_watched_by_alarms_that_see_it() {
    let template = template();
    let resources = &template["Resources"];
    let globals = &template["Globals"]["Function"];
    assert_eq!(text(&globals["AutoPublishAlias"]), "live");
    let preference = &globals["DeploymentPreference"];
    let (condition, dev, other) = if_branches(&preference["Type"]);
    assert_eq!((condition, text(dev)), ("IsDev", "AllAtOnce"));
    assert_eq!(reference(other), "DeploymentType");

    let functions: BTreeSet<&str> = resources
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, _)| text(name))
        .collect();
    for function in &functions {
        let properties = &resources[*function]["Properties"];
        assert!(
            properties.get("AutoPublishAlias").is_none(),
            "{function} keeps the live alias"
        );
        assert!(
            properties["DeploymentPreference"].get("Type").is_none(),
            "{function} keeps the rollout"
        );
    }
    let alarms = preference["Alarms"].as_sequence().unwrap();
    assert!(!alarms.is_empty());
    for alarm in alarms {
        let alarm = &resources[reference(alarm)];
        assert_eq!(text(&alarm["Type"]), "AWS::CloudWatch::Alarm");
        let watched: BTreeSet<&str> = alarm["Properties"]["Metrics"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|m| m.get("MetricStat"))
            .map(|stat| reference(&stat["Metric"]["Dimensions"][0]["Value"]))
            .collect();
        assert_eq!(watched, functions, "a rollout alarm watches every function");
        let sum = text(&alarm["Properties"]["Metrics"][0]["Expression"]);
        let ids = alarm["Properties"]["Metrics"].as_sequence().unwrap().len() - 1;
        assert_eq!(
            sum.matches(',').count() + 1,
            ids,
            "the sum adds every metric: {sum}"
        );
    }
    let authorizer = &resources["Api"]["Properties"]["Auth"]["Authorizers"]["OrgKey"];
    assert_eq!(
        tagged(&authorizer["FunctionArn"]).map(|(tag, v)| (tag, text(v).to_owned())),
        Some(("Ref".to_owned(), "AuthorizerFunction.Alias".to_owned()))
    );
}

#[test]
fn every_checkov_skip_says_why() {
    let template = template();
    let mut skips = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let Some(list) = resource["Metadata"]["checkov"]["skip"].as_sequence() else {
            continue;
        };
        for skip in list {
            assert!(text(&skip["id"]).starts_with("CKV_"), "{name:?}");
            assert!(
                text(&skip["comment"]).len() > 40,
                "{name:?} {:?} needs a reason",
                skip["id"]
            );
            skips += 1;
        }
    }
    assert!(skips > 0);
}

/// The parameter names in the first column of docs/deploying.md's table.
fn documented_parameters() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/deploying.md");
    let doc = std::fs::read_to_string(path).expect("read docs/deploying.md");
    let table = doc
        .split("| parameter |")
        .nth(1)
        .expect("docs/deploying.md has a parameter table");
    table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .flat_map(|line| {
            let first = line.split('|').nth(1).unwrap_or_default();
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_deploying_guide_names_every_parameter_and_no_other() {
    let template = template();
    let parameters: BTreeSet<String> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| text(k).to_owned())
        .collect();
    let documented = documented_parameters();
    let missing: Vec<_> = parameters.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&parameters).collect();
    assert!(
        missing.is_empty(),
        "not in docs/deploying.md's table: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "in docs/deploying.md's table, not in template.yaml: {unknown:?}"
    );
}
