//! Background work of every instance: the outbox dispatcher, the reminder job, the audit
//! checkpoint job and the retention of sent outbox rows. All are safe to run in many
//! instances at once: outbox rows are leased, each day's reminder run is claimed in the
//! database by one instance (reminders are idempotent besides), a scheduled checkpoint
//! writes one outbox row per run, and deleting sent rows that are old enough is idempotent.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use pas_domain::audit::Caller;
use pas_domain::outbox::sent_cutoff;
use pas_domain::ports::{Clock, JobRuns, Outbox, RepoError};
use pas_domain::service::{
    AuditError, AuditService, MailedCheckpoint, ProcessError, ProcessService, SourceChain,
};
use pas_domain::values::Email;
use time::{Date, OffsetDateTime};
use tokio::sync::watch;

use crate::config::local_date;

/// Resolves when the app asks its background tasks to stop.
pub async fn stopped(mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// The name of the reminder job's runs in [`JobRuns`].
pub const REMINDER_JOB: &str = "reminders";

/// What one scheduled reminder run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderRun {
    /// This instance ran it and recorded this many reminders.
    Sent(usize),
    /// Another instance had claimed the run of this day.
    ClaimedElsewhere,
}

/// Why a scheduled reminder run failed.
#[derive(Debug, thiserror::Error)]
pub enum ReminderRunError {
    /// The day's run could not be claimed.
    #[error("cannot claim the reminder run: {0}")]
    Claim(#[source] RepoError),
    /// Sending failed.
    #[error("sending reminders failed: {0}")]
    Send(#[source] ProcessError),
}

/// One scheduled run of the reminders of `today`: claimed in `runs` first, so that of
/// several instances firing at once one sends and the others skip (PRODUCT.md section 13).
/// A run that fails after its claim is not repeated that day by the schedule; the manual
/// `POST /messages/reminders` still can.
pub async fn remind_once(
    processes: &ProcessService,
    runs: &dyn JobRuns,
    today: Date,
    days_before_due: &[u32],
    local_date: &(dyn Fn(time::OffsetDateTime) -> Date + Sync),
) -> Result<ReminderRun, ReminderRunError> {
    let claimed = runs
        .claim_run(REMINDER_JOB, &today.to_string(), processes.now())
        .await
        .map_err(ReminderRunError::Claim)?;
    if !claimed {
        return Ok(ReminderRun::ClaimedElsewhere);
    }
    processes
        .send_reminders(
            today,
            days_before_due,
            local_date,
            &Caller::system("reminder-job"),
        )
        .await
        .map(ReminderRun::Sent)
        .map_err(ReminderRunError::Send)
}

/// The reminder job: runs [`remind_once`] at every time of `schedule` in the service's time
/// zone (PRODUCT.md section 7) until shutdown.
pub async fn reminders(
    processes: ProcessService,
    runs: Arc<dyn JobRuns>,
    schedule: cron::Schedule,
    timezone: jiff::tz::TimeZone,
    days_before_due: Vec<u32>,
    shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(wait) = until_next(&schedule, &timezone) else {
            tracing::warn!("REMINDER_CRON has no future run; the reminder job stops");
            return;
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(shutdown.clone()) => return,
        }
        let tz = timezone.clone();
        let today = local_date(&tz, processes.now());
        let to_local = move |t| local_date(&tz, t);
        match remind_once(
            &processes,
            runs.as_ref(),
            today,
            &days_before_due,
            &to_local,
        )
        .await
        {
            Ok(ReminderRun::Sent(sent)) => tracing::info!(sent, "reminder job ran"),
            Ok(ReminderRun::ClaimedElsewhere) => {
                tracing::info!(%today, "another instance ran today's reminders");
            }
            Err(e) => tracing::error!(error = %SourceChain(&e), "reminder job failed"),
        }
    }
}

/// The audit checkpoint job (PRODUCT.md section 11): at every time of `schedule` in the
/// service's time zone, emails the checkpoint to `to` through the outbox
/// ([`run_checkpoint_once`]) until shutdown.
pub async fn audit_checkpoints(
    audit: AuditService,
    schedule: cron::Schedule,
    timezone: jiff::tz::TimeZone,
    to: Email,
    shutdown: watch::Receiver<bool>,
) {
    let mut last_run: Option<OffsetDateTime> = None;
    loop {
        let Some((wait, scheduled_at)) = next_run(&schedule, &timezone, last_run) else {
            tracing::warn!("AUDIT_CHECKPOINT_CRON has no future run; the checkpoint job stops");
            return;
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(shutdown.clone()) => return,
        }
        last_run = Some(scheduled_at);
        if let Err(e) = run_checkpoint_once(&audit, &to, scheduled_at).await {
            tracing::error!(error = %SourceChain(&e), %scheduled_at, "audit checkpoint job failed");
        }
    }
}

/// One run of the checkpoint job, scheduled at `scheduled_at`: takes the checkpoint (the use
/// case of `GET /audit-checkpoint`, as the system caller `audit-checkpoint-job`) and queues
/// one outbox row with it to `to`, in one transaction; the outbox dispatcher sends it (and
/// retries it) like every email. The row's id is derived from `scheduled_at`, so a second
/// run for the same instant (another instance) writes nothing and answers `queued: false`.
pub async fn run_checkpoint_once(
    audit: &AuditService,
    to: &Email,
    scheduled_at: OffsetDateTime,
) -> Result<MailedCheckpoint, AuditError> {
    let caller = Caller::system("audit-checkpoint-job");
    let mailed = audit.mail_checkpoint(to, scheduled_at, &caller).await?;
    tracing::info!(
        outbox_id = %mailed.outbox_id,
        %scheduled_at,
        chains = mailed.checkpoint.chain_count,
        root = %mailed.checkpoint.root,
        queued = mailed.queued,
        "audit checkpoint job ran"
    );
    Ok(mailed)
}

/// Rows one statement of the retention purge deletes at most: small enough that a first
/// purge of a large table commits as it goes (each batch well within
/// `DATABASE_TIMEOUT_MS`), large enough that a week of emails takes few round trips.
pub const PURGE_BATCH: NonZeroU32 = NonZeroU32::new(1000).expect("1000 is not zero");

/// When the retention purge runs on an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeSchedule {
    /// After the migration at start, before the first run.
    pub first: Duration,
    /// Between the end of one run and the start of the next.
    pub every: Duration,
}

