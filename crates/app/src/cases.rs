//! Cases: open (every front door: the API, the intake screen, the public portal), read, change,
//! list, assign, link, merge, and the case's timeline entries, clocks, audit trail and reminders.
//! Each use case checks the person's role, validates every field (naming each one that is
//! wrong) and changes nothing when anything is wrong.

use crate::{App, AppError, AppResult, Person, case_reference};
use redress_domain::records::*;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::*;
use redress_store::*;
use serde::Deserialize;
use utoipa::ToSchema;

/// Who opens a case.
#[derive(Debug, Clone, Copy)]
pub enum Intake<'a> {
    /// A staff member taking a call, a letter, an email or a walk-in.
    Staff(&'a Person),
    /// A consumer on the public portal.
    Portal,
    /// An email to the office (`inbound` is the message's claim, filed with the case).
    Mail { inbound: i64 },
}

/// Incoming mail as the audit log and timeline name it.
pub fn mail_actor() -> Actor {
    Actor {
        user_id: None,
        username: "mail".into(),
    }
}

/// The public portal as the audit log and timeline name it.
pub fn portal_actor() -> Actor {
    Actor {
        user_id: None,
        username: "portal".into(),
    }
}

/// Deserialises a field that distinguishes absent (`None`) from `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    /// Two-letter state code.
    pub state: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub email: Option<String>,
    /// North American numbers in any common format, or `+` and the country code.
    pub phone: Option<String>,
    pub preferred_language: Option<Language>,
    pub address: Option<AddressInput>,
    /// The consumer's account number with the company.
    pub account_number: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    pub kind: CaseKind,
    pub channel: Channel,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    /// An existing consumer that staff chose for this contact (see `/api/v1/consumers`). Without
    /// it, a new consumer record is created with exactly what `consumer` holds: nobody is ever
    /// attached to an existing record because a phone number, email or account number matches.
    pub consumer_id: Option<i64>,
    /// Who is complaining. Required unless `consumer_id` is given; with it, these details only
    /// fill in what the chosen record lacks.
    pub consumer: Option<ConsumerInput>,
    /// A company id from `/api/v1/companies`.
    pub company_id: Option<i64>,
    /// A category path from `/api/v1/categories`, e.g. `Energy > Electric > Billing`.
    pub category: Option<String>,
    /// Exact decimal, as a string (`"125.40"`) or a JSON number; never negative.
    #[schema(value_type = Option<String>, example = "125.40")]
    pub amount_in_dispute: Option<serde_json::Value>,
    pub priority: Option<Priority>,
    #[serde(default)]
    pub flags: Vec<Flag>,
    /// Unit code.
    pub unit: Option<String>,
    /// Username of the staff member to assign.
    pub assignee: Option<String>,
    /// Office code; defaults to the server's office.
    pub office: Option<String>,
    /// The lifecycle the case follows (see `GET /api/v1/lifecycles`); without it the case takes
    /// the one its company's industry or its category calls for, else its kind's general one.
    pub lifecycle: Option<String>,
    /// Whether the consumer agrees that the description may be published, without anything
    /// that identifies them, in the office's open data file (absent: not asked).
    #[serde(default)]
    pub publish_consent: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCase {
    #[schema(value_type = Priority, required = false)]
    pub priority: Option<Priority>,
    #[schema(value_type = Vec<Flag>, required = false)]
    pub flags: Option<Vec<Flag>>,
    #[schema(value_type = String, required = false, min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    /// A category path, or `null` to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub account_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub amount_in_dispute: Option<Option<serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// Unit code, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    /// Username, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: Status,
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
    /// When the case closes or is resolved: what kept going wrong, a code from
    /// `GET /api/v1/root-causes`.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub root_cause: Option<String>,
    /// When the case closes or is resolved: how it ended for the consumer.
    #[serde(default)]
    pub outcome: Option<redress_domain::Outcome>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The other case's reference.
    #[schema(
        example = "NYC-2026-000123",
        pattern = "^[A-Z]{2,8}-[0-9]{4}-[0-9]{6}$"
    )]
    pub target: String,
    pub kind: LinkKind,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The reference of the case that survives.
    #[schema(
        example = "NYC-2026-000123",
        pattern = "^[A-Z]{2,8}-[0-9]{4}-[0-9]{6}$"
    )]
    pub into: String,
}

