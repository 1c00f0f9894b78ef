//! `ProcessRepository`: processes with their steps and entries, saved with their audit and
//! outbox rows in one transaction (rule 10), the webhook deliveries of its events among them
//! (PRODUCT.md section 12), and the list, search and portal queries of PRODUCT.md section 6.
//!
//! A save updates the process row only if its `version` is still the expected one (0 rows:
//! `VersionConflict`), then writes the steps and entries that differ from the process as
//! it was read (`write_children_diff`). On PostgreSQL the `UPDATE` locks the row, so a
//! concurrent save of the same version waits and then finds the version moved on; on SQLite
//! the whole transaction holds the write lock (`BEGIN IMMEDIATE`). Soft-deleted processes
//! (`deleted_at` set) are left out of every read.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSelectStatement, FromClause, QueryFragment};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, Text, Timestamp};
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use pas_domain::audit::AuditKeys;
use pas_domain::ids::{EntryId, ProcessId, StepId};
use pas_domain::paging::{Page, PageRequest, ProcessSort, TaskSort};
use pas_domain::ports::{ChangeSet, ProcessRepository, RepoError};
use pas_domain::process::{ProcessData, SigningProcess};
use pas_domain::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter, TaskOwner};
use pas_domain::status::{ProcessStatus, SignerRole, SigningStatus};
use pas_domain::task::SignerTask;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::audit::{LastRow, chain_audit, lock_chain};
use crate::batch::{ROWS_PER_STATEMENT, chunked, insert_many};
use crate::columns::DbId;
use crate::db::{Concrete, Conn, Db, Prepared, Sql, Together, execute};
use crate::error::{Classify, Error};
use crate::models::{
    AuditRow, EntryRow, OutboxRow, ProcessRow, ProcessRows, StepRow, SubscriptionRow, assemble,
    assemble_joined, chain_key, day_end, day_start, db_time, split_children,
};
use crate::paging::{page_of, sorted, sorted_nulls_last, total};
use crate::schema::{entries, idempotency_keys, outbox, processes, steps};
use crate::search::contains;
use crate::webhooks::{Deliverable, deliveries};

/// Largest `IN (…)` list sent at once when loading the steps and entries of many processes.
const IN_CHUNK: usize = 500;

/// The steps of `processes` with their entries (a step without entries once, with `None`),
/// by process, step and entry.
#[dsl::auto_type]
fn children_of(processes: Vec<DbId>) -> _ {
    steps::table
        .left_join(entries::table)
        .filter(steps::process_id.eq_any(processes))
        .order((steps::process_id, steps::process_order, entries::position))
}

/// Processes left-joined with their steps and the steps' entries, joined flat: SQLite
/// materialises a parenthesised join (`processes LEFT JOIN (steps LEFT JOIN entries)`)
/// whole, every step and entry of the database, before it picks one process's.
#[dsl::auto_type]
fn with_children() -> _ {
    processes::table
        .left_join(steps::table)
        .left_join(entries::table.on(entries::step_id.eq(steps::id)))
}

/// [`children_of`] selecting its rows on the backend `DB`.
type ChildRows<DB> = dsl::Select<
    children_of,
    (
        dsl::AsSelect<StepRow, DB>,
        dsl::AsSelect<Option<EntryRow>, DB>,
    ),
>;

/// Loads the steps and entries of the process rows `rows` (one query per chunk of
/// [`IN_CHUNK`] processes, never one per process) and builds the processes, in the order
/// of `rows`.
async fn load_processes<C>(
    conn: &mut C,
    rows: Vec<ProcessRow>,
) -> Result<Vec<SigningProcess>, Error>
where
    C: Conn,
    for<'q> ChildRows<C::Backend>: LoadQuery<'q, C, (StepRow, Option<EntryRow>)>,
{
    let ids: Vec<DbId> = rows.iter().map(|r| r.id).collect();
    let mut step_rows: Vec<StepRow> = Vec::new();
    let mut entry_rows: Vec<EntryRow> = Vec::new();
    // Each query owns its ids: a query borrowing them would need a bound for every lifetime
    // of the borrow, which diesel-async's `LoadQuery` cannot satisfy.
    for chunk in chunked(ids, IN_CHUNK) {
        let children = children_of(chunk)
            .select((StepRow::as_select(), Option::<EntryRow>::as_select()))
            .load::<(StepRow, Option<EntryRow>)>(conn)
            .await?;
        split_children(children, &mut step_rows, &mut entry_rows);
    }
    assemble(rows, step_rows, entry_rows)
}

