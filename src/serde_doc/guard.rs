//! The guest guard as a document: `guest_guard = { ipv4 = [...], ipv6 =
//! [...], without = [...] }` in a port's entry.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use super::*;
use crate::guard::{GuardRule, GuestGuard};

/// A guard as a document writes it: the guest's MAC if the guard names
/// one, its addresses (`192.0.2.10` or a prefix `192.0.2.0/28`), and the
/// rules taken out.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct GuardDoc {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_mac_de"
    )]
    mac: Option<MacAddrDe>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ipv4: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ipv6: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    without: Vec<GuardRule>,
}

/// A host address (`/32`, `/128`) as the bare address, a prefix with its
/// length.
fn net_text(addr: impl fmt::Display, len: u8, host: u8) -> String {
    if len == host {
        addr.to_string()
    } else {
        format!("{addr}/{len}")
    }
}

fn bad(text: &str, family: &str) -> Error {
    Error::invalid(
        InputKind::Address,
        format!("guest guard {family} address {text:?}"),
        format!("an {family} address or prefix (ADDRESS or ADDRESS/LEN)"),
    )
}

impl From<&GuestGuard> for GuardDoc {
    fn from(g: &GuestGuard) -> Self {
        GuardDoc {
            mac: g.mac.map(MacAddrDe),
            ipv4: g
                .ipv4
                .iter()
                .map(|n| net_text(n.addr(), n.prefix_len(), 32))
                .collect(),
            ipv6: g
                .ipv6
                .iter()
                .map(|n| net_text(n.addr(), n.prefix_len(), 128))
                .collect(),
            without: GuardRule::ALL.into_iter().filter(|r| !g.has(*r)).collect(),
        }
    }
}

impl GuardDoc {
    /// The guard, through its builders.
    pub(super) fn guard(&self) -> Result<GuestGuard> {
        let mut g = GuestGuard::new();
        if let Some(mac) = self.mac {
            g = g.mac(mac.0);
        }
        for text in &self.ipv4 {
            let net = text
                .parse::<Ipv4Net>()
                .or_else(|_| text.parse::<Ipv4Addr>().map(Ipv4Net::from))
                .map_err(|_| bad(text, "IPv4"))?;
            g = g.ipv4(net);
        }
        for text in &self.ipv6 {
            let net = text
                .parse::<Ipv6Net>()
                .or_else(|_| text.parse::<Ipv6Addr>().map(Ipv6Net::from))
                .map_err(|_| bad(text, "IPv6"))?;
            g = g.ipv6(net);
        }
        for rule in &self.without {
            g = g.without(*rule);
        }
        Ok(g)
    }
}
