//! The OpenAPI document, the docs page and the probes.

use std::collections::BTreeMap;

use actix_web::test::TestRequest;

use crate::support::Mocks;

/// Every operationId of PRODUCT.md section 4 and the beyond-the-seed ones, with its tag,
/// method and path.
const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "createProcess",
        "process-controller",
        "post",
        "/api/v1/processes",
    ),
    (
        "getProcessById",
        "process-controller",
        "get",
        "/api/v1/processes/{processId}",
    ),
    (
        "updateProcess",
        "process-controller",
        "put",
        "/api/v1/processes/{processId}",
    ),
    (
        "deleteProcess",
        "process-controller",
        "delete",
        "/api/v1/processes/{processId}",
    ),
    (
        "listProcesses",
        "process-controller",
        "get",
        "/api/v1/processes",
    ),
    (
        "findProcesses",
        "process-controller",
        "post",
        "/api/v1/processes/search",
    ),
    (
        "cancelProcess",
        "process-controller",
        "post",
        "/api/v1/processes/{processId}/cancel",
    ),
    (
        "cancelProcessWithMessageControl",
        "process-controller",
        "post",
        "/api/v1/processes/{processId}/cancel/{disableMessages}",
    ),
    (
        "listProcessesByStepSignerId",
        "process-controller",
        "get",
        "/api/v1/processes/by-step-signer/{stepsignerId}",
    ),
    (
        "listProcessesByDocumentId",
        "process-controller",
        "get",
        "/api/v1/processes/by-document/{documentId}",
    ),
    (
        "authorizeProcessAccess",
        "process-controller",
        "get",
        "/api/v1/processes/authorize/{signerId}/{personCode}/{country}",
    ),
    (
        "updateProcessStep",
        "process-step-controller",
        "put",
        "/api/v1/process-steps/{processStepId}",
    ),
    (
        "getDocumentProfileById",
        "document-profile-controller",
        "get",
        "/api/v1/document-profiles/{id}",
    ),
    (
        "updateDocumentProfile",
        "document-profile-controller",
        "put",
        "/api/v1/document-profiles/{id}",
    ),
    (
        "deleteDocumentProfile",
        "document-profile-controller",
        "delete",
        "/api/v1/document-profiles/{id}",
    ),
    (
        "listDocumentProfiles",
        "document-profile-controller",
        "get",
        "/api/v1/document-profiles",
    ),
    (
        "createDocumentProfile",
        "document-profile-controller",
        "post",
        "/api/v1/document-profiles",
    ),
    (
        "getDocumentProfileByName",
        "document-profile-controller",
        "get",
        "/api/v1/document-profiles/by-name",
    ),
    (
        "getDocumentAttributeById",
        "document-attribute-controller",
        "get",
        "/api/v1/document-attributes/{id}",
    ),
    (
        "updateDocumentAttribute",
        "document-attribute-controller",
        "put",
        "/api/v1/document-attributes/{id}",
    ),
    (
        "deleteDocumentAttribute",
        "document-attribute-controller",
        "delete",
        "/api/v1/document-attributes/{id}",
    ),
    (
        "listDocumentAttributes",
        "document-attribute-controller",
        "get",
        "/api/v1/document-attributes",
    ),
    (
        "createDocumentAttribute",
        "document-attribute-controller",
        "post",
        "/api/v1/document-attributes",
    ),
    (
        "listContacts",
        "contacts-controller",
        "get",
        "/api/v1/contacts",
    ),
    (
        "createContact",
        "contacts-controller",
        "post",
        "/api/v1/contacts",
    ),
    (
        "updateContact",
        "contacts-controller",
        "put",
        "/api/v1/contacts",
    ),
    (
        "deleteContact",
        "contacts-controller",
        "delete",
        "/api/v1/contacts/{contactId}",
    ),
    (
        "listTemplates",
        "templates-controller",
        "get",
        "/api/v1/templates",
    ),
    (
        "createTemplate",
        "templates-controller",
        "post",
        "/api/v1/templates",
    ),
    (
        "deleteTemplate",
        "templates-controller",
        "delete",
        "/api/v1/templates/{templateId}",
    ),
    (
        "sendReminders",
        "message-controller",
        "post",
        "/api/v1/messages/reminders",
    ),
    (
        "sendTestEmail",
        "message-controller",
        "post",
        "/api/v1/messages/test/{eventType}",
    ),
    (
        "createAuditingEvent",
        "auditing-controller",
        "post",
        "/api/v1/audit-events",
    ),
    (
        "listSignerTasks",
        "process-step-signer-controller",
        "get",
        "/api/v1/signer-tasks",
    ),
    (
        "sendSignerEmail",
        "process-step-signer-controller",
        "post",
        "/api/v1/process-step-signers/{processSignerId}/email",
    ),
    (
        "listSignerSteps",
        "process-step-signer-controller",
        "get",
        "/api/v1/signers/{personCode}/{country}/steps",
    ),
    (
        "listSignerDocuments",
        "process-step-signer-controller",
        "get",
        "/api/v1/signers/{personCode}/{country}/documents",
    ),
    // Beyond the seed.
    (
        "startProcess",
        "process-controller",
        "post",
        "/api/v1/processes/{processId}/start",
    ),
    (
        "signProcessStep",
        "process-step-signer-controller",
        "post",
        "/api/v1/process-step-signers/{signerId}/sign",
    ),
    (
        "approveProcessStep",
        "process-step-signer-controller",
        "post",
        "/api/v1/process-step-signers/{signerId}/approve",
    ),
    (
        "viewProcessStep",
        "process-step-signer-controller",
        "post",
        "/api/v1/process-step-signers/{signerId}/view",
    ),
    (
        "declineProcessStep",
        "process-step-signer-controller",
        "post",
        "/api/v1/process-step-signers/{signerId}/decline",
    ),
    (
        "listAuditEvents",
        "auditing-controller",
        "get",
        "/api/v1/audit-events",
    ),
    (
        "getProcessAuditTrail",
        "auditing-controller",
        "get",
        "/api/v1/processes/{processId}/audit-trail",
    ),
    ("listOutbox", "outbox-controller", "get", "/api/v1/outbox"),
    (
        "retryOutboxMessage",
        "outbox-controller",
        "post",
        "/api/v1/outbox/{id}/retry",
    ),
    (
        "getAuditCheckpoint",
        "auditing-controller",
        "get",
        "/api/v1/audit-checkpoint",
    ),
    (
        "erasePerson",
        "person-controller",
        "post",
        "/api/v1/persons/erasure",
    ),
    // PRODUCT.md section 12.
    (
        "createWebhook",
        "webhook-controller",
        "post",
        "/api/v1/webhooks",
    ),
    (
        "listWebhooks",
        "webhook-controller",
        "get",
        "/api/v1/webhooks",
    ),
    (
        "getWebhook",
        "webhook-controller",
        "get",
        "/api/v1/webhooks/{id}",
    ),
    (
        "updateWebhook",
        "webhook-controller",
        "put",
        "/api/v1/webhooks/{id}",
    ),
    (
        "deleteWebhook",
        "webhook-controller",
        "delete",
        "/api/v1/webhooks/{id}",
    ),
    (
        "rotateWebhookSecret",
        "webhook-controller",
        "post",
        "/api/v1/webhooks/{id}/rotate-secret",
    ),
    (
        "listWebhookDeliveries",
        "webhook-controller",
        "get",
        "/api/v1/webhooks/{id}/deliveries",
    ),
    (
        "retryWebhookDelivery",
        "webhook-controller",
        "post",
        "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    ),
    (
        "pingWebhook",
        "webhook-controller",
        "post",
        "/api/v1/webhooks/{id}/ping",
    ),
    ("health", "health", "get", "/health"),
    ("ready", "health", "get", "/ready"),
];

