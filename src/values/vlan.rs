//! 802.1Q VLANs: ids, ranges, memberships, and the bridge-wide VLAN settings.
//!
//! The types here are plain values; the calls that change the kernel are
//! [`Bridge::add_vlans`](crate::Bridge::add_vlans) and friends, in
//! `bridge/vlans.rs`.

use crate::error::InputKind;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Largest VLAN id a bridge accepts (4095 is reserved).
pub const MAX_VLAN_ID: u16 = 4094;

/// A VLAN id, 1..=4094.
///
/// ```
/// use bridgekit::VlanId;
/// assert_eq!(VlanId::new(10)?.get(), 10);
/// assert!(VlanId::new(0).is_err());
/// assert!(VlanId::new(4095).is_err());
/// assert_eq!("100".parse::<VlanId>()?.get(), 100);
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VlanId(u16);

impl VlanId {
    /// Validates an id.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] outside 1..=4094.
    ///
    /// ```
    /// assert!(bridgekit::VlanId::new(4094).is_ok());
    /// ```
    pub fn new(id: u16) -> Result<Self> {
        if id == 0 || id > MAX_VLAN_ID {
            return Err(Error::invalid(
                InputKind::VlanId,
                format!("VLAN id {id}"),
                format!("must be within 1..={MAX_VLAN_ID}"),
            ));
        }
        Ok(VlanId(id))
    }

    /// The id as a number.
    ///
    /// ```
    /// assert_eq!(bridgekit::VlanId::new(7)?.get(), 7);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for VlanId {
    type Error = Error;
    fn try_from(id: u16) -> Result<Self> {
        VlanId::new(id)
    }
}

impl From<VlanId> for u16 {
    fn from(v: VlanId) -> u16 {
        v.0
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for VlanId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let id: u16 = s.trim().parse().map_err(|_| {
            Error::invalid(
                InputKind::VlanId,
                format!("VLAN id {s:?}"),
                "not a number in 1..=4094",
            )
        })?;
        VlanId::new(id)
    }
}

/// An inclusive range of VLAN ids, `start <= end`.
///
/// ```
/// use bridgekit::VlanRange;
/// let r = VlanRange::new(100, 199)?;
/// assert_eq!(r.len(), 100);
/// assert_eq!(r.to_string(), "100-199");
/// assert_eq!("10".parse::<VlanRange>()?.to_string(), "10");
/// assert!(VlanRange::new(20, 10).is_err());
/// assert_eq!(VlanRange::all().len(), 4094);
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VlanRange {
    start: VlanId,
    end: VlanId,
}

impl VlanRange {
    /// Validates a range.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if either end is outside 1..=4094 or the
    /// range is reversed.
    ///
    /// ```
    /// assert!(bridgekit::VlanRange::new(1, 4094).is_ok());
    /// ```
    pub fn new(start: u16, end: u16) -> Result<Self> {
        let (s, e) = (VlanId::new(start)?, VlanId::new(end)?);
        if s > e {
            return Err(Error::invalid(
                InputKind::VlanList,
                format!("VLAN range {start}-{end}"),
                "start is above end",
            ));
        }
        Ok(VlanRange { start: s, end: e })
    }

