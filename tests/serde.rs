//! Desired state as data (the `serde` feature): bad documents are refused
//! with the field's path and the reason, documents and configs round-trip,
//! and status serializes with what iproute2 sees.
#![cfg(feature = "serde")]

mod common;

use bridgekit::{
    Bridge, BridgeConfig, BridgeOption, Error, PortConfig, VlanId, VlanMember, VlanRange,
    VmNicConfig,
};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    bridgekit::from_deserializer(&mut serde_json::Deserializer::from_str(text))
}

fn from_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let de = toml::Deserializer::parse(text).map_err(|e| panic!("TOML syntax: {e}"))?;
    bridgekit::from_deserializer(de)
}

/// (document, where, words the reason must contain)
const BAD_BRIDGES: &[(&str, &str, &str)] = &[
    (r#"{}"#, "config", "missing field `name`"),
    (r#"{"name": "0123456789abcdef"}"#, "`name`", "16 bytes"),
    (r#"{"name": "a/b"}"#, "`name`", "contains '/'"),
    (r#"{"name": ""}"#, "`name`", "empty"),
    (
        r#"{"name": "br0", "mac": "zz:00:00:00:00:01"}"#,
        "`mac`",
        "six hex bytes",
    ),
    (
        r#"{"name": "br0", "mac": "01:00:5e:00:00:01"}"#,
        "`mac`",
        "multicast address",
    ),
    (
        r#"{"name": "br0", "mac": "00:00:00:00:00:00"}"#,
        "`mac`",
        "all-zero",
    ),
    (
        r#"{"name": "br0", "mac": "ff:ff:ff:ff:ff:ff"}"#,
        "`mac`",
        "broadcast",
    ),
    (
        r#"{"name": "br0", "mtu": 67}"#,
        "`mtu`",
        "must be within 68..=65535",
    ),
    (
        r#"{"name": "br0", "mtu": 70000}"#,
        "`mtu`",
        "must be within 68..=65535",
    ),
    (r#"{"name": "br0", "mtu": -1}"#, "`mtu`", "invalid value"),
    (r#"{"name": "br0", "mtu": "1500"}"#, "`mtu`", "invalid type"),
    (r#"{"name": "br0", "stp": "yes"}"#, "`stp`", "invalid type"),
    (
        r#"{"name": "br0", "mtuu": 1500}"#,
        "`mtuu`",
        "unknown field `mtuu`",
    ),
    (
        r#"{"name": "br0", "addresses": ["10.0.0.1"]}"#,
        "`addresses[0]`",
        "ADDRESS/PREFIX_LENGTH",
    ),
    (
        r#"{"name": "br0", "addresses": ["10.0.0.1/24", "ff02::1/64"]}"#,
        "`addresses[1]`",
        "multicast",
    ),
    (
        r#"{"name": "br0", "addresses": ["10.0.0.1/33"]}"#,
        "`addresses[0]`",
        "prefix length 33",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": 5000}]}]}"#,
        "`ports[0].vlans[0].vid`",
        "VLAN id 5000: must be within 1..=4094",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": 0}]}]}"#,
        "`ports[0].vlans[0].vid`",
        "VLAN id 0",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": "20-10"}]}]}"#,
        "`ports[0].vlans[0].vid`",
        "start is above end",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": "ten"}]}]}"#,
        "`ports[0].vlans[0].vid`",
        "not a number",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": "10-20", "pvid": true}]}]}"#,
        "`ports[0].vlans[0]`",
        "PVID must be a single VLAN",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": 10, "pvid": true}, {"vid": 11, "pvid": true}]}]}"#,
        "`ports[0]`",
        "only one PVID",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": "10-20"}, {"vid": 15}]}]}"#,
        "`ports[0]`",
        "VLAN 15",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "vlans": [{"vid": 10, "tagged": true}]}]}"#,
        "`ports[0].vlans[0].tagged`",
        "unknown field `tagged`",
    ),
    (
        r#"{"name": "br0", "ports": [{"up": true}]}"#,
        "`ports[0]`",
        "exactly one of `name` and `index`",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "index": 3}]}"#,
        "`ports[0]`",
        "exactly one of `name` and `index`",
    ),
    (
        r#"{"name": "br0", "ports": [{"index": 0}]}"#,
        "`ports[0]`",
        "ifindexes start at 1",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p 0"}]}"#,
        "`ports[0].name`",
        "whitespace",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "cost": 0}]}"#,
        "`ports[0]`",
        "port cost 0",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "priority": 64}]}"#,
        "`ports[0]`",
        "port priority 64",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "backup_port": "p1", "nobackup_port": true}]}"#,
        "`ports[0]`",
        "not both",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "backup_port": "p1/x"}]}"#,
        "`ports[0]`",
        "p1/x",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "mab": true}]}"#,
        "`ports[0]`",
        "locked(true)",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "lerning": false}]}"#,
        "`ports[0].lerning`",
        "unknown field `lerning`",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "fdb": [{"mac": "33:33:00:00:00:01"}]}]}"#,
        "`ports[0].fdb[0].mac`",
        "multicast address",
    ),
    (
        r#"{"name": "br0", "ports": [{"name": "p0", "managed": "ff:ff:ff:ff:ff:ff"}]}"#,
        "`ports[0].managed`",
        "broadcast",
    ),
    (
        r#"{"name": "br0", "options": {"igmp_version": 9}}"#,
        "`options`",
        "IGMP version 9",
    ),
    (
        r#"{"name": "br0", "options": {"hello_time_ms": 20000}}"#,
        "`options`",
        "the kernel accepts 1..=10 s",
    ),
    (
        r#"{"name": "br0", "options": {"group_fwd_mask": 1}}"#,
        "`options`",
        "never forwarded",
    ),
    (
        r#"{"name": "br0", "options": {"group_address": "01:80:c2:00:00:01"}}"#,
        "`options`",
        "01:80:c2:00:00:0X",
    ),
    (
        r#"{"name": "br0", "options": {"multicast_router": "sometimes"}}"#,
        "`options.multicast_router`",
        "expected \"disabled\"",
    ),
    (
        r#"{"name": "br0", "stp": true, "forward_delay_ms": 40000}"#,
        "config",
        "2..=30 s",
    ),
    // Issue #27, item 5: an absurd timer is refused at its field.
    (
        r#"{"name": "br0", "forward_delay_ms": 18446744073709551}"#,
        "`forward_delay_ms`",
        "at most u32 centiseconds",
    ),
    (
        r#"{"name": "br0", "ageing_time_ms": 99999999999999}"#,
        "`ageing_time_ms`",
        "at most u32 centiseconds",
    ),
    (
        r#"{"name": "br0", "disable_ipv6": true, "addresses": ["fd00::1/64"]}"#,
        "config",
        "takes no IPv6 address",
    ),
    (
        r#"{"name": "br0", "mtu": 1000, "addresses": ["fd00::1/64"]}"#,
        "config",
        "below 1280",
    ),
];

