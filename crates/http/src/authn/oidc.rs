//! Bearer JWTs of an OpenID Connect provider (PRODUCT.md section 10).
//!
//! Rules, in the order they are checked:
//! - the header's `alg` is one of [`ACCEPTED_ALGORITHMS`] (RS*, PS*, ES256/384, EdDSA);
//!   `none` and HS* are refused whatever else the token says;
//! - the header's `kid` names a cached key of the provider's JWKS, whose key type (and
//!   `alg`, when the JWK states one) fit the header's `alg`: an RSA key never checks an EC
//!   signature, and no symmetric (`oct`) key is ever loaded, so a token signed with the
//!   public key as an HMAC secret finds nothing to verify against;
//! - the signature (by `jsonwebtoken`), then `iss` equal to `OIDC_ISSUER`, `aud` containing
//!   `OIDC_AUDIENCE`, `exp` present and not past, `nbf` not future, and `iat` not future,
//!   each with `AUTH_LEEWAY_SECONDS` of clock skew.
//!
//! Keys are cached by `kid`. A token with an unknown `kid` triggers a JWKS refetch, at most
//! one per [`REFETCH_INTERVAL`] across all requests (key rotation without letting anyone
//! make the service hammer the provider). A failed fetch keeps the cached keys; with no key
//! ever loaded, verification answers [`AuthError::Unavailable`] (503).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pas_domain::auth::Principal;
use serde_json::{Map, Value};

use super::{AuthError, AuthSetupError, OidcSettings, check_provider_url, claims};

/// The signature algorithms a token may use.
pub const ACCEPTED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The shortest time between two JWKS refetches caused by unknown `kid`s.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// How long one request to the provider may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest discovery document or JWKS read (a JWKS is a few kilobytes).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The kinds of public key a token can be verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    /// Whether a key of this kind verifies `alg`.
    fn verifies(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            KeyKind::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            KeyKind::P256 => alg == ES256,
            KeyKind::P384 => alg == ES384,
            KeyKind::Ed25519 => alg == EdDSA,
        }
    }
}

/// A provider key ready to verify with.
struct VerifyingKey {
    key: DecodingKey,
    kind: KeyKind,
    /// The JWK's own `alg`, when it states one: then only that algorithm.
    alg: Option<Algorithm>,
}

