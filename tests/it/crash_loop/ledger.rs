//! The ledger: every call a client heard OK for, appended to a file and fsynced before the
//! call counts as acknowledged, and folded into what the daemon must still show after a kill.
//! `Problems` sorts what a check finds by kind.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One call a client heard OK for.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Ack {
    Created {
        ticket: u64,
        external: String,
    },
    Assigned {
        ticket: u64,
        agent: String,
        epoch: u64,
    },
    Resolved {
        ticket: u64,
    },
    Released {
        ticket: u64,
        agent: String,
        epoch: u64,
    },
}

impl Ack {
    pub(super) fn line(&self) -> String {
        match self {
            Ack::Created { ticket, external } => format!("created {ticket} {external}"),
            Ack::Assigned {
                ticket,
                agent,
                epoch,
            } => format!("assigned {ticket} {agent} {epoch}"),
            Ack::Resolved { ticket } => format!("resolved {ticket}"),
            Ack::Released {
                ticket,
                agent,
                epoch,
            } => format!("released {ticket} {agent} {epoch}"),
        }
    }

    /// A ledger line back (None for comments and blank lines).
    pub(super) fn parse(line: &str) -> Option<Ack> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> u64 {
            words
                .get(i)
                .and_then(|w| w.parse().ok())
                .unwrap_or_else(|| panic!("bad ledger line {line:?}"))
        };
        let word = |i: usize| -> String {
            words
                .get(i)
                .unwrap_or_else(|| panic!("bad ledger line {line:?}"))
                .to_string()
        };
        Some(match *words.first()? {
            "created" => Ack::Created {
                ticket: num(1),
                external: word(2),
            },
            "assigned" => Ack::Assigned {
                ticket: num(1),
                agent: word(2),
                epoch: num(3),
            },
            "resolved" => Ack::Resolved { ticket: num(1) },
            "released" => Ack::Released {
                ticket: num(1),
                agent: word(2),
                epoch: num(3),
            },
            w if w.starts_with('#') => return None,
            _ => panic!("bad ledger line {line:?}"),
        })
    }
}

/// What went wrong, by kind, for the summary and the failure message.
#[derive(Debug, Default)]
pub(super) struct Problems {
    /// Something acknowledged is gone (or changed into something else).
    pub(super) lost: Vec<String>,
    /// A ticket with two holders (or an epoch acknowledged twice, or loads that disagree).
    pub(super) double: Vec<String>,
    /// Anything else: gaps in ids or events, refused calls, unexpected answers.
    pub(super) other: Vec<String>,
}

impl Problems {
    pub(super) fn is_empty(&self) -> bool {
        self.lost.is_empty() && self.double.is_empty() && self.other.is_empty()
    }
    pub(super) fn take(&mut self) -> Problems {
        std::mem::take(self)
    }
    pub(super) fn extend(&mut self, more: Problems) {
        self.lost.extend(more.lost);
        self.double.extend(more.double);
        self.other.extend(more.other);
    }
    pub(super) fn report(&self) -> String {
        let mut out = format!(
            "lost: {}, double holders: {}, other: {}",
            self.lost.len(),
            self.double.len(),
            self.other.len()
        );
        for (kind, list) in [
            ("LOST", &self.lost),
            ("DOUBLE HOLDER", &self.double),
            ("OTHER", &self.other),
        ] {
            for p in list.iter().take(30) {
                out.push_str(&format!("\n  {kind}: {p}"));
            }
        }
        out
    }
}

/// The acknowledged facts, folded from the ledger's lines.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Acked {
    /// ticket -> external id
    pub(super) created: HashMap<u64, String>,
    /// external id -> ticket
    pub(super) by_external: HashMap<String, u64>,
    /// ticket -> epoch -> agent
    pub(super) assigned: HashMap<u64, BTreeMap<u64, String>>,
    pub(super) resolved: HashSet<u64>,
    /// Lines of each kind.
    pub(super) creates: u64,
    pub(super) assigns: u64,
    pub(super) resolves: u64,
    pub(super) releases: u64,
}

impl Acked {
    /// Folds one acknowledgement in; what can be judged from the acknowledgements alone
    /// (an epoch heard twice, an id heard for two external ids) goes to `problems`.
    pub(super) fn apply(&mut self, ack: &Ack, problems: &mut Problems) {
        match ack {
            Ack::Created { ticket, external } => {
                self.creates += 1;
                if let Some(old) = self.created.insert(*ticket, external.clone()) {
                    if &old != external {
                        problems.lost.push(format!(
                            "ticket {ticket} was acknowledged as {old} and later as {external}: \
                             the first create was lost and its id reused"
                        ));
                    }
                }
                if let Some(old) = self.by_external.insert(external.clone(), *ticket) {
                    if old != *ticket {
                        problems.lost.push(format!(
                            "external id {external} was acknowledged as ticket {old} and later \
                             as ticket {ticket}"
                        ));
                    }
                }
            }
            Ack::Assigned {
                ticket,
                agent,
                epoch,
            } => {
                self.assigns += 1;
                let epochs = self.assigned.entry(*ticket).or_default();
                if let Some(other) = epochs.insert(*epoch, agent.clone()) {
                    problems.double.push(format!(
                        "ticket {ticket}: lease epoch {epoch} was acknowledged to {other} and \
                         again to {agent}"
                    ));
                }
            }
            Ack::Resolved { ticket } => {
                self.resolves += 1;
                if !self.resolved.insert(*ticket) {
                    problems.lost.push(format!(
                        "ticket {ticket} was resolved twice: the first acknowledged resolve \
                         was lost"
                    ));
                }
            }
            Ack::Released { .. } => self.releases += 1,
        }
    }
}

/// The ledger file plus its folded state. A call counts as acknowledged once `record`
/// returned, which is after the line is on disk.
pub(super) struct Ledger {
    file: File,
    path: PathBuf,
    pub(super) acked: Acked,
    pub(super) problems: Problems,
}

impl Ledger {
    pub(super) fn create(path: &Path) -> Ledger {
        Ledger {
            file: File::create(path).expect("create ledger"),
            path: path.to_path_buf(),
            acked: Acked::default(),
            problems: Problems::default(),
        }
    }

    pub(super) fn record(&mut self, acks: &[Ack]) {
        let mut text = String::new();
        for ack in acks {
            text.push_str(&ack.line());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes()).expect("write ledger");
        self.file.sync_data().expect("fsync ledger");
        for ack in acks {
            self.acked.apply(ack, &mut self.problems);
        }
    }

    pub(super) fn comment(&mut self, text: &str) {
        writeln!(self.file, "# {text}").expect("write ledger");
    }

    /// Folds the file afresh: it must say exactly what the clients were told.
    pub(super) fn reread(&self) -> Acked {
        let mut acked = Acked::default();
        let mut problems = Problems::default();
        let file = File::open(&self.path).expect("open ledger");
        for line in BufReader::new(file).lines() {
            if let Some(ack) = Ack::parse(&line.expect("read ledger")) {
                acked.apply(&ack, &mut problems);
            }
        }
        acked
    }
}
