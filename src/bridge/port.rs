//! Bridge ports as values: what names one ([`ToPort`], [`PortRef`]) and
//! how one is to be configured ([`PortConfig`]). What the kernel says of
//! one is `port_status.rs`; attaching and detaching are `ports.rs` and
//! `ports_bulk.rs`.

use crate::error::{BadInput, InputKind};
use macaddr::MacAddr6;

use crate::error::{Error, Result};
use crate::guard::GuestGuard;
use crate::netlink::PortOptions;
use crate::values::bandwidth::{Bandwidth, PortBandwidth};
use crate::values::bridge_option::MulticastRouter;
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::name::IfName;
use crate::values::port_option::PortOption;
use crate::values::vlan::{self, VlanId, VlanMember};

/// Largest port priority the kernel accepts (`BR_MAX_PORT_PRIORITY`).
const MAX_PORT_PRIORITY: u16 = 63;

/// Something that names a port: an interface name (`&str`, [`IfName`]) or an ifindex (`u32`).
///
/// ```
/// use bridgekit::ToPort;
/// assert!("vnet0".to_port().is_ok());
/// assert!("bad/name".to_port().is_err());
/// assert!(7u32.to_port().is_ok());
/// ```
pub trait ToPort {
    /// Validates and converts.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an invalid name or ifindex 0.
    fn to_port(self) -> Result<PortRef>;
}

/// Port group_fwd_mask bits the kernel refuses (BR_GROUPFWD_MACPAUSE).
const PORT_GROUP_FWD_RESTRICTED: u16 = 1 << 1;

/// A validated port reference, from [`ToPort`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortRef {
    /// By name.
    Name(IfName),
    /// By ifindex.
    Index(u32),
}

impl PortRef {
    /// The netlink layer's form of this reference.
    pub(crate) fn link_ref(&self) -> crate::netlink::LinkRef<'_> {
        match self {
            PortRef::Name(n) => crate::netlink::LinkRef::Name(n.as_str()),
            PortRef::Index(i) => crate::netlink::LinkRef::Index(*i),
        }
    }
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Name(n) => write!(f, "{n}"),
            PortRef::Index(i) => write!(f, "#{i}"),
        }
    }
}

impl ToPort for PortRef {
    fn to_port(self) -> Result<PortRef> {
        Ok(self)
    }
}
impl ToPort for &str {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(IfName::new(self)?))
    }
}
impl ToPort for IfName {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(self))
    }
}
impl ToPort for &IfName {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(self.clone()))
    }
}
impl ToPort for String {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(IfName::new(self)?))
    }
}
impl ToPort for &String {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(IfName::new(self)?))
    }
}
impl ToPort for u32 {
    fn to_port(self) -> Result<PortRef> {
        if self == 0 {
            return Err(Error::invalid(
                InputKind::Ifindex,
                "ifindex 0",
                "ifindexes start at 1",
            ));
        }
        Ok(PortRef::Index(self))
    }
}

/// How a port should be configured when attached. Unset options keep the
/// kernel's defaults.
///
/// Mirrors `ip link set PORT type bridge_slave learning on|off flood on|off ...`,
/// `bridge vlan add` and `bridge fdb replace`.
///
/// ```
/// use bridgekit::{PortConfig, VlanId, VlanMember};
/// let cfg = PortConfig::new().learning(false).unicast_flood(false).cost(10).up();
/// // libvirt's "managed MAC table": no learning, no unicast flood, a static entry for the guest.
/// let guest = PortConfig::managed("52:54:00:12:34:56")
///     .vlan(VlanMember::access(VlanId::new(10)?))
///     .up();
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use = "a port config changes nothing until it is passed to attach_port or a BridgeConfig"]
pub struct PortConfig {
    pub(crate) options: PortOptions,
    pub(crate) up: bool,
    pub(crate) vlans: Vec<VlanMember>,
    pub(crate) fdb: Vec<(MacAddr6, Option<VlanId>)>,
    pub(crate) managed: Option<MacAddr6>,
    pub(crate) allow_move: bool,
    /// `Some(Some(port))`: make `port` the backup port; `Some(None)`: no
    /// backup port. Resolved to an ifindex (`options.backup_port`) when
    /// attaching, once the bridge's ports are known.
    pub(crate) backup: Option<Option<PortRef>>,
    /// The guest guard to install on the port's ingress.
    pub(crate) guest_guard: Option<GuestGuard>,
    /// The port's bandwidth limits.
    pub(crate) bandwidth: PortBandwidth,
    /// The first bad MAC given to a builder, reported by validate().
    pub(crate) bad: Option<BadInput>,
}

