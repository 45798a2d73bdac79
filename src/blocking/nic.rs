//! The blocking guest NICs: [`VmNic`], [`VethNic`], [`MacvtapNic`].

use std::sync::Arc;

use macaddr::MacAddr6;

use crate::error::{Op, Result};
use crate::nic::vm::VmNicConfig;
use crate::values::name::IfName;

use super::Bridge;
use super::{Driver, Netlink};

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
    pub(super) inner: crate::nic::vm::VmNic,
    pub(super) driver: Arc<Driver>,
}

impl VmNic {
    /// The traffic counters: the blocking [`crate::VmNic::counters`].
    ///
    /// # Errors
    /// As [`crate::VmNic::counters`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", nic.counters()?);
    /// # Ok(()) }
    /// ```
    pub fn counters(&self) -> Result<crate::Counters> {
        let name = self.inner.name().to_string();
        self.driver
            .run(Op::ReadCounters, &name, self.inner.read_counters())
    }

    /// Sets the tap's offloads: the blocking [`crate::VmNic::set_offloads`].
    ///
    /// # Errors
    /// As [`crate::VmNic::set_offloads`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) -> Result<(), bridgekit::Error> {
    /// nic.set_offloads(bridgekit::Offloads::CSUM | bridgekit::Offloads::TSO4)?;
    /// # Ok(()) }
    /// ```
    pub fn set_offloads(&self, offloads: crate::Offloads) -> Result<()> {
        let name = self.inner.name().to_string();
        self.driver
            .run(Op::SetOffloads, &name, self.inner.write_offloads(offloads))
    }

    /// The tap's offloads: the blocking [`crate::VmNic::offloads`].
    ///
    /// # Errors
    /// As [`crate::VmNic::offloads`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VmNic) -> Result<(), bridgekit::Error> {
    /// println!("{}", nic.offloads()?);
    /// # Ok(()) }
    /// ```
    pub fn offloads(&self) -> Result<crate::Offloads> {
        let name = self.inner.name().to_string();
        self.driver
            .run(Op::ReadOffloads, &name, self.inner.read_offloads())
    }

    /// Creates the tap and attaches it: the blocking [`crate::VmNic::create`].
    ///
    /// # Errors
    /// As [`crate::VmNic::create`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::VmNic::delete`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    pub(super) inner: crate::nic::veth::VethNic,
    pub(super) driver: Arc<Driver>,
}

impl VethNic {
    /// The traffic counters: the blocking [`crate::VethNic::counters`].
    ///
    /// # Errors
    /// As [`crate::VethNic::counters`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VethNic) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", nic.counters()?);
    /// # Ok(()) }
    /// ```
    pub fn counters(&self) -> Result<crate::Counters> {
        let name = self.inner.host_name().to_string();
        self.driver
            .run(Op::ReadCounters, &name, self.inner.read_counters())
    }

    /// Creates the pair, all or nothing: the blocking
    /// [`crate::VethNic::create`].
    ///
    /// # Errors
    /// As [`crate::VethNic::create`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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

    /// The host end's ifindex.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::VethNic) { println!("{}", nic.host_index()); }
    /// ```
    #[must_use]
    pub fn host_index(&self) -> u32 {
        self.inner.host_index()
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
    /// As [`crate::VethNic::delete`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    pub(super) inner: crate::nic::macvtap::MacvtapNic,
    pub(super) driver: Arc<Driver>,
}

impl MacvtapNic {
    /// The traffic counters: the blocking [`crate::MacvtapNic::counters`].
    ///
    /// # Errors
    /// As [`crate::MacvtapNic::counters`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", nic.counters()?);
    /// # Ok(()) }
    /// ```
    pub fn counters(&self) -> Result<crate::Counters> {
        let name = self.inner.name().to_string();
        self.driver
            .run(Op::ReadCounters, &name, self.inner.read_counters())
    }

    /// Creates the device and opens its queues, all or nothing: the
    /// blocking [`crate::MacvtapNic::create`].
    ///
    /// # Errors
    /// As [`crate::MacvtapNic::create`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
        let (inner, driver) = nl.make(Op::CreateMacvtapNic, "macvtap", |conn| async move {
            crate::nic::macvtap::MacvtapNic::create(&conn, config).await
        })?;
        Ok(MacvtapNic { inner, driver })
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

    /// The device's MAC: the guest's (in passthru mode, the lower
    /// device's).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { println!("{}", nic.mac()); }
    /// ```
    #[must_use]
    pub fn mac(&self) -> MacAddr6 {
        self.inner.mac()
    }

    /// The mode: [`crate::MacvtapNic::mode`].
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::blocking::MacvtapNic) { println!("{:?}", nic.mode()); }
    /// ```
    #[must_use]
    pub fn mode(&self) -> crate::values::macvtap_mode::MacvtapMode {
        self.inner.mode()
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
    /// As [`crate::MacvtapNic::delete`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
