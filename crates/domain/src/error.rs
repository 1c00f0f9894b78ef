//! Errors of the domain: field-level validation failures (HTTP 422 at the edge) and
//! transitions the state machine forbids (HTTP 409).

use std::fmt;

use serde::Serialize;

use crate::ids::{EntryId, StepId};
use crate::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};

/// One rule a request broke, named by the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path in the request, e.g. `signingProcessSteps[0].processStepSigners[1].signerEmail`.
    pub field: String,
    /// What is wrong, in a short sentence.
    pub message: String,
}

/// Every rule a request broke; never empty when returned as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationErrors {
    /// The failures, in the order they were found.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.push(field, message);
        errors
    }

    /// Records one more failure.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// `true` when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for e in &self.errors {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// A change the state machine forbids in the current state. Each variant names that state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The operation needs another process status (rules 2, 6, 7, 9).
    #[error("the process is {current}; {operation} needs {needed}")]
    ProcessStatus {
        /// What was attempted, e.g. `cancel`.
        operation: &'static str,
        /// The status the process is in.
        current: ProcessStatus,
        /// What the operation needs, in words.
        needed: &'static str,
    },
    /// The entry cannot act in its current signing status (rule 3).
    #[error("signer {signer} is {current}; only WAITING_FOR_ACTION entries can {action}")]
    SigningStatus {
        /// The entry.
        signer: EntryId,
        /// Its status.
        current: SigningStatus,
        /// The attempted action.
        action: &'static str,
    },
    /// The entry's role does not allow the action (rule 3, rule 5).
    #[error("signer {signer} has role {role}; {action} needs role {needed}")]
    Role {
        /// The entry.
        signer: EntryId,
        /// Its role.
        role: SignerRole,
        /// The attempted action.
        action: &'static str,
        /// The role the action needs, in words.
        needed: &'static str,
    },
    /// The step's due date has passed (rule 3): the task has expired.
    #[error("the task has expired: step {step} was due at {due}")]
    Expired {
        /// The step.
        step: StepId,
        /// Its due date, RFC 3339.
        due: String,
    },
    /// A change touches a finished step or an entry that already acted (rule 8).
    #[error("step {step} is {current} and can no longer change: {detail}")]
    StepLocked {
        /// The step.
        step: StepId,
        /// Its status.
        current: StepStatus,
        /// What the request tried to change.
        detail: String,
    },
    /// A change touches an entry that already acted (rule 8).
    #[error("signer {signer} is {current} and can no longer change")]
    EntryLocked {
        /// The entry.
        signer: EntryId,
        /// Its status.
        current: SigningStatus,
    },
    /// A requested status cannot be reached by any command (rule 8).
    #[error("{field} cannot be set from {current} to {requested}")]
    StatusChange {
        /// `status` or `signingStatus`.
        field: &'static str,
        /// Current value.
        current: &'static str,
        /// Requested value.
        requested: &'static str,
    },
    /// A field that is fixed once the process started (rule 8).
    #[error("{field} cannot change once the process is {current}")]
    Frozen {
        /// The field.
        field: &'static str,
        /// The process status.
        current: ProcessStatus,
    },
}

/// What a request named that does not exist (404): a kind, never free text, so that a
/// caller can match on it.
///
/// ```
/// use pas_domain::error::Missing;
/// assert_eq!(Missing::DocumentProfile.to_string(), "document profile");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Missing {
    /// A signing process (or one outside the caller's reach).
    #[error("process")]
    Process,
    /// A step.
    #[error("step")]
    Step,
    /// An entry of a step.
    #[error("signer")]
    Entry,
    /// A document profile.
    #[error("document profile")]
    DocumentProfile,
    /// A document attribute.
    #[error("document attribute")]
    DocumentAttribute,
    /// A contact.
    #[error("contact")]
    Contact,
    /// A process template.
    #[error("template")]
    Template,
    /// An outbox row's lease (taken over by another dispatcher).
    #[error("outbox lease")]
    OutboxLease,
    /// An outbox row.
    #[error("outbox row")]
    OutboxRow,
    /// A webhook subscription (or one outside the caller's reach).
    #[error("webhook subscription")]
    Subscription,
    /// A webhook delivery of a subscription.
    #[error("webhook delivery")]
    WebhookDelivery,
}

/// Why a command on a process failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The request names a step or entry the process does not have.
    #[error("{0} not found in this process")]
    NotFound(Missing),
    /// A well-formed request broke a rule (422).
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The state machine forbids the change (409).
    #[error(transparent)]
    Transition(#[from] TransitionError),
}