impl PortConfig {
    /// A port with the kernel's default options, left in its admin state.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// libvirt's `macTableManager='libvirt'` for a guest NIC: learning and
    /// unicast flooding off, and a static FDB entry for `guest_mac` on the
    /// port, so the bridge forwards to the guest without learning. With a
    /// PVID among the port's [`vlan`](PortConfig::vlan)s, the entry is made in
    /// that VLAN (an entry without VLAN matches no frame once filtering is on).
    ///
    /// The kernel removes the entry when the port leaves the bridge.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::managed("52:54:00:12:34:56").up();
    /// ```
    pub fn managed(guest_mac: impl ToMac) -> Self {
        let mut cfg = Self::new().learning(false).unicast_flood(false);
        match guest_mac.to_mac() {
            Ok(mac) => cfg.managed = Some(mac),
            Err(e) => BadInput::keep_first(&mut cfg.bad, e),
        }
        cfg
    }

    /// A guest's port, locked to the guest's MAC: [`managed`](Self::managed)
    /// (learning off, no unicast flood, a static FDB entry for the guest)
    /// plus [`locked`](Self::locked). The kernel then drops every frame
    /// from the port whose source MAC is not the guest's: anti-spoofing
    /// in one port flag, where CNI's `macspoofchk` uses nftables and
    /// libvirt nwfilter. Needs Linux 5.18 ([`Error::Unsupported`] naming
    /// it before).
    ///
    /// `bridge link set dev PORT learning off flood off locked on` and
    /// `bridge fdb replace GUEST_MAC dev PORT master static`.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::managed_locked("52:54:00:12:34:56").up();
    /// ```
    pub fn managed_locked(guest_mac: impl ToMac) -> Self {
        Self::managed(guest_mac).locked(true)
    }

    /// Learn source MACs on this port (`learning on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().learning(false);
    /// ```
    pub fn learning(mut self, on: bool) -> Self {
        self.options.learning = Some(on);
        self
    }

    /// Flood unknown unicast to this port (`flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().unicast_flood(false);
    /// ```
    pub fn unicast_flood(mut self, on: bool) -> Self {
        self.options.unicast_flood = Some(on);
        self
    }

    /// Flood unknown multicast to this port (`mcast_flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().multicast_flood(false);
    /// ```
    pub fn multicast_flood(mut self, on: bool) -> Self {
        self.options.multicast_flood = Some(on);
        self
    }

    /// Flood broadcast to this port (`bcast_flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().broadcast_flood(false);
    /// ```
    pub fn broadcast_flood(mut self, on: bool) -> Self {
        self.options.broadcast_flood = Some(on);
        self
    }

    /// Send frames back out of the port they came in on (`hairpin on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().hairpin(true);
    /// ```
    pub fn hairpin(mut self, on: bool) -> Self {
        self.options.hairpin = Some(on);
        self
    }

    /// Any port option of the table ([`PortOption`]), the ones without a
    /// method of their own included. Repeatable; a later value of an
    /// option replaces an earlier one, as with the methods. Checked like
    /// them (ranges first, read back where the kernel may ignore it).
    ///
    /// `bridge link set dev PORT NAME VALUE`.
    ///
    /// ```
    /// use bridgekit::{PortConfig, PortOption};
    /// let cfg = PortConfig::new().option(PortOption::Isolated(true));
    /// assert_eq!(cfg, PortConfig::new().isolated(true));
    /// ```
    pub fn option(mut self, option: PortOption) -> Self {
        self.options.set(option);
        self
    }

