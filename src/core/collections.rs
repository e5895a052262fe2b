//! Maps, sets and priority queues with a fast, seeded (DoS-resistant) hasher: keys include
//! client-chosen ids (agent ids, external ids, request ids), so the seed must not be guessable.
//! Every core collection keyed by such ids uses these aliases.

pub type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, ahash::RandomState>;
pub type PriorityQueue<I, P> = priority_queue::PriorityQueue<I, P, ahash::RandomState>;

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
