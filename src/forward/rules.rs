//! A bridge's forward mode as nf_tables chains, in the connection's table
//! of the inet family: a filter chain on the forward hook, and for NAT a
//! nat chain on postrouting. For `br0`, NAT through `eth0` with
//! 10.0.0.0/24, as `nft list table inet bridgekit` shows it:
//!
//! ```text
//! chain br0/forward { type filter hook forward priority filter; policy accept;
//!   oifname "br0" iifname "eth0" ip daddr 10.0.0.0/24 ct state established,related accept
//!   oifname "br0" reject with icmpx admin-prohibited
//!   iifname "br0" oifname "br0" accept
//!   iifname "br0" oifname "eth0" ip saddr 10.0.0.0/24 accept
//!   iifname "br0" reject with icmpx admin-prohibited
//! }
//! chain br0/nat { type nat hook postrouting priority srcnat; policy accept;
//!   ip saddr 10.0.0.0/24 ip daddr 224.0.0.0/24 return
//!   ip saddr 10.0.0.0/24 ip daddr 255.255.255.255 return
//!   ip saddr 10.0.0.0/24 ip daddr != 10.0.0.0/24 oifname "eth0" masquerade
//! }
//! ```
//!
//! These are libvirt's rules (its nftables backend, `network_nftables.c`),
//! one base chain per bridge: an accept ends only the chain it is in, so
//! each bridge's chain decides for its own guests whatever another
//! bridge's chain accepted, and a reject in any chain is final. The
//! priorities are the standard ones (filter 0, srcnat 100): a chain of
//! another table on the same hook (firewalld's, docker's) still sees
//! every packet and may drop it; bridgekit's accept does not overrule it.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::config::Forward;
use crate::netlink::{
    CmpOp, CtKey, Expr, MetaKey, NftBase as Base, NftChain, NftHook, NftRuleBuilder as Rule,
    Verdict,
};

/// The forward chain's priority (`NF_IP_PRI_FILTER`).
pub(crate) const FORWARD_PRIORITY: i32 = 0;
/// The nat chain's priority (`NF_IP_PRI_NAT_SRC`).
pub(crate) const NAT_PRIORITY: i32 = 100;
/// `NFPROTO_IPV4`, `NFPROTO_IPV6`: the packet's family in an inet chain.
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
/// `NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)`.
const ESTABLISHED_RELATED: u32 = 2 | 4;

/// Every chain a bridge's forward mode may have.
pub(crate) fn chain_names(bridge: &str) -> Vec<String> {
    vec![format!("{bridge}/forward"), format!("{bridge}/nat")]
}

/// The subnets a bridge forwards for: its addresses' networks, without
/// IPv6 link-local ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Subnets {
    pub(crate) v4: Vec<Ipv4Net>,
    pub(crate) v6: Vec<Ipv6Net>,
}

impl Subnets {
    pub(crate) fn of(addresses: &[IpNet]) -> Self {
        let mut out = Subnets::default();
        for net in addresses {
            match net.trunc() {
                IpNet::V4(n) if !out.v4.contains(&n) => out.v4.push(n),
                IpNet::V6(n)
                    if !out.v6.contains(&n) && (n.addr().segments()[0] & 0xffc0) != 0xfe80 =>
                {
                    out.v6.push(n)
                }
                _ => {}
            }
        }
        out
    }
}

/// A subnet matched as a packet's source or destination.
#[derive(Clone, Copy)]
enum Net {
    V4(Ipv4Net),
    V6(Ipv6Net),
}

impl Net {
    /// The packet is of this family and its source (`dst` false) or
    /// destination is (`Eq`) or is not (`Neq`) within the subnet.
    fn matches(self, rule: Rule, dst: bool, op: CmpOp) -> Rule {
        // The family, the source's offset in its header, the network.
        let (family, src, bytes, len) = match self {
            Net::V4(n) => (NFPROTO_IPV4, 12, n.addr().octets().to_vec(), n.prefix_len()),
            Net::V6(n) => (NFPROTO_IPV6, 8, n.addr().octets().to_vec(), n.prefix_len()),
        };
        // The destination follows the source.
        let offset = if dst { src + bytes.len() as u32 } else { src };
        rule.meta(MetaKey::NfProto, CmpOp::Eq, &[family]).prefix_op(
            Base::Network,
            offset,
            &bytes,
            len,
            op,
        )
    }
}

/// The NUL-terminated name `meta iifname`/`oifname` compares with.
fn ifname(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    v
}

fn iif(rule: Rule, name: &str) -> Rule {
    rule.meta(MetaKey::IifName, CmpOp::Eq, &ifname(name))
}

fn oif(rule: Rule, name: &str) -> Rule {
    rule.meta(MetaKey::OifName, CmpOp::Eq, &ifname(name))
}

/// The packet belongs to a connection seen both ways, or is related to
/// one (an ICMP error about it).
fn established(rule: Rule) -> Rule {
    rule.then(Expr::Ct(CtKey::State))
        .then(Expr::Mask(ESTABLISHED_RELATED.to_ne_bytes().to_vec()))
        .then(Expr::Cmp(CmpOp::Neq, vec![0; 4]))
}

