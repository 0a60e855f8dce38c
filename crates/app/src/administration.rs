//! What administrators change after the fact: a user's name, role, unit, company, email and
//! whether they may still sign in; a user's password when they forgot it; a company's name,
//! industry and customer count. Each is audited with what it was and what it became.

use crate::accounts::{check_password_rules, hash_password};
use crate::cases::double_option;
use crate::{App, AppError, AppResult, Person};
use redress_domain::records::{Company, User};
use redress_domain::validate::{self as v, FieldErrors};
use redress_domain::{Permission, Role};
use redress_store::UserChange;
use serde::Deserialize;
use utoipa::ToSchema;

/// A change to a user: only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeInput {
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// A unit code; `null` or empty takes the user out of their unit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    /// For company users: their company; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    /// Where deadline notices reach them; `null` or empty clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// `false` ends every session and token use at once; the user and their work stay.
    pub active: Option<bool>,
}

/// A new password an administrator sets for a user who lost theirs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// From 12 to 256 characters.
    #[schema(value_type = String, min_length = 12, max_length = 256)]
    pub password: Option<String>,
}

/// A change to a company: only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyChange {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 100)]
    pub industry: Option<String>,
    /// Customers served, for complaints per 100,000; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub customer_count: Option<Option<i64>>,
}

impl App {
    /// A user and their email address, for the administrators' form.
    pub async fn user_to_change(
        &self,
        person: &Person,
        id: i64,
    ) -> AppResult<(User, Option<String>)> {
        person.require(Permission::UserWrite)?;
        let user = self.store.user(id).await?;
        let email = self.store.user_email(id).await?;
        Ok((user, email))
    }

    /// Changes a user (administrators). An administrator cannot lock themselves out: they may
    /// not make themselves inactive or take away their own administrator role.
    pub async fn change_user(
        &self,
        person: &Person,
        id: i64,
        b: UserChangeInput,
    ) -> AppResult<User> {
        person.require(Permission::UserWrite)?;
        let current = self.store.user(id).await?;
        let mut errors = FieldErrors::new();
        let display_name = match &b.display_name {
            Some(n) => v::required_text(&mut errors, "display_name", Some(n), v::NAME_MAX)
                .unwrap_or_default(),
            None => current.display_name.clone(),
        };
        let role = b.role.unwrap_or(current.role);
        let active = b.active.unwrap_or(current.active);
        if id == person.user.id && !active {
            errors.push(
                "active",
                "not_yourself",
                "You cannot make yourself inactive; ask another administrator.",
            );
        }
        if id == person.user.id && role != Role::Admin && current.role == Role::Admin {
            errors.push(
                "role",
                "not_yourself",
                "You cannot take away your own administrator role.",
            );
        }
        let units = self.store.units().await?;
        let unit_id = match &b.unit {
            Some(Some(code)) if !code.trim().is_empty() => {
                match units.iter().find(|u| u.code == code.trim()) {
                    Some(u) => Some(u.id),
                    None => {
                        errors.push("unit", "unknown_unit", "No such unit.");
                        None
                    }
                }
            }
            Some(_) => None,
            None => current
                .unit
                .as_ref()
                .and_then(|c| units.iter().find(|u| &u.code == c))
                .map(|u| u.id),
        };
        let company_id = match b.company_id {
            Some(c) => c,
            None => current.company_id,
        };
        let company_id = if role == Role::Company {
            company_id
        } else {
            None
        };
        if role == Role::Company {
            match company_id {
                None => errors.push(
                    "company_id",
                    "required",
                    "Company users belong to a company.",
                ),
                Some(c) if self.store.company(c).await.is_err() => {
                    errors.push("company_id", "unknown_company", "No such company.")
                }
                Some(_) => {}
            }
        }
        // `null` clears the address; an empty one is not an address.
        let email = match &b.email {
            Some(Some(e)) => v::email(&mut errors, "email", e.trim()),
            Some(None) => None,
            None => self.store.user_email(id).await?,
        };
        AppError::unless_empty(errors)?;
        let change = UserChange {
            display_name,
            role,
            unit_id,
            company_id,
            email,
            active,
        };
        Ok(self
            .store
            .change_user(&person.actor(), id, &change, self.clock.now())
            .await?)
    }

    /// Sets a new password for a user who lost theirs (administrators); every session they
    /// held ends.
    pub async fn reset_password(
        &self,
        person: &Person,
        id: i64,
        b: PasswordReset,
    ) -> AppResult<()> {
        person.require(Permission::UserWrite)?;
        self.store.user(id).await?;
        let password = b.password.unwrap_or_default();
        check_password_rules(&password)?;
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(self
            .store
            .set_password(&person.actor(), id, &hash, self.clock.now())
            .await?)
    }

    /// Changes a company (those who keep companies).
    pub async fn change_company(
        &self,
        person: &Person,
        id: i64,
        b: CompanyChange,
    ) -> AppResult<Company> {
        person.require(Permission::CompanyWrite)?;
        let current = self.store.company(id).await?;
        let mut errors = FieldErrors::new();
        let name = match &b.name {
            Some(n) => {
                v::required_text(&mut errors, "name", Some(n), v::NAME_MAX).unwrap_or_default()
            }
            None => current.name.clone(),
        };
        let industry = match &b.industry {
            Some(i) => v::optional_text(&mut errors, "industry", Some(i), 100).unwrap_or_default(),
            None => current.industry.clone(),
        };
        let customer_count = match b.customer_count {
            Some(Some(n)) if n < 0 => {
                errors.push("customer_count", "out_of_range", "Cannot be negative.");
                None
            }
            Some(c) => c,
            None => current.customer_count,
        };
        AppError::unless_empty(errors)?;
        Ok(self
            .store
            .change_company(
                &person.actor(),
                id,
                &name,
                &industry,
                customer_count,
                self.clock.now(),
            )
            .await?)
    }
}
