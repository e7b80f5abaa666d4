//! Requests and responses at the HTTP edge: which route was called and by
//! whom, path parameters, bounded JSON bodies in, JSON bodies out.

use crate::audit::{Draft, Origin, Retention};
use crate::edge::caller::Caller;
use crate::edge::problem::{FieldError, Problem};
use crate::routes::{self, Function, Route};
use chrono::{DateTime, Utc};
use lambda_http::http::{StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use orgkeys_api::OrgId;
use orgkeys_api::text::recorded_header_text;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The route API Gateway matched, as `"METHOD /path/{param}"`: HTTP APIs send
/// it as `routeKey`; REST APIs as `httpMethod` and `resourcePath`. Routing on it
/// (rather than on the raw path) keeps stage prefixes and custom domains out.
fn route_key(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.route_key.clone(),
        RequestContext::ApiGatewayV1(ctx) => Some(format!(
            "{} {}",
            ctx.http_method,
            ctx.resource_path.as_deref()?
        )),
        _ => None,
    }
}

/// The route a request is for, if `function` serves it.
pub fn served_route(request: &Request, function: Function) -> Result<&'static Route, Problem> {
    let key = route_key(request).unwrap_or_default();
    routes::by_key(&key)
        .filter(|route| route.function == function)
        .ok_or_else(|| Problem::not_found(format!("no route {key}")))
}

/// The route a request is for, if `function` serves it, and its caller, if
/// the route's access admits them (see [`Caller::of`]).
pub fn authorize(
    request: &Request,
    function: Function,
) -> Result<(&'static Route, Caller), Problem> {
    let route = served_route(request, function)?;
    Ok((route, Caller::of(request, route.access)?))
}

/// Where the request came from, for audit events: API Gateway's request ID,
/// the client's IP address and its `User-Agent`. What the client controls is
/// recorded as data ([`recorded_header_text`]): cut, controls replaced.
pub fn origin(request: &Request) -> Origin {
    let (request_id, source_ip, user_agent) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            (&ctx.request_id, &ctx.http.source_ip, &ctx.http.user_agent)
        }
        Some(RequestContext::ApiGatewayV1(ctx)) => (
            &ctx.request_id,
            &ctx.identity.source_ip,
            &ctx.identity.user_agent,
        ),
        _ => return Origin::default(),
    };
    let recorded = |value: &Option<String>| value.as_deref().map(recorded_header_text);
    Origin {
        request_id: recorded(request_id),
        source_ip: recorded(source_ip),
        user_agent: recorded(user_agent),
    }
}

/// The audit draft for the change `caller` makes with `request` at `now`,
/// its event kept for `retention`.
pub fn audit_draft(
    request: &Request,
    caller: &Caller,
    now: DateTime<Utc>,
    retention: Retention,
) -> Result<Draft, Problem> {
    Ok(Draft::new(caller.actor(), origin(request), now, retention)?)
}

/// Listings return at most this many items unless `limit` says otherwise.
pub const DEFAULT_PAGE_LIMIT: usize = 50;
/// The largest `limit` a listing accepts.
pub const MAX_PAGE_LIMIT: usize = 100;

/// Where a listing's page starts and how long it is: the `limit` and `cursor`
/// query parameters. A cursor is bound to its listing's `owner` (the
/// organization, or a name for a listing of organizations) and to `query`, the
/// filters it was issued for (not the limit, which may change between pages).
/// Only the cursor's seal reads the owner: it is no store call's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    /// The position the cursor resumes after.
    pub after: Option<String>,
    owner: String,
    query: String,
}

impl Page {
    /// Reads `limit` and `cursor`, adding a field error for each bad one.
    pub fn of(request: &Request, owner: &str, query: String, errors: &mut Vec<FieldError>) -> Page {
        let params = request.query_string_parameters();
        let limit = match params.first("limit").map(str::parse::<usize>) {
            None => DEFAULT_PAGE_LIMIT,
            Some(Ok(limit)) if (1..=MAX_PAGE_LIMIT).contains(&limit) => limit,
            Some(_) => {
                errors.push(FieldError::parameter(
                    "limit",
                    format!("must be an integer from 1 to {MAX_PAGE_LIMIT}"),
                ));
                DEFAULT_PAGE_LIMIT
            }
        };
        let after = params.first("cursor").and_then(|text| {
            crate::cursor::decode(text, owner, &query)
                .inspect_err(|_| {
                    errors.push(FieldError::parameter(
                        "cursor",
                        "is not a cursor this API issued for this query; start again without it",
                    ))
                })
                .ok()
        });
        Page {
            limit,
            after,
            owner: owner.to_owned(),
            query,
        }
    }

    /// The cursor of the next page, which resumes after `after`.
    pub fn next_cursor(&self, after: &str) -> String {
        crate::cursor::encode(&self.owner, &self.query, after)
    }
}

