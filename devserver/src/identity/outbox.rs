//! The local outbox: what Cognito would email, kept on the machine.
//!
//! In AWS, Cognito emails an invited user their temporary password. Locally,
//! keygen's Cognito client is pointed at the gateway's own
//! [`PROXY_PATH`], which forwards every call to moto's Cognito API and,
//! for an `AdminCreateUser` that asks for the email, picks the temporary
//! password (keygen never handles one, as in AWS) and keeps the invitation
//! it would send: served as JSON at `GET /local/outbox`, local only like
//! `/docs`, so a developer can finish the invited user's first sign-in. The
//! invitation's text is the invitations function's, asked as Cognito asks it
//! (a `CustomMessage_AdminCreateUser` event with keygen's `ClientMetadata`),
//! with Cognito's placeholders filled in.
//!
//! The proxy serves keygen alone: a call must be SigV4-signed with the key
//! pair made for this process ([`Outbox::credentials`], which the gateway's
//! keygen client signs with), and only the operations keygen makes go on to
//! moto; anything else is a 403 before moto sees it.

use crate::sigv4::LocalIam;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::sync::Mutex;

/// Where keygen's Cognito client calls locally (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`).
pub const PROXY_PATH: &str = "/local/cognito-idp";
/// The outbox, as JSON.
pub const OUTBOX_PATH: &str = "/local/outbox";
/// Messages kept; the oldest go first.
const KEPT: usize = 200;
/// The Cognito operations keygen's user directory makes: all the proxy forwards.
const FORWARDED: [&str; 5] = [
    "AdminCreateUser",
    "AdminGetUser",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminDeleteUser",
];
/// The access key ID of the proxy's key pair (its secret is random per process).
const PROXY_ACCESS_KEY_ID: &str = "LOCALCOGNITOPROXY";

/// One email Cognito would have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub temporary_password: String,
    pub sign_in_url: String,
    pub sent_at: String,
}

impl Message {
    fn to_json(&self) -> Value {
        json!({
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
            "temporaryPassword": self.temporary_password,
            "signInUrl": self.sign_in_url,
            "sentAt": self.sent_at,
        })
    }
}

/// The Cognito proxy and the messages it kept.
pub struct Outbox {
    /// moto's Cognito API.
    cognito_endpoint: String,
    /// The console's sign-in page on this gateway.
    sign_in_url: String,
    client: Client<HttpConnector, Full<Bytes>>,
    messages: Mutex<Vec<Message>>,
    /// The key pair a call must be signed with: the gateway's own keygen client's.
    signer: LocalIam,
    secret: String,
}

impl Outbox {
    pub fn new(
        cognito_endpoint: impl Into<String>,
        gateway_url: &str,
    ) -> Result<Outbox, getrandom::Error> {
        let secret = crate::random_token()?;
        let signer = LocalIam::new(PROXY_ACCESS_KEY_ID, &secret, super::cognito::REGION)
            .for_service("cognito-idp");
        Ok(Outbox {
            cognito_endpoint: cognito_endpoint.into(),
            sign_in_url: format!("{}/console/", gateway_url.trim_end_matches('/')),
            client: Client::builder(TokioExecutor::new()).build_http(),
            messages: Mutex::new(Vec::new()),
            signer,
            secret,
        })
    }

    /// The access key ID and secret the proxy accepts signatures of: for
    /// this process's keygen client only.
    pub fn credentials(&self) -> (&str, &str) {
        (PROXY_ACCESS_KEY_ID, &self.secret)
    }

    /// Whether this outbox answers `path`.
    pub fn serves(path: &str) -> bool {
        path == OUTBOX_PATH || path.trim_end_matches('/') == PROXY_PATH
    }

