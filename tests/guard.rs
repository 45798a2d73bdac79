//! The guest guard: its rules as nftables shows them, and real spoofed
//! frames from a guest namespace, dropped with the guard and not without.

mod common;

use bridgekit::{Bridge, BridgeConfig, GuardRule, GuestGuard, PortConfig};
use common::*;
use serde_json::Value;

const GUEST: &str = "52:54:00:00:00:0a";

/// `nft -j list table netdev TABLE`: the objects of its answer (rules,
/// chains), or nothing if there is no such table.
fn nft_table(table: &str) -> Vec<Value> {
    let out = std::process::Command::new("nft")
        .args(["-j", "list", "table", "netdev", table])
        .output()
        .expect("nft runs");
    if !out.status.success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("nft -j output is JSON");
    v["nftables"].as_array().cloned().unwrap_or_default()
}

/// The chains of `table` as nft shows them: (name, device of its hook).
/// From the text listing: nft 1.0.6 leaves the device out of its JSON.
fn nft_chains(table: &str) -> Vec<(String, Option<String>)> {
    let out = std::process::Command::new("nft")
        .args(["list", "table", "netdev", table])
        .output()
        .expect("nft runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut chains: Vec<(String, Option<String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("chain ")
            .and_then(|l| l.strip_suffix(" {"))
        {
            chains.push((name.trim_matches('"').to_string(), None));
        } else if let Some(rest) = line.split("device ").nth(1) {
            let dev = rest.split('"').nth(1).map(str::to_string);
            if let Some(last) = chains.last_mut() {
                last.1 = dev;
            }
        }
    }
    chains
}

/// The packets counted by the drop rules whose comment names `rule`.
fn dropped(table: &str, rule: GuardRule) -> u64 {
    nft_table(table)
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| {
            r["comment"]
                .as_str()
                .is_some_and(|c| c.split(' ').nth(1) == Some(rule.name()))
        })
        .flat_map(|r| r["expr"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e.get("counter").and_then(|c| c["packets"].as_u64()))
        .sum()
}

fn guard() -> GuestGuard {
    GuestGuard::new()
        .ipv4("192.0.2.10".parse::<std::net::Ipv4Addr>().unwrap())
        .ipv6("fd00:1::10".parse::<std::net::Ipv6Addr>().unwrap())
}

#[test]
fn a_guarded_attach_installs_the_chains_on_the_ports_ingress_and_detach_removes_them() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::managed(GUEST).guest_guard(guard()).up())
            .await?;
        let chains = nft_chains("bridgekit");
        let mut names: Vec<_> = chains.iter().map(|(n, _)| n.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "br0/p0",
                "br0/p0/arp",
                "br0/p0/ip",
                "br0/p0/ip6",
                "br0/p0/nd"
            ]
        );
        let base = chains.iter().find(|(n, _)| n == "br0/p0").unwrap();
        assert_eq!(base.1.as_deref(), Some("p0"));
        assert_eq!(ip_link("p0").unwrap()["master"], "br0");
        br.detach_port("p0").await?;
        assert!(
            nft_chains("bridgekit").is_empty(),
            "{:?}",
            nft_chains("bridgekit")
        );
        Ok(())
    });
}

const MAC: [u8; 6] = [0x52, 0x54, 0, 0, 0, 0x0a];
const OTHER_MAC: [u8; 6] = [0x52, 0x54, 0, 0, 0, 0x66];
const GATEWAY: [u8; 4] = [192, 0, 2, 1];
const OWN_V4: [u8; 4] = [192, 0, 2, 10];
const NEIGHBOUR_V4: [u8; 4] = [192, 0, 2, 20];
const FOREIGN_V4: [u8; 4] = [192, 0, 2, 99];

