//! The scheduler's vocabulary: instants, spans, ids and the closed enums of the contract.
//!
//! Everything here is plain data. Instants are milliseconds since the Unix epoch so the core can
//! be driven by a simulated clock; the I/O layers convert to and from wall time at the edges.

use serde::{Deserialize, Serialize};
use std::{fmt, sync::Arc};

/// An instant, in milliseconds since the Unix epoch. The core never reads a clock: callers pass it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ts(pub i64);

impl Ts {
    pub const MAX: Ts = Ts(i64::MAX);
    /// Stands for an instant a record did not keep (see `idempotency::IdempotencyV1`).
    pub const UNKNOWN: Ts = Ts(i64::MIN);

    pub fn plus(self, span: Span) -> Ts {
        Ts(self.0.saturating_add(span.0 as i64))
    }

    /// The span from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Ts) -> Span {
        Span(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}

/// An optional instant in 8 bytes (an `Option<Ts>` takes 16): open tickets carry several, so a
/// million of them save tens of megabytes. `i64::MIN` (`Ts::UNKNOWN`, never a real instant of a
/// clock or a ticket) stands for none. It is serialized exactly as `Option<Ts>`, so persisted
/// records do not change.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptTs(i64);

impl OptTs {
    pub const NONE: OptTs = OptTs(i64::MIN);

    pub fn get(self) -> Option<Ts> {
        (self != OptTs::NONE).then_some(Ts(self.0))
    }
    pub fn is_some(self) -> bool {
        self != OptTs::NONE
    }
    pub fn is_none(self) -> bool {
        self == OptTs::NONE
    }
}

impl Default for OptTs {
    fn default() -> Self {
        OptTs::NONE
    }
}

impl From<Option<Ts>> for OptTs {
    fn from(at: Option<Ts>) -> Self {
        at.map_or(OptTs::NONE, OptTs::from)
    }
}

impl From<Ts> for OptTs {
    fn from(at: Ts) -> Self {
        debug_assert_ne!(
            at,
            Ts::UNKNOWN,
            "an unknown instant is not kept in an OptTs"
        );
        OptTs(at.0)
    }
}

impl fmt::Debug for OptTs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for OptTs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptTs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<Ts>::deserialize(d).map(OptTs::from)
    }
}

/// A span of time in milliseconds. In human-readable formats (TOML) it is written as
/// `"30s"`, `"5m"`, `"2h"`, `"1500ms"`; in binary records as a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(pub u64);

impl Span {
    pub const fn secs(s: u64) -> Span {
        Span(s * 1000)
    }
    pub const fn mins(m: u64) -> Span {
        Span(m * 60_000)
    }
    pub const fn hours(h: u64) -> Span {
        Span(h * 3_600_000)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// `self × factor`, rounded to the millisecond and never below 1 ms.
    pub fn scale(self, factor: f64) -> Span {
        Span(((self.0 as f64) * factor).round().max(1.0) as u64)
    }

    /// Parses `"1500ms"`, `"30s"`, `"5m"`, `"2h"`, `"3d"` (one number, one unit).
    pub fn parse(text: &str) -> Result<Span, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("{text:?} has no unit (ms, s, m, h, d)"))?;
        let (num, unit) = text.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{text:?} does not start with a whole number"))?;
        let per = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h, d)")),
        };
        n.checked_mul(per)
            .map(Span)
            .ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (n, unit) = match ms {
            0 => (0, "s"),
            _ if ms % 86_400_000 == 0 => (ms / 86_400_000, "d"),
            _ if ms % 3_600_000 == 0 => (ms / 3_600_000, "h"),
            _ if ms % 60_000 == 0 => (ms / 60_000, "m"),
            _ if ms % 1000 == 0 => (ms / 1000, "s"),
            _ => (ms, "ms"),
        };
        write!(f, "{n}{unit}")
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            Span::parse(&text).map_err(serde::de::Error::custom)
        } else {
            u64::deserialize(d).map(Span)
        }
    }
}

