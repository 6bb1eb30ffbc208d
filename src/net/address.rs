//! Which addresses an outbound fetch may connect to: the public internet, plus the networks an
//! operator lists for an intranet.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 networks that are not the public internet: `(network, prefix length)`.
const REFUSED_V4: &[(Ipv4Addr, u32)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8), // "this network", with 0.0.0.0 unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8), // private
    (Ipv4Addr::new(100, 64, 0, 0), 10), // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8), // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, with the cloud metadata 169.254.169.254
    (Ipv4Addr::new(172, 16, 0, 0), 12), // private
    (Ipv4Addr::new(192, 0, 0, 0), 24), // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24), // documentation
    (Ipv4Addr::new(192, 88, 99, 0), 24), // 6to4 relays, refused like 2002::/16
    (Ipv4Addr::new(192, 168, 0, 0), 16), // private
    (Ipv4Addr::new(198, 18, 0, 0), 15), // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24), // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4), // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4), // reserved, with the broadcast 255.255.255.255
];

/// The global unicast block: every IPv6 address handed out for the internet lies in it, so
/// anything outside is refused without naming it — loopback and unspecified (in ::/96),
/// IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, unique-local fc00::/7
/// (with the cloud metadata fd00:ec2::254), link-local fe80::/10, site-local fec0::/10 and
/// multicast ff00::/8.
const GLOBAL_V6: (Ipv6Addr, u32) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// The parts of the global unicast block that are not the public internet, or that carry
/// IPv4 inside and so could reach a private IPv4 network through a relay.
const REFUSED_V6: &[(Ipv6Addr, u32)] = &[
    // IETF protocol assignments, with Teredo 2001::/32 and benchmarking 2001:2::/48
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),     // 6to4
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation (RFC 9637)
];

/// Whether `ip` is an address on the public internet that a fetch may connect to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !REFUSED_V4.iter().any(|&(net, len)| in_v4(v4, net, len)),
        IpAddr::V6(v6) => {
            in_v6(v6, GLOBAL_V6.0, GLOBAL_V6.1)
                && !REFUSED_V6.iter().any(|&(net, len)| in_v6(v6, net, len))
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    ip.to_bits() & mask == net.to_bits() & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    ip.to_bits() & mask == net.to_bits() & mask
}

/// Whether a fetch may connect to `ip`: a public address, or one inside an allowed network.
/// An IPv4-mapped IPv6 address counts as its IPv4 address here, since connecting to it
/// reaches that IPv4 address.
pub fn allowed(ip: IpAddr, allow: &[IpNet]) -> bool {
    is_public(ip)
        || allow
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&ip.to_canonical()))
}

/// An entry of the allow-list that is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not a network (write it like 192.168.1.0/24, fd00::/8 or 10.0.0.5)")]
pub struct BadNetwork {
    pub entry: String,
}

/// Reads the allow-list as an operator writes it: networks in CIDR form, or single addresses.
pub fn parse_networks<S: AsRef<str>>(entries: &[S]) -> Result<Vec<IpNet>, BadNetwork> {
    entries
        .iter()
        .map(|entry| {
            let text = entry.as_ref().trim();
            text.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| BadNetwork {
                    entry: entry.as_ref().to_owned(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests;
