//! SIGTERM on the real binary under load (PRODUCT.md section 14): the service stops
//! accepting, finishes the requests in flight, and exits 0 within `SHUTDOWN_GRACE_SECONDS`.
//!
//! Eight clients create processes in a loop, each request on a fresh connection. A request
//! sent more than 100 ms before SIGTERM (so surely accepted) must complete with 201; one sent
//! later may instead fail without any answer, its connection refused, or reset from the
//! listen queue that the service no longer accepts from. That no accepted request failed is
//! checked from the other side as well:
//! after the exit, the database holds exactly as many processes as were answered 201 (a
//! request the service had accepted and then dropped would be missing from the 201s, and
//! one cut off after its commit would be an extra row). On PostgreSQL the database is
//! reached through a proxy that delays every packet, so that requests are in flight when
//! the signal comes; they must complete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/tests/support/db_proxy.rs"]
mod db_proxy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use db_proxy::{DbProxy, Mode};
use pas_persistence::testing::ScratchDatabase;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The audit key of the binary under test, so that it does not generate `data/audit.key`
/// in the source tree (it would with `AUTH_MODE=off` and no key).
const TEST_AUDIT_KEY: &str = "dGVzdC1hdWRpdC1rZXktb2YtdGhlLWUyZS1zdWl0ZS0wMQ==";
const TEST_PII_KEY: &str = "dGVzdC1waWkta2V5LW9mLXRoZS1lMmUtc3VpdGUtMDE=";

const GRACE_SECONDS: u64 = 10;
const CLIENTS: usize = 8;

