//! Business-hours calendars for SLA clocks.
//!
//! A [`Calendar`] says when an SLA clock runs: weekly opening hours in an IANA
//! time zone, plus holidays that close a date or replace its hours with a half
//! day. [`Calendar::add`] finds the instant at which a given amount of open time
//! has passed, and [`Calendar::between`] measures the open time between two
//! instants. The two are exact inverses: `between(a, add(a, s)) == s` whenever
//! `add` does not saturate to [`Ts::MAX`].
//!
//! # What "open time" means
//!
//! Open time is real elapsed time (UTC milliseconds). Each local date contributes
//! its intervals (from its holiday entry if it has one, else from its weekday),
//! and each interval becomes one contiguous span of instants by converting its
//! two local boundaries:
//!
//! * a local time that exists once maps to that instant;
//! * a local time repeated by a fall-back transition maps to its **earliest**
//!   instant when it starts an interval and to its **latest** instant when it
//!   ends one, so an interval never loses real time to the repeated hour (Berlin
//!   01:00-04:00 on the fall-back night is 4 real hours);
//! * a local time skipped by a spring-forward transition maps to the first
//!   instant after the gap, i.e. the transition instant (Berlin 01:00-04:00 on
//!   the spring-forward night is 2 real hours);
//! * `24:00` is 00:00 of the next local date.
//!
//! Spans that overlap after conversion (possible only around a fall-back) are
//! merged, so no real millisecond is ever counted twice.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Weekday,
};
use chrono_tz::Tz;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::types::{Span, Ts};

/// Holidays one calendar may list: decades of public holidays, and a bound on the work a
/// policy put does on the scheduler thread.
pub const MAX_HOLIDAYS: usize = 1000;

/// Minutes in a day; also the largest valid interval end (`24:00`).
const MINUTES_PER_DAY: u16 = 1440;
const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;
/// `add` and `between` never look further than this past their first instant.
/// A validated calendar is open every week, so only absurd spans reach it.
const HORIZON_DAYS: i64 = 200 * 366;
const HORIZON_MS: i64 = HORIZON_DAYS * MS_PER_DAY;
/// Instants are clamped to ±LIMIT_MS (about ±95,000 years): far inside
/// chrono's range (±262,000 years) even after adding the horizon, so every
/// date and time conversion below is in range.
const LIMIT_MS: i64 = 3_000_000_000_000_000;
/// Half-width of the window searched for a spring-forward transition: more
/// than any UTC offset, so the local clock is surely behind at its start and
/// ahead at its end.
const GAP_SEARCH_MS: i64 = 36 * 3_600_000;

/// Weekly opening hours in an IANA time zone, plus holidays (closed days and
/// half days).
///
/// A weekday left out (empty) is closed. Call [`Calendar::validate`] after
/// building or deserializing one: `add` and `between` never panic on an
/// invalid calendar, but their results are only meaningful for a valid one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// The zone whose local clock the hours refer to, by IANA name.
    pub time_zone: Tz,
    #[serde(default)]
    pub mon: Vec<Hours>,
    #[serde(default)]
    pub tue: Vec<Hours>,
    #[serde(default)]
    pub wed: Vec<Hours>,
    #[serde(default)]
    pub thu: Vec<Hours>,
    #[serde(default)]
    pub fri: Vec<Hours>,
    #[serde(default)]
    pub sat: Vec<Hours>,
    #[serde(default)]
    pub sun: Vec<Hours>,
    /// Dates whose hours replace their weekday's.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// One opening interval `[start, end)` of a local date, in minutes of the day.
///
/// Serialized as a string such as `"09:00-18:00"` (end may be `"24:00"`) in
/// every format, so configuration files stay readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hours {
    /// Minute of the day the interval opens, 0..=1439.
    pub start: u16,
    /// Minute of the day the interval closes, 1..=1440 (1440 = 24:00).
    pub end: u16,
}

/// A date whose hours replace its weekday's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The local date, serialized as `"2026-12-25"`.
    pub date: NaiveDate,
    /// Empty: closed all day. Otherwise the half-day hours used instead.
    #[serde(default)]
    pub hours: Vec<Hours>,
}

