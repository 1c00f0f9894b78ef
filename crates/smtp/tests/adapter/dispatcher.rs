//! The outbox dispatcher against the in-memory outbox and a real SMTP server.

use std::sync::Arc;
use std::time::Duration;

use pas_domain::notify::RecipientRole;
use pas_domain::prelude::*;
use pas_smtp::DispatchReport;

use crate::support::*;

fn secs(s: i64) -> time::Duration {
    time::Duration::seconds(s)
}

#[tokio::test]
async fn due_row_is_delivered_over_smtp_and_marked_sent() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let clock = TestClock::at(T0);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        clock,
        dispatch_settings("a"),
    );

    let report = d.run_once().await.unwrap();
    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            sent: 1,
            ..Default::default()
        }
    );
    let row = &outbox.rows()[0];
    assert_eq!(row.status, RowStatus::Sent);
    let got = server.wait_for(1);
    assert_eq!(got[0].to, vec!["anna@example.lv".to_owned()]);
    assert_eq!(
        got[0].header("Message-ID"),
        Some(format!("<{}@signing.example.lv>", row.message.id))
    );
    // Nothing left to do.
    assert_eq!(d.run_once().await.unwrap(), DispatchReport::default());
}

#[tokio::test]
async fn blank_template_row_is_marked_sent_and_nothing_is_delivered() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    // SIGNER_SIGNED to the initiator: the built-in matrix has no email for it.
    let outbox = MemoryOutbox::with(vec![initiator_intent(&process, EventType::SignerSigned)]);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let report = d.run_once().await.unwrap();
    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            suppressed: 1,
            ..Default::default()
        }
    );
    assert_eq!(outbox.rows()[0].status, RowStatus::Sent);
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn refused_connection_retries_with_backoff_then_delivers_exactly_once_when_the_server_is_back()
 {
    let port = free_port();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let clock = TestClock::at(T0);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&format!("smtp://127.0.0.1:{port}")),
        clock.clone(),
        dispatch_settings("a"),
    );

    // Attempt 1 fails: next attempt 10 s later (+ up to 10 % jitter).
    assert_eq!(d.run_once().await.unwrap().retried, 1);
    let row = outbox.rows()[0].clone();
    assert_eq!(row.status, RowStatus::Pending);
    assert_eq!(row.message.attempts, 1);
    assert!(
        row.next_attempt_at >= T0 + secs(10) && row.next_attempt_at <= T0 + secs(11),
        "{}",
        row.next_attempt_at
    );
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("SMTP"),
        "{:?}",
        row.last_error
    );

    // Not due yet: nothing claimed.
    clock.set(T0 + secs(9));
    assert_eq!(d.run_once().await.unwrap().claimed, 0);

    // Attempt 2 fails: the wait doubles to 20 s.
    clock.set(row.next_attempt_at);
    let t1 = clock_now(&clock);
    assert_eq!(d.run_once().await.unwrap().retried, 1);
    let row = outbox.rows()[0].clone();
    assert_eq!(row.message.attempts, 2);
    assert!(
        row.next_attempt_at >= t1 + secs(20) && row.next_attempt_at <= t1 + secs(22),
        "{}",
        row.next_attempt_at
    );

    // The server comes back on the same port.
    let server = SmtpServer::start_on_port(port);
    clock.set(row.next_attempt_at);
    assert_eq!(d.run_once().await.unwrap().sent, 1);
    assert_eq!(outbox.rows()[0].status, RowStatus::Sent);
    clock.advance(secs(3600));
    assert_eq!(d.run_once().await.unwrap().claimed, 0);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.received().len(), 1, "delivered exactly once");
}

fn clock_now(clock: &Arc<TestClock>) -> time::OffsetDateTime {
    use pas_domain::ports::Clock;
    clock.now()
}

#[tokio::test]
async fn message_id_is_the_same_on_the_retry_after_a_temporary_smtp_error() {
    let server = SmtpServer::start();
    server.reject_next(1);
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "dan@example.lv",
    )]);
    let clock = TestClock::at(T0);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        clock.clone(),
        dispatch_settings("a"),
    );

    assert_eq!(d.run_once().await.unwrap().retried, 1, "421 is temporary");
    clock.advance(secs(60));
    assert_eq!(d.run_once().await.unwrap().sent, 1);

    let rejected = server.rejected();
    let accepted = server.wait_for(1);
    assert_eq!((rejected.len(), accepted.len()), (1, 1));
    let id = format!("<{}@signing.example.lv>", outbox.rows()[0].message.id);
    assert_eq!(rejected[0].header("Message-ID"), Some(id.clone()));
    assert_eq!(accepted[0].header("Message-ID"), Some(id));
}

