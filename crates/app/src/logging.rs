//! Logs: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), as text or as JSON
//! lines (`LOG_FORMAT`). No component logs a
//! personal code: the domain masks them in `Debug`, the HTTP request log shows route
//! templates instead of paths, and the dependencies that would print request text at
//! `debug` are held at `info` whatever `RUST_LOG` says ([`filter`]).

use std::io::IsTerminal;

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{EnvFilter, FilterExt, FilterFn};
use tracing_subscriber::layer::{Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry, fmt};

/// Targets whose `debug` and `trace` output carries request text: actix-web's extractors log
/// the raw request path when a parameter does not parse, tokio-postgres logs statement
/// parameters (personal codes among them).
const REQUEST_TEXT_TARGETS: &[&str] = &["actix_web", "tokio_postgres"];

/// Whether an event may carry request text: below `info` from one of
/// [`REQUEST_TEXT_TARGETS`] (or a module of one).
fn may_carry_request_text(meta: &Metadata<'_>) -> bool {
    *meta.level() > Level::INFO
        && REQUEST_TEXT_TARGETS.iter().any(|t| {
            meta.target()
                .strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// The filter of the service's log: `spec` (a `RUST_LOG` value) without the events of
/// [`may_carry_request_text`]. Tests that capture the log use it too.
pub fn filter(spec: &str) -> impl Filter<Registry> + Send + Sync + 'static {
    EnvFilter::new(spec).and(FilterFn::new(|meta| !may_carry_request_text(meta)))
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's
    /// other fields, and under `spans` the fields of the enclosing spans (`request_id`,
    /// `route` of the request span).
    Json,
}

/// A `LOG_FORMAT` value other than `text` or `json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected text or json")]
pub struct UnknownLogFormat;

impl std::str::FromStr for LogFormat {
    type Err = UnknownLogFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(UnknownLogFormat),
        }
    }
}

/// The service's log layer in `format`, writing to `writer`, filtered by `spec` (a
/// `RUST_LOG` value) through [`filter`]. Tests that capture the log build it too.
///
/// Both formats are safe against forged lines: the JSON writer escapes every string, and
/// the only client text the text writer shows is a request id, which is visible ASCII
/// (no line break) by the rule of `X-Request-Id`.
pub fn layer<W>(
    format: LogFormat,
    writer: W,
    spec: &str,
    ansi: bool,
) -> Box<dyn Layer<Registry> + Send + Sync>
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(writer)
            .with_filter(filter(spec))
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(writer)
            .with_filter(filter(spec))
            .boxed(),
    }
}

/// Installs the global subscriber once, writing in `format`; later calls (tests) are
/// ignored.
pub fn init(format: LogFormat) {
    let spec = std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| "info".to_owned());
    let ansi = std::io::stderr().is_terminal();
    let layer = layer(format, std::io::stderr, &spec, ansi);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use tracing::callsite::Identifier;
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;

    use super::*;

    struct Site;
    impl tracing::callsite::Callsite for Site {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &SITE_META
        }
    }
    static SITE: Site = Site;
    static SITE_META: Metadata<'static> = Metadata::new(
        "site",
        "test",
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(&[], Identifier(&SITE)),
        Kind::EVENT,
    );

    fn meta(target: &'static str, level: Level) -> Metadata<'static> {
        Metadata::new(
            "event",
            target,
            level,
            None,
            None,
            None,
            FieldSet::new(&[], Identifier(&SITE)),
            Kind::EVENT,
        )
    }

    #[test]
    fn debug_output_of_request_text_targets_is_dropped() {
        for target in [
            "actix_web",
            "actix_web::types::path",
            "tokio_postgres::query",
        ] {
            assert!(
                may_carry_request_text(&meta(target, Level::DEBUG)),
                "{target}"
            );
            assert!(
                may_carry_request_text(&meta(target, Level::TRACE)),
                "{target}"
            );
            assert!(
                !may_carry_request_text(&meta(target, Level::INFO)),
                "{target}"
            );
        }
        for target in ["actix_web_lab", "actix_http", "pas_http::access", "diesel"] {
            assert!(
                !may_carry_request_text(&meta(target, Level::DEBUG)),
                "{target}"
            );
        }
    }
}
