//! A conversation's status as the downstream sender reports it: `queued` at
//! creation, then `sent`, `delivered` or `failed` (see [`ConversationStatus::allows`]).
//! Each change is a conditional write on the status read, in one transaction
//! with its `conversation.sent|delivered|failed` audit event: the event is the
//! outbox the webhooks read from the table's stream, so a change and its event
//! exist together or not at all. The event carries IDs, the channel and the
//! error code, never the contact nor the sender's free-text error message.
//!
//! The item keeps the changes after `queued` in `statusHistory`; the `queued`
//! entry is its `createdAt`, so a dispatch writes no history.

use super::{CONVERSATION_ID, Conversation, STATUS, address};
use crate::audit::{Action, Draft, Target, TargetType, details};
use crate::dynamo::attributes::{CorruptItem, Item, UPDATED_AT, optional_string, s, time};
use crate::dynamo::update::{Condition, Update};
use crate::dynamo::{Store, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use orgkeys_api::OrgId;
use serde::Serialize;
use serde_json::Value;

const STATUS_HISTORY: &str = "statusHistory";
const AT: &str = "at";
const PROVIDER_MESSAGE_ID: &str = "providerMessageId";
const ERROR_CODE: &str = "errorCode";
const ERROR_MESSAGE: &str = "errorMessage";

orgkeys_api::wire_enum!(
    /// Where a conversation stands with the downstream sender.
    ConversationStatus {
        Queued => "queued",
        Sent => "sent",
        Delivered => "delivered",
        Failed => "failed",
    }
);

impl ConversationStatus {
    /// Whether a conversation may move from `self` to `next`:
    /// queued→sent→delivered, and queued or sent→failed.
    pub fn allows(self, next: ConversationStatus) -> bool {
        use ConversationStatus::*;
        matches!(
            (self, next),
            (Queued, Sent) | (Sent, Delivered) | (Queued | Sent, Failed)
        )
    }

    /// The audit action of a move to `self`; `None` for `queued`, which is
    /// where a conversation starts, never where it moves.
    fn action(self) -> Option<Action> {
        match self {
            ConversationStatus::Queued => None,
            ConversationStatus::Sent => Some(Action::ConversationSent),
            ConversationStatus::Delivered => Some(Action::ConversationDelivered),
            ConversationStatus::Failed => Some(Action::ConversationFailed),
        }
    }
}

/// One entry of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: ConversationStatus,
    pub at: DateTime<Utc>,
}

/// Why a conversation failed, as the sender reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryError {
    pub code: String,
    pub message: String,
}

/// What the sender reports about one conversation, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub status: ConversationStatus,
    pub provider_message_id: Option<String>,
    /// Only with `failed`.
    pub error: Option<DeliveryError>,
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// The conversation moved; its event was written with it.
    Changed(Conversation),
    /// It already had the reported status: nothing written.
    Unchanged(Conversation),
    /// The move is not allowed from where the conversation stands.
    Refused {
        from: ConversationStatus,
        to: ConversationStatus,
    },
}

