//! Configuration (PRODUCT.md section 3): environment variables, optionally preceded by a
//! TOML file (`APP_CONFIG_FILE`) that sets the same keys. A bad value stops the start with
//! one line naming the variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use pas_http::authn::{AuthMode, AuthSettings, OidcSettings, check_provider_url};

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {variable}: {message}")]
pub struct ConfigError {
    /// The variable (or TOML key) at fault.
    pub variable: &'static str,
    /// What is wrong with it; never the value of a secret.
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Everything the service reads at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `APP_BIND`.
    pub bind: SocketAddr,
    /// `METRICS_BIND`: when set, `/metrics` is served on this address only, not on
    /// `APP_BIND`.
    pub metrics_bind: Option<SocketAddr>,
    /// `LOG_FORMAT` (`text`, default, or `json`).
    pub log_format: crate::logging::LogFormat,
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `DATABASE_READ_URL`: a streaming replica of a PostgreSQL `DATABASE_URL` for lists,
    /// portal lookups and audit reads.
    pub database_read_url: Option<String>,
    /// `DATABASE_POOL_SIZE`.
    pub pool_size: usize,
    /// `DATABASE_TIMEOUT_MS`: the longest a request waits for the database (a connection,
    /// and on PostgreSQL the whole transaction) before answering 503.
    pub database_timeout: Duration,
    /// `DATABASE_STATEMENT_CACHE` (default `true`): PostgreSQL connections keep their
    /// prepared statements; `false` behind PgBouncer before 1.21 in transaction mode.
    pub statement_cache: bool,
    /// `SHUTDOWN_GRACE_SECONDS`: after SIGTERM, how long requests in flight may take to
    /// finish.
    pub shutdown_grace: Duration,
    /// `SMTP_URL`; `None` writes `.eml` files to `mail_dir`.
    pub smtp_url: Option<String>,
    /// `MAIL_DIR`.
    pub mail_dir: PathBuf,
    /// `MAIL_FROM`.
    pub mail_from: pas_smtp::Mailbox,
    /// `MAIL_REPLY_TO_INITIATOR`.
    pub reply_to_initiator: bool,
    /// `PORTAL_URL`, without a trailing slash.
    pub portal_url: String,
    /// `ADMIN_EMAIL`.
    pub admin_email: Option<String>,
    /// `NOTIFICATIONS_FILE`; `None` is the built-in matrix.
    pub notifications_file: Option<PathBuf>,
    /// `MAIL_DEFAULT_LANGUAGE`: the email language of a recipient without a
    /// `signerLanguage` the matrix has (see [`Config::check_mail_language`]).
    pub mail_default_language: pas_domain::language::Language,
    /// `REMINDER_CRON` (seconds minutes hours day-of-month month day-of-week).
    pub reminder_cron: cron::Schedule,
    /// `REMINDER_DAYS_BEFORE_DUE`.
    pub reminder_days: Vec<u32>,
    /// `APP_TIMEZONE`.
    pub timezone: jiff::tz::TimeZone,
    /// `APP_TIMEZONE` as given (for logs).
    pub timezone_name: String,
    /// `APP_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MAIL_POLL_MS`: how often the outbox dispatcher looks for due emails.
    pub mail_poll: Duration,
    /// `MAIL_FIRST_RETRY_SECONDS`: delay before the first retry of a failed email (doubling
    /// after each further failure, at most one hour).
    pub mail_first_retry: Duration,
    /// `MAIL_GIVE_UP_AFTER`: how long after it was queued an email that keeps failing is
    /// given up (FAILURE to `ADMIN_EMAIL`); there is no attempt limit.
    pub mail_give_up_after: Duration,
    /// `MAIL_LEASE_SECONDS` (1 to 30, default 30): how long the outbox dispatcher holds the
    /// rows it claimed without renewing.
    pub mail_lease: Duration,
    /// `OUTBOX_KEEP_SENT` (default 7 days, at least an hour): how long SENT outbox rows are
    /// kept before the hourly purge deletes them; `None` (`0`) keeps them forever.
    pub outbox_keep_sent: Option<Duration>,
    /// `WEBHOOK_ALLOW_HTTP` and `WEBHOOK_ALLOW_PRIVATE` (both false by default): which
    /// webhook targets may be subscribed and called.
    pub webhook_policy: pas_domain::webhook::TargetPolicy,
    /// `WEBHOOK_TIMEOUT_MS` (1 to 10,000, default 10,000): how long a webhook target has to
    /// answer. Shorter only for tests and impatient deployments: the contract promises
    /// subscribers 10 s.
    pub webhook_timeout: Duration,
    /// Variables that are set but no longer read (`MAIL_MAX_ATTEMPTS`): the start warns.
    pub ignored: Vec<&'static str>,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client address.
    pub trusted_proxies: Vec<pas_http::network::IpBlock>,
    /// `AUDIT_READS` (`none`, `single`, `all`): which reads of processes are audited.
    pub audit_reads: pas_domain::service::ReadAudit,
    /// `AUTH_FAILURES_PER_MINUTE`: failed portal authorizations per signer id or client
    /// address within a sliding minute before further attempts answer 429.
    pub auth_failures_per_minute: u32,
    /// `AUTH_MODE`, `OIDC_*`, `AUTH_LEEWAY_SECONDS`, `AUTH_TOKENS_FILE`: how callers prove
    /// who they are (PRODUCT.md section 10). The tokens file is read by
    /// `pas_http::authn::Authenticator::new`, not here.
    pub auth: AuthSettings,
    /// `AUDIT_KEY`, `AUDIT_KEY_FILE`, `AUDIT_OLD_KEYS_FILE`: where the keys of the audit
    /// chain come from (read by [`crate::audit_keys::load`]).
    pub audit_keys: AuditKeySettings,
    /// `PII_KEY`, `PII_KEY_FILE`: the key of the pseudonyms of personal codes in audit rows
    /// (read by [`crate::audit_keys::load_pii`]).
    pub pii_key: PiiKeySettings,
    /// `AUDIT_CHECKPOINT_CRON` and `AUDIT_CHECKPOINT_EMAIL`: the job that emails the audit
    /// checkpoint; `None` (no job) when both are unset.
    pub audit_checkpoint: Option<CheckpointJob>,
}

