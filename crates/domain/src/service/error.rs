//! What each use case can fail with: one enum per family of commands, and one
//! [`ReadError`] for every read, so that a caller matches only on what can happen.
//!
//! Store failures keep the port's [`RepoError`] as their `source()`, so a log can print the
//! whole chain (see [`SourceChain`]) while the HTTP edge shows none of it.

use std::error::Error;
use std::fmt;

use crate::auth::Denied;
use crate::error::{CommandError, Missing, TransitionError, ValidationErrors};
use crate::ids::ProcessId;
use crate::ports::{MailError, RepoError};

/// Why a write was refused because of other data (409), other than by the state machine.
///
/// ```
/// use pas_domain::ids::ProcessId;
/// use pas_domain::service::Conflict;
///
/// let id = ProcessId::from_uuid(uuid::Uuid::nil());
/// assert_eq!(
///     Conflict::IdInUse(id).to_string(),
///     "process id 00000000-0000-0000-0000-000000000000 is already used"
/// );
/// assert_eq!(Conflict::InUse("document attribute").to_string(), "document attribute is still in use");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Other requests changed the process between every read and save this one tried.
    #[error("the process was changed by another request; read it again")]
    VersionChanged,
    /// `createProcess` with a client id that another process has.
    #[error("process id {0} is already used")]
    IdInUse(ProcessId),
    /// An id or unique key is already used; the store's name of the kind of row.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// A row is still referenced (an attribute used by a profile); the store's name of it.
    #[error("{0} is still in use")]
    InUse(&'static str),
}

/// What a store's refusal means to a use case: the rows it names, or a failure.
enum Refusal {
    NotFound(Missing),
    Conflict(Conflict),
    Unavailable(RepoError),
    Failed(RepoError),
}

impl From<RepoError> for Refusal {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::VersionConflict { .. } => Self::Conflict(Conflict::VersionChanged),
            RepoError::Duplicate(what) => Self::Conflict(Conflict::Duplicate(what)),
            RepoError::InUse(what) => Self::Conflict(Conflict::InUse(what)),
            RepoError::NotFound(what) => Self::NotFound(what),
            RepoError::Unavailable(_) => Self::Unavailable(e),
            RepoError::Storage(_) => Self::Failed(e),
        }
    }
}

/// Why a read failed: every query of every use case (gets, lists, searches, the portal's
/// identity check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The id names nothing, or nothing within the caller's reach (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The caller may not do this (403). Deliberately says nothing more.
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for ReadError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for ReadError {
    /// A conflict while reading is a fault of the store, not of the request.
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(what) => Self::NotFound(what),
            RepoError::Unavailable(_) => Self::Unavailable(e),
            other => Self::Storage(other),
        }
    }
}

/// Why a command on signing processes failed (create, update, start, cancel, delete, a step
/// update, an entry action, a resent task email, reminders).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The process, step or entry does not exist, or is outside the caller's reach (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The request broke a rule (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The state machine forbids it (409, naming the state).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The id is used, or other requests kept changing the process (409).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// `If-Match` names another version (412).
    #[error("the process is at version {current}, not the one in If-Match")]
    PreconditionFailed {
        /// The current version.
        current: i64,
    },
    /// The caller may not do this (403). Deliberately says nothing more.
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for ProcessError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<CommandError> for ProcessError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotFound(what) => Self::NotFound(what),
            CommandError::Invalid(v) => Self::Invalid(v),
            CommandError::Transition(t) => Self::Transition(t),
        }
    }
}

impl From<RepoError> for ProcessError {
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::NotFound(what) => Self::NotFound(what),
            Refusal::Conflict(c) => Self::Conflict(c),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}

impl From<ReadError> for ProcessError {
    /// A command reads first; its read fails as a read does.
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NotFound(what) => Self::NotFound(what),
            ReadError::Forbidden => Self::Forbidden,
            ReadError::Unavailable(e) => Self::Unavailable(e),
            ReadError::Storage(e) => Self::Storage(e),
        }
    }
}

/// Why a write of document profiles or attributes failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The profile or attribute does not exist (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The request broke a rule, e.g. names an attribute that does not exist (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A name or id is used, or the attribute is used by a profile (409).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The caller may not do this (403).
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for CatalogError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for CatalogError {
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::NotFound(what) => Self::NotFound(what),
            Refusal::Conflict(c) => Self::Conflict(c),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}

/// Why a write of contacts or templates failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The row does not exist, or the viewer cannot see it (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The request broke a rule (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The id is used (409).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The viewer sees the row but may not change it, or names someone else (403).
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for DirectoryError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for DirectoryError {
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::NotFound(what) => Self::NotFound(what),
            Refusal::Conflict(c) => Self::Conflict(c),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}

