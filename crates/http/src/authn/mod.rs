//! Authentication (PRODUCT.md section 10): how a request's `Authorization: Bearer …` header
//! becomes the domain's [`Principal`].
//!
//! `AUTH_MODE` picks the proof a caller brings ([`AuthMode`]): none (`off`, development on a
//! loopback address only), a JWT of an OpenID Connect provider ([`oidc`]), a static token of
//! `AUTH_TOKENS_FILE` ([`tokens`]), or either. One [`Authenticator`] per instance holds the
//! provider's keys and the token table; its clones share them. The [`authenticate`]
//! middleware puts the principal into the request's extensions, or answers 401/503 itself.
//!
//! What this module decides is who the caller is; what the caller may do is decided by
//! `pas_domain::auth`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use pas_domain::auth::Principal;

use crate::problem::ApiError;

mod claims;
mod middleware;
pub mod oidc;
pub mod tokens;

pub use middleware::{DEFAULT_USER, authenticate, development_principal};

/// How callers prove who they are (`AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// `off`: no credentials; every caller is [`Principal::development`], named by `X-User`.
    Off,
    /// `oidc`: bearer JWTs of an OpenID Connect provider.
    Oidc,
    /// `tokens`: static bearer tokens of `AUTH_TOKENS_FILE`.
    Tokens,
    /// `oidc,tokens`: both; a bearer value is tried as a JWT first.
    OidcAndTokens,
}

impl AuthMode {
    /// Whether JWTs are accepted.
    pub const fn uses_oidc(self) -> bool {
        matches!(self, Self::Oidc | Self::OidcAndTokens)
    }

    /// Whether static tokens are accepted.
    pub const fn uses_tokens(self) -> bool {
        matches!(self, Self::Tokens | Self::OidcAndTokens)
    }
}

/// `AUTH_MODE` is none of `off`, `oidc`, `tokens`, `oidc,tokens`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected off, oidc, tokens or oidc,tokens")]
pub struct UnknownAuthMode;

impl FromStr for AuthMode {
    type Err = UnknownAuthMode;

    /// `off`, `oidc`, `tokens`, or `oidc,tokens` (either order; `+` also separates).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut oidc = false;
        let mut tokens = false;
        let mut off = false;
        for part in s.split([',', '+']).map(str::trim) {
            match part.to_ascii_lowercase().as_str() {
                "off" => off = true,
                "oidc" => oidc = true,
                "tokens" => tokens = true,
                _ => return Err(UnknownAuthMode),
            }
        }
        match (off, oidc, tokens) {
            (true, false, false) => Ok(Self::Off),
            (false, true, false) => Ok(Self::Oidc),
            (false, false, true) => Ok(Self::Tokens),
            (false, true, true) => Ok(Self::OidcAndTokens),
            _ => Err(UnknownAuthMode),
        }
    }
}

/// The OpenID Connect provider (`OIDC_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`: `iss` must equal it; https unless a loopback host.
    pub issuer: String,
    /// `OIDC_AUDIENCE`: `aud` must contain it; also names the client of
    /// `resource_access.<audience>.roles`.
    pub audience: String,
    /// `OIDC_JWKS_URL`; `None` discovers `jwks_uri` at
    /// `{issuer}/.well-known/openid-configuration`.
    pub jwks_url: Option<String>,
    /// `OIDC_GROUPS_CLAIM` (default `groups`): a dotted path to an array of group names.
    pub groups_claim: String,
    /// `OIDC_ROLES_CLAIMS`: dotted paths read for role names besides `realm_access.roles`,
    /// `resource_access.<audience>.roles` and `roles`.
    pub roles_claims: Vec<String>,
    /// `OIDC_PERSON_CLAIM` (default `serialNumber`): a dotted path to an ETSI EN 319 412-1
    /// identifier such as `PNOLV-161175-19997`.
    pub person_claim: String,
}

impl OidcSettings {
    /// A provider with the default claim names.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            jwks_url: None,
            groups_claim: "groups".to_owned(),
            roles_claims: Vec::new(),
            person_claim: "serialNumber".to_owned(),
        }
    }
}

/// Everything authentication needs, built by the app's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `AUTH_MODE`.
    pub mode: AuthMode,
    /// The provider; required when `mode` uses OIDC.
    pub oidc: Option<OidcSettings>,
    /// `AUTH_TOKENS_FILE`; required when `mode` uses static tokens.
    pub tokens_file: Option<PathBuf>,
    /// `AUTH_LEEWAY_SECONDS`: clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl AuthSettings {
    /// The leeway of the contract.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

    /// `AUTH_MODE=off`.
    pub fn off() -> Self {
        Self {
            mode: AuthMode::Off,
            oidc: None,
            tokens_file: None,
            leeway: Self::DEFAULT_LEEWAY,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self::off()
    }
}

