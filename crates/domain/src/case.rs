//! The vocabulary of a case: kinds, channels, statuses and how they may change, priorities,
//! flags, timeline entries and links.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a closed set of snake_case words with `as_str`, `FromStr`, `Display` and `ALL`.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownWord { kind: stringify!($name), word: s.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A word that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{word:?} is not a known {kind}")]
pub struct UnknownWord {
    pub kind: &'static str,
    pub word: String,
}

word_enum!(
    /// What the contact is about. Inquiries are answered; complaints need something done.
    CaseKind {
        Complaint = "complaint",
        Inquiry = "inquiry",
        Hotline = "hotline",
        FoilRequest = "foil_request",
        InformationRequest = "information_request",
        Mediation = "mediation",
    }
);

word_enum!(
    /// How the contact reached the office.
    Channel {
        Phone = "phone",
        Email = "email",
        Mail = "mail",
        Fax = "fax",
        WalkIn = "walk_in",
        Web = "web",
        Hotline = "hotline",
        Api = "api",
        ReferralIn = "referral_in",
    }
);

word_enum!(
    /// Where a case stands.
    Status {
        New = "new",
        Open = "open",
        PendingCompany = "pending_company",
        PendingConsumer = "pending_consumer",
        Escalated = "escalated",
        Resolved = "resolved",
        Closed = "closed",
        Merged = "merged",
    }
);

word_enum!(
    Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Critical = "critical",
    }
);

word_enum!(
    /// Markers that change how a case is handled and reported.
    Flag {
        Legislative = "legislative",
        HighImpact = "high_impact",
        Press = "press",
        CriticalIncident = "critical_incident",
    }
);

word_enum!(
    /// What a timeline entry records.
    EntryType {
        Note = "note",
        Call = "call",
        Letter = "letter",
        Email = "email",
        StatusChange = "status_change",
        Assignment = "assignment",
        Attachment = "attachment",
        SystemEvent = "system_event",
    }
);

word_enum!(
    /// Who may read a timeline entry besides staff.
    Visibility {
        Internal = "internal",
        Consumer = "consumer",
        Company = "company",
    }
);

word_enum!(
    CallDirection {
        Inbound = "inbound",
        Outbound = "outbound",
    }
);

word_enum!(
    LinkKind {
        Related = "related",
        DuplicateOf = "duplicate_of",
    }
);

word_enum!(
    /// How a closed case ended for the consumer.
    Outcome {
        ConsumerFavour = "consumer_favour",
        Partly = "partly",
        NotInFavour = "not_in_favour",
        Referred = "referred",
    }
);

word_enum!(
    Language {
        En = "en",
        Es = "es",
    }
);

word_enum!(
    /// The column a work list is ordered by. `Due` (the next deadline, soonest first, cases
    /// without a running clock last) puts overdue cases first and is the default.
    WorkOrder {
        Due = "due",
        Reference = "reference",
        Consumer = "consumer",
        Company = "company",
        Stage = "stage",
        Age = "age",
        Activity = "activity",
    }
);

// The enum's derives come from `word_enum!`, which has no place for `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for WorkOrder {
    fn default() -> WorkOrder {
        WorkOrder::Due
    }
}

impl EntryType {
    /// Entry types that people write directly; the others are written by the system as a
    /// side effect of another action (a status change, an assignment...).
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            EntryType::Note
                | EntryType::Call
                | EntryType::Letter
                | EntryType::Email
                | EntryType::Attachment
        )
    }
}

impl Status {
    /// A case in one of these states counts as open work.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Merged)
    }

    /// The statuses a case may move to from this one through a status change. `merged` is
    /// reached only by merging, and is final.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[
                Open,
                PendingCompany,
                PendingConsumer,
                Escalated,
                Resolved,
                Closed,
            ],
            Open => &[PendingCompany, PendingConsumer, Escalated, Resolved, Closed],
            PendingCompany => &[Open, PendingConsumer, Escalated, Resolved, Closed],
            PendingConsumer => &[Open, PendingCompany, Escalated, Resolved, Closed],
            Escalated => &[Open, PendingCompany, PendingConsumer, Resolved, Closed],
            Resolved => &[Open, Closed],
            Closed => &[Open],
            Merged => &[],
        }
    }

    /// Checks a status change.
    pub fn transition(self, to: Status) -> Result<Status, crate::DomainError> {
        if self.allowed_next().contains(&to) {
            Ok(to)
        } else {
            Err(crate::DomainError::InvalidTransition {
                from: self,
                to,
                allowed: self.allowed_next().to_vec(),
            })
        }
    }
}

/// Flags are stored as a sorted, comma-separated list of their words.
pub fn flags_to_text(flags: &[Flag]) -> String {
    let mut v: Vec<Flag> = flags.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
}

pub fn flags_from_text(text: &str) -> Vec<Flag> {
    text.split(',').filter_map(|w| w.parse().ok()).collect()
}

/// The priority a case should have at least, given its kind and flags (process.md D.1).
pub fn minimum_priority(kind: CaseKind, flags: &[Flag]) -> Priority {
    if kind == CaseKind::Hotline || flags.contains(&Flag::CriticalIncident) {
        Priority::Critical
    } else if flags
        .iter()
        .any(|f| matches!(f, Flag::Legislative | Flag::HighImpact | Flag::Press))
    {
        Priority::High
    } else {
        Priority::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(*c));
        }
        assert!("shouting".parse::<Channel>().is_err());
    }

    #[test]
    fn merged_is_final_and_closed_reopens() {
        assert!(Status::Merged.allowed_next().is_empty());
        assert_eq!(Status::Closed.transition(Status::Open), Ok(Status::Open));
        assert!(Status::Closed.transition(Status::Resolved).is_err());
    }

    #[test]
    fn flags_text_is_canonical() {
        assert_eq!(
            flags_to_text(&[Flag::Press, Flag::Legislative, Flag::Press]),
            "legislative,press"
        );
        assert_eq!(
            flags_from_text("legislative,press"),
            vec![Flag::Legislative, Flag::Press]
        );
        assert_eq!(flags_from_text(""), Vec::<Flag>::new());
    }

    proptest! {
        #[test]
        fn transitions_agree_with_table(from in 0usize..8, to in 0usize..8) {
            let (f, t) = (Status::ALL[from], Status::ALL[to]);
            let r = f.transition(t);
            prop_assert_eq!(r.is_ok(), f.allowed_next().contains(&t));
            prop_assert!(t != Status::Merged || r.is_err());
            prop_assert!(f != t || r.is_err());
        }
    }
}
