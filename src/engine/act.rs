//! Kernel-level actions on one link, named by (name, ifindex), each read
//! back where the kernel may ignore what it was sent. The public setters
//! and the journal's undo both call these, so an undo is sent and checked
//! exactly like the change it takes back.

use std::fmt::Display;
use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use tracing::warn;

use super::journal::LinkId;
use crate::engine::ipv6;
use crate::error::{Error, Op, Result};
use crate::netlink::{BridgeOptions, LinkChange, LinkRef, LinkSnapshot, Netlink, PortOptions};
use crate::values::bridge_option::{
    BridgeOption, from_centiseconds, timer_matches, to_centiseconds,
};
use crate::values::name::IfName;
use crate::values::sysctl::{Ipv6Sysctl, NetSysctl};
use crate::values::vlan::{self, VlanId, VlanMember};

/// What a kernel that drops a VLAN option with an Ok probably lacks.
const NO_VLAN_FILTERING_CONFIG: &str = "built without CONFIG_BRIDGE_VLAN_FILTERING?";

/// Whose VLANs a request is about.
#[derive(Debug, Clone)]
pub(crate) struct VlanTarget {
    pub(crate) name: String,
    pub(crate) index: u32,
    /// The bridge itself (`bridge vlan ... self`), not a port.
    pub(crate) bridge_self: bool,
}

/// `got` must be `want`, else [`Error::NotApplied`] on `iface`.
pub(crate) fn check<T: PartialEq + Display>(
    op: Op,
    iface: &str,
    what: &str,
    want: T,
    got: Option<T>,
) -> Result<()> {
    if got.as_ref() == Some(&want) {
        return Ok(());
    }
    Err(Error::NotApplied {
        op,
        iface: IfName::from_kernel(iface),
        what: what.to_string(),
        expected: want.to_string(),
        actual: got.map_or_else(|| "nothing".to_string(), |g| g.to_string()),
    })
}

/// A bridge timer read back (centiseconds) against the one sent, allowing
/// the kernel's one-jiffy rounding.
pub(crate) fn check_timer(
    op: Op,
    iface: &str,
    what: &str,
    want: Duration,
    got: Option<u32>,
) -> Result<()> {
    let sent = to_centiseconds(what, want)?;
    if timer_matches(sent, got) {
        return Ok(());
    }
    Err(Error::NotApplied {
        op,
        iface: IfName::from_kernel(iface),
        what: what.to_string(),
        expected: format!("{want:?}"),
        actual: got.map_or_else(
            || "nothing".to_string(),
            |cs| format!("{:?}", from_centiseconds(cs)),
        ),
    })
}

/// Compares a bridge option with what the kernel reports: not reported
/// at all is [`Error::Unsupported`] (per-VLAN statistics on a kernel
/// without VLAN filtering, which drops the attribute with an Ok).
pub(crate) fn check_option(
    op: Op,
    iface: &str,
    want: BridgeOption,
    link: &LinkSnapshot,
) -> Result<()> {
    let read = link.bridge_option(want.kind());
    if want.matches(read) {
        return Ok(());
    }
    match read {
        None => Err(Error::Unsupported {
            op,
            iface: IfName::from_kernel(iface),
            detail: match want {
                BridgeOption::VlanStats(_) => format!(
                    "bridge option {} (the kernel does not report it: {NO_VLAN_FILTERING_CONFIG})",
                    want.name()
                ),
                _ => format!(
                    "bridge option {} (the kernel does not report it)",
                    want.name()
                ),
            },
        }),
        Some(read) => Err(Error::NotApplied {
            op,
            iface: IfName::from_kernel(iface),
            what: want.name().to_string(),
            expected: want.to_string(),
            actual: read.to_string(),
        }),
    }
}

/// The link as the kernel has it now, by ifindex.
pub(crate) async fn read(nl: &Netlink, op: Op, link: &LinkId) -> Result<LinkSnapshot> {
    nl.link(op, &link.name, LinkRef::Index(link.index)).await
}

