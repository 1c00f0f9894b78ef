//! Handler tests: the whole HTTP surface over the domain's use cases with mock ports.
#![allow(clippy::unwrap_used)]

mod support;

mod directory;
mod errors;
mod logging;
mod openapi;
mod portal;
mod processes;
mod wire;
