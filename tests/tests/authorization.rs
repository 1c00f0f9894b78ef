//! PRODUCT.md section 10 over HTTP with static tokens, on both databases: every operation
//! refuses the wrong group, role or person (403 or 404, or 401 without a valid token), and a
//! refused call changes nothing: neither the process nor its audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_e2e::{Answer, TestApp, each_backend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ME: &str = "161175-19997";

/// A static token: name, roles, groups, person.
type Token = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    Option<&'static str>,
);

/// A call that must be refused: who, what, and the answer.
type Refused<'a> = (Option<&'a str>, Method, String, Option<Value>, StatusCode);

const TOKENS: &[Token] = &[
    ("admin", &["pas-admin"], &[], None),
    ("sales", &["pas-user"], &["sales"], None),
    ("legal", &["pas-user"], &["legal"], None),
    ("auditor", &["pas-auditor"], &[], None),
    ("writer", &["pas-audit-writer"], &[], None),
    ("portal", &["pas-portal"], &[], None),
    ("me", &["pas-signer"], &[], Some("PNOLV-161175-19997")),
    ("other", &["pas-signer"], &[], Some("PNOEE-37605030299")),
];

fn secret(name: &str) -> String {
    format!("e2e-secret-of-{name}-0123456789abcdef")
}

fn tokens_file(dir: &std::path::Path) -> std::path::PathBuf {
    let mut toml = String::new();
    for (name, roles, groups, person) in TOKENS {
        let hash = hex::encode(Sha256::digest(secret(name).as_bytes()));
        toml.push_str(&format!(
            "[[token]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = {roles:?}\ngroups = {groups:?}\n"
        ));
        if let Some(p) = person {
            toml.push_str(&format!("person = \"{p}\"\n"));
        }
        toml.push('\n');
    }
    let path = dir.join("tokens.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

struct Api {
    app: TestApp,
}

impl Api {
    async fn call(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let bearer = who.map(|w| format!("Bearer {}", secret(w)));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("Authorization", b)])
            .unwrap_or_default();
        self.app.call(method, path, body, &headers).await
    }

    /// What a refused call must leave as it was: the process and its audit trail.
    async fn state(&self, pid: &str) -> (Value, usize) {
        let p = self
            .call(
                Some("admin"),
                Method::GET,
                &format!("/processes/{pid}"),
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::OK);
        let trail = self
            .call(
                Some("admin"),
                Method::GET,
                &format!("/processes/{pid}/audit-trail"),
                None,
            )
            .await;
        (p.body, trail.body["events"].as_array().unwrap().len())
    }
}

fn process() -> Value {
    json!({
        "documentId": "bola-doc",
        "documentName": "Lease",
        "ownerGroup": "sales",
        "status": "STARTED",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerName": "Me", "signerCountry": "LV",
             "signerPersonalCode": ME, "signerEmail": "me@example.lv", "signerNotification": false},
            {"signerRole": "SIGNER", "signerName": "Colleague", "signerCountry": "EE",
             "signerPersonalCode": "49403136515", "signerEmail": "c@example.ee", "signerNotification": false}
        ]}]
    })
}

