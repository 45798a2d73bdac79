//! A blocking API for programs without an async runtime: VMMs built on
//! threads and epoll (cloud-hypervisor, Firecracker), their own executor
//! (crosvm), or plain threads.
//!
//! The async API's bridge, port, VLAN, FDB, NIC and event operations,
//! each a plain function call that returns when the operation is done.
//! VXLAN devices, their remotes and a port's VLAN-to-VNI map are async
//! only for now ([`crate::Vxlan`], [`crate::Bridge::add_vlan_tunnels`]).
//! The calls are run by a private single-threaded tokio runtime on a
//! thread of its own, which the [`Netlink`] handle starts and owns (one
//! per connection, shared by its clones and by every [`Bridge`] and
//! [`VmNic`] made through it; it ends when the last of them is dropped).
//! Your program needs no tokio, and none of your threads is taken over.
//!
//! Each [`Netlink::connect`] costs up to two threads (that runtime's,
//! and, from the first sysctl or sysfs access, the connection's namespace
//! thread): make one per process (per network namespace) and clone it
//! where it is needed.
//!
//! ```no_run
//! use std::time::Duration;
//! use bridgekit::blocking::{Bridge, Netlink, VmNic};
//! use bridgekit::{BridgeConfig, PortConfig, VmNicConfig};
//!
//! fn main() -> Result<(), bridgekit::Error> {
//!     let nl = Netlink::connect()?;
//!     let br = Bridge::create(&nl, BridgeConfig::new("virbr0")?
//!         .mac("52:54:00:12:34:56")
//!         .address("192.168.122.1/24")
//!         .address("fd00:122::1/64"))?;
//!     br.wait_dad(Duration::from_secs(5))?;
//!     let guest = "52:54:00:aa:00:01";
//!     let nic = VmNic::create(&br, VmNicConfig::new(guest).queues(4)
//!         .port(PortConfig::managed(guest).up()))?;
//!     // hand nic.into_fds() to the VMM...
//!     br.delete()?;
//!     Ok(())
//! }
//! ```
//!
//! # Promises
//! The async API's promises hold: a call that fails midway has undone
//! what it did when it returns. A blocking call cannot be dropped halfway:
//! it returns only when the operation is whole (done, or rolled back), so
//! there is no cancellation to reason about; calls that wait take a
//! timeout ([`Bridge::wait_dad`], [`BridgeEvents::next_timeout`]). A call
//! still running on one thread when another thread drops its handles goes
//! on to its end: the runtime thread lives until the last handle and the
//! last call are gone.
//!
//! # Inside an async runtime
//! Called on a thread that runs a tokio runtime (inside `block_on`, an
//! async task, or `spawn_blocking`), every call answers
//! [`Error::BlockingInsideRuntime`] and sends nothing: blocking such a
//! thread stalls its runtime, and can deadlock it. Use the async API there.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures::StreamExt;
use ipnet::IpNet;
use macaddr::MacAddr6;

use crate::bridge::apply::Change;
use crate::bridge::events::BridgeEvent;
use crate::bridge::fdb::FdbEntry;
use crate::bridge::legacy::LegacyNic;
use crate::bridge::port::{PortConfig, PortStatus, ToPort};
use crate::bridge::{BridgeConfig, BridgeStatus};
use crate::error::{Error, Op, Result};
use crate::nic::vm::VmNicConfig;
use crate::values::address::{AddressStatus, ToAddress};
use crate::values::bridge_option::BridgeOption;
use crate::values::mac::ToMac;
use crate::values::name::IfName;
use crate::values::vlan::{VlanId, VlanMember, VlanProtocol, VlanRange};

