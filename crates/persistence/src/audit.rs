//! `AuditStore` and the appending of audit rows to their keyed hash chains (PRODUCT.md
//! sections 8 and 11).
//!
//! Every event is chained with `pas_domain::audit::chain` under the current key of
//! [`Db::with_audit_keys`] after the stored head of its chain (the event's process, or the
//! nil UUID for events without one). The head lives in the chain's `audit_chains` row
//! (`length`, `head_hash`, and `unkeyed_length`, the prefix written before keying) and is
//! updated in the same transaction as the rows, so removing the newest rows or a whole
//! chain is seen by verification. Appends to one chain are serialised so that it never
//! forks: on PostgreSQL the appending transaction locks the chain's row
//! (`SELECT … FOR UPDATE`, the row inserted on first use); on SQLite the write transaction
//! already holds the database's write lock (`BEGIN IMMEDIATE`). `UNIQUE (chain_key,
//! sequence)` is the backstop. Every process gets its head row when it is created, so a
//! process whose chain is gone entirely is seen too.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::QueryResult;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::serialize::ToSql;
use diesel::sql_types::{Text, Timestamp};
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use pas_domain::audit::{
    AuditFilter, AuditKeys, AuditTrail, AuditingEvent, ChainHead, CheckpointChain, NewAuditEvent,
    chain,
};
use pas_domain::ids::ProcessId;
use pas_domain::paging::{AuditSort, Page, PageRequest};
use pas_domain::ports::{AuditStore, RepoError};
use pas_domain::timestamp::truncate;
use time::PrimitiveDateTime;

use crate::batch::{ROWS_PER_STATEMENT, insert_many};
use crate::columns::{DbDigest, DbId};
use crate::db::{Concrete, Conn, Db, PgStatement, Sql, Together, execute};
use crate::error::{Classify, Error};
use crate::models::{AuditRow, chain_key, db_time};
use crate::paging::{page_of, sorted, tie_direction, total};
use crate::schema::{audit_chains, audit_events, processes};

/// A chain's row in `audit_chains`: its stored head.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_chains)]
pub(crate) struct HeadRow {
    length: i64,
    head_hash: Option<DbDigest>,
    unkeyed_length: i64,
}

impl HeadRow {
    fn into_head(self) -> pas_domain::audit::ChainHead {
        pas_domain::audit::ChainHead {
            length: self.length,
            hash: self.head_hash.map(|d| d.0),
            unkeyed_length: self.unkeyed_length,
        }
    }
}

/// Creates the head row of the chain `key` when missing and answers it; on PostgreSQL it
/// stays locked until the transaction ends, which serialises appends to the chain.
pub(crate) async fn lock_chain(conn: &mut impl Conn, key: DbId) -> QueryResult<ChainHead> {
    let head = || audit_chains::table.filter(audit_chains::chain_key.eq(key));
    let row = match conn.concrete() {
        Concrete::Postgres(pg) => {
            // An existing chain, the common case, is one statement.
            let existing = head()
                .select(HeadRow::as_select())
                .for_update()
                .get_result::<HeadRow>(pg)
                .await
                .optional()?;
            match existing {
                Some(row) => row,
                None => {
                    // A concurrent first insert of the same key waits for the other
                    // transaction, then inserts nothing.
                    diesel::insert_into(audit_chains::table)
                        .values(audit_chains::chain_key.eq(key))
                        .on_conflict_do_nothing()
                        .execute(pg)
                        .await?;
                    head()
                        .select(HeadRow::as_select())
                        .for_update()
                        .get_result::<HeadRow>(pg)
                        .await?
                }
            }
        }
        // SQLite's write transactions begin IMMEDIATE: this one already holds the write lock.
        Concrete::Sqlite(lite) => {
            diesel::insert_or_ignore_into(audit_chains::table)
                .values(audit_chains::chain_key.eq(key))
                .execute(lite)
                .await?;
            head()
                .select(HeadRow::as_select())
                .get_result::<HeadRow>(lite)
                .await?
        }
    };
    Ok(row.into_head())
}