/// Records the idempotency key of a change, or ends the transaction with
/// `Duplicate("idempotency key")` when it was recorded before.
async fn claim_idempotency_key<C: Conn>(
    conn: &mut C,
    changes: &ChangeSet,
    now: OffsetDateTime,
) -> Result<(), Error> {
    // A unique violation ends the transaction on PostgreSQL, which is what a duplicate
    // change needs anyway: nothing of it is written.
    if let Some(key) = &changes.idempotency_key {
        let row = (
            idempotency_keys::key.eq(key.clone()),
            idempotency_keys::created_at.eq(db_time(now)),
        );
        insert_many(conn, idempotency_keys::table, vec![row])
            .await
            .unique_as("idempotency key")?;
    }
    Ok(())
}

/// Inserts the steps and entries of `rows`.
async fn insert_children<C: Conn>(conn: &mut C, rows: &ProcessRows) -> Result<(), Error> {
    insert_many(conn, steps::table, rows.steps.clone())
        .await
        .unique_as("step")?;
    insert_many(conn, entries::table, rows.entries.clone())
        .await
        .unique_as("signer")?;
    Ok(())
}

/// Replaces the steps and entries of the process of `rows` with those of `rows`.
pub(crate) async fn replace_children<C: Conn>(
    conn: &mut C,
    rows: &ProcessRows,
) -> Result<(), Error> {
    let id = rows.process.id;
    execute(
        conn,
        diesel::delete(entries::table.filter(entries::process_id.eq(id))),
    )
    .await?;
    execute(
        conn,
        diesel::delete(steps::table.filter(steps::process_id.eq(id))),
    )
    .await?;
    insert_children(conn, rows).await
}

/// Writes the process row of `rows` over the stored one if that is still at `expected`
/// (and not deleted, unless `include_deleted`: an erasure writes deleted processes too);
/// `VersionConflict` otherwise. On PostgreSQL the `UPDATE` locks the row, so a concurrent
/// writer of the same version waits, then finds the version moved on.
pub(crate) async fn update_process<C: Conn>(
    conn: &mut C,
    rows: &ProcessRows,
    expected: i64,
    include_deleted: bool,
) -> Result<(), Error> {
    let current = processes::table
        .filter(processes::id.eq(&rows.process.id))
        .filter(processes::version.eq(expected))
        .filter(
            processes::deleted_at
                .is_null()
                .or(include_deleted.into_sql::<Bool>()),
        );
    let updated = execute(conn, Prepared(diesel::update(current).set(&rows.process))).await?;
    if updated == 0 {
        return Err(RepoError::VersionConflict { expected }.into());
    }
    Ok(())
}

