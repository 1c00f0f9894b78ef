//! Prometheus text at `/metrics` (PRODUCT.md section 13): the families, their known label
//! values, the process-wide recorder, the request counter middleware and the endpoint.
//!
//! Counting happens where the facts are: this crate counts requests (by route template,
//! never the raw path) and failed authentications; `pas-persistence` counts audit rows
//! appended; `pas-smtp` counts emails sent and rows given up. Gauges that live in the
//! database or the pool are set by the app's [`GaugeSampler`] when `/metrics` is scraped.
//!
//! No label holds personal data: routes are templates (or `(unmatched)`), the other labels
//! take values from the fixed lists below.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::logging::route_of;

/// `http_requests_total{method,route,status}`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// `http_request_duration_seconds{route}` (histogram).
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
/// `db_pool_connections{state}`: `idle`, `active`, `max`.
pub const DB_POOL: &str = "db_pool_connections";
/// `outbox_pending{channel}`.
pub const OUTBOX_PENDING: &str = "outbox_pending";
/// `outbox_oldest_pending_seconds{channel}`.
pub const OUTBOX_OLDEST: &str = "outbox_oldest_pending_seconds";
/// `outbox_failed_total{channel}` (counted by `pas-smtp`).
pub const OUTBOX_FAILED: &str = "outbox_failed_total";
/// `emails_sent_total` (counted by `pas-smtp`).
pub const EMAILS_SENT: &str = "emails_sent_total";
/// `webhook_deliveries_total{result}`: attempts to deliver a webhook row, `delivered` (2xx)
/// or `failed` (anything else, a target refused by the policy included).
pub const WEBHOOK_DELIVERIES: &str = "webhook_deliveries_total";
/// `auth_failures_total{reason}`.
pub const AUTH_FAILURES: &str = "auth_failures_total";
/// `audit_events_total` (counted by `pas-persistence`, rows appended).
pub const AUDIT_EVENTS: &str = "audit_events_total";
/// `db_read_fallbacks_total`: reads meant for the replica that went to the primary.
pub const DB_READ_FALLBACKS: &str = "db_read_fallbacks_total";

/// The outbox channels (`channel` label).
pub const CHANNELS: &[&str] = &["email", "webhook"];
/// The pool states (`state` label of [`DB_POOL`]).
pub const POOL_STATES: &[&str] = &["idle", "active", "max"];
/// The webhook results (`result` label).
pub const WEBHOOK_RESULTS: &[&str] = &["delivered", "failed"];

/// Why an authentication or portal authorization failed (`reason` label of
/// [`AUTH_FAILURES`]): only what the code can tell apart, never who.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No bearer token where one is needed (401).
    MissingToken,
    /// A bearer value that is not a valid token (401).
    InvalidToken,
    /// A portal authorization whose personal code did not match the entry (403).
    IdentityMismatch,
    /// A portal authorization refused by the failed-attempt limit (429).
    Throttled,
}

impl AuthFailure {
    /// Every reason, pre-registered at zero.
    pub const ALL: [AuthFailure; 4] = [
        Self::MissingToken,
        Self::InvalidToken,
        Self::IdentityMismatch,
        Self::Throttled,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::IdentityMismatch => "identity_mismatch",
            Self::Throttled => "throttled",
        }
    }
}

/// Counts one failed authentication or authorization.
pub fn auth_failed(reason: AuthFailure) {
    metrics::counter!(AUTH_FAILURES, "reason" => reason.as_str()).increment(1);
}

/// The upper bounds of the request duration buckets, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The path of the endpoint (outside `/api/v1`, like `/health`).
pub const METRICS_PATH: &str = "/metrics";

/// Why the recorder could not be installed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetricsError {
    /// Another `metrics` recorder was installed in this process first (by an embedder).
    #[error("another metrics recorder is installed in this process; /metrics cannot be served")]
    OtherRecorder,
    /// The histogram buckets were refused (a programming error).
    #[error("the Prometheus recorder cannot be built: {0}")]
    Build(String),
}

/// The process-wide recorder's handle. The `metrics` facade has one global recorder, so
/// every instance of the service in a process (the end-to-end tests start several) counts
/// into the same families; a deployment runs one instance per process.
static RECORDER: OnceLock<Result<PrometheusHandle, MetricsError>> = OnceLock::new();

/// Installs the Prometheus recorder once per process (later calls answer the same handle)
/// and registers every family with its known label values at zero, so that a scrape shows
/// all of them from the start.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), DURATION_BUCKETS)
                .map_err(|e| MetricsError::Build(e.to_string()))?
                .install_recorder()
                .map_err(|e| match e {
                    BuildError::FailedToSetGlobalRecorder(_) => MetricsError::OtherRecorder,
                    other => MetricsError::Build(other.to_string()),
                })?;
            register_families();
            Ok(handle)
        })
        .clone()
}

