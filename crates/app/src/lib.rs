//! The `app` binary's library half: configuration and wiring, so that end-to-end tests start
//! exactly what `cargo run` starts.

pub mod audit_cli;
pub mod audit_keys;
pub mod config;
pub mod jobs;
pub mod logging;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{App, HttpServer};
use pas_domain::ports::{SystemClock, UuidV7Ids};
use pas_domain::service::{
    AuditService, CatalogService, DirectoryService, MessageService, ProcessService,
};
use pas_http::{ApiState, AuthThrottle, Limits, NetworkSettings, ReadinessCheck, ReminderSettings};
use pas_persistence::Db;
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
    /// The audit keys are missing or cannot be read (`AUDIT_KEY`, `AUDIT_KEY_FILE`,
    /// `AUDIT_OLD_KEYS_FILE`).
    #[error("{0}")]
    AuditKeys(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Opens the database named by the configuration and brings its schema up to date.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect(&config.database_url, config.pool_size).await?;
    db.migrate().await?;
    Ok(db)
}

/// Loads the audit keys (see [`audit_keys::load`]), then opens and migrates the database,
/// chaining audit rows under them.
pub async fn open_audited_database(config: &Config) -> Result<Db, StartError> {
    let may_generate = config.auth.mode == pas_http::authn::AuthMode::Off;
    let keys = audit_keys::load(&config.audit_keys, may_generate).map_err(StartError::AuditKeys)?;
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

/// The use cases and HTTP state over one database.
pub fn api_state(config: &Config, db: &Db, mail: &Mail, authenticator: Authenticator) -> ApiState {
    let store = Arc::new(db.clone());
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(UuidV7Ids);
    let ready_db = db.clone();
    let keys = authenticator.clone();
    // Not ready while OIDC is on and no key of the provider was ever loaded.
    let readiness: ReadinessCheck = Arc::new(move || {
        let db = ready_db.clone();
        let keys_loaded = keys.is_ready();
        Box::pin(async move { keys_loaded && db.ping().await.is_ok() })
    });
    ApiState {
        processes: ProcessService::new(store.clone(), clock.clone(), ids.clone())
            .with_read_audit(config.audit_reads),
        catalog: CatalogService::new(store.clone(), clock.clone(), ids.clone()),
        directory: DirectoryService::new(store.clone(), store.clone(), clock.clone(), ids.clone()),
        audit: AuditService::new(store.clone(), store, clock.clone(), ids.clone()),
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
        auth_throttle: AuthThrottle::per_minute(config.auth_failures_per_minute),
        readiness,
        authenticator,
    }
}

/// A started service.
pub struct Running {
    /// Where it listens (the real port when the configuration asked for port 0).
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutdown: watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits for the end.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.wait().await;
    }

    /// Waits until the server ends (on SIGTERM or Ctrl-C when signals are handled), then
    /// stops the background tasks, letting an email being sent finish.
    pub async fn wait(self) -> std::io::Result<()> {
        let result = match self.server.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        };
        let _ = self.shutdown.send(true);
        for task in self.background {
            let _ = task.await;
        }
        result
    }
}

/// How the server reacts to process signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signals {
    /// SIGTERM and Ctrl-C stop it gracefully (the binary).
    Handle,
    /// Only [`Running::stop`] stops it (embedded in tests).
    Ignore,
}

/// Opens the database, migrates it, and serves the API until stopped.
pub async fn start(config: &Config, signals: Signals) -> Result<Running, StartError> {
    let mail = Mail::from_config(config)?;
    let db = open_audited_database(config).await?;
    tracing::info!(backend = db.backend_name(), "database ready");
    serve(config, &db, &mail, signals)
}

/// Serves the API over an open database, with the outbox dispatcher and the reminder job
/// running beside it.
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
    let state = api_state(config, db, mail, authenticator.clone());
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
            max_attempts: config.mail_max_attempts,
            poll_interval: config.mail_poll,
            admin_email,
            ..DispatchSettings::default()
        },
    );
    let key_stop = jobs::stopped(stop_rx.clone());
    let background = vec![
        // Retries until the provider's keys load (at once when OIDC is off), or the stop.
        tokio::spawn(async move {
            tokio::select! {
                () = authenticator.keep_keys_loaded() => {}
                () = key_stop => {}
            }
        }),
        tokio::spawn(dispatcher.run(jobs::stopped(stop_rx.clone()))),
        tokio::spawn(jobs::reminders(
            state.processes.clone(),
            config.reminder_cron.clone(),
            config.timezone.clone(),
            config.reminder_days.clone(),
            stop_rx,
        )),
    ];
    let mut server =
        HttpServer::new(move || App::new().configure(pas_http::configure(state.clone())))
            .shutdown_timeout(30)
            .bind(config.bind)
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
    if signals == Signals::Ignore {
        server = server.disable_signals();
    }
    let addr = server.addrs().first().copied().unwrap_or(config.bind);
    let server = server.run();
    let handle = server.handle();
    tracing::info!(%addr, "listening");
    Ok(Running {
        addr,
        handle,
        server: tokio::spawn(server),
        shutdown,
        background,
    })
}
