//! VXLAN devices: a bridge's L2 segment stretched over an IP underlay, one
//! VNI per device (`ip link add NAME type vxlan id VNI ...`), or many on
//! one external (collect-metadata) device whose port maps VLANs to VNIs. The device
//! becomes a bridge port like any other ([`Bridge::attach_port`]); its
//! remote VTEPs are in [`crate::Remote`].
//!
//! [`Bridge::attach_port`]: crate::Bridge::attach_port

mod config;
mod device;
mod remote;
mod remotes;
mod vni;

pub use config::VxlanConfig;
pub use device::Vxlan;
pub(crate) use device::{check_carries, existing, make_device, preflight_all};
pub(crate) use remote::{Meets, meets};
pub use remote::{Remote, RemoteKind};
pub use vni::{ToVni, VXLAN_OVERHEAD_V4, VXLAN_OVERHEAD_V6, VXLAN_PORT, Vni};
