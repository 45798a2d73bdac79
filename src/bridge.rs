//! `Bridge`: create, open, configure, inspect and delete a Linux bridge.

use std::time::Duration;

use macaddr::MacAddr6;
use tracing::{debug, warn};

use crate::address::AddressStatus;
use crate::address::ToAddress;
use crate::apply::Change;
use crate::bridge_options::{BridgeOption, MulticastRouter, OptionKind};
use crate::complete::run_to_end;
use crate::error::{Error, Op, Result};
use crate::hardening::{self, Ipv6Guard};
use crate::journal::{Journal, Step};
use crate::legacy::{self, LegacyNic};
use crate::mac::{ToMac, validate_unicast};
use crate::name::IfName;
use crate::netlink::{BridgeOptions, LinkChange, LinkRef, LinkSnapshot, Netlink};
use crate::port::{PortConfig, PortRef, PortStatus, ToPort};
use crate::state::OperState;
use crate::sysctl::Ipv6Sysctl;
use crate::vlan::{VlanId, VlanProtocol};
use ipnet::IpNet;

/// Smallest MTU the kernel accepts on an Ethernet-like link.
pub const MIN_MTU: u32 = 68;
/// Largest MTU a bridge accepts.
pub const MAX_MTU: u32 = 65535;
/// Below this MTU the kernel turns IPv6 off on the link.
const IPV6_MIN_MTU: u32 = 1280;
/// With STP on, the kernel keeps the forward delay within 2..=30 s (and
/// silently clamps values outside), so we refuse them instead.
const STP_FORWARD_DELAY: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(2)..=Duration::from_secs(30);
/// `addr_assign_type` value of a MAC set explicitly (`NET_ADDR_SET`).
const NET_ADDR_SET: &str = "3";

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
    /// The first bad address or port given to the builder, reported by validate().
    pub(crate) bad: Option<(String, String)>,
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
            bad: None,
        })
    }

    /// 802.1Q VLAN filtering on or off (see [`Bridge::set_vlan_filtering`]).
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
            Err(e) => self.remember_bad(e),
        }
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
            Err(e) => self.remember_bad(e),
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

    fn remember_bad(&mut self, e: Error) {
        if self.bad.is_none() {
            if let Error::InvalidInput { what, reason } = e {
                self.bad = Some((what, reason));
            }
        }
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
            Err(e) => self.remember_bad(e),
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
    /// down): see [`Bridge::up`].
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

    /// The admin state (`ip link set BRIDGE up|down`) that `create` leaves
    /// and `apply` converges to.
    ///
    /// Unset, it is what `create` does: a bridge made ready for IPv6
    /// without ports (a fixed MAC or STP, see
    /// [`ipv6_ready_without_ports`](Self::ipv6_ready_without_ports)) comes
    /// up, in the staged order that keeps IPv6 DAD able to finish; other
    /// bridges are born down. `apply` then brings such a bridge up if it
    /// finds it down — as a daemon killed inside `create` leaves it — in
    /// the same order, and leaves the admin state of other bridges alone.
    ///
    /// `up(false)` on a bridge made ready for IPv6 without ports is refused
    /// ([`Error::InvalidInput`]): taking it down loses IPv6 readiness (add
    /// `ipv6_ready_without_ports(false)`).
    ///
    /// ```
    /// let c = bridgekit::BridgeConfig::new("br0")?.up(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn up(mut self, on: bool) -> Self {
        self.admin_up = Some(on);
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
    /// addresses may follow through [`Bridge::add_address`], and an empty
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
        if let Some((what, reason)) = &self.bad {
            return Err(Error::invalid(what.clone(), reason.clone()));
        }
        for (i, vx) in self.vxlans.iter().enumerate() {
            vx.validate()?;
            if self.vxlans[..i].iter().any(|o| o.name() == vx.name()) {
                return Err(Error::invalid(
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
                    format!("port {port} of bridge {}", self.name),
                    "is declared twice (one config per port)",
                ));
            }
        }
        if let Some(mac) = self.mac {
            validate_unicast(mac)?;
        }
        if self.admin_up == Some(false) && self.staged() {
            return Err(Error::invalid(
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
                    format!("MTU {mtu} with IPv6"),
                    format!("the kernel turns IPv6 off on a link with an MTU below {IPV6_MIN_MTU}"),
                ));
            }
        }
        if self.disable_ipv6 == Some(true) {
            if let Some(v6) = self.addresses.iter().find(|a| a.addr().is_ipv6()) {
                return Err(Error::invalid(
                    format!("address {v6} with disable_ipv6(true)"),
                    "a bridge with IPv6 off takes no IPv6 address",
                ));
            }
            if self.accept_ra == Some(true) || self.autoconf == Some(true) {
                return Err(Error::invalid(
                    "accept_ra/autoconf on with disable_ipv6(true)",
                    "router advertisements need IPv6 on",
                ));
            }
        }
        if let Some(d) = self.forward_delay {
            to_centiseconds("forward delay", d)?;
            if self.stp == Some(true) && !STP_FORWARD_DELAY.contains(&d) {
                return Err(Error::invalid(
                    format!("forward delay {d:?}"),
                    "with STP on the kernel requires 2..=30 s",
                ));
            }
        }
        if let Some(t) = self.ageing_time {
            to_centiseconds("ageing time", t)?;
        }
        Ok(())
    }
}

