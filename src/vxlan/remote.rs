//! A remote VTEP entry of a VXLAN device, as a value: the flood list (the all-zero MAC, one
//! entry per destination: where broadcast, unknown unicast and multicast
//! go) and per-MAC entries (a guest MAC behind one VTEP). `bridge fdb
//! append 00:00:00:00:00:00 dev VXLAN dst IP` and `bridge fdb add MAC dev
//! VXLAN dst IP`, each one request, checked before and read back after.

use crate::error::InputKind;
use std::fmt;
use std::net::IpAddr;

use macaddr::MacAddr6;

use super::vni::Vni;
use crate::error::{Error, Result};
use crate::netlink::{RemoteOrigin, RemoteSnapshot};
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::name::IfName;

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
    pub(crate) kind: RemoteKind,
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
                    .map(|_| BadMac::new(&crate::values::mac::lower(m), true)),
            ),
            // The parse error names the text given: `MAC address "zz"`.
            Err(Error::InvalidInput { input, .. }) => {
                (MacAddr6::nil(), Some(BadMac::new(&input, false)))
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

    /// The segment of an external device's entry, if set: what
    /// [`src_vni`](Self::src_vni) gave. Each optional part of an entry has
    /// a builder named after it and a getter with `_override`
    /// ([`vni`](Self::vni) / [`vni_override`](Self::vni_override),
    /// [`port`](Self::port) / [`port_override`](Self::port_override)).
    ///
    /// ```
    /// assert_eq!(bridgekit::Remote::flood("192.0.2.2".parse()?).src_vni_override(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn src_vni_override(&self) -> Option<Vni> {
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
    /// entries); only in what [`Vxlan::remotes`](crate::Vxlan::remotes) reads. The same as
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

    pub(crate) fn key(&self) -> (MacAddr6, IpAddr, Option<Vni>, Option<u16>, Option<Vni>) {
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
                InputKind::Remote,
                format!("remote {self} on {}", vx.name),
                "src_vni is for a device in external mode; this one has a VNI of its own",
            ));
        }
        if let Some(bad) = &self.bad_mac {
            return Err(if bad.parsed {
                Error::invalid(
                    InputKind::Remote,
                    format!("remote MAC {} of {} (-> {})", bad.text(), vx.name, self.dst),
                    "must be a unicast MAC (use Remote::flood for the flood list)",
                )
            } else {
                Error::invalid(
                    InputKind::Remote,
                    format!("remote {} of {} (-> {})", bad.text(), vx.name, self.dst),
                    "expected six hex bytes separated by ':' (52:54:00:12:34:56)",
                )
            });
        }
        if self.dst.is_unspecified() || self.dst.is_loopback() {
            return Err(Error::invalid(
                InputKind::Remote,
                format!("remote VTEP {} on {}", self.dst, vx.name),
                "must be a unicast or multicast address of another host",
            ));
        }
        if let Some(local) = vx.local {
            if local.is_ipv4() != self.dst.is_ipv4() {
                return Err(Error::invalid(
                    InputKind::Remote,
                    format!("remote VTEP {} on {}", self.dst, vx.name),
                    format!("is not of the family of the local address {local}"),
                ));
            }
        }
        if self.port == Some(0) {
            return Err(Error::invalid(
                InputKind::Remote,
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
        write!(f, "{} -> {}", crate::values::mac::lower(self.mac), self.dst)?;
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
