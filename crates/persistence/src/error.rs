//! Errors inside the adapter and their mapping to the domain's [`RepoError`].
//!
//! Texts never carry row data: Diesel's messages name constraints and columns, not values, and
//! conversion failures name the column or the kind of value (`crate::columns`) only, so a
//! personal code cannot reach an error or a log.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use pas_domain::error::Missing;
use pas_domain::ports::RepoError;

/// An error inside a store operation: a database error not yet classified, or a domain answer.
#[derive(Debug)]
pub(crate) enum Error {
    /// From Diesel; becomes `RepoError::Storage` unless classified on the way.
    Diesel(DieselError),
    /// Already the port's answer.
    Repo(RepoError),
}

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

impl From<RepoError> for Error {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl Error {
    /// The port's error: a lost connection or a database locked by another process is
    /// `Unavailable` (temporary); other database errors are storage failures.
    pub(crate) fn into_repo(self) -> RepoError {
        match self {
            Self::Repo(e) => e,
            Self::Diesel(e) if is_unavailable(&e) => RepoError::Unavailable(e.to_string()),
            Self::Diesel(e) => RepoError::Storage(e.to_string()),
        }
    }
}

/// Whether `e` says the database could not be reached rather than refused the statement:
/// the connection broke or closed (PostgreSQL restarting or cut off), or SQLite's lock was
/// held by another process past `busy_timeout`.
fn is_unavailable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            [
                // SQLITE_BUSY and SQLITE_LOCKED.
                "database is locked",
                "database table is locked",
                // PostgreSQL 57P01-57P03: shut down or starting up.
                "terminating connection due to administrator command",
                "the database system is shutting down",
                "the database system is starting up",
            ]
            .iter()
            .any(|m| message.contains(m))
        }
        _ => false,
    }
}

/// A stored value that does not convert back into its domain type.
pub(crate) fn corrupt(column: &str) -> Error {
    Error::Repo(RepoError::Storage(format!(
        "stored value of {column} is not valid"
    )))
}

/// Classifies the constraint violations one statement can cause.
pub(crate) trait Classify<T> {
    /// A unique violation means `what` already exists.
    fn unique_as(self, what: &'static str) -> Result<T, Error>;
    /// A foreign key violation is answered with `answer`.
    fn foreign_key_as(self, answer: RepoError) -> Result<T, Error>;
}

impl<T> Classify<T> for Result<T, DieselError> {
    fn unique_as(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Error::Repo(RepoError::Duplicate(what))
            }
            other => Error::Diesel(other),
        })
    }

    fn foreign_key_as(self, answer: RepoError) -> Result<T, Error> {
        self.map_err(|e| match e {
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Error::Repo(answer)
            }
            other => Error::Diesel(other),
        })
    }
}

/// `Ok` when a write touched a row, else `NotFound(what)`.
pub(crate) fn found(rows: usize, what: Missing) -> Result<(), Error> {
    if rows == 0 {
        Err(Error::Repo(RepoError::NotFound(what)))
    } else {
        Ok(())
    }
}
