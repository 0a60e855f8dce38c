//! Business days for New York offices: weekends, New York State public holidays computed for
//! any year by rule (GCL §24, with the Sunday-to-Monday observance), and closures an office
//! adds (a snow day, a proclaimed day). Pure arithmetic; no clock, no I/O.

use jiff::civil::{Date, Weekday};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the date is outside the supported range")]
    OutOfRange,
    #[error("no business day within a year of {0}")]
    NoBusinessDay(Date),
}

/// The hour (office time) by which a due date's work must be done, unless the office closes at
/// another.
pub const CUTOFF_HOUR: i8 = 17;

/// Rule choices an office may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Close on general election day (the Tuesday after the first Monday in November).
    pub election_day: bool,
    /// Close the Friday before a holiday that falls on a Saturday (not in the statute; some
    /// employers do).
    pub saturday_to_friday: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            election_day: true,
            saturday_to_friday: false,
        }
    }
}

fn nth_weekday(year: i16, month: i8, weekday: Weekday, n: i8) -> Option<Date> {
    let first = Date::new(year, month, 1).ok()?;
    first.nth_weekday_of_month(n, weekday).ok()
}

fn last_weekday(year: i16, month: i8, weekday: Weekday) -> Option<Date> {
    let first = Date::new(year, month, 1).ok()?;
    first.nth_weekday_of_month(-1, weekday).ok()
}

/// New York State public holidays of a year, as the days offices close, in date order.
pub fn new_york_holidays(year: i16, rules: Rules) -> Vec<Holiday> {
    let mut out = Vec::new();
    let mut fixed = |month: i8, day: i8, name: &str| {
        if let Ok(d) = Date::new(year, month, day) {
            match d.weekday() {
                Weekday::Sunday => {
                    if let Ok(m) = d.tomorrow() {
                        out.push(Holiday {
                            date: m,
                            name: format!("{name} (observed)"),
                        });
                    }
                }
                Weekday::Saturday if rules.saturday_to_friday => {
                    if let Ok(f) = d.yesterday() {
                        out.push(Holiday {
                            date: f,
                            name: format!("{name} (observed)"),
                        });
                    }
                }
                _ => out.push(Holiday {
                    date: d,
                    name: name.to_string(),
                }),
            }
        }
    };
    fixed(1, 1, "New Year's Day");
    fixed(2, 12, "Lincoln's Birthday");
    fixed(6, 19, "Juneteenth");
    fixed(7, 4, "Independence Day");
    fixed(11, 11, "Veterans' Day");
    fixed(12, 25, "Christmas Day");
    let mut by_rule = |d: Option<Date>, name: &str| {
        if let Some(d) = d {
            out.push(Holiday {
                date: d,
                name: name.to_string(),
            });
        }
    };
    by_rule(
        nth_weekday(year, 1, Weekday::Monday, 3),
        "Martin Luther King Jr. Day",
    );
    by_rule(
        nth_weekday(year, 2, Weekday::Monday, 3),
        "Washington's Birthday",
    );
    by_rule(last_weekday(year, 5, Weekday::Monday), "Memorial Day");
    by_rule(nth_weekday(year, 6, Weekday::Sunday, 2), "Flag Day");
    by_rule(nth_weekday(year, 9, Weekday::Monday, 1), "Labor Day");
    by_rule(nth_weekday(year, 10, Weekday::Monday, 2), "Columbus Day");
    if rules.election_day {
        by_rule(
            nth_weekday(year, 11, Weekday::Monday, 1).and_then(|m| m.tomorrow().ok()),
            "General Election Day",
        );
    }
    by_rule(
        nth_weekday(year, 11, Weekday::Thursday, 4),
        "Thanksgiving Day",
    );
    out.sort_by_key(|h| h.date);
    out
}

