//! Guest NICs for libvirt's "direct" interfaces: a macvtap device on a
//! lower device (a physical NIC, a bond, a VLAN), no bridge involved, with
//! its `/dev/tapN` queue fds handed to the VMM. All of it, or none of it.

use crate::error::{BadInput, InputKind};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};

use macaddr::MacAddr6;

use crate::engine::complete::run_to_end;
use crate::engine::{Journal, Step};
use crate::error::{Error, Op, Result};
use crate::netlink::{LinkChange, LinkRef, Netlink};
use crate::values::counters::Counters;
use crate::values::mac::{ToMac, validate_unicast};
use crate::values::macvtap_mode::MacvtapMode;
use crate::values::mtu::validate_mtu;
use crate::values::name::IfName;

/// Most queues a macvtap device takes (`MAX_TAP_QUEUES`).
pub(crate) const MAX_MACVTAP_QUEUES: u16 = 256;

/// What [`MacvtapNic::create`] makes: the lower device, the guest's MAC,
/// the mode, and the queues.
///
/// ```
/// use bridgekit::{MacvtapMode, MacvtapNicConfig};
/// let cfg = MacvtapNicConfig::new("eth0", "52:54:00:12:34:56")
///     .mode(MacvtapMode::Bridge)
///     .queues(4);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a NIC config changes nothing until it is passed to MacvtapNic::create"]
pub struct MacvtapNicConfig {
    lower: String,
    guest_mac: MacAddr6,
    mode: MacvtapMode,
    name: Option<String>,
    queues: u16,
    vnet_hdr: bool,
    mtu: Option<u32>,
    bad: Option<BadInput>,
}

impl MacvtapNicConfig {
    /// A macvtap on `lower` for a guest with MAC `guest_mac` (the macvtap
    /// device carries the guest's MAC itself, as libvirt does): bridge
    /// mode, one queue, `IFF_VNET_HDR`, the lower device's MTU, a name
    /// chosen by bridgekit (`mvt` and eight hex digits).
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56");
    /// ```
    pub fn new(lower: impl Into<String>, guest_mac: impl ToMac) -> Self {
        let (guest_mac, bad) = match guest_mac.to_mac() {
            Ok(mac) => (mac, None),
            Err(e) => (
                MacAddr6::nil(),
                Some(e.into_bad_input(InputKind::MacAddress, "guest MAC")),
            ),
        };
        MacvtapNicConfig {
            lower: lower.into(),
            guest_mac,
            mode: MacvtapMode::Bridge,
            name: None,
            queues: 1,
            vnet_hdr: true,
            mtu: None,
            bad,
        }
    }

    /// The mode (`mode bridge|vepa|private|passthru`).
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56")
    ///     .mode(bridgekit::MacvtapMode::Vepa);
    /// ```
    pub fn mode(mut self, mode: MacvtapMode) -> Self {
        self.mode = mode;
        self
    }

    /// The device's name (`macvtap0`, say); refused if taken.
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").name("macvtap0");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Number of queues, 1..=256: one `/dev/tapN` fd each (multi-queue
    /// virtio-net).
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").queues(4);
    /// ```
    pub fn queues(mut self, queues: u16) -> Self {
        self.queues = queues;
        self
    }

    /// Frames carry a `struct virtio_net_hdr` in front (`IFF_VNET_HDR`, the
    /// kernel's default for macvtap; what QEMU's vhost-net wants).
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").vnet_hdr(false);
    /// ```
    pub fn vnet_hdr(mut self, on: bool) -> Self {
        self.vnet_hdr = on;
        self
    }

    /// The MTU (at most the lower device's; by default the lower's).
    ///
    /// ```
    /// let cfg = bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").mtu(1400);
    /// ```
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    fn validate(&self) -> Result<(IfName, IfName)> {
        if let Some(bad) = &self.bad {
            return Err(bad.to_error());
        }
        validate_unicast(self.guest_mac)?;
        let lower = IfName::new(&self.lower)?;
        let name = IfName::new(self.name.clone().unwrap_or_else(random_name))?;
        if !(1..=MAX_MACVTAP_QUEUES).contains(&self.queues) {
            return Err(Error::invalid(
                InputKind::QueueCount,
                format!("macvtap queue count {}", self.queues),
                format!("must be within 1..={MAX_MACVTAP_QUEUES}"),
            ));
        }
        if let Some(mtu) = self.mtu {
            validate_mtu(mtu)?;
        }
        Ok((lower, name))
    }
}

/// A guest's "direct" NIC: a macvtap device on a lower device, up, with
/// its queue fds (`ip link add link LOWER name NAME address MAC type
/// macvtap mode MODE`, then `/dev/tapIFINDEX` opened once per queue).
///
/// The fds are close-on-exec; a VMM child must clear `FD_CLOEXEC` in
/// `pre_exec` to inherit them. Dropping the `MacvtapNic` closes them; the
/// device stays until [`delete`](Self::delete) or until its lower device
/// goes away.
///
/// ```no_run
/// use bridgekit::{MacvtapNic, MacvtapNicConfig};
/// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
/// let nic = MacvtapNic::create(&nl, MacvtapNicConfig::new("eth0", "52:54:00:12:34:56").queues(2)).await?;
/// println!("{} has {} queues", nic.name(), nic.queue_fds().len());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MacvtapNic {
    nl: Netlink,
    name: IfName,
    index: u32,
    mac: MacAddr6,
    mode: MacvtapMode,
    queues: Vec<OwnedFd>,
}

