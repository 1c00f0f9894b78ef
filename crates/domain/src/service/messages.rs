use std::sync::Arc;

use crate::auth::{Operation, Principal};
use crate::ids::EntryId;
use crate::input::ProcessDraft;
use crate::notify::{self, RecipientRole};
use crate::ports::{Clock, IdSource, Mailer, SentEmail, TestLanguages};
use crate::process::{ProcessData, SigningProcess};
use crate::status::EventType;

use super::MessageError;

/// Email use cases that bypass the outbox: test emails and subjects of resent tasks.
#[derive(Clone)]
pub struct MessageService {
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl MessageService {
    /// Wires the use cases to their ports.
    pub fn new(mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self { mailer, clock, ids }
    }

    /// `sendTestEmail`: renders the matrix entry of `event` for `role` with the posted
    /// process (as a draft would be built, with fresh ids) and sends it now; nothing is
    /// stored. `languages` says whose language each email is in (see [`TestLanguages`]).
    pub async fn send_test(
        &self,
        draft: ProcessDraft,
        event: EventType,
        role: RecipientRole,
        languages: TestLanguages,
        principal: &Principal,
    ) -> Result<Vec<SentEmail>, MessageError> {
        principal.require(Operation::SendTestEmail)?;
        // Rendered as a draft: a test email must not fail on the rules of starting.
        let draft = ProcessDraft {
            status: None,
            ..draft
        };
        let (process, _) = SigningProcess::create(draft, self.ids.as_ref(), self.clock.now())?;
        Ok(self
            .mailer
            .send_test(process.into_data(), event, role, languages)
            .await?)
    }

    /// The subject of the entry's TASK_STARTED email, as `sendSignerEmail` answers it.
    pub fn task_subject(
        &self,
        process: &ProcessData,
        signer: EntryId,
    ) -> Result<Option<String>, MessageError> {
        match notify::task_email(process, signer) {
            Some(intent) => Ok(self.mailer.subject(&intent, process)?),
            None => Ok(None),
        }
    }
}
