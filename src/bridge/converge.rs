//! The convergence steps of `create` and `apply` for the bridge's own
//! link (MTU, IPv6 settings, admin state, MAC, STP, timers, options, the
//! hand-made link-local address) and for its VXLAN ports and their
//! remotes: each compares the config with what the kernel reads back and
//! changes only what differs, every change a journal step.

use crate::error::InputKind;
use std::time::Duration;

use ipnet::IpNet;
use macaddr::MacAddr6;

use crate::bridge::{Bridge, BridgeConfig};
use crate::engine::ipv6;
use crate::engine::{LinkId, Step, act};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkRef, LinkSnapshot};
use crate::values::bridge_option::{from_centiseconds, timer_matches, to_centiseconds};
use crate::values::mac::eui64_link_local;
use crate::values::name::IfName;
use crate::values::sysctl::Ipv6Sysctl;
use crate::vxlan::{self, VxlanConfig};
use crate::vxlan::{Meets, Remote, RemoteKind, Vxlan};

use super::change::{Change, Progress};

impl Bridge {
    /// `accept_ra`, `autoconf` and `disable_ipv6` as the config resolves
    /// them, before any address or port of the config is added. Returns the
    /// link read back if anything was written.
    pub(crate) async fn converge_ipv6_guard(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: &LinkSnapshot,
        done: &mut Progress,
    ) -> Result<Option<LinkSnapshot>> {
        if link.ipv6.is_none() {
            if !config.wants_ipv6() {
                return Ok(None); // no IPv6 here, and none asked for
            }
            let detail = if ipv6::ipv6_available(&self.nl, op, self.name.as_str()).await? {
                format!(
                    "{} has no IPv6 state (an MTU below 1280, here {}, turns IPv6 off on a link)",
                    link.name, link.mtu
                )
            } else {
                ipv6::NO_IPV6.to_string()
            };
            return Err(Error::Unsupported {
                op,
                iface: IfName::from_kernel(&self.name),
                detail,
            });
        }
        // Written as sysctls, then read back once through netlink.
        let mut written = Vec::new();
        for (knob, on) in config.ipv6_guard().steps() {
            let Some(have) = ipv6::read(link, knob) else {
                continue;
            };
            if have != on {
                let change = match knob {
                    Ipv6Sysctl::AcceptRa => Change::AcceptRa(on),
                    Ipv6Sysctl::Autoconf => Change::Autoconf(on),
                    Ipv6Sysctl::DisableIpv6 => Change::DisableIpv6(on),
                };
                done.step(
                    Step::Ipv6Sysctl(self.id(), knob, have),
                    change,
                    ipv6::write(&self.nl, &link.name, self.index, knob, on),
                )
                .await?;
                written.push((knob, on));
            }
        }
        if written.is_empty() {
            return Ok(None);
        }
        let after = self.read(op).await?;
        for (knob, on) in written {
            self.check(
                Op::SetIpv6Sysctl(knob),
                knob.name(),
                on,
                ipv6::read(&after, knob),
            )?;
        }
        Ok(Some(after))
    }

    /// The bridge's own link, in the order `create` gives a new one: the
    /// MTU; the IPv6 settings, before the bridge may come up; automatic
    /// link-local addresses off; the admin state; the MAC (an empty bridge
    /// loses carrier when it is set, so a bridge that `create` would bring
    /// up comes up first and stays ready for IPv6); STP and its timers and
    /// the other options; the link-local address of the fixed MAC. A
    /// daemon killed anywhere inside `create` leaves a prefix of these
    /// steps done, and this finishes the rest.
    pub(crate) async fn converge_link(
        &self,
        op: Op,
        config: &BridgeConfig,
        link: LinkSnapshot,
        done: &mut Progress,
    ) -> Result<()> {
        let mut link = self.converge_mtu(op, config, link, done).await?;
        if let Some(after) = self.converge_ipv6_guard(op, config, &link, done).await? {
            link = after; // disable_ipv6 may have changed
        }
        // The link-local address a staged create adds by hand: of the
        // fixed MAC, with the kernel's own generation off.
        let ipv6_on = link.ipv6.is_some_and(|v6| !v6.disabled);
        let hand_made_ll = match config.mac {
            Some(mac) if config.staged() && ipv6_on => Some(mac),
            _ => None,
        };
        if hand_made_ll.is_some() {
            let auto = link.ipv6.and_then(|v6| v6.auto_link_local);
            if auto != Some(false) {
                done.step(
                    Step::AutoLinkLocal(self.id(), true),
                    Change::AutoLinkLocal(false),
                    act::set_auto_link_local(&self.nl, &self.id(), false),
                )
                .await?;
            }
        }
        if let Some(up) = config.wanted_up() {
            if up != link.up {
                done.step(
                    Step::AdminUp(self.id(), link.up),
                    Change::AdminUp(up),
                    act::set_admin_up(&self.nl, &self.id(), up),
                )
                .await?;
            }
        }
        if let (Some(to), Some(from)) = (config.mac, link.mac) {
            if to != from {
                done.step(
                    Step::Mac(self.id(), from),
                    Change::Mac { from, to },
                    self.set_mac(to),
                )
                .await?;
            }
        }
        self.converge_stp_and_options(config, &link, done).await?;
        if let Some(mac) = hand_made_ll {
            self.converge_hand_made_ll(op, mac, done).await?;
        }
        Ok(())
    }

