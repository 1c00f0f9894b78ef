//! The outbox dispatcher: claims due rows under a short, renewed lease with a fencing token,
//! delivers each (an email: render and send; a webhook row: hand it to the injected
//! [`Deliverer`]), and settles it (sent, retry later with backoff, or, once
//! `MAIL_GIVE_UP_AFTER` has passed since it was queued, failed with a FAILURE row to
//! `ADMIN_EMAIL` written in the same transaction).
//!
//! The emails of a round go one after another, in claim order; its webhook rows go beside
//! them, at most [`DispatchSettings::concurrency`] at a time, so a slow webhook target holds
//! up only the webhook rows in flight with it, never an email.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::outbox::{OutboxPayload, next_attempt};
use pas_domain::ports::{
    Clock, Delivered, Deliverer, Outbox, OutboxLease, OutboxMessage, ProcessRepository, RepoError,
};
use pas_domain::status::{EventType, OutboxChannel, OutboxKind};
use pas_domain::values::Email;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::render::{Rendered, Renderer};
use crate::transport::Transport;

/// The longest wait between two attempts (before jitter).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// How the dispatcher works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchSettings {
    /// Lease owner name, unique per running instance ([`DispatchSettings::default_owner`]).
    pub owner: String,
    /// Rows claimed per round.
    pub batch: u32,
    /// Webhook rows of a round worked on at the same time (at most; 0 counts as 1), beside
    /// the round's emails, which go one after another in claim order. Each row is still
    /// confirmed (`Outbox::hold`) right before its own send and cut off on its own when the
    /// lease runs out; a row starts only when a place is free, so rows not started when the
    /// dispatcher begins to stop are released as before. A webhook target that never
    /// answers (up to `WEBHOOK_TIMEOUT_MS` for the lookup and as much for the send) holds
    /// up one place, and no email.
    pub concurrency: usize,
    /// How long a claim holds its rows without renewal (`MAIL_LEASE_SECONDS`, at most 30 s).
    /// The dispatcher renews it every third of it while it works through the rows, so a
    /// send may take longer; rows of an instance that died are free again this long after
    /// its last renewal.
    pub lease: Duration,
    /// Wait before the second attempt; each further attempt waits twice as long (at most
    /// one hour), plus up to 10 % jitter.
    pub first_retry: Duration,
    /// `MAIL_GIVE_UP_AFTER`: a row that still fails this long after it was queued is given
    /// up (marked failed, FAILURE queued to `admin_email`). There is no attempt limit.
    pub give_up_after: Duration,
    /// Pause between rounds in [`Dispatcher::run`].
    pub poll_interval: Duration,
    /// `ADMIN_EMAIL`: receives FAILURE notices; `None` only logs.
    pub admin_email: Option<Email>,
}

/// The longest lease (PRODUCT.md section 14).
pub const MAX_LEASE: Duration = Duration::from_secs(30);

impl Default for DispatchSettings {
    /// Owner from [`DispatchSettings::default_owner`], batch 20, 8 rows at a time, lease
    /// 30 s, first retry 10 s, give up after 72 h, poll every 5 s, no admin email.
    fn default() -> Self {
        Self {
            owner: Self::default_owner(),
            batch: 20,
            concurrency: Self::DEFAULT_CONCURRENCY,
            lease: MAX_LEASE,
            first_retry: Duration::from_secs(10),
            give_up_after: Duration::from_secs(72 * 3600),
            poll_interval: Duration::from_secs(5),
            admin_email: None,
        }
    }
}

impl DispatchSettings {
    /// The default of [`DispatchSettings::concurrency`]: webhook rows of a round worked on
    /// at once.
    pub const DEFAULT_CONCURRENCY: usize = 8;

    /// `hostname-pid-uuid`: unique per process, readable in the outbox table.
    pub fn default_owner() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        format!("{host}-{}-{}", std::process::id(), uuid::Uuid::now_v7())
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Rows claimed.
    pub claimed: usize,
    /// Emails delivered (rows marked sent).
    pub sent: usize,
    /// Webhook rows delivered by the [`Deliverer`] (rows marked sent).
    pub delivered: usize,
    /// Rows the matrix sends nothing for (marked sent, nothing delivered).
    pub suppressed: usize,
    /// Rows put back for a later attempt.
    pub retried: usize,
    /// Rows given up (marked failed), dropped webhook rows included.
    pub failed: usize,
    /// Rows left alone and released: the dispatcher is stopping, or its lease could not be
    /// renewed in time. Another round (of any instance) claims them.
    pub skipped: usize,
    /// Rows whose lease was lost before or during their send (another claim holds them, or
    /// renewing failed until the lease ran out; a send cut off for that is not settled).
    pub lost: usize,
}

