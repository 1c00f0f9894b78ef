//! `message-controller`: the reminder trigger and test emails.

use actix_web::{HttpResponse, post, web};
use pas_domain::input::ProcessInput;
use pas_domain::notify::RecipientRole;
use pas_domain::status::{EventType, SignerRole};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::ApiError;
use crate::problem::responses::{BadRequest, TooLarge, Unprocessable};
use crate::schema::{RemindersSent, SigningProcess, TestEmailSent};

const TAG: &str = "message-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(send_reminders).service(send_test_email);
}

/// Reminder messages send request
///
/// Runs the reminder job now: one REMINDER per open SIGNER/APPROVER entry whose step is due
/// in exactly one of the configured days; a second run on the same day sends nothing new.
#[utoipa::path(
    tag = TAG,
    operation_id = "sendReminders",
    responses((status = 200, description = "How many reminders were queued", body = RemindersSent))
)]
#[post("/messages/reminders")]
async fn send_reminders(state: web::Data<ApiState>, caller: RequestCaller) -> ApiResult {
    let settings = &state.reminders;
    let today = (settings.local_date)(state.processes.now());
    let sent = state
        .processes
        .send_reminders(
            today,
            &settings.days_before_due,
            &*settings.local_date,
            &caller.0,
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "sent": sent })))
}

/// Test email send request
///
/// Renders the notification matrix entry of the event for the role with the posted process
/// and sends it right away to that role's addresses in it; nothing is stored.
#[utoipa::path(
    tag = TAG,
    operation_id = "sendTestEmail",
    params(
        ("eventType" = crate::schema::EventType, Path, description = "Notification event type"),
        ("role" = crate::schema::SignerRole, Query, description = "Recipient role for test email"),
    ),
    request_body = SigningProcess,
    responses(
        (status = 200, description = "The emails sent", body = Vec<TestEmailSent>),
        BadRequest, TooLarge, Unprocessable
    )
)]
#[post("/messages/test/{eventType}")]
async fn send_test_email(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    event: web::Path<String>,
    query: QueryParams,
    body: web::Json<ProcessInput>,
) -> ApiResult {
    let event: EventType = event
        .parse()
        .map_err(|_| ApiError::bad_parameter("eventType", "is not a known event type"))?;
    let role: SignerRole = query
        .wire_enum("role")?
        .ok_or_else(|| ApiError::bad_parameter("role", "is required"))?;
    let draft = body.into_inner().validate()?;
    let sent = state
        .messages
        .send_test(draft, event, RecipientRole::from(role), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(sent))
}
