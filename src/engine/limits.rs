//! A port's bandwidth limits in the kernel, made so and read back: the
//! guest's inbound traffic (the port's egress) through a tbf at the port's
//! root; its outbound traffic (the port's ingress) redirected to an IFB
//! whose root is a tbf, since a qdisc shapes egress only (the CNI
//! `bandwidth` plugin's recipe: this kernel has neither `act_police` nor
//! `matchall`, so the redirect is a u32 match-all filter).
//!
//! What is bridgekit's on a port, and what it refuses to touch:
//! - a root qdisc of handle [`HANDLE`] (`bb00:`) is bridgekit's; the
//!   kernel's default root (handle 0) is replaced; any other root qdisc is
//!   someone else's, and an inbound limit on that port is refused;
//! - the IFB of a port is named [`ifb_name`] (`bkifb` and the port's
//!   ifindex); while it exists, the port's ingress qdisc is bridgekit's
//!   (removing the outbound limit deletes it, filters and all); a `clsact`
//!   or any other kind there is someone else's, and an outbound limit on
//!   that port is refused;
//! - an IFB whose port is gone (a tap closed by its VMM) is an orphan that
//!   [`look`] deletes.
//!
//! Every change is one [`converge`]: it reads what the port has, records
//! the limits it had as one journal step ([`Step::Limits`]) whose undo is
//! the same convergence back to them, makes what differs, and reads the
//! result back. A process killed halfway leaves some of it made; the next
//! convergence to the same limits finds the rest missing and makes it.

use macaddr::MacAddr6;

use super::journal::{Journal, LinkId, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkChange, LinkRef, Netlink, QdiscAt, QdiscSeen, Tbf, TbfSeen};
use crate::values::bandwidth::{FRAME_OVERHEAD, PortBandwidth, min_bucket};
use crate::values::name::IfName;

/// The handle of bridgekit's tbf (`tc` shows `bb00:`).
pub(crate) const HANDLE: u16 = 0xbb00;
/// The priority of the redirect filter under a port's ingress qdisc.
pub(crate) const REDIRECT_PRIO: u16 = 0xbb00;
/// How the IFB of a port is named: this, then the port's ifindex.
pub(crate) const IFB_PREFIX: &str = "bkifb";

/// The IFB that shapes the traffic `port` (an ifindex) receives. At most
/// 15 bytes: `bkifb` and 10 digits.
pub(crate) fn ifb_name(port: u32) -> String {
    format!("{IFB_PREFIX}{port}")
}

/// The MAC of the IFB of `port` (an ifindex): locally administered, and
/// the same every time, so that an IFB made again (an undo) is the one it
/// was, its link-local address too. An IFB sends nothing on a wire.
pub(crate) fn ifb_mac(port: u32) -> MacAddr6 {
    let [_, a, b, c] = port.to_be_bytes();
    MacAddr6::new(0x02, 0x62, 0x6b, a, b, c)
}

/// A port's limits in the kernel's terms: a tbf per limited direction,
/// for a port of `mtu`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Want {
    pub(crate) inbound: Option<Tbf>,
    pub(crate) outbound: Option<Tbf>,
    pub(crate) mtu: u32,
}

impl Want {
    /// The tbfs of `limits` on a port of `mtu`, checked against it first:
    /// a burst below one frame is [`Error::InvalidInput`].
    pub(crate) fn of(limits: &PortBandwidth, port: &str, mtu: u32) -> Result<Want> {
        limits.validate_for(port, mtu)?;
        let tbf = |b: &crate::values::bandwidth::Bandwidth| Tbf {
            rate: b.average_rate(),
            burst: b.burst_for(mtu),
            peak: b
                .peak_rate()
                .map(|p| (p, min_bucket(mtu.saturating_add(FRAME_OVERHEAD), p))),
            limit: b.queue_for(mtu),
            ticks: None,
        };
        Ok(Want {
            inbound: limits.inbound.as_ref().map(tbf),
            outbound: limits.outbound.as_ref().map(tbf),
            mtu,
        })
    }

    /// Neither direction limited.
    pub(crate) fn is_none(&self) -> bool {
        self.inbound.is_none() && self.outbound.is_none()
    }
}

/// What a port has, as far as its limits go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    root: Option<QdiscSeen>,
    ingress: Option<QdiscSeen>,
    /// The port's IFB, by ifindex, if there is one.
    ifb: Option<u32>,
    /// The IFB is up (a down one drops what is redirected to it).
    ifb_up: bool,
    ifb_root: Option<QdiscSeen>,
    /// The ingress has bridgekit's filter redirecting to the IFB.
    redirect: bool,
}

