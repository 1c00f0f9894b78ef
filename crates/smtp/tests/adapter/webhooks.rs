//! Webhook rows in the outbox dispatcher: handed to the injected `Deliverer` under the same
//! leases, retry schedule and give-up rule as emails, and settled from what it answers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pas_domain::ids::SubscriptionId;
use pas_domain::notify::RecipientRole;
use pas_domain::ports::{Delivered, Deliverer, OutboxMessage};
use pas_domain::prelude::*;
use pas_domain::status::WebhookEventType;
use pas_domain::webhook::WebhookDelivery;
use pas_smtp::{DispatchReport, Dispatcher};
use uuid::Uuid;

use crate::support::*;

fn secs(s: i64) -> time::Duration {
    time::Duration::seconds(s)
}

/// A deliverer answering from a script (the last answer again once it is used up), and
/// recording the rows it was handed.
struct Scripted {
    script: Mutex<VecDeque<Delivered>>,
    last: Mutex<Delivered>,
    seen: Mutex<Vec<OutboxMessage>>,
}

impl Scripted {
    fn answering(script: Vec<Delivered>) -> Arc<Self> {
        let last = script.last().cloned().unwrap_or(Delivered::Sent);
        Arc::new(Self {
            script: Mutex::new(script.into()),
            last: Mutex::new(last),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn seen(&self) -> Vec<OutboxMessage> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl Deliverer for Scripted {
    async fn deliver(&self, row: &OutboxMessage) -> Delivered {
        self.seen.lock().unwrap().push(row.clone());
        let next = self.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| self.last.lock().unwrap().clone())
    }
}

fn delivery(process: &SigningProcess) -> WebhookDelivery {
    WebhookDelivery {
        subscription_id: SubscriptionId::from_uuid(Uuid::from_u128(42)),
        event_type: WebhookEventType::ProcessCompleted,
        process_id: process.id,
        body: r#"{"type":"PROCESS_COMPLETED"}"#.into(),
    }
}

/// A dispatcher whose SMTP server is a closed loopback port: any email it tried to send
/// would fail, so a webhook row settled as sent went through the deliverer only.
fn webhook_dispatcher(
    outbox: Arc<MemoryOutbox>,
    processes: Vec<SigningProcess>,
    clock: Arc<TestClock>,
    settings: pas_smtp::DispatchSettings,
    deliverer: Option<Arc<Scripted>>,
) -> Dispatcher {
    let d = dispatcher(
        outbox,
        repo(processes),
        smtp(&format!("smtp://127.0.0.1:{}", free_port())),
        clock,
        settings,
    );
    match deliverer {
        Some(deliverer) => d.with_deliverer(deliverer),
        None => d,
    }
}

#[tokio::test]
async fn a_delivered_webhook_row_is_marked_sent() {
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.push_webhook(delivery(&process), T0);
    let deliverer = Scripted::answering(vec![Delivered::Sent]);
    // No process is read for a webhook row: the repository knows none.
    let d = webhook_dispatcher(
        outbox.clone(),
        vec![],
        TestClock::at(T0),
        dispatch_settings("a"),
        Some(deliverer.clone()),
    );

    let report = d.run_once().await.unwrap();

    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            delivered: 1,
            ..Default::default()
        },
        "delivered, not counted as an email sent"
    );
    let row = outbox.row(id);
    assert_eq!(row.status, RowStatus::Sent);
    assert_eq!(row.sent_at, Some(T0));
    assert_eq!(row.lease_token, None);
    let seen = deliverer.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, id, "the row id is the webhook-id");
    assert_eq!(
        seen[0].payload,
        pas_domain::outbox::OutboxPayload::Webhook(delivery(&process))
    );
    assert_eq!(outbox.rows().len(), 1, "no notice");
    assert_eq!(d.run_once().await.unwrap(), DispatchReport::default());
}

