//! Pure domain of the signing-process and auditing service: entities, the process / step /
//! signer state machine, validation, notification and reminder rules, and the ports
//! adapters implement. No I/O: it builds and tests offline, and other services embed it.
//!
//! A process is built from client input, started, acted on, and every command returns the
//! events and emails it produced:
//!
//! ```
//! use pas_domain::prelude::*;
//! use time::macros::datetime;
//!
//! let ids = SequentialIds::default();
//! let input: ProcessInput = serde_json::from_value(serde_json::json!({
//!     "documentId": "lease-2026-17",
//!     "processInitiatorEmail": "office@example.lv",
//!     "signingProcessSteps": [
//!         {"processOrder": 1, "processStepSigners": [{"signerRole": "APPROVER", "signerEmail": "boss@example.lv"}]},
//!         {"processOrder": 2, "processStepSigners": [{"signerRole": "SIGNER", "signerEmail": "client@example.lv",
//!             "signerCountry": "LV", "signerPersonalCode": "161175-19997", "signerLanguage": "lv"}]}
//!     ]
//! })).unwrap();
//! let now = datetime!(2026-03-02 8:00 UTC);
//! let (mut process, _) = SigningProcess::create(input.validate().unwrap(), &ids, now).unwrap();
//! let change = process.start(now).unwrap();
//! assert_eq!(change.event_types(), [EventType::ProcessStarted, EventType::TaskStarted]);
//!
//! let approver = process.steps[0].entries[0].id;
//! let change = process.act(approver, Action::Approve, None, now).unwrap();
//! // The approval completes step 1 and starts step 2: the client gets a Latvian email.
//! assert_eq!(change.event_types(), [EventType::ApproverApproved, EventType::TaskStarted]);
//! let to_client = change.notifications.iter().find(|n| n.event_type == EventType::TaskStarted).unwrap();
//! assert_eq!(to_client.language.as_ref().map(|l| l.as_str()), Some("lv"));
//! assert_eq!(process.current_step().unwrap().process_order.get(), 2);
//! ```
#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod contact;
pub mod erasure;
pub mod error;
pub mod events;
pub mod ids;
pub mod input;
pub mod language;
pub mod machine;
pub mod matching;
pub mod notify;
pub mod outbox;
pub mod paging;
pub mod ports;
pub mod process;
pub mod pseudonym;
pub mod query;
pub mod reminder;
pub mod service;
pub mod status;
pub mod task;
pub mod template;
pub mod timestamp;
pub mod values;
pub mod visibility;
pub mod webhook;

/// The names an embedder needs most.
pub mod prelude {
    pub use crate::error::{CommandError, TransitionError, ValidationErrors};
    pub use crate::events::{Change, DomainEvent};
    pub use crate::ids::{EntryId, ProcessId, StepId};
    pub use crate::input::{EntryInput, ProcessInput, StepInput};
    pub use crate::machine::Action;
    pub use crate::notify::{NotificationIntent, RecipientRole};
    pub use crate::ports::{Clock, FixedClock, IdSource, SequentialIds, SystemClock, UuidV7Ids};
    pub use crate::process::{Entry, ProcessData, ProcessStep, SigningProcess};
    pub use crate::status::{EventType, ProcessStatus, SignerRole, SigningStatus, StepStatus};
}
