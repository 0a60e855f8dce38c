//! What can go wrong in a use case, in the office's words. The HTTP face maps each variant to a
//! status and a problem code in one place; a command-line front door prints it.

use redress_domain::lifecycle::TransitionError;
use redress_domain::{DomainError, FieldErrors};
use redress_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields that need attention, each named with its reason.
    #[error("validation failed: {0}")]
    Validation(FieldErrors),
    /// Nobody is signed in, or the username and password do not match.
    #[error("authentication required")]
    Unauthenticated,
    #[error("the one-time code is missing or wrong")]
    SecondFactorRequired,
    /// The person's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The record changed since the version the person read.
    #[error("the record changed: current version is {current}")]
    Stale { current: i64 },
    /// A status change or lifecycle step not allowed from where the case stands; `allowed`
    /// names what is.
    #[error("invalid transition: {detail}")]
    InvalidTransition {
        detail: String,
        allowed: Vec<String>,
    },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// The store is out of reach; nothing was changed.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// One field in error.
    pub fn field(field: &str, code: &str, message: &str) -> AppError {
        let mut e = FieldErrors::new();
        e.push(field, code, message);
        AppError::Validation(e)
    }

    /// Field errors, if there are any.
    pub fn unless_empty(errors: FieldErrors) -> AppResult<()> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Stale { current } => AppError::Stale { current },
            StoreError::Duplicate(what) => AppError::Conflict(what),
            StoreError::ConsumerMerged(id) => AppError::Conflict(format!(
                "Consumer {id} was merged into another record; use the record kept."
            )),
            StoreError::IdempotencyKeyReused => AppError::IdempotencyKeyReused,
            StoreError::Domain(DomainError::InvalidTransition { from, to, allowed }) => {
                AppError::InvalidTransition {
                    detail: format!("A case in status {from} cannot move to {to}."),
                    allowed: allowed.iter().map(|s| s.to_string()).collect(),
                }
            }
            StoreError::Domain(DomainError::Validation(f)) => AppError::Validation(f),
            e if e.is_unstorable_text() => {
                // Text is checked before it reaches a store; this is the last line, so that a
                // value PostgreSQL cannot hold is never an internal error.
                tracing::warn!(error = %e, "text refused by the database");
                AppError::field(
                    "body",
                    "invalid_characters",
                    "Contains characters that cannot be stored.",
                )
            }
            e if e.is_outage() => AppError::Unavailable(e.to_string()),
            e if e.is_bad_data() => {
                tracing::warn!(error = %e, "the database refused a value");
                AppError::field(
                    "request",
                    "invalid_data",
                    "A value in the request cannot be stored.",
                )
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> AppError {
        match e {
            TransitionError::NotAllowed {
                stage,
                transition,
                allowed,
            } => AppError::InvalidTransition {
                detail: format!(
                    "{transition:?} cannot be taken while the case is in state {stage:?}."
                ),
                allowed,
            },
            TransitionError::Role { .. } => AppError::Forbidden,
            TransitionError::Fields(f) => AppError::Validation(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_in_office_words() {
        assert!(matches!(
            AppError::from(StoreError::NotFound),
            AppError::NotFound
        ));
        assert!(matches!(
            AppError::from(StoreError::Stale { current: 4 }),
            AppError::Stale { current: 4 }
        ));
        assert!(matches!(
            AppError::from(StoreError::Unavailable("locked".into())),
            AppError::Unavailable(_)
        ));
        assert!(matches!(
            AppError::from(StoreError::ConsumerMerged(3)),
            AppError::Conflict(_)
        ));
    }

    #[test]
    fn field_errors_name_the_field() {
        let AppError::Validation(f) = AppError::field("consumer.email", "invalid", "No.") else {
            panic!("not a validation error");
        };
        assert_eq!(f.0[0].field, "consumer.email");
        assert!(AppError::unless_empty(FieldErrors::new()).is_ok());
    }
}
