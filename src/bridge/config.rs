//! What a bridge should be: [`BridgeConfig`], its builder and its checks,
//! all made before any request.

use crate::error::{BadInput, InputKind};
use crate::forward::Forward;
use std::time::Duration;

use macaddr::MacAddr6;

use crate::bridge::port::{PortConfig, PortRef, ToPort};
use crate::engine::ipv6::Ipv6Guard;
use crate::error::{Error, Result};
use crate::values::address::ToAddress;
use crate::values::bridge_option::{BridgeOption, to_centiseconds};
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;
use ipnet::IpNet;

/// Below this MTU the kernel turns IPv6 off on the link.
pub(crate) const IPV6_MIN_MTU: u32 = 1280;
/// With STP on, the kernel keeps the forward delay within 2..=30 s (and
/// silently clamps values outside), so we refuse them instead.
pub(crate) const STP_FORWARD_DELAY: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(2)..=Duration::from_secs(30);

/// What a new bridge should look like. Unset fields keep the kernel's defaults.
///
/// Mirrors `ip link add NAME [address MAC] [mtu MTU] type bridge [stp_state
/// 0|1] [forward_delay CS] [ageing_time CS]`.
///
/// ```
/// use std::time::Duration;
/// use bridgekit::BridgeConfig;
/// let config = BridgeConfig::new("virbr0")?
///     .mac("52:54:00:12:34:56")
///     .mtu(1500)
///     .stp(false)
///     .forward_delay(Duration::ZERO);
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a config changes nothing until it is passed to create or apply"]
pub struct BridgeConfig {
    pub(crate) name: IfName,
    pub(crate) mac: Option<MacAddr6>,
    pub(crate) mtu: Option<u32>,
    pub(crate) stp: Option<bool>,
    pub(crate) forward_delay: Option<Duration>,
    pub(crate) ageing_time: Option<Duration>,
    pub(crate) ipv6_ready_without_ports: bool,
    /// The admin state asked for; `None`: what `create` does (see `up`).
    pub(crate) admin_up: Option<bool>,
    pub(crate) vlan_filtering: Option<bool>,
    pub(crate) options: Vec<BridgeOption>,
    pub(crate) accept_ra: Option<bool>,
    pub(crate) autoconf: Option<bool>,
    pub(crate) disable_ipv6: Option<bool>,
    pub(crate) addresses: Vec<IpNet>,
    pub(crate) ports: Vec<(PortRef, PortConfig)>,
    /// VXLAN devices to create if missing, each also one of `ports`.
    pub(crate) vxlans: Vec<crate::vxlan::VxlanConfig>,
    /// The forward mode; `None`: bridgekit keeps no forward rules for the
    /// bridge and leaves any it kept before alone.
    pub(crate) forward: Option<Forward>,
    /// The first bad address or port given to the builder, reported by validate().
    pub(crate) bad: Option<BadInput>,
}

