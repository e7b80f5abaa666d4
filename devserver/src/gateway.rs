//! The gateway: what API Gateway does for one request. It matches the route,
//! authorizes it (the Lambda authorizer for public routes; on admin routes
//! SigV4 with the local key pair, as IAM, or the admin token standing in for
//! it; GitHub's route passes unauthorized, its function checks the
//! signature), builds the payload 2.0 event and runs
//! the function through `lambda_http`'s own adapter, the code path `run` uses
//! in Lambda: event JSON in, `LambdaResponse` JSON out.

use crate::event::{self, Incoming};
use crate::identity::Identity;
use crate::identity::jwt::as_context_claims;
use crate::identity::oauth::ManagedLogin;
use crate::identity::outbox::Outbox;
use crate::principal::{LOCAL_ADMIN, LOCAL_IAM_ARN};
use crate::sigv4::LocalIam;
use crate::{BODY_LIMIT, SIGNED_BODY_LIMIT};
use authorizer::Authorizer;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::http::request::Parts;
use hyper::{HeaderMap, Response, StatusCode};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service, service_fn};
use orgkeys_shared::Store;
use orgkeys_shared::routes::{self, Access, Function};
use serde_json::{Value, json};
use std::sync::Arc;

/// Everything a request needs; shared by all connections.
pub struct Gateway {
    pub store: Store,
    pub authorizer: Authorizer,
    /// The keygen function with its settings and its cache of GitHub's keys.
    keygen: keygen::Keygen,
    /// The settings the schedules and dispatch functions run with.
    schedules: schedules::Settings,
    dispatch: dispatch::Settings,
    /// Stands in for SigV4 on admin routes: `Authorization: Bearer <token>`.
    admin_token: blake3::Hash,
    /// The key pair whose SigV4 signatures admin routes also accept.
    local_iam: Option<LocalIam>,
    /// Console sign-in: whose tokens console routes accept (none: every
    /// console request is a 401) and the local managed login.
    identity: Option<Identity>,
    /// What Cognito would email, kept locally (with the local pool only).
    outbox: Option<Arc<Outbox>>,
}

/// The IAM context API Gateway attaches to an admin request of `principal`.
fn iam_context(principal: &str) -> Value {
    json!({"iam": {
        "accessKey": "LOCAL", "accountId": "000000000000", "callerId": "LOCAL",
        "principalOrgId": null, "userArn": principal, "userId": "LOCAL"
    }})
}

/// An answer in API Gateway's own words (`{"message": ...}`).
fn gateway_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            json!({ "message": message }).to_string(),
        )))
        .expect("static response parts are valid")
}

pub fn not_found() -> Response<Full<Bytes>> {
    gateway_error(StatusCode::NOT_FOUND, "Not Found")
}

pub fn forbidden() -> Response<Full<Bytes>> {
    gateway_error(StatusCode::FORBIDDEN, "Forbidden")
}

