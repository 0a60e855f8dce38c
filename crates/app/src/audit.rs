//! The audit trail as people reach it: a case's trail, a record of reads that show personal
//! data, and the verification of every chain.

use crate::{App, AppResult, Person, case_reference};
use redress_domain::Permission;
use redress_domain::records::AuditRecord;
use redress_store::{Actor, AuditVerdict, StoreError};

/// Audits a read of a case by someone who is not shown the consumer's record: the case itself
/// still carries personal data (the account number, letters naming the consumer). Reads that
/// show the consumer are audited by the store as they happen.
pub async fn case_viewed(
    app: &App,
    actor: &Actor,
    reference: &str,
    at: jiff::Timestamp,
) -> Result<(), StoreError> {
    app.store
        .audit(
            actor,
            &format!("case:{reference}"),
            "case.view",
            reference,
            r#"{"consumer":false}"#,
            at,
        )
        .await
}

impl App {
    /// Who did what to a case, and who viewed it (supervisors, managers, auditors).
    pub async fn case_audit(
        &self,
        person: &Person,
        reference: &str,
    ) -> AppResult<Vec<AuditRecord>> {
        person.require(Permission::AuditRead)?;
        let reference = case_reference(reference)?;
        // Not found for unknown cases, as elsewhere.
        self.store
            .case(
                &person.actor(),
                &reference,
                person.scope(),
                false,
                self.clock.now(),
            )
            .await?;
        Ok(self.store.audit_for_subject(&reference, 500).await?)
    }

    /// Walks every audit chain and names the first break, if any.
    pub async fn verify_audit(&self, person: &Person) -> AppResult<AuditVerdict> {
        person.require(Permission::AuditRead)?;
        Ok(self.store.verify_audit().await?)
    }

    /// A case's recent audit trail for its page (the people allowed to see it).
    pub async fn recent_case_audit(
        &self,
        reference: &str,
        limit: i64,
    ) -> AppResult<Vec<AuditRecord>> {
        Ok(self.store.audit_for_subject(reference, limit).await?)
    }

    /// Records that a case was viewed without the consumer's record.
    pub async fn audit_case_view(&self, person: &Person, reference: &str) -> AppResult<()> {
        Ok(case_viewed(self, &person.actor(), reference, self.clock.now()).await?)
    }
}
