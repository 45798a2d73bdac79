//! A [`GuestGuard`] as nf_tables chains for one port: a base chain on the
//! port's ingress and a chain per protocol it jumps to.
//!
//! In `nft` syntax, for a port `vnet0` of `br0` with every rule on:
//!
//! ```text
//! chain br0/vnet0 { type filter hook ingress device "vnet0" priority -500;
//!     ether saddr != GUEST counter drop                       # source-mac
//!     meta protocol != { ip, ip6, arp } counter drop          # other-l2
//!     meta protocol arp jump br0/vnet0/arp
//!     meta protocol ip jump br0/vnet0/ip
//!     meta protocol ip6 jump br0/vnet0/ip6 }
//! chain br0/vnet0/arp {
//!     arp hlen/plen != 6/4 counter drop; arp saddr ether != GUEST counter drop
//!     arp saddr ip 0.0.0.0 return; arp saddr ip ALLOWED return; counter drop }
//! chain br0/vnet0/ip {
//!     udp sport 67 counter drop                               # dhcp-server
//!     0.0.0.0 -> 255.255.255.255 udp 68 -> 67 return; ip saddr ALLOWED return; counter drop }
//! chain br0/vnet0/ip6 {
//!     icmpv6 type { 134, 137 } counter drop                   # router-advertisement
//!     udp sport 547 counter drop                              # dhcp-server
//!     icmpv6 type 136 jump br0/vnet0/nd
//!     ip6 saddr { ::, EUI-64 link-local, ALLOWED } return; counter drop }
//! chain br0/vnet0/nd { icmpv6 target { EUI-64 link-local, ALLOWED } return; counter drop }
//! ```
//!
//! A chain's rules end in `return` for what is allowed and a counted drop
//! for the rest, so "not one of these prefixes" needs no set. Every check
//! that drops comes before the returns of its chain.

use macaddr::MacAddr6;

use super::config::{GuardRule, GuestGuard, UNSPECIFIED_V4};
use crate::netlink::{
    CmpOp, Expr, MetaKey, NftBase as Base, NftChain, NftHook, NftRule, NftRuleBuilder as Rule,
    Verdict,
};

/// The priority of a guard's base chain: before any other ingress chain
/// of the usual priorities, so that nothing sees a spoofed frame first.
pub(crate) const PRIORITY: i32 = -500;
/// The word that starts every rule comment bridgekit writes.
pub(crate) const TAG: &str = "bridgekit";

const ETH_P_IP: [u8; 2] = [0x08, 0x00];
const ETH_P_ARP: [u8; 2] = [0x08, 0x06];
const ETH_P_IPV6: [u8; 2] = [0x86, 0xdd];
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

/// The name of a port's base chain: every chain of the port starts with
/// it, and the bridge's name in it tells `apply` which chains are its
/// bridge's.
pub(crate) fn base_name(bridge: &str, port: &str) -> String {
    format!("{bridge}/{port}")
}

/// Every chain name a guard of `port` may have, base first.
pub(crate) fn chain_names(bridge: &str, port: &str) -> Vec<String> {
    let base = base_name(bridge, port);
    let mut names = vec![base.clone()];
    names.extend(["arp", "ip", "ip6", "nd"].map(|p| format!("{base}/{p}")));
    names
}

/// A guard rule's comment: bridgekit's tag and the rule class.
fn tag(rule: Option<GuardRule>) -> String {
    match rule {
        Some(r) => format!("{TAG} {r}"),
        None => TAG.to_string(),
    }
}

