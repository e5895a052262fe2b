//! A sparse map from ticket id to item, stored in fixed-size chunks of boxed slots.
//!
//! Ticket ids are dense and only grow, but tickets leave memory when they finish (they move
//! to the archive in the store), so the table is sparse: a long-lived desk has issued tens of
//! millions of ids of which a few thousand are open. A chunk covers `CHUNK` consecutive ids,
//! holds one pointer per id and is freed once its last item leaves, so memory follows the
//! items present, not the ids ever issued; a ticket that stays open for months pins one chunk
//! of pointers (8 KiB), not the tickets around it. Lookup is two indexings and a pointer.
//!
//! `position` is the one place the id arithmetic lives.

use super::types::TicketId;
use std::ops::{Index, IndexMut};

const CHUNK: usize = 1024;

#[derive(Clone, Debug)]
pub struct Chunked<T> {
    chunks: Vec<Option<Chunk<T>>>,
    len: usize,
}

#[derive(Clone, Debug)]
struct Chunk<T> {
    slots: Box<[Option<Box<T>>]>,
    present: usize,
}

impl<T> Chunk<T> {
    fn new() -> Chunk<T> {
        Chunk {
            slots: (0..CHUNK).map(|_| None).collect(),
            present: 0,
        }
    }
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// How many items are present.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Puts `value` at `id`, returning what was there.
    pub fn insert(&mut self, id: TicketId, value: T) -> Option<T> {
        let index = position(id).expect("ticket ids start at 1");
        let (c, s) = (index / CHUNK, index % CHUNK);
        if self.chunks.len() <= c {
            self.chunks.resize_with(c + 1, || None);
        }
        let chunk = self.chunks[c].get_or_insert_with(Chunk::new);
        let old = chunk.slots[s].replace(Box::new(value));
        if old.is_none() {
            chunk.present += 1;
            self.len += 1;
        }
        old.map(|b| *b)
    }

    /// Takes the item at `id` out; frees its chunk when that was the chunk's last item.
    pub fn remove(&mut self, id: TicketId) -> Option<T> {
        let index = position(id)?;
        let (c, s) = (index / CHUNK, index % CHUNK);
        let entry = self.chunks.get_mut(c)?;
        let chunk = entry.as_mut()?;
        let old = chunk.slots[s].take()?;
        chunk.present -= 1;
        self.len -= 1;
        if chunk.present == 0 {
            *entry = None;
            while matches!(self.chunks.last(), Some(None)) {
                self.chunks.pop();
            }
        }
        Some(*old)
    }

    /// The item of ticket `id`, if there is one (id 0 never is).
    #[inline]
    pub fn by_id(&self, id: TicketId) -> Option<&T> {
        let index = position(id)?;
        let chunk = self.chunks.get(index / CHUNK)?.as_ref()?;
        chunk.slots[index % CHUNK].as_deref()
    }

    #[inline]
    pub fn by_id_mut(&mut self, id: TicketId) -> Option<&mut T> {
        let index = position(id)?;
        let chunk = self.chunks.get_mut(index / CHUNK)?.as_mut()?;
        chunk.slots[index % CHUNK].as_deref_mut()
    }

    pub fn contains(&self, id: TicketId) -> bool {
        self.by_id(id).is_some()
    }

    /// Every item, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.iter_after(None)
    }

    /// The items of the tickets after `after` (all of them for `None`), in id order.
    pub fn iter_after(&self, after: Option<TicketId>) -> impl Iterator<Item = &T> {
        // Ticket `n` is at index `n - 1`, so the one after it is at index `n`.
        let start = after.map_or(0, |id| usize::try_from(id.0).unwrap_or(usize::MAX));
        let (first, skip) = (start / CHUNK, start % CHUNK);
        self.chunks
            .iter()
            .enumerate()
            .skip(first)
            .filter_map(|(c, chunk)| Some((c, chunk.as_ref()?)))
            .flat_map(move |(c, chunk)| {
                let from = if c == first { skip } else { 0 };
                chunk.slots[from..]
                    .iter()
                    .filter_map(|slot| slot.as_deref())
            })
    }
}

/// Where ticket `id` is stored: ids start at 1 and are dense, so ticket `n` is item `n - 1`.
/// Also the ticket's arrival order from 0, which the simulator uses to find its contact.
pub fn position(id: TicketId) -> Option<usize> {
    usize::try_from(id.0).ok()?.checked_sub(1)
}

/// Indexing by ticket id; the item must be present (panics otherwise, like `[]`).
impl<T> Index<TicketId> for Chunked<T> {
    type Output = T;
    #[inline]
    fn index(&self, id: TicketId) -> &T {
        self.by_id(id).expect("no item for this ticket id")
    }
}

impl<T> IndexMut<TicketId> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, id: TicketId) -> &mut T {
        self.by_id_mut(id).expect("no item for this ticket id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> TicketId {
        TicketId(n as u64)
    }

    #[test]
    fn inserts_indexes_and_iterates_in_id_order_across_chunks() {
        let mut c = Chunked::default();
        for n in (1..=CHUNK * 2 + 5).rev() {
            assert_eq!(c.insert(id(n), n), None);
        }
        assert_eq!(c.len(), CHUNK * 2 + 5);
        assert_eq!(c[id(CHUNK + 3)], CHUNK + 3);
        assert_eq!(c.by_id(id(CHUNK * 2 + 6)), None);
        assert_eq!(c.by_id(TicketId(0)), None);
        assert_eq!(c.iter().count(), c.len());
        assert!(c.iter().copied().eq(1..=CHUNK * 2 + 5));
        assert_eq!(c.iter_after(Some(id(CHUNK))).next(), Some(&(CHUNK + 1)));
        assert_eq!(c.iter_after(Some(TicketId(u64::MAX))).next(), None);
        c[id(7)] = 70;
        assert_eq!(c.insert(id(7), 7), Some(70));
        assert_eq!(c.len(), CHUNK * 2 + 5, "replacing does not count twice");
    }

    #[test]
    fn removing_every_item_of_a_chunk_frees_it_and_iteration_skips_gaps() {
        let mut c = Chunked::default();
        for n in 1..=CHUNK * 3 {
            c.insert(id(n), n);
        }
        for n in 1..=CHUNK {
            assert_eq!(c.remove(id(n)), Some(n));
        }
        assert_eq!(c.remove(id(1)), None, "gone already");
        assert!(c.chunks[0].is_none(), "the first chunk was freed");
        for n in CHUNK + 2..=CHUNK * 3 - 1 {
            c.remove(id(n));
        }
        assert_eq!(c.len(), 2);
        assert_eq!(
            c.iter().copied().collect::<Vec<_>>(),
            vec![CHUNK + 1, CHUNK * 3]
        );
        assert_eq!(c.iter_after(Some(id(CHUNK + 1))).next(), Some(&(CHUNK * 3)));
        c.remove(id(CHUNK * 3));
        assert_eq!(c.chunks.len(), 2, "trailing empty chunks are dropped");
        c.remove(id(CHUNK + 1));
        assert!(c.is_empty() && c.chunks.is_empty());
    }
}
