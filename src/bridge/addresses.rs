//! IP addresses on a bridge and IPv6 duplicate address detection (DAD).

use crate::error::InputKind;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;
use tracing::debug;

use crate::bridge::Bridge;
use crate::error::{Error, Op, Result};
use crate::netlink::{AddrSnapshot, LinkRef, Notification, RTNLGRP_IPV6_IFADDR};

use crate::values::address::{AddressStatus, ToAddress};
use crate::values::name::IfName;

impl Bridge {
    /// Adds an address (`ip addr add ADDR dev BRIDGE`). IPv4 addresses get
    /// their broadcast address, as `ip addr add ... brd +` does. IPv6
    /// addresses go through DAD: see [`wait_dad`](Bridge::wait_dad).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad address (nothing sent),
    /// [`Error::AlreadyExists`] if the bridge already has it,
    /// [`Error::NotFound`] if the bridge is gone.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_address("192.168.122.1/24").await?;
    /// br.add_address("fd00:1::1/64").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddAddress.name(), iface = %self.name), err(Display))]
    pub async fn add_address(&self, address: impl ToAddress) -> Result<()> {
        let net = address.to_address()?;
        self.nl
            .add_address(self.name.as_str(), self.index, net, false)
            .await
    }

    /// Adds an IPv6 address with `nodad` (`ip addr add ADDR dev BRIDGE
    /// nodad`): usable at once, never tentative, no DAD wait needed.
    ///
    /// # Errors
    /// As [`add_address`](Bridge::add_address); an IPv4 address is
    /// [`Error::InvalidInput`] (DAD is IPv6 only).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_address_nodad("fd00:1::1/64").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddAddress.name(), iface = %self.name), err(Display))]
    pub async fn add_address_nodad(&self, address: impl ToAddress) -> Result<()> {
        let net = address.to_address()?;
        if net.addr().is_ipv4() {
            return Err(Error::invalid(
                InputKind::Address,
                format!("address {net}"),
                "nodad applies to IPv6 addresses only",
            ));
        }
        self.nl
            .add_address(self.name.as_str(), self.index, net, true)
            .await
    }

    /// Removes an address (`ip addr del ADDR dev BRIDGE`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad address; [`Error::NoSuchEntry`]
    /// if the bridge has no such address (the kernel's EADDRNOTAVAIL);
    /// [`Error::NotFound`] if the bridge is gone.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_address("192.168.122.1/24").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::RemoveAddress.name(), iface = %self.name), err(Display))]
    pub async fn remove_address(&self, address: impl ToAddress) -> Result<()> {
        let net = address.to_address()?;
        self.nl
            .remove_address(self.name.as_str(), self.index, net)
            .await
    }

