//! Guest NICs for container sandboxes: a veth pair whose host end is a
//! bridge port and whose other end lives, named and addressed, in the
//! sandbox's network namespace. All of it, or none of it.

use crate::error::BadInput;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use macaddr::MacAddr6;

use crate::bridge::Bridge;
use crate::bridge::port::PortConfig;
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkChange, LinkRef};
use crate::values::address::ToAddress;
use crate::values::counters::Counters;
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;

/// What [`VethNic::create`] makes: the sandbox's namespace, the name,
/// MAC, MTU and addresses of the sandbox end, and the host end's name and
/// port options.
///
/// ```
/// use bridgekit::{PortConfig, VethNicConfig};
/// let cfg = VethNicConfig::for_pid(4242)
///     .name("eth0")
///     .mac("52:54:00:12:34:56")
///     .mtu(1500)
///     .address("10.0.0.2/24")
///     .port(PortConfig::managed("52:54:00:12:34:56").up());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a NIC config changes nothing until it is passed to VethNic::create"]
pub struct VethNicConfig {
    netns: PathBuf,
    name: String,
    host_name: Option<String>,
    mac: Option<MacAddr6>,
    mtu: Option<u32>,
    addresses: Vec<IpNet>,
    port: PortConfig,
    bad: Option<BadInput>,
}

impl VethNicConfig {
    /// A NIC for the network namespace behind `netns` (`/proc/PID/ns/net`,
    /// `/run/netns/NAME`, or a bind mount of one), named `eth0` there, with
    /// the kernel's MAC and MTU, no address, and default port options.
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::new("/run/netns/sandbox1");
    /// ```
    pub fn new(netns: impl AsRef<Path>) -> Self {
        VethNicConfig {
            netns: netns.as_ref().to_path_buf(),
            name: "eth0".into(),
            host_name: None,
            mac: None,
            mtu: None,
            addresses: Vec::new(),
            port: PortConfig::new(),
            bad: None,
        }
    }

    /// A NIC for the network namespace of process `pid`.
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242);
    /// ```
    pub fn for_pid(pid: u32) -> Self {
        Self::new(format!("/proc/{pid}/ns/net"))
    }

    /// A NIC for the network namespace `fd` refers to (an open
    /// `/proc/PID/ns/net`, say); the fd must stay open until `create`
    /// returns.
    ///
    /// ```no_run
    /// use std::os::fd::AsFd;
    /// let ns = std::fs::File::open("/proc/4242/ns/net")?;
    /// let cfg = bridgekit::VethNicConfig::for_fd(ns.as_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn for_fd(fd: BorrowedFd<'_>) -> Self {
        Self::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
    }

    /// The name inside the namespace (default `eth0`).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).name("net1");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The host end's name (default: `vb` and eight random hex digits, as
    /// CNI plugins name theirs).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).host_name("vethsb1");
    /// ```
    pub fn host_name(mut self, name: impl Into<String>) -> Self {
        self.host_name = Some(name.into());
        self
    }

    /// The MAC inside the namespace (default: the kernel's random one).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).mac("52:54:00:12:34:56");
    /// ```
    pub fn mac(mut self, mac: impl ToMac) -> Self {
        match mac.to_mac() {
            Ok(m) => self.mac = Some(m),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// The MTU of both ends (default: the kernel's, 1500).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).mtu(1450);
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// An address inside the namespace (repeatable).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).address("10.0.0.2/24");
    /// ```
    pub fn address(mut self, address: impl ToAddress) -> Self {
        match address.to_address() {
            Ok(a) => self.addresses.push(a),
            Err(e) => BadInput::keep_first(&mut self.bad, e),
        }
        self
    }

    /// How the host end is attached (see [`Bridge::attach_port`]).
    ///
    /// ```
    /// let cfg = bridgekit::VethNicConfig::for_pid(4242).port(bridgekit::PortConfig::new().up());
    /// ```
    pub fn port(mut self, port: PortConfig) -> Self {
        self.port = port;
        self
    }

    fn validate(&self) -> Result<()> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        IfName::new(&self.name)?;
        if let Some(h) = &self.host_name {
            IfName::new(h)?;
        }
        if let Some(mac) = self.mac {
            validate_unicast(mac)?;
        }
        if let Some(mtu) = self.mtu {
            validate_mtu(mtu)?;
        }
        self.port.validate()
    }
}

/// A sandbox's NIC: a veth pair, the host end a port of a bridge, the
/// other end in the sandbox's namespace (`ip link add HOST type veth peer
/// name eth0 netns NS`, `ip -n NS addr add ...`, `ip link set HOST master
/// BRIDGE`).
///
/// Deleting either end deletes both; the kernel also deletes the pair when
/// the sandbox's namespace goes away.
///
/// ```no_run
/// use bridgekit::{PortConfig, VethNic, VethNicConfig};
/// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
/// let nic = VethNic::create(&br, VethNicConfig::for_pid(4242)
///     .address("10.0.0.2/24")
///     .port(PortConfig::new().up())).await?;
/// println!("{} is {} in the sandbox", nic.host_name(), nic.name());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VethNic {
    bridge: Bridge,
    host: IfName,
    host_index: u32,
    name: IfName,
}

