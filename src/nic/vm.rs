//! One-call VM NICs: a tap created, named, sized, addressed, attached to a
//! bridge with its port options and brought up — what libvirt's
//! `virNetDevTapCreateInBridgePort` does — with the queue fds handed to
//! the caller for the VMM.

use crate::error::{BadInput, InputKind};
use std::os::fd::{AsFd, OwnedFd};

use macaddr::MacAddr6;
use tracing::warn;

use crate::bridge::Bridge;
use crate::bridge::port::{PortConfig, PortRef};
use crate::engine::complete::run_to_end;
use crate::engine::{Journal, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkChange, LinkRef};
use crate::nic::offloads;
use crate::sys::netns;
use crate::sys::tap::{self, MAX_QUEUES, TapSpec};
use crate::values::counters::Counters;
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::name::IfName;
use crate::values::offloads::{Offloads, validate_vnet_hdr_size};

/// The host-side MAC libvirt gives a guest's tap: the guest MAC with the
/// first byte set to `0xFE`.
///
/// A bridge without an explicitly set MAC takes the numerically lowest
/// MAC of its ports; `FE:` sorts above any MAC a guest or a NIC vendor
/// uses, so a tap can never pull such a bridge's MAC (and with it, its
/// IPv6 link-local and its neighbours' caches) over to itself. It is
/// still unicast and locally administered, and differs from the guest's
/// own MAC, so frames are never mistaken for the guest's.
///
/// ```
/// use bridgekit::ToMac;
/// let guest: macaddr::MacAddr6 = "52:54:00:12:34:56".to_mac()?;
/// assert_eq!(bridgekit::host_mac_for(guest).to_string(), "FE:54:00:12:34:56");
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[must_use]
pub fn host_mac_for(guest: MacAddr6) -> MacAddr6 {
    let mut b = guest.into_array();
    b[0] = 0xFE;
    MacAddr6::from(b)
}

/// How to make a VM NIC; see [`VmNic::create`].
///
/// ```
/// use bridgekit::{PortConfig, VmNicConfig};
/// let cfg = VmNicConfig::new("52:54:00:12:34:56")
///     .name("vnet%d")
///     .queues(4)
///     .port(PortConfig::managed("52:54:00:12:34:56"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a NIC config changes nothing until it is passed to VmNic::create"]
pub struct VmNicConfig {
    pub(crate) guest_mac: MacAddr6,
    pub(crate) name: String,
    pub(crate) queues: u16,
    pub(crate) vnet_hdr: bool,
    pub(crate) vnet_hdr_size: Option<u8>,
    pub(crate) mtu: Option<u32>,
    pub(crate) host_mac: Option<MacAddr6>,
    pub(crate) port: PortConfig,
    pub(crate) persistent: bool,
    pub(crate) owner: Option<u32>,
    pub(crate) group: Option<u32>,
    /// The first bad MAC given to a builder, reported by validate().
    pub(crate) bad: Option<BadInput>,
}

impl VmNicConfig {
    /// A NIC for a guest with MAC `guest_mac`: one queue, `IFF_VNET_HDR`,
    /// named by the kernel from `vnet%d`, the bridge's MTU, host MAC from
    /// [`host_mac_for`], default port options, not persistent.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56");
    /// ```
    pub fn new(guest_mac: impl ToMac) -> Self {
        let (guest_mac, bad) = match guest_mac.to_mac() {
            Ok(mac) => (mac, None),
            Err(e) => (
                MacAddr6::nil(),
                Some(e.into_bad_input(InputKind::MacAddress, "guest MAC")),
            ),
        };
        VmNicConfig {
            guest_mac,
            bad,
            name: "vnet%d".into(),
            queues: 1,
            vnet_hdr: true,
            vnet_hdr_size: None,
            mtu: None,
            host_mac: None,
            port: PortConfig::new(),
            persistent: false,
            owner: None,
            group: None,
        }
    }

    /// A name (`vnet7`), or a template with one `%d` the kernel fills in.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").name("guest1-0");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Number of queues (one fd each), 1..=256; more than one makes a
    /// multi-queue tap (`IFF_MULTI_QUEUE`).
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").queues(4);
    /// ```
    pub fn queues(mut self, queues: u16) -> Self {
        self.queues = queues;
        self
    }

