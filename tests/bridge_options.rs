//! Bridge options set as whole values: STP hello time, max age, priority,
//! group forwarding, multicast snooping/querier/versions/router, per-VLAN
//! statistics — in `create`, `apply` and `set_option`, each checked through
//! `ip -j -d link show`, bad values refused before anything is sent.

mod common;

use std::time::Duration;

use bridgekit::{Bridge, BridgeConfig, BridgeOption, Change, Error, MulticastRouter};
use common::*;

/// `ip -j -d link show` bridge options, without the timers that tick.
fn info_data(bridge: &str) -> serde_json::Value {
    let mut d = ip_link(bridge).unwrap()["linkinfo"]["info_data"].clone();
    d.as_object_mut()
        .unwrap()
        .retain(|k, _| !k.ends_with("_timer"));
    d
}

fn all_options() -> BridgeConfig {
    BridgeConfig::new("br0")
        .unwrap()
        .mac("52:54:00:00:16:01")
        .option(BridgeOption::HelloTime(Duration::from_secs(3)))
        .option(BridgeOption::MaxAge(Duration::from_secs(12)))
        .option(BridgeOption::Priority(0x1000))
        .option(BridgeOption::GroupFwdMask(1 << 14))
        .option(BridgeOption::GroupAddress(
            "01:80:c2:00:00:0e".parse().unwrap(),
        ))
        .option(BridgeOption::MulticastSnooping(false))
        .option(BridgeOption::MulticastQuerier(true))
        .option(BridgeOption::IgmpVersion(3))
        .option(BridgeOption::MldVersion(2))
        .option(BridgeOption::MulticastRouter(MulticastRouter::Permanent))
}

#[test]
fn create_sets_every_option_as_iproute2_sees_it() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, all_options()).await?;
        let d = info_data("br0");
        assert_eq!(d["hello_time"], 300);
        assert_eq!(d["max_age"], 1200);
        assert_eq!(d["priority"], 0x1000);
        assert_eq!(d["group_fwd_mask"], "0x4000");
        assert_eq!(d["group_addr"], "01:80:c2:00:00:0e");
        assert_eq!(d["mcast_snooping"], 0);
        assert_eq!(d["mcast_querier"], 1);
        assert_eq!(d["mcast_igmp_version"], 3);
        assert_eq!(d["mcast_mld_version"], 2);
        assert_eq!(d["mcast_router"], 2);
        let st = br.status().await?;
        assert_eq!(st.hello_time, Duration::from_secs(3));
        assert_eq!(st.max_age, Duration::from_secs(12));
        assert_eq!(st.priority, 0x1000);
        assert_eq!(st.group_fwd_mask, 0x4000);
        assert_eq!(st.group_address, "01:80:c2:00:00:0e".parse()?);
        assert!(!st.multicast_snooping);
        assert!(st.multicast_querier);
        assert_eq!((st.igmp_version, st.mld_version), (3, 2));
        assert_eq!(st.multicast_router, MulticastRouter::Permanent);
        Ok(())
    });
}

#[test]
fn apply_changes_only_the_options_that_differ() {
    netns_test(|nl| async move {
        all_options().apply(&nl).await?;
        assert!(all_options().apply(&nl).await?.changes.is_empty());
        let before = info_data("br0");
        let applied = all_options()
            .option(BridgeOption::Priority(0x2000))
            .option(BridgeOption::MulticastSnooping(true))
            .apply(&nl)
            .await?;
        assert_eq!(
            applied.changes,
            [
                Change::Option(BridgeOption::Priority(0x2000)),
                Change::Option(BridgeOption::MulticastSnooping(true)),
            ]
        );
        let mut after = info_data("br0");
        assert_eq!(after["priority"], 0x2000);
        assert_eq!(after["mcast_snooping"], 1);
        // Nothing else moved (info_data leaves out the ticking timers).
        for key in ["priority", "mcast_snooping", "bridge_id", "root_id"] {
            after[key] = before[key].clone();
        }
        assert_eq!(after, before);
        // One at a time, read back.
        applied
            .bridge
            .set_option(BridgeOption::MaxAge(Duration::from_secs(20)))
            .await?;
        assert_eq!(info_data("br0")["max_age"], 2000);
        Ok(())
    });
}

