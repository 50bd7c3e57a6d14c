//! The SSRF guard of link previews: which addresses a fetch may reach.
//!
//! Only `http`/`https` on ports 80 and 443, and only hosts whose every
//! resolved address is public: loopback, private (RFC 1918), link-local (and
//! with it cloud metadata at 169.254.169.254), CGNAT, multicast, reserved,
//! documentation and benchmarking ranges, and their IPv6 equivalents
//! (including IPv4-mapped, NAT64 and 6to4 forms of them) are refused. The
//! checked address is the one connected to, so DNS cannot change the answer
//! between check and use.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not http/https.
    #[error("only http and https links can be previewed")]
    Scheme,
    /// A port other than 80/443.
    #[error("only ports 80 and 443 can be previewed, not {0}")]
    Port(u16),
    /// No host, or it does not resolve.
    #[error("the host {0} cannot be resolved")]
    Unresolvable(String),
    /// Resolves to a non-public address.
    #[error("the link resolves to a non-public address ({0})")]
    NonPublic(IpAddr),
}

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network"
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }
    match s[0] {
        0x0000 => false, // ::/16 incl. IPv4-compatible
        0x0064 if s[1] == 0xff9b => is_public_v4(embedded_v4(s[6], s[7])), // NAT64
        0x0100 if s[1..4] == [0, 0, 0] => false, // discard-only 100::/64
        0x2001 if s[1] < 0x0200 => false, // Teredo, benchmarking, ORCHID...
        0x2001 if s[1] == 0x0db8 => false, // documentation
        0x2002 => is_public_v4(embedded_v4(s[1], s[2])), // 6to4
        x if x & 0xfe00 == 0xfc00 => false, // unique local fc00::/7
        x if x & 0xffc0 == 0xfe80 => false, // link-local fe80::/10
        x if x & 0xffc0 == 0xfec0 => false, // site-local fec0::/10
        x if x & 0xff00 == 0xff00 => false, // multicast
        _ => true,
    }
}

/// A URL the guard let through, with the address to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// The host name (for the pinned resolution), or `None` for an IP literal.
    pub domain: Option<String>,
    /// The checked address.
    pub addr: SocketAddr,
}

/// Checks `url` and resolves its host; `allow` holds `host:port` pairs exempt
/// from the address and port rules (tests only).
pub async fn clear(url: &url::Url, allow: &HashSet<String>) -> Result<Cleared, Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Scheme);
    }
    let host = url
        .host()
        .ok_or_else(|| Refusal::Unresolvable(String::new()))?;
    let port = url.port_or_known_default().unwrap_or(0);
    let host_text = match &host {
        url::Host::Domain(d) => d.to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    };
    let exempt = allow.contains(&format!("{host_text}:{port}"));
    if !exempt && port != 80 && port != 443 {
        return Err(Refusal::Port(port));
    }
    let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match host {
        url::Host::Ipv4(ip) => (None, vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        url::Host::Ipv6(ip) => (None, vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        url::Host::Domain(d) => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((d, port))
                .await
                .map_err(|_| Refusal::Unresolvable(host_text.clone()))?
                .collect();
            (Some(d.to_owned()), found)
        }
    };
    let first = *addrs
        .first()
        .ok_or_else(|| Refusal::Unresolvable(host_text.clone()))?;
    if !exempt {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(Refusal::NonPublic(bad.ip()));
        }
    }
    Ok(Cleared {
        domain,
        addr: first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "127.255.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "::127.0.0.1",
            "fec0::1",
            "2001::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[actix_web::test]
    async fn urls_to_refused_places_are_refused_before_any_connection() {
        let none = HashSet::new();
        let check = |u: &str| url::Url::parse(u).expect("a URL");
        for (u, why) in [
            ("http://127.0.0.1/", Refusal::NonPublic(ip("127.0.0.1"))),
            ("http://10.0.0.1/", Refusal::NonPublic(ip("10.0.0.1"))),
            (
                "http://169.254.169.254/latest/meta-data/",
                Refusal::NonPublic(ip("169.254.169.254")),
            ),
            ("http://[::1]/", Refusal::NonPublic(ip("::1"))),
            ("http://localhost/", Refusal::NonPublic(ip("127.0.0.1"))),
            ("ftp://example.com/", Refusal::Scheme),
            ("http://8.8.8.8:8080/", Refusal::Port(8080)),
            ("http://127.0.0.1:22/", Refusal::Port(22)),
        ] {
            let got = clear(&check(u), &none).await;
            match (&got, &why) {
                (Err(Refusal::NonPublic(_)), Refusal::NonPublic(_)) if u.contains("localhost") => {}
                _ => assert_eq!(got, Err(why), "{u}"),
            }
        }
        let allow: HashSet<String> = ["127.0.0.1:8099".to_owned()].into();
        assert!(clear(&check("http://127.0.0.1:8099/x"), &allow)
            .await
            .is_ok());
        assert!(clear(&check("http://127.0.0.1:8098/x"), &allow)
            .await
            .is_err());
    }
}
