//! The one way integration tests call the API (zero2prod's `TestApp`): a
//! typed method per route of the route table, over the handlers (a fresh
//! store; keygen, schedules and dispatch called in-process with API Gateway
//! events, a key resolved by the real authorizer) or over HTTP against the
//! local gateway, with the same methods and the same [`Reply`].
//!
//! A method returns a [`Call`]: `.await` it as it is, or first say who calls
//! ([`Call::by`]), add a query, a header, a raw body or a clock
//! ([`Call::at`], handlers only). Without `.by`, an admin route is called by
//! the platform operator, every other route with no credentials at all.

use crate::{Reply, fresh_store, http_event_json};
use chrono::{DateTime, Utc};
use orgkeys_shared::Store;
use orgkeys_shared::routes::{Access, Function, Operation, route};
use serde_json::Value;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

mod caller;
mod methods;

use caller::authorizer_context;
pub use caller::{Caller, KeyCaller, UserCaller, authorize};

/// The settings each function is built with over the handlers.
#[derive(Debug, Clone, Default)]
pub struct HandlerSettings {
    pub keygen: keygen::Settings,
    /// The user pool keygen's users routes call; none: they answer 501.
    pub users: Option<keygen::user_directory::UserDirectory>,
    pub schedules: schedules::Settings,
    pub dispatch: dispatch::Settings,
}

#[derive(Clone)]
enum Backend {
    Handlers {
        store: Store,
        settings: Box<HandlerSettings>,
    },
    Http {
        url: String,
        admin_token: String,
    },
}

/// The API under test, and who calls it unless a call says otherwise.
#[derive(Clone)]
pub struct TestApp {
    backend: Backend,
    caller: Option<Caller>,
}

/// A request body: none, JSON, or text sent as it is (malformed JSON).
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    Raw(String),
}

impl From<()> for Body {
    fn from((): ()) -> Body {
        Body::Empty
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        Body::Json(value)
    }
}

impl From<Option<Value>> for Body {
    fn from(value: Option<Value>) -> Body {
        value.map_or(Body::Empty, Body::Json)
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Body {
        Body::Raw(text.to_owned())
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body::Raw(text)
    }
}

/// The API's own request bodies (`orgkeys_api::body`), sent as their JSON.
macro_rules! api_bodies {
    ($($body:ident),+) => {
        $(impl From<orgkeys_api::body::$body> for Body {
            fn from(body: orgkeys_api::body::$body) -> Body {
                Body::Json(serde_json::to_value(body).expect("API bodies serialize"))
            }
        })+
    };
}

api_bodies!(
    OrganizationInput,
    SubOrganizationInput,
    OrganizationPatch,
    CreateKeyInput,
    KeyPatchInput,
    RollInput,
    ScheduleInput,
    RevokeInput
);

impl Body {
    fn text(&self) -> Option<String> {
        match self {
            Body::Empty => None,
            Body::Json(value) => Some(value.to_string()),
            Body::Raw(text) => Some(text.clone()),
        }
    }
}

impl TestApp {
    /// The handlers over a store of their own on a new, empty table.
    pub async fn spawn() -> TestApp {
        TestApp::over_store(fresh_store().await)
    }

    /// The handlers over `store`, with every function's default settings.
    pub fn over_store(store: Store) -> TestApp {
        TestApp::with_settings(store, HandlerSettings::default())
    }

    /// The handlers over `store` with these settings.
    pub fn with_settings(store: Store, settings: HandlerSettings) -> TestApp {
        TestApp {
            backend: Backend::Handlers {
                store,
                settings: Box::new(settings),
            },
            caller: None,
        }
    }

    /// The local gateway at `url` (`Devserver::url`), the operator calling
    /// with `Bearer admin_token`.
    pub fn over_http(url: &str, admin_token: &str) -> TestApp {
        TestApp {
            backend: Backend::Http {
                url: url.to_owned(),
                admin_token: admin_token.to_owned(),
            },
            caller: None,
        }
    }

    /// The running devserver binary, with its admin token.
    pub fn over_devserver(server: &crate::local_gateway::Devserver) -> TestApp {
        let token = crate::local_gateway::ADMIN.trim_start_matches("Bearer ");
        TestApp::over_http(&server.url, token)
    }

    /// The same API, called by `caller` unless a call says otherwise.
    pub fn as_caller(&self, caller: Caller) -> TestApp {
        TestApp {
            caller: Some(caller),
            ..self.clone()
        }
    }