impl Default for PurgeSchedule {
    /// A minute after the start (after the dispatcher's first rounds, and soon enough that
    /// an instance restarted often still purges), then hourly: rows are kept for days, so
    /// an hour late is nothing, and a run that finds nothing costs one indexed query.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(60),
            every: Duration::from_secs(3600),
        }
    }
}

/// The retention job (`OUTBOX_KEEP_SENT`): deletes the SENT outbox rows sent more than
/// `keep` ago, at the times of `schedule`, until shutdown; logs how many at info.
///
/// It runs on every instance and claims nothing in `job_runs`: a DELETE of rows older than
/// a cut is idempotent, so instances purging at once only share the rows (the later one
/// finds fewer), and any instance's run makes up for a run another one missed.
pub async fn purge_sent_outbox(
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
    keep: Duration,
    schedule: PurgeSchedule,
    shutdown: watch::Receiver<bool>,
) {
    let mut wait = schedule.first;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(shutdown.clone()) => return,
        }
        wait = schedule.every;
        // A first purge of a large table runs many batches, and the stop does not wait for
        // them: batches done stay done, the one cut off rolls back, and a later run (of any
        // instance) deletes the rest.
        tokio::select! {
            result = purge_sent_once(outbox.as_ref(), clock.now(), keep) => log_purge(&result),
            () = stopped(shutdown.clone()) => return,
        }
    }
}

/// One run of the retention job at `now`: deletes the SENT rows sent before `now - keep`
/// in batches of [`PURGE_BATCH`] and answers how many.
pub async fn purge_sent_once(
    outbox: &dyn Outbox,
    now: OffsetDateTime,
    keep: Duration,
) -> Result<u64, RepoError> {
    match sent_cutoff(now, keep) {
        Some(cut) => outbox.purge_sent(cut, PURGE_BATCH).await,
        // A retention longer than recorded time: nothing can be old enough.
        None => Ok(0),
    }
}

/// A run that deleted nothing is not worth a line every hour on every instance.
fn log_purge(result: &Result<u64, RepoError>) {
    match result {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "outbox retention deleted sent rows"),
        Err(e) => tracing::error!(error = %SourceChain(e), "outbox retention job failed"),
    }
}

/// Time until the schedule's next run, judged in the zone's current UTC offset (recomputed
/// before every run, so a daylight-saving change moves the run with the clock).
fn until_next(schedule: &cron::Schedule, timezone: &jiff::tz::TimeZone) -> Option<Duration> {
    next_run(schedule, timezone, None).map(|(wait, _)| wait)
}