#[tokio::test]
async fn a_webhook_row_to_retry_follows_the_email_schedule_then_fails_with_a_failure_notice() {
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.push_webhook(delivery(&process), T0);
    let deliverer = Scripted::answering(vec![Delivered::Retry("the target answered 500".into())]);
    let clock = TestClock::at(T0);
    let mut settings = dispatch_settings("a");
    // 10 s, then 20 s (+ jitter), but never past T0 + 25 s: the third attempt is at it.
    settings.give_up_after = Duration::from_secs(25);
    let d = webhook_dispatcher(
        outbox.clone(),
        vec![process.clone()],
        clock.clone(),
        settings.clone(),
        Some(deliverer.clone()),
    );

    // Attempt 1: back in 10 s (+ up to 10 % jitter).
    assert_eq!(d.run_once().await.unwrap().retried, 1);
    let row = outbox.row(id);
    assert_eq!(row.status, RowStatus::Pending);
    assert_eq!(row.message.attempts, 1);
    assert_eq!(row.last_error.as_deref(), Some("the target answered 500"));
    assert!(
        row.next_attempt_at >= T0 + secs(10) && row.next_attempt_at <= T0 + secs(11),
        "{}",
        row.next_attempt_at
    );
    // Not due yet.
    clock.set(T0 + secs(9));
    assert_eq!(d.run_once().await.unwrap().claimed, 0);
    // Attempt 2: the wait doubles, capped at the give-up instant.
    clock.set(row.next_attempt_at);
    assert_eq!(d.run_once().await.unwrap().retried, 1);
    let row = outbox.row(id);
    assert_eq!(
        row.next_attempt_at,
        T0 + secs(25),
        "the last attempt is at the deadline"
    );
    // Attempt 3, at the deadline: given up, with a FAILURE notice.
    clock.set(row.next_attempt_at);
    assert_eq!(d.run_once().await.unwrap().failed, 1);
    let row = outbox.row(id);
    assert_eq!(row.status, RowStatus::Failed);
    assert_eq!(row.message.attempts, 3);
    let error = row.last_error.unwrap_or_default();
    assert!(error.starts_with("given up after 25 s"), "{error}");
    assert!(
        error.ends_with("last error: the target answered 500"),
        "{error}"
    );
    assert_eq!(deliverer.seen().len(), 3);

    let notices: Vec<_> = outbox
        .rows()
        .into_iter()
        .filter(|r| r.message.id != id)
        .collect();
    assert_eq!(notices.len(), 1);
    let notice = notices[0].message.payload.notification().unwrap();
    assert_eq!(notice.event_type, EventType::Failure);
    assert_eq!(notice.role, RecipientRole::Administrator);
    assert_eq!(notice.to.as_str(), "admin@example.lv");
    assert_eq!(notice.process_id, process.id, "about the row's process");
    assert_eq!((notice.step_id, notice.signer_id), (None, None));

    // The notice renders without an entry and goes out as an email.
    let server = SmtpServer::start();
    let up = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        clock,
        settings,
    );
    let report = up.run_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1), "{report:?}");
    let got = server.wait_for(1);
    assert_eq!(got[0].to, vec!["admin@example.lv".to_owned()]);
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Delivery failed: Lease 17")
    );
    assert!(
        got[0].body().contains("An email or a webhook"),
        "{}",
        got[0].data
    );
}

#[tokio::test]
async fn a_webhook_row_to_give_up_fails_at_once_with_a_failure_notice() {
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.push_webhook(delivery(&process), T0);
    let reason = "the target answered 410; the target is gone, the subscription was disabled";
    let deliverer = Scripted::answering(vec![Delivered::GiveUp(reason.into())]);
    let d = webhook_dispatcher(
        outbox.clone(),
        vec![process.clone()],
        TestClock::at(T0),
        dispatch_settings("a"),
        Some(deliverer),
    );

    let report = d.run_once().await.unwrap();

    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            failed: 1,
            ..Default::default()
        }
    );
    let row = outbox.row(id);
    assert_eq!(row.status, RowStatus::Failed);
    assert_eq!(row.message.attempts, 1);
    assert_eq!(row.last_error.as_deref(), Some(reason));
    let rows = outbox.rows();
    assert_eq!(rows.len(), 2);
    let notice = outbox.intent(1);
    assert_eq!(notice.event_type, EventType::Failure);
    assert_eq!(notice.process_id, process.id);
    assert_eq!((notice.step_id, notice.signer_id), (None, None));
}

