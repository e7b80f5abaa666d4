//! (Interim stub until the delivery engine lands.)

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetrySchedule(Vec<u64>);

impl RetrySchedule {
    pub fn from_env() -> Result<RetrySchedule, String> {
        Ok(RetrySchedule(vec![5, 300]))
    }

    pub fn next_delay(
        &self,
        attempts_made: u32,
        _retry_after: Option<Duration>,
        _jitter: f64,
    ) -> Option<Duration> {
        self.0
            .get(attempts_made as usize - 1)
            .map(|s| Duration::from_secs(*s))
    }
}
