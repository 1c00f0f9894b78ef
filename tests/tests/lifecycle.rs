//! Whole signing processes over HTTP (PRODUCT.md section 5 rules, section 4 operations),
//! each scenario on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use pas_e2e::{TestApp, both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LV_CODE: &str = "161175-19997";
const EE_CODE: &str = "37605030299";

fn signer(role: &str, email: &str, country: &str, code: &str) -> Value {
    json!({"signerRole": role, "signerEmail": email, "signerCountry": country, "signerPersonalCode": code, "signerName": email})
}

fn process(status: &str, group: &str, name: &str, steps: Value) -> Value {
    json!({"documentId": format!("doc-{name}"), "documentName": name, "ownerGroup": group, "status": status,
           "processInitiatorEmail": "office@example.lv", "initiatorName": "Office", "signingProcessSteps": steps})
}

fn two_steps() -> Value {
    json!([
        {"processOrder": 1, "processStepSigners": [signer("SIGNER", "client@example.lv", "LV", LV_CODE)]},
        {"processOrder": 2, "processStepSigners": [signer("APPROVER", "boss@example.ee", "EE", EE_CODE)]}
    ])
}

fn entry_id(p: &Value, email: &str) -> String {
    p["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signerEmail"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

both!(
    rule4_two_steps_signer_then_approver_complete_the_process,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                process("STARTED", "sales", "Lease", two_steps()),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/processes/{id}").as_str())
        );
        let client = entry_id(&created.body, "client@example.lv");
        let boss = entry_id(&created.body, "boss@example.ee");

        let signed = app
            .post(
                &format!("/process-step-signers/{client}/sign"),
                json!({"personalCode": "16117519997", "country": "lv"}),
            )
            .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        assert_eq!(signed.body["currentInProgressStep"]["processOrder"], 2);

        let approved = app
            .post(
                &format!("/process-step-signers/{boss}/approve"),
                json!({"personalCode": EE_CODE, "country": "EE"}),
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK);
        assert_eq!(approved.body["status"], "COMPLETED");
        assert!(approved.body["completedAt"].is_string());
        assert_eq!(approved.body["totalSigned"], 2);

        let trail = app.get(&format!("/processes/{id}/audit-trail")).await;
        assert_eq!(trail.body["valid"], true);
        let types: Vec<&str> = trail.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PROCESS_UPDATED",
                "PROCESS_STARTED",
                "TASK_STARTED",
                "SIGNER_SIGNED",
                "TASK_STARTED",
                "APPROVER_APPROVED",
                "PROCESS_COMPLETED"
            ]
        );
        app.stop().await;
    }
);

both!(
    rule2_a_draft_is_edited_then_started,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                process("PENDING", "sales", "Draft", two_steps()),
            )
            .await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert!(
            created.body["signers"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["signingStatus"] == "WAITING_FOR_PROCESS")
        );
        let mut edited = created.body.clone();
        edited["documentName"] = json!("Draft v2");
        let updated = app.put(&format!("/processes/{id}"), edited).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        assert_eq!(updated.body["documentName"], "Draft v2");
        let started = app.post(&format!("/processes/{id}/start"), json!({})).await;
        assert_eq!(started.status, StatusCode::OK);
        assert_eq!(started.body["status"], "STARTED");
        let again = app.post(&format!("/processes/{id}/start"), json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body["detail"].as_str().unwrap().contains("STARTED"));
        app.stop().await;
    }
);

both!(
    rule5_a_decline_ends_the_process_and_keeps_the_reason,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                process("STARTED", "sales", "Decline", two_steps()),
            )
            .await;
        let client = entry_id(&created.body, "client@example.lv");
        let declined = app
            .post(
                &format!("/process-step-signers/{client}/decline"),
                json!({"personalCode": LV_CODE, "country": "LV", "comment": "wrong price"}),
            )
            .await;
        assert_eq!(declined.status, StatusCode::OK);
        assert_eq!(declined.body["status"], "DECLINED");
        let entry = declined.body["signers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == client.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            (
                entry["signingStatus"].as_str(),
                entry["signerComment"].as_str()
            ),
            (Some("DECLINED"), Some("wrong price"))
        );
        let late = app
            .post(
                &format!("/process-step-signers/{client}/sign"),
                json!({"personalCode": LV_CODE, "country": "LV"}),
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert!(
            late.body["detail"].as_str().unwrap().contains("DECLINED"),
            "{}",
            late.body
        );
        app.stop().await;
    }
);

