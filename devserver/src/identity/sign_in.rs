//! The local sign-in's steps, as Cognito's `InitiateAuth` and
//! `RespondToAuthChallenge` take them: the password, then a first sign-in's
//! new password (`NEW_PASSWORD_REQUIRED`) and the code of a user's
//! authenticator app (`SOFTWARE_TOKEN_MFA`).
//!
//! A step after the password continues a sign-in the server keeps: the form
//! carries only its random handle, and the tokens wait here until the code
//! is right, so nobody chooses the password of a user they did not sign in
//! as, nor skips the code. Wrong passwords and wrong codes lock an email out
//! as Cognito does ([`Lockout`]); a right password does not start the count
//! again while a code is still owed, so guesses cannot go on without end.

use super::cognito::{Cognito, SignIn, Tokens};
use super::lockout::Lockout;
use super::user_pool::UserPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a sign-in may wait for its new password or code.
const STEP_LIFETIME: Duration = Duration::from_secs(300);

const LOCKED_OUT: &str = "Password attempts exceeded: try again in 15 minutes.";

/// The sign-ins of one local app client.
pub(super) struct SignIns {
    cognito: Cognito,
    client_id: String,
    /// Sign-ins waiting for a new password or a code, by the handle their form carries.
    pending: Mutex<HashMap<String, Pending>>,
    lockout: Mutex<Lockout>,
    /// The user-pool API the console sets an authenticator up through, and
    /// the authenticators it keeps.
    pub(super) user_pool: UserPool,
}

/// A sign-in that must take one more step: whose it is and what it waits
/// for. Never in a form.
struct Pending {
    email: String,
    waits: Waits,
    issued: Instant,
}

enum Waits {
    /// A first sign-in's new password; Cognito's session continues it.
    NewPassword { session: String },
    /// The code of the user's (`sub`) authenticator app, which releases `tokens`.
    Code { sub: String, tokens: Tokens },
}

/// The form a pending sign-in shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    NewPassword,
    Code,
}

/// Where a submitted sign-in form leaves the user.
pub(super) enum Step {
    Done(Tokens),
    /// The pending sign-in `handle`'s next form, with why the last try was refused.
    Next {
        form: Form,
        handle: String,
        message: Option<&'static str>,
    },
    /// The sign-in form again, with why.
    Refused(&'static str),
}

impl SignIns {
    pub(super) fn new(cognito: Cognito, client_id: String) -> SignIns {
        SignIns {
            user_pool: UserPool::new(cognito.clone()),
            cognito,
            client_id,
            pending: Mutex::new(HashMap::new()),
            lockout: Mutex::new(Lockout::default()),
        }
    }

    /// A password sign-in, unless the email is locked out.
    pub(super) async fn password(&self, email: &str, password: &str) -> Step {
        if self.lockout.lock().await.is_locked(email, Instant::now()) {
            return Step::Refused(LOCKED_OUT);
        }
        let signed_in = self.cognito.sign_in(&self.client_id, email, password).await;
        match signed_in {
            Ok(SignIn::Done(tokens)) => self.second_factor(email, tokens).await,
            Ok(SignIn::NewPasswordRequired { session }) => {
                self.lockout.lock().await.succeeded(email);
                self.wait(email, Waits::NewPassword { session }, Form::NewPassword)
                    .await
            }
            Err(err) => {
                tracing::info!(error = %err.kind, "local sign-in refused");
                if err.kind == "NotAuthorizedException" {
                    self.lockout.lock().await.failed(email, Instant::now());
                }
                Step::Refused("Incorrect email or password.")
            }
        }
    }

    /// After a right password: the tokens, or the code step when the user
    /// has an authenticator app (the tokens wait on the server for it).
    async fn second_factor(&self, email: &str, tokens: Tokens) -> Step {
        // Fail closed: a user the pool cannot name might have one.
        let Some(sub) = self.user_pool.user_of(&tokens.access_token).await else {
            return Step::Refused("That sign-in could not be completed: try again.");
        };
        if !self.user_pool.code_required(&sub).await {
            self.lockout.lock().await.succeeded(email);
            return Step::Done(tokens);
        }
        self.wait(email, Waits::Code { sub, tokens }, Form::Code)
            .await
    }

    /// Keeps a sign-in that waits for `form`, under a new random handle.
    async fn wait(&self, email: &str, waits: Waits, form: Form) -> Step {
        let Ok(handle) = crate::random_token() else {
            return Step::Refused("That sign-in could not be completed: try again.");
        };
        let mut pending = self.pending.lock().await;
        pending.retain(|_, waiting| waiting.issued.elapsed() < STEP_LIFETIME);
        let waiting = Pending {
            email: email.to_owned(),
            waits,
            issued: Instant::now(),
        };
        pending.insert(handle.clone(), waiting);
        Step::Next {
            form,
            handle,
            message: None,
        }
    }

    /// The next step of the pending sign-in `handle`, whichever it waits
    /// for: the user is the one who signed in, whatever the form says. The
    /// sign-in is taken while its step runs, so two forms sent at once
    /// cannot both finish it; a step to take again puts it back.
    pub(super) async fn next(&self, handle: &str, fields: &HashMap<String, String>) -> Step {
        let taken = self.pending.lock().await.remove(handle);
        let Some(waiting) = taken.filter(|w| w.issued.elapsed() < STEP_LIFETIME) else {
            return Step::Refused("That sign-in expired: sign in again.");
        };
        let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
        let (form, outcome) = match &waiting.waits {
            Waits::NewPassword { session } => (
                Form::NewPassword,
                self.new_password(&waiting.email, session, field("new_password"))
                    .await,
            ),
            Waits::Code { sub, tokens } => (
                Form::Code,
                self.code(&waiting.email, sub, tokens, field("code")).await,
            ),
        };
        match outcome {
            Ok(step) => step,
            Err(message) => {
                self.pending.lock().await.insert(handle.to_owned(), waiting);
                Step::Next {
                    form,
                    handle: handle.to_owned(),
                    message: Some(message),
                }
            }
        }
    }

    /// A first sign-in's new password; refused, why.
    async fn new_password(
        &self,
        email: &str,
        session: &str,
        new_password: &str,
    ) -> Result<Step, &'static str> {
        let chosen = self
            .cognito
            .set_new_password(&self.client_id, session, email, new_password)
            .await;
        match chosen {
            Ok(tokens) => Ok(self.second_factor(email, tokens).await),
            Err(err) => {
                tracing::info!(error = %err.kind, "local new password refused");
                Err(match err.kind.as_str() {
                    "InvalidPasswordException" => "That password does not meet the policy.",
                    _ => "That password could not be set.",
                })
            }
        }
    }

    /// The authenticator's code: right, the waiting tokens; wrong, counted
    /// as a wrong password is, and why (until the lockout ends the sign-in).
    async fn code(
        &self,
        email: &str,
        sub: &str,
        tokens: &Tokens,
        code: &str,
    ) -> Result<Step, &'static str> {
        let mut lockout = self.lockout.lock().await;
        let now = Instant::now();
        if lockout.is_locked(email, now) {
            return Ok(Step::Refused(LOCKED_OUT));
        }
        if self.user_pool.check_code(sub, code).await {
            lockout.succeeded(email);
            return Ok(Step::Done(tokens.clone()));
        }
        lockout.failed(email, now);
        if lockout.is_locked(email, now) {
            return Ok(Step::Refused(LOCKED_OUT));
        }
        tracing::info!("local sign-in code refused");
        Err("Incorrect code: enter the one your authenticator app shows now.")
    }
}
