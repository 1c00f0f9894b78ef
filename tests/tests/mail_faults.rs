//! Email delivery under faults (PRODUCT.md section 14): real outbox dispatchers over the real
//! stores (a SQLite file; PostgreSQL when `TEST_DATABASE_URL` is set) sending to the real
//! SMTP test server on loopback, which refuses (4xx), rejects (5xx), hangs or answers slowly.
//!
//! Every email is counted by its `Message-ID` at the server: "exactly once" means every row's
//! id arrived and none twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pas_app::config::{Config, Source};
use pas_domain::audit::Caller;
use pas_domain::input::{EntryInput, ProcessInput, StepInput};
use pas_domain::outbox::{OutboxEntry, OutboxFilter};
use pas_domain::paging::{OutboxSort, PageRequest};
use pas_domain::ports::UuidV7Ids;
use pas_domain::ports::{Outbox, SystemClock};
use pas_domain::service::ProcessService;
use pas_domain::status::{EventType, OutboxState, ProcessStatus, SignerRole};
use pas_domain::values::Email;
use pas_e2e::Backend;
use pas_persistence::Db;
use pas_persistence::testing::ScratchDatabase;
use pas_smtp::{DispatchSettings, Dispatcher, MailSettings, Matrix, Renderer, Transport};
use support::{Behaviour, Mail, SmtpServer};

const ADMIN: &str = "admin@example.lv";

/// A scratch database with the schema, and the use cases that queue emails in it.
struct Rig {
    db: Db,
    processes: ProcessService,
    _scratch: ScratchDatabase,
}

impl Rig {
    /// `None` for PostgreSQL without `TEST_DATABASE_URL`.
    async fn new(backend: Backend, test: &str) -> Option<Self> {
        let scratch = pas_e2e::scratch_database(backend, test).await?;
        let key = pas_domain::audit::AuditKey::new(vec![7; 32]).expect("a 32-byte key");
        let db = Db::connect(scratch.url(), 8)
            .await
            .expect("connect")
            .with_audit_keys(pas_domain::audit::AuditKeys::new(key, vec![]));
        db.migrate().await.expect("migrate");
        let store = Arc::new(db.clone());
        let pii = pas_domain::pseudonym::PiiKey::new(vec![9; 32]).expect("a 32-byte key");
        let processes = ProcessService::new(store, Arc::new(SystemClock), Arc::new(UuidV7Ids), pii);
        Some(Self {
            db,
            processes,
            _scratch: scratch,
        })
    }

    /// Creates a STARTED process with `signers` signers in its one step: one
    /// PROCESS_STARTED and `signers` TASK_STARTED emails queued. Answers how many.
    async fn queue(&self, name: &str, signers: usize) -> usize {
        let entries = (0..signers)
            .map(|i| EntryInput {
                signer_role: Some(SignerRole::Signer),
                signer_name: Some(format!("Signer {i}")),
                signer_email: Some(format!("{name}-{i}@example.lv")),
                ..EntryInput::default()
            })
            .collect();
        let input = ProcessInput {
            document_id: Some(format!("doc-{name}")),
            document_name: Some(name.to_owned()),
            process_initiator_email: Some("office@example.lv".into()),
            status: Some(ProcessStatus::Started),
            signing_process_steps: vec![StepInput {
                process_order: Some(1),
                process_step_signers: entries,
                ..StepInput::default()
            }],
            ..ProcessInput::default()
        };
        self.processes
            .create(input, &Caller::system("mail-faults"))
            .await
            .expect("the process is created");
        signers + 1
    }

    /// Every outbox row in `state` (or all).
    async fn rows(&self, state: Option<OutboxState>) -> Vec<OutboxEntry> {
        let filter = OutboxFilter {
            state,
            channel: None,
        };
        let page = PageRequest::<OutboxSort>::parse(None, Some(200), &[]).unwrap();
        self.db.list(&filter, &page).await.unwrap().content
    }

