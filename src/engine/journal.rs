//! The undo journal of a multi-step operation: each step that changed the
//! kernel records, as it is made, how to take itself back. When a later
//! step fails, the journal is rolled back last step first; every undo step
//! is tried even when one fails, and the failures come back to be put in
//! the caller's error next to the original cause ([`Error::UndoFailed`]),
//! not only in a log line. Every multi-step call keeps one: the bridge's
//! `create` and `apply`, `attach_port(s)`, `detach_ports`,
//! `add_vlans`/`remove_vlans`, `add_vlan_tunnels`, the creates of
//! `VmNic`, `VethNic`, `MacvtapNic` and `Vxlan`, and `Vxlan::add_remotes`.
//!
//! A step names the link it changed by (name, ifindex) and is undone
//! through [`super::act`]: rolling back needs a connection, not the
//! handle of whatever operation recorded it.

use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use tracing::warn;

use super::act::{self, VlanTarget};
use crate::error::{Error, Op};
use crate::netlink::{NftChain, NftFamily, PortOptions, RemoteSnapshot};
use crate::values::bridge_option::BridgeOption;
use crate::values::sysctl::{Ipv6Sysctl, NetSysctl};
use crate::values::vlan::{VlanId, VlanMember};

/// A link a step changed: its name (for messages) and ifindex (what the
/// kernel is asked by). The name is shared by the steps of one link (a
/// clone is a count, not a copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkId {
    pub(crate) name: std::sync::Arc<str>,
    pub(crate) index: u32,
}

impl LinkId {
    pub(crate) fn new(name: &str, index: u32) -> Self {
        LinkId {
            name: name.into(),
            index,
        }
    }
}

/// One step made, as what undoes it.
#[derive(Debug)]
pub(crate) enum Step {
    // ----- the bridge itself: each names it -----
    /// The bridge was created by this operation: delete it. Rolling back
    /// a journal that holds it skips the bridge's own settings and the
    /// ports that only joined it (the deletion takes them along).
    BridgeCreated(LinkId),
    Mac(LinkId, MacAddr6),
    Mtu(LinkId, u32),
    Stp(LinkId, bool),
    ForwardDelay(LinkId, Duration),
    AgeingTime(LinkId, Duration),
    VlanFiltering(LinkId, bool),
    Ipv6Sysctl(LinkId, Ipv6Sysctl, bool),
    Option(LinkId, BridgeOption),
    /// An address added: remove it.
    Address(LinkId, IpNet),
    /// The admin state before.
    AdminUp(LinkId, bool),
    /// Automatic link-local addresses before.
    AutoLinkLocal(LinkId, bool),
    // ----- a port -----
    /// The port's master was changed from `prev` (None: it had none);
    /// `options` are the old bridge's port options, restored with it.
    PortMaster {
        port: LinkId,
        prev: Option<u32>,
        options: Option<PortOptions>,
    },
    /// Port options changed on a port that was already ours: the old values.
    PortOptions {
        port: LinkId,
        old: PortOptions,
    },
    /// VLANs added or removed on a port or on the bridge itself (`set`:
    /// those the message named), and what the target had before.
    Vlans {
        target: VlanTarget,
        before: Vec<VlanMember>,
        set: Vec<VlanMember>,
    },
    /// A link this operation created (a VXLAN device): delete it. `Op` is
    /// the operation, for the error if the deletion fails.
    LinkCreated(Op, LinkId),
    /// A link this operation created under a name no one else can have
    /// taken (the create was exclusive), before its ifindex was read:
    /// delete whatever has that name.
    LinkNamed(Op, std::sync::Arc<str>),
    /// VLAN-to-VNI mappings added to a port: remove them.
    VlanTunnels {
        target: VlanTarget,
        added: Vec<(u16, u32)>,
    },
    /// A remote VTEP added to a VXLAN device: remove it.
    RemoteAdded {
        vxlan: LinkId,
        remote: RemoteSnapshot,
    },
    /// A remote VTEP removed from a VXLAN device: add it back.
    RemoteRemoved {
        vxlan: LinkId,
        remote: RemoteSnapshot,
    },
    /// A static FDB entry added.
    PortFdb {
        port: LinkId,
        mac: MacAddr6,
        vlan: Option<VlanId>,
    },
    /// The port brought up from down.
    PortUp(LinkId),
    /// A tap was created (by `VmNic::create`): `queue` is a duplicate of
    /// one of its queue fds. The undo clears persistence and closes it; the
    /// tap goes once the caller has closed its own queue fds as well.
    Tap {
        name: String,
        persistent: bool,
        queue: std::os::fd::OwnedFd,
    },
    /// nf_tables chains were made (`made`) in table `table` of `family`
    /// for `link` (a port's guest guard, a bridge's forward mode),
    /// replacing `before` (the chains it had, their rules as the kernel
    /// dumped them): delete the new ones and make the old ones again, in
    /// one transaction.
    Nft {
        link: LinkId,
        family: NftFamily,
        table: std::sync::Arc<str>,
        made: Vec<String>,
        before: Vec<NftChain>,
    },
    /// A namespace-wide sysctl was switched on (`true`) or off: switch it
    /// back.
    NetSysctl(NetSysctl, bool),
    /// A port's bandwidth limits were changed (see `limits::converge`):
    /// make the ones it had again.
    Limits {
        port: LinkId,
        old: super::limits::Want,
    },
    /// The port left `bridge` (an ifindex), and had these port options:
    /// attach it again with them. A run of these is undone in its own
    /// order, so the kernel hands the ports their old port numbers again.
    PortDetached {
        port: LinkId,
        bridge: u32,
        options: Option<PortOptions>,
    },
}

