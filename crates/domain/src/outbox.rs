//! The outbox as administrators see it (PRODUCT.md section 14): rows by state and channel,
//! and the rules of delivery by age.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::ids::ProcessId;
use crate::notify::RecipientRole;
use crate::status::{EventType, OutboxChannel, OutboxState};
use crate::values::Email;

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
    /// The event it tells about.
    pub event_type: EventType,
    /// The recipient's role in the notification matrix.
    pub role: RecipientRole,
    /// Recipient address.
    pub to: Email,
    /// The process it is about.
    pub process_id: ProcessId,
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