fn v6(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

/// Each rule's attack: what a guest sends to take what is not its own.
fn attacks() -> Vec<(GuardRule, &'static str, Vec<u8>)> {
    use common::frames::*;
    let own_ll = v6("fe80::5054:ff:fe00:a");
    let all_nodes = v6("ff02::1");
    vec![
        (
            GuardRule::SourceMac,
            "a frame from a MAC not the guest's",
            eth(
                BROADCAST,
                OTHER_MAC,
                0x0800,
                &ipv4(OWN_V4, [255; 4], 17, &udp(9, 9, b"spoofed mac")),
            ),
        ),
        (
            GuardRule::Arp,
            "an ARP reply for the gateway's address",
            eth(
                BROADCAST,
                MAC,
                0x0806,
                &arp(2, MAC, GATEWAY, [0xff; 6], NEIGHBOUR_V4),
            ),
        ),
        (
            GuardRule::Arp,
            "a gratuitous ARP for a neighbour's address",
            eth(
                BROADCAST,
                MAC,
                0x0806,
                &arp(1, MAC, NEIGHBOUR_V4, [0; 6], NEIGHBOUR_V4),
            ),
        ),
        (
            GuardRule::Arp,
            "ARP whose sender MAC is not the guest's",
            eth(
                BROADCAST,
                MAC,
                0x0806,
                &arp(2, OTHER_MAC, OWN_V4, [0xff; 6], GATEWAY),
            ),
        ),
        (
            GuardRule::Ipv4,
            "IPv4 from an address not the guest's",
            eth(
                BROADCAST,
                MAC,
                0x0800,
                &ipv4(FOREIGN_V4, [192, 0, 2, 255], 17, &udp(9, 9, b"foreign v4")),
            ),
        ),
        (
            GuardRule::Ipv6,
            "IPv6 from an address not the guest's",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(v6("fd00:1::99"), all_nodes, 17, &udp(9, 9, b"foreign v6")),
            ),
        ),
        (
            GuardRule::Ipv6,
            "a neighbour advertisement for another guest's address",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(
                    own_ll,
                    all_nodes,
                    58,
                    &icmpv6(136, &nd_body(0x20, v6("fd00:1::20"))),
                ),
            ),
        ),
        (
            GuardRule::RouterAdvertisement,
            "a router advertisement",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(
                    own_ll,
                    all_nodes,
                    58,
                    &icmpv6(134, &[64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]),
                ),
            ),
        ),
        (
            GuardRule::RouterAdvertisement,
            "a redirect",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(own_ll, all_nodes, 58, &icmpv6(137, &[0; 36])),
            ),
        ),
        (
            GuardRule::DhcpServer,
            "a DHCPv4 OFFER",
            eth(
                BROADCAST,
                MAC,
                0x0800,
                &ipv4(OWN_V4, [255; 4], 17, &udp(67, 68, &[2; 240])),
            ),
        ),
        (
            GuardRule::DhcpServer,
            "a DHCPv6 ADVERTISE",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(own_ll, all_nodes, 17, &udp(547, 546, &[2, 0, 0, 1])),
            ),
        ),
        (
            GuardRule::OtherL2,
            "a frame of another ethertype",
            eth(BROADCAST, MAC, 0x88b5, b"local experimental ethertype"),
        ),
    ]
}

/// What a guest does as itself: each must pass the guard.
fn own_traffic() -> Vec<(&'static str, Vec<u8>)> {
    use common::frames::*;
    let own_ll = v6("fe80::5054:ff:fe00:a");
    let all_nodes = v6("ff02::1");
    vec![
        (
            "IPv4 from its address",
            eth(
                BROADCAST,
                MAC,
                0x0800,
                &ipv4(OWN_V4, [192, 0, 2, 255], 17, &udp(9, 9, b"own v4")),
            ),
        ),
        (
            "a DHCP DISCOVER",
            eth(
                BROADCAST,
                MAC,
                0x0800,
                &ipv4([0; 4], [255; 4], 17, &udp(68, 67, &[1; 240])),
            ),
        ),
        (
            "an ARP request",
            eth(
                BROADCAST,
                MAC,
                0x0806,
                &arp(1, MAC, OWN_V4, [0; 6], GATEWAY),
            ),
        ),
        (
            "an ARP probe",
            eth(BROADCAST, MAC, 0x0806, &arp(1, MAC, [0; 4], [0; 6], OWN_V4)),
        ),
        (
            "IPv6 from its link-local address",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(own_ll, all_nodes, 17, &udp(9, 9, b"own ll")),
            ),
        ),
        (
            "IPv6 from its address",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(v6("fd00:1::10"), all_nodes, 17, &udp(9, 9, b"own v6")),
            ),
        ),
        (
            "a DAD solicitation from ::",
            eth(
                [0x33, 0x33, 0xff, 0, 0, 0x10],
                MAC,
                0x86dd,
                &ipv6(
                    [0; 16],
                    v6("ff02::1:ff00:10"),
                    58,
                    &icmpv6(135, &nd_body(0, v6("fd00:1::10"))),
                ),
            ),
        ),
        (
            "a neighbour advertisement for its address",
            eth(
                ALL_NODES,
                MAC,
                0x86dd,
                &ipv6(
                    own_ll,
                    all_nodes,
                    58,
                    &icmpv6(136, &nd_body(0x20, v6("fd00:1::10"))),
                ),
            ),
        ),
    ]
}

