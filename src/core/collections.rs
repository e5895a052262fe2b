//! Maps, sets and priority queues with a fast, seeded (DoS-resistant) hasher: keys include
//! client-chosen ids (agent ids, external ids, request ids), so the seed must not be guessable.
//! Every core collection keyed by such ids uses these aliases.

pub type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, ahash::RandomState>;
pub type PriorityQueue<I, P> = priority_queue::PriorityQueue<I, P, ahash::RandomState>;
