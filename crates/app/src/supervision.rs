//! Supervision and administration: the units' workload and age of their open cases, a unit's
//! open cases and their bulk reassignment, and what administrators see and do on their page
//! (users, units, the background jobs) and read (each case kind's lifecycle).

use crate::directory::{NewUnit, NewUserInput};
use crate::lists::{Assignee, CaseList, ListRequest, Team};
use crate::{App, AppError, AppResult, Person};
use jiff::{SignedDuration, Timestamp};
use redress_domain::lifecycle::Lifecycle;
use redress_domain::records::{CaseSummary, Unit, User};
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{Permission, Reference, Role};
use redress_store::{AgeBounds, CaseFilter, DeadJob, JobCounts, StoreError, UnitLoad};

/// How many open cases of a unit its page lists.
pub const UNIT_CASES_SHOWN: i64 = 200;
/// How many dead jobs the administrators' page lists.
pub const DEAD_JOBS_SHOWN: i64 = 20;

/// A unit's open cases and where they may go.
pub struct UnitCases {
    pub unit: Unit,
    /// Open cases, newest first.
    pub cases: Vec<CaseSummary>,
    /// Every unit.
    pub units: Vec<Unit>,
    /// Active staff (no company users).
    pub staff: Vec<User>,
}

/// What the administrators' page shows.
pub struct AdminOverview {
    pub users: Vec<User>,
    pub units: Vec<Unit>,
    /// Jobs waiting, done and dead.
    pub jobs: JobCounts,
    /// The latest dead jobs, newest first.
    pub dead_jobs: Vec<DeadJob>,
    /// Where new cases go when nobody chose a unit, in the order the rules are tried.
    pub routing: Vec<redress_domain::routing::RoutingRule>,
    /// The companies a company user may belong to.
    pub companies: Vec<redress_domain::records::Company>,
    /// The categories a routing rule may name.
    pub categories: Vec<redress_domain::records::Category>,
}

/// A staff member as an administrator types them in.
#[derive(Debug, Default, Clone)]
pub struct NewStaffUser {
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// A role's word (`agent`, `supervisor`, `company`...).
    pub role: Option<String>,
    /// For a company user: their company's id, as typed.
    pub company: Option<String>,
    /// Unit code.
    pub unit: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
}

/// Where today starts in the office's time zone (`now` when the zone is unknown), and the age
/// boundaries before now: cases opened 0–2, 3–7, 8–30 and over 30 days ago.
pub fn age_bounds(now: Timestamp, time_zone: &str) -> AgeBounds {
    let today = jiff::tz::TimeZone::get(time_zone)
        .ok()
        .and_then(|tz| now.to_zoned(tz).start_of_day().ok())
        .map(|z| z.timestamp())
        .unwrap_or(now);
    let back = |days: i64| now - SignedDuration::from_hours(24 * days);
    AgeBounds {
        today,
        days_2: back(3),
        days_7: back(8),
        days_30: back(31),
    }
}

/// What a supervisor's page shows: each unit's load, the team's load and what falls due, and the
/// open cases nobody is assigned to.
pub struct Supervision {
    pub loads: Vec<UnitLoad>,
    pub team: Team,
    pub unassigned: CaseList,
    /// The request `unassigned` answers, for its column links.
    pub unassigned_request: ListRequest,
}

impl App {
    /// Each unit's load and the office's cases not yet assigned (those who assign).
    pub async fn supervision(&self, person: &Person) -> AppResult<Supervision> {
        let loads = self.unit_loads(person).await?;
        let team = self.team(person, None, 1).await?;
        let unassigned_request = ListRequest {
            assignee: Some(Assignee::Nobody),
            ..ListRequest::default()
        };
        let unassigned = self.case_list(person, &unassigned_request).await?;
        Ok(Supervision {
            loads,
            team,
            unassigned,
            unassigned_request,
        })
    }

    /// Each unit's open cases, those opened today, and their ages (those who assign).
    pub async fn unit_loads(&self, person: &Person) -> AppResult<Vec<UnitLoad>> {
        person.require(Permission::CaseAssign)?;
        let bounds = age_bounds(self.clock.now(), &self.office.time_zone);
        Ok(self.store.unit_dashboard(bounds).await?)
    }

