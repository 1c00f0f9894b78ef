//! `ProcessRepository`: processes with their steps and entries, saved with their audit and
//! outbox rows in one transaction (rule 10), and the list, search and portal queries of
//! PRODUCT.md section 6.
//!
//! A save updates the process row only if its `version` is still the expected one (0 rows:
//! `VersionConflict`), then deletes and re-inserts the steps and entries. On PostgreSQL the
//! `UPDATE` locks the row, so a concurrent save of the same version waits and then finds the
//! version moved on; on SQLite the whole transaction holds the write lock
//! (`BEGIN IMMEDIATE`). Soft-deleted processes (`deleted_at` set) are left out of every read.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pas_domain::paging::{Page, PageRequest, ProcessSort, TaskSort};
use pas_domain::ports::{ChangeSet, ProcessRepository, RepoError};
use pas_domain::process::SigningProcess;
use pas_domain::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter, TaskOwner};
use pas_domain::status::{ProcessStatus, SignerRole, SigningStatus};
use pas_domain::task::SignerTask;
use time::OffsetDateTime;

use crate::audit::append_audit;
use crate::batch::InsertMany;
use crate::db::Db;
use crate::error::Classify;
use crate::models::{
    EntryRow, ProcessRow, ProcessRows, StepRow, assemble, day_end, day_start, db_time,
};
use crate::outbox::insert_outbox;
use crate::paging::{offset, sorted, sorted_nulls_last, tie_direction, total};
use crate::schema::{entries, idempotency_keys, processes, steps};
use crate::search::{ESCAPE, contains_pattern};

/// Largest `IN (…)` list sent at once when loading the steps and entries of many processes.
const IN_CHUNK: usize = 500;

/// Loads the steps and entries of the process rows `$rows` (one `IN` query per table and
/// chunk, never one per process) and builds the processes, in the order of `$rows`.
macro_rules! load_processes {
    ($conn:ident, $rows:expr) => {{
        let rows: Vec<ProcessRow> = $rows;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut step_rows: Vec<StepRow> = Vec::new();
        let mut entry_rows: Vec<EntryRow> = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            step_rows.extend(
                steps::table
                    .filter(steps::process_id.eq_any(chunk))
                    .order((steps::process_id, steps::process_order))
                    .select(StepRow::as_select())
                    .load::<StepRow>($conn)
                    .await?,
            );
            entry_rows.extend(
                entries::table
                    .filter(entries::process_id.eq_any(chunk))
                    .order((entries::step_id, entries::position))
                    .select(EntryRow::as_select())
                    .load::<EntryRow>($conn)
                    .await?,
            );
        }
        assemble(rows, step_rows, entry_rows)?
    }};
}

/// Records the idempotency key of a change, or ends the transaction with
/// `Duplicate("idempotency key")` when it was recorded before.
macro_rules! claim_idempotency_key {
    ($conn:ident, $changes:expr, $now:expr) => {
        if let Some(key) = &$changes.idempotency_key {
            let inserted = diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::key.eq(key),
                    idempotency_keys::created_at.eq(db_time($now)),
                ))
                .on_conflict_do_nothing()
                .execute($conn)
                .await?;
            if inserted == 0 {
                return Err(RepoError::Duplicate("idempotency key").into());
            }
        }
    };
}

/// Inserts the steps and entries of `$rows`.
macro_rules! insert_children {
    ($conn:ident, $rows:expr) => {
        InsertMany::insert_steps(&mut *$conn, $rows.steps.clone())
            .await
            .unique_as("step")?;
        InsertMany::insert_entries(&mut *$conn, $rows.entries.clone())
            .await
            .unique_as("signer")?;
    };
}

/// Appends the audit rows and outbox rows of a change.
macro_rules! write_change {
    ($conn:ident, $changes:expr, $now:expr) => {
        append_audit!($conn, &$changes.audit);
        insert_outbox!($conn, &$changes.change.notifications, $now);
    };
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

/// The base query of `listProcesses`: not deleted, every filter of `$filter` applied.
macro_rules! filtered_processes {
    ($filter:expr) => {{
        let f: &ProcessFilter = $filter;
        let mut q = processes::table
            .filter(processes::deleted_at.is_null())
            .into_boxed::<Backend>();
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
                processes::search_names
                    .like(contains_pattern(term))
                    .escape(ESCAPE),
            );
        }
        if let Some(term) = &f.email_search {
            q = q.filter(
                processes::search_emails
                    .like(contains_pattern(term))
                    .escape(ESCAPE),
            );
        }
        if let Some(code) = &f.personal_code {
            q = q.filter(
                processes::id.eq_any(
                    entries::table
                        .filter(entries::personal_code_norm.eq(code.clone()))
                        .select(entries::process_id),
                ),
            );
        }
        if let Some(group) = &f.owner_group {
            q = q.filter(processes::owner_group.eq(group.clone()));
        }
        if let Some(doc_type) = &f.doc_type {
            q = q.filter(processes::document_type.eq(doc_type.clone()));
        }
        q
    }};
}

