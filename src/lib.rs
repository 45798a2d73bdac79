//! # bridgekit
//!
//! A typed API (async, or [`blocking`]) for the whole life of a Linux
//! bridge, for VM managers: create it with a fixed MAC, give it addresses,
//! wait for IPv6 duplicate address detection, and tear it down — over
//! rtnetlink, with every change verified (read back wherever the kernel's
//! acknowledgement is not the whole truth) and every failure undone.
//!
//! ```no_run
//! use std::time::Duration;
//! use bridgekit::{Bridge, BridgeConfig, Netlink};
//!
//! # async fn f() -> Result<(), bridgekit::Error> {
//! let nl = Netlink::connect()?;
//! let br = Bridge::create(&nl, BridgeConfig::new("virbr0")?
//!         .mac("52:54:00:12:34:56")
//!         .mtu(1500)
//!         .stp(false)
//!         .forward_delay(Duration::ZERO)).await?;
//! br.add_address("192.168.122.1/24").await?;
//! br.add_address("fd00:1::1/64").await?;
//! br.up().await?;
//! br.wait_dad(Duration::from_secs(5)).await?;
//! println!("{:#?}", br.status().await?);
//! br.delete().await?;
//! # Ok(()) }
//! ```
//!
//! ## Why a fixed MAC, and no dummy tap
//! A bridge without an explicitly set MAC takes the lowest MAC of its ports,
//! so it changes as guests come and go; libvirt once attached a dummy tap
//! (`virbr0-nic`) to pin it and to make IPv6 DAD run. The kernel keeps an
//! explicitly set MAC, so the tap is not needed — but an empty bridge with a
//! fixed MAC has no carrier and IPv6 DAD never runs on it.
//! [`Bridge::create`] therefore uses a sequence that makes IPv6 ready before
//! the MAC is set (see [`BridgeConfig::ipv6_ready_without_ports`]), and
//! [`Bridge::wait_dad`] says why when DAD cannot finish.
//! [`Bridge::delete`] removes the tap older libvirt left behind.
//!
//! ## Beyond the bridge
//! [`VmNic::create`] makes a guest's tap, attaches and configures it in one
//! call; [`Bridge::events`] streams what happens to a bridge;
//! [`BridgeConfig::apply`] makes a bridge match a desired state, changing
//! only what differs.
//!
//! ## Three ways to use it
//! - **async**, on tokio: everything at the crate root.
//! - **blocking**, for VMMs without an async runtime (threads and epoll,
//!   their own executor): [`blocking`] has the same operations as plain
//!   calls, run by a private runtime on a thread its handle owns.
//! - **from a file**: with the `serde` feature, the configs are
//!   `Serialize + Deserialize` (validated as the builders validate), the
//!   status types serialize, and `from_deserializer` names the field a
//!   bad document got wrong.
//!
//! Every public call runs in a `tracing` span named `bridgekit`, with the
//! operation (`op`, the snake-case [`Op::name`] of the `Op` its errors
//! carry) and the interface (`iface`; `netns` instead for
//! [`Netlink::connect_in_netns`]); a failed call records its error in it.
//!
//! ## Security
//! A bridge that serves guests is their gateway and must not take orders
//! from them. As libvirt does, every bridge bridgekit creates gets
//! `accept_ra=0` (no router advertisements: a guest could otherwise give
//! the host an address and a default route pointing at itself) and
//! `autoconf=0` (a gateway never autoconfigures), set before it first
//! comes up; a bridge whose config names only IPv4 addresses gets
//! `disable_ipv6=1`. [`BridgeConfig::accept_ra`], [`BridgeConfig::autoconf`]
//! and [`BridgeConfig::disable_ipv6`] state them explicitly (an uplink
//! bridge), [`BridgeConfig::apply`] converges them, [`BridgeStatus`]
//! reports them. Left to the VM manager: firewalling, RA guard between
//! guests (bridge netfilter or nftables), and MAC anti-spoofing before
//! Linux 5.18 (from 5.18 on, [`PortConfig::managed_locked`]).
//!
//! ## Errors
//! Every call returns [`Error`], which names the operation ([`Op`]), the
//! interface and the kernel's answer. Bad input is refused before any
//! netlink message is sent.
//!
//! ## Failures and cancellation: nothing is left half-done
//! - A multi-step call that fails midway ([`Bridge::create`],
//!   [`BridgeConfig::apply`], [`Bridge::attach_port`], [`Bridge::attach_ports`],
//!   [`Bridge::detach_ports`], [`Bridge::add_vlans`], [`Bridge::remove_vlans`],
//!   [`Bridge::add_vlan_tunnels`], the creates of [`VmNic`], [`VethNic`],
//!   [`MacvtapNic`] and [`Vxlan`], [`Vxlan::add_remotes`])
//!   undoes the steps it took and returns the first error.
//! - Dropping the future of one of those calls (a timeout, a `select!`)
//!   does not stop it halfway: the rest of it runs on a task of its own,
//!   and it ends whole, done or undone. [`Netlink::finish_pending`] waits for them; then
//!   [`Bridge::open`], [`Bridge::status`] and [`Bridge::ports`] show which.
//! - Single-request calls (`set_mtu`, `up`, `add_address`, `add_fdb`,
//!   `detach_port`, ...) are either sent or not; [`Bridge::wait_dad`]
//!   changes nothing and can be dropped at any point.
//! - Port membership changes made through one [`Netlink`] take turns, so
//!   two tasks cannot both take the same port. Two *processes* can: the
//!   kernel has no compare-and-set for a port's master.
//! - Only a runtime shutdown can stop an operation halfway.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, bottom up; a module imports only from its own layer or
// below (tools/layers checks it in CI):
// error, values, sys, test_hooks -> netlink -> engine -> vxlan, guard, forward ->
// bridge -> nic -> blocking, serde_doc.
pub mod blocking;
mod bridge;
mod engine;
mod error;
mod forward;
mod guard;
mod netlink;
mod nic;
#[cfg(feature = "serde")]
mod serde_doc;
mod sys;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod values;
mod vxlan;

