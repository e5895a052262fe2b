//! The write-ahead log in front of sled: what makes a group commit durable.
//!
//! sled 0.34 makes a batch atomic by writing two log buffers of its own (`apply_batch` seals
//! the current one and a manifest), each on its I/O pool with a `sync_file_range` that waits
//! for the disk, and then the flush and `fdatasync`: three disk round trips and four thread
//! handoffs per commit. Here a commit is one frame written into this file and one
//! `fdatasync`; the batch is then applied to sled with plain inserts, which sled writes out
//! in the background (its flusher, every half second). The frame is what makes the batch
//! durable and atomic: until a checkpoint says sled holds it on disk, opening the store
//! applies it again.
//!
//! Layout: two header slots (`SLOT` bytes each, written in turn, so one torn write never
//! loses the checkpoint) and then frames from `FRAMES_START`. A frame is its payload's length
//! (u32), a CRC-32 of its sequence and payload (u32), its sequence (u64) and the payload (the
//! batch). The file is filled with zeros when it is made and never shrinks, so a frame
//! overwrites blocks that exist: `fdatasync` has no file size or extent to record, only data.
//!
//! A checkpoint (`Wal::checkpoint`, once sled's flush made everything applied so far durable)
//! writes the last applied sequence into a header slot and starts the frames over from the
//! top. Reading takes frames from the top while each is whole and carries the next sequence
//! after the checkpoint's: a torn frame, zeros, or a frame left from before the checkpoint
//! (its sequence is lower) ends the log.
//!
//! Guarantees: a frame `append` returned for is read back by `open` unless a later
//! checkpoint covers it; frames come back in the order written, each whole or not at all.

use super::codec::Batch;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The file's name inside the data directory.
pub const WAL_FILE: &str = "triage.wal";

/// The file's size when made, and when frames reach it a checkpoint starts them over. Opening
/// replays at most this much, a fraction of a second.
pub const WAL_BYTES: u64 = 4 << 20;

const SLOT: u64 = 512;
const FRAMES_START: u64 = 2 * SLOT;
const MAGIC: &[u8; 8] = b"triagewl";
const VERSION: u32 = 1;
const FRAME_HEAD: usize = 16;

/// The open log: where the next frame goes and which sequence it carries.
pub struct Wal {
    file: File,
    len: u64,
    pos: u64,
    next_seq: u64,
    /// The header slot the next checkpoint writes.
    next_slot: u64,
}

impl Wal {
    /// Opens (making it if missing) the log in `dir` and reads the batches written since the
    /// last checkpoint, in order: the caller applies them again before anything else.
    pub fn open(dir: &Path) -> io::Result<(Wal, Vec<Batch>)> {
        let path = dir.join(WAL_FILE);
        if !path.exists() {
            make(dir)?;
        }
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let len = file.metadata()?.len();
        let (checkpoint, newest_slot) = read_header(&file)?;
        let mut wal = Wal {
            file,
            len,
            pos: FRAMES_START,
            next_seq: checkpoint + 1,
            next_slot: newest_slot.map_or(0, |slot| 1 - slot),
        };
        let mut batches = Vec::new();
        while let Some((batch, end)) = wal.read_frame(wal.pos)? {
            batches.push(batch);
            wal.pos = end;
            wal.next_seq += 1;
        }
        Ok((wal, batches))
    }

    /// Whether `batch` would not fit after the frames written so far: the caller makes sled
    /// durable and calls `checkpoint` first.
    pub fn is_full_for(&self, batch: &Batch) -> bool {
        self.pos > FRAMES_START && self.pos + frame_len(batch) > self.len
    }

    /// Frames written since the last checkpoint.
    pub fn is_empty(&self) -> bool {
        self.pos == FRAMES_START
    }

    /// Writes `batch` as the next frame and waits until it is on disk. A batch bigger than
    /// the whole file grows it (with zeros, then synced) first.
    pub fn append(&mut self, batch: &Batch) -> io::Result<()> {
        let frame = encode_frame(self.next_seq, batch);
        let end = self.pos + frame.len() as u64;
        if end > self.len {
            zero_fill(&self.file, self.len, end - self.len)?;
            self.file.sync_all()?;
            self.len = end;
        }
        self.file.write_all_at(&frame, self.pos)?;
        self.file.sync_data()?;
        self.pos = end;
        self.next_seq += 1;
        Ok(())
    }