    /// The MTU, set by way of another value on a new bridge: the kernel
    /// marks a bridge's MTU as the user's, and keeps it when smaller ports
    /// join, only when a request changes it. Asking a new bridge for the
    /// 1500 it was born with would leave it unmarked, and the first 1400
    /// port would lower it. Returns the link as it is after.
    pub(crate) async fn converge_mtu(
        &self,
        op: Op,
        config: &BridgeConfig,
        mut link: LinkSnapshot,
        done: &mut Progress,
    ) -> Result<LinkSnapshot> {
        let Some(to) = config.mtu else {
            return Ok(link);
        };
        if to == link.mtu && op == Op::CreateBridge {
            let detour = if to > crate::MIN_MTU { to - 1 } else { to + 1 };
            self.set_mtu(detour).await?;
            link.mtu = detour;
        }
        if to != link.mtu {
            done.step(
                Step::Mtu(self.id(), link.mtu),
                Change::Mtu { from: link.mtu, to },
                self.set_mtu(to),
            )
            .await?;
            // Raising it from below 1280 gives the bridge new IPv6 state,
            // with the namespace's defaults.
            link = self.read(op).await?;
        }
        Ok(link)
    }

    /// STP, its timers and the other bridge options. STP off goes first
    /// and STP on last: with STP on, the kernel refuses a forward delay
    /// outside 2..=30 s.
    pub(crate) async fn converge_stp_and_options(
        &self,
        config: &BridgeConfig,
        link: &LinkSnapshot,
        done: &mut Progress,
    ) -> Result<()> {
        let differs = |want: Duration, read: Option<u32>| {
            to_centiseconds("", want).map_or(true, |cs| !timer_matches(cs, read))
        };
        let stp_change = config.stp.filter(|on| Some(*on) != link.stp);
        if stp_change == Some(false) {
            done.step(
                Step::Stp(self.id(), true),
                Change::Stp(false),
                self.set_stp(false),
            )
            .await?;
        }
        if let Some(fd) = config.forward_delay {
            if differs(fd, link.forward_delay_cs) {
                let old = from_centiseconds(link.forward_delay_cs.unwrap_or(0));
                let step = Step::ForwardDelay(self.id(), old);
                done.step(step, Change::ForwardDelay(fd), self.set_forward_delay(fd))
                    .await?;
            }
        }
        if let Some(at) = config.ageing_time {
            if differs(at, link.ageing_time_cs) {
                let old = from_centiseconds(link.ageing_time_cs.unwrap_or(0));
                let step = Step::AgeingTime(self.id(), old);
                done.step(step, Change::AgeingTime(at), self.set_ageing_time(at))
                    .await?;
            }
        }
        for option in &config.options {
            let read = link.bridge_option(option.kind());
            if !option.matches(read) {
                let change = Change::Option(*option);
                match read {
                    Some(old) => {
                        let step = Step::Option(self.id(), old);
                        done.step(step, change, self.set_option(*option)).await?;
                    }
                    // Nothing to go back to: the kernel has no such option
                    // to read, and refuses to set it below.
                    None => done.unjournaled(change, self.set_option(*option)).await?,
                }
            }
        }
        if stp_change == Some(true) {
            done.step(
                Step::Stp(self.id(), false),
                Change::Stp(true),
                self.set_stp(true),
            )
            .await?;
        }
        Ok(())
    }

    /// The link-local address of the fixed MAC, which a staged create adds
    /// by hand (the kernel's own generation is off).
    pub(crate) async fn converge_hand_made_ll(
        &self,
        op: Op,
        mac: MacAddr6,
        done: &mut Progress,
    ) -> Result<()> {
        let ll = IpNet::new(eui64_link_local(mac).into(), 64).map_err(|_| {
            Error::invalid(
                InputKind::Address,
                "link-local prefix",
                "64 is a valid prefix length",
            )
        })?;
        let have = self
            .nl
            .addresses(op, self.name.as_str(), self.index)
            .await?;
        if !have.iter().any(|a| a.net == ll) {
            let add = self
                .nl
                .add_address(self.name.as_str(), self.index, ll, false);
            done.step(Step::Address(self.id(), ll), Change::AddressAdded(ll), add)
                .await?;
        }
        Ok(())
    }

