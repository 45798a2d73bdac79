//! The undo journal of a multi-step operation: each step that changed the
//! kernel records, as it is made, how to take itself back. When a later
//! step fails, the journal is rolled back last step first; every undo step
//! is tried even when one fails, and the failures come back to be put in
//! the caller's error next to the original cause ([`Error::UndoFailed`]),
//! not only in a log line. `create`, `apply`, `attach_port(s)`,
//! `detach_ports`, `add_vlans`/`remove_vlans` and `VmNic::create` keep one.

use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use tracing::warn;

use crate::bridge::Bridge;
use crate::bridge_options::BridgeOption;
use crate::bridge_vlan::VlanTarget;
use crate::error::{Error, Op};
use crate::netlink::{LinkChange, PortOptions};
use crate::sysctl::Ipv6Sysctl;
use crate::vlan::{VlanId, VlanMember};

/// A port a step changed: its name and ifindex. The name is shared by the
/// steps of one port (a clone is a count, not a copy).
#[derive(Debug, Clone)]
pub(crate) struct PortId {
    pub(crate) name: std::sync::Arc<str>,
    pub(crate) index: u32,
}

/// One step made, as what undoes it.
#[derive(Debug)]
pub(crate) enum Step {
    // ----- the bridge itself -----
    /// The bridge was created by this operation: delete it. Rolling back
    /// a journal that holds it skips the bridge's own settings and the
    /// ports that only joined it (the deletion takes them along).
    BridgeCreated,
    Mac(MacAddr6),
    Mtu(u32),
    Stp(bool),
    ForwardDelay(Duration),
    AgeingTime(Duration),
    VlanFiltering(bool),
    Ipv6Sysctl(Ipv6Sysctl, bool),
    Option(BridgeOption),
    /// An address added: remove it.
    Address(IpNet),
    /// The admin state before.
    AdminUp(bool),
    /// Automatic link-local addresses before.
    AutoLinkLocal(bool),
    // ----- a port -----
    /// The port's master was changed from `prev` (None: it had none);
    /// `options` are the old bridge's port options, restored with it.
    PortMaster {
        port: PortId,
        prev: Option<u32>,
        options: Option<PortOptions>,
    },
    /// Port options changed on a port that was already ours: the old values.
    PortOptions {
        port: PortId,
        old: PortOptions,
    },
    /// VLANs added or removed on a port or on the bridge itself (`set`:
    /// those the message named), and what the target had before.
    Vlans {
        target: VlanTarget,
        before: Vec<VlanMember>,
        set: Vec<VlanMember>,
    },
    /// A link this operation created (a VXLAN device): delete it.
    LinkCreated(PortId),
    /// A remote VTEP added to a VXLAN device: remove it.
    RemoteAdded {
        vxlan: PortId,
        remote: crate::vxlan_remote::Remote,
    },
    /// A remote VTEP removed from a VXLAN device: add it back.
    RemoteRemoved {
        vxlan: PortId,
        remote: crate::vxlan_remote::Remote,
    },
    /// A static FDB entry added.
    PortFdb {
        port: PortId,
        mac: MacAddr6,
        vlan: Option<VlanId>,
    },
    /// The port brought up from down.
    PortUp(PortId),
    /// A tap was created (by `VmNic::create`): `queue` is a duplicate of
    /// one of its queue fds. The undo clears persistence and closes it; the
    /// tap goes once the caller has closed its own queue fds as well.
    Tap {
        name: String,
        persistent: bool,
        queue: std::os::fd::OwnedFd,
    },
    /// The port left this bridge, and had these port options: attach it
    /// again with them. A run of these is undone in its own order, so the
    /// kernel hands the ports their old port numbers again.
    PortDetached {
        port: PortId,
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

    /// Takes back every step, last first, on `bridge`. Returns the undo
    /// steps that failed (each also logged).
    pub(crate) async fn rollback(self, bridge: &Bridge) -> Vec<Error> {
        let created = self
            .steps
            .iter()
            .any(|(s, _)| matches!(s, Step::BridgeCreated));
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
                step => undo(bridge, step).await,
            };
            if let Err(e) = result {
                warn!(bridge = %bridge.name(), error = %e, "could not undo a step of a failed operation");
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
            Step::Mac(_)
                | Step::Mtu(_)
                | Step::Stp(_)
                | Step::ForwardDelay(_)
                | Step::AgeingTime(_)
                | Step::VlanFiltering(_)
                | Step::Ipv6Sysctl(..)
                | Step::Option(_)
                | Step::Address(_)
                | Step::AdminUp(_)
                | Step::AutoLinkLocal(_)
        ) || matches!(self, Step::Vlans { target, .. } if target.bridge_self)
    }
}

