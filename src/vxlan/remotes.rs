//! A VXLAN device's remotes in the kernel: added, listed and removed
//! one request each, checked before and read back after.

use crate::error::InputKind;
use std::collections::HashSet;

use super::device::Vxlan;
use super::remote::{Meets, Remote, RemoteKind, meets};
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, LinkId, Step};
use crate::error::{Error, Op, Result};
use crate::values::name::IfName;

impl Remote {
    /// Everything that needs no kernel, against the device `vx`.
    fn validate(&self, vx: &Vxlan) -> Result<()> {
        self.validate_for(&vx.name, vx.local, vx.is_external())
    }
}

impl Vxlan {
    /// Adds one remote (`bridge fdb append` for the flood list, `bridge fdb
    /// add` for a MAC): one request, then read back.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad entry (a MAC that is not unicast,
    /// an unspecified or loopback destination, a family other than the
    /// local address's, port 0) or one that is already there — a
    /// duplicate, or another destination for the same MAC — with nothing
    /// changed; [`Error::NotApplied`] if the read-back does not find it.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// vx.add_remote(bridgekit::Remote::flood("192.0.2.2".parse()?)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddRemote.name(), iface = %self.name), err(Display))]
    pub async fn add_remote(&self, remote: Remote) -> Result<()> {
        self.add_remotes([remote]).await
    }

    /// Adds several remotes, all or nothing: each is checked first
    /// (against each other and against what the device has), then added
    /// one request each; if one fails, those added are removed again and
    /// the first error returned (with any removal that failed). Runs to
    /// its end even if its future is dropped.
    ///
    /// # Errors
    /// As [`add_remote`](Self::add_remote); [`Error::UndoFailed`].
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// use bridgekit::Remote;
    /// vx.add_remotes([Remote::flood("192.0.2.2".parse()?), Remote::flood("192.0.2.3".parse()?)]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddRemote.name(), iface = %self.name), err(Display))]
    pub async fn add_remotes(&self, remotes: impl IntoIterator<Item = Remote>) -> Result<()> {
        let remotes: Vec<Remote> = remotes.into_iter().collect();
        let mut seen = HashSet::with_capacity(remotes.len());
        for r in &remotes {
            r.validate(self)?;
            if !seen.insert(r.slot()) {
                return Err(Error::invalid(
                    InputKind::Remote,
                    format!("remote {r} on {}", self.name),
                    "is listed twice (or its MAC twice) in one call",
                ));
            }
        }
        if remotes.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        run_to_end(&self.nl, async move { this.add_all(remotes).await }).await
    }

    pub(crate) async fn add_all(&self, remotes: Vec<Remote>) -> Result<()> {
        let op = Op::AddRemote;
        let have = self.remotes_as(op).await?;
        let mut pin = Vec::with_capacity(remotes.len());
        for r in &remotes {
            match meets(r, &have) {
                Meets::Nothing => pin.push(false),
                Meets::Learned => pin.push(true),
                Meets::Present(old) => {
                    let reason = match old.kind {
                        RemoteKind::Static => "is already there".to_string(),
                        kind => format!("is already there, as an {kind} entry"),
                    };
                    return Err(Error::invalid(
                        InputKind::Remote,
                        format!("remote {r} on {}", self.name),
                        reason,
                    ));
                }
                Meets::Conflict(old) => {
                    return Err(Error::invalid(
                        InputKind::Remote,
                        format!("remote {r} on {}", self.name),
                        format!(
                            "conflicts with {old} ({}), already there (a MAC has one VTEP)",
                            old.kind
                        ),
                    ));
                }
            }
        }
        // Each added remote in the journal once the kernel took it: a
        // refused add made no entry to remove.
        let mut journal = Journal::new();
        let id = LinkId::new(self.name.as_str(), self.index);
        let mut result = Ok(());
        for (r, replace) in remotes.iter().zip(pin) {
            let entry = r.to_kernel();
            match self
                .nl
                .remote_add(op, self.name.as_str(), self.index, &entry, replace)
                .await
            {
                Ok(()) => journal.made(Step::RemoteAdded {
                    vxlan: id.clone(),
                    remote: entry,
                }),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self.check_present(op, &remotes).await;
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) => Err(e.with_undo_failures(journal.rollback(&self.nl).await)),
        }
    }

    /// Removes one remote (for the flood list, that destination only),
    /// whoever made it: asked by name, it goes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad entry; [`Error::NoSuchEntry`] if
    /// the device has no such remote (nothing sent);
    /// [`Error::NotApplied`] if it is still there after.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), Box<dyn std::error::Error>> {
    /// vx.remove_remote(bridgekit::Remote::flood("192.0.2.2".parse()?)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::RemoveRemote.name(), iface = %self.name), err(Display))]
    pub async fn remove_remote(&self, remote: Remote) -> Result<()> {
        remote.validate(self)?;
        let op = Op::RemoveRemote;
        let have = self.remotes_as(op).await?;
        if !have.iter().any(|r| r.same(&remote)) {
            return Err(Error::NoSuchEntry {
                op,
                iface: IfName::from_kernel(&self.name),
                entry: format!("remote {remote}"),
                errno: None,
            });
        }
        self.nl
            .remote_del(op, self.name.as_str(), self.index, &remote.to_kernel())
            .await?;
        self.check_remotes(op, &[], &[remote]).await
    }

    /// The device's remotes: the flood list and the per-MAC entries, each
    /// with who made it ([`Remote::kind`]): bridgekit, another tool, the
    /// device's learning from received frames, or a control plane.
    ///
    /// # Errors
    /// Kernel errors.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// for r in vx.remotes().await? {
    ///     println!("{r}");
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListRemotes.name(), iface = %self.name), err(Display))]
    pub async fn remotes(&self) -> Result<Vec<Remote>> {
        self.remotes_as(Op::ListRemotes).await
    }

    /// Reads the remotes back: each of `remotes` must be there.
    pub(crate) async fn check_present(&self, op: Op, remotes: &[Remote]) -> Result<()> {
        self.check_remotes(op, remotes, &[]).await
    }

    /// Reads the remotes back once: each of `present` must be there as a
    /// static entry, none of `absent` there as a static or extern_learn
    /// one (a learned one may come back with the next frame, and is no
    /// remote of anyone's).
    pub(crate) async fn check_remotes(
        &self,
        op: Op,
        present: &[Remote],
        absent: &[Remote],
    ) -> Result<()> {
        let read = self.remotes_as(op).await?;
        let now: HashSet<_> = read
            .iter()
            .filter(|r| r.kind != RemoteKind::Learned)
            .map(|r| (r.key(), r.kind == RemoteKind::Static))
            .collect();
        let wrong = present
            .iter()
            .find(|r| !now.contains(&(r.key(), true)))
            .map(|r| (r, "present", "absent"))
            .or_else(|| {
                absent
                    .iter()
                    .find(|r| now.contains(&(r.key(), true)) || now.contains(&(r.key(), false)))
                    .map(|r| (r, "absent", "present"))
            });
        match wrong {
            None => Ok(()),
            Some((r, expected, actual)) => Err(Error::NotApplied {
                op,
                iface: IfName::from_kernel(&self.name),
                what: format!("remote {r}"),
                expected: expected.into(),
                actual: actual.into(),
            }),
        }
    }

    pub(crate) async fn remotes_as(&self, op: Op) -> Result<Vec<Remote>> {
        Ok(self
            .nl
            .remote_dump(op, self.name.as_str(), self.index)
            .await?
            .into_iter()
            .map(Remote::from_kernel)
            .collect())
    }
}