    /// Isolated ports cannot talk to each other, only to non-isolated ones (`isolated on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().isolated(true);
    /// ```
    pub fn isolated(mut self, on: bool) -> Self {
        self.options.isolated = Some(on);
        self
    }

    /// ARP/ND suppression on this port (`neigh_suppress on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().neigh_suppress(true);
    /// ```
    pub fn neigh_suppress(mut self, on: bool) -> Self {
        self.options.neigh_suppress = Some(on);
        self
    }

    /// STP path cost, 1..=65535 (`cost COST`; checked by `attach_port`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().cost(100);
    /// ```
    pub fn cost(mut self, cost: u32) -> Self {
        self.options.cost = Some(cost);
        self
    }

    /// STP port priority, 0..=63 (`priority PRIO`; checked by `attach_port`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().priority(8);
    /// ```
    pub fn priority(mut self, priority: u16) -> Self {
        self.options.priority = Some(priority);
        self
    }

    /// Bring the port up once attached (`ip link set PORT up`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().up();
    /// ```
    pub fn up(mut self) -> Self {
        self.up = true;
        self
    }

    /// BPDU guard (`guard on|off`): a BPDU received on the port disables
    /// it. For guest ports, which have no business sending STP frames.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().guard(true);
    /// ```
    pub fn guard(mut self, on: bool) -> Self {
        self.options.guard = Some(on);
        self
    }

    /// Root block (`root_block on|off`): the port never becomes a root
    /// port; a guest's superior BPDU cannot take over the bridge's
    /// spanning tree.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().root_block(true);
    /// ```
    pub fn root_block(mut self, on: bool) -> Self {
        self.options.root_block = Some(on);
        self
    }

    /// Proxy ARP on the port (`proxy_arp on|off`): the bridge answers ARP
    /// requests from it for addresses it knows.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().proxy_arp(true);
    /// ```
    pub fn proxy_arp(mut self, on: bool) -> Self {
        self.options.proxy_arp = Some(on);
        self
    }

    /// Whether the port leads to a multicast router (`mcast_router
    /// 0|1|2|3`): [`MulticastRouter::Disabled`], `Auto` (learned from
    /// queries, the default), `Permanent` or `Temporary`.
    ///
    /// ```
    /// use bridgekit::{MulticastRouter, PortConfig};
    /// let cfg = PortConfig::new().multicast_router(MulticastRouter::Permanent);
    /// ```
    pub fn multicast_router(mut self, mode: MulticastRouter) -> Self {
        self.options.multicast_router = Some(mode);
        self
    }

    /// IGMP/MLD fast leave (`mcast_fast_leave on|off`): a leave message
    /// removes the port from the group at once, without a query first.
    /// For ports with one host behind them, like a guest's.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().multicast_fast_leave(true);
    /// ```
    pub fn multicast_fast_leave(mut self, on: bool) -> Self {
        self.options.fast_leave = Some(on);
        self
    }

    /// Locked port (`locked on|off`, Linux 5.18): the bridge forwards a
    /// frame from the port only if its source MAC has an FDB entry
    /// pointing at the port (a static one, say, from
    /// [`managed`](Self::managed) or [`fdb_entry`](Self::fdb_entry)).
    /// Older kernels answer [`Error::Unsupported`] naming the version.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::managed("52:54:00:12:34:56").locked(true);
    /// ```
    pub fn locked(mut self, on: bool) -> Self {
        self.options.locked = Some(on);
        self
    }