/// The runtime thread: a current-thread tokio runtime that runs until the
/// last handle is dropped.
struct Driver {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Driver {
    fn start() -> std::io::Result<Arc<Driver>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("bridgekit-blocking".into())
            .spawn(move || {
                // Runs the tasks (and the netlink sockets' I/O) until the
                // last handle says stop.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Arc::new(Driver {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }))
    }

    /// Runs `fut` on the runtime thread and waits for its output.
    fn run<T, F>(&self, op: Op, iface: &str, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        refuse_inside_runtime(op, iface)?;
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(Error::Io {
                op,
                iface: iface.to_string(),
                source: std::io::Error::other("bridgekit's blocking runtime thread has stopped"),
            })
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            if t.thread().id() != thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

fn refuse_inside_runtime(op: Op, iface: &str) -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::BlockingInsideRuntime {
            op,
            iface: iface.to_string(),
        });
    }
    Ok(())
}

/// A netlink connection with its runtime thread: the blocking form of
/// [`crate::Netlink`]. Cheap to clone; clones share the connection and
/// the thread.
///
/// ```no_run
/// let nl = bridgekit::blocking::Netlink::connect()?;
/// let other = bridgekit::blocking::Netlink::connect_in_netns("/proc/4242/ns/net")?;
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Clone)]
pub struct Netlink {
    // Dropped before the driver: the connection's task ends on a live runtime.
    nl: crate::netlink::Netlink,
    driver: Arc<Driver>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Netlink")
            .field("nl", &self.nl)
            .finish_non_exhaustive()
    }
}

impl Netlink {
    /// Connects to the network namespace of the calling thread, and starts
    /// the runtime thread. See [`crate::Netlink::connect`].
    ///
    /// # Errors
    /// [`Error::BlockingInsideRuntime`] inside an async runtime;
    /// [`Error::Io`] with [`Op::Connect`] if the socket or the thread
    /// cannot be made.
    ///
    /// ```no_run
    /// let nl = bridgekit::blocking::Netlink::connect()?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn connect() -> Result<Self> {
        // The runtime thread starts in the calling thread's network
        // namespace (a new thread inherits it), where the socket is made.
        Self::start("netlink", crate::netlink::Netlink::connect)
    }

    /// Connects to the network namespace behind `path`. See
    /// [`crate::Netlink::connect_in_netns`].
    ///
    /// # Errors
    /// As [`connect`](Self::connect), and [`Error::PermissionDenied`]
    /// without CAP_SYS_ADMIN over the namespace.
    ///
    /// ```no_run
    /// let nl = bridgekit::blocking::Netlink::connect_in_netns("/proc/4242/ns/net")?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn connect_in_netns(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let where_ = path.display().to_string();
        Self::start(&where_, move || {
            crate::netlink::Netlink::connect_in_netns(path)
        })
    }

    fn start(
        where_: &str,
        connect: impl FnOnce() -> Result<crate::netlink::Netlink> + Send + 'static,
    ) -> Result<Self> {
        refuse_inside_runtime(Op::Connect, where_)?;
        let driver = Driver::start().map_err(|e| Error::io(Op::Connect, where_, e))?;
        let nl = driver.run(Op::Connect, where_, async move { connect() })?;
        Ok(Netlink { nl, driver })
    }

    /// The async connection underneath, for code that also runs async
    /// (its calls must then run on a runtime of yours).
    ///
    /// ```no_run
    /// let nl = bridgekit::blocking::Netlink::connect()?;
    /// let async_nl: &bridgekit::Netlink = nl.as_async();
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn as_async(&self) -> &crate::netlink::Netlink {
        &self.nl
    }

    /// Makes the bridge and everything else in `config` match: the
    /// blocking [`BridgeConfig::apply`]. Returns the bridge and the
    /// changes made (none when everything already matched), as its async
    /// twin does.
    ///
    /// # Errors
    /// As [`BridgeConfig::apply`].
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let config = bridgekit::BridgeConfig::new("virbr0")?.address("192.168.122.1/24");
    /// let applied = nl.apply(&config)?;
    /// println!("{}: {:?}", applied.bridge.name(), applied.changes);
    /// # Ok(()) }
    /// ```
    pub fn apply(&self, config: &BridgeConfig) -> Result<Applied> {
        let nl = self.nl.clone();
        let name = config.name().to_string();
        let config = config.clone();
        let applied = self
            .driver
            .run(Op::Apply, &name, async move { config.apply(&nl).await })?;
        Ok(Applied {
            bridge: Bridge {
                inner: applied.bridge,
                driver: self.driver.clone(),
            },
            changes: applied.changes,
        })
    }
}

/// What [`Netlink::apply`] did: the bridge, and the changes made (empty
/// when nothing differed); the blocking form of [`crate::Applied`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Applied {
    /// The bridge, now as configured.
    pub bridge: Bridge,
    /// The changes made, in order.
    pub changes: Vec<Change>,
}

