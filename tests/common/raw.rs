//! A second, independent view of a bridge port's options for the ones the
//! installed iproute2 is too old to print (`mab`, `neigh_vlan_suppress`
//! with iproute2 6.1): one RTM_GETLINK on a plain netlink socket, parsed
//! here byte by byte — not through netlink-packet-route, which bridgekit
//! itself uses.

use std::ffi::CString;

const RTM_GETLINK: u16 = 18;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_SLAVE_DATA: u16 = 5;
const NLA_TYPE_MASK: u16 = 0x3fff;
pub const IFLA_BRPORT_BACKUP_PORT: u16 = 34;
pub const IFLA_BRPORT_MAB: u16 = 40;
pub const IFLA_BRPORT_NEIGH_VLAN_SUPPRESS: u16 = 43;

/// The payload of bridge port attribute `attr` (`IFLA_BRPORT_*`) of
/// `port`, as the kernel reports it; `None` when it reports none.
pub fn brport_attr(port: &str, attr: u16) -> Option<Vec<u8>> {
    let name = CString::new(port).unwrap();
    // SAFETY: plain syscalls on a socket this function owns.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(index != 0, "no link {port}");
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE) };
    assert!(
        fd >= 0,
        "netlink socket: {}",
        std::io::Error::last_os_error()
    );
    // nlmsghdr (16) + ifinfomsg (16).
    let mut req = [0u8; 32];
    req[0..4].copy_from_slice(&32u32.to_ne_bytes());
    req[4..6].copy_from_slice(&RTM_GETLINK.to_ne_bytes());
    req[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[16] = libc::AF_UNSPEC as u8;
    req[20..24].copy_from_slice(&(index as i32).to_ne_bytes());
    let sent = unsafe { libc::send(fd, req.as_ptr().cast(), req.len(), 0) };
    assert_eq!(sent, 32, "send: {}", std::io::Error::last_os_error());
    let mut buf = vec![0u8; 65536];
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    unsafe { libc::close(fd) };
    assert!(n > 0, "recv: {}", std::io::Error::last_os_error());
    let msg = &buf[..n as usize];
    let ty = u16::from_ne_bytes([msg[4], msg[5]]);
    assert_ne!(ty, NLMSG_ERROR, "RTM_GETLINK {port} answered an error");
    let len = u32::from_ne_bytes(msg[0..4].try_into().unwrap()) as usize;
    let linkinfo = find(&msg[32..len], IFLA_LINKINFO)?;
    let slave = find(linkinfo, IFLA_INFO_SLAVE_DATA)?;
    find(slave, attr).map(<[u8]>::to_vec)
}

/// A u8 bridge port flag of `port` as the kernel reports it.
pub fn brport_flag(port: &str, attr: u16) -> Option<bool> {
    brport_attr(port, attr).map(|v| v[0] != 0)
}

/// The payload of attribute `ty` in a run of netlink attributes.
fn find(mut attrs: &[u8], ty: u16) -> Option<&[u8]> {
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let t = u16::from_ne_bytes([attrs[2], attrs[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > attrs.len() {
            return None;
        }
        if t == ty {
            return Some(&attrs[4..len]);
        }
        let aligned = (len + 3) & !3;
        attrs = &attrs[aligned.min(attrs.len())..];
    }
    None
}
