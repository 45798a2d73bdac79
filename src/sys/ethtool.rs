//! A device's features as `ethtool -k` shows them, through the
//! `SIOCETHTOOL` ioctl (`<linux/ethtool.h>`): the names of the feature
//! bits (`ETHTOOL_GSTRINGS` of the `ETH_SS_FEATURES` set) and which are
//! active (`ETHTOOL_GFEATURES`).
//!
//! Names, not bit numbers: the kernel numbers its feature bits as it
//! pleases from one version to the next; the names are its ABI. The
//! generic-netlink ethtool family answers the same and more, but needs a
//! socket of another family and Linux 5.6+; these ioctls work on every
//! kernel bridgekit supports and need no privilege. Runs in the calling
//! thread's network namespace.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSSET_INFO: u32 = 0x37;
const ETHTOOL_GFEATURES: u32 = 0x3a;
const ETH_SS_FEATURES: u32 = 4;
const ETH_GSTRING_LEN: usize = 32;

/// `struct ifreq` with `ifr_data`: the name, then a pointer at the start
/// of the 24-byte union.
#[repr(C)]
struct IfReqData {
    name: [u8; libc::IFNAMSIZ],
    data: *mut libc::c_void,
    _rest: [u8; 24 - std::mem::size_of::<usize>()],
}

const _: () = assert!(std::mem::size_of::<IfReqData>() == std::mem::size_of::<libc::ifreq>());

/// One SIOCETHTOOL call on `sock` for device `name`, with `buf` as the
/// command's struct (its first u32 is the command). `buf` is u64s so the
/// kernel's structs (which hold a `__u64`) are aligned.
fn call(sock: &OwnedFd, name: &str, buf: &mut [u64]) -> io::Result<()> {
    let mut req = IfReqData {
        name: [0; libc::IFNAMSIZ],
        data: buf.as_mut_ptr().cast(),
        _rest: [0; 24 - std::mem::size_of::<usize>()],
    };
    let bytes = name.as_bytes();
    if bytes.len() >= req.name.len() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    req.name[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: SIOCETHTOOL reads `struct ifreq` (layout checked above) and
    // reads and writes the command struct `ifr_data` points at; each
    // caller sizes `buf` for what its command writes. GFEATURES writes at
    // most the `size` blocks asked for; GSTRINGS ignores the asked `len`
    // and writes the set's own count of strings, which for ETH_SS_FEATURES
    // is a constant of the kernel: the count GSSET_INFO answered just
    // before, which sized the buffer.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL as _, &mut req) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn u32_at(buf: &[u64], index: usize) -> u32 {
    let word = buf[index / 2];
    // The structs are native-endian u32 arrays laid over u64s.
    let bytes = word.to_ne_bytes();
    let half = if index % 2 == 0 {
        &bytes[..4]
    } else {
        &bytes[4..]
    };
    u32::from_ne_bytes(half.try_into().unwrap_or([0; 4]))
}

fn set_u32(buf: &mut [u64], index: usize, value: u32) {
    let mut bytes = buf[index / 2].to_ne_bytes();
    let at = if index % 2 == 0 { 0 } else { 4 };
    bytes[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    buf[index / 2] = u64::from_ne_bytes(bytes);
}

fn as_bytes(buf: &[u64]) -> Vec<u8> {
    buf.iter().flat_map(|w| w.to_ne_bytes()).collect()
}

/// The names of `name`'s active features (`ethtool -k`'s "on" lines),
/// read in the calling thread's network namespace.
pub(crate) fn active_features(name: &str) -> io::Result<Vec<String>> {
    // SAFETY: socket() returns a new fd or -1; a new fd is owned here.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new fd nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };

    // struct ethtool_sset_info { u32 cmd, reserved; u64 sset_mask; u32 data[1] }
    let mut info = [0u64; 3];
    set_u32(&mut info, 0, ETHTOOL_GSSET_INFO);
    info[1] = 1 << ETH_SS_FEATURES;
    call(&sock, name, &mut info)?;
    if info[1] & (1 << ETH_SS_FEATURES) == 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the device names no features",
        ));
    }
    let count = u32_at(&info, 4) as usize;

    // struct ethtool_gstrings { u32 cmd, string_set, len; u8 data[len * 32] }
    let mut strings = vec![0u64; (12 + count * ETH_GSTRING_LEN).div_ceil(8)];
    set_u32(&mut strings, 0, ETHTOOL_GSTRINGS);
    set_u32(&mut strings, 1, ETH_SS_FEATURES);
    set_u32(&mut strings, 2, count as u32);
    call(&sock, name, &mut strings)?;
    let count = count.min(u32_at(&strings, 2) as usize);
    let text = as_bytes(&strings);

    // struct ethtool_gfeatures { u32 cmd, size; { u32 available, requested,
    // active, never_changed } features[size] }
    let blocks = count.div_ceil(32);
    let mut features = vec![0u64; (8 + blocks * 16).div_ceil(8)];
    set_u32(&mut features, 0, ETHTOOL_GFEATURES);
    set_u32(&mut features, 1, blocks as u32);
    call(&sock, name, &mut features)?;

    let mut active = Vec::new();
    for bit in 0..count {
        let word = u32_at(&features, 2 + (bit / 32) * 4 + 2);
        if word & (1 << (bit % 32)) == 0 {
            continue;
        }
        let at = 12 + bit * ETH_GSTRING_LEN;
        let raw = &text[at..at + ETH_GSTRING_LEN];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        active.push(String::from_utf8_lossy(&raw[..end]).into_owned());
    }
    Ok(active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32s_over_u64s() {
        let mut buf = [0u64; 2];
        set_u32(&mut buf, 0, 7);
        set_u32(&mut buf, 1, 9);
        set_u32(&mut buf, 3, 11);
        assert_eq!(
            (
                u32_at(&buf, 0),
                u32_at(&buf, 1),
                u32_at(&buf, 2),
                u32_at(&buf, 3)
            ),
            (7, 9, 0, 11)
        );
        assert_eq!(&as_bytes(&buf)[..4], &7u32.to_ne_bytes());
    }

    #[test]
    fn loopback_has_features() {
        // Every namespace has lo, whose features ethtool lists; no
        // privilege needed.
        let active = active_features("lo").expect("ethtool features of lo");
        assert!(
            active.iter().any(|f| f == "tx-checksum-ip-generic"),
            "{active:?}"
        );
    }
}
