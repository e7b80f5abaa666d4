//! What the CLI prints. `--output json`: the API's answer exactly, on stdout.
//! Tables otherwise. Problems go to stderr (title, detail, each bad field),
//! and the exit code tells a refusal (4xx) from a failure (5xx, network).

use crate::args::Output;
use crate::call::{Call, View};
use crate::client::Reply;
use crate::{EXIT_FAILED, EXIT_REFUSED};
use serde_json::Value;
use std::process::ExitCode;

/// The warning every new key comes with, as the platform words it.
pub const NEW_KEY_WARNING: &str = "This API key is shown only once: store it safely now. Anyone who has it can call the API as this organization.";

/// Prints an answer and gives the exit code it deserves.
pub fn reply(call: &Call, reply: &Reply, output: Output) -> ExitCode {
    if !(200..300).contains(&reply.status) {
        eprintln!("{}", problem(reply));
        return ExitCode::from(if reply.status < 500 {
            EXIT_REFUSED
        } else {
            EXIT_FAILED
        });
    }
    let json: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if call.view == View::NewKey {
        eprintln!("{NEW_KEY_WARNING}");
    }
    match (output, call.view) {
        (Output::Json, _) => {
            if !reply.body.is_empty() {
                println!("{}", reply.body);
            }
        }
        (Output::Table, View::Done) => eprintln!("done"),
        (Output::Table, View::NewKey) => {
            println!("{}", json["apiKey"].as_str().unwrap_or_default());
            eprintln!("keyId: {}", json["keyId"].as_str().unwrap_or_default());
        }
        (Output::Table, View::Object) => print!("{}", object(&json)),
        (Output::Table, View::List(columns)) => {
            print!("{}", table(&json, columns));
            if let Some(cursor) = json["nextCursor"].as_str() {
                eprintln!("more: --cursor {cursor}");
            }
        }
    }
    ExitCode::SUCCESS
}

/// A request that could not be sent, signed or read.
pub fn failure(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_FAILED)
}

/// An error answer in a line or a few: a problem's title and detail with its
/// field errors, or API Gateway's `message`.
pub fn problem(reply: &Reply) -> String {
    let json: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let mut text = match (json["title"].as_str(), json["message"].as_str()) {
        (Some(title), _) => format!(
            "error: {} {title}: {}",
            reply.status,
            json["detail"].as_str().unwrap_or_default()
        ),
        (None, Some(message)) => format!("error: {} {message}", reply.status),
        (None, None) => format!("error: {} {}", reply.status, reply.body.trim()),
    };
    for field in json["errors"].as_array().into_iter().flatten() {
        let at = field["pointer"]
            .as_str()
            .or_else(|| field["parameter"].as_str())
            .unwrap_or_default();
        let detail = field["detail"].as_str().unwrap_or_default();
        text.push_str(&format!("\n  {at}: {detail}"));
    }
    text
}

/// A value as one table cell.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// One object, a field a line.
fn object(json: &Value) -> String {
    let Some(fields) = json.as_object() else {
        return format!("{json}\n");
    };
    let width = fields.keys().map(String::len).max().unwrap_or(0);
    fields
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                Value::Object(_) => value.to_string(),
                other => cell(Some(other)),
            };
            format!("{name:width$}  {shown}\n")
        })
        .collect()
}

/// `items` as aligned columns.
fn table(json: &Value, columns: &[(&str, &str)]) -> String {
    let rows: Vec<Vec<String>> = json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            columns
                .iter()
                .map(|(_, at)| cell(item.pointer(at)))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            rows.iter()
                .map(|r| r[i].len())
                .fold(header.len(), usize::max)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(columns.iter().map(|(header, _)| *header).collect());
    for row in &rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_show_title_detail_and_each_field() {
        let reply = Reply {
            status: 400,
            body: json!({"type": "urn:orgkeys:problem:validation", "title": "Request failed validation", "status": 400,
                "detail": "2 field(s) are invalid; see errors",
                "errors": [{"pointer": "/name", "detail": "is required"}, {"parameter": "limit", "detail": "must be 1-100"}]})
            .to_string(),
        };
        assert_eq!(
            problem(&reply),
            "error: 400 Request failed validation: 2 field(s) are invalid; see errors\n  /name: is required\n  limit: must be 1-100"
        );
        let gateway = Reply {
            status: 403,
            body: json!({"message": "Forbidden"}).to_string(),
        };
        assert_eq!(problem(&gateway), "error: 403 Forbidden");
    }

    #[test]
    fn tables_align_columns_and_show_missing_values_as_dashes() {
        let json = json!({"items": [
            {"keyId": "key_1", "scopes": ["a", "b"], "name": null},
            {"keyId": "key_22", "scopes": [], "name": "crm"}
        ]});
        let text = table(
            &json,
            &[("KEY", "/keyId"), ("NAME", "/name"), ("SCOPES", "/scopes")],
        );
        assert_eq!(
            text,
            "KEY     NAME  SCOPES\nkey_1   -     a,b\nkey_22  crm\n"
        );
    }
}
