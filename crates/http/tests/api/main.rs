//! Handler tests that need mock ports: the OpenAPI document and probes, and storage failures
//! no real store can be made to produce on demand. Everything else about the HTTP edge runs
//! against the real use cases over SQLite and PostgreSQL in the `pas-e2e` package
//! (`tests/tests/http_*.rs`).
#![allow(clippy::unwrap_used)]

mod support;

mod openapi;
mod storage;
mod wire;