/// A ticket's id: dense, assigned by the scheduler in arrival order, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketId(pub u64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An agent's id, chosen by the front end. Shared because tickets hold it, through a thin
/// pointer (8 bytes, where `Arc<str>` takes 16): every open ticket has a holder slot and a
/// preferred-agent slot, and agent ids are few, so the second indirection costs nothing that
/// matters. Compared, hashed and serialized as the string it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AgentId(Arc<Box<str>>);

impl AgentId {
    pub fn new(id: &str) -> AgentId {
        AgentId(Arc::new(Box::from(id)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A skill a ticket needs and an agent has (language, product, problem type), normalised to
/// lower case by the API.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Skill(pub Arc<str>);

impl Skill {
    pub fn new(s: &str) -> Skill {
        Skill(Arc::from(s))
    }
}

/// A sorted, duplicate-free set of skills; small, so a sorted slice beats a hash set, and
/// shared, so cloning a ticket does not allocate.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SkillSet(Arc<[Skill]>);

/// The derived form, decoded so that a recovery can share each set as it reads it (see
/// `intern::decode_skill_set`).
impl<'de> Deserialize<'de> for SkillSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SkillSet, D::Error> {
        super::intern::decode_skill_set(d)
    }
}

/// A set is looked up by its skills (hashed and compared as the slice: `Hash` and `Eq` are
/// the slice's), so that an interner finds it before a set is built.
impl std::borrow::Borrow<[Skill]> for SkillSet {
    fn borrow(&self) -> &[Skill] {
        &self.0
    }
}

impl SkillSet {
    pub fn new(mut skills: Vec<Skill>) -> SkillSet {
        skills.sort();
        skills.dedup();
        SkillSet(skills.into())
    }
    pub fn iter(&self) -> impl Iterator<Item = &Skill> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// How many holders share this set (see `intern`).
    pub(crate) fn strong_count(&self) -> usize {
        Arc::strong_count(&self.0)
    }
    /// Whether both are the same shared set, not just equal.
    pub fn ptr_eq(&self, other: &SkillSet) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// Whether every skill of `self` is in `other` (both sorted: one merge pass).
    pub fn is_subset_of(&self, other: &SkillSet) -> bool {
        let mut theirs = other.0.iter();
        self.0
            .iter()
            .all(|need| theirs.by_ref().any(|have| have == need))
    }
    /// The set reduced to the skill at `index` (the set's first when out of range, and none
    /// when empty): how L2 escalation widens routing to the skill the client listed first.
    pub fn only(&self, index: usize) -> SkillSet {
        let kept = self.0.get(index).or(self.0.first());
        SkillSet(kept.cloned().into_iter().collect())
    }
    /// Where `skill` is in the (sorted) set.
    pub fn position(&self, skill: &Skill) -> Option<usize> {
        self.0.binary_search(skill).ok()
    }
    /// Where `first` (the skill a client listed first) is in this set, as a ticket records
    /// it (`Ticket::first_skill`); 0 when it is absent or not in the set.
    pub fn lead(&self, first: Option<&Skill>) -> u8 {
        first
            .and_then(|skill| self.position(skill))
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(0)
    }
    /// The skills with the one at `lead` first, then the rest in order (`lead` as `lead`
    /// returns it: listed again, the list keeps the same first skill).
    pub fn in_listed_order(&self, lead: u8) -> impl Iterator<Item = &Skill> {
        let first = usize::from(lead).min(self.len().saturating_sub(1));
        let rest = self.iter().enumerate().filter(move |&(i, _)| i != first);
        self.iter()
            .nth(first)
            .into_iter()
            .chain(rest.map(|(_, s)| s))
    }
    /// The set of `skills` and where in it the first of them, as listed, is.
    pub fn listed(skills: Vec<Skill>) -> (SkillSet, u8) {
        let first = skills.first().cloned();
        let set = SkillSet::new(skills);
        let lead = set.lead(first.as_ref());
        (set, lead)
    }
    pub fn contains(&self, skill: &str) -> bool {
        self.0.binary_search_by(|s| (*s.0).cmp(skill)).is_ok()
    }
    /// The set with `skill` added.
    pub fn with(&self, skill: &str) -> SkillSet {
        let mut skills = self.0.to_vec();
        skills.push(Skill::new(skill));
        SkillSet::new(skills)
    }
}

/// Declares a closed enum with a dense index (for tables) and a lower-case name (for labels,
/// config keys and capacity maps).
macro_rules! closed_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const COUNT: usize = $name::ALL.len();
            pub fn index(self) -> usize { self as usize }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            pub fn from_label(label: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.label() == label)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.label()) }
        }
    };
}