/// Stores `head` as the head of the chain `key`.
#[dsl::auto_type]
fn move_head(key: DbId, length: i64, hash: Option<DbDigest>) -> _ {
    dsl::update(audit_chains::table.filter(audit_chains::chain_key.eq(key))).set((
        audit_chains::length.eq(length),
        audit_chains::head_hash.eq(hash),
    ))
}

/// The chains `events` append to, sorted (locks are always taken in this order).
pub(crate) fn chain_keys(events: &[NewAuditEvent]) -> Vec<DbId> {
    let mut keys: Vec<DbId> = events.iter().map(|e| chain_key(e.process_id)).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Chains `events`, in order, under `keys` after the heads `heads` of their chains, which
/// move on with every row. Times are truncated to microseconds first, so that the hash
/// covers exactly what is stored.
pub(crate) fn chain_all(
    keys: &AuditKeys,
    heads: &mut HashMap<DbId, ChainHead>,
    events: &[NewAuditEvent],
) -> Vec<AuditingEvent> {
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event.created_at = truncate(event.created_at);
            let head = heads.entry(chain_key(event.process_id)).or_default();
            let row = chain(keys, head, event);
            *head = ChainHead::after(&row, head.unkeyed_length);
            row
        })
        .collect()
}

/// The last row of the chain `key`.
#[dsl::auto_type]
fn last_row(key: DbId) -> _ {
    audit_events::table
        .filter(audit_events::chain_key.eq(key))
        .order(audit_events::sequence.desc())
        .limit(1_i64)
}

/// [`last_row`] selecting its row on the backend `DB`.
pub(crate) type LastRow<DB> = dsl::Select<last_row, dsl::AsSelect<AuditRow, DB>>;

/// Events chained after the heads of their chains, which this transaction has locked; not
/// written yet.
pub(crate) struct Chained {
    /// The chained rows, in order.
    pub(crate) events: Vec<AuditingEvent>,
    /// Each chain's head after its last new row.
    heads: HashMap<DbId, ChainHead>,
}

impl Chained {
    /// Writes the rows and moves the chains' stored heads on.
    pub(crate) async fn write<C: Conn>(&self, conn: &mut C) -> Result<(), Error> {
        match conn.concrete() {
            Concrete::Postgres(pg) if self.events.len() <= ROWS_PER_STATEMENT => {
                Together::new(self.pg_writes(), self.events.len())
                    .execute(pg)
                    .await
                    .unique_as("auditing event")
            }
            _ => {
                let rows: Vec<AuditRow> = self.events.iter().map(AuditRow::of).collect();
                insert_many(conn, audit_events::table, rows)
                    .await
                    .unique_as("auditing event")?;
                for (key, head) in &self.heads {
                    let hash = head.hash.clone().map(DbDigest);
                    execute(conn, move_head(*key, head.length, hash)).await?;
                }
                Ok(())
            }
        }
    }

    /// The writes of [`Chained::write`] as PostgreSQL statements, to be sent in one
    /// [`Together`] (with other writes of the transaction): the heads' rows are locked, the
    /// rows new. Callers keep `events` within [`ROWS_PER_STATEMENT`].
    pub(crate) fn pg_writes(&self) -> Vec<PgStatement<'static>> {
        let mut writes: Vec<PgStatement<'static>> = self
            .heads
            .iter()
            .map(|(key, head)| -> PgStatement<'static> {
                Box::new(move_head(
                    *key,
                    head.length,
                    head.hash.clone().map(DbDigest),
                ))
            })
            .collect();
        if !self.events.is_empty() {
            let rows: Vec<AuditRow> = self.events.iter().map(AuditRow::of).collect();
            writes.push(Box::new(
                diesel::insert_into(audit_events::table).values(rows),
            ));
        }
        writes
    }
}

