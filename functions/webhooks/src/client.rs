//! (Interim stub until the delivery engine lands: the shapes delivery uses.)

use chrono::{DateTime, Utc};
use orgkeys_shared::webhooks::AttemptRecord;
use orgkeys_shared::webhooks::address_policy::{AddressPolicy, WebhookUrl};
use orgkeys_shared::webhooks::signing::SigningSecret;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Failed,
    Gone,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub response_body: Option<String>,
    pub retry_after: Option<Duration>,
    pub outcome: AttemptOutcome,
}

impl Attempt {
    pub fn refused(at: DateTime<Utc>, why: String) -> Attempt {
        Attempt {
            at,
            status_code: None,
            duration_ms: 0,
            error: Some(why),
            response_body: None,
            retry_after: None,
            outcome: AttemptOutcome::Failed,
        }
    }

    pub fn record(&self) -> AttemptRecord {
        AttemptRecord {
            at: orgkeys_shared::wire_time::format(self.at),
            status_code: self.status_code,
            duration_ms: self.duration_ms,
            error: self.error.clone(),
            response_body: self.response_body.clone(),
        }
    }
}

pub struct Sender {
    policy: AddressPolicy,
}

impl Sender {
    pub fn new(policy: AddressPolicy) -> Sender {
        Sender { policy }
    }

    pub fn url_of(&self, url: &str) -> Result<WebhookUrl, String> {
        self.policy.validate_url(url)
    }

    pub async fn attempt(
        &self,
        _url: &WebhookUrl,
        _id: &str,
        _body: &[u8],
        _secrets: &[&SigningSecret],
        now: DateTime<Utc>,
    ) -> Attempt {
        Attempt::refused(now, "stub".into())
    }
}