/// The path parameter `name` as an ID ([`orgkeys_api::OrgId`],
/// [`orgkeys_api::ScheduleId`], ...), parsed here, once: a malformed one is
/// the field error that names the parameter and the ID rule.
pub fn path_id<T: std::str::FromStr<Err = orgkeys_api::ids::InvalidId>>(
    request: &Request,
    name: &str,
) -> Result<T, FieldError> {
    path_param(request, name)
        .parse()
        .map_err(|_| FieldError::parameter(name, orgkeys_api::ids::ID_RULE))
}

/// A path parameter, or empty when absent (which every ID check rejects).
pub fn path_param(request: &Request, name: &str) -> String {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .unwrap_or_default()
        .to_owned()
}

/// Parses a JSON body of at most `limit` bytes: one object (see [`Object`]),
/// with nothing after it but whitespace. An empty body counts as `{}`, so
/// routes whose fields are all optional accept no body at all.
pub fn json_body<T: DeserializeOwned>(request: &Request, limit: usize) -> Result<T, Problem> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > limit {
        return Err(Problem::payload_too_large(limit));
    }
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let body: Result<Object<T>, _> = serde_path_to_error::deserialize(&mut *deserializer);
    let body = body.map(|Object(body)| body).map_err(|err| {
        let pointer = json_pointer(err.path());
        let inner = err.inner();
        if !inner.is_data() {
            // Not JSON at all: serde's message names the line and column.
            return Problem::malformed_body(inner.to_string(), Vec::new());
        }
        let rule = in_api_terms(&inner.to_string());
        if pointer.is_empty() {
            return Problem::malformed_body(format!("the body {rule}"), Vec::new());
        }
        let detail = format!("{pointer} {rule}");
        Problem::malformed_body(detail, vec![FieldError::body(pointer, rule)])
    })?;
    // One JSON value per body: a second value or text after it is refused,
    // not ignored (serde's message names where it starts).
    deserializer
        .end()
        .map_err(|err| Problem::malformed_body(err.to_string(), Vec::new()))?;
    Ok(body)
}

/// A serde data error (`invalid type: string "60", expected i64 at line 1
/// column 27`) in the API's words (`must be an integer`): no Rust type names,
/// and nothing of the client's input echoed back.
fn in_api_terms(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or_default();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let expected = rest.split_once("expected ").map_or("", |(_, e)| e);
        return format!(
            "is not a field of this body; expected {}",
            expected.replace('`', "")
        );
    }
    let expected = message.rsplit_once("expected ").map_or("", |(_, e)| e);
    let kind = match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        "a string" | "a borrowed string" | "string" => "a string",
        "a boolean" => "true or false",
        "a sequence" => "an array",
        "a map" => "an object",
        other if other.starts_with("struct ") => "an object",
        _ => "of another type or value",
    };
    format!("must be {kind}")
}

/// serde_path_to_error's path (`contacts[3].phone`) as a JSON pointer (`/contacts/3/phone`).
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

/// [`json_body`] for routes whose body says what to do (a merge patch): an
/// empty body is a 400, not an empty change.
pub fn required_json_body<T: DeserializeOwned>(
    request: &Request,
    limit: usize,
) -> Result<T, Problem> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed_body(
            "a JSON body is required (a merge patch: the fields to change)",
            Vec::new(),
        ));
    }
    json_body(request, limit)
}

pub use orgkeys_api::body::Object;

/// A JSON response with the given status.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response types serialize");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid")
}

/// A JSON response that carries a secret shown once (a key, a signing
/// secret): no cache between the admin and us may keep it.
pub fn secret_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let mut response = json_response(status, value);
    response.headers_mut().insert(
        lambda_http::http::header::CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// 204 with no body.
pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("static response parts are valid")
}

/// Turns a handler's result into the response Lambda returns: problems become
/// problem+json bodies, so API Gateway never has to invent an error of its own.
pub fn respond(result: Result<Response<Body>, Problem>) -> Response<Body> {
    result.unwrap_or_else(Problem::into_response)
}