fn assert_refused<T: std::fmt::Debug>(doc: &str, r: Result<T, Error>, at: &str, needle: &str) {
    match r {
        Err(Error::InvalidInput {
            what,
            input,
            reason,
        }) => {
            assert_eq!(what, bridgekit::InputKind::Document, "{doc}: {reason}");
            let expected_input = if at == "config" {
                "config".to_string()
            } else {
                format!("config field {at}")
            };
            assert_eq!(
                input, expected_input,
                "{doc}: refused at the wrong place ({reason})"
            );
            assert!(
                reason.contains(needle),
                "{doc}: reason {reason:?} lacks {needle:?}"
            );
        }
        other => panic!("{doc}: expected InvalidInput at {at}, got {other:?}"),
    }
}

#[test]
fn bad_bridge_documents_name_the_field_and_the_reason() {
    assert!(BAD_BRIDGES.len() >= 20);
    for (doc, at, needle) in BAD_BRIDGES {
        // Nothing reaches the kernel: a document is refused before any
        // Netlink exists to send with.
        assert_refused(doc, from_json::<BridgeConfig>(doc), at, needle);
    }
}

#[test]
fn bad_vm_nic_and_port_documents() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"{}"#, "config", "missing field `guest_mac`"),
        (
            r#"{"guest_mac": "01:00:00:00:00:01"}"#,
            "`guest_mac`",
            "multicast",
        ),
        // Issue #27, item 5: at its field, not at the document's root.
        (
            r#"{"guest_mac": "52:54:00:00:00:01", "queues": 0}"#,
            "`queues`",
            "queue count 0",
        ),
        (
            r#"{"guest_mac": "52:54:00:00:00:01", "name": "a%d%d"}"#,
            "config",
            "exactly one",
        ),
        (
            r#"{"guest_mac": "52:54:00:00:00:01", "mtu": 10}"#,
            "`mtu`",
            "must be within",
        ),
        (
            r#"{"guest_mac": "52:54:00:00:00:01", "port": {"name": "x"}}"#,
            "`port`",
            "takes no `name`",
        ),
        (
            r#"{"guest_mac": "52:54:00:00:00:01", "port": {"cost": 70000}}"#,
            "`port`",
            "port cost 70000",
        ),
    ];
    for (doc, at, needle) in cases {
        assert_refused(doc, from_json::<VmNicConfig>(doc), at, needle);
    }
}

