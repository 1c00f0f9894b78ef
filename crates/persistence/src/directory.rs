//! `ContactStore` and `TemplateStore`: rows with a visibility scope. A list shows what the
//! viewer may see (`pas_domain::visibility::Viewer`): PERSONAL rows it owns, GROUP rows of its
//! groups, every GLOBAL row; `scopes` narrows that to some kinds (empty: all three). Name and
//! email searches match lower-cased copies, as everywhere in this crate.

use async_trait::async_trait;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::serialize::ToSql;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use pas_domain::contact::{Contact, ContactFilter};
use pas_domain::error::Missing;
use pas_domain::ids::{ContactId, TemplateId};
use pas_domain::paging::{ContactSort, Page, PageRequest, TemplateSort};
use pas_domain::ports::{ContactStore, RepoError, TemplateStore};
use pas_domain::status::Scope;
use pas_domain::template::{Template, TemplateFilter};

use crate::db::{Db, Sql};
use crate::error::{Classify, found};
use crate::models::{ContactRow, TemplateRow};
use crate::paging::{page_of, sorted, sorted_nulls_last, total};
use crate::schema::{contacts, templates};
use crate::search::contains;

const CONTACT: &str = "contact";
const TEMPLATE: &str = "template";

/// The stored scopes a list includes: the requested ones, or all.
fn scope_names(scopes: &[Scope]) -> Vec<&'static str> {
    let scopes = if scopes.is_empty() {
        Scope::ALL
    } else {
        scopes
    };
    scopes.iter().map(|s| s.as_str()).collect()
}

/// `q` (`contacts`, boxed) narrowed to the contacts the viewer of `f` may see, of the
/// requested scopes (the SQL form of `Viewer::can_see`), matching the terms of `f`.
fn filtered_contacts<'a, DB>(
    q: contacts::BoxedQuery<'a, DB>,
    f: &ContactFilter,
) -> contacts::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    dsl::EqAny<contacts::scope, Vec<&'static str>>: QueryFragment<DB>,
    dsl::EqAny<contacts::group_name, Vec<String>>: QueryFragment<DB>,
{
    let mut q = q
        .filter(contacts::scope.eq_any(scope_names(&f.scopes)))
        .filter(
            contacts::scope
                .ne(Scope::Personal.as_str())
                .or(contacts::owner.eq(f.viewer.user.clone())),
        )
        .filter(
            contacts::scope
                .ne(Scope::Group.as_str())
                .or(contacts::group_name.eq_any(f.viewer.groups.clone())),
        );
    if let Some(term) = &f.name {
        q = q.filter(contains(contacts::name_lower, term));
    }
    if let Some(term) = &f.email {
        q = q.filter(contains(contacts::email_lower, term));
    }
    if let Some(code) = &f.personal_code {
        q = q.filter(contacts::personal_code_norm.eq(code.clone()));
    }
    q
}

/// `q` (`templates`, boxed) narrowed as [`filtered_contacts`] narrows contacts.
fn filtered_templates<'a, DB>(
    q: templates::BoxedQuery<'a, DB>,
    f: &TemplateFilter,
) -> templates::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    dsl::EqAny<templates::scope, Vec<&'static str>>: QueryFragment<DB>,
    dsl::EqAny<templates::group_name, Vec<String>>: QueryFragment<DB>,
{
    let mut q = q
        .filter(templates::scope.eq_any(scope_names(&f.scopes)))
        .filter(
            templates::scope
                .ne(Scope::Personal.as_str())
                .or(templates::owner.eq(f.viewer.user.clone())),
        )
        .filter(
            templates::scope
                .ne(Scope::Group.as_str())
                .or(templates::group_name.eq_any(f.viewer.groups.clone())),
        );
    if let Some(term) = &f.name {
        q = q.filter(contains(templates::name_lower, term));
    }
    q
}

