//! Declarative apply: make a bridge match a [`BridgeConfig`], creating it
//! if missing and otherwise changing only what differs, so a VM manager
//! can apply the same desired state on every restart without a flap.

use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;
use tracing::debug;

use crate::bridge::port::{PortConfig, PortRef};
use crate::bridge::{Bridge, BridgeConfig, explain_exists};
use crate::engine::complete::run_to_end;
use crate::engine::ipv6;
use crate::engine::{Journal, LinkId, Step, VlanTarget, act};
use crate::error::{Error, Op, Result};
use crate::netlink::{BridgeOptions, LinkChange, LinkRef, LinkSnapshot, Netlink};
use crate::values::bridge_option::{
    BridgeOption, from_centiseconds, timer_matches, to_centiseconds,
};
use crate::values::mac::eui64_link_local;
use crate::values::name::IfName;
use crate::values::sysctl::Ipv6Sysctl;
use crate::values::vlan;
use crate::vxlan::{self, VxlanConfig};
use crate::vxlan::{Meets, Remote, RemoteKind};

/// One change [`BridgeConfig::apply`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The bridge did not exist and was created, with all of its own
    /// settings in the config. The changes that follow it in
    /// [`Applied::changes`] are those the create made to other interfaces:
    /// VXLAN devices created, their remotes, ports attached.
    Created,
    /// The MAC was changed.
    Mac {
        /// Before.
        from: MacAddr6,
        /// After.
        to: MacAddr6,
    },
    /// The MTU was changed.
    Mtu {
        /// Before.
        from: u32,
        /// After.
        to: u32,
    },
    /// STP was turned on or off.
    Stp(bool),
    /// The forward delay was changed.
    ForwardDelay(Duration),
    /// The ageing time was changed.
    AgeingTime(Duration),
    /// VLAN filtering was turned on or off.
    VlanFiltering(bool),
    /// A bridge option was set to this value.
    Option(BridgeOption),
    /// IPv6 router advertisements were turned on or off (`accept_ra`).
    AcceptRa(bool),
    /// IPv6 address autoconfiguration was turned on or off (`autoconf`).
    Autoconf(bool),
    /// IPv6 was turned off (`true`) or on (`false`) (`disable_ipv6`).
    DisableIpv6(bool),
    /// An address was added.
    AddressAdded(IpNet),
    /// A port was attached.
    PortAttached(IfName),
    /// A port's options, VLANs, FDB entries or admin state were changed.
    PortReconfigured(IfName),
    /// The bridge was brought up (`true`) or down.
    AdminUp(bool),
    /// Automatic IPv6 link-local addresses were turned on or off
    /// (`addrgenmode eui64|none`).
    AutoLinkLocal(bool),
    /// A VXLAN device of the config did not exist and was created.
    VxlanCreated(IfName),
    /// A remote VTEP was added to a VXLAN device.
    RemoteAdded {
        /// The VXLAN device.
        vxlan: IfName,
        /// The entry.
        remote: Remote,
    },
    /// A static remote VTEP the config does not name was removed.
    RemoteRemoved {
        /// The VXLAN device.
        vxlan: IfName,
        /// The entry.
        remote: Remote,
    },
}

impl Change {
    /// A change to an interface other than the bridge: a port, a VXLAN
    /// device or its remotes.
    fn is_beyond_the_bridge(&self) -> bool {
        matches!(
            self,
            Change::PortAttached(_)
                | Change::PortReconfigured(_)
                | Change::VxlanCreated(_)
                | Change::RemoteAdded { .. }
                | Change::RemoteRemoved { .. }
        )
    }
}

