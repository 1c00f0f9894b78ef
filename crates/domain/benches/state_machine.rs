//! Micro-benchmarks of the pure domain: the state machine, validation, the
//! audit hash chain and personal-code checks. Run with `cargo bench -p pas-domain`; the
//! medians are recorded in `docs/PERFORMANCE.md`.
//!
//! Every process here is built through the public API exactly as the HTTP edge does it:
//! JSON → `ProcessInput` → `validate` → `SigningProcess::create` → commands.

use std::hint::black_box;

// The tests' builders, for the JSON a client sends back to update a process.
#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pas_domain::audit::{
    AuditKey, AuditKeys, AuditingEvent, ChainHead, NewAuditEvent, chain, verify_chain,
};
use pas_domain::ids::AuditEventId;
use pas_domain::prelude::*;
use pas_domain::values::{CountryCode, PersonalCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

/// A valid Latvian personal code (`DDMMYY-1NNNK`) for `n`: distinct birth dates and serials,
/// so validation does real work on every entry.
fn lv_code(n: u32) -> String {
    const WEIGHTS: [u32; 10] = [1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut serial = n;
    loop {
        let day = 1 + serial % 28;
        let month = 1 + (serial / 28) % 12;
        let year = 50 + (serial / 336) % 50;
        let tail = serial % 1000;
        let digits = format!("{day:02}{month:02}{year:02}1{tail:03}");
        let sum: u32 = digits
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = (1101 - sum) % 11;
        if check < 10 {
            return format!("{}-{}{check}", &digits[..6], &digits[6..]);
        }
        serial += 1;
    }
}

/// Input JSON of a process with `steps` steps of `per_step` entries each. Every step has one
/// VIEWER (if it has more than one entry), a few APPROVERs and otherwise SIGNERs with Latvian
/// personal codes, so every role and the personal-code check are exercised.
fn process_json(steps: u32, per_step: u32) -> Value {
    let steps: Vec<Value> = (0..steps)
        .map(|s| {
            let entries: Vec<Value> = (0..per_step)
                .map(|e| {
                    let n = s * per_step + e;
                    let email = format!("person{n}@example.lv");
                    match e {
                        0 if per_step > 1 => json!({"signerRole": "VIEWER", "signerEmail": email}),
                        1..=3 if per_step > 4 => json!({
                            "signerRole": "APPROVER", "signerEmail": email,
                            "signerName": format!("Approver {n}"), "signerLanguage": "lv"
                        }),
                        _ => json!({
                            "signerRole": "SIGNER", "signerEmail": email,
                            "signerName": format!("Signer {n}"), "signerCountry": "LV",
                            "signerPersonalCode": lv_code(n), "signerLanguage": "lv",
                            "commentForSigner": "Please sign by Friday"
                        }),
                    }
                })
                .collect();
            json!({"processOrder": s + 1, "processStepSigners": entries})
        })
        .collect();
    json!({
        "documentId": "doc-bench",
        "documentName": "Office lease 2026",
        "documentType": "LEASE",
        "processInitiatorEmail": "office@example.lv",
        "initiatorName": "Office Manager",
        "ownerGroup": "sales",
        "comment": "Benchmark process",
        "signingProcessSteps": steps,
    })
}

fn create_from_json(json: &str) -> (SigningProcess, Change) {
    let input: ProcessInput = serde_json::from_str(json).expect("input parses");
    let draft = input.validate().expect("input is valid");
    SigningProcess::create(draft, &SequentialIds::default(), T0).expect("create succeeds")
}

fn started(steps: u32, per_step: u32) -> SigningProcess {
    let json = process_json(steps, per_step).to_string();
    let (mut p, _) = create_from_json(&json);
    let _ = p.start(T0).expect("start succeeds");
    p
}

/// The action each role takes to finish its task.
fn action_for(role: SignerRole) -> Action {
    match role {
        SignerRole::Signer => Action::Sign,
        SignerRole::Approver => Action::Approve,
        _ => Action::View,
    }
}

/// Every entry acts, step by step: VIEWERs first so that they act before their step ends.
fn sign_through(p: &mut SigningProcess) -> usize {
    let mut events = 0;
    for s in 0..p.steps.len() {
        let mut order: Vec<(EntryId, SignerRole)> = p.steps[s]
            .entries
            .iter()
            .map(|e| (e.id, e.role()))
            .collect();
        order.sort_by_key(|(_, role)| role.must_act());
        for (id, role) in order {
            let change = p
                .act(id, action_for(role), None, T0)
                .expect("every entry may act");
            events += change.events.len();
        }
    }
    events
}

fn bench_create(c: &mut Criterion) {
    let mut g = c.benchmark_group("create");
    for (steps, per_step) in [(1, 1), (10, 10)] {
        let json = process_json(steps, per_step).to_string();
        g.bench_function(format!("json_validate_create_{steps}x{per_step}"), |b| {
            b.iter(|| create_from_json(black_box(&json)));
        });
    }
    g.finish();
}

fn bench_commands(c: &mut Criterion) {
    let json = process_json(10, 10).to_string();
    let (pending, _) = create_from_json(&json);
    c.bench_function("start_10x10", |b| {
        b.iter_batched(
            || pending.clone(),
            |mut p| p.start(T0).expect("start succeeds"),
            BatchSize::SmallInput,
        );
    });

    let running = started(10, 10);
    c.bench_function("sign_through_10x10", |b| {
        b.iter_batched(
            || running.clone(),
            |mut p| {
                let events = sign_through(&mut p);
                assert_eq!(p.status, ProcessStatus::Completed);
                events
            },
            BatchSize::SmallInput,
        );
    });

    // The update a client sends: the process as read, with the header and the entries of a
    // step that has not started edited (rule 8 allows both on a running process).
    let mut edited = support::as_draft_json(&running);
    edited["documentName"] = json!("Office lease 2026 (v2)");
    edited["signingProcessSteps"][9]["processStepSigners"][5]["signerName"] = json!("Renamed");
    let draft = serde_json::from_value::<ProcessInput>(edited)
        .expect("parses")
        .validate()
        .expect("is valid");
    c.bench_function("update_running_10x10", |b| {
        b.iter_batched(
            || (running.clone(), draft.clone()),
            |(mut p, d)| {
                p.update(d, &SequentialIds::default(), T0)
                    .expect("update succeeds")
            },
            BatchSize::SmallInput,
        );
    });

    // Every command works on a copy of the process (see `machine.rs`): this is that copy's
    // share of start, update and each action of the sign-through.
    c.bench_function("clone_10x10", |b| {
        b.iter(|| black_box(&running).clone());
    });
}

fn audit_chain(len: u32) -> Vec<AuditingEvent> {
    let process = started(1, 1);
    let mut rows: Vec<AuditingEvent> = Vec::with_capacity(len as usize);
    for n in 0..len {
        let event = NewAuditEvent {
            id: AuditEventId::from_uuid(uuid::Uuid::from_u128(u128::from(n) + 1)),
            created_at: T0 + time::Duration::seconds(i64::from(n)),
            event_type: if n % 2 == 0 {
                EventType::ProcessGetone
            } else {
                EventType::SignerSigned
            },
            event_origin: Some(pas_domain::audit::EVENT_ORIGIN.to_owned()),
            creator: Some("api".to_owned()),
            document_id: Some(process.header.document_id.clone()),
            signer_id: process.entries().next().map(|e| e.id),
            customer_personal_code: Some(pas_domain::pseudonym::mask_personal_code(&lv_code(n))),
            note: Some(format!("event {n}")),
            process_id: Some(process.id),
            ip_address: Some("127.0.0.1".to_owned()),
            container_id: None,
            method: Some("signProcessStep".to_owned()),
            client_app_name: Some("curl/8".to_owned()),
            // The stored form's length: an HMAC in hex.
            customer_pseudonym: Some(format!("{n:064x}")),
        };
        let head = rows
            .last()
            .map(|r| ChainHead::after(r, 0))
            .unwrap_or_default();
        let row = chain(&bench_keys(), &head, event);
        rows.push(row);
    }
    rows
}

fn bench_keys() -> AuditKeys {
    AuditKeys::new(AuditKey::new(vec![1; 32]).expect("32 bytes"), vec![])
}

fn bench_audit(c: &mut Criterion) {
    let rows = audit_chain(1000);
    let keys = bench_keys();
    let head = rows.last().map(|r| ChainHead::after(r, 0));
    assert_eq!(verify_chain(&keys, &rows, head.as_ref(), true), None);
    c.bench_function("verify_chain_1000", |b| {
        b.iter(|| verify_chain(&keys, black_box(&rows), head.as_ref(), true));
    });
}

fn bench_personal_code(c: &mut Criterion) {
    let mut g = c.benchmark_group("personal_code_parse");
    g.bench_function("LV", |b| {
        b.iter(|| PersonalCode::parse(black_box("161175-19997"), CountryCode::LV));
    });
    g.bench_function("EE", |b| {
        b.iter(|| PersonalCode::parse(black_box("37605030299"), CountryCode::EE));
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_create,
    bench_commands,
    bench_audit,
    bench_personal_code
);
criterion_main!(benches);
