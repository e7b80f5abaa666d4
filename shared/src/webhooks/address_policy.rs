//! Which addresses a webhook delivery may reach, and which URLs may be
//! registered (`WEBHOOK_ALLOWED_NETWORKS`). (Interim: the delivery engine's
//! work replaces this with the full range checks.)

use ipnet::IpNet;

/// The networks a delivery may reach despite being in a refused range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

/// A URL fit to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl AddressPolicy {
    pub fn new(allowed: Vec<IpNet>) -> AddressPolicy {
        AddressPolicy { allowed }
    }

    pub fn from_env() -> Result<AddressPolicy, String> {
        let text = std::env::var("WEBHOOK_ALLOWED_NETWORKS").unwrap_or_default();
        let allowed = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse()
                    .map_err(|_| format!("WEBHOOK_ALLOWED_NETWORKS: {t} is not a CIDR"))
            })
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    pub fn validate_url(&self, raw: &str) -> Result<WebhookUrl, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
        match url.scheme() {
            "https" => Ok(WebhookUrl(url)),
            "http" => match url.host() {
                Some(url::Host::Ipv4(ip))
                    if self
                        .allowed
                        .iter()
                        .any(|n| n.contains(&std::net::IpAddr::V4(ip))) =>
                {
                    Ok(WebhookUrl(url))
                }
                _ => Err("must be https://".into()),
            },
            _ => Err("must be https://".into()),
        }
    }
}
