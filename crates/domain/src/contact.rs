//! Contacts: people an organisation signs with often, with a visibility scope.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ValidationErrors;
use crate::ids::ContactId;
use crate::input::{MAX_TEXT, email, identity, text};
use crate::language::Language;
use crate::status::{Scope, ScopeFilter, SignerRole};
use crate::values::{CountryCode, Email, PersonalCode};
use crate::visibility::Viewer;

/// A contact (the seed's `Contact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Id.
    pub id: ContactId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Full name.
    pub name: Option<String>,
    /// Country of the personal code.
    pub country: Option<CountryCode>,
    /// Personal code.
    pub personal_code: Option<PersonalCode>,
    /// Phone number.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<Email>,
    /// Default role when added to a step.
    pub role: Option<SignerRole>,
    /// Default anonymous signing mode.
    pub default_anonymous: bool,
    /// Owner user.
    pub owner: String,
    /// Visibility.
    pub scope: Scope,
    /// Owner group.
    pub group: Option<String>,
    /// Preferred language.
    pub language: Option<Language>,
}

/// A contact as a client writes it.
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ContactInput {
    /// Id (update; a new UUID on create).
    pub id: Option<Uuid>,
    /// Full name.
    pub name: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Personal code.
    pub personal_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: Option<SignerRole>,
    /// Default anonymous mode.
    pub default_anonymous: Option<bool>,
    /// Owner user (required on create).
    pub owner: Option<String>,
    /// Scope (PERSONAL by default; ALL is only a filter).
    pub scope: Option<ScopeFilter>,
    /// Group (required for GROUP scope).
    pub group: Option<String>,
    /// Language tag.
    pub language: Option<String>,
}

impl std::fmt::Debug for ContactInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactInput")
            .field("id", &self.id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Checks an owner, scope and group triple shared by contacts and templates.
pub(crate) fn ownership(
    errors: &mut ValidationErrors,
    owner: Option<String>,
    scope: Option<ScopeFilter>,
    group: Option<String>,
) -> (String, Scope, Option<String>) {
    let owner = text(errors, "owner", owner, MAX_TEXT);
    if owner.is_none() {
        errors.push("owner", "is required");
    }
    let scope = match scope.unwrap_or(ScopeFilter::Personal).row_scope() {
        Some(s) => s,
        None => {
            errors.push(
                "scope",
                "ALL is a list filter; a row is PERSONAL, GROUP or GLOBAL",
            );
            Scope::Personal
        }
    };
    let group = text(errors, "group", group, MAX_TEXT);
    if scope == Scope::Group && group.is_none() {
        errors.push("group", "is required for GROUP scope");
    }
    (owner.unwrap_or_default(), scope, group)
}

impl ContactInput {
    /// Validates into a contact with `id` and `created_at`.
    pub fn validate(
        self,
        id: ContactId,
        created_at: OffsetDateTime,
    ) -> Result<Contact, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let (country, personal_code) = identity(
            &mut errors,
            "country",
            "personalCode",
            self.country,
            self.personal_code,
        );
        let language = text(&mut errors, "language", self.language, 35).and_then(|raw| {
            Language::parse(&raw)
                .map_err(|e| errors.push("language", e.to_string()))
                .ok()
        });
        let (owner, scope, group) = ownership(&mut errors, self.owner, self.scope, self.group);
        let contact = Contact {
            id,
            created_at,
            name: text(&mut errors, "name", self.name, MAX_TEXT),
            country,
            personal_code,
            phone: text(&mut errors, "phone", self.phone, 32),
            email: email(&mut errors, "email", self.email),
            role: self.role,
            default_anonymous: self.default_anonymous.unwrap_or(false),
            owner,
            scope,
            group,
            language,
        };
        errors.into_result(contact)
    }
}

/// `listContacts` filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFilter {
    /// Whose view.
    pub viewer: Viewer,
    /// Scopes to include; empty means all visible ones.
    pub scopes: Vec<Scope>,
    /// Case-insensitive substring of the name; lower-cased.
    pub name: Option<String>,
    /// Case-insensitive substring of the email; lower-cased.
    pub email: Option<String>,
    /// Normalised personal code, exact.
    pub personal_code: Option<String>,
}

/// Turns the seed's repeated `scope` parameter into row scopes (`ALL` or none: every one).
pub fn scopes(filters: &[ScopeFilter]) -> Vec<Scope> {
    if filters.contains(&ScopeFilter::All) {
        return Vec::new();
    }
    let mut out: Vec<Scope> = filters.iter().filter_map(|f| f.row_scope()).collect();
    out.sort();
    out.dedup();
    out
}
