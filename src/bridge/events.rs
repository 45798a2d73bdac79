//! A stream of typed events for one bridge: ports coming and going and
//! changing STP state, carrier and operstate, MAC and MTU, addresses and
//! their DAD, and the bridge's deletion; on request ([`EventKinds`]) its
//! FDB entries, its ports' VLANs and multicast router modes, and the
//! remote VTEPs of its VXLAN ports too.
//!
//! One multicast subscription per stream (links, IPv4 and IPv6 addresses,
//! and neighbours for the FDB), the same `Netlink::subscribe` that
//! `wait_dad` uses. The stream keeps a
//! model of the bridge, read once after subscribing, and emits the
//! differences each notification makes to it. When the kernel drops
//! notifications (ENOBUFS), it reads the bridge again, says so with
//! [`BridgeEvent::Resynced`] and emits the differences: never silence.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use ipnet::IpNet;
use macaddr::MacAddr6;

use super::event::{BridgeEvent, EventKinds};
use crate::bridge::Bridge;
use crate::bridge::fdb::FdbEntry;
use crate::error::{Op, Result};
use crate::netlink::{
    AddrSnapshot, FdbSnapshot, LinkRef, LinkSnapshot, Netlink, Notification, RemoteSnapshot,
    Subscription,
};
use crate::values::bridge_option::{BridgeOption, MulticastRouter};
use crate::values::link_state::{OperState, PortState};
use crate::values::name::IfName;
use crate::values::vlan::{VlanId, VlanMember};
use crate::vxlan::Remote;

/// An FDB entry's key: one entry per MAC and VLAN in a bridge.
type FdbKey = ([u8; 6], Option<VlanId>);

/// A remote entry's key: the port, the MAC, the destination and the
/// segment (external devices).
type RemoteKey = (u32, [u8; 6], std::net::IpAddr, Option<u32>);

/// What the stream knows of the bridge.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    kinds: EventKinds,
    up: bool,
    carrier: bool,
    operstate: Option<OperState>,
    mac: Option<MacAddr6>,
    mtu: u32,
    ports: BTreeMap<u32, (String, Option<PortState>)>,
    addrs: BTreeMap<IpNet, u32>,
    /// With [`EventKinds::fdb`]: the FDB entries.
    fdb: BTreeMap<FdbKey, FdbSnapshot>,
    /// With [`EventKinds::vlans`]: the VLANs of each port and the bridge.
    vlans: BTreeMap<u32, Vec<VlanMember>>,
    /// With [`EventKinds::multicast_routers`]: the router mode of each
    /// port and of the bridge.
    routers: BTreeMap<u32, MulticastRouter>,
    /// With [`EventKinds::remotes`]: the remote entries of VXLAN ports.
    remotes: BTreeMap<RemoteKey, RemoteSnapshot>,
}

use crate::netlink::address_flags::{dad_failed as dadfailed, tentative};

impl Model {
    /// The bridge's own link fields from a message about it.
    fn bridge_link(&mut self, s: &LinkSnapshot, out: &mut Vec<BridgeEvent>) {
        if s.up != self.up {
            self.up = s.up;
            out.push(BridgeEvent::AdminUp(s.up));
        }
        if s.carrier != self.carrier {
            self.carrier = s.carrier;
            out.push(BridgeEvent::Carrier(s.carrier));
        }
        if Some(s.operstate) != self.operstate {
            self.operstate = Some(s.operstate);
            out.push(BridgeEvent::OperState(s.operstate));
        }
        if s.mac.is_some() && s.mac != self.mac {
            self.mac = s.mac;
            out.push(BridgeEvent::Mac(s.mac.unwrap_or(MacAddr6::nil())));
        }
        if s.mtu != 0 && s.mtu != self.mtu {
            self.mtu = s.mtu;
            out.push(BridgeEvent::Mtu(s.mtu));
        }
        if self.kinds.multicast_routers {
            let mode = s.bridge_options.iter().find_map(|o| match o {
                BridgeOption::MulticastRouter(m) => Some(*m),
                _ => None,
            });
            if let Some(mode) = mode {
                self.router(s.index, &s.name, mode, out);
            }
        }
    }

    /// A router mode read for `index`: an event if it changed from a known one.
    fn router(
        &mut self,
        index: u32,
        name: &str,
        mode: MulticastRouter,
        out: &mut Vec<BridgeEvent>,
    ) {
        match self.routers.insert(index, mode) {
            Some(old) if old != mode => out.push(BridgeEvent::MulticastRouter {
                port: IfName::from_kernel(name),
                index,
                mode,
            }),
            _ => {}
        }
    }

