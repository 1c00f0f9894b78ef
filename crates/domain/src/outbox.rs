//! The outbox as administrators see it (PRODUCT.md section 14): rows by state and channel,
//! what a row delivers ([`OutboxPayload`]: a notification, or the audit checkpoint email of
//! section 11), and the rules of delivery by age.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::CheckpointSummary;
use crate::ids::{ProcessId, SubscriptionId};
use crate::notify::{NotificationIntent, RecipientRole};
use crate::status::{EventType, OutboxChannel, OutboxKind, OutboxState};
use crate::values::Email;
use crate::webhook::WebhookDelivery;

/// The longest `last_error` an answer carries (characters); the stored row keeps it all.
pub const LAST_ERROR_CHARS: usize = 300;

/// `GET /outbox` filters; `None` matches every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxFilter {
    /// `state`.
    pub state: Option<OutboxState>,
    /// `channel`.
    pub channel: Option<OutboxChannel>,
}

/// One outbox row as `GET /outbox` shows it: what it is, to whom, and how its delivery
/// goes. Never a personal code (rows do not hold one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Row id (the `Message-ID`'s local part).
    pub id: Uuid,
    /// How it is delivered.
    pub channel: OutboxChannel,
    /// Where its delivery is.
    pub state: OutboxState,
    /// What it delivers.
    pub kind: OutboxKind,
    /// The event it tells about (`None` for an audit checkpoint).
    pub event_type: Option<EventType>,
    /// The recipient's role in the notification matrix (`None` for an audit checkpoint or
    /// a webhook delivery).
    pub role: Option<RecipientRole>,
    /// Recipient address (`None` for a webhook delivery).
    pub to: Option<Email>,
    /// The subscription a webhook delivery goes to (`None` for an email).
    pub subscription_id: Option<SubscriptionId>,
    /// The process it is about (`None` for an audit checkpoint).
    pub process_id: Option<ProcessId>,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was written.
    pub created_at: OffsetDateTime,
    /// When its delivery (re)started: `MAIL_GIVE_UP_AFTER` counts from here.
    pub queued_at: OffsetDateTime,
    /// When it is tried next (pending rows).
    pub next_attempt_at: OffsetDateTime,
    /// The last failure, truncated to [`LAST_ERROR_CHARS`].
    pub last_error: Option<String>,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
}

/// What one outbox row delivers.
///
/// ```
/// use pas_domain::audit::CheckpointSummary;
/// use pas_domain::outbox::{CheckpointMail, OutboxPayload};
/// use pas_domain::status::OutboxKind;
/// use pas_domain::values::Email;
/// let mail = CheckpointMail {
///     to: Email::parse("auditor@example.lv").unwrap(),
///     checkpoint: CheckpointSummary {
///         created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
///         chain_count: 1,
///         root: "ab".into(),
///     },
/// };
/// let payload = OutboxPayload::AuditCheckpoint(mail);
/// assert_eq!(payload.kind(), OutboxKind::AuditCheckpoint);
/// assert_eq!(payload.to().map(|to| to.as_str()), Some("auditor@example.lv"));
/// assert!(payload.notification().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxPayload {
    /// An email of the notification matrix about a process.
    Notification(NotificationIntent),
    /// The audit checkpoint to `AUDIT_CHECKPOINT_EMAIL`.
    AuditCheckpoint(CheckpointMail),
    /// A webhook delivery of one event to one subscription (PRODUCT.md section 12).
    Webhook(WebhookDelivery),
}

impl OutboxPayload {
    /// The recipient address of an email; `None` for a webhook delivery.
    pub fn to(&self) -> Option<&Email> {
        match self {
            Self::Notification(intent) => Some(&intent.to),
            Self::AuditCheckpoint(mail) => Some(&mail.to),
            Self::Webhook(_) => None,
        }
    }

    /// The row's kind.
    pub fn kind(&self) -> OutboxKind {
        match self {
            Self::Notification(_) => OutboxKind::Notification,
            Self::AuditCheckpoint(_) => OutboxKind::AuditCheckpoint,
            Self::Webhook(_) => OutboxKind::WebhookEvent,
        }
    }

    /// How the row is delivered.
    pub fn channel(&self) -> OutboxChannel {
        match self {
            Self::Notification(_) | Self::AuditCheckpoint(_) => OutboxChannel::Email,
            Self::Webhook(_) => OutboxChannel::Webhook,
        }
    }

    /// The notification, when it is one.
    pub fn notification(&self) -> Option<&NotificationIntent> {
        match self {
            Self::Notification(intent) => Some(intent),
            Self::AuditCheckpoint(_) | Self::Webhook(_) => None,
        }
    }

    /// The process the row is about, when there is one.
    pub fn process_id(&self) -> Option<ProcessId> {
        match self {
            Self::Notification(intent) => Some(intent.process_id),
            Self::AuditCheckpoint(_) => None,
            Self::Webhook(delivery) => Some(delivery.process_id),
        }
    }
}

