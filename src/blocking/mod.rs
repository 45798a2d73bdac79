//! A blocking API for programs without an async runtime: VMMs built on
//! threads and epoll (cloud-hypervisor, Firecracker), their own executor
//! (crosvm), or plain threads.
//!
//! Every public operation of the async API — bridge, port, VLAN, FDB,
//! NIC, VXLAN (devices, remotes, a port's VLAN-to-VNI map) and events —
//! as a plain function call that returns when the operation is done. A
//! test (`tests/blocking_parity.rs`) fails when an async method has no
//! blocking twin.
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
//! # Event loops
//! [`BridgeEvents`] is an `Iterator`, and also a source for an epoll
//! loop: its fd ([`AsFd`](std::os::fd::AsFd)) is readable whenever an
//! event waits, [`BridgeEvents::try_next`] takes it without blocking, and
//! an [`EventsCloser`] ends the stream from another thread at shutdown.
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

use crate::bridge::BridgeConfig;
use crate::bridge::change::Change;
use crate::error::{Error, Op, Result};

/// Blocking twins of an async type's methods that take `&self` and owned
/// (or `Copy`) arguments: each runs its twin on the runtime thread. Used
/// inside `impl` blocks of types with the fields `inner` (the async value)
/// and `driver`; `$ty` names the async type and `$var` the example's
/// variable, for the docs.
macro_rules! blocking_twins {
    ($ty:literal, $var:literal; $(
        $op:expr, $example:literal,
        fn $name:ident(&self $(, $arg:ident: $argty:ty)*) -> $ret:ty;
    )*) => {$(
        #[doc = concat!("The blocking [`crate::", $ty, "::", stringify!($name), "`]: see it for what it does and its errors.")]
        ///
        /// ```no_run
        #[doc = concat!("# fn f(", $var, ": bridgekit::blocking::", $ty, ") -> Result<(), Box<dyn std::error::Error>> {")]
        #[doc = concat!("let _ = ", $example, "?;")]
        /// # Ok(()) }
        /// ```
        ///
        /// # Errors
        #[doc = concat!("As [`crate::", $ty, "::", stringify!($name), "`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).")]
        pub fn $name(&self $(, $arg: $argty)*) -> Result<$ret> {
            let inner = self.inner.clone();
            self.driver.run($op, self.inner.name().as_str(), async move {
                inner.$name($($arg),*).await
            })
        }
    )*};
}

mod bridge;
mod events;
mod nic;
mod vxlan;

pub use bridge::Bridge;
pub use events::{BridgeEvents, EventsCloser};
pub use nic::{MacvtapNic, VethNic, VmNic};
pub use vxlan::Vxlan;

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
            Err(Error::local(
                op,
                crate::error::subject_name(iface),
                None,
                std::io::Error::other("bridgekit's blocking runtime thread has stopped"),
            ))
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
            iface: crate::error::subject_name(iface),
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
    /// Runs `make` with this connection on the runtime thread and returns
    /// what it made with the driver its handle keeps: the one body of the
    /// blocking `create`s and `open`s of the handle types.
    fn make<T, F, Fut>(&self, op: Op, iface: &str, make: F) -> Result<(T, Arc<Driver>)>
    where
        T: Send + 'static,
        F: FnOnce(crate::netlink::Netlink) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let made = self.driver.run(op, iface, make(self.nl.clone()))?;
        Ok((made, self.driver.clone()))
    }

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
        Self::start(crate::netlink::Netlink::connect)
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
        Self::start(move || crate::netlink::Netlink::connect_in_netns(path))
    }

    fn start(
        connect: impl FnOnce() -> Result<crate::netlink::Netlink> + Send + 'static,
    ) -> Result<Self> {
        // The connection is on no interface: the errors name none ("").
        refuse_inside_runtime(Op::Connect, "")?;
        let driver = Driver::start().map_err(|e| Error::connection(Op::Connect, e))?;
        let nl = driver.run(Op::Connect, "", async move { connect() })?;
        Ok(Netlink { nl, driver })
    }

    /// This connection with its guest guards in the nf_tables table
    /// `name`: see [`crate::Netlink::with_guard_table`].
    ///
    /// # Errors
    /// As [`crate::Netlink::with_guard_table`].
    ///
    /// ```no_run
    /// let nl = bridgekit::blocking::Netlink::connect()?.with_guard_table("my_vmm")?;
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn with_guard_table(self, name: &str) -> Result<Self> {
        let Netlink { nl, driver } = self;
        Ok(Netlink {
            nl: nl.with_guard_table(name)?,
            driver,
        })
    }

    /// The nf_tables table of this connection's guest guards.
    ///
    /// ```no_run
    /// let nl = bridgekit::blocking::Netlink::connect()?;
    /// assert_eq!(nl.guard_table(), "bridgekit");
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn guard_table(&self) -> &str {
        self.nl.guard_table()
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

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}
