//! The blocking [`Bridge`]: every method its async twin's, run to its end.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::bridge::fdb::FdbEntry;
use crate::bridge::legacy::LegacyNic;
use crate::bridge::port::{PortConfig, ToPort};
use crate::bridge::port_status::PortStatus;
use crate::bridge::{BridgeConfig, BridgeStatus};
use crate::error::{Op, Result};
use crate::values::address::{AddressStatus, ToAddress};
use crate::values::bridge_option::BridgeOption;
use crate::values::mac::ToMac;
use crate::values::name::IfName;
use crate::values::vlan::{VlanId, VlanMember, VlanProtocol, VlanRange};
use crate::vxlan::Vni;

use super::BridgeEvents;
use super::{Driver, Netlink};

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
    pub(super) inner: crate::bridge::Bridge,
    pub(super) driver: Arc<Driver>,
}

impl Bridge {
    /// Creates a bridge as `config` says: the blocking
    /// [`crate::Bridge::create`].
    ///
    /// # Errors
    /// As [`crate::Bridge::create`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::blocking::Bridge::create(&nl, bridgekit::BridgeConfig::new("virbr0")?)?;
    /// # Ok(()) }
    /// ```
    pub fn create(nl: &Netlink, config: BridgeConfig) -> Result<Bridge> {
        let name = config.name().to_string();
        let (inner, driver) = nl.make(Op::CreateBridge, &name, |conn| async move {
            crate::bridge::Bridge::create(&conn, config).await
        })?;
        Ok(Bridge { inner, driver })
    }

    /// Opens an existing bridge: the blocking [`crate::Bridge::open`].
    ///
    /// # Errors
    /// As [`crate::Bridge::open`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(nl: bridgekit::blocking::Netlink) -> Result<(), bridgekit::Error> {
    /// let br = bridgekit::blocking::Bridge::open(&nl, "virbr0")?;
    /// # Ok(()) }
    /// ```
    pub fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Bridge> {
        let name = name.as_ref().to_string();
        let (inner, driver) = nl.make(Op::OpenBridge, &name.clone(), |conn| async move {
            crate::bridge::Bridge::open(&conn, name).await
        })?;
        Ok(Bridge { inner, driver })
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

    /// The connection this bridge was created or opened with (a clone:
    /// the same runtime thread and sockets).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// let nl = br.netlink();
    /// let other = bridgekit::blocking::Bridge::open(&nl, "virbr1")?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn netlink(&self) -> Netlink {
        Netlink {
            nl: self.inner.netlink().clone(),
            driver: self.driver.clone(),
        }
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
    /// As [`crate::Bridge::delete`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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

    blocking_twins! { "Bridge", "br";
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
        Op::ListPorts, "br.ports_with_counters()",
        fn ports_with_counters(&self) -> Vec<PortStatus>;
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
    /// As [`crate::Bridge::set_mac`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::add_address`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::add_address_nodad`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::remove_address`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::wait_dad_for`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::attach_port`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::wait_forwarding`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::detach_port`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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

    /// One port's traffic counters: the blocking [`crate::Bridge::port_counters`].
    ///
    /// # Errors
    /// As [`crate::Bridge::port_counters`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", br.port_counters("vnet0")?);
    /// # Ok(()) }
    /// ```
    pub fn port_counters(&self, port: impl ToPort) -> Result<crate::Counters> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(
            Op::ReadCounters,
            async move { br.port_counters(port).await },
        )
    }

    /// One port's bandwidth limits: the blocking [`crate::Bridge::port_bandwidth`].
    ///
    /// # Errors
    /// As [`crate::Bridge::port_bandwidth`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// println!("{:?}", br.port_bandwidth("vnet0")?);
    /// # Ok(()) }
    /// ```
    pub fn port_bandwidth(&self, port: impl ToPort) -> Result<crate::PortBandwidth> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(
            Op::ReadBandwidth,
            async move { br.port_bandwidth(port).await },
        )
    }

    /// Maps VLANs to VNIs on a port: the blocking
    /// [`crate::Bridge::add_vlan_tunnels`].
    ///
    /// # Errors
    /// As [`crate::Bridge::add_vlan_tunnels`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{Vni, VlanId};
    /// br.add_vlan_tunnels("vxlan0", &[(VlanId::new(10)?, Vni::new(1010)?)])?;
    /// # Ok(()) }
    /// ```
    pub fn add_vlan_tunnels(&self, port: impl ToPort, map: &[(VlanId, Vni)]) -> Result<()> {
        let (port, map) = (port.to_port()?, map.to_vec());
        let br = self.inner.clone();
        self.run(Op::AddVlanTunnels, async move {
            br.add_vlan_tunnels(port, &map).await
        })
    }

    /// Removes VLAN-to-VNI mappings from a port: the blocking
    /// [`crate::Bridge::remove_vlan_tunnels`].
    ///
    /// # Errors
    /// As [`crate::Bridge::remove_vlan_tunnels`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_vlan_tunnels("vxlan0", &[bridgekit::VlanId::new(10)?])?;
    /// # Ok(()) }
    /// ```
    pub fn remove_vlan_tunnels(&self, port: impl ToPort, vlans: &[VlanId]) -> Result<()> {
        let (port, vlans) = (port.to_port()?, vlans.to_vec());
        let br = self.inner.clone();
        self.run(Op::RemoveVlanTunnels, async move {
            br.remove_vlan_tunnels(port, &vlans).await
        })
    }

    /// A port's VLAN-to-VNI map: the blocking
    /// [`crate::Bridge::vlan_tunnels`].
    ///
    /// # Errors
    /// As [`crate::Bridge::vlan_tunnels`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
    ///
    /// ```no_run
    /// # fn f(br: bridgekit::blocking::Bridge) -> Result<(), bridgekit::Error> {
    /// for (vlan, vni) in br.vlan_tunnels("vxlan0")? {
    ///     println!("VLAN {vlan} -> VNI {vni}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn vlan_tunnels(&self, port: impl ToPort) -> Result<Vec<(VlanId, Vni)>> {
        let port = port.to_port()?;
        let br = self.inner.clone();
        self.run(
            Op::ListVlanTunnels,
            async move { br.vlan_tunnels(port).await },
        )
    }

    /// Attaches several ports, all or none: the blocking
    /// [`crate::Bridge::attach_ports`].
    ///
    /// # Errors
    /// As [`crate::Bridge::attach_ports`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::detach_ports`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::add_vlans`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::remove_vlans`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::vlans`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::add_fdb`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::remove_fdb`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::events`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
    /// As [`crate::Bridge::events`], and [`Error::BlockingInsideRuntime`](crate::Error::BlockingInsideRuntime).
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
        BridgeEvents::start(events, self.inner.name().to_string(), self.driver.clone())
    }

    pub(super) fn run<T, F>(&self, op: Op, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        self.driver.run(op, self.inner.name().as_str(), fut)
    }
}