/// Writes the steps and entries that differ between `before` and `after` (rows of the
/// same process): deletes those gone, updates those changed, inserts those new. A sign
/// that does not end its step is one `UPDATE` of its entry. Steps that swap places would
/// collide one row at a time on the unique `(process_id, process_order)`, so a save that
/// reorders steps replaces them all instead.
async fn write_children_diff<C: Conn>(
    conn: &mut C,
    before: &ProcessRows,
    after: &ProcessRows,
) -> Result<(), Error> {
    let steps = diff(&before.steps, &after.steps, |s| s.id);
    let entries = diff(&before.entries, &after.entries, |e| e.id);
    let reordered = steps
        .changed
        .iter()
        .any(|(was, now)| was.process_order != now.process_order);
    // The domain keeps an entry in its step; one that moved would be cascaded away with a
    // step deleted before it, so that too replaces everything.
    let moved = entries
        .changed
        .iter()
        .any(|(was, now)| was.step_id != now.step_id);
    if reordered || moved {
        return replace_children(conn, after).await;
    }
    // Entries first: an entry refers to its step.
    if !entries.gone.is_empty() {
        let gone = entries::table.filter(entries::id.eq_any(entries.gone));
        execute(conn, diesel::delete(gone)).await?;
    }
    if !steps.gone.is_empty() {
        let gone = steps::table.filter(steps::id.eq_any(steps.gone));
        execute(conn, diesel::delete(gone)).await?;
    }
    for (_, step) in steps.changed {
        let row = steps::table.filter(steps::id.eq(&step.id));
        execute(conn, Prepared(diesel::update(row).set(step))).await?;
    }
    for (_, entry) in entries.changed {
        let row = entries::table.filter(entries::id.eq(&entry.id));
        execute(conn, Prepared(diesel::update(row).set(entry))).await?;
    }
    insert_many(conn, steps::table, steps.new)
        .await
        .unique_as("step")?;
    insert_many(conn, entries::table, entries.new)
        .await
        .unique_as("signer")?;
    Ok(())
}

/// What differs between two sets of rows of one table, matched by id.
struct Diff<'a, R> {
    /// The ids of the rows gone.
    gone: Vec<DbId>,
    /// The rows changed: as they were, as they are.
    changed: Vec<(&'a R, &'a R)>,
    /// The rows new.
    new: Vec<R>,
}

/// What differs between the rows `before` and `after`, matched by `id` (in the order of
/// `after`).
fn diff<'a, R: PartialEq + Clone>(
    before: &'a [R],
    after: &'a [R],
    id: impl Fn(&R) -> DbId,
) -> Diff<'a, R> {
    let old: HashMap<DbId, &R> = before.iter().map(|r| (id(r), r)).collect();
    let kept: HashSet<DbId> = after.iter().map(&id).collect();
    let gone = before
        .iter()
        .map(&id)
        .filter(|i| !kept.contains(i))
        .collect();
    let mut changed = Vec::new();
    let mut new = Vec::new();
    for row in after {
        match old.get(&id(row)) {
            Some(was) if *was == row => {}
            Some(was) => changed.push((*was, row)),
            None => new.push(row.clone()),
        }
    }
    Diff { gone, changed, new }
}

/// Appends the audit rows and outbox rows of a change: its emails and, when the change
/// stores `process` (an insert or a save; `process` in its state after the change), the
/// webhook deliveries of its events (PRODUCT.md section 12), in one multi-row insert (per
/// [`crate::batch::ROWS_PER_STATEMENT`] rows).
/// `record` passes `None`: reads, reminders and resends have no event subscribers hear
/// about.
async fn write_change<C>(
    conn: &mut C,
    keys: Option<&AuditKeys>,
    changes: &ChangeSet,
    process: Option<&ProcessData>,
    now: OffsetDateTime,
) -> Result<(), Error>
where
    C: Conn,
    for<'q> LastRow<C::Backend>: LoadQuery<'q, C, AuditRow>,
    for<'q> Deliverable<C::Backend>: LoadQuery<'q, C, SubscriptionRow>,
{
    let chained = chain_audit(conn, keys, &changes.audit).await?;
    let mut rows: Vec<OutboxRow> = changes
        .change
        .notifications
        .iter()
        .map(|intent| OutboxRow::pending(intent, now))
        .collect();
    if let Some(process) = process {
        rows.extend(deliveries(conn, process, &changes.change.events, &chained.events, now).await?);
    }
    match conn.concrete() {
        // The audit rows, the heads they move and the outbox rows in one round trip; a
        // statement stays within the bind parameters PostgreSQL allows at
        // ROWS_PER_STATEMENT rows of each table.
        Concrete::Postgres(pg)
            if chained.events.len() <= ROWS_PER_STATEMENT && rows.len() <= ROWS_PER_STATEMENT =>
        {
            let written = chained.events.len() + rows.len();
            let mut writes = chained.pg_writes();
            if !rows.is_empty() {
                writes.push(Box::new(diesel::insert_into(outbox::table).values(rows)));
            }
            Together::new(writes, written)
                .execute(pg)
                .await
                .unique_as("auditing event")?;
        }
        // A change fanning out to many subscriptions takes several statements.
        _ => {
            chained.write(conn).await?;
            insert_many(conn, outbox::table, rows).await?;
        }
    }
    Ok(())
}