    /// The name of `index`: a port, the bridge (`bridge`), or `#index`.
    fn name_of(&self, bridge: (u32, &str), index: u32) -> String {
        if index == bridge.0 {
            return bridge.1.to_string();
        }
        self.ports
            .get(&index)
            .map_or_else(|| format!("#{index}"), |p| p.0.clone())
    }

    fn fdb_new(&mut self, bridge: (u32, &str), e: FdbSnapshot, out: &mut Vec<BridgeEvent>) {
        let key = (e.mac.into_array(), e.vlan);
        if self.fdb.get(&key) != Some(&e) {
            self.fdb.insert(key, e);
            out.push(BridgeEvent::FdbAdded(FdbEntry::new(
                &e,
                self.name_of(bridge, e.port),
            )));
        }
    }

    fn remote_new(&mut self, index: u32, r: RemoteSnapshot, out: &mut Vec<BridgeEvent>) {
        let key = (index, r.mac.into_array(), r.dst, r.src_vni);
        if self.remotes.get(&key) != Some(&r) {
            self.remotes.insert(key, r);
            out.push(BridgeEvent::RemoteAdded {
                port: IfName::from_kernel(self.name_of((0, ""), index)),
                index,
                remote: Remote::from_kernel(r),
            });
        }
    }

    fn remote_gone(&mut self, key: RemoteKey, out: &mut Vec<BridgeEvent>) {
        if let Some(old) = self.remotes.remove(&key) {
            out.push(BridgeEvent::RemoteRemoved {
                port: IfName::from_kernel(self.name_of((0, ""), key.0)),
                index: key.0,
                remote: Remote::from_kernel(old),
            });
        }
    }

    fn fdb_gone(&mut self, bridge: (u32, &str), key: FdbKey, out: &mut Vec<BridgeEvent>) {
        if let Some(old) = self.fdb.remove(&key) {
            out.push(BridgeEvent::FdbRemoved(FdbEntry::new(
                &old,
                self.name_of(bridge, old.port),
            )));
        }
    }

    /// The VLANs read for every port and the bridge: an event for each
    /// whose set changed from a known one (a new port's first set too).
    fn vlans_read(
        &mut self,
        bridge: (u32, &str),
        new: BTreeMap<u32, Vec<VlanMember>>,
        out: &mut Vec<BridgeEvent>,
    ) {
        self.vlans.retain(|i, _| new.contains_key(i));
        for (index, vlans) in new {
            if self.vlans.get(&index) != Some(&vlans) {
                out.push(BridgeEvent::Vlans {
                    port: IfName::from_kernel(self.name_of(bridge, index)),
                    index,
                    vlans: vlans.clone(),
                });
                self.vlans.insert(index, vlans);
            }
        }
    }

    /// A message about another link, which may be (or have been) a port.
    fn other_link(&mut self, bridge: u32, s: &LinkSnapshot, out: &mut Vec<BridgeEvent>) {
        let ours = s.master == Some(bridge);
        match (ours, self.ports.contains_key(&s.index)) {
            (true, false) => {
                // The state it joins with is part of joining, not a change.
                self.ports.insert(s.index, (s.name.clone(), s.port_state));
                out.push(BridgeEvent::PortAttached {
                    port: IfName::from_kernel(&s.name),
                    index: s.index,
                });
            }
            (false, true) => {
                self.port_gone(s.index, out);
                return;
            }
            _ => {}
        }
        if let (true, true, Some(mode)) = (
            ours,
            self.kinds.multicast_routers,
            s.port.and_then(|p| p.multicast_router),
        ) {
            self.router(s.index, &s.name, mode, out);
        }
        if let (true, Some(state)) = (ours, s.port_state) {
            if let Some(entry) = self.ports.get_mut(&s.index) {
                if entry.1 != Some(state) {
                    entry.1 = Some(state);
                    out.push(BridgeEvent::PortState {
                        port: IfName::from_kernel(&entry.0),
                        index: s.index,
                        state,
                    });
                }
            }
        }
    }

    fn port_gone(&mut self, index: u32, out: &mut Vec<BridgeEvent>) {
        // Its VLANs and router mode leave with it; its FDB entries are
        // removed by the kernel, which says so entry by entry.
        self.vlans.remove(&index);
        self.routers.remove(&index);
        if let Some((port, _)) = self.ports.remove(&index) {
            out.push(BridgeEvent::PortDetached {
                port: IfName::from_kernel(port),
                index,
            });
        }
    }

