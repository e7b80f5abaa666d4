//! Cognito's CustomMessage trigger: for an invitation (`AdminCreateUser`)
//! the email is the product's, naming the organization keygen passed in
//! `ClientMetadata` (else the user's organization ID). Every other message
//! (a password reset, a resent code) keeps Cognito's text.

use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsCustomMessage, CognitoEventUserPoolsCustomMessageTriggerSource as Source,
};
use orgkeys_shared::invitation::{Invitation, ORGANIZATION_NAME};
use orgkeys_shared::users::ORGANIZATION_ATTRIBUTE;

/// The event with its response filled for an invitation; any other event as it came.
pub fn handle(mut event: CognitoEventUserPoolsCustomMessage) -> CognitoEventUserPoolsCustomMessage {
    let source = &event.cognito_event_user_pools_header.trigger_source;
    if *source != Some(Source::AdminCreateUser) {
        return event;
    }
    let request = &event.request;
    let organization = request
        .client_metadata
        .get(ORGANIZATION_NAME)
        .cloned()
        .or_else(|| {
            request
                .user_attributes
                .get(ORGANIZATION_ATTRIBUTE)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "your organization".to_owned());
    // Cognito refuses a message without its placeholders; it always sends them.
    let username = request
        .username_parameter
        .as_deref()
        .unwrap_or("{username}");
    let code = request.code_parameter.as_deref().unwrap_or("{####}");
    let invitation = Invitation::new(&organization, username, code, None);
    event.response.email_subject = Some(invitation.subject);
    event.response.email_message = Some(invitation.body);
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> CognitoEventUserPoolsCustomMessage {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn an_invitation_names_the_organization_keygen_passed() {
        let answered = handle(fixture("invitations-admin-create-user.json"));
        let subject = answered.response.email_subject.unwrap();
        let body = answered.response.email_message.unwrap();
        assert_eq!(subject, "You are invited to Acme Corp's API keys console");
        assert!(
            body.contains("{username}") && body.contains("{####}"),
            "{body}"
        );
    }

    #[test]
    fn without_the_name_the_invitation_names_the_organization_id() {
        let mut event = fixture("invitations-admin-create-user.json");
        event.request.client_metadata.clear();
        let subject = handle(event).response.email_subject.unwrap();
        assert_eq!(subject, "You are invited to acme's API keys console");
    }

    #[test]
    fn a_password_reset_keeps_cognitos_message() {
        let mut event = fixture("invitations-admin-create-user.json");
        event.cognito_event_user_pools_header.trigger_source = Some(Source::ForgotPassword);
        let answered = handle(event);
        assert_eq!(answered.response.email_message, None);
        assert_eq!(answered.response.email_subject, None);
    }
}