#[test]
fn toml_errors_name_the_field_too() {
    let doc = "name = \"br0\"\n[[ports]]\nname = \"vnet0\"\nvlans = [{ vid = 4095 }]\n";
    assert_refused(
        doc,
        from_toml::<BridgeConfig>(doc),
        "`ports[0].vlans[0].vid`",
        "4095",
    );
    let doc = "name = \"br0\"\nforward_delay_ms = -5\n";
    assert_refused(
        doc,
        from_toml::<BridgeConfig>(doc),
        "`forward_delay_ms`",
        "invalid value",
    );
}

#[test]
fn the_example_file_reads_as_the_builders_would_make_it() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/from_file/network.toml"
    ))
    .unwrap();
    let from_file: BridgeConfig = from_toml(&text).unwrap();
    let vid = |v| VlanId::new(v).unwrap();
    let built = BridgeConfig::new("bkfile0")
        .unwrap()
        .mac("52:54:00:00:10:01")
        .mtu(1500)
        .stp(false)
        .forward_delay(std::time::Duration::ZERO)
        .address("192.168.160.1/24")
        .address("fd00:160::1/64")
        .vlan_filtering(true)
        .option(BridgeOption::GroupFwdMask(1 << 14))
        .option(BridgeOption::MulticastSnooping(false))
        .port(
            "bkfile-vm0",
            PortConfig::managed("52:54:00:aa:00:01")
                .up()
                .vlan(VlanMember::access(vid(10))),
        )
        .port(
            "bkfile-vm1",
            PortConfig::managed("52:54:00:aa:00:02")
                .up()
                .vlan(VlanMember::access(vid(20))),
        )
        .port(
            "bkfile-up0",
            PortConfig::new()
                .up()
                .vlan(VlanMember::tagged(vid(10)))
                .vlan(VlanMember::tagged(VlanRange::new(20, 29).unwrap())),
        );
    assert_eq!(from_file, built);
}

