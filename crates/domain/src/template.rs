//! Process templates: saved process shapes with a visibility scope.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::contact::ownership;
use crate::error::ValidationErrors;
use crate::ids::TemplateId;
use crate::input::{MAX_TEXT, text};
use crate::status::{Scope, ScopeFilter};
use crate::visibility::Viewer;

/// Largest template payload, in bytes.
pub const MAX_TEMPLATE_DATA: usize = 256 * 1024;

/// A template (the seed's `Template`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Id.
    pub id: TemplateId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Name.
    pub name: String,
    /// Content payload (opaque to the service).
    pub data: Option<String>,
    /// Owner user.
    pub owner: String,
    /// Visibility.
    pub scope: Scope,
    /// Owner group.
    pub group: Option<String>,
}

/// A template as a client writes it.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct TemplateInput {
    /// Client id (ignored unless unused).
    pub id: Option<Uuid>,
    /// Name (required).
    pub name: Option<String>,
    /// Payload.
    pub data: Option<String>,
    /// Owner (required).
    pub owner: Option<String>,
    /// Scope (PERSONAL by default).
    pub scope: Option<ScopeFilter>,
    /// Group (required for GROUP).
    pub group: Option<String>,
}

impl TemplateInput {
    /// Validates into a template.
    pub fn validate(
        self,
        id: TemplateId,
        created_at: OffsetDateTime,
    ) -> Result<Template, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = text(&mut errors, "name", self.name, MAX_TEXT);
        if name.is_none() {
            errors.push("name", "is required");
        }
        if self
            .data
            .as_ref()
            .is_some_and(|d| d.len() > MAX_TEMPLATE_DATA)
        {
            errors.push("data", format!("must be at most {MAX_TEMPLATE_DATA} bytes"));
        }
        let (owner, scope, group) = ownership(&mut errors, self.owner, self.scope, self.group);
        errors.into_result(Template {
            id,
            created_at,
            name: name.unwrap_or_default(),
            data: self.data,
            owner,
            scope,
            group,
        })
    }
}

/// `listTemplates` filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFilter {
    /// Whose view.
    pub viewer: Viewer,
    /// Scopes to include; empty means all visible ones.
    pub scopes: Vec<Scope>,
    /// Case-insensitive substring of the name; lower-cased.
    pub name: Option<String>,
}
