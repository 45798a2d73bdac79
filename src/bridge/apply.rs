//! Declarative apply: make a bridge match a [`BridgeConfig`], creating it
//! if missing and otherwise changing only what differs, so a VM manager
//! can apply the same desired state on every restart without a flap.

use crate::error::InputKind;
use tracing::debug;

use super::change::{Applied, Change, Progress};
use crate::bridge::port::{PortConfig, PortRef};
use crate::bridge::{Bridge, BridgeConfig, explain_exists};
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, LinkId, Step, VlanTarget, limits};
use crate::error::{Error, Op, Result};
use crate::forward::{self, Forward};
use crate::guard::{self, GuestGuard};
use crate::netlink::{BridgeOptions, LinkChange, LinkRef, LinkSnapshot, Netlink, TableSeen};
use crate::values::bridge_option::to_centiseconds;
use crate::values::name::IfName;
use crate::values::vlan;
use crate::vxlan::{self};

impl BridgeConfig {
    /// Makes the bridge match this config: creates it if missing
    /// ([`Change::Created`]); otherwise changes only what differs — MAC,
    /// MTU, STP, timers, the [`BridgeOption`](crate::BridgeOption)s, the IPv6 settings (`accept_ra`, `autoconf`,
    /// `disable_ipv6`, with their defaults: see [`BridgeConfig::accept_ra`]),
    /// VLAN filtering, the admin state and IPv6 readiness that `create`
    /// gives (see [`BridgeConfig::up`]), the addresses and the ports given
    /// here — and reports each change. Applying the same config again makes
    /// no change and sends no change request, so nothing flaps. Addresses
    /// and ports the bridge has beyond the config are left alone.
    ///
    /// If a change fails, the changes already made are taken back and the
    /// first error returned. An interface of this name that is not a bridge
    /// is [`Error::NotABridge`] and is never touched.
    ///
    /// # After a crash
    /// A process killed anywhere inside [`Bridge::create`](crate::Bridge::create),
    /// `apply`, [`Bridge::attach_port`](crate::Bridge::attach_port) or
    /// [`VmNic::create`](crate::VmNic::create) leaves a prefix of its steps
    /// done; `apply` of the same config (and the same `VmNic::create`,
    /// `attach_port` again) finishes them, including the staged order that
    /// keeps an empty fixed-MAC bridge able to finish IPv6 DAD. What a
    /// killed process can leave that no config names, and how to clean it:
    ///
    /// - a **persistent** tap of a killed `VmNic::create`
    ///   ([`VmNicConfig::persistent`](crate::VmNicConfig::persistent)): a
    ///   non-persistent one dies with the process; a persistent one stays,
    ///   perhaps detached: delete it (`ip link del NAME`) or create it again
    ///   by that name, which is refused while it exists;
    /// - a veth pair of a killed [`VethNic::create`](crate::VethNic::create):
    ///   the host end `vb` + 8 hex digits (or the `host_name` given), and
    ///   until it moves, its peer `vp` + 8 hex digits here; deleting either
    ///   end deletes both, and the pair goes when the sandbox's namespace
    ///   goes;
    /// - a macvtap of a killed [`MacvtapNic::create`](crate::MacvtapNic::create),
    ///   `mvt` + 8 hex digits (or the name given): delete it, or let it go
    ///   with its lower device;
    /// - an IFB (`bkifb` + a port's ifindex) of a port's outbound
    ///   [bandwidth limit](crate::PortConfig::outbound) whose port is gone:
    ///   the first `apply` of each connection deletes those;
    /// - FDB entries and VLANs on ports the config does not name, and
    ///   addresses beyond the config's: `apply` leaves them alone, as it
    ///   does when nothing was killed.
    ///
    /// # Cancellation
    /// A dropped future still ends whole: the rest runs on a task of its
    /// own.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad config (nothing sent);
    /// [`Error::NotABridge`]; the errors of the setters it calls.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{BridgeConfig, PortConfig};
    /// let desired = BridgeConfig::new("virbr0")?
    ///     .mac("52:54:00:12:34:56")
    ///     .mtu(1500)
    ///     .address("192.168.122.1/24")
    ///     .port("uplink0", PortConfig::new().up());
    /// let applied = desired.apply(&nl).await?;   // on every daemon start
    /// println!("changed: {:?}", applied.changes);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::Apply.name(), iface = %self.name), err(Display))]
    pub async fn apply(&self, nl: &Netlink) -> Result<Applied> {
        self.validate()?;
        let (config, owned) = (self.clone(), nl.clone());
        run_to_end(nl, async move { apply_steps(&owned, config).await }).await
    }
}