/// Locks the chains of `events` and chains them, in order, after their heads under the
/// current key of `keys`, inside the current write transaction; [`Chained::write`] (or its
/// [`Chained::pg_writes`]) stores them.
pub(crate) async fn chain_audit<C>(
    conn: &mut C,
    keys: Option<&AuditKeys>,
    events: &[NewAuditEvent],
) -> Result<Chained, Error>
where
    C: Conn,
    for<'q> LastRow<C::Backend>: LoadQuery<'q, C, AuditRow>,
{
    let mut heads = HashMap::new();
    if events.is_empty() {
        return Ok(Chained {
            events: Vec::new(),
            heads,
        });
    }
    let keys = keys.ok_or_else(no_keys)?;
    for key in chain_keys(events) {
        let mut head = lock_chain(conn, key).await?;
        if head.length == 0 {
            // A head row without rows is a new chain, unless rows exist that no head counts
            // (the head row was removed): continuing after them keeps the chain appendable,
            // and verification has reported the missing head.
            let last = last_row(key)
                .select(AuditRow::as_select())
                .get_result::<AuditRow>(conn)
                .await
                .optional()?;
            if let Some(last) = last {
                head = ChainHead::after(&last.into_event()?, head.unkeyed_length);
            }
        }
        heads.insert(key, head);
    }
    let events = chain_all(keys, &mut heads, events);
    Ok(Chained { events, heads })
}

/// Appends `events` to their chains ([`chain_audit`], then [`Chained::write`]); answers the
/// chained rows.
pub(crate) async fn append_audit<C>(
    conn: &mut C,
    keys: Option<&AuditKeys>,
    events: &[NewAuditEvent],
) -> Result<Vec<AuditingEvent>, Error>
where
    C: Conn,
    for<'q> LastRow<C::Backend>: LoadQuery<'q, C, AuditRow>,
{
    let chained = chain_audit(conn, keys, events).await?;
    chained.write(conn).await?;
    Ok(chained.events)
}

/// Appending or verifying without keys is a wiring mistake of the embedder.
fn no_keys() -> Error {
    Error::Repo(RepoError::Storage(
        "no audit keys configured (Db::with_audit_keys)".into(),
    ))
}

/// The processes of the owner groups `groups`, as the chain keys of their audit rows.
#[dsl::auto_type]
fn owned_by(groups: Vec<String>) -> _ {
    processes::table
        .filter(processes::owner_group.eq_any(groups))
        .select(processes::id)
}

/// `q` (`audit_events`, boxed) narrowed to the events of `GET /audit-events` that `f` asks
/// for.
fn filtered_events<'a, DB>(
    mut q: audit_events::BoxedQuery<'a, DB>,
    f: &AuditFilter,
) -> audit_events::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    PrimitiveDateTime: ToSql<Timestamp, DB>,
    dsl::EqAny<audit_events::chain_key, owned_by>: QueryFragment<DB>,
    dsl::EqAny<audit_events::customer_pseudonym, Vec<DbDigest>>: QueryFragment<DB>,
{
    // A process's events are its chain (`chain_key` is the process id of every row that has
    // one), found through the chain's unique index; `process_id` has no index of its own.
    // The nil key, the chain of events without a process, is no process's.
    if let Some(p) = f.process_id {
        q = q
            .filter(audit_events::chain_key.eq(DbId::from(p)))
            .filter(audit_events::process_id.is_not_null());
    }
    if let Some(d) = &f.document_id {
        q = q.filter(audit_events::document_id.eq(d.clone()));
    }
    if let Some(s) = f.signer_id {
        q = q.filter(audit_events::signer_id.eq(DbId::from(s)));
    }
    if let Some(t) = f.event_type {
        q = q.filter(audit_events::event_type.eq(t.as_str()));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_events::created_at.ge(db_time(from)));
    }
    if let Some(to) = f.to {
        q = q.filter(audit_events::created_at.lt(db_time(to)));
    }
    if let Some(pseudonyms) = &f.customer_pseudonyms {
        let pseudonyms = pseudonyms.iter().cloned().map(DbDigest);
        q = q.filter(audit_events::customer_pseudonym.eq_any(pseudonyms.collect::<Vec<_>>()));
    }
    if let Some(groups) = &f.owner_groups {
        // Deleted processes keep their trail, so their events stay listed too.
        q = q.filter(audit_events::chain_key.eq_any(owned_by(groups.clone())));
    }
    q
}

