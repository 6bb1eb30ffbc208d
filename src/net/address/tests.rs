use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Each refused range at its edges: its first and last address, and the neighbours just
/// outside it. Where a neighbour is refused too, it falls in another range, named beside it.
const TABLE: &[(&str, bool)] = &[
    // 0.0.0.0/8, with the unspecified address
    ("0.0.0.0", false),
    ("0.255.255.255", false),
    ("1.0.0.0", true),
    // 10.0.0.0/8
    ("9.255.255.255", true),
    ("10.0.0.0", false),
    ("10.255.255.255", false),
    ("11.0.0.0", true),
    // 100.64.0.0/10
    ("100.63.255.255", true),
    ("100.64.0.0", false),
    ("100.64.0.1", false),
    ("100.127.255.255", false),
    ("100.128.0.0", true),
    // 127.0.0.0/8
    ("126.255.255.255", true),
    ("127.0.0.0", false),
    ("127.0.0.1", false),
    ("127.255.255.255", false),
    ("128.0.0.0", true),
    // 169.254.0.0/16, with the cloud metadata address
    ("169.253.255.255", true),
    ("169.254.0.0", false),
    ("169.254.169.254", false),
    ("169.254.255.255", false),
    ("169.255.0.0", true),
    // 172.16.0.0/12
    ("172.15.255.255", true),
    ("172.16.0.0", false),
    ("172.31.255.255", false),
    ("172.32.0.0", true),
    // 192.0.0.0/24 and 192.0.2.0/24
    ("191.255.255.255", true),
    ("192.0.0.0", false),
    ("192.0.0.255", false),
    ("192.0.1.0", true),
    ("192.0.1.255", true),
    ("192.0.2.0", false),
    ("192.0.2.255", false),
    ("192.0.3.0", true),
    // 192.88.99.0/24
    ("192.88.98.255", true),
    ("192.88.99.0", false),
    ("192.88.99.255", false),
    ("192.88.100.0", true),
    // 192.168.0.0/16
    ("192.167.255.255", true),
    ("192.168.0.0", false),
    ("192.168.255.255", false),
    ("192.169.0.0", true),
    // 198.18.0.0/15
    ("198.17.255.255", true),
    ("198.18.0.0", false),
    ("198.19.255.255", false),
    ("198.20.0.0", true),
    // 198.51.100.0/24
    ("198.51.99.255", true),
    ("198.51.100.0", false),
    ("198.51.100.255", false),
    ("198.51.101.0", true),
    // 203.0.113.0/24
    ("203.0.112.255", true),
    ("203.0.113.0", false),
    ("203.0.113.255", false),
    ("203.0.114.0", true),
    // 224.0.0.0/4 multicast, then 240.0.0.0/4 up to the broadcast address
    ("223.255.255.255", true),
    ("224.0.0.0", false),
    ("239.255.255.255", false),
    ("240.0.0.0", false),
    ("255.255.255.254", false),
    ("255.255.255.255", false),
    // Ordinary public IPv4
    ("8.8.8.8", true),
    ("93.184.215.14", true),
    // ::/96, IPv4-compatible, with :: and ::1
    ("::", false),
    ("::1", false),
    ("::ffff:ffff", false),
    ("::1:0:0", false), // outside 2000::/3
    // ::ffff:0:0/96, IPv4-mapped, even of a public address
    ("::ffff:0:0", false),
    ("::ffff:127.0.0.1", false),
    ("::ffff:8.8.8.8", false),
    ("::ffff:255.255.255.255", false),
    ("::1:0:0:0", false), // outside 2000::/3
    // 64:ff9b::/96 and 64:ff9b:1::/48, NAT64
    ("64:ff9b::", false),
    ("64:ff9b::8.8.8.8", false),
    ("64:ff9b::ffff:ffff", false),
    ("64:ff9b:1::", false),
    ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", false),
    // fc00::/7 unique-local, with the cloud metadata address
    ("fc00::", false),
    ("fd00:ec2::254", false),
    ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    // fe80::/10 link-local, then fec0::/10 site-local
    ("fe80::", false),
    ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("fec0::", false),
    ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    // ff00::/8 multicast
    ("ff00::", false),
    ("ff02::1", false),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    // 2000::/3, the global unicast block, and what lies around it
    ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("2000::", true),
    ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("4000::", false),
    // 2001::/23, IETF protocol assignments, with Teredo 2001::/32
    ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("2001::", false),
    ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("2001:2::", false),
    ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("2001:200::", true),
    // 2001:db8::/32
    ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("2001:db8::", false),
    ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("2001:db9::", true),
    // 2002::/16, 6to4
    ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("2002::", false),
    ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("2003::", true),
    // 3fff::/20, documentation
    ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("3fff::", false),
    ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("3fff:1000::", true),
    // Ordinary public IPv6
    ("2606:4700:4700::1111", true),
    ("2a00:1450:4001:82a::200e", true),
];

#[test]
fn every_range_is_refused_up_to_its_edges_and_no_further() {
    let wrong: Vec<_> = TABLE
        .iter()
        .filter(|&&(text, public)| is_public(ip(text)) != public)
        .map(|&(text, public)| {
            format!(
                "{text} should be {}",
                if public { "public" } else { "refused" }
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn an_allowed_network_lets_its_addresses_through_and_no_others() {
    let allow = parse_networks(&["192.168.1.0/24", "fd00::/8"]).unwrap();
    assert!(allowed(ip("192.168.1.0"), &allow));
    assert!(allowed(ip("192.168.1.255"), &allow));
    assert!(!allowed(ip("192.168.2.1"), &allow));
    assert!(!allowed(ip("127.0.0.1"), &allow));
    assert!(allowed(ip("fd00:ec2::254"), &allow));
    assert!(!allowed(ip("fc00::1"), &allow));
    // Connecting to a mapped address reaches the IPv4 one, so the IPv4 network covers it.
    assert!(allowed(ip("::ffff:192.168.1.7"), &allow));
    assert!(!allowed(ip("::ffff:10.0.0.1"), &allow));
    assert!(allowed(ip("8.8.8.8"), &[]));
    assert!(!allowed(ip("10.0.0.1"), &[]));
}

#[test]
fn the_allow_list_takes_networks_and_single_addresses() {
    let nets = parse_networks(&[" 192.168.1.7/24 ", "10.0.0.5", "fd00::/8"]).unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["192.168.1.0/24", "10.0.0.5/32", "fd00::/8"]);
    assert!(parse_networks::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn a_bad_allow_list_entry_is_named_in_the_error() {
    for bad in [
        "192.168.1.0/33",
        "intranet",
        "",
        "192.168.1/24",
        "fd00::/129",
    ] {
        let err = parse_networks(&["10.0.0.0/8", bad]).unwrap_err();
        assert_eq!(err.entry, bad);
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
}
