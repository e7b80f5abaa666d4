//! What the CLI prints. `--output json`: the API's answer exactly, on stdout.
//! Tables otherwise. Problems go to stderr (title, detail, each bad field),
//! and the exit code tells a refusal (4xx) from a failure (5xx, network).
//! Nothing the server sends reaches the terminal as control: control, bidi
//! and invisible characters are shown escaped ([`shown`]).

use crate::args::Output;
use crate::call::{Call, Cell, View};
use crate::client::Reply;
use crate::{EXIT_FAILED, EXIT_REFUSED};
use orgkeys_api::text::is_unsafe;
use serde_json::Value;
use std::borrow::Cow;
use std::process::ExitCode;

/// The warning every new key comes with, as the platform words it.
pub const NEW_KEY_WARNING: &str = "This API key is shown only once: store it safely now. Anyone who has it can call the API as this organization.";

/// The warning every new webhook signing secret comes with.
pub const NEW_SECRET_WARNING: &str = "This signing secret is shown only once: store it where your receiver verifies webhooks. Anyone who has it can sign requests as orgkeys.";

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
    match call.view {
        View::NewKey => eprintln!("{NEW_KEY_WARNING}"),
        View::NewSecret => eprintln!("{NEW_SECRET_WARNING}"),
        _ => {}
    }
    if let Some(when) = call.takes_effect {
        eprintln!("note: {when}");
    }
    match (output, call.view) {
        (Output::Json, _) => {
            if !reply.body.is_empty() {
                println!("{}", json_shown(&reply.body));
            }
        }
        (Output::Table, View::Done) => eprintln!("done"),
        (Output::Table, View::NewKey) => {
            println!("{}", shown(json["apiKey"].as_str().unwrap_or_default()));
            eprintln!(
                "keyId: {}",
                shown(json["keyId"].as_str().unwrap_or_default())
            );
        }
        (Output::Table, View::NewSecret) => {
            println!("{}", shown(json["secret"].as_str().unwrap_or_default()));
            eprintln!(
                "endpointId: {}",
                shown(json["endpointId"].as_str().unwrap_or_default())
            );
        }
        (Output::Table, View::Object) => print!("{}", object(&json)),
        (Output::Table, View::List(columns)) => {
            print!("{}", table(&json, columns));
            if let Some(cursor) = json["nextCursor"].as_str() {
                eprintln!("more: --cursor {}", shown(cursor));
            }
        }
    }
    ExitCode::SUCCESS
}

/// A request that could not be sent, signed or read.
pub fn failure(message: &str) -> ExitCode {
    eprintln!("error: {}", shown(message));
    ExitCode::from(EXIT_FAILED)
}

/// An error answer in a line or a few: a problem's title and detail with its
/// field errors, or API Gateway's `message`.
pub fn problem(reply: &Reply) -> String {
    let json: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let mut text = match (json["title"].as_str(), json["message"].as_str()) {
        (Some(title), _) => format!(
            "error: {} {}: {}",
            reply.status,
            shown(title),
            shown(json["detail"].as_str().unwrap_or_default())
        ),
        (None, Some(message)) => format!("error: {} {}", reply.status, shown(message)),
        (None, None) => format!("error: {} {}", reply.status, shown(reply.body.trim())),
    };
    for field in json["errors"].as_array().into_iter().flatten() {
        let at = field["pointer"]
            .as_str()
            .or_else(|| field["parameter"].as_str())
            .unwrap_or_default();
        let detail = field["detail"].as_str().unwrap_or_default();
        text.push_str(&format!("\n  {}: {}", shown(at), shown(detail)));
    }
    text
}

/// Text from the server as the terminal should show it: each control, bidi
/// or invisible character as its escape (`\u{1b}`), so none can move the
/// cursor, retitle or clear the terminal, or reorder what is shown.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let escape = |c: char| match is_unsafe(c) {
        true => c.escape_unicode().to_string(),
        false => c.to_string(),
    };
    Cow::Owned(text.chars().map(escape).collect())
}

