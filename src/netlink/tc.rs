//! Traffic control for per-port bandwidth limits: a tbf qdisc (`tc qdisc
//! replace dev DEV root handle HANDLE tbf rate R burst B limit L [peakrate
//! P mtu M]`), the ingress qdisc, and a u32 match-all filter with a mirred
//! redirect (`tc filter replace dev DEV parent ffff: protocol all pref PRIO
//! u32 match u32 0 0 action mirred egress redirect dev IFB`), as
//! route-netlink `TcMessage`s, and the requests that send, read and delete
//! them.
//!
//! netlink-packet-route 0.34 encodes the tc message, the ingress qdisc, u32
//! filters and mirred actions (the filter is built as rtnetlink's
//! `TrafficFilterNewRequest::redirect` builds it, which hands no message
//! out), but no tbf options: those are written here, as `tc` (iproute2's
//! `q_tbf.c`) writes them, less the rate tables the kernel reads only for a
//! link layer it does not know (we say Ethernet). Struct layouts:
//! `<linux/pkt_sched.h>`; what the kernel requires: `net/sched/sch_tbf.c`'s
//! `tbf_change`.

use netlink_packet_route::tc::{
    TcAction, TcActionAttribute, TcActionGeneric, TcActionMirrorOption, TcActionOption,
    TcActionType, TcAttribute, TcFilterU32Option, TcHandle, TcHeader, TcMessage, TcMirror,
    TcMirrorActionType, TcOption, TcU32Key, TcU32Selector, TcU32SelectorFlags,
};
#[cfg(test)]
use rtnetlink::packet_core::Emitable;
use rtnetlink::packet_core::{
    DefaultNla, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, Nla, NlasIterator,
};
use rtnetlink::packet_route::RouteNetlinkMessage;

use super::Netlink;
use crate::error::{Error, Op, Result};

const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_PRATE64: u16 = 5;
const TCA_TBF_BURST: u16 = 6;
const TCA_TBF_PBURST: u16 = 7;
/// `TC_LINKLAYER_ETHERNET`: no rate tables needed.
const LINKLAYER_ETHERNET: u8 = 1;
/// Scheduler ticks per second: the kernel's `PSCHED_TICKS2NS(x)` is
/// `x << 6`, one tick 64 ns (`/proc/net/psched`'s second field).
const TICKS_PER_SEC: u128 = 1_000_000_000 / 64;

/// A token bucket: what one direction of a port's limit asks of tbf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tbf {
    /// Average rate, bytes per second.
    pub rate: u64,
    /// Bucket size, bytes: what may pass at line rate after a pause.
    pub burst: u32,
    /// Peak rate (bytes per second, above `rate`) and its bucket (bytes,
    /// at least one full frame).
    pub peak: Option<(u64, u32)>,
    /// Bytes that may wait in the queue before tbf drops.
    pub limit: u32,
    /// The buckets as the kernel keeps them (ticks of the burst at the
    /// rate, of the peak's bucket at the peak), sent as they are and
    /// without the bytes: a tbf read back and made again (an undo) is then
    /// the very one it was, where bytes would go through the kernel's
    /// rounding once more.
    pub ticks: Option<(u32, u32)>,
}