impl VerifyingKey {
    /// The key of a JWK, if it is a public signing key of a kind we accept; anything else
    /// (encryption keys, symmetric keys, P-521, unknown algorithms) is left out.
    fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            return None;
        }
        let alg = match &jwk.common.key_algorithm {
            None => None,
            Some(k) => Some(Algorithm::from_str(&k.to_string()).ok()?),
        };
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(p) => match p.curve {
                EllipticCurve::P256 => KeyKind::P256,
                EllipticCurve::P384 => KeyKind::P384,
                _ => return None,
            },
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                KeyKind::Ed25519
            }
            // A symmetric key in a JWKS would let anyone who reads it sign tokens.
            AlgorithmParameters::OctetKey(_) | AlgorithmParameters::OctetKeyPair(_) => {
                return None;
            }
        };
        if alg.is_some_and(|a| !kind.verifies(a) || !ACCEPTED_ALGORITHMS.contains(&a)) {
            return None;
        }
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some(Self { key, kind, alg })
    }

    fn verifies(&self, alg: Algorithm) -> bool {
        self.kind.verifies(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// The provider's keys, replaced as a whole on each successful fetch.
#[derive(Default)]
struct KeyCache {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    /// Keys the JWKS publishes without a `kid` (rare; used only by tokens without one).
    without_kid: Vec<Arc<VerifyingKey>>,
}

/// Verifies JWTs of one provider; shared by all requests of an instance.
pub(crate) struct OidcVerifier {
    settings: OidcSettings,
    leeway: u64,
    client: reqwest::Client,
    cache: RwLock<KeyCache>,
    ever_loaded: AtomicBool,
    /// When an unknown `kid` last caused a refetch.
    last_refetch: Mutex<Option<Instant>>,
    /// The discovered `jwks_uri`, once known.
    discovered: Mutex<Option<String>>,
}

impl OidcVerifier {
    pub(crate) fn new(settings: OidcSettings, leeway: u64) -> Result<Self, AuthSetupError> {
        let bad =
            |variable: &'static str, message: String| AuthSetupError::Oidc { variable, message };
        if settings.issuer.trim().is_empty() {
            return Err(bad("OIDC_ISSUER", "is required".to_owned()));
        }
        check_provider_url(&settings.issuer).map_err(|m| bad("OIDC_ISSUER", m))?;
        if settings.audience.trim().is_empty() {
            return Err(bad("OIDC_AUDIENCE", "is required".to_owned()));
        }
        if let Some(url) = &settings.jwks_url {
            check_provider_url(url).map_err(|m| bad("OIDC_JWKS_URL", m))?;
        }
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| AuthSetupError::Client(e.to_string()))?;
        Ok(Self {
            settings,
            leeway,
            client,
            cache: RwLock::new(KeyCache::default()),
            ever_loaded: AtomicBool::new(false),
            last_refetch: Mutex::new(None),
            discovered: Mutex::new(None),
        })
    }

    pub(crate) fn has_keys(&self) -> bool {
        self.ever_loaded.load(Ordering::Acquire)
    }

    /// The principal of a bearer JWT.
    pub(crate) async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            // `alg: none` lands here too: the crate has no such algorithm.
            .map_err(|e| invalid(&format!("malformed JWT header ({})", reason(e.kind()))))?;
        if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
            return Err(invalid(&format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        if !self.has_keys() {
            return Err(AuthError::Unavailable);
        }
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        if !key.verifies(header.alg) {
            return Err(invalid(&format!(
                "the key {:?} does not verify {:?}",
                header.kid.unwrap_or_default(),
                header.alg
            )));
        }

        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.set_audience(&[self.settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| invalid(reason(e.kind())))?;
        let claims = data.claims;

        // `jsonwebtoken` does not look at `iat`; a token from the future is a forged or
        // misconfigured one.
        if let Some(iat) = claims.get("iat") {
            let iat = iat.as_f64().ok_or_else(|| invalid("iat is not a number"))?;
            let now = jsonwebtoken::get_current_timestamp() as f64;
            if iat > now + self.leeway as f64 {
                return Err(invalid("issued in the future (iat)"));
            }
        }
        claims::principal(&claims, &self.settings)
            .ok_or_else(|| invalid("no preferred_username or sub"))
    }

    /// The key a token names; an unknown `kid` may refetch the JWKS once.
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Arc<VerifyingKey>, AuthError> {
        let Some(kid) = kid else {
            return self
                .only_key_for(alg)
                .ok_or_else(|| invalid("no kid, and not exactly one key fits"));
        };
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if self.may_refetch() {
            if let Err(e) = self.load_keys().await {
                tracing::warn!(error = %e, "refetching the identity provider's keys failed; the cached ones stay");
            }
            if let Some(key) = self.cached(kid) {
                return Ok(key);
            }
        }
        Err(invalid(&format!("unknown key id {kid:?}")))
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.by_kid.get(kid).cloned()
    }

    /// For a token without `kid`: the one cached key that verifies `alg`, if exactly one.
    fn only_key_for(&self, alg: Algorithm) -> Option<Arc<VerifyingKey>> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let mut fitting = cache
            .by_kid
            .values()
            .chain(cache.without_kid.iter())
            .filter(|k| k.verifies(alg));
        let first = fitting.next()?;
        fitting.next().is_none().then(|| first.clone())
    }

    /// Claims the refetch slot: true at most once per [`REFETCH_INTERVAL`].
    fn may_refetch(&self) -> bool {
        let mut last = self.last_refetch.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < REFETCH_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// One attempt: the JWKS (`OIDC_JWKS_URL`, else the discovered `jwks_uri`), whose
    /// usable keys replace the cached ones. An error leaves the cache as it was.
    pub(crate) async fn load_keys(&self) -> Result<(), String> {
        let url = self.jwks_url().await?;
        let doc = self.fetch_json(&url).await?;
        let Some(items) = doc.get("keys").and_then(Value::as_array) else {
            return Err(format!("{url} is not a JWKS (no \"keys\" array)"));
        };
        let mut fresh = KeyCache::default();
        // Parsed key by key rather than as one `JwkSet`: a key type this crate does not
        // know (Ed448, say) must not hide the keys it does.
        for item in items {
            let Ok(jwk) = serde_json::from_value::<Jwk>(item.clone()) else {
                continue;
            };
            let Some(key) = VerifyingKey::from_jwk(&jwk) else {
                continue;
            };
            match jwk.common.key_id {
                Some(kid) => {
                    fresh.by_kid.insert(kid, Arc::new(key));
                }
                None => fresh.without_kid.push(Arc::new(key)),
            }
        }
        if fresh.by_kid.is_empty() && fresh.without_kid.is_empty() {
            return Err(format!("the JWKS at {url} holds no usable signing key"));
        }
        let count = fresh.by_kid.len() + fresh.without_kid.len();
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        self.ever_loaded.store(true, Ordering::Release);
        tracing::debug!(keys = count, "identity provider keys cached");
        Ok(())
    }

    async fn jwks_url(&self) -> Result<String, String> {
        if let Some(url) = &self.settings.jwks_url {
            return Ok(url.clone());
        }
        if let Some(url) = self
            .discovered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(url);
        }
        let issuer = self.settings.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let doc = self.fetch_json(&url).await?;
        let named = doc
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // OpenID Connect Discovery 1.0, section 4.3: a document for another issuer is not
        // this provider's (and its tokens would fail the `iss` check anyway).
        if named.trim_end_matches('/') != issuer {
            return Err(format!(
                "{url} names the issuer {named:?}, not OIDC_ISSUER {:?}",
                self.settings.issuer
            ));
        }
        let jwks = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{url} has no jwks_uri"))?
            .to_owned();
        check_provider_url(&jwks).map_err(|m| format!("the jwks_uri of {url} {m}"))?;
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) = Some(jwks.clone());
        Ok(jwks)
    }

    async fn fetch_json(&self, url: &str) -> Result<Value, String> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("cannot read {url}: {}", without_url(&e)))?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        serde_json::from_slice(&body).map_err(|_| format!("{url} is not JSON"))
    }
}