/// Why a calendar (or an hours string) is invalid, naming the offending field
/// the way a configuration file spells it, e.g. `wed[1]` or `holidays[0].date`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CalendarError {
    pub field: String,
    pub reason: String,
}

impl CalendarError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CalendarError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Which end of an interval a local boundary is; decides how a repeated local
/// time maps to an instant.
#[derive(Clone, Copy)]
enum Edge {
    Start,
    End,
}

impl Calendar {
    /// Checks that every interval has `start < end <= 24:00`, that each day's
    /// intervals are sorted and do not overlap (touching is fine), that no
    /// holiday date is listed twice, and that the weekly hours are open at
    /// least one minute (which guarantees `add` always finds open time).
    pub fn validate(&self) -> Result<(), CalendarError> {
        for (name, hours) in self.week() {
            check_day(name, hours)?;
        }
        if self.week().iter().all(|(_, hours)| hours.is_empty()) {
            return Err(CalendarError::new("hours", "the calendar is never open"));
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            let reason = format!("at most {MAX_HOLIDAYS} per calendar");
            return Err(CalendarError::new("holidays", reason));
        }
        let mut seen = std::collections::HashMap::with_capacity(self.holidays.len());
        for (i, holiday) in self.holidays.iter().enumerate() {
            check_day(&format!("holidays[{i}].hours"), &holiday.hours)?;
            if let Some(j) = seen.insert(holiday.date, i) {
                let reason = format!("{} is already listed as holidays[{j}]", holiday.date);
                return Err(CalendarError::new(format!("holidays[{i}].date"), reason));
            }
        }
        Ok(())
    }

    /// The instant at which `span` of open time has passed since `start`.
    ///
    /// `add(start, Span(0)) == start`, even when `start` is closed. If the span
    /// runs out exactly at the end of an interval, that end is returned, not
    /// the next opening. Monotonic in `span`. Returns [`Ts::MAX`] when the span
    /// is not used up within 200 years (impossible for realistic spans on a
    /// validated calendar) or `start` lies beyond ~95,000 years.
    pub fn add(&self, start: Ts, span: Span) -> Ts {
        if span.0 == 0 {
            return start;
        }
        if start.0 > LIMIT_MS {
            return Ts::MAX;
        }
        let mut left = span.0;
        for (open, close) in self.open_pieces(start.0.max(-LIMIT_MS), i64::MAX) {
            let len = close.abs_diff(open);
            if left <= len {
                // left <= len < 2^63, so the cast is lossless.
                return Ts(open + left as i64);
            }
            left -= len;
        }
        Ts::MAX
    }

    /// Open time within `[a, b)`; `Span(0)` if `b <= a`.
    ///
    /// Counts open time only within 200 years after `a` and within ±95,000
    /// years of the epoch; in that range `between(a, add(a, s)) == s`.
    pub fn between(&self, a: Ts, b: Ts) -> Span {
        let a = a.0.clamp(-LIMIT_MS, LIMIT_MS);
        let b = b.0.clamp(-LIMIT_MS, LIMIT_MS);
        if b <= a {
            return Span(0);
        }
        let pieces = self.open_pieces(a, b);
        Span(pieces.map(|(open, close)| close.abs_diff(open)).sum())
    }

    /// The open time in `[from, until)` (and within the horizon after `from`)
    /// as non-empty, disjoint pieces in time order, in UTC milliseconds.
    ///
    /// Walks local dates from the day before `from`'s local date, so no
    /// interval reaching `from` is missed. Interval starts map monotonically
    /// to instants, so trimming each span by the end of the previous one
    /// (`covered`) yields exactly the union of the spans.
    fn open_pieces(&self, from: i64, until: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let limit = until.min(from.saturating_add(HORIZON_MS));
        let first_day = self.local_date(from).pred_opt().unwrap_or(NaiveDate::MIN);
        let last_day = self.local_date(limit).succ_opt().unwrap_or(NaiveDate::MAX);
        let mut covered = from;
        first_day
            .iter_days()
            .take_while(move |date| *date <= last_day)
            .flat_map(move |date| self.spans_on(date))
            .take_while(move |&(open, _)| open < limit)
            .filter_map(move |(open, close)| {
                let (open, close) = (open.max(covered), close.min(limit));
                covered = covered.max(close);
                (open < close).then_some((open, close))
            })
    }

