//! Throw-away databases for tests (feature `testing`): a SQLite file in a temporary
//! directory, or a fresh database on the PostgreSQL server of a URL (usually
//! `TEST_DATABASE_URL`), dropped again when the [`ScratchDatabase`] is dropped. Neither is
//! migrated: connect with [`crate::Db::connect`] to [`ScratchDatabase::url`] and call
//! [`crate::Db::migrate`], as the service does.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The SQL literal of the digest `hex` (an audit hash or a pseudonym) as the database of
/// `url` stores it, for tests that write rows with SQL of their own: `bytea` on PostgreSQL,
/// the hex text itself on SQLite (`crate::columns`).
pub fn digest_literal(url: &str, hex: &str) -> String {
    if url.starts_with("sqlite://") {
        format!("'{hex}'")
    } else {
        format!("'\\x{hex}'")
    }
}

/// A database that exists as long as this value.
#[derive(Debug)]
pub struct ScratchDatabase {
    url: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl ScratchDatabase {
    /// A SQLite file in a new temporary directory. The file and its parent directory do not
    /// exist yet: `Db::connect` creates them.
    ///
    /// # Panics
    /// When no temporary directory can be made.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let path = dir.path().join("data").join("scratch.db");
        Self {
            url: format!("sqlite://{}", path.display()),
            kind: Kind::Sqlite(dir),
        }
    }

    /// A new, empty database `pas_test_<uuid>` on the server of `admin_url` (any database
    /// of it that the role may connect to, e.g. `postgres://postgres@127.0.0.1/postgres`).
    ///
    /// # Panics
    /// When the server is unreachable or refuses `CREATE DATABASE`: a test that was asked
    /// to run against PostgreSQL must fail rather than pass silently.
    pub async fn postgres(admin_url: &str) -> Self {
        let name = format!("pas_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = AsyncPgConnection::establish(admin_url)
            .await
            .unwrap_or_else(|e| panic!("the PostgreSQL test server is unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        Self {
            url: with_database(admin_url, &name),
            kind: Kind::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// The URL to connect to (`sqlite://…` or `postgres://…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of this database through another server address, e.g. a connection pooler
    /// in front of the same PostgreSQL: `pooler_url` with its database name replaced by this
    /// database's. `None` for SQLite.
    pub fn url_via(&self, pooler_url: &str) -> Option<String> {
        match &self.kind {
            Kind::Postgres { name, .. } => Some(with_database(pooler_url, name)),
            Kind::Sqlite(_) => None,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { admin_url, name } = &self.kind else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside a runtime, which must not block on itself: use a thread with a
        // runtime of its own. `WITH (FORCE)` ends sessions a pool still holds.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {}", self.url);
        }
    }
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let query = url.find('?').map_or("", |i| &url[i..]);
    let base = &url[..url.len() - query.len()];
    let host = base.find("://").map_or(0, |i| i + 3);
    let end = base[host..].find('/').map_or(base.len(), |i| host + i);
    format!("{}/{name}{query}", &base[..end])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
