//! The audit trail (PRODUCT.md section 8): events with the caller's details, and the
//! per-process SHA-256 hash chain that makes a changed, removed or reordered row detectable.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::{Principal, client_may_record};
use crate::error::ValidationErrors;
use crate::events::DomainEvent;
use crate::ids::{AuditEventId, EntryId, ProcessId};
use crate::input::{MAX_COMMENT, MAX_TEXT, text};
use crate::process::ProcessData;
use crate::status::EventType;

/// Who asks: the authenticated [`Principal`] and the client address, recorded on every
/// audit row. Built in one place at the HTTP edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who the request acts as, and what it may do.
    pub principal: Principal,
    /// Client address.
    pub ip_address: Option<String>,
}

impl Caller {
    /// The service itself, named `name` (scheduled jobs): an administrator.
    pub fn system(name: &str) -> Self {
        Self::new(Principal::system(name), None)
    }

    /// A principal calling from an address.
    pub fn new(principal: Principal, ip_address: Option<String>) -> Self {
        Self {
            principal,
            ip_address,
        }
    }

    /// The acting user (`creator` on audit rows).
    pub fn user(&self) -> &str {
        &self.principal.subject
    }

    /// The client application (`clientAppName` on audit rows).
    pub fn client_app(&self) -> Option<&str> {
        self.principal.client.as_deref()
    }
}

/// Where events made by this service come from.
pub const EVENT_ORIGIN: &str = "process-and-auditing-service";

/// An audit row before it is chained. Its `Serialize` is the canonical form the hash chain
/// covers ([`canonical`]): stored chains depend on it byte for byte, so it is not a wire
/// shape and must not change with one.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAuditEvent {
    /// Id.
    pub id: AuditEventId,
    /// When it happened.
    #[serde(serialize_with = "ser_time")]
    pub created_at: OffsetDateTime,
    /// Type.
    pub event_type: EventType,
    /// Which system recorded it.
    pub event_origin: Option<String>,
    /// Acting user.
    pub creator: Option<String>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry concerned.
    pub signer_id: Option<EntryId>,
    /// Personal code of the person concerned.
    pub customer_personal_code: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// Process (the chain it belongs to).
    pub process_id: Option<ProcessId>,
    /// Client address.
    pub ip_address: Option<String>,
    /// Signature container.
    pub container_id: Option<String>,
    /// Operation name.
    pub method: Option<String>,
    /// Client application.
    pub client_app_name: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    time::serde::rfc3339::serialize(t, s)
}

impl std::fmt::Debug for NewAuditEvent {
    // The personal code stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuditEvent")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("process_id", &self.process_id)
            .field("signer_id", &self.signer_id)
            .finish_non_exhaustive()
    }
}

impl NewAuditEvent {
    /// The audit row of a domain event, with the caller's details and `method` (the
    /// operation). The personal code is the concerned entry's, if it has one.
    pub fn from_domain(
        id: AuditEventId,
        event: &DomainEvent,
        process: &ProcessData,
        caller: &Caller,
        method: &str,
    ) -> Self {
        let code = event
            .signer_id
            .and_then(|s| process.find_entry(s))
            .and_then(|(_, e)| e.details.signer_personal_code.as_ref())
            .map(|c| c.as_str().to_owned());
        Self {
            id,
            created_at: event.occurred_at,
            event_type: event.event_type,
            event_origin: Some(EVENT_ORIGIN.to_owned()),
            creator: Some(caller.user().to_owned()),
            document_id: Some(process.header.document_id.clone()),
            signer_id: event.signer_id,
            customer_personal_code: code,
            note: event.note.clone(),
            process_id: Some(process.id),
            ip_address: caller.ip_address.clone(),
            container_id: None,
            method: Some(method.to_owned()),
            client_app_name: caller.client_app().map(str::to_owned),
        }
    }
}

/// A stored audit row: the event, its position in its process's chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditingEvent {
    /// The event.
    pub event: NewAuditEvent,
    /// Position in the chain, from 0.
    pub sequence: i64,
    /// Hash of the previous event of the chain.
    pub previous_hash: Option<String>,
    /// SHA-256 (hex) of the previous hash and this event's canonical form.
    pub hash: String,
}

/// The canonical form hashed: the event's JSON with fields in declaration order.
pub fn canonical(event: &NewAuditEvent) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// The hash of `event` chained after `previous`.
///
/// ```
/// use pas_domain::audit::{chain_hash, verify_chain, AuditingEvent, NewAuditEvent};
/// # use pas_domain::{ids::AuditEventId, status::EventType};
/// # let event = |n: u128| NewAuditEvent { id: AuditEventId::from_uuid(uuid::Uuid::from_u128(n)),
/// #     created_at: time::macros::datetime!(2026-01-01 0:00 UTC), event_type: EventType::ProcessStarted,
/// #     event_origin: None, creator: None, document_id: None, signer_id: None, customer_personal_code: None,
/// #     note: None, process_id: None, ip_address: None, container_id: None, method: None, client_app_name: None };
/// let first = chain_hash(None, &event(1));
/// let second = chain_hash(Some(&first), &event(2));
/// let rows = vec![
///     AuditingEvent { event: event(1), sequence: 0, previous_hash: None, hash: first.clone() },
///     AuditingEvent { event: event(2), sequence: 1, previous_hash: Some(first), hash: second },
/// ];
/// assert_eq!(verify_chain(&rows), None);
/// let mut edited = rows.clone();
/// edited[1].event.note = Some("changed".into());
/// assert_eq!(verify_chain(&edited), Some(1));
/// ```
pub fn chain_hash(previous: Option<&str>, event: &NewAuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(previous.unwrap_or("").as_bytes());
    h.update(b"\n");
    h.update(canonical(event).as_bytes());
    hex::encode(h.finalize())
}

