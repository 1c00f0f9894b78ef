//! The audit checkpoint email (PRODUCT.md section 11, `AUDIT_CHECKPOINT_CRON` and
//! `AUDIT_CHECKPOINT_EMAIL`): one run of the job queues one outbox row, which the real
//! service's dispatcher delivers to a real SMTP server on loopback, carrying the root that
//! `GET /audit-checkpoint` answers; two instances firing for the same scheduled run queue
//! one email; the job runs on its schedule in the started service. On SQLite and, with
//! `TEST_DATABASE_URL`, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use pas_app::jobs::run_checkpoint_once;
use pas_domain::values::Email;
use pas_e2e::{Backend, TestApp, each_backend, lease_process};
use serde_json::Value;
use support::{Mail, SmtpServer};
use time::OffsetDateTime;

const AUDITOR: &str = "auditor@example.test";

/// The service sending to `smtp`, polling the outbox every 100 ms, with the checkpoint job
/// on `cron`.
async fn start(backend: Backend, test: &str, smtp: &SmtpServer, cron: &str) -> Option<TestApp> {
    let url = smtp.url();
    TestApp::start_with(
        backend,
        test,
        &[
            ("SMTP_URL", url.as_str()),
            ("MAIL_POLL_MS", "100"),
            ("AUDIT_CHECKPOINT_CRON", cron),
            ("AUDIT_CHECKPOINT_EMAIL", AUDITOR),
        ],
    )
    .await
}

/// The checkpoint JSON `{createdAt, chainCount, root}` an email carries.
fn checkpoint_of(mail: &Mail) -> Value {
    let body = mail.body();
    let (start, end) = (body.find('{').unwrap(), body.rfind('}').unwrap());
    serde_json::from_str(&body[start..=end]).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The outbox rows of kind AUDIT_CHECKPOINT.
async fn checkpoint_rows(app: &TestApp) -> Vec<Value> {
    let page = app.get("/outbox?size=100").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    page.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "AUDIT_CHECKPOINT")
        .cloned()
        .collect()
}

each_backend!(
    one_run_queues_one_email_whose_root_is_the_published_one_even_when_two_instances_fire,
    |backend, test| async move {
        let smtp = SmtpServer::start();
        // The schedule (1 January only) does not fire during the test: runs are made below.
        let Some(app) = start(backend, test, &smtp, "0 0 0 1 1 *").await else {
            return;
        };
        for _ in 0..3 {
            app.create_process(lease_process()).await;
        }
        // A second handle on the same database, as another instance has.
        let db = pas_app::open_audited_database(app.config()).await.unwrap();
        let audit = pas_app::audit_service(
            &db,
            pas_domain::pseudonym::PiiKey::new(vec![9; 32]).expect("a 32-byte key"),
        );
        let to = Email::parse(AUDITOR).unwrap();
        let scheduled = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();

        // Two instances fire for the same scheduled run at once: one row.
        let (a, b) = tokio::join!(
            run_checkpoint_once(&audit, &to, scheduled),
            run_checkpoint_once(&audit, &to, scheduled)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.outbox_id, b.outbox_id, "the id is the scheduled run's");
        assert!(a.queued ^ b.queued, "exactly one queued: {a:?} {b:?}");
        let late = run_checkpoint_once(&audit, &to, scheduled).await.unwrap();
        assert!(
            !late.queued,
            "a late run of the same instant queues nothing"
        );
        let rows = checkpoint_rows(&app).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["id"], a.outbox_id.to_string());
        assert_eq!(rows[0]["recipient"], AUDITOR);
        for key in ["processId", "eventType", "role"] {
            assert!(rows[0][key].is_null(), "{key}: {}", rows[0]);
        }

        // Delivered once by the service's dispatcher, carrying the published checkpoint.
        let inbox = smtp.wait_to(AUDITOR, 1).await;
        assert_eq!(inbox.len(), 1);
        let mail = &inbox[0];
        assert_eq!(mail.row_id(), a.outbox_id.to_string());
        let sent = checkpoint_of(mail);
        let published = app.get("/audit-checkpoint").await;
        assert_eq!(published.status.as_u16(), 200, "{}", published.body);
        assert_eq!(sent["root"], published.body["root"]);
        assert_eq!(sent["chainCount"], published.body["chainCount"]);
        assert_eq!(sent["chainCount"], 3);
        assert_eq!(sent["root"], a.checkpoint.root);
        assert_eq!(
            mail.subject(),
            format!("Audit checkpoint {}", sent["createdAt"].as_str().unwrap())
        );
        assert!(mail.body().contains("app audit verify --checkpoint"));

        // The row is settled as SENT and nothing else arrives.
        let start = Instant::now();
        while checkpoint_rows(&app).await[0]["state"] != "SENT" {
            assert!(start.elapsed() < Duration::from_secs(10), "never SENT");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(smtp.to(AUDITOR).len(), 1);
        app.stop().await;
    }
);

each_backend!(
    the_started_service_runs_the_job_on_its_schedule,
    |backend, test| async move {
        let smtp = SmtpServer::start();
        // Every second: the job of the started service queues a row per second.
        let Some(app) = start(backend, test, &smtp, "* * * * * *").await else {
            return;
        };
        app.create_process(lease_process()).await;
        let inbox = smtp.wait_to(AUDITOR, 2).await;
        let ids: std::collections::HashSet<String> = inbox.iter().map(Mail::row_id).collect();
        assert_eq!(ids.len(), inbox.len(), "one row per run");
        assert!(
            inbox
                .iter()
                .all(|m| m.subject().starts_with("Audit checkpoint "))
        );
        app.stop().await;
    }
);
