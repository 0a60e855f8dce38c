//! Deadline clocks: when a rule's clock starts it gets a due instant (a date in the office's
//! calendar at the office's cut-off time); it may pause (time paused is not counted), and it
//! ends met, missed or stopped.

use crate::calendar::{Calendar, CalendarError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a clock runs. Written and read as its words, e.g. `15 calendar days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Business days, the start day not counted.
    BusinessDays(u32),
    /// Calendar days, moved to the next business day when the last one is closed.
    CalendarDays(u32),
    /// Working hours: counted only while the office is open on business days.
    BusinessHours(u32),
}

/// Parses a length such as `15 calendar days` or `5 business days`.
pub fn parse_length(text: &str) -> Option<Length> {
    let mut words = text.split_whitespace();
    let n: u32 = words.next()?.parse().ok()?;
    let basis = words.next()?;
    let unit = words.next()?;
    if words.next().is_some() || !matches!(unit, "day" | "days" | "hour" | "hours") {
        return None;
    }
    match basis {
        "calendar" if matches!(unit, "day" | "days") => Some(Length::CalendarDays(n)),
        "business" if matches!(unit, "day" | "days") => Some(Length::BusinessDays(n)),
        "business" => Some(Length::BusinessHours(n)),
        _ => None,
    }
}

/// A length in words, as lifecycle files write it.
pub fn length_text(l: Length) -> String {
    match l {
        Length::BusinessDays(n) => format!("{n} business days"),
        Length::CalendarDays(n) => format!("{n} calendar days"),
        Length::BusinessHours(n) => format!("{n} business hours"),
    }
}

impl Serialize for Length {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&length_text(*self))
    }
}

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_length(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("not a length such as `15 calendar days`: {text:?}"))
        })
    }
}

/// A clock rule: what starts it and how long it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockRule {
    /// Stable name, e.g. `company_response`.
    pub name: &'static str,
    pub length: Length,
    /// Where the rule comes from (process.md, C-table id).
    pub source: &'static str,
}

/// The company must answer a referral: 15 calendar days (CFPB-style, C26).
pub const COMPANY_RESPONSE: ClockRule = ClockRule {
    name: "company_response",
    length: Length::CalendarDays(15),
    source: "C26",
};
/// A FOIL request must be acknowledged, granted or denied within 5 business days (C30).
pub const FOIL_FIRST_RESPONSE: ClockRule = ClockRule {
    name: "foil_first_response",
    length: Length::BusinessDays(5),
    source: "C30",
};

/// What a change of status does to a case's clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Start(ClockRule),
    /// Ends the named clock; `met` when the awaited act happened.
    Stop {
        name: &'static str,
        met: bool,
    },
    PauseAll,
    ResumeAll,
    /// Ends every clock still open, as stopped (the case closed).
    StopAll,
}

/// The clock effects of a case of `kind` moving from `from` (`None` when it is opened) to `to`.
pub fn effects(
    kind: crate::CaseKind,
    from: Option<crate::Status>,
    to: crate::Status,
) -> Vec<Effect> {
    use crate::Status::*;
    let mut out = Vec::new();
    if from.is_none() && kind == crate::CaseKind::FoilRequest {
        out.push(Effect::Start(FOIL_FIRST_RESPONSE));
    }
    if from.is_none() && kind == crate::CaseKind::Complaint && to.is_open() {
        out.push(Effect::Start(RESOLUTION_TARGET));
    }
    if from == Some(New) && to != New && kind == crate::CaseKind::FoilRequest {
        out.push(Effect::Stop {
            name: FOIL_FIRST_RESPONSE.name,
            met: true,
        });
    }
    if from == Some(PendingCompany) && to != PendingCompany {
        out.push(Effect::Stop {
            name: COMPANY_RESPONSE.name,
            met: true,
        });
    }
    if from == Some(PendingConsumer) && to != PendingConsumer {
        out.push(Effect::ResumeAll);
    }
    if to == PendingCompany && from != Some(PendingCompany) {
        out.push(Effect::Start(COMPANY_RESPONSE));
    }
    if to == PendingConsumer && from != Some(PendingConsumer) {
        out.push(Effect::PauseAll);
    }
    if matches!(to, Resolved | Closed) {
        out.push(Effect::Stop {
            name: RESOLUTION_TARGET.name,
            met: true,
        });
    }
    if !to.is_open() {
        out.push(Effect::StopAll);
    }
    out
}

/// The office's own target for resolving a complaint: 30 business days (C08 has no figure;
/// an internal target), paused while waiting on the consumer.
pub const RESOLUTION_TARGET: ClockRule = ClockRule {
    name: "resolution_target",
    length: Length::BusinessDays(30),
    source: "C08",
};

/// The hour (office time) by which a due date's work must be done, unless the office closes at
/// another. The calendar's default closing hour; named here too, where deadlines are made.
pub use crate::calendar::CUTOFF_HOUR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Missed,
    Stopped,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Missed => "missed",
            ClockState::Stopped => "stopped",
        }
    }
}

/// A date's cut-off instant (the office's closing hour) in a time zone.
pub fn at_cutoff(
    cal: &Calendar,
    date: jiff::civil::Date,
    tz: &TimeZone,
) -> Result<Timestamp, CalendarError> {
    at_hour(date, cal.closing_hour(), tz)
}

/// The due instant of a clock started at `start`.
pub fn due_at(
    cal: &Calendar,
    tz: &TimeZone,
    start: Timestamp,
    length: Length,
) -> Result<Timestamp, CalendarError> {
    let day = start.to_zoned(tz.clone()).date();
    let due = match length {
        Length::BusinessDays(n) => cal.add_business_days(day, n)?,
        Length::CalendarDays(n) => cal.add_calendar_days(day, n)?,
        Length::BusinessHours(n) => return add_business_hours(cal, tz, start, n),
    };
    at_cutoff(cal, due, tz)
}

/// A date's instant at a whole hour, office time.
fn at_hour(date: jiff::civil::Date, hour: i8, tz: &TimeZone) -> Result<Timestamp, CalendarError> {
    date.at(hour, 0, 0, 0)
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| CalendarError::OutOfRange)
}

/// `hours` working hours after `start`: time counts only between the office's opening and
/// closing hours on business days. A start outside those hours counts from the next opening.
pub fn add_business_hours(
    cal: &Calendar,
    tz: &TimeZone,
    start: Timestamp,
    hours: u32,
) -> Result<Timestamp, CalendarError> {
    let mut left = SignedDuration::from_hours(i64::from(hours));
    let mut cursor = start;
    for _ in 0..(hours as usize + 2) * 8 + 400 {
        let local = cursor.to_zoned(tz.clone());
        let day = local.date();
        let open = at_hour(day, cal.opening_hour(), tz)?;
        let close = at_hour(day, cal.closing_hour(), tz)?;
        if !cal.is_business_day(day) || cursor >= close {
            let next = cal.add_business_days(day, 1)?;
            cursor = at_hour(next, cal.opening_hour(), tz)?;
            continue;
        }
        if cursor < open {
            cursor = open;
        }
        let available = close.duration_since(cursor);
        if left <= available {
            return cursor
                .checked_add(left)
                .map_err(|_| CalendarError::OutOfRange);
        }
        left -= available;
        cursor = close;
    }
    Err(CalendarError::OutOfRange)
}

/// The due instant after a pause from `paused_at` to `resumed_at`: later by the time paused,
/// then moved to the next business day's cut-off if that lands on a closed day.
pub fn resume(
    cal: &Calendar,
    tz: &TimeZone,
    due: Timestamp,
    paused_at: Timestamp,
    resumed_at: Timestamp,
) -> Result<Timestamp, CalendarError> {
    let paused = resumed_at
        .duration_since(paused_at)
        .max(SignedDuration::ZERO);
    let moved = due
        .checked_add(paused)
        .map_err(|_| CalendarError::OutOfRange)?;
    let day = moved.to_zoned(tz.clone()).date();
    let open = cal.roll_forward(day)?;
    if open == day {
        Ok(moved)
    } else {
        at_cutoff(cal, open, tz)
    }
}

/// A clock's state at `now`.
pub fn state_at(
    now: Timestamp,
    due: Timestamp,
    paused_at: Option<Timestamp>,
    stopped: Option<(Timestamp, bool)>,
) -> ClockState {
    match (stopped, paused_at) {
        (Some((at, true)), _) => {
            if at <= due {
                ClockState::Met
            } else {
                ClockState::Missed
            }
        }
        (Some((_, false)), _) => ClockState::Stopped,
        (None, Some(_)) => ClockState::Paused,
        (None, None) if now > due => ClockState::Missed,
        (None, None) => ClockState::Running,
    }
}

// Counting a clock's length back through a calendar is the clock's business: the calendar
// below knows nothing of lengths.
impl Calendar {
    /// `n` business days (or calendar days) before `end`, landing on a business day at or
    /// before the one counted: for due-soon warnings.
    pub fn sub_business_days(&self, end: Date, n: Length) -> Result<Date, CalendarError> {
        let mut d = end;
        match n {
            Length::CalendarDays(days) => {
                d = d
                    .checked_sub(jiff::Span::new().days(i64::from(days)))
                    .map_err(|_| CalendarError::OutOfRange)?;
            }
            Length::BusinessDays(days) => {
                d = self.step_business_days(end, days, false)?;
            }
            // A warning counted in hours falls on the due day itself.
            Length::BusinessHours(_) => {}
        }
        Ok(d)
    }
}

#[cfg(test)]
mod effect_tests {
    use super::*;
    use crate::{CaseKind, Status};

    #[test]
    fn lengths_are_words() {
        let l = Length::BusinessDays(3);
        let json = serde_json::to_string(&l).expect("json");
        assert_eq!(json, "\"3 business days\"");
        assert_eq!(serde_json::from_str::<Length>(&json).expect("back"), l);
        assert!(serde_json::from_str::<Length>("{\"BusinessDays\":3}").is_err());
    }

    #[test]
    fn referral_and_answer() {
        assert_eq!(
            effects(
                CaseKind::Complaint,
                Some(Status::Open),
                Status::PendingCompany
            ),
            vec![Effect::Start(COMPANY_RESPONSE)]
        );
        assert_eq!(
            effects(
                CaseKind::Complaint,
                Some(Status::PendingCompany),
                Status::Open
            ),
            vec![Effect::Stop {
                name: "company_response",
                met: true
            }]
        );
        assert_eq!(
            effects(
                CaseKind::Complaint,
                Some(Status::Open),
                Status::PendingConsumer
            ),
            vec![Effect::PauseAll]
        );
        assert_eq!(
            effects(
                CaseKind::Complaint,
                Some(Status::PendingConsumer),
                Status::Open
            ),
            vec![Effect::ResumeAll]
        );
        assert_eq!(
            effects(CaseKind::Complaint, Some(Status::Open), Status::Closed),
            vec![
                Effect::Stop {
                    name: "resolution_target",
                    met: true
                },
                Effect::StopAll
            ]
        );
        assert_eq!(
            effects(CaseKind::Complaint, Some(Status::Open), Status::Merged),
            vec![Effect::StopAll]
        );
        assert_eq!(
            effects(CaseKind::FoilRequest, None, Status::New),
            vec![Effect::Start(FOIL_FIRST_RESPONSE)]
        );
        assert_eq!(
            effects(CaseKind::FoilRequest, Some(Status::New), Status::Open),
            vec![Effect::Stop {
                name: "foil_first_response",
                met: true
            }]
        );
        assert_eq!(
            effects(CaseKind::Complaint, None, Status::New),
            vec![Effect::Start(RESOLUTION_TARGET)]
        );
        assert!(effects(CaseKind::Inquiry, None, Status::New).is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ny() -> (Calendar, TimeZone) {
        crate::calendar::new_york()
    }

    #[test]
    fn counting_back_mirrors_counting_forward() {
        use jiff::civil::date;
        let (cal, _) = ny();
        // Five business days before Monday 2026-12-28: 24, 23, 22, 21, 18 (Christmas skipped).
        assert_eq!(
            cal.sub_business_days(date(2026, 12, 28), Length::BusinessDays(5)),
            Ok(date(2026, 12, 18))
        );
        assert_eq!(
            cal.sub_business_days(date(2026, 12, 28), Length::CalendarDays(5)),
            Ok(date(2026, 12, 23))
        );
    }

    #[test]
    fn cutoff_follows_daylight_saving() {
        let (cal, tz) = ny();
        // Started Monday 2026-03-02: 5 business days → Monday 2026-03-09, after the DST change.
        let due = due_at(
            &cal,
            &tz,
            "2026-03-02T15:00:00Z".parse().expect("ts"),
            Length::BusinessDays(5),
        )
        .expect("due");
        assert_eq!(due.to_string(), "2026-03-09T21:00:00Z");
        // Late November is EST: 17:00 is 22:00Z.
        let due = due_at(
            &cal,
            &tz,
            "2026-11-16T15:00:00Z".parse().expect("ts"),
            Length::BusinessDays(1),
        )
        .expect("due");
        assert_eq!(due.to_string(), "2026-11-17T22:00:00Z");
    }

    #[test]
    fn an_office_that_closes_at_four_has_deadlines_at_four() {
        let (cal, tz) = ny();
        let cal = cal.closing_at(16);
        let due = due_at(
            &cal,
            &tz,
            "2026-11-16T15:00:00Z".parse().expect("ts"),
            Length::BusinessDays(1),
        )
        .expect("due");
        assert_eq!(due.to_string(), "2026-11-17T21:00:00Z");
    }

    #[test]
    fn calendar_days_roll_past_holidays() {
        let (cal, tz) = ny();
        // 2026-12-10 + 15 days = Christmas → the 28th (Monday).
        let due = due_at(
            &cal,
            &tz,
            "2026-12-10T15:00:00Z".parse().expect("ts"),
            Length::CalendarDays(15),
        )
        .expect("due");
        assert_eq!(due.to_zoned(tz).date().to_string(), "2026-12-28");
    }

    #[test]
    fn states() {
        let due: Timestamp = "2026-03-09T21:00:00Z".parse().expect("ts");
        let before: Timestamp = "2026-03-09T20:00:00Z".parse().expect("ts");
        let after: Timestamp = "2026-03-10T13:00:00Z".parse().expect("ts");
        assert_eq!(state_at(before, due, None, None), ClockState::Running);
        assert_eq!(state_at(after, due, None, None), ClockState::Missed);
        assert_eq!(state_at(after, due, Some(before), None), ClockState::Paused);
        assert_eq!(
            state_at(after, due, None, Some((before, true))),
            ClockState::Met
        );
        assert_eq!(
            state_at(after, due, None, Some((after, true))),
            ClockState::Missed
        );
        assert_eq!(
            state_at(after, due, None, Some((before, false))),
            ClockState::Stopped
        );
    }

    #[test]
    fn business_hours_count_only_while_the_office_is_open() {
        let (cal, tz) = ny();
        // Thursday 2026-12-24 at 16:00 (EST): one hour that day, then Christmas and the weekend,
        // then Monday from 09:00.
        let due = add_business_hours(&cal, &tz, "2026-12-24T21:00:00Z".parse().expect("ts"), 2)
            .expect("due");
        assert_eq!(due.to_string(), "2026-12-28T15:00:00Z");
        // A call at 20:00 counts from the next morning.
        let due = add_business_hours(&cal, &tz, "2026-12-01T01:00:00Z".parse().expect("ts"), 2)
            .expect("due");
        assert_eq!(due.to_string(), "2026-12-01T16:00:00Z");
    }

    proptest! {
        #[test]
        fn business_hours_land_inside_office_hours_and_never_shorten(start in 0i64..200_000, hours in 1u32..60) {
            let (cal, tz) = ny();
            let start = Timestamp::from_second(1_700_000_000 + start * 600).expect("ts");
            let due = add_business_hours(&cal, &tz, start, hours).expect("due");
            let local = due.to_zoned(tz.clone());
            prop_assert!(cal.is_business_day(local.date()));
            let minutes = i32::from(local.hour()) * 60 + i32::from(local.minute());
            prop_assert!(minutes > i32::from(cal.opening_hour()) * 60 && minutes <= i32::from(cal.closing_hour()) * 60);
            prop_assert!(due.duration_since(start) >= SignedDuration::from_hours(i64::from(hours)));
            let more = add_business_hours(&cal, &tz, start, hours + 1).expect("due");
            prop_assert!(more > due);
        }

        #[test]
        fn a_pause_never_makes_a_deadline_earlier(start_day in 0i64..3000, hours in 0i64..24, pause_start in 0i64..400, pause_len in 0i64..400, days in 0u32..40) {
            let (cal, tz) = ny();
            let start = Timestamp::from_second(1_700_000_000 + start_day * 86_400 + hours * 3600).expect("ts");
            let due = due_at(&cal, &tz, start, Length::BusinessDays(days)).expect("due");
            let paused_at = start + SignedDuration::from_hours(pause_start);
            let resumed_at = paused_at + SignedDuration::from_hours(pause_len);
            let later = resume(&cal, &tz, due, paused_at, resumed_at).expect("resume");
            prop_assert!(later >= due);
            prop_assert!(later.duration_since(due) >= SignedDuration::from_hours(pause_len));
        }

        #[test]
        fn due_is_a_business_day_at_the_cutoff(start_day in 0i64..3000, days in 0u32..60, calendar in any::<bool>()) {
            let (cal, tz) = ny();
            let start = Timestamp::from_second(1_700_000_000 + start_day * 86_400).expect("ts");
            let length = if calendar { Length::CalendarDays(days) } else { Length::BusinessDays(days) };
            let due = due_at(&cal, &tz, start, length).expect("due").to_zoned(tz);
            prop_assert_eq!(due.hour(), cal.closing_hour());
            prop_assert!(days == 0 || cal.is_business_day(due.date()));
        }
    }
}
