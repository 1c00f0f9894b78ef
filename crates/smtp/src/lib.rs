//! Email adapter of the signing-process and auditing service (PRODUCT.md section 7), and
//! the one outbox dispatcher of both channels (sections 12 and 14).
//!
//! The pieces, in the order the app wires them:
//!
//! 1. [`Matrix`]: the notification matrix (event → role → language → subject and template),
//!    loaded from `NOTIFICATIONS_FILE` with [`Matrix::load`] or the built-in
//!    [`Matrix::builtin`]. A bad file stops the start with a [`MatrixError`] naming the file
//!    and the key.
//! 2. [`Renderer`]: renders a [`NotificationIntent`](pas_domain::notify::NotificationIntent)
//!    with its process into a subject, a plain-text and an HTML body, and builds the
//!    `lettre` message ([`MailSettings`] holds `MAIL_FROM`, `MAIL_REPLY_TO_INITIATOR`,
//!    `PORTAL_URL`, `APP_TIMEZONE` and `MAIL_DEFAULT_LANGUAGE`).
//! 3. [`Transport`]: SMTP (`SMTP_URL`) or `.eml` files in `MAIL_DIR`.
//! 4. [`Dispatcher`]: drains the outbox (claim, render, send, mark; retry with backoff; give
//!    up after the last attempt and tell `ADMIN_EMAIL`). Webhook rows go, under the same
//!    leases, retry schedule and give-up rule, to the
//!    [`Deliverer`](pas_domain::ports::Deliverer) given with [`Dispatcher::with_deliverer`]
//!    (the domain's `WebhookService`); without one they are retried for an instance that
//!    has it.
//! 5. [`SmtpMailer`]: the domain's [`Mailer`](pas_domain::ports::Mailer) port
//!    (`sendTestEmail`, subjects).
//!
//! The matrix file format, the template variables and the delivery rules are described in
//! this crate's `README.md`.
//!
//! ```no_run
//! # async fn wire(
//! #     outbox: std::sync::Arc<dyn pas_domain::ports::Outbox>,
//! #     processes: std::sync::Arc<dyn pas_domain::ports::ProcessRepository>,
//! #     webhooks: std::sync::Arc<dyn pas_domain::ports::Deliverer>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use pas_smtp::*;
//!
//! let matrix = Matrix::from_config(None)?; // or Some(Path::new("notifications.toml"))
//! let settings = MailSettings {
//!     from: "Signing Service <noreply@example.lv>".parse()?,
//!     reply_to_initiator: false,
//!     portal_url: "https://portal.example.lv".into(),
//!     timezone: jiff::tz::TimeZone::get("Europe/Riga")?,
//!     default_language: pas_domain::language::Language::parse("en")?,
//! };
//! let renderer = Arc::new(Renderer::new(matrix, settings));
//! let transport = Arc::new(Transport::from_config(None, std::path::Path::new("data/mail"))?);
//! let mailer = SmtpMailer::new(renderer.clone(), transport.clone());
//! let dispatcher = Dispatcher::new(
//!     outbox,
//!     processes,
//!     renderer,
//!     transport,
//!     Arc::new(pas_domain::ports::SystemClock),
//!     DispatchSettings::default(),
//! )
//! .with_deliverer(webhooks); // e.g. the WebhookService, as Arc<dyn Deliverer>
//! tokio::spawn(dispatcher.run(async { let _ = tokio::signal::ctrl_c().await; }));
//! # let _ = mailer;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod context;
mod dispatcher;
mod mailer;
mod matrix;
mod render;
mod transport;
mod vars;

pub use dispatcher::{DispatchError, DispatchReport, DispatchSettings, Dispatcher, MAX_LEASE};
pub use lettre::message::Mailbox;
pub use mailer::SmtpMailer;
pub use matrix::{Matrix, MatrixError};
pub use render::{MailSettings, Rendered, Renderer};
pub use transport::{Transport, TransportError};
