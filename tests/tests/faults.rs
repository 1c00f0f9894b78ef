//! Faults of the database (PRODUCT.md section 14): while PostgreSQL is cut off or
//! blackholed (through the proxy of `support/db_proxy.rs`), reads and writes answer 503
//! problem+json with `Retry-After` within `DATABASE_TIMEOUT_MS` + 1 s and `/ready` is 503;
//! after it returns, every kind of operation works again without a restart. A service
//! started while PostgreSQL is unreachable serves `/health`, answers 503 elsewhere, and
//! migrates and serves once it is reachable. On SQLite, a write blocked by another
//! process's lock answers 503 within the bound.
//!
//! The PostgreSQL tests run with `TEST_DATABASE_URL` and say so when skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/db_proxy.rs"]
mod db_proxy;

use std::time::{Duration, Instant};

use db_proxy::{DbProxy, Mode};
use pas_app::config::{Config, Source};
use pas_app::{Running, Signals};
use pas_e2e::{Answer, Backend, TestApp, lease_process};
use pas_persistence::testing::ScratchDatabase;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// `DATABASE_TIMEOUT_MS` of these tests.
const TIMEOUT_MS: u64 = 500;

/// What an answer during an outage may take: the timeout and one second (section 14).
fn bound() -> Duration {
    Duration::from_millis(TIMEOUT_MS) + Duration::from_secs(1)
}

fn test_database_url(test: &str) -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("TEST_DATABASE_URL unset: skipping the PostgreSQL test {test}");
            None
        }
    }
}

/// A client that opens a fresh connection per request, so a request never waits on a
/// connection the service closed.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn call(
    client: &reqwest::Client,
    root: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let url = if path == "/health" || path == "/ready" {
        format!("{root}{path}")
    } else {
        format!("{root}/api/v1{path}")
    };
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("the service answers");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("a body");
    Answer {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// The operations of the API by kind, each a request the service must answer.
#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    Start,
    Read,
    List,
}

const OPS: [Op; 4] = [Op::Create, Op::Start, Op::Read, Op::List];

/// Runs `op`; `draft` is a draft process for `Start` (a fresh one each time it succeeds),
/// `existing` a process to read.
async fn run(client: &reqwest::Client, root: &str, op: Op, draft: &str, existing: &str) -> Answer {
    match op {
        Op::Create => {
            call(
                client,
                root,
                Method::POST,
                "/processes",
                Some(lease_process()),
            )
            .await
        }
        Op::Start => {
            call(
                client,
                root,
                Method::POST,
                &format!("/processes/{draft}/start"),
                None,
            )
            .await
        }
        Op::Read => {
            call(
                client,
                root,
                Method::GET,
                &format!("/processes/{existing}"),
                None,
            )
            .await
        }
        Op::List => {
            call(
                client,
                root,
                Method::GET,
                "/processes?ownerGroup=sales&page=0&size=5",
                None,
            )
            .await
        }
    }
}

fn assert_unavailable(answer: &Answer, what: &str, took: Duration) {
    let p = answer.problem(503);
    assert_eq!(p["type"], "urn:pas:problem:unavailable", "{what}: {p}");
    assert_eq!(answer.header("retry-after"), Some("2"), "{what}");
    assert!(
        took <= bound(),
        "{what} took {took:?}, more than {:?}",
        bound()
    );
}

