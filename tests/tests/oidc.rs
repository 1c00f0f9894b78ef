//! PRODUCT.md section 10 on the real service and both databases with `AUTH_MODE=oidc`:
//! tokens minted here with real RSA and EC keys, the JWKS and discovery document served by
//! a loopback provider started here (the same one `crates/http/tests/authn.rs` uses).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../crates/http/tests/support/oidc.rs"]
mod oidc;

use std::time::Duration;

use jsonwebtoken::Algorithm;
use oidc::{AUDIENCE, Provider, TestKey, b64, ec_key, jwks, now, rsa_key, with};
use pas_e2e::{Answer, TestApp, each_backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A Keycloak-like token of a `pas-user` in `sales`.
fn clerk(issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer, "aud": [AUDIENCE, "account"], "sub": "f3c1-clerk",
        "preferred_username": "anna", "azp": "web-front-end",
        "exp": now + 300, "iat": now - 1, "nbf": now - 1,
        "realm_access": {"roles": ["pas-user", "offline_access"]},
        "groups": ["/sales"],
    })
}

/// A `pas-signer` whose eID says who it is.
fn signer(issuer: &str) -> Value {
    with(
        clerk(issuer),
        json!({"preferred_username": "janis", "realm_access": {"roles": ["pas-signer"]},
               "groups": null, "serialNumber": "PNOLV-161175-19997"}),
    )
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| vec![("Authorization", b)])
        .unwrap_or_default();
    app.call(method, path, body, &headers).await
}

async fn wait_ready(app: &TestApp) {
    for _ in 0..100 {
        if app.get("/ready").await.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service did not become ready");
}

fn assert_invalid(answer: &Answer, case: &str) {
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        answer.body
    );
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="pas", error="invalid_token""#),
        "{case}"
    );
    assert_eq!(answer.body["status"], 401, "{case}");
}

