//! Audit integrity end to end (PRODUCT.md section 11), on both databases: an attacker with
//! write access to the database (SQL on a connection of its own) edits, removes, truncates,
//! deletes and rewrites chains; `GET /processes/{id}/audit-trail` and the real
//! `app audit verify` binary (exit 1, naming chain and position) find each of them. A chain
//! rewritten with the right key after a checkpoint is found only with `--checkpoint`. Rows
//! under a retired and the current key both verify.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use base64::Engine;
use pas_domain::audit::{AuditKey, AuditingEvent, keyed_hash, unkeyed_hash};
use pas_e2e::{TEST_AUDIT_KEY, TestApp, each_backend, lease_process};
use serde_json::{Value, json};

/// Runs one SQL statement on a connection of its own, as an attacker would.
async fn attack(app: &TestApp, sql: &str) -> usize {
    app.execute_sql(sql).await
}

/// The stored rows of the chain of `process` (read only; the attacker knows the format).
async fn rows_of(app: &TestApp, process: &str) -> Vec<AuditingEvent> {
    let db = pas_persistence::Db::connect(app.database_url(), 1)
        .await
        .unwrap();
    db.stored_chain(process).await.unwrap().rows
}

/// Rewrites the chain of `process` from position `from` on with `hash` (previous, event),
/// `key_id` on every rewritten row, and moves the head to the new last hash.
async fn rewrite(
    app: &TestApp,
    process: &str,
    mut rows: Vec<AuditingEvent>,
    from: usize,
    key_id: Option<&str>,
    hash: impl Fn(Option<&str>, &pas_domain::audit::NewAuditEvent) -> String,
) {
    let mut previous = if from == 0 {
        None
    } else {
        Some(rows[from - 1].hash.clone())
    };
    let key_sql = key_id.map_or("NULL".to_owned(), |k| format!("'{k}'"));
    for row in &mut rows[from..] {
        row.hash = hash(previous.as_deref(), &row.event);
        let prev_sql = previous
            .as_ref()
            .map_or("NULL".to_owned(), |p| app.digest_literal(p));
        let note_sql = row
            .event
            .note
            .as_ref()
            .map_or("NULL".to_owned(), |n| format!("'{n}'"));
        let changed = attack(
            app,
            &format!(
                "UPDATE audit_events SET hash = {}, previous_hash = {prev_sql}, key_id = {key_sql}, \
                 note = {note_sql} WHERE id = '{}'",
                app.digest_literal(&row.hash),
                row.event.id
            ),
        )
        .await;
        assert_eq!(changed, 1);
        previous = Some(row.hash.clone());
    }
    attack(
        app,
        &format!(
            "UPDATE audit_chains SET head_hash = {} WHERE chain_key = '{process}'",
            app.digest_literal(&previous.unwrap())
        ),
    )
    .await;
}

fn test_key() -> AuditKey {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(TEST_AUDIT_KEY)
        .unwrap();
    AuditKey::new(bytes).unwrap()
}

