//! Issue 17: the log never holds a personal code or an anonymous signer's id (the portal
//! secret), however the request spells its path. Every route carrying one is sent in plain
//! and encoded forms while this binary's one global subscriber captures everything the
//! service logs (at `trace`, through the app's own filter), on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use pas_e2e::{TestApp, both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const CODE: &str = "161175-19997";

#[path = "../../crates/http/tests/support/captured_log.rs"]
mod captured_log;
use captured_log::Captured;

/// The log of this test binary. Global, because actix workers run on their own threads;
/// installed once, so both backends' tests share it (each checks its own secrets, and the
/// code they share). The client's own crates stay at `info`: their traces name the URLs
/// this test sends, which is not the service's log.
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let out = Captured::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(out.clone())
            .with_ansi(false)
            // Timestamps have six-digit fractions: noise for a search for digits.
            .without_time()
            .with_filter(pas_app::logging::filter(
                "trace,reqwest=info,hyper=info,hyper_util=info,h2=info",
            ));
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("the only subscriber of this test binary");
        out
    })
}

/// Every byte of `text` percent-encoded.
fn encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// The first letter of `text` percent-encoded (routing decodes unreserved characters).
fn encode_first_letter(text: &str) -> String {
    match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, c)) => format!("{}%{:02X}{}", &text[..i], c as u32, &text[i + 1..]),
        None => text.to_owned(),
    }
}

/// The spellings of the personal code a client could send.
fn code_variants() -> Vec<String> {
    vec![
        CODE.to_owned(),
        CODE.replace('-', ""),
        CODE.replace('-', "%2D"),
        CODE.replace('-', "%2d"),
        encode_all(CODE),
    ]
}

/// The spellings of a signer id: as made, upper case, a letter or every byte encoded.
fn id_variants(id: &str) -> Vec<String> {
    vec![
        id.to_owned(),
        id.to_uppercase(),
        encode_first_letter(id),
        id.replace('-', "%2D"),
        encode_all(id),
    ]
}

/// The spellings of a path (relative to `/api/v1`): as is, its first literal segment with an
/// encoded letter and in upper case, a trailing slash, and repeated slashes.
fn path_variants(path: &str) -> Vec<String> {
    let (first, rest) = path[1..].split_once('/').unwrap_or((&path[1..], ""));
    vec![
        path.to_owned(),
        format!("/{}/{rest}", encode_first_letter(first)),
        format!("/{}/{rest}", first.to_uppercase()),
        format!("{path}/"),
        format!("/{path}"),
        format!("/{first}//{rest}"),
        path.replace("/LV", "/lv"),
    ]
}

/// Every spelling of a path made from the spellings of a secret.
fn spellings(secrets: &[String], make: impl Fn(&str) -> String) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|s| path_variants(&make(s)))
        .collect()
}