    fn address(&mut self, a: &AddrSnapshot, out: &mut Vec<BridgeEvent>) {
        let old = self.addrs.insert(a.net, a.flags);
        if old.is_none() {
            out.push(BridgeEvent::AddressAdded(a.net));
        }
        if let IpNet::V6(v6) = a.net {
            let was_tentative = old.is_none_or(tentative);
            let was_failed = old.is_some_and(dadfailed);
            if dadfailed(a.flags) && !was_failed {
                out.push(BridgeEvent::DadFailed(v6.addr()));
            } else if was_tentative && old.is_some() && !tentative(a.flags) && !dadfailed(a.flags) {
                out.push(BridgeEvent::DadDone(v6.addr()));
            }
        }
    }

    /// Every difference from `self` to `new`, as events; `self` becomes `new`.
    fn diff_to(&mut self, bridge: (u32, &str), new: &Model, out: &mut Vec<BridgeEvent>) {
        self.diff_link(new, out);
        self.diff_ports(new, out);
        self.diff_addrs(&new.addrs, out);
        let gone: Vec<FdbKey> = self
            .fdb
            .keys()
            .filter(|k| !new.fdb.contains_key(k))
            .copied()
            .collect();
        for key in gone {
            self.fdb_gone(bridge, key, out);
        }
        for e in new.fdb.values() {
            self.fdb_new(bridge, *e, out);
        }
        let gone: Vec<RemoteKey> = self
            .remotes
            .keys()
            .filter(|k| !new.remotes.contains_key(k))
            .copied()
            .collect();
        for key in gone {
            self.remote_gone(key, out);
        }
        for (key, r) in &new.remotes {
            self.remote_new(key.0, *r, out);
        }
        if self.kinds.vlans {
            self.vlans_read(bridge, new.vlans.clone(), out);
        }
        self.routers.retain(|i, _| new.routers.contains_key(i));
        for (index, mode) in &new.routers {
            let name = self.name_of(bridge, *index);
            if !self.routers.contains_key(index) {
                self.routers.insert(*index, *mode);
            } else {
                self.router(*index, &name, *mode, out);
            }
        }
    }

    fn diff_link(&mut self, new: &Model, out: &mut Vec<BridgeEvent>) {
        let mut link = LinkSnapshot::empty();
        link.up = new.up;
        link.carrier = new.carrier;
        link.operstate = new.operstate.unwrap_or(OperState::Unknown);
        link.mac = new.mac;
        link.mtu = new.mtu;
        self.bridge_link(&link, out);
    }

    fn diff_ports(&mut self, new: &Model, out: &mut Vec<BridgeEvent>) {
        let gone: Vec<u32> = self
            .ports
            .keys()
            .filter(|i| !new.ports.contains_key(i))
            .copied()
            .collect();
        for index in gone {
            self.port_gone(index, out);
        }
        for (index, (name, state)) in &new.ports {
            if !self.ports.contains_key(index) {
                self.ports.insert(*index, (name.clone(), *state));
                out.push(BridgeEvent::PortAttached {
                    port: IfName::from_kernel(name),
                    index: *index,
                });
            }
            let entry = self.ports.get_mut(index).expect("just inserted");
            if let Some(st) = state {
                if entry.1 != Some(*st) {
                    entry.1 = Some(*st);
                    out.push(BridgeEvent::PortState {
                        port: IfName::from_kernel(name),
                        index: *index,
                        state: *st,
                    });
                }
            }
        }
    }

    fn diff_addrs(&mut self, new: &BTreeMap<IpNet, u32>, out: &mut Vec<BridgeEvent>) {
        let removed: Vec<IpNet> = self
            .addrs
            .keys()
            .filter(|a| !new.contains_key(a))
            .copied()
            .collect();
        for net in removed {
            self.addrs.remove(&net);
            out.push(BridgeEvent::AddressRemoved(net));
        }
        for (net, flags) in new {
            self.address(
                &AddrSnapshot {
                    net: *net,
                    flags: *flags,
                },
                out,
            );
        }
    }
}

