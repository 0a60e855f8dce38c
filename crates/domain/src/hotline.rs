//! Emergency-hotline rules (HEFPA, 16 NYCRR Part 11, PSL §48): when a utility may shut
//! service off at the earliest, the cold-weather period, and the hours the hotline is staffed.

use crate::calendar::Calendar;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// A final termination notice must be served at least this many days before the termination
/// date (16 NYCRR 11.4(a)(1)(v), C18).
pub const FINAL_NOTICE_DAYS: i64 = 15;

/// Shut-offs happen only 08:00–16:00 (C19).
pub const SHUT_OFF_FROM_HOUR: i8 = 8;
pub const SHUT_OFF_UNTIL_HOUR: i8 = 16;

/// The hotline is attended 09:00–21:00 on business days (PSL §48(1), C25).
pub const HOTLINE_FROM_HOUR: i8 = 9;
pub const HOTLINE_UNTIL_HOUR: i8 = 21;

/// Whether a shut-off may happen on this day: Monday to Thursday, not a holiday, and not the
/// day before one (C19).
pub fn shut_off_day(cal: &Calendar, day: Date) -> bool {
    let weekday_ok = matches!(
        day.weekday(),
        Weekday::Monday | Weekday::Tuesday | Weekday::Wednesday | Weekday::Thursday
    );
    let next_is_holiday = day
        .tomorrow()
        .map(|d| cal.holiday(d).is_some())
        .unwrap_or(true);
    weekday_ok && cal.holiday(day).is_none() && !next_is_holiday
}

/// The earliest instant a utility may terminate service after serving a final notice on
/// `notice_served`: 15 days later at the earliest, then the first permitted shut-off day at
/// 08:00 (C18, C19). A later scheduled date in the notice wins.
pub fn earliest_termination(
    cal: &Calendar,
    tz: &TimeZone,
    notice_served: Date,
    scheduled: Option<Date>,
) -> Option<Timestamp> {
    let mut day = notice_served
        .checked_add(Span::new().days(FINAL_NOTICE_DAYS))
        .ok()?;
    if let Some(s) = scheduled {
        day = day.max(s);
    }
    for _ in 0..30 {
        if shut_off_day(cal, day) {
            return day
                .at(SHUT_OFF_FROM_HOUR, 0, 0, 0)
                .to_zoned(tz.clone())
                .ok()
                .map(|z| z.timestamp());
        }
        day = day.tomorrow().ok()?;
    }
    None
}

/// The cold-weather period runs from November 1 through April 15 (HEFPA, C20).
pub fn cold_weather(day: Date) -> bool {
    let (m, d) = (day.month(), day.day());
    m >= 11 || m <= 3 || (m == 4 && d <= 15)
}

/// Whether the hotline is staffed at this instant.
pub fn hotline_open(cal: &Calendar, tz: &TimeZone, at: Timestamp) -> bool {
    let z = at.to_zoned(tz.clone());
    cal.is_business_day(z.date()) && z.hour() >= HOTLINE_FROM_HOUR && z.hour() < HOTLINE_UNTIL_HOUR
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn ny() -> (Calendar, TimeZone) {
        crate::calendar::new_york()
    }

    #[test]
    fn no_shut_off_on_fridays_holidays_or_the_day_before() {
        let (cal, _) = ny();
        assert!(!shut_off_day(&cal, date(2026, 12, 4))); // Friday
        assert!(!shut_off_day(&cal, date(2026, 12, 24))); // Thursday before Christmas
        assert!(!shut_off_day(&cal, date(2026, 11, 26))); // Thanksgiving
        assert!(!shut_off_day(&cal, date(2026, 11, 25))); // the day before
        assert!(shut_off_day(&cal, date(2026, 12, 1))); // a plain Tuesday
    }

    #[test]
    fn earliest_termination_counts_fifteen_days_then_a_permitted_day() {
        let (cal, tz) = ny();
        // Served Wed 2026-12-09: +15 = Thu 12-24 (day before Christmas) → Fri no, weekend no,
        // Mon 12-28.
        let t = earliest_termination(&cal, &tz, date(2026, 12, 9), None).expect("date");
        assert_eq!(t.to_string(), "2026-12-28T13:00:00Z");
        // A later date in the notice wins.
        let t = earliest_termination(&cal, &tz, date(2026, 12, 9), Some(date(2027, 1, 5)))
            .expect("date");
        assert_eq!(t.to_zoned(tz).date(), date(2027, 1, 5));
    }

    #[test]
    fn cold_weather_period_and_hotline_hours() {
        assert!(cold_weather(date(2026, 11, 1)));
        assert!(cold_weather(date(2027, 4, 15)));
        assert!(!cold_weather(date(2027, 4, 16)));
        assert!(!cold_weather(date(2027, 10, 31)));
        let (cal, tz) = ny();
        assert!(hotline_open(
            &cal,
            &tz,
            "2026-12-01T14:00:00Z".parse().expect("ts")
        ));
        assert!(!hotline_open(
            &cal,
            &tz,
            "2026-12-02T03:00:00Z".parse().expect("ts")
        ));
        assert!(!hotline_open(
            &cal,
            &tz,
            "2026-12-25T16:00:00Z".parse().expect("ts")
        ));
    }

    proptest! {
        #[test]
        fn earliest_termination_is_a_permitted_day_at_least_fifteen_days_on(start in 0i64..4000) {
            let (cal, tz) = ny();
            let served = date(2020, 1, 1).checked_add(Span::new().days(start)).expect("date");
            let t = earliest_termination(&cal, &tz, served, None).expect("some day").to_zoned(tz);
            prop_assert!(shut_off_day(&cal, t.date()));
            prop_assert!(t.date() >= served.checked_add(Span::new().days(15)).expect("date"));
            prop_assert_eq!(t.hour(), SHUT_OFF_FROM_HOUR);
        }
    }
}
