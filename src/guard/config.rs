//! [`GuestGuard`]: what a guest may send, as a value.

use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};
use macaddr::MacAddr6;

use crate::error::{BadInput, Error, InputKind, Result};
use crate::values::mac::{ToMac, validate_unicast};

/// A class of frames a [`GuestGuard`] drops; each is on unless taken out
/// with [`GuestGuard::without`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum GuardRule {
    /// Frames whose source MAC is not the guest's. Without it, a guest can
    /// send as any MAC: it can take over another guest's FDB entry where
    /// the bridge learns, and flood the table. This is MAC anti-spoofing on
    /// every kernel (the port flag `locked` needs 5.18).
    SourceMac,
    /// ARP whose sender MAC is not the guest's, or whose sender address is
    /// not one of its IPv4 addresses (0.0.0.0, an ARP probe, stays
    /// allowed); ARP that is not Ethernet/IPv4. Gratuitous ARP for another
    /// address is covered: its sender address is that address. Without it,
    /// a guest can answer ARP for the gateway or a neighbour and take their
    /// traffic.
    Arp,
    /// IPv4 from a source that is not one of the guest's addresses or
    /// prefixes. A DHCP client's DISCOVER and REQUEST (0.0.0.0 →
    /// 255.255.255.255, UDP 68 → 67) stay allowed.
    Ipv4,
    /// IPv6 from a source other than the guest's addresses or prefixes,
    /// the link-local address its MAC gives (EUI-64) and `::` (DAD); and
    /// neighbour advertisements for a target that is not one of those.
    /// A guest that makes its link-local address another way (RFC 7217
    /// stable privacy) needs it given with [`GuestGuard::ipv6`].
    Ipv6,
    /// Router advertisements (ICMPv6 134) and redirects (137): without
    /// it, a guest can become every other guest's IPv6 default router.
    RouterAdvertisement,
    /// DHCP server replies: UDP from port 67 (DHCPv4) and from port 547
    /// (DHCPv6). Without it, a guest can hand the others a gateway and DNS
    /// of its choosing.
    DhcpServer,
    /// Ethertypes other than IPv4, IPv6 and ARP (after a VLAN tag): LLDP,
    /// STP, 802.1X, raw Ethernet protocols.
    OtherL2,
}

impl GuardRule {
    /// Every rule, in the order the guard checks them.
    pub const ALL: [GuardRule; 7] = [
        GuardRule::SourceMac,
        GuardRule::OtherL2,
        GuardRule::Arp,
        GuardRule::Ipv4,
        GuardRule::DhcpServer,
        GuardRule::RouterAdvertisement,
        GuardRule::Ipv6,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The rule's name in a rule's comment and in `nft list` output
    /// (`source-mac`, `router-advertisement`).
    ///
    /// ```
    /// assert_eq!(bridgekit::GuardRule::SourceMac.name(), "source-mac");
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            GuardRule::SourceMac => "source-mac",
            GuardRule::Arp => "arp",
            GuardRule::Ipv4 => "ipv4",
            GuardRule::Ipv6 => "ipv6",
            GuardRule::RouterAdvertisement => "router-advertisement",
            GuardRule::DhcpServer => "dhcp-server",
            GuardRule::OtherL2 => "other-l2",
        }
    }
}

impl std::fmt::Display for GuardRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A guest guard: what a guest behind a port may send. Frames from the
/// guest that break a rule are dropped (and counted) on the port's
/// ingress, before the bridge sees them; traffic to the guest is not
/// filtered. The defaults are libvirt's `clean-traffic` filter: every
/// [`GuardRule`] on.
///
/// The guest's MAC is [`mac`](Self::mac), or else the MAC of a
/// [`PortConfig::managed`](crate::PortConfig::managed) port. Its IPv4 and
/// IPv6 addresses are what the VM manager hands out (by DHCP, or
/// statically); bridgekit does not snoop DHCP to learn them.
///
/// Installed with the port by
/// [`PortConfig::guest_guard`](crate::PortConfig::guest_guard), in an
/// nf_tables table of the connection's (see
/// [`Netlink::with_guard_table`](crate::Netlink::with_guard_table)).
///
/// ```
/// use bridgekit::{GuardRule, GuestGuard};
/// let guard = GuestGuard::new()
///     .mac("52:54:00:12:34:56")
///     .ipv4("192.168.122.10".parse::<std::net::Ipv4Addr>()?)
///     .ipv6("fd00:1::/64".parse::<ipnet::Ipv6Net>()?)
///     .without(GuardRule::OtherL2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a guard does nothing until it is part of a PortConfig"]
pub struct GuestGuard {
    pub(crate) mac: Option<MacAddr6>,
    pub(crate) ipv4: Vec<Ipv4Net>,
    pub(crate) ipv6: Vec<Ipv6Net>,
    /// The rules taken out, as bits of [`GuardRule`].
    off: u8,
    pub(crate) bad: Option<BadInput>,
}