pub(crate) fn validate_mtu(mtu: u32) -> Result<u32> {
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        return Err(Error::invalid(
            format!("MTU {mtu}"),
            format!("must be within {MIN_MTU}..={MAX_MTU}"),
        ));
    }
    Ok(mtu)
}

/// Bridge timers travel as clock_t (1/100 s).
pub(crate) fn to_centiseconds(what: &str, d: Duration) -> Result<u32> {
    let cs = (d.as_nanos() + 5_000_000) / 10_000_000;
    u32::try_from(cs).map_err(|_| {
        Error::invalid(
            format!("{what} {d:?}"),
            "too long for the kernel (at most u32 centiseconds)",
        )
    })
}

fn from_centiseconds(cs: u32) -> Duration {
    Duration::from_millis(u64::from(cs) * 10)
}

/// The kernel keeps timers in jiffies: a value read back may differ from
/// the one sent by one centisecond.
pub(crate) fn timer_matches(sent: u32, read: Option<u32>) -> bool {
    read.is_some_and(|r| r.abs_diff(sent) <= 1)
}

/// A Linux bridge: a handle holding the connection, the ifindex and the name.
///
/// Operations address the bridge by ifindex, so they keep working if it is
/// renamed; the name is kept for messages.
///
/// ```no_run
/// use bridgekit::{Bridge, BridgeConfig, Netlink};
/// # async fn f() -> Result<(), bridgekit::Error> {
/// let nl = Netlink::connect()?;
/// let br = Bridge::create(&nl, BridgeConfig::new("virbr0")?
///     .mac("52:54:00:12:34:56")).await?;
/// br.add_address("192.168.122.1/24").await?;
/// br.up().await?;
/// br.delete().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Bridge {
    pub(crate) nl: Netlink,
    pub(crate) index: u32,
    pub(crate) name: IfName,
}

impl Bridge {
    /// Creates a bridge as `config` describes (`ip link add NAME type bridge ...`).
    ///
    /// `create` is [`BridgeConfig::apply`] on nothing: one creating
    /// message with what a new bridge takes at birth (forward delay,
    /// ageing time, the [`BridgeOption`]s, and the MAC and STP unless the
    /// staged order applies), then the same convergence `apply` runs on an
    /// existing bridge, which makes the rest. The MTU follows in an
    /// RTM_SETLINK of its own: the kernel keeps an MTU set that way when
    /// ports join, while one given at creation is reset to the ports'
    /// minimum by the first port. With a fixed MAC or STP the default
    /// sequence of [`BridgeConfig::ipv6_ready_without_ports`] follows,
    /// which leaves the bridge up. Everything is read back before `create`
    /// returns. If any step fails the bridge is deleted and the first error
    /// returned (with [`Error::UndoFailed`] if the deletion failed too). A
    /// process killed inside `create` leaves a prefix of these steps done:
    /// `apply` of the same config finishes them.
    ///
    /// # Cancellation
    /// If this future is dropped, the steps left still run to the end, on
    /// a task of their own — a fully created bridge, or none (a
    /// failed step is rolled back as usual). After a drop, find out which
    /// with [`Bridge::open`]. Only a runtime shutdown stops them halfway.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad config (nothing sent);
    /// [`Error::AlreadyExists`] if a bridge of that name exists,
    /// [`Error::NotABridge`] if another kind of interface has the name;
    /// [`Error::PermissionDenied`] without CAP_NET_ADMIN;
    /// [`Error::NotApplied`] if the kernel did not keep a value.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::Bridge::create(&nl, bridgekit::BridgeConfig::new("br0")?).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "create", iface = %config.name()), err(Display))]
    pub async fn create(nl: &Netlink, config: BridgeConfig) -> Result<Bridge> {
        config.validate()?;
        let owned = nl.clone();
        run_to_end(nl, async move {
            Ok(Self::create_steps(&owned, config).await?.0)
        })
        .await
    }

