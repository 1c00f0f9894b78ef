//! `LOG_FORMAT=json` (PRODUCT.md section 13): the service's own JSON layer, writing into a
//! captured buffer, on both databases. Every line is a JSON object with a timestamp, a
//! level, a message and a target; the lines of a request carry its `X-Request-Id`, those
//! written inside its handler (here: the failed-authorization limiter's warning) through
//! the request span.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use pas_app::logging::LogFormat;
use pas_e2e::{Backend, TestApp, each_backend, entry_id, lease_process};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[path = "../../crates/http/tests/support/captured_log.rs"]
mod captured_log;
use captured_log::Captured;

/// The log of this test binary, in the service's JSON format (global: actix workers run on
/// their own threads; both backends' tests share it and look for their own request ids).
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let out = Captured::default();
        let layer = pas_app::logging::layer(LogFormat::Json, out.clone(), "info", false);
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("the only subscriber of this test binary");
        out
    })
}

/// Whether `line` carries `id`: as a field of its own, or in the request span.
fn carries(line: &Value, id: &str) -> bool {
    line["request_id"] == id
        || line["spans"]
            .as_array()
            .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == id))
}

each_backend!(
    json_lines_carry_the_request_id,
    |backend: Backend, test| async move {
        let log = log();
        let Some(app) =
            TestApp::start_with(backend, test, &[("AUTH_FAILURES_PER_MINUTE", "1")]).await
        else {
            return;
        };
        let id = format!("json-{backend:?}-{{trace}}=1");
        let mut body = lease_process();
        body["status"] = "STARTED".into();
        let process = app.create_process(body).await;
        let signer = entry_id(&process, "SIGNER");
        // A failed portal authorization reaches the limit of 1: the limiter warns inside the
        // handler, in the request span.
        let refused = app
            .call(
                Method::GET,
                &format!("/processes/authorize/{signer}/010101-10000/LV"),
                None,
                &[("X-Request-Id", id.as_str())],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.header("x-request-id"), Some(id.as_str()));
        app.stop().await;

        let text = log.text();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        assert!(!lines.is_empty());
        for line in &lines {
            for key in ["timestamp", "level", "message", "target"] {
                assert!(line[key].is_string(), "no {key}: {line}");
            }
        }
        let mine: Vec<&Value> = lines.iter().filter(|l| carries(l, &id)).collect();
        assert!(
            mine.iter()
                .any(|l| l["target"] == "pas_http::access" && l["status"] == 403),
            "the access line carries the request id: {text}"
        );
        let inside = mine
            .iter()
            .find(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("reached the limit"))
            })
            .unwrap_or_else(|| panic!("the limiter's warning carries the request id: {text}"));
        let span = inside["spans"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == "request"))
            .expect("the request span");
        assert_eq!(
            span["route"],
            "/api/v1/processes/authorize/{signerId}/{personCode}/{country}"
        );
        // Never the personal code or the signer id (the portal secret).
        assert!(!text.contains("010101-10000"));
        assert!(!text.contains(&signer));
    }
);