#[tokio::test]
async fn a_row_is_retried_until_give_up_after_has_passed_then_fails_with_a_failure_row() {
    let port = free_port();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let original = outbox.rows()[0].message.id;
    let clock = TestClock::at(T0);
    let mut settings = dispatch_settings("a");
    // 10 s, then 20 s (+ jitter), but never past T0 + 25 s: the third attempt is at it.
    settings.give_up_after = Duration::from_secs(25);
    let processes = repo(vec![process.clone()]);
    let down = dispatcher(
        outbox.clone(),
        processes.clone(),
        smtp(&format!("smtp://127.0.0.1:{port}")),
        clock.clone(),
        settings.clone(),
    );

    for attempt in 1..=2 {
        let report = down.run_once().await.unwrap();
        assert_eq!(report.retried, 1, "attempt {attempt} is retried");
        let row = outbox.row(original);
        assert_eq!(row.status, RowStatus::Pending);
        assert!(
            row.next_attempt_at <= T0 + secs(25),
            "{}",
            row.next_attempt_at
        );
        clock.set(row.next_attempt_at);
    }
    assert_eq!(
        clock_now(&clock),
        T0 + secs(25),
        "the last attempt is at the deadline"
    );
    assert_eq!(down.run_once().await.unwrap().failed, 1);
    let row = outbox.row(original);
    assert_eq!(row.status, RowStatus::Failed);
    assert_eq!(row.message.attempts, 3);
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or("")
            .starts_with("given up after 25 s"),
        "{:?}",
        row.last_error
    );

    // The FAILURE notice was queued as a row with the failure; a dispatcher with a working
    // server sends it.
    let notices: Vec<_> = outbox
        .rows()
        .into_iter()
        .filter(|r| r.message.id != original)
        .collect();
    assert_eq!(notices.len(), 1);
    let notice = notices[0].message.payload.notification().unwrap();
    assert_eq!(notice.event_type, EventType::Failure);
    assert_eq!(notice.role, RecipientRole::Administrator);
    assert_eq!(notice.to.as_str(), "admin@example.lv");
    assert_eq!(notice.process_id, process.id);

    let server = SmtpServer::start();
    let up = dispatcher(
        outbox.clone(),
        processes,
        smtp(&server.url()),
        clock,
        settings,
    );
    assert_eq!(up.run_once().await.unwrap().sent, 1);
    let got = server.wait_for(1);
    assert_eq!(got[0].to, vec!["admin@example.lv".to_owned()]);
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Email delivery failed: Lease 17")
    );
}

#[tokio::test]
async fn many_attempts_are_no_reason_to_give_up_before_the_age_limit() {
    let port = free_port();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let clock = TestClock::at(T0);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&format!("smtp://127.0.0.1:{port}")),
        clock.clone(),
        dispatch_settings("a"),
    );
    // 20 attempts within the default 72 h: every one is retried, the wait capped at 1 h.
    for attempt in 1..=20 {
        assert_eq!(d.run_once().await.unwrap().retried, 1, "attempt {attempt}");
        let row = outbox.rows()[0].clone();
        let wait = row.next_attempt_at - clock_now(&clock);
        assert!(wait <= secs(3600 + 360), "attempt {attempt}: {wait}");
        clock.set(row.next_attempt_at);
    }
    assert_eq!(outbox.rows()[0].status, RowStatus::Pending);
    assert_eq!(outbox.rows().len(), 1, "no FAILURE yet");
}

#[tokio::test]
async fn a_failure_row_that_fails_is_not_reported_again() {
    let port = free_port();
    let process = started(standard_input());
    let mut notice = initiator_intent(&process, EventType::Failure);
    notice.role = RecipientRole::Administrator;
    notice.to = email("admin@example.lv");
    let outbox = MemoryOutbox::with(vec![notice]);
    let clock = TestClock::at(T0 + secs(2));
    let mut settings = dispatch_settings("a");
    settings.give_up_after = Duration::from_secs(1);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&format!("smtp://127.0.0.1:{port}")),
        clock,
        settings,
    );
    assert_eq!(d.run_once().await.unwrap().failed, 1);
    let rows = outbox.rows();
    assert_eq!(rows.len(), 1, "no FAILURE about a FAILURE");
    assert_eq!(rows[0].status, RowStatus::Failed);
}

