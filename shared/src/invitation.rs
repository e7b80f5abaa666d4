//! The email that invites someone to an organization's console: the
//! product's words, naming the organization. Cognito sends it (through SES
//! with `SesIdentityArn`); the invitations function writes it for Cognito's
//! `CustomMessage_AdminCreateUser`, and the local gateway's outbox keeps the
//! same text.

/// The `ClientMetadata` key under which keygen's `AdminCreateUser` passes
/// the organization's name to the invitations function.
pub const ORGANIZATION_NAME: &str = "organizationName";

/// An invitation's subject and HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub subject: String,
    pub body: String,
}

impl Invitation {
    /// The invitation to `organization`, with `username` and `temporary_password`
    /// as Cognito fills them in (its `{username}` and `{####}` placeholders,
    /// which the body must carry) and `sign_in_url` when the sender knows it.
    pub fn new(
        organization: &str,
        username: &str,
        temporary_password: &str,
        sign_in_url: Option<&str>,
    ) -> Invitation {
        let organization = escape(organization);
        let sign_in = sign_in_url.map_or_else(
            || "Open your organization's console".to_owned(),
            |url| format!("Open <a href=\"{0}\">{0}</a>", escape(url)),
        );
        Invitation {
            subject: format!("You are invited to {organization}'s API keys console"),
            body: format!(
                "<p>You have been invited to manage {organization}'s API keys.</p>\
                 <p>Your username is <b>{username}</b> and your temporary password is \
                 <b>{temporary_password}</b>.</p>\
                 <p>{sign_in}, sign in, and choose your own password. The temporary \
                 password expires in 7 days.</p>\
                 <p>If you did not expect this invitation, ignore this email.</p>"
            ),
        }
    }
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_names_the_organization_and_carries_cognitos_placeholders() {
        let invitation = Invitation::new("Acme Corp", "{username}", "{####}", None);
        assert_eq!(
            invitation.subject,
            "You are invited to Acme Corp's API keys console"
        );
        assert!(invitation.body.contains("manage Acme Corp's API keys"));
        assert!(invitation.body.contains("<b>{username}</b>"));
        assert!(invitation.body.contains("<b>{####}</b>"));
    }

    #[test]
    fn an_organization_name_cannot_write_html_into_the_email() {
        let invitation = Invitation::new(
            "<a href=x>Evil</a> & co",
            "u",
            "p",
            Some("https://c.example/?a=\"b\""),
        );
        assert!(!invitation.body.contains("<a href=x>"));
        assert!(
            invitation
                .body
                .contains("&lt;a href=x&gt;Evil&lt;/a&gt; &amp; co")
        );
        assert!(
            invitation
                .body
                .contains("href=\"https://c.example/?a=&quot;b&quot;\"")
        );
    }
}