/// A started process with five audit rows (update, start, task start, two reads).
async fn process_with_five_events(app: &TestApp) -> String {
    let mut body = lease_process();
    body["status"] = json!("STARTED");
    let created = app.create_process(body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    while trail(app, &id).await["events"].as_array().unwrap().len() < 5 {
        assert!(
            app.get(&format!("/processes/{id}"))
                .await
                .status
                .is_success()
        );
    }
    id
}

async fn trail(app: &TestApp, id: &str) -> Value {
    let answer = app.get(&format!("/processes/{id}/audit-trail")).await;
    assert!(answer.status.is_success(), "{}", answer.body);
    answer.body
}

/// Asserts the trail of `id` breaks at `position` for `reason`.
async fn assert_broken(app: &TestApp, id: &str, position: usize, reason: &str) {
    let t = trail(app, id).await;
    assert_eq!(t["valid"], false, "{id}: {t}");
    assert_eq!(t["brokenAt"], position, "{id}: {t}");
    assert_eq!(t["breakReason"], reason, "{id}: {t}");
}

/// Runs the real binary `app audit …` on the test's database; answers exit code and stdout.
fn app_audit(app: &TestApp, args: &[&str], extra: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pas-app-e2e"))
        .arg("audit")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", app.database_url())
        .env("AUDIT_KEY", TEST_AUDIT_KEY)
        .env("AUTH_MODE", "off")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn names(output: &str, id: &str, position: usize, reason: &str) -> bool {
    output.contains(&format!(
        "BROKEN chain {id} (process {id}) at position {position}: {reason}"
    ))
}

each_backend!(
    every_attack_is_detected_by_the_trail_and_app_audit_verify,
    |backend, test| async move {
        let Some(app) = TestApp::start(backend, test).await else {
            return;
        };
        let edited = process_with_five_events(&app).await;
        let middle = process_with_five_events(&app).await;
        let truncated = process_with_five_events(&app).await;
        let deleted = process_with_five_events(&app).await;
        let plain = process_with_five_events(&app).await;
        let keyed = process_with_five_events(&app).await;
        // Reads below record further events; the attack targets the first five of each.
        let dir = tempfile::tempdir().unwrap();
        let checkpoint = dir.path().join("checkpoint.json");
        let checkpoint = checkpoint.to_str().unwrap();

        // An unmodified database verifies.
        let (code, out) = app_audit(&app, &["verify"], &[]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("OK: "), "{out}");
        let (code, out) = app_audit(&app, &["checkpoint", "--out", checkpoint], &[]);
        assert_eq!(code, 0, "{out}");
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(checkpoint).unwrap()).unwrap();
        let line = written["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chainKey"] == keyed.as_str())
            .unwrap()
            .clone();
        assert_eq!(line["length"], 5);
        let published = app.get("/audit-checkpoint").await;
        assert!(published.status.is_success(), "{}", published.body);
        assert_eq!(published.body["root"], written["root"]);
        assert_eq!(
            published.body["chainCount"],
            written["chains"].as_array().unwrap().len()
        );

        // An edited row.
        attack(&app, &format!("UPDATE audit_events SET note = 'forged' WHERE chain_key = '{edited}' AND sequence = 1")).await;
        // A removed middle row.
        attack(
            &app,
            &format!("DELETE FROM audit_events WHERE chain_key = '{middle}' AND sequence = 2"),
        )
        .await;
        // The newest rows removed.
        attack(
            &app,
            &format!("DELETE FROM audit_events WHERE chain_key = '{truncated}' AND sequence >= 3"),
        )
        .await;
        // A whole chain deleted, head and all.
        attack(
            &app,
            &format!("DELETE FROM audit_events WHERE chain_key = '{deleted}'"),
        )
        .await;
        attack(
            &app,
            &format!("DELETE FROM audit_chains WHERE chain_key = '{deleted}'"),
        )
        .await;
        // A chain rewritten with plain SHA-256 recomputed (the algorithm before keying).
        let mut rows = rows_of(&app, &plain).await;
        rows[1].event.note = Some("forged".into());
        rewrite(&app, &plain, rows, 0, None, unkeyed_hash).await;
        // A chain rewritten with the right key after the checkpoint.
        let mut rows = rows_of(&app, &keyed).await;
        rows[1].event.note = Some("forged".into());
        let key = test_key();
        rewrite(&app, &keyed, rows, 1, Some(key.id()), |p, e| {
            keyed_hash(&key, p, e)
        })
        .await;

        assert_broken(&app, &edited, 1, "altered").await;
        assert_broken(&app, &middle, 2, "altered").await;
        assert_broken(&app, &truncated, 3, "truncated").await;
        assert_broken(&app, &deleted, 0, "missing").await;
        assert_broken(&app, &plain, 0, "unkeyed").await;
        // With the key, a rewrite verifies on its own: only the checkpoint reveals it.
        assert_eq!(trail(&app, &keyed).await["valid"], true);

        let (code, out) = app_audit(&app, &["verify"], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(names(&out, &edited, 1, "altered"), "{out}");
        assert!(names(&out, &middle, 2, "altered"), "{out}");
        assert!(names(&out, &truncated, 3, "truncated"), "{out}");
        assert!(names(&out, &deleted, 0, "missing"), "{out}");
        assert!(names(&out, &plain, 0, "unkeyed"), "{out}");
        assert!(!out.contains(&keyed), "{out}");
        assert!(out.contains("FAILED: 5 of "), "{out}");

        let (code, out) = app_audit(&app, &["verify", "--checkpoint", checkpoint], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(
            names(&out, &keyed, 4, "differs from the checkpoint"),
            "{out}"
        );
        assert!(
            names(&out, &truncated, 3, "shorter than the checkpoint"),
            "{out}"
        );
        assert!(
            names(&out, &deleted, 0, "shorter than the checkpoint"),
            "{out}"
        );

        // A checkpoint file edited to match the rewrite is refused.
        let forged = std::fs::read_to_string(checkpoint)
            .unwrap()
            .replace(line["head"].as_str().unwrap(), "00");
        let forged_path = dir.path().join("forged.json");
        std::fs::write(&forged_path, forged).unwrap();
        let (code, out) = app_audit(
            &app,
            &["verify", "--checkpoint", forged_path.to_str().unwrap()],
            &[],
        );
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("does not match its root"), "{out}");
        app.stop().await;
    }
);

each_backend!(
    rows_under_a_retired_and_the_current_key_both_verify,
    |backend, test| async move {
        let Some(mut app) = TestApp::start(backend, test).await else {
            return;
        };
        let id = process_with_five_events(&app).await;
        let old_id = test_key().id().to_owned();
        // Rotate: a new key signs, the old one is retired.
        let dir = tempfile::tempdir().unwrap();
        let old_keys = dir.path().join("old.keys");
        std::fs::write(&old_keys, format!("# retired\n{TEST_AUDIT_KEY}\n")).unwrap();
        let new_key = base64::engine::general_purpose::STANDARD.encode([42_u8; 32]);
        let old_keys_path = old_keys.to_str().unwrap().to_owned();
        app.reconfigure(&[
            ("AUDIT_KEY", new_key.as_str()),
            ("AUDIT_OLD_KEYS_FILE", old_keys_path.as_str()),
        ])
        .await;
        assert!(
            app.get(&format!("/processes/{id}"))
                .await
                .status
                .is_success()
        );
        let t = trail(&app, &id).await;
        assert_eq!(t["valid"], true, "{t}");
        let rows = rows_of(&app, &id).await;
        assert_eq!(rows[0].key_id.as_deref(), Some(old_id.as_str()));
        assert_ne!(
            rows.last().unwrap().key_id.as_deref(),
            Some(old_id.as_str())
        );
        let rotated = [
            ("AUDIT_KEY", new_key.as_str()),
            ("AUDIT_OLD_KEYS_FILE", old_keys_path.as_str()),
        ];
        let (code, out) = app_audit(&app, &["verify"], &rotated);
        assert_eq!(code, 0, "{out}");
        // Without the retired key the old rows name an unknown key.
        let (code, out) = app_audit(&app, &["verify"], &[("AUDIT_KEY", new_key.as_str())]);
        assert_eq!(code, 1, "{out}");
        assert!(names(&out, &id, 0, "unknown-key"), "{out}");
        app.stop().await;
    }
);