    /// One VLAN.
    ///
    /// ```
    /// let r = bridgekit::VlanRange::single(bridgekit::VlanId::new(5)?);
    /// assert_eq!(r.len(), 1);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub const fn single(id: VlanId) -> Self {
        VlanRange { start: id, end: id }
    }

    /// Every VLAN, 1-4094 (a trunk).
    ///
    /// ```
    /// assert_eq!(bridgekit::VlanRange::all().to_string(), "1-4094");
    /// ```
    #[must_use]
    pub const fn all() -> Self {
        VlanRange {
            start: VlanId(1),
            end: VlanId(MAX_VLAN_ID),
        }
    }

    /// First id.
    ///
    /// ```
    /// assert_eq!(bridgekit::VlanRange::all().start().get(), 1);
    /// ```
    #[must_use]
    pub const fn start(&self) -> VlanId {
        self.start
    }

    /// Last id.
    ///
    /// ```
    /// assert_eq!(bridgekit::VlanRange::all().end().get(), 4094);
    /// ```
    #[must_use]
    pub const fn end(&self) -> VlanId {
        self.end
    }

    /// How many ids.
    ///
    /// ```
    /// assert_eq!(bridgekit::VlanRange::new(3, 4)?.len(), 2);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty
    #[must_use]
    pub const fn len(&self) -> usize {
        (self.end.0 - self.start.0) as usize + 1
    }

    /// Whether `id` is in the range.
    ///
    /// ```
    /// use bridgekit::{VlanId, VlanRange};
    /// assert!(VlanRange::all().contains(VlanId::new(9)?));
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn contains(&self, id: VlanId) -> bool {
        self.start <= id && id <= self.end
    }

    /// The ids, in order.
    ///
    /// ```
    /// let ids: Vec<u16> = bridgekit::VlanRange::new(3, 5)?.ids().map(|v| v.get()).collect();
    /// assert_eq!(ids, [3, 4, 5]);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = VlanId> + use<> {
        (self.start.0..=self.end.0).map(VlanId)
    }
}

impl From<VlanId> for VlanRange {
    fn from(id: VlanId) -> Self {
        VlanRange::single(id)
    }
}

impl fmt::Display for VlanRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl FromStr for VlanRange {
    type Err = Error;
    /// `"10"` or `"10-20"`, as `bridge vlan add vid` takes them.
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('-') {
            None => Ok(VlanRange::single(s.parse()?)),
            Some((a, b)) => {
                let (a, b): (VlanId, VlanId) = (a.parse()?, b.parse()?);
                VlanRange::new(a.get(), b.get())
            }
        }
    }
}

/// A port's (or the bridge's own) membership in a range of VLANs, as
/// `bridge vlan add dev PORT vid RANGE [pvid] [untagged]` sets it and
/// `bridge vlan show` lists it.
///
/// ```
/// use bridgekit::{VlanId, VlanMember, VlanRange};
/// // An access port in VLAN 10: frames leave untagged, untagged frames join VLAN 10.
/// let access = VlanMember::access(VlanId::new(10)?);
/// assert!(access.pvid && access.untagged);
/// // A trunk carrying every VLAN tagged.
/// let trunk = VlanMember::tagged(VlanRange::all());
/// assert!(!trunk.pvid && !trunk.untagged);
/// # Ok::<(), bridgekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct VlanMember {
    /// The VLANs.
    pub range: VlanRange,
    /// Untagged frames arriving on the port join this VLAN (single VLANs only).
    pub pvid: bool,
    /// Frames of these VLANs leave the port untagged.
    pub untagged: bool,
}

impl VlanMember {
    /// Tagged membership in `range`.
    ///
    /// ```
    /// let m = bridgekit::VlanMember::tagged(bridgekit::VlanRange::new(100, 110)?);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    pub fn tagged(range: impl Into<VlanRange>) -> Self {
        VlanMember {
            range: range.into(),
            pvid: false,
            untagged: false,
        }
    }

    /// Access membership: `vid` is the PVID and leaves untagged.
    ///
    /// ```
    /// let m = bridgekit::VlanMember::access(bridgekit::VlanId::new(10)?);
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn access(vid: VlanId) -> Self {
        VlanMember {
            range: vid.into(),
            pvid: true,
            untagged: true,
        }
    }

    /// Marks this VLAN as the PVID (`pvid`); only valid for a single VLAN.
    ///
    /// ```
    /// let m = bridgekit::VlanMember::tagged(bridgekit::VlanId::new(5)?).pvid();
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn pvid(mut self) -> Self {
        self.pvid = true;
        self
    }

    /// Frames leave untagged (`untagged`).
    ///
    /// ```
    /// let m = bridgekit::VlanMember::tagged(bridgekit::VlanId::new(5)?).untagged();
    /// # Ok::<(), bridgekit::Error>(())
    /// ```
    #[must_use]
    pub fn untagged(mut self) -> Self {
        self.untagged = true;
        self
    }
}

