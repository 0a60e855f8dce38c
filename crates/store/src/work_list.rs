//! Work lists at any size: a page of the cases the filters keep, in the order shown, found
//! without ordering every case the list holds.
//!
//! A list is counted first, up to `WorkQuery::count_limit` cases (10,000 unless configured). A
//! list of no more than that is sorted whole, its cases found through the index of its most
//! selective filter. A longer one is walked in the order of an index (the running clocks by due
//! instant; the cases by id, opening or last activity; the companies or consumers by name; the
//! statuses one at a time) until the page is full: the filters keep at least one case in a
//! hundred of a million, so a page is a few thousand index entries away at most. Only the page's
//! cases are then read in full, with their names and next deadline.

use crate::cases::{WorkQuery, filter_args, summary};
use crate::queries as q;
use crate::rows::{instant, micros};
use crate::tx::{Arg, Tx, args};
use crate::{Result, Scope, StoreError};
use redress_domain::records::{NextDeadline, WorkList, WorkRow};
use redress_domain::{Status, WorkOrder};
use std::collections::HashMap;

/// The filter a SQLite count or sort finds its cases through (the index of `q::WORK_COUNT_SQLITE`
/// and `q::WORK_SORTED_SQLITE`): the one set that likely keeps the fewest cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Nothing = 0,
    Consumer,
    Assignee,
    CallerCompany,
    Company,
    Unit,
    DueBefore,
    Unassigned,
    Words,
    Status,
}

impl Driver {
    fn of(w: &WorkQuery, scope: Scope) -> Driver {
        let f = &w.filter;
        if f.consumer_id.is_some() {
            Driver::Consumer
        } else if f.assignee_id.is_some() {
            Driver::Assignee
        } else if w.due_before.is_some() {
            // Only open cases have running clocks, and the team view's window is two days: fewer
            // than a company's or a unit's cases, which count every case they ever had.
            Driver::DueBefore
        } else if scope.company_id.is_some() {
            Driver::CallerCompany
        } else if f.company_id.is_some() {
            Driver::Company
        } else if f.unit_id.is_some() {
            Driver::Unit
        } else if f.unassigned_only {
            Driver::Unassigned
        } else if w.text.is_some() {
            Driver::Words
        } else if f.status.is_some() {
            Driver::Status
        } else {
            Driver::Nothing
        }
    }
}

/// How a page is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Every case of the list ordered, the page cut from them.
    Sorted,
    /// The running clocks walked by due instant (backwards when `true`), then the cases
    /// without one.
    ByClock(bool),
    /// The companies walked by name (backwards when `true`), each one's cases newest first,
    /// then the cases about no company.
    ByCompany(bool),
    /// An index of the cases walked: the statement of `q::WORK_WALK_*`.
    Walk(usize),
    /// The consumers walked by name (backwards when `true`), each one's cases newest first.
    ByConsumer(bool),
    /// The statuses in order (backwards when `true`), each one's cases newest first.
    ByStage(bool),
}

/// How a page is found: `more`, the list holds more cases than it counts (only a list counted
/// whole is sorted).
fn plan(order: WorkOrder, descending: bool, more: bool) -> Plan {
    if !more {
        return Plan::Sorted;
    }
    let way = usize::from(descending);
    match order {
        WorkOrder::Due => Plan::ByClock(descending),
        WorkOrder::Reference => Plan::Walk(way),
        WorkOrder::Age => Plan::Walk(2 + way),
        WorkOrder::Activity => Plan::Walk(4 + way),
        WorkOrder::Company => Plan::ByCompany(descending),
        WorkOrder::Consumer => Plan::ByConsumer(descending),
        WorkOrder::Stage => Plan::ByStage(descending),
    }
}

