//! The harness of the end-to-end tests: starts the real service (what `cargo run` starts)
//! on a scratch SQLite file or a scratch PostgreSQL database, and talks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_app::config::{Config, Source};
use pas_app::{Running, Signals};
use pas_persistence::testing::ScratchDatabase;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the server of `TEST_DATABASE_URL` (through the pooler of
    /// `TEST_DATABASE_POOLER_URL` when that is set).
    Postgres,
}

/// The pass of the suite through a transaction pooler (`tests/scripts/pgbouncer.sh`): the
/// service connects to its scratch database through `TEST_DATABASE_POOLER_URL` with
/// `DATABASE_STATEMENT_CACHE=false`, while the tests' own SQL goes straight to the server.
/// SQLite halves skip in that pass (they ran in the plain one).
fn pooler_url() -> Option<String> {
    std::env::var("TEST_DATABASE_POOLER_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A running service and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub root: String,
    client: reqwest::Client,
    running: Option<Running>,
    config: Config,
    /// The configuration's variables, for [`TestApp::reconfigure`].
    pairs: Vec<(String, String)>,
    /// The scratch database, dropped with the instance that made it (`None` for
    /// [`TestApp::another_instance`]).
    _scratch: Option<ScratchDatabase>,
    /// The database's URL straight to its server, for the tests' own SQL.
    direct_url: String,
}

/// An answer: status, headers, and the JSON body (`Null` when empty or not JSON).
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Value,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with `status` (content type, `status`, and the text
    /// members `type`, `title` and `detail`), and returns its JSON.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{}", self.body);
        for key in ["type", "title", "detail"] {
            assert!(
                self.body[key].is_string(),
                "problem without {key}: {}",
                self.body
            );
        }
        &self.body
    }
}

/// Starts the service in-process (signals ignored) and waits until its database is
/// migrated, so that the API serves. Panics when it does not start, or its database is not
/// ready within 30 s.
pub async fn start_ready(config: &Config) -> Running {
    let running = pas_app::start(config, Signals::Ignore)
        .await
        .expect("the service starts");
    let ready =
        tokio::time::timeout(std::time::Duration::from_secs(30), running.database_ready()).await;
    assert!(
        matches!(ready, Ok(true)),
        "the database of the service is not ready within 30 s"
    );
    running
}

/// The audit key of the end-to-end tests (32 bytes, base64), so that no test writes
/// `data/audit.key`.
pub const TEST_AUDIT_KEY: &str = "dGVzdC1hdWRpdC1rZXktb2YtdGhlLWUyZS1zdWl0ZS0wMQ==";

/// The key of personal-code pseudonyms of the end-to-end tests (32 bytes, base64), so that
/// no test writes `data/pii.key`.
pub const TEST_PII_KEY: &str = "dGVzdC1waWkta2V5LW9mLXRoZS1lMmUtc3VpdGUtMDE=";

/// A scratch database of `backend`; `None` (after saying so on stderr) for PostgreSQL when
/// `TEST_DATABASE_URL` is unset. Panics when it is set but unreachable.
pub async fn scratch_database(backend: Backend, test: &str) -> Option<ScratchDatabase> {
    match backend {
        Backend::Sqlite if pooler_url().is_some() => {
            eprintln!("TEST_DATABASE_POOLER_URL set: skipping SQLite half of {test}");
            None
        }
        Backend::Sqlite => Some(ScratchDatabase::sqlite().await),
        Backend::Postgres => match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Some(ScratchDatabase::postgres(&url).await),
            _ => {
                eprintln!("TEST_DATABASE_URL unset: skipping PostgreSQL half of {test}");
                None
            }
        },
    }
}

impl TestApp {
    /// Starts the service on `backend`; `None` (after saying so on stderr) for PostgreSQL
    /// when `TEST_DATABASE_URL` is unset. Panics when it is set but unreachable.
    pub async fn start(backend: Backend, test: &str) -> Option<Self> {
        Self::start_with(backend, test, &[]).await
    }

