//! The error type's unit tests: errno meanings, messages, and the
//! constructors' field choices.

use super::*;

#[test]
fn a_denied_device_open_is_permission_denied() {
    use std::io;
    let open = |e| Error::device_open(Op::CreateMacvtapNic, "mvtap0", e);
    for e in [
        io::Error::from_raw_os_error(libc::EACCES),
        io::Error::from_raw_os_error(libc::EPERM),
        // A denied sysfs mount on the way, told as its kind only.
        io::Error::new(io::ErrorKind::PermissionDenied, "cannot mount sysfs"),
    ] {
        assert!(matches!(open(e), Error::PermissionDenied { .. }));
    }
    assert!(matches!(
        open(io::Error::from_raw_os_error(libc::ENOENT)),
        Error::Io { .. }
    ));
}
use crate::values::sysctl::Ipv6Sysctl;

#[test]
fn errno_maps_to_meaning() {
    assert!(matches!(
        Error::from_errno(Op::OpenBridge, "br0", libc::ENODEV),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        Error::from_errno(Op::CreateBridge, "br0", libc::EEXIST),
        Error::AlreadyExists { .. }
    ));
    assert!(matches!(
        Error::from_errno(Op::SetBridgeOptions, "br0", libc::EOPNOTSUPP),
        Error::Unsupported { .. }
    ));
    let e = Error::from_errno(Op::SetMtu, "br0", libc::EINVAL);
    assert_eq!(
        e.to_string(),
        "set MTU of br0: kernel answered EINVAL (Invalid argument)"
    );
    assert_eq!(e.errno(), Some(libc::EINVAL));
    let e = Error::from_errno(Op::RemoveFdb, "br0", libc::ENOENT);
    assert_eq!(
        e.errno(),
        Some(libc::ENOENT),
        "errno is what the kernel said"
    );
    let e = Error::from_kernel(
        Op::AttachPort,
        "br1",
        libc::ELOOP,
        Some("Can not enslave a bridge to a bridge".into()),
    );
    assert_eq!(
        e.to_string(),
        "attach port br1: kernel answered ELOOP (Too many levels of symbolic links): \
         Can not enslave a bridge to a bridge"
    );
}

#[test]
fn dad_timeout_without_carrier_names_the_ways_out() {
    let e = Error::DadTimeout {
        bridge: IfName::from_kernel("br0"),
        tentative: vec!["fd00::1".parse().unwrap()],
        carrier: false,
    };
    let text = e.to_string();
    assert!(text.contains("fd00::1"), "{text}");
    assert!(text.contains("no carrier"), "{text}");
    assert!(text.contains("nodad"), "{text}");
}

#[test]
fn sysctl_errors_name_the_sysctl() {
    let e = Error::PermissionDenied {
        op: Op::SetIpv6Sysctl(Ipv6Sysctl::AcceptRa),
        iface: Some(IfName::from_kernel("br0")),
        netns: None,
    };
    let text = e.to_string();
    assert!(
        text.contains("/proc/sys/net/ipv6/conf/br0/accept_ra"),
        "{text}"
    );
    assert!(
        text.starts_with("set IPv6 sysctl accept_ra of br0"),
        "{text}"
    );
}

#[test]
fn the_address_of_an_address_error_is_a_field_of_its_own() {
    let net: ipnet::IpNet = "192.0.2.1/24".parse().unwrap();
    let e = Error::from_errno(Op::AddAddress, "br0", libc::EINVAL).address_refused(net);
    let Error::Netlink { iface, entry, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(iface, "br0");
    assert_eq!(entry.as_deref(), Some("address 192.0.2.1/24"));
    assert_eq!(
        e.to_string(),
        "add address to br0 (address 192.0.2.1/24): kernel answered EINVAL (Invalid argument)"
    );
    let e = Error::from_errno(Op::AddAddress, "br0", libc::EEXIST).address_refused(net);
    assert!(
        matches!(&e, Error::AlreadyExists { iface, entry: Some(a), .. } if iface == "br0" && a == "address 192.0.2.1/24"),
        "{e:?}"
    );
    let e = Error::from_errno(Op::RemoveAddress, "br0", libc::EADDRNOTAVAIL).address_absent(net);
    assert!(
        matches!(&e, Error::NoSuchEntry { iface, .. } if iface == "br0"),
        "{e:?}"
    );
}

#[test]
fn connection_and_namespace_errors_name_no_interface() {
    use std::io;
    let e = Error::connection(Op::Connect, io::Error::from_raw_os_error(libc::EMFILE));
    assert!(
        matches!(
            &e,
            Error::Io {
                iface: None,
                netns: None,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("connect to netlink: "), "{e}");
    let path = Path::new("/proc/4242/ns/net");
    let e = Error::netns(
        Op::Connect,
        path,
        io::Error::from_raw_os_error(libc::ENOENT),
    );
    assert!(
        matches!(&e, Error::Io { iface: None, netns: Some(p), .. } if p == path),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("connect to netlink in network namespace /proc/4242/ns/net: "),
        "{e}"
    );
    let e = Error::netns(Op::Connect, path, io::Error::from_raw_os_error(libc::EPERM));
    assert!(
        matches!(
            &e,
            Error::PermissionDenied {
                iface: None,
                netns: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("CAP_SYS_ADMIN"), "{e}");
}

#[test]
fn errors_are_send_sync() {
    fn check<T: Send + Sync + std::error::Error + 'static>() {}
    check::<Error>();
}