    /// A dispatcher named `owner` sending to `smtp` (each SMTP delivery cut off after
    /// `send_deadline`).
    fn dispatcher(&self, owner: &str, smtp: &SmtpServer, settings: Settings) -> Dispatcher {
        let config = Config::load(&Source::from_pairs([])).unwrap();
        let mail = MailSettings {
            from: "Signing Service <noreply@faults.example.test>"
                .parse()
                .unwrap(),
            reply_to_initiator: false,
            portal_url: "https://portal.example.test".into(),
            timezone: config.timezone.clone(),
            default_language: config.mail_default_language.clone(),
        };
        let renderer = Arc::new(Renderer::new(Matrix::builtin().unwrap(), mail));
        let transport = Transport::smtp(&smtp.url())
            .unwrap()
            .with_send_deadline(settings.send_deadline);
        let store = Arc::new(self.db.clone());
        Dispatcher::new(
            store.clone(),
            store,
            renderer,
            Arc::new(transport),
            Arc::new(SystemClock),
            DispatchSettings {
                owner: owner.into(),
                batch: settings.batch,
                // One row after another: the tests kill or stop a dispatcher mid-batch.
                concurrency: 1,
                lease: settings.lease,
                first_retry: settings.first_retry,
                give_up_after: settings.give_up_after,
                poll_interval: Duration::from_millis(20),
                admin_email: Some(Email::parse(ADMIN).unwrap()),
            },
        )
    }
}

#[derive(Clone, Copy)]
struct Settings {
    batch: u32,
    lease: Duration,
    first_retry: Duration,
    give_up_after: Duration,
    send_deadline: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch: 20,
            lease: Duration::from_secs(30),
            first_retry: Duration::from_millis(100),
            give_up_after: Duration::from_secs(600),
            send_deadline: Duration::from_secs(10),
        }
    }
}

