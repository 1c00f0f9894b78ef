//! Storage failures: answered as a bare 500 problem, with the cause in the log only.

use actix_web::test::TestRequest;
use pas_domain::ports::RepoError;

use crate::support::{Mocks, started};

#[path = "../support/captured_log.rs"]
mod captured_log;
use captured_log::Captured;

/// The log of the calling test's thread. Every test here captures: the error's callsite
/// caches whether anyone listens, and a test on a thread without a subscriber could make it
/// "nobody" for the test that reads the log.
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
async fn a_storage_failure_is_a_500_without_internals() {
    let (_log, _guard) = capture();
    let mut m = Mocks::default();
    m.repo.expect_get().returning(|_| {
        Err(RepoError::Storage(
            "connection to postgres://admin:s3cret@db:5432 refused".into(),
        ))
    });
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{}", uuid::Uuid::now_v7())))
        .await;
    reply.problem(500);
    let text = String::from_utf8_lossy(&reply.body);
    for secret in ["s3cret", "postgres", "refused", "storage"] {
        assert!(!text.contains(secret), "500 body leaks {secret}: {text}");
    }
}

#[actix_web::test]
async fn a_read_whose_audit_row_cannot_be_written_is_a_500() {
    let (_log, _guard) = capture();
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_record()
        .returning(|_, _| Err(RepoError::Storage("audit table locked".into())));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{id}")))
        .await;
    reply.problem(500);
    assert!(!String::from_utf8_lossy(&reply.body).contains("locked"));
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