/// The steps of one operation, in the order they were made; each marked
/// certain once the call that makes it returned Ok.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    steps: Vec<(Step, bool)>,
}

impl Journal {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records a step about to be made. It is recorded first because a
    /// call can fail after the kernel made the change (a read-back that
    /// fails or disagrees): such a step is undone too. Until
    /// [`confirm`](Self::confirm), a failure to undo it is only logged —
    /// the step may never have happened (the kernel refused it), and an
    /// undo refused for the same reason is no news.
    pub(crate) fn push(&mut self, step: Step) {
        self.steps.push((step, false));
    }

    /// The step pushed last was made.
    pub(crate) fn confirm(&mut self) {
        if let Some(last) = self.steps.last_mut() {
            last.1 = true;
        }
    }

    /// Records a step already made.
    pub(crate) fn made(&mut self, step: Step) {
        self.steps.push((step, true));
    }

    /// Drops the step pushed last: it turned out not to have been made.
    pub(crate) fn forget_last(&mut self) {
        self.steps.pop();
    }

    /// Moves `other`'s steps to the end of this journal.
    pub(crate) fn append(&mut self, mut other: Journal) {
        self.steps.append(&mut other.steps);
    }

    /// Runs one step: records it, makes it with `act`, and marks it
    /// certain once `act` returned Ok. The one way an operation changes
    /// the kernel under a journal.
    pub(crate) async fn step<T>(
        &mut self,
        step: Step,
        act: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.push(step);
        let out = act.await?;
        self.confirm();
        Ok(out)
    }