impl Default for GuestGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestGuard {
    /// Every rule on, no addresses yet, the MAC from the port.
    ///
    /// ```
    /// let guard = bridgekit::GuestGuard::new();
    /// ```
    pub fn new() -> Self {
        GuestGuard {
            mac: None,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            off: 0,
            bad: None,
        }
    }

    /// The guest's MAC (unicast).
    ///
    /// ```
    /// let guard = bridgekit::GuestGuard::new().mac("52:54:00:12:34:56");
    /// ```
    pub fn mac(mut self, mac: impl ToMac) -> Self {
        match mac.to_mac().and_then(validate_unicast) {
            Ok(m) => self.mac = Some(m),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// An IPv4 address (`Ipv4Addr`, a /32) or prefix the guest may send
    /// from.
    ///
    /// ```
    /// let guard = bridgekit::GuestGuard::new()
    ///     .ipv4("192.168.122.10".parse::<std::net::Ipv4Addr>()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ipv4(mut self, net: impl Into<Ipv4Net>) -> Self {
        let net = net.into().trunc();
        if !self.ipv4.contains(&net) {
            self.ipv4.push(net);
        }
        self
    }

    /// An IPv6 address (`Ipv6Addr`, a /128) or prefix (a SLAAC /64) the
    /// guest may send from, and advertise as a neighbour.
    ///
    /// ```
    /// let guard = bridgekit::GuestGuard::new().ipv6("fd00:1::/64".parse::<ipnet::Ipv6Net>()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ipv6(mut self, net: impl Into<Ipv6Net>) -> Self {
        let net = net.into().trunc();
        if !self.ipv6.contains(&net) {
            self.ipv6.push(net);
        }
        self
    }

    /// Takes a rule out: frames of its class pass.
    ///
    /// ```
    /// use bridgekit::{GuardRule, GuestGuard};
    /// let guard = GuestGuard::new().without(GuardRule::OtherL2);
    /// assert!(!guard.has(GuardRule::OtherL2));
    /// ```
    pub fn without(mut self, rule: GuardRule) -> Self {
        self.off |= rule.bit();
        self
    }

    /// Puts a rule back.
    ///
    /// ```
    /// use bridgekit::{GuardRule, GuestGuard};
    /// let guard = GuestGuard::new().without(GuardRule::Arp).with(GuardRule::Arp);
    /// assert!(guard.has(GuardRule::Arp));
    /// ```
    pub fn with(mut self, rule: GuardRule) -> Self {
        self.off &= !rule.bit();
        self
    }

    /// Whether `rule` is on.
    ///
    /// ```
    /// assert!(bridgekit::GuestGuard::new().has(bridgekit::GuardRule::Ipv4));
    /// ```
    #[must_use]
    pub fn has(&self, rule: GuardRule) -> bool {
        self.off & rule.bit() == 0
    }

    /// The rules that are on, in the order they are checked.
    ///
    /// ```
    /// assert_eq!(bridgekit::GuestGuard::new().rules().count(), 7);
    /// ```
    pub fn rules(&self) -> impl Iterator<Item = GuardRule> + '_ {
        GuardRule::ALL.into_iter().filter(|r| self.has(*r))
    }

    /// The guest's MAC: the guard's own, else the managed port's.
    /// [`Error::InvalidInput`] if a rule needs one and there is none, or
    /// for a bad input given to a builder.
    pub(crate) fn resolve(&self, port_mac: Option<MacAddr6>) -> Result<Option<MacAddr6>> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        let mac = self.mac.or(port_mac);
        let needs = [GuardRule::SourceMac, GuardRule::Arp, GuardRule::Ipv6]
            .into_iter()
            .find(|r| self.has(*r));
        match (mac, needs) {
            (None, Some(rule)) => Err(Error::invalid(
                InputKind::Guard,
                format!("guest guard rule {rule}"),
                "needs the guest's MAC: GuestGuard::mac, or a PortConfig::managed port",
            )),
            (mac, _) => Ok(mac),
        }
    }
}

/// The unspecified IPv4 address as a /32, a DHCP client's and an ARP
/// probe's source.
pub(crate) const UNSPECIFIED_V4: Ipv4Net = match Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 32) {
    Ok(n) => n,
    Err(_) => unreachable!(),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_that_needs_the_mac_without_one_is_refused() {
        let e = GuestGuard::new().resolve(None).unwrap_err();
        assert!(e.to_string().contains("needs the guest's MAC"), "{e}");
        let only_ra = GuardRule::ALL
            .into_iter()
            .filter(|r| *r != GuardRule::RouterAdvertisement)
            .fold(GuestGuard::new(), GuestGuard::without);
        assert_eq!(only_ra.resolve(None).unwrap(), None);
        let mac: MacAddr6 = "52:54:00:00:00:01".parse().unwrap();
        assert_eq!(GuestGuard::new().resolve(Some(mac)).unwrap(), Some(mac));
        assert!(
            GuestGuard::new()
                .mac("nonsense")
                .resolve(Some(mac))
                .is_err()
        );
        assert!(
            GuestGuard::new()
                .mac("01:00:5e:00:00:01")
                .resolve(None)
                .is_err()
        );
    }
}
