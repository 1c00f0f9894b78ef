//! The state machine of PRODUCT.md section 5, rules 1 to 9, as commands on
//! [`SigningProcess`]. Every command works on a copy and replaces the process only when it
//! succeeds, so a refused command changes nothing. Each success adds one to `version` and
//! returns the [`Change`] (events and emails) to save with the new state (rule 10).

use crate::error::Missing;
use std::collections::HashSet;

use time::OffsetDateTime;

use crate::error::{CommandError, TransitionError, ValidationErrors};
use crate::events::{Change, Recorder};
use crate::ids::{EntryId, ProcessId, StepId};
use crate::input::{EntryDraft, MAX_COMMENT, ProcessDraft, StepDraft};
use crate::notify;
use crate::ports::IdSource;
use crate::process::{Entry, ProcessData, ProcessStep, SigningProcess};
use crate::status::{EventType, ProcessStatus, SignerRole, SigningStatus, StepStatus};
use crate::timestamp::rfc3339;

/// What an entry does to its task (rules 3 and 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A SIGNER signs.
    Sign,
    /// An APPROVER approves.
    Approve,
    /// A VIEWER views.
    View,
    /// A SIGNER or APPROVER declines.
    Decline,
}

impl Action {
    /// The verb, as in the `/process-step-signers/{id}/{verb}` path.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sign => "sign",
            Self::Approve => "approve",
            Self::View => "view",
            Self::Decline => "decline",
        }
    }

    /// The action that moves an entry to `status`, if there is one (rule 8).
    pub const fn reaching(status: SigningStatus) -> Option<Self> {
        match status {
            SigningStatus::Signed => Some(Self::Sign),
            SigningStatus::Approved => Some(Self::Approve),
            SigningStatus::Viewed => Some(Self::View),
            SigningStatus::Declined => Some(Self::Decline),
            _ => None,
        }
    }

    fn allowed_for(self, role: SignerRole) -> bool {
        match self {
            Self::Sign => role == SignerRole::Signer,
            Self::Approve => role == SignerRole::Approver,
            Self::View => role == SignerRole::Viewer,
            Self::Decline => role.must_act(),
        }
    }

    const fn needed_role(self) -> &'static str {
        match self {
            Self::Sign => "SIGNER",
            Self::Approve => "APPROVER",
            Self::View => "VIEWER",
            Self::Decline => "SIGNER or APPROVER",
        }
    }
}

impl SigningProcess {
    /// Creates a process from a validated draft: a PENDING draft (rule 1), or started at
    /// once when the draft asks for `STARTED` (rule 2). Step and entry ids are always made
    /// by `ids`; the process id is the draft's when it has one.
    ///
    /// ```
    /// use pas_domain::prelude::*;
    /// use time::macros::datetime;
    ///
    /// let ids = SequentialIds::default();
    /// let input: ProcessInput = serde_json::from_value(serde_json::json!({
    ///     "documentId": "contract-7",
    ///     "status": "STARTED",
    ///     "signingProcessSteps": [{"processStepSigners": [{
    ///         "signerRole": "SIGNER", "signerCountry": "EE",
    ///         "signerPersonalCode": "37605030299", "signerEmail": "mari@example.ee"
    ///     }]}]
    /// })).unwrap();
    /// let (mut process, change) =
    ///     SigningProcess::create(input.validate().unwrap(), &ids, datetime!(2026-03-01 9:00 UTC)).unwrap();
    /// assert_eq!(change.event_types(), [EventType::ProcessUpdated, EventType::ProcessStarted, EventType::TaskStarted]);
    /// assert_eq!(change.notifications[0].to.as_str(), "mari@example.ee");
    ///
    /// let signer = process.entries().next().unwrap().id;
    /// let change = process.act(signer, Action::Sign, None, datetime!(2026-03-01 9:05 UTC)).unwrap();
    /// assert_eq!(change.event_types(), [EventType::SignerSigned, EventType::ProcessCompleted]);
    /// assert_eq!(process.status, ProcessStatus::Completed);
    /// ```
    pub fn create(
        draft: ProcessDraft,
        ids: &dyn IdSource,
        now: OffsetDateTime,
    ) -> Result<(Self, Change), CommandError> {
        let wants_start = match draft.status {
            None | Some(ProcessStatus::Pending) => false,
            Some(ProcessStatus::Started) => true,
            Some(other) => {
                return Err(ValidationErrors::single(
                    "status",
                    format!("must be PENDING or STARTED on create, not {other}"),
                )
                .into());
            }
        };
        let id = draft
            .id
            .unwrap_or_else(|| ProcessId::from_uuid(ids.new_id()));
        let mut data = ProcessData {
            id,
            created_at: now,
            header: draft.header,
            steps: Vec::with_capacity(draft.steps.len()),
            status: ProcessStatus::Pending,
            completed_at: None,
            version: 1,
            deleted_at: None,
        };
        for step in draft.steps {
            data.steps.push(new_step(
                step,
                ids,
                StepStatus::WaitingForPrevious,
                SigningStatus::WaitingForProcess,
            ));
        }
        sort_steps(&mut data);
        let mut rec = Recorder::new(now);
        rec.record(
            &data,
            EventType::ProcessUpdated,
            None,
            None,
            Some("created".into()),
        );
        if wants_start {
            start(&mut data, &mut rec)?;
        }
        Ok((Self { data }, rec.change))
    }

