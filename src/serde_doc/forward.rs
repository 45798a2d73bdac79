//! A bridge's forward mode as a document: `forward = { mode = "nat",
//! uplink = "eth0", nat66 = true }` in a bridge's entry (`mode` is one of
//! `open`, `isolated`, `nat`, `routed`).

use super::*;
use crate::forward::Forward;

/// A forward mode as a document writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ForwardDoc {
    mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uplink: Option<IfName>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    nat66: bool,
}

impl From<&Forward> for ForwardDoc {
    fn from(f: &Forward) -> Self {
        ForwardDoc {
            mode: f.name().to_string(),
            uplink: f.uplink().cloned(),
            nat66: f.masquerades_ipv6(),
        }
    }
}

impl ForwardDoc {
    /// The mode, through its constructors.
    pub(super) fn forward(&self) -> Result<Forward> {
        let refuse = |why: &str| {
            Err(Error::invalid(
                InputKind::Forward,
                format!("forward mode {:?}", self.mode),
                why.to_string(),
            ))
        };
        let mode = match (self.mode.as_str(), self.nat66) {
            ("nat", false) => Forward::nat(),
            ("nat", true) => Forward::nat66(),
            (_, true) => return refuse("nat66 is an option of the nat mode"),
            ("routed", _) => Forward::routed(),
            ("isolated", _) => Forward::Isolated,
            ("open", _) => Forward::Open,
            _ => return refuse("one of open, isolated, nat, routed"),
        };
        match &self.uplink {
            Some(uplink) => mode.via(uplink.as_str()),
            None => Ok(mode),
        }
    }
}
