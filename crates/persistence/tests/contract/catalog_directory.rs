//! Document profiles and attributes, contacts and templates with their visibility scopes
//! (PRODUCT.md section 5).

use pas_domain::catalog::{AttributeInput, DocumentAttribute, DocumentProfile, ProfileInput};
use pas_domain::contact::{Contact, ContactFilter, ContactInput};
use pas_domain::error::Missing;
use pas_domain::ids::{AttributeId, ContactId, ProfileId, TemplateId};
use pas_domain::paging::{ContactSort, Direction, PageRequest, TemplateSort};
use pas_domain::ports::RepoError;
use pas_domain::status::Scope;
use pas_domain::template::{Template, TemplateFilter, TemplateInput};
use pas_domain::visibility::Viewer;
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

async fn attribute(ctx: &Ctx, name: &str) -> DocumentAttribute {
    let input: AttributeInput =
        serde_json::from_value(json!({"name": name, "type": "string", "required": true})).unwrap();
    let attribute = input
        .validate(AttributeId::from_uuid(Uuid::now_v7()), T0)
        .unwrap();
    ctx.catalog().insert_attribute(&attribute).await.unwrap();
    attribute
}

fn profile(json: serde_json::Value, attributes: &[&DocumentAttribute]) -> DocumentProfile {
    let input: ProfileInput = serde_json::from_value(json).unwrap();
    let mut profile = input
        .validate(ProfileId::from_uuid(Uuid::now_v7()), T0)
        .unwrap()
        .profile;
    let mut attributes: Vec<DocumentAttribute> = attributes.iter().map(|a| (*a).clone()).collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    profile.attributes = attributes;
    profile
}

fn contact(json: serde_json::Value, created: time::OffsetDateTime) -> Contact {
    let input: ContactInput = serde_json::from_value(json).unwrap();
    input
        .validate(ContactId::from_uuid(Uuid::now_v7()), created)
        .unwrap()
}

fn template(json: serde_json::Value, created: time::OffsetDateTime) -> Template {
    let input: TemplateInput = serde_json::from_value(json).unwrap();
    input
        .validate(TemplateId::from_uuid(Uuid::now_v7()), created)
        .unwrap()
}

fn contact_filter(viewer: Viewer, scopes: Vec<Scope>) -> ContactFilter {
    ContactFilter {
        viewer,
        scopes,
        name: None,
        email: None,
        personal_code: None,
    }
}

async fn contact_names(
    ctx: &Ctx,
    filter: &ContactFilter,
    sort: Vec<(ContactSort, Direction)>,
) -> Vec<String> {
    let page = PageRequest {
        page: 0,
        size: 200,
        sort,
    };
    let page = ctx.contacts().list(filter, &page).await.unwrap();
    page.content
        .into_iter()
        .map(|c| c.name.unwrap_or_default())
        .collect()
}

/// Contacts of every scope, owned by anna (sales) or juris (support).
async fn contacts_fixture(ctx: &Ctx) -> Vec<Contact> {
    let rows = [
        json!({"name": "Anna personal", "owner": "anna", "scope": "PERSONAL", "email": "A.P@Example.lv"}),
        json!({"name": "Juris personal", "owner": "juris", "scope": "PERSONAL"}),
        json!({"name": "Sales group", "owner": "juris", "scope": "GROUP", "group": "sales",
               "country": "LV", "personalCode": LV_CODE}),
        json!({"name": "Support group", "owner": "juris", "scope": "GROUP", "group": "support"}),
        json!({"name": "Ķēniņš global", "owner": "juris", "scope": "GLOBAL", "email": "kenins@example.lv"}),
    ];
    let mut out = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let c = contact(row, at(i as i64));
        ctx.contacts().insert(&c).await.unwrap();
        out.push(c);
    }
    out
}