impl Store {
    /// Applies `report` to the conversation (see the module doc). A
    /// concurrent change makes the write's condition fail; it is read again
    /// and decided anew, so of two different moves at once exactly one
    /// happens. [`StoreError::NotFound`] when there is no such conversation.
    pub async fn report_conversation_status(
        &self,
        org_id: &OrgId,
        conversation_id: &str,
        report: &StatusReport,
        draft: &Draft,
    ) -> Result<Reported, StoreError> {
        for _ in 0..3 {
            let current = self
                .get_conversation(org_id, conversation_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let from = current.status;
            if from == report.status {
                return Ok(Reported::Unchanged(current));
            }
            let Some(action) = report
                .status
                .action()
                .filter(|_| from.allows(report.status))
            else {
                return Ok(Reported::Refused {
                    from,
                    to: report.status,
                });
            };
            let changed = current.after(report, draft.occurred_at);
            let event = draft.event(
                org_id,
                action,
                Target::new(TargetType::Conversation, conversation_id),
                event_details(&changed),
            );
            let writes = vec![
                status_update(&current, &changed).transaction_write(self)?,
                self.record(&event)?,
            ];
            match self.transact(writes).await? {
                None => return Ok(Reported::Changed(changed)),
                // Its status moved (or it left) since it was read.
                Some(0) => continue,
                Some(_) => return Err(StoreError::Conflict),
            }
        }
        Err(StoreError::Conflict)
    }
}

impl Conversation {
    /// The conversation once `report` is applied at `at`.
    fn after(&self, report: &StatusReport, at: DateTime<Utc>) -> Conversation {
        let mut changed = self.clone();
        changed.status = report.status;
        changed.status_history.push(StatusChange {
            status: report.status,
            at,
        });
        if report.provider_message_id.is_some() {
            changed.provider_message_id = report.provider_message_id.clone();
        }
        changed.error = report.error.clone();
        changed
    }
}

/// The write of `changed`, which holds only while the item still has the
/// status `current` was read with (the history changes only with it).
fn status_update(current: &Conversation, changed: &Conversation) -> Update {
    let unchanged = Condition::new("#status = :read")
        .name("#status", STATUS)
        .value(":read", s(current.status.as_str()));
    let later: Vec<AttributeValue> = changed.status_history[1..]
        .iter()
        .map(history_entry)
        .collect();
    let at = changed.status_history.last().map(|entry| entry.at);
    let mut update = Update::at(
        address(&current.organization_id, &current.conversation_id),
        unchanged,
    )
    .set(STATUS, s(changed.status.as_str()))
    .set(STATUS_HISTORY, AttributeValue::L(later))
    .set(UPDATED_AT, time(at.unwrap_or(changed.created_at)));
    if let Some(id) = &changed.provider_message_id {
        update = update.set(PROVIDER_MESSAGE_ID, s(id));
    }
    if let Some(error) = &changed.error {
        update = update
            .set(ERROR_CODE, s(&error.code))
            .set(ERROR_MESSAGE, s(&error.message));
    }
    update
}

fn history_entry(change: &StatusChange) -> AttributeValue {
    AttributeValue::M(
        [
            (STATUS.to_owned(), s(change.status.as_str())),
            (AT.to_owned(), time(change.at)),
        ]
        .into(),
    )
}

/// The event's details: what identifies the conversation and the move,
/// never the contact (phone, name, variables) nor the error's free text.
fn event_details(changed: &Conversation) -> serde_json::Map<String, Value> {
    let mut details = details([
        (CONVERSATION_ID, changed.conversation_id.clone().into()),
        ("dispatchId", changed.dispatch_id.clone().into()),
        ("scheduleId", changed.schedule_id.clone().into()),
        ("channel", changed.channel.as_str().into()),
        (STATUS, changed.status.as_str().into()),
    ]);
    if let Some(id) = &changed.provider_message_id {
        details.insert(PROVIDER_MESSAGE_ID.to_owned(), id.clone().into());
    }
    if let Some(error) = &changed.error {
        details.insert(ERROR_CODE.to_owned(), error.code.clone().into());
    }
    details
}

/// The status fields of a conversation's item: its history from `queued` at
/// `created_at`, the sender's message ID and the error, when reported.
pub(super) struct StatusFields {
    pub history: Vec<StatusChange>,
    pub provider_message_id: Option<String>,
    pub error: Option<DeliveryError>,
}

pub(super) fn status_fields(
    item: &Item,
    created_at: DateTime<Utc>,
) -> Result<StatusFields, CorruptItem> {
    let mut history = vec![StatusChange {
        status: ConversationStatus::Queued,
        at: created_at,
    }];
    if let Some(AttributeValue::L(entries)) = item.get(STATUS_HISTORY) {
        for entry in entries {
            let AttributeValue::M(entry) = entry else {
                return Err(CorruptItem(format!("{STATUS_HISTORY} holds a non-map")));
            };
            history.push(StatusChange {
                status: crate::dynamo::attributes::parsed(entry, STATUS)?,
                at: crate::dynamo::attributes::required_time(entry, AT)?,
            });
        }
    }
    let error = match (
        optional_string(item, ERROR_CODE)?,
        optional_string(item, ERROR_MESSAGE)?,
    ) {
        (Some(code), Some(message)) => Some(DeliveryError { code, message }),
        _ => None,
    };
    Ok(StatusFields {
        history,
        provider_message_id: optional_string(item, PROVIDER_MESSAGE_ID)?,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::ConversationStatus::{self, *};

    #[test]
    fn only_forward_moves_are_allowed() {
        let allowed = [
            (Queued, Sent),
            (Sent, Delivered),
            (Queued, Failed),
            (Sent, Failed),
        ];
        for from in ConversationStatus::ALL {
            for to in ConversationStatus::ALL {
                assert_eq!(
                    from.allows(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn only_moves_have_an_action() {
        assert!(Queued.action().is_none());
        for status in [Sent, Delivered, Failed] {
            let action = status.action().unwrap();
            assert_eq!(action.as_str(), format!("conversation.{status}"));
        }
    }
}
