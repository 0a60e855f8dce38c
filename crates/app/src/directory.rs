//! The office's directory: companies (with their customer counts), units, categories, users and
//! their API tokens. Reads are open to the roles that need them (a company's representative sees
//! only their own company); changes are the administrators'.

use crate::accounts::{check_password_rules, hash_password, new_token, valid_username};
use crate::{App, AppError, AppResult, Person};
use redress_domain::records::*;
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{Permission, Role};
use redress_store::{Actor, NewUser};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub industry: String,
    #[schema(minimum = 0)]
    pub customer_count: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Letters, digits, `-` and `_`.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Office code; defaults to the server's office.
    pub office: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Names from the root down, e.g. `["Energy", "Electric", "Billing"]`; no name contains `>`.
    #[schema(min_items = 1, max_items = 6)]
    pub path: Vec<String>,
}

/// A change to a category: its Spanish name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    /// The name in Spanish (empty or `null` clears it).
    #[schema(max_length = 100)]
    pub name_es: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Lower-case letters, digits, `.`, `-` and `_`.
    #[schema(value_type = String, required = true, min_length = 2, max_length = 64, pattern = "^[a-z0-9._-]{2,64}$")]
    pub username: Option<String>,
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    pub role: Role,
    pub unit: Option<String>,
    pub company_id: Option<i64>,
    /// 12 to 256 characters.
    #[schema(value_type = String, required = true, min_length = 12, max_length = 256)]
    pub password: Option<String>,
    /// Where deadline notices (due soon, missed) are sent.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenInput {
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

/// A token just made: its record and the secret, shown once.
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

impl App {
    /// Companies complained about (a company's representative: only their own).
    pub async fn companies(&self, person: &Person) -> AppResult<Vec<Company>> {
        person.require(Permission::CompanyRead)?;
        let mut all = self.store.companies().await?;
        if let Some(id) = person.scope().company_id {
            all.retain(|c| c.id == id);
        }
        Ok(all)
    }

    /// One company (a company's representative: only their own).
    pub async fn company(&self, person: &Person, id: i64) -> AppResult<Company> {
        person.require(Permission::CompanyRead)?;
        if person.scope().company_id.is_some_and(|own| own != id) {
            return Err(AppError::NotFound);
        }
        Ok(self.store.company(id).await?)
    }

    /// Adds a company.
    pub async fn add_company(&self, person: &Person, b: NewCompany) -> AppResult<Company> {
        person.require(Permission::CompanyWrite)?;
        let mut errors = FieldErrors::new();
        let name = v::required_text(&mut errors, "name", b.name.as_deref(), v::NAME_MAX);
        let industry =
            v::optional_text(&mut errors, "industry", Some(&b.industry), 100).unwrap_or_default();
        if b.customer_count.is_some_and(|n| n < 0) {
            errors.push("customer_count", "out_of_range", "Cannot be negative.");
        }
        let name = errors
            .finish(name)
            .map_err(AppError::Validation)?
            .unwrap_or_default();
        Ok(self
            .store
            .create_company(
                &person.actor(),
                &name,
                &industry,
                b.customer_count,
                self.clock.now(),
            )
            .await?)
    }

    /// The office's units.
    pub async fn units(&self, person: &Person) -> AppResult<Vec<Unit>> {
        person.require(Permission::ReferenceDataRead)?;
        Ok(self.store.units().await?)
    }

    /// Adds a unit.
    pub async fn add_unit(&self, person: &Person, b: NewUnit) -> AppResult<Unit> {
        person.require(Permission::ReferenceDataWrite)?;
        let mut errors = FieldErrors::new();
        let code = v::required_text(&mut errors, "code", b.code.as_deref(), 32);
        if code.as_deref().is_some_and(|c| {
            !c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        }) {
            errors.push(
                "code",
                "invalid_characters",
                "Letters, digits, - and _ only.",
            );
        }
        let name = v::required_text(&mut errors, "name", b.name.as_deref(), v::NAME_MAX);
        let office = b.office.unwrap_or_else(|| self.office.code.clone());
        if v::lookup_key(&mut errors, "office", &office, 32).is_some()
            && self.store.office(&office).await.is_err()
        {
            errors.push("office", "unknown_office", "No such office.");
        }
        let (code, name) = errors
            .finish((code.unwrap_or_default(), name.unwrap_or_default()))
            .map_err(AppError::Validation)?;
        Ok(self
            .store
            .create_unit(&person.actor(), &code, &name, &office, self.clock.now())
            .await?)
    }

    /// The category tree, as paths.
    pub async fn categories(&self, person: &Person) -> AppResult<Vec<Category>> {
        person.require(Permission::ReferenceDataRead)?;
        Ok(self.store.categories().await?)
    }

