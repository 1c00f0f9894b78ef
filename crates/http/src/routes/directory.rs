//! `contacts-controller` and `templates-controller`: rows with a visibility scope. The
//! viewer is the `owner`/`user` and `group` parameters until authentication lands.

use actix_web::{HttpResponse, delete, get, post, put, web};
use pas_domain::contact::{ContactFilter, scopes};
use pas_domain::ids::{ContactId, TemplateId};
use pas_domain::paging::{ContactSort, TemplateSort};
use pas_domain::status::ScopeFilter;
use pas_domain::template::TemplateFilter;
use pas_domain::values::normalize_personal_code;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::ApiResult;
use crate::ApiState;
use crate::caller::RequestCaller;
use crate::params::QueryParams;
use crate::problem::responses::{
    BadRequest, Conflict, Forbidden, NotFound, TooLarge, Unprocessable,
};
use crate::wire::directory::{Contact, ContactInput, Template, TemplateInput};
use crate::wire::page::{PageContact, PageTemplate, Pageable};

const CONTACTS: &str = "contacts-controller";
const TEMPLATES: &str = "templates-controller";

pub(crate) fn register(cfg: &mut ServiceConfig) {
    cfg.service(list_contacts)
        .service(create_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(list_templates)
        .service(create_template)
        .service(delete_template);
}

fn lower(v: String) -> String {
    v.to_lowercase()
}

/// Contacts list request
///
/// Rows the viewer may see: PERSONAL rows of `owner`, GROUP rows of `group`, GLOBAL rows;
/// `scope` (repeatable) narrows them, `ALL` or none lists all three kinds.
#[utoipa::path(
    tag = CONTACTS,
    operation_id = "listContacts",
    params(
        ("owner" = String, Query, description = "Owner identificator.", example = "john.doe"),
        ("group" = String, Query, description = "Group identificator.", example = "group-a"),
        ("pageable" = Pageable, Query, style = Form, explode,
            description = "Pagination and sorting parameters (sortable: createdAt, name, email)"),
        ("name" = Option<String>, Query, description = "Name value", example = "Default profile"),
        ("email" = Option<String>, Query, description = "Email value", example = "john.doe@example.com"),
        ("personalCode" = Option<String>, Query,
            description = "Person code used to identify signer/customer.", example = "010190-12345"),
        ("scope" = Option<Vec<ScopeFilter>>, Query, style = Form, explode,
            description = "Visibility scope filter")
    ),
    responses((status = 200, description = "One page of contacts", body = PageContact), BadRequest)
)]
#[get("/contacts")]
async fn list_contacts(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<ContactSort>()?;
    let filter = ContactFilter {
        viewer: q.viewer("owner")?,
        scopes: scopes(&q.wire_enums::<ScopeFilter>("scope")?),
        name: q.text("name").map(lower),
        email: q.text("email").map(lower),
        personal_code: q
            .text("personalCode")
            .map(|c| normalize_personal_code(&c))
            .filter(|c| !c.is_empty()),
    };
    let found = state
        .directory
        .list_contacts(&filter, &page, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(PageContact::from(found)))
}

/// Contact create request
#[utoipa::path(
    tag = CONTACTS,
    operation_id = "createContact",
    request_body = Contact,
    responses(
        (status = 201, description = "Created", body = Contact),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/contacts")]
async fn create_contact(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<ContactInput>,
) -> ApiResult {
    let contact = state
        .directory
        .create_contact(body.into_inner().into(), caller.principal())
        .await?;
    Ok(HttpResponse::Created().json(Contact::from(contact)))
}

/// Contact update request
///
/// The id is in the body; the viewer must be allowed to change the stored row and the new one.
#[utoipa::path(
    tag = CONTACTS,
    operation_id = "updateContact",
    params(
        ("user" = String, Query, description = "User identificator.", example = "john.doe"),
        ("group" = String, Query, description = "Group identificator.", example = "group-a")
    ),
    request_body = Contact,
    responses(
        (status = 200, description = "The updated contact", body = Contact),
        BadRequest, Forbidden, NotFound, TooLarge, Unprocessable
    )
)]
#[put("/contacts")]
async fn update_contact(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
    body: web::Json<ContactInput>,
) -> ApiResult {
    let viewer = q.viewer("user")?;
    let contact = state
        .directory
        .update_contact(body.into_inner().into(), &viewer, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(Contact::from(contact)))
}

