//! Process operations at the HTTP edge against the real use cases (PRODUCT.md section 4):
//! status codes, `Location`/`ETag`/`If-Match`, what the handlers read from the request
//! (caller headers, every list filter) and the read audit of `AUDIT_READS`. Each on SQLite
//! and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_e2e::{SIGNER_CODE as CODE, TestApp, both, each_backend, lease_process as process_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Creates a PENDING process and answers its JSON.
async fn create_pending(app: &TestApp) -> Value {
    app.create_process(process_json()).await
}

/// Creates a process and starts it (version 2); answers its id.
async fn create_started(app: &TestApp) -> String {
    let id = create_pending(app).await["id"].as_str().unwrap().to_owned();
    let started = app.post(&format!("/processes/{id}/start"), json!({})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    id
}

/// The audit trail's events of a process.
async fn trail(app: &TestApp, id: &str) -> Vec<Value> {
    let trail = app.get(&format!("/processes/{id}/audit-trail")).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    trail.body["events"].as_array().unwrap().clone()
}

fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["eventType"] == event_type)
        .collect()
}

both!(
    create_answers_201_with_location_etag_and_the_process,
    |app: TestApp| async move {
        let created = app.post("/processes", process_json()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap();
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/processes/{id}").as_str())
        );
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.body["status"], "PENDING");
        assert_eq!(created.body["totalSigners"], 2);
        assert_eq!(created.body["signers"][1]["signerPersonalCode"], CODE);
        app.stop().await;
    }
);

both!(
    the_caller_headers_reach_the_audit_rows,
    |app: TestApp| async move {
        let mut body = process_json();
        body["status"] = json!("STARTED");
        let created = app
            .call(
                Method::POST,
                "/processes",
                Some(body),
                &[
                    ("X-User", "anna"),
                    ("X-Client-App", "portal"),
                    ("User-Agent", "curl/8"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["status"], "STARTED");
        let id = created.body["id"].as_str().unwrap();
        let events = trail(&app, id).await;
        assert!(!events.is_empty());
        for e in &events {
            assert_eq!(
                (
                    &e["creator"],
                    &e["clientAppName"],
                    &e["ipAddress"],
                    &e["method"]
                ),
                (
                    &json!("anna"),
                    &json!("portal"),
                    &json!("127.0.0.1"),
                    &json!("createProcess")
                ),
                "{e}"
            );
        }
        app.stop().await;
    }
);

both!(
    get_answers_the_process_with_its_etag_and_records_the_read_with_the_caller,
    |app: TestApp| async move {
        let id = create_started(&app).await;
        let got = app
            .call(
                Method::GET,
                &format!("/processes/{id}"),
                None,
                &[("X-User", "auditor")],
            )
            .await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(got.header("etag"), Some("\"2\""));
        assert_eq!(got.body["id"], id.as_str());
        assert_eq!(got.body["currentInProgressStep"]["processOrder"], 1);

        // AUDIT_READS defaults to `single`: one PROCESS_GETONE, no email.
        let events = trail(&app, &id).await;
        let reads = of_type(&events, "PROCESS_GETONE");
        assert_eq!(reads.len(), 1, "{events:?}");
        assert_eq!(
            (
                &reads[0]["method"],
                &reads[0]["creator"],
                &reads[0]["ipAddress"]
            ),
            (
                &json!("getProcessById"),
                &json!("auditor"),
                &json!("127.0.0.1")
            )
        );
        app.stop().await;
    }
);

each_backend!(
    get_records_nothing_when_reads_are_not_audited,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, &[("AUDIT_READS", "none")]).await else {
            return;
        };
        let id = create_started(&app).await;
        let before = trail(&app, &id).await;
        assert_eq!(
            app.get(&format!("/processes/{id}")).await.status,
            StatusCode::OK
        );
        let after = trail(&app, &id).await;
        assert_eq!(after, before);
        assert!(of_type(&after, "PROCESS_GETONE").is_empty());
        app.stop().await;
    }
);

each_backend!(
    with_all_reads_audited_a_list_records_process_getall_per_listed_process,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, &[("AUDIT_READS", "all")]).await else {
            return;
        };
        let started = create_started(&app).await;
        let pending = create_pending(&app).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let listed = app.get("/processes?ownerGroup=sales").await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body["numberOfElements"], 2);
        for id in [&started, &pending] {
            let events = trail(&app, id).await;
            let reads = of_type(&events, "PROCESS_GETALL");
            assert_eq!(reads.len(), 1, "{id}: {events:?}");
            assert_eq!(reads[0]["method"], "listProcesses");
        }
        app.stop().await;
    }
);

both!(
    a_matching_if_match_lets_a_cancel_through_and_the_new_etag_comes_back,
    |app: TestApp| async move {
        let id = create_started(&app).await;
        let canceled = app
            .call(
                Method::POST,
                &format!("/processes/{id}/cancel/true"),
                None,
                &[("If-Match", "W/\"2\"")],
            )
            .await;
        assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
        assert_eq!(canceled.body["status"], "CANCELED");
        assert_eq!(canceled.body["canceled"], true);
        assert_eq!(canceled.header("etag"), Some("\"3\""));
        let events = trail(&app, &id).await;
        assert_eq!(events.last().unwrap()["eventType"], "PROCESS_CANCELED");
        app.stop().await;
    }
);

