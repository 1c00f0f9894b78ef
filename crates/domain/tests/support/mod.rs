//! Builders shared by the domain's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use pas_domain::prelude::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const T0: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

pub fn at(minutes: i64) -> OffsetDateTime {
    T0 + time::Duration::minutes(minutes)
}

pub fn entry(role: &str, email: &str) -> Value {
    json!({"signerRole": role, "signerEmail": email, "signerName": email.split('@').next()})
}

pub fn person(role: &str, email: &str, country: &str, code: &str) -> Value {
    json!({"signerRole": role, "signerEmail": email, "signerCountry": country, "signerPersonalCode": code})
}

pub fn step(order: i32, entries: Vec<Value>) -> Value {
    json!({"processOrder": order, "processStepSigners": entries})
}

pub fn input(steps: Vec<Value>) -> Value {
    json!({
        "documentId": "doc-1",
        "documentName": "Lease",
        "processInitiatorEmail": "office@example.lv",
        "ownerGroup": "sales",
        "signingProcessSteps": steps,
    })
}

pub fn process_input(v: Value) -> ProcessInput {
    serde_json::from_value(v).expect("test input parses")
}

pub fn draft(v: Value) -> pas_domain::input::ProcessDraft {
    serde_json::from_value::<ProcessInput>(v)
        .expect("test input parses")
        .validate()
        .expect("test input is valid")
}

pub fn create(v: Value) -> (SigningProcess, Change) {
    SigningProcess::create(draft(v), &SequentialIds::default(), T0).expect("create succeeds")
}

pub fn started(v: Value) -> SigningProcess {
    let (mut p, _) = create(v);
    let _ = p.start(T0).expect("start succeeds");
    p
}

/// Two steps: an approver, then a signer and a viewer.
pub fn two_steps() -> Value {
    input(vec![
        step(1, vec![entry("APPROVER", "boss@example.lv")]),
        step(
            2,
            vec![
                entry("SIGNER", "client@example.lv"),
                entry("VIEWER", "audit@example.lv"),
            ],
        ),
    ])
}

pub fn id_of(p: &SigningProcess, email: &str) -> EntryId {
    p.entries()
        .find(|e| e.details.signer_email.as_ref().map(|m| m.as_str()) == Some(email))
        .map(|e| e.id)
        .expect("entry exists")
}

pub fn status_of(p: &SigningProcess, email: &str) -> SigningStatus {
    let id = id_of(p, email);
    p.find_entry(id)
        .map(|(_, e)| e.signing_status)
        .expect("entry exists")
}

/// The process as a client sends it back to update it: the seed's writable fields (its
/// JSON is the HTTP adapter's; this is what the tests need of it).
pub fn as_draft_json(p: &SigningProcess) -> Value {
    let h = &p.header;
    json!({
        "id": p.id,
        "processInitiatorEmail": h.process_initiator_email,
        "documentId": h.document_id,
        "documentName": h.document_name,
        "initiator": h.initiator,
        "comment": h.comment,
        "status": p.status,
        "documentType": h.document_type,
        "ownerGroup": h.owner_group,
        "initiatorName": h.initiator_name,
        "signingProcessSteps": p.steps.iter().map(step_json).collect::<Vec<_>>(),
    })
}

/// A step as a client sends it back (`updateProcessStep`, or inside a process).
pub fn step_json(s: &ProcessStep) -> Value {
    let due = s.due_date.map(|d| {
        d.format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    });
    json!({
        "id": s.id,
        "processOrder": s.process_order.get(),
        "stepStatus": s.step_status,
        "dueDate": due,
        "processStepSigners": s.entries.iter().map(entry_json).collect::<Vec<_>>(),
    })
}

fn entry_json(e: &Entry) -> Value {
    let d = &e.details;
    json!({
        "id": e.id,
        "signerName": d.signer_name,
        "signerCountry": d.signer_country,
        "signerPersonalCode": d.signer_personal_code,
        "signerEmail": d.signer_email,
        "signerRole": d.signer_role,
        "signerComment": e.signer_comment,
        "commentForSigner": d.comment_for_signer,
        "signingStatus": e.signing_status,
        "signerNotification": d.signer_notification,
        "signerLanguage": d.signer_language,
    })
}

pub fn redraft(v: Value) -> pas_domain::input::ProcessDraft {
    draft(v)
}

pub fn step_draft(v: Value) -> pas_domain::input::StepDraft {
    let mut d = draft(json!({"documentId": "x", "signingProcessSteps": [v]}));
    d.steps.remove(0)
}

/// The key of personal-code pseudonyms in these tests.
#[allow(dead_code)]
pub fn pii_key() -> pas_domain::pseudonym::PiiKey {
    pas_domain::pseudonym::PiiKey::new(vec![7; 32]).expect("a 32-byte key")
}
