//! `document-profile-controller` and `document-attribute-controller`: admin configuration.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, post, put, web};
use pas_domain::ids::{AttributeId, ProfileId};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::responses::{BadRequest, Conflict, NotFound, TooLarge, Unprocessable};
use crate::wire::catalog::{AttributeInput, DocumentAttribute, DocumentProfile, ProfileInput};
use crate::{ApiState, BASE_PATH};

const PROFILES: &str = "document-profile-controller";
const ATTRIBUTES: &str = "document-attribute-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(get_document_profile_by_name)
        .service(list_document_profiles)
        .service(create_document_profile)
        .service(get_document_profile_by_id)
        .service(update_document_profile)
        .service(delete_document_profile)
        .service(list_document_attributes)
        .service(create_document_attribute)
        .service(get_document_attribute_by_id)
        .service(update_document_attribute)
        .service(delete_document_attribute);
}

/// Document profile details request
#[utoipa::path(
    tag = PROFILES,
    operation_id = "getDocumentProfileById",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    responses((status = 200, description = "The profile", body = DocumentProfile), BadRequest, NotFound)
)]
#[get("/document-profiles/{id}")]
async fn get_document_profile_by_id(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let profile = state
        .catalog
        .get_profile(ProfileId::from_uuid(id.into_inner()), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(DocumentProfile::from(profile)))
}

/// Document profile update request
///
/// Replaces everything but the id and creation time; attributes are referenced by id.
#[utoipa::path(
    tag = PROFILES,
    operation_id = "updateDocumentProfile",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    request_body = DocumentProfile,
    responses(
        (status = 200, description = "The updated profile", body = DocumentProfile),
        BadRequest, NotFound, Conflict, TooLarge, Unprocessable
    )
)]
#[put("/document-profiles/{id}")]
async fn update_document_profile(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    body: web::Json<ProfileInput>,
) -> ApiResult {
    let profile = state
        .catalog
        .update_profile(
            ProfileId::from_uuid(id.into_inner()),
            body.into_inner().into(),
            caller.principal(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(DocumentProfile::from(profile)))
}

/// Document profile delete request
#[utoipa::path(
    tag = PROFILES,
    operation_id = "deleteDocumentProfile",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    responses((status = 204, description = "Deleted"), BadRequest, NotFound)
)]
#[delete("/document-profiles/{id}")]
async fn delete_document_profile(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    state
        .catalog
        .delete_profile(ProfileId::from_uuid(id.into_inner()), caller.principal())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Document profiles list request
///
/// Ordered by `profileorder`; `group` filters by `ownerGroup`.
#[utoipa::path(
    tag = PROFILES,
    operation_id = "listDocumentProfiles",
    params(("group" = Option<String>, Query, description = "Group identificator.", example = "group-a")),
    responses((status = 200, description = "The profiles", body = Vec<DocumentProfile>))
)]
#[get("/document-profiles")]
async fn list_document_profiles(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let profiles = state
        .catalog
        .list_profiles(q.text("group"), caller.principal())
        .await?;
    let profiles: Vec<DocumentProfile> = profiles.into_iter().map(DocumentProfile::from).collect();
    Ok(HttpResponse::Ok().json(profiles))
}

/// Document profile create request
#[utoipa::path(
    tag = PROFILES,
    operation_id = "createDocumentProfile",
    request_body = DocumentProfile,
    responses(
        (status = 201, description = "Created", body = DocumentProfile,
            headers(("Location" = String, description = "URL of the new profile"))),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/document-profiles")]
async fn create_document_profile(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<ProfileInput>,
) -> ApiResult {
    let profile = state
        .catalog
        .create_profile(body.into_inner().into(), caller.principal())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("{BASE_PATH}/document-profiles/{}", profile.id),
        ))
        .json(DocumentProfile::from(profile)))
}

/// Document profile lookup request by name
///
/// Exact match.
#[utoipa::path(
    tag = PROFILES,
    operation_id = "getDocumentProfileByName",
    params(("name" = String, Query, description = "Name value", example = "Default profile")),
    responses((status = 200, description = "The profile", body = DocumentProfile), BadRequest, NotFound)
)]
#[get("/document-profiles/by-name")]
async fn get_document_profile_by_name(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let name = q.required("name")?;
    let profile = state
        .catalog
        .profile_by_name(&name, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(DocumentProfile::from(profile)))
}

/// Document attribute details request
#[utoipa::path(
    tag = ATTRIBUTES,
    operation_id = "getDocumentAttributeById",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    responses((status = 200, description = "The attribute", body = DocumentAttribute), BadRequest, NotFound)
)]
#[get("/document-attributes/{id}")]
async fn get_document_attribute_by_id(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    let attribute = state
        .catalog
        .get_attribute(AttributeId::from_uuid(id.into_inner()), caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(DocumentAttribute::from(attribute)))
}

/// Document attribute update request
#[utoipa::path(
    tag = ATTRIBUTES,
    operation_id = "updateDocumentAttribute",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    request_body = DocumentAttribute,
    responses(
        (status = 200, description = "The updated attribute", body = DocumentAttribute),
        BadRequest, NotFound, Conflict, TooLarge, Unprocessable
    )
)]
#[put("/document-attributes/{id}")]
async fn update_document_attribute(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    body: web::Json<AttributeInput>,
) -> ApiResult {
    let attribute = state
        .catalog
        .update_attribute(
            AttributeId::from_uuid(id.into_inner()),
            body.into_inner().into(),
            caller.principal(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(DocumentAttribute::from(attribute)))
}

/// Document attribute delete request
///
/// 409 while a profile uses it.
#[utoipa::path(
    tag = ATTRIBUTES,
    operation_id = "deleteDocumentAttribute",
    params(("id" = Uuid, Path, description = "Resource identificator.",
            example = "2e47f112-1251-43e4-8e91-184ac94e1a5f")),
    responses((status = 204, description = "Deleted"), BadRequest, NotFound, Conflict)
)]
#[delete("/document-attributes/{id}")]
async fn delete_document_attribute(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
) -> ApiResult {
    state
        .catalog
        .delete_attribute(AttributeId::from_uuid(id.into_inner()), caller.principal())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Document attributes list request
#[utoipa::path(
    tag = ATTRIBUTES,
    operation_id = "listDocumentAttributes",
    responses((status = 200, description = "Every attribute, by name", body = Vec<DocumentAttribute>))
)]
#[get("/document-attributes")]
async fn list_document_attributes(state: web::Data<ApiState>, caller: RequestCaller) -> ApiResult {
    let attributes = state.catalog.list_attributes(caller.principal()).await?;
    let attributes: Vec<DocumentAttribute> = attributes
        .into_iter()
        .map(DocumentAttribute::from)
        .collect();
    Ok(HttpResponse::Ok().json(attributes))
}

/// Document attribute create request
///
/// A client `id` is kept when it is a UUID not yet used (409 otherwise).
#[utoipa::path(
    tag = ATTRIBUTES,
    operation_id = "createDocumentAttribute",
    request_body = DocumentAttribute,
    responses(
        (status = 201, description = "Created", body = DocumentAttribute,
            headers(("Location" = String, description = "URL of the new attribute"))),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/document-attributes")]
async fn create_document_attribute(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<AttributeInput>,
) -> ApiResult {
    let attribute = state
        .catalog
        .create_attribute(body.into_inner().into(), caller.principal())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("{BASE_PATH}/document-attributes/{}", attribute.id),
        ))
        .json(DocumentAttribute::from(attribute)))
}
