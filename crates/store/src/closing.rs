//! The office's root causes (what a closed case says kept going wrong), and what the root-cause
//! report counts: the cases closed in a period with their cause and outcome.

use crate::audit::append_audit;
use crate::tx::{Engine, Row, args, job};
use crate::{Actor, Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
pub use redress_domain::records::RootCause;

const ROOT_CAUSES: &str =
    "SELECT code, name, name_es, position, active FROM root_causes ORDER BY position, code";
const ROOT_CAUSE: &str = "SELECT code FROM root_causes WHERE code = $1";
const INSERT_ROOT_CAUSE: &str =
    "INSERT INTO root_causes (code, name, name_es, position, active) VALUES ($1, $2, $3, $4, $5)";
const UPDATE_ROOT_CAUSE: &str =
    "UPDATE root_causes SET name = $2, name_es = $3, position = $4, active = $5 WHERE code = $1";
/// The cases closed in `[$1, $2)` counted by cause, outcome, company and category, from the
/// cases' rows in `case_stats` (kept by triggers from the cases and their facts).
const CLOSED_WITH_CAUSES: &str = "SELECT g.root_cause, g.outcome, co.name AS company_name, \
     cat.path AS category_path, g.n FROM \
     (SELECT c.root_cause, c.outcome, c.company_id, c.category_id, COUNT(*) AS n FROM case_stats c \
       WHERE c.status <> 'merged' AND c.closed_at >= $1 AND c.closed_at < $2 \
       GROUP BY c.root_cause, c.outcome, c.company_id, c.category_id) g \
     LEFT JOIN companies co ON co.id = g.company_id \
     LEFT JOIN categories cat ON cat.id = g.category_id";

/// The cases closed in a period with one recorded cause and outcome, company and category.
#[derive(Debug, Clone)]
pub struct ClosedWithCause {
    pub root_cause: Option<String>,
    pub outcome: Option<String>,
    pub company: Option<String>,
    pub category: Option<String>,
    pub cases: i64,
}

#[async_trait]
pub trait RootCauses {
    async fn root_causes(&self) -> Result<Vec<RootCause>>;
    /// Adds a root cause or changes one (by code), audited.
    async fn save_root_cause(&self, actor: &Actor, cause: &RootCause, at: Timestamp) -> Result<()>;
    async fn closed_with_causes(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<ClosedWithCause>>;
}

fn cause(r: &Row) -> Result<RootCause> {
    Ok(RootCause {
        code: r.text("code")?,
        name: r.text("name")?,
        name_es: r.opt_text("name_es")?,
        position: r.int("position")?,
        active: r.bool("active")?,
    })
}

#[async_trait]
impl<E: Engine> RootCauses for E {
    async fn root_causes(&self) -> Result<Vec<RootCause>> {
        self.read(job(|tx| {
            Box::pin(async move {
                let rows = tx.query(ROOT_CAUSES, args![]).await?;
                rows.iter().map(cause).collect()
            })
        }))
        .await
    }

    async fn save_root_cause(&self, actor: &Actor, c: &RootCause, at: Timestamp) -> Result<()> {
        let (actor, c) = (actor.clone(), c.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let exists = tx
                    .optional(ROOT_CAUSE, args![c.code.as_str()])
                    .await?
                    .is_some();
                let sql = if exists {
                    UPDATE_ROOT_CAUSE
                } else {
                    INSERT_ROOT_CAUSE
                };
                tx.execute(
                    sql,
                    args![
                        c.code.as_str(),
                        c.name.as_str(),
                        &c.name_es,
                        c.position,
                        c.active
                    ],
                )
                .await?;
                let detail = serde_json::json!({
                    "code": c.code, "name": c.name, "name_es": c.name_es,
                    "position": c.position, "active": c.active, "new": !exists,
                });
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "root_cause.save",
                    &format!("root_cause:{}", c.code),
                    &detail.to_string(),
                    at,
                )
                .await?;
                Ok::<(), StoreError>(())
            })
        }))
        .await
    }

    async fn closed_with_causes(
        &self,
        from: Timestamp,
        to: Timestamp,
        office: Option<&str>,
    ) -> Result<Vec<ClosedWithCause>> {
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let mut args = args![from, to];
        let sql = crate::office::for_office(CLOSED_WITH_CAUSES, office, &mut args);
        self.read(job(move |tx| {
            Box::pin(async move {
                let rows = tx.query(sql, args).await?;
                rows.iter()
                    .map(|r| {
                        Ok(ClosedWithCause {
                            cases: r.int("n")?,
                            root_cause: r.opt_text("root_cause")?,
                            outcome: r.opt_text("outcome")?,
                            company: r.opt_text("company_name")?,
                            category: r.opt_text("category_path")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }
}
