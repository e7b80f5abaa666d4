//! Which addresses a webhook delivery may reach, and which URLs may be
//! registered (`WEBHOOK_ALLOWED_NETWORKS`).
//!
//! A webhook URL is chosen by a customer and fetched by us, from inside our
//! network: without a policy it is a way to reach loopback services, the
//! instance metadata endpoint or private hosts (SSRF). Every address a
//! delivery would connect to goes through [`AddressPolicy::check`], which
//! refuses the non-global ranges, their IPv4-mapped, IPv4-compatible, NAT64
//! and 6to4 IPv6 forms included, unless an operator allowed the network. The
//! same policy refuses an IP-literal URL at registration, so a customer hears
//! of it at once rather than through failed deliveries.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The environment variable naming the networks a webhook may reach anyway.
pub const ALLOWED_NETWORKS_VAR: &str = "WEBHOOK_ALLOWED_NETWORKS";
/// The longest URL an endpoint may have.
pub const MAX_URL_LEN: usize = 2048;

/// IPv4 ranges no webhook may reach, each with what it is.
const REFUSED_V4: [(Ipv4Net, &str); 15] = [
    (
        v4(0, 0, 0, 0, 8),
        "an address in \"this network\" (0.0.0.0/8)",
    ),
    (v4(10, 0, 0, 0, 8), "a private address (RFC 1918)"),
    (
        v4(100, 64, 0, 0, 10),
        "a shared carrier-grade NAT address (100.64.0.0/10)",
    ),
    (v4(127, 0, 0, 0, 8), "a loopback address"),
    (
        v4(169, 254, 0, 0, 16),
        "a link-local address (the cloud metadata service's range)",
    ),
    (v4(172, 16, 0, 0, 12), "a private address (RFC 1918)"),
    (
        v4(192, 0, 0, 0, 24),
        "an IETF protocol assignment (192.0.0.0/24)",
    ),
    (v4(192, 0, 2, 0, 24), "a documentation address (TEST-NET-1)"),
    (
        v4(192, 88, 99, 0, 24),
        "a deprecated 6to4 relay anycast address",
    ),
    (v4(192, 168, 0, 0, 16), "a private address (RFC 1918)"),
    (
        v4(198, 18, 0, 0, 15),
        "a benchmarking address (198.18.0.0/15)",
    ),
    (
        v4(198, 51, 100, 0, 24),
        "a documentation address (TEST-NET-2)",
    ),
    (
        v4(203, 0, 113, 0, 24),
        "a documentation address (TEST-NET-3)",
    ),
    (v4(224, 0, 0, 0, 4), "a multicast address"),
    // 255.255.255.255 (broadcast) lies in it.
    (v4(240, 0, 0, 0, 4), "a reserved address (240.0.0.0/4)"),
];

/// IPv6 ranges no webhook may reach. The forms that embed an IPv4 address
/// (mapped, compatible, NAT64, 6to4) are judged by that address instead.
const REFUSED_V6: [(Ipv6Net, &str); 9] = [
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "the unspecified address"),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "a loopback address"),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        "a local-use NAT64 address",
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
        "a discard-only address (100::/64)",
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        "a documentation address",
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        "a documentation address",
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        "a unique local address (fc00::/7)",
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "a link-local address",
    ),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "a multicast address"),
];

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(s: [u16; 8], prefix: u8) -> Ipv6Net {
    let ip = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    Ipv6Net::new_assert(ip, prefix)
}

/// Which addresses webhooks may reach: every global address, and the
/// networks an operator allowed (`WEBHOOK_ALLOWED_NETWORKS`; none by default;
/// `scripts/dev` and the tests allow loopback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

/// Why an address may not be reached. Names the address (the customer's
/// own URL resolved to it) and the range, never anything of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    address: IpAddr,
    /// The IPv4 address an IPv6 form embeds, and the form's name.
    embedded: Option<(Ipv4Addr, &'static str)>,
    kind: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            Some((v4, form)) => write!(f, "{} is {form} of {v4}, {}", self.address, self.kind)?,
            None => write!(f, "{} is {}", self.address, self.kind)?,
        }
        write!(
            f,
            "; webhooks may not reach it unless {ALLOWED_NETWORKS_VAR} allows its network"
        )
    }
}

