//! The request log and the guard that makes every error response of the API a problem
//! document.
//!
//! A request log line is made of the service's own words, never of the client's text: the
//! method, the route template that matched (`/api/v1/signers/{personCode}/{country}/documents`,
//! or [`UNMATCHED`]), the status, the latency, the request id, the values of the path
//! parameters of [`LOGGED_PARAMS`] (checked ids, re-rendered), and the names of the query
//! parameters (known names only, anything else is `other`). The raw path and query string are
//! never written, so no spelling of a personal code or of an anonymous signer's id (the
//! portal secret) can slip through: masking raw text failed on encodings it did not expect.
//!
//! Everything logged while a request runs sits in a `request` span holding only the request
//! id and the route template. A handler that panics is answered with a 500 problem and logged
//! with those two, not with the panic's text.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse, Url};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, ResponseError};
use futures::FutureExt;
use pas_domain::status::EventType;
use tracing::Instrument;
use uuid::Uuid;

use crate::problem::{ApiError, PROBLEM_JSON};

/// The header a request id arrives in and is echoed in.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route of a request no template matched (its path is the client's text).
pub(crate) const UNMATCHED: &str = "(unmatched)";

/// The stand-in for a query parameter name the API does not know, and for an empty list.
const OTHER: &str = "other";
const NONE: &str = "-";

/// The longest incoming request id that is kept (PRODUCT.md section 13).
const MAX_REQUEST_ID: usize = 128;

/// How a logged path value is checked before it is shown.
#[derive(Debug, Clone, Copy)]
enum Shown {
    /// A UUID, shown in its canonical form.
    Id,
    /// An audit event type of the seed's list.
    Event,
}

/// The path parameters whose values the request log shows: the ids of processes, steps,
/// profiles, attributes, contacts and templates, and the event type of a test email; an
/// operator needs them to follow a request. Never a personal code (`personCode`), a signer
/// entry id (`signerId`, `stepsignerId`, `processSignerId`: for anonymous entries the portal
/// secret) or an email. `documentId` is left out: it is free text chosen by the client (a
/// file name may hold a person's name or code). A value is shown only when it parses, and
/// then in the service's rendering, so a client cannot smuggle text through a shown name.
const LOGGED_PARAMS: &[(&str, Shown)] = &[
    ("processId", Shown::Id),
    ("processStepId", Shown::Id),
    ("id", Shown::Id),
    ("contactId", Shown::Id),
    ("templateId", Shown::Id),
    ("eventType", Shown::Event),
];

/// Every query parameter name of the API (kept true by a test against the OpenAPI
/// document): the request log shows these by name, any other name as `other`, because a
/// name is client text too.
const KNOWN_QUERY_NAMES: &[&str] = &[
    "channel",
    "country",
    "createdDateAfter",
    "createdDateBefore",
    "docType",
    "documentId",
    "email",
    "emailSearch",
    "eventType",
    "from",
    "group",
    "isAdmin",
    "language",
    "name",
    "nameSearch",
    "nonExpired",
    "owner",
    "ownerGroup",
    "page",
    "personalCode",
    "processId",
    "processStatus",
    "role",
    "scope",
    "signerId",
    "size",
    "sort",
    "state",
    "to",
    "user",
];

/// Whether an incoming `X-Request-Id` is kept: 1 to 128 visible ASCII characters (0x21 to
/// 0x7E; PRODUCT.md section 13). Without spaces, control characters or line breaks it
/// cannot forge or split a text log line, and the JSON writer escapes it anyway. It is the
/// caller's correlation token; callers must not put personal data in it.
pub(crate) fn is_sane_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The caller's request id when it is sane, else a fresh UUID v4.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_request_id(v))
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned)
}

/// The distinct query parameter names, decoded, in order of appearance; a name the API does
/// not know is `other`. Only names of [`KNOWN_QUERY_NAMES`] come out, never the client's text.
pub(crate) fn query_names(query: &str) -> String {
    let mut names: Vec<&'static str> = Vec::new();
    for (name, _) in form_urlencoded::parse(query.as_bytes()) {
        let shown = KNOWN_QUERY_NAMES
            .iter()
            .find(|known| **known == name)
            .copied()
            .unwrap_or(OTHER);
        if !names.contains(&shown) {
            names.push(shown);
        }
    }
    if names.is_empty() {
        NONE.to_owned()
    } else {
        names.join(",")
    }
}

