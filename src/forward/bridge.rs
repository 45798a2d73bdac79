//! A bridge's forward mode in the connection's inet table, and the
//! forwarding sysctls it needs: compared with what the table holds,
//! replaced in one transaction (a journal step), removed with the
//! bridge.

use super::config::Forward;
use super::rules::{self, Subnets};
use crate::engine::forwarding;
use crate::engine::{Journal, LinkId, Step};
use crate::error::{Op, Result};
use crate::netlink::{Netlink, NftChain, TableSeen};
use crate::values::sysctl::NetSysctl;

/// Makes the chains of `bridge` in `table` (as read) exactly `want` (none:
/// the bridge's chains go), in one transaction recorded in `journal`.
/// Returns whether anything changed.
pub(crate) async fn converge_rules(
    nl: &Netlink,
    journal: &mut Journal,
    bridge: &LinkId,
    table: &TableSeen,
    want: Vec<NftChain>,
) -> Result<bool> {
    let names = rules::chain_names(&bridge.name);
    if table.holds_exactly(&names, &want) {
        return Ok(false);
    }
    let before = table.chains_named(&names);
    let delete: Vec<String> = before.iter().map(|c| c.name.clone()).collect();
    let op = if want.is_empty() {
        Op::RemoveForward
    } else {
        Op::InstallForward
    };
    let nft = nl.forward_nft();
    nl.note_guards();
    let step = Step::Nft {
        link: bridge.clone(),
        family: nft.0,
        table: nft.1.into(),
        made: want.iter().map(|c| c.name.clone()).collect(),
        before,
    };
    journal
        .step(
            step,
            nl.nft_replace(op, &bridge.name, nft, &delete, &want, false),
        )
        .await?;
    Ok(true)
}

/// Turns on the forwarding sysctls `mode` needs for the families of
/// `nets`, each a step of `journal`; returns those it switched. None for
/// a mode that does not forward: they are never turned off (other
/// bridges, or the host's own routing, may need them).
pub(crate) async fn converge_sysctls(
    nl: &Netlink,
    journal: &mut Journal,
    bridge: &str,
    mode: &Forward,
    nets: &Subnets,
) -> Result<Vec<NetSysctl>> {
    let mut switched = Vec::new();
    if !mode.forwards() {
        return Ok(switched);
    }
    for (knob, needed) in [
        (NetSysctl::Ipv4Forward, !nets.v4.is_empty()),
        (NetSysctl::Ipv6Forward, !nets.v6.is_empty()),
    ] {
        if !needed || forwarding::read(nl, bridge, knob).await? {
            continue;
        }
        journal
            .step(
                Step::NetSysctl(knob, true),
                forwarding::write(nl, bridge, knob, true),
            )
            .await?;
        switched.push(knob);
    }
    Ok(switched)
}

/// Removes the forward chains of `bridge` (a bridge being deleted), if it
/// has any.
pub(crate) async fn remove(nl: &Netlink, bridge: &str) -> Result<()> {
    let op = Op::RemoveForward;
    let nft = nl.forward_nft();
    let existing = nl
        .nft_existing(op, bridge, nft, &rules::chain_names(bridge))
        .await?;
    if existing.is_empty() {
        return Ok(());
    }
    nl.nft_replace(op, bridge, nft, &existing, &[], false).await
}
