//! [`Op`]: what bridgekit was doing, named in every error and span.

use std::fmt;

use crate::values::sysctl::{Ipv6Sysctl, NetSysctl};

/// What bridgekit was doing when an error happened.
///
/// Every kernel-facing [`Error`](crate::Error) variant carries one, so a log line says what
/// was attempted, not only what failed.
///
/// ```
/// use bridgekit::Op;
/// assert_eq!(Op::CreateBridge.to_string(), "create bridge");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Opening the netlink connection or binding it to a network namespace.
    Connect,
    /// Creating a bridge (`ip link add NAME type bridge`).
    CreateBridge,
    /// Looking up an existing bridge (`ip link show NAME`).
    OpenBridge,
    /// Deleting a bridge (`ip link del NAME`).
    DeleteBridge,
    /// Changing a MAC address (`ip link set NAME address MAC`).
    SetMac,
    /// Changing the MTU (`ip link set NAME mtu MTU`).
    SetMtu,
    /// Bringing an interface up (`ip link set NAME up`).
    SetUp,
    /// Bringing an interface down (`ip link set NAME down`).
    SetDown,
    /// Changing bridge options (`ip link set NAME type bridge ...`).
    SetBridgeOptions,
    /// Changing the IPv6 address generation mode (`ip link set NAME addrgenmode ...`).
    SetAddrGenMode,
    /// Adding an address (`ip addr add ADDR dev NAME`).
    AddAddress,
    /// Removing an address (`ip addr del ADDR dev NAME`).
    RemoveAddress,
    /// Listing addresses (`ip addr show dev NAME`).
    ListAddresses,
    /// Reading link state (`ip -d link show NAME`).
    ReadLink,
    /// Listing the ports of a bridge (`ip link show master NAME`).
    ListPorts,
    /// Waiting for IPv6 duplicate address detection.
    WaitDad,
    /// Wait for a port to forward.
    WaitForwarding,
    /// Attaching a port (`ip link set PORT master BRIDGE`).
    AttachPort,
    /// Detaching a port (`ip link set PORT nomaster`).
    DetachPort,
    /// Setting port options (`ip link set PORT type bridge_slave ...`).
    SetPortOptions,
    /// Removing a legacy libvirt `<bridge>-nic` tap.
    RemoveLegacyNic,
    /// Changing bridge VLAN settings (`ip link set NAME type bridge vlan_filtering|vlan_default_pvid|vlan_protocol ...`).
    SetVlanOptions,
    /// Adding VLANs (`bridge vlan add dev NAME vid ...`).
    AddVlans,
    /// Removing VLANs (`bridge vlan del dev NAME vid ...`).
    RemoveVlans,
    /// Listing VLANs (`bridge vlan show`).
    ListVlans,
    /// Adding a static FDB entry (`bridge fdb replace MAC dev PORT master static`).
    AddFdb,
    /// Removing an FDB entry (`bridge fdb del MAC dev PORT master`).
    RemoveFdb,
    /// Listing the FDB (`bridge fdb show br NAME`).
    ListFdb,
    /// Creating a VM NIC (a tap on a bridge).
    CreateVmNic,
    /// Deleting a VM NIC.
    DeleteVmNic,
    /// Create a veth guest NIC.
    CreateVethNic,
    /// Delete a veth guest NIC.
    DeleteVethNic,
    /// Create a macvtap guest NIC.
    CreateMacvtapNic,
    /// Delete a macvtap guest NIC.
    DeleteMacvtapNic,
    /// Map VLANs of a port to VNIs.
    AddVlanTunnels,
    /// Remove VLAN-to-VNI mappings of a port.
    RemoveVlanTunnels,
    /// List a port's VLAN-to-VNI map.
    ListVlanTunnels,
    /// Create a VXLAN device.
    CreateVxlan,
    /// Open a VXLAN device.
    OpenVxlan,
    /// Delete a VXLAN device.
    DeleteVxlan,
    /// Add a remote VTEP to a VXLAN device's FDB.
    AddRemote,
    /// Remove a remote VTEP from a VXLAN device's FDB.
    RemoveRemote,
    /// List a VXLAN device's remote VTEPs.
    ListRemotes,
    /// Watching a bridge's events.
    WatchEvents,
    /// Applying a desired bridge configuration.
    Apply,
    /// Installing or replacing a port's guest guard (nf_tables rules
    /// on its ingress: `nft -f`).
    InstallGuard,
    /// Removing a port's guest guard (`nft delete chain ...`).
    RemoveGuard,
    /// Reading the guest guards of a table (`nft list table ...`).
    ReadGuard,
    /// Writing an IPv6 sysctl of an interface
    /// (`sysctl net.ipv6.conf.NAME.accept_ra=0`, ...).
    SetIpv6Sysctl(Ipv6Sysctl),
    /// Installing or replacing a bridge's forward mode rules (nf_tables,
    /// inet family: `nft -f`).
    InstallForward,
    /// Removing a bridge's forward mode rules (`nft delete chain ...`).
    RemoveForward,
    /// Reading the forward mode rules of a table (`nft list table ...`).
    ReadForward,
    /// Writing a namespace-wide sysctl (`sysctl net.ipv4.ip_forward=1`).
    SetNetSysctl(NetSysctl),
    /// Reading a link's traffic counters (`ip -s link show`).
    ReadCounters,
    /// Setting a tap's offloads (`TUNSETOFFLOAD`, what QEMU does once
    /// its guest negotiated them; `ethtool -k` shows them).
    SetOffloads,
    /// Reading a tap's offloads (`ethtool -k`).
    ReadOffloads,
    /// Setting a tap's virtio-net header size (`TUNSETVNETHDRSZ`).
    SetVnetHdrSize,
    /// Setting a port's bandwidth limits (`tc qdisc replace ... tbf`, and
    /// for the guest's outbound traffic an IFB with an ingress redirect).
    SetBandwidth,
    /// Removing a port's bandwidth limits and its IFB.
    RemoveBandwidth,
    /// Reading a port's bandwidth limits (`tc qdisc show`).
    ReadBandwidth,
}

