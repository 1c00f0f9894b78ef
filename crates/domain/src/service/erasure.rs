use std::sync::Arc;

use crate::audit::{Caller, EVENT_ORIGIN, NewAuditEvent};
use crate::auth::Operation;
use crate::erasure::{Erasure, ErasureCounts, StillRunning};
use crate::ids::{AuditEventId, ProcessId};
use crate::ports::{Clock, ErasureStore, IdSource, RepoError};
use crate::pseudonym::PiiKey;
use crate::query::PersonKey;
use crate::status::EventType;

use super::ErasureError;

/// How often an erasure is planned again when a process changed between its read and its
/// write (only a deleted process's draft can still change: rarely).
const RETRIES: usize = 3;

/// `POST /persons/erasure`: a person's right to erasure (PRODUCT.md section 11).
#[derive(Clone)]
pub struct ErasureService {
    store: Arc<dyn ErasureStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    pii: PiiKey,
}

impl ErasureService {
    /// Wires the use case to its ports; `PERSON_ERASED` is recorded under the person's
    /// pseudonym under `pii`.
    pub fn new(
        store: Arc<dyn ErasureStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        pii: PiiKey,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            pii,
        }
    }

    /// Erases the person's code, name and email in their finished and deleted processes and
    /// in contacts, and records `PERSON_ERASED`. Nothing is erased while the person is in a
    /// process that still runs: the answer lists those ([`ErasureError::StillRunning`]).
    /// Erasing a person again finds nothing more to erase and answers zeros (but is
    /// recorded again).
    pub async fn erase(
        &self,
        code: &str,
        country: &str,
        caller: &Caller,
    ) -> Result<ErasureCounts, ErasureError> {
        caller.principal.require(Operation::ErasePerson)?;
        let person = PersonKey::parse(code, country)?;
        let mut attempt = 0;
        loop {
            let erasure = self.plan(&person, code, caller).await?;
            match self.store.erase(&erasure).await {
                Ok(elsewhere) => {
                    return Ok(ErasureCounts {
                        processes: erasure.processes.len(),
                        entries: erasure.entries.len(),
                        contacts: elsewhere.contacts,
                        messages: elsewhere.messages,
                    });
                }
                Err(RepoError::VersionConflict { .. }) if attempt < RETRIES => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn plan(
        &self,
        person: &PersonKey,
        code: &str,
        caller: &Caller,
    ) -> Result<Erasure, ErasureError> {
        let found = self.store.processes_of_person(person).await?;
        let running: Vec<ProcessId> = found
            .iter()
            .filter(|p| !p.may_erase())
            .map(|p| p.id)
            .collect();
        if !running.is_empty() {
            return Err(ErasureError::StillRunning(running));
        }
        let stored = self.pii.pseudonymise(code, Some(person.country));
        let record = |process: Option<(ProcessId, &str)>| NewAuditEvent {
            id: AuditEventId::from_uuid(self.ids.new_id()),
            created_at: self.clock.now(),
            event_type: EventType::PersonErased,
            event_origin: Some(EVENT_ORIGIN.to_owned()),
            creator: Some(caller.recorded_user()),
            document_id: process.map(|(_, d)| d.to_owned()),
            signer_id: None,
            customer_personal_code: Some(stored.masked.clone()),
            note: None,
            process_id: process.map(|(id, _)| id),
            ip_address: caller.ip_address.clone(),
            container_id: None,
            method: Some(Operation::ErasePerson.id().to_owned()),
            client_app_name: caller.client_app().map(str::to_owned),
            customer_pseudonym: Some(stored.pseudonym.clone()),
        };
        let mut audit = vec![record(None)];
        let mut processes = Vec::new();
        let mut entries = Vec::new();
        for mut process in found {
            let read_at = process.version;
            let erased = process
                .erase_person(person)
                .map_err(|StillRunning(id)| ErasureError::StillRunning(vec![id]))?;
            if erased.is_empty() {
                continue;
            }
            audit.push(record(Some((process.id, &process.header.document_id))));
            entries.extend(erased);
            processes.push((process, read_at));
        }
        Ok(Erasure {
            person: person.clone(),
            processes,
            entries,
            audit,
        })
    }
}