/// Contact delete request
#[utoipa::path(
    tag = CONTACTS,
    operation_id = "deleteContact",
    params(
        ("contactId" = Uuid, Path, description = "Contact identificator.",
            example = "f2d1f4fe-73fb-4d67-a352-7a8af7bc7480"),
        ("user" = String, Query, description = "User identificator.", example = "john.doe"),
        ("group" = String, Query, description = "Group identificator.", example = "group-a")
    ),
    responses((status = 204, description = "Deleted"), BadRequest, Forbidden, NotFound)
)]
#[delete("/contacts/{contactId}")]
async fn delete_contact(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    q: QueryParams,
) -> ApiResult {
    let viewer = q.viewer("user")?;
    state
        .directory
        .delete_contact(
            ContactId::from_uuid(id.into_inner()),
            &viewer,
            caller.principal(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Templates list request
///
/// Visibility as for contacts.
#[utoipa::path(
    tag = TEMPLATES,
    operation_id = "listTemplates",
    params(
        ("owner" = String, Query, description = "Owner identificator.", example = "john.doe"),
        ("group" = String, Query, description = "Group identificator.", example = "group-a"),
        ("pageable" = Pageable, Query, style = Form, explode,
            description = "Pagination and sorting parameters (sortable: createdAt, name)"),
        ("name" = Option<String>, Query, description = "Name value", example = "Default profile"),
        ("scope" = Option<Vec<ScopeFilter>>, Query, style = Form, explode,
            description = "Visibility scope filter")
    ),
    responses((status = 200, description = "One page of templates", body = PageTemplate), BadRequest)
)]
#[get("/templates")]
async fn list_templates(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    q: QueryParams,
) -> ApiResult {
    let page = q.page::<TemplateSort>()?;
    let filter = TemplateFilter {
        viewer: q.viewer("owner")?,
        scopes: scopes(&q.wire_enums::<ScopeFilter>("scope")?),
        name: q.text("name").map(lower),
    };
    let found = state
        .directory
        .list_templates(&filter, &page, caller.principal())
        .await?;
    Ok(HttpResponse::Ok().json(PageTemplate::from(found)))
}

/// Template create request
#[utoipa::path(
    tag = TEMPLATES,
    operation_id = "createTemplate",
    request_body = Template,
    responses(
        (status = 201, description = "Created", body = Template),
        BadRequest, Conflict, TooLarge, Unprocessable
    )
)]
#[post("/templates")]
async fn create_template(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    body: web::Json<TemplateInput>,
) -> ApiResult {
    let template = state
        .directory
        .create_template(body.into_inner().into(), caller.principal())
        .await?;
    Ok(HttpResponse::Created().json(Template::from(template)))
}

/// Template delete request
#[utoipa::path(
    tag = TEMPLATES,
    operation_id = "deleteTemplate",
    params(
        ("templateId" = Uuid, Path, description = "Template identificator.",
            example = "6cf6efb5-69c3-4785-988b-3bfa17949dd1"),
        ("user" = String, Query, description = "User identificator.", example = "john.doe"),
        ("group" = String, Query, description = "Group identificator.", example = "group-a")
    ),
    responses((status = 204, description = "Deleted"), BadRequest, Forbidden, NotFound)
)]
#[delete("/templates/{templateId}")]
async fn delete_template(
    state: web::Data<ApiState>,
    caller: RequestCaller,
    id: web::Path<Uuid>,
    q: QueryParams,
) -> ApiResult {
    let viewer = q.viewer("user")?;
    state
        .directory
        .delete_template(
            TemplateId::from_uuid(id.into_inner()),
            &viewer,
            caller.principal(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
