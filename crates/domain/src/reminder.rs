//! Reminder selection (PRODUCT.md section 7): every open SIGNER or APPROVER entry of a
//! STARTED process whose step is due exactly one of the configured numbers of calendar days
//! from today, in the service's time zone.

use time::{Date, OffsetDateTime};

use crate::ids::{EntryId, ProcessId, StepId};
use crate::process::ProcessData;
use crate::status::{ProcessStatus, SigningStatus, StepStatus};

/// One reminder to send. (`signer_id`, `due_date`, `days_before`) is its idempotency key:
/// running the job twice on a day finds the same keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReminderDue {
    /// Process.
    pub process_id: ProcessId,
    /// Step.
    pub step_id: StepId,
    /// Entry.
    pub signer_id: EntryId,
    /// The step's due date, as a local calendar date.
    pub due_date: Date,
    /// Days from today to the due date.
    pub days_before: u32,
}

/// The reminders due `today` for `process`. `local_date` turns an instant into a calendar
/// date in the service's time zone (an adapter knows the zone rules).
///
/// ```
/// use pas_domain::reminder::due_reminders;
/// # use pas_domain::prelude::*;
/// # use time::macros::{date, datetime};
/// # let ids = SequentialIds::default();
/// # let input: ProcessInput = serde_json::from_value(serde_json::json!({"documentId": "d", "status": "STARTED",
/// #   "signingProcessSteps": [{"dueDate": "2026-03-04T15:00:00Z", "processStepSigners": [
/// #     {"signerRole": "SIGNER", "signerNotification": false}]}]})).unwrap();
/// # let (process, _) = SigningProcess::create(input.validate().unwrap(), &ids, datetime!(2026-03-01 9:00 UTC)).unwrap();
/// let due = due_reminders(&process, date!(2026-03-01), &[1, 3, 5], |t| t.date());
/// assert_eq!(due.len(), 1);
/// assert_eq!(due[0].days_before, 3);
/// ```
pub fn due_reminders(
    process: &ProcessData,
    today: Date,
    days_before: &[u32],
    local_date: impl Fn(OffsetDateTime) -> Date,
) -> Vec<ReminderDue> {
    if process.status != ProcessStatus::Started || process.deleted_at.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for step in process
        .steps
        .iter()
        .filter(|s| s.step_status == StepStatus::Started)
    {
        let Some(due) = step.due_date.map(&local_date) else {
            continue;
        };
        let days = (due - today).whole_days();
        let Some(offset) = days_before.iter().copied().find(|d| i64::from(*d) == days) else {
            continue;
        };
        for e in &step.entries {
            if e.role().must_act() && e.signing_status == SigningStatus::WaitingForAction {
                out.push(ReminderDue {
                    process_id: process.id,
                    step_id: step.id,
                    signer_id: e.id,
                    due_date: due,
                    days_before: offset,
                });
            }
        }
    }
    out
}