fn rows_into_events(rows: Vec<AuditRow>) -> Result<Vec<AuditingEvent>, Error> {
    rows.into_iter().map(AuditRow::into_event).collect()
}

#[async_trait]
impl AuditStore for Db {
    async fn append(&self, event: &NewAuditEvent) -> Result<AuditingEvent, RepoError> {
        with_db!(self, Write, async |conn| {
            let keys = self.audit_keys.as_deref();
            let mut chained = append_audit(conn, keys, std::slice::from_ref(event)).await?;
            chained
                .pop()
                .ok_or_else(|| RepoError::Storage("no audit row was written".into()).into())
        })
        .await
        .inspect(|_| crate::metrics::audit_appended(1))
    }

    async fn list(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
    ) -> Result<Page<AuditingEvent>, RepoError> {
        with_db!(self, ReplicaIf(true, Scan), async |conn| {
            let all = || audit_events::table.into_boxed::<Backend>();
            let count: i64 = filtered_events(all(), filter)
                .count()
                .get_result(conn)
                .await?;
            let mut q = filtered_events(all(), filter).select(AuditRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    AuditSort::CreatedAt => sorted(q, dir, audit_events::created_at),
                    AuditSort::EventType => sorted(q, dir, audit_events::event_type),
                };
            }
            // Events of one process at one instant keep their chain order.
            q = sorted(q, tie_direction(page), audit_events::sequence);
            let rows = page_of(q, audit_events::id, page)
                .load::<AuditRow>(conn)
                .await?;
            let content = rows_into_events(rows)?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn trail(&self, process: ProcessId) -> Result<AuditTrail, RepoError> {
        let keys = self
            .audit_keys
            .clone()
            .ok_or_else(|| no_keys().into_repo())?;
        let stored = self
            .chains_by_key(vec![Some(chain_key(Some(process)))])
            .await?
            .pop()
            .unwrap_or_else(StoredChain::none);
        Ok(AuditTrail::verify(
            &keys,
            process,
            stored.rows,
            stored.head.as_ref(),
            stored.process_exists,
        ))
    }

    async fn chain_heads(&self) -> Result<Vec<CheckpointChain>, RepoError> {
        with_db!(self, Scan, async |conn| {
            let rows: Vec<(DbId, i64, Option<DbDigest>)> = audit_chains::table
                .filter(audit_chains::length.gt(0_i64))
                .order(audit_chains::chain_key.asc())
                .select((
                    audit_chains::chain_key,
                    audit_chains::length,
                    audit_chains::head_hash,
                ))
                .load(conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(chain_key, length, head)| CheckpointChain {
                    chain_key: chain_key.0.to_string(),
                    length,
                    head: head.map(|d| d.0).unwrap_or_default(),
                })
                .collect())
        })
        .await
    }
}

/// One chain as stored: its rows (oldest first), its head row, and whether the process it
/// belongs to exists (then the chain must exist too).
#[derive(Debug, Clone)]
pub struct StoredChain {
    /// The rows, by sequence.
    pub rows: Vec<AuditingEvent>,
    /// The head row; `None` when there is none.
    pub head: Option<ChainHead>,
    /// A process (deleted or not) has the chain's key as its id.
    pub process_exists: bool,
}

impl StoredChain {
    /// No rows, no head, no process: what a key names that nothing is stored under.
    fn none() -> Self {
        Self {
            rows: Vec::new(),
            head: None,
            process_exists: false,
        }
    }
}

impl Db {
    /// The keys of every chain there is or should be: every head row, every chain with
    /// rows, and every process; sorted.
    pub async fn all_chain_keys(&self) -> Result<Vec<String>, RepoError> {
        with_db!(self, Scan, async |conn| {
            let mut keys: Vec<DbId> = audit_chains::table
                .select(audit_chains::chain_key)
                .load(conn)
                .await?;
            keys.extend(
                audit_events::table
                    .select(audit_events::chain_key)
                    .distinct()
                    .load::<DbId>(conn)
                    .await?,
            );
            keys.extend(
                processes::table
                    .select(processes::id)
                    .load::<DbId>(conn)
                    .await?,
            );
            keys.sort();
            keys.dedup();
            Ok(keys.into_iter().map(|k| k.0.to_string()).collect())
        })
        .await
    }