each_backend!(
    section10_a_wrong_group_role_or_person_is_refused_and_changes_nothing,
    |backend, test| async move {
        let dir = tempfile::tempdir().unwrap();
        let file = tokens_file(dir.path());
        let file = file.to_string_lossy().into_owned();
        let extra = [
            ("AUTH_MODE", "tokens"),
            ("AUTH_TOKENS_FILE", file.as_str()),
            ("AUDIT_READS", "none"),
        ];
        let Some(app) = TestApp::start_with(backend, test, &extra).await else {
            return;
        };
        let api = Api { app };
        let created = api
            .call(Some("sales"), Method::POST, "/processes", Some(process()))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let pid = created.body["id"].as_str().unwrap().to_owned();
        let step = created.body["signingProcessSteps"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mine = created.body["signers"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            uuid_version(&mine),
            '4',
            "entry ids are random v4, not time-ordered"
        );
        let before = api.state(&pid).await;

        let p = |rest: &str| format!("/processes/{pid}{rest}");
        let sign = format!("/process-step-signers/{mine}/sign");
        let me_body = json!({"personalCode": ME, "country": "LV"});
        let mut corrected = created.body["signingProcessSteps"][0].clone();
        corrected["processStepSigners"][0]["signingStatus"] = json!("SIGNED");

        #[rustfmt::skip]
    let refused: Vec<Refused<'_>> = vec![
        // No or a bad token.
        (None, Method::GET, p(""), None, StatusCode::UNAUTHORIZED),
        (Some("nobody"), Method::POST, p("/cancel"), None, StatusCode::UNAUTHORIZED),
        // Another group: the process does not exist for it.
        (Some("legal"), Method::GET, p(""), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::PUT, p(""), Some(process()), StatusCode::NOT_FOUND),
        (Some("legal"), Method::DELETE, p(""), None, StatusCode::NOT_FOUND),
        // The object before the body: invalid input for an unreachable object is 404, not 422.
        (Some("legal"), Method::PUT, p(""), Some(json!({"signingProcessSteps": []})), StatusCode::NOT_FOUND),
        (Some("legal"), Method::PUT, format!("/process-steps/{step}"), Some(json!({"processOrder": -1})), StatusCode::NOT_FOUND),
        (Some("legal"), Method::POST, p("/cancel"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::POST, p("/cancel/true"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::POST, p("/start"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::GET, p("/audit-trail"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::PUT, format!("/process-steps/{step}"), Some(corrected.clone()), StatusCode::NOT_FOUND),
        (Some("legal"), Method::POST, format!("/process-step-signers/{mine}/email"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::GET, "/processes?ownerGroup=sales".into(), None, StatusCode::FORBIDDEN),
        (Some("legal"), Method::GET, "/processes?isAdmin=true".into(), None, StatusCode::FORBIDDEN),
        (Some("legal"), Method::POST, "/processes".into(), Some(process()), StatusCode::FORBIDDEN),
        // The object before the body: an invalid process in a foreign group is 403, not 422.
        (Some("legal"), Method::POST, "/processes".into(), Some(json!({"ownerGroup": "sales"})), StatusCode::FORBIDDEN),
        // The right group, the wrong role.
        (Some("sales"), Method::PUT, format!("/process-steps/{step}"), Some(corrected), StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, sign.clone(), Some(me_body.clone()), StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/audit-events".into(), Some(json!({"eventType": "DOCUMENT_INFO", "processId": pid})), StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/messages/reminders".into(), None, StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/document-profiles".into(), Some(json!({"name": "x"})), StatusCode::FORBIDDEN),
        (Some("auditor"), Method::POST, p("/cancel"), None, StatusCode::FORBIDDEN),
        // The role is checked before the body is read.
        (Some("auditor"), Method::PUT, p(""), Some(json!("not a process")), StatusCode::FORBIDDEN),
        (Some("writer"), Method::GET, p(""), None, StatusCode::FORBIDDEN),
        (Some("writer"), Method::POST, "/audit-events".into(), Some(json!({"eventType": "SIGNER_SIGNED", "processId": pid})), StatusCode::UNPROCESSABLE_ENTITY),
        (Some("portal"), Method::GET, p(""), None, StatusCode::FORBIDDEN),
        (Some("admin"), Method::POST, sign.clone(), Some(me_body.clone()), StatusCode::FORBIDDEN),
        // Another person.
        (Some("other"), Method::POST, sign.clone(), Some(me_body), StatusCode::FORBIDDEN),
        (Some("other"), Method::POST, sign.clone(), None, StatusCode::FORBIDDEN),
        (Some("other"), Method::GET, format!("/signers/{ME}/LV/steps"), None, StatusCode::FORBIDDEN),
        (Some("other"), Method::GET, format!("/signers/{ME}/LV/documents"), None, StatusCode::FORBIDDEN),
        (Some("other"), Method::GET, format!("/signer-tasks?personalCode={ME}&country=LV"), None, StatusCode::FORBIDDEN),
        (Some("other"), Method::GET, format!("/processes/authorize/{mine}/{ME}/LV"), None, StatusCode::FORBIDDEN),
    ];
        for (who, method, path, body, expected) in refused {
            let what = format!("{who:?} {method} {path}");
            let answer = api.call(who, method, &path, body).await;
            assert_eq!(answer.status, expected, "{what}: {}", answer.body);
            assert!(
                answer
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("application/problem+json")),
                "{what}"
            );
            if expected == StatusCode::UNAUTHORIZED {
                assert!(
                    answer
                        .header("www-authenticate")
                        .is_some_and(|h| h.starts_with("Bearer")),
                    "{what}"
                );
            }
            assert_eq!(api.state(&pid).await, before, "{what} changed something");
        }

        // A portal's failed identity check is refused and, by section 8, recorded.
        let failed = api
            .call(
                Some("portal"),
                Method::GET,
                &format!("/processes/authorize/{mine}/010101-10000/LV"),
                None,
            )
            .await;
        assert_eq!(failed.status, StatusCode::FORBIDDEN);
        let after = api.state(&pid).await;
        assert_eq!((&after.0, after.1), (&before.0, before.1 + 1));
        let trail = api
            .call(Some("admin"), Method::GET, &p("/audit-trail"), None)
            .await;
        assert_eq!(
            trail.body["events"][before.1]["eventType"],
            "AUDIT_LOGIN_FAULT"
        );

        // Lists of another group hold nothing of this one.
        for path in [
            "/processes/by-document/bola-doc".to_owned(),
            format!("/processes/by-step-signer/{mine}"),
        ] {
            let answer = api.call(Some("legal"), Method::GET, &path, None).await;
            assert_eq!(
                (answer.status, answer.body),
                (StatusCode::OK, json!([])),
                "{path}"
            );
        }
        let found = api
            .call(
                Some("legal"),
                Method::POST,
                "/processes/search",
                Some(json!({"documentId": "bola-doc"})),
            )
            .await;
        assert_eq!(found.body, json!([]));
        let events = api
            .call(
                Some("legal"),
                Method::GET,
                &format!("/audit-events?processId={pid}"),
                None,
            )
            .await;
        assert_eq!(
            events.body["totalElements"], 0,
            "another group's audit events"
        );
        let events = api
            .call(
                Some("sales"),
                Method::GET,
                &format!("/audit-events?processId={pid}"),
                None,
            )
            .await;
        assert!(events.body["totalElements"].as_u64().unwrap() > 0);

        // Contacts, templates, profiles, attributes and test emails.
        let contact = api
            .call(
                Some("sales"),
                Method::POST,
                "/contacts",
                Some(json!({"name": "Team", "owner": "sales",
            "group": "sales", "scope": "GROUP", "email": "team@example.lv"})),
            )
            .await;
        assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
        let cid = contact.body["id"].as_str().unwrap().to_owned();
        let template = api
            .call(
                Some("sales"),
                Method::POST,
                "/templates",
                Some(json!({"name": "NDA", "data": "{}",
            "owner": "sales", "group": "sales", "scope": "GROUP"})),
            )
            .await;
        assert_eq!(template.status, StatusCode::CREATED, "{}", template.body);
        let tid = template.body["id"].as_str().unwrap().to_owned();
        let attribute = api
            .call(
                Some("admin"),
                Method::POST,
                "/document-attributes",
                Some(json!({"name": "amount", "type": "NUMBER"})),
            )
            .await;
        let aid = attribute.body["id"].as_str().unwrap().to_owned();
        let profile = api
            .call(
                Some("admin"),
                Method::POST,
                "/document-profiles",
                Some(json!({"name": "Lease profile",
            "ownerGroup": "sales", "attributes": [{"id": aid}]})),
            )
            .await;
        assert_eq!(profile.status, StatusCode::CREATED, "{}", profile.body);
        let fid = profile.body["id"].as_str().unwrap().to_owned();
        let catalog_state = || async {
            (
                api.call(
                    Some("sales"),
                    Method::GET,
                    "/contacts?owner=sales&group=sales",
                    None,
                )
                .await
                .body,
                api.call(
                    Some("sales"),
                    Method::GET,
                    "/templates?owner=sales&group=sales",
                    None,
                )
                .await
                .body,
                api.call(
                    Some("admin"),
                    Method::GET,
                    &format!("/document-profiles/{fid}"),
                    None,
                )
                .await
                .body,
                api.call(
                    Some("admin"),
                    Method::GET,
                    &format!("/document-attributes/{aid}"),
                    None,
                )
                .await
                .body,
            )
        };
        let catalog_before = catalog_state().await;
        #[rustfmt::skip]
    let refused: Vec<Refused<'_>> = vec![
        (Some("legal"), Method::GET, "/contacts?owner=sales&group=sales".into(), None, StatusCode::FORBIDDEN),
        (Some("legal"), Method::GET, "/templates?owner=legal&group=sales".into(), None, StatusCode::FORBIDDEN),
        (Some("legal"), Method::DELETE, format!("/contacts/{cid}?user=legal&group=legal"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::DELETE, format!("/contacts/{cid}?user=sales&group=sales"), None, StatusCode::FORBIDDEN),
        (Some("legal"), Method::PUT, "/contacts?user=legal&group=sales".into(),
            Some(json!({"id": cid, "name": "Mine now", "owner": "legal", "group": "sales", "scope": "GROUP"})), StatusCode::FORBIDDEN),
        (Some("legal"), Method::DELETE, format!("/templates/{tid}?user=legal&group=legal"), None, StatusCode::NOT_FOUND),
        (Some("legal"), Method::DELETE, format!("/templates/{tid}?user=sales&group=sales"), None, StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/contacts".into(),
            Some(json!({"name": "All", "owner": "sales", "scope": "GLOBAL", "email": "a@example.lv"})), StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/templates".into(),
            Some(json!({"name": "All", "data": "{}", "owner": "other-user", "group": "sales", "scope": "GROUP"})), StatusCode::FORBIDDEN),
        (Some("auditor"), Method::GET, "/contacts?owner=auditor".into(), None, StatusCode::FORBIDDEN),
        (Some("sales"), Method::PUT, format!("/document-profiles/{fid}"), Some(json!({"name": "Renamed"})), StatusCode::FORBIDDEN),
        (Some("sales"), Method::DELETE, format!("/document-profiles/{fid}"), None, StatusCode::FORBIDDEN),
        (Some("sales"), Method::PUT, format!("/document-attributes/{aid}"), Some(json!({"name": "sum", "type": "NUMBER"})), StatusCode::FORBIDDEN),
        (Some("sales"), Method::DELETE, format!("/document-attributes/{aid}"), None, StatusCode::FORBIDDEN),
        (Some("sales"), Method::POST, "/messages/test/TASK_STARTED?role=signer".into(), Some(process()), StatusCode::FORBIDDEN),
        (Some("sales"), Method::GET, format!("/signer-tasks?signerId={mine}"), None, StatusCode::FORBIDDEN),
        (Some("writer"), Method::GET, format!("/document-profiles/{fid}"), None, StatusCode::FORBIDDEN),
    ];
        for (who, method, path, body, expected) in refused {
            let what = format!("{who:?} {method} {path}");
            let answer = api.call(who, method, &path, body).await;
            assert_eq!(answer.status, expected, "{what}: {}", answer.body);
            assert_eq!(
                catalog_state().await,
                catalog_before,
                "{what} changed something"
            );
        }
        assert_eq!(
            api.state(&pid).await,
            (after.0.clone(), after.1),
            "no process change either"
        );
        // Reads the contract grants: a portal finds an anonymous-style task by its secret id,
        // a user reads the catalog.
        let tasks = api
            .call(
                Some("portal"),
                Method::GET,
                &format!("/signer-tasks?signerId={mine}"),
                None,
            )
            .await;
        assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
        assert_eq!(
            api.call(
                Some("sales"),
                Method::GET,
                &format!("/document-profiles/{fid}"),
                None
            )
            .await
            .status,
            StatusCode::OK
        );

        // The right callers succeed; the signer sees its own entry only in full.
        assert_eq!(
            api.call(Some("auditor"), Method::GET, &p(""), None)
                .await
                .status,
            StatusCode::OK
        );
        let signed = api.call(Some("me"), Method::POST, &sign, None).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        let entries = signed.body["signingProcessSteps"][0]["processStepSigners"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(entries[0]["signingStatus"], "SIGNED");
        assert_eq!(entries[0]["signerEmail"], "me@example.lv");
        assert!(
            entries[1]["id"].is_null()
                && entries[1]["signerPersonalCode"].is_null()
                && entries[1]["signerEmail"].is_null(),
            "another entry's secrets: {}",
            entries[1]
        );
        assert_eq!(entries[1]["signerName"], "Colleague");
        let trail = api
            .call(Some("sales"), Method::GET, &p("/audit-trail"), None)
            .await;
        let last = trail.body["events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            (
                last["eventType"].clone(),
                last["creator"].clone(),
                last["clientAppName"].clone()
            ),
            (json!("SIGNER_SIGNED"), json!("me"), json!("me"))
        );
        api.app.stop().await;
    }
);

fn uuid_version(id: &str) -> char {
    id.chars().nth(14).unwrap()
}
