//! Interning: tickets that carry equal customer ids or equal skill sets share one allocation.
//! A million open tickets of fifty thousand customers, needing a few dozen distinct skill sets,
//! hold fifty thousand customer strings and a few dozen skill sets, not a million of each.
//!
//! Values are reference counted, so the interner holds one reference of its own. Values no
//! ticket uses any more are swept out once the set has doubled since the last sweep: memory
//! stays within twice what the tickets in memory use, at O(1) amortized per intern.
//!
//! A recovery interns while it decodes, on the store's reading thread (`Shares::decoding`):
//! a customer id or skill set seen before is found from the record's bytes and shared without
//! allocating a copy first, and the ticket table adopts the interners afterwards, so the
//! rebuild does no string hashing or allocation for them.

use super::collections::HashSet;
use super::types::{Skill, SkillSet};
use serde::de::{Deserializer, SeqAccess, Visitor};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
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
        self.add(value)
    }

    /// The shared copy equal to `key`, made with `make` only when there is none yet: a value
    /// seen before costs no allocation.
    pub fn intern_borrowed<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> T) -> T
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(shared) = self.values.get(key) {
            return shared.clone();
        }
        self.add(make(key))
    }

    /// Adds `value`, which is not held yet, as the shared copy.
    fn add(&mut self, value: T) -> T {
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

/// The interners of the values tickets share, handed from the ticket table to a recovery's
/// decoding thread and back (`RecoverySink::lend_shares`, `adopt_shares`).
#[derive(Default)]
pub struct Shares {
    customers: Interner<Arc<str>>,
    skill_sets: Interner<SkillSet>,
    /// Skill names, so that a skill set is looked up by its skills without allocating them
    /// (the table does not keep this one: its skill sets hold the names).
    skills: Interner<Arc<str>>,
    /// The skills of the set being decoded.
    scratch: Vec<Skill>,
}

thread_local! {
    /// The interners decoding uses on this thread, while `Shares::decoding` runs.
    static DECODING: RefCell<Option<Shares>> = const { RefCell::new(None) };
}

impl Shares {
    pub(super) fn new(customers: Interner<Arc<str>>, skill_sets: Interner<SkillSet>) -> Shares {
        Shares {
            customers,
            skill_sets,
            ..Shares::default()
        }
    }

    /// The customer ids and skill sets, for the ticket table to keep.
    pub(super) fn into_parts(self) -> (Interner<Arc<str>>, Interner<SkillSet>) {
        (self.customers, self.skill_sets)
    }

    /// Runs `decode` with these interners in effect on this thread: every customer id and
    /// skill set decoded meanwhile (`decode_customer_id`, `SkillSet`'s `Deserialize`) is the
    /// shared copy. Returns them, with whatever they gained, and what `decode` returned.
    pub fn decoding<R>(self, decode: impl FnOnce() -> R) -> (Shares, R) {
        let outer = DECODING.with(|cell| cell.replace(Some(self)));
        let result = decode();
        // (Should `decode` panic, they stay with the thread, which the panic ends.)
        let shares = DECODING.with(|cell| cell.replace(outer));
        (shares.unwrap_or_default(), result)
    }
}

/// `f` with the interners decoding uses on this thread, if any.
fn with_decoding<R>(f: impl FnOnce(Option<&mut Shares>) -> R) -> R {
    DECODING.with(|cell| f(cell.borrow_mut().as_mut()))
}

/// A string from a record, handed to a function as it is read (borrowed from the record when
/// the format allows), so that it is copied once at most.
struct Str<F>(F);

impl<'de, T, F: FnOnce(&str) -> T> Visitor<'de> for Str<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(v))
    }
}

/// Decodes a shared string (as serde decodes an `Arc<str>`) with one allocation, where serde
/// makes a `String`, then a boxed copy for the `Arc`.
pub fn decode_arc_str<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    d.deserialize_str(Str(|v: &str| Arc::<str>::from(v)))
}

/// Decodes a ticket's customer id: while `Shares::decoding` runs on this thread, the shared
/// copy (no allocation when it was seen before).
pub fn decode_customer_id<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    d.deserialize_str(Str(|v: &str| {
        with_decoding(|shares| match shares {
            Some(shares) => shares.customers.intern_borrowed(v, |v: &str| Arc::from(v)),
            None => Arc::from(v),
        })
    }))
}

/// Decodes a skill set in `SkillSet`'s serde form (a newtype of a sequence of `Skill`
/// newtypes, each a string, sorted and without duplicates as `SkillSet::new` wrote them):
/// while `Shares::decoding` runs on this thread, the shared copy, found from the skills as
/// they are read (no allocation when it was seen before).
pub fn decode_skill_set<'de, D: Deserializer<'de>>(d: D) -> Result<SkillSet, D::Error> {
    d.deserialize_newtype_struct("SkillSet", SkillSetVisitor)
}

