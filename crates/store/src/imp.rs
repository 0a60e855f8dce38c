//! The store's behaviour, written once and expanded for each backend by [`impl_store!`]: the
//! SQL text is shared (see `queries.rs`), only the connection types differ.

use crate::*;
use redress_domain::audit::{AuditContent, GENESIS, chain_hash};
use std::str::FromStr;

#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub reference: String,
    pub office: String,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub flags: String,
    pub category_path: Option<String>,
    pub consumer_id: i64,
    pub company_id: Option<i64>,
    pub company_name: Option<String>,
    pub account_number: Option<String>,
    pub amount_cents: Option<i64>,
    pub description: String,
    pub unit_code: Option<String>,
    pub assignee: Option<String>,
    pub merged_into: Option<String>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    pub id: i64,
    pub version: i64,
    pub status: String,
    pub priority: String,
    pub flags: String,
    pub category_id: Option<i64>,
    pub company_id: Option<i64>,
    pub account_number: Option<String>,
    pub amount_cents: Option<i64>,
    pub description: String,
    pub unit_id: Option<i64>,
    pub assignee_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub company_id: Option<i64>,
    pub active: bool,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredRow {
    pub id: i64,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConsumerRow {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub preferred_language: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct EntryRow {
    pub seq: i64,
    pub entry_type: String,
    pub body: String,
    pub visibility: String,
    pub data: String,
    pub author: Option<String>,
    pub at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub chain: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct LinkRow {
    pub kind: String,
    pub reference: String,
    pub direction: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub industry: String,
    pub customer_count: Option<i64>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct UnitRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub office: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CategoryRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub path: String,
}

pub(crate) fn word<T: FromStr>(s: &str) -> Result<T> {
    T::from_str(s).map_err(|_| StoreError::Corrupt(format!("unknown stored value {s:?}")))
}

pub(crate) fn money_text(cents: Option<i64>) -> Option<String> {
    cents.and_then(Money::from_cents).map(|m| m.to_string())
}

impl CaseRow {
    pub(crate) fn summary(&self) -> Result<CaseSummary> {
        Ok(CaseSummary {
            reference: self.reference.clone(),
            kind: word(&self.kind)?,
            channel: word(&self.channel)?,
            status: word(&self.status)?,
            priority: word(&self.priority)?,
            flags: flags_from_text(&self.flags),
            category: self.category_path.clone(),
            company: self.company_ref(),
            unit: self.unit_code.clone(),
            assignee: self.assignee.clone(),
            opened_at: instant(self.opened_at)?,
            updated_at: instant(self.updated_at)?,
            version: self.version,
        })
    }

    fn company_ref(&self) -> Option<CompanyRef> {
        match (self.company_id, &self.company_name) {
            (Some(id), Some(name)) => Some(CompanyRef {
                id,
                name: name.clone(),
            }),
            _ => None,
        }
    }

    pub(crate) fn into_case(
        self,
        consumer: Option<Consumer>,
        links: Vec<CaseLink>,
    ) -> Result<Case> {
        Ok(Case {
            kind: word(&self.kind)?,
            channel: word(&self.channel)?,
            status: word(&self.status)?,
            priority: word(&self.priority)?,
            flags: flags_from_text(&self.flags),
            company: self.company_ref(),
            amount_in_dispute: money_text(self.amount_cents),
            opened_at: instant(self.opened_at)?,
            closed_at: self.closed_at.map(instant).transpose()?,
            updated_at: instant(self.updated_at)?,
            reference: self.reference,
            office: self.office,
            category: self.category_path,
            consumer_id: self.consumer_id,
            consumer,
            account_number: self.account_number,
            description: self.description,
            unit: self.unit_code,
            assignee: self.assignee,
            merged_into: self.merged_into,
            links,
            version: self.version,
        })
    }
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.id,
            role: word(&self.role)?,
            username: self.username,
            display_name: self.display_name,
            unit: self.unit_code,
            company_id: self.company_id,
            active: self.active,
            created_at: instant(self.created_at)?,
        })
    }
}

impl ConsumerRow {
    pub(crate) fn into_consumer(self, account_numbers: Vec<String>) -> Result<Consumer> {
        Ok(Consumer {
            id: self.id,
            name: self.name,
            phone: self.phone,
            email: self.email,
            address: Address {
                line1: self.address_line1,
                line2: self.address_line2,
                city: self.city,
                state: self.state,
                zip: self.zip,
            },
            preferred_language: word(&self.preferred_language)?,
            account_numbers,
            created_at: instant(self.created_at)?,
        })
    }
}

impl EntryRow {
    pub(crate) fn into_entry(self) -> Result<TimelineEntry> {
        Ok(TimelineEntry {
            seq: self.seq,
            entry_type: word(&self.entry_type)?,
            visibility: word(&self.visibility)?,
            data: serde_json::from_str(&self.data)
                .map_err(|e| StoreError::Corrupt(format!("timeline data: {e}")))?,
            body: self.body,
            author: self.author,
            at: instant(self.at)?,
        })
    }
}

impl LinkRow {
    pub(crate) fn into_link(self) -> Result<CaseLink> {
        Ok(CaseLink {
            kind: word(&self.kind)?,
            reference: self.reference,
            direction: self.direction,
        })
    }
}

impl CompanyRow {
    pub(crate) fn into_company(self) -> Result<Company> {
        Ok(Company {
            id: self.id,
            name: self.name,
            industry: self.industry,
            customer_count: self.customer_count,
            created_at: instant(self.created_at)?,
        })
    }
}

impl From<UnitRow> for Unit {
    fn from(r: UnitRow) -> Unit {
        Unit {
            id: r.id,
            code: r.code,
            name: r.name,
            office: r.office,
        }
    }
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Category {
        Category {
            id: r.id,
            parent_id: r.parent_id,
            name: r.name,
            path: r.path,
        }
    }
}

