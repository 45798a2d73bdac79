//! VXLAN devices: a bridge's L2 segment stretched over an IP underlay, one
//! VNI per device (`ip link add NAME type vxlan id VNI ...`). The device
//! becomes a bridge port like any other ([`Bridge::attach_port`]); its
//! remote VTEPs are in [`crate::Remote`].
//!
//! [`Bridge::attach_port`]: crate::Bridge::attach_port

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use macaddr::MacAddr6;
use tracing::warn;

use crate::bridge::validate_mtu;
use crate::complete::run_to_end;
use crate::error::{Error, Op, Result};
use crate::mac::{ToMac, validate_unicast};
use crate::name::IfName;
use crate::netlink::{LinkRef, LinkSnapshot, Netlink, VxlanParams};
use crate::vxlan_remote::Remote;

/// The IANA port for VXLAN, bridgekit's default (the kernel's own default
/// is Linux's historical 8472).
pub const VXLAN_PORT: u16 = 4789;

/// Bytes a VXLAN encapsulation adds over an IPv4 underlay (outer Ethernet
/// 14, IPv4 20, UDP 8, VXLAN 8).
pub const VXLAN_OVERHEAD_V4: u32 = 50;

/// Bytes a VXLAN encapsulation adds over an IPv6 underlay (IPv6 header 40).
pub const VXLAN_OVERHEAD_V6: u32 = 70;

/// A VXLAN network identifier, 1..=16777215 (24 bits; 0 is refused, as
/// most control planes reserve it).
///
/// ```
/// use bridgekit::Vni;
/// assert_eq!(Vni::new(100)?.get(), 100);
/// assert!(Vni::new(0).is_err());
/// assert!(Vni::new(1 << 24).is_err());
/// assert_eq!("4096".parse::<Vni>()?.to_string(), "4096");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vni(u32);

impl Vni {
    /// The largest VNI.
    pub const MAX: u32 = (1 << 24) - 1;

    /// A VNI, checked.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 1..=16777215.
    ///
    /// ```
    /// let vni = bridgekit::Vni::new(42)?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn new(vni: u32) -> Result<Vni> {
        if (1..=Self::MAX).contains(&vni) {
            Ok(Vni(vni))
        } else {
            Err(Error::invalid(
                format!("VNI {vni}"),
                format!("must be within 1..={}", Self::MAX),
            ))
        }
    }

    /// The number.
    ///
    /// ```
    /// assert_eq!(bridgekit::Vni::new(7)?.get(), 7);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What [`VxlanConfig::new`] takes as a VNI: a [`Vni`], or a plain number
/// (checked by [`Vxlan::create`] and `apply`, with the rest of the config).
///
/// ```
/// use bridgekit::{ToVni, Vni};
/// assert_eq!(Vni::new(7)?.to_vni_number()?, 7);
/// assert_eq!(7u32.to_vni_number()?, 7);
/// assert!((-1i32).to_vni_number().is_err());
/// # Ok::<(), bridgekit::Error>(())
/// ```
pub trait ToVni {
    /// The number, or [`Error::InvalidInput`] for one no VNI can be.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a negative number.
    fn to_vni_number(self) -> Result<u32>;
}

impl ToVni for Vni {
    fn to_vni_number(self) -> Result<u32> {
        Ok(self.0)
    }
}

impl ToVni for u32 {
    fn to_vni_number(self) -> Result<u32> {
        Ok(self)
    }
}

/// A bare literal (`VxlanConfig::new("vx100", 100)`) is an `i32`.
impl ToVni for i32 {
    fn to_vni_number(self) -> Result<u32> {
        u32::try_from(self).map_err(|_| {
            Error::invalid(
                format!("VNI {self}"),
                format!("must be within 1..={}", Vni::MAX),
            )
        })
    }
}

impl fmt::Display for Vni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Vni {
    type Err = Error;
    fn from_str(s: &str) -> Result<Vni> {
        let n = s
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::invalid(format!("VNI {s:?}"), "is not a number"))?;
        Vni::new(n)
    }
}

