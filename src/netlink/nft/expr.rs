//! nf_tables rules as typed values: the expressions bridgekit's rules are
//! made of, each encoded as the kernel's `nft_expr_*` takes it. Every
//! load goes to register 1 (16 bytes, room for an IPv6 address) and is
//! compared at once, so no rule keeps two values.

use super::wire::{Attrs, attr};

/// `NFT_REG_1`: the first 16-byte data register.
const REG_1: u32 = 1;
/// `NFT_REG_VERDICT`.
const REG_VERDICT: u32 = 0;

/// What a meta expression loads (`enum nft_meta_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaKey {
    /// `skb->protocol`, the ethertype once a VLAN tag was taken off:
    /// two bytes, network order.
    Protocol = 1,
    /// The name of the interface the packet came in on (16 bytes, NUL
    /// padded).
    IifName = 6,
    /// The name of the interface it goes out on.
    OifName = 7,
    /// The packet's family in an inet chain (one byte: `NFPROTO_IPV4`
    /// 2, `NFPROTO_IPV6` 10).
    NfProto = 15,
    /// The layer 4 protocol number (one byte), set for IPv4 and IPv6
    /// packets that parse.
    L4Proto = 16,
}

/// What a conntrack expression loads (`enum nft_ct_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CtKey {
    /// The connection's state as a bit set (4 bytes, host order):
    /// `NF_CT_STATE_BIT(IP_CT_ESTABLISHED)` 2, `..RELATED` 4, new 8.
    State = 0,
}

/// Where a payload expression reads (`enum nft_payload_bases`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// The Ethernet header.
    Link = 0,
    /// The ARP, IPv4 or IPv6 header.
    Network = 1,
    /// The UDP, TCP or ICMPv6 header.
    Transport = 2,
}

/// `enum nft_cmp_ops`, the two bridgekit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq = 0,
    Neq = 1,
}

/// What a rule does with a packet that matched all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Let it through this chain (other chains on the hook still see it).
    Accept,
    Drop,
    /// Back to the chain that jumped here.
    Return,
    /// To another chain of the table, and back.
    Jump(String),
}

impl Verdict {
    /// `NF_DROP`, `NFT_RETURN`, `NFT_JUMP`.
    fn code(&self) -> i32 {
        match self {
            Verdict::Accept => 1,
            Verdict::Drop => 0,
            Verdict::Return => -5,
            Verdict::Jump(_) => -3,
        }
    }
}

/// One expression of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// Loads packet metadata into register 1.
    Meta(MetaKey),
    /// Loads `len` bytes at `offset` from `base` into register 1.
    Payload { base: Base, offset: u32, len: u32 },
    /// Register 1 &= `mask` (a prefix shorter than the bytes loaded).
    Mask(Vec<u8>),
    /// Register 1 compared with `data`: the rule goes on if it holds.
    Cmp(CmpOp, Vec<u8>),
    /// Counts the packets and bytes that got this far.
    Counter,
    /// Loads conntrack state into register 1.
    Ct(CtKey),
    /// Drops the packet and answers its sender with an ICMP (ICMPv6)
    /// "administratively prohibited", whatever its family (`reject with
    /// icmpx admin-prohibited`).
    Reject,
    /// Source NAT to the address of the interface the packet leaves by.
    Masquerade,
    /// Ends the rule with a verdict.
    Verdict(Verdict),
}

impl Expr {
    /// Writes this expression as one `NFTA_LIST_ELEM` of a rule's
    /// `NFTA_RULE_EXPRESSIONS`.
    pub(super) fn encode(&self, out: &mut Attrs) {
        out.nested(attr::LIST_ELEM, |e| {
            e.string(attr::EXPR_NAME, self.name());
            e.nested(attr::EXPR_DATA, |d| self.data(d));
        });
    }

    fn name(&self) -> &'static str {
        match self {
            Expr::Meta(_) => "meta",
            Expr::Payload { .. } => "payload",
            Expr::Mask(_) => "bitwise",
            Expr::Cmp(..) => "cmp",
            Expr::Counter => "counter",
            Expr::Ct(_) => "ct",
            Expr::Reject => "reject",
            Expr::Masquerade => "masq",
            Expr::Verdict(_) => "immediate",
        }
    }

    /// `NFTA_EXPR_DATA`: the expression's own attributes.
    fn data(&self, d: &mut Attrs) {
        match self {
            // NFTA_META_DREG, NFTA_META_KEY
            Expr::Meta(key) => {
                d.be32(1, REG_1).be32(2, *key as u32);
            }
            // NFTA_PAYLOAD_DREG, _BASE, _OFFSET, _LEN
            Expr::Payload { base, offset, len } => {
                d.be32(1, REG_1)
                    .be32(2, *base as u32)
                    .be32(3, *offset)
                    .be32(4, *len);
            }
            // NFTA_BITWISE_SREG, _DREG, _LEN, _MASK, _XOR
            Expr::Mask(mask) => {
                d.be32(1, REG_1).be32(2, REG_1).be32(3, mask.len() as u32);
                d.nested(4, |v| {
                    v.put(1, mask);
                });
                d.nested(5, |v| {
                    v.put(1, &vec![0; mask.len()]);
                });
            }
            // NFTA_CMP_SREG, _OP, _DATA (NFTA_DATA_VALUE)
            Expr::Cmp(op, data) => {
                d.be32(1, REG_1).be32(2, *op as u32);
                d.nested(3, |v| {
                    v.put(1, data);
                });
            }
            // NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS: from zero.
            Expr::Counter => {
                d.put(1, &0u64.to_be_bytes()).put(2, &0u64.to_be_bytes());
            }
            // NFTA_CT_DREG, NFTA_CT_KEY
            Expr::Ct(key) => {
                d.be32(1, REG_1).be32(2, *key as u32);
            }
            // NFTA_REJECT_TYPE (NFT_REJECT_ICMPX_UNREACH), NFTA_REJECT_ICMP_CODE
            // (NFT_REJECT_ICMPX_ADMIN_PROHIBITED, one byte).
            Expr::Reject => {
                d.be32(1, 2).put(2, &[3]);
            }
            // No attributes: the kernel picks the address and the ports.
            Expr::Masquerade => {}
            // NFTA_IMMEDIATE_DREG, _DATA: NFTA_DATA_VERDICT holding
            // NFTA_VERDICT_CODE and, for a jump, NFTA_VERDICT_CHAIN.
            Expr::Verdict(v) => {
                d.be32(1, REG_VERDICT);
                d.nested(2, |data| {
                    data.nested(2, |verdict| {
                        verdict.put(1, &v.code().to_be_bytes());
                        if let Verdict::Jump(chain) = v {
                            verdict.string(2, chain);
                        }
                    });
                });
            }
        }
    }
}

/// The expressions of one rule, encoded: the value of its
/// `NFTA_RULE_EXPRESSIONS`.
pub(crate) fn encode(exprs: &[Expr]) -> Vec<u8> {
    let mut out = Attrs::default();
    for e in exprs {
        e.encode(&mut out);
    }
    out.buf
}
