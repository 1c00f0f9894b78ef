use std::sync::Arc;

use uuid::Uuid;

use crate::auth::{Operation, Principal};
use crate::error::Missing;
use crate::outbox::{OutboxEntry, OutboxFilter};
use crate::paging::{OutboxSort, Page, PageRequest};
use crate::ports::{Clock, Outbox};
use crate::status::OutboxState;

use super::{OutboxError, ReadError};

/// Outbox administration (PRODUCT.md section 14), for `pas-admin`: rows by state and
/// channel, and a given-up row put back for a fresh `MAIL_GIVE_UP_AFTER`.
#[derive(Clone)]
pub struct OutboxService {
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
}

impl OutboxService {
    /// Wires the use cases to their ports.
    pub fn new(outbox: Arc<dyn Outbox>, clock: Arc<dyn Clock>) -> Self {
        Self { outbox, clock }
    }

    /// `GET /outbox`.
    pub async fn list(
        &self,
        filter: &OutboxFilter,
        page: &PageRequest<OutboxSort>,
        principal: &Principal,
    ) -> Result<Page<OutboxEntry>, ReadError> {
        principal.require(Operation::ListOutbox)?;
        Ok(self.outbox.list(filter, page).await?)
    }

    /// `POST /outbox/{id}/retry`: a FAILED row becomes PENDING, due now, and queued now (so
    /// it gets a whole `MAIL_GIVE_UP_AFTER` again). 404 for an unknown id, 409 for a row in
    /// another state.
    pub async fn retry(&self, id: Uuid, principal: &Principal) -> Result<OutboxEntry, OutboxError> {
        principal.require(Operation::RetryOutboxMessage)?;
        let row = self
            .outbox
            .get(id)
            .await?
            .ok_or(OutboxError::NotFound(Missing::OutboxRow))?;
        if row.state != OutboxState::Failed {
            return Err(OutboxError::NotFailed(row.state));
        }
        if !self.outbox.requeue(id, self.clock.now()).await? {
            // Another request put it back first.
            let now = self.outbox.get(id).await?;
            return Err(OutboxError::NotFailed(
                now.map_or(OutboxState::Pending, |r| r.state),
            ));
        }
        self.outbox
            .get(id)
            .await?
            .ok_or(OutboxError::NotFound(Missing::OutboxRow))
    }
}