impl DispatchReport {
    /// This report with one more row that ended as `settled`.
    fn with(mut self, settled: Settled) -> Self {
        let count = match settled {
            Settled::Sent => &mut self.sent,
            Settled::Delivered => &mut self.delivered,
            Settled::Suppressed => &mut self.suppressed,
            Settled::Retried => &mut self.retried,
            Settled::Failed => &mut self.failed,
            Settled::Skipped => &mut self.skipped,
            Settled::Lost => &mut self.lost,
        };
        *count += 1;
        self
    }
}

/// How one claimed row of a round ended: what it counts as in the [`DispatchReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Sent,
    Delivered,
    Suppressed,
    Retried,
    Failed,
    Skipped,
    Lost,
}

/// Why a round could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// Claiming rows from the outbox failed.
    #[error("cannot claim outbox rows: {0}")]
    Claim(RepoError),
}

/// How an attempt ended.
enum Outcome {
    Sent,
    Suppressed,
    /// A webhook row the deliverer delivered.
    Delivered,
    /// A webhook row with nowhere to go any more: failed without a FAILURE notice.
    Dropped(String),
    /// Worth another attempt.
    Transient(String),
    /// Will fail again: give up now.
    Permanent(String),
    /// The process is gone: give up without a FAILURE notice (it could not be rendered
    /// either).
    NoProcess,
    /// The lease could not be renewed before it ran out, or a renewal no longer named the
    /// row (another claim holds it, or it was settled elsewhere): the send was cut off and
    /// the row is left as it is, to whoever holds it or claims it next.
    LeaseLost,
}

/// Sends the outbox: emails itself, webhook rows through the [`Deliverer`] given with
/// [`Dispatcher::with_deliverer`], both under the same leases, retry schedule and give-up
/// rule. Safe to run in every instance at once: each claim leases its rows under a fresh
/// fencing token, renewed while the round works, and every settle checks it.
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    processes: Arc<dyn ProcessRepository>,
    renderer: Arc<Renderer>,
    transport: Arc<Transport>,
    clock: Arc<dyn Clock>,
    settings: DispatchSettings,
    deliverer: Option<Arc<dyn Deliverer>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("transport", &self.transport)
            .field("settings", &self.settings)
            .field("deliverer", &self.deliverer.is_some())
            .finish_non_exhaustive()
    }
}

/// The claim a round works under: its token, until when its leases are known to be live
/// (moved on by each renewal) and which of its rows the last renewal still found leased to
/// it (a row missing there ran out of lease, was taken by another claim after a stall, or
/// was settled elsewhere: its send must stop).
struct Claim {
    lease: OutboxLease,
    held: Mutex<Held>,
    /// Woken by each renewal, so that a send whose row it no longer names stops then, not
    /// at the next tick of `lease_runs_out`.
    renewal: Notify,
}

struct Held {
    until: OffsetDateTime,
    /// The rows the last renewal renewed; `None` until the first renewal, when every row is
    /// still the claim's. A row once missing never comes back: a renewal extends only live
    /// leases of the claim's token, and neither comes back to a row that lost it.
    rows: Option<HashSet<Uuid>>,
}

