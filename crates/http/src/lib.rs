//! The HTTP adapter: the API of PRODUCT.md section 4 over the use cases of `pas-domain`,
//! with its OpenAPI document, Swagger UI, RFC 9457 problem responses and a request log that
//! never shows a personal code or a signer id (it names route templates, not paths).
//!
//! The app mounts everything with one call:
//!
//! ```no_run
//! # async fn run(state: pas_http::ApiState) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer};
//! HttpServer::new(move || App::new().configure(pas_http::configure(state.clone())))
//!     .bind("127.0.0.1:8080")?
//!     .run()
//!     .await
//! # }
//! ```
//!
//! What is mounted:
//! - the API under [`BASE_PATH`] (`/api/v1`), wrapped by the request log (which also echoes
//!   or makes `X-Request-Id`) and by a guard that turns every error response, a panicking
//!   handler's included, into `application/problem+json`;
//! - `GET /health` (liveness) and `GET /ready` (the app's [`ReadinessCheck`]: 200
//!   `{"status":"UP"}` or 503 `{"status":"DOWN"}`), also answered as `/api/v1/health` and
//!   `/api/v1/ready`; the root ones are not in the request log (probes are noisy);
//! - `GET /openapi.json` (the document of [`openapi()`]) and Swagger UI at `/docs/`;
//! - a default service answering unknown paths with a 404 problem and known paths with a
//!   wrong method with a 405 problem (and `Allow`).
//!
//! `GET /metrics` (Prometheus text) is mounted separately, with [`metrics::configure`], on
//! the main app or on a listener of its own; [`metrics::count_requests`] counts requests
//! around whatever app it wraps.
//!
//! Handlers are thin: they parse (ids, query parameters, `If-Match`, bodies), call one use
//! case, and map the result; every use case's error enum becomes a problem in one place
//! ([`problem::ApiError`]). The caller's identity comes from one extractor
//! ([`caller::RequestCaller`]), whose client address believes `X-Forwarded-For` only from the
//! trusted proxies of [`NetworkSettings`]. Failed identity checks of the signer portal are
//! limited per signer id and client address by [`AuthThrottle`] (429 with `Retry-After`).
#![warn(missing_docs)]

use std::sync::Arc;

use actix_web::web;
use futures::future::BoxFuture;
use pas_domain::service::{
    AuditService, CatalogService, DirectoryService, ErasureService, MessageService, OutboxService,
    ProcessService, WebhookService,
};
use time::{Date, OffsetDateTime};

pub mod authn;
pub mod caller;
mod fallback;
mod logging;
pub mod metrics;
pub mod network;
mod openapi;
pub mod params;
pub mod precondition;
pub mod problem;
mod routes;
pub mod throttle;
pub mod wire;

pub use network::NetworkSettings;
pub use openapi::openapi;
pub use throttle::AuthThrottle;

/// Where the API lives.
pub const BASE_PATH: &str = "/api/v1";

/// Tells whether the service can serve requests (the database is reachable): `GET /ready`.
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// Everything the handlers need: the use cases and a few settings.
#[derive(Clone)]
pub struct ApiState {
    /// Signing-process use cases.
    pub processes: ProcessService,
    /// Document profiles and attributes.
    pub catalog: CatalogService,
    /// Contacts and templates.
    pub directory: DirectoryService,
    /// The audit log.
    pub audit: AuditService,
    /// A person's erasure.
    pub erasure: ErasureService,
    /// Test emails and subjects (the mail adapter behind the `Mailer` port).
    pub messages: MessageService,
    /// Outbox administration.
    pub outbox: OutboxService,
    /// Webhook subscriptions.
    pub webhooks: WebhookService,
    /// What `sendReminders` needs besides the clock.
    pub reminders: ReminderSettings,
    /// Request limits.
    pub limits: Limits,
    /// Trusted proxies (`TRUSTED_PROXIES`): where the client address comes from.
    pub network: NetworkSettings,
    /// The limiter of failed portal authorizations (`AUTH_FAILURES_PER_MINUTE`); its clones
    /// share one count, so build it once per instance.
    pub auth_throttle: AuthThrottle,
    /// `GET /ready`.
    pub readiness: ReadinessCheck,
    /// Who a request is (`AUTH_MODE`): the middleware around the API reads it.
    pub authenticator: authn::Authenticator,
}

/// Reminder settings (`REMINDER_DAYS_BEFORE_DUE`, `APP_TIMEZONE`).
#[derive(Clone)]
pub struct ReminderSettings {
    /// Offsets before a step's due date on which a reminder goes out.
    pub days_before_due: Vec<u32>,
    /// The calendar date of an instant in the service's time zone.
    pub local_date: Arc<dyn Fn(OffsetDateTime) -> Date + Send + Sync>,
}

impl ReminderSettings {
    /// Reminders judged on UTC calendar days.
    pub fn utc(days_before_due: Vec<u32>) -> Self {
        Self {
            days_before_due,
            local_date: Arc::new(|t: OffsetDateTime| t.to_offset(time::UtcOffset::UTC).date()),
        }
    }
}

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body; a larger one is a 413.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    /// 1 MiB.
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// A readiness check that always answers "ready" (for embedders without a database).
pub fn always_ready() -> ReadinessCheck {
    Arc::new(|| Box::pin(async { true }))
}

/// Registers the whole HTTP surface on an app: `App::new().configure(pas_http::configure(state))`.
///
/// Call it once per worker (inside the `HttpServer::new` factory). The OpenAPI document, and
/// the routing tables derived from it, are built on the first call and shared by every
/// worker after it.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        let published = openapi::published();
        let limits = state.limits;
        cfg.app_data(web::Data::new(state.authenticator.clone()))
            .app_data(web::Data::new(state))
            .app_data(published.known.clone())
            .app_data(published.operations.clone());
        routes::register_base_probes(cfg);
        {
            let mut ucfg = utoipa_actix_web::service_config::ServiceConfig::new(cfg);
            routes::register_root(&mut ucfg);
            ucfg.service(routes::api_scope(limits));
        }
        openapi::register_docs(cfg);
        cfg.default_service(web::to(fallback::unmatched));
    }
}
