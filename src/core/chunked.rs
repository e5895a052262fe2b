//! An append-only vector stored in fixed-size chunks. Growing it never moves what is already
//! there: a `Vec` of a million tickets would copy hundreds of megabytes at each doubling and
//! hand the allocator a huge block to free (the profile showed both).

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
}
