//! How long items of one kind stay before their TTL removes them. Each kind
//! (audit events, conversations, webhook messages) names the environment
//! variable that sets it and its default with [`Kept`]; a function reads its
//! [`Retention`] once in `main` and passes it to where the items are written.
//! One type per kind, so one kind's setting cannot be passed for another's.

use chrono::Duration;
use std::fmt;
use std::marker::PhantomData;

/// A kind of item kept for a while.
pub trait Kept {
    /// The variable that sets how long, in whole days (1 or more).
    const VARIABLE: &'static str;
    /// The days when the variable is unset.
    const DEFAULT_DAYS: i64;
}

/// How long items of the kind `K` are kept.
pub struct Retention<K> {
    duration: Duration,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kept> Retention<K> {
    pub fn days(days: i64) -> Retention<K> {
        Retention {
            duration: Duration::days(days),
            kind: PhantomData,
        }
    }

    /// `K::VARIABLE`: whole days, 1 or more; the default when unset.
    pub fn from_env() -> Result<Retention<K>, String> {
        super::config::days_from_env(K::VARIABLE, K::DEFAULT_DAYS).map(Retention::days)
    }
}

impl<K> Retention<K> {
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl<K: Kept> Default for Retention<K> {
    fn default() -> Retention<K> {
        Retention::days(K::DEFAULT_DAYS)
    }
}

// By hand: derived, each would ask `K` for the same trait, and a kind is
// only a name.
impl<K> Clone for Retention<K> {
    fn clone(&self) -> Retention<K> {
        *self
    }
}

impl<K> Copy for Retention<K> {}

impl<K> PartialEq for Retention<K> {
    fn eq(&self, other: &Retention<K>) -> bool {
        self.duration == other.duration
    }
}

impl<K> Eq for Retention<K> {}

impl<K> fmt::Debug for Retention<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Retention({} days)", self.duration.num_days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Notes {}

    impl Kept for Notes {
        const VARIABLE: &'static str = "ORGKEYS_TEST_NOTES_RETENTION_DAYS";
        const DEFAULT_DAYS: i64 = 30;
    }

    #[test]
    fn a_kind_unset_is_its_default_in_whole_days() {
        // Nothing sets this variable.
        let read = Retention::<Notes>::from_env().unwrap();
        assert_eq!(read, Retention::default());
        assert_eq!(read.duration(), Duration::days(30));
        assert_ne!(read, Retention::days(7));
        assert_eq!(format!("{read:?}"), "Retention(30 days)");
    }
}