/// Whether a date is one of the New York State holidays (as observed), without allocating.
fn is_new_york_holiday(date: Date, rules: Rules) -> bool {
    let (y, m, d) = (date.year(), date.month(), date.day());
    let fixed = |fm: i8, fd: i8| -> bool {
        let Ok(h) = Date::new(y, fm, fd) else {
            return false;
        };
        match h.weekday() {
            Weekday::Sunday => h.tomorrow().is_ok_and(|o| o == date),
            Weekday::Saturday if rules.saturday_to_friday => h.yesterday().is_ok_and(|o| o == date),
            _ => h == date,
        }
    };
    // A Saturday New Year's Day may be observed on December 31 of the year before.
    if m == 12
        && d == 31
        && rules.saturday_to_friday
        && Date::new(y.saturating_add(1), 1, 1).is_ok_and(|ny| ny.weekday() == Weekday::Saturday)
    {
        return true;
    }
    let nth = |n: i8, wd: Weekday| nth_weekday(y, m, wd, n) == Some(date);
    match m {
        1 => fixed(1, 1) || (date.weekday() == Weekday::Monday && nth(3, Weekday::Monday)),
        2 => fixed(2, 12) || (date.weekday() == Weekday::Monday && nth(3, Weekday::Monday)),
        5 => date.weekday() == Weekday::Monday && last_weekday(y, 5, Weekday::Monday) == Some(date),
        6 => fixed(6, 19) || (date.weekday() == Weekday::Sunday && nth(2, Weekday::Sunday)),
        7 => fixed(7, 4),
        9 => date.weekday() == Weekday::Monday && nth(1, Weekday::Monday),
        10 => date.weekday() == Weekday::Monday && nth(2, Weekday::Monday),
        11 => {
            fixed(11, 11)
                || (date.weekday() == Weekday::Thursday && nth(4, Weekday::Thursday))
                || (rules.election_day
                    && date.weekday() == Weekday::Tuesday
                    && nth_weekday(y, 11, Weekday::Monday, 1).and_then(|m| m.tomorrow().ok())
                        == Some(date))
        }
        12 => fixed(12, 25),
        _ => false,
    }
}

/// New York State's calendar and time zone, for tests.
#[cfg(test)]
pub(crate) fn new_york() -> (Calendar, jiff::tz::TimeZone) {
    (
        Calendar::new(Rules::default()),
        jiff::tz::TimeZone::get("America/New_York").expect("time zone"),
    )
}

/// An office's calendar: the rule-based holidays plus its own closures, and the hour it closes.
#[derive(Debug, Clone)]
pub struct Calendar {
    rules: Rules,
    closures: BTreeMap<Date, String>,
    opens_at: i8,
    closes_at: i8,
}

impl Default for Calendar {
    fn default() -> Calendar {
        Calendar::new(Rules::default())
    }
}

impl Calendar {
    pub fn new(rules: Rules) -> Calendar {
        Calendar {
            rules,
            closures: BTreeMap::new(),
            opens_at: 9,
            closes_at: CUTOFF_HOUR,
        }
    }

    /// The office opens at this hour (0–23, office time); working hours count from then.
    pub fn opening_at(mut self, hour: i8) -> Calendar {
        self.opens_at = hour.clamp(0, 23);
        self
    }

    pub fn opening_hour(&self) -> i8 {
        self.opens_at.min(self.closes_at.saturating_sub(1))
    }

    /// The office closes at this hour (0–23, office time); deadlines fall due then.
    pub fn closing_at(mut self, hour: i8) -> Calendar {
        self.closes_at = hour.clamp(0, 23);
        self
    }

    pub fn closing_hour(&self) -> i8 {
        self.closes_at
    }

    /// Adds a day the office is closed.
    pub fn close(&mut self, date: Date, reason: &str) {
        self.closures.insert(date, reason.to_string());
    }

    pub fn closures(&self) -> impl Iterator<Item = (&Date, &String)> {
        self.closures.iter()
    }

    /// Why the office is closed that day, if it is (weekends are not named).
    pub fn holiday(&self, date: Date) -> Option<String> {
        if let Some(reason) = self.closures.get(&date) {
            return Some(reason.clone());
        }
        // A Saturday New Year's Day observed on the Friday before falls in the previous year.
        let next_year = if date.month() == 12 && date.day() == 31 {
            new_york_holidays(date.year().saturating_add(1), self.rules)
        } else {
            Default::default()
        };
        new_york_holidays(date.year(), self.rules)
            .into_iter()
            .chain(next_year)
            .find(|h| h.date == date)
            .map(|h| h.name)
    }

    pub fn is_business_day(&self, date: Date) -> bool {
        if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            || self.closures.contains_key(&date)
        {
            return false;
        }
        // Without building the named list: only the rule that could fall on this day is checked.
        !is_new_york_holiday(date, self.rules)
    }

