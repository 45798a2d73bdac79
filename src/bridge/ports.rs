//! Attaching ports to a bridge and detaching them, all or nothing.

use crate::bridge::Bridge;
use crate::engine::complete::run_to_end;
use crate::error::InputKind;
use crate::error::{Error, Op, Result};
use crate::values::bandwidth::PortBandwidth;
use crate::values::counters::Counters;
use crate::values::name::IfName;
use std::time::Duration;

use futures::StreamExt;

use crate::bridge::port::{PortConfig, PortRef, ToPort};
use crate::bridge::port_status::PortStatus;
use crate::engine::{Journal, LinkId, Step, VlanTarget, limits};
use crate::netlink::{
    LinkChange, LinkRef, LinkSnapshot, Notification, PortOptions, RTNLGRP_LINK, ViewLink,
};
use crate::values::link_state::PortState;
use crate::values::vlan::VlanMember;

/// A port attach that succeeded, with the steps to take it back.
pub(crate) struct Attached {
    /// The port.
    pub(crate) port: LinkId,
    /// What the attach did, to take back.
    pub(crate) journal: Journal,
}

/// What an attach needs to know of the port as it found it: to configure
/// it, and to undo that.
struct Found<'a> {
    name: &'a str,
    index: u32,
    master: Option<u32>,
    up: bool,
    mtu: u32,
    vxlan: bool,
    /// Its options as a port of `master`.
    port: Option<PortOptions>,
}

impl<'a> Found<'a> {
    /// A port on no bridge, as the link view knows it: all an attach
    /// needs, so no lookup.
    fn free(seen: &'a ViewLink) -> Self {
        Found {
            name: &seen.name,
            index: seen.index,
            master: None,
            up: seen.up,
            mtu: seen.mtu,
            vxlan: seen.kind.as_deref() == Some("vxlan"),
            port: None,
        }
    }

    /// A port as a lookup read it (with its port options, for the undo).
    fn read(link: &'a LinkSnapshot) -> Self {
        Found {
            name: &link.name,
            index: link.index,
            master: link.master,
            up: link.up,
            mtu: link.mtu,
            vxlan: link.kind.as_deref() == Some("vxlan"),
            port: link.port,
        }
    }
}

impl Bridge {
    pub(crate) async fn port_link(&self, op: Op, port: &PortRef) -> Result<LinkSnapshot> {
        self.nl
            .link(op, &port.to_string(), port.link_ref())
            .await
            .map_err(|e| self.as_port(e))
    }

    /// A missing interface, named as the port of this bridge it was to be.
    pub(crate) fn as_port(&self, e: Error) -> Error {
        e.into_port_of(self.name.as_str())
    }

    /// Waits until `port` forwards frames (`bridge link show` says
    /// `forwarding`). With STP on, a port that comes up listens, then
    /// learns, one forward delay each, before it forwards; a VM manager
    /// that starts a guest's network at once loses its first packets
    /// (DHCP, say) otherwise. Event-driven, like
    /// [`wait_dad`](Self::wait_dad): it wakes when the kernel reports the
    /// port's state, not on a timer.
    ///
    /// # Errors
    /// [`Error::NotForwarding`] when `timeout` runs out, with the port's
    /// state and why (the port or the bridge down, or STP still counting,
    /// with its forward delay); [`Error::NotAPort`] if it is not (or no
    /// longer) a port of this bridge; [`Error::NotFound`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.wait_forwarding("vnet0", std::time::Duration::from_secs(35)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::WaitForwarding.name(), iface = %self.name), err(Display))]
    pub async fn wait_forwarding(&self, port: impl ToPort, timeout: Duration) -> Result<()> {
        let port = port.to_port()?;
        let op = Op::WaitForwarding;
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribe first, then read: no change falls between the two.
        let mut sub = self.nl.subscribe(op, self.name.as_str(), &[RTNLGRP_LINK])?;
        let mut link = self.own_port(op, &port).await?;
        let index = link.index;
        loop {
            if link.port_state == Some(PortState::Forwarding) {
                return Ok(());
            }
            // Wake on a message about this port (or the bridge: its STP
            // or admin state), or an overrun; then read the port again.
            let woke = loop {
                match tokio::time::timeout_at(deadline, sub.messages.next()).await {
                    Err(_) => break false,
                    Ok(None) => break false,
                    Ok(Some((msg, _))) => match Notification::parse(&msg) {
                        Notification::NewLink(l) | Notification::DelLink(l)
                            if l.index == index || l.index == self.index =>
                        {
                            break true;
                        }
                        Notification::Overrun => break true,
                        _ => {}
                    },
                }
            };
            link = self.own_port(op, &PortRef::Index(index)).await?;
            if !woke && link.port_state != Some(PortState::Forwarding) {
                let bridge = self.read(op).await?;
                return Err(Error::NotForwarding {
                    bridge: IfName::from_kernel(&self.name),
                    port: IfName::from_kernel(link.name),
                    state: link.port_state.unwrap_or(PortState::Disabled),
                    port_up: link.up && link.carrier,
                    bridge_up: bridge.up,
                    stp: bridge.stp.unwrap_or(false),
                    forward_delay: bridge.forward_delay_cs.map_or(Duration::ZERO, |cs| {
                        Duration::from_millis(u64::from(cs) * 10)
                    }),
                });
            }
        }
    }

