//! Wrong-password lockout for the local sign-in, as Cognito locks a user
//! out: after [`ATTEMPTS`] wrong passwords in a row for one email, every
//! sign-in of that email is refused for [`LOCKED_FOR`], the right password
//! included, so guessing cannot go faster than that.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Wrong passwords in a row that lock an email out.
pub const ATTEMPTS: u32 = 5;
/// How long a locked-out email stays refused.
pub const LOCKED_FOR: Duration = Duration::from_secs(15 * 60);

/// The wrong passwords counted per email (lower-cased).
#[derive(Debug, Default)]
pub struct Lockout {
    emails: HashMap<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

impl Lockout {
    /// Whether `email` is locked out at `now`.
    pub fn is_locked(&mut self, email: &str, now: Instant) -> bool {
        let key = email.to_lowercase();
        match self.emails.get(&key).and_then(|f| f.locked_until) {
            Some(until) if now < until => true,
            Some(_) => {
                // The lock ran out: the count starts again.
                self.emails.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Counts a wrong password for `email` at `now`; the last allowed one locks it.
    pub fn failed(&mut self, email: &str, now: Instant) {
        let failures = self.emails.entry(email.to_lowercase()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        failures.count += 1;
        if failures.count >= ATTEMPTS {
            failures.locked_until = Some(now + LOCKED_FOR);
        }
    }

    /// A right password: the count starts again.
    pub fn succeeded(&mut self, email: &str) {
        self.emails.remove(&email.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_passwords_lock_an_email_for_fifteen_minutes() {
        let mut lockout = Lockout::default();
        let start = Instant::now();
        for _ in 0..ATTEMPTS - 1 {
            lockout.failed("Ann@acme.example", start);
        }
        assert!(!lockout.is_locked("ann@acme.example", start));
        lockout.failed("ann@acme.example", start);
        assert!(lockout.is_locked("ANN@acme.example", start));
        assert!(!lockout.is_locked("bob@acme.example", start));
        let almost = start + LOCKED_FOR - Duration::from_secs(1);
        assert!(lockout.is_locked("ann@acme.example", almost));
        assert!(!lockout.is_locked("ann@acme.example", start + LOCKED_FOR));
        // After the lock, one wrong password is not a lock again.
        lockout.failed("ann@acme.example", start + LOCKED_FOR);
        assert!(!lockout.is_locked("ann@acme.example", start + LOCKED_FOR));
    }

    #[test]
    fn a_right_password_starts_the_count_again() {
        let mut lockout = Lockout::default();
        let now = Instant::now();
        for _ in 0..ATTEMPTS - 1 {
            lockout.failed("ann@acme.example", now);
        }
        lockout.succeeded("ann@acme.example");
        lockout.failed("ann@acme.example", now);
        assert!(!lockout.is_locked("ann@acme.example", now));
    }
}
