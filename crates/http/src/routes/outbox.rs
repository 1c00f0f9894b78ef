//! `outbox-controller`: deliveries by state and channel, and a given-up row put back
//! (PRODUCT.md section 14). `pas-admin` only.

use actix_web::{HttpResponse, get, post, web};
use pas_domain::outbox::OutboxFilter;
use pas_domain::paging::OutboxSort;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::responses::{BadRequest, Conflict, NotFound};
use crate::wire::outbox::OutboxMessage;
use crate::wire::page::PageOutboxMessage;

const TAG: &str = "outbox-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(list_outbox).service(retry_outbox_message);
}

/// Outbox list request
///
/// Outbox rows (emails and webhook deliveries), newest first by default. No personal
/// code is ever part of a row.
#[utoipa::path(
    tag = TAG,
    operation_id = "listOutbox",
    params(
        ("state" = Option<pas_domain::status::OutboxState>, Query, description = "Delivery state."),
        ("channel" = Option<pas_domain::status::OutboxChannel>, Query, description = "Delivery channel."),
        ("page" = Option<i32>, Query, description = "Page number (starts from 0)"),
        ("size" = Option<i32>, Query, description = "Page size"),
        ("sort" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Sort expression (sortable: createdAt, queuedAt, nextAttemptAt)")
    ),
    responses((status = 200, description = "One page of outbox rows", body = PageOutboxMessage), BadRequest)
)]
#[get("/outbox")]
async fn list_outbox(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<OutboxSort>()?;
    let filter = OutboxFilter {
        state: q.wire_enum("state")?,
        channel: q.wire_enum("channel")?,
    };
    let rows = state
        .outbox
        .list(&filter, &page, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(PageOutboxMessage::from(rows)))
}

/// Outbox retry request
///
/// Puts a FAILED row back: PENDING, due now, and queued now, so that it gets a whole
/// `MAIL_GIVE_UP_AFTER` again. Its `Message-ID` stays the same.
#[utoipa::path(
    tag = TAG,
    operation_id = "retryOutboxMessage",
    params(("id" = Uuid, Path, description = "Outbox row identificator.",
            example = "019abc12-7c1e-7d3a-9f00-3c5e2b1a4d6f")),
    responses(
        (status = 200, description = "The row, pending again", body = OutboxMessage),
        BadRequest, NotFound, Conflict
    )
)]
#[post("/outbox/{id}/retry")]
async fn retry_outbox_message(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let row = state
        .outbox
        .retry(id.into_inner(), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(OutboxMessage::from(row)))
}
