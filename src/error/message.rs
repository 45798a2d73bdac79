//! The words of [`Error`](super::Error)'s messages: what each variant says
//! beyond its fields, and the names and descriptions of errnos.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use crate::values::name::IfName;

use super::{Error, Op};

pub(super) fn not_forwarding_message(
    bridge: &str,
    port: &str,
    state: crate::values::link_state::PortState,
    port_up: bool,
    bridge_up: bool,
    stp: bool,
    forward_delay: std::time::Duration,
) -> String {
    let why = if !bridge_up {
        format!("{bridge} is down")
    } else if !port_up {
        format!("{port} is down or has no carrier (its peer or guest end is not up)")
    } else if stp {
        format!(
            "STP is on with a forward delay of {} s: a port listens, then learns, one delay each \
             ({} s in all) before it forwards, or stays blocking if STP chose another path",
            forward_delay.as_secs_f64(),
            2.0 * forward_delay.as_secs_f64()
        )
    } else {
        "STP is off; the kernel has not moved the port on".to_string()
    };
    format!("port {port} of {bridge} did not reach forwarding in time: it is {state}; {why}")
}

pub(super) fn of_bridge(bridge: &Option<IfName>) -> String {
    match bridge {
        Some(b) => format!(" (a port of bridge {b})"),
        None => String::new(),
    }
}

pub(super) fn kernel_words(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

pub(super) fn entry_words(entry: &Option<String>) -> String {
    match entry {
        Some(e) => format!(" ({e})"),
        None => String::new(),
    }
}

/// What a local error was about, after its [`Op`]: ` br0`, ` in network
/// namespace /proc/4242/ns/net`, or nothing for the connection itself.
pub(super) fn subject(iface: &Option<IfName>, netns: &Option<PathBuf>) -> String {
    match (iface, netns) {
        (Some(i), Some(n)) => format!(" {i} in network namespace {}", n.display()),
        (Some(i), None) => format!(" {i}"),
        (None, Some(n)) => format!(" in network namespace {}", n.display()),
        (None, None) => String::new(),
    }
}

pub(super) fn permission_message(op: Op, iface: Option<&IfName>, netns: Option<&Path>) -> String {
    let Some(iface) = iface else {
        let target = match netns {
            Some(n) => format!(" in network namespace {}", n.display()),
            None => String::new(),
        };
        return format!(
            "{op}{target}: permission denied (joining a network namespace needs CAP_SYS_ADMIN \
             over it; a netlink socket, CAP_NET_ADMIN in it)"
        );
    };
    let iface = iface.as_str();
    match op {
        Op::SetIpv6Sysctl(knob) => format!(
            "{op} {iface}: permission denied writing {} (needs CAP_NET_ADMIN in the \
             interface's network namespace, as its root, and a writable /proc/sys)",
            knob.path(iface)
        ),
        Op::CreateMacvtapNic => format!(
            "{op} {iface}: permission denied opening its queue device (/dev/tapN): the node \
             belongs to the host's root, and a process in a user namespace may neither open it \
             nor make one of its own (mknod); create macvtap NICs as root of the host's user \
             namespace"
        ),
        _ => format!(
            "{op} {iface}: permission denied (needs CAP_NET_ADMIN in the interface's network namespace)"
        ),
    }
}

pub(super) fn dad_timeout_message(bridge: &str, tentative: &[Ipv6Addr], carrier: bool) -> String {
    let list = tentative
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if carrier {
        format!(
            "IPv6 duplicate address detection on {bridge} did not finish in time; still tentative: {list}"
        )
    } else {
        format!(
            "IPv6 duplicate address detection on {bridge} did not finish in time; still tentative: {list}. \
             {bridge} has no carrier, and the kernel only runs DAD on a link with carrier: \
             a bridge with a fixed MAC or STP loses carrier while it has no forwarding port. \
             Ways out: attach a port that is up, create the bridge with bridgekit's default \
             IPv6-ready sequence (BridgeConfig::ipv6_ready_without_ports), or add the address with nodad"
        )
    }
}

pub(super) fn join_errors(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn errno_message(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // "Invalid argument (os error 22)" -> "Invalid argument"
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

pub(super) fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EINVAL => "EINVAL",
        libc::ERANGE => "ERANGE",
        libc::EBUSY => "EBUSY",
        libc::EACCES => "EACCES",
        libc::ENOSPC => "ENOSPC",
        libc::ENOMEM => "ENOMEM",
        libc::ENOBUFS => "ENOBUFS",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ELOOP => "ELOOP",
        libc::EMLINK => "EMLINK",
        libc::ENOTSUP => "ENOTSUP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EAGAIN => "EAGAIN",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        _ => "an error",
    }
}
