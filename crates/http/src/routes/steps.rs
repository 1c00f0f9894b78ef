//! `process-step-controller`: one step of a process.

use actix_web::{HttpResponse, put, web};
use pas_domain::error::Missing;
use pas_domain::ids::StepId;
use pas_domain::service::ProcessError;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::problem::responses::{BadRequest, Conflict, NotFound, TooLarge, Unprocessable};
use crate::wire::process::{SigningProcessStep, StepInput};

const TAG: &str = "process-step-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(update_process_step);
}

/// Signing process step update request
///
/// Edits one step under rule 8 (`processOrder` is required); a changed `signingStatus` of an
/// entry is applied as the matching action (sign, approve, view, decline).
#[utoipa::path(
    tag = TAG,
    operation_id = "updateProcessStep",
    params(("processStepId" = Uuid, Path, description = "Signing process step identificator.",
            example = "6aaf67bc-30be-4d2e-b1fe-a4d9aefef408")),
    request_body = SigningProcessStep,
    responses(
        (status = 200, description = "The updated step", body = SigningProcessStep),
        BadRequest, NotFound, Conflict, TooLarge, Unprocessable
    )
)]
#[put("/process-steps/{processStepId}")]
async fn update_process_step(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    body: web::Json<StepInput>,
) -> ApiResult {
    let step = StepId::from_uuid(id.into_inner());
    let process = state
        .processes
        .update_step(step, body.into_inner().into(), &caller.0)
        .await?;
    let updated = process
        .find_step(step)
        .ok_or(ProcessError::NotFound(Missing::Step))?;
    Ok(HttpResponse::Ok().json(SigningProcessStep::from(updated)))
}