/// A Linux bridge: the blocking form of [`crate::Bridge`]. Every method
/// is its async twin's, run to its end.
///
/// ```no_run
/// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
/// let br = bridgekit::blocking::Bridge::open(&nl, "virbr0")?;
/// br.set_mtu(9000)?;
/// println!("{:?}", br.status()?.ports);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Bridge {
    inner: crate::bridge::Bridge,
    driver: Arc<Driver>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

/// Blocking twins of `crate::Bridge`'s methods that take `&self` and owned
/// (or `Copy`) arguments: each runs its twin on the runtime thread.
macro_rules! blocking_twins {
    ($(
        $op:expr, $example:literal,
        fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
    )*) => {$(
        #[doc = concat!("The blocking [`crate::Bridge::", stringify!($name), "`]: see it for what it does and its errors.")]
        ///
        /// ```no_run
        /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
        #[doc = concat!("let _ = ", $example, "?;")]
        /// # Ok(()) }
        /// ```
        ///
        /// # Errors
        #[doc = concat!("As [`crate::Bridge::", stringify!($name), "`], and [`Error::BlockingInsideRuntime`].")]
        pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
            let br = self.inner.clone();
            self.driver.run($op, self.inner.name().as_str(), async move {
                br.$name($($arg),*).await
            })
        }
    )*};
}

impl Bridge {
    /// Creates a bridge as `config` says: the blocking
    /// [`crate::Bridge::create`].
    ///
    /// # Errors
    /// As [`crate::Bridge::create`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::blocking::Bridge::create(&nl, bridgekit::BridgeConfig::new("virbr0")?)?;
    /// # Ok(()) }
    /// ```
    pub fn create(nl: &Netlink, config: BridgeConfig) -> Result<Bridge> {
        let name = config.name().to_string();
        let conn = nl.nl.clone();
        let inner = nl.driver.run(Op::CreateBridge, &name, async move {
            crate::bridge::Bridge::create(&conn, config).await
        })?;
        Ok(Bridge {
            inner,
            driver: nl.driver.clone(),
        })
    }

    /// Opens an existing bridge: the blocking [`crate::Bridge::open`].
    ///
    /// # Errors
    /// As [`crate::Bridge::open`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::blocking::Bridge::open(&nl, "virbr0")?;
    /// # Ok(()) }
    /// ```
    pub fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Bridge> {
        let name = name.as_ref().to_string();
        let conn = nl.nl.clone();
        let inner = nl.driver.run(Op::OpenBridge, &name.clone(), async move {
            crate::bridge::Bridge::open(&conn, name).await
        })?;
        Ok(Bridge {
            inner,
            driver: nl.driver.clone(),
        })
    }

