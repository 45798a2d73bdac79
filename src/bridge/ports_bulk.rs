//! Many ports in one call: `attach_ports` / `detach_ports`, with one
//! rollback promise for the whole call.
//!
//! The requests go one at a time: the kernel applies link changes under its
//! global configuration lock, so keeping many in flight on one socket was
//! measured to give no speedup (see `benches/ports.rs`). What a bulk call
//! adds is the promise: all of its ports, or none.

use crate::error::InputKind;
use std::collections::HashSet;

use crate::bridge::Bridge;
use crate::bridge::port::{PortConfig, PortRef, ToPort};
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, LinkId, Step};
use crate::error::{Error, Op, Result};
use crate::guard;
use crate::netlink::{LinkChange, LinkRef, LinkSnapshot};

/// Refuses a list that names one port twice (by the same name or index).
fn check_unique(ports: &[PortRef]) -> Result<()> {
    let mut seen = HashSet::new();
    for p in ports {
        if !seen.insert(p) {
            return Err(Error::invalid(
                InputKind::Port,
                format!("port {p}"),
                "is listed twice in one call",
            ));
        }
    }
    Ok(())
}

impl Bridge {
    /// Attaches several ports, each with its own [`PortConfig`], as
    /// [`attach_port`](Bridge::attach_port) does (`ip link set PORT master
    /// BRIDGE` and `bridge link set dev PORT ...` for each), with one
    /// promise for the call: if any port fails, every port this call attached is detached
    /// again (ports that were already on this bridge get their options and
    /// VLANs back), and the first error is returned. All input is checked
    /// before anything is sent.
    ///
    /// # Cancellation
    /// Dropping this future does not stop the call halfway: the rest runs
    /// on a task of its own. It ends with all of its ports attached, or with
    /// each as it was.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name or option, or a port listed
    /// twice (nothing sent); otherwise the first error of
    /// [`attach_port`](Bridge::attach_port).
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::PortConfig;
    /// br.attach_ports([
    ///     ("vnet0", PortConfig::managed("52:54:00:00:00:01").up()),
    ///     ("vnet1", PortConfig::managed("52:54:00:00:00:02").up()),
    /// ]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AttachPort.name(), iface = %self.name), err(Display))]
    pub async fn attach_ports<P: ToPort>(
        &self,
        ports: impl IntoIterator<Item = (P, PortConfig)>,
    ) -> Result<()> {
        let mut list = Vec::new();
        for (port, config) in ports {
            let port = port.to_port()?;
            config.validate()?;
            list.push((port, config));
        }
        let refs: Vec<PortRef> = list.iter().map(|(p, _)| p.clone()).collect();
        check_unique(&refs)?;
        let this = self.clone();
        run_to_end(&self.nl, async move { this.attach_all(list).await }).await
    }

    async fn attach_all(&self, list: Vec<(PortRef, PortConfig)>) -> Result<()> {
        // One turn for the whole call: no other port change of this
        // connection interleaves with it.
        let _membership = self.nl.membership().await;
        let mut seen: Vec<u32> = Vec::with_capacity(list.len());
        let mut journal = Journal::new();
        let list = match self.guards_first(list, &mut journal).await {
            Ok(list) => list,
            Err(e) => {
                let failed = journal.rollback(&self.nl).await;
                return Err(e.with_undo_failures(failed));
            }
        };
        for (port, config) in &list {
            match self.attach_one_locked(port, config).await {
                Ok(attached) => {
                    let twice = seen.contains(&attached.port.index);
                    seen.push(attached.port.index);
                    let name = attached.port.name.to_string();
                    journal.append(attached.journal);
                    if twice {
                        let failed = journal.rollback(&self.nl).await;
                        return Err(named_twice(&name).with_undo_failures(failed));
                    }
                }
                Err(e) => {
                    let failed = journal.rollback(&self.nl).await;
                    return Err(e.with_undo_failures(failed));
                }
            }
        }
        Ok(())
    }

