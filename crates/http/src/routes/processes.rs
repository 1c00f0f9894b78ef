//! `process-controller`: signing processes.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, post, put, web};
use pas_domain::auth::Operation;
use pas_domain::error::ValidationErrors;
use pas_domain::ids::{EntryId, ProcessId};
use pas_domain::paging::ProcessSort;
use pas_domain::query::{ProcessFilterParams, ProcessSearch};
use pas_domain::values::normalize_personal_code;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{ApiResult, process_response};
use crate::caller::RequestCaller;
use crate::params::{QueryParams, person};
use crate::precondition::IfMatch;
use crate::problem::responses::{
    BadRequest, Conflict, Forbidden, NotFound, PreconditionFailed, TooLarge, TooManyRequests,
    Unprocessable,
};
use crate::wire::page::{PageSigningProcess, Pageable};
use crate::wire::process::{ProcessInput, ProcessSearchRequest, SigningProcess};
use crate::{ApiState, BASE_PATH};

const TAG: &str = "process-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(list_processes)
        .service(create_process)
        .service(find_processes)
        .service(list_processes_by_step_signer_id)
        .service(list_processes_by_document_id)
        .service(authorize_process_access)
        .service(get_process_by_id)
        .service(update_process)
        .service(delete_process)
        .service(start_process)
        .service(cancel_process)
        .service(cancel_process_with_message_control);
}

/// Signing process create request
///
/// A client `id` is kept when it is a UUID not yet used (409 otherwise); read-only fields are
/// ignored. `status: STARTED` creates and starts the process at once.
#[utoipa::path(
    tag = TAG,
    operation_id = "createProcess",
    request_body = SigningProcess,
    responses(
        (status = 201, description = "Created", body = SigningProcess,
            headers(("Location" = String, description = "URL of the new process"),
                    ("ETag" = String, description = "Version of the process"))),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/processes")]
async fn create_process(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<ProcessInput>,
) -> ApiResult {
    let process = state
        .processes
        .create(body.into_inner().into(), &caller.0)
        .await?;
    let location = format!("{BASE_PATH}/processes/{}", process.id);
    let mut builder = HttpResponse::Created();
    builder.insert_header((LOCATION, location));
    Ok(process_response(builder, &process))
}

/// Signing process details request
///
/// Records PROCESS_GETONE unless `AUDIT_READS=none`.
#[utoipa::path(
    tag = TAG,
    operation_id = "getProcessById",
    params(("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f")),
    responses(
        (status = 200, description = "The process", body = SigningProcess,
            headers(("ETag" = String, description = "Version of the process, for If-Match"))),
        BadRequest, NotFound
    )
)]
#[get("/processes/{processId}")]
async fn get_process_by_id(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let process = state
        .processes
        .get_audited(ProcessId::from_uuid(id.into_inner()), &caller.0)
        .await?;
    Ok(process_response(HttpResponse::Ok(), &process))
}

/// Signing process update request
///
/// The whole process as the client wants it (rule 8 says what may still change); a changed
/// `status` starts or cancels it.
#[utoipa::path(
    tag = TAG,
    operation_id = "updateProcess",
    params(
        ("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")
    ),
    request_body = SigningProcess,
    responses(
        (status = 200, description = "The updated process", body = SigningProcess),
        BadRequest, NotFound, Conflict, PreconditionFailed, TooLarge, Unprocessable
    )
)]
#[put("/processes/{processId}")]
async fn update_process(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<ProcessInput>,
) -> ApiResult {
    let process = state
        .processes
        .update(
            ProcessId::from_uuid(id.into_inner()),
            body.into_inner().into(),
            if_match.0,
            &caller.0,
        )
        .await?;
    Ok(process_response(HttpResponse::Ok(), &process))
}