    /// Whether frames carry a `virtio_net_hdr` (`IFF_VNET_HDR`, default on,
    /// what virtio-net backends expect).
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").vnet_hdr(false);
    /// ```
    pub fn vnet_hdr(mut self, on: bool) -> Self {
        self.vnet_hdr = on;
        self
    }

    /// The virtio-net header size the guest's virtio-net device uses: 12
    /// with mergeable receive buffers or `VIRTIO_F_VERSION_1` (every
    /// modern guest), 10 without
    /// ([`VNET_HDR_SIZES`](crate::VNET_HDR_SIZES)). The kernel's default
    /// is 10. Set with `TUNSETVNETHDRSZ` before the tap joins the bridge,
    /// and read back; [`set_tap_vnet_hdr_size`](crate::set_tap_vnet_hdr_size)
    /// changes it later through a queue fd.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").vnet_hdr_size(12);
    /// ```
    pub fn vnet_hdr_size(mut self, size: u8) -> Self {
        self.vnet_hdr_size = Some(size);
        self
    }

    /// The tap's MTU (default: the bridge's).
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").mtu(9000);
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// An explicit host-side MAC instead of [`host_mac_for`]'s.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56")
    ///     .host_mac("fe:00:00:00:00:01");
    /// ```
    pub fn host_mac(mut self, mac: impl ToMac) -> Self {
        match mac.to_mac() {
            Ok(mac) => self.host_mac = Some(mac),
            Err(e) => {
                self.bad
                    .get_or_insert(e.into_bad_input(InputKind::MacAddress, "host MAC"));
            }
        }
        self
    }

    /// Port options (e.g. [`PortConfig::managed`] for the guest MAC). The
    /// port is always brought up. A [`GuestGuard`](crate::GuestGuard) in
    /// them that names no MAC, on a port that is not managed, guards this
    /// NIC's guest MAC.
    ///
    /// ```
    /// let guest = "52:54:00:12:34:56";
    /// let cfg = bridgekit::VmNicConfig::new(guest).port(bridgekit::PortConfig::managed(guest));
    /// let guarded = bridgekit::VmNicConfig::new(guest)
    ///     .port(bridgekit::PortConfig::new().guest_guard(bridgekit::GuestGuard::new()));
    /// ```
    pub fn port(mut self, mut port: PortConfig) -> Self {
        if port.managed.is_none() {
            if let Some(guard) = &mut port.guest_guard {
                guard.mac.get_or_insert(self.guest_mac);
            }
        }
        self.port = port;
        self
    }

    /// Keep the tap when its fds close (`TUNSETPERSIST`); remove it with
    /// [`VmNic::delete`]. Default: the kernel removes it with the last fd.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").persistent(true);
    /// ```
    pub fn persistent(mut self, on: bool) -> Self {
        self.persistent = on;
        self
    }

    /// The user allowed to attach to the tap (`TUNSETOWNER`), e.g. the
    /// unprivileged VMM's.
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").owner(107);
    /// ```
    pub fn owner(mut self, uid: u32) -> Self {
        self.owner = Some(uid);
        self
    }

    /// The group allowed to attach to the tap (`TUNSETGROUP`).
    ///
    /// ```
    /// let cfg = bridgekit::VmNicConfig::new("52:54:00:12:34:56").group(107);
    /// ```
    pub fn group(mut self, gid: u32) -> Self {
        self.group = Some(gid);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        validate_unicast(self.guest_mac)?;
        if let Some(mac) = self.host_mac {
            validate_unicast(mac)?;
        }
        let what = || format!("tap name {:?}", self.name);
        IfName::new(&self.name).map_err(|_| {
            Error::invalid(
                InputKind::InterfaceName,
                what(),
                "not a valid interface name (1-15 bytes, no '/', ':' or whitespace)",
            )
        })?;
        let percents = self.name.matches('%').count();
        if percents > 1 || (percents == 1 && !self.name.contains("%d")) {
            return Err(Error::invalid(
                InputKind::InterfaceName,
                what(),
                "a template has exactly one \"%d\"",
            ));
        }
        validate_queues(self.queues)?;
        if let Some(size) = self.vnet_hdr_size {
            validate_vnet_hdr_size(size)?;
            if !self.vnet_hdr {
                return Err(Error::invalid(
                    InputKind::Offloads,
                    format!("virtio-net header size {size}"),
                    "the NIC has no virtio-net header (vnet_hdr(false))",
                ));
            }
        }
        if let Some(mtu) = self.mtu {
            if !(crate::values::mtu::MIN_MTU..=crate::values::mtu::MAX_MTU).contains(&mtu) {
                return Err(Error::invalid(
                    InputKind::Mtu,
                    format!("MTU {mtu}"),
                    format!(
                        "must be within {}..={}",
                        crate::values::mtu::MIN_MTU,
                        crate::values::mtu::MAX_MTU
                    ),
                ));
            }
        }
        self.port.validate()
    }
}