contract_tests! {
    /// A profile with its attributes round-trips (attributes by name), is replaced by an
    /// update and gone after a delete.
    async fn profile_round_trip_update_and_delete(ctx: Ctx) {
        let size = attribute(&ctx, "size").await;
        let author = attribute(&ctx, "author").await;
        let mut p = profile(json!({"name": "Contracts", "documentType": "contract",
            "ownerGroup": "sales", "seal": "SEAL-1", "isSealRequired": true, "profileorder": 3}),
            &[&size, &author]);
        ctx.catalog().insert_profile(&p).await.unwrap();
        assert_eq!(ctx.catalog().get_profile(p.id).await.unwrap(), Some(p.clone()));
        assert_eq!(p.attributes[0].name, "author");

        p.name = "Contracts 2".into();
        p.seal = None;
        p.attributes = vec![size.clone()];
        ctx.catalog().update_profile(&p).await.unwrap();
        assert_eq!(ctx.catalog().get_profile(p.id).await.unwrap(), Some(p.clone()));

        let duplicate = profile(json!({"name": "Contracts 2"}), &[]);
        assert_eq!(ctx.catalog().insert_profile(&duplicate).await, Err(RepoError::Duplicate("document profile")));
        let unknown = profile(json!({"name": "Unknown"}), &[]);
        assert_eq!(ctx.catalog().update_profile(&unknown).await, Err(RepoError::NotFound(Missing::DocumentProfile)));

        ctx.catalog().delete_profile(p.id).await.unwrap();
        assert_eq!(ctx.catalog().get_profile(p.id).await.unwrap(), None);
        assert_eq!(ctx.catalog().delete_profile(p.id).await, Err(RepoError::NotFound(Missing::DocumentProfile)));
        // The attribute is free again.
        ctx.catalog().delete_attribute(size.id).await.unwrap();
    }

    /// `listDocumentProfiles?group` by `ownerGroup`, ordered by `profileorder`;
    /// `getDocumentProfileByName` is exact (section 5).
    async fn profiles_are_listed_by_group_in_profileorder_and_found_by_exact_name(ctx: Ctx) {
        let a = attribute(&ctx, "a").await;
        let third = profile(json!({"name": "Third", "ownerGroup": "sales", "profileorder": 3}), &[&a]);
        let first = profile(json!({"name": "First", "ownerGroup": "sales", "profileorder": 1}), &[]);
        let other = profile(json!({"name": "Other", "ownerGroup": "hr", "profileorder": 2}), &[&a]);
        for p in [&third, &first, &other] {
            ctx.catalog().insert_profile(p).await.unwrap();
        }
        let sales = ctx.catalog().list_profiles(Some("sales".into())).await.unwrap();
        assert_eq!(sales, vec![first.clone(), third.clone()]);
        let every = ctx.catalog().list_profiles(None).await.unwrap();
        assert_eq!(every, vec![first.clone(), other.clone(), third.clone()]);
        assert_eq!(ctx.catalog().profile_by_name("Third".into()).await.unwrap(), Some(third));
        assert_eq!(ctx.catalog().profile_by_name("third".into()).await.unwrap(), None);
        assert_eq!(ctx.catalog().profile_by_name("Thir".into()).await.unwrap(), None);
    }

    /// An attribute round-trips and updates; deleting one a profile uses is `InUse` (409).
    async fn attribute_round_trip_and_delete_while_linked_is_in_use(ctx: Ctx) {
        let mut used = attribute(&ctx, "used").await;
        let free = attribute(&ctx, "free").await;
        assert_eq!(ctx.catalog().get_attribute(used.id).await.unwrap(), Some(used.clone()));
        assert_eq!(ctx.catalog().insert_attribute(&used).await, Err(RepoError::Duplicate("document attribute")));
        used.attr_type = None;
        used.required = false;
        ctx.catalog().update_attribute(&used).await.unwrap();
        assert_eq!(ctx.catalog().get_attribute(used.id).await.unwrap(), Some(used.clone()));
        assert_eq!(ctx.catalog().list_attributes().await.unwrap(), vec![free.clone(), used.clone()]);

        let p = profile(json!({"name": "P"}), &[&used]);
        ctx.catalog().insert_profile(&p).await.unwrap();
        assert_eq!(ctx.catalog().delete_attribute(used.id).await, Err(RepoError::InUse("document attribute")));
        assert_eq!(ctx.catalog().get_attribute(used.id).await.unwrap(), Some(used.clone()));
        ctx.catalog().delete_attribute(free.id).await.unwrap();
        assert_eq!(ctx.catalog().get_attribute(free.id).await.unwrap(), None);
        assert_eq!(ctx.catalog().delete_attribute(free.id).await, Err(RepoError::NotFound(Missing::DocumentAttribute)));
        let ghost = profile(json!({"name": "Ghost"}), &[&free]);
        assert_eq!(ctx.catalog().insert_profile(&ghost).await, Err(RepoError::NotFound(Missing::DocumentAttribute)));
        assert_eq!(ctx.catalog().get_profile(ghost.id).await.unwrap(), None);
    }

    /// A contact with every field round-trips, updates and deletes.
    async fn contact_round_trip_update_and_delete(ctx: Ctx) {
        let mut c = contact(json!({
            "name": "Jānis Ozols", "country": "lv", "personalCode": LV_CODE, "phone": "+371 20000000",
            "email": "Janis@Example.LV", "role": "APPROVER", "defaultAnonymous": true,
            "owner": "anna", "scope": "GROUP", "group": "sales", "language": "lv"
        }), T0);
        ctx.contacts().insert(&c).await.unwrap();
        assert_eq!(ctx.contacts().get(c.id).await.unwrap(), Some(c.clone()));
        assert_eq!(ctx.contacts().insert(&c).await, Err(RepoError::Duplicate("contact")));

        c.name = Some("Jānis Bērziņš".into());
        c.personal_code = None;
        c.country = None;
        c.scope = Scope::Personal;
        c.group = None;
        ctx.contacts().update(&c).await.unwrap();
        assert_eq!(ctx.contacts().get(c.id).await.unwrap(), Some(c.clone()));

        ctx.contacts().delete(c.id).await.unwrap();
        assert_eq!(ctx.contacts().get(c.id).await.unwrap(), None);
        assert_eq!(ctx.contacts().delete(c.id).await, Err(RepoError::NotFound(Missing::Contact)));
        assert_eq!(ctx.contacts().update(&c).await, Err(RepoError::NotFound(Missing::Contact)));
    }

    /// PERSONAL rows to their owner, GROUP rows to the group's members, GLOBAL rows to all;
    /// `scope` narrows the kinds, none or ALL means every visible one (section 5).
    async fn contacts_are_visible_by_scope(ctx: Ctx) {
        contacts_fixture(&ctx).await;
        let by_name = vec![(ContactSort::Name, Direction::Asc)];
        let anna = Viewer::new("anna", "sales");
        assert_eq!(
            contact_names(&ctx, &contact_filter(anna.clone(), vec![]), by_name.clone()).await,
            ["Anna personal", "Sales group", "Ķēniņš global"]
        );
        let juris = Viewer { user: "juris".into(), groups: vec!["support".into(), "hr".into()] };
        assert_eq!(
            contact_names(&ctx, &contact_filter(juris.clone(), vec![]), by_name.clone()).await,
            ["Juris personal", "Support group", "Ķēniņš global"]
        );
        let outsider = Viewer { user: "eve".into(), groups: vec![] };
        assert_eq!(contact_names(&ctx, &contact_filter(outsider, vec![]), by_name.clone()).await, ["Ķēniņš global"]);
        assert_eq!(
            contact_names(&ctx, &contact_filter(anna.clone(), vec![Scope::Group]), by_name.clone()).await,
            ["Sales group"]
        );
        assert_eq!(
            contact_names(&ctx, &contact_filter(anna, vec![Scope::Personal, Scope::Global]), by_name).await,
            ["Anna personal", "Ķēniņš global"]
        );
    }

    /// Contact name and email searches (case-insensitive, Latvian letters), the personal code
    /// filter (normalised), sorts and paging.
    async fn contacts_filter_sort_and_page(ctx: Ctx) {
        contacts_fixture(&ctx).await;
        let everyone = Viewer { user: "anna".into(), groups: vec!["sales".into(), "support".into()] };
        let mut filter = contact_filter(everyone.clone(), vec![]);
        filter.name = Some("ĶĒNIŅ".to_lowercase());
        assert_eq!(contact_names(&ctx, &filter, vec![]).await, ["Ķēniņš global"]);
        let mut filter = contact_filter(everyone.clone(), vec![]);
        filter.email = Some("example.lv".into());
        assert_eq!(
            contact_names(&ctx, &filter, vec![(ContactSort::Email, Direction::Asc)]).await,
            ["Anna personal", "Ķēniņš global"]
        );
        let mut filter = contact_filter(everyone.clone(), vec![]);
        filter.personal_code = Some(LV_CODE_PLAIN.into());
        assert_eq!(contact_names(&ctx, &filter, vec![]).await, ["Sales group"]);

        let all = contact_filter(everyone, vec![]);
        assert_eq!(
            contact_names(&ctx, &all, vec![(ContactSort::CreatedAt, Direction::Desc)]).await,
            ["Ķēniņš global", "Support group", "Sales group", "Anna personal"]
        );
        // Email sort puts contacts without an email last in both directions.
        assert_eq!(
            contact_names(&ctx, &all, vec![(ContactSort::Email, Direction::Desc), (ContactSort::Name, Direction::Asc)]).await,
            ["Ķēniņš global", "Anna personal", "Sales group", "Support group"]
        );
        let page = PageRequest { page: 1, size: 3, sort: vec![(ContactSort::Name, Direction::Asc)] };
        let second = ctx.contacts().list(&all, &page).await.unwrap();
        assert_eq!((second.total_elements, second.number_of_elements, second.last), (4, 1, true));
    }

    /// Templates round-trip, are visible by scope, searched by name and deleted.
    async fn template_round_trip_visibility_search_and_delete(ctx: Ctx) {
        let personal = template(json!({"name": "Mans šablons", "data": "{\"steps\":[]}", "owner": "anna"}), T0);
        let group = template(json!({"name": "Sales template", "owner": "juris", "scope": "GROUP", "group": "sales"}), at(1));
        let global = template(json!({"name": "Global", "owner": "juris", "scope": "GLOBAL"}), at(2));
        for t in [&personal, &group, &global] {
            ctx.templates().insert(t).await.unwrap();
        }
        assert_eq!(ctx.templates().get(personal.id).await.unwrap(), Some(personal.clone()));
        assert_eq!(ctx.templates().insert(&personal).await, Err(RepoError::Duplicate("template")));

        let list = |filter: TemplateFilter, sort| {
            let ctx = ctx.clone();
            async move {
                let page = PageRequest { page: 0, size: 20, sort };
                let page = ctx.templates().list(&filter, &page).await.unwrap();
                page.content.into_iter().map(|t| t.id).collect::<Vec<_>>()
            }
        };
        let by_name = vec![(TemplateSort::Name, Direction::Asc)];
        let anna = TemplateFilter { viewer: Viewer::new("anna", "sales"), scopes: vec![], name: None };
        assert_eq!(list(anna.clone(), by_name.clone()).await, vec![global.id, personal.id, group.id]);
        let juris = TemplateFilter { viewer: Viewer::new("juris", "hr"), scopes: vec![], name: None };
        assert_eq!(list(juris, vec![(TemplateSort::CreatedAt, Direction::Desc)]).await, vec![global.id]);
        let searched = TemplateFilter { name: Some("šablon".into()), ..anna.clone() };
        assert_eq!(list(searched, by_name.clone()).await, vec![personal.id]);
        let group_only = TemplateFilter { scopes: vec![Scope::Group], ..anna.clone() };
        assert_eq!(list(group_only, by_name.clone()).await, vec![group.id]);

        ctx.templates().delete(group.id).await.unwrap();
        assert_eq!(ctx.templates().get(group.id).await.unwrap(), None);
        assert_eq!(ctx.templates().delete(group.id).await, Err(RepoError::NotFound(Missing::Template)));
        assert_eq!(list(anna, by_name).await, vec![global.id, personal.id]);
    }
}