impl Claim {
    fn new(lease: OutboxLease, until: OffsetDateTime) -> Self {
        Self {
            lease,
            held: Mutex::new(Held { until, rows: None }),
            renewal: Notify::new(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn held_until(&self) -> OffsetDateTime {
        self.held().until
    }

    /// Whether the claim still holds row `id` as of the last renewal.
    fn holds(&self, id: Uuid) -> bool {
        self.held()
            .rows
            .as_ref()
            .is_none_or(|rows| rows.contains(&id))
    }

    /// A renewal until `until` renewed exactly `rows`.
    fn renewed(&self, until: OffsetDateTime, rows: Vec<Uuid>) {
        {
            let mut held = self.held();
            held.until = held.until.max(until);
            held.rows = Some(rows.into_iter().collect());
        }
        self.renewal.notify_waiters();
    }
}

impl Dispatcher {
    /// A dispatcher over `outbox`, reading processes (deleted ones too) from `processes`.
    /// It sends emails only: webhook rows wait for [`Dispatcher::with_deliverer`].
    pub fn new(
        outbox: Arc<dyn Outbox>,
        processes: Arc<dyn ProcessRepository>,
        renderer: Arc<Renderer>,
        transport: Arc<Transport>,
        clock: Arc<dyn Clock>,
        settings: DispatchSettings,
    ) -> Self {
        Self {
            outbox,
            processes,
            renderer,
            transport,
            clock,
            settings,
            deliverer: None,
        }
    }

    /// The same dispatcher, handing the outbox's webhook rows to `deliverer` (the domain's
    /// `WebhookService`) inside the same lease machinery as emails, and settling each from
    /// the [`Delivered`] it answers: `Sent` marks it sent; `Retry` puts it back on the
    /// email retry schedule (given up with a FAILURE notice to `ADMIN_EMAIL` once
    /// `give_up_after` has passed since it was queued); `GiveUp` fails it now with a
    /// FAILURE notice; `Dropped` fails it without one. Without a deliverer a webhook row is
    /// retried like a temporary failure (another instance may have one).
    #[must_use]
    pub fn with_deliverer(mut self, deliverer: Arc<dyn Deliverer>) -> Self {
        self.deliverer = Some(deliverer);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &DispatchSettings {
        &self.settings
    }

    /// One round: claims up to `batch` due rows and settles each. Errors settling a single
    /// row are logged (the row's lease then expires and it is tried again); only a failed
    /// claim is an error.
    pub async fn run_once(&self) -> Result<DispatchReport, DispatchError> {
        self.round(None).await
    }

    /// Rounds every `poll_interval` until `shutdown` completes. The sends in progress (up
    /// to [`DispatchSettings::concurrency`]) finish, and their rows are settled, before this
    /// returns; rows of the round not yet started are released at once, for another
    /// instance to take.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let watcher = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let worker = async {
            let mut rx = stop_rx.clone();
            tracing::info!(
                owner = %self.settings.owner,
                transport = %self.transport.describe(),
                webhooks = self.deliverer.is_some(),
                lease_s = self.settings.lease.as_secs_f64(),
                give_up_after_s = self.settings.give_up_after.as_secs(),
                "outbox dispatcher started"
            );
            loop {
                if *rx.borrow() {
                    break;
                }
                match self.round(Some(&stop_rx)).await {
                    Ok(report) if report.claimed > 0 => {
                        tracing::debug!(?report, "outbox round");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox round failed"),
                }
                tokio::select! {
                    _ = rx.wait_for(|stop| *stop) => break,
                    () = tokio::time::sleep(self.settings.poll_interval) => {}
                }
            }
            tracing::info!(owner = %self.settings.owner, "outbox dispatcher stopped");
        };
        tokio::pin!(worker);
        tokio::pin!(watcher);
        let mut watching = true;
        loop {
            tokio::select! {
                () = &mut worker => return,
                () = &mut watcher, if watching => watching = false,
            }
        }
    }

    /// The wait before the next attempt after `attempt` attempts failed, without jitter:
    /// `first_retry × 2^(attempt-1)`, at most one hour.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        self.settings
            .first_retry
            .saturating_mul(1u32 << exponent)
            .min(MAX_RETRY_DELAY)
    }

    async fn round(
        &self,
        stop: Option<&watch::Receiver<bool>>,
    ) -> Result<DispatchReport, DispatchError> {
        let now = self.clock.now();
        let lease_until = after(now, self.settings.lease);
        let lease = OutboxLease {
            owner: self.settings.owner.clone(),
            token: Uuid::now_v7(),
        };
        let claim = Claim::new(lease, lease_until);
        let rows = self
            .outbox
            .claim(claim.lease.clone(), self.settings.batch, now, lease_until)
            .await
            .map_err(DispatchError::Claim)?;
        let report = DispatchReport {
            claimed: rows.len(),
            ..DispatchReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        // Emails go one after another in claim order (a recipient gets "please sign" before
        // "signing completed"); webhook rows go beside them, each started (checked, held,
        // attempted, settled) only when one of the `concurrency` places is free, so a slow
        // target holds up no email. The rows' results are folded into the report. (Loops,
        // not closures: a closure's future held across the await trips the compiler's
        // `Send` check of `run`.)
        let (emails, webhooks): (Vec<&OutboxMessage>, Vec<&OutboxMessage>) = rows
            .iter()
            .partition(|row| row.payload.channel() == OutboxChannel::Email);
        let email_lane = async {
            let mut settled = Vec::with_capacity(emails.len());
            for row in emails {
                settled.push(self.dispatch_row(row, &claim, stop).await);
            }
            settled
        };
        let mut tasks = Vec::with_capacity(webhooks.len());
        for row in webhooks {
            tasks.push(self.dispatch_row(row, &claim, stop));
        }
        let webhook_lane = bounded(tasks, self.settings.concurrency);
        let work = async { tokio::join!(email_lane, webhook_lane) };
        let (emails, webhooks) = tokio::select! {
            settled = work => settled,
            never = self.keep_renewed(&claim) => match never {},
        };
        let report = emails
            .into_iter()
            .chain(webhooks)
            .fold(report, DispatchReport::with);
        if report.skipped + report.lost > 0 {
            match self.outbox.release(claim.lease.token).await {
                Ok(n) if n > 0 => tracing::debug!(released = n, "outbox rows released"),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot release outbox rows; their lease will expire");
                }
            }
        }
        Ok(report)
    }

    /// One claimed row: skipped once the dispatcher is stopping or the claim's lease is no
    /// longer known to be live; else confirmed (`hold`) right before its send, attempted
    /// (cut off when the lease runs out unrenewed) and settled.
    async fn dispatch_row(
        &self,
        row: &OutboxMessage,
        claim: &Claim,
        stop: Option<&watch::Receiver<bool>>,
    ) -> Settled {
        let stopping = stop.is_some_and(|rx| *rx.borrow());
        if stopping || self.clock.now() >= claim.held_until() {
            return Settled::Skipped;
        }
        let now = self.clock.now();
        match self
            .outbox
            .hold(
                row.id,
                claim.lease.token,
                now,
                after(now, self.settings.lease),
            )
            .await
        {
            Ok(()) => {}
            Err(RepoError::NotFound(_)) => {
                tracing::warn!(outbox_id = %row.id, "outbox row no longer leased to this claim before its send; row left as it is");
                return Settled::Lost;
            }
            Err(e) => {
                tracing::warn!(outbox_id = %row.id, error = %e, "cannot confirm the outbox lease; row left for later");
                return Settled::Skipped;
            }
        }
        let outcome = tokio::select! {
            outcome = self.attempt(row) => outcome,
            () = self.lease_runs_out(claim, row.id) => Outcome::LeaseLost,
        };
        self.settle(row, claim.lease.token, outcome).await
    }

    /// Renews the claim's leases every third of the lease, for as long as the round works
    /// (it never ends by itself: the round drops it). Each renewal says which rows are still
    /// the claim's: after a stall past the lease, another claim may have taken some, and a
    /// renewal that moves the lease on must not let their sends go on.
    async fn keep_renewed(&self, claim: &Claim) -> Infallible {
        let every = (self.settings.lease / 3).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let now = self.clock.now();
            let until = after(now, self.settings.lease);
            match self.outbox.renew(claim.lease.token, now, until).await {
                Ok(rows) => claim.renewed(until, rows),
                Err(e) => tracing::warn!(error = %e, "cannot renew the outbox lease"),
            }
        }
    }

    /// Completes shortly before the claim's lease runs out unrenewed (a tenth of the lease
    /// early), or once a renewal no longer found row `id` leased to the claim: a send still
    /// running then is cut off, since another instance may take the row as soon as the
    /// lease has expired, or has taken it already.
    async fn lease_runs_out(&self, claim: &Claim, id: Uuid) {
        let margin = self.settings.lease / 10;
        let tick = margin.clamp(Duration::from_millis(5), Duration::from_millis(250));
        loop {
            // Made before the check, so that a renewal between the check and the wait wakes it.
            let renewal = claim.renewal.notified();
            if after(self.clock.now(), margin) >= claim.held_until() || !claim.holds(id) {
                return;
            }
            tokio::select! {
                () = renewal => {}
                () = tokio::time::sleep(tick) => {}
            }
        }
    }

    async fn attempt(&self, row: &OutboxMessage) -> Outcome {
        let rendered = match &row.payload {
            OutboxPayload::Webhook(_) => return self.deliver(row).await,
            OutboxPayload::Notification(intent) => match self.render_notification(intent).await {
                Ok(rendered) => rendered,
                Err(outcome) => return outcome,
            },
            OutboxPayload::AuditCheckpoint(mail) => match self.renderer.checkpoint(mail) {
                Ok(rendered) => rendered,
                Err(e) => return Outcome::Permanent(e.to_string()),
            },
        };
        let message_id = row.message_id(self.renderer.message_id_host());
        let message = match self.renderer.message(&rendered, &message_id) {
            Ok(message) => message,
            Err(e) => return Outcome::Permanent(e.to_string()),
        };
        match self.transport.send(message).await {
            Ok(()) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Permanent(e.to_string()),
            Err(e) => Outcome::Transient(e.to_string()),
        }
    }

    /// A webhook row, through the deliverer.
    async fn deliver(&self, row: &OutboxMessage) -> Outcome {
        let Some(deliverer) = &self.deliverer else {
            return Outcome::Transient(
                "no webhook deliverer is configured in this dispatcher; left for one that has it"
                    .into(),
            );
        };
        // Counted when the attempt ends, like an email the transport took: a row whose
        // delivery succeeded is delivered even if marking it fails.
        let count = |result: &'static str| {
            metrics::counter!(WEBHOOK_DELIVERIES, "result" => result).increment(1);
        };
        match deliverer.deliver(row).await {
            Delivered::Sent => {
                count("delivered");
                Outcome::Delivered
            }
            Delivered::Retry(error) => {
                count("failed");
                Outcome::Transient(error)
            }
            Delivered::GiveUp(error) => {
                count("failed");
                Outcome::Permanent(error)
            }
            // Nothing was attempted: there is no subscription to deliver to any more.
            Delivered::Dropped(error) => Outcome::Dropped(error),
        }
    }

