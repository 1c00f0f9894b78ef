use std::sync::Arc;

use time::{Date, OffsetDateTime};

use crate::audit::{Caller, NewAuditEvent};
use crate::events::Change;
use crate::ids::{AuditEventId, ProcessId, SignerId, StepId};
use crate::input::{ProcessDraft, StepDraft};
use crate::machine::Action;
use crate::matching;
use crate::paging::{Page, PageRequest, ProcessSort, TaskSort};
use crate::ports::{ChangeSet, Clock, IdSource, ProcessRepository, RepoError};
use crate::process::{ProcessData, SigningProcess};
use crate::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter};
use crate::reminder::due_reminders;
use crate::status::{EventType, ProcessStatus};
use crate::task::{SignerDocument, SignerStep, SignerTask};

use super::ServiceError;

/// How often a change is retried when another request changed the process in between
/// (only without `If-Match`: with it the client asked for exactly one version).
const RETRIES: usize = 5;

/// What the client knows of the version (`If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precondition {
    /// No `If-Match`: a concurrent change is retried on the new state.
    #[default]
    None,
    /// `If-Match` with this version: anything else is 412.
    Version(i64),
}

/// Which reads of processes leave an audit row.
///
/// A read row is appended to the process's hash chain like any change, so every audited
/// read is a write: `All` costs one write per process on a listed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadAudit {
    /// No read is recorded.
    Off,
    /// `getProcessById` records PROCESS_GETONE.
    #[default]
    Single,
    /// As `Single`, and every process a list answers (`listProcesses`, `findProcesses`,
    /// `listProcessesByDocumentId`, `listProcessesByStepSignerId`) records PROCESS_GETALL,
    /// one row per process on the answered page.
    All,
}

/// Signing-process use cases.
#[derive(Clone)]
pub struct ProcessService {
    repo: Arc<dyn ProcessRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    read_audit: ReadAudit,
}

enum Target {
    Process(ProcessId),
    Step(StepId),
    Signer(SignerId),
}