pub fn too_large() -> Response<Full<Bytes>> {
    gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

pub fn request_timeout() -> Response<Full<Bytes>> {
    gateway_error(StatusCode::REQUEST_TIMEOUT, "Request Timeout")
}

fn internal_error() -> Response<Full<Bytes>> {
    gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

impl Gateway {
    pub fn new(store: Store, authorizer: Authorizer, admin_token: &str) -> Gateway {
        Gateway {
            keygen: keygen::Keygen::new(store.clone(), keygen::Settings::default()),
            schedules: schedules::Settings::default(),
            dispatch: dispatch::Settings::default(),
            store,
            authorizer,
            admin_token: blake3::hash(admin_token.as_bytes()),
            local_iam: None,
            identity: None,
            outbox: None,
        }
    }

    /// The same gateway, its keygen function managing console users in
    /// `users`, and keeping what Cognito would email in `outbox`.
    pub fn with_users(
        mut self,
        users: Option<keygen::user_directory::UserDirectory>,
        outbox: Option<Arc<Outbox>>,
    ) -> Gateway {
        self.keygen = self.keygen.with_user_directory(users);
        self.outbox = outbox;
        self
    }

    /// The local outbox, when this gateway keeps one.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_deref()
    }

    /// The same gateway, accepting on console routes the tokens `identity` verifies.
    pub fn with_identity(mut self, identity: Option<Identity>) -> Gateway {
        self.identity = identity;
        self
    }

    /// The local managed login, when this gateway plays one.
    pub fn managed_login(&self) -> Option<&ManagedLogin> {
        self.identity
            .as_ref()
            .and_then(|identity| identity.login.as_ref())
    }

    /// The same gateway, its keygen function run with `settings`.
    pub fn with_keygen_settings(mut self, settings: keygen::Settings) -> Gateway {
        let users = self.keygen.users.take();
        let secrets = self.keygen.webhook_secrets.take();
        self.keygen = keygen::Keygen::new(self.store.clone(), settings)
            .with_user_directory(users)
            .with_webhook_secrets(secrets);
        self
    }

    /// The same gateway, its keygen function sealing webhook signing
    /// secrets with `secrets`.
    pub fn with_webhook_secrets(
        mut self,
        secrets: Option<orgkeys_shared::webhooks::secrets::SecretBox>,
    ) -> Gateway {
        let keygen = std::mem::replace(
            &mut self.keygen,
            keygen::Keygen::new(self.store.clone(), keygen::Settings::default()),
        );
        self.keygen = keygen.with_webhook_secrets(secrets);
        self
    }

    /// The same gateway, its schedules and dispatch functions run with these settings.
    pub fn with_settings(
        mut self,
        schedules: schedules::Settings,
        dispatch: dispatch::Settings,
    ) -> Gateway {
        self.schedules = schedules;
        self.dispatch = dispatch;
        self
    }

    /// The same gateway, also accepting SigV4 signatures of `local_iam` on admin routes.
    pub fn with_local_iam(mut self, local_iam: Option<LocalIam>) -> Gateway {
        self.local_iam = local_iam;
        self
    }

    /// Answers one request. The route and the caller are settled on the
    /// headers alone: `read_body(limit)` reads at most `limit` bytes, and is
    /// called only for an admitted request or, on an admin route, a SigV4
    /// request whose headers [`LocalIam::admit`] let through (to check its
    /// signature, at most [`SIGNED_BODY_LIMIT`]); so a client that cannot be
    /// admitted cannot make the gateway hold its body.
    pub async fn handle<Body>(
        &self,
        parts: &Parts,
        source_ip: String,
        read_body: impl FnOnce(usize) -> Body,
    ) -> Response<Full<Bytes>>
    where
        Body: Future<Output = Result<Bytes, Response<Full<Bytes>>>>,
    {
        let (method, path) = (parts.method.as_str(), parts.uri.path());
        let Some((route, params)) = routes::find(method, path) else {
            return not_found();
        };
        let mut incoming = Incoming {
            method,
            path,
            raw_query: parts.uri.query().unwrap_or_default(),
            headers: &parts.headers,
            body: &[],
            source_ip,
            route,
            params: &params,
            request_id: orgkeys_shared::ids::random_id("local-").unwrap_or_default(),
        };
        let mut read_body = Some(read_body);
        let decision = match route.access {
            Access::Admin => self.admit_operator(&incoming, &mut read_body).await,
            Access::Key(_) | Access::AnyKey => self.admit_key(&incoming).await,
            Access::GitHubSignature => admit_github(),
            Access::User | Access::AnyUser => self.admit_user(&incoming).await,
        };
        let (context, body) = match decision {
            Decision::Admit { context, body } => (context, body),
            Decision::Refuse(refused) => return refused,
        };
        let body = match (body, read_body.take()) {
            (Some(bytes), _) => bytes,
            (None, Some(read)) => match read(BODY_LIMIT).await {
                Ok(bytes) => bytes,
                Err(refused) => return refused,
            },
            // Read for a signature, then kept: this cannot happen.
            (None, None) => return internal_error(),
        };
        incoming.body = &body;
        self.run(route.function, &incoming, context).await
    }

    /// An admin route: IAM (a SigV4 signature of the local key pair, when
    /// one is set and the request is signed), else the admin token.
    async fn admit_operator<Body>(
        &self,
        incoming: &Incoming<'_>,
        read_body: &mut Option<impl FnOnce(usize) -> Body>,
    ) -> Decision
    where
        Body: Future<Output = Result<Bytes, Response<Full<Bytes>>>>,
    {
        let authorization = authorization(incoming.headers);
        let signed = authorization.is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"));
        match (&self.local_iam, read_body.take()) {
            (Some(iam), Some(read)) if signed => admit_signed(iam, incoming, read).await,
            (_, read) => {
                *read_body = read;
                match authorization.and_then(bearer) {
                    // Hashing both sides makes the comparison constant-time.
                    Some(token) if blake3::hash(token.as_bytes()) == self.admin_token => {
                        Decision::admit(iam_context(LOCAL_ADMIN))
                    }
                    _ => Decision::Refuse(forbidden()),
                }
            }
        }
    }

    /// A public route: the Lambda authorizer's answer for the key.
    async fn admit_key(&self, incoming: &Incoming<'_>) -> Decision {
        // HTTP APIs answer 401 themselves when the identity source is missing.
        let Some(authorization) = authorization(incoming.headers) else {
            return Decision::Refuse(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        };
        let request = event::authorizer_event(incoming, authorization);
        match self.authorizer.respond(request, chrono::Utc::now()).await {
            Err(err) => {
                tracing::error!(error = %err, "authorizer failed");
                Decision::Refuse(internal_error())
            }
            Ok(answer) if answer["isAuthorized"] == true => {
                Decision::admit(json!({"lambda": answer["context"]}))
            }
            Ok(_) => Decision::Refuse(forbidden()),
        }
    }

    /// A console route, as API Gateway's JWT authorizer: a valid token or a
    /// 401, and nothing runs.
    async fn admit_user(&self, incoming: &Incoming<'_>) -> Decision {
        let token = authorization(incoming.headers).and_then(bearer);
        let verified = match (&self.identity, token) {
            (Some(identity), Some(token)) => identity.verifier.verify(token).await,
            _ => return Decision::Refuse(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized")),
        };
        match verified {
            Ok(claims) => Decision::admit(
                json!({"jwt": {"claims": as_context_claims(&claims), "scopes": null}}),
            ),
            Err(refused) => {
                tracing::info!(?refused, "token refused");
                Decision::Refuse(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"))
            }
        }
    }

    /// Runs the route's function on the admitted request and makes its
    /// answer API Gateway's.
    async fn run(
        &self,
        function: Function,
        incoming: &Incoming<'_>,
        context: Value,
    ) -> Response<Full<Bytes>> {
        let event = event::http_event(incoming, context);
        match self.invoke(function, event).await {
            Ok(answer) => proxy_response(answer).unwrap_or_else(|| {
                tracing::error!("function returned a malformed response");
                internal_error()
            }),
            Err(err) => {
                tracing::error!(error = %err, function = function.name(), "function failed");
                internal_error()
            }
        }
    }

    /// Runs a function on an event as the Lambda runtime would: the event is
    /// deserialized into `LambdaRequest`, passed through `lambda_http`'s
    /// `Adapter` (which `lambda_http::run` uses), and the `LambdaResponse` is
    /// serialized back to JSON.
    async fn invoke(&self, function: Function, event: Value) -> Result<Value, lambda_http::Error> {
        let request: LambdaRequest = serde_json::from_value(event)?;
        let lambda_event = LambdaEvent::new(request, Context::default());
        let store = &self.store;
        let (schedules, dispatch) = (&self.schedules, self.dispatch);
        let now = chrono::Utc::now;
        let response = match function {
            Function::Keygen => {
                Adapter::from(service_fn(|r| self.keygen.handle(r)))
                    .call(lambda_event)
                    .await?
            }
            Function::Schedules => {
                Adapter::from(service_fn(|r| {
                    schedules::handle_at(store, schedules, r, now())
                }))
                .call(lambda_event)
                .await?
            }
            Function::Dispatch => {
                Adapter::from(service_fn(|r| {
                    dispatch::handle_at(store, dispatch, r, now())
                }))
                .call(lambda_event)
                .await?
            }
        };
        Ok(serde_json::to_value(response)?)
    }
}

/// What admission decided about a request's caller.
enum Decision {
    /// Let through with the authorizer context API Gateway attaches, and the
    /// body when a signature needed it read.
    Admit { context: Value, body: Option<Bytes> },
    /// Answered by the gateway itself: nothing runs.
    Refuse(Response<Full<Bytes>>),
}

impl Decision {
    fn admit(context: Value) -> Decision {
        Decision::Admit {
            context,
            body: None,
        }
    }
}

/// An admin request signed with SigV4, as IAM checks it: the headers first,
/// then the signature over the body (read first, unless it is announced
/// larger than a signed body may be).
async fn admit_signed<Body>(
    iam: &LocalIam,
    incoming: &Incoming<'_>,
    read: impl FnOnce(usize) -> Body,
) -> Decision
where
    Body: Future<Output = Result<Bytes, Response<Full<Bytes>>>>,
{
    let headers = incoming.headers;
    let plausible = match iam.admit(headers, std::time::SystemTime::now()) {
        Ok(plausible) => plausible,
        Err(refusal) => {
            return Decision::Refuse(gateway_error(StatusCode::FORBIDDEN, refusal.message()));
        }
    };
    if announced_length(headers).is_some_and(|n| n > SIGNED_BODY_LIMIT as u64) {
        return Decision::Refuse(too_large());
    }
    let bytes = match read(SIGNED_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(refused) => return Decision::Refuse(refused),
    };
    let uri = match incoming.raw_query {
        "" => incoming.path.to_owned(),
        query => format!("{}?{query}", incoming.path),
    };
    match iam.verify(incoming.method, &uri, headers, &plausible, &bytes) {
        Ok(()) => Decision::Admit {
            context: iam_context(LOCAL_IAM_ARN),
            body: Some(bytes),
        },
        Err(refusal) => Decision::Refuse(gateway_error(StatusCode::FORBIDDEN, refusal.message())),
    }
}

/// GitHub's route: no authorizer at API Gateway; the function verifies
/// GitHub's signature.
fn admit_github() -> Decision {
    Decision::admit(Value::Null)
}

/// The `Authorization` header, when it has something in it.
fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
}

/// The body's length as its `Content-Length` announces it.
fn announced_length(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(hyper::header::CONTENT_LENGTH)?;
    value.to_str().ok()?.parse().ok()
}

/// The token of `Bearer <token>` (scheme case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The HTTP response API Gateway makes of a payload 2.0 function response.
fn proxy_response(answer: Value) -> Option<Response<Full<Bytes>>> {
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())?;
    let mut response = Response::builder().status(status);
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            response = response.header(name.as_str(), value.as_str()?);
        }
    }
    if let Some(headers) = answer["multiValueHeaders"].as_object() {
        for (name, values) in headers {
            if answer["headers"].get(name).is_none() {
                for value in values.as_array()? {
                    response = response.header(name.as_str(), value.as_str()?);
                }
            }
        }
    }
    for cookie in answer["cookies"].as_array().into_iter().flatten() {
        response = response.header("set-cookie", cookie.as_str()?);
    }
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"] == true {
        Bytes::from(STANDARD.decode(body).ok()?)
    } else {
        Bytes::from(body.to_owned())
    };
    response.body(Full::new(body)).ok()
}