each_backend!(
    section10_oidc_tokens_on_the_real_service,
    |backend, test| async move {
        let rsa: TestKey = rsa_key(2048);
        let ec: TestKey = ec_key();
        let provider = Provider::start(jwks(&[(&rsa, "rsa-1")]));
        // The provider answers 500 at first: the service starts, is not ready, and answers 503.
        provider.set_failing(true);
        let issuer = provider.issuer();
        let extra = [
            ("AUTH_MODE", "oidc"),
            ("OIDC_ISSUER", issuer.as_str()),
            ("OIDC_AUDIENCE", AUDIENCE),
        ];
        let Some(mut app) = TestApp::start_with(backend, test, &extra).await else {
            return;
        };
        let token = rsa.sign(Some("rsa-1"), &clerk(&issuer));
        assert_eq!(
            app.get("/ready").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let early = call(
            &app,
            Method::GET,
            "/processes?ownerGroup=sales",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(early.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(early.header("retry-after").is_some());
        provider.set_failing(false);
        wait_ready(&app).await;

        // Public: the probes and the documents.
        assert_eq!(app.get("/health").await.status, StatusCode::OK);
        assert_eq!(app.get("/openapi.json").await.status, StatusCode::OK);

        // A good token: the process is created in the clerk's group, recorded as the clerk's.
        let body = json!({"documentId": "oidc-doc", "status": "STARTED",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerCountry": "LV", "signerPersonalCode": "161175-19997",
             "signerNotification": false}]}]});
        let created = call(&app, Method::POST, "/processes", Some(&token), Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["ownerGroup"], "sales");
        let pid = created.body["id"].as_str().unwrap().to_owned();
        let entry = created.body["signers"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let trail = call(
            &app,
            Method::GET,
            &format!("/processes/{pid}/audit-trail"),
            Some(&token),
            None,
        )
        .await;
        let first = &trail.body["events"][0];
        assert_eq!(
            (&first["creator"], &first["clientAppName"]),
            (&json!("anna"), &json!("web-front-end"))
        );

        // Missing and bad tokens.
        let none = call(&app, Method::GET, &format!("/processes/{pid}"), None, None).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            none.header("www-authenticate"),
            Some(r#"Bearer realm="pas""#)
        );
        let claims = clerk(&issuer);
        let t = now();
        let [header, payload, signature]: [&str; 3] =
            token.split('.').collect::<Vec<_>>().try_into().unwrap();
        let tampered = format!(
            "{header}.{}.{signature}",
            b64(&with(claims.clone(), json!({"groups": ["/legal"]})))
        );
        let unsigned = format!(
            "{}.{payload}.",
            b64(&json!({"alg": "none", "kid": "rsa-1"}))
        );
        let cases = [
            ("malformed", "not-a-jwt".to_owned()),
            (
                "expired",
                rsa.sign(
                    Some("rsa-1"),
                    &with(
                        claims.clone(),
                        json!({"exp": t - 3600, "iat": t - 7200, "nbf": t - 7200}),
                    ),
                ),
            ),
            (
                "not yet valid",
                rsa.sign(
                    Some("rsa-1"),
                    &with(claims.clone(), json!({"nbf": t + 3600})),
                ),
            ),
            (
                "wrong issuer",
                rsa.sign(
                    Some("rsa-1"),
                    &with(
                        claims.clone(),
                        json!({"iss": "http://127.0.0.1:1/realms/other"}),
                    ),
                ),
            ),
            (
                "wrong audience",
                rsa.sign(
                    Some("rsa-1"),
                    &with(claims.clone(), json!({"aud": "someone-else"})),
                ),
            ),
            ("alg none", unsigned),
            ("HS256 with the public key", {
                let key = jsonwebtoken::EncodingKey::from_secret(&rsa.public_der);
                let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
                h.kid = Some("rsa-1".into());
                jsonwebtoken::encode(&h, &claims, &key).unwrap()
            }),
            ("tampered payload", tampered),
        ];
        for (case, bad) in &cases {
            let answer = call(
                &app,
                Method::GET,
                &format!("/processes/{pid}"),
                Some(bad),
                None,
            )
            .await;
            assert_invalid(&answer, case);
        }

        // Key rotation: the first unknown kid makes the service fetch the JWKS again.
        provider.set_jwks(jwks(&[(&rsa, "rsa-1"), (&ec, "ec-1")]));
        let rotated = ec.sign(Some("ec-1"), &claims);
        let answer = call(
            &app,
            Method::GET,
            &format!("/processes/{pid}"),
            Some(&rotated),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        // A key nobody published is refused (and, within 10 s, fetched for no more).
        let stranger = ec_key().sign(Some("ec-9"), &claims);
        let answer = call(
            &app,
            Method::GET,
            &format!("/processes/{pid}"),
            Some(&stranger),
            None,
        )
        .await;
        assert_invalid(&answer, "unpublished key");

        // The signer's person comes from its eID; the provider may go away meanwhile.
        let mut provider = provider;
        provider.take_down();
        let me = rsa.sign(Some("rsa-1"), &signer(&issuer));
        let signed = call(
            &app,
            Method::POST,
            &format!("/process-step-signers/{entry}/sign"),
            Some(&me),
            None,
        )
        .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        assert_eq!(signed.body["status"], "COMPLETED");
        let other = rsa.sign(
            Some("rsa-1"),
            &with(
                signer(&issuer),
                json!({"serialNumber": "PNOEE-37605030299"}),
            ),
        );
        let refused = call(
            &app,
            Method::GET,
            "/signers/161175-19997/LV/documents",
            Some(&other),
            None,
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        // Keys are cached in memory only: a restarted instance with the provider down
        // answers 503 rather than trusting any token.
        app.restart().await;
        let after = call(
            &app,
            Method::GET,
            &format!("/processes/{pid}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(after.status, StatusCode::SERVICE_UNAVAILABLE);
        app.stop().await;
    }
);