    /// Takes back every step, last first. Returns the undo steps that
    /// failed (each also logged).
    pub(crate) async fn rollback(self, nl: &crate::netlink::Netlink) -> Vec<Error> {
        let created = self
            .steps
            .iter()
            .any(|(s, _)| matches!(s, Step::BridgeCreated(_)));
        // A port that leaves the bridge drops its options, VLANs and FDB
        // entries with it: nothing to undo for those.
        let leaving: Vec<u32> = self
            .steps
            .iter()
            .filter_map(|(s, _)| match s {
                Step::PortMaster {
                    port, prev: None, ..
                } => Some(port.index),
                _ => None,
            })
            .collect();
        let mut failed = Vec::new();
        for (step, certain) in undo_order(self.steps) {
            let result = match step {
                Step::PortOptions { port, .. } | Step::PortFdb { port, .. }
                    if leaving.contains(&port.index) =>
                {
                    Ok(())
                }
                Step::Vlans { target, .. }
                    if !target.bridge_self && leaving.contains(&target.index) =>
                {
                    Ok(())
                }
                // The bridge goes: its own settings need no undo, and the
                // ports that only joined it leave with it.
                step if created && (step.on_bridge() || is_joining(&step)) => Ok(()),
                step => {
                    let iface = step.iface();
                    undo(nl, step).await.inspect_err(|e| {
                        warn!(iface = %iface, error = %e, "could not undo a step of a failed operation");
                    })
                }
            };
            if let Err(e) = result {
                if certain {
                    failed.push(e);
                }
            }
        }
        failed
    }
}

/// Last step first, except that each run of detached ports is attached
/// again first to last.
fn undo_order(steps: Vec<(Step, bool)>) -> Vec<(Step, bool)> {
    let mut order: Vec<(Step, bool)> = Vec::with_capacity(steps.len());
    let mut run: Vec<(Step, bool)> = Vec::new();
    for entry in steps.into_iter().rev() {
        if matches!(entry.0, Step::PortDetached { .. }) {
            run.push(entry);
        } else {
            order.extend(run.drain(..).rev());
            order.push(entry);
        }
    }
    order.extend(run.into_iter().rev());
    order
}

impl Step {
    /// A setting of the bridge itself (not of a port, not its creation).
    fn on_bridge(&self) -> bool {
        matches!(
            self,
            Step::Mac(..)
                | Step::Mtu(..)
                | Step::Stp(..)
                | Step::ForwardDelay(..)
                | Step::AgeingTime(..)
                | Step::VlanFiltering(..)
                | Step::Ipv6Sysctl(..)
                | Step::Option(..)
                | Step::Address(..)
                | Step::AdminUp(..)
                | Step::AutoLinkLocal(..)
        ) || matches!(self, Step::Vlans { target, .. } if target.bridge_self)
    }
}

impl Step {
    /// The name of the link the step changed, for log lines.
    fn iface(&self) -> std::sync::Arc<str> {
        match self {
            Step::BridgeCreated(l)
            | Step::Mac(l, _)
            | Step::Mtu(l, _)
            | Step::Stp(l, _)
            | Step::ForwardDelay(l, _)
            | Step::AgeingTime(l, _)
            | Step::VlanFiltering(l, _)
            | Step::Ipv6Sysctl(l, ..)
            | Step::Option(l, _)
            | Step::Address(l, _)
            | Step::AdminUp(l, _)
            | Step::AutoLinkLocal(l, _)
            | Step::LinkCreated(_, l)
            | Step::PortUp(l)
            | Step::PortMaster { port: l, .. }
            | Step::PortOptions { port: l, .. }
            | Step::PortFdb { port: l, .. }
            | Step::PortDetached { port: l, .. }
            | Step::Limits { port: l, .. }
            | Step::Nft { link: l, .. }
            | Step::RemoteAdded { vxlan: l, .. }
            | Step::RemoteRemoved { vxlan: l, .. } => l.name.clone(),
            Step::Vlans { target, .. } => target.name.as_str().into(),
            Step::Tap { name, .. } => name.as_str().into(),
            Step::LinkNamed(_, name) => name.clone(),
            Step::NetSysctl(knob, _) => knob.name().into(),
            Step::VlanTunnels { target, .. } => target.name.as_str().into(),
        }
    }
}

/// A port that had no master before it joined.
fn is_joining(step: &Step) -> bool {
    matches!(step, Step::PortMaster { prev: None, .. })
}

