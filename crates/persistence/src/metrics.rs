//! What this adapter tells `/metrics` (PRODUCT.md section 13): audit rows appended (counted
//! here, after their transaction committed), and what the app samples at a scrape: the
//! pool's connections and the pending outbox rows per channel.

use diesel::dsl;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pas_domain::ports::RepoError;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::db::{Db, Pools};
use crate::models::{PENDING, db_time};
use crate::schema::outbox;

/// `audit_events_total`: audit rows appended.
const AUDIT_EVENTS: &str = "audit_events_total";

/// Counts `rows` audit rows once the transaction that appended them has committed (a
/// rolled-back append counts nothing).
pub(crate) fn audit_appended(rows: usize) {
    metrics::counter!(AUDIT_EVENTS).increment(u64::try_from(rows).unwrap_or(u64::MAX));
}

/// The connections of the primary's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Open and waiting in the pool.
    pub idle: usize,
    /// Handed out to a request or a job.
    pub active: usize,
    /// The most the pool opens (`DATABASE_POOL_SIZE`).
    pub max: usize,
}

/// The pending outbox rows of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelBacklog {
    /// The channel as stored (`EMAIL`, `WEBHOOK`).
    pub channel: String,
    /// How many rows are pending.
    pub pending: u64,
    /// How long ago the oldest pending row was queued, in whole seconds (0 when in the
    /// future: clocks of instances differ a little).
    pub oldest_seconds: u64,
}

impl Db {
    /// The primary pool's connections, from the pool's own counts (no database round trip).
    pub fn pool_use(&self) -> PoolUse {
        let status = match &self.pools {
            Pools::Sqlite(pool) => pool.status(),
            Pools::Postgres(pool) => pool.status(),
        };
        PoolUse {
            idle: status.available,
            active: status.size.saturating_sub(status.available),
            max: status.max_size,
        }
    }

    /// The pending outbox rows per channel at `now`: one grouped query on the primary,
    /// bounded like every operation (`DATABASE_TIMEOUT_MS`). Channels without pending rows
    /// are absent.
    pub async fn outbox_backlog(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<ChannelBacklog>, RepoError> {
        let rows: Vec<(String, i64, Option<PrimitiveDateTime>)> =
            with_db!(self, Scan, async |conn| {
                let pending: &'static str = PENDING;
                Ok(outbox::table
                    .filter(outbox::status.eq(pending))
                    .group_by(outbox::channel)
                    .select((
                        outbox::channel,
                        dsl::count_star(),
                        dsl::min(outbox::queued_at),
                    ))
                    .load(conn)
                    .await?)
            })
            .await?;
        let now = db_time(now);
        Ok(rows
            .into_iter()
            .map(|(channel, pending, oldest)| ChannelBacklog {
                channel,
                pending: u64::try_from(pending).unwrap_or(0),
                oldest_seconds: oldest
                    .map(|t| u64::try_from((now - t).whole_seconds()).unwrap_or(0))
                    .unwrap_or(0),
            })
            .collect())
    }
}