/// A logged parameter's value as the service renders it, or `None` when it does not parse.
fn shown_value(kind: Shown, value: &str) -> Option<String> {
    match kind {
        Shown::Id => Uuid::parse_str(value)
            .ok()
            .map(|u| u.hyphenated().to_string()),
        Shown::Event => value
            .parse::<EventType>()
            .ok()
            .map(|e| e.as_str().to_owned()),
    }
}

/// `name=value` for every matched path parameter of [`LOGGED_PARAMS`] whose value parses.
fn logged_params(path: &actix_web::dev::Path<Url>) -> String {
    let shown: Vec<String> = path
        .iter()
        .filter_map(|(name, value)| {
            let (name, kind) = LOGGED_PARAMS.iter().find(|(n, _)| *n == name)?;
            shown_value(*kind, value).map(|v| format!("{name}={v}"))
        })
        .collect();
    if shown.is_empty() {
        NONE.to_owned()
    } else {
        shown.join(",")
    }
}

/// The route template the request's path matches, or [`UNMATCHED`]. It is matched against
/// the path as routing sees it (unreserved characters decoded), so `/sign%65rs/…` is logged
/// as the `/signers/…` template it was served by.
pub(crate) fn route_of(req: &HttpRequest) -> String {
    req.resource_map()
        .match_pattern(req.match_info().as_str())
        .unwrap_or_else(|| UNMATCHED.to_owned())
}

/// Middleware of the API scope: logs each request (see the module documentation), echoes
/// its request id, and rewrites any error response that is not JSON (an extractor's
/// plain-text 400, a 413 from the payload reader, a stray 500) into a problem, with a
/// generic text.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let id = request_id(req.headers());
    let route = route_of(req.request());
    let query = query_names(req.query_string());
    let span = tracing::info_span!("request", request_id = %id, route = %route);
    // Handlers' and extractors' errors arrive as responses; an `Err` only comes from inner
    // middleware (or a panic, below), and actix renders it after this one.
    let outcome = AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    let (result, params) = match outcome {
        Ok(Ok(res)) => {
            let params = logged_params(res.request().match_info());
            let res = with_request_id(as_problem(res.map_into_boxed_body()), &id);
            (Ok(res), params)
        }
        Ok(Err(e)) => (Err(e), NONE.to_owned()),
        Err(_panic) => {
            // The payload is not logged: it may quote whatever the handler was holding.
            span.in_scope(|| tracing::error!("the handler panicked; answered 500"));
            let e = ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR);
            (Err(e.into()), NONE.to_owned())
        }
    };
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "pas_http::access",
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms,
        request_id = %id,
        params = %params,
        query = %query,
        "request"
    );
    result
}

