//! A person's erasure (PRODUCT.md section 11).

use pas_domain::erasure::ErasureCounts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whose data to erase.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonErasureRequest {
    /// The person's national identification code (hyphens and spaces ignored).
    #[schema(example = "161175-19997")]
    pub personal_code: String,
    /// The country of the code (ISO 3166-1 alpha-2, any case).
    #[schema(example = "LV")]
    pub country: String,
}

/// What an erasure changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonErasure {
    /// Finished or deleted processes in which the person's entries were erased.
    pub processes: usize,
    /// Entries whose personal code, name and email were erased.
    pub entries: usize,
    /// Contacts whose personal code, name, email and phone were erased.
    pub contacts: u64,
    /// Outbox rows to the erased entries whose address was erased (pending ones given up).
    pub messages: u64,
}

impl From<ErasureCounts> for PersonErasure {
    fn from(c: ErasureCounts) -> Self {
        Self {
            processes: c.processes,
            entries: c.entries,
            contacts: c.contacts,
            messages: c.messages,
        }
    }
}