/// The chains of `guard` on `port` of `bridge`; `mac` is the guest's (see
/// [`GuestGuard::resolve`]). Chains with nothing to check are left out;
/// each chain comes before the chains that jump to it.
pub(crate) fn chains(
    guard: &GuestGuard,
    mac: Option<MacAddr6>,
    bridge: &str,
    port: &str,
) -> Vec<NftChain> {
    let names = chain_names(bridge, port);
    let [base, arp, ip, ip6, nd] = [0, 1, 2, 3, 4].map(|i| names[i].clone());
    let guest = Guest::new(guard, mac);
    let regular = |name: &str, rules: Vec<NftRule>| {
        (!rules.is_empty()).then(|| NftChain {
            name: name.to_string(),
            hook: None,
            rules,
        })
    };
    let arp = regular(&arp, guest.arp_rules(&arp));
    let ip = regular(&ip, guest.ip_rules(&ip));
    let nd = regular(&nd, guest.nd_rules(&nd));
    let ip6 = regular(
        &ip6,
        guest.ip6_rules(&ip6, nd.as_ref().map(|c| c.name.as_str())),
    );
    let jumps: Vec<([u8; 2], &str)> = [(ETH_P_ARP, &arp), (ETH_P_IP, &ip), (ETH_P_IPV6, &ip6)]
        .into_iter()
        .filter_map(|(t, c)| c.as_ref().map(|c| (t, c.name.as_str())))
        .collect();
    let base = NftChain {
        rules: guest.base_rules(&base, &jumps),
        name: base,
        hook: Some(NftHook::ingress(port, PRIORITY)),
    };
    [arp, ip, nd, ip6]
        .into_iter()
        .flatten()
        .chain(std::iter::once(base))
        .collect()
}

/// What the rules of one guest are made from.
struct Guest<'a> {
    guard: &'a GuestGuard,
    /// The guest's MAC as bytes (empty when no rule that needs it is on).
    mac: Vec<u8>,
    /// Its IPv6 addresses and prefixes, and the link-local address its
    /// MAC gives: (bytes, prefix length).
    own_v6: Vec<(Vec<u8>, u8)>,
}

impl<'a> Guest<'a> {
    fn new(guard: &'a GuestGuard, mac: Option<MacAddr6>) -> Self {
        let own_v6 = guard
            .ipv6
            .iter()
            .map(|n| (n.addr().octets().to_vec(), n.prefix_len()))
            .chain(mac.map(|m| {
                (
                    crate::values::mac::eui64_link_local(m).octets().to_vec(),
                    128,
                )
            }))
            .collect();
        Guest {
            guard,
            mac: mac.map(|m| m.as_bytes().to_vec()).unwrap_or_default(),
            own_v6,
        }
    }

    fn on(&self, rule: GuardRule) -> bool {
        self.guard.has(rule)
    }

    /// ARP that is Ethernet/IPv4, from the guest's MAC, for one of its
    /// addresses (or 0.0.0.0, a probe).
    fn arp_rules(&self, chain: &str) -> Vec<NftRule> {
        if !self.on(GuardRule::Arp) {
            return Vec::new();
        }
        let rule = Some(GuardRule::Arp);
        let mut r = vec![
            Rule::new()
                .field(Base::Network, 4, CmpOp::Neq, &[6, 4])
                .drop()
                .done(chain, &tag(rule)),
            Rule::new()
                .field(Base::Network, 8, CmpOp::Neq, &self.mac)
                .drop()
                .done(chain, &tag(rule)),
        ];
        for net in std::iter::once(UNSPECIFIED_V4).chain(self.guard.ipv4.iter().copied()) {
            r.push(
                Rule::new()
                    .prefix(Base::Network, 14, &net.addr().octets(), net.prefix_len())
                    .verdict(Verdict::Return)
                    .done(chain, &tag(rule)),
            );
        }
        r.push(Rule::new().drop().done(chain, &tag(rule)));
        r
    }

