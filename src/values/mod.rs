//! Values checked before any request: interface names, MACs, MTUs, VLAN
//! ids, addresses, bridge and port options, link states and counters, tap offloads, bandwidth limits, sysctl names. No kernel
//! here, and nothing above.

pub(crate) mod address;
pub(crate) mod bandwidth;
pub(crate) mod bridge_option;
pub(crate) mod counters;
pub(crate) mod link_state;
pub(crate) mod mac;
pub(crate) mod macvtap_mode;
pub(crate) mod mtu;
pub(crate) mod multicast_router;
pub(crate) mod name;
mod name_check;
pub(crate) mod offloads;
pub(crate) mod option_value;
pub(crate) mod port_option;
#[cfg(feature = "serde")]
pub(crate) mod ser;
pub(crate) mod sysctl;
pub(crate) mod vlan;

pub use address::{AddressStatus, ToAddress};
pub use bandwidth::{Bandwidth, PortBandwidth};
pub use bridge_option::{BridgeOption, BridgeOptionKind};
pub use counters::Counters;
pub use link_state::{OperState, PortState};
pub use mac::{ToMac, eui64_link_local};
pub use macvtap_mode::MacvtapMode;
pub use mtu::{MAX_MTU, MIN_MTU};
pub use multicast_router::MulticastRouter;
pub use name::{IFNAME_MAX_LEN, IfName};
pub use offloads::{Offloads, VNET_HDR_SIZES};
pub use port_option::{PortOption, PortOptionKind};
pub use sysctl::{Ipv6Sysctl, NetSysctl};
pub use vlan::{MAX_VLAN_ID, VlanId, VlanMember, VlanProtocol, VlanRange};