/// A guest NIC: a tap attached to a bridge, with its queue fds.
///
/// Dropping a non-persistent `VmNic` (or the fds taken from it with
/// [`into_fds`](VmNic::into_fds), once the VMM closes them) makes the kernel
/// remove the tap, and with it the port.
#[derive(Debug)]
pub struct VmNic {
    bridge: Bridge,
    name: IfName,
    index: u32,
    guest_mac: MacAddr6,
    host_mac: MacAddr6,
    persistent: bool,
    fds: Vec<OwnedFd>,
}

impl VmNic {
    /// Creates a tap through `/dev/net/tun` (never netlink: the kernel
    /// makes a tap that a process can read only this way), in the
    /// namespace of the bridge's [`Netlink`](crate::Netlink); sets its MTU
    /// and host-side MAC in one RTM_SETLINK; attaches it to `bridge` with
    /// the config's [`PortConfig`] and brings it up (`ip tuntap add NAME
    /// mode tap [multi_queue] [vnet_hdr]` and one TUNSETIFF per queue, `ip
    /// link set NAME address HOST_MAC mtu MTU`, then `ip link set NAME
    /// master BRIDGE` with the port options, and `ip link set NAME up`).
    ///
    /// If any step fails, everything is undone — the port detached, the
    /// tap removed — and the first error returned. Runs on a task of its
    /// own: a dropped future still ends whole, and the fds of a NIC whose
    /// caller went away are closed, which removes a non-persistent tap. A
    /// persistent one stays, whole, on the bridge: after
    /// [`Netlink::finish_pending`](crate::Netlink::finish_pending),
    /// [`Bridge::ports`] shows it. An existing tap of the same name is
    /// never taken over (`IFF_TUN_EXCL`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad MAC, name, queue count or MTU
    /// (nothing done); [`Error::PermissionDenied`] without access to
    /// `/dev/net/tun` or CAP_NET_ADMIN; [`Error::AlreadyExists`] for a name
    /// in use (an existing tap is never taken over); the errors of
    /// [`Bridge::attach_port`].
    ///
    /// ```no_run
    /// # async fn f(br: bridgekit::Bridge) -> Result<(), bridgekit::Error> {
    /// use bridgekit::{PortConfig, VmNic, VmNicConfig};
    /// let guest = "52:54:00:12:34:56";
    /// let nic = VmNic::create(&br, VmNicConfig::new(guest).queues(2).port(PortConfig::managed(guest))).await?;
    /// println!("{} has {} queue fds for the VMM", nic.name(), nic.queue_fds().len());
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::CreateVmNic.name(), iface = %bridge.name()), err(Display))]
    pub async fn create(bridge: &Bridge, config: VmNicConfig) -> Result<VmNic> {
        config.validate()?;
        let this = bridge.clone();
        run_to_end(
            &bridge.nl,
            async move { Self::create_steps(this, config).await },
        )
        .await
    }

    async fn create_steps(bridge: Bridge, config: VmNicConfig) -> Result<VmNic> {
        let op = Op::CreateVmNic;
        let nl = bridge.nl.clone();
        // The bridge's MTU and the new tap's ifindex come from the link
        // view (see `netlink/link_view.rs`), which the attach reads anyway:
        // no lookup request.
        let mtu = match config.mtu {
            Some(m) => m,
            None => {
                nl.view_link(
                    op,
                    LinkRef::Index(bridge.index()),
                    Some(bridge.name().as_str()),
                )
                .await?
                .mtu
            }
        };
        let host_mac = config
            .host_mac
            .unwrap_or_else(|| host_mac_for(config.guest_mac));
        let (tap, mut journal) = make_tap(&nl, op, &config)?;
        let steps = async {
            let name = IfName::new(&tap.name)?;
            if let (Some(size), Some(fd)) = (config.vnet_hdr_size, tap.fds.first()) {
                nl.fault_step(op, name.as_str())?;
                offloads::set_hdr_size(fd.as_fd(), name.as_str(), size)?;
            }
            let link = nl.view_link(op, LinkRef::Name(name.as_str()), None).await?;
            let change = LinkChange {
                mtu: Some(mtu),
                mac: Some(host_mac),
                ..LinkChange::default()
            };
            nl.set_link(op, name.as_str(), link.index, &change).await?;
            let attached = bridge
                .attach_one(&PortRef::Index(link.index), &config.port.clone().up())
                .await?;
            journal.append(attached.journal);
            Ok::<_, Error>((name, link.index))
        };
        match steps.await {
            Ok((name, index)) => Ok(VmNic {
                bridge,
                name,
                index,
                guest_mac: config.guest_mac,
                host_mac,
                persistent: config.persistent,
                fds: tap.fds,
            }),
            Err(e) => {
                let failed = journal.rollback(bridge.netlink()).await;
                // The journal cleared persistence: closing the queue fds
                // removes the tap.
                drop(tap.fds);
                Err(e.with_undo_failures(failed))
            }
        }
    }

    /// The traffic counters of the tap (`ip -s link show`), as the host
    /// sees it: `rx` is what the guest sent, `tx` what it was sent. One
    /// request.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) if it is gone; kernel
    /// errors.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VmNic) -> Result<(), bridgekit::Error> {
    /// let c = nic.counters().await?;
    /// println!("the guest sent {} packets, {} were dropped on the way to it", c.rx_packets, c.tx_dropped);
    /// # Ok(()) }
    /// ```
    pub async fn counters(&self) -> Result<Counters> {
        self.read_counters().await
    }

    /// [`counters`](Self::counters) as a future that owns what it needs
    /// (for the blocking twin).
    pub(crate) fn read_counters(
        &self,
    ) -> impl std::future::Future<Output = Result<Counters>> + Send + 'static {
        let (nl, name, index) = (self.bridge.nl.clone(), self.name.to_string(), self.index);
        async move { nl.counters(Op::ReadCounters, &name, index).await }
    }

    /// Sets the tap's offloads once the guest negotiated them (what QEMU
    /// does with `TUNSETOFFLOAD` after the guest's driver accepted
    /// `VIRTIO_NET_F_GUEST_CSUM`, `..._GUEST_TSO4`, ...): the kernel then
    /// hands the guest frames with partial checksums and uncut segments,
    /// which is most of a guest's TCP throughput. [`Offloads::NONE`]
    /// takes them away (a guest driver reset). The device's features are
    /// read back (`ethtool -k`; the table in [`Offloads`] says which
    /// feature is which). [`set_tap_offloads`](crate::set_tap_offloads)
    /// does the same through any tap fd.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] ([`InputKind::Offloads`]) for a shape the
    /// kernel refuses ([`Offloads::validate`]) or offloads on a NIC made
    /// with `vnet_hdr(false)`, before any change;
    /// [`Error::Unsupported`] for [`Offloads::UFO`] (Linux removed it in
    /// 4.14 and ignores the flag) and for USO before Linux 6.2;
    /// [`Error::NotApplied`] if the features read back differ;
    /// [`Error::NotFound`](crate::Error::NotFound) if the tap is gone;
    /// [`Error::Io`](crate::Error::Io) for a failed ioctl.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VmNic) -> Result<(), bridgekit::Error> {
    /// use bridgekit::Offloads;
    /// nic.set_offloads(Offloads::CSUM | Offloads::TSO4 | Offloads::TSO6 | Offloads::TSO_ECN).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::SetOffloads.name(), iface = %self.name), err(Display))]
    pub async fn set_offloads(&self, offloads: Offloads) -> Result<()> {
        self.write_offloads(offloads).await
    }

    /// [`set_offloads`](Self::set_offloads) as a future that owns what it
    /// needs (for the blocking twin). The ioctl is made when it is called;
    /// the future reads the features back.
    pub(crate) fn write_offloads(
        &self,
        offloads: Offloads,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        // A duplicate of the first queue fd, so the future owns what it
        // needs and makes the ioctl only when it runs (the blocking twin
        // refuses to run inside a runtime before it does).
        let queue = match self.fds.first() {
            Some(fd) => fd.try_clone(),
            None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
        }
        .map_err(|e| Error::io(Op::SetOffloads, self.name.as_str(), e));
        let nl = self.bridge.nl.clone();
        async move {
            let name = offloads::set(queue?.as_fd(), offloads)?;
            let active = read_features(&nl, &name).await?;
            offloads::verify(&name, offloads, &active)
        }
    }

    /// The tap's offloads now, as the kernel shows them (`ethtool -k`).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) if the tap is gone;
    /// [`Error::Io`](crate::Error::Io) for a failed ethtool ioctl.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VmNic) -> Result<(), bridgekit::Error> {
    /// println!("{} offloads: {}", nic.name(), nic.offloads().await?);
    /// # Ok(()) }
    /// ```
    pub async fn offloads(&self) -> Result<Offloads> {
        self.read_offloads().await
    }

    /// [`offloads`](Self::offloads) as a future that owns what it needs
    /// (for the blocking twin).
    pub(crate) fn read_offloads(
        &self,
    ) -> impl std::future::Future<Output = Result<Offloads>> + Send + 'static {
        let (nl, name) = (self.bridge.nl.clone(), self.name.to_string());
        async move { Ok(offloads::from_features(&read_features(&nl, &name).await?)) }
    }

    /// The tap's name (the kernel's choice when a template was given).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The tap's ifindex.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) { println!("{}", nic.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The guest's MAC (for the VMM's virtio-net device).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) { println!("{}", nic.guest_mac()); }
    /// ```
    #[must_use]
    pub fn guest_mac(&self) -> MacAddr6 {
        self.guest_mac
    }

    /// The tap's own (host-side) MAC.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) { println!("{}", nic.host_mac()); }
    /// ```
    #[must_use]
    pub fn host_mac(&self) -> MacAddr6 {
        self.host_mac
    }

    /// The queue fds, one per queue, for the VMM.
    ///
    /// They are **close-on-exec**, as every fd should be: no other child
    /// of your process inherits them by accident. A VMM run as a child
    /// process (qemu's `-netdev tap,fds=8:9`) must clear `FD_CLOEXEC` on
    /// the ones it gets, between fork and exec; otherwise it sees no such
    /// fd ("Can't use file descriptor 8: Bad file descriptor"):
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) -> std::io::Result<()> {
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::process::CommandExt;
    /// let raw: Vec<i32> = nic.queue_fds().iter().map(|fd| fd.as_raw_fd()).collect();
    /// let fds = raw.iter().map(|fd| fd.to_string()).collect::<Vec<_>>().join(":");
    /// let mut qemu = std::process::Command::new("qemu-system-x86_64");
    /// qemu.arg("-netdev").arg(format!("tap,id=n0,vhost=off,fds={fds}"));
    /// // SAFETY: fcntl is async-signal-safe and touches only these fds.
    /// unsafe {
    ///     qemu.pre_exec(move || {
    ///         for &fd in &raw {
    ///             if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
    ///                 return Err(std::io::Error::last_os_error());
    ///             }
    ///         }
    ///         Ok(())
    ///     });
    /// }
    /// let child = qemu.spawn()?;
    /// drop(nic); // the child holds the tap now
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn queue_fds(&self) -> &[OwnedFd] {
        &self.fds
    }

    /// Takes the queue fds (e.g. to pass them to a VMM process). A
    /// non-persistent tap lives as long as any of them is open. They are
    /// close-on-exec: see [`queue_fds`](Self::queue_fds) for handing them
    /// to a child process.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::VmNic) { let fds = nic.into_fds(); }
    /// ```
    #[must_use]
    pub fn into_fds(self) -> Vec<OwnedFd> {
        self.fds
    }

    /// Removes the NIC now: detaches the port and deletes the tap (a
    /// persistent one too).
    ///
    /// # Errors
    /// Kernel errors from the delete.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::VmNic) -> Result<(), bridgekit::Error> {
    /// nic.delete().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DeleteVmNic.name(), iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<()> {
        let VmNic {
            bridge,
            name,
            index,
            persistent,
            fds,
            ..
        } = self;
        if persistent {
            if let Some(fd) = fds.first() {
                tap::clear_persist(fd).map_err(|e| Error::io(Op::DeleteVmNic, name.as_str(), e))?;
            }
        }
        drop(fds);
        // The kernel removes a non-persistent tap with its last fd; if a VMM
        // still holds one, delete it through netlink.
        match bridge
            .nl
            .delete_link(Op::DeleteVmNic, name.as_str(), index)
            .await
        {
            Ok(()) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        // Kernels before 6.12 delete a guard's base chain with its device,
        // none its other chains. Its qdiscs went with it, its IFB did not.
        bridge.drop_guard(name.as_str()).await?;
        bridge.drop_ifb(index).await
    }
}

