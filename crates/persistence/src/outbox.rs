//! The `Outbox` port: emails written in the transaction of the change that caused them and
//! leased to dispatchers (PRODUCT.md section 7).
//!
//! A claim leases due rows (pending, next attempt reached, no lease or an expired one) to one
//! claim until `lease_until`: `lease_owner` names the instance, `lease_token` is the claim's
//! fencing token. PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT
//! n) RETURNING …`, so concurrent claimers skip each other's rows; SQLite: the same `UPDATE`
//! without the locking clause inside a `BEGIN IMMEDIATE` transaction, which runs one claimer
//! at a time. Renewing, holding, releasing and marking a row sent, retried or failed act
//! only on rows that still carry the caller's token (a later claim replaced it once the
//! lease had expired); otherwise they answer `NotFound(Missing::OutboxLease)` (or renew
//! nothing). A failed row's FAILURE notice is inserted in the transaction that marks it.
//!
//! Rows are notifications (`kind` `NOTIFICATION`), audit checkpoint emails
//! (`AUDIT_CHECKPOINT`: no process, the checkpoint as JSON in `body`) or webhook deliveries
//! (`WEBHOOK_EVENT`, channel `WEBHOOK`: no address, the subscription in `subscription_id`
//! and the body as sent in `body`; written by the process store with their change, see
//! `webhooks.rs`), leased, retried, listed and purged alike.
//!
//! Retention (`OUTBOX_KEEP_SENT`): `purge_sent` deletes SENT rows by `sent_at` (set when a
//! row is marked sent), a bounded batch per statement and transaction, along the partial
//! index `outbox_sent (sent_at) WHERE status = 'sent'`. The claim reads due rows along
//! `outbox_due (next_attempt_at) WHERE status = 'pending'`; both name their status as a
//! literal, which SQLite (built with `SQLITE_ENABLE_QPSG`) needs to use those indexes.

use std::num::NonZeroU32;

use pas_domain::error::Missing;

use async_trait::async_trait;
use diesel::QueryResult;
use diesel::dsl;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use pas_domain::notify::NotificationIntent;
use pas_domain::outbox::{CheckpointMail, OutboxEntry, OutboxFilter};
use pas_domain::paging::{OutboxSort, Page, PageRequest};
use pas_domain::ports::{Outbox, OutboxLease, OutboxMessage, RepoError};
use pas_domain::status::OutboxState;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::batch::insert_many;
use crate::columns::DbId;
use crate::db::{Concrete, Conn, Db, Sql};
use crate::error::{Error, found};
use crate::models::{FAILED, OutboxRow, PENDING, SENT, db_time};
use crate::paging::{page_of, sorted, total};
use crate::schema::outbox;

/// Columns a claim returns, in `OutboxRow` order.
const RETURNING: &str = "RETURNING id, event_type, role, to_email, language, process_id, \
     step_id, signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, \
     last_error, created_at, sent_at, channel, lease_token, queued_at, kind, body, \
     subscription_id";

const PG_CLAIM: &str = "UPDATE outbox SET lease_owner = $1, lease_until = $2, lease_token = $5 \
     WHERE id IN (SELECT id FROM outbox \
         WHERE status = 'pending' AND next_attempt_at <= $3 \
           AND (lease_until IS NULL OR lease_until <= $3) \
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) ";

const SQLITE_CLAIM: &str = "UPDATE outbox SET lease_owner = ?1, lease_until = ?2, lease_token = ?5 \
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

/// The row `id` while it is pending and carries the fencing token `token`.
#[dsl::auto_type]
fn leased(id: DbId, token: String) -> _ {
    let pending: &'static str = PENDING;
    outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::lease_token.eq(token))
        .filter(outbox::status.eq(pending))
}

/// The unsettled rows of the claim `token`.
#[dsl::auto_type]
fn claimed(token: String) -> _ {
    let pending: &'static str = PENDING;
    outbox::table
        .filter(outbox::lease_token.eq(token))
        .filter(outbox::status.eq(pending))
}

diesel::alias!(outbox as old_sent: OldSent);

/// The status of sent rows as SQL text, not a bound value, so that the purge matches the
/// partial index `outbox_sent (sent_at) WHERE status = 'sent'`: SQLite as built here
/// (`SQLITE_ENABLE_QPSG`) plans without looking at bound values, as does a generic
/// PostgreSQL plan.
const SENT_LITERAL: &str = "'sent'";