/// Where the key of personal-code pseudonyms comes from (PRODUCT.md section 11). `Debug`
/// never shows a key.
#[derive(Clone, Default)]
pub struct PiiKeySettings {
    /// `PII_KEY`, decoded (at least 32 bytes).
    pub key: Option<Vec<u8>>,
    /// `PII_KEY_FILE`: a file holding the key in base64.
    pub key_file: Option<PathBuf>,
}

impl std::fmt::Debug for PiiKeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiKeySettings")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// The audit checkpoint job (PRODUCT.md section 11): when it runs and whom it emails.
#[derive(Debug, Clone)]
pub struct CheckpointJob {
    /// `AUDIT_CHECKPOINT_CRON` (second minute hour day-of-month month day-of-week), in
    /// `APP_TIMEZONE`.
    pub schedule: cron::Schedule,
    /// `AUDIT_CHECKPOINT_EMAIL`.
    pub to: pas_domain::values::Email,
}

/// Where the audit chain's keys come from (PRODUCT.md section 11). `Debug` never shows a key.
#[derive(Clone, Default)]
pub struct AuditKeySettings {
    /// `AUDIT_KEY`, decoded (at least 32 bytes).
    pub key: Option<Vec<u8>>,
    /// `AUDIT_KEY_FILE`: a file holding the key in base64.
    pub key_file: Option<PathBuf>,
    /// `AUDIT_OLD_KEYS_FILE`: retired keys, one base64 key a line; they verify, never sign.
    pub old_keys_file: Option<PathBuf>,
}

impl std::fmt::Debug for AuditKeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKeySettings")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("key_file", &self.key_file)
            .field("old_keys_file", &self.old_keys_file)
            .finish()
    }
}

/// Where values come from: the environment wins over the file.
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    /// The process environment, preceded by the TOML file named by `APP_CONFIG_FILE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut values = match env.get("APP_CONFIG_FILE") {
            Some(path) => read_toml(path)?,
            None => HashMap::new(),
        };
        values.extend(env);
        Ok(Self { values })
    }

    /// Fixed values (tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(
        &self,
        key: &'static str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| bad(key, format!("expected {what}"))),
        }
    }
}

/// `OUTBOX_KEEP_SENT` when unset: a week of sent emails to look back on in `GET /outbox`.
const KEEP_SENT_DEFAULT: Duration = Duration::from_secs(7 * 86_400);

/// The shortest `OUTBOX_KEEP_SENT`. The purge runs hourly, so a shorter value would mean
/// "whatever was sent before the last run"; minutes are more likely a typo for days; and a
/// checkpoint row must outlive the seconds in which other instances fire for the same run,
/// or its id would no longer stop a second email.
const KEEP_SENT_MIN: Duration = Duration::from_secs(3600);

/// `OUTBOX_KEEP_SENT`: a duration of at least [`KEEP_SENT_MIN`], default
/// [`KEEP_SENT_DEFAULT`], or `0` for "keep forever" (`None`), the behaviour before
/// retention existed. A zero with a unit (`0d`) is refused: it could as well be read as
/// "delete at once".
fn parse_keep_sent(raw: Option<&str>) -> Result<Option<Duration>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Some(KEEP_SENT_DEFAULT));
    };
    if raw == "0" {
        return Ok(None);
    }
    match parse_duration(raw) {
        Some(keep) if keep >= KEEP_SENT_MIN => Ok(Some(keep)),
        _ => Err(bad(
            "OUTBOX_KEEP_SENT",
            "expected a duration of at least 1h such as 7d or 48h, or 0 to keep sent rows forever",
        )),
    }
}

/// `72h`, `30m`, `90s`, `2d`, `500ms` (a whole number and a unit; not zero).
fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        "d" => Duration::from_secs(n.checked_mul(86_400)?),
        _ => return None,
    };
    (!duration.is_zero()).then_some(duration)
}