    /// A notification rendered from the matrix with its process, or how the attempt ends
    /// without a send (the process is gone, the matrix sends nothing, a template fails).
    async fn render_notification(&self, intent: &NotificationIntent) -> Result<Rendered, Outcome> {
        let process = match self
            .processes
            .get_including_deleted(intent.process_id)
            .await
        {
            Ok(Some(process)) => process,
            Ok(None) => return Err(Outcome::NoProcess),
            Err(e) => {
                return Err(Outcome::Transient(format!(
                    "loading the process failed: {e}"
                )));
            }
        };
        match self.renderer.render(intent, &process) {
            Ok(Some(rendered)) => Ok(rendered),
            Ok(None) => Err(Outcome::Suppressed),
            Err(e) => Err(Outcome::Permanent(e.to_string())),
        }
    }

    /// Settles the row from `outcome`; answers what it counts as (whether or not the
    /// outbox took the update: a row whose update failed is left to its lease).
    async fn settle(&self, row: &OutboxMessage, token: Uuid, outcome: Outcome) -> Settled {
        let (id, what) = (row.id, Label(&row.payload));
        let noun = noun(&row.payload);
        let attempt = row.attempts.saturating_add(1);
        let now = self.clock.now();
        let (settled, result) = match outcome {
            Outcome::Sent | Outcome::Suppressed => {
                let sent = matches!(outcome, Outcome::Sent);
                if sent {
                    // Counted when the transport took it: the email is out even if marking
                    // the row fails (it is then sent again, and counted again).
                    metrics::counter!(EMAILS_SENT).increment(1);
                    tracing::info!(outbox_id = %id, %what, attempt, "email sent");
                    if let Some(to) = row.payload.to() {
                        tracing::debug!(outbox_id = %id, %to, "email recipient");
                    }
                } else {
                    tracing::debug!(outbox_id = %id, %what, "no email configured; row closed");
                }
                let settled = if sent {
                    Settled::Sent
                } else {
                    Settled::Suppressed
                };
                (settled, self.outbox.mark_sent(id, token, now).await)
            }
            Outcome::Delivered => {
                tracing::info!(outbox_id = %id, %what, attempt, "webhook delivered");
                (
                    Settled::Delivered,
                    self.outbox.mark_sent(id, token, now).await,
                )
            }
            Outcome::Dropped(error) => {
                tracing::info!(
                    outbox_id = %id, %what, attempt, error = %for_log(&error),
                    "webhook dropped: nowhere to deliver it; no FAILURE notice"
                );
                let result = self
                    .outbox
                    .mark_failed(id, token, error, None, now)
                    .await
                    .inspect(|()| count_failed(&row.payload));
                (Settled::Failed, result)
            }
            Outcome::LeaseLost => {
                tracing::warn!(
                    outbox_id = %id, %what, attempt,
                    "outbox row no longer leased to this claim; send cut off, row left as it is"
                );
                return Settled::Lost;
            }
            Outcome::Transient(error) => {
                let delay = self.retry_delay(attempt);
                let delay = delay + jitter(delay, row, attempt);
                match next_attempt(row.queued_at, now, self.settings.give_up_after, delay) {
                    Some(next) => {
                        tracing::warn!(
                            outbox_id = %id, %what, attempt,
                            retry_in_s = (next - now).whole_seconds(),
                            error = %for_log(&error), "{noun} not sent; will retry"
                        );
                        (
                            Settled::Retried,
                            self.outbox.retry_later(id, token, next, error).await,
                        )
                    }
                    None => {
                        let error = format!(
                            "given up after {} s since it was queued; last error: {error}",
                            self.settings.give_up_after.as_secs()
                        );
                        (Settled::Failed, self.give_up(row, token, error).await)
                    }
                }
            }
            Outcome::Permanent(error) => (Settled::Failed, self.give_up(row, token, error).await),
            Outcome::NoProcess => {
                let process = row.payload.notification().map(|i| i.process_id.to_string());
                let error = format!("process {} not found", process.unwrap_or_default());
                tracing::error!(outbox_id = %id, %what, error = %error, "email given up");
                let result = self
                    .outbox
                    .mark_failed(id, token, error, None, now)
                    .await
                    .inspect(|()| count_failed(&row.payload));
                (Settled::Failed, result)
            }
        };
        match result {
            Ok(()) => {}
            Err(RepoError::NotFound(_)) => {
                tracing::warn!(outbox_id = %id, "outbox lease lost; the row's result is another dispatcher's");
            }
            Err(e) => {
                tracing::error!(outbox_id = %id, error = %e, "cannot update the outbox row; its lease will expire");
            }
        }
        settled
    }