async fn apply_steps(nl: &Netlink, config: BridgeConfig) -> Result<Applied> {
    let name = config.name().as_str().to_string();
    match Bridge::open(nl, &name).await {
        Ok(bridge) => {
            vxlan::preflight_all(nl, Op::Apply, &config.vxlans, &config.name, config.mtu).await?;
            let seen = preflight_ports(nl, Op::Apply, &config, Some(bridge.index)).await?;
            let mut done = Progress::new();
            bridge
                .converge(Op::Apply, &config, None, &seen, &mut done)
                .await?;
            Ok(Applied {
                bridge,
                changes: done.changes,
            })
        }
        Err(Error::NotABridge { iface, kind, .. }) => Err(Error::NotABridge {
            op: Op::Apply,
            iface,
            kind,
        }),
        Err(Error::NotFound { .. }) => {
            let (bridge, made) = Bridge::create_steps(nl, config).await?;
            // The bridge's own settings are all part of `Created`; what the
            // create did to other interfaces is reported as apply reports it.
            let changes = std::iter::once(Change::Created)
                .chain(made.into_iter().filter(Change::is_beyond_the_bridge))
                .collect();
            Ok(Applied { bridge, changes })
        }
        Err(e) => Err(e),
    }
}

/// What a port's converge needs beyond its config and link: the guard
/// table as read once for all ports, and whether limits may be on ports
/// that the config leaves unlimited.
struct Extras<'a> {
    guards: Option<&'a TableSeen>,
    limits_here: bool,
}

/// The ports of `config` as one read of the kernel finds them, checked
/// before any change: each exists (but a VXLAN port the config makes), is
/// no bridge, belongs to no other bridge (unless the config allows the
/// move), and no interface is declared twice (once by name, once by
/// ifindex). `bridge` is the bridge's ifindex if it exists. Returns each
/// port as read, in the config's order (`None` for a VXLAN port the config
/// makes), so that converging them reads none of them again.
pub(crate) async fn preflight_ports(
    nl: &Netlink,
    op: Op,
    config: &BridgeConfig,
    bridge: Option<u32>,
) -> Result<Vec<Option<LinkSnapshot>>> {
    let mut seen: Vec<(u32, &PortRef)> = Vec::with_capacity(config.ports.len());
    let mut links = Vec::with_capacity(config.ports.len());
    for (port, cfg) in &config.ports {
        if matches!(port, PortRef::Name(n) if config.vxlans.iter().any(|v| v.name() == n)) {
            links.push(None);
            continue;
        }
        let link = nl
            .link(op, &port.to_string(), port.link_ref())
            .await
            .map_err(|e| e.into_port_of(config.name.as_str()))?;
        if link.kind.as_deref() == Some("bridge") && Some(link.index) != bridge {
            return Err(Error::invalid(
                InputKind::Port,
                format!("port {}", link.name),
                "is a bridge; bridges cannot be nested",
            ));
        }
        if let Some(other) = link.master.filter(|m| Some(*m) != bridge) {
            if !cfg.allow_move {
                let owner = match nl.link(op, "", LinkRef::Index(other)).await {
                    Ok(l) => l.name,
                    Err(_) => format!("#{other}"),
                };
                return Err(Error::PortBusy {
                    op,
                    port: IfName::from_kernel(link.name),
                    bridge: IfName::from_kernel(owner),
                });
            }
        }
        if let Some((_, other)) = seen.iter().find(|(i, _)| *i == link.index) {
            return Err(Error::invalid(
                InputKind::Port,
                format!("port {port} of bridge {}", config.name),
                format!("is {other} too: one interface declared twice (one config per port)"),
            ));
        }
        // A burst below one of the port's frames: refused before any change.
        if !cfg.bandwidth.is_none() {
            limits::Want::of(&cfg.bandwidth, &link.name, link.mtu)?;
        }
        seen.push((link.index, port));
        links.push(Some(link));
    }
    Ok(links)
}

