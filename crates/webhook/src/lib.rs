//! Webhook adapter of the signing-process and auditing service (PRODUCT.md section 12).
//!
//! The domain decides what a delivery is and where it may go
//! ([`pas_domain::service::WebhookService`] signs it and checks its target with
//! [`TargetPolicy`](pas_domain::webhook::TargetPolicy)); this crate makes the network calls
//! behind its two ports:
//!
//! - [`HttpSender`], the [`WebhookSender`](pas_domain::ports::WebhookSender): one `POST` of
//!   the signed body to the address the domain checked, never resolving the host again; no
//!   redirects; the whole attempt bounded by the timeout given to [`HttpSender::new`]
//!   (`WEBHOOK_TIMEOUT_MS`, [`TIMEOUT`](pas_domain::webhook::TIMEOUT) by default); at most
//!   [`ANSWER_BYTES`](pas_domain::webhook::ANSWER_BYTES) of the answer read.
//! - [`DnsResolver`], the [`Resolver`](pas_domain::webhook::Resolver): the system's resolver
//!   through `tokio::net::lookup_host`, each lookup bounded by the timeout given to
//!   [`DnsResolver::new`] (`WEBHOOK_TIMEOUT_MS` too; [`TIMEOUT`](pas_domain::webhook::TIMEOUT)
//!   by default). An attempt at a target can thus take up to twice that: the lookup, then
//!   the request.
//!
//! ```no_run
//! # fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use pas_webhook::{DnsResolver, HttpSender};
//!
//! // WEBHOOK_TIMEOUT_MS: the 10 s of PRODUCT.md section 12 (pas_domain::webhook::TIMEOUT,
//! // HttpSender::default(), DnsResolver::default()) unless tests shorten it.
//! let timeout = Duration::from_millis(2_000);
//! let sender = Arc::new(HttpSender::new(timeout));
//! let resolver = Arc::new(DnsResolver::new(timeout));
//! // WebhookService::new(store, resolver, sender, clock, ids, policy) …
//! # let _ = (sender, resolver);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod resolver;
mod sender;

pub use resolver::DnsResolver;
pub use sender::{HttpSender, SenderError, USER_AGENT};
