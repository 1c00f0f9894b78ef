//! The `app` binary's library half: configuration and wiring, so that end-to-end tests start
//! exactly what `cargo run` starts.

pub mod audit_cli;
pub mod audit_keys;
pub mod config;
pub mod jobs;
pub mod logging;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use pas_domain::ports::{SystemClock, UuidV7Ids};
use pas_domain::pseudonym::PiiKey;
use pas_domain::service::{
    AuditService, CatalogService, DirectoryService, ErasureService, MessageService, OutboxService,
    ProcessService, WebhookService,
};
use pas_http::{ApiState, AuthThrottle, Limits, NetworkSettings, ReadinessCheck, ReminderSettings};
use pas_persistence::{Db, DbOptions};
use pas_smtp::{
    DispatchSettings, Dispatcher, MailSettings, Matrix, Renderer, SmtpMailer, Transport,
};
use tokio::sync::watch;

use crate::config::Config;
use pas_http::authn::Authenticator;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] pas_persistence::ConnectError),
    /// The notification matrix, its templates or the mail transport cannot be used.
    #[error("{0}")]
    Mail(String),
    /// Authentication cannot be set up (`AUTH_TOKENS_FILE`, the OIDC client).
    #[error("{0}")]
    Auth(String),
    /// SIGTERM and SIGINT could not be listened to.
    #[error("cannot listen to SIGTERM and SIGINT: {0}")]
    Signals(std::io::Error),
    /// The audit keys are missing or cannot be read (`AUDIT_KEY`, `AUDIT_KEY_FILE`,
    /// `AUDIT_OLD_KEYS_FILE`, `PII_KEY`, `PII_KEY_FILE`).
    #[error("{0}")]
    AuditKeys(String),
    /// `/metrics` cannot be served (another `metrics` recorder in the process).
    #[error("{0}")]
    Metrics(#[from] pas_http::metrics::MetricsError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Opens the database named by the configuration and brings its schema up to date; fails
/// at once (within `DATABASE_TIMEOUT_MS`) when the database is unreachable (`app migrate`).
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect_with(&config.database_url, db_options(config)).await?;
    db.migrate().await?;
    Ok(db)
}

/// The pool settings of the configuration.
fn db_options(config: &Config) -> DbOptions {
    DbOptions {
        pool_size: config.pool_size,
        timeout: config.database_timeout,
        statement_cache: config.statement_cache,
    }
}

/// The audit keys of the configuration (see [`audit_keys::load`]); a key is generated only
/// with `AUTH_MODE=off`.
fn load_audit_keys(config: &Config) -> Result<pas_domain::audit::AuditKeys, StartError> {
    let may_generate = config.auth.mode == pas_http::authn::AuthMode::Off;
    audit_keys::load(&config.audit_keys, may_generate).map_err(StartError::AuditKeys)
}

/// The key of personal-code pseudonyms of the configuration (see
/// [`audit_keys::load_pii`]); generated only with `AUTH_MODE=off`.
fn load_pii_key(config: &Config) -> Result<pas_domain::pseudonym::PiiKey, StartError> {
    let may_generate = config.auth.mode == pas_http::authn::AuthMode::Off;
    audit_keys::load_pii(&config.pii_key, may_generate).map_err(StartError::AuditKeys)
}

/// Loads the audit keys, then opens and migrates the database, chaining audit rows under
/// them (`app audit verify|checkpoint`).
pub async fn open_audited_database(config: &Config) -> Result<Db, StartError> {
    let keys = load_audit_keys(config)?;
    Ok(open_database(config).await?.with_audit_keys(keys))
}

/// The mail adapter: the renderer (matrix and templates) and the transport.
pub struct Mail {
    renderer: Arc<Renderer>,
    transport: Arc<Transport>,
}

