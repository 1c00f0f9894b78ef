//! `app`: serves the API (default) or runs the migrations (`app migrate`).

use std::process::ExitCode;

use pas_app::config::{Config, Source};

fn main() -> ExitCode {
    let config = match Source::from_env().and_then(|s| Config::load(&s)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!("configuration ok: {}", config.bind);
    ExitCode::SUCCESS
}