/// The API's JSON as received, but for what a terminal would act on: such a
/// character can only be inside a string, where `\uXXXX` is the same value;
/// a carriage return can only be whitespace between values, and is left out.
/// A body that is not JSON is [`shown`] as text.
fn json_shown(body: &str) -> Cow<'_, str> {
    if serde_json::from_str::<Value>(body).is_err() {
        return shown(body);
    }
    if !body.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return Cow::Borrowed(body);
    }
    let escape = |c: char| match c {
        '\r' => String::new(),
        '\n' | '\t' => c.to_string(),
        c if is_unsafe(c) => format!("\\u{:04x}", u32::from(c)),
        c => c.to_string(),
    };
    Cow::Owned(body.chars().map(escape).collect())
}

/// A value as one table cell.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(text)) => shown(text).into_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => shown(&other.to_string()).into_owned(),
    }
}

/// What a table shows of `item` in a column.
fn column(item: &Value, cell_of: Cell) -> String {
    match cell_of {
        Cell::At(pointer) => cell(item.pointer(pointer)),
        Cell::KeyState => key_state(item),
        Cell::Details => details_summary(item),
        Cell::EndpointState => match (&item["enabled"], item["disabledReason"].as_str()) {
            (Value::Bool(true), _) => "enabled".to_owned(),
            (_, Some(reason)) => format!("disabled: {}", shown(reason)),
            _ => "disabled".to_owned(),
        },
        Cell::Attempts => attempts_summary(item),
    }
}

/// A message's attempts in one cell: how many, and the last one's status
/// code or error.
fn attempts_summary(message: &Value) -> String {
    let attempts = message["attempts"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let Some(last) = attempts.last() else {
        return "0".to_owned();
    };
    let outcome = match (last["statusCode"].as_u64(), last["error"].as_str()) {
        (Some(code), _) => code.to_string(),
        (None, Some(error)) => shown(error).into_owned(),
        (None, None) => "-".to_owned(),
    };
    format!("{} (last: {outcome})", attempts.len())
}

/// A key's state as the server decided it (`state`), with a rolled key's
/// successor and the end of its grace period.
fn key_state(key: &Value) -> String {
    let state = key["state"].as_str().unwrap_or("unknown");
    match (state, key["rolledTo"].as_str(), key["expiresAt"].as_str()) {
        ("rolled", Some(successor), Some(at)) => {
            format!("rolled to {} until {}", shown(successor), shown(at))
        }
        ("rolled", Some(successor), None) => format!("rolled to {}", shown(successor)),
        ("expired", Some(successor), Some(at)) => {
            format!("rolled to {}, ended {}", shown(successor), shown(at))
        }
        _ => shown(state).into_owned(),
    }
}

/// The longest summary of an audit event's details a table shows.
const DETAILS_CHARS: usize = 60;

/// An audit event's `details` in one cell: `name=value` pairs (what an
/// update changed), cut to [`DETAILS_CHARS`] with an ellipsis.
fn details_summary(event: &Value) -> String {
    let Some(details) = event["details"].as_object().filter(|d| !d.is_empty()) else {
        return "-".to_owned();
    };
    let summary = details
        .iter()
        .map(|(name, value)| format!("{}={}", shown(name), cell(Some(value))))
        .collect::<Vec<_>>()
        .join(" ");
    match summary.char_indices().nth(DETAILS_CHARS) {
        Some((cut, _)) => format!("{}…", &summary[..cut]),
        None => summary,
    }
}

/// One object, a field a line.
fn object(json: &Value) -> String {
    let Some(fields) = json.as_object() else {
        return format!("{}\n", shown(&json.to_string()));
    };
    let width = fields.keys().map(String::len).max().unwrap_or(0);
    fields
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Object(_) => shown(&value.to_string()).into_owned(),
                other => cell(Some(other)),
            };
            format!("{:width$}  {value}\n", shown(name))
        })
        .collect()
}

