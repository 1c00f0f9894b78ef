//! The two column types stored differently by each backend: ids ([`Id`]: PostgreSQL `uuid`,
//! SQLite UUID text) and SHA-256/HMAC digests ([`Digest`]: PostgreSQL `bytea`, SQLite hex
//! text). On PostgreSQL the native types take 16 and 32 bytes where the text took 37 and 65,
//! in each row and in each index that holds them (issue 15's compact storage). SQLite keeps
//! text: it has no such types and its files were written that way.
//!
//! The Rust side is one newtype per kind ([`DbId`], [`DbDigest`]), so a query binds the same
//! value on both backends and the schema (`crate::schema`) stays one.

use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Text};
use diesel::sqlite::Sqlite;
use pas_domain::ids::{AuditEventId, EntryId, ProcessId, StepId};
use uuid::Uuid;

/// The SQL types of [`DbId`] and [`DbDigest`] columns.
pub(crate) mod sql {
    use diesel::query_builder::QueryId;
    use diesel::sql_types::SqlType;

    /// An id: `uuid` on PostgreSQL, UUID text on SQLite.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Id;

    /// A 32-byte digest: `bytea` on PostgreSQL, lower-case hex text on SQLite.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 17, array_oid = 1001))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Digest;
}

/// A stored id (a process, step, entry, audit event or outbox row, or a chain key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Id)]
pub(crate) struct DbId(pub Uuid);

impl DbId {
    /// The id as the domain's id type.
    pub(crate) fn to<T: From<Uuid>>(self) -> T {
        T::from(self.0)
    }
}

impl From<Uuid> for DbId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

macro_rules! from_domain_ids {
    ($($id:ty),*) => {$(
        impl From<$id> for DbId {
            fn from(id: $id) -> Self {
                Self(id.as_uuid())
            }
        }
    )*};
}
from_domain_ids!(ProcessId, StepId, EntryId, AuditEventId);

/// A stored digest, held as the lower-case hex the domain computes and compares
/// (`AuditingEvent::hash`, pseudonyms).
#[derive(Debug, Clone, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Digest)]
pub(crate) struct DbDigest(pub String);

/// The error of an id that does not read as a UUID. Like every error of this crate it
/// carries no stored value (`crate::error`).
const NOT_AN_ID: &str = "a stored id is not a UUID";

/// The error of a digest to write that is not lower-case hex.
const NOT_A_DIGEST: &str = "a digest to store is not lower-case hex";

/// How a backend stores [`DbId`] and [`DbDigest`]. A trait of the backend, so that code
/// written once for both (bounded by `db::Sql`, which requires it) can bind and load them.
pub(crate) trait Stores: Backend + HasSqlType<sql::Id> + HasSqlType<sql::Digest> {
    /// Binds `id`.
    fn id_to_sql<'b>(id: &'b DbId, out: &mut Output<'b, '_, Self>) -> serialize::Result;
    /// Loads an id.
    fn id_from_sql(value: Self::RawValue<'_>) -> deserialize::Result<DbId>;
    /// Binds `digest`.
    fn digest_to_sql<'b>(digest: &'b DbDigest, out: &mut Output<'b, '_, Self>)
    -> serialize::Result;
    /// Loads a digest.
    fn digest_from_sql(value: Self::RawValue<'_>) -> deserialize::Result<DbDigest>;
}

impl Stores for Pg {
    fn id_to_sql<'b>(id: &'b DbId, out: &mut Output<'b, '_, Self>) -> serialize::Result {
        out.write_all(id.0.as_bytes())?;
        Ok(IsNull::No)
    }

    fn id_from_sql(value: PgValue<'_>) -> deserialize::Result<DbId> {
        Ok(DbId(
            Uuid::from_slice(value.as_bytes()).map_err(|_| NOT_AN_ID)?,
        ))
    }

    fn digest_to_sql<'b>(
        digest: &'b DbDigest,
        out: &mut Output<'b, '_, Self>,
    ) -> serialize::Result {
        // Only what the domain computes is written: lower-case hex, which reads back exactly.
        // Anything else is refused rather than stored as bytes that would read back as
        // other text (upper-case hex would come back lower-case).
        let lower_hex = digest
            .0
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let bytes = hex::decode(&digest.0)
            .ok()
            .filter(|_| lower_hex)
            .ok_or(NOT_A_DIGEST)?;
        out.write_all(&bytes)?;
        Ok(IsNull::No)
    }

    fn digest_from_sql(value: PgValue<'_>) -> deserialize::Result<DbDigest> {
        Ok(DbDigest(hex::encode(value.as_bytes())))
    }
}

