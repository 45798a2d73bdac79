//! VLAN filtering on a bridge: the bridge-wide switches and the VLAN
//! membership of ports and of the bridge itself.

use crate::bridge::Bridge;
use crate::bridge::port::{PortRef, ToPort};
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, Step, VlanTarget};
use crate::error::InputKind;
use crate::error::{Error, Op, Result};
use crate::netlink::{BridgeOptions, LinkSnapshot};
use crate::values::name::IfName;
use crate::values::vlan::{self, VlanId, VlanMember, VlanProtocol, VlanRange};

/// What the kernel lacks when it answers EOPNOTSUPP to a VLAN request.
const NO_VLAN_FILTERING: &str =
    "bridge VLAN filtering is not built into this kernel (CONFIG_BRIDGE_VLAN_FILTERING)";

pub(crate) fn explain_unsupported(e: Error) -> Error {
    match e {
        Error::Unsupported { op, iface, .. } => Error::Unsupported {
            op,
            iface,
            detail: NO_VLAN_FILTERING.into(),
        },
        other => other,
    }
}

impl Bridge {
    /// Sends bridge VLAN options and reads the bridge back; a kernel that
    /// does not report the option after accepting it cannot do it.
    async fn set_vlan_option(&self, options: BridgeOptions) -> Result<LinkSnapshot> {
        self.set_options(Op::SetVlanOptions, options)
            .await
            .map_err(explain_unsupported)
    }

    fn unsupported(&self) -> Error {
        Error::Unsupported {
            op: Op::SetVlanOptions,
            iface: IfName::from_kernel(&self.name),
            detail: NO_VLAN_FILTERING.into(),
        }
    }