/// Sends the inverse of one step, read back as the change itself was.
async fn undo(nl: &crate::netlink::Netlink, step: Step) -> Result<(), Error> {
    match step {
        Step::BridgeCreated(br) => nl.delete_link(Op::CreateBridge, &br.name, br.index).await,
        Step::Mac(link, m) => act::set_mac(nl, Op::SetMac, &link, m).await.map(drop),
        Step::Mtu(link, m) => act::set_mtu(nl, Op::SetMtu, &link, m).await,
        Step::Stp(link, on) => act::set_stp(nl, &link, on).await,
        Step::ForwardDelay(link, d) => act::set_forward_delay(nl, &link, d).await,
        Step::AgeingTime(link, d) => act::set_ageing_time(nl, &link, d).await,
        Step::VlanFiltering(link, on) => act::set_vlan_filtering(nl, &link, on).await,
        Step::Ipv6Sysctl(link, knob, on) => act::set_ipv6_sysctl(nl, &link, knob, on).await,
        Step::Option(link, old) => act::set_option(nl, &link, old).await,
        Step::Address(link, net) => act::remove_address(nl, &link, net).await,
        Step::AdminUp(link, up) => act::set_admin_up(nl, &link, up).await.map(drop),
        Step::AutoLinkLocal(link, on) => act::set_auto_link_local(nl, &link, on).await,
        Step::PortMaster {
            port,
            prev,
            options,
        } => act::put_back(nl, &port, prev, options.as_ref()).await,
        Step::PortOptions { port, old } => {
            nl.set_port_options(Op::SetPortOptions, &port.name, port.index, &old)
                .await
        }
        Step::Vlans {
            target,
            before,
            set,
        } => act::restore_vlans(nl, &target, &before, &set).await,
        Step::PortFdb { port, mac, vlan } => {
            nl.fdb_del(Op::RemoveFdb, &port.name, port.index, mac, vlan)
                .await
        }
        Step::PortUp(port) => act::set_admin_up(nl, &port, false).await.map(drop),
        Step::Tap {
            name,
            persistent,
            queue,
        } => {
            if persistent {
                crate::sys::tap::clear_persist(&queue)
                    .map_err(|e| Error::io(Op::CreateVmNic, &name, e))?;
            }
            drop(queue);
            Ok(())
        }
        Step::LinkCreated(op, link) => nl.delete_link(op, &link.name, link.index).await,
        Step::LinkNamed(op, name) => nl.delete_link_by_name(op, &name).await,
        Step::VlanTunnels { target, added } => {
            nl.set_vlan_tunnels(
                Op::RemoveVlanTunnels,
                &target.name,
                target.index,
                &added,
                false,
            )
            .await
        }
        Step::RemoteAdded { vxlan, remote } => {
            nl.remote_del(Op::RemoveRemote, &vxlan.name, vxlan.index, &remote)
                .await
        }
        Step::RemoteRemoved { vxlan, remote } => {
            nl.remote_add(Op::AddRemote, &vxlan.name, vxlan.index, &remote, false)
                .await
        }
        Step::PortDetached {
            port,
            bridge,
            options,
        } => act::put_back(nl, &port, Some(bridge), options.as_ref()).await,
        Step::Nft {
            link,
            family,
            table,
            made,
            before,
        } => {
            let op = match family {
                NftFamily::Netdev => Op::RemoveGuard,
                NftFamily::Inet => Op::RemoveForward,
            };
            nl.nft_replace(op, &link.name, (family, &table), &made, &before, false)
                .await
        }
        Step::NetSysctl(knob, on) => act::set_net_sysctl(nl, knob, !on).await,
        Step::Limits { port, old } => {
            let op = if old.is_none() {
                Op::RemoveBandwidth
            } else {
                Op::SetBandwidth
            };
            super::limits::set(nl, op, &port, &old).await
        }
    }
}
