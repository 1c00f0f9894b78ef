//! Signing processes, their steps and entries (the seed's `SigningProcess`,
//! `SigningProcessStep` and `ProcessStepSigner`), as written in full and as a portal caller
//! sees them; and the same shapes as a client sends them.

use std::fmt;

use pas_domain::input as domain;
use pas_domain::process::{Entry, PortalView, ProcessData, ProcessStep};
use pas_domain::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One person in a role in a step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStepSigner {
    /// Resource identificator (server-made; send it back to edit the entry). Null for
    /// another person's entry in a portal answer.
    pub id: Option<Uuid>,
    /// Signer display name.
    pub signer_name: Option<String>,
    /// Country code of personal code (for example LV, LT, EE).
    pub signer_country: Option<String>,
    /// Personal code; empty makes the entry anonymous.
    #[schema(example = "010190-12345")]
    pub signer_personal_code: Option<String>,
    /// Signer email.
    pub signer_email: Option<String>,
    /// Role of the signer.
    pub signer_role: SignerRole,
    /// The signer's own comment (the decline reason).
    pub signer_comment: Option<String>,
    /// A note from the initiator to the signer.
    pub comment_for_signer: Option<String>,
    /// Signing status (read-only, except in updateProcessStep where a change is an action).
    #[schema(required = false)]
    pub signing_status: SigningStatus,
    /// Whether the entry gets emails (default true).
    #[schema(required = false)]
    pub signer_notification: bool,
    /// Language of the entry's emails.
    pub signer_language: Option<String>,
    /// True exactly when the personal code is empty (derived).
    #[schema(read_only)]
    pub anonymous: bool,
}

impl ProcessStepSigner {
    /// The entry in full, or as another person's portal answer shows it (PRODUCT.md
    /// section 10): role, status, notification flag and, unless anonymous, the name; no id,
    /// personal code, email, language or comments.
    fn of(e: &Entry, full: bool) -> Self {
        let d = &e.details;
        let shown = |v: Option<String>| v.filter(|_| full);
        Self {
            id: full.then(|| e.id.as_uuid()),
            signer_name: d.signer_name.clone().filter(|_| full || !e.anonymous()),
            signer_country: shown(d.signer_country.map(|c| c.as_str().to_owned())),
            signer_personal_code: shown(
                d.signer_personal_code
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
            ),
            signer_email: shown(d.signer_email.as_ref().map(|m| m.as_str().to_owned())),
            signer_role: d.signer_role,
            signer_comment: shown(e.signer_comment.clone()),
            comment_for_signer: shown(d.comment_for_signer.clone()),
            signing_status: e.signing_status,
            signer_notification: d.signer_notification,
            signer_language: shown(d.signer_language.as_ref().map(|l| l.as_str().to_owned())),
            anonymous: e.anonymous(),
        }
    }
}

impl From<&Entry> for ProcessStepSigner {
    fn from(e: &Entry) -> Self {
        Self::of(e, true)
    }
}

/// One recipient group of a process.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningProcessStep {
    /// Resource identificator (server-made; send it back to edit the step).
    #[schema(required = false)]
    pub id: Uuid,
    /// Execution order of the step in workflow.
    pub process_order: i32,
    /// Current step status (read-only).
    #[schema(read_only)]
    pub step_status: StepStatus,
    /// Due date/time for this step.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_date: Option<OffsetDateTime>,
    /// Signers assigned to this step.
    pub process_step_signers: Vec<ProcessStepSigner>,
}

impl SigningProcessStep {
    /// The step with each entry in full where `full` says so.
    pub(crate) fn of(step: &ProcessStep, full: impl Fn(&Entry) -> bool) -> Self {
        Self {
            id: step.id.as_uuid(),
            process_order: step.process_order.get(),
            step_status: step.step_status,
            due_date: step.due_date,
            process_step_signers: step
                .entries
                .iter()
                .map(|e| ProcessStepSigner::of(e, full(e)))
                .collect(),
        }
    }
}

impl From<&ProcessStep> for SigningProcessStep {
    fn from(step: &ProcessStep) -> Self {
        Self::of(step, |_| true)
    }
}

/// A signing process.
///
/// One schema for what is read and what is written, as in the seed: read-only properties
/// are ignored in requests, and those a request may leave out (ids, `status`,
/// `signingStatus`, `signerNotification`) are not required although every answer has them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningProcess {
    /// Resource identificator (a client UUID not yet used is accepted on create).
    #[schema(required = false)]
    pub id: Uuid,
    /// Process creation timestamp.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Ordered steps in this signing workflow.
    pub signing_process_steps: Vec<SigningProcessStep>,
    /// Email of the process initiator.
    pub process_initiator_email: Option<String>,
    /// Document identificator.
    pub document_id: String,
    /// Display name of the related document.
    pub document_name: Option<String>,
    /// Username or code of the initiator.
    pub initiator: Option<String>,
    /// General process comment.
    pub comment: Option<String>,
    /// Indicates whether process was canceled.
    #[schema(read_only)]
    pub canceled: bool,
    /// Current process status (PENDING or STARTED on create; a change on update starts or cancels).
    #[schema(required = false)]
    pub status: ProcessStatus,
    /// Type/classification of the document.
    pub document_type: Option<String>,
    /// Owner group for this process.
    pub owner_group: Option<String>,
    /// Completion timestamp when finished.
    #[schema(read_only)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Full display name of the initiator.
    pub initiator_name: Option<String>,
    /// Total number of signers in the process.
    #[schema(read_only)]
    pub total_signers: usize,
    /// Number of signers who already signed/approved.
    #[schema(read_only)]
    pub total_signed: usize,
    /// Flat signer list of the process.
    #[schema(read_only)]
    pub signers: Vec<ProcessStepSigner>,
    /// The STARTED step, if any.
    #[schema(read_only)]
    pub current_in_progress_step: Option<SigningProcessStep>,
}