    /// The bridge's name.
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) {
    /// println!("{}", br.name());
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        self.inner.name()
    }

    /// The bridge's ifindex.
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) {
    /// println!("{}", br.index());
    /// # }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.inner.index()
    }

    /// The async bridge underneath.
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) {
    /// let async_br: &bridgekit::Bridge = br.as_async();
    /// # }
    /// ```
    #[must_use]
    pub fn as_async(&self) -> &crate::bridge::Bridge {
        &self.inner
    }

    /// Deletes the bridge (and a legacy `<bridge>-nic` tap): the blocking
    /// [`crate::Bridge::delete`].
    ///
    /// # Errors
    /// As [`crate::Bridge::delete`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<LegacyNic> {
        let Bridge { inner, driver } = self;
        let name = inner.name().to_string();
        driver.run(Op::DeleteBridge, &name, async move { inner.delete().await })
    }

    blocking_twins! {
        Op::SetMtu, "br.set_mtu(9000)",
        fn set_mtu(&self, mtu: u32) -> ();
        Op::SetUp, "br.up()",
        fn up(&self) -> ();
        Op::SetDown, "br.down()",
        fn down(&self) -> ();
        Op::SetBridgeOptions, "br.set_option(bridgekit::BridgeOption::MulticastSnooping(false))",
        fn set_option(&self, option: BridgeOption) -> ();
        Op::SetBridgeOptions, "br.set_stp(true)",
        fn set_stp(&self, on: bool) -> ();
        Op::SetBridgeOptions, "br.set_forward_delay(std::time::Duration::from_secs(4))",
        fn set_forward_delay(&self, delay: Duration) -> ();
        Op::SetBridgeOptions, "br.set_ageing_time(std::time::Duration::from_secs(300))",
        fn set_ageing_time(&self, time: Duration) -> ();
        Op::SetIpv6Sysctl(crate::values::sysctl::Ipv6Sysctl::AcceptRa), "br.set_accept_ra(false)",
        fn set_accept_ra(&self, on: bool) -> ();
        Op::SetIpv6Sysctl(crate::values::sysctl::Ipv6Sysctl::Autoconf), "br.set_autoconf(false)",
        fn set_autoconf(&self, on: bool) -> ();
        Op::SetIpv6Sysctl(crate::values::sysctl::Ipv6Sysctl::DisableIpv6), "br.set_disable_ipv6(true)",
        fn set_disable_ipv6(&self, on: bool) -> ();
        Op::ReadLink, "br.status()",
        fn status(&self) -> BridgeStatus;
        Op::ListAddresses, "br.addresses()",
        fn addresses(&self) -> Vec<AddressStatus>;
        Op::WaitDad, "br.wait_dad(std::time::Duration::from_secs(5))",
        fn wait_dad(&self, timeout: Duration) -> ();
        Op::ListPorts, "br.ports()",
        fn ports(&self) -> Vec<PortStatus>;
        Op::SetVlanOptions, "br.set_vlan_filtering(true)",
        fn set_vlan_filtering(&self, on: bool) -> ();
        Op::SetVlanOptions, "br.set_default_pvid(None)",
        fn set_default_pvid(&self, pvid: Option<VlanId>) -> ();
        Op::SetVlanOptions, "br.set_vlan_protocol(bridgekit::VlanProtocol::Dot1Ad)",
        fn set_vlan_protocol(&self, protocol: VlanProtocol) -> ();
        Op::ListFdb, "br.fdb()",
        fn fdb(&self) -> Vec<FdbEntry>;
    }

    /// Sets the bridge's MAC: the blocking [`crate::Bridge::set_mac`].
    ///
    /// # Errors
    /// As [`crate::Bridge::set_mac`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_mac("52:54:00:12:34:56")?;
    /// # Ok(()) }
    /// ```
    pub fn set_mac(&self, mac: impl ToMac) -> Result<()> {
        let mac = mac.to_mac()?;
        let br = self.inner.clone();
        self.run(Op::SetMac, async move { br.set_mac(mac).await })
    }

    /// Adds an address: the blocking [`crate::Bridge::add_address`].
    ///
    /// # Errors
    /// As [`crate::Bridge::add_address`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_address("192.168.122.1/24")?;
    /// # Ok(()) }
    /// ```
    pub fn add_address(&self, address: impl ToAddress) -> Result<()> {
        let net = address.to_address()?;
        let br = self.inner.clone();
        self.run(Op::AddAddress, async move { br.add_address(net).await })
    }

    /// Adds an address with DAD skipped: the blocking
    /// [`crate::Bridge::add_address_nodad`].
    ///
    /// # Errors
    /// As [`crate::Bridge::add_address_nodad`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_address_nodad("fd00::1/64")?;
    /// # Ok(()) }
    /// ```
    pub fn add_address_nodad(&self, address: impl ToAddress) -> Result<()> {
        let net = address.to_address()?;
        let br = self.inner.clone();
        self.run(
            Op::AddAddress,
            async move { br.add_address_nodad(net).await },
        )
    }

    /// Removes an address: the blocking [`crate::Bridge::remove_address`].
    ///
    /// # Errors
    /// As [`crate::Bridge::remove_address`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_address("192.168.122.1/24")?;
    /// # Ok(()) }
    /// ```
    pub fn remove_address(&self, address: impl ToAddress) -> Result<()> {
        let net: IpNet = address.to_address()?;
        let br = self.inner.clone();
        self.run(
            Op::RemoveAddress,
            async move { br.remove_address(net).await },
        )
    }

    /// Waits for DAD of some addresses: the blocking
    /// [`crate::Bridge::wait_dad_for`].
    ///
    /// # Errors
    /// As [`crate::Bridge::wait_dad_for`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    /// br.wait_dad_for(&["fd00::1".parse()?], std::time::Duration::from_secs(5))?;
    /// # Ok(()) }
    /// ```
    pub fn wait_dad_for(&self, addresses: &[std::net::Ipv6Addr], timeout: Duration) -> Result<()> {
        let addresses = addresses.to_vec();
        let br = self.inner.clone();
        self.run(Op::WaitDad, async move {
            br.wait_dad_for(&addresses, timeout).await
        })
    }

    /// Attaches a port: the blocking [`crate::Bridge::attach_port`].
    ///
    /// # Errors
    /// As [`crate::Bridge::attach_port`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.attach_port("vnet0", bridgekit::PortConfig::new().up())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_port(&self, port: impl ToPort, config: PortConfig) -> Result<()> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(
            Op::AttachPort,
            async move { br.attach_port(port, config).await },
        )
    }

    /// Waits until a port forwards: the blocking
    /// [`crate::Bridge::wait_forwarding`].
    ///
    /// # Errors
    /// As [`crate::Bridge::wait_forwarding`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.wait_forwarding("vnet0", std::time::Duration::from_secs(35))?;
    /// # Ok(()) }
    /// ```
    pub fn wait_forwarding(&self, port: impl ToPort, timeout: Duration) -> Result<()> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(Op::WaitForwarding, async move {
            br.wait_forwarding(port, timeout).await
        })
    }

    /// Detaches a port: the blocking [`crate::Bridge::detach_port`].
    ///
    /// # Errors
    /// As [`crate::Bridge::detach_port`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.detach_port("vnet0")?;
    /// # Ok(()) }
    /// ```
    pub fn detach_port(&self, port: impl ToPort) -> Result<()> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(Op::DetachPort, async move { br.detach_port(port).await })
    }

    /// Attaches several ports, all or none: the blocking
    /// [`crate::Bridge::attach_ports`].
    ///
    /// # Errors
    /// As [`crate::Bridge::attach_ports`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.attach_ports([("vnet0", bridgekit::PortConfig::new()), ("vnet1", bridgekit::PortConfig::new())])?;
    /// # Ok(()) }
    /// ```
    pub fn attach_ports<P: ToPort>(
        &self,
        ports: impl IntoIterator<Item = (P, PortConfig)>,
    ) -> Result<()> {
        let ports = ports
            .into_iter()
            .map(|(p, c)| Ok((p.to_port()?, c)))
            .collect::<Result<Vec<_>>>()?;
        let br = self.inner.clone();
        self.run(Op::AttachPort, async move { br.attach_ports(ports).await })
    }

    /// Detaches several ports, all or none: the blocking
    /// [`crate::Bridge::detach_ports`].
    ///
    /// # Errors
    /// As [`crate::Bridge::detach_ports`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.detach_ports(["vnet0", "vnet1"])?;
    /// # Ok(()) }
    /// ```
    pub fn detach_ports<P: ToPort>(&self, ports: impl IntoIterator<Item = P>) -> Result<()> {
        let ports = ports
            .into_iter()
            .map(|p| p.to_port())
            .collect::<Result<Vec<_>>>()?;
        let br = self.inner.clone();
        self.run(Op::DetachPort, async move { br.detach_ports(ports).await })
    }

    /// Adds VLANs to a port: the blocking [`crate::Bridge::add_vlans`].
    ///
    /// # Errors
    /// As [`crate::Bridge::add_vlans`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{VlanId, VlanMember};
    /// br.add_vlans("vnet0", &[VlanMember::access(VlanId::new(10)?)])?;
    /// # Ok(()) }
    /// ```
    pub fn add_vlans(&self, port: impl ToPort, members: &[VlanMember]) -> Result<()> {
        let port = port.to_port()?;
        let members = members.to_vec();
        let br = self.inner.clone();
        self.run(
            Op::AddVlans,
            async move { br.add_vlans(port, &members).await },
        )
    }

    /// Removes VLANs from a port: the blocking [`crate::Bridge::remove_vlans`].
    ///
    /// # Errors
    /// As [`crate::Bridge::remove_vlans`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_vlans("vnet0", &[bridgekit::VlanRange::new(10, 20)?])?;
    /// # Ok(()) }
    /// ```
    pub fn remove_vlans(&self, port: impl ToPort, ranges: &[VlanRange]) -> Result<()> {
        let port = port.to_port()?;
        let ranges = ranges.to_vec();
        let br = self.inner.clone();
        self.run(Op::RemoveVlans, async move {
            br.remove_vlans(port, &ranges).await
        })
    }

    /// A port's VLANs: the blocking [`crate::Bridge::vlans`].
    ///
    /// # Errors
    /// As [`crate::Bridge::vlans`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", br.vlans("vnet0")?);
    /// # Ok(()) }
    /// ```
    pub fn vlans(&self, port: impl ToPort) -> Result<Vec<VlanMember>> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(Op::ListVlans, async move { br.vlans(port).await })
    }

    /// Adds a static FDB entry: the blocking [`crate::Bridge::add_fdb`].
    ///
    /// # Errors
    /// As [`crate::Bridge::add_fdb`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    /// br.add_fdb("vnet0", "52:54:00:12:34:56", None)?;
    /// # Ok(()) }
    /// ```
    pub fn add_fdb(&self, port: impl ToPort, mac: impl ToMac, vlan: Option<VlanId>) -> Result<()> {
        let port = port.to_port()?;
        let mac = mac.to_mac()?;
        let br = self.inner.clone();
        self.run(Op::AddFdb, async move { br.add_fdb(port, mac, vlan).await })
    }

    /// Removes an FDB entry: the blocking [`crate::Bridge::remove_fdb`].
    ///
    /// # Errors
    /// As [`crate::Bridge::remove_fdb`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    /// br.remove_fdb("vnet0", "52:54:00:12:34:56", None)?;
    /// # Ok(()) }
    /// ```
    pub fn remove_fdb(
        &self,
        port: impl ToPort,
        mac: impl ToMac,
        vlan: Option<VlanId>,
    ) -> Result<()> {
        let port = port.to_port()?;
        let mac = mac.to_mac()?;
        let br = self.inner.clone();
        self.run(Op::RemoveFdb, async move {
            br.remove_fdb(port, mac, vlan).await
        })
    }

    /// The bridge's events, as an iterator: the blocking
    /// [`crate::Bridge::events`].
    ///
    /// # Errors
    /// As [`crate::Bridge::events`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// for event in br.events()? {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Result<BridgeEvents> {
        self.events_with(crate::EventKinds::new())
    }

    /// The blocking [`crate::Bridge::events_with`]: the bridge's events
    /// with the extra kinds in `kinds` (FDB, VLANs, multicast routers).
    ///
    /// # Errors
    /// As [`crate::Bridge::events`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// for event in br.events_with(bridgekit::EventKinds::new().fdb(true))? {
    ///     println!("{}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events_with(&self, kinds: crate::EventKinds) -> Result<BridgeEvents> {
        let br = self.inner.clone();
        let events = self.run(Op::WatchEvents, async move { br.events_with(kinds).await })?;
        Ok(BridgeEvents {
            events: Some(events),
            name: self.inner.name().to_string(),
            driver: self.driver.clone(),
        })
    }

    fn run<T, F>(&self, op: Op, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        self.driver.run(op, self.inner.name().as_str(), fut)
    }
}