/// Whether `frame`, sent by the guest, reaches both the neighbour guest
/// and the host (a packet socket on each).
fn reaches(
    guest: &std::os::fd::OwnedFd,
    seen_by: &[&std::os::fd::OwnedFd],
    frame: &[u8],
    wait: std::time::Duration,
) -> Vec<bool> {
    use common::frames::*;
    for fd in seen_by {
        drain(fd);
    }
    send(guest, frame);
    seen_by.iter().map(|fd| saw(fd, frame, wait)).collect()
}

#[test]
fn every_rule_drops_its_attack_only_with_the_guard_and_the_guests_own_traffic_passes() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.up()).await?;
        let (attacker, neighbour) = (PeerNetns::new(), PeerNetns::new());
        for (port, peer, ns) in [("a0", "a1", &attacker), ("b0", "b1", &neighbour)] {
            veth(port, peer);
            sh(&["ip", "link", "set", peer, "netns", &ns.tid()]);
            // The guest's own MAC, and no IPv6 of its stack: the counters
            // below count only the frames this test sends.
            ns.sh(&[
                "sysctl",
                "-q",
                &format!("net.ipv6.conf.{peer}.disable_ipv6=1"),
            ]);
            ns.sh(&["ip", "link", "set", peer, "up"]);
        }
        attacker.sh(&["ip", "link", "set", "a1", "address", GUEST]);
        br.attach_port("b0", PortConfig::new().up()).await?;
        br.attach_port("a0", PortConfig::new().up()).await?;
        wait_forwarding("a0").await;
        wait_forwarding("b0").await;
        let guest = common::frames::packet_socket(Some(attacker.path()), "a1");
        let neighbour_sees = common::frames::packet_socket(Some(neighbour.path()), "b1");
        let host_sees = common::frames::packet_socket(None, "br0");
        let seers = [&neighbour_sees, &host_sees];
        let long = std::time::Duration::from_secs(2);
        let short = std::time::Duration::from_millis(300);

        // Without the guard every attack arrives.
        for (rule, what, frame) in attacks() {
            assert_eq!(
                reaches(&guest, &seers, &frame, long),
                [true, true],
                "{rule}: {what}, unguarded"
            );
        }

        br.detach_port("a0").await?;
        br.attach_port("a0", PortConfig::managed(GUEST).guest_guard(guard()).up())
            .await?;
        wait_forwarding("a0").await;
        for (rule, what, frame) in attacks() {
            let before = dropped("bridgekit", rule);
            assert_eq!(
                reaches(&guest, &seers, &frame, short),
                [false, false],
                "{rule}: {what}, guarded"
            );
            assert_eq!(
                dropped("bridgekit", rule),
                before + 1,
                "{rule}: {what} counted by its rule"
            );
        }
        for (what, frame) in own_traffic() {
            assert_eq!(
                reaches(&guest, &seers, &frame, long),
                [true, true],
                "{what}, guarded"
            );
        }

        // A guard without a rule lets its attacks through again.
        for rule in GuardRule::ALL {
            let cfg = PortConfig::managed(GUEST)
                .guest_guard(guard().without(rule))
                .up();
            BridgeConfig::new("br0")?.port("a0", cfg).apply(&nl).await?;
            for (r, what, frame) in attacks().into_iter().filter(|(r, ..)| *r == rule) {
                let through = reaches(&guest, &seers, &frame, long);
                assert_eq!(
                    through,
                    [true, true],
                    "{r}: {what}, with the rule taken out"
                );
            }
        }
        Ok(())
    });
}

