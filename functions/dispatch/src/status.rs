//! `POST /v1/admin/organizations/{orgId}/conversations/{conversationId}/status`:
//! the downstream sender (an IAM principal) reports what became of a
//! conversation. A move is written with its audit event (the webhooks'
//! outbox); the same status again answers 200 and writes nothing; a move the
//! conversation cannot make is a 409 `invalid-transition`.

use crate::lookup::ConversationView;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use orgkeys_api::body::{ConversationStatusInput, DeliveryErrorInput, Object};
use orgkeys_api::{ConversationId, OrgId};
use orgkeys_shared::audit::Draft;
use orgkeys_shared::conversations::{ConversationStatus, DeliveryError, Reported, StatusReport};
use orgkeys_shared::edge::problem::{FieldError, Problem};
use orgkeys_shared::edge::request::{json_body, json_response, path_id};
use orgkeys_shared::validation::Violations;
use orgkeys_shared::{Store, StoreError};

const BODY_LIMIT: usize = 16 * 1024;
const MAX_PROVIDER_ID_CHARS: usize = 200;
const MAX_ERROR_CODE_CHARS: usize = 100;
const MAX_ERROR_MESSAGE_CHARS: usize = 1000;

/// Serves a report; `draft` names the sender as the event's actor.
pub async fn report(
    store: &Store,
    request: &Request,
    draft: &Draft,
) -> Result<Response<Body>, Problem> {
    let (org_id, conversation_id) = ids(request)?;
    let input: ConversationStatusInput = json_body(request, BODY_LIMIT)?;
    let report = validate(input).map_err(Problem::validation)?;
    let reported = store
        .report_conversation_status(&org_id, conversation_id.as_str(), &report, draft)
        .await;
    let (conversation, changed) = match reported {
        Ok(Reported::Changed(conversation)) => (conversation, true),
        Ok(Reported::Unchanged(conversation)) => (conversation, false),
        Ok(Reported::Refused { from, to }) => return Err(invalid_transition(from, to)),
        Err(StoreError::NotFound) => return Err(missing(store, &org_id).await),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(
        org_id = org_id.as_str(),
        conversation_id = conversation_id.as_str(),
        status = %conversation.status,
        changed,
        "conversation status reported"
    );
    Ok(json_response(
        StatusCode::OK,
        &ConversationView::from(conversation),
    ))
}

/// The path's two IDs, parsed once; both named when both are malformed.
fn ids(request: &Request) -> Result<(OrgId, ConversationId), Problem> {
    match (
        path_id(request, "orgId"),
        path_id(request, "conversationId"),
    ) {
        (Ok(org_id), Ok(conversation_id)) => Ok((org_id, conversation_id)),
        (org_id, conversation_id) => Err(Problem::validation(
            org_id
                .err()
                .into_iter()
                .chain(conversation_id.err())
                .collect(),
        )),
    }
}

/// Which of the two is missing: the organization, or its conversation.
async fn missing(store: &Store, org_id: &OrgId) -> Problem {
    match store.get_organization(org_id).await {
        Ok(Some(_)) => Problem::not_found("no conversation with this ID in this organization"),
        Ok(None) => Problem::not_found("no organization with this ID"),
        Err(err) => err.into(),
    }
}

fn invalid_transition(from: ConversationStatus, to: ConversationStatus) -> Problem {
    Problem::invalid_transition(
        format!(
            "a {from} conversation cannot become {to}: \
             the moves are queued → sent → delivered, and queued or sent → failed"
        ),
        FieldError::body("/status", format!("cannot follow {from}")),
    )
}

fn validate(input: ConversationStatusInput) -> Result<StatusReport, Vec<FieldError>> {
    let mut v = Violations::new();
    let status = match input
        .status
        .as_deref()
        .map(str::parse::<ConversationStatus>)
    {
        None => {
            v.body("/status", "is required");
            None
        }
        Some(Ok(status)) if status != ConversationStatus::Queued => Some(status),
        Some(_) => {
            v.body("/status", "must be one of sent, delivered or failed");
            None
        }
    };
    let id = input.provider_message_id.as_deref();
    v.text("/providerMessageId", id, MAX_PROVIDER_ID_CHARS);
    let error = input
        .error
        .map(|Object(error)| delivery_error(&mut v, error));
    if error.is_some() && status.is_some_and(|s| s != ConversationStatus::Failed) {
        v.body("/error", "is only reported with status failed");
    }
    v.finish()?;
    Ok(StatusReport {
        status: status.expect("validated"),
        provider_message_id: input.provider_message_id.map(|id| id.trim().to_owned()),
        error: error.flatten(),
    })
}

/// The error's two fields, both required (`None` when either is missing).
fn delivery_error(v: &mut Violations, input: DeliveryErrorInput) -> Option<DeliveryError> {
    let fields = [
        ("/error/code", &input.code, MAX_ERROR_CODE_CHARS),
        ("/error/message", &input.message, MAX_ERROR_MESSAGE_CHARS),
    ];
    for (pointer, value, max) in fields {
        match value {
            None => v.body(pointer, "is required"),
            Some(text) => v.text(pointer, Some(text), max),
        }
    }
    Some(DeliveryError {
        code: input.code?.trim().to_owned(),
        message: input.message?.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(status: &str) -> ConversationStatusInput {
        ConversationStatusInput {
            status: Some(status.to_owned()),
            ..ConversationStatusInput::default()
        }
    }

    fn pointers(errors: Vec<FieldError>) -> Vec<String> {
        errors
            .iter()
            .map(|e| e.pointer.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn queued_and_unknown_statuses_cannot_be_reported() {
        for status in ["queued", "read", ""] {
            assert_eq!(pointers(validate(input(status)).unwrap_err()), ["/status"]);
        }
        let missing = ConversationStatusInput::default();
        assert_eq!(pointers(validate(missing).unwrap_err()), ["/status"]);
    }

    #[test]
    fn an_error_goes_with_failed_only_and_needs_both_fields() {
        let error = |code: Option<&str>, message: Option<&str>| {
            Some(Object(DeliveryErrorInput {
                code: code.map(str::to_owned),
                message: message.map(str::to_owned),
            }))
        };
        let failed = ConversationStatusInput {
            error: error(Some("30007"), Some("carrier filtered")),
            ..input("failed")
        };
        let report = validate(failed.clone()).unwrap();
        assert_eq!(report.error.unwrap().code, "30007");
        let sent = ConversationStatusInput {
            status: Some("sent".into()),
            ..failed
        };
        assert_eq!(pointers(validate(sent).unwrap_err()), ["/error"]);
        let half = ConversationStatusInput {
            error: error(None, Some(" ")),
            ..input("failed")
        };
        assert_eq!(
            pointers(validate(half).unwrap_err()),
            ["/error/code", "/error/message"]
        );
    }
}
