//! Pools, connecting, migrating, and running one diesel-async body on either backend.
//!
//! Both backends live in one binary: [`Db`] holds a deadpool pool of `AsyncPgConnection`s or
//! of `SyncConnectionWrapper<SqliteConnection>`s (their blocking calls on [`BlockingPool`]).
//! The [`with_db!`] macro is the one dispatch: it picks the pool and passes an async closure
//! over the concrete connection to [`run`], so a method body is written once and compiled
//! once per backend with concrete types. Code shared between bodies is plain functions,
//! generic over [`Sql`] (query builders) or [`Conn`] (helpers that run statements).
//!
//! Transactions ([`Tx`]):
//! - `Write`: PostgreSQL `BEGIN` (READ COMMITTED; row locks and the version check serialise
//!   what must be serialised); SQLite `BEGIN IMMEDIATE`, which takes the database's write
//!   lock up front, so concurrent writers queue on `busy_timeout` instead of failing with
//!   "database is locked" when a deferred transaction tries to upgrade.
//! - `Read`: one consistent snapshot for reads of several statements (a page and its count, a
//!   process and its steps): PostgreSQL `REPEATABLE READ READ ONLY`, SQLite a deferred
//!   `BEGIN` (a WAL read transaction).
//! - `Scan`: a read snapshot like `Read`, for reads whose cost grows with the database.
//! - `None`: single statements; behind a transaction pooler ([`DbOptions::statement_cache`]
//!   off) a plain `BEGIN` as well, see [`begin`].
//! - `ReadOne`: a single statement that only reads; behind a transaction pooler a read
//!   snapshot.
//!
//! On SQLite, a short read (`ReadOne`, `Read`) makes its blocking calls on the thread that
//! polls it ([`on_this_thread`]); long reads (`Scan`) and writes make them on
//! [`BlockingPool`].
//!
//! An operation whose future is dropped half-way (a client went away) closes its connection
//! instead of returning it to the pool ([`Leased`]), so an open transaction and its locks end
//! at once.
//!
//! Every operation is bounded by the timeout of [`DbOptions`] (`DATABASE_TIMEOUT_MS`): the
//! pool's wait, create and recycle timeouts bound taking a connection; on PostgreSQL a tokio
//! timeout around the whole [`run`] bounds the statements and the transaction as well (the
//! connection is then closed, not returned); on SQLite the writer turn and `busy_timeout`
//! are bounded by it. Running out of time, a refused or broken connection, and a database
//! locked by another process are `RepoError::Unavailable` (503 at the HTTP edge).

use std::path::Path;
use std::time::Duration;

