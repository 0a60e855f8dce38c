//! Money as exact integer cents. Amounts arrive as decimal text (or JSON numbers, read from
//! their literal text), never through floating point.

use std::fmt;

/// An amount of US dollars held as integer cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is not a number")]
    NotANumber,
    #[error("amount is negative")]
    Negative,
    #[error("amount has more than two decimal places")]
    TooPrecise,
    #[error("amount is too large")]
    TooLarge,
}

/// The largest amount accepted: one trillion dollars.
const MAX_CENTS: i64 = 100_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Option<Money> {
        (0..=MAX_CENTS).contains(&cents).then_some(Money(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses `123`, `123.4`, `123.45`, `$1,234.56` (commas only as thousands separators).
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let t = text.trim();
        let t = t.strip_prefix('$').unwrap_or(t);
        if let Some(rest) = t.strip_prefix('-') {
            if !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
            {
                return Err(MoneyError::Negative);
            }
            return Err(MoneyError::NotANumber);
        }
        let t = t.strip_prefix('+').unwrap_or(t);
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let whole: String = if whole.contains(',') {
            let groups: Vec<&str> = whole.split(',').collect();
            let ok = !groups[0].is_empty()
                && groups[0].len() <= 3
                && groups[1..].iter().all(|g| g.len() == 3);
            if !ok {
                return Err(MoneyError::NotANumber);
            }
            groups.concat()
        } else {
            whole.to_string()
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(MoneyError::NotANumber);
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(MoneyError::NotANumber);
        }
        if t.ends_with('.') && frac.is_empty() && whole.is_empty() {
            return Err(MoneyError::NotANumber);
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let whole_digits = whole.trim_start_matches('0');
        if whole_digits.len() > 13 {
            return Err(MoneyError::TooLarge);
        }
        let w: i64 = if whole_digits.is_empty() {
            0
        } else {
            whole_digits.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let mut f: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| MoneyError::NotANumber)?
        };
        if frac.len() == 1 {
            f *= 10;
        }
        let cents = w
            .checked_mul(100)
            .and_then(|c| c.checked_add(f))
            .ok_or(MoneyError::TooLarge)?;
        Money::from_cents(cents).ok_or(MoneyError::TooLarge)
    }
}

impl fmt::Display for Money {
    /// Always two decimals, no separators: `1234.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(Money::parse("123").map(Money::cents), Ok(12300));
        assert_eq!(Money::parse("123.4").map(Money::cents), Ok(12340));
        assert_eq!(Money::parse("$1,234.56").map(Money::cents), Ok(123456));
        assert_eq!(Money::parse("0.05").map(Money::cents), Ok(5));
        assert_eq!(Money::parse(".5").map(Money::cents), Ok(50));
        assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("abc"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse(""), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("1e5"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("12,34"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("99999999999999"), Err(MoneyError::TooLarge));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(cents in 0i64..=MAX_CENTS) {
            let m = Money::from_cents(cents).expect("in range");
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = Money::parse(&s);
        }
    }
}
