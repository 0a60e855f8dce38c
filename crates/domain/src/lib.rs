//! The pure heart of Redress: cases, reference numbers, validation, roles and audit hashing.
//!
//! Nothing in this crate performs I/O or reads the clock: every function that needs the
//! current time takes it as an argument, and [`Clock`] is only the interface the outer
//! layers implement.

pub mod audit;
pub mod case;
pub mod money;
pub mod records;
pub mod reference;
pub mod role;
pub mod validate;

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