impl Op {
    /// The operation's name in snake case (`attach_port`,
    /// `set_accept_ra`): the `op` field of every `bridgekit` tracing span,
    /// so a log filter matches on the same vocabulary as the errors.
    ///
    /// ```
    /// use bridgekit::{Ipv6Sysctl, Op};
    /// assert_eq!(Op::AttachPort.name(), "attach_port");
    /// assert_eq!(Op::SetIpv6Sysctl(Ipv6Sysctl::AcceptRa).name(), "set_accept_ra");
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Op::Connect => "connect",
            Op::CreateBridge => "create_bridge",
            Op::OpenBridge => "open_bridge",
            Op::DeleteBridge => "delete_bridge",
            Op::SetMac => "set_mac",
            Op::SetMtu => "set_mtu",
            Op::SetUp => "set_up",
            Op::SetDown => "set_down",
            Op::SetBridgeOptions => "set_bridge_options",
            Op::SetAddrGenMode => "set_addr_gen_mode",
            Op::AddAddress => "add_address",
            Op::RemoveAddress => "remove_address",
            Op::ListAddresses => "list_addresses",
            Op::ReadLink => "read_link",
            Op::ListPorts => "list_ports",
            Op::WaitDad => "wait_dad",
            Op::WaitForwarding => "wait_forwarding",
            Op::AttachPort => "attach_port",
            Op::DetachPort => "detach_port",
            Op::SetPortOptions => "set_port_options",
            Op::RemoveLegacyNic => "remove_legacy_nic",
            Op::SetVlanOptions => "set_vlan_options",
            Op::AddVlans => "add_vlans",
            Op::RemoveVlans => "remove_vlans",
            Op::ListVlans => "list_vlans",
            Op::AddFdb => "add_fdb",
            Op::RemoveFdb => "remove_fdb",
            Op::ListFdb => "list_fdb",
            Op::CreateVmNic => "create_vm_nic",
            Op::DeleteVmNic => "delete_vm_nic",
            Op::CreateVethNic => "create_veth_nic",
            Op::DeleteVethNic => "delete_veth_nic",
            Op::CreateMacvtapNic => "create_macvtap_nic",
            Op::DeleteMacvtapNic => "delete_macvtap_nic",
            Op::AddVlanTunnels => "add_vlan_tunnels",
            Op::RemoveVlanTunnels => "remove_vlan_tunnels",
            Op::ListVlanTunnels => "list_vlan_tunnels",
            Op::CreateVxlan => "create_vxlan",
            Op::OpenVxlan => "open_vxlan",
            Op::DeleteVxlan => "delete_vxlan",
            Op::AddRemote => "add_remote",
            Op::RemoveRemote => "remove_remote",
            Op::ListRemotes => "list_remotes",
            Op::WatchEvents => "watch_events",
            Op::Apply => "apply",
            Op::InstallGuard => "install_guard",
            Op::RemoveGuard => "remove_guard",
            Op::ReadGuard => "read_guard",
            Op::ReadCounters => "read_counters",
            Op::SetOffloads => "set_offloads",
            Op::ReadOffloads => "read_offloads",
            Op::SetVnetHdrSize => "set_vnet_hdr_size",
            Op::SetBandwidth => "set_bandwidth",
            Op::RemoveBandwidth => "remove_bandwidth",
            Op::ReadBandwidth => "read_bandwidth",
            Op::InstallForward => "install_forward",
            Op::RemoveForward => "remove_forward",
            Op::ReadForward => "read_forward",
            Op::SetNetSysctl(knob) => match knob {
                NetSysctl::Ipv4Forward => "set_ipv4_forward",
                NetSysctl::Ipv6Forward => "set_ipv6_forward",
            },
            Op::SetIpv6Sysctl(knob) => match knob {
                Ipv6Sysctl::AcceptRa => "set_accept_ra",
                Ipv6Sysctl::Autoconf => "set_autoconf",
                Ipv6Sysctl::DisableIpv6 => "set_disable_ipv6",
            },
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Connect => "connect to netlink",
            Op::CreateBridge => "create bridge",
            Op::OpenBridge => "open bridge",
            Op::DeleteBridge => "delete bridge",
            Op::SetMac => "set MAC of",
            Op::SetMtu => "set MTU of",
            Op::SetUp => "bring up",
            Op::SetDown => "bring down",
            Op::SetBridgeOptions => "set bridge options of",
            Op::SetAddrGenMode => "set IPv6 address generation mode of",
            Op::AddAddress => "add address to",
            Op::RemoveAddress => "remove address from",
            Op::ListAddresses => "list addresses of",
            Op::ReadLink => "read link state of",
            Op::ListPorts => "list ports of",
            Op::WaitDad => "wait for IPv6 DAD on",
            Op::WaitForwarding => "wait for a port to forward on",
            Op::AttachPort => "attach port",
            Op::DetachPort => "detach port",
            Op::SetPortOptions => "set port options of",
            Op::RemoveLegacyNic => "remove legacy dummy tap",
            Op::SetVlanOptions => "set VLAN options of",
            Op::AddVlans => "add VLANs to",
            Op::RemoveVlans => "remove VLANs from",
            Op::ListVlans => "list VLANs of",
            Op::AddFdb => "add FDB entry on",
            Op::RemoveFdb => "remove FDB entry from",
            Op::ListFdb => "list FDB of",
            Op::CreateVmNic => "create VM NIC",
            Op::DeleteVmNic => "delete VM NIC",
            Op::CreateVethNic => "create veth NIC",
            Op::DeleteVethNic => "delete veth NIC",
            Op::CreateMacvtapNic => "create macvtap NIC",
            Op::DeleteMacvtapNic => "delete macvtap NIC",
            Op::AddVlanTunnels => "map VLANs to VNIs on",
            Op::RemoveVlanTunnels => "remove VLAN-to-VNI mappings from",
            Op::ListVlanTunnels => "list the VLAN-to-VNI map of",
            Op::CreateVxlan => "create VXLAN device",
            Op::OpenVxlan => "open VXLAN device",
            Op::DeleteVxlan => "delete VXLAN device",
            Op::AddRemote => "add remote VTEP to",
            Op::RemoveRemote => "remove remote VTEP from",
            Op::ListRemotes => "list remote VTEPs of",
            Op::WatchEvents => "watch events of",
            Op::Apply => "apply configuration to",
            Op::InstallGuard => "install guest guard on",
            Op::RemoveGuard => "remove guest guard from",
            Op::ReadGuard => "read guest guards for",
            Op::SetIpv6Sysctl(knob) => return write!(f, "set IPv6 sysctl {knob} of"),
            Op::ReadCounters => "read the counters of",
            Op::SetOffloads => "set the offloads of",
            Op::ReadOffloads => "read the offloads of",
            Op::SetVnetHdrSize => "set the virtio-net header size of",
            Op::SetBandwidth => "set the bandwidth limits of",
            Op::RemoveBandwidth => "remove the bandwidth limits of",
            Op::ReadBandwidth => "read the bandwidth limits of",
            Op::InstallForward => "install forward mode rules for",
            Op::RemoveForward => "remove forward mode rules of",
            Op::ReadForward => "read forward mode rules for",
            Op::SetNetSysctl(knob) => return write!(f, "set {knob} for"),
        })
    }
}
