//! The outbox as administrators see it (`GET /outbox`, `POST /outbox/{id}/retry`). Rows
//! hold no personal code; an email's recipient address is the one personal detail shown.

use pas_domain::outbox as domain;
use pas_domain::status::{EventType, OutboxChannel, OutboxKind, OutboxState};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One outbox row: an email (a notification, or the audit checkpoint) or a webhook
/// delivery, and how its delivery goes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    /// Row id; also the local part of the email's `Message-ID`.
    pub id: Uuid,
    /// How it is delivered.
    pub channel: OutboxChannel,
    /// Where its delivery is.
    pub state: OutboxState,
    /// What it delivers: a notification about a process, the audit checkpoint emailed to
    /// `AUDIT_CHECKPOINT_EMAIL`, or a webhook delivery of an event to a subscription.
    pub kind: OutboxKind,
    /// The event it tells about; `null` for an audit checkpoint.
    pub event_type: Option<EventType>,
    /// The recipient's role in the notification matrix (`initiator`, `signer`, `approver`,
    /// `viewer`, `administrator`); `null` for an audit checkpoint or a webhook delivery.
    pub role: Option<String>,
    /// Recipient address; `null` for a webhook delivery.
    pub recipient: Option<String>,
    /// The subscription a webhook delivery goes to; `null` for an email.
    pub subscription_id: Option<Uuid>,
    /// The signing process it is about; `null` for an audit checkpoint.
    pub process_id: Option<Uuid>,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// When the row was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its delivery (re)started; `MAIL_GIVE_UP_AFTER` counts from here.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    /// When it is tried next (meaningful while PENDING).
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// The last failure (at most 300 characters).
    pub last_error: Option<String>,
    /// When it was delivered.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

impl From<domain::OutboxEntry> for OutboxMessage {
    fn from(e: domain::OutboxEntry) -> Self {
        Self {
            id: e.id,
            channel: e.channel,
            state: e.state,
            kind: e.kind,
            event_type: e.event_type,
            role: e.role.map(|r| r.as_str().to_owned()),
            recipient: e.to.map(|to| to.as_str().to_owned()),
            subscription_id: e.subscription_id.map(|s| s.as_uuid()),
            process_id: e.process_id.map(|p| p.as_uuid()),
            attempts: e.attempts,
            created_at: e.created_at,
            queued_at: e.queued_at,
            next_attempt_at: e.next_attempt_at,
            last_error: e.last_error,
            sent_at: e.sent_at,
        }
    }
}
