//! Diesel adapters for the ports of `pas-domain`: one [`Db`] that implements
//! `ProcessRepository`, `AuditStore`, `ErasureStore`, `CatalogStore`, `ContactStore`,
//! `TemplateStore`, `Outbox`, `WebhookStore`, `AttemptLedger` and `JobRuns` against
//! PostgreSQL or SQLite, chosen at run time by the URL.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use pas_domain::ports::ProcessRepository;
//! let db = pas_persistence::Db::connect("sqlite://data/signing.db", 10).await?;
//! db.migrate().await?;
//! let repo: std::sync::Arc<dyn ProcessRepository> = std::sync::Arc::new(db.clone());
//! # Ok(()) }
//! ```
//!
//! Module map: `db` (pools, connect, migrate, the `with_db!` dispatch and `run`, the `Sql`
//! and `Conn` traits the shared functions are generic over, transactions), `schema` (the
//! tables), `columns` (the id and digest types each backend stores its own way), `models`
//! (rows and their conversions to and from domain types), `batch` (multi-row inserts),
//! `processes`, `audit`, `erasure`, `outbox`, `catalog`, `directory` (contacts and
//! templates), `webhooks` (subscriptions, their attempts, and the deliveries a change
//! writes), `instances` (what instances sharing a database coordinate through),
//! `paging` (sorts and pages), `search` (LIKE patterns and lowered copies),
//! `testing` (scratch databases, feature `testing`), `plans` (tests only: the plan each
//! backend makes of a query, for tests that pin a query to an index).
//!
//! SQLite is the bundled one, built by the workspace's `.cargo/config.toml`
//! (`LIBSQLITE3_FLAGS`) with `SQLITE_ENABLE_QPSG`, `SQLITE_DEFAULT_MEMSTATUS=0`,
//! `-USQLITE_ENABLE_MEMORY_MANAGEMENT` and `SQLITE_DISABLE_PAGECACHE_OVERFLOW_STATS`. A build
//! outside this workspace should set the same flags: without the first every paged query is
//! parsed and planned again on each call (SQLite reads a bound LIMIT as a constant), about
//! twice the CPU of a page of signer tasks; without the others every allocation and cached
//! page takes a process-wide mutex, which the threads running statements queue on (without
//! the first two of them, 1.6 × the task pages per second).
//! Either way the answers are the same.
#![warn(missing_docs)]

mod error;
#[macro_use]
mod db;
mod audit;
mod batch;
mod catalog;
mod columns;
mod directory;
mod erasure;
mod instances;
mod metrics;
mod models;
mod outbox;
mod paging;
#[cfg(test)]
mod plans;
mod processes;
mod schema;
mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod webhooks;

pub use audit::StoredChain;
pub use db::{ConnectError, Db, DbOptions};
pub use metrics::{ChannelBacklog, PoolUse};