fn with_request_id(mut res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    res
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
    use std::collections::BTreeSet;

    use actix_web::middleware::from_fn;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;

    use super::*;

    const CODE: &str = "161175-19997";

    #[test]
    fn request_ids_of_1_to_128_visible_ascii_characters_are_kept() {
        for id in [
            "a",
            "0190d3e4-0000-7000-8000-000000000001",
            "req_1.2-x",
            "id=1",
            "trace:abc/def;x{y}",
            "!~",
            &"x".repeat(128),
        ] {
            assert!(is_sane_request_id(id), "{id}");
        }
    }

    #[test]
    fn other_request_ids_are_replaced() {
        for id in [
            "",
            "a b",
            "a\nb",
            "a\rb",
            "a\tb",
            "\u{7f}",
            "ä",
            &"x".repeat(129),
        ] {
            assert!(!is_sane_request_id(id), "{id:?}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("x y"));
        let made = request_id(&headers);
        assert!(Uuid::parse_str(&made).is_ok(), "{made}");
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc=1;{x}"));
        assert_eq!(request_id(&headers), "abc=1;{x}");
        assert!(Uuid::parse_str(&request_id(&HeaderMap::new())).is_ok());
    }

    #[test]
    fn query_names_are_known_names_or_other_never_values() {
        assert_eq!(
            query_names(&format!("personalCode={CODE}&country=LV&personalCode=x")),
            "personalCode,country"
        );
        // Decoded before the look-up, so an encoded known name is still itself.
        assert_eq!(
            query_names("personal%43ode=1&sign%65rId=2"),
            "personalCode,signerId"
        );
        // A name that is client text (a code, an id, a sentence) is only ever `other`.
        assert_eq!(
            query_names(&format!("{CODE}=1&16117519997&PERSONALCODE=3&a%20b=4")),
            "other"
        );
        assert_eq!(query_names(""), "-");
        assert_eq!(query_names("&&"), "-");
    }

    #[test]
    fn shown_values_are_re_rendered_or_dropped() {
        let id = "0190D3E4-0000-7000-8000-000000000001";
        assert_eq!(
            shown_value(Shown::Id, id).as_deref(),
            Some("0190d3e4-0000-7000-8000-000000000001")
        );
        assert_eq!(shown_value(Shown::Id, CODE), None);
        assert_eq!(shown_value(Shown::Id, "16117519997"), None);
        assert_eq!(
            shown_value(Shown::Event, "PROCESS_STARTED").as_deref(),
            Some("PROCESS_STARTED")
        );
        assert_eq!(shown_value(Shown::Event, CODE), None);
    }

    #[test]
    fn no_parameter_holding_a_person_or_a_secret_is_logged_by_value() {
        for (name, _) in LOGGED_PARAMS {
            let lower = name.to_ascii_lowercase();
            assert!(
                !lower.contains("person")
                    && !lower.contains("signer")
                    && !lower.contains("email")
                    && !lower.contains("document"),
                "{name}"
            );
        }
    }

    #[test]
    fn every_query_parameter_of_the_api_is_a_known_name() {
        let doc = crate::openapi();
        let mut names = BTreeSet::new();
        for item in doc.paths.paths.values() {
            let operations = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for op in operations.into_iter().flatten() {
                for p in op.parameters.iter().flatten() {
                    let RefOr::T(p) = p else {
                        panic!("parameters are inline")
                    };
                    if !matches!(p.parameter_in, ParameterIn::Query) {
                        continue;
                    }
                    if p.name == "pageable" {
                        // An exploded form object: its fields are the names on the wire.
                        names.extend(["page", "size", "sort"].map(str::to_owned));
                    } else {
                        names.insert(p.name.clone());
                    }
                }
            }
        }
        let known: BTreeSet<String> = KNOWN_QUERY_NAMES.iter().map(|n| (*n).to_owned()).collect();
        assert_eq!(names, known);
    }

    async fn panics() -> HttpResponse {
        panic!("holding {CODE}")
    }

    async fn ok() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    async fn call(uri: &str, request_id: Option<&str>) -> ServiceResponse {
        match try_call(uri, request_id).await {
            Ok(res) => res,
            Err(e) => panic!("the middleware failed: {e}"),
        }
    }

    async fn try_call(uri: &str, request_id: Option<&str>) -> Result<ServiceResponse, Error> {
        let app = actix_test::init_service(
            App::new().service(
                web::scope("/api/v1")
                    .route("/signers/{personCode}/{country}/steps", web::get().to(ok))
                    .route("/processes/{processId}", web::get().to(ok))
                    .route("/boom/{personCode}", web::get().to(panics))
                    .wrap(from_fn(observe)),
            ),
        )
        .await;
        let mut req = actix_test::TestRequest::get().uri(uri);
        if let Some(id) = request_id {
            req = req.insert_header((REQUEST_ID, id));
        }
        actix_test::try_call_service(&app, req.to_request()).await
    }

    #[actix_web::test]
    async fn the_route_is_found_through_encodings_and_ids_are_echoed() {
        let res = call(&format!("/api/v1/sign%65rs/{CODE}/LV/steps"), Some("abc-1")).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            route_of(res.request()),
            "/api/v1/signers/{personCode}/{country}/steps"
        );
        assert_eq!(logged_params(res.request().match_info()), "-");
        assert_eq!(
            res.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()),
            Some("abc-1")
        );

        let res = call(
            "/api/v1/processes/0190d3e4-0000-7000-8000-000000000001",
            Some("not sane"),
        )
        .await;
        assert_eq!(
            logged_params(res.request().match_info()),
            "processId=0190d3e4-0000-7000-8000-000000000001"
        );
        let echoed = res.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok());
        assert!(
            echoed.is_some_and(|id| Uuid::parse_str(id).is_ok()),
            "{echoed:?}"
        );

        let res = call(&format!("/api/v1/SIGNERS/{CODE}/LV/steps/"), None).await;
        assert_eq!(res.status().as_u16(), 404);
        assert_eq!(route_of(res.request()), UNMATCHED);
    }

    #[actix_web::test]
    async fn a_panicking_handler_is_a_500_problem() {
        // actix renders the middleware's error after it, as it does in the server.
        let Err(e) = try_call(&format!("/api/v1/boom/{CODE}"), None).await else {
            panic!("a panic must not pass as a response");
        };
        let res = e.error_response();
        assert_eq!(res.status().as_u16(), 500);
        assert_eq!(
            res.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
    }
}