/// Reads the bridge as the stream models it: the link, its ports (with
/// their STP state) and its addresses. `None` if the bridge is gone.
async fn read_model(
    nl: &Netlink,
    name: &str,
    index: u32,
    kinds: EventKinds,
) -> Result<Option<Model>> {
    let op = Op::WatchEvents;
    let link = match nl.link(op, name, LinkRef::Index(index)).await {
        Ok(l) => l,
        Err(crate::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut m = Model {
        kinds,
        ..Model::default()
    };
    let mut ignored = Vec::new();
    m.bridge_link(&link, &mut ignored);
    for p in nl.links_with_master(op, name, index).await? {
        if kinds.remotes && p.kind.as_deref() == Some("vxlan") {
            for r in nl.remote_dump(op, &p.name, p.index).await? {
                m.remotes
                    .insert((p.index, r.mac.into_array(), r.dst, r.src_vni), r);
            }
        }
        if let (true, Some(mode)) = (
            kinds.multicast_routers,
            p.port.and_then(|o| o.multicast_router),
        ) {
            m.routers.insert(p.index, mode);
        }
        m.ports.insert(p.index, (p.name.clone(), p.port_state));
    }
    for a in nl.addresses(op, name, index).await? {
        m.addrs.insert(a.net, a.flags);
    }
    if kinds.fdb {
        for e in nl.fdb_dump(op, name, index, None).await? {
            m.fdb.insert((e.mac.into_array(), e.vlan), e);
        }
    }
    if kinds.vlans {
        m.vlans = read_vlans(nl, name, index, &m).await?;
    }
    Ok(Some(m))
}

/// The VLANs of the bridge and of each port `m` knows.
async fn read_vlans(
    nl: &Netlink,
    name: &str,
    index: u32,
    m: &Model,
) -> Result<BTreeMap<u32, Vec<VlanMember>>> {
    Ok(nl
        .vlan_dump(Op::WatchEvents, name)
        .await?
        .into_iter()
        .filter(|v| v.index == index || m.ports.contains_key(&v.index))
        .map(|v| (v.index, v.vlans))
        .collect())
}

/// The events of one bridge: a [`Stream`] of [`BridgeEvent`]s, from
/// [`Bridge::events`]. Dropping it closes its socket.
pub struct BridgeEvents {
    inner: Pin<Box<dyn Stream<Item = Result<BridgeEvent>> + Send>>,
}

impl std::fmt::Debug for BridgeEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeEvents").finish_non_exhaustive()
    }
}

impl Stream for BridgeEvents {
    type Item = Result<BridgeEvent>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct State {
    nl: Netlink,
    name: String,
    index: u32,
    sub: Subscription,
    model: Model,
    queue: VecDeque<BridgeEvent>,
    done: bool,
}

impl State {
    /// Handles one notification, in the kernel's order: each reports a
    /// change, which is compared with the model.
    async fn handle(&mut self, n: Notification) -> Result<()> {
        let mut out = Vec::new();
        match n {
            Notification::Overrun => self.resync(&mut out).await?,
            // The bridge's own AF_BRIDGE messages carry only part of its
            // state; its AF_UNSPEC ones carry all of it.
            Notification::NewLink(s) if s.index == self.index && !s.bridge_family => {
                self.model.bridge_link(&s, &mut out)
            }
            Notification::NewLink(s) if s.bridge_family => {
                if s.index != self.index {
                    self.model.other_link(self.index, &s, &mut out);
                }
                // AF_BRIDGE notifications are what the kernel sends when
                // a port's (or the bridge's) VLANs change.
                if self.model.kinds.vlans
                    && (s.index == self.index || self.model.ports.contains_key(&s.index))
                {
                    let new = read_vlans(&self.nl, &self.name, self.index, &self.model).await?;
                    self.model
                        .vlans_read((self.index, &self.name), new, &mut out);
                }
            }
            Notification::NewLink(s) => self.model.other_link(self.index, &s, &mut out),
            Notification::DelLink(s) if s.index == self.index && !s.bridge_family => {
                self.deleted(&mut out)
            }
            Notification::DelLink(s) if s.index == self.index => {}
            // AF_BRIDGE RTM_DELLINK: the port left the bridge; AF_UNSPEC:
            // the device is gone.
            Notification::DelLink(s) => self.model.port_gone(s.index, &mut out),
            Notification::NewAddress(a, index) if index == self.index => {
                self.model.address(&a, &mut out)
            }
            Notification::DelAddress(a, index)
                if index == self.index && self.model.addrs.contains_key(&a.net) =>
            {
                self.model.addrs.remove(&a.net);
                out.push(BridgeEvent::AddressRemoved(a.net));
            }
            Notification::NewFdb(e) if self.model.kinds.fdb && e.master == self.index => {
                self.model.fdb_new((self.index, &self.name), e, &mut out)
            }
            Notification::NewRemote(index, r)
                if self.model.kinds.remotes && self.model.ports.contains_key(&index) =>
            {
                self.model.remote_new(index, r, &mut out)
            }
            Notification::DelRemote(index, r)
                if self.model.kinds.remotes && self.model.ports.contains_key(&index) =>
            {
                self.model
                    .remote_gone((index, r.mac.into_array(), r.dst, r.src_vni), &mut out)
            }
            Notification::DelFdb(e) if self.model.kinds.fdb && e.master == self.index => {
                self.model.fdb_gone(
                    (self.index, &self.name),
                    (e.mac.into_array(), e.vlan),
                    &mut out,
                )
            }
            _ => {}
        }
        self.queue.extend(out);
        Ok(())
    }

