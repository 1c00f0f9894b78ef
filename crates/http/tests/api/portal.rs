//! The signer portal: authorisation, entry actions, tasks, steps, documents, emails.

use actix_web::test::TestRequest;
use pas_domain::machine::Action;
use pas_domain::paging::Page;
use pas_domain::query::TaskOwner;
use pas_domain::status::{EventType, SignerRole, SigningStatus};
use serde_json::json;

use crate::support::{CODE, Mocks, NOW, entry, started};

/// A started process whose first step the approver has approved: the signer's turn.
fn signers_turn() -> pas_domain::process::SigningProcess {
    let mut p = started();
    let approver = pas_domain::ids::EntryId::from_uuid(entry(&p, SignerRole::Approver));
    let _ = p.act(approver, Action::Approve, None, NOW).unwrap();
    p
}

#[actix_web::test]
async fn authorize_with_the_right_identity_answers_the_process_and_records_it() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_record()
        .withf(|_, c| c.audit[0].event_type == EventType::AuthCompleted)
        .times(1)
        .returning(|_, _| Ok(()));
    let reply = m
        .call(TestRequest::get().uri(&format!(
            "/api/v1/processes/authorize/{signer}/16117519997/lv"
        )))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["documentId"], "lease-2026-17");
}

#[actix_web::test]
async fn signing_with_the_matching_identity_answers_the_completed_process() {
    let process = signers_turn();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_save()
        .withf(|p, _, _| p.status == pas_domain::status::ProcessStatus::Completed)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/process-step-signers/{signer}/sign"))
                .set_json(json!({"personalCode": CODE, "country": "LV"})),
        )
        .await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["status"], "COMPLETED");
    assert!(reply.header("etag").is_some());
}

#[actix_web::test]
async fn signing_with_another_identity_or_none_is_a_403() {
    for body in [
        json!({"personalCode": "010101-10006", "country": "LV"}),
        json!({}),
    ] {
        let process = signers_turn();
        let signer = entry(&process, SignerRole::Signer);
        let mut m = Mocks::default();
        m.repo
            .expect_get_by_entry()
            .returning(move |_| Ok(Some(process.clone())));
        m.repo.expect_save().never();
        let p = m
            .call(
                TestRequest::post()
                    .uri(&format!("/api/v1/process-step-signers/{signer}/sign"))
                    .set_json(body),
            )
            .await
            .problem(403);
        assert_eq!(p["detail"], "access denied");
    }
}

#[actix_web::test]
async fn an_anonymous_entry_approves_with_an_empty_body() {
    let process = started();
    let approver = entry(&process, SignerRole::Approver);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let reply = m
        .call(TestRequest::post().uri(&format!("/api/v1/process-step-signers/{approver}/approve")))
        .await;
    assert_eq!(
        reply.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["signers"][0]["signingStatus"], "APPROVED");
}

