//! Contacts, templates, the catalog and the audit log at the HTTP edge against the real use
//! cases (PRODUCT.md sections 4 and 5): what the handlers read from queries and headers, and
//! the status codes, headers and bodies they answer. Each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_e2e::{TestApp, both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CODE: &str = "161175-19997";

fn names(page: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = page["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

both!(
    list_contacts_reads_the_viewer_and_repeated_scopes,
    |app: TestApp| async move {
        for (name, owner, scope, code) in [
            ("Jānis", "anna", "PERSONAL", CODE),
            ("Jānis", "anna", "GROUP", CODE),
            ("Jānis", "anna", "GLOBAL", CODE),
            ("Jānis", "juris", "PERSONAL", CODE),
            ("Pēteris", "anna", "GROUP", CODE),
            ("Jānis", "anna", "GROUP", "37605030299"),
        ] {
            let country = if code == CODE { "LV" } else { "EE" };
            let created = app
                .post(
                    "/contacts",
                    json!({"name": name, "email": "janis@example.lv", "country": country,
                        "personalCode": code, "owner": owner, "scope": scope, "group": "sales"}),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            assert_eq!(created.body["scope"], scope);
        }
        let listed = app
            .get(
                "/contacts?owner=anna&group=sales&scope=GROUP&scope=PERSONAL&name=J%C4%81nis\
                 &personalCode=161175-19997",
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body["size"], 20, "the default page size");
        let scopes: Vec<&str> = {
            let mut s: Vec<&str> = listed.body["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["scope"].as_str().unwrap())
                .collect();
            s.sort_unstable();
            s
        };
        assert_eq!(
            scopes,
            ["GROUP", "PERSONAL"],
            "anna's own and her group's, by name and code: {}",
            listed.body
        );
        let nobody = app
            .get("/contacts?owner=anna&group=sales&name=nobody")
            .await;
        assert_eq!(nobody.body["content"], json!([]));
        app.stop().await;
    }
);

both!(
    list_contacts_without_an_owner_is_a_400,
    |app: TestApp| async move {
        let answer = app.get("/contacts?group=sales").await;
        assert_eq!(answer.problem(400)["errors"][0]["field"], "owner");
        app.stop().await;
    }
);

both!(
    deleting_another_users_personal_contact_is_a_404_problem,
    |app: TestApp| async move {
        let created = app
            .post(
                "/contacts",
                json!({"name": "Mine", "owner": "juris", "group": "sales"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["scope"], "PERSONAL");
        let id = created.body["id"].as_str().unwrap();
        app.delete(&format!("/contacts/{id}?user=anna&group=sales"))
            .await
            .problem(404);
        let kept = app.get("/contacts?owner=juris&group=sales").await;
        assert_eq!(names(&kept.body), ["Mine"]);
        app.stop().await;
    }
);

both!(
    create_template_answers_201_personal_by_default_and_delete_204,
    |app: TestApp| async move {
        let created = app
            .post(
                "/templates",
                json!({"name": "NDA", "data": "{}", "owner": "anna"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["scope"], "PERSONAL");
        let id = created.body["id"].as_str().unwrap();
        let res = reqwest::Client::new()
            .delete(format!(
                "{}/api/v1/templates/{id}?user=anna&group=sales",
                app.root
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.bytes().await.unwrap().is_empty());
        let left = app.get("/templates?owner=anna&group=sales").await;
        assert_eq!(left.body["totalElements"], 0);
        app.stop().await;
    }
);

both!(
    create_profile_answers_201_with_location_and_by_name_404_when_missing,
    |app: TestApp| async move {
        let created = app
            .post(
                "/document-profiles",
                json!({"name": "Default", "profileorder": 2}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap();
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/document-profiles/{id}").as_str())
        );
        app.get("/document-profiles/by-name?name=Default%20profile")
            .await
            .problem(404);
        let found = app.get("/document-profiles/by-name?name=Default").await;
        assert_eq!(found.body["id"], id);
        app.stop().await;
    }
);

both!(
    deleting_an_attribute_in_use_is_a_409_problem,
    |app: TestApp| async move {
        let attr = app
            .post(
                "/document-attributes",
                json!({"name": "amount", "type": "NUMBER"}),
            )
            .await;
        let aid = attr.body["id"].as_str().unwrap();
        let profile = app
            .post(
                "/document-profiles",
                json!({"name": "Uses it", "attributes": [{"id": aid}]}),
            )
            .await;
        assert_eq!(profile.status, StatusCode::CREATED, "{}", profile.body);
        app.delete(&format!("/document-attributes/{aid}"))
            .await
            .problem(409);
        app.stop().await;
    }
);

both!(
    an_audit_event_defaults_to_the_callers_identity,
    |app: TestApp| async move {
        let created = app
            .call(
                Method::POST,
                "/audit-events",
                Some(json!({"eventType": "DOCUMENT_DOWNLOAD", "documentId": "d-1"})),
                &[("User-Agent", "archive/2.1")],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["creator"], "api");
        assert_eq!(created.body["clientAppName"], "archive/2.1");
        assert_eq!(created.body["eventType"], "DOCUMENT_DOWNLOAD");
        assert_eq!(created.body["sequence"], 0);
        assert!(created.body["hash"].is_string());
        app.stop().await;
    }
);

both!(
    audit_events_list_reads_its_filters,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                json!({"documentId": "d-2", "documentName": "Audited", "ownerGroup": "sales",
                    "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
                        {"signerRole": "SIGNER", "signerEmail": "s@example.lv"}]}]}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let pid = created.body["id"].as_str().unwrap();
        let ev = app
            .post(
                "/audit-events",
                json!({"eventType": "DOCUMENT_INFO", "processId": pid}),
            )
            .await;
        assert_eq!(ev.status, StatusCode::CREATED, "{}", ev.body);
        let today = &ev.body["createdAt"].as_str().unwrap()[..10];
        let total = |query: String| {
            let app = &app;
            async move {
                let listed = app.get(&format!("/audit-events?{query}")).await;
                assert_eq!(listed.status, StatusCode::OK, "{query}: {}", listed.body);
                listed.body["totalElements"].as_u64().unwrap()
            }
        };
        assert!(total(format!("processId={pid}")).await > 1);
        assert_eq!(
            total(format!(
                "processId={pid}&eventType=DOCUMENT_INFO&to={today}&sort=eventType"
            ))
            .await,
            1,
            "`to` is a calendar day and includes all of it"
        );
        assert_eq!(
            total(format!(
                "processId={pid}&eventType=DOCUMENT_INFO&to=2026-02-17"
            ))
            .await,
            0
        );
        assert_eq!(
            total(format!("processId={pid}&eventType=REMINDER")).await,
            0
        );
        assert_eq!(
            total("processId=00000000-0000-7000-8000-000000000001&eventType=DOCUMENT_INFO".into())
                .await,
            0
        );
        app.stop().await;
    }
);

both!(
    the_audit_trail_answers_its_verdict,
    |app: TestApp| async move {
        let created = app
            .post(
                "/processes",
                json!({"documentId": "d-3", "documentName": "Trail", "ownerGroup": "sales",
                    "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
                        {"signerRole": "SIGNER", "signerEmail": "s@example.lv"}]}]}),
            )
            .await;
        let pid = created.body["id"].as_str().unwrap();
        let trail = app.get(&format!("/processes/{pid}/audit-trail")).await;
        assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
        let mut keys: Vec<&str> = trail
            .body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["breakReason", "brokenAt", "events", "processId", "valid"]
        );
        assert_eq!(trail.body["processId"], pid);
        assert_eq!(trail.body["valid"], true);
        assert_eq!(trail.body["brokenAt"], Value::Null);
        assert_eq!(trail.body["breakReason"], Value::Null);
        assert!(!trail.body["events"].as_array().unwrap().is_empty());
        app.stop().await;
    }
);

both!(
    send_reminders_answers_how_many_were_sent,
    |app: TestApp| async move {
        let sent = app
            .call(Method::POST, "/messages/reminders", None, &[])
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(sent.body, json!({"sent": 0}));
        app.stop().await;
    }
);