/// In words: `created`, `MTU 1500 -> 1400`, `port vnet0 attached`.
///
/// ```
/// use bridgekit::Change;
/// assert_eq!(Change::Mtu { from: 1500, to: 1400 }.to_string(), "MTU 1500 -> 1400");
/// ```
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        let secs = |d: &Duration| format!("{} s", d.as_secs_f64());
        match self {
            Change::Created => f.write_str("created"),
            Change::Mac { from, to } => write!(
                f,
                "MAC {} -> {}",
                crate::values::mac::lower(*from),
                crate::values::mac::lower(*to)
            ),
            Change::Mtu { from, to } => write!(f, "MTU {from} -> {to}"),
            Change::Stp(s) => write!(f, "STP {}", on(*s)),
            Change::ForwardDelay(d) => write!(f, "forward delay {}", secs(d)),
            Change::AgeingTime(d) => write!(f, "ageing time {}", secs(d)),
            Change::VlanFiltering(v) => write!(f, "VLAN filtering {}", on(*v)),
            Change::Option(o) => write!(f, "{o}"),
            Change::AcceptRa(v) => write!(f, "accept_ra {}", on(*v)),
            Change::Autoconf(v) => write!(f, "autoconf {}", on(*v)),
            Change::DisableIpv6(v) => write!(f, "IPv6 {}", on(!*v)),
            Change::AddressAdded(a) => write!(f, "address {a} added"),
            Change::PortAttached(p) => write!(f, "port {p} attached"),
            Change::PortReconfigured(p) => write!(f, "port {p} reconfigured"),
            Change::AdminUp(up) => f.write_str(if *up { "up" } else { "down" }),
            Change::AutoLinkLocal(v) => write!(f, "automatic link-local {}", on(*v)),
            Change::VxlanCreated(v) => write!(f, "VXLAN device {v} created"),
            Change::RemoteAdded { vxlan, remote } => write!(f, "remote {remote} added to {vxlan}"),
            Change::RemoteRemoved { vxlan, remote } => {
                write!(f, "remote {remote} removed from {vxlan}")
            }
        }
    }
}

/// What [`BridgeConfig::apply`] did: the bridge, and the changes made
/// (empty when nothing differed).
#[derive(Debug)]
#[non_exhaustive]
pub struct Applied {
    /// The bridge, now as configured.
    pub bridge: Bridge,
    /// The changes made, in order.
    pub changes: Vec<Change>,
}

impl BridgeConfig {
    /// Makes the bridge match this config: creates it if missing
    /// ([`Change::Created`]); otherwise changes only what differs — MAC,
    /// MTU, STP, timers, the [`BridgeOption`]s, the IPv6 settings (`accept_ra`, `autoconf`,
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "apply", iface = %self.name), err(Display))]
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
            preflight_ports(nl, Op::Apply, &config, Some(bridge.index)).await?;
            let mut changes = Vec::new();
            let mut journal = Journal::new();
            bridge
                .converge(Op::Apply, &config, None, &mut changes, &mut journal)
                .await?;
            Ok(Applied { bridge, changes })
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

/// The ports of `config` as one read of the kernel finds them, checked
/// before any change: each exists (but a VXLAN port the config makes), is
/// no bridge, belongs to no other bridge (unless the config allows the
/// move), and no interface is declared twice (once by name, once by
/// ifindex). `bridge` is the bridge's ifindex if it exists.
pub(crate) async fn preflight_ports(
    nl: &Netlink,
    op: Op,
    config: &BridgeConfig,
    bridge: Option<u32>,
) -> Result<()> {
    let mut seen: Vec<(u32, &PortRef)> = Vec::with_capacity(config.ports.len());
    for (port, cfg) in &config.ports {
        if matches!(port, PortRef::Name(n) if config.vxlans.iter().any(|v| v.name() == n)) {
            continue;
        }
        let link = nl
            .link(op, &port.to_string(), port.link_ref())
            .await
            .map_err(|e| e.into_port_of(config.name.as_str()))?;
        if link.kind.as_deref() == Some("bridge") && Some(link.index) != bridge {
            return Err(Error::invalid(
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
                    port: link.name,
                    bridge: owner,
                });
            }
        }
        if let Some((_, other)) = seen.iter().find(|(i, _)| *i == link.index) {
            return Err(Error::invalid(
                format!("port {port} of bridge {}", config.name),
                format!("is {other} too: one interface declared twice (one config per port)"),
            ));
        }
        seen.push((link.index, port));
    }
    Ok(())
}

