//! `message-controller`: the reminder trigger and test emails.

use actix_web::{HttpResponse, post, web};
use pas_domain::input as domain;
use pas_domain::language::Language;
use pas_domain::notify::RecipientRole;
use pas_domain::ports::TestLanguages;
use pas_domain::status::{EventType, SignerRole};
use utoipa_actix_web::service_config::ServiceConfig;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::ApiError;
use crate::problem::responses::{BadRequest, TooLarge, Unprocessable};
use crate::wire::messages::{RemindersSent, TestEmailSent};
use crate::wire::process::{ProcessInput, SigningProcess};

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
    Ok(HttpResponse::Ok().json(RemindersSent { sent }))
}

/// Test email send request
///
/// Renders the notification matrix entry of the event for the role with the posted process
/// and sends it right away to that role's addresses in it; nothing is stored.
///
/// `language` picks the language of the emails. Without it, each address gets the email in
/// its own `signerLanguage`, as a real notification (falling back to `MAIL_DEFAULT_LANGUAGE`,
/// then the matrix's default language). `all` sends each address one email per language the
/// matrix has for the event and role (en, lv, lt, et and ru in the built-in matrix), so that
/// an operator can review every translation. A language tag such as `lt` or `ru-LV` sends
/// each address the email a recipient with that `signerLanguage` would get.
#[utoipa::path(
    tag = TAG,
    operation_id = "sendTestEmail",
    params(
        ("eventType" = pas_domain::status::EventType, Path, description = "Notification event type"),
        ("role" = pas_domain::status::SignerRole, Query, description = "Recipient role for test email"),
        ("language" = Option<String>, Query, description = "Language of the emails: `all` (one email per language of the matrix entry), a language tag such as `lt` or `ru-LV` (what a recipient with that signerLanguage gets), or absent (each recipient's own signerLanguage)", example = "all"),
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
    let languages = test_languages(query.text("language").as_deref())?;
    let draft = domain::ProcessInput::from(body.into_inner()).validate()?;
    let sent = state
        .messages
        .send_test(
            draft,
            event,
            RecipientRole::from(role),
            languages,
            caller.principal(),
        )
        .await?;
    let sent: Vec<TestEmailSent> = sent.into_iter().map(TestEmailSent::from).collect();
    Ok(HttpResponse::Ok().json(sent))
}

/// The `language` parameter of `sendTestEmail`: absent, `all`, or a language tag.
fn test_languages(raw: Option<&str>) -> Result<TestLanguages, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(TestLanguages::Recipients),
        Some(all) if all.eq_ignore_ascii_case("all") => Ok(TestLanguages::All),
        Some(tag) => Language::parse(tag).map(TestLanguages::Only).map_err(|_| {
            ApiError::bad_parameter(
                "language",
                "must be all or a language tag such as lt or ru-LV",
            )
        }),
    }
}