#[test]
fn apply_restores_a_flushed_ruleset_and_a_changed_rule_and_removes_guards_no_config_asks_for() {
    netns_test(|nl| async move {
        for p in ["p0", "p1"] {
            veth(p, &format!("{p}peer"));
        }
        let guarded = || {
            BridgeConfig::new("br0")
                .unwrap()
                .port("p0", PortConfig::managed(GUEST).guest_guard(guard()).up())
                .port(
                    "p1",
                    PortConfig::new().guest_guard(guard().mac("52:54:00:00:00:0b")),
                )
        };
        guarded().apply(&nl).await?;
        let want = nft_rules();
        assert!(want.len() > 20, "{want:?}");
        let again = guarded().apply(&nl).await?;
        assert!(again.changes.is_empty(), "{:?}", again.changes);

        // A firewall reload: everything gone, table included.
        sh(&["nft", "flush", "ruleset"]);
        assert!(nft_rules().is_empty());
        let applied = guarded().apply(&nl).await?;
        let mut changes: Vec<String> = applied.changes.iter().map(ToString::to_string).collect();
        changes.sort();
        assert_eq!(
            changes,
            ["guest guard installed on p0", "guest guard installed on p1"]
        );
        assert_eq!(nft_rules(), want);

        // One rule deleted by hand.
        let listing = sh(&[
            "nft",
            "-a",
            "list",
            "chain",
            "netdev",
            "bridgekit",
            "br0/p0/ip",
        ]);
        let handle = listing
            .lines()
            .filter(|l| !l.trim_start().starts_with("chain "))
            .filter_map(|l| l.split("# handle ").nth(1))
            .next()
            .expect("a rule with a handle")
            .trim()
            .to_string();
        sh(&[
            "nft",
            "delete",
            "rule",
            "netdev",
            "bridgekit",
            "br0/p0/ip",
            "handle",
            &handle,
        ]);
        assert_ne!(nft_rules(), want);
        let applied = guarded().apply(&nl).await?;
        let changes: Vec<String> = applied.changes.iter().map(ToString::to_string).collect();
        assert_eq!(changes, ["guest guard installed on p0"]);
        assert_eq!(nft_rules(), want);

        // p1 without its guard: it goes, p0's stays.
        BridgeConfig::new("br0")?
            .port("p0", PortConfig::managed(GUEST).guest_guard(guard()).up())
            .port("p1", PortConfig::new())
            .apply(&nl)
            .await
            .map(|a| {
                let changes: Vec<String> = a.changes.iter().map(ToString::to_string).collect();
                assert_eq!(changes, ["guest guard removed from p1"]);
            })?;
        let names: Vec<String> = nft_chains("bridgekit")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.iter().all(|n| n.starts_with("br0/p0")), "{names:?}");
        assert_eq!(names.len(), 5);
        Ok(())
    });
}

#[test]
fn a_failed_step_of_a_guarded_attach_or_apply_leaves_no_rule_behind() {
    netns_test(|nl| async move {
        // A fixed MAC: a bridge's own follows its ports' otherwise.
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:99:00:01")).await?;
        veth("p0", "p0peer");
        let attach = || PortConfig::managed(GUEST).guest_guard(guard()).up();
        let steps = fail_each_step(
            &nl,
            "guarded attach",
            || async {},
            || br.attach_port("p0", attach()),
            || async {
                br.detach_port("p0").await.expect("detach");
            },
        )
        .await;
        assert!(steps >= 3, "{steps}");
        // An apply that replaces one port's guard and installs another's.
        veth("p1", "p1peer");
        let before = || {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:99:00:01")
                .port("p0", PortConfig::managed(GUEST).guest_guard(guard()))
        };
        let after = || {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:99:00:01")
                .port(
                    "p0",
                    PortConfig::managed(GUEST).guest_guard(
                        guard().ipv4("192.0.2.11".parse::<std::net::Ipv4Addr>().unwrap()),
                    ),
                )
                .port(
                    "p1",
                    PortConfig::new().guest_guard(guard().mac("52:54:00:00:00:0b")),
                )
        };
        let steps = fail_each_step(
            &nl,
            "guarded apply",
            || async {
                before().apply(&nl).await.expect("the state before");
                let _ = sh_ok(&["ip", "link", "set", "p1", "nomaster"]);
                let _ = sh_ok(&["nft", "delete", "chain", "netdev", "bridgekit", "br0/p1"]);
                for sub in ["arp", "ip", "ip6", "nd"] {
                    let _ = sh_ok(&[
                        "nft",
                        "delete",
                        "chain",
                        "netdev",
                        "bridgekit",
                        &format!("br0/p1/{sub}"),
                    ]);
                }
            },
            || async { after().apply(&nl).await.map(drop) },
            || async {},
        )
        .await;
        assert!(steps >= 3, "{steps}");
        Ok(())
    });
}

