//! Forward modes: what the host does with a bridge's guests' traffic to
//! the rest of the world — nothing, isolation, NAT or routing — as
//! libvirt's networks do it, in nf_tables rules bridgekit owns.
//!
//! - `config.rs`: [`Forward`], the public value;
//! - `rules.rs`: a mode as chains for one bridge;
//! - `bridge.rs`: a bridge's mode in the table and the forwarding
//!   sysctls: read, converged (as journal steps), removed.
//!
//! The rules live in the connection's table
//! ([`Netlink::with_guard_table`](crate::Netlink::with_guard_table)) of
//! the inet family, beside the guest guards' netdev table of the same
//! name, one base chain per hook and bridge (`BRIDGE/forward`,
//! `BRIDGE/nat`).

pub(crate) mod bridge;
mod config;
pub(crate) mod rules;

pub use config::Forward;
