//! Integration tests of the email adapter, against a real SMTP server on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod dispatcher;
mod mailer;
mod matrix;
mod render;
mod transport;
mod webhooks;
