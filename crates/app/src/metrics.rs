//! The app's half of `/metrics`: the recorder, and the sampler that sets the gauges living
//! in the database and the pool when a scrape comes (see `pas_http::metrics`).

use std::sync::Arc;
use std::time::Duration;

use pas_http::metrics::{
    CHANNELS, DB_POOL, DB_READ_FALLBACKS, GaugeSampler, MetricsExport, OUTBOX_OLDEST,
    OUTBOX_PENDING,
};
use pas_persistence::Db;

/// The longest a scrape waits for the outbox query; past it the last values stay. Shorter
/// than a typical scrape time-out (10 s), and than `DATABASE_TIMEOUT_MS` at its default.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(1);

/// The export of `/metrics` over `db`: installs the process's recorder (once) and samples
/// the pool, the outbox and the replica fallbacks at each scrape.
pub fn export(db: &Db) -> Result<MetricsExport, pas_http::metrics::MetricsError> {
    let handle = pas_http::metrics::install()?;
    let db = db.clone();
    let sample: GaugeSampler = Arc::new(move || {
        let db = db.clone();
        Box::pin(async move { sample(&db).await })
    });
    Ok(MetricsExport::new(handle, sample))
}

/// Sets the gauges from `db`; a database that does not answer leaves the outbox gauges at
/// their last values (the scrape itself never fails).
async fn sample(db: &Db) {
    let pool = db.pool_use();
    let to_gauge = |n: usize| n as f64;
    metrics::gauge!(DB_POOL, "state" => "idle").set(to_gauge(pool.idle));
    metrics::gauge!(DB_POOL, "state" => "active").set(to_gauge(pool.active));
    metrics::gauge!(DB_POOL, "state" => "max").set(to_gauge(pool.max));
    metrics::counter!(DB_READ_FALLBACKS).absolute(db.read_fallbacks());
    let now = time::OffsetDateTime::now_utc();
    match tokio::time::timeout(SAMPLE_TIMEOUT, db.outbox_backlog(now)).await {
        Ok(Ok(backlog)) => {
            for channel in CHANNELS {
                // Stored channels are upper case (`EMAIL`); a channel with no pending row
                // is absent from the answer and reads zero.
                let found = backlog
                    .iter()
                    .find(|b| b.channel.eq_ignore_ascii_case(channel));
                let (pending, oldest) = found.map_or((0, 0), |b| (b.pending, b.oldest_seconds));
                metrics::gauge!(OUTBOX_PENDING, "channel" => *channel).set(pending as f64);
                metrics::gauge!(OUTBOX_OLDEST, "channel" => *channel).set(oldest as f64);
            }
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "outbox gauges not sampled; last values kept"),
        Err(_) => tracing::debug!("outbox gauges not sampled in time; last values kept"),
    }
}