fn process(n: usize) -> Value {
    json!({
        "documentId": format!("sigterm-{n}"),
        "documentName": "Lease",
        "ownerGroup": "sales",
        "processInitiatorEmail": "office@example.lv",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerName": "Client"}
        ]}]
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary, with its log in a file of `dir`.
fn spawn(database_url: &str, port: u16, dir: &std::path::Path, log: &str) -> Child {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .env("APP_BIND", format!("127.0.0.1:{port}"))
        .env("AUDIT_KEY", TEST_AUDIT_KEY)
        .env("PII_KEY", TEST_PII_KEY)
        .env("DATABASE_URL", database_url)
        .env("DATABASE_TIMEOUT_MS", "10000")
        .env("SHUTDOWN_GRACE_SECONDS", GRACE_SECONDS.to_string())
        .env("MAIL_DIR", dir.join("mail"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

async fn wait_ready(client: &reqwest::Client, root: &str) {
    for _ in 0..300 {
        if let Ok(res) = client.get(format!("{root}/ready")).send().await {
            if res.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{root} is not ready within 30 s");
}

/// How long before SIGTERM a request must have been sent to count as accepted by the
/// service: far more than accepting a loopback connection takes.
const SURELY_ACCEPTED: Duration = Duration::from_millis(100);

/// What one request came to.
#[derive(Debug)]
enum Outcome {
    /// Answered, with this status; `after_signal` when the answer came after SIGTERM.
    Answered { status: u16, after_signal: bool },
    /// No answer at all (connection refused or reset); when it was sent, and when SIGTERM
    /// was (if it was by the time the request failed).
    NoAnswer {
        error: String,
        sent: Instant,
        signal: Option<Instant>,
    },
}

async fn client_loop(
    id: usize,
    root: String,
    signalled: Arc<std::sync::OnceLock<Instant>>,
) -> Vec<Outcome> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut outcomes = Vec::new();
    // Staggered, so that whenever the signal comes most clients have a request well past
    // its acceptance in flight (on PostgreSQL through the slow proxy).
    tokio::time::sleep(Duration::from_millis(150) * u32::try_from(id).unwrap()).await;
    for n in 0.. {
        let sent = Instant::now();
        let res = client
            .post(format!("{root}/api/v1/processes"))
            .json(&process(id * 100_000 + n))
            .send()
            .await;
        let signal = signalled.get().copied();
        let after_signal = signal.is_some();
        match res {
            Ok(res) => {
                let status = res.status().as_u16();
                let _ = res.bytes().await;
                outcomes.push(Outcome::Answered {
                    status,
                    after_signal,
                });
            }
            Err(e) => {
                let error = format!("{e:?}");
                outcomes.push(Outcome::NoAnswer {
                    error,
                    sent,
                    signal,
                });
                if after_signal {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    outcomes
}

async fn total_processes(client: &reqwest::Client, root: &str) -> u64 {
    let page: Value = client
        .get(format!(
            "{root}/api/v1/processes?ownerGroup=sales&page=0&size=1"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["totalElements"]
        .as_u64()
        .unwrap_or_else(|| panic!("a page with totalElements: {page}"))
}

/// Runs the load, SIGTERM after `load_for`, and checks the drain; `database_url` is what the
/// binary uses under load, `recount_url` what the recount uses.
async fn drain_under_load(
    database_url: &str,
    recount_url: &str,
    load_for: Duration,
    in_flight_expected: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let root = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = spawn(database_url, port, dir.path(), "serve.log");
    wait_ready(&client, &root).await;

    let signalled = Arc::new(std::sync::OnceLock::new());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(client_loop(id, root.clone(), signalled.clone())))
        .collect();
    tokio::time::sleep(load_for).await;

    let pid = child.id().expect("the binary runs");
    let sent = Instant::now();
    signalled.set(sent).unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(GRACE_SECONDS + 20), child.wait())
        .await
        .expect("the binary exits")
        .unwrap();
    let took = sent.elapsed();
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; log:\n{log}"
    );
    assert!(
        took < Duration::from_secs(GRACE_SECONDS),
        "the exit took {took:?}, more than the grace; log:\n{log}"
    );

    let mut created = 0_u64;
    let mut finished_after_signal = 0;
    let mut outcomes = Vec::new();
    for task in clients {
        outcomes.push(task.await.unwrap());
    }
    for outcomes in outcomes {
        for outcome in outcomes {
            match outcome {
                Outcome::Answered {
                    status,
                    after_signal,
                } => {
                    assert_eq!(status, 201, "an accepted request failed; log:\n{log}");
                    created += 1;
                    finished_after_signal += usize::from(after_signal);
                }
                Outcome::NoAnswer {
                    error,
                    sent,
                    signal,
                } => {
                    let signal = signal.unwrap_or_else(|| {
                        panic!("a request failed before SIGTERM: {error}; log:\n{log}")
                    });
                    assert!(
                        sent + SURELY_ACCEPTED > signal,
                        "a request sent {:?} before SIGTERM, so accepted, got no answer: {error}; log:\n{log}",
                        signal - sent
                    );
                }
            }
        }
    }
    assert!(created > 0, "the load created nothing");
    if in_flight_expected {
        assert!(
            finished_after_signal > 0,
            "no request was in flight at SIGTERM, so the drain was not exercised; log:\n{log}"
        );
    }
    assert!(log.contains("stopping"), "{log}");

    // The other side: as many processes as answered 201.
    let port = free_port();
    let root = format!("http://127.0.0.1:{port}");
    let mut again = spawn(recount_url, port, dir.path(), "recount.log");
    wait_ready(&client, &root).await;
    assert_eq!(
        total_processes(&client, &root).await,
        created,
        "processes stored vs. answered 201"
    );
    let _ = again.start_kill();
    let _ = again.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_sigterm_under_load_drains_and_exits_0() {
    let scratch = ScratchDatabase::sqlite().await;
    drain_under_load(
        scratch.url(),
        scratch.url(),
        Duration::from_millis(1500),
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_sigterm_under_load_drains_requests_in_flight_and_exits_0() {
    let Some(admin) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!(
            "TEST_DATABASE_URL unset: skipping postgres_sigterm_under_load_drains_requests_in_flight_and_exits_0"
        );
        return;
    };
    let scratch = ScratchDatabase::postgres(&admin).await;
    // Every packet 50 ms late: a create takes several round trips, so at any moment most
    // of the eight clients have a request in flight.
    let proxy = DbProxy::in_front_of(scratch.url(), Mode::Delay(Duration::from_millis(50))).await;
    let slow = proxy.url_through(scratch.url());
    drain_under_load(&slow, scratch.url(), Duration::from_millis(2500), true).await;
}