    pub async fn answer(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response<Full<Bytes>> {
        match (method, path == OUTBOX_PATH) {
            ("GET", true) => self.list(),
            ("POST", false) => match self.admit(path, headers, body) {
                Ok(()) => self.forward(headers, body).await,
                Err(why) => reply(StatusCode::FORBIDDEN, json!({ "message": why })),
            },
            _ => reply(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"message": "Method Not Allowed"}),
            ),
        }
    }

    /// Whether a proxy call is keygen's: signed with this process's key
    /// pair, for an operation keygen makes.
    fn admit(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
        let plausible = self
            .signer
            .admit(headers, std::time::SystemTime::now())
            .map_err(|refusal| refusal.message())?;
        self.signer
            .verify("POST", path, headers, &plausible, body)
            .map_err(|refusal| refusal.message())?;
        let operation = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|target| target.strip_prefix("AWSCognitoIdentityProviderService."));
        match operation {
            Some(operation) if FORWARDED.contains(&operation) => Ok(()),
            _ => Err("the local Cognito proxy forwards only keygen's operations"),
        }
    }

    /// The messages kept, newest last.
    pub fn messages(&self) -> Vec<Message> {
        // A panic while holding the lock left the list whole: keep using it.
        let messages = self
            .messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        messages.clone()
    }

    fn list(&self) -> Response<Full<Bytes>> {
        let items: Vec<Value> = self.messages().iter().map(Message::to_json).collect();
        reply(StatusCode::OK, json!({ "items": items }))
    }

    /// Forwards one Cognito call to moto; keeps the invitation an
    /// `AdminCreateUser` makes.
    async fn forward(&self, headers: &HeaderMap, body: &[u8]) -> Response<Full<Bytes>> {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut invitation = None;
        let mut body = Bytes::copy_from_slice(body);
        if target.ends_with(".AdminCreateUser")
            && let Ok(mut call) = serde_json::from_slice::<Value>(&body)
            && call["MessageAction"] != "SUPPRESS"
        {
            let password = match call["TemporaryPassword"].as_str() {
                Some(password) => password.to_owned(),
                None => match super::demo::random_password() {
                    Ok(password) => password,
                    Err(_) => {
                        return reply(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            json!({"message": "no randomness"}),
                        );
                    }
                },
            };
            call["TemporaryPassword"] = json!(password);
            invitation = Some((recipient(&call), password, call["ClientMetadata"].clone()));
            body = Bytes::from(call.to_string());
        }
        let (status, answer) = match self.call_moto(headers, body).await {
            Ok(answered) => answered,
            Err(err) => {
                tracing::error!(error = %err, "moto's Cognito API unreachable");
                return reply(StatusCode::BAD_GATEWAY, json!({"message": "Bad Gateway"}));
            }
        };
        if let Some((to, temporary_password, metadata)) = invitation
            && status.is_success()
        {
            let (subject, body) = custom_message(&to, &temporary_password, &answer, metadata);
            self.keep(Message {
                to,
                subject,
                body,
                temporary_password,
                sign_in_url: self.sign_in_url.clone(),
                sent_at: orgkeys_shared::wire_time::format(chrono::Utc::now()),
            });
        }
        Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(answer))
            .expect("static response parts are valid")
    }

    async fn call_moto(
        &self,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut request = hyper::Request::post(&self.cognito_endpoint);
        for name in [
            "content-type",
            "x-amz-target",
            "authorization",
            "x-amz-date",
        ] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value);
            }
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, bytes.to_bytes()))
    }

    fn keep(&self, message: Message) {
        let mut messages = self
            .messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if messages.len() == KEPT {
            messages.remove(0);
        }
        messages.push(message);
    }
}