/// Up to `limit` ids of SENT rows sent before `cut` (one batch of the retention purge),
/// read through an alias: the DELETE it feeds is on the same table. Rows without
/// `sent_at` never match: their age is unknown.
#[dsl::auto_type]
fn sent_before(cut: PrimitiveDateTime, limit: i64) -> _ {
    let sent: SqlLiteral<Text> = dsl::sql(SENT_LITERAL);
    old_sent
        .filter(old_sent.field(outbox::status).eq(sent))
        .filter(old_sent.field(outbox::sent_at).lt(cut))
        .select(old_sent.field(outbox::id))
        .limit(limit)
}

/// Applies the `GET /outbox` filters.
fn filtered_outbox<'a, DB>(
    q: outbox::BoxedQuery<'a, DB>,
    f: &OutboxFilter,
) -> outbox::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
{
    let mut q = q;
    if let Some(state) = f.state {
        let stored: &'static str = match state {
            OutboxState::Pending => PENDING,
            OutboxState::Sent => SENT,
            OutboxState::Failed => FAILED,
        };
        q = q.filter(outbox::status.eq(stored));
    }
    if let Some(channel) = f.channel {
        q = q.filter(outbox::channel.eq(channel.as_str()));
    }
    q
}

/// The settled row loses its lease.
pub(crate) type NoLease = (
    dsl::Eq<outbox::lease_owner, Option<String>>,
    dsl::Eq<outbox::lease_token, Option<String>>,
    dsl::Eq<outbox::lease_until, Option<PrimitiveDateTime>>,
);