/// The email of the `AUDIT_CHECKPOINT_CRON` job (PRODUCT.md section 11): the published
/// checkpoint, to `AUDIT_CHECKPOINT_EMAIL`. It is rendered without the notification matrix
/// (there is no process), as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointMail {
    /// `AUDIT_CHECKPOINT_EMAIL`.
    pub to: Email,
    /// What `GET /audit-checkpoint` would have answered at that run.
    pub checkpoint: CheckpointSummary,
}

impl CheckpointMail {
    /// The outbox row id of the run scheduled at `scheduled_at`: a UUID v5 of the scheduled
    /// instant (whole seconds since the epoch, so the zone it was computed in does not
    /// matter). Instances whose jobs fire for the same scheduled run compute the same id, so
    /// only the first insert writes a row and one email is sent.
    ///
    /// ```
    /// use pas_domain::outbox::CheckpointMail;
    /// use time::macros::datetime;
    /// let riga = CheckpointMail::row_id(datetime!(2026-03-02 10:00 +2));
    /// let utc = CheckpointMail::row_id(datetime!(2026-03-02 8:00 UTC));
    /// assert_eq!(riga, utc);
    /// assert_ne!(utc, CheckpointMail::row_id(datetime!(2026-03-02 8:01 UTC)));
    /// assert_eq!(utc.get_version_num(), 5);
    /// ```
    pub fn row_id(scheduled_at: OffsetDateTime) -> Uuid {
        let name = format!("audit-checkpoint/{}", scheduled_at.unix_timestamp());
        Uuid::new_v5(&CHECKPOINT_NAMESPACE, name.as_bytes())
    }
}

/// The UUID v5 namespace of the audit checkpoint rows' ids: a fixed UUID of this service,
/// so that its ids collide with nobody else's.
const CHECKPOINT_NAMESPACE: Uuid = Uuid::from_u128(0x5d2c_1e8a_4b7f_5c3e_9a61_0f4d_2b8e_7c15);

/// `last_error` cut to [`LAST_ERROR_CHARS`] characters (with `…` when cut).
///
/// ```
/// use pas_domain::outbox::truncate_error;
/// assert_eq!(truncate_error("421 try later"), "421 try later");
/// assert_eq!(truncate_error(&"x".repeat(400)).chars().count(), 301);
/// ```
pub fn truncate_error(text: &str) -> String {
    if text.chars().count() <= LAST_ERROR_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(LAST_ERROR_CHARS).collect();
    cut.push('…');
    cut
}

/// Delivery by age (PRODUCT.md section 14): after a temporary failure at `now`, the row
/// queued at `queued_at` is tried again at the returned instant, or given up (`None`) once
/// `give_up_after` has passed since it was queued. The wait is `retry_delay`; a retry never
/// lands after the give-up instant, so the last attempt happens right at it.
///
/// ```
/// use std::time::Duration;
/// use pas_domain::outbox::next_attempt;
/// use time::macros::datetime;
///
/// let queued = datetime!(2026-03-02 8:00 UTC);
/// let day = Duration::from_secs(86_400);
/// let hour = Duration::from_secs(3600);
/// // Early on: wait the retry delay.
/// assert_eq!(next_attempt(queued, queued, day, hour), Some(datetime!(2026-03-02 9:00 UTC)));
/// // Close to the end: the last attempt is at the give-up instant.
/// let late = datetime!(2026-03-03 7:30 UTC);
/// assert_eq!(next_attempt(queued, late, day, hour), Some(datetime!(2026-03-03 8:00 UTC)));
/// // At or after it: given up.
/// assert_eq!(next_attempt(queued, datetime!(2026-03-03 8:00 UTC), day, hour), None);
/// ```
pub fn next_attempt(
    queued_at: OffsetDateTime,
    now: OffsetDateTime,
    give_up_after: Duration,
    retry_delay: Duration,
) -> Option<OffsetDateTime> {
    let deadline = add(queued_at, give_up_after);
    if now >= deadline {
        return None;
    }
    Some(add(now, retry_delay).min(deadline))
}

fn add(at: OffsetDateTime, wait: Duration) -> OffsetDateTime {
    time::Duration::try_from(wait)
        .ok()
        .and_then(|d| at.checked_add(d))
        .unwrap_or_else(|| OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap_or(at))
}

/// Retention of sent rows (`OUTBOX_KEEP_SENT`): rows sent before the returned instant may be
/// deleted at `now` when sent rows are kept for `keep`. `None` when `keep` reaches back past
/// the earliest representable time, where no row can be old enough.
///
/// ```
/// use std::time::Duration;
/// use pas_domain::outbox::sent_cutoff;
/// use time::macros::datetime;
///
/// let now = datetime!(2026-03-09 8:00 UTC);
/// let week = Duration::from_secs(7 * 86_400);
/// assert_eq!(sent_cutoff(now, week), Some(datetime!(2026-03-02 8:00 UTC)));
/// assert_eq!(sent_cutoff(now, Duration::MAX), None);
/// ```
pub fn sent_cutoff(now: OffsetDateTime, keep: Duration) -> Option<OffsetDateTime> {
    time::Duration::try_from(keep)
        .ok()
        .and_then(|keep| now.checked_sub(keep))
}
