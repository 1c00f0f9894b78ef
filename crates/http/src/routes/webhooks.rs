//! `webhook-controller`: subscriptions, their secrets, delivery log, retries and pings
//! (PRODUCT.md section 12). `pas-admin` for every subscription, `pas-user` for its groups'.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, post, put, web};
use pas_domain::ids::SubscriptionId;
use pas_domain::paging::{AttemptSort, WebhookSort};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::responses::{BadRequest, Conflict, NotFound, TooLarge, Unprocessable};
use crate::wire::page::{PageWebhookDeliveryAttempt, PageWebhookSubscription};
use crate::wire::webhook::{WebhookDeliveryAttempt, WebhookSubscription, WebhookSubscriptionInput};
use crate::{ApiState, BASE_PATH};

const TAG: &str = "webhook-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_webhook_deliveries)
        .service(retry_webhook_delivery)
        .service(ping_webhook);
}

fn subscription(id: web::Path<Uuid>) -> SubscriptionId {
    SubscriptionId::from_uuid(id.into_inner())
}

/// Webhook subscribe request
///
/// The answer carries the signing secret, shown this once. The target must be `https` and
/// resolve to public addresses (unless `WEBHOOK_ALLOW_HTTP` / `WEBHOOK_ALLOW_PRIVATE`): 422
/// on `url` otherwise.
#[utoipa::path(
    tag = TAG,
    operation_id = "createWebhook",
    request_body = WebhookSubscriptionInput,
    responses(
        (status = 201, description = "Created, with its secret", body = WebhookSubscription,
            headers(("Location" = String, description = "URL of the new subscription"))),
        BadRequest, TooLarge, Unprocessable
    )
)]
#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<WebhookSubscriptionInput>,
) -> ApiResult {
    let created = state
        .webhooks
        .create(body.into_inner().into(), caller.principal())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("{BASE_PATH}/webhooks/{}", created.subscription.id),
        ))
        .json(WebhookSubscription::from(created)))
}

/// Webhook subscriptions list request
///
/// Every subscription for an administrator; a `pas-user` sees its groups' subscriptions.
#[utoipa::path(
    tag = TAG,
    operation_id = "listWebhooks",
    params(
        ("page" = Option<i32>, Query, description = "Page number (starts from 0)"),
        ("size" = Option<i32>, Query, description = "Page size"),
        ("sort" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Sort expression (sortable: createdAt, url)")
    ),
    responses((status = 200, description = "One page of subscriptions", body = PageWebhookSubscription), BadRequest)
)]
#[get("/webhooks")]
async fn list_webhooks(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<WebhookSort>()?;
    let found = state.webhooks.list(&page, caller.principal()).await?;
    Ok(HttpResponse::Ok().json(PageWebhookSubscription::from(found)))
}

/// Webhook subscription request
#[utoipa::path(
    tag = TAG,
    operation_id = "getWebhook",
    params(("id" = Uuid, Path, description = "Subscription identificator.")),
    responses((status = 200, description = "The subscription (without its secret)", body = WebhookSubscription), BadRequest, NotFound)
)]
#[get("/webhooks/{id}")]
async fn get_webhook(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let found = state
        .webhooks
        .get(subscription(id), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(WebhookSubscription::from(found)))
}

/// Webhook subscription update request
///
/// Replaces url, events, owner group and description, and `enabled` when given (left
/// out, the subscription stays as it is); the secret stays.
#[utoipa::path(
    tag = TAG,
    operation_id = "updateWebhook",
    params(("id" = Uuid, Path, description = "Subscription identificator.")),
    request_body = WebhookSubscriptionInput,
    responses(
        (status = 200, description = "The updated subscription", body = WebhookSubscription),
        BadRequest, NotFound, TooLarge, Unprocessable
    )
)]
#[put("/webhooks/{id}")]
async fn update_webhook(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    body: web::Json<WebhookSubscriptionInput>,
) -> ApiResult {
    let updated = state
        .webhooks
        .update(
            subscription(id),
            body.into_inner().into(),
            caller.principal(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(WebhookSubscription::from(updated)))
}

/// Webhook subscription delete request
///
/// Its delivery log goes with it; its pending deliveries are given up.
#[utoipa::path(
    tag = TAG,
    operation_id = "deleteWebhook",
    params(("id" = Uuid, Path, description = "Subscription identificator.")),
    responses((status = 204, description = "Deleted"), BadRequest, NotFound)
)]
#[delete("/webhooks/{id}")]
async fn delete_webhook(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    state
        .webhooks
        .delete(subscription(id), caller.principal())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Webhook secret rotation request
///
/// A new secret, shown this once in the answer; for 24 h deliveries carry two signatures
/// in `webhook-signature` (the new secret's and the old one's), then the new one's only.
#[utoipa::path(
    tag = TAG,
    operation_id = "rotateWebhookSecret",
    params(("id" = Uuid, Path, description = "Subscription identificator.")),
    responses((status = 200, description = "The subscription with its new secret", body = WebhookSubscription), BadRequest, NotFound)
)]
#[post("/webhooks/{id}/rotate-secret")]
async fn rotate_webhook_secret(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let rotated = state
        .webhooks
        .rotate_secret(subscription(id), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(WebhookSubscription::from(rotated)))
}

/// Webhook delivery log request
///
/// Every attempt (pings included), newest first by default.
#[utoipa::path(
    tag = TAG,
    operation_id = "listWebhookDeliveries",
    params(
        ("id" = Uuid, Path, description = "Subscription identificator."),
        ("page" = Option<i32>, Query, description = "Page number (starts from 0)"),
        ("size" = Option<i32>, Query, description = "Page size"),
        ("sort" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Sort expression (sortable: attemptedAt)")
    ),
    responses((status = 200, description = "One page of attempts", body = PageWebhookDeliveryAttempt), BadRequest, NotFound)
)]
#[get("/webhooks/{id}/deliveries")]
async fn list_webhook_deliveries(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<AttemptSort>()?;
    let found = state
        .webhooks
        .deliveries(subscription(id), &page, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(PageWebhookDeliveryAttempt::from(found)))
}

/// Webhook delivery retry request
///
/// Sends a delivery again (sent or given up), with the same `webhook-id` and body, through
/// the outbox: 202, and the attempt shows in the log. 409 while it is still pending.
#[utoipa::path(
    tag = TAG,
    operation_id = "retryWebhookDelivery",
    params(
        ("id" = Uuid, Path, description = "Subscription identificator."),
        ("deliveryId" = Uuid, Path, description = "Delivery identificator (its `webhook-id`).")
    ),
    responses((status = 202, description = "Queued for delivery"), BadRequest, NotFound, Conflict)
)]
#[post("/webhooks/{id}/deliveries/{deliveryId}/retry")]
async fn retry_webhook_delivery(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult {
    let (id, delivery) = path.into_inner();
    state
        .webhooks
        .retry(SubscriptionId::from_uuid(id), delivery, caller.principal())
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Webhook ping request
///
/// Sends `{"type": "PING"}`, signed like every delivery, now (also to a disabled
/// subscription), and answers the attempt.
#[utoipa::path(
    tag = TAG,
    operation_id = "pingWebhook",
    params(("id" = Uuid, Path, description = "Subscription identificator.")),
    responses((status = 200, description = "The attempt, succeeded or not", body = WebhookDeliveryAttempt), BadRequest, NotFound)
)]
#[post("/webhooks/{id}/ping")]
async fn ping_webhook(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let attempt = state
        .webhooks
        .ping(subscription(id), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(WebhookDeliveryAttempt::from(attempt)))
}