    /// The bridge's addresses with their flags (`ip addr show dev BRIDGE`).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the bridge is gone; other kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// let tentative = br.addresses().await?.iter().filter(|a| a.tentative).count();
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListAddresses.name(), iface = %self.name), err(Display))]
    pub async fn addresses(&self) -> Result<Vec<AddressStatus>> {
        Ok(self
            .nl
            .addresses(Op::ListAddresses, self.name.as_str(), self.index)
            .await?
            .into_iter()
            .map(AddressStatus::from)
            .collect())
    }

    /// Waits until no IPv6 address on the bridge is tentative: DAD is over
    /// and a DHCPv6/RA daemon can bind (what `ip -6 addr show dev BRIDGE
    /// tentative` printing nothing tells, without polling it).
    ///
    /// Event-driven: it subscribes to the kernel's IPv6 address
    /// notifications *before* reading the current addresses, so no change is
    /// missed, then sleeps until the kernel reports one. No polling. If the
    /// kernel drops notifications (ENOBUFS) it reads the addresses again.
    ///
    /// # Cancellation
    /// Changes nothing, so it is safe to drop at any point: dropping the
    /// future closes its notification socket and stops its reader task.
    ///
    /// # Errors
    /// - [`Error::DadFailed`] at once when an address turns `dadfailed`
    ///   (another host on the link has it).
    /// - [`Error::DadTimeout`] naming the addresses still tentative and
    ///   whether the bridge has carrier. Without carrier the kernel does not
    ///   run DAD at all (an up bridge with no up port, a fixed MAC or STP):
    ///   the message says so and names the ways out.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.add_address("fd00:1::1/64").await?;
    /// br.wait_dad(std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::WaitDad.name(), iface = %self.name), err(Display))]
    pub async fn wait_dad(&self, timeout: Duration) -> Result<()> {
        self.wait_dad_inner(None, timeout).await
    }

    /// Like [`wait_dad`](Bridge::wait_dad), for the given addresses only.
    ///
    /// # Errors
    /// As `wait_dad`; [`Error::NotFound`] if one of `addresses` is not on
    /// the bridge (or is removed while waiting).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), Box<dyn std::error::Error>> {
    /// let a: std::net::Ipv6Addr = "fd00:1::1".parse()?;
    /// br.wait_dad_for(&[a], std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::WaitDad.name(), iface = %self.name), err(Display))]
    pub async fn wait_dad_for(&self, addresses: &[Ipv6Addr], timeout: Duration) -> Result<()> {
        self.wait_dad_inner(Some(addresses), timeout).await
    }

    async fn wait_dad_inner(&self, only: Option<&[Ipv6Addr]>, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let name = self.name.as_str();
        let mut sub = self
            .nl
            .subscribe(Op::WaitDad, name, &[RTNLGRP_IPV6_IFADDR])?;
        let mut state = self.ipv6_flags().await?;
        loop {
            match dad_verdict(&state, only, name)? {
                Verdict::Done => return Ok(()),
                Verdict::Failed(address) => {
                    return Err(Error::DadFailed {
                        bridge: IfName::from_kernel(name),
                        address,
                    });
                }
                Verdict::Waiting(tentative) => {
                    let next = tokio::time::timeout_at(deadline, sub.messages.next()).await;
                    match next {
                        Err(_elapsed) => {
                            let link = self
                                .nl
                                .link(Op::WaitDad, name, LinkRef::Index(self.index))
                                .await?;
                            return Err(Error::DadTimeout {
                                bridge: IfName::from_kernel(name),
                                tentative,
                                carrier: link.carrier,
                            });
                        }
                        Ok(None) => {
                            return Err(Error::io(
                                Op::WaitDad,
                                name,
                                std::io::Error::other("address notification socket closed"),
                            ));
                        }
                        Ok(Some((msg, _))) => match Notification::parse(&msg) {
                            Notification::NewAddress(a, idx) if idx == self.index => {
                                if let IpAddr::V6(v6) = a.net.addr() {
                                    state.insert(v6, a);
                                }
                            }
                            Notification::DelAddress(a, idx) if idx == self.index => {
                                if let IpAddr::V6(v6) = a.net.addr() {
                                    state.remove(&v6);
                                }
                            }
                            Notification::Overrun => {
                                self.nl.note_overrun();
                                debug!(
                                    bridge = name,
                                    "address notifications overran; reading addresses again"
                                );
                                state = self.ipv6_flags().await?;
                            }
                            _ => {}
                        },
                    }
                }
            }
        }
    }

    async fn ipv6_flags(&self) -> Result<BTreeMap<Ipv6Addr, AddrSnapshot>> {
        Ok(self
            .nl
            .addresses(Op::WaitDad, self.name.as_str(), self.index)
            .await?
            .into_iter()
            .filter_map(|a| match a.net.addr() {
                IpAddr::V6(v6) => Some((v6, a)),
                IpAddr::V4(_) => None,
            })
            .collect())
    }
}

enum Verdict {
    Done,
    Failed(Ipv6Addr),
    Waiting(Vec<Ipv6Addr>),
}

fn dad_verdict(
    state: &BTreeMap<Ipv6Addr, AddrSnapshot>,
    only: Option<&[Ipv6Addr]>,
    bridge: &str,
) -> Result<Verdict> {
    let watched: Vec<(Ipv6Addr, AddrSnapshot)> = match only {
        None => state.iter().map(|(k, v)| (*k, *v)).collect(),
        Some(list) => {
            let mut v = Vec::with_capacity(list.len());
            for a in list {
                match state.get(a) {
                    Some(s) => v.push((*a, *s)),
                    None => {
                        return Err(Error::NoSuchEntry {
                            op: Op::WaitDad,
                            iface: IfName::from_kernel(bridge),
                            entry: format!("address {a}"),
                            errno: None,
                        });
                    }
                }
            }
            v
        }
    };
    if let Some((a, _)) = watched.iter().find(|(_, s)| s.dad_failed()) {
        return Ok(Verdict::Failed(*a));
    }
    let tentative: Vec<Ipv6Addr> = watched
        .iter()
        .filter(|(_, s)| s.tentative())
        .map(|(a, _)| *a)
        .collect();
    Ok(if tentative.is_empty() {
        Verdict::Done
    } else {
        Verdict::Waiting(tentative)
    })
}