/// Sets the MAC (`ip link set LINK address MAC`) and reads it back.
pub(crate) async fn set_mac(
    nl: &Netlink,
    op: Op,
    link: &LinkId,
    mac: MacAddr6,
) -> Result<LinkSnapshot> {
    let change = LinkChange {
        mac: Some(mac),
        ..LinkChange::default()
    };
    nl.set_link(op, &link.name, link.index, &change).await?;
    let read = read(nl, op, link).await?;
    check(op, &link.name, "MAC", mac, read.mac)?;
    Ok(read)
}

/// Sets the MTU (`ip link set LINK mtu MTU`) and reads it back.
pub(crate) async fn set_mtu(nl: &Netlink, op: Op, link: &LinkId, mtu: u32) -> Result<()> {
    let change = LinkChange {
        mtu: Some(mtu),
        ..LinkChange::default()
    };
    nl.set_link(op, &link.name, link.index, &change).await?;
    let read = read(nl, op, link).await?;
    check(op, &link.name, "MTU", mtu, Some(read.mtu))
}

/// Brings the link up or down (`ip link set LINK up|down`) and reads
/// the admin state back.
pub(crate) async fn set_admin_up(nl: &Netlink, link: &LinkId, up: bool) -> Result<LinkSnapshot> {
    let op = if up { Op::SetUp } else { Op::SetDown };
    let change = LinkChange {
        up: Some(up),
        ..LinkChange::default()
    };
    nl.set_link(op, &link.name, link.index, &change).await?;
    let read = read(nl, op, link).await?;
    check(op, &link.name, "admin state up", up, Some(read.up))?;
    Ok(read)
}

/// Turns the kernel's automatic IPv6 link-local address on or off
/// (`ip link set LINK addrgenmode eui64|none`).
pub(crate) async fn set_auto_link_local(nl: &Netlink, link: &LinkId, on: bool) -> Result<()> {
    let change = LinkChange {
        ipv6_auto_link_local: Some(on),
        ..LinkChange::default()
    };
    nl.set_link(Op::SetAddrGenMode, &link.name, link.index, &change)
        .await
}

/// Bridge options through RTM_NEWLINK (RTM_SETLINK ignores them), then
/// the bridge read back for the caller to check.
pub(crate) async fn set_bridge_options(
    nl: &Netlink,
    op: Op,
    link: &LinkId,
    options: &BridgeOptions,
) -> Result<LinkSnapshot> {
    nl.change_bridge(op, &link.name, link.index, options)
        .await?;
    read(nl, op, link).await
}

/// Turns kernel STP on or off and reads it back.
pub(crate) async fn set_stp(nl: &Netlink, link: &LinkId, on: bool) -> Result<()> {
    let options = BridgeOptions {
        stp: Some(on),
        ..BridgeOptions::default()
    };
    let read = set_bridge_options(nl, Op::SetBridgeOptions, link, &options).await?;
    check(Op::SetBridgeOptions, &link.name, "STP", on, read.stp)
}

/// Sets the forward delay and reads it back.
pub(crate) async fn set_forward_delay(nl: &Netlink, link: &LinkId, delay: Duration) -> Result<()> {
    let options = BridgeOptions {
        forward_delay_cs: Some(to_centiseconds("forward delay", delay)?),
        ..BridgeOptions::default()
    };
    let read = set_bridge_options(nl, Op::SetBridgeOptions, link, &options).await?;
    let what = "forward delay";
    check_timer(
        Op::SetBridgeOptions,
        &link.name,
        what,
        delay,
        read.forward_delay_cs,
    )
}

/// Sets the ageing time of learned entries and reads it back.
pub(crate) async fn set_ageing_time(nl: &Netlink, link: &LinkId, time: Duration) -> Result<()> {
    let options = BridgeOptions {
        ageing_time_cs: Some(to_centiseconds("ageing time", time)?),
        ..BridgeOptions::default()
    };
    let read = set_bridge_options(nl, Op::SetBridgeOptions, link, &options).await?;
    let what = "ageing time";
    check_timer(
        Op::SetBridgeOptions,
        &link.name,
        what,
        time,
        read.ageing_time_cs,
    )
}