#[test]
fn values_the_kernel_would_refuse_are_refused_first() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        let bad = [
            BridgeOption::HelloTime(Duration::from_secs(11)),
            BridgeOption::HelloTime(Duration::from_millis(500)),
            BridgeOption::MaxAge(Duration::from_secs(5)),
            BridgeOption::MaxAge(Duration::from_secs(41)),
            BridgeOption::GroupFwdMask(0x0004),
            BridgeOption::GroupAddress("01:80:c2:00:00:01".parse().unwrap()),
            BridgeOption::GroupAddress("01:00:5e:00:00:01".parse().unwrap()),
            BridgeOption::IgmpVersion(4),
            BridgeOption::MldVersion(3),
            BridgeOption::MulticastRouter(MulticastRouter::Other(7)),
        ];
        let before = info_data("br0");
        for option in bad {
            let sent = nl.requests_sent();
            let err = br.set_option(option).await.unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { .. }),
                "{option}: {err:?}"
            );
            let err = BridgeConfig::new("br1")?
                .option(option)
                .apply(&nl)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput { .. }),
                "{option}: {err:?}"
            );
            assert_eq!(nl.requests_sent(), sent, "{option} reached the kernel");
        }
        let after = info_data("br0");
        assert_eq!(after, before);
        assert!(ip_link("br1").is_none());
        Ok(())
    });
}

#[test]
fn vlan_statistics_are_set_or_unsupported() {
    netns_test(|nl| async move {
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?).await?;
        match br.set_option(BridgeOption::VlanStats(true)).await {
            Ok(()) => {
                assert_eq!(info_data("br0")["vlan_stats_enabled"], 1);
                assert_eq!(br.status().await?.vlan_stats, Some(true));
            }
            Err(Error::Unsupported { detail, .. }) => {
                assert!(detail.contains("vlan_stats_enabled"), "{detail}");
                assert!(info_data("br0").get("vlan_stats_enabled").is_none());
                lacks("bridge VLAN filtering (per-VLAN statistics)");
            }
            Err(e) => panic!("neither set nor Unsupported: {e}"),
        }
        Ok(())
    });
}

/// The two options added as rows of the option table alone (#29): each is
/// set by `create`, seen by iproute2, in status, converged by `apply` with
/// its `Change`, undone when a later step of `apply` fails, and written and
/// read in a document.
#[test]
fn options_added_as_table_rows_work_end_to_end() {
    use bridgekit::BridgeOptionKind;
    netns_test(|nl| async move {
        let with = |on: bool| {
            BridgeConfig::new("br0")
                .unwrap()
                .mac("52:54:00:00:16:02")
                .option(BridgeOption::MulticastQueryUseIfaddr(on))
                .option(BridgeOption::MulticastStats(on))
        };
        let br = Bridge::create(&nl, with(true)).await?;
        let d = info_data("br0");
        assert_eq!(d["mcast_query_use_ifaddr"], 1);
        assert_eq!(d["mcast_stats_enabled"], 1);
        let st = br.status().await?;
        assert_eq!(
            st.option(BridgeOptionKind::MulticastQueryUseIfaddr),
            Some(BridgeOption::MulticastQueryUseIfaddr(true))
        );
        assert_eq!(
            st.option(BridgeOptionKind::MulticastStats),
            Some(BridgeOption::MulticastStats(true))
        );
        assert_eq!(
            BridgeOption::MulticastStats(true).to_string(),
            "mcast_stats_enabled on"
        );

        // Any step of apply fails: what it changed before goes back.
        let steps = fail_each_step(
            &nl,
            "apply of the new options",
            || async {
                with(true).apply(&nl).await.unwrap();
            },
            || async { with(false).mtu(1400).apply(&nl).await.map(|_| ()) },
            || async {},
        )
        .await;
        assert!(steps >= 3, "only {steps} steps");
        with(true).apply(&nl).await?;

        let applied = with(false).apply(&nl).await?;
        assert_eq!(
            applied.changes,
            [
                Change::Option(BridgeOption::MulticastQueryUseIfaddr(false)),
                Change::Option(BridgeOption::MulticastStats(false)),
            ]
        );
        let d = info_data("br0");
        assert_eq!(d["mcast_query_use_ifaddr"], 0);
        assert_eq!(d["mcast_stats_enabled"], 0);
        assert!(with(false).apply(&nl).await?.changes.is_empty());

        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_value(with(true))?;
            assert_eq!(json["options"]["multicast_query_use_ifaddr"], true);
            assert_eq!(json["options"]["multicast_stats"], true);
            let back: BridgeConfig = bridgekit::from_deserializer(json.clone())?;
            assert_eq!(back, with(true));
            let status = serde_json::to_value(br.status().await?)?;
            assert_eq!(status["options"]["multicast_stats"], false);
            assert_eq!(status["options"]["multicast_query_use_ifaddr"], false);
        }
        Ok(())
    });
}
