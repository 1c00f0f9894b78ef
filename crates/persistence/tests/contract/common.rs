//! The harness: one database per test and backend, the macro that runs each body on both,
//! and builders of test data.

use std::future::Future;

use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pas_domain::audit::{AuditTrail, Caller, NewAuditEvent};
use pas_domain::events::Change;
use pas_domain::ids::AuditEventId;
use pas_domain::ports::{
    AuditStore, CatalogStore, ChangeSet, ContactStore, Outbox, OutboxMessage, ProcessRepository,
    TemplateStore, WebhookStore,
};
use pas_domain::prelude::*;
use pas_persistence::Db;
use pas_persistence::testing::ScratchDatabase;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

/// Runs each body against SQLite (`sqlite::name`) and PostgreSQL (`postgres::name`).
macro_rules! contract_tests {
    ($($(#[$meta:meta])* async fn $name:ident($ctx:ident: Ctx) $body:block)+) => {
        $(
            $(#[$meta])*
            async fn $name($ctx: $crate::common::Ctx) $body
        )+

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run_sqlite(super::$name).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run_postgres(stringify!($name), super::$name).await;
                }
            )+
        }
    };
}

/// What a test body gets: the store under test and the URL of its database (for the few
/// tests that look at or tamper with rows directly).
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub url: String,
}

impl Ctx {
    pub fn processes(&self) -> &dyn ProcessRepository {
        &self.db
    }
    pub fn audit(&self) -> &dyn AuditStore {
        &self.db
    }
    pub fn outbox(&self) -> &dyn Outbox {
        &self.db
    }
    pub fn catalog(&self) -> &dyn CatalogStore {
        &self.db
    }
    pub fn contacts(&self) -> &dyn ContactStore {
        &self.db
    }
    pub fn templates(&self) -> &dyn TemplateStore {
        &self.db
    }
    pub fn webhooks(&self) -> &dyn WebhookStore {
        &self.db
    }

    /// Runs one SQL statement on a connection of its own.
    pub async fn execute(&self, sql: &str) -> usize {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                .await
                .unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap()
        } else {
            let mut conn = AsyncPgConnection::establish(&self.url).await.unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap()
        }
    }

    /// Every pending outbox row due by 2100, leased to `"inspector"` until 2200 so that the
    /// next call sees only rows written since.
    pub async fn pending_outbox(&self) -> Vec<OutboxMessage> {
        let far = datetime!(2100-01-01 0:00 UTC);
        let farther = datetime!(2200-01-01 0:00 UTC);
        self.outbox()
            .claim(
                pas_domain::ports::OutboxLease {
                    owner: "inspector".into(),
                    token: Uuid::now_v7(),
                },
                10_000,
                far,
                farther,
            )
            .await
            .unwrap()
    }

    /// The audit trail of a process.
    pub async fn trail(&self, process: ProcessId) -> AuditTrail {
        self.audit().trail(process).await.unwrap()
    }
}

/// Connects to a scratch database, migrates it, runs `body`, then drops the database, also
/// when the body panics (the panic is passed on).
///
/// The audit keys are [`test_keys`].
async fn run<F, Fut>(scratch: ScratchDatabase, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = scratch.url().to_owned();
    let db = Db::connect(&url, 4)
        .await
        .unwrap()
        .with_audit_keys(test_keys());
    db.migrate().await.unwrap();
    let outcome = tokio::spawn(body(Ctx { db, url })).await;
    drop(scratch);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

pub async fn run_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(ScratchDatabase::sqlite().await, body).await;
}

