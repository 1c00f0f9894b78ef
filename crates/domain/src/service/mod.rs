//! Use cases: load, apply a command, save: the one path every adapter takes, so that HTTP
//! handlers, jobs and embedders share the rules. Each operation's failures are one
//! [`ServiceError`], mapped to HTTP once at the edge.

mod audit;
mod catalog;
mod directory;
mod messages;
mod processes;

pub use audit::AuditService;
pub use catalog::CatalogService;
pub use directory::DirectoryService;
pub use messages::MessageService;
pub use processes::{Precondition, ProcessService, ReadAudit};

use crate::error::{CommandError, Missing, TransitionError, ValidationErrors};
use crate::ports::RepoError;

/// Why a use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The id names nothing (404).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The request broke a rule (422).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The state machine forbids it (409, naming the state).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A client id or unique name is already used, or a row is still referenced (409).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` names another version (412).
    #[error("the process is at version {current}, not the one in If-Match")]
    PreconditionFailed {
        /// The current version.
        current: i64,
    },
    /// The caller may not do this (403). Deliberately says nothing more.
    #[error("access denied")]
    Forbidden,
    /// The store failed (500; the text is for logs only).
    #[error("storage failure: {0}")]
    Storage(String),
    /// An upstream system (the mail server) refused or failed (502; the text is for logs).
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// A fault of this service that is not the store's, e.g. a template that cannot render
    /// (500; the text is for logs).
    #[error("internal failure: {0}")]
    Internal(String),
}

impl From<crate::auth::Denied> for ServiceError {
    fn from(_: crate::auth::Denied) -> Self {
        Self::Forbidden
    }
}

impl From<CommandError> for ServiceError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotFound(what) => Self::NotFound(what),
            CommandError::Invalid(v) => Self::Invalid(v),
            CommandError::Transition(t) => Self::Transition(t),
        }
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::VersionConflict { .. } => {
                Self::Conflict("the process was changed by another request; read it again".into())
            }
            RepoError::Duplicate(what) => Self::Conflict(format!("{what} already exists")),
            RepoError::InUse(what) => Self::Conflict(format!("{what} is still in use")),
            RepoError::NotFound(what) => Self::NotFound(what),
            RepoError::Storage(s) => Self::Storage(s),
        }
    }
}