/// The base query of `listSignerTasks`: entries joined with their steps and processes.
macro_rules! filtered_tasks {
    ($filter:expr) => {{
        let f: &SignerTaskFilter = $filter;
        let mut q = entries::table
            .inner_join(steps::table.inner_join(processes::table))
            .filter(processes::deleted_at.is_null())
            .filter(processes::status.ne(ProcessStatus::Pending.as_str()))
            .into_boxed::<Backend>();
        match &f.owner {
            TaskOwner::Person { person, signer } => {
                q = q
                    .filter(entries::personal_code_norm.eq(person.code.clone()))
                    .filter(entries::signer_country.eq(person.country.as_str().to_owned()));
                if let Some(signer) = signer {
                    q = q.filter(entries::id.eq(signer.to_string()));
                }
            }
            TaskOwner::Anonymous(signer) => {
                q = q
                    .filter(entries::id.eq(signer.to_string()))
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
            let pattern = contains_pattern(term);
            q = q.filter(
                processes::document_name_lower
                    .like(pattern.clone())
                    .escape(ESCAPE)
                    .or(processes::initiator_name_lower.like(pattern).escape(ESCAPE)),
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
    }};
}

impl Db {
    /// One process by id; a deleted one only when `include_deleted`.
    async fn process_by_id(
        &self,
        id: pas_domain::ids::ProcessId,
        include_deleted: bool,
    ) -> Result<Option<SigningProcess>, RepoError> {
        let id = id.to_string();
        with_db!(self, Read, async |conn| {
            let mut q = processes::table
                .filter(processes::id.eq(&id))
                .select(ProcessRow::as_select())
                .into_boxed::<Backend>();
            if !include_deleted {
                q = q.filter(processes::deleted_at.is_null());
            }
            let rows = q.load::<ProcessRow>(conn).await?;
            Ok(load_processes!(conn, rows).pop())
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
            claim_idempotency_key!(conn, changes, now);
            let inserted = diesel::insert_into(processes::table)
                .values(&rows.process)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return Err(RepoError::Duplicate("process").into());
            }
            insert_children!(conn, rows);
            write_change!(conn, changes, now);
            Ok(())
        })
        .await
    }

    async fn save(
        &self,
        process: &SigningProcess,
        expected_version: i64,
        changes: &ChangeSet,
    ) -> Result<(), RepoError> {
        let rows = ProcessRows::of(process);
        let now = change_time(changes);
        let id = rows.process.id.clone();
        with_db!(self, Write, async |conn| {
            let updated = diesel::update(
                processes::table
                    .filter(processes::id.eq(&id))
                    .filter(processes::version.eq(expected_version))
                    .filter(processes::deleted_at.is_null()),
            )
            .set(&rows.process)
            .execute(conn)
            .await?;
            if updated == 0 {
                return Err(RepoError::VersionConflict {
                    expected: expected_version,
                }
                .into());
            }
            claim_idempotency_key!(conn, changes, now);
            diesel::delete(entries::table.filter(entries::process_id.eq(&id)))
                .execute(conn)
                .await?;
            diesel::delete(steps::table.filter(steps::process_id.eq(&id)))
                .execute(conn)
                .await?;
            insert_children!(conn, rows);
            write_change!(conn, changes, now);
            Ok(())
        })
        .await
    }

    async fn record(
        &self,
        _process: pas_domain::ids::ProcessId,
        changes: &ChangeSet,
    ) -> Result<(), RepoError> {
        let now = change_time(changes);
        with_db!(self, Write, async |conn| {
            claim_idempotency_key!(conn, changes, now);
            write_change!(conn, changes, now);
            Ok(())
        })
        .await
    }

    async fn get(
        &self,
        id: pas_domain::ids::ProcessId,
    ) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by_id(id, false).await
    }

    async fn get_including_deleted(
        &self,
        id: pas_domain::ids::ProcessId,
    ) -> Result<Option<SigningProcess>, RepoError> {
        self.process_by_id(id, true).await
    }

    async fn get_by_step(
        &self,
        step: pas_domain::ids::StepId,
    ) -> Result<Option<SigningProcess>, RepoError> {
        let step = step.to_string();
        with_db!(self, Read, async |conn| {
            let rows = processes::table
                .filter(
                    processes::id.eq_any(
                        steps::table
                            .filter(steps::id.eq(&step))
                            .select(steps::process_id),
                    ),
                )
                .filter(processes::deleted_at.is_null())
                .select(ProcessRow::as_select())
                .load::<ProcessRow>(conn)
                .await?;
            Ok(load_processes!(conn, rows).pop())
        })
        .await
    }

    async fn get_by_entry(
        &self,
        signer: pas_domain::ids::EntryId,
    ) -> Result<Option<SigningProcess>, RepoError> {
        let signer = signer.to_string();
        with_db!(self, Read, async |conn| {
            let rows = processes::table
                .filter(
                    processes::id.eq_any(
                        entries::table
                            .filter(entries::id.eq(&signer))
                            .select(entries::process_id),
                    ),
                )
                .filter(processes::deleted_at.is_null())
                .select(ProcessRow::as_select())
                .load::<ProcessRow>(conn)
                .await?;
            Ok(load_processes!(conn, rows).pop())
        })
        .await
    }

    async fn list(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest<ProcessSort>,
    ) -> Result<Page<SigningProcess>, RepoError> {
        with_db!(self, Read, async |conn| {
            let count: i64 = filtered_processes!(filter).count().get_result(conn).await?;
            let mut q = filtered_processes!(filter).select(ProcessRow::as_select());
            for (field, dir) in &page.sort {
                q = match field {
                    ProcessSort::CreatedAt => sorted!(q, dir, processes::created_at),
                    ProcessSort::DocumentName => {
                        sorted_nulls_last!(q, dir, processes::document_name_lower)
                    }
                    ProcessSort::Status => sorted!(q, dir, processes::status),
                    ProcessSort::DocumentType => {
                        sorted_nulls_last!(q, dir, processes::document_type)
                    }
                    ProcessSort::CompletedAt => sorted_nulls_last!(q, dir, processes::completed_at),
                    ProcessSort::InitiatorName => {
                        sorted_nulls_last!(q, dir, processes::initiator_name_lower)
                    }
                };
            }
            let tie = tie_direction(page);
            q = sorted!(q, tie, processes::id);
            let rows = q
                .limit(i64::from(page.size))
                .offset(offset(page))
                .load::<ProcessRow>(conn)
                .await?;
            let content = load_processes!(conn, rows);
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn search(&self, search: &ProcessSearch) -> Result<Vec<SigningProcess>, RepoError> {
        with_db!(self, Read, async |conn| {
            let mut q = processes::table
                .filter(processes::deleted_at.is_null())
                .select(ProcessRow::as_select())
                .into_boxed::<Backend>();
            if let Some(document) = &search.document_id {
                q = q.filter(processes::document_id.eq(document.clone()));
            }
            if let Some(code) = &search.personal_code {
                q = q.filter(
                    processes::id.eq_any(
                        entries::table
                            .filter(entries::personal_code_norm.eq(code.clone()))
                            .select(entries::process_id),
                    ),
                );
            }
            let rows = q
                .order((processes::created_at.desc(), processes::id.desc()))
                .load::<ProcessRow>(conn)
                .await?;
            Ok(load_processes!(conn, rows))
        })
        .await
    }

    async fn for_person(&self, person: &PersonKey) -> Result<Vec<SigningProcess>, RepoError> {
        let code = person.code.clone();
        let country = person.country.as_str().to_owned();
        with_db!(self, Read, async |conn| {
            let rows = processes::table
                .filter(processes::deleted_at.is_null())
                .filter(processes::status.ne(ProcessStatus::Pending.as_str()))
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
            Ok(load_processes!(conn, rows))
        })
        .await
    }

    async fn signer_tasks(
        &self,
        filter: &SignerTaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> Result<Page<SignerTask>, RepoError> {
        with_db!(self, Read, async |conn| {
            let count: i64 = filtered_tasks!(filter).count().get_result(conn).await?;
            let mut q = filtered_tasks!(filter).select((
                ProcessRow::as_select(),
                StepRow::as_select(),
                EntryRow::as_select(),
            ));
            for (field, dir) in &page.sort {
                q = match field {
                    TaskSort::CreatedAt => sorted!(q, dir, processes::created_at),
                    TaskSort::DueDate => sorted_nulls_last!(q, dir, steps::due_date),
                    TaskSort::DocumentName => {
                        sorted_nulls_last!(q, dir, processes::document_name_lower)
                    }
                    TaskSort::ProcessStatus => sorted!(q, dir, processes::status),
                };
            }
            let tie = tie_direction(page);
            q = sorted!(q, tie, entries::id);
            let rows = q
                .limit(i64::from(page.size))
                .offset(offset(page))
                .load::<(ProcessRow, StepRow, EntryRow)>(conn)
                .await?;
            let mut content = Vec::with_capacity(rows.len());
            for (process, step, entry) in rows {
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
        with_db!(self, Read, async |conn| {
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
            Ok(load_processes!(conn, rows))
        })
        .await
    }
}
