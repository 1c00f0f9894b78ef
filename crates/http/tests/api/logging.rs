//! The request log as a subscriber sees it: no personal code, ever.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::test::TestRequest;
use pas_domain::ports::RepoError;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{CODE, Mocks};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

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
async fn the_request_log_masks_personal_codes_in_paths_and_queries() {
    let (out, _guard) = capture();

    let mut m = Mocks::default();
    m.repo.expect_for_person().returning(|_| Ok(vec![]));
    let reply = m
        .call(TestRequest::get().uri(&format!(
            "/api/v1/signers/{CODE}/LV/steps?personalCode={CODE}"
        )))
        .await;
    assert_eq!(reply.status.as_u16(), 200);

    let mut m = Mocks::default();
    m.repo.expect_get_by_signer().returning(|_| Ok(None));
    m.call(TestRequest::get().uri(&format!(
        "/api/v1/processes/authorize/{}/{CODE}/LV",
        uuid::Uuid::now_v7()
    )))
    .await
    .problem(403);

    Mocks::default()
        .call(TestRequest::get().uri(&format!(
            "/api/v1/signer-tasks?country=LV&personalCode={CODE}&sort=nope"
        )))
        .await
        .problem(400);

    let log = out.text();
    assert!(
        log.contains("GET") && log.contains("/api/v1/signers/***/LV/steps?personalCode=***"),
        "{log}"
    );
    assert!(
        log.contains("status=200") && log.contains("latency_ms="),
        "{log}"
    );
    assert!(
        log.contains("/***/LV") && log.contains("status=403"),
        "{log}"
    );
    assert!(!log.contains("161175") && !log.contains("19997"), "{log}");
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
