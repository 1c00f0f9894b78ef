//! Query plans for tests that pin a statement to an index: the SQL a Diesel query sends, and
//! the plan each backend makes of it without looking at bound values (what SQLite built
//! with `SQLITE_ENABLE_QPSG` always does, and PostgreSQL's generic plan of a statement kept
//! prepared).

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::Db;
use crate::testing::ScratchDatabase;

/// Brings the database of `url` to the current schema.
#[allow(clippy::unwrap_used)]
async fn migrate(url: &str) {
    Db::connect(url, 1).await.unwrap().migrate().await.unwrap();
}

/// A migrated scratch SQLite file and a connection of its own to it (the scratch must
/// outlive the connection).
///
/// # Panics
/// When the file cannot be made, migrated or opened.
#[allow(clippy::unwrap_used)]
pub(crate) async fn sqlite_scratch() -> (ScratchDatabase, SyncConnectionWrapper<SqliteConnection>) {
    let scratch = ScratchDatabase::sqlite().await;
    migrate(scratch.url()).await;
    let path = scratch.url().trim_start_matches("sqlite://").to_owned();
    let conn = SyncConnectionWrapper::<SqliteConnection>::establish(&path)
        .await
        .unwrap();
    (scratch, conn)
}

/// A migrated scratch PostgreSQL database on `TEST_DATABASE_URL`'s server and a connection
/// to it that plans generically (`plan_cache_mode = force_generic_plan`) and keeps off
/// sequential scans, which a test's small tables would otherwise get: a plan then shows
/// that an index is usable, not that the planner would pick it on real tables. `None`,
/// said on stderr, when `TEST_DATABASE_URL` is unset.
///
/// # Panics
/// When the server is set but the database cannot be made, migrated or reached.
#[allow(clippy::unwrap_used)]
pub(crate) async fn pg_scratch() -> Option<(ScratchDatabase, AsyncPgConnection)> {
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("TEST_DATABASE_URL unset: skipping the PostgreSQL half");
            return None;
        }
    };
    let scratch = ScratchDatabase::postgres(&url).await;
    migrate(scratch.url()).await;
    let mut conn = AsyncPgConnection::establish(scratch.url()).await.unwrap();
    conn.batch_execute("SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off;")
        .await
        .unwrap();
    Some((scratch, conn))
}

/// The SQL of `query` for `DB`, without the list of bound values.
pub(crate) fn sql_of<DB, Q>(query: &Q) -> String
where
    DB: diesel::backend::Backend,
    for<'q> diesel::query_builder::DebugQuery<'q, Q, DB>: std::fmt::Display,
{
    let sql = diesel::debug_query::<DB, _>(query).to_string();
    sql.split(" -- binds").next().unwrap_or_default().to_owned()
}

/// SQLite's plan of `sql`, one line per step ("SEARCH outbox USING INDEX outbox_due …").
pub(crate) async fn sqlite_plan(
    conn: &mut SyncConnectionWrapper<SqliteConnection>,
    sql: &str,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let steps = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<Step>(conn)
        .await?;
    Ok(steps.into_iter().map(|step| step.detail).collect())
}

/// PostgreSQL's generic plan of `sql` (prepared as `name`, executed with `arguments`, e.g.
/// `('a', 10)`), one line per text line of `EXPLAIN`, on a connection of [`pg_scratch`].
pub(crate) async fn pg_generic_plan(
    conn: &mut AsyncPgConnection,
    name: &str,
    sql: &str,
    arguments: &str,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        text: String,
    }
    conn.batch_execute(&format!("PREPARE plan_{name} AS {sql}"))
        .await?;
    let lines = diesel::sql_query(format!("EXPLAIN EXECUTE plan_{name}{arguments}"))
        .load::<Line>(conn)
        .await?;
    Ok(lines.into_iter().map(|line| line.text).collect())
}

/// Whether a plan of either backend reads along `index`, named as a word of a line:
/// SQLite's "… USING INDEX outbox_due (…", PostgreSQL's "Index Scan using outbox_due on …"
/// or "Bitmap Index Scan on outbox_due".
pub(crate) fn uses(plan: &[String], index: &str) -> bool {
    plan.iter()
        .any(|line| line.split_whitespace().any(|word| word == index))
}