    /// Adds a category path (missing levels are created).
    pub async fn add_category(&self, person: &Person, b: NewCategory) -> AppResult<Category> {
        person.require(Permission::ReferenceDataWrite)?;
        let mut errors = FieldErrors::new();
        if b.path.is_empty() || b.path.len() > 6 {
            errors.push("path", "out_of_range", "From 1 to 6 levels.");
        }
        let names: Vec<String> = b
            .path
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let field = format!("path[{i}]");
                let t = v::required_text(&mut errors, &field, Some(n), 100)?;
                if t.contains('>') {
                    errors.push(field, "invalid_characters", "Names cannot contain '>'.");
                    return None;
                }
                Some(t)
            })
            .collect();
        let names = errors.finish(names).map_err(AppError::Validation)?;
        Ok(self
            .store
            .ensure_category_path(&person.actor(), &names, self.clock.now())
            .await?)
    }

    /// Names a category in Spanish (those who keep reference data).
    pub async fn change_category(
        &self,
        person: &Person,
        id: i64,
        b: CategoryChange,
    ) -> AppResult<Category> {
        person.require(Permission::ReferenceDataWrite)?;
        let mut errors = FieldErrors::new();
        let name_es = v::optional_text(&mut errors, "name_es", b.name_es.as_deref(), 100);
        if name_es.as_deref().is_some_and(|n| n.contains('>')) {
            errors.push("name_es", "invalid_characters", "Names cannot contain '>'.");
        }
        AppError::unless_empty(errors)?;
        Ok(self
            .store
            .name_category_in_spanish(&person.actor(), id, name_es.as_deref(), self.clock.now())
            .await?)
    }

    /// Staff and company users.
    pub async fn users(&self, person: &Person) -> AppResult<Vec<User>> {
        person.require(Permission::UserRead)?;
        Ok(self.store.users().await?)
    }

    /// Adds a user (administrators).
    pub async fn add_user(&self, person: &Person, b: NewUserInput) -> AppResult<User> {
        person.require(Permission::UserWrite)?;
        self.create_user(&person.actor(), b).await
    }

    /// Validates and adds a user; `actor` is who the audit log names (an administrator, or the
    /// system when the command line adds the first one).
    pub async fn create_user(&self, actor: &Actor, b: NewUserInput) -> AppResult<User> {
        let mut errors = FieldErrors::new();
        let username = v::required_text(&mut errors, "username", b.username.as_deref(), 64);
        if username.as_deref().is_some_and(|u| !valid_username(u)) {
            errors.push(
                "username",
                "invalid_characters",
                "Lower-case letters, digits, '.', '-' and '_'; 2 to 64 characters.",
            );
        }
        let display = v::optional_text(
            &mut errors,
            "display_name",
            b.display_name.as_deref(),
            v::NAME_MAX,
        );
        let unit_id = match &b.unit {
            Some(u) => self.lookup_unit(&mut errors, "unit", u).await?,
            None => None,
        };
        if b.role == Role::Company && b.company_id.is_none() {
            errors.push(
                "company_id",
                "required",
                "Company users belong to a company.",
            );
        }
        if let Some(id) = b.company_id
            && self.store.company(id).await.is_err()
        {
            errors.push("company_id", "unknown_company", "No such company.");
        }
        let email = match b.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => v::email(&mut errors, "email", e),
            None => None,
        };
        let password = b.password.unwrap_or_default();
        if let Err(AppError::Validation(e)) = check_password_rules(&password) {
            errors.0.extend(e.0);
        }
        let username = errors
            .finish(username.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let new = NewUser {
            email,
            display_name: display.unwrap_or_else(|| username.clone()),
            username,
            role: b.role,
            unit_id,
            company_id: b.company_id,
            password_hash: Some(hash),
        };
        Ok(self
            .store
            .create_user(actor, &new, self.clock.now())
            .await?)
    }

    /// The person's own API tokens.
    pub async fn own_tokens(&self, person: &Person) -> AppResult<Vec<ApiToken>> {
        person.require(Permission::OwnTokens)?;
        Ok(self.store.tokens(person.user.id).await?)
    }

    /// Makes an API token for the person; the secret is returned once.
    pub async fn issue_token(&self, person: &Person, b: NewTokenInput) -> AppResult<IssuedToken> {
        person.require(Permission::OwnTokens)?;
        let mut errors = FieldErrors::new();
        let name = v::optional_text(&mut errors, "name", b.name.as_deref(), 100)
            .unwrap_or_else(|| "api".into());
        errors.finish(()).map_err(AppError::Validation)?;
        let (secret, hash) = new_token()?;
        let token = self
            .store
            .create_token(
                &person.actor(),
                person.user.id,
                &name,
                &hash,
                self.clock.now(),
            )
            .await?;
        Ok(IssuedToken { token, secret })
    }

    /// Revokes one of the person's tokens.
    pub async fn revoke_token(&self, person: &Person, id: i64) -> AppResult<()> {
        person.require(Permission::OwnTokens)?;
        self.store
            .revoke_token(&person.actor(), person.user.id, id, self.clock.now())
            .await?;
        Ok(())
    }
}

/// The command line as the audit log names it.
pub fn cli_actor() -> Actor {
    Actor {
        user_id: None,
        username: "cli".into(),
    }
}

impl App {
    /// A company by its id or, failing that, its exact name (the command line's `--company`).
    pub async fn company_by_id_or_name(&self, text: &str) -> AppResult<Company> {
        match text.trim().parse::<i64>() {
            Ok(id) => Ok(self.store.company(id).await?),
            Err(_) => Ok(self.store.company_by_name(text.trim()).await?),
        }
    }

    /// Makes an API token for a user by name, on the word of `actor` (the command line); the
    /// secret is returned once.
    pub async fn issue_token_for(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
    ) -> AppResult<IssuedToken> {
        let user = self.store.credentials(username).await?.user;
        let (secret, hash) = new_token()?;
        let token = self
            .store
            .create_token(actor, user.id, name, &hash, self.clock.now())
            .await?;
        Ok(IssuedToken { token, secret })
    }

    /// Revokes a user's token, on the word of `actor` (the command line).
    pub async fn revoke_token_for(&self, actor: &Actor, username: &str, id: i64) -> AppResult<()> {
        let user = self.store.credentials(username).await?.user;
        self.store
            .revoke_token(actor, user.id, id, self.clock.now())
            .await?;
        Ok(())
    }
}