impl VethNic {
    /// Creates the pair and sets it up: the sandbox end moved into its
    /// namespace and named there in one step, then its addresses and up;
    /// the host end attached with the port config (`ip link add HOST type
    /// veth peer name TMP`, `ip link set TMP address MAC mtu MTU`, `ip link
    /// set HOST mtu MTU`, `ip link set TMP netns NS name NAME`, `ip -n NS
    /// addr add ADDR dev NAME`, `ip -n NS link set NAME up`, then `ip link
    /// set HOST master BRIDGE` with the port options, as
    /// [`Bridge::attach_port`](crate::Bridge::attach_port)). If any step fails,
    /// both ends are gone (deleting the host end takes the other with it)
    /// and the first error is returned. Like the other multi-step calls,
    /// it runs to its end (done, or undone) even if its future is dropped.
    ///
    /// The MAC and MTU are set before the move (they travel with the
    /// link); addresses and the up state after it (a move flushes them).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, MAC, MTU or address (nothing
    /// sent); [`Error::AlreadyExists`] when the name is taken in the
    /// namespace, or the host name here; [`Error::Io`] or
    /// [`Error::PermissionDenied`] when the namespace cannot be entered;
    /// the errors of [`Bridge::attach_port`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let nic = bridgekit::VethNic::create(&br, bridgekit::VethNicConfig::new("/run/netns/sb1")).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::CreateVethNic.name(), iface = %bridge.name()), err(Display))]
    pub async fn create(bridge: &Bridge, config: VethNicConfig) -> Result<VethNic> {
        config.validate()?;
        let op = Op::CreateVethNic;
        let nl = bridge.netlink().clone();
        let inside = nl.connect_sibling(op, &config.netns)?;
        let ns =
            std::fs::File::open(&config.netns).map_err(|e| Error::netns(op, &config.netns, e))?;
        let tag = crate::values::name::random_tag();
        let host = config
            .host_name
            .clone()
            .unwrap_or_else(|| format!("vb{tag}"));
        let temp = format!("vp{tag}");
        let bridge = bridge.clone();
        run_to_end(&bridge.netlink().clone(), async move {
            nl.create_veth(op, &host, &temp).await?;
            let made = async {
                let host_link = nl.link(op, &host, LinkRef::Name(&host)).await?;
                let peer = nl.link(op, &temp, LinkRef::Name(&temp)).await?;
                let change = LinkChange {
                    mac: config.mac,
                    mtu: config.mtu,
                    ..LinkChange::default()
                };
                if change.mac.is_some() || change.mtu.is_some() {
                    nl.set_link(op, &temp, peer.index, &change).await?;
                }
                if let Some(mtu) = config.mtu {
                    let change = LinkChange {
                        mtu: Some(mtu),
                        ..LinkChange::default()
                    };
                    nl.set_link(op, &host, host_link.index, &change).await?;
                }
                nl.move_to_netns(op, &temp, peer.index, ns.as_raw_fd(), &config.name)
                    .await?;
                let moved = inside
                    .link(op, &config.name, LinkRef::Name(&config.name))
                    .await?;
                for a in &config.addresses {
                    inside
                        .add_address(&config.name, moved.index, *a, false)
                        .await?;
                }
                let up = LinkChange {
                    up: Some(true),
                    ..LinkChange::default()
                };
                inside.set_link(op, &config.name, moved.index, &up).await?;
                bridge
                    .attach_port(host_link.index, config.port.clone())
                    .await?;
                Ok::<_, Error>(host_link.index)
            }
            .await;
            match made {
                Ok(host_index) => Ok(VethNic {
                    bridge,
                    host: IfName::from_kernel(host),
                    host_index,
                    name: IfName::from_kernel(config.name),
                }),
                Err(e) => {
                    // Deleting the host end takes the other end with it,
                    // wherever it is now.
                    let mut journal = Journal::new();
                    journal.made(Step::LinkNamed(Op::DeleteVethNic, host.as_str().into()));
                    Err(e.with_undo_failures(journal.rollback(&nl).await))
                }
            }
        })
        .await
    }

    /// The host end's name.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VethNic) { println!("{}", nic.host_name()); }
    /// ```
    #[must_use]
    pub fn host_name(&self) -> &IfName {
        &self.host
    }

    /// The host end's ifindex.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VethNic) { println!("{}", nic.host_index()); }
    /// ```
    #[must_use]
    pub fn host_index(&self) -> u32 {
        self.host_index
    }

    /// The traffic counters of the pair's host end (`ip -s link show`), as the host
    /// sees it: `rx` is what the guest sent, `tx` what it was sent. One
    /// request.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) if it is gone; kernel
    /// errors.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VethNic) -> Result<(), bridgekit::Error> {
    /// let c = nic.counters().await?;
    /// println!("the guest sent {} packets, {} were dropped on the way to it", c.rx_packets, c.tx_dropped);
    /// # Ok(()) }
    /// ```
    pub async fn counters(&self) -> Result<Counters> {
        self.read_counters().await
    }

    /// [`counters`](Self::counters) as a future that owns what it needs
    /// (for the blocking twin).
    pub(crate) fn read_counters(
        &self,
    ) -> impl std::future::Future<Output = Result<Counters>> + Send + 'static {
        let (nl, name, index) = (
            self.bridge.nl.clone(),
            self.host.to_string(),
            self.host_index,
        );
        async move { nl.counters(Op::ReadCounters, &name, index).await }
    }

    /// The name inside the sandbox's namespace.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VethNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// Deletes the pair (both ends).
    ///
    /// # Errors
    /// Kernel errors from the delete; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VethNic) -> Result<(), bridgekit::Error> {
    /// nic.delete().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DeleteVethNic.name(), iface = %self.host), err(Display))]
    pub async fn delete(self) -> Result<()> {
        self.bridge
            .netlink()
            .delete_link(Op::DeleteVethNic, self.host.as_str(), self.host_index)
            .await?;
        self.bridge.drop_guard(self.host.as_str()).await?;
        self.bridge.drop_ifb(self.host_index).await
    }
}