pub use bridge::{
    Applied, Bridge, BridgeConfig, BridgeEvent, BridgeEvents, BridgeStatus, Change, EventKinds,
    FdbEntry, FdbKind, LegacyNic, PortConfig, PortRef, PortStatus, ToPort, legacy_nic_name,
};
pub use error::{Error, InputKind, Op, Result};
pub use forward::Forward;
pub use guard::{GuardRule, GuestGuard};
pub use netlink::Netlink;
pub use nic::{
    MacvtapNic, MacvtapNicConfig, VethNic, VethNicConfig, VmNic, VmNicConfig, host_mac_for,
    set_tap_offloads, set_tap_vnet_hdr_size, tap_offloads,
};
#[cfg(feature = "serde")]
pub use serde_doc::from_deserializer;
pub use values::{
    AddressStatus, Bandwidth, BridgeOption, BridgeOptionKind, Counters, IFNAME_MAX_LEN, IfName,
    Ipv6Sysctl, MAX_MTU, MAX_VLAN_ID, MIN_MTU, MacvtapMode, MulticastRouter, NetSysctl, Offloads,
    OperState, PortBandwidth, PortOption, PortOptionKind, PortState, ToAddress, ToMac,
    VNET_HDR_SIZES, VlanId, VlanMember, VlanProtocol, VlanRange, eui64_link_local,
};
pub use vxlan::{
    Remote, RemoteKind, ToVni, VXLAN_OVERHEAD_V4, VXLAN_OVERHEAD_V6, VXLAN_PORT, Vni, Vxlan,
    VxlanConfig,
};

/// Re-exported so callers name MACs and networks with the same types.
pub use ipnet;

/// The README's code, compiled as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
/// Re-exported so callers name MACs and networks with the same types.
pub use macaddr;
