//! The route table: every route of the API, the operation it is, the function
//! that serves it and who may call it. The functions route on it, the local
//! gateway matches requests with it, and a test checks that `template.yaml`
//! and `openapi.yaml` declare exactly these routes with the same protection.

use crate::Scope;

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

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// An administrator: `AWS_IAM` (SigV4) at API Gateway; locally, the admin token.
    Admin,
    /// An organization API key carrying this scope, checked by the orgkeys authorizer.
    Key(Scope),
    /// Any valid organization API key, whatever its scopes.
    AnyKey,
    /// GitHub's secret-scanning partner program: no authorizer at API
    /// Gateway; the function verifies GitHub's ECDSA signature of the body
    /// and does nothing for a request whose signature fails.
    GitHubSignature,
    /// An organization's user, signed in with OpenID Connect: API Gateway's
    /// JWT authorizer (Cognito by default). `org-viewer` may read (`GET`),
    /// `org-admin` may also change; both only within their organization's tree.
    User,
    /// Any signed-in user, whatever their organization and role.
    AnyUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    /// API Gateway's route key, `"METHOD /path/{param}"`.
    pub key: &'static str,
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    pub method: &'static str,
    /// The path template, `{name}` for a parameter.
    pub path: &'static str,
    pub function: Function,
    pub access: Access,
}

/// Declares [`Operation`] and [`ROUTES`] together, in the same order, so an
/// operation's discriminant is its index in the table ([`route`] is `const`).
macro_rules! routes {
    ($($operation:ident $id:literal: $method:literal $path:literal => $function:ident, $access:expr;)+) => {
        /// What a route does; the variants are the OpenAPI `operationId`s.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($operation),+
        }

        /// Every route of the API.
        pub const ROUTES: &[Route] = &[$(Route {
            operation: Operation::$operation,
            key: concat!($method, " ", $path),
            operation_id: $id,
            method: $method,
            path: $path,
            function: Function::$function,
            access: $access,
        }),+];
    };
}