impl AuditRow {
    pub(crate) fn into_record(self) -> Result<AuditRecord> {
        Ok(AuditRecord {
            id: self.id,
            chain: self.chain,
            seq: self.seq,
            at: instant(self.at)?,
            actor: self.actor,
            action: self.action,
            subject: self.subject,
            detail: self.detail,
            hash: self.hash,
        })
    }
}

/// Maps unique-constraint violations to [`StoreError::Duplicate`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Duplicate(d.constraint().unwrap_or("unique").to_string());
    }
    if matches!(e, sqlx::Error::RowNotFound) {
        return StoreError::NotFound;
    }
    StoreError::Database(e)
}

/// Checks the audit rows of one page against the chain so far. Returns the first break.
pub(crate) struct ChainWalker {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
    pub rows: i64,
    pub chains: i64,
    pub heads: std::collections::HashMap<String, (i64, String)>,
}

impl ChainWalker {
    pub(crate) fn new() -> ChainWalker {
        ChainWalker {
            chain: String::new(),
            seq: 0,
            hash: GENESIS.into(),
            rows: 0,
            chains: 0,
            heads: Default::default(),
        }
    }

    fn broken(r: &AuditRow, reason: String) -> AuditVerdict {
        AuditVerdict::Broken {
            row_id: r.id,
            chain: r.chain.clone(),
            seq: r.seq,
            reason,
        }
    }

    /// The end of a chain: its head must match the last row seen.
    fn close_chain(&self) -> Option<AuditVerdict> {
        if self.chain.is_empty() {
            return None;
        }
        match self.heads.get(&self.chain) {
            Some((seq, hash)) if *seq == self.seq && *hash == self.hash => None,
            _ => Some(AuditVerdict::Broken {
                row_id: 0,
                chain: self.chain.clone(),
                seq: self.seq,
                reason: "the chain's recorded head does not match its last row (rows removed?)"
                    .into(),
            }),
        }
    }

    pub(crate) fn step(&mut self, r: &AuditRow) -> Option<AuditVerdict> {
        if r.chain != self.chain {
            if let Some(v) = self.close_chain() {
                return Some(v);
            }
            self.chain = r.chain.clone();
            self.seq = 0;
            self.hash = GENESIS.into();
            self.chains += 1;
        }
        if r.seq != self.seq + 1 {
            return Some(Self::broken(
                r,
                format!("expected position {}, found {}", self.seq + 1, r.seq),
            ));
        }
        if r.prev_hash != self.hash {
            return Some(Self::broken(
                r,
                "previous-hash link does not match the row before it".into(),
            ));
        }
        let content = AuditContent {
            chain: &r.chain,
            seq: r.seq,
            at_micros: r.at,
            actor: &r.actor,
            action: &r.action,
            subject: &r.subject,
            detail: &r.detail,
        };
        let expected = chain_hash(&r.prev_hash, &content);
        if expected != r.hash {
            return Some(Self::broken(
                r,
                "content does not match its hash (row edited)".into(),
            ));
        }
        self.seq = r.seq;
        self.hash = r.hash.clone();
        self.rows += 1;
        None
    }

    pub(crate) fn finish(&mut self) -> Option<AuditVerdict> {
        if let Some(v) = self.close_chain() {
            return Some(v);
        }
        if self.heads.len() as i64 != self.chains {
            return Some(AuditVerdict::Broken {
                row_id: 0,
                chain: String::new(),
                seq: 0,
                reason: format!(
                    "{} chain heads recorded but {} chains have rows",
                    self.heads.len(),
                    self.chains
                ),
            });
        }
        None
    }
}

