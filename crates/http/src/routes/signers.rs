//! `process-step-signer-controller`: the signer portal (tasks, steps, documents) and the
//! actions of one entry.

use actix_web::http::header::ETAG;
use actix_web::{HttpResponse, get, post, web};
use pas_domain::ids::EntryId;
use pas_domain::machine::Action;
use pas_domain::paging::TaskSort;
use pas_domain::query::SignerTaskParams;
use pas_domain::status::EventType;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::{QueryParams, json_or_default, person};
use crate::problem::responses::{
    BadRequest, Conflict, Forbidden, NotFound, TooLarge, TooManyRequests, Unprocessable,
};
use crate::wire::page::PageSignerTask;
use crate::wire::process::SigningProcess;
use crate::wire::task::{SignerActionRequest, SignerDocument, SignerEmailSent, SignerStep};

const TAG: &str = "process-step-signer-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(list_signer_tasks)
        .service(send_signer_email)
        .service(sign_process_step)
        .service(approve_process_step)
        .service(view_process_step)
        .service(decline_process_step)
        .service(list_signer_steps)
        .service(list_signer_documents);
}

/// Signer tasks/documents list request
///
/// A person's entries (`personalCode` + `country`), or an anonymous entry by `signerId` alone
/// (422 when neither is given).
#[utoipa::path(
    tag = TAG,
    operation_id = "listSignerTasks",
    params(
        ("personalCode" = Option<String>, Query,
            description = "Person code used to identify signer/customer.", example = "010190-12345"),
        ("country" = Option<String>, Query,
            description = "Country code of personal code (for example LV, LT, EE)", example = "LV"),
        ("signerId" = Option<Uuid>, Query, description = "Signer identificator.",
            example = "ef0174d7-f2c8-4f2f-8de8-f327f0fef922"),
        ("createdDateBefore" = Option<time::Date>, Query,
            description = "Return records created on or before this date", example = "2026-02-17"),
        ("createdDateAfter" = Option<time::Date>, Query,
            description = "Return records created on or after this date", example = "2026-02-01"),
        ("processStatus" = Option<pas_domain::status::ProcessStatus>, Query,
            description = "Signing process status filter"),
        ("nameSearch" = Option<String>, Query, description = "Name filter value", example = "John"),
        ("size" = Option<i32>, Query, description = "Page size", example = 25),
        ("sort" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Sort expression, for example createdAt,desc (sortable: createdAt, \
                dueDate, documentName, processStatus)"),
        ("nonExpired" = Option<bool>, Query,
            description = "Return only non-expired records when true", example = true),
        ("page" = Option<i32>, Query, description = "Page number (starts from 0)")
    ),
    responses(
        (status = 200, description = "One page of the person's tasks", body = PageSignerTask),
        BadRequest, Unprocessable
    )
)]
#[get("/signer-tasks")]
async fn list_signer_tasks(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<TaskSort>()?;
    let params = SignerTaskParams {
        personal_code: q.text("personalCode"),
        country: q.text("country"),
        signer_id: q.uuid("signerId")?,
        created_date_before: q.date("createdDateBefore")?,
        created_date_after: q.date("createdDateAfter")?,
        process_status: q.wire_enum("processStatus")?,
        name_search: q.text("nameSearch"),
        non_expired: q.bool("nonExpired")?,
    };
    let filter = params.validate(state.processes.now())?;
    let tasks = state
        .processes
        .signer_tasks(&filter, &page, &caller.0)
        .await?;
    Ok(HttpResponse::Ok().json(PageSignerTask::from(tasks)))
}

/// What `sendSignerEmail` answers.
/// Signer notification email trigger request
///
/// Queues the entry's TASK_STARTED email again (409 unless WAITING_FOR_ACTION, 422 when the
/// entry gets no email). The answer carries the subject rendered from the notification
/// matrix (null when the matrix suppresses the email).
#[utoipa::path(
    tag = TAG,
    operation_id = "sendSignerEmail",
    params(("processSignerId" = Uuid, Path, description = "Process signer identificator.",
            example = "ef0174d7-f2c8-4f2f-8de8-f327f0fef922")),
    responses(
        (status = 200, description = "The email was queued", body = SignerEmailSent),
        BadRequest, NotFound, Conflict, Unprocessable
    )
)]
#[post("/process-step-signers/{processSignerId}/email")]
async fn send_signer_email(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let signer = EntryId::from_uuid(id.into_inner());
    let process = state.processes.resend_task(signer, &caller.0).await?;
    let to = process
        .find_entry(signer)
        .and_then(|(_, e)| e.details.signer_email.as_ref())
        .map(|e| e.as_str().to_owned());
    // The email is queued already; a subject that cannot be rendered now is logged, not fatal.
    let subject = state
        .messages
        .task_subject(&process, signer)
        .unwrap_or_else(|e| {
            tracing::warn!(
                error = %pas_domain::service::SourceChain(&e),
                "subject of a resent task could not be rendered"
            );
            None
        });
    Ok(HttpResponse::Ok().json(SignerEmailSent {
        to,
        subject,
        event_type: EventType::TaskStarted,
    }))
}

