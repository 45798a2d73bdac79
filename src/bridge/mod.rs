//! A Linux bridge: its config ([`config`]), handle ([`handle`]) and status, `create` and
//! `apply` ([`apply`]), and what hangs off it: addresses, ports (one at a
//! time and in bulk, and their config), VLANs, VLAN tunnels, FDB entries,
//! events, and the old `-nic` taps of libvirt ([`legacy`]).

pub(crate) mod addresses;
pub(crate) mod apply;
pub(crate) mod change;
pub(crate) mod config;
pub(crate) mod converge;
pub(crate) mod event;
pub(crate) mod events;
pub(crate) mod fdb;
pub(crate) mod handle;
pub(crate) mod legacy;
pub(crate) mod port;
pub(crate) mod port_status;
pub(crate) mod ports;
pub(crate) mod ports_bulk;
pub(crate) mod status;
pub(crate) mod vlan_tunnels;
pub(crate) mod vlans;

pub use change::{Applied, Change};
pub use config::BridgeConfig;
pub use event::{BridgeEvent, EventKinds};
pub use events::BridgeEvents;
pub use fdb::{FdbEntry, FdbKind};
pub use handle::Bridge;
pub(crate) use handle::*;
pub use legacy::{LegacyNic, legacy_nic_name};
pub use port::{PortConfig, PortRef, ToPort};
pub use port_status::PortStatus;
pub use status::BridgeStatus;
