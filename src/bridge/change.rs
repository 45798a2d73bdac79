//! What `apply` reports: each [`Change`] it made, and [`Applied`].

use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;

use crate::bridge::Bridge;
use crate::engine::{Journal, Step};
use crate::error::Result;
use crate::forward::Forward;
use crate::values::bridge_option::BridgeOption;
use crate::values::name::IfName;
use crate::values::sysctl::NetSysctl;
use crate::vxlan::Remote;

/// One change [`BridgeConfig::apply`](crate::BridgeConfig::apply) made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The bridge did not exist and was created, with all of its own
    /// settings in the config. The changes that follow it in
    /// [`Applied::changes`] are those the create made to other interfaces:
    /// VXLAN devices created, their remotes, ports attached.
    Created,
    /// The MAC was changed.
    Mac {
        /// Before.
        from: MacAddr6,
        /// After.
        to: MacAddr6,
    },
    /// The MTU was changed.
    Mtu {
        /// Before.
        from: u32,
        /// After.
        to: u32,
    },
    /// STP was turned on or off.
    Stp(bool),
    /// The forward delay was changed.
    ForwardDelay(Duration),
    /// The ageing time was changed.
    AgeingTime(Duration),
    /// VLAN filtering was turned on or off.
    VlanFiltering(bool),
    /// A bridge option was set to this value.
    Option(BridgeOption),
    /// IPv6 router advertisements were turned on or off (`accept_ra`).
    AcceptRa(bool),
    /// IPv6 address autoconfiguration was turned on or off (`autoconf`).
    Autoconf(bool),
    /// IPv6 was turned off (`true`) or on (`false`) (`disable_ipv6`).
    DisableIpv6(bool),
    /// An address was added.
    AddressAdded(IpNet),
    /// A port was attached.
    PortAttached(IfName),
    /// A port's options, VLANs, FDB entries or admin state were changed.
    PortReconfigured(IfName),
    /// The bridge was brought up (`true`) or down.
    AdminUp(bool),
    /// Automatic IPv6 link-local addresses were turned on or off
    /// (`addrgenmode eui64|none`).
    AutoLinkLocal(bool),
    /// A VXLAN device of the config did not exist and was created.
    VxlanCreated(IfName),
    /// A remote VTEP was added to a VXLAN device.
    RemoteAdded {
        /// The VXLAN device.
        vxlan: IfName,
        /// The entry.
        remote: Remote,
    },
    /// A port's guest guard was installed, or replaced by the config's
    /// (its rules differed, or were gone: a firewall reload that flushed
    /// the ruleset).
    GuardInstalled(IfName),
    /// A guest guard the config does not ask for was removed from a port
    /// of the bridge (or from a port that is gone).
    GuardRemoved(IfName),
    /// A port's bandwidth limits were set, or changed to the config's (a
    /// rate differed, or a part was gone), on a port already attached.
    BandwidthSet(IfName),
    /// Bandwidth limits the config does not ask for were removed from a
    /// port of the bridge.
    BandwidthRemoved(IfName),
    /// The bridge's forward mode rules were installed, or replaced by the
    /// config's (another mode, other subnets or uplink, or rules that
    /// differed or were gone: a firewall reload that flushed the ruleset).
    ForwardInstalled(Forward),
    /// The bridge's forward mode rules were removed
    /// ([`Forward::Open`](crate::Forward::Open) asked for none).
    ForwardRemoved,
    /// A forwarding sysctl of the bridge's network namespace was turned on
    /// for its forward mode (it holds for every interface of the
    /// namespace).
    Forwarding(NetSysctl),
    /// A static remote VTEP the config does not name was removed.
    RemoteRemoved {
        /// The VXLAN device.
        vxlan: IfName,
        /// The entry.
        remote: Remote,
    },
}

impl Change {
    /// A change to an interface other than the bridge: a port, a VXLAN
    /// device or its remotes.
    pub(crate) fn is_beyond_the_bridge(&self) -> bool {
        matches!(
            self,
            Change::PortAttached(_)
                | Change::PortReconfigured(_)
                | Change::VxlanCreated(_)
                | Change::GuardInstalled(_)
                | Change::GuardRemoved(_)
                | Change::BandwidthSet(_)
                | Change::BandwidthRemoved(_)
                | Change::ForwardInstalled(_)
                | Change::ForwardRemoved
                | Change::Forwarding(_)
                | Change::RemoteAdded { .. }
                | Change::RemoteRemoved { .. }
        )
    }
}