    /// After an overrun the socket still holds notifications older than
    /// the ones lost. Rather than wait for it to go quiet (on a busy host it
    /// never does), the stream opens a fresh subscription, which holds only
    /// what happens from now on, and then reads the bridge again and
    /// reports the differences, after a [`BridgeEvent::Resynced`].
    /// Notifications that overlap the read carry whole states and apply
    /// again harmlessly. Bounded: one subscription and one read.
    async fn resync(&mut self, out: &mut Vec<BridgeEvent>) -> Result<()> {
        self.nl.note_overrun();
        let kinds = self.model.kinds;
        self.sub = self
            .nl
            .subscribe(Op::WatchEvents, &self.name, kinds.groups())?;
        out.push(BridgeEvent::Resynced);
        match read_model(&self.nl, &self.name, self.index, kinds).await? {
            Some(new) => self.model.diff_to((self.index, &self.name), &new, out),
            None => self.deleted(out),
        }
        Ok(())
    }

    fn deleted(&mut self, out: &mut Vec<BridgeEvent>) {
        out.push(BridgeEvent::Deleted);
        self.done = true;
    }
}

impl Bridge {
    /// A stream of this bridge's events (see [`BridgeEvent`]): one netlink
    /// multicast subscription, filtered to this bridge and its ports (`ip
    /// monitor link address`, filtered). Only
    /// changes after the call are reported; the state at the start is what
    /// [`Bridge::status`] gives. If the kernel drops notifications, the
    /// stream reads the bridge again, yields [`BridgeEvent::Resynced`] and
    /// then the differences. After [`BridgeEvent::Deleted`] it ends.
    ///
    /// # Errors
    /// Opening the subscription or the first read fail as kernel errors;
    /// later read errors come as `Err` items.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use futures::StreamExt;
    /// let mut events = br.events().await?;
    /// while let Some(event) = events.next().await {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn events(&self) -> Result<BridgeEvents> {
        self.events_with(EventKinds::new()).await
    }

    /// [`events`](Self::events), with the extra kinds of events in
    /// `kinds`: FDB entries, VLANs, multicast router modes (see
    /// [`EventKinds`]); `ip monitor link` with `bridge monitor fdb` and
    /// `bridge monitor vlan`, filtered to this bridge. The same rules hold: changes after the call only,
    /// and after an overrun a [`BridgeEvent::Resynced`] and the
    /// differences, these kinds included.
    ///
    /// # Errors
    /// As [`events`](Self::events).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{BridgeEvent, EventKinds, FdbKind};
    /// use futures::StreamExt;
    /// // A control-plane agent watching what FRR's zebra installs.
    /// let mut events = br.events_with(EventKinds::new().fdb(true)).await?;
    /// while let Some(event) = events.next().await {
    ///     if let BridgeEvent::FdbAdded(e) = event? {
    ///         if e.kind == FdbKind::ExternLearned {
    ///             println!("remote MAC {} behind {}", e.mac, e.port);
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::WatchEvents.name(), iface = %self.name), err(Display))]
    pub async fn events_with(&self, kinds: EventKinds) -> Result<BridgeEvents> {
        let name = self.name.to_string();
        let sub = self.nl.subscribe(Op::WatchEvents, &name, kinds.groups())?;
        let model = read_model(&self.nl, &name, self.index, kinds)
            .await?
            .ok_or_else(|| crate::Error::NotFound {
                op: Op::WatchEvents,
                iface: IfName::from_kernel(&name),
                errno: None,
                bridge: None,
            })?;
        let state = State {
            nl: self.nl.clone(),
            name,
            index: self.index,
            sub,
            model,
            queue: VecDeque::new(),
            done: false,
        };
        let stream = futures::stream::unfold(state, |mut st| async move {
            loop {
                if let Some(ev) = st.queue.pop_front() {
                    return Some((Ok(ev), st));
                }
                if st.done {
                    return None;
                }
                let (msg, _) = st.sub.messages.next().await?;
                if let Err(e) = st.handle(Notification::parse(&msg)).await {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        });
        Ok(BridgeEvents {
            inner: Box::pin(stream),
        })
    }
}