    /// Marks the row failed and, in the same transaction, queues a FAILURE notice about it
    /// to `ADMIN_EMAIL` (never about a FAILURE row).
    async fn give_up(
        &self,
        row: &OutboxMessage,
        token: Uuid,
        error: String,
    ) -> Result<(), RepoError> {
        let (id, what) = (row.id, Label(&row.payload));
        let noun = noun(&row.payload);
        tracing::error!(
            outbox_id = %id, %what, attempt = row.attempts.saturating_add(1),
            error = %for_log(&error), "{noun} given up"
        );
        let notice = self.failure_notice(row);
        self.outbox
            .mark_failed(id, token, error, notice, self.clock.now())
            .await
            .inspect(|()| count_failed(&row.payload))
    }

    /// The FAILURE notice about `row` to `ADMIN_EMAIL`; none about a FAILURE row, and none
    /// without `ADMIN_EMAIL`. None about an audit checkpoint email either: FAILURE is a
    /// matrix email about a process, and the checkpoint has none; the failed row stays in
    /// `GET /outbox` (state FAILED) for `POST /outbox/{id}/retry`, and the error is logged.
    /// About a webhook row: the notice names the row's process, with no step and no entry
    /// (a delivery is to a subscription, not to a person of the process).
    fn failure_notice(&self, row: &OutboxMessage) -> Option<NotificationIntent> {
        let (step_id, signer_id) = match &row.payload {
            OutboxPayload::Notification(intent) if intent.event_type == EventType::Failure => {
                return None;
            }
            OutboxPayload::Notification(intent) => (intent.step_id, intent.signer_id),
            OutboxPayload::Webhook(_) => (None, None),
            OutboxPayload::AuditCheckpoint(_) => return None,
        };
        let process_id = row.payload.process_id()?;
        let Some(admin) = &self.settings.admin_email else {
            tracing::warn!(outbox_id = %row.id, "ADMIN_EMAIL is not set; no FAILURE notice");
            return None;
        };
        Some(NotificationIntent {
            event_type: EventType::Failure,
            role: RecipientRole::Administrator,
            to: admin.clone(),
            language: None,
            process_id,
            step_id,
            signer_id,
        })
    }
}