/// Chains `event` after the chain's last row (or as the first).
pub fn chain(last: Option<&AuditingEvent>, event: NewAuditEvent) -> AuditingEvent {
    let previous_hash = last.map(|l| l.hash.clone());
    let hash = chain_hash(previous_hash.as_deref(), &event);
    AuditingEvent {
        event,
        sequence: last.map_or(0, |l| l.sequence + 1),
        previous_hash,
        hash,
    }
}

/// The position of the first row whose hash does not hold (edited, removed, reordered or
/// inserted), or `None` when the chain, oldest first, is intact.
pub fn verify_chain(rows: &[AuditingEvent]) -> Option<usize> {
    let mut previous: Option<&str> = None;
    for (i, row) in rows.iter().enumerate() {
        let position_ok = row.sequence == i64::try_from(i).unwrap_or(-1);
        if !position_ok
            || row.previous_hash.as_deref() != previous
            || row.hash != chain_hash(previous, &row.event)
        {
            return Some(i);
        }
        previous = Some(&row.hash);
    }
    None
}

/// `GET /processes/{id}/audit-trail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTrail {
    /// The process.
    pub process_id: ProcessId,
    /// The chain holds.
    pub valid: bool,
    /// First broken position, when not valid.
    pub broken_at: Option<usize>,
    /// Events, oldest first.
    pub events: Vec<AuditingEvent>,
}

impl AuditTrail {
    /// Verifies `events` (oldest first).
    pub fn verify(process_id: ProcessId, events: Vec<AuditingEvent>) -> Self {
        let broken_at = verify_chain(&events);
        Self {
            process_id,
            valid: broken_at.is_none(),
            broken_at,
            events,
        }
    }
}

/// `GET /audit-events` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Process.
    pub process_id: Option<ProcessId>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry.
    pub signer_id: Option<EntryId>,
    /// Type.
    pub event_type: Option<EventType>,
    /// On or after.
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub to: Option<OffsetDateTime>,
    /// Only events of processes owned by one of these groups (`None`: every event). Set by
    /// the use case from the principal, never by a client.
    pub owner_groups: Option<Vec<String>>,
}

/// An event from another system (`createAuditingEvent`).
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AuditEventInput {
    /// Client id (must be unused).
    pub id: Option<Uuid>,
    /// Type (required).
    pub event_type: Option<EventType>,
    /// Ignored: the origin is the caller's client application.
    pub event_origin: Option<String>,
    /// Ignored: the acting user is the caller's subject.
    pub creator: Option<String>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry.
    pub signer_id: Option<Uuid>,
    /// Person concerned.
    pub customer_personal_code: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Process.
    pub process_id: Option<Uuid>,
    /// Client address as the other system saw it.
    pub ip_address: Option<String>,
    /// Container.
    pub container_id: Option<String>,
    /// Operation.
    pub method: Option<String>,
    /// Ignored: the client application is the caller's.
    pub client_app_name: Option<String>,
}

impl AuditEventInput {
    /// Validates into a row; `createdAt` is always the service's time. Only the event types
    /// of [`client_may_record`] are accepted (422 for the service's own types). `creator`,
    /// `clientAppName` and `eventOrigin` come from the caller's principal, whatever the body
    /// says: a client can record what it saw, never who it was.
    pub fn validate(
        self,
        id: AuditEventId,
        now: OffsetDateTime,
        caller: &Caller,
    ) -> Result<NewAuditEvent, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match self.event_type {
            None => errors.push("eventType", "is required"),
            Some(t) if !client_may_record(t) => errors.push(
                "eventType",
                format!("{} is recorded by the service itself", t.as_str()),
            ),
            Some(_) => {}
        }
        let mut t = |field: &str, v: Option<String>, max| text(&mut errors, field, v, max);
        let event = NewAuditEvent {
            id,
            created_at: now,
            event_type: self.event_type.unwrap_or(EventType::Failure),
            event_origin: Some(client_origin(caller)),
            creator: Some(caller.user().to_owned()),
            document_id: t("documentId", self.document_id, MAX_TEXT),
            signer_id: self.signer_id.map(EntryId::from_uuid),
            customer_personal_code: t("customerPersonalCode", self.customer_personal_code, 64),
            note: t("note", self.note, MAX_COMMENT),
            process_id: self.process_id.map(ProcessId::from_uuid),
            ip_address: t("ipAddress", self.ip_address, 64).or_else(|| caller.ip_address.clone()),
            container_id: t("containerId", self.container_id, MAX_TEXT),
            method: t("method", self.method, MAX_TEXT),
            client_app_name: caller.client_app().map(str::to_owned),
        };
        errors.into_result(event)
    }
}

/// The `eventOrigin` of a client's event: its client application (else its subject), never
/// the service's own [`EVENT_ORIGIN`], which a client named so is recorded under a prefix.
fn client_origin(caller: &Caller) -> String {
    let origin = caller.client_app().unwrap_or(caller.user());
    if origin == EVENT_ORIGIN {
        format!("client:{origin}")
    } else {
        origin.to_owned()
    }
}