/// A bridge's events as an [`Iterator`]: the blocking form of
/// [`crate::BridgeEvents`], with the same overrun-then-resync rule.
/// `next` waits for the next event; [`next_timeout`](Self::next_timeout)
/// waits at most a while. Dropping it closes its socket.
///
/// ```no_run
/// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
/// let mut events = br.events()?;
/// while let Some(event) = events.next_timeout(std::time::Duration::from_secs(1))? {
///     println!("{event:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BridgeEvents {
    // Dropped before the driver: its socket is the runtime's.
    events: Option<crate::bridge::events::BridgeEvents>,
    name: String,
    driver: Arc<Driver>,
}

impl BridgeEvents {
    /// The next event, waiting at most `timeout`: `Ok(None)` when none
    /// came in time.
    ///
    /// # Errors
    /// The stream's own errors (see [`crate::Bridge::events`]), and
    /// [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(mut events: bridgekit::blocking::BridgeEvents) -> Result<(), bridgekit::Error> {
    /// if let Some(event) = events.next_timeout(std::time::Duration::from_millis(100))? {
    ///     println!("{event:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<BridgeEvent>> {
        match self.next_within(Some(timeout)) {
            Some(Ok(Some(event))) => Ok(Some(event)),
            Some(Err(e)) => Err(e),
            Some(Ok(None)) | None => Ok(None),
        }
    }

    /// The next item; `Ok(None)` on a timeout, outer `None` at the end.
    fn next_within(&mut self, timeout: Option<Duration>) -> Option<Result<Option<BridgeEvent>>> {
        let mut events = self.events.take()?;
        let out = self.driver.run(Op::WatchEvents, &self.name, async move {
            let next = match timeout {
                Some(t) => tokio::time::timeout(t, events.next()).await.ok(),
                None => Some(events.next().await),
            };
            Ok((events, next))
        });
        match out {
            Err(e) => Some(Err(e)),
            Ok((events, next)) => match next {
                None => {
                    self.events = Some(events);
                    Some(Ok(None))
                }
                Some(None) => None,
                Some(Some(item)) => {
                    self.events = Some(events);
                    Some(item.map(Some))
                }
            },
        }
    }
}

