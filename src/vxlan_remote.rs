//! Remote VTEPs of a VXLAN device: the flood list (the all-zero MAC, one
//! entry per destination: where broadcast, unknown unicast and multicast
//! go) and per-MAC entries (a guest MAC behind one VTEP). `bridge fdb
//! append 00:00:00:00:00:00 dev VXLAN dst IP` and `bridge fdb add MAC dev
//! VXLAN dst IP`, each one request, checked before and read back after.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use macaddr::MacAddr6;
use tracing::warn;

use crate::complete::run_to_end;
use crate::error::{Error, Op, Result};
use crate::mac::{ToMac, validate_unicast};
use crate::name::IfName;
use crate::netlink::RemoteSnapshot;
use crate::vxlan::{Vni, Vxlan};

/// One remote entry of a VXLAN device: a destination VTEP, for the flood
/// list or for one MAC, with an optional VNI and UDP port that override
/// the device's.
///
/// ```
/// use bridgekit::{Remote, Vni};
/// let flood = Remote::flood("192.0.2.2".parse()?);
/// let one = Remote::for_mac("52:54:00:12:34:56", "192.0.2.3".parse()?).vni(Vni::new(100)?);
/// assert!(flood.is_flood());
/// assert_eq!(one.to_string(), "52:54:00:12:34:56 -> 192.0.2.3 vni 100");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Remote {
    mac: MacAddr6,
    dst: IpAddr,
    vni: Option<Vni>,
    port: Option<u16>,
    src_vni: Option<Vni>,
    extern_learn: bool,
    bad_mac: bool,
}