fn read_toml(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("APP_CONFIG_FILE", format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        bad(
            "APP_CONFIG_FILE",
            format!("{path} is not valid TOML: {}", e.message()),
        )
    })?;
    let mut out = HashMap::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(bad(
                    "APP_CONFIG_FILE",
                    format!(
                        "{key} must be a string, number, boolean or list, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        out.insert(key, text);
    }
    Ok(out)
}

impl Config {
    /// Reads and checks every value.
    pub fn load(src: &Source) -> Result<Self, ConfigError> {
        let bind = src.parse(
            "APP_BIND",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "HOST:PORT, e.g. 127.0.0.1:8080",
        )?;
        let metrics_bind = match src.get("METRICS_BIND") {
            None => None,
            Some(raw) => Some(
                raw.parse::<SocketAddr>()
                    .map_err(|_| bad("METRICS_BIND", "expected HOST:PORT, e.g. 127.0.0.1:9090"))?,
            ),
        };
        if metrics_bind == Some(bind) && bind.port() != 0 {
            return Err(bad("METRICS_BIND", "must differ from APP_BIND"));
        }
        let log_format = src
            .get("LOG_FORMAT")
            .unwrap_or("text")
            .parse::<crate::logging::LogFormat>()
            .map_err(|e| bad("LOG_FORMAT", e.to_string()))?;
        let database_url = src
            .get("DATABASE_URL")
            .unwrap_or("sqlite://data/signing.db")
            .to_owned();
        if !(database_url.starts_with("sqlite://")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let database_read_url = src.get("DATABASE_READ_URL").map(str::to_owned);
        if let Some(read) = &database_read_url {
            let postgres = |u: &str| u.starts_with("postgres://") || u.starts_with("postgresql://");
            if !postgres(read) || !postgres(&database_url) {
                return Err(bad(
                    "DATABASE_READ_URL",
                    "must be a postgres:// URL, with a postgres:// DATABASE_URL",
                ));
            }
        }
        let pool_size: usize = src.parse("DATABASE_POOL_SIZE", 10, "a whole number from 1")?;
        if pool_size == 0 {
            return Err(bad("DATABASE_POOL_SIZE", "must be at least 1"));
        }
        let database_timeout_ms: u64 =
            src.parse("DATABASE_TIMEOUT_MS", 2000, "milliseconds, at least 1")?;
        if database_timeout_ms == 0 {
            return Err(bad("DATABASE_TIMEOUT_MS", "must be at least 1"));
        }
        let shutdown_grace =
            Duration::from_secs(src.parse("SHUTDOWN_GRACE_SECONDS", 30, "seconds")?);
        let smtp_url = src.get("SMTP_URL").map(str::to_owned);
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(bad("SMTP_URL", "must start with smtp:// or smtps://"));
            }
        }
        let mail_from: pas_smtp::Mailbox = src
            .get("MAIL_FROM")
            .unwrap_or("Signing Service <noreply@localhost>")
            .parse()
            .map_err(|_| bad("MAIL_FROM", "must be an address such as Name <user@host>"))?;
        let portal_url = src
            .get("PORTAL_URL")
            .unwrap_or("http://localhost:3000")
            .trim_end_matches('/')
            .to_owned();
        if !(portal_url.starts_with("http://") || portal_url.starts_with("https://")) {
            return Err(bad("PORTAL_URL", "must start with http:// or https://"));
        }
        let mail_default_language =
            pas_domain::language::Language::parse(src.get("MAIL_DEFAULT_LANGUAGE").unwrap_or("en"))
                .map_err(|e| bad("MAIL_DEFAULT_LANGUAGE", e.to_string()))?;
        let admin_email = src.get("ADMIN_EMAIL").map(str::to_owned);
        if let Some(a) = &admin_email {
            pas_domain::values::Email::parse(a).map_err(|e| bad("ADMIN_EMAIL", e.to_string()))?;
        }
        let cron_text = src.get("REMINDER_CRON").unwrap_or("0 0 11 * * *");
        let reminder_cron =
            cron::Schedule::from_str(cron_text).map_err(|_| bad("REMINDER_CRON", CRON_FORMAT))?;
        let reminder_days = parse_days(src.get("REMINDER_DAYS_BEFORE_DUE").unwrap_or("1,3,5"))?;
        let timezone_name = src.get("APP_TIMEZONE").unwrap_or("UTC").to_owned();
        let timezone = jiff::tz::TimeZone::get(&timezone_name).map_err(|_| {
            bad(
                "APP_TIMEZONE",
                "expected an IANA time zone such as Europe/Riga or UTC",
            )
        })?;
        let max_body_bytes = src.parse("APP_MAX_BODY_BYTES", 1024 * 1024, "a number of bytes")?;
        let mail_poll = Duration::from_millis(src.parse("MAIL_POLL_MS", 2000, "milliseconds")?);
        let mail_first_retry =
            Duration::from_secs(src.parse("MAIL_FIRST_RETRY_SECONDS", 10, "seconds")?);
        let mail_give_up_after = match src.get("MAIL_GIVE_UP_AFTER") {
            None => Duration::from_secs(72 * 3600),
            Some(raw) => parse_duration(raw).ok_or_else(|| {
                bad(
                    "MAIL_GIVE_UP_AFTER",
                    "expected a duration such as 72h, 30m or 90s",
                )
            })?,
        };
        let mail_lease_seconds: u64 =
            src.parse("MAIL_LEASE_SECONDS", 30, "seconds from 1 to 30")?;
        if !(1..=pas_smtp::MAX_LEASE.as_secs()).contains(&mail_lease_seconds) {
            return Err(bad("MAIL_LEASE_SECONDS", "expected seconds from 1 to 30"));
        }
        let outbox_keep_sent = parse_keep_sent(src.get("OUTBOX_KEEP_SENT"))?;
        let webhook_policy = pas_domain::webhook::TargetPolicy {
            allow_http: src.parse("WEBHOOK_ALLOW_HTTP", false, "true or false")?,
            allow_private: src.parse("WEBHOOK_ALLOW_PRIVATE", false, "true or false")?,
        };
        let webhook_timeout_ms: u64 =
            src.parse("WEBHOOK_TIMEOUT_MS", 10_000, "milliseconds from 1 to 10000")?;
        if !(1..=10_000).contains(&webhook_timeout_ms) {
            return Err(bad(
                "WEBHOOK_TIMEOUT_MS",
                "expected milliseconds from 1 to 10000",
            ));
        }
        let ignored: Vec<&'static str> = ["MAIL_MAX_ATTEMPTS"]
            .into_iter()
            .filter(|key| src.values.contains_key(*key))
            .collect();
        let trusted_proxies =
            pas_http::network::parse_ip_blocks(src.get("TRUSTED_PROXIES").unwrap_or(""))
                .map_err(|e| bad("TRUSTED_PROXIES", e.to_string()))?;
        let audit_reads = parse_audit_reads(src.get("AUDIT_READS").unwrap_or("single"))?;
        let auth_failures_per_minute: u32 =
            src.parse("AUTH_FAILURES_PER_MINUTE", 10, "a whole number from 1")?;
        if auth_failures_per_minute == 0 {
            return Err(bad("AUTH_FAILURES_PER_MINUTE", "must be at least 1"));
        }
        let auth = parse_auth(src, bind)?;
        let audit_keys = parse_audit_keys(src)?;
        let pii_key = parse_pii_key(src)?;
        let audit_checkpoint = parse_checkpoint_job(src)?;
        Ok(Self {
            bind,
            metrics_bind,
            log_format,
            database_url,
            database_read_url,
            pool_size,
            database_timeout: Duration::from_millis(database_timeout_ms),
            statement_cache: src.parse("DATABASE_STATEMENT_CACHE", true, "true or false")?,
            shutdown_grace,
            smtp_url,
            mail_dir: PathBuf::from(src.get("MAIL_DIR").unwrap_or("data/mail")),
            mail_from,
            reply_to_initiator: src.parse("MAIL_REPLY_TO_INITIATOR", false, "true or false")?,
            portal_url,
            admin_email,
            notifications_file: src.get("NOTIFICATIONS_FILE").map(PathBuf::from),
            mail_default_language,
            reminder_cron,
            reminder_days,
            timezone,
            timezone_name,
            max_body_bytes,
            mail_poll,
            mail_first_retry,
            mail_give_up_after,
            mail_lease: Duration::from_secs(mail_lease_seconds),
            outbox_keep_sent,
            webhook_policy,
            webhook_timeout: Duration::from_millis(webhook_timeout_ms),
            ignored,
            trusted_proxies,
            audit_reads,
            auth_failures_per_minute,
            auth,
            audit_keys,
            pii_key,
            audit_checkpoint,
        })
    }

    /// Checks `MAIL_DEFAULT_LANGUAGE` against the loaded notification matrix: a language the
    /// matrix has no entry in (`de` with the built-in one) would silently send the matrix's
    /// default language instead, so it stops the start.
    pub fn check_mail_language(&self, matrix: &pas_smtp::Matrix) -> Result<(), ConfigError> {
        if matrix.has_language(&self.mail_default_language) {
            return Ok(());
        }
        Err(bad(
            "MAIL_DEFAULT_LANGUAGE",
            format!(
                "the notification matrix ({}) has no templates in {}; it has {}",
                matrix.source(),
                self.mail_default_language,
                matrix.languages().join(", ")
            ),
        ))
    }

    /// The calendar date of an instant in the service's time zone (reminders, section 7).
    pub fn local_date_fn(
        &self,
    ) -> impl Fn(time::OffsetDateTime) -> time::Date + Send + Sync + 'static {
        let tz = self.timezone.clone();
        move |t| local_date(&tz, t)
    }
}

