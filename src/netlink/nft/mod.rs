//! nf_tables: the tables, chains and rules bridgekit owns (the guest
//! guard's), on a socket of their own (NETLINK_NETFILTER) next to the
//! route socket.
//!
//! Every change is one nf_tables transaction: the messages go in one
//! batch (`NFNL_MSG_BATCH_BEGIN` … `NFNL_MSG_BATCH_END`), and the kernel
//! commits all of them or none. So a port's rules are replaced without a
//! moment in which the port is unguarded, and a refused rule leaves
//! nothing behind. The acknowledgement is truthful: nf_tables validates
//! every expression and the whole ruleset's jumps before it commits.
//!
//! - `wire.rs`: the bytes (attributes, messages, batches);
//! - `expr.rs`: the expressions rules are made of, typed;
//! - `rule.rs`: a rule put together from matches and a verdict;
//! - `socket.rs`: the socket, a transaction's verdict, a dump's messages.

use tracing::debug;

use crate::error::{Error, Op, Result};
use crate::sys::netns;
use crate::values::name::IfName;

mod expr;
mod rule;
mod socket;
mod wire;

pub(crate) use expr::{Base, CmpOp, CtKey, Expr, MetaKey, Verdict};
pub(crate) use rule::Rule;
pub(super) use socket::NftSocket;
use socket::Outcome;
pub(crate) use wire::Family;
use wire::{Attrs, Batch, MsgType, attr};

/// `NF_NETDEV_INGRESS`.
const HOOK_INGRESS: u32 = 0;
/// `NF_INET_FORWARD`.
const HOOK_FORWARD: u32 = 2;
/// `NF_INET_POST_ROUTING`.
const HOOK_POSTROUTING: u32 = 4;
/// `NF_ACCEPT`: a base chain's policy.
const POLICY_ACCEPT: u32 = 1;
/// `NFTNL_UDATA_RULE_COMMENT`: the type of the comment `nft` shows, in a
/// rule's user data.
const UDATA_COMMENT: u8 = 0;

/// A chain to create, with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NftChain {
    pub(crate) name: String,
    /// Where a base chain hooks in; a regular chain (reached by jumps) if
    /// `None`.
    pub(crate) hook: Option<Hook>,
    pub(crate) rules: Vec<NftRule>,
}

/// Where a base chain hooks in, at what priority, of what type. Its policy
/// is always accept: bridgekit's chains drop what their rules drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hook {
    /// `NF_NETDEV_INGRESS`, `NF_INET_FORWARD`, `NF_INET_POST_ROUTING`.
    num: u32,
    priority: i32,
    /// The device of a netdev ingress hook.
    device: Option<String>,
    /// `filter` or `nat`.
    kind: &'static str,
}

impl Hook {
    /// A netdev filter chain on `device`'s ingress.
    pub(crate) fn ingress(device: &str, priority: i32) -> Self {
        Hook {
            num: HOOK_INGRESS,
            priority,
            device: Some(device.to_string()),
            kind: "filter",
        }
    }

    /// An inet filter chain on the forward hook.
    pub(crate) fn forward(priority: i32) -> Self {
        Hook {
            num: HOOK_FORWARD,
            priority,
            device: None,
            kind: "filter",
        }
    }

    /// An inet nat chain on the postrouting hook (source NAT).
    pub(crate) fn postrouting_nat(priority: i32) -> Self {
        Hook {
            num: HOOK_POSTROUTING,
            priority,
            device: None,
            kind: "nat",
        }
    }
}

/// A rule: its encoded expressions and the comment it carries (what
/// bridgekit reads back to know the rule is the one it made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NftRule {
    pub(crate) exprs: Vec<u8>,
    pub(crate) comment: String,
}

impl NftRule {
    /// A rule of `exprs`, whose comment is `tag` and a fingerprint of its
    /// expressions and `chain`: a rule changed behind bridgekit's back
    /// (or by an older bridgekit) reads back with another comment.
    pub(crate) fn new(chain: &str, tag: &str, exprs: &[Expr]) -> Self {
        let exprs = expr::encode(exprs);
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in chain.as_bytes().iter().chain(&exprs) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        NftRule {
            exprs,
            comment: format!("{tag} {hash:016x}"),
        }
    }
}

/// A chain of a table as the kernel has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainSeen {
    pub(crate) name: String,
    /// Whether it is a base chain (it has a hook).
    pub(crate) base: bool,
    /// Its hook's number.
    pub(crate) hooknum: u32,
    /// The devices its hook is on (none: a base chain whose device went
    /// away, on kernels that keep such chains).
    pub(crate) devices: Vec<String>,
    /// Its hook's priority.
    pub(crate) priority: i32,
    /// Its type (`filter`, `nat`).
    pub(crate) kind: String,
}

