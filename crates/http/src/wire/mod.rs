//! The JSON the API reads and writes, each shape declared once: the response types derive
//! `Serialize` and `utoipa::ToSchema` (so `/openapi.json` describes exactly what is
//! written), the request types derive `Deserialize` and convert into the domain's input
//! types, which the use cases validate (after their role and object checks).
//!
//! Names are the seed document's (`SigningProcess`, `ProcessStepSigner`, `SignerTask`, …),
//! and so are the component names of the OpenAPI document. An `Option` field is written as
//! `null` when empty, never left out.

pub mod audit;
pub mod catalog;
pub mod directory;
pub mod health;
pub mod messages;
pub mod outbox;
pub mod page;
pub mod persons;
pub mod process;
pub mod task;
pub mod webhook;