/// The calendar date of `t` in `tz`.
pub fn local_date(tz: &jiff::tz::TimeZone, t: time::OffsetDateTime) -> time::Date {
    let fallback = t.date();
    let Ok(ts) = jiff::Timestamp::from_second(t.unix_timestamp()) else {
        return fallback;
    };
    let d = ts.to_zoned(tz.clone()).date();
    time::Month::try_from(u8::try_from(d.month()).unwrap_or(1))
        .ok()
        .and_then(|m| {
            time::Date::from_calendar_date(
                i32::from(d.year()),
                m,
                u8::try_from(d.day()).unwrap_or(1),
            )
            .ok()
        })
        .unwrap_or(fallback)
}

/// Longest accepted `AUTH_LEEWAY_SECONDS`: more would keep expired tokens alive.
const MAX_LEEWAY_SECONDS: u64 = 600;

fn parse_auth(src: &Source, bind: SocketAddr) -> Result<AuthSettings, ConfigError> {
    let mode: AuthMode = src
        .get("AUTH_MODE")
        .unwrap_or("off")
        .parse()
        .map_err(|e: pas_http::authn::UnknownAuthMode| bad("AUTH_MODE", e.to_string()))?;
    if mode == AuthMode::Off && !bind.ip().is_loopback() {
        return Err(bad(
            "AUTH_MODE",
            "off is for development on a loopback address only (APP_BIND is not one); set oidc, tokens or oidc,tokens",
        ));
    }
    let leeway: u64 = src.parse("AUTH_LEEWAY_SECONDS", 60, "a number of seconds")?;
    if leeway > MAX_LEEWAY_SECONDS {
        return Err(bad(
            "AUTH_LEEWAY_SECONDS",
            format!("must be at most {MAX_LEEWAY_SECONDS} seconds"),
        ));
    }
    let oidc = if mode.uses_oidc() {
        let issuer = src
            .get("OIDC_ISSUER")
            .ok_or_else(|| bad("OIDC_ISSUER", "is required when AUTH_MODE uses oidc"))?;
        check_provider_url(issuer).map_err(|m| bad("OIDC_ISSUER", m))?;
        let audience = src
            .get("OIDC_AUDIENCE")
            .ok_or_else(|| bad("OIDC_AUDIENCE", "is required when AUTH_MODE uses oidc"))?;
        let mut oidc = OidcSettings::new(issuer, audience);
        if let Some(url) = src.get("OIDC_JWKS_URL") {
            check_provider_url(url).map_err(|m| bad("OIDC_JWKS_URL", m))?;
            oidc.jwks_url = Some(url.to_owned());
        }
        if let Some(claim) = src.get("OIDC_GROUPS_CLAIM") {
            oidc.groups_claim = claim_path("OIDC_GROUPS_CLAIM", claim)?;
        }
        if let Some(list) = src.get("OIDC_ROLES_CLAIMS") {
            oidc.roles_claims = list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| claim_path("OIDC_ROLES_CLAIMS", p))
                .collect::<Result<_, _>>()?;
        }
        if let Some(claim) = src.get("OIDC_PERSON_CLAIM") {
            oidc.person_claim = claim_path("OIDC_PERSON_CLAIM", claim)?;
        }
        Some(oidc)
    } else {
        None
    };
    let tokens_file = src.get("AUTH_TOKENS_FILE").map(PathBuf::from);
    if mode.uses_tokens() && tokens_file.is_none() {
        return Err(bad(
            "AUTH_TOKENS_FILE",
            "is required when AUTH_MODE uses tokens",
        ));
    }
    Ok(AuthSettings {
        mode,
        oidc,
        tokens_file,
        leeway: Duration::from_secs(leeway),
    })
}

