//! The client's address, for limits keyed by it. Behind an ingress every connection comes from
//! the ingress, so `X-Forwarded-For` is read — but only when the TCP peer is a configured
//! trusted proxy (`gateway.trusted_proxies`), and then from the right: the first address that
//! is not itself a trusted proxy is the client. A client cannot forge its way past the limit
//! by sending the header itself.

use std::net::IpAddr;

/// Trusted proxies: addresses or CIDR blocks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    blocks: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// Parses `10.0.0.0/8`, `192.168.1.7`, `fd00::/8`… naming the setting on error.
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        let mut blocks = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits)),
                None => (entry, None),
            };
            let ip: IpAddr =
                ip.parse().map_err(|_| anyhow::anyhow!("gateway.trusted_proxies: {entry:?} is not an IP or CIDR"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| anyhow::anyhow!("gateway.trusted_proxies: {entry:?} has a bad prefix length"))?,
                None => max,
            };
            blocks.push((ip, bits));
        }
        Ok(Self { blocks })
    }

    /// True when `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.blocks.iter().any(|&(net, bits)| match (canonical(net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), bits),
            _ => false,
        })
    }

    /// The client of a connection from `peer` carrying `forwarded_for` headers (in order).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let hops: Vec<IpAddr> =
            forwarded_for.iter().flat_map(|h| h.split(',')).filter_map(|a| a.trim().parse::<IpAddr>().ok()).collect();
        hops.iter().rev().copied().map(canonical).find(|ip| !self.contains(*ip)).unwrap_or(canonical(peer))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) >> (8 - rest) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.7".into()]).unwrap();
        // Straight from the internet: the header is the client's own claim, ignored.
        assert_eq!(trusted.client(ip("203.0.113.9"), &["1.2.3.4"]), ip("203.0.113.9"));
        // Through the ingress: the right-most untrusted hop.
        assert_eq!(trusted.client(ip("10.1.2.3"), &["1.2.3.4, 198.51.100.20"]), ip("198.51.100.20"));
        assert_eq!(trusted.client(ip("10.1.2.3"), &["198.51.100.20, 10.9.9.9"]), ip("198.51.100.20"));
        assert_eq!(trusted.client(ip("192.168.1.7"), &["garbage", "198.51.100.20"]), ip("198.51.100.20"));
        assert_eq!(trusted.client(ip("10.1.2.3"), &[]), ip("10.1.2.3"));
        assert!(!trusted.contains(ip("192.168.1.8")));
        assert!(trusted.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped addresses");
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["nope".into()]).is_err());
    }
}