    /// Like [`TestApp::start`], with extra configuration (e.g. `SMTP_URL`, `MAIL_POLL_MS`).
    pub async fn start_with(backend: Backend, test: &str, extra: &[(&str, &str)]) -> Option<Self> {
        let scratch = scratch_database(backend, test).await?;
        let mail_dir = std::env::temp_dir().join(format!("pas-e2e-mail-{}", std::process::id()));
        let mail_dir = mail_dir.to_string_lossy().into_owned();
        let pooled = pooler_url().and_then(|pooler| scratch.url_via(&pooler));
        let mut pairs = vec![
            ("APP_BIND", "127.0.0.1:0"),
            ("DATABASE_URL", pooled.as_deref().unwrap_or(scratch.url())),
            ("DATABASE_POOL_SIZE", "8"),
            ("MAIL_DIR", mail_dir.as_str()),
            ("AUDIT_KEY", TEST_AUDIT_KEY),
            ("PII_KEY", TEST_PII_KEY),
        ];
        if pooled.is_some() {
            pairs.push(("DATABASE_STATEMENT_CACHE", "false"));
        }
        pairs.extend_from_slice(extra);
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = Config::load(&Source::from_pairs(pairs)).expect("test configuration is valid");
        let running = start_ready(&config).await;
        Some(Self {
            root: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            running: Some(running),
            config,
            pairs: owned,
            direct_url: scratch.url().to_owned(),
            _scratch: Some(scratch),
        })
    }

    /// Another instance of the service on the same database and configuration, on its own
    /// port (several instances behind a load balancer). The database belongs to `self`.
    pub async fn another_instance(&self) -> TestApp {
        let running = start_ready(&self.config).await;
        TestApp {
            root: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            running: Some(running),
            config: self.config.clone(),
            pairs: self.pairs.clone(),
            _scratch: None,
            direct_url: self.direct_url.clone(),
        }
    }

    /// Stops the service gracefully and starts it again on the same database.
    pub async fn restart(&mut self) {
        // Idle keep-alive connections would hold the graceful stop until they time out.
        self.client = reqwest::Client::new();
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        let running = start_ready(&self.config).await;
        self.root = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// Restarts the service on the same database with `extra` variables set over the
    /// current ones (a key rotation, say).
    pub async fn reconfigure(&mut self, extra: &[(&str, &str)]) {
        for (k, v) in extra {
            self.pairs.retain(|(key, _)| key != k);
            self.pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
        let pairs = self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        self.config =
            Config::load(&Source::from_pairs(pairs)).expect("test configuration is valid");
        self.restart().await;
    }

    /// `http://127.0.0.1:PORT` of the `METRICS_BIND` listener, when there is one.
    pub fn metrics_root(&self) -> Option<String> {
        self.running
            .as_ref()
            .and_then(|r| r.metrics_addr)
            .map(|a| format!("http://{a}"))
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The URL of the service's database straight to its server (not through a pooler):
    /// for SQL a test runs itself, as an attacker or an inspector would.
    pub fn database_url(&self) -> &str {
        &self.direct_url
    }

    /// Runs one SQL statement on a connection of its own (straight to the server), as an
    /// attacker with write access would; the number of rows it touched.
    pub async fn execute_sql(&self, sql: &str) -> usize {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        let url = self.database_url();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = diesel_async::sync_connection_wrapper::SyncConnectionWrapper::<
                diesel::SqliteConnection,
            >::establish(path)
            .await
            .unwrap();
            // The service's dispatcher may hold the write lock for a moment.
            diesel::sql_query("PRAGMA busy_timeout = 5000")
                .execute(&mut conn)
                .await
                .unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap()
        } else {
            let mut conn = diesel_async::AsyncPgConnection::establish(url)
                .await
                .unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap()
        }
    }

    /// The SQL literal of the digest `hex` as this database stores it
    /// (`pas_persistence::testing::digest_literal`).
    pub fn digest_literal(&self, hex: &str) -> String {
        pas_persistence::testing::digest_literal(self.database_url(), hex)
    }

    /// Runs a `SELECT COUNT(*) AS n …` on a connection of its own (straight to the server).
    pub async fn count_sql(&self, sql: &str) -> i64 {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let url = self.database_url();
        let count = if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = diesel_async::sync_connection_wrapper::SyncConnectionWrapper::<
                diesel::SqliteConnection,
            >::establish(path)
            .await
            .unwrap();
            diesel::sql_query(sql).get_result::<Count>(&mut conn).await
        } else {
            let mut conn = diesel_async::AsyncPgConnection::establish(url)
                .await
                .unwrap();
            diesel::sql_query(sql).get_result::<Count>(&mut conn).await
        };
        count.unwrap().n
    }

    /// Stops the service.
    pub async fn stop(mut self) {
        self.client = reqwest::Client::new();
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// A request to `/api/v1{path}` (or to `path` itself when it does not start with `/api`
    /// and is one of the root paths `/health`, `/ready`, `/openapi.json`, `/docs/`, `/metrics`).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = if ["/health", "/ready", "/openapi.json", "/docs", "/metrics"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            format!("{}{path}", self.root)
        } else {
            format!("{}/api/v1{path}", self.root)
        };
        let mut req = self.client.request(method, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the service answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, &[]).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    /// Creates a process from `body`, asserting the 201, and answers the created process.
    pub async fn create_process(&self, body: Value) -> Value {
        let created = self.post("/processes", body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.body
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body), &[]).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None, &[]).await
    }

    /// The status line's code of a request that declares a `content_length` body but sends
    /// none of it: how the service treats a body over the limit before reading it.
    pub async fn declared_length_status(&self, path: &str, content_length: usize) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.root.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("the service accepts");
        let head = format!(
            "POST /api/v1{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
        );
        stream
            .write_all(head.as_bytes())
            .await
            .expect("the request is written");
        let mut buf = vec![0_u8; 64];
        let n = stream.read(&mut buf).await.expect("the service answers");
        let line = String::from_utf8_lossy(&buf[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// A raw body (malformed JSON, huge payloads).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let res = self
            .client
            .request(method, format!("{}/api/v1{path}", self.root))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the service answers");
        let status = res.status();
        let headers = res.headers().clone();
        let body =
            serde_json::from_slice(&res.bytes().await.expect("a body")).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// Runs one async test body once per backend, given the backend and the test's name (for
/// bodies that start the service themselves, e.g. with extra configuration):
/// `each_backend!(name, |backend, test| async move { … });`
#[macro_export]
macro_rules! each_backend {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite, stringify!($name)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::Backend::Postgres, stringify!($name)).await;
            }
        }
    };
}