fn entry_id(p: &Value, email: &str) -> String {
    p["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .find(|s| s["signerEmail"] == email)
        .expect("the entry")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A started process: an anonymous approver, then a signer with a Latvian personal code.
async fn started_process(app: &TestApp) -> (String, String) {
    let created = app
        .post(
            "/processes",
            json!({"documentId": "doc-log", "documentName": "Lease", "ownerGroup": "sales",
            "status": "STARTED", "processInitiatorEmail": "office@example.lv",
            "signingProcessSteps": [
                {"processOrder": 1, "processStepSigners": [{"signerRole": "APPROVER",
                    "signerEmail": "anon@example.lv", "signerName": "Anon"}]},
                {"processOrder": 2, "processStepSigners": [{"signerRole": "SIGNER",
                    "signerEmail": "client@example.lv", "signerName": "Client",
                    "signerCountry": "LV", "signerPersonalCode": CODE}]}
            ]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    (
        entry_id(&created.body, "anon@example.lv"),
        entry_id(&created.body, "client@example.lv"),
    )
}

async fn send_all(app: &TestApp, method: Method, paths: &[String], body: Option<Value>) {
    for path in paths {
        app.call(method.clone(), path, body.clone(), &[]).await;
    }
}

both!(
    issue17_no_spelling_of_a_code_or_signer_id_reaches_the_log,
    |app: TestApp| async move {
        let log = log();
        let (anon, client) = started_process(&app).await;
        let codes = code_variants();
        let mut ids = id_variants(&anon);
        ids.extend(id_variants(&client));

        // The issue's request: served (200) on the decoded path.
        let listed = app.get(&format!("/sign%65rs/{CODE}/LV/documents")).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body.as_array().map(Vec::len), Some(1));

        // The signer portal by personal code.
        for tail in ["steps", "documents"] {
            let paths = spellings(&codes, |c| format!("/signers/{c}/LV/{tail}"));
            send_all(&app, Method::GET, &paths, None).await;
        }
        // Authorization: a signer id and a personal code in one path; a malformed id makes
        // actix-web's path extractor fail, which it reports with the raw path at `debug`.
        let mut signer_ids = ids.clone();
        signer_ids.push(format!("x{CODE}"));
        for id in &signer_ids {
            let paths = spellings(&codes, |c| format!("/processes/authorize/{id}/{c}/LV"));
            send_all(&app, Method::GET, &paths, None).await;
        }
        // Lookups and emails by signer id.
        let paths = spellings(&ids, |id| format!("/processes/by-step-signer/{id}"));
        send_all(&app, Method::GET, &paths, None).await;
        let paths = spellings(&ids, |id| format!("/process-step-signers/{id}/email"));
        send_all(&app, Method::POST, &paths, None).await;
        // The entry actions, the state-changing ones last (the approval starts step 2, the
        // signature completes the process, so the declines are refused).
        let identity = json!({"personalCode": CODE, "country": "LV"});
        for action in ["view", "approve", "sign", "decline"] {
            let paths = spellings(&ids, |id| format!("/process-step-signers/{id}/{action}"));
            send_all(&app, Method::POST, &paths, Some(identity.clone())).await;
        }
        // Query strings: values, encoded names, and a code used as a name.
        let mut queries = Vec::new();
        for c in &codes {
            queries.push(format!("/signer-tasks?personalCode={c}&country=LV"));
            queries.push(format!("/signer-tasks?personal%43ode={c}&country=LV"));
            queries.push(format!("/signer-tasks?{c}=1&country=LV"));
            queries.push(format!("/processes?isAdmin=true&personalCode={c}"));
            queries.push(format!("/contacts?owner=anna&personalCode={c}"));
        }
        for id in &ids {
            queries.push(format!("/signer-tasks?signerId={id}"));
            queries.push(format!("/audit-events?signerId={id}"));
            queries.push(format!("/{id}?signerId={id}"));
        }
        send_all(&app, Method::GET, &queries, None).await;
        // A client's request id is echoed and logged; unknown query names are logged as
        // `other`, never by their text.
        let traced = app
            .call(
                Method::GET,
                &format!("/sign%65rs/{CODE}/LV/steps?personalCode={CODE}&{CODE}=1"),
                None,
                &[("X-Request-Id", "trace-42")],
            )
            .await;
        assert_eq!(traced.status, StatusCode::OK, "{}", traced.body);
        assert_eq!(traced.header("x-request-id"), Some("trace-42"));
        // A body is never logged; sent for completeness.
        app.post("/processes/search", json!({"personalCode": CODE}))
            .await;

        let text = log.text();
        // The lines are there, in the service's words.
        assert!(
            text.lines().any(|l| l.contains("method=GET")
                && l.contains("route=/api/v1/signers/{personCode}/{country}/documents")
                && l.contains("status=200")
                && l.contains("request_id=")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("route=/api/v1/process-step-signers/{signerId}/sign")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.contains("method=GET")
                && l.contains("route=/api/v1/signers/{personCode}/{country}/steps")
                && l.contains("status=200")
                && l.contains("latency_ms=")
                && l.contains("request_id=trace-42")
                && l.contains("query=personalCode,other")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l
                .contains("route=/api/v1/processes/authorize/{signerId}/{personCode}/{country}")
                && l.contains("status=403")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("route=(unmatched)") && l.contains("status=404")),
            "{text}"
        );
        assert!(text.contains("query=personalCode,country"), "{text}");
        // And nothing of the secrets, in any spelling sent.
        let mut secrets = vec![
            CODE.to_owned(),
            CODE.replace('-', ""),
            CODE.replace('-', "%2D").to_lowercase(),
            encode_all(CODE).to_lowercase(),
        ];
        for id in [&anon, &client] {
            secrets.push(id.to_lowercase());
            secrets.push(id.replace('-', ""));
            secrets.extend(id_variants(id).iter().map(|v| v.to_lowercase()));
        }
        let lower = text.to_lowercase();
        for secret in &secrets {
            assert!(!lower.contains(secret.as_str()), "{secret} reached the log");
        }
    }
);