/// A dispatcher running in the background until [`Running::stop`] (graceful: the send in
/// progress finishes) or [`Running::kill`] (the task is aborted mid-whatever, as a crash).
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(dispatcher: Dispatcher) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(dispatcher.run(async move {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the dispatcher stops")
            .unwrap();
    }

    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Arrivals per `Message-ID`.
fn by_message_id(inbox: &[Mail]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in inbox {
        *counts.entry(mail.message_id()).or_default() += 1;
    }
    counts
}

/// Asserts every row arrived exactly once (and nothing else did).
fn exactly_once(inbox: &[Mail], rows: &[OutboxEntry]) {
    let counts = by_message_id(inbox);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let mut arrived: Vec<String> = inbox.iter().map(Mail::row_id).collect();
    arrived.sort();
    let mut expected: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    expected.sort();
    assert_eq!(arrived, expected);
}

/// Polls until `done` holds, failing after `limit` with `what`.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> F,
) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Polls the inbox until it holds `n` emails.
async fn arrived(smtp: &SmtpServer, n: usize, limit: Duration) {
    eventually(&format!("{n} emails"), limit, || async {
        smtp.inbox().len() >= n
    })
    .await;
}

/// Polls until `n` rows are SENT.
async fn all_sent(rig: &Rig, n: usize, limit: Duration) {
    eventually(&format!("{n} sent rows"), limit, || async {
        rig.rows(Some(OutboxState::Sent)).await.len() >= n
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 4xx refusals, then recovery

pas_e2e::each_backend!(
    refusals_retry_until_the_server_takes_them_then_each_email_arrives_once,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        smtp.behave(Behaviour::Refuse);
        let n = rig.queue("refused", 3).await;
        let d = Running::start(rig.dispatcher("one", &smtp, Settings::default()));
        // Several refusals of every row (451 at RCPT: temporary).
        eventually("refusals", Duration::from_secs(20), || async {
            smtp.refused() >= 2 * n
        })
        .await;
        let pending = rig.rows(Some(OutboxState::Pending)).await;
        assert_eq!(pending.len(), n, "nothing given up on a temporary refusal");
        assert!(
            pending
                .iter()
                .all(|r| r.attempts >= 1 && r.last_error.is_some())
        );
        assert!(smtp.inbox().is_empty());

        smtp.behave(Behaviour::Accept);
        all_sent(&rig, n, Duration::from_secs(20)).await;
        d.stop().await;
        exactly_once(&smtp.inbox(), &rig.rows(None).await);
        assert!(rig.rows(Some(OutboxState::Failed)).await.is_empty());
    }
);

// ---------------------------------------------------------------------------------------
// 5xx: given up at once (docs/DECISIONS.md), FAILURE row delivered

pas_e2e::each_backend!(
    a_permanent_rejection_fails_the_row_at_once_and_its_failure_row_is_delivered,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        let n = rig.queue("bounce", 1).await;
        assert_eq!(n, 2);
        // The signer's address contains "bounce": 550 at RCPT for it only.
        let d = Running::start(rig.dispatcher("one", &smtp, Settings::default()));
        arrived(&smtp, 2, Duration::from_secs(20)).await;
        all_sent(&rig, 2, Duration::from_secs(20)).await;
        d.stop().await;

        let failed = rig.rows(Some(OutboxState::Failed)).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 1, "a 5xx is not retried");
        assert!(failed[0].last_error.as_deref().unwrap().contains("550"));
        let sent = rig.rows(Some(OutboxState::Sent)).await;
        let notice = sent
            .iter()
            .find(|r| r.event_type == Some(EventType::Failure))
            .expect("the FAILURE row");
        assert_eq!(notice.to.as_ref().map(|to| to.as_str()), Some(ADMIN));
        let inbox = smtp.inbox();
        let to_admin: Vec<_> = inbox.iter().filter(|m| m.rcpt() == ADMIN).collect();
        assert_eq!(to_admin.len(), 1);
        assert_eq!(to_admin[0].row_id(), notice.id.to_string());
        exactly_once(&inbox, &sent);
    }
);

// ---------------------------------------------------------------------------------------
// A hanging server: given up by age, not before

pas_e2e::each_backend!(
    a_hanging_server_is_given_up_only_after_give_up_after_and_the_failure_row_arrives_later,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        smtp.behave(Behaviour::Hang);
        let give_up_after = Duration::from_secs(3);
        let settings = Settings {
            give_up_after,
            send_deadline: Duration::from_millis(300),
            first_retry: Duration::from_millis(200),
            ..Settings::default()
        };
        let queued = Instant::now();
        let n = rig.queue("hang", 1).await;
        let d = Running::start(rig.dispatcher("one", &smtp, settings));

        // Before MAIL_GIVE_UP_AFTER: retried, never failed.
        let mut checked = 0;
        while queued.elapsed() < give_up_after - Duration::from_millis(400) {
            assert!(
                rig.rows(Some(OutboxState::Failed)).await.is_empty(),
                "given up after {:?}",
                queued.elapsed()
            );
            checked += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(checked > 5);
        let pending = rig.rows(Some(OutboxState::Pending)).await;
        assert_eq!(pending.len(), n);
        assert!(
            pending.iter().all(|r| r.attempts >= 2),
            "retried while hanging: {pending:?}"
        );

        // After it: failed, each with a FAILURE row.
        eventually("given-up rows", Duration::from_secs(10), || async {
            rig.rows(Some(OutboxState::Failed)).await.len() == n
        })
        .await;
        assert!(queued.elapsed() >= give_up_after);
        let failed = rig.rows(Some(OutboxState::Failed)).await;
        assert!(failed.iter().all(|r| {
            r.last_error
                .as_deref()
                .unwrap()
                .starts_with("given up after 3 s")
        }));
        let notices = rig.rows(Some(OutboxState::Pending)).await;
        assert_eq!(notices.len(), n, "one FAILURE row per given-up row");
        assert!(
            notices
                .iter()
                .all(|r| r.event_type == Some(EventType::Failure))
        );
        assert!(smtp.inbox().is_empty());

        // The server comes back: the FAILURE rows are delivered, once each.
        smtp.behave(Behaviour::Accept);
        arrived(&smtp, n, Duration::from_secs(10)).await;
        all_sent(&rig, n, Duration::from_secs(10)).await;
        d.stop().await;
        let inbox = smtp.inbox();
        assert!(inbox.iter().all(|m| m.rcpt() == ADMIN));
        exactly_once(&inbox, &rig.rows(Some(OutboxState::Sent)).await);
    }
);

// ---------------------------------------------------------------------------------------
// Sends slower than the lease, two dispatchers on one database

pas_e2e::each_backend!(
    sends_slower_than_the_lease_are_never_repeated_by_a_second_dispatcher,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        // Each send takes 4 leases; renewals (every third of a lease) keep the row.
        smtp.behave(Behaviour::Slow(Duration::from_millis(1200)));
        let settings = Settings {
            batch: 2,
            lease: Duration::from_millis(300),
            ..Settings::default()
        };
        let n = rig.queue("slow", 5).await;
        let a = Running::start(rig.dispatcher("instance-a", &smtp, settings));
        let b = Running::start(rig.dispatcher("instance-b", &smtp, settings));
        all_sent(&rig, n, Duration::from_secs(30)).await;
        a.stop().await;
        b.stop().await;
        let inbox = smtp.inbox();
        exactly_once(&inbox, &rig.rows(None).await);
        assert!(smtp.rejected().is_empty());
    }
);

