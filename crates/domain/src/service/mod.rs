//! Use cases: load, apply a command, save: the one path every adapter takes, so that HTTP
//! handlers, jobs and embedders share the rules. Each operation says what it can fail with:
//! every read [`ReadError`], the commands one enum per family ([`ProcessError`],
//! [`CatalogError`], [`DirectoryError`], [`AuditError`], [`ErasureError`], [`MessageError`],
//! [`OutboxError`], [`WebhookError`]); the HTTP edge maps each enum once.

mod audit;
mod catalog;
mod directory;
mod erasure;
mod error;
mod messages;
mod outbox;
mod processes;
mod webhooks;

pub use audit::{AuditService, MailedCheckpoint};
pub use catalog::CatalogService;
pub use directory::DirectoryService;
pub use erasure::ErasureService;
pub use error::{
    AuditError, CatalogError, Conflict, DirectoryError, ErasureError, MessageError, OutboxError,
    ProcessError, ReadError, SourceChain, WebhookError,
};
pub use messages::MessageService;
pub use outbox::OutboxService;
pub use processes::{Precondition, ProcessService, ReadAudit};
pub use webhooks::{WebhookService, WithSecret};
