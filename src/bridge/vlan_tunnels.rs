//! A VXLAN port's VLAN-to-VNI map (`bridge vlan add dev PORT vid V
//! tunnel_info id VNI`): on a port in external mode with `vlan_tunnel` on,
//! a frame's VLAN selects the VNI it travels with, so one VXLAN device
//! carries many segments.

use crate::error::InputKind;
use std::collections::HashSet;

use crate::bridge::Bridge;
use crate::bridge::port::{PortRef, ToPort};
use crate::bridge::vlans::explain_unsupported;
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, Step, VlanTarget};
use crate::error::{Error, Op, Result};
use crate::values::name::IfName;
use crate::values::vlan::VlanId;
use crate::vxlan::Vni;

impl Bridge {
    /// Maps VLANs of a port to VNIs, in one message, then reads the map
    /// back. The port must be a VXLAN device in external mode
    /// ([`VxlanConfig::external`](crate::VxlanConfig::external)) with
    /// [`PortConfig::vlan_tunnel`](crate::PortConfig::vlan_tunnel) on, and
    /// a member of each VLAN, on a bridge with VLAN filtering; the kernel
    /// refuses otherwise. If the kernel fails midway or the read-back
    /// disagrees, the mappings this call added are removed again.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty map, or a VLAN or VNI listed
    /// twice (nothing sent); [`Error::NotAPort`]; [`Error::Unsupported`]
    /// without VLAN filtering; [`Error::NotApplied`]; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{VlanId, Vni};
    /// br.add_vlan_tunnels("vxe0", &[(VlanId::new(10)?, Vni::new(1010)?)]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::AddVlanTunnels.name(), iface = %self.name), err(Display))]
    pub async fn add_vlan_tunnels(&self, port: impl ToPort, map: &[(VlanId, Vni)]) -> Result<()> {
        let port = port.to_port()?;
        validate(map)?;
        let (this, map) = (self.clone(), map.to_vec());
        run_to_end(&self.nl, async move { this.add_tunnels(port, &map).await }).await
    }

    async fn add_tunnels(&self, port: PortRef, map: &[(VlanId, Vni)]) -> Result<()> {
        let op = Op::AddVlanTunnels;
        let target = self.vlan_target(op, &port).await?;
        let before = self.tunnels_of(op, &target).await?;
        let wire: Vec<(u16, u32)> = map.iter().map(|(v, n)| (v.get(), n.get())).collect();
        // What this call may add, to take back on failure: the kernel can
        // apply part of a message before it refuses the rest.
        let added: Vec<(u16, u32)> = wire
            .iter()
            .filter(|m| !before.contains(m))
            .copied()
            .collect();
        let mut journal = Journal::new();
        let send = async {
            self.nl
                .set_vlan_tunnels(op, &target.name, target.index, &wire, true)
                .await
                .map_err(explain_unsupported)
        };
        let step = Step::VlanTunnels {
            target: target.clone(),
            added: added.clone(),
        };
        let err = match journal.step(step, send).await {
            Err(e) => e,
            Ok(()) => match self.tunnels_of(op, &target).await {
                Err(e) => e,
                Ok(after) => match wire.iter().find(|m| !after.contains(m)) {
                    None => return Ok(()),
                    Some((vid, vni)) => Error::NotApplied {
                        op,
                        iface: IfName::from_kernel(target.name),
                        what: format!("VLAN {vid} tunnel"),
                        expected: format!("VNI {vni}"),
                        actual: after
                            .iter()
                            .find(|(v, _)| v == vid)
                            .map_or("no mapping".into(), |(_, n)| format!("VNI {n}")),
                    },
                },
            },
        };
        if added.is_empty() || matches!(err, Error::Unsupported { .. }) {
            return Err(err);
        }
        Err(err.with_undo_failures(journal.rollback(&self.nl).await))
    }

    /// Removes the VLAN-to-VNI mappings of these VLANs from a port (VLANs
    /// without one are skipped), in one message, and reads the map back.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty list; [`Error::NotAPort`];
    /// [`Error::NotApplied`]; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// br.remove_vlan_tunnels("vxe0", &[bridgekit::VlanId::new(10)?]).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::RemoveVlanTunnels.name(), iface = %self.name), err(Display))]
    pub async fn remove_vlan_tunnels(&self, port: impl ToPort, vlans: &[VlanId]) -> Result<()> {
        let port = port.to_port()?;
        if vlans.is_empty() {
            return Err(Error::invalid(
                InputKind::VlanTunnel,
                "VLAN tunnel list",
                "is empty",
            ));
        }
        let op = Op::RemoveVlanTunnels;
        let target = self.vlan_target(op, &port).await?;
        let gone: Vec<(u16, u32)> = self
            .tunnels_of(op, &target)
            .await?
            .into_iter()
            .filter(|(v, _)| vlans.iter().any(|x| x.get() == *v))
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        self.nl
            .set_vlan_tunnels(op, &target.name, target.index, &gone, false)
            .await
            .map_err(explain_unsupported)?;
        let after = self.tunnels_of(op, &target).await?;
        if let Some((vid, vni)) = gone.iter().find(|m| after.contains(m)) {
            return Err(Error::NotApplied {
                op,
                iface: IfName::from_kernel(target.name),
                what: format!("VLAN {vid} tunnel"),
                expected: "no mapping".into(),
                actual: format!("VNI {vni}"),
            });
        }
        Ok(())
    }

    /// A port's VLAN-to-VNI map (`bridge vlan tunnelshow dev PORT`), by
    /// VLAN; empty for a port without `vlan_tunnel`.
    ///
    /// # Errors
    /// [`Error::NotAPort`]; kernel errors.
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// for (vlan, vni) in br.vlan_tunnels("vxe0").await? {
    ///     println!("VLAN {vlan} -> VNI {vni}");
    /// }
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::ListVlanTunnels.name(), iface = %self.name), err(Display))]
    pub async fn vlan_tunnels(&self, port: impl ToPort) -> Result<Vec<(VlanId, Vni)>> {
        let port = port.to_port()?;
        let op = Op::ListVlanTunnels;
        let target = self.vlan_target(op, &port).await?;
        Ok(self
            .tunnels_of(op, &target)
            .await?
            .into_iter()
            .filter_map(|(v, n)| Some((VlanId::new(v).ok()?, Vni::new(n).ok()?)))
            .collect())
    }

    async fn tunnels_of(&self, op: Op, target: &VlanTarget) -> Result<Vec<(u16, u32)>> {
        let mut map: Vec<(u16, u32)> = self
            .nl
            .vlan_dump(op, &target.name)
            .await?
            .into_iter()
            .find(|s| s.index == target.index)
            .map(|s| s.tunnels)
            .unwrap_or_default();
        map.sort_unstable();
        Ok(map)
    }
}

fn validate(map: &[(VlanId, Vni)]) -> Result<()> {
    if map.is_empty() {
        return Err(Error::invalid(
            InputKind::VlanTunnel,
            "VLAN tunnel map",
            "is empty",
        ));
    }
    let (mut vids, mut vnis) = (HashSet::new(), HashSet::new());
    for (vid, vni) in map {
        if !vids.insert(*vid) {
            return Err(Error::invalid(
                InputKind::VlanTunnel,
                format!("VLAN {vid} in a tunnel map"),
                "is listed twice",
            ));
        }
        if !vnis.insert(*vni) {
            return Err(Error::invalid(
                InputKind::VlanTunnel,
                format!("VNI {vni} in a tunnel map"),
                "is listed twice (a VNI carries one VLAN)",
            ));
        }
    }
    Ok(())
}