    /// Starts a PENDING process (rule 2).
    pub fn start(&mut self, now: OffsetDateTime) -> Result<Change, CommandError> {
        self.apply(now, start)
    }

    /// An entry signs, approves, views or declines (rules 3, 4 and 5). `comment` is kept in
    /// `signerComment` (the decline reason).
    pub fn act(
        &mut self,
        signer: EntryId,
        action: Action,
        comment: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Change, CommandError> {
        self.apply(now, |p, rec| act(p, signer, action, comment, rec))
    }

    /// Cancels a PENDING or STARTED process (rule 6). Participants of a started process are
    /// emailed unless `disable_messages`; a draft's participants were never told, so they
    /// are not told now either.
    pub fn cancel(
        &mut self,
        disable_messages: bool,
        now: OffsetDateTime,
    ) -> Result<Change, CommandError> {
        self.apply(now, |p, rec| cancel(p, disable_messages, rec))
    }

    /// Replaces the process with `draft` as far as rule 8 allows: all of a draft; text
    /// fields, unfinished due dates, and entries or steps that have not acted or started of
    /// a running process. A changed `status` is applied as start or cancel.
    pub fn update(
        &mut self,
        draft: ProcessDraft,
        ids: &dyn IdSource,
        now: OffsetDateTime,
    ) -> Result<Change, CommandError> {
        self.apply(now, |p, rec| update(p, draft, ids, rec))
    }

    /// `updateProcessStep`: edits one step under rule 8, then applies every changed
    /// `signingStatus` as the matching action of rules 3 and 5 (the same code as [`Self::act`]).
    pub fn update_step(
        &mut self,
        step: StepId,
        draft: StepDraft,
        ids: &dyn IdSource,
        now: OffsetDateTime,
    ) -> Result<Change, CommandError> {
        self.apply(now, |p, rec| update_step(p, step, draft, ids, rec))
    }

    /// Hides the process from every read, keeping its audit trail (rule 9). A running
    /// process must be canceled first.
    pub fn delete(&mut self, now: OffsetDateTime) -> Result<Change, CommandError> {
        self.apply(now, |p, rec| {
            if p.status == ProcessStatus::Started {
                return Err(status_error(
                    "delete",
                    p.status,
                    "a process that is not STARTED (cancel it first)",
                ));
            }
            rec.messages = false;
            p.deleted_at = Some(rec.now);
            rec.record(p, EventType::ProcessDeleted, None, None, None);
            Ok(())
        })
    }

    /// A REMINDER for an open SIGNER or APPROVER entry (section 7). The process itself does
    /// not change; the returned change carries the event and the email.
    pub fn remind(&self, signer: EntryId, now: OffsetDateTime) -> Result<Change, CommandError> {
        let p = &self.data;
        let (step, entry) = open_task(p, signer, "remind")?;
        if !entry.role().must_act() {
            return Err(TransitionError::Role {
                signer,
                role: entry.role(),
                action: "remind",
                needed: "SIGNER or APPROVER",
            }
            .into());
        }
        let mut rec = Recorder::new(now);
        rec.record(p, EventType::Reminder, Some(step.id), Some(signer), None);
        Ok(rec.change)
    }

    /// `sendSignerEmail`: the entry's TASK_STARTED email once more, recorded as
    /// AUDIT_EMAIL_REMINDER. Refused unless the entry waits for action, and when the entry
    /// gets no email (`signerNotification = false` or no address).
    pub fn resend_task(
        &self,
        signer: EntryId,
        now: OffsetDateTime,
    ) -> Result<Change, CommandError> {
        let p = &self.data;
        let (step, _) = open_task(p, signer, "be sent its task again")?;
        let intent = notify::task_email(p, signer).ok_or_else(|| {
            ValidationErrors::single(
                "signerEmail",
                "the entry has no email or signerNotification is false",
            )
        })?;
        let mut rec = Recorder::new(now);
        rec.messages = false;
        rec.record(
            p,
            EventType::AuditEmailReminder,
            Some(step.id),
            Some(signer),
            Some("TASK_STARTED email sent again".into()),
        );
        rec.change.notifications.push(intent);
        Ok(rec.change)
    }

    /// Runs `f` on a copy; on success the copy becomes the process with the next version.
    fn apply(
        &mut self,
        now: OffsetDateTime,
        f: impl FnOnce(&mut ProcessData, &mut Recorder) -> Result<(), CommandError>,
    ) -> Result<Change, CommandError> {
        if self.data.deleted_at.is_some() {
            return Err(CommandError::NotFound(Missing::Process));
        }
        let mut next = self.data.clone();
        let mut rec = Recorder::new(now);
        f(&mut next, &mut rec)?;
        next.version += 1;
        self.data = next;
        Ok(rec.change)
    }
}

fn status_error(
    operation: &'static str,
    current: ProcessStatus,
    needed: &'static str,
) -> CommandError {
    TransitionError::ProcessStatus {
        operation,
        current,
        needed,
    }
    .into()
}

fn sort_steps(p: &mut ProcessData) {
    p.steps.sort_by_key(|s| s.process_order);
}

fn new_entry(draft: EntryDraft, ids: &dyn IdSource, status: SigningStatus) -> Entry {
    let status = if draft.details.signer_role.gets_task() {
        status
    } else {
        SigningStatus::NotRequired
    };
    Entry {
        id: EntryId::from_uuid(ids.new_secret_id()),
        details: draft.details,
        signing_status: status,
        signer_comment: draft.signer_comment,
    }
}

fn new_step(
    draft: StepDraft,
    ids: &dyn IdSource,
    step_status: StepStatus,
    entry_status: SigningStatus,
) -> ProcessStep {
    ProcessStep {
        id: StepId::from_uuid(ids.new_id()),
        process_order: draft.process_order,
        step_status,
        due_date: draft.due_date,
        entries: draft
            .entries
            .into_iter()
            .map(|s| new_entry(s, ids, entry_status))
            .collect(),
    }
}

/// Rule 2: what a process needs to run. Also checked after every edit of a running process.
fn check_startable(p: &ProcessData, now: OffsetDateTime) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if p.steps.is_empty() {
        errors.push(
            "signingProcessSteps",
            "a process needs at least one step to start",
        );
    }
    if !p.entries().any(|e| e.role().must_act()) {
        errors.push(
            "signingProcessSteps",
            "a process needs at least one SIGNER or APPROVER to start",
        );
    }
    for (i, step) in p.steps.iter().enumerate() {
        let path = format!("signingProcessSteps[{i}]");
        if !step.step_status.is_finished() && step.is_expired(now) {
            errors.push(format!("{path}.dueDate"), "is in the past");
        }
        for (j, e) in step.entries.iter().enumerate() {
            let path = format!("{path}.processStepSigners[{j}]");
            if !e.anonymous() && e.details.signer_country.is_none() {
                errors.push(
                    format!("{path}.signerCountry"),
                    "is required for a signer with a personal code",
                );
            }
            if e.details.signer_notification && e.details.signer_email.is_none() {
                errors.push(
                    format!("{path}.signerEmail"),
                    "is required when signerNotification is true",
                );
            }
        }
    }
    errors.into_result(())
}