/// Signing process delete request
///
/// Allowed unless STARTED (cancel first); the audit trail is kept.
#[utoipa::path(
    tag = TAG,
    operation_id = "deleteProcess",
    params(
        ("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")
    ),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, NotFound, Conflict, PreconditionFailed
    )
)]
#[delete("/processes/{processId}")]
async fn delete_process(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult {
    state
        .processes
        .delete(ProcessId::from_uuid(id.into_inner()), if_match.0, &caller.0)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Signing processes list request
///
/// Without `isAdmin=true` an `ownerGroup` is required (422).
#[utoipa::path(
    tag = TAG,
    operation_id = "listProcesses",
    params(
        ("pageable" = Pageable, Query, style = Form, explode,
            description = "Pagination and sorting parameters (page, size, sort=field,asc|desc; \
                sortable: createdAt, documentName, status, documentType, completedAt, initiatorName)"),
        ("createdDateBefore" = Option<time::Date>, Query,
            description = "Return records created on or before this date", example = "2026-02-17"),
        ("createdDateAfter" = Option<time::Date>, Query,
            description = "Return records created on or after this date", example = "2026-02-01"),
        ("processStatus" = Option<pas_domain::status::ProcessStatus>, Query,
            description = "Signing process status filter"),
        ("nameSearch" = Option<String>, Query, description = "Name filter value", example = "John"),
        ("emailSearch" = Option<String>, Query, description = "Email filter value",
            example = "john.doe@example.com"),
        ("personalCode" = Option<String>, Query,
            description = "Person code used to identify signer/customer.", example = "010190-12345"),
        ("ownerGroup" = Option<String>, Query, description = "Owner group filter", example = "group-a"),
        ("docType" = Option<String>, Query, description = "Document type filter", example = "CONTRACT"),
        ("isAdmin" = Option<bool>, Query, description = "Administrator context flag", example = true)
    ),
    responses(
        (status = 200, description = "One page of processes", body = PageSigningProcess),
        BadRequest, Unprocessable
    )
)]
#[get("/processes")]
async fn list_processes(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<ProcessSort>()?;
    let params = ProcessFilterParams {
        created_date_before: q.date("createdDateBefore")?,
        created_date_after: q.date("createdDateAfter")?,
        process_status: q.wire_enum("processStatus")?,
        name_search: q.text("nameSearch"),
        email_search: q.text("emailSearch"),
        personal_code: q.text("personalCode"),
        owner_group: q.text("ownerGroup"),
        doc_type: q.text("docType"),
        is_admin: q.bool("isAdmin")?,
    };
    let filter = params.validate()?;
    let found = state.processes.list(&filter, &page, &caller.0).await?;
    Ok(HttpResponse::Ok().json(PageSigningProcess::from(found)))
}

/// `findProcesses` body.
/// Signing process search request by document and personal code
///
/// At least one of `documentId` and `personalCode` (422 otherwise); newest first.
#[utoipa::path(
    tag = TAG,
    operation_id = "findProcesses",
    request_body = ProcessSearchRequest,
    responses(
        (status = 200, description = "Matching processes", body = Vec<SigningProcess>),
        BadRequest, Unprocessable
    )
)]
#[post("/processes/search")]
async fn find_processes(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<ProcessSearchRequest>,
) -> ApiResult {
    let body = body.into_inner();
    let search = ProcessSearch {
        document_id: body
            .document_id
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        personal_code: body
            .personal_code
            .map(|c| normalize_personal_code(&c))
            .filter(|c| !c.is_empty()),
    };
    if search.document_id.is_none() && search.personal_code.is_none() {
        return Err(ValidationErrors::single(
            "documentId",
            "documentId or personalCode is required",
        )
        .into());
    }
    let found = state
        .processes
        .search(&search, &caller.0, Operation::FindProcesses)
        .await?;
    Ok(HttpResponse::Ok().json(processes(found)))
}

/// Signing process cancel request
#[utoipa::path(
    tag = TAG,
    operation_id = "cancelProcess",
    params(
        ("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")
    ),
    responses(
        (status = 200, description = "The canceled process", body = SigningProcess),
        BadRequest, NotFound, Conflict, PreconditionFailed
    )
)]
#[post("/processes/{processId}/cancel")]
async fn cancel_process(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult {
    let process = state
        .processes
        .cancel(
            ProcessId::from_uuid(id.into_inner()),
            false,
            if_match.0,
            &caller.0,
        )
        .await?;
    Ok(process_response(HttpResponse::Ok(), &process))
}

/// Signing process cancel request with notification control
#[utoipa::path(
    tag = TAG,
    operation_id = "cancelProcessWithMessageControl",
    params(
        ("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f"),
        ("disableMessages" = bool, Path, description = "Disable notification emails when true"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")
    ),
    responses(
        (status = 200, description = "The canceled process", body = SigningProcess),
        BadRequest, NotFound, Conflict, PreconditionFailed
    )
)]
#[post("/processes/{processId}/cancel/{disableMessages}")]
async fn cancel_process_with_message_control(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    path: web::Path<(Uuid, bool)>,
    if_match: IfMatch,
) -> ApiResult {
    let (id, disable_messages) = path.into_inner();
    let process = state
        .processes
        .cancel(
            ProcessId::from_uuid(id),
            disable_messages,
            if_match.0,
            &caller.0,
        )
        .await?;
    Ok(process_response(HttpResponse::Ok(), &process))
}

