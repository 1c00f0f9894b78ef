//! `AuditStore` and the appending of audit rows to their hash chains (PRODUCT.md section 8).
//!
//! Every event is chained with `pas_domain::audit::chain` after the last row of its chain
//! (the event's process, or the nil UUID for events without one). Appends to one chain are
//! serialised so that it never forks: on PostgreSQL the appending transaction locks the
//! chain's row in `audit_chains` (`SELECT … FOR UPDATE`, the row inserted on first use); on
//! SQLite the write transaction already holds the database's write lock
//! (`BEGIN IMMEDIATE`). `UNIQUE (chain_key, sequence)` is the backstop.

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
use pas_domain::audit::{AuditFilter, AuditTrail, AuditingEvent, NewAuditEvent, chain};
use pas_domain::ids::ProcessId;
use pas_domain::paging::{AuditSort, Page, PageRequest};
use pas_domain::ports::{AuditStore, RepoError};
use pas_domain::timestamp::truncate;
use time::PrimitiveDateTime;

use crate::batch::insert_many;
use crate::db::{Concrete, Conn, Db, Sql};
use crate::error::{Classify, Error};
use crate::models::{AuditRow, chain_key, db_time};
use crate::paging::{page_of, sorted, tie_direction, total};
use crate::schema::{audit_chains, audit_events, processes};

/// Takes the lock that serialises appends to the chain `key`, until the transaction ends.
async fn lock_chain(conn: &mut impl Conn, key: &str) -> QueryResult<()> {
    // SQLite's write transactions begin IMMEDIATE: this one already holds the write lock.
    let Concrete::Postgres(pg) = conn.concrete() else {
        return Ok(());
    };
    // A concurrent first insert of the same key waits for the other transaction.
    diesel::insert_into(audit_chains::table)
        .values(audit_chains::chain_key.eq(key))
        .on_conflict_do_nothing()
        .execute(pg)
        .await?;
    audit_chains::table
        .filter(audit_chains::chain_key.eq(key))
        .select(audit_chains::chain_key)
        .for_update()
        .get_result::<String>(pg)
        .await?;
    Ok(())
}

/// The chains `events` append to, sorted (locks are always taken in this order).
pub(crate) fn chain_keys(events: &[NewAuditEvent]) -> Vec<String> {
    let mut keys: Vec<String> = events.iter().map(|e| chain_key(e.process_id)).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Chains `events`, in order, after the last rows `heads` of their chains. Times are
/// truncated to microseconds first, so that the hash covers exactly what is stored.
pub(crate) fn chain_all(
    mut heads: HashMap<String, Option<AuditingEvent>>,
    events: &[NewAuditEvent],
) -> Vec<AuditingEvent> {
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event.created_at = truncate(event.created_at);
            let head = heads.entry(chain_key(event.process_id)).or_default();
            let row = chain(head.as_ref(), event);
            *head = Some(row.clone());
            row
        })
        .collect()
}

/// The last row of the chain `key`.
#[dsl::auto_type]
fn chain_head(key: String) -> _ {
    audit_events::table
        .filter(audit_events::chain_key.eq(key))
        .order(audit_events::sequence.desc())
        .limit(1_i64)
}

/// [`chain_head`] selecting its row on the backend `DB`.
pub(crate) type ChainHead<DB> = dsl::Select<chain_head, dsl::AsSelect<AuditRow, DB>>;

/// Appends `events` to their chains inside the current write transaction; answers the
/// chained rows.
pub(crate) async fn append_audit<C>(
    conn: &mut C,
    events: &[NewAuditEvent],
) -> Result<Vec<AuditingEvent>, Error>
where
    C: Conn,
    for<'q> ChainHead<C::Backend>: LoadQuery<'q, C, AuditRow>,
{
    let mut heads = HashMap::new();
    for key in chain_keys(events) {
        lock_chain(conn, &key).await?;
        let last = chain_head(key.clone())
            .select(AuditRow::as_select())
            .get_result::<AuditRow>(conn)
            .await
            .optional()?;
        heads.insert(key, last.map(AuditRow::into_event).transpose()?);
    }
    let chained = chain_all(heads, events);
    let rows: Vec<AuditRow> = chained.iter().map(AuditRow::of).collect();
    insert_many(conn, audit_events::table, rows)
        .await
        .unique_as("auditing event")?;
    Ok(chained)
}

/// The processes of the owner groups `groups`, as nullable ids of audit rows.
#[dsl::auto_type]
fn owned_by(groups: Vec<String>) -> _ {
    processes::table
        .filter(processes::owner_group.eq_any(groups))
        .select(processes::id.nullable())
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
    dsl::EqAny<audit_events::process_id, owned_by>: QueryFragment<DB>,
{
    if let Some(p) = f.process_id {
        q = q.filter(audit_events::process_id.eq(p.to_string()));
    }
    if let Some(d) = &f.document_id {
        q = q.filter(audit_events::document_id.eq(d.clone()));
    }
    if let Some(s) = f.signer_id {
        q = q.filter(audit_events::signer_id.eq(s.to_string()));
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
    if let Some(groups) = &f.owner_groups {
        // Deleted processes keep their trail, so their events stay listed too.
        q = q.filter(audit_events::process_id.eq_any(owned_by(groups.clone())));
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
            let mut chained = append_audit(conn, std::slice::from_ref(event)).await?;
            chained
                .pop()
                .ok_or_else(|| RepoError::Storage("no audit row was written".into()).into())
        })
        .await
    }

    async fn list(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
    ) -> Result<Page<AuditingEvent>, RepoError> {
        with_db!(self, Read, async |conn| {
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
        let key = chain_key(Some(process));
        with_db!(self, None, async |conn| {
            let rows = audit_events::table
                .filter(audit_events::chain_key.eq(&key))
                .order(audit_events::sequence.asc())
                .select(AuditRow::as_select())
                .load::<AuditRow>(conn)
                .await?;
            Ok(AuditTrail::verify(process, rows_into_events(rows)?))
        })
        .await
    }
}