impl ChainSeen {
    /// Whether it hooks in where `want` says (`None`: a regular chain).
    fn hooked_as(&self, want: Option<&Hook>) -> bool {
        match want {
            None => !self.base,
            Some(h) => {
                self.base
                    && self.hooknum == h.num
                    && self.priority == h.priority
                    && self.kind == h.kind
                    && self.devices.first().map(String::as_str) == h.device.as_deref()
            }
        }
    }

    /// Its hook as one to create again.
    fn hook(&self) -> Option<Hook> {
        self.base.then(|| Hook {
            num: self.hooknum,
            priority: self.priority,
            device: self.devices.first().cloned(),
            kind: if self.kind == "nat" { "nat" } else { "filter" },
        })
    }
}

/// A rule of a table as the kernel has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleSeen {
    pub(crate) chain: String,
    /// Its comment, if it has one.
    pub(crate) comment: Option<String>,
    /// Its expressions as the kernel dumped them: sent back as they are
    /// to restore the rule.
    pub(crate) exprs: Vec<u8>,
}

impl RuleSeen {
    /// The rule to send to make this one again.
    pub(crate) fn to_rule(&self) -> NftRule {
        NftRule {
            exprs: self.exprs.clone(),
            comment: self.comment.clone().unwrap_or_default(),
        }
    }
}

/// One table's chains and rules, each chain's rules in order, found by
/// the chain's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TableSeen {
    pub(crate) chains: std::collections::HashMap<String, ChainSeen>,
    pub(crate) rules: std::collections::HashMap<String, Vec<RuleSeen>>,
}

impl TableSeen {
    /// The chains of `names` the table has, with their rules as dumped:
    /// what to make again to undo a change to them.
    pub(crate) fn chains_named(&self, names: &[String]) -> Vec<NftChain> {
        names
            .iter()
            .filter_map(|name| {
                let chain = self.chains.get(name)?;
                Some(NftChain {
                    hook: chain.hook(),
                    rules: self
                        .rules
                        .get(name)
                        .map(|r| r.iter().map(RuleSeen::to_rule).collect())
                        .unwrap_or_default(),
                    name: name.clone(),
                })
            })
            .collect()
    }

    /// Whether, of the chains `names`, the table has exactly `want`: the
    /// same chains, hooked in the same way, with rules whose comments
    /// (fingerprints of what they do) are those wanted, in order. A rule
    /// changed by someone else carries another comment, or none. Reads
    /// the table in place: an unchanged apply copies nothing.
    pub(crate) fn holds_exactly(&self, names: &[String], want: &[NftChain]) -> bool {
        let present = names
            .iter()
            .filter(|n| self.chains.contains_key(*n))
            .count();
        present == want.len()
            && want.iter().all(|w| {
                let Some(chain) = self.chains.get(&w.name) else {
                    return false;
                };
                let rules = self.rules.get(&w.name).map_or(&[][..], Vec::as_slice);
                chain.hooked_as(w.hook.as_ref())
                    && rules.len() == w.rules.len()
                    && rules
                        .iter()
                        .zip(&w.rules)
                        .all(|(a, b)| a.comment.as_deref() == Some(b.comment.as_str()))
            })
    }
}

