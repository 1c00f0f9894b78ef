//! Errors as RFC 9457 problems (`application/problem+json`): every failure of a request,
//! whether a use case's error or a malformed request, is one [`ApiError`], rendered by its one
//! [`ResponseError`] implementation. Each use-case error enum has one match giving status,
//! type, title, detail and field errors together, so that the status and the body
//! cannot disagree.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use pas_domain::auth::Denied;
use pas_domain::error::{FieldError, Missing, TransitionError, ValidationErrors};
use pas_domain::service::{
    AuditError, CatalogError, Conflict, DirectoryError, ErasureError, MessageError, OutboxError,
    ProcessError, ReadError, SourceChain, WebhookError,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Response, ResponseBuilder, content::ContentBuilder};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a 500 says, whatever happened.
const INTERNAL_DETAIL: &str = "the service failed to handle the request; it has been logged";

/// What a 503 of the database says.
const UNAVAILABLE_DETAIL: &str =
    "the database is unavailable or did not answer in time; try again shortly";

/// Seconds a client should wait after a 503 of the database (`Retry-After`).
pub const DATABASE_RETRY_AFTER: u64 = 2;

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
    /// A read failed.
    Read(ReadError),
    /// A command on processes failed.
    Process(ProcessError),
    /// A write of document profiles or attributes failed.
    Catalog(CatalogError),
    /// A write of contacts or templates failed.
    Directory(DirectoryError),
    /// Recording an auditing event failed.
    Audit(AuditError),
    /// A person's erasure failed.
    Erasure(ErasureError),
    /// An email use case failed.
    Message(MessageError),
    /// Putting an outbox row back failed.
    Outbox(OutboxError),
    /// A webhook subscription operation failed.
    Webhook(WebhookError),
    /// The caller's roles do not allow the operation (403), checked before any use case.
    Denied,
    /// A well-formed request that breaks a rule the edge checks itself (422).
    Invalid(ValidationErrors),
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
    /// The database is not reachable or not migrated yet (503 with `Retry-After: 2`): the
    /// answer of every API route while the service starts without its database.
    DatabaseUnavailable,
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

    /// A 403: the caller may not do this, or an identity check failed.
    pub fn is_forbidden(&self) -> bool {
        self.parts().status == StatusCode::FORBIDDEN
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        self.parts().into_problem()
    }

    /// Status and body of this error, from one match: each use-case error maps itself.
    fn parts(&self) -> Parts {
        match self {
            Self::Read(e) => Parts::from(e),
            Self::Process(e) => Parts::from(e),
            Self::Catalog(e) => Parts::from(e),
            Self::Directory(e) => Parts::from(e),
            Self::Audit(e) => Parts::from(e),
            Self::Erasure(e) => Parts::from(e),
            Self::Message(e) => Parts::from(e),
            Self::Outbox(e) => Parts::from(e),
            Self::Webhook(e) => Parts::from(e),
            Self::Denied => Parts::forbidden(),
            Self::Invalid(v) => Parts::invalid(v),
            Self::BadRequest { detail, errors } => Parts {
                status: StatusCode::BAD_REQUEST,
                kind: "bad-request",
                title: "Bad Request",
                detail: detail.clone(),
                errors: errors.clone(),
            },
            Self::PayloadTooLarge { limit } => Parts::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Content Too Large",
                format!("the request body is larger than {limit} bytes"),
            ),
            Self::UnsupportedMediaType => Parts::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported Media Type",
                "the request body must be JSON (Content-Type: application/json)".to_owned(),
            ),
            Self::RouteNotFound => Parts::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not Found",
                "no resource has this path".to_owned(),
            ),
            Self::MethodNotAllowed(allowed) => Parts::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method Not Allowed",
                format!("this path allows {}", method_list(allowed)),
            ),
            Self::TooManyRequests { retry_after } => Parts::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too Many Requests",
                format!("too many failed attempts; try again in {retry_after} seconds"),
            ),
            Self::Unauthorized { invalid_token } => Parts::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                if *invalid_token {
                    "the bearer token is malformed, expired or not signed by a trusted key"
                } else {
                    "this operation needs a bearer token (Authorization: Bearer ...)"
                }
                .to_owned(),
            ),
            Self::AuthUnavailable => Parts::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service Unavailable",
                "the identity provider's signing keys are not loaded yet; try again shortly"
                    .to_owned(),
            ),
            Self::DatabaseUnavailable => Parts::unavailable(),
            Self::Status(s) if s.is_server_error() => Parts {
                status: *s,
                ..Parts::internal()
            },
            Self::Status(s) => Parts::new(
                *s,
                "http-error",
                s.canonical_reason().unwrap_or("Error"),
                format!(
                    "the request failed: {}",
                    s.canonical_reason().unwrap_or("error")
                ),
            ),
        }
    }

    /// Seconds until a retry may succeed (`Retry-After`), for the temporary refusals.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after } => Some(*retry_after),
            Self::AuthUnavailable => Some(5),
            _ if self.parts().kind == "unavailable" => Some(DATABASE_RETRY_AFTER),
            _ => None,
        }
    }

    /// The use case's error, when it failed on the service's side (5xx): what gets logged.
    fn server_fault(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let e: &(dyn std::error::Error + 'static) = match self {
            Self::Read(e) => e,
            Self::Process(e) => e,
            Self::Catalog(e) => e,
            Self::Directory(e) => e,
            Self::Audit(e) => e,
            Self::Erasure(e) => e,
            Self::Message(e) => e,
            Self::Outbox(e) => e,
            Self::Webhook(e) => e,
            _ => return None,
        };
        self.status_code().is_server_error().then_some(e)
    }
}

