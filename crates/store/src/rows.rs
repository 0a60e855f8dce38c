//! Reading stored values back (words, instants, amounts, office hours), and the case row
//! every change to a case reads first.

use crate::queries as q;
use crate::tx::{Tx, args};
use crate::{Result, Scope, StoreError};
use jiff::Timestamp;
use redress_domain::*;
use std::str::FromStr;

pub(crate) fn word<T: FromStr>(s: &str) -> Result<T> {
    T::from_str(s).map_err(|_| StoreError::Corrupt(format!("unknown stored value {s:?}")))
}

pub(crate) fn money_text(cents: Option<i64>) -> Option<String> {
    cents.and_then(Money::from_cents).map(|m| m.to_string())
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn instant(m: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(m).map_err(|e| StoreError::Corrupt(format!("instant {m}: {e}")))
}

pub(crate) fn hour_of_day(h: i64) -> Result<i8> {
    i8::try_from(h)
        .ok()
        .filter(|h| (0..24).contains(h))
        .ok_or_else(|| StoreError::Corrupt(format!("office hour {h}")))
}

/// The editable columns of a case, read before a change.
pub(crate) struct ChangeRow {
    pub(crate) id: i64,
    pub(crate) version: i64,
    pub(crate) status: Status,
    pub(crate) office: String,
    pub(crate) priority: String,
    pub(crate) flags: String,
    pub(crate) category_id: Option<i64>,
    pub(crate) company_id: Option<i64>,
    pub(crate) account_number: Option<String>,
    pub(crate) amount_cents: Option<i64>,
    pub(crate) description: String,
    pub(crate) unit_id: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    /// The last timeline position before the change.
    pub(crate) timeline_seq: i64,
}

pub(crate) async fn change_row(
    tx: &mut dyn Tx,
    reference: &str,
    scope: Scope,
) -> Result<ChangeRow> {
    let r = tx
        .one(q::CASE_FOR_CHANGE, args![reference, scope.company_id])
        .await?;
    Ok(ChangeRow {
        id: r.int("id")?,
        version: r.int("version")?,
        status: word(&r.text("status")?)?,
        office: r.text("office")?,
        priority: r.text("priority")?,
        flags: r.text("flags")?,
        category_id: r.opt_int("category_id")?,
        company_id: r.opt_int("company_id")?,
        account_number: r.opt_text("account_number")?,
        amount_cents: r.opt_int("amount_cents")?,
        description: r.text("description")?,
        unit_id: r.opt_int("unit_id")?,
        assignee_id: r.opt_int("assignee_id")?,
        timeline_seq: r.int("timeline_seq")?,
    })
}

pub(crate) fn check_version(row: &ChangeRow, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != row.version => Err(StoreError::Stale {
            current: row.version,
        }),
        _ => Ok(()),
    }
}

pub(crate) fn not_merged(row: &ChangeRow) -> Result<()> {
    if row.status == Status::Merged {
        Err(StoreError::Domain(DomainError::InvalidTransition {
            from: row.status,
            to: row.status,
            allowed: vec![],
        }))
    } else {
        Ok(())
    }
}
