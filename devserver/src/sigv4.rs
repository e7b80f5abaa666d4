//! SigV4 on the local gateway's admin routes, as API Gateway checks `AWS_IAM`:
//! with `ORGKEYS_LOCAL_IAM=ACCESS_KEY_ID:SECRET_ACCESS_KEY` set, a request
//! signed by that key pair for service `execute-api` in `AWS_REGION` (default
//! `us-east-1`) runs as [`LOCAL_IAM_ARN`](crate::principal::LOCAL_IAM_ARN), so the IAM path production uses is
//! exercised before deploying.
//!
//! Two steps, so that a request that cannot verify never has its body read:
//! [`LocalIam::admit`] checks the headers alone (the `Authorization` header's
//! form, the access key, the scope, the date within five minutes of now,
//! either way, and the signed headers present); [`LocalIam::verify`] then
//! signs the request again with the `aws-sigv4` crate (the signer the AWS SDKs
//! use; no hand-written crypto): the same method, path, query, headers the
//! client says it signed, payload and time, and compares the signatures.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use hyper::HeaderMap;
use std::time::{Duration, SystemTime};

/// How far a signature's time may be from the gateway's clock, as in AWS.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// The service admin routes' signatures name, as API Gateway's do.
const SERVICE: &str = "execute-api";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The key pair admin routes accept signatures of.
#[derive(Clone)]
pub struct LocalIam {
    access_key_id: String,
    secret_access_key: String,
    region: String,
    service: &'static str,
}

impl std::fmt::Debug for LocalIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIam")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Why a signed request was refused, in API Gateway's words (its `message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    UnknownKey,
    WrongScope,
    Expired,
    Mismatch,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => {
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters, and an X-Amz-Date header."
            }
            Refusal::UnknownKey => "The security token included in the request is invalid.",
            Refusal::WrongScope => "Credential should be scoped to a valid region and service.",
            Refusal::Expired => {
                "Signature expired: the request time is more than 5 minutes away from the server's."
            }
            Refusal::Mismatch => {
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
            }
        }
    }
}

/// A request whose headers could carry a valid signature of the local key
/// pair: what [`LocalIam::admit`] read, for [`LocalIam::verify`].
pub struct Plausible<'a> {
    presented: Presented<'a>,
    signed_at: SystemTime,
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
struct Presented<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse(authorization: &str) -> Option<Presented<'_>> {
    let rest = authorization.strip_prefix(ALGORITHM)?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let presented = Presented {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    };
    (scope.next() == Some("aws4_request") && scope.next().is_none()).then_some(presented)
}

