//! `GET /outbox` and `POST /outbox/{id}/retry` over HTTP against the real use cases and
//! stores (PRODUCT.md section 14), on both databases: emails to an SMTP port nobody listens
//! on are given up after `MAIL_GIVE_UP_AFTER`, listed by state and channel, and put back by
//! an administrator; other roles get 403; bad parameters are problems.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use pas_e2e::{Answer, SIGNER_CODE, TestApp, each_backend, lease_process};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ADMIN: &str = "admin@example.lv";

fn secret(name: &str) -> String {
    format!("outbox-secret-of-{name}-0123456789abcdef")
}

/// Static tokens: an administrator and a user of `sales`.
fn tokens_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut toml = String::new();
    for (name, role, groups) in [
        ("admin", "pas-admin", "[]"),
        ("sales", "pas-user", "[\"sales\"]"),
    ] {
        let hash = hex::encode(Sha256::digest(secret(name).as_bytes()));
        toml.push_str(&format!(
            "[[token]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = [\"{role}\"]\ngroups = {groups}\n\n"
        ));
    }
    let path = dir.join("tokens.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn as_(app: &TestApp, who: &str, method: Method, path: &str) -> Answer {
    let bearer = format!("Bearer {}", secret(who));
    app.call(method, path, None, &[("Authorization", bearer.as_str())])
        .await
}