/// Signing process start request
///
/// Starts a PENDING process (rule 2).
#[utoipa::path(
    tag = TAG,
    operation_id = "startProcess",
    params(
        ("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version the change is based on")
    ),
    responses(
        (status = 200, description = "The started process", body = SigningProcess),
        BadRequest, NotFound, Conflict, PreconditionFailed, Unprocessable
    )
)]
#[post("/processes/{processId}/start")]
async fn start_process(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult {
    let process = state
        .processes
        .start(ProcessId::from_uuid(id.into_inner()), if_match.0, &caller.0)
        .await?;
    Ok(process_response(HttpResponse::Ok(), &process))
}

/// Signing processes list request by step signer code
#[utoipa::path(
    tag = TAG,
    operation_id = "listProcessesByStepSignerId",
    params(("stepsignerId" = Uuid, Path, description = "Step signer identificator.",
            example = "ef0174d7-f2c8-4f2f-8de8-f327f0fef922")),
    responses(
        (status = 200, description = "The process holding the entry (empty when none)",
            body = Vec<SigningProcess>),
        BadRequest
    )
)]
#[get("/processes/by-step-signer/{stepsignerId}")]
async fn list_processes_by_step_signer_id(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let found = state
        .processes
        .by_signer(EntryId::from_uuid(id.into_inner()), &caller.0)
        .await?;
    Ok(HttpResponse::Ok().json(processes(found)))
}

/// Signing processes list request by document code
#[utoipa::path(
    tag = TAG,
    operation_id = "listProcessesByDocumentId",
    params(("documentId" = String, Path, description = "Document identificator.",
            example = "3fb49d3b-52c5-4b1d-ac95-c77e34eb6a0c")),
    responses(
        (status = 200, description = "Processes of the document, newest first",
            body = Vec<SigningProcess>)
    )
)]
#[get("/processes/by-document/{documentId}")]
async fn list_processes_by_document_id(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    document_id: web::Path<String>,
) -> ApiResult {
    let search = ProcessSearch {
        document_id: Some(document_id.into_inner()),
        personal_code: None,
    };
    let found = state
        .processes
        .search(&search, &caller.0, Operation::ListProcessesByDocumentId)
        .await?;
    Ok(HttpResponse::Ok().json(processes(found)))
}

/// Signing process authorization request by signer and person identity
///
/// The process as the signer may see it; 403 with the same body whether the signer id is
/// unknown or the identity does not match. AUTH_COMPLETED or AUDIT_LOGIN_FAULT is recorded.
/// After too many failures within a minute for the signer id or the client address, further
/// attempts answer 429 with `Retry-After` and are not recorded.
#[utoipa::path(
    tag = TAG,
    operation_id = "authorizeProcessAccess",
    params(
        ("signerId" = Uuid, Path, description = "Signer identificator.",
            example = "ef0174d7-f2c8-4f2f-8de8-f327f0fef922"),
        ("personCode" = String, Path,
            description = "Person code used to identify signer in external portal request.",
            example = "010190-12345"),
        ("country" = String, Path,
            description = "Country code of personal code (for example LV, LT, EE)", example = "LV")
    ),
    responses(
        (status = 200, description = "The process as the signer sees it", body = SigningProcess),
        BadRequest, Forbidden, TooManyRequests
    )
)]
#[get("/processes/authorize/{signerId}/{personCode}/{country}")]
async fn authorize_process_access(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    path: web::Path<(Uuid, String, String)>,
) -> ApiResult {
    let (signer, code, country) = path.into_inner();
    let view = state
        .auth_throttle
        .guard(signer, caller.0.ip_address.as_deref(), async {
            let person = person(&code, &country)?;
            Ok(state
                .processes
                .authorize(EntryId::from_uuid(signer), &person, &caller.0)
                .await?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(SigningProcess::from(&view)))
}

fn processes(found: Vec<pas_domain::process::SigningProcess>) -> Vec<SigningProcess> {
    found.into_iter().map(SigningProcess::from).collect()
}
