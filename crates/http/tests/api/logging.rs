//! The request log as a subscriber sees it: no personal code or signer id, ever.

use actix_web::test::TestRequest;
use pas_domain::ports::RepoError;

use crate::support::{CODE, Mocks};

#[path = "../support/captured_log.rs"]
mod captured_log;
use captured_log::Captured;

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (out, tracing::subscriber::set_default(subscriber))
}

#[actix_web::test]
async fn the_request_log_holds_route_templates_never_paths_or_query_values() {
    let (out, _guard) = capture();
    let signer = uuid::Uuid::now_v7();

    let mut m = Mocks::default();
    m.repo.expect_for_person().returning(|_| Ok(vec![]));
    let reply = m
        .call(
            TestRequest::get()
                .uri(&format!(
                    "/api/v1/sign%65rs/{CODE}/LV/steps?personalCode={CODE}&{CODE}=1"
                ))
                .insert_header(("X-Request-Id", "trace-42")),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("x-request-id").as_deref(), Some("trace-42"));

    let mut m = Mocks::default();
    m.repo.expect_get_by_entry().returning(|_| Ok(None));
    m.call(TestRequest::get().uri(&format!(
        "/api/v1/processes/authorize/{signer}/{}/LV",
        CODE.replace('-', "%2D")
    )))
    .await
    .problem(403);

    Mocks::default()
        .call(TestRequest::get().uri(&format!(
            "/api/v1/signer-tasks?country=LV&personalCode={CODE}&sort=nope"
        )))
        .await
        .problem(400);

    Mocks::default()
        .call(TestRequest::get().uri(&format!("/api/v1/signers/{CODE}/LV/steps/")))
        .await
        .problem(404);

    let log = out.text();
    assert!(
        log.lines().any(|l| l.contains("method=GET")
            && l.contains("route=/api/v1/signers/{personCode}/{country}/steps")
            && l.contains("status=200")
            && l.contains("latency_ms=")
            && l.contains("request_id=trace-42")
            && l.contains("query=personalCode,other")),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l
            .contains("route=/api/v1/processes/authorize/{signerId}/{personCode}/{country}")
            && l.contains("status=403")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("route=(unmatched)") && l.contains("status=404")),
        "{log}"
    );
    for secret in ["161175", "19997", &signer.to_string(), "%2D"] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
}

#[actix_web::test]
async fn a_storage_failure_is_logged_at_error_level_but_not_sent() {
    let (out, _guard) = capture();
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(|_| Err(RepoError::Storage("disk full on /var/lib/pg".into())));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{}", uuid::Uuid::now_v7())))
        .await;
    reply.problem(500);
    assert!(!String::from_utf8_lossy(&reply.body).contains("disk full"));
    let log = out.text();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("disk full on /var/lib/pg")),
        "{log}"
    );
}
