use crate::error::Missing;
use std::sync::Arc;

use crate::audit::{AuditEventInput, AuditFilter, AuditTrail, AuditingEvent, Caller, Checkpoint};
use crate::auth::{Operation, Principal};
use crate::ids::{AuditEventId, ProcessId};
use crate::paging::{AuditSort, Page, PageRequest};
use crate::ports::{AuditStore, Clock, IdSource, ProcessRepository};

use super::{AuditError, ReadError};

/// The audit log: other systems' events, the event list and a process's verified trail.
#[derive(Clone)]
pub struct AuditService {
    audit: Arc<dyn AuditStore>,
    processes: Arc<dyn ProcessRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl AuditService {
    /// Wires the use cases to their ports (`processes` answers whose group an audit trail
    /// belongs to).
    pub fn new(
        audit: Arc<dyn AuditStore>,
        processes: Arc<dyn ProcessRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            audit,
            processes,
            clock,
            ids,
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
        let event = input.validate(id, self.clock.now(), caller)?;
        Ok(self.audit.append(&event).await?)
    }

    /// `GET /audit-events`: everything for those who see everything, the events of its
    /// groups' processes for a `pas-user`.
    pub async fn list_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
        principal: &Principal,
    ) -> Result<Page<AuditingEvent>, ReadError> {
        principal.require(Operation::ListAuditEvents)?;
        let confined = AuditFilter {
            owner_groups: principal.confined_to().map(<[String]>::to_vec),
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
}
