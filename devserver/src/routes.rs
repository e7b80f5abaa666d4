//! The route table: every route of the API, which function serves it and how
//! it is authorized. `template.yaml` and `openapi.yaml` declare the same
//! routes; `devserver/tests/routes.rs` fails if the three disagree.

/// The Lambda function behind a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Keygen,
    Schedules,
    Dispatch,
}

impl Function {
    /// The binary (and cargo package) name.
    pub fn name(self) -> &'static str {
        match self {
            Function::Keygen => "keygen",
            Function::Schedules => "schedules",
            Function::Dispatch => "dispatch",
        }
    }
}

/// How API Gateway authorizes a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Auth {
    /// `AWS_IAM` (SigV4); locally, the admin token.
    Iam,
    /// The orgkeys Lambda authorizer (an organization API key).
    OrgKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub auth: Auth,
}

impl Route {
    /// API Gateway's route key, `"METHOD /path/{param}"`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn route(method: &'static str, path: &'static str, function: Function, auth: Auth) -> Route {
    Route {
        method,
        path,
        function,
        auth,
    }
}

pub const ROUTES: &[Route] = &[
    route(
        "PUT",
        "/v1/admin/organizations/{orgId}",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "GET",
        "/v1/admin/organizations/{orgId}",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "POST",
        "/v1/admin/organizations/{orgId}/api-keys",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "GET",
        "/v1/admin/organizations/{orgId}/api-keys",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "DELETE",
        "/v1/admin/organizations/{orgId}/api-keys/{keyId}",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "POST",
        "/v1/admin/organizations/{orgId}/api-keys/{keyId}/roll",
        Function::Keygen,
        Auth::Iam,
    ),
    route(
        "PUT",
        "/v1/admin/organizations/{orgId}/schedules/{scheduleId}",
        Function::Schedules,
        Auth::Iam,
    ),
    route(
        "DELETE",
        "/v1/admin/organizations/{orgId}/schedules/{scheduleId}",
        Function::Schedules,
        Auth::Iam,
    ),
    route("GET", "/v1/schedules", Function::Schedules, Auth::OrgKey),
    route(
        "GET",
        "/v1/schedules/{scheduleId}",
        Function::Schedules,
        Auth::OrgKey,
    ),
    route(
        "POST",
        "/v1/conversations/outbound",
        Function::Dispatch,
        Auth::OrgKey,
    ),
    route(
        "GET",
        "/v1/conversations/{conversationId}",
        Function::Dispatch,
        Auth::OrgKey,
    ),
];

/// The route matching `method` and `path`, with its path parameters.
/// Literal segments must match exactly; `{name}` segments take any non-empty segment.
pub fn find(method: &str, path: &str) -> Option<(&'static Route, Vec<(&'static str, String)>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|route| {
            let pattern: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
            if pattern.len() != segments.len() {
                return None;
            }
            let mut params = Vec::new();
            for (want, got) in pattern.iter().zip(&segments) {
                match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    Some(name) if !got.is_empty() => params.push((name, percent_decode(got))),
                    Some(_) => return None,
                    None if want == got => {}
                    None => return None,
                }
            }
            Some((route, params))
        })
}

/// `%XX` escapes decoded: API Gateway hands path and query parameters to
/// functions decoded. Invalid escapes stay as they are.
pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_and_parameters_are_extracted() {
        let (route, params) =
            find("POST", "/v1/admin/organizations/acme/api-keys/key_1/roll").unwrap();
        assert_eq!(
            route.path,
            "/v1/admin/organizations/{orgId}/api-keys/{keyId}/roll"
        );
        assert_eq!(
            params,
            [("orgId", "acme".to_owned()), ("keyId", "key_1".to_owned())]
        );
        let (route, _) = find("GET", "/v1/schedules").unwrap();
        assert_eq!(route.function, Function::Schedules);
        assert_eq!(
            find("GET", "/v1/schedules/a%20b").unwrap().1,
            [("scheduleId", "a b".to_owned())]
        );
    }

    #[test]
    fn unknown_paths_methods_and_empty_segments_match_nothing() {
        assert!(find("PATCH", "/v1/schedules").is_none());
        assert!(find("GET", "/v1/schedules/").is_none());
        assert!(find("GET", "/v1/nothing").is_none());
        assert!(find("GET", "/v1/schedules/a/b").is_none());
        assert!(find("GET", "").is_none());
    }
}
