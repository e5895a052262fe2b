//! Reading what a desk brings to `triage simulate`: a trace of contacts (JSON Lines or CSV)
//! and a roster (TOML: agents with skills, tiers, capacity and shifts). Every error names the
//! line or agent and the field.

use super::traffic::{Contact, Turn};
use crate::core::calendar;
use crate::core::command::AgentProfile;
use crate::core::parse;
use crate::core::types::{AgentId, Channel, Priority, Sentiment, Skill, SkillSet, Span, Tier, Ts};
use anyhow::{anyhow, bail, Context};
use serde::Deserialize;
use std::path::Path;

/// One contact as a trace writes it. `at` is RFC 3339; spans are written "90s", "6m".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceRow {
    at: String,
    channel: String,
    #[serde(default = "standard")]
    tier: String,
    /// JSON: a list; CSV: separated by `;`.
    #[serde(default)]
    skills: Skills,
    #[serde(default = "normal")]
    priority: String,
    #[serde(default = "neutral")]
    sentiment: String,
    handle: Span,
    /// Absent or empty: the customer waits for ever.
    #[serde(default)]
    patience: Option<Span>,
    /// The conversation after the first answer (JSON Lines only): `[{"after": "40s",
    /// "reply": "12s", "pending": false}, ...]`. Absent: the first answer is the only one.
    #[serde(default)]
    turns: Vec<TraceTurn>,
}

/// One follow-up of a trace's conversation (`Turn`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceTurn {
    after: Span,
    reply: Span,
    #[serde(default)]
    pending: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Skills {
    #[default]
    None,
    List(Vec<String>),
    Joined(String),
}

fn standard() -> String {
    "standard".into()
}
fn normal() -> String {
    "normal".into()
}
fn neutral() -> String {
    "neutral".into()
}

/// Reads a trace: `.csv` as CSV with a header row, anything else as JSON Lines. Contacts come
/// back in arrival order.
pub fn read_trace(path: &Path) -> anyhow::Result<Vec<Contact>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the trace {}", path.display()))?;
    let rows: Vec<(usize, TraceRow)> = if path.extension().is_some_and(|e| e == "csv") {
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .enumerate()
            .map(|(i, r)| {
                r.map(|r| (i + 2, r))
                    .with_context(|| format!("line {}", i + 2))
            })
            .collect::<anyhow::Result<_>>()?
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map(|r| (i + 1, r))
                    .with_context(|| format!("line {}", i + 1))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut contacts = rows
        .into_iter()
        .map(|(line, row)| contact(row).with_context(|| format!("line {line}")))
        .collect::<anyhow::Result<Vec<_>>>()
        .with_context(|| format!("trace {}", path.display()))?;
    contacts.sort_by_key(|c| c.at);
    Ok(contacts)
}

/// Writes contacts as JSON Lines that `read_trace` reads back unchanged.
pub fn write_trace(path: &Path, contacts: &[Contact]) -> anyhow::Result<()> {
    let mut out = String::with_capacity(contacts.len() * 160);
    for c in contacts {
        let at = chrono::DateTime::from_timestamp_millis(c.at.0)
            .ok_or_else(|| anyhow!("contact time {} is out of range", c.at.0))?;
        let mut row = serde_json::json!({
            "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "channel": c.channel.label(),
            "tier": c.tier.label(),
            "skills": c
                .skills
                .in_listed_order(c.first_skill)
                .map(|s| s.0.as_ref())
                .collect::<Vec<&str>>(),
            "priority": c.priority.label(),
            "sentiment": c.sentiment.label(),
            "handle": format!("{}ms", c.handle.0),
            "patience": c.patience.map(|p| format!("{}ms", p.0)),
        });
        if !c.turns.is_empty() {
            row["turns"] = c
                .turns
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "after": format!("{}ms", t.after.0),
                        "reply": format!("{}ms", t.reply_in.0),
                        "pending": t.pending,
                    })
                })
                .collect();
        }
        out.push_str(&row.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing the trace {}", path.display()))
}