/// Expands the [`Store`] implementation for one backend. `$Store` must have fields `write`
/// and `read` (pools), and a `const BACKEND: &str`.
macro_rules! impl_store {
    ($Store:ident, $Db:ty, $migrator:path) => {
        use $crate::imp::*;
        use $crate::queries as q;
        use redress_domain::audit::{AuditContent, chain_hash};
        use sqlx::Row as _;

        type Tx = sqlx::Transaction<'static, $Db>;

        impl $Store {
            async fn append_audit(tx: &mut Tx, actor: &Actor, chain: &str, action: &str, subject: &str, detail: &str, at: Timestamp) -> Result<()> {
                sqlx::query(q::ENSURE_CHAIN).bind(chain).bind(redress_domain::audit::GENESIS).execute(&mut **tx).await.map_err(db_err)?;
                let row = sqlx::query(q::ADVANCE_CHAIN).bind(chain).fetch_one(&mut **tx).await.map_err(db_err)?;
                let seq: i64 = row.try_get(0)?;
                let prev: String = row.try_get(1)?;
                Self::write_audit_row(tx, actor, chain, seq, &prev, action, subject, detail, at, false).await
            }

            /// The first row of a new chain (a case being created).
            async fn start_chain(tx: &mut Tx, actor: &Actor, chain: &str, action: &str, subject: &str, detail: &str, at: Timestamp) -> Result<()> {
                Self::write_audit_row(tx, actor, chain, 1, redress_domain::audit::GENESIS, action, subject, detail, at, true).await
            }

            #[allow(clippy::too_many_arguments)]
            async fn write_audit_row(tx: &mut Tx, actor: &Actor, chain: &str, seq: i64, prev: &str, action: &str, subject: &str, detail: &str, at: Timestamp, new_chain: bool) -> Result<()> {
                let at = micros(at);
                let content = AuditContent { chain, seq, at_micros: at, actor: &actor.username, action, subject, detail };
                let hash = chain_hash(prev, &content);
                if new_chain {
                    sqlx::query(q::NEW_CHAIN).bind(chain).bind(&hash).execute(&mut **tx).await.map_err(db_err)?;
                } else {
                    sqlx::query(q::SET_CHAIN_HASH).bind(chain).bind(&hash).execute(&mut **tx).await.map_err(db_err)?;
                }
                sqlx::query(q::INSERT_AUDIT)
                    .bind(chain).bind(seq).bind(at).bind(&actor.username).bind(action).bind(subject).bind(detail).bind(prev).bind(&hash)
                    .execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            async fn insert_entry<'c, E>(ex: E, case_id: i64, e: &NewEntry) -> Result<i64>
            where
                E: sqlx::Executor<'c, Database = $Db>,
            {
                let seq: i64 = sqlx::query_scalar(q::INSERT_ENTRY)
                    .bind(case_id).bind(e.entry_type.as_str()).bind(&e.body).bind(e.visibility.as_str())
                    .bind(e.data.to_string()).bind(e.author_id).bind(micros(e.at))
                    .fetch_one(ex).await.map_err(db_err)?;
                Ok(seq)
            }

            async fn load_consumer<'c, E>(ex: E, id: i64) -> Result<Consumer>
            where
                E: sqlx::Executor<'c, Database = $Db> + Copy,
            {
                let row: ConsumerRow = sqlx::query_as(q::CONSUMER).bind(id).fetch_optional(ex).await.map_err(db_err)?.ok_or(StoreError::NotFound)?;
                let accounts: Vec<String> = sqlx::query_scalar(q::CONSUMER_ACCOUNTS).bind(id).fetch_all(ex).await.map_err(db_err)?;
                row.into_consumer(accounts)
            }

            async fn load_case_tx(tx: &mut Tx, id: i64, with_consumer: bool) -> Result<Case> {
                let row: CaseRow = sqlx::query_as(q::CASE_BY_ID).bind(id).fetch_optional(&mut **tx).await.map_err(db_err)?.ok_or(StoreError::NotFound)?;
                let consumer = if with_consumer {
                    let c: ConsumerRow = sqlx::query_as(q::CONSUMER).bind(row.consumer_id).fetch_one(&mut **tx).await.map_err(db_err)?;
                    let accounts: Vec<String> = sqlx::query_scalar(q::CONSUMER_ACCOUNTS).bind(row.consumer_id).fetch_all(&mut **tx).await.map_err(db_err)?;
                    Some(c.into_consumer(accounts)?)
                } else {
                    None
                };
                let links: Vec<LinkRow> = sqlx::query_as(q::CASE_LINKS).bind(id).fetch_all(&mut **tx).await.map_err(db_err)?;
                row.into_case(consumer, links.into_iter().map(LinkRow::into_link).collect::<Result<_>>()?)
            }

            async fn change_row(tx: &mut Tx, reference: &str, scope: Scope) -> Result<ChangeRow> {
                sqlx::query_as(q::CASE_FOR_CHANGE).bind(reference).bind(scope.company_id)
                    .fetch_optional(&mut **tx).await.map_err(db_err)?.ok_or(StoreError::NotFound)
            }

            fn check_version(row: &ChangeRow, expected: Option<i64>) -> Result<()> {
                match expected {
                    Some(v) if v != row.version => Err(StoreError::Stale { current: row.version }),
                    _ => Ok(()),
                }
            }

            async fn match_consumer(tx: &mut Tx, c: &NewConsumer) -> Result<Option<i64>> {
                if let Some(acct) = &c.account_number {
                    let id: Option<i64> = sqlx::query_scalar(q::CONSUMERS_BY_ACCOUNT).bind(acct).bind(1i64).fetch_optional(&mut **tx).await.map_err(db_err)?;
                    if id.is_some() { return Ok(id); }
                }
                if let Some(email) = &c.email {
                    let id: Option<i64> = sqlx::query_scalar(q::CONSUMERS_BY_EMAIL).bind(email).bind(1i64).fetch_optional(&mut **tx).await.map_err(db_err)?;
                    if id.is_some() { return Ok(id); }
                }
                if let Some(phone) = &c.phone {
                    let id: Option<i64> = sqlx::query_scalar(q::CONSUMERS_BY_PHONE).bind(phone).bind(1i64).fetch_optional(&mut **tx).await.map_err(db_err)?;
                    if id.is_some() { return Ok(id); }
                }
                Ok(None)
            }
        }

        #[async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> Result<()> {
                $migrator.run(&self.write).await?;
                Ok(())
            }

            async fn schema_versions(&self) -> Result<Vec<i64>> {
                Ok(sqlx::query_scalar(q::SCHEMA_VERSIONS).fetch_all(&self.read).await?)
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query(q::PING).execute(&self.read).await?;
                Ok(())
            }

            async fn ensure_office(&self, o: &Office) -> Result<()> {
                sqlx::query(q::UPSERT_OFFICE).bind(&o.code).bind(&o.name).bind(&o.time_zone).execute(&self.write).await.map_err(db_err)?;
                Ok(())
            }

            async fn office(&self, code: &str) -> Result<Office> {
                let row = sqlx::query(q::OFFICE).bind(code).fetch_optional(&self.read).await?.ok_or(StoreError::NotFound)?;
                Ok(Office { code: row.try_get(0)?, name: row.try_get(1)?, time_zone: row.try_get(2)? })
            }

            async fn create_unit(&self, actor: &Actor, code: &str, name: &str, office: &str, at: Timestamp) -> Result<Unit> {
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query_scalar(q::INSERT_UNIT).bind(code).bind(name).bind(office).fetch_one(&mut *tx).await.map_err(db_err)?;
                let detail = serde_json::json!({"code": code, "name": name, "office": office}).to_string();
                Self::append_audit(&mut tx, actor, "reference", "unit.create", &format!("unit:{code}"), &detail, at).await?;
                tx.commit().await?;
                Ok(Unit { id, code: code.into(), name: name.into(), office: office.into() })
            }

            async fn units(&self) -> Result<Vec<Unit>> {
                let rows: Vec<UnitRow> = sqlx::query_as(q::UNITS).fetch_all(&self.read).await?;
                Ok(rows.into_iter().map(Unit::from).collect())
            }

            async fn unit_by_code(&self, code: &str) -> Result<Unit> {
                let row: Option<UnitRow> = sqlx::query_as(q::UNIT_BY_CODE).bind(code).fetch_optional(&self.read).await?;
                row.map(Unit::from).ok_or(StoreError::NotFound)
            }

            async fn create_company(&self, actor: &Actor, name: &str, industry: &str, customer_count: Option<i64>, at: Timestamp) -> Result<Company> {
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query_scalar(q::INSERT_COMPANY).bind(name).bind(industry).bind(customer_count).bind(micros(at)).fetch_one(&mut *tx).await.map_err(db_err)?;
                let detail = serde_json::json!({"name": name, "industry": industry, "customer_count": customer_count}).to_string();
                Self::append_audit(&mut tx, actor, "reference", "company.create", &format!("company:{id}"), &detail, at).await?;
                tx.commit().await?;
                Ok(Company { id, name: name.into(), industry: industry.into(), customer_count, created_at: at })
            }

            async fn companies(&self) -> Result<Vec<Company>> {
                let rows: Vec<CompanyRow> = sqlx::query_as(q::COMPANIES).fetch_all(&self.read).await?;
                rows.into_iter().map(CompanyRow::into_company).collect()
            }

            async fn company(&self, id: i64) -> Result<Company> {
                let row: Option<CompanyRow> = sqlx::query_as(q::COMPANY).bind(id).fetch_optional(&self.read).await?;
                row.ok_or(StoreError::NotFound)?.into_company()
            }

            async fn company_by_name(&self, name: &str) -> Result<Company> {
                let row: Option<CompanyRow> = sqlx::query_as(q::COMPANY_BY_NAME).bind(name).fetch_optional(&self.read).await?;
                row.ok_or(StoreError::NotFound)?.into_company()
            }

            async fn ensure_category_path(&self, actor: &Actor, path: &[String], at: Timestamp) -> Result<Category> {
                let mut tx = self.write.begin().await?;
                let mut parent: Option<i64> = None;
                let mut full = String::new();
                let mut leaf: Option<Category> = None;
                for name in path {
                    if !full.is_empty() { full.push_str(CATEGORY_SEPARATOR); }
                    full.push_str(name);
                    let found: Option<CategoryRow> = sqlx::query_as(q::CATEGORY_BY_PATH).bind(&full).fetch_optional(&mut *tx).await?;
                    let cat = match found {
                        Some(r) => Category::from(r),
                        None => {
                            let id: i64 = sqlx::query_scalar(q::INSERT_CATEGORY).bind(parent).bind(name).bind(&full).fetch_one(&mut *tx).await.map_err(db_err)?;
                            Self::append_audit(&mut tx, actor, "reference", "category.create", &format!("category:{id}"), &serde_json::json!({"path": full}).to_string(), at).await?;
                            Category { id, parent_id: parent, name: name.clone(), path: full.clone() }
                        }
                    };
                    parent = Some(cat.id);
                    leaf = Some(cat);
                }
                tx.commit().await?;
                leaf.ok_or(StoreError::NotFound)
            }

            async fn categories(&self) -> Result<Vec<Category>> {
                let rows: Vec<CategoryRow> = sqlx::query_as(q::CATEGORIES).fetch_all(&self.read).await?;
                Ok(rows.into_iter().map(Category::from).collect())
            }

            async fn category_by_path(&self, path: &str) -> Result<Category> {
                let row: Option<CategoryRow> = sqlx::query_as(q::CATEGORY_BY_PATH).bind(path).fetch_optional(&self.read).await?;
                row.map(Category::from).ok_or(StoreError::NotFound)
            }

            async fn create_user(&self, actor: &Actor, u: &NewUser, at: Timestamp) -> Result<User> {
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query_scalar(q::INSERT_USER)
                    .bind(&u.username).bind(&u.display_name).bind(u.role.as_str()).bind(u.unit_id).bind(u.company_id)
                    .bind(&u.password_hash).bind(true).bind(micros(at))
                    .fetch_one(&mut *tx).await.map_err(db_err)?;
                let detail = serde_json::json!({"role": u.role.as_str(), "unit_id": u.unit_id, "company_id": u.company_id}).to_string();
                Self::append_audit(&mut tx, actor, &format!("user:{}", u.username), "user.create", &format!("user:{}", u.username), &detail, at).await?;
                let row: UserRow = sqlx::query_as(q::USER).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                row.into_user()
            }

            async fn users(&self) -> Result<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(q::USERS).fetch_all(&self.read).await?;
                rows.into_iter().map(UserRow::into_user).collect()
            }

            async fn user(&self, id: i64) -> Result<User> {
                let row: Option<UserRow> = sqlx::query_as(q::USER).bind(id).fetch_optional(&self.read).await?;
                row.ok_or(StoreError::NotFound)?.into_user()
            }

            async fn credentials(&self, username: &str) -> Result<Credentials> {
                let row: Option<CredRow> = sqlx::query_as(q::CREDENTIALS).bind(username).fetch_optional(&self.read).await?;
                let row = row.ok_or(StoreError::NotFound)?;
                let user = self.user(row.id).await?;
                Ok(Credentials { user, password_hash: row.password_hash, failed_logins: row.failed_logins, locked_until: row.locked_until.map(instant).transpose()? })
            }

            async fn set_password(&self, actor: &Actor, user_id: i64, hash: &str, at: Timestamp) -> Result<()> {
                let user = self.user(user_id).await?;
                let mut tx = self.write.begin().await?;
                sqlx::query(q::SET_PASSWORD).bind(user_id).bind(hash).execute(&mut *tx).await?;
                let chain = format!("user:{}", user.username);
                Self::append_audit(&mut tx, actor, &chain, "user.password", &chain, "{}", at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_login(&self, user_id: i64, ok: bool, locked_until: Option<Timestamp>, at: Timestamp) -> Result<()> {
                let user = self.user(user_id).await?;
                let mut tx = self.write.begin().await?;
                if ok {
                    sqlx::query(q::LOGIN_OK).bind(user_id).execute(&mut *tx).await?;
                } else {
                    sqlx::query(q::LOGIN_FAILED).bind(user_id).bind(locked_until.map(micros)).execute(&mut *tx).await?;
                }
                let chain = format!("user:{}", user.username);
                let actor = Actor::user(&user);
                let action = if ok { "user.login" } else { "user.login_failed" };
                Self::append_audit(&mut tx, &actor, &chain, action, &chain, "{}", at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_token(&self, actor: &Actor, user_id: i64, name: &str, token_hash: &str, at: Timestamp) -> Result<ApiToken> {
                let user = self.user(user_id).await?;
                let mut tx = self.write.begin().await?;
                let id: i64 = sqlx::query_scalar(q::INSERT_TOKEN).bind(user_id).bind(name).bind(token_hash).bind(micros(at)).fetch_one(&mut *tx).await.map_err(db_err)?;
                let chain = format!("user:{}", user.username);
                Self::append_audit(&mut tx, actor, &chain, "token.create", &chain, &serde_json::json!({"token_id": id, "name": name}).to_string(), at).await?;
                tx.commit().await?;
                Ok(ApiToken { id, name: name.into(), created_at: at, revoked_at: None })
            }

            async fn tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
                let rows = sqlx::query(q::TOKENS).bind(user_id).fetch_all(&self.read).await?;
                rows.into_iter().map(|r| {
                    let revoked: Option<i64> = r.try_get(3)?;
                    Ok(ApiToken { id: r.try_get(0)?, name: r.try_get(1)?, created_at: instant(r.try_get(2)?)?, revoked_at: revoked.map(instant).transpose()? })
                }).collect()
            }

            async fn revoke_token(&self, actor: &Actor, user_id: i64, token_id: i64, at: Timestamp) -> Result<()> {
                let user = self.user(user_id).await?;
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(q::REVOKE_TOKEN).bind(token_id).bind(user_id).bind(micros(at)).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let chain = format!("user:{}", user.username);
                Self::append_audit(&mut tx, actor, &chain, "token.revoke", &chain, &serde_json::json!({"token_id": token_id}).to_string(), at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_token(&self, token_hash: &str) -> Result<User> {
                let row: Option<UserRow> = sqlx::query_as(q::USER_BY_TOKEN).bind(token_hash).fetch_optional(&self.read).await?;
                row.ok_or(StoreError::NotFound)?.into_user()
            }

            async fn create_session(&self, id_hash: &str, user_id: i64, csrf: &str, at: Timestamp, expires_at: Timestamp) -> Result<()> {
                sqlx::query(q::INSERT_SESSION).bind(id_hash).bind(user_id).bind(csrf).bind(micros(at)).bind(micros(expires_at)).execute(&self.write).await.map_err(db_err)?;
                Ok(())
            }

            async fn session(&self, id_hash: &str, now: Timestamp) -> Result<(User, String)> {
                let row = sqlx::query(q::SESSION).bind(id_hash).bind(micros(now)).fetch_optional(&self.read).await?.ok_or(StoreError::NotFound)?;
                let user_id: i64 = row.try_get(0)?;
                let csrf: String = row.try_get(1)?;
                Ok((self.user(user_id).await?, csrf))
            }

            async fn delete_session(&self, id_hash: &str) -> Result<()> {
                sqlx::query(q::DELETE_SESSION).bind(id_hash).execute(&self.write).await?;
                Ok(())
            }

            async fn find_consumers(&self, lookup: &ConsumerLookup, limit: i64) -> Result<Vec<Consumer>> {
                let ids: Vec<i64> = match lookup {
                    ConsumerLookup::Phone(p) => sqlx::query_scalar(q::CONSUMERS_BY_PHONE).bind(p).bind(limit).fetch_all(&self.read).await?,
                    ConsumerLookup::Email(e) => sqlx::query_scalar(q::CONSUMERS_BY_EMAIL).bind(e).bind(limit).fetch_all(&self.read).await?,
                    ConsumerLookup::Account(a) => sqlx::query_scalar(q::CONSUMERS_BY_ACCOUNT).bind(a).bind(limit).fetch_all(&self.read).await?,
                };
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.push(Self::load_consumer(&self.read, id).await?);
                }
                Ok(out)
            }

            async fn view_consumer(&self, actor: &Actor, id: i64, at: Timestamp) -> Result<Consumer> {
                let c = Self::load_consumer(&self.read, id).await?;
                let mut tx = self.write.begin().await?;
                Self::append_audit(&mut tx, actor, &format!("consumer:{id}"), "consumer.view", &format!("consumer:{id}"), "{}", at).await?;
                tx.commit().await?;
                Ok(c)
            }

            async fn create_case(&self, actor: &Actor, c: &NewCase, idem: Option<&IdempotencyKey>) -> Result<(Case, bool)> {
                let mut tx = self.write.begin().await?;
                if let (Some(k), Some(uid)) = (idem, actor.user_id) {
                    let found = sqlx::query(q::IDEMPOTENCY).bind(uid).bind(&k.key).fetch_optional(&mut *tx).await?;
                    if let Some(row) = found {
                        let hash: String = row.try_get(0)?;
                        let case_id: i64 = row.try_get(1)?;
                        if hash != k.request_hash {
                            return Err(StoreError::IdempotencyKeyReused);
                        }
                        let case = Self::load_case_tx(&mut tx, case_id, true).await?;
                        tx.commit().await?;
                        return Ok((case, false));
                    }
                }
                let at = micros(c.opened_at);
                let lang = c.consumer.preferred_language.unwrap_or(Language::En);
                let addr = &c.consumer.address;
                let consumer_id = match Self::match_consumer(&mut tx, &c.consumer).await? {
                    Some(id) => {
                        sqlx::query(q::ENRICH_CONSUMER)
                            .bind(id).bind(&c.consumer.phone).bind(&c.consumer.email).bind(&addr.line1).bind(&addr.line2)
                            .bind(&addr.city).bind(&addr.state).bind(&addr.zip).bind(lang.as_str()).bind(at)
                            .execute(&mut *tx).await?;
                        id
                    }
                    None => sqlx::query_scalar(q::INSERT_CONSUMER)
                        .bind(&c.consumer.name).bind(&c.consumer.phone).bind(&c.consumer.email).bind(&addr.line1).bind(&addr.line2)
                        .bind(&addr.city).bind(&addr.state).bind(&addr.zip).bind(lang.as_str()).bind(at)
                        .fetch_one(&mut *tx).await.map_err(db_err)?,
                };
                if let Some(acct) = &c.consumer.account_number {
                    sqlx::query(q::INSERT_ACCOUNT).bind(consumer_id).bind(acct).execute(&mut *tx).await?;
                }
                let seq: i64 = sqlx::query_scalar(q::NEXT_REFERENCE).bind(&c.office).bind(i64::from(c.year)).fetch_one(&mut *tx).await.map_err(db_err)?;
                let seq = u32::try_from(seq).map_err(|_| StoreError::Corrupt("reference sequence overflow".into()))?;
                let reference = Reference::new(&c.office, c.year, seq).map_err(|e| StoreError::Corrupt(e.to_string()))?.to_string();
                let case_id: i64 = sqlx::query_scalar(q::INSERT_CASE)
                    .bind(&reference).bind(&c.office).bind(c.kind.as_str()).bind(c.channel.as_str()).bind(c.status.as_str())
                    .bind(c.priority.as_str()).bind(flags_to_text(&c.flags)).bind(c.category_id).bind(consumer_id).bind(c.company_id)
                    .bind(&c.account_number).bind(c.amount.map(Money::cents)).bind(&c.description).bind(c.unit_id).bind(c.assignee_id)
                    .bind(at).bind(c.closed_at.map(micros)).bind(actor.user_id)
                    .fetch_one(&mut *tx).await.map_err(db_err)?;
                let opened = NewEntry {
                    entry_type: EntryType::SystemEvent,
                    body: format!("Case opened ({}, {})", c.kind, c.channel),
                    visibility: Visibility::Internal,
                    data: serde_json::json!({"event": "opened", "kind": c.kind, "channel": c.channel, "by": actor.username}),
                    at: c.opened_at,
                    author_id: actor.user_id,
                };
                Self::insert_entry(&mut *tx, case_id, &opened).await?;
                for e in &c.history {
                    Self::insert_entry(&mut *tx, case_id, e).await?;
                }
                let detail = serde_json::json!({
                    "kind": c.kind, "channel": c.channel, "status": c.status, "priority": c.priority,
                    "consumer_id": consumer_id, "company_id": c.company_id, "category_id": c.category_id,
                    "amount_cents": c.amount.map(Money::cents),
                }).to_string();
                Self::start_chain(&mut tx, actor, &format!("case:{reference}"), "case.create", &reference, &detail, c.opened_at).await?;
                if let (Some(k), Some(uid)) = (idem, actor.user_id) {
                    sqlx::query(q::INSERT_IDEMPOTENCY).bind(uid).bind(&k.key).bind(&k.request_hash).bind(case_id).bind(at)
                        .execute(&mut *tx).await.map_err(db_err)?;
                }
                let case = Self::load_case_tx(&mut tx, case_id, true).await?;
                tx.commit().await?;
                Ok((case, true))
            }

            async fn case(&self, actor: &Actor, reference: &str, scope: Scope, audit_view: bool, at: Timestamp) -> Result<Case> {
                let row: CaseRow = sqlx::query_as(q::CASE_BY_REFERENCE).bind(reference).bind(scope.company_id)
                    .fetch_optional(&self.read).await?.ok_or(StoreError::NotFound)?;
                let consumer = if audit_view { Some(Self::load_consumer(&self.read, row.consumer_id).await?) } else { None };
                let links: Vec<LinkRow> = sqlx::query_as(q::CASE_LINKS).bind(row.id).fetch_all(&self.read).await?;
                let links = links.into_iter().map(LinkRow::into_link).collect::<Result<_>>()?;
                if audit_view {
                    let mut tx = self.write.begin().await?;
                    let chain = format!("case:{reference}");
                    Self::append_audit(&mut tx, actor, &chain, "case.view", reference, "{}", at).await?;
                    tx.commit().await?;
                }
                row.into_case(consumer, links)
            }

            async fn cases(&self, f: &CaseFilter, scope: Scope) -> Result<Vec<(i64, CaseSummary)>> {
                let rows: Vec<CaseRow> = sqlx::query_as(q::CASE_LIST)
                    .bind(f.status.map(|s| s.as_str())).bind(f.kind.map(|k| k.as_str())).bind(f.unit_id).bind(f.assignee_id)
                    .bind(f.company_id).bind(f.opened_after.map(micros)).bind(f.before_id).bind(scope.company_id).bind(f.limit)
                    .fetch_all(&self.read).await?;
                rows.iter().map(|r| Ok((r.id, r.summary()?))).collect()
            }

            async fn update_case(&self, actor: &Actor, reference: &str, expected: i64, p: &CasePatch, at: Timestamp) -> Result<Case> {
                let mut tx = self.write.begin().await?;
                let row = Self::change_row(&mut tx, reference, Scope::default()).await?;
                Self::check_version(&row, Some(expected))?;
                let status: Status = word(&row.status)?;
                if status == Status::Merged {
                    return Err(StoreError::Domain(DomainError::InvalidTransition { from: status, to: status, allowed: vec![] }));
                }
                let mut changes = serde_json::Map::new();
                let priority = p.priority.map(|x| x.as_str().to_string()).unwrap_or(row.priority.clone());
                if priority != row.priority { changes.insert("priority".into(), serde_json::json!({"from": row.priority, "to": priority})); }
                let flags = p.flags.as_ref().map(|f| flags_to_text(f)).unwrap_or(row.flags.clone());
                if flags != row.flags { changes.insert("flags".into(), serde_json::json!({"from": row.flags, "to": flags})); }
                let description = p.description.clone().unwrap_or(row.description.clone());
                if description != row.description { changes.insert("description".into(), serde_json::json!({"changed": true})); }
                let category_id = p.category_id.unwrap_or(row.category_id);
                if category_id != row.category_id { changes.insert("category_id".into(), serde_json::json!({"from": row.category_id, "to": category_id})); }
                let company_id = p.company_id.unwrap_or(row.company_id);
                if company_id != row.company_id { changes.insert("company_id".into(), serde_json::json!({"from": row.company_id, "to": company_id})); }
                let account = p.account_number.clone().unwrap_or(row.account_number.clone());
                if account != row.account_number { changes.insert("account_number".into(), serde_json::json!({"from": row.account_number, "to": account})); }
                let amount = p.amount.map(|a| a.map(Money::cents)).unwrap_or(row.amount_cents);
                if amount != row.amount_cents { changes.insert("amount_in_dispute".into(), serde_json::json!({"from": money_text(row.amount_cents), "to": money_text(amount)})); }
                let done = sqlx::query(q::UPDATE_CASE)
                    .bind(row.id).bind(row.version).bind(&priority).bind(&flags).bind(&description).bind(category_id).bind(company_id)
                    .bind(&account).bind(amount).bind(micros(at))
                    .execute(&mut *tx).await.map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Stale { current: row.version + 1 });
                }
                if !changes.is_empty() {
                    let names: Vec<String> = changes.keys().cloned().collect();
                    let entry = NewEntry {
                        entry_type: EntryType::SystemEvent,
                        body: format!("Case updated: {}", names.join(", ")),
                        visibility: Visibility::Internal,
                        data: serde_json::json!({"event": "updated", "changes": changes}),
                        at,
                        author_id: actor.user_id,
                    };
                    Self::insert_entry(&mut *tx, row.id, &entry).await?;
                }
                let detail = serde_json::json!({"version": row.version + 1, "changes": changes}).to_string();
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.update", reference, &detail, at).await?;
                let case = Self::load_case_tx(&mut tx, row.id, true).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn change_status(&self, actor: &Actor, reference: &str, expected: Option<i64>, to: Status, reason: Option<&str>, at: Timestamp) -> Result<Case> {
                let mut tx = self.write.begin().await?;
                let row = Self::change_row(&mut tx, reference, Scope::default()).await?;
                Self::check_version(&row, expected)?;
                let from: Status = word(&row.status)?;
                from.transition(to)?;
                let closed_at = if to.is_open() { None } else { Some(micros(at)) };
                let done = sqlx::query(q::UPDATE_STATUS).bind(row.id).bind(row.version).bind(to.as_str()).bind(closed_at)
                    .bind(None::<i64>).bind(micros(at)).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Stale { current: row.version + 1 });
                }
                let body = match reason {
                    Some(r) => format!("Status changed from {from} to {to}: {r}"),
                    None => format!("Status changed from {from} to {to}"),
                };
                let entry = NewEntry { entry_type: EntryType::StatusChange, body, visibility: Visibility::Internal,
                    data: serde_json::json!({"from": from, "to": to, "reason": reason}), at, author_id: actor.user_id };
                Self::insert_entry(&mut *tx, row.id, &entry).await?;
                let detail = serde_json::json!({"from": from, "to": to, "reason": reason, "version": row.version + 1}).to_string();
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.status", reference, &detail, at).await?;
                let case = Self::load_case_tx(&mut tx, row.id, true).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn assign(&self, actor: &Actor, reference: &str, expected: Option<i64>, unit_id: Option<i64>, assignee_id: Option<i64>, at: Timestamp) -> Result<Case> {
                let mut tx = self.write.begin().await?;
                let row = Self::change_row(&mut tx, reference, Scope::default()).await?;
                Self::check_version(&row, expected)?;
                let status: Status = word(&row.status)?;
                if status == Status::Merged {
                    return Err(StoreError::Domain(DomainError::InvalidTransition { from: status, to: status, allowed: vec![] }));
                }
                let done = sqlx::query(q::UPDATE_ASSIGNMENT).bind(row.id).bind(row.version).bind(unit_id).bind(assignee_id).bind(micros(at))
                    .execute(&mut *tx).await.map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Stale { current: row.version + 1 });
                }
                let data = serde_json::json!({"from": {"unit_id": row.unit_id, "assignee_id": row.assignee_id}, "to": {"unit_id": unit_id, "assignee_id": assignee_id}});
                let case_id = row.id;
                // Written before reading names back so the entry text can use them.
                let case = Self::load_case_tx(&mut tx, case_id, false).await?;
                let body = format!("Assigned to {} in {}", case.assignee.as_deref().unwrap_or("nobody"), case.unit.as_deref().unwrap_or("no unit"));
                let entry = NewEntry { entry_type: EntryType::Assignment, body, visibility: Visibility::Internal, data: data.clone(), at, author_id: actor.user_id };
                Self::insert_entry(&mut *tx, case_id, &entry).await?;
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.assign", reference, &data.to_string(), at).await?;
                let case = Self::load_case_tx(&mut tx, case_id, true).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn link(&self, actor: &Actor, reference: &str, other: &str, kind: LinkKind, at: Timestamp) -> Result<Case> {
                let mut tx = self.write.begin().await?;
                let a = Self::change_row(&mut tx, reference, Scope::default()).await?;
                let b = Self::change_row(&mut tx, other, Scope::default()).await?;
                sqlx::query(q::TOUCH_CASE).bind(a.id).bind(micros(at)).execute(&mut *tx).await?;
                sqlx::query(q::INSERT_LINK).bind(a.id).bind(b.id).bind(kind.as_str()).bind(actor.user_id).bind(micros(at))
                    .execute(&mut *tx).await.map_err(db_err)?;
                for (id, text) in [(a.id, format!("Linked to {other} ({kind})")), (b.id, format!("Linked from {reference} ({kind})"))] {
                    let e = NewEntry { entry_type: EntryType::SystemEvent, body: text, visibility: Visibility::Internal,
                        data: serde_json::json!({"event": "linked", "kind": kind, "from": reference, "to": other}), at, author_id: actor.user_id };
                    Self::insert_entry(&mut *tx, id, &e).await?;
                }
                let detail = serde_json::json!({"kind": kind, "from": reference, "to": other}).to_string();
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.link", reference, &detail, at).await?;
                Self::append_audit(&mut tx, actor, &format!("case:{other}"), "case.link", other, &detail, at).await?;
                let case = Self::load_case_tx(&mut tx, a.id, true).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn merge(&self, actor: &Actor, reference: &str, survivor: &str, at: Timestamp) -> Result<Case> {
                let mut tx = self.write.begin().await?;
                let a = Self::change_row(&mut tx, reference, Scope::default()).await?;
                let b = Self::change_row(&mut tx, survivor, Scope::default()).await?;
                let from: Status = word(&a.status)?;
                if from == Status::Merged || word::<Status>(&b.status)? == Status::Merged {
                    return Err(StoreError::Domain(DomainError::InvalidTransition { from, to: Status::Merged, allowed: from.allowed_next().to_vec() }));
                }
                let done = sqlx::query(q::UPDATE_STATUS).bind(a.id).bind(a.version).bind(Status::Merged.as_str()).bind(micros(at))
                    .bind(b.id).bind(micros(at)).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Stale { current: a.version + 1 });
                }
                sqlx::query(q::TOUCH_CASE).bind(b.id).bind(micros(at)).execute(&mut *tx).await?;
                sqlx::query(q::INSERT_LINK).bind(a.id).bind(b.id).bind(LinkKind::DuplicateOf.as_str()).bind(actor.user_id).bind(micros(at))
                    .execute(&mut *tx).await.map_err(db_err)?;
                let data = serde_json::json!({"event": "merged", "merged": reference, "survivor": survivor, "previous_status": from});
                for (id, text) in [(a.id, format!("Merged into {survivor}")), (b.id, format!("{reference} merged into this case"))] {
                    let e = NewEntry { entry_type: EntryType::SystemEvent, body: text, visibility: Visibility::Internal, data: data.clone(), at, author_id: actor.user_id };
                    Self::insert_entry(&mut *tx, id, &e).await?;
                }
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.merge", reference, &data.to_string(), at).await?;
                Self::append_audit(&mut tx, actor, &format!("case:{survivor}"), "case.merge", survivor, &data.to_string(), at).await?;
                let case = Self::load_case_tx(&mut tx, a.id, true).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn add_entry(&self, actor: &Actor, reference: &str, e: &NewEntry, scope: Scope) -> Result<TimelineEntry> {
                let mut tx = self.write.begin().await?;
                let row = Self::change_row(&mut tx, reference, scope).await?;
                sqlx::query(q::TOUCH_CASE).bind(row.id).bind(micros(e.at)).execute(&mut *tx).await?;
                let seq = Self::insert_entry(&mut *tx, row.id, e).await?;
                let detail = serde_json::json!({"seq": seq, "type": e.entry_type, "visibility": e.visibility}).to_string();
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.timeline.add", reference, &detail, e.at).await?;
                let entry: EntryRow = sqlx::query_as(q::TIMELINE_ENTRY).bind(row.id).bind(seq).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                entry.into_entry()
            }

            async fn timeline(&self, actor: &Actor, reference: &str, scope: Scope, visible_to: Option<Visibility>, at: Timestamp) -> Result<Vec<TimelineEntry>> {
                let id: i64 = sqlx::query_scalar(q::CASE_FOR_CHANGE).bind(reference).bind(scope.company_id)
                    .fetch_optional(&self.read).await?.ok_or(StoreError::NotFound)?;
                let rows: Vec<EntryRow> = sqlx::query_as(q::TIMELINE).bind(id).bind(visible_to.map(|v| v.as_str())).fetch_all(&self.read).await?;
                let mut tx = self.write.begin().await?;
                Self::append_audit(&mut tx, actor, &format!("case:{reference}"), "case.timeline.view", reference, "{}", at).await?;
                tx.commit().await?;
                rows.into_iter().map(EntryRow::into_entry).collect()
            }

            async fn audit(&self, actor: &Actor, chain: &str, action: &str, subject: &str, detail: &str, at: Timestamp) -> Result<()> {
                let mut tx = self.write.begin().await?;
                Self::append_audit(&mut tx, actor, chain, action, subject, detail, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_for_subject(&self, subject: &str, limit: i64) -> Result<Vec<AuditRecord>> {
                let rows: Vec<AuditRow> = sqlx::query_as(q::AUDIT_FOR_SUBJECT).bind(subject).bind(limit).fetch_all(&self.read).await?;
                rows.into_iter().map(AuditRow::into_record).collect()
            }

            async fn verify_audit(&self) -> Result<AuditVerdict> {
                let mut walker = ChainWalker::new();
                let heads = sqlx::query(q::AUDIT_HEADS).fetch_all(&self.read).await?;
                for h in heads {
                    walker.heads.insert(h.try_get(0)?, (h.try_get(1)?, h.try_get(2)?));
                }
                let (mut chain, mut seq) = (String::new(), 0i64);
                loop {
                    let rows: Vec<AuditRow> = sqlx::query_as(q::AUDIT_PAGE).bind(&chain).bind(seq).bind(5000i64).fetch_all(&self.read).await?;
                    let Some(last) = rows.last() else { break };
                    (chain, seq) = (last.chain.clone(), last.seq);
                    for r in &rows {
                        if let Some(v) = walker.step(r) {
                            return Ok(v);
                        }
                    }
                }
                if let Some(v) = walker.finish() {
                    return Ok(v);
                }
                let orphan: Option<String> = sqlx::query_scalar(q::CASES_WITHOUT_CHAIN).fetch_optional(&self.read).await?;
                if let Some(r) = orphan {
                    return Ok(AuditVerdict::Broken { row_id: 0, chain: format!("case:{r}"), seq: 0, reason: "case has no audit chain (rows removed?)".into() });
                }
                Ok(AuditVerdict::Intact { rows: walker.rows, chains: walker.chains })
            }
        }
    };
}

pub(crate) use impl_store;