fn ours(q: Option<&QdiscSeen>) -> Option<TbfSeen> {
    q.filter(|q| q.handle == HANDLE).and_then(|q| q.tbf)
}

impl Seen {
    /// The inbound tbf, if bridgekit's is there.
    fn inbound(&self) -> Option<TbfSeen> {
        ours(self.root.as_ref())
    }

    /// The outbound tbf, if the IFB has bridgekit's and frames reach it.
    fn outbound(&self) -> Option<TbfSeen> {
        ours(self.ifb_root.as_ref()).filter(|_| self.redirect && self.ifb_up)
    }

    /// Whether anything of bridgekit's is on the port.
    fn any(&self) -> bool {
        self.ifb.is_some() || self.root.as_ref().is_some_and(|q| q.handle == HANDLE)
    }

    /// The limits the port has, to make again (an undo).
    fn had(&self, mtu: u32) -> Want {
        Want {
            inbound: self.inbound().map(|t| t.as_tbf()),
            outbound: self.outbound().map(|t| t.as_tbf()),
            mtu,
        }
    }

    /// Whether the port has exactly `want`, and nothing of bridgekit's
    /// beyond it.
    fn keeps(&self, want: &Want) -> bool {
        let inbound = match (&want.inbound, &self.root) {
            (Some(w), _) => self.inbound().is_some_and(|s| s.keeps(w)),
            (None, Some(q)) => q.handle != HANDLE,
            (None, None) => true,
        };
        let outbound = match &want.outbound {
            Some(w) => self.outbound().is_some_and(|s| s.keeps(w)),
            None => self.ifb.is_none(),
        };
        inbound && outbound
    }

    /// The limits the port has, in the public form (for
    /// `Bridge::port_bandwidth`): rates and buckets as the kernel keeps
    /// them.
    pub(crate) fn bandwidth(&self) -> PortBandwidth {
        let of = |t: TbfSeen| {
            let t = t.as_tbf();
            let mut b = crate::values::bandwidth::Bandwidth::bytes_per_sec(t.rate).burst(t.burst);
            if let Some((peak, _)) = t.peak {
                b = b.peak(peak);
            }
            b
        };
        PortBandwidth {
            inbound: self.inbound().map(of),
            outbound: self.outbound().map(of),
        }
    }
}

