//! Every error class as an RFC 9457 problem.

use actix_web::test::TestRequest;
use pas_domain::ports::RepoError;
use pas_domain::status::SignerRole;
use pas_http::Limits;
use serde_json::json;

use crate::support::{CODE, Mocks, canceled, entry, process_json, started};

const PID: &str = "00000000-0000-7000-8000-000000000001";

#[actix_web::test]
async fn malformed_json_is_a_400_problem_with_the_parser_message() {
    let reply = Mocks::default()
        .call(
            TestRequest::post()
                .uri("/api/v1/processes")
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"documentId\": "),
        )
        .await;
    let p = reply.problem(400);
    assert!(
        p["detail"].as_str().unwrap().contains("malformed JSON"),
        "{p}"
    );
}

#[actix_web::test]
async fn an_unknown_enum_value_in_the_body_is_a_400_naming_it() {
    let mut body = process_json();
    body["status"] = json!("DONE");
    let reply = Mocks::default()
        .call(TestRequest::post().uri("/api/v1/processes").set_json(body))
        .await;
    let p = reply.problem(400);
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("unknown variant") && detail.contains("DONE"),
        "{detail}"
    );
}

#[actix_web::test]
async fn a_wrong_json_type_is_a_400() {
    let mut body = process_json();
    body["signingProcessSteps"] = json!("not a list");
    Mocks::default()
        .call(TestRequest::post().uri("/api/v1/processes").set_json(body))
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_non_uuid_path_id_is_a_400() {
    let p = Mocks::default()
        .call(TestRequest::get().uri("/api/v1/processes/not-a-uuid"))
        .await
        .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("path parameter"));
}

#[actix_web::test]
async fn an_unknown_sort_field_is_a_400_listing_the_allowed_ones() {
    let p = Mocks::default()
        .call(TestRequest::get().uri("/api/v1/processes?ownerGroup=sales&sort=password,asc"))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "sort");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("createdAt")
    );
}

#[actix_web::test]
async fn an_unknown_enum_value_in_a_parameter_is_a_400() {
    let p = Mocks::default()
        .call(TestRequest::get().uri("/api/v1/processes?ownerGroup=sales&processStatus=DONE"))
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "processStatus");
}

#[actix_web::test]
async fn a_malformed_date_parameter_is_a_400() {
    let p = Mocks::default()
        .call(
            TestRequest::get()
                .uri("/api/v1/processes?ownerGroup=sales&createdDateAfter=02.03.2026"),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "createdDateAfter");
}

#[actix_web::test]
async fn an_unknown_process_is_a_404() {
    let mut m = Mocks::default();
    m.repo.expect_get().returning(|_| Ok(None));
    let p = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{PID}")))
        .await
        .problem(404);
    assert_eq!(p["detail"], "process not found");
}

#[actix_web::test]
async fn canceling_a_canceled_process_is_a_409_naming_the_state() {
    let process = canceled();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    let p = m
        .call(TestRequest::post().uri(&format!("/api/v1/processes/{id}/cancel")))
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("CANCELED"), "{p}");
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412() {
    let process = started();
    let id = process.id;
    let mut m = Mocks::default();
    m.repo
        .expect_get()
        .returning(move |_| Ok(Some(process.clone())));
    m.repo.expect_save().never();
    m.call(
        TestRequest::post()
            .uri(&format!("/api/v1/processes/{id}/cancel"))
            .insert_header(("If-Match", "\"1\"")),
    )
    .await
    .problem(412);
}

#[actix_web::test]
async fn a_malformed_if_match_is_a_400() {
    let p = Mocks::default()
        .call(
            TestRequest::delete()
                .uri(&format!("/api/v1/processes/{PID}"))
                .insert_header(("If-Match", "\"v1\"")),
        )
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["field"], "If-Match");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let m = Mocks {
        limits: Some(Limits { max_body_bytes: 64 }),
        ..Mocks::default()
    };
    m.call(
        TestRequest::post()
            .uri("/api/v1/processes")
            .set_json(process_json()),
    )
    .await
    .problem(413);
}

#[actix_web::test]
async fn an_action_body_over_the_limit_is_a_413_problem_too() {
    let m = Mocks {
        limits: Some(Limits { max_body_bytes: 16 }),
        ..Mocks::default()
    };
    m.call(
        TestRequest::post()
            .uri(&format!("/api/v1/process-step-signers/{PID}/sign"))
            .set_json(json!({"comment": "x".repeat(100)})),
    )
    .await
    .problem(413);
}

#[actix_web::test]
async fn a_process_breaking_rules_is_a_422_listing_each_error() {
    let mut body = process_json();
    body["processInitiatorEmail"] = json!("not an email");
    body["signingProcessSteps"][1]["processStepSigners"][0]["signerEmail"] = json!("nope");
    let p = Mocks::default()
        .call(TestRequest::post().uri("/api/v1/processes").set_json(body))
        .await
        .problem(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "processInitiatorEmail",
            "signingProcessSteps[1].processStepSigners[0].signerEmail"
        ]
    );
    assert!(p["errors"][0]["message"].is_string());
}

