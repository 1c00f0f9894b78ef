//! Opening and migrating the database (not run per backend by the macro: each test names the
//! backend it is about).

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, RunQueryDsl};
use pas_persistence::testing::ScratchDatabase;
use pas_persistence::{ConnectError, Db};

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

/// `sqlite://PATH` creates the directory and the file, runs the migrations (twice is a no-op)
/// and leaves the file in WAL mode (section 3: "created on first start").
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_url_creates_the_directory_and_file_and_migrates() {
    let scratch = ScratchDatabase::sqlite().await;
    let path = scratch.url().trim_start_matches("sqlite://").to_owned();
    assert!(!std::path::Path::new(&path).exists());
    let db = Db::connect(scratch.url(), 2).await.unwrap();
    assert_eq!(db.backend_name(), "sqlite");
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
    assert!(std::path::Path::new(&path).exists());

    let mut raw = SyncConnectionWrapper::<diesel::SqliteConnection>::establish(&path)
        .await
        .unwrap();
    let mode: Vec<JournalMode> = diesel::sql_query("PRAGMA journal_mode")
        .load(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode[0].journal_mode, "wal");
}

/// `migrate` runs from a current-thread runtime too (actix's default), since the migration
/// harness works on a blocking thread.
#[tokio::test(flavor = "current_thread")]
async fn migrate_works_from_a_current_thread_runtime() {
    let scratch = ScratchDatabase::sqlite().await;
    let db = Db::connect(scratch.url(), 1).await.unwrap();
    db.migrate().await.unwrap();
    if let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let scratch = ScratchDatabase::postgres(&url).await;
        let db = Db::connect(scratch.url(), 1).await.unwrap();
        assert_eq!(db.backend_name(), "postgres");
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
    }
}

/// A URL of another database is refused by name, without echoing the URL.
#[tokio::test]
async fn an_unsupported_url_is_refused_without_its_password() {
    let err = Db::connect("mysql://app:s3cret@db.example/signing", 1)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConnectError::UnsupportedUrl {
            scheme: "mysql".into()
        }
    );
    assert!(!err.to_string().contains("s3cret"));
}

/// An unreachable PostgreSQL server is an error naming the server, never the password.
#[tokio::test]
async fn an_unreachable_postgres_server_is_an_error_without_the_password() {
    let err = Db::connect("postgres://app:s3cret@127.0.0.1:1/signing", 1)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            ConnectError::Unreachable {
                backend: "postgres",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        message.contains("postgres://app:***@127.0.0.1:1/signing"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}

#[derive(QueryableByName)]
struct Applied {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    applied: i64,
}

/// PostgreSQL: instances starting at once on an empty database both succeed (the second
/// waits for the first's transaction, then finds nothing pending), and every migration is
/// applied exactly once (DECISIONS "Migrations on PostgreSQL").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_instances_migrating_at_once_apply_each_migration_once() {
    let Some(scratch) =
        postgres_scratch("postgres_instances_migrating_at_once_apply_each_migration_once").await
    else {
        return;
    };
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(Db::connect(scratch.url(), 1).await.unwrap());
    }
    let results = futures::future::join_all(instances.iter().map(Db::migrate)).await;
    for result in results {
        result.unwrap();
    }
    let expected = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/postgres"
    ))
    .unwrap()
    .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
    .count();
    let mut raw = diesel_async::AsyncPgConnection::establish(scratch.url())
        .await
        .unwrap();
    let rows: Vec<Applied> =
        diesel::sql_query("SELECT count(*) AS applied FROM __diesel_schema_migrations")
            .load(&mut raw)
            .await
            .unwrap();
    assert_eq!(rows[0].applied, i64::try_from(expected).unwrap());
    instances[3].ping().await.unwrap();
}

/// PostgreSQL: pooled connections are reused without a query, but one that sat unused for a
/// while is checked first, so a server-side end of the session (a restart, a failover, an
/// idle timeout) costs no request (DECISIONS "PostgreSQL connections").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_idle_connection_killed_by_the_server_is_replaced_unnoticed() {
    let Some(scratch) =
        postgres_scratch("postgres_an_idle_connection_killed_by_the_server_is_replaced_unnoticed")
            .await
    else {
        return;
    };
    let db = Db::connect(scratch.url(), 1).await.unwrap();
    db.migrate().await.unwrap();
    db.ping().await.unwrap();

    let mut admin = diesel_async::AsyncPgConnection::establish(scratch.url())
        .await
        .unwrap();
    let killed = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, 1, "the pool's one connection");

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    db.ping().await.unwrap();
}

/// A scratch PostgreSQL database for the PostgreSQL-only test `test`; `None` (after saying
/// so) without `TEST_DATABASE_URL`.
async fn postgres_scratch(test: &str) -> Option<ScratchDatabase> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(ScratchDatabase::postgres(&url).await),
        _ => {
            eprintln!("TEST_DATABASE_URL unset: skipping {test}");
            None
        }
    }
}