use deadpool::managed::{Manager, Object};
use diesel::backend::{Backend, DieselReserveSpecialization};
use diesel::connection::AnsiTransactionManager as SyncTransactionManager;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{HasSqlType, Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl,
    SimpleAsyncConnection, TransactionManager,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use pas_domain::ports::RepoError;

use crate::error::Error;
use crate::tls::PgTarget;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A future that runs the async closure `body` with a pooled connection `conn` of whichever
/// backend `db` has, inside the transaction `Tx::$tx`, and maps the result to
/// `Result<_, RepoError>` (see [`run`]).
///
/// This is the one place a repository method chooses its backend: the closure is compiled
/// once per backend with the concrete connection type, and in it the type alias `Backend`
/// names the backend (for `into_boxed::<Backend>()`). It evaluates to
/// `Result<T, crate::error::Error>`; `?` works on Diesel errors and on `RepoError`s.
///
/// `Replica` is a read snapshot on the read replica (`DATABASE_READ_URL`) when there is one
/// and it answers, else on the primary (PRODUCT.md section 13): for reads that may lag by the
/// replication delay (lists, portal lookups, audit reads), never for reads of one process by
/// id; `ReplicaIf(cond)` when that depends on the call, `ReplicaIf(cond, ReadOne)` for a
/// read of one statement (no transaction around it), `ReplicaIf(cond, Scan)` for a read whose
/// cost grows with the database ([`Tx`]). The body is compiled for the replica and again for
/// the primary.
macro_rules! with_db {
    ($db:expr, Replica, async |$conn:ident| $body:block) => {
        with_db!($db, ReplicaIf(true, Read), async |$conn| $body)
    };
    ($db:expr, ReplicaIf($lag_ok:expr), async |$conn:ident| $body:block) => {
        with_db!($db, ReplicaIf($lag_ok, Read), async |$conn| $body)
    };
    ($db:expr, ReplicaIf($lag_ok:expr, $tx:ident), async |$conn:ident| $body:block) => {
        async {
            let replica = $db.replica.as_ref().filter(|r| $lag_ok && r.in_use());
            if let Some(replica) = replica {
                #[allow(dead_code)]
                type Backend = ::diesel::pg::Pg;
                let body = async |$conn: &mut ::diesel_async::AsyncPgConnection| $body;
                let read = $crate::db::run(&replica.pool, $crate::db::Tx::$tx, $db.pooled, body);
                match $crate::db::bounded($db.timeout, read).await {
                    Err(::pas_domain::ports::RepoError::Unavailable(reason)) => {
                        replica.fell_back(&$db.scrub(&reason));
                    }
                    done => return done,
                }
            }
            with_db!($db, $tx, async |$conn| $body).await
        }
    };
    ($db:expr, $tx:ident, async |$conn:ident| $body:block) => {
        async {
            let tx = $crate::db::Tx::$tx;
            match &$db.pools {
                $crate::db::Pools::Sqlite(pool) => {
                    #[allow(dead_code)]
                    type Backend = ::diesel::sqlite::Sqlite;
                    // Writers take turns here, held until commit, before they hold a
                    // connection: waiting on SQLite's busy handler instead would sleep in
                    // growing steps (up to 100 ms) and leave the write lock idle.
                    let _turn = match tx {
                        $crate::db::Tx::Write => Some($db.writer_turn().await?),
                        _ => None,
                    };
                    let body = async |$conn: &mut $crate::db::SqliteConn| $body;
                    let run = $crate::db::run(pool, tx, false, body);
                    if tx.runs_on_caller() {
                        $crate::db::on_this_thread(run).await
                    } else {
                        run.await
                    }
                }
                $crate::db::Pools::Postgres(pool) => {
                    #[allow(dead_code)]
                    type Backend = ::diesel::pg::Pg;
                    let body = async |$conn: &mut ::diesel_async::AsyncPgConnection| $body;
                    // Dropping `run` on time-out closes its connection (`Leased`).
                    let run = $crate::db::run(pool, tx, $db.pooled, body);
                    $crate::db::bounded($db.timeout, run).await
                }
            }
        }
    };
}

/// Runs `body` on a connection of `pool` inside the transaction `tx`: begins it, commits
/// after success, rolls back after failure; the connection goes back to the pool, or is
/// closed if this future is dropped half-way ([`Leased`]). `pooled`: the connection goes
/// through a transaction pooler ([`begin`]).
pub(crate) async fn run<C, T>(
    pool: &Pool<C>,
    tx: Tx,
    pooled: bool,
    body: impl AsyncFnOnce(&mut C) -> Result<T, Error>,
) -> Result<T, RepoError>
where
    C: Conn,
    AsyncDieselConnectionManager<C>: Manager<Type = C, Error = PoolError>,
{
    // A single statement outside a transaction is not one unit to a transaction pooler.
    let tx = match tx {
        Tx::None if pooled => Tx::Write,
        Tx::ReadOne if pooled => Tx::Read,
        tx => tx,
    };
    let mut leased = Leased::checkout(pool).await.map_err(Error::into_repo)?;
    let mut reusable = true;
    let result = async {
        let conn = leased.conn()?;
        reads_only(conn, tx, true).await?;
        let result = async {
            begin(conn, tx, pooled).await?;
            let result = body(&mut *conn).await;
            tx.finish(conn, result).await
        }
        .await;
        // Whatever happened, the guard comes off; a connection it cannot come off is
        // closed, never handed to a writer.
        if let Err(e) = reads_only(conn, tx, false).await {
            reusable = false;
            return Err(e);
        }
        result
    }
    .await;
    if reusable {
        leased.release();
    }
    result.map_err(Error::into_repo)
}

/// In debug builds, every test among them, a SQLite body that runs on the calling thread
/// ([`Tx::runs_on_caller`]) may not write (`PRAGMA query_only`, set with `on` and cleared
/// after): such a write would wait for SQLite's write lock on an HTTP worker. Release
/// builds skip the two statements.
async fn reads_only(conn: &mut impl Conn, tx: Tx, on: bool) -> Result<(), Error> {
    if !cfg!(debug_assertions) || !tx.runs_on_caller() {
        return Ok(());
    }
    if let Concrete::Sqlite(c) = conn.concrete() {
        let pragma = if on {
            "PRAGMA query_only = 1"
        } else {
            "PRAGMA query_only = 0"
        };
        c.batch_execute(pragma).await?;
    }
    Ok(())
}

/// `operation`, or `RepoError::Unavailable` once `limit` has passed (the operation is
/// dropped, which closes its connection).
pub(crate) async fn bounded<T>(
    limit: Duration,
    operation: impl Future<Output = Result<T, RepoError>>,
) -> Result<T, RepoError> {
    tokio::time::timeout(limit, operation)
        .await
        .unwrap_or_else(|_| Err(timed_out(limit)))
}

fn unavailable(e: impl std::fmt::Display) -> RepoError {
    RepoError::Unavailable(format!("database pool: {e}"))
}

fn timed_out(limit: Duration) -> RepoError {
    RepoError::Unavailable(format!(
        "no answer from the database within {} ms",
        limit.as_millis()
    ))
}

/// The SQLite connection type of the pool: its blocking calls run on [`BlockingPool`].
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection, BlockingPool>;

/// Where SQLite connections make their blocking calls: the blocking pool of the runtime that
/// opened the database, whichever thread borrows them; inside [`on_this_thread`] (short
/// reads), the thread that polls the call.
///
/// diesel-async's default is the runtime that established the connection, which on first use
/// is an HTTP worker's own: it ends when that worker stops in a graceful stop, while other
/// workers may still borrow the connection, and each worker's runtime keeps blocking threads
/// of its own. The default also waits with `block_in_place` for the call of a dropped future,
/// which panics on a worker's current-thread runtime ([`BlockingCall`] waits without it).
pub(crate) struct BlockingPool(tokio::runtime::Handle);

tokio::task_local! {
    /// Set while a short SQLite read runs ([`on_this_thread`]).
    static ON_THIS_THREAD: ();
}

/// Runs the SQLite calls of `read` on the thread that polls it, not on [`BlockingPool`].
///
/// A read in WAL mode waits for no lock, and its statements take microseconds to a few
/// milliseconds of CPU, which a blocking thread would spend on the same two cores after
/// two hand-offs between threads per call (a wake-up there and one back). Writes stay on
/// the blocking pool: they may wait for another process's write lock (`busy_timeout`),
/// which would hold up every request of the HTTP worker they ran on; so do reads whose cost
/// grows with the database ([`Tx::Scan`]).
pub(crate) async fn on_this_thread<F: Future>(read: F) -> F::Output {
    ON_THIS_THREAD.scope((), read).await
}

impl diesel_async::sync_connection_wrapper::SpawnBlocking for BlockingPool {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> std::pin::Pin<
        Box<
            dyn Future<Output = Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
                + Send
                + 'a,
        >,
    >
    where
        R: Send + 'static,
    {
        if ON_THIS_THREAD.try_with(|_| ()).is_ok() {
            return Box::pin(std::future::ready(Ok(task())));
        }
        let (ended, has_ended) = std::sync::mpsc::sync_channel(1);
        let call = self.0.spawn_blocking(move || {
            let result = task();
            let _ = ended.send(());
            result
        });
        let call = BlockingCall { call, has_ended };
        Box::pin(async move { call.await.map_err(Box::from) })
    }

    /// The current runtime (used by diesel-async's own `establish`; [`establish_sqlite`]
    /// names the runtime). Like `tokio::spawn`, it must be called inside one, as every
    /// connection of this crate is.
    fn get_runtime() -> Self {
        Self(tokio::runtime::Handle::current())
    }
}

/// What the query builders need of a backend besides `Backend`; PostgreSQL and SQLite have
/// it. Rust implies only bounds on `Self` from a trait, so a builder still states what it
/// needs of other types (`str: ToSql<Text, DB>`, an `IN` of its own).
pub(crate) trait Sql:
    Backend
    + DieselReserveSpecialization
    + HasSqlType<Text>
    + HasSqlType<Timestamp>
    + crate::columns::Stores
    + 'static
{
}

impl Sql for Pg {}
impl Sql for Sqlite {}

/// A pooled connection of either backend: what the functions written once for both take.
/// The few statements that differ per backend match on [`Conn::concrete`].
pub(crate) trait Conn: AsyncConnection {
    /// This connection as the backend's own type.
    fn concrete(&mut self) -> Concrete<'_>;
}

/// A connection as its backend's own type.
pub(crate) enum Concrete<'a> {
    Postgres(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn),
}

impl Conn for SqliteConn {
    fn concrete(&mut self) -> Concrete<'_> {
        Concrete::Sqlite(self)
    }
}

impl Conn for AsyncPgConnection {
    fn concrete(&mut self) -> Concrete<'_> {
        Concrete::Postgres(self)
    }
}

/// Runs the statement `query` (an `UPDATE` or `DELETE` written once for both backends) on
/// `conn`; the number of rows it touched.
pub(crate) async fn execute<C, Q>(conn: &mut C, query: Q) -> diesel::QueryResult<usize>
where
    C: Conn,
    Q: diesel_async::methods::ExecuteDsl<AsyncPgConnection>
        + diesel_async::methods::ExecuteDsl<SqliteConn>
        + Send,
{
    use diesel_async::methods::ExecuteDsl;
    match conn.concrete() {
        Concrete::Postgres(pg) => ExecuteDsl::execute(query, pg).await,
        Concrete::Sqlite(lite) => ExecuteDsl::execute(query, lite).await,
    }
}

/// A statement kept prepared on its connection although Diesel would prepare it anew on
/// every call. Diesel never keeps an `UPDATE`, a raw `sql_query`, a multi-row `INSERT` or a
/// literal prepared, because their text can vary with values while their type stays the same,
/// and its cache is keyed by type; this wrapper has no type key, so its cache key is the
/// statement's text and bind types, which is exact. Each statement not kept costs a round
/// trip to prepare and a plan every time: five of a sign's nine were such statements. Only
/// for statements whose text comes in few shapes (every shape is one prepared statement per
/// connection); without a statement cache (a transaction pooler) nothing is kept anyway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        self.0.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// A PostgreSQL statement, boxed so that statements of different shapes go into one
/// [`Together`].
pub(crate) type PgStatement<'a> = Box<dyn QueryFragment<Pg> + Send + 'a>;

