//! The namespace-wide forwarding sysctls a forward mode needs
//! (`net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding`), read and
//! written where the kernel keeps them: `/proc/sys` as the connection's
//! namespace thread sees it (`Netlink::in_netns`). Netlink carries
//! neither. Every write is read back.

use std::io;

use crate::error::{Error, Op, Result};
use crate::netlink::Netlink;
use crate::values::name::IfName;
use crate::values::sysctl::NetSysctl;

/// Whether `knob` is on in the connection's namespace. `iface` names the
/// bridge the caller works for, in errors.
pub(crate) async fn read(nl: &Netlink, iface: &str, knob: NetSysctl) -> Result<bool> {
    let op = Op::SetNetSysctl(knob);
    let path = knob.path();
    match nl.in_netns(move |_| std::fs::read_to_string(path)).await {
        Ok(text) => Ok(text.trim() != "0"),
        Err(e) => Err(explain(op, iface, knob, e)),
    }
}

/// Switches `knob` to `on` in the connection's namespace, and reads it
/// back. One step for fault injection.
pub(crate) async fn write(nl: &Netlink, iface: &str, knob: NetSysctl, on: bool) -> Result<()> {
    let op = Op::SetNetSysctl(knob);
    nl.fault_step(op, iface)?;
    tracing::debug!(sysctl = knob.name(), on, "sysctl write");
    let path = knob.path();
    nl.in_netns(move |_| std::fs::write(path, if on { "1" } else { "0" }))
        .await
        .map_err(|e| explain(op, iface, knob, e))?;
    let now = read(nl, iface, knob).await?;
    if now != on {
        return Err(Error::NotApplied {
            op,
            iface: IfName::from_kernel(iface),
            what: knob.name().into(),
            expected: u8::from(on).to_string(),
            actual: u8::from(now).to_string(),
        });
    }
    Ok(())
}

fn explain(op: Op, iface: &str, knob: NetSysctl, e: io::Error) -> Error {
    if let Some(denied) = Error::sysctl_denied(op, iface, &e) {
        return denied;
    }
    match (knob, e.kind()) {
        (NetSysctl::Ipv6Forward, io::ErrorKind::NotFound) => Error::Unsupported {
            op,
            iface: IfName::from_kernel(iface),
            detail: super::ipv6::NO_IPV6.into(),
        },
        _ => Error::io(op, iface, e),
    }
}
