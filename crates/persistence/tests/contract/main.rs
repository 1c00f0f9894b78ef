//! The contract suite: every test body runs against a fresh SQLite file and against a fresh
//! PostgreSQL database (created from `TEST_DATABASE_URL`, dropped afterwards), through the
//! ports of `pas_domain` only. Without `TEST_DATABASE_URL` the PostgreSQL half of each test
//! says so on stderr and passes; with it set but unreachable, the tests fail.
//!
//! Test data is built with the domain's own commands (`ProcessInput` → `validate()` →
//! `SigningProcess::create`, `.start()`, `.act()`), so what is stored is what the service
//! stores. Rule numbers refer to PRODUCT.md section 5.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

mod audit_outbox;
mod catalog_directory;
mod connect;
mod instances;
mod processes;
mod queries;
mod webhooks;
