//! Bridge ports: attach and detach, and the options of a port.

use macaddr::MacAddr6;
use tracing::warn;

use crate::bridge::Bridge;
use crate::bridge_vlan::VlanTarget;
use crate::complete::run_to_end;
use crate::error::{Error, Op, Result};
use crate::mac::validate_unicast;
use crate::name::IfName;
use crate::netlink::{LinkChange, LinkRef, LinkSnapshot, PortOptions, PortState};
use crate::vlan::{self, VlanId, VlanMember};

/// Largest port priority the kernel accepts (`BR_MAX_PORT_PRIORITY`).
const MAX_PORT_PRIORITY: u16 = 63;

/// Something that names a port: an interface name (`&str`, [`IfName`]) or an ifindex (`u32`).
///
/// ```
/// use bridgekit::ToPort;
/// assert!("vnet0".to_port().is_ok());
/// assert!("bad/name".to_port().is_err());
/// assert!(7u32.to_port().is_ok());
/// ```
pub trait ToPort {
    /// Validates and converts.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an invalid name or ifindex 0.
    fn to_port(self) -> Result<PortRef>;
}

/// A validated port reference, from [`ToPort`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortRef {
    /// By name.
    Name(IfName),
    /// By ifindex.
    Index(u32),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Name(n) => write!(f, "{n}"),
            PortRef::Index(i) => write!(f, "#{i}"),
        }
    }
}

impl ToPort for PortRef {
    fn to_port(self) -> Result<PortRef> {
        Ok(self)
    }
}
impl ToPort for &str {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(IfName::new(self)?))
    }
}
impl ToPort for IfName {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(self))
    }
}
impl ToPort for &IfName {
    fn to_port(self) -> Result<PortRef> {
        Ok(PortRef::Name(self.clone()))
    }
}
impl ToPort for u32 {
    fn to_port(self) -> Result<PortRef> {
        if self == 0 {
            return Err(Error::invalid("ifindex 0", "ifindexes start at 1"));
        }
        Ok(PortRef::Index(self))
    }
}

/// How a port should be configured when attached. Unset options keep the
/// kernel's defaults.
///
/// Mirrors `ip link set PORT type bridge_slave learning on|off flood on|off ...`,
/// `bridge vlan add` and `bridge fdb replace`.
///
/// ```
/// use bridgekit::{PortConfig, VlanId, VlanMember};
/// let cfg = PortConfig::new().learning(false).unicast_flood(false).cost(10).up();
/// // libvirt's "managed MAC table": no learning, no unicast flood, a static entry for the guest.
/// let guest = PortConfig::managed("52:54:00:12:34:56".parse().unwrap())
///     .vlan(VlanMember::access(VlanId::new(10).unwrap()))
///     .up();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use = "a port config changes nothing until it is passed to attach_port or a BridgeConfig"]
pub struct PortConfig {
    pub(crate) options: PortOptions,
    pub(crate) up: bool,
    pub(crate) vlans: Vec<VlanMember>,
    pub(crate) fdb: Vec<(MacAddr6, Option<VlanId>)>,
    pub(crate) managed: Option<MacAddr6>,
    pub(crate) allow_move: bool,
}

impl PortConfig {
    /// A port with the kernel's default options, left in its admin state.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A config that sets exactly `options`.
    pub(crate) fn from_options(options: PortOptions) -> Self {
        PortConfig {
            options,
            ..Self::default()
        }
    }

    /// libvirt's `macTableManager='libvirt'` for a guest NIC: learning and
    /// unicast flooding off, and a static FDB entry for `guest_mac` on the
    /// port, so the bridge forwards to the guest without learning. With a
    /// PVID among the port's [`vlan`](PortConfig::vlan)s, the entry is made in
    /// that VLAN (an entry without VLAN matches no frame once filtering is on).
    ///
    /// The kernel removes the entry when the port leaves the bridge.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::managed("52:54:00:12:34:56".parse().unwrap()).up();
    /// ```
    pub fn managed(guest_mac: MacAddr6) -> Self {
        let mut cfg = Self::new().learning(false).unicast_flood(false);
        cfg.managed = Some(guest_mac);
        cfg
    }

    /// Learn source MACs on this port (`learning on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().learning(false);
    /// ```
    pub fn learning(mut self, on: bool) -> Self {
        self.options.learning = Some(on);
        self
    }

