//! A guest's network interface on a bridge: a tap for a VMM
//! ([`VmNic`]), a veth pair for a container or sandbox ([`VethNic`]), a
//! macvtap on a host interface ([`MacvtapNic`]).

pub(crate) mod macvtap;
pub(crate) mod veth;
pub(crate) mod vm;

pub use macvtap::{MacvtapNic, MacvtapNicConfig};
pub use veth::{VethNic, VethNicConfig};
pub use vm::{VmNic, VmNicConfig, host_mac_for};