/// dnsmasq on `br0` (DHCPv4 handing out 192.0.2.10, router advertisements
/// for fd00:1::/64), as a child of this namespace; killed on drop.
struct Dnsmasq(std::process::Child, std::path::PathBuf);

impl Dnsmasq {
    fn start() -> Self {
        let leases =
            std::env::temp_dir().join(format!("bridgekit-guard-{}.leases", std::process::id()));
        let child = std::process::Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--interface=br0",
                "--bind-interfaces",
                "--port=0",
                "--pid-file=",
                "--user=root",
                "--dhcp-range=192.0.2.10,192.0.2.10,255.255.255.0,1h",
                "--enable-ra",
                "--dhcp-range=fd00:1::,ra-only,64,1h",
                "--ra-param=br0,1",
            ])
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dnsmasq starts");
        Dnsmasq(child, leases)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

#[test]
fn a_guarded_guest_gets_dhcp_and_slaac_from_real_servers_and_reaches_the_host_by_arp_ping_and_tcp()
{
    netns_test(|nl| async move {
        if skip_rootless("dnsmasq as the bridge's DHCP server") {
            return Ok(());
        }
        dad_at_test_speed(None);
        let br = Bridge::create(
            &nl,
            BridgeConfig::new("br0")?
                .mac("52:54:00:99:00:01")
                .address("192.0.2.1/24")
                .address("fd00:1::1/64")
                .up(),
        )
        .await?;
        let guest = PeerNetns::new();
        veth("g0", "g1");
        sh(&["ip", "link", "set", "g1", "netns", &guest.tid()]);
        guest.sh(&["ip", "link", "set", "g1", "address", GUEST]);
        for knob in ["router_solicitation_delay=0", "dad_transmits=1"] {
            guest.sh(&["sysctl", "-q", &format!("net.ipv6.conf.g1.{knob}")]);
        }
        let guard = GuestGuard::new()
            .ipv4("192.0.2.10".parse::<std::net::Ipv4Addr>().unwrap())
            .ipv6("fd00:1::/64".parse::<bridgekit::ipnet::Ipv6Net>().unwrap());
        br.attach_port("g0", PortConfig::managed(GUEST).guest_guard(guard).up())
            .await?;
        guest.sh(&["ip", "link", "set", "g1", "up"]);
        wait_forwarding("g0").await;
        br.wait_dad(std::time::Duration::from_secs(10)).await?;
        let _dnsmasq = Dnsmasq::start();

        // DHCPv4 with busybox's client: DISCOVER and REQUEST from 0.0.0.0.
        let script = std::env::temp_dir().join(format!("bridgekit-udhcpc-{}", std::process::id()));
        std::fs::write(
            &script,
            "#!/bin/sh\n[ \"$1\" = bound ] && ip addr add \"$ip/$mask\" dev \"$interface\"\nexit 0\n",
        )?;
        sh(&["chmod", "+x", script.to_str().unwrap()]);
        let got = guest.sh(&[
            "busybox",
            "udhcpc",
            "-i",
            "g1",
            "-f",
            "-q",
            "-n",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            script.to_str().unwrap(),
        ]);
        let _ = std::fs::remove_file(&script);
        let addrs = guest.sh(&["ip", "-4", "-o", "addr", "show", "dev", "g1"]);
        assert!(
            addrs.contains("192.0.2.10/24"),
            "udhcpc: {got}\naddresses: {addrs}"
        );

        // ARP and ping to the host, TCP to a listener on the host.
        assert!(
            ping(&guest, "192.0.2.1"),
            "ping 192.0.2.1 through the guard"
        );
        let listener = std::net::TcpListener::bind("192.0.2.1:7777")?;
        guest.sh(&["bash", "-c", "echo guarded >/dev/tcp/192.0.2.1/7777"]);
        let (mut conn, from) = listener.accept()?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut conn, &mut text)?;
        assert_eq!(
            (from.ip().to_string(), text.trim()),
            ("192.0.2.10".to_string(), "guarded")
        );

        // SLAAC from dnsmasq's router advertisement, after DAD.
        let mut slaac = String::new();
        for _ in 0..100 {
            slaac = guest.sh(&[
                "ip", "-6", "-o", "addr", "show", "dev", "g1", "scope", "global",
            ]);
            if slaac.contains("fd00:1::5054:ff:fe00:a/64") && !slaac.contains("tentative") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            slaac.contains("fd00:1::5054:ff:fe00:a/64") && !slaac.contains("tentative"),
            "SLAAC address: {slaac}"
        );
        assert!(
            ping(&guest, "fd00:1::1"),
            "ping fd00:1::1 through the guard"
        );
        // Nothing the guest sent as itself was dropped.
        for rule in GuardRule::ALL {
            assert_eq!(dropped("bridgekit", rule), 0, "{rule}");
        }
        Ok(())
    });
}