/// What [`Vxlan::create`] makes: the name, the VNI, the underlay, the UDP
/// port and the options (`ip link add NAME type vxlan id VNI local ADDR
/// dev UNDERLAY dstport PORT ...`).
///
/// ```
/// use bridgekit::VxlanConfig;
/// let cfg = VxlanConfig::new("vx100", 100)?
///     .local("192.0.2.1".parse()?)
///     .underlay("eth0")
///     .learning(false);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a VXLAN config changes nothing until it is passed to Vxlan::create"]
pub struct VxlanConfig {
    pub(crate) name: IfName,
    pub(crate) vni: u32,
    /// `external` (collect-metadata) mode: no VNI of its own.
    pub(crate) external: bool,
    pub(crate) local: Option<IpAddr>,
    pub(crate) underlay: Option<String>,
    pub(crate) port: u16,
    pub(crate) learning: bool,
    pub(crate) ttl: Option<u8>,
    pub(crate) udp_csum: Option<bool>,
    pub(crate) udp6_zero_csum_tx: Option<bool>,
    pub(crate) udp6_zero_csum_rx: Option<bool>,
    pub(crate) mtu: Option<u32>,
    pub(crate) mac: Option<MacAddr6>,
    pub(crate) bad_mac: Option<(String, String)>,
    pub(crate) remotes: Option<Vec<Remote>>,
    pub(crate) shared_remotes: bool,
}

