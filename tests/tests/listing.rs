//! Lists, filters, paging, the signer portal and the admin resources over HTTP (sections 4,
//! 5, 6 and 8), each on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use pas_e2e::{TestApp, both};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LV_CODE: &str = "161175-19997";

fn process(group: &str, name: &str, signer_name: &str, code: Option<&str>) -> Value {
    let mut s = json!({"signerRole": "SIGNER", "signerEmail": format!("{}@example.lv", signer_name.to_lowercase()), "signerName": signer_name});
    if let Some(code) = code {
        s["signerCountry"] = json!("LV");
        s["signerPersonalCode"] = json!(code);
    }
    json!({"documentId": format!("doc-{name}"), "documentName": name, "ownerGroup": group, "status": "STARTED",
           "documentType": "CONTRACT", "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [s]}]})
}

both!(
    section6_list_filters_and_paging,
    |app: TestApp| async move {
        for (group, name, signer, code) in [
            ("g1", "Lease Ābele", "Jānis", Some(LV_CODE)),
            ("g1", "Loan", "Anna", None),
            ("g1", "Offer", "Pēteris", None),
            ("g2", "Other", "Juris", None),
        ] {
            assert_eq!(
                app.post("/processes", process(group, name, signer, code))
                    .await
                    .status,
                StatusCode::CREATED
            );
        }
        let page = app
            .get("/processes?ownerGroup=g1&size=2&sort=documentName,asc")
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            (
                page.body["totalElements"].clone(),
                page.body["totalPages"].clone(),
                page.body["numberOfElements"].clone()
            ),
            (json!(3), json!(2), json!(2))
        );
        assert_eq!(page.body["content"][0]["documentName"], "Lease Ābele");
        let last = app
            .get("/processes?ownerGroup=g1&size=2&page=1&sort=documentName,asc")
            .await;
        assert_eq!(
            (
                last.body["last"].clone(),
                last.body["content"][0]["documentName"].clone()
            ),
            (json!(true), json!("Offer"))
        );
        let by_name = app
            .get("/processes?ownerGroup=g1&nameSearch=J%C4%80NIS")
            .await;
        assert_eq!(
            by_name.body["totalElements"], 1,
            "case-insensitive, non-ASCII: {}",
            by_name.body
        );
        let by_code = app
            .get("/processes?ownerGroup=g1&personalCode=16117519997")
            .await;
        assert_eq!(by_code.body["totalElements"], 1);
        let by_email = app.get("/processes?isAdmin=true&emailSearch=JURIS@").await;
        assert_eq!(by_email.body["content"][0]["documentName"], "Other");
        assert_eq!(
            app.get("/processes?isAdmin=true&processStatus=PENDING")
                .await
                .body["totalElements"],
            0
        );
        assert_eq!(
            app.get("/processes").await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "ownerGroup or isAdmin"
        );
        assert_eq!(
            app.get("/processes?isAdmin=true&processStatus=NOPE")
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let found = app
            .post("/processes/search", json!({"documentId": "doc-Loan"}))
            .await;
        assert_eq!(found.body.as_array().map(Vec::len), Some(1));
        let by_doc = app.get("/processes/by-document/doc-Offer").await;
        assert_eq!(by_doc.body[0]["documentName"], "Offer");
        app.stop().await;
    }
);

both!(
    section8_portal_tasks_steps_documents_and_authorization,
    |app: TestApp| async move {
        let a = app
            .post("/processes", process("g", "First", "Jānis", Some(LV_CODE)))
            .await
            .body;
        let _b = app
            .post(
                "/processes",
                process("g", "Second", "Jānis", Some("16117519997")),
            )
            .await
            .body;
        let anon = app
            .post("/processes", process("g", "Anon", "Nobody", None))
            .await
            .body;
        let tasks = app
            .get("/signer-tasks?personalCode=161175%2019997&country=lv")
            .await;
        assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
        assert_eq!(tasks.body["totalElements"], 2);
        assert_eq!(
            tasks.body["content"][0]["signingStatus"],
            "WAITING_FOR_ACTION"
        );
        let anon_id = anon["signers"][0]["id"].as_str().unwrap();
        let anon_tasks = app.get(&format!("/signer-tasks?signerId={anon_id}")).await;
        assert_eq!(anon_tasks.body["totalElements"], 1);
        let steps = app.get("/signers/161175-19997/LV/steps").await;
        assert_eq!(steps.body.as_array().map(Vec::len), Some(2));
        assert!(steps.body[0]["processId"].is_string());
        let docs = app.get("/signers/16117519997/lv/documents").await;
        assert_eq!(docs.body.as_array().map(Vec::len), Some(2));
        let signer = a["signers"][0]["id"].as_str().unwrap();
        let ok = app
            .get(&format!("/processes/authorize/{signer}/161175-19997/LV"))
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        let wrong = app
            .get(&format!("/processes/authorize/{signer}/010101-10000/LV"))
            .await;
        let unknown = app
            .get("/processes/authorize/00000000-0000-7000-8000-000000000001/161175-19997/LV")
            .await;
        assert_eq!(
            (wrong.status, unknown.status),
            (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
        );
        assert_eq!(wrong.body, unknown.body, "the same 403 whatever the reason");
        let pid = a["id"].as_str().unwrap();
        let trail = app.get(&format!("/processes/{pid}/audit-trail")).await;
        let types: Vec<&str> = trail.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"AUTH_COMPLETED") && types.contains(&"AUDIT_LOGIN_FAULT"),
            "{types:?}"
        );
        app.stop().await;
    }
);

both!(
    section5_contacts_and_templates_follow_their_scope,
    |app: TestApp| async move {
        let personal = app.post("/contacts", json!({"name": "Mine", "owner": "anna", "group": "sales", "scope": "PERSONAL", "email": "m@example.lv"})).await;
        assert_eq!(personal.status, StatusCode::CREATED, "{}", personal.body);
        let shared = app.post("/contacts", json!({"name": "Team", "owner": "anna", "group": "sales", "scope": "GROUP", "country": "LV", "personalCode": LV_CODE})).await;
        assert_eq!(shared.status, StatusCode::CREATED);
        let as_juris = app.get("/contacts?owner=juris&group=sales").await;
        let names: Vec<&str> = as_juris.body["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Team"]);
        let as_anna = app
            .get("/contacts?owner=anna&group=sales&scope=PERSONAL")
            .await;
        assert_eq!(as_anna.body["totalElements"], 1);
        let id = personal.body["id"].as_str().unwrap();
        assert_eq!(
            app.delete(&format!("/contacts/{id}?user=juris&group=sales"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.delete(&format!("/contacts/{id}?user=anna&group=sales"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let t = app.post("/templates", json!({"name": "NDA", "data": "{}", "owner": "anna", "group": "sales", "scope": "GLOBAL"})).await;
        assert_eq!(t.status, StatusCode::CREATED);
        let seen = app.get("/templates?owner=zane&group=legal").await;
        assert_eq!(
            seen.body["totalElements"], 1,
            "GLOBAL rows are visible to everyone"
        );
        let tid = t.body["id"].as_str().unwrap();
        assert_eq!(
            app.delete(&format!("/templates/{tid}?user=zane&group=legal"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    }
);

both!(
    section4_profiles_attributes_audit_events_and_health,
    |app: TestApp| async move {
        let attr = app
            .post(
                "/document-attributes",
                json!({"name": "amount", "type": "NUMBER", "required": true}),
            )
            .await;
        assert_eq!(attr.status, StatusCode::CREATED);
        let attr_id = attr.body["id"].as_str().unwrap().to_owned();
        let profile = app.post("/document-profiles", json!({"name": "Default profile", "ownerGroup": "sales", "profileorder": 2, "attributes": [{"id": attr_id}]})).await;
        assert_eq!(profile.status, StatusCode::CREATED, "{}", profile.body);
        let by_name = app
            .get("/document-profiles/by-name?name=Default%20profile")
            .await;
        assert_eq!(by_name.body["attributes"][0]["name"], "amount");
        assert_eq!(
            app.get("/document-profiles/by-name?name=default")
                .await
                .status,
            StatusCode::NOT_FOUND,
            "exact match"
        );
        assert_eq!(
            app.delete(&format!("/document-attributes/{attr_id}"))
                .await
                .status,
            StatusCode::CONFLICT,
            "still used by a profile"
        );
        let pid = profile.body["id"].as_str().unwrap();
        assert_eq!(
            app.delete(&format!("/document-profiles/{pid}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.delete(&format!("/document-attributes/{attr_id}"))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        // Section 10: origin, creator and client come from the caller, not from the body.
        let ev = app
            .call(
                Method::POST,
                "/audit-events",
                Some(json!({"eventType": "DOCUMENT_DOWNLOAD", "eventOrigin": "process-and-auditing-service",
                    "creator": "someone-else", "documentId": "doc-9"})),
                &[("X-Client-App", "archive"), ("X-User", "juris")],
            )
            .await;
        assert_eq!(ev.status, StatusCode::CREATED);
        let listed = app.get("/audit-events?documentId=doc-9").await;
        let row = &listed.body["content"][0];
        assert_eq!(
            (&row["eventOrigin"], &row["creator"], &row["clientAppName"]),
            (&json!("archive"), &json!("juris"), &json!("archive"))
        );
        assert_eq!(
            app.post(
                "/audit-events",
                json!({"eventType": "SIGNER_SIGNED", "documentId": "doc-9"})
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the service's own event types are not for clients"
        );
        assert_eq!(
            app.post("/audit-events", json!({"eventType": "NOT_A_TYPE"}))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.post("/messages/reminders", json!({})).await.body,
            json!({"sent": 0})
        );
        assert_eq!(app.get("/health").await.status, StatusCode::OK);
        assert_eq!(app.get("/ready").await.body["status"], "UP");
        let doc = app.get("/openapi.json").await;
        assert!(doc.body["paths"].as_object().unwrap().len() > 20);
        app.stop().await;
    }
);

both!(
    section4_remaining_admin_and_lookup_operations_succeed,
    |app: TestApp| async move {
        // getDocumentAttributeById, updateDocumentAttribute, listDocumentAttributes
        let attr = app
            .post(
                "/document-attributes",
                json!({"name": "amount", "type": "NUMBER"}),
            )
            .await
            .body;
        let attr_id = attr["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get(&format!("/document-attributes/{attr_id}"))
                .await
                .body["name"],
            "amount"
        );
        let renamed = app
            .put(
                &format!("/document-attributes/{attr_id}"),
                json!({"name": "total", "type": "NUMBER", "required": true}),
            )
            .await;
        assert_eq!(
            (renamed.status, renamed.body["required"].clone()),
            (StatusCode::OK, json!(true))
        );
        assert_eq!(
            app.get("/document-attributes")
                .await
                .body
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        // getDocumentProfileById, updateDocumentProfile, listDocumentProfiles?group (by profileorder)
        let second = app
            .post(
                "/document-profiles",
                json!({"name": "Second", "ownerGroup": "sales", "profileorder": 2}),
            )
            .await
            .body;
        let first = app
            .post(
                "/document-profiles",
                json!({"name": "First", "ownerGroup": "sales", "profileorder": 1}),
            )
            .await
            .body;
        let _other = app
            .post(
                "/document-profiles",
                json!({"name": "Other", "ownerGroup": "legal", "profileorder": 0}),
            )
            .await;
        let id = second["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("/document-profiles/{id}")).await.body["name"],
            "Second"
        );
        let updated = app.put(&format!("/document-profiles/{id}"), json!({"name": "Second", "ownerGroup": "sales", "profileorder": 3, "isSealRequired": true, "attributes": [{"id": attr_id}]})).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        assert_eq!(updated.body["attributes"][0]["name"], "total");
        let listed = app.get("/document-profiles?group=sales").await.body;
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["First", "Second"]);
        assert_eq!(
            app.get("/document-profiles")
                .await
                .body
                .as_array()
                .map(Vec::len),
            Some(3)
        );
        assert!(first["id"].is_string());
        // updateContact
        let contact = app
            .post(
                "/contacts",
                json!({"name": "Anna", "owner": "anna", "group": "sales", "scope": "GROUP"}),
            )
            .await
            .body;
        let mut edited = contact.clone();
        edited["name"] = json!("Anna B.");
        let put = app.put("/contacts?user=juris&group=sales", edited).await;
        assert_eq!(
            (put.status, put.body["name"].clone()),
            (StatusCode::OK, json!("Anna B.")),
            "a group member may edit a GROUP row"
        );
        // listProcessesByStepSignerId
        let p = app
            .post("/processes", process("sales", "Lookup", "Liga", None))
            .await
            .body;
        let signer = p["signers"][0]["id"].as_str().unwrap();
        let by_signer = app
            .get(&format!("/processes/by-step-signer/{signer}"))
            .await
            .body;
        assert_eq!(by_signer[0]["id"], p["id"]);
        app.stop().await;
    }
);