both!(
    rule6_cancel_with_and_without_messages_then_rule9_delete,
    |app: TestApp| async move {
        let a = app
            .post("/processes", process("STARTED", "sales", "A", two_steps()))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let b = app
            .post("/processes", process("STARTED", "sales", "B", two_steps()))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            app.delete(&format!("/processes/{a}")).await.status,
            StatusCode::CONFLICT,
            "rule 9: cancel first"
        );
        let canceled = app.post(&format!("/processes/{a}/cancel"), json!({})).await;
        assert_eq!(
            (canceled.status, canceled.body["canceled"].clone()),
            (StatusCode::OK, json!(true))
        );
        let quiet = app
            .post(&format!("/processes/{b}/cancel/true"), json!({}))
            .await;
        assert_eq!(quiet.body["status"], "CANCELED");
        assert_eq!(
            app.post(&format!("/processes/{b}/cancel"), json!({}))
                .await
                .status,
            StatusCode::CONFLICT,
            "rule 7"
        );
        assert_eq!(
            app.delete(&format!("/processes/{a}")).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.get(&format!("/processes/{a}")).await.status,
            StatusCode::NOT_FOUND
        );
        let listed = app.get("/processes?ownerGroup=sales").await;
        let ids: Vec<&str> = listed.body["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [b.as_str()], "a deleted process is in no list");
        let trail = app.get(&format!("/processes/{a}/audit-trail")).await;
        assert_eq!(
            trail.body["events"].as_array().unwrap().last().unwrap()["eventType"],
            "PROCESS_DELETED",
            "the trail is kept"
        );
        app.stop().await;
    }
);

both!(
    rule8_update_process_step_with_signed_status_signs,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                process("STARTED", "sales", "Step", two_steps()),
            )
            .await;
        let mut step = created.body["signingProcessSteps"][0].clone();
        step["processStepSigners"][0]["signingStatus"] = json!("SIGNED");
        let step_id = step["id"].as_str().unwrap().to_owned();
        let updated = app.put(&format!("/process-steps/{step_id}"), step).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        assert_eq!(updated.body["stepStatus"], "COMPLETED");
        let id = created.body["id"].as_str().unwrap();
        let p = app.get(&format!("/processes/{id}")).await;
        assert_eq!(p.body["currentInProgressStep"]["processOrder"], 2);
        app.stop().await;
    }
);

both!(
    rule10_concurrent_signs_of_one_entry_exactly_one_wins,
    |app: TestApp| async move {
        let created = app.post("/processes", process("STARTED", "sales", "Race", json!([
        {"processOrder": 1, "processStepSigners": [signer("SIGNER", "a@example.lv", "LV", LV_CODE), signer("SIGNER", "b@example.ee", "EE", EE_CODE)]}
    ]))).await;
        let a = entry_id(&created.body, "a@example.lv");
        let path = format!("/process-step-signers/{a}/sign");
        let body = json!({"personalCode": LV_CODE, "country": "LV"});
        let answers =
            futures::future::join_all((0..8).map(|_| app.post(&path, body.clone()))).await;
        let ok = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        let conflicts = answers
            .iter()
            .filter(|a| a.status == StatusCode::CONFLICT)
            .count();
        assert_eq!(
            (ok, conflicts),
            (1, 7),
            "{:?}",
            answers.iter().map(|a| a.status).collect::<Vec<_>>()
        );
        let id = created.body["id"].as_str().unwrap();
        let trail = app.get(&format!("/processes/{id}/audit-trail")).await;
        assert_eq!(trail.body["valid"], true);
        let signed = trail.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["eventType"] == "SIGNER_SIGNED")
            .count();
        assert_eq!(signed, 1);
        app.stop().await;
    }
);

both!(data_survives_a_restart, |mut app: TestApp| async move {
    let created = app
        .post(
            "/processes",
            process("STARTED", "sales", "Durable", two_steps()),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    app.restart().await;
    let again = app.get(&format!("/processes/{id}")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, created.body);
    app.stop().await;
});

both!(
    section4_error_classes_are_problem_json_and_change_nothing,
    |app: TestApp| async move {
        let malformed = app
            .raw(
                Method::POST,
                "/processes",
                "application/json",
                b"{\"documentId\": ".to_vec(),
            )
            .await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            malformed.header("content-type"),
            Some("application/problem+json")
        );
        let unknown_enum = app
            .post("/processes", json!({"documentId": "d", "status": "DONE"}))
            .await;
        assert_eq!(unknown_enum.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            app.get("/processes/not-a-uuid").await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.get("/processes/00000000-0000-7000-8000-000000000000")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.declared_length_status("/processes", 2 * 1024 * 1024)
                .await,
            413,
            "refused before reading it"
        );
        let invalid = app
            .post(
                "/processes",
                json!({"documentName": "no id", "processInitiatorEmail": "nope"}),
            )
            .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = invalid.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&"documentId") && fields.contains(&"processInitiatorEmail"),
            "{fields:?}"
        );
        assert_eq!(
            app.get("/processes?ownerGroup=sales&sort=password,asc")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let created = app
            .post(
                "/processes",
                process("PENDING", "sales", "Etag", two_steps()),
            )
            .await;
        let id = created.body["id"].as_str().unwrap();
        assert_eq!(created.header("etag"), Some("\"1\""));
        let stale = app
            .call(
                Method::POST,
                &format!("/processes/{id}/start"),
                Some(json!({})),
                &[("if-match", "\"7\"")],
            )
            .await;
        assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
        let listed = app.get("/processes?ownerGroup=sales").await;
        assert_eq!(
            listed.body["totalElements"], 1,
            "none of the bad requests created anything"
        );
        assert_eq!(
            app.get(&format!("/processes/{id}")).await.body["status"],
            "PENDING",
            "the stale start changed nothing"
        );
        app.stop().await;
    }
);
