//! Process operations: status codes, headers, bodies and what reaches the use cases.

use actix_web::test::TestRequest;
use pas_domain::paging::{Page, PageRequest, ProcessSort};
use pas_domain::status::{EventType, ProcessStatus};
use pas_http::wire::process::ProcessStepSigner;
use serde_json::json;

use pas_domain::service::ReadAudit;

use crate::support::{Mocks, pending, process_json, started};

#[actix_web::test]
async fn create_answers_201_with_location_etag_and_the_process() {
    let mut m = Mocks::default();
    m.repo.expect_insert().times(1).returning(|_, _| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/processes")
                .set_json(process_json()),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    let body = reply.json();
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/processes/{id}"))
    );
    assert_eq!(reply.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["totalSigners"], 2);
    assert_eq!(body["signers"][1]["signerPersonalCode"], "161175-19997");
}

#[actix_web::test]
async fn the_caller_headers_reach_the_audit_rows() {
    let mut m = Mocks::default();
    m.repo
        .expect_insert()
        .withf(|_, changes| {
            changes.audit.iter().all(|a| {
                a.creator.as_deref() == Some("anna")
                    && a.client_app_name.as_deref() == Some("portal")
                    && a.ip_address.as_deref() == Some("192.0.2.7")
                    && a.method.as_deref() == Some("createProcess")
            }) && !changes.audit.is_empty()
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let mut body = process_json();
    body["status"] = json!("STARTED");
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/processes")
                .insert_header(("X-User", "anna"))
                .insert_header(("X-Client-App", "portal"))
                .insert_header(("User-Agent", "curl/8"))
                .peer_addr("192.0.2.7:40000".parse().unwrap())
                .set_json(body),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    assert_eq!(reply.json()["status"], "STARTED");
}

#[actix_web::test]
async fn get_answers_the_process_with_its_etag() {
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_record().times(1).returning(|_, _| Ok(()));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{id}")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));
    let body = reply.json();
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["currentInProgressStep"]["processOrder"], 1);
}

#[actix_web::test]
async fn a_matching_if_match_lets_a_cancel_through_and_the_new_etag_comes_back() {
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_save()
        .withf(|p, expected, changes| {
            *expected == 2
                && p.status == ProcessStatus::Canceled
                && changes.change.notifications.is_empty()
                && changes.change.event_types() == [EventType::ProcessCanceled]
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/processes/{id}/cancel/true"))
                .insert_header(("If-Match", "W/\"2\"")),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["status"], "CANCELED");
    assert_eq!(reply.json()["canceled"], true);
    assert_eq!(reply.header("etag").as_deref(), Some("\"3\""));
}

#[actix_web::test]
async fn a_non_boolean_disable_messages_is_a_400() {
    let id = uuid::Uuid::now_v7();
    Mocks::default()
        .call(TestRequest::post().uri(&format!("/api/v1/processes/{id}/cancel/maybe")))
        .await
        .problem(400);
}

#[actix_web::test]
async fn start_answers_the_started_process() {
    let process = pending();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let reply = m
        .call(TestRequest::post().uri(&format!("/api/v1/processes/{id}/start")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["status"], "STARTED");
}

#[actix_web::test]
async fn delete_answers_204_without_a_body() {
    let process = pending();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let reply = m
        .call(TestRequest::delete().uri(&format!("/api/v1/processes/{id}")))
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    assert!(reply.body.is_empty());
}

#[actix_web::test]
async fn list_reads_every_filter_and_answers_the_page_shape() {
    let mut m = Mocks::default();
    m.repo
        .expect_list()
        .withf(|filter, page| {
            filter.owner_group.as_deref() == Some("sales")
                && filter.status == Some(ProcessStatus::Started)
                && filter.name_search.as_deref() == Some("anna")
                && filter.personal_code.as_deref() == Some("16117519997")
                && filter.created_after == Some(time::macros::date!(2026 - 02 - 01))
                && page.page == 1
                && page.size == 5
                && page.sort.len() == 2
        })
        .returning(|_, page: &PageRequest<ProcessSort>| Ok(Page::new(vec![started()], 6, page)));
    let reply = m
        .call(TestRequest::get().uri(
            "/api/v1/processes?ownerGroup=sales&processStatus=STARTED&nameSearch=%20Anna%20\
             &personalCode=161175-19997&createdDateAfter=2026-02-01&page=1&size=5\
             &sort=documentName,asc&sort=createdAt,desc",
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    let page = reply.json();
    let mut keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "content",
            "empty",
            "first",
            "last",
            "number",
            "numberOfElements",
            "size",
            "totalElements",
            "totalPages"
        ]
    );
    assert_eq!(page["totalPages"], 2);
    assert_eq!(page["number"], 1);
    assert_eq!(page["first"], false);
    assert_eq!(page["last"], true);
    assert_eq!(page["content"][0]["status"], "STARTED");
}

#[actix_web::test]
async fn list_without_owner_group_or_admin_is_a_422() {
    let p = Mocks::default()
        .call(TestRequest::get().uri("/api/v1/processes"))
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "ownerGroup");
}

#[actix_web::test]
async fn find_processes_needs_a_criterion_and_normalises_the_code() {
    Mocks::default()
        .call(
            TestRequest::post()
                .uri("/api/v1/processes/search")
                .set_json(json!({"documentId": " "})),
        )
        .await
        .problem(422);

    let mut m = Mocks::default();
    m.repo
        .expect_search()
        .withf(|s| s.personal_code.as_deref() == Some("16117519997") && s.document_id.is_none())
        .returning(|_| Ok(vec![started()]));
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/processes/search")
                .set_json(json!({"personalCode": "161175-19997"})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn update_step_answers_the_step() {
    let process = pending();
    let step = process.steps[1].clone();
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_step()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let body = json!({
        "processOrder": 2,
        "dueDate": "2026-04-01T12:00:00Z",
        "processStepSigners": [serde_json::to_value(ProcessStepSigner::from(&step.entries[0])).unwrap()]
    });
    let reply = m
        .call(
            TestRequest::put()
                .uri(&format!("/api/v1/process-steps/{}", step.id))
                .set_json(body),
        )
        .await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let json = reply.json();
    assert_eq!(json["id"], step.id.to_string());
    assert_eq!(json["dueDate"], "2026-04-01T12:00:00Z");
}

#[actix_web::test]
async fn update_step_without_process_order_is_a_422() {
    // The body is judged once the step is known to be within reach (section 10).
    let process = started();
    let step = process.steps[0].id;
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_step()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().never();
    let p = m
        .call(
            TestRequest::put()
                .uri(&format!("/api/v1/process-steps/{step}"))
                .set_json(json!({"processStepSigners": []})),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "processOrder");
}

#[actix_web::test]
async fn get_records_process_getone_with_the_caller_by_default() {
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_record()
        .withf(move |pid, c| {
            let a = &c.audit[0];
            *pid == id
                && c.audit.len() == 1
                && c.change.notifications.is_empty()
                && a.event_type == EventType::ProcessGetone
                && a.method.as_deref() == Some("getProcessById")
                && a.creator.as_deref() == Some("auditor")
                && a.ip_address.as_deref() == Some("192.0.2.44")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let reply = m
        .call(
            TestRequest::get()
                .uri(&format!("/api/v1/processes/{id}"))
                .insert_header(("X-User", "auditor"))
                .peer_addr("192.0.2.44:5000".parse().unwrap()),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
}

#[actix_web::test]
async fn get_records_nothing_when_reads_are_not_audited() {
    let process = started();
    let id = process.id;
    let mut m = Mocks {
        read_audit: ReadAudit::Off,
        ..Mocks::default()
    };
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_record().never();
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{id}")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_read_whose_audit_row_cannot_be_written_is_a_500() {
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_record().returning(|_, _| {
        Err(pas_domain::ports::RepoError::Storage(
            "audit table locked".into(),
        ))
    });
    m.call(TestRequest::get().uri(&format!("/api/v1/processes/{id}")))
        .await
        .problem(500);
}

#[actix_web::test]
async fn with_all_reads_audited_a_list_records_process_getall_per_listed_process() {
    let mut m = Mocks {
        read_audit: ReadAudit::All,
        ..Mocks::default()
    };
    m.repo
        .expect_list()
        .returning(|_, page: &PageRequest<ProcessSort>| {
            Ok(Page::new(vec![started(), pending()], 2, page))
        });
    m.repo
        .expect_record()
        .withf(|_, c| {
            c.audit.len() == 1
                && c.audit[0].event_type == EventType::ProcessGetall
                && c.audit[0].method.as_deref() == Some("listProcesses")
        })
        .times(2)
        .returning(|_, _| Ok(()));
    let reply = m
        .call(TestRequest::get().uri("/api/v1/processes?ownerGroup=sales"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["numberOfElements"], 2);
}
