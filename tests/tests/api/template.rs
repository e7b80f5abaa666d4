//! `template.yaml` and `orgkeys_shared::table` declare the same table, and the
//! table `ensure_table` creates on the DynamoDB server matches both.

use orgkeys_shared::dynamo::table::{BILLING_MODE, KEY_SCHEMA, STREAM_VIEW_TYPE, TTL_ATTRIBUTE};
use orgkeys_tests::fresh_store;
use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("read template.yaml"))
        .expect("template.yaml is YAML")
}

fn table_properties(template: &Value) -> &Value {
    let resources = template["Resources"].as_mapping().expect("Resources");
    let tables: Vec<&Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "one table in template.yaml");
    &tables[0]["Properties"]
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, found {value:?}"))
}

#[test]
fn template_declares_the_schema_the_code_creates() {
    let template = template();
    let table = table_properties(&template);
    let key_schema: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .expect("KeySchema")
        .iter()
        .map(|k| {
            (
                text(&k["AttributeName"]).to_owned(),
                text(&k["KeyType"]).to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = KEY_SCHEMA
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), kind.as_str().to_owned()))
        .collect();
    assert_eq!(key_schema, expected);

    let attributes: Vec<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            (
                text(&a["AttributeName"]).to_owned(),
                text(&a["AttributeType"]).to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = KEY_SCHEMA
        .iter()
        .map(|(name, _)| ((*name).to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(attributes, expected);

    assert_eq!(text(&table["BillingMode"]), BILLING_MODE.as_str());
    assert_eq!(
        text(&table["TimeToLiveSpecification"]["AttributeName"]),
        TTL_ATTRIBUTE
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        text(&table["StreamSpecification"]["StreamViewType"]),
        STREAM_VIEW_TYPE.as_str()
    );
}

#[tokio::test]
async fn the_created_table_has_the_declared_schema_and_ttl() {
    let store = fresh_store().await;
    // A second call finds everything in place and changes nothing.
    orgkeys_shared::dynamo::table::ensure_table(store.client(), store.table())
        .await
        .unwrap();
    let description = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let table = description.table().unwrap();
    let keys: Vec<(&str, &str)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = KEY_SCHEMA.iter().map(|(n, k)| (*n, k.as_str())).collect();
    assert_eq!(keys, expected);
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BILLING_MODE)
    );
    assert_eq!(
        table
            .stream_specification()
            .and_then(|s| s.stream_view_type()),
        Some(&STREAM_VIEW_TYPE)
    );
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some(TTL_ATTRIBUTE)
    );
}

/// The table cannot be deleted by accident, and the authorizer may update
/// only `lastUsedAt` (plus the key attributes that address it), reading nothing back.
#[test]
fn table_is_deletion_protected_and_the_authorizer_writes_only_last_used_at() {
    let template = template();
    assert_eq!(
        table_properties(&template)["DeletionProtectionEnabled"].as_bool(),
        Some(true)
    );
    let statements =
        template["Resources"]["AuthorizerFunction"]["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .expect("authorizer policy statements");
    let update: Vec<&Value> = statements
        .iter()
        .filter(|s| {
            let action = &s["Action"];
            action.as_str() == Some("dynamodb:UpdateItem")
                || action
                    .as_sequence()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("dynamodb:UpdateItem")))
        })
        .collect();
    assert_eq!(update.len(), 1, "one statement allows UpdateItem");
    let condition = &update[0]["Condition"];
    let attributes: Vec<&str> = condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_sequence()
        .expect("a dynamodb:Attributes condition")
        .iter()
        .map(text)
        .collect();
    assert_eq!(attributes, ["PK", "SK", "lastUsedAt"]);
    assert_eq!(
        condition["StringEqualsIfExists"]["dynamodb:ReturnValues"].as_str(),
        Some("NONE")
    );
}

/// The target of a `!Ref NAME` or `!GetAtt NAME.Attr` (as YAML tags).
fn reference(value: &Value) -> &str {
    match value {
        Value::Tagged(tagged)
            if ["Ref", "GetAtt"].contains(&tagged.tag.to_string().trim_start_matches('!')) =>
        {
            text(&tagged.value).split('.').next().unwrap()
        }
        other => panic!("expected !Ref or !GetAtt, found {other:?}"),
    }
}

/// Every function logs to a group of its own with the retention parameter,
/// keeps Lambda's START/REPORT lines, and the API writes JSON access logs
/// naming the organization and key; two alarms watch the authorizer.
#[test]
fn logs_are_retained_access_logged_and_alarmed() {
    let template = template();
    let resources = &template["Resources"];
    assert_eq!(
        text(&template["Globals"]["Function"]["LoggingConfig"]["SystemLogLevel"]),
        "INFO"
    );
    for (name, resource) in resources.as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let group = reference(&resource["Properties"]["LoggingConfig"]["LogGroup"]);
        let group = &resources[group];
        assert_eq!(text(&group["Type"]), "AWS::Logs::LogGroup", "{name:?}");
        assert_eq!(
            reference(&group["Properties"]["RetentionInDays"]),
            "LogRetentionDays"
        );
    }
    let access = &resources["Api"]["Properties"]["AccessLogSettings"];
    let format = text(&access["Format"]);
    let line: serde_json::Value =
        serde_json::from_str(format).expect("the access log format is JSON");
    for field in [
        "requestId",
        "routeKey",
        "status",
        "latencyMs",
        "sourceIp",
        "organizationId",
        "keyId",
    ] {
        assert!(line.get(field).is_some(), "access logs lack {field}");
    }
    assert_eq!(reference(&access["DestinationArn"]), "AccessLogGroup");
    assert_eq!(
        text(&resources["DenialSpikeAlarm"]["Properties"]["Namespace"]),
        "orgkeys"
    );
    assert_eq!(
        reference(&resources["AuthorizerErrorsAlarm"]["Properties"]["Threshold"]),
        "AuthorizerErrorAlarmThreshold"
    );
}

#[test]
fn the_webhooks_function_hears_what_the_fan_out_wants_and_nothing_is_lost() {
    let template = template();
    let function = &template["Resources"]["WebhooksFunction"]["Properties"];
    let stream = &function["Events"]["TableStream"]["Properties"];
    let pattern: serde_json::Value =
        serde_json::from_str(text(&stream["FilterCriteria"]["Filters"][0]["Pattern"])).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    let types: Vec<&str> = pattern["dynamodb"]["NewImage"]["itemType"]["S"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types, webhooks::fanout::ITEM_TYPES);
    // A failed record is retried alone and, in the end, kept; so is a job.
    assert_eq!(stream["BisectBatchOnFunctionError"].as_bool(), Some(true));
    assert_eq!(
        text(&stream["FunctionResponseTypes"][0]),
        "ReportBatchItemFailures"
    );
    assert!(!stream["DestinationConfig"]["OnFailure"]["Destination"].is_null());
    let queue = &function["Events"]["DeliveryQueue"]["Properties"];
    assert_eq!(
        text(&queue["FunctionResponseTypes"][0]),
        "ReportBatchItemFailures"
    );
    let redrive = &template["Resources"]["WebhookQueue"]["Properties"]["RedrivePolicy"];
    assert!(!redrive["deadLetterTargetArn"].is_null(), "{redrive:?}");
    // Lambda wants a queue's visibility at least six times the function's timeout.
    let visibility = template["Resources"]["WebhookQueue"]["Properties"]["VisibilityTimeout"]
        .as_i64()
        .unwrap();
    assert!(visibility >= 6 * function["Timeout"].as_i64().unwrap());
}