closed_enum!(
    /// Customer tier, in service order: VIP first, then new customers, then everyone else.
    Tier { Vip => "vip", New => "new", Standard => "standard" }
);
closed_enum!(
    /// Where the contact came from; each has its own targets and agent capacity.
    Channel {
        Chat => "chat", Messenger => "messenger", Email => "email",
        Phone => "phone", Social => "social", Review => "review",
    }
);
closed_enum!(
    /// Ticket priority, lowest first.
    Priority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);
closed_enum!(
    /// The customer's mood as the front end judged it; negative counts one priority step up.
    Sentiment { Neutral => "neutral", Positive => "positive", Negative => "negative" }
);
closed_enum!(
    /// Lifecycle state of a ticket.
    TicketState {
        Queued => "queued", Assigned => "assigned", Pending => "pending",
        Resolved => "resolved", Cancelled => "cancelled",
    }
);
closed_enum!(
    /// An agent's presence; only AVAILABLE agents get new tickets.
    Presence { Available => "available", Away => "away", Offline => "offline" }
);
closed_enum!(
    /// The SLA clocks a ticket runs.
    SlaMetric {
        FirstResponse => "first_response", NextReply => "next_reply", Resolution => "resolution",
        FollowUp => "follow_up", InterimUpdate => "interim_update",
    }
);
closed_enum!(
    /// Escalation steps of one clock, in the order they fire.
    Level { None => "none", Warning => "warning", L1 => "l1", L2 => "l2", L3 => "l3" }
);
closed_enum!(
    /// Why a ticket was cancelled; ABANDONED is a missed contact.
    CancelReason { Abandoned => "abandoned", Duplicate => "duplicate", Other => "other" }
);

closed_enum!(
    /// Why a ticket went to the agent that pulled it (or, `directed`, that a supervisor gave
    /// it to: `AssignTicket`, `TransferTicket`); shown to the front end and streamed. New
    /// variants go at the end: events persist them by position.
    AssignReason {
        PreferredAgent => "preferred-agent", Due => "due", Breached => "breached",
        EscalatedL2 => "escalated-l2", EscalatedL3 => "escalated-l3",
        Directed => "directed",
    }
);
closed_enum!(
    /// Why a ticket went back to the queue.
    RequeueReason {
        Released => "released", PresenceExpired => "presence_expired",
        AgentOffline => "agent_offline", TakenBack => "taken_back", Reopened => "reopened",
    }
);
closed_enum!(
    /// How far routing widens at an escalation level (the bullseye): keep the ticket's own
    /// requirements, relax its skills to the first one, let any agent of any tier take it, or
    /// only agents with the policy's supervisor skill (any tier).
    Widen {
        Keep => "keep", FirstSkill => "first_skill", AnyAgent => "any_agent",
        Supervisors => "supervisors",
    }
);
closed_enum!(
    /// Who wrote a message on a ticket.
    Party { Agent => "agent", Customer => "customer" }
);

