//! Erasure of a person's data (PRODUCT.md section 11): in finished and deleted processes,
//! and in contacts, the person's personal code, name and email are erased. Audit rows are
//! not touched: they hold the person only as a pseudonym and a masked code, so every chain
//! still verifies afterwards.

use crate::audit::NewAuditEvent;
use crate::ids::{EntryId, ProcessId};
use crate::matching::is_person;
use crate::process::{ProcessData, SigningProcess};
use crate::query::PersonKey;

/// The process still runs for the person: neither deleted nor in a final status
/// (COMPLETED, CANCELED, DECLINED). A PENDING draft counts as running: it may still start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("process {0} is still running")]
pub struct StillRunning(pub ProcessId);

impl ProcessData {
    /// Whether the data of the people in it may be erased: it is deleted or final.
    pub fn may_erase(&self) -> bool {
        self.deleted_at.is_some() || self.status.is_final()
    }
}

impl SigningProcess {
    /// Erases the personal code, name and email of every entry of `person` and answers the
    /// erased entries (empty when the process has none: then nothing changed). A change adds
    /// one to `version`. Refused for a process that still runs ([`ProcessData::may_erase`]);
    /// unlike every other command it also applies to a deleted process.
    ///
    /// ```
    /// use pas_domain::prelude::*;
    /// use pas_domain::query::PersonKey;
    ///
    /// let ids = SequentialIds::default();
    /// let now = time::macros::datetime!(2026-03-01 10:00 UTC);
    /// let input: ProcessInput = serde_json::from_value(serde_json::json!({
    ///     "documentId": "doc-1", "status": "STARTED",
    ///     "signingProcessSteps": [{"processStepSigners": [{"signerRole": "SIGNER",
    ///         "signerName": "Mari", "signerEmail": "mari@example.ee",
    ///         "signerCountry": "EE", "signerPersonalCode": "37605030299"}]}]
    /// })).unwrap();
    /// let (mut process, _) = SigningProcess::create(input.validate().unwrap(), &ids, now).unwrap();
    /// let mari = PersonKey::parse("37605030299", "EE").unwrap();
    /// assert!(process.erase_person(&mari).is_err()); // still running
    ///
    /// let signer = process.entries().next().unwrap().id;
    /// let _ = process.act(signer, Action::Sign, None, now).unwrap(); // completes it
    /// assert_eq!(process.erase_person(&mari).unwrap(), vec![signer]);
    /// let entry = process.entries().next().unwrap();
    /// assert!(entry.details.signer_personal_code.is_none() && entry.details.signer_name.is_none());
    /// ```
    pub fn erase_person(&mut self, person: &PersonKey) -> Result<Vec<EntryId>, StillRunning> {
        if !self.data.may_erase() {
            return Err(StillRunning(self.data.id));
        }
        let mut erased = Vec::new();
        for entry in self
            .data
            .steps
            .iter_mut()
            .flat_map(|s| s.entries.iter_mut())
        {
            if is_person(entry, person) {
                entry.details.signer_personal_code = None;
                entry.details.signer_name = None;
                entry.details.signer_email = None;
                erased.push(entry.id);
            }
        }
        if !erased.is_empty() {
            self.data.version += 1;
        }
        Ok(erased)
    }
}

/// One erasure, planned by the use case and written by an [`crate::ports::ErasureStore`]
/// in one transaction.
#[derive(Debug, Clone)]
pub struct Erasure {
    /// The person.
    pub person: PersonKey,
    /// Each changed process in its erased state, with the version it was read at.
    pub processes: Vec<(SigningProcess, i64)>,
    /// The erased entries (their outbox rows lose their address too).
    pub entries: Vec<EntryId>,
    /// `PERSON_ERASED`: one row in each changed process's chain and one outside any process.
    pub audit: Vec<NewAuditEvent>,
}

/// What an erasure changed outside the processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasedElsewhere {
    /// Contacts whose code, name, email and phone were erased.
    pub contacts: u64,
    /// Outbox rows (emails to erased entries) whose address was erased.
    pub messages: u64,
}

/// The answer of `POST /persons/erasure`: how much was erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureCounts {
    /// Processes changed.
    pub processes: usize,
    /// Entries erased.
    pub entries: usize,
    /// Contacts erased.
    pub contacts: u64,
    /// Outbox rows whose address was erased.
    pub messages: u64,
}