routes! {
    ListOrganizations "listOrganizations": "GET" "/v1/admin/organizations" => Keygen, Access::Admin;
    PutOrganization "putOrganization": "PUT" "/v1/admin/organizations/{orgId}" => Keygen, Access::Admin;
    GetOrganization "getOrganization": "GET" "/v1/admin/organizations/{orgId}" => Keygen, Access::Admin;
    UpdateOrganization "updateOrganization": "PATCH" "/v1/admin/organizations/{orgId}" => Keygen, Access::Admin;
    DeleteOrganization "deleteOrganization": "DELETE" "/v1/admin/organizations/{orgId}" => Keygen, Access::Admin;
    CreateApiKey "createApiKey": "POST" "/v1/admin/organizations/{orgId}/api-keys" => Keygen, Access::Admin;
    ListApiKeys "listApiKeys": "GET" "/v1/admin/organizations/{orgId}/api-keys" => Keygen, Access::Admin;
    GetApiKey "getApiKey": "GET" "/v1/admin/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::Admin;
    UpdateApiKey "updateApiKey": "PATCH" "/v1/admin/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::Admin;
    DeleteApiKey "deleteApiKey": "DELETE" "/v1/admin/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::Admin;
    RollApiKey "rollApiKey": "POST" "/v1/admin/organizations/{orgId}/api-keys/{keyId}/roll" => Keygen, Access::Admin;
    RevokeLeakedApiKey "revokeLeakedApiKey": "POST" "/v1/admin/api-keys/revoke" => Keygen, Access::Admin;
    ListAuditEvents "listAuditEvents": "GET" "/v1/admin/organizations/{orgId}/audit-events" => Keygen, Access::Admin;
    GetOrganizationUsage "getOrganizationUsage": "GET" "/v1/admin/organizations/{orgId}/usage" => Keygen, Access::Admin;
    ListUsers "listUsers": "GET" "/v1/admin/organizations/{orgId}/users" => Keygen, Access::Admin;
    InviteUser "inviteUser": "POST" "/v1/admin/organizations/{orgId}/users" => Keygen, Access::Admin;
    UpdateUser "updateUser": "PATCH" "/v1/admin/organizations/{orgId}/users/{userId}" => Keygen, Access::Admin;
    RemoveUser "removeUser": "DELETE" "/v1/admin/organizations/{orgId}/users/{userId}" => Keygen, Access::Admin;
    ListOrganizationSchedules "listOrganizationSchedules": "GET" "/v1/admin/organizations/{orgId}/schedules" => Schedules, Access::Admin;
    PutSchedule "putSchedule": "PUT" "/v1/admin/organizations/{orgId}/schedules/{scheduleId}" => Schedules, Access::Admin;
    DeleteSchedule "deleteSchedule": "DELETE" "/v1/admin/organizations/{orgId}/schedules/{scheduleId}" => Schedules, Access::Admin;
    ListSchedules "listSchedules": "GET" "/v1/schedules" => Schedules, Access::Key(Scope::SchedulesRead);
    GetSchedule "getSchedule": "GET" "/v1/schedules/{scheduleId}" => Schedules, Access::Key(Scope::SchedulesRead);
    DispatchOutbound "dispatchOutbound": "POST" "/v1/conversations/outbound" => Dispatch, Access::Key(Scope::ConversationsWrite);
    GetConversation "getConversation": "GET" "/v1/conversations/{conversationId}" => Dispatch, Access::Key(Scope::ConversationsRead);
    GetUsage "getUsage": "GET" "/v1/usage" => Dispatch, Access::AnyKey;
    GetConsoleMe "getConsoleMe": "GET" "/v1/console/me" => Keygen, Access::AnyUser;
    ListConsoleOrganizations "listConsoleOrganizations": "GET" "/v1/console/organizations" => Keygen, Access::User;
    CreateConsoleOrganization "createConsoleOrganization": "POST" "/v1/console/organizations" => Keygen, Access::User;
    GetConsoleOrganization "getConsoleOrganization": "GET" "/v1/console/organizations/{orgId}" => Keygen, Access::User;
    UpdateConsoleOrganization "updateConsoleOrganization": "PATCH" "/v1/console/organizations/{orgId}" => Keygen, Access::User;
    CreateConsoleApiKey "createConsoleApiKey": "POST" "/v1/console/organizations/{orgId}/api-keys" => Keygen, Access::User;
    ListConsoleApiKeys "listConsoleApiKeys": "GET" "/v1/console/organizations/{orgId}/api-keys" => Keygen, Access::User;
    GetConsoleApiKey "getConsoleApiKey": "GET" "/v1/console/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::User;
    UpdateConsoleApiKey "updateConsoleApiKey": "PATCH" "/v1/console/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::User;
    DeleteConsoleApiKey "deleteConsoleApiKey": "DELETE" "/v1/console/organizations/{orgId}/api-keys/{keyId}" => Keygen, Access::User;
    RollConsoleApiKey "rollConsoleApiKey": "POST" "/v1/console/organizations/{orgId}/api-keys/{keyId}/roll" => Keygen, Access::User;
    ListConsoleSchedules "listConsoleSchedules": "GET" "/v1/console/organizations/{orgId}/schedules" => Schedules, Access::User;
    GetConsoleUsage "getConsoleUsage": "GET" "/v1/console/organizations/{orgId}/usage" => Keygen, Access::User;
    ListConsoleAuditEvents "listConsoleAuditEvents": "GET" "/v1/console/organizations/{orgId}/audit-events" => Keygen, Access::User;
    ReportLeakedKeys "reportLeakedKeys": "POST" "/v1/secret-scanning/github" => Keygen, Access::GitHubSignature;
    ListConsoleUsers "listConsoleUsers": "GET" "/v1/console/organizations/{orgId}/users" => Keygen, Access::User;
    InviteConsoleUser "inviteConsoleUser": "POST" "/v1/console/organizations/{orgId}/users" => Keygen, Access::User;
    UpdateConsoleUser "updateConsoleUser": "PATCH" "/v1/console/organizations/{orgId}/users/{userId}" => Keygen, Access::User;
    RemoveConsoleUser "removeConsoleUser": "DELETE" "/v1/console/organizations/{orgId}/users/{userId}" => Keygen, Access::User;
    CreateWebhookEndpoint "createWebhookEndpoint": "POST" "/v1/admin/organizations/{orgId}/webhooks" => Keygen, Access::Admin;
    ListWebhookEndpoints "listWebhookEndpoints": "GET" "/v1/admin/organizations/{orgId}/webhooks" => Keygen, Access::Admin;
    GetWebhookEndpoint "getWebhookEndpoint": "GET" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::Admin;
    UpdateWebhookEndpoint "updateWebhookEndpoint": "PATCH" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::Admin;
    DeleteWebhookEndpoint "deleteWebhookEndpoint": "DELETE" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::Admin;
    RollWebhookSecret "rollWebhookSecret": "POST" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}/roll-secret" => Keygen, Access::Admin;
    SendTestWebhook "sendTestWebhook": "POST" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}/test" => Keygen, Access::Admin;
    ListWebhookMessages "listWebhookMessages": "GET" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}/messages" => Keygen, Access::Admin;
    ResendWebhookMessage "resendWebhookMessage": "POST" "/v1/admin/organizations/{orgId}/webhooks/{endpointId}/messages/{messageId}/resend" => Keygen, Access::Admin;
    CreateConsoleWebhookEndpoint "createConsoleWebhookEndpoint": "POST" "/v1/console/organizations/{orgId}/webhooks" => Keygen, Access::User;
    ListConsoleWebhookEndpoints "listConsoleWebhookEndpoints": "GET" "/v1/console/organizations/{orgId}/webhooks" => Keygen, Access::User;
    GetConsoleWebhookEndpoint "getConsoleWebhookEndpoint": "GET" "/v1/console/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::User;
    UpdateConsoleWebhookEndpoint "updateConsoleWebhookEndpoint": "PATCH" "/v1/console/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::User;
    DeleteConsoleWebhookEndpoint "deleteConsoleWebhookEndpoint": "DELETE" "/v1/console/organizations/{orgId}/webhooks/{endpointId}" => Keygen, Access::User;
    RollConsoleWebhookSecret "rollConsoleWebhookSecret": "POST" "/v1/console/organizations/{orgId}/webhooks/{endpointId}/roll-secret" => Keygen, Access::User;
    SendConsoleTestWebhook "sendConsoleTestWebhook": "POST" "/v1/console/organizations/{orgId}/webhooks/{endpointId}/test" => Keygen, Access::User;
    ListConsoleWebhookMessages "listConsoleWebhookMessages": "GET" "/v1/console/organizations/{orgId}/webhooks/{endpointId}/messages" => Keygen, Access::User;
    ResendConsoleWebhookMessage "resendConsoleWebhookMessage": "POST" "/v1/console/organizations/{orgId}/webhooks/{endpointId}/messages/{messageId}/resend" => Keygen, Access::User;
    ReportConversationStatus "reportConversationStatus": "POST" "/v1/admin/organizations/{orgId}/conversations/{conversationId}/status" => Dispatch, Access::Admin;
}