impl Iterator for BridgeEvents {
    type Item = Result<BridgeEvent>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_within(None)? {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A guest NIC: the blocking form of [`crate::VmNic`], a tap attached to
/// a bridge, with its queue fds.
///
/// The fds are close-on-exec, as they should be: a VMM child that is to
/// use them clears `FD_CLOEXEC` on each in `pre_exec` (see
/// `examples/blocking_vmm.rs`).
///
/// ```no_run
/// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
/// let guest = "52:54:00:12:34:56";
/// let nic = bridgekit::blocking::VmNic::create(&br, bridgekit::VmNicConfig::new(guest).queues(2))?;
/// let fds = nic.into_fds(); // to the VMM
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VmNic {
    inner: crate::nic::vm::VmNic,
    driver: Arc<Driver>,
}

impl VmNic {
    /// Creates the tap and attaches it: the blocking [`crate::VmNic::create`].
    ///
    /// # Errors
    /// As [`crate::VmNic::create`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    /// let nic = bridgekit::blocking::VmNic::create(&br, bridgekit::VmNicConfig::new("52:54:00:12:34:56"))?;
    /// # Ok(()) }
    /// ```
    pub fn create(bridge: &Bridge, config: VmNicConfig) -> Result<VmNic> {
        let br = bridge.inner.clone();
        let inner = bridge.run(Op::CreateVmNic, async move {
            crate::nic::vm::VmNic::create(&br, config).await
        })?;
        Ok(VmNic {
            inner,
            driver: bridge.driver.clone(),
        })
    }

    /// The tap's name.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        self.inner.name()
    }

    /// The tap's ifindex.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { println!("{}", nic.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.inner.index()
    }