impl VxlanConfig {
    /// A VXLAN device `name` for `vni`, a [`Vni`] or a plain number: UDP
    /// port 4789, learning on (the kernel's default), no local address or
    /// underlay. A number is checked by [`Vxlan::create`] (and `apply`),
    /// with the rest.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name or a negative VNI.
    ///
    /// ```
    /// use bridgekit::{Vni, VxlanConfig};
    /// let cfg = VxlanConfig::new("vx100", Vni::new(100)?)?;
    /// let same = VxlanConfig::new("vx100", 100)?;
    /// assert_eq!(cfg, same);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn new(name: impl AsRef<str>, vni: impl ToVni) -> Result<Self> {
        Ok(VxlanConfig {
            name: IfName::new(name.as_ref())?,
            vni: vni.to_vni_number()?,
            external: false,
            local: None,
            underlay: None,
            port: VXLAN_PORT,
            learning: true,
            ttl: None,
            udp_csum: None,
            udp6_zero_csum_tx: None,
            udp6_zero_csum_rx: None,
            mtu: None,
            mac: None,
            bad_mac: None,
            remotes: None,
            shared_remotes: false,
        })
    }

    /// A VXLAN device in `external` (collect-metadata) mode (`ip link add
    /// NAME type vxlan external`): no VNI of its own; each frame's VNI
    /// comes from its metadata — on a bridge port with
    /// [`PortConfig::vlan_tunnel`](crate::PortConfig::vlan_tunnel), from
    /// the frame's VLAN through the port's VLAN-to-VNI map
    /// ([`Bridge::add_vlan_tunnels`](crate::Bridge::add_vlan_tunnels)).
    /// One device then carries many segments, as EVPN deployments do.
    /// Its remotes name the segment they serve with
    /// [`Remote::src_vni`](crate::Remote::src_vni).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::external("vxe0")?.local("192.0.2.1".parse()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn external(name: impl AsRef<str>) -> Result<Self> {
        let mut c = Self::new(name, 0u32)?;
        c.external = true;
        Ok(c)
    }

    /// The local VTEP address (`local ADDR`), IPv4 or IPv6: the source of
    /// encapsulated frames. Given with an [`underlay`](Self::underlay), it
    /// must be an address of that device.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.local("2001:db8::1".parse()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local(mut self, addr: IpAddr) -> Self {
        self.local = Some(addr);
        self
    }

    /// The underlay device (`dev NAME`): encapsulated frames leave through
    /// it, and the default MTU is its MTU less the encapsulation overhead
    /// (50 bytes over IPv4, 70 over IPv6).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.underlay("eth0");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn underlay(mut self, name: impl Into<String>) -> Self {
        self.underlay = Some(name.into());
        self
    }

    /// The UDP destination port (`dstport`), 1..=65535; 4789 by default.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.port(8472);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Source-MAC learning from received frames (`learning`/`nolearning`).
    /// Off where a control plane (static remotes, EVPN) fills the FDB.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.learning(false);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn learning(mut self, on: bool) -> Self {
        self.learning = on;
        self
    }

    /// The outer TTL (`ttl N`), 1..=255; unset: the kernel's default.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.ttl(64);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// UDP checksums over an IPv4 underlay (`udpcsum`/`noudpcsum`).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.udp_csum(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn udp_csum(mut self, on: bool) -> Self {
        self.udp_csum = Some(on);
        self
    }

    /// Over an IPv6 underlay, send UDP checksums of zero
    /// (`udp6zerocsumtx`) and accept them (`udp6zerocsumrx`).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.udp6_zero_csum(true, true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn udp6_zero_csum(mut self, tx: bool, rx: bool) -> Self {
        self.udp6_zero_csum_tx = Some(tx);
        self.udp6_zero_csum_rx = Some(rx);
        self
    }

    /// The device's MTU; with an underlay, at most the underlay's MTU less
    /// the encapsulation overhead (a bigger one would be refused, not left
    /// to drop frames). Unset: that largest MTU (1450 without underlay).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.mtu(1400);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// The device's own MAC (`address MAC`); unset, the kernel picks a
    /// random one. A fixed one keeps the device's IPv6 link-local address
    /// the same across re-creations.
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.mac("52:54:00:00:01:64");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn mac(mut self, mac: impl ToMac) -> Self {
        match mac.to_mac() {
            Ok(m) => self.mac = Some(m),
            Err(Error::InvalidInput { what, reason }) => self.bad_mac = Some((what, reason)),
            Err(e) => self.bad_mac = Some(("VXLAN MAC".into(), e.to_string())),
        }
        self
    }

    /// A remote VTEP the device has (repeatable): [`Vxlan::create`] adds
    /// them all or makes no device; in
    /// [`BridgeConfig::vxlan_port`](crate::BridgeConfig::vxlan_port),
    /// `apply` makes the device's static remotes exactly these (or, with
    /// [`shared_remotes`](Self::shared_remotes), adds these and removes
    /// none). Entries the device learned from frames, and a control
    /// plane's `extern_learn` entries, are never removed; a declared
    /// remote for a MAC the device learned pins it.
    ///
    /// ```
    /// use bridgekit::{Remote, VxlanConfig};
    /// let cfg = VxlanConfig::new("vx100", 100)?
    ///     .remote(Remote::flood("192.0.2.2".parse()?))
    ///     .remote(Remote::flood("192.0.2.3".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remote(mut self, remote: Remote) -> Self {
        self.remotes.get_or_insert_with(Vec::new).push(remote);
        self
    }

    /// Another writer also adds static remotes to this device — a control
    /// plane such as FRR's zebra (its EVPN flood list is static, not
    /// `extern_learn`), or a person with `bridge fdb append` — so `apply`
    /// adds the declared remotes and removes none; take one away with
    /// [`Vxlan::remove_remote`]. Off by default: the declared remotes are
    /// then the device's static remotes, and `apply` removes the others.
    ///
    /// The kernel cannot say who wrote a static entry (it keeps one state
    /// per MAC, shared by all of the flood list's destinations), so the
    /// choice is the config's to make.
    ///
    /// ```
    /// use bridgekit::{Remote, VxlanConfig};
    /// // zebra manages this device's EVPN flood list; bridgekit adds one more.
    /// let cfg = VxlanConfig::new("vx100", 100)?
    ///     .remote(Remote::flood("192.0.2.9".parse()?))
    ///     .shared_remotes(true);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shared_remotes(mut self, shared: bool) -> Self {
        self.shared_remotes = shared;
        self
    }

    /// The remotes declared, if any were.
    pub(crate) fn remotes(&self) -> Option<&[Remote]> {
        self.remotes.as_deref()
    }

    /// The name.
    ///
    /// ```
    /// assert_eq!(bridgekit::VxlanConfig::new("vx1", 1)?.name().as_str(), "vx1");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The encapsulation overhead for this config's local address family.
    #[must_use]
    fn overhead(&self) -> u32 {
        match self.local {
            Some(IpAddr::V6(_)) => VXLAN_OVERHEAD_V6,
            _ => VXLAN_OVERHEAD_V4,
        }
    }

    /// Everything that needs no kernel; the VNI (none in external mode).
    pub(crate) fn validate(&self) -> Result<Option<Vni>> {
        let vni = match (self.external, self.vni) {
            (true, 0) => None,
            (true, v) => {
                return Err(Error::invalid(
                    format!("VNI {v} of {}", self.name),
                    "an external (collect-metadata) device has no VNI of its own",
                ));
            }
            (false, v) => Some(Vni::new(v)?),
        };
        if let Some((what, reason)) = &self.bad_mac {
            return Err(Error::invalid(what.clone(), reason.clone()));
        }
        if let Some(mac) = self.mac {
            validate_unicast(mac)?;
        }
        if self.port == 0 {
            return Err(Error::invalid(
                format!("VXLAN destination port of {}", self.name),
                "must be within 1..=65535 (0 would be the kernel's non-standard 8472)",
            ));
        }
        if self.ttl == Some(0) {
            return Err(Error::invalid(
                format!("VXLAN TTL of {}", self.name),
                "must be within 1..=255 (leave it unset for the kernel's default)",
            ));
        }
        if let Some(local) = self.local {
            if local.is_unspecified() || local.is_multicast() || local.is_loopback() {
                return Err(Error::invalid(
                    format!("local VTEP address {local} of {}", self.name),
                    "must be a unicast address of this host",
                ));
            }
        }
        if let Some(u) = &self.underlay {
            IfName::new(u)?;
        }
        if let Some(mtu) = self.mtu {
            validate_mtu(mtu)?;
        }
        let mut slots = std::collections::HashSet::new();
        for r in self.remotes.iter().flatten() {
            r.validate_for(&self.name, self.local, self.external)?;
            if !slots.insert(r.slot()) {
                return Err(Error::invalid(
                    format!("remote {r} of {}", self.name),
                    "is declared twice (or its MAC twice)",
                ));
            }
        }
        Ok(vni)
    }
}

