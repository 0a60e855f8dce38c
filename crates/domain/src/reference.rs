//! Case reference numbers: `OFFICE-YEAR-SEQUENCE`, e.g. `NYC-2026-000123`. The sequence is
//! allocated per office and year by the store, inside the transaction that creates the case.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    office: String,
    year: i16,
    sequence: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("office code must be 2 to 8 upper-case letters or digits")]
    Office,
    #[error("year must be four digits")]
    Year,
    #[error("sequence must be a positive number of at least six digits")]
    Sequence,
    #[error("a reference looks like NYC-2026-000123")]
    Shape,
}

/// Checks an office code: 2 to 8 ASCII upper-case letters or digits, starting with a letter.
pub fn valid_office_code(code: &str) -> bool {
    (2..=8).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Reference {
    pub fn new(office: &str, year: i16, sequence: u32) -> Result<Reference, ReferenceError> {
        if !valid_office_code(office) {
            return Err(ReferenceError::Office);
        }
        if !(1000..=9999).contains(&year) {
            return Err(ReferenceError::Year);
        }
        if sequence == 0 {
            return Err(ReferenceError::Sequence);
        }
        Ok(Reference {
            office: office.to_string(),
            year,
            sequence,
        })
    }

    pub fn office(&self) -> &str {
        &self.office
    }
    pub fn year(&self) -> i16 {
        self.year
    }
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:06}", self.office, self.year, self.sequence)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('-');
        let (Some(office), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReferenceError::Shape);
        };
        if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
            return Err(ReferenceError::Year);
        }
        if seq.len() < 6 || seq.len() > 10 || !seq.chars().all(|c| c.is_ascii_digit()) {
            return Err(ReferenceError::Sequence);
        }
        let year: i16 = year.parse().map_err(|_| ReferenceError::Year)?;
        let sequence: u32 = seq.parse().map_err(|_| ReferenceError::Sequence)?;
        let r = Reference::new(office, year, sequence)?;
        // Reject non-canonical spellings such as extra leading zeros beyond six digits.
        if r.to_string() != s {
            return Err(ReferenceError::Shape);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_like_the_contract() {
        let r = Reference::new("NYC", 2026, 123).expect("valid");
        assert_eq!(r.to_string(), "NYC-2026-000123");
        assert_eq!("NYC-2026-000123".parse::<Reference>(), Ok(r));
        assert_eq!(
            Reference::new("NYC", 2026, 1_234_567).map(|r| r.to_string()),
            Ok("NYC-2026-1234567".into())
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "NYC",
            "NYC-2026",
            "nyc-2026-000001",
            "NYC-26-000001",
            "NYC-2026-1",
            "NYC-2026-000000",
            "NYC-2026-0000001",
            "NYC-2026-000001-x",
            "N-2026-000001",
        ] {
            assert!(
                bad.parse::<Reference>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trips(office in "[A-Z][A-Z0-9]{1,7}", year in 1000i16..=9999, seq in 1u32..=4_000_000_000) {
            let r = Reference::new(&office, year, seq).expect("valid parts");
            prop_assert_eq!(r.to_string().parse::<Reference>(), Ok(r.clone()));
        }

        #[test]
        fn parse_never_panics(s in ".{0,30}") {
            let _ = s.parse::<Reference>();
        }

        #[test]
        fn order_of_sequences_is_kept_in_text(office in "[A-Z]{3}", year in 2000i16..2100, a in 1u32..999_999, b in 1u32..999_999) {
            let ra = Reference::new(&office, year, a).expect("valid").to_string();
            let rb = Reference::new(&office, year, b).expect("valid").to_string();
            prop_assert_eq!(a.cmp(&b), ra.cmp(&rb));
        }
    }
}
