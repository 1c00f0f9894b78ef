//! `AuditStore` and the appending of audit rows to their hash chains (PRODUCT.md section 8).
//!
//! Every event is chained with `pas_domain::audit::chain` after the last row of its chain
//! (the event's process, or the nil UUID for events without one). Appends to one chain are
//! serialised so that it never forks: on PostgreSQL the appending transaction locks the
//! chain's row in `audit_chains` (`SELECT … FOR UPDATE`, the row inserted on first use); on
//! SQLite the write transaction already holds the database's write lock
//! (`BEGIN IMMEDIATE`). `UNIQUE (chain_key, sequence)` is the backstop.

use std::collections::HashMap;
use std::future::Future;

use async_trait::async_trait;
use diesel::QueryResult;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use pas_domain::audit::{AuditFilter, AuditTrail, AuditingEvent, NewAuditEvent, chain};
use pas_domain::ids::ProcessId;
use pas_domain::paging::{AuditSort, Page, PageRequest};
use pas_domain::ports::{AuditStore, RepoError};
use pas_domain::timestamp::truncate;

use crate::db::{Db, SqliteConn};
use crate::models::{AuditRow, chain_key, db_time};
use crate::paging::{offset, sorted, tie_direction, total};
use crate::schema::{audit_chains, audit_events, processes};

/// Takes the lock that serialises appends to one chain, until the transaction ends.
pub(crate) trait ChainLock {
    /// Locks the chain `key`.
    fn lock_chain(&mut self, key: &str) -> impl Future<Output = QueryResult<()>> + Send;
}

impl ChainLock for AsyncPgConnection {
    async fn lock_chain(&mut self, key: &str) -> QueryResult<()> {
        // A concurrent first insert of the same key waits for the other transaction.
        diesel::insert_into(audit_chains::table)
            .values(audit_chains::chain_key.eq(key))
            .on_conflict_do_nothing()
            .execute(self)
            .await?;
        audit_chains::table
            .filter(audit_chains::chain_key.eq(key))
            .select(audit_chains::chain_key)
            .for_update()
            .get_result::<String>(self)
            .await?;
        Ok(())
    }
}

impl ChainLock for SqliteConn {
    async fn lock_chain(&mut self, _key: &str) -> QueryResult<()> {
        // Write transactions begin IMMEDIATE: this one already holds the write lock.
        Ok(())
    }
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

/// Appends `$events` (`&[NewAuditEvent]`) to their chains inside the current write
/// transaction; evaluates to the chained rows.
macro_rules! append_audit {
    ($conn:ident, $events:expr) => {{
        use ::diesel::SelectableHelper as _;
        use ::diesel::{ExpressionMethods as _, OptionalExtension as _, QueryDsl as _};
        use ::diesel_async::RunQueryDsl as _;
        use $crate::error::Classify as _;
        use $crate::schema::audit_events as table;
        let events: &[::pas_domain::audit::NewAuditEvent] = $events;
        let mut heads = ::std::collections::HashMap::new();
        for key in $crate::audit::chain_keys(events) {
            $crate::audit::ChainLock::lock_chain(&mut *$conn, &key).await?;
            let last = table::table
                .filter(table::chain_key.eq(&key))
                .order(table::sequence.desc())
                .select($crate::models::AuditRow::as_select())
                .first::<$crate::models::AuditRow>($conn)
                .await
                .optional()?;
            let last = last.map($crate::models::AuditRow::into_event).transpose()?;
            heads.insert(key, last);
        }
        let chained = $crate::audit::chain_all(heads, events);
        let rows: Vec<$crate::models::AuditRow> =
            chained.iter().map($crate::models::AuditRow::of).collect();
        $crate::batch::InsertMany::insert_audit_rows(&mut *$conn, rows)
            .await
            .unique_as("auditing event")?;
        chained
    }};
}
pub(crate) use append_audit;

/// The base query of `GET /audit-events`.
macro_rules! filtered_events {
    ($filter:expr) => {{
        let f: &AuditFilter = $filter;
        let mut q = audit_events::table.into_boxed::<Backend>();
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
            let owned = processes::table
                .filter(processes::owner_group.eq_any(groups.clone()))
                .select(processes::id.nullable());
            q = q.filter(audit_events::process_id.eq_any(owned));
        }
        q
    }};
}

fn rows_into_events(rows: Vec<AuditRow>) -> Result<Vec<AuditingEvent>, crate::error::Error> {
    rows.into_iter().map(AuditRow::into_event).collect()
}

#[async_trait]
impl AuditStore for Db {
    async fn append(&self, event: &NewAuditEvent) -> Result<AuditingEvent, RepoError> {
        with_db!(self, Write, async |conn| {
            let mut chained = append_audit!(conn, std::slice::from_ref(event));
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
            let count: i64 = filtered_events!(filter).count().get_result(conn).await?;
            let mut q = filtered_events!(filter).select(AuditRow::as_select());
            for (field, dir) in &page.sort {
                q = match field {
                    AuditSort::CreatedAt => sorted!(q, dir, audit_events::created_at),
                    AuditSort::EventType => sorted!(q, dir, audit_events::event_type),
                };
            }
            // Events of one process at one instant keep their chain order.
            let tie = tie_direction(page);
            q = sorted!(q, tie, audit_events::sequence);
            q = sorted!(q, tie, audit_events::id);
            let rows = q
                .limit(i64::from(page.size))
                .offset(offset(page))
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