impl Bridge {
    /// Creates a bridge as `config` describes (`ip link add NAME type bridge ...`).
    ///
    /// `create` is [`BridgeConfig::apply`] on nothing: one creating
    /// message with what a new bridge takes at birth (forward delay,
    /// ageing time, the [`BridgeOption`](crate::BridgeOption)s, and the MAC and STP unless the
    /// staged order applies), then the same convergence `apply` runs on an
    /// existing bridge, which makes the rest. The MTU follows in an
    /// RTM_SETLINK of its own: the kernel keeps an MTU set that way when
    /// ports join, while one given at creation is reset to the ports'
    /// minimum by the first port. With a fixed MAC or STP the default
    /// sequence of [`BridgeConfig::ipv6_ready_without_ports`] follows,
    /// which leaves the bridge up. Everything is read back before `create`
    /// returns. If any step fails the bridge is deleted and the first error
    /// returned (with [`Error::UndoFailed`] if the deletion failed too). A
    /// process killed inside `create` leaves a prefix of these steps done:
    /// `apply` of the same config finishes them.
    ///
    /// # Cancellation
    /// If this future is dropped, the steps left still run to the end, on
    /// a task of their own — a fully created bridge, or none (a
    /// failed step is rolled back as usual). After a drop, find out which
    /// with [`Bridge::open`]. Only a runtime shutdown stops them halfway.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad config (nothing sent);
    /// [`Error::AlreadyExists`] if a bridge of that name exists,
    /// [`Error::NotABridge`] if another kind of interface has the name;
    /// [`Error::PermissionDenied`] without CAP_NET_ADMIN;
    /// [`Error::NotApplied`] if the kernel did not keep a value.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::Bridge::create(&nl, bridgekit::BridgeConfig::new("br0")?).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::CreateBridge.name(), iface = %config.name()), err(Display))]
    pub async fn create(nl: &Netlink, config: BridgeConfig) -> Result<Bridge> {
        config.validate()?;
        let owned = nl.clone();
        run_to_end(nl, async move {
            Ok(Self::create_steps(&owned, config).await?.0)
        })
        .await
    }

