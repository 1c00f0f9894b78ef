use crate::error::Missing;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{
    AuditEventInput, AuditFilter, AuditTrail, AuditingEvent, Caller, Checkpoint, CheckpointSummary,
};
use crate::auth::{Operation, Principal};
use crate::ids::{AuditEventId, EntryId, ProcessId};
use crate::outbox::CheckpointMail;
use crate::paging::{AuditSort, Page, PageRequest};
use crate::ports::{AuditStore, Clock, IdSource, Outbox, ProcessRepository};
use crate::pseudonym::PiiKey;
use crate::values::{CountryCode, Email, normalize_personal_code};

use super::{AuditError, ReadError};

/// The audit log: other systems' events, the event list, a process's verified trail, and
/// checkpoints (answered, or emailed through the outbox).
#[derive(Clone)]
pub struct AuditService {
    audit: Arc<dyn AuditStore>,
    processes: Arc<dyn ProcessRepository>,
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    pii: PiiKey,
}

/// What one run of the checkpoint email job did ([`AuditService::mail_checkpoint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailedCheckpoint {
    /// The outbox row of the run (derived from its scheduled instant).
    pub outbox_id: Uuid,
    /// The checkpoint taken.
    pub checkpoint: CheckpointSummary,
    /// `false` when the run's row existed already (another instance queued it): nothing was
    /// written and this run's checkpoint is not sent.
    pub queued: bool,
}

impl AuditService {
    /// Wires the use cases to their ports (`processes` answers whose group an audit trail
    /// belongs to, and the country of a person an event names; `outbox` takes the checkpoint
    /// emails); personal codes are stored and found through pseudonyms under `pii`.
    pub fn new(
        audit: Arc<dyn AuditStore>,
        processes: Arc<dyn ProcessRepository>,
        outbox: Arc<dyn Outbox>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        pii: PiiKey,
    ) -> Self {
        Self {
            audit,
            processes,
            outbox,
            clock,
            ids,
            pii,
        }
    }

    /// `createAuditingEvent`: other systems' events, recorded as the caller's (see
    /// [`AuditEventInput::validate`]).
    pub async fn record_event(
        &self,
        input: AuditEventInput,
        caller: &Caller,
    ) -> Result<AuditingEvent, AuditError> {
        caller.principal.require(Operation::CreateAuditingEvent)?;
        let id = AuditEventId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let country = self.country_of_customer(&input).await?;
        let event = input.validate(id, self.clock.now(), caller, &self.pii, country)?;
        Ok(self.audit.append(&event).await?)
    }

    /// The country of the person an event names: that of the entry of the event's process
    /// with the same personal code (the named `signerId` first). Another system's event
    /// carries no country; without a process naming the person it is stored without one.
    async fn country_of_customer(
        &self,
        input: &AuditEventInput,
    ) -> Result<Option<CountryCode>, AuditError> {
        let (Some(code), Some(process)) = (&input.customer_personal_code, input.process_id) else {
            return Ok(None);
        };
        let code = normalize_personal_code(code);
        let Some(process) = self
            .processes
            .get_including_deleted(ProcessId::from_uuid(process))
            .await?
        else {
            return Ok(None);
        };
        let named = input.signer_id.map(EntryId::from_uuid);
        let mut entries: Vec<_> = process.entries().collect();
        entries.sort_by_key(|e| Some(e.id) != named);
        Ok(entries.into_iter().find_map(|e| {
            let own = e.details.signer_personal_code.as_ref()?.normalized() == code;
            own.then_some(e.details.signer_country).flatten()
        }))
    }

    /// `GET /audit-events`: everything for those who see everything, the events of its
    /// groups' processes for a `pas-user`; a person's events through their pseudonyms.
    pub async fn list_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
        principal: &Principal,
    ) -> Result<Page<AuditingEvent>, ReadError> {
        principal.require(Operation::ListAuditEvents)?;
        let confined = AuditFilter {
            owner_groups: principal.confined_to().map(<[String]>::to_vec),
            customer_pseudonyms: filter
                .person
                .as_ref()
                .map(|p| self.pii.pseudonyms_of(p).to_vec()),
            ..filter.clone()
        };
        Ok(self.audit.list(&confined, page).await?)
    }

    /// `GET /processes/{id}/audit-trail`: 404 for a process outside the principal's reach
    /// (a deleted process keeps its trail).
    pub async fn trail(
        &self,
        process: ProcessId,
        principal: &Principal,
    ) -> Result<AuditTrail, ReadError> {
        principal.require(Operation::GetProcessAuditTrail)?;
        if !principal.sees_everything() {
            let found = self.processes.get_including_deleted(process).await?;
            let group = found.as_ref().and_then(|p| p.header.owner_group.as_deref());
            if !principal.reaches_group(group) {
                return Err(ReadError::NotFound(Missing::Process));
            }
        }
        Ok(self.audit.trail(process).await?)
    }

    /// `GET /audit-checkpoint`: the stored heads of every chain now, with their root.
    pub async fn checkpoint(&self, principal: &Principal) -> Result<Checkpoint, ReadError> {
        principal.require(Operation::GetAuditCheckpoint)?;
        let chains = self.audit.chain_heads().await?;
        Ok(Checkpoint::of(self.clock.now(), chains))
    }

    /// The `AUDIT_CHECKPOINT_CRON` run scheduled at `scheduled_at` (PRODUCT.md section 11):
    /// takes the checkpoint as [`AuditService::checkpoint`] does and queues one email of its
    /// summary to `to` in the outbox, whose dispatcher delivers it with the leases, retries
    /// and give-up rules of every email. The row id comes from `scheduled_at`
    /// ([`CheckpointMail::row_id`]), so instances firing for the same run queue one email.
    pub async fn mail_checkpoint(
        &self,
        to: &Email,
        scheduled_at: OffsetDateTime,
        caller: &Caller,
    ) -> Result<MailedCheckpoint, AuditError> {
        let checkpoint = self.checkpoint(&caller.principal).await?;
        let mail = CheckpointMail {
            to: to.clone(),
            checkpoint: checkpoint.summary(),
        };
        let outbox_id = CheckpointMail::row_id(scheduled_at);
        let queued = self
            .outbox
            .enqueue_checkpoint(outbox_id, &mail, self.clock.now())
            .await?;
        Ok(MailedCheckpoint {
            outbox_id,
            checkpoint: mail.checkpoint,
            queued,
        })
    }
}
