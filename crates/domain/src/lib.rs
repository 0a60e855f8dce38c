//! The pure heart of Redress: cases, reference numbers, validation, roles and audit hashing.
//!
//! Nothing in this crate performs I/O or reads the clock: every function that needs the
//! current time takes it as an argument, and [`Clock`] is only the interface the outer
//! layers implement.

pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod clock;
pub mod correspondence;
pub mod deidentify;
pub mod hotline;
pub mod import;
pub mod lifecycle;
pub mod money;
pub mod records;
pub mod reference;
pub mod role;
pub mod routing;
pub mod search;
pub mod totp;
pub mod validate;
pub mod view;

pub use case::*;
pub use money::Money;
pub use reference::Reference;
pub use role::{Permission, Role};
pub use validate::{FieldError, FieldErrors};

/// The source of the current instant. Production code uses the system clock; tests use a
/// fake one they can move.
pub trait Clock: Send + Sync {
    fn now(&self) -> jiff::Timestamp;
}

/// Errors that domain rules raise.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("validation failed: {0}")]
    Validation(FieldErrors),
    #[error("a case in status {from} cannot move to {to}")]
    InvalidTransition {
        from: case::Status,
        to: case::Status,
        allowed: Vec<case::Status>,
    },
}

/// A clock that stands still until moved: for tests, demos and benchmarks.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<jiff::Timestamp>);

impl ManualClock {
    pub fn new(at: jiff::Timestamp) -> ManualClock {
        ManualClock(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: jiff::Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }
    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut t) = self.0.lock() {
            *t = t.saturating_add(by).unwrap_or(*t);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}