struct SkillSetVisitor;

impl<'de> Visitor<'de> for SkillSetVisitor {
    type Value = SkillSet;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a skill set")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<SkillSet, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SkillSet, A::Error> {
        let mut skills = with_decoding(|shares| shares.map(|s| std::mem::take(&mut s.scratch)))
            .unwrap_or_default();
        skills.clear();
        while let Some(skill) = seq.next_element_seed(SkillSeed)? {
            skills.push(skill);
        }
        Ok(with_decoding(|shares| match shares {
            Some(shares) => {
                let set = shares
                    .skill_sets
                    .intern_borrowed(&skills[..], |s| SkillSet::new(s.to_vec()));
                skills.clear();
                shares.scratch = skills;
                set
            }
            None => SkillSet::new(skills),
        }))
    }
}

/// One `Skill` of a set being decoded: its name shared while `Shares::decoding` runs.
struct SkillSeed;

impl<'de> serde::de::DeserializeSeed<'de> for SkillSeed {
    type Value = Skill;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Skill, D::Error> {
        d.deserialize_newtype_struct("Skill", self)
    }
}

impl<'de> Visitor<'de> for SkillSeed {
    type Value = Skill;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a skill")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Skill, D::Error> {
        d.deserialize_str(Str(|v: &str| {
            Skill(with_decoding(|shares| match shares {
                Some(shares) => shares.skills.intern_borrowed(v, |v: &str| Arc::from(v)),
                None => Arc::from(v),
            }))
        }))
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

    /// A record with the fields a ticket decodes shared.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Rec {
        #[serde(deserialize_with = "decode_customer_id")]
        customer: Arc<str>,
        #[serde(deserialize_with = "decode_arc_str")]
        external: Arc<str>,
        skills: SkillSet,
    }

    fn rec(customer: &str, skills: &[&str]) -> Vec<u8> {
        let skills = SkillSet::new(skills.iter().map(|s| Skill::new(s)).collect());
        let rec = Rec {
            customer: Arc::from(customer),
            external: Arc::from("x"),
            skills,
        };
        postcard::to_allocvec(&rec).expect("encode")
    }

    fn decode(bytes: &[u8]) -> Rec {
        postcard::from_bytes(bytes).expect("decode")
    }

    #[test]
    fn decoding_with_shares_gives_the_shared_copies_and_hands_them_back() {
        let (a, b) = (
            rec("c-1", &["en", "billing"]),
            rec("c-1", &["billing", "en"]),
        );
        let (shares, (ra, rb, other)) =
            Shares::default().decoding(|| (decode(&a), decode(&b), decode(&rec("c-2", &["en"]))));
        assert!(Arc::ptr_eq(&ra.customer, &rb.customer));
        assert!(ra.skills.ptr_eq(&rb.skills));
        assert!(!Arc::ptr_eq(&ra.customer, &other.customer));
        assert!(!ra.skills.ptr_eq(&other.skills));
        // The interners come back holding what was decoded, for the table to go on with.
        let (mut customers, mut sets) = shares.into_parts();
        assert!(Arc::ptr_eq(
            &customers.intern(Arc::from("c-1")),
            &ra.customer
        ));
        assert!(sets.intern(rb.skills.clone()).ptr_eq(&ra.skills));
        // Outside `decoding`, equal values decode as they always did: equal, each its own.
        let (plain_a, plain_b) = (decode(&a), decode(&a));
        assert_eq!(plain_a, ra);
        assert!(!Arc::ptr_eq(&plain_a.customer, &plain_b.customer));
        assert!(!plain_a.skills.ptr_eq(&plain_b.skills));
    }

    #[test]
    fn a_skill_set_decodes_from_the_form_it_is_written_in() {
        let set = SkillSet::new(vec![Skill::new("en"), Skill::new("billing")]);
        let bytes = postcard::to_allocvec(&set).expect("encode");
        assert_eq!(
            postcard::from_bytes::<SkillSet>(&bytes).expect("postcard"),
            set
        );
        let json = serde_json::to_string(&set).expect("json");
        assert_eq!(json, r#"["billing","en"]"#);
        assert_eq!(serde_json::from_str::<SkillSet>(&json).expect("json"), set);
        let empty = postcard::to_allocvec(&SkillSet::default()).expect("encode");
        let (_, decoded) = Shares::default().decoding(|| postcard::from_bytes::<SkillSet>(&empty));
        assert_eq!(decoded.expect("empty"), SkillSet::default());
    }

    #[test]
    fn a_skill_set_hashes_as_its_skills_so_it_is_found_by_them() {
        use std::borrow::Borrow;
        let hasher = ahash::RandomState::new();
        let set = SkillSet::new(vec![Skill::new("en"), Skill::new("billing")]);
        let skills: &[Skill] = set.borrow();
        assert_eq!(hasher.hash_one(&set), hasher.hash_one(skills));
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