impl std::error::Error for Refused {}

/// A webhook URL that passed [`AddressPolicy::validate_url`]: absolute,
/// `https://` (or `http://` to an allowed IP literal), with a host, no
/// user-info, at most [`MAX_URL_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// The URL as registered (normalised by the WHATWG URL parser).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL, for the delivery client's host, port and path.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for WebhookUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl AddressPolicy {
    /// A policy allowing these networks besides the global addresses.
    pub fn new(allowed: Vec<IpNet>) -> Self {
        AddressPolicy { allowed }
    }

    /// The policy `WEBHOOK_ALLOWED_NETWORKS` describes (unset or empty: no
    /// network beyond the global addresses).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(ALLOWED_NETWORKS_VAR) {
            Ok(value) => Self::parse(&value),
            Err(std::env::VarError::NotPresent) => Ok(Self::default()),
            Err(err) => Err(format!("{ALLOWED_NETWORKS_VAR}: {err}")),
        }
    }

    /// Comma-separated CIDRs (`127.0.0.0/8, ::1/128`); a bare address is a
    /// network of one.
    pub fn parse(value: &str) -> Result<Self, String> {
        let allowed = value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("{ALLOWED_NETWORKS_VAR}: {entry:?} is not a CIDR network (e.g. 10.1.0.0/16)")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self::new(allowed))
    }

    /// Whether a delivery may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.is_allowed(ip) {
            return Ok(());
        }
        match ip {
            IpAddr::V4(v4) => match refused_v4(v4) {
                Some(kind) => Err(Refused {
                    address: ip,
                    embedded: None,
                    kind,
                }),
                None => Ok(()),
            },
            IpAddr::V6(v6) => self.check_v6(v6),
        }
    }

    fn check_v6(&self, v6: Ipv6Addr) -> Result<(), Refused> {
        let address = IpAddr::V6(v6);
        if let Some(kind) = refused_v6(v6) {
            return Err(Refused {
                address,
                embedded: None,
                kind,
            });
        }
        let Some((v4, form)) = embedded_v4(v6) else {
            return Ok(());
        };
        if self.is_allowed(IpAddr::V4(v4)) {
            return Ok(());
        }
        match refused_v4(v4) {
            Some(kind) => Err(Refused {
                address,
                embedded: Some((v4, form)),
                kind,
            }),
            None => Ok(()),
        }
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Parses a URL an admin registers: `https://` with a host, no user-info,
    /// at most [`MAX_URL_LEN`] characters; `http://` only to an IP literal in
    /// an allowed network; an IP literal the policy refuses is refused here.
    /// A host name is checked at each delivery instead (it resolves then).
    pub fn validate_url(&self, raw: &str) -> Result<WebhookUrl, String> {
        if raw.chars().count() > MAX_URL_LEN {
            return Err(format!("is longer than {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(raw).map_err(|err| format!("is not an absolute URL ({err})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("has user-info (user:password@); put credentials elsewhere".into());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(Host::Domain(_)) => None,
            None => return Err("has no host".into()),
        };
        if let Some(ip) = ip {
            self.check(ip).map_err(|refused| refused.to_string())?;
        }
        match url.scheme() {
            "https" => {}
            "http" if ip.is_some_and(|ip| self.is_allowed(ip)) => {}
            "http" => {
                return Err(format!(
                    "must use https:// (http:// only to an IP address in {ALLOWED_NETWORKS_VAR})"
                ));
            }
            other => return Err(format!("must use https://, not {other}://")),
        }
        Ok(WebhookUrl(url))
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    REFUSED_V4
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, kind)| *kind)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    REFUSED_V6
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, kind)| *kind)
}