both!(
    delete_answers_204_without_a_body,
    |app: TestApp| async move {
        let id = create_pending(&app).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = reqwest::Client::new()
            .delete(format!("{}/api/v1/processes/{id}", app.root))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.bytes().await.unwrap().is_empty());
        app.stop().await;
    }
);

both!(
    list_reads_every_filter_and_answers_the_page_shape,
    |app: TestApp| async move {
        let with = |name: &str, group: &str, signer: &str, (country, code): (&str, &str)| {
            let mut p = process_json();
            p["documentName"] = json!(name);
            p["ownerGroup"] = json!(group);
            p["status"] = json!("STARTED");
            let s = &mut p["signingProcessSteps"][1]["processStepSigners"][0];
            s["signerName"] = json!(signer);
            s["signerCountry"] = json!(country);
            s["signerPersonalCode"] = json!(code);
            p
        };
        const LV: (&str, &str) = ("LV", CODE);
        // Six that match every filter, and one that misses each filter by one field.
        let mut bodies: Vec<Value> = (1..=6)
            .map(|i| with(&format!("Match {i}"), "sales", "Anna", LV))
            .collect();
        bodies.push(with("Other group", "legal", "Anna", LV));
        bodies.push(with("Other signer", "sales", "Juris", LV));
        bodies.push(with("Other code", "sales", "Anna", ("EE", "37605030299")));
        let mut pending = with("Pending", "sales", "Anna", LV);
        pending["status"] = json!("PENDING");
        bodies.push(pending);
        for body in bodies {
            let created = app.post("/processes", body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        }
        let before_all = app
            .get("/processes?ownerGroup=sales&createdDateBefore=2026-02-01")
            .await;
        assert_eq!(
            before_all.body["totalElements"], 0,
            "created today: {}",
            before_all.body
        );

        let page = app
            .get(
                "/processes?ownerGroup=sales&processStatus=STARTED&nameSearch=%20Anna%20\
                 &personalCode=161175-19997&createdDateAfter=2026-02-01&page=1&size=5\
                 &sort=documentName,asc&sort=createdAt,desc",
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut keys: Vec<&str> = page
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "content",
                "empty",
                "first",
                "last",
                "number",
                "numberOfElements",
                "size",
                "totalElements",
                "totalPages"
            ]
        );
        assert_eq!(page.body["totalElements"], 6);
        assert_eq!(page.body["totalPages"], 2);
        assert_eq!(page.body["number"], 1);
        assert_eq!(page.body["size"], 5);
        assert_eq!(page.body["first"], false);
        assert_eq!(page.body["last"], true);
        assert_eq!(page.body["content"][0]["status"], "STARTED");
        assert_eq!(
            page.body["content"][0]["documentName"], "Match 6",
            "sorted by the first sort key"
        );
        app.stop().await;
    }
);

both!(
    list_without_owner_group_or_admin_is_a_422_naming_owner_group,
    |app: TestApp| async move {
        let answer = app.get("/processes").await;
        assert_eq!(answer.problem(422)["errors"][0]["field"], "ownerGroup");
        app.stop().await;
    }
);

both!(
    find_processes_needs_a_criterion_and_normalises_the_code,
    |app: TestApp| async move {
        app.post("/processes/search", json!({"documentId": " "}))
            .await
            .problem(422);
        let id = create_pending(&app).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let found = app
            .post("/processes/search", json!({"personalCode": "161175-19997"}))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        let ids: Vec<&str> = found
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()]);
        let undashed = app
            .post("/processes/search", json!({"personalCode": "16117519997"}))
            .await;
        assert_eq!(undashed.body, found.body);
        app.stop().await;
    }
);

both!(update_step_answers_the_step, |app: TestApp| async move {
    let created = create_pending(&app).await;
    let step = &created["signingProcessSteps"][1];
    let step_id = step["id"].as_str().unwrap();
    let body = json!({
        "processOrder": 2,
        "dueDate": "2030-04-01T12:00:00Z",
        "processStepSigners": step["processStepSigners"].clone()
    });
    let updated = app.put(&format!("/process-steps/{step_id}"), body).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["id"], step_id);
    assert_eq!(updated.body["dueDate"], "2030-04-01T12:00:00Z");
    app.stop().await;
});

both!(
    update_step_without_process_order_is_a_422_that_changes_nothing,
    |app: TestApp| async move {
        // The body is judged once the step is known to be within reach (section 10).
        let id = create_started(&app).await;
        let before = app.get(&format!("/processes/{id}")).await;
        let step = before.body["signingProcessSteps"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = app
            .put(
                &format!("/process-steps/{step}"),
                json!({"processStepSigners": []}),
            )
            .await;
        assert_eq!(answer.problem(422)["errors"][0]["field"], "processOrder");
        let after = app.get(&format!("/processes/{id}")).await;
        assert_eq!(after.header("etag"), before.header("etag"), "not saved");
        app.stop().await;
    }
);