fn start(p: &mut ProcessData, rec: &mut Recorder) -> Result<(), CommandError> {
    if p.status != ProcessStatus::Pending {
        return Err(status_error("start", p.status, "PENDING"));
    }
    check_startable(p, rec.now)?;
    p.status = ProcessStatus::Started;
    for e in p.steps.iter_mut().flat_map(|s| s.entries.iter_mut()) {
        e.signing_status = if e.role().gets_task() {
            SigningStatus::WaitingForPrevious
        } else {
            SigningStatus::NotRequired
        };
    }
    rec.record(p, EventType::ProcessStarted, None, None, None);
    start_next_step(p, rec);
    Ok(())
}

/// Starts the lowest waiting step, completing at once each step with nobody who must act
/// (rule 4), and completes the process after the last.
fn start_next_step(p: &mut ProcessData, rec: &mut Recorder) {
    while let Some(i) = p
        .steps
        .iter()
        .position(|s| s.step_status == StepStatus::WaitingForPrevious)
    {
        p.steps[i].step_status = StepStatus::Started;
        let step_id = p.steps[i].id;
        let mut activated = Vec::new();
        for e in &mut p.steps[i].entries {
            if e.role().gets_task() && e.signing_status.is_open() {
                e.signing_status = SigningStatus::WaitingForAction;
                activated.push(e.id);
            }
        }
        for signer in activated {
            rec.record(p, EventType::TaskStarted, Some(step_id), Some(signer), None);
        }
        if !p.steps[i].all_required_done() {
            return;
        }
        p.steps[i].step_status = StepStatus::Completed;
    }
    complete(p, rec);
}