impl ProcessService {
    /// Wires the use cases to their ports, auditing single reads ([`ReadAudit::Single`]).
    pub fn new(
        repo: Arc<dyn ProcessRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            repo,
            clock,
            ids,
            read_audit: ReadAudit::default(),
        }
    }

    /// The same use cases with another read-audit setting (`AUDIT_READS`).
    #[must_use]
    pub fn with_read_audit(mut self, read_audit: ReadAudit) -> Self {
        self.read_audit = read_audit;
        self
    }

    /// Which reads are recorded.
    pub fn read_audit(&self) -> ReadAudit {
        self.read_audit
    }

    /// The current time of this service's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn change_set(
        &self,
        process: &ProcessData,
        change: Change,
        caller: &Caller,
        method: &str,
    ) -> ChangeSet {
        let audit = change
            .events
            .iter()
            .map(|e| {
                NewAuditEvent::from_domain(
                    AuditEventId::from_uuid(self.ids.new_id()),
                    e,
                    process,
                    caller,
                    method,
                )
            })
            .collect();
        ChangeSet {
            audit,
            change,
            idempotency_key: None,
        }
    }

    /// `createProcess`.
    pub async fn create(
        &self,
        draft: ProcessDraft,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let (process, change) = SigningProcess::create(draft, self.ids.as_ref(), self.clock.now())?;
        let changes = self.change_set(&process, change, caller, "createProcess");
        self.repo
            .insert(&process, &changes)
            .await
            .map_err(|e| match e {
                RepoError::Duplicate(_) => {
                    ServiceError::Conflict(format!("process id {} is already used", process.id))
                }
                other => other.into(),
            })?;
        Ok(process)
    }

    /// A process, without an audit row: for callers inside the service. Clients read
    /// through [`ProcessService::get_audited`].
    pub async fn get(&self, id: ProcessId) -> Result<SigningProcess, ServiceError> {
        self.repo
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("process"))
    }

    /// `getProcessById`: the process, recording PROCESS_GETONE unless reads are not audited.
    /// An unknown id records nothing (there is no chain to add to). When the row cannot be
    /// written the read fails: an audited read is never served unrecorded.
    pub async fn get_audited(
        &self,
        id: ProcessId,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let process = self.get(id).await?;
        if self.read_audit != ReadAudit::Off {
            self.record_read(&process, EventType::ProcessGetone, caller, "getProcessById")
                .await?;
        }
        Ok(process)
    }

    /// Appends one read event (no change, no email) to the process's chain.
    async fn record_read(
        &self,
        process: &ProcessData,
        event_type: EventType,
        caller: &Caller,
        method: &str,
    ) -> Result<(), ServiceError> {
        let event = crate::events::DomainEvent {
            event_type,
            process_id: process.id,
            step_id: None,
            signer_id: None,
            occurred_at: self.clock.now(),
            note: None,
        };
        let changes = self.change_set(
            process,
            Change {
                events: vec![event],
                notifications: Vec::new(),
            },
            caller,
            method,
        );
        Ok(self.repo.record(process.id, &changes).await?)
    }

    /// With [`ReadAudit::All`], one PROCESS_GETALL per listed process (each in its own
    /// chain, hence one write each); otherwise nothing.
    async fn record_list(
        &self,
        processes: &[SigningProcess],
        caller: &Caller,
        method: &str,
    ) -> Result<(), ServiceError> {
        if self.read_audit != ReadAudit::All {
            return Ok(());
        }
        for p in processes {
            self.record_read(p, EventType::ProcessGetall, caller, method)
                .await?;
        }
        Ok(())
    }

    async fn load(&self, target: &Target) -> Result<SigningProcess, ServiceError> {
        let found = match target {
            Target::Process(id) => self.repo.get(*id).await?,
            Target::Step(id) => self.repo.get_by_step(*id).await?,
            Target::Signer(id) => self.repo.get_by_signer(*id).await?,
        };
        found.ok_or(match target {
            Target::Process(_) => ServiceError::NotFound("process"),
            Target::Step(_) => ServiceError::NotFound("step"),
            Target::Signer(_) => ServiceError::NotFound("signer"),
        })
    }

    /// Load, check, command, save; retried on a concurrent change (rule 10).
    async fn mutate<F>(
        &self,
        target: Target,
        pre: Precondition,
        caller: &Caller,
        method: &str,
        mut command: F,
    ) -> Result<SigningProcess, ServiceError>
    where
        F: FnMut(&mut SigningProcess, OffsetDateTime) -> Result<Change, ServiceError> + Send,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut process = self.load(&target).await?;
            let expected = process.version;
            if let Precondition::Version(v) = pre {
                if v != expected {
                    return Err(ServiceError::PreconditionFailed { current: expected });
                }
            }
            let change = command(&mut process, self.clock.now())?;
            let changes = self.change_set(&process, change, caller, method);
            match self.repo.save(&process, expected, &changes).await {
                Ok(()) => return Ok(process),
                Err(RepoError::VersionConflict { .. })
                    if pre == Precondition::None && attempt < RETRIES =>
                {
                    continue;
                }
                Err(RepoError::VersionConflict { .. }) if pre != Precondition::None => {
                    return Err(ServiceError::PreconditionFailed {
                        current: expected + 1,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `updateProcess`.
    pub async fn update(
        &self,
        id: ProcessId,
        draft: ProcessDraft,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let ids = self.ids.clone();
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            "updateProcess",
            |p, now| Ok(p.update(draft.clone(), ids.as_ref(), now)?),
        )
        .await
    }

    /// `POST /processes/{id}/start`.
    pub async fn start(
        &self,
        id: ProcessId,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            "startProcess",
            |p, now| Ok(p.start(now)?),
        )
        .await
    }

    /// `cancelProcess` and `cancelProcessWithMessageControl`.
    pub async fn cancel(
        &self,
        id: ProcessId,
        disable_messages: bool,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let method = if disable_messages {
            "cancelProcessWithMessageControl"
        } else {
            "cancelProcess"
        };
        self.mutate(Target::Process(id), pre, caller, method, |p, now| {
            Ok(p.cancel(disable_messages, now)?)
        })
        .await
    }

    /// `deleteProcess`.
    pub async fn delete(
        &self,
        id: ProcessId,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            "deleteProcess",
            |p, now| Ok(p.delete(now)?),
        )
        .await
        .map(drop)
    }

    /// `updateProcessStep`.
    pub async fn update_step(
        &self,
        step: StepId,
        draft: StepDraft,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let ids = self.ids.clone();
        self.mutate(
            Target::Step(step),
            Precondition::None,
            caller,
            "updateProcessStep",
            |p, now| Ok(p.update_step(step, draft.clone(), ids.as_ref(), now)?),
        )
        .await
    }

    /// `POST /process-step-signers/{id}/{action}`: the portal acts for an entry after the
    /// identity check of section 8 (403 on mismatch, the same answer as for an unknown id).
    pub async fn act(
        &self,
        signer: SignerId,
        action: Action,
        comment: Option<String>,
        claimed: Option<&PersonKey>,
        caller: &Caller,
    ) -> Result<SigningProcess, ServiceError> {
        let method = match action {
            Action::Sign => "signProcessStep",
            Action::Approve => "approveProcessStep",
            Action::View => "viewProcessStep",
            Action::Decline => "declineProcessStep",
        };
        self.mutate(
            Target::Signer(signer),
            Precondition::None,
            caller,
            method,
            |p, now| {
                let (_, entry) = p.find_signer(signer).ok_or(ServiceError::Forbidden)?;
                if !matching::may_act(entry, claimed) {
                    return Err(ServiceError::Forbidden);
                }
                Ok(p.act(signer, action, comment.clone(), now)?)
            },
        )
        .await
        .map_err(|e| match e {
            ServiceError::NotFound("signer") => ServiceError::Forbidden,
            other => other,
        })
    }

    /// `sendSignerEmail`: the entry's TASK_STARTED email again.
    pub async fn resend_task(
        &self,
        signer: SignerId,
        caller: &Caller,
    ) -> Result<ProcessData, ServiceError> {
        let process = self.load(&Target::Signer(signer)).await?;
        let change = process.resend_task(signer, self.clock.now())?;
        let changes = self.change_set(&process, change, caller, "sendSignerEmail");
        self.repo.record(process.id, &changes).await?;
        Ok(process.into_data())
    }

    /// `authorizeProcessAccess`: the process as the entry may see it, when the identity
    /// matches; AUTH_COMPLETED or AUDIT_LOGIN_FAULT is recorded either way. Unknown ids,
    /// drafts and mismatches all answer `Forbidden`.
    pub async fn authorize(
        &self,
        signer: SignerId,
        person: &PersonKey,
        caller: &Caller,
    ) -> Result<ProcessData, ServiceError> {
        let process = self.repo.get_by_signer(signer).await?;
        let now = self.clock.now();
        let verdict = process.as_ref().and_then(|p| {
            let (_, entry) = p.find_signer(signer)?;
            let ok = p.status != ProcessStatus::Pending && matching::is_person(entry, person);
            Some((p, ok))
        });
        let Some((process, ok)) = verdict else {
            return Err(ServiceError::Forbidden);
        };
        let event_type = if ok {
            EventType::AuthCompleted
        } else {
            EventType::AuditLoginFault
        };
        let event = crate::events::DomainEvent {
            event_type,
            process_id: process.id,
            step_id: None,
            signer_id: Some(signer),
            occurred_at: now,
            note: None,
        };
        let changes = self.change_set(
            process,
            Change {
                events: vec![event],
                notifications: Vec::new(),
            },
            caller,
            "authorizeProcessAccess",
        );
        self.repo.record(process.id, &changes).await?;
        if ok {
            Ok(matching::view_for_signer(process, signer))
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// `listProcesses`. With [`ReadAudit::All`] each process on the answered page records
    /// PROCESS_GETALL (never the whole result set: a page holds at most 200).
    pub async fn list(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest<ProcessSort>,
        caller: &Caller,
    ) -> Result<Page<SigningProcess>, ServiceError> {
        let found = self.repo.list(filter, page).await?;
        self.record_list(&found.content, caller, "listProcesses")
            .await?;
        Ok(found)
    }

    /// `findProcesses` and `listProcessesByDocumentId` (`method` names which, for the audit
    /// rows that [`ReadAudit::All`] writes).
    pub async fn search(
        &self,
        search: &ProcessSearch,
        caller: &Caller,
        method: &str,
    ) -> Result<Vec<SigningProcess>, ServiceError> {
        let found = self.repo.search(search).await?;
        self.record_list(&found, caller, method).await?;
        Ok(found)
    }

    /// `listProcessesByStepSignerId`: the process holding the entry, as a list.
    pub async fn by_signer(
        &self,
        signer: SignerId,
        caller: &Caller,
    ) -> Result<Vec<SigningProcess>, ServiceError> {
        let found: Vec<_> = self.repo.get_by_signer(signer).await?.into_iter().collect();
        self.record_list(&found, caller, "listProcessesByStepSignerId")
            .await?;
        Ok(found)
    }

    /// `listSignerTasks`.
    pub async fn signer_tasks(
        &self,
        filter: &SignerTaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> Result<Page<SignerTask>, ServiceError> {
        Ok(self.repo.signer_tasks(filter, page).await?)
    }

    /// `listSignerSteps`: every step where the person has an entry.
    pub async fn signer_steps(&self, person: &PersonKey) -> Result<Vec<SignerStep>, ServiceError> {
        let processes = self.repo.for_person(person).await?;
        Ok(processes
            .iter()
            .flat_map(|p| {
                p.steps
                    .iter()
                    .filter(|s| s.signers.iter().any(|e| matching::is_person(e, person)))
                    .map(|s| SignerStep {
                        process_id: p.id,
                        step: s.clone(),
                    })
            })
            .collect())
    }

    /// `listSignerDocuments`: one row per process the person takes part in.
    pub async fn signer_documents(
        &self,
        person: &PersonKey,
    ) -> Result<Vec<SignerDocument>, ServiceError> {
        let processes = self.repo.for_person(person).await?;
        Ok(processes
            .iter()
            .map(|p| SignerDocument::from(&**p))
            .collect())
    }

    /// `sendReminders` and the scheduled job: one REMINDER per due entry and offset. The
    /// store's idempotency key (entry, due date, offset) makes a second run the same day send
    /// nothing; returns how many were newly recorded.
    pub async fn send_reminders(
        &self,
        today: Date,
        days_before: &[u32],
        local_date: &(dyn Fn(OffsetDateTime) -> Date + Sync),
        caller: &Caller,
    ) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let horizon = i64::from(days_before.iter().copied().max().unwrap_or(0)) + 2;
        let from = now - time::Duration::days(1);
        let to = now + time::Duration::days(horizon);
        let mut sent = 0;
        for process in self.repo.due_between(from, to).await? {
            for due in due_reminders(&process, today, days_before, local_date) {
                let mut change = process.remind(due.signer_id, now)?;
                for e in &mut change.events {
                    e.note = Some(format!(
                        "due {} ({} days before)",
                        due.due_date, due.days_before
                    ));
                }
                let mut changes = self.change_set(&process, change, caller, "sendReminders");
                changes.idempotency_key = Some(format!(
                    "reminder:{}:{}:{}",
                    due.signer_id, due.due_date, due.days_before
                ));
                match self.repo.record(process.id, &changes).await {
                    Ok(()) => sent += 1,
                    Err(RepoError::Duplicate(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(sent)
    }
}