    /// The same handlers and settings over another store (a fault proxy's).
    pub fn with_store(&self, store: Store) -> TestApp {
        let Backend::Handlers { settings, .. } = &self.backend else {
            panic!("with_store: this app runs over HTTP");
        };
        TestApp {
            backend: Backend::Handlers {
                store,
                settings: settings.clone(),
            },
            caller: self.caller.clone(),
        }
    }

    /// The store behind the handlers.
    pub fn store(&self) -> &Store {
        match &self.backend {
            Backend::Handlers { store, .. } => store,
            Backend::Http { .. } => panic!("store: this app runs over HTTP"),
        }
    }

    /// A request of `operation` with these path parameters and body: what
    /// every typed method below builds.
    pub fn request(
        &self,
        operation: Operation,
        params: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Call<'_> {
        Call {
            app: self,
            operation,
            params: params
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
            query: Vec::new(),
            headers: Vec::new(),
            caller: self.caller.clone(),
            now: None,
        }
    }
}

/// One request, sent when awaited.
pub struct Call<'a> {
    app: &'a TestApp,
    operation: Operation,
    params: Vec<(String, String)>,
    body: Body,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    caller: Option<Caller>,
    now: Option<DateTime<Utc>>,
}

impl<'a> Call<'a> {
    /// The route this call is of.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// Its path parameters, by name.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// Made by `caller`.
    pub fn by(mut self, caller: &Caller) -> Call<'a> {
        self.caller = Some(caller.clone());
        self
    }

    /// With these query parameters (added to any before).
    pub fn query(mut self, query: &[(&str, &str)]) -> Call<'a> {
        let pairs = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        self.query.extend(pairs);
        self
    }

    /// With this header.
    pub fn header(mut self, name: &str, value: &str) -> Call<'a> {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Served at `now` rather than the real time (over the handlers, by the
    /// functions that take a clock: schedules and dispatch).
    pub fn at(mut self, now: DateTime<Utc>) -> Call<'a> {
        self.now = Some(now);
        self
    }

    /// Sends the request and reads the reply.
    pub async fn send(self) -> Reply {
        match &self.app.backend {
            Backend::Handlers { store, settings } => self.through_handlers(store, settings).await,
            Backend::Http { url, admin_token } => self.over_http(url, admin_token).await,
        }
    }

    /// Sends the request; asserts the reply has `status`, and returns it.
    pub async fn expect(self, status: u16) -> Reply {
        let reply = self.send().await;
        assert_eq!(reply.status, status, "{}", reply.body);
        reply
    }

    fn caller(&self) -> Caller {
        self.caller
            .clone()
            .unwrap_or(match route(self.operation).access {
                Access::Admin => Caller::Operator,
                _ => Caller::Anonymous,
            })
    }

    async fn through_handlers(self, store: &Store, settings: &HandlerSettings) -> Reply {
        let authorizer = authorizer_context(store, &self.caller()).await;
        let route = route(self.operation);
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let body = self.body.text();
        let mut event = http_event_json(route.key, &params, body.as_deref(), authorizer);
        if !self.query.is_empty() {
            let query: Vec<(&str, &str)> = self
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            event = crate::with_query(event, &query);
        }
        for (name, value) in &self.headers {
            event = crate::with_header(event, name, value);
        }
        let request = crate::to_request(event);
        let now = self.now.unwrap_or_else(Utc::now);
        let response = match route.function {
            Function::Keygen => {
                assert!(self.now.is_none(), "keygen takes no clock");
                keygen::Keygen::new(store.clone(), settings.keygen.clone())
                    .with_user_directory(settings.users.clone())
                    .handle(request)
                    .await
            }
            Function::Schedules => {
                schedules::handle_at(store, &settings.schedules, request, now).await
            }
            Function::Dispatch => dispatch::handle_at(store, settings.dispatch, request, now).await,
        };
        response.expect("handlers never fail").into()
    }

    async fn over_http(self, url: &str, admin_token: &str) -> Reply {
        assert!(self.now.is_none(), "over HTTP the clock is the server's");
        let route = route(self.operation);
        let path = route.url(&self.params, &self.query);
        let authorization = match self.caller() {
            Caller::Operator => Some(format!("Bearer {admin_token}")),
            Caller::Key(KeyCaller {
                plaintext: Some(key),
                ..
            }) => Some(format!("Bearer {key}")),
            Caller::User(UserCaller {
                id_token: Some(token),
                ..
            }) => Some(format!("Bearer {token}")),
            Caller::Anonymous => None,
            other => panic!("{other:?} has no credentials to send over HTTP"),
        };
        let mut headers = vec![("content-type", "application/json")];
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization));
        }
        headers.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let body = self.body.text().map(String::into_bytes);
        crate::http_client::http(route.method, &format!("{url}{path}"), &headers, body).await
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Reply;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
