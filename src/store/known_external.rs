//! Which external ids the archive may hold, so that a create (which must be refused, or
//! answered as a retry, when an archived ticket already has its external id) costs no store
//! read in the usual case of an id never seen before.
//!
//! A growable Bloom filter (`growable-bloom-filter`: scalable Bloom filters, a layer added as
//! the archive grows) over the archive's external-id index. It is never wrong in the direction
//! that matters: an id it says is absent is absent. An id it says may be present is looked up
//! as before, which is also what a deleted (pruned, erased) id costs until the next boot
//! rebuilds the filter, and what every id costs until the filter is built.
//!
//! The filter is built in the background, from the first lookup on, so a boot does not wait
//! for a walk of a large archive's index. Ids written meanwhile are kept aside and added when
//! the walk ends.

use growable_bloom_filter::GrowableBloom;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The chance that an id the archive does not hold costs a lookup all the same.
const FALSE_POSITIVES: f64 = 0.01;

/// The first layer's size, in ids; later layers grow as the archive does.
const FIRST_LAYER: usize = 100_000;

#[derive(Default)]
enum State {
    /// Every id counts as maybe present.
    #[default]
    Unbuilt,
    /// A walk of the index is under way; ids written since it began wait here.
    Building {
        noted: Vec<Box<[u8]>>,
    },
    Built(GrowableBloom),
}

/// The filter and how far it is built.
#[derive(Default)]
pub struct KnownExternal {
    state: Mutex<State>,
}

impl KnownExternal {
    /// Marks the start of a walk of the index, unless one is under way or done; returns
    /// whether the caller should walk. From here on, written ids are kept for `built`.
    pub fn begin(&self) -> bool {
        let mut state = self.lock();
        if !matches!(*state, State::Unbuilt) {
            return false;
        }
        *state = State::Building { noted: Vec::new() };
        true
    }

    /// Walks `ids` (the index, read after `begin`) into a filter and puts it in force with the
    /// ids written meanwhile. On an error from the walk the filter stays unbuilt.
    pub fn build<E>(&self, mut ids: impl Iterator<Item = Result<Vec<u8>, E>>) -> Result<(), E> {
        let mut filter = GrowableBloom::new(FALSE_POSITIVES, FIRST_LAYER);
        let walked = ids.try_for_each(|id| {
            filter.insert(id?.as_slice());
            Ok(())
        });
        let mut state = self.lock();
        match (walked, std::mem::take(&mut *state)) {
            (Ok(()), State::Building { noted }) => {
                for id in noted {
                    filter.insert(&*id);
                }
                *state = State::Built(filter);
                Ok(())
            }
            (Ok(()), other) => {
                *state = other;
                Ok(())
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Whether the filter is in force.
    #[cfg(test)]
    pub fn is_built(&self) -> bool {
        matches!(*self.lock(), State::Built(_))
    }

    /// Gives up a walk that could not start: every id counts as maybe present again.
    pub fn abandon(&self) {
        *self.lock() = State::Unbuilt;
    }

    /// Adds ids about to be written to the archive's index. The filter stays locked while the
    /// returned guard lives: hold it until they are written, so that no walk can `begin`
    /// between the two (it would miss them: neither read nor kept aside).
    #[must_use = "hold the guard until the ids are written"]
    pub fn note<'a>(&self, ids: impl Iterator<Item = &'a [u8]>) -> Noted<'_> {
        let mut state = self.lock();
        match &mut *state {
            State::Unbuilt => {}
            State::Building { noted } => noted.extend(ids.map(Box::from)),
            State::Built(filter) => {
                for id in ids {
                    filter.insert(id);
                }
            }
        }
        Noted { _state: state }
    }

    /// Whether the archive may hold `id`: `false` only when it surely does not.
    pub fn may_hold(&self, id: &[u8]) -> bool {
        match &*self.lock() {
            State::Built(filter) => filter.contains(id),
            _ => true,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The filter, locked from `KnownExternal::note` until the noted ids are written.
pub struct Noted<'a> {
    _state: MutexGuard<'a, State>,
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
        assert!(known.begin());
        assert!(!known.begin(), "one walk at a time");
        drop(known.note([&b"during"[..]].into_iter()));
        assert!(known.may_hold(b"never"), "still building");
        known.build(ids(300_000)).unwrap();
        drop(known.note([&b"after"[..]].into_iter()));
        assert!((0..300_000).all(|i| known.may_hold(format!("ext-{i}").as_bytes())));
        assert!(known.may_hold(b"during") && known.may_hold(b"after"));
        let strangers = (0..100_000)
            .filter(|i| known.may_hold(format!("new-{i}").as_bytes()))
            .count();
        assert!(
            strangers < 2_000,
            "{strangers} of 100,000 unknown ids passed"
        );
        assert!(!known.begin(), "built once");
    }

    #[test]
    fn a_failed_walk_leaves_it_unbuilt_and_a_new_walk_may_begin() {
        let known = KnownExternal::default();
        assert!(known.begin());
        let failing = ids(5).chain(std::iter::once(Err(())));
        assert!(known.build(failing).is_err());
        assert!(known.may_hold(b"never-seen"));
        assert!(known.begin());
    }
}