fn complete(p: &mut ProcessData, rec: &mut Recorder) {
    p.status = ProcessStatus::Completed;
    p.completed_at = Some(rec.now);
    for e in p.steps.iter_mut().flat_map(|s| s.entries.iter_mut()) {
        if e.signing_status.is_open() {
            e.signing_status = SigningStatus::NotRequired;
        }
    }
    rec.record(p, EventType::ProcessCompleted, None, None, None);
}

/// Completes the running step when everyone required acted, then moves on (rule 4).
fn advance(p: &mut ProcessData, rec: &mut Recorder) {
    if p.status != ProcessStatus::Started {
        return;
    }
    if let Some(step) = p
        .steps
        .iter_mut()
        .find(|s| s.step_status == StepStatus::Started)
    {
        if step.all_required_done() {
            step.step_status = StepStatus::Completed;
            start_next_step(p, rec);
        }
    }
}

/// The entry `signer` of a STARTED process, waiting for action in a step that has not
/// expired.
fn open_task<'a>(
    p: &'a ProcessData,
    signer: EntryId,
    action: &'static str,
) -> Result<(&'a ProcessStep, &'a Entry), CommandError> {
    let (step, entry) = p
        .find_entry(signer)
        .ok_or(CommandError::NotFound(Missing::Entry))?;
    if p.status != ProcessStatus::Started {
        return Err(status_error(action, p.status, "STARTED"));
    }
    if entry.signing_status != SigningStatus::WaitingForAction {
        return Err(TransitionError::SigningStatus {
            signer,
            current: entry.signing_status,
            action,
        }
        .into());
    }
    Ok((step, entry))
}