/// A dotted claim path such as `resource_access.pas.roles`: no empty segment, no spaces.
fn claim_path(variable: &'static str, raw: &str) -> Result<String, ConfigError> {
    if raw
        .split('.')
        .any(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err(bad(
            variable,
            "expected claim names or dotted paths such as realm_access.roles",
        ));
    }
    Ok(raw.to_owned())
}

/// A key given inline (`variable`, base64) or as a file (`file_variable`), not both.
fn parse_key(
    src: &Source,
    variable: &'static str,
    file_variable: &'static str,
) -> Result<(Option<Vec<u8>>, Option<PathBuf>), ConfigError> {
    let key = match src.get(variable) {
        None => None,
        Some(raw) => Some(crate::audit_keys::decode(raw).map_err(|m| bad(variable, m))?),
    };
    let key_file = src.get(file_variable).map(PathBuf::from);
    if key.is_some() && key_file.is_some() {
        return Err(bad(
            file_variable,
            format!("set {variable} or {file_variable}, not both"),
        ));
    }
    Ok((key, key_file))
}

fn parse_audit_keys(src: &Source) -> Result<AuditKeySettings, ConfigError> {
    let (key, key_file) = parse_key(src, "AUDIT_KEY", "AUDIT_KEY_FILE")?;
    Ok(AuditKeySettings {
        key,
        key_file,
        old_keys_file: src.get("AUDIT_OLD_KEYS_FILE").map(PathBuf::from),
    })
}

fn parse_pii_key(src: &Source) -> Result<PiiKeySettings, ConfigError> {
    let (key, key_file) = parse_key(src, "PII_KEY", "PII_KEY_FILE")?;
    Ok(PiiKeySettings { key, key_file })
}

/// What `REMINDER_CRON` and `AUDIT_CHECKPOINT_CRON` expect.
const CRON_FORMAT: &str =
    "expected six fields: second minute hour day-of-month month day-of-week, e.g. 0 0 11 * * *";

/// `AUDIT_CHECKPOINT_CRON` and `AUDIT_CHECKPOINT_EMAIL` come together: a schedule without an
/// address (or the reverse) would silently publish nothing.
fn parse_checkpoint_job(src: &Source) -> Result<Option<CheckpointJob>, ConfigError> {
    let (cron, email) = (
        src.get("AUDIT_CHECKPOINT_CRON"),
        src.get("AUDIT_CHECKPOINT_EMAIL"),
    );
    let schedule = cron
        .map(|c| cron::Schedule::from_str(c).map_err(|_| bad("AUDIT_CHECKPOINT_CRON", CRON_FORMAT)))
        .transpose()?;
    let to = email
        .map(|e| {
            pas_domain::values::Email::parse(e)
                .map_err(|e| bad("AUDIT_CHECKPOINT_EMAIL", e.to_string()))
        })
        .transpose()?;
    match (schedule, to) {
        (None, None) => Ok(None),
        (Some(schedule), Some(to)) => Ok(Some(CheckpointJob { schedule, to })),
        (Some(_), None) => Err(bad(
            "AUDIT_CHECKPOINT_EMAIL",
            "is required when AUDIT_CHECKPOINT_CRON is set (where the checkpoint is emailed)",
        )),
        (None, Some(_)) => Err(bad(
            "AUDIT_CHECKPOINT_CRON",
            "is required when AUDIT_CHECKPOINT_EMAIL is set (when the checkpoint is emailed)",
        )),
    }
}

fn parse_audit_reads(raw: &str) -> Result<pas_domain::service::ReadAudit, ConfigError> {
    use pas_domain::service::ReadAudit;
    match raw.to_ascii_lowercase().as_str() {
        "none" => Ok(ReadAudit::Off),
        "single" => Ok(ReadAudit::Single),
        "all" => Ok(ReadAudit::All),
        _ => Err(bad("AUDIT_READS", "expected none, single or all")),
    }
}