/// A port that had no master before it joined.
fn is_joining(step: &Step) -> bool {
    matches!(step, Step::PortMaster { prev: None, .. })
}

async fn undo(br: &Bridge, step: Step) -> Result<(), Error> {
    let nl = br.netlink();
    match step {
        Step::BridgeCreated => {
            nl.delete_link(Op::CreateBridge, br.name().as_str(), br.index())
                .await
        }
        Step::Mac(m) => br.set_mac(m).await,
        Step::Mtu(m) => br.set_mtu(m).await,
        Step::Stp(on) => br.set_stp(on).await,
        Step::ForwardDelay(d) => br.set_forward_delay(d).await,
        Step::AgeingTime(d) => br.set_ageing_time(d).await,
        Step::VlanFiltering(on) => br.set_vlan_filtering(on).await,
        Step::Ipv6Sysctl(knob, on) => br.set_ipv6_sysctl(knob, on).await,
        Step::Option(old) => br.set_option(old).await,
        Step::Address(net) => br.remove_address(net).await,
        Step::AdminUp(up) => {
            let op = if up { Op::SetUp } else { Op::SetDown };
            set_up(br, op, br.name().as_str(), br.index(), up).await
        }
        Step::AutoLinkLocal(on) => {
            let change = LinkChange {
                ipv6_auto_link_local: Some(on),
                ..LinkChange::default()
            };
            nl.set_link(Op::SetAddrGenMode, br.name().as_str(), br.index(), &change)
                .await
        }
        Step::PortMaster {
            port,
            prev,
            options,
        } => br.put_back(&port.name, port.index, prev, options).await,
        Step::PortOptions { port, old } => {
            nl.set_port_options(Op::SetPortOptions, &port.name, port.index, &old)
                .await
        }
        Step::Vlans {
            target,
            before,
            set,
        } => br.restore_vlans(&target, &before, &set).await,
        Step::PortFdb { port, mac, vlan } => {
            nl.fdb_del(Op::RemoveFdb, &port.name, port.index, mac, vlan)
                .await
        }
        Step::PortUp(port) => set_up(br, Op::SetDown, &port.name, port.index, false).await,
        Step::Tap {
            name,
            persistent,
            queue,
        } => {
            if persistent {
                crate::tap::clear_persist(&queue)
                    .map_err(|e| Error::io(Op::CreateVmNic, &name, e))?;
            }
            drop(queue);
            Ok(())
        }
        Step::LinkCreated(link) => nl.delete_link(Op::Apply, &link.name, link.index).await,
        Step::RemoteAdded { vxlan, remote } => {
            nl.remote_del(
                Op::RemoveRemote,
                &vxlan.name,
                vxlan.index,
                &remote.to_kernel(),
            )
            .await
        }
        Step::RemoteRemoved { vxlan, remote } => {
            nl.remote_add(
                Op::AddRemote,
                &vxlan.name,
                vxlan.index,
                &remote.to_kernel(),
                false,
            )
            .await
        }
        Step::PortDetached { port, options } => {
            br.put_back(&port.name, port.index, Some(br.index()), options)
                .await
        }
    }
}

async fn set_up(br: &Bridge, op: Op, name: &str, index: u32, up: bool) -> Result<(), Error> {
    let change = LinkChange {
        up: Some(up),
        ..LinkChange::default()
    };
    br.netlink().set_link(op, name, index, &change).await
}
