//! RFC 9457 problem details: the one error body every orgkeys handler returns.
//!
//! `type` is a URN naming the problem class (listed in `docs/api.md`);
//! plain HTTP failures use `about:blank` as the RFC suggests. Details never echo
//! secrets: handlers pass only their own words or field names here.

use crate::dynamo::StoreError;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One bad field: a JSON pointer into the body, or the name of a path/query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn body(pointer: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            detail: detail.into(),
        }
    }

    pub fn parameter(name: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            pointer: None,
            parameter: Some(name.into()),
            detail: detail.into(),
        }
    }
}

/// A problem details object (RFC 9457 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds for the `Retry-After` header of a 429 (not part of the body).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    fn new(
        status: StatusCode,
        problem_type: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            problem_type,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// 400 with one entry per bad field.
    pub fn validation(errors: Vec<FieldError>) -> Problem {
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "urn:orgkeys:problem:validation",
            "Request failed validation",
            format!("{} field(s) are invalid; see errors", errors.len()),
        );
        problem.errors = errors;
        problem
    }

    /// 400 for a body that is not the JSON the route expects.
    pub fn malformed_body(detail: impl Into<String>, errors: Vec<FieldError>) -> Problem {
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "urn:orgkeys:problem:malformed-body",
            "Request body is not valid",
            detail,
        );
        problem.errors = errors;
        problem
    }

    pub fn payload_too_large(limit: usize) -> Problem {
        Problem::content_too_large(format!("the request body exceeds {limit} bytes"))
    }

    /// 413 for a body over one of the route's limits.
    pub fn content_too_large(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "about:blank",
            "Content Too Large",
            detail,
        )
    }

    /// 503: something the request needs from a third party could not be had.
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "about:blank",
            "Service Unavailable",
            detail,
        )
    }

    /// 501: the platform is not set up for what the route does (console
    /// users without a Cognito user pool).
    pub fn not_implemented(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "about:blank",
            "Not Implemented",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "about:blank",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "about:blank", "Forbidden", detail)
    }

    /// 403 for a console user whose role or organization does not allow
    /// the request; `pointer` names the field of the body they may not set.
    pub fn not_permitted(detail: impl Into<String>, pointer: Option<&str>) -> Problem {
        let detail = detail.into();
        let mut problem = Problem::new(
            StatusCode::FORBIDDEN,
            "urn:orgkeys:problem:forbidden",
            "Forbidden",
            detail.clone(),
        );
        if let Some(pointer) = pointer {
            problem.errors = vec![FieldError::body(pointer, detail)];
        }
        problem
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "about:blank", "Not Found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::CONFLICT,
            "urn:orgkeys:problem:conflict",
            "Conflict",
            detail,
        )
    }

    /// 409: a state change the resource cannot make from where it stands
    /// (a conversation's status reported out of order).
    pub fn invalid_transition(detail: impl Into<String>, field: FieldError) -> Problem {
        let mut problem = Problem::new(
            StatusCode::CONFLICT,
            "urn:orgkeys:problem:invalid-transition",
            "Invalid status transition",
            detail,
        );
        problem.errors = vec![field];
        problem
    }

    /// 422: a limit set above the organization's, which its own users
    /// cannot exceed.
    pub fn above_organization_limit(
        pointer: impl Into<String>,
        detail: impl Into<String>,
    ) -> Problem {
        let detail = detail.into();
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "urn:orgkeys:problem:above-organization-limit",
            "Above the organization's limit",
            detail.clone(),
        );
        problem.errors = vec![FieldError::body(pointer, detail)];
        problem
    }

    /// 409: the organization is suspended; its users may read, not add keys.
    pub fn organization_suspended() -> Problem {
        Problem::new(
            StatusCode::CONFLICT,
            "urn:orgkeys:problem:organization-suspended",
            "Organization suspended",
            "this organization is suspended: its keys can be read, not created or rolled",
        )
    }

    /// 422: the request is well-formed but contradicts an earlier one.
    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "urn:orgkeys:problem:idempotency-key-reused",
            "Idempotency-Key reused",
            detail,
        )
    }

    /// 429: the key made its requests of this minute.
    pub fn rate_limited(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:orgkeys:problem:rate-limited",
            "Too many requests",
            detail,
        );
        problem.retry_after = Some(retry_after);
        problem
    }

    /// 429: the organization's contacts of today would run out.
    pub fn quota_exceeded(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut problem = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "urn:orgkeys:problem:quota-exceeded",
            "Daily contact quota exceeded",
            detail,
        );
        problem.retry_after = Some(retry_after);
        problem
    }

    /// 500 for store failures and bugs: the detail stays generic on purpose;
    /// the cause goes to the logs with the request ID, not to the client.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "urn:orgkeys:problem:internal",
            "Internal Server Error",
            "the request could not be completed; it is safe to retry",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::to_string(&self).expect("problem serializes");
        let mut response = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, CONTENT_TYPE);
        if let Some(seconds) = self.retry_after {
            response = response.header(header::RETRY_AFTER, seconds.max(1));
        }
        response
            .body(Body::Text(body))
            .expect("static response parts are valid")
    }
}

/// The generic answer for a store failure a handler did not map itself:
/// conflicts and absences keep their meaning, the rest is logged and becomes
/// a 500 whose body says nothing about the cause.
impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Problem {
        match err {
            StoreError::NotFound => Problem::not_found("the resource does not exist"),
            StoreError::Conflict => {
                Problem::conflict("the resource was changed by another request")
            }
            StoreError::HasChildren => Problem::conflict(
                "this organization has sub-organizations: delete or move them first",
            ),
            StoreError::Invalid { pointer, detail } => {
                Problem::validation(vec![FieldError::body(pointer, detail)])
            }
            StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %err, "store call failed");
                Problem::internal()
            }
        }
    }
}

/// The OS random number generator failed: nothing to tell the client but a 500.
impl From<getrandom::Error> for Problem {
    fn from(err: getrandom::Error) -> Problem {
        tracing::error!(error = %err, "OS random number generator failed");
        Problem::internal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_serializes_per_rfc_9457() {
        let problem = Problem::validation(vec![
            FieldError::body("/name", "must not be blank"),
            FieldError::parameter("orgId", "bad id"),
        ]);
        let response = problem.into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let json: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(json["type"], "urn:orgkeys:problem:validation");
        assert_eq!(json["status"], 400);
        assert_eq!(json["errors"][0]["pointer"], "/name");
        assert_eq!(json["errors"][1]["parameter"], "orgId");
        assert!(json["errors"][1].get("pointer").is_none());
    }
}
