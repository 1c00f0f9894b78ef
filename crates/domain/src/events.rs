//! What a command produced: domain events (recorded in the audit trail) and the emails they
//! cause, saved together with the new state in one transaction (rule 10).

use time::OffsetDateTime;

use crate::ids::{EntryId, ProcessId, StepId};
use crate::notify::{self, NotificationIntent};
use crate::process::ProcessData;
use crate::status::EventType;

/// Something that happened to a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEvent {
    /// One of the seed's event types.
    pub event_type: EventType,
    /// The process.
    pub process_id: ProcessId,
    /// The step concerned, if any.
    pub step_id: Option<StepId>,
    /// The entry concerned, if any.
    pub signer_id: Option<EntryId>,
    /// When.
    pub occurred_at: OffsetDateTime,
    /// Free text, e.g. a decline reason.
    pub note: Option<String>,
}

/// The events and emails of one successful command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "a change must be saved with the process, or its events and emails are lost"]
pub struct Change {
    /// Events, in the order they happened.
    pub events: Vec<DomainEvent>,
    /// Emails to send, computed when each event happened.
    pub notifications: Vec<NotificationIntent>,
}

impl Change {
    /// The event types, in order (handy in tests and logs).
    pub fn event_types(&self) -> Vec<EventType> {
        self.events.iter().map(|e| e.event_type).collect()
    }
}

/// Collects the events of one command and, unless messages are disabled, the emails each
/// event causes in the state the process is in at that moment.
pub(crate) struct Recorder {
    pub(crate) now: OffsetDateTime,
    pub(crate) messages: bool,
    pub(crate) change: Change,
}

impl Recorder {
    pub(crate) fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            messages: true,
            change: Change::default(),
        }
    }

    pub(crate) fn record(
        &mut self,
        process: &ProcessData,
        event_type: EventType,
        step_id: Option<StepId>,
        signer_id: Option<EntryId>,
        note: Option<String>,
    ) {
        let event = DomainEvent {
            event_type,
            process_id: process.id,
            step_id,
            signer_id,
            occurred_at: self.now,
            note,
        };
        if self.messages {
            self.change
                .notifications
                .extend(notify::recipients(process, &event));
        }
        self.change.events.push(event);
    }
}
