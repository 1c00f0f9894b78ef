//! A real SMTP server on loopback for the email tests (PRODUCT.md section 7): the one the
//! smtp adapter's tests use too.

#[path = "../../../crates/smtp/tests/support/smtp_server.rs"]
mod smtp_server;

pub use smtp_server::*;
