//! A real SMTP server on loopback for tests (mailin-embedded on its own threads): it keeps
//! every message it accepts, can answer 421 to the next few, can refuse (4xx), reject (5xx),
//! hang or answer slowly ([`Behaviour`]), and decodes what tests read.
//! The one server of the smtp adapter's tests and the end-to-end tests (each includes this
//! file by path and uses a part of it, hence the allowance).

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mailin_embedded::{Handler, Response, Server, SslConfig, response};

/// How long a test waits for emails before it fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// One message the server accepted (or rejected at the end of DATA).
#[derive(Debug, Clone)]
pub struct Mail {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The raw message (headers and body).
    pub data: String,
}

impl Mail {
    /// The first header `name`, unfolded, as sent.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// `Message-ID`.
    pub fn message_id(&self) -> String {
        self.header("Message-ID")
            .expect("every email has a Message-ID")
    }

    /// The outbox row id: the `Message-ID` without its host (`<{row id}@{MAIL_FROM host}>`).
    pub fn row_id(&self) -> String {
        let id = self.message_id();
        let id = id.trim_start_matches('<');
        id.split('@').next().unwrap_or_default().to_owned()
    }

    /// The host part of the `Message-ID`.
    pub fn message_id_host(&self) -> String {
        let id = self.message_id();
        id.trim_end_matches('>')
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// The subject, RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject").unwrap_or_default())
    }

    /// The single envelope recipient.
    pub fn rcpt(&self) -> &str {
        assert_eq!(self.to.len(), 1, "one recipient per email: {:?}", self.to);
        &self.to[0]
    }

    /// The body with quoted-printable soft line breaks removed (enough to find a link).
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        body.replace("=\r\n", "")
    }
}

/// Decodes `=?charset?B?…?=` and `=?charset?Q?…?=` words (UTF-8 only); whitespace between
/// two encoded words is dropped, as RFC 2047 says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in value.split_whitespace().enumerate() {
        let decoded = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut parts = w.splitn(3, '?');
                let (_charset, enc, text) = (parts.next()?, parts.next()?, parts.next()?);
                let bytes = match enc {
                    "b" | "B" => base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .ok()?,
                    "q" | "Q" => decode_q(text)?,
                    _ => return None,
                };
                String::from_utf8(bytes).ok()
            });
        if i > 0 && !(last_encoded && decoded.is_some()) {
            out.push(' ');
        }
        last_encoded = decoded.is_some();
        out.push_str(decoded.as_deref().unwrap_or(word));
    }
    out
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// How the server answers from now on ([`SmtpServer::behave`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accepts every message (addresses with `bounce` excepted).
    Accept,
    /// Refuses every recipient with 451 (temporary).
    Refuse,
    /// Rejects every recipient with 550 (permanent).
    Reject,
    /// Takes the message, then does not answer its end of DATA for as long as this lasts;
    /// then answers 421 and files it under [`SmtpServer::rejected`] (the client gave up).
    Hang,
    /// Answers each recipient (RCPT) after this long, then accepts: a client cut off
    /// meanwhile has not handed its message over.
    Slow(Duration),
}

#[derive(Clone)]
struct Collector {
    accepted: Arc<Mutex<Vec<Mail>>>,
    rejected: Arc<Mutex<Vec<Mail>>>,
    reject_next: Arc<AtomicUsize>,
    behaviour: Arc<Mutex<Behaviour>>,
    refused: Arc<AtomicUsize>,
    current: Option<Mail>,
}

impl Collector {
    fn behaviour(&self) -> Behaviour {
        *self.behaviour.lock().unwrap()
    }
}