fn act(
    p: &mut ProcessData,
    signer: EntryId,
    action: Action,
    comment: Option<String>,
    rec: &mut Recorder,
) -> Result<(), CommandError> {
    // The same text rules as every other comment: trimmed, blank is none, bounded.
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        return Err(ValidationErrors::single(
            "comment",
            format!("must be at most {MAX_COMMENT} characters long"),
        )
        .into());
    }
    let (step, entry) = open_task(p, signer, action.as_str())?;
    if !action.allowed_for(entry.role()) {
        return Err(TransitionError::Role {
            signer,
            role: entry.role(),
            action: action.as_str(),
            needed: action.needed_role(),
        }
        .into());
    }
    if let Some(due) = step.due_date.filter(|_| step.is_expired(rec.now)) {
        return Err(TransitionError::Expired {
            step: step.id,
            due: rfc3339(due),
        }
        .into());
    }
    let role = entry.role();
    let step_id = step.id;
    let (status, event) = match action {
        Action::Sign => (SigningStatus::Signed, EventType::SignerSigned),
        Action::Approve => (SigningStatus::Approved, EventType::ApproverApproved),
        Action::View => (SigningStatus::Viewed, EventType::ProcessOpened),
        Action::Decline if role == SignerRole::Approver => {
            (SigningStatus::Declined, EventType::ApproverDeclined)
        }
        Action::Decline => (SigningStatus::Declined, EventType::SignerDeclined),
    };
    let note = if action == Action::Decline {
        comment.clone()
    } else {
        None
    };
    if let Some(e) = p
        .steps
        .iter_mut()
        .flat_map(|s| s.entries.iter_mut())
        .find(|e| e.id == signer)
    {
        e.signing_status = status;
        if comment.is_some() {
            e.signer_comment = comment;
        }
    }
    rec.record(p, event, Some(step_id), Some(signer), note);
    if action == Action::Decline {
        p.status = ProcessStatus::Declined;
        end_open_work(p);
    } else {
        advance(p, rec);
    }
    Ok(())
}

/// Rules 5 and 6: unfinished steps and open entries become CANCELED.
fn end_open_work(p: &mut ProcessData) {
    for step in &mut p.steps {
        if !step.step_status.is_finished() {
            step.step_status = StepStatus::Canceled;
        }
        for e in &mut step.entries {
            if e.signing_status.is_open() {
                e.signing_status = SigningStatus::Canceled;
            }
        }
    }
}

fn cancel(
    p: &mut ProcessData,
    disable_messages: bool,
    rec: &mut Recorder,
) -> Result<(), CommandError> {
    if !matches!(p.status, ProcessStatus::Pending | ProcessStatus::Started) {
        return Err(status_error("cancel", p.status, "PENDING or STARTED"));
    }
    rec.messages = p.status == ProcessStatus::Started && !disable_messages;
    let note = disable_messages.then(|| "messages disabled".to_owned());
    // Recorded before the entries change, so the email goes to those the process had reached.
    rec.record(p, EventType::ProcessCanceled, None, None, note);
    p.status = ProcessStatus::Canceled;
    end_open_work(p);
    Ok(())
}

fn update(
    p: &mut ProcessData,
    draft: ProcessDraft,
    ids: &dyn IdSource,
    rec: &mut Recorder,
) -> Result<(), CommandError> {
    if p.status.is_final() {
        return Err(status_error("update", p.status, "PENDING or STARTED"));
    }
    if draft.id.is_some_and(|id| id != p.id) {
        return Err(
            ValidationErrors::single("id", "does not match the process being updated").into(),
        );
    }
    if p.status == ProcessStatus::Started && draft.header.document_id != p.header.document_id {
        return Err(TransitionError::Frozen {
            field: "documentId",
            current: p.status,
        }
        .into());
    }
    p.header = draft.header;
    rec.record(p, EventType::ProcessUpdated, None, None, None);

    let known: HashSet<StepId> = p.steps.iter().map(|s| s.id).collect();
    if let Some(unknown) = draft
        .steps
        .iter()
        .filter_map(|d| d.id)
        .find(|id| !known.contains(id))
    {
        return Err(ValidationErrors::single(
            "signingProcessSteps",
            format!("step {unknown} is not part of this process"),
        )
        .into());
    }
    let wanted: HashSet<StepId> = draft.steps.iter().filter_map(|d| d.id).collect();
    for step in p.steps.iter().filter(|s| !wanted.contains(&s.id)) {
        if p.status == ProcessStatus::Started && step.step_status != StepStatus::WaitingForPrevious
        {
            return Err(locked(step, "it cannot be removed"));
        }
    }
    p.steps.retain(|s| wanted.contains(&s.id));
    for d in draft.steps {
        match d.id {
            Some(id) => edit_step(p, id, d, ids, rec)?,
            None => add_step(p, d, ids)?,
        }
    }
    sort_steps(p);
    check_orders_unique(p)?;
    if p.status == ProcessStatus::Started {
        check_startable(p, rec.now)?;
        advance(p, rec);
    }
    match draft.status {
        None => Ok(()),
        Some(s) if s == p.status => Ok(()),
        Some(ProcessStatus::Started) if p.status == ProcessStatus::Pending => start(p, rec),
        Some(ProcessStatus::Canceled) => cancel(p, false, rec),
        Some(requested) => Err(TransitionError::StatusChange {
            field: "status",
            current: p.status.as_str(),
            requested: requested.as_str(),
        }
        .into()),
    }
}