impl SigningProcess {
    fn of(p: &ProcessData, full: impl Fn(&Entry) -> bool) -> Self {
        let h = &p.header;
        Self {
            id: p.id.as_uuid(),
            created_at: p.created_at,
            signing_process_steps: p
                .steps
                .iter()
                .map(|s| SigningProcessStep::of(s, &full))
                .collect(),
            process_initiator_email: h
                .process_initiator_email
                .as_ref()
                .map(|m| m.as_str().to_owned()),
            document_id: h.document_id.clone(),
            document_name: h.document_name.clone(),
            initiator: h.initiator.clone(),
            comment: h.comment.clone(),
            canceled: p.canceled(),
            status: p.status,
            document_type: h.document_type.clone(),
            owner_group: h.owner_group.clone(),
            completed_at: p.completed_at,
            initiator_name: h.initiator_name.clone(),
            total_signers: p.total_signers(),
            total_signed: p.total_signed(),
            signers: p
                .entries()
                .map(|e| ProcessStepSigner::of(e, full(e)))
                .collect(),
            current_in_progress_step: p.current_step().map(|s| SigningProcessStep::of(s, &full)),
        }
    }
}

impl From<&ProcessData> for SigningProcess {
    fn from(p: &ProcessData) -> Self {
        Self::of(p, |_| true)
    }
}

impl From<&PortalView> for SigningProcess {
    /// The caller's own entries in full, every other one redacted (PRODUCT.md section 10).
    fn from(view: &PortalView) -> Self {
        Self::of(&view.process, |e| view.shows_in_full(e))
    }
}

/// `findProcesses` request: at least one of the two.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSearchRequest {
    /// Document identificator.
    pub document_id: Option<String>,
    /// Personal code used in find query.
    pub personal_code: Option<String>,
}

/// A signing process as a client writes it (create, update, test email): the fields of
/// [`SigningProcess`] that are not read-only, every one optional (the domain's validation
/// names what is missing).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInput {
    id: Option<Uuid>,
    #[serde(default)]
    signing_process_steps: Vec<StepInput>,
    process_initiator_email: Option<String>,
    document_id: Option<String>,
    document_name: Option<String>,
    initiator: Option<String>,
    comment: Option<String>,
    status: Option<ProcessStatus>,
    document_type: Option<String>,
    owner_group: Option<String>,
    initiator_name: Option<String>,
}

impl From<ProcessInput> for domain::ProcessInput {
    fn from(p: ProcessInput) -> Self {
        Self {
            id: p.id,
            signing_process_steps: p
                .signing_process_steps
                .into_iter()
                .map(Into::into)
                .collect(),
            process_initiator_email: p.process_initiator_email,
            document_id: p.document_id,
            document_name: p.document_name,
            initiator: p.initiator,
            comment: p.comment,
            status: p.status,
            document_type: p.document_type,
            owner_group: p.owner_group,
            initiator_name: p.initiator_name,
        }
    }
}

/// A step as a client writes it (`stepStatus` is read-only and not read).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInput {
    id: Option<Uuid>,
    process_order: Option<i32>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    due_date: Option<OffsetDateTime>,
    #[serde(default)]
    process_step_signers: Vec<EntryInput>,
}

impl From<StepInput> for domain::StepInput {
    fn from(s: StepInput) -> Self {
        Self {
            id: s.id,
            process_order: s.process_order,
            due_date: s.due_date,
            process_step_signers: s.process_step_signers.into_iter().map(Into::into).collect(),
        }
    }
}

/// An entry as a client writes it (`anonymous` is derived and not read).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryInput {
    id: Option<Uuid>,
    signer_name: Option<String>,
    signer_country: Option<String>,
    signer_personal_code: Option<String>,
    signer_email: Option<String>,
    signer_role: Option<SignerRole>,
    signer_comment: Option<String>,
    comment_for_signer: Option<String>,
    signing_status: Option<SigningStatus>,
    signer_notification: Option<bool>,
    signer_language: Option<String>,
}

impl fmt::Debug for EntryInput {
    // The personal code never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryInput")
            .field("id", &self.id)
            .field("signer_role", &self.signer_role)
            .field("signing_status", &self.signing_status)
            .finish_non_exhaustive()
    }
}

impl From<EntryInput> for domain::EntryInput {
    fn from(e: EntryInput) -> Self {
        Self {
            id: e.id,
            signer_name: e.signer_name,
            signer_country: e.signer_country,
            signer_personal_code: e.signer_personal_code,
            signer_email: e.signer_email,
            signer_role: e.signer_role,
            signer_comment: e.signer_comment,
            comment_for_signer: e.comment_for_signer,
            signing_status: e.signing_status,
            signer_notification: e.signer_notification,
            signer_language: e.signer_language,
        }
    }
}

impl From<pas_domain::process::SigningProcess> for SigningProcess {
    fn from(p: pas_domain::process::SigningProcess) -> Self {
        Self::from(&*p)
    }
}