/// The schedule's next run after now (and after `after`, the run just done, so that a timer
/// waking a little early does not repeat it), judged in the zone's current UTC offset: the
/// time until it and its instant.
fn next_run(
    schedule: &cron::Schedule,
    timezone: &jiff::tz::TimeZone,
    after: Option<OffsetDateTime>,
) -> Option<(Duration, OffsetDateTime)> {
    let offset = timezone.to_offset(jiff::Timestamp::now()).seconds();
    let zone = chrono::FixedOffset::east_opt(offset)?;
    let now = chrono::Utc::now().with_timezone(&zone);
    let from = match after.and_then(|t| chrono::DateTime::from_timestamp(t.unix_timestamp(), 0)) {
        Some(done) if done.with_timezone(&zone) > now => done.with_timezone(&zone),
        _ => now,
    };
    let next = schedule.after(&from).next()?;
    let at = OffsetDateTime::from_unix_timestamp(next.timestamp()).ok()?;
    Some(((next - now).to_std().unwrap_or(Duration::ZERO), at))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn the_next_run_is_within_a_day_for_a_daily_schedule() {
        let daily = cron::Schedule::from_str("0 0 11 * * *").unwrap();
        let riga = jiff::tz::TimeZone::get("Europe/Riga").unwrap();
        let wait = until_next(&daily, &riga).unwrap();
        assert!(wait <= Duration::from_secs(24 * 3600), "{wait:?}");
    }

    #[test]
    fn the_next_checkpoint_run_is_after_the_one_just_done() {
        let every_minute = cron::Schedule::from_str("0 * * * * *").unwrap();
        let utc = jiff::tz::TimeZone::UTC;
        let (wait, first) = next_run(&every_minute, &utc, None).unwrap();
        assert!(wait <= Duration::from_secs(60), "{wait:?}");
        assert_eq!(first.second(), 0);
        // A timer that woke early would see the same run again; after it, the next one.
        let (_, second) = next_run(&every_minute, &utc, Some(first)).unwrap();
        assert_eq!(second - first, time::Duration::minutes(1));
    }

    /// A SENT row of `db`, sent at `at`.
    async fn sent_row(db: &pas_persistence::Db, at: OffsetDateTime) -> uuid::Uuid {
        use pas_domain::notify::{NotificationIntent, RecipientRole};
        use pas_domain::ports::OutboxLease;
        let intent = NotificationIntent {
            event_type: pas_domain::status::EventType::TaskStarted,
            role: RecipientRole::Signer,
            to: Email::parse("signer@example.lv").unwrap(),
            language: None,
            process_id: pas_domain::ids::ProcessId::from_uuid(uuid::Uuid::now_v7()),
            step_id: None,
            signer_id: None,
        };
        db.enqueue(vec![intent], at).await.unwrap();
        let lease = OutboxLease {
            owner: "test".into(),
            token: uuid::Uuid::now_v7(),
        };
        let minute = time::Duration::minutes(1);
        let claimed = db.claim(lease.clone(), 10, at, at + minute).await.unwrap();
        db.mark_sent(claimed[0].id, lease.token, at).await.unwrap();
        claimed[0].id
    }

    #[tokio::test]
    async fn the_retention_job_deletes_old_sent_rows_soon_after_start_and_stops_with_the_app() {
        let scratch = pas_persistence::testing::ScratchDatabase::sqlite().await;
        let db = pas_persistence::Db::connect(scratch.url(), 2)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let now = time::macros::datetime!(2026-03-09 8:00 UTC);
        let week = Duration::from_secs(7 * 86_400);
        let old = sent_row(&db, now - time::Duration::days(8)).await;
        let young = sent_row(&db, now - time::Duration::days(6)).await;

        let (stop, stop_rx) = watch::channel(false);
        let schedule = PurgeSchedule {
            first: Duration::ZERO,
            every: Duration::from_secs(3600),
        };
        let clock = Arc::new(pas_domain::ports::FixedClock(now));
        let job = tokio::spawn(purge_sent_outbox(
            Arc::new(db.clone()),
            clock,
            week,
            schedule,
            stop_rx,
        ));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while db.get(old).await.unwrap().is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the first run did not come"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            db.get(young).await.unwrap().is_some(),
            "sent within the week"
        );

        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), job)
            .await
            .expect("the job stops with the app")
            .unwrap();
    }

    #[tokio::test]
    async fn stopped_resolves_when_asked_or_when_the_app_is_gone() {
        let (tx, rx) = watch::channel(false);
        let waiter = tokio::spawn(stopped(rx.clone()));
        tx.send(true).unwrap();
        waiter.await.unwrap();
        drop(tx);
        stopped(rx).await;
    }
}