/// Why an audit command failed: `createAuditingEvent`, or queueing the checkpoint email
/// (`AuditService::mail_checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The event broke a rule, e.g. a type the service produces itself (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The client id of the event is used (409).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The caller may not record events (403).
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<ReadError> for AuditError {
    /// The read of a command (the checkpoint the checkpoint email carries): a `NotFound`
    /// names nothing the command was given, so it is a fault of the store.
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Forbidden => Self::Forbidden,
            ReadError::Unavailable(e) => Self::Unavailable(e),
            ReadError::Storage(e) => Self::Storage(e),
            ReadError::NotFound(what) => Self::Storage(RepoError::NotFound(what)),
        }
    }
}

impl From<Denied> for AuditError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for AuditError {
    /// An append names no other row: a `NotFound` from it is a fault of the store.
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::Conflict(c) => Self::Conflict(c),
            Refusal::NotFound(what) => Self::Storage(RepoError::NotFound(what)),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}

/// Why an email use case (`sendTestEmail`, the subject of a resent task) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The posted process names a step or entry it does not have (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The posted process breaks a rule, or the matrix has no email (or no recipient) for
    /// the event and role (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The posted process cannot be built in its state (409).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The caller may not send test emails (403).
    #[error("access denied")]
    Forbidden,
    /// A template failed to render: a fault of this service's configuration (500; the
    /// cause is for logs only).
    #[error("the email could not be rendered")]
    Render(#[source] MailError),
    /// The mail server refused or failed (502; the cause is for logs only).
    #[error("the mail server did not accept the email")]
    Transport(#[source] MailError),
}

impl From<Denied> for MessageError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<CommandError> for MessageError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotFound(what) => Self::NotFound(what),
            CommandError::Invalid(v) => Self::Invalid(v),
            CommandError::Transition(t) => Self::Transition(t),
        }
    }
}

impl From<MailError> for MessageError {
    /// A missing template or recipient is the request's choice of event and role.
    fn from(e: MailError) -> Self {
        match e {
            MailError::NoTemplate { .. } => {
                ValidationErrors::single("eventType", e.to_string()).into()
            }
            MailError::NoRecipient(_) => ValidationErrors::single("role", e.to_string()).into(),
            MailError::Render(_) => Self::Render(e),
            MailError::Transport(_) => Self::Transport(e),
        }
    }
}

/// An error and its sources, joined by `: `, for a log line.
///
/// ```
/// use pas_domain::ports::RepoError;
/// use pas_domain::service::{ReadError, SourceChain};
///
/// let e = ReadError::Storage(RepoError::Storage("disk full".into()));
/// assert_eq!(SourceChain(&e).to_string(), "the store failed: storage failure: disk full");
/// ```
#[derive(Clone, Copy)]
pub struct SourceChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for SourceChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl fmt::Debug for SourceChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why `POST /outbox/{id}/retry` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// No such row (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// Only a FAILED row is put back (409, naming its state).
    #[error("the outbox row is {0}; only a FAILED row can be retried")]
    NotFailed(crate::status::OutboxState),
    /// The caller may not administer the outbox (403).
    #[error("access denied")]
    Forbidden,
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for OutboxError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for OutboxError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(what) => Self::NotFound(what),
            other => Self::Storage(other),
        }
    }
}

/// Why `POST /persons/erasure` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErasureError {
    /// The personal code or the country is missing or malformed (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The person is still in processes that run: nothing was erased (409, listing them).
    #[error("the person is still in {} running process(es)", .0.len())]
    StillRunning(Vec<ProcessId>),
    /// Other requests kept changing the person's processes (409).
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The caller may not erase (403).
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for ErasureError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for ErasureError {
    /// An erasure names no row: a `NotFound` from it is a fault of the store.
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::Conflict(c) => Self::Conflict(c),
            Refusal::NotFound(what) => Self::Storage(RepoError::NotFound(what)),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}

/// Why an operation on webhook subscriptions failed (PRODUCT.md section 12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No such subscription or delivery, or one outside the caller's reach (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The subscription breaks a rule, its target included (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The delivery to retry is still pending: it is tried anyway (409).
    #[error("the delivery is still pending")]
    StillPending,
    /// The caller may not (403).
    #[error("access denied")]
    Forbidden,
    /// The database is unreachable or did not answer in time (503 with `Retry-After`); the
    /// cause is for logs only.
    #[error("the store is unavailable")]
    Unavailable(#[source] RepoError),
    /// The store failed (500); the cause is for logs only.
    #[error("the store failed")]
    Storage(#[source] RepoError),
}

impl From<Denied> for WebhookError {
    fn from(_: Denied) -> Self {
        Self::Forbidden
    }
}

impl From<RepoError> for WebhookError {
    fn from(e: RepoError) -> Self {
        match Refusal::from(e) {
            Refusal::NotFound(what) => Self::NotFound(what),
            Refusal::Unavailable(e) => Self::Unavailable(e),
            Refusal::Conflict(c) => Self::Storage(RepoError::Storage(c.to_string())),
            Refusal::Failed(e) => Self::Storage(e),
        }
    }
}