    /// Turns 802.1Q VLAN filtering on or off (`ip link set BRIDGE type
    /// bridge vlan_filtering 1|0`). With it on, a port only passes frames
    /// of the VLANs it is a member of ([`add_vlans`](Bridge::add_vlans)).
    ///
    /// # Errors
    /// [`Error::Unsupported`] on a kernel built without
    /// `CONFIG_BRIDGE_VLAN_FILTERING` (nothing changes);
    /// [`Error::NotApplied`] if the kernel kept the old value.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_vlan_filtering(true).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetVlanOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_vlan_filtering(&self, on: bool) -> Result<()> {
        let link = self
            .set_vlan_option(BridgeOptions {
                vlan_filtering: Some(on),
                ..BridgeOptions::default()
            })
            .await?;
        match link.vlan_filtering {
            None => Err(self.unsupported()),
            got => self.check(Op::SetVlanOptions, "vlan_filtering", on, got),
        }
    }

    /// Sets the default PVID new ports get (`vlan_default_pvid`); `None`
    /// means new ports join no VLAN untagged (`vlan_default_pvid 0`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without VLAN filtering support;
    /// [`Error::NotApplied`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_default_pvid(Some(bridgekit::VlanId::new(1)?)).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetVlanOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_default_pvid(&self, pvid: Option<VlanId>) -> Result<()> {
        let want = pvid.map_or(0, VlanId::get);
        let link = self
            .set_vlan_option(BridgeOptions {
                default_pvid: Some(want),
                ..BridgeOptions::default()
            })
            .await?;
        match link.default_pvid {
            None => Err(self.unsupported()),
            got => self.check(Op::SetVlanOptions, "vlan_default_pvid", want, got),
        }
    }

    /// Sets the tag protocol (`vlan_protocol 802.1Q|802.1ad`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without VLAN filtering support;
    /// [`Error::NotApplied`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.set_vlan_protocol(bridgekit::VlanProtocol::Dot1Ad).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetVlanOptions.name(), iface = %self.name), err(Display))]
    pub async fn set_vlan_protocol(&self, protocol: VlanProtocol) -> Result<()> {
        if let VlanProtocol::Other(t) = protocol {
            return Err(Error::invalid(
                InputKind::BridgeOption,
                format!("VLAN protocol {t:#06x}"),
                "a bridge tags with 802.1Q (0x8100) or 802.1ad (0x88a8) only",
            ));
        }
        let link = self
            .set_vlan_option(BridgeOptions {
                vlan_protocol: Some(protocol),
                ..BridgeOptions::default()
            })
            .await?;
        match link.vlan_protocol {
            None => Err(self.unsupported()),
            got => self.check(Op::SetVlanOptions, "vlan_protocol", protocol, got),
        }
    }

    /// A port of this bridge, or the bridge itself.
    pub(crate) async fn vlan_target(&self, op: Op, port: &PortRef) -> Result<VlanTarget> {
        let link = self.port_link(op, port).await?;
        if link.index == self.index {
            return Ok(VlanTarget {
                name: link.name,
                index: link.index,
                bridge_self: true,
            });
        }
        if link.master != Some(self.index) {
            return Err(Error::NotAPort {
                op,
                port: IfName::from_kernel(link.name),
                bridge: IfName::from_kernel(&self.name),
            });
        }
        Ok(VlanTarget {
            name: link.name,
            index: link.index,
            bridge_self: false,
        })
    }

    /// The VLANs of one link (empty on a kernel without VLAN filtering).
    pub(crate) async fn vlans_of(&self, op: Op, target: &VlanTarget) -> Result<Vec<VlanMember>> {
        let dump = self.nl.vlan_dump(op, &target.name).await?;
        Ok(dump
            .into_iter()
            .find(|s| s.index == target.index)
            .map(|s| s.vlans)
            .unwrap_or_default())
    }

    /// Sends `members` to `target` in one message and checks the result,
    /// recording the change in `journal` (what was there before), so that
    /// the caller's rollback restores it: after a refused message too,
    /// since the kernel may have applied part of it before it refused the
    /// rest.
    pub(crate) async fn apply_vlans(
        &self,
        target: &VlanTarget,
        members: &[VlanMember],
        journal: &mut Journal,
    ) -> Result<()> {
        let op = Op::AddVlans;
        let before = self.vlans_of(op, target).await?;
        journal.push(Step::Vlans {
            target: target.clone(),
            before,
            set: members.to_vec(),
        });
        self.send_vlans(op, target, members, true, journal).await?;
        let after = self.vlans_of(op, target).await?;
        if let Some((id, want, got)) = first_missing(members, &after) {
            return Err(Error::NotApplied {
                op,
                iface: IfName::from_kernel(&target.name),
                what: format!("VLAN {id}"),
                expected: want,
                actual: got,
            });
        }
        Ok(())
    }

    /// One VLAN message (add or delete), the journal's last step confirmed
    /// once the kernel accepted it; forgotten if the kernel cannot do VLANs
    /// at all (nothing was changed, and a restore would be refused alike).
    async fn send_vlans(
        &self,
        op: Op,
        target: &VlanTarget,
        members: &[VlanMember],
        add: bool,
        journal: &mut Journal,
    ) -> Result<()> {
        let sent = self
            .nl
            .set_vlans(
                op,
                &target.name,
                target.index,
                target.bridge_self,
                members,
                add,
            )
            .await
            .map_err(explain_unsupported);
        match sent {
            Ok(()) => {
                journal.confirm();
                Ok(())
            }
            Err(e @ Error::Unsupported { .. }) => {
                journal.forget_last();
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Adds VLAN memberships to a port, or to the bridge itself when `port`
    /// names the bridge (`bridge vlan add dev PORT vid RANGE [pvid]
    /// [untagged] [self]`).
    ///
    /// All of `members` travel in one netlink message, a range as one
    /// begin/end pair: `VlanRange::all()` is one message, not 4094. A VLAN
    /// already present takes the new flags. The result is read back; if the
    /// kernel fails midway, the VLANs this call touched are restored.
    /// Dropping this future does not stop it halfway: the rest runs on a
    /// task of its own.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty list, a PVID range, two PVIDs or
    /// a VLAN listed twice (nothing sent); [`Error::NotAPort`];
    /// [`Error::Unsupported`] on a kernel without VLAN filtering;
    /// [`Error::NotApplied`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{VlanId, VlanMember, VlanRange};
    /// br.add_vlans("vnet0", &[VlanMember::access(VlanId::new(10)?)]).await?;
    /// br.add_vlans("uplink0", &[VlanMember::tagged(VlanRange::all())]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddVlans.name(), iface = %self.name), err(Display))]
    pub async fn add_vlans(&self, port: impl ToPort, members: &[VlanMember]) -> Result<()> {
        let port = port.to_port()?;
        vlan::validate(members)?;
        let (this, members) = (self.clone(), members.to_vec());
        run_to_end(&self.nl, async move {
            let target = this.vlan_target(Op::AddVlans, &port).await?;
            let mut journal = Journal::new();
            match this.apply_vlans(&target, &members, &mut journal).await {
                Ok(()) => Ok(()),
                Err(e) => Err(e.with_undo_failures(journal.rollback(&this.nl).await)),
            }
        })
        .await
    }

    /// Removes VLAN memberships (`bridge vlan del dev PORT vid RANGE
    /// [self]`). VLANs the port is not a member of are skipped, so the
    /// result is "none of `ranges`", whatever was there; one message.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty list or a VLAN listed twice;
    /// [`Error::NotAPort`]; [`Error::Unsupported`]; [`Error::NotApplied`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_vlans("vnet0", &["10".parse()?]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::RemoveVlans.name(), iface = %self.name), err(Display))]
    pub async fn remove_vlans(&self, port: impl ToPort, ranges: &[VlanRange]) -> Result<()> {
        let port = port.to_port()?;
        vlan::validate_ranges(ranges)?;
        let (this, ranges) = (self.clone(), ranges.to_vec());
        run_to_end(&self.nl, async move {
            this.remove_vlans_steps(port, &ranges).await
        })
        .await
    }

    async fn remove_vlans_steps(&self, port: PortRef, ranges: &[VlanRange]) -> Result<()> {
        let op = Op::RemoveVlans;
        let target = self.vlan_target(op, &port).await?;
        let before = self.vlans_of(op, &target).await?;
        let present = vlan::compress(
            vlan::expand(&before)
                .into_iter()
                .filter(|(id, _, _)| ranges.iter().any(|r| r.contains(*id))),
        );
        if present.is_empty() {
            // Nothing to remove: the kernel would answer ENOENT, and on a
            // kernel without VLAN filtering there is never anything here.
            return Ok(());
        }
        let mut journal = Journal::new();
        journal.push(Step::Vlans {
            target: target.clone(),
            before,
            set: present.clone(),
        });
        let removed = async {
            self.send_vlans(op, &target, &present, false, &mut journal)
                .await?;
            let after = self.vlans_of(op, &target).await?;
            if let Some((id, _, _)) = vlan::expand(&after)
                .into_iter()
                .find(|(id, _, _)| ranges.iter().any(|r| r.contains(*id)))
            {
                return Err(Error::NotApplied {
                    op,
                    iface: IfName::from_kernel(target.name),
                    what: format!("VLAN {id}"),
                    expected: "absent".into(),
                    actual: "present".into(),
                });
            }
            Ok(())
        }
        .await;
        match removed {
            Ok(()) => Ok(()),
            Err(e) => Err(e.with_undo_failures(journal.rollback(&self.nl).await)),
        }
    }

    /// The VLAN memberships of a port, or of the bridge itself, in
    /// compressed ranges (`bridge vlan show dev PORT`). Empty on a kernel
    /// without VLAN filtering.
    ///
    /// # Errors
    /// [`Error::NotAPort`]; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// for m in br.vlans("vnet0").await? {
    ///     println!("{m}");
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListVlans.name(), iface = %self.name), err(Display))]
    pub async fn vlans(&self, port: impl ToPort) -> Result<Vec<VlanMember>> {
        let port = port.to_port()?;
        let target = self.vlan_target(Op::ListVlans, &port).await?;
        self.vlans_of(Op::ListVlans, &target).await
    }
}

/// The first VLAN of `members` that `after` lacks or has with other flags.
fn first_missing(members: &[VlanMember], after: &[VlanMember]) -> Option<(VlanId, String, String)> {
    let got = vlan::table(after);
    let flags = |p: bool, u: bool| {
        let mut s = String::from("member");
        if p {
            s.push_str(" pvid");
        }
        if u {
            s.push_str(" untagged");
        }
        s
    };
    for (id, pvid, untagged) in vlan::expand(members) {
        match got[usize::from(id.get())] {
            None => return Some((id, flags(pvid, untagged), "not a member".into())),
            Some((p, u)) if (p, u) != (pvid, untagged) => {
                return Some((id, flags(pvid, untagged), flags(p, u)));
            }
            _ => {}
        }
    }
    None
}
