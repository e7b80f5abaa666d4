//! When the next attempt of a failed message is due: the delays between
//! attempts (`WEBHOOK_RETRY_SCHEDULE`, Standard Webhooks' example by
//! default: about three days in all), spread by ±20% jitter so that the
//! messages of one outage do not come back together, and stretched by a
//! receiver's `Retry-After` up to twice the delay.

use std::time::Duration;

/// The environment variable with the delays, in seconds, comma-separated.
pub const SCHEDULE_VAR: &str = "WEBHOOK_RETRY_SCHEDULE";
/// Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, 24 h after the first attempt's failure and each next one's.
pub const DEFAULT_SCHEDULE: &str = "5,300,1800,7200,18000,36000,50400,72000,86400";
/// How far jitter moves a delay, either way.
const JITTER: f64 = 0.2;

/// The delays between attempts: a message gets one attempt more than there
/// are delays, and is `failed` when [`RetrySchedule::next_delay`] says `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// The schedule `WEBHOOK_RETRY_SCHEDULE` gives, or the default when unset.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(SCHEDULE_VAR) {
            Ok(value) => Self::parse(&value),
            Err(std::env::VarError::NotPresent) => Ok(Self::default()),
            Err(err) => Err(format!("{SCHEDULE_VAR}: {err}")),
        }
    }

    /// Seconds between attempts, comma-separated (`5,300,1800`); at least one.
    pub fn parse(value: &str) -> Result<Self, String> {
        let delays = value
            .split(',')
            .map(|entry| {
                entry
                    .trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| {
                        format!("{SCHEDULE_VAR}: {entry:?} is not a whole number of seconds")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RetrySchedule { delays })
    }

    /// How long after the last of `attempts_made` failed attempts the next
    /// is due, or `None` when that was the last. `jitter` in [-1, 1] (a
    /// uniform draw, by the caller, so this stays pure) moves the scheduled
    /// delay by up to ±20%; a `Retry-After` is honoured within that delay
    /// and twice it, so a receiver can slow us down but not stop or rush us.
    pub fn next_delay(
        &self,
        attempts_made: usize,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let scheduled = *self.delays.get(attempts_made.checked_sub(1)?)?;
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(-1.0, 1.0)
        };
        let delay = scheduled.mul_f64(1.0 + JITTER * jitter);
        Some(match retry_after {
            Some(asked) => asked.clamp(delay, delay * 2),
            None => delay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_default_is_standard_webhooks_schedule_of_ten_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(1, None, 0.0), Some(5 * SECOND));
        assert_eq!(schedule.next_delay(2, None, 0.0), Some(300 * SECOND));
        assert_eq!(schedule.next_delay(9, None, 0.0), Some(86_400 * SECOND));
        assert_eq!(schedule.next_delay(10, None, 0.0), None);
    }

    #[test]
    fn nothing_is_scheduled_before_the_first_attempt_or_after_the_last() {
        let schedule = RetrySchedule::parse("1, 2").unwrap();
        assert_eq!(schedule.next_delay(0, None, 0.0), None);
        assert_eq!(schedule.next_delay(2, None, 0.0), Some(2 * SECOND));
        assert_eq!(schedule.next_delay(3, None, 0.0), None);
        assert_eq!(schedule.next_delay(usize::MAX, None, 0.0), None);
    }

    #[test]
    fn jitter_moves_the_delay_by_up_to_twenty_percent() {
        let schedule = RetrySchedule::parse("100").unwrap();
        assert_eq!(schedule.next_delay(1, None, 1.0), Some(120 * SECOND));
        assert_eq!(schedule.next_delay(1, None, -1.0), Some(80 * SECOND));
        assert_eq!(schedule.next_delay(1, None, 0.5), Some(110 * SECOND));
        assert_eq!(schedule.next_delay(1, None, 7.0), Some(120 * SECOND));
        assert_eq!(schedule.next_delay(1, None, f64::NAN), Some(100 * SECOND));
    }

    #[test]
    fn retry_after_is_honoured_between_the_delay_and_twice_it() {
        let schedule = RetrySchedule::parse("100").unwrap();
        let after = |seconds| schedule.next_delay(1, Some(seconds * SECOND), 0.0);
        assert_eq!(after(150), Some(150 * SECOND));
        assert_eq!(after(10), Some(100 * SECOND));
        assert_eq!(after(1_000_000), Some(200 * SECOND));
    }

    #[test]
    fn a_bad_schedule_names_the_entry() {
        for (value, entry) in [("5,,300", "\"\""), ("5,soon", "\"soon\""), ("-1", "\"-1\"")] {
            let err = RetrySchedule::parse(value).unwrap_err();
            assert!(err.contains(entry), "{value}: {err}");
        }
        assert!(RetrySchedule::parse("").is_err());
    }

    proptest! {
        #[test]
        fn every_delay_stays_within_its_bounds(
            delays in proptest::collection::vec(0u64..200_000, 1..12),
            attempts_made in 0usize..15,
            retry_after in proptest::option::of(0u64..1_000_000),
            jitter in -1.0f64..=1.0,
        ) {
            let text = delays.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let schedule = RetrySchedule::parse(&text).unwrap();
            let next = schedule.next_delay(attempts_made, retry_after.map(Duration::from_secs), jitter);
            if attempts_made == 0 || attempts_made > delays.len() {
                prop_assert_eq!(next, None);
            } else {
                let scheduled = Duration::from_secs(delays[attempts_made - 1]);
                let next = next.unwrap();
                prop_assert!(next >= scheduled.mul_f64(0.8) - Duration::from_micros(1));
                let ceiling = if retry_after.is_some() { 2.4 } else { 1.2 };
                prop_assert!(next <= scheduled.mul_f64(ceiling) + Duration::from_micros(1));
                if let Some(asked) = retry_after.map(Duration::from_secs) {
                    prop_assert!(next >= asked.min(scheduled.mul_f64(1.6)));
                }
            }
        }
    }
}
