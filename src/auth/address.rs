//! The caller's address for per-address limits. By default it is the TCP
//! peer. Behind reverse proxies listed in `HUDDLE_TRUSTED_PROXIES`, it is the
//! right-most address of `X-Forwarded-For` that is not itself a trusted proxy:
//! every hop appends the address it received from, so entries left of the
//! first untrusted one may have been written by the client and are ignored.

use std::net::IpAddr;

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: u128,
    mask: u128,
    v4: bool,
}

impl Network {
    fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let ip: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
        let (bits, v4) = match ip {
            IpAddr::V4(_) => (32u32, true),
            IpAddr::V6(_) => (128u32, false),
        };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0..={bits}"))?,
        };
        let host_bits = bits - prefix;
        let mask = if host_bits >= 128 {
            0
        } else {
            (u128::MAX << host_bits) & width_mask(bits)
        };
        Ok(Self {
            base: to_bits(ip) & mask,
            mask,
            v4,
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        matches!(ip, IpAddr::V4(_)) == self.v4 && to_bits(ip) & self.mask == self.base
    }
}

fn width_mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR networks
    /// (`10.0.0.0/8, 127.0.0.1, fd00::/8`); empty: no proxy is trusted.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address for a request from `peer` carrying the
    /// `X-Forwarded-For` values `forwarded_for` (every header line, in order).
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // Garbage a trusted proxy passed on: stop at the last good hop.
                return client;
            };
            let ip = canonical(ip);
            if !self.trusts(ip) {
                return ip;
            }
            client = ip;
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn networks_parse_and_match_by_prefix() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,fd00::/8").expect("valid");
        assert!(t.trusts(ip("10.200.3.4")));
        assert!(t.trusts(ip("192.168.1.7")));
        assert!(!t.trusts(ip("192.168.1.8")));
        assert!(t.trusts(ip("fd12::1")));
        assert!(!t.trusts(ip("fe80::1")));
        assert!(!t.trusts(ip("11.0.0.1")));
        assert!(t.trusts(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .expect("valid")
            .trusts(ip("8.8.8.8")));
        assert_eq!(
            TrustedProxies::parse("").expect("valid"),
            TrustedProxies::default()
        );
        for bad in ["10.0.0.0/33", "fd00::/129", "proxy.local", "10.0.0.0/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let t = TrustedProxies::parse("10.0.0.0/8").expect("valid");
        let proxy = ip("10.0.0.2");
        // no proxy trusted: the peer, whatever the header says
        assert_eq!(
            TrustedProxies::default().client_address(ip("203.0.113.9"), ["1.2.3.4"]),
            ip("203.0.113.9")
        );
        // an untrusted peer cannot choose its address
        assert_eq!(
            t.client_address(ip("203.0.113.9"), ["1.2.3.4"]),
            ip("203.0.113.9")
        );
        // through one proxy
        assert_eq!(
            t.client_address(proxy, ["198.51.100.7"]),
            ip("198.51.100.7")
        );
        // a spoofed left part is ignored; trusted hops are skipped
        assert_eq!(
            t.client_address(proxy, ["6.6.6.6, 198.51.100.7, 10.0.0.9"]),
            ip("198.51.100.7")
        );
        // several header lines read as one list
        assert_eq!(
            t.client_address(proxy, ["6.6.6.6", "198.51.100.7, 10.0.0.9"]),
            ip("198.51.100.7")
        );
        // no header, or only proxies: the left-most proxy
        assert_eq!(t.client_address(proxy, []), proxy);
        assert_eq!(t.client_address(proxy, ["10.0.0.5"]), ip("10.0.0.5"));
        // garbage stops the walk at the last good hop
        assert_eq!(t.client_address(proxy, ["198.51.100.7, unknown"]), proxy);
    }
}
