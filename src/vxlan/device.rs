//! A VXLAN device: its handle, its creation in one request, and what
//! `create` and `apply` check of an existing one.

use crate::error::InputKind;
use std::net::IpAddr;

use super::config::VxlanConfig;
use super::vni::Vni;
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, LinkId, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkRef, LinkSnapshot, Netlink, VxlanParams};
use crate::values::name::IfName;

/// A VXLAN device: a bridge port whose frames travel to remote VTEPs over
/// UDP. Attach it like any port, [`Bridge::attach_port`], typically with
/// learning off on both ([`VxlanConfig::learning`],
/// `PortConfig::learning(false)`) and `neigh_suppress` where a control
/// plane answers ARP/ND.
///
/// [`Bridge::attach_port`]: crate::Bridge::attach_port
///
/// ```no_run
/// # async fn f(nl: bridgekit::Netlink, br: bridgekit::Bridge) -> Result<(), Box<dyn std::error::Error>> {
/// use bridgekit::{PortConfig, Remote, Vxlan, VxlanConfig};
/// let vx = Vxlan::create(&nl, VxlanConfig::new("vx100", 100)?
///     .local("192.0.2.1".parse()?)
///     .underlay("eth0")
///     .learning(false)).await?;
/// br.attach_port(vx.name(), PortConfig::new().learning(false).up()).await?;
/// vx.add_remote(Remote::flood("192.0.2.2".parse()?)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Vxlan {
    pub(crate) nl: Netlink,
    pub(crate) name: IfName,
    pub(crate) index: u32,
    /// `None` in external mode.
    pub(crate) vni: Option<Vni>,
    pub(crate) local: Option<IpAddr>,
    /// The rest of the device's settings, as read when the handle was made.
    pub(crate) params: VxlanParams,
}

impl Vxlan {
    /// Creates the device in one request and reads it back: VNI, local
    /// address, underlay, port, learning, TTL, checksum options and MTU
    /// must be what was asked (`ip link add NAME type vxlan id VNI local
    /// IP dev UNDERLAY dstport PORT [nolearning] [ttl TTL] [mtu MTU]`, then
    /// `bridge fdb append 00:00:00:00:00:00 dev NAME dst IP` per flood
    /// remote and `bridge fdb add MAC dev NAME dst IP` per MAC remote). If the read-back disagrees or fails, the
    /// device is deleted and the first error returned.
    ///
    /// Checked before anything is changed: the VNI (1..=16777215), the
    /// port (not 0), the TTL (not 0), the MTU, and, with an underlay, that
    /// the underlay exists, that the local address is one of its
    /// addresses, and that the MTU fits under the underlay's MTU less the
    /// overhead.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for any of the above; [`Error::NotFound`]
    /// for a missing underlay; [`Error::AlreadyExists`] for a name in use;
    /// [`Error::Unsupported`] on a kernel without VXLAN (`CONFIG_VXLAN`);
    /// [`Error::NotApplied`] if the kernel kept another value.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::Vxlan::create(&nl, bridgekit::VxlanConfig::new("vx100", 100)?).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::CreateVxlan.name(), iface = %config.name), err(Display))]
    pub async fn create(nl: &Netlink, config: VxlanConfig) -> Result<Vxlan> {
        let vni = config.validate()?;
        let owned = nl.clone();
        run_to_end(nl, async move {
            let vx = make_device(&owned, &config, vni).await?;
            let Some(remotes) = config.remotes() else {
                return Ok(vx);
            };
            let mut journal = Journal::new();
            journal.made(Step::LinkCreated(
                Op::CreateVxlan,
                LinkId::new(vx.name.as_str(), vx.index),
            ));
            match vx.add_all(remotes.to_vec()).await {
                Ok(()) => Ok(vx),
                Err(e) => Err(e.with_undo_failures(journal.rollback(&owned).await)),
            }
        })
        .await
    }

    /// Opens an existing VXLAN device by name.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidInput`] if the interface is
    /// not a VXLAN device.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let vx = bridgekit::Vxlan::open(&nl, "vx100").await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::OpenVxlan.name(), iface = %name.as_ref()), err(Display))]
    pub async fn open(nl: &Netlink, name: impl AsRef<str>) -> Result<Vxlan> {
        let name = IfName::new(name.as_ref())?;
        let op = Op::OpenVxlan;
        let link = nl
            .link(op, name.as_str(), LinkRef::Name(name.as_str()))
            .await?;
        from_link(nl, op, &link)
    }