/// Reads what `port` has: its root and ingress qdiscs, its IFB (by name),
/// the IFB's root and the ingress filters, where there are an IFB and an
/// ingress (2 to 5 requests).
pub(crate) async fn read(nl: &Netlink, op: Op, port: &LinkId) -> Result<Seen> {
    let name = &*port.name;
    let root = nl.qdisc(op, name, port.index, QdiscAt::Root).await?;
    let ingress = nl.qdisc(op, name, port.index, QdiscAt::Ingress).await?;
    let ifb_name = ifb_name(port.index);
    let ifb = match nl.link(op, &ifb_name, LinkRef::Name(&ifb_name)).await {
        Ok(link) if link.kind.as_deref() == Some("ifb") => Some((link.index, link.up)),
        Ok(link) => {
            return Err(Error::AlreadyExists {
                op,
                iface: IfName::from_kernel(name),
                entry: Some(format!(
                    "a {} named {ifb_name}, the name of its IFB, that bridgekit did not make",
                    link.kind_name()
                )),
            });
        }
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut seen = Seen {
        root,
        ingress,
        ifb: ifb.map(|(index, _)| index),
        ifb_up: ifb.is_some_and(|(_, up)| up),
        ..Seen::default()
    };
    if let Some(ifb) = seen.ifb {
        seen.ifb_root = nl.qdisc(op, &ifb_name, ifb, QdiscAt::Root).await?;
        if seen.ingress.as_ref().is_some_and(|q| q.kind == "ingress") {
            // bridgekit's filter, and no redirect elsewhere: a filter left
            // pointing at an IFB made again would match first and drop.
            let filters = nl.ingress_filters(op, name, port.index).await?;
            seen.redirect = filters
                .iter()
                .any(|f| f.prio == REDIRECT_PRIO && f.redirect == Some(ifb))
                && !filters
                    .iter()
                    .any(|f| f.redirect.is_some_and(|to| to != ifb));
        }
    }
    if seen.any() {
        // Detach and deletion remove limits from now on.
        nl.note_limits();
    }
    Ok(seen)
}

/// Makes `port` have the limits `want`, unless it has them: returns
/// whether it changed anything. Recorded in `journal` as one step, made
/// before the first request (a failure halfway is undone too), whose undo
/// converges back to what the port had; read back at the end.
///
/// # Errors
/// [`Error::AlreadyExists`] for a qdisc in the way that is not bridgekit's
/// (nothing sent); [`Error::NotApplied`] if the read-back differs; kernel
/// errors.
pub(crate) async fn converge(
    nl: &Netlink,
    op: Op,
    journal: &mut Journal,
    port: &LinkId,
    want: &Want,
) -> Result<bool> {
    let seen = read(nl, op, port).await?;
    if seen.keeps(want) {
        return Ok(false);
    }
    refuse_foreign(op, port, want, &seen)?;
    journal.push(Step::Limits {
        port: port.clone(),
        old: seen.had(want.mtu),
    });
    make(nl, op, port, want, &seen).await?;
    journal.confirm();
    nl.note_limits();
    let after = read(nl, op, port).await?;
    if !after.keeps(want) {
        return Err(Error::NotApplied {
            op,
            iface: IfName::from_kernel(&port.name),
            what: "bandwidth limits".into(),
            expected: format!("{:?}", (want.inbound, want.outbound)),
            actual: format!("{:?}", (after.inbound(), after.outbound())),
        });
    }
    Ok(true)
}

/// [`converge`] without a journal: an undo, or a removal.
pub(crate) async fn set(nl: &Netlink, op: Op, port: &LinkId, want: &Want) -> Result<()> {
    let mut journal = Journal::new();
    converge(nl, op, &mut journal, port, want).await.map(drop)
}

/// Removes bridgekit's limits from `port`, if it has any: recorded in
/// `journal` so a failed operation puts them back.
pub(crate) async fn remove(
    nl: &Netlink,
    journal: &mut Journal,
    port: &LinkId,
    mtu: u32,
) -> Result<bool> {
    let none = Want {
        mtu,
        ..Want::default()
    };
    converge(nl, Op::RemoveBandwidth, journal, port, &none).await
}

/// A qdisc that is not bridgekit's where a wanted limit would go.
fn refuse_foreign(op: Op, port: &LinkId, want: &Want, seen: &Seen) -> Result<()> {
    let foreign = |q: &QdiscSeen, at: &str| Error::AlreadyExists {
        op,
        iface: IfName::from_kernel(&port.name),
        entry: Some(format!(
            "a{at} qdisc {} {:x}: that bridgekit did not make (remove it, or leave this \
             direction unlimited)",
            q.kind, q.handle
        )),
    };
    if want.inbound.is_some() {
        if let Some(q) = seen
            .root
            .as_ref()
            .filter(|q| q.handle != 0 && q.handle != HANDLE)
        {
            return Err(foreign(q, " root"));
        }
    }
    if want.outbound.is_some() {
        // bridgekit adds its ingress qdisc after the IFB: one there without
        // the IFB is someone else's, with their filters.
        if let Some(q) = seen
            .ingress
            .as_ref()
            .filter(|q| q.kind != "ingress" || seen.ifb.is_none())
        {
            return Err(foreign(q, "n ingress"));
        }
    }
    Ok(())
}

/// The requests that take `seen` to `want`: the inbound tbf, then the
/// outbound one (its IFB and tbf before the redirect, so frames are never
/// sent to an IFB that does not shape them; the redirect before the IFB
/// on the way out).
async fn make(nl: &Netlink, op: Op, port: &LinkId, want: &Want, seen: &Seen) -> Result<()> {
    let name = &*port.name;
    match &want.inbound {
        Some(t) if !seen.inbound().is_some_and(|s| s.keeps(t)) => {
            nl.replace_tbf(op, name, port.index, HANDLE, t).await?;
        }
        None if seen.root.as_ref().is_some_and(|q| q.handle == HANDLE) => {
            gone_is_fine(nl.delete_qdisc(op, name, port.index, QdiscAt::Root).await)?;
        }
        _ => {}
    }
    let ifb_name = ifb_name(port.index);
    match &want.outbound {
        Some(t) => {
            let ifb = match seen.ifb {
                Some(index) => {
                    if !seen.ifb_up {
                        let up = LinkChange {
                            up: Some(true),
                            ..LinkChange::default()
                        };
                        nl.set_link(op, &ifb_name, index, &up).await?;
                    }
                    index
                }
                None => {
                    if crate::sys::kernel::ifb_would_autoload() {
                        return Err(Error::Unsupported {
                            op,
                            iface: IfName::from_kernel(name),
                            detail: "the ifb module is not loaded, and loaded on demand it would \
                                     make ifb0 and ifb1 in the host's network namespace: load it \
                                     first with `modprobe ifb numifbs=0`"
                                .into(),
                        });
                    }
                    nl.create_ifb(op, &ifb_name, want.mtu, ifb_mac(port.index))
                        .await?;
                    nl.link(op, &ifb_name, LinkRef::Name(&ifb_name))
                        .await?
                        .index
                }
            };
            if !ours(seen.ifb_root.as_ref()).is_some_and(|s| s.keeps(t)) {
                nl.replace_tbf(op, &ifb_name, ifb, HANDLE, t).await?;
            }
            if !seen.redirect {
                // The ingress is bridgekit's (see `refuse_foreign`): made
                // again, it holds no filter but the one added next.
                if seen.ingress.is_some() {
                    gone_is_fine(
                        nl.delete_qdisc(op, name, port.index, QdiscAt::Ingress)
                            .await,
                    )?;
                }
                nl.add_ingress(op, name, port.index).await?;
                nl.replace_redirect(op, name, port.index, REDIRECT_PRIO, ifb)
                    .await?;
            }
        }
        None => {
            if let Some(ifb) = seen.ifb {
                if seen.ingress.as_ref().is_some_and(|q| q.kind == "ingress") {
                    gone_is_fine(
                        nl.delete_qdisc(op, name, port.index, QdiscAt::Ingress)
                            .await,
                    )?;
                }
                gone_is_fine(nl.delete_link(op, &ifb_name, ifb).await)?;
            }
        }
    }
    Ok(())
}

/// Deletes the IFB of `port` (an ifindex), if there is one: for a port
/// that is gone, whose qdiscs went with it.
pub(crate) async fn delete_ifb(nl: &Netlink, port: u32) -> Result<()> {
    gone_is_fine(
        nl.delete_link_by_name(Op::RemoveBandwidth, &ifb_name(port))
            .await,
    )
}

/// A deletion that found nothing to delete did what it was for.
fn gone_is_fine(result: Result<()>) -> Result<()> {
    match result {
        Err(Error::NotFound { .. }) => Ok(()),
        other => other,
    }
}

/// Whether bandwidth limits may exist in the namespace, looking once per
/// connection (its first `apply` or bridge deletion: one link dump) for
/// bridgekit's IFBs, and deleting on the way those whose port is gone
/// (`bkifb` and an ifindex no link has: what a VMM that closed a limited
/// tap, or a killed process, left). An inbound-only limit made by an
/// earlier program has no IFB: this connection finds it where it reads the
/// port's qdiscs (an `apply` of a config that limits the port, or a port
/// whose root the link dump says is a tbf).
pub(crate) async fn look(nl: &Netlink, op: Op, iface: &str) -> Result<bool> {
    if nl.limits_looked() {
        return Ok(nl.limits_seen());
    }
    let links = nl.all_links(op, iface).await?;
    for link in &links {
        let Some(port) = link
            .name
            .strip_prefix(IFB_PREFIX)
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if link.kind.as_deref() != Some("ifb") {
            continue;
        }
        if links.iter().any(|l| l.index == port) {
            nl.note_limits();
        } else {
            gone_is_fine(nl.delete_link(op, &link.name, link.index).await)?;
        }
    }
    nl.note_limits_looked();
    Ok(nl.limits_seen())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::bandwidth::Bandwidth;

    #[test]
    fn an_ifb_name_fits_any_ifindex() {
        assert_eq!(ifb_name(7), "bkifb7");
        assert!(ifb_name(u32::MAX).len() <= crate::values::name::IFNAME_MAX_LEN);
    }

    #[test]
    fn a_peak_gets_a_bucket_of_one_frame() {
        let limits = PortBandwidth {
            inbound: Some(Bandwidth::bytes_per_sec(1000).peak(2000)),
            outbound: None,
        };
        let want = Want::of(&limits, "p", 9000).unwrap();
        assert_eq!(want.inbound.unwrap().peak, Some((2000, 9015)));
        assert!(want.outbound.is_none());
        let small = PortBandwidth {
            inbound: Some(Bandwidth::bytes_per_sec(1000).burst(9014)),
            outbound: None,
        };
        assert!(Want::of(&small, "p", 9000).is_err());
    }
}
