//! `CatalogStore`: document profiles with their attribute links, and attributes. A profile's
//! attributes are read by name; an attribute that a profile links cannot be deleted
//! (`InUse`, backed by the foreign key of `profile_attributes`).

use pas_domain::error::Missing;
use std::collections::HashMap;

use async_trait::async_trait;
use diesel::dsl;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use pas_domain::catalog::{DocumentAttribute, DocumentProfile};
use pas_domain::ids::{AttributeId, ProfileId};
use pas_domain::ports::{CatalogStore, RepoError};

use crate::batch::{chunked, insert_many};
use crate::db::{Conn, Db};
use crate::error::{Classify, Error, found};
use crate::models::{AttributeRow, ProfileRow};
use crate::schema::{document_attributes, document_profiles, profile_attributes};

const PROFILE: &str = "document profile";
const ATTRIBUTE: &str = "document attribute";

/// The attribute links of the profiles `profiles`, by attribute name.
#[dsl::auto_type]
fn links_of(profiles: Vec<String>) -> _ {
    profile_attributes::table
        .inner_join(document_attributes::table)
        .filter(profile_attributes::profile_id.eq_any(profiles))
        .order((
            document_attributes::name.asc(),
            document_attributes::id.asc(),
        ))
}

/// [`links_of`] selecting the profile id and the attribute row on the backend `DB`.
type LinkRows<DB> = dsl::Select<
    links_of,
    (
        profile_attributes::profile_id,
        dsl::AsSelect<AttributeRow, DB>,
    ),
>;

/// Loads the attributes of the profile rows `rows` (one query per chunk of profiles) and
/// builds the profiles, in the order of `rows`.
async fn load_profiles<C>(
    conn: &mut C,
    rows: Vec<ProfileRow>,
) -> Result<Vec<DocumentProfile>, Error>
where
    C: Conn,
    for<'q> LinkRows<C::Backend>: LoadQuery<'q, C, (String, AttributeRow)>,
{
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attributes: HashMap<String, Vec<DocumentAttribute>> = HashMap::new();
    for chunk in chunked(ids, 500) {
        let links = links_of(chunk)
            .select((profile_attributes::profile_id, AttributeRow::as_select()))
            .load::<(String, AttributeRow)>(conn)
            .await?;
        for (profile, attribute) in links {
            attributes
                .entry(profile)
                .or_default()
                .push(attribute.into_attribute()?);
        }
    }
    rows.into_iter()
        .map(|row| {
            let linked = attributes.remove(&row.id).unwrap_or_default();
            row.into_profile(linked)
        })
        .collect()
}

fn attributes(rows: Vec<AttributeRow>) -> Result<Vec<DocumentAttribute>, Error> {
    rows.into_iter().map(AttributeRow::into_attribute).collect()
}

