//! The guest guard: nf_tables rules on a port's ingress that let a guest
//! send only as itself (its MAC, its addresses, no router advertisements,
//! no DHCP server), in a table bridgekit owns.
//!
//! - `config.rs`: [`GuestGuard`] and [`GuardRule`], the public values;
//! - `rules.rs`: a guard as chains of rules for one port;
//! - `port.rs`: a port's guard in the table: read, installed, removed.
//!
//! The rules live in one netdev-family table per connection
//! ([`Netlink::with_guard_table`](crate::Netlink::with_guard_table)),
//! one base chain per guarded port on that port's ingress hook: a frame
//! is checked only by its own port's rules, and before the bridge (or
//! anything else on the host) sees it. The bridge family was the other
//! choice: its rules would match the port by name in one chain that every
//! frame of every port walks, and the host kernel's bridge family lacks
//! `meta` bridge matching.

mod config;
pub(crate) mod port;
mod rules;

pub use config::{GuardRule, GuestGuard};
