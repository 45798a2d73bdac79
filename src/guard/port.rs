//! A port's guard in the connection's table: read, installed (as a
//! journal step), removed.

use macaddr::MacAddr6;

use super::config::GuestGuard;
use super::rules;
use crate::engine::{Journal, LinkId, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{Netlink, NftChain, TableSeen, nft_len};

/// The chains of `port` (of `bridge`) in `table` as the kernel has them,
/// base chain first, with their rules as dumped.
pub(crate) fn seen_chains(table: &TableSeen, bridge: &str, port: &str) -> Vec<NftChain> {
    table.chains_named(&rules::chain_names(bridge, port))
}

/// Whether `table` holds exactly the chains wanted for `port` of
/// `bridge` (see [`TableSeen::holds_exactly`]).
pub(crate) fn same(table: &TableSeen, bridge: &str, port: &str, want: &[NftChain]) -> bool {
    table.holds_exactly(&rules::chain_names(bridge, port), want)
}

/// The chains `guard` makes on `port` of `bridge`.
pub(crate) fn wanted(
    guard: &GuestGuard,
    port_mac: Option<MacAddr6>,
    bridge: &str,
    port: &str,
) -> Result<Vec<NftChain>> {
    let mac = guard.resolve(port_mac)?;
    Ok(rules::chains(guard, mac, bridge, port))
}

/// Installs `want` on `port` in one transaction, recorded in `journal`.
/// `seen`: the port's chains as the caller read them; `None` (a port
/// just attached, which has none as a rule) tries an exclusive create
/// first and reads the port's chains only if some were in the way.
pub(crate) async fn install(
    nl: &Netlink,
    journal: &mut Journal,
    port: &LinkId,
    bridge: &str,
    want: Vec<NftChain>,
    seen: Option<Vec<NftChain>>,
) -> Result<()> {
    let op = Op::InstallGuard;
    let table = nl.guard_nft();
    let made: Vec<String> = names(&want);
    nl.note_guards();
    let before = match seen {
        Some(before) => before,
        None => {
            let step = Step::Nft {
                link: port.clone(),
                family: table.0,
                table: table.1.into(),
                made: made.clone(),
                before: Vec::new(),
            };
            match journal
                .step(
                    step,
                    nl.nft_replace(op, &port.name, table, &[], &want, true),
                )
                .await
            {
                Ok(()) => return Ok(()),
                Err(Error::AlreadyExists { .. }) => {
                    journal.forget_last();
                    let read = nl.nft_table(Op::ReadGuard, &port.name, table).await?;
                    seen_chains(&read, bridge, &port.name)
                }
                Err(e) => return Err(e),
            }
        }
    };
    let delete = names(&before);
    let step = Step::Nft {
        link: port.clone(),
        family: table.0,
        table: table.1.into(),
        made,
        before,
    };
    journal
        .step(
            step,
            nl.nft_replace(op, &port.name, table, &delete, &want, false),
        )
        .await
}

/// A port's guard to install: the chains wanted, and the chains the port
/// has now (as read from the table; none for a port without a guard).
pub(crate) struct Planned {
    pub(crate) want: Vec<NftChain>,
    pub(crate) before: Vec<NftChain>,
}

/// Installs the guards of many ports of `bridge`, in as few transactions
/// as the socket takes (one for a thousand guests where the process may
/// raise its send buffer; a port's chains never span two), each recorded
/// in `journal` as one step.
///
/// Why not one transaction per port: before it commits a transaction
/// that adds a verdict, nf_tables validates every base chain of the
/// table (of every table, before 6.4) with the chains they jump to, so
/// each transaction costs in proportion to the guards already there, and
/// a port at a time costs in proportion to the square of their number.
pub(crate) async fn install_many(
    nl: &Netlink,
    journal: &mut Journal,
    bridge: &LinkId,
    plans: Vec<Planned>,
) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    let op = Op::InstallGuard;
    let table = nl.guard_nft();
    let room = nl.nft_room(op, &bridge.name).await?;
    nl.note_guards();
    // The length of an empty transaction; the rest adds up port by port.
    let empty = nft_len(table.1, &[], &[]);
    let mut plans = plans.into_iter().peekable();
    while plans.peek().is_some() {
        let (mut delete, mut create, mut before) = (Vec::new(), Vec::new(), Vec::new());
        let mut len = empty;
        // At least one port, then as many as fit.
        while let Some(next) = plans.peek() {
            let more = nft_len(table.1, &names(&next.before), &next.want) - empty;
            if len + more > room && !create.is_empty() {
                break;
            }
            let Some(plan) = plans.next() else { break };
            len += more;
            delete.extend(names(&plan.before));
            create.extend(plan.want);
            before.extend(plan.before);
        }
        let step = Step::Nft {
            link: bridge.clone(),
            family: table.0,
            table: table.1.into(),
            made: names(&create),
            before,
        };
        journal
            .step(
                step,
                nl.nft_replace(op, &bridge.name, table, &delete, &create, false),
            )
            .await?;
    }
    Ok(())
}

