//! Background work of every instance: the outbox dispatcher and the reminder job. Both are
//! safe to run in many instances at once (leased outbox rows; idempotent reminders).

use std::time::Duration;

use pas_domain::audit::Caller;
use pas_domain::service::{ProcessService, SourceChain};
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

/// The reminder job: runs `send_reminders` at every time of `schedule` in the service's time
/// zone (PRODUCT.md section 7) until shutdown.
pub async fn reminders(
    processes: ProcessService,
    schedule: cron::Schedule,
    timezone: jiff::tz::TimeZone,
    days_before_due: Vec<u32>,
    shutdown: watch::Receiver<bool>,
) {
    let caller = Caller::system("reminder-job");
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
        match processes
            .send_reminders(today, &days_before_due, &to_local, &caller)
            .await
        {
            Ok(sent) => tracing::info!(sent, "reminder job ran"),
            Err(e) => tracing::error!(error = %SourceChain(&e), "reminder job failed"),
        }
    }
}

/// Time until the schedule's next run, judged in the zone's current UTC offset (recomputed
/// before every run, so a daylight-saving change moves the run with the clock).
fn until_next(schedule: &cron::Schedule, timezone: &jiff::tz::TimeZone) -> Option<Duration> {
    let offset = timezone.to_offset(jiff::Timestamp::now()).seconds();
    let zone = chrono::FixedOffset::east_opt(offset)?;
    let now = chrono::Utc::now().with_timezone(&zone);
    let next = schedule.after(&now).next()?;
    (next - now).to_std().ok()
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
