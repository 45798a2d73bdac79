//! The engine under every multi-step operation, at the bottom of the
//! operation layers: it knows links only as (name, ifindex) and the kernel
//! through [`crate::netlink`], but for what netlink does not carry: a
//! tap's persist flag (through `crate::sys`) and IPv6 sysctls (written to
//! `/proc/sys` by `ipv6.rs`). So any operation can use it, and it imports
//! none of them.
//!
//! - [`act`]: kernel-level actions on one link, each read back; the public
//!   setters and the journal's undo both call them, so an undo is checked
//!   exactly like the change it takes back.
//! - [`journal`]: the steps an operation made, each with its inverse, and
//!   their rollback.
//! - [`complete`]: runs an operation to its end on a task of its own when
//!   the caller drops its future, so that a rollback is never cut short.
//! - [`ipv6`]: a link's IPv6 sysctls, written through the namespace thread
//!   and read back through netlink.
//! - [`limits`]: a port's bandwidth limits (tbf qdiscs, an IFB and its
//!   redirect), converged, read back, and undone by converging back.
//! - [`forwarding`]: the namespace-wide forwarding sysctls of a forward
//!   mode, written and read back through the namespace thread.

pub(crate) mod act;
pub(crate) mod complete;
pub(crate) mod forwarding;
pub(crate) mod ipv6;
pub(crate) mod journal;
pub(crate) mod limits;

pub(crate) use act::VlanTarget;
pub(crate) use journal::{Journal, LinkId, Step};
