//! Who acts: a signed-in person and what their role lets them do and see.

use crate::{AppError, AppResult};
use redress_domain::records::User;
use redress_domain::view::Audience;
use redress_domain::{Permission, Role};
use redress_store::{Actor, Scope};

/// A person using Redress (staff or a company's representative), as the use cases see them.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: User,
}

impl Person {
    pub fn new(user: User) -> Person {
        Person { user }
    }

    /// Refuses what the role does not allow.
    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.user.role.allows(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether the role allows it.
    pub fn may(&self, p: Permission) -> bool {
        self.user.role.allows(p)
    }

    /// The person as the audit log and timeline name them.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }

    /// Who this person is as an audience of a case (what the role may see of it).
    pub fn audience(&self) -> Audience {
        Audience::of(self.user.role, self.user.company_id)
    }

    /// The cases this person may reach: a company's representative only their company's.
    pub fn scope(&self) -> Scope {
        if self.user.role == Role::Company {
            // A company user with no company sees nothing: id 0 never exists.
            Scope {
                company_id: Some(self.user.company_id.unwrap_or(0)),
            }
        } else {
            Scope::default()
        }
    }

    pub fn is_company(&self) -> bool {
        self.user.role == Role::Company
    }
}
