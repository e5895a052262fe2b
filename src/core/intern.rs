//! Interning: tickets that carry equal customer ids or equal skill sets share one allocation.
//! A million open tickets of fifty thousand customers, needing a few dozen distinct skill sets,
//! hold fifty thousand customer strings and a few dozen skill sets, not a million of each.
//!
//! Values are reference counted, so the interner holds one reference of its own. Values no
//! ticket uses any more are swept out once the set has doubled since the last sweep: memory
//! stays within twice what the tickets in memory use, at O(1) amortized per intern.

use super::collections::HashSet;
use super::types::SkillSet;
use std::hash::Hash;
use std::sync::Arc;

/// A value shared by reference count.
pub trait Shared: Clone + Eq + Hash {
    /// Whether anything besides the interner still holds the value.
    fn in_use(&self) -> bool;
}

impl Shared for Arc<str> {
    fn in_use(&self) -> bool {
        Arc::strong_count(self) > 1
    }
}

impl Shared for SkillSet {
    fn in_use(&self) -> bool {
        self.strong_count() > 1
    }
}

/// The sweep never runs below this many values: small sets are not worth sweeping.
const SWEEP_FLOOR: usize = 1024;

/// One shared copy of each distinct value in use.
pub struct Interner<T> {
    values: HashSet<T>,
    /// How many values survived the last sweep.
    swept_to: usize,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            values: HashSet::default(),
            swept_to: 0,
        }
    }
}

impl<T: Shared> Interner<T> {
    /// The shared copy equal to `value` (which becomes the shared copy if it is the first).
    pub fn intern(&mut self, value: T) -> T {
        if let Some(shared) = self.values.get(&value) {
            return shared.clone();
        }
        self.values.insert(value.clone());
        if self.values.len() > SWEEP_FLOOR.max(2 * self.swept_to) {
            self.sweep();
        }
        value
    }

    /// Drops the values nothing else holds.
    fn sweep(&mut self) {
        self.values.retain(Shared::in_use);
        self.swept_to = self.values.len();
    }

    /// How many distinct values are held (in use or not yet swept).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_allocation() {
        let mut strings = Interner::<Arc<str>>::default();
        let a = strings.intern(Arc::from("customer-1"));
        let b = strings.intern(Arc::from("customer-1"));
        assert!(Arc::ptr_eq(&a, &b));
        let c = strings.intern(Arc::from("customer-2"));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(strings.len(), 2);
    }

    #[test]
    fn values_nobody_holds_are_swept_once_the_set_doubles() {
        let mut strings = Interner::<Arc<str>>::default();
        let kept: Vec<Arc<str>> = (0..10)
            .map(|i| strings.intern(Arc::from(format!("kept-{i}"))))
            .collect();
        // Interned and dropped at once: only the interner holds these.
        for i in 0..SWEEP_FLOOR {
            strings.intern(Arc::from(format!("gone-{i}")));
        }
        assert!(strings.len() <= SWEEP_FLOOR, "swept: {}", strings.len());
        for (i, k) in kept.iter().enumerate() {
            let again = strings.intern(Arc::from(format!("kept-{i}")));
            assert!(Arc::ptr_eq(k, &again), "a value in use survives the sweep");
        }
        // A long run of short-lived values never holds more than twice the live ones.
        for i in 0..100 * SWEEP_FLOOR {
            strings.intern(Arc::from(format!("churn-{i}")));
            assert!(strings.len() <= SWEEP_FLOOR + 1);
        }
    }

    #[test]
    fn skill_sets_are_shared() {
        use crate::core::types::Skill;
        let mut sets = Interner::<SkillSet>::default();
        let a = sets.intern(SkillSet::new(vec![Skill::new("en"), Skill::new("billing")]));
        let b = sets.intern(SkillSet::new(vec![Skill::new("billing"), Skill::new("en")]));
        assert!(a.ptr_eq(&b));
        assert_eq!(sets.len(), 1);
    }
}