    /// The guest's MAC.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { println!("{}", nic.guest_mac()); }
    /// ```
    #[must_use]
    pub fn guest_mac(&self) -> MacAddr6 {
        self.inner.guest_mac()
    }

    /// The tap's own (host side) MAC.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { println!("{}", nic.host_mac()); }
    /// ```
    #[must_use]
    pub fn host_mac(&self) -> MacAddr6 {
        self.inner.host_mac()
    }

    /// The queue fds, one per queue, close-on-exec (see
    /// [`crate::VmNic::queue_fds`] for handing them to a child process).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { println!("{} queues", nic.queue_fds().len()); }
    /// ```
    #[must_use]
    pub fn queue_fds(&self) -> &[std::os::fd::OwnedFd] {
        self.inner.queue_fds()
    }

    /// Gives the queue fds to the caller (see [`crate::VmNic::into_fds`]).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) { let fds = nic.into_fds(); }
    /// ```
    #[must_use]
    pub fn into_fds(self) -> Vec<std::os::fd::OwnedFd> {
        self.inner.into_fds()
    }

    /// Removes the NIC now: the blocking [`crate::VmNic::delete`].
    ///
    /// # Errors
    /// As [`crate::VmNic::delete`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) -> Result<(), bridgekit::Error> {
    /// nic.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<()> {
        let VmNic { inner, driver } = self;
        let name = inner.name().to_string();
        driver.run(Op::DeleteVmNic, &name, async move { inner.delete().await })
    }
}

