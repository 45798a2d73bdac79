//! What a VXLAN device should be: [`VxlanConfig`], checked before any
//! request.

use crate::error::{BadInput, InputKind};
use std::net::IpAddr;

use macaddr::MacAddr6;

use super::remote::Remote;
use super::vni::{ToVni, VXLAN_OVERHEAD_V4, VXLAN_OVERHEAD_V6, VXLAN_PORT, Vni};
use crate::error::{Error, Result};
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;

/// What [`Vxlan::create`](crate::Vxlan::create) makes: the name, the VNI, the underlay, the UDP
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
    pub(crate) bad_mac: Option<BadInput>,
    pub(crate) remotes: Option<Vec<Remote>>,
    pub(crate) shared_remotes: bool,
}

impl VxlanConfig {
    /// A VXLAN device `name` for `vni`, a [`Vni`] or a plain number: UDP
    /// port 4789, learning on (the kernel's default), no local address or
    /// underlay. A number is checked by [`Vxlan::create`](crate::Vxlan::create) (and `apply`),
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
    /// (`udp6zerocsumtx`).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.udp6_zero_csum_tx(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn udp6_zero_csum_tx(mut self, on: bool) -> Self {
        self.udp6_zero_csum_tx = Some(on);
        self
    }

    /// Over an IPv6 underlay, accept UDP checksums of zero
    /// (`udp6zerocsumrx`).
    ///
    /// ```
    /// let cfg = bridgekit::VxlanConfig::new("vx100", 100)?.udp6_zero_csum_rx(true);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn udp6_zero_csum_rx(mut self, on: bool) -> Self {
        self.udp6_zero_csum_rx = Some(on);
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
            Err(e) => self.bad_mac = Some(e.into_bad_input(InputKind::MacAddress, "VXLAN MAC")),
        }
        self
    }

    /// A remote VTEP the device has (repeatable): [`Vxlan::create`](crate::Vxlan::create) adds
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
    /// [`Vxlan::remove_remote`](crate::Vxlan::remove_remote). Off by default: the declared remotes are
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
    pub(crate) fn overhead(&self) -> u32 {
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
                    InputKind::Vni,
                    format!("VNI {v} of {}", self.name),
                    "an external (collect-metadata) device has no VNI of its own",
                ));
            }
            (false, v) => Some(Vni::new(v)?),
        };
        if let Some(bad) = &self.bad_mac {
            return Err(bad.to_error());
        }
        if let Some(mac) = self.mac {
            validate_unicast(mac)?;
        }
        if self.port == 0 {
            return Err(Error::invalid(
                InputKind::Vxlan,
                format!("VXLAN destination port of {}", self.name),
                "must be within 1..=65535 (0 would be the kernel's non-standard 8472)",
            ));
        }
        if self.ttl == Some(0) {
            return Err(Error::invalid(
                InputKind::Vxlan,
                format!("VXLAN TTL of {}", self.name),
                "must be within 1..=255 (leave it unset for the kernel's default)",
            ));
        }
        if let Some(local) = self.local {
            if local.is_unspecified() || local.is_multicast() || local.is_loopback() {
                return Err(Error::invalid(
                    InputKind::Vxlan,
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
                    InputKind::Remote,
                    format!("remote {r} of {}", self.name),
                    "is declared twice (or its MAC twice)",
                ));
            }
        }
        Ok(vni)
    }
}