/// The IPv4 address an IPv6 address carries, in the forms a host or a
/// gateway on the path turns into an IPv4 connection.
fn embedded_v4(v6: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some((low, "the IPv4-mapped form")),
        // :: and ::1 are judged as IPv6 before this.
        [0, 0, 0, 0, 0, 0, _, _] => Some((low, "the IPv4-compatible form")),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some((low, "the NAT64 form")),
        [0x2002, high, low16, ..] => {
            let [a, b] = high.to_be_bytes();
            let [c, d] = low16.to_be_bytes();
            Some((Ipv4Addr::new(a, b, c, d), "the 6to4 form"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn refusal(policy: &AddressPolicy, address: &str) -> String {
        match policy.check(ip(address)) {
            Err(refused) => refused.to_string(),
            Ok(()) => panic!("{address} was allowed"),
        }
    }

    #[test]
    fn every_non_global_ipv4_range_is_refused_with_its_name() {
        let policy = AddressPolicy::default();
        let cases = [
            ("0.0.0.0", "\"this network\""),
            ("0.255.255.255", "\"this network\""),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.254", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.169.254", "link-local"),
            ("169.254.0.1", "link-local"),
            ("192.0.0.8", "IETF protocol assignment"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.200", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
        ];
        for (address, kind) in cases {
            let reason = refusal(&policy, address);
            assert!(
                reason.starts_with(&format!("{address} is ")) && reason.contains(kind),
                "{address}: {reason}"
            );
        }
    }

    #[test]
    fn the_refusal_says_what_the_address_is_and_how_to_allow_it() {
        assert_eq!(
            refusal(&AddressPolicy::default(), "127.0.0.1"),
            "127.0.0.1 is a loopback address; webhooks may not reach it unless \
             WEBHOOK_ALLOWED_NETWORKS allows its network"
        );
    }

    #[test]
    fn global_addresses_next_to_the_refused_ranges_are_allowed() {
        let policy = AddressPolicy::default();
        for address in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2001:db9::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(policy.check(ip(address)), Ok(()), "{address}");
        }
    }

    #[test]
    fn every_non_global_ipv6_range_is_refused() {
        let policy = AddressPolicy::default();
        let cases = [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("2001:db8:ffff::1", "documentation"),
            ("3fff::1", "documentation"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
        ];
        for (address, kind) in cases {
            let reason = refusal(&policy, address);
            assert!(reason.contains(kind), "{address}: {reason}");
        }
    }

    #[test]
    fn ipv6_forms_of_refused_ipv4_addresses_are_refused_naming_both() {
        let policy = AddressPolicy::default();
        let cases = [
            (
                "::ffff:127.0.0.1",
                "IPv4-mapped form of 127.0.0.1, a loopback",
            ),
            (
                "::ffff:169.254.169.254",
                "IPv4-mapped form of 169.254.169.254, a link-local",
            ),
            ("::ffff:10.0.0.1", "IPv4-mapped form of 10.0.0.1, a private"),
            ("::ffff:0.0.0.0", "IPv4-mapped form of 0.0.0.0"),
            (
                "::127.0.0.1",
                "IPv4-compatible form of 127.0.0.1, a loopback",
            ),
            (
                "::192.168.0.1",
                "IPv4-compatible form of 192.168.0.1, a private",
            ),
            ("64:ff9b::127.0.0.1", "NAT64 form of 127.0.0.1, a loopback"),
            ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"),
            ("2002:7f00:1::", "6to4 form of 127.0.0.1, a loopback"),
            ("2002:c0a8:101::1", "6to4 form of 192.168.1.1, a private"),
        ];
        for (address, expected) in cases {
            let reason = refusal(&policy, address);
            assert!(reason.contains(expected), "{address}: {reason}");
        }
    }

    #[test]
    fn an_allowed_network_lets_its_addresses_and_their_mapped_forms_through() {
        let policy = AddressPolicy::parse(" 127.0.0.0/8 , fd00::/8,10.1.2.3").unwrap();
        for address in [
            "127.0.0.1",
            "127.9.9.9",
            "::ffff:127.0.0.1",
            "fd00::5",
            "10.1.2.3",
        ] {
            assert_eq!(policy.check(ip(address)), Ok(()), "{address}");
        }
        for address in ["10.1.2.4", "::1", "169.254.169.254", "fe80::1"] {
            assert!(policy.check(ip(address)).is_err(), "{address}");
        }
    }

    #[test]
    fn a_bad_network_in_the_setting_is_named() {
        let err = AddressPolicy::parse("127.0.0.0/8,10.0.0.0/33").unwrap_err();
        assert!(err.contains("\"10.0.0.0/33\""), "{err}");
        assert_eq!(
            AddressPolicy::parse(" , ").unwrap(),
            AddressPolicy::default()
        );
    }

    fn loopback_allowed() -> AddressPolicy {
        AddressPolicy::parse("127.0.0.0/8").unwrap()
    }

    #[test]
    fn an_https_url_to_a_name_is_accepted_as_parsed() {
        let url = AddressPolicy::default()
            .validate_url("https://hooks.example.com:8443/in?x=1")
            .unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com:8443/in?x=1");
        assert_eq!(url.url().port(), Some(8443));
    }

    #[test]
    fn http_is_refused_except_to_an_allowed_ip_literal() {
        let default = AddressPolicy::default();
        let err = default
            .validate_url("http://hooks.example.com/")
            .unwrap_err();
        assert!(err.contains("must use https://"), "{err}");
        let err = loopback_allowed()
            .validate_url("http://localhost:8080/")
            .unwrap_err();
        assert!(err.contains("must use https://"), "{err}");
        assert!(
            loopback_allowed()
                .validate_url("http://127.0.0.1:8080/in")
                .is_ok()
        );
        assert!(
            AddressPolicy::parse("::1")
                .unwrap()
                .validate_url("http://[::1]:9/")
                .is_ok()
        );
        let err = default
            .validate_url("ftp://hooks.example.com/")
            .unwrap_err();
        assert!(err.contains("not ftp://"), "{err}");
    }

    #[test]
    fn user_info_is_refused() {
        for raw in [
            "https://user:pw@hooks.example.com/",
            "https://user@hooks.example.com/",
        ] {
            let err = AddressPolicy::default().validate_url(raw).unwrap_err();
            assert!(err.contains("user-info"), "{raw}: {err}");
        }
    }

    #[test]
    fn a_url_longer_than_2048_characters_is_refused() {
        let base = "https://hooks.example.com/";
        let fits = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        assert!(AddressPolicy::default().validate_url(&fits).is_ok());
        let err = AddressPolicy::default()
            .validate_url(&format!("{fits}a"))
            .unwrap_err();
        assert!(err.contains("2048"), "{err}");
    }

    #[test]
    fn an_ip_literal_in_a_refused_range_is_refused_with_the_reason() {
        let policy = AddressPolicy::default();
        let cases = [
            ("https://127.0.0.1/", "127.0.0.1 is a loopback address"),
            ("https://169.254.169.254/latest/meta-data/", "link-local"),
            ("https://[::ffff:10.0.0.1]/", "IPv4-mapped form of 10.0.0.1"),
            ("https://[fe80::1]/", "link-local"),
            // The WHATWG parser reads other spellings of IPv4 as the address.
            ("https://2130706433/", "127.0.0.1 is a loopback address"),
            ("https://0x7f.1/", "127.0.0.1 is a loopback address"),
        ];
        for (raw, expected) in cases {
            let err = policy.validate_url(raw).unwrap_err();
            assert!(err.contains(expected), "{raw}: {err}");
        }
        assert!(policy.validate_url("https://8.8.8.8/").is_ok());
    }

    #[test]
    fn garbage_is_not_a_url() {
        for raw in [
            "",
            "hooks.example.com",
            "https://",
            "https://exa mple.com/",
            "https://[::1/",
        ] {
            assert!(
                AddressPolicy::default().validate_url(raw).is_err(),
                "{raw:?}"
            );
        }
    }
}
