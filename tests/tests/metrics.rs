//! `/metrics` (PRODUCT.md section 13): every family from the start, moving with traffic, no
//! raw path in a label, and `METRICS_BIND`; on both databases. The text is read with a
//! Prometheus text parser, as a scraper reads it.
//!
//! The `metrics` recorder is global to this test binary, so the tests running in parallel
//! count into the same families: assertions compare before and after, never exact values.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use pas_domain::ports::Outbox;
use pas_e2e::{Backend, SIGNER_CODE, TestApp, each_backend, entry_id, lease_process};
use prom_text_format_parser::{Metric, Sample, Scrape, ValueType};
use reqwest::StatusCode;

/// Every family of PRODUCT.md section 13.
const FAMILIES: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds",
    "db_pool_connections",
    "outbox_pending",
    "outbox_oldest_pending_seconds",
    "outbox_failed_total",
    "emails_sent_total",
    "webhook_deliveries_total",
    "auth_failures_total",
    "audit_events_total",
    "db_read_fallbacks_total",
];

/// One scrape of `url`, parsed.
async fn scrape(url: &str) -> Scrape {
    let res = reqwest::get(url).await.expect("/metrics answers");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.expect("a body");
    Scrape::parse(&text).unwrap_or_else(|e| panic!("not Prometheus text ({e:?}):\n{text}"))
}

/// The family `name`.
fn family<'a>(scrape: &'a Scrape, name: &str) -> Option<&'a Metric> {
    scrape.metrics.iter().find(|m| m.name == name)
}

/// A label's value.
fn label<'a>(sample: &'a Sample, key: &str) -> Option<&'a str> {
    sample
        .labels
        .iter()
        .find(|l| l.key == key)
        .map(|l| l.value.as_str())
}

/// The samples of `name` (for a histogram: its `_count` samples).
fn samples<'a>(scrape: &'a Scrape, name: &str) -> Vec<&'a Sample> {
    family(scrape, name).map_or_else(Vec::new, |m| {
        let histogram = m
            .samples
            .iter()
            .any(|s| s.value.value_type == ValueType::Count);
        m.samples
            .iter()
            .filter(|s| !histogram || s.value.value_type == ValueType::Count)
            .collect()
    })
}

/// The sum of `name`'s samples (a histogram's counts) whose labels include `labels`.
fn total(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(scrape, name)
        .into_iter()
        .filter(|s| labels.iter().all(|(k, v)| label(s, k) == Some(*v)))
        .map(|s| s.value.value.as_f64())
        .sum()
}

fn assert_every_family(scrape: &Scrape) {
    for family in FAMILIES {
        assert!(
            !samples(scrape, family).is_empty(),
            "{family} is missing from /metrics"
        );
    }
    for channel in ["email", "webhook"] {
        for family in [
            "outbox_pending",
            "outbox_oldest_pending_seconds",
            "outbox_failed_total",
        ] {
            assert!(
                samples(scrape, family)
                    .iter()
                    .any(|s| label(s, "channel") == Some(channel)),
                "{family}{{channel={channel}}} is missing"
            );
        }
    }
    for state in ["idle", "active", "max"] {
        assert!(
            samples(scrape, "db_pool_connections")
                .iter()
                .any(|s| label(s, "state") == Some(state))
        );
    }
    for reason in [
        "missing_token",
        "invalid_token",
        "identity_mismatch",
        "throttled",
    ] {
        assert!(
            samples(scrape, "auth_failures_total")
                .iter()
                .any(|s| label(s, "reason") == Some(reason))
        );
    }
}