pub fn amount(errors: &mut FieldErrors, field: &str, value: &serde_json::Value) -> Option<Money> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            errors.push(
                field,
                "amount_invalid",
                "Give the amount as a decimal, e.g. \"125.40\".",
            );
            return None;
        }
    };
    match Money::parse(&text) {
        Ok(m) => Some(m),
        Err(e) => {
            let code = match e {
                money::MoneyError::Negative => "amount_negative",
                money::MoneyError::TooPrecise => "amount_too_precise",
                money::MoneyError::TooLarge => "amount_too_large",
                money::MoneyError::NotANumber => "amount_invalid",
            };
            errors.push(field, code, format!("{e}."));
            None
        }
    }
}

/// The consumer's details as entered; `new_record` when they make a new consumer record (the
/// name is then required).
pub(crate) fn consumer_details(
    errors: &mut FieldErrors,
    c: &ConsumerInput,
    new_record: bool,
) -> NewConsumer {
    let name = if new_record {
        v::required_text(errors, "consumer.name", c.name.as_deref(), v::NAME_MAX)
    } else {
        v::optional_text(errors, "consumer.name", c.name.as_deref(), v::NAME_MAX)
    }
    .unwrap_or_default();
    let email = c
        .email
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|e| v::email(errors, "consumer.email", e));
    let phone = c
        .phone
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|p| v::phone(errors, "consumer.phone", p));
    let mut address = Address::default();
    if let Some(a) = &c.address {
        address.line1 = v::optional_text(
            errors,
            "consumer.address.line1",
            a.line1.as_deref(),
            v::SHORT_MAX,
        );
        address.line2 = v::optional_text(
            errors,
            "consumer.address.line2",
            a.line2.as_deref(),
            v::SHORT_MAX,
        );
        address.city = v::optional_text(errors, "consumer.address.city", a.city.as_deref(), 100);
        address.state = a
            .state
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| v::state(errors, "consumer.address.state", s));
        address.zip = a
            .zip
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|z| v::zip(errors, "consumer.address.zip", z));
    }
    let account_number = c
        .account_number
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|a| v::account_number(errors, "consumer.account_number", a));
    NewConsumer {
        name,
        phone,
        email,
        address,
        preferred_language: c.preferred_language,
        account_number,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// A transition's name from `GET /cases/{reference}/lifecycle` or `GET /lifecycles`.
    pub transition: String,
    /// The values the transition requires or accepts: dates as `YYYY-MM-DD`, amounts as
    /// `125.40`, choices by their word.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl App {
    async fn lookup_category(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        path: &str,
    ) -> AppResult<Option<i64>> {
        Ok(self
            .lookup_category_record(errors, field, path)
            .await?
            .map(|c| c.id))
    }

    /// A category named by its path: it must exist (the problem is recorded on `field`).
    pub(crate) async fn lookup_category_record(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        path: &str,
    ) -> AppResult<Option<Category>> {
        let Some(path) = v::lookup_key(errors, field, path, 1000) else {
            return Ok(None);
        };
        match self.store.category_by_path(path).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => {
                errors.push(
                    field,
                    "unknown_category",
                    "No such category; see /api/v1/categories.",
                );
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn lookup_company(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        id: i64,
    ) -> AppResult<Option<Company>> {
        match self.store.company(id).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => {
                errors.push(
                    field,
                    "unknown_company",
                    "No such company; see /api/v1/companies.",
                );
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A consumer that staff chose: it must exist; a record merged into another stands for the one kept.
    async fn lookup_consumer(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        id: i64,
    ) -> AppResult<Option<i64>> {
        let mut id = id;
        for _ in 0..8 {
            match self.store.consumer(id).await {
                Ok(c) => match c.merged_into {
                    Some(kept) => id = kept,
                    None => return Ok(Some(c.id)),
                },
                Err(StoreError::NotFound) => break,
                Err(e) => return Err(e.into()),
            }
        }
        errors.push(
            field,
            "unknown_consumer",
            "No such consumer; see /api/v1/consumers.",
        );
        Ok(None)
    }

    pub(crate) async fn lookup_unit(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        code: &str,
    ) -> AppResult<Option<i64>> {
        let Some(code) = v::lookup_key(errors, field, code, 64) else {
            return Ok(None);
        };
        match self.store.unit_by_code(code).await {
            Ok(u) => Ok(Some(u.id)),
            Err(StoreError::NotFound) => {
                errors.push(field, "unknown_unit", "No such unit; see /api/v1/units.");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn lookup_staff(
        &self,
        errors: &mut FieldErrors,
        field: &str,
        username: &str,
    ) -> AppResult<Option<i64>> {
        let Some(username) = v::lookup_key(errors, field, username, 64) else {
            return Ok(None);
        };
        match self.store.credentials(username).await {
            Ok(c) if c.user.active && c.user.role.works_cases() => Ok(Some(c.user.id)),
            Ok(_) | Err(StoreError::NotFound) => {
                errors.push(
                    field,
                    "unknown_user",
                    "No active staff member who works cases has that username.",
                );
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Validates a new case and opens it: the one intake behind the API, the intake screen and
    /// the public portal. Returns the case and whether it was created now (false: the same
    /// idempotency key and request were seen before, and the first case is returned).
    pub async fn open_case(
        &self,
        by: Intake<'_>,
        b: CreateCase,
        idempotency: Option<&IdempotencyKey>,
    ) -> AppResult<(Case, bool)> {
        self.open_case_carrying(by, b, idempotency, &[]).await
    }

    /// Opens a case that also keeps clocks carried over from another case, each due on the day
    /// it was due there (`(clock name, due date)`; those its lifecycle does not know are left).
    pub async fn open_case_carrying(
        &self,
        by: Intake<'_>,
        b: CreateCase,
        idempotency: Option<&IdempotencyKey>,
        carried: &[(String, jiff::civil::Date)],
    ) -> AppResult<(Case, bool)> {
        let (actor, staff) = match by {
            Intake::Staff(p) => {
                p.require(Permission::CaseCreate)?;
                (p.actor(), Some(p))
            }
            Intake::Portal | Intake::Mail { .. } => (
                if matches!(by, Intake::Portal) {
                    portal_actor()
                } else {
                    mail_actor()
                },
                None,
            ),
        };
        let inbound_mail = match by {
            Intake::Mail { inbound } => Some(inbound),
            _ => None,
        };
        let actor = &actor;
        let mut errors = FieldErrors::new();
        let description = v::required_text(
            &mut errors,
            "description",
            b.description.as_deref(),
            v::DESCRIPTION_MAX,
        )
        .unwrap_or_default();
        let chosen = match b.consumer_id {
            None => None,
            Some(_) if staff.is_none_or(|s| !s.user.role.allows(Permission::ConsumerRead)) => {
                errors.push(
                    "consumer_id",
                    "not_allowed",
                    "Only staff who may see consumers choose an existing consumer.",
                );
                None
            }
            Some(id) => self.lookup_consumer(&mut errors, "consumer_id", id).await?,
        };
        let new_consumer = match (&b.consumer, b.consumer_id) {
            (Some(c), None) => consumer_details(&mut errors, c, true),
            (Some(c), Some(_)) => consumer_details(&mut errors, c, false),
            (None, Some(_)) => NewConsumer {
                name: String::new(),
                phone: None,
                email: None,
                address: Address::default(),
                preferred_language: None,
                account_number: None,
            },
            (None, None) => {
                errors.push(
                    "consumer",
                    "required",
                    "Give the consumer's details, or consumer_id to choose an existing consumer.",
                );
                consumer_details(&mut FieldErrors::new(), &ConsumerInput::default(), false)
            }
        };
        if b.consumer_id.is_none()
            && b.consumer.is_some()
            && new_consumer.email.is_none()
            && new_consumer.phone.is_none()
            && new_consumer.address.line1.is_none()
            && errors.0.iter().all(|e| !e.field.starts_with("consumer."))
        {
            errors.push(
                "consumer",
                "contact_required",
                "Give at least a phone number, an email or a postal address.",
            );
        }
        let amount = b
            .amount_in_dispute
            .as_ref()
            .filter(|a| !a.is_null())
            .and_then(|a| amount(&mut errors, "amount_in_dispute", a));
        let category_id = match b.category.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(p) => self.lookup_category(&mut errors, "category", p).await?,
            None => None,
        };
        let company = match b.company_id {
            Some(id) => self.lookup_company(&mut errors, "company_id", id).await?,
            None => None,
        };
        let company_id = company.as_ref().map(|c| c.id);
        let unit_id = match b.unit.as_deref() {
            Some(u) => self.lookup_unit(&mut errors, "unit", u).await?,
            None => None,
        };
        let assignee_id = match b.assignee.as_deref() {
            Some(u) => {
                if staff.is_none_or(|s| {
                    !s.user.role.allows(Permission::CaseAssign) && u != s.user.username
                }) {
                    errors.push(
                        "assignee",
                        "not_allowed",
                        "Your role may only assign a new case to yourself.",
                    );
                    None
                } else {
                    self.lookup_staff(&mut errors, "assignee", u).await?
                }
            }
            None => None,
        };
        let office = match b.office.as_deref() {
            None => self.office.clone(),
            Some(code) if v::lookup_key(&mut errors, "office", code, 32).is_none() => {
                self.office.clone()
            }
            Some(code) => match self.store.office(code.trim()).await {
                Ok(o) => o,
                Err(StoreError::NotFound) => {
                    errors.push("office", "unknown_office", "No such office.");
                    self.office.clone()
                }
                Err(e) => return Err(e.into()),
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Nobody chose a unit: the office's routing rules do, so the case lands in a queue.
        let unit_id = match unit_id {
            Some(u) => Some(u),
            None => {
                let category = b
                    .category
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty());
                self.route_new_case(&redress_domain::routing::Arrival {
                    channel: b.channel,
                    kind: b.kind,
                    category,
                    company_id,
                })
                .await?
            }
        };
        let now = self.clock.now();
        let tz = jiff::tz::TimeZone::get(&office.time_zone)
            .map_err(|e| AppError::Internal(format!("office time zone: {e}")))?;
        let year = now.to_zoned(tz).year();
        let priority = b
            .priority
            .unwrap_or(Priority::Normal)
            .max(minimum_priority(b.kind, &b.flags));
        let industry = company.as_ref().map(|c| c.industry.clone());
        let category_path = b
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let lc = self.lifecycle_for_new_case(
            b.kind,
            b.lifecycle.as_deref(),
            industry.as_deref(),
            category_path,
        )?;
        let initial = lc.current(Some(&lc.initial), Status::New);
        let new_case = NewCase {
            office: office.code.clone(),
            year,
            kind: b.kind,
            channel: b.channel,
            status: initial.status,
            stage: Some(initial.name.clone()),
            lifecycle: Some(lc.id.clone()),
            opening: lc
                .opening(now)
                .into_iter()
                .chain(
                    carried
                        .iter()
                        .filter_map(|(name, due)| lc.carried(name, now, *due)),
                )
                .collect(),
            priority,
            flags: b.flags,
            category_id,
            company_id,
            account_number: new_consumer.account_number.clone(),
            amount,
            description,
            unit_id,
            assignee_id,
            consumer_id: chosen,
            consumer: new_consumer,
            opened_at: now,
            closed_at: None,
            history: vec![],
            inbound_mail,
            source: None,
            publish_consent: b.publish_consent,
        };
        let (case, created) = self
            .store
            .create_case(actor, &new_case, idempotency)
            .await?;
        // A case staff opened with an email address is acknowledged (the portal and incoming
        // mail write their own, with the rest of what they do).
        if created && staff.is_some() {
            self.acknowledge_opening(&case).await;
        }
        // Staff get the case as their role may see it; the portal's case stays whole (it writes
        // the consumer's acknowledgement) and is never shown as it is.
        let case = match staff {
            Some(p) => self.case_for(p.audience(), case),
            None => case,
        };
        Ok((case, created))
    }

    /// The lifecycle a new case follows: the one asked for (it must be one of the kind's), else
    /// the one the company's industry or the category calls for, else the kind's general one.
    pub fn lifecycle_for_new_case(
        &self,
        kind: CaseKind,
        asked: Option<&str>,
        industry: Option<&str>,
        category: Option<&str>,
    ) -> AppResult<&redress_domain::lifecycle::Lifecycle> {
        match asked.map(str::trim).filter(|a| !a.is_empty()) {
            Some(id) => self
                .lifecycles
                .by_id(id)
                .filter(|l| l.kind == kind)
                .ok_or_else(|| {
                    AppError::field(
                        "lifecycle",
                        "unknown_lifecycle",
                        "Choose one of the lifecycles of the case's kind (GET /api/v1/lifecycles).",
                    )
                }),
            None => self
                .lifecycles
                .choose(kind, industry, category)
                .ok_or_else(|| AppError::Internal(format!("no lifecycle for {kind}"))),
        }
    }

    /// Reads a case for a person (the view of personal data is audited), as their role may see it.
    pub async fn read_case(&self, person: &Person, reference: &str) -> AppResult<Case> {
        person.require(Permission::CaseRead)?;
        let reference = case_reference(reference)?;
        let with_pii = person.user.role.sees_consumer_details();
        let now = self.clock.now();
        let case = self
            .store
            .case(&person.actor(), &reference, person.scope(), with_pii, now)
            .await?;
        if !with_pii {
            crate::audit::case_viewed(self, &person.actor(), &reference, now).await?;
        }
        Ok(self.case_for(person.audience(), case))
    }

    /// Changes a case's details, if it is still at version `expected`.
    pub async fn change_case(
        &self,
        person: &Person,
        reference: &str,
        expected: i64,
        b: PatchCase,
    ) -> AppResult<Case> {
        person.require(Permission::CaseUpdate)?;
        let reference = case_reference(reference)?;
        let mut errors = FieldErrors::new();
        let mut patch = CasePatch {
            priority: b.priority,
            flags: b.flags,
            ..CasePatch::default()
        };
        if let Some(d) = &b.description {
            patch.description =
                v::required_text(&mut errors, "description", Some(d), v::DESCRIPTION_MAX);
        }
        if let Some(c) = &b.category {
            patch.category_id = Some(match c.as_deref().filter(|c| !c.trim().is_empty()) {
                Some(p) => self.lookup_category(&mut errors, "category", p).await?,
                None => None,
            });
        }
        if let Some(c) = b.company_id {
            patch.company_id = Some(match c {
                Some(id) => self
                    .lookup_company(&mut errors, "company_id", id)
                    .await?
                    .map(|c| c.id),
                None => None,
            });
        }
        if let Some(a) = &b.account_number {
            patch.account_number = Some(
                a.as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .and_then(|s| v::account_number(&mut errors, "account_number", s)),
            );
        }
        if let Some(a) = &b.amount_in_dispute {
            patch.amount = Some(
                a.as_ref()
                    .filter(|x| !x.is_null())
                    .and_then(|x| amount(&mut errors, "amount_in_dispute", x)),
            );
        }
        AppError::unless_empty(errors)?;
        if patch.is_empty() {
            return Err(AppError::field(
                "body",
                "empty_patch",
                "Give at least one field to change.",
            ));
        }
        let case = self
            .store
            .update_case(
                &person.actor(),
                &reference,
                expected,
                &patch,
                self.clock.now(),
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }

    /// An RFC 3339 instant, or a date (the start of that day in the office's time zone).
    pub(crate) fn parse_instant(&self, s: &str) -> Option<jiff::Timestamp> {
        if let Ok(t) = s.parse::<jiff::Timestamp>() {
            return Some(t);
        }
        let d = s.parse::<jiff::civil::Date>().ok()?;
        let tz = jiff::tz::TimeZone::get(&self.office.time_zone).ok()?;
        d.to_zoned(tz).ok().map(|z| z.timestamp())
    }

    /// Assigns a case to a unit and/or a staff member (absent keeps, `null` clears).
    pub async fn assign_case(
        &self,
        person: &Person,
        reference: &str,
        expected: Option<i64>,
        b: AssignInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseAssign)?;
        let reference = case_reference(reference)?;
        let mut errors = FieldErrors::new();
        let unit_id = match &b.unit {
            Some(Some(code)) => Some(self.lookup_unit(&mut errors, "unit", code).await?),
            Some(None) => Some(None),
            None => None,
        };
        let assignee_id = match &b.assignee {
            Some(Some(name)) => Some(self.lookup_staff(&mut errors, "assignee", name).await?),
            Some(None) => Some(None),
            None => None,
        };
        if b.unit.is_none() && b.assignee.is_none() {
            errors.push(
                "body",
                "empty_assignment",
                "Give a unit, an assignee or both.",
            );
        }
        AppError::unless_empty(errors)?;
        let case = self
            .store
            .assign(
                &person.actor(),
                &reference,
                expected,
                unit_id,
                assignee_id,
                self.clock.now(),
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }

    /// Whether this person may assign cases to themselves: those who assign always; people who
    /// work cases unless the office turned "Assign to me" off.
    pub fn may_take_cases(&self, person: &Person) -> bool {
        person.may(Permission::CaseAssign)
            || (person.user.role.works_cases() && self.settings.agents_take_cases)
    }

    /// "Assign to me": the person takes the case (its unit stays).
    pub async fn take_case(
        &self,
        person: &Person,
        reference: &str,
        expected: Option<i64>,
    ) -> AppResult<Case> {
        if !self.may_take_cases(person) {
            return Err(AppError::Forbidden);
        }
        let reference = case_reference(reference)?;
        let case = self
            .store
            .assign(
                &person.actor(),
                &reference,
                expected,
                None,
                Some(Some(person.user.id)),
                self.clock.now(),
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }

    /// Moves a case to another status through its lifecycle (see [`App::change_status`]).
    pub async fn set_status(
        &self,
        person: &Person,
        reference: &str,
        expected: Option<i64>,
        b: StatusInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseChangeStatus)?;
        let reference = case_reference(reference)?;
        let mut errors = FieldErrors::new();
        let reason = v::optional_text(&mut errors, "reason", b.reason.as_deref(), v::SHORT_MAX * 5);
        if b.status == Status::Merged {
            errors.push(
                "status",
                "not_allowed",
                "Use the merge endpoint to merge cases.",
            );
        }
        let closing = self
            .closing_of(
                &mut errors,
                b.root_cause.as_deref(),
                b.outcome.map(|o| o.as_str()),
            )
            .await?;
        AppError::unless_empty(errors)?;
        let case = self
            .change_status(
                person,
                &reference,
                b.status,
                reason.as_deref(),
                expected,
                &closing,
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }

    /// Takes a lifecycle step named by a person.
    pub async fn take_transition(
        &self,
        person: &Person,
        reference: &str,
        expected: Option<i64>,
        b: TransitionInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseRead)?;
        let reference = case_reference(reference)?;
        // A `root_cause` and `outcome` among the fields are the office's, unless the step has
        // fields of those names (see `App::take_step`).
        let fields: Vec<(String, String)> = b.fields.into_iter().collect();
        let case = self
            .take_step(
                crate::steps::Taker::Person(person),
                &reference,
                b.transition.trim(),
                &fields,
                expected,
                &crate::steps::Closing::default(),
            )
            .await?;
        Ok(self.case_for(person.audience(), case))
    }

    /// Where a case stands in its lifecycle, for this person, in English or Spanish.
    pub async fn case_stage(
        &self,
        person: &Person,
        reference: &str,
        spanish: bool,
    ) -> AppResult<crate::steps::CaseLifecycle> {
        person.require(Permission::CaseRead)?;
        let reference = case_reference(reference)?;
        let now = self.clock.now();
        let case = self
            .store
            .case(&person.actor(), &reference, person.scope(), false, now)
            .await?;
        let clocks = self.store.clocks(&reference, person.scope(), now).await?;
        self.describe_stage(&case, &clocks, Some(person.user.role), spanish)
            .await
    }

    /// Links two cases (related, or duplicate-of).
    pub async fn link_cases(
        &self,
        person: &Person,
        reference: &str,
        b: LinkInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseLink)?;
        let reference = case_reference(reference)?;
        let target = other_case(&reference, &b.target, "target", "linked to")?;
        let case = match self
            .store
            .link(
                &person.actor(),
                &reference,
                &target,
                b.kind,
                self.clock.now(),
            )
            .await
        {
            Err(StoreError::NotFound) if self.sees_case(person, &reference).await => {
                return Err(AppError::field(
                    "target",
                    "unknown_case",
                    "No case with that reference.",
                ));
            }
            other => other?,
        };
        Ok(self.case_for(person.audience(), case))
    }

    /// Merges a case into another; it keeps pointing at the survivor.
    pub async fn merge_case(
        &self,
        person: &Person,
        reference: &str,
        b: MergeInput,
    ) -> AppResult<Case> {
        person.require(Permission::CaseMerge)?;
        let reference = case_reference(reference)?;
        let into = other_case(&reference, &b.into, "into", "merged into")?;
        let case = match self
            .store
            .merge(&person.actor(), &reference, &into, self.clock.now())
            .await
        {
            Err(StoreError::NotFound) if self.sees_case(person, &reference).await => {
                return Err(AppError::field(
                    "into",
                    "unknown_case",
                    "No case with that reference.",
                ));
            }
            other => other?,
        };
        Ok(self.case_for(person.audience(), case))
    }

    /// Whether the person can see the case (used to tell which of two references is unknown).
    async fn sees_case(&self, person: &Person, reference: &str) -> bool {
        self.store
            .case(
                &person.actor(),
                reference,
                person.scope(),
                false,
                self.clock.now(),
            )
            .await
            .is_ok()
    }

    /// A case's deadline clocks and their state now.
    pub async fn case_clocks(&self, person: &Person, reference: &str) -> AppResult<Vec<CaseClock>> {
        person.require(Permission::CaseRead)?;
        let reference = case_reference(reference)?;
        Ok(self
            .store
            .clocks(&reference, person.scope(), self.clock.now())
            .await?)
    }

    /// Each case kind's lifecycle.
    pub fn lifecycles_for(
        &self,
        person: &Person,
    ) -> AppResult<Vec<redress_domain::lifecycle::Lifecycle>> {
        person.require(Permission::ReferenceDataRead)?;
        Ok(self.lifecycles.0.clone())
    }
}

/// The other case of a link or merge, as typed: a reference, not this case.
fn other_case(this: &str, typed: &str, field: &str, verb: &str) -> AppResult<String> {
    let other = typed
        .trim()
        .parse::<Reference>()
        .map(|r| r.to_string())
        .map_err(|_| {
            AppError::field(
                field,
                "invalid_reference",
                "A case reference such as NYC-2026-000123.",
            )
        })?;
    if other == this {
        return Err(AppError::field(
            field,
            "same_case",
            &format!("A case cannot be {verb} itself."),
        ));
    }
    Ok(other)
}