impl fmt::Display for VlanMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vid {}", self.range)?;
        if self.pvid {
            f.write_str(" pvid")?;
        }
        if self.untagged {
            f.write_str(" untagged")?;
        }
        Ok(())
    }
}

/// The EtherType a VLAN-filtering bridge uses for its tags.
///
/// ```
/// assert_eq!(bridgekit::VlanProtocol::Dot1Ad.to_string(), "802.1ad");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VlanProtocol {
    /// 802.1Q (0x8100), the default.
    #[default]
    Dot1Q,
    /// 802.1ad (0x88a8), "QinQ" service tags.
    Dot1Ad,
    /// Another EtherType the kernel reported, kept as it is (bridgekit
    /// never sets one: the kernel takes only the two above).
    Other(u16),
}

impl fmt::Display for VlanProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VlanProtocol::Dot1Q => f.write_str("802.1Q"),
            VlanProtocol::Dot1Ad => f.write_str("802.1ad"),
            VlanProtocol::Other(t) => write!(f, "EtherType {t:#06x}"),
        }
    }
}

/// Checks a list of memberships before any traffic: a PVID only on a single
/// VLAN, at most one PVID, and no VLAN listed twice (its flags would be ambiguous).
pub(crate) fn validate(members: &[VlanMember]) -> Result<()> {
    if members.is_empty() {
        return Err(Error::invalid(InputKind::VlanList, "VLAN list", "is empty"));
    }
    let mut seen = vec![false; usize::from(MAX_VLAN_ID) + 1];
    let mut pvid = None;
    for m in members {
        if m.pvid {
            if m.range.len() != 1 {
                return Err(Error::invalid(
                    InputKind::VlanList,
                    format!("VLAN {}", m.range),
                    "a PVID must be a single VLAN, not a range",
                ));
            }
            if let Some(p) = pvid.replace(m.range.start) {
                return Err(Error::invalid(
                    InputKind::VlanList,
                    format!("VLANs {p} and {}", m.range.start),
                    "a port has only one PVID",
                ));
            }
        }
        for id in m.range.ids() {
            let slot = &mut seen[usize::from(id.get())];
            if *slot {
                return Err(Error::invalid(
                    InputKind::VlanList,
                    format!("VLAN {id}"),
                    "is listed twice in one request",
                ));
            }
            *slot = true;
        }
    }
    Ok(())
}

/// Checks ranges for removal: at least one, no VLAN twice.
pub(crate) fn validate_ranges(ranges: &[VlanRange]) -> Result<()> {
    let members: Vec<VlanMember> = ranges.iter().map(|r| VlanMember::tagged(*r)).collect();
    validate(&members)
}

/// Merges entries into the fewest memberships: consecutive ids with the same
/// flags become one range; a PVID always stands alone (the kernel refuses a
/// PVID range). Input order does not matter; a repeated id keeps its last flags.
pub(crate) fn compress(entries: impl IntoIterator<Item = (VlanId, bool, bool)>) -> Vec<VlanMember> {
    let mut table: Vec<Option<(bool, bool)>> = vec![None; usize::from(MAX_VLAN_ID) + 1];
    for (id, pvid, untagged) in entries {
        table[usize::from(id.get())] = Some((pvid, untagged));
    }
    let mut out: Vec<VlanMember> = Vec::new();
    for (vid, flags) in table.iter().enumerate() {
        let Some((pvid, untagged)) = *flags else {
            continue;
        };
        let id = VlanId(vid as u16);
        if let Some(last) = out.last_mut() {
            if !pvid && !last.pvid && last.untagged == untagged && last.range.end.0 + 1 == id.0 {
                last.range.end = id;
                continue;
            }
        }
        out.push(VlanMember {
            range: VlanRange::single(id),
            pvid,
            untagged,
        });
    }
    out
}

/// `members` as a table indexed by VLAN id: `Some((pvid, untagged))` for a member.
pub(crate) fn table(members: &[VlanMember]) -> Vec<Option<(bool, bool)>> {
    let mut t = vec![None; usize::from(MAX_VLAN_ID) + 1];
    for m in members {
        for id in m.range.ids() {
            t[usize::from(id.get())] = Some((m.pvid, m.untagged));
        }
    }
    t
}