/// A sandbox's NIC: the blocking form of [`crate::VethNic`], a veth pair
/// with one end on the bridge and the other in the sandbox's namespace.
///
/// ```no_run
/// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
/// let nic = bridgekit::blocking::VethNic::create(
///     &br,
///     bridgekit::VethNicConfig::for_pid(4242).address("10.0.0.2/24"),
/// )?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VethNic {
    inner: crate::nic::veth::VethNic,
    driver: Arc<Driver>,
}

impl VethNic {
    /// Creates the pair, all or nothing: the blocking
    /// [`crate::VethNic::create`].
    ///
    /// # Errors
    /// As [`crate::VethNic::create`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// let nic = bridgekit::blocking::VethNic::create(&br, bridgekit::VethNicConfig::new("/run/netns/sb1"))?;
    /// # Ok(()) }
    /// ```
    pub fn create(bridge: &Bridge, config: crate::nic::veth::VethNicConfig) -> Result<VethNic> {
        let br = bridge.inner.clone();
        let inner = bridge.run(Op::CreateVethNic, async move {
            crate::nic::veth::VethNic::create(&br, config).await
        })?;
        Ok(VethNic {
            inner,
            driver: bridge.driver.clone(),
        })
    }

    /// The host end's name.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VethNic) { println!("{}", nic.host_name()); }
    /// ```
    #[must_use]
    pub fn host_name(&self) -> &IfName {
        self.inner.host_name()
    }

    /// The name inside the sandbox's namespace.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VethNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        self.inner.name()
    }

    /// Deletes the pair: the blocking [`crate::VethNic::delete`].
    ///
    /// # Errors
    /// As [`crate::VethNic::delete`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VethNic) -> Result<(), bridgekit::Error> {
    /// nic.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<()> {
        let VethNic { inner, driver } = self;
        let name = inner.host_name().to_string();
        driver.run(
            Op::DeleteVethNic,
            &name,
            async move { inner.delete().await },
        )
    }
}

/// A macvtap guest NIC ("direct" in libvirt's words) with its queue fds:
/// the blocking [`crate::MacvtapNic`].
///
/// ```no_run
/// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
/// let nic = bridgekit::blocking::MacvtapNic::create(
///     &nl,
///     bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").queues(2),
/// )?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MacvtapNic {
    inner: crate::nic::macvtap::MacvtapNic,
    driver: Arc<Driver>,
}

impl MacvtapNic {
    /// Creates the device and opens its queues, all or nothing: the
    /// blocking [`crate::MacvtapNic::create`].
    ///
    /// # Errors
    /// As [`crate::MacvtapNic::create`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let nic = bridgekit::blocking::MacvtapNic::create(&nl, bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56"))?;
    /// # Ok(()) }
    /// ```
    pub fn create(
        nl: &Netlink,
        config: crate::nic::macvtap::MacvtapNicConfig,
    ) -> Result<MacvtapNic> {
        let inner_nl = nl.nl.clone();
        let inner = nl.driver.run(Op::CreateMacvtapNic, "macvtap", async move {
            crate::nic::macvtap::MacvtapNic::create(&inner_nl, config).await
        })?;
        Ok(MacvtapNic {
            inner,
            driver: nl.driver.clone(),
        })
    }

    /// The device's name.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        self.inner.name()
    }

    /// The device's ifindex (the `N` of `/dev/tapN`).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { println!("{}", nic.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.inner.index()
    }

    /// The queue fds, one per queue (close-on-exec).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { println!("{}", nic.queue_fds().len()); }
    /// ```
    #[must_use]
    pub fn queue_fds(&self) -> &[std::os::fd::OwnedFd] {
        self.inner.queue_fds()
    }

    /// Takes the queue fds, leaving the device in place.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { let fds = nic.into_fds(); }
    /// ```
    #[must_use]
    pub fn into_fds(self) -> Vec<std::os::fd::OwnedFd> {
        self.inner.into_fds()
    }

    /// Closes the queues and deletes the device: the blocking
    /// [`crate::MacvtapNic::delete`].
    ///
    /// # Errors
    /// As [`crate::MacvtapNic::delete`], and [`Error::BlockingInsideRuntime`].
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) -> Result<(), bridgekit::Error> {
    /// nic.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<()> {
        let MacvtapNic { inner, driver } = self;
        let name = inner.name().to_string();
        driver.run(
            Op::DeleteMacvtapNic,
            &name,
            async move { inner.delete().await },
        )
    }
}
