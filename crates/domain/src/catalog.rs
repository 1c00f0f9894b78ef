//! Document profiles and their attributes (admin configuration).

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ValidationErrors;
use crate::ids::{AttributeId, ProfileId};
use crate::input::{MAX_TEXT, text};

/// A document attribute (the seed's `DocumentAttribute`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAttribute {
    /// Id.
    pub id: AttributeId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Data type.
    pub attr_type: Option<String>,
    /// Name.
    pub name: String,
    /// Whether documents of a profile must carry it.
    pub required: bool,
}

/// An attribute as a client writes it.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AttributeInput {
    /// Id: on create a client UUID not yet used; inside a profile, the attribute referenced.
    pub id: Option<Uuid>,
    /// Data type.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub attr_type: Option<String>,
    /// Name (required).
    pub name: Option<String>,
    /// Required flag.
    pub required: Option<bool>,
}

impl AttributeInput {
    /// Validates into an attribute.
    pub fn validate(
        self,
        id: AttributeId,
        created_at: OffsetDateTime,
    ) -> Result<DocumentAttribute, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text(&mut errors, "name", self.name, MAX_TEXT);
        if name.is_none() {
            errors.push("name", "is required");
        }
        let attr_type = text(&mut errors, "type", self.attr_type, MAX_TEXT);
        errors.into_result(DocumentAttribute {
            id,
            created_at,
            attr_type,
            name: name.unwrap_or_default(),
            required: self.required.unwrap_or(false),
        })
    }
}

/// A document profile (the seed's `DocumentProfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentProfile {
    /// Id.
    pub id: ProfileId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Name (unique).
    pub name: String,
    /// Document type.
    pub document_type: Option<String>,
    /// Owner group.
    pub owner_group: Option<String>,
    /// Attributes, by name.
    pub attributes: Vec<DocumentAttribute>,
    /// Seal profile code.
    pub seal: Option<String>,
    /// Whether a seal is required.
    pub is_seal_required: bool,
    /// Display order.
    pub profileorder: i32,
}

/// A profile as a client writes it; attributes are referenced by id.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ProfileInput {
    /// Name (required).
    pub name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Owner group.
    pub owner_group: Option<String>,
    /// Attributes: their ids are read.
    #[cfg_attr(feature = "serde", serde(default))]
    pub attributes: Vec<AttributeInput>,
    /// Seal code.
    pub seal: Option<String>,
    /// Seal required.
    pub is_seal_required: Option<bool>,
    /// Display order.
    pub profileorder: Option<i32>,
}

/// A validated profile whose attributes still have to be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileDraft {
    /// The profile with an empty attribute list.
    pub profile: DocumentProfile,
    /// The attributes to link, in order, without repeats.
    pub attribute_ids: Vec<AttributeId>,
}

impl ProfileInput {
    /// Validates into a draft.
    pub fn validate(
        self,
        id: ProfileId,
        created_at: OffsetDateTime,
    ) -> Result<ProfileDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text(&mut errors, "name", self.name, MAX_TEXT);
        if name.is_none() {
            errors.push("name", "is required");
        }
        let mut attribute_ids = Vec::new();
        for (i, a) in self.attributes.iter().enumerate() {
            match a.id.map(AttributeId::from_uuid) {
                Some(id) if !attribute_ids.contains(&id) => attribute_ids.push(id),
                Some(_) => {}
                None => errors.push(
                    format!("attributes[{i}].id"),
                    "is required (attributes are referenced by id)",
                ),
            }
        }
        let profile = DocumentProfile {
            id,
            created_at,
            name: name.unwrap_or_default(),
            document_type: text(&mut errors, "documentType", self.document_type, MAX_TEXT),
            owner_group: text(&mut errors, "ownerGroup", self.owner_group, MAX_TEXT),
            attributes: Vec::new(),
            seal: text(&mut errors, "seal", self.seal, MAX_TEXT),
            is_seal_required: self.is_seal_required.unwrap_or(false),
            profileorder: self.profileorder.unwrap_or(0),
        };
        errors.into_result(ProfileDraft {
            profile,
            attribute_ids,
        })
    }
}