/// Scrapes until `done` holds, for at most 20 s.
async fn scrape_until(url: &str, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = scrape(url).await;
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "{what} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

each_backend!(
    families_move_with_traffic,
    |backend: Backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, &[("MAIL_POLL_MS", "100")]).await else {
            return;
        };
        let url = format!("{}/metrics", app.root);
        let before = scrape(&url).await;
        assert_every_family(&before);
        assert!(total(&before, "db_pool_connections", &[("state", "max")]) >= 1.0);

        // A started process: audit rows, and emails through MAIL_DIR.
        let mut body = lease_process();
        body["status"] = "STARTED".into();
        let process = app.create_process(body).await;
        let id = process["id"].as_str().expect("an id").to_owned();
        assert_eq!(
            app.get(&format!("/processes/{id}")).await.status,
            StatusCode::OK
        );
        // A failed portal authorization: the personal code does not match.
        let signer = entry_id(&process, "SIGNER");
        let refused = app
            .get(&format!("/processes/authorize/{signer}/010101-10000/LV"))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        // A row that is not due for an hour stays pending.
        let db = pas_persistence::Db::connect(app.database_url(), 1)
            .await
            .expect("a second pool on the app's database");
        let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        let intent = pas_domain::notify::NotificationIntent {
            event_type: pas_domain::status::EventType::TaskStarted,
            role: pas_domain::notify::RecipientRole::Signer,
            to: pas_domain::values::Email::parse("later@example.lv").expect("an address"),
            language: None,
            process_id: id.parse().expect("a process id"),
            step_id: None,
            signer_id: None,
        };
        db.enqueue(vec![intent], later).await.expect("queued");

        let after = scrape_until(&url, "the emails of the started process are sent", |s| {
            total(s, "emails_sent_total", &[]) > total(&before, "emails_sent_total", &[])
        })
        .await;
        assert_every_family(&after);
        let process_route = [("route", "/api/v1/processes/{processId}")];
        assert!(
            total(
                &after,
                "http_requests_total",
                &[("method", "GET"), ("status", "200"), process_route[0]]
            ) > total(
                &before,
                "http_requests_total",
                &[("method", "GET"), ("status", "200"), process_route[0]]
            )
        );
        assert!(
            total(&after, "http_request_duration_seconds", &process_route)
                > total(&before, "http_request_duration_seconds", &process_route)
        );
        assert!(
            total(&after, "audit_events_total", &[]) > total(&before, "audit_events_total", &[])
        );
        let mismatch = [("reason", "identity_mismatch")];
        assert!(
            total(&after, "auth_failures_total", &mismatch)
                > total(&before, "auth_failures_total", &mismatch)
        );
        assert!(total(&after, "outbox_pending", &[("channel", "email")]) >= 1.0);

        // No label holds a raw path segment: ids and codes never appear, templates do.
        let secrets = [id.as_str(), signer.as_str(), SIGNER_CODE, "010101-10000"];
        for metric in &after.metrics {
            for sample in &metric.samples {
                for l in sample.labels.iter() {
                    for secret in secrets {
                        assert!(!l.value.contains(secret), "{} has {}", metric.name, l.value);
                    }
                }
            }
        }
        assert!(
            samples(&after, "http_requests_total")
                .iter()
                .any(|s| label(s, "route")
                    == Some("/api/v1/processes/authorize/{signerId}/{personCode}/{country}")),
            "the portal route is labelled by its template"
        );
        app.stop().await;
    }
);

each_backend!(
    metrics_bind_is_a_listener_of_its_own,
    |backend: Backend, test| async move {
        let Some(app) =
            TestApp::start_with(backend, test, &[("METRICS_BIND", "127.0.0.1:0")]).await
        else {
            return;
        };
        let metrics_root = app.metrics_root().expect("a /metrics listener");
        assert_ne!(metrics_root, app.root);
        let scraped = scrape(&format!("{metrics_root}/metrics")).await;
        assert_every_family(&scraped);
        // The main listener has no /metrics, and the metrics listener nothing else.
        assert_eq!(app.get("/metrics").await.status, StatusCode::NOT_FOUND);
        let other = reqwest::get(format!("{metrics_root}/health"))
            .await
            .expect("an answer");
        assert_eq!(other.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
);