    /// `create`, as the one engine does it: one creating message with
    /// what a new bridge can take at birth, then [`BridgeConfig::apply`]'s
    /// convergence on the bridge just made, which finds everything else
    /// missing and makes it, in the order a new bridge needs (see
    /// `converge_link`), reading back as it goes. The creation is the
    /// journal's first step: if anything fails, the bridge is deleted.
    /// `apply` on a missing bridge comes here too, so a create that a
    /// killed process left half-done is finished by `apply` of the same
    /// config, with the very steps an uninterrupted `create` takes.
    pub(crate) async fn create_steps(
        nl: &Netlink,
        config: BridgeConfig,
    ) -> Result<(Bridge, Vec<Change>)> {
        let name = config.name.as_str();
        // What needs no change to find wrong is refused before the bridge
        // exists: no listener sees a link come and go.
        crate::vxlan::preflight_all(
            nl,
            Op::CreateBridge,
            &config.vxlans,
            &config.name,
            config.mtu,
        )
        .await?;
        let seen = preflight_ports(nl, Op::CreateBridge, &config, None).await?;
        let staged = config.staged();
        let options = BridgeOptions {
            // Staged: STP comes after bring-up, since it turns carrier off.
            stp: if staged { Some(false) } else { config.stp },
            forward_delay_cs: config
                .forward_delay
                .map(|d| to_centiseconds("", d))
                .transpose()?,
            ageing_time_cs: config
                .ageing_time
                .map(|d| to_centiseconds("", d))
                .transpose()?,
            extra: config.options.clone(),
            ..BridgeOptions::default()
        };
        let link = LinkChange {
            // Not the MTU: one given at creation is not marked as set by
            // the user, and the first port to join resets it to the ports'
            // minimum. Convergence sets it through RTM_SETLINK, which marks it.
            mtu: None,
            // Staged: the MAC comes after bring-up, since it turns carrier off.
            mac: if staged { None } else { config.mac },
            up: None,
            ipv6_auto_link_local: None,
            master: None,
        };
        if let Err(e) = nl.create_bridge(name, &link, &options).await {
            return Err(explain_exists(nl, name, e).await);
        }
        // The name is ours: the exclusive create just succeeded.
        let mut journal = Journal::new();
        journal.made(Step::LinkNamed(Op::CreateBridge, name.into()));
        let created = match nl.link(Op::CreateBridge, name, LinkRef::Name(name)).await {
            Ok(l) => l,
            Err(e) => return Err(e.with_undo_failures(journal.rollback(nl).await)),
        };
        let bridge = Bridge {
            nl: nl.clone(),
            index: created.index,
            name: config.name.clone(),
        };
        // From here on by its ifindex, and its own settings go with it.
        let mut done = Progress::new();
        done.journal.made(Step::BridgeCreated(bridge.id()));
        bridge
            .converge(Op::CreateBridge, &config, Some(created), &seen, &mut done)
            .await?;
        debug!(
            bridge = name,
            changes = done.changes.len(),
            "bridge created"
        );
        Ok((bridge, done.changes))
    }