    /// The holidays and closures of a year, in date order.
    pub fn year(&self, year: i16) -> Vec<Holiday> {
        let mut all = new_york_holidays(year, self.rules);
        for (d, r) in self
            .closures
            .range(Date::new(year, 1, 1).unwrap_or_default()..)
        {
            if d.year() != year {
                break;
            }
            all.push(Holiday {
                date: *d,
                name: r.clone(),
            });
        }
        all.sort_by_key(|h| h.date);
        all
    }

    /// `n` business days after `start`; the start day itself is not counted (GCL §20).
    pub fn add_business_days(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        self.step_business_days(start, n, true)
    }

    /// Counts `n` business days from `start`, forwards or backwards (the start not counted).
    pub(crate) fn step_business_days(
        &self,
        start: Date,
        n: u32,
        forward: bool,
    ) -> Result<Date, CalendarError> {
        let mut d = start;
        let mut left = n;
        let mut guard = 0u32;
        while left > 0 {
            d = if forward { d.tomorrow() } else { d.yesterday() }
                .map_err(|_| CalendarError::OutOfRange)?;
            if self.is_business_day(d) {
                left -= 1;
                guard = 0;
            } else {
                guard += 1;
                if guard > 366 {
                    return Err(CalendarError::NoBusinessDay(start));
                }
            }
        }
        Ok(d)
    }

    /// The day itself when it is a business day, otherwise the next one (GCL §25-a).
    pub fn roll_forward(&self, date: Date) -> Result<Date, CalendarError> {
        let mut d = date;
        for _ in 0..=366 {
            if self.is_business_day(d) {
                return Ok(d);
            }
            d = d.tomorrow().map_err(|_| CalendarError::OutOfRange)?;
        }
        Err(CalendarError::NoBusinessDay(date))
    }

    /// `n` calendar days after `start`, moved to the next business day when it lands on a
    /// closed day.
    pub fn add_calendar_days(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        let d = start
            .checked_add(jiff::Span::new().days(i64::from(n)))
            .map_err(|_| CalendarError::OutOfRange)?;
        self.roll_forward(d)
    }

    /// Business days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn business_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
            if self.is_business_day(d) {
                count += 1;
            }
        }
        count
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A date as people write it: "December 16, 2026" or "16 de diciembre de 2026".
pub fn date_in_words(date: jiff::civil::Date, spanish: bool) -> String {
    let month = usize::try_from(date.month() - 1).unwrap_or(0).min(11);
    if spanish {
        format!("{} de {} de {}", date.day(), MONTHS_ES[month], date.year())
    } else {
        format!("{} {}, {}", MONTHS_EN[month], date.day(), date.year())
    }
}