/// A reqwest error's text without its URL (the caller names it once).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind} ({source})"),
        None => kind.to_owned(),
    }
}

fn invalid(reason: &str) -> AuthError {
    AuthError::Invalid(reason.to_owned())
}

/// A fixed text per failure: the crate's own messages may quote parts of the token.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidToken => "malformed JWT",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "expired (exp)",
        ErrorKind::ImmatureSignature => "not yet valid (nbf)",
        ErrorKind::InvalidIssuer => "wrong issuer (iss)",
        ErrorKind::InvalidAudience => "wrong audience (aud)",
        ErrorKind::MissingRequiredClaim(c) if c == "exp" => "missing claim exp",
        ErrorKind::MissingRequiredClaim(c) if c == "iss" => "missing claim iss",
        ErrorKind::MissingRequiredClaim(c) if c == "aud" => "missing claim aud",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::InvalidClaimFormat(_) => "malformed claim",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not accepted",
        ErrorKind::Base64(_) => "malformed base64",
        ErrorKind::Json(_) => "malformed JSON",
        ErrorKind::Utf8(_) => "malformed UTF-8",
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidEddsaKey => {
            "the key does not fit"
        }
        _ => "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kinds_verify_only_their_algorithms() {
        assert!(KeyKind::Rsa.verifies(Algorithm::PS384));
        assert!(!KeyKind::Rsa.verifies(Algorithm::ES256));
        assert!(!KeyKind::Rsa.verifies(Algorithm::HS256));
        assert!(KeyKind::P256.verifies(Algorithm::ES256));
        assert!(!KeyKind::P256.verifies(Algorithm::ES384));
        assert!(KeyKind::Ed25519.verifies(Algorithm::EdDSA));
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            assert!(!ACCEPTED_ALGORITHMS.contains(&alg));
        }
    }

    #[test]
    fn symmetric_and_encryption_keys_are_never_loaded() {
        let oct: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "oct", "kid": "h", "k": "c2VjcmV0"
        }))
        .expect("jwk");
        assert!(VerifyingKey::from_jwk(&oct).is_none());
        let enc: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "enc", "kid": "e",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .expect("jwk");
        assert!(VerifyingKey::from_jwk(&enc).is_none());
        let sig: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "s",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .expect("jwk");
        let key = VerifyingKey::from_jwk(&sig).expect("usable");
        assert!(key.verifies(Algorithm::ES256) && !key.verifies(Algorithm::RS256));
        let mislabelled: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "HS256", "kid": "m",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .expect("jwk");
        assert!(VerifyingKey::from_jwk(&mislabelled).is_none());
    }

    #[test]
    fn the_refetch_slot_is_taken_once_per_interval() {
        let v = OidcVerifier::new(OidcSettings::new("http://127.0.0.1:1", "pas"), 60)
            .expect("settings");
        assert!(v.may_refetch());
        assert!(!v.may_refetch());
        *v.last_refetch.lock().expect("lock") = Some(Instant::now() - REFETCH_INTERVAL);
        assert!(v.may_refetch());
    }
}
