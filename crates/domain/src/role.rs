//! Roles and what each may do. This table is the one place permissions are decided; the web
//! layer asks [`Role::allows`] before every action.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Intake, research, routine resolution.
    Agent,
    /// Complex contacts referred up, coaching.
    SeniorAgent,
    /// Supervises agents; complex and sensitive cases; reassigns and merges.
    Supervisor,
    /// Several units; service objectives.
    Manager,
    /// Trends and reports; reads cases but not consumers' contact records.
    Analyst,
    /// Users, units, companies, categories.
    Admin,
    /// Reads everything, changes nothing.
    Auditor,
    /// A respondent company's user: its own company's cases and company-visible entries only.
    Company,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    CaseCreate,
    CaseRead,
    CaseUpdate,
    CaseAssign,
    CaseChangeStatus,
    CaseLink,
    CaseMerge,
    TimelineRead,
    TimelineWrite,
    ConsumerRead,
    /// Decide that two consumer records are one person and merge them.
    ConsumerMerge,
    CompanyRead,
    CompanyWrite,
    ReferenceDataRead,
    ReferenceDataWrite,
    UserRead,
    UserWrite,
    AuditRead,
    OwnTokens,
    /// File or set aside incoming mail that matched no case, and read the quarantine.
    MailTriage,
    /// Read the office's reports (workload, backlog, speed, companies, trends, hotline).
    ReportRead,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Agent,
        Role::SeniorAgent,
        Role::Supervisor,
        Role::Manager,
        Role::Analyst,
        Role::Admin,
        Role::Auditor,
        Role::Company,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::SeniorAgent => "senior_agent",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Company => "company",
        }
    }

    /// Whether people in this role work cases (take calls, write, move cases on): the only ones
    /// a case may be assigned to. Analysts, auditors and company users never are.
    pub fn works_cases(self) -> bool {
        self.allows(Permission::CaseChangeStatus)
    }

    /// Whether this role may take this action at all. Scope (a company user sees only its own
    /// company's cases) is applied on top, by the queries.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        let staff = matches!(self, Agent | SeniorAgent | Supervisor | Manager | Admin);
        match p {
            CaseCreate | CaseUpdate | CaseChangeStatus | CaseLink => staff,
            CaseAssign => matches!(self, SeniorAgent | Supervisor | Manager | Admin),
            CaseMerge => matches!(self, Supervisor | Manager | Admin),
            CaseRead | TimelineRead | CompanyRead | ReferenceDataRead | OwnTokens => true,
            TimelineWrite => staff || self == Company,
            ConsumerRead => staff || self == Auditor,
            ConsumerMerge => staff,
            CompanyWrite | ReferenceDataWrite => matches!(self, Manager | Admin),
            UserRead => matches!(self, Supervisor | Manager | Admin | Auditor),
            UserWrite => self == Admin,
            AuditRead => matches!(self, Supervisor | Manager | Admin | Auditor),
            MailTriage => matches!(self, SeniorAgent | Supervisor | Manager | Admin),
            ReportRead => matches!(self, Supervisor | Manager | Analyst | Admin | Auditor),
        }
    }

    /// Whether the role sees consumers' personal data inside a case.
    pub fn sees_consumer_details(self) -> bool {
        self.allows(Permission::ConsumerRead) || self == Role::Company
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::case::UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::case::UnknownWord {
                kind: "role",
                word: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_case_workers_take_cases() {
        let workers: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.works_cases())
            .collect();
        assert_eq!(
            workers,
            [
                Role::Agent,
                Role::SeniorAgent,
                Role::Supervisor,
                Role::Manager,
                Role::Admin
            ]
        );
    }
    use super::*;

    #[test]
    fn auditor_changes_nothing() {
        use Permission::*;
        for p in [
            CaseCreate,
            CaseUpdate,
            CaseAssign,
            CaseChangeStatus,
            CaseLink,
            CaseMerge,
            ConsumerMerge,
            TimelineWrite,
            CompanyWrite,
            ReferenceDataWrite,
            UserWrite,
        ] {
            assert!(!Role::Auditor.allows(p), "{p:?}");
        }
        assert!(Role::Auditor.allows(AuditRead));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
    }
}
