//! Seeds a database with audit chains for `bench/audit-verify.sh` (not a user command):
//! `SEED_PROCESSES` draft processes created through the domain's use case (each records
//! PROCESS_UPDATED `created`), then `SEED_EVENTS_PER_PROCESS - 1` more events appended to
//! each process's chain in one transaction through the repository's `record`, so every row
//! is chained by the same code as in the service (`pas_domain::audit::chain`, under the
//! `AUDIT_KEY` given) and verifies under that key.
//!
//! ```sh
//! DATABASE_URL=sqlite:///tmp/audit.db AUDIT_KEY=$(openssl rand -base64 32) \
//!   cargo run --release -p pas-persistence --example seed_audit
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use futures::StreamExt as _;
use pas_domain::audit::{AuditKey, AuditKeys, Caller, EVENT_ORIGIN, NewAuditEvent};
use pas_domain::events::Change;
use pas_domain::ids::AuditEventId;
use pas_domain::input::{EntryInput, ProcessInput, StepInput};
use pas_domain::ports::{ChangeSet, ProcessRepository, SystemClock, UuidV7Ids};
use pas_domain::process::SigningProcess;
use pas_domain::service::ProcessService;
use pas_domain::status::{EventType, SignerRole};
use pas_persistence::Db;

/// What happens to a process after its creation, in order (cycled when a chain is longer).
const LIFE: [(EventType, &str); 9] = [
    (EventType::ProcessStarted, "startProcess"),
    (EventType::TaskStarted, "startProcess"),
    (EventType::ProcessGetone, "getProcessById"),
    (EventType::ProcessOpened, "viewProcessStep"),
    (EventType::SignerSigned, "signProcessStep"),
    (EventType::TaskStarted, "signProcessStep"),
    (EventType::ApproverApproved, "approveProcessStep"),
    (EventType::ProcessCompleted, "approveProcessStep"),
    (EventType::ProcessGetone, "getProcessById"),
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn draft(n: usize) -> ProcessInput {
    ProcessInput {
        document_id: Some(format!("bench-doc-{n}")),
        document_name: Some(format!("Lease {n}")),
        owner_group: Some(format!("group-{}", n % 10)),
        process_initiator_email: Some("office@example.lv".into()),
        signing_process_steps: vec![StepInput {
            process_order: Some(1),
            process_step_signers: vec![EntryInput {
                signer_role: Some(SignerRole::Signer),
                signer_name: Some(format!("Signer {n}")),
                signer_email: Some(format!("signer{n}@example.lv")),
                ..EntryInput::default()
            }],
            ..StepInput::default()
        }],
        ..ProcessInput::default()
    }
}

/// The events after creation of `process`, as the service would record them.
fn life_of(process: &SigningProcess, events: usize) -> Vec<NewAuditEvent> {
    let start = process.created_at;
    (0..events)
        .map(|i| {
            let (event_type, method) = LIFE[i % LIFE.len()];
            NewAuditEvent {
                id: AuditEventId::from_uuid(uuid::Uuid::now_v7()),
                created_at: start + time::Duration::seconds(i64::try_from(i).unwrap() + 1),
                event_type,
                event_origin: Some(EVENT_ORIGIN.to_owned()),
                creator: Some("bench-user".into()),
                document_id: Some(process.header.document_id.clone()),
                signer_id: None,
                customer_personal_code: None,
                note: None,
                process_id: Some(process.id),
                ip_address: Some("192.0.2.10".into()),
                container_id: None,
                method: Some(method.to_owned()),
                client_app_name: Some("bench".into()),
                customer_pseudonym: None,
            }
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let key = base64::engine::general_purpose::STANDARD
        .decode(std::env::var("AUDIT_KEY").expect("AUDIT_KEY").trim())
        .expect("AUDIT_KEY is base64");
    let processes = env_number("SEED_PROCESSES", 10_000);
    let per_process = env_number("SEED_EVENTS_PER_PROCESS", 10).max(1);
    let concurrency = env_number("SEED_CONCURRENCY", 8).max(1);

    let keys = AuditKeys::new(AuditKey::new(key).expect("a 32-byte key"), vec![]);
    let db = Db::connect(&url, concurrency)
        .await
        .expect("connect")
        .with_audit_keys(keys);
    db.migrate().await.expect("migrate");
    let store = Arc::new(db.clone());
    // The pseudonym key only shapes rows about people; the seeded signers have no codes.
    let pii = pas_domain::pseudonym::PiiKey::new(vec![7; 32]).expect("a 32-byte key");
    let service = ProcessService::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(UuidV7Ids),
        pii,
    );
    let caller = Caller::system("bench-seed");

    let started = Instant::now();
    let mut done = 0_usize;
    let mut work = futures::stream::iter(0..processes)
        .map(|n| {
            let (service, store, caller) = (service.clone(), store.clone(), caller.clone());
            async move {
                let process = service.create(draft(n), &caller).await.expect("create");
                let changes = ChangeSet {
                    audit: life_of(&process, per_process - 1),
                    change: Change::default(),
                    idempotency_key: None,
                };
                store.record(process.id, &changes).await.expect("record");
            }
        })
        .buffer_unordered(concurrency);
    while work.next().await.is_some() {
        done += 1;
        if done % 1000 == 0 {
            eprintln!("seeded {done} of {processes} processes");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "seeded {processes} processes x {per_process} events = {} events in {seconds:.1} s",
        processes * per_process
    );
}
