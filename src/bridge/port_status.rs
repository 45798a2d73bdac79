//! What the kernel says of one port of a bridge ([`PortStatus`]):
//! `bridge -d link show` and `bridge vlan show` in one value.

use macaddr::MacAddr6;

use crate::netlink::LinkSnapshot;
use crate::values::counters::Counters;
use crate::values::link_state::PortState;
use crate::values::multicast_router::MulticastRouter;
use crate::values::name::IfName;
use crate::values::port_option::{PortOption, PortOptionKind};
use crate::values::vlan::VlanMember;

/// One port of a bridge with its state, options and VLANs, from
/// [`Bridge::ports`](crate::Bridge::ports) (`bridge -d link show`, `bridge vlan show`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PortStatus {
    /// Name.
    pub name: IfName,
    /// Ifindex.
    pub index: u32,
    /// STP state (`forwarding`, `disabled`, ...).
    pub state: PortState,
    /// Administratively up.
    pub up: bool,
    /// Has carrier.
    pub carrier: bool,
    /// MAC of the port.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::values::ser::opt_mac")
    )]
    pub mac: Option<MacAddr6>,
    /// MTU.
    pub mtu: u32,
    /// `learning`.
    pub learning: bool,
    /// `flood`.
    pub unicast_flood: bool,
    /// `mcast_flood`.
    pub multicast_flood: bool,
    /// `bcast_flood`.
    pub broadcast_flood: bool,
    /// `hairpin`.
    pub hairpin: bool,
    /// `isolated`.
    pub isolated: bool,
    /// `neigh_suppress`.
    pub neigh_suppress: bool,
    /// STP path cost.
    pub cost: u32,
    /// STP port priority.
    pub priority: u16,
    /// BPDU guard (`guard`).
    pub guard: bool,
    /// Root block (`root_block`).
    pub root_block: bool,
    /// Proxy ARP (`proxy_arp`).
    pub proxy_arp: bool,
    /// Multicast router mode of the port (`mcast_router`).
    pub multicast_router: MulticastRouter,
    /// IGMP/MLD fast leave (`mcast_fast_leave`).
    pub multicast_fast_leave: bool,
    /// Locked (`locked`); `None` on a kernel without it (before 5.18).
    pub locked: Option<bool>,
    /// MAC authentication bypass (`mab`); `None` on a kernel without it
    /// (before 6.2).
    pub mab: Option<bool>,
    /// Per-VLAN neighbour suppression (`neigh_vlan_suppress`); `None` on a
    /// kernel without it (before 6.4).
    pub neigh_vlan_suppress: Option<bool>,
    /// VLAN-to-tunnel mapping (`vlan_tunnel`).
    pub vlan_tunnel: bool,
    /// Link-local groups forwarded from the port (`group_fwd_mask`).
    pub group_fwd_mask: u16,
    /// The port's backup port (`backup_port`), if it has one.
    pub backup_port: Option<IfName>,
    /// Every option of the table ([`PortOption`]) the kernel reported, in
    /// the table's order: the fields above and those without a field of
    /// their own (an option this kernel lacks is missing).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::values::ser::port_options")
    )]
    pub options: Vec<PortOption>,
    /// VLAN memberships, compressed (empty without VLAN filtering support).
    pub vlans: Vec<VlanMember>,
    /// The port's traffic counters, where they were asked for
    /// ([`Bridge::ports_with_counters`](crate::Bridge::ports_with_counters));
    /// `None` from [`Bridge::ports`](crate::Bridge::ports) and `status()`,
    /// which leave them out (they are most of each answer).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub counters: Option<Counters>,
}

impl PortStatus {
    /// `backup`: the name of the port's backup port, looked up by the caller.
    pub(crate) fn new(link: LinkSnapshot, vlans: Vec<VlanMember>, backup: Option<IfName>) -> Self {
        let o = link.port.unwrap_or_default();
        PortStatus {
            name: IfName::from_kernel(link.name),
            index: link.index,
            state: link.port_state.unwrap_or(PortState::Disabled),
            up: link.up,
            carrier: link.carrier,
            mac: link.mac,
            mtu: link.mtu,
            learning: o.learning.unwrap_or(false),
            unicast_flood: o.unicast_flood.unwrap_or(false),
            multicast_flood: o.multicast_flood.unwrap_or(false),
            broadcast_flood: o.broadcast_flood.unwrap_or(false),
            hairpin: o.hairpin.unwrap_or(false),
            isolated: o.isolated.unwrap_or(false),
            neigh_suppress: o.neigh_suppress.unwrap_or(false),
            cost: o.cost.unwrap_or(0),
            priority: o.priority.unwrap_or(0),
            guard: o.guard.unwrap_or(false),
            root_block: o.root_block.unwrap_or(false),
            proxy_arp: o.proxy_arp.unwrap_or(false),
            multicast_router: o.multicast_router.unwrap_or(MulticastRouter::Auto),
            multicast_fast_leave: o.fast_leave.unwrap_or(false),
            locked: o.locked,
            mab: o.mab,
            neigh_vlan_suppress: o.neigh_vlan_suppress,
            vlan_tunnel: o.vlan_tunnel.unwrap_or(false),
            group_fwd_mask: o.group_fwd_mask.unwrap_or(0),
            backup_port: backup,
            options: o.list(),
            vlans,
            counters: link.counters,
        }
    }

    /// The value of one option, as the kernel reported it; `None` where
    /// this kernel has no such option.
    ///
    /// ```no_run
    /// # async fn f(br: &bridgekit::Bridge) -> bridgekit::Result<()> {
    /// use bridgekit::{PortOption, PortOptionKind};
    /// for port in br.ports().await? {
    ///     if port.option(PortOptionKind::Isolated) == Some(PortOption::Isolated(true)) {
    ///         println!("{} is isolated", port.name);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn option(&self, kind: PortOptionKind) -> Option<PortOption> {
        self.options.iter().copied().find(|o| o.kind() == kind)
    }
}