/// The invitation's subject and body as Cognito would send them: the
/// invitations function's answer to the trigger event for this user (from
/// moto's `AdminCreateUser` answer), placeholders filled in.
fn custom_message(to: &str, password: &str, answer: &[u8], metadata: Value) -> (String, String) {
    let created: Value = serde_json::from_slice(answer).unwrap_or_default();
    let user_attributes: serde_json::Map<String, Value> = created["User"]["Attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a["Name"].as_str()?.to_owned(), a["Value"].clone())))
        .collect();
    let event = json!({
        "version": "1",
        "triggerSource": "CustomMessage_AdminCreateUser",
        "userName": to,
        "callerContext": {},
        "request": {
            "userAttributes": user_attributes,
            "codeParameter": "{####}",
            "usernameParameter": "{username}",
            "clientMetadata": if metadata.is_object() { metadata } else { json!({}) },
        },
        "response": {},
    });
    let answered = serde_json::from_value(event).map(invitations::handle);
    let fill = |text: Option<String>| {
        text.unwrap_or_default()
            .replace("{username}", to)
            .replace("{####}", password)
    };
    match answered {
        Ok(answered) => (
            fill(answered.response.email_subject),
            fill(answered.response.email_message),
        ),
        Err(err) => (format!("no invitation: {err}"), String::new()),
    }
}

/// The invited user's email: the `email` attribute, else the username.
fn recipient(call: &Value) -> String {
    let attributes = call["UserAttributes"].as_array().into_iter().flatten();
    attributes
        .filter(|attribute| attribute["Name"] == "email")
        .find_map(|attribute| attribute["Value"].as_str())
        .or(call["Username"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipient_is_the_email_attribute_or_the_username() {
        let call = json!({"Username": "u", "UserAttributes": [
            {"Name": "custom:organizationId", "Value": "acme"},
            {"Name": "email", "Value": "ann@acme.example"}]});
        assert_eq!(recipient(&call), "ann@acme.example");
        assert_eq!(
            recipient(&json!({"Username": "bob@acme.example"})),
            "bob@acme.example"
        );
    }

    /// The headers of a proxy call of `operation` signed with `(key_id, secret)`.
    fn signed(operation: &str, (key_id, secret): (&str, &str), body: &[u8]) -> HeaderMap {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity =
            aws_credential_types::Credentials::new(key_id, secret, None, None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(super::super::cognito::REGION)
            .name("cognito-idp")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let target = format!("AWSCognitoIdentityProviderService.{operation}");
        let headers = [
            ("host", "127.0.0.1:3000"),
            ("x-amz-target", target.as_str()),
        ];
        let url = "http://127.0.0.1:3000/local/cognito-idp";
        let request =
            SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
                .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut map = HeaderMap::new();
        for (name, value) in headers.into_iter().chain(instructions.headers()) {
            map.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_proxy_admits_keygens_operations_signed_with_its_own_key_pair_only() {
        let outbox = Outbox::new("http://127.0.0.1:1", "http://127.0.0.1:3000").unwrap();
        let body = br#"{"UserPoolId":"p"}"#;
        for operation in FORWARDED {
            let headers = signed(operation, outbox.credentials(), body);
            assert_eq!(
                outbox.admit(PROXY_PATH, &headers, body),
                Ok(()),
                "{operation}"
            );
        }
        for operation in [
            "CreateGroup",
            "UpdateUserAttributes",
            "AdminUpdateUserAttributes",
        ] {
            let headers = signed(operation, outbox.credentials(), body);
            assert!(
                outbox.admit(PROXY_PATH, &headers, body).is_err(),
                "{operation}"
            );
        }
        let (key_id, _) = outbox.credentials();
        let forged = signed("AdminCreateUser", (key_id, "guessed"), body);
        assert!(outbox.admit(PROXY_PATH, &forged, body).is_err());
        let other = Outbox::new("http://127.0.0.1:1", "http://127.0.0.1:3000").unwrap();
        let elsewhere = signed("AdminCreateUser", other.credentials(), body);
        assert!(outbox.admit(PROXY_PATH, &elsewhere, body).is_err());
        let altered = signed("AdminCreateUser", outbox.credentials(), body);
        assert!(outbox.admit(PROXY_PATH, &altered, b"{}").is_err());
    }

    #[test]
    fn the_outbox_answers_its_two_paths_only() {
        assert!(Outbox::serves("/local/outbox"));
        assert!(Outbox::serves("/local/cognito-idp/"));
        assert!(!Outbox::serves("/local/other"));
        assert!(!Outbox::serves("/v1/console/me"));
    }
}