fn contact(row: TraceRow) -> anyhow::Result<Contact> {
    let at = chrono::DateTime::parse_from_rfc3339(&row.at)
        .map_err(|e| anyhow!("at: {:?} is not an RFC 3339 time: {e}", row.at))?;
    let skills = match row.skills {
        Skills::None => Vec::new(),
        Skills::List(list) => list,
        Skills::Joined(text) => text.split(';').map(str::to_string).collect(),
    };
    let skills = skills
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .map(|s| Skill::new(&s))
        .collect();
    let (skills, first_skill) = SkillSet::listed(skills);
    Ok(Contact {
        at: Ts(at.timestamp_millis()),
        channel: label("channel", &row.channel, Channel::from_label)?,
        tier: label("tier", &row.tier, Tier::from_label)?,
        priority: label("priority", &row.priority, Priority::from_label)?,
        sentiment: label("sentiment", &row.sentiment, Sentiment::from_label)?,
        skills,
        first_skill,
        handle: positive("handle", row.handle)?,
        patience: row.patience.map(|p| positive("patience", p)).transpose()?,
        turns: row
            .turns
            .into_iter()
            .map(|t| {
                Ok(Turn {
                    after: positive("turns.after", t.after)?,
                    reply_in: positive("turns.reply", t.reply)?,
                    pending: t.pending,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

fn label<T>(field: &str, text: &str, parse: fn(&str) -> Option<T>) -> anyhow::Result<T> {
    parse(&text.trim().to_ascii_lowercase())
        .ok_or_else(|| anyhow!("{field}: {text:?} is not known"))
}

fn positive(field: &str, span: Span) -> anyhow::Result<Span> {
    if span.0 == 0 {
        bail!("{field}: must be more than 0");
    }
    Ok(span)
}

/// A roster file: `[[agent]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    agent: Vec<RosterAgent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterAgent {
    id: String,
    #[serde(default)]
    skills: Vec<String>,
    /// Empty: every tier.
    #[serde(default)]
    tiers: Vec<String>,
    /// Concurrent contacts per channel name; channels left out get the daemon's default.
    #[serde(default)]
    capacity: std::collections::BTreeMap<String, u32>,
    /// On duty, as "HH:MM-HH:MM" from the start of the simulated day (an end before the start
    /// runs past midnight); empty: all day.
    #[serde(default)]
    shifts: Vec<String>,
}

/// An agent of the roster and when it is on duty, as offsets from the day's start.
#[derive(Clone, Debug, PartialEq)]
pub struct RosterEntry {
    pub profile: AgentProfile,
    /// Empty: on duty all the time.
    pub shifts: Vec<(Span, Span)>,
}

pub fn read_roster(path: &Path) -> anyhow::Result<Vec<RosterEntry>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the roster {}", path.display()))?;
    let file: RosterFile =
        toml::from_str(&text).with_context(|| format!("roster {}", path.display()))?;
    let mut seen = std::collections::HashSet::new();
    file.agent
        .into_iter()
        .map(|a| {
            let id = a.id.clone();
            let context = || format!("roster {}: agent {id:?}", path.display());
            if !seen.insert(id.clone()) {
                bail!("{}: id: appears twice", context());
            }
            entry(a).with_context(context)
        })
        .collect()
}

/// An agent checked by the rules `UpsertAgent` applies (the core's parsing constructors: the
/// same rules and messages), with its shifts.
fn entry(a: RosterAgent) -> anyhow::Result<RosterEntry> {
    let mut tiers = Vec::with_capacity(a.tiers.len());
    for t in &a.tiers {
        let tier = label("tiers", t, Tier::from_label)?;
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    let (skills, levels) = crate::core::proficiency::parse_agent_skills("skills", a.skills)?;
    let profile = AgentProfile {
        id: AgentId::parse_field("agent_id", a.id)?,
        display_name: String::new(),
        skills,
        levels,
        tiers,
        capacity: parse::capacity(a.capacity)?,
    };
    let shifts = a
        .shifts
        .iter()
        .map(|s| shift(s).with_context(|| format!("shifts: {s:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RosterEntry { profile, shifts })
}

/// "HH:MM-HH:MM" as (start, end) offsets from the day's start, each read as business hours
/// are; an end at or before the start is on the next day.
fn shift(text: &str) -> anyhow::Result<(Span, Span)> {
    let clock = |t: &str| {
        calendar::parse_clock(t)
            .map(|minutes| Span::mins(u64::from(minutes)))
            .ok_or_else(|| anyhow!("{t:?} is not a time of day (HH:MM)"))
    };
    let (from, to) = text
        .split_once('-')
        .ok_or_else(|| anyhow!("is not HH:MM-HH:MM"))?;
    let (from, to) = (clock(from)?, clock(to)?);
    let to = if to <= from {
        Span(to.0 + Span::hours(24).0)
    } else {
        to
    };
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn traces_read_alike_from_json_lines_and_csv() {
        let (_a, jsonl) = write(
            "t.jsonl",
            r#"{"at":"2026-01-05T09:00:05Z","channel":"chat","tier":"vip","skills":["en","Billing"],"handle":"6m","patience":"3m"}
{"at":"2026-01-05T09:00:00Z","channel":"email","handle":"10m"}
"#,
        );
        let (_b, csv) = write(
            "t.csv",
            "at,channel,tier,skills,priority,sentiment,handle,patience\n\
             2026-01-05T09:00:05Z,chat,vip,en;billing,normal,neutral,6m,3m\n\
             2026-01-05T09:00:00Z,email,standard,,normal,neutral,10m,\n",
        );
        let from_json = read_trace(&jsonl).expect("jsonl");
        assert_eq!(from_json, read_trace(&csv).expect("csv"));
        assert_eq!(from_json[0].channel, Channel::Email, "sorted by arrival");
        assert_eq!(from_json[1].tier, Tier::Vip);
        assert_eq!(from_json[1].patience, Some(Span::mins(3)));
        assert_eq!(from_json[0].patience, None);
        assert_eq!(from_json[1].skills.iter().count(), 2);
    }

    #[test]
    fn a_written_trace_reads_back_unchanged() {
        let day = super::super::traffic::generated_day(
            300,
            Ts(1_767_571_200_000),
            5,
            super::super::traffic::Conversations::Full,
        );
        let (_d, path) = write("day.jsonl", "");
        write_trace(&path, &day).expect("write");
        assert_eq!(read_trace(&path).expect("read"), day);
    }

    #[test]
    fn a_bad_trace_line_is_named() {
        let (_d, path) = write(
            "bad.jsonl",
            "{\"at\":\"2026-01-05T09:00:00Z\",\"channel\":\"fax\",\"handle\":\"1m\"}\n",
        );
        let err = format!("{:#}", read_trace(&path).expect_err("fax"));
        assert!(err.contains("line 1") && err.contains("channel"), "{err}");
    }

    #[test]
    fn roster_agents_are_checked_as_the_api_checks_them() {
        for (text, says) in [
            ("[[agent]]\nid = \"a b\"\n", "agent_id"),
            ("[[agent]]\nid = \"a\"\nskills = [\"en gb\"]\n", "skills[0]"),
            (
                "[[agent]]\nid = \"a\"\ncapacity = { fax = 1 }\n",
                "capacity[fax]",
            ),
            (
                "[[agent]]\nid = \"a\"\n[[agent]]\nid = \"a\"\n",
                "appears twice",
            ),
            (
                "[[agent]]\nid = \"a\"\nshifts = [\"+9:5-10:00\"]\n",
                "time of day",
            ),
        ] {
            let (_d, path) = write("r.toml", text);
            let err = format!("{:#}", read_roster(&path).expect_err(says));
            assert!(err.contains(says), "{says}: {err}");
        }
    }

    #[test]
    fn rosters_read_shifts_across_midnight() {
        let (_d, path) = write(
            "r.toml",
            "[[agent]]\nid = \"ana\"\nskills = [\"en\"]\ntiers = [\"vip\"]\ncapacity = { chat = 2 }\nshifts = [\"22:00-06:00\"]\n\n[[agent]]\nid = \"bo\"\n",
        );
        let roster = read_roster(&path).expect("roster");
        assert_eq!(roster[0].shifts, vec![(Span::hours(22), Span::hours(30))]);
        assert_eq!(roster[0].profile.capacity[Channel::Chat.index()], Some(2));
        assert!(roster[1].shifts.is_empty());
        let (_e, bad) = write(
            "b.toml",
            "[[agent]]\nid = \"x\"\nshifts = [\"25:00-26:00\"]\n",
        );
        let err = format!("{:#}", read_roster(&bad).expect_err("bad hour"));
        assert!(err.contains("\"x\"") && err.contains("shifts"), "{err}");
    }
}