/// A page of a work list and the number of cases it holds (see the module's notes).
pub(crate) async fn work_page(tx: &mut dyn Tx, w: &WorkQuery, scope: Scope) -> Result<WorkList> {
    let pg = tx.is_postgres();
    let f = &w.filter;
    let limit = f.limit.max(1);
    let offset = w.offset.max(0);
    let text = w.text.as_ref().map(|t| on(pg, &t.tsquery, &t.fts5).clone());
    // `$1`–`$14`, with `rows` as `$9`; then `more` from `$15` on (the counts stop at `$14`, but
    // that of one status, which takes it as `$15`).
    let bind = |rows: i64, more: Vec<Arg>| {
        let mut a = filter_args(f, scope, rows);
        a.extend(args![w.due_before.map(micros), text.clone()]);
        a.extend(more);
        a
    };
    let count_limit = w.count_limit.max(1);
    let driver = Driver::of(w, scope) as usize;
    let words = usize::from(w.text.is_some());
    let counted = tx
        .one(
            on(
                pg,
                q::WORK_COUNT_POSTGRES[words],
                q::WORK_COUNT_SQLITE[driver],
            ),
            bind(count_limit + 1, vec![]),
        )
        .await?
        .int("n")?;
    let more = counted > count_limit;
    let total = counted.min(count_limit);
    let ids = match plan(w.order, w.descending, more) {
        Plan::Sorted if offset >= total => Vec::new(),
        Plan::Sorted => {
            let sql = on(
                pg,
                q::WORK_SORTED_POSTGRES[words],
                q::WORK_SORTED_SQLITE[driver],
            );
            let order = w.order_word();
            ids_of(tx, sql, bind(limit, args![offset, order])).await?
        }
        Plan::Walk(i) => {
            let sql = on(pg, q::WORK_WALK_POSTGRES[i], q::WORK_WALK_SQLITE[i]);
            ids_of(tx, sql, bind(limit, args![offset])).await?
        }
        Plan::ByConsumer(backwards) => {
            let way = usize::from(backwards);
            let sql = on(
                pg,
                q::WORK_CONSUMER_WALK_POSTGRES[way],
                q::WORK_CONSUMER_WALK_SQLITE[way],
            );
            ids_of(tx, sql, bind(limit, args![offset])).await?
        }
        Plan::ByStage(backwards) => {
            by_stage(tx, pg, backwards, f.status, &bind, limit, offset).await?
        }
        Plan::ByClock(backwards) => {
            let way = usize::from(backwards);
            let parts = on(
                pg,
                [
                    q::WORK_DUE_WALK_POSTGRES[way],
                    q::WORK_CLOCKED_POSTGRES,
                    q::WORK_UNCLOCKED_POSTGRES[way],
                ],
                [
                    q::WORK_DUE_WALK_SQLITE[way],
                    q::WORK_CLOCKED_SQLITE,
                    q::WORK_UNCLOCKED_SQLITE[way],
                ],
            );
            // With a due filter, every case kept has a running clock.
            let second = w.due_before.is_none();
            two_parts(tx, parts, second, &bind, limit, offset).await?
        }
        Plan::ByCompany(backwards) => {
            let way = usize::from(backwards);
            let parts = on(
                pg,
                [
                    q::WORK_COMPANY_WALK_POSTGRES[way],
                    q::WORK_WITH_COMPANY_POSTGRES,
                    q::WORK_NO_COMPANY_POSTGRES,
                ],
                [
                    q::WORK_COMPANY_WALK_SQLITE[way],
                    q::WORK_WITH_COMPANY_SQLITE,
                    q::WORK_NO_COMPANY_SQLITE,
                ],
            );
            two_parts(tx, parts, true, &bind, limit, offset).await?
        }
    };
    Ok(WorkList {
        rows: page_rows(tx, &ids, pg).await?,
        total,
        more,
    })
}

