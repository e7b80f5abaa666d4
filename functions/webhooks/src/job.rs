//! A delivery as the queue carries it: the message for one endpoint, how
//! many attempts it has had, and when the next is due (SQS delays a message
//! at most 15 minutes; a longer wait is chained: the job comes back early,
//! and is sent on with the time left).

use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use orgkeys_shared::webhooks::DeliveryRequest;
use serde::{Deserialize, Serialize};

/// One queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Job {
    /// Parsed when the message is read: a body whose ID breaks the rule is no job.
    pub organization_id: OrgId,
    pub endpoint_id: String,
    pub message_id: String,
    pub event_type: String,
    #[serde(with = "wire")]
    pub created_at: DateTime<Utc>,
    pub payload: String,
    /// One attempt and no retries (a resend).
    #[serde(default)]
    pub once: bool,
    /// Attempts made so far.
    #[serde(default)]
    pub attempts_made: u32,
    /// Not to be attempted before this time.
    #[serde(
        default,
        with = "optional_wire",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<DateTime<Utc>>,
}

impl Job {
    /// The first attempt of `request`.
    pub fn first(request: DeliveryRequest) -> Job {
        Job {
            organization_id: request.organization_id,
            endpoint_id: request.endpoint_id,
            message_id: request.message_id,
            event_type: request.event_type,
            created_at: request.created_at,
            payload: request.payload,
            once: request.once,
            attempts_made: 0,
            not_before: None,
        }
    }

    /// The message this job delivers, as the log records it.
    pub fn request(&self) -> DeliveryRequest {
        DeliveryRequest {
            organization_id: self.organization_id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            message_id: self.message_id.clone(),
            event_type: self.event_type.clone(),
            created_at: self.created_at,
            payload: self.payload.clone(),
            once: self.once,
        }
    }

    /// The queue message body.
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

mod wire {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&orgkeys_shared::wire_time::format(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        orgkeys_shared::wire_time::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

mod optional_wire {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::wire::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                orgkeys_shared::wire_time::parse(&text)
                    .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        orgkeys_shared::wire_time::parse("2026-01-01T00:00:00Z").unwrap()
    }

    /// A retry's job: attempts made, and a time before which it waits.
    fn retry() -> Job {
        Job {
            organization_id: OrgId::parse("acme").unwrap(),
            endpoint_id: "ep_1".into(),
            message_id: "msg_1".into(),
            event_type: "api_key.created".into(),
            created_at: at(),
            payload: "{\"type\":\"api_key.created\"}".into(),
            once: false,
            attempts_made: 2,
            not_before: Some(at()),
        }
    }

    #[test]
    fn a_job_round_trips_through_its_body() {
        let job = retry();
        assert_eq!(serde_json::from_str::<Job>(&job.body()).unwrap(), job);
        let first = Job {
            not_before: None,
            attempts_made: 0,
            ..job
        };
        assert!(!first.body().contains("notBefore"));
        assert_eq!(serde_json::from_str::<Job>(&first.body()).unwrap(), first);
    }

    #[test]
    fn a_body_whose_organization_id_breaks_the_id_rule_is_no_job() {
        let body = retry().body().replace("\"acme\"", "\"acme#KEY\"");
        assert!(body.contains("acme#KEY"), "{body}");
        assert!(serde_json::from_str::<Job>(&body).is_err());
    }
}