impl MacvtapNic {
    /// Creates the device with the guest's MAC and the mode in one
    /// request, sets its MTU, brings it up and opens its queues (`ip link
    /// add NAME link LOWER address MAC type macvtap mode MODE`, `ip link
    /// set NAME mtu MTU up`, then `open("/dev/tapIFINDEX")` and TUNSETIFF
    /// once per queue). If any
    /// step fails the device is deleted and the first error returned; like
    /// the other multi-step calls it runs to its end (done, or undone)
    /// even if its future is dropped.
    ///
    /// The queue fds are opened through the device node the kernel made
    /// for it (`/dev/tapIFINDEX`), checked against the device numbers in
    /// the namespace's sysfs: a node of the same name from another
    /// namespace (ifindexes repeat across namespaces) is never opened.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, MAC, queue count or MTU
    /// (nothing sent); [`Error::NotFound`] for a missing lower device;
    /// [`Error::Unsupported`] on a kernel without macvtap
    /// (`CONFIG_MACVTAP`); [`Error::AlreadyExists`] for a name in use;
    /// [`Error::Io`] when the queue device cannot be opened.
    ///
    /// ```no_run
    /// # async fn f(nl: bridgekit::Netlink) -> Result<(), bridgekit::Error> {
    /// let nic = bridgekit::MacvtapNic::create(&nl, bridgekit::MacvtapNicConfig::new("eth0", "52:54:00:12:34:56")).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::CreateMacvtapNic.name(), iface = %config.lower), err(Display))]
    pub async fn create(nl: &Netlink, config: MacvtapNicConfig) -> Result<MacvtapNic> {
        let (lower, name) = config.validate()?;
        let op = Op::CreateMacvtapNic;
        let nl = nl.clone();
        run_to_end(&nl.clone(), async move {
            let lower_link = nl
                .link(op, lower.as_str(), LinkRef::Name(lower.as_str()))
                .await?;
            nl.create_macvtap(
                op,
                name.as_str(),
                lower_link.index,
                config.guest_mac,
                config.mode,
            )
            .await
            .map_err(|e| match e {
                Error::Unsupported { op, iface, .. } => Error::Unsupported {
                    op,
                    iface,
                    detail: "this kernel has no macvtap link kind (CONFIG_MACVTAP)".into(),
                },
                e => e,
            })?;
            let made = async {
                let link = nl
                    .link(op, name.as_str(), LinkRef::Name(name.as_str()))
                    .await?;
                if config.mode != MacvtapMode::Passthru && link.mac != Some(config.guest_mac) {
                    return Err(Error::NotApplied {
                        op,
                        iface: name.clone(),
                        what: "MAC".into(),
                        expected: crate::values::mac::lower(config.guest_mac),
                        actual: link
                            .mac
                            .map_or_else(|| "nothing".into(), crate::values::mac::lower),
                    });
                }
                let change = LinkChange {
                    mtu: config.mtu.filter(|m| *m != link.mtu),
                    up: Some(true),
                    ..LinkChange::default()
                };
                nl.set_link(op, name.as_str(), link.index, &change).await?;
                let queues = open_queues(&nl, &name, link.index, config.queues, config.vnet_hdr)
                    .await
                    .map_err(|e| Error::device_open(op, name.as_str(), e))?;
                Ok::<_, Error>(MacvtapNic {
                    nl: nl.clone(),
                    name: name.clone(),
                    index: link.index,
                    mac: link.mac.unwrap_or(config.guest_mac),
                    mode: config.mode,
                    queues,
                })
            }
            .await;
            match made {
                Err(e) => {
                    let mut journal = Journal::new();
                    journal.made(Step::LinkNamed(op, name.as_str().into()));
                    Err(e.with_undo_failures(journal.rollback(&nl).await))
                }
                ok => ok,
            }
        })
        .await
    }

