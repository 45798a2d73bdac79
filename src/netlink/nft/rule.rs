//! A rule being put together: matches on metadata and packet fields, a
//! prefix, a verdict, then the rule with its comment. The guest guard's
//! rules and the forward modes' are written with it.

use super::NftRule;
use super::expr::{Base, CmpOp, Expr, MetaKey, Verdict};

/// One rule being put together.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rule(Vec<Expr>);

impl Rule {
    pub(crate) fn new() -> Self {
        Rule(Vec::new())
    }

    /// Metadata `key` compared with `value` by `op`.
    pub(crate) fn meta(mut self, key: MetaKey, op: CmpOp, value: &[u8]) -> Self {
        self.0.push(Expr::Meta(key));
        self.0.push(Expr::Cmp(op, value.to_vec()));
        self
    }

    /// The frame's ethertype is `ethertype`.
    pub(crate) fn protocol(self, ethertype: [u8; 2]) -> Self {
        self.meta(MetaKey::Protocol, CmpOp::Eq, &ethertype)
    }

    /// The layer 4 protocol is `proto`.
    pub(crate) fn l4(self, proto: u8) -> Self {
        self.meta(MetaKey::L4Proto, CmpOp::Eq, &[proto])
    }

    /// The field at `offset` of `base` compared with `value` by `op`.
    pub(crate) fn field(mut self, base: Base, offset: u32, op: CmpOp, value: &[u8]) -> Self {
        self.0.push(Expr::Payload {
            base,
            offset,
            len: value.len() as u32,
        });
        self.0.push(Expr::Cmp(op, value.to_vec()));
        self
    }

    /// The field at `offset` is within the prefix `bytes`/`len` (bits).
    pub(crate) fn prefix(self, base: Base, offset: u32, bytes: &[u8], len: u8) -> Self {
        self.prefix_op(base, offset, bytes, len, CmpOp::Eq)
    }

    /// The field at `offset` is (`CmpOp::Eq`) or is not (`Neq`) within
    /// the prefix `bytes`/`len` (bits). A zero-length prefix holds every
    /// value: nothing is added for `Eq`.
    pub(crate) fn prefix_op(
        mut self,
        base: Base,
        offset: u32,
        bytes: &[u8],
        len: u8,
        op: CmpOp,
    ) -> Self {
        let whole = usize::from(len / 8);
        let part = len % 8;
        let n = whole + usize::from(part != 0);
        if n == 0 {
            return self;
        }
        self.0.push(Expr::Payload {
            base,
            offset,
            len: n as u32,
        });
        let mut value = bytes[..n].to_vec();
        if part != 0 {
            let mut mask = vec![0xff; n];
            mask[n - 1] = 0xff << (8 - part);
            value[n - 1] &= mask[n - 1];
            self.0.push(Expr::Mask(mask));
        }
        self.0.push(Expr::Cmp(op, value));
        self
    }

    /// Any other expression.
    pub(crate) fn then(mut self, expr: Expr) -> Self {
        self.0.push(expr);
        self
    }

    /// Counted, then dropped.
    pub(crate) fn drop(self) -> Self {
        self.then(Expr::Counter).then(Expr::Verdict(Verdict::Drop))
    }

    pub(crate) fn verdict(self, v: Verdict) -> Self {
        self.then(Expr::Verdict(v))
    }

    /// The rule, in `chain`, commented `tag` and its fingerprint.
    pub(crate) fn done(self, chain: &str, tag: &str) -> NftRule {
        NftRule::new(chain, tag, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_loads_its_bytes_and_masks_the_last() {
        let r = Rule::new().prefix(Base::Network, 12, &[10, 1, 255, 0], 20);
        assert_eq!(
            r.0,
            [
                Expr::Payload {
                    base: Base::Network,
                    offset: 12,
                    len: 3
                },
                Expr::Mask(vec![0xff, 0xff, 0xf0]),
                Expr::Cmp(CmpOp::Eq, vec![10, 1, 0xf0]),
            ]
        );
        let whole = Rule::new().prefix(Base::Network, 12, &[10, 1, 2, 3], 16);
        assert_eq!(whole.0.len(), 2);
        assert!(
            Rule::new()
                .prefix(Base::Network, 12, &[0; 4], 0)
                .0
                .is_empty()
        );
        let outside = Rule::new().prefix_op(Base::Network, 16, &[10, 1, 2, 3], 24, CmpOp::Neq);
        assert_eq!(outside.0[1], Expr::Cmp(CmpOp::Neq, vec![10, 1, 2]));
    }
}
