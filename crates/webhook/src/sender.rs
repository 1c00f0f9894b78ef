//! [`HttpSender`]: one signed `POST` to the address the domain checked.

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pas_domain::ports::WebhookSender;
use pas_domain::webhook::{ANSWER_BYTES, TIMEOUT, WebhookAnswer, WebhookRequest, cut_answer};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::redirect::Policy;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// The `user-agent` of every delivery: the service and its version.
pub const USER_AGENT: &str = concat!(
    "process-and-auditing-service/",
    env!("CARGO_PKG_VERSION"),
    " (webhooks)"
);

/// Why [`HttpSender::with_root_certificates`] refused its certificates.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// rustls refused a certificate.
    #[error("webhook TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The PEM text given to [`HttpSender::with_root_certificates`] holds no usable
    /// certificate.
    #[error("webhook root certificates: {0}")]
    Roots(String),
}

/// The [`WebhookSender`] over HTTP(S) (PRODUCT.md section 12).
///
/// Each delivery gets a client of its own whose only "resolver" answers the address in
/// [`WebhookRequest::target`], the one the domain resolved and checked: the host is never
/// looked up again (no DNS rebinding between the check and the connection), no proxy from
/// the environment is used, and no connection is kept for another delivery. The URL's host
/// stays the `Host` header and the TLS server name. What is shared between deliveries is
/// the TLS configuration (rustls with ring, the webpki roots, HTTP/1.1), built once.
///
/// A delivery: `POST` of the body with `content-type: application/json`, `webhook-id`,
/// `webhook-timestamp`, `webhook-signature` and [`USER_AGENT`]. Redirects are not followed
/// (a 3xx is an answer like any other that is not 2xx). Connecting, sending and reading
/// the answer's status and headers must end within the timeout given to
/// [`HttpSender::new`] ([`TIMEOUT`] by default); the answer's body is read within the
/// same deadline, and only its first [`ANSWER_BYTES`] (the rest is never read), as lossy
/// UTF-8 (`None` when the body is empty; what came when the deadline or the connection cut
/// it short: the status came in time). Whatever fails before a status comes (refused,
/// timed out, TLS) is a short text in [`WebhookAnswer::error`], with no status; it never
/// holds the URL (whose path or query may carry a subscriber's token).
#[derive(Clone)]
pub struct HttpSender {
    tls: rustls::ClientConfig,
    timeout: Duration,
}

impl std::fmt::Debug for HttpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSender")
            .field("timeout", &self.timeout)
            .field("user_agent", &USER_AGENT)
            .finish_non_exhaustive()
    }
}

impl Default for HttpSender {
    /// [`HttpSender::new`] with the [`TIMEOUT`] of PRODUCT.md section 12 (10 s).
    fn default() -> Self {
        Self::new(TIMEOUT)
    }
}

impl HttpSender {
    /// A sender trusting the webpki roots (as reqwest's `rustls-tls` does), bounding each
    /// attempt by `timeout`: `WEBHOOK_TIMEOUT_MS`, [`TIMEOUT`] (10 s) unless tests shorten
    /// it.
    pub fn new(timeout: Duration) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self {
            tls: tls_config(roots),
            timeout,
        }
    }

    /// The bound on each attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The same sender trusting exactly the CA certificates of `pem` (one or more
    /// `CERTIFICATE` blocks) instead of the webpki roots: targets behind a private CA, and
    /// tests.
    pub fn with_root_certificates(mut self, pem: &[u8]) -> Result<Self, SenderError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| SenderError::Roots(e.to_string()))?;
            roots.add(cert)?;
        }
        if roots.is_empty() {
            return Err(SenderError::Roots("no certificate in the PEM text".into()));
        }
        self.tls = tls_config(roots);
        Ok(self)
    }

    /// The client of one delivery: pinned to the checked address, no redirects, no proxy,
    /// no pooled connection.
    fn client(&self, request: &WebhookRequest) -> Result<reqwest::Client, reqwest::Error> {
        let pinned = Pinned {
            host: request.target.url.host_str().unwrap_or_default().to_owned(),
            address: request.target.address,
        };
        reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .dns_resolver(Arc::new(pinned))
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .pool_max_idle_per_host(0)
            .user_agent(USER_AGENT)
            .build()
    }

    async fn exchange(&self, request: &WebhookRequest) -> Exchange {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let client = match self.client(request) {
            Ok(client) => client,
            Err(e) => return Exchange::failed(describe(e.without_url(), self.timeout)),
        };
        let send = client
            .post(request.target.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", &request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", &request.signature)
            .body(request.body.clone())
            .send();
        let mut response = match tokio::time::timeout_at(deadline, send).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Exchange::failed(describe(e.without_url(), self.timeout)),
            Err(_) => return Exchange::failed(timed_out(self.timeout)),
        };
        let status = response.status().as_u16();
        // The first ANSWER_BYTES of the body, within the same deadline; the rest is never
        // read (dropping the response closes the connection). A body cut short by the
        // deadline or the connection keeps what came: the status came in time.
        let expected = response.content_length().unwrap_or(0);
        let mut head = Vec::with_capacity(
            usize::try_from(expected).map_or(ANSWER_BYTES, |n| n.min(ANSWER_BYTES)),
        );
        while head.len() < ANSWER_BYTES {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let room = ANSWER_BYTES - head.len();
                    head.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => break,
            }
        }
        drop(response);
        Exchange {
            status: Some(status),
            body: (!head.is_empty()).then(|| cut_answer(&head)),
            error: None,
        }
    }
}