#[tokio::test]
async fn a_permanently_rejected_recipient_fails_at_once_and_tells_the_admin() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let mut intent = entry_intent(&process, EventType::TaskStarted, "anna@example.lv");
    intent.to = email("bounce@example.lv");
    let outbox = MemoryOutbox::with(vec![intent]);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let report = d.run_once().await.unwrap();
    assert_eq!(report.failed, 1);
    let rows = outbox.rows();
    assert_eq!(rows[0].status, RowStatus::Failed);
    assert!(
        rows[0].last_error.as_deref().unwrap_or("").contains("550"),
        "{:?}",
        rows[0].last_error
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(outbox.intent(1).event_type, EventType::Failure);
}

#[tokio::test]
async fn a_row_whose_process_is_missing_is_marked_failed_with_the_reason() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    assert_eq!(d.run_once().await.unwrap().failed, 1);
    let rows = outbox.rows();
    assert_eq!(
        rows.len(),
        1,
        "no FAILURE notice: it could not be rendered either"
    );
    assert_eq!(rows[0].status, RowStatus::Failed);
    assert_eq!(
        rows[0].last_error,
        Some(format!("process {} not found", process.id))
    );
}

#[tokio::test]
async fn a_deleted_process_still_gets_its_queued_emails() {
    let server = SmtpServer::start();
    let mut process = started(standard_input());
    let change = process.cancel(false, T0).unwrap();
    let mut data = process.into_data();
    data.deleted_at = Some(T0);
    let process = SigningProcess::restore(data);
    let outbox = MemoryOutbox::with(change.notifications.clone());
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let report = d.run_once().await.unwrap();
    assert_eq!(report.sent, change.notifications.len());
    assert!(outbox.rows().iter().all(|r| r.status == RowStatus::Sent));
}

#[tokio::test]
async fn two_dispatchers_with_different_owners_never_send_one_row_twice() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let mut intents = Vec::new();
    for _ in 0..10 {
        for who in ["anna@example.lv", "boss@example.co.uk", "claire@example.fr"] {
            intents.push(entry_intent(&process, EventType::TaskStarted, who));
        }
    }
    let outbox = MemoryOutbox::with(intents);
    let clock = TestClock::at(T0);
    let processes = repo(vec![process]);
    let transport = smtp(&server.url());
    let mut one = dispatch_settings("instance-one");
    one.batch = 4;
    let mut two = dispatch_settings("instance-two");
    two.batch = 4;
    let a = dispatcher(
        outbox.clone(),
        processes.clone(),
        transport.clone(),
        clock.clone(),
        one,
    );
    let b = dispatcher(outbox.clone(), processes, transport, clock, two);

    let mut total = 0;
    for _ in 0..20 {
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        total += ra.sent + rb.sent;
        if ra.claimed + rb.claimed == 0 {
            break;
        }
    }
    assert_eq!(total, 30);
    assert!(outbox.rows().iter().all(|r| r.status == RowStatus::Sent));
    let got = server.wait_for(30);
    let mut ids: Vec<_> = got.iter().filter_map(|m| m.header("Message-ID")).collect();
    assert_eq!(ids.len(), 30);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every row delivered once");
}

#[tokio::test]
async fn rows_whose_lease_ran_out_are_left_for_the_next_claim() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let clock = TestClock::at(T0);
    let mut settings = dispatch_settings("a");
    settings.lease = Duration::ZERO;
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        clock,
        settings,
    );
    let report = d.run_once().await.unwrap();
    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            skipped: 1,
            ..Default::default()
        }
    );
    let row = &outbox.rows()[0];
    assert_eq!(row.status, RowStatus::Pending);
    assert_eq!(row.lease_token, None, "released for the next claim");
    assert!(server.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_delivers_in_the_background_and_returns_on_shutdown() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process.clone()]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(d.run(async move {
        let _ = stopped.await;
    }));
    let server = tokio::task::spawn_blocking(move || {
        server.wait_for(1);
        server
    })
    .await
    .unwrap();
    // A row queued while it runs is picked up by a later round.
    outbox.push(
        vec![entry_intent(
            &process,
            EventType::TaskStarted,
            "dan@example.lv",
        )],
        T0,
    );
    let got = tokio::task::spawn_blocking(move || server.wait_for(2))
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("run returns after shutdown")
        .unwrap();
    assert!(outbox.rows().iter().all(|r| r.status == RowStatus::Sent));
}

