//! Personal data in the audit trail and its erasure (PRODUCT.md section 11), on both
//! databases: after a full process with named signers no audit row holds a personal code in
//! plaintext (checked with SQL `LIKE` on every text column), answers show the masked form, a
//! person's events are found through the pseudonym, and `POST /persons/erasure` erases the
//! person's code, name and email everywhere but leaves every chain verifying.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use pas_e2e::{SIGNER_CODE, TEST_AUDIT_KEY, TestApp, both, entry, entry_id, lease_process};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every way the signer's code could be written: as given, normalised, and its tail (which
/// the masked form never shows).
const CODE_FORMS: [&str; 3] = [SIGNER_CODE, "16117519997", "19997"];

/// Runs a `SELECT COUNT(*) AS n …` on a connection of its own.
async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count_sql(sql).await
}

/// Audit rows with `needle` in any text column.
async fn audit_rows_containing(app: &TestApp, needle: &str) -> i64 {
    let columns = [
        "id",
        "chain_key",
        "previous_hash",
        "hash",
        "event_type",
        "event_origin",
        "creator",
        "document_id",
        "signer_id",
        "customer_personal_code",
        "note",
        "process_id",
        "ip_address",
        "container_id",
        "method",
        "client_app_name",
        "key_id",
        "customer_pseudonym",
    ];
    let all = columns
        .iter()
        .map(|c| format!("COALESCE(CAST({c} AS TEXT), '')"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    count(
        app,
        &format!("SELECT COUNT(*) AS n FROM audit_events WHERE {all} LIKE '%{needle}%'"),
    )
    .await
}

/// A started [`lease_process`] taken to COMPLETED: approved, then signed by its signer.
async fn completed_process(app: &TestApp) -> Value {
    let mut body = lease_process();
    body["status"] = json!("STARTED");
    let created = app.create_process(body).await;
    let approved = app
        .call(
            Method::POST,
            &format!(
                "/process-step-signers/{}/approve",
                entry_id(&created, "APPROVER")
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let signed = app
        .post(
            &format!(
                "/process-step-signers/{}/sign",
                entry_id(&created, "SIGNER")
            ),
            json!({"personalCode": SIGNER_CODE, "country": "LV"}),
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(signed.body["status"], "COMPLETED");
    created
}

fn events(answer: &Value) -> Vec<Value> {
    answer["content"].as_array().unwrap().clone()
}

both!(
    no_personal_code_in_plaintext_in_the_audit_table,
    |app: TestApp| async move {
        let process = completed_process(&app).await;
        let id = process["id"].as_str().unwrap();
        // Another system's event naming the person in the same process.
        let recorded = app
            .post(
                "/audit-events",
                json!({"eventType": "DOCUMENT_DOWNLOAD", "processId": id,
                       "customerPersonalCode": SIGNER_CODE, "documentId": "lease-2026-17"}),
            )
            .await;
        assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
        assert_eq!(recorded.body["customerPersonalCode"], "161175-*****");
        // The signer's own events exist and name them (masked, with a pseudonym).
        assert!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM audit_events WHERE customer_pseudonym IS NOT NULL"
            )
            .await
                >= 3
        );
        // The search itself finds what is there: the masked form.
        assert!(audit_rows_containing(&app, "161175-*****").await >= 3);
        for form in CODE_FORMS {
            assert_eq!(audit_rows_containing(&app, form).await, 0, "{form}");
        }

        // The person's events through the pseudonym, in any spelling of the code.
        let found = app
            .get("/audit-events?personalCode=16117519997&country=lv&size=100")
            .await;
        assert!(found.status.is_success(), "{}", found.body);
        let found = events(&found.body);
        let types: Vec<&str> = found
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        for t in ["TASK_STARTED", "SIGNER_SIGNED", "DOCUMENT_DOWNLOAD"] {
            assert!(types.contains(&t), "{t} missing from {types:?}");
        }
        assert!(
            found
                .iter()
                .all(|e| e["customerPersonalCode"] == "161175-*****")
        );
        let nobody = app
            .get("/audit-events?personalCode=37605030299&country=EE")
            .await;
        assert_eq!(nobody.body["totalElements"], 0, "{}", nobody.body);
        let same_code_elsewhere = app
            .get(&format!(
                "/audit-events?personalCode={SIGNER_CODE}&country=EE"
            ))
            .await;
        assert_eq!(same_code_elsewhere.body["totalElements"], 0);
        app.get(&format!("/audit-events?personalCode={SIGNER_CODE}"))
            .await
            .problem(400);
        app.get("/audit-events?country=LV").await.problem(400);
        app.stop().await;
    }
);

/// Runs the real `app audit verify` on the test's database; answers exit code and output.
fn verify(app: &TestApp) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pas-app-e2e"))
        .args(["audit", "verify"])
        .env_clear()
        .env("DATABASE_URL", app.database_url())
        .env("AUDIT_KEY", TEST_AUDIT_KEY)
        .env("AUTH_MODE", "off")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn erasure_of_the_signer() -> Value {
    json!({"personalCode": SIGNER_CODE, "country": "LV"})
}

both!(
    a_person_in_a_running_process_is_not_erased,
    |app: TestApp| async move {
        let mut body = lease_process();
        body["status"] = json!("STARTED");
        let running = app.create_process(body).await;
        let running_id = running["id"].as_str().unwrap();
        let draft = app.create_process(lease_process()).await;
        let refused = app.post("/persons/erasure", erasure_of_the_signer()).await;
        let problem = refused.problem(409);
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(named.len(), 2, "{problem}");
        for id in [running_id, draft["id"].as_str().unwrap()] {
            assert!(named.iter().any(|m| m.contains(id)), "{id}: {problem}");
        }
        let still = app.get(&format!("/processes/{running_id}")).await;
        assert_eq!(
            entry(&still.body, "SIGNER")["signerPersonalCode"],
            SIGNER_CODE
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'PERSON_ERASED'"
            )
            .await,
            0
        );
        // Malformed requests change nothing either.
        app.post(
            "/persons/erasure",
            json!({"personalCode": "", "country": "LV"}),
        )
        .await
        .problem(422);
        app.post("/persons/erasure", json!({"personalCode": SIGNER_CODE}))
            .await
            .problem(400);
        app.stop().await;
    }
);

both!(
    erasure_removes_code_name_and_email_and_every_chain_still_verifies,
    |app: TestApp| async move {
        let completed = completed_process(&app).await;
        let completed_id = completed["id"].as_str().unwrap().to_owned();
        // A draft deleted before it started.
        let draft = app.create_process(lease_process()).await;
        let draft_id = draft["id"].as_str().unwrap().to_owned();
        assert!(
            app.delete(&format!("/processes/{draft_id}"))
                .await
                .status
                .is_success()
        );
        let contact = app
            .post(
                "/contacts",
                json!({"name": "Client", "email": "client@example.lv", "country": "LV",
                       "personalCode": SIGNER_CODE, "phone": "+37120000000",
                       "owner": "anna", "scope": "GROUP", "group": "sales"}),
            )
            .await;
        assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
        let other = app
            .post(
                "/contacts",
                json!({"name": "Someone", "email": "someone@example.ee", "country": "EE",
                       "personalCode": "37605030299", "owner": "anna", "scope": "GROUP",
                       "group": "sales"}),
            )
            .await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);

        let erased = app.post("/persons/erasure", erasure_of_the_signer()).await;
        assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
        assert_eq!(erased.body["processes"], 2, "{}", erased.body);
        assert_eq!(erased.body["entries"], 2, "{}", erased.body);
        assert_eq!(erased.body["contacts"], 1, "{}", erased.body);
        let messages = erased.body["messages"].as_u64().unwrap();
        assert!(messages >= 1, "the signer's task email: {}", erased.body);

        // The finished process answers the entry without code, name or email; others keep
        // theirs.
        let after = app.get(&format!("/processes/{completed_id}")).await;
        assert!(after.status.is_success(), "{}", after.body);
        let signer = entry(&after.body, "SIGNER");
        for field in ["signerPersonalCode", "signerName", "signerEmail"] {
            assert!(signer[field].is_null(), "{field}: {signer}");
        }
        assert_eq!(entry(&after.body, "APPROVER")["signerName"], "Boss");
        let text = after.body.to_string();
        for form in CODE_FORMS
            .iter()
            .chain(&["client@example.lv", "\"Client\""])
        {
            assert!(!text.contains(form), "{form} in {text}");
        }
        // Contacts: the person's is emptied, the other one stays.
        let contacts = app.get("/contacts?owner=anna&group=sales&size=100").await;
        let text = contacts.body.to_string();
        for form in CODE_FORMS
            .iter()
            .chain(&["client@example.lv", "+37120000000"])
        {
            assert!(!text.contains(form), "{form} in {text}");
        }
        assert!(text.contains("37605030299"), "{text}");
        // The outbox keeps no address of the person.
        let outbox = app.get("/outbox?size=100").await;
        assert!(outbox.status.is_success(), "{}", outbox.body);
        assert!(!outbox.body.to_string().contains("client@example.lv"));
        // In the database too.
        for (table, column) in [
            ("entries", "personal_code_norm"),
            ("contacts", "personal_code_norm"),
        ] {
            assert_eq!(
                count(
                    &app,
                    &format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = '16117519997'")
                )
                .await,
                0,
                "{table}"
            );
        }
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM outbox WHERE to_email = 'client@example.lv'"
            )
            .await,
            0
        );
        for form in CODE_FORMS {
            assert_eq!(audit_rows_containing(&app, form).await, 0, "{form}");
        }

        // Every chain still verifies, and the erasure is on record under the pseudonym.
        for id in [&completed_id, &draft_id] {
            let trail = app.get(&format!("/processes/{id}/audit-trail")).await;
            assert_eq!(trail.body["valid"], true, "{id}: {}", trail.body);
        }
        let (code, out) = verify(&app);
        assert_eq!(code, 0, "{out}");
        let recorded = app
            .get("/audit-events?personalCode=16117519997&country=LV&eventType=PERSON_ERASED")
            .await;
        assert_eq!(recorded.body["totalElements"], 3, "{}", recorded.body);

        // A second erasure finds nothing more.
        let again = app.post("/persons/erasure", erasure_of_the_signer()).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(
            again.body,
            json!({"processes": 0, "entries": 0, "contacts": 0, "messages": 0})
        );
        app.stop().await;
    }
);
