//! An append-only vector stored in fixed-size chunks. Growing it never moves what is already
//! there: a `Vec` of a million tickets would copy hundreds of megabytes at each doubling and
//! hand the allocator a huge block to free (the profile showed both).
//!
//! The scheduler keeps its tickets (and their runtime state) here by id: ticket `n` is item
//! `n - 1`. `position` is the one place that arithmetic lives; index with a `TicketId`.

use super::types::TicketId;
use std::ops::{Index, IndexMut};

const CHUNK: usize = 4096;

#[derive(Clone, Debug)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
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
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        if self.len % CHUNK == 0 {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
            self.len += 1;
        }
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Items from `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &T> {
        let first = start / CHUNK;
        let skip = start % CHUNK;
        self.chunks.iter().skip(first).flatten().skip(skip)
    }

    /// The item of ticket `id`, if there is one (id 0 never is).
    pub fn by_id(&self, id: TicketId) -> Option<&T> {
        self.get(position(id)?)
    }

    /// The id the next pushed item will have.
    pub fn next_id(&self) -> TicketId {
        TicketId(self.len as u64 + 1)
    }

    /// Items of the tickets after `after` (all of them for `None`), in id order.
    pub fn iter_after(&self, after: Option<TicketId>) -> impl Iterator<Item = &T> {
        // Ticket `n` is at index `n - 1`, so the one after it is at index `n`.
        let start = after.map_or(0, |id| usize::try_from(id.0).unwrap_or(usize::MAX));
        self.iter_from(start)
    }
}

/// Where ticket `id` is stored: ids start at 1 and are dense, so ticket `n` is item `n - 1`.
/// Also the ticket's arrival order from 0, which the simulator uses to find its contact.
pub fn position(id: TicketId) -> Option<usize> {
    usize::try_from(id.0).ok()?.checked_sub(1)
}

/// Indexing by ticket id; the id must be one that was pushed (panics otherwise, like `[]`).
impl<T> Index<TicketId> for Chunked<T> {
    type Output = T;
    fn index(&self, id: TicketId) -> &T {
        &self[position(id).expect("ticket ids start at 1")]
    }
}

impl<T> IndexMut<TicketId> for Chunked<T> {
    fn index_mut(&mut self, id: TicketId) -> &mut T {
        &mut self[position(id).expect("ticket ids start at 1")]
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_iterates_and_grows_across_chunks() {
        let mut c = Chunked::default();
        for i in 0..(CHUNK * 2 + 5) {
            c.push(i);
        }
        assert_eq!(c.len(), CHUNK * 2 + 5);
        assert_eq!(c[CHUNK + 3], CHUNK + 3);
        assert_eq!(c.get(CHUNK * 2 + 5), None);
        assert_eq!(c.iter().count(), c.len());
        assert_eq!(c.iter_from(CHUNK - 1).next(), Some(&(CHUNK - 1)));
        assert_eq!(
            c.iter_from(CHUNK * 2 + 4).collect::<Vec<_>>(),
            vec![&(CHUNK * 2 + 4)]
        );
        c[7] = 70;
        assert_eq!(c.get_mut(7).copied(), Some(70));
    }

    #[test]
    fn ticket_n_is_item_n_minus_one() {
        let mut c = Chunked::default();
        assert_eq!(c.next_id(), TicketId(1));
        for i in 0..(CHUNK + 2) {
            c.push(i);
        }
        assert_eq!(c.next_id(), TicketId(CHUNK as u64 + 3));
        assert_eq!(c[TicketId(1)], 0);
        assert_eq!(c[TicketId(CHUNK as u64 + 1)], CHUNK);
        assert_eq!(c.by_id(TicketId(0)), None);
        assert_eq!(c.by_id(TicketId(CHUNK as u64 + 3)), None);
        assert_eq!(c.iter_after(None).count(), CHUNK + 2);
        assert_eq!(
            c.iter_after(Some(TicketId(CHUNK as u64))).next(),
            Some(&CHUNK)
        );
        assert_eq!(c.iter_after(Some(TicketId(u64::MAX))).next(), None);
        c[TicketId(2)] = 20;
        assert_eq!(c[1], 20);
    }
}
