//! The `Outbox` port: emails written in the transaction of the change that caused them and
//! leased to dispatchers (PRODUCT.md section 7).
//!
//! A claim leases due rows (pending, next attempt reached, no lease or an expired one) to one
//! owner until `lease_until`. PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
//! LOCKED LIMIT n) RETURNING …`, so concurrent claimers skip each other's rows; SQLite: the
//! same `UPDATE` without the locking clause inside a `BEGIN IMMEDIATE` transaction, which
//! runs one claimer at a time. Marking a row sent, retried or failed acts only while the
//! caller still holds its lease; otherwise it answers `NotFound(Missing::OutboxLease)`.

use pas_domain::error::Missing;

use async_trait::async_trait;
use diesel::QueryResult;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use pas_domain::notify::NotificationIntent;
use pas_domain::ports::{Outbox, OutboxMessage, RepoError};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::batch::insert_many;
use crate::db::{Conn, Db};
use crate::error::found;
use crate::models::{FAILED, OutboxRow, PENDING, SENT, db_time};
use crate::schema::outbox;

/// Columns a claim returns, in `OutboxRow` order.
const RETURNING: &str = "RETURNING id, event_type, role, to_email, language, process_id, \
     step_id, signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, \
     last_error, created_at, sent_at";

const PG_CLAIM: &str = "UPDATE outbox SET lease_owner = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM outbox \
         WHERE status = 'pending' AND next_attempt_at <= $3 \
           AND (lease_until IS NULL OR lease_until <= $3) \
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) ";

const SQLITE_CLAIM: &str = "UPDATE outbox SET lease_owner = ?1, lease_until = ?2 \
     WHERE id IN (SELECT id FROM outbox \
         WHERE status = 'pending' AND next_attempt_at <= ?3 \
           AND (lease_until IS NULL OR lease_until <= ?3) \
         ORDER BY next_attempt_at, id LIMIT ?4) ";

/// Inserts one pending outbox row per intent, due at `now`, inside the current transaction.
pub(crate) async fn insert_outbox<C: Conn>(
    conn: &mut C,
    intents: &[NotificationIntent],
    now: OffsetDateTime,
) -> QueryResult<usize> {
    let rows: Vec<OutboxRow> = intents
        .iter()
        .map(|intent| OutboxRow::pending(intent, now))
        .collect();
    insert_many(conn, outbox::table, rows).await
}

/// The row `id` while it is still leased to `owner`.
#[dsl::auto_type]
fn leased(id: String, owner: String) -> _ {
    let pending: &'static str = PENDING;
    outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::status.eq(pending))
}

#[async_trait]
impl Outbox for Db {
    async fn enqueue(
        &self,
        intents: Vec<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        with_db!(self, Write, async |conn| {
            insert_outbox(conn, &intents, now).await?;
            Ok(())
        })
        .await
    }

    async fn claim(
        &self,
        owner: String,
        limit: u32,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<OutboxMessage>, RepoError> {
        let (now, lease_until) = (db_time(now), db_time(lease_until));
        let claim = match self.backend_name() {
            "postgres" => PG_CLAIM,
            _ => SQLITE_CLAIM,
        };
        with_db!(self, Write, async |conn| {
            let mut rows: Vec<OutboxRow> = diesel::sql_query(format!("{claim}{RETURNING}"))
                .bind::<Text, _>(&owner)
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(i64::from(limit))
                .load(conn)
                .await?;
            rows.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
            rows.into_iter().map(OutboxRow::into_message).collect()
        })
        .await
    }

    async fn mark_sent(
        &self,
        id: Uuid,
        owner: String,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(id.to_string(), owner))
                .set((
                    outbox::status.eq(SENT),
                    outbox::sent_at.eq(Some(db_time(now))),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::lease_owner.eq(None::<String>),
                    outbox::lease_until.eq(None::<PrimitiveDateTime>),
                ))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)
        })
        .await
    }

    async fn retry_later(
        &self,
        id: Uuid,
        owner: String,
        next_attempt_at: OffsetDateTime,
        error: String,
    ) -> Result<(), RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(id.to_string(), owner))
                .set((
                    outbox::next_attempt_at.eq(db_time(next_attempt_at)),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(Some(&error)),
                    outbox::lease_owner.eq(None::<String>),
                    outbox::lease_until.eq(None::<PrimitiveDateTime>),
                ))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)
        })
        .await
    }

    async fn mark_failed(&self, id: Uuid, owner: String, error: String) -> Result<(), RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(id.to_string(), owner))
                .set((
                    outbox::status.eq(FAILED),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(Some(&error)),
                    outbox::lease_owner.eq(None::<String>),
                    outbox::lease_until.eq(None::<PrimitiveDateTime>),
                ))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)
        })
        .await
    }
}