/// `items` as aligned columns.
fn table(json: &Value, columns: &[(&str, Cell)]) -> String {
    let rows: Vec<Vec<String>> = json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            columns
                .iter()
                .map(|(_, cell_of)| column(item, *cell_of))
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
            &[
                ("KEY", Cell::At("/keyId")),
                ("NAME", Cell::At("/name")),
                ("SCOPES", Cell::At("/scopes")),
            ],
        );
        assert_eq!(
            text,
            "KEY     NAME  SCOPES\nkey_1   -     a,b\nkey_22  crm\n"
        );
    }

    #[test]
    fn control_bidi_and_invisible_characters_from_the_server_are_shown_escaped() {
        assert_eq!(shown("Acme – ünïcode"), "Acme – ünïcode");
        assert_eq!(
            shown("a\u{1b}]0;x\u{7}\u{9b}\u{202e}\u{200b}\r\n"),
            "a\\u{1b}]0;x\\u{7}\\u{9b}\\u{202e}\\u{200b}\\u{d}\\u{a}"
        );
        let reply = Reply {
            status: 502,
            body: "<html>\u{1b}[2J</html>".to_owned(),
        };
        assert_eq!(problem(&reply), "error: 502 <html>\\u{1b}[2J</html>");
        let cells = table(
            &json!({"items": [{"name": "x\u{1b}[31m", "tags": ["\u{202e}a"]}]}),
            &[("NAME", Cell::At("/name")), ("TAGS", Cell::At("/tags"))],
        );
        assert_eq!(cells, "NAME         TAGS\nx\\u{1b}[31m  \\u{202e}a\n");
    }

    #[test]
    fn json_output_is_the_apis_but_for_characters_a_terminal_acts_on() {
        let plain = r#"{"name":"Acme – ü","n":1}"#;
        assert_eq!(json_shown(plain), plain);
        let hostile = "{\"name\":\"a\u{9b}b\u{202e}\"}\r\n";
        let escaped = json_shown(hostile);
        assert_eq!(escaped, "{\"name\":\"a\\u009bb\\u202e\"}\n");
        let same: Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(same, serde_json::from_str::<Value>(hostile).unwrap());
        assert_eq!(json_shown("not json \u{1b}"), "not json \\u{1b}");
    }

    #[test]
    fn key_state_tells_rolled_keys_with_their_end_and_details_are_summarized() {
        let key = |fields: Value| key_state(&fields);
        // The server's word, whatever the other fields seem to say.
        assert_eq!(key(json!({"state": "active", "enabled": false})), "active");
        assert_eq!(key(json!({"state": "leaked", "enabled": true})), "leaked");
        assert_eq!(key(json!({"state": "dis\u{1b}[31m"})), "dis\\u{1b}[31m");
        assert_eq!(
            key(
                json!({"state": "expired", "rolledTo": "key_2", "expiresAt": "2000-01-01T00:00:00.000Z"})
            ),
            "rolled to key_2, ended 2000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            key(
                json!({"state": "rolled", "rolledTo": "key_2", "expiresAt": "2999-01-01T00:00:00.000Z"})
            ),
            "rolled to key_2 until 2999-01-01T00:00:00.000Z"
        );
        assert_eq!(
            key(
                json!({"state": "disabled", "rolledTo": "key_2", "expiresAt": "2999-01-01T00:00:00.000Z"})
            ),
            "disabled"
        );
        let event =
            json!({"details": {"enabled": false, "scopes": ["schedules:read"], "name": null}});
        assert_eq!(
            details_summary(&event),
            "enabled=false name=- scopes=schedules:read"
        );
        assert_eq!(details_summary(&json!({"details": {}})), "-");
        let long = json!({"details": {"name": "x".repeat(100)}});
        assert_eq!(details_summary(&long).chars().count(), DETAILS_CHARS + 1);
        assert!(details_summary(&long).ends_with('…'));
    }
}