/// Removes the guard chains `seen` of `port` (as read from the table), in
/// one transaction recorded in `journal` (its undo makes them again).
pub(crate) async fn uninstall(
    nl: &Netlink,
    journal: &mut Journal,
    port: &str,
    seen: Vec<NftChain>,
) -> Result<()> {
    let table = nl.guard_nft();
    let delete = names(&seen);
    let step = Step::Nft {
        link: LinkId::new(port, 0),
        family: table.0,
        table: table.1.into(),
        made: Vec::new(),
        before: seen,
    };
    journal
        .step(
            step,
            nl.nft_replace(Op::RemoveGuard, port, table, &delete, &[], false),
        )
        .await
}

/// Removes every chain of `port`'s guard, if it has one. Returns whether
/// it had.
pub(crate) async fn remove(nl: &Netlink, bridge: &str, port: &str) -> Result<bool> {
    let op = Op::RemoveGuard;
    let table = nl.guard_nft();
    let names = rules::chain_names(bridge, port);
    let existing = nl.nft_existing(op, port, table, &names).await?;
    if existing.is_empty() {
        return Ok(false);
    }
    nl.nft_replace(op, port, table, &existing, &[], false)
        .await?;
    Ok(true)
}

/// Removes the guards of every port of `bridge` (a bridge being deleted),
/// in one transaction.
pub(crate) async fn remove_all(nl: &Netlink, bridge: &str) -> Result<()> {
    let table = nl.guard_nft();
    let seen = nl.nft_table(Op::RemoveGuard, bridge, table).await?;
    let ports = guarded_ports(&seen, bridge);
    if ports.is_empty() {
        return Ok(());
    }
    // In transactions that fit the socket (a thousand ports' chains may
    // not fit one), a port's chains in one: a chain still jumped to from
    // a chain left for the next transaction cannot go.
    let room = nl.nft_room(Op::RemoveGuard, bridge).await?;
    let empty = nft_len(table.1, &[], &[]);
    let mut ports = ports.into_iter().peekable();
    while ports.peek().is_some() {
        let (mut delete, mut len) = (Vec::new(), empty);
        while let Some(port) = ports.peek() {
            let chains: Vec<String> = rules::chain_names(bridge, port)
                .into_iter()
                .filter(|c| seen.chains.contains_key(c))
                .collect();
            let more = nft_len(table.1, &chains, &[]) - empty;
            if len + more > room && !delete.is_empty() {
                break;
            }
            ports.next();
            len += more;
            delete.extend(chains);
        }
        nl.nft_replace(Op::RemoveGuard, bridge, table, &delete, &[], false)
            .await?;
    }
    Ok(())
}

/// The chains' names.
fn names(chains: &[NftChain]) -> Vec<String> {
    chains.iter().map(|c| c.name.clone()).collect()
}

/// The ports of `bridge` with guard chains in `table`, by the names of
/// their chains (`BRIDGE/PORT...`).
pub(crate) fn guarded_ports(table: &TableSeen, bridge: &str) -> Vec<String> {
    let prefix = format!("{bridge}/");
    let mut ports: Vec<String> = table
        .chains
        .keys()
        .filter_map(|name| name.strip_prefix(&prefix))
        .map(|rest| rest.split('/').next().unwrap_or_default().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    ports.sort();
    ports.dedup();
    ports
}