    /// MAC authentication bypass (`mab on|off`, Linux 6.2) on a
    /// [`locked`](Self::locked) port: a frame from an unknown source MAC
    /// is still dropped, but the bridge learns the MAC as a `locked` FDB
    /// entry that user space (an 802.1X authenticator) can then unlock
    /// by replacing it. The kernel takes it only on a locked port with
    /// learning on: `mab(true)` needs `locked(true)` in the same config and
    /// learning not turned off, or it is refused before anything is sent.
    /// Older kernels answer [`Error::Unsupported`] naming the version.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().locked(true).mab(true);
    /// ```
    pub fn mab(mut self, on: bool) -> Self {
        self.options.mab = Some(on);
        self
    }

    /// VLAN-to-tunnel mapping on the port (`vlan_tunnel on|off`, Linux
    /// 4.11): on a VXLAN port in `external` (collect-metadata) mode, a
    /// frame's VLAN then selects its VNI through the port's map
    /// ([`Bridge::add_vlan_tunnels`](crate::Bridge::add_vlan_tunnels)), so
    /// one VXLAN device ([`VxlanConfig::external`](crate::VxlanConfig::external))
    /// carries many segments.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().vlan_tunnel(true);
    /// ```
    pub fn vlan_tunnel(mut self, on: bool) -> Self {
        self.options.vlan_tunnel = Some(on);
        self
    }

    /// Per-VLAN neighbour suppression (`neigh_vlan_suppress on|off`, Linux
    /// 6.4): on a VLAN-filtering bridge, ARP/ND suppression is then
    /// decided per VLAN (`bridge vlan set ... neigh_suppress on`) instead
    /// of by the port-wide [`neigh_suppress`](Self::neigh_suppress).
    /// Older kernels answer [`Error::Unsupported`] naming the version.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().neigh_vlan_suppress(true);
    /// ```
    pub fn neigh_vlan_suppress(mut self, on: bool) -> Self {
        self.options.neigh_vlan_suppress = Some(on);
        self
    }