    /// Flood unknown unicast to this port (`flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().unicast_flood(false);
    /// ```
    pub fn unicast_flood(mut self, on: bool) -> Self {
        self.options.unicast_flood = Some(on);
        self
    }

    /// Flood unknown multicast to this port (`mcast_flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().multicast_flood(false);
    /// ```
    pub fn multicast_flood(mut self, on: bool) -> Self {
        self.options.multicast_flood = Some(on);
        self
    }

    /// Flood broadcast to this port (`bcast_flood on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().broadcast_flood(false);
    /// ```
    pub fn broadcast_flood(mut self, on: bool) -> Self {
        self.options.broadcast_flood = Some(on);
        self
    }

    /// Send frames back out of the port they came in on (`hairpin on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().hairpin(true);
    /// ```
    pub fn hairpin(mut self, on: bool) -> Self {
        self.options.hairpin = Some(on);
        self
    }

    /// Isolated ports cannot talk to each other, only to non-isolated ones (`isolated on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().isolated(true);
    /// ```
    pub fn isolated(mut self, on: bool) -> Self {
        self.options.isolated = Some(on);
        self
    }

    /// ARP/ND suppression on this port (`neigh_suppress on|off`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().neigh_suppress(true);
    /// ```
    pub fn neigh_suppress(mut self, on: bool) -> Self {
        self.options.neigh_suppress = Some(on);
        self
    }

    /// STP path cost, 1..=65535 (`cost COST`; checked by `attach_port`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().cost(100);
    /// ```
    pub fn cost(mut self, cost: u32) -> Self {
        self.options.cost = Some(cost);
        self
    }

    /// STP port priority, 0..=63 (`priority PRIO`; checked by `attach_port`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().priority(8);
    /// ```
    pub fn priority(mut self, priority: u16) -> Self {
        self.options.priority = Some(priority);
        self
    }

    /// Bring the port up once attached (`ip link set PORT up`).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().up();
    /// ```
    pub fn up(mut self) -> Self {
        self.up = true;
        self
    }

    /// Adds a VLAN membership (repeatable; all are sent in one message, see
    /// [`Bridge::add_vlans`]). Needs a kernel with VLAN filtering.
    ///
    /// ```
    /// use bridgekit::{PortConfig, VlanMember, VlanRange};
    /// let trunk = PortConfig::new().vlan(VlanMember::tagged(VlanRange::new(100, 199).unwrap()));
    /// ```
    pub fn vlan(mut self, member: VlanMember) -> Self {
        self.vlans.push(member);
        self
    }

    /// Adds a static FDB entry on the port (repeatable; see [`Bridge::add_fdb`]).
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().fdb("52:54:00:00:00:01".parse().unwrap(), None);
    /// ```
    pub fn fdb(mut self, mac: MacAddr6, vlan: Option<VlanId>) -> Self {
        self.fdb.push((mac, vlan));
        self
    }

    /// Allows taking the port from another bridge. Without this a port of
    /// another bridge is [`Error::PortBusy`] (the kernel would move it
    /// silently). Moving loses what the old bridge had for the port (its
    /// VLANs and FDB entries); if the attach then fails, the port goes back
    /// to the old bridge with its old port options.
    ///
    /// ```
    /// let cfg = bridgekit::PortConfig::new().allow_move();
    /// ```
    pub fn allow_move(mut self) -> Self {
        self.allow_move = true;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(c) = self.options.cost {
            if !(1..=65535).contains(&c) {
                return Err(Error::invalid(
                    format!("port cost {c}"),
                    "must be within 1..=65535",
                ));
            }
        }
        if let Some(p) = self.options.priority {
            if p > MAX_PORT_PRIORITY {
                return Err(Error::invalid(
                    format!("port priority {p}"),
                    format!("must be within 0..={MAX_PORT_PRIORITY}"),
                ));
            }
        }
        if !self.vlans.is_empty() {
            vlan::validate(&self.vlans)?;
        }
        for (mac, _) in &self.fdb {
            validate_unicast(*mac)?;
        }
        if let Some(mac) = self.managed {
            validate_unicast(mac)?;
        }
        Ok(())
    }

    /// Whether attaching needs one change request at most (master, with up
    /// in the same message): no options, VLANs or FDB entries.
    fn single_change(&self) -> bool {
        self.options.is_empty() && self.vlans.is_empty() && self.fdb_entries().is_empty()
    }