/// `emails_sent_total`: emails the transport accepted.
const EMAILS_SENT: &str = "emails_sent_total";

/// `webhook_deliveries_total{result}`: attempts at webhook rows by what the deliverer
/// answered, `delivered` (`Sent`) or `failed` (`Retry`, `GiveUp`: a target that answered
/// otherwise, did not answer, or was refused by the address policy). A dropped row (its
/// subscription deleted or disabled) had no attempt and is not counted; neither is a row
/// this dispatcher has no deliverer for.
const WEBHOOK_DELIVERIES: &str = "webhook_deliveries_total";

/// `outbox_failed_total{channel}`: rows given up (counted once the row is marked, so a row
/// another dispatcher settled is not counted twice), by the row's channel in lower case
/// (`email`, `webhook`: the label values `pas_http::metrics::CHANNELS` registers).
fn count_failed(payload: &OutboxPayload) {
    let channel = payload.channel().as_str().to_ascii_lowercase();
    metrics::counter!("outbox_failed_total", "channel" => channel).increment(1);
}

/// What a row is called in log messages: `email` or `webhook`.
fn noun(payload: &OutboxPayload) -> &'static str {
    match payload.channel() {
        OutboxChannel::Email => "email",
        OutboxChannel::Webhook => "webhook",
    }
}

