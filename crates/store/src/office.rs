//! Reports for one office of several sharing a database: each report statement has a variant
//! that counts only the cases of one office (`c.office = $N`, `N` one past the statement's own
//! parameters, inserted after the `WHERE` that filters each `cases c`, or each `case_stats c`,
//! the reports' copy of the case's columns). The variants are made
//! once from the statements' own text, never from input; the office's code is bound.

use crate::tx::Arg;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

static VARIANTS: LazyLock<Mutex<HashMap<&'static str, &'static str>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The highest `$n` a statement uses.
fn last_parameter(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                max = max.max(n);
            }
            i += 1 + digits.len();
        } else {
            i += 1;
        }
    }
    max
}

/// Where the next table of cases (as `c`) is named, and the length of its name and alias.
fn next_cases(sql: &str) -> Option<(usize, usize)> {
    ["cases c ", "case_stats c "]
        .iter()
        .filter_map(|t| sql.find(t).map(|at| (at, t.len())))
        .min()
}

/// The statement restricted to the office bound as one more parameter.
fn restrict(sql: &str) -> String {
    const WHERE: &str = " WHERE ";
    let condition = format!("c.office = ${} AND ", last_parameter(sql) + 1);
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some((at, len)) = next_cases(rest) {
        // Up to the alias; the space after it stays, for the WHERE that may follow.
        let after = at + len - 1;
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // The WHERE of this `cases c`, if it has one before the next.
        let next_cases = next_cases(&rest[1..]).map_or(rest.len(), |(n, _)| n + 1);
        if let Some(w) = rest[..next_cases].find(WHERE) {
            let end = w + WHERE.len();
            out.push_str(&rest[..end]);
            out.push_str(&condition);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// The statement for all offices, or its variant for one (with the office's code added to the
/// arguments).
pub(crate) fn for_office(
    sql: &'static str,
    office: Option<&str>,
    args: &mut Vec<Arg>,
) -> &'static str {
    let Some(code) = office else {
        return sql;
    };
    args.push(Arg::Text(Some(code.to_string())));
    let mut variants = VARIANTS.lock().unwrap_or_else(|p| p.into_inner());
    variants
        .entry(sql)
        .or_insert_with(|| Box::leak(restrict(sql).into_boxed_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cases_filter_gains_the_office_after_its_where() {
        assert_eq!(
            restrict("SELECT COUNT(*) FROM cases c WHERE c.opened_at >= $1 AND c.opened_at < $2"),
            "SELECT COUNT(*) FROM cases c WHERE c.office = $3 AND c.opened_at >= $1 AND c.opened_at < $2"
        );
        // Two parts of a union each gain it; a join without its own WHERE does not.
        assert_eq!(
            restrict(
                "SELECT * FROM (SELECT c.id FROM cases c WHERE c.x < $1 LIMIT $2) UNION ALL \
                 (SELECT c.id FROM cases c WHERE c.y >= $1 LIMIT $2) o JOIN cases c ON c.id = o.id ORDER BY 1"
            ),
            "SELECT * FROM (SELECT c.id FROM cases c WHERE c.office = $3 AND c.x < $1 LIMIT $2) UNION ALL \
             (SELECT c.id FROM cases c WHERE c.office = $3 AND c.y >= $1 LIMIT $2) o JOIN cases c ON c.id = o.id ORDER BY 1"
        );
        // A subquery on another table before the cases keeps its own WHERE.
        assert_eq!(
            restrict(
                "SELECT (SELECT 1 FROM clocks k WHERE k.case_id = c.id) FROM cases c LEFT JOIN s ON s.id = c.id WHERE c.a = $1"
            ),
            "SELECT (SELECT 1 FROM clocks k WHERE k.case_id = c.id) FROM cases c LEFT JOIN s ON s.id = c.id WHERE c.office = $2 AND c.a = $1"
        );
    }

    #[test]
    fn the_reports_copy_of_the_cases_gains_it_too() {
        assert_eq!(
            restrict(
                "SELECT n FROM (SELECT COUNT(*) AS n FROM case_stats c WHERE c.a = $1) g JOIN cases c ON c.id = g.id"
            ),
            "SELECT n FROM (SELECT COUNT(*) AS n FROM case_stats c WHERE c.office = $2 AND c.a = $1) g JOIN cases c ON c.id = g.id"
        );
    }

    #[test]
    fn a_statement_for_all_offices_is_left_alone() {
        let mut args = vec![];
        assert_eq!(
            for_office("SELECT 1 FROM cases c WHERE c.a = $1", None, &mut args),
            "SELECT 1 FROM cases c WHERE c.a = $1"
        );
        assert!(args.is_empty());
        let sql = for_office(
            "SELECT 1 FROM cases c WHERE c.a = $1",
            Some("ALB"),
            &mut args,
        );
        assert_eq!(
            sql,
            "SELECT 1 FROM cases c WHERE c.office = $2 AND c.a = $1"
        );
        assert_eq!(args.len(), 1);
    }
}
