//! Where a request comes from: the trusted reverse proxies (`TRUSTED_PROXIES`) and the client
//! address they forward in `X-Forwarded-For`. The address ends up on every audit row
//! (`ipAddress`) and keys the limiter of failed authorizations.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

/// Why a text is not an IP address or CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8 or 192.0.2.7)")]
pub struct InvalidIpBlock(pub String);

impl IpBlock {
    /// Whether `ip` lies in the block. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) count
    /// as their IPv4 address, as dual-stack listeners report IPv4 peers that way.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of two addresses of the same family agree.
fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

impl FromStr for IpBlock {
    type Err = InvalidIpBlock;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let invalid = || InvalidIpBlock(text.to_owned());
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits)),
            None => (text, None),
        };
        let network = IpAddr::from_str(addr)
            .map_err(|_| invalid())?
            .to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(bits) => bits
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(invalid)?,
        };
        Ok(Self { network, prefix })
    }
}

/// Parses a comma-separated list of addresses and CIDR blocks; blanks are skipped.
pub fn parse_ip_blocks(raw: &str) -> Result<Vec<IpBlock>, InvalidIpBlock> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(IpBlock::from_str)
        .collect()
}

/// How the service sits in the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSettings {
    /// Peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`); none by default, so a
    /// client cannot choose the address recorded for it.
    pub trusted_proxies: Vec<IpBlock>,
}

impl NetworkSettings {
    /// The client address of a request: the peer, unless the peer is a trusted proxy and
    /// `X-Forwarded-For` (all its values, in order) names a valid address; then the left-most
    /// valid one, the hop closest to the client.
    pub fn client_ip<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(|p| p.to_canonical());
        let trusted = peer.is_some_and(|p| self.trusted_proxies.iter().any(|b| b.contains(p)));
        if !trusted {
            return peer;
        }
        forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .find_map(parse_hop)
            .or(peer)
    }
}

/// One `X-Forwarded-For` element: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:80`) as some proxies write it. Anything else (`unknown`, obfuscated names)
/// is not an address.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    IpAddr::from_str(hop)
        .ok()
        .or_else(|| SocketAddr::from_str(hop).ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| IpAddr::from_str(h).ok())
        })
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn behind(proxies: &str) -> NetworkSettings {
        NetworkSettings {
            trusted_proxies: parse_ip_blocks(proxies).expect("blocks"),
        }
    }

    #[test]
    fn blocks_hold_the_addresses_of_their_prefix() {
        let b: IpBlock = "10.1.0.0/16".parse().expect("block");
        assert!(b.contains(ip("10.1.255.3")));
        assert!(!b.contains(ip("10.2.0.1")));
        assert!(b.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped peers");
        let odd: IpBlock = "192.0.2.128/25".parse().expect("block");
        assert!(odd.contains(ip("192.0.2.200")) && !odd.contains(ip("192.0.2.100")));
        let v6: IpBlock = "2001:db8::/32".parse().expect("block");
        assert!(v6.contains(ip("2001:db8:1::7")) && !v6.contains(ip("10.0.0.1")));
        let single: IpBlock = "192.0.2.7".parse().expect("block");
        assert!(single.contains(ip("192.0.2.7")) && !single.contains(ip("192.0.2.8")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpBlock>()
                .expect("block")
                .contains(ip("8.8.8.8"))
        );
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "proxy.local",
            "::1/129",
            "1.2.3.4/x",
        ] {
            assert!(bad.parse::<IpBlock>().is_err(), "{bad}");
        }
        assert_eq!(parse_ip_blocks(" ").expect("empty"), []);
        assert_eq!(
            parse_ip_blocks("10.0.0.1, 10.0.0.0/8,").expect("two").len(),
            2
        );
        assert!(parse_ip_blocks("10.0.0.1,nope").is_err());
    }

    #[test]
    fn an_untrusted_peer_ignores_the_header() {
        let s = behind("10.0.0.0/8");
        assert_eq!(
            s.client_ip(Some(ip("192.0.2.9")), ["198.51.100.1"]),
            Some(ip("192.0.2.9"))
        );
        assert_eq!(
            NetworkSettings::default().client_ip(Some(ip("10.0.0.1")), ["198.51.100.1"]),
            Some(ip("10.0.0.1")),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn a_trusted_peer_gives_the_first_hop() {
        let s = behind("10.0.0.0/8");
        assert_eq!(
            s.client_ip(Some(ip("10.0.0.1")), ["198.51.100.1, 10.0.0.2", "10.0.0.3"]),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            s.client_ip(Some(ip("10.0.0.1")), ["[2001:db8::5]:443"]),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            s.client_ip(Some(ip("10.0.0.1")), ["unknown, 203.0.113.4:8080"]),
            Some(ip("203.0.113.4")),
            "the left-most valid address"
        );
    }

    #[test]
    fn a_malformed_or_missing_header_falls_back_to_the_peer() {
        let s = behind("10.0.0.1");
        assert_eq!(
            s.client_ip(Some(ip("10.0.0.1")), ["not an address, ;;"]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            s.client_ip(Some(ip("10.0.0.1")), std::iter::empty()),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(s.client_ip(None, ["198.51.100.1"]), None);
    }
}