/// When a change happened: its latest event, or now for a change without events. Outbox
/// rows of the change are due from then.
fn change_time(changes: &ChangeSet) -> OffsetDateTime {
    changes
        .change
        .events
        .iter()
        .map(|e| e.occurred_at)
        .chain(changes.audit.iter().map(|a| a.created_at))
        .max()
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// The statuses of an entry that has not acted yet.
fn open_statuses() -> Vec<&'static str> {
    SigningStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect()
}

/// The processes with an entry of the (normalised) personal code `code`.
#[dsl::auto_type]
fn with_personal_code(code: String) -> _ {
    entries::table
        .filter(entries::personal_code_norm.eq(code))
        .select(entries::process_id)
}

/// `q` (`processes`, boxed) narrowed to the processes of `listProcesses` that `f` asks for,
/// deleted ones left out.
fn filtered_processes<'a, DB>(
    q: processes::BoxedQuery<'a, DB>,
    f: &ProcessFilter,
) -> processes::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    PrimitiveDateTime: ToSql<Timestamp, DB>,
    dsl::EqAny<processes::id, with_personal_code>: QueryFragment<DB>,
{
    let mut q = q.filter(processes::deleted_at.is_null());
    if let Some(d) = f.created_after {
        q = q.filter(processes::created_at.ge(day_start(d)));
    }
    if let Some(d) = f.created_before {
        q = q.filter(processes::created_at.lt(day_end(d)));
    }
    if let Some(s) = f.status {
        q = q.filter(processes::status.eq(s.as_str()));
    }
    if let Some(term) = &f.name_search {
        q = q.filter(contains(processes::search_names, term));
    }
    if let Some(term) = &f.email_search {
        q = q.filter(contains(processes::search_emails, term));
    }
    if let Some(code) = &f.personal_code {
        q = q.filter(processes::id.eq_any(with_personal_code(code.clone())));
    }
    if let Some(group) = &f.owner_group {
        q = q.filter(processes::owner_group.eq(group.clone()));
    }
    if let Some(doc_type) = &f.doc_type {
        q = q.filter(processes::document_type.eq(doc_type.clone()));
    }
    q
}

/// Entries joined with their steps and processes: the rows of `listSignerTasks`.
type TaskSource =
    dsl::InnerJoinQuerySource<entries::table, dsl::InnerJoin<steps::table, processes::table>>;

/// `q` (the boxed join of entries, steps and processes) narrowed to the tasks of
/// `listSignerTasks` that `f` asks for.
fn filtered_tasks<'a, ST, DB>(
    q: BoxedSelectStatement<'a, ST, FromClause<TaskSource>, DB>,
    f: &SignerTaskFilter,
) -> BoxedSelectStatement<'a, ST, FromClause<TaskSource>, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    PrimitiveDateTime: ToSql<Timestamp, DB>,
{
    let mut q = q
        .filter(processes::deleted_at.is_null())
        .filter(processes::status.ne(ProcessStatus::Pending.as_str()));
    match &f.owner {
        TaskOwner::Person { person, signer } => {
            q = q
                .filter(entries::personal_code_norm.eq(person.code.clone()))
                .filter(entries::signer_country.eq(person.country.as_str().to_owned()));
            if let Some(signer) = signer {
                q = q.filter(entries::id.eq(DbId::from(*signer)));
            }
        }
        TaskOwner::Anonymous(signer) => {
            q = q
                .filter(entries::id.eq(DbId::from(*signer)))
                .filter(entries::personal_code_norm.is_null());
        }
    }
    if let Some(d) = f.created_after {
        q = q.filter(processes::created_at.ge(day_start(d)));
    }
    if let Some(d) = f.created_before {
        q = q.filter(processes::created_at.lt(day_end(d)));
    }
    if let Some(s) = f.status {
        q = q.filter(processes::status.eq(s.as_str()));
    }
    if let Some(term) = &f.name_search {
        q = q.filter(
            contains(processes::document_name_lower, term)
                .or(contains(processes::initiator_name_lower, term)),
        );
    }
    if f.non_expired {
        q = q.filter(
            steps::due_date
                .is_null()
                .or(steps::due_date.ge(db_time(f.now))),
        );
    }
    q
}

