//! What the tests expect of the running kernel: the features bridgekit
//! offers where kernels differ, each with the first kernel version that has
//! it. On a kernel at or above that version a missing feature fails the
//! test in the kernel tier; below it, bridgekit must answer `Unsupported`.

/// One feature that differs between kernels.
pub struct Feature {
    /// As the README's kernel table names it.
    pub name: &'static str,
    /// The first kernel version (major, minor) that has it.
    pub since: (u32, u32),
    /// A kernel config option it also needs, if any (the host kernel here
    /// lacks CONFIG_BRIDGE_VLAN_FILTERING).
    pub config: Option<&'static str>,
}

pub const FEATURES: &[Feature] = &[
    Feature {
        name: "bridge VLAN filtering",
        since: (3, 8),
        config: Some("CONFIG_BRIDGE_VLAN_FILTERING"),
    },
    Feature {
        name: "802.1ad VLAN protocol",
        since: (4, 0),
        config: Some("CONFIG_BRIDGE_VLAN_FILTERING"),
    },
    Feature {
        name: "per-VLAN statistics",
        since: (4, 7),
        config: Some("CONFIG_BRIDGE_VLAN_FILTERING"),
    },
    Feature {
        name: "port option multicast flood",
        since: (4, 9),
        config: None,
    },
    Feature {
        name: "port option broadcast flood",
        since: (4, 11),
        config: None,
    },
    Feature {
        name: "port option neighbour suppression",
        since: (4, 15),
        config: None,
    },
    Feature {
        name: "port option isolated",
        since: (4, 18),
        config: None,
    },
    Feature {
        name: "port option guard",
        since: (3, 8),
        config: None,
    },
    Feature {
        name: "port option root_block",
        since: (3, 8),
        config: None,
    },
    Feature {
        name: "port option multicast fast leave",
        since: (3, 8),
        config: None,
    },
    Feature {
        name: "port option proxy_arp",
        since: (3, 19),
        config: None,
    },
    Feature {
        name: "port option multicast router",
        since: (4, 2),
        config: None,
    },
    Feature {
        name: "port option group_fwd_mask",
        since: (4, 15),
        config: None,
    },
    Feature {
        name: "port option locked",
        since: (5, 18),
        config: None,
    },
    Feature {
        name: "macvtap guest NIC",
        since: (2, 6),
        config: Some("CONFIG_MACVTAP"),
    },
    Feature {
        name: "port option backup_port",
        since: (4, 20),
        config: None,
    },
    Feature {
        name: "port option mab",
        since: (6, 2),
        config: None,
    },
    Feature {
        name: "tap offload USO",
        since: (6, 2),
        config: None,
    },
    Feature {
        name: "port option neigh_vlan_suppress",
        since: (6, 4),
        config: None,
    },
];

/// The running kernel's release string (`uname -r`).
pub fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The running kernel's (major, minor).
pub fn running() -> (u32, u32) {
    let release = release();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The table's entry for `name`.
pub fn feature(name: &str) -> &'static Feature {
    FEATURES
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the feature table"))
}

/// Whether this kernel's version has `name` (its config may still lack it).
pub fn version_has(name: &str) -> bool {
    running() >= feature(name).since
}
