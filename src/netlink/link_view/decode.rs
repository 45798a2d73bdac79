//! Reading link messages straight from their bytes: the few fields the
//! view keeps, out of notifications and dump answers alike.

use std::sync::Arc;

use netlink_packet_route::link::InfoKind;
use rtnetlink::packet_core::{NlaBuffer, NlasIterator, Parseable, parse_string, parse_u32};

use super::ViewLink;

// Only the header and these attributes are decoded, with netlink-packet-
// route's own parsers, out of each notification: decoding every attribute
// (statistics, IPv6 and bridge settings) of every message would cost more
// than the lookup the view saves. Values from linux/rtnetlink.h and
// linux/if_link.h; netlink-packet-route keeps its constants private.
pub(super) const RTM_NEWLINK: u16 = 16;
pub(super) const RTM_DELLINK: u16 = 17;
pub(super) const IFLA_IFNAME: u16 = 3;
pub(super) const IFLA_MTU: u16 = 4;
pub(super) const IFLA_QDISC: u16 = 6;
pub(super) const IFLA_MASTER: u16 = 10;
pub(super) const IFLA_LINKINFO: u16 = 18;
pub(super) const IFLA_INFO_KIND: u16 = 1;
pub(super) const NLMSG_HDRLEN: usize = 16;
pub(super) const NLMSG_ERROR: u16 = 2;
pub(super) const NLMSG_DONE: u16 = 3;
pub(super) const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;

impl ViewLink {
    /// Decodes an RTM_NEWLINK payload (AF_UNSPEC). `known`: what the view
    /// holds for this ifindex; a link's kind never changes, so its
    /// IFLA_LINKINFO is not decoded again, and an unchanged name is shared,
    /// not copied. `None` for a message that does not parse.
    pub(super) fn parse(message: &[u8], known: Option<&ViewLink>) -> Option<Self> {
        let header = LinkMessage::read(message)?;
        let found = Wanted::find(header.attributes)?;
        let name = found.name?;
        let raw = name.strip_suffix(&[0]).unwrap_or(name);
        let name = match known {
            Some(k) if k.name.as_bytes() == raw => k.name.clone(),
            _ => Arc::<str>::from(parse_string(name).ok()?),
        };
        let kind = match (known, found.linkinfo) {
            // A link's kind never changes: not decoded again.
            (Some(k), _) => k.kind.clone(),
            (None, None) => None,
            (None, Some(info)) => {
                let mut kind = None;
                for info in NlasIterator::new(info) {
                    let info: NlaBuffer<&[u8]> = info.ok()?;
                    if info.kind() == IFLA_INFO_KIND {
                        kind = Some(InfoKind::parse(&info).ok()?.to_string().into());
                    }
                }
                kind
            }
        };
        Some(ViewLink {
            index: header.index,
            name: Some(name).filter(|n| !n.is_empty())?,
            kind,
            master: match found.master {
                Some(m) => Some(parse_u32(m).ok()?).filter(|m| *m != 0),
                None => None,
            },
            up: header.flags & libc::IFF_UP as u32 != 0,
            mtu: match found.mtu {
                Some(m) => parse_u32(m).ok()?,
                None => 0,
            },
            tbf_root: found
                .qdisc
                .is_some_and(|q| q.strip_suffix(&[0]).unwrap_or(q) == b"tbf"),
        })
    }
}

/// The values of the attributes the view reads, found in one walk.
#[derive(Default)]
pub(super) struct Wanted<'a> {
    name: Option<&'a [u8]>,
    mtu: Option<&'a [u8]>,
    master: Option<&'a [u8]>,
    linkinfo: Option<&'a [u8]>,
    qdisc: Option<&'a [u8]>,
}

impl<'a> Wanted<'a> {
    /// Walks the top-level attributes of a link message; `None` if one is
    /// cut short.
    ///
    /// Written out, where the rest of the crate uses netlink-packet-core's
    /// `NlasIterator`: a link notification carries some forty top-level
    /// attributes, of which the view wants five, and this walk is most of
    /// what a port check costs in user space. A loop of its own, with
    /// nothing else live, keeps it to a few instructions an attribute.
    #[inline(never)]
    fn find(data: &'a [u8]) -> Option<Self> {
        // linux/netlink.h: the type's top two bits are flags.
        const NLA_TYPE_MASK: u16 = 0x3fff;
        let mut found = Wanted::default();
        let mut at = 0;
        while let Some(header) = data.get(at..at + 4) {
            // struct nlattr { u16 nla_len; u16 nla_type; }, native-endian.
            let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
            let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
            let end = at + len;
            if len < 4 || end > data.len() {
                return None;
            }
            let slot = match kind {
                IFLA_IFNAME => &mut found.name,
                IFLA_MTU => &mut found.mtu,
                IFLA_MASTER => &mut found.master,
                IFLA_LINKINFO => &mut found.linkinfo,
                IFLA_QDISC => &mut found.qdisc,
                _ => {
                    at = (end + 3) & !3;
                    continue;
                }
            };
            *slot = Some(&data[at + 4..end]);
            at = (end + 3) & !3;
        }
        // Only the last attribute's padding may run past the end.
        (at >= data.len()).then_some(found)
    }
}

/// One netlink message at the start of `data`: its type and its bytes
/// (header included, padding not); `None` if it is cut short.
///
/// Read straight from the bytes (`struct nlmsghdr`, linux/netlink.h: a
/// fixed, native-endian C struct), like [`LinkMessage::read`], because a
/// drain reads several per port check and netlink-packet-core's checked
/// buffer costs more than the rest of the reading.
pub(super) fn netlink_message(data: &[u8]) -> Option<(u16, &[u8])> {
    let len = u32::from_ne_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let kind = u16::from_ne_bytes(data.get(4..6)?.try_into().ok()?);
    let message = data.get(..len).filter(|_| len >= NLMSG_HDRLEN)?;
    Some((kind, message))
}

/// What the view reads of a link message's `struct ifinfomsg`
/// (linux/rtnetlink.h): family, ifindex and flags, then its attributes.
pub(super) struct LinkMessage<'a> {
    pub(super) family: u8,
    pub(super) index: u32,
    pub(super) flags: u32,
    pub(super) attributes: &'a [u8],
}

impl<'a> LinkMessage<'a> {
    /// `message`: a whole netlink message, header included.
    pub(super) fn read(message: &'a [u8]) -> Option<Self> {
        // struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index;
        // u32 flags; u32 change; }, after the 16-byte nlmsghdr.
        let ifi = message.get(NLMSG_HDRLEN..NLMSG_HDRLEN + 16)?;
        Some(LinkMessage {
            family: ifi[0],
            index: u32::from_ne_bytes(ifi[4..8].try_into().ok()?),
            flags: u32::from_ne_bytes(ifi[8..12].try_into().ok()?),
            attributes: &message[NLMSG_HDRLEN + 16..],
        })
    }
}
