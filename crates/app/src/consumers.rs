//! Consumers: finding a repeat contact (audited as a search of personal data), reading one
//! record (audited), records that are possibly the same person, and merging two records when a
//! person decides they are one. Nobody is ever matched to a record automatically.

use crate::cases::ConsumerInput;
use crate::{App, AppError, AppResult, Person};
use redress_domain::Permission;
use redress_domain::records::{Case, Consumer};
use redress_domain::validate::{self as v, FieldErrors};
use redress_store::StoreError;
use redress_store::{ConsumerCorrection, ConsumerLookup};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Where a search of consumers came from, as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub enum SearchFrom {
    /// `GET /api/v1/consumers`.
    Api,
    /// The search page or the intake screen's repeat-caller lookup.
    Page,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeConsumerInput {
    /// The record to keep.
    pub into: i64,
}

/// Reads one lookup (exactly one of `phone`, `email` or `account`) from text parameters.
pub fn lookup_from(q: &HashMap<String, String>) -> AppResult<ConsumerLookup> {
    let mut errors = FieldErrors::new();
    let lookup = match (q.get("phone"), q.get("email"), q.get("account")) {
        (Some(p), None, None) => v::phone(&mut errors, "phone", p).map(ConsumerLookup::Phone),
        (None, Some(e), None) => v::email(&mut errors, "email", e).map(ConsumerLookup::Email),
        (None, None, Some(a)) => {
            v::account_number(&mut errors, "account", a).map(ConsumerLookup::Account)
        }
        _ => {
            errors.push(
                "query",
                "one_lookup_required",
                "Give exactly one of phone, email or account.",
            );
            None
        }
    };
    lookup.ok_or(AppError::Validation(errors))
}

/// What a typed search looks like: a phone number, an email address, else an account number.
pub fn lookup_of_text(text: &str) -> Option<ConsumerLookup> {
    if let Some(p) = v::normalize_phone(text) {
        Some(ConsumerLookup::Phone(p))
    } else if v::is_email(text) {
        Some(ConsumerLookup::Email(text.to_ascii_lowercase()))
    } else {
        let mut errs = FieldErrors::new();
        v::account_number(&mut errs, "q", text).map(ConsumerLookup::Account)
    }
}

impl App {
    /// Consumers with this phone, email or account number (at most 20). The search is audited
    /// with the ids it showed.
    pub async fn find_consumers(
        &self,
        person: &Person,
        lookup: &ConsumerLookup,
        from: SearchFrom,
    ) -> AppResult<Vec<Consumer>> {
        person.require(Permission::ConsumerRead)?;
        let found = self.store.find_consumers(lookup, 20).await?;
        let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
        let detail = match from {
            SearchFrom::Api => serde_json::json!({
                "lookup": format!("{lookup:?}").split('(').next(), "consumer_ids": ids,
            }),
            SearchFrom::Page => serde_json::json!({"search": "page", "consumer_ids": ids}),
        }
        .to_string();
        self.store
            .audit(
                &person.actor(),
                &format!("user:{}", person.user.username),
                "consumer.search",
                "consumers",
                &detail,
                self.clock.now(),
            )
            .await?;
        Ok(found)
    }

    /// One consumer's record (the view is audited).
    pub async fn view_consumer(&self, person: &Person, id: i64) -> AppResult<Consumer> {
        person.require(Permission::ConsumerRead)?;
        Ok(self
            .store
            .view_consumer(&person.actor(), id, self.clock.now())
            .await?)
    }

    /// Other records that share a phone number, an email address or an account number with
    /// this one: possibly the same person (the view is audited).
    pub async fn consumer_duplicates(&self, person: &Person, id: i64) -> AppResult<Vec<Consumer>> {
        person.require(Permission::ConsumerRead)?;
        Ok(self
            .store
            .consumer_duplicates(&person.actor(), id, 20, self.clock.now())
            .await?)
    }

    /// Same person: merges record `from` into `into` (the record kept, returned).
    pub async fn merge_consumers(
        &self,
        person: &Person,
        from: i64,
        into: i64,
    ) -> AppResult<Consumer> {
        person.require(Permission::ConsumerMerge)?;
        self.store.consumer(from).await?;
        if into == from {
            return Err(AppError::field(
                "into",
                "same_record",
                "Choose another record to keep.",
            ));
        }
        match self.store.consumer(into).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(AppError::field(
                    "into",
                    "unknown_consumer",
                    "No such consumer; see /api/v1/consumers.",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(self
            .store
            .merge_consumers(&person.actor(), from, into, self.clock.now())
            .await?)
    }

    /// Corrects the contact details of a case's consumer (staff who may see and change them).
    /// The whole set replaces what is on file: a phone or email left empty is cleared. Account
    /// numbers are changed on the case, not here. `expected` is the case's version.
    pub async fn correct_consumer(
        &self,
        person: &Person,
        reference: &str,
        expected: i64,
        input: ConsumerInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseUpdate)?;
        person.require(Permission::ConsumerRead)?;
        let reference = crate::case_reference(reference)?;
        let mut errors = FieldErrors::new();
        if input.account_number.is_some() {
            errors.push(
                "consumer.account_number",
                "not_here",
                "Change the account number on the case.",
            );
        }
        let c = crate::cases::consumer_details(&mut errors, &input, true);
        AppError::unless_empty(errors)?;
        let correction = ConsumerCorrection {
            name: c.name,
            phone: c.phone,
            email: c.email,
            address: c.address,
            preferred_language: c.preferred_language,
        };
        let case = self
            .store
            .correct_consumer(
                &person.actor(),
                &reference,
                expected,
                &correction,
                self.clock.now(),
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }
}
