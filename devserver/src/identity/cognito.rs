//! The few Cognito user-pool calls the local identity provider makes, against
//! moto's `cognito-idp` (the same server as DynamoDB locally): creating the
//! local pool, its app client, groups and users, signing users in, and
//! telling whose an access token is.
//!
//! Cognito's JSON protocol (`X-Amz-Target`, `application/x-amz-json-1.1`) is
//! called directly rather than through `aws-sdk-cognitoidentityprovider`:
//! ten operations, all to a local moto that checks no signature, against a
//! crate that would add minutes to every clean build of the workspace.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::fmt;

/// moto picks the region from the credential scope; the local pool lives in this one.
pub const REGION: &str = "us-east-1";

/// A call that Cognito refused (`__type`, e.g. `NotAuthorizedException`) or
/// that did not reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoError {
    pub kind: String,
    pub message: String,
}

impl fmt::Display for CognitoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for CognitoError {}

/// Tokens of a signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    /// Absent when the tokens were refreshed.
    pub refresh_token: Option<String>,
    pub expires_in: u64,
}

/// Where a password sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Done(Tokens),
    /// A first sign-in: the user must choose a password (`session` continues it).
    NewPasswordRequired {
        session: String,
    },
}

/// A Cognito user-pool API endpoint (moto's, locally).
#[derive(Clone)]
pub struct Cognito {
    endpoint: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Cognito {
    pub fn new(endpoint: impl Into<String>) -> Cognito {
        Cognito {
            endpoint: endpoint.into(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value, CognitoError> {
        let unreachable = |err: String| CognitoError {
            kind: "Unreachable".into(),
            message: err,
        };
        let request = hyper::Request::post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{operation}"),
            )
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=local/20260101/{REGION}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0"
                ),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|err| unreachable(err.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|err| unreachable(err.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|err| unreachable(err.to_string()))?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let kind = value["__type"].as_str().unwrap_or("Error");
        Err(CognitoError {
            kind: kind.rsplit('#').next().unwrap_or(kind).to_owned(),
            message: value["message"]
                .as_str()
                .or(value["Message"].as_str())
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// A user pool with the `organizationId` custom attribute (immutable) and
    /// the two console groups; returns its ID.
    /// The pool's password policy is template.yaml's (ConsoleUserPool), as
    /// [`PASSWORD_POLICY`] states it to a user choosing a password.
    pub async fn create_pool(&self, name: &str) -> Result<String, CognitoError> {
        let pool = self
            .call(
                "CreateUserPool",
                json!({
                    "PoolName": name,
                    "Schema": [{"Name": "organizationId", "AttributeDataType": "String", "Mutable": false}],
                    "UsernameAttributes": ["email"],
                    "Policies": {"PasswordPolicy": {
                        "MinimumLength": 12,
                        "RequireLowercase": true,
                        "RequireUppercase": true,
                        "RequireNumbers": true,
                        "RequireSymbols": false,
                    }},
                }),
            )
            .await?;
        let pool_id = pool["UserPool"]["Id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for group in ["org-admin", "org-viewer"] {
            self.call(
                "CreateGroup",
                json!({"UserPoolId": pool_id, "GroupName": group}),
            )
            .await?;
        }
        Ok(pool_id)
    }

    /// A public app client (no secret) that signs users in with their password.
    pub async fn create_client(&self, pool_id: &str, name: &str) -> Result<String, CognitoError> {
        let client = self
            .call(
                "CreateUserPoolClient",
                json!({
                    "UserPoolId": pool_id,
                    "ClientName": name,
                    "GenerateSecret": false,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
            )
            .await?;
        Ok(client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// A user of `organization_id` in `group`; returns their `sub`. With
    /// `permanent` the password is theirs already; otherwise their first
    /// sign-in must change it.
    pub async fn create_user(
        &self,
        pool_id: &str,
        user: &NewUser<'_>,
        password: &str,
        permanent: bool,
    ) -> Result<String, CognitoError> {
        let created = self
            .call(
                "AdminCreateUser",
                json!({
                    "UserPoolId": pool_id,
                    "Username": user.email,
                    "TemporaryPassword": password,
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        {"Name": "email", "Value": user.email},
                        {"Name": "email_verified", "Value": "true"},
                        {"Name": "custom:organizationId", "Value": user.organization_id},
                    ],
                }),
            )
            .await?;
        let sub = sub(&created["User"]["Attributes"], &created["User"]["Username"]);
        if permanent {
            self.call(
                "AdminSetUserPassword",
                json!({"UserPoolId": pool_id, "Username": user.email, "Password": password, "Permanent": true}),
            )
            .await?;
        }
        self.call(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool_id, "Username": user.email, "GroupName": user.group}),
        )
        .await?;
        Ok(sub)
    }

    /// The `sub` of the user named `username` (their email).
    pub async fn sub_of(&self, pool_id: &str, username: &str) -> Result<String, CognitoError> {
        let user = self
            .call(
                "AdminGetUser",
                json!({"UserPoolId": pool_id, "Username": username}),
            )
            .await?;
        Ok(sub(&user["UserAttributes"], &user["Username"]))
    }

    /// `GetUser`: the user an access token was issued to, as Cognito
    /// describes them (`Username`, `UserAttributes`); `NotAuthorizedException`
    /// for a token the pool did not issue.
    pub async fn get_user(&self, access_token: &str) -> Result<PoolUser, CognitoError> {
        let answer = self
            .call("GetUser", json!({"AccessToken": access_token}))
            .await?;
        Ok(PoolUser {
            sub: sub(&answer["UserAttributes"], &answer["Username"]),
            answer,
        })
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH`.
    pub async fn sign_in(
        &self,
        client_id: &str,
        email: &str,
        password: &str,
    ) -> Result<SignIn, CognitoError> {
        let answer = self
            .call(
                "InitiateAuth",
                json!({
                    "ClientId": client_id,
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": email, "PASSWORD": password},
                }),
            )
            .await?;
        match answer["ChallengeName"].as_str() {
            Some("NEW_PASSWORD_REQUIRED") => Ok(SignIn::NewPasswordRequired {
                session: answer["Session"].as_str().unwrap_or_default().to_owned(),
            }),
            Some(other) => Err(CognitoError {
                kind: "UnsupportedChallenge".into(),
                message: other.to_owned(),
            }),
            None => Ok(SignIn::Done(tokens(&answer)?)),
        }
    }

    /// Answers `NEW_PASSWORD_REQUIRED` with the password the user chose.
    pub async fn set_new_password(
        &self,
        client_id: &str,
        session: &str,
        email: &str,
        new_password: &str,
    ) -> Result<Tokens, CognitoError> {
        let answer = self
            .call(
                "RespondToAuthChallenge",
                json!({
                    "ClientId": client_id,
                    "ChallengeName": "NEW_PASSWORD_REQUIRED",
                    "Session": session,
                    "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": new_password},
                }),
            )
            .await?;
        tokens(&answer)
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`.
    pub async fn refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<Tokens, CognitoError> {
        let answer = self
            .call(
                "InitiateAuth",
                json!({
                    "ClientId": client_id,
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "AuthParameters": {"REFRESH_TOKEN": refresh_token},
                }),
            )
            .await?;
        tokens(&answer)
    }
}

/// The password policy of the console's pools (template.yaml's and the
/// local one), as the new-password page states it.
pub const PASSWORD_POLICY: &str =
    "At least 12 characters, with an uppercase letter, a lowercase letter and a digit.";

/// A signed-in user, as `GetUser` answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolUser {
    pub sub: String,
    pub answer: Value,
}

/// A user to create.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub organization_id: &'a str,
    /// `org-admin` or `org-viewer`.
    pub group: &'a str,
}

/// The `sub` attribute among `attributes`, else the username.
fn sub(attributes: &Value, username: &Value) -> String {
    let attributes = attributes.as_array().into_iter().flatten();
    attributes
        .filter(|attribute| attribute["Name"] == "sub")
        .find_map(|attribute| attribute["Value"].as_str())
        .or(username.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn tokens(answer: &Value) -> Result<Tokens, CognitoError> {
    let result = &answer["AuthenticationResult"];
    let text = |name: &str| result[name].as_str().map(str::to_owned);
    match (text("IdToken"), text("AccessToken")) {
        (Some(id_token), Some(access_token)) => Ok(Tokens {
            id_token,
            access_token,
            refresh_token: text("RefreshToken"),
            expires_in: result["ExpiresIn"].as_u64().unwrap_or(3600),
        }),
        _ => Err(CognitoError {
            kind: "NoTokens".into(),
            message: "the sign-in answered no tokens".into(),
        }),
    }
}
