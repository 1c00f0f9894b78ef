//! `message-controller`: the reminder trigger. (`sendTestEmail` needs the mail adapter and
//! is not served yet.)

use actix_web::{HttpResponse, post, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::schema::RemindersSent;

const TAG: &str = "message-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(send_reminders);
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
