//! Who is emailed about an event (PRODUCT.md section 7). Rendering and sending are adapter
//! work; this decides the recipients, their role in the notification matrix and their
//! language, honouring `signerNotification`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::events::DomainEvent;
use crate::ids::{EntryId, ProcessId, StepId};
use crate::language::Language;
use crate::process::{Entry, ProcessData};
use crate::status::{EventType, SignerRole, SigningStatus};
use crate::values::Email;

/// The column of the notification matrix a recipient falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientRole {
    /// `processInitiatorEmail`.
    Initiator,
    /// A SIGNER entry.
    Signer,
    /// An APPROVER entry.
    Approver,
    /// A VIEWER entry.
    Viewer,
    /// An ADMINISTRATOR entry, or `ADMIN_EMAIL` for FAILURE.
    Administrator,
}

impl RecipientRole {
    /// Every role, in the matrix's column order.
    pub const ALL: [Self; 5] = [
        Self::Initiator,
        Self::Signer,
        Self::Approver,
        Self::Viewer,
        Self::Administrator,
    ];

    /// The matrix key: `initiator`, `signer`, …
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Initiator => "initiator",
            Self::Signer => "signer",
            Self::Approver => "approver",
            Self::Viewer => "viewer",
            Self::Administrator => "administrator",
        }
    }
}

/// A matrix key that names no [`RecipientRole`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown recipient role")]
pub struct UnknownRole;

/// Parses a matrix key, the inverse of [`RecipientRole::as_str`].
///
/// ```
/// use pas_domain::notify::RecipientRole;
///
/// assert_eq!("approver".parse(), Ok(RecipientRole::Approver));
/// assert!("owner".parse::<RecipientRole>().is_err());
/// ```
impl std::str::FromStr for RecipientRole {
    type Err = UnknownRole;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == key)
            .ok_or(UnknownRole)
    }
}

impl fmt::Display for RecipientRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SignerRole> for RecipientRole {
    fn from(role: SignerRole) -> Self {
        match role {
            SignerRole::Viewer => Self::Viewer,
            SignerRole::Signer => Self::Signer,
            SignerRole::Approver => Self::Approver,
            SignerRole::Initiator => Self::Initiator,
            SignerRole::Administrator => Self::Administrator,
        }
    }
}

/// One email to send: rendered from the matrix entry (`event_type`, `role`, `language`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationIntent {
    /// The event the email is about.
    pub event_type: EventType,
    /// The recipient's matrix role.
    pub role: RecipientRole,
    /// The address.
    pub to: Email,
    /// The recipient's language; `None` means the matrix default.
    pub language: Option<Language>,
    /// The process.
    pub process_id: ProcessId,
    /// The step concerned, if any.
    pub step_id: Option<StepId>,
    /// The recipient's entry, if the recipient is one (its portal link needs the id).
    pub signer_id: Option<EntryId>,
}

/// The recipients of `event` in the state `process` is in now.
///
/// Entry-level events (TASK_STARTED, REMINDER, and the decliner of SIGNER_DECLINED /
/// APPROVER_DECLINED) go to the entry; PROCESS_STARTED, SIGNER_SIGNED, APPROVER_APPROVED and
/// the declines go to the initiator; PROCESS_CANCELED to the initiator and every entry the
/// process had reached; PROCESS_COMPLETED to the initiator and every entry. Entries with
/// `signerNotification = false` or without an email get nothing. Which of these really get an
/// email is the matrix's choice (a blank template suppresses a role).
pub fn recipients(process: &ProcessData, event: &DomainEvent) -> Vec<NotificationIntent> {
    let entry = event.signer_id.and_then(|id| process.find_entry(id));
    let mut out = Vec::new();
    let push_entry = |out: &mut Vec<NotificationIntent>, e: &Entry, step| {
        if let Some(intent) = entry_intent(process, event.event_type, step, e) {
            out.push(intent);
        }
    };
    match event.event_type {
        EventType::TaskStarted | EventType::Reminder => {
            if let Some((step, e)) = entry {
                push_entry(&mut out, e, step.id);
            }
        }
        EventType::ProcessStarted | EventType::SignerSigned | EventType::ApproverApproved => {
            out.extend(initiator_intent(process, event));
        }
        EventType::SignerDeclined | EventType::ApproverDeclined => {
            out.extend(initiator_intent(process, event));
            if let Some((step, e)) = entry {
                push_entry(&mut out, e, step.id);
            }
        }
        EventType::ProcessCanceled | EventType::ProcessCompleted => {
            out.extend(initiator_intent(process, event));
            let everyone = event.event_type == EventType::ProcessCompleted;
            for step in &process.steps {
                for e in &step.entries {
                    if everyone || reached(e.signing_status) {
                        push_entry(&mut out, e, step.id);
                    }
                }
            }
        }
        _ => {}
    }
    dedupe(out)
}

/// The TASK_STARTED email of one entry, or `None` when the entry gets no email.
pub fn task_email(process: &ProcessData, signer: EntryId) -> Option<NotificationIntent> {
    let (step, e) = process.find_entry(signer)?;
    entry_intent(process, EventType::TaskStarted, step.id, e)
}

/// An entry had been told about the process: its step started, or it takes no action.
fn reached(status: SigningStatus) -> bool {
    !matches!(
        status,
        SigningStatus::WaitingForProcess | SigningStatus::WaitingForPrevious
    )
}

fn entry_intent(
    process: &ProcessData,
    event_type: EventType,
    step_id: StepId,
    e: &Entry,
) -> Option<NotificationIntent> {
    if !e.details.signer_notification {
        return None;
    }
    Some(NotificationIntent {
        event_type,
        role: e.role().into(),
        to: e.details.signer_email.clone()?,
        language: e.details.signer_language.clone(),
        process_id: process.id,
        step_id: Some(step_id),
        signer_id: Some(e.id),
    })
}

/// The initiator's email; an INITIATOR entry with the same address lends its language and
/// can switch the initiator's emails off.
fn initiator_intent(process: &ProcessData, event: &DomainEvent) -> Option<NotificationIntent> {
    let to = process.header.process_initiator_email.clone()?;
    let own_entry = process.entries().find(|e| {
        e.role() == SignerRole::Initiator && e.details.signer_email.as_ref() == Some(&to)
    });
    if own_entry.is_some_and(|e| !e.details.signer_notification) {
        return None;
    }
    Some(NotificationIntent {
        event_type: event.event_type,
        role: RecipientRole::Initiator,
        to,
        language: own_entry.and_then(|e| e.details.signer_language.clone()),
        process_id: process.id,
        step_id: event.step_id,
        signer_id: event.signer_id,
    })
}

/// One email per address and role for an event.
fn dedupe(intents: Vec<NotificationIntent>) -> Vec<NotificationIntent> {
    let mut seen = std::collections::HashSet::new();
    intents
        .into_iter()
        .filter(|i| seen.insert((i.to.clone(), i.role)))
        .collect()
}
