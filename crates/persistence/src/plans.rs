//! Query plans for tests that pin a statement to an index: the SQL a Diesel query sends, and
//! the plan each backend makes of it without looking at bound values (what SQLite built
//! with `SQLITE_ENABLE_QPSG` always does, and PostgreSQL's generic plan of a statement kept
//! prepared).

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

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
/// `('a', 10)`), one line per text line of `EXPLAIN`. The session must have set
/// `plan_cache_mode = force_generic_plan`.
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
    conn.batch_execute(&format!("PREPARE {name} AS {sql}"))
        .await?;
    let lines = diesel::sql_query(format!("EXPLAIN EXECUTE {name}{arguments}"))
        .load::<Line>(conn)
        .await?;
    Ok(lines.into_iter().map(|line| line.text).collect())
}

/// Whether a plan of either backend reads along `index`: SQLite's "… USING INDEX outbox_due
/// (…", PostgreSQL's "Index Scan using outbox_due on …" or "Bitmap Index Scan on
/// outbox_due  (…".
pub(crate) fn uses(plan: &[String], index: &str) -> bool {
    let word = format!(" {index} ");
    plan.iter().any(|line| line.contains(&word))
}
