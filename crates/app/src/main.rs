//! `app`: serves the API (default), brings the database schema up to date (`app migrate`), or
//! verifies and checkpoints the audit chains (`app audit …`, in `pas_app::audit_cli`).

use std::process::ExitCode;

use pas_app::audit_cli::{self, AuditCommand};
use pas_app::config::{Config, Source};
use pas_app::{Signals, logging};

const USAGE: &str = "usage: app [migrate | audit …]\n  (no argument)  serve the API\n  migrate        run the database migrations and exit";

/// jemalloc for the whole process: unprefixed on Linux, so SQLite's page caches and
/// statements allocate from it too (on macOS it is prefixed and serves Rust's allocations
/// only), in two arenas by default (`.cargo/config.toml`; `MALLOC_CONF`
/// overrides it at run time).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().cloned();
    if matches!(command.as_deref(), Some("-h" | "--help" | "help")) {
        println!("{USAGE}\n{}", audit_cli::USAGE);
        return ExitCode::SUCCESS;
    }
    let audit = match command.as_deref() {
        Some("audit") => match AuditCommand::parse(&args[1..]) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let config = match Source::from_env().and_then(|s| Config::load(&s)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    logging::init(config.log_format);
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
            Some("audit") => match &audit {
                Some(c) if audit_cli::run(&config, c).await? => Ok(()),
                _ => Err("audit verification failed".to_owned()),
            },
            Some("migrate") => {
                pas_app::open_database(&config)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Some(other) => Err(format!(
                "unknown command {other:?}\n{USAGE}\n{}",
                audit_cli::USAGE
            )),
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

#[cfg(all(test, not(target_env = "msvc")))]
mod tests {
    /// `.cargo/config.toml`'s jemalloc configuration is compiled in: two arenas, where
    /// jemalloc's own default is four per core. `MALLOC_CONF` in the environment overrides
    /// the compiled default at run time, so with it set there is nothing here to check.
    #[test]
    fn jemalloc_is_built_with_two_arenas() {
        if std::env::var_os("MALLOC_CONF").is_some() {
            eprintln!("MALLOC_CONF is set: the compiled-in arena count is overridden, not checked");
            return;
        }
        let configured = tikv_jemalloc_ctl::opt::narenas::read().expect("opt.narenas");
        assert_eq!(configured, 2);
    }
}
