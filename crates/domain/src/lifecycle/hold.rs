//! The termination hold (process.md C.2): what a state means for it, the lifecycle's rule and
//! whether a case is held now.

use super::{Lifecycle, State};
use jiff::Timestamp;
use serde::Serialize;

/// What a state means for the termination hold (process.md C.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "clock")]
pub enum Hold {
    /// No hold in this state.
    None,
    /// Held for as long as the case stays in this state.
    Pending,
    /// Held until the named clock's due instant (a decision's mailing date + the window).
    Until(String),
}

/// The termination-hold rule of a lifecycle.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldRule {
    pub source: String,
    pub text: String,
    pub text_es: String,
}

/// The termination hold on a case now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HoldStatus {
    pub active: bool,
    /// When the hold ends; `None` while it lasts as long as the case is pending.
    pub ends_at: Option<Timestamp>,
    pub disputed_cents: Option<i64>,
    pub source: String,
    pub text: String,
    pub text_es: String,
}

impl Lifecycle {
    /// Whether service may be terminated for the disputed amount (process.md C.2). `clocks`
    /// are the case's clocks as (name, due instant), oldest first.
    pub fn hold_status(
        &self,
        state: &State,
        disputed_cents: Option<i64>,
        clocks: &[(String, Timestamp)],
        now: Timestamp,
    ) -> Option<HoldStatus> {
        let rule = self.hold.as_ref()?;
        let disputed = disputed_cents.filter(|c| *c > 0)?;
        let (active, ends_at) = match &state.hold {
            Hold::None => (false, None),
            Hold::Pending => (true, None),
            Hold::Until(c) => match clocks.iter().rev().find(|(n, _)| n == c) {
                Some((_, due)) => (now <= *due, Some(*due)),
                None => (false, None),
            },
        };
        Some(HoldStatus {
            active,
            ends_at,
            disputed_cents: Some(disputed),
            source: rule.source.clone(),
            text: rule.text.clone(),
            text_es: rule.text_es.clone(),
        })
    }
}
