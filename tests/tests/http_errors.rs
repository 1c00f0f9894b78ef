//! Every error class of the HTTP edge as an RFC 9457 problem (PRODUCT.md section 4), against
//! the real use cases: parsing of bodies, paths, queries and `If-Match`, 404/405/412/413/415,
//! rule violations, and test emails. Each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_e2e::{TestApp, both, each_backend, lease_process as process_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A well-formed id nothing has.
const UNKNOWN: &str = "00000000-0000-7000-8000-000000000001";

/// Creates a process with `status` and answers its id.
async fn create(app: &TestApp, status: &str) -> String {
    let mut body = process_json();
    body["status"] = json!(status);
    app.create_process(body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

both!(
    body_parsing_errors_are_400_problems_naming_the_fault,
    |app: TestApp| async move {
        let malformed = app
            .raw(
                Method::POST,
                "/processes",
                "application/json",
                b"{\"documentId\": ".to_vec(),
            )
            .await;
        let p = malformed.problem(400);
        assert!(
            p["detail"].as_str().unwrap().contains("malformed JSON"),
            "{p}"
        );

        let mut body = process_json();
        body["status"] = json!("DONE");
        let unknown_enum = app.post("/processes", body).await;
        let detail = unknown_enum.problem(400)["detail"].as_str().unwrap();
        assert!(
            detail.contains("unknown variant") && detail.contains("DONE"),
            "{detail}"
        );

        let mut body = process_json();
        body["signingProcessSteps"] = json!("not a list");
        app.post("/processes", body).await.problem(400);

        assert_eq!(
            app.get("/processes?isAdmin=true").await.body["totalElements"],
            0,
            "none of them created anything"
        );
        app.stop().await;
    }
);

both!(
    path_and_query_parsing_errors_are_400_problems_naming_the_parameter,
    |app: TestApp| async move {
        let p = app.get("/processes/not-a-uuid").await;
        assert!(
            p.problem(400)["detail"]
                .as_str()
                .unwrap()
                .contains("path parameter"),
            "{}",
            p.body
        );

        let sort = app
            .get("/processes?ownerGroup=sales&sort=password,asc")
            .await;
        let p = sort.problem(400);
        assert_eq!(p["errors"][0]["field"], "sort");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("createdAt"),
            "the allowed fields are listed: {p}"
        );

        let status = app
            .get("/processes?ownerGroup=sales&processStatus=DONE")
            .await;
        assert_eq!(status.problem(400)["errors"][0]["field"], "processStatus");

        let date = app
            .get("/processes?ownerGroup=sales&createdDateAfter=02.03.2026")
            .await;
        assert_eq!(date.problem(400)["errors"][0]["field"], "createdDateAfter");

        app.post(&format!("/processes/{UNKNOWN}/cancel/maybe"), json!({}))
            .await
            .problem(400);
        app.stop().await;
    }
);

both!(
    an_unknown_process_is_a_404_and_a_refused_transition_a_409_naming_the_state,
    |app: TestApp| async move {
        let missing = app.get(&format!("/processes/{UNKNOWN}")).await;
        assert_eq!(missing.problem(404)["detail"], "process not found");

        let id = create(&app, "STARTED").await;
        let canceled = app
            .post(&format!("/processes/{id}/cancel"), json!({}))
            .await;
        assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
        let again = app
            .post(&format!("/processes/{id}/cancel"), json!({}))
            .await;
        let p = again.problem(409);
        assert!(p["detail"].as_str().unwrap().contains("CANCELED"), "{p}");
        app.stop().await;
    }
);

both!(
    a_stale_if_match_is_a_412_that_changes_nothing_and_a_malformed_one_a_400,
    |app: TestApp| async move {
        // Created (version 1), then started (version 2): "1" is stale.
        let id = create(&app, "PENDING").await;
        let started = app.post(&format!("/processes/{id}/start"), json!({})).await;
        assert_eq!(started.header("etag"), Some("\"2\""), "{}", started.body);
        let before = app.get(&format!("/processes/{id}")).await;
        let stale = app
            .call(
                Method::POST,
                &format!("/processes/{id}/cancel"),
                None,
                &[("If-Match", "\"1\"")],
            )
            .await;
        stale.problem(412);
        let after = app.get(&format!("/processes/{id}")).await;
        assert_eq!(after.body["status"], "STARTED");
        assert_eq!(after.header("etag"), before.header("etag"), "not saved");

        let malformed = app
            .call(
                Method::DELETE,
                &format!("/processes/{UNKNOWN}"),
                None,
                &[("If-Match", "\"v1\"")],
            )
            .await;
        assert_eq!(malformed.problem(400)["errors"][0]["field"], "If-Match");
        app.stop().await;
    }
);

each_backend!(
    bodies_over_the_limit_are_413_problems,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, &[("APP_MAX_BODY_BYTES", "64")]).await
        else {
            return;
        };
        app.post("/processes", process_json()).await.problem(413);
        app.post(
            &format!("/process-step-signers/{UNKNOWN}/sign"),
            json!({"comment": "x".repeat(100)}),
        )
        .await
        .problem(413);
        app.stop().await;
    }
);