/// Ticks to send `size` bytes at `rate` bytes per second, rounded up
/// (`tc_calc_xmittime`), at most `u32::MAX`.
pub(crate) fn xmit_ticks(rate: u64, size: u32) -> u32 {
    if rate == 0 {
        return u32::MAX;
    }
    let ticks = (u128::from(size) * TICKS_PER_SEC).div_ceil(u128::from(rate));
    u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// Bytes sent in `ticks` at `rate` (`tc_calc_xmitsize`): how a dumped
/// tbf's burst is read back.
pub(crate) fn xmit_size(rate: u64, ticks: u32) -> u64 {
    let size = u128::from(rate) * u128::from(ticks) / TICKS_PER_SEC;
    u64::try_from(size).unwrap_or(u64::MAX)
}

/// `struct tc_ratespec` for `rate` (12 bytes): a rate of 2^32 bytes per
/// second or more goes in TCA_TBF_RATE64 with all ones here, as `tc` does.
fn ratespec(rate: u64) -> [u8; 12] {
    let mut r = [0u8; 12];
    if rate == 0 {
        return r;
    }
    r[0] = 3; // cell_log: read by no kernel since 3.8; tc's value for 2047-byte cells
    r[1] = LINKLAYER_ETHERNET;
    r[4..6].copy_from_slice(&(-1i16).to_ne_bytes()); // cell_align, as tc
    r[8..12].copy_from_slice(&u32::try_from(rate).unwrap_or(u32::MAX).to_ne_bytes());
    r
}

/// `struct tc_tbf_qopt` (36 bytes): rate, peakrate, limit, buffer (ticks
/// of the burst at the rate), mtu (ticks of the peak's bucket at the peak).
fn qopt(t: &Tbf) -> Vec<u8> {
    let (peak, pburst) = t.peak.unwrap_or((0, 0));
    let mut q = Vec::with_capacity(36);
    q.extend_from_slice(&ratespec(t.rate));
    q.extend_from_slice(&ratespec(peak));
    q.extend_from_slice(&t.limit.to_ne_bytes());
    let (buffer, mtu) = t.ticks.unwrap_or_else(|| {
        let mtu = if peak == 0 {
            0
        } else {
            xmit_ticks(peak, pburst)
        };
        (xmit_ticks(t.rate, t.burst), mtu)
    });
    q.extend_from_slice(&buffer.to_ne_bytes());
    q.extend_from_slice(&mtu.to_ne_bytes());
    q
}

/// The tbf options, in `tc`'s order, less its rate tables: PARMS, BURST,
/// RATE64 (2^32 B/s and up), then for a peak PRATE64 and PBURST.
pub(crate) fn tbf_options(t: &Tbf) -> Vec<TcOption> {
    let nla = |kind: u16, value: Vec<u8>| TcOption::Other(DefaultNla::new(kind, value));
    // In ticks only, the kernel takes PARMS' buckets as they are.
    let bytes = t.ticks.is_none();
    let mut opts = vec![nla(TCA_TBF_PARMS, qopt(t))];
    if bytes {
        opts.push(nla(TCA_TBF_BURST, t.burst.to_ne_bytes().to_vec()));
    }
    if t.rate > u64::from(u32::MAX) {
        opts.push(nla(TCA_TBF_RATE64, t.rate.to_ne_bytes().to_vec()));
    }
    if let Some((peak, pburst)) = t.peak {
        if peak > u64::from(u32::MAX) {
            opts.push(nla(TCA_TBF_PRATE64, peak.to_ne_bytes().to_vec()));
        }
        if bytes {
            opts.push(nla(TCA_TBF_PBURST, pburst.to_ne_bytes().to_vec()));
        }
    }
    opts
}

/// RTM_NEWQDISC's message for a tbf at `handle` (major) on the root of
/// link `index`: sent with CREATE|REPLACE, it makes it or changes its rates
/// in place.
pub(crate) fn tbf_qdisc(index: u32, handle: u16, t: &Tbf) -> TcMessage {
    let header = TcHeader {
        index: i32::try_from(index).unwrap_or(i32::MAX),
        handle: TcHandle {
            major: handle,
            minor: 0,
        },
        parent: TcHandle::ROOT,
        ..TcHeader::default()
    };
    TcMessage::from_parts(
        header,
        vec![
            TcAttribute::Kind("tbf".into()),
            TcAttribute::Options(tbf_options(t)),
        ],
    )
}

/// A tbf as the kernel reports it: the buckets in ticks, as it keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TbfSeen {
    pub rate: u64,
    pub peak: u64,
    pub limit: u32,
    /// Ticks of the burst at the rate.
    pub buffer: u32,
    /// Ticks of the peak's bucket at the peak rate (0 without a peak).
    pub mtu: u32,
}