impl Mail {
    /// Loads the matrix (`NOTIFICATIONS_FILE` or the built-in one) and opens the transport
    /// (`SMTP_URL`, or `.eml` files under `MAIL_DIR`).
    pub fn from_config(config: &Config) -> Result<Self, StartError> {
        let matrix = Matrix::from_config(config.notifications_file.as_deref())
            .map_err(|e| StartError::Mail(format!("invalid NOTIFICATIONS_FILE: {e}")))?;
        config
            .check_mail_language(&matrix)
            .map_err(|e| StartError::Mail(e.to_string()))?;
        let transport = Transport::from_config(config.smtp_url.as_deref(), &config.mail_dir)
            .map_err(|e| StartError::Mail(format!("invalid SMTP_URL or MAIL_DIR: {e}")))?;
        let settings = MailSettings {
            from: config.mail_from.clone(),
            reply_to_initiator: config.reply_to_initiator,
            portal_url: config.portal_url.clone(),
            timezone: config.timezone.clone(),
            default_language: config.mail_default_language.clone(),
        };
        Ok(Self {
            renderer: Arc::new(Renderer::new(matrix, settings)),
            transport: Arc::new(transport),
        })
    }
}

/// The audit use cases over `db` (the HTTP edge's, and the checkpoint job's); personal
/// codes in audit rows are pseudonymised under `pii`.
pub fn audit_service(db: &Db, pii: PiiKey) -> AuditService {
    let store = Arc::new(db.clone());
    AuditService::new(
        store.clone(),
        store.clone(),
        store,
        Arc::new(SystemClock),
        Arc::new(UuidV7Ids),
        pii,
    )
}

/// The webhook use cases over `db` (the HTTP edge's, and the dispatcher's deliverer of
/// webhook rows): targets resolved through the system's resolver and called by
/// `pas-webhook`, under `WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_PRIVATE` and
/// `WEBHOOK_TIMEOUT_MS`.
pub fn webhook_service(config: &Config, db: &Db) -> WebhookService {
    WebhookService::new(
        Arc::new(db.clone()),
        Arc::new(pas_webhook::DnsResolver::new(config.webhook_timeout)),
        Arc::new(pas_webhook::HttpSender::new(config.webhook_timeout)),
        Arc::new(SystemClock),
        Arc::new(UuidV7Ids),
        config.webhook_policy,
    )
}

/// The use cases and HTTP state over one database; personal codes in audit rows are
/// pseudonymised under `pii`.
///
/// `/ready` answers 200 once `schema` says the schema is migrated, the database answers a
/// ping within `DATABASE_TIMEOUT_MS`, and (with OIDC) a key of the provider is loaded.
pub fn api_state(
    config: &Config,
    db: &Db,
    mail: &Mail,
    pii: PiiKey,
    authenticator: Authenticator,
    schema: watch::Receiver<bool>,
) -> ApiState {
    let store = Arc::new(db.clone());
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(UuidV7Ids);
    let ready_db = db.clone();
    let keys = authenticator.clone();
    let readiness: ReadinessCheck = Arc::new(move || {
        let db = ready_db.clone();
        let keys_loaded = keys.is_ready();
        let migrated = *schema.borrow();
        Box::pin(async move { keys_loaded && migrated && db.ping().await.is_ok() })
    });
    ApiState {
        processes: ProcessService::new(store.clone(), clock.clone(), ids.clone(), pii.clone())
            .with_read_audit(config.audit_reads),
        catalog: CatalogService::new(store.clone(), clock.clone(), ids.clone()),
        directory: DirectoryService::new(store.clone(), store.clone(), clock.clone(), ids.clone()),
        audit: audit_service(db, pii.clone()),
        erasure: ErasureService::new(store.clone(), clock.clone(), ids.clone(), pii),
        outbox: OutboxService::new(store, clock.clone()),
        webhooks: webhook_service(config, db),
        messages: MessageService::new(
            Arc::new(SmtpMailer::new(
                mail.renderer.clone(),
                mail.transport.clone(),
            )),
            clock,
            ids,
        ),
        reminders: ReminderSettings {
            days_before_due: config.reminder_days.clone(),
            local_date: Arc::new(config.local_date_fn()),
        },
        limits: Limits {
            max_body_bytes: config.max_body_bytes,
        },
        network: NetworkSettings {
            trusted_proxies: config.trusted_proxies.clone(),
        },
        auth_throttle: auth_throttle(config, db),
        readiness,
        authenticator,
    }
}

