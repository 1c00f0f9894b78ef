//! `auditing-controller`: the audit log and a process's verified trail.

use actix_web::{HttpResponse, get, post, web};
use pas_domain::audit::AuditFilter;
use pas_domain::ids::ProcessId;
use pas_domain::paging::AuditSort;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::{DayBound, QueryParams};
use crate::problem::responses::{BadRequest, Conflict, TooLarge, Unprocessable};
use crate::wire::audit::{AuditCheckpoint, AuditEventInput, AuditTrail, AuditingEvent};
use crate::wire::page::PageAuditingEvent;

const TAG: &str = "auditing-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(create_auditing_event)
        .service(list_audit_events)
        .service(get_process_audit_trail)
        .service(get_audit_checkpoint);
}

/// Auditing event create request
///
/// An event from another system, chained into its process's trail. `creator`, `ipAddress`
/// and `clientAppName` default to the caller's; `createdAt` is always the service's time.
#[utoipa::path(
    tag = TAG,
    operation_id = "createAuditingEvent",
    request_body = AuditingEvent,
    responses(
        (status = 201, description = "Recorded", body = AuditingEvent),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/audit-events")]
async fn create_auditing_event(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<AuditEventInput>,
) -> ApiResult {
    let event = state
        .audit
        .record_event(body.into_inner().into(), &caller.0)
        .await?;
    Ok(HttpResponse::Created().json(AuditingEvent::from(event)))
}

/// Auditing events list request
///
/// `from` and `to` are RFC 3339 instants or dates (`to` as a date includes that day).
#[utoipa::path(
    tag = TAG,
    operation_id = "listAuditEvents",
    params(
        ("processId" = Option<Uuid>, Query, description = "Signing process identificator."),
        ("documentId" = Option<String>, Query, description = "Document identificator."),
        ("signerId" = Option<Uuid>, Query, description = "Signer identificator."),
        ("eventType" = Option<pas_domain::status::EventType>, Query, description = "Type of event."),
        ("personalCode" = Option<String>, Query, description = "The person concerned (with `country`): \
            found through the keyed pseudonym audit events store, never a plaintext code.", example = "161175-19997"),
        ("country" = Option<String>, Query, description = "Country of `personalCode` (ISO 3166-1 alpha-2).",
            example = "LV"),
        ("from" = Option<String>, Query, description = "Created at or after (RFC 3339 or YYYY-MM-DD)",
            example = "2026-02-01"),
        ("to" = Option<String>, Query, description = "Created before (RFC 3339), or on or before (YYYY-MM-DD)",
            example = "2026-02-17"),
        ("page" = Option<i32>, Query, description = "Page number (starts from 0)"),
        ("size" = Option<i32>, Query, description = "Page size"),
        ("sort" = Option<Vec<String>>, Query, style = Form, explode,
            description = "Sort expression (sortable: createdAt, eventType)")
    ),
    responses((status = 200, description = "One page of events", body = PageAuditingEvent), BadRequest)
)]
#[get("/audit-events")]
async fn list_audit_events(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<AuditSort>()?;
    let filter = AuditFilter {
        process_id: q.uuid("processId")?,
        document_id: q.text("documentId"),
        signer_id: q.uuid("signerId")?,
        event_type: q.wire_enum("eventType")?,
        from: q.instant("from", DayBound::Start)?,
        to: q.instant("to", DayBound::End)?,
        owner_groups: None,
        person: q.person("personalCode", "country")?,
        customer_pseudonyms: None,
    };
    let events = state
        .audit
        .list_events(&filter, &page, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(PageAuditingEvent::from(events)))
}

/// Process audit trail request
///
/// Every event of the process, oldest first, and whether its keyed hash chain holds
/// against the chain's stored head (`brokenAt`: the first event that does not, or the first
/// missing one; `breakReason`: why).
#[utoipa::path(
    tag = TAG,
    operation_id = "getProcessAuditTrail",
    params(("processId" = Uuid, Path, description = "Signing process identificator.",
            example = "9dce9e72-6bf9-4874-8dd1-44342027dd4f")),
    responses((status = 200, description = "The trail", body = AuditTrail), BadRequest)
)]
#[get("/processes/{processId}/audit-trail")]
async fn get_process_audit_trail(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let trail = state
        .audit
        .trail(ProcessId::from_uuid(id.into_inner()), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(AuditTrail::from(trail)))
}

/// Audit checkpoint request
///
/// The stored head of every non-empty audit chain now, as a count and the root hash over
/// them, for publishing outside the service. `app audit checkpoint` writes the full file.
#[utoipa::path(
    tag = TAG,
    operation_id = "getAuditCheckpoint",
    responses((status = 200, description = "The checkpoint", body = AuditCheckpoint))
)]
#[get("/audit-checkpoint")]
async fn get_audit_checkpoint(state: web::Data<ApiState>, caller: RequestCaller) -> ApiResult {
    let checkpoint = state.audit.checkpoint(caller.principal()).await?;
    Ok(HttpResponse::Ok().json(AuditCheckpoint::from(checkpoint)))
}