impl super::Netlink {
    /// The nf_tables socket, opened in this connection's namespace on first
    /// use.
    async fn nft(&self, op: Op, iface: &str) -> Result<&tokio::sync::Mutex<NftSocket>> {
        self.inner
            .nft
            .get_or_try_init(|| async {
                let rt = tokio::runtime::Handle::current();
                netns::run_in(&self.inner.netns, || {
                    let _in_runtime = rt.enter();
                    NftSocket::open()
                })
                .map(tokio::sync::Mutex::new)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::EPROTONOSUPPORT) => Error::Unsupported {
                        op,
                        iface: IfName::from_kernel(iface),
                        detail: "nfnetlink (a kernel built without CONFIG_NETFILTER_NETLINK)"
                            .into(),
                    },
                    _ => Error::io(op, iface, e),
                })
            })
            .await
    }

    /// One transaction on `table` (a netdev table, created if missing):
    /// deletes the chains in `delete` with their rules, then creates
    /// `create` with their rules (regular chains first, so jumps find
    /// them). Committed whole or not at all. `exclusive`: a chain of
    /// `create` that exists already fails the transaction with EEXIST
    /// ([`Error::AlreadyExists`]).
    pub(crate) async fn nft_replace(
        &self,
        op: Op,
        iface: &str,
        (family, table): (Family, &str),
        delete: &[String],
        create: &[NftChain],
        exclusive: bool,
    ) -> Result<()> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)?;
        let socket = self.nft(op, iface).await?;
        let mut socket = socket.lock().await;
        let first = socket.next_seq(replace_messages(delete, create) + 1);
        let (batch, waited) = replace_batch(first, (family, table), delete, create, exclusive);
        debug!(%op, iface, table, delete = delete.len(), create = create.len(), "nf_tables transaction");
        match socket.transaction(&batch, waited).await {
            Ok(Outcome::Done(_)) => Ok(()),
            Ok(Outcome::Refused(errno, text)) => {
                Err(refused(op, iface, family, errno, text, delete.is_empty()))
            }
            Err(e) => Err(Error::io(op, iface, e)),
        }
    }

    /// The largest transaction (in bytes, as [`nft_len`] counts them) this
    /// connection's nf_tables socket takes in one send: a few MiB where
    /// the process may raise its send buffer (CAP_NET_ADMIN), the
    /// system's default (about 200 KiB) where not.
    pub(crate) async fn nft_room(&self, op: Op, iface: &str) -> Result<usize> {
        let socket = self.nft(op, iface).await?;
        let room = socket.lock().await.room;
        #[cfg(feature = "test-hooks")]
        let room = match self.inner.hooks.nft_room() {
            0 => room,
            forced => room.min(forced),
        };
        Ok(room)
    }

    /// Which of the chains `names` exist in `table` (one lookup each; none
    /// if the table does not exist).
    pub(crate) async fn nft_existing(
        &self,
        op: Op,
        iface: &str,
        (family, table): (Family, &str),
        names: &[String],
    ) -> Result<Vec<String>> {
        self.fault_step(op, iface)?;
        let socket = self.nft(op, iface).await?;
        let mut socket = socket.lock().await;
        let mut out = Vec::new();
        for name in names {
            #[cfg(feature = "test-hooks")]
            self.inner.hooks.count_request();
            let mut a = Attrs::default();
            a.string(attr::CHAIN_TABLE, table)
                .string(attr::CHAIN_NAME, name);
            let seq = socket.next_seq(1);
            // A lookup: its one message, then the acknowledgement asked
            // for, which ends it.
            let request = Batch::single(seq, MsgType::GetChain, family.wire(), wire::NLM_F_ACK, &a);
            match socket.query(&request).await {
                Ok(Outcome::Done(m)) if !m.is_empty() => out.push(name.clone()),
                Ok(Outcome::Done(_)) | Ok(Outcome::Refused(libc::ENOENT, _)) => {}
                Ok(Outcome::Refused(errno, text)) => {
                    return Err(refused(op, iface, family, errno, text, false));
                }
                Err(e) => return Err(Error::io(op, iface, e)),
            }
        }
        Ok(out)
    }

    /// Every chain and rule of `table` (nothing if there is no such table:
    /// the kernel dumps a missing table's chains as an empty one's). Two
    /// dumps, each filtered by the kernel to the table.
    pub(crate) async fn nft_table(
        &self,
        op: Op,
        iface: &str,
        (family, table): (Family, &str),
    ) -> Result<TableSeen> {
        #[cfg(feature = "test-hooks")]
        self.inner.hooks.count_request();
        self.fault_step(op, iface)?;
        let socket = self.nft(op, iface).await?;
        let mut socket = socket.lock().await;
        let mut seen = TableSeen::default();
        for kind in [MsgType::GetChain, MsgType::GetRule] {
            let mut a = Attrs::default();
            // NFTA_CHAIN_TABLE and NFTA_RULE_TABLE are both 1.
            a.string(attr::CHAIN_TABLE, table);
            let seq = socket.next_seq(1);
            let request = Batch::single(seq, kind, family.wire(), wire::NLM_F_DUMP, &a);
            let messages = match socket.query(&request).await {
                Ok(Outcome::Done(m)) => m,
                Ok(Outcome::Refused(libc::ENOENT, _)) => return Ok(TableSeen::default()),
                Ok(Outcome::Refused(errno, text)) => {
                    return Err(refused(op, iface, family, errno, text, false));
                }
                Err(e) => return Err(Error::io(op, iface, e)),
            };
            for m in &messages {
                match kind {
                    MsgType::GetChain => {
                        let chain = parse_chain(wire::body(m));
                        seen.chains.insert(chain.name.clone(), chain);
                    }
                    _ => {
                        let rule = parse_rule(wire::body(m));
                        seen.rules.entry(rule.chain.clone()).or_default().push(rule);
                    }
                }
            }
        }
        Ok(seen)
    }
}

