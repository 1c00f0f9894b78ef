//! The outbox dispatcher: claims due rows, renders, sends, and settles each row (sent,
//! retry later with backoff, or failed with a FAILURE notice to `ADMIN_EMAIL`).

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::ports::{Clock, Outbox, OutboxMessage, ProcessRepository, RepoError};
use pas_domain::status::EventType;
use pas_domain::values::Email;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::render::Renderer;
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
    /// How long claimed rows stay leased to this instance. Keep it well above
    /// `batch` × the SMTP timeout (30 s): rows whose lease ran out are left for the next
    /// round instead of being sent.
    pub lease: Duration,
    /// Wait before the second attempt; each further attempt waits twice as long (at most
    /// one hour), plus up to 10 % jitter.
    pub first_retry: Duration,
    /// Attempts before a row is given up (marked failed, FAILURE sent to `admin_email`).
    pub max_attempts: u32,
    /// Pause between rounds in [`Dispatcher::run`].
    pub poll_interval: Duration,
    /// `ADMIN_EMAIL`: receives FAILURE notices; `None` only logs.
    pub admin_email: Option<Email>,
}

impl Default for DispatchSettings {
    /// Owner from [`DispatchSettings::default_owner`], batch 20, lease 5 min, first retry
    /// 10 s, 8 attempts, poll every 5 s, no admin email.
    fn default() -> Self {
        Self {
            owner: Self::default_owner(),
            batch: 20,
            lease: Duration::from_secs(300),
            first_retry: Duration::from_secs(10),
            max_attempts: 8,
            poll_interval: Duration::from_secs(5),
            admin_email: None,
        }
    }
}

impl DispatchSettings {
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
    /// Rows the matrix sends nothing for (marked sent, nothing delivered).
    pub suppressed: usize,
    /// Rows put back for a later attempt.
    pub retried: usize,
    /// Rows given up (marked failed).
    pub failed: usize,
    /// Rows left alone: their lease ran out or the dispatcher is stopping. Another round
    /// claims them once the lease has expired.
    pub skipped: usize,
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
    /// Worth another attempt.
    Transient(String),
    /// Will fail again: give up now.
    Permanent(String),
    /// The process is gone: give up without a FAILURE notice (it could not be rendered
    /// either).
    NoProcess,
}

/// Sends the outbox. Safe to run in every instance at once: rows are leased to one owner.
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    processes: Arc<dyn ProcessRepository>,
    renderer: Arc<Renderer>,
    transport: Arc<Transport>,
    clock: Arc<dyn Clock>,
    settings: DispatchSettings,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("transport", &self.transport)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher over `outbox`, reading processes (deleted ones too) from `processes`.
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
        }
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

    /// Rounds every `poll_interval` until `shutdown` completes. A send in progress finishes
    /// (and its row is settled) before this returns; rows of the round not yet started are
    /// left to their lease.
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
        let rows = self
            .outbox
            .claim(
                self.settings.owner.clone(),
                self.settings.batch,
                now,
                lease_until,
            )
            .await
            .map_err(DispatchError::Claim)?;
        let mut report = DispatchReport {
            claimed: rows.len(),
            ..DispatchReport::default()
        };
        for row in &rows {
            let stopping = stop.is_some_and(|rx| *rx.borrow());
            if stopping || self.clock.now() >= lease_until {
                report.skipped += 1;
                continue;
            }
            let outcome = self.attempt(row).await;
            self.settle(row, outcome, &mut report).await;
        }
        Ok(report)
    }

    async fn attempt(&self, row: &OutboxMessage) -> Outcome {
        let intent = &row.intent;
        let process = match self
            .processes
            .get_including_deleted(intent.process_id)
            .await
        {
            Ok(Some(process)) => process,
            Ok(None) => return Outcome::NoProcess,
            Err(e) => return Outcome::Transient(format!("loading the process failed: {e}")),
        };
        let rendered = match self.renderer.render(intent, &process) {
            Ok(Some(rendered)) => rendered,
            Ok(None) => return Outcome::Suppressed,
            Err(e) => return Outcome::Permanent(e.to_string()),
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

    async fn settle(&self, row: &OutboxMessage, outcome: Outcome, report: &mut DispatchReport) {
        let owner = self.settings.owner.clone();
        let (id, event, role) = (row.id, row.intent.event_type, row.intent.role);
        let attempt = row.attempts.saturating_add(1);
        let now = self.clock.now();
        let result = match outcome {
            Outcome::Sent | Outcome::Suppressed => {
                let sent = matches!(outcome, Outcome::Sent);
                if sent {
                    report.sent += 1;
                    tracing::info!(outbox_id = %id, %event, %role, attempt, "email sent");
                    tracing::debug!(outbox_id = %id, to = %row.intent.to, "email recipient");
                } else {
                    report.suppressed += 1;
                    tracing::debug!(outbox_id = %id, %event, %role, "no email configured; row closed");
                }
                self.outbox.mark_sent(id, owner, now).await
            }
            Outcome::Transient(error) if attempt < self.settings.max_attempts => {
                report.retried += 1;
                let delay = self.retry_delay(attempt);
                let delay = delay + jitter(delay, row, attempt);
                let next = after(now, delay);
                tracing::warn!(
                    outbox_id = %id, %event, %role, attempt, retry_in_s = delay.as_secs(),
                    error = %for_log(&error), "email not sent; will retry"
                );
                self.outbox.retry_later(id, owner, next, error).await
            }
            Outcome::Transient(error) | Outcome::Permanent(error) => {
                report.failed += 1;
                tracing::error!(
                    outbox_id = %id, %event, %role, attempt, error = %for_log(&error),
                    "email given up"
                );
                let marked = self.outbox.mark_failed(id, owner, error).await;
                if marked.is_ok() {
                    self.notify_admin(row).await;
                }
                marked
            }
            Outcome::NoProcess => {
                report.failed += 1;
                let error = format!("process {} not found", row.intent.process_id);
                tracing::error!(outbox_id = %id, %event, %role, error = %error, "email given up");
                self.outbox.mark_failed(id, owner, error).await
            }
        };
        if let Err(e) = result {
            tracing::error!(outbox_id = %id, error = %e, "cannot update the outbox row; its lease will expire");
        }
    }

    /// Queues a FAILURE notice about `row` to `ADMIN_EMAIL` (never about a FAILURE row).
    async fn notify_admin(&self, row: &OutboxMessage) {
        if row.intent.event_type == EventType::Failure {
            return;
        }
        let Some(admin) = &self.settings.admin_email else {
            tracing::warn!(outbox_id = %row.id, "ADMIN_EMAIL is not set; no FAILURE notice");
            return;
        };
        let notice = NotificationIntent {
            event_type: EventType::Failure,
            role: RecipientRole::Administrator,
            to: admin.clone(),
            language: None,
            process_id: row.intent.process_id,
            step_id: row.intent.step_id,
            signer_id: row.intent.signer_id,
        };
        if let Err(e) = self.outbox.enqueue(vec![notice], self.clock.now()).await {
            tracing::error!(outbox_id = %row.id, error = %e, "cannot queue the FAILURE notice");
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
