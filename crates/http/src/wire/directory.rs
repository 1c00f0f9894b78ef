//! Contacts and process templates (the seed's `Contact` and `Template`).

use std::fmt;

use pas_domain::contact as contact_domain;
use pas_domain::status::{ScopeFilter, SignerRole};
use pas_domain::template as template_domain;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A stored row's scope in the seed's spelling (its `Scope` has `ALL` for list filters).
fn scope(row: pas_domain::status::Scope) -> ScopeFilter {
    match row {
        pas_domain::status::Scope::Personal => ScopeFilter::Personal,
        pas_domain::status::Scope::Group => ScopeFilter::Group,
        pas_domain::status::Scope::Global => ScopeFilter::Global,
    }
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Resource identificator (required on update).
    pub id: Uuid,
    /// Contact creation timestamp.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Contact full name.
    pub name: Option<String>,
    /// Country code of personal code.
    pub country: Option<String>,
    /// Personal code of the contact.
    pub personal_code: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Role assigned to the contact.
    pub role: Option<SignerRole>,
    /// Default anonymous signing mode.
    pub default_anonymous: bool,
    /// Owner code.
    pub owner: String,
    /// Contact visibility scope (a row is PERSONAL, GROUP or GLOBAL).
    pub scope: ScopeFilter,
    /// Owner group code.
    pub group: Option<String>,
    /// Preferred language code.
    pub language: Option<String>,
}

impl From<contact_domain::Contact> for Contact {
    fn from(c: contact_domain::Contact) -> Self {
        Self {
            id: c.id.as_uuid(),
            created_at: c.created_at,
            name: c.name,
            country: c.country.map(|v| v.as_str().to_owned()),
            personal_code: c.personal_code.map(|v| v.as_str().to_owned()),
            phone: c.phone,
            email: c.email.map(|v| v.as_str().to_owned()),
            role: c.role,
            default_anonymous: c.default_anonymous,
            owner: c.owner,
            scope: scope(c.scope),
            group: c.group,
            language: c.language.map(|v| v.as_str().to_owned()),
        }
    }
}

/// A process template.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Resource identificator.
    pub id: Uuid,
    /// Template creation timestamp.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Template name.
    pub name: String,
    /// Template content payload.
    pub data: Option<String>,
    /// Template owner code.
    pub owner: String,
    /// Template visibility scope (a row is PERSONAL, GROUP or GLOBAL).
    pub scope: ScopeFilter,
    /// Template owner group.
    pub group: Option<String>,
}

impl From<template_domain::Template> for Template {
    fn from(t: template_domain::Template) -> Self {
        Self {
            id: t.id.as_uuid(),
            created_at: t.created_at,
            name: t.name,
            data: t.data,
            owner: t.owner,
            scope: scope(t.scope),
            group: t.group,
        }
    }
}

/// A contact as a client writes it.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInput {
    id: Option<Uuid>,
    name: Option<String>,
    country: Option<String>,
    personal_code: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    role: Option<SignerRole>,
    default_anonymous: Option<bool>,
    owner: Option<String>,
    scope: Option<ScopeFilter>,
    group: Option<String>,
    language: Option<String>,
}

impl fmt::Debug for ContactInput {
    // The personal code never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactInput")
            .field("id", &self.id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl From<ContactInput> for contact_domain::ContactInput {
    fn from(c: ContactInput) -> Self {
        Self {
            id: c.id,
            name: c.name,
            country: c.country,
            personal_code: c.personal_code,
            phone: c.phone,
            email: c.email,
            role: c.role,
            default_anonymous: c.default_anonymous,
            owner: c.owner,
            scope: c.scope,
            group: c.group,
            language: c.language,
        }
    }
}

/// A template as a client writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInput {
    id: Option<Uuid>,
    name: Option<String>,
    data: Option<String>,
    owner: Option<String>,
    scope: Option<ScopeFilter>,
    group: Option<String>,
}

impl From<TemplateInput> for template_domain::TemplateInput {
    fn from(t: TemplateInput) -> Self {
        Self {
            id: t.id,
            name: t.name,
            data: t.data,
            owner: t.owner,
            scope: t.scope,
            group: t.group,
        }
    }
}