#[tokio::test]
async fn a_dropped_webhook_row_fails_without_a_notice() {
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.push_webhook(delivery(&process), T0);
    let deliverer = Scripted::answering(vec![Delivered::Dropped(
        "the subscription was deleted".into(),
    )]);
    let d = webhook_dispatcher(
        outbox.clone(),
        vec![process],
        TestClock::at(T0),
        dispatch_settings("a"),
        Some(deliverer),
    );

    assert_eq!(d.run_once().await.unwrap().failed, 1);
    let rows = outbox.rows();
    assert_eq!(rows.len(), 1, "no FAILURE notice");
    assert_eq!(outbox.row(id).status, RowStatus::Failed);
    assert_eq!(
        outbox.row(id).last_error.as_deref(),
        Some("the subscription was deleted")
    );
}

#[tokio::test]
async fn without_a_deliverer_a_webhook_row_is_retried_for_another_instance() {
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    let id = outbox.push_webhook(delivery(&process), T0);
    let clock = TestClock::at(T0);
    let lacking = webhook_dispatcher(
        outbox.clone(),
        vec![process.clone()],
        clock.clone(),
        dispatch_settings("a"),
        None,
    );

    let report = lacking.run_once().await.unwrap();

    assert_eq!(
        report,
        DispatchReport {
            claimed: 1,
            retried: 1,
            ..Default::default()
        }
    );
    let row = outbox.row(id);
    assert_eq!(row.status, RowStatus::Pending);
    assert_eq!(row.lease_token, None);
    let error = row.last_error.clone().unwrap_or_default();
    assert!(error.contains("no webhook deliverer"), "{error}");
    assert_eq!(outbox.rows().len(), 1, "no notice");

    // An instance with a deliverer takes it when it is due.
    let deliverer = Scripted::answering(vec![Delivered::Sent]);
    let able = webhook_dispatcher(
        outbox.clone(),
        vec![process],
        clock.clone(),
        dispatch_settings("b"),
        Some(deliverer.clone()),
    );
    clock.set(row.next_attempt_at);
    assert_eq!(able.run_once().await.unwrap().delivered, 1);
    assert_eq!(outbox.row(id).status, RowStatus::Sent);
    assert_eq!(deliverer.seen().len(), 1);
}

#[tokio::test]
async fn emails_and_webhook_rows_are_settled_in_one_round() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let outbox = MemoryOutbox::with(vec![entry_intent(
        &process,
        EventType::TaskStarted,
        "anna@example.lv",
    )]);
    let hook = outbox.push_webhook(delivery(&process), T0);
    let deliverer = Scripted::answering(vec![Delivered::Sent]);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    )
    .with_deliverer(deliverer.clone());

    let report = d.run_once().await.unwrap();

    assert_eq!(
        report,
        DispatchReport {
            claimed: 2,
            sent: 1,
            delivered: 1,
            ..Default::default()
        }
    );
    assert!(outbox.rows().iter().all(|r| r.status == RowStatus::Sent));
    assert_eq!(server.wait_for(1).len(), 1, "one email");
    let seen = deliverer.seen();
    assert_eq!(seen.len(), 1, "only the webhook row reached the deliverer");
    assert_eq!(seen[0].id, hook);
}