/// Writes that nothing later in their transaction reads, sent to PostgreSQL as one statement
/// (`WITH w0 AS (first), w1 AS (second) last`): one round trip instead of one per write.
/// PostgreSQL runs the sub-statements of a `WITH` on one snapshot and in no set order, so
/// they must not depend on each other's effects; the rows they update must already be
/// locked by the transaction (or be new), so that the order they are locked in does not
/// matter. One failing fails them all, as one statement.
/// Writes of at most [`FEW_ROWS`] rows in all stay prepared on their connection
/// ([`Prepared`]): their text has one shape per row count, and such changes (a sign, a
/// read's audit row) come in few of them.
pub(crate) struct Together<'a> {
    statements: Vec<PgStatement<'a>>,
    kept: bool,
}

/// Most rows a [`Together`] writes and still stays prepared.
pub(crate) const FEW_ROWS: usize = 16;

impl<'a> Together<'a> {
    /// `statements`, in the order they are written out, writing `rows` rows in all.
    pub(crate) fn new(statements: Vec<PgStatement<'a>>, rows: usize) -> Self {
        Self {
            statements,
            kept: rows <= FEW_ROWS,
        }
    }

    /// Runs the statements as one on `conn` (nothing when there are none).
    pub(crate) async fn execute(self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        if !self.statements.is_empty() {
            RunQueryDsl::execute(self, conn).await?;
        }
        Ok(())
    }
}

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        let Some((last, first)) = self.statements.split_last() else {
            return Ok(());
        };
        for (i, statement) in first.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{i} AS ("));
            statement.walk_ast(out.reborrow())?;
            out.push_sql(") ");
        }
        last.walk_ast(out)
    }

    fn is_safe_to_cache_prepared(&self, backend: &Pg) -> diesel::QueryResult<bool> {
        if self.kept {
            return Ok(true);
        }
        for statement in &self.statements {
            // Through the box: `Box`'s own answer would walk the statement and miss an
            // override such as `Prepared`'s.
            if !(**statement).is_safe_to_cache_prepared(backend)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Begins the transaction `tx` on `conn`.
///
/// `pooled` (PostgreSQL behind a transaction pooler such as PgBouncer 1.18, which hands out
/// a server connection per transaction and cannot carry prepared statements): tokio-postgres
/// prepares every statement under a process-wide name (`s1`, `s2`, …); a name left on a
/// server connection by any client of the pool (a Close that reached another server
/// connection than its Parse, a client gone mid-statement) would make another instance's
/// Parse of the same name fail. The transaction therefore starts by dropping what the
/// server connection it got still holds, in the same round trip as its `BEGIN`.
async fn begin(conn: &mut impl Conn, tx: Tx, pooled: bool) -> Result<(), Error> {
    match (conn.concrete(), tx) {
        (_, Tx::None | Tx::ReadOne) => {}
        (Concrete::Sqlite(c), tx) => {
            let sql = if tx.is_snapshot() {
                "BEGIN DEFERRED"
            } else {
                "BEGIN IMMEDIATE"
            };
            c.spawn_blocking(move |c| SyncTransactionManager::begin_transaction_sql(c, sql))
                .await?;
        }
        (Concrete::Postgres(c), tx) => {
            let sql = match (tx, pooled) {
                (Tx::Read | Tx::Scan, false) => {
                    "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                }
                (Tx::Read | Tx::Scan, true) => {
                    "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; DEALLOCATE ALL"
                }
                (_, false) => "BEGIN",
                (_, true) => "BEGIN; DEALLOCATE ALL",
            };
            AnsiTransactionManager::begin_transaction_sql(c, sql).await?;
        }
    }
    Ok(())
}

pub(crate) const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations =
    embed_migrations!("../../migrations/sqlite");

/// Set on every SQLite connection: foreign keys are off by default in SQLite; a writer waits
/// up to the database timeout for a write lock another process holds (`busy_timeout`, set
/// apart); WAL lets readers run beside the one writer.
const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA journal_mode = WAL;";

/// Key of the advisory lock that keeps two instances from migrating at once ([`migrate_pg`]).
const PG_MIGRATION_LOCK: i64 = 0x7061_735f_6d69_6772;

/// How the pool is sized and how long an operation may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// Most connections open at once (`DATABASE_POOL_SIZE`; at least 1).
    pub pool_size: usize,
    /// Longest wait for a connection, and on PostgreSQL for a whole operation
    /// (`DATABASE_TIMEOUT_MS`); past it the operation is `RepoError::Unavailable`.
    pub timeout: Duration,
    /// Whether PostgreSQL connections keep their prepared statements
    /// (`DATABASE_STATEMENT_CACHE`); off behind a pooler that cannot carry them across
    /// server connections (PgBouncer before 1.21 in transaction mode).
    pub statement_cache: bool,
}

impl DbOptions {
    /// The default bound of an operation (`DATABASE_TIMEOUT_MS`).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(2000);

    /// `pool_size` connections with the default timeout.
    pub fn with_pool_size(pool_size: usize) -> Self {
        Self {
            pool_size,
            timeout: Self::DEFAULT_TIMEOUT,
            statement_cache: true,
        }
    }
}

/// Why the database could not be opened or migrated. Messages name the problem and the
/// database (user, host, port, name or file), never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The URL names neither backend.
    #[error(
        "the database URL must start with sqlite:// or postgres:// (it starts with {scheme:?})"
    )]
    UnsupportedUrl {
        /// What the URL starts with, up to its first `:`.
        scheme: String,
    },
    /// The directory of the SQLite file could not be created.
    #[error("cannot create the directory {path} for the SQLite database: {reason}")]
    CreateDirectory {
        /// The directory.
        path: String,
        /// The operating system's answer.
        reason: String,
    },
    /// The PostgreSQL URL does not parse.
    #[error("the PostgreSQL URL {target} is not valid: {reason}")]
    InvalidUrl {
        /// The URL without its password.
        target: String,
        /// The driver's answer, without the password.
        reason: String,
    },
    /// The pool could not be built.
    #[error("cannot set up the {backend} connection pool: {reason}")]
    Pool {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// Why.
        reason: String,
    },
    /// No connection could be opened.
    #[error("cannot connect to the {backend} database {target}: {reason}")]
    Unreachable {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The URL without its password.
        target: String,
        /// The driver's answer, without the password.
        reason: String,
    },
    /// The migrations failed.
    #[error("cannot migrate the {backend} database {target}: {reason}")]
    Migration {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The URL without its password.
        target: String,
        /// Why.
        reason: String,
    },
}

/// The database: a pool of PostgreSQL or SQLite connections. Cheap to clone (the pool is
/// reference-counted); implements every store port of `pas_domain::ports`.
#[derive(Clone)]
pub struct Db {
    pub(crate) pools: Pools,
    /// The turn of SQLite write transactions (one writer at a time is all SQLite allows).
    pub(crate) sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The bound of one operation (`DATABASE_TIMEOUT_MS`).
    pub(crate) timeout: Duration,
    /// The URL without its password, for messages.
    target: std::sync::Arc<str>,
    /// Words that must not appear in messages (the password).
    secrets: std::sync::Arc<[String]>,
    /// The keys of the audit chain ([`Db::with_audit_keys`]); without them appends fail.
    pub(crate) audit_keys: Option<std::sync::Arc<pas_domain::audit::AuditKeys>>,
    /// The read replica ([`Db::with_replica`]).
    pub(crate) replica: Option<std::sync::Arc<Replica>>,
    /// PostgreSQL behind a transaction pooler (`DATABASE_STATEMENT_CACHE=false`): every
    /// statement runs inside a transaction ([`begin`]).
    pub(crate) pooled: bool,
}

