//! How the functions log: `tracing` to stdout, JSON when Lambda's advanced
//! logging controls ask for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), every line
//! with a timestamp, at the level `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`,
//! read as a level; else INFO) gives.
//!
//! That level applies to orgkeys' own crates only. Every other crate — the
//! Lambda runtime, which logs raw events (keys in `Authorization` and
//! `identitySource`) at TRACE, and the AWS SDK, which logs DynamoDB requests
//! and items (key hashes) at DEBUG and TRACE — is held at INFO or less by
//! fixed directives, so no log level can print a key.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

/// The crates whose logs follow the configured level.
const OWN_CRATES: [&str; 6] = [
    "orgkeys_shared",
    "authorizer",
    "keygen",
    "schedules",
    "dispatch",
    "devserver",
];

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init() {
    let level = configured_level(
        std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .as_deref(),
    );
    let collector = tracing_subscriber::fmt()
        .with_target(false)
        .with_env_filter(filter(level))
        .with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        collector.json().init();
    } else {
        collector.init();
    }
}

/// The level a setting names (`TRACE`, `debug`, ...), INFO when absent or unreadable.
fn configured_level(setting: Option<&str>) -> LevelFilter {
    setting
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// `level` for our crates, at most INFO for every other.
fn filter(level: LevelFilter) -> EnvFilter {
    let others = level.min(LevelFilter::INFO);
    let mut directives = vec![others.to_string().to_lowercase()];
    for krate in OWN_CRATES {
        directives.push(format!("{krate}={}", level.to_string().to_lowercase()));
    }
    EnvFilter::new(directives.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_crates_never_go_below_info_whatever_the_level() {
        assert_eq!(configured_level(Some("TRACE")), LevelFilter::TRACE);
        assert_eq!(
            configured_level(Some("aws_smithy_runtime=trace")),
            LevelFilter::INFO
        );
        assert_eq!(configured_level(None), LevelFilter::INFO);
        let trace = filter(LevelFilter::TRACE).to_string();
        assert!(
            trace.starts_with("info,") || trace.contains(",info") || trace == "info",
            "{trace}"
        );
        assert!(trace.contains("authorizer=trace"), "{trace}");
        assert!(
            !trace.contains("lambda_runtime") && !trace.contains("aws_"),
            "{trace}"
        );
        let error = filter(LevelFilter::ERROR).to_string();
        assert!(
            error.contains("error") && !error.contains("info"),
            "{error}"
        );
    }
}