impl Remote {
    /// A flood-list entry: broadcast, unknown unicast and multicast frames
    /// go (also) to `dst`.
    ///
    /// ```
    /// let r = bridgekit::Remote::flood("192.0.2.2".parse()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn flood(dst: IpAddr) -> Remote {
        Remote {
            mac: MacAddr6::nil(),
            dst,
            vni: None,
            port: None,
            src_vni: None,
            extern_learn: false,
            bad_mac: false,
        }
    }

    /// A per-MAC entry: frames for `mac` go to `dst` only. A MAC that does
    /// not parse, or is not unicast, is refused when the entry is used.
    ///
    /// ```
    /// let r = bridgekit::Remote::for_mac("52:54:00:12:34:56", "192.0.2.3".parse()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn for_mac(mac: impl ToMac, dst: IpAddr) -> Remote {
        let (mac, bad_mac) = match mac.to_mac() {
            Ok(m) => (m, validate_unicast(m).is_err()),
            Err(_) => (MacAddr6::nil(), true),
        };
        Remote {
            mac,
            dst,
            vni: None,
            port: None,
            src_vni: None,
            extern_learn: false,
            bad_mac,
        }
    }

    /// The VNI to use towards this VTEP (`vni N`), if not the device's.
    ///
    /// ```
    /// let r = bridgekit::Remote::flood("192.0.2.2".parse()?).vni(bridgekit::Vni::new(200)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn vni(mut self, vni: Vni) -> Remote {
        self.vni = Some(vni);
        self
    }

    /// The UDP port of this VTEP (`port N`), if not the device's; 0 is
    /// refused when the entry is used.
    ///
    /// ```
    /// let r = bridgekit::Remote::flood("192.0.2.2".parse()?).port(4790);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn port(mut self, port: u16) -> Remote {
        self.port = Some(port);
        self
    }

    /// The segment this entry serves on a device in external mode
    /// (`src_vni N`): the VNI a frame's metadata carries (from its VLAN on
    /// a `vlan_tunnel` port). Refused on a device with a VNI of its own.
    ///
    /// ```
    /// let r = bridgekit::Remote::flood("192.0.2.2".parse()?).src_vni(bridgekit::Vni::new(1010)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn src_vni(mut self, vni: Vni) -> Remote {
        self.src_vni = Some(vni);
        self
    }

    /// The segment override of an external device's entry, if any.
    ///
    /// ```
    /// assert_eq!(bridgekit::Remote::flood("192.0.2.2".parse()?).src_vni_of(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn src_vni_of(&self) -> Option<Vni> {
        self.src_vni
    }

    /// The MAC (all zeros for the flood list).
    ///
    /// ```
    /// assert!(bridgekit::Remote::flood("192.0.2.2".parse()?).mac().is_nil());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn mac(&self) -> MacAddr6 {
        self.mac
    }

    /// The destination VTEP.
    ///
    /// ```
    /// let r = bridgekit::Remote::flood("192.0.2.2".parse()?);
    /// assert_eq!(r.dst().to_string(), "192.0.2.2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dst(&self) -> IpAddr {
        self.dst
    }

    /// The VNI override, if any.
    ///
    /// ```
    /// assert_eq!(bridgekit::Remote::flood("192.0.2.2".parse()?).vni_override(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn vni_override(&self) -> Option<Vni> {
        self.vni
    }

    /// The UDP port override, if any.
    ///
    /// ```
    /// assert_eq!(bridgekit::Remote::flood("192.0.2.2".parse()?).port_override(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn port_override(&self) -> Option<u16> {
        self.port
    }

    /// Whether this is a flood-list entry (the all-zero MAC).
    ///
    /// ```
    /// assert!(bridgekit::Remote::flood("192.0.2.2".parse()?).is_flood());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_flood(&self) -> bool {
        self.mac.is_nil()
    }

    /// Whether a control plane installed it (`extern_learn`: zebra's EVPN
    /// entries); only in what [`Vxlan::remotes`] reads.
    ///
    /// ```
    /// assert!(!bridgekit::Remote::flood("192.0.2.2".parse()?).is_extern_learned());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_extern_learned(&self) -> bool {
        self.extern_learn
    }

    /// The same entry: MAC, destination, VNI and port (not who made it).
    pub(crate) fn same(&self, other: &Remote) -> bool {
        self.key() == other.key()
    }

    fn key(&self) -> (MacAddr6, IpAddr, Option<Vni>, Option<u16>, Option<Vni>) {
        (self.mac, self.dst, self.vni, self.port, self.src_vni)
    }

    pub(crate) fn slot(&self) -> Slot {
        if self.is_flood() {
            Slot::Flood(self.dst, self.src_vni)
        } else {
            Slot::Mac(self.mac, self.src_vni)
        }
    }

    pub(crate) fn to_kernel(self) -> RemoteSnapshot {
        RemoteSnapshot {
            mac: self.mac,
            dst: self.dst,
            vni: self.vni.map(Vni::get),
            port: self.port,
            src_vni: self.src_vni.map(Vni::get),
            extern_learn: false,
        }
    }

    pub(crate) fn from_kernel(r: RemoteSnapshot) -> Remote {
        Remote {
            mac: r.mac,
            dst: r.dst,
            vni: r.vni.and_then(|v| Vni::new(v).ok()),
            port: r.port,
            src_vni: r.src_vni.and_then(|v| Vni::new(v).ok()),
            extern_learn: r.extern_learn,
            bad_mac: false,
        }
    }

    /// Everything that needs no kernel, against the device `vx`.
    fn validate(&self, vx: &Vxlan) -> Result<()> {
        self.validate_for(&vx.name, vx.local, vx.is_external())
    }

    /// Everything that needs no kernel, for a device `name` with the local
    /// address `local`, in external mode or not.
    pub(crate) fn validate_for(
        &self,
        name: &IfName,
        local: Option<IpAddr>,
        external: bool,
    ) -> Result<()> {
        let vx = Named { name, local };
        if self.src_vni.is_some() && !external {
            return Err(Error::invalid(
                format!("remote {self} on {}", vx.name),
                "src_vni is for a device in external mode; this one has a VNI of its own",
            ));
        }
        if self.bad_mac {
            return Err(Error::invalid(
                format!("remote MAC of {} -> {}", vx.name, self.dst),
                "must be a unicast MAC (use Remote::flood for the flood list)",
            ));
        }
        if self.dst.is_unspecified() || self.dst.is_loopback() {
            return Err(Error::invalid(
                format!("remote VTEP {} on {}", self.dst, vx.name),
                "must be a unicast or multicast address of another host",
            ));
        }
        if let Some(local) = vx.local {
            if local.is_ipv4() != self.dst.is_ipv4() {
                return Err(Error::invalid(
                    format!("remote VTEP {} on {}", self.dst, vx.name),
                    format!("is not of the family of the local address {local}"),
                ));
            }
        }
        if self.port == Some(0) {
            return Err(Error::invalid(
                format!("UDP port of remote {self} on {}", vx.name),
                "must be within 1..=65535",
            ));
        }
        Ok(())
    }
}