/// Checks a URL of the provider (issuer, JWKS): `https://`, or `http://` to a loopback host
/// (127.0.0.0/8, `::1`, `localhost`) for development and tests. The error is a short
/// reason, without the URL.
pub fn check_provider_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if parsed.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err("must be https:// unless the host is a loopback address".to_owned()),
        _ => Err("must be an https:// URL".to_owned()),
    }
}

/// Whether a URL host (`localhost`, `127.0.0.1`, `[::1]`) is a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why the [`Authenticator`] cannot be built: one line that names what is wrong and never a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthSetupError {
    /// A mode that needs the provider has no `OIDC_ISSUER`/`OIDC_AUDIENCE`, or a bad URL.
    #[error("invalid {variable}: {message}")]
    Oidc {
        /// The variable at fault.
        variable: &'static str,
        /// What is wrong.
        message: String,
    },
    /// `AUTH_TOKENS_FILE` is missing, unreadable or malformed.
    #[error("invalid AUTH_TOKENS_FILE: {0}")]
    Tokens(String),
    /// The HTTP client for the provider could not be built.
    #[error("cannot build the HTTP client for the identity provider: {0}")]
    Client(String),
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header, an empty one, or another scheme than `Bearer` (401).
    #[error("no bearer token")]
    Missing,
    /// A bearer value that is not a valid token (401, `error="invalid_token"`). The reason
    /// is for the log only and never holds the token.
    #[error("invalid bearer token: {0}")]
    Invalid(String),
    /// No key of the identity provider has been loaded yet (503, `Retry-After`).
    #[error("the identity provider's keys are not loaded")]
    Unavailable,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => ApiError::Unauthorized {
                invalid_token: false,
            },
            AuthError::Invalid(_) => ApiError::Unauthorized {
                invalid_token: true,
            },
            AuthError::Unavailable => ApiError::AuthUnavailable,
        }
    }
}

/// Turns bearer values into principals. Cheap to clone: clones share the provider's key
/// cache and the token table, so build one per instance and register it with
/// `App::app_data(web::Data::new(authenticator))`.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    mode: AuthMode,
    oidc: Option<oidc::OidcVerifier>,
    tokens: Option<tokens::TokenTable>,
}

impl std::fmt::Debug for Authenticator {
    // Names the mode and sizes only: never a key or a token hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("mode", &self.inner.mode)
            .field("oidc_ready", &self.is_ready())
            .field("tokens", &self.inner.tokens.as_ref().map(|t| t.len()))
            .finish()
    }
}

impl Authenticator {
    /// `AUTH_MODE=off`: every request is a development principal.
    pub fn off() -> Self {
        Self {
            inner: Arc::new(Inner {
                mode: AuthMode::Off,
                oidc: None,
                tokens: None,
            }),
        }
    }

    /// Checks the settings and reads the tokens file. Fetches nothing: the provider's keys
    /// come from [`Self::keep_keys_loaded`] (or [`Self::load_keys`]).
    pub fn new(settings: AuthSettings) -> Result<Self, AuthSetupError> {
        let leeway = settings.leeway.as_secs();
        let oidc = if settings.mode.uses_oidc() {
            let Some(oidc) = settings.oidc else {
                return Err(AuthSetupError::Oidc {
                    variable: "OIDC_ISSUER",
                    message: "is required when AUTH_MODE uses oidc".to_owned(),
                });
            };
            Some(oidc::OidcVerifier::new(oidc, leeway)?)
        } else {
            None
        };
        let tokens = if settings.mode.uses_tokens() {
            let Some(path) = settings.tokens_file else {
                return Err(AuthSetupError::Tokens(
                    "is required when AUTH_MODE uses tokens".to_owned(),
                ));
            };
            Some(tokens::TokenTable::from_file(&path).map_err(AuthSetupError::Tokens)?)
        } else {
            None
        };
        Ok(Self {
            inner: Arc::new(Inner {
                mode: settings.mode,
                oidc,
                tokens,
            }),
        })
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.inner.mode
    }

    /// Whether no credentials are asked for (`AUTH_MODE=off`).
    pub fn is_off(&self) -> bool {
        self.inner.mode == AuthMode::Off
    }

    /// Whether requests can be authenticated: false while OIDC is on and no key of the
    /// provider was ever loaded (`GET /ready` reports it).
    pub fn is_ready(&self) -> bool {
        self.inner.oidc.as_ref().is_none_or(|o| o.has_keys())
    }

