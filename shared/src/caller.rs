//! Who is calling, as API Gateway's authorizer context tells it.
//!
//! Admin routes are protected by `AWS_IAM` at API Gateway; the handlers still
//! demand the IAM context it attaches and refuse a request without it, so a
//! function wired to a route without IAM auth fails closed rather than open.

use crate::problem::Problem;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The IAM principal (user or role ARN) that signed an admin request.
pub fn admin_principal(request: &Request) -> Result<String, Problem> {
    let principal = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|auth| auth.iam.as_ref())
            .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone())),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx
            .identity
            .user_arn
            .clone()
            .or_else(|| ctx.identity.caller.clone()),
        _ => None,
    };
    principal
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Problem::unauthorized("admin routes require IAM (SigV4) authorization"))
}