    /// Records that every frame written so far is durable elsewhere (sled flushed after
    /// applying them) and starts the frames over from the top. Returns once the header is on
    /// disk; a crash before that replays the old frames, which is harmless (each sets records
    /// to what they already are).
    pub fn checkpoint(&mut self) -> io::Result<()> {
        let applied = self.next_seq - 1;
        let mut slot = Vec::with_capacity(32);
        slot.extend_from_slice(MAGIC);
        slot.extend_from_slice(&VERSION.to_le_bytes());
        slot.extend_from_slice(&applied.to_le_bytes());
        let crc = crc32fast::hash(&slot);
        slot.extend_from_slice(&crc.to_le_bytes());
        self.file.write_all_at(&slot, self.next_slot * SLOT)?;
        self.file.sync_data()?;
        self.next_slot = 1 - self.next_slot;
        self.pos = FRAMES_START;
        Ok(())
    }

    /// The frame at `at` if it is whole and carries the next sequence, with where it ends.
    fn read_frame(&self, at: u64) -> io::Result<Option<(Batch, u64)>> {
        if at + FRAME_HEAD as u64 > self.len {
            return Ok(None);
        }
        let mut head = [0u8; FRAME_HEAD];
        self.file.read_exact_at(&mut head, at)?;
        let len = u64::from(u32_at(&head, 0));
        let (crc, seq) = (u32_at(&head, 4), u64_at(&head, 8));
        let end = at + FRAME_HEAD as u64 + len;
        if seq != self.next_seq || len == 0 || end > self.len {
            return Ok(None);
        }
        let mut payload = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut payload, at + FRAME_HEAD as u64)?;
        if frame_crc(seq, &payload) != crc {
            return Ok(None);
        }
        Ok(decode_batch(&payload).map(|batch| (batch, end)))
    }
}

/// The checkpointed sequence (0 for a new log) and the slot it was read from.
fn read_header(file: &File) -> io::Result<(u64, Option<u64>)> {
    let mut best = (0, None);
    for slot in 0..2 {
        let mut buf = [0u8; 24];
        file.read_exact_at(&mut buf, slot * SLOT)?;
        let valid = &buf[..8] == MAGIC
            && u32_at(&buf, 8) == VERSION
            && crc32fast::hash(&buf[..20]) == u32_at(&buf, 20);
        let applied = u64_at(&buf, 12);
        if valid && (best.1.is_none() || applied > best.0) {
            best = (applied, Some(slot));
        }
    }
    Ok(best)
}

fn frame_len(batch: &Batch) -> u64 {
    (FRAME_HEAD + payload_len(batch)) as u64
}

fn payload_len(batch: &Batch) -> usize {
    let removals: usize = batch.removals.iter().map(|k| 4 + k.len()).sum();
    let records: usize = batch
        .records
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum();
    8 + removals + records
}

fn encode_frame(seq: u64, batch: &Batch) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEAD + payload_len(batch));
    out.resize(FRAME_HEAD, 0);
    put_len(&mut out, batch.removals.len());
    for k in &batch.removals {
        put_bytes(&mut out, k);
    }
    put_len(&mut out, batch.records.len());
    for (k, v) in &batch.records {
        put_bytes(&mut out, k);
        put_bytes(&mut out, v);
    }
    let payload_len = out.len() - FRAME_HEAD;
    let crc = frame_crc(seq, &out[FRAME_HEAD..]);
    out[0..4].copy_from_slice(&(payload_len as u32).to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out[8..16].copy_from_slice(&seq.to_le_bytes());
    out
}