    /// The principal of an `Authorization` header value.
    ///
    /// In `off` mode this is an error-free [`Principal::development`] named `api`; the
    /// middleware reads `X-User` instead (see [`development_principal`]).
    pub async fn authenticate(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<Principal, AuthError> {
        if self.is_off() {
            return Ok(Principal::development(DEFAULT_USER, None));
        }
        let token = bearer(authorization_header).ok_or(AuthError::Missing)?;
        let looks_like_jwt = token.bytes().filter(|b| *b == b'.').count() == 2;
        match (&self.inner.oidc, &self.inner.tokens) {
            (Some(oidc), Some(tokens)) => {
                if looks_like_jwt {
                    oidc.verify(token).await
                } else {
                    tokens.verify(token, time::OffsetDateTime::now_utc())
                }
            }
            (Some(oidc), None) => {
                if looks_like_jwt {
                    oidc.verify(token).await
                } else {
                    Err(AuthError::Invalid("not a JWT".to_owned()))
                }
            }
            (None, Some(tokens)) => tokens.verify(token, time::OffsetDateTime::now_utc()),
            // `new` never builds a mode other than off without one of them.
            (None, None) => Err(AuthError::Unavailable),
        }
    }

    /// One attempt to load the provider's signing keys (discovery, then the JWKS). Does
    /// nothing when OIDC is off. The error is one line for the log.
    pub async fn load_keys(&self) -> Result<(), String> {
        match &self.inner.oidc {
            Some(oidc) => oidc.load_keys().await,
            None => Ok(()),
        }
    }

    /// Loads the provider's keys, retrying after 1 s, 2 s, 4 s … (at most 30 s between
    /// attempts) until they load; then returns. Spawn it at start:
    /// `tokio::spawn(authenticator.clone().keep_keys_loaded())`. Later key rotations are
    /// picked up by a token with an unknown `kid`.
    pub async fn keep_keys_loaded(self) {
        let Some(oidc) = &self.inner.oidc else {
            return;
        };
        let mut delay = Duration::from_secs(1);
        loop {
            match oidc.load_keys().await {
                Ok(()) => {
                    tracing::info!("identity provider keys loaded");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "identity provider keys not loaded");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case); `None`
/// for no header, another scheme or an empty token.
fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_any_order_and_case() {
        assert_eq!("off".parse(), Ok(AuthMode::Off));
        assert_eq!("OIDC".parse(), Ok(AuthMode::Oidc));
        assert_eq!("tokens".parse(), Ok(AuthMode::Tokens));
        assert_eq!("oidc,tokens".parse(), Ok(AuthMode::OidcAndTokens));
        assert_eq!("tokens, oidc".parse(), Ok(AuthMode::OidcAndTokens));
        assert_eq!("oidc+tokens".parse(), Ok(AuthMode::OidcAndTokens));
        for bad in ["", "on", "off,oidc", "jwt", "oidc,"] {
            assert_eq!(bad.parse::<AuthMode>(), Err(UnknownAuthMode), "{bad}");
        }
    }

    #[test]
    fn provider_urls_are_https_unless_loopback() {
        for ok in [
            "https://login.example.com/realms/pas",
            "http://127.0.0.1:8081/realms/pas",
            "http://127.9.9.9/x",
            "http://localhost:8080",
            "http://[::1]:9000/",
        ] {
            assert_eq!(check_provider_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://login.example.com",
            "http://10.0.0.1/realms/pas",
            "ftp://localhost/",
            "login.example.com",
            "http://localhost.example.com/",
        ] {
            assert!(check_provider_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bearer_value_is_taken_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(Some("")), None);
        assert_eq!(bearer(None), None);
    }

    #[tokio::test]
    async fn off_needs_nothing_and_is_ready() {
        let auth = Authenticator::off();
        assert!(auth.is_off() && auth.is_ready());
        let p = auth.authenticate(None).await.expect("off mode");
        assert_eq!(p.subject, "api");
        assert_eq!(auth.load_keys().await, Ok(()));
    }

    #[test]
    fn a_mode_without_its_settings_is_refused() {
        let oidc = AuthSettings {
            mode: AuthMode::Oidc,
            ..AuthSettings::off()
        };
        assert!(matches!(
            Authenticator::new(oidc),
            Err(AuthSetupError::Oidc { .. })
        ));
        let tokens = AuthSettings {
            mode: AuthMode::Tokens,
            ..AuthSettings::off()
        };
        assert!(matches!(
            Authenticator::new(tokens),
            Err(AuthSetupError::Tokens(_))
        ));
    }
}
