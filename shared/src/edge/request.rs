//! Requests and responses at the HTTP edge: which route was called and by
//! whom, path parameters, bounded JSON bodies in, JSON bodies out.

use crate::edge::caller::Caller;
use crate::edge::problem::{FieldError, Problem};
use crate::routes::{self, Function, Route};
use lambda_http::http::{StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
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

/// The route a request is for, if `function` serves it, and its caller, if
/// the route's access admits them (see [`Caller::of`]).
pub fn authorize(
    request: &Request,
    function: Function,
) -> Result<(&'static Route, Caller), Problem> {
    let key = route_key(request).unwrap_or_default();
    let route = routes::by_key(&key)
        .filter(|route| route.function == function)
        .ok_or_else(|| Problem::not_found(format!("no route {key}")))?;
    Ok((route, Caller::of(request, route.access)?))
}

/// A path parameter, or empty when absent (which every ID check rejects).
pub fn path_param(request: &Request, name: &str) -> String {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .unwrap_or_default()
        .to_owned()
}

/// Parses a JSON body of at most `limit` bytes. An empty body counts as `{}`,
/// so routes whose fields are all optional accept no body at all.
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
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let pointer = json_pointer(err.path());
        let detail = err.inner().to_string();
        let errors = if pointer.is_empty() {
            Vec::new()
        } else {
            vec![FieldError::body(pointer, detail.clone())]
        };
        Problem::malformed_body(detail, errors)
    })
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

/// A JSON response with the given status.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response types serialize");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid")
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
