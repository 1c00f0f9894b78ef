//! The signer portal at the HTTP edge against the real use cases (PRODUCT.md section 8):
//! authorisation, entry actions, tasks, steps, documents, signer emails, and the limiter of
//! failed identity checks (429 with `Retry-After`, per signer id and per client address,
//! behind trusted proxies per forwarded client). Each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_e2e::{Answer, SIGNER_CODE as CODE, TestApp, both, each_backend, entry_id, lease_process};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A well-formed personal code that is not the signer's.
const WRONG: &str = "010101-10006";

/// The shared process ([`lease_process`]), started: an approver without a personal code
/// first, then the signer with one.
fn process_json() -> Value {
    let mut body = lease_process();
    body["status"] = json!("STARTED");
    body
}

/// A started process: its id, the approver's entry id and the signer's.
struct Started {
    id: String,
    approver: String,
    signer: String,
}

async fn start_process(app: &TestApp) -> Started {
    let created = app.create_process(process_json()).await;
    Started {
        id: created["id"].as_str().unwrap().to_owned(),
        approver: entry_id(&created, "APPROVER"),
        signer: entry_id(&created, "SIGNER"),
    }
}

/// A started process whose approver has approved: the signer's turn.
async fn signers_turn(app: &TestApp) -> Started {
    let p = start_process(app).await;
    let approved = app
        .call(
            Method::POST,
            &format!("/process-step-signers/{}/approve", p.approver),
            None,
            &[],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    p
}

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(&format!("/processes/{id}/audit-trail")).await.body["events"]
        .as_array()
        .unwrap()
        .clone()
}

fn count(events: &[Value], event_type: &str) -> usize {
    events
        .iter()
        .filter(|e| e["eventType"] == event_type)
        .count()
}

/// `authorizeProcessAccess` for `signer` with `code`, from `client` (sent as the
/// `X-Forwarded-For` of a trusted proxy, or from the test's own address when `None`).
async fn authorize(app: &TestApp, signer: &str, code: &str, client: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = client
        .map(|c| vec![("X-Forwarded-For", c)])
        .unwrap_or_default();
    app.call(
        Method::GET,
        &format!("/processes/authorize/{signer}/{code}/LV"),
        None,
        &headers,
    )
    .await
}

/// The service with loopback as a trusted proxy, so that `X-Forwarded-For` names clients;
/// addresses in that header are only compared, never dialled.
async fn behind_proxy(
    backend: pas_e2e::Backend,
    test: &str,
    extra: &[(&str, &str)],
) -> Option<TestApp> {
    let mut pairs = vec![("TRUSTED_PROXIES", "127.0.0.0/8")];
    pairs.extend_from_slice(extra);
    TestApp::start_with(backend, test, &pairs).await
}

both!(
    authorize_with_the_right_identity_answers_the_process_and_records_it,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let ok = app
            .get(&format!("/processes/authorize/{}/16117519997/lv", p.signer))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.body["documentId"], "lease-2026-17");
        assert_eq!(count(&events(&app, &p.id).await, "AUTH_COMPLETED"), 1);
        app.stop().await;
    }
);

both!(
    authorize_answers_the_same_403_problem_for_an_unknown_signer_and_a_wrong_identity,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let unknown = authorize(&app, "00000000-0000-7000-8000-000000000001", CODE, None).await;
        let wrong = authorize(&app, &p.signer, WRONG, None).await;
        unknown.problem(403);
        wrong.problem(403);
        assert_eq!(unknown.body, wrong.body);
        assert_eq!(count(&events(&app, &p.id).await, "AUDIT_LOGIN_FAULT"), 1);
        app.stop().await;
    }
);

both!(
    signing_with_the_matching_identity_answers_the_completed_process,
    |app: TestApp| async move {
        let p = signers_turn(&app).await;
        let signed = app
            .post(
                &format!("/process-step-signers/{}/sign", p.signer),
                json!({"personalCode": CODE, "country": "LV"}),
            )
            .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        assert_eq!(signed.body["status"], "COMPLETED");
        assert!(signed.header("etag").is_some());
        app.stop().await;
    }
);

both!(
    signing_with_another_identity_or_none_is_a_403_that_changes_nothing,
    |app: TestApp| async move {
        let p = signers_turn(&app).await;
        let before = app.get(&format!("/processes/{}", p.id)).await;
        for body in [json!({"personalCode": WRONG, "country": "LV"}), json!({})] {
            let refused = app
                .post(&format!("/process-step-signers/{}/sign", p.signer), body)
                .await;
            assert_eq!(refused.problem(403)["detail"], "access denied");
        }
        let after = app.get(&format!("/processes/{}", p.id)).await;
        assert_eq!(after.header("etag"), before.header("etag"), "not saved");
        assert_eq!(after.body["status"], "STARTED");
        app.stop().await;
    }
);

