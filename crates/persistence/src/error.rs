//! Errors inside the adapter and their mapping to the domain's [`RepoError`].
//!
//! Texts never carry row data: Diesel's messages name constraints and columns, not values, and
//! conversion failures name the column only, so a personal code cannot reach an error or a log.

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
    /// The port's error: unclassified database errors are storage failures.
    pub(crate) fn into_repo(self) -> RepoError {
        match self {
            Self::Repo(e) => e,
            Self::Diesel(e) => RepoError::Storage(e.to_string()),
        }
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
