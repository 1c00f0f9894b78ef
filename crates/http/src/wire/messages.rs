//! What the email triggers answer.

use pas_domain::ports::SentEmail;
use serde::Serialize;
use utoipa::ToSchema;

/// How many reminders `sendReminders` recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemindersSent {
    /// Reminders newly queued (a second run on the same day queues none).
    pub sent: usize,
}

/// One email `sendTestEmail` sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestEmailSent {
    /// The address.
    pub to: String,
    /// The rendered subject.
    pub subject: String,
}

impl From<SentEmail> for TestEmailSent {
    fn from(e: SentEmail) -> Self {
        Self {
            to: e.to,
            subject: e.subject,
        }
    }
}