/// Every id of `members` with its flags, in order of appearance.
pub(crate) fn expand(members: &[VlanMember]) -> Vec<(VlanId, bool, bool)> {
    members
        .iter()
        .flat_map(|m| m.range.ids().map(move |id| (id, m.pvid, m.untagged)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: u16) -> VlanId {
        VlanId::new(v).unwrap()
    }

    #[test]
    fn ids_and_ranges_are_validated() {
        assert!(VlanId::new(0).is_err());
        assert!(VlanId::new(4095).is_err());
        assert!(VlanId::new(u16::MAX).is_err());
        assert!("x".parse::<VlanId>().is_err());
        assert!("-1".parse::<VlanId>().is_err());
        assert!("4095".parse::<VlanRange>().is_err());
        assert!("20-10".parse::<VlanRange>().is_err());
        assert!("1-".parse::<VlanRange>().is_err());
        assert_eq!("1-4094".parse::<VlanRange>().unwrap(), VlanRange::all());
    }

    #[test]
    fn validation_refuses_ambiguous_lists() {
        let r = |a, b| VlanRange::new(a, b).unwrap();
        assert!(validate(&[]).is_err());
        assert!(validate(&[VlanMember::tagged(r(1, 5)).pvid()]).is_err());
        assert!(validate(&[VlanMember::access(id(1)), VlanMember::access(id(2))]).is_err());
        assert!(validate(&[VlanMember::tagged(r(1, 5)), VlanMember::tagged(r(5, 6))]).is_err());
        assert!(validate(&[VlanMember::access(id(10)), VlanMember::tagged(r(100, 4094))]).is_ok());
    }

    #[test]
    fn compress_merges_and_keeps_pvid_alone() {
        let entries = vec![
            (id(3), false, false),
            (id(1), true, true),
            (id(2), false, false),
            (id(4), false, true),
            (id(5), false, true),
            (id(7), false, true),
        ];
        let c = compress(entries.clone());
        let shown: Vec<String> = c.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            shown,
            [
                "vid 1 pvid untagged",
                "vid 2-3",
                "vid 4-5 untagged",
                "vid 7 untagged"
            ]
        );
        let mut back = expand(&c);
        back.sort();
        let mut want = entries;
        want.sort();
        assert_eq!(back, want);
        assert_eq!(
            compress(expand(&[VlanMember::tagged(VlanRange::all())])).len(),
            1
        );
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Random memberships with at most one PVID, as the kernel keeps them.
        fn entries() -> impl Strategy<Value = Vec<(VlanId, bool, bool)>> {
            (
                proptest::collection::btree_map(1u16..=4094, any::<bool>(), 0..300),
                proptest::option::of(1u16..=4094),
            )
                .prop_map(|(map, pvid)| {
                    let mut v: Vec<(VlanId, bool, bool)> = map
                        .into_iter()
                        .map(|(id, u)| (VlanId::new(id).unwrap(), Some(id) == pvid, u))
                        .collect();
                    if let Some(p) = pvid {
                        if !v.iter().any(|(id, _, _)| id.get() == p) {
                            v.push((VlanId::new(p).unwrap(), true, true));
                        }
                    }
                    v.sort();
                    v
                })
        }

        proptest! {
            #[test]
            fn compress_then_expand_is_the_identity(e in entries()) {
                let c = compress(e.clone());
                let mut back = expand(&c);
                back.sort();
                prop_assert_eq!(back, e);
                prop_assert!(validate(&c).is_ok() || c.is_empty());
            }

            #[test]
            fn compress_is_minimal(e in entries()) {
                let c = compress(e);
                for w in c.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    prop_assert!(a.range.end() < b.range.start());
                    let mergeable = !a.pvid && !b.pvid && a.untagged == b.untagged
                        && a.range.end().get() + 1 == b.range.start().get();
                    prop_assert!(!mergeable, "{} and {} could be one range", a, b);
                }
            }
        }
    }
}