    /// Installs the guest guards of the ports in `list` (two or more) in
    /// as few transactions as fit, recorded in `journal`, and returns the
    /// list with those ports' configs without their guards, for the
    /// attaches that follow. One port at a time, each guard's transaction
    /// would cost in proportion to the guards already in the table (see
    /// `guard::port::install_many`). A port refused by the attach's checks
    /// is refused here, before any guard is made.
    async fn guards_first(
        &self,
        list: Vec<(PortRef, PortConfig)>,
        journal: &mut Journal,
    ) -> Result<Vec<(PortRef, PortConfig)>> {
        let guarded = list.iter().filter(|(_, c)| c.guest_guard.is_some()).count();
        if guarded < 2 {
            return Ok(list);
        }
        let bridge = self.name.as_str();
        let table = self
            .nl
            .nft_table(Op::ReadGuard, bridge, self.nl.guard_nft())
            .await?;
        let mut plans = Vec::new();
        let mut out = Vec::with_capacity(list.len());
        for (port, mut config) in list {
            if let Some(guard) = config.guest_guard.take() {
                let link = self.attach_check(&port, &config).await?;
                let want = guard::port::wanted(&guard, config.managed, bridge, &link.name)?;
                if !guard::port::same(&table, bridge, &link.name, &want) {
                    plans.push(guard::port::Planned {
                        before: guard::port::seen_chains(&table, bridge, &link.name),
                        want,
                    });
                }
            }
            out.push((port, config));
        }
        guard::port::install_many(&self.nl, journal, &self.id(), plans).await?;
        Ok(out)
    }

    /// Detaches several ports (`ip link set PORT nomaster` for each) with
    /// one promise: every port is first checked
    /// to be a port of this bridge (nothing changes if one is not); if the
    /// kernel then refuses one, the ports this call already detached are
    /// attached again with their previous port options. Their VLANs and
    /// FDB entries, which the kernel drops on detach, are not restored.
    ///
    /// # Cancellation
    /// Dropping this future does not stop it halfway: the rest runs on a
    /// task of its own.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name or a port listed twice;
    /// [`Error::NotFound`]; [`Error::NotAPort`]; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.detach_ports(["vnet0", "vnet1"]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DetachPort.name(), iface = %self.name), err(Display))]
    pub async fn detach_ports<P: ToPort>(&self, ports: impl IntoIterator<Item = P>) -> Result<()> {
        let refs = ports
            .into_iter()
            .map(ToPort::to_port)
            .collect::<Result<Vec<_>>>()?;
        check_unique(&refs)?;
        let this = self.clone();
        run_to_end(&self.nl, async move { this.detach_all(refs).await }).await
    }

    async fn detach_all(&self, refs: Vec<PortRef>) -> Result<()> {
        let op = Op::DetachPort;
        let _membership = self.nl.membership().await;
        let mut links = Vec::with_capacity(refs.len());
        for port in &refs {
            let link = self.own_port_in_view(op, port).await?.to_snapshot();
            if links.iter().any(|l: &LinkSnapshot| l.index == link.index) {
                return Err(named_twice(&link.name));
            }
            links.push(link);
        }
        // The undo attaches a port again with its old options, which the
        // view does not keep. One dump of this bridge's ports has them all,
        // but the kernel walks every link of the namespace to filter it
        // (about 0.2 us a link, where a lookup costs about 28 us): a few
        // ports in a big namespace are read one by one.
        let mut options: std::collections::HashMap<u32, Option<crate::netlink::PortOptions>> =
            if links.len() * 128 >= self.nl.view_len() {
                self.nl
                    .links_with_master(Op::ListPorts, self.name.as_str(), self.index)
                    .await?
                    .into_iter()
                    .map(|l| (l.index, l.port))
                    .collect()
            } else {
                let mut read = std::collections::HashMap::new();
                for l in &links {
                    let full = self.nl.link(op, &l.name, LinkRef::Index(l.index)).await?;
                    read.insert(l.index, full.port);
                }
                read
            };
        self.nl.port_checked();
        let nomaster = LinkChange {
            master: Some(0),
            ..LinkChange::default()
        };
        let mut journal = Journal::new();
        for link in &links {
            if let Err(e) = self
                .nl
                .set_link(op, &link.name, link.index, &nomaster)
                .await
            {
                return Err(e.with_undo_failures(journal.rollback(&self.nl).await));
            }
            journal.made(Step::PortDetached {
                port: LinkId::new(link.name.as_str(), link.index),
                bridge: self.index,
                options: options.remove(&link.index).flatten(),
            });
        }
        // The ports are out: their guards and limits go with them.
        for link in &links {
            self.drop_guard(&link.name).await?;
            if link.qdisc.as_deref() == Some("tbf") {
                self.nl.note_limits();
            }
            self.drop_limits(&link.name, link.index, link.mtu).await?;
        }
        Ok(())
    }
}

/// The error for one port named twice (by name and by ifindex, say).
fn named_twice(port: &str) -> Error {
    Error::invalid(
        InputKind::Port,
        format!("port {port}"),
        "is listed twice in one call (by name and by ifindex)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused() {
        let p = |s: &str| s.to_port().unwrap();
        assert!(check_unique(&[p("a"), p("b")]).is_ok());
        assert!(check_unique(&[p("a"), p("a")]).is_err());
        assert!(check_unique(&[3u32.to_port().unwrap(), 3u32.to_port().unwrap()]).is_err());
    }
}
