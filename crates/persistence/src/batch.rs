//! Multi-row inserts on both backends. diesel-async cannot send SQLite's multi-row `INSERT`
//! (Diesel special-cases it for its synchronous connections only), so on SQLite the
//! statement runs through the synchronous connection on the wrapper's blocking thread; on
//! PostgreSQL it is one async statement. Either way a batch is one statement.

use std::future::Future;

use diesel::pg::Pg;
use diesel::query_builder::{InsertStatement, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;
use diesel::{Insertable, QueryResult, Table};
use diesel_async::AsyncPgConnection;

use crate::db::SqliteConn;

/// The statement that inserts the rows `R` into the table `T`.
type Batch<T, R> = InsertStatement<T, <Vec<R> as Insertable<T>>::Values>;

/// Inserts many rows of one table in one statement.
pub(crate) trait InsertMany {
    /// Inserts `rows` into `table` (no statement for no rows).
    fn insert_many<T, R>(
        &mut self,
        table: T,
        rows: Vec<R>,
    ) -> impl Future<Output = QueryResult<usize>> + Send
    where
        T: Table + Send + 'static,
        R: Send + 'static,
        Vec<R>: Insertable<T>,
        Batch<T, R>: QueryFragment<Pg> + QueryId + Send + ExecuteDsl<SqliteConnection>;
}

impl InsertMany for AsyncPgConnection {
    async fn insert_many<T, R>(&mut self, table: T, rows: Vec<R>) -> QueryResult<usize>
    where
        T: Table + Send + 'static,
        R: Send + 'static,
        Vec<R>: Insertable<T>,
        Batch<T, R>: QueryFragment<Pg> + QueryId + Send + ExecuteDsl<SqliteConnection>,
    {
        if rows.is_empty() {
            return Ok(0);
        }
        diesel_async::RunQueryDsl::execute(diesel::insert_into(table).values(rows), self).await
    }
}

impl InsertMany for SqliteConn {
    async fn insert_many<T, R>(&mut self, table: T, rows: Vec<R>) -> QueryResult<usize>
    where
        T: Table + Send + 'static,
        R: Send + 'static,
        Vec<R>: Insertable<T>,
        Batch<T, R>: QueryFragment<Pg> + QueryId + Send + ExecuteDsl<SqliteConnection>,
    {
        if rows.is_empty() {
            return Ok(0);
        }
        self.spawn_blocking(move |conn| {
            diesel::RunQueryDsl::execute(diesel::insert_into(table).values(rows), conn)
        })
        .await
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
