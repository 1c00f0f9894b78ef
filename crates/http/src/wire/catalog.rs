//! Document profiles and attributes (the seed's `DocumentProfile` and `DocumentAttribute`).

use pas_domain::catalog as domain;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A document attribute.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentAttribute {
    /// Resource identificator.
    pub id: Uuid,
    /// Attribute creation timestamp.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Attribute data type.
    #[serde(rename = "type")]
    pub attr_type: Option<String>,
    /// Attribute name.
    pub name: String,
    /// Indicates whether attribute is required.
    pub required: bool,
}

impl From<domain::DocumentAttribute> for DocumentAttribute {
    fn from(a: domain::DocumentAttribute) -> Self {
        Self {
            id: a.id.as_uuid(),
            created_at: a.created_at,
            attr_type: a.attr_type,
            name: a.name,
            required: a.required,
        }
    }
}

/// A document profile.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentProfile {
    /// Resource identificator.
    #[schema(read_only)]
    pub id: Uuid,
    /// Profile creation timestamp.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Document profile name.
    pub name: String,
    /// Document type for this profile.
    pub document_type: Option<String>,
    /// Owner group for this profile.
    pub owner_group: Option<String>,
    /// Required/optional document attributes (referenced by id when written).
    pub attributes: Vec<DocumentAttribute>,
    /// Seal profile code.
    pub seal: Option<String>,
    /// Indicates whether a seal is required.
    pub is_seal_required: bool,
    /// Display order of the profile.
    pub profileorder: i32,
}

impl From<domain::DocumentProfile> for DocumentProfile {
    fn from(p: domain::DocumentProfile) -> Self {
        Self {
            id: p.id.as_uuid(),
            created_at: p.created_at,
            name: p.name,
            document_type: p.document_type,
            owner_group: p.owner_group,
            attributes: p.attributes.into_iter().map(Into::into).collect(),
            seal: p.seal,
            is_seal_required: p.is_seal_required,
            profileorder: p.profileorder,
        }
    }
}

/// An attribute as a client writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeInput {
    id: Option<Uuid>,
    #[serde(rename = "type")]
    attr_type: Option<String>,
    name: Option<String>,
    required: Option<bool>,
}

impl From<AttributeInput> for domain::AttributeInput {
    fn from(a: AttributeInput) -> Self {
        Self {
            id: a.id,
            attr_type: a.attr_type,
            name: a.name,
            required: a.required,
        }
    }
}

/// A profile as a client writes it; attributes are referenced by id.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    name: Option<String>,
    document_type: Option<String>,
    owner_group: Option<String>,
    #[serde(default)]
    attributes: Vec<AttributeInput>,
    seal: Option<String>,
    is_seal_required: Option<bool>,
    profileorder: Option<i32>,
}

impl From<ProfileInput> for domain::ProfileInput {
    fn from(p: ProfileInput) -> Self {
        Self {
            name: p.name,
            document_type: p.document_type,
            owner_group: p.owner_group,
            attributes: p.attributes.into_iter().map(Into::into).collect(),
            seal: p.seal,
            is_seal_required: p.is_seal_required,
            profileorder: p.profileorder,
        }
    }
}