pub async fn run_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            run(ScratchDatabase::postgres(&url).await, body).await;
        }
        _ => {
            // Straight to stderr, past the test harness's capture, so that every run shows
            // what it skipped.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "TEST_DATABASE_URL unset: skipping PostgreSQL half of {test}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Test data

/// The instant most tests act at.
pub const T0: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

/// `T0` plus `hours`.
pub fn at(hours: i64) -> OffsetDateTime {
    T0 + time::Duration::hours(hours)
}

/// A valid Latvian personal code (old form, with its hyphen).
pub const LV_CODE: &str = "161175-19997";
/// The same code normalised.
pub const LV_CODE_PLAIN: &str = "16117519997";
/// A valid Latvian code of the newer `32…` form, written without a hyphen.
pub const LV_NEW_CODE: &str = "32123456789";
/// A valid Estonian personal code.
pub const EE_CODE: &str = "37605030299";

/// A SIGNER with a personal code.
pub fn signer(name: &str, email: &str, country: &str, code: &str) -> serde_json::Value {
    serde_json::json!({
        "signerRole": "SIGNER", "signerName": name, "signerEmail": email,
        "signerCountry": country, "signerPersonalCode": code, "signerLanguage": "lv",
    })
}

/// An anonymous SIGNER (no personal code) that gets no emails.
pub fn anonymous(name: &str) -> serde_json::Value {
    serde_json::json!({"signerRole": "SIGNER", "signerName": name, "signerNotification": false})
}

/// An entry of another role without a personal code.
pub fn role(role: &str, email: &str) -> serde_json::Value {
    serde_json::json!({"signerRole": role, "signerEmail": email})
}

/// A process body: `fields` merged over a document in group `sales` with one step of
/// `signers` (due in three days).
pub fn process_json(
    fields: serde_json::Value,
    signers: Vec<serde_json::Value>,
) -> serde_json::Value {
    let mut base = serde_json::json!({
        "documentId": "doc-1",
        "documentName": "Contract",
        "documentType": "contract",
        "ownerGroup": "sales",
        "initiatorName": "Office",
        "processInitiatorEmail": "office@example.lv",
        "signingProcessSteps": [{"processOrder": 1, "dueDate": "2026-03-05T12:00:00Z",
            "processStepSigners": signers}],
    });
    if let (Some(base), Some(fields)) = (base.as_object_mut(), fields.as_object()) {
        for (k, v) in fields {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

/// The audit rows of a change, as the service makes them.
pub fn change_set(process: &ProcessData, change: Change) -> ChangeSet {
    let caller = Caller::system("contract-test");
    let audit = change
        .events
        .iter()
        .map(|e| {
            NewAuditEvent::from_domain(
                AuditEventId::from_uuid(Uuid::now_v7()),
                e,
                process,
                &caller,
                "test",
                &pii_key(),
            )
        })
        .collect();
    ChangeSet {
        audit,
        change,
        idempotency_key: None,
    }
}

/// A process created (not stored) from `json` at `now`, with its change.
pub fn create(json: serde_json::Value, now: OffsetDateTime) -> (SigningProcess, ChangeSet) {
    let input: ProcessInput = serde_json::from_value(json).unwrap();
    let (process, change) = SigningProcess::create(input.validate().unwrap(), &UuidV7Ids, now)
        .unwrap_or_else(|e| panic!("create failed: {e:?}"));
    let changes = change_set(&process, change);
    (process, changes)
}

/// Creates and stores a process.
pub async fn insert(ctx: &Ctx, json: serde_json::Value, now: OffsetDateTime) -> SigningProcess {
    let (process, changes) = create(json, now);
    ctx.processes().insert(&process, &changes).await.unwrap();
    process
}

/// Creates, starts (rule 2) and stores a process.
pub async fn insert_started(
    ctx: &Ctx,
    json: serde_json::Value,
    now: OffsetDateTime,
) -> SigningProcess {
    let mut json = json;
    json["status"] = "STARTED".into();
    insert(ctx, json, now).await
}

/// Runs a command on `process` and saves it with its change.
pub async fn apply(
    ctx: &Ctx,
    process: &mut SigningProcess,
    command: impl FnOnce(&mut SigningProcess) -> Change,
) {
    let before = process.clone();
    let change = command(process);
    let changes = change_set(process, change);
    ctx.processes()
        .save(&before, process, &changes)
        .await
        .unwrap();
}

/// The ids of processes, in order.
pub fn ids(processes: &[SigningProcess]) -> Vec<ProcessId> {
    processes.iter().map(|p| p.id).collect()
}

/// The audit keys of the contract suite: current key of 32 bytes `1`, retired key of 32
/// bytes `2`.
pub fn test_keys() -> pas_domain::audit::AuditKeys {
    use pas_domain::audit::{AuditKey, AuditKeys};
    AuditKeys::new(
        AuditKey::new(vec![1; 32]).unwrap(),
        vec![AuditKey::new(vec![2; 32]).unwrap()],
    )
}

/// The key of personal-code pseudonyms in these tests.
pub fn pii_key() -> pas_domain::pseudonym::PiiKey {
    pas_domain::pseudonym::PiiKey::new(vec![7; 32]).expect("a 32-byte key")
}
