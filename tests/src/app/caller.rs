//! Who calls: the platform operator, an organization key, a console user or
//! nobody, and what each becomes over the handlers (the authorizer context
//! API Gateway attaches) and over HTTP (an `Authorization` header, in
//! `super::Call`).

use crate::iam_authorizer;
use chrono::Utc;
use orgkeys_shared::Store;
use serde_json::{Value, json};

/// Who makes a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The platform operator: IAM context over the handlers, the admin
    /// token over HTTP.
    Operator,
    /// An organization key: the authorizer's context over the handlers, the
    /// key as a `Bearer` token over HTTP.
    Key(KeyCaller),
    /// A console user: verified claims over the handlers, an ID token over HTTP.
    User(UserCaller),
    /// No credentials at all.
    Anonymous,
}

/// An organization key as a caller.
#[derive(Debug, Clone)]
pub struct KeyCaller {
    /// The plaintext key, when the test has one; over the handlers the
    /// authorizer turns it into the context.
    pub plaintext: Option<String>,
    /// The authorizer's context (`{"lambda": {...}}`), when the test set it
    /// by hand.
    pub context: Option<Value>,
}

/// A console user as a caller.
#[derive(Debug, Clone)]
pub struct UserCaller {
    /// The claims API Gateway's JWT authorizer hands over (`jwt.claims`).
    pub claims: Value,
    /// The ID token, for calls over HTTP.
    pub id_token: Option<String>,
}

impl Caller {
    /// A real key: the authorizer decides its context over the handlers.
    pub fn key(plaintext: &str) -> Caller {
        Caller::Key(KeyCaller {
            plaintext: Some(plaintext.to_owned()),
            context: None,
        })
    }

    /// An authorizer context set by hand (`{"lambda": {...}}`, or any shape
    /// a test wants the function to see); over the handlers only.
    pub fn key_context(context: Value) -> Caller {
        Caller::Key(KeyCaller {
            plaintext: None,
            context: Some(context),
        })
    }

    /// A key of `org` with these space-separated scopes, as the authorizer
    /// passes it on ([`crate::key_authorizer`]); over the handlers only.
    pub fn key_of(org: &str, scopes: &str) -> Caller {
        Caller::key_context(crate::key_authorizer(org, scopes))
    }

    /// A console user with these verified claims; over the handlers only.
    pub fn user(claims: Value) -> Caller {
        Caller::User(UserCaller {
            claims,
            id_token: None,
        })
    }

    /// A console user signed in with this ID token; over HTTP only.
    pub fn id_token(token: &str) -> Caller {
        Caller::User(UserCaller {
            claims: Value::Null,
            id_token: Some(token.to_owned()),
        })
    }
}

/// What API Gateway puts in `requestContext.authorizer` for `caller`; a
/// plaintext key goes through the authorizer (reading the table each time).
pub(super) async fn authorizer_context(store: &Store, caller: &Caller) -> Value {
    match caller {
        Caller::Operator => iam_authorizer(),
        Caller::Key(KeyCaller {
            context: Some(context),
            ..
        }) => context.clone(),
        Caller::Key(KeyCaller {
            plaintext: Some(key),
            ..
        }) => json!({"lambda": authorize(store, key).await.to_context()}),
        Caller::Key(_) => panic!("a key caller needs a plaintext or a context"),
        Caller::User(user) => json!({"jwt": {"claims": user.claims, "scopes": null}}),
        Caller::Anonymous => Value::Null,
    }
}

/// The authorizer's decision for `plaintext`, read from the table now; a
/// denial fails the test (a test of a refused key asks the authorizer itself).
pub async fn authorize(
    store: &Store,
    plaintext: &str,
) -> orgkeys_shared::edge::caller::OrganizationKey {
    let settings = authorizer::Settings {
        cache_ttl: std::time::Duration::ZERO,
        ..authorizer::Settings::default()
    };
    let authorizer = authorizer::Authorizer::new(store.clone(), settings);
    match authorizer.check(plaintext, Utc::now()).await {
        Ok(authorizer::Decision::Allow(key)) => key,
        Ok(authorizer::Decision::Deny(reason)) => panic!("key denied: {reason:?}"),
        Err(err) => panic!("authorizer failed: {err:?}"),
    }
}