/// How many messages [`replace_batch`] numbers (the batch's own begin and
/// end aside).
fn replace_messages(delete: &[String], create: &[NftChain]) -> u32 {
    let messages = 2 + 2 * delete.len() + create.iter().map(|c| 1 + c.rules.len()).sum::<usize>();
    messages as u32
}

/// The transaction of [`Netlink::nft_replace`], its messages numbered from
/// `first`; and the sequence number whose acknowledgement ends it.
fn replace_batch(
    first: u32,
    (family, table): (Family, &str),
    delete: &[String],
    create: &[NftChain],
    exclusive: bool,
) -> (Batch, u32) {
    let family = family.wire();
    let mut batch = Batch::transaction(first);
    let mut a = Attrs::default();
    a.string(attr::TABLE_NAME, table);
    batch.push(MsgType::NewTable, family, wire::NLM_F_CREATE, &a);
    // Every rule first (a DELRULE naming only the chain flushes it):
    // then no chain being deleted is still the target of a jump,
    // whatever order the chains come in.
    for name in delete {
        let mut a = Attrs::default();
        a.string(attr::RULE_TABLE, table)
            .string(attr::RULE_CHAIN, name);
        batch.push(MsgType::DelRule, family, 0, &a);
    }
    for name in delete {
        let mut a = Attrs::default();
        a.string(attr::CHAIN_TABLE, table)
            .string(attr::CHAIN_NAME, name);
        batch.push(MsgType::DelChain, family, 0, &a);
    }
    let (regular, base): (Vec<_>, Vec<_>) = create.iter().partition(|c| c.hook.is_none());
    for chain in regular.iter().chain(&base) {
        let flags = if exclusive {
            wire::NLM_F_CREATE | wire::NLM_F_EXCL
        } else {
            wire::NLM_F_CREATE
        };
        batch.push(MsgType::NewChain, family, flags, &chain_attrs(table, chain));
    }
    for chain in regular.iter().chain(&base) {
        for rule in &chain.rules {
            let mut a = Attrs::default();
            a.string(attr::RULE_TABLE, table)
                .string(attr::RULE_CHAIN, &chain.name);
            a.put(attr::RULE_EXPRESSIONS | wire::NLA_F_NESTED, &rule.exprs);
            a.put(attr::RULE_USERDATA, &comment(&rule.comment));
            batch.push(
                MsgType::NewRule,
                family,
                wire::NLM_F_CREATE | wire::NLM_F_APPEND,
                &a,
            );
        }
    }
    let waited = batch.end();
    (batch, waited)
}

/// The length of [`Netlink::nft_replace`]'s transaction, as sent: what
/// [`nft_len`] is checked against.
#[cfg(test)]
pub(crate) fn replace_len(table: &str, delete: &[String], create: &[NftChain]) -> usize {
    replace_batch(1, (Family::Netdev, table), delete, create, false)
        .0
        .buf
        .len()
}

/// At least the length of [`Netlink::nft_replace`]'s transaction for
/// `delete` and `create` in `table`: what a caller cutting work into
/// transactions that fit the socket counts with.
pub(crate) fn nft_len(table: &str, delete: &[String], create: &[NftChain]) -> usize {
    // A message's header and nfgenmsg, a string attribute, a byte one.
    const HEAD: usize = 16 + 4;
    let string = |s: &str| 4 + (s.len() + 1).next_multiple_of(4);
    let bytes = |n: usize| 4 + n.next_multiple_of(4);
    let table_len = string(table);
    let mut len = 3 * HEAD + table_len;
    for name in delete {
        len += 2 * (HEAD + table_len + string(name));
    }
    for chain in create {
        len += HEAD + table_len + string(&chain.name);
        if let Some(hook) = &chain.hook {
            // Hook (number, priority, device), policy, type.
            let device = hook.device.as_deref().map_or(0, string);
            len += 4 + 8 + 8 + device + 8 + string(hook.kind);
        }
        for rule in &chain.rules {
            len += HEAD
                + table_len
                + string(&chain.name)
                + bytes(rule.exprs.len())
                + bytes(rule.comment.len().min(250) + 3);
        }
    }
    len
}

