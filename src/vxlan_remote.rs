//! Remote VTEPs of a VXLAN device: the flood list (the all-zero MAC, one
//! entry per destination: where broadcast, unknown unicast and multicast
//! go) and per-MAC entries (a guest MAC behind one VTEP). `bridge fdb
//! append 00:00:00:00:00:00 dev VXLAN dst IP` and `bridge fdb add MAC dev
//! VXLAN dst IP`, each one request, checked before and read back after.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use macaddr::MacAddr6;
use tracing::warn;

use crate::complete::run_to_end;
use crate::error::{Error, Op, Result};
use crate::mac::{ToMac, validate_unicast};
use crate::name::IfName;
use crate::netlink::{RemoteOrigin, RemoteSnapshot};
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
    kind: RemoteKind,
    bad_mac: Option<BadMac>,
}

/// What kind of entry a remote is, as the kernel keeps it
/// ([`Remote::kind`]). Only [`Static`](RemoteKind::Static) entries are
/// remotes in the sense of a config: what [`BridgeConfig::apply`](crate::BridgeConfig::apply)
/// adds, and (unless the config says the device's remotes are shared,
/// [`VxlanConfig::shared_remotes`](crate::VxlanConfig::shared_remotes))
/// removes when undeclared. The other kinds are never removed by `apply`.
///
/// ```
/// use bridgekit::{Remote, RemoteKind};
/// // An entry built here is what bridgekit writes: a static one.
/// assert_eq!(Remote::flood("192.0.2.2".parse()?).kind(), RemoteKind::Static);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemoteKind {
    /// Static (`permanent`: NUD_PERMANENT or NUD_NOARP), written by
    /// bridgekit, iproute2's `bridge fdb add|append`, or zebra's EVPN
    /// flood list. The kernel does not keep who wrote one: its state is
    /// one per MAC, so the flood list's destinations all read as whoever
    /// appended last.
    Static,
    /// Learned by the device from a received frame (learning on): it ages
    /// out, and the device may learn it again elsewhere. `apply` never
    /// removes one; a declared remote for its MAC replaces it with a
    /// static entry (pins it).
    Learned,
    /// Installed by a control plane as `extern_learn` (zebra's EVPN
    /// MACs). `apply` never removes one.
    ExternLearned,
}

impl RemoteKind {
    fn from_origin(o: RemoteOrigin) -> RemoteKind {
        match o {
            RemoteOrigin::Static => RemoteKind::Static,
            RemoteOrigin::Learned => RemoteKind::Learned,
            RemoteOrigin::ExternLearned => RemoteKind::ExternLearned,
        }
    }
}

/// `static`, `learned`, `extern_learn`: as `bridge fdb` words them.
impl fmt::Display for RemoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RemoteKind::Static => "static",
            RemoteKind::Learned => "learned",
            RemoteKind::ExternLearned => "extern_learn",
        })
    }
}

/// A MAC given to [`Remote::for_mac`] that cannot be one, kept (with its
/// text, up to 40 bytes) for the error that the entry's use returns. A
/// `Remote` is `Copy`, hence the inline buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BadMac {
    text: [u8; 40],
    len: u8,
    /// It parsed, but is not unicast.
    parsed: bool,
}