#[test]
fn a_deleted_nic_or_bridge_takes_its_guards_along() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        veth("p0", "p0peer");
        br.attach_port("p0", PortConfig::managed(GUEST).guest_guard(guard()))
            .await?;
        let sandbox = PeerNetns::new();
        let veth_nic = bridgekit::VethNic::create(
            &br,
            bridgekit::VethNicConfig::new(sandbox.path())
                .host_name("vh0")
                .port(PortConfig::new().guest_guard(guard().mac("52:54:00:00:00:0c"))),
        )
        .await?;
        let owners = |prefix: &str| -> usize {
            nft_chains("bridgekit")
                .iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .count()
        };
        assert_eq!(owners("br0/vh0"), 5);
        veth_nic.delete().await?;
        assert_eq!(owners("br0/vh0"), 0, "{:?}", nft_chains("bridgekit"));
        if can_make_taps() {
            let nic = bridgekit::VmNic::create(
                &br,
                bridgekit::VmNicConfig::new("52:54:00:00:00:0d")
                    .name("vnet7")
                    // No MAC in the guard, no managed port: the NIC's guest MAC.
                    .port(PortConfig::new().guest_guard(guard())),
            )
            .await?;
            assert_eq!(owners("br0/vnet7"), 5);
            let listing = sh(&["nft", "list", "chain", "netdev", "bridgekit", "br0/vnet7"]);
            assert!(listing.contains("0x52540000000d"), "{listing}");
            nic.delete().await?;
            assert_eq!(owners("br0/vnet7"), 0, "{:?}", nft_chains("bridgekit"));
        }
        assert_eq!(owners("br0/p0"), 5);
        br.delete().await?;
        assert!(
            nft_chains("bridgekit").is_empty(),
            "{:?}",
            nft_chains("bridgekit")
        );
        Ok(())
    });
}

#[test]
fn a_restarted_programs_first_apply_removes_the_guards_its_config_dropped() {
    netns_test(|nl| async move {
        veth("p0", "p0peer");
        BridgeConfig::new("br0")?
            .port("p0", PortConfig::managed(GUEST).guest_guard(guard()))
            .apply(&nl)
            .await?;
        assert_eq!(nft_chains("bridgekit").len(), 5);
        // A new process: a connection that has seen no guard yet, and a
        // config without any.
        let restarted = bridgekit::Netlink::connect()?;
        let applied = BridgeConfig::new("br0")?
            .port("p0", PortConfig::managed(GUEST))
            .apply(&restarted)
            .await?;
        let changes: Vec<String> = applied.changes.iter().map(ToString::to_string).collect();
        assert_eq!(changes, ["guest guard removed from p0"]);
        assert!(
            nft_chains("bridgekit").is_empty(),
            "{:?}",
            nft_chains("bridgekit")
        );
        // And its detach now knows to look.
        let other = bridgekit::Netlink::connect()?;
        let br = Bridge::open(&other, "br0").await?;
        BridgeConfig::new("br0")?
            .port("p0", PortConfig::managed(GUEST).guest_guard(guard()))
            .apply(&nl)
            .await?;
        BridgeConfig::new("br0")?
            .port("p0", PortConfig::managed(GUEST).guest_guard(guard()))
            .apply(&other)
            .await?;
        br.detach_port("p0").await?;
        assert!(
            nft_chains("bridgekit").is_empty(),
            "{:?}",
            nft_chains("bridgekit")
        );
        Ok(())
    });
}