/// `None` when the payload does not parse (which a frame with a good CRC never does).
fn decode_batch(payload: &[u8]) -> Option<Batch> {
    let mut r = Reader(payload);
    let mut batch = Batch::default();
    for _ in 0..r.len()? {
        batch.removals.push(r.bytes()?.to_vec());
    }
    for _ in 0..r.len()? {
        let k = r.bytes()?.to_vec();
        batch.records.push((k, r.bytes()?.to_vec()));
    }
    r.0.is_empty().then_some(batch)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn len(&mut self) -> Option<usize> {
        let (n, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        usize::try_from(u32::from_le_bytes(*n)).ok()
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        let (bytes, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(bytes)
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn frame_crc(seq: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Writes `len` zero bytes at `from`: real blocks, not a hole or an unwritten extent, so a
/// later overwrite changes no metadata.
fn zero_fill(file: &File, from: u64, len: u64) -> io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(zeros.len() as u64);
        file.write_all_at(&zeros[..n as usize], from + done)?;
        done += n;
    }
    Ok(())
}

/// Makes the log full size, under another name until it is whole and synced: a crash while
/// making it leaves no short log behind, only a leftover that the next try overwrites.
fn make(dir: &Path) -> io::Result<()> {
    let making = dir.join(format!("{WAL_FILE}.new"));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&making)?;
    zero_fill(&file, 0, WAL_BYTES)?;
    file.sync_all()?;
    std::fs::rename(&making, dir.join(WAL_FILE))?;
    sync_dir(dir)
}

/// Makes a new file's name durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u8) -> Batch {
        Batch {
            removals: vec![vec![b'r', n]],
            records: vec![(vec![b'k', n], vec![n; usize::from(n) + 1])],
        }
    }

    fn keys(batches: &[Batch]) -> Vec<u8> {
        batches.iter().map(|b| b.records[0].0[1]).collect()
    }

    fn reopen(dir: &Path) -> (Wal, Vec<Batch>) {
        Wal::open(dir).expect("open")
    }

    #[test]
    fn appended_batches_come_back_whole_and_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, none) = reopen(dir.path());
        assert!(none.is_empty());
        assert_eq!(wal.len, WAL_BYTES, "made full size");
        for n in 1..=3 {
            wal.append(&batch(n)).expect("append");
        }
        drop(wal);
        let (wal, read) = reopen(dir.path());
        assert_eq!(keys(&read), [1, 2, 3]);
        assert_eq!(read[2].removals, [vec![b'r', 3]]);
        assert_eq!(read[2].records[0].1, vec![3; 4]);
        assert_eq!(wal.next_seq, 4);
    }

    #[test]
    fn a_leftover_from_a_crash_while_making_the_log_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(format!("{WAL_FILE}.new")), b"half").expect("leftover");
        let (mut wal, none) = reopen(dir.path());
        assert!(none.is_empty());
        assert_eq!(wal.len, WAL_BYTES);
        wal.append(&batch(1)).expect("append");
        assert!(!dir.path().join(format!("{WAL_FILE}.new")).exists());
    }

    #[test]
    fn a_torn_last_frame_ends_the_log_and_the_next_frame_takes_its_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, _) = reopen(dir.path());
        wal.append(&batch(1)).expect("append");
        let torn_at = wal.pos;
        wal.append(&batch(2)).expect("append");
        // The second frame's last byte never reached the disk.
        wal.file.write_all_at(&[0xFF], wal.pos - 1).expect("tear");
        drop(wal);
        let (mut wal, read) = reopen(dir.path());
        assert_eq!(keys(&read), [1]);
        assert_eq!(wal.pos, torn_at);
        wal.append(&batch(3)).expect("append");
        drop(wal);
        assert_eq!(keys(&reopen(dir.path()).1), [1, 3]);
    }

    #[test]
    fn a_checkpoint_starts_over_and_no_older_frame_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, _) = reopen(dir.path());
        for n in 1..=3 {
            wal.append(&batch(n)).expect("append");
        }
        wal.checkpoint().expect("checkpoint");
        drop(wal);
        let (mut wal, read) = reopen(dir.path());
        assert!(read.is_empty(), "frames 1-3 are checkpointed");
        // One short frame over the first old one: the old frames 2 and 3 behind it stay
        // unread (their sequences are below the checkpoint's).
        wal.append(&batch(9)).expect("append");
        drop(wal);
        let (wal, read) = reopen(dir.path());
        assert_eq!(keys(&read), [9]);
        assert_eq!(wal.next_seq, 5);
    }

    #[test]
    fn a_torn_header_slot_leaves_the_previous_checkpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, _) = reopen(dir.path());
        wal.append(&batch(1)).expect("append");
        wal.checkpoint().expect("first checkpoint, slot 0");
        wal.append(&batch(2)).expect("append");
        wal.checkpoint().expect("second checkpoint, slot 1");
        wal.file
            .write_all_at(&[0xFF], SLOT + 12)
            .expect("tear slot 1");
        drop(wal);
        // Back to checkpoint 1: frame 2, still at the top, is read again (applying it twice
        // is harmless) and the next checkpoint goes into the torn slot.
        let (wal, read) = reopen(dir.path());
        assert_eq!(keys(&read), [2]);
        assert_eq!(wal.next_slot, 1);
    }

    #[test]
    fn a_batch_bigger_than_the_file_grows_it_and_fullness_is_reported_before_that() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut wal, _) = reopen(dir.path());
        let small = batch(1);
        assert!(!wal.is_full_for(&small));
        wal.append(&small).expect("append");
        let big = Batch {
            removals: vec![],
            records: vec![(vec![b'k', 2], vec![7; WAL_BYTES as usize])],
        };
        assert!(wal.is_full_for(&big), "a checkpoint comes first");
        wal.checkpoint().expect("checkpoint");
        assert!(!wal.is_full_for(&big), "an empty log takes any batch");
        wal.append(&big).expect("append grows the file");
        assert!(wal.len > WAL_BYTES);
        drop(wal);
        let (_, read) = reopen(dir.path());
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].records[0].1.len(), WAL_BYTES as usize);
    }
}
