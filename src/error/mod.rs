//! The crate's error type, and where kernel errnos get their meaning,
//! whether netlink or a system call answered them. One explanation needs
//! the kernel's word on more than the errno and stays with its caller: a
//! missing `/proc/sys/net/ipv6/conf/LINK` file (ENOENT) is a gone link or
//! one without IPv6, told apart by a lookup (`engine/ipv6.rs`).

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use crate::values::name::IfName;

mod input;
mod message;
mod op;

pub(crate) use input::BadInput;
use message::{
    dad_timeout_message, entry_words, errno_message, errno_name, join_errors, kernel_words,
    not_forwarding_message, of_bridge, permission_message, subject,
};

pub use input::InputKind;
pub use op::Op;

/// `Result` with bridgekit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in bridgekit.
///
/// Each variant says what was attempted ([`Op`]), on which interface, and
/// what the kernel answered, in words. Input that can never be valid is
/// rejected as [`Error::InvalidInput`] before any netlink message is sent.
///
/// ```
/// use bridgekit::{Error, IfName};
/// let err = IfName::new("a/b").unwrap_err();
/// assert!(matches!(err, Error::InvalidInput { what: bridgekit::InputKind::InterfaceName, .. }));
/// assert_eq!(err.to_string(), "invalid interface name \"a/b\": contains '/'");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input rejected before anything was sent to the kernel.
    #[error("invalid {input}: {reason}")]
    InvalidInput {
        /// Which kind of input, to match on.
        what: InputKind,
        /// The input as the message names it, with its value
        /// (`interface name "a/b"`, `VLAN id 4095`).
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The interface does not exist (the kernel answered ENODEV or
    /// ENOENT, or bridgekit found no such link).
    #[error("{op} {iface}{}: no such interface", of_bridge(bridge))]
    NotFound {
        /// What was attempted.
        op: Op,
        /// The interface (`#index` when the kernel knew it by index only).
        iface: IfName,
        /// The kernel's errno, as it answered (`None` when bridgekit found
        /// the interface missing itself, in a dump).
        errno: Option<i32>,
        /// The bridge, when the missing interface was to be its port
        /// (attach, detach, configure, `apply`).
        bridge: Option<IfName>,
    },
    /// The interface exists but the entry asked for (an FDB entry, an
    /// address, a VLAN) does not.
    #[error("{op} {iface}: {entry} not present")]
    NoSuchEntry {
        /// What was attempted.
        op: Op,
        /// The interface.
        iface: IfName,
        /// The entry, in words (`FDB entry 52:54:00:00:00:01 vlan 10`).
        entry: String,
        /// The kernel's errno, as it answered (ENOENT for an FDB entry,
        /// EADDRNOTAVAIL for an address; `None` when bridgekit found the
        /// entry missing itself).
        errno: Option<i32>,
    },
    /// An interface of that name, or the entry asked for on it (an
    /// address), already exists (EEXIST).
    #[error("{op} {iface}: {} already exists", entry.as_deref().unwrap_or("it"))]
    AlreadyExists {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
        /// The entry that exists on the interface (`address
        /// 192.0.2.1/24`); `None` when the interface itself does.
        entry: Option<String>,
    },
    /// The interface exists but is not a bridge.
    #[error("{op} {iface}: interface exists but is a {kind}, not a bridge")]
    NotABridge {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
        /// The link kind the kernel reports (`veth`, `tun`, `device` for a physical NIC).
        kind: String,
    },
    /// The port already belongs to another bridge; bridgekit never moves it silently.
    #[error("{op} {port}: already a port of bridge {bridge}")]
    PortBusy {
        /// What was attempted.
        op: Op,
        /// The port.
        port: IfName,
        /// The bridge it belongs to (`#index` if it went before its name
        /// was read).
        bridge: IfName,
    },
    /// The interface is not a port of this bridge.
    #[error("{op} {port}: not a port of bridge {bridge}")]
    NotAPort {
        /// What was attempted.
        op: Op,
        /// The interface.
        port: IfName,
        /// The bridge it was expected on.
        bridge: IfName,
    },
    /// The caller lacks CAP_NET_ADMIN over the network namespace (EPERM),
    /// or, for a sysctl ([`Op::SetIpv6Sysctl`]), may not write it.
    #[error("{}", permission_message(*op, iface.as_ref(), netns.as_deref()))]
    PermissionDenied {
        /// What was attempted.
        op: Op,
        /// The interface; `None` for a namespace or the connection itself
        /// ([`Op::Connect`]).
        iface: Option<IfName>,
        /// The network namespace's path, when joining it was refused.
        netns: Option<PathBuf>,
    },
    /// The running kernel cannot do this (EOPNOTSUPP, missing config).
    #[error("{op} {iface}: not supported by this kernel ({detail})")]
    Unsupported {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
        /// What the kernel said, or which feature is missing.
        detail: String,
    },
    /// An operation failed, and taking back what it had done failed too:
    /// the interfaces it touched may be half-configured. `cause` is the
    /// first error (what the operation alone would have returned); `undo`
    /// has each undo step that failed, in the order they were tried.
    /// Applying the desired state again converges (see
    /// [`BridgeConfig::apply`](crate::BridgeConfig::apply)).
    #[error("{cause}; undoing it failed too: {}", join_errors(undo))]
    UndoFailed {
        /// The error that made the operation stop.
        #[source]
        cause: Box<Error>,
        /// The undo steps that failed.
        undo: Vec<Error>,
    },
    /// The kernel acknowledged a change but reading it back shows it was not applied.
    #[error(
        "{op} {iface}: kernel accepted the request but {what} reads back as {actual}, not {expected}"
    )]
    NotApplied {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
        /// The attribute that did not change.
        what: String,
        /// What was asked for.
        expected: String,
        /// What the kernel reports.
        actual: String,
    },
    /// IPv6 is turned off on the interface (`disable_ipv6=1`), so it takes
    /// no IPv6 address.
    #[error(
        "{op} {iface}: IPv6 is off on this interface (disable_ipv6=1, which bridgekit sets on a \
         bridge whose config names only IPv4 addresses); turn it on first with \
         BridgeConfig::disable_ipv6(false) or Bridge::set_disable_ipv6(false)"
    )]
    Ipv6Disabled {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
    },
    /// IPv6 duplicate address detection found another host using the address.
    #[error(
        "IPv6 duplicate address detection failed on {bridge}: {address} is already in use on the link"
    )]
    DadFailed {
        /// The bridge.
        bridge: IfName,
        /// The duplicate address, now flagged `dadfailed` by the kernel.
        address: Ipv6Addr,
    },
    /// IPv6 duplicate address detection did not finish in time.
    #[error("{}", dad_timeout_message(bridge.as_str(), tentative, *carrier))]
    DadTimeout {
        /// The bridge.
        bridge: IfName,
        /// Addresses still `tentative` when the time ran out.
        tentative: Vec<Ipv6Addr>,
        /// Whether the bridge had carrier. Without carrier the kernel never starts DAD.
        carrier: bool,
    },
    /// A port did not reach the forwarding state in time
    /// ([`Bridge::wait_forwarding`](crate::Bridge::wait_forwarding)).
    #[error("{}", not_forwarding_message(bridge.as_str(), port.as_str(), *state, *port_up, *bridge_up, *stp, *forward_delay))]
    NotForwarding {
        /// The bridge.
        bridge: IfName,
        /// The port.
        port: IfName,
        /// Its STP state when the time ran out.
        state: crate::values::link_state::PortState,
        /// Whether the port was up with carrier.
        port_up: bool,
        /// Whether the bridge was up.
        bridge_up: bool,
        /// Whether the bridge runs STP.
        stp: bool,
        /// The bridge's forward delay (a port spends one listening and one
        /// learning with STP on).
        forward_delay: std::time::Duration,
    },
    /// Any other errno from the kernel, with the kernel's own words where
    /// it gave some (its extended acknowledgement, what `ip` prints as
    /// `Error: ...`).
    #[error(
        "{op} {iface}{}: kernel answered {errno_name} ({message}){}",
        entry_words(entry),
        kernel_words(kernel_message)
    )]
    Netlink {
        /// What was attempted.
        op: Op,
        /// The interface name.
        iface: IfName,
        /// The entry on the interface the request was about, in words
        /// (`address 192.0.2.1/24`); `None` for the interface itself.
        entry: Option<String>,
        /// The positive errno value.
        errno: i32,
        /// The errno's symbolic name (`EINVAL`, `ERANGE`, ...).
        errno_name: &'static str,
        /// The errno's description.
        message: String,
        /// The kernel's extended-ack message (`Can not enslave a bridge
        /// to a bridge`), when it sent one.
        kernel_message: Option<String>,
    },
    /// A [`blocking`](crate::blocking) call made on a thread that runs
    /// async tasks (inside a tokio runtime): blocking it would stall the
    /// runtime's other tasks, or deadlock a single-threaded one. Nothing
    /// was sent. Use the async API there, or call from a thread of your
    /// own (`std::thread::spawn`, `tokio::task::spawn_blocking` is not
    /// enough: it runs inside the runtime's context).
    #[error(
        "{op}{}: bridgekit::blocking called from inside an async (tokio) runtime; \
         use the async API there, or call from a plain thread",
        subject(iface, &None)
    )]
    BlockingInsideRuntime {
        /// What was attempted.
        op: Op,
        /// The interface; `None` for the connection itself ([`Op::Connect`]).
        iface: Option<IfName>,
    },
    /// A local I/O error (netlink socket, namespace file, sysfs).
    #[error("{op}{}: {source}", subject(iface, netns))]
    Io {
        /// What was attempted.
        op: Op,
        /// The interface; `None` for a namespace or the connection itself.
        iface: Option<IfName>,
        /// The network namespace's path, when opening or joining it failed.
        netns: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// [`name`], or `None` for the empty string: what a call made on no
/// interface (a connection, [`Op::Connect`]) passes.
pub(crate) fn subject_name(iface: &str) -> Option<IfName> {
    (!iface.is_empty()).then(|| IfName::from_kernel(iface))
}

impl Error {
    /// A missing interface ([`Error::NotFound`]) named as the port of
    /// `bridge` it was to be; any other error as it is.
    pub(crate) fn into_port_of(self, bridge: &str) -> Error {
        match self {
            Error::NotFound {
                op, iface, errno, ..
            } => Error::NotFound {
                op,
                iface,
                errno,
                bridge: Some(IfName::from_kernel(bridge)),
            },
            e => e,
        }
    }
}

impl Error {
    pub(crate) fn invalid(
        what: InputKind,
        input: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            what,
            input: input.into(),
            reason: reason.into(),
        }
    }

    /// The parts of an [`Error::InvalidInput`]; any other error back as
    /// it was.
    pub(crate) fn invalid_parts(self) -> std::result::Result<BadInput, Error> {
        match self {
            Error::InvalidInput {
                what,
                input,
                reason,
            } => Ok(BadInput {
                what,
                input,
                reason,
            }),
            e => Err(e),
        }
    }

    /// The parts of an [`Error::InvalidInput`], for a builder that keeps
    /// its first bad input until `validate`; any other error as the
    /// reason `input` (of kind `what`) was refused.
    pub(crate) fn into_bad_input(self, what: InputKind, input: &str) -> BadInput {
        self.invalid_parts().unwrap_or_else(|e| BadInput {
            what,
            input: input.to_string(),
            reason: e.to_string(),
        })
    }

    /// Maps a kernel errno (positive) to the variant that carries its meaning.
    #[cfg(any(test, feature = "test-hooks"))]
    pub(crate) fn from_errno(op: Op, iface: &str, errno: i32) -> Self {
        Error::from_kernel(op, iface, errno, None)
    }

    /// Maps a kernel answer, an errno (positive) and the kernel's
    /// extended-ack message if it sent one, to the variant that carries
    /// its meaning.
    pub(crate) fn from_kernel(
        op: Op,
        iface: &str,
        errno: i32,
        kernel_message: Option<String>,
    ) -> Self {
        let iface = IfName::from_kernel(iface);
        match errno {
            libc::ENODEV | libc::ENOENT => Error::NotFound {
                op,
                iface,
                errno: Some(errno),
                bridge: None,
            },
            libc::EEXIST => Error::AlreadyExists {
                op,
                iface,
                entry: None,
            },
            libc::EPERM => Error::PermissionDenied {
                op,
                iface: Some(iface),
                netns: None,
            },
            libc::EOPNOTSUPP => Error::Unsupported {
                op,
                iface,
                detail: match kernel_message {
                    Some(m) => format!("EOPNOTSUPP: {m}"),
                    None => "EOPNOTSUPP".into(),
                },
            },
            _ => Error::Netlink {
                op,
                iface,
                errno,
                entry: None,
                errno_name: errno_name(errno),
                message: errno_message(errno),
                kernel_message,
            },
        }
    }

    /// The errnos whose meaning depends on what was asked, read in
    /// bridgekit's words. All of them live here, next to
    /// [`from_kernel`](Self::from_kernel), so that a new operation reuses
    /// a reading instead of writing its own.
    ///
    /// An address removal refused with EADDRNOTAVAIL: the address is not on
    /// the link ([`Error::NoSuchEntry`]).
    pub(crate) fn address_absent(self, net: ipnet::IpNet) -> Error {
        match self {
            Error::Netlink {
                op, iface, errno, ..
            } if errno == libc::EADDRNOTAVAIL => Error::NoSuchEntry {
                op,
                iface,
                entry: format!("address {net}"),
                errno: Some(errno),
            },
            other => other.about_address(net),
        }
    }

    /// An address add refused: EEXIST is the address that exists (not the
    /// interface), and EACCES for an IPv6 address means the link's IPv6 is
    /// turned off (`disable_ipv6=1`), not "permission denied".
    pub(crate) fn address_refused(self, net: ipnet::IpNet) -> Error {
        match self {
            Error::AlreadyExists { op, iface, .. } => Error::AlreadyExists {
                op,
                iface,
                entry: Some(format!("address {net}")),
            },
            Error::Netlink { iface, errno, .. }
                if errno == libc::EACCES && net.addr().is_ipv6() =>
            {
                Error::Ipv6Disabled {
                    op: Op::AddAddress,
                    iface,
                }
            }
            other => other.about_address(net),
        }
    }

    /// Any other errno the kernel answered to an address request, with
    /// the address in its own field.
    fn about_address(self, net: ipnet::IpNet) -> Error {
        match self {
            Error::Netlink {
                op,
                iface,
                errno,
                errno_name,
                message,
                kernel_message,
                ..
            } => Error::Netlink {
                op,
                iface,
                entry: Some(format!("address {net}")),
                errno,
                errno_name,
                message,
                kernel_message,
            },
            other => other,
        }
    }

    /// An FDB entry removal answered ENOENT: the entry is not there
    /// ([`Error::NoSuchEntry`]), the port is (it was read just before).
    pub(crate) fn fdb_absent(self, entry: String) -> Error {
        match self {
            Error::NotFound {
                op, iface, errno, ..
            } => Error::NoSuchEntry {
                op,
                iface,
                entry,
                errno,
            },
            other => other,
        }
    }

    /// TUNSETIFF refused: EBUSY or EEXIST is a device of that name already
    /// there.
    pub(crate) fn tap_create(op: Op, iface: &str, source: std::io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::EBUSY | libc::EEXIST) => Error::AlreadyExists {
                op,
                iface: IfName::from_kernel(iface),
                entry: None,
            },
            _ => Error::io(op, iface, source),
        }
    }

    /// A sysctl write refused for want of rights: EPERM or EACCES (no
    /// CAP_NET_ADMIN over the namespace, not its root) or EROFS
    /// (`/proc/sys` mounted read-only, as in containers). `None` for
    /// another errno.
    pub(crate) fn sysctl_denied(op: Op, iface: &str, source: &std::io::Error) -> Option<Self> {
        match source.raw_os_error() {
            Some(libc::EPERM | libc::EACCES | libc::EROFS) => Some(Error::PermissionDenied {
                op,
                iface: Some(IfName::from_kernel(iface)),
                netns: None,
            }),
            _ => None,
        }
    }

    /// Opening a device node (a macvtap queue, `/dev/tapN`) failed: EACCES
    /// too is [`Error::PermissionDenied`], since the node is the host
    /// root's and a user namespace may not make one of its own (mknod);
    /// so is a denied mount of the namespace's sysfs on the way there (an
    /// error of that kind that carries no errno of its own).
    pub(crate) fn device_open(op: Op, iface: &str, source: std::io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => Error::PermissionDenied {
                op,
                iface: Some(IfName::from_kernel(iface)),
                netns: None,
            },
            None if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Error::PermissionDenied {
                    op,
                    iface: Some(IfName::from_kernel(iface)),
                    netns: None,
                }
            }
            _ => Error::io(op, iface, source),
        }
    }

    /// A local I/O error on interface `iface`.
    pub(crate) fn io(op: Op, iface: &str, source: std::io::Error) -> Self {
        Error::local(op, subject_name(iface), None, source)
    }

    /// A local I/O error of the connection itself, on no interface
    /// ([`Op::Connect`], or a connection that stopped).
    pub(crate) fn connection(op: Op, source: std::io::Error) -> Self {
        Error::local(op, None, None, source)
    }

    /// Opening or joining the network namespace at `path` failed.
    pub(crate) fn netns(op: Op, path: &Path, source: std::io::Error) -> Self {
        Error::local(op, None, Some(path.to_path_buf()), source)
    }

    pub(crate) fn local(
        op: Op,
        iface: Option<IfName>,
        netns: Option<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        // An errno that the kernel answered through a syscall has the same meaning
        // as one answered through netlink.
        match source.raw_os_error() {
            Some(libc::EPERM) => Error::PermissionDenied { op, iface, netns },
            _ => Error::Io {
                op,
                iface,
                netns,
                source,
            },
        }
    }

    /// The kernel errno behind this error, if the kernel answered with one.
    ///
    /// ```
    /// use bridgekit::{Error, IfName};
    /// assert_eq!(IfName::new("").unwrap_err().errno(), None);
    /// ```
    #[must_use]
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::UndoFailed { cause, .. } => cause.errno(),
            Error::NotFound { errno, .. } | Error::NoSuchEntry { errno, .. } => *errno,
            Error::AlreadyExists { .. } => Some(libc::EEXIST),
            Error::PermissionDenied { .. } => Some(libc::EPERM),
            Error::Ipv6Disabled { .. } => Some(libc::EACCES),
            Error::Netlink { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl Error {
    /// The error that made an operation stop: for [`Error::UndoFailed`] its
    /// `cause`, otherwise the error itself.
    ///
    /// ```
    /// let e = bridgekit::IfName::new("").unwrap_err();
    /// assert!(matches!(e.cause(), bridgekit::Error::InvalidInput { .. }));
    /// ```
    #[must_use]
    pub fn cause(&self) -> &Error {
        match self {
            Error::UndoFailed { cause, .. } => cause,
            e => e,
        }
    }

    /// `self`, or with undo failures: [`Error::UndoFailed`].
    pub(crate) fn with_undo_failures(self, undo: Vec<Error>) -> Error {
        if undo.is_empty() {
            self
        } else {
            Error::UndoFailed {
                cause: Box::new(self),
                undo,
            }
        }
    }
}

#[cfg(test)]
mod tests;