#[test]
fn guards_cut_into_several_transactions_install_replace_undo_and_go_with_the_bridge() {
    netns_test(|nl| async move {
        const PORTS: u8 = 4;
        for i in 0..PORTS {
            veth(&format!("p{i}"), &format!("p{i}peer"));
        }
        // Every port's guard asks for a new address: all of them change.
        let config = |first: u8| {
            let mut c = BridgeConfig::new("br0").unwrap().mac("52:54:00:99:00:01");
            for i in 0..PORTS {
                c = c.port(
                    format!("p{i}").as_str(),
                    PortConfig::managed(format!("52:54:00:00:01:{i:02x}").as_str()).guest_guard(
                        GuestGuard::new().ipv4(std::net::Ipv4Addr::new(192, 0, 2, first + i)),
                    ),
                );
            }
            c
        };
        let sweep = |what: &'static str| {
            let nl = nl.clone();
            async move {
                fail_each_step(
                    &nl,
                    what,
                    || async {
                        config(10).apply(&nl).await.expect("the state before");
                    },
                    || async { config(100).apply(&nl).await.map(drop) },
                    || async {},
                )
                .await
            }
        };
        // All of them in one transaction, then one port to a transaction
        // (a room of one byte still takes one port): three transactions
        // more, and a failure of any of them takes the others back.
        let whole = sweep("an apply replacing four guards in one transaction").await;
        nl.set_nft_room(1);
        let cut = sweep("an apply replacing four guards, one transaction each").await;
        assert_eq!(cut, whole + usize::from(PORTS) - 1, "{cut} vs {whole}");
        config(100).apply(&nl).await?;
        assert_eq!(nft_chains("bridgekit").len(), 5 * usize::from(PORTS));
        let rules = serde_json::to_string(&nft_table("bridgekit"))?;
        // nft -j shows a bare 4-byte payload as a number.
        let shown = |last: u8| {
            format!(
                "\"right\":{}",
                u32::from(std::net::Ipv4Addr::new(192, 0, 2, last))
            )
        };
        for i in 0..PORTS {
            assert!(
                rules.contains(&shown(100 + i)),
                "192.0.2.{} missing",
                100 + i
            );
            assert!(!rules.contains(&shown(10 + i)), "192.0.2.{} left", 10 + i);
        }
        // attach_ports: every guard first, then the ports; a failure
        // anywhere takes all of it back.
        let br = Bridge::open(&nl, "br0").await?;
        let names: Vec<String> = (0..PORTS).map(|i| format!("p{i}")).collect();
        br.detach_ports(names.iter().map(String::as_str)).await?;
        assert!(nft_chains("bridgekit").is_empty());
        let list = || {
            (0..PORTS).map(|i| {
                (
                    format!("p{i}"),
                    PortConfig::managed(format!("52:54:00:00:01:{i:02x}").as_str()).guest_guard(
                        GuestGuard::new().ipv4(std::net::Ipv4Addr::new(192, 0, 2, 10 + i)),
                    ),
                )
            })
        };
        let steps = fail_each_step(
            &nl,
            "attach_ports of four guarded ports",
            || async {},
            || br.attach_ports(list()),
            || async {
                br.detach_ports(names.iter().map(String::as_str))
                    .await
                    .expect("detach");
            },
        )
        .await;
        // Four transactions for the guards, one change at least per port.
        assert!(steps >= 2 * usize::from(PORTS), "{steps}");
        br.attach_ports(list()).await?;
        assert_eq!(nft_chains("bridgekit").len(), 5 * usize::from(PORTS));
        // The bridge takes every guard along, one port at a time.
        br.delete().await?;
        assert!(
            nft_chains("bridgekit").is_empty(),
            "{:?}",
            nft_chains("bridgekit")
        );
        Ok(())
    });
}