#[async_trait]
impl CatalogStore for Db {
    async fn insert_profile(&self, profile: &DocumentProfile) -> Result<(), RepoError> {
        let (row, links) = ProfileRow::of(profile);
        with_db!(self, Write, async |conn| {
            diesel::insert_into(document_profiles::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(PROFILE)?;
            insert_many(conn, profile_attributes::table, links)
                .await
                .foreign_key_as(RepoError::NotFound(Missing::DocumentAttribute))?;
            Ok(())
        })
        .await
    }

    async fn update_profile(&self, profile: &DocumentProfile) -> Result<(), RepoError> {
        let (row, links) = ProfileRow::of(profile);
        with_db!(self, Write, async |conn| {
            let updated = diesel::update(document_profiles::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await
                .unique_as(PROFILE)?;
            found(updated, Missing::DocumentProfile)?;
            diesel::delete(
                profile_attributes::table.filter(profile_attributes::profile_id.eq(&row.id)),
            )
            .execute(conn)
            .await?;
            insert_many(conn, profile_attributes::table, links)
                .await
                .foreign_key_as(RepoError::NotFound(Missing::DocumentAttribute))?;
            Ok(())
        })
        .await
    }

    async fn delete_profile(&self, id: ProfileId) -> Result<(), RepoError> {
        let id = id.to_string();
        with_db!(self, Write, async |conn| {
            diesel::delete(
                profile_attributes::table.filter(profile_attributes::profile_id.eq(&id)),
            )
            .execute(conn)
            .await?;
            let deleted = diesel::delete(document_profiles::table.find(&id))
                .execute(conn)
                .await?;
            found(deleted, Missing::DocumentProfile)
        })
        .await
    }

    async fn get_profile(&self, id: ProfileId) -> Result<Option<DocumentProfile>, RepoError> {
        let id = id.to_string();
        with_db!(self, Read, async |conn| {
            let rows = document_profiles::table
                .find(&id)
                .select(ProfileRow::as_select())
                .load::<ProfileRow>(conn)
                .await?;
            Ok(load_profiles(conn, rows).await?.pop())
        })
        .await
    }

    async fn profile_by_name(&self, name: String) -> Result<Option<DocumentProfile>, RepoError> {
        with_db!(self, Read, async |conn| {
            let rows = document_profiles::table
                .filter(document_profiles::name.eq(&name))
                .select(ProfileRow::as_select())
                .load::<ProfileRow>(conn)
                .await?;
            Ok(load_profiles(conn, rows).await?.pop())
        })
        .await
    }

    async fn list_profiles(
        &self,
        group: Option<String>,
    ) -> Result<Vec<DocumentProfile>, RepoError> {
        with_db!(self, Read, async |conn| {
            let mut q = document_profiles::table
                .select(ProfileRow::as_select())
                .into_boxed::<Backend>();
            if let Some(group) = &group {
                q = q.filter(document_profiles::owner_group.eq(group.clone()));
            }
            let rows = q
                .order((
                    document_profiles::profileorder.asc(),
                    document_profiles::name.asc(),
                    document_profiles::id.asc(),
                ))
                .load::<ProfileRow>(conn)
                .await?;
            load_profiles(conn, rows).await
        })
        .await
    }

    async fn insert_attribute(&self, attribute: &DocumentAttribute) -> Result<(), RepoError> {
        let row = AttributeRow::of(attribute);
        with_db!(self, None, async |conn| {
            diesel::insert_into(document_attributes::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(ATTRIBUTE)?;
            Ok(())
        })
        .await
    }

    async fn update_attribute(&self, attribute: &DocumentAttribute) -> Result<(), RepoError> {
        let row = AttributeRow::of(attribute);
        with_db!(self, None, async |conn| {
            let updated = diesel::update(document_attributes::table.find(&row.id))
                .set(&row)
                .execute(conn)
                .await?;
            found(updated, Missing::DocumentAttribute)
        })
        .await
    }

    async fn delete_attribute(&self, id: AttributeId) -> Result<(), RepoError> {
        let id = id.to_string();
        with_db!(self, Write, async |conn| {
            let links: i64 = profile_attributes::table
                .filter(profile_attributes::attribute_id.eq(&id))
                .count()
                .get_result(conn)
                .await?;
            if links > 0 {
                return Err(RepoError::InUse(ATTRIBUTE).into());
            }
            // The foreign key stays the backstop against a link added concurrently.
            let deleted = diesel::delete(document_attributes::table.find(&id))
                .execute(conn)
                .await
                .foreign_key_as(RepoError::InUse(ATTRIBUTE))?;
            found(deleted, Missing::DocumentAttribute)
        })
        .await
    }

    async fn get_attribute(&self, id: AttributeId) -> Result<Option<DocumentAttribute>, RepoError> {
        let id = id.to_string();
        with_db!(self, ReadOne, async |conn| {
            let rows = document_attributes::table
                .find(&id)
                .select(AttributeRow::as_select())
                .load::<AttributeRow>(conn)
                .await?;
            Ok(attributes(rows)?.pop())
        })
        .await
    }

    async fn list_attributes(&self) -> Result<Vec<DocumentAttribute>, RepoError> {
        with_db!(self, ReadOne, async |conn| {
            let rows = document_attributes::table
                .order((
                    document_attributes::name.asc(),
                    document_attributes::id.asc(),
                ))
                .select(AttributeRow::as_select())
                .load::<AttributeRow>(conn)
                .await?;
            attributes(rows)
        })
        .await
    }
}