    /// IPv4: no DHCP server replies; a source of the guest's, or a DHCP
    /// client's DISCOVER/REQUEST.
    fn ip_rules(&self, chain: &str) -> Vec<NftRule> {
        let mut r = Vec::new();
        if self.on(GuardRule::DhcpServer) {
            r.push(
                Rule::new()
                    .l4(IPPROTO_UDP)
                    .field(Base::Transport, 0, CmpOp::Eq, &67u16.to_be_bytes())
                    .drop()
                    .done(chain, &tag(Some(GuardRule::DhcpServer))),
            );
        }
        if self.on(GuardRule::Ipv4) {
            let rule = Some(GuardRule::Ipv4);
            // A DHCP client before it has an address.
            r.push(
                Rule::new()
                    .field(Base::Network, 12, CmpOp::Eq, &[0, 0, 0, 0])
                    .field(Base::Network, 16, CmpOp::Eq, &[255, 255, 255, 255])
                    .l4(IPPROTO_UDP)
                    .field(Base::Transport, 0, CmpOp::Eq, &[0, 68, 0, 67])
                    .verdict(Verdict::Return)
                    .done(chain, &tag(rule)),
            );
            for net in &self.guard.ipv4 {
                r.push(
                    Rule::new()
                        .prefix(Base::Network, 12, &net.addr().octets(), net.prefix_len())
                        .verdict(Verdict::Return)
                        .done(chain, &tag(rule)),
                );
            }
            r.push(Rule::new().drop().done(chain, &tag(rule)));
        }
        r
    }

    /// A neighbour advertisement's target must be the guest's.
    fn nd_rules(&self, chain: &str) -> Vec<NftRule> {
        if !self.on(GuardRule::Ipv6) {
            return Vec::new();
        }
        let rule = Some(GuardRule::Ipv6);
        let mut r: Vec<NftRule> = self
            .own_v6
            .iter()
            .map(|(addr, len)| {
                Rule::new()
                    .prefix(Base::Transport, 8, addr, *len)
                    .verdict(Verdict::Return)
                    .done(chain, &tag(rule))
            })
            .collect();
        r.push(Rule::new().drop().done(chain, &tag(rule)));
        r
    }

    /// IPv6: no router advertisements, redirects or DHCPv6 server replies;
    /// advertisements checked in `nd`; a source of the guest's, or `::`.
    fn ip6_rules(&self, chain: &str, nd: Option<&str>) -> Vec<NftRule> {
        let mut r = Vec::new();
        if self.on(GuardRule::RouterAdvertisement) {
            for kind in [134u8, 137] {
                r.push(
                    Rule::new()
                        .l4(IPPROTO_ICMPV6)
                        .field(Base::Transport, 0, CmpOp::Eq, &[kind])
                        .drop()
                        .done(chain, &tag(Some(GuardRule::RouterAdvertisement))),
                );
            }
        }
        if self.on(GuardRule::DhcpServer) {
            r.push(
                Rule::new()
                    .l4(IPPROTO_UDP)
                    .field(Base::Transport, 0, CmpOp::Eq, &547u16.to_be_bytes())
                    .drop()
                    .done(chain, &tag(Some(GuardRule::DhcpServer))),
            );
        }
        if let Some(nd) = nd {
            r.push(
                Rule::new()
                    .l4(IPPROTO_ICMPV6)
                    .field(Base::Transport, 0, CmpOp::Eq, &[136])
                    .verdict(Verdict::Jump(nd.to_string()))
                    .done(chain, &tag(Some(GuardRule::Ipv6))),
            );
        }
        if self.on(GuardRule::Ipv6) {
            let rule = Some(GuardRule::Ipv6);
            let unspecified = (vec![0u8; 16], 128);
            for (addr, len) in std::iter::once(&unspecified).chain(&self.own_v6) {
                r.push(
                    Rule::new()
                        .prefix(Base::Network, 8, addr, *len)
                        .verdict(Verdict::Return)
                        .done(chain, &tag(rule)),
                );
            }
            r.push(Rule::new().drop().done(chain, &tag(rule)));
        }
        r
    }