/// What a row is, in log lines: `TASK_STARTED to signer`, `AUDIT_CHECKPOINT`, or
/// `WEBHOOK PROCESS_COMPLETED`.
struct Label<'a>(&'a OutboxPayload);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            OutboxPayload::Notification(intent) => {
                write!(f, "{} to {}", intent.event_type, intent.role)
            }
            OutboxPayload::AuditCheckpoint(_) => f.write_str(OutboxKind::AuditCheckpoint.as_str()),
            OutboxPayload::Webhook(delivery) => write!(f, "WEBHOOK {}", delivery.event_type),
        }
    }
}

/// An error text for logs above debug level: words holding an `@` (addresses an SMTP
/// server quotes back) are masked. The outbox row keeps the full text.
fn for_log(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `tasks`, at most `limit` at a time (0 counts as 1) and in their order, in the task
/// that awaits this (no spawning: they may borrow), and answers their outputs in the order
/// they ended. A future is first polled, and so starts its work, only when a place is
/// free. Every running future is polled on each wake-up, which is cheap for the few a
/// round runs.
async fn bounded<F: Future>(tasks: Vec<F>, limit: usize) -> Vec<F::Output> {
    let limit = limit.max(1);
    let mut done = Vec::with_capacity(tasks.len());
    let mut tasks = tasks.into_iter();
    let mut running: Vec<Pin<Box<F>>> = Vec::with_capacity(limit.min(tasks.len()));
    std::future::poll_fn(|cx| {
        loop {
            while running.len() < limit {
                match tasks.next() {
                    Some(task) => running.push(Box::pin(task)),
                    None => break,
                }
            }
            if running.is_empty() {
                return Poll::Ready(());
            }
            let before = running.len();
            running.retain_mut(|task| match task.as_mut().poll(cx) {
                Poll::Ready(output) => {
                    done.push(output);
                    false
                }
                Poll::Pending => true,
            });
            // Nothing ended: every running future is waiting, with `cx`'s waker.
            if running.len() == before {
                return Poll::Pending;
            }
        }
    })
    .await;
    done
}

fn after(now: OffsetDateTime, wait: Duration) -> OffsetDateTime {
    time::Duration::try_from(wait)
        .ok()
        .and_then(|d| now.checked_add(d))
        .unwrap_or(now)
}

/// Up to 10 % of `delay`, so that rows failing together do not all come back together.
fn jitter(delay: Duration, row: &OutboxMessage, attempt: u32) -> Duration {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(row.id.as_bytes());
    hasher.write_u32(attempt);
    let tenth = delay.as_millis() / 10;
    let tenth = u64::try_from(tenth).unwrap_or(u64::MAX);
    if tenth == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(hasher.finish() % tenth.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::for_log;

    #[test]
    fn logged_errors_mask_addresses_quoted_by_the_server() {
        assert_eq!(
            for_log("550 5.1.1 <anna@example.lv>: Recipient address rejected"),
            "550 5.1.1 <address> Recipient address rejected"
        );
    }
}
