//! The system calls under netlink: network namespaces, the running
//! kernel's version, and tap devices (TUNSETIFF).

pub(crate) mod kernel;
pub(crate) mod netns;
pub(crate) mod tap;
