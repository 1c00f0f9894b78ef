//! The `app` binary's library half: configuration and wiring, so that end-to-end tests start
//! exactly what `cargo run` starts.

pub mod config;