diesel::alias!(steps as by_step: ByStep, entries as by_entry: ByEntry);

/// What a read of one process names it by.
enum Lookup {
    Process(DbId),
    Step(DbId),
    Entry(DbId),
}

impl Db {
    /// The process `lookup` names; a deleted one only when `include_deleted`.
    ///
    /// One statement (the process left-joined with its steps and their entries), so one
    /// snapshot without a transaction: a read is one round trip.
    async fn process_by(
        &self,
        lookup: Lookup,
        include_deleted: bool,
    ) -> Result<Option<SigningProcess>, RepoError> {
        with_db!(self, ReadOne, async |conn| {
            let q = with_children()
                .select((
                    ProcessRow::as_select(),
                    Option::<StepRow>::as_select(),
                    Option::<EntryRow>::as_select(),
                ))
                .order((steps::process_order, entries::position))
                .into_boxed::<Backend>();
            let mut q = match &lookup {
                Lookup::Process(id) => q.filter(processes::id.eq(*id)),
                // The joined tables cannot also name the one row looked up: aliases do.
                Lookup::Step(id) => {
                    let (named, process_id) =
                        (by_step.field(steps::id), by_step.field(steps::process_id));
                    q.filter(processes::id.eq_any(by_step.filter(named.eq(*id)).select(process_id)))
                }
                Lookup::Entry(id) => {
                    let (named, process_id) = (
                        by_entry.field(entries::id),
                        by_entry.field(entries::process_id),
                    );
                    q.filter(
                        processes::id.eq_any(by_entry.filter(named.eq(*id)).select(process_id)),
                    )
                }
            };
            if !include_deleted {
                q = q.filter(processes::deleted_at.is_null());
            }
            let rows = q
                .load::<(ProcessRow, Option<StepRow>, Option<EntryRow>)>(conn)
                .await?;
            assemble_joined(rows)
        })
        .await
    }
}

#[async_trait]
impl ProcessRepository for Db {
    async fn insert(&self, process: &SigningProcess, changes: &ChangeSet) -> Result<(), RepoError> {
        let rows = ProcessRows::of(process);
        let now = change_time(changes);
        with_db!(self, Write, async |conn| {
            claim_idempotency_key(conn, changes, now).await?;
            diesel::insert_into(processes::table)
                .values(&rows.process)
                .execute(conn)
                .await
                .unique_as("process")?;
            // Every process has a chain head from its creation, so a chain deleted whole
            // is seen even when it had no rows yet.
            lock_chain(conn, chain_key(Some(process.id))).await?;
            insert_children(conn, &rows).await?;
            let keys = self.audit_keys.as_deref();
            write_change(conn, keys, changes, Some(process), now).await?;
            Ok(())
        })
        .await
        .inspect(|()| crate::metrics::audit_appended(changes.audit.len()))
    }

    async fn save(
        &self,
        before: &SigningProcess,
        after: &SigningProcess,
        changes: &ChangeSet,
    ) -> Result<(), RepoError> {
        let old = ProcessRows::of(before);
        let rows = ProcessRows::of(after);
        let now = change_time(changes);
        with_db!(self, Write, async |conn| {
            update_process(conn, &rows, before.version, false).await?;
            claim_idempotency_key(conn, changes, now).await?;
            write_children_diff(conn, &old, &rows).await?;
            let keys = self.audit_keys.as_deref();
            write_change(conn, keys, changes, Some(after), now).await?;
            Ok(())
        })
        .await
        .inspect(|()| crate::metrics::audit_appended(changes.audit.len()))
    }