/// The chains of `mode` for `bridge` with `nets`; none for
/// [`Forward::Open`].
pub(crate) fn chains(mode: &Forward, bridge: &str, nets: &Subnets) -> Vec<NftChain> {
    let [forward, nat] = [0, 1].map(|i| chain_names(bridge)[i].clone());
    let tag = format!("bridgekit forward {}", mode.name());
    let done = |rule: Rule, chain: &str| rule.done(chain, &tag);
    let reject = |rule: Rule| rule.then(Expr::Reject);
    let accept = |rule: Rule| rule.verdict(Verdict::Accept);
    let all: Vec<(Net, bool)> = nets
        .v4
        .iter()
        .map(|n| (Net::V4(*n), true))
        .chain(
            nets.v6
                .iter()
                .map(|n| (Net::V6(*n), mode.masquerades_ipv6())),
        )
        .collect();
    let uplink = mode.uplink().map(|u| u.as_str());
    let mut rules = Vec::new();
    match mode {
        Forward::Open => return Vec::new(),
        Forward::Isolated => {
            rules.push(done(
                accept(oif(iif(Rule::new(), bridge), bridge)),
                &forward,
            ));
            rules.push(done(reject(iif(Rule::new(), bridge)), &forward));
            rules.push(done(reject(oif(Rule::new(), bridge)), &forward));
        }
        Forward::Nat { .. } | Forward::Routed { .. } => {
            let nat = matches!(mode, Forward::Nat { .. });
            // In: to the bridge's subnets; answers only, where masqueraded.
            for (net, masqueraded) in &all {
                let mut rule = oif(Rule::new(), bridge);
                if let Some(u) = uplink {
                    rule = iif(rule, u);
                }
                rule = net.matches(rule, true, CmpOp::Eq);
                if nat && *masqueraded {
                    rule = established(rule);
                }
                rules.push(done(accept(rule), &forward));
            }
            rules.push(done(reject(oif(Rule::new(), bridge)), &forward));
            // Across: between subnets of the bridge.
            rules.push(done(
                accept(oif(iif(Rule::new(), bridge), bridge)),
                &forward,
            ));
            // Out: from the bridge's subnets, through the uplink.
            for (net, _) in &all {
                let mut rule = iif(Rule::new(), bridge);
                if let Some(u) = uplink {
                    rule = oif(rule, u);
                }
                rules.push(done(accept(net.matches(rule, false, CmpOp::Eq)), &forward));
            }
            rules.push(done(reject(iif(Rule::new(), bridge)), &forward));
        }
    }
    let mut out = vec![NftChain {
        name: forward.clone(),
        hook: Some(NftHook::forward(FORWARD_PRIORITY)),
        rules,
    }];
    if let Forward::Nat { .. } = mode {
        let mut rules = Vec::new();
        for (net, masqueraded) in &all {
            if !masqueraded {
                continue;
            }
            // Multicast and broadcast keep their source.
            let keep: Vec<Net> = match net {
                Net::V4(_) => vec![
                    Net::V4("224.0.0.0/24".parse().expect("a network")),
                    Net::V4("255.255.255.255/32".parse().expect("a network")),
                ],
                Net::V6(_) => vec![Net::V6("ff00::/8".parse().expect("a network"))],
            };
            for k in keep {
                let rule = net.matches(Rule::new(), false, CmpOp::Eq);
                rules.push(done(
                    k.matches(rule, true, CmpOp::Eq).verdict(Verdict::Return),
                    &nat,
                ));
            }
            let mut rule = net.matches(Rule::new(), false, CmpOp::Eq);
            rule = net.matches(rule, true, CmpOp::Neq);
            if let Some(u) = uplink {
                rule = oif(rule, u);
            }
            rules.push(done(rule.then(Expr::Masquerade), &nat));
        }
        out.push(NftChain {
            name: nat,
            hook: Some(NftHook::postrouting_nat(NAT_PRIORITY)),
            rules,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets() -> Subnets {
        Subnets::of(&[
            "10.0.0.1/24".parse().unwrap(),
            "10.0.0.7/24".parse().unwrap(),
            "fd00::1/64".parse().unwrap(),
            "fe80::1/64".parse().unwrap(),
        ])
    }

    #[test]
    fn subnets_are_the_networks_without_link_local_ones() {
        let n = nets();
        assert_eq!(n.v4, ["10.0.0.0/24".parse::<Ipv4Net>().unwrap()]);
        assert_eq!(n.v6, ["fd00::/64".parse::<Ipv6Net>().unwrap()]);
    }

    #[test]
    fn each_mode_has_its_chains() {
        assert!(chains(&Forward::Open, "br0", &nets()).is_empty());
        let iso = chains(&Forward::Isolated, "br0", &nets());
        assert_eq!(iso.len(), 1);
        assert_eq!(iso[0].rules.len(), 3);
        let nat = chains(&Forward::nat(), "br0", &nets());
        assert_eq!(
            nat.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["br0/forward", "br0/nat"]
        );
        // In (v4, v6), reject, across, out (v4, v6), reject.
        assert_eq!(nat[0].rules.len(), 7);
        // Two returns and a masquerade for the IPv4 subnet only.
        assert_eq!(nat[1].rules.len(), 3);
        let nat66 = chains(&Forward::nat66(), "br0", &nets());
        assert_eq!(nat66[1].rules.len(), 5);
        let routed = chains(&Forward::routed(), "br0", &nets());
        assert_eq!(routed.len(), 1);
        // Another mode, another uplink: other rules, other fingerprints.
        let via = chains(&Forward::nat().via("eth0").unwrap(), "br0", &nets());
        assert_ne!(via[0].rules[0].comment, nat[0].rules[0].comment);
        assert_ne!(routed[0].rules[0].comment, nat[0].rules[0].comment);
    }
}
