//! The local stand-in for the user-pool API calls a signed-in user makes
//! with their own access token, at [`PATH`], in Cognito's JSON protocol
//! (`X-Amz-Target: AWSCognitoIdentityProviderService.<operation>`, a JSON
//! body, `{"__type", "message"}` with a 400 on refusal), so the console's
//! code is the same here as against `https://cognito-idp.<region>.amazonaws.com/`:
//!
//! - `GetUser`: moto's answer, with the software-token MFA kept here;
//! - `AssociateSoftwareToken`, `VerifySoftwareToken`, `SetUserMFAPreference`:
//!   the user's authenticator app ([`Authenticators`]).
//!
//! Whose the access token is, moto's `GetUser` says, as Cognito checks its
//! own tokens (moto's tokens carry no scopes: the
//! `aws.cognito.signin.user.admin` scope Cognito requires is the console's
//! to ask for, and template.yaml's app client's to grant). The managed login asks [`UserPool::code_required`] and
//! [`UserPool::check_code`] after a right password. The secret is in the
//! `AssociateSoftwareToken` answer to its owner only: never logged, never in
//! an error.

use super::cognito::{Cognito, PoolUser};
use super::totp::{Authenticators, Refusal, Settings};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Where the console calls the local user-pool API (config.json's `userPoolUrl`).
pub const PATH: &str = "/local/user-pool";
/// The local pool's MFA configuration: template.yaml's `ConsoleMfa` default,
/// each user may set up an authenticator app.
pub const MFA: &str = "OPTIONAL";

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

type Answer = Response<Full<Bytes>>;

/// The local pool's user-side API and the authenticators it keeps.
pub struct UserPool {
    cognito: Cognito,
    authenticators: Mutex<Authenticators>,
}

/// A refusal in Cognito's form: its `__type` and message.
struct Refused(&'static str, &'static str);

impl UserPool {
    pub fn new(cognito: Cognito) -> UserPool {
        UserPool {
            cognito,
            authenticators: Mutex::new(Authenticators::default()),
        }
    }

    /// Answers `POST` [`PATH`] with the operation `target` names.
    pub async fn answer(&self, target: &str, body: &[u8]) -> Answer {
        match self.operation(target, body).await {
            Ok(body) => reply(StatusCode::OK, body),
            Err(Refused(kind, message)) => {
                tracing::info!(error = kind, "local user-pool call refused");
                let status = match kind {
                    "InternalErrorException" => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::BAD_REQUEST,
                };
                reply(status, json!({"__type": kind, "message": message}))
            }
        }
    }

    async fn operation(&self, target: &str, body: &[u8]) -> Result<Value, Refused> {
        let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
        let call: Value = serde_json::from_slice(body)
            .map_err(|_| Refused("SerializationException", "The body is not a JSON object."))?;
        let user = self.user(&call).await?;
        let mut authenticators = self.authenticators.lock().await;
        match operation {
            "GetUser" => {
                let mut answer = user.answer;
                let settings = authenticators.settings(&user.sub);
                describe(&mut answer, settings);
                Ok(answer)
            }
            "AssociateSoftwareToken" => match authenticators.associate(&user.sub) {
                Ok(secret) => Ok(json!({ "SecretCode": secret })),
                Err(_) => Err(Refused("InternalErrorException", "No randomness.")),
            },
            "VerifySoftwareToken" => {
                let code = call["UserCode"].as_str().unwrap_or_default();
                match authenticators.verify(&user.sub, code, unix_now()) {
                    Ok(()) => Ok(json!({ "Status": "SUCCESS" })),
                    Err(refusal) => Err(refused(refusal)),
                }
            }
            "SetUserMFAPreference" => {
                for other in ["SMSMfaSettings", "EmailMfaSettings"] {
                    if call[other]["Enabled"] == true {
                        return Err(Refused(
                            "InvalidParameterException",
                            "This pool's only second factor is an authenticator app.",
                        ));
                    }
                }
                let settings = &call["SoftwareTokenMfaSettings"];
                let wanted = Settings {
                    enabled: settings["Enabled"] == true,
                    preferred: settings["PreferredMfa"] == true,
                };
                match authenticators.set_preference(&user.sub, wanted) {
                    Ok(()) => Ok(json!({})),
                    Err(refusal) => Err(refused(refusal)),
                }
            }
            _ => Err(Refused(
                "UnknownOperationException",
                "The local user-pool API answers GetUser, AssociateSoftwareToken, VerifySoftwareToken and SetUserMFAPreference.",
            )),
        }
    }

    /// The user whose access token the call carries.
    async fn user(&self, call: &Value) -> Result<PoolUser, Refused> {
        let Some(access_token) = call["AccessToken"].as_str() else {
            return Err(Refused(
                "InvalidParameterException",
                "AccessToken is required.",
            ));
        };
        match self.cognito.get_user(access_token).await {
            Ok(user) => Ok(user),
            Err(err) if err.kind == "Unreachable" => {
                tracing::error!(error = %err, "moto's Cognito API unreachable");
                Err(Refused(
                    "InternalErrorException",
                    "The local user pool is unreachable.",
                ))
            }
            Err(_) => Err(Refused("NotAuthorizedException", "Invalid Access Token")),
        }
    }

    /// Whether a sign-in of the user `sub` must give an authenticator's code.
    pub async fn code_required(&self, sub: &str) -> bool {
        self.authenticators.lock().await.required(sub)
    }

    /// Whether `code` is the user's authenticator's now (and not used before).
    pub async fn check_code(&self, sub: &str, code: &str) -> bool {
        self.authenticators
            .lock()
            .await
            .check(sub, code, unix_now())
    }

    /// Whose `access_token` is (for the managed login, after a password).
    pub async fn user_of(&self, access_token: &str) -> Option<String> {
        match self.cognito.get_user(access_token).await {
            Ok(user) => Some(user.sub),
            Err(err) => {
                tracing::error!(error = %err.kind, "no user for fresh tokens");
                None
            }
        }
    }
}

/// `GetUser`'s MFA fields, as Cognito leaves them out when there is none.
fn describe(answer: &mut Value, settings: Settings) {
    let Some(fields) = answer.as_object_mut() else {
        return;
    };
    fields.remove("MFAOptions");
    fields.remove("UserMFASettingList");
    fields.remove("PreferredMfaSetting");
    if settings.enabled {
        fields.insert("UserMFASettingList".into(), json!(["SOFTWARE_TOKEN_MFA"]));
    }
    if settings.preferred {
        fields.insert("PreferredMfaSetting".into(), json!("SOFTWARE_TOKEN_MFA"));
    }
}

/// Cognito's type and words for each refusal.
fn refused(refusal: Refusal) -> Refused {
    match refusal {
        Refusal::NotAssociated => Refused(
            "InvalidParameterException",
            "No software token to verify: call AssociateSoftwareToken first.",
        ),
        Refusal::CodeMismatch => Refused(
            "EnableSoftwareTokenMFAException",
            "Code mismatch and fail enable Software Token MFA",
        ),
        Refusal::NotVerified => Refused(
            "InvalidParameterException",
            "User has not verified software token mfa",
        ),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn reply(status: StatusCode, body: Value) -> Answer {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_user_says_the_software_token_only_when_it_is_on() {
        let mut answer =
            json!({"Username": "ann", "MFAOptions": [], "UserMFASettingList": ["SMS_MFA"]});
        describe(&mut answer, Settings::default());
        assert_eq!(answer, json!({"Username": "ann"}));
        describe(
            &mut answer,
            Settings {
                enabled: true,
                preferred: true,
            },
        );
        assert_eq!(answer["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
        assert_eq!(answer["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");
    }
}