/// The limiter of failed portal authorizations: counted in PostgreSQL, so that every
/// instance of the database shares it; in memory on SQLite (one instance).
fn auth_throttle(config: &Config, db: &Db) -> AuthThrottle {
    let limit = config.auth_failures_per_minute;
    if db.backend_name() == "postgres" {
        AuthThrottle::shared(limit, Arc::new(db.clone()))
    } else {
        AuthThrottle::per_minute(limit)
    }
}

/// How much longer than `SHUTDOWN_GRACE_SECONDS` a stop may take (the background tasks and
/// the server's own bookkeeping) before it is abandoned with an error in the log.
const STOP_MARGIN: Duration = Duration::from_secs(5);

/// Longest pause between two attempts to reach and migrate the database at start.
const MAX_CONNECT_BACKOFF: Duration = Duration::from_secs(4);

/// A started service.
pub struct Running {
    /// Where it listens (the real port when the configuration asked for port 0).
    pub addr: SocketAddr,
    /// Where `/metrics` is served when `METRICS_BIND` is set (the real port for port 0).
    pub metrics_addr: Option<SocketAddr>,
    handle: actix_web::dev::ServerHandle,
    /// The `METRICS_BIND` listener, stopped after the main one.
    metrics_handle: Option<actix_web::dev::ServerHandle>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
    schema: watch::Receiver<bool>,
    grace: Duration,
    signals: Option<Terminate>,
    in_flight: InFlight,
}

/// The requests being handled, counted by a wrapper around every route, so that a stop can
/// wait for them.
#[derive(Clone, Default)]
struct InFlight {
    count: Arc<std::sync::atomic::AtomicUsize>,
    idle: Arc<tokio::sync::Notify>,
}

/// One counted request; uncounted when dropped.
struct Counted(InFlight);