impl BadMac {
    fn new(text: &str, parsed: bool) -> BadMac {
        let mut end = text.len().min(40);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = [0u8; 40];
        buf[..end].copy_from_slice(&text.as_bytes()[..end]);
        BadMac {
            text: buf,
            len: end as u8,
            parsed,
        }
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or("?")
    }
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
            kind: RemoteKind::Static,
            bad_mac: None,
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
            Ok(m) => (
                m,
                validate_unicast(m)
                    .err()
                    .map(|_| BadMac::new(&crate::mac::lower(m), true)),
            ),
            // The parse error names the text given: `MAC address "zz"`.
            Err(Error::InvalidInput { what, .. }) => {
                (MacAddr6::nil(), Some(BadMac::new(&what, false)))
            }
            Err(e) => (MacAddr6::nil(), Some(BadMac::new(&e.to_string(), false))),
        };
        Remote {
            mac,
            dst,
            vni: None,
            port: None,
            src_vni: None,
            kind: RemoteKind::Static,
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

    /// What kind of entry it is, as the device's FDB says: static, learned
    /// by the device, or a control plane's (`extern_learn`). An entry
    /// built with [`flood`](Self::flood) or [`for_mac`](Self::for_mac) is
    /// [`RemoteKind::Static`]: what bridgekit writes.
    ///
    /// ```
    /// let r = bridgekit::Remote::for_mac("52:54:00:12:34:56", "192.0.2.3".parse()?);
    /// assert_eq!(r.kind(), bridgekit::RemoteKind::Static);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> RemoteKind {
        self.kind
    }

    /// Whether a control plane installed it (`extern_learn`: zebra's EVPN
    /// entries); only in what [`Vxlan::remotes`] reads. The same as
    /// `kind() == RemoteKind::ExternLearned`.
    ///
    /// ```
    /// assert!(!bridgekit::Remote::flood("192.0.2.2".parse()?).is_extern_learned());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_extern_learned(&self) -> bool {
        self.kind == RemoteKind::ExternLearned
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
            origin: RemoteOrigin::Static,
        }
    }

    pub(crate) fn from_kernel(r: RemoteSnapshot) -> Remote {
        Remote {
            mac: r.mac,
            dst: r.dst,
            vni: r.vni.and_then(|v| Vni::new(v).ok()),
            port: r.port,
            src_vni: r.src_vni.and_then(|v| Vni::new(v).ok()),
            kind: RemoteKind::from_origin(r.origin),
            bad_mac: None,
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
        if let Some(bad) = &self.bad_mac {
            return Err(if bad.parsed {
                Error::invalid(
                    format!("remote MAC {} of {} (-> {})", bad.text(), vx.name, self.dst),
                    "must be a unicast MAC (use Remote::flood for the flood list)",
                )
            } else {
                Error::invalid(
                    format!("remote {} of {} (-> {})", bad.text(), vx.name, self.dst),
                    "expected six hex bytes separated by ':' (52:54:00:12:34:56)",
                )
            });
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
        let mut pin = Vec::with_capacity(remotes.len());
        for r in &remotes {
            match meets(r, &have) {
                Meets::Nothing => pin.push(false),
                Meets::Learned => pin.push(true),
                Meets::Present(old) => {
                    let reason = match old.kind {
                        RemoteKind::Static => "is already there".to_string(),
                        kind => format!("is already there, as an {kind} entry"),
                    };
                    return Err(Error::invalid(
                        format!("remote {r} on {}", self.name),
                        reason,
                    ));
                }
                Meets::Conflict(old) => {
                    return Err(Error::invalid(
                        format!("remote {r} on {}", self.name),
                        format!(
                            "conflicts with {old} ({}), already there (a MAC has one VTEP)",
                            old.kind
                        ),
                    ));
                }
            }
        }
        let mut added: Vec<Remote> = Vec::with_capacity(remotes.len());
        let mut result = Ok(());
        for (r, replace) in remotes.iter().zip(pin) {
            match self
                .nl
                .remote_add(op, self.name.as_str(), self.index, &r.to_kernel(), replace)
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

    /// Removes one remote (for the flood list, that destination only),
    /// whoever made it: asked by name, it goes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad entry; [`Error::NoSuchEntry`] if
    /// the device has no such remote (nothing sent);
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
            return Err(Error::NoSuchEntry {
                op,
                iface: self.name.to_string(),
                entry: format!("remote {remote}"),
                errno: None,
            });
        }
        self.nl
            .remote_del(op, self.name.as_str(), self.index, &remote.to_kernel())
            .await?;
        self.check_remotes(op, &[], &[remote]).await
    }

    /// The device's remotes: the flood list and the per-MAC entries, each
    /// with who made it ([`Remote::kind`]): bridgekit, another tool, the
    /// device's learning from received frames, or a control plane.
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

    /// Reads the remotes back once: each of `present` must be there as a
    /// static entry, none of `absent` there as a static or extern_learn
    /// one (a learned one may come back with the next frame, and is no
    /// remote of anyone's).
    pub(crate) async fn check_remotes(
        &self,
        op: Op,
        present: &[Remote],
        absent: &[Remote],
    ) -> Result<()> {
        let read = self.remotes_as(op).await?;
        let now: HashSet<_> = read
            .iter()
            .filter(|r| r.kind != RemoteKind::Learned)
            .map(|r| (r.key(), r.kind == RemoteKind::Static))
            .collect();
        let wrong = present
            .iter()
            .find(|r| !now.contains(&(r.key(), true)))
            .map(|r| (r, "present", "absent"))
            .or_else(|| {
                absent
                    .iter()
                    .find(|r| now.contains(&(r.key(), true)) || now.contains(&(r.key(), false)))
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

/// What a remote to add meets on a device.
pub(crate) enum Meets {
    /// Nothing in its place: add it.
    Nothing,
    /// The device learned its MAC: add it in place of the learned entry.
    Learned,
    /// The same entry, static (bridgekit's or another's) or extern_learn.
    Present(Remote),
    /// Another static or extern_learn entry in its place (another VTEP for
    /// its MAC).
    Conflict(Remote),
}

/// What `want` meets among `have`, the device's entries.
pub(crate) fn meets(want: &Remote, have: &[Remote]) -> Meets {
    let mut learned = false;
    for h in have.iter().filter(|h| h.slot() == want.slot()) {
        match h.kind {
            RemoteKind::Learned => learned = true,
            _ if h.same(want) => return Meets::Present(*h),
            _ => return Meets::Conflict(*h),
        }
    }
    if learned {
        Meets::Learned
    } else {
        Meets::Nothing
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