/// The organization `org_id`, or the 404 that says there is none: for the
/// routes that need it to exist before they do anything.
pub async fn existing_organization(
    store: &crate::dynamo::Store,
    org_id: &OrgId,
) -> Result<crate::organizations::Organization, Problem> {
    store
        .get_organization(org_id)
        .await?
        .ok_or_else(Problem::no_organization)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        grace_period_seconds: Option<i64>,
        contacts: Option<Vec<Contact>>,
        nested: Option<Object<Contact>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Contact {
        phone: Option<String>,
    }

    fn problem(body: &str) -> Problem {
        let request = lambda_http::http::Request::builder()
            .body(lambda_http::Body::Text(body.to_owned()))
            .unwrap();
        json_body::<Input>(&request, 1024).unwrap_err()
    }

    #[test]
    fn type_errors_are_told_in_the_apis_terms_with_a_pointer_and_no_echo() {
        let p = problem(r#"{"gracePeriodSeconds":"60"}"#);
        assert_eq!(
            p.errors,
            [FieldError::body(
                "/gracePeriodSeconds",
                "must be an integer"
            )]
        );
        assert_eq!(p.detail, "/gracePeriodSeconds must be an integer");
        let p = problem(r#"{"contacts":{"phone":"+353861234567"}}"#);
        assert_eq!(
            p.errors,
            [FieldError::body("/contacts", "must be an array")]
        );
        let p = problem(r#"{"contacts":[{"phone":353861234567}]}"#);
        assert_eq!(
            p.errors,
            [FieldError::body("/contacts/0/phone", "must be a string")]
        );
        for p in [
            problem(r#"{"gracePeriodSeconds":"60"}"#),
            problem(r#"{"contacts":[{"phone":353861234567}]}"#),
        ] {
            let text = serde_json::to_string(&p).unwrap();
            for rust in ["i64", "String", "sequence", "353861234567", "\"60\""] {
                assert!(!text.contains(rust), "{rust} in {text}");
            }
        }
    }

    #[test]
    fn a_nested_object_must_be_an_object_and_its_errors_point_inside_it() {
        let p = problem(r#"{"nested":["+353861234567"]}"#);
        assert_eq!(p.errors, [FieldError::body("/nested", "must be an object")]);
        let p = problem(r#"{"nested":{"phone":1}}"#);
        assert_eq!(
            p.errors,
            [FieldError::body("/nested/phone", "must be a string")]
        );
        let request = lambda_http::http::Request::builder()
            .body(lambda_http::Body::Text(
                r#"{"nested":{"phone":"+1"}}"#.to_owned(),
            ))
            .unwrap();
        let input: Input = json_body(&request, 1024).unwrap();
        assert_eq!(input.nested.unwrap().0.phone.as_deref(), Some("+1"));
    }

    #[test]
    fn header_derived_audit_fields_are_cut_and_cleaned_before_they_are_recorded() {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        let with_agent = |agent: &str| {
            let mut context = ApiGatewayV2httpRequestContext::default();
            context.http.user_agent = Some(agent.to_owned());
            context.http.source_ip = Some("192.0.2.1\u{202e}".to_owned());
            lambda_http::http::Request::builder()
                .body(lambda_http::Body::Empty)
                .unwrap()
                .with_request_context(RequestContext::ApiGatewayV2(context))
        };
        let seen = origin(&with_agent("curl/8\u{202e}gpj.exe\u{85}\u{200b}\u{1b}[2J"));
        assert_eq!(
            seen.user_agent.as_deref(),
            Some("curl/8\u{fffd}gpj.exe\u{fffd}\u{fffd}\u{fffd}[2J")
        );
        assert_eq!(seen.source_ip.as_deref(), Some("192.0.2.1\u{fffd}"));
        let long = format!("a{}", "é".repeat(100_000));
        let agent = origin(&with_agent(&long)).user_agent.unwrap();
        assert!(agent.len() <= 512 && agent.len() >= 510, "{}", agent.len());
        assert!(long.starts_with(&agent));
    }

    #[test]
    fn anything_after_the_json_value_but_whitespace_is_a_malformed_body() {
        for body in [
            r#"{"gracePeriodSeconds":1} garbage"#,
            r#"{"gracePeriodSeconds":1}{"gracePeriodSeconds":2}"#,
            r#"{"contacts":[]}[]"#,
            "{} 1",
        ] {
            let p = problem(body);
            assert_eq!(p.status, 400, "{body}: {p:?}");
            assert_eq!(
                p.problem_type, "urn:orgkeys:problem:malformed-body",
                "{body}: {p:?}"
            );
            assert!(p.errors.is_empty(), "{body}: {p:?}");
        }
        let request = lambda_http::http::Request::builder()
            .body(lambda_http::Body::Text(
                "{\"gracePeriodSeconds\":1} \r\n\t ".to_owned(),
            ))
            .unwrap();
        let input: Input = json_body(&request, 1024).unwrap();
        assert_eq!(input.grace_period_seconds, Some(1));
    }

    #[test]
    fn unknown_fields_name_the_expected_ones_and_bad_json_keeps_line_and_column() {
        let p = problem(r#"{"expires_at":"x"}"#);
        assert_eq!(p.errors.len(), 1);
        assert!(
            p.errors[0]
                .detail
                .starts_with("is not a field of this body; expected"),
            "{p:?}"
        );
        let p = problem("{\"gracePeriodSeconds\": 1,,}");
        assert!(p.detail.contains("line 1 column"), "{}", p.detail);
        let p = problem("[]");
        assert_eq!(p.detail, "the body must be an object");
        let p = problem("[60]");
        assert_eq!(p.detail, "the body must be an object");
    }
}
