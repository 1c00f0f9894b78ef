//! A loopback HTTP(S) target for the sender's tests: records each request as it arrived
//! (raw header names and values, body, TLS server name) and answers as the test says.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pas_domain::webhook::{CheckedTarget, WebhookRequest};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as the target received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The TLS server name the client asked for (HTTPS targets).
    pub server_name: Option<String>,
}

impl Received {
    /// The value of header `name` (case-insensitive), when sent once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next();
        assert!(values.next().is_none(), "header {name} sent more than once");
        first
    }
}

/// How the target answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Wait this long before answering at all.
    pub delay: Duration,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes, with their `content-length`.
    Fixed(Vec<u8>),
    /// `x` for ever (no length: until the client hangs up).
    Endless,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: Body::Fixed(vec![]),
            delay: Duration::ZERO,
        }
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Fixed(body.into());
        self
    }

    pub fn endless(mut self) -> Self {
        self.body = Body::Endless;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A target listening on 127.0.0.1 (a random port), answering every request with `reply`.
pub struct Target {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Target {
    /// A plain HTTP target.
    pub async fn http(reply: Reply) -> Self {
        Self::start(reply, None).await
    }

    /// An HTTPS target presenting the fixture certificate of `pinned.invalid` (signed by
    /// the fixture CA `tests/fixtures/ca.pem`).
    pub async fn https(reply: Reply) -> Self {
        Self::start(reply, Some(acceptor())).await
    }

    async fn start(reply: Reply, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (reply, log, tls) = (reply.clone(), log.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(stream, None, reply, log).await,
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let name = stream.get_ref().1.server_name().map(str::to_owned);
                            serve(stream, name, reply, log).await;
                        }
                    }
                });
            }
        });
        Self {
            address,
            received,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    server_name: Option<String>,
    reply: Reply,
    log: Arc<Mutex<Vec<Received>>>,
) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    log.lock().unwrap().push(Received {
        method,
        path,
        headers,
        body,
        server_name,
    });

    tokio::time::sleep(reply.delay).await;
    let mut head = format!("HTTP/1.1 {} Test\r\nconnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &reply.body {
        Body::Fixed(bytes) => {
            head.push_str(&format!("content-length: {}\r\n\r\n", bytes.len()));
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(bytes).await;
        }
        Body::Endless => {
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 16 * 1024];
            // Until the client hangs up (or 1 GiB, far more than any test waits for).
            for _ in 0..65_536 {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(include_bytes!("../fixtures/leaf.pem"))
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("../fixtures/leaf.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The fixture CA that signed the HTTPS target's certificate.
pub const CA_PEM: &[u8] = include_bytes!("../fixtures/ca.pem");

/// A signed-looking request to `url`, to be connected to `address`.
pub fn request(url: &str, address: SocketAddr) -> WebhookRequest {
    WebhookRequest {
        target: CheckedTarget {
            url: reqwest::Url::parse(url).unwrap(),
            address,
        },
        id: "0190b5a4-7d4e-7c1a-9a61-0f4d2b8e7c15".into(),
        timestamp: 1_772_438_400,
        signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into(),
        body: r#"{"type":"PROCESS_COMPLETED","timestamp":"2026-03-02T08:00:00Z","data":{"processId":"p-1"}}"#.into(),
    }
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    address
}
