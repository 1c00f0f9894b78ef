//! Multi-row inserts on both backends. diesel-async cannot send SQLite's multi-row `INSERT`
//! (Diesel special-cases it for its synchronous connections only), so on SQLite the
//! statement runs through the synchronous connection on the wrapper's blocking thread; on
//! PostgreSQL it is one async statement. Either way a batch is one statement.

use crate::db::{Concrete, Conn};
use diesel::pg::Pg;
use diesel::query_builder::{InsertStatement, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;
use diesel::{Insertable, QueryResult, Table};

/// The statement that inserts the rows `R` into the table `T`.
type Batch<T, R> = InsertStatement<T, <Vec<R> as Insertable<T>>::Values>;

/// Inserts `rows` into `table` in one statement (none for no rows).
pub(crate) async fn insert_many<C, T, R>(conn: &mut C, table: T, rows: Vec<R>) -> QueryResult<usize>
where
    C: Conn,
    T: Table + Send + 'static,
    R: Send + 'static,
    Vec<R>: Insertable<T>,
    Batch<T, R>: QueryFragment<Pg> + QueryId + Send + ExecuteDsl<SqliteConnection>,
{
    if rows.is_empty() {
        return Ok(0);
    }
    let batch = diesel::insert_into(table).values(rows);
    match conn.concrete() {
        Concrete::Postgres(c) => diesel_async::RunQueryDsl::execute(batch, c).await,
        Concrete::Sqlite(c) => {
            c.spawn_blocking(move |c| diesel::RunQueryDsl::execute(batch, c))
                .await
        }
    }
}

/// `ids` in owned chunks of at most `size`, for `IN (…)` lists of bounded length.
pub(crate) fn chunked(ids: Vec<String>, size: usize) -> Vec<Vec<String>> {
    let mut ids = ids.into_iter().peekable();
    let mut chunks = Vec::new();
    while ids.peek().is_some() {
        chunks.push(ids.by_ref().take(size).collect());
    }
    chunks
}