    /// The traffic counters of the device (`ip -s link show`). The device
    /// is the guest's own interface on the lower device, so `rx` is what
    /// came in for the guest (to its queues, or dropped there) and `tx`
    /// what it sent: the other way round from a tap's. One request.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) if it is gone; kernel
    /// errors.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::MacvtapNic) -> Result<(), bridgekit::Error> {
    /// let c = nic.counters().await?;
    /// println!("the guest sent {} packets, {} were dropped on the way to it", c.tx_packets, c.rx_dropped);
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
        let (nl, name, index) = (self.nl.clone(), self.name.to_string(), self.index);
        async move { nl.counters(Op::ReadCounters, &name, index).await }
    }

    /// The device's name.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { println!("{}", nic.name()); }
    /// ```
    #[must_use]
    pub fn name(&self) -> &IfName {
        &self.name
    }

    /// The device's ifindex (the `N` of `/dev/tapN`).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { println!("{}", nic.index()); }
    /// ```
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The device's MAC: the guest's (in passthru mode, the lower device's).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { println!("{}", nic.mac()); }
    /// ```
    #[must_use]
    pub fn mac(&self) -> MacAddr6 {
        self.mac
    }

    /// The mode it was made with.
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { println!("{}", nic.mode()); }
    /// ```
    #[must_use]
    pub fn mode(&self) -> MacvtapMode {
        self.mode
    }

    /// The queue fds, one per queue, for the VMM (close-on-exec).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { println!("{} queues", nic.queue_fds().len()); }
    /// ```
    #[must_use]
    pub fn queue_fds(&self) -> &[OwnedFd] {
        &self.queues
    }

    /// Takes the queue fds, leaving the device in place (delete it later
    /// with `ip link del`, or by deleting the lower device).
    ///
    /// ```no_run
    /// # fn f(nic: bridgekit::MacvtapNic) { let fds = nic.into_fds(); }
    /// ```
    #[must_use]
    pub fn into_fds(self) -> Vec<OwnedFd> {
        self.queues
    }

    /// Closes the queues and deletes the device.
    ///
    /// # Errors
    /// Kernel errors from the delete; [`Error::NotFound`] if it is gone.
    ///
    /// ```no_run
    /// # async fn f(nic: bridgekit::MacvtapNic) -> Result<(), bridgekit::Error> {
    /// nic.delete().await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(name = "bridgekit", skip_all, fields(op = crate::Op::DeleteMacvtapNic.name(), iface = %self.name), err(Display))]
    pub async fn delete(self) -> Result<()> {
        let MacvtapNic {
            nl,
            name,
            index,
            queues,
            ..
        } = self;
        drop(queues);
        nl.delete_link(Op::DeleteMacvtapNic, name.as_str(), index)
            .await
    }
}

/// Opens `count` queues of the macvtap `name` (ifindex `index`): each open
/// of its character device is a queue. The device's numbers come from the
/// namespace's own sysfs; `/dev/tapINDEX` is used when it is that device,
/// else a private node made for the moment.
async fn open_queues(
    nl: &Netlink,
    name: &IfName,
    index: u32,
    count: u16,
    vnet_hdr: bool,
) -> io::Result<Vec<OwnedFd>> {
    let iface = name.to_string();
    let attr = format!("macvtap/tap{index}/dev");
    let dev = nl
        .in_netns(move |env| env.read_sysfs_attr(&iface, &attr))
        .await?;
    let (major, minor) = dev
        .split_once(':')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or_else(|| io::Error::other(format!("unexpected device numbers {dev:?}")))?;
    let rdev = libc::makedev(major, minor);
    tokio::task::spawn_blocking(move || {
        let node = format!("/dev/tap{index}");
        let queues: io::Result<Vec<OwnedFd>> = match std::fs::metadata(&node) {
            Ok(m) if m.file_type().is_char_device() && m.rdev() == rdev => {
                (0..count).map(|_| open_queue(&node, vnet_hdr)).collect()
            }
            // Missing (no devtmpfs or udev yet), or another namespace's.
            _ => with_private_node(rdev, |path| {
                (0..count).map(|_| open_queue(path, vnet_hdr)).collect()
            }),
        };
        queues
    })
    .await
    .map_err(io::Error::other)?
}

/// Runs `f` with the path of a character device node for `rdev` made in a
/// private directory, removed afterwards.
fn with_private_node<T>(rdev: libc::dev_t, f: impl FnOnce(&str) -> io::Result<T>) -> io::Result<T> {
    let dir = std::env::temp_dir().join(format!(
        "bridgekit-macvtap-{}",
        crate::values::name::random_tag()
    ));
    std::fs::create_dir(&dir)?;
    let path = dir.join("tap");
    use nix::sys::stat::{Mode, SFlag, mknod};
    let result = match mknod(&path, SFlag::S_IFCHR, Mode::S_IRUSR | Mode::S_IWUSR, rdev) {
        Ok(()) => f(&path.to_string_lossy()),
        Err(e) => Err(io::Error::from(e)),
    };
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    result
}

/// Opens one queue, close-on-exec (as `VmNic`'s), with `IFF_VNET_HDR`
/// set or cleared as asked (TUNSETIFF on a macvtap takes only the
/// feature flags).
fn open_queue(path: &str, vnet_hdr: bool) -> io::Result<OwnedFd> {
    let file: File = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)?;
    let mut flags = libc::IFF_TAP | libc::IFF_NO_PI;
    if vnet_hdr {
        flags |= libc::IFF_VNET_HDR;
    }
    crate::sys::tap::set_iff(&file, "", flags)?;
    Ok(file.into())
}

/// `mvt` and eight hex digits, different for each call.
fn random_name() -> String {
    format!("mvt{}", crate::values::name::random_tag())
}