    /// A port of this bridge, or [`Error::NotAPort`].
    /// [`own_port`](Self::own_port) checked against the link view (no
    /// request): name, index, kind, master, admin state and MTU only.
    pub(crate) async fn own_port_in_view(&self, op: Op, port: &PortRef) -> Result<ViewLink> {
        let link = self
            .nl
            .view_link(op, port.link_ref(), None)
            .await
            .map_err(|e| self.as_port(e))?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: IfName::from_kernel(link.name),
                bridge: IfName::from_kernel(&self.name),
            });
        }
        Ok(link)
    }

    pub(crate) async fn own_port(&self, op: Op, port: &PortRef) -> Result<LinkSnapshot> {
        let link = self.port_link(op, port).await?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: IfName::from_kernel(link.name),
                bridge: IfName::from_kernel(&self.name),
            });
        }
        Ok(link)
    }

    /// Attaches a port and applies `config`: master, port options, VLANs,
    /// static FDB entries, then up (`ip link set PORT master BRIDGE`,
    /// `ip link set PORT type bridge_slave ...`, `bridge vlan add ...`,
    /// `bridge fdb replace ...`, `ip link set PORT up`).
    ///
    /// A port of another bridge is refused ([`Error::PortBusy`]) unless
    /// [`PortConfig::allow_move`]: the kernel would move it silently.
    /// That check reads the connection's link view, which the kernel's own
    /// link notifications keep (every queued one is read first, so it is as
    /// fresh as a lookup), so attaching a port that belongs to no bridge
    /// sends one change request and no lookup. The view starts with the
    /// first port operation of a [`Netlink`](crate::Netlink) (one dump of the
    /// links) and is rebuilt from a dump if notifications overran.
    ///
    /// The kernel has no compare-and-set for a port's master: another
    /// process that takes the port between the check and the change loses
    /// it to this bridge, as it would after a lookup. bridgekit's own tasks
    /// never race that way (they take turns per connection); between
    /// processes, agree on who owns which port.
    /// Options travel in RTM_NEWLINK (RTM_SETLINK ignores them); they are
    /// read back when the running kernel is older than one of them (it
    /// drops options it does not know with an Ok; a kernel that knows them
    /// applies them or answers an error), and VLANs are always read back. If any step fails, every step already done
    /// is undone — a newly attached port is detached again (which also drops
    /// its VLANs and FDB entries) — and the first error is returned.
    /// Attaching a port that is already on this bridge just applies
    /// `config`, and on failure restores the options and VLANs it changed.
    ///
    /// A bridge without a fixed MAC takes a MAC from its ports, so the
    /// kernel changes it whenever a port joins or leaves — a rollback
    /// included (an empty bridge ends at 00:00:00:00:00:00). Give bridges a
    /// fixed MAC ([`BridgeConfig::mac`](crate::BridgeConfig::mac)) and a
    /// failed attach leaves the host exactly as it was.
    ///
    /// # Cancellation
    /// Dropping this future does not stop the steps halfway: the rest run
    /// on a task of their own. The port ends fully attached and configured, or
    /// as it was (a failed step is undone as usual); [`Bridge::ports`] tells
    /// which.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad options, the bridge itself or another
    /// bridge as port (nothing sent); [`Error::NotFound`];
    /// [`Error::PortBusy`]; [`Error::Unsupported`] if the kernel refuses an
    /// option with EOPNOTSUPP (e.g. VLANs without VLAN filtering);
    /// [`Error::NotApplied`] if it ignored one.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::PortConfig;
    /// br.attach_port("vnet0", PortConfig::new().learning(false).unicast_flood(false).up()).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AttachPort.name(), iface = %self.name), err(Display))]
    pub async fn attach_port(&self, port: impl ToPort, config: PortConfig) -> Result<()> {
        let port = port.to_port()?;
        config.validate()?;
        if config.single_change() {
            // A check against the link view and at most one change
            // request: a dropped future has sent it or not, so no task of
            // its own is needed.
            return self.attach_single(&port, &config).await;
        }
        let this = self.clone();
        run_to_end(&self.nl, async move {
            this.attach_one(&port, &config).await.map(drop)
        })
        .await
    }

    /// [`attach_port`](Self::attach_port) of a config that needs one
    /// change at most. A port on no bridge gets exactly that one
    /// RTM_SETLINK (master, and up if asked), with nothing to undo if it
    /// fails; any other port goes the general way.
    async fn attach_single(&self, port: &PortRef, config: &PortConfig) -> Result<()> {
        let _membership = self.nl.membership().await;
        let seen = self.attach_check(port, config).await?;
        // A VXLAN port's MTU is checked after it joined, and undone.
        if seen.master.is_some() || seen.kind.as_deref() == Some("vxlan") {
            return self.attach_checked(port, &seen, config).await.map(drop);
        }
        self.nl.port_checked();
        let change = LinkChange {
            master: Some(self.index),
            up: (config.up && !seen.up).then_some(true),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::AttachPort, &seen.name, seen.index, &change)
            .await
    }

    /// One attach, undone in full on failure; on success returns what it
    /// did, so a bulk call can take it back later.
    pub(crate) async fn attach_one(&self, port: &PortRef, config: &PortConfig) -> Result<Attached> {
        let _membership = self.nl.membership().await;
        self.attach_one_locked(port, config).await
    }

    /// [`attach_one`](Self::attach_one) for a caller that holds the
    /// membership lock.
    pub(crate) async fn attach_one_locked(
        &self,
        port: &PortRef,
        config: &PortConfig,
    ) -> Result<Attached> {
        let seen = self.attach_check(port, config).await?;
        self.attach_checked(port, &seen, config).await
    }

    /// The port as the link view knows it, once the attach's refusals are
    /// passed: not this bridge, not a bridge, not another bridge's port
    /// (unless moving is allowed). The check reads the link view, not the
    /// kernel: one change request in all for a port on no bridge.
    pub(super) async fn attach_check(
        &self,
        port: &PortRef,
        config: &PortConfig,
    ) -> Result<ViewLink> {
        let op = Op::AttachPort;
        let seen = self
            .nl
            .view_link(op, port.link_ref(), None)
            .await
            .map_err(|e| self.as_port(e))?;
        if seen.index == self.index {
            return Err(Error::invalid(
                InputKind::Port,
                format!("port {}", seen.name),
                "a bridge cannot be its own port",
            ));
        }
        if seen.kind.as_deref() == Some("bridge") {
            return Err(Error::invalid(
                InputKind::Port,
                format!("port {}", seen.name),
                "is a bridge; bridges cannot be nested",
            ));
        }
        if let Some(other) = seen.master.filter(|m| *m != self.index) {
            if !config.allow_move {
                let bridge = match self.nl.view_name(other) {
                    Some(name) => name,
                    None => format!("#{other}"),
                };
                return Err(Error::PortBusy {
                    op,
                    port: IfName::from_kernel(seen.name),
                    bridge: IfName::from_kernel(bridge),
                });
            }
        }
        Ok(seen)
    }

    /// The attach after [`attach_check`](Self::attach_check), undone in
    /// full on failure.
    async fn attach_checked(
        &self,
        port: &PortRef,
        seen: &ViewLink,
        config: &PortConfig,
    ) -> Result<Attached> {
        let op = Op::AttachPort;
        let read;
        let found = match seen.master {
            None => Found::free(seen),
            // Already a port (of this bridge, or of another it is moved
            // from): the undo needs its port options, which the view does
            // not keep.
            Some(_) => {
                read = self.port_link(op, port).await?;
                Found::read(&read)
            }
        };
        let resolved;
        let config = if config.backup().is_some() {
            resolved = self
                .resolve_backup(op, found.name, found.index, config)
                .await?;
            &resolved
        } else {
            config
        };
        self.nl.port_checked();
        let id = LinkId {
            name: found.name.into(),
            index: found.index,
        };
        let mut journal = Journal::new();
        let mut result = self.configure_port(&found, &id, config, &mut journal).await;
        if result.is_ok() && found.vxlan {
            result = self.check_vxlan_mtu(op, &found).await;
        }
        if let Err(e) = result {
            let failed = journal.rollback(&self.nl).await;
            return Err(e.with_undo_failures(failed));
        }
        Ok(Attached { port: id, journal })
    }

    /// A VXLAN port whose MTU is below the bridge's would drop every frame
    /// too big for it, silently. The kernel lowers a bridge's MTU to its
    /// ports' smallest, unless the MTU was set by hand: then it stays, and
    /// the attach is refused (and undone) here.
    async fn check_vxlan_mtu(&self, op: Op, port: &Found<'_>) -> Result<()> {
        let bridge = self.read(op).await?;
        if bridge.mtu <= port.mtu {
            return Ok(());
        }
        Err(Error::invalid(
            InputKind::Mtu,
            format!("VXLAN port {} (MTU {})", port.name, port.mtu),
            format!(
                "cannot carry the MTU {} set on bridge {}: frames above {} would be dropped; \
                 lower the bridge's MTU, or raise the underlay's (the VXLAN MTU is the \
                 underlay's less 50 bytes over IPv4, 70 over IPv6)",
                bridge.mtu, self.name, port.mtu
            ),
        ))
    }

    /// `config` with its backup port as an ifindex in its options, once
    /// checked to be another port of this bridge (the kernel answers a bare
    /// ENOENT or EINVAL otherwise).
    pub(crate) async fn resolve_backup(
        &self,
        op: Op,
        name: &str,
        index: u32,
        config: &PortConfig,
    ) -> Result<PortConfig> {
        let mut config = config.clone();
        let index = match config.backup() {
            None => return Ok(config),
            Some(None) => 0,
            Some(Some(backup)) => {
                let link = self.port_link(op, backup).await?;
                if link.index == index {
                    return Err(Error::invalid(
                        InputKind::PortOption,
                        format!("backup port {} of {name}", link.name),
                        "a port cannot be its own backup",
                    ));
                }
                if link.master != Some(self.index) {
                    return Err(Error::invalid(
                        InputKind::PortOption,
                        format!("backup port {} of {name}", link.name),
                        format!("is not a port of bridge {}", self.name),
                    ));
                }
                link.index
            }
        };
        config.options.backup_port = Some(index);
        Ok(config)
    }

    async fn configure_port(
        &self,
        link: &Found<'_>,
        port: &LinkId,
        config: &PortConfig,
        journal: &mut Journal,
    ) -> Result<()> {
        let (label, index) = (link.name, link.index);
        // A count, not a copy: the steps share the port's name.
        let id = || port.clone();
        let already_ours = link.master == Some(self.index);
        let bring_up = config.up && !link.up;
        // With nothing to set in between (options, VLANs, FDB entries: a
        // port up too early would forward in the default VLAN), master and
        // up travel in one RTM_SETLINK; the kernel applies IFLA_MASTER
        // before the flags.
        let up_with_master = bring_up
            && !already_ours
            && config.options.is_empty()
            && config.vlans.is_empty()
            && !config.has_fdb_entries();
        // The limits' checks against the port's MTU, before any change.
        let limits = if config.bandwidth.is_none() {
            None
        } else {
            Some(limits::Want::of(&config.bandwidth, label, link.mtu)?)
        };
        // The guard first: the guest's frames meet it before the bridge.
        if let Some(guard) = &config.guest_guard {
            let want =
                crate::guard::port::wanted(guard, config.managed, self.name.as_str(), label)?;
            crate::guard::port::install(&self.nl, journal, port, self.name.as_str(), want, None)
                .await?;
        }
        // The limits before the port joins: the guest is never on the
        // bridge unlimited.
        if let Some(want) = &limits {
            limits::converge(&self.nl, Op::SetBandwidth, journal, port, want).await?;
        }
        if !already_ours {
            let change = LinkChange {
                master: Some(self.index),
                up: up_with_master.then_some(true),
                ..LinkChange::default()
            };
            self.nl
                .set_link(Op::AttachPort, label, index, &change)
                .await?;
            journal.made(Step::PortMaster {
                port: id(),
                prev: link.master,
                options: link.port,
            });
            if up_with_master {
                journal.made(Step::PortUp(id()));
            }
        }
        if !config.options.is_empty() {
            self.configure_port_options(link, port, config, journal)
                .await?;
        }
        if !config.vlans.is_empty() {
            let target = VlanTarget {
                name: label.to_string(),
                index,
                bridge_self: false,
            };
            self.apply_vlans(&target, &config.vlans, journal).await?;
        }
        for (mac, vlan) in config.fdb_entries() {
            // After it succeeded: a refused add made no entry to remove.
            self.nl.fdb_add(Op::AddFdb, label, index, mac, vlan).await?;
            journal.made(Step::PortFdb {
                port: id(),
                mac,
                vlan,
            });
        }
        if bring_up && !up_with_master {
            let up = LinkChange {
                up: Some(true),
                ..LinkChange::default()
            };
            self.nl.set_link(Op::SetUp, label, index, &up).await?;
            journal.made(Step::PortUp(id()));
        }
        Ok(())
    }

    /// The port options of `config` (not empty), sent in one message and
    /// read back where the kernel may drop one; on a port that was already
    /// ours the old values are a journal step.
    async fn configure_port_options(
        &self,
        link: &Found<'_>,
        port: &LinkId,
        config: &PortConfig,
        journal: &mut Journal,
    ) -> Result<()> {
        let (label, index) = (link.name, link.index);
        let already_ours = link.master == Some(self.index);
        self.nl
            .set_port_options(Op::SetPortOptions, label, index, &config.options)
            .await?;
        if already_ours {
            let old = link.port.unwrap_or_default();
            // Made, even if the read-back below finds an option
            // dropped: the others were applied.
            journal.made(Step::PortOptions {
                port: port.clone(),
                old: config.options.previous(&old),
            });
        }
        // RTM_NEWLINK drops a port option an older kernel does not
        // know and still says Ok: read the options back there. Newer
        // kernels apply every option we send or answer with an error,
        // as do the other steps here.
        if self.nl.port_options_need_read_back(&config.options) {
            self.check_port_options(label, index, &config.options)
                .await?;
        }
        Ok(())
    }

    /// Reads a port's options back and compares them with what was sent.
    async fn check_port_options(&self, label: &str, index: u32, sent: &PortOptions) -> Result<()> {
        let read = self
            .nl
            .link(Op::SetPortOptions, label, LinkRef::Index(index))
            .await?;
        match sent
            .mismatches(&read.port.unwrap_or_default())
            .into_iter()
            .next()
        {
            // The kernel does not report the option at all, and is older
            // than the kernel that added it: it dropped it with an Ok.
            Some((what, _, _))
                if read.port.is_some()
                    && PortOptions::since(what).is_some_and(|since| !since.is_running()) =>
            {
                let since = PortOptions::since(what).map_or_else(String::new, |v| v.to_string());
                let running = crate::sys::kernel::KernelVersion::running()
                    .map_or_else(|| "older".to_string(), |v| v.to_string());
                Err(Error::Unsupported {
                    op: Op::SetPortOptions,
                    iface: IfName::from_kernel(label),
                    detail: format!(
                        "port option {what} needs Linux {since}; this kernel is {running}"
                    ),
                })
            }
            Some((what, want, got)) => Err(Error::NotApplied {
                op: Op::SetPortOptions,
                iface: IfName::from_kernel(label),
                what: what.to_string(),
                expected: want,
                actual: got,
            }),
            None => Ok(()),
        }
    }

    /// Detaches a port (`ip link set PORT nomaster`). The kernel drops the
    /// port's VLANs and FDB entries (static ones included) with it;
    /// bridgekit then removes its guest guard and its bandwidth limits
    /// (with their IFB), if it has them.
    ///
    /// The check that the port is this bridge's reads the link view (see
    /// [`attach_port`](Self::attach_port)): one change request, no lookup.
    /// A port another process moves to its bridge between that check and
    /// the change is released from there, as it would be after a lookup.
    ///
    /// # Cancellation
    /// One check and one change: a dropped future has either sent the
    /// change (the port is detached) or not (nothing changed). Where this
    /// connection made guards or limits, the removal of the port's runs to
    /// its end with the change, on a task of its own if the caller is gone.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::NotAPort`] if it is not a port of this
    /// bridge (nothing sent); the errors of removing its guard or limits
    /// (the port is detached by then).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.detach_port("vnet0").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DetachPort.name(), iface = %self.name), err(Display))]
    pub async fn detach_port(&self, port: impl ToPort) -> Result<()> {
        let port = port.to_port()?;
        // A guard or limits to remove after the change: the whole runs to
        // its end, so a dropped caller leaves no port detached with them.
        if self.nl.guards_seen() || self.nl.limits_seen() {
            let br = self.clone();
            return run_to_end(&self.nl, async move { br.detach_one(port).await }).await;
        }
        self.detach_one(port).await
    }

    /// [`detach_port`](Self::detach_port)'s steps.
    async fn detach_one(&self, port: PortRef) -> Result<()> {
        let op = Op::DetachPort;
        let _membership = self.nl.membership().await;
        let link = self.own_port_in_view(op, &port).await?;
        self.nl.port_checked();
        let change = LinkChange {
            master: Some(0),
            ..LinkChange::default()
        };
        // The acknowledgement is truthful: the kernel either releases the
        // port or answers with an error.
        self.nl
            .set_link(op, &link.name, link.index, &change)
            .await?;
        self.drop_guard(&link.name).await?;
        if link.tbf_root {
            self.nl.note_limits();
        }
        self.drop_limits(&link.name, link.index, link.mtu).await
    }

    /// Removes the bandwidth limits of `port` (just detached from this
    /// bridge), if this connection may have made some or the port has an
    /// IFB of bridgekit's (see `engine::limits`).
    pub(crate) async fn drop_limits(&self, name: &str, index: u32, mtu: u32) -> Result<()> {
        if self.nl.limits_seen() || self.nl.view_has(&limits::ifb_name(index)) {
            let id = LinkId::new(name, index);
            let mut journal = Journal::new();
            limits::remove(&self.nl, &mut journal, &id, mtu).await?;
        }
        Ok(())
    }

    /// Deletes the IFB of a port that is gone (a NIC deleted), if this
    /// connection may have made one or the link view holds it: the port's
    /// qdiscs went with it.
    pub(crate) async fn drop_ifb(&self, port_index: u32) -> Result<()> {
        let name = limits::ifb_name(port_index);
        if self.nl.limits_seen() || self.nl.view_has(&name) {
            limits::delete_ifb(&self.nl, port_index).await?;
        }
        Ok(())
    }

    /// Removes the guest guard of `port` (of this bridge), if it has one
    /// and this connection may have guards (see
    /// [`Netlink::with_guard_table`](crate::Netlink::with_guard_table)).
    pub(crate) async fn drop_guard(&self, port: &str) -> Result<()> {
        if self.nl.guards_seen() {
            crate::guard::port::remove(&self.nl, self.name.as_str(), port).await?;
        }
        Ok(())
    }

    /// Every port with its state, options and VLANs (`bridge -d link show
    /// master BRIDGE` and `bridge vlan show`): two requests, both filtered
    /// or bounded by the kernel to bridge devices.
    ///
    /// # Errors
    /// Kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// for p in br.ports().await? {
    ///     println!("{} {} learning={} vlans={:?}", p.name, p.state, p.learning, p.vlans);
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListPorts.name(), iface = %self.name), err(Display))]
    pub async fn ports(&self) -> Result<Vec<PortStatus>> {
        self.list_ports(false).await
    }

    /// [`ports`](Self::ports) with each port's traffic counters
    /// ([`PortStatus::counters`]; `ip -s link show master BRIDGE`): the
    /// same two requests, the dump with the kernel's statistics in it,
    /// which `ports()` and `status()` leave out (they are most of each
    /// answer: see the README's Performance section for what they cost).
    ///
    /// # Errors
    /// Kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// for p in br.ports_with_counters().await? {
    ///     let c = p.counters.unwrap_or_default();
    ///     println!("{}: guest sent {} B, was sent {} B", p.name, c.rx_bytes, c.tx_bytes);
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListPorts.name(), iface = %self.name), err(Display))]
    pub async fn ports_with_counters(&self) -> Result<Vec<PortStatus>> {
        self.list_ports(true).await
    }

    /// One port's traffic counters (`ip -s link show PORT`): one request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name; [`Error::NotFound`];
    /// [`Error::NotAPort`] for a link that is not a port of this bridge;
    /// kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let c = br.port_counters("vnet0").await?;
    /// println!("dropped on the way to the guest: {}", c.tx_dropped);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ReadCounters.name(), iface = %self.name), err(Display))]
    pub async fn port_counters(&self, port: impl ToPort) -> Result<Counters> {
        let port = port.to_port()?;
        let op = Op::ReadCounters;
        let link = self
            .nl
            .link_with_counters(op, self.name.as_str(), port.link_ref())
            .await
            .map_err(|e| self.as_port(e))?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: IfName::from_kernel(&link.name),
                bridge: self.name.clone(),
            });
        }
        link.counters.ok_or_else(|| Error::Unsupported {
            op,
            iface: IfName::from_kernel(&link.name),
            detail: "the kernel sent no IFLA_STATS64 for the link".into(),
        })
    }

    /// One port's bandwidth limits as the kernel holds them (`tc qdisc
    /// show dev PORT`, and its IFB's): 2 to 5 requests. A direction is
    /// `Some` only where bridgekit's tbf is in place and, outbound, the
    /// port's frames are redirected to it; rates and bursts are the
    /// kernel's (a burst read back from its ticks may differ from the one
    /// sent by a byte or so).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name; [`Error::NotFound`];
    /// [`Error::NotAPort`] for a link that is not a port of this bridge;
    /// kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let limits = br.port_bandwidth("vnet0").await?;
    /// if let Some(b) = limits.inbound {
    ///     println!("to the guest: {} B/s", b.average_rate());
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ReadBandwidth.name(), iface = %self.name), err(Display))]
    pub async fn port_bandwidth(&self, port: impl ToPort) -> Result<PortBandwidth> {
        let port = port.to_port()?;
        let op = Op::ReadBandwidth;
        let link = self.port_link(op, &port).await?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: IfName::from_kernel(&link.name),
                bridge: self.name.clone(),
            });
        }
        let id = LinkId::new(&link.name, link.index);
        Ok(limits::read(&self.nl, op, &id).await?.bandwidth())
    }

    async fn list_ports(&self, counters: bool) -> Result<Vec<PortStatus>> {
        let name = self.name.as_str();
        let links = if counters {
            self.nl
                .links_with_master_counters(Op::ListPorts, name, self.index)
                .await?
        } else {
            self.nl
                .links_with_master(Op::ListPorts, name, self.index)
                .await?
        };
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let mut vlans: std::collections::HashMap<u32, Vec<VlanMember>> = self
            .nl
            .vlan_dump(Op::ListVlans, name)
            .await?
            .into_iter()
            .map(|s| (s.index, s.vlans))
            .collect();
        let names: std::collections::HashMap<u32, String> =
            links.iter().map(|l| (l.index, l.name.clone())).collect();
        Ok(links
            .into_iter()
            .map(|l| {
                let v = vlans.remove(&l.index).unwrap_or_default();
                let backup = l
                    .port
                    .and_then(|o| o.backup_port)
                    .filter(|i| *i != 0)
                    .and_then(|i| names.get(&i))
                    .map(IfName::from_kernel);
                PortStatus::new(l, v, backup)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_cost_and_priority() {
        assert!(PortConfig::new().cost(0).validate().is_err());
        assert!(PortConfig::new().cost(65536).validate().is_err());
        assert!(PortConfig::new().cost(1).validate().is_ok());
        assert!(PortConfig::new().priority(64).validate().is_err());
        assert!(PortConfig::new().priority(63).validate().is_ok());
        assert!(0u32.to_port().is_err());
    }
}