/// `00:00:00:00:00:00 -> 192.0.2.2`, `52:54:00:12:34:56 -> 192.0.2.3 vni 100 port 4790`.
impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", crate::mac::lower(self.mac), self.dst)?;
        if let Some(v) = self.vni {
            write!(f, " vni {v}")?;
        }
        if let Some(p) = self.port {
            write!(f, " port {p}")?;
        }
        if let Some(v) = self.src_vni {
            write!(f, " src_vni {v}")?;
        }
        Ok(())
    }
}

impl Vxlan {
    /// Adds one remote (`bridge fdb append` for the flood list, `bridge fdb
    /// add` for a MAC): one request, then read back.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad entry (a MAC that is not unicast,
    /// an unspecified or loopback destination, a family other than the
    /// local address's, port 0) or one that is already there — a
    /// duplicate, or another destination for the same MAC — with nothing
    /// changed; [`Error::NotApplied`] if the read-back does not find it.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// vx.add_remote(bridgekit::Remote::flood("192.0.2.2".parse()?)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "add_remote", iface = %self.name), err(Display))]
    pub async fn add_remote(&self, remote: Remote) -> Result<()> {
        self.add_remotes([remote]).await
    }

    /// Adds several remotes, all or nothing: each is checked first
    /// (against each other and against what the device has), then added
    /// one request each; if one fails, those added are removed again and
    /// the first error returned (with any removal that failed). Runs to
    /// its end even if its future is dropped.
    ///
    /// # Errors
    /// As [`add_remote`](Self::add_remote); [`Error::UndoFailed`].
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// use bridgekit::Remote;
    /// vx.add_remotes([Remote::flood("192.0.2.2".parse()?), Remote::flood("192.0.2.3".parse()?)]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "add_remotes", iface = %self.name), err(Display))]
    pub async fn add_remotes(&self, remotes: impl IntoIterator<Item = Remote>) -> Result<()> {
        let remotes: Vec<Remote> = remotes.into_iter().collect();
        let mut seen = HashSet::with_capacity(remotes.len());
        for r in &remotes {
            r.validate(self)?;
            if !seen.insert(r.slot()) {
                return Err(Error::invalid(
                    format!("remote {r} on {}", self.name),
                    "is listed twice (or its MAC twice) in one call",
                ));
            }
        }
        if remotes.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        run_to_end(&self.nl, async move { this.add_all(remotes).await }).await
    }

    pub(crate) async fn add_all(&self, remotes: Vec<Remote>) -> Result<()> {
        let op = Op::AddRemote;
        let have = self.remotes_as(op).await?;
        let taken: HashMap<Slot, &Remote> = have.iter().map(|o| (o.slot(), o)).collect();
        for r in &remotes {
            if let Some(old) = taken.get(&r.slot()) {
                let reason = if old.same(r) {
                    "is already there".to_string()
                } else {
                    format!("conflicts with {old}, already there (a MAC has one VTEP)")
                };
                return Err(Error::invalid(
                    format!("remote {r} on {}", self.name),
                    reason,
                ));
            }
        }
        let mut added: Vec<Remote> = Vec::with_capacity(remotes.len());
        let mut result = Ok(());
        for r in &remotes {
            match self
                .nl
                .remote_add(op, self.name.as_str(), self.index, &r.to_kernel())
                .await
            {
                Ok(()) => added.push(*r),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.check_present(op, &remotes).await;
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut failed = Vec::new();
                for r in added.iter().rev() {
                    if let Err(undo) = self
                        .nl
                        .remote_del(
                            Op::RemoveRemote,
                            self.name.as_str(),
                            self.index,
                            &r.to_kernel(),
                        )
                        .await
                    {
                        warn!(vxlan = %self.name, remote = %r, error = %undo, "could not remove a remote after a failed add");
                        failed.push(undo);
                    }
                }
                Err(e.with_undo_failures(failed))
            }
        }
    }