pub(crate) fn no_lease() -> NoLease {
    (
        outbox::lease_owner.eq(None::<String>),
        outbox::lease_token.eq(None::<String>),
        outbox::lease_until.eq(None::<PrimitiveDateTime>),
    )
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

    async fn enqueue_checkpoint(
        &self,
        id: Uuid,
        mail: &CheckpointMail,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        let row = OutboxRow::checkpoint(id, mail, now).map_err(Error::into_repo)?;
        with_db!(self, Write, async |conn| {
            // The id is derived from the scheduled run: a second instance's insert for the
            // same run finds it taken and writes nothing.
            let inserted = diesel::insert_into(outbox::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn claim(
        &self,
        lease: OutboxLease,
        limit: u32,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<OutboxMessage>, RepoError> {
        let (now, lease_until) = (db_time(now), db_time(lease_until));
        let token = lease.token.to_string();
        let claim = match self.backend_name() {
            "postgres" => PG_CLAIM,
            _ => SQLITE_CLAIM,
        };
        with_db!(self, Write, async |conn| {
            let mut rows: Vec<OutboxRow> = diesel::sql_query(format!("{claim}{RETURNING}"))
                .bind::<Text, _>(&lease.owner)
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(i64::from(limit))
                .bind::<Text, _>(&token)
                .load(conn)
                .await?;
            rows.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
            rows.into_iter().map(OutboxRow::into_message).collect()
        })
        .await
    }

    async fn renew(
        &self,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Uuid>, RepoError> {
        let (now, lease_until) = (db_time(now), db_time(lease_until));
        with_db!(self, None, async |conn| {
            let renewed: Vec<DbId> = diesel::update(claimed(token.to_string()))
                .filter(outbox::lease_until.gt(now))
                .set(outbox::lease_until.eq(Some(lease_until)))
                .returning(outbox::id)
                .get_results(conn)
                .await?;
            Ok(renewed.into_iter().map(|id| id.0).collect())
        })
        .await
    }

    async fn hold(
        &self,
        id: Uuid,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let (now, lease_until) = (db_time(now), db_time(lease_until));
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(DbId(id), token.to_string()))
                .filter(outbox::lease_until.gt(now))
                .set(outbox::lease_until.eq(Some(lease_until)))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)
        })
        .await
    }

    async fn mark_sent(&self, id: Uuid, token: Uuid, now: OffsetDateTime) -> Result<(), RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(DbId(id), token.to_string()))
                .set((
                    outbox::status.eq(SENT),
                    outbox::sent_at.eq(Some(db_time(now))),
                    outbox::attempts.eq(outbox::attempts + 1),
                    no_lease(),
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
        token: Uuid,
        next_attempt_at: OffsetDateTime,
        error: String,
    ) -> Result<(), RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(leased(DbId(id), token.to_string()))
                .set((
                    outbox::next_attempt_at.eq(db_time(next_attempt_at)),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(Some(&error)),
                    no_lease(),
                ))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)
        })
        .await
    }

    async fn mark_failed(
        &self,
        id: Uuid,
        token: Uuid,
        error: String,
        notice: Option<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        with_db!(self, Write, async |conn| {
            let updated = diesel::update(leased(DbId(id), token.to_string()))
                .set((
                    outbox::status.eq(FAILED),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::last_error.eq(Some(&error)),
                    no_lease(),
                ))
                .execute(conn)
                .await?;
            found(updated, Missing::OutboxLease)?;
            if let Some(notice) = &notice {
                insert_outbox(conn, std::slice::from_ref(notice), now).await?;
            }
            Ok(())
        })
        .await
    }

    async fn release(&self, token: Uuid) -> Result<u64, RepoError> {
        with_db!(self, None, async |conn| {
            let updated = diesel::update(claimed(token.to_string()))
                .set(no_lease())
                .execute(conn)
                .await?;
            Ok(u64::try_from(updated).unwrap_or(0))
        })
        .await
    }

    async fn list(
        &self,
        filter: &OutboxFilter,
        page: &PageRequest<OutboxSort>,
    ) -> Result<Page<OutboxEntry>, RepoError> {
        with_db!(self, Scan, async |conn| {
            let all = || outbox::table.into_boxed::<Backend>();
            let count: i64 = filtered_outbox(all(), filter)
                .count()
                .get_result(conn)
                .await?;
            let mut q = filtered_outbox(all(), filter).select(OutboxRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    OutboxSort::CreatedAt => sorted(q, dir, outbox::created_at),
                    OutboxSort::QueuedAt => sorted(q, dir, outbox::queued_at),
                    OutboxSort::NextAttemptAt => sorted(q, dir, outbox::next_attempt_at),
                };
            }
            let rows = page_of(q, outbox::id, page).load::<OutboxRow>(conn).await?;
            let content = rows
                .into_iter()
                .map(OutboxRow::into_entry)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<OutboxEntry>, RepoError> {
        with_db!(self, ReadOne, async |conn| {
            let row = outbox::table
                .filter(outbox::id.eq(DbId(id)))
                .select(OutboxRow::as_select())
                .first::<OutboxRow>(conn)
                .await
                .optional()?;
            row.map(OutboxRow::into_entry).transpose()
        })
        .await
    }

    async fn requeue(&self, id: Uuid, now: OffsetDateTime) -> Result<bool, RepoError> {
        let now = db_time(now);
        with_db!(self, None, async |conn| {
            let failed: &'static str = FAILED;
            let updated = diesel::update(
                outbox::table
                    .filter(outbox::id.eq(DbId(id)))
                    .filter(outbox::status.eq(failed)),
            )
            .set((
                outbox::status.eq(PENDING),
                outbox::next_attempt_at.eq(now),
                outbox::queued_at.eq(now),
                no_lease(),
            ))
            .execute(conn)
            .await?;
            Ok(updated > 0)
        })
        .await
    }

    async fn purge_sent(
        &self,
        sent_before: OffsetDateTime,
        batch: NonZeroU32,
    ) -> Result<u64, RepoError> {
        let cut = db_time(sent_before);
        let mut purged = 0;
        loop {
            let deleted = self.purge_sent_batch(cut, batch).await?;
            purged += deleted;
            // A short batch means nothing old is left (or another instance is purging the
            // rest at the same time); either way this run is done.
            if deleted < u64::from(batch.get()) {
                break;
            }
        }
        // The webhook delivery log is history of the same kind, kept as long.
        loop {
            let deleted = crate::webhooks::purge_attempts_batch(self, cut, batch).await?;
            if deleted < u64::from(batch.get()) {
                return Ok(purged);
            }
        }
    }
}

impl Db {
    /// One statement of [`Outbox::purge_sent`]: deletes up to `batch` SENT rows sent before
    /// `cut`, in a transaction of its own, so that a first purge of a large table commits as
    /// it goes instead of holding one long transaction (and, on PostgreSQL, each statement
    /// stays within `DATABASE_TIMEOUT_MS`). A write turn on SQLite: request writes queue
    /// between batches rather than in SQLite's busy handler.
    async fn purge_sent_batch(
        &self,
        cut: PrimitiveDateTime,
        batch: NonZeroU32,
    ) -> Result<u64, RepoError> {
        let limit = i64::from(batch.get());
        with_db!(self, Write, async |conn| {
            let deleted = match conn.concrete() {
                // Instances purge at the same moment (each an hour after its start): rows
                // another one has locked are skipped, not waited for, so two batches never
                // lock the same rows in different orders (a deadlock).
                Concrete::Postgres(pg) => {
                    let ids = sent_before(cut, limit).for_update().skip_locked();
                    diesel::delete(outbox::table.filter(outbox::id.eq_any(ids)))
                        .execute(pg)
                        .await?
                }
                Concrete::Sqlite(lite) => {
                    diesel::delete(outbox::table.filter(outbox::id.eq_any(sent_before(cut, limit))))
                        .execute(lite)
                        .await?
                }
            };
            Ok(u64::try_from(deleted).unwrap_or(0))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;
    use diesel_async::SimpleAsyncConnection;
    use time::macros::datetime;

    use super::*;
    use crate::plans::{pg_generic_plan, pg_scratch, sql_of, sqlite_plan, sqlite_scratch, uses};

    /// 400 checkpoint mails, every other one sent, so that an index is worth a planner's
    /// while; ids and times of each database's column types.
    const ROWS: &str = "INSERT INTO outbox (id, kind, channel, to_email, body, status, attempts, \
         next_attempt_at, created_at, queued_at, sent_at) \
         SELECT {id}, 'AUDIT_CHECKPOINT', 'EMAIL', 'audit@example.lv', '{}', \
                CASE WHEN n % 2 = 0 THEN 'sent' ELSE 'pending' END, 0, \
                {at}, {at}, {at}, CASE WHEN n % 2 = 0 THEN {at} END \
           FROM {series}";

    const CUT: PrimitiveDateTime = datetime!(2026-02-01 0:00);

    /// SQLite plans a claim, a purge and a lease lookup on the partial indexes cut for them
    /// (built with `SQLITE_ENABLE_QPSG`, SQLite plans before it sees a bound value, so only
    /// a literal status can match `WHERE status = …`; with the purge's status bound it
    /// scanned the table here, after the `ANALYZE`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_claims_purges_and_leases_along_the_partial_indexes() {
        assert_eq!(
            SENT_LITERAL,
            format!("'{SENT}'"),
            "the literal is the stored status"
        );
        let (_scratch, mut conn) = sqlite_scratch().await;
        let rows = ROWS
            .replace("{id}", "lower(hex(randomblob(16)))")
            .replace("{at}", "'2026-01-01 00:00:00'")
            .replace(
                "{series}",
                "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 400) \
                 SELECT n FROM s)",
            );
        conn.batch_execute(&format!("{rows}; ANALYZE;"))
            .await
            .unwrap();
        for (what, sql, index) in [
            ("claim", SQLITE_CLAIM.to_owned(), "outbox_due"),
            (
                "purge",
                sql_of::<Sqlite, _>(&diesel::delete(
                    outbox::table.filter(outbox::id.eq_any(sent_before(CUT, 100))),
                )),
                "outbox_sent",
            ),
            (
                "lease",
                sql_of::<Sqlite, _>(&claimed(Uuid::nil().to_string()).select(outbox::id)),
                "outbox_lease_token",
            ),
        ] {
            let plan = sqlite_plan(&mut conn, &sql).await.unwrap();
            assert!(uses(&plan, index), "{what}: {plan:?}");
        }
    }

    /// PostgreSQL can run the same statements on the same partial indexes in a generic plan
    /// (what a statement kept prepared runs after its first executions), which sees no
    /// bound value either; on a connection of `pg_scratch`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_claims_purges_and_leases_along_the_partial_indexes() {
        let Some((_scratch, mut conn)) = pg_scratch().await else {
            return;
        };
        let rows = ROWS
            .replace("{id}", "gen_random_uuid()")
            .replace("{at}", "timestamp '2026-01-01 00:00:00'")
            .replace("{series}", "generate_series(1, 400) AS n");
        conn.batch_execute(&format!("{rows}; ANALYZE outbox;"))
            .await
            .unwrap();
        let purge = sql_of::<Pg, _>(&diesel::delete(
            outbox::table
                .filter(outbox::id.eq_any(sent_before(CUT, 100).for_update().skip_locked())),
        ));
        let lease = sql_of::<Pg, _>(&claimed(Uuid::nil().to_string()).select(outbox::id));
        for (what, sql, arguments, index) in [
            (
                "claim",
                format!("{PG_CLAIM}{RETURNING}"),
                "('a', now(), now(), 10, 't')",
                "outbox_due",
            ),
            ("purge", purge, "(now(), 100)", "outbox_sent"),
            ("lease", lease, "('t', 'pending')", "outbox_lease_token"),
        ] {
            let plan = pg_generic_plan(&mut conn, what, &sql, arguments)
                .await
                .unwrap();
            assert!(uses(&plan, index), "{what}: {plan:#?}");
        }
    }
}
