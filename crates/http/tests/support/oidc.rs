//! A loopback OpenID provider and real signing keys for tests: serves a discovery document
//! and a JWKS on 127.0.0.1 from a thread, and mints tokens with RSA and EC keys made here.
//! Shared by `crates/http/tests/authn.rs` and the end-to-end `tests/tests/oidc.rs` (included
//! by path), each of which uses only a part, hence the allowance below.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const AUDIENCE: &str = "pas";

// ---------------------------------------------------------------------------------------
// Keys

pub struct TestKey {
    pub encoding: EncodingKey,
    /// The public JWK without `kid` (each test names its own).
    pub jwk: Jwk,
    pub alg: Algorithm,
    /// The public key's DER, for the "HS256 with the public key as secret" attack.
    pub public_der: Vec<u8>,
}

impl TestKey {
    pub fn jwk(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).expect("jwk json")
    }

    pub fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        self.sign_as(self.alg, kid, claims)
    }

    pub fn sign_as(&self, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

pub fn rsa_key(bits: usize) -> TestKey {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    let private =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("rsa key generation");
    let der = private.to_pkcs1_der().expect("pkcs1");
    let encoding = EncodingKey::from_rsa_der(der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("rsa jwk");
    // No `alg` in the JWK, so the key serves RS* and PS* alike.
    jwk.common.key_algorithm = None;
    let public_der = private
        .to_public_key()
        .to_pkcs1_der()
        .expect("public der")
        .as_bytes()
        .to_vec();
    TestKey {
        encoding,
        jwk,
        alg: Algorithm::RS256,
        public_der,
    }
}

pub fn ec_key() -> TestKey {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let secret = p256::SecretKey::random(&mut rsa::rand_core::OsRng);
    let der = secret.to_pkcs8_der().expect("pkcs8");
    let encoding = EncodingKey::from_ec_der(der.as_bytes());
    let jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("ec jwk");
    let public_der = secret
        .public_key()
        .to_public_key_der()
        .expect("public der")
        .as_bytes()
        .to_vec();
    TestKey {
        encoding,
        jwk,
        alg: Algorithm::ES256,
        public_der,
    }
}

/// Generated once per test binary: RSA key generation is the slow part.
pub struct Keys {
    pub rsa: TestKey,
    pub rsa2: TestKey,
    pub ec: TestKey,
    /// Never published: signs tokens that name a published `kid`.
    pub stranger: TestKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: rsa_key(2048),
        rsa2: rsa_key(2048),
        ec: ec_key(),
        stranger: rsa_key(2048),
    })
}

pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("time")
}

/// Claims a Keycloak access token of `issuer` would carry.
pub fn claims(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "aud": [AUDIENCE, "account"],
        "sub": "0b1c6f0e-1",
        "preferred_username": "anna",
        "exp": now + 300,
        "iat": now - 1,
        "nbf": now - 1,
        "azp": "portal-frontend",
        "realm_access": {"roles": ["pas-user", "offline_access"]},
        "resource_access": {
            AUDIENCE: {"roles": ["pas-auditor"]},
            "account": {"roles": ["pas-admin", "manage-account"]}
        },
        "roles": ["pas-signer"],
        "groups": ["/sales", "/legal/contracts"],
        "serialNumber": "PNOLV-161175-19997"
    })
}

pub fn with(mut base: Value, changes: Value) -> Value {
    if let (Some(base), Value::Object(changes)) = (base.as_object_mut(), changes) {
        for (k, v) in changes {
            if v.is_null() {
                base.remove(&k);
            } else {
                base.insert(k, v);
            }
        }
    }
    base
}

pub fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

// ---------------------------------------------------------------------------------------
// A loopback identity provider

pub struct ProviderState {
    pub issuer: String,
    pub discovery_issuer: Option<String>,
    pub jwks: Value,
    pub failing: bool,
}

/// Serves `/.well-known/openid-configuration` and `/jwks` on 127.0.0.1 from a thread; the
/// JWKS can be replaced, made to fail, and the whole server taken down.
pub struct Provider {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<ProviderState>>,
    pub jwks_hits: Arc<AtomicUsize>,
    pub stop: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl Provider {
    pub fn start(jwks: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(ProviderState {
            issuer: format!("http://{addr}/realms/pas"),
            discovery_issuer: None,
            jwks,
            failing: false,
        }));
        let jwks_hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, hits, stop) = (state.clone(), jwks_hits.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &state, &hits);
                    }
                }
            })
        };
        Self {
            addr,
            state,
            jwks_hits,
            stop,
            thread: Some(thread),
        }
    }

    pub fn issuer(&self) -> String {
        self.state.lock().expect("state").issuer.clone()
    }

    pub fn jwks_url(&self) -> String {
        format!("http://{}/realms/pas/jwks", self.addr)
    }

    pub fn set_jwks(&self, jwks: Value) {
        self.state.lock().expect("state").jwks = jwks;
    }

    pub fn set_failing(&self, failing: bool) {
        self.state.lock().expect("state").failing = failing;
    }

    pub fn set_discovery_issuer(&self, issuer: &str) {
        self.state.lock().expect("state").discovery_issuer = Some(issuer.to_owned());
    }

    pub fn jwks_hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    /// Stops listening: later fetches are refused connections.
    pub fn take_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag and drops the listener.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            t.join().expect("provider thread");
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.take_down();
    }
}

pub fn serve(mut stream: TcpStream, state: &Mutex<ProviderState>, hits: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (status, body) = {
        let state = state.lock().expect("state");
        match path.as_str() {
            _ if state.failing => ("500 Internal Server Error", "{}".to_owned()),
            "/realms/pas/.well-known/openid-configuration" => (
                "200 OK",
                json!({
                    "issuer": state.discovery_issuer.clone().unwrap_or_else(|| state.issuer.clone()),
                    "jwks_uri": format!("{}/jwks", state.issuer),
                })
                .to_string(),
            ),
            "/realms/pas/jwks" => {
                hits.fetch_add(1, Ordering::SeqCst);
                ("200 OK", state.jwks.to_string())
            }
            _ => ("404 Not Found", "{}".to_owned()),
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

pub fn jwks(keys: &[(&TestKey, &str)]) -> Value {
    json!({"keys": keys.iter().map(|(k, kid)| k.jwk(kid)).collect::<Vec<_>>()})
}

/// A port nothing listens on.
pub fn closed_port_issuer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/realms/pas")
}