/// The active features of `name` (`ethtool -k`), read on the
/// connection's namespace thread.
async fn read_features(nl: &crate::netlink::Netlink, name: &str) -> Result<Vec<String>> {
    let owned = name.to_string();
    nl.in_netns(move |_| crate::sys::ethtool::active_features(&owned))
        .await
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENODEV) => Error::from_kernel(Op::ReadOffloads, name, libc::ENODEV, None),
            _ => Error::io(Op::ReadOffloads, name, e),
        })
}

/// Undoes a tap: clears persistence, closes the fds (the kernel then
/// removes the device).
fn remove_tap(fds: Vec<OwnedFd>, persistent: bool, name: &str) -> std::io::Result<()> {
    if persistent {
        if let Some(fd) = fds.first() {
            if let Err(e) = tap::clear_persist(fd) {
                warn!(tap = name, error = %e, "could not clear persistence of a tap being undone");
                return Err(e);
            }
        }
    }
    drop(fds);
    Ok(())
}

/// A NIC's queue count: 1..=[`MAX_QUEUES`].
pub(crate) fn validate_queues(queues: u16) -> Result<()> {
    if !(1..=MAX_QUEUES).contains(&queues) {
        return Err(Error::invalid(
            InputKind::QueueCount,
            format!("queue count {queues}"),
            format!("must be within 1..={MAX_QUEUES}"),
        ));
    }
    Ok(())
}