    /// The device's name.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The device's ifindex.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The VNI; `None` for a device in external mode.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("VNI {:?}", vx.vni()); }
    /// ```
    #[must_use]
    pub fn vni(&self) -> Option<Vni> {
        self.vni
    }

    /// Whether the device is in external (collect-metadata) mode.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{}", vx.is_external()); }
    /// ```
    #[must_use]
    pub fn is_external(&self) -> bool {
        self.vni.is_none()
    }

    /// The local VTEP address, if one was set.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("{:?}", vx.local()); }
    /// ```
    #[must_use]
    pub fn local(&self) -> Option<IpAddr> {
        self.local
    }

    /// The destination UDP port (`dstport`), as read when this handle was
    /// made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { assert_eq!(vx.port(), bridgekit::VXLAN_PORT); }
    /// ```
    #[must_use]
    pub fn port(&self) -> u16 {
        self.params.port
    }

    /// Whether the device learns remote MACs from received frames
    /// (`learning`), as read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("learning {}", vx.learning()); }
    /// ```
    #[must_use]
    pub fn learning(&self) -> bool {
        self.params.learning
    }

    /// The underlay device's ifindex (`dev`), if the device has one, as
    /// read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("underlay {:?}", vx.underlay_index()); }
    /// ```
    #[must_use]
    pub fn underlay_index(&self) -> Option<u32> {
        self.params.underlay
    }

    /// The outer TTL (`ttl`), `None` for the kernel's default (`ttl auto`),
    /// as read when this handle was made.
    ///
    /// ```no_run
    /// # fn f(vx: bridgekit::Vxlan) { println!("TTL {:?}", vx.ttl()); }
    /// ```
    #[must_use]
    pub fn ttl(&self) -> Option<u8> {
        self.params.ttl.filter(|t| *t != 0)
    }

    /// The device's MTU, read from the kernel.
    ///
    /// # Errors
    /// Kernel errors; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// println!("MTU {}", vx.mtu().await?);
    /// # Ok(()) }
    /// ```
    pub async fn mtu(&self) -> Result<u32> {
        let link = self
            .nl
            .link(Op::ReadLink, self.name.as_str(), LinkRef::Index(self.index))
            .await?;
        Ok(link.mtu)
    }

    /// Deletes the device (its remotes go with it; a bridge it was a port
    /// of loses the port).
    ///
    /// # Errors
    /// Kernel errors; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(vx: bridgekit::Vxlan) -> Result<(), bridgekit::Error> {
    /// vx.delete().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DeleteVxlan.name(), iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<()> {
        self.nl
            .delete_link(Op::DeleteVxlan, self.name.as_str(), self.index)
            .await
    }
}

/// An existing device, checked against `config`: the VNI, local address,
/// underlay and UDP port must be the config's (changing them means a new
/// device, and its port would flap: `apply` refuses instead).
pub(crate) async fn existing(
    nl: &Netlink,
    op: Op,
    config: &VxlanConfig,
    link: &LinkSnapshot,
) -> Result<Vxlan> {
    let vx = from_link(nl, op, link)?;
    let read = link.vxlan.unwrap_or_default();
    let underlay = match &config.underlay {
        Some(u) => Some(nl.link(op, u, LinkRef::Name(u)).await?.index),
        None => None,
    };
    let differs = |what: &str, want: String, got: String| {
        Err(Error::invalid(
            InputKind::Vxlan,
            format!("VXLAN device {}", config.name),
            format!(
                "exists with {what} {got}, not {want}: apply does not recreate a device \
                 (its port would flap); delete it first"
            ),
        ))
    };
    let show = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    if read.external != config.external {
        let mode = |e: bool| if e { "external mode" } else { "a VNI" }.to_string();
        return differs("", mode(config.external), mode(read.external));
    }
    if read.vni != config.vni {
        return differs("VNI", config.vni.to_string(), read.vni.to_string());
    }
    if read.port != config.port {
        return differs("port", config.port.to_string(), read.port.to_string());
    }
    if read.local != config.local {
        return differs(
            "local address",
            show(config.local.map(|a| a.to_string())),
            show(read.local.map(|a| a.to_string())),
        );
    }
    if underlay.is_some() && read.underlay != underlay {
        return differs(
            "underlay",
            show(config.underlay.clone()),
            show(read.underlay.map(|i| format!("#{i}"))),
        );
    }
    Ok(vx)
}

