//! Which external ids the archive may hold, so that a create (which must be refused, or
//! answered as a retry, when an archived ticket already has its external id) costs no store
//! read in the usual case of an id never seen before.
//!
//! A growable Bloom filter (`growable-bloom-filter`: scalable Bloom filters, a layer added as
//! the archive grows) over the archive's external-id index. It is never wrong in the direction
//! that matters: an id it says is absent is absent. An id it says may be present is looked up
//! as before, which is also what a deleted (pruned, erased) id costs until the next boot
//! rebuilds the filter.

use growable_bloom_filter::GrowableBloom;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The chance that an id the archive does not hold costs a lookup all the same.
const FALSE_POSITIVES: f64 = 0.01;

/// The first layer's size, in ids; later layers grow as the archive does.
const FIRST_LAYER: usize = 100_000;

/// The filter, or nothing while it is not built (every id then counts as maybe present).
#[derive(Default)]
pub struct KnownExternal {
    filter: Mutex<Option<GrowableBloom>>,
}

impl KnownExternal {
    /// Builds the filter from every id `ids` yields, holding it locked meanwhile so that an
    /// id committed during the walk (`note` waits) is added too: what the walk missed, the
    /// waiting `note` adds. On an error from the walk the filter stays unbuilt.
    pub fn rebuild<E>(&self, ids: impl Iterator<Item = Result<Vec<u8>, E>>) -> Result<(), E> {
        let mut slot = self.lock();
        *slot = None;
        let mut filter = GrowableBloom::new(FALSE_POSITIVES, FIRST_LAYER);
        for id in ids {
            filter.insert(id?.as_slice());
        }
        *slot = Some(filter);
        Ok(())
    }

    /// Adds ids about to be written to the archive's index. The filter stays locked while the
    /// returned guard lives: hold it until they are written, so that no `rebuild` walks the
    /// index in between and at no time does the index hold an id the filter lacks.
    #[must_use = "hold the guard until the ids are written"]
    pub fn note<'a>(&self, ids: impl Iterator<Item = &'a [u8]>) -> Noted<'_> {
        let mut slot = self.lock();
        if let Some(filter) = slot.as_mut() {
            for id in ids {
                filter.insert(id);
            }
        }
        Noted { _filter: slot }
    }

    /// Whether the archive may hold `id`: `false` only when it surely does not.
    pub fn may_hold(&self, id: &[u8]) -> bool {
        self.lock()
            .as_ref()
            .is_none_or(|filter| filter.contains(id))
    }

    fn lock(&self) -> MutexGuard<'_, Option<GrowableBloom>> {
        self.filter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The filter, locked from `KnownExternal::note` until the noted ids are written.
pub struct Noted<'a> {
    _filter: MutexGuard<'a, Option<GrowableBloom>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> impl Iterator<Item = Result<Vec<u8>, ()>> {
        (0..n).map(|i| Ok(format!("ext-{i}").into_bytes()))
    }

    #[test]
    fn unbuilt_it_says_every_id_may_be_held() {
        let known = KnownExternal::default();
        drop(known.note([&b"ext-1"[..]].into_iter()));
        assert!(known.may_hold(b"anything"));
    }

    #[test]
    fn built_it_holds_every_id_walked_or_noted_and_rejects_nearly_all_others() {
        let known = KnownExternal::default();
        known.rebuild(ids(300_000)).unwrap();
        drop(known.note([&b"later"[..]].into_iter()));
        assert!((0..300_000).all(|i| known.may_hold(format!("ext-{i}").as_bytes())));
        assert!(known.may_hold(b"later"));
        let strangers = (0..100_000)
            .filter(|i| known.may_hold(format!("new-{i}").as_bytes()))
            .count();
        assert!(
            strangers < 2_000,
            "{strangers} of 100,000 unknown ids passed"
        );
    }

    #[test]
    fn a_failed_walk_leaves_it_unbuilt() {
        let known = KnownExternal::default();
        known.rebuild(ids(10)).unwrap();
        let failing = ids(5).chain(std::iter::once(Err(())));
        assert!(known.rebuild(failing).is_err());
        assert!(known.may_hold(b"never-seen"));
    }
}