impl TbfSeen {
    /// Whether the kernel keeps `want`: the rates and queue exactly, the
    /// buckets exactly if sent in ticks, else to within 2 ticks (the
    /// kernel computes their time from the bytes sent with its own
    /// rounding, `psched_l2t_ns`).
    pub(crate) fn keeps(&self, want: &Tbf) -> bool {
        let (peak, pburst) = want.peak.unwrap_or((0, 0));
        let near = |a: u32, b: u32| a.abs_diff(b) <= 2;
        let buckets = match want.ticks {
            Some((buffer, mtu)) => self.buffer == buffer && (peak == 0 || self.mtu == mtu),
            None => {
                near(self.buffer, xmit_ticks(want.rate, want.burst))
                    && (peak == 0 || near(self.mtu, xmit_ticks(peak, pburst)))
            }
        };
        self.rate == want.rate && self.peak == peak && self.limit == want.limit && buckets
    }

    /// The tbf to send to make this one again (an undo): the buckets in
    /// the ticks the kernel keeps (and in bytes, for reading).
    pub(crate) fn as_tbf(&self) -> Tbf {
        let bytes = |rate, ticks| u32::try_from(xmit_size(rate, ticks)).unwrap_or(u32::MAX);
        Tbf {
            rate: self.rate,
            burst: bytes(self.rate, self.buffer),
            peak: (self.peak != 0).then(|| (self.peak, bytes(self.peak, self.mtu))),
            limit: self.limit,
            ticks: Some((self.buffer, self.mtu)),
        }
    }
}

/// What a dumped tbf's options say, or `None` if they are no tbf's.
pub(crate) fn read_tbf(options: &[TcOption]) -> Option<TbfSeen> {
    // A kind netlink-packet-route does not know comes back as one opaque
    // TCA_OPTIONS attribute: its value is the nested options.
    let TcOption::Other(nest) = options.first()? else {
        return None;
    };
    let mut raw = vec![0u8; nest.value_len()];
    nest.emit_value(&mut raw);
    let (mut parms, mut rate64, mut prate64) = (None, None, None);
    for nla in NlasIterator::new(&raw[..]) {
        let nla = nla.ok()?;
        let value = nla.value();
        match nla.kind() {
            TCA_TBF_PARMS if value.len() >= 36 => parms = Some(value[..36].to_vec()),
            TCA_TBF_RATE64 if value.len() >= 8 => {
                rate64 = Some(u64::from_ne_bytes(value[..8].try_into().ok()?));
            }
            TCA_TBF_PRATE64 if value.len() >= 8 => {
                prate64 = Some(u64::from_ne_bytes(value[..8].try_into().ok()?));
            }
            _ => {}
        }
    }
    let p = parms?;
    let u32_at = |at: usize| u32::from_ne_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
    Some(TbfSeen {
        rate: rate64.unwrap_or_else(|| u64::from(u32_at(8))),
        peak: prate64.unwrap_or_else(|| u64::from(u32_at(20))),
        limit: u32_at(24),
        buffer: u32_at(28),
        mtu: u32_at(32),
    })
}

/// `ETH_P_ALL` in network byte order, as a filter's protocol is sent.
const ALL_PROTOCOLS: u16 = 0x0003u16.to_be();

/// The ingress qdisc's handle and parent (`ffff:` under `ffff:fff1`).
const INGRESS_HANDLE: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0,
};

fn header(index: u32, handle: TcHandle, parent: TcHandle) -> TcHeader {
    TcHeader {
        index: i32::try_from(index).unwrap_or(i32::MAX),
        handle,
        parent,
        ..TcHeader::default()
    }
}

/// `tc qdisc add dev DEV ingress`.
fn ingress_qdisc(index: u32) -> TcMessage {
    TcMessage::from_parts(
        header(index, INGRESS_HANDLE, TcHandle::INGRESS),
        vec![TcAttribute::Kind("ingress".into())],
    )
}

