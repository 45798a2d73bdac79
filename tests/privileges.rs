//! Privileges: a process without CAP_NET_ADMIN over the namespace gets
//! `PermissionDenied`, naming the operation, from every mutating call, and
//! can still read. The unprivileged side is a child process of this test
//! binary, started through `setpriv` with CAP_NET_ADMIN dropped from its
//! bounding set (it keeps CAP_SYS_ADMIN, which joining the namespace needs).

mod common;

use std::process::Command;

use bridgekit::{Bridge, BridgeConfig, Error, Netlink, Op, PortConfig, VlanId, VlanMember};
use common::*;

const CHILD_ENV: &str = "BRIDGEKIT_TEST_NETNS_WITHOUT_NET_ADMIN";

#[test]
fn without_net_admin_changes_are_denied_and_reads_work() {
    netns_test(|nl| async move {
        if !sh_ok(&["setpriv", "--version"]) {
            lacks("setpriv (util-linux)");
            return Ok(());
        }
        let br = Bridge::create(&nl, BridgeConfig::new("br0")?.mac("52:54:00:00:0d:01")).await?;
        br.add_address("10.0.13.1/24").await?;
        veth("p0", "p0peer");
        veth("p1", "p1peer");
        br.attach_port("p0", PortConfig::new()).await?;
        let before = kernel_state();
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let ns = format!("/proc/{}/task/{tid}/ns/net", std::process::id());
        let exe = std::env::current_exe()?;
        let out = Command::new("setpriv")
            .args(["--bounding-set=-net_admin", "--inh-caps=-net_admin"])
            .arg(&exe)
            .args([
                "--exact",
                "child_without_net_admin",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &ns)
            .output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "unprivileged child failed:\n{text}");
        assert!(
            text.contains("1 passed"),
            "the child test did not run:\n{text}"
        );
        assert_eq!(kernel_state(), before, "a denied call changed something");
        Ok(())
    });
}

/// The unprivileged half; runs only when the test above starts it.
#[test]
#[ignore = "started by without_net_admin_changes_are_denied_and_reads_work, without CAP_NET_ADMIN"]
fn child_without_net_admin() {
    let ns = std::env::var(CHILD_ENV).expect("run by the parent test");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let nl = Netlink::connect_in_netns(&ns).expect("join the namespace");
        // Reads work.
        let br = Bridge::open(&nl, "br0").await.expect("open");
        let st = br.status().await.expect("status");
        assert_eq!(st.ports.len(), 1);
        br.fdb().await.expect("fdb");
        br.addresses().await.expect("addresses");
        br.vlans("p0").await.expect("vlans");
        // Every change is denied, naming what was attempted.
        fn denied<T: std::fmt::Debug>(r: Result<T, Error>, op: Op) {
            match r {
                Err(Error::PermissionDenied {
                    op: got, ref iface, ..
                }) => {
                    assert_eq!(got, op, "{iface:?}");
                    let text = r.unwrap_err().to_string();
                    assert!(text.contains("CAP_NET_ADMIN"), "{text}");
                }
                other => panic!("{op}: expected PermissionDenied, got {other:?}"),
            }
        }
        let mac: bridgekit::macaddr::MacAddr6 = "52:54:00:00:0d:02".parse().unwrap();
        denied(
            Bridge::create(&nl, BridgeConfig::new("br9").unwrap()).await,
            Op::CreateBridge,
        );
        denied(br.set_mac(mac).await, Op::SetMac);
        denied(br.set_mtu(1400).await, Op::SetMtu);
        denied(br.up().await, Op::SetUp);
        denied(br.down().await, Op::SetDown);
        denied(br.set_stp(false).await, Op::SetBridgeOptions);
        denied(
            br.set_ageing_time(std::time::Duration::from_secs(60)).await,
            Op::SetBridgeOptions,
        );
        denied(br.add_address("10.0.13.2/24").await, Op::AddAddress);
        denied(br.remove_address("10.0.13.1/24").await, Op::RemoveAddress);
        denied(
            br.attach_port("p1", PortConfig::new()).await,
            Op::AttachPort,
        );
        denied(
            br.attach_ports([("p1", PortConfig::new())]).await,
            Op::AttachPort,
        );
        denied(br.detach_port("p0").await, Op::DetachPort);
        denied(br.detach_ports(["p0"]).await, Op::DetachPort);
        denied(br.add_fdb("p0", mac, None).await, Op::AddFdb);
        denied(br.set_vlan_filtering(true).await, Op::SetVlanOptions);
        denied(
            br.add_vlans("p0", &[VlanMember::access(VlanId::new(5).unwrap())])
                .await,
            Op::AddVlans,
        );
        denied(br.clone().delete().await, Op::DeleteBridge);
    });
}
