//! API Gateway HTTP API events built from a local HTTP request: the payload
//! format 2.0 request a function receives, and the payload 2.0 authorizer
//! request the Lambda authorizer receives, shaped as API Gateway sends them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use hyper::HeaderMap;
use orgkeys_shared::routes::{Route, percent_decode};
use serde_json::{Map, Value, json};

/// What the gateway knows about one incoming request.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub route: &'a Route,
    pub params: &'a [(&'static str, String)],
    pub request_id: String,
}

/// Headers as HTTP APIs deliver them: lower-case names, repeated values
/// joined by commas, cookies moved to their own list.
fn headers(incoming: &Incoming<'_>) -> (Map<String, Value>, Vec<String>) {
    let mut map: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in incoming.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        let entry = map.entry(name.as_str()).or_insert_with(|| json!(""));
        let joined = match entry.as_str() {
            Some("") | None => value,
            Some(earlier) => format!("{earlier},{value}"),
        };
        *entry = json!(joined);
    }
    (map, cookies)
}

/// `a=1&a=2&b=x` as `{"a": "1,2", "b": "x"}`, percent-decoded, as HTTP APIs do.
fn query_parameters(raw: &str) -> Map<String, Value> {
    let mut map: Map<String, Value> = Map::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (percent_decode(name), percent_decode(value));
        let joined = match map.get(&name).and_then(Value::as_str) {
            Some(earlier) => format!("{earlier},{value}"),
            None => value,
        };
        map.insert(name, json!(joined));
    }
    map
}

fn request_context(incoming: &Incoming<'_>, headers: &Map<String, Value>) -> Value {
    let now = Utc::now();
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let host = text("host");
    json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or_default(),
        "http": {
            "method": incoming.method,
            "path": incoming.path,
            "protocol": "HTTP/1.1",
            "sourceIp": incoming.source_ip,
            "userAgent": text("user-agent"),
        },
        "requestId": incoming.request_id,
        "routeKey": incoming.route.key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    })
}

fn path_parameters(incoming: &Incoming<'_>) -> Value {
    Value::Object(
        incoming
            .params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect(),
    )
}

/// The payload 2.0 request event for the route's function. `authorizer` is the
/// `requestContext.authorizer` object (`{"lambda": ...}` or `{"iam": ...}`).
pub fn http_event(incoming: &Incoming<'_>, authorizer: Value) -> Value {
    let (headers, cookies) = headers(incoming);
    let mut context = request_context(incoming, &headers);
    context["authorizer"] = authorizer;
    let mut event = json!({
        "version": "2.0",
        "routeKey": incoming.route.key,
        "rawPath": incoming.path,
        "rawQueryString": incoming.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    let query = query_parameters(incoming.raw_query);
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !incoming.params.is_empty() {
        event["pathParameters"] = path_parameters(incoming);
    }
    if !incoming.body.is_empty() {
        match std::str::from_utf8(incoming.body) {
            Ok(text) => event["body"] = json!(text),
            Err(_) => {
                event["body"] = json!(STANDARD.encode(incoming.body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// The payload 2.0 authorizer request, identity source `Authorization`.
pub fn authorizer_event(incoming: &Incoming<'_>, authorization: &str) -> Value {
    let (headers, cookies) = headers(incoming);
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!(
            "arn:aws:execute-api:local:000000000000:local/$default/{}{}",
            incoming.method, incoming.path
        ),
        "identitySource": [authorization],
        "routeKey": incoming.route.key,
        "rawPath": incoming.path,
        "rawQueryString": incoming.raw_query,
        "cookies": cookies,
        "headers": headers,
        "queryStringParameters": query_parameters(incoming.raw_query),
        "requestContext": request_context(incoming, &headers),
        "pathParameters": path_parameters(incoming),
        "stageVariables": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_and_join_repeats() {
        let q = query_parameters("status=active&channel=sms&channel=email&cursor=a%2Bb&flag");
        assert_eq!(q["status"], "active");
        assert_eq!(q["channel"], "sms,email");
        assert_eq!(q["cursor"], "a+b");
        assert_eq!(q["flag"], "");
    }
}