/// Everything an error response says: status, problem type and title, detail, field errors.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts {
    status: StatusCode,
    /// The last segment of the problem type, `urn:pas:problem:<kind>`.
    kind: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
}

impl Parts {
    fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: String) -> Self {
        Self {
            status,
            kind,
            title,
            detail,
            errors: Vec::new(),
        }
    }

    fn not_found(what: Missing) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not Found",
            format!("{what} not found"),
        )
    }

    fn invalid(v: &ValidationErrors) -> Self {
        Self {
            errors: v.errors.clone(),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Unprocessable Content",
                format!("the request breaks {} rule(s): {v}", v.errors.len()),
            )
        }
    }

    fn transition(t: &TransitionError) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "invalid-transition",
            "Conflict",
            t.to_string(),
        )
    }

    fn conflict(c: &Conflict) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", c.to_string())
    }

    /// Deliberately the same body whatever was refused (PRODUCT.md section 8).
    fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Forbidden",
            "access denied".to_owned(),
        )
    }

    /// The database is unreachable, too slow or locked: temporary (`Retry-After`).
    fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service Unavailable",
            UNAVAILABLE_DETAIL.to_owned(),
        )
    }

    /// Never the cause: it is logged, not sent.
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
            INTERNAL_DETAIL.to_owned(),
        )
    }

    fn into_problem(self) -> Problem {
        Problem {
            problem_type: format!("urn:pas:problem:{}", self.kind),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: (!self.errors.is_empty())
                .then(|| self.errors.into_iter().map(Into::into).collect()),
        }
    }
}

