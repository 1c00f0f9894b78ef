//! Rows of the signer portal (PRODUCT.md section 6) and the bodies of an entry's actions.

use pas_domain::status::{EventType, ProcessStatus, SignerRole, SigningStatus, StepStatus};
use pas_domain::task;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::process::ProcessStepSigner;

/// One entry of a person, with its process and step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerTask {
    /// The entry.
    pub signer_id: Uuid,
    /// Its process.
    pub process_id: Uuid,
    /// Its step.
    pub step_id: Uuid,
    /// Document identificator.
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
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_date: Option<OffsetDateTime>,
    /// Process creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The step's due date has passed.
    pub expired: bool,
}

impl From<task::SignerTask> for SignerTask {
    fn from(t: task::SignerTask) -> Self {
        Self {
            signer_id: t.signer_id.as_uuid(),
            process_id: t.process_id.as_uuid(),
            step_id: t.step_id.as_uuid(),
            document_id: t.document_id,
            document_name: t.document_name,
            document_type: t.document_type,
            initiator_name: t.initiator_name,
            process_status: t.process_status,
            step_status: t.step_status,
            signing_status: t.signing_status,
            signer_role: t.signer_role,
            due_date: t.due_date,
            created_at: t.created_at,
            expired: t.expired,
        }
    }
}

/// One document a person takes part in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerDocument {
    /// Document identificator.
    pub document_id: String,
    /// Document name.
    pub document_name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// The process.
    pub process_id: Uuid,
    /// Its status.
    pub process_status: ProcessStatus,
    /// Process creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Completion time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

impl From<task::SignerDocument> for SignerDocument {
    fn from(d: task::SignerDocument) -> Self {
        Self {
            document_id: d.document_id,
            document_name: d.document_name,
            document_type: d.document_type,
            process_id: d.process_id.as_uuid(),
            process_status: d.process_status,
            created_at: d.created_at,
            completed_at: d.completed_at,
        }
    }
}

/// A step where a person has an entry, with its process id. Other people's entries are
/// shown as in a portal answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerStep {
    /// The process.
    pub process_id: Uuid,
    /// The step.
    pub id: Uuid,
    /// Execution order of the step in workflow.
    pub process_order: i32,
    /// Current step status.
    pub step_status: StepStatus,
    /// Due date/time for this step.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_date: Option<OffsetDateTime>,
    /// Signers assigned to this step.
    pub process_step_signers: Vec<ProcessStepSigner>,
}

impl From<&task::SignerStep> for SignerStep {
    fn from(row: &task::SignerStep) -> Self {
        let step = super::process::SigningProcessStep::of(&row.step, |e| row.shows_in_full(e));
        Self {
            process_id: row.process_id.as_uuid(),
            id: step.id,
            process_order: step.process_order,
            step_status: step.step_status,
            due_date: step.due_date,
            process_step_signers: step.process_step_signers,
        }
    }
}

/// The portal acting for an entry: the person's identity (both or neither) and a comment
/// (the decline reason). An anonymous entry needs no identity.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerActionRequest {
    /// Personal code of the person acting.
    pub personal_code: Option<String>,
    /// Country code of the personal code.
    pub country: Option<String>,
    /// Comment; the decline reason for decline.
    pub comment: Option<String>,
}

/// The email `sendSignerEmail` queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignerEmailSent {
    /// The address (null when the entry has none).
    pub to: Option<String>,
    /// The subject rendered from the notification matrix.
    pub subject: Option<String>,
    /// The notification sent again: TASK_STARTED.
    pub event_type: EventType,
}