/// Per-channel optional numbers (capacity overrides), indexed by `Channel::index`.
pub type PerChannelOpt = [Option<u32>; Channel::COUNT];

impl SlaMetric {
    /// The clocks whose targets come from the policy; an interim update's due is the instant
    /// the agent promised.
    pub const FROM_POLICY: &'static [SlaMetric] = &[
        SlaMetric::FirstResponse,
        SlaMetric::NextReply,
        SlaMetric::Resolution,
        SlaMetric::FollowUp,
    ];

    /// Whether missing this clock means an agent has not answered the customer.
    pub fn awaits_agent(self) -> bool {
        matches!(
            self,
            SlaMetric::FirstResponse | SlaMetric::NextReply | SlaMetric::InterimUpdate
        )
    }
}

impl Priority {
    /// One step more urgent (how negative sentiment counts), saturating at urgent.
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

impl TicketState {
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketState::Queued | TicketState::Assigned | TicketState::Pending
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_parses_and_prints_every_unit() {
        for (text, ms) in [
            ("1500ms", 1500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("2h", 7_200_000),
            ("2d", 172_800_000),
        ] {
            assert_eq!(Span::parse(text), Ok(Span(ms)));
        }
        assert_eq!(Span(7_200_000).to_string(), "2h");
        assert_eq!(Span(1500).to_string(), "1500ms");
        assert!(Span::parse("10").is_err());
        assert!(Span::parse("10y").is_err());
        assert!(Span::parse("s").is_err());
    }

    #[test]
    fn skill_subset_is_a_merge_over_sorted_sets() {
        let set = |v: &[&str]| SkillSet::new(v.iter().map(|s| Skill::new(s)).collect());
        assert!(set(&["en", "billing"]).is_subset_of(&set(&["billing", "de", "en"])));
        assert!(!set(&["en", "fr"]).is_subset_of(&set(&["billing", "en"])));
        assert!(set(&[]).is_subset_of(&set(&[])));
        assert_eq!(set(&["b", "a"]).only(1), set(&["b"]));
        assert_eq!(
            set(&["b", "a"]).only(7),
            set(&["a"]),
            "out of range: the first"
        );
        assert_eq!(set(&[]).only(0), set(&[]));
        assert_eq!(set(&["en", "billing"]).position(&Skill::new("en")), Some(1));
    }

    #[test]
    fn an_agent_id_is_a_thin_pointer_and_persists_exactly_as_a_string() {
        assert_eq!(std::mem::size_of::<Option<AgentId>>(), 8);
        let id = AgentId::new("ana-7");
        let as_str: Arc<str> = Arc::from("ana-7");
        let bytes = postcard::to_allocvec(&id).expect("encodes");
        assert_eq!(bytes, postcard::to_allocvec(&as_str).expect("encodes"));
        assert_eq!(
            postcard::from_bytes::<AgentId>(&bytes).expect("decodes"),
            id
        );
        assert_eq!(id.as_str(), "ana-7");
        assert!(AgentId::new("a") < AgentId::new("b"), "ordered as strings");
    }

    #[test]
    fn an_optional_instant_is_8_bytes_and_persists_exactly_as_an_option() {
        assert_eq!(std::mem::size_of::<OptTs>(), 8);
        for at in [
            None,
            Some(Ts(0)),
            Some(Ts(-1)),
            Some(Ts(1_764_000_000_000)),
            Some(Ts::MAX),
        ] {
            let compact = OptTs::from(at);
            assert_eq!(compact.get(), at);
            assert_eq!(compact.is_some(), at.is_some());
            let bytes = postcard::to_allocvec(&compact).expect("encode");
            assert_eq!(bytes, postcard::to_allocvec(&at).expect("encode"), "{at:?}");
            let back: OptTs = postcard::from_bytes(&bytes).expect("decode");
            assert_eq!(back, compact);
            assert_eq!(format!("{compact:?}"), format!("{at:?}"));
        }
    }
}