impl Bridge {
    /// Creates a bridge as `config` describes (`ip link add NAME type bridge ...`).
    ///
    /// `create` is [`BridgeConfig::apply`] on nothing: one creating
    /// message with what a new bridge takes at birth (forward delay,
    /// ageing time, the [`BridgeOption`]s, and the MAC and STP unless the
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "create", iface = %config.name()), err(Display))]
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
        preflight_ports(nl, Op::CreateBridge, &config, None).await?;
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
        let mut journal = Journal::new();
        journal.made(Step::BridgeCreated(bridge.id()));
        let mut changes = Vec::new();
        bridge
            .converge(
                Op::CreateBridge,
                &config,
                Some(created),
                &mut changes,
                &mut journal,
            )
            .await?;
        debug!(bridge = name, changes = changes.len(), "bridge created");
        Ok((bridge, changes))
    }

    /// The one engine of `create` and `apply`: changes what differs from
    /// `config`, each step recorded in `journal` as it is made, in the
    /// order a new bridge needs them. If a step fails, the whole journal
    /// (including what the caller recorded before, such as the creation
    /// of the bridge) is rolled back and the first error returned, with
    /// any undo that failed. `op` names the caller in errors; `link` is the
    /// bridge as the caller just read it, if it did.
    pub(crate) async fn converge(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: Option<LinkSnapshot>,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<()> {
        match self
            .converge_steps(op, config, link, changes, journal)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let failed = std::mem::take(journal).rollback(&self.nl).await;
                Err(e.with_undo_failures(failed))
            }
        }
    }

    async fn converge_steps(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: Option<LinkSnapshot>,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<()> {
        let link = match link {
            Some(l) => l,
            None => self.read(op).await?,
        };
        self.converge_link(op, config, link.clone(), changes, journal)
            .await?;
        if let Some(on) = config.vlan_filtering {
            if link.vlan_filtering.unwrap_or(false) != on {
                journal
                    .step(
                        Step::VlanFiltering(self.id(), !on),
                        self.set_vlan_filtering(on),
                    )
                    .await?;
                changes.push(Change::VlanFiltering(on));
            }
        }
        if !config.addresses.is_empty() {
            let have = self
                .nl
                .addresses(op, self.name.as_str(), self.index)
                .await?;
            for net in &config.addresses {
                if !have.iter().any(|a| a.net == *net) {
                    journal
                        .step(Step::Address(self.id(), *net), self.add_address(*net))
                        .await?;
                    changes.push(Change::AddressAdded(*net));
                }
            }
        }
        // VXLAN devices exist, with their remotes, before they are
        // attached below like any port.
        for vx in &config.vxlans {
            self.converge_vxlan(op, vx, config.mtu, changes, journal)
                .await?;
        }
        // A backup port must be a port already: ports naming none go first.
        let (plain, backed): (Vec<_>, Vec<_>) = config
            .ports
            .iter()
            .partition(|(_, cfg)| !matches!(cfg.backup(), Some(Some(_))));
        for (port, cfg) in plain.into_iter().chain(backed) {
            self.converge_port(op, port, cfg, changes, journal).await?;
        }
        Ok(())
    }

    /// `accept_ra`, `autoconf` and `disable_ipv6` as the config resolves
    /// them, before any address or port of the config is added. Returns the
    /// link read back if anything was written.
    async fn converge_ipv6_guard(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: &LinkSnapshot,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<Option<LinkSnapshot>> {
        if link.ipv6.is_none() {
            if !config.wants_ipv6() {
                return Ok(None); // no IPv6 here, and none asked for
            }
            let detail = if ipv6::ipv6_available(&self.nl, op, self.name.as_str()).await? {
                format!(
                    "{} has no IPv6 state (an MTU below 1280, here {}, turns IPv6 off on a link)",
                    link.name, link.mtu
                )
            } else {
                ipv6::NO_IPV6.to_string()
            };
            return Err(Error::Unsupported {
                op,
                iface: self.name.to_string(),
                detail,
            });
        }
        // Written as sysctls, then read back once through netlink.
        let mut written = Vec::new();
        for (knob, on) in config.ipv6_guard().steps() {
            let Some(have) = ipv6::read(link, knob) else {
                continue;
            };
            if have != on {
                journal
                    .step(
                        Step::Ipv6Sysctl(self.id(), knob, have),
                        ipv6::write(&self.nl, &link.name, self.index, knob, on),
                    )
                    .await?;
                written.push((knob, on));
                changes.push(match knob {
                    Ipv6Sysctl::AcceptRa => Change::AcceptRa(on),
                    Ipv6Sysctl::Autoconf => Change::Autoconf(on),
                    Ipv6Sysctl::DisableIpv6 => Change::DisableIpv6(on),
                });
            }
        }
        if written.is_empty() {
            return Ok(None);
        }
        let after = self.read(op).await?;
        for (knob, on) in written {
            self.check(
                Op::SetIpv6Sysctl(knob),
                knob.name(),
                on,
                ipv6::read(&after, knob),
            )?;
        }
        Ok(Some(after))
    }

    /// The bridge's own link, in the order `create` gives a new one: the
    /// MTU; the IPv6 settings, before the bridge may come up; automatic
    /// link-local addresses off; the admin state; the MAC (an empty bridge
    /// loses carrier when it is set, so a bridge that `create` would bring
    /// up comes up first and stays ready for IPv6); STP and its timers and
    /// the other options; the link-local address of the fixed MAC. A
    /// daemon killed anywhere inside `create` leaves a prefix of these
    /// steps done, and this finishes the rest.
    async fn converge_link(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: LinkSnapshot,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<()> {
        let mut link = link;
        if let Some(to) = config.mtu {
            if to == link.mtu && op == Op::CreateBridge {
                // The kernel marks a bridge's MTU as the user's, and keeps
                // it when smaller ports join, only when a request changes
                // it: asking a new bridge for the 1500 it was born with
                // would leave it unmarked, and the first 1400 port would
                // lower it. So a new bridge goes by way of another value.
                let detour = if to > crate::MIN_MTU { to - 1 } else { to + 1 };
                self.set_mtu(detour).await?;
                link.mtu = detour;
            }
            if to != link.mtu {
                journal
                    .step(Step::Mtu(self.id(), link.mtu), self.set_mtu(to))
                    .await?;
                changes.push(Change::Mtu { from: link.mtu, to });
                // Raising it from below 1280 gives the bridge new IPv6
                // state, with the namespace's defaults.
                link = self.read(op).await?;
            }
        }
        if let Some(after) = self
            .converge_ipv6_guard(op, config, &link, changes, journal)
            .await?
        {
            link = after; // disable_ipv6 may have changed
        }
        // The link-local address a staged create adds by hand: of the
        // fixed MAC, with the kernel's own generation off.
        let ipv6_on = link.ipv6.is_some_and(|v6| !v6.disabled);
        let hand_made_ll = match config.mac {
            Some(mac) if config.staged() && ipv6_on => Some(mac),
            _ => None,
        };
        if hand_made_ll.is_some() {
            let auto = link.ipv6.and_then(|v6| v6.auto_link_local);
            if auto != Some(false) {
                journal
                    .step(
                        Step::AutoLinkLocal(self.id(), true),
                        act::set_auto_link_local(&self.nl, &self.id(), false),
                    )
                    .await?;
                changes.push(Change::AutoLinkLocal(false));
            }
        }
        if let Some(up) = config.wanted_up() {
            if up != link.up {
                journal
                    .step(
                        Step::AdminUp(self.id(), link.up),
                        act::set_admin_up(&self.nl, &self.id(), up),
                    )
                    .await?;
                changes.push(Change::AdminUp(up));
            }
        }
        if let (Some(to), Some(from)) = (config.mac, link.mac) {
            if to != from {
                journal
                    .step(Step::Mac(self.id(), from), self.set_mac(to))
                    .await?;
                changes.push(Change::Mac { from, to });
            }
        }
        let differs = |want: Duration, read: Option<u32>| {
            to_centiseconds("", want).map_or(true, |cs| !timer_matches(cs, read))
        };
        // STP off goes first and STP on last: with STP on, the kernel
        // refuses a forward delay outside 2..=30 s.
        let stp_change = config.stp.filter(|on| Some(*on) != link.stp);
        if stp_change == Some(false) {
            journal
                .step(Step::Stp(self.id(), true), self.set_stp(false))
                .await?;
            changes.push(Change::Stp(false));
        }
        if let Some(fd) = config.forward_delay {
            if differs(fd, link.forward_delay_cs) {
                let old = link.forward_delay_cs.unwrap_or(0);
                journal
                    .step(
                        Step::ForwardDelay(self.id(), from_centiseconds(old)),
                        self.set_forward_delay(fd),
                    )
                    .await?;
                changes.push(Change::ForwardDelay(fd));
            }
        }
        if let Some(at) = config.ageing_time {
            if differs(at, link.ageing_time_cs) {
                let old = link.ageing_time_cs.unwrap_or(0);
                journal
                    .step(
                        Step::AgeingTime(self.id(), from_centiseconds(old)),
                        self.set_ageing_time(at),
                    )
                    .await?;
                changes.push(Change::AgeingTime(at));
            }
        }
        for option in &config.options {
            let read = link.bridge_option(option.kind());
            if !option.matches(read) {
                match read {
                    Some(old) => {
                        journal
                            .step(Step::Option(self.id(), old), self.set_option(*option))
                            .await?
                    }
                    // Nothing to go back to: the kernel has no such option
                    // to read, and refuses to set it below.
                    None => self.set_option(*option).await?,
                }
                changes.push(Change::Option(*option));
            }
        }
        if stp_change == Some(true) {
            journal
                .step(Step::Stp(self.id(), false), self.set_stp(true))
                .await?;
            changes.push(Change::Stp(true));
        }
        if let Some(mac) = hand_made_ll {
            let ll = IpNet::new(eui64_link_local(mac).into(), 64)
                .map_err(|_| Error::invalid("link-local prefix", "64 is a valid prefix length"))?;
            let have = self
                .nl
                .addresses(op, self.name.as_str(), self.index)
                .await?;
            if !have.iter().any(|a| a.net == ll) {
                journal
                    .step(
                        Step::Address(self.id(), ll),
                        self.nl
                            .add_address(&self.describe(ll), self.index, ll, false),
                    )
                    .await?;
                changes.push(Change::AddressAdded(ll));
            }
        }
        Ok(())
    }

    /// One VXLAN device of the config: created if missing, checked if not;
    /// its static remotes made the declared ones, removals first (a MAC
    /// moving to another VTEP), then read back.
    async fn converge_vxlan(
        &self,
        op: Op,
        config: &VxlanConfig,
        bridge_mtu: Option<u32>,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<()> {
        let name = config.name().as_str();
        let vx = match self.nl.link(op, name, LinkRef::Name(name)).await {
            Ok(link) => vxlan::existing(&self.nl, op, config, &link).await?,
            Err(Error::NotFound { .. }) => {
                let vni = config.validate()?;
                let vx = vxlan::make_device(&self.nl, config, vni).await?;
                journal.made(Step::LinkCreated(op, LinkId::new(name, vx.index())));
                changes.push(Change::VxlanCreated(vx.name().clone()));
                vx
            }
            Err(e) => return Err(e),
        };
        if let Some(mtu) = bridge_mtu {
            // Checked before any change too (preflight); this read-back
            // holds the kernel to it.
            vxlan::check_carries(config.name(), vx.mtu().await?, mtu, &self.name)?;
        }
        let Some(want) = config.remotes() else {
            return Ok(());
        };
        // The ownership rule: the declared remotes are made static entries
        // (one whose MAC the device learned replaces the learned entry:
        // pins it); undeclared static entries are removed unless the
        // device's remotes are shared with another writer; learned and
        // extern_learn entries are never removed.
        let have = vx.remotes_as(op).await?;
        let id = LinkId::new(name, vx.index());
        let (stale, kept): (Vec<Remote>, Vec<Remote>) = have.iter().partition(|h| {
            !config.shared_remotes
                && h.kind() == RemoteKind::Static
                && !want.iter().any(|w| w.same(h))
        });
        // Every refusal before the first change.
        let mut missing = Vec::new();
        for w in want {
            match vxlan::meets(w, &kept) {
                Meets::Present(_) => {}
                Meets::Nothing => missing.push((*w, false)),
                Meets::Learned => missing.push((*w, true)),
                Meets::Conflict(old) => {
                    return Err(Error::invalid(
                        format!("remote {w} of {name}"),
                        format!(
                            "conflicts with {old}, a {} entry already there (a MAC has one \
                             VTEP){}",
                            old.kind(),
                            if config.shared_remotes {
                                "; the device's remotes are shared: apply removes none"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        }
        for r in &stale {
            journal
                .step(
                    Step::RemoteRemoved {
                        vxlan: id.clone(),
                        remote: r.to_kernel(),
                    },
                    self.nl.remote_del(op, name, vx.index(), &r.to_kernel()),
                )
                .await?;
            changes.push(Change::RemoteRemoved {
                vxlan: vx.name().clone(),
                remote: *r,
            });
        }
        for (r, replace) in &missing {
            journal
                .step(
                    Step::RemoteAdded {
                        vxlan: id.clone(),
                        remote: r.to_kernel(),
                    },
                    self.nl
                        .remote_add(op, name, vx.index(), &r.to_kernel(), *replace),
                )
                .await?;
            changes.push(Change::RemoteAdded {
                vxlan: vx.name().clone(),
                remote: *r,
            });
        }
        if stale.is_empty() && missing.is_empty() {
            return Ok(());
        }
        let added: Vec<Remote> = missing.iter().map(|(r, _)| *r).collect();
        vx.check_remotes(op, &added, &stale).await
    }

    async fn converge_port(
        &self,
        op: Op,
        port: &PortRef,
        cfg: &PortConfig,
        changes: &mut Vec<Change>,
        journal: &mut Journal,
    ) -> Result<()> {
        let link = self.port_link(op, port).await?;
        if link.master != Some(self.index) {
            let attached = self.attach_one(&PortRef::Index(link.index), cfg).await?;
            journal.append(attached.journal);
            changes.push(Change::PortAttached(IfName::from_kernel(link.name)));
            return Ok(());
        }
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
            return Ok(());
        }
        // The attach takes itself back if it fails; once it succeeded, its
        // steps join this apply's journal.
        let attached = self.attach_one(&PortRef::Index(link.index), cfg).await?;
        journal.append(attached.journal);
        changes.push(Change::PortReconfigured(IfName::from_kernel(link.name)));
        Ok(())
    }
}