    async fn record(&self, _process: ProcessId, changes: &ChangeSet) -> Result<(), RepoError> {
        let now = change_time(changes);
        with_db!(self, Write, async |conn| {
            claim_idempotency_key(conn, changes, now).await?;
            write_change(conn, self.audit_keys.as_deref(), changes, None, now).await?;
            Ok(())
        })
        .await
        .inspect(|()| crate::metrics::audit_appended(changes.audit.len()))
    }

    async fn get(&self, id: ProcessId) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by(Lookup::Process(id.into()), false).await
    }

    async fn get_including_deleted(
        &self,
        id: ProcessId,
    ) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by(Lookup::Process(id.into()), true).await
    }

    async fn get_by_step(&self, step: StepId) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by(Lookup::Step(step.into()), false).await
    }

    async fn get_by_entry(&self, entry: EntryId) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by(Lookup::Entry(entry.into()), false).await
    }

    async fn list(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest<ProcessSort>,
    ) -> Result<Page<SigningProcess>, RepoError> {
        with_db!(self, Replica, async |conn| {
            let all = || processes::table.into_boxed::<Backend>();
            let count: i64 = filtered_processes(all(), filter)
                .count()
                .get_result(conn)
                .await?;
            let mut q = filtered_processes(all(), filter).select(ProcessRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    ProcessSort::CreatedAt => sorted(q, dir, processes::created_at),
                    ProcessSort::DocumentName => {
                        sorted_nulls_last(q, dir, processes::document_name_lower)
                    }
                    ProcessSort::Status => sorted(q, dir, processes::status),
                    ProcessSort::DocumentType => {
                        sorted_nulls_last(q, dir, processes::document_type)
                    }
                    ProcessSort::CompletedAt => sorted_nulls_last(q, dir, processes::completed_at),
                    ProcessSort::InitiatorName => {
                        sorted_nulls_last(q, dir, processes::initiator_name_lower)
                    }
                };
            }
            let rows = page_of(q, processes::id, page)
                .load::<ProcessRow>(conn)
                .await?;
            let content = load_processes(conn, rows).await?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn search(&self, search: &ProcessSearch) -> Result<Vec<SigningProcess>, RepoError> {
        with_db!(self, ReplicaIf(true, Scan), async |conn| {
            let mut q = processes::table
                .filter(processes::deleted_at.is_null())
                .select(ProcessRow::as_select())
                .into_boxed::<Backend>();
            if let Some(document) = &search.document_id {
                q = q.filter(processes::document_id.eq(document.clone()));
            }
            if let Some(code) = &search.personal_code {
                q = q.filter(processes::id.eq_any(with_personal_code(code.clone())));
            }
            let rows = q
                .order((processes::created_at.desc(), processes::id.desc()))
                .load::<ProcessRow>(conn)
                .await?;
            load_processes(conn, rows).await
        })
        .await
    }

    async fn for_person(&self, person: &PersonKey) -> Result<Vec<SigningProcess>, RepoError> {
        self.processes_with_person(person, false).await
    }

    async fn signer_tasks(
        &self,
        filter: &SignerTaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> Result<Page<SignerTask>, RepoError> {
        // One statement, so one snapshot without a transaction: the page with the count of
        // all its rows beside each. A person's tasks are few, so counting them in the page's
        // plan costs no more than a count of its own. (A page past the last row counts them
        // in a second statement, another read.)
        with_db!(self, ReplicaIf(true, ReadOne), async |conn| {
            let all = || {
                entries::table
                    .inner_join(steps::table.inner_join(processes::table))
                    .into_boxed::<Backend>()
            };
            let mut q = filtered_tasks(all(), filter).select((
                ProcessRow::as_select(),
                StepRow::as_select(),
                EntryRow::as_select(),
                dsl::count_star().over(),
            ));
            for &(field, dir) in &page.sort {
                q = match field {
                    TaskSort::CreatedAt => sorted(q, dir, processes::created_at),
                    TaskSort::DueDate => sorted_nulls_last(q, dir, steps::due_date),
                    TaskSort::DocumentName => {
                        sorted_nulls_last(q, dir, processes::document_name_lower)
                    }
                    TaskSort::ProcessStatus => sorted(q, dir, processes::status),
                };
            }
            let rows = page_of(q, entries::id, page)
                .load::<(ProcessRow, StepRow, EntryRow, i64)>(conn)
                .await?;
            let count = match <[_]>::first(&rows) {
                Some((.., count)) => *count,
                None if page.offset() == 0 => 0,
                // A page past the last row carries no count: counted on its own.
                None => {
                    filtered_tasks(all(), filter)
                        .count()
                        .get_result(conn)
                        .await?
                }
            };
            let mut content = Vec::with_capacity(rows.len());
            for (process, step, entry, _) in rows {
                let process = process.into_data()?;
                let step = step.into_step(Vec::new())?;
                let entry = entry.into_entry()?;
                content.push(SignerTask::of(&process, &step, &entry, filter.now));
            }
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn due_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<SigningProcess>, RepoError> {
        let (from, to) = (db_time(from), db_time(to));
        let roles = [SignerRole::Signer.as_str(), SignerRole::Approver.as_str()];
        let open = open_statuses();
        with_db!(self, Scan, async |conn| {
            let rows = processes::table
                .filter(processes::deleted_at.is_null())
                .filter(processes::status.eq(ProcessStatus::Started.as_str()))
                .filter(
                    processes::id.eq_any(
                        entries::table
                            .inner_join(steps::table)
                            .filter(steps::due_date.ge(from))
                            .filter(steps::due_date.le(to))
                            .filter(entries::signer_role.eq_any(roles))
                            .filter(entries::signing_status.eq_any(open.iter().copied()))
                            .select(entries::process_id),
                    ),
                )
                .order((processes::created_at.asc(), processes::id.asc()))
                .select(ProcessRow::as_select())
                .load::<ProcessRow>(conn)
                .await?;
            load_processes(conn, rows).await
        })
        .await
    }
}

impl Db {
    /// The processes with an entry of `person`, newest first: those the portal shows
    /// (neither deleted nor drafts), or with `everywhere` every one.
    pub(crate) async fn processes_with_person(
        &self,
        person: &PersonKey,
        everywhere: bool,
    ) -> Result<Vec<SigningProcess>, RepoError> {
        let code = person.code.clone();
        let country = person.country.as_str().to_owned();
        // The portal's lookups may lag; an erasure, which writes what it read, may not.
        with_db!(self, ReplicaIf(!everywhere), async |conn| {
            let mut q = processes::table.into_boxed::<Backend>();
            if !everywhere {
                q = q
                    .filter(processes::deleted_at.is_null())
                    .filter(processes::status.ne(ProcessStatus::Pending.as_str()));
            }
            let rows = q
                .filter(
                    processes::id.eq_any(
                        entries::table
                            .filter(entries::personal_code_norm.eq(&code))
                            .filter(entries::signer_country.eq(&country))
                            .select(entries::process_id),
                    ),
                )
                .order((processes::created_at.desc(), processes::id.desc()))
                .select(ProcessRow::as_select())
                .load::<ProcessRow>(conn)
                .await?;
            load_processes(conn, rows).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::plans::{sql_of, sqlite_plan, sqlite_scratch};

    /// A process read with its steps and entries reaches that process's rows only: SQLite
    /// searches each table by an index and neither scans nor materialises one (a read of
    /// one process once scanned every step and entry of the database).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_reads_one_process_and_its_children_by_index() {
        let (_scratch, mut conn) = sqlite_scratch().await;
        let read = with_children()
            .filter(processes::id.eq(DbId(uuid::Uuid::nil())))
            .select((processes::id, steps::id.nullable(), entries::id.nullable()));
        let details = sqlite_plan(&mut conn, &sql_of::<Sqlite, _>(&read))
            .await
            .unwrap();
        assert_eq!(details.len(), 3, "{details:?}");
        assert!(
            details.iter().all(|d| d.starts_with("SEARCH")),
            "{details:?}"
        );
    }
}