both!(
    an_anonymous_entry_approves_with_no_body_at_all,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let approved = app
            .call(
                Method::POST,
                &format!("/process-step-signers/{}/approve", p.approver),
                None,
                &[],
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
        assert_eq!(approved.body["signers"][0]["signingStatus"], "APPROVED");
        app.stop().await;
    }
);

both!(
    a_decline_keeps_the_trimmed_comment_as_the_reason,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let declined = app
            .post(
                &format!("/process-step-signers/{}/decline", p.approver),
                json!({"comment": " wrong amount "}),
            )
            .await;
        assert_eq!(declined.status, StatusCode::OK, "{}", declined.body);
        assert_eq!(declined.body["status"], "DECLINED");
        assert_eq!(declined.body["signers"][0]["signingStatus"], "DECLINED");
        let events = events(&app, &p.id).await;
        let decline = events
            .iter()
            .find(|e| e["eventType"] == "APPROVER_DECLINED")
            .expect("APPROVER_DECLINED");
        assert_eq!(decline["note"], "wrong amount");
        app.stop().await;
    }
);

both!(
    signer_tasks_need_an_identity_and_read_the_person_and_filters,
    |app: TestApp| async move {
        app.get("/signer-tasks?nonExpired=true").await.problem(422);

        // The signer's entry waits for action in step 1; in another process it is due in two
        // seconds (a past due date is refused), and overdue once they have passed.
        let mut current = process_json();
        current["signingProcessSteps"] = json!([current["signingProcessSteps"][1].clone()]);
        current["signingProcessSteps"][0]["processOrder"] = json!(1);
        let mut overdue = current.clone();
        overdue["documentName"] = json!("Overdue");
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
        overdue["signingProcessSteps"][0]["dueDate"] = json!(
            soon.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        );
        for body in [current, overdue] {
            let created = app.post("/processes", body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        let all = app
            .get("/signer-tasks?personalCode=161175-19997&country=LV")
            .await;
        assert_eq!(all.body["totalElements"], 2, "{}", all.body);
        let tasks = app
            .get(
                "/signer-tasks?personalCode=161175-19997&country=LV&nonExpired=true&size=25\
                 &sort=dueDate,asc",
            )
            .await;
        assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
        assert_eq!(tasks.body["size"], 25);
        assert_eq!(tasks.body["totalElements"], 1, "{}", tasks.body);
        assert_eq!(tasks.body["empty"], false);
        let other = app
            .get("/signer-tasks?personalCode=37605030299&country=EE&nonExpired=true")
            .await;
        assert_eq!(other.status, StatusCode::OK, "{}", other.body);
        assert_eq!(other.body["empty"], true);
        app.stop().await;
    }
);

both!(
    signer_steps_and_documents_answer_arrays,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let steps = app.get(&format!("/signers/{CODE}/LV/steps")).await;
        assert_eq!(steps.status, StatusCode::OK, "{}", steps.body);
        assert_eq!(steps.body.as_array().map(Vec::len), Some(1));
        assert_eq!(steps.body[0]["processId"], p.id.as_str());
        assert_eq!(steps.body[0]["processOrder"], 2);

        let docs = app.get(&format!("/signers/{CODE}/LV/documents")).await;
        assert_eq!(docs.status, StatusCode::OK, "{}", docs.body);
        assert_eq!(docs.body[0]["documentName"], "Lease");
        assert_eq!(docs.body[0]["processStatus"], "STARTED");

        app.get(&format!("/signers/{CODE}/XX1/steps"))
            .await
            .problem(400);
        app.stop().await;
    }
);

both!(
    send_signer_email_answers_the_address_and_event_type_or_409_when_not_waiting,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        let sent = app
            .call(
                Method::POST,
                &format!("/process-step-signers/{}/email", p.approver),
                None,
                &[],
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let mut keys: Vec<&str> = sent
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["eventType", "subject", "to"]);
        assert_eq!(sent.body["to"], "boss@example.lv");
        assert_eq!(sent.body["eventType"], "TASK_STARTED");
        assert!(
            sent.body["subject"].as_str().is_some_and(|s| !s.is_empty()),
            "{}",
            sent.body
        );

        let refused = app
            .call(
                Method::POST,
                &format!("/process-step-signers/{}/email", p.signer),
                None,
                &[],
            )
            .await;
        let problem = refused.problem(409);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("WAITING_FOR_PREVIOUS"),
            "{problem}"
        );
        app.stop().await;
    }
);

