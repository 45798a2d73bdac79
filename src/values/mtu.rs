//! MTUs: the range the kernel takes on an Ethernet-like link, checked
//! before any request.

use crate::error::InputKind;
use crate::error::{Error, Result};

/// Smallest MTU the kernel accepts on an Ethernet-like link.
pub const MIN_MTU: u32 = 68;
/// Largest MTU a bridge accepts.
pub const MAX_MTU: u32 = 65535;

/// `mtu` if it is within [`MIN_MTU`]..=[`MAX_MTU`], else
/// [`Error::InvalidInput`].
pub(crate) fn validate_mtu(mtu: u32) -> Result<u32> {
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        return Err(Error::invalid(
            InputKind::Mtu,
            format!("MTU {mtu}"),
            format!("must be within {MIN_MTU}..={MAX_MTU}"),
        ));
    }
    Ok(mtu)
}