pub(crate) fn from_link(nl: &Netlink, op: Op, link: &LinkSnapshot) -> Result<Vxlan> {
    let Some(params) = link.vxlan.filter(|_| link.kind.as_deref() == Some("vxlan")) else {
        return Err(Error::invalid(
            InputKind::Vxlan,
            format!("interface {}", link.name),
            format!(
                "is a {}, not a VXLAN device",
                link.kind.as_deref().unwrap_or("device")
            ),
        ));
    };
    let vni = if params.external {
        None
    } else {
        Some(Vni::new(params.vni).map_err(|_| Error::Unsupported {
            op,
            iface: IfName::from_kernel(&link.name),
            detail: "a VXLAN device with VNI 0".into(),
        })?)
    };
    Ok(Vxlan {
        nl: nl.clone(),
        name: IfName::from_kernel(&link.name),
        index: link.index,
        vni,
        local: params.local,
        params,
    })
}

/// Everything about the VXLAN ports of a bridge config that one read of the
/// kernel can find wrong, checked before `create` or `apply` changes
/// anything: an existing device of another kind or other settings, a
/// missing underlay, a local address the underlay lacks, and an MTU that
/// cannot carry the bridge's. A refusal then leaves no link behind that
/// came and went.
pub(crate) async fn preflight_all(
    nl: &Netlink,
    op: Op,
    vxlans: &[VxlanConfig],
    bridge: &IfName,
    bridge_mtu: Option<u32>,
) -> Result<()> {
    for vx in vxlans {
        let name = vx.name.as_str();
        let mtu = match nl.link(op, name, LinkRef::Name(name)).await {
            Ok(link) => {
                existing(nl, op, vx, &link).await?;
                link.mtu
            }
            Err(Error::NotFound { .. }) => {
                vx.validate()?;
                match underlay(nl, Op::CreateVxlan, vx).await? {
                    // What the kernel gives a new device: the MTU asked for,
                    // or its underlay's less the encapsulation, or 1500.
                    Some((_, under_mtu)) => {
                        vx.mtu.unwrap_or(under_mtu.saturating_sub(vx.overhead()))
                    }
                    None => vx.mtu.unwrap_or(1500),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(want) = bridge_mtu {
            check_carries(vx.name(), mtu, want, bridge)?;
        }
    }
    Ok(())
}

/// A VXLAN port of MTU `have` cannot carry the MTU `want` asked of
/// `bridge`.
pub(crate) fn check_carries(name: &IfName, have: u32, want: u32, bridge: &IfName) -> Result<()> {
    if have >= want {
        return Ok(());
    }
    Err(Error::invalid(
        InputKind::Mtu,
        format!("VXLAN port {name} (MTU {have})"),
        format!(
            "cannot carry the MTU {want} asked of bridge {bridge}: frames above {have} would be \
             dropped; lower the bridge's MTU, or raise the underlay's (the VXLAN MTU is the \
             underlay's less 50 bytes over IPv4, 70 over IPv6)"
        ),
    ))
}

/// The underlay `config` names, checked: it exists, carries the MTU asked
/// of the device, and has the local address. Its ifindex and MTU.
async fn underlay(nl: &Netlink, op: Op, config: &VxlanConfig) -> Result<Option<(u32, u32)>> {
    let Some(u) = &config.underlay else {
        return Ok(None);
    };
    let name = config.name.as_str();
    let under = nl.link(op, u, LinkRef::Name(u)).await?;
    let max = under.mtu.saturating_sub(config.overhead());
    if let Some(mtu) = config.mtu.filter(|m| *m > max) {
        return Err(Error::invalid(
            InputKind::Mtu,
            format!("MTU {mtu} of VXLAN device {name}"),
            format!(
                "does not fit under {u}: its MTU {} less {} bytes of encapsulation allows at most {max}",
                under.mtu,
                config.overhead()
            ),
        ));
    }
    if let Some(local) = config.local {
        let addrs = nl.addresses(op, u, under.index).await?;
        if !addrs.iter().any(|a| a.net.addr() == local) {
            return Err(Error::invalid(
                InputKind::Vxlan,
                format!("local VTEP address {local} of {name}"),
                format!("is not an address of the underlay {u}"),
            ));
        }
    }
    Ok(Some((under.index, under.mtu)))
}

/// Creates the device `config` describes (not its remotes), reads it back,
/// and deletes it again if anything fails.
pub(crate) async fn make_device(
    nl: &Netlink,
    config: &VxlanConfig,
    vni: Option<Vni>,
) -> Result<Vxlan> {
    let op = Op::CreateVxlan;
    let name = config.name.as_str();
    let underlay_index = underlay(nl, op, config).await?.map(|(index, _)| index);
    let params = VxlanParams {
        vni: vni.map_or(0, Vni::get),
        external: config.external,
        local: config.local,
        underlay: underlay_index,
        port: config.port,
        learning: config.learning,
        ttl: config.ttl,
        udp_csum: config.udp_csum,
        udp6_zero_csum_tx: config.udp6_zero_csum_tx,
        udp6_zero_csum_rx: config.udp6_zero_csum_rx,
    };
    nl.create_vxlan(op, name, &params, config.mtu, config.mac)
        .await
        .map_err(|e| match e {
            Error::Unsupported { op, iface, .. } => Error::Unsupported {
                op,
                iface,
                detail: "this kernel has no vxlan link kind (CONFIG_VXLAN)".into(),
            },
            e => e,
        })?;
    let made = async {
        let link = nl.link(op, name, LinkRef::Name(name)).await?;
        let vx = from_link(nl, op, &link)?;
        check_made(config, vni, underlay_index, &link)?;
        Ok::<_, Error>(vx)
    }
    .await;
    match made {
        Ok(vx) => Ok(vx),
        Err(e) => {
            let mut journal = Journal::new();
            journal.made(Step::LinkNamed(op, name.into()));
            Err(e.with_undo_failures(journal.rollback(nl).await))
        }
    }
}

/// A VXLAN device just made against what was asked: the first setting
/// that reads back otherwise is [`Error::NotApplied`].
fn check_made(
    config: &VxlanConfig,
    vni: Option<Vni>,
    underlay_index: Option<u32>,
    link: &LinkSnapshot,
) -> Result<()> {
    let read = link.vxlan.unwrap_or_default();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    let text = |v: Option<bool>| opt(v.map(|b| b.to_string()));
    let mut pairs: Vec<(&str, String, String)> = vec![
        (
            "external mode",
            config.external.to_string(),
            read.external.to_string(),
        ),
        (
            "VNI",
            vni.map_or(0, Vni::get).to_string(),
            read.vni.to_string(),
        ),
        ("port", config.port.to_string(), read.port.to_string()),
        (
            "learning",
            config.learning.to_string(),
            read.learning.to_string(),
        ),
        (
            "local address",
            opt(config.local.map(|a| a.to_string())),
            opt(read.local.map(|a| a.to_string())),
        ),
        (
            "underlay",
            opt(underlay_index.map(|i| i.to_string())),
            opt(read.underlay.map(|i| i.to_string())),
        ),
    ];
    if let Some(ttl) = config.ttl {
        pairs.push(("TTL", ttl.to_string(), opt(read.ttl.map(|t| t.to_string()))));
    }
    for (what, want, got) in [
        ("udpcsum", config.udp_csum, read.udp_csum),
        (
            "udp6zerocsumtx",
            config.udp6_zero_csum_tx,
            read.udp6_zero_csum_tx,
        ),
        (
            "udp6zerocsumrx",
            config.udp6_zero_csum_rx,
            read.udp6_zero_csum_rx,
        ),
    ] {
        if want.is_some() {
            pairs.push((what, text(want), text(got)));
        }
    }
    if let Some(mtu) = config.mtu {
        pairs.push(("MTU", mtu.to_string(), link.mtu.to_string()));
    }
    if let Some(mac) = config.mac {
        let got = link
            .mac
            .map_or_else(|| "none".into(), crate::values::mac::lower);
        pairs.push(("MAC", crate::values::mac::lower(mac), got));
    }
    match pairs.into_iter().find(|(_, want, got)| want != got) {
        None => Ok(()),
        Some((what, expected, actual)) => Err(Error::NotApplied {
            op: Op::CreateVxlan,
            iface: IfName::from_kernel(&config.name),
            what: what.into(),
            expected,
            actual,
        }),
    }
}