    /// `create`, as the one engine does it: one creating message with
    /// what a new bridge can take at birth, then [`BridgeConfig::apply`]'s
    /// convergence on the bridge just made, which finds everything else
    /// missing and makes it, in the order a new bridge needs (see
    /// `converge_link`), reading back as it goes. The creation is the
    /// journal's first step: if anything fails, the bridge is deleted.
    /// `apply` on a missing bridge comes here too, so a create that a
    /// killed process left half-done is finished by `apply` of the same
    /// config, with the very steps an uninterrupted `create` takes.
    pub(crate) async fn create_steps(
        nl: &Netlink,
        config: BridgeConfig,
    ) -> Result<(Bridge, Vec<Change>)> {
        let name = config.name.as_str();
        // What needs no change to find wrong is refused before the bridge
        // exists: no listener sees a link come and go.
        crate::vxlan::preflight_all(
            nl,
            Op::CreateBridge,
            &config.vxlans,
            &config.name,
            config.mtu,
        )
        .await?;
        crate::apply::preflight_ports(nl, Op::CreateBridge, &config, None).await?;
        let staged = config.staged();
        let options = BridgeOptions {
            // Staged: STP comes after bring-up, since it turns carrier off.
            stp: if staged { Some(false) } else { config.stp },
            forward_delay_cs: config
                .forward_delay
                .map(|d| to_centiseconds("", d))
                .transpose()?,
            ageing_time_cs: config
                .ageing_time
                .map(|d| to_centiseconds("", d))
                .transpose()?,
            extra: config.options.clone(),
            ..BridgeOptions::default()
        };
        let link = LinkChange {
            // Not the MTU: one given at creation is not marked as set by
            // the user, and the first port to join resets it to the ports'
            // minimum. Convergence sets it through RTM_SETLINK, which marks it.
            mtu: None,
            // Staged: the MAC comes after bring-up, since it turns carrier off.
            mac: if staged { None } else { config.mac },
            up: None,
            ipv6_auto_link_local: None,
            master: None,
        };
        if let Err(e) = nl.create_bridge(name, &link, &options).await {
            return Err(explain_exists(nl, name, e).await);
        }
        let created = match nl.link(Op::CreateBridge, name, LinkRef::Name(name)).await {
            Ok(l) => l,
            Err(e) => {
                // The name is ours: the exclusive create just succeeded.
                if let Err(undo) = nl.delete_link_by_name(Op::CreateBridge, name).await {
                    warn!(bridge = name, error = %undo, "could not delete half-created bridge");
                    return Err(e.with_undo_failures(vec![undo]));
                }
                return Err(e);
            }
        };
        let bridge = Bridge {
            nl: nl.clone(),
            index: created.index,
            name: config.name.clone(),
        };
        let mut journal = Journal::new();
        journal.made(Step::BridgeCreated);
        let mut changes = Vec::new();
        bridge
            .converge(
                Op::CreateBridge,
                &config,
                Some(created),
                &mut changes,
                &mut journal,
            )
            .await?;
        debug!(bridge = name, changes = changes.len(), "bridge created");
        Ok((bridge, changes))
    }

    /// Compares a bridge option with what the kernel reports: not reported
    /// at all is [`Error::Unsupported`] (per-VLAN statistics on a kernel
    /// without VLAN filtering, which drops the attribute with an Ok).
    pub(crate) fn check_option(
        &self,
        op: Op,
        want: BridgeOption,
        link: &LinkSnapshot,
    ) -> Result<()> {
        let read = link.bridge_option(want.kind());
        if want.matches(read) {
            return Ok(());
        }
        match read {
            None => Err(Error::Unsupported {
                op,
                iface: self.name.to_string(),
                detail: match want {
                    BridgeOption::VlanStats(_) => format!(
                        "bridge option {} (the kernel does not report it: {NO_VLAN_FILTERING_CONFIG})",
                        want.name()
                    ),
                    _ => format!(
                        "bridge option {} (the kernel does not report it)",
                        want.name()
                    ),
                },
            }),
            Some(read) => Err(Error::NotApplied {
                op,
                iface: self.name.to_string(),
                what: want.name().to_string(),
                expected: want.to_string(),
                actual: read.to_string(),
            }),
        }
    }