fn update_step(
    p: &mut ProcessData,
    step_id: StepId,
    mut draft: StepDraft,
    ids: &dyn IdSource,
    rec: &mut Recorder,
) -> Result<(), CommandError> {
    let step = p
        .find_step(step_id)
        .ok_or(CommandError::NotFound(Missing::Step))?;
    if p.status.is_final() {
        return Err(status_error(
            "update a step of",
            p.status,
            "PENDING or STARTED",
        ));
    }
    if draft.id.is_some_and(|id| id != step_id) {
        return Err(ValidationErrors::single("id", "does not match the step being updated").into());
    }
    draft.id = Some(step_id);
    let mut actions = Vec::new();
    for d in &mut draft.entries {
        let (Some(id), Some(requested)) = (d.id, d.signing_status.take()) else {
            continue;
        };
        let Some(current) = step.entries.iter().find(|e| e.id == id) else {
            continue;
        };
        if requested == current.signing_status {
            continue;
        }
        let action = Action::reaching(requested).ok_or(TransitionError::StatusChange {
            field: "signingStatus",
            current: current.signing_status.as_str(),
            requested: requested.as_str(),
        })?;
        actions.push((id, action, d.signer_comment.clone()));
        // The comment is the action's to write, not an edit of an entry that may have acted.
        d.signer_comment = current.signer_comment.clone();
    }
    rec.record(p, EventType::ProcessUpdated, Some(step_id), None, None);
    edit_step(p, step_id, draft, ids, rec)?;
    sort_steps(p);
    check_orders_unique(p)?;
    if p.status == ProcessStatus::Started {
        check_startable(p, rec.now)?;
        advance(p, rec);
    }
    for (signer, action, comment) in actions {
        act(p, signer, action, comment, rec)?;
    }
    Ok(())
}

fn locked(step: &ProcessStep, detail: &str) -> CommandError {
    TransitionError::StepLocked {
        step: step.id,
        current: step.step_status,
        detail: detail.to_owned(),
    }
    .into()
}

