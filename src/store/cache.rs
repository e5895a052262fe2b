//! How big sled's page cache is by default: a share of the machine's memory (of the
//! container's limit when there is one), within bounds.
//!
//! The scheduler holds every open ticket in its own memory; sled's cache holds the pages being
//! written and the archive pages read back, and the kernel's page cache (which the daemon's
//! resident memory does not count) holds more of the data dir behind it. Measured with
//! `triage bench --spawn --rss-every` over 400,000 to 1,000,000 full-cycle tickets: a 64 MiB
//! cache drove the full cycle as fast as the old fixed 1 GiB one while resident memory grew a
//! third as fast; with 384 MiB (1/64 of the 24 GiB machine) it grew almost as fast as with
//! 1 GiB. A fixed 1 GiB was also a third of the shipped StatefulSet's memory limit.

use std::path::Path;

/// The least and the most the default gives.
pub const MIN_CACHE_BYTES: u64 = 64 << 20;
pub const MAX_CACHE_BYTES: u64 = 256 << 20;

/// The default cache: 1/256 of the memory the process may use in whole MiB, between
/// `MIN_CACHE_BYTES` and `MAX_CACHE_BYTES` (the minimum when the memory cannot be read).
pub fn default_cache_bytes() -> u64 {
    cache_for(usable_memory())
}

fn cache_for(memory: Option<u64>) -> u64 {
    let share = memory.map_or(MIN_CACHE_BYTES, |m| ((m / 256) >> 20) << 20);
    share.clamp(MIN_CACHE_BYTES, MAX_CACHE_BYTES)
}

/// The machine's memory (`MemTotal`), or the cgroup's limit when that is lower.
fn usable_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text));
    let limit = cgroup_limit(Path::new("/sys/fs/cgroup"));
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of the cgroup (v2 `memory.max`, v1 `memory/memory.limit_in_bytes`), if
/// one is set.
fn cgroup_limit(root: &Path) -> Option<u64> {
    ["memory.max", "memory/memory.limit_in_bytes"]
        .iter()
        .filter_map(|file| std::fs::read_to_string(root.join(file)).ok())
        .find_map(|text| text.trim().parse::<u64>().ok())
        .filter(|&limit| limit < 1 << 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_a_256th_of_memory_within_bounds() {
        assert_eq!(cache_for(None), MIN_CACHE_BYTES);
        assert_eq!(
            cache_for(Some(3 << 30)),
            MIN_CACHE_BYTES,
            "a 3 GiB container"
        );
        assert_eq!(cache_for(Some(16 << 30)), MIN_CACHE_BYTES);
        assert_eq!(cache_for(Some(32 << 30)), 128 << 20);
        assert_eq!(cache_for(Some(256 << 30)), MAX_CACHE_BYTES);
        assert_eq!(cache_for(Some((24 << 30) + 12345)), 96 << 20, "whole MiB");
        let d = default_cache_bytes();
        assert!((MIN_CACHE_BYTES..=MAX_CACHE_BYTES).contains(&d), "{d}");
    }

    #[test]
    fn memory_is_read_from_meminfo_and_the_cgroup() {
        assert_eq!(
            mem_total("MemTotal:  2048 kB\nMemFree: 1 kB\n"),
            Some(2 << 20)
        );
        assert_eq!(mem_total("nothing here"), None);
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(cgroup_limit(dir.path()), None);
        std::fs::write(dir.path().join("memory.max"), "max\n").expect("write");
        assert_eq!(cgroup_limit(dir.path()), None, "no limit");
        std::fs::write(dir.path().join("memory.max"), "3221225472\n").expect("write");
        assert_eq!(cgroup_limit(dir.path()), Some(3 << 30));
    }
}