    pub(crate) fn check<T: PartialEq + std::fmt::Display>(
        &self,
        op: Op,
        what: &str,
        want: T,
        got: Option<T>,
    ) -> Result<()> {
        if got.as_ref() == Some(&want) {
            return Ok(());
        }
        Err(Error::NotApplied {
            op,
            iface: self.name.to_string(),
            what: what.to_string(),
            expected: want.to_string(),
            actual: got.map_or_else(|| "nothing".to_string(), |g| g.to_string()),
        })
    }

    fn check_timer(&self, op: Op, what: &str, want: Duration, got: Option<u32>) -> Result<()> {
        let sent = to_centiseconds(what, want)?;
        if timer_matches(sent, got) {
            return Ok(());
        }
        Err(Error::NotApplied {
            op,
            iface: self.name.to_string(),
            what: what.to_string(),
            expected: format!("{want:?}"),
            actual: got.map_or_else(
                || "nothing".to_string(),
                |cs| format!("{:?}", from_centiseconds(cs)),
            ),
        })
    }

    /// Adopts an existing bridge by name (`ip link show NAME`), e.g. after a
    /// daemon restart.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, [`Error::NotFound`] if there
    /// is no such interface, [`Error::NotABridge`] if it is another kind.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::Bridge::open(&nl, "virbr0").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "open", iface = name.as_ref()), err(Display))]
    pub async fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Bridge> {
        let name = IfName::new(name)?;
        let link = nl
            .link(Op::OpenBridge, name.as_str(), LinkRef::Name(name.as_str()))
            .await?;
        if !link.is_bridge() {
            return Err(Error::NotABridge {
                op: Op::OpenBridge,
                iface: name.to_string(),
                kind: link.kind_name(),
            });
        }
        Ok(Bridge {
            nl: nl.clone(),
            index: link.index,
            name,
        })
    }

