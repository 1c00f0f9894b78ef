//! Contacts, templates, catalog, audit events and reminders.

use actix_web::test::TestRequest;
use pas_domain::audit::{AuditTrail, chain};
use pas_domain::ids::ProcessId;
use pas_domain::paging::Page;
use pas_domain::status::{EventType, Scope};
use serde_json::json;

use crate::support::Mocks;

#[actix_web::test]
async fn list_contacts_reads_the_viewer_and_repeated_scopes() {
    let mut m = Mocks::default();
    m.contacts
        .expect_list()
        .withf(|f, page| {
            f.viewer.user == "anna"
                && f.viewer.groups == ["sales"]
                && f.scopes == [Scope::Personal, Scope::Group]
                && f.name.as_deref() == Some("jānis")
                && f.personal_code.as_deref() == Some("16117519997")
                && page.size == 20
        })
        .returning(|_, page| Ok(Page::new(vec![], 0, page)));
    let reply = m
        .call(TestRequest::get().uri(
            "/api/v1/contacts?owner=anna&group=sales&scope=GROUP&scope=PERSONAL&name=J%C4%81nis&personalCode=161175-19997",
        ))
        .await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["content"], json!([]));
}

#[actix_web::test]
async fn list_contacts_without_an_owner_is_a_400() {
    let p = Mocks::default()
        .call(TestRequest::get().uri("/api/v1/contacts?group=sales"))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "owner");
}

#[actix_web::test]
async fn create_contact_answers_201() {
    let mut m = Mocks::default();
    m.contacts.expect_insert().times(1).returning(|_| Ok(()));
    let reply = m
        .call(TestRequest::post().uri("/api/v1/contacts").set_json(json!({
            "name": "Jānis", "email": "janis@example.lv", "country": "LV",
            "personalCode": "161175-19997", "owner": "anna", "scope": "GROUP", "group": "sales"
        })))
        .await;
    assert_eq!(
        reply.status.as_u16(),
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["scope"], "GROUP");
}

#[actix_web::test]
async fn deleting_another_users_personal_contact_is_a_404() {
    let mut m = Mocks::default();
    let contact = pas_domain::contact::ContactInput {
        owner: Some("juris".into()),
        ..Default::default()
    }
    .validate(
        pas_domain::ids::ContactId::from_uuid(uuid::Uuid::now_v7()),
        crate::support::NOW,
    )
    .unwrap();
    let id = contact.id;
    m.contacts
        .expect_get()
        .returning(move |_| Ok(Some(contact.clone())));
    m.contacts.expect_delete().never();
    m.call(TestRequest::delete().uri(&format!("/api/v1/contacts/{id}?user=anna&group=sales")))
        .await
        .problem(404);
}

#[actix_web::test]
async fn create_template_answers_201_and_delete_204() {
    let mut m = Mocks::default();
    m.templates.expect_insert().times(1).returning(|_| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/templates")
                .set_json(json!({
                    "name": "NDA", "data": "{}", "owner": "anna"
                })),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let template = reply.json();
    assert_eq!(template["scope"], "PERSONAL");

    let stored = pas_domain::template::TemplateInput {
        name: Some("NDA".into()),
        owner: Some("anna".into()),
        ..Default::default()
    }
    .validate(
        pas_domain::ids::TemplateId::from_uuid(uuid::Uuid::now_v7()),
        crate::support::NOW,
    )
    .unwrap();
    let id = stored.id;
    let mut m = Mocks::default();
    m.templates
        .expect_get()
        .returning(move |_| Ok(Some(stored.clone())));
    m.templates.expect_delete().times(1).returning(|_| Ok(()));
    let reply = m
        .call(TestRequest::delete().uri(&format!("/api/v1/templates/{id}?user=anna&group=sales")))
        .await;
    assert_eq!(reply.status.as_u16(), 204);
}

#[actix_web::test]
async fn create_profile_answers_201_with_location_and_by_name_404_when_missing() {
    let mut m = Mocks::default();
    m.catalog
        .expect_insert_profile()
        .times(1)
        .returning(|_| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/document-profiles")
                .set_json(json!({"name": "Default", "profileorder": 2})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/document-profiles/{id}"))
    );

    let mut m = Mocks::default();
    m.catalog
        .expect_profile_by_name()
        .withf(|name| name == "Default profile")
        .returning(|_| Ok(None));
    m.call(TestRequest::get().uri("/api/v1/document-profiles/by-name?name=Default%20profile"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn deleting_an_attribute_in_use_is_a_409() {
    let mut m = Mocks::default();
    m.catalog
        .expect_delete_attribute()
        .returning(|_| Err(pas_domain::ports::RepoError::InUse("document attribute")));
    m.call(TestRequest::delete().uri(&format!(
        "/api/v1/document-attributes/{}",
        uuid::Uuid::now_v7()
    )))
    .await
    .problem(409);
}

#[actix_web::test]
async fn an_audit_event_defaults_to_the_callers_identity() {
    let mut m = Mocks::default();
    m.audit
        .expect_append()
        .withf(|e| {
            e.creator.as_deref() == Some("api")
                && e.client_app_name.as_deref() == Some("archive/2.1")
                && e.event_type == EventType::DocumentDownload
        })
        .times(1)
        .returning(|e| Ok(chain(None, e.clone())));
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/audit-events")
                .insert_header(("User-Agent", "archive/2.1"))
                .set_json(json!({"eventType": "DOCUMENT_DOWNLOAD", "documentId": "d-1"})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let body = reply.json();
    assert_eq!(body["creator"], "api");
    assert_eq!(body["sequence"], 0);
    assert!(body["hash"].is_string());
}

#[actix_web::test]
async fn audit_events_list_reads_its_filters() {
    let pid = uuid::Uuid::now_v7();
    let mut m = Mocks::default();
    m.audit
        .expect_list()
        .withf(move |f, _| {
            f.process_id == Some(ProcessId::from_uuid(pid))
                && f.event_type == Some(EventType::Reminder)
                && f.to == Some(time::macros::datetime!(2026-02-18 0:00 UTC))
        })
        .returning(|_, page| Ok(Page::new(vec![], 0, page)));
    let reply = m
        .call(TestRequest::get().uri(&format!(
            "/api/v1/audit-events?processId={pid}&eventType=REMINDER&to=2026-02-17&sort=eventType"
        )))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
}

#[actix_web::test]
async fn the_audit_trail_answers_its_verdict() {
    let pid = ProcessId::from_uuid(uuid::Uuid::now_v7());
    let mut m = Mocks::default();
    m.audit
        .expect_trail()
        .returning(move |p| Ok(AuditTrail::verify(p, vec![])));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{pid}/audit-trail")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.json(),
        json!({"processId": pid.to_string(), "valid": true, "brokenAt": null, "events": []})
    );
}

#[actix_web::test]
async fn send_reminders_answers_how_many_were_sent() {
    let mut m = Mocks::default();
    m.repo.expect_due_between().returning(|_, _| Ok(vec![]));
    let reply = m
        .call(TestRequest::post().uri("/api/v1/messages/reminders"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json(), json!({"sent": 0}));
}