/// Runs one async test body against the service on both backends (the PostgreSQL half says
/// it skips without `TEST_DATABASE_URL`): `both!(name, |app| async move { … });`
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        $crate::each_backend!($name, |backend, test| async move {
            if let Some(app) = $crate::TestApp::start(backend, test).await {
                ($body)(app).await;
            }
        });
    };
}

/// The personal code of the signer of [`lease_process`] (a valid Latvian code).
pub const SIGNER_CODE: &str = "161175-19997";

/// A process as a client writes it, shared by the HTTP tests: a draft with an approver step,
/// then a signer step (due in 2030) whose entry has [`SIGNER_CODE`].
pub fn lease_process() -> serde_json::Value {
    serde_json::json!({
        "documentId": "lease-2026-17",
        "documentName": "Lease",
        "ownerGroup": "sales",
        "processInitiatorEmail": "office@example.lv",
        "signingProcessSteps": [
            {"processOrder": 1, "processStepSigners": [
                {"signerRole": "APPROVER", "signerEmail": "boss@example.lv", "signerName": "Boss"}
            ]},
            {"processOrder": 2, "dueDate": "2030-03-10T12:00:00Z", "processStepSigners": [
                {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
                 "signerPersonalCode": SIGNER_CODE, "signerName": "Client", "signerLanguage": "lv"}
            ]}
        ]
    })
}

/// The first entry with `role` (`SIGNER`, `APPROVER`, `VIEWER`) of a process as the API
/// answers it.
pub fn entry<'a>(process: &'a Value, role: &str) -> &'a Value {
    process["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .find(|s| s["signerRole"] == role)
        .unwrap_or_else(|| panic!("no {role} entry in {process}"))
}

/// The id of [`entry`].
pub fn entry_id(process: &Value, role: &str) -> String {
    entry(process, role)["id"]
        .as_str()
        .expect("an entry id")
        .to_owned()
}
