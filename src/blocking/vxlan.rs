//! The blocking [`Vxlan`]: a VXLAN device and its remotes, each method its
//! async twin's, run to its end.

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::{Op, Result};
use crate::values::name::IfName;
use crate::vxlan::{Remote, Vni, VxlanConfig};

use super::{Driver, Netlink};

/// A VXLAN device: the blocking form of [`crate::Vxlan`].
///
/// ```no_run
/// # fn f(nl: bridgekit::blocking::Netlink, br: bridgekit::blocking::Bridge) -> Result<(), Box<dyn std::error::Error>> {
/// use bridgekit::{PortConfig, Remote, VxlanConfig};
/// let vx = bridgekit::blocking::Vxlan::create(&nl, VxlanConfig::new("vx100", 100)?
///     .local("192.0.2.1".parse()?)
///     .learning(false))?;
/// br.attach_port(vx.name(), PortConfig::new().learning(false).up())?;
/// vx.add_remote(Remote::flood("192.0.2.2".parse()?))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Vxlan {
    inner: crate::vxlan::Vxlan,
    driver: Arc<Driver>,
}

impl Vxlan {
    /// Creates the device and reads it back: the blocking
    /// [`crate::Vxlan::create`].
    ///
    /// # Errors
    /// As [`crate::Vxlan::create`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::blocking::Vxlan::create(&nl, bridgekit::VxlanConfig::new("vx100", 100)?)?;
    /// # Ok(()) }
    /// ```
    pub fn create(nl: &Netlink, config: VxlanConfig) -> Result<Vxlan> {
        let name = config.name().to_string();
        let (inner, driver) = nl.make(Op::CreateVxlan, &name, |conn| async move {
            crate::vxlan::Vxlan::create(&conn, config).await
        })?;
        Ok(Vxlan { inner, driver })
    }

    /// Opens an existing VXLAN device: the blocking [`crate::Vxlan::open`].
    ///
    /// # Errors
    /// As [`crate::Vxlan::open`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::blocking::Vxlan::open(&nl, "vx100")?;
    /// # Ok(()) }
    /// ```
    pub fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Vxlan> {
        let name = name.as_ref().to_string();
        let (inner, driver) = nl.make(Op::OpenVxlan, &name.clone(), |conn| async move {
            crate::vxlan::Vxlan::open(&conn, name).await
        })?;
        Ok(Vxlan { inner, driver })
    }

    /// The device's name.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{}", vx.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        self.inner.name()
    }

    /// The device's ifindex.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{}", vx.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.inner.index()
    }

    /// The VNI: [`crate::Vxlan::vni`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{:?}", vx.vni()); }
    /// ```
    #[must_use]
    pub fn vni(&self) -> Option<Vni> {
        self.inner.vni()
    }

    /// External (collect-metadata) mode: [`crate::Vxlan::is_external`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{}", vx.is_external()); }
    /// ```
    #[must_use]
    pub fn is_external(&self) -> bool {
        self.inner.is_external()
    }

    /// The local address: [`crate::Vxlan::local`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{:?}", vx.local()); }
    /// ```
    #[must_use]
    pub fn local(&self) -> Option<IpAddr> {
        self.inner.local()
    }

    /// The UDP port: [`crate::Vxlan::port`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{}", vx.port()); }
    /// ```
    #[must_use]
    pub fn port(&self) -> u16 {
        self.inner.port()
    }

    /// Learning on: [`crate::Vxlan::learning`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{}", vx.learning()); }
    /// ```
    #[must_use]
    pub fn learning(&self) -> bool {
        self.inner.learning()
    }

    /// The underlay's ifindex: [`crate::Vxlan::underlay_index`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{:?}", vx.underlay_index()); }
    /// ```
    #[must_use]
    pub fn underlay_index(&self) -> Option<u32> {
        self.inner.underlay_index()
    }

    /// The TTL: [`crate::Vxlan::ttl`].
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) { println!("{:?}", vx.ttl()); }
    /// ```
    #[must_use]
    pub fn ttl(&self) -> Option<u8> {
        self.inner.ttl()
    }

    /// The async device underneath.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) {
    /// let async_vx: &bridgekit::Vxlan = vx.as_async();
    /// # }
    /// ```
    #[must_use]
    pub fn as_async(&self) -> &crate::vxlan::Vxlan {
        &self.inner
    }

    /// Deletes the device: the blocking [`crate::Vxlan::delete`].
    ///
    /// # Errors
    /// As [`crate::Vxlan::delete`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) -> Result<(), bridgekit::Error> {
    /// vx.delete()?;
    /// # Ok(()) }
    /// ```
    pub fn delete(self) -> Result<()> {
        let Vxlan { inner, driver } = self;
        let name = inner.name().to_string();
        driver.run(Op::DeleteVxlan, &name, async move { inner.delete().await })
    }

    /// Adds several remotes, all or nothing: the blocking
    /// [`crate::Vxlan::add_remotes`].
    ///
    /// # Errors
    /// As [`crate::Vxlan::add_remotes`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::blocking::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// use bridgekit::Remote;
    /// vx.add_remotes([Remote::flood("192.0.2.2".parse()?), Remote::flood("192.0.2.3".parse()?)])?;
    /// # Ok(()) }
    /// ```
    pub fn add_remotes(&self, remotes: impl IntoIterator<Item = Remote>) -> Result<()> {
        let remotes: Vec<Remote> = remotes.into_iter().collect();
        let vx = self.inner.clone();
        self.driver
            .run(Op::AddRemote, self.inner.name().as_str(), async move {
                vx.add_remotes(remotes).await
            })
    }

    blocking_twins! { "Vxlan", "vx";
        Op::ReadLink, "vx.mtu()",
        fn mtu(&self) -> u32;
        Op::AddRemote, "vx.add_remote(bridgekit::Remote::flood(\"192.0.2.2\".parse()?))",
        fn add_remote(&self, remote: Remote) -> ();
        Op::RemoveRemote, "vx.remove_remote(bridgekit::Remote::flood(\"192.0.2.2\".parse()?))",
        fn remove_remote(&self, remote: Remote) -> ();
        Op::ListRemotes, "vx.remotes()",
        fn remotes(&self) -> Vec<Remote>;
    }
}
