//! `person-controller`: a person's right to erasure (PRODUCT.md section 11). `pas-admin`
//! only.

use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::problem::responses::{BadRequest, Conflict, TooLarge, Unprocessable};
use crate::wire::persons::{PersonErasure, PersonErasureRequest};

const TAG: &str = "person-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(erase_person);
}

/// Person erasure request
///
/// Erases the person's personal code, name and email in their finished (COMPLETED,
/// CANCELED, DECLINED) and deleted processes, and their code, name, email and phone in
/// contacts; emails queued to them are given up. Audit rows keep only the person's keyed
/// pseudonym and masked code, so every chain still verifies; `PERSON_ERASED` is recorded.
/// A person still in a running (or draft) process gets 409 naming those processes, and
/// nothing is erased.
#[utoipa::path(
    tag = TAG,
    operation_id = "erasePerson",
    request_body = PersonErasureRequest,
    responses(
        (status = 200, description = "Erased; the counts", body = PersonErasure),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/persons/erasure")]
async fn erase_person(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<PersonErasureRequest>,
) -> ApiResult {
    let counts = state
        .erasure
        .erase(&body.personal_code, &body.country, &caller.0)
        .await?;
    Ok(HttpResponse::Ok().json(PersonErasure::from(counts)))
}