/// A valid bridge document in the form bridgekit writes (fields it would
/// leave out are left out), from random parts.
fn bridge_doc() -> impl Strategy<Value = Value> {
    let mac = any::<[u8; 6]>().prop_map(|mut b| {
        b[0] = (b[0] & 0xfc) | 0x02; // unicast, locally administered: never zero
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    });
    let port = (
        prop::option::of(mac.clone()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(1u32..=65535),
        prop::option::of(0u16..=63),
        any::<bool>(),
        prop::option::of((1u16..100, any::<bool>())),
        prop::option::of((200u16..300, 0u16..50)),
        prop::collection::vec((mac.clone(), prop::option::of(1u16..4094)), 0..3),
    );
    let options = (
        prop::option::of(1000u64..=10_000),
        prop::option::of(6000u64..=40_000),
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u16>().prop_map(|m| m & 0xfff8)),
        prop::option::of(any::<bool>()),
        prop::option::of(2u8..=3),
        prop::option::of(prop::sample::select(vec!["disabled", "auto", "permanent"])),
    );
    (
        "[a-z][a-z0-9]{0,10}",
        prop::option::of(mac),
        prop::option::of(1280u32..=9000),
        prop::option::of(any::<bool>()),
        prop::option::of(2000u64..=30_000),
        prop::option::of(0u64..1_000_000),
        any::<bool>(),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        ),
        prop::collection::vec((any::<[u8; 3]>(), any::<bool>()), 0..4),
        prop::collection::vec(port, 0..4),
        options,
    )
        .prop_map(
            |(name, mac, mtu, stp, fd, age, ready, (ra, vf), addrs, ports, opts)| {
                let mut d = serde_json::Map::new();
                d.insert("name".into(), json!(name));
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        d.insert(k.into(), v);
                    }
                };
                put("mac", mac.map(Value::from));
                put("mtu", mtu.map(Value::from));
                put("stp", stp.map(Value::from));
                put("forward_delay_ms", fd.map(Value::from));
                put("ageing_time_ms", age.map(Value::from));
                put("ipv6_ready_without_ports", (!ready).then_some(json!(false)));
                put("vlan_filtering", vf.map(Value::from));
                let (hello, max_age, prio, mask, snoop, igmp, router) = opts;
                let mut o = serde_json::Map::new();
                for (k, v) in [
                    ("hello_time_ms", hello.map(Value::from)),
                    ("max_age_ms", max_age.map(Value::from)),
                    ("priority", prio.map(Value::from)),
                    ("group_fwd_mask", mask.map(Value::from)),
                    ("multicast_snooping", snoop.map(Value::from)),
                    ("igmp_version", igmp.map(Value::from)),
                    ("multicast_router", router.map(Value::from)),
                ] {
                    if let Some(v) = v {
                        o.insert(k.into(), v);
                    }
                }
                put("options", (!o.is_empty()).then_some(Value::Object(o)));
                put("accept_ra", ra.map(Value::from));
                let addrs: Vec<Value> = addrs
                    .iter()
                    .enumerate()
                    .map(|(i, (b, v6))| {
                        if *v6 {
                            {
                                let a = std::net::Ipv6Addr::new(
                                    0xfd00,
                                    b[0].into(),
                                    0,
                                    0,
                                    0,
                                    0,
                                    0,
                                    u16::from(b[1]) + 1,
                                );
                                json!(format!("{a}/64"))
                            }
                        } else {
                            json!(format!("10.{}.{}.{}/24", i, b[1], b[2] % 250 + 1))
                        }
                    })
                    .collect();
                put(
                    "addresses",
                    (!addrs.is_empty()).then_some(Value::Array(addrs)),
                );
                let ports: Vec<Value> = ports
                    .into_iter()
                    .enumerate()
                    .map(
                        |(i, (managed, learning, hairpin, cost, prio, up, access, trunk, fdb))| {
                            let mut p = serde_json::Map::new();
                            p.insert("name".into(), json!(format!("p{i}")));
                            // With `managed`, learning is off already: only "on" is news.
                            let learning = learning.filter(|l| managed.is_none() || *l);
                            for (k, v) in [
                                ("learning", learning.map(Value::from)),
                                ("hairpin", hairpin.map(Value::from)),
                                ("cost", cost.map(Value::from)),
                                ("priority", prio.map(Value::from)),
                                ("up", up.then_some(json!(true))),
                            ] {
                                if let Some(v) = v {
                                    p.insert(k.into(), v);
                                }
                            }
                            let mut vlans = Vec::new();
                            if let Some((vid, untagged)) = access {
                                let mut m = json!({"vid": vid.to_string(), "pvid": true});
                                if untagged {
                                    m["untagged"] = json!(true);
                                }
                                vlans.push(m);
                            }
                            if let Some((start, len)) = trunk {
                                let range = if len == 0 {
                                    start.to_string()
                                } else {
                                    format!("{start}-{}", start + len)
                                };
                                vlans.push(json!({ "vid": range }));
                            }
                            if !vlans.is_empty() {
                                p.insert("vlans".into(), Value::Array(vlans));
                            }
                            let mut seen = std::collections::HashSet::new();
                            let fdb: Vec<Value> = fdb
                                .into_iter()
                                .filter(|(m, _)| seen.insert(m.clone()))
                                .map(|(m, v)| match v {
                                    Some(v) => json!({"mac": m, "vlan": v}),
                                    None => json!({ "mac": m }),
                                })
                                .collect();
                            if !fdb.is_empty() {
                                p.insert("fdb".into(), Value::Array(fdb));
                            }
                            if let Some(m) = managed {
                                p.insert("managed".into(), json!(m));
                            }
                            Value::Object(p)
                        },
                    )
                    .collect();
                put("ports", (!ports.is_empty()).then_some(Value::Array(ports)));
                // STP on needs a forward delay the kernel takes with it; the
                // generated one (2..=30 s) always is.
                Value::Object(d)
            },
        )
}

