//! Limits at the HTTP edge: a key's request is counted before its answer is
//! sent, a key over its limit gets a 429, and every answer of a public route
//! after authorization carries the `RateLimit-Policy` and `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers-11): the `"requests"` policy always,
//! the `"contacts"` policy on dispatch answers.

use crate::Store;
use crate::edge::caller::OrganizationKey;
use crate::edge::problem::Problem;
use crate::limits::{Defaults, Standing, WINDOW_SECONDS};
use chrono::{DateTime, Utc};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Response};
use std::future::Future;

/// The contacts policy of a dispatch answer: always its limit; today's count
/// once the dispatch got as far as taking (or being refused) its contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contacts {
    Limit(u32),
    Day(Standing),
}

/// What the headers of one answer say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    pub requests: Standing,
    /// Whether this request was admitted (and counted).
    pub admitted: bool,
    pub contacts: Option<Contacts>,
    pub now: DateTime<Utc>,
}

/// Whole seconds from `now` until `at`, rounded up.
fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (at - now).num_milliseconds().max(0) as u64;
    millis.div_ceil(1000)
}

impl Meter {
    /// Counts the request of `key` at `now` against its request limit (the
    /// function's `defaults` where the key and its organization set none).
    /// A store failure is a 500: nobody is admitted unlimited.
    pub async fn count(
        store: &Store,
        key: &OrganizationKey,
        defaults: Defaults,
        now: DateTime<Utc>,
    ) -> Result<Meter, Problem> {
        let limit = key.limits.effective(defaults).requests_per_minute;
        let (requests, admitted) = store.count_request(&key.key_id, limit, now).await?;
        Ok(Meter {
            requests,
            admitted,
            contacts: None,
            now,
        })
    }

    /// The 429 for a request over the limit, if it is (counted in the
    /// `LimitRefusals` metric).
    pub fn refusal(&self) -> Option<Problem> {
        if self.admitted {
            return None;
        }
        count_refusal("requests");
        let wait = seconds_until(self.requests.resets_at, self.now).max(1);
        Some(Problem::rate_limited(
            format!(
                "this API key may make {} requests a minute; the next window opens in {wait} s",
                self.requests.limit
            ),
            wait,
        ))
    }

    /// The answer with this meter's headers.
    pub fn answer(&self, result: Result<Response<Body>, Problem>) -> Response<Body> {
        let mut response = result.unwrap_or_else(Problem::into_response);
        let requests = &self.requests;
        let mut policy = format!("\"requests\";q={};w={WINDOW_SECONDS}", requests.limit);
        let mut state = format!(
            "\"requests\";r={};t={}",
            requests.remaining(),
            seconds_until(requests.resets_at, self.now)
        );
        match self.contacts {
            None => {}
            Some(Contacts::Limit(limit)) => {
                policy.push_str(&format!(", \"contacts\";q={limit};w=86400"));
            }
            Some(Contacts::Day(day)) => {
                policy.push_str(&format!(", \"contacts\";q={};w=86400", day.limit));
                state.push_str(&format!(
                    ", \"contacts\";r={};t={}",
                    day.remaining(),
                    seconds_until(day.resets_at, self.now)
                ));
            }
        }
        let headers = response.headers_mut();
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            let value = HeaderValue::from_str(&value).expect("ASCII header value");
            headers.insert(name, value);
        }
        response
    }
}

/// The answer of a read-only public route: its count ([`Meter::count`])
/// runs concurrently with the route's own reads (nothing is written, so a
/// refused request loses nothing), with the headers, or the 429 instead of
/// the route's answer.
pub async fn metered(
    count: impl Future<Output = Result<Meter, Problem>>,
    route: impl Future<Output = Result<Response<Body>, Problem>>,
) -> Response<Body> {
    let (meter, answer) = tokio::join!(count, route);
    match meter {
        Err(problem) => problem.into_response(),
        Ok(meter) => match meter.refusal() {
            Some(refusal) => meter.answer(Err(refusal)),
            None => meter.answer(answer),
        },
    }
}

/// One refusal in the `orgkeys/LimitRefusals` metric, by `Limit`.
fn count_refusal(limit: &str) {
    crate::metrics::emit(
        "LimitRefusals",
        1.0,
        "Count",
        &[("Limit", limit)],
        &[&["Limit"]],
    );
}

/// The 429 for a dispatch of `asked` contacts that today's quota cannot take
/// (counted in the `LimitRefusals` metric).
pub fn quota_refusal(day: &Standing, asked: u32, now: DateTime<Utc>) -> Problem {
    count_refusal("contacts");
    let wait = seconds_until(day.resets_at, now).max(1);
    Problem::quota_exceeded(
        format!(
            "this dispatch has {asked} contacts but the organization has {} of its {} contacts left today (UTC); the quota resets in {wait} s",
            day.remaining(),
            day.limit
        ),
        wait,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::wire_time::parse(text).unwrap()
    }

    fn meter(admitted: bool, used: u32) -> Meter {
        Meter {
            requests: Standing {
                limit: 10,
                used,
                resets_at: at("2026-11-26T10:42:00Z"),
            },
            admitted,
            contacts: None,
            now: at("2026-11-26T10:41:17.500Z"),
        }
    }

    #[test]
    fn headers_follow_the_draft_and_round_the_wait_up() {
        let response = meter(true, 3).answer(Ok(crate::edge::request::no_content()));
        assert_eq!(
            response.headers()["ratelimit-policy"],
            "\"requests\";q=10;w=60"
        );
        assert_eq!(response.headers()["ratelimit"], "\"requests\";r=7;t=43");
        let mut with_contacts = meter(true, 3);
        with_contacts.contacts = Some(Contacts::Day(Standing {
            limit: 20,
            used: 18,
            resets_at: at("2026-11-27T00:00:00Z"),
        }));
        let response = with_contacts.answer(Ok(crate::edge::request::no_content()));
        assert_eq!(
            response.headers()["ratelimit-policy"],
            "\"requests\";q=10;w=60, \"contacts\";q=20;w=86400"
        );
        assert_eq!(
            response.headers()["ratelimit"],
            "\"requests\";r=7;t=43, \"contacts\";r=2;t=47923"
        );
    }

    #[test]
    fn a_refused_request_gets_a_429_with_retry_after_and_the_headers() {
        let refused = meter(false, 10);
        let problem = refused.refusal().expect("over the limit");
        assert_eq!(problem.problem_type, "urn:orgkeys:problem:rate-limited");
        let response = refused.answer(Err(problem));
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "43");
        assert_eq!(response.headers()["ratelimit"], "\"requests\";r=0;t=43");
        assert!(meter(true, 10).refusal().is_none());
    }
}