/// `tc filter replace dev DEV parent ffff: protocol all pref PRIO u32
/// match u32 0 0 action mirred egress redirect dev TO`: every frame the
/// link receives goes to `to`'s egress (an IFB, whose qdisc then shapes
/// it, and which hands it back to the link's receive path).
fn redirect_filter(index: u32, prio: u16, to: u32) -> TcMessage {
    let mut header = header(index, TcHandle::UNSPEC, INGRESS_HANDLE);
    header.info = (u32::from(prio) << 16) | u32::from(ALL_PROTOCOLS);
    let mut selector = TcU32Selector::default();
    selector.flags = TcU32SelectorFlags::Terminal;
    selector.nkeys = 1;
    selector.keys = vec![TcU32Key::default()];
    let mut mirror = TcMirror::default();
    mirror.generic = TcActionGeneric::default();
    mirror.generic.action = TcActionType::Stolen;
    mirror.eaction = TcMirrorActionType::EgressRedir;
    mirror.ifindex = to;
    let mut action = TcAction::default();
    action.attributes = vec![
        TcActionAttribute::Kind("mirred".into()),
        TcActionAttribute::Options(vec![TcActionOption::Mirror(TcActionMirrorOption::Parms(
            mirror,
        ))]),
    ];
    TcMessage::from_parts(
        header,
        vec![
            TcAttribute::Kind("u32".into()),
            TcAttribute::Options(vec![
                TcOption::U32(TcFilterU32Option::Selector(selector)),
                TcOption::U32(TcFilterU32Option::Action(vec![action])),
            ]),
        ],
    )
}

/// A qdisc as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QdiscSeen {
    pub handle: u16,
    pub kind: String,
    /// Its options, if it is a tbf.
    pub tbf: Option<TbfSeen>,
}

/// Where a qdisc hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QdiscAt {
    /// The link's egress root.
    Root,
    /// The link's ingress (where `ingress` and `clsact` live).
    Ingress,
}

impl QdiscAt {
    fn parent(self) -> TcHandle {
        match self {
            QdiscAt::Root => TcHandle::ROOT,
            QdiscAt::Ingress => TcHandle::INGRESS,
        }
    }
}

/// A filter as the kernel reports it: its priority, and where its mirred
/// action redirects, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FilterSeen {
    pub prio: u16,
    pub redirect: Option<u32>,
}

fn seen_qdisc(m: &TcMessage) -> QdiscSeen {
    let mut kind = String::new();
    let mut tbf = None;
    for a in &m.attributes {
        match a {
            TcAttribute::Kind(k) => kind.clone_from(k),
            TcAttribute::Options(o) => tbf = read_tbf(o),
            _ => {}
        }
    }
    QdiscSeen {
        handle: m.header.handle.major,
        kind: kind.clone(),
        tbf: tbf.filter(|_| kind == "tbf"),
    }
}

