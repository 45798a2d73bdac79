//! The system calls under netlink: network namespaces, the running
//! kernel's version, tap devices (TUNSETIFF, offloads) and a device's
//! features (SIOCETHTOOL).

pub(crate) mod ethtool;
pub(crate) mod kernel;
pub(crate) mod netns;
pub(crate) mod tap;
