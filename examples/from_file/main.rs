//! Desired state from a file: reads a bridge with ports and VLANs from
//! TOML (`network.toml` beside this file, or the path given) and applies
//! it twice. The first run creates and configures everything; the second
//! finds it all in place and changes nothing.
//!
//! Runs in a private network namespace of its own, so it touches nothing on
//! your machine. Needs the `serde` feature:
//!
//! ```text
//! cargo run --features serde --example from_file
//! cargo run --features serde --example from_file -- my-network.toml
//! ```
//!
//! On a kernel without bridge VLAN filtering the file's VLANs cannot be
//! applied: the example says so and applies the file without them.

#[path = "../support/private_netns.rs"]
mod private_netns;

use bridgekit::{BridgeConfig, Error, Netlink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    private_netns::enter_private_netns()?;
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/from_file/network.toml"
        )
        .to_string()
    });
    let text = std::fs::read_to_string(&path)?;
    // A bad field is refused with its path and why, e.g. "invalid config
    // field `ports[0].vlans[0].vid`: invalid VLAN id 5000: must be within 1..=4094".
    let config: BridgeConfig = bridgekit::from_deserializer(toml::Deserializer::parse(&text)?)?;
    println!(
        "read {path}: bridge {} with {} ports",
        config.name(),
        config.ports().len()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(config, &text))
}

async fn run(config: BridgeConfig, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    let nl = Netlink::connect()?;
    // The ports are the guests' NICs; here veth pairs stand in for them.
    for port in config.ports() {
        make_veth(&port.to_string()).await?;
    }
    let config = match config.apply(&nl).await {
        Err(Error::Unsupported { detail, .. }) => {
            // A host kernel without CONFIG_BRIDGE_VLAN_FILTERING: the same
            // document with its VLANs taken out.
            println!(
                "this kernel cannot apply the file's VLANs ({detail}); applying it without them"
            );
            let mut doc: toml::Table = toml::from_str(text)?;
            doc.remove("vlan_filtering");
            for port in doc
                .get_mut("ports")
                .and_then(|p| p.as_array_mut())
                .into_iter()
                .flatten()
            {
                port.as_table_mut().map(|t| t.remove("vlans"));
            }
            let config: BridgeConfig = bridgekit::from_deserializer(doc)?;
            show("first apply", &config.apply(&nl).await?.changes);
            config
        }
        Err(e) => return Err(e.into()),
        Ok(applied) => {
            show("first apply", &applied.changes);
            config
        }
    };
    let again = config.apply(&nl).await?;
    show("second apply", &again.changes);
    assert!(
        again.changes.is_empty(),
        "a second apply changed {:?}",
        again.changes
    );

    let status = bridgekit::Bridge::open(&nl, config.name())
        .await?
        .status()
        .await?;
    println!("{}", serde_json::to_string_pretty(&status)?);
    Ok(())
}

fn show(what: &str, changes: &[bridgekit::Change]) {
    println!("{what}: {} changes", changes.len());
    for change in changes {
        println!("  {change}");
    }
}

/// A veth pair `name` / `name`p, the peer up, standing in for a guest's tap.
async fn make_veth(name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (conn, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(conn);
    let peer = format!("{name}p");
    handle
        .link()
        .add(rtnetlink::LinkVeth::new(name, &peer).build())
        .execute()
        .await?;
    let mut links = handle.link().get().match_name(peer).execute();
    use futures::TryStreamExt;
    let peer = links
        .try_next()
        .await?
        .ok_or("veth peer just created is missing")?;
    handle
        .link()
        .set(
            rtnetlink::LinkUnspec::new_with_index(peer.header.index)
                .up()
                .build(),
        )
        .execute()
        .await?;
    Ok(())
}
