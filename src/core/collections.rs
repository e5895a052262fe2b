//! Maps, sets and priority queues with a fast, seeded (DoS-resistant) hasher: keys include
//! client-chosen ids (agent ids, external ids, request ids), so the seed must not be guessable.
//! Every core collection keyed by such ids uses these aliases.

pub type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, ahash::RandomState>;
pub type PriorityQueue<I, P> = priority_queue::PriorityQueue<I, P, ahash::RandomState>;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use std::hash::Hash;

/// A hash index whose keys live elsewhere: it holds small handles (a ticket id, a position),
/// and every call that needs a key is given `key_of` to read a handle's key from where it is
/// stored. A key such as an external or request id is then kept once, not once in the index
/// and again in what it indexes. Every handle in the index must resolve through `key_of`.
#[derive(Debug)]
pub struct HandleIndex<H> {
    table: HashTable<H>,
    hasher: ahash::RandomState,
}

impl<H> Default for HandleIndex<H> {
    fn default() -> Self {
        HandleIndex {
            table: HashTable::new(),
            hasher: ahash::RandomState::new(),
        }
    }
}

impl<H: Copy + Eq> HandleIndex<H> {
    /// The handle filed under `key`.
    pub fn find<'k, K>(&self, key: &K, key_of: impl Fn(H) -> &'k K) -> Option<H>
    where
        K: Hash + Eq + ?Sized + 'k,
    {
        let hash = self.hasher.hash_one(key);
        self.table.find(hash, |&h| key_of(h) == key).copied()
    }

    /// Files `handle` under `key` (which `key_of(handle)` must already return); a handle
    /// filed under an equal key is replaced and returned.
    pub fn insert<'k, K>(&mut self, key: &K, handle: H, key_of: impl Fn(H) -> &'k K) -> Option<H>
    where
        K: Hash + Eq + ?Sized + 'k,
    {
        match self.entry(key, &key_of) {
            Entry::Occupied(mut filed) => Some(std::mem::replace(filed.get_mut(), handle)),
            Entry::Vacant(free) => {
                free.insert(handle);
                None
            }
        }
    }

    /// Files `handle` under `key` unless a handle is filed under an equal key already (then
    /// false, and that one stays). One probe of the table either way.
    pub fn insert_new<'k, K>(&mut self, key: &K, handle: H, key_of: impl Fn(H) -> &'k K) -> bool
    where
        K: Hash + Eq + ?Sized + 'k,
    {
        match self.entry(key, &key_of) {
            Entry::Occupied(_) => false,
            Entry::Vacant(free) => {
                free.insert(handle);
                true
            }
        }
    }

    fn entry<'k, K>(&mut self, key: &K, key_of: &impl Fn(H) -> &'k K) -> Entry<'_, H>
    where
        K: Hash + Eq + ?Sized + 'k,
    {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        self.table
            .entry(hash, |&h| key_of(h) == key, |&h| hasher.hash_one(key_of(h)))
    }

    /// Unfiles `handle` from under `key`; false if it was not filed there.
    pub fn remove<K: Hash + ?Sized>(&mut self, key: &K, handle: H) -> bool {
        let hash = self.hasher.hash_one(key);
        match self.table.find_entry(hash, |&h| h == handle) {
            Ok(found) => {
                found.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Room for `n` more handles.
    pub fn reserve<'k, K>(&mut self, n: usize, key_of: impl Fn(H) -> &'k K)
    where
        K: Hash + ?Sized + 'k,
    {
        let hasher = &self.hasher;
        self.table.reserve(n, |&h| hasher.hash_one(key_of(h)));
    }

    pub fn clear(&mut self) {
        self.table.clear();
    }
}

/// Adds `items` (in any order) to `set`. Into an empty set they are sorted once and built
/// bottom-up into full nodes (std's `FromIterator`), which is much cheaper than a million
/// inserts that each descend the tree, and leaves fewer nodes: inserts in ascending order
/// leave every node they split half full.
pub fn fill<T: Ord>(set: &mut std::collections::BTreeSet<T>, items: Vec<T>) {
    if set.is_empty() {
        *set = items.into_iter().collect();
    } else {
        set.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_index_finds_replaces_and_removes_by_the_keys_it_does_not_store() {
        let keys = ["a", "b", "a"];
        let key_of = |h: usize| keys[h];
        let mut index = HandleIndex::default();
        assert_eq!(index.insert("a", 0, key_of), None);
        assert_eq!(index.insert("b", 1, key_of), None);
        assert_eq!(index.find("a", key_of), Some(0));
        assert_eq!(
            index.insert("a", 2, key_of),
            Some(0),
            "an equal key is replaced"
        );
        assert_eq!(index.find("a", key_of), Some(2));
        assert!(
            !index.remove("a", 0),
            "a replaced handle is not filed any more"
        );
        assert_eq!(index.find("a", key_of), Some(2));
        assert!(index.remove("a", 2));
        assert_eq!(index.find("a", key_of), None);
        assert!(!index.insert_new("b", 3, key_of), "b is filed: it stays");
        assert_eq!(index.find("b", key_of), Some(1));
        assert!(index.insert_new("a", 0, key_of), "a was free");
        assert_eq!(index.find("a", key_of), Some(0));
        index.reserve(1000, key_of);
        assert_eq!(index.find("b", key_of), Some(1), "kept through the growth");
    }
}