fn seen_filter(m: &TcMessage) -> FilterSeen {
    let mut redirect = None;
    for a in &m.attributes {
        let TcAttribute::Options(options) = a else {
            continue;
        };
        for o in options {
            let TcOption::U32(TcFilterU32Option::Action(actions)) = o else {
                continue;
            };
            for action in actions {
                for aa in &action.attributes {
                    if let TcActionAttribute::Options(ao) = aa {
                        for x in ao {
                            if let TcActionOption::Mirror(TcActionMirrorOption::Parms(p)) = x {
                                if p.eaction == TcMirrorActionType::EgressRedir {
                                    redirect = Some(p.ifindex);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    FilterSeen {
        prio: u16::try_from(m.header.info >> 16).unwrap_or(0),
        redirect,
    }
}

impl Netlink {
    /// The qdisc at `at` of link `index` (`tc qdisc show dev DEV root` or
    /// `ingress`): one RTM_GETQDISC, with NLM_F_ECHO (see
    /// [`query_echo`](Netlink::query_echo)). `None` where there is none of
    /// anyone's: the kernel's ENOENT, the EINVAL of a built-in it does not
    /// report, or the `noop` it leaves at an ingress once emptied.
    pub(crate) async fn qdisc(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        at: QdiscAt,
    ) -> Result<Option<QdiscSeen>> {
        let msg = TcMessage::from_parts(header(index, TcHandle::UNSPEC, at.parent()), vec![]);
        match self
            .query_echo(op, iface, RouteNetlinkMessage::GetQueueDiscipline(msg))
            .await
        {
            Ok(answer) => Ok(answer
                .iter()
                .find_map(|m| match m {
                    RouteNetlinkMessage::NewQueueDiscipline(q) => Some(seen_qdisc(q)),
                    _ => None,
                })
                .filter(|q| q.kind != "noop")),
            Err(Error::NotFound { .. }) => Ok(None),
            // `qdisc_get_notify`'s answer for a built-in qdisc it does not
            // report (`noqueue`, `noop`): no qdisc of anyone's.
            Err(Error::Netlink { errno, .. }) if errno == libc::EINVAL => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Puts a tbf at the root of link `index` (handle `handle:`), or
    /// changes the rates of the one there in place: `tc qdisc replace`.
    pub(crate) async fn replace_tbf(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        handle: u16,
        tbf: &Tbf,
    ) -> Result<()> {
        let msg = RouteNetlinkMessage::NewQueueDiscipline(tbf_qdisc(index, handle, tbf));
        self.request(op, iface, msg, NLM_F_CREATE | NLM_F_REPLACE)
            .await
    }

    /// `tc qdisc add dev DEV ingress`.
    pub(crate) async fn add_ingress(&self, op: Op, iface: &str, index: u32) -> Result<()> {
        let msg = RouteNetlinkMessage::NewQueueDiscipline(ingress_qdisc(index));
        self.request(op, iface, msg, NLM_F_CREATE | NLM_F_EXCL)
            .await
    }

    /// Deletes the qdisc at `at` of link `index` (`tc qdisc del dev DEV
    /// root` or `ingress`); at the root the kernel puts its default back.
    pub(crate) async fn delete_qdisc(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        at: QdiscAt,
    ) -> Result<()> {
        let msg = TcMessage::from_parts(header(index, TcHandle::UNSPEC, at.parent()), vec![]);
        self.request(op, iface, RouteNetlinkMessage::DelQueueDiscipline(msg), 0)
            .await
    }

    /// The filters under link `index`'s ingress qdisc (`tc filter show
    /// dev DEV parent ffff:`): one dump.
    pub(crate) async fn ingress_filters(
        &self,
        op: Op,
        iface: &str,
        index: u32,
    ) -> Result<Vec<FilterSeen>> {
        let msg = TcMessage::from_parts(header(index, TcHandle::UNSPEC, INGRESS_HANDLE), vec![]);
        let answer = self
            .query(op, iface, RouteNetlinkMessage::GetTrafficFilter(msg), true)
            .await?;
        Ok(answer
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewTrafficFilter(f) => Some(seen_filter(f)),
                _ => None,
            })
            .collect())
    }

    /// Redirects every frame link `index` receives to link `to`'s egress,
    /// by a filter of priority `prio` under its ingress qdisc, replacing
    /// one of that priority.
    pub(crate) async fn replace_redirect(
        &self,
        op: Op,
        iface: &str,
        index: u32,
        prio: u16,
        to: u32,
    ) -> Result<()> {
        let msg = RouteNetlinkMessage::NewTrafficFilter(redirect_filter(index, prio, to));
        self.request(op, iface, msg, NLM_F_CREATE | NLM_F_REPLACE)
            .await
    }
}

/// The bytes of a message as the kernel gets them (for tests).
#[cfg(test)]
fn bytes(m: &TcMessage) -> Vec<u8> {
    let mut b = vec![0u8; m.buffer_len()];
    m.emit(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tc qdisc add dev IF root handle 1: tbf rate 8mbit burst 100kb
    /// latency 25ms`: the options' bytes are those `strace -xx` showed
    /// iproute2 6.1 sending (2026-12-06, on lo of a fresh namespace; the
    /// header differs in the ifindex only), less TCA_TBF_RTAB (the
    /// 1024-byte rate table, which the kernel ignores for an Ethernet link
    /// layer). `tc -j qdisc show` then read rate 1000000, burst 102400.
    #[test]
    fn a_tbf_is_what_tc_sends_less_its_rate_table() {
        let t = Tbf {
            rate: 1_000_000,
            burst: 102_400,
            peak: None,
            limit: 127_400,
            ticks: None,
        };
        let got = bytes(&tbf_qdisc(7, 1, &t));
        let mut want = vec![
            0, 0, 0, 0, // family, padding
            7, 0, 0, 0, // ifindex
            0, 0, 1, 0, // handle 1:0
            0xff, 0xff, 0xff, 0xff, // parent root
            0, 0, 0, 0, // info
            8, 0, 1, 0, b't', b'b', b'f', 0, // TCA_KIND "tbf"
            52, 0, 2, 0, // TCA_OPTIONS: 4 + 40 + 8 bytes
            40, 0, 1, 0, // TCA_TBF_PARMS
            3, 1, 0, 0, 0xff, 0xff, 0, 0, // rate: cell_log 3, ethernet, cell_align -1
        ];
        want.extend_from_slice(&1_000_000u32.to_ne_bytes());
        want.extend_from_slice(&[0; 12]); // no peak
        want.extend_from_slice(&127_400u32.to_ne_bytes()); // limit
        want.extend_from_slice(&1_600_000u32.to_ne_bytes()); // buffer: 102400 B at 1 MB/s in 64 ns ticks
        want.extend_from_slice(&0u32.to_ne_bytes()); // mtu
        want.extend_from_slice(&[8, 0, 6, 0]); // TCA_TBF_BURST
        want.extend_from_slice(&102_400u32.to_ne_bytes());
        assert_eq!(got, want);
    }

    #[test]
    fn a_peak_and_a_64_bit_rate_add_their_attributes() {
        let t = Tbf {
            rate: 5_000_000_000,
            burst: 1 << 20,
            peak: Some((6_000_000_000, 65_536)),
            limit: 1 << 22,
            ticks: None,
        };
        let kinds: Vec<u16> = tbf_options(&t)
            .iter()
            .map(|o| match o {
                TcOption::Other(n) => n.kind(),
                _ => 0,
            })
            .collect();
        assert_eq!(
            kinds,
            [
                TCA_TBF_PARMS,
                TCA_TBF_BURST,
                TCA_TBF_RATE64,
                TCA_TBF_PRATE64,
                TCA_TBF_PBURST
            ]
        );
        let q = qopt(&t);
        assert_eq!(
            &q[8..12],
            &u32::MAX.to_ne_bytes(),
            "rate saturates into RATE64"
        );
        assert_eq!(q[13], LINKLAYER_ETHERNET, "the peak's ratespec");
    }

    #[test]
    fn ticks_round_trip() {
        assert_eq!(xmit_ticks(1_000_000, 102_400), 1_600_000);
        assert_eq!(xmit_size(1_000_000, 1_600_000), 102_400);
        // Rounded up: a byte at 3 B/s is 5,208,333.33 ticks.
        assert_eq!(xmit_ticks(3, 1), 5_208_334);
        assert_eq!(xmit_ticks(0, 1), u32::MAX);
    }

    #[test]
    fn a_dumped_tbf_reads_back() {
        let t = Tbf {
            rate: 2_500_000,
            burst: 32_768,
            peak: Some((5_000_000, 1_600)),
            limit: 100_000,
            ticks: None,
        };
        // The kernel dumps PARMS (and RATE64/PRATE64 for big rates), which
        // netlink-packet-route hands back nested in one opaque attribute.
        let mut nest = vec![0u8; 40];
        TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, qopt(&t))).emit(&mut nest);
        let dumped = [TcOption::Other(DefaultNla::new(2, nest))];
        let seen = read_tbf(&dumped).unwrap();
        assert_eq!(
            (seen.rate, seen.peak, seen.limit),
            (2_500_000, 5_000_000, 100_000)
        );
        assert!(seen.keeps(&t));
        let again = seen.as_tbf();
        assert!(again.burst.abs_diff(32_768) <= 1, "{again:?}");
        assert!(seen.keeps(&again));
        assert!(!seen.keeps(&Tbf { limit: 1, ..t }));
        // Made again from ticks: PARMS alone, the buckets as they were.
        let opts = tbf_options(&again);
        assert_eq!(opts.len(), 1);
        assert_eq!(&qopt(&again)[28..36], &qopt(&t)[28..36]);
    }
}