impl BridgeConfig {
    /// A bridge named `name` with the kernel's defaults.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `name` is not a valid interface name.
    ///
    /// ```
    /// let config = bridgekit::BridgeConfig::new("br0")?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn new(name: impl AsRef<str>) -> Result<Self> {
        Ok(BridgeConfig {
            name: IfName::new(name)?,
            mac: None,
            mtu: None,
            stp: None,
            forward_delay: None,
            ageing_time: None,
            ipv6_ready_without_ports: true,
            admin_up: None,
            vlan_filtering: None,
            options: Vec::new(),
            accept_ra: None,
            autoconf: None,
            disable_ipv6: None,
            addresses: Vec::new(),
            ports: Vec::new(),
            vxlans: Vec::new(),
            forward: None,
            bad: None,
        })
    }

    /// 802.1Q VLAN filtering on or off (see [`Bridge::set_vlan_filtering`](crate::Bridge::set_vlan_filtering)).
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.vlan_filtering(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn vlan_filtering(mut self, on: bool) -> Self {
        self.vlan_filtering = Some(on);
        self
    }

    /// An address the bridge must have (repeatable). Addresses the bridge
    /// has beyond these (its link-local, say) are left alone.
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("virbr0")?.address("192.168.122.1/24").address("fd00:1::1/64");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn address(mut self, address: impl ToAddress) -> Self {
        match address.to_address() {
            Ok(net) => self.addresses.push(net),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// The bridge's forward mode: what the host does with its guests'
    /// traffic to and from the rest of the world (see [`Forward`]).
    /// bridgekit keeps the mode's nf_tables rules in the connection's
    /// table (inet family, chains `BRIDGE/forward` and `BRIDGE/nat`),
    /// turns on the namespace-wide forwarding sysctls NAT and routing
    /// need ([`NetSysctl`](crate::NetSysctl), never off again), and `apply`
    /// puts back rules someone else flushed. The mode's subnets are the
    /// networks of the config's addresses. Without a mode, bridgekit keeps
    /// no rules and leaves alone any it kept before: apply
    /// [`Forward::Open`] to take a mode's rules away.
    ///
    /// ```
    /// use bridgekit::{BridgeConfig, Forward};
    /// let virbr0 = BridgeConfig::new("virbr0")?
    ///     .address("192.168.122.1/24")
    ///     .forward(Forward::nat());
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn forward(mut self, mode: Forward) -> Self {
        self.forward = Some(mode);
        self
    }

    /// A port the bridge must have, configured as `config` (repeatable).
    /// Ports the bridge has beyond these are left alone.
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.port("uplink0", bridgekit::PortConfig::new().up());
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn port(mut self, port: impl ToPort, config: PortConfig) -> Self {
        match port.to_port() {
            Ok(p) => self.ports.push((p, config)),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// A VXLAN port: the device `vxlan` describes, created if missing
    /// (with its remotes, if it declares any), then attached like
    /// [`port`](Self::port) with `config`. `apply` never recreates an
    /// existing device: one with another VNI, local address, underlay or
    /// UDP port is refused, not flapped. Where `vxlan` declares remotes
    /// ([`VxlanConfig::remote`](crate::VxlanConfig::remote)), `apply`
    /// makes the device's static remotes exactly those, adding and
    /// removing only the differences; entries a control plane installed
    /// (`extern_learn`) are left alone, and so is every remote of a device
    /// that declares none.
    ///
    /// ```
    /// use bridgekit::{BridgeConfig, PortConfig, Remote, VxlanConfig};
    /// let c = BridgeConfig::new("br100")?.vxlan_port(
    ///     VxlanConfig::new("vx100", 100)?
    ///         .local("192.0.2.1".parse()?)
    ///         .underlay("eth0")
    ///         .learning(false)
    ///         .remote(Remote::flood("192.0.2.2".parse()?)),
    ///     PortConfig::new().learning(false).up(),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn vxlan_port(mut self, vxlan: crate::vxlan::VxlanConfig, config: PortConfig) -> Self {
        self = self.port(vxlan.name().as_str(), config);
        self.vxlans.push(vxlan);
        self
    }

    /// A fixed MAC (`address MAC`). The kernel then keeps it whatever ports
    /// join or leave ("sticky"), which is why libvirt's dummy tap is no
    /// longer needed. Must be unicast and non-zero (checked by `create`).
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.mac("52:54:00:12:34:56");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn mac(mut self, mac: impl ToMac) -> Self {
        match mac.to_mac() {
            Ok(mac) => self.mac = Some(mac),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// The MTU (`mtu MTU`), 68..=65535 (checked by `create`). Below 1280 the
    /// kernel turns IPv6 off on the bridge.
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.mtu(9000);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Kernel STP on or off (`type bridge stp_state 1|0`).
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.stp(false);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn stp(mut self, on: bool) -> Self {
        self.stp = Some(on);
        self
    }

    /// Forward delay (`type bridge forward_delay CENTISECONDS`), kept by the
    /// kernel in centiseconds (rounded to its clock tick). With STP on it
    /// must be 2..=30 s (checked by `create`).
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.forward_delay(std::time::Duration::ZERO);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn forward_delay(mut self, delay: Duration) -> Self {
        self.forward_delay = Some(delay);
        self
    }

    /// How long learned MAC entries live (`type bridge ageing_time CENTISECONDS`).
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.ageing_time(std::time::Duration::from_secs(300));
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn ageing_time(mut self, time: Duration) -> Self {
        self.ageing_time = Some(time);
        self
    }

    /// Whether `create` makes IPv6 work on the bridge before any port joins
    /// (default: `true`). Only matters with a fixed MAC or STP.
    ///
    /// A bridge with a fixed MAC or STP loses carrier while it has no
    /// forwarding port, and the kernel never starts DAD on a link without
    /// carrier: IPv6 addresses stay `tentative` forever. A bridge brought up
    /// while it still has carrier keeps IPv6 ready afterwards. So by default
    /// `create` makes the bridge without MAC and STP, turns automatic
    /// link-local addresses off, brings it up (carrier is on: IPv6 becomes
    /// ready), then sets the MAC and STP and adds the link-local address
    /// `fe80::` + EUI-64 of the fixed MAC by hand, the one the kernel would
    /// have derived. The bridge is then **up** when `create` returns.
    ///
    /// With `false`, the bridge is born in one message, fully configured
    /// and down; IPv6 DAD then needs an up port on the bridge.
    ///
    /// Taking such a bridge down and up again while it has no port loses
    /// IPv6 readiness again (and the kernel flushes its IPv6 addresses on
    /// down): see [`Bridge::up`](crate::Bridge::up).
    ///
    /// ```
    /// # let c = bridgekit::BridgeConfig::new("br0")?;
    /// let c = c.ipv6_ready_without_ports(false);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn ipv6_ready_without_ports(mut self, on: bool) -> Self {
        self.ipv6_ready_without_ports = on;
        self
    }

    /// The bridge up (`ip link set BRIDGE up`), as `create` leaves it and
    /// `apply` converges it; [`down`](Self::down) is the other way. Like
    /// [`PortConfig::up`](crate::PortConfig::up), it takes no flag.
    ///
    /// Unset, it is what `create` does: a bridge made ready for IPv6
    /// without ports (a fixed MAC or STP, see
    /// [`ipv6_ready_without_ports`](Self::ipv6_ready_without_ports)) comes
    /// up, in the staged order that keeps IPv6 DAD able to finish; other
    /// bridges are born down. `apply` then brings such a bridge up if it
    /// finds it down — as a daemon killed inside `create` leaves it — in
    /// the same order, and leaves the admin state of other bridges alone.
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.up();
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn up(mut self) -> Self {
        self.admin_up = Some(true);
        self
    }

    /// The bridge down (`ip link set BRIDGE down`), as `create` leaves it
    /// and `apply` converges it.
    ///
    /// Refused ([`Error::InvalidInput`]) on a bridge made ready for IPv6
    /// without ports: taking it down loses IPv6 readiness (add
    /// `ipv6_ready_without_ports(false)`).
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.down();
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn down(mut self) -> Self {
        self.admin_up = Some(false);
        self
    }

    /// Whether `create` makes the bridge in the staged order (down, no MAC,
    /// up, then MAC, STP and the link-local address by hand).
    pub(crate) fn staged(&self) -> bool {
        (self.mac.is_some() || self.stp == Some(true)) && self.ipv6_ready_without_ports
    }

    /// The admin state this config asks for, explicitly or by default.
    pub(crate) fn wanted_up(&self) -> Option<bool> {
        self.admin_up.or(self.staged().then_some(true))
    }

    /// A bridge option: STP hello time, max age and priority, group
    /// forwarding, multicast snooping and querier, per-VLAN statistics,
    /// multicast router mode (see [`BridgeOption`]). Repeatable; a later
    /// value of the same option replaces an earlier one. Values the kernel
    /// would refuse or change are refused by `create` and `apply` as
    /// [`Error::InvalidInput`] with the allowed range, before anything is
    /// sent; every option is read back.
    ///
    /// ```
    /// use bridgekit::{BridgeConfig, BridgeOption};
    /// let c = BridgeConfig::new("br0")?
    ///     .option(BridgeOption::MulticastSnooping(false))
    ///     .option(BridgeOption::GroupFwdMask(1 << 14)); // LLDP passes
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn option(mut self, option: BridgeOption) -> Self {
        self.options.retain(|o| o.kind() != option.kind());
        self.options.push(option);
        self
    }

    /// Whether the bridge takes IPv6 router advertisements from its link
    /// (`net.ipv6.conf.BRIDGE.accept_ra`). Default: **off** (`0`), set
    /// before the bridge first comes up.
    ///
    /// A bridge that serves guests is their gateway: with `accept_ra` on,
    /// any guest can send a router advertisement and give the host an
    /// address and a **default route** pointing at the guest (libvirt turns
    /// it off "to prevent guests from hijacking the host network"). Turn it
    /// on only for a bridge meant as the host's uplink. The kernel keeps
    /// the setting per device, so it survives a rename.
    ///
    /// ```
    /// // A bridge that is the host's uplink, configured by the LAN's router.
    /// let uplink = bridgekit::BridgeConfig::new("br-lan")?.accept_ra(true).autoconf(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn accept_ra(mut self, on: bool) -> Self {
        self.accept_ra = Some(on);
        self
    }

    /// Whether the bridge makes addresses from advertised prefixes (SLAAC,
    /// `net.ipv6.conf.BRIDGE.autoconf`). Default: **off** (`0`), set before
    /// the bridge first comes up: an interface used as a gateway must never
    /// autoconfigure (see [`accept_ra`](Self::accept_ra)).
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br-lan")?.autoconf(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn autoconf(mut self, on: bool) -> Self {
        self.autoconf = Some(on);
        self
    }

    /// IPv6 off on the bridge (`net.ipv6.conf.BRIDGE.disable_ipv6`): no
    /// IPv6 address at all, not even link-local, so guests cannot reach the
    /// host over IPv6 on this link.
    ///
    /// Default, as libvirt does: **off (IPv6 disabled) when the config
    /// names addresses and none of them is IPv6** (an IPv4-only network),
    /// unless [`accept_ra`](Self::accept_ra) or [`autoconf`](Self::autoconf)
    /// is turned on; **on** when the config names an IPv6 address or turns
    /// either of those on. A config that names no address at all leaves it
    /// as the kernel gives a new link (the namespace's
    /// `net.ipv6.conf.default.disable_ipv6`, normally IPv6 on), because
    /// addresses may follow through [`Bridge::add_address`](crate::Bridge::add_address), and an empty
    /// bridge with a fixed MAC can only get IPv6 ready for DAD while it is
    /// created (see [`ipv6_ready_without_ports`](Self::ipv6_ready_without_ports));
    /// say `disable_ipv6(true)` for a bridge that should never have IPv6.
    /// Turning IPv6 off flushes the bridge's IPv6 addresses.
    ///
    /// ```
    /// // A pure layer-2 bridge: no host address of either family.
    /// let c = bridgekit::BridgeConfig::new("br-l2")?.disable_ipv6(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn disable_ipv6(mut self, on: bool) -> Self {
        self.disable_ipv6 = Some(on);
        self
    }

    /// The IPv6 settings this config asks for, defaults resolved.
    pub(crate) fn ipv6_guard(&self) -> Ipv6Guard {
        let accept_ra = self.accept_ra.unwrap_or(false);
        let autoconf = self.autoconf.unwrap_or(false);
        let ipv4_only =
            !self.addresses.is_empty() && self.addresses.iter().all(|a| a.addr().is_ipv4());
        let default = if ipv4_only && !accept_ra && !autoconf {
            Some(true)
        } else if self.wants_ipv6() {
            Some(false)
        } else {
            None // no address named: as the kernel gives it
        };
        Ipv6Guard {
            accept_ra,
            autoconf,
            disable_ipv6: self.disable_ipv6.or(default),
        }
    }

    /// Whether the config asks for IPv6 in so many words: an IPv6 address,
    /// or one of its settings turned on. Only then does a kernel without
    /// IPv6 make `create` fail.
    pub(crate) fn wants_ipv6(&self) -> bool {
        self.addresses.iter().any(|a| a.addr().is_ipv6())
            || self.accept_ra == Some(true)
            || self.autoconf == Some(true)
            || self.disable_ipv6 == Some(false)
    }

    /// The name of the bridge this config describes.
    ///
    /// ```
    /// assert_eq!(bridgekit::BridgeConfig::new("br0")?.name().as_str(), "br0");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The ports this config names, in the order given.
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.port("vnet0", bridgekit::PortConfig::new());
    /// assert_eq!(c.ports().map(|p| p.to_string()).collect::<Vec<_>>(), ["vnet0"]);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn ports(&self) -> impl ExactSizeIterator<Item = &PortRef> + '_ {
        self.ports.iter().map(|(p, _)| p)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        self.validate_ports()?;
        if let Some(mac) = self.mac {
            validate_unicast(mac)?;
        }
        if self.admin_up == Some(false) && self.staged() {
            return Err(Error::invalid(
                InputKind::Ipv6Settings,
                "admin state down",
                "a bridge made ready for IPv6 without ports comes up in create and loses IPv6 \
                 readiness when taken down; add ipv6_ready_without_ports(false) to keep it down",
            ));
        }
        for option in &self.options {
            option.validate()?;
        }
        if let Some(mtu) = self.mtu {
            validate_mtu(mtu)?;
            if mtu < IPV6_MIN_MTU && self.wants_ipv6() {
                return Err(Error::invalid(
                    InputKind::Mtu,
                    format!("MTU {mtu} with IPv6"),
                    format!("the kernel turns IPv6 off on a link with an MTU below {IPV6_MIN_MTU}"),
                ));
            }
        }
        if self.disable_ipv6 == Some(true) {
            if let Some(v6) = self.addresses.iter().find(|a| a.addr().is_ipv6()) {
                return Err(Error::invalid(
                    InputKind::Ipv6Settings,
                    format!("address {v6} with disable_ipv6(true)"),
                    "a bridge with IPv6 off takes no IPv6 address",
                ));
            }
            if self.accept_ra == Some(true) || self.autoconf == Some(true) {
                return Err(Error::invalid(
                    InputKind::Ipv6Settings,
                    "accept_ra/autoconf on with disable_ipv6(true)",
                    "router advertisements need IPv6 on",
                ));
            }
        }
        if let Some(d) = self.forward_delay {
            to_centiseconds("forward delay", d)?;
            if self.stp == Some(true) && !STP_FORWARD_DELAY.contains(&d) {
                return Err(Error::invalid(
                    InputKind::BridgeOption,
                    format!("forward delay {d:?}"),
                    "with STP on the kernel requires 2..=30 s",
                ));
            }
        }
        if let Some(t) = self.ageing_time {
            to_centiseconds("ageing time", t)?;
        }
        if let Some(mode) = &self.forward {
            self.validate_forward(mode)?;
        }
        Ok(())
    }

    /// A forward mode's uplink is not the bridge, and a mode that forwards
    /// has subnets to forward for: an IPv4 address for NAT (IPv6 too with
    /// NAT66), any for routing.
    fn validate_forward(&self, mode: &Forward) -> Result<()> {
        if mode.uplink() == Some(&self.name) {
            return Err(Error::invalid(
                InputKind::Forward,
                format!("uplink {}", self.name),
                "a bridge cannot be its own uplink",
            ));
        }
        let nets = crate::forward::rules::Subnets::of(&self.addresses);
        let missing = match mode {
            Forward::Nat { .. } if nets.v4.is_empty() && !mode.masquerades_ipv6() => {
                Some("NAT needs an IPv4 address on the bridge (its subnet is what it masquerades)")
            }
            Forward::Nat { .. } if nets.v4.is_empty() && nets.v6.is_empty() => {
                Some("NAT needs an address on the bridge (its subnet is what it masquerades)")
            }
            Forward::Routed { .. } if nets.v4.is_empty() && nets.v6.is_empty() => {
                Some("routing needs an address on the bridge (its subnet is what it routes)")
            }
            _ => None,
        };
        match missing {
            Some(why) => Err(Error::invalid(
                InputKind::Forward,
                format!("forward mode {mode}"),
                why,
            )),
            None => Ok(()),
        }
    }

    /// Each port's and VXLAN port's own checks, and one config per port.
    fn validate_ports(&self) -> Result<()> {
        for (i, vx) in self.vxlans.iter().enumerate() {
            vx.validate()?;
            if self.vxlans[..i].iter().any(|o| o.name() == vx.name()) {
                return Err(Error::invalid(
                    InputKind::Port,
                    format!("VXLAN port {}", vx.name()),
                    "is declared twice",
                ));
            }
        }
        for (i, (port, cfg)) in self.ports.iter().enumerate() {
            cfg.validate()?;
            // Two configs for one port would each be applied in turn: every
            // apply would flap it between them.
            if self.ports[..i].iter().any(|(o, _)| o == port) {
                return Err(Error::invalid(
                    InputKind::Port,
                    format!("port {port} of bridge {}", self.name),
                    "is declared twice (one config per port)",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centiseconds_round_and_limit() {
        assert_eq!(
            to_centiseconds("x", Duration::from_millis(1504)).unwrap(),
            150
        );
        assert_eq!(
            to_centiseconds("x", Duration::from_millis(1505)).unwrap(),
            151
        );
        assert!(to_centiseconds("x", Duration::from_secs(50_000_000)).is_err());
    }

    #[test]
    fn config_validation() {
        let c = || BridgeConfig::new("br0").unwrap();
        assert!(c().mtu(67).validate().is_err());
        assert!(c().mtu(65536).validate().is_err());
        assert!(c().mtu(68).validate().is_ok());
        assert!(c().mac("01:00:00:00:00:01").validate().is_err());
        assert!(
            c().stp(true)
                .forward_delay(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(
            c().stp(false)
                .forward_delay(Duration::ZERO)
                .validate()
                .is_ok()
        );
        assert!(
            c().stp(true)
                .forward_delay(Duration::from_secs(2))
                .validate()
                .is_ok()
        );
    }
}
