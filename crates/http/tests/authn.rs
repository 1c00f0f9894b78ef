//! Authentication end to end (PRODUCT.md section 10): real RSA and EC keys, a JWKS and a
//! discovery document served from a loopback provider started here, and a small actix app
//! wrapped in the `authenticate` middleware whose one route echoes the principal.

use std::io::Write;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, test, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pas_domain::auth::Principal;
use pas_http::authn::{
    AuthError, AuthMode, AuthSettings, Authenticator, OidcSettings, authenticate,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[path = "support/oidc.rs"]
mod oidc;

use oidc::*;

// ---------------------------------------------------------------------------------------
// The app

async fn echo(req: HttpRequest) -> HttpResponse {
    let extensions = req.extensions();
    let Some(p) = extensions.get::<Principal>() else {
        return HttpResponse::InternalServerError().finish();
    };
    HttpResponse::Ok().json(json!({
        "subject": p.subject,
        "groups": p.groups,
        "roles": p.roles.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "client": p.client,
        "person": p.person.as_ref().map(|k| json!({"code": k.code, "country": k.country.as_str()})),
    }))
}

async fn app(
    auth: Option<Authenticator>,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let mut app = App::new();
    if let Some(auth) = auth {
        app = app.app_data(web::Data::new(auth));
    }
    test::init_service(
        app.service(
            web::scope("/api")
                .wrap(from_fn(authenticate))
                .route("/me", web::get().to(echo)),
        ),
    )
    .await
}

struct Answer {
    status: StatusCode,
    www_authenticate: Option<String>,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Value,
}

async fn call<S, B>(app: &S, authorization: Option<&str>, headers: &[(&str, &str)]) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::get().uri("/api/me");
    if let Some(a) = authorization {
        req = req.insert_header(("Authorization", a));
    }
    for (name, value) in headers {
        // Bytes, not `&str`: user names with diacritics are UTF-8.
        let value = actix_web::http::header::HeaderValue::from_bytes(value.as_bytes())
            .expect("header value");
        req = req.insert_header((*name, value));
    }
    let res = test::call_service(app, req.to_request()).await;
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = res.status();
    let www_authenticate = header("www-authenticate");
    let retry_after = header("retry-after");
    let content_type = header("content-type");
    let bytes = test::read_body(res).await;
    Answer {
        status,
        www_authenticate,
        retry_after,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn bearer<S, B>(app: &S, token: &str) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    call(app, Some(&format!("Bearer {token}")), &[]).await
}

fn assert_invalid_token(a: &Answer, case: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{case}: {:?}", a.body);
    assert_eq!(
        a.www_authenticate.as_deref(),
        Some(r#"Bearer realm="pas", error="invalid_token""#),
        "{case}"
    );
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/problem+json"),
        "{case}"
    );
    assert_eq!(a.body["type"], "urn:pas:problem:unauthorized", "{case}");
    assert_eq!(a.body["status"], 401, "{case}");
}

fn oidc_settings(provider_issuer: &str) -> AuthSettings {
    AuthSettings {
        mode: AuthMode::Oidc,
        oidc: Some(OidcSettings::new(provider_issuer, AUDIENCE)),
        tokens_file: None,
        leeway: Duration::from_secs(60),
    }
}

/// A provider publishing the RSA key as `k1` and the EC key as `e1`, and an authenticator
/// that has loaded them.
async fn loaded() -> (Provider, Authenticator) {
    let k = keys();
    let provider = Provider::start(jwks(&[(&k.rsa, "k1"), (&k.ec, "e1")]));
    let auth = Authenticator::new(oidc_settings(&provider.issuer())).expect("settings");
    assert!(!auth.is_ready());
    auth.load_keys().await.expect("keys load");
    assert!(auth.is_ready());
    (provider, auth)
}

// ---------------------------------------------------------------------------------------
// OIDC

#[actix_web::test]
async fn a_valid_token_gives_its_principal() {
    let (provider, auth) = loaded().await;
    let app = app(Some(auth)).await;
    let token = keys().rsa.sign(Some("k1"), &claims(&provider.issuer()));
    let a = bearer(&app, &token).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        a.body,
        json!({
            "subject": "anna",
            // realm_access, resource_access.pas and the top-level roles; not `account`'s
            // pas-admin, and not the provider's own roles.
            "roles": ["pas-user", "pas-auditor", "pas-signer"],
            "groups": ["sales", "legal/contracts"],
            "client": "portal-frontend",
            "person": {"code": "16117519997", "country": "LV"},
        })
    );
}