proptest! {
    #[test]
    fn documents_round_trip(doc in bridge_doc()) {
        let config: BridgeConfig = bridgekit::from_deserializer(doc.clone())
            .map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
        // serialize(deserialize(x)) == x
        prop_assert_eq!(serde_json::to_value(&config).unwrap(), doc.clone());
        // deserialize(serialize(c)) == c, through TOML as well as JSON.
        let text = toml::to_string(&config).unwrap();
        let back: BridgeConfig = bridgekit::from_deserializer(toml::Deserializer::parse(&text).unwrap())
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, config);
    }

    #[test]
    fn vm_nic_configs_round_trip(
        mac in any::<[u8; 5]>(),
        queues in 1u16..=16,
        vnet_hdr in any::<bool>(),
        hdr_size in prop::option::of(prop::sample::select(vec![10u8, 12])),
        mtu in prop::option::of(68u32..=9000),
        persistent in any::<bool>(),
        owner in prop::option::of(any::<u32>()),
        managed in any::<bool>(),
    ) {
        let guest = macaddr::MacAddr6::new(0x52, mac[0], mac[1], mac[2], mac[3], mac[4]);
        let mut config = VmNicConfig::new(guest).queues(queues).vnet_hdr(vnet_hdr).persistent(persistent);
        if let Some(m) = mtu {
            config = config.mtu(m);
        }
        if let Some(o) = owner {
            config = config.owner(o);
        }
        if let (Some(size), true) = (hdr_size, vnet_hdr) {
            config = config.vnet_hdr_size(size);
        }
        if managed {
            config = config.port(PortConfig::managed(guest).up());
        }
        let json = serde_json::to_string(&config).unwrap();
        let back: VmNicConfig = from_json(&json).map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        prop_assert_eq!(back, config);
    }
}

#[test]
fn a_config_with_bad_builder_input_does_not_serialize() {
    let config = BridgeConfig::new("br0").unwrap().address("10.0.0.1");
    let err = serde_json::to_string(&config).unwrap_err().to_string();
    assert!(err.contains("ADDRESS/PREFIX_LENGTH"), "{err}");
}