both!(
    a_process_breaking_rules_is_a_422_listing_each_error,
    |app: TestApp| async move {
        let mut body = process_json();
        body["processInitiatorEmail"] = json!("not an email");
        body["signingProcessSteps"][1]["processStepSigners"][0]["signerEmail"] = json!("nope");
        let answer = app.post("/processes", body).await;
        let p = answer.problem(422);
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "processInitiatorEmail",
                "signingProcessSteps[1].processStepSigners[0].signerEmail"
            ]
        );
        assert!(p["errors"][0]["message"].is_string());
        app.stop().await;
    }
);

both!(
    unknown_routes_are_404_and_wrong_methods_405_problems,
    |app: TestApp| async move {
        app.get("/no-such-thing").await.problem(404);
        let outside = reqwest::get(format!("{}/nowhere", app.root)).await.unwrap();
        assert_eq!(outside.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            outside
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let p: Value = outside.json().await.unwrap();
        assert_eq!(p["status"], 404);

        let patch = app
            .call(Method::PATCH, &format!("/processes/{UNKNOWN}"), None, &[])
            .await;
        patch.problem(405);
        assert_eq!(patch.header("allow"), Some("DELETE, GET, PUT"));
        app.call(Method::POST, "/health", None, &[])
            .await
            .problem(405);
        app.stop().await;
    }
);

both!(
    a_body_that_is_not_json_is_a_415_problem_and_documented_as_such,
    |app: TestApp| async move {
        app.raw(Method::POST, "/processes", "text/plain", b"hello".to_vec())
            .await
            .problem(415);
        // Schemathesis checks that every status answered is documented.
        let doc = app.get("/openapi.json").await.body;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op.get("requestBody").is_some() {
                    assert!(
                        op["responses"].get("415").is_some(),
                        "{method} {path} takes a body but documents no 415"
                    );
                }
            }
        }
        app.stop().await;
    }
);

both!(
    send_test_email_reads_its_path_and_query_and_refuses_unknown_values,
    |app: TestApp| async move {
        // Emails go to files here (no SMTP_URL); tests/mail.rs reads them off a real server.
        let body = process_json();
        let all = app
            .post(
                "/messages/test/TASK_STARTED?role=SIGNER&language=ALL",
                body.clone(),
            )
            .await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert_eq!(
            all.body.as_array().map(Vec::len),
            Some(5),
            "one per built-in language, whatever the case of `all`: {}",
            all.body
        );
        let bad = app
            .post(
                "/messages/test/TASK_STARTED?role=SIGNER&language=latvian!",
                body.clone(),
            )
            .await;
        assert!(
            bad.problem(400).to_string().contains("language"),
            "{}",
            bad.body
        );
        app.post("/messages/test/NOPE?role=SIGNER", body.clone())
            .await
            .problem(400);
        app.post("/messages/test/TASK_STARTED?role=BOSS", body)
            .await
            .problem(400);
        app.stop().await;
    }
);

each_backend!(
    a_mail_server_failure_is_a_502_without_internals,
    |backend, test| async move {
        // A loopback port nobody listens on: the connection is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("smtp://user:secret@127.0.0.1:{port}");
        let Some(app) = TestApp::start_with(backend, test, &[("SMTP_URL", url.as_str())]).await
        else {
            return;
        };
        let answer = app
            .post("/messages/test/TASK_STARTED?role=SIGNER", process_json())
            .await;
        let p = answer.problem(502).to_string();
        for internal in ["secret", "user:", &port.to_string()] {
            assert!(!p.contains(internal), "502 leaks {internal}: {p}");
        }
        app.stop().await;
    }
);
