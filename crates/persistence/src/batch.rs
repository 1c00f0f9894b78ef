//! Multi-row inserts on both backends. diesel-async cannot send SQLite's multi-row `INSERT`
//! (Diesel special-cases it for its synchronous connections only), so on SQLite the
//! statement runs through the synchronous connection on the wrapper's blocking thread; on
//! PostgreSQL it is one async statement. Either way a batch is one statement per
//! [`ROWS_PER_STATEMENT`] rows.

use crate::db::{Concrete, Conn};
use diesel::pg::Pg;
use diesel::query_builder::{InsertStatement, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;
use diesel::{Insertable, QueryResult, Table};

/// The statement that inserts the rows `R` into the table `T`.
type Batch<T, R> = InsertStatement<T, <Vec<R> as Insertable<T>>::Values>;

/// Most rows one statement inserts. Tables have at most 32 columns (Diesel's
/// `32-column-tables`), so a statement binds at most 32 000 values: within SQLite's limit of
/// 32 766 (and PostgreSQL's 65 535). Row counts with no bound of their own (a change's
/// webhook deliveries are its events times the subscriptions that want them) need it.
pub(crate) const ROWS_PER_STATEMENT: usize = 1000;

/// Inserts `rows` into `table`: one statement per [`ROWS_PER_STATEMENT`] rows (none for no
/// rows).
pub(crate) async fn insert_many<C, T, R>(conn: &mut C, table: T, rows: Vec<R>) -> QueryResult<usize>
where
    C: Conn,
    T: Table + Copy + Send + 'static,
    R: Send + 'static,
    Vec<R>: Insertable<T>,
    Batch<T, R>: QueryFragment<Pg> + QueryId + Send + ExecuteDsl<SqliteConnection>,
{
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<R> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let batch = diesel::insert_into(table).values(chunk);
        inserted += match conn.concrete() {
            Concrete::Postgres(c) => diesel_async::RunQueryDsl::execute(batch, c).await?,
            Concrete::Sqlite(c) => {
                c.spawn_blocking(move |c| diesel::RunQueryDsl::execute(batch, c))
                    .await?
            }
        };
    }
    Ok(inserted)
}

/// `ids` in owned chunks of at most `size`, for `IN (…)` lists of bounded length.
pub(crate) fn chunked<T>(ids: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut ids = ids.into_iter().peekable();
    let mut chunks = Vec::new();
    while ids.peek().is_some() {
        chunks.push(ids.by_ref().take(size).collect());
    }
    chunks
}