/// Polls `GET /outbox?{query}` (as the admin) until `done` holds.
async fn wait_for(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let page = as_(app, "admin", Method::GET, &format!("/outbox?{query}")).await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        if done(&page.body) {
            return page.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "GET /outbox?{query} never matched: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

each_backend!(
    given_up_emails_are_listed_and_an_administrator_puts_one_back,
    |backend, test| async move {
        let dir = tempfile::tempdir().unwrap();
        let tokens = tokens_file(dir.path());
        let smtp = format!("smtp://127.0.0.1:{}", closed_port());
        let Some(app) = TestApp::start_with(
            backend,
            test,
            &[
                ("AUTH_MODE", "tokens"),
                ("AUTH_TOKENS_FILE", tokens.to_str().unwrap()),
                ("SMTP_URL", smtp.as_str()),
                ("ADMIN_EMAIL", ADMIN),
                ("MAIL_POLL_MS", "50"),
                ("MAIL_FIRST_RETRY_SECONDS", "1"),
                ("MAIL_GIVE_UP_AFTER", "2s"),
            ],
        )
        .await
        else {
            return;
        };
        // A STARTED process: PROCESS_STARTED and the approver's TASK_STARTED are queued.
        let mut body = lease_process();
        body["status"] = json!("STARTED");
        let bearer = format!("Bearer {}", secret("sales"));
        let created = app
            .call(
                Method::POST,
                "/processes",
                Some(body),
                &[("Authorization", bearer.as_str())],
            )
            .await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        let process_id = created.body["id"].as_str().unwrap().to_owned();

        // Pending while retried, failed after MAIL_GIVE_UP_AFTER (2 s), never before.
        let started = Instant::now();
        let pending = wait_for(&app, "state=PENDING", |p| p["totalElements"] == 2).await;
        assert!(
            pending["content"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["state"] == "PENDING" && r["channel"] == "EMAIL")
        );
        let failed = wait_for(&app, "state=FAILED&channel=EMAIL", |p| {
            p["totalElements"] == 2
        })
        .await;
        assert!(started.elapsed() >= Duration::from_millis(1500));
        let rows = failed["content"].as_array().unwrap();
        for row in rows {
            assert_eq!(row["processId"], process_id.as_str());
            assert!(row["attempts"].as_u64().unwrap() >= 2, "{row}");
            let error = row["lastError"].as_str().unwrap();
            assert!(error.starts_with("given up after 2 s"), "{error}");
            assert!(error.chars().count() <= 301);
            assert!(row["sentAt"].is_null());
            for key in [
                "id",
                "eventType",
                "role",
                "recipient",
                "queuedAt",
                "nextAttemptAt",
                "createdAt",
            ] {
                assert!(!row[key].is_null(), "{key} missing in {row}");
            }
        }
        // Each given-up email queued one FAILURE row to ADMIN_EMAIL (pending: SMTP is down).
        let notices = wait_for(&app, "state=PENDING", |p| p["totalElements"] == 2).await;
        assert!(
            notices["content"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["eventType"] == "FAILURE" && r["recipient"] == ADMIN)
        );
        // No personal code in any answer (the process has one).
        let all = as_(&app, "admin", Method::GET, "/outbox?size=200").await;
        assert_eq!(all.body["totalElements"], 4);
        assert!(!all.body.to_string().contains(SIGNER_CODE));
        assert!(!all.body.to_string().contains(&SIGNER_CODE.replace('-', "")));
        // Paged like the other lists.
        let page = as_(
            &app,
            "admin",
            Method::GET,
            "/outbox?page=1&size=3&sort=queuedAt,asc",
        )
        .await;
        assert_eq!(page.status.as_u16(), 200);
        assert_eq!(
            (
                page.body["number"].clone(),
                page.body["numberOfElements"].clone()
            ),
            (json!(1), json!(1))
        );

        // A retry: PENDING again, due now, queued now.
        let row = &rows[0];
        let id = row["id"].as_str().unwrap();
        let retried = as_(&app, "admin", Method::POST, &format!("/outbox/{id}/retry")).await;
        assert_eq!(retried.status.as_u16(), 200, "{}", retried.body);
        assert_eq!(retried.body["state"], "PENDING");
        assert_eq!(retried.body["id"], id);
        assert!(retried.body["queuedAt"].as_str().unwrap() > row["queuedAt"].as_str().unwrap());
        assert_eq!(retried.body["nextAttemptAt"], retried.body["queuedAt"]);
        assert_eq!(retried.body["createdAt"], row["createdAt"]);
        // Not FAILED any more: 409; unknown: 404; not an id: 400.
        let again = as_(&app, "admin", Method::POST, &format!("/outbox/{id}/retry")).await;
        again.problem(409);
        let unknown = as_(
            &app,
            "admin",
            Method::POST,
            "/outbox/01900000-0000-7000-8000-000000000000/retry",
        )
        .await;
        unknown.problem(404);
        as_(&app, "admin", Method::POST, "/outbox/not-an-id/retry")
            .await
            .problem(400);
        // The retried row is given up again after a fresh MAIL_GIVE_UP_AFTER, with a new
        // FAILURE row; FAILURE rows that fail themselves (SMTP is down) add none.
        let queued_again = retried.body["queuedAt"].clone();
        wait_for(&app, "state=FAILED&size=200", |p| {
            p["content"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == id && r["queuedAt"] == queued_again)
        })
        .await;
        let everything = wait_for(&app, "size=200", |p| {
            p["content"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["state"] == "FAILED")
        })
        .await;
        let failures = everything["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["eventType"] == "FAILURE")
            .count();
        assert_eq!(
            (everything["totalElements"].clone(), failures),
            (json!(5), 3)
        );

        // Bad filters are 400 problems.
        as_(&app, "admin", Method::GET, "/outbox?state=LOST")
            .await
            .problem(400);
        as_(&app, "admin", Method::GET, "/outbox?channel=SMS")
            .await
            .problem(400);
        as_(&app, "admin", Method::GET, "/outbox?sort=recipient")
            .await
            .problem(400);

        // Only pas-admin: a pas-user is refused both, whatever it names.
        as_(&app, "sales", Method::GET, "/outbox")
            .await
            .problem(403);
        as_(&app, "sales", Method::POST, &format!("/outbox/{id}/retry"))
            .await
            .problem(403);
        as_(&app, "sales", Method::GET, "/outbox?state=LOST")
            .await
            .problem(403);
        let anonymous = app.get("/outbox").await;
        anonymous.problem(401);
        app.stop().await;
    }
);

each_backend!(
    in_auth_mode_off_every_caller_administers_the_outbox,
    |backend, test| async move {
        let Some(app) = TestApp::start(backend, test).await else {
            return;
        };
        app.create_process(lease_process()).await;
        let page = app.get("/outbox?channel=EMAIL").await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        assert!(page.body["content"].is_array());
        app.post(
            "/outbox/01900000-0000-7000-8000-000000000000/retry",
            json!(null),
        )
        .await
        .problem(404);
        app.stop().await;
    }
);