impl Drop for Counted {
    fn drop(&mut self) {
        if self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

/// After the last handler returned, how long its answer may take to be written before the
/// server's connections close.
const ANSWER_WRITE_SETTLE: Duration = Duration::from_millis(100);

impl InFlight {
    fn enter(&self) -> Counted {
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted(self.clone())
    }

    fn count(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until no request is in flight (then lets the last answers be written), at most
    /// `limit`; whether that happened.
    async fn settled(&self, limit: Duration) -> bool {
        let idle = async {
            loop {
                let notified = self.idle.notified();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        let settled = tokio::time::timeout(limit, idle).await.is_ok();
        tokio::time::sleep(ANSWER_WRITE_SETTLE).await;
        settled
    }
}

impl Running {
    /// Waits until the database is reached and migrated, so the API serves (at once when it
    /// already is). `false` when the service stopped first.
    pub async fn database_ready(&self) -> bool {
        let mut schema = self.schema.clone();
        schema.wait_for(|migrated| *migrated).await.is_ok()
    }

    /// Stops accepting, lets in-flight requests finish (up to `SHUTDOWN_GRACE_SECONDS`)
    /// and the background tasks end (the email being sent is finished), and waits for the
    /// end. Never longer than the grace plus a few seconds: past that, the server and the
    /// background tasks are abandoned and an error is logged.
    pub async fn stop(self) {
        let _ = self.stop_within_grace().await;
    }

    /// Waits until the server ends: with [`Signals::Handle`], until SIGTERM or SIGINT, then
    /// stops as [`Running::stop`] does. An error when the stop had to be abandoned.
    pub async fn wait(mut self) -> std::io::Result<()> {
        let signals = self.signals.take();
        let terminated = async {
            match signals {
                Some(mut s) => s.received().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = &mut self.server => {
                let result = ended.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                let _ = self.shutdown.send(true);
                let background = std::mem::take(&mut self.background);
                let aborts: Vec<_> = background.iter().map(|t| t.abort_handle()).collect();
                let finished = futures::future::join_all(background);
                if tokio::time::timeout(self.grace + STOP_MARGIN, finished).await.is_err() {
                    tracing::error!("background tasks did not stop in time; abandoned");
                    aborts.iter().for_each(tokio::task::AbortHandle::abort);
                }
                result
            }
            signal = terminated => {
                tracing::info!(signal, grace_seconds = self.grace.as_secs(), "stopping: no new connections; requests in flight may finish");
                self.stop_within_grace().await
            }
        }
    }

    async fn stop_within_grace(self) -> std::io::Result<()> {
        let limit = self.grace + STOP_MARGIN;
        // The background tasks stop beside the server: the dispatcher finishes the email it
        // is sending, the reminder job ends between runs.
        let _ = self.shutdown.send(true);
        let mut aborts = vec![self.server.abort_handle()];
        aborts.extend(self.background.iter().map(|t| t.abort_handle()));
        let (handle, server, background) = (self.handle, self.server, self.background);
        let metrics_handle = self.metrics_handle;
        let (in_flight, grace) = (self.in_flight, self.grace);
        let drain = async move {
            // actix's own graceful stop (`stop(true)`) is not used while requests run: its
            // accept thread ended first and dropped the workers' connection channels, and a
            // worker that saw its channel closed before the stop message ended at once with
            // its requests (actix-server 2.6 on a tokio runtime; 2.9.1 and 2.10.0 fixed
            // races of that kind, and this does not depend on them). So: stop accepting,
            // wait for the requests this service counts, then stop the idle server.
            handle.pause().await;
            if !in_flight.settled(grace).await {
                tracing::warn!(
                    requests = in_flight.count(),
                    "requests still in flight after SHUTDOWN_GRACE_SECONDS are cut off"
                );
            }
            handle.stop(false).await;
            if let Some(metrics) = metrics_handle {
                metrics.stop(false).await;
            }
            let result = server
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            futures::future::join_all(background).await;
            result
        };
        match tokio::time::timeout(limit, drain).await {
            Ok(result) => result,
            Err(_) => {
                tracing::error!(
                    seconds = limit.as_secs(),
                    "the service did not stop within SHUTDOWN_GRACE_SECONDS and its margin; \
                     its server and background tasks are abandoned"
                );
                aborts.iter().for_each(tokio::task::AbortHandle::abort);
                Err(std::io::Error::other(format!(
                    "the stop did not finish within {} s",
                    limit.as_secs()
                )))
            }
        }
    }
}

/// SIGTERM and SIGINT, listened to from the start (so neither kills the process before the
/// server drains).
struct Terminate {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Terminate {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn received(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// How the server reacts to process signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    /// SIGTERM and Ctrl-C stop it gracefully ([`Running::wait`]; the binary).
    Handle,
    /// Only [`Running::stop`] stops it (embedded in tests).
    Ignore,
}

/// Serves the API at once and reaches the database in the background: until it is reached
/// and migrated, `/health` answers 200, `/ready` 503 and every other route a 503 problem
/// with `Retry-After`; attempts repeat with a growing pause (at most a few seconds), one
/// warning per failure. A configuration that cannot work (a URL that does not parse, a bad
/// mail or auth setting, a port in use) still fails here, at once.
pub async fn start(config: &Config, signals: Signals) -> Result<Running, StartError> {
    let mail = Mail::from_config(config)?;
    let keys = load_audit_keys(config)?;
    let mut db = Db::open(&config.database_url, db_options(config))?.with_audit_keys(keys);
    if let Some(read_url) = &config.database_read_url {
        db = db.with_replica(read_url, db_options(config))?;
    }
    serve(config, &db, &mail, signals)
}

/// Reaches and migrates the database, retrying until it works or `stop` says to give up
/// (then `false`).
async fn prepare_database(db: &Db, stop: watch::Receiver<bool>) -> bool {
    let mut pause = Duration::from_millis(250);
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let outcome = tokio::select! {
            outcome = db.migrate() => outcome,
            () = jobs::stopped(stop.clone()) => return false,
        };
        match outcome {
            Ok(()) => {
                tracing::info!(backend = db.backend_name(), "database ready");
                return true;
            }
            // The error names the database without its password.
            Err(e) => tracing::warn!(
                attempt,
                retry_in_ms = pause.as_millis() as u64,
                error = %e,
                "database not reachable yet; the API answers 503 until it is"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = jobs::stopped(stop.clone()) => return false,
        }
        pause = (pause * 2).min(MAX_CONNECT_BACKOFF);
    }
}

/// Whether a path is answered while the database is not ready: the probes, the API's
/// document and `/metrics` (whose database gauges keep their last values), which need no
/// database.
fn served_without_database(path: &str) -> bool {
    if path == pas_http::metrics::METRICS_PATH {
        return true;
    }
    let path = path.strip_prefix(pas_http::BASE_PATH).unwrap_or(path);
    matches!(path, "/health" | "/ready" | "/openapi.json") || path.starts_with("/docs")
}

/// The `METRICS_BIND` listener: `/metrics` and nothing else (a 404 for any other path).
fn metrics_listener(
    bind: SocketAddr,
    export: pas_http::metrics::MetricsExport,
    grace: Duration,
) -> Result<(SocketAddr, actix_web::dev::Server), StartError> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(pas_http::metrics::count_requests))
            .configure(pas_http::metrics::configure(export.clone()))
    })
    .workers(1)
    .shutdown_timeout(grace.as_secs())
    .disable_signals()
    .bind(bind)
    .map_err(|source| StartError::Bind { addr: bind, source })?;
    let addr = server.addrs().first().copied().unwrap_or(bind);
    Ok((addr, server.run()))
}

/// Serves the API over `db` (opened, maybe not reachable yet), with the outbox dispatcher,
/// the reminder job, (with `AUDIT_CHECKPOINT_CRON`) the audit checkpoint job and (unless
/// `OUTBOX_KEEP_SENT=0`) the retention of sent outbox rows running beside it once the
/// database is migrated.
pub fn serve(
    config: &Config,
    db: &Db,
    mail: &Mail,
    signals: Signals,
) -> Result<Running, StartError> {
    let authenticator =
        Authenticator::new(config.auth.clone()).map_err(|e| StartError::Auth(e.to_string()))?;
    if authenticator.is_off() {
        tracing::warn!(
            "AUTH_MODE=off: no credentials are checked and every caller is an administrator; \
             for development on a loopback address only"
        );
    }
    for variable in &config.ignored {
        tracing::warn!(
            variable,
            "{variable} is no longer read and is ignored (emails are given up by age: MAIL_GIVE_UP_AFTER)"
        );
    }
    let (schema_tx, schema) = watch::channel(false);
    let pii = load_pii_key(config)?;
    let state = api_state(config, db, mail, pii, authenticator.clone(), schema.clone());
    let (shutdown, stop_rx) = watch::channel(false);
    let store = Arc::new(db.clone());
    let admin_email = config
        .admin_email
        .as_deref()
        .and_then(|a| pas_domain::values::Email::parse(a).ok());
    let dispatcher = Dispatcher::new(
        store.clone(),
        store,
        mail.renderer.clone(),
        mail.transport.clone(),
        Arc::new(SystemClock),
        DispatchSettings {
            first_retry: config.mail_first_retry,
            give_up_after: config.mail_give_up_after,
            lease: config.mail_lease,
            poll_interval: config.mail_poll,
            admin_email,
            ..DispatchSettings::default()
        },
    )
    .with_deliverer(Arc::new(state.webhooks.clone()));
    let key_stop = jobs::stopped(stop_rx.clone());
    let reminders = jobs::reminders(
        state.processes.clone(),
        Arc::new(db.clone()),
        config.reminder_cron.clone(),
        config.timezone.clone(),
        config.reminder_days.clone(),
        stop_rx.clone(),
    );
    let checkpoints = {
        let (job, audit, timezone, stop) = (
            config.audit_checkpoint.clone(),
            state.audit.clone(),
            config.timezone.clone(),
            stop_rx.clone(),
        );
        async move {
            if let Some(job) = job {
                jobs::audit_checkpoints(audit, job.schedule, timezone, job.to, stop).await;
            }
        }
    };
    let retention = {
        let (keep, outbox, stop) = (
            config.outbox_keep_sent,
            Arc::new(db.clone()),
            stop_rx.clone(),
        );
        async move {
            match keep {
                Some(keep) => {
                    let schedule = jobs::PurgeSchedule::default();
                    let clock = Arc::new(SystemClock);
                    jobs::purge_sent_outbox(outbox, clock, keep, schedule, stop).await;
                }
                None => tracing::info!("OUTBOX_KEEP_SENT=0: sent outbox rows are kept forever"),
            }
        }
    };
    let prepared_db = db.clone();
    let background = vec![
        // Retries until the provider's keys load (at once when OIDC is off), or the stop.
        tokio::spawn(async move {
            tokio::select! {
                () = authenticator.keep_keys_loaded() => {}
                () = key_stop => {}
            }
        }),
        // The database first; the jobs that need it once it is migrated.
        tokio::spawn(async move {
            if !prepare_database(&prepared_db, stop_rx.clone()).await {
                return;
            }
            let _ = schema_tx.send(true);
            futures::join!(
                dispatcher.run(jobs::stopped(stop_rx)),
                reminders,
                checkpoints,
                retention
            );
        }),
    ];
    let terminate = match signals {
        Signals::Handle => Some(Terminate::listen().map_err(StartError::Signals)?),
        Signals::Ignore => None,
    };
    let export = metrics::export(db)?;
    // With METRICS_BIND, /metrics is served on that listener only.
    let main_export = config.metrics_bind.is_none().then(|| export.clone());
    let gate = schema.clone();
    let in_flight = InFlight::default();
    let counter = in_flight.clone();
    let server = HttpServer::new(move || {
        let gate = gate.clone();
        let counter = counter.clone();
        let main_export = main_export.clone();
        App::new()
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let counted = counter.enter();
                let refused = !*gate.borrow() && !served_without_database(req.path());
                let call = (!refused).then(|| srv.call(req));
                async move {
                    let answer = match call {
                        Some(call) => call.await,
                        None => Err(pas_http::problem::ApiError::DatabaseUnavailable.into()),
                    };
                    drop(counted);
                    answer
                }
            })
            .wrap(from_fn(pas_http::metrics::count_requests))
            .configure(pas_http::configure(state.clone()))
            .configure(move |cfg| {
                if let Some(export) = main_export {
                    pas_http::metrics::configure(export)(cfg);
                }
            })
    })
    .shutdown_timeout(config.shutdown_grace.as_secs())
    // Signals are handled by `Running::wait`, which also stops the background tasks.
    .disable_signals()
    .bind(config.bind)
    .map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let addr = server.addrs().first().copied().unwrap_or(config.bind);
    let metrics_server = match config.metrics_bind {
        Some(bind) => Some(metrics_listener(bind, export, config.shutdown_grace)?),
        None => None,
    };
    let server = server.run();
    let handle = server.handle();
    tracing::info!(%addr, "listening");
    let (metrics_addr, metrics_handle, metrics_run) = match metrics_server {
        Some((addr, server)) => {
            tracing::info!(%addr, "serving /metrics");
            (Some(addr), Some(server.handle()), Some(server))
        }
        None => (None, None, None),
    };
    // One task for both listeners: it ends when the main one does, stopping /metrics then.
    let stop_metrics = metrics_handle.clone();
    let served = async move {
        let metrics_task = metrics_run.map(tokio::spawn);
        let result = server.await;
        if let Some(handle) = stop_metrics {
            handle.stop(false).await;
        }
        if let Some(task) = metrics_task {
            if let Ok(Err(e)) = task.await {
                tracing::warn!(error = %e, "the /metrics listener ended with an error");
            }
        }
        result
    };
    Ok(Running {
        addr,
        metrics_addr,
        handle,
        metrics_handle,
        server: tokio::spawn(served),
        shutdown,
        background,
        schema,
        grace: config.shutdown_grace,
        signals: terminate,
        in_flight,
    })
}

#[cfg(test)]
mod tests {
    use super::served_without_database;

    #[test]
    fn metrics_and_probes_pass_the_gate_before_the_database_is_migrated() {
        for path in [
            "/metrics",
            "/health",
            "/ready",
            "/openapi.json",
            "/docs/",
            "/api/v1/health",
        ] {
            assert!(served_without_database(path), "{path}");
        }
        for path in ["/api/v1/processes", "/api/v1/metrics", "/metricsx"] {
            assert!(!served_without_database(path), "{path}");
        }
    }
}
