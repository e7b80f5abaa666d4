//! A small measuring harness for the bench binaries: runs an async operation
//! many times and reports the median and p99 per call, so figures from one run
//! can be compared side by side (and divided) in a printed table.
//!
//! Why not criterion: its reports are means with confidence intervals, while
//! the targets here are medians and p99, and ratios of two operations measured
//! in the same run; a hundred lines do that without a plotting stack.

use std::future::Future;
use std::time::{Duration, Instant};

/// One measured operation.
pub struct Sample {
    pub name: String,
    pub median: Duration,
    pub p99: Duration,
    pub calls: usize,
}

/// How much to measure: `--bench` (cargo bench) measures for real; any other
/// run (cargo test compiling and running benches) only checks that each
/// operation works, with a handful of calls.
#[derive(Clone, Copy)]
pub struct Plan {
    pub batches: usize,
    pub warmup: usize,
}

impl Plan {
    pub fn from_args() -> Plan {
        if std::env::args().any(|a| a == "--bench") {
            Plan {
                batches: 2_000,
                warmup: 200,
            }
        } else {
            Plan {
                batches: 5,
                warmup: 1,
            }
        }
    }

    pub fn is_smoke(&self) -> bool {
        self.batches < 100
    }
}

/// Times `batch` calls of `op` per sample (to get below timer resolution for
/// sub-microsecond work) and reports per-call median and p99 over the samples.
pub async fn measure<F, Fut>(plan: Plan, name: &str, batch: usize, mut op: F) -> Sample
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..plan.warmup * batch {
        op().await;
    }
    let mut per_call = Vec::with_capacity(plan.batches);
    for _ in 0..plan.batches {
        let start = Instant::now();
        for _ in 0..batch {
            op().await;
        }
        per_call.push(start.elapsed() / batch as u32);
    }
    // Each sample is the mean of a batch, so the calls made are batches × batch.
    Sample {
        calls: plan.batches * batch,
        ..summarize(name, per_call)
    }
}

/// Times two operations in alternation, one call of each per sample, so a
/// server that drifts (moto slows as its tables fill) weighs on both alike.
/// Use it for every ratio.
pub async fn measure_pair<FA, FutA, FB, FutB>(
    plan: Plan,
    (name_a, mut a): (&str, FA),
    (name_b, mut b): (&str, FB),
) -> (Sample, Sample)
where
    FA: FnMut() -> FutA,
    FutA: Future<Output = ()>,
    FB: FnMut() -> FutB,
    FutB: Future<Output = ()>,
{
    for _ in 0..plan.warmup {
        a().await;
        b().await;
    }
    let (mut times_a, mut times_b) = (Vec::new(), Vec::new());
    for _ in 0..plan.batches {
        let start = Instant::now();
        a().await;
        times_a.push(start.elapsed());
        let start = Instant::now();
        b().await;
        times_b.push(start.elapsed());
    }
    (summarize(name_a, times_a), summarize(name_b, times_b))
}

/// Median and p99 of timed calls, one duration per call.
pub fn summarize(name: &str, mut per_call: Vec<Duration>) -> Sample {
    per_call.sort();
    let at = |q: f64| per_call[((per_call.len() - 1) as f64 * q).round() as usize];
    Sample {
        name: name.to_owned(),
        median: at(0.5),
        p99: at(0.99),
        calls: per_call.len(),
    }
}

/// Renders samples as a Markdown table.
pub fn table(title: &str, samples: &[&Sample]) -> String {
    let mut out =
        format!("### {title}\n\n| operation | median | p99 | calls |\n|---|---:|---:|---:|\n");
    for s in samples {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.name,
            show(s.median),
            show(s.p99),
            s.calls
        ));
    }
    out
}

/// The header of a targets table; rows come from [`ratio`] and [`within`].
pub const TARGETS_HEADER: &str = "| target | measured | goal | |\n|---|---:|---:|---|\n";

/// A target row for `a / b` of medians.
pub fn ratio(label: &str, a: &Sample, b: &Sample, goal: f64) -> String {
    let value = a.median.as_secs_f64() / b.median.as_secs_f64();
    let verdict = if value <= goal { "meets" } else { "misses" };
    format!("| {label} | {value:.3} | ≤ {goal} | {verdict} |\n")
}

/// A target row for an absolute median.
pub fn within(sample: &Sample, goal: Duration) -> String {
    let verdict = if sample.median <= goal {
        "meets"
    } else {
        "misses"
    };
    format!(
        "| {} (median) | {} | ≤ {} | {verdict} |\n",
        sample.name,
        show(sample.median),
        show(goal)
    )
}

pub fn show(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{ns} ns")
    } else if ns < 10_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{:.2} ms", ns as f64 / 1e6)
    }
}