#[actix_web::test]
async fn authorize_answers_the_same_403_for_an_unknown_signer_and_a_wrong_identity() {
    let uri =
        |signer: uuid::Uuid, code: &str| format!("/api/v1/processes/authorize/{signer}/{code}/LV");

    let mut unknown = Mocks::default();
    unknown.repo.expect_get_by_entry().returning(|_| Ok(None));
    let unknown_reply = unknown
        .call(TestRequest::get().uri(&uri(uuid::Uuid::now_v7(), CODE)))
        .await;

    let process = started();
    let signer = entry(&process, SignerRole::Signer);
    let mut wrong = Mocks::default();
    wrong
        .repo
        .expect_get_by_entry()
        .returning(move |_| Ok(Some(process.clone())));
    wrong.repo.expect_record().times(1).returning(|_, _| Ok(()));
    let wrong_reply = wrong
        .call(TestRequest::get().uri(&uri(signer, "010101-10006")))
        .await;

    unknown_reply.problem(403);
    wrong_reply.problem(403);
    assert_eq!(unknown_reply.body, wrong_reply.body);
}

#[actix_web::test]
async fn a_storage_failure_is_a_500_without_internals() {
    let mut m = Mocks::default();
    m.repo.expect_get().returning(|_| {
        Err(RepoError::Storage(
            "connection to postgres://admin:s3cret@db:5432 refused".into(),
        ))
    });
    let reply = m
        .call(TestRequest::get().uri(&format!("/api/v1/processes/{PID}")))
        .await;
    reply.problem(500);
    let text = String::from_utf8_lossy(&reply.body);
    for secret in ["s3cret", "postgres", "refused", "storage"] {
        assert!(!text.contains(secret), "500 body leaks {secret}: {text}");
    }
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    Mocks::default()
        .call(TestRequest::get().uri("/api/v1/no-such-thing"))
        .await
        .problem(404);
    Mocks::default()
        .call(TestRequest::get().uri("/nowhere"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let reply = Mocks::default()
        .call(TestRequest::patch().uri(&format!("/api/v1/processes/{PID}")))
        .await;
    reply.problem(405);
    assert_eq!(reply.header("allow").as_deref(), Some("DELETE, GET, PUT"));
    let reply = Mocks::default()
        .call(TestRequest::post().uri("/health"))
        .await;
    reply.problem(405);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    Mocks::default()
        .call(
            TestRequest::post()
                .uri("/api/v1/processes")
                .insert_header(("content-type", "text/plain"))
                .set_payload("hello"),
        )
        .await
        .problem(415);
    // And the document says so for every operation that takes a body (schemathesis checks
    // that every status answered is documented).
    let doc = serde_json::to_value(pas_http::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_some() {
                assert!(
                    op["responses"].get("415").is_some(),
                    "{method} {path} takes a body but documents no 415"
                );
            }
        }
    }
}

#[actix_web::test]
async fn send_test_email_sends_through_the_mailer_and_stores_nothing() {
    let mut m = Mocks::default();
    m.mailer
        .expect_send_test()
        .withf(|_, event, role, languages| {
            *event == pas_domain::status::EventType::TaskStarted
                && *role == pas_domain::notify::RecipientRole::Signer
                && *languages == pas_domain::ports::TestLanguages::Recipients
        })
        .times(1)
        .returning(|_, _, _, _| {
            Ok(vec![pas_domain::ports::SentEmail {
                to: "a@example.lv".into(),
                subject: "Please sign".into(),
            }])
        });
    m.repo.expect_insert().never();
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/messages/test/TASK_STARTED?role=SIGNER")
                .set_json(crate::support::process_json()),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.json(),
        json!([{"to": "a@example.lv", "subject": "Please sign"}])
    );
}

#[actix_web::test]
async fn send_test_email_reads_the_language_parameter() {
    use pas_domain::ports::TestLanguages;
    for (query, expected) in [
        ("language=all", TestLanguages::All),
        ("language=ALL", TestLanguages::All),
        (
            "language=ru-LV",
            TestLanguages::Only(pas_domain::language::Language::parse("ru-lv").unwrap()),
        ),
    ] {
        let mut m = Mocks::default();
        m.mailer
            .expect_send_test()
            .withf(move |_, _, _, languages| *languages == expected)
            .times(1)
            .returning(|_, _, _, _| Ok(vec![]));
        let reply = m
            .call(
                TestRequest::post()
                    .uri(&format!(
                        "/api/v1/messages/test/TASK_STARTED?role=SIGNER&{query}"
                    ))
                    .set_json(crate::support::process_json()),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{query}");
    }
    let mut m = Mocks::default();
    m.mailer.expect_send_test().never();
    let p = m
        .call(
            TestRequest::post()
                .uri("/api/v1/messages/test/TASK_STARTED?role=SIGNER&language=latvian!")
                .set_json(crate::support::process_json()),
        )
        .await
        .problem(400);
    assert!(p.to_string().contains("language"), "{p}");
}

#[actix_web::test]
async fn send_test_email_rejects_an_unknown_event_or_role() {
    let body = crate::support::process_json();
    Mocks::default()
        .call(
            TestRequest::post()
                .uri("/api/v1/messages/test/NOPE?role=SIGNER")
                .set_json(body.clone()),
        )
        .await
        .problem(400);
    Mocks::default()
        .call(
            TestRequest::post()
                .uri("/api/v1/messages/test/TASK_STARTED?role=BOSS")
                .set_json(body),
        )
        .await
        .problem(400);
}

#[actix_web::test]
async fn a_mail_server_failure_is_a_502_without_internals() {
    let mut m = Mocks::default();
    m.mailer.expect_send_test().returning(|_, _, _, _| {
        Err(pas_domain::ports::MailError::Transport(
            "smtp://user:secret@mail refused".into(),
        ))
    });
    let reply = m
        .call(
            TestRequest::post()
                .uri("/api/v1/messages/test/TASK_STARTED?role=SIGNER")
                .set_json(crate::support::process_json()),
        )
        .await;
    let p = reply.problem(502);
    assert!(!p.to_string().contains("secret"));
}
