//! Rows of the signer portal (PRODUCT.md section 6).

use time::OffsetDateTime;

use crate::ids::{EntryId, ProcessId, StepId};
use crate::process::{Entry, ProcessData, ProcessStep};
use crate::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};

/// One entry of a person, with its process and step (`listSignerTasks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerTask {
    /// The entry.
    pub signer_id: EntryId,
    /// Its process.
    pub process_id: ProcessId,
    /// Its step.
    pub step_id: StepId,
    /// Document id.
    pub document_id: String,
    /// Document name.
    pub document_name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Initiator's display name.
    pub initiator_name: Option<String>,
    /// Process status.
    pub process_status: ProcessStatus,
    /// Step status.
    pub step_status: StepStatus,
    /// Entry status.
    pub signing_status: SigningStatus,
    /// Entry role.
    pub signer_role: SignerRole,
    /// Step due date.
    pub due_date: Option<OffsetDateTime>,
    /// Process creation time.
    pub created_at: OffsetDateTime,
    /// The step's due date has passed.
    pub expired: bool,
}

impl SignerTask {
    /// The row of `entry` in `step` of `process`, judged at `now`.
    pub fn of(
        process: &ProcessData,
        step: &ProcessStep,
        entry: &Entry,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            signer_id: entry.id,
            process_id: process.id,
            step_id: step.id,
            document_id: process.header.document_id.clone(),
            document_name: process.header.document_name.clone(),
            document_type: process.header.document_type.clone(),
            initiator_name: process.header.initiator_name.clone(),
            process_status: process.status,
            step_status: step.step_status,
            signing_status: entry.signing_status,
            signer_role: entry.role(),
            due_date: step.due_date,
            created_at: process.created_at,
            expired: step.is_expired(now),
        }
    }
}

/// One document a person takes part in (`listSignerDocuments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerDocument {
    /// Document id.
    pub document_id: String,
    /// Document name.
    pub document_name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// The process.
    pub process_id: ProcessId,
    /// Its status.
    pub process_status: ProcessStatus,
    /// Process creation time.
    pub created_at: OffsetDateTime,
    /// Completion time.
    pub completed_at: Option<OffsetDateTime>,
}

impl From<&ProcessData> for SignerDocument {
    fn from(p: &ProcessData) -> Self {
        Self {
            document_id: p.header.document_id.clone(),
            document_name: p.header.document_name.clone(),
            document_type: p.header.document_type.clone(),
            process_id: p.id,
            process_status: p.status,
            created_at: p.created_at,
            completed_at: p.completed_at,
        }
    }
}

/// One step a person has an entry in, with its process id (`listSignerSteps`). Other
/// people's entries are shown as in a [`crate::process::PortalView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerStep {
    /// The process.
    pub process_id: ProcessId,
    /// The step.
    pub step: ProcessStep,
    /// The person's own entries in the step.
    pub own: Vec<EntryId>,
}

impl SignerStep {
    /// Whether the person sees `entry` in full: only their own entries, as in a
    /// [`crate::process::PortalView`].
    pub fn shows_in_full(&self, entry: &Entry) -> bool {
        self.own.contains(&entry.id)
    }
}
