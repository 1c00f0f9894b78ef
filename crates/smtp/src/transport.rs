//! Where emails go: an SMTP server (`SMTP_URL`) or `.eml` files in `MAIL_DIR`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long connecting to the SMTP server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one whole SMTP delivery may take before the attempt fails (and is retried
/// later), unless [`Transport::with_send_deadline`] sets another. `lettre`'s own timeout
/// covers only connecting, not a server that stops answering.
pub const SEND_DEADLINE: Duration = Duration::from_secs(120);

/// Why a transport could not be built or an email not be delivered. The text never
/// contains the SMTP password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// `SMTP_URL` is not usable.
    #[error("invalid SMTP_URL: {0}")]
    Config(String),
    /// `MAIL_DIR` could not be created.
    #[error("cannot create MAIL_DIR {dir}: {message}")]
    MailDir {
        /// The directory.
        dir: String,
        /// Why.
        message: String,
    },
    /// The SMTP exchange failed.
    #[error("SMTP delivery failed: {message}")]
    Smtp {
        /// What the client or the server said.
        message: String,
        /// The server answered with a permanent (5xx) error: retrying will not help.
        permanent: bool,
    },
    /// Writing the `.eml` file failed.
    #[error("writing the email file failed: {0}")]
    File(String),
}

impl TransportError {
    /// Retrying the same email will fail the same way (an SMTP 5xx answer).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Smtp {
                permanent: true,
                ..
            }
        )
    }
}

enum Inner {
    Smtp {
        builder: Box<AsyncSmtpTransportBuilder>,
        /// Built on the first send: `lettre`'s connection pool spawns a Tokio task when it
        /// is built (and when it is dropped), so it must live inside the runtime.
        transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
        endpoint: String,
        secrets: Vec<String>,
        deadline: Duration,
    },
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

/// The mail transport: SMTP through `lettre`'s pooled async client, or `.eml` files.
///
/// Can be built outside the Tokio runtime (configuration checks at start); sending needs
/// the runtime.
pub struct Transport(Inner);

impl Drop for Transport {
    fn drop(&mut self) {
        // Dropping a used SMTP pool spawns a clean-up task; outside a runtime that would
        // panic, so the pool is left to the end of the process instead.
        if let Inner::Smtp { transport, .. } = &mut self.0 {
            if tokio::runtime::Handle::try_current().is_err() {
                if let Some(pool) = transport.take() {
                    std::mem::forget(pool);
                }
            }
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Transport({})", self.describe())
    }
}

impl Transport {
    /// `SMTP_URL` when set, else `.eml` files in `mail_dir` (created if missing).
    pub fn from_config(smtp_url: Option<&str>, mail_dir: &Path) -> Result<Self, TransportError> {
        match smtp_url {
            Some(url) => Self::smtp(url),
            None => Self::file(mail_dir),
        }
    }

    /// An SMTP transport from a URL as `lettre` reads it: `smtp://user:pass@host:port`
    /// (plain), `smtp://…?tls=required` (STARTTLS), `smtps://…` (TLS). Connects lazily: a
    /// server that is down fails the send, not this call.
    pub fn smtp(url: &str) -> Result<Self, TransportError> {
        let secrets = password_forms(url);
        let redact = |text: String| redact(text, &secrets);
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| TransportError::Config(redact(error_text(&e))))?;
        Ok(Self(Inner::Smtp {
            // A fresh connection per email: a pooled connection left behind by an attempt
            // cut off at the deadline could hang every later attempt.
            builder: Box::new(
                builder
                    .timeout(Some(CONNECT_TIMEOUT))
                    .pool_config(PoolConfig::new().max_size(0)),
            ),
            transport: OnceLock::new(),
            endpoint: redact_url(url),
            secrets,
            deadline: SEND_DEADLINE,
        }))
    }

    /// The same transport with another deadline for one whole SMTP delivery (default
    /// `SEND_DEADLINE`, 120 s); no effect on `.eml` files.
    #[must_use]
    pub fn with_send_deadline(mut self, limit: Duration) -> Self {
        if let Inner::Smtp { deadline, .. } = &mut self.0 {
            *deadline = limit;
        }
        self
    }

    /// Writes every email as `<uuid>.eml` into `dir`, creating it first.
    pub fn file(dir: &Path) -> Result<Self, TransportError> {
        std::fs::create_dir_all(dir).map_err(|e| TransportError::MailDir {
            dir: dir.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Self(Inner::File {
            transport: AsyncFileTransport::<Tokio1Executor>::new(dir),
            dir: dir.to_path_buf(),
        }))
    }

    /// Where emails go, for logs: the SMTP URL without its password, or the directory.
    pub fn describe(&self) -> String {
        match &self.0 {
            Inner::Smtp { endpoint, .. } => endpoint.clone(),
            Inner::File { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers one message.
    pub async fn send(&self, message: Message) -> Result<(), TransportError> {
        match &self.0 {
            Inner::Smtp {
                builder,
                transport,
                secrets,
                deadline,
                ..
            } => {
                let transport = transport.get_or_init(|| (**builder).clone().build());
                match tokio::time::timeout(*deadline, transport.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(TransportError::Smtp {
                        message: redact(error_text(&e), secrets),
                        permanent: e.is_permanent(),
                    }),
                    Err(_) => Err(TransportError::Smtp {
                        message: format!(
                            "no answer from the server within {} ms",
                            deadline.as_millis()
                        ),
                        permanent: false,
                    }),
                }
            }
            Inner::File { transport, .. } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| TransportError::File(error_text(&e))),
        }
    }
}

/// The error and its sources on one line.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The password of a URL as written and percent-decoded (empty when there is none).
fn password_forms(url: &str) -> Vec<String> {
    let Some(password) = userinfo(url)
        .and_then(|u| u.split_once(':'))
        .map(|(_, p)| p)
    else {
        return Vec::new();
    };
    let mut forms = vec![password.to_owned(), percent_decode(password)];
    forms.retain(|p| !p.is_empty());
    forms.dedup();
    forms
}

/// The `user:pass` part of `scheme://user:pass@host…`.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit_once('@').map(|(userinfo, _)| userinfo)
}

/// `smtp://user:***@host:port…`.
fn redact_url(url: &str) -> String {
    match userinfo(url).and_then(|u| u.split_once(':')) {
        Some((user, _)) => {
            let host = url
                .split_once("://")
                .map_or(url, |(_, r)| r)
                .split_once('@')
                .map_or("", |(_, h)| h);
            let scheme = url.split_once("://").map_or("smtp", |(s, _)| s);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

fn redact(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        text = text.replace(secret.as_str(), "***");
    }
    text
}

/// `raw` with its `%XX` escapes decoded (invalid UTF-8 replaced).
fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_found_as_written_and_decoded() {
        assert_eq!(
            password_forms("smtp://mailer:s%40cret@mail.example.lv:587?tls=required"),
            vec!["s%40cret".to_owned(), "s@cret".to_owned()]
        );
        assert!(password_forms("smtp://mail.example.lv:25").is_empty());
    }

    #[test]
    fn the_url_for_logs_hides_the_password() {
        assert_eq!(
            redact_url("smtps://mailer:hunter2@mail.example.lv:465"),
            "smtps://mailer:***@mail.example.lv:465"
        );
        assert_eq!(redact_url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