fn check_orders_unique(p: &ProcessData) -> Result<(), CommandError> {
    let mut seen = HashSet::new();
    match p.steps.iter().find(|s| !seen.insert(s.process_order)) {
        Some(s) => Err(ValidationErrors::single(
            "processOrder",
            format!(
                "{} is used by two steps; it must be unique within the process (rule 1)",
                s.process_order.get()
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// A new step: in a running process it must come after every step that has started.
fn add_step(p: &mut ProcessData, d: StepDraft, ids: &dyn IdSource) -> Result<(), CommandError> {
    let (step_status, entry_status) = match p.status {
        ProcessStatus::Pending => (
            StepStatus::WaitingForPrevious,
            SigningStatus::WaitingForProcess,
        ),
        _ => (
            StepStatus::WaitingForPrevious,
            SigningStatus::WaitingForPrevious,
        ),
    };
    if let Some(last) = p
        .steps
        .iter()
        .filter(|s| s.step_status != StepStatus::WaitingForPrevious)
        .max_by_key(|s| s.process_order)
    {
        if p.status == ProcessStatus::Started && d.process_order <= last.process_order {
            return Err(locked(last, "a new step must come after it"));
        }
    }
    p.steps.push(new_step(d, ids, step_status, entry_status));
    Ok(())
}

/// Rule 8 for one existing step: the single place that decides what an edit may touch.
fn edit_step(
    p: &mut ProcessData,
    id: StepId,
    d: StepDraft,
    ids: &dyn IdSource,
    rec: &mut Recorder,
) -> Result<(), CommandError> {
    let process_status = p.status;
    let Some(i) = p.steps.iter().position(|s| s.id == id) else {
        return Err(CommandError::NotFound(Missing::Step));
    };
    let step = &p.steps[i];
    let known: HashSet<EntryId> = step.entries.iter().map(|e| e.id).collect();
    if let Some(unknown) = d
        .entries
        .iter()
        .filter_map(|s| s.id)
        .find(|sid| !known.contains(sid))
    {
        return Err(ValidationErrors::single(
            "processStepSigners",
            format!("entry {unknown} is not part of step {id}"),
        )
        .into());
    }
    let running = process_status == ProcessStatus::Started;
    match step.step_status {
        StepStatus::Completed | StepStatus::Canceled if running => {
            if !unchanged(step, &d) {
                return Err(locked(step, "its order, due date and entries are final"));
            }
            Ok(())
        }
        StepStatus::Started if running => {
            if d.process_order != step.process_order {
                return Err(locked(step, "its processOrder cannot change"));
            }
            let mut entries = Vec::with_capacity(d.entries.len());
            let wanted: HashSet<EntryId> = d.entries.iter().filter_map(|s| s.id).collect();
            if let Some(e) = step
                .entries
                .iter()
                .find(|e| e.signing_status.has_acted() && !wanted.contains(&e.id))
            {
                return Err(TransitionError::EntryLocked {
                    signer: e.id,
                    current: e.signing_status,
                }
                .into());
            }
            let mut activated = Vec::new();
            for sd in d.entries {
                match sd
                    .id
                    .and_then(|sid| step.entries.iter().find(|e| e.id == sid))
                {
                    Some(e) if e.signing_status.has_acted() => {
                        if e.details != sd.details {
                            return Err(TransitionError::EntryLocked {
                                signer: e.id,
                                current: e.signing_status,
                            }
                            .into());
                        }
                        entries.push(e.clone());
                    }
                    Some(e) => {
                        let mut e = e.clone();
                        let was_task = e.signing_status == SigningStatus::WaitingForAction;
                        e.details = sd.details;
                        e.signer_comment = sd.signer_comment;
                        e.signing_status = if e.role().gets_task() {
                            SigningStatus::WaitingForAction
                        } else {
                            SigningStatus::NotRequired
                        };
                        if !was_task && e.signing_status == SigningStatus::WaitingForAction {
                            activated.push(e.id);
                        }
                        entries.push(e);
                    }
                    None => {
                        let e = new_entry(sd, ids, SigningStatus::WaitingForAction);
                        if e.signing_status == SigningStatus::WaitingForAction {
                            activated.push(e.id);
                        }
                        entries.push(e);
                    }
                }
            }
            let step = &mut p.steps[i];
            step.due_date = d.due_date;
            step.entries = entries;
            for signer in activated {
                rec.record(p, EventType::TaskStarted, Some(id), Some(signer), None);
            }
            Ok(())
        }
        _ => {
            let entry_status = if running {
                SigningStatus::WaitingForPrevious
            } else {
                SigningStatus::WaitingForProcess
            };
            let old = std::mem::take(&mut p.steps[i].entries);
            let entries = d
                .entries
                .into_iter()
                .map(
                    |sd| match sd.id.and_then(|sid| old.iter().find(|e| e.id == sid)) {
                        Some(e) => {
                            let mut fresh = new_entry(sd, ids, entry_status);
                            fresh.id = e.id;
                            fresh
                        }
                        None => new_entry(sd, ids, entry_status),
                    },
                )
                .collect();
            let step = &mut p.steps[i];
            step.process_order = d.process_order;
            step.due_date = d.due_date;
            step.entries = entries;
            Ok(())
        }
    }
}

/// A finished step's draft describes it exactly (order, due date, entries and their details).
fn unchanged(step: &ProcessStep, d: &StepDraft) -> bool {
    d.process_order == step.process_order
        && d.due_date == step.due_date
        && d.entries.len() == step.entries.len()
        && d.entries
            .iter()
            .zip(&step.entries)
            .all(|(sd, e)| sd.id == Some(e.id) && sd.details == e.details)
}