fn parse_days(raw: &str) -> Result<Vec<u32>, ConfigError> {
    let mut days = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: u32 = part.parse().map_err(|_| {
            bad(
                "REMINDER_DAYS_BEFORE_DUE",
                "expected whole numbers separated by commas, e.g. 1,3,5",
            )
        })?;
        if d > 365 {
            return Err(bad(
                "REMINDER_DAYS_BEFORE_DUE",
                "offsets are at most 365 days",
            ));
        }
        days.push(d);
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration `pairs` is refused naming `variable`, in one line.
    fn assert_refused_in_one_line(variable: &str, pairs: Vec<(&str, &str)>) {
        let e = Config::load(&Source::from_pairs(pairs.clone())).unwrap_err();
        assert_eq!(e.variable, variable, "{pairs:?}");
        let line = e.to_string();
        assert!(
            line.starts_with(&format!("invalid {variable}: ")) && !line.contains('\n'),
            "{line}"
        );
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::load(&Source::from_pairs([])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/signing.db");
        assert_eq!(c.pool_size, 10);
        assert_eq!(c.database_timeout, Duration::from_millis(2000));
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
        assert_eq!(c.mail_dir, PathBuf::from("data/mail"));
        assert_eq!(c.portal_url, "http://localhost:3000");
        assert_eq!(c.reminder_days, [1, 3, 5]);
        assert_eq!(c.timezone_name, "UTC");
        assert_eq!(c.metrics_bind, None);
        assert_eq!(c.log_format, crate::logging::LogFormat::Text);
        assert!(c.smtp_url.is_none() && !c.reply_to_initiator);
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.audit_reads, pas_domain::service::ReadAudit::Single);
        assert_eq!(c.auth_failures_per_minute, 10);
        assert_eq!(c.mail_default_language.as_str(), "en");
    }

    #[test]
    fn mail_default_language_is_read_and_checked_against_the_matrix() {
        let matrix = pas_smtp::Matrix::builtin().unwrap();
        for (raw, stored) in [("lt", "lt"), ("ru-LV", "ru-lv"), (" ET ", "et")] {
            let c = Config::load(&Source::from_pairs([("MAIL_DEFAULT_LANGUAGE", raw)])).unwrap();
            assert_eq!(c.mail_default_language.as_str(), stored);
            c.check_mail_language(&matrix).unwrap();
        }
        let c = Config::load(&Source::from_pairs([("MAIL_DEFAULT_LANGUAGE", "de")])).unwrap();
        let e = c.check_mail_language(&matrix).unwrap_err();
        assert_eq!(e.variable, "MAIL_DEFAULT_LANGUAGE");
        assert_eq!(
            e.to_string(),
            "invalid MAIL_DEFAULT_LANGUAGE: the notification matrix (built-in) has no templates in de; it has en, et, lt, lv, ru"
        );
    }

    #[test]
    fn proxies_read_audit_and_the_failure_limit_are_read() {
        let c = Config::load(&Source::from_pairs([
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,2001:db8::/32"),
            ("AUDIT_READS", "ALL"),
            ("AUTH_FAILURES_PER_MINUTE", "3"),
        ]))
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(c.trusted_proxies[0].contains("10.9.8.7".parse().unwrap()));
        assert_eq!(c.audit_reads, pas_domain::service::ReadAudit::All);
        assert_eq!(c.auth_failures_per_minute, 3);
        let none = Config::load(&Source::from_pairs([("AUDIT_READS", "none")])).unwrap();
        assert_eq!(none.audit_reads, pas_domain::service::ReadAudit::Off);
    }

    #[test]
    fn mail_give_up_after_is_a_duration_and_mail_max_attempts_is_ignored() {
        let c = Config::load(&Source::from_pairs([])).unwrap();
        assert_eq!(c.mail_give_up_after, Duration::from_secs(72 * 3600));
        assert_eq!(c.mail_lease, Duration::from_secs(30));
        assert!(c.ignored.is_empty());
        for (raw, secs) in [
            ("72h", 259_200),
            ("30m", 1800),
            ("90s", 90),
            ("2d", 172_800),
        ] {
            let c = Config::load(&Source::from_pairs([("MAIL_GIVE_UP_AFTER", raw)])).unwrap();
            assert_eq!(c.mail_give_up_after, Duration::from_secs(secs), "{raw}");
        }
        let c = Config::load(&Source::from_pairs([
            ("MAIL_MAX_ATTEMPTS", "0"),
            ("MAIL_LEASE_SECONDS", "5"),
        ]))
        .unwrap();
        assert_eq!(c.ignored, ["MAIL_MAX_ATTEMPTS"]);
        assert_eq!(c.mail_lease, Duration::from_secs(5));
    }

    #[test]
    fn outbox_keep_sent_is_a_week_by_default_a_duration_or_0_for_forever() {
        let c = Config::load(&Source::from_pairs([])).unwrap();
        assert_eq!(c.outbox_keep_sent, Some(Duration::from_secs(7 * 86_400)));
        for (raw, keep) in [
            ("30d", Some(Duration::from_secs(30 * 86_400))),
            (" 36h ", Some(Duration::from_secs(36 * 3600))),
            ("60m", Some(Duration::from_secs(3600))),
            ("0", None),
        ] {
            let c = Config::load(&Source::from_pairs([("OUTBOX_KEEP_SENT", raw)])).unwrap();
            assert_eq!(c.outbox_keep_sent, keep, "{raw}");
        }
        for raw in ["7", "7 days", "0d", "59m", "-1d", "forever"] {
            let e = Config::load(&Source::from_pairs([("OUTBOX_KEEP_SENT", raw)])).unwrap_err();
            assert_eq!(
                e.to_string(),
                "invalid OUTBOX_KEEP_SENT: expected a duration of at least 1h such as 7d or 48h, \
                 or 0 to keep sent rows forever",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_bad_value_names_its_variable_in_one_line() {
        for (key, value) in [
            ("APP_BIND", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_TIMEOUT_MS", "0"),
            ("DATABASE_STATEMENT_CACHE", "off"),
            ("DATABASE_READ_URL", "sqlite://replica.db"),
            ("DATABASE_TIMEOUT_MS", "soon"),
            ("SHUTDOWN_GRACE_SECONDS", "-1"),
            ("SMTP_URL", "http://mail"),
            ("REMINDER_CRON", "every day"),
            ("REMINDER_DAYS_BEFORE_DUE", "1,x"),
            ("APP_TIMEZONE", "Mars/Olympus"),
            ("ADMIN_EMAIL", "nobody"),
            ("MAIL_REPLY_TO_INITIATOR", "maybe"),
            ("MAIL_FROM", "not an address"),
            ("MAIL_GIVE_UP_AFTER", "72"),
            ("MAIL_GIVE_UP_AFTER", "3 days"),
            ("MAIL_GIVE_UP_AFTER", "0s"),
            ("OUTBOX_KEEP_SENT", "1w"),
            ("MAIL_LEASE_SECONDS", "0"),
            ("MAIL_LEASE_SECONDS", "31"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.local"),
            ("AUDIT_READS", "some"),
            ("AUTH_FAILURES_PER_MINUTE", "0"),
            ("AUTH_FAILURES_PER_MINUTE", "-1"),
            ("MAIL_DEFAULT_LANGUAGE", "latvian!"),
            ("MAIL_DEFAULT_LANGUAGE", "lt_LT"),
            ("PII_KEY", "c2hvcnQ="),
        ] {
            let e = Config::load(&Source::from_pairs([(key, value)])).unwrap_err();
            assert_eq!(e.variable, key);
            let line = e.to_string();
            assert!(
                line.starts_with(&format!("invalid {key}: ")) && !line.contains('\n'),
                "{line}"
            );
        }
    }

    #[test]
    fn the_checkpoint_job_needs_both_its_schedule_and_its_address() {
        let none = Config::load(&Source::from_pairs([])).unwrap();
        assert!(none.audit_checkpoint.is_none());

        let job = Config::load(&Source::from_pairs([
            ("AUDIT_CHECKPOINT_CRON", "0 30 6 * * Mon"),
            ("AUDIT_CHECKPOINT_EMAIL", " auditor@example.lv "),
        ]))
        .unwrap()
        .audit_checkpoint
        .unwrap();
        assert_eq!(job.to.as_str(), "auditor@example.lv");
        assert_eq!(job.schedule.to_string(), "0 30 6 * * Mon");

        for (variable, pairs) in [
            (
                "AUDIT_CHECKPOINT_EMAIL",
                vec![("AUDIT_CHECKPOINT_CRON", "0 0 6 * * *")],
            ),
            (
                "AUDIT_CHECKPOINT_CRON",
                vec![("AUDIT_CHECKPOINT_EMAIL", "auditor@example.lv")],
            ),
            (
                "AUDIT_CHECKPOINT_CRON",
                vec![
                    ("AUDIT_CHECKPOINT_CRON", "daily"),
                    ("AUDIT_CHECKPOINT_EMAIL", "auditor@example.lv"),
                ],
            ),
            (
                "AUDIT_CHECKPOINT_EMAIL",
                vec![
                    ("AUDIT_CHECKPOINT_CRON", "0 0 6 * * *"),
                    ("AUDIT_CHECKPOINT_EMAIL", "auditor"),
                ],
            ),
        ] {
            assert_refused_in_one_line(variable, pairs);
        }
        let e = Config::load(&Source::from_pairs([(
            "AUDIT_CHECKPOINT_CRON",
            "0 0 6 * * *",
        )]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid AUDIT_CHECKPOINT_EMAIL: is required when AUDIT_CHECKPOINT_CRON is set (where the checkpoint is emailed)"
        );
    }

    #[test]
    fn the_toml_file_sets_the_same_keys_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.toml");
        std::fs::write(&path, "APP_BIND = \"0.0.0.0:9000\"\nREMINDER_DAYS_BEFORE_DUE = [2, 7]\nDATABASE_POOL_SIZE = 4\nAUTH_MODE = \"tokens\"\nAUTH_TOKENS_FILE = \"/etc/pas/tokens.toml\"\n").unwrap();
        let mut values = read_toml(path.to_str().unwrap()).unwrap();
        values.insert("DATABASE_POOL_SIZE".into(), "6".into());
        let c = Config::load(&Source { values }).unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(c.reminder_days, [2, 7]);
        assert_eq!(c.pool_size, 6);
        assert_eq!(c.auth.mode, AuthMode::Tokens);
        assert_eq!(
            c.auth.tokens_file.as_deref(),
            Some(std::path::Path::new("/etc/pas/tokens.toml"))
        );
    }

    #[test]
    fn authentication_defaults_to_off_on_loopback() {
        let c = Config::load(&Source::from_pairs([])).unwrap();
        assert_eq!(c.auth, AuthSettings::off());
        assert_eq!(c.auth.leeway, Duration::from_secs(60));
        let v6 = Config::load(&Source::from_pairs([("APP_BIND", "[::1]:8080")])).unwrap();
        assert_eq!(v6.auth.mode, AuthMode::Off);
    }

    #[test]
    fn off_is_refused_unless_bound_to_loopback() {
        for bind in ["0.0.0.0:8080", "192.0.2.10:8080", "[::]:8080"] {
            for mode in [None, Some("off")] {
                let mut pairs = vec![("APP_BIND", bind)];
                pairs.extend(mode.map(|m| ("AUTH_MODE", m)));
                let e = Config::load(&Source::from_pairs(pairs)).unwrap_err();
                assert_eq!(e.variable, "AUTH_MODE", "{bind}");
                assert!(e.message.contains("development on a loopback address only"));
            }
        }
    }

    #[test]
    fn oidc_settings_are_read_with_their_defaults() {
        let c = Config::load(&Source::from_pairs([
            ("APP_BIND", "0.0.0.0:8080"),
            ("AUTH_MODE", "oidc,tokens"),
            ("OIDC_ISSUER", "https://login.example.com/realms/pas"),
            ("OIDC_AUDIENCE", "pas"),
            ("AUTH_TOKENS_FILE", "tokens.toml"),
            ("AUTH_LEEWAY_SECONDS", "30"),
        ]))
        .unwrap();
        assert_eq!(c.auth.mode, AuthMode::OidcAndTokens);
        assert_eq!(c.auth.leeway, Duration::from_secs(30));
        let o = c.auth.oidc.unwrap();
        assert_eq!(
            o,
            OidcSettings::new("https://login.example.com/realms/pas", "pas")
        );
        assert_eq!(o.groups_claim, "groups");
        assert_eq!(o.person_claim, "serialNumber");

        let c = Config::load(&Source::from_pairs([
            ("AUTH_MODE", "oidc"),
            ("OIDC_ISSUER", "http://127.0.0.1:8081/realms/pas"),
            ("OIDC_AUDIENCE", "pas"),
            ("OIDC_JWKS_URL", "http://localhost:8081/certs"),
            ("OIDC_GROUPS_CLAIM", "memberOf"),
            (
                "OIDC_ROLES_CLAIMS",
                "resource_access.portal.roles, ext.roles",
            ),
            ("OIDC_PERSON_CLAIM", "eid.serialNumber"),
        ]))
        .unwrap();
        let o = c.auth.oidc.unwrap();
        assert_eq!(o.jwks_url.as_deref(), Some("http://localhost:8081/certs"));
        assert_eq!(o.groups_claim, "memberOf");
        assert_eq!(
            o.roles_claims,
            ["resource_access.portal.roles", "ext.roles"]
        );
        assert_eq!(o.person_claim, "eid.serialNumber");
        assert!(c.auth.tokens_file.is_none());
    }

    #[test]
    fn bad_authentication_settings_name_their_variable() {
        let oidc = [
            ("AUTH_MODE", "oidc"),
            ("OIDC_ISSUER", "https://login.example.com/realms/pas"),
            ("OIDC_AUDIENCE", "pas"),
        ];
        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("AUTH_MODE", vec![("AUTH_MODE", "on")]),
            ("AUTH_MODE", vec![("AUTH_MODE", "off,oidc")]),
            (
                "OIDC_ISSUER",
                vec![("AUTH_MODE", "oidc"), ("OIDC_AUDIENCE", "pas")],
            ),
            (
                "OIDC_AUDIENCE",
                vec![
                    ("AUTH_MODE", "oidc"),
                    ("OIDC_ISSUER", "https://idp/realms/pas"),
                ],
            ),
            ("OIDC_ISSUER", {
                let mut v = oidc.to_vec();
                v.push(("OIDC_ISSUER", "http://login.example.com/realms/pas"));
                v
            }),
            ("OIDC_JWKS_URL", {
                let mut v = oidc.to_vec();
                v.push(("OIDC_JWKS_URL", "http://10.0.0.1/certs"));
                v
            }),
            ("OIDC_ROLES_CLAIMS", {
                let mut v = oidc.to_vec();
                v.push(("OIDC_ROLES_CLAIMS", "a..b"));
                v
            }),
            ("AUTH_TOKENS_FILE", vec![("AUTH_MODE", "tokens")]),
            ("AUTH_TOKENS_FILE", {
                let mut v = oidc.to_vec();
                v.push(("AUTH_MODE", "oidc,tokens"));
                v
            }),
            ("AUTH_LEEWAY_SECONDS", vec![("AUTH_LEEWAY_SECONDS", "-1")]),
            ("AUTH_LEEWAY_SECONDS", vec![("AUTH_LEEWAY_SECONDS", "3600")]),
        ];
        for (variable, pairs) in cases {
            assert_refused_in_one_line(variable, pairs);
        }
    }

    #[test]
    fn local_dates_follow_the_time_zone() {
        let riga = jiff::tz::TimeZone::get("Europe/Riga").unwrap();
        let t = time::macros::datetime!(2026-03-04 23:30 UTC);
        assert_eq!(local_date(&riga, t), time::macros::date!(2026 - 03 - 05));
        assert_eq!(
            local_date(&jiff::tz::TimeZone::UTC, t),
            time::macros::date!(2026 - 03 - 04)
        );
    }

    #[test]
    fn metrics_bind_and_log_format_are_checked() {
        let c = Config::load(&Source::from_pairs([
            ("METRICS_BIND", "127.0.0.1:9090"),
            ("LOG_FORMAT", "json"),
        ]))
        .unwrap();
        assert_eq!(
            c.metrics_bind.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9090")
        );
        assert_eq!(c.log_format, crate::logging::LogFormat::Json);
        let e = Config::load(&Source::from_pairs([("METRICS_BIND", "9090")])).unwrap_err();
        assert_eq!(e.variable, "METRICS_BIND");
        let e =
            Config::load(&Source::from_pairs([("METRICS_BIND", "127.0.0.1:8080")])).unwrap_err();
        assert_eq!(e.variable, "METRICS_BIND");
        let e = Config::load(&Source::from_pairs([("LOG_FORMAT", "xml")])).unwrap_err();
        assert_eq!(e.variable, "LOG_FORMAT");
        assert_eq!(e.to_string().lines().count(), 1);
    }
}