/// What one exchange gave, before its duration is known.
struct Exchange {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
}

impl Exchange {
    fn failed(error: String) -> Self {
        Self {
            status: None,
            body: None,
            error: Some(error),
        }
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn send(&self, request: &WebhookRequest) -> WebhookAnswer {
        let started = Instant::now();
        let exchange = self.exchange(request).await;
        let answer = WebhookAnswer {
            status: exchange.status,
            duration: started.elapsed(),
            body: exchange.body,
            error: exchange.error,
        };
        // Never the URL: a target's path or query may carry a token of the subscriber's.
        tracing::debug!(
            webhook_id = %request.id,
            status = answer.status,
            duration_ms = u64::try_from(answer.duration.as_millis()).unwrap_or(u64::MAX),
            error = answer.error.as_deref(),
            "webhook request"
        );
        answer
    }
}

/// The TLS configuration every delivery shares: ring (explicitly: no process-wide default
/// is needed, whatever other crypto backend the build links), the safe default protocol
/// versions, `roots`, no client certificate, HTTP/1.1 by ALPN.
fn tls_config(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // ring's default provider has cipher suites of TLS 1.2 and 1.3: this cannot fail.
    let Ok(builder) =
        rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()
    else {
        unreachable!("ring's default provider supports the default TLS versions")
    };
    let mut config = builder.with_root_certificates(roots).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The resolver of one delivery's client: the URL's host is the checked address, and no
/// other name resolves (nothing else is ever asked for: no proxy, no redirect).
struct Pinned {
    host: String,
    address: SocketAddr,
}

impl Resolve for Pinned {
    fn resolve(&self, name: Name) -> Resolving {
        let asked = name.as_str().trim_end_matches('.');
        let result: Result<Addrs, Box<dyn StdError + Send + Sync>> =
            if asked.eq_ignore_ascii_case(self.host.trim_end_matches('.')) {
                Ok(Box::new(std::iter::once(self.address)))
            } else {
                Err("no address was checked for this host".into())
            };
        Box::pin(std::future::ready(result))
    }
}

fn timed_out(timeout: Duration) -> String {
    format!("no answer within {} ms", timeout.as_millis())
}

/// A short text of why a request failed: what kind of failure, then the innermost cause
/// (an OS error, a TLS alert, an HTTP parse error), never reqwest's outer text (which
/// names the URL, and a URL may carry a token).
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return timed_out(timeout);
    }
    let mut tls: Option<String> = None;
    let mut io_kind: Option<io::ErrorKind> = None;
    let mut innermost = error.to_string();
    let mut current: Option<&(dyn StdError + 'static)> = Some(&error);
    while let Some(e) = current {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            tls.get_or_insert_with(|| t.to_string());
        }
        innermost = e.to_string();
        current = match e.downcast_ref::<io::Error>() {
            Some(io_error) => {
                io_kind = Some(io_error.kind());
                // An I/O error wrapping another error (hyper-rustls wraps tokio-rustls's,
                // which wraps rustls's) does not name it as its `source`: look inside.
                match io_error.get_ref() {
                    Some(inner) => Some(inner as &(dyn StdError + 'static)),
                    None => e.source(),
                }
            }
            None => e.source(),
        };
    }
    if let Some(tls) = tls {
        return format!("TLS failed: {tls}");
    }
    match io_kind {
        Some(io::ErrorKind::ConnectionRefused) => return "connection refused".into(),
        Some(io::ErrorKind::TimedOut) => return timed_out(timeout),
        Some(
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof,
        ) => return format!("connection closed by the target: {innermost}"),
        _ => {}
    }
    if error.is_connect() {
        format!("cannot connect: {innermost}")
    } else if error.is_builder() {
        format!("invalid request: {innermost}")
    } else {
        format!("request failed: {innermost}")
    }
}
