//! Coordination of instances sharing one database (PRODUCT.md section 13): the failed-
//! authorization ledger (`AttemptLedger`) and the claims of scheduled runs (`JobRuns`).
//!
//! Admissions for one key are serialised: on PostgreSQL by a transaction-scoped advisory
//! lock per key (taken in sorted order, so two admissions never deadlock), on SQLite by the
//! write transaction itself. An admission is two statements: on PostgreSQL the locks, then
//! the count and the record in one; on SQLite the count, then the record. Every
//! [`SWEEP_EVERY`]th one also deletes the expired attempts of the whole table, so keys tried
//! once do not pile up (counts only look inside the window, so expired rows left until then
//! change nothing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use pas_domain::ports::{Admission, AttemptLedger, JobRuns, RepoError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::batch::insert_many;
use crate::db::{Concrete, Conn, Db, Prepared};
use crate::error::Classify;
use crate::models::{db_time, utc};
use crate::schema::{auth_attempts, job_runs};

/// How many admissions (of this process) pass between two sweeps of the whole table.
const SWEEP_EVERY: u64 = 64;

static ADMISSIONS: AtomicU64 = AtomicU64::new(0);

#[async_trait]
impl AttemptLedger for Db {
    async fn admit(
        &self,
        keys: &[String],
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<Admission, RepoError> {
        let mut sorted = keys.to_vec();
        sorted.sort();
        sorted.dedup();
        let window = time::Duration::try_from(window)
            .map_err(|e| RepoError::Storage(format!("window out of range: {e}")))?;
        let since = db_time(now - window);
        let sweep = ADMISSIONS.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == 0;
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let attempt = Uuid::now_v7();
        with_db!(self, Write, async |conn| {
            if let Concrete::Postgres(pg) = conn.concrete() {
                // One round trip for every key's lock; a volatile function in the select
                // list runs after the sort, so the locks are taken in key order. Admissions
                // sharing a key (every portal request from one address behind a proxy) wait
                // for each other's commit: this transaction commits without waiting for its
                // WAL to reach the disk, so a crash forgets at most the last moment's
                // attempts (a rate limit, not a record) and the lock is held for
                // microseconds, not a disk flush.
                Prepared(
                    diesel::sql_query(
                        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) \
                         SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) \
                         FROM unnest($1::text[]) AS k, relaxed ORDER BY k",
                    )
                    .bind::<Array<Text>, _>(&sorted),
                )
                .execute(pg)
                .await?;
            }
            if sweep {
                let expired = auth_attempts::table.filter(auth_attempts::attempted_at.le(since));
                diesel::delete(expired).execute(conn).await?;
            }
            let counted: Vec<Counted> = match conn.concrete() {
                // Counted and recorded in one statement (on a snapshot taken after the
                // locks): the insert runs only when no key is at its limit, the rule
                // `decide` applies to the same counts.
                Concrete::Postgres(pg) => Prepared(
                    diesel::sql_query(PG_COUNT_AND_RECORD)
                        .bind::<Array<Text>, _>(&sorted)
                        .bind::<Timestamp, _>(since)
                        .bind::<Text, _>(attempt.to_string())
                        .bind::<Timestamp, _>(db_time(now))
                        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX)),
                )
                .load(pg)
                .await
                .unique_as("auth attempt")?,
                Concrete::Sqlite(lite) => {
                    auth_attempts::table
                        .filter(auth_attempts::key_hash.eq_any(&sorted))
                        .filter(auth_attempts::attempted_at.gt(since))
                        .order((auth_attempts::key_hash, auth_attempts::attempted_at.asc()))
                        .select(Counted::as_select())
                        .load(lite)
                        .await?
                }
            };
            let admission = decide(keys, &counted, limit, window, now, attempt);
            if let (Concrete::Sqlite(_), Admission::Admitted { .. }) = (conn.concrete(), &admission)
            {
                let rows: Vec<_> = sorted
                    .iter()
                    .map(|key| {
                        (
                            auth_attempts::attempt.eq(attempt.to_string()),
                            auth_attempts::key_hash.eq(key.clone()),
                            auth_attempts::attempted_at.eq(db_time(now)),
                        )
                    })
                    .collect();
                insert_many(conn, auth_attempts::table, rows)
                    .await
                    .unique_as("auth attempt")?;
            }
            Ok(admission)
        })
        .await
    }

    async fn forgive(&self, attempt: Uuid) -> Result<(), RepoError> {
        let attempt = attempt.to_string();
        // One statement: no transaction around it (one round trip, not three).
        with_db!(self, None, async |conn| {
            diesel::delete(auth_attempts::table.filter(auth_attempts::attempt.eq(&attempt)))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    }
}

/// An attempt of a key inside the window.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = auth_attempts)]
struct Counted {
    key_hash: String,
    attempted_at: time::PrimitiveDateTime,
}

/// PostgreSQL's count of the attempts of keys `$1` after `$2`, recording the attempt `$3` at
/// `$4` for every key unless one has `$5` attempts already (the rule of [`decide`]).
const PG_COUNT_AND_RECORD: &str = "WITH counted AS ( \
         SELECT key_hash, attempted_at FROM auth_attempts \
         WHERE key_hash = ANY($1) AND attempted_at > $2), \
     recorded AS ( \
         INSERT INTO auth_attempts (attempt, key_hash, attempted_at) \
         SELECT $3, k, $4 FROM unnest($1::text[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM counted GROUP BY key_hash HAVING count(*) >= $5)) \
     SELECT key_hash, attempted_at FROM counted ORDER BY key_hash, attempted_at";

/// The admission of `attempt` for `keys` given their `counted` attempts inside the window:
/// refused, for as long as the fullest key stays full, when any key has `limit` attempts.
fn decide(
    keys: &[String],
    counted: &[Counted],
    limit: usize,
    window: time::Duration,
    now: OffsetDateTime,
    attempt: Uuid,
) -> Admission {
    let mut wait: Option<time::Duration> = None;
    let mut fills = Vec::with_capacity(keys.len());
    for key in keys {
        let times: Vec<time::PrimitiveDateTime> = counted
            .iter()
            .filter(|c| &c.key_hash == key)
            .map(|c| c.attempted_at)
            .collect();
        if times.len() >= limit {
            // The oldest counted attempt leaves the window first.
            let free_at = <[_]>::first(&times).map_or(now, |t| utc(*t) + window);
            let w = (free_at - now).max(time::Duration::ZERO);
            wait = Some(wait.map_or(w, |prev| prev.max(w)));
        }
        fills.push(times.len() + 1 >= limit);
    }
    match wait {
        Some(w) => Admission::Refused(Duration::try_from(w).unwrap_or(Duration::ZERO)),
        None => Admission::Admitted { attempt, fills },
    }
}

#[async_trait]
impl JobRuns for Db {
    async fn claim_run(
        &self,
        job: &str,
        run: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        let row = (
            job_runs::job.eq(job.to_owned()),
            job_runs::run.eq(run.to_owned()),
            job_runs::claimed_at.eq(db_time(now)),
        );
        // A duplicate ends the transaction on PostgreSQL; nothing else is in it.
        let claimed = with_db!(self, Write, async |conn| {
            insert_many(conn, job_runs::table, vec![row.clone()])
                .await
                .unique_as("job run")?;
            Ok(())
        })
        .await;
        match claimed {
            Ok(()) => Ok(true),
            Err(RepoError::Duplicate(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