/// A recorded date or deadline (`2026-12-16`, or `2026-12-16 14:00` for one at an hour) in
/// words; text that is neither stays as it is.
pub fn recorded_in_words(text: &str, spanish: bool) -> String {
    let (day, time) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    match (day.parse::<jiff::civil::Date>(), time) {
        (Ok(d), None) => date_in_words(d, spanish),
        (Ok(d), Some(t)) => format!("{}, {t}", date_in_words(d, spanish)),
        (Err(_), _) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn ny() -> Calendar {
        Calendar::new(Rules::default())
    }

    #[test]
    fn the_contract_example() {
        assert_eq!(
            ny().add_business_days(date(2026, 12, 24), 1),
            Ok(date(2026, 12, 28))
        );
    }

    #[test]
    fn holidays_2027() {
        let list: Vec<(String, String)> = new_york_holidays(2027, Rules::default())
            .into_iter()
            .map(|h| (h.date.to_string(), h.name))
            .collect();
        let expect = [
            ("2027-01-01", "New Year's Day"),
            ("2027-01-18", "Martin Luther King Jr. Day"),
            ("2027-02-12", "Lincoln's Birthday"),
            ("2027-02-15", "Washington's Birthday"),
            ("2027-05-31", "Memorial Day"),
            ("2027-06-13", "Flag Day"),
            ("2027-06-19", "Juneteenth"),
            ("2027-07-05", "Independence Day (observed)"),
            ("2027-09-06", "Labor Day"),
            ("2027-10-11", "Columbus Day"),
            ("2027-11-02", "General Election Day"),
            ("2027-11-11", "Veterans' Day"),
            ("2027-11-25", "Thanksgiving Day"),
            ("2027-12-25", "Christmas Day"),
        ];
        let expect: Vec<(String, String)> = expect
            .iter()
            .map(|(d, n)| (d.to_string(), n.to_string()))
            .collect();
        assert_eq!(list, expect);
    }

    #[test]
    fn sunday_holidays_move_to_monday_and_saturday_ones_stay() {
        // Christmas 2022 was a Sunday; New Year's Day 2022 a Saturday.
        let c = ny();
        assert!(
            c.holiday(date(2022, 12, 26))
                .is_some_and(|n| n.contains("observed"))
        );
        assert!(
            c.is_business_day(date(2021, 12, 31)),
            "no Friday shift by default"
        );
        let friday = Calendar::new(Rules {
            saturday_to_friday: true,
            ..Rules::default()
        });
        assert!(!friday.is_business_day(date(2021, 12, 31)));
    }

    #[test]
    fn the_fast_check_agrees_with_the_named_list() {
        for rules in [
            Rules::default(),
            Rules {
                saturday_to_friday: true,
                election_day: false,
            },
        ] {
            let c = Calendar::new(rules);
            let mut d = date(2019, 1, 1);
            while d < date(2032, 1, 1) {
                let weekday = !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
                assert_eq!(
                    c.is_business_day(d),
                    weekday && c.holiday(d).is_none(),
                    "{d} {rules:?}"
                );
                d = d.tomorrow().expect("date");
            }
        }
    }

    #[test]
    fn closures_and_counting() {
        let mut c = ny();
        c.close(date(2026, 2, 17), "Snow day");
        // Friday 2026-02-13: Monday 16th is Washington's Birthday, Tuesday 17th closed.
        assert_eq!(
            c.add_business_days(date(2026, 2, 13), 1),
            Ok(date(2026, 2, 18))
        );
        assert_eq!(
            c.add_business_days(date(2026, 2, 13), 0),
            Ok(date(2026, 2, 13))
        );
        assert_eq!(
            c.add_calendar_days(date(2026, 2, 6), 10),
            Ok(date(2026, 2, 18)),
            "lands on the 16th, rolls past the closure"
        );
        assert_eq!(
            c.business_days_between(date(2026, 2, 13), date(2026, 2, 18)),
            1
        );
        assert_eq!(
            c.year(2026).iter().filter(|h| h.name == "Snow day").count(),
            1
        );
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (2000i16..2100, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
    }

    proptest! {
        #[test]
        fn never_lands_on_a_closed_day(start in any_date(), n in 1u32..400) {
            let c = ny();
            let d = c.add_business_days(start, n).expect("in range");
            prop_assert!(c.is_business_day(d));
            prop_assert!(d > start);
        }

        #[test]
        fn monotonic_and_additive(start in any_date(), a in 0u32..60, b in 0u32..60) {
            let c = ny();
            let da = c.add_business_days(start, a).expect("a");
            let dab = c.add_business_days(start, a + b).expect("a+b");
            prop_assert!(da <= dab);
            prop_assert_eq!(c.add_business_days(da, b).expect("then b"), dab);
        }

        #[test]
        fn agrees_with_counting(start in any_date(), n in 0u32..120) {
            let c = ny();
            let d = c.add_business_days(start, n).expect("in range");
            prop_assert_eq!(c.business_days_between(start, d), n);
        }

        #[test]
        fn rolled_dates_are_business_days(start in any_date(), n in 0u32..400) {
            let c = ny();
            let d = c.add_calendar_days(start, n).expect("in range");
            prop_assert!(c.is_business_day(d));
        }
    }

    #[test]
    fn dates_are_written_in_words() {
        let d: jiff::civil::Date = "2026-12-16".parse().unwrap();
        assert_eq!(super::date_in_words(d, false), "December 16, 2026");
        assert_eq!(super::date_in_words(d, true), "16 de diciembre de 2026");
        assert_eq!(
            super::recorded_in_words("2026-12-16 14:00", true),
            "16 de diciembre de 2026, 14:00"
        );
        assert_eq!(super::recorded_in_words("soon", false), "soon");
    }
}