    /// Every static FDB entry to add, the managed guest MAC included.
    pub(crate) fn fdb_entries(&self) -> Vec<(MacAddr6, Option<VlanId>)> {
        let mut entries = self.fdb.clone();
        if let Some(mac) = self.managed {
            let pvid = self.vlans.iter().find(|m| m.pvid).map(|m| m.range.start());
            if !entries.contains(&(mac, pvid)) {
                entries.push((mac, pvid));
            }
        }
        entries
    }
}

/// One port of a bridge with its state, options and VLANs, from
/// [`Bridge::ports`] (`bridge -d link show`, `bridge vlan show`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PortStatus {
    /// Name.
    pub name: String,
    /// Ifindex.
    pub index: u32,
    /// STP state (`forwarding`, `disabled`, ...).
    pub state: PortState,
    /// Administratively up.
    pub up: bool,
    /// Has carrier.
    pub carrier: bool,
    /// MAC of the port.
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::serde_data::ser::opt_mac")
    )]
    pub mac: Option<MacAddr6>,
    /// MTU.
    pub mtu: u32,
    /// `learning`.
    pub learning: bool,
    /// `flood`.
    pub unicast_flood: bool,
    /// `mcast_flood`.
    pub multicast_flood: bool,
    /// `bcast_flood`.
    pub broadcast_flood: bool,
    /// `hairpin`.
    pub hairpin: bool,
    /// `isolated`.
    pub isolated: bool,
    /// `neigh_suppress`.
    pub neigh_suppress: bool,
    /// STP path cost.
    pub cost: u32,
    /// STP port priority.
    pub priority: u16,
    /// VLAN memberships, compressed (empty without VLAN filtering support).
    pub vlans: Vec<VlanMember>,
}

impl PortStatus {
    fn new(link: LinkSnapshot, vlans: Vec<VlanMember>) -> Self {
        let o = link.port.unwrap_or_default();
        PortStatus {
            name: link.name,
            index: link.index,
            state: link.port_state.unwrap_or(PortState::Disabled),
            up: link.up,
            carrier: link.carrier,
            mac: link.mac,
            mtu: link.mtu,
            learning: o.learning.unwrap_or(false),
            unicast_flood: o.unicast_flood.unwrap_or(false),
            multicast_flood: o.multicast_flood.unwrap_or(false),
            broadcast_flood: o.broadcast_flood.unwrap_or(false),
            hairpin: o.hairpin.unwrap_or(false),
            isolated: o.isolated.unwrap_or(false),
            neigh_suppress: o.neigh_suppress.unwrap_or(false),
            cost: o.cost.unwrap_or(0),
            priority: o.priority.unwrap_or(0),
            vlans,
        }
    }
}

/// A port attach that succeeded, with the steps to take it back.
pub(crate) struct Attached {
    /// The port as it was before the attach.
    pub(crate) link: LinkSnapshot,
    undo: Vec<Undo>,
}

/// One step of an attach, and how to take it back.
enum Undo {
    /// The port's master was changed from `prev` (None: it had none);
    /// `options` are the old bridge's port options, to restore with it.
    Master {
        prev: Option<u32>,
        options: Option<PortOptions>,
    },
    /// Port options changed on a port that was already ours: the old values.
    Options(PortOptions),
    /// VLANs changed on a port that was already ours.
    Vlans {
        before: Vec<VlanMember>,
        members: Vec<VlanMember>,
    },
    /// A static FDB entry added.
    Fdb(MacAddr6, Option<VlanId>),
    /// The port was brought up from down.
    Up,
}

impl Bridge {
    pub(crate) async fn port_link(&self, op: Op, port: &PortRef) -> Result<LinkSnapshot> {
        let label = port.to_string();
        match port {
            PortRef::Name(n) => self.nl.link(op, &label, LinkRef::Name(n.as_str())).await,
            PortRef::Index(i) => self.nl.link(op, &label, LinkRef::Index(*i)).await,
        }
    }