// ---------------------------------------------------------------------------------------
// A dispatcher that dies mid-batch; a graceful stop releases what it did not start

pas_e2e::each_backend!(
    rows_of_a_dispatcher_killed_mid_batch_are_sent_by_another_within_the_lease,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        smtp.behave(Behaviour::Slow(Duration::from_millis(400)));
        let lease = Duration::from_secs(2);
        let settings = Settings {
            lease,
            ..Settings::default()
        };
        let n = rig.queue("killed", 5).await;
        let a = Running::start(rig.dispatcher("doomed", &smtp, settings));
        arrived(&smtp, 1, Duration::from_secs(10)).await;
        // A settles its first row, then is 400 ms into the next send (before DATA: the
        // server has not taken it) when it dies.
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.kill().await;
        let killed = Instant::now();
        let held = rig.rows(Some(OutboxState::Pending)).await.len();
        assert!(held >= 1, "the batch was not finished");

        let b = Running::start(rig.dispatcher("survivor", &smtp, settings));
        all_sent(&rig, n, lease + Duration::from_secs(15)).await;
        let took = killed.elapsed();
        b.stop().await;
        eprintln!("{test}: {held} rows left by the killed dispatcher, all sent {took:?} after");
        // The lease (not renewed after the kill) plus the sends themselves.
        assert!(took < lease + Duration::from_millis(400) * 6 + Duration::from_secs(5));
        exactly_once(&smtp.inbox(), &rig.rows(None).await);
    }
);

pas_e2e::each_backend!(
    a_stopping_dispatcher_finishes_its_send_and_releases_the_rows_it_did_not_start,
    |backend, test| async move {
        let Some(rig) = Rig::new(backend, test).await else {
            return;
        };
        let smtp = SmtpServer::start();
        smtp.behave(Behaviour::Slow(Duration::from_millis(300)));
        // A long lease: released rows must not wait for it.
        let settings = Settings {
            lease: Duration::from_secs(30),
            ..Settings::default()
        };
        let n = rig.queue("stop", 4).await;
        let a = Running::start(rig.dispatcher("stopping", &smtp, settings));
        arrived(&smtp, 1, Duration::from_secs(10)).await;
        a.stop().await;
        let sent = rig.rows(Some(OutboxState::Sent)).await.len();
        assert!((1..n).contains(&sent), "{sent} of {n} sent before the stop");
        // Another instance takes the rest at once, not after the 30 s lease.
        let b = rig.dispatcher("next", &smtp, settings);
        let report = b.run_once().await.unwrap();
        assert_eq!(report.claimed, n - sent);
        assert_eq!(report.sent, n - sent);
        exactly_once(&smtp.inbox(), &rig.rows(None).await);
    }
);