/// NFTA_CHAIN_* of a chain to create.
fn chain_attrs(table: &str, chain: &NftChain) -> Attrs {
    let mut a = Attrs::default();
    a.string(attr::CHAIN_TABLE, table)
        .string(attr::CHAIN_NAME, &chain.name);
    if let Some(hook) = &chain.hook {
        a.nested(attr::CHAIN_HOOK, |h| {
            h.be32(attr::HOOK_HOOKNUM, hook.num)
                .put(attr::HOOK_PRIORITY, &hook.priority.to_be_bytes());
            if let Some(device) = &hook.device {
                h.string(attr::HOOK_DEV, device);
            }
        });
        a.be32(attr::CHAIN_POLICY, POLICY_ACCEPT);
        a.string(attr::CHAIN_TYPE, hook.kind);
    }
    a
}

/// A rule's user data: one comment TLV (`struct nftnl_udata`: type, length,
/// the NUL-terminated text), as `nft` writes and shows it.
fn comment(text: &str) -> Vec<u8> {
    let text = &text.as_bytes()[..text.len().min(250)];
    let mut out = vec![UDATA_COMMENT, (text.len() + 1) as u8];
    out.extend_from_slice(text);
    out.push(0);
    out
}

/// The comment in a rule's user data, if it has one.
fn read_comment(data: &[u8]) -> Option<String> {
    let mut rest = data;
    while rest.len() >= 2 {
        let (kind, len) = (rest[0], rest[1] as usize);
        let value = rest.get(2..2 + len)?;
        if kind == UDATA_COMMENT {
            return Some(wire::string(value));
        }
        rest = &rest[2 + len..];
    }
    None
}

fn parse_chain(body: &[u8]) -> ChainSeen {
    let mut chain = ChainSeen {
        name: String::new(),
        base: false,
        hooknum: 0,
        devices: Vec::new(),
        priority: 0,
        kind: String::new(),
    };
    for (kind, value) in wire::attrs(body) {
        match kind {
            attr::CHAIN_NAME => chain.name = wire::string(value),
            attr::CHAIN_TYPE => chain.kind = wire::string(value),
            attr::CHAIN_HOOK => {
                chain.base = true;
                for (k, v) in wire::attrs(value) {
                    match k {
                        attr::HOOK_HOOKNUM => {
                            chain.hooknum =
                                v.try_into().map(u32::from_be_bytes).unwrap_or_default();
                        }
                        attr::HOOK_DEV => chain.devices.push(wire::string(v)),
                        attr::HOOK_PRIORITY => {
                            chain.priority =
                                v.try_into().map(i32::from_be_bytes).unwrap_or_default();
                        }
                        attr::HOOK_DEVS => chain
                            .devices
                            .extend(wire::attrs(v).map(|(_, d)| wire::string(d))),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    chain
}

fn parse_rule(body: &[u8]) -> RuleSeen {
    let mut rule = RuleSeen {
        chain: String::new(),
        comment: None,
        exprs: Vec::new(),
    };
    for (kind, value) in wire::attrs(body) {
        match kind {
            attr::RULE_CHAIN => rule.chain = wire::string(value),
            attr::RULE_EXPRESSIONS => rule.exprs = value.to_vec(),
            attr::RULE_USERDATA => rule.comment = read_comment(value),
            _ => {}
        }
    }
    rule
}

/// An nf_tables refusal in words: a missing family or expression is
/// [`Error::Unsupported`] naming it; the rest as for route netlink.
/// `creates_only`: the transaction named nothing it did not create, so an
/// ENOENT can only be an expression type the kernel has no module for.
fn refused(
    op: Op,
    iface: &str,
    family: Family,
    errno: i32,
    text: Option<String>,
    creates_only: bool,
) -> Error {
    let unsupported = |detail: &str| Error::Unsupported {
        op,
        iface: IfName::from_kernel(iface),
        detail: match &text {
            Some(t) => format!("{detail}: {t}"),
            None => detail.to_string(),
        },
    };
    match errno {
        libc::EAFNOSUPPORT => unsupported(match family {
            Family::Netdev => {
                "nf_tables netdev family (a kernel built without CONFIG_NF_TABLES_NETDEV)"
            }
            Family::Inet => "nf_tables inet family (a kernel built without CONFIG_NF_TABLES_INET)",
        }),
        libc::ENOENT if creates_only => unsupported(match family {
            Family::Netdev => {
                "an nf_tables expression (meta, payload, bitwise, cmp, counter, immediate) is missing"
            }
            Family::Inet => {
                "an nf_tables expression or chain type (meta, payload, bitwise, cmp, ct, \
                 immediate, reject, masq; the nat chain type) is missing"
            }
        }),
        libc::EOPNOTSUPP => unsupported("nf_tables (EOPNOTSUPP)"),
        _ => Error::from_kernel(op, iface, errno, text),
    }
}