/// A VXLAN device: a bridge port whose frames travel to remote VTEPs over
/// UDP. Attach it like any port, [`Bridge::attach_port`], typically with
/// learning off on both ([`VxlanConfig::learning`],
/// `PortConfig::learning(false)`) and `neigh_suppress` where a control
/// plane answers ARP/ND.
///
/// [`Bridge::attach_port`]: crate::Bridge::attach_port
///
/// ```no_run
/// # async fn f(nl: bridgekit::Netlink, br: bridgekit::Bridge) -> Result<(), Box<dyn std::error::Error>> {
/// use bridgekit::{PortConfig, Remote, Vxlan, VxlanConfig};
/// let vx = Vxlan::create(&nl, VxlanConfig::new("vx100", 100)?
///     .local("192.0.2.1".parse()?)
///     .underlay("eth0")
///     .learning(false)).await?;
/// br.attach_port(vx.name(), PortConfig::new().learning(false).up()).await?;
/// vx.add_remote(Remote::flood("192.0.2.2".parse()?)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Vxlan {
    pub(crate) nl: Netlink,
    pub(crate) name: IfName,
    pub(crate) index: u32,
    /// `None` in external mode.
    pub(crate) vni: Option<Vni>,
    pub(crate) local: Option<IpAddr>,
    /// The rest of the device's settings, as read when the handle was made.
    pub(crate) params: VxlanParams,
}

impl Vxlan {
    /// Creates the device in one request and reads it back: VNI, local
    /// address, underlay, port, learning, TTL, checksum options and MTU
    /// must be what was asked. If the read-back disagrees or fails, the
    /// device is deleted and the first error returned.
    ///
    /// Checked before anything is changed: the VNI (1..=16777215), the
    /// port (not 0), the TTL (not 0), the MTU, and, with an underlay, that
    /// the underlay exists, that the local address is one of its
    /// addresses, and that the MTU fits under the underlay's MTU less the
    /// overhead.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for any of the above; [`Error::NotFound`]
    /// for a missing underlay; [`Error::AlreadyExists`] for a name in use;
    /// [`Error::Unsupported`] on a kernel without VXLAN (`CONFIG_VXLAN`);
    /// [`Error::NotApplied`] if the kernel kept another value.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::Vxlan::create(&nl, bridgekit::VxlanConfig::new("vx100", 100)?).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "vxlan_create", iface = %config.name), err(Display))]
    pub async fn create(nl: &Netlink, config: VxlanConfig) -> Result<Vxlan> {
        let vni = config.validate()?;
        let owned = nl.clone();
        run_to_end(nl, async move {
            let vx = make_device(&owned, &config, vni).await?;
            let Some(remotes) = config.remotes() else {
                return Ok(vx);
            };
            match vx.add_all(remotes.to_vec()).await {
                Ok(()) => Ok(vx),
                Err(e) => match owned
                    .delete_link(Op::CreateVxlan, vx.name.as_str(), vx.index)
                    .await
                {
                    Ok(()) => Err(e),
                    Err(undo) => Err(e.with_undo_failures(vec![undo])),
                },
            }
        })
        .await
    }