/// Makes the tap through `/dev/net/tun` and starts the undo journal with
/// it: through a duplicate of a queue fd, since the fds themselves go to
/// the VM NIC. If even the duplicate fails, the tap is removed here.
fn make_tap(
    nl: &crate::netlink::Netlink,
    op: Op,
    config: &VmNicConfig,
) -> Result<(tap::Tap, Journal)> {
    let spec = TapSpec {
        name: config.name.clone(),
        queues: config.queues,
        vnet_hdr: config.vnet_hdr,
        persistent: config.persistent,
        owner: config.owner,
        group: config.group,
    };
    let tap = netns::run_in(nl.netns(), || tap::create(&spec))
        .map_err(|e| Error::tap_create(op, &config.name, e))?;
    let mut journal = Journal::new();
    match tap.fds.first().map(OwnedFd::try_clone).transpose() {
        Ok(Some(queue)) => journal.made(Step::Tap {
            name: tap.name.clone(),
            persistent: config.persistent,
            queue,
        }),
        Ok(None) => {}
        Err(e) => {
            let undo = remove_tap(tap.fds, config.persistent, &tap.name).err();
            let undo = undo.map(|u| Error::io(op, &tap.name, u));
            return Err(Error::io(op, &tap.name, e).with_undo_failures(undo.into_iter().collect()));
        }
    }
    Ok((tap, journal))
}