impl Stores for Sqlite {
    fn id_to_sql<'b>(id: &'b DbId, out: &mut Output<'b, '_, Self>) -> serialize::Result {
        out.set_value(id.0.hyphenated().to_string());
        Ok(IsNull::No)
    }

    fn id_from_sql(value: <Self as Backend>::RawValue<'_>) -> deserialize::Result<DbId> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(DbId(Uuid::parse_str(&text).map_err(|_| NOT_AN_ID)?))
    }

    fn digest_to_sql<'b>(
        digest: &'b DbDigest,
        out: &mut Output<'b, '_, Self>,
    ) -> serialize::Result {
        out.set_value(digest.0.as_str());
        Ok(IsNull::No)
    }

    fn digest_from_sql(value: <Self as Backend>::RawValue<'_>) -> deserialize::Result<DbDigest> {
        <String as FromSql<Text, Sqlite>>::from_sql(value).map(DbDigest)
    }
}

impl<DB: Stores> ToSql<sql::Id, DB> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        DB::id_to_sql(self, out)
    }
}

impl<DB: Stores> FromSql<sql::Id, DB> for DbId {
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        DB::id_from_sql(value)
    }
}

impl<DB: Stores> ToSql<sql::Digest, DB> for DbDigest {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        DB::digest_to_sql(self, out)
    }
}

impl<DB: Stores> FromSql<sql::Digest, DB> for DbDigest {
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        DB::digest_from_sql(value)
    }
}

/// Ids and digests go through each backend and come back as they were; SQL sees an id as
/// its hyphenated text on both (what SQLite files and the API hold), and PostgreSQL refuses
/// a digest that is not lower-case hex instead of storing bytes that read back otherwise.
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    use super::*;
    use crate::Db;
    use crate::testing::ScratchDatabase;

    async fn ids_and_digests_round_trip(scratch: ScratchDatabase) {
        let db = Db::connect(scratch.url(), 1).await.unwrap();
        let postgres = !scratch.url().starts_with("sqlite://");
        let id = DbId(Uuid::now_v7());
        let digest = DbDigest(hex::encode([0xa5_u8; 32]));
        let not_hex = DbDigest("not a digest".into());
        let upper = DbDigest(hex::encode_upper([0xa5_u8; 32]));
        with_db!(db, None, async |conn| {
            let back: DbId = diesel::select(id.into_sql::<sql::Id>())
                .get_result(conn)
                .await?;
            assert_eq!(back, id);
            let text: String =
                diesel::select(sql::<Text>("CAST(").bind::<sql::Id, _>(id).sql(" AS TEXT)"))
                    .get_result(conn)
                    .await?;
            assert_eq!(text, id.0.hyphenated().to_string());
            let back: DbDigest = diesel::select(digest.clone().into_sql::<sql::Digest>())
                .get_result(conn)
                .await?;
            assert_eq!(back, digest);
            let refused = diesel::select(not_hex.clone().into_sql::<sql::Digest>())
                .get_result::<DbDigest>(conn)
                .await;
            assert_eq!(refused.is_err(), postgres, "{refused:?}");
            let refused = diesel::select(upper.clone().into_sql::<sql::Digest>())
                .get_result::<DbDigest>(conn)
                .await;
            assert_eq!(refused.is_err(), postgres, "{refused:?}");
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        ids_and_digests_round_trip(ScratchDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                ids_and_digests_round_trip(ScratchDatabase::postgres(&url).await).await;
            }
            _ => eprintln!("TEST_DATABASE_URL unset: skipping the PostgreSQL half"),
        }
    }
}
