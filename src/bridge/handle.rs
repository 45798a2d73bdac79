//! The handle of a bridge that exists: open, its own settings (MAC, MTU,
//! admin state, options, IPv6 sysctls), status, delete.

use crate::error::InputKind;
use std::time::Duration;

use macaddr::MacAddr6;
use tracing::{debug, warn};

use crate::bridge::legacy::{self, LegacyNic};
use crate::engine::complete::run_to_end;
use crate::engine::ipv6::{self};
use crate::engine::{LinkId, act};
use crate::error::{Error, Op, Result};
use crate::netlink::{BridgeOptions, LinkRef, LinkSnapshot, Netlink};
use crate::values::address::AddressStatus;
use crate::values::bridge_option::{
    BridgeOption, BridgeOptionKind, MulticastRouter, from_centiseconds, to_centiseconds,
};
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;
use crate::values::sysctl::Ipv6Sysctl;
use crate::values::vlan::VlanId;

use super::config::STP_FORWARD_DELAY;
use super::status::BridgeStatus;

/// `addr_assign_type` value of a MAC set explicitly (`NET_ADDR_SET`).
const NET_ADDR_SET: &str = "3";

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
    pub(crate) fn check<T: PartialEq + std::fmt::Display>(
        &self,
        op: Op,
        what: &str,
        want: T,
        got: Option<T>,
    ) -> Result<()> {
        act::check(op, self.name.as_str(), what, want, got)
    }

    /// The bridge as the engine names it: (name, ifindex).
    pub(crate) fn id(&self) -> LinkId {
        LinkId::new(self.name.as_str(), self.index)
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::OpenBridge.name(), iface = name.as_ref()), err(Display))]
    pub async fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Bridge> {
        let name = IfName::new(name)?;
        let link = nl
            .link(Op::OpenBridge, name.as_str(), LinkRef::Name(name.as_str()))
            .await?;
        if !link.is_bridge() {
            return Err(Error::NotABridge {
                op: Op::OpenBridge,
                iface: IfName::from_kernel(name),
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetMac.name(), iface = %self.name), err(Display))]
    pub async fn set_mac(&self, mac: impl ToMac) -> Result<()> {
        let mac = mac.to_mac()?;
        validate_unicast(mac)?;
        let link = act::set_mac(&self.nl, Op::SetMac, &self.id(), mac).await?;
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetMtu.name(), iface = %self.name), err(Display))]
    pub async fn set_mtu(&self, mtu: u32) -> Result<()> {
        validate_mtu(mtu)?;
        act::set_mtu(&self.nl, Op::SetMtu, &self.id(), mtu).await
    }

    /// Brings the bridge up (`ip link set BRIDGE up`).
    ///
    /// On a bridge with a fixed MAC or STP that has no forwarding port, the
    /// bridge comes up without carrier, and the kernel will not run IPv6
    /// DAD until a port is up: taking such a bridge down and up again undoes
    /// what [`BridgeConfig::ipv6_ready_without_ports`](crate::BridgeConfig::ipv6_ready_without_ports) did, and nothing `up`
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetUp.name(), iface = %self.name), err(Display))]
    pub async fn up(&self) -> Result<()> {
        let link = act::set_admin_up(&self.nl, &self.id(), true).await?;
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetDown.name(), iface = %self.name), err(Display))]
    pub async fn down(&self) -> Result<()> {
        act::set_admin_up(&self.nl, &self.id(), false)
            .await
            .map(drop)
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetBridgeOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_option(&self, option: BridgeOption) -> Result<()> {
        option.validate()?;
        act::set_option(&self.nl, &self.id(), option).await
    }

    /// Turns IPv6 router advertisements on or off for the bridge
    /// (`sysctl net.ipv6.conf.BRIDGE.accept_ra=1|0`); see
    /// [`BridgeConfig::accept_ra`](crate::BridgeConfig::accept_ra) for why bridgekit turns them off.
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetIpv6Sysctl(crate::Ipv6Sysctl::AcceptRa).name(), iface = %self.name), err(Display))]
    pub async fn set_accept_ra(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::AcceptRa, on).await
    }

    /// Turns IPv6 address autoconfiguration (SLAAC) on or off for the
    /// bridge (`sysctl net.ipv6.conf.BRIDGE.autoconf=1|0`); see
    /// [`BridgeConfig::autoconf`](crate::BridgeConfig::autoconf).
    ///
    /// # Errors
    /// As [`set_accept_ra`](Bridge::set_accept_ra).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_autoconf(false).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetIpv6Sysctl(crate::Ipv6Sysctl::Autoconf).name(), iface = %self.name), err(Display))]
    pub async fn set_autoconf(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::Autoconf, on).await
    }

    /// Turns IPv6 off (`true`) or on (`false`) on the bridge
    /// (`sysctl net.ipv6.conf.BRIDGE.disable_ipv6=1|0`); see
    /// [`BridgeConfig::disable_ipv6`](crate::BridgeConfig::disable_ipv6). Turning it off flushes the bridge's
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetIpv6Sysctl(crate::Ipv6Sysctl::DisableIpv6).name(), iface = %self.name), err(Display))]
    pub async fn set_disable_ipv6(&self, on: bool) -> Result<()> {
        self.set_ipv6_sysctl(Ipv6Sysctl::DisableIpv6, on).await
    }

    /// Writes one IPv6 sysctl and reads it back through netlink.
    pub(crate) async fn set_ipv6_sysctl(&self, knob: Ipv6Sysctl, on: bool) -> Result<()> {
        act::set_ipv6_sysctl(&self.nl, &self.id(), knob, on).await
    }

    /// RTM_NEWLINK with bridge options, then the bridge read back.
    pub(crate) async fn set_options(&self, op: Op, options: BridgeOptions) -> Result<LinkSnapshot> {
        act::set_bridge_options(&self.nl, op, &self.id(), &options).await
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetBridgeOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_stp(&self, on: bool) -> Result<()> {
        if on {
            let link = self.read(Op::SetBridgeOptions).await?;
            let fd = from_centiseconds(link.forward_delay_cs.unwrap_or(0));
            if !STP_FORWARD_DELAY.contains(&fd) {
                return Err(Error::invalid(
                    InputKind::BridgeOption,
                    format!("STP on {} with forward delay {fd:?}", self.name),
                    "with STP on the kernel requires a forward delay of 2..=30 s; set it first",
                ));
            }
        }
        act::set_stp(&self.nl, &self.id(), on).await
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetBridgeOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_forward_delay(&self, delay: Duration) -> Result<()> {
        to_centiseconds("forward delay", delay)?;
        act::set_forward_delay(&self.nl, &self.id(), delay).await
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetBridgeOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_ageing_time(&self, time: Duration) -> Result<()> {
        to_centiseconds("ageing time", time)?;
        act::set_ageing_time(&self.nl, &self.id(), time).await
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ReadLink.name(), iface = %self.name), err(Display))]
    pub async fn status(&self) -> Result<BridgeStatus> {
        let name = self.name.as_str();
        let link = self.read(Op::ReadLink).await?;
        let ports = self.ports().await?;
        let addresses = self
            .nl
            .addresses(Op::ListAddresses, name, self.index)
            .await?;
        Ok(BridgeStatus {
            name: IfName::from_kernel(&link.name),
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
            hello_time: option_duration(&link, BridgeOptionKind::HelloTime),
            max_age: option_duration(&link, BridgeOptionKind::MaxAge),
            priority: match link.bridge_option(BridgeOptionKind::Priority) {
                Some(BridgeOption::Priority(p)) => p,
                _ => 0,
            },
            group_fwd_mask: match link.bridge_option(BridgeOptionKind::GroupFwdMask) {
                Some(BridgeOption::GroupFwdMask(m)) => m,
                _ => 0,
            },
            group_address: match link.bridge_option(BridgeOptionKind::GroupAddress) {
                Some(BridgeOption::GroupAddress(m)) => m,
                _ => MacAddr6::nil(),
            },
            multicast_snooping: link.bridge_option(BridgeOptionKind::MulticastSnooping)
                == Some(BridgeOption::MulticastSnooping(true)),
            multicast_querier: link.bridge_option(BridgeOptionKind::MulticastQuerier)
                == Some(BridgeOption::MulticastQuerier(true)),
            igmp_version: match link.bridge_option(BridgeOptionKind::IgmpVersion) {
                Some(BridgeOption::IgmpVersion(v)) => v,
                _ => 0,
            },
            mld_version: match link.bridge_option(BridgeOptionKind::MldVersion) {
                Some(BridgeOption::MldVersion(v)) => v,
                _ => 0,
            },
            vlan_stats: match link.bridge_option(BridgeOptionKind::VlanStats) {
                Some(BridgeOption::VlanStats(on)) => Some(on),
                _ => None,
            },
            multicast_router: match link.bridge_option(BridgeOptionKind::MulticastRouter) {
                Some(BridgeOption::MulticastRouter(r)) => r,
                _ => MulticastRouter::Auto,
            },
            options: BridgeOptionKind::ALL
                .iter()
                .filter_map(|kind| link.bridge_option(*kind))
                .collect(),
            accept_ra: ipv6::read(&link, Ipv6Sysctl::AcceptRa),
            autoconf: ipv6::read(&link, Ipv6Sysctl::Autoconf),
            disable_ipv6: ipv6::read(&link, Ipv6Sysctl::DisableIpv6),
            ports,
            addresses: addresses.into_iter().map(AddressStatus::from).collect(),
        })
    }

    /// Deletes the bridge (`ip link del BRIDGE`) and the bandwidth limits of
    /// the ports it releases (with their IFBs), then the legacy libvirt
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DeleteBridge.name(), iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<LegacyNic> {
        let nl = self.nl.clone();
        run_to_end(&nl, async move {
            // The legacy tap is named after the bridge as it is named now.
            let link = self.read(Op::DeleteBridge).await?;
            // Its ports' limits go with it: the ports, read first (one
            // dump, which says whose root is a tbf), where limits may be
            // (see `engine::limits::look`).
            let seen = crate::engine::limits::look(&self.nl, Op::DeleteBridge, &link.name).await?;
            let limited: Vec<_> = self
                .nl
                .links_with_master(Op::DeleteBridge, &link.name, self.index)
                .await?
                .into_iter()
                .filter(|p| seen || p.qdisc.as_deref() == Some("tbf"))
                .collect();
            self.nl
                .delete_link(Op::DeleteBridge, &link.name, self.index)
                .await?;
            // Each port's, even when one fails (the first error is
            // returned); a port gone meanwhile took its qdiscs along.
            let mut first = None;
            for port in &limited {
                let id = crate::engine::LinkId::new(&port.name, port.index);
                let mut journal = crate::engine::Journal::new();
                match crate::engine::limits::remove(&self.nl, &mut journal, &id, port.mtu).await {
                    Ok(_) | Err(Error::NotFound { .. }) => {}
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first {
                return Err(e);
            }
            // The ports' guards go with the bridge.
            if self.nl.guards_seen() {
                crate::guard::port::remove_all(&self.nl, &link.name).await?;
            }
            // So does its forward mode, also one a program before this
            // one installed (two lookups); a kernel without nf_tables, or
            // a process it refuses, has none.
            match crate::forward::bridge::remove(&self.nl, &link.name).await {
                Ok(()) | Err(Error::Unsupported { .. } | Error::PermissionDenied { .. }) => {}
                Err(e) => return Err(e),
            }
            legacy::remove_legacy_nic(&self.nl, &IfName::from_kernel(link.name)).await
        })
        .await
    }
}

fn option_duration(link: &LinkSnapshot, kind: BridgeOptionKind) -> Duration {
    match link.bridge_option(kind) {
        Some(BridgeOption::HelloTime(d) | BridgeOption::MaxAge(d)) => d,
        _ => Duration::ZERO,
    }
}

/// On EEXIST, says whether the name belongs to a bridge or to another kind.
pub(crate) async fn explain_exists(nl: &Netlink, name: &str, err: Error) -> Error {
    if !matches!(err, Error::AlreadyExists { .. }) {
        return err;
    }
    match nl.link(Op::CreateBridge, name, LinkRef::Name(name)).await {
        Ok(link) if !link.is_bridge() => Error::NotABridge {
            op: Op::CreateBridge,
            iface: IfName::from_kernel(name),
            kind: link.kind_name(),
        },
        _ => err,
    }
}