    /// A unit's open cases, with the units and staff they may be given to (those who assign).
    /// `NotFound` for a code that names no unit.
    pub async fn unit_cases(&self, person: &Person, unit_code: &str) -> AppResult<UnitCases> {
        person.require(Permission::CaseAssign)?;
        let found = if v::is_clean_text(unit_code, false) {
            self.store.unit_by_code(unit_code).await
        } else {
            Err(StoreError::NotFound)
        };
        let unit = found?;
        let filter = CaseFilter {
            unit_id: Some(unit.id),
            open_only: true,
            limit: UNIT_CASES_SHOWN,
            ..CaseFilter::default()
        };
        let cases = self.store.cases(&filter, person.scope()).await?;
        let units = self.store.units().await?;
        let staff = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.role.works_cases())
            .collect();
        Ok(UnitCases {
            unit,
            cases: cases.into_iter().map(|(_, c)| c).collect(),
            units,
            staff,
        })
    }

    /// Gives the chosen cases to a unit and a staff member, both cleared when not given (those
    /// who assign). Values that are not references are ignored; a case that cannot be moved is
    /// skipped (and logged). Returns how many were moved.
    pub async fn reassign_cases(
        &self,
        person: &Person,
        references: &[String],
        unit: Option<&str>,
        assignee: Option<&str>,
    ) -> AppResult<i64> {
        person.require(Permission::CaseAssign)?;
        let selected: Vec<String> = references
            .iter()
            .filter_map(|r| r.parse::<Reference>().ok())
            .map(|r| r.to_string())
            .collect();
        let mut errors = FieldErrors::new();
        if selected.is_empty() {
            errors.push("case", "none_selected", "Select at least one case.");
        }
        let unit_id = match unit {
            Some(code) => self.lookup_unit(&mut errors, "unit", code).await?,
            None => None,
        };
        let assignee_id = match assignee {
            Some(name) => self.lookup_staff(&mut errors, "assignee", name).await?,
            None => None,
        };
        AppError::unless_empty(errors)?;
        let now = self.clock.now();
        let mut done = 0i64;
        for r in &selected {
            match self
                .store
                .assign(
                    &person.actor(),
                    r,
                    None,
                    Some(unit_id),
                    Some(assignee_id),
                    now,
                )
                .await
            {
                Ok(_) => done += 1,
                Err(e) => tracing::warn!(reference = %r, error = %e, "reassignment skipped"),
            }
        }
        Ok(done)
    }

    /// Users, units and the background jobs, for administrators.
    pub async fn admin_overview(&self, person: &Person) -> AppResult<AdminOverview> {
        person.require(Permission::UserWrite)?;
        Ok(AdminOverview {
            users: self.store.users().await?,
            units: self.store.units().await?,
            jobs: self.store.job_counts().await?,
            dead_jobs: self.store.dead_jobs(DEAD_JOBS_SHOWN).await?,
            routing: self.store.routing_rules().await?,
            companies: self.store.companies().await?,
            categories: self.store.categories().await?,
        })
    }

    /// Adds a staff member or a company's representative (administrators). The role is checked
    /// first, alone.
    pub async fn add_staff_user(&self, person: &Person, b: NewStaffUser) -> AppResult<User> {
        person.require(Permission::UserWrite)?;
        let role = b
            .role
            .as_deref()
            .and_then(|r| r.parse::<Role>().ok())
            .ok_or_else(|| {
                AppError::field("role", "unknown_value", "Choose one of the options.")
            })?;
        let company_id = match (role, b.company.as_deref()) {
            (Role::Company, Some(c)) => Some(c.trim().parse::<i64>().map_err(|_| {
                AppError::field("company_id", "unknown_company", "No such company.")
            })?),
            _ => None,
        };
        self.add_user(
            person,
            NewUserInput {
                username: b.username,
                display_name: b.display_name,
                role,
                unit: b.unit.filter(|_| role != Role::Company),
                company_id,
                password: b.password,
                email: b.email,
            },
        )
        .await
    }

    /// Adds a unit to the office (administrators); its code is kept in capitals.
    pub async fn add_office_unit(
        &self,
        person: &Person,
        code: Option<&str>,
        name: Option<&str>,
    ) -> AppResult<Unit> {
        person.require(Permission::UserWrite)?;
        self.add_unit(
            person,
            NewUnit {
                code: code.map(str::to_ascii_uppercase),
                name: name.map(str::to_string),
                office: None,
            },
        )
        .await
    }

    /// Each case kind's lifecycle, for the office's staff to read (not company users).
    pub fn lifecycle_reference(&self, person: &Person) -> AppResult<&[Lifecycle]> {
        person.require(Permission::ReferenceDataRead)?;
        if person.is_company() {
            return Err(AppError::Forbidden);
        }
        Ok(&self.lifecycles.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_start_at_the_office_midnight() {
        let now: Timestamp = "2026-12-01T15:30:00Z".parse().expect("time");
        let b = age_bounds(now, "America/New_York");
        assert_eq!(
            b.today,
            "2026-12-01T05:00:00Z".parse::<Timestamp>().expect("time")
        );
        assert_eq!(b.days_2, now - SignedDuration::from_hours(72));
        assert_eq!(b.days_7, now - SignedDuration::from_hours(24 * 8));
        assert_eq!(b.days_30, now - SignedDuration::from_hours(24 * 31));
        assert_eq!(age_bounds(now, "Not/AZone").today, now);
    }
}
