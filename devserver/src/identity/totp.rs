//! Authenticator apps for the local sign-in, as Cognito's software tokens
//! work: RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps, the step before and
//! after accepted), a secret per user that only the user's own
//! `AssociateSoftwareToken` answer carries, set up once a code from it
//! verifies, and asked for at sign-in while the user's preference enables it.
//!
//! The secrets stay in this gateway's memory, never in moto (whose pool
//! would give every user one fixed secret), never in a log or an error: a
//! restarted gateway has forgotten every authenticator, as it has its
//! sign-in sessions. A code is accepted once: a step at or before the last
//! one accepted is refused (RFC 6238 §5.2), so a code seen over a shoulder
//! does not sign in again.

use std::collections::HashMap;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The bytes of a new secret: RFC 4226's recommended 160 bits.
const SECRET_BYTES: usize = 20;

/// One user's authenticator: the one set up, the one waiting for its first
/// code, and whether sign-ins ask for it.
#[derive(Default)]
struct Authenticator {
    active: Option<Totp>,
    pending: Option<Totp>,
    /// The last step a code was accepted for.
    last_step: Option<u64>,
    enabled: bool,
    preferred: bool,
}

/// Why a verification or preference was refused, in Cognito's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `VerifySoftwareToken` before `AssociateSoftwareToken`.
    NotAssociated,
    /// A code that is not the secret's now (or was used already).
    CodeMismatch,
    /// `SetUserMFAPreference` enabling an authenticator never verified.
    NotVerified,
}

/// Where a user's software-token MFA stands, as `GetUser` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub enabled: bool,
    pub preferred: bool,
}

/// The authenticators of the local pool's users, by their `sub`.
#[derive(Default)]
pub struct Authenticators {
    users: HashMap<String, Authenticator>,
}

impl Authenticators {
    /// `AssociateSoftwareToken`: a new secret for `user`, base32 as
    /// authenticator apps take it. The one set up before (if any) stays in
    /// force until this one verifies.
    pub fn associate(&mut self, user: &str) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        let totp = totp(Secret::from(bytes));
        let text = totp.secret().to_base32();
        self.users.entry(user.to_owned()).or_default().pending = Some(totp);
        Ok(text)
    }

    /// `VerifySoftwareToken`: `code` from the pending secret at `now` (Unix
    /// seconds) makes it the user's authenticator.
    pub fn verify(&mut self, user: &str, code: &str, now: u64) -> Result<(), Refusal> {
        let authenticator = self.users.get_mut(user).ok_or(Refusal::NotAssociated)?;
        let pending = authenticator
            .pending
            .as_ref()
            .ok_or(Refusal::NotAssociated)?;
        let step = pending
            .check(&digits(code), now)
            .ok_or(Refusal::CodeMismatch)?;
        authenticator.active = authenticator.pending.take();
        authenticator.last_step = Some(step);
        Ok(())
    }

    /// `SetUserMFAPreference` for software tokens. Enabling needs an
    /// authenticator set up; disabling leaves it set up, unused.
    pub fn set_preference(&mut self, user: &str, wanted: Settings) -> Result<(), Refusal> {
        let authenticator = self.users.entry(user.to_owned()).or_default();
        if wanted.enabled && authenticator.active.is_none() {
            return Err(Refusal::NotVerified);
        }
        authenticator.enabled = wanted.enabled;
        authenticator.preferred = wanted.enabled && wanted.preferred;
        Ok(())
    }

    /// What `GetUser` says of the user's software token.
    pub fn settings(&self, user: &str) -> Settings {
        self.users
            .get(user)
            .map_or_else(Settings::default, |a| Settings {
                enabled: a.enabled,
                preferred: a.preferred,
            })
    }

    /// Whether a sign-in of `user` must give a code after the password.
    pub fn required(&self, user: &str) -> bool {
        self.users
            .get(user)
            .is_some_and(|a| a.enabled && a.active.is_some())
    }

    /// A sign-in's code: right for the user's authenticator at `now`, and
    /// for a later step than any code accepted before.
    pub fn check(&mut self, user: &str, code: &str, now: u64) -> bool {
        let Some(authenticator) = self.users.get_mut(user) else {
            return false;
        };
        let Some(active) = authenticator.active.as_ref() else {
            return false;
        };
        match active.check(&digits(code), now) {
            Some(step) if authenticator.last_step.is_none_or(|last| step > last) => {
                authenticator.last_step = Some(step);
                true
            }
            _ => false,
        }
    }
}

/// RFC 6238 as Cognito's software tokens use it.
fn totp(secret: Secret) -> Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .build()
        .expect("20 random bytes, 6 digits and 30 s steps are RFC 6238's")
}

