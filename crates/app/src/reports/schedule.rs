//! Scheduled reports: a report emailed to a list every week (Monday to Sunday) or every month,
//! once the period is over, as CSV or XLSX, with the totals and a link in the message; and the
//! week's spikes, emailed when there are any. The deadline sweep calls
//! [`App::send_scheduled_reports`] every minute; each period goes out once however many nodes
//! run it (the store moves a schedule on only forward, with the mail, in one transaction).

use super::{Cell, Dimension, Interval, Report, ReportName, ReportRequest, render};
use crate::{App, AppError, AppResult, Person};
use jiff::ToSpan;
use jiff::civil::Date;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{Permission, Role};
use redress_store::{MailAttachment, OutgoingMail, ReportSchedule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a schedule may send: any report, or `spikes` (the week's flagged spikes, only when
/// there are some).
pub const SCHEDULED: &[&str] = &[
    "workload",
    "backlog",
    "speed",
    "companies",
    "trends",
    "hotline",
    "root_causes",
    "spikes",
];

/// The most addresses one schedule sends to.
pub const MAX_RECIPIENTS: usize = 50;

/// A report to email on a schedule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// `workload`, `backlog`, `speed`, `companies`, `trends`, `hotline`, `root_causes`, or
    /// `spikes` (the week's spikes, sent only when there are some).
    #[schema(pattern = "^(workload|backlog|speed|companies|trends|hotline|root_causes|spikes)$")]
    pub report: String,
    /// `week` (sent each Monday for the week before) or `month` (on the 1st, for the month
    /// before).
    #[schema(pattern = "^(week|month)$")]
    pub every: String,
    /// `xlsx` (the default: the totals and every table) or `csv` (the main table).
    #[serde(default)]
    #[schema(pattern = "^(csv|xlsx)$")]
    pub format: Option<String>,
    /// The message's language: `en` (the default) or `es`.
    #[serde(default)]
    #[schema(pattern = "^(en|es)$")]
    pub language: Option<String>,
    /// Who receives it: 1 to 50 email addresses.
    #[schema(min_items = 1, max_items = 50)]
    pub recipients: Vec<String>,
}

/// A scheduled report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Schedule {
    pub id: i64,
    pub report: String,
    pub every: String,
    pub format: String,
    pub language: String,
    pub recipients: Vec<String>,
    /// The last day of the last period sent (or, before the first, of the period before it
    /// was made): the next message covers the period after it.
    #[schema(value_type = String, format = Date)]
    pub last_period_to: String,
    pub created_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<ReportSchedule> for Schedule {
    fn from(s: ReportSchedule) -> Schedule {
        Schedule {
            id: s.id,
            report: s.report,
            every: s.every,
            format: s.format,
            language: s.language,
            recipients: s.recipients,
            last_period_to: s.last_period_to,
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

/// The last whole period before `today`: the week from Monday to Sunday, or the month.
pub fn last_period(every: &str, today: Date) -> (Date, Date) {
    if every == "month" {
        let to = today.first_of_month().yesterday().unwrap_or(today);
        (to.first_of_month(), to)
    } else {
        let back = i64::from(today.weekday().to_monday_zero_offset()) + 1;
        let to = today.checked_sub(back.days()).unwrap_or(today);
        (to.checked_sub(6.days()).unwrap_or(to), to)
    }
}

/// Who keeps the schedules: those who read reports, except auditors (who only look).
fn may_schedule(person: &Person) -> AppResult<()> {
    person.require(Permission::ReportRead)?;
    if person.user.role == Role::Auditor {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

impl App {
    pub async fn report_schedules(&self, person: &Person) -> AppResult<Vec<Schedule>> {
        person.require(Permission::ReportRead)?;
        Ok(self
            .store
            .report_schedules()
            .await?
            .into_iter()
            .map(Schedule::from)
            .collect())
    }

    /// Adds a schedule; its first message covers the first whole period after today's.
    pub async fn add_report_schedule(
        &self,
        person: &Person,
        input: ScheduleInput,
    ) -> AppResult<Schedule> {
        may_schedule(person)?;
        let mut errors = FieldErrors::new();
        let report = input.report.trim().to_string();
        if !SCHEDULED.contains(&report.as_str()) {
            errors.push(
                "report",
                "unknown_value",
                format!("One of {}.", SCHEDULED.join(", ")),
            );
        }
        let every = input.every.trim().to_string();
        if !matches!(every.as_str(), "week" | "month") {
            errors.push("every", "unknown_value", "week or month.");
        }
        let format = input.format.as_deref().map(str::trim).unwrap_or("xlsx");
        if !matches!(format, "csv" | "xlsx") {
            errors.push("format", "unknown_value", "csv or xlsx.");
        }
        let language = input.language.as_deref().map(str::trim).unwrap_or("en");
        if !matches!(language, "en" | "es") {
            errors.push("language", "unknown_value", "en or es.");
        }
        let mut recipients: Vec<String> = Vec::new();
        if input.recipients.is_empty() {
            errors.push("recipients", "required", "At least one email address.");
        } else if input.recipients.len() > MAX_RECIPIENTS {
            errors.push(
                "recipients",
                "too_long",
                format!("At most {MAX_RECIPIENTS} addresses."),
            );
        } else {
            for (i, a) in input.recipients.iter().enumerate() {
                if let Some(a) = v::email(&mut errors, &format!("recipients[{i}]"), a.trim())
                    && !recipients.contains(&a)
                {
                    recipients.push(a);
                }
            }
        }
        AppError::unless_empty(errors)?;
        let (_, last) = last_period(&every, self.office_today().await?.0);
        let s = ReportSchedule {
            id: 0,
            report,
            every,
            format: format.to_string(),
            language: language.to_string(),
            recipients,
            last_period_to: last.to_string(),
            created_by: None,
            created_at: self.clock.now(),
        };
        Ok(self
            .store
            .add_report_schedule(&person.actor(), &s, self.clock.now())
            .await?
            .into())
    }

    pub async fn remove_report_schedule(&self, person: &Person, id: i64) -> AppResult<()> {
        may_schedule(person)?;
        self.store
            .remove_report_schedule(&person.actor(), id, self.clock.now())
            .await?;
        Ok(())
    }

    /// Sends every schedule whose next period is over; returns how many periods went out.
    pub async fn send_scheduled_reports(&self) -> AppResult<usize> {
        let today = self.office_today().await?.0;
        let mut sent = 0;
        for s in self.store.report_schedules().await? {
            let (from, to) = last_period(&s.every, today);
            if to.to_string() <= s.last_period_to {
                continue;
            }
            // One schedule that cannot be written this time does not hold up the others; it
            // is tried again at the next sweep.
            let mail = match self.scheduled_mail(&s, from, to).await {
                Ok(mail) => mail,
                Err(e) => {
                    tracing::warn!(schedule = s.id, report = %s.report, error = %e, "a scheduled report was not written");
                    continue;
                }
            };
            if self
                .store
                .send_report_period(s.id, &to.to_string(), &mail, self.clock.now())
                .await?
                && !mail.is_empty()
            {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// The messages one period of a schedule sends (none for a week without spikes).
    async fn scheduled_mail(
        &self,
        s: &ReportSchedule,
        from: Date,
        to: Date,
    ) -> AppResult<Vec<OutgoingMail>> {
        let es = s.language == "es";
        let spikes_only = s.report == "spikes";
        let name = if spikes_only {
            ReportName::Trends
        } else {
            ReportName::parse(&s.report)
                .ok_or_else(|| AppError::Internal(format!("scheduled report {:?}", s.report)))?
        };
        let (prev_from, prev_to) = last_period(&s.every, from);
        let request = ReportRequest {
            name,
            from,
            to,
            interval: if s.every == "month" {
                Interval::Week
            } else {
                Interval::Day
            },
            by: Dimension::Unit,
            target_days: 30,
            answer_seconds: 30,
            compare: (!spikes_only).then_some((prev_from, prev_to)),
            office: None,
            compare_office: None,
        };
        let report = self.compute_report(&request).await?;
        let link = self.public_link(&format!("/reports/{}?from={from}&to={to}", name.as_str()));
        let title = report_title(&s.report, es);
        let mut body = if es {
            format!("{title}, del {from} al {to}.\n\n")
        } else {
            format!("{title}, {from} to {to}.\n\n")
        };
        let (table, stem) = if spikes_only {
            let Some(mut spikes) = report.tables.iter().find(|t| t.key == "spikes").cloned() else {
                return Ok(vec![]);
            };
            let first = from.to_string();
            spikes
                .rows
                .retain(|r| matches!(r.first(), Some(Cell::Text(w)) if *w >= first));
            if spikes.rows.is_empty() {
                return Ok(vec![]);
            }
            for r in &spikes.rows {
                let cell = |i: usize| r.get(i).map(Cell::display).unwrap_or_default();
                let dimension = match (cell(1).as_str(), es) {
                    ("company", true) => "empresa".to_string(),
                    ("category", true) => "categoría".to_string(),
                    (d, _) => d.to_string(),
                };
                body.push_str(&if es {
                    format!(
                        "- {} ({dimension}): {} casos; lo habitual, {}\n",
                        cell(2),
                        cell(3),
                        cell(4)
                    )
                } else {
                    format!(
                        "- {} ({dimension}): {} cases; usually {}\n",
                        cell(2),
                        cell(3),
                        cell(4)
                    )
                });
            }
            body.push('\n');
            (Some(spikes), "spikes")
        } else {
            for (k, c) in &report.totals {
                body.push_str(&format!("{}: {}\n", k.replace('_', " "), c.display()));
            }
            body.push('\n');
            (None, name.as_str())
        };
        body.push_str(&if es {
            format!(
                "El informe completo: {link}\nLas cifras van en el archivo adjunto.\n\n\
                 Este mensaje se envía según un informe programado en Redress."
            )
        } else {
            format!(
                "The whole report: {link}\nThe figures are in the attached file.\n\n\
                 This message is sent by a scheduled report in Redress."
            )
        });
        let attachment = attachment(&report, table.as_ref(), &s.format, stem, from, to)?;
        let subject = if es {
            format!("{title}, del {from} al {to}")
        } else {
            format!("{title}, {from} to {to}")
        };
        Ok(s.recipients
            .iter()
            .map(|r| {
                let mut m = OutgoingMail::new(r.clone(), subject.clone(), body.clone(), None);
                m.automatic = true;
                m.attachments = vec![attachment.clone()];
                m
            })
            .collect())
    }
}

fn attachment(
    report: &Report,
    table: Option<&super::Table>,
    format: &str,
    stem: &str,
    from: Date,
    to: Date,
) -> AppResult<MailAttachment> {
    let (content, content_type) = match (format, table) {
        ("csv", Some(t)) => (render::table_csv(t)?, "text/csv; charset=utf-8"),
        ("csv", None) => (render::csv(report)?, "text/csv; charset=utf-8"),
        (_, Some(t)) => (render::table_xlsx(t)?, render::XLSX),
        (_, None) => (render::xlsx(report)?, render::XLSX),
    };
    Ok(MailAttachment {
        filename: format!(
            "{stem}-{from}-{to}.{}",
            if format == "csv" { "csv" } else { "xlsx" }
        ),
        content_type: content_type.into(),
        content,
    })
}

/// A report's name in a message's subject.
fn report_title(report: &str, es: bool) -> &'static str {
    match (report, es) {
        ("workload", false) => "Workload report",
        ("workload", true) => "Informe de carga de trabajo",
        ("backlog", false) => "Backlog and aging report",
        ("backlog", true) => "Informe de casos pendientes y antigüedad",
        ("speed", false) => "Speed and quality report",
        ("speed", true) => "Informe de rapidez y calidad",
        ("companies", false) => "Company performance report",
        ("companies", true) => "Informe de desempeño de las empresas",
        ("trends", false) => "Trends report",
        ("trends", true) => "Informe de tendencias",
        ("hotline", false) => "Hotline report",
        ("hotline", true) => "Informe de la línea directa",
        ("root_causes", false) => "Root causes report",
        ("root_causes", true) => "Informe de causas de fondo",
        ("spikes", false) => "Complaint spikes this week",
        ("spikes", true) => "Aumentos repentinos de quejas esta semana",
        (_, false) => "Report",
        (_, true) => "Informe",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_last_period_is_the_whole_week_or_month_before_today() {
        // Wednesday 2 December 2026.
        let today = date(2026, 12, 2);
        assert_eq!(
            last_period("week", today),
            (date(2026, 11, 23), date(2026, 11, 29))
        );
        assert_eq!(
            last_period("month", today),
            (date(2026, 11, 1), date(2026, 11, 30))
        );
        // On a Monday the week just ended is the last; on the 1st the month just ended.
        assert_eq!(
            last_period("week", date(2026, 11, 30)),
            (date(2026, 11, 23), date(2026, 11, 29))
        );
        assert_eq!(
            last_period("month", date(2027, 1, 1)),
            (date(2026, 12, 1), date(2026, 12, 31))
        );
        assert_eq!(
            last_period("month", date(2026, 3, 15)),
            (date(2026, 2, 1), date(2026, 2, 28))
        );
    }
}
