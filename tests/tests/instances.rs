//! Several instances on one PostgreSQL database (PRODUCT.md section 13): the limit of failed
//! portal authorizations is shared, and a day's reminder run is made by one instance. Both
//! need PostgreSQL (SQLite serves one instance; its limiter counts in memory) and say so
//! when `TEST_DATABASE_URL` is unset.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use pas_app::jobs::{ReminderRun, remind_once};
use pas_domain::ports::{SystemClock, UuidV7Ids};
use pas_domain::pseudonym::PiiKey;
use pas_domain::service::ProcessService;
use pas_e2e::{Backend, SIGNER_CODE, TestApp, entry_id, lease_process};
use pas_persistence::Db;
use reqwest::StatusCode;
use serde_json::json;

async fn on_postgres(test: &str) -> Option<TestApp> {
    TestApp::start(Backend::Postgres, test).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authorizations_spread_over_two_instances_reach_one_limit() {
    let Some(a) = on_postgres("shared_limit").await else {
        return;
    };
    let b = a.another_instance().await;
    let mut body = lease_process();
    body["status"] = json!("STARTED");
    let created = a.create_process(body).await;
    let signer = entry_id(&created, "SIGNER");
    // A valid Estonian code that is not the signer's: each try is a failed authorization.
    let wrong = format!("/processes/authorize/{signer}/37605030299/EE");
    // The default limit is 10 a minute; five on each instance would pass two separate
    // limits, so only a shared count refuses the eleventh.
    for n in 0..10 {
        let instance = if n % 2 == 0 { &a } else { &b };
        instance.get(&wrong).await.problem(403);
    }
    for instance in [&a, &b] {
        let refused = instance.get(&wrong).await;
        refused.problem(429);
        assert!(refused.header("retry-after").is_some());
    }
    // The signer's own identity is refused too while the signer id is over its limit.
    let right = format!("/processes/authorize/{signer}/{SIGNER_CODE}/LV");
    assert_eq!(b.get(&right).await.status, StatusCode::TOO_MANY_REQUESTS);
    b.stop().await;
    a.stop().await;
}

/// A use-case stack of one instance over its own pool of `url`.
async fn instance(url: &str) -> (ProcessService, Arc<Db>) {
    let db = Arc::new(Db::connect(url, 4).await.unwrap().with_audit_keys(
        pas_domain::audit::AuditKeys::new(
            pas_domain::audit::AuditKey::new(test_key(pas_e2e::TEST_AUDIT_KEY)).unwrap(),
            vec![],
        ),
    ));
    let processes = ProcessService::new(
        db.clone(),
        Arc::new(SystemClock),
        Arc::new(UuidV7Ids),
        PiiKey::new(test_key(pas_e2e::TEST_PII_KEY)).unwrap(),
    );
    (processes, db)
}

fn test_key(b64: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminder_run_of_a_day_is_made_by_one_of_two_instances() {
    let Some(app) = on_postgres("one_reminder_run").await else {
        return;
    };
    // Three started processes whose approver is due in three days.
    let due = (time::OffsetDateTime::now_utc() + time::Duration::days(3)).date();
    for _ in 0..3 {
        let mut body = lease_process();
        body["status"] = json!("STARTED");
        body["signingProcessSteps"][0]["dueDate"] = json!(format!("{due}T12:00:00Z"));
        app.create_process(body).await;
    }
    let url = app.database_url().to_owned();
    let (first, first_db) = instance(&url).await;
    let (second, second_db) = instance(&url).await;
    let today = time::OffsetDateTime::now_utc().date();
    let utc = |t: time::OffsetDateTime| t.date();
    let (x, y) = tokio::join!(
        remind_once(&first, first_db.as_ref(), today, &[3], &utc),
        remind_once(&second, second_db.as_ref(), today, &[3], &utc),
    );
    let mut runs = [x.unwrap(), y.unwrap()];
    runs.sort_by_key(|r| matches!(r, ReminderRun::ClaimedElsewhere));
    assert_eq!(runs, [ReminderRun::Sent(3), ReminderRun::ClaimedElsewhere]);
    // Each reminder once: three REMINDER events, three reminder emails queued.
    let events = app.get("/audit-events?eventType=REMINDER&size=50").await;
    assert_eq!(events.body["totalElements"], 3, "{}", events.body);
    // A later firing of the same day (a restarted instance) sends nothing.
    assert_eq!(
        remind_once(&first, first_db.as_ref(), today, &[3], &utc)
            .await
            .unwrap(),
        ReminderRun::ClaimedElsewhere
    );
    app.stop().await;
}