#[actix_web::test]
async fn a_decline_keeps_the_comment_as_the_reason() {
    let process = started();
    let approver = entry(&process, SignerRole::Approver);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_save()
        .withf(|_, _, c| {
            c.change.events[0].event_type == EventType::ApproverDeclined
                && c.change.events[0].note.as_deref() == Some("wrong amount")
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let reply = m
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/process-step-signers/{approver}/decline"))
                .set_json(json!({"comment": " wrong amount "})),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["status"], "DECLINED");
    assert_eq!(
        reply.json()["signers"][0]["signingStatus"],
        SigningStatus::Declined.as_str()
    );
}

#[actix_web::test]
async fn signer_tasks_without_an_identity_are_a_422() {
    Mocks::default()
        .call(TestRequest::get().uri("/api/v1/signer-tasks?nonExpired=true"))
        .await
        .problem(422);
}

#[actix_web::test]
async fn signer_tasks_read_the_person_and_filters() {
    let mut m = Mocks::default();
    m.repo
        .expect_signer_tasks()
        .withf(|f, page| {
            matches!(&f.owner, TaskOwner::Person { person, signer: None } if person.code == "16117519997")
                && f.non_expired
                && f.now == NOW
                && page.size == 25
        })
        .returning(|_, page| Ok(Page::new(vec![], 0, page)));
    let reply = m
        .call(TestRequest::get().uri(
            "/api/v1/signer-tasks?personalCode=161175-19997&country=LV&nonExpired=true&size=25&sort=dueDate,asc",
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json()["empty"], true);
}

#[actix_web::test]
async fn signer_steps_and_documents_answer_arrays() {
    let mut m = Mocks::default();
    m.repo
        .expect_for_person()
        .returning(|_| Ok(vec![started()]));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/signers/{CODE}/LV/steps")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    let steps = reply.json();
    assert_eq!(steps.as_array().unwrap().len(), 1);
    assert!(steps[0]["processId"].is_string());
    assert_eq!(steps[0]["processOrder"], 2);

    let mut m = Mocks::default();
    m.repo
        .expect_for_person()
        .returning(|_| Ok(vec![started()]));
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/signers/{CODE}/LV/documents")))
        .await;
    assert_eq!(reply.json()[0]["documentName"], "Lease");
    assert_eq!(reply.json()[0]["processStatus"], "STARTED");
}

#[actix_web::test]
async fn a_malformed_country_in_a_portal_path_is_a_400() {
    Mocks::default()
        .call(TestRequest::get().uri(&format!("/api/v1/signers/{CODE}/XX1/steps")))
        .await
        .problem(400);
}

#[actix_web::test]
async fn send_signer_email_answers_the_address_and_event_type() {
    let process = started();
    let approver = entry(&process, SignerRole::Approver);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_record()
        .withf(|_, c| c.change.notifications.len() == 1)
        .times(1)
        .returning(|_, _| Ok(()));
    m.mailer
        .expect_subject()
        .withf(|intent, _| intent.event_type == pas_domain::status::EventType::TaskStarted)
        .returning(|_, _| Ok(Some("Please approve".into())));
    let reply = m
        .call(TestRequest::post().uri(&format!("/api/v1/process-step-signers/{approver}/email")))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.json(),
        json!({"to": "boss@example.lv", "subject": "Please approve", "eventType": "TASK_STARTED"})
    );
}

#[actix_web::test]
async fn send_signer_email_for_an_entry_not_waiting_is_a_409() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    let p = m
        .call(TestRequest::post().uri(&format!("/api/v1/process-step-signers/{signer}/email")))
        .await
        .problem(409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("WAITING_FOR_PREVIOUS"),
        "{p}"
    );
}

/// `authorizeProcessAccess` for `signer` with `code`, from `peer`.
fn authorize_from(signer: uuid::Uuid, code: &str, peer: &str) -> TestRequest {
    TestRequest::get()
        .uri(&format!("/api/v1/processes/authorize/{signer}/{code}/LV"))
        .peer_addr(peer.parse().unwrap())
}

const WRONG: &str = "010101-10006";

#[actix_web::test]
async fn the_eleventh_failed_authorization_within_a_minute_is_a_429_with_retry_after() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .times(10)
        .returning(move |_| Ok(Some(process.clone())));
    m.repo
        .expect_record()
        .withf(|_, c| c.audit[0].event_type == EventType::AuditLoginFault)
        .times(10)
        .returning(|_, _| Ok(()));
    let replies = m
        .call_all(
            (0..11)
                .map(|_| authorize_from(signer, WRONG, "192.0.2.1:4000"))
                .collect(),
        )
        .await;
    for r in &replies[..10] {
        r.problem(403);
    }
    let refused = &replies[10];
    let p = refused.problem(429);
    assert_eq!(p["type"], "urn:pas:problem:too-many-requests");
    let wait: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[actix_web::test]