async fn create(client: &reqwest::Client, root: &str) -> String {
    let created = call(
        client,
        root,
        Method::POST,
        "/processes",
        Some(lease_process()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

/// The service on a scratch PostgreSQL database reached through a proxy in `mode`.
struct Behind {
    proxy: DbProxy,
    config: Config,
    _scratch: ScratchDatabase,
}

async fn behind_proxy(admin_url: &str, mode: Mode) -> Behind {
    let scratch = ScratchDatabase::postgres(admin_url).await;
    let proxy = DbProxy::in_front_of(scratch.url(), mode).await;
    let url = proxy.url_through(scratch.url());
    let mail_dir = std::env::temp_dir().join(format!("pas-faults-mail-{}", std::process::id()));
    let mail_dir = mail_dir.to_string_lossy().into_owned();
    let timeout = TIMEOUT_MS.to_string();
    let config = Config::load(&Source::from_pairs([
        ("APP_BIND", "127.0.0.1:0"),
        ("AUDIT_KEY", pas_e2e::TEST_AUDIT_KEY),
        ("PII_KEY", pas_e2e::TEST_PII_KEY),
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_POOL_SIZE", "4"),
        ("DATABASE_TIMEOUT_MS", timeout.as_str()),
        ("SHUTDOWN_GRACE_SECONDS", "5"),
        ("MAIL_DIR", mail_dir.as_str()),
    ]))
    .unwrap();
    Behind {
        proxy,
        config,
        _scratch: scratch,
    }
}

/// Every operation kind answers 503 in time, and `/ready` is 503, in `mode`; then, once the
/// proxy passes again, each works at its first try.
async fn outage_then_recovery(mode: Mode) {
    let test = format!("postgres_{mode:?}_answers_503_in_time_and_recovers").to_lowercase();
    let Some(admin) = test_database_url(&test) else {
        return;
    };
    let setup = behind_proxy(&admin, Mode::Pass).await;
    let running = pas_e2e::start_ready(&setup.config).await;
    let root = format!("http://{}", running.addr);
    let client = client();
    let existing = create(&client, &root).await;
    let mut draft = create(&client, &root).await;
    for op in OPS {
        let answer = run(&client, &root, op, &draft, &existing).await;
        assert!(
            answer.status.is_success(),
            "{op:?} before the outage: {}",
            answer.body
        );
        if let Op::Start = op {
            draft = create(&client, &root).await;
        }
    }

    setup.proxy.set(mode).await;
    for round in 0..2 {
        for op in OPS {
            let began = Instant::now();
            let answer = run(&client, &root, op, &draft, &existing).await;
            assert_unavailable(
                &answer,
                &format!("{op:?} during {mode:?} (round {round})"),
                began.elapsed(),
            );
        }
        let began = Instant::now();
        let ready = call(&client, &root, Method::GET, "/ready", None).await;
        assert_eq!(
            ready.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "/ready during {mode:?}"
        );
        assert!(
            began.elapsed() <= bound(),
            "/ready took {:?}",
            began.elapsed()
        );
        let health = call(&client, &root, Method::GET, "/health", None).await;
        assert_eq!(health.status, StatusCode::OK, "/health during {mode:?}");
    }

    setup.proxy.set(Mode::Pass).await;
    for op in OPS {
        let answer = run(&client, &root, op, &draft, &existing).await;
        assert!(
            answer.status.is_success(),
            "{op:?} after {mode:?} ended, without a restart: {} {}",
            answer.status,
            answer.body
        );
        if let Op::Start = op {
            assert_eq!(answer.body["status"], "STARTED", "{}", answer.body);
        }
    }
    let ready = call(&client, &root, Method::GET, "/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK, "/ready after {mode:?} ended");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_answers_503_in_time_and_recovers() {
    outage_then_recovery(Mode::Cut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_blackhole_answers_503_in_time_and_recovers() {
    outage_then_recovery(Mode::Blackhole).await;
}

/// A slow database: within the timeout, answers as usual; slower than it, 503 in time, and
/// fast again, answers as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_delay_answers_within_the_timeout_or_503_in_time() {
    let test = "postgres_delay_answers_within_the_timeout_or_503_in_time";
    let Some(admin) = test_database_url(test) else {
        return;
    };
    let setup = behind_proxy(&admin, Mode::Pass).await;
    let running = pas_e2e::start_ready(&setup.config).await;
    let root = format!("http://{}", running.addr);
    let client = client();
    let existing = create(&client, &root).await;
    let draft = create(&client, &root).await;
    let read = format!("/processes/{existing}");

    setup.proxy.set(Mode::Delay(Duration::from_millis(2))).await;
    let slow = call(&client, &root, Method::GET, &read, None).await;
    assert_eq!(slow.status, StatusCode::OK, "{}", slow.body);

    setup
        .proxy
        .set(Mode::Delay(Duration::from_millis(TIMEOUT_MS + 100)))
        .await;
    for op in OPS {
        let began = Instant::now();
        let answer = run(&client, &root, op, &draft, &existing).await;
        assert_unavailable(
            &answer,
            &format!("{op:?} slower than the timeout"),
            began.elapsed(),
        );
    }

    setup.proxy.set(Mode::Pass).await;
    let again = call(&client, &root, Method::GET, &read, None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    running.stop().await;
}

async fn start_unready(config: &Config) -> Running {
    pas_app::start(config, Signals::Ignore)
        .await
        .expect("the service starts without its database")
}

/// Started with the proxy closed (section 14): `/health` 200 at once, `/ready` 503, the API
/// 503 with `Retry-After`; once the proxy opens, it migrates and serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_start_while_unreachable_then_migrates_and_serves() {
    let test = "postgres_start_while_unreachable_then_migrates_and_serves";
    let Some(admin) = test_database_url(test) else {
        return;
    };
    for closed in [Mode::Cut, Mode::Blackhole] {
        let setup = behind_proxy(&admin, closed).await;
        let began = Instant::now();
        let running = start_unready(&setup.config).await;
        assert!(
            began.elapsed() < Duration::from_secs(1),
            "the start waited for the database"
        );
        let root = format!("http://{}", running.addr);
        let client = client();

        let health = call(&client, &root, Method::GET, "/health", None).await;
        assert_eq!(
            health.status,
            StatusCode::OK,
            "/health with the database {closed:?}"
        );
        let ready = call(&client, &root, Method::GET, "/ready", None).await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{closed:?}");
        for op in OPS {
            let began = Instant::now();
            let answer = run(
                &client,
                &root,
                op,
                "0190f3a2-0000-7000-8000-000000000001",
                "0190f3a2-0000-7000-8000-000000000002",
            )
            .await;
            assert_unavailable(
                &answer,
                &format!("{op:?} before the database ({closed:?})"),
                began.elapsed(),
            );
        }
        // A few attempts fail meanwhile; the service keeps trying.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let still = call(
            &client,
            &root,
            Method::GET,
            "/processes?ownerGroup=sales",
            None,
        )
        .await;
        assert_unavailable(&still, "still closed", Duration::ZERO);

        setup.proxy.set(Mode::Pass).await;
        let ready = tokio::time::timeout(Duration::from_secs(20), running.database_ready()).await;
        assert!(
            matches!(ready, Ok(true)),
            "not migrated 20 s after the database opened ({closed:?})"
        );
        let existing = create(&client, &root).await;
        let draft = create(&client, &root).await;
        for op in OPS {
            let answer = run(&client, &root, op, &draft, &existing).await;
            assert!(
                answer.status.is_success(),
                "{op:?} after the start ({closed:?}): {}",
                answer.body
            );
        }
        let ready = call(&client, &root, Method::GET, "/ready", None).await;
        assert_eq!(ready.status, StatusCode::OK);
        running.stop().await;
    }
}

/// A URL that cannot work still fails the start at once, with one line.
#[tokio::test]
async fn an_unparseable_database_url_fails_the_start_at_once() {
    let config = Config::load(&Source::from_pairs([
        ("APP_BIND", "127.0.0.1:0"),
        ("AUDIT_KEY", pas_e2e::TEST_AUDIT_KEY),
        ("PII_KEY", pas_e2e::TEST_PII_KEY),
        ("DATABASE_URL", "postgres://app:s3cret@127.0.0.1:notaport/x"),
    ]))
    .unwrap();
    let began = Instant::now();
    let err = match pas_app::start(&config, Signals::Ignore).await {
        Ok(_) => panic!("started with an unparseable URL"),
        Err(e) => e.to_string(),
    };
    assert!(began.elapsed() < Duration::from_secs(1));
    assert!(!err.contains('\n') && !err.contains("s3cret"), "{err}");
    assert!(err.contains("not valid"), "{err}");
}

/// SQLite: a write that another process's lock blocks answers 503 within the bound; reads
/// go on meanwhile (WAL), and the write works once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_blocked_by_an_outside_lock_answers_503_in_time() {
    let timeout = TIMEOUT_MS.to_string();
    // `None` only in the pass through PgBouncer, which skips SQLite.
    let Some(app) = TestApp::start_with(
        Backend::Sqlite,
        "sqlite_write_blocked_by_an_outside_lock_answers_503_in_time",
        &[("DATABASE_TIMEOUT_MS", timeout.as_str())],
    )
    .await
    else {
        return;
    };
    let existing = app.create_process(lease_process()).await;
    let id = existing["id"].as_str().unwrap().to_owned();
    let path = app
        .database_url()
        .trim_start_matches("sqlite://")
        .to_owned();

    // Another process (a connection of its own) holds the write lock.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(Duration::from_secs(60));
        conn.batch_execute("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();

    let began = Instant::now();
    let blocked = app.post("/processes", lease_process()).await;
    assert_unavailable(
        &blocked,
        "a create while another process holds the lock",
        began.elapsed(),
    );
    // A list (not audited by default, so no write) beside the lock.
    let read = app.get("/processes?ownerGroup=sales&page=0&size=5").await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "a read beside the lock: {}",
        read.body
    );
    assert_eq!(read.body["content"][0]["id"], id.as_str());

    release_tx.send(()).unwrap();
    holder.join().unwrap();
    app.create_process(lease_process()).await;
    app.stop().await;
}
