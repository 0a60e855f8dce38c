//! The reference data cases point at: the office (its hours and closures), units and
//! their queues, companies, and the category tree.

use crate::audit::append_audit;
use crate::queries as q;
use crate::rows::{hour_of_day, instant, micros, word};
use crate::tx::{Engine, Row, Tx, args, job};
use crate::{Actor, Result, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::Role;
use redress_domain::records::*;
use redress_domain::routing::RoutingRule;

/// A unit's workload, for supervisors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitQueue {
    pub code: String,
    pub name: String,
    pub open: i64,
    pub new_unassigned: i64,
}

/// A unit's open work by age, for the supervisors' dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLoad {
    pub code: String,
    pub name: String,
    pub open: i64,
    pub new_today: i64,
    /// Open cases by days since they were opened: 0–2, 3–7, 8–30, over 30.
    pub aging: [i64; 4],
}

/// A person's load, for the supervisors' dashboard: open cases assigned to them, how many of
/// those are overdue or due soon (by their earliest running clock), and how many opened today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub unit: Option<String>,
    pub open: i64,
    pub overdue: i64,
    pub due_soon: i64,
    pub new_today: i64,
}

/// Where the dashboard's age buckets start: the start of today, and 2, 7 and 30 days ago.
#[derive(Debug, Clone, Copy)]
pub struct AgeBounds {
    pub today: Timestamp,
    pub days_2: Timestamp,
    pub days_7: Timestamp,
    pub days_30: Timestamp,
}