    /// One VXLAN device of the config: created if missing, checked if not;
    /// its static remotes made the declared ones, removals first (a MAC
    /// moving to another VTEP), then read back.
    pub(crate) async fn converge_vxlan(
        &self,
        op: Op,
        config: &VxlanConfig,
        bridge_mtu: Option<u32>,
        done: &mut Progress,
    ) -> Result<()> {
        let name = config.name().as_str();
        let vx = match self.nl.link(op, name, LinkRef::Name(name)).await {
            Ok(link) => vxlan::existing(&self.nl, op, config, &link).await?,
            Err(Error::NotFound { .. }) => {
                let vni = config.validate()?;
                let vx = vxlan::make_device(&self.nl, config, vni).await?;
                done.made(
                    Step::LinkCreated(op, LinkId::new(name, vx.index())),
                    Change::VxlanCreated(vx.name().clone()),
                );
                vx
            }
            Err(e) => return Err(e),
        };
        if let Some(mtu) = bridge_mtu {
            // Checked before any change too (preflight); this read-back
            // holds the kernel to it.
            vxlan::check_carries(config.name(), vx.mtu().await?, mtu, &self.name)?;
        }
        let Some(want) = config.remotes() else {
            return Ok(());
        };
        self.converge_remotes(op, config, &vx, want, done).await
    }

    /// The static remotes of `vx` made the declared ones (`want`), by the
    /// ownership rule of [`plan_remotes`]: removals first (a MAC moving to
    /// another VTEP), then additions, then one read-back.
    pub(crate) async fn converge_remotes(
        &self,
        op: Op,
        config: &VxlanConfig,
        vx: &Vxlan,
        want: &[Remote],
        done: &mut Progress,
    ) -> Result<()> {
        let name = vx.name().as_str();
        let have = vx.remotes_as(op).await?;
        let (stale, missing) = plan_remotes(config, want, &have)?;
        let id = LinkId::new(name, vx.index());
        for r in &stale {
            let step = Step::RemoteRemoved {
                vxlan: id.clone(),
                remote: r.to_kernel(),
            };
            let entry = r.to_kernel();
            let remove = self.nl.remote_del(op, name, vx.index(), &entry);
            let change = Change::RemoteRemoved {
                vxlan: vx.name().clone(),
                remote: *r,
            };
            done.step(step, change, remove).await?;
        }
        for (r, replace) in &missing {
            let step = Step::RemoteAdded {
                vxlan: id.clone(),
                remote: r.to_kernel(),
            };
            let entry = r.to_kernel();
            let add = self.nl.remote_add(op, name, vx.index(), &entry, *replace);
            let change = Change::RemoteAdded {
                vxlan: vx.name().clone(),
                remote: *r,
            };
            done.step(step, change, add).await?;
        }
        if stale.is_empty() && missing.is_empty() {
            return Ok(());
        }
        let added: Vec<Remote> = missing.iter().map(|(r, _)| *r).collect();
        vx.check_remotes(op, &added, &stale).await
    }
}

/// Remotes to remove, and remotes to add (`true`: in place of a learned
/// entry).
type RemotePlan = (Vec<Remote>, Vec<(Remote, bool)>);

/// The ownership rule for a VXLAN device's remotes: the declared remotes
/// (`want`) are made static entries (one whose MAC the device learned
/// replaces the learned entry: pins it, the `bool`); undeclared static
/// entries are removed unless the device's remotes are shared with
/// another writer; learned and `extern_learn` entries are never removed.
/// Returns (to remove, to add), or the first conflict: every refusal comes
/// before the first change.
fn plan_remotes(config: &VxlanConfig, want: &[Remote], have: &[Remote]) -> Result<RemotePlan> {
    let name = config.name();
    let (stale, kept): (Vec<Remote>, Vec<Remote>) = have.iter().partition(|h| {
        !config.shared_remotes && h.kind() == RemoteKind::Static && !want.iter().any(|w| w.same(h))
    });
    let mut missing = Vec::new();
    for w in want {
        match vxlan::meets(w, &kept) {
            Meets::Present(_) => {}
            Meets::Nothing => missing.push((*w, false)),
            Meets::Learned => missing.push((*w, true)),
            Meets::Conflict(old) => {
                return Err(Error::invalid(
                    InputKind::Remote,
                    format!("remote {w} of {name}"),
                    format!(
                        "conflicts with {old}, a {} entry already there (a MAC has one VTEP){}",
                        old.kind(),
                        if config.shared_remotes {
                            "; the device's remotes are shared: apply removes none"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
    }
    Ok((stale, missing))
}
