//! The handlers, one module per resource, and the scope that holds them.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::ETAG;
use actix_web::middleware::from_fn;
use actix_web::{Error, HttpResponse, HttpResponseBuilder, web};
use pas_domain::process::ProcessData;
use utoipa_actix_web::scope::Scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{ApiError, json_error, path_error};
use crate::{BASE_PATH, Limits, fallback, logging};

pub(crate) mod audit;
pub(crate) mod catalog;
pub(crate) mod directory;
pub(crate) mod health;
pub(crate) mod messages;
pub(crate) mod outbox;
pub(crate) mod persons;
pub(crate) mod processes;
pub(crate) mod signers;
pub(crate) mod steps;
pub(crate) mod webhooks;

/// What a handler answers.
pub(crate) type ApiResult = Result<HttpResponse, ApiError>;

/// The API under [`BASE_PATH`]: every operation, the body and path error handlers, the
/// request log and the problem guard, and the 404/405 fallback.
///
/// Order matters where templates overlap: literal segments (`/processes/search`,
/// `/processes/by-document/…`, `/document-profiles/by-name`) are registered before the
/// `{id}` templates they would otherwise fall into.
pub(crate) fn api_scope(
    limits: Limits,
) -> Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let limit = limits.max_body_bytes;
    utoipa_actix_web::scope(BASE_PATH)
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(move |err, _req| json_error(err, limit).into()),
        )
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(processes::register)
        .configure(audit::register)
        .configure(steps::register)
        .configure(signers::register)
        .configure(catalog::register)
        .configure(directory::register)
        .configure(messages::register)
        .configure(outbox::register)
        .configure(persons::register)
        .configure(webhooks::register)
        .default_service(web::to(fallback::unmatched))
        .wrap(from_fn(crate::authn::authenticate))
        .wrap(from_fn(logging::observe))
}

/// The operations outside [`BASE_PATH`]: liveness and readiness.
pub(crate) fn register_root(cfg: &mut ServiceConfig) {
    health::register(cfg);
}

/// The probes under [`BASE_PATH`] too; registered before the API scope, so that they answer
/// without a token like the root ones.
pub(crate) fn register_base_probes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        &format!("{BASE_PATH}/health"),
        web::get().to(health::liveness),
    )
    .route(
        &format!("{BASE_PATH}/ready"),
        web::get().to(health::readiness),
    );
}

/// A process answer with its `ETag`.
pub(crate) fn process_response(mut builder: HttpResponseBuilder, p: &ProcessData) -> HttpResponse {
    builder
        .insert_header((ETAG, p.etag()))
        .json(crate::wire::process::SigningProcess::from(p))
}
