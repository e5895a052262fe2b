//! A full disk, for real: the daemon on a small tmpfs, filled by another file until commits
//! fail. Reads go on, writes are refused with UNAVAILABLE while the disk is full, writes
//! resume once room comes back, and every acknowledged write is there after a restart.
//!
//! Mounting needs root (or CAP_SYS_ADMIN); without it the test says it skipped and why.

use crate::common::{create, metric, temp, Clients, Daemon};
use pb::{Channel, Tier};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use triage::proto as pb;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it) at `dir`, or says why not.
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        match out.status.success() {
            true => Ok(Tmpfs(dir.to_path_buf())),
            false => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the daemon may still be exiting.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the disk refuses; returns how many bytes went in.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("create filler");
    let chunk = vec![0u8; 64 << 10];
    let mut written = 0;
    while file.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
    let one = [0u8; 1];
    while file.write_all(&one).is_ok() {
        written += 1;
    }
    written
}

/// What one round's creates came to: the external ids acknowledged, the refusal, and the
/// refused create's id.
struct Refused {
    acknowledged: Vec<String>,
    status: tonic::Status,
    id: String,
}

/// Creates tickets until one is refused.
async fn create_until_refused(c: &mut Clients, round: u32) -> Refused {
    let mut acknowledged = Vec::new();
    for i in 0..50_000 {
        let id = format!("round-{round}-{i}");
        match c
            .tickets
            .create_ticket(create(&id, Tier::Vip, Channel::Email, &["en"]))
            .await
        {
            Ok(_) => acknowledged.push(id),
            Err(status) => {
                return Refused {
                    acknowledged,
                    status,
                    id,
                }
            }
        }
    }
    panic!("50,000 creates on a full disk all succeeded");
}

/// The tickets' external ids, less `refused` where it is there: a create answered UNAVAILABLE
/// may have reached the disk after all (its log frame did, and the batch failed only when
/// applied): it is then served, and a retry with its `request_id` returns it.
fn served(c: Vec<pb::Ticket>, refused: &[String]) -> Vec<String> {
    let mut ids = external_ids(c);
    ids.retain(|id| !refused.contains(id));
    ids
}

fn external_ids(tickets: Vec<pb::Ticket>) -> Vec<String> {
    let mut ids: Vec<String> = tickets.into_iter().map(|t| t.external_id).collect();
    ids.sort();
    ids
}

/// One round: fills the disk (with `filler`) until a create is refused, checks the daemon serves reads and
/// refuses writes, makes room and waits for writes to work. `acknowledged` gains every create
/// the daemon acknowledged.
async fn fill_and_make_room(
    d: &Daemon,
    c: &mut Clients,
    filler: &Path,
    round: u32,
    acknowledged: &mut Vec<String>,
    refused: &mut Vec<String>,
) {
    assert!(fill(filler) > 0, "round {round}: the disk had room");
    let round_refused = create_until_refused(c, round).await;
    acknowledged.extend(round_refused.acknowledged);
    acknowledged.sort();
    refused.push(round_refused.id);
    let status = round_refused.status;
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    d.wait_for_metric("triage_store_read_only", 1.0).await;

    // Reads answer from the last durable state: every acknowledged ticket.
    assert_eq!(served(c.all_tickets().await, refused), *acknowledged);
    let write = c
        .tickets
        .create_ticket(create("while-full", Tier::Vip, Channel::Email, &["en"]))
        .await
        .expect_err("writes are refused while the disk is full");
    assert_eq!(write.code(), tonic::Code::Unavailable, "{write:?}");
    assert!(write.message().contains("serving reads"), "{write:?}");

    std::fs::remove_file(filler).expect("delete the filler");
    let after = format!("after-round-{round}");
    let mut resumed = None;
    for _ in 0..100 {
        let req = create(&after, Tier::Vip, Channel::Email, &["en"]);
        match c.tickets.create_ticket(req).await {
            Err(s) if s.code() == tonic::Code::Unavailable => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            other => {
                resumed = Some(other);
                break;
            }
        }
    }
    let resumed = resumed.expect("writes resume within 10 s of the room coming back");
    assert!(resumed.is_ok(), "{resumed:?}");
    assert_eq!(
        metric(&d.scrape().await, "triage_store_read_only"),
        Some(0.0)
    );
    acknowledged.push(after);
    acknowledged.sort();
}

#[tokio::test]
async fn on_a_full_disk_reads_go_on_writes_wait_for_room_and_nothing_acknowledged_is_lost() {
    if crate::common::sled_only() {
        return;
    }
    let dir = temp();
    let _mounted = match Tmpfs::mount(&dir.path().join("data"), "16m") {
        Ok(mounted) => mounted,
        Err(why) => {
            crate::common::skip(&format!(
                "cannot mount a tmpfs for the full-disk test: {why}"
            ));
            return;
        }
    };
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    let filler = dir.path().join("data").join("filler");
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    // Twice: the second round shows that the room given up to the first came back.
    for round in 1..=2 {
        fill_and_make_room(&d, &mut c, &filler, round, &mut acknowledged, &mut refused).await;
    }
    assert!(d.logs().contains("serving reads only"), "{}", d.logs());

    let exit = d.terminate().await;
    assert!(exit.success(), "daemon exit {exit:?}");
    let d = Daemon::start(dir.path(), None);
    let mut c = d.clients().await;
    assert_eq!(
        served(c.all_tickets().await, &refused),
        acknowledged,
        "every acknowledged write is there after a restart, and nothing else"
    );
}