    /// Opens an existing VXLAN device by name.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidInput`] if the interface is
    /// not a VXLAN device.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::Vxlan::open(&nl, "vx100").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "vxlan_open", iface = %name.as_ref()), err(Display))]
    pub async fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Vxlan> {
        let name = IfName::new(name.as_ref())?;
        let op = Op::OpenVxlan;
        let link = nl
            .link(op, name.as_str(), LinkRef::Name(name.as_str()))
            .await?;
        from_link(nl, op, &link)
    }

    /// The device's name.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The device's ifindex.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The VNI; `None` for a device in external mode.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("VNI {:?}", vx.vni()); }
    /// ```
    #[must_use]
    pub fn vni(&self) -> Option<Vni> {
        self.vni
    }

    /// Whether the device is in external (collect-metadata) mode.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.is_external()); }
    /// ```
    #[must_use]
    pub fn is_external(&self) -> bool {
        self.vni.is_none()
    }

    /// The local VTEP address, if one was set.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{:?}", vx.local()); }
    /// ```
    #[must_use]
    pub fn local(&self) -> Option<IpAddr> {
        self.local
    }

    /// The destination UDP port (`dstport`), as read when this handle was
    /// made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { assert_eq!(vx.port(), bridgekit::VXLAN_PORT); }
    /// ```
    #[must_use]
    pub fn port(&self) -> u16 {
        self.params.port
    }

    /// Whether the device learns remote MACs from received frames
    /// (`learning`), as read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("learning {}", vx.learning()); }
    /// ```
    #[must_use]
    pub fn learning(&self) -> bool {
        self.params.learning
    }

    /// The underlay device's ifindex (`dev`), if the device has one, as
    /// read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("underlay {:?}", vx.underlay_index()); }
    /// ```
    #[must_use]
    pub fn underlay_index(&self) -> Option<u32> {
        self.params.underlay
    }

    /// The outer TTL (`ttl`), `None` for the kernel's default (`ttl auto`),
    /// as read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("TTL {:?}", vx.ttl()); }
    /// ```
    #[must_use]
    pub fn ttl(&self) -> Option<u8> {
        self.params.ttl.filter(|t| *t != 0)
    }

    /// The device's MTU, read from the kernel.
    ///
    /// # Errors
    /// Kernel errors; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// println!("MTU {}", vx.mtu().await?);
    /// # Ok(()) }
    /// ```
    pub async fn mtu(&self) -> Result<u32> {
        let link = self
            .nl
            .link(
                Op::OpenVxlan,
                self.name.as_str(),
                LinkRef::Index(self.index),
            )
            .await?;
        Ok(link.mtu)
    }

    /// Deletes the device (its remotes go with it; a bridge it was a port
    /// of loses the port).
    ///
    /// # Errors
    /// Kernel errors; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// vx.delete().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = "vxlan_delete", iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<()> {
        self.nl
            .delete_link(Op::DeleteVxlan, self.name.as_str(), self.index)
            .await
    }
}

/// An existing device, checked against `config`: the VNI, local address,
/// underlay and UDP port must be the config's (changing them means a new
/// device, and its port would flap: `apply` refuses instead).
pub(crate) async fn existing(
    nl: &Netlink,
    op: Op,
    config: &VxlanConfig,
    link: &LinkSnapshot,
) -> Result<Vxlan> {
    let vx = from_link(nl, op, link)?;
    let read = link.vxlan.unwrap_or_default();
    let underlay = match &config.underlay {
        Some(u) => Some(nl.link(op, u, LinkRef::Name(u)).await?.index),
        None => None,
    };
    let differs = |what: &str, want: String, got: String| {
        Err(Error::invalid(
            format!("VXLAN device {}", config.name),
            format!(
                "exists with {what} {got}, not {want}: apply does not recreate a device \
                 (its port would flap); delete it first"
            ),
        ))
    };
    let show = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    if read.external != config.external {
        let mode = |e: bool| if e { "external mode" } else { "a VNI" }.to_string();
        return differs("", mode(config.external), mode(read.external));
    }
    if read.vni != config.vni {
        return differs("VNI", config.vni.to_string(), read.vni.to_string());
    }
    if read.port != config.port {
        return differs("port", config.port.to_string(), read.port.to_string());
    }
    if read.local != config.local {
        return differs(
            "local address",
            show(config.local.map(|a| a.to_string())),
            show(read.local.map(|a| a.to_string())),
        );
    }
    if underlay.is_some() && read.underlay != underlay {
        return differs(
            "underlay",
            show(config.underlay.clone()),
            show(read.underlay.map(|i| format!("#{i}"))),
        );
    }
    Ok(vx)
}