#[test]
fn retry_delay_doubles_from_first_retry_and_is_capped_at_one_hour() {
    let process = started(standard_input());
    let d = dispatcher(
        MemoryOutbox::with(vec![]),
        repo(vec![process]),
        smtp("smtp://127.0.0.1:1"),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let delays: Vec<u64> = (1..=10).map(|n| d.retry_delay(n).as_secs()).collect();
    assert_eq!(
        delays,
        vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    );
    assert_eq!(d.retry_delay(100).as_secs(), 3600);
}

fn checkpoint_mail() -> pas_domain::outbox::CheckpointMail {
    pas_domain::outbox::CheckpointMail {
        to: email("auditor@example.lv"),
        checkpoint: pas_domain::audit::CheckpointSummary {
            created_at: T0,
            chain_count: 2,
            root: "9f".repeat(32),
        },
    }
}

#[tokio::test]
async fn an_audit_checkpoint_row_is_sent_as_plain_text_with_its_root_without_the_matrix() {
    use pas_domain::ports::Outbox;
    let server = SmtpServer::start();
    let outbox = Arc::new(MemoryOutbox::default());
    let id = uuid::Uuid::now_v7();
    assert!(
        outbox
            .enqueue_checkpoint(id, &checkpoint_mail(), T0)
            .await
            .unwrap()
    );
    // The same scheduled run again (another instance): nothing more is queued.
    assert!(
        !outbox
            .enqueue_checkpoint(id, &checkpoint_mail(), T0)
            .await
            .unwrap()
    );
    // No process is read: the repository knows none.
    let d = dispatcher(
        outbox.clone(),
        repo(vec![]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    );
    let report = d.run_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");
    assert_eq!(outbox.rows()[0].status, RowStatus::Sent);
    let got = server.wait_for(1);
    assert_eq!(got[0].to, vec!["auditor@example.lv".to_owned()]);
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Audit checkpoint 2026-03-02T08:00:00Z")
    );
    assert_eq!(
        got[0].header("Message-ID"),
        Some(format!("<{id}@signing.example.lv>"))
    );
    assert!(
        got[0]
            .header("Content-Type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "{}",
        got[0].data
    );
    let body = got[0].body();
    assert!(
        body.contains(&format!("\"root\": \"{}\"", "9f".repeat(32))),
        "{body}"
    );
    assert!(body.contains("\"chainCount\": 2"), "{body}");
    assert!(body.contains("app audit verify --checkpoint"), "{body}");
}

#[tokio::test]
async fn an_audit_checkpoint_row_is_retried_then_given_up_by_age_without_a_failure_notice() {
    use pas_domain::ports::Outbox;
    let port = free_port();
    let outbox = Arc::new(MemoryOutbox::default());
    let id = uuid::Uuid::now_v7();
    outbox
        .enqueue_checkpoint(id, &checkpoint_mail(), T0)
        .await
        .unwrap();
    let clock = TestClock::at(T0);
    let mut settings = dispatch_settings("a");
    settings.give_up_after = Duration::from_secs(25);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![]),
        smtp(&format!("smtp://127.0.0.1:{port}")),
        clock.clone(),
        settings,
    );
    // A temporary failure is retried like any email.
    assert_eq!(d.run_once().await.unwrap().retried, 1);
    assert_eq!(outbox.rows()[0].status, RowStatus::Pending);
    // Past MAIL_GIVE_UP_AFTER: failed, and no FAILURE notice (it has no process to tell
    // about); it stays listed for POST /outbox/{id}/retry.
    clock.set(T0 + secs(30));
    assert_eq!(d.run_once().await.unwrap().failed, 1);
    let rows = outbox.rows();
    assert_eq!(rows.len(), 1, "no FAILURE notice about a checkpoint email");
    assert_eq!(rows[0].status, RowStatus::Failed);
}
