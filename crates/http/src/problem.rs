//! Errors as RFC 9457 problems (`application/problem+json`): every failure of a request,
//! whether a use case's [`ServiceError`] or a malformed request, is one [`ApiError`], rendered
//! by its one [`ResponseError`] implementation.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use pas_domain::error::{FieldError, ValidationErrors};
use pas_domain::service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Response, ResponseBuilder, content::ContentBuilder};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a 500 says, whatever happened.
const INTERNAL_DETAIL: &str = "the service failed to handle the request; it has been logged";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:pas:problem:<kind>`).
    #[serde(rename = "type")]
    #[schema(rename = "type", example = "urn:pas:problem:not-found")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong with this request.
    #[schema(example = "process not found")]
    pub detail: String,
    /// For validation failures: every rule the request broke, by JSON path or parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<ProblemField>>,
}

/// One rule a request broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct ProblemField {
    /// JSON path of the offending field, or the name of the parameter.
    #[schema(example = "signingProcessSteps[0].processStepSigners[1].signerEmail")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "is not a valid email address")]
    pub message: String,
}

impl From<FieldError> for ProblemField {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum ApiError {
    /// A use case failed.
    Service(ServiceError),
    /// A malformed request: a parameter, header or body that cannot be read.
    BadRequest {
        /// What is wrong.
        detail: String,
        /// Per-parameter failures, when known.
        errors: Vec<FieldError>,
    },
    /// The body is larger than the limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not JSON.
    UnsupportedMediaType,
    /// No route has this path.
    RouteNotFound,
    /// The path exists with other methods.
    MethodNotAllowed(Vec<Method>),
    /// Too many failed authorizations for a signer id or a client address (429).
    TooManyRequests {
        /// Seconds until an attempt is admitted again (`Retry-After`).
        retry_after: u64,
    },
    /// No bearer token, or one that is not valid (401 with `WWW-Authenticate`).
    Unauthorized {
        /// A token was sent and refused (`error="invalid_token"`), rather than none sent.
        invalid_token: bool,
    },
    /// The identity provider's keys are not loaded yet (503 with `Retry-After: 5`).
    AuthUnavailable,
    /// Any other error status, with a generic text (used when a non-problem error response
    /// is rewritten).
    Status(StatusCode),
}

impl ApiError {
    /// A malformed request with a detail only.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A malformed parameter.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("parameter {name} {message}"),
            errors: vec![FieldError {
                field: name.to_owned(),
                message,
            }],
        }
    }

    /// Malformed parameters, as a validation list.
    pub fn bad_parameters(errors: ValidationErrors) -> Self {
        Self::BadRequest {
            detail: format!("malformed request: {errors}"),
            errors: errors.errors,
        }
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (kind, title, detail, errors): (&str, &str, String, Vec<FieldError>) = match self {
            Self::Service(e) => match e {
                ServiceError::NotFound(what) => (
                    "not-found",
                    "Not Found",
                    format!("{what} not found"),
                    vec![],
                ),
                ServiceError::Invalid(v) => (
                    "validation",
                    "Unprocessable Content",
                    format!("the request breaks {} rule(s): {v}", v.errors.len()),
                    v.errors.clone(),
                ),
                ServiceError::Transition(t) => {
                    ("invalid-transition", "Conflict", t.to_string(), vec![])
                }
                ServiceError::Conflict(text) => ("conflict", "Conflict", text.clone(), vec![]),
                ServiceError::PreconditionFailed { .. } => (
                    "precondition-failed",
                    "Precondition Failed",
                    e.to_string(),
                    vec![],
                ),
                ServiceError::Forbidden => {
                    ("forbidden", "Forbidden", "access denied".to_owned(), vec![])
                }
                ServiceError::Storage(_) | ServiceError::Internal(_) => (
                    "internal",
                    "Internal Server Error",
                    INTERNAL_DETAIL.to_owned(),
                    vec![],
                ),
                ServiceError::Upstream(_) => (
                    "upstream",
                    "Bad Gateway",
                    "the mail server did not accept the email; it has been logged".to_owned(),
                    vec![],
                ),
            },
            Self::BadRequest { detail, errors } => {
                ("bad-request", "Bad Request", detail.clone(), errors.clone())
            }
            Self::PayloadTooLarge { limit } => (
                "payload-too-large",
                "Content Too Large",
                format!("the request body is larger than {limit} bytes"),
                vec![],
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported Media Type",
                "the request body must be JSON (Content-Type: application/json)".to_owned(),
                vec![],
            ),
            Self::RouteNotFound => (
                "not-found",
                "Not Found",
                "no resource has this path".to_owned(),
                vec![],
            ),
            Self::MethodNotAllowed(allowed) => (
                "method-not-allowed",
                "Method Not Allowed",
                format!("this path allows {}", method_list(allowed)),
                vec![],
            ),
            Self::TooManyRequests { retry_after } => (
                "too-many-requests",
                "Too Many Requests",
                format!("too many failed attempts; try again in {retry_after} seconds"),
                vec![],
            ),
            Self::Unauthorized { invalid_token } => (
                "unauthorized",
                "Unauthorized",
                if *invalid_token {
                    "the bearer token is malformed, expired or not signed by a trusted key"
                } else {
                    "this operation needs a bearer token (Authorization: Bearer ...)"
                }
                .to_owned(),
                vec![],
            ),
            Self::AuthUnavailable => (
                "unavailable",
                "Service Unavailable",
                "the identity provider's signing keys are not loaded yet; try again shortly"
                    .to_owned(),
                vec![],
            ),
            Self::Status(s) if s.is_server_error() => (
                "internal",
                "Internal Server Error",
                INTERNAL_DETAIL.to_owned(),
                vec![],
            ),
            Self::Status(s) => (
                "http-error",
                s.canonical_reason().unwrap_or("Error"),
                format!(
                    "the request failed: {}",
                    s.canonical_reason().unwrap_or("error")
                ),
                vec![],
            ),
        };
        Problem {
            problem_type: format!("urn:pas:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors: (!errors.is_empty()).then(|| errors.into_iter().map(Into::into).collect()),
        }
    }
}

fn method_list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ApiError {
    // Never the storage text: the Display of an error may end up in a log line or a body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.problem();
        write!(f, "{} {}: {}", p.status, p.title, p.detail)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

impl From<ValidationErrors> for ApiError {
    /// A well-formed request that breaks a rule: 422.
    fn from(e: ValidationErrors) -> Self {
        Self::Service(ServiceError::Invalid(e))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Service(e) => match e {
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Transition(_) | ServiceError::Conflict(_) => StatusCode::CONFLICT,
                ServiceError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
                ServiceError::Forbidden => StatusCode::FORBIDDEN,
                ServiceError::Storage(_) | ServiceError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                ServiceError::Upstream(_) => StatusCode::BAD_GATEWAY,
            },
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::AuthUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Status(s) => *s,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Service(ServiceError::Storage(text)) = self {
            tracing::error!(error = %text, "storage failure");
        }
        let problem = self.problem();
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| {
            r#"{"type":"urn:pas:problem:internal","title":"Internal Server Error","status":500,"detail":"error"}"#.to_owned()
        });
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Self::MethodNotAllowed(allowed) = self {
            if let Ok(v) = HeaderValue::from_str(&method_list(allowed)) {
                res.insert_header((header::ALLOW, v));
            }
        }
        if let Self::TooManyRequests { retry_after } = self {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after)));
        }
        if let Self::Unauthorized { invalid_token } = self {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(if *invalid_token {
                    r#"Bearer realm="pas", error="invalid_token""#
                } else {
                    r#"Bearer realm="pas""#
                }),
            ));
        }
        if let Self::AuthUnavailable = self {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        res.body(body)
    }
}

/// Maps a JSON body error: 413 over the limit, 415 not JSON, 400 otherwise with serde's text.
pub fn json_error(err: actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::{JsonPayloadError as J, PayloadError as P};
    match err {
        J::Overflow { .. } | J::OverflowKnownLength { .. } | J::Payload(P::Overflow) => {
            ApiError::PayloadTooLarge { limit }
        }
        J::ContentType => ApiError::UnsupportedMediaType,
        J::Deserialize(e) => ApiError::bad_request(format!("malformed JSON body: {e}")),
        other => ApiError::bad_request(format!("unreadable request body: {other}")),
    }
}

/// Maps a path that does not parse (a non-UUID id, a non-boolean flag): 400.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(format!("malformed path parameter: {err}")).into()
}

/// The OpenAPI responses of the error classes, for `responses(...)` in `#[utoipa::path]`.
pub mod responses {
    use super::*;

