//! Who an admin request runs as locally, as audit events name it: below
//! the gateway and the demo alike, which both use it.

/// The principal a request with the admin token runs as locally (in AWS: the
/// SigV4 signer's ARN).
pub const LOCAL_ADMIN: &str = "local-admin";

/// The IAM principal a request signed with the local key pair runs as.
pub const LOCAL_IAM_ARN: &str = "arn:aws:iam::000000000000:user/local-admin";
