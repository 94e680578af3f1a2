//! Where a tenant's tree starts in its log.
//!
//! A tenant that already had events when the tree was introduced (an
//! upgrade: migration `m20261204_000018`) keeps them outside its tree: its
//! *origin* is its last sequence at that moment, and the tree's leaf 0 is the
//! event with sequence `origin + 1`. A tenant created later has origin 0, so
//! its sequence `s` is leaf `s − 1`. Events with sequence ≤ origin are not
//! covered by any head or proof. The origin never changes, and it is part of
//! the signed bytes of every head whose origin is not 0 ([`super::head`]).

/// The last sequence that predates the tenant's tree (0: none does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TreeOrigin(pub u64);

impl TreeOrigin {
    /// The leaf index of the event at `sequence`; `None` for an event that
    /// predates the tree (sequence ≤ origin; sequences start at 1).
    pub fn leaf_index(self, sequence: u64) -> Option<u64> {
        sequence.checked_sub(self.0)?.checked_sub(1)
    }

    /// The sequence of the event at leaf `leaf_index`.
    pub fn sequence(self, leaf_index: u64) -> u64 {
        self.0.saturating_add(leaf_index).saturating_add(1)
    }

    /// The size of the tree whose last leaf is the event at `last_sequence`
    /// (0 if that event predates the tree).
    pub fn size_through(self, last_sequence: u64) -> u64 {
        last_sequence.saturating_sub(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::TreeOrigin;

    #[test]
    fn without_an_origin_sequence_s_is_leaf_s_minus_one() {
        let origin = TreeOrigin::default();
        assert_eq!(origin.leaf_index(0), None);
        assert_eq!(origin.leaf_index(1), Some(0));
        assert_eq!(origin.leaf_index(7), Some(6));
        assert_eq!(origin.sequence(6), 7);
        assert_eq!(origin.size_through(7), 7);
    }

    #[test]
    fn events_up_to_the_origin_predate_the_tree() {
        let origin = TreeOrigin(40);
        for sequence in [0, 1, 39, 40] {
            assert_eq!(origin.leaf_index(sequence), None, "{sequence}");
            assert_eq!(origin.size_through(sequence), 0, "{sequence}");
        }
        assert_eq!(origin.leaf_index(41), Some(0));
        assert_eq!(origin.leaf_index(45), Some(4));
        assert_eq!(origin.sequence(0), 41);
        assert_eq!(origin.sequence(4), 45);
        assert_eq!(origin.size_through(45), 5);
    }
}
