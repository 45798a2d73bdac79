//! Bridge ports: attach and detach, and the options of a port.

use tracing::warn;

use crate::bridge::Bridge;
use crate::error::{Error, Op, Result};
use crate::name::IfName;
use crate::netlink::{LinkChange, LinkRef, LinkSnapshot, PortOptions};

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
/// Mirrors `ip link set PORT type bridge_slave learning on|off flood on|off ...`.
///
/// ```
/// use bridgekit::PortConfig;
/// let cfg = PortConfig::new().learning(false).unicast_flood(false).cost(10).up();
/// ```
#[derive(Debug, Clone, Default)]
pub struct PortConfig {
    options: PortOptions,
    up: bool,
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

    fn validate(&self) -> Result<()> {
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
        Ok(())
    }
}

impl Bridge {
    async fn port_link(&self, op: Op, port: &PortRef) -> Result<LinkSnapshot> {
        let label = port.to_string();
        match port {
            PortRef::Name(n) => self.nl.link(op, &label, LinkRef::Name(n.as_str())).await,
            PortRef::Index(i) => self.nl.link(op, &label, LinkRef::Index(*i)).await,
        }
    }

    /// Attaches a port and applies `config` (`ip link set PORT master
    /// BRIDGE`, then `ip link set PORT type bridge_slave ...`, then `up`).
    ///
    /// A port of another bridge is refused ([`Error::PortBusy`]): the kernel
    /// would move it silently. Options travel in RTM_NEWLINK (RTM_SETLINK
    /// ignores them) and are read back. If any step fails, the port is
    /// detached again and the first error returned. Attaching a port that is
    /// already on this bridge just applies `config`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for bad options, the bridge itself or another
    /// bridge as port (nothing sent); [`Error::NotFound`];
    /// [`Error::PortBusy`]; [`Error::Unsupported`] if the kernel refuses an
    /// option with EOPNOTSUPP; [`Error::NotApplied`] if it ignored one.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::PortConfig;
    /// br.attach_port("vnet0", PortConfig::new().learning(false).unicast_flood(false).up()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach_port(&self, port: impl ToPort, config: PortConfig) -> Result<()> {
        let port = port.to_port()?;
        config.validate()?;
        let op = Op::AttachPort;
        let link = self.port_link(op, &port).await?;
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
        let moved = match link.master {
            Some(m) if m == self.index => false,
            Some(other) => {
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
            None => true,
        };
        let result = self
            .configure_port(&label, link.index, &config, moved)
            .await;
        if let Err(e) = result {
            if moved {
                let undo = LinkChange {
                    master: Some(0),
                    ..LinkChange::default()
                };
                if let Err(u) = self
                    .nl
                    .set_link(Op::DetachPort, &label, link.index, &undo)
                    .await
                {
                    warn!(port = %label, bridge = %self.name, error = %u, "could not detach port after failed attach");
                }
            }
            return Err(e);
        }
        Ok(())
    }

    async fn configure_port(
        &self,
        label: &str,
        index: u32,
        config: &PortConfig,
        set_master: bool,
    ) -> Result<()> {
        if set_master {
            let change = LinkChange {
                master: Some(self.index),
                ..LinkChange::default()
            };
            self.nl
                .set_link(Op::AttachPort, label, index, &change)
                .await?;
        }
        if !config.options.is_empty() {
            self.nl
                .set_port_options(Op::SetPortOptions, label, index, &config.options)
                .await?;
        }
        if config.up {
            let up = LinkChange {
                up: Some(true),
                ..LinkChange::default()
            };
            self.nl.set_link(Op::SetUp, label, index, &up).await?;
        }
        let read = self
            .nl
            .link(Op::AttachPort, label, LinkRef::Index(index))
            .await?;
        let not_applied = |what: &str, expected: String, actual: String| Error::NotApplied {
            op: Op::AttachPort,
            iface: label.to_string(),
            what: what.to_string(),
            expected,
            actual,
        };
        if read.master != Some(self.index) {
            return Err(not_applied(
                "master",
                self.name.to_string(),
                read.master.map_or("none".into(), |m| format!("#{m}")),
            ));
        }
        if let Some((what, want, got)) = config
            .options
            .mismatches(&read.port.unwrap_or_default())
            .into_iter()
            .next()
        {
            return Err(not_applied(what, want, got));
        }
        if config.up && !read.up {
            return Err(not_applied("admin state up", "true".into(), "false".into()));
        }
        Ok(())
    }

    /// Detaches a port (`ip link set PORT nomaster`).
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
    pub async fn detach_port(&self, port: impl ToPort) -> Result<()> {
        let port = port.to_port()?;
        let op = Op::DetachPort;
        let link = self.port_link(op, &port).await?;
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: link.name,
                bridge: self.name.to_string(),
            });
        }
        let change = LinkChange {
            master: Some(0),
            ..LinkChange::default()
        };
        self.nl
            .set_link(op, &link.name, link.index, &change)
            .await?;
        let read = self
            .nl
            .link(op, &link.name, LinkRef::Index(link.index))
            .await?;
        if read.master.is_some() {
            return Err(Error::NotApplied {
                op,
                iface: link.name,
                what: "master".into(),
                expected: "none".into(),
                actual: format!("{:?}", read.master),
            });
        }
        Ok(())
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