    macro_rules! problem_response {
        ($($name:ident = $status:literal, $desc:literal;)+) => {$(
            #[doc = concat!("OpenAPI: ", $status, " ", $desc)]
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    problem_responses(&[($status, $desc)])
                }
            }
        )+};
    }

    problem_response! {
        BadRequest = "400", "Malformed JSON, parameter, header or id";
        Forbidden = "403", "The identity does not match (the same answer for an unknown id)";
        NotFound = "404", "No such resource";
        Conflict = "409", "The state machine forbids it (the detail names the current state), or a duplicate or referenced row";
        PreconditionFailed = "412", "If-Match names another version than the current ETag";
        TooLarge = "413", "The body is larger than the limit";
        Unprocessable = "422", "A well-formed request that breaks a rule; errors lists each";
        TooManyRequests = "429", "Too many failed identity checks for this signer id or client address within a minute; Retry-After says when to try again";
    }

    /// Responses with a problem body.
    pub fn problem_responses(items: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
        items
            .iter()
            .map(|(status, desc)| {
                let response = ResponseBuilder::new()
                    .description(*desc)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build();
                ((*status).to_owned(), RefOr::T(response))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pas_domain::error::{Missing, TransitionError};
    use pas_domain::status::ProcessStatus;

    #[test]
    fn every_service_error_maps_to_its_status() {
        let cases = [
            (ServiceError::NotFound(Missing::Process), 404),
            (ValidationErrors::single("a", "b").into(), 422),
            (
                TransitionError::ProcessStatus {
                    operation: "cancel",
                    current: ProcessStatus::Completed,
                    needed: "PENDING or STARTED",
                }
                .into(),
                409,
            ),
            (ServiceError::Conflict("x".into()), 409),
            (ServiceError::PreconditionFailed { current: 3 }, 412),
            (ServiceError::Forbidden, 403),
            (ServiceError::Storage("db down".into()), 500),
        ];
        for (e, status) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.status_code().as_u16(), status);
            assert_eq!(api.problem().status, status);
        }
    }

    #[test]
    fn too_many_requests_is_a_429_with_retry_after() {
        let res = ApiError::TooManyRequests { retry_after: 42 }.error_response();
        assert_eq!(res.status().as_u16(), 429);
        assert_eq!(
            res.headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("42")
        );
        assert_eq!(
            res.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
    }

    #[test]
    fn a_storage_failure_never_shows_its_text() {
        let e = ApiError::from(ServiceError::Storage("password=hunter2".into()));
        assert!(!e.problem().detail.contains("hunter2"));
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn errors_are_omitted_unless_there_are_some() {
        let json = serde_json::to_value(ApiError::RouteNotFound.problem()).expect("json");
        assert!(json.get("errors").is_none());
        assert_eq!(json["type"], "urn:pas:problem:not-found");
    }
}