/// The route of `operation`; usable in `const`s (`route(Operation::GetSchedule).key`).
pub const fn route(operation: Operation) -> &'static Route {
    &ROUTES[operation as usize]
}

/// The route with API Gateway's route key `key` (`"GET /v1/schedules/{scheduleId}"`).
pub fn by_key(key: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.key == key)
}

/// The route matching a request's `method` and raw `path`, with its path
/// parameters percent-decoded (as API Gateway hands them to functions).
/// Literal segments must match exactly; `{name}` takes any non-empty segment.
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

/// `%XX` escapes decoded; invalid escapes stay as they are.
pub fn percent_decode(segment: &str) -> String {
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
        assert_eq!(route.operation, Operation::RollApiKey);
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

    #[test]
    fn every_route_is_found_by_its_key_and_keys_and_operations_are_unique() {
        for route in ROUTES {
            assert_eq!(by_key(route.key), Some(route));
            assert_eq!(super::route(route.operation), route);
            assert_eq!(route.key, format!("{} {}", route.method, route.path));
            let same = |r: &&Route| r.operation == route.operation || r.key == route.key;
            assert_eq!(ROUTES.iter().filter(same).count(), 1, "{}", route.key);
        }
        assert_eq!(by_key("GET /v1/schedules/{id}"), None);
        assert_eq!(by_key("nonsense"), None);
    }
}