/// Descriptions and zero series of every family.
fn register_families() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template");
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route template"
    );
    describe_gauge!(DB_POOL, "Database pool connections (idle, active, max)");
    describe_gauge!(OUTBOX_PENDING, "Outbox rows waiting to be delivered");
    describe_gauge!(
        OUTBOX_OLDEST,
        metrics::Unit::Seconds,
        "Age of the oldest pending outbox row since it was queued"
    );
    describe_counter!(OUTBOX_FAILED, "Outbox rows given up");
    describe_counter!(EMAILS_SENT, "Emails handed to the SMTP server or MAIL_DIR");
    describe_counter!(WEBHOOK_DELIVERIES, "Webhook delivery attempts by result");
    describe_counter!(
        AUTH_FAILURES,
        "Failed authentications and portal authorizations"
    );
    describe_counter!(AUDIT_EVENTS, "Audit rows appended");
    describe_counter!(
        DB_READ_FALLBACKS,
        "Reads meant for the read replica served by the primary"
    );
    // The scrape itself is the first request counted; its series exist before it ends.
    metrics::counter!(HTTP_REQUESTS, "method" => "GET", "route" => METRICS_PATH, "status" => "200")
        .absolute(0);
    // A registered histogram renders with empty buckets until its first observation.
    let _ = metrics::histogram!(HTTP_DURATION, "route" => METRICS_PATH);
    for state in POOL_STATES {
        metrics::gauge!(DB_POOL, "state" => *state).set(0.0);
    }
    for channel in CHANNELS {
        metrics::gauge!(OUTBOX_PENDING, "channel" => *channel).set(0.0);
        metrics::gauge!(OUTBOX_OLDEST, "channel" => *channel).set(0.0);
        metrics::counter!(OUTBOX_FAILED, "channel" => *channel).absolute(0);
    }
    metrics::counter!(EMAILS_SENT).absolute(0);
    for result in WEBHOOK_RESULTS {
        metrics::counter!(WEBHOOK_DELIVERIES, "result" => *result).absolute(0);
    }
    for reason in AuthFailure::ALL {
        metrics::counter!(AUTH_FAILURES, "reason" => reason.as_str()).absolute(0);
    }
    metrics::counter!(AUDIT_EVENTS).absolute(0);
    metrics::counter!(DB_READ_FALLBACKS).absolute(0);
}

/// Sets the gauges that live outside this process's counters (the database's outbox, the
/// pool, the replica fallbacks) just before a scrape renders. It must not fail: when the
/// database does not answer, it leaves the last values.
pub type GaugeSampler = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// What `/metrics` needs: the recorder's handle and the sampler.
#[derive(Clone)]
pub struct MetricsExport {
    handle: PrometheusHandle,
    sample: GaugeSampler,
}

impl MetricsExport {
    /// The export of `handle` (from [`install`]), sampling gauges with `sample`.
    pub fn new(handle: PrometheusHandle, sample: GaugeSampler) -> Self {
        Self { handle, sample }
    }

    /// The Prometheus text: gauges sampled, histograms drained, everything rendered.
    pub async fn render(&self) -> String {
        (self.sample)().await;
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Registers `GET /metrics` (no token: it holds no personal data; see docs/DECISIONS.md).
pub fn configure(export: MetricsExport) -> impl FnOnce(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(export))
            .route(METRICS_PATH, web::get().to(scrape));
    }
}

async fn scrape(export: web::Data<MetricsExport>) -> HttpResponse {
    let text = export.render().await;
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(text)
}

/// The label of a status code: its three digits (owned label values would allocate on
/// every request, so the words are made once).
fn status_label(status: u16) -> &'static str {
    static CODES: OnceLock<Vec<String>> = OnceLock::new();
    let codes = CODES.get_or_init(|| (0..600).map(|c| c.to_string()).collect());
    codes
        .get(usize::from(status))
        .map_or("other", String::as_str)
}

/// Middleware around a whole app: counts each request in [`HTTP_REQUESTS`] and
/// [`HTTP_DURATION`] by method, route template (`(unmatched)` when none matches) and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = route_of(req.request());
    let result = next
        .call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body);
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let status = status_label(status.as_u16());
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route).record(started.elapsed().as_secs_f64());
    result
}

/// The method's name when it is a standard one, else `other` (a method is client text).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    const STANDARD: &[&str] = &[
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
    ];
    STANDARD
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_fixed_words() {
        assert_eq!(status_label(404), "404");
        assert_eq!(status_label(999), "other");
        let odd = actix_web::http::Method::from_bytes(b"16117519997").expect("a method");
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&actix_web::http::Method::GET), "GET");
        assert_eq!(crate::logging::UNMATCHED, "(unmatched)");
    }
}
