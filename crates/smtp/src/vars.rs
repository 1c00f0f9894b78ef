//! The process, its steps and entries as template variables: the keys of the API's answer
//! (`process.documentName`, `signer.signerName`, …), so that a template reads what a client
//! reads. Templates are this adapter's contract; the HTTP adapter's wire types are not
//! reachable from here (adapters do not depend on each other), hence these few structs.

use pas_domain::process::{Entry, ProcessData, ProcessStep};
use pas_domain::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// `process`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProcessVars<'a> {
    id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    signing_process_steps: Vec<StepVars<'a>>,
    process_initiator_email: Option<&'a str>,
    document_id: &'a str,
    document_name: Option<&'a str>,
    initiator: Option<&'a str>,
    comment: Option<&'a str>,
    canceled: bool,
    status: ProcessStatus,
    document_type: Option<&'a str>,
    owner_group: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339::option")]
    completed_at: Option<OffsetDateTime>,
    initiator_name: Option<&'a str>,
    total_signers: usize,
    total_signed: usize,
    signers: Vec<EntryVars<'a>>,
    current_in_progress_step: Option<StepVars<'a>>,
}

impl<'a> From<&'a ProcessData> for ProcessVars<'a> {
    fn from(p: &'a ProcessData) -> Self {
        let h = &p.header;
        Self {
            id: p.id.as_uuid(),
            created_at: p.created_at,
            signing_process_steps: p.steps.iter().map(StepVars::from).collect(),
            process_initiator_email: h.process_initiator_email.as_ref().map(|e| e.as_str()),
            document_id: &h.document_id,
            document_name: h.document_name.as_deref(),
            initiator: h.initiator.as_deref(),
            comment: h.comment.as_deref(),
            canceled: p.canceled(),
            status: p.status,
            document_type: h.document_type.as_deref(),
            owner_group: h.owner_group.as_deref(),
            completed_at: p.completed_at,
            initiator_name: h.initiator_name.as_deref(),
            total_signers: p.total_signers(),
            total_signed: p.total_signed(),
            signers: p.entries().map(EntryVars::from).collect(),
            current_in_progress_step: p.current_step().map(StepVars::from),
        }
    }
}

/// `step`, and each of `process.signingProcessSteps`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StepVars<'a> {
    id: Uuid,
    process_order: i32,
    step_status: StepStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    due_date: Option<OffsetDateTime>,
    process_step_signers: Vec<EntryVars<'a>>,
}

impl<'a> From<&'a ProcessStep> for StepVars<'a> {
    fn from(s: &'a ProcessStep) -> Self {
        Self {
            id: s.id.as_uuid(),
            process_order: s.process_order.get(),
            step_status: s.step_status,
            due_date: s.due_date,
            process_step_signers: s.entries.iter().map(EntryVars::from).collect(),
        }
    }
}

/// `signer`, `actor`, `decliner`, and each entry of a step.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryVars<'a> {
    id: Uuid,
    signer_name: Option<&'a str>,
    signer_country: Option<&'a str>,
    signer_personal_code: Option<&'a str>,
    signer_email: Option<&'a str>,
    signer_role: SignerRole,
    signer_comment: Option<&'a str>,
    comment_for_signer: Option<&'a str>,
    signing_status: SigningStatus,
    signer_notification: bool,
    signer_language: Option<&'a str>,
    anonymous: bool,
}

impl<'a> From<&'a Entry> for EntryVars<'a> {
    fn from(e: &'a Entry) -> Self {
        let d = &e.details;
        Self {
            id: e.id.as_uuid(),
            signer_name: d.signer_name.as_deref(),
            signer_country: d.signer_country.as_ref().map(|c| c.as_str()),
            signer_personal_code: d.signer_personal_code.as_ref().map(|c| c.as_str()),
            signer_email: d.signer_email.as_ref().map(|m| m.as_str()),
            signer_role: d.signer_role,
            signer_comment: e.signer_comment.as_deref(),
            comment_for_signer: d.comment_for_signer.as_deref(),
            signing_status: e.signing_status,
            signer_notification: d.signer_notification,
            signer_language: d.signer_language.as_ref().map(|l| l.as_str()),
            anonymous: e.anonymous(),
        }
    }
}
