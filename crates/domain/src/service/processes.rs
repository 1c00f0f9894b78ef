use crate::error::Missing;
use std::sync::Arc;

use time::{Date, OffsetDateTime};

use crate::audit::{Caller, NewAuditEvent};
use crate::auth::{Denied, Operation, Principal};
use crate::error::ValidationErrors;
use crate::events::Change;
use crate::ids::{AuditEventId, EntryId, ProcessId, StepId};
use crate::input::{ProcessInput, StepDraft, StepInput};
use crate::machine::Action;
use crate::matching;
use crate::paging::{Page, PageRequest, ProcessSort, TaskSort};
use crate::ports::{ChangeSet, Clock, IdSource, ProcessRepository, RepoError};
use crate::process::{PortalView, ProcessData, SigningProcess};
use crate::pseudonym::PiiKey;
use crate::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter, TaskOwner};
use crate::reminder::due_reminders;
use crate::status::{EventType, ProcessStatus};
use crate::task::{SignerDocument, SignerStep, SignerTask};

use super::{Conflict, ProcessError, ReadError};

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
    pii: PiiKey,
    read_audit: ReadAudit,
}

enum Target {
    Process(ProcessId),
    Step(StepId),
    Entry(EntryId),
}

impl ProcessService {
    /// Wires the use cases to their ports, auditing single reads ([`ReadAudit::Single`]);
    /// personal codes in audit rows are pseudonymised under `pii`.
    pub fn new(
        repo: Arc<dyn ProcessRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        pii: PiiKey,
    ) -> Self {
        Self {
            repo,
            clock,
            ids,
            pii,
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
                    &self.pii,
                )
            })
            .collect();
        ChangeSet {
            audit,
            change,
            idempotency_key: None,
        }
    }

    /// `createProcess`. A `pas-user` creates in its own groups only (403, before the body
    /// is validated); one that names no `ownerGroup` and has exactly one group creates in
    /// that group.
    pub async fn create(
        &self,
        mut input: ProcessInput,
        caller: &Caller,
    ) -> Result<SigningProcess, ProcessError> {
        let principal = &caller.principal;
        principal.require(Operation::CreateProcess)?;
        let named = input
            .owner_group
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty());
        input.owner_group = principal.owner_group_for(named)?;
        if input.owner_group.is_none() && !principal.is_admin() {
            return Err(ValidationErrors::single(
                "ownerGroup",
                "is required: name one of your groups",
            )
            .into());
        }
        let draft = input.validate()?;
        let (process, change) = SigningProcess::create(draft, self.ids.as_ref(), self.clock.now())?;
        let changes = self.change_set(&process, change, caller, "createProcess");
        self.repo
            .insert(&process, &changes)
            .await
            .map_err(|e| match e {
                RepoError::Duplicate(_) => ProcessError::Conflict(Conflict::IdInUse(process.id)),
                other => ProcessError::from(other),
            })?;
        Ok(process)
    }

    /// A process, without an audit row: for callers inside the service. Clients read
    /// through [`ProcessService::get_audited`].
    pub async fn get(&self, id: ProcessId) -> Result<SigningProcess, ReadError> {
        self.repo
            .get(id)
            .await?
            .ok_or(ReadError::NotFound(Missing::Process))
    }

    /// `getProcessById`: the process, recording PROCESS_GETONE unless reads are not audited.
    /// An unknown id, or one outside the caller's reach, records nothing and is 404. When
    /// the row cannot be written the read fails: an audited read is never served unrecorded.
    pub async fn get_audited(
        &self,
        id: ProcessId,
        caller: &Caller,
    ) -> Result<SigningProcess, ReadError> {
        caller.principal.require(Operation::GetProcessById)?;
        let process = reachable(self.get(id).await?, &caller.principal)?;
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
    ) -> Result<(), ReadError> {
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
    ) -> Result<(), ReadError> {
        if self.read_audit != ReadAudit::All {
            return Ok(());
        }
        for p in processes {
            self.record_read(p, EventType::ProcessGetall, caller, method)
                .await?;
        }
        Ok(())
    }

    async fn load(&self, target: &Target) -> Result<SigningProcess, ReadError> {
        let found = match target {
            Target::Process(id) => self.repo.get(*id).await?,
            Target::Step(id) => self.repo.get_by_step(*id).await?,
            Target::Entry(id) => self.repo.get_by_entry(*id).await?,
        };
        found.ok_or(match target {
            Target::Process(_) => ReadError::NotFound(Missing::Process),
            Target::Step(_) => ReadError::NotFound(Missing::Step),
            Target::Entry(_) => ReadError::NotFound(Missing::Entry),
        })
    }

    /// Role, load, reach, check, command, save; retried on a concurrent change (rule 10).
    /// A process outside the caller's reach is 404, as if it did not exist.
    async fn mutate<F>(
        &self,
        target: Target,
        pre: Precondition,
        caller: &Caller,
        op: Operation,
        mut command: F,
    ) -> Result<SigningProcess, ProcessError>
    where
        F: FnMut(&mut SigningProcess, OffsetDateTime) -> Result<Change, ProcessError> + Send,
    {
        caller.principal.require(op)?;
        let method = op.id();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut before = self.load(&target).await?;
            // The portal reaches an entry by its secret id, whatever the process's group.
            if !op.is_portal() {
                before = reachable(before, &caller.principal)?;
            }
            let expected = before.version;
            if let Precondition::Version(v) = pre {
                if v != expected {
                    return Err(ProcessError::PreconditionFailed { current: expected });
                }
            }
            // The store is given both states so that it writes only what the command changed.
            let mut process = before.clone();
            let change = command(&mut process, self.clock.now())?;
            let changes = self.change_set(&process, change, caller, method);
            match self.repo.save(&before, &process, &changes).await {
                Ok(()) => return Ok(process),
                Err(RepoError::VersionConflict { .. })
                    if pre == Precondition::None && attempt < RETRIES =>
                {
                    continue;
                }
                Err(RepoError::VersionConflict { .. }) if pre != Precondition::None => {
                    return Err(ProcessError::PreconditionFailed {
                        current: expected + 1,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `updateProcess`. A `pas-user` cannot move a process out of its groups; one that
    /// leaves `ownerGroup` out keeps the current one.
    pub async fn update(
        &self,
        id: ProcessId,
        input: ProcessInput,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<SigningProcess, ProcessError> {
        let ids = self.ids.clone();
        let principal = &caller.principal;
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            Operation::UpdateProcess,
            |p, now| {
                let mut input = input.clone();
                if !principal.is_admin() {
                    let named = input
                        .owner_group
                        .as_deref()
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_owned);
                    let group = named.or_else(|| p.header.owner_group.clone());
                    if !principal.reaches_group(group.as_deref()) {
                        return Err(Denied.into());
                    }
                    input.owner_group = group;
                }
                // Validated only once the process is known to be within reach.
                Ok(p.update(input.validate()?, ids.as_ref(), now)?)
            },
        )
        .await
    }

    /// `POST /processes/{id}/start`.
    pub async fn start(
        &self,
        id: ProcessId,
        pre: Precondition,
        caller: &Caller,
    ) -> Result<SigningProcess, ProcessError> {
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            Operation::StartProcess,
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
    ) -> Result<SigningProcess, ProcessError> {
        let op = if disable_messages {
            Operation::CancelProcessWithMessageControl
        } else {
            Operation::CancelProcess
        };
        self.mutate(Target::Process(id), pre, caller, op, |p, now| {
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
    ) -> Result<(), ProcessError> {
        self.mutate(
            Target::Process(id),
            pre,
            caller,
            Operation::DeleteProcess,
            |p, now| Ok(p.delete(now)?),
        )
        .await
        .map(drop)
    }

    /// `updateProcessStep`. Changing an entry's `signingStatus` is an administrative
    /// correction: only a `pas-admin` may (403), and it is recorded with the admin as
    /// `creator`.
    pub async fn update_step(
        &self,
        step: StepId,
        input: StepInput,
        caller: &Caller,
    ) -> Result<SigningProcess, ProcessError> {
        let ids = self.ids.clone();
        let principal = &caller.principal;
        self.mutate(
            Target::Step(step),
            Precondition::None,
            caller,
            Operation::UpdateProcessStep,
            |p, now| {
                // Validated only once the step is known to be within reach.
                let draft = input.clone().into_draft()?;
                if !principal.is_admin() && changes_a_status(p, &draft) {
                    return Err(Denied.into());
                }
                Ok(p.update_step(step, draft, ids.as_ref(), now)?)
            },
        )
        .await
    }

    /// `POST /process-step-signers/{id}/{action}`: the portal acts for an entry after the
    /// identity check of section 8 (403 on mismatch, the same answer as for an unknown id).
    /// A `pas-signer` acts as its own person only; administrators never act for a signer.
    /// The answer is the process as the entry may see it.
    pub async fn act(
        &self,
        signer: EntryId,
        action: Action,
        comment: Option<String>,
        claimed: Option<PersonKey>,
        caller: &Caller,
    ) -> Result<PortalView, ProcessError> {
        let op = match action {
            Action::Sign => Operation::SignProcessStep,
            Action::Approve => Operation::ApproveProcessStep,
            Action::View => Operation::ViewProcessStep,
            Action::Decline => Operation::DeclineProcessStep,
        };
        caller.principal.require(op)?;
        let person = caller.principal.acting_person(claimed)?;
        self.mutate(
            Target::Entry(signer),
            Precondition::None,
            caller,
            op,
            |p, now| {
                let (_, entry) = p.find_entry(signer).ok_or(ProcessError::Forbidden)?;
                if !matching::may_act(entry, person.as_ref()) {
                    return Err(ProcessError::Forbidden);
                }
                Ok(p.act(signer, action, comment.clone(), now)?)
            },
        )
        .await
        .map(|p| matching::view_for_signer(&p, signer))
        .map_err(|e| match e {
            ProcessError::NotFound(Missing::Entry) => ProcessError::Forbidden,
            other => other,
        })
    }

    /// `sendSignerEmail`: the entry's TASK_STARTED email again.
    pub async fn resend_task(
        &self,
        signer: EntryId,
        caller: &Caller,
    ) -> Result<ProcessData, ProcessError> {
        caller.principal.require(Operation::SendSignerEmail)?;
        let process = reachable(self.load(&Target::Entry(signer)).await?, &caller.principal)?;
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
        signer: EntryId,
        person: &PersonKey,
        caller: &Caller,
    ) -> Result<PortalView, ReadError> {
        caller
            .principal
            .require(Operation::AuthorizeProcessAccess)?;
        if !caller.principal.speaks_for(person) {
            return Err(ReadError::Forbidden);
        }
        let process = self.repo.get_by_entry(signer).await?;
        let now = self.clock.now();
        let verdict = process.as_ref().and_then(|p| {
            let (_, entry) = p.find_entry(signer)?;
            let ok = p.status != ProcessStatus::Pending && matching::is_person(entry, person);
            Some((p, ok))
        });
        let Some((process, ok)) = verdict else {
            return Err(ReadError::Forbidden);
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
            Operation::AuthorizeProcessAccess.id(),
        );
        self.repo.record(process.id, &changes).await?;
        if ok {
            Ok(matching::view_for_signer(process, signer))
        } else {
            Err(ReadError::Forbidden)
        }
    }

    /// `listProcesses`. With [`ReadAudit::All`] each process on the answered page records
    /// PROCESS_GETALL (never the whole result set: a page holds at most 200). A list of
    /// every group (`isAdmin=true`, no `ownerGroup`) is for those who see everything; naming
    /// a group outside the caller's is 403.
    pub async fn list(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest<ProcessSort>,
        caller: &Caller,
    ) -> Result<Page<SigningProcess>, ReadError> {
        let principal = &caller.principal;
        principal.require(Operation::ListProcesses)?;
        let allowed = match &filter.owner_group {
            None => principal.sees_everything(),
            Some(g) => principal.reaches_group(Some(g)),
        };
        if !allowed {
            return Err(ReadError::Forbidden);
        }
        let found = self.repo.list(filter, page).await?;
        self.record_list(&found.content, caller, "listProcesses")
            .await?;
        Ok(found)
    }

    /// `findProcesses` and `listProcessesByDocumentId` (`op` names which): the matches
    /// within the caller's reach.
    pub async fn search(
        &self,
        search: &ProcessSearch,
        caller: &Caller,
        op: Operation,
    ) -> Result<Vec<SigningProcess>, ReadError> {
        caller.principal.require(op)?;
        let mut found = self.repo.search(search).await?;
        found.retain(|p| {
            caller
                .principal
                .reaches_group(p.header.owner_group.as_deref())
        });
        self.record_list(&found, caller, op.id()).await?;
        Ok(found)
    }

    /// `listProcessesByStepSignerId`: the process holding the entry, as a list.
    pub async fn by_signer(
        &self,
        signer: EntryId,
        caller: &Caller,
    ) -> Result<Vec<SigningProcess>, ReadError> {
        caller
            .principal
            .require(Operation::ListProcessesByStepSignerId)?;
        let mut found: Vec<_> = self.repo.get_by_entry(signer).await?.into_iter().collect();
        found.retain(|p| {
            caller
                .principal
                .reaches_group(p.header.owner_group.as_deref())
        });
        self.record_list(&found, caller, "listProcessesByStepSignerId")
            .await?;
        Ok(found)
    }

    /// `listSignerTasks`: a person's tasks for whom the caller speaks (403 otherwise), or an
    /// anonymous entry's by its secret id.
    pub async fn signer_tasks(
        &self,
        filter: &SignerTaskFilter,
        page: &PageRequest<TaskSort>,
        caller: &Caller,
    ) -> Result<Page<SignerTask>, ReadError> {
        caller.principal.require(Operation::ListSignerTasks)?;
        if let TaskOwner::Person { person, .. } = &filter.owner {
            speaks_for(&caller.principal, person)?;
        }
        Ok(self.repo.signer_tasks(filter, page).await?)
    }

    /// `listSignerSteps`: every step where the person has an entry, other people's entries
    /// shown as in a [`PortalView`].
    pub async fn signer_steps(
        &self,
        person: &PersonKey,
        caller: &Caller,
    ) -> Result<Vec<SignerStep>, ReadError> {
        caller.principal.require(Operation::ListSignerSteps)?;
        speaks_for(&caller.principal, person)?;
        let processes = self.repo.for_person(person).await?;
        Ok(processes
            .iter()
            .flat_map(|p| {
                p.steps.iter().filter_map(|s| {
                    let own = matching::own_entries(s, person);
                    (!own.is_empty()).then(|| SignerStep {
                        process_id: p.id,
                        step: s.clone(),
                        own,
                    })
                })
            })
            .collect())
    }

    /// `listSignerDocuments`: one row per process the person takes part in.
    pub async fn signer_documents(
        &self,
        person: &PersonKey,
        caller: &Caller,
    ) -> Result<Vec<SignerDocument>, ReadError> {
        caller.principal.require(Operation::ListSignerDocuments)?;
        speaks_for(&caller.principal, person)?;
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
    ) -> Result<usize, ProcessError> {
        caller.principal.require(Operation::SendReminders)?;
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
                let mut changes =
                    self.change_set(&process, change, caller, Operation::SendReminders.id());
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

/// The process if the principal reaches it; 404 otherwise, as if it did not exist.
fn reachable(process: SigningProcess, principal: &Principal) -> Result<SigningProcess, ReadError> {
    if principal.reaches_group(process.header.owner_group.as_deref()) {
        Ok(process)
    } else {
        Err(ReadError::NotFound(Missing::Process))
    }
}

fn speaks_for(principal: &Principal, person: &PersonKey) -> Result<(), ReadError> {
    if principal.speaks_for(person) {
        Ok(())
    } else {
        Err(ReadError::Forbidden)
    }
}

/// Whether `draft` asks for a `signingStatus` other than an existing entry's current one.
fn changes_a_status(process: &ProcessData, draft: &StepDraft) -> bool {
    draft
        .entries
        .iter()
        .any(|d| match (d.id, d.signing_status) {
            (Some(id), Some(requested)) => process
                .find_entry(id)
                .is_some_and(|(_, e)| e.signing_status != requested),
            _ => false,
        })
}