    /// The intervals of one local date as `(open, close)` instants in UTC
    /// milliseconds, without allocating.
    fn spans_on(&self, date: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.hours_on(date).iter().map(move |hours| {
            let open = self.instant(date, hours.start, Edge::Start);
            (open, self.instant(date, hours.end, Edge::End))
        })
    }

    /// The hours of a local date: its holiday entry if any, else its weekday's.
    fn hours_on(&self, date: NaiveDate) -> &[Hours] {
        if let Some(holiday) = self.holidays.iter().find(|h| h.date == date) {
            return &holiday.hours;
        }
        match date.weekday() {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// The weekly hours with the names `validate` reports them under.
    fn week(&self) -> [(&'static str, &[Hours]); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    /// The instant (UTC ms) of local `minute` on `date`, following the DST
    /// rules in the module docs.
    fn instant(&self, date: NaiveDate, minute: u16, edge: Edge) -> i64 {
        let local_ms = midnight_ms(date) + i64::from(minute) * MS_PER_MINUTE;
        match self.time_zone.from_local_datetime(&naive(local_ms)) {
            MappedLocalTime::Single(t) => t.timestamp_millis(),
            MappedLocalTime::Ambiguous(x, y) => {
                let (x, y) = (x.timestamp_millis(), y.timestamp_millis());
                match edge {
                    Edge::Start => x.min(y),
                    Edge::End => x.max(y),
                }
            }
            MappedLocalTime::None => self.gap_end(local_ms),
        }
    }

    /// For a local time skipped by a spring-forward transition, the first
    /// instant after the gap: the transition instant itself.
    ///
    /// Binary search for an instant where the local clock jumps from at or
    /// before `local_ms` to after it. Local times are whole minutes and
    /// offsets whole seconds, so such a jump over a skipped time can only be a
    /// transition. Runs only on gap boundaries, so its ~28 steps are cheap.
    fn gap_end(&self, local_ms: i64) -> i64 {
        let mut behind = local_ms - GAP_SEARCH_MS;
        let mut ahead = local_ms + GAP_SEARCH_MS;
        while ahead - behind > 1 {
            let mid = behind + (ahead - behind) / 2;
            if mid + self.offset_ms(mid) > local_ms {
                ahead = mid;
            } else {
                behind = mid;
            }
        }
        ahead
    }

    /// The zone's UTC offset at an instant, in milliseconds.
    fn offset_ms(&self, utc_ms: i64) -> i64 {
        let offset = self.time_zone.offset_from_utc_datetime(&naive(utc_ms));
        i64::from(offset.fix().local_minus_utc()) * 1000
    }

    /// The local date at an instant.
    fn local_date(&self, utc_ms: i64) -> NaiveDate {
        self.time_zone
            .from_utc_datetime(&naive(utc_ms))
            .date_naive()
    }
}

/// Checks one day's intervals; `field` names the list, e.g. `wed`.
fn check_day(field: &str, hours: &[Hours]) -> Result<(), CalendarError> {
    let mut previous_end = 0;
    for (i, h) in hours.iter().enumerate() {
        let err = |reason: String| Err(CalendarError::new(format!("{field}[{i}]"), reason));
        if h.end > MINUTES_PER_DAY {
            return err(format!("{h} ends after 24:00"));
        }
        if h.start >= h.end {
            return err(format!("{h} does not start before it ends"));
        }
        if h.start < previous_end {
            return err(format!("{h} overlaps or precedes the interval before it"));
        }
        previous_end = h.end;
    }
    Ok(())
}

/// Milliseconds since the epoch of local (or UTC) midnight starting `date`.
fn midnight_ms(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// A wall-clock reading given as milliseconds since the epoch. Callers clamp
/// to ±LIMIT_MS (plus at most the horizon), well inside chrono's range, so
/// the saturating fallback is unreachable; it only avoids a panic path.
fn naive(ms: i64) -> NaiveDateTime {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.naive_utc(),
        None if ms < 0 => NaiveDateTime::MIN,
        None => NaiveDateTime::MAX,
    }
}

impl fmt::Display for Hours {
    /// Formats as `HH:MM-HH:MM`, the form `FromStr` and serde accept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, e) = (self.start, self.end);
        write!(f, "{:02}:{:02}-{:02}:{:02}", s / 60, s % 60, e / 60, e % 60)
    }
}

impl FromStr for Hours {
    type Err = CalendarError;

    /// Parses `HH:MM-HH:MM` (hours may have one digit; times from 00:00 to
    /// 24:00). Checks syntax only: ordering is [`Calendar::validate`]'s job.
    fn from_str(text: &str) -> Result<Hours, CalendarError> {
        let parsed = text
            .split_once('-')
            .and_then(|(start, end)| Some((parse_clock(start)?, parse_clock(end)?)));
        match parsed {
            Some((start, end)) => Ok(Hours { start, end }),
            None => Err(CalendarError::new(
                "hours",
                format!(
                    "expected \"HH:MM-HH:MM\" with times from 00:00 to 24:00, \
                     such as \"09:00-18:00\", got {text:?}"
                ),
            )),
        }
    }
}

/// Parses `H:MM` or `HH:MM` up to `24:00` into a minute of the day.
pub(crate) fn parse_clock(text: &str) -> Option<u16> {
    let (hour, minute) = text.trim().split_once(':')?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(hour, 1..=2) || !digits(minute, 2..=2) {
        return None;
    }
    let (hour, minute): (u16, u16) = (hour.parse().ok()?, minute.parse().ok()?);
    let total = hour * 60 + minute;
    (minute < 60 && total <= MINUTES_PER_DAY).then_some(total)
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hours, D::Error> {
        deserializer.deserialize_str(HoursVisitor)
    }
}

struct HoursVisitor;

impl de::Visitor<'_> for HoursVisitor {
    type Value = Hours;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("opening hours such as \"09:00-18:00\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Hours, E> {
        text.parse().map_err(|e: CalendarError| E::custom(e.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Berlin;
    use chrono_tz::UTC;

    const HOUR: i64 = 3_600_000;

    /// The instant of a local time that exists exactly once.
    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Ts {
        let local = tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap();
        Ts(local.timestamp_millis())
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Ts {
        at(UTC, y, mo, d, h, mi)
    }

    fn hours(list: &[&str]) -> Vec<Hours> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn closed(tz: Tz) -> Calendar {
        Calendar {
            time_zone: tz,
            mon: vec![],
            tue: vec![],
            wed: vec![],
            thu: vec![],
            fri: vec![],
            sat: vec![],
            sun: vec![],
            holidays: vec![],
        }
    }

    /// Mon-Fri with the same hours, weekends closed.
    fn weekdays(tz: Tz, day: &[&str]) -> Calendar {
        let day = hours(day);
        Calendar {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day,
            ..closed(tz)
        }
    }

    fn every_day(tz: Tz, day: &[&str]) -> Calendar {
        Calendar {
            sat: hours(day),
            sun: hours(day),
            ..weekdays(tz, day)
        }
    }

    /// Only Sundays open, with the given hours (DST transitions are Sundays).
    fn sundays(tz: Tz, day: &[&str]) -> Calendar {
        Calendar {
            sun: hours(day),
            ..closed(tz)
        }
    }

    #[test]
    fn friday_1755_plus_2h_email_in_9_to_18_weekdays_is_due_monday_1055() {
        let cal = weekdays(Berlin, &["09:00-18:00"]);
        cal.validate().unwrap();
        let friday = at(Berlin, 2026, 6, 5, 17, 55);
        let due = cal.add(friday, Span::hours(2));
        assert_eq!(due, at(Berlin, 2026, 6, 8, 10, 55));
        assert_eq!(due, utc(2026, 6, 8, 8, 55));
        assert_eq!(cal.between(friday, due), Span::hours(2));
    }

    #[test]
    fn a_span_ending_at_closing_time_is_due_at_closing_not_next_opening() {
        let cal = weekdays(Berlin, &["09:00-18:00"]);
        let friday = at(Berlin, 2026, 6, 5, 17, 0);
        assert_eq!(
            cal.add(friday, Span::hours(1)),
            at(Berlin, 2026, 6, 5, 18, 0)
        );
        // Starting while closed: the clock starts at the next opening.
        let saturday = at(Berlin, 2026, 6, 6, 12, 0);
        assert_eq!(
            cal.add(saturday, Span::mins(1)),
            at(Berlin, 2026, 6, 8, 9, 1)
        );
        assert_eq!(cal.add(saturday, Span(0)), saturday);
    }

    #[test]
    fn dst_friday_1700_plus_2h_is_monday_1000_local_in_berlin_and_new_york() {
        let cases = [
            // (zone, friday, expected monday 10:00 local as UTC)
            (Berlin, (2026, 3, 27), (2026, 3, 30, 8)), // CET -> CEST
            (Berlin, (2026, 10, 23), (2026, 10, 26, 9)), // CEST -> CET
            (New_York, (2026, 3, 6), (2026, 3, 9, 14)), // EST -> EDT
            (New_York, (2026, 10, 30), (2026, 11, 2, 15)), // EDT -> EST
        ];
        for (tz, (y, m, d), (uy, um, ud, uh)) in cases {
            let cal = weekdays(tz, &["09:00-18:00"]);
            let friday = at(tz, y, m, d, 17, 0);
            let due = cal.add(friday, Span::hours(2));
            assert_eq!(due, utc(uy, um, ud, uh, 0), "{tz} {y}-{m}-{d}");
            assert_eq!(cal.between(friday, due), Span::hours(2));
        }
    }

    #[test]
    fn dst_always_open_day_is_23h_in_spring_and_25h_in_fall() {
        let cases = [
            // (zone, saturday, sunday of the transition, hours between noons)
            (Berlin, (3, 28), (3, 29), 23),
            (Berlin, (10, 24), (10, 25), 25),
            (New_York, (3, 7), (3, 8), 23),
            (New_York, (10, 31), (11, 1), 25),
        ];
        for (tz, (sat_m, sat_d), (sun_m, sun_d), expected) in cases {
            let cal = every_day(tz, &["00:00-24:00"]);
            let saturday_noon = at(tz, 2026, sat_m, sat_d, 12, 0);
            let sunday_noon = at(tz, 2026, sun_m, sun_d, 12, 0);
            let open = cal.between(saturday_noon, sunday_noon);
            assert_eq!(open, Span::hours(expected), "{tz} {sat_m}-{sat_d}");
            assert_eq!(cal.add(saturday_noon, open), sunday_noon);
        }
    }

    #[test]
    fn dst_night_interval_counts_real_hours_on_both_transitions() {
        let cases = [
            // Berlin: 02:00 -> 03:00 in spring, 03:00 -> 02:00 in fall.
            (Berlin, (2026, 3, 29), "01:00-04:00", 2),
            (Berlin, (2026, 10, 25), "01:00-04:00", 4),
            (Berlin, (2026, 10, 25), "01:00-03:00", 3),
            // New York: 02:00 -> 03:00 in spring, 02:00 -> 01:00 in fall.
            (New_York, (2026, 3, 8), "01:00-04:00", 2),
            (New_York, (2026, 11, 1), "00:00-03:00", 4),
            (New_York, (2026, 11, 1), "01:00-03:00", 3),
        ];
        for (tz, (y, m, d), interval, expected) in cases {
            let cal = sundays(tz, &[interval]);
            let (day_start, next_day) = (at(tz, y, m, d, 0, 0), at(tz, y, m, d + 1, 0, 0));
            let open = cal.between(day_start, next_day);
            assert_eq!(open, Span::hours(expected), "{tz} {y}-{m}-{d} {interval}");
            let closes = cal.add(day_start, open);
            assert_eq!(closes.0 % HOUR, 0);
            assert_eq!(cal.between(day_start, closes), open);
        }
    }

    #[test]
    fn dst_boundary_in_the_gap_is_the_transition_and_in_the_repeat_widens() {
        // Berlin spring: 02:30 does not exist; it maps to 03:00 CEST = 01:00 UTC.
        let spring = sundays(Berlin, &["02:30-05:00"]);
        let (a, b) = (utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 0, 0));
        assert_eq!(spring.between(a, b), Span::hours(2));
        assert_eq!(spring.add(a, Span(1)), Ts(utc(2026, 3, 29, 1, 0).0 + 1));
        // An interval wholly inside the gap is empty.
        assert_eq!(sundays(Berlin, &["02:10-02:50"]).between(a, b), Span(0));
        // Berlin fall: 02:30 happens twice; start takes the first (00:30 UTC),
        // end the second (01:45 UTC).
        let fall = sundays(Berlin, &["02:30-02:45"]);
        let (a, b) = (utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 0, 0));
        assert_eq!(fall.between(a, b), Span::mins(75));
        assert_eq!(fall.add(a, Span(1)), Ts(utc(2026, 10, 25, 0, 30).0 + 1));
        assert_eq!(fall.add(a, Span::mins(75)), utc(2026, 10, 25, 1, 45));
        // Touching intervals that overlap once converted are counted once.
        let split = sundays(Berlin, &["01:00-02:30", "02:30-04:00"]);
        assert_eq!(split.between(a, b), Span::hours(4));
        assert_eq!(split.add(a, Span::hours(4)), utc(2026, 10, 25, 3, 0));
    }

    #[test]
    fn a_holiday_is_closed_and_a_half_day_counts_only_its_hours() {
        let mut cal = weekdays(Berlin, &["09:00-18:00"]);
        cal.holidays = vec![
            Holiday {
                date: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                hours: hours(&["09:00-13:00"]),
            },
            Holiday {
                date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
                hours: vec![],
            },
        ];
        cal.validate().unwrap();
        let (thu, fri) = (
            at(Berlin, 2026, 12, 24, 0, 0),
            at(Berlin, 2026, 12, 25, 0, 0),
        );
        let mon = at(Berlin, 2026, 12, 28, 0, 0);
        assert_eq!(cal.between(thu, fri), Span::hours(4));
        assert_eq!(cal.between(fri, mon), Span(0));
        // Thursday 12:00 + 3h: 1h on the half day, then Monday 09:00 + 2h.
        let due = cal.add(at(Berlin, 2026, 12, 24, 12, 0), Span::hours(3));
        assert_eq!(due, at(Berlin, 2026, 12, 28, 11, 0));
        // A holiday on a weekend opens it.
        cal.holidays.push(Holiday {
            date: NaiveDate::from_ymd_opt(2026, 12, 27).unwrap(),
            hours: hours(&["10:00-11:00"]),
        });
        assert_eq!(cal.between(fri, mon), Span::hours(1));
    }

    #[test]
    fn an_always_open_utc_calendar_is_plain_arithmetic() {
        let cal = every_day(UTC, &["00:00-24:00"]);
        cal.validate().unwrap();
        let starts = [
            Ts(0),
            Ts(-1),
            Ts(-86_400_000 * 400 + 12_345),
            utc(2026, 3, 29, 0, 59),
            Ts(utc(2026, 12, 31, 23, 59).0 + 59_999),
        ];
        let spans = [
            0,
            1,
            59_999,
            3_600_000,
            86_400_000,
            86_400_001,
            400 * 86_400_000,
        ];
        for a in starts {
            for s in spans.map(Span) {
                assert_eq!(cal.add(a, s), a.plus(s), "{a:?} + {s:?}");
                assert_eq!(cal.between(a, a.plus(s)), s);
                assert_eq!(cal.between(a.plus(s), a), Span(0));
            }
        }
    }

    fn grid_calendars() -> Vec<(Calendar, Ts)> {
        let mut berlin = weekdays(Berlin, &["09:00-18:00"]);
        berlin.wed = hours(&["09:00-12:30", "13:30-18:00"]);
        berlin.sun = hours(&["01:00-04:00", "22:00-24:00"]);
        berlin.holidays = vec![Holiday {
            date: NaiveDate::from_ymd_opt(2026, 3, 27).unwrap(),
            hours: hours(&["09:00-13:00"]),
        }];
        let mut new_york = weekdays(New_York, &["08:00-20:00"]);
        new_york.sat = hours(&["22:00-24:00"]);
        new_york.sun = hours(&["00:00-03:00", "23:59-24:00"]);
        vec![
            (berlin, utc(2026, 3, 22, 0, 0)),
            (new_york, utc(2026, 10, 25, 0, 0)),
            (every_day(Berlin, &["00:00-24:00"]), utc(2026, 10, 18, 0, 0)),
        ]
    }

    #[test]
    fn between_inverts_add() {
        let spans = [
            1,
            60_000,
            59 * 60_000,
            2 * HOUR,
            9 * HOUR,
            30 * HOUR,
            200 * HOUR,
        ];
        for (cal, first) in grid_calendars() {
            cal.validate().unwrap();
            for step in 0..(14 * 24 / 7) {
                let a = Ts(first.0 + step * 7 * HOUR);
                let mut previous = a;
                for s in spans.map(|ms| Span(ms as u64)) {
                    let due = cal.add(a, s);
                    assert_eq!(cal.between(a, due), s, "{} {a:?} {s:?}", cal.time_zone);
                    assert!(due >= previous, "add is monotonic in the span");
                    assert!(due.since(a) >= s, "open time never outruns real time");
                    let middle = Ts(a.0 + (due.0 - a.0) / 3);
                    let split = cal.between(a, middle).0 + cal.between(middle, due).0;
                    assert_eq!(split, s.0, "between is additive");
                    previous = due;
                }
            }
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        let bad = |edit: &dyn Fn(&mut Calendar)| {
            let mut cal = weekdays(Berlin, &["09:00-18:00"]);
            edit(&mut cal);
            cal.validate().unwrap_err()
        };
        let overlap = bad(&|c| c.wed = hours(&["09:00-12:30", "12:00-18:00"]));
        assert_eq!(overlap.field, "wed[1]");
        assert!(overlap
            .to_string()
            .starts_with("wed[1]: 12:00-18:00 overlaps"));
        assert_eq!(
            bad(&|c| c.wed = hours(&["13:00-18:00", "09:00-12:00"])).field,
            "wed[1]"
        );
        assert_eq!(bad(&|c| c.mon = hours(&["18:00-09:00"])).field, "mon[0]");
        assert_eq!(bad(&|c| c.sat = hours(&["09:00-09:00"])).field, "sat[0]");
        let too_late = bad(&|c| {
            c.tue = vec![Hours {
                start: 600,
                end: 1441,
            }]
        });
        assert_eq!(too_late.field, "tue[0]");
        assert!(too_late.reason.contains("after 24:00"));
        let half_day = |hours| Holiday {
            date: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
            hours,
        };
        let bad_half_day = bad(&|c| c.holidays = vec![half_day(vec![Hours { start: 9, end: 9 }])]);
        assert_eq!(bad_half_day.field, "holidays[0].hours[0]");
        let twice = |c: &mut Calendar| {
            let other = Holiday {
                date: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
                hours: vec![],
            };
            c.holidays = vec![half_day(vec![]), other, half_day(vec![])];
        };
        let duplicate = bad(&twice);
        assert_eq!(duplicate.field, "holidays[2].date");
        assert!(duplicate.reason.contains("2026-12-24"));
        let never = bad(&|c| {
            *c = Calendar {
                holidays: c.holidays.clone(),
                ..closed(Berlin)
            }
        });
        assert_eq!(
            never,
            CalendarError::new("hours", "the calendar is never open")
        );
    }

    #[test]
    fn deserialization_rejects_unknown_zones_fields_and_bad_hours_clearly() {
        let zone = toml::from_str::<Calendar>("time_zone = \"Mars/Olympus\"").unwrap_err();
        let message = zone.to_string();
        assert!(
            message.contains("failed to parse timezone: 'Mars/Olympus'"),
            "{message}"
        );
        let field = "time_zone = \"UTC\"\nmoon = [\"09:00-18:00\"]";
        assert!(toml::from_str::<Calendar>(field)
            .unwrap_err()
            .to_string()
            .contains("moon"));
        let text = "time_zone = \"UTC\"\nmon = [\"9-18\"]";
        let message = toml::from_str::<Calendar>(text).unwrap_err().to_string();
        assert!(message.contains("expected \"HH:MM-HH:MM\""), "{message}");
        assert!(message.contains("\"9-18\""), "{message}");
        for bad in [
            "09:60-10:00",
            "24:01-24:00",
            "09:00",
            "0900-1000",
            "09:0-10:00",
            "+9:00-10:00",
        ] {
            assert!(bad.parse::<Hours>().is_err(), "{bad}");
        }
        assert_eq!(
            "9:05 - 24:00".parse(),
            Ok(Hours {
                start: 545,
                end: 1440
            })
        );
    }

    const EXAMPLE: &str = r#"
time_zone = "Europe/Berlin"
mon = ["09:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-12:30", "13:30-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-18:00"]
holidays = [ { date = "2026-12-24", hours = ["09:00-13:00"] }, { date = "2026-12-25" } ]
"#;

    #[test]
    fn toml_and_postcard_round_trip() {
        let cal: Calendar = toml::from_str(EXAMPLE).unwrap();
        cal.validate().unwrap();
        assert_eq!(cal.time_zone, Berlin);
        assert_eq!(
            cal.wed,
            vec![
                Hours {
                    start: 540,
                    end: 750
                },
                Hours {
                    start: 810,
                    end: 1080
                }
            ]
        );
        assert!(cal.sat.is_empty() && cal.sun.is_empty());
        assert_eq!(
            cal.holidays[1].date,
            NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()
        );
        assert!(cal.holidays[1].hours.is_empty());

        let text = toml::to_string(&cal).unwrap();
        assert!(
            text.contains("\"09:00-12:30\"") && text.contains("2026-12-24"),
            "{text}"
        );
        assert_eq!(toml::from_str::<Calendar>(&text).unwrap(), cal);

        let mut full = cal.clone();
        full.sun = hours(&["00:00-24:00"]);
        let bytes = postcard::to_allocvec(&full).unwrap();
        assert!(
            bytes.windows(11).any(|w| w == b"00:00-24:00"),
            "hours stay strings"
        );
        assert_eq!(postcard::from_bytes::<Calendar>(&bytes).unwrap(), full);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let cal = weekdays(New_York, &["09:00-18:00"]);
        assert_eq!(cal.add(Ts::MAX, Span(1)), Ts::MAX);
        assert_eq!(cal.add(Ts(i64::MIN), Span(0)), Ts(i64::MIN));
        assert!(cal.add(Ts(i64::MIN), Span::hours(1)) > Ts(i64::MIN));
        assert_eq!(cal.add(Ts(0), Span(u64::MAX)), Ts::MAX);
        assert!(cal.between(Ts(0), Ts::MAX) > Span::hours(200 * 52 * 40));
        assert!(cal.between(Ts(i64::MIN), Ts::MAX) > Span(0));
        let never = closed(New_York);
        assert_eq!(never.add(Ts(0), Span(1)), Ts::MAX);
        assert_eq!(never.between(Ts(0), Ts::MAX), Span(0));
        // Unvalidated nonsense hours still give an answer rather than a panic.
        let nonsense = Calendar {
            mon: vec![
                Hours {
                    start: 65_000,
                    end: 3,
                },
                Hours {
                    start: 5,
                    end: 65_535,
                },
            ],
            ..closed(Berlin)
        };
        let _ = nonsense.add(Ts(0), Span::hours(1000));
        let _ = nonsense.between(Ts(0), Ts(HOUR * 24 * 400));
    }
}