    /// The chain `key` as stored, read in one snapshot, for verification (the audit trail).
    pub async fn stored_chain(&self, key: &str) -> Result<StoredChain, RepoError> {
        let mut chains = self.stored_chains(&[key.to_owned()]).await?;
        Ok(chains.pop().unwrap_or_else(StoredChain::none))
    }

    /// The chains `keys` as stored, in that order, read in one snapshot with three queries
    /// for the whole batch (`app audit verify` reads 100 chains at a time: three
    /// queries and a transaction per chain made it round-trip bound on PostgreSQL).
    /// A key that is not a UUID names no chain: its chain is empty.
    pub async fn stored_chains(&self, keys: &[String]) -> Result<Vec<StoredChain>, RepoError> {
        let keys = keys
            .iter()
            .map(|k| uuid::Uuid::parse_str(k).ok().map(DbId))
            .collect();
        self.chains_by_key(keys).await
    }

    /// [`Db::stored_chains`] of parsed keys (`None`: a key that names no chain).
    async fn chains_by_key(&self, keys: Vec<Option<DbId>>) -> Result<Vec<StoredChain>, RepoError> {
        let ids: Vec<DbId> = keys.iter().flatten().copied().collect();
        with_db!(self, Scan, async |conn| {
            let rows = audit_events::table
                .filter(audit_events::chain_key.eq_any(&ids))
                .order((audit_events::chain_key.asc(), audit_events::sequence.asc()))
                .select(AuditRow::as_select())
                .load::<AuditRow>(conn)
                .await?;
            let heads: Vec<(DbId, HeadRow)> = audit_chains::table
                .filter(audit_chains::chain_key.eq_any(&ids))
                .select((audit_chains::chain_key, HeadRow::as_select()))
                .load(conn)
                .await?;
            let processes: Vec<DbId> = processes::table
                .filter(processes::id.eq_any(&ids))
                .select(processes::id)
                .load(conn)
                .await?;
            let mut rows_of: HashMap<DbId, Vec<AuditRow>> = HashMap::new();
            for row in rows {
                rows_of.entry(row.chain_key).or_default().push(row);
            }
            let mut heads: HashMap<DbId, HeadRow> = heads.into_iter().collect();
            let processes: std::collections::HashSet<DbId> = processes.into_iter().collect();
            keys.iter()
                .map(|key| {
                    let Some(key) = key else {
                        return Ok(StoredChain::none());
                    };
                    Ok(StoredChain {
                        rows: rows_into_events(rows_of.remove(key).unwrap_or_default())?,
                        head: heads.remove(key).map(HeadRow::into_head),
                        process_exists: processes.contains(key),
                    })
                })
                .collect()
        })
        .await
    }

    /// The audit keys this database chains under, when set.
    pub fn audit_keys(&self) -> Option<&AuditKeys> {
        self.audit_keys.as_deref()
    }
}

/// The count of `GET /audit-events` with a filter whose index is partial or narrow
/// (`audit_events_signer_id` only for rows with a signer, `processes_owner_group` without
/// `created_at`) reads along that index on both backends, without looking at bound values.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod filter_plans {
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;
    use pas_domain::ids::EntryId;
    use uuid::Uuid;

    use super::*;
    use crate::plans::{pg_generic_plan, pg_scratch, sql_of, sqlite_plan, sqlite_scratch, uses};