pub(crate) fn from_link(nl: &Netlink, op: Op, link: &LinkSnapshot) -> Result<Vxlan> {
    let Some(params) = link.vxlan.filter(|_| link.kind.as_deref() == Some("vxlan")) else {
        return Err(Error::invalid(
            format!("interface {}", link.name),
            format!(
                "is a {}, not a VXLAN device",
                link.kind.as_deref().unwrap_or("device")
            ),
        ));
    };
    let vni = if params.external {
        None
    } else {
        Some(Vni::new(params.vni).map_err(|_| Error::Unsupported {
            op,
            iface: link.name.clone(),
            detail: "a VXLAN device with VNI 0".into(),
        })?)
    };
    Ok(Vxlan {
        nl: nl.clone(),
        name: IfName::from_kernel(link.name.clone()),
        index: link.index,
        vni,
        local: params.local,
        params,
    })
}

/// Everything about the VXLAN ports of a bridge config that one read of the
/// kernel can find wrong, checked before `create` or `apply` changes
/// anything: an existing device of another kind or other settings, a
/// missing underlay, a local address the underlay lacks, and an MTU that
/// cannot carry the bridge's. A refusal then leaves no link behind that
/// came and went.
pub(crate) async fn preflight_all(
    nl: &Netlink,
    op: Op,
    vxlans: &[VxlanConfig],
    bridge: &IfName,
    bridge_mtu: Option<u32>,
) -> Result<()> {
    for vx in vxlans {
        let name = vx.name.as_str();
        let mtu = match nl.link(op, name, LinkRef::Name(name)).await {
            Ok(link) => {
                existing(nl, op, vx, &link).await?;
                link.mtu
            }
            Err(Error::NotFound { .. }) => {
                vx.validate()?;
                match underlay(nl, Op::CreateVxlan, vx).await? {
                    // What the kernel gives a new device: the MTU asked for,
                    // or its underlay's less the encapsulation, or 1500.
                    Some((_, under_mtu)) => {
                        vx.mtu.unwrap_or(under_mtu.saturating_sub(vx.overhead()))
                    }
                    None => vx.mtu.unwrap_or(1500),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(want) = bridge_mtu {
            check_carries(vx.name(), mtu, want, bridge)?;
        }
    }
    Ok(())
}

/// A VXLAN port of MTU `have` cannot carry the MTU `want` asked of
/// `bridge`.
pub(crate) fn check_carries(name: &IfName, have: u32, want: u32, bridge: &IfName) -> Result<()> {
    if have >= want {
        return Ok(());
    }
    Err(Error::invalid(
        format!("VXLAN port {name} (MTU {have})"),
        format!(
            "cannot carry the MTU {want} asked of bridge {bridge}: frames above {have} would be \
             dropped; lower the bridge's MTU, or raise the underlay's (the VXLAN MTU is the \
             underlay's less 50 bytes over IPv4, 70 over IPv6)"
        ),
    ))
}

/// The underlay `config` names, checked: it exists, carries the MTU asked
/// of the device, and has the local address. Its ifindex and MTU.
async fn underlay(nl: &Netlink, op: Op, config: &VxlanConfig) -> Result<Option<(u32, u32)>> {
    let Some(u) = &config.underlay else {
        return Ok(None);
    };
    let name = config.name.as_str();
    let under = nl.link(op, u, LinkRef::Name(u)).await?;
    let max = under.mtu.saturating_sub(config.overhead());
    if let Some(mtu) = config.mtu.filter(|m| *m > max) {
        return Err(Error::invalid(
            format!("MTU {mtu} of VXLAN device {name}"),
            format!(
                "does not fit under {u}: its MTU {} less {} bytes of encapsulation allows at most {max}",
                under.mtu,
                config.overhead()
            ),
        ));
    }
    if let Some(local) = config.local {
        let addrs = nl.addresses(op, u, under.index).await?;
        if !addrs.iter().any(|a| a.net.addr() == local) {
            return Err(Error::invalid(
                format!("local VTEP address {local} of {name}"),
                format!("is not an address of the underlay {u}"),
            ));
        }
    }
    Ok(Some((under.index, under.mtu)))
}

/// Creates the device `config` describes (not its remotes), reads it back,
/// and deletes it again if anything fails.
pub(crate) async fn make_device(
    nl: &Netlink,
    config: &VxlanConfig,
    vni: Option<Vni>,
) -> Result<Vxlan> {
    let op = Op::CreateVxlan;
    let name = config.name.as_str();
    let underlay_index = underlay(nl, op, config).await?.map(|(index, _)| index);
    let params = VxlanParams {
        vni: vni.map_or(0, Vni::get),
        external: config.external,
        local: config.local,
        underlay: underlay_index,
        port: config.port,
        learning: config.learning,
        ttl: config.ttl,
        udp_csum: config.udp_csum,
        udp6_zero_csum_tx: config.udp6_zero_csum_tx,
        udp6_zero_csum_rx: config.udp6_zero_csum_rx,
    };
    nl.create_vxlan(op, name, &params, config.mtu, config.mac)
        .await
        .map_err(|e| match e {
            Error::Unsupported { op, iface, .. } => Error::Unsupported {
                op,
                iface,
                detail: "this kernel has no vxlan link kind (CONFIG_VXLAN)".into(),
            },
            e => e,
        })?;
    let made = async {
        let link = nl.link(op, name, LinkRef::Name(name)).await?;
        let vx = from_link(nl, op, &link)?;
        let read = link.vxlan.unwrap_or_default();
        let check = |what: &str, want: String, got: String| {
            if want == got {
                Ok(())
            } else {
                Err(Error::NotApplied {
                    op,
                    iface: name.to_string(),
                    what: what.into(),
                    expected: want,
                    actual: got,
                })
            }
        };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "none".into());
        check(
            "external mode",
            config.external.to_string(),
            read.external.to_string(),
        )?;
        check(
            "VNI",
            vni.map_or(0, Vni::get).to_string(),
            read.vni.to_string(),
        )?;
        check("port", config.port.to_string(), read.port.to_string())?;
        check(
            "learning",
            config.learning.to_string(),
            read.learning.to_string(),
        )?;
        check(
            "local address",
            opt(config.local.map(|a| a.to_string())),
            opt(read.local.map(|a| a.to_string())),
        )?;
        check(
            "underlay",
            opt(underlay_index.map(|i| i.to_string())),
            opt(read.underlay.map(|i| i.to_string())),
        )?;
        if let Some(ttl) = config.ttl {
            check("TTL", ttl.to_string(), opt(read.ttl.map(|t| t.to_string())))?;
        }
        for (what, want, got) in [
            ("udpcsum", config.udp_csum, read.udp_csum),
            (
                "udp6zerocsumtx",
                config.udp6_zero_csum_tx,
                read.udp6_zero_csum_tx,
            ),
            (
                "udp6zerocsumrx",
                config.udp6_zero_csum_rx,
                read.udp6_zero_csum_rx,
            ),
        ] {
            if let Some(want) = want {
                check(what, want.to_string(), opt(got.map(|g| g.to_string())))?;
            }
        }
        if let Some(mtu) = config.mtu {
            check("MTU", mtu.to_string(), link.mtu.to_string())?;
        }
        if let Some(mac) = config.mac {
            check(
                "MAC",
                crate::mac::lower(mac),
                link.mac.map_or_else(|| "none".into(), crate::mac::lower),
            )?;
        }
        Ok::<_, Error>(vx)
    }
    .await;
    match made {
        Ok(vx) => Ok(vx),
        Err(e) => match nl.delete_link_by_name(op, name).await {
            Err(undo) => {
                warn!(vxlan = name, error = %undo, "could not delete the VXLAN device after a failure");
                Err(e.with_undo_failures(vec![undo]))
            }
            Ok(()) => Err(e),
        },
    }
}