    /// The base chain: the source MAC, other ethertypes, then a jump per
    /// protocol that has a chain.
    fn base_rules(&self, chain: &str, jumps: &[([u8; 2], &str)]) -> Vec<NftRule> {
        let mut r = Vec::new();
        if self.on(GuardRule::SourceMac) {
            r.push(
                Rule::new()
                    .field(Base::Link, 6, CmpOp::Neq, &self.mac)
                    .drop()
                    .done(chain, &tag(Some(GuardRule::SourceMac))),
            );
        }
        if self.on(GuardRule::OtherL2) {
            let mut rule = Rule::new().then(Expr::Meta(MetaKey::Protocol));
            for t in [ETH_P_IP, ETH_P_IPV6, ETH_P_ARP] {
                rule = rule.then(Expr::Cmp(CmpOp::Neq, t.to_vec()));
            }
            r.push(rule.drop().done(chain, &tag(Some(GuardRule::OtherL2))));
        }
        for (ethertype, to) in jumps {
            r.push(
                Rule::new()
                    .protocol(*ethertype)
                    .verdict(Verdict::Jump(to.to_string()))
                    .done(chain, &tag(None)),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> GuestGuard {
        GuestGuard::new()
            .mac("52:54:00:00:00:01")
            .ipv4("192.0.2.10".parse::<std::net::Ipv4Addr>().unwrap())
            .ipv6("fd00::/64".parse::<ipnet::Ipv6Net>().unwrap())
    }

    #[test]
    fn a_guards_transaction_is_never_longer_than_counted() {
        // What the cutting into transactions counts with must not fall
        // short of what is sent (the kernel refuses a datagram longer than
        // the socket's buffer), nor overcount by much.
        let g = guard().ipv4("10.0.0.0/8".parse::<ipnet::Ipv4Net>().unwrap());
        let mac = g.resolve(None).unwrap();
        let mut want = chains(&g, mac, "br0", "vnet0");
        want.extend(chains(&g, mac, "a-long-bridge", "a-long-port0"));
        let delete: Vec<String> = want.iter().map(|c| c.name.clone()).collect();
        for (table, delete) in [("bridgekit", &[][..]), ("t", &delete[..])] {
            let sent = crate::netlink::replace_len(table, delete, &want);
            let counted = crate::netlink::nft_len(table, delete, &want);
            assert!(counted >= sent, "{counted} < {sent}");
            assert!(counted <= sent + sent / 10, "{counted} vs {sent}");
        }
        let delete_only = crate::netlink::replace_len("bridgekit", &delete, &[]);
        assert!(crate::netlink::nft_len("bridgekit", &delete, &[]) >= delete_only);
    }

    #[test]
    fn every_rule_gives_every_chain_and_the_base_chain_comes_last() {
        let g = guard();
        let mac = g.resolve(None).unwrap();
        let c = chains(&g, mac, "br0", "vnet0");
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "br0/vnet0/arp",
                "br0/vnet0/ip",
                "br0/vnet0/nd",
                "br0/vnet0/ip6",
                "br0/vnet0"
            ]
        );
        assert_eq!(c[4].hook, Some(NftHook::ingress("vnet0", PRIORITY)));
        assert!(c[..4].iter().all(|c| c.hook.is_none()));
        // Every chain that returns ends with a counted drop.
        for chain in &c[..4] {
            assert!(
                chain
                    .rules
                    .last()
                    .unwrap()
                    .comment
                    .starts_with("bridgekit ")
            );
        }
    }

    #[test]
    fn a_guard_with_only_router_advertisements_has_no_address_chains() {
        let g = GuardRule::ALL
            .into_iter()
            .filter(|r| *r != GuardRule::RouterAdvertisement)
            .fold(GuestGuard::new(), GuestGuard::without);
        let c = chains(&g, None, "br0", "vnet0");
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["br0/vnet0/ip6", "br0/vnet0"]);
        assert_eq!(c[0].rules.len(), 2);
        assert_eq!(c[1].rules.len(), 1);
    }

    #[test]
    fn a_changed_address_changes_the_fingerprints() {
        let a = chains(&guard(), guard().resolve(None).unwrap(), "br0", "vnet0");
        let g = guard().ipv4("192.0.2.11".parse::<std::net::Ipv4Addr>().unwrap());
        let b = chains(&g, g.resolve(None).unwrap(), "br0", "vnet0");
        assert_ne!(a, b);
        let again = chains(&guard(), guard().resolve(None).unwrap(), "br0", "vnet0");
        assert_eq!(a, again);
    }
}