/// A read replica (`DATABASE_READ_URL`) and how often reads fell back from it.
pub(crate) struct Replica {
    pub(crate) pool: Pool<AsyncPgConnection>,
    fallbacks: std::sync::atomic::AtomicU64,
    /// After a failure the replica is left alone for [`REPLICA_PAUSE`], so that reads do not
    /// each wait out the time-out of an unreachable replica before falling back.
    resting_until: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How long reads skip a replica that failed.
const REPLICA_PAUSE: Duration = Duration::from_secs(5);

impl Replica {
    /// Whether reads go to the replica now.
    pub(crate) fn in_use(&self) -> bool {
        let resting = self
            .resting_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        resting.is_none_or(|until| std::time::Instant::now() >= until)
    }

    /// A read could not use the replica and goes to the primary.
    pub(crate) fn fell_back(&self, reason: &str) {
        let n = self
            .fallbacks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *self
            .resting_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(std::time::Instant::now() + REPLICA_PAUSE);
        if n % 100 == 0 {
            tracing::warn!(
                fallbacks = n + 1,
                error = reason,
                "the read replica is unavailable; reads go to the primary"
            );
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend_name())
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The pool of one backend.
#[derive(Clone)]
pub(crate) enum Pools {
    /// An embedded SQLite file.
    Sqlite(Pool<SqliteConn>),
    /// A PostgreSQL server.
    Postgres(Pool<AsyncPgConnection>),
}

impl Db {
    /// Opens a pool of at most `pool_size` connections (at least 1) for `sqlite://PATH`
    /// (the file and its directory are created when missing) or `postgres://…`
    /// (`postgresql://` too), with the default timeout, and checks that one connection opens.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Db, ConnectError> {
        Self::connect_with(url, DbOptions::with_pool_size(pool_size)).await
    }

    /// [`Db::open`], then checks that one connection opens (within the timeout).
    pub async fn connect_with(url: &str, options: DbOptions) -> Result<Db, ConnectError> {
        let db = Self::open(url, options)?;
        db.ping().await.map_err(|e| db.unreachable(&e))?;
        Ok(db)
    }

    /// Sets up the pool without connecting: only a URL that cannot work (another scheme,
    /// a PostgreSQL URL that does not parse, a SQLite directory that cannot be created) is
    /// an error. Connections open on first use, so the service can start before its
    /// database is reachable.
    ///
    /// Call it on the runtime that lives as long as the pool (the service's main one):
    /// PostgreSQL connections run their I/O there and SQLite connections their blocking
    /// calls (`BlockingPool`). Outside a runtime, each connection uses the runtime it is
    /// first made on.
    pub fn open(url: &str, options: DbOptions) -> Result<Db, ConnectError> {
        let size = options.pool_size.max(1);
        let timeout = options.timeout;
        let target: std::sync::Arc<str> = redact(url).into();
        let secrets: std::sync::Arc<[String]> = secrets(url).into();
        let scrub = |text: String| {
            secrets
                .iter()
                .fold(text, |t, s| t.replace(s.as_str(), "***"))
        };
        let pools = if let Some(path) = sqlite_path(url) {
            create_parent(path)?;
            let mut config = ManagerConfig::default();
            // A SQLite connection is a file handle in this process: nothing to check on reuse.
            config.recycling_method = RecyclingMethod::Fast;
            let busy_ms = timeout.as_millis();
            let cache_kib = sqlite_cache_kib(size);
            // Blocking calls go to the runtime that opened the pool (`BlockingPool`).
            let runtime = tokio::runtime::Handle::try_current().ok();
            config.custom_setup = Box::new(move |url| {
                let runtime = runtime.clone();
                Box::pin(establish_sqlite(
                    url.to_owned(),
                    busy_ms,
                    cache_kib,
                    runtime,
                ))
            });
            let manager = AsyncDieselConnectionManager::new_with_config(path, config);
            Pools::Sqlite(build_pool(manager, size, timeout, "sqlite", None)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let invalid = |reason: String| ConnectError::InvalidUrl {
                target: target.to_string(),
                reason: scrub(reason),
            };
            let pg = PgTarget::parse(url).map_err(|e| invalid(e.to_string()))?;
            pg.url
                .parse::<tokio_postgres::Config>()
                .map_err(|e| invalid(e.to_string()))?;
            let tls = pg.connector().map_err(|e| invalid(e.to_string()))?;
            let statement_cache = options.statement_cache;
            let mut config = ManagerConfig::default();
            // A PostgreSQL connection is driven by a task spawned where it is established.
            // Established on an HTTP worker's runtime, it would die with that worker, which
            // ends as soon as it is idle in a graceful stop: requests still running on
            // other workers would lose their connections. So connections are established
            // on the runtime that opened the pool, which lives until the end.
            let runtime = tokio::runtime::Handle::try_current().ok();
            config.custom_setup = Box::new(move |url| {
                let establish = establish_pg(url.to_owned(), tls.clone(), statement_cache);
                let runtime = runtime.clone();
                Box::pin(async move {
                    match runtime {
                        Some(rt) => rt.spawn(establish).await.map_err(|e| {
                            diesel::ConnectionError::BadConnection(format!(
                                "the task establishing the connection failed: {e}"
                            ))
                        })?,
                        None => establish.await,
                    }
                })
            });
            // No query on reuse: a connection that broke while in use is marked broken and
            // not reused; one idle for a while is checked first (`check_if_idle`).
            config.recycling_method = RecyclingMethod::Fast;
            let manager = AsyncDieselConnectionManager::new_with_config(pg.url, config);
            let hook =
                deadpool::managed::Hook::async_fn(|conn: &mut AsyncPgConnection, metrics| {
                    Box::pin(check_if_idle(conn, metrics.last_used()))
                });
            Pools::Postgres(build_pool(manager, size, timeout, "postgres", Some(hook))?)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            let scheme = if scheme.len() <= 16 && scheme.chars().all(|c| c.is_ascii_alphanumeric())
            {
                scheme.to_owned()
            } else {
                "(unrecognised)".to_owned()
            };
            return Err(ConnectError::UnsupportedUrl { scheme });
        };
        let pooled = matches!(pools, Pools::Postgres(_));
        Ok(Db {
            pools,
            sqlite_writer: std::sync::Arc::default(),
            timeout,
            target,
            secrets,
            audit_keys: None,
            replica: None,
            pooled: pooled && !options.statement_cache,
        })
    }

    /// Why a first connection failed, as a start-up error.
    pub fn unreachable(&self, e: &RepoError) -> ConnectError {
        ConnectError::Unreachable {
            backend: self.backend_name(),
            target: self.target.to_string(),
            reason: self.scrub(&e.to_string()),
        }
    }

    /// The URL without its password, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The turn of a SQLite write transaction, waited for at most the timeout.
    pub(crate) async fn writer_turn(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, RepoError> {
        tokio::time::timeout(self.timeout, self.sqlite_writer.lock())
            .await
            .map_err(|_| timed_out(self.timeout))
    }

    /// Applies the pending embedded migrations of the backend. The work runs on a blocking
    /// thread, so this may be called from any tokio runtime (diesel's harness blocks). On
    /// PostgreSQL all pending migrations run in one transaction under an advisory lock ([`migrate_pg`]).
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let failed = |reason: String| ConnectError::Migration {
            backend: self.backend_name(),
            target: self.target.to_string(),
            reason: self.scrub(&reason),
        };
        let applied = match &self.pools {
            Pools::Sqlite(pool) => {
                let conn = pool
                    .get()
                    .await
                    .map_err(|e| self.unreachable(&unavailable(e)))?;
                let conn = Object::take(conn);
                tokio::task::spawn_blocking(move || {
                    let mut harness = AsyncMigrationHarness::new(conn);
                    harness
                        .run_pending_migrations(SQLITE_MIGRATIONS)
                        .map(|applied| applied.len())
                        .map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| failed(e.to_string()))?
                .map_err(failed)
            }
            Pools::Postgres(pool) => {
                let conn = pool
                    .get()
                    .await
                    .map_err(|e| self.unreachable(&unavailable(e)))?;
                let conn = Object::take(conn);
                tokio::task::spawn_blocking(move || migrate_pg(conn))
                    .await
                    .map_err(|e| failed(e.to_string()))?
                    .map_err(failed)
            }
        }?;
        tracing::info!(
            backend = self.backend_name(),
            target = %self.target,
            applied,
            "database schema is up to date"
        );
        Ok(())
    }

    /// This database, chaining audit rows under `keys` (the current key signs, retired keys
    /// verify; PRODUCT.md section 11).
    #[must_use]
    pub fn with_audit_keys(mut self, keys: pas_domain::audit::AuditKeys) -> Self {
        self.audit_keys = Some(std::sync::Arc::new(keys));
        self
    }

    /// The same database with the read replica at `url` (`DATABASE_READ_URL`; opened like
    /// [`Db::open`], without connecting): lists, portal lookups and audit reads go there, and
    /// to the primary whenever it does not answer ([`Db::read_fallbacks`] counts those).
    pub fn with_replica(mut self, url: &str, options: DbOptions) -> Result<Db, ConnectError> {
        let opened = Self::open(url, options)?;
        match (&self.pools, opened.pools) {
            (Pools::Postgres(_), Pools::Postgres(pool)) => {
                self.replica = Some(std::sync::Arc::new(Replica {
                    pool,
                    fallbacks: std::sync::atomic::AtomicU64::new(0),
                    resting_until: std::sync::Mutex::new(None),
                }));
                Ok(self)
            }
            _ => Err(ConnectError::InvalidUrl {
                target: opened.target.to_string(),
                reason:
                    "a read replica needs PostgreSQL for both DATABASE_URL and DATABASE_READ_URL"
                        .to_owned(),
            }),
        }
    }

    /// How many reads meant for the replica went to the primary because it did not answer.
    pub fn read_fallbacks(&self) -> u64 {
        self.replica.as_ref().map_or(0, |r| {
            std::sync::atomic::AtomicU64::load(&r.fallbacks, std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// One round trip to the database (`GET /ready`), within the timeout.
    pub async fn ping(&self) -> Result<(), RepoError> {
        with_db!(self, ReadOne, async |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
        .await
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.pools {
            Pools::Sqlite(_) => "sqlite",
            Pools::Postgres(_) => "postgres",
        }
    }

    /// `text` without the password of the URL.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }
}

/// How long after its last checkout a pooled PostgreSQL connection is checked with a query
/// before it is handed out again. Under load connections are taken again within
/// milliseconds and reused without a round trip (the pool hands out the most recently used
/// one first); after a pause, when a restart, a failover or a firewall's idle timeout may
/// have killed them, the check finds out before the request does.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);

/// How long that check may take: a connection whose server vanished without a reset would
/// otherwise hang the checkout until the operation's own timeout.
const IDLE_CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// The pre-recycle check of a pooled PostgreSQL connection last checked out `idle` ago:
/// none under [`IDLE_CHECK_AFTER`], else one simple-protocol round trip (no prepared
/// statement outside a transaction, see [`begin`]) within [`IDLE_CHECK_TIMEOUT`]. A
/// connection that fails it is dropped, and the pool takes or opens another.
async fn check_if_idle(
    conn: &mut AsyncPgConnection,
    idle: Duration,
) -> deadpool::managed::HookResult<PoolError> {
    if idle < IDLE_CHECK_AFTER {
        return Ok(());
    }
    match tokio::time::timeout(IDLE_CHECK_TIMEOUT, conn.batch_execute("SELECT 1")).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(deadpool::managed::HookError::message(e.to_string())),
        Err(_) => Err(deadpool::managed::HookError::message(
            "no answer to the check of an idle connection",
        )),
    }
}

fn build_pool<C>(
    manager: AsyncDieselConnectionManager<C>,
    size: usize,
    timeout: Duration,
    backend: &'static str,
    pre_recycle: Option<deadpool::managed::Hook<AsyncDieselConnectionManager<C>>>,
) -> Result<Pool<C>, ConnectError>
where
    C: diesel_async::pooled_connection::PoolableConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    let builder = Pool::builder(manager);
    let builder = match pre_recycle {
        // Most recently used first: the connections in use stay warm and skip the check.
        Some(hook) => builder
            .pre_recycle(hook)
            .queue_mode(deadpool::managed::QueueMode::Lifo),
        None => builder,
    };
    builder
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .map_err(|e| ConnectError::Pool {
            backend,
            reason: e.to_string(),
        })
}

/// The page cache all of a pool's SQLite connections may hold together, in KiB.
///
/// Each connection keeps its own cache (2 MiB by default), and they all cache the same
/// file, which the operating system caches once more: ten default caches were a fifth of
/// the instance's peak memory under load (issue 15), while a page missing from a small
/// cache is a `pread` from the OS cache, not a disk read.
const SQLITE_CACHE_BUDGET_KIB: usize = 8 * 1024;

/// The smallest page cache of one SQLite connection, in KiB: enough for the indexes' upper
/// levels and a page of results however large the pool.
const SQLITE_CACHE_MIN_KIB: usize = 512;

/// SQLite's own page cache per connection, in KiB (`cache_size = -2000`, rounded up): a
/// small pool's share is never more.
const SQLITE_CACHE_MAX_KIB: usize = 2048;

/// The page cache of each of a pool's `size` SQLite connections, in KiB: an equal share of
/// [`SQLITE_CACHE_BUDGET_KIB`], between [`SQLITE_CACHE_MIN_KIB`] and
/// [`SQLITE_CACHE_MAX_KIB`].
fn sqlite_cache_kib(size: usize) -> usize {
    (SQLITE_CACHE_BUDGET_KIB / size.max(1)).clamp(SQLITE_CACHE_MIN_KIB, SQLITE_CACHE_MAX_KIB)
}

/// One blocking call of a SQLite connection. Dropped before the call has ended (a request
/// abandoned half-way), it waits for that end on the spot: the connection's call is over
/// when the drop returns (a commit in flight has landed or failed), so whatever the caller
/// does next never races it. The wait blocks the thread, and the requests of an HTTP worker
/// with it, for the rest of that call (its waits for a lock are bounded by `busy_timeout`,
/// its own run time is not), without `block_in_place`, which a current-thread runtime (an
/// HTTP worker's) does not allow.
struct BlockingCall<R> {
    call: tokio::task::JoinHandle<R>,
    /// Gets a message when the call has ended, and closes if it never ran.
    has_ended: std::sync::mpsc::Receiver<()>,
}

impl<R> Future for BlockingCall<R> {
    type Output = Result<R, tokio::task::JoinError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.get_mut().call).poll(cx)
    }
}

impl<R> Drop for BlockingCall<R> {
    fn drop(&mut self) {
        if !self.call.is_finished() {
            let _ = self.has_ended.recv();
        }
    }
}

/// Opens one SQLite connection and sets its pragmas; `busy_ms` is how long it waits for a
/// lock held by another process before answering "database is locked"; `cache_kib` is the
/// size of its page cache ([`sqlite_cache_kib`]).
async fn establish_sqlite(
    path: String,
    busy_ms: u128,
    cache_kib: usize,
    runtime: Option<tokio::runtime::Handle>,
) -> diesel::ConnectionResult<SqliteConn> {
    let runtime = runtime.unwrap_or_else(tokio::runtime::Handle::current);
    // On a blocking thread, pragmas included: a read that needs a new connection opens it
    // inside `on_this_thread`, and `journal_mode` may wait for another process's lock.
    let open = runtime.spawn_blocking(move || {
        let mut conn = <SqliteConnection as diesel::Connection>::establish(&path)?;
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            &format!(
                "PRAGMA busy_timeout = {busy_ms}; PRAGMA cache_size = -{cache_kib}; \
                 {SQLITE_PRAGMAS}"
            ),
        )
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok::<_, diesel::ConnectionError>(conn)
    });
    let conn = open.await.map_err(|e| {
        diesel::ConnectionError::BadConnection(format!("opening the SQLite file failed: {e}"))
    })??;
    Ok(SqliteConn::with_runtime(conn, BlockingPool(runtime)))
}

/// The file of a `sqlite://PATH` (or `sqlite:PATH`) URL, without a query string.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest))
}

fn create_parent(path: &str) -> Result<(), ConnectError> {
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| ConnectError::CreateDirectory {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// The user and password in a URL's authority, when it has a password.
fn credentials(url: &str) -> Option<(&str, &str)> {
    let url = url.split('?').next()?;
    let authority = url[url.find("://")? + 3..].split('/').next()?;
    authority.rsplit_once('@')?.0.split_once(':')
}

/// The URL with its password replaced by `***` and its query string dropped (it may hold a
/// `password=` parameter).
fn redact(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    match credentials(url) {
        Some((user, pass)) => base.replacen(&format!("{user}:{pass}@"), &format!("{user}:***@"), 1),
        None => base.to_owned(),
    }
}

/// The passwords a URL carries (user info and `password=` parameter).
fn secrets(url: &str) -> Vec<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let params = query.split('&').filter_map(|p| p.strip_prefix("password="));
    let password = credentials(url).map(|(_, password)| password);
    password
        .into_iter()
        .chain(params)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A connection taken from the pool for one operation. If the operation's future is dropped
/// half-way (an HTTP client went away), the connection is closed instead of going back to
/// the pool, so that an open transaction and its locks end with it at once rather than
/// waiting in the pool until the connection is recycled.
pub(crate) struct Leased<M: Manager> {
    object: Option<Object<M>>,
}

impl<M: Manager> Leased<M>
where
    M::Error: std::fmt::Display,
{
    /// Takes a connection; no connection within the timeout, or none that opens, is
    /// `Unavailable`.
    pub(crate) async fn checkout(pool: &deadpool::managed::Pool<M>) -> Result<Self, Error> {
        use deadpool::managed::PoolError as P;
        let object = pool.get().await.map_err(|e| {
            let text = format!("database pool: {e}");
            Error::Repo(match e {
                P::Timeout(_) | P::Backend(_) => RepoError::Unavailable(text),
                _ => RepoError::Storage(text),
            })
        })?;
        Ok(Self {
            object: Some(object),
        })
    }

    /// The connection.
    pub(crate) fn conn(&mut self) -> Result<&mut M::Type, Error> {
        self.object
            .as_deref_mut()
            .ok_or_else(|| Error::Repo(RepoError::Storage("connection already released".into())))
    }

    /// The operation ended (well or not): the connection goes back to the pool, which checks
    /// it before reuse.
    pub(crate) fn release(mut self) {
        drop(self.object.take());
    }
}

impl<M: Manager> Drop for Leased<M> {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            // Abandoned: close the connection (the server rolls back what was open).
            drop(Object::take(object));
        }
    }
}

/// The transaction a body of [`with_db!`] runs in ([`begin`], [`Tx::finish`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tx {
    /// No transaction: a single statement, which may write.
    None,
    /// No transaction: a single statement that only reads, at a cost that does not grow
    /// with the database. On SQLite it runs on the calling thread ([`on_this_thread`]).
    ReadOne,
    /// A consistent read snapshot, at a cost that does not grow with the database (a page
    /// of one group, one process's rows). On SQLite it runs on the calling thread. One
    /// exception, by choice: a list of processes without a group (an administrator's) is
    /// the same call as a group's page and counts every live process (DECISIONS
    /// "Concurrency").
    Read,
    /// A consistent read snapshot whose cost grows with the database (every chain head, an
    /// unpaged search, a count of every audit row): on SQLite on the blocking pool, so that
    /// it holds up no HTTP worker.
    Scan,
    /// A write transaction; serialised on SQLite (`BEGIN IMMEDIATE`).
    Write,
}

impl Tx {
    /// On SQLite the body runs on the calling thread ([`on_this_thread`]). Debug builds,
    /// every test among them, refuse a write there ([`reads_only`]); PostgreSQL refuses
    /// one in a `Read` snapshot (`READ ONLY`).
    pub(crate) fn runs_on_caller(self) -> bool {
        matches!(self, Tx::ReadOne | Tx::Read)
    }

