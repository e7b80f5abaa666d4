//! Signing secrets sealed with KMS: the table keeps only the ciphertext, and
//! the encryption context binds it to its organization and endpoint, so a
//! ciphertext copied onto another endpoint does not open. In AWS the key is
//! the stack's; locally, one the gateway makes on moto's KMS.

use crate::StoreError;
use aws_sdk_kms::primitives::Blob;
use orgkeys_api::OrgId;

/// Seals and opens signing secrets with one KMS key.
#[derive(Debug, Clone)]
pub struct SecretBox {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl SecretBox {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> SecretBox {
        SecretBox {
            client,
            key_id: key_id.into(),
        }
    }

    /// The KMS client configured from `config`, the service endpoint as
    /// [`crate::dynamo::config::service_endpoint`] finds it.
    pub fn from_config(config: &aws_config::SdkConfig, key_id: impl Into<String>) -> SecretBox {
        let mut builder = aws_sdk_kms::config::Builder::from(config);
        if let Some(endpoint) = crate::dynamo::config::service_endpoint("KMS") {
            builder = builder.endpoint_url(endpoint);
        }
        SecretBox::new(aws_sdk_kms::Client::from_conf(builder.build()), key_id)
    }

    /// The ciphertext of `secret` for this endpoint.
    pub async fn seal(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(secret))
            .encryption_context(ORGANIZATION, org_id)
            .encryption_context(ENDPOINT, endpoint_id)
            .send()
            .await
            .map_err(|err| StoreError::Unavailable(format!("KMS Encrypt: {}", kms_error(&err))))?;
        output
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| StoreError::Unavailable("KMS Encrypt returned no ciphertext".into()))
    }

    /// The secret sealed in `ciphertext` for this endpoint.
    pub async fn open(
        &self,
        org_id: &OrgId,
        endpoint_id: &str,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(ciphertext))
            .encryption_context(ORGANIZATION, org_id)
            .encryption_context(ENDPOINT, endpoint_id)
            .send()
            .await
            .map_err(|err| StoreError::Unavailable(format!("KMS Decrypt: {}", kms_error(&err))))?;
        output
            .plaintext
            .map(Blob::into_inner)
            .ok_or_else(|| StoreError::Unavailable("KMS Decrypt returned no plaintext".into()))
    }
}

const ORGANIZATION: &str = "orgkeys:organizationId";
const ENDPOINT: &str = "orgkeys:endpointId";

/// The error's code and message; never a request's content.
fn kms_error<E: aws_sdk_kms::error::ProvideErrorMetadata, R>(
    err: &aws_sdk_kms::error::SdkError<E, R>,
) -> String {
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or_default()
        ),
        None => err.to_string(),
    }
}
