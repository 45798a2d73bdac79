//! A VMM's network start, cloud-hypervisor style, with the blocking API and
//! no async code of its own: a bridge, a four-queue guest NIC whose queue
//! fds go to a child process (the "guest", here this program run again),
//! which really uses them — it asks for the host's MAC with ARP through one
//! queue and reads the answer from whichever queue the kernel picks — and
//! teardown.
//!
//! Runs in a private network namespace of its own, so it touches nothing on
//! your machine. Making taps needs access to `/dev/net/tun` (root, usually);
//! without it the example stops after the bridge.
//!
//! ```text
//! cargo run --example blocking_vmm
//! ```

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/private_netns.rs"]
mod private_netns;

use bridgekit::blocking::{Netlink, VmNic};
use bridgekit::{BridgeConfig, PortConfig, VmNicConfig};

const HOST_IP: [u8; 4] = [192, 168, 180, 1];
const GUEST_IP: [u8; 4] = [192, 168, 180, 10];
const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0x00, 0x01];
/// `struct virtio_net_hdr` before each frame (IFF_VNET_HDR, the default).
const VNET_HDR: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--guest") {
        return guest(&args[2..]);
    }
    private_netns::enter_private_netns()?;
    println!("running in a private network namespace");

    // 1. The bridge, as every VMM start wants it: created, or left as it is.
    let nl = Netlink::connect()?;
    let applied = nl.apply(
        &BridgeConfig::new("bkvmm0")?
            .mac("52:54:00:00:00:01")
            .mtu(1500)
            .address("192.168.180.1/24"),
    )?;
    let br = applied.bridge;
    let changes: Vec<String> = applied.changes.iter().map(|c| c.to_string()).collect();
    println!(
        "bridge {} (ifindex {}): {}",
        br.name(),
        br.index(),
        changes.join(", ")
    );

    if let Err(e) = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
    {
        println!(
            "cannot open /dev/net/tun ({e}): making taps needs root; stopping after the bridge"
        );
        br.delete()?;
        return Ok(());
    }

    // 2. The guest NIC: four queues, managed MAC table, up.
    let guest_mac = macaddr::MacAddr6::from(GUEST_MAC);
    let nic = VmNic::create(
        &br,
        VmNicConfig::new(guest_mac)
            .queues(4)
            .port(PortConfig::managed(guest_mac).up()),
    )?;
    println!(
        "guest NIC {} with {} queue fds",
        nic.name(),
        nic.queue_fds().len()
    );

    // 3. The "VMM" child gets the fds. They are close-on-exec (as they
    // must be, so no other child inherits them): clear the flag in the
    // child, between fork and exec.
    let tap = nic.name().to_string();
    let fds: Vec<OwnedFd> = nic.into_fds();
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("--guest").args(raw.iter().map(|fd| fd.to_string()));
    // SAFETY: fcntl is async-signal-safe; it touches only the listed fds.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &raw {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let status = cmd.status()?;
    // The VMM is gone: its copies of the fds are closed; ours go now, and
    // the kernel removes the (non-persistent) tap.
    drop(fds);
    if !status.success() {
        return Err(format!("the guest process failed: {status}").into());
    }

    // 4. Teardown. The tap went with its last fd; the bridge is ours to delete.
    let ports = br.ports()?;
    println!(
        "after the guest exited: {} is {}",
        tap,
        if ports.iter().any(|p| p.name == tap) {
            "still a port"
        } else {
            "gone"
        }
    );
    br.delete()?;
    println!("bridge deleted");
    Ok(())
}

/// The guest: sends an ARP request for the host's address through the
/// first queue, and waits for the reply on any queue.
fn guest(fds: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let fds: Vec<RawFd> = fds.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    let mut frame = vec![0u8; VNET_HDR];
    frame.extend_from_slice(&[0xff; 6]); // to everyone
    frame.extend_from_slice(&GUEST_MAC);
    frame.extend_from_slice(&[0x08, 0x06]); // ARP
    frame.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]); // Ethernet/IPv4, request
    frame.extend_from_slice(&GUEST_MAC);
    frame.extend_from_slice(&GUEST_IP);
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&HOST_IP);
    let send = || -> Result<(), Box<dyn std::error::Error>> {
        // SAFETY: writes from a live buffer to an fd handed to this process.
        let n = unsafe { libc::write(fds[0], frame.as_ptr().cast(), frame.len()) };
        if n != frame.len() as isize {
            return Err(format!(
                "write to queue fd {}: {}",
                fds[0],
                std::io::Error::last_os_error()
            )
            .into());
        }
        Ok(())
    };
    send()?;
    println!("guest: ARP who-has 192.168.180.1 sent on fd {}", fds[0]);

    // Asked again each second, as a guest's stack would: the port may
    // still be on its way to forwarding when the first request goes out
    // (its carrier follows the kernel's linkwatch, which may wait).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut again = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline {
        if Instant::now() >= again {
            send()?;
            again += Duration::from_secs(1);
        }
        let mut polls: Vec<libc::pollfd> = fds
            .iter()
            .map(|&fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a live array of pollfds.
        let ready = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 100) };
        if ready < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        for (queue, p) in polls.iter().enumerate() {
            if p.revents & libc::POLLIN == 0 {
                continue;
            }
            // SAFETY: reads into a live buffer from an fd handed to this process.
            let n = unsafe { libc::read(p.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < (VNET_HDR + 42) as isize {
                continue;
            }
            let f = &buf[VNET_HDR..n as usize];
            let is_reply = f[12..14] == [0x08, 0x06] && f[20..22] == [0, 2] && f[28..32] == HOST_IP;
            if is_reply {
                println!(
                    "guest: 192.168.180.1 is at {} (reply read on queue {queue})",
                    f[22..28]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(":")
                );
                return Ok(());
            }
        }
    }
    Err("guest: no ARP reply from the host within 5 s".into())
}