    /// A backup port (`bridge link set dev PORT backup_port BACKUP`): when
    /// this port loses its carrier, the bridge sends the traffic meant for
    /// it through `backup` instead (a second uplink, say). `backup` must
    /// already be a port of the same bridge when this port is attached
    /// (in a [`BridgeConfig`](crate::BridgeConfig), `apply` attaches the
    /// ports that name no backup first); otherwise the attach is refused
    /// with [`Error::InvalidInput`]. The kernel forgets the backup when
    /// that port leaves the bridge.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().backup_port("uplink1");
    /// ```
    pub fn backup_port(mut self, backup: impl ToPort) -> Self {
        match backup.to_port() {
            Ok(p) => self.backup = Some(Some(p)),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// No backup port (`bridge link set dev PORT nobackup_port`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().no_backup_port();
    /// ```
    pub fn no_backup_port(mut self) -> Self {
        self.backup = Some(None);
        self
    }

    /// The backup port this config names, if any (`Some(None)`: none).
    pub(crate) fn backup(&self) -> Option<Option<&PortRef>> {
        self.backup.as_ref().map(Option::as_ref)
    }

    /// Link-local groups (`01:80:c2:00:00:0X`) forwarded from this port
    /// (`group_fwd_mask MASK`, bit X for group X); bit 1 (pause frames) is
    /// never forwarded. `1 << 14` lets LLDP through.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().group_fwd_mask(1 << 14);
    /// ```
    pub fn group_fwd_mask(mut self, mask: u16) -> Self {
        self.options.group_fwd_mask = Some(mask);
        self
    }

    /// Adds a VLAN membership (repeatable; all are sent in one message, see
    /// [`Bridge::add_vlans`](crate::Bridge::add_vlans)). Needs a kernel with VLAN filtering.
    ///
    /// ```
    /// use bridgekit::{PortConfig, VlanMember, VlanRange};
    /// let trunk = PortConfig::new().vlan(VlanMember::tagged(VlanRange::new(100, 199)?));
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn vlan(mut self, member: VlanMember) -> Self {
        self.vlans.push(member);
        self
    }

    /// Adds a static FDB entry on the port (repeatable; see [`Bridge::add_fdb`](crate::Bridge::add_fdb)).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().fdb_entry("52:54:00:00:00:01", None);
    /// ```
    pub fn fdb_entry(mut self, mac: impl ToMac, vlan: Option<VlanId>) -> Self {
        match mac.to_mac() {
            Ok(mac) => self.fdb.push((mac, vlan)),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// Allows taking the port from another bridge. Without this a port of
    /// another bridge is [`Error::PortBusy`] (the kernel would move it
    /// silently). Moving loses what the old bridge had for the port (its
    /// VLANs and FDB entries); if the attach then fails, the port goes back
    /// to the old bridge with its old port options.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().allow_move();
    /// ```
    pub fn allow_move(mut self) -> Self {
        self.allow_move = true;
        self
    }

    /// A [`GuestGuard`] on the port: frames from the guest that are not
    /// its own (another source MAC or address, spoofed ARP or neighbour
    /// advertisements, router advertisements, DHCP server replies) are
    /// dropped on the port's ingress. Installed before the port joins the
    /// bridge, so the guest is never on it unguarded; replaced in one
    /// nf_tables transaction by `apply`; removed when bridgekit detaches
    /// the port. The guest's MAC is the guard's own, else the
    /// [`managed`](Self::managed) MAC.
    ///
    /// (Not to be confused with [`guard`](Self::guard), the kernel's BPDU
    /// guard.)
    ///
    /// ```
    /// use bridgekit::{GuestGuard, PortConfig};
    /// let cfg = PortConfig::managed("52:54:00:12:34:56")
    ///     .guest_guard(GuestGuard::new().ipv4("192.168.122.10".parse::<std::net::Ipv4Addr>()?))
    ///     .up();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn guest_guard(mut self, guard: GuestGuard) -> Self {
        self.guest_guard = Some(guard);
        self
    }

    /// Limits the traffic the port sends to the guest (libvirt's
    /// `<bandwidth><inbound>`; the port's egress): a tbf at the port's
    /// root (`tc qdisc replace dev PORT root handle bb00: tbf rate R burst
    /// B limit L`). The port's root qdisc must be the kernel's default or
    /// bridgekit's; another is refused ([`Error::AlreadyExists`]).
    ///
    /// Set before the port joins the bridge, so the guest is never on it
    /// unlimited; changed in place by `apply` (one `tc qdisc replace`);
    /// removed when bridgekit detaches the port or deletes the bridge.
    ///
    /// ```
    /// use bridgekit::{Bandwidth, PortConfig};
    /// let cfg = PortConfig::new().inbound(Bandwidth::bits_per_sec(100_000_000)).up();
    /// ```
    pub fn inbound(mut self, limit: Bandwidth) -> Self {
        self.bandwidth.inbound = Some(limit);
        self
    }

    /// Limits the traffic the guest sends through the port (libvirt's
    /// `<bandwidth><outbound>`; the port's ingress). A qdisc shapes only
    /// what a link sends, so the port's received frames are redirected to
    /// an IFB named `bkifb` + the port's ifindex, whose root is the tbf,
    /// and which hands them back to the port's receive path (the CNI
    /// `bandwidth` plugin's recipe):
    ///
    /// ```text
    /// ip link add bkifbN mtu MTU up type ifb
    /// tc qdisc replace dev bkifbN root handle bb00: tbf rate R burst B limit L
    /// tc qdisc add dev PORT ingress
    /// tc filter replace dev PORT parent ffff: protocol all pref 47872 u32 match u32 0 0 \
    ///     action mirred egress redirect dev bkifbN
    /// ```
    ///
    /// The port's ingress qdisc is then bridgekit's; a `clsact` there is
    /// refused ([`Error::AlreadyExists`]). Removed, IFB and all, when
    /// bridgekit detaches the port or deletes the bridge; an IFB whose port
    /// is gone is deleted by the next connection's first `apply`.
    ///
    /// ```
    /// use bridgekit::{Bandwidth, PortConfig};
    /// let cfg = PortConfig::new().outbound(Bandwidth::bits_per_sec(10_000_000).peak(2_500_000));
    /// ```
    pub fn outbound(mut self, limit: Bandwidth) -> Self {
        self.bandwidth.outbound = Some(limit);
        self
    }

    /// Both directions' limits at once (`None`: unlimited).
    ///
    /// ```
    /// use bridgekit::{Bandwidth, PortBandwidth, PortConfig};
    /// let limits = PortBandwidth { inbound: Some(Bandwidth::bytes_per_sec(125_000)), outbound: None };
    /// assert_eq!(PortConfig::new().bandwidth(limits), PortConfig::new().inbound(Bandwidth::bytes_per_sec(125_000)));
    /// ```
    pub fn bandwidth(mut self, limits: PortBandwidth) -> Self {
        self.bandwidth = limits;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        self.bandwidth.validate()?;
        if let Some(guard) = &self.guest_guard {
            guard.resolve(self.managed)?;
        }
        if let Some(c) = self.options.cost {
            if !(1..=65535).contains(&c) {
                return Err(Error::invalid(
                    InputKind::PortOption,
                    format!("port cost {c}"),
                    "must be within 1..=65535",
                ));
            }
        }
        if let Some(p) = self.options.priority {
            if p > MAX_PORT_PRIORITY {
                return Err(Error::invalid(
                    InputKind::PortOption,
                    format!("port priority {p}"),
                    format!("must be within 0..={MAX_PORT_PRIORITY}"),
                ));
            }
        }
        if let Some(m) = self.options.group_fwd_mask {
            if m & PORT_GROUP_FWD_RESTRICTED != 0 {
                return Err(Error::invalid(
                    InputKind::PortOption,
                    format!("port group_fwd_mask {m:#06x}"),
                    "bit 1 (pause frames, 01:80:c2:00:00:01) is never forwarded",
                ));
            }
        }
        if let Some(r @ MulticastRouter::Other(_)) = self.options.multicast_router {
            return Err(Error::invalid(
                InputKind::PortOption,
                format!("port multicast router mode {}", r.to_kernel()),
                "a port takes disabled (0), auto (1), permanent (2) or temporary (3)",
            ));
        }
        if self.options.mab == Some(true)
            && (self.options.locked != Some(true) || self.options.learning == Some(false))
        {
            return Err(Error::invalid(
                InputKind::PortOption,
                "port option mab",
                "MAC authentication bypass needs locked(true) and learning on in the same config",
            ));
        }
        if !self.vlans.is_empty() {
            vlan::validate(&self.vlans)?;
        }
        for (mac, _) in &self.fdb {
            validate_unicast(*mac)?;
        }
        if let Some(mac) = self.managed {
            validate_unicast(mac)?;
        }
        Ok(())
    }

    /// Whether attaching needs one change request at most (master, with up
    /// in the same message): no options, VLANs or FDB entries.
    pub(crate) fn single_change(&self) -> bool {
        self.options.is_empty()
            && self.backup.is_none()
            && self.vlans.is_empty()
            && !self.has_fdb_entries()
            && self.guest_guard.is_none()
            && self.bandwidth.is_none()
    }

    /// Whether [`fdb_entries`](Self::fdb_entries) has any, without
    /// building the list.
    pub(crate) fn has_fdb_entries(&self) -> bool {
        !self.fdb.is_empty() || self.managed.is_some()
    }

    /// Every static FDB entry to add, the managed guest MAC included.
    pub(crate) fn fdb_entries(&self) -> impl Iterator<Item = (MacAddr6, Option<VlanId>)> + '_ {
        let managed = self.managed.and_then(|mac| {
            let pvid = self.vlans.iter().find(|m| m.pvid).map(|m| m.range.start());
            (!self.fdb.contains(&(mac, pvid))).then_some((mac, pvid))
        });
        self.fdb.iter().copied().chain(managed)
    }
}