/// The office and what cases are filed under: units, closures, companies, categories.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn ensure_office(&self, office: &Office) -> Result<()>;
    async fn office(&self, code: &str) -> Result<Office>;
    /// Every office sharing the database, by code.
    async fn offices(&self) -> Result<Vec<Office>>;
    async fn create_unit(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        office: &str,
        at: Timestamp,
    ) -> Result<Unit>;
    async fn units(&self) -> Result<Vec<Unit>>;
    /// Records a day the office is closed (or renames it).
    async fn add_closure(
        &self,
        actor: &Actor,
        office: &str,
        day: jiff::civil::Date,
        reason: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// The office's closures, in date order.
    async fn closures(&self, office: &str) -> Result<Vec<(jiff::civil::Date, String)>>;
    /// Open and new-unassigned cases per unit.
    async fn unit_queues(&self) -> Result<Vec<UnitQueue>>;
    /// Open work per unit, new today and by age.
    async fn unit_dashboard(&self, bounds: AgeBounds) -> Result<Vec<UnitLoad>>;
    /// Every active user's load (in one unit, or all): `now` marks what is overdue, `due_by`
    /// what is due soon, `today` what is new.
    async fn agent_loads(
        &self,
        unit_id: Option<i64>,
        now: Timestamp,
        due_by: Timestamp,
        today: Timestamp,
    ) -> Result<Vec<AgentLoad>>;
    async fn unit_by_code(&self, code: &str) -> Result<Unit>;
    async fn create_company(
        &self,
        actor: &Actor,
        name: &str,
        industry: &str,
        customer_count: Option<i64>,
        at: Timestamp,
    ) -> Result<Company>;
    /// Changes a company's name, industry and customer count, audited.
    async fn change_company(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        industry: &str,
        customer_count: Option<i64>,
        at: Timestamp,
    ) -> Result<Company>;
    async fn companies(&self) -> Result<Vec<Company>>;
    async fn company(&self, id: i64) -> Result<Company>;
    async fn company_by_name(&self, name: &str) -> Result<Company>;
    /// Creates every missing level of a path (`A > B > C`) and returns the leaf.
    async fn ensure_category_path(
        &self,
        actor: &Actor,
        path: &[String],
        at: Timestamp,
    ) -> Result<Category>;
    async fn categories(&self) -> Result<Vec<Category>>;
    /// Names a category in Spanish (`None` clears it), audited.
    async fn name_category_in_spanish(
        &self,
        actor: &Actor,
        id: i64,
        name_es: Option<&str>,
        at: Timestamp,
    ) -> Result<Category>;
    async fn category_by_path(&self, path: &str) -> Result<Category>;
    /// The routing rules, in the order they are tried.
    async fn routing_rules(&self) -> Result<Vec<RoutingRule>>;
    /// Adds a routing rule (its `id` is ignored; the new one is returned), audited.
    async fn add_routing_rule(
        &self,
        actor: &Actor,
        rule: &RoutingRule,
        at: Timestamp,
    ) -> Result<RoutingRule>;
    /// Removes a routing rule, audited; `NotFound` when there is none with that id.
    async fn remove_routing_rule(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()>;
}

fn company_from(r: &Row) -> Result<Company> {
    Ok(Company {
        id: r.int("id")?,
        name: r.text("name")?,
        industry: r.text("industry")?,
        customer_count: r.opt_int("customer_count")?,
        created_at: instant(r.int("created_at")?)?,
    })
}

fn routing_rule_from(r: &Row) -> Result<RoutingRule> {
    Ok(RoutingRule {
        id: r.int("id")?,
        position: r.int("position")?,
        channel: r.opt_text("channel")?.map(|w| word(&w)).transpose()?,
        kind: r.opt_text("kind")?.map(|w| word(&w)).transpose()?,
        category: r.opt_text("category")?,
        company_id: r.opt_int("company_id")?,
        unit: r.text("unit")?,
    })
}

fn unit_from(r: &Row) -> Result<Unit> {
    Ok(Unit {
        id: r.int("id")?,
        code: r.text("code")?,
        name: r.text("name")?,
        office: r.text("office")?,
    })
}

fn category_from(r: &Row) -> Result<Category> {
    Ok(Category {
        id: r.int("id")?,
        parent_id: r.opt_int("parent_id")?,
        name: r.text("name")?,
        name_es: r.opt_text("name_es")?,
        path: r.text("path")?,
    })
}

async fn ensure_category_path(
    tx: &mut dyn Tx,
    actor: &Actor,
    path: &[String],
    at: Timestamp,
) -> Result<Category> {
    let mut parent: Option<i64> = None;
    let mut full = String::new();
    let mut leaf: Option<Category> = None;
    for name in path {
        if !full.is_empty() {
            full.push_str(CATEGORY_SEPARATOR);
        }
        full.push_str(name);
        let cat = match tx
            .optional(q::CATEGORY_BY_PATH, args![full.as_str()])
            .await?
        {
            Some(r) => category_from(&r)?,
            None => {
                let id = tx
                    .one(
                        q::INSERT_CATEGORY,
                        args![parent, name.as_str(), full.as_str()],
                    )
                    .await?
                    .int("id")?;
                append_audit(
                    tx,
                    actor,
                    "reference",
                    "category.create",
                    &format!("category:{id}"),
                    &serde_json::json!({"path": full}).to_string(),
                    at,
                )
                .await?;
                Category {
                    id,
                    parent_id: parent,
                    name: name.clone(),
                    name_es: None,
                    path: full.clone(),
                }
            }
        };
        parent = Some(cat.id);
        leaf = Some(cat);
    }
    leaf.ok_or(StoreError::NotFound)
}

/// The directory, for any engine.
fn office_row(r: &Row) -> Result<Office> {
    Ok(Office {
        code: r.text("code")?,
        name: r.text("name")?,
        time_zone: r.text("time_zone")?,
        opens_at: hour_of_day(r.int("opens_at")?)?,
        closes_at: hour_of_day(r.int("closes_at")?)?,
    })
}

#[async_trait]
impl<E: Engine> Directory for E {
    async fn change_company(
        &self,
        actor: &Actor,
        id: i64,
        name: &str,
        industry: &str,
        customer_count: Option<i64>,
        at: Timestamp,
    ) -> Result<Company> {
        let (actor, name, industry) = (actor.clone(), name.to_string(), industry.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let before = company_from(&tx.one(q::COMPANY, args![id]).await?)?;
                tx.execute(
                    q::UPDATE_COMPANY,
                    args![id, name.as_str(), industry.as_str(), customer_count],
                )
                .await?;
                let detail = serde_json::json!({
                    "from": {"name": before.name, "industry": before.industry, "customer_count": before.customer_count},
                    "to": {"name": name, "industry": industry, "customer_count": customer_count},
                })
                .to_string();
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "company.update",
                    &format!("company:{id}"),
                    &detail,
                    at,
                )
                .await?;
                company_from(&tx.one(q::COMPANY, args![id]).await?)
            })
        }))
        .await
    }

    async fn name_category_in_spanish(
        &self,
        actor: &Actor,
        id: i64,
        name_es: Option<&str>,
        at: Timestamp,
    ) -> Result<Category> {
        let (actor, name_es) = (actor.clone(), name_es.map(str::to_string));
        self.write(job(move |tx| {
            Box::pin(async move {
                let before = category_from(&tx.one(q::CATEGORY, args![id]).await?)?;
                tx.execute(q::NAME_CATEGORY_ES, args![id, &name_es]).await?;
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "category.update",
                    &format!("category:{id}"),
                    &serde_json::json!({"name_es": {"from": before.name_es, "to": name_es}})
                        .to_string(),
                    at,
                )
                .await?;
                category_from(&tx.one(q::CATEGORY, args![id]).await?)
            })
        }))
        .await
    }

    async fn ensure_office(&self, o: &Office) -> Result<()> {
        let o = o.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(
                    q::UPSERT_OFFICE,
                    args![
                        o.code,
                        o.name,
                        o.time_zone,
                        i64::from(o.closes_at),
                        i64::from(o.opens_at)
                    ],
                )
                .await
                .map(|_| ())
            })
        }))
        .await
    }

    async fn office(&self, code: &str) -> Result<Office> {
        let code = code.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { office_row(&tx.one(q::OFFICE, args![code]).await?) })
        }))
        .await
    }

    async fn offices(&self) -> Result<Vec<Office>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::OFFICES, args![])
                    .await?
                    .iter()
                    .map(office_row)
                    .collect()
            })
        }))
        .await
    }

    async fn create_unit(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        office: &str,
        at: Timestamp,
    ) -> Result<Unit> {
        let (actor, code, name, office) = (
            actor.clone(),
            code.to_string(),
            name.to_string(),
            office.to_string(),
        );
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = tx
                    .one(q::INSERT_UNIT, args![&code, &name, &office])
                    .await?
                    .int("id")?;
                let detail =
                    serde_json::json!({"code": code, "name": name, "office": office}).to_string();
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "unit.create",
                    &format!("unit:{code}"),
                    &detail,
                    at,
                )
                .await?;
                Ok(Unit {
                    id,
                    code,
                    name,
                    office,
                })
            })
        }))
        .await
    }

    async fn units(&self) -> Result<Vec<Unit>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::UNITS, args![])
                    .await?
                    .iter()
                    .map(unit_from)
                    .collect()
            })
        }))
        .await
    }

    async fn add_closure(
        &self,
        actor: &Actor,
        office: &str,
        day: jiff::civil::Date,
        reason: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (actor, office, reason) = (actor.clone(), office.to_string(), reason.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                tx.execute(
                    q::ADD_CLOSURE,
                    args![
                        office.as_str(),
                        day.to_string(),
                        reason.as_str(),
                        micros(at)
                    ],
                )
                .await?;
                let detail =
                    serde_json::json!({"office": office, "day": day.to_string(), "reason": reason})
                        .to_string();
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "office.closure",
                    &format!("office:{office}"),
                    &detail,
                    at,
                )
                .await
            })
        }))
        .await
    }

    async fn closures(&self, office: &str) -> Result<Vec<(jiff::civil::Date, String)>> {
        let office = office.to_string();
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(q::CLOSURES, args![office])
                    .await?
                    .iter()
                    .map(|r| {
                        let day = r.text("day")?;
                        Ok((
                            day.parse()
                                .map_err(|_| StoreError::Corrupt(format!("closure day {day}")))?,
                            r.text("reason")?,
                        ))
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn unit_queues(&self) -> Result<Vec<UnitQueue>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::UNIT_QUEUES, args![])
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(UnitQueue {
                            code: r.text("code")?,
                            name: r.text("name")?,
                            open: r.int("open_cases")?,
                            new_unassigned: r.int("new_unassigned")?,
                        })
                    })
                    .collect()
            })
        }))
        .await
    }

    async fn unit_dashboard(&self, b: AgeBounds) -> Result<Vec<UnitLoad>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(
                    q::UNIT_DASHBOARD,
                    args![
                        micros(b.today),
                        micros(b.days_2),
                        micros(b.days_7),
                        micros(b.days_30)
                    ],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(UnitLoad {
                        code: r.text("code")?,
                        name: r.text("name")?,
                        open: r.int("open_cases")?,
                        new_today: r.int("new_today")?,
                        aging: [
                            r.int("age_0_2")?,
                            r.int("age_3_7")?,
                            r.int("age_8_30")?,
                            r.int("age_over_30")?,
                        ],
                    })
                })
                .collect()
            })
        }))
        .await
    }

    async fn agent_loads(
        &self,
        unit_id: Option<i64>,
        now: Timestamp,
        due_by: Timestamp,
        today: Timestamp,
    ) -> Result<Vec<AgentLoad>> {
        self.read(job(move |tx| {
            Box::pin(async move {
                tx.query(
                    q::AGENT_LOADS,
                    args![micros(now), micros(due_by), micros(today), unit_id],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(AgentLoad {
                        user_id: r.int("id")?,
                        username: r.text("username")?,
                        name: r.text("display_name")?,
                        role: word(&r.text("role")?)?,
                        unit: r.opt_text("unit_code")?,
                        open: r.int("open_cases")?,
                        overdue: r.int("overdue")?,
                        due_soon: r.int("due_soon")?,
                        new_today: r.int("new_today")?,
                    })
                })
                .collect()
            })
        }))
        .await
    }

    async fn unit_by_code(&self, code: &str) -> Result<Unit> {
        let code = code.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { unit_from(&tx.one(q::UNIT_BY_CODE, args![code]).await?) })
        }))
        .await
    }

    async fn create_company(
        &self,
        actor: &Actor,
        name: &str,
        industry: &str,
        customer_count: Option<i64>,
        at: Timestamp,
    ) -> Result<Company> {
        let (actor, name, industry) = (actor.clone(), name.to_string(), industry.to_string());
        self.write(job(move |tx| {
            Box::pin(async move {
                let id = tx.one(q::INSERT_COMPANY, args![&name, &industry, customer_count, micros(at)]).await?.int("id")?;
                let detail = serde_json::json!({"name": name, "industry": industry, "customer_count": customer_count}).to_string();
                append_audit(tx, &actor, "reference", "company.create", &format!("company:{id}"), &detail, at).await?;
                Ok(Company { id, name, industry, customer_count, created_at: at })
            })
        }))
        .await
    }

    async fn companies(&self) -> Result<Vec<Company>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::COMPANIES, args![])
                    .await?
                    .iter()
                    .map(company_from)
                    .collect()
            })
        }))
        .await
    }

    async fn company(&self, id: i64) -> Result<Company> {
        self.read(job(move |tx| {
            Box::pin(async move { company_from(&tx.one(q::COMPANY, args![id]).await?) })
        }))
        .await
    }

    async fn company_by_name(&self, name: &str) -> Result<Company> {
        let name = name.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { company_from(&tx.one(q::COMPANY_BY_NAME, args![name]).await?) })
        }))
        .await
    }

    async fn ensure_category_path(
        &self,
        actor: &Actor,
        path: &[String],
        at: Timestamp,
    ) -> Result<Category> {
        let (actor, path) = (actor.clone(), path.to_vec());
        self.write(job(move |tx| {
            Box::pin(async move { ensure_category_path(tx, &actor, &path, at).await })
        }))
        .await
    }

    async fn categories(&self) -> Result<Vec<Category>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::CATEGORIES, args![])
                    .await?
                    .iter()
                    .map(category_from)
                    .collect()
            })
        }))
        .await
    }

    async fn category_by_path(&self, path: &str) -> Result<Category> {
        let path = path.to_string();
        self.read(job(move |tx| {
            Box::pin(async move { category_from(&tx.one(q::CATEGORY_BY_PATH, args![path]).await?) })
        }))
        .await
    }

    async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        self.read(job(|tx| {
            Box::pin(async move {
                tx.query(q::ROUTING_RULES, args![])
                    .await?
                    .iter()
                    .map(routing_rule_from)
                    .collect()
            })
        }))
        .await
    }

    async fn add_routing_rule(
        &self,
        actor: &Actor,
        rule: &RoutingRule,
        at: Timestamp,
    ) -> Result<RoutingRule> {
        let (actor, rule) = (actor.clone(), rule.clone());
        self.write(job(move |tx| {
            Box::pin(async move {
                let unit_id = tx
                    .optional(q::UNIT_BY_CODE, args![&rule.unit])
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .int("id")?;
                let id = tx
                    .one(
                        q::INSERT_ROUTING_RULE,
                        args![
                            rule.position,
                            rule.channel.map(|c| c.as_str()),
                            rule.kind.map(|k| k.as_str()),
                            &rule.category,
                            rule.company_id,
                            unit_id,
                            micros(at)
                        ],
                    )
                    .await?
                    .int("id")?;
                let saved = RoutingRule { id, ..rule };
                let detail = serde_json::to_string(&saved)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "routing.add",
                    &format!("routing:{id}"),
                    &detail,
                    at,
                )
                .await?;
                Ok(saved)
            })
        }))
        .await
    }

    async fn remove_routing_rule(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<()> {
        let actor = actor.clone();
        self.write(job(move |tx| {
            Box::pin(async move {
                if tx.execute(q::DELETE_ROUTING_RULE, args![id]).await? == 0 {
                    return Err(StoreError::NotFound);
                }
                append_audit(
                    tx,
                    &actor,
                    "reference",
                    "routing.remove",
                    &format!("routing:{id}"),
                    "{}",
                    at,
                )
                .await
            })
        }))
        .await
    }
}