impl From<&ReadError> for Parts {
    fn from(e: &ReadError) -> Self {
        match e {
            ReadError::NotFound(what) => Self::not_found(*what),
            ReadError::Forbidden => Self::forbidden(),
            ReadError::Unavailable(_) => Self::unavailable(),
            ReadError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&ProcessError> for Parts {
    fn from(e: &ProcessError) -> Self {
        match e {
            ProcessError::NotFound(what) => Self::not_found(*what),
            ProcessError::Invalid(v) => Self::invalid(v),
            ProcessError::Transition(t) => Self::transition(t),
            ProcessError::Conflict(c) => Self::conflict(c),
            ProcessError::PreconditionFailed { .. } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition Failed",
                e.to_string(),
            ),
            ProcessError::Forbidden => Self::forbidden(),
            ProcessError::Unavailable(_) => Self::unavailable(),
            ProcessError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&CatalogError> for Parts {
    fn from(e: &CatalogError) -> Self {
        match e {
            CatalogError::NotFound(what) => Self::not_found(*what),
            CatalogError::Invalid(v) => Self::invalid(v),
            CatalogError::Conflict(c) => Self::conflict(c),
            CatalogError::Forbidden => Self::forbidden(),
            CatalogError::Unavailable(_) => Self::unavailable(),
            CatalogError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&DirectoryError> for Parts {
    fn from(e: &DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound(what) => Self::not_found(*what),
            DirectoryError::Invalid(v) => Self::invalid(v),
            DirectoryError::Conflict(c) => Self::conflict(c),
            DirectoryError::Forbidden => Self::forbidden(),
            DirectoryError::Unavailable(_) => Self::unavailable(),
            DirectoryError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&AuditError> for Parts {
    fn from(e: &AuditError) -> Self {
        match e {
            AuditError::Invalid(v) => Self::invalid(v),
            AuditError::Conflict(c) => Self::conflict(c),
            AuditError::Forbidden => Self::forbidden(),
            AuditError::Unavailable(_) => Self::unavailable(),
            AuditError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&ErasureError> for Parts {
    fn from(e: &ErasureError) -> Self {
        match e {
            ErasureError::Invalid(v) => Self::invalid(v),
            // Each running process is named as a failure of `personalCode`, so that a client
            // reads them like any other list of broken rules.
            ErasureError::StillRunning(processes) => Parts {
                errors: processes
                    .iter()
                    .map(|p| FieldError {
                        field: "personalCode".to_owned(),
                        message: format!("is in process {p}, which is still running"),
                    })
                    .collect(),
                ..Self::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "Conflict",
                    format!("{e}; nothing was erased (finish, cancel or delete them first)"),
                )
            },
            ErasureError::Conflict(c) => Self::conflict(c),
            ErasureError::Forbidden => Self::forbidden(),
            ErasureError::Unavailable(_) => Self::unavailable(),
            ErasureError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&MessageError> for Parts {
    fn from(e: &MessageError) -> Self {
        match e {
            MessageError::NotFound(what) => Self::not_found(*what),
            MessageError::Invalid(v) => Self::invalid(v),
            MessageError::Transition(t) => Self::transition(t),
            MessageError::Forbidden => Self::forbidden(),
            MessageError::Render(_) => Self::internal(),
            MessageError::Transport(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "upstream",
                "Bad Gateway",
                "the mail server did not accept the email; it has been logged".to_owned(),
            ),
        }
    }
}

impl From<&OutboxError> for Parts {
    fn from(e: &OutboxError) -> Self {
        match e {
            OutboxError::NotFound(what) => Self::not_found(*what),
            OutboxError::NotFailed(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict", e.to_string())
            }
            OutboxError::Forbidden => Self::forbidden(),
            OutboxError::Storage(_) => Self::internal(),
        }
    }
}

impl From<&WebhookError> for Parts {
    fn from(e: &WebhookError) -> Self {
        match e {
            WebhookError::NotFound(what) => Self::not_found(*what),
            WebhookError::Invalid(v) => Self::invalid(v),
            WebhookError::StillPending => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict", e.to_string())
            }
            WebhookError::Forbidden => Self::forbidden(),
            WebhookError::Unavailable(_) => Self::unavailable(),
            WebhookError::Storage(_) => Self::internal(),
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

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        Self::Read(e)
    }
}

impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        Self::Erasure(e)
    }
}

impl From<ProcessError> for ApiError {
    fn from(e: ProcessError) -> Self {
        Self::Process(e)
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        Self::Catalog(e)
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        Self::Directory(e)
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        Self::Audit(e)
    }
}

impl From<MessageError> for ApiError {
    fn from(e: MessageError) -> Self {
        Self::Message(e)
    }
}

impl From<OutboxError> for ApiError {
    fn from(e: OutboxError) -> Self {
        Self::Outbox(e)
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        Self::Webhook(e)
    }
}

impl From<Denied> for ApiError {
    fn from(_: Denied) -> Self {
        Self::Denied
    }
}

impl From<ValidationErrors> for ApiError {
    /// A well-formed request that breaks a rule: 422.
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(e) = self.server_fault() {
            tracing::error!(error = %SourceChain(e), "the request failed on the service's side");
        }
        let parts = self.parts();
        let status = parts.status;
        let problem = parts.into_problem();
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| {
            r#"{"type":"urn:pas:problem:internal","title":"Internal Server Error","status":500,"detail":"error"}"#.to_owned()
        });
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Self::MethodNotAllowed(allowed) = self {
            if let Ok(v) = HeaderValue::from_str(&method_list(allowed)) {
                res.insert_header((header::ALLOW, v));
            }
        }
        if let Some(seconds) = self.retry_after() {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
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
    use pas_domain::ids::ProcessId;
    use pas_domain::notify::RecipientRole;
    use pas_domain::ports::{MailError, RepoError};
    use pas_domain::status::{EventType, ProcessStatus};

    fn assert_maps(cases: Vec<(ApiError, u16, &str)>) {
        for (e, status, kind) in cases {
            let problem = e.problem();
            assert_eq!(e.status_code().as_u16(), status, "{e:?}");
            assert_eq!(problem.status, status, "{e:?}");
            assert_eq!(
                problem.problem_type,
                format!("urn:pas:problem:{kind}"),
                "{e:?}"
            );
        }
    }

    fn invalid() -> ValidationErrors {
        ValidationErrors::single("a", "b")
    }

    fn transition() -> TransitionError {
        TransitionError::ProcessStatus {
            operation: "cancel",
            current: ProcessStatus::Completed,
            needed: "PENDING or STARTED",
        }
    }

    fn storage() -> RepoError {
        RepoError::Storage("db down".into())
    }

    fn unavailable() -> RepoError {
        RepoError::Unavailable("no answer within 2000 ms".into())
    }

    fn conflict() -> Conflict {
        Conflict::Duplicate("contact")
    }

    // Statuses as PRODUCT.md section 4 lists them: 403 role or identity, 404 unknown or out
    // of reach, 409 state machine or duplicate/referenced row, 412 If-Match, 422 rule,
    // 500 never with internals, 502 the mail server.

    #[test]
    fn every_read_error_maps_to_its_status() {
        assert_maps(vec![
            (
                ReadError::NotFound(Missing::Process).into(),
                404,
                "not-found",
            ),
            (ReadError::Forbidden.into(), 403, "forbidden"),
            (
                ReadError::Unavailable(unavailable()).into(),
                503,
                "unavailable",
            ),
            (ReadError::Storage(storage()).into(), 500, "internal"),
        ]);
    }

    #[test]
    fn every_process_error_maps_to_its_status() {
        assert_maps(vec![
            (
                ProcessError::NotFound(Missing::Step).into(),
                404,
                "not-found",
            ),
            (ProcessError::Invalid(invalid()).into(), 422, "validation"),
            (
                ProcessError::Transition(transition()).into(),
                409,
                "invalid-transition",
            ),
            (ProcessError::Conflict(conflict()).into(), 409, "conflict"),
            (
                ProcessError::PreconditionFailed { current: 3 }.into(),
                412,
                "precondition-failed",
            ),
            (ProcessError::Forbidden.into(), 403, "forbidden"),
            (
                ProcessError::Unavailable(unavailable()).into(),
                503,
                "unavailable",
            ),
            (ProcessError::Storage(storage()).into(), 500, "internal"),
        ]);
    }

    #[test]
    fn every_catalog_error_maps_to_its_status() {
        assert_maps(vec![
            (
                CatalogError::NotFound(Missing::DocumentProfile).into(),
                404,
                "not-found",
            ),
            (CatalogError::Invalid(invalid()).into(), 422, "validation"),
            (CatalogError::Conflict(conflict()).into(), 409, "conflict"),
            (CatalogError::Forbidden.into(), 403, "forbidden"),
            (
                CatalogError::Unavailable(unavailable()).into(),
                503,
                "unavailable",
            ),
            (CatalogError::Storage(storage()).into(), 500, "internal"),
        ]);
    }

    #[test]
    fn every_directory_error_maps_to_its_status() {
        assert_maps(vec![
            (
                DirectoryError::NotFound(Missing::Contact).into(),
                404,
                "not-found",
            ),
            (DirectoryError::Invalid(invalid()).into(), 422, "validation"),
            (DirectoryError::Conflict(conflict()).into(), 409, "conflict"),
            (DirectoryError::Forbidden.into(), 403, "forbidden"),
            (
                DirectoryError::Unavailable(unavailable()).into(),
                503,
                "unavailable",
            ),
            (DirectoryError::Storage(storage()).into(), 500, "internal"),
        ]);
    }

    #[test]
    fn every_audit_error_maps_to_its_status() {
        assert_maps(vec![
            (AuditError::Invalid(invalid()).into(), 422, "validation"),
            (AuditError::Conflict(conflict()).into(), 409, "conflict"),
            (AuditError::Forbidden.into(), 403, "forbidden"),
            (
                AuditError::Unavailable(unavailable()).into(),
                503,
                "unavailable",
            ),
            (AuditError::Storage(storage()).into(), 500, "internal"),
        ]);
    }

    #[test]
    fn every_message_error_maps_to_its_status() {
        assert_maps(vec![
            (
                MessageError::NotFound(Missing::Entry).into(),
                404,
                "not-found",
            ),
            (MessageError::Invalid(invalid()).into(), 422, "validation"),
            (
                MessageError::Transition(transition()).into(),
                409,
                "invalid-transition",
            ),
            (MessageError::Forbidden.into(), 403, "forbidden"),
            (
                MessageError::Render(MailError::Render("{{ oops".into())).into(),
                500,
                "internal",
            ),
            (
                MessageError::Transport(MailError::Transport("550 relay denied".into())).into(),
                502,
                "upstream",
            ),
        ]);
    }

    #[test]
    fn the_edge_s_own_refusals_map_to_their_status() {
        assert_maps(vec![
            (ApiError::from(Denied), 403, "forbidden"),
            (ApiError::from(invalid()), 422, "validation"),
        ]);
    }

    #[test]
    fn every_conflict_says_what_collided() {
        let id = ProcessId::from_uuid(uuid::Uuid::nil());
        let cases = [
            (
                Conflict::VersionChanged,
                "the process was changed by another request; read it again",
            ),
            (
                Conflict::IdInUse(id),
                "process id 00000000-0000-0000-0000-000000000000 is already used",
            ),
            (
                Conflict::Duplicate("document profile"),
                "document profile already exists",
            ),
            (
                Conflict::InUse("document attribute"),
                "document attribute is still in use",
            ),
        ];
        for (c, detail) in cases {
            let p = ApiError::from(ProcessError::Conflict(c)).problem();
            assert_eq!(
                (p.status, p.title.as_str(), p.detail.as_str()),
                (409, "Conflict", detail)
            );
        }
    }

    #[test]
    fn a_mail_error_the_request_chose_is_a_422_naming_the_field() {
        let no_template = MessageError::from(MailError::NoTemplate {
            event: EventType::TaskStarted,
            role: RecipientRole::Signer,
        });
        let p = ApiError::from(no_template).problem();
        assert_eq!(p.status, 422);
        let fields: Vec<_> = p
            .errors
            .iter()
            .flatten()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, ["eventType"]);
    }

    #[test]
    fn a_precondition_failure_names_the_current_version() {
        let p = ApiError::from(ProcessError::PreconditionFailed { current: 7 }).problem();
        assert_eq!(p.title, "Precondition Failed");
        assert_eq!(
            p.detail,
            "the process is at version 7, not the one in If-Match"
        );
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
    fn a_database_outage_is_a_503_with_retry_after_and_no_cause() {
        let errors = [
            ApiError::from(ReadError::Unavailable(RepoError::Unavailable(
                "connection refused to postgres://app@db:5432/x".into(),
            ))),
            ApiError::from(ProcessError::Unavailable(unavailable())),
            ApiError::DatabaseUnavailable,
        ];
        for e in errors {
            let res = e.error_response();
            assert_eq!(res.status().as_u16(), 503, "{e:?}");
            assert_eq!(
                res.headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some("2"),
                "{e:?}"
            );
            assert_eq!(
                res.headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok()),
                Some(PROBLEM_JSON)
            );
            let p = e.problem();
            assert_eq!(p.problem_type, "urn:pas:problem:unavailable");
            assert_eq!(p.detail, UNAVAILABLE_DETAIL);
        }
    }

    #[test]
    fn a_storage_failure_never_shows_its_text() {
        let cause = || RepoError::Storage("password=hunter2".into());
        let errors = [
            ApiError::from(ReadError::Storage(cause())),
            ApiError::from(ProcessError::Storage(cause())),
            ApiError::from(CatalogError::Storage(cause())),
            ApiError::from(DirectoryError::Storage(cause())),
            ApiError::from(AuditError::Storage(cause())),
            ApiError::from(MessageError::Render(MailError::Render(
                "password=hunter2".into(),
            ))),
            ApiError::from(MessageError::Transport(MailError::Transport(
                "password=hunter2".into(),
            ))),
        ];
        for e in errors {
            assert!(!e.problem().detail.contains("hunter2"), "{e:?}");
            assert!(!e.to_string().contains("hunter2"), "{e:?}");
            // The cause stays with the error, for the log.
            let fault = e.server_fault().map(|f| SourceChain(f).to_string());
            assert!(fault.is_some_and(|f| f.contains("hunter2")), "{e:?}");
        }
    }

    #[test]
    fn errors_are_omitted_unless_there_are_some() {
        let json = serde_json::to_value(ApiError::RouteNotFound.problem()).expect("json");
        assert!(json.get("errors").is_none());
        assert_eq!(json["type"], "urn:pas:problem:not-found");
    }
}
