//! The link view's parse and bookkeeping, without a kernel.

use super::decode::NLMSG_HDRLEN;
use super::*;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use rtnetlink::packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;

fn message(family: AddressFamily, del: bool, index: u32, name: &str, master: u32) -> Vec<u8> {
    let mut m = LinkMessage::default();
    m.header.interface_family = family;
    m.header.index = index;
    m.header.flags = LinkFlags::Up;
    m.attributes.push(LinkAttribute::IfName(name.into()));
    m.attributes.push(LinkAttribute::Mtu(1400));
    m.attributes.push(LinkAttribute::Controller(master));
    m.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Veth,
        )]));
    let inner = if del {
        RouteNetlinkMessage::DelLink(m)
    } else {
        RouteNetlinkMessage::NewLink(m)
    };
    let mut msg = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(inner));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

fn state() -> ViewState {
    ViewState {
        socket: Socket::new(NETLINK_ROUTE).expect("a netlink socket"),
        links: HashMap::default(),
        names: HashMap::new(),
        overrun: false,
        buf: Vec::new(),
        dump_seq: 0,
        last_seq: 0,
        dump_done: false,
    }
}

/// An NLMSG_DONE (or NLMSG_ERROR) answering request `seq` with `code`.
fn end(kind: u16, seq: u32, code: i32) -> Vec<u8> {
    let mut out = vec![0u8; NLMSG_HDRLEN + 4];
    out[..4].copy_from_slice(&((NLMSG_HDRLEN + 4) as u32).to_ne_bytes());
    out[4..6].copy_from_slice(&kind.to_ne_bytes());
    out[8..12].copy_from_slice(&seq.to_ne_bytes());
    out[NLMSG_HDRLEN..].copy_from_slice(&code.to_ne_bytes());
    out
}

#[test]
fn the_views_own_dump_ends_with_its_done_and_fails_with_an_error() {
    let mut st = state();
    st.dump_seq = 5;
    // Another request's end, and a link message: the dump goes on.
    st.apply(&[&end(NLMSG_DONE, 4, 0)]);
    st.apply(&[&message(AddressFamily::Unspec, false, 7, "vnet0", 0)]);
    assert!(!st.dump_done && !st.overrun);
    // Its own end, in the same datagram as the last link.
    let both = [
        message(AddressFamily::Unspec, false, 8, "vnet1", 0),
        end(NLMSG_DONE, 5, 0),
    ]
    .concat();
    st.apply(&[&both]);
    assert!(st.dump_done && !st.overrun);
    assert!(st.find(super::super::LinkRef::Name("vnet1")).is_some());
    // An end that carries an errno leaves the view to be read again.
    for kind in [NLMSG_DONE, NLMSG_ERROR] {
        st.dump_done = false;
        st.apply(&[&end(kind, 5, -libc::EINTR)]);
        assert!(st.dump_done && st.overrun);
        st.overrun = false;
    }
    // With no dump of its own pending, nothing is one.
    st.dump_seq = 0;
    st.dump_done = false;
    st.apply(&[&end(NLMSG_DONE, 0, 0)]);
    assert!(!st.dump_done);
}

#[test]
fn notifications_add_rename_move_and_delete_links() {
    let mut st = state();
    st.apply(&[&message(AddressFamily::Unspec, false, 7, "vnet0", 0)]);
    let l = st
        .find(super::super::LinkRef::Name("vnet0"))
        .expect("added");
    assert_eq!(
        (l.index, l.kind.as_deref(), l.master, l.up, l.mtu),
        (7, Some("veth"), None, true, 1400)
    );
    // A rename drops the old name; a master is recorded.
    st.apply(&[&message(AddressFamily::Unspec, false, 7, "guest0", 3)]);
    assert!(st.find(super::super::LinkRef::Name("vnet0")).is_none());
    assert_eq!(
        st.find(super::super::LinkRef::Index(7))
            .expect("kept")
            .master,
        Some(3)
    );
    // The bridge's AF_BRIDGE "left the bridge" is not a deletion.
    st.apply(&[&message(AddressFamily::Bridge, true, 7, "guest0", 3)]);
    assert!(st.find(super::super::LinkRef::Index(7)).is_some());
    st.apply(&[&message(AddressFamily::Unspec, true, 7, "guest0", 0)]);
    assert!(st.find(super::super::LinkRef::Index(7)).is_none());
    assert!(st.names.is_empty());
    assert!(!st.overrun);
}

#[test]
fn only_the_last_message_of_a_link_counts_and_names_swap() {
    let mut st = state();
    st.apply(&[
        &message(AddressFamily::Unspec, false, 1, "a", 0),
        &message(AddressFamily::Unspec, false, 2, "b", 0),
    ]);
    // In one batch: 1 goes a -> x -> b, 2 goes b -> a.
    st.apply(&[
        &message(AddressFamily::Unspec, false, 1, "x", 0),
        &message(AddressFamily::Unspec, false, 2, "a", 0),
        &message(AddressFamily::Unspec, false, 1, "b", 5),
    ]);
    fn by(st: &ViewState, n: &str) -> Option<u32> {
        st.find(super::super::LinkRef::Name(n)).map(|l| l.index)
    }
    assert_eq!(
        (by(&st, "a"), by(&st, "b"), by(&st, "x")),
        (Some(2), Some(1), None)
    );
    assert_eq!(st.links[&1].master, Some(5));
    // Made and deleted in one batch: gone.
    st.apply(&[
        &message(AddressFamily::Unspec, false, 3, "c", 0),
        &message(AddressFamily::Unspec, true, 3, "c", 0),
    ]);
    assert_eq!(by(&st, "c"), None);
    // Deleted and made again with its ifindex, in one batch: the new
    // link's kind, not the old one's.
    let mut bridge = message(AddressFamily::Unspec, false, 2, "a", 0);
    let at = bridge
        .windows(4)
        .position(|w| w == b"veth")
        .expect("the kind in the message");
    bridge[at..at + 4].copy_from_slice(b"vxla");
    st.apply(&[&message(AddressFamily::Unspec, true, 2, "a", 0), &bridge]);
    assert_eq!(st.links[&2].kind.as_deref(), Some("vxla"));
}

#[test]
fn two_messages_in_one_datagram_and_garbage() {
    let mut st = state();
    let mut both = message(AddressFamily::Unspec, false, 1, "a", 0);
    both.extend(message(AddressFamily::Unspec, false, 2, "b", 1));
    st.apply(&[&both]);
    assert_eq!(st.links.len(), 2);
    st.apply(&[&[1, 2, 3]]);
    assert!(
        st.overrun,
        "a datagram that does not parse forces a rebuild"
    );
}
