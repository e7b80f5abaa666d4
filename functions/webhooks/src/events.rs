//! The two events Lambda hands this function, as JSON: a DynamoDB stream
//! batch (`eventSource` `aws:dynamodb`) and an SQS batch (`aws:sqs`); and
//! the answer both take, the records that failed (`batchItemFailures`).
//!
//! Why not `aws_lambda_events`: its `dynamodb` and `sqs` features bring
//! `serde_with`, `schemars` and `serde_dynamo`, and cargo's feature
//! unification would compile them into every function of the workspace;
//! the handful of fields read here are declared instead.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use orgkeys_shared::dynamo::attributes::Item;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which event a batch is.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    Stream(Vec<StreamEventRecord>),
    Queue(Vec<QueueRecord>),
}

/// One record of a DynamoDB stream batch (the fields read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEventRecord {
    pub event_name: String,
    pub dynamodb: StreamData,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamData {
    pub sequence_number: String,
    #[serde(default)]
    pub new_image: Option<serde_json::Map<String, Value>>,
}

/// One record of an SQS batch (the fields read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRecord {
    pub message_id: String,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    event_source: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Records {
    records: Vec<Value>,
}

impl Batch {
    /// The batch an event is; an error names what is wrong with it.
    pub fn parse(event: Value) -> Result<Batch, String> {
        let Records { records } = serde_json::from_value(event)
            .map_err(|err| format!("not a batch of records: {err}"))?;
        let source = match records.first() {
            None => return Ok(Batch::Queue(Vec::new())),
            Some(first) => {
                serde_json::from_value::<Source>(first.clone())
                    .map_err(|err| format!("a record without eventSource: {err}"))?
                    .event_source
            }
        };
        match source.as_str() {
            "aws:dynamodb" => all(records).map(Batch::Stream),
            "aws:sqs" => all(records).map(Batch::Queue),
            other => Err(format!(
                "records from {other}, expected aws:dynamodb or aws:sqs"
            )),
        }
    }
}

fn all<T: serde::de::DeserializeOwned>(records: Vec<Value>) -> Result<Vec<T>, String> {
    records
        .into_iter()
        .map(|value| serde_json::from_value(value).map_err(|err| err.to_string()))
        .collect()
}

/// The answer to a batch: the identifiers of the records that failed
/// (a stream's sequence number, a queue's message ID).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl BatchResponse {
    pub fn failing(identifiers: impl IntoIterator<Item = String>) -> BatchResponse {
        BatchResponse {
            batch_item_failures: identifiers
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }
}

/// An item in DynamoDB's JSON (`{"S": "..."}`, `{"N": "1"}`, ...), as the
/// stream event carries it.
pub fn item_of_json(image: &serde_json::Map<String, Value>) -> Result<Item, String> {
    image
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute_of_json(value)?)))
        .collect()
}

fn attribute_of_json(value: &Value) -> Result<AttributeValue, String> {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return Err(format!("not an attribute value: {value}"));
    };
    let text = || {
        inner
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{kind} is not a string"))
    };
    let list = || {
        inner
            .as_array()
            .ok_or_else(|| format!("{kind} is not a list"))
    };
    let blob = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Blob::new)
            .map_err(|_| "B is not base64".to_owned())
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "B" => AttributeValue::B(blob(&text()?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL is not a boolean")?),
        "NULL" => AttributeValue::Null(true),
        "L" => AttributeValue::L(
            list()?
                .iter()
                .map(attribute_of_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_of_json(
            inner.as_object().ok_or("M is not an object")?,
        )?),
        "SS" => AttributeValue::Ss(strings(list()?)?),
        "NS" => AttributeValue::Ns(strings(list()?)?),
        "BS" => AttributeValue::Bs(
            strings(list()?)?
                .iter()
                .map(|t| blob(t))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown attribute type {other}")),
    })
}

fn strings(values: &[Value]) -> Result<Vec<String>, String> {
    values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "a set member is not a string".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stream_batch_parses_with_its_images() {
        let event = json!({"Records": [{
            "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"SequenceNumber": "111", "NewImage": {
                "itemType": {"S": "AUDIT_EVENT"}, "ttl": {"N": "5"}, "on": {"BOOL": true},
                "list": {"L": [{"S": "a"}, {"M": {"x": {"NULL": true}}}]}, "b": {"B": "AQI="}
            }}
        }]});
        let Batch::Stream(records) = Batch::parse(event).unwrap() else {
            panic!("not a stream batch")
        };
        let item = item_of_json(records[0].dynamodb.new_image.as_ref().unwrap()).unwrap();
        assert_eq!(item["itemType"], AttributeValue::S("AUDIT_EVENT".into()));
        assert_eq!(item["ttl"], AttributeValue::N("5".into()));
        assert_eq!(item["b"], AttributeValue::B(Blob::new(vec![1, 2])));
        assert!(matches!(&item["list"], AttributeValue::L(l) if l.len() == 2));
        assert_eq!(records[0].dynamodb.sequence_number, "111");
    }

    #[test]
    fn a_queue_batch_parses_and_anything_else_is_an_error() {
        let event =
            json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs"}]});
        assert_eq!(
            Batch::parse(event).unwrap(),
            Batch::Queue(vec![QueueRecord {
                message_id: "m1".into(),
                body: "{}".into()
            }])
        );
        assert!(Batch::parse(json!({"Records": [{"eventSource": "aws:s3"}]})).is_err());
        assert!(Batch::parse(json!({"detail": {}})).is_err());
        assert!(item_of_json(json!({"x": {"Q": "1"}}).as_object().unwrap()).is_err());
    }

    #[test]
    fn failures_serialize_as_lambda_reads_them() {
        let response = BatchResponse::failing(["111".to_owned()]);
        assert_eq!(
            serde_json::to_value(response).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "111"}]})
        );
    }
}
