//! Metrics as CloudWatch Embedded Metric Format (EMF) lines on stdout: Lambda
//! ships stdout to CloudWatch Logs, which turns each EMF line into metric
//! values, so counting costs no API call and no I/O beyond the log line.
//! Namespace `orgkeys`.

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "orgkeys";

/// The EMF line for one `value` of `metric`, with `dimensions` as
/// `(name, value)` pairs. The metric is published once per dimension set in
/// `sets` (each a list of dimension names), so a metric can be read both in
/// aggregate and broken down.
pub fn emf_line(
    metric: &str,
    value: f64,
    unit: &str,
    dimensions: &[(&str, &str)],
    sets: &[&[&str]],
    timestamp_ms: i64,
) -> String {
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": [{"Name": metric, "Unit": unit}],
            }],
        }),
    );
    for (name, dimension) in dimensions {
        line.insert((*name).into(), Value::from(*dimension));
    }
    line.insert(metric.into(), Value::from(value));
    Value::Object(line).to_string()
}

/// Writes one EMF line to stdout, where Lambda collects it. Outside Lambda
/// (the local gateway, tests calling handlers, benches) it writes nothing:
/// nothing there turns the line into a metric.
pub fn emit(metric: &str, value: f64, unit: &str, dimensions: &[(&str, &str)], sets: &[&[&str]]) {
    static IN_LAMBDA: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some());
    if *IN_LAMBDA {
        let now = chrono::Utc::now().timestamp_millis();
        println!("{}", emf_line(metric, value, unit, dimensions, sets, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_emf_with_the_dimensions_and_the_value_as_members() {
        let line = emf_line(
            "Decisions",
            1.0,
            "Count",
            &[("Result", "deny"), ("Reason", "unknown")],
            &[&["Result"], &["Result", "Reason"]],
            1_795_000_000_000,
        );
        let json: Value = serde_json::from_str(&line).unwrap();
        let directive = &json["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(json["_aws"]["Timestamp"], 1_795_000_000_000_i64);
        assert_eq!(directive["Namespace"], "orgkeys");
        assert_eq!(
            directive["Dimensions"],
            json!([["Result"], ["Result", "Reason"]])
        );
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Decisions", "Unit": "Count"}])
        );
        assert_eq!(json["Result"], "deny");
        assert_eq!(json["Reason"], "unknown");
        assert_eq!(json["Decisions"], 1.0);
        assert!(!line.contains('\n'));
    }
}