/// The body of the entry actions.
/// One entry acts: the identity is checked as in PRODUCT.md section 8, and a 403 counts
/// towards the limit of failed attempts for the entry and the client address.
async fn act(
    state: &ApiState,
    caller: &RequestCaller,
    id: Uuid,
    body: &[u8],
    action: Action,
) -> ApiResult {
    state
        .auth_throttle
        .guard(
            id,
            caller.0.ip_address.as_deref(),
            act_unguarded(state, caller, id, body, action),
        )
        .await
}

async fn act_unguarded(
    state: &ApiState,
    caller: &RequestCaller,
    id: Uuid,
    body: &[u8],
    action: Action,
) -> ApiResult {
    let body: SignerActionRequest = json_or_default(body)?;
    let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let claimed = match (given(body.personal_code), given(body.country)) {
        (Some(code), Some(country)) => Some(person(&code, &country)?),
        _ => None,
    };
    // Trimmed and bounded by the domain's `act`, like every other comment.
    let comment = given(body.comment);
    let view = state
        .processes
        .act(EntryId::from_uuid(id), action, comment, claimed, &caller.0)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, view.process.etag()))
        .json(SigningProcess::from(&view)))
}

/// One handler per entry action: each has its own operationId in the OpenAPI document, and
/// all of them run the same [`act`].
macro_rules! action_handler {
    ($handler:ident, $action:expr, $operation:literal, $path:literal, $summary:literal, $detail:literal) => {
        #[doc = $summary]
        #[doc = ""]
        #[doc = $detail]
        #[utoipa::path(
            tag = TAG,
            operation_id = $operation,
            params(("signerId" = Uuid, Path, description = "Signer identificator.")),
            request_body(content = Option<SignerActionRequest>),
            responses(
                (status = 200, description = "The process after the action", body = SigningProcess),
                BadRequest, Forbidden, Conflict, TooLarge, Unprocessable, TooManyRequests
            )
        )]
        #[post($path)]
        async fn $handler(
            state: web::Data<ApiState>,
            caller: RequestCaller,
            id: web::Path<Uuid>,
            body: web::Bytes,
        ) -> ApiResult {
            act(&state, &caller, id.into_inner(), &body, $action).await
        }
    };
}

action_handler!(
    sign_process_step,
    Action::Sign,
    "signProcessStep",
    "/process-step-signers/{signerId}/sign",
    "A SIGNER signs",
    "The body may be empty for an anonymous entry."
);
action_handler!(
    approve_process_step,
    Action::Approve,
    "approveProcessStep",
    "/process-step-signers/{signerId}/approve",
    "An APPROVER approves",
    "The body may be empty for an anonymous entry."
);
action_handler!(
    view_process_step,
    Action::View,
    "viewProcessStep",
    "/process-step-signers/{signerId}/view",
    "A VIEWER views",
    "The body may be empty for an anonymous entry."
);
action_handler!(
    decline_process_step,
    Action::Decline,
    "declineProcessStep",
    "/process-step-signers/{signerId}/decline",
    "A SIGNER or APPROVER declines",
    "`comment` is the decline reason; the process becomes DECLINED."
);

/// Signer steps list request by person code and country
#[utoipa::path(
    tag = TAG,
    operation_id = "listSignerSteps",
    params(
        ("personCode" = String, Path,
            description = "Person code used to identify signer in external portal request.",
            example = "010190-12345"),
        ("country" = String, Path,
            description = "Country code of personal code (for example LV, LT, EE)", example = "LV")
    ),
    responses(
        (status = 200, description = "Every step where the person has an entry",
            body = Vec<SignerStep>),
        BadRequest
    )
)]
#[get("/signers/{personCode}/{country}/steps")]
async fn list_signer_steps(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (code, country) = path.into_inner();
    let steps = state
        .processes
        .signer_steps(&person(&code, &country)?, &caller.0)
        .await?;
    let steps: Vec<SignerStep> = steps.iter().map(SignerStep::from).collect();
    Ok(HttpResponse::Ok().json(steps))
}

/// Signer documents list request by person code and country
#[utoipa::path(
    tag = TAG,
    operation_id = "listSignerDocuments",
    params(
        ("personCode" = String, Path,
            description = "Person code used to identify signer in external portal request.",
            example = "010190-12345"),
        ("country" = String, Path,
            description = "Country code of personal code (for example LV, LT, EE)", example = "LV")
    ),
    responses(
        (status = 200, description = "One row per process the person takes part in",
            body = Vec<SignerDocument>),
        BadRequest
    )
)]
#[get("/signers/{personCode}/{country}/documents")]
async fn list_signer_documents(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let (code, country) = path.into_inner();
    let documents = state
        .processes
        .signer_documents(&person(&code, &country)?, &caller.0)
        .await?;
    let documents: Vec<SignerDocument> = documents.into_iter().map(SignerDocument::from).collect();
    Ok(HttpResponse::Ok().json(documents))
}