fn operations(doc: &serde_json::Value) -> BTreeMap<String, (String, String, String)> {
    let mut found = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(tags.len(), 1, "{id} has tags {tags:?}");
            let previous = found.insert(
                id.clone(),
                (tags[0].to_owned(), method.clone(), path.clone()),
            );
            assert!(previous.is_none(), "operationId {id} appears twice");
        }
    }
    found
}

#[actix_web::test]
async fn the_served_document_lists_every_operation_with_its_tag_method_and_path() {
    let reply = Mocks::default()
        .call(TestRequest::get().uri("/openapi.json"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    let doc = reply.json();
    let found = operations(&doc);
    for (id, tag, method, path) in OPERATIONS {
        let (t, m, p) = found
            .get(*id)
            .unwrap_or_else(|| panic!("operationId {id} is missing"));
        assert_eq!(
            (t.as_str(), m.as_str(), p.as_str()),
            (*tag, *method, *path),
            "{id}"
        );
    }
    assert_eq!(
        found.len(),
        OPERATIONS.len(),
        "unexpected operations: {found:?}"
    );
}

#[actix_web::test]
async fn the_document_names_the_seed_schemas_and_parameters() {
    let doc = serde_json::to_value(pas_http::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "SigningProcess",
        "SigningProcessStep",
        "ProcessStepSigner",
        "DocumentProfile",
        "DocumentAttribute",
        "Contact",
        "Template",
        "AuditingEvent",
        "SignerTask",
        "Problem",
        "Pageable",
        "PageSigningProcess",
        "PageContact",
        "PageTemplate",
        "PageSignerTask",
        "PageAuditingEvent",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    let params = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        params("/api/v1/processes", "get"),
        [
            "pageable",
            "createdDateBefore",
            "createdDateAfter",
            "processStatus",
            "nameSearch",
            "emailSearch",
            "personalCode",
            "ownerGroup",
            "docType",
            "isAdmin"
        ]
    );
    assert_eq!(
        params("/api/v1/signer-tasks", "get"),
        [
            "personalCode",
            "country",
            "signerId",
            "createdDateBefore",
            "createdDateAfter",
            "processStatus",
            "nameSearch",
            "size",
            "sort",
            "nonExpired",
            "page"
        ]
    );
    let create = &doc["paths"]["/api/v1/processes"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SigningProcess"
    );
    assert_eq!(
        create["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_at_docs() {
    let reply = Mocks::default()
        .call(TestRequest::get().uri("/docs/"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&reply.body).contains("swagger"));
    // The page loads the document from the one place it is served.
    let reply = Mocks::default()
        .call(TestRequest::get().uri("/docs/swagger-initializer.js"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&reply.body).contains("\"/openapi.json\""));
    let reply = Mocks::default().call(TestRequest::get().uri("/docs")).await;
    assert_eq!(reply.status.as_u16(), 308);
    assert_eq!(reply.header("location").as_deref(), Some("/docs/"));
}

#[actix_web::test]
async fn health_is_up_and_ready_follows_the_readiness_check() {
    let reply = Mocks::default()
        .call(TestRequest::get().uri("/health"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "UP"}));

    let reply = Mocks::default()
        .call(TestRequest::get().uri("/ready"))
        .await;
    assert_eq!(reply.status.as_u16(), 200);

    let down = Mocks {
        not_ready: true,
        ..Mocks::default()
    };
    let reply = down.call(TestRequest::get().uri("/api/v1/ready")).await;
    assert_eq!(reply.status.as_u16(), 503);
    assert_eq!(reply.json(), serde_json::json!({"status": "DOWN"}));
}
