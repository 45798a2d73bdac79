//! What [`Bridge::status`](crate::Bridge::status) reports of a bridge.

use std::time::Duration;

use macaddr::MacAddr6;

use crate::bridge::port_status::PortStatus;
use crate::values::address::AddressStatus;
use crate::values::bridge_option::{BridgeOption, BridgeOptionKind, MulticastRouter};
use crate::values::link_state::OperState;
use crate::values::name::IfName;
use crate::values::vlan::{VlanId, VlanProtocol};

/// A snapshot of a bridge, from [`Bridge::status`](crate::Bridge::status).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BridgeStatus {
    /// Name.
    pub name: IfName,
    /// Ifindex.
    pub index: u32,
    /// Current MAC.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::values::ser::mac"))]
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
            serialize_with = "crate::values::ser::millis"
        )
    )]
    pub forward_delay: Duration,
    /// Ageing time of learned entries.
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "ageing_time_ms",
            serialize_with = "crate::values::ser::millis"
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
            serialize_with = "crate::values::ser::millis"
        )
    )]
    pub hello_time: Duration,
    /// STP max age.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "max_age_ms", serialize_with = "crate::values::ser::millis")
    )]
    pub max_age: Duration,
    /// STP bridge priority.
    pub priority: u16,
    /// Link-local groups forwarded (`group_fwd_mask`).
    pub group_fwd_mask: u16,
    /// The STP group address.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::values::ser::mac"))]
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
    /// Every option of [`BridgeOption`]'s table the kernel reported, in
    /// the table's order: the fields above for the common ones, and any
    /// other (a document writes them as the config's `options` table).
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::values::ser::bridge_options")
    )]
    pub options: Vec<BridgeOption>,
    /// Ports, with their state, options and VLANs (see [`Bridge::ports`](crate::Bridge::ports)).
    pub ports: Vec<PortStatus>,
    /// Addresses with their flags.
    pub addresses: Vec<AddressStatus>,
}

impl BridgeStatus {
    /// The value of one option, as the kernel reported it; `None` where
    /// this kernel has no such option.
    ///
    /// ```no_run
    /// # async fn f(br: &bridgekit::Bridge) -> bridgekit::Result<()> {
    /// use bridgekit::{BridgeOption, BridgeOptionKind};
    /// let status = br.status().await?;
    /// if let Some(BridgeOption::MulticastSnooping(on)) =
    ///     status.option(BridgeOptionKind::MulticastSnooping)
    /// {
    ///     println!("snooping {}", if on { "on" } else { "off" });
    /// }
    /// # Ok(()) }
    /// ```
    pub fn option(&self, kind: BridgeOptionKind) -> Option<BridgeOption> {
        self.options.iter().copied().find(|o| o.kind() == kind)
    }
}