#[test]
fn status_serializes_as_iproute2_sees_it() {
    netns_test(|nl| async move {
        let config: BridgeConfig = from_json(
            r#"{"name": "bkser0", "mac": "52:54:00:00:20:01", "mtu": 1400,
                "addresses": ["192.168.170.1/24"], "forward_delay_ms": 0}"#,
        )?;
        config.apply(&nl).await?;
        veth("bkser-p0", "bkser-p0p");
        let br = Bridge::open(&nl, "bkser0").await?;
        br.attach_port("bkser-p0", PortConfig::new().learning(false))
            .await?;
        let status = serde_json::to_value(br.status().await?)?;
        let ip = ip_link("bkser0").ok_or("bridge missing")?;
        assert_eq!(status["name"], "bkser0");
        assert_eq!(status["mac"], ip["address"]);
        assert_eq!(status["mtu"], ip["mtu"]);
        assert_eq!(status["forward_delay_ms"], 0);
        assert_eq!(
            status["ageing_time_ms"].as_u64().unwrap() / 10,
            ip["linkinfo"]["info_data"]["ageing_time"].as_u64().unwrap()
        );
        assert_eq!(status["addresses"][0]["address"], "192.168.170.1/24");
        assert_eq!(status["ports"][0]["name"], "bkser-p0");
        assert_eq!(status["ports"][0]["learning"], false);
        let port = ip_link("bkser-p0").ok_or("port missing")?;
        assert_eq!(status["ports"][0]["mac"], port["address"]);
        assert_eq!(
            status["ports"][0]["state"],
            port["linkinfo"]["info_slave_data"]["state"]
        );
        let fdb = serde_json::to_value(br.fdb().await?)?;
        assert!(
            fdb.as_array()
                .unwrap()
                .iter()
                .any(|e| e["mac"] == port["address"] && e["kind"] == "permanent"),
            "{fdb}"
        );
        Ok(())
    });
}

#[test]
fn newer_port_options_round_trip() {
    let doc = json!({"name": "br0", "ports": [
        {"name": "p0", "locked": true, "mab": true},
        {"name": "p1", "neigh_vlan_suppress": true, "backup_port": "p0"},
        {"name": "p2", "backup_port": 7},
        {"name": "p3", "nobackup_port": true},
    ]});
    let config: BridgeConfig = bridgekit::from_deserializer(doc.clone()).unwrap();
    let built = BridgeConfig::new("br0")
        .unwrap()
        .port("p0", PortConfig::new().locked(true).mab(true))
        .port(
            "p1",
            PortConfig::new()
                .neigh_vlan_suppress(true)
                .backup_port("p0"),
        )
        .port("p2", PortConfig::new().backup_port(7))
        .port("p3", PortConfig::new().no_backup_port());
    assert_eq!(config, built);
    assert_eq!(serde_json::to_value(&config).unwrap(), doc);
    let text = toml::to_string(&config).unwrap();
    let back: BridgeConfig =
        bridgekit::from_deserializer(toml::Deserializer::parse(&text).unwrap()).unwrap();
    assert_eq!(back, config);
}

