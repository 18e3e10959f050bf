//! What a committed write changed, as far as a data plane cares.
//!
//! A data-plane loop rebuilds only what changed: the EIP rows an EIP action
//! wrote (its fast path re-reads just those), or everything. Inside one
//! process the controller tells its loop directly; across processes sharing
//! one store (several `eipd` nodes, agents on gateway hosts) the note travels
//! with the commit ([`crate::Tx::note_changes`]), so an agent patches one EIP
//! instead of rereading the estate for every association made on another
//! node.

use std::collections::BTreeSet;

/// The changes of one or more writes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Allocation ids of EIPs written by EIP actions.
    pub eips: BTreeSet<String>,
    /// Something other than an EIP row may have changed.
    pub other: bool,
}

/// Longest encoded note; past it a note says only "something changed"
/// (PostgreSQL's NOTIFY payloads stop at 8000 bytes).
const MAX_ENCODED: usize = 4000;

impl Changes {
    /// Changes that say "anything may have changed".
    pub fn anything() -> Changes {
        Changes { eips: BTreeSet::new(), other: true }
    }

    /// Whether nothing a data plane builds changed.
    pub fn is_empty(&self) -> bool {
        !self.other && self.eips.is_empty()
    }

    /// Adds another write's changes.
    pub fn merge(&mut self, more: &Changes) {
        self.other |= more.other;
        self.eips.extend(more.eips.iter().cloned());
    }

    /// The note as text safe to quote in SQL: `*` (anything), `` (nothing),
    /// or `e:` and comma-separated allocation ids. Ids that are not plain
    /// (letters, digits, `-`, `_`, `.`) or too many make it `*`.
    pub fn encode(&self) -> String {
        if self.other {
            return "*".into();
        }
        let plain = |id: &String| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !self.eips.iter().all(plain) {
            return "*".into();
        }
        if self.eips.is_empty() {
            return String::new();
        }
        let s = format!("e:{}", self.eips.iter().cloned().collect::<Vec<_>>().join(","));
        if s.len() > MAX_ENCODED { "*".into() } else { s }
    }

    /// Reads [`Changes::encode`]'s text; anything it does not know means
    /// "anything may have changed".
    pub fn decode(s: &str) -> Changes {
        match s {
            "" => Changes::default(),
            _ => match s.strip_prefix("e:") {
                Some(ids) if !ids.is_empty() => {
                    Changes { eips: ids.split(',').map(str::to_owned).collect(), other: false }
                }
                _ => Changes::anything(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eips(ids: &[&str]) -> Changes {
        Changes { eips: ids.iter().map(|s| s.to_string()).collect(), other: false }
    }

    #[test]
    fn notes_round_trip_and_unsafe_or_oversized_ones_say_anything() {
        for c in [Changes::default(), Changes::anything(), eips(&["eip-1"]), eips(&["eip-a", "eip-b"])] {
            assert_eq!(Changes::decode(&c.encode()), c);
        }
        assert_eq!(eips(&["eip-1'; DROP TABLE eip; --"]).encode(), "*");
        assert_eq!(eips(&["a,b"]).encode(), "*");
        let many: Vec<String> = (0..1000).map(|i| format!("eip-{i:020}")).collect();
        let big = Changes { eips: many.into_iter().collect(), other: false };
        assert_eq!(big.encode(), "*");
        assert_eq!(Changes::decode("what"), Changes::anything());
        assert_eq!(Changes::decode("e:"), Changes::anything());
    }

    #[test]
    fn merging_keeps_every_eip_and_anything_wins() {
        let mut c = eips(&["eip-1"]);
        c.merge(&eips(&["eip-2"]));
        assert_eq!(c, eips(&["eip-1", "eip-2"]));
        c.merge(&Changes::anything());
        assert!(c.other && !c.is_empty());
        assert!(Changes::default().is_empty());
    }
}
