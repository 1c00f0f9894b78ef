//! The OpenAPI document and its two pages: `GET /openapi.json` and Swagger UI at `/docs/`.
//!
//! Paths are collected from the registered handlers themselves (utoipa-actix-web), so a
//! route cannot exist without its documentation or the other way round.

use std::sync::OnceLock;

use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{App, HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{self as oa, RefOr, Response};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::caller::Operations as OperationTable;
use crate::fallback::KnownRoutes;
use crate::problem::responses::problem_responses;
use crate::problem::{Problem, ProblemField};
use crate::wire::{
    audit, catalog, directory, health, messages, outbox, page, persons, process, task, webhook,
};
use crate::{Limits, routes};
use pas_domain::status::{
    EventType, OutboxChannel, OutboxKind, OutboxState, ProcessStatus, ScopeFilter, SignerRole,
    SigningStatus, StepStatus, WebhookEventType,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "process-and-auditing-service",
        description = "Signing processes (ordered steps of signers, approvers and viewers), \
            the signer portal, document profiles and attributes, contacts and templates, \
            reminders, and a hash-chained audit trail.\n\n\
            Errors are `application/problem+json` (RFC 9457). Process reads carry an `ETag`; \
            send it back as `If-Match` on update, start, cancel and delete. Every operation \
            under `/api/v1` but the probes needs a bearer token (an OpenID Connect JWT or a \
            static token; use \"Authorize\"); the roles of each operation are in \
            docs/SECURITY.md. In `AUTH_MODE=off` (development on loopback) no token is \
            needed and the acting user is the `X-User` header.",
    ),
    tags(
        (name = "process-controller", description = "Signing processes"),
        (name = "process-step-controller", description = "Steps of a process"),
        (name = "process-step-signer-controller", description = "Signer portal and entry actions"),
        (name = "document-profile-controller", description = "Document profiles"),
        (name = "document-attribute-controller", description = "Document attributes"),
        (name = "contacts-controller", description = "Contacts"),
        (name = "templates-controller", description = "Process templates"),
        (name = "message-controller", description = "Email triggers"),
        (name = "auditing-controller", description = "Audit log"),
        (name = "outbox-controller", description = "Outbox administration: deliveries by state, retry of given-up rows"),
        (name = "person-controller", description = "A person's right to erasure"),
        (name = "webhook-controller", description = "Webhook subscriptions: signed deliveries of process events (Standard Webhooks 1.0)"),
        (name = "health", description = "Liveness and readiness"),
    ),
    components(schemas(
        Problem, ProblemField, page::Pageable,
        process::SigningProcess, process::SigningProcessStep, process::ProcessStepSigner,
        catalog::DocumentProfile, catalog::DocumentAttribute, directory::Contact,
        directory::Template, audit::AuditingEvent, audit::AuditTrail, audit::AuditCheckpoint,
        task::SignerTask,
        task::SignerStep, task::SignerDocument, process::ProcessSearchRequest,
        task::SignerActionRequest, messages::RemindersSent, task::SignerEmailSent,
        health::HealthStatus, page::PageSigningProcess, page::PageSignerTask, page::PageContact,
        page::PageTemplate, page::PageAuditingEvent, page::PageOutboxMessage,
        outbox::OutboxMessage, OutboxState, OutboxChannel, OutboxKind,
        persons::PersonErasureRequest, persons::PersonErasure,
        webhook::WebhookSubscription, webhook::WebhookSubscriptionInput,
        webhook::WebhookDeliveryAttempt, page::PageWebhookSubscription,
        page::PageWebhookDeliveryAttempt, WebhookEventType,
        ProcessStatus, StepStatus, SignerRole, SigningStatus, ScopeFilter, EventType,
    ))
)]
struct ApiDoc;

/// The OpenAPI document of every operation, as served at `GET /openapi.json`.
pub fn openapi() -> oa::OpenApi {
    let (_, collected) = App::new()
        .into_utoipa_app()
        .configure(routes::register_root)
        .service(routes::api_scope(Limits::default()))
        .split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.merge(collected);
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An OpenID Connect access token (JWT) or a static token of \
                         AUTH_TOKENS_FILE",
                    ))
                    .build(),
            ),
        );
    for (path, item) in &mut doc.paths.paths {
        let is_api = path.starts_with(crate::BASE_PATH);
        for op in operations(item) {
            let protected = is_api
                && op
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| pas_domain::auth::Operation::from_id(id).is_some());
            if protected {
                op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                add_missing(
                    &mut op.responses.responses,
                    problem_responses(&[
                        (
                            "401",
                            "No token, or a malformed, expired or badly signed one \
                             (WWW-Authenticate: Bearer)",
                        ),
                        (
                            "403",
                            "The principal's roles may not call this operation, or not on \
                             this object",
                        ),
                        (
                            "503",
                            "Temporarily unavailable, with Retry-After: the database is \
                             unreachable, not migrated yet or did not answer within \
                             DATABASE_TIMEOUT_MS, or no key of the identity provider could be \
                             loaded yet",
                        ),
                    ]),
                );
            }
            if op.request_body.is_some() {
                add_missing(
                    &mut op.responses.responses,
                    problem_responses(&[("415", "The body is not sent as application/json")]),
                );
            }
            let responses = &mut op.responses.responses;
            if is_api {
                add_missing(
                    responses,
                    problem_responses(&[("400", "Malformed JSON, parameter, header or id")]),
                );
            }
            add_missing(
                responses,
                problem_responses(&[(
                    "500",
                    "The service failed; the detail never carries internals",
                )]),
            );
        }
    }
    doc
}

/// The name of the bearer scheme in the document.
const BEARER: &str = "bearer";

fn add_missing(
    responses: &mut std::collections::BTreeMap<String, RefOr<Response>>,
    extra: std::collections::BTreeMap<String, RefOr<Response>>,
) {
    for (status, response) in extra {
        responses.entry(status).or_insert(response);
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// What every worker serves and routes by, derived from the one OpenAPI document.
///
/// The document depends on nothing but the code, so it is built once per process and
/// shared: each worker keeping its own utoipa tree held megabytes per worker (peak RSS of a
/// SQLite instance, issue 15), and serialising it on every `GET /openapi.json` cost CPU.
pub(crate) struct Published {
    /// The document as served, serialised once.
    json: web::Bytes,
    /// The path templates and their methods, for the 404/405 fallback.
    pub(crate) known: web::Data<KnownRoutes>,
    /// The operation of each route, for authorization and logs.
    pub(crate) operations: web::Data<OperationTable>,
}

/// The process's [`Published`] document, built on first use.
pub(crate) fn published() -> &'static Published {
    static PUBLISHED: OnceLock<Published> = OnceLock::new();
    PUBLISHED.get_or_init(|| {
        let doc = openapi();
        let json = doc
            .to_json()
            .expect("the OpenAPI document has only string keys, so it serialises");
        Published {
            json: web::Bytes::from(json),
            known: web::Data::new(KnownRoutes::from_openapi(&doc)),
            operations: web::Data::new(OperationTable::from_openapi(&doc)),
        }
    })
}

/// `GET /openapi.json`, Swagger UI at `/docs/` (its files are compiled in, and it loads the
/// document from `/openapi.json`), and `/docs` redirecting there.
pub(crate) fn register_docs(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/openapi.json",
        web::get().to(|| async {
            HttpResponse::Ok()
                .insert_header(ContentType::json())
                .body(published().json.clone())
        }),
    )
    .service(
        SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
    )
    .route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((LOCATION, "/docs/"))
                .finish()
        }),
    );
}
