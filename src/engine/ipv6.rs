//! Host hardening: the IPv6 settings that keep a bridge's host side from
//! taking orders from the guests behind it (`accept_ra=0`, `autoconf=0`,
//! `disable_ipv6=1` for an IPv4-only bridge), as libvirt's network driver
//! sets them, written where the kernel takes them.
//!
//! Netlink reports these settings (IFLA_INET6_CONF) but cannot set them:
//! the kernel takes IPv6 devconf only through
//! `/proc/sys/net/ipv6/conf/<iface>/`, which shows the network namespace
//! of the thread that opens it. So each write runs on the connection's
//! namespace thread (`Netlink::in_netns`), and callers read the result
//! back through netlink, an independent view.

use std::io;
use std::path::Path;

use crate::error::{Error, Op, Result};
use crate::netlink::{LinkRef, LinkSnapshot, Netlink};
use crate::values::name::IfName;
use crate::values::sysctl::{IPV6_SYSCTLS, Ipv6Sysctl};

/// The settings as one desired state, in the order they are written: the
/// protective ones first, so that turning IPv6 on finds them in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv6Guard {
    pub accept_ra: bool,
    pub autoconf: bool,
    /// `None`: left as the kernel gives it.
    pub disable_ipv6: Option<bool>,
}

impl Ipv6Guard {
    pub(crate) fn steps(self) -> impl Iterator<Item = (Ipv6Sysctl, bool)> {
        [
            Some((Ipv6Sysctl::AcceptRa, self.accept_ra)),
            Some((Ipv6Sysctl::Autoconf, self.autoconf)),
            self.disable_ipv6.map(|on| (Ipv6Sysctl::DisableIpv6, on)),
        ]
        .into_iter()
        .flatten()
    }
}

/// A setting's value in a link snapshot's devconf, as on (non-zero) or
/// off; `None` when the link has no IPv6 state.
pub(crate) fn read(link: &LinkSnapshot, knob: Ipv6Sysctl) -> Option<bool> {
    let v6 = link.ipv6?;
    Some(match knob {
        Ipv6Sysctl::AcceptRa => v6.accept_ra,
        Ipv6Sysctl::Autoconf => v6.autoconf,
        Ipv6Sysctl::DisableIpv6 => v6.disabled,
    })
}

/// Why `Unsupported` when the kernel has no IPv6 at all.
pub(crate) const NO_IPV6: &str = "IPv6 is off in this kernel (no /proc/sys/net/ipv6: \
     built without IPv6, or booted with ipv6.disable=1)";

/// Whether the connection's namespace has IPv6 at all.
pub(crate) async fn ipv6_available(nl: &Netlink, op: Op, iface: &str) -> Result<bool> {
    nl.in_netns(|_| Ok(Path::new(IPV6_SYSCTLS).is_dir()))
        .await
        .map_err(|e| Error::io(op, iface, e))
}

/// Writes `knob` = `on` for the interface now named `name` (ifindex
/// `index`), in the connection's namespace. Counts as one request for fault
/// injection (not as a netlink request). Not read back here: callers read the link once after all
/// their writes.
pub(crate) async fn write(
    nl: &Netlink,
    name: &str,
    index: u32,
    knob: Ipv6Sysctl,
    on: bool,
) -> Result<()> {
    let op = Op::SetIpv6Sysctl(knob);
    // Not a netlink request, but a step that fault injection can fail.
    nl.fault_step(op, name)?;
    let path = knob.path(name);
    tracing::debug!(iface = name, sysctl = knob.name(), on, "sysctl write");
    let written = nl
        .in_netns(move |_| {
            if !Path::new(IPV6_SYSCTLS).is_dir() {
                return Ok(Err(()));
            }
            std::fs::write(&path, if on { "1" } else { "0" }).map(Ok)
        })
        .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => Err(Error::Unsupported {
            op,
            iface: IfName::from_kernel(name),
            detail: NO_IPV6.into(),
        }),
        Err(e) => Err(explain(nl, op, name, index, e).await),
    }
}

/// Gives a failed sysctl write its meaning.
async fn explain(nl: &Netlink, op: Op, name: &str, index: u32, e: io::Error) -> Error {
    if let Some(denied) = Error::sysctl_denied(op, name, &e) {
        return denied;
    }
    let iface = name.to_string();
    match e.kind() {
        // No conf directory: the link is gone, renamed in between, or has no
        // IPv6 state (an MTU below 1280 removes it).
        io::ErrorKind::NotFound => match nl.link(op, name, LinkRef::Index(index)).await {
            Err(e @ Error::NotFound { .. }) => e,
            Ok(link) if link.ipv6.is_none() => Error::Unsupported {
                op,
                iface: IfName::from_kernel(iface),
                detail: format!(
                    "{name} has no IPv6 state (an MTU below 1280, here {}, turns IPv6 off on a link)",
                    link.mtu
                ),
            },
            _ => Error::NotFound {
                op,
                iface: IfName::from_kernel(iface),
                errno: Some(libc::ENOENT),
                bridge: None,
            },
        },
        _ => Error::io(op, name, e),
    }
}