#[actix_web::test]
async fn es256_and_ps256_tokens_are_accepted_and_sub_and_client_id_are_fallbacks() {
    let (provider, auth) = loaded().await;
    let app = app(Some(auth)).await;
    let base = with(
        claims(&provider.issuer()),
        json!({"preferred_username": null, "azp": null, "client_id": "batch", "serialNumber": "IDCLV-1"}),
    );
    let a = bearer(&app, &keys().ec.sign(Some("e1"), &base)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["subject"], "0b1c6f0e-1");
    assert_eq!(a.body["client"], "batch");
    assert_eq!(
        a.body["person"],
        Value::Null,
        "not a PNO identifier: no person"
    );

    let ps = keys().rsa.sign_as(Algorithm::PS256, Some("k1"), &base);
    assert_eq!(bearer(&app, &ps).await.status, StatusCode::OK);
    let rs512 = keys().rsa.sign_as(Algorithm::RS512, Some("k1"), &base);
    assert_eq!(bearer(&app, &rs512).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn no_token_is_401_with_a_bare_bearer_challenge() {
    let (_provider, auth) = loaded().await;
    let app = app(Some(auth)).await;
    for header in [
        None,
        Some(""),
        Some("Bearer"),
        Some("Bearer   "),
        Some("Basic YTpi"),
    ] {
        let a = call(&app, header, &[("X-User", "root")]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(
            a.www_authenticate.as_deref(),
            Some(r#"Bearer realm="pas""#),
            "{header:?}"
        );
        assert_eq!(a.content_type.as_deref(), Some("application/problem+json"));
        assert_eq!(a.body["type"], "urn:pas:problem:unauthorized");
        assert_eq!(a.body["title"], "Unauthorized");
        assert_eq!(a.body["status"], 401);
    }
}

#[actix_web::test]
async fn bad_tokens_are_401_invalid_token() {
    let (provider, auth) = loaded().await;
    let app = app(Some(auth.clone())).await;
    let k = keys();
    let issuer = provider.issuer();
    let good = claims(&issuer);
    let now = now();
    let sign = |changes: Value| k.rsa.sign(Some("k1"), &with(good.clone(), changes));

    let valid = k.rsa.sign(Some("k1"), &good);
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(
            good.clone(),
            json!({"realm_access": {"roles": ["pas-admin"]}})
        )),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "k1"})),
        b64(&good)
    );
    let alg_none_signed = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "k1"})),
        b64(&good),
        parts[2]
    );
    let hs_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(&k.rsa.public_der))
            .expect("hs256")
    };
    let hs_with_jwk_text = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".to_owned());
        let secret = k.rsa.jwk("k1").to_string();
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(secret.as_bytes()))
            .expect("hs256")
    };
    let ec_hs = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("e1".to_owned());
        jsonwebtoken::encode(&header, &good, &EncodingKey::from_secret(&k.ec.public_der))
            .expect("hs256")
    };

    // (case, token, the reason the log gives)
    let cases: Vec<(&str, String, &str)> = vec![
        ("not a JWT", "opaque-value".to_owned(), "not a JWT"),
        (
            "three garbage parts",
            "abc.def.ghi".to_owned(),
            "malformed JWT header",
        ),
        (
            "expired beyond the leeway",
            sign(json!({"exp": now - 120})),
            "expired",
        ),
        (
            "not yet valid",
            sign(json!({"nbf": now + 600})),
            "not yet valid",
        ),
        (
            "issued in the future",
            sign(json!({"iat": now + 600})),
            "issued in the future",
        ),
        ("no exp", sign(json!({"exp": null})), "missing claim exp"),
        (
            "wrong issuer",
            sign(json!({"iss": "http://127.0.0.1:1/realms/evil"})),
            "wrong issuer",
        ),
        (
            "issuer with a trailing slash",
            sign(json!({"iss": format!("{issuer}/")})),
            "wrong issuer",
        ),
        ("no issuer", sign(json!({"iss": null})), "missing claim iss"),
        (
            "wrong audience",
            sign(json!({"aud": ["account", "other"]})),
            "wrong audience",
        ),
        (
            "no audience",
            sign(json!({"aud": null})),
            "missing claim aud",
        ),
        (
            "no subject",
            sign(json!({"sub": null, "preferred_username": null})),
            "no preferred_username or sub",
        ),
        ("tampered payload", tampered, "bad signature"),
        ("alg none", alg_none, "malformed JWT header"),
        (
            "alg none with a signature",
            alg_none_signed,
            "malformed JWT header",
        ),
        (
            "HS256 with the public key's DER",
            hs_with_public_key,
            "HS256 is not accepted",
        ),
        (
            "HS256 with the JWK's text",
            hs_with_jwk_text,
            "HS256 is not accepted",
        ),
        ("HS256 on the EC key", ec_hs, "HS256 is not accepted"),
        (
            "RS256 header on the EC key",
            k.rsa.sign_as(Algorithm::RS256, Some("e1"), &good),
            "does not verify RS256",
        ),
        (
            "ES256 header on the RSA key",
            k.ec.sign_as(Algorithm::ES256, Some("k1"), &good),
            "does not verify ES256",
        ),
        (
            "signed by another key under a known kid",
            k.stranger.sign(Some("k1"), &good),
            "bad signature",
        ),
        (
            "no kid, signed by another key",
            k.stranger.sign(None, &good),
            "bad signature",
        ),
        (
            "unknown kid",
            k.stranger.sign(Some("nobody"), &good),
            "unknown key id",
        ),
    ];
    for (case, token, reason) in &cases {
        assert_invalid_token(&bearer(&app, token).await, case);
        match auth.authenticate(Some(&format!("Bearer {token}"))).await {
            Err(AuthError::Invalid(why)) => {
                assert!(why.contains(reason), "{case}: {why}");
                assert!(
                    !why.contains(token.as_str()),
                    "{case}: the reason quotes the token"
                );
            }
            other => panic!("{case}: {other:?}"),
        }
    }
    // Without a kid, the one published key that fits the algorithm is used.
    assert_eq!(
        bearer(&app, &k.rsa.sign(None, &good)).await.status,
        StatusCode::OK
    );
    // Within the leeway, expiry and not-before are forgiven.
    let lenient = sign(json!({"exp": now - 30, "nbf": now + 30, "iat": now + 30}));
    assert_eq!(bearer(&app, &lenient).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_rotated_key_is_fetched_once_and_a_second_unknown_kid_within_ten_seconds_is_not() {
    let (provider, auth) = loaded().await;
    let app = app(Some(auth)).await;
    let k = keys();
    let good = claims(&provider.issuer());
    assert_eq!(provider.jwks_hits(), 1);

    provider.set_jwks(jwks(&[(&k.rsa, "k1"), (&k.rsa2, "k2")]));
    let a = bearer(&app, &k.rsa2.sign(Some("k2"), &good)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(provider.jwks_hits(), 2, "one refetch for the new kid");
    // Known now: no further fetch.
    assert_eq!(
        bearer(&app, &k.rsa2.sign(Some("k2"), &good)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        bearer(&app, &k.rsa.sign(Some("k1"), &good)).await.status,
        StatusCode::OK
    );
    assert_eq!(provider.jwks_hits(), 2);

    provider.set_jwks(jwks(&[(&k.rsa, "k1"), (&k.rsa2, "k2"), (&k.ec, "k3")]));
    let a = bearer(&app, &k.ec.sign(Some("k3"), &good)).await;
    assert_invalid_token(&a, "second unknown kid within 10 s");
    assert_eq!(
        provider.jwks_hits(),
        2,
        "the refetch limit holds across requests"
    );
}

#[actix_web::test]
async fn cached_keys_keep_working_while_the_provider_is_down() {
    let (mut provider, auth) = loaded().await;
    let issuer = provider.issuer();
    provider.take_down();
    let app = app(Some(auth.clone())).await;
    let k = keys();
    let a = bearer(&app, &k.rsa.sign(Some("k1"), &claims(&issuer))).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert!(auth.load_keys().await.is_err());
    assert!(auth.is_ready(), "a failed fetch keeps the cached keys");
    // An unknown kid tries the provider, fails, and is a plain 401.
    let a = bearer(&app, &k.rsa2.sign(Some("k9"), &claims(&issuer))).await;
    assert_invalid_token(&a, "unknown kid while the provider is down");
    assert_eq!(
        bearer(&app, &k.ec.sign(Some("e1"), &claims(&issuer)))
            .await
            .status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn with_no_key_ever_loaded_a_jwt_is_503_and_not_ready() {
    let issuer = closed_port_issuer();
    let auth = Authenticator::new(oidc_settings(&issuer)).expect("settings");
    assert!(auth.load_keys().await.is_err());
    assert!(!auth.is_ready());
    let app = app(Some(auth)).await;
    let a = bearer(&app, &keys().rsa.sign(Some("k1"), &claims(&issuer))).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", a.body);
    assert_eq!(a.retry_after.as_deref(), Some("5"));
    assert_eq!(a.www_authenticate, None);
    assert_eq!(a.content_type.as_deref(), Some("application/problem+json"));
    assert_eq!(a.body["type"], "urn:pas:problem:unavailable");
    assert_eq!(a.body["status"], 503);
    // Without a token it is still a 401: the challenge does not depend on the keys.
    assert_eq!(call(&app, None, &[]).await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn keep_keys_loaded_retries_until_the_provider_answers() {
    let k = keys();
    let provider = Provider::start(jwks(&[(&k.rsa, "k1")]));
    provider.set_failing(true);
    let auth = Authenticator::new(oidc_settings(&provider.issuer())).expect("settings");
    let task = actix_web::rt::spawn(auth.clone().keep_keys_loaded());
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(!auth.is_ready());
    provider.set_failing(false);
    let waited = actix_web::rt::time::timeout(Duration::from_secs(10), task).await;
    assert!(matches!(waited, Ok(Ok(()))), "the loop returns once loaded");
    assert!(auth.is_ready());
}

#[actix_web::test]
async fn the_jwks_url_can_be_given_and_a_discovery_document_for_another_issuer_is_refused() {
    let k = keys();
    let provider = Provider::start(jwks(&[(&k.rsa, "k1")]));
    provider.set_discovery_issuer("https://elsewhere.example/realms/pas");
    let auth = Authenticator::new(oidc_settings(&provider.issuer())).expect("settings");
    let e = auth.load_keys().await.expect_err("issuer mismatch");
    assert!(e.contains("names the issuer"), "{e}");

    let mut settings = oidc_settings(&provider.issuer());
    if let Some(o) = settings.oidc.as_mut() {
        o.jwks_url = Some(provider.jwks_url());
    }
    let auth = Authenticator::new(settings).expect("settings");
    auth.load_keys().await.expect("direct JWKS");
    let app = app(Some(auth)).await;
    let a = bearer(&app, &k.rsa.sign(Some("k1"), &claims(&provider.issuer()))).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[actix_web::test]
async fn extra_role_and_group_claims_are_read() {
    let k = keys();
    let provider = Provider::start(jwks(&[(&k.rsa, "k1")]));
    let mut settings = oidc_settings(&provider.issuer());
    if let Some(o) = settings.oidc.as_mut() {
        o.roles_claims = vec!["ext.pas.roles".to_owned()];
        o.groups_claim = "memberOf".to_owned();
        o.person_claim = "eid.serial".to_owned();
    }
    let auth = Authenticator::new(settings).expect("settings");
    auth.load_keys().await.expect("keys");
    let app = app(Some(auth)).await;
    let token = k.rsa.sign(
        Some("k1"),
        &with(
            claims(&provider.issuer()),
            json!({
                "realm_access": null, "resource_access": null, "roles": null,
                "ext": {"pas": {"roles": ["pas-portal"]}},
                "memberOf": ["/ops"],
                "eid": {"serial": "PNOEE-37605030299"}
            }),
        ),
    );
    let a = bearer(&app, &token).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["roles"], json!(["pas-portal"]));
    assert_eq!(a.body["groups"], json!(["ops"]));
    assert_eq!(
        a.body["person"],
        json!({"code": "37605030299", "country": "EE"})
    );
}

// ---------------------------------------------------------------------------------------
// Static tokens

fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn tokens_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let text = format!(
        r#"
[[token]]
name = "document-store"
sha256 = "{}"
roles = ["pas-audit-writer"]

[[token]]
name = "eid-kiosk"
sha256 = "{}"
roles = ["pas-signer"]
groups = ["/kiosks"]
person = "PNOLV-161175-19997"
expires = "2999-12-31T23:59:59Z"

[[token]]
name = "old-batch"
sha256 = "{}"
roles = ["pas-admin"]
expires = 2020-01-01T00:00:00Z
"#,
        sha256_hex("store-secret-1"),
        sha256_hex("kiosk-secret-2"),
        sha256_hex("batch-secret-3"),
    );
    file.write_all(text.as_bytes()).expect("write");
    file
}

fn tokens_settings(
    mode: AuthMode,
    file: &tempfile::NamedTempFile,
    issuer: Option<&str>,
) -> AuthSettings {
    AuthSettings {
        mode,
        oidc: issuer.map(|i| OidcSettings::new(i, AUDIENCE)),
        tokens_file: Some(file.path().to_owned()),
        leeway: Duration::from_secs(60),
    }
}

#[actix_web::test]
async fn static_tokens_good_wrong_expired_and_with_a_person() {
    let file = tokens_file();
    let auth = Authenticator::new(tokens_settings(AuthMode::Tokens, &file, None)).expect("file");
    assert!(auth.is_ready());
    let app = app(Some(auth)).await;

    let a = bearer(&app, "store-secret-1").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        a.body,
        json!({"subject": "document-store", "client": "document-store", "roles": ["pas-audit-writer"], "groups": [], "person": null})
    );
    let a = bearer(&app, "kiosk-secret-2").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["roles"], json!(["pas-signer"]));
    assert_eq!(
        a.body["groups"],
        json!(["/kiosks"]),
        "a static token's groups are taken as written"
    );
    assert_eq!(
        a.body["person"],
        json!({"code": "16117519997", "country": "LV"})
    );

    for (case, secret) in [
        ("wrong secret", "store-secret-2"),
        ("the hash itself", sha256_hex("store-secret-1").as_str()),
        ("expired", "batch-secret-3"),
        ("a JWT-shaped value", "a.b.c"),
    ] {
        assert_invalid_token(&bearer(&app, secret).await, case);
    }
    // X-User is ignored unless AUTH_MODE=off.
    let a = call(&app, Some("Bearer store-secret-1"), &[("X-User", "root")]).await;
    assert_eq!(a.body["subject"], "document-store");
}

#[actix_web::test]
async fn oidc_and_tokens_mode_tries_a_jwt_first_then_a_static_token() {
    let k = keys();
    let provider = Provider::start(jwks(&[(&k.rsa, "k1")]));
    let file = tokens_file();
    let auth = Authenticator::new(tokens_settings(
        AuthMode::OidcAndTokens,
        &file,
        Some(&provider.issuer()),
    ))
    .expect("settings");
    auth.load_keys().await.expect("keys");
    let app = app(Some(auth)).await;
    let a = bearer(&app, &k.rsa.sign(Some("k1"), &claims(&provider.issuer()))).await;
    assert_eq!(a.body["subject"], "anna");
    let a = bearer(&app, "store-secret-1").await;
    assert_eq!(a.body["subject"], "document-store");
    assert_invalid_token(
        &bearer(&app, "store.secret.1").await,
        "two dots: taken as a JWT",
    );
    assert_invalid_token(&bearer(&app, "unknown").await, "unknown static token");
}

#[actix_web::test]
async fn an_oidc_only_service_refuses_static_tokens() {
    let (_provider, auth) = loaded().await;
    let app = app(Some(auth)).await;
    assert_invalid_token(
        &bearer(&app, "store-secret-1").await,
        "static token in oidc mode",
    );
}

#[actix_web::test]
async fn setup_errors_are_one_line_and_never_show_a_secret() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(b"[[token]]\nname = \"x\"\nsecret = \"hunter2\"\nroles = [\"pas-admin\"]\n")
        .expect("write");
    let e = Authenticator::new(tokens_settings(AuthMode::Tokens, &file, None))
        .expect_err("a secret instead of its hash");
    let line = e.to_string();
    assert!(line.starts_with("invalid AUTH_TOKENS_FILE: "), "{line}");
    assert!(!line.contains("hunter2") && !line.contains('\n'), "{line}");
    assert!(!format!("{e:?}").contains("hunter2"));

    let missing = AuthSettings {
        tokens_file: Some("/nonexistent/pas-tokens.toml".into()),
        ..tokens_settings(AuthMode::Tokens, &file, None)
    };
    assert!(Authenticator::new(missing).is_err());

    let e = Authenticator::new(oidc_settings("http://login.example.com/realms/pas"))
        .expect_err("plain http to a remote issuer");
    assert!(e.to_string().starts_with("invalid OIDC_ISSUER: "), "{e}");

    let debug = format!(
        "{:?}",
        Authenticator::new(tokens_settings(AuthMode::Tokens, &tokens_file(), None)).expect("ok")
    );
    assert!(!debug.contains(&sha256_hex("store-secret-1")), "{debug}");
}

// ---------------------------------------------------------------------------------------
// Off

#[actix_web::test]
async fn off_mode_and_no_authenticator_take_the_caller_from_headers() {
    for auth in [Some(Authenticator::off()), None] {
        let app = app(auth).await;
        let a = call(
            &app,
            None,
            &[
                ("X-User", " Jānis "),
                ("X-Client-App", "portal"),
                ("User-Agent", "curl/8"),
            ],
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["subject"], "Jānis");
        assert_eq!(a.body["client"], "portal");
        assert_eq!(
            a.body["roles"],
            json!(["pas-admin", "pas-audit-writer", "pas-portal"])
        );
        let a = call(&app, Some("Bearer whatever"), &[("User-Agent", "curl/8")]).await;
        assert_eq!(a.body["subject"], "api");
        assert_eq!(a.body["client"], "curl/8");
        let long = "x".repeat(300);
        let a = call(&app, None, &[("X-User", &long)]).await;
        assert_eq!(a.body["subject"].as_str().map(str::len), Some(255));
    }
}