both!(
    the_eleventh_failed_authorization_within_a_minute_is_a_429_with_retry_after,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        for _ in 0..10 {
            authorize(&app, &p.signer, WRONG, None).await.problem(403);
        }
        let refused = authorize(&app, &p.signer, WRONG, None).await;
        assert_eq!(
            refused.problem(429)["type"],
            "urn:pas:problem:too-many-requests"
        );
        let wait: u64 = refused
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            count(&events(&app, &p.id).await, "AUDIT_LOGIN_FAULT"),
            10,
            "the refused attempt never reached the identity check"
        );
        app.stop().await;
    }
);

both!(
    successful_authorizations_do_not_count_towards_the_limit,
    |app: TestApp| async move {
        let p = start_process(&app).await;
        for _ in 0..15 {
            let ok = authorize(&app, &p.signer, CODE, None).await;
            assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        }
        for _ in 0..10 {
            authorize(&app, &p.signer, WRONG, None).await.problem(403);
        }
        authorize(&app, &p.signer, WRONG, None).await.problem(429);
        let events = events(&app, &p.id).await;
        assert_eq!(
            (
                count(&events, "AUTH_COMPLETED"),
                count(&events, "AUDIT_LOGIN_FAULT")
            ),
            (15, 10)
        );
        app.stop().await;
    }
);

each_backend!(
    the_limit_holds_per_signer_id_and_per_address_and_spares_the_others,
    |backend, test| async move {
        let Some(app) = behind_proxy(backend, test, &[]).await else {
            return;
        };
        let p = start_process(&app).await;
        let other = "00000000-0000-7000-8000-000000000001";
        for _ in 0..10 {
            authorize(&app, &p.signer, WRONG, Some("192.0.2.1"))
                .await
                .problem(403);
        }
        // The same signer id from another address, and the same address for another id.
        authorize(&app, &p.signer, CODE, Some("198.51.100.2"))
            .await
            .problem(429);
        authorize(&app, other, CODE, Some("192.0.2.1"))
            .await
            .problem(429);
        let unaffected = authorize(&app, other, CODE, Some("198.51.100.2")).await;
        assert_eq!(
            unaffected.problem(403)["detail"],
            "access denied",
            "another signer id from another address reaches the identity check"
        );
        app.stop().await;
    }
);

both!(
    entry_actions_answering_403_count_and_the_eleventh_is_refused_unsaved,
    |app: TestApp| async move {
        let p = signers_turn(&app).await;
        let before = app.get(&format!("/processes/{}", p.id)).await;
        let path = format!("/process-step-signers/{}/sign", p.signer);
        let sign = || app.post(&path, json!({"personalCode": WRONG, "country": "LV"}));
        for _ in 0..10 {
            sign().await.problem(403);
        }
        let refused = sign().await;
        refused.problem(429);
        assert!(refused.header("retry-after").is_some());
        let after = app.get(&format!("/processes/{}", p.id)).await;
        assert_eq!(after.header("etag"), before.header("etag"), "not saved");
        app.stop().await;
    }
);

each_backend!(
    behind_a_trusted_proxy_the_limit_is_per_forwarded_client,
    |backend, test| async move {
        let Some(app) = behind_proxy(backend, test, &[("AUTH_FAILURES_PER_MINUTE", "2")]).await
        else {
            return;
        };
        let p = start_process(&app).await;
        let unknown = |n: u8| format!("00000000-0000-7000-8000-00000000000{n}");
        authorize(&app, &unknown(1), WRONG, Some("203.0.113.9"))
            .await
            .problem(403);
        authorize(&app, &unknown(2), WRONG, Some("203.0.113.9"))
            .await
            .problem(403);
        authorize(&app, &unknown(3), WRONG, Some("203.0.113.9"))
            .await
            .problem(429);
        authorize(&app, &unknown(4), WRONG, Some("198.51.100.3"))
            .await
            .problem(403);
        // The first hop is the client; the proxies after it do not make it another one.
        // X-Forwarded-For is header text the service parses, never dialled.
        authorize(&app, &p.signer, WRONG, Some("203.0.113.9, 192.0.2.250"))
            .await
            .problem(429);
        // And the forwarded client is the address the audit row records.
        authorize(&app, &p.signer, WRONG, Some("192.0.2.50"))
            .await
            .problem(403);
        let events = events(&app, &p.id).await;
        let faults: Vec<&Value> = events
            .iter()
            .filter(|e| e["eventType"] == "AUDIT_LOGIN_FAULT")
            .collect();
        assert_eq!(faults.len(), 1, "{events:?}");
        assert_eq!(faults[0]["ipAddress"], "192.0.2.50");
        app.stop().await;
    }
);