    /// The bridge's name (as given at create/open time).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::Bridge) { println!("{}", br.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The bridge's ifindex.
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::Bridge) { println!("{}", br.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The connection this bridge was created or opened with.
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::Bridge) { let nl = br.netlink(); }
    /// ```
    #[must_use]
    pub fn netlink(&self) -> &Netlink {
        &self.nl
    }

    pub(crate) async fn read(&self, op: Op) -> Result<LinkSnapshot> {
        self.nl
            .link(op, self.name.as_str(), LinkRef::Index(self.index))
            .await
    }

    /// Sets a fixed MAC (`ip link set BRIDGE address MAC`).
    ///
    /// The kernel marks the MAC as explicitly set and from then on keeps
    /// it when ports join or leave, even a port with a numerically lower
    /// MAC. Read back, and where this process can read the namespace's sysfs
    /// (CAP_SYS_ADMIN), the kernel's "explicitly set" mark is checked too.
    /// Note that on a bridge with no forwarding port this turns carrier off.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a multicast or zero MAC (nothing sent);
    /// [`Error::NotApplied`] if the kernel did not keep it; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_mac("52:54:00:ab:cd:ef").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_mac", iface = %self.name), err(Display))]
    pub async fn set_mac(&self, mac: impl ToMac) -> Result<()> {
        let mac = mac.to_mac()?;
        validate_unicast(mac)?;
        let change = LinkChange {
            mac: Some(mac),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::SetMac, self.name.as_str(), self.index, &change)
            .await?;
        let link = self.read(Op::SetMac).await?;
        self.check(Op::SetMac, "MAC", mac, link.mac)?;
        if let Some(explicit) = self.mac_explicit(&link.name).await {
            self.check(
                Op::SetMac,
                "MAC assignment (addr_assign_type)",
                "set",
                Some(if explicit { "set" } else { "not set" }),
            )?;
        }
        Ok(())
    }

    /// Whether the kernel marks the MAC as explicitly set (sysfs
    /// `addr_assign_type` = `NET_ADDR_SET`); `None` when that cannot be read.
    /// `current` is the bridge's name now (sysfs is by name; the handle's
    /// name is stale after a rename).
    async fn mac_explicit(&self, current: &str) -> Option<bool> {
        let name = current.to_string();
        let read = self
            .nl
            .in_netns(move |env| env.read_sysfs_attr(&name, "addr_assign_type"))
            .await;
        match read {
            Ok(v) => Some(v == NET_ADDR_SET),
            Err(e) => {
                debug!(bridge = %self.name, error = %e, "cannot read addr_assign_type");
                None
            }
        }
    }

    /// Sets the MTU (`ip link set BRIDGE mtu MTU`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 68..=65535 (nothing sent); kernel
    /// errors (a bridge with ports refuses an MTU its ports cannot carry).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_mtu(9000).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_mtu", iface = %self.name), err(Display))]
    pub async fn set_mtu(&self, mtu: u32) -> Result<()> {
        validate_mtu(mtu)?;
        let change = LinkChange {
            mtu: Some(mtu),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::SetMtu, self.name.as_str(), self.index, &change)
            .await?;
        let link = self.read(Op::SetMtu).await?;
        self.check(Op::SetMtu, "MTU", mtu, Some(link.mtu))
    }

    /// Brings the bridge up (`ip link set BRIDGE up`).
    ///
    /// On a bridge with a fixed MAC or STP that has no forwarding port, the
    /// bridge comes up without carrier, and the kernel will not run IPv6
    /// DAD until a port is up: taking such a bridge down and up again undoes
    /// what [`BridgeConfig::ipv6_ready_without_ports`] did, and nothing `up`
    /// can send brings it back (the kernel has no way to give an empty
    /// bridge carrier). `up` then logs a warning, and
    /// [`wait_dad`](Bridge::wait_dad) reports the cause; attach an up port,
    /// recreate the bridge, or use `nodad` addresses.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the bridge is gone; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.up().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "up", iface = %self.name), err(Display))]
    pub async fn up(&self) -> Result<()> {
        let change = LinkChange {
            up: Some(true),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::SetUp, self.name.as_str(), self.index, &change)
            .await?;
        let link = self.read(Op::SetUp).await?;
        self.check(Op::SetUp, "admin state up", true, Some(link.up))?;
        if !link.carrier && link.ipv6.is_some_and(|v6| !v6.disabled) {
            warn!(bridge = %self.name, "bridge is up without carrier: IPv6 DAD will not run until a port is up");
        }
        Ok(())
    }

    /// Takes the bridge down (`ip link set BRIDGE down`). The kernel
    /// flushes its IPv6 addresses.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the bridge is gone; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.down().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "down", iface = %self.name), err(Display))]
    pub async fn down(&self) -> Result<()> {
        let change = LinkChange {
            up: Some(false),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::SetDown, self.name.as_str(), self.index, &change)
            .await?;
        let link = self.read(Op::SetDown).await?;
        self.check(Op::SetDown, "admin state up", false, Some(link.up))
    }

    /// Sets one bridge option (`ip link set BRIDGE type bridge OPTION
    /// VALUE`), see [`BridgeOption`], and reads it back.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a value the kernel would refuse or
    /// change (nothing sent); [`Error::Unsupported`] when the kernel does
    /// not have the option; [`Error::NotApplied`] if it kept another value.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_option(bridgekit::BridgeOption::Priority(0x1000)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_option", iface = %self.name), err(Display))]
    pub async fn set_option(&self, option: BridgeOption) -> Result<()> {
        option.validate()?;
        let link = self
            .set_options(
                Op::SetBridgeOptions,
                BridgeOptions {
                    extra: vec![option],
                    ..BridgeOptions::default()
                },
            )
            .await?;
        self.check_option(Op::SetBridgeOptions, option, &link)
    }

    /// Turns IPv6 router advertisements on or off for the bridge
    /// (`sysctl net.ipv6.conf.BRIDGE.accept_ra=1|0`); see
    /// [`BridgeConfig::accept_ra`] for why bridgekit turns them off.
    ///
    /// Written through `/proc/sys` in the bridge's network namespace (by
    /// the connection's namespace thread, never blocking the runtime) and
    /// read back through netlink. The kernel keeps the setting per device:
    /// it survives a rename.
    ///
    /// # Errors
    /// [`Error::PermissionDenied`] naming the sysctl when this process may
    /// not write it (no CAP_NET_ADMIN over the namespace, or a read-only
    /// `/proc/sys`); [`Error::Unsupported`] when the kernel or the bridge
    /// has no IPv6 (an MTU below 1280); [`Error::NotFound`] if the bridge is
    /// gone; [`Error::NotApplied`] if the kernel did not keep it.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_accept_ra(false).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_accept_ra", iface = %self.name), err(Display))]
    pub async fn set_accept_ra(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::AcceptRa, on).await
    }

    /// Turns IPv6 address autoconfiguration (SLAAC) on or off for the
    /// bridge (`sysctl net.ipv6.conf.BRIDGE.autoconf=1|0`); see
    /// [`BridgeConfig::autoconf`].
    ///
    /// # Errors
    /// As [`set_accept_ra`](Bridge::set_accept_ra).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_autoconf(false).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_autoconf", iface = %self.name), err(Display))]
    pub async fn set_autoconf(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::Autoconf, on).await
    }

    /// Turns IPv6 off (`true`) or on (`false`) on the bridge
    /// (`sysctl net.ipv6.conf.BRIDGE.disable_ipv6=1|0`); see
    /// [`BridgeConfig::disable_ipv6`]. Turning it off flushes the bridge's
    /// IPv6 addresses. Turning it back on while the bridge has no carrier
    /// (an empty bridge with a fixed MAC) leaves IPv6 unable to run DAD
    /// until a port is up, as after [`Bridge::up`].
    ///
    /// # Errors
    /// As [`set_accept_ra`](Bridge::set_accept_ra).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_disable_ipv6(true).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_disable_ipv6", iface = %self.name), err(Display))]
    pub async fn set_disable_ipv6(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::DisableIpv6, on).await
    }

    /// Writes one IPv6 sysctl and reads it back through netlink.
    pub(crate) async fn set_ipv6_sysctl(&self, knob: Ipv6Sysctl, on: bool) -> Result<()> {
        let op = Op::SetIpv6Sysctl(knob);
        // The current name: the sysctl is reached by name, the bridge by index.
        let link = self.read(op).await?;
        hardening::write(&self.nl, &link.name, self.index, knob, on).await?;
        let link = self.read(op).await?;
        self.check(op, knob.name(), on, hardening::read(&link, knob))
    }

    /// RTM_NEWLINK with bridge options, then the bridge read back.
    pub(crate) async fn set_options(&self, op: Op, options: BridgeOptions) -> Result<LinkSnapshot> {
        self.nl
            .change_bridge(op, self.name.as_str(), self.index, &options)
            .await?;
        self.read(op).await
    }

    /// Turns kernel STP on or off (`ip link set BRIDGE type bridge stp_state 1|0`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when turning STP on while the forward delay is
    /// outside 2..=30 s (the kernel would silently change it);
    /// [`Error::NotApplied`] if the kernel did not keep it.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_stp(true).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_stp", iface = %self.name), err(Display))]
    pub async fn set_stp(&self, on: bool) -> Result<()> {
        if on {
            let link = self.read(Op::SetBridgeOptions).await?;
            let fd = from_centiseconds(link.forward_delay_cs.unwrap_or(0));
            if !STP_FORWARD_DELAY.contains(&fd) {
                return Err(Error::invalid(
                    format!("STP on {} with forward delay {fd:?}", self.name),
                    "with STP on the kernel requires a forward delay of 2..=30 s; set it first",
                ));
            }
        }
        let link = self
            .set_options(
                Op::SetBridgeOptions,
                BridgeOptions {
                    stp: Some(on),
                    ..BridgeOptions::default()
                },
            )
            .await?;
        self.check(Op::SetBridgeOptions, "STP", on, link.stp)
    }

    /// Sets the forward delay (`ip link set BRIDGE type bridge forward_delay CS`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if it does not fit the kernel's u32
    /// centiseconds; [`Error::NotApplied`] if the kernel kept another value
    /// (with STP on it refuses or clamps values outside 2..=30 s).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_forward_delay(std::time::Duration::from_secs(2)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_forward_delay", iface = %self.name), err(Display))]
    pub async fn set_forward_delay(&self, delay: Duration) -> Result<()> {
        let cs = to_centiseconds("forward delay", delay)?;
        let link = self
            .set_options(
                Op::SetBridgeOptions,
                BridgeOptions {
                    forward_delay_cs: Some(cs),
                    ..BridgeOptions::default()
                },
            )
            .await?;
        self.check_timer(
            Op::SetBridgeOptions,
            "forward delay",
            delay,
            link.forward_delay_cs,
        )
    }

    /// Sets the ageing time of learned entries (`ip link set BRIDGE type bridge ageing_time CS`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if it does not fit the kernel's u32
    /// centiseconds; [`Error::NotApplied`] if the kernel kept another value.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_ageing_time(std::time::Duration::from_secs(300)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "set_ageing_time", iface = %self.name), err(Display))]
    pub async fn set_ageing_time(&self, time: Duration) -> Result<()> {
        let cs = to_centiseconds("ageing time", time)?;
        let link = self
            .set_options(
                Op::SetBridgeOptions,
                BridgeOptions {
                    ageing_time_cs: Some(cs),
                    ..BridgeOptions::default()
                },
            )
            .await?;
        self.check_timer(
            Op::SetBridgeOptions,
            "ageing time",
            time,
            link.ageing_time_cs,
        )
    }

    /// One snapshot of the bridge: link state, options, ports and addresses
    /// (`ip -d link show BRIDGE`, `ip link show master BRIDGE`, `ip addr show dev BRIDGE`).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the bridge is gone; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let s = br.status().await?;
    /// println!("{} {} carrier={} ports={}", s.name, s.mac, s.carrier, s.ports.len());
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "status", iface = %self.name), err(Display))]
    pub async fn status(&self) -> Result<BridgeStatus> {
        let name = self.name.as_str();
        let link = self.read(Op::ReadLink).await?;
        let ports = self.ports().await?;
        let addresses = self
            .nl
            .addresses(Op::ListAddresses, name, self.index)
            .await?;
        Ok(BridgeStatus {
            name: IfName::from_kernel(link.name.clone()),
            index: link.index,
            mac: link.mac.unwrap_or(MacAddr6::nil()),
            mac_explicit: self.mac_explicit(&link.name).await,
            mtu: link.mtu,
            up: link.up,
            carrier: link.carrier,
            operstate: link.operstate,
            stp: link.stp.unwrap_or(false),
            forward_delay: from_centiseconds(link.forward_delay_cs.unwrap_or(0)),
            ageing_time: from_centiseconds(link.ageing_time_cs.unwrap_or(0)),
            vlan_filtering: link.vlan_filtering.unwrap_or(false),
            default_pvid: link.default_pvid.and_then(|p| VlanId::new(p).ok()),
            vlan_protocol: link.vlan_protocol,
            hello_time: option_duration(&link, OptionKind::HelloTime),
            max_age: option_duration(&link, OptionKind::MaxAge),
            priority: match link.bridge_option(OptionKind::Priority) {
                Some(BridgeOption::Priority(p)) => p,
                _ => 0,
            },
            group_fwd_mask: match link.bridge_option(OptionKind::GroupFwdMask) {
                Some(BridgeOption::GroupFwdMask(m)) => m,
                _ => 0,
            },
            group_address: match link.bridge_option(OptionKind::GroupAddress) {
                Some(BridgeOption::GroupAddress(m)) => m,
                _ => MacAddr6::nil(),
            },
            multicast_snooping: link.bridge_option(OptionKind::MulticastSnooping)
                == Some(BridgeOption::MulticastSnooping(true)),
            multicast_querier: link.bridge_option(OptionKind::MulticastQuerier)
                == Some(BridgeOption::MulticastQuerier(true)),
            igmp_version: match link.bridge_option(OptionKind::IgmpVersion) {
                Some(BridgeOption::IgmpVersion(v)) => v,
                _ => 0,
            },
            mld_version: match link.bridge_option(OptionKind::MldVersion) {
                Some(BridgeOption::MldVersion(v)) => v,
                _ => 0,
            },
            vlan_stats: match link.bridge_option(OptionKind::VlanStats) {
                Some(BridgeOption::VlanStats(on)) => Some(on),
                _ => None,
            },
            multicast_router: match link.bridge_option(OptionKind::MulticastRouter) {
                Some(BridgeOption::MulticastRouter(r)) => r,
                _ => MulticastRouter::Auto,
            },
            accept_ra: hardening::read(&link, Ipv6Sysctl::AcceptRa),
            autoconf: hardening::read(&link, Ipv6Sysctl::Autoconf),
            disable_ipv6: hardening::read(&link, Ipv6Sysctl::DisableIpv6),
            ports,
            addresses: addresses.into_iter().map(AddressStatus::from).collect(),
        })
    }

    /// Deletes the bridge (`ip link del BRIDGE`), then the legacy libvirt
    /// dummy tap `<bridge>-nic` if one exists (see
    /// [`legacy_nic_name`](crate::legacy_nic_name)). Only a tun/tap device
    /// of that name is removed; another kind is left alone, logged and
    /// reported in the result.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the bridge is already gone; kernel errors. An
    /// error removing the legacy tap comes with [`Op::RemoveLegacyNic`];
    /// the bridge is gone by then.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let legacy = br.delete().await?;
    /// println!("legacy tap: {legacy:?}");
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "delete", iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<LegacyNic> {
        let nl = self.nl.clone();
        run_to_end(&nl, async move {
            // The legacy tap is named after the bridge as it is named now.
            let link = self.read(Op::DeleteBridge).await?;
            self.nl
                .delete_link(Op::DeleteBridge, &link.name, self.index)
                .await?;
            legacy::remove_legacy_nic(&self.nl, &IfName::from_kernel(link.name)).await
        })
        .await
    }
}

