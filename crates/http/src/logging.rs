//! The request log (method, masked path, status, latency) and the guard that makes every
//! error response of the API a problem document.
//!
//! No personal code reaches a log line: the `{personCode}` segments of
//! `/processes/authorize/{signerId}/{personCode}/{country}` and
//! `/signers/{personCode}/{country}/…`, and the values of query parameters holding a personal
//! code (`personalCode`, `customerPersonalCode`, `personCode`), are replaced by `***`.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::problem::{ApiError, PROBLEM_JSON};

/// What a masked value is replaced by.
pub const MASK: &str = "***";

/// The path with every personal-code segment replaced by `***`.
///
/// ```
/// assert_eq!(
///     pas_http::mask_path("/api/v1/signers/161175-19997/LV/steps"),
///     "/api/v1/signers/***/LV/steps"
/// );
/// ```
pub fn mask_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').collect();
    let mut masked = Vec::new();
    for i in 0..segments.len() {
        match segments[i] {
            "signers" => masked.push(i + 1),
            "processes" if segments.get(i + 1) == Some(&"authorize") => masked.push(i + 3),
            _ => {}
        }
    }
    for i in masked {
        if let Some(s) = segments.get_mut(i) {
            if !s.is_empty() {
                *s = MASK;
            }
        }
    }
    segments.join("/")
}

fn holds_personal_code(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("personalcode") || k.contains("personcode")
}

/// The raw query string with the values of personal-code parameters replaced by `***`.
///
/// ```
/// assert_eq!(
///     pas_http::mask_query("personalCode=161175-19997&country=LV"),
///     "personalCode=***&country=LV"
/// );
/// ```
pub fn mask_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (raw_key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key: String = form_urlencoded::parse(raw_key.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if holds_personal_code(&key) && !value.is_empty() {
                format!("{raw_key}={MASK}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The path and query as a log line shows them.
pub fn masked_target(path: &str, query: &str) -> String {
    if query.is_empty() {
        mask_path(path)
    } else {
        format!("{}?{}", mask_path(path), mask_query(query))
    }
}

/// Middleware of the API scope: logs each request and rewrites any error response that is
/// not JSON (an extractor's plain-text 400, a 413 from the payload reader, a stray 500) into
/// a problem, with a generic text.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let target = masked_target(req.path(), req.query_string());
    // Handlers' and extractors' errors arrive as responses; an `Err` only comes from inner
    // middleware, and actix renders it after this one.
    let result = next
        .call(req)
        .await
        .map(|res| as_problem(res.map_into_boxed_body()));
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "pas_http::access",
        method = %method,
        path = %target,
        status = status.as_u16(),
        latency_ms,
        "request"
    );
    result
}

fn as_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    // A problem, or a handler's deliberate JSON (the 503 of `/ready`), stays as it is.
    let is_json = res.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(PROBLEM_JSON.as_bytes()) || v.starts_with(b"application/json")
    });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (req, _) = res.into_parts();
    ServiceResponse::new(req, ApiError::Status(status).error_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_person_code_of_an_authorize_path_is_masked() {
        assert_eq!(
            mask_path(
                "/api/v1/processes/authorize/0190d3e4-0000-7000-8000-000000000001/161175-19997/LV"
            ),
            "/api/v1/processes/authorize/0190d3e4-0000-7000-8000-000000000001/***/LV"
        );
    }

    #[test]
    fn the_person_code_of_signer_paths_is_masked() {
        assert_eq!(
            mask_path("/api/v1/signers/39001011234/EE/documents"),
            "/api/v1/signers/***/EE/documents"
        );
        assert_eq!(
            mask_path("/signers/x%20y/LV/steps"),
            "/signers/***/LV/steps"
        );
    }

    #[test]
    fn other_paths_are_left_alone() {
        for p in [
            "/api/v1/processes/0190d3e4-0000-7000-8000-000000000001",
            "/api/v1/process-step-signers/abc/sign",
            "/api/v1/signer-tasks",
            "/api/v1/processes/authorize",
            "/health",
        ] {
            assert_eq!(mask_path(p), p);
        }
    }

    #[test]
    fn personal_code_query_values_are_masked_in_any_spelling() {
        assert_eq!(
            mask_query("ownerGroup=g&personalCode=161175-19997&personalCode=x&page=2"),
            "ownerGroup=g&personalCode=***&personalCode=***&page=2"
        );
        assert_eq!(
            mask_query("customerPersonalCode=1&personal%43ode=2&PERSONALCODE=3"),
            "customerPersonalCode=***&personal%43ode=***&PERSONALCODE=***"
        );
        assert_eq!(mask_query("nameSearch=Anna"), "nameSearch=Anna");
        assert_eq!(mask_query(""), "");
    }

    #[test]
    fn a_masked_target_keeps_path_and_query_apart() {
        assert_eq!(
            masked_target(
                "/api/v1/signer-tasks",
                "personalCode=161175-19997&country=LV"
            ),
            "/api/v1/signer-tasks?personalCode=***&country=LV"
        );
        assert_eq!(
            masked_target("/api/v1/signers/161175-19997/LV/steps", ""),
            "/api/v1/signers/***/LV/steps"
        );
    }
}
