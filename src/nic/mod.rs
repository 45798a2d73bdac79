//! A guest's network interface on a bridge: a tap for a VMM
//! ([`VmNic`]), a veth pair for a container or sandbox ([`VethNic`]), a
//! macvtap on a host interface ([`MacvtapNic`]).

pub(crate) mod macvtap;
pub(crate) mod offloads;
pub(crate) mod veth;
pub(crate) mod vm;

pub use macvtap::{MacvtapNic, MacvtapNicConfig};
pub use offloads::{set_tap_offloads, set_tap_vnet_hdr_size, tap_offloads};
pub use veth::{VethNic, VethNicConfig};
pub use vm::{VmNic, VmNicConfig, host_mac_for};
