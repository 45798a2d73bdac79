//! The bridge's forwarding database (FDB): static entries and listing.

use macaddr::MacAddr6;

use crate::bridge::Bridge;
use crate::bridge::port::ToPort;
use crate::error::{Op, Result};
use crate::netlink::FdbSnapshot;
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::name::IfName;
use crate::values::vlan::VlanId;

/// What kind of FDB entry this is (`bridge fdb show` prints it as the state).
///
/// ```
/// assert_eq!(bridgekit::FdbKind::Static.to_string(), "static");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FdbKind {
    /// A static entry (NUD_NOARP): forwards to the port, never ages.
    Static,
    /// A local address (NUD_PERMANENT): frames to it are delivered to the
    /// host, not forwarded. The kernel adds one for each port's own MAC.
    Local,
    /// Learned from traffic; ages out.
    Learned,
    /// Installed by a control plane outside the bridge (`extern_learn`):
    /// FRR's zebra from BGP EVPN, or a switchdev driver.
    ExternLearned,
}

impl std::fmt::Display for FdbKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FdbKind::Static => "static",
            FdbKind::Local => "permanent",
            FdbKind::Learned => "learned",
            FdbKind::ExternLearned => "extern_learn",
        })
    }
}

/// One entry of a bridge's FDB, from [`Bridge::fdb`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct FdbEntry {
    /// The MAC.
    #[cfg_attr(feature = "serde", serde(serialize_with = "crate::values::ser::mac"))]
    pub mac: MacAddr6,
    /// The port it points to (or the bridge itself, for the bridge's own addresses).
    pub port: IfName,
    /// That port's ifindex.
    pub port_index: u32,
    /// The VLAN, when the entry is per-VLAN.
    pub vlan: Option<VlanId>,
    /// Static, local or learned.
    pub kind: FdbKind,
}

impl FdbEntry {
    /// The entry `e`, whose port is called `port`.
    pub(crate) fn new(e: &FdbSnapshot, port: String) -> Self {
        FdbEntry {
            mac: e.mac,
            port: IfName::from_kernel(port),
            port_index: e.port,
            vlan: e.vlan,
            kind: if e.extern_learn {
                FdbKind::ExternLearned
            } else if e.local {
                FdbKind::Local
            } else if e.is_static {
                FdbKind::Static
            } else {
                FdbKind::Learned
            },
        }
    }
}

fn entry_label(mac: MacAddr6, vlan: Option<VlanId>) -> String {
    match vlan {
        Some(v) => format!("FDB entry {mac} vlan {v}"),
        None => format!("FDB entry {mac}"),
    }
}

impl Bridge {
    /// Adds (or moves here) a static FDB entry: frames for `mac` (in `vlan`,
    /// if given) go out of `port` only (`bridge fdb replace MAC dev PORT
    /// master static [vlan VID]`).
    ///
    /// An entry for the same MAC and VLAN elsewhere (e.g. learned on another
    /// port) is replaced, so calling this twice is harmless. The entry is
    /// static, not `permanent`: a permanent entry would mean "this MAC is
    /// the host's own" and frames to it would stop at the bridge. The
    /// kernel removes a port's entries when the port leaves the bridge.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for a multicast or zero MAC (nothing sent);
    /// [`Error::NotFound`](crate::Error::NotFound); [`Error::NotAPort`](crate::Error::NotAPort) if `port` is not a port of
    /// this bridge; a kernel error (EINVAL) for a VLAN the port is not a
    /// member of.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_fdb("vnet0", "52:54:00:12:34:56", None).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddFdb.name(), iface = %self.name), err(Display))]
    pub async fn add_fdb(
        &self,
        port: impl ToPort,
        mac: impl ToMac,
        vlan: Option<VlanId>,
    ) -> Result<()> {
        let port = port.to_port()?;
        let mac = mac.to_mac()?;
        let mac = validate_unicast(mac)?;
        let link = self.own_port(Op::AddFdb, &port).await?;
        self.nl
            .fdb_add(Op::AddFdb, &link.name, link.index, mac, vlan)
            .await
    }

    /// Removes a static (or learned) FDB entry of `port` (`bridge fdb del
    /// MAC dev PORT master [vlan VID]`).
    ///
    /// # Errors
    /// [`Error::NoSuchEntry`](crate::Error::NoSuchEntry) if there is no such entry; [`Error::NotFound`](crate::Error::NotFound);
    /// [`Error::NotAPort`](crate::Error::NotAPort).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_fdb("vnet0", "52:54:00:12:34:56", None).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::RemoveFdb.name(), iface = %self.name), err(Display))]
    pub async fn remove_fdb(
        &self,
        port: impl ToPort,
        mac: impl ToMac,
        vlan: Option<VlanId>,
    ) -> Result<()> {
        let port = port.to_port()?;
        let mac = mac.to_mac()?;
        let link = self.own_port(Op::RemoveFdb, &port).await?;
        self.nl
            .fdb_del(Op::RemoveFdb, &link.name, link.index, mac, vlan)
            .await
            .map_err(|e| e.fdb_absent(entry_label(mac, vlan)))
    }

    /// The bridge's FDB: static, local and learned entries of its ports and
    /// of the bridge itself (`bridge fdb show br BRIDGE`, master entries).
    /// The kernel filters the dump to this bridge.
    ///
    /// # Errors
    /// Kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// for e in br.fdb().await? {
    ///     println!("{} on {} ({})", e.mac, e.port, e.kind);
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListFdb.name(), iface = %self.name), err(Display))]
    pub async fn fdb(&self) -> Result<Vec<FdbEntry>> {
        let name = self.name.as_str();
        let entries = self
            .nl
            .fdb_dump(Op::ListFdb, name, self.index, None)
            .await?;
        let ports = self
            .nl
            .links_with_master(Op::ListFdb, name, self.index)
            .await?;
        let port_name = |index: u32| {
            if index == self.index {
                return self.name.to_string();
            }
            ports
                .iter()
                .find(|p| p.index == index)
                .map_or_else(|| format!("#{index}"), |p| p.name.clone())
        };
        Ok(entries
            .into_iter()
            .map(|e| FdbEntry::new(&e, port_name(e.port)))
            .collect())
    }
}