    /// A port of this bridge, or [`Error::NotAPort`].
    pub(crate) async fn own_port(&self, op: Op, port: &PortRef) -> Result<LinkSnapshot> {
        let link = self.port_link(op, port).await?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: link.name,
                bridge: self.name.to_string(),
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
    /// Options travel in RTM_NEWLINK (RTM_SETLINK ignores them); they are
    /// read back on kernels older than 4.18, which drop options they do not
    /// know with an Ok (newer ones apply them or answer an error), and VLANs
    /// are always read back. If any step fails, every step already done
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
    /// The steps run on a task of their own: dropping this future does not
    /// stop them halfway. The port ends fully attached and configured, or
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "attach_port", iface = %self.name), err(Display))]
    pub async fn attach_port(&self, port: impl ToPort, config: PortConfig) -> Result<()> {
        let port = port.to_port()?;
        config.validate()?;
        if config.single_change() {
            // A lookup and at most one change request: a dropped future has
            // sent it or not, so no task of its own is needed.
            return self.attach_one(&port, &config).await.map(drop);
        }
        let this = self.clone();
        run_to_end(&self.nl, Op::AttachPort, &port.to_string(), async move {
            this.attach_one(&port, &config).await.map(drop)
        })
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
        let op = Op::AttachPort;
        let link = self.port_link(op, port).await?;
        let label = link.name.clone();
        if link.index == self.index {
            return Err(Error::invalid(
                format!("port {label}"),
                "a bridge cannot be its own port",
            ));
        }
        if link.is_bridge() {
            return Err(Error::invalid(
                format!("port {label}"),
                "is a bridge; bridges cannot be nested",
            ));
        }
        if let Some(other) = link.master.filter(|m| *m != self.index) {
            if !config.allow_move {
                let bridge = match self.nl.link(op, &label, LinkRef::Index(other)).await {
                    Ok(l) => l.name,
                    Err(_) => format!("#{other}"),
                };
                return Err(Error::PortBusy {
                    op,
                    port: label,
                    bridge,
                });
            }
        }
        let mut undo = Vec::new();
        let result = self.configure_port(&link, config, &mut undo).await;
        let attached = Attached { link, undo };
        if let Err(e) = result {
            self.undo_attach(attached).await;
            return Err(e);
        }
        Ok(attached)
    }

    async fn configure_port(
        &self,
        link: &LinkSnapshot,
        config: &PortConfig,
        undo: &mut Vec<Undo>,
    ) -> Result<()> {
        let (label, index) = (link.name.as_str(), link.index);
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
            && config.fdb_entries().is_empty();
        if !already_ours {
            let change = LinkChange {
                master: Some(self.index),
                up: up_with_master.then_some(true),
                ..LinkChange::default()
            };
            if up_with_master {
                undo.push(Undo::Up);
            }
            undo.push(Undo::Master {
                prev: link.master,
                options: link.port,
            });
            self.nl
                .set_link(Op::AttachPort, label, index, &change)
                .await?;
        }
        if !config.options.is_empty() {
            if already_ours {
                let old = link.port.unwrap_or_default();
                undo.push(Undo::Options(config.options.previous(&old)));
            }
            self.nl
                .set_port_options(Op::SetPortOptions, label, index, &config.options)
                .await?;
            // RTM_NEWLINK drops a port option an older kernel does not
            // know and still says Ok: read the options back there. Newer
            // kernels apply every option we send or answer with an error,
            // as do the other steps here.
            if self.nl.port_options_need_read_back() {
                self.check_port_options(label, index, &config.options)
                    .await?;
            }
        }
        if !config.vlans.is_empty() {
            let target = VlanTarget {
                name: label.to_string(),
                index,
                bridge_self: false,
            };
            let before = self.apply_vlans(&target, &config.vlans).await?;
            if already_ours {
                undo.push(Undo::Vlans {
                    before,
                    members: config.vlans.clone(),
                });
            }
        }
        for (mac, vlan) in config.fdb_entries() {
            self.nl.fdb_add(Op::AddFdb, label, index, mac, vlan).await?;
            undo.push(Undo::Fdb(mac, vlan));
        }
        if bring_up && !up_with_master {
            let up = LinkChange {
                up: Some(true),
                ..LinkChange::default()
            };
            undo.push(Undo::Up);
            self.nl.set_link(Op::SetUp, label, index, &up).await?;
        }
        Ok(())
    }

    /// Gives a port back its old master (`None`: no master) and, on a
    /// bridge, its old port options.
    pub(crate) async fn put_back(
        &self,
        label: &str,
        index: u32,
        master: Option<u32>,
        options: Option<PortOptions>,
    ) -> Result<()> {
        let back = LinkChange {
            master: Some(master.unwrap_or(0)),
            ..LinkChange::default()
        };
        self.nl
            .set_link(Op::DetachPort, label, index, &back)
            .await?;
        match (master, options) {
            (Some(_), Some(opts)) if !opts.is_empty() => {
                self.nl
                    .set_port_options(Op::SetPortOptions, label, index, &opts)
                    .await
            }
            _ => Ok(()),
        }
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
                    && crate::kernel::port_option_since(what)
                        .is_some_and(|since| !since.is_running()) =>
            {
                let since = crate::kernel::port_option_since(what)
                    .map_or_else(String::new, |v| v.to_string());
                let running = crate::kernel::KernelVersion::running()
                    .map_or_else(|| "older".to_string(), |v| v.to_string());
                Err(Error::Unsupported {
                    op: Op::SetPortOptions,
                    iface: label.to_string(),
                    detail: format!(
                        "port option {what} needs Linux {since}; this kernel is {running}"
                    ),
                })
            }
            Some((what, want, got)) => Err(Error::NotApplied {
                op: Op::SetPortOptions,
                iface: label.to_string(),
                what: what.to_string(),
                expected: want,
                actual: got,
            }),
            None => Ok(()),
        }
    }

    /// Takes back the steps of an attach, last first; best effort,
    /// failures are logged (the first error is what the caller gets).
    pub(crate) async fn undo_attach(&self, attached: Attached) {
        let Attached { link, undo } = attached;
        let (label, index) = (link.name.as_str(), link.index);
        // Leaving the bridge drops the port's VLANs and FDB entries with it.
        let detaching = undo
            .iter()
            .any(|u| matches!(u, Undo::Master { prev: None, .. }));
        for step in undo.into_iter().rev() {
            let result = match step {
                Undo::Up => {
                    let down = LinkChange {
                        up: Some(false),
                        ..LinkChange::default()
                    };
                    self.nl.set_link(Op::SetDown, label, index, &down).await
                }
                Undo::Fdb(..) | Undo::Vlans { .. } | Undo::Options(_) if detaching => Ok(()),
                Undo::Fdb(mac, vlan) => {
                    self.nl
                        .fdb_del(Op::RemoveFdb, label, index, mac, vlan)
                        .await
                }
                Undo::Vlans { before, members } => {
                    let target = VlanTarget {
                        name: label.to_string(),
                        index,
                        bridge_self: false,
                    };
                    self.restore_vlans(&target, &before, &members).await;
                    Ok(())
                }
                Undo::Options(old) => {
                    self.nl
                        .set_port_options(Op::SetPortOptions, label, index, &old)
                        .await
                }
                Undo::Master { prev, options } => self.put_back(label, index, prev, options).await,
            };
            if let Err(e) = result {
                warn!(port = %label, bridge = %self.name, error = %e, "could not undo a step of a failed attach");
            }
        }
    }

    /// Detaches a port (`ip link set PORT nomaster`). The kernel drops the
    /// port's VLANs and FDB entries (static ones included) with it.
    ///
    /// # Cancellation
    /// One lookup and one change: a dropped future has either sent the
    /// change (the port is detached) or not (nothing changed).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::NotAPort`] if it is not a port of this
    /// bridge (nothing sent beyond the lookup).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.detach_port("vnet0").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "detach_port", iface = %self.name), err(Display))]
    pub async fn detach_port(&self, port: impl ToPort) -> Result<()> {
        let port = port.to_port()?;
        let op = Op::DetachPort;
        let _membership = self.nl.membership().await;
        let link = self.own_port(op, &port).await?;
        let change = LinkChange {
            master: Some(0),
            ..LinkChange::default()
        };
        // The acknowledgement is truthful: the kernel either releases the
        // port or answers with an error.
        self.nl.set_link(op, &link.name, link.index, &change).await
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
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "ports", iface = %self.name), err(Display))]
    pub async fn ports(&self) -> Result<Vec<PortStatus>> {
        let name = self.name.as_str();
        let links = self
            .nl
            .links_with_master(Op::ListPorts, name, self.index)
            .await?;
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
        Ok(links
            .into_iter()
            .map(|l| {
                let v = vlans.remove(&l.index).unwrap_or_default();
                PortStatus::new(l, v)
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