    /// A read snapshot.
    fn is_snapshot(self) -> bool {
        matches!(self, Tx::Read | Tx::Scan)
    }

    /// No transaction around the body.
    fn is_single(self) -> bool {
        matches!(self, Tx::None | Tx::ReadOne)
    }

    /// Commits after a successful body, rolls back after a failed one.
    pub(crate) async fn finish<C, T>(
        self,
        conn: &mut C,
        result: Result<T, Error>,
    ) -> Result<T, Error>
    where
        C: AsyncConnection,
    {
        if self.is_single() {
            return result;
        }
        match result {
            Ok(value) => {
                C::TransactionManager::commit_transaction(conn).await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = C::TransactionManager::rollback_transaction(conn).await {
                    // The connection is then marked broken and not reused by the pool.
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

/// Applies the pending PostgreSQL migrations in one transaction that first takes a
/// transaction-scoped advisory lock: a second instance starting at the same time waits, then
/// finds them applied; a failing migration leaves none of the batch behind; and everything
/// runs on one server connection even behind a transaction pooler. A migration that cannot
/// run inside a transaction (`CREATE INDEX CONCURRENTLY`, `run_in_transaction = false`)
/// cannot be added this way. Blocks: run it on a blocking thread.
fn migrate_pg(conn: AsyncPgConnection) -> Result<usize, String> {
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
    diesel::Connection::transaction(&mut conn, |conn| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(PG_MIGRATION_LOCK),
            conn,
        )?;
        // Each migration's own transaction becomes a savepoint of this one.
        conn.run_pending_migrations(PG_MIGRATIONS)
            .map(|applied| applied.len())
    })
    .map_err(|e: Box<dyn std::error::Error + Send + Sync>| e.to_string())
}

/// Opens one PostgreSQL connection to `url` (as [`PgTarget`] left it), over `tls` when the
/// URL asks for it, with or without its cache of prepared statements (without it, the
/// connection is taken to go through a transaction pooler: [`establish_pooled`]).
async fn establish_pg(
    url: String,
    tls: Option<MakeRustlsConnect>,
    statement_cache: bool,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    if !statement_cache {
        return establish_pooled(&url, tls).await;
    }
    match tls {
        None => AsyncPgConnection::establish(&url).await,
        Some(tls) => {
            let (client, connection) = tokio_postgres::connect(&url, tls)
                .await
                .map_err(bad_connection)?;
            AsyncPgConnection::try_from_client_and_connection(client, connection).await
        }
    }
}

/// A connection through a transaction pooler such as PgBouncer 1.18, which hands out a
/// server connection per transaction and cannot carry prepared statements.
///
/// diesel-async sets every new connection up with two statements (`SET TIME ZONE`,
/// `SET CLIENT_ENCODING`), each prepared under a name and executed in separate messages
/// outside any transaction: a pooler may send the execution to another server connection
/// than the preparation (`prepared statement "s1" does not exist`), or the statement's Close
/// to a third one, leaving the name behind. So the set-up runs inside a transaction begun on
/// the bare client first, which keeps it on one server connection; the pooler records the
/// two settings and applies them wherever this client's later transactions run.
async fn establish_pooled(
    url: &str,
    tls: Option<MakeRustlsConnect>,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    let client = match tls {
        None => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .map_err(bad_connection)?;
            tokio::spawn(drive(connection));
            client
        }
        Some(tls) => {
            let (client, connection) = tokio_postgres::connect(url, tls)
                .await
                .map_err(bad_connection)?;
            tokio::spawn(drive(connection));
            client
        }
    };
    // DEALLOCATE ALL as in `begin`: names some client left on the server connection.
    client
        .batch_execute("BEGIN; DEALLOCATE ALL")
        .await
        .map_err(bad_connection)?;
    let mut conn = AsyncPgConnection::try_from(client).await?;
    conn.batch_execute("COMMIT")
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
    Ok(conn)
}

/// Runs the I/O of a connection made with [`establish_pooled`] until its client is dropped
/// or the server goes away (queries then fail with the connection closed).
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "PostgreSQL connection ended");
    }
}

fn bad_connection(e: tokio_postgres::Error) -> diesel::ConnectionError {
    diesel::ConnectionError::BadConnection(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain key to write the statements of these tests with.
    const NIL: crate::columns::DbId = crate::columns::DbId(uuid::Uuid::nil());

    /// Together's statements are written as `WITH w0 AS (…), w1 AS (…) last`, with bind
    /// parameters numbered through all of them (the server sees one statement); one
    /// statement alone is sent as it is.
    #[test]
    fn together_writes_its_first_statements_as_ctes_and_numbers_binds_through() {
        use crate::schema::{audit_chains, auth_attempts};
        use diesel::prelude::*;
        let move_head: PgStatement<'_> = Box::new(
            diesel::update(audit_chains::table.filter(audit_chains::chain_key.eq(NIL)))
                .set(audit_chains::length.eq(2_i64)),
        );
        let forget: PgStatement<'_> = Box::new(diesel::delete(
            auth_attempts::table.filter(auth_attempts::attempt.eq("x")),
        ));
        let record = || -> PgStatement<'_> {
            Box::new(diesel::insert_into(auth_attempts::table).values((
                auth_attempts::attempt.eq("y"),
                auth_attempts::key_hash.eq("k"),
            )))
        };
        let sql =
            diesel::debug_query::<Pg, _>(&Together::new(vec![move_head, forget, record()], 3))
                .to_string();
        assert!(sql.starts_with("WITH w0 AS (UPDATE "), "{sql}");
        let at = |needle: &str| {
            sql.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {sql}"))
        };
        assert!(
            at("WITH w0 AS (UPDATE ") < at(", w1 AS (DELETE FROM "),
            "{sql}"
        );
        assert!(at(", w1 AS (DELETE FROM ") < at(") INSERT INTO "), "{sql}");
        let binds: Vec<usize> = (1..=5).map(|n| at(&format!("${n}"))).collect();
        assert!(binds.is_sorted(), "{sql}");
        assert!(!sql.contains("$6"), "{sql}");
        let alone = diesel::debug_query::<Pg, _>(&Together::new(vec![record()], 1)).to_string();
        assert!(alone.starts_with("INSERT INTO "), "{alone}");
    }

    /// An `UPDATE` is prepared anew on every call by Diesel; wrapped in `Prepared`, and in a
    /// `Together` of few rows, it stays prepared (cached under its text).
    #[test]
    fn prepared_and_kept_statements_are_cached_where_diesel_would_not() {
        use crate::schema::audit_chains;
        use diesel::prelude::*;
        let update = || {
            diesel::update(audit_chains::table.filter(audit_chains::chain_key.eq(NIL)))
                .set(audit_chains::length.eq(2_i64))
        };
        let cached = |q: &dyn QueryFragment<Pg>| q.is_safe_to_cache_prepared(&Pg).unwrap();
        assert!(!cached(&update()));
        assert!(cached(&Prepared(update())));
        let many = FEW_ROWS + 1;
        assert!(!cached(&Together::new(vec![Box::new(update())], many)));
        assert!(cached(&Together::new(vec![Box::new(update())], FEW_ROWS)));
        assert!(cached(&Together::new(
            vec![Box::new(Prepared(update()))],
            many
        )));
    }

    #[test]
    fn redacted_url_keeps_user_host_and_database_but_not_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/signing?sslmode=disable&password=x"),
            "postgres://app:***@db.example:5432/signing"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/postgres"),
            "postgres://postgres@127.0.0.1/postgres"
        );
        assert_eq!(
            redact("sqlite://data/signing.db"),
            "sqlite://data/signing.db"
        );
    }

    #[test]
    fn secrets_are_the_password_and_a_password_parameter() {
        assert_eq!(
            secrets("postgres://app:s3cret@db/x?password=other"),
            vec!["s3cret".to_owned(), "other".to_owned()]
        );
        assert!(secrets("postgres://app@db/x").is_empty());
    }

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(
            sqlite_path("sqlite://data/signing.db"),
            Some("data/signing.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("postgres://x"), None);
    }

    /// The pool's SQLite connections share one page-cache budget: an equal share each,
    /// bounded by a floor for large pools and by SQLite's own default for small ones.
    #[test]
    fn sqlite_connections_share_the_page_cache_budget() {
        assert_eq!(sqlite_cache_kib(1), SQLITE_CACHE_MAX_KIB);
        assert_eq!(sqlite_cache_kib(4), SQLITE_CACHE_MAX_KIB);
        assert_eq!(sqlite_cache_kib(10), 819);
        assert_eq!(sqlite_cache_kib(100), SQLITE_CACHE_MIN_KIB);
        assert!(10 * sqlite_cache_kib(10) <= SQLITE_CACHE_BUDGET_KIB);
    }

    /// A pooled SQLite connection is opened with its share as `cache_size` (negative: KiB).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_pooled_sqlite_connection_has_its_share_of_the_page_cache() {
        #[derive(diesel::QueryableByName)]
        struct CacheSize {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            cache_size: i64,
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}/pas.db", dir.path().display());
        let db = Db::open(&url, DbOptions::with_pool_size(10)).expect("a SQLite pool");
        let Pools::Sqlite(pool) = &db.pools else {
            panic!("a sqlite:// URL opens a SQLite pool");
        };
        let mut conn = pool.get().await.expect("a connection");
        let size: CacheSize = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query("PRAGMA cache_size"),
            &mut *conn,
        )
        .await
        .expect("PRAGMA cache_size");
        assert_eq!(size.cache_size, -819);
    }

    /// An HTTP worker's runtime is a current-thread one. A SQLite call whose future is dropped
    /// there (a request abandoned half-way) has ended when the drop returns: another
    /// connection sees what it wrote at once. diesel-async's default waited with
    /// `block_in_place`, which panics on such a runtime; not waiting at all would let the
    /// caller's next read race the abandoned write (the contract test
    /// `abandoned_saves_leave_no_locks_behind` fails then).
    #[tokio::test(flavor = "current_thread")]
    async fn a_sqlite_call_dropped_half_way_on_a_current_thread_runtime_is_waited_for() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("dropped.db").display().to_string();
        let open = || establish_sqlite(path.clone(), 1000, 512, None);
        let mut writer = open().await.expect("a SQLite file");
        let mut reader = open().await.expect("a second connection");
        writer
            .batch_execute("CREATE TABLE t (n INTEGER)")
            .await
            .expect("a table");
        let slow = diesel::sql_query(
            "INSERT INTO t WITH RECURSIVE c(n) AS \
             (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT n FROM c",
        );
        let dropped =
            tokio::time::timeout(Duration::from_millis(5), slow.execute(&mut writer)).await;
        assert!(
            dropped.is_err(),
            "the insert was still running when dropped"
        );
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let seen: Count = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query("SELECT count(*) AS n FROM t"),
            &mut reader,
        )
        .await
        .expect("a count");
        assert_eq!(
            seen.n, 300_000,
            "the dropped insert had ended and committed"
        );
    }

    /// On SQLite, reads whose cost does not grow with the database ([`Tx::ReadOne`],
    /// [`Tx::Read`]) make their calls on the thread that polls them; reads that may take
    /// long ([`Tx::Scan`]), single statements that may write ([`Tx::None`]) and write
    /// transactions make them on the blocking pool, where they hold up no HTTP worker.
    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_reads_run_on_the_calling_thread_and_writes_on_the_blocking_pool() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("threads.db").display());
        let db = Db::connect(&url, 2).await.expect("a SQLite file");
        let here = std::thread::current().id();
        // The body is compiled for both backends; this database is SQLite.
        async fn thread_of(conn: &mut impl Conn) -> Result<Option<std::thread::ThreadId>, Error> {
            match conn.concrete() {
                Concrete::Sqlite(c) => Ok(Some(
                    c.spawn_blocking(|_| Ok(std::thread::current().id()))
                        .await?,
                )),
                Concrete::Postgres(_) => Ok(None),
            }
        }
        let read_one = with_db!(db, ReadOne, async |conn| { thread_of(conn).await }).await;
        let read = with_db!(db, Read, async |conn| { thread_of(conn).await }).await;
        let single = with_db!(db, None, async |conn| { thread_of(conn).await }).await;
        let write = with_db!(db, Write, async |conn| { thread_of(conn).await }).await;
        let scan = with_db!(db, Scan, async |conn| { thread_of(conn).await }).await;
        let here = Some(here);
        assert_eq!(read_one.expect("a one-statement read"), here);
        assert_eq!(read.expect("a read snapshot"), here);
        assert_ne!(single.expect("a single statement"), here);
        assert_ne!(write.expect("a write transaction"), here);
        assert_ne!(scan.expect("a long read"), here);
    }

    /// A body that runs on the calling thread may not write, in the debug builds tests run
    /// ([`reads_only`]): the write fails at once instead of waiting for SQLite's write lock
    /// on an HTTP worker, and the connection writes again afterwards.
    #[cfg(debug_assertions)]
    #[tokio::test(flavor = "current_thread")]
    async fn a_sqlite_read_on_the_calling_thread_may_not_write() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("query_only.db").display());
        // One connection, so the write after the refused one reuses it.
        let db = Db::connect(&url, 1).await.expect("a SQLite file");
        let create = || diesel::sql_query("CREATE TABLE IF NOT EXISTS t (n INTEGER)");
        let refused = with_db!(db, ReadOne, async |conn| {
            create().execute(conn).await?;
            Ok(())
        })
        .await;
        let Err(RepoError::Storage(reason)) = refused else {
            panic!("a write in a one-statement read was not refused: {refused:?}");
        };
        assert!(reason.contains("readonly"), "{reason}");
        let refused = with_db!(db, Read, async |conn| {
            create().execute(conn).await?;
            Ok(())
        })
        .await;
        let Err(RepoError::Storage(reason)) = refused else {
            panic!("a write in a read snapshot was not refused: {refused:?}");
        };
        assert!(reason.contains("readonly"), "{reason}");
        with_db!(db, Write, async |conn| {
            create().execute(conn).await?;
            Ok(())
        })
        .await
        .expect("the same connection writes in a write transaction");
    }

    /// The options the bundled SQLite was compiled with.
    async fn sqlite_compile_options() -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = SqliteConn::establish(":memory:")
            .await
            .expect("an in-memory SQLite");
        let options: Vec<CompileOption> = diesel_async::RunQueryDsl::load(
            diesel::sql_query("SELECT compile_options FROM pragma_compile_options"),
            &mut conn,
        )
        .await
        .expect("the compile options");
        options.into_iter().map(|o| o.compile_options).collect()
    }

    /// The bundled SQLite is built with the query planner stability guarantee
    /// (`.cargo/config.toml`: `LIBSQLITE3_FLAGS`). Without it SQLite 3.53 reads a bound
    /// LIMIT as a constant and re-prepares the statement on every execution, so
    /// every page query was parsed and planned anew (half of a task page's CPU).
    #[tokio::test(flavor = "multi_thread")]
    async fn the_bundled_sqlite_keeps_paged_statements_prepared() {
        let options = sqlite_compile_options().await;
        assert!(
            options.iter().any(|o| o == "ENABLE_QPSG"),
            "SQLite built without SQLITE_ENABLE_QPSG"
        );
    }

    /// The bundled SQLite takes no process-wide lock per allocation, per page-cache lookup
    /// or per page buffer (`.cargo/config.toml`: `LIBSQLITE3_FLAGS`). With its memory
    /// statistics on, every `sqlite3_malloc` and `sqlite3_free` takes one global mutex; with
    /// `SQLITE_ENABLE_MEMORY_MANAGEMENT` (libsqlite3-sys's default) the page caches of all
    /// connections are one group behind one mutex; the page cache's overflow statistic takes
    /// a third. The blocking threads running statements and the HTTP workers freeing the rows
    /// they returned queued on the first two: a third of the samples of a task page under
    /// load, and 1.6 x the task pages per second without them (issue 15,
    /// docs/PERFORMANCE.md).
    #[tokio::test(flavor = "multi_thread")]
    async fn the_bundled_sqlite_takes_no_global_lock_per_allocation_or_page() {
        let options = sqlite_compile_options().await;
        let has = |name: &str| options.iter().any(|o| o == name);
        assert!(
            has("DEFAULT_MEMSTATUS=0"),
            "SQLite built with its memory statistics on"
        );
        assert!(
            !has("ENABLE_MEMORY_MANAGEMENT"),
            "SQLite built with SQLITE_ENABLE_MEMORY_MANAGEMENT: one page cache group for all"
        );
        assert!(
            has("DISABLE_PAGECACHE_OVERFLOW_STATS"),
            "SQLite built with the page cache's overflow statistic"
        );
    }
}