    fn by_signer() -> AuditFilter {
        AuditFilter {
            signer_id: Some(EntryId::from_uuid(Uuid::nil())),
            ..AuditFilter::default()
        }
    }

    fn by_groups() -> AuditFilter {
        AuditFilter {
            owner_groups: Some(vec!["group-1".into()]),
            ..AuditFilter::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_reads_a_signers_and_a_groups_events_by_index() {
        let (_scratch, mut conn) = sqlite_scratch().await;
        let all = || audit_events::table.into_boxed::<Sqlite>();
        for (what, filter, index) in [
            ("signer", by_signer(), "audit_events_signer_id"),
            ("groups", by_groups(), "processes_owner_group"),
        ] {
            let sql = sql_of::<Sqlite, _>(&filtered_events(all(), &filter).count());
            let plan = sqlite_plan(&mut conn, &sql).await.unwrap();
            assert!(uses(&plan, index), "{what}: {plan:?}");
        }
    }

    /// In a generic plan, on a connection of `pg_scratch`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_reads_a_signers_and_a_groups_events_by_index() {
        let Some((_scratch, mut conn)) = pg_scratch().await else {
            return;
        };
        let all = || audit_events::table.into_boxed::<Pg>();
        for (what, filter, arguments, index) in [
            (
                "signer",
                by_signer(),
                format!("('{}')", Uuid::nil()),
                "audit_events_signer_id",
            ),
            (
                "groups",
                by_groups(),
                "(ARRAY['group-1'])".to_owned(),
                "processes_owner_group",
            ),
        ] {
            let sql = sql_of::<Pg, _>(&filtered_events(all(), &filter).count());
            let plan = pg_generic_plan(&mut conn, what, &sql, &arguments)
                .await
                .unwrap();
            assert!(uses(&plan, index), "{what}: {plan:#?}");
        }
    }
}

/// The keying migration on a database with rows from before it (SQLite always, PostgreSQL
/// when `TEST_DATABASE_URL` is set).
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod keying_migration {
    use deadpool::managed::Object;
    use diesel::migration::MigrationSource;
    use diesel_async::AsyncMigrationHarness;
    use diesel_migrations::MigrationHarness;
    use pas_domain::audit::{AuditKey, BreakKind, unkeyed_hash};
    use pas_domain::ids::AuditEventId;
    use pas_domain::status::EventType;

    use super::*;
    use crate::db::{PG_MIGRATIONS, Pools, SQLITE_MIGRATIONS};
    use crate::testing::{ScratchDatabase, digest_literal};

    const KEYING: &str = "2026-11-27-000001_keyed_audit";

    /// Applies the migrations from before keying only.
    async fn migrate_before_keying(db: &Db) {
        fn before<DB: diesel::backend::Backend>(
            source: &impl MigrationSource<DB>,
        ) -> Vec<Box<dyn diesel::migration::Migration<DB>>> {
            source
                .migrations()
                .unwrap()
                .into_iter()
                .filter(|m| m.name().to_string().as_str() < KEYING)
                .collect()
        }
        match &db.pools {
            Pools::Sqlite(pool) => {
                let conn = Object::take(pool.get().await.unwrap());
                tokio::task::spawn_blocking(move || {
                    let mut h = AsyncMigrationHarness::new(conn);
                    h.applied_migrations().unwrap();
                    for m in before(&SQLITE_MIGRATIONS) {
                        h.run_migration(m.as_ref()).unwrap();
                    }
                })
                .await
                .unwrap();
            }
            Pools::Postgres(pool) => {
                let conn = Object::take(pool.get().await.unwrap());
                tokio::task::spawn_blocking(move || {
                    let mut h = AsyncMigrationHarness::new(conn);
                    h.applied_migrations().unwrap();
                    for m in before(&PG_MIGRATIONS) {
                        h.run_migration(m.as_ref()).unwrap();
                    }
                })
                .await
                .unwrap();
            }
        }
    }

    fn legacy_event(process: ProcessId, n: u128) -> NewAuditEvent {
        NewAuditEvent {
            id: AuditEventId::from_uuid(uuid::Uuid::from_u128(n)),
            created_at: time::macros::datetime!(2025-06-01 10:00 UTC),
            event_type: EventType::ProcessGetone,
            event_origin: None,
            creator: Some("legacy".into()),
            document_id: None,
            signer_id: None,
            customer_personal_code: None,
            note: Some(format!("row {n}")),
            process_id: Some(process),
            ip_address: None,
            container_id: None,
            method: None,
            client_app_name: None,
            customer_pseudonym: None,
        }
    }

    async fn sql(db: &Db, statement: String) {
        with_db!(db, None, async |conn| {
            diesel::sql_query(statement.clone()).execute(conn).await?;
            Ok(())
        })
        .await
        .unwrap();
    }

    async fn legacy_rows_verify_as_the_unkeyed_prefix_only(scratch: ScratchDatabase) {
        let keys = AuditKeys::new(AuditKey::new(vec![5; 32]).unwrap(), vec![]);
        let db = Db::connect(scratch.url(), 2)
            .await
            .unwrap()
            .with_audit_keys(keys);
        migrate_before_keying(&db).await;
        // Three rows written by the service before keying: plain SHA-256, no key id.
        let process = ProcessId::from_uuid(uuid::Uuid::from_u128(77));
        let mut previous: Option<String> = None;
        for n in 0..3_u128 {
            let event = legacy_event(process, n + 1);
            let hash = unkeyed_hash(previous.as_deref(), &event);
            let prev = previous
                .as_ref()
                .map_or("NULL".into(), |p| format!("'{p}'"));
            sql(
                &db,
                format!(
                    "INSERT INTO audit_events (id, chain_key, sequence, previous_hash, hash, created_at, \
                     event_type, creator, note, process_id) VALUES ('{}', '{process}', {n}, {prev}, \
                     '{hash}', '2025-06-01 10:00:00', 'PROCESS_GETONE', 'legacy', 'row {}', '{process}')",
                    event.id,
                    n + 1
                ),
            )
            .await;
            previous = Some(hash);
        }
        db.migrate().await.unwrap();
        let stored = db.stored_chain(&process.to_string()).await.unwrap();
        let head = stored.head.clone().unwrap();
        assert_eq!((head.length, head.unkeyed_length), (3, 3));
        assert_eq!(head.hash, previous);
        let trail = db.trail(process).await.unwrap();
        assert!(
            trail.valid,
            "{:?} at {:?}",
            trail.break_kind, trail.broken_at
        );
        // New rows are keyed and continue the chain.
        let appended = db.append(&legacy_event(process, 4)).await.unwrap();
        assert_eq!(appended.sequence, 3);
        assert!(appended.key_id.is_some());
        assert!(db.trail(process).await.unwrap().valid);
        // A plain SHA-256 row after the recorded prefix is a break, even with a correct hash.
        let forged = unkeyed_hash(previous.as_deref(), &appended.event);
        sql(
            &db,
            format!(
                "UPDATE audit_events SET hash = {}, key_id = NULL WHERE id = '{}'",
                digest_literal(scratch.url(), &forged),
                appended.event.id
            ),
        )
        .await;
        sql(
            &db,
            format!(
                "UPDATE audit_chains SET head_hash = {} WHERE chain_key = '{process}'",
                digest_literal(scratch.url(), &forged)
            ),
        )
        .await;
        let trail = db.trail(process).await.unwrap();
        assert_eq!(
            (trail.broken_at, trail.break_kind),
            (Some(3), Some(BreakKind::Unkeyed))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        legacy_rows_verify_as_the_unkeyed_prefix_only(ScratchDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                legacy_rows_verify_as_the_unkeyed_prefix_only(
                    ScratchDatabase::postgres(&url).await,
                )
                .await;
            }
            _ => eprintln!("TEST_DATABASE_URL unset: skipping the PostgreSQL half"),
        }
    }
}
