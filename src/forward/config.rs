//! [`Forward`]: what the host does with traffic between a bridge's guests
//! and the rest of the world, after libvirt's `<forward mode=...>`.

use crate::error::{Error, InputKind, Result};
use crate::values::name::IfName;

/// A bridge's forward mode ([`BridgeConfig::forward`](crate::BridgeConfig::forward)):
/// the nf_tables rules bridgekit keeps for the bridge's guests' traffic
/// that the host routes, and the forwarding sysctls that let it route.
/// Traffic between guests on the bridge and between the guests and the
/// host is not routed, so no mode touches it.
///
/// | mode | libvirt | what the host forwards |
/// |---|---|---|
/// | [`Forward::Open`] | `open` | everything (bridgekit adds no rules) |
/// | [`Forward::Isolated`] | `isolated` (no `<forward>`) | nothing: guests reach each other and the host only |
/// | [`Forward::nat`] | `nat` | guests' connections out, masqueraded to the uplink's address; answers back in; nothing new in |
/// | [`Forward::routed`] | `route` | guests' traffic out and in with their own addresses |
///
/// ```
/// use bridgekit::Forward;
/// let nat = Forward::nat().via("eth0")?;          // out through eth0 only
/// assert_eq!(nat.uplink().map(|u| u.as_str()), Some("eth0"));
/// assert_eq!(Forward::routed().name(), "routed");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Forward {
    /// No rules: whatever the host's own firewall and routing do.
    Open,
    /// Guests reach each other and the host, nothing beyond; nothing
    /// from beyond reaches them (rejected with ICMP "administratively
    /// prohibited"). The forwarding sysctls are left as they are.
    Isolated,
    /// The bridge's IPv4 subnets (and IPv6, with `nat66`) are masqueraded
    /// out through the uplink (any interface but the bridge, without
    /// one); answers come back in (conntrack: established and related),
    /// nothing new does. IPv6 subnets without `nat66` are routed, as
    /// libvirt routes them. Turns forwarding on for the families the
    /// bridge has subnets of.
    #[non_exhaustive]
    Nat {
        /// The only interface guests' traffic may leave by.
        uplink: Option<IfName>,
        /// Masquerade IPv6 too (libvirt's `<nat ipv6='yes'/>`).
        nat66: bool,
    },
    /// The bridge's subnets are forwarded out through the uplink (any
    /// interface but the bridge, without one) and in, with the guests'
    /// own addresses: the VM manager routes the subnets to this host
    /// elsewhere. Turns forwarding on for the families the bridge has
    /// subnets of.
    #[non_exhaustive]
    Routed {
        /// The only interface guests' traffic may leave and come in by.
        uplink: Option<IfName>,
    },
}

impl Forward {
    /// NAT of the bridge's IPv4 subnets, out through any interface but the
    /// bridge (name one with [`via`](Self::via)).
    ///
    /// ```
    /// assert_eq!(bridgekit::Forward::nat().name(), "nat");
    /// ```
    #[must_use]
    pub fn nat() -> Self {
        Forward::Nat {
            uplink: None,
            nat66: false,
        }
    }

    /// NAT of the bridge's IPv4 and IPv6 subnets.
    ///
    /// ```
    /// assert!(bridgekit::Forward::nat66().masquerades_ipv6());
    /// ```
    #[must_use]
    pub fn nat66() -> Self {
        Forward::Nat {
            uplink: None,
            nat66: true,
        }
    }

    /// Routing of the bridge's subnets without NAT.
    ///
    /// ```
    /// assert_eq!(bridgekit::Forward::routed().name(), "routed");
    /// ```
    #[must_use]
    pub fn routed() -> Self {
        Forward::Routed { uplink: None }
    }

    /// The same mode, through `uplink` only.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad interface name, or for
    /// [`Forward::Open`] and [`Forward::Isolated`], which forward through
    /// no uplink.
    ///
    /// ```
    /// use bridgekit::Forward;
    /// assert!(Forward::routed().via("eth0").is_ok());
    /// assert!(Forward::Isolated.via("eth0").is_err());
    /// ```
    pub fn via(self, uplink: impl AsRef<str>) -> Result<Self> {
        let name = IfName::new(uplink)?;
        match self {
            Forward::Nat { nat66, .. } => Ok(Forward::Nat {
                uplink: Some(name),
                nat66,
            }),
            Forward::Routed { .. } => Ok(Forward::Routed { uplink: Some(name) }),
            other => Err(Error::invalid(
                InputKind::Forward,
                format!("uplink {name}"),
                format!("the {} mode forwards through no uplink", other.name()),
            )),
        }
    }

    /// The uplink named, if any.
    ///
    /// ```
    /// assert!(bridgekit::Forward::nat().uplink().is_none());
    /// ```
    #[must_use]
    pub fn uplink(&self) -> Option<&IfName> {
        match self {
            Forward::Nat { uplink, .. } | Forward::Routed { uplink } => uplink.as_ref(),
            _ => None,
        }
    }

    /// Whether IPv6 is masqueraded too.
    ///
    /// ```
    /// assert!(!bridgekit::Forward::nat().masquerades_ipv6());
    /// ```
    #[must_use]
    pub fn masquerades_ipv6(&self) -> bool {
        matches!(self, Forward::Nat { nat66: true, .. })
    }

    /// The mode's name: `open`, `isolated`, `nat`, `routed`.
    ///
    /// ```
    /// assert_eq!(bridgekit::Forward::Isolated.name(), "isolated");
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Forward::Open => "open",
            Forward::Isolated => "isolated",
            Forward::Nat { .. } => "nat",
            Forward::Routed { .. } => "routed",
        }
    }

    /// Whether the host forwards for the bridge in this mode (its
    /// forwarding sysctls are turned on).
    pub(crate) fn forwards(&self) -> bool {
        matches!(self, Forward::Nat { .. } | Forward::Routed { .. })
    }
}

impl std::fmt::Display for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())?;
        if self.masquerades_ipv6() {
            f.write_str(" (IPv6 too)")?;
        }
        if let Some(uplink) = self.uplink() {
            write!(f, " via {uplink}")?;
        }
        Ok(())
    }
}