impl Handler for Collector {
    fn rcpt(&mut self, to: &str) -> Response {
        match self.behaviour() {
            Behaviour::Refuse => {
                self.refused.fetch_add(1, Ordering::SeqCst);
                response::INTERNAL_ERROR
            }
            Behaviour::Reject => {
                self.refused.fetch_add(1, Ordering::SeqCst);
                response::NO_MAILBOX
            }
            _ if to.contains("bounce") => response::NO_MAILBOX,
            Behaviour::Slow(delay) => {
                std::thread::sleep(delay);
                response::OK
            }
            _ => response::OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Mail {
            from: from.to_owned(),
            to: to.to_vec(),
            data: String::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let Some(message) = self.current.take() else {
            return response::OK;
        };
        if self.behaviour() == Behaviour::Hang {
            while self.behaviour() == Behaviour::Hang {
                std::thread::sleep(Duration::from_millis(10));
            }
            self.rejected.lock().unwrap().push(message);
            return response::NO_SERVICE;
        }
        let reject = self
            .reject_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if reject {
            self.rejected.lock().unwrap().push(message);
            // 421 (temporary, closing): mailin stays in its DATA state after other errors
            // at the end of DATA and then ignores the client's QUIT.
            response::NO_SERVICE
        } else {
            self.accepted.lock().unwrap().push(message);
            response::OK
        }
    }
}

/// A real SMTP server on 127.0.0.1, running on its own threads for the rest of the test
/// binary.
pub struct SmtpServer {
    pub addr: SocketAddr,
    accepted: Arc<Mutex<Vec<Mail>>>,
    rejected: Arc<Mutex<Vec<Mail>>>,
    reject_next: Arc<AtomicUsize>,
    behaviour: Arc<Mutex<Behaviour>>,
    refused: Arc<AtomicUsize>,
}

impl SmtpServer {
    /// On a free port.
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    /// On a given port (a server that "comes back" where a closed port was).
    pub fn start_on_port(port: u16) -> Self {
        Self::start_on(TcpListener::bind(("127.0.0.1", port)).expect("bind the freed port"))
    }

    fn start_on(listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let collector = Collector {
            accepted: Arc::default(),
            rejected: Arc::default(),
            reject_next: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            refused: Arc::default(),
            current: None,
        };
        let server = Self {
            addr,
            accepted: collector.accepted.clone(),
            rejected: collector.rejected.clone(),
            reject_next: collector.reject_next.clone(),
            behaviour: collector.behaviour.clone(),
            refused: collector.refused.clone(),
        };
        std::thread::spawn(move || {
            let mut smtp = Server::new(collector);
            smtp.with_name("mx.test")
                .with_ssl(SslConfig::None)
                .expect("no TLS")
                // Hanging sessions hold a thread each.
                .with_num_threads(16)
                .with_tcp_listener(listener);
            let _ = smtp.serve();
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Answer 421 (temporary) at the end of the next `n` messages.
    pub fn reject_next(&self, n: usize) {
        self.reject_next.store(n, Ordering::SeqCst);
    }

    /// Answers as `behaviour` says from now on (a hanging session is let go when this
    /// changes).
    pub fn behave(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// Recipients refused (4xx) or rejected (5xx) by [`Behaviour::Refuse`] / [`Behaviour::Reject`].
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Mail> {
        self.accepted.lock().unwrap().clone()
    }

    pub fn rejected(&self) -> Vec<Mail> {
        self.rejected.lock().unwrap().clone()
    }

    /// Waits up to 5 s for at least `n` accepted messages.
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..500 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.received()
    }

    /// Everything accepted so far, in arrival order.
    pub fn inbox(&self) -> Vec<Mail> {
        self.accepted.lock().expect("inbox lock").clone()
    }

    /// The emails to `address` so far.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.inbox()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Polls the inbox until `done` holds (fails after [`DEADLINE`], listing the inbox).
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let inbox = self.inbox();
            if done(&inbox) {
                return inbox;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {what} within {DEADLINE:?}; inbox: {:#?}",
                summary(&inbox)
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for at least `n` emails to `address` and answers them.
    pub async fn wait_to(&self, address: &str, n: usize) -> Vec<Mail> {
        self.wait_until(&format!("{n} email(s) to {address}"), |inbox| {
            inbox
                .iter()
                .filter(|m| m.to.iter().any(|t| t == address))
                .count()
                >= n
        })
        .await;
        self.to(address)
    }
}

/// `(recipient, subject)` of each email, for assertion messages.
pub fn summary(inbox: &[Mail]) -> Vec<(String, String)> {
    inbox
        .iter()
        .map(|m| (m.to.join(","), m.subject()))
        .collect()
}

/// A port nothing listens on (bound, then freed).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