/// In words: `created`, `MTU 1500 -> 1400`, `port vnet0 attached`.
///
/// ```
/// use bridgekit::Change;
/// assert_eq!(Change::Mtu { from: 1500, to: 1400 }.to_string(), "MTU 1500 -> 1400");
/// ```
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        let secs = |d: &Duration| format!("{} s", d.as_secs_f64());
        match self {
            Change::Created => f.write_str("created"),
            Change::Mac { from, to } => write!(
                f,
                "MAC {} -> {}",
                crate::values::mac::lower(*from),
                crate::values::mac::lower(*to)
            ),
            Change::Mtu { from, to } => write!(f, "MTU {from} -> {to}"),
            Change::Stp(s) => write!(f, "STP {}", on(*s)),
            Change::ForwardDelay(d) => write!(f, "forward delay {}", secs(d)),
            Change::AgeingTime(d) => write!(f, "ageing time {}", secs(d)),
            Change::VlanFiltering(v) => write!(f, "VLAN filtering {}", on(*v)),
            Change::Option(o) => write!(f, "{o}"),
            Change::AcceptRa(v) => write!(f, "accept_ra {}", on(*v)),
            Change::Autoconf(v) => write!(f, "autoconf {}", on(*v)),
            Change::DisableIpv6(v) => write!(f, "IPv6 {}", on(!*v)),
            Change::AddressAdded(a) => write!(f, "address {a} added"),
            Change::PortAttached(p) => write!(f, "port {p} attached"),
            Change::PortReconfigured(p) => write!(f, "port {p} reconfigured"),
            Change::AdminUp(up) => f.write_str(if *up { "up" } else { "down" }),
            Change::AutoLinkLocal(v) => write!(f, "automatic link-local {}", on(*v)),
            Change::VxlanCreated(v) => write!(f, "VXLAN device {v} created"),
            Change::GuardInstalled(p) => write!(f, "guest guard installed on {p}"),
            Change::GuardRemoved(p) => write!(f, "guest guard removed from {p}"),
            Change::BandwidthSet(p) => write!(f, "bandwidth limits set on {p}"),
            Change::BandwidthRemoved(p) => write!(f, "bandwidth limits removed from {p}"),
            Change::ForwardInstalled(m) => write!(f, "forward mode {m} installed"),
            Change::ForwardRemoved => f.write_str("forward mode rules removed"),
            Change::Forwarding(k) => write!(f, "{k} on"),
            Change::RemoteAdded { vxlan, remote } => write!(f, "remote {remote} added to {vxlan}"),
            Change::RemoteRemoved { vxlan, remote } => {
                write!(f, "remote {remote} removed from {vxlan}")
            }
        }
    }
}

/// What [`BridgeConfig::apply`](crate::BridgeConfig::apply) did: the bridge, and the changes made
/// (empty when nothing differed).
#[derive(Debug)]
#[non_exhaustive]
pub struct Applied {
    /// The bridge, now as configured.
    pub bridge: Bridge,
    /// The changes made, in order.
    pub changes: Vec<Change>,
}

/// What a `create` or `apply` has done so far: the journal that takes it
/// back, and the [`Change`]s it reports. Its methods are the one place
/// where a converging step is run, recorded and reported: a change is
/// reported exactly when its step was made.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The steps made, to take back if a later one fails.
    pub(crate) journal: Journal,
    /// What `apply` reports, in the order it was done.
    pub(crate) changes: Vec<Change>,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Runs `act` as `step` of the journal (recorded first, taken back if a
    /// later step fails) and reports `change` once `act` succeeded.
    pub(crate) async fn step<T>(
        &mut self,
        step: Step,
        change: Change,
        act: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let out = self.journal.step(step, act).await?;
        self.changes.push(change);
        Ok(out)
    }

    /// Reports `change` for a step already made and recorded as `step`
    /// (a device that came into being with its create).
    pub(crate) fn made(&mut self, step: Step, change: Change) {
        self.journal.made(step);
        self.changes.push(change);
    }

    /// Runs `act`, which has nothing to go back to (the kernel gave no
    /// value to restore), and reports `change` once it succeeded.
    pub(crate) async fn unjournaled(
        &mut self,
        change: Change,
        act: impl std::future::Future<Output = Result<()>>,
    ) -> Result<()> {
        act.await?;
        self.changes.push(change);
        Ok(())
    }

    /// Takes over `steps`, made and recorded by an operation of its own
    /// (an attach), and reports `change` for them.
    pub(crate) fn append(&mut self, steps: Journal, change: Change) {
        self.journal.append(steps);
        self.changes.push(change);
    }
}