/// A typed code without the spaces an app shows in it ("123 456").
fn digits(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret, ASCII "12345678901234567890".
    const RFC_SECRET: &[u8; 20] = b"12345678901234567890";

    /// An authenticator set up with the RFC's secret, enabled, as of `start`.
    fn set_up(start: u64) -> Authenticators {
        let mut authenticators = Authenticators::default();
        authenticators.associate("ann").unwrap();
        authenticators.users.get_mut("ann").unwrap().pending =
            Some(totp(Secret::from(*RFC_SECRET)));
        // The code of the step before the vectors' times: none of them is a replay.
        let before = totp(Secret::from(*RFC_SECRET)).generate(start).to_string();
        authenticators.verify("ann", &before, start).unwrap();
        authenticators
            .set_preference(
                "ann",
                Settings {
                    enabled: true,
                    preferred: true,
                },
            )
            .unwrap();
        authenticators
    }

    #[test]
    fn codes_are_rfc_6238s_sha1_vectors_in_six_digits() {
        // RFC 6238 appendix B (SHA-1, 8 digits): 94287082, 07081804,
        // 14050471, 89005924, 69279037, 65353130; six digits are their last six.
        let vectors = [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
            (20000000000, "353130"),
        ];
        let mut authenticators = set_up(0);
        for (time, code) in vectors {
            assert!(authenticators.check("ann", code, time), "{code} at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_in_the_step_before_and_after_but_not_two_away() {
        // 1111111111 is step 37037037; its code is 050471.
        let step = 1111111111 / 30;
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let mut authenticators = set_up(0);
            let now = ((step as i64 + offset) * 30) as u64;
            assert_eq!(
                authenticators.check("ann", "050471", now),
                accepted,
                "{offset}"
            );
        }
    }

    #[test]
    fn a_code_once_accepted_is_refused_again_and_so_is_an_older_one() {
        let mut authenticators = set_up(0);
        assert!(authenticators.check("ann", "050 471", 1111111111));
        assert!(!authenticators.check("ann", "050471", 1111111111));
        // 1111111109's code is the step before's: older than the one accepted.
        assert!(!authenticators.check("ann", "081804", 1111111111));
    }

    #[test]
    fn the_code_that_sets_it_up_does_not_sign_in() {
        let mut authenticators = set_up(1111111111);
        assert!(!authenticators.check("ann", "050471", 1111111111));
    }

    #[test]
    fn a_wrong_code_verifies_nothing_and_enabling_waits_for_a_verified_one() {
        let mut authenticators = Authenticators::default();
        assert_eq!(
            authenticators.verify("bob", "123456", 59),
            Err(Refusal::NotAssociated)
        );
        let secret = authenticators.associate("bob").unwrap();
        assert_eq!(secret.len(), 32, "160 bits in base32: {}", secret.len());
        let enable = Settings {
            enabled: true,
            preferred: true,
        };
        assert_eq!(
            authenticators.set_preference("bob", enable),
            Err(Refusal::NotVerified)
        );
        let totp = totp(Secret::try_from_base32(&secret).unwrap());
        let right = totp.generate(59).to_string();
        // A code of none of the steps around 59 s.
        let window: Vec<String> = [29, 59, 89].map(|t| totp.generate(t).to_string()).into();
        let wrong = (0..)
            .map(|n| format!("{n:06}"))
            .find(|code| !window.contains(code))
            .unwrap();
        assert_eq!(
            authenticators.verify("bob", &wrong, 59),
            Err(Refusal::CodeMismatch)
        );
        assert!(!authenticators.required("bob"));
        authenticators.verify("bob", &right, 59).unwrap();
        assert!(!authenticators.required("bob"), "set up, not yet enabled");
        authenticators.set_preference("bob", enable).unwrap();
        assert!(authenticators.required("bob"));
        assert_eq!(authenticators.settings("bob"), enable);
        assert!(!authenticators.required("ann"), "another user has none");
    }

    #[test]
    fn a_new_secret_replaces_the_old_only_once_it_verifies() {
        let mut authenticators = set_up(0);
        let old = totp(Secret::from(*RFC_SECRET));
        let secret = authenticators.associate("ann").unwrap();
        assert!(authenticators.check("ann", &old.generate(90).to_string(), 90));
        let new = totp(Secret::try_from_base32(&secret).unwrap());
        authenticators
            .verify("ann", &new.generate(150).to_string(), 150)
            .unwrap();
        assert!(!authenticators.check("ann", &old.generate(180).to_string(), 180));
        assert!(authenticators.check("ann", &new.generate(210).to_string(), 210));
    }
}