fn option_duration(link: &LinkSnapshot, kind: OptionKind) -> Duration {
    match link.bridge_option(kind) {
        Some(BridgeOption::HelloTime(d) | BridgeOption::MaxAge(d)) => d,
        _ => Duration::ZERO,
    }
}

/// Why the kernel may not report a VLAN-related bridge option.
const NO_VLAN_FILTERING_CONFIG: &str = "built without CONFIG_BRIDGE_VLAN_FILTERING?";

/// On EEXIST, says whether the name belongs to a bridge or to another kind.
async fn explain_exists(nl: &Netlink, name: &str, err: Error) -> Error {
    if !matches!(err, Error::AlreadyExists { .. }) {
        return err;
    }
    match nl.link(Op::CreateBridge, name, LinkRef::Name(name)).await {
        Ok(link) if !link.is_bridge() => Error::NotABridge {
            op: Op::CreateBridge,
            iface: name.to_string(),
            kind: link.kind_name(),
        },
        _ => err,
    }
}

/// A snapshot of a bridge, from [`Bridge::status`].
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BridgeStatus {
    /// Name.
    pub name: IfName,
    /// Ifindex.
    pub index: u32,
    /// Current MAC.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_data::ser::mac")
    )]
    pub mac: MacAddr6,
    /// Whether the kernel marks the MAC as explicitly set (sticky);
    /// `None` when this process cannot read it (needs CAP_SYS_ADMIN over the
    /// namespace, to mount its sysfs privately).
    pub mac_explicit: Option<bool>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Has carrier (`LOWER_UP`).
    pub carrier: bool,
    /// Operational state.
    pub operstate: OperState,
    /// Kernel STP on.
    pub stp: bool,
    /// Forward delay.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "forward_delay_ms",
            serialize_with = "crate::serde_data::ser::millis"
        )
    )]
    pub forward_delay: Duration,
    /// Ageing time of learned entries.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "ageing_time_ms",
            serialize_with = "crate::serde_data::ser::millis"
        )
    )]
    pub ageing_time: Duration,
    /// 802.1Q VLAN filtering on (always false on a kernel without VLAN filtering support).
    pub vlan_filtering: bool,
    /// The PVID new ports get; `None` when it is 0 or the kernel has no VLAN filtering.
    pub default_pvid: Option<VlanId>,
    /// The VLAN tag protocol; `None` when the kernel has no VLAN filtering.
    pub vlan_protocol: Option<VlanProtocol>,
    /// STP hello time.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "hello_time_ms",
            serialize_with = "crate::serde_data::ser::millis"
        )
    )]
    pub hello_time: Duration,
    /// STP max age.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "max_age_ms",
            serialize_with = "crate::serde_data::ser::millis"
        )
    )]
    pub max_age: Duration,
    /// STP bridge priority.
    pub priority: u16,
    /// Link-local groups forwarded (`group_fwd_mask`).
    pub group_fwd_mask: u16,
    /// The STP group address.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_data::ser::mac")
    )]
    pub group_address: MacAddr6,
    /// IGMP/MLD snooping on.
    pub multicast_snooping: bool,
    /// The bridge's IGMP/MLD querier on.
    pub multicast_querier: bool,
    /// IGMP version of the querier.
    pub igmp_version: u8,
    /// MLD version of the querier.
    pub mld_version: u8,
    /// Per-VLAN statistics on; `None` on a kernel without VLAN filtering.
    pub vlan_stats: Option<bool>,
    /// The bridge as a multicast router port.
    pub multicast_router: MulticastRouter,
    /// Whether the bridge takes IPv6 router advertisements
    /// (`accept_ra` non-zero); `None` when it has no IPv6 state (the kernel
    /// has IPv6 off, or the MTU is below 1280).
    pub accept_ra: Option<bool>,
    /// Whether it autoconfigures addresses from advertised prefixes
    /// (`autoconf`); `None` as for `accept_ra`.
    pub autoconf: Option<bool>,
    /// Whether IPv6 is turned off on it (`disable_ipv6`); `None` as for
    /// `accept_ra`.
    pub disable_ipv6: Option<bool>,
    /// Ports, with their state, options and VLANs (see [`Bridge::ports`]).
    pub ports: Vec<PortStatus>,
    /// Addresses with their flags.
    pub addresses: Vec<AddressStatus>,
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