/// `20261126T101500Z` as a time.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let at = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ").ok()?;
    let seconds = u64::try_from(at.and_utc().timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

impl LocalIam {
    pub fn new(access_key_id: &str, secret_access_key: &str, region: &str) -> LocalIam {
        LocalIam {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            region: region.to_owned(),
            service: SERVICE,
        }
    }

    /// The same key pair, for signatures that name `service` (the local
    /// Cognito proxy's `cognito-idp`).
    pub fn for_service(mut self, service: &'static str) -> LocalIam {
        self.service = service;
        self
    }

    /// `ORGKEYS_LOCAL_IAM` (`ACCESS_KEY_ID:SECRET_ACCESS_KEY`) in `AWS_REGION`
    /// (default `us-east-1`); `None` when unset.
    pub fn from_env() -> Result<Option<LocalIam>, String> {
        let Ok(pair) = std::env::var("ORGKEYS_LOCAL_IAM") else {
            return Ok(None);
        };
        let (id, secret) = pair
            .split_once(':')
            .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
            .ok_or("ORGKEYS_LOCAL_IAM must be ACCESS_KEY_ID:SECRET_ACCESS_KEY")?;
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        Ok(Some(LocalIam::new(id, secret, &region)))
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Checks a SigV4 request's headers at `now`: everything but the
    /// signature itself, which needs the body.
    pub fn admit<'a>(
        &self,
        headers: &'a HeaderMap,
        now: SystemTime,
    ) -> Result<Plausible<'a>, Refusal> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let presented = header("authorization")
            .and_then(parse)
            .ok_or(Refusal::Malformed)?;
        let amz_date = header("x-amz-date").ok_or(Refusal::Malformed)?;
        let signed_at = parse_amz_date(amz_date).ok_or(Refusal::Malformed)?;
        if presented.access_key_id != self.access_key_id {
            return Err(Refusal::UnknownKey);
        }
        if presented.service != self.service
            || presented.region != self.region
            || !amz_date.starts_with(presented.date)
        {
            return Err(Refusal::WrongScope);
        }
        let skew = now
            .duration_since(signed_at)
            .or_else(|_| signed_at.duration_since(now))
            .unwrap_or_default();
        if skew > CLOCK_SKEW {
            return Err(Refusal::Expired);
        }
        if header("host").is_none() {
            return Err(Refusal::Malformed);
        }
        let named = |name: &&str| headers.contains_key(*name);
        if !presented.signed_headers.iter().all(named) {
            return Err(Refusal::Mismatch);
        }
        Ok(Plausible {
            presented,
            signed_at,
        })
    }

    /// Checks the signature of a request [`admit`](Self::admit) let through.
    /// `uri` is the path and query as received.
    pub fn verify(
        &self,
        method: &str,
        uri: &str,
        headers: &HeaderMap,
        plausible: &Plausible<'_>,
        body: &[u8],
    ) -> Result<(), Refusal> {
        let Plausible {
            presented,
            signed_at,
        } = plausible;
        let expected = self.signature(method, uri, headers, presented, body, *signed_at)?;
        // Hashing both sides makes the comparison constant-time.
        if blake3::hash(expected.as_bytes()) == blake3::hash(presented.signature.as_bytes()) {
            Ok(())
        } else {
            Err(Refusal::Mismatch)
        }
    }

    /// The signature of the request as the client says it signed it: only
    /// the headers it names, at the time it names.
    fn signature(
        &self,
        method: &str,
        uri: &str,
        headers: &HeaderMap,
        presented: &Presented<'_>,
        body: &[u8],
        signed_at: SystemTime,
    ) -> Result<String, Refusal> {
        let host = headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .ok_or(Refusal::Malformed)?;
        let token = headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok());
        let mut signed = Vec::new();
        for name in &presented.signed_headers {
            let values = headers.get_all(*name);
            let mut joined = Vec::new();
            for value in values {
                joined.push(value.to_str().map_err(|_| Refusal::Mismatch)?);
            }
            if joined.is_empty() {
                return Err(Refusal::Mismatch);
            }
            signed.push((*name, joined.join(",")));
        }
        let identity = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            token.map(str::to_owned),
            None,
            "orgkeys-local-iam",
        )
        .into();
        let mut settings = SigningSettings::default();
        // Sign exactly what the client signed, nothing the signer would leave out.
        settings.excluded_headers = Some(Vec::new());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(signed_at)
            .settings(settings)
            .build()
            .map_err(|_| Refusal::Malformed)?
            .into();
        let url = format!("http://{host}{uri}");
        let request = SignableRequest::new(
            method,
            url,
            signed.iter().map(|(name, value)| (*name, value.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|_| Refusal::Malformed)?;
        let output = sign(request, &params).map_err(|_| Refusal::Mismatch)?;
        Ok(output.signature().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorization_header_is_taken_apart_or_refused() {
        let text = "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let presented = parse(text).unwrap();
        assert_eq!(presented.access_key_id, "AKID");
        assert_eq!(presented.region, "us-east-1");
        assert_eq!(presented.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(presented.signature, "abc");
        assert!(parse("Bearer token").is_none());
        assert!(parse("AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/execute-api, SignedHeaders=host, Signature=abc").is_none());
        assert_eq!(
            parse_amz_date("20261126T101500Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_688_100))
        );
        assert!(parse_amz_date("2026-11-26").is_none());
    }
}