/// VXLAN ports in a document: the device, its remotes and its bridge
/// port, as the builders make them; written back, read again, the same;
/// bad values refused where they stand.
#[test]
fn vxlan_ports_in_a_document() {
    let doc = r#"
name = "br100"
mac = "52:54:00:00:01:00"

[[vxlan_ports]]
bridge_port = { learning = false, neigh_suppress = true, up = true }

[vxlan_ports.vxlan]
name = "vx100"
vni = 100
local = "192.0.2.1"
underlay = "eth0"
learning = false
mac = "52:54:00:00:01:64"
remotes = [
    { dst = "192.0.2.2" },
    { mac = "52:54:00:00:01:02", dst = "192.0.2.3", vni = 200, port = 4790 },
]
"#;
    let read: BridgeConfig = from_toml(doc).unwrap();
    let built = BridgeConfig::new("br100")
        .unwrap()
        .mac("52:54:00:00:01:00")
        .vxlan_port(
            bridgekit::VxlanConfig::new("vx100", 100)
                .unwrap()
                .local("192.0.2.1".parse().unwrap())
                .underlay("eth0")
                .learning(false)
                .mac("52:54:00:00:01:64")
                .remote(bridgekit::Remote::flood("192.0.2.2".parse().unwrap()))
                .remote(
                    bridgekit::Remote::for_mac("52:54:00:00:01:02", "192.0.2.3".parse().unwrap())
                        .vni(bridgekit::Vni::new(200).unwrap())
                        .port(4790),
                ),
            PortConfig::new().learning(false).neigh_suppress(true).up(),
        );
    assert_eq!(read, built);
    let written = serde_json::to_string(&read).unwrap();
    assert_eq!(
        from_json::<BridgeConfig>(&written).unwrap(),
        built,
        "{written}"
    );
    // The VXLAN port is written once, under vxlan_ports.
    let v: Value = serde_json::from_str(&written).unwrap();
    assert!(v.get("ports").is_none(), "{v}");
    assert_eq!(v["vxlan_ports"][0]["vxlan"]["vni"], 100, "{v}");

    for (bad, at, needle) in [
        (
            doc.replace("vni = 100", "vni = 0"),
            "`vxlan_ports[0].vxlan`",
            "VNI 0",
        ),
        (
            doc.replace("vni = 100", "vni = 16777216"),
            "`vxlan_ports[0].vxlan`",
            "VNI 16777216",
        ),
        (
            doc.replace("learning = false\nmac", "dstport = 0\nmac"),
            "`vxlan_ports[0].vxlan`",
            "port",
        ),
        (
            doc.replace(
                "{ dst = \"192.0.2.2\" },",
                "{ dst = \"192.0.2.2\" }, { dst = \"192.0.2.2\" },",
            ),
            "`vxlan_ports[0].vxlan`",
            "declared twice",
        ),
        (
            doc.replace("vni = 200", "vni = 0"),
            "`vxlan_ports[0].vxlan.remotes[1]`",
            "VNI 0",
        ),
        (
            doc.replace("underlay", "uplink"),
            "`vxlan_ports[0].vxlan.uplink`",
            "unknown field `uplink`",
        ),
    ] {
        let r = from_toml::<BridgeConfig>(&bad);
        assert_refused(&bad, r, at, needle);
    }
}

/// A guest guard in a document: as the builders make it, written back the
/// same, bad values refused where they stand.
#[test]
fn guest_guards_in_a_document() {
    let doc = json!({"name": "br0", "ports": [
        {"name": "vnet0", "managed": "52:54:00:00:00:0a", "up": true, "guest_guard": {
            "ipv4": ["192.0.2.10", "198.51.100.0/28"],
            "ipv6": ["fd00:1::/64"],
            "without": ["other_l2", "dhcp_server"],
        }},
        {"name": "vnet1", "guest_guard": {"mac": "52:54:00:00:00:0b"}},
    ]});
    let config: BridgeConfig = bridgekit::from_deserializer(doc.clone()).unwrap();
    let built = BridgeConfig::new("br0")
        .unwrap()
        .port(
            "vnet0",
            PortConfig::managed("52:54:00:00:00:0a")
                .guest_guard(
                    bridgekit::GuestGuard::new()
                        .ipv4("192.0.2.10".parse::<std::net::Ipv4Addr>().unwrap())
                        .ipv4(
                            "198.51.100.0/28"
                                .parse::<bridgekit::ipnet::Ipv4Net>()
                                .unwrap(),
                        )
                        .ipv6("fd00:1::/64".parse::<bridgekit::ipnet::Ipv6Net>().unwrap())
                        .without(bridgekit::GuardRule::OtherL2)
                        .without(bridgekit::GuardRule::DhcpServer),
                )
                .up(),
        )
        .port(
            "vnet1",
            PortConfig::new().guest_guard(bridgekit::GuestGuard::new().mac("52:54:00:00:00:0b")),
        );
    assert_eq!(config, built);
    let mut written = serde_json::to_value(&config).unwrap();
    // The rules come back in the order they are checked.
    written["ports"][0]["guest_guard"]["without"] = json!(["other_l2", "dhcp_server"]);
    assert_eq!(written, doc);
    let text = toml::to_string(&config).unwrap();
    let back: BridgeConfig =
        bridgekit::from_deserializer(toml::Deserializer::parse(&text).unwrap()).unwrap();
    assert_eq!(back, config);

    for (bad, at, needle) in [
        (
            json!({"name": "br0", "ports": [{"name": "p0", "guest_guard": {}}]}),
            "`ports[0]`",
            "needs the guest's MAC",
        ),
        (
            json!({"name": "br0", "ports": [{"name": "p0", "managed": "52:54:00:00:00:0a", "guest_guard": {"ipv4": ["fd00::1"]}}]}),
            "`ports[0]`",
            "IPv4 address or prefix",
        ),
        (
            json!({"name": "br0", "ports": [{"name": "p0", "guest_guard": {"without": ["everything"]}}]}),
            "`ports[0].guest_guard.without[0]`",
            "unknown variant",
        ),
        (
            json!({"name": "br0", "ports": [{"name": "p0", "guest_guard": {"mac": "01:00:5e:00:00:01"}}]}),
            "`ports[0].guest_guard.mac`",
            "multicast",
        ),
    ] {
        let text = bad.to_string();
        assert_refused(
            &text,
            bridgekit::from_deserializer::<BridgeConfig, _>(bad),
            at,
            needle,
        );
    }
}