/// A deliverer whose target does not answer: it blocks until the test releases it (or, as
/// a backstop, 10 s pass) and then answers `Sent`; it says when it began and whether it has
/// returned.
#[derive(Default)]
struct Blocked {
    began: tokio::sync::Notify,
    release: tokio::sync::Notify,
    returned: AtomicBool,
}

impl Blocked {
    /// Waits until a delivery has begun.
    async fn began(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.began.notified())
            .await
            .expect("the webhook row's delivery began");
    }

    fn returned(&self) -> bool {
        self.returned.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Deliverer for Blocked {
    async fn deliver(&self, _row: &OutboxMessage) -> Delivered {
        self.began.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.release.notified()).await;
        self.returned.store(true, Ordering::SeqCst);
        Delivered::Sent
    }
}

/// Waits until row `id` is marked sent, failing with `otherwise` after 5 s.
async fn sent_within_5_s(outbox: &MemoryOutbox, id: Uuid, otherwise: &str) {
    let waited = std::time::Instant::now();
    while outbox.row(id).status != RowStatus::Sent {
        assert!(waited.elapsed() < Duration::from_secs(5), "{otherwise}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An outbox holding a webhook row and, claimed after it, a signer's TASK_STARTED email;
/// their ids.
fn hook_then_email(process: &SigningProcess) -> (Arc<MemoryOutbox>, Uuid, Uuid) {
    let outbox = Arc::new(MemoryOutbox::default());
    let hook = outbox.push_webhook(delivery(process), T0);
    let email = outbox.push(
        vec![entry_intent(
            process,
            EventType::TaskStarted,
            "anna@example.lv",
        )],
        T0,
    )[0];
    (outbox, hook, email)
}

/// The finding this guards against: a webhook target that never answers held up every email
/// of the round behind it, round after round. The rows of a round are settled concurrently:
/// the signer's email is sent and its row marked while the webhook delivery still waits.
#[tokio::test]
async fn an_email_is_sent_while_a_webhook_row_of_the_same_round_is_still_blocked() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let (outbox, hook, email) = hook_then_email(&process);
    let deliverer = Arc::new(Blocked::default());
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        dispatch_settings("a"),
    )
    .with_deliverer(deliverer.clone());

    let watch = async {
        deliverer.began().await;
        sent_within_5_s(
            &outbox,
            email,
            "the email waited for the blocked webhook delivery",
        )
        .await;
        assert!(
            !deliverer.returned(),
            "the email's row was marked sent while the webhook delivery was blocked"
        );
        assert_eq!(outbox.row(hook).status, RowStatus::Pending);
        assert_eq!(server.received().len(), 1, "the email arrived");
        deliverer.release.notify_one();
    };
    let (report, ()) = tokio::join!(d.run_once(), watch);

    assert_eq!(
        report.unwrap(),
        DispatchReport {
            claimed: 2,
            sent: 1,
            delivered: 1,
            ..Default::default()
        }
    );
    assert!(deliverer.returned());
    assert_eq!(outbox.row(hook).status, RowStatus::Sent);
    assert_eq!(outbox.row(email).status, RowStatus::Sent);
    assert!(outbox.rows().iter().all(|r| r.lease_token.is_none()));
}

/// The finding this guards against (a row sent twice): a dispatcher stalled past its lease,
/// another claim took a row whose send was still in flight, and the stalled one's next
/// renewal (which renewed nothing of that row) still moved its lease on, so the send went
/// on. Now a renewal names the rows still the claim's: the send of a row missing from it is
/// cut off as soon as the renewal answers, while the claim's other rows go on. The clock
/// stands still, so only the renewal can tell.
#[tokio::test]
async fn a_send_whose_row_another_claim_took_is_cut_off_at_the_next_renewal() {
    let server = SmtpServer::start();
    let process = started(standard_input());
    let (outbox, hook, email) = hook_then_email(&process);
    let deliverer = Arc::new(Blocked::default());
    let mut settings = dispatch_settings("a");
    settings.lease = Duration::from_millis(300);
    let d = dispatcher(
        outbox.clone(),
        repo(vec![process]),
        smtp(&server.url()),
        TestClock::at(T0),
        settings,
    )
    .with_deliverer(deliverer.clone());

    let take_over = async {
        deliverer.began().await;
        sent_within_5_s(&outbox, email, "the email was not sent").await;
        outbox.take_over(hook, T0 + secs(3600))
    };
    let round = async { tokio::time::timeout(Duration::from_secs(5), d.run_once()).await };
    let (report, taker) = tokio::join!(round, take_over);

    let report = report.expect("the taken row's send was cut off before the deliverer returned");
    assert_eq!(
        report.unwrap(),
        DispatchReport {
            claimed: 2,
            sent: 1,
            lost: 1,
            ..Default::default()
        }
    );
    assert!(!deliverer.returned(), "the send was dropped mid-flight");
    let row = outbox.row(hook);
    assert_eq!(row.status, RowStatus::Pending);
    assert_eq!(
        row.lease_token,
        Some(taker),
        "left to the claim that took it"
    );
    assert_eq!(outbox.row(email).status, RowStatus::Sent);
    assert_eq!(server.received().len(), 1, "the email arrived once");
}

/// `outbox_failed_total{channel}` counts given-up webhook rows under `webhook`;
/// `webhook_deliveries_total{result}` counts the attempts (a dropped row had none); a
/// delivered row is no email sent.
#[test]
fn given_up_webhook_rows_are_counted_under_their_channel() {
    let recorder = metrics_probe::Probe::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let process = started(standard_input());
    let outbox = Arc::new(MemoryOutbox::default());
    for _ in 0..4 {
        outbox.push_webhook(delivery(&process), T0);
    }
    let deliverer = Scripted::answering(vec![
        Delivered::Sent,
        Delivered::GiveUp("gone".into()),
        Delivered::Dropped("deleted".into()),
        Delivered::Retry("the target answered 503".into()),
    ]);
    let d = webhook_dispatcher(
        outbox,
        vec![process],
        TestClock::at(T0),
        dispatch_settings("a"),
        Some(deliverer),
    );

    let report =
        metrics::with_local_recorder(&recorder, || runtime.block_on(d.run_once())).unwrap();

    assert_eq!(
        (report.delivered, report.failed, report.retried),
        (1, 2, 1),
        "{report:?}"
    );
    assert_eq!(
        recorder.counter("outbox_failed_total", &[("channel", "webhook")]),
        2
    );
    assert_eq!(
        recorder.counter("outbox_failed_total", &[("channel", "email")]),
        0
    );
    assert_eq!(recorder.counter("emails_sent_total", &[]), 0);
    let deliveries = |result| recorder.counter("webhook_deliveries_total", &[("result", result)]);
    assert_eq!((deliveries("delivered"), deliveries("failed")), (1, 2));
}

/// A recorder keeping counters in memory, for one test's thread.
mod metrics_probe {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    /// A counter's name and its sorted labels.
    type Series = (String, Vec<(String, String)>);

    #[derive(Default)]
    pub struct Probe {
        counters: Mutex<HashMap<Series, Arc<Count>>>,
    }

    #[derive(Default)]
    struct Count(AtomicU64);

    impl CounterFn for Count {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::Relaxed);
        }

        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::Relaxed);
        }
    }

    impl Probe {
        pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
            let mut labels: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            labels.sort();
            self.counters
                .lock()
                .unwrap()
                .get(&(name.to_owned(), labels))
                .map_or(0, |c| c.0.load(Ordering::Relaxed))
        }
    }

    impl Recorder for Probe {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            let count = self
                .counters
                .lock()
                .unwrap()
                .entry((key.name().to_owned(), labels))
                .or_default()
                .clone();
            Counter::from_arc(count)
        }

        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }

        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }
}
