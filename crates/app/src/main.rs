//! `app`: serves the API (default) or brings the database schema up to date (`app migrate`).

use std::process::ExitCode;

use pas_app::config::{Config, Source};
use pas_app::{Signals, logging};

const USAGE: &str = "usage: app [migrate]\n  (no argument)  serve the API\n  migrate        run the database migrations and exit";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    if matches!(command.as_deref(), Some("-h" | "--help" | "help")) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match Source::from_env().and_then(|s| Config::load(&s)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    logging::init();
    // Multi-thread: embedded migrations call block_in_place, which panics on a current-thread runtime.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match command.as_deref() {
            None => {
                let running = pas_app::start(&config, Signals::Handle)
                    .await
                    .map_err(|e| e.to_string())?;
                running.wait().await.map_err(|e| e.to_string())?;
                tracing::info!("stopped");
                Ok(())
            }
            Some("migrate") => {
                pas_app::open_database(&config)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Some(other) => Err(format!("unknown command {other:?}\n{USAGE}")),
        }
    });
    // Whatever still runs (an abandoned stop) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