#[test]
fn forward_modes_in_a_document() {
    for (doc, built) in [
        (
            json!({"name": "virbr0", "addresses": ["192.168.122.1/24"],
                   "forward": {"mode": "nat", "uplink": "eth0"}}),
            bridgekit::Forward::nat().via("eth0").unwrap(),
        ),
        (
            json!({"name": "virbr0", "addresses": ["192.168.122.1/24"],
                   "forward": {"mode": "nat", "nat66": true}}),
            bridgekit::Forward::nat66(),
        ),
        (
            json!({"name": "virbr0", "addresses": ["192.168.122.1/24"],
                   "forward": {"mode": "routed"}}),
            bridgekit::Forward::routed(),
        ),
        (
            json!({"name": "virbr0", "addresses": ["192.168.122.1/24"],
                   "forward": {"mode": "isolated"}}),
            bridgekit::Forward::Isolated,
        ),
        (
            json!({"name": "virbr0", "addresses": ["192.168.122.1/24"],
                   "forward": {"mode": "open"}}),
            bridgekit::Forward::Open,
        ),
    ] {
        let config: BridgeConfig = bridgekit::from_deserializer(doc.clone()).unwrap();
        let want = BridgeConfig::new("virbr0")
            .unwrap()
            .address("192.168.122.1/24")
            .forward(built);
        assert_eq!(config, want, "{doc}");
        assert_eq!(serde_json::to_value(&config).unwrap(), doc);
        let text = toml::to_string(&config).unwrap();
        let back: BridgeConfig =
            bridgekit::from_deserializer(toml::Deserializer::parse(&text).unwrap()).unwrap();
        assert_eq!(back, config, "{text}");
    }
    for (bad, needle) in [
        (
            json!({"name": "br0", "addresses": ["10.0.0.1/24"], "forward": {"mode": "bridge"}}),
            "one of open, isolated, nat, routed",
        ),
        (
            json!({"name": "br0", "addresses": ["10.0.0.1/24"], "forward": {"mode": "isolated", "uplink": "eth0"}}),
            "forwards through no uplink",
        ),
        (
            json!({"name": "br0", "addresses": ["10.0.0.1/24"], "forward": {"mode": "routed", "nat66": true}}),
            "nat66 is an option of the nat mode",
        ),
        (
            json!({"name": "br0", "forward": {"mode": "nat"}}),
            "needs an IPv4 address",
        ),
        (
            json!({"name": "br0", "forward": {"mode": "nat", "masquerade": true}}),
            "unknown field",
        ),
    ] {
        let text = bad.to_string();
        let e = bridgekit::from_deserializer::<BridgeConfig, _>(bad).unwrap_err();
        assert!(e.to_string().contains(needle), "{text}: {e}");
    }
}