    /// The one engine of `create` and `apply`: changes what differs from
    /// `config`, each step recorded in `done` as it is made, in the
    /// order a new bridge needs them. If a step fails, the whole journal
    /// (including what the caller recorded before, such as the creation
    /// of the bridge) is rolled back and the first error returned, with
    /// any undo that failed. `op` names the caller in errors; `link` is the
    /// bridge as the caller just read it, if it did; `ports` are the
    /// config's ports as [`preflight_ports`] read them.
    pub(crate) async fn converge(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: Option<LinkSnapshot>,
        ports: &[Option<LinkSnapshot>],
        done: &mut Progress,
    ) -> Result<()> {
        match self.converge_steps(op, config, link, ports, done).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let failed = std::mem::take(&mut done.journal).rollback(&self.nl).await;
                Err(e.with_undo_failures(failed))
            }
        }
    }

    async fn converge_steps(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: Option<LinkSnapshot>,
        ports: &[Option<LinkSnapshot>],
        done: &mut Progress,
    ) -> Result<()> {
        let link = match link {
            Some(l) => l,
            None => self.read(op).await?,
        };
        self.converge_link(op, config, link.clone(), done).await?;
        if let Some(on) = config.vlan_filtering {
            if link.vlan_filtering.unwrap_or(false) != on {
                done.step(
                    Step::VlanFiltering(self.id(), !on),
                    Change::VlanFiltering(on),
                    self.set_vlan_filtering(on),
                )
                .await?;
            }
        }
        if !config.addresses.is_empty() {
            let have = self
                .nl
                .addresses(op, self.name.as_str(), self.index)
                .await?;
            for net in &config.addresses {
                if !have.iter().any(|a| a.net == *net) {
                    done.step(
                        Step::Address(self.id(), *net),
                        Change::AddressAdded(*net),
                        self.add_address(*net),
                    )
                    .await?;
                }
            }
        }
        if let Some(mode) = &config.forward {
            self.converge_forward(mode, config, done).await?;
        }
        // VXLAN devices exist, with their remotes, before they are
        // attached below like any port.
        for vx in &config.vxlans {
            self.converge_vxlan(op, vx, config.mtu, done).await?;
        }
        // A backup port must be a port already: ports naming none go first.
        let seen = ports.iter().chain(std::iter::repeat(&None));
        let (plain, backed): (Vec<_>, Vec<_>) = config
            .ports
            .iter()
            .zip(seen)
            .partition(|((_, cfg), _)| !matches!(cfg.backup(), Some(Some(_))));
        // The guard table, read once for every port: where guards are
        // wanted, where this connection has seen some, and in every
        // `apply` (a restarted program's first apply removes the guards its
        // config no longer asks for). A kernel without nf_tables, or a
        // process nf_tables refuses, has none to converge unless the
        // config wants one.
        let wanted = config.ports.iter().any(|(_, c)| c.guest_guard.is_some());
        let guards = if wanted || self.nl.guards_seen() || op == Op::Apply {
            let iface = self.name.as_str();
            match self
                .nl
                .nft_table(Op::ReadGuard, iface, self.nl.guard_nft())
                .await
            {
                Ok(table) => {
                    if !table.chains.is_empty() {
                        self.nl.note_guards();
                    }
                    Some(table)
                }
                Err(Error::Unsupported { .. } | Error::PermissionDenied { .. }) if !wanted => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        // Limits on ports that are attached already are converged where
        // the config asks for some, or where some may be: this connection
        // made or found an IFB of bridgekit's (one look per connection, in
        // its first `apply`, which also deletes IFBs whose port is gone), or
        // the port's root is a tbf.
        let limits_here = op == Op::Apply && limits::look(&self.nl, op, self.name.as_str()).await?;
        let ordered: Vec<_> = plain.into_iter().chain(backed).collect();
        // The guards first, all of them in as few transactions as fit:
        // each port joins with its guard already there, and the table is
        // validated once per transaction, not once per port (see
        // `guard::port::install_many`). A port the preflight could not read
        // (a VXLAN port made above) gets its guard with its attach.
        let mut stripped: Vec<Option<PortConfig>> = vec![None; ordered.len()];
        if let Some(table) = &guards {
            self.converge_guards(&ordered, table, &mut stripped, done)
                .await?;
        }
        let mut guarded = Vec::new();
        for (((port, cfg), seen), stripped) in ordered.into_iter().zip(&stripped) {
            let name = self
                .converge_port(
                    op,
                    port,
                    stripped.as_ref().unwrap_or(cfg),
                    seen.as_ref(),
                    Extras {
                        guards: guards.as_ref(),
                        limits_here,
                    },
                    done,
                )
                .await?;
            if cfg.guest_guard.is_some() {
                guarded.push(name);
            }
        }
        if let Some(table) = &guards {
            self.converge_stale_guards(table, &guarded, done).await?;
        }
        Ok(())
    }

    /// Converges the bridge's forward mode: its chains in the connection's
    /// inet table (read every time: rules someone else flushed come back),
    /// then the forwarding sysctls, so the host never forwards for the
    /// bridge before its rules are in place. [`Forward::Open`] on a kernel
    /// without nf_tables has nothing to remove.
    async fn converge_forward(
        &self,
        mode: &Forward,
        config: &BridgeConfig,
        done: &mut Progress,
    ) -> Result<()> {
        let bridge = self.name.as_str();
        let nets = forward::rules::Subnets::of(&config.addresses);
        let want = forward::rules::chains(mode, bridge, &nets);
        let table = match self
            .nl
            .nft_table(Op::ReadForward, bridge, self.nl.forward_nft())
            .await
        {
            Ok(table) => table,
            Err(Error::Unsupported { .. } | Error::PermissionDenied { .. }) if want.is_empty() => {
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let removing = want.is_empty();
        let mut journal = Journal::new();
        let changed =
            forward::bridge::converge_rules(&self.nl, &mut journal, &self.id(), &table, want).await;
        done.journal.append(journal);
        if changed? {
            done.changes.push(if removing {
                Change::ForwardRemoved
            } else {
                Change::ForwardInstalled(mode.clone())
            });
        }
        let mut journal = Journal::new();
        let switched =
            forward::bridge::converge_sysctls(&self.nl, &mut journal, bridge, mode, &nets).await;
        done.journal.append(journal);
        done.changes
            .extend(switched?.into_iter().map(Change::Forwarding));
        Ok(())
    }

    /// Removes the guards of this bridge's ports (by their chains' names)
    /// that the config does not ask for: ports without a guard in it,
    /// ports no longer there.
    async fn converge_stale_guards(
        &self,
        table: &TableSeen,
        guarded: &[String],
        done: &mut Progress,
    ) -> Result<()> {
        let bridge = self.name.as_str();
        for port in guard::port::guarded_ports(table, bridge) {
            if guarded.contains(&port) {
                continue;
            }
            let seen = guard::port::seen_chains(table, bridge, &port);
            let mut journal = Journal::new();
            guard::port::uninstall(&self.nl, &mut journal, &port, seen).await?;
            done.append(journal, Change::GuardRemoved(IfName::from_kernel(port)));
        }
        Ok(())
    }

    /// Converges one port of the config; returns its name.
    async fn converge_port(
        &self,
        op: Op,
        port: &PortRef,
        cfg: &PortConfig,
        seen: Option<&LinkSnapshot>,
        extras: Extras<'_>,
        done: &mut Progress,
    ) -> Result<String> {
        let Extras {
            guards,
            limits_here,
        } = extras;
        // As the preflight read it, moments ago; a VXLAN port it could not
        // read (the converge made it) is read now.
        let link = match seen {
            Some(link) => link.clone(),
            None => self.port_link(op, port).await?,
        };
        if link.master != Some(self.index) {
            let attached = self.attach_one(&PortRef::Index(link.index), cfg).await?;
            done.append(
                attached.journal,
                Change::PortAttached(IfName::from_kernel(&link.name)),
            );
            return Ok(link.name);
        }
        // The guard on its own: it is not what the attach below changes.
        let guard_less;
        let cfg = match &cfg.guest_guard {
            Some(g) => {
                self.converge_guard(g, cfg, &link, guards, done).await?;
                guard_less = PortConfig {
                    guest_guard: None,
                    ..cfg.clone()
                };
                &guard_less
            }
            None => cfg,
        };
        // The limits on their own too.
        let limit_less;
        let cfg = if !cfg.bandwidth.is_none() || limits_here || link.qdisc.as_deref() == Some("tbf")
        {
            self.converge_limits(cfg, &link, done).await?;
            limit_less = PortConfig {
                bandwidth: crate::values::bandwidth::PortBandwidth::default(),
                ..cfg.clone()
            };
            &limit_less
        } else {
            cfg
        };
        let current = link.port.unwrap_or_default();
        let cfg = &self.resolve_backup(op, &link.name, link.index, cfg).await?;
        let mut differs = !cfg.options.mismatches(&current).is_empty() || (cfg.up && !link.up);
        let target = VlanTarget {
            name: link.name.clone(),
            index: link.index,
            bridge_self: false,
        };
        if !cfg.vlans.is_empty() {
            let have = self.vlans_of(op, &target).await?;
            let table = vlan::table(&have);
            differs |= vlan::expand(&cfg.vlans)
                .into_iter()
                .any(|(id, p, u)| table[usize::from(id.get())] != Some((p, u)));
        }
        let wanted_fdb: Vec<_> = cfg.fdb_entries().collect();
        let mut fdb_missing = Vec::new();
        if !wanted_fdb.is_empty() {
            let have = self
                .nl
                .fdb_dump(op, self.name.as_str(), self.index, Some(link.index))
                .await?;
            for (mac, vlan) in wanted_fdb {
                if !have
                    .iter()
                    .any(|e| e.mac == mac && e.vlan == vlan && e.is_static)
                {
                    fdb_missing.push((mac, vlan));
                }
            }
            differs |= !fdb_missing.is_empty();
        }
        if !differs {
            return Ok(link.name);
        }
        // The attach takes itself back if it fails; once it succeeded, its
        // steps join this apply's journal.
        let attached = self.attach_one(&PortRef::Index(link.index), cfg).await?;
        done.append(
            attached.journal,
            Change::PortReconfigured(IfName::from_kernel(&link.name)),
        );
        Ok(link.name)
    }

    /// Makes a port of this bridge have the config's limits (none, if it
    /// asks for none), unless it has them.
    async fn converge_limits(
        &self,
        cfg: &PortConfig,
        link: &LinkSnapshot,
        done: &mut Progress,
    ) -> Result<()> {
        let want = limits::Want::of(&cfg.bandwidth, &link.name, link.mtu)?;
        let id = LinkId::new(&link.name, link.index);
        let mut journal = Journal::new();
        let op = if want.is_none() {
            Op::RemoveBandwidth
        } else {
            Op::SetBandwidth
        };
        let changed = limits::converge(&self.nl, op, &mut journal, &id, &want).await;
        // What was made is taken back with the rest if a later step fails.
        done.journal.append(journal);
        if changed? {
            let port = IfName::from_kernel(&link.name);
            done.changes.push(if want.is_none() {
                Change::BandwidthRemoved(port)
            } else {
                Change::BandwidthSet(port)
            });
        }
        Ok(())
    }

    /// Installs the guards of the config's ports that the table does not
    /// have exactly, in as few transactions as fit, and marks each port
    /// whose guard is now in place by its config without the guard
    /// (`stripped`), which the port's own converge then gets. A port
    /// already attached reports [`Change::GuardInstalled`]; a port about to
    /// be attached reports its attach, as with one port.
    async fn converge_guards(
        &self,
        ports: &[(&(PortRef, PortConfig), &Option<LinkSnapshot>)],
        table: &TableSeen,
        stripped: &mut [Option<PortConfig>],
        done: &mut Progress,
    ) -> Result<()> {
        let bridge = self.name.as_str();
        let mut plans = Vec::new();
        let mut changes = Vec::new();
        for (((_, cfg), seen), stripped) in ports.iter().zip(stripped.iter_mut()) {
            let (Some(guard), Some(link)) = (&cfg.guest_guard, seen) else {
                continue;
            };
            let want = guard::port::wanted(guard, cfg.managed, bridge, &link.name)?;
            *stripped = Some(PortConfig {
                guest_guard: None,
                ..cfg.clone()
            });
            if guard::port::same(table, bridge, &link.name, &want) {
                continue;
            }
            if link.master == Some(self.index) {
                changes.push(Change::GuardInstalled(IfName::from_kernel(&link.name)));
            }
            plans.push(guard::port::Planned {
                before: guard::port::seen_chains(table, bridge, &link.name),
                want,
            });
        }
        let mut journal = Journal::new();
        let installed = guard::port::install_many(&self.nl, &mut journal, &self.id(), plans).await;
        // What was made is taken back with the rest if a later step fails.
        done.journal.append(journal);
        installed?;
        done.changes.extend(changes);
        Ok(())
    }

    /// Installs `guard` on a port of this bridge unless the table already
    /// has exactly its rules there.
    async fn converge_guard(
        &self,
        guard: &GuestGuard,
        cfg: &PortConfig,
        link: &LinkSnapshot,
        table: Option<&TableSeen>,
        done: &mut Progress,
    ) -> Result<()> {
        let bridge = self.name.as_str();
        let want = guard::port::wanted(guard, cfg.managed, bridge, &link.name)?;
        let empty = TableSeen::default();
        let table = table.unwrap_or(&empty);
        if guard::port::same(table, bridge, &link.name, &want) {
            return Ok(());
        }
        let seen = guard::port::seen_chains(table, bridge, &link.name);
        let mut journal = Journal::new();
        let id = LinkId::new(&link.name, link.index);
        guard::port::install(&self.nl, &mut journal, &id, bridge, want, Some(seen)).await?;
        done.append(
            journal,
            Change::GuardInstalled(IfName::from_kernel(&link.name)),
        );
        Ok(())
    }
}