#[async_trait]
impl ContactStore for Db {
    async fn insert(&self, contact: &Contact) -> Result<(), RepoError> {
        let row = ContactRow::of(contact);
        with_db!(self, None, async |conn| {
            diesel::insert_into(contacts::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(CONTACT)?;
            Ok(())
        })
        .await
    }

    async fn update(&self, contact: &Contact) -> Result<(), RepoError> {
        let row = ContactRow::of(contact);
        with_db!(self, None, async |conn| {
            let updated = diesel::update(contacts::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await?;
            found(updated, Missing::Contact)
        })
        .await
    }

    async fn delete(&self, id: ContactId) -> Result<(), RepoError> {
        let id = id.to_string();
        with_db!(self, None, async |conn| {
            let deleted = diesel::delete(contacts::table.find(&id))
                .execute(conn)
                .await?;
            found(deleted, Missing::Contact)
        })
        .await
    }

    async fn get(&self, id: ContactId) -> Result<Option<Contact>, RepoError> {
        let id = id.to_string();
        with_db!(self, ReadOne, async |conn| {
            let row = contacts::table
                .find(&id)
                .select(ContactRow::as_select())
                .first::<ContactRow>(conn)
                .await
                .optional()?;
            row.map(ContactRow::into_contact).transpose()
        })
        .await
    }

    async fn list(
        &self,
        filter: &ContactFilter,
        page: &PageRequest<ContactSort>,
    ) -> Result<Page<Contact>, RepoError> {
        with_db!(self, Replica, async |conn| {
            let all = || contacts::table.into_boxed::<Backend>();
            let count: i64 = filtered_contacts(all(), filter)
                .count()
                .get_result(conn)
                .await?;
            let mut q = filtered_contacts(all(), filter).select(ContactRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    ContactSort::CreatedAt => sorted(q, dir, contacts::created_at),
                    ContactSort::Name => sorted_nulls_last(q, dir, contacts::name_lower),
                    ContactSort::Email => sorted_nulls_last(q, dir, contacts::email_lower),
                };
            }
            let rows = page_of(q, contacts::id, page)
                .load::<ContactRow>(conn)
                .await?;
            let content = rows
                .into_iter()
                .map(ContactRow::into_contact)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }
}

#[async_trait]
impl TemplateStore for Db {
    async fn insert(&self, template: &Template) -> Result<(), RepoError> {
        let row = TemplateRow::of(template);
        with_db!(self, None, async |conn| {
            diesel::insert_into(templates::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(TEMPLATE)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: TemplateId) -> Result<(), RepoError> {
        let id = id.to_string();
        with_db!(self, None, async |conn| {
            let deleted = diesel::delete(templates::table.find(&id))
                .execute(conn)
                .await?;
            found(deleted, Missing::Template)
        })
        .await
    }

    async fn get(&self, id: TemplateId) -> Result<Option<Template>, RepoError> {
        let id = id.to_string();
        with_db!(self, ReadOne, async |conn| {
            let row = templates::table
                .find(&id)
                .select(TemplateRow::as_select())
                .first::<TemplateRow>(conn)
                .await
                .optional()?;
            row.map(TemplateRow::into_template).transpose()
        })
        .await
    }

    async fn list(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest<TemplateSort>,
    ) -> Result<Page<Template>, RepoError> {
        with_db!(self, Replica, async |conn| {
            let all = || templates::table.into_boxed::<Backend>();
            let count: i64 = filtered_templates(all(), filter)
                .count()
                .get_result(conn)
                .await?;
            let mut q = filtered_templates(all(), filter).select(TemplateRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    TemplateSort::CreatedAt => sorted(q, dir, templates::created_at),
                    TemplateSort::Name => sorted(q, dir, templates::name_lower),
                };
            }
            let rows = page_of(q, templates::id, page)
                .load::<TemplateRow>(conn)
                .await?;
            let content = rows
                .into_iter()
                .map(TemplateRow::into_template)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }
}
