//! The audit log (the seed's `AuditingEvent`) and a process's verified trail.

use pas_domain::audit as domain;
use pas_domain::pseudonym::mask_personal_code;
use pas_domain::status::EventType;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// An audit event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditingEvent {
    /// Resource identificator.
    pub id: Uuid,
    /// Audit event creation timestamp (always the service's time).
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Type of event being audited.
    pub event_type: EventType,
    /// Source/origin of the event.
    pub event_origin: Option<String>,
    /// User who initiated the event (default: the caller).
    pub creator: Option<String>,
    /// Document identificator.
    pub document_id: Option<String>,
    /// Signer identificator.
    pub signer_id: Option<Uuid>,
    /// Customer personal code, masked: its first six characters, then `*` for every
    /// letter and digit (`161175-*****`). Find a person's events with `personalCode` and
    /// `country` on `GET /audit-events`.
    #[schema(example = "161175-*****")]
    pub customer_personal_code: Option<String>,
    /// Additional audit note.
    pub note: Option<String>,
    /// Signing process identificator.
    pub process_id: Option<Uuid>,
    /// Request IP address (default: the caller's).
    pub ip_address: Option<String>,
    /// Container identificator.
    pub container_id: Option<String>,
    /// Method or operation name.
    pub method: Option<String>,
    /// Client application name (default: X-Client-App or User-Agent).
    pub client_app_name: Option<String>,
    /// Position in its process's hash chain, from 0.
    #[schema(read_only)]
    pub sequence: i64,
    /// Hash of the previous event of the chain.
    #[schema(read_only)]
    pub previous_hash: Option<String>,
    /// HMAC-SHA256 (hex), under the audit key, of the previous hash and this event's
    /// canonical form (plain SHA-256 for events written before keying).
    #[schema(read_only)]
    pub hash: String,
}

impl From<domain::AuditingEvent> for AuditingEvent {
    fn from(row: domain::AuditingEvent) -> Self {
        let e = row.event;
        Self {
            id: e.id.as_uuid(),
            created_at: e.created_at,
            event_type: e.event_type,
            event_origin: e.event_origin,
            creator: e.creator,
            document_id: e.document_id,
            signer_id: e.signer_id.map(|id| id.as_uuid()),
            // Rows from before pseudonymisation hold the code as given: masked here too.
            customer_personal_code: e.customer_personal_code.as_deref().map(mask_personal_code),
            note: e.note,
            process_id: e.process_id.map(|id| id.as_uuid()),
            ip_address: e.ip_address,
            container_id: e.container_id,
            method: e.method,
            client_app_name: e.client_app_name,
            sequence: row.sequence,
            previous_hash: row.previous_hash,
            hash: row.hash,
        }
    }
}

/// The audit trail of a process and the verdict of its hash chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditTrail {
    /// The process.
    pub process_id: Uuid,
    /// The chain holds.
    pub valid: bool,
    /// Position of the first event whose hash does not hold (for a truncated chain: the
    /// first missing event); null when valid.
    pub broken_at: Option<usize>,
    /// Why the chain does not hold; null when valid. `altered` (an event was edited, removed
    /// or reordered), `unknown-key` (hashed under a key the service does not know),
    /// `unkeyed` (a plain SHA-256 event after the chain's prefix written before keying),
    /// `truncated` (the stored head counts more events: the newest were removed),
    /// `head-mismatch` (events beyond the stored head, or the head names another hash),
    /// `head-missing` (events without a stored head), `missing` (the process exists but
    /// its chain is gone).
    pub break_reason: Option<String>,
    /// Events, oldest first.
    pub events: Vec<AuditingEvent>,
}

/// The current audit checkpoint, for publishing: a later `app audit verify --checkpoint`
/// with the full checkpoint file proves no chain was shortened or rewritten since.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditCheckpoint {
    /// When it was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Non-empty chains covered.
    pub chain_count: usize,
    /// SHA-256 (hex) over the chains' lines `chainKey length head` (each ending in a
    /// newline), sorted by chain key.
    pub root: String,
}

impl From<domain::Checkpoint> for AuditCheckpoint {
    fn from(c: domain::Checkpoint) -> Self {
        Self {
            created_at: c.created_at,
            chain_count: c.chains.len(),
            root: c.root,
        }
    }
}

impl From<domain::AuditTrail> for AuditTrail {
    fn from(t: domain::AuditTrail) -> Self {
        Self {
            process_id: t.process_id.as_uuid(),
            valid: t.valid,
            broken_at: t.broken_at,
            break_reason: t.break_kind.map(|k| k.as_str().to_owned()),
            events: t.events.into_iter().map(Into::into).collect(),
        }
    }
}

/// An event from another system (`createAuditingEvent`), as the client writes it.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventInput {
    id: Option<Uuid>,
    event_type: Option<EventType>,
    event_origin: Option<String>,
    creator: Option<String>,
    document_id: Option<String>,
    signer_id: Option<Uuid>,
    customer_personal_code: Option<String>,
    note: Option<String>,
    process_id: Option<Uuid>,
    ip_address: Option<String>,
    container_id: Option<String>,
    method: Option<String>,
    client_app_name: Option<String>,
}

impl From<AuditEventInput> for domain::AuditEventInput {
    fn from(e: AuditEventInput) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type,
            event_origin: e.event_origin,
            creator: e.creator,
            document_id: e.document_id,
            signer_id: e.signer_id,
            customer_personal_code: e.customer_personal_code,
            note: e.note,
            process_id: e.process_id,
            ip_address: e.ip_address,
            container_id: e.container_id,
            method: e.method,
            client_app_name: e.client_app_name,
        }
    }
}