/// Turns VLAN filtering on or off and reads it back.
pub(crate) async fn set_vlan_filtering(nl: &Netlink, link: &LinkId, on: bool) -> Result<()> {
    let options = BridgeOptions {
        vlan_filtering: Some(on),
        ..BridgeOptions::default()
    };
    let read = set_bridge_options(nl, Op::SetVlanOptions, link, &options).await?;
    let what = "vlan_filtering";
    check(
        Op::SetVlanOptions,
        &link.name,
        what,
        on,
        read.vlan_filtering,
    )
}

/// Sets one bridge option and reads it back ([`check_option`]).
pub(crate) async fn set_option(nl: &Netlink, link: &LinkId, option: BridgeOption) -> Result<()> {
    let options = BridgeOptions {
        extra: vec![option],
        ..BridgeOptions::default()
    };
    let read = set_bridge_options(nl, Op::SetBridgeOptions, link, &options).await?;
    check_option(Op::SetBridgeOptions, &link.name, option, &read)
}

/// Switches a namespace-wide sysctl and reads it back.
pub(crate) async fn set_net_sysctl(nl: &Netlink, knob: NetSysctl, on: bool) -> Result<()> {
    crate::engine::forwarding::write(nl, knob.name(), knob, on).await
}

/// Writes one IPv6 sysctl of the link and reads it back through netlink.
pub(crate) async fn set_ipv6_sysctl(
    nl: &Netlink,
    link: &LinkId,
    knob: Ipv6Sysctl,
    on: bool,
) -> Result<()> {
    let op = Op::SetIpv6Sysctl(knob);
    // The current name: the sysctl is reached by name, the link by index.
    let now = read(nl, op, link).await?;
    ipv6::write(nl, &now.name, link.index, knob, on).await?;
    let after = read(nl, op, link).await?;
    check(op, &link.name, knob.name(), on, ipv6::read(&after, knob))
}

/// Removes an address from the link (`ip addr del NET dev LINK`).
pub(crate) async fn remove_address(nl: &Netlink, link: &LinkId, net: IpNet) -> Result<()> {
    nl.remove_address(&link.name, link.index, net).await
}

/// Sets a port's master back to `master` (None: no master) and, when it
/// joins a bridge again, the port options it had there.
pub(crate) async fn put_back(
    nl: &Netlink,
    port: &LinkId,
    master: Option<u32>,
    options: Option<&PortOptions>,
) -> Result<()> {
    let back = LinkChange {
        master: Some(master.unwrap_or(0)),
        ..LinkChange::default()
    };
    nl.set_link(Op::DetachPort, &port.name, port.index, &back)
        .await?;
    match (master, options) {
        (Some(_), Some(opts)) if !opts.is_empty() => {
            nl.set_port_options(Op::SetPortOptions, &port.name, port.index, opts)
                .await
        }
        _ => Ok(()),
    }
}

/// Gives `target` back the VLANs it had (`before`) wherever a request
/// for `members` changed them: removes the memberships it added and
/// adds back, with their old flags, those it touched, the old PVID
/// included. Both requests are tried; the first failure is returned.
pub(crate) async fn restore_vlans(
    nl: &Netlink,
    target: &VlanTarget,
    before: &[VlanMember],
    members: &[VlanMember],
) -> Result<()> {
    let old = vlan::table(before);
    let touched = vlan::table(members);
    let at = |t: &[Option<(bool, bool)>], id: VlanId| t[usize::from(id.get())];
    let fresh = vlan::compress(
        vlan::expand(members)
            .into_iter()
            .filter(|(id, _, _)| at(&old, *id).is_none()),
    );
    // Old memberships the call touched, and the old PVID wherever it
    // was: a new PVID elsewhere takes the flag from it.
    let changed = vlan::compress(
        vlan::expand(before)
            .into_iter()
            .filter(|(id, pvid, _)| *pvid || at(&touched, *id).is_some()),
    );
    let mut first = Ok(());
    for (list, add) in [(fresh, false), (changed, true)] {
        if list.is_empty() {
            continue;
        }
        let op = if add { Op::AddVlans } else { Op::RemoveVlans };
        if let Err(e) = nl
            .set_vlans(
                op,
                &target.name,
                target.index,
                target.bridge_self,
                &list,
                add,
            )
            .await
        {
            warn!(iface = %target.name, error = %e, "could not restore VLANs after a failed change");
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}