    /// Removes one remote (for the flood list, that destination only).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad entry; [`Error::NotFound`] if the
    /// device has no such remote (nothing sent);
    /// [`Error::NotApplied`] if it is still there after.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// vx.remove_remote(bridgekit::Remote::flood("192.0.2.2".parse()?)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "remove_remote", iface = %self.name), err(Display))]
    pub async fn remove_remote(&self, remote: Remote) -> Result<()> {
        remote.validate(self)?;
        let op = Op::RemoveRemote;
        let have = self.remotes_as(op).await?;
        if !have.iter().any(|r| r.same(&remote)) {
            return Err(Error::NotFound {
                op,
                iface: format!("{} (remote {remote})", self.name),
                errno: None,
            });
        }
        self.nl
            .remote_del(op, self.name.as_str(), self.index, &remote.to_kernel())
            .await?;
        self.check_remotes(op, &[], &[remote]).await
    }

    /// The device's remotes: the flood list and the per-MAC entries, with
    /// those a control plane installed marked
    /// ([`Remote::is_extern_learned`]). Entries the device learned from
    /// received frames are included too.
    ///
    /// # Errors
    /// Kernel errors.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// for r in vx.remotes().await? {
    ///     println!("{r}");
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "remotes", iface = %self.name), err(Display))]
    pub async fn remotes(&self) -> Result<Vec<Remote>> {
        self.remotes_as(Op::ListRemotes).await
    }

    /// Reads the remotes back: each of `remotes` must be there.
    pub(crate) async fn check_present(&self, op: Op, remotes: &[Remote]) -> Result<()> {
        self.check_remotes(op, remotes, &[]).await
    }

    /// Reads the remotes back once: each of `present` must be there, none
    /// of `absent`.
    pub(crate) async fn check_remotes(
        &self,
        op: Op,
        present: &[Remote],
        absent: &[Remote],
    ) -> Result<()> {
        let now: HashSet<_> = self.remotes_as(op).await?.iter().map(Remote::key).collect();
        let wrong = present
            .iter()
            .find(|r| !now.contains(&r.key()))
            .map(|r| (r, "present", "absent"))
            .or_else(|| {
                absent
                    .iter()
                    .find(|r| now.contains(&r.key()))
                    .map(|r| (r, "absent", "present"))
            });
        match wrong {
            None => Ok(()),
            Some((r, expected, actual)) => Err(Error::NotApplied {
                op,
                iface: self.name.to_string(),
                what: format!("remote {r}"),
                expected: expected.into(),
                actual: actual.into(),
            }),
        }
    }

    pub(crate) async fn remotes_as(&self, op: Op) -> Result<Vec<Remote>> {
        Ok(self
            .nl
            .remote_dump(op, self.name.as_str(), self.index)
            .await?
            .into_iter()
            .map(Remote::from_kernel)
            .collect())
    }
}

/// What `validate_for` needs of a device.
struct Named<'a> {
    name: &'a IfName,
    local: Option<IpAddr>,
}

/// Where an entry goes in a device's FDB: two entries with the same slot
/// cannot both be added (the same flood destination, or a second VTEP for
/// one MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Slot {
    Flood(IpAddr, Option<Vni>),
    Mac(MacAddr6, Option<Vni>),
}