async fn successful_authorizations_do_not_count_towards_the_limit() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .times(25)
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_record().times(25).returning(|_, _| Ok(()));
    let peer = "192.0.2.1:4000";
    let mut reqs: Vec<_> = (0..15)
        .map(|_| authorize_from(signer, CODE, peer))
        .collect();
    reqs.extend((0..11).map(|_| authorize_from(signer, WRONG, peer)));
    let replies = m.call_all(reqs).await;
    assert!(replies[..15].iter().all(|r| r.status.as_u16() == 200));
    for r in &replies[15..25] {
        r.problem(403);
    }
    replies[25].problem(429);
}

#[actix_web::test]
async fn the_limit_holds_per_signer_id_and_per_address_and_spares_the_others() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let other = uuid::Uuid::now_v7();
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .returning(move |s| Ok((s.as_uuid() == signer).then(|| process.clone())));
    m.repo.expect_record().returning(|_, _| Ok(()));
    let mut reqs: Vec<_> = (0..10)
        .map(|_| authorize_from(signer, WRONG, "192.0.2.1:4000"))
        .collect();
    reqs.push(authorize_from(signer, CODE, "198.51.100.2:4000"));
    reqs.push(authorize_from(other, CODE, "192.0.2.1:4001"));
    reqs.push(authorize_from(other, CODE, "198.51.100.2:4000"));
    let replies = m.call_all(reqs).await;
    replies[10].problem(429);
    replies[11].problem(429);
    let unaffected = replies[12].problem(403);
    assert_eq!(
        unaffected["detail"], "access denied",
        "another signer id from another address reaches the identity check"
    );
}

#[actix_web::test]
async fn entry_actions_answering_403_count_and_the_eleventh_is_refused_unsaved() {
    let process = signers_turn();
    let signer = entry(&process, SignerRole::Signer);
    let mut m = Mocks::default();
    m.repo
        .expect_get_by_entry()
        .times(10)
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().never();
    let reqs = (0..11)
        .map(|_| {
            TestRequest::post()
                .uri(&format!("/api/v1/process-step-signers/{signer}/sign"))
                .peer_addr("192.0.2.1:4000".parse().unwrap())
                .set_json(json!({"personalCode": WRONG, "country": "LV"}))
        })
        .collect();
    let replies = m.call_all(reqs).await;
    for r in &replies[..10] {
        r.problem(403);
    }
    replies[10].problem(429);
    assert!(replies[10].header("retry-after").is_some());
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_client() {
    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    // Addresses here are parsed and compared as header values and test peers; nothing is
    // ever dialled.
    let mut m = Mocks {
        network: pas_http::NetworkSettings {
            trusted_proxies: pas_http::network::parse_ip_blocks("10.0.0.0/8").unwrap(),
        },
        auth_failures_per_minute: Some(2),
        ..Mocks::default()
    };
    m.repo.expect_get_by_entry().returning(|_| Ok(None));
    m.repo
        .expect_record()
        .withf(move |_, c| c.audit[0].ip_address.as_deref() == Some("203.0.113.9"))
        .returning(|_, _| Ok(()));
    let via_proxy = |signer: uuid::Uuid, client: &str| {
        authorize_from(signer, WRONG, "10.0.0.1:4000").insert_header(("X-Forwarded-For", client))
    };
    let replies = m
        .call_all(vec![
            via_proxy(uuid::Uuid::now_v7(), "203.0.113.9"),
            via_proxy(uuid::Uuid::now_v7(), "203.0.113.9"),
            via_proxy(uuid::Uuid::now_v7(), "203.0.113.9"),
            via_proxy(uuid::Uuid::now_v7(), "198.51.100.3"),
            via_proxy(signer, "203.0.113.9, 10.0.0.5"),
        ])
        .await;
    replies[0].problem(403);
    replies[1].problem(403);
    replies[2].problem(429);
    replies[3].problem(403);
    replies[4].problem(429);
}