/// A page of a list in two parts, each walked in its order: `[first, count of first, second]`
/// (`second` false: the list has no second part). The second part starts where the first ends:
/// on the page that holds the end, from its first case; further on, after as many cases as the
/// first part holds beyond the offset, which only then is counted.
async fn two_parts(
    tx: &mut dyn Tx,
    [first, first_count, then]: [&'static str; 3],
    second: bool,
    bind: &(dyn Fn(i64, Vec<Arg>) -> Vec<Arg> + Sync),
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>> {
    let mut ids = ids_of(tx, first, bind(limit, args![offset])).await?;
    let short = limit - ids.len() as i64;
    if short > 0 && second {
        let in_first = if ids.is_empty() {
            tx.one(first_count, bind(i64::MAX, vec![]))
                .await?
                .int("n")?
        } else {
            offset + ids.len() as i64
        };
        let skip = (offset - in_first).max(0);
        ids.extend(ids_of(tx, then, bind(short, args![skip])).await?);
    }
    Ok(ids)
}

/// A page of a list by stage: the statuses in the order the database sorts their words, each
/// one's cases newest first. A status's cases are counted only when the page starts after them.
async fn by_stage(
    tx: &mut dyn Tx,
    pg: bool,
    backwards: bool,
    only: Option<Status>,
    bind: &(dyn Fn(i64, Vec<Arg>) -> Vec<Arg> + Sync),
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>> {
    let (order, count, page) = on(
        pg,
        (
            q::STATUS_ORDER_POSTGRES,
            q::WORK_IN_STATUS_COUNT_POSTGRES,
            q::WORK_IN_STATUS_POSTGRES,
        ),
        (
            q::STATUS_ORDER_SQLITE,
            q::WORK_IN_STATUS_COUNT_SQLITE,
            q::WORK_IN_STATUS_SQLITE,
        ),
    );
    let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let array = serde_json::to_string(&words).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut stages = tx
        .query(order, args![array])
        .await?
        .iter()
        .map(|r| r.text("status"))
        .collect::<Result<Vec<_>>>()?;
    if backwards {
        stages.reverse();
    }
    let mut ids = Vec::new();
    let mut skip = offset;
    for stage in stages {
        let want = limit - ids.len() as i64;
        if want <= 0 {
            break;
        }
        if only.is_some_and(|s| s.as_str() != stage) {
            continue;
        }
        if skip > 0 {
            let n = tx
                .one(count, bind(skip, args![stage.as_str()]))
                .await?
                .int("n")?;
            if n < skip {
                skip -= n;
                continue;
            }
        }
        ids.extend(ids_of(tx, page, bind(want, args![skip, stage.as_str()])).await?);
        skip = 0;
    }
    Ok(ids)
}

/// What the store at hand takes (its statements, its query language).
fn on<T>(pg: bool, postgres: T, sqlite: T) -> T {
    if pg { postgres } else { sqlite }
}

async fn ids_of(tx: &mut dyn Tx, sql: &'static str, args: Vec<Arg>) -> Result<Vec<i64>> {
    tx.query(sql, args)
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect()
}

/// The page's cases as a list shows them, in the page's order.
async fn page_rows(tx: &mut dyn Tx, ids: &[i64], pg: bool) -> Result<Vec<WorkRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let array = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = on(pg, q::WORK_ROWS_POSTGRES, q::WORK_ROWS_SQLITE);
    let mut found = HashMap::with_capacity(ids.len());
    for r in tx.query(sql, args![array]).await? {
        let next_deadline = match (r.opt_text("next_clock")?, r.opt_int("next_due")?) {
            (Some(clock), Some(due)) => Some(NextDeadline {
                clock,
                due_at: instant(due)?,
            }),
            _ => None,
        };
        let row = WorkRow {
            case: summary(&r)?,
            consumer: r.opt_text("consumer_name")?,
            assignee_name: r.opt_text("assignee_name")?,
            next_deadline,
        };
        found.insert(r.int("id")?, row);
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CaseFilter;

    #[test]
    fn the_most_selective_filter_set_drives() {
        let query = |filter: CaseFilter| WorkQuery {
            filter,
            ..WorkQuery::default()
        };
        let anyone = Scope::default();
        let company = Scope {
            company_id: Some(3),
        };
        let cases = [
            (query(CaseFilter::default()), anyone, Driver::Nothing),
            (
                query(CaseFilter {
                    consumer_id: Some(1),
                    assignee_id: Some(2),
                    ..CaseFilter::default()
                }),
                company,
                Driver::Consumer,
            ),
            (
                query(CaseFilter {
                    assignee_id: Some(2),
                    open_only: true,
                    ..CaseFilter::default()
                }),
                company,
                Driver::Assignee,
            ),
            (
                query(CaseFilter {
                    company_id: Some(4),
                    ..CaseFilter::default()
                }),
                company,
                Driver::CallerCompany,
            ),
            (
                WorkQuery {
                    due_before: Some(jiff::Timestamp::UNIX_EPOCH),
                    ..query(CaseFilter {
                        unit_id: Some(5),
                        company_id: Some(4),
                        ..CaseFilter::default()
                    })
                },
                company,
                Driver::DueBefore,
            ),
            (
                query(CaseFilter {
                    unassigned_only: true,
                    status: Some(redress_domain::Status::New),
                    ..CaseFilter::default()
                }),
                anyone,
                Driver::Unassigned,
            ),
            (
                query(CaseFilter {
                    status: Some(redress_domain::Status::New),
                    open_only: true,
                    ..CaseFilter::default()
                }),
                anyone,
                Driver::Status,
            ),
        ];
        for (q, scope, driver) in cases {
            assert_eq!(Driver::of(&q, scope), driver, "{q:?}");
        }
    }

    #[test]
    fn only_long_lists_are_walked_and_only_in_an_indexed_order() {
        use WorkOrder::*;
        let table = [
            (Due, false, false, Plan::Sorted),
            (Due, false, true, Plan::ByClock(false)),
            (Due, true, true, Plan::ByClock(true)),
            (Reference, false, true, Plan::Walk(0)),
            (Reference, true, true, Plan::Walk(1)),
            (Age, false, true, Plan::Walk(2)),
            (Age, true, true, Plan::Walk(3)),
            (Activity, false, true, Plan::Walk(4)),
            (Activity, true, true, Plan::Walk(5)),
            (Activity, true, false, Plan::Sorted),
            (Consumer, false, true, Plan::ByConsumer(false)),
            (Consumer, true, false, Plan::Sorted),
            (Company, true, true, Plan::ByCompany(true)),
            (Company, false, false, Plan::Sorted),
            (Stage, false, true, Plan::ByStage(false)),
            (Stage, true, false, Plan::Sorted),
        ];
        for (order, descending, more, expected) in table {
            assert_eq!(
                plan(order, descending, more),
                expected,
                "{order:?} {descending} {more}"
            );
        }
        // Each walk names the order it is used for.
        assert!(q::WORK_WALK_SQLITE[2].contains("c.opened_at DESC, c.id DESC"));
        assert!(q::WORK_WALK_POSTGRES[5].contains("c.updated_at ASC, c.id DESC"));
    }
}
