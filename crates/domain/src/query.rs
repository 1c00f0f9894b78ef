//! Filters of the list and search operations (PRODUCT.md section 6), checked before they
//! reach a store.

use time::{Date, OffsetDateTime};

use crate::error::ValidationErrors;
use crate::ids::EntryId;
use crate::status::ProcessStatus;
use crate::values::{CountryCode, normalize_personal_code};

/// A person as the portal names one: normalised personal code and country (section 8).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonKey {
    /// `normalize_personal_code` of the code: no spaces or hyphens, upper case.
    pub code: String,
    /// The country.
    pub country: CountryCode,
}

impl std::fmt::Debug for PersonKey {
    // No personal code in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonKey(***, {})", self.country)
    }
}

impl PersonKey {
    /// Normalises a code and parses a country as the portal sends them (any case, with or
    /// without hyphens and spaces). The code's format is not checked: a person is found or
    /// not, never told why.
    ///
    /// ```
    /// use pas_domain::query::PersonKey;
    /// let a = PersonKey::parse("161175-19997", "lv").unwrap();
    /// let b = PersonKey::parse("16117519997", "LV").unwrap();
    /// assert_eq!(a, b);
    /// ```
    pub fn parse(code: &str, country: &str) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = normalize_personal_code(code);
        if code.is_empty() || code.len() > 64 {
            errors.push("personalCode", "is required");
        }
        let country = CountryCode::parse(country)
            .map_err(|e| errors.push("country", e.to_string()))
            .ok();
        match country {
            Some(country) if errors.is_empty() => Ok(Self { code, country }),
            _ => Err(errors),
        }
    }
}

/// `listProcesses` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFilter {
    /// Created on or before this date (UTC).
    pub created_before: Option<Date>,
    /// Created on or after this date (UTC).
    pub created_after: Option<Date>,
    /// Exact status.
    pub status: Option<ProcessStatus>,
    /// Case-insensitive substring of the document name, initiator name or any signer name;
    /// lower-cased.
    pub name_search: Option<String>,
    /// Case-insensitive substring of the initiator email or any signer email; lower-cased.
    pub email_search: Option<String>,
    /// Normalised personal code of any signer.
    pub personal_code: Option<String>,
    /// Exact owner group (required unless admin).
    pub owner_group: Option<String>,
    /// Exact document type.
    pub doc_type: Option<String>,
}

/// Raw `listProcesses` parameters.
#[derive(Debug, Clone, Default)]
pub struct ProcessFilterParams {
    /// `createdDateBefore`.
    pub created_date_before: Option<Date>,
    /// `createdDateAfter`.
    pub created_date_after: Option<Date>,
    /// `processStatus`.
    pub process_status: Option<ProcessStatus>,
    /// `nameSearch`.
    pub name_search: Option<String>,
    /// `emailSearch`.
    pub email_search: Option<String>,
    /// `personalCode`.
    pub personal_code: Option<String>,
    /// `ownerGroup`.
    pub owner_group: Option<String>,
    /// `docType`.
    pub doc_type: Option<String>,
    /// `isAdmin`.
    pub is_admin: Option<bool>,
}

fn search_term(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
}

impl ProcessFilterParams {
    /// Checks the parameters: without `isAdmin=true` an `ownerGroup` is required; dates must
    /// not be reversed.
    ///
    /// ```
    /// use pas_domain::query::ProcessFilterParams;
    /// assert!(ProcessFilterParams::default().validate().is_err());
    /// let ok = ProcessFilterParams { owner_group: Some("g".into()), name_search: Some(" Anna ".into()), ..Default::default() };
    /// assert_eq!(ok.validate().unwrap().name_search.as_deref(), Some("anna"));
    /// ```
    pub fn validate(self) -> Result<ProcessFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let owner_group = self
            .owner_group
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty());
        if owner_group.is_none() && self.is_admin != Some(true) {
            errors.push("ownerGroup", "is required unless isAdmin=true");
        }
        if let (Some(a), Some(b)) = (self.created_date_after, self.created_date_before) {
            if a > b {
                errors.push("createdDateAfter", "is after createdDateBefore");
            }
        }
        let personal_code = self
            .personal_code
            .map(|c| normalize_personal_code(&c))
            .filter(|c| !c.is_empty());
        errors.into_result(ProcessFilter {
            created_before: self.created_date_before,
            created_after: self.created_date_after,
            status: self.process_status,
            name_search: search_term(self.name_search),
            email_search: search_term(self.email_search),
            personal_code,
            owner_group,
            doc_type: self
                .doc_type
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
        })
    }
}

/// `findProcesses` and `listProcessesByDocumentId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessSearch {
    /// Exact document id.
    pub document_id: Option<String>,
    /// Normalised personal code of any signer.
    pub personal_code: Option<String>,
}

/// Who the tasks belong to (section 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOwner {
    /// A person's every entry (optionally narrowed to one entry id).
    Person {
        /// The person.
        person: PersonKey,
        /// Only this entry.
        signer: Option<EntryId>,
    },
    /// An anonymous entry, reached by its id alone.
    Anonymous(EntryId),
}

/// `listSignerTasks` filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerTaskFilter {
    /// Whose tasks.
    pub owner: TaskOwner,
    /// Process created on or before this date.
    pub created_before: Option<Date>,
    /// Process created on or after this date.
    pub created_after: Option<Date>,
    /// Exact process status.
    pub status: Option<ProcessStatus>,
    /// Case-insensitive substring of the document or initiator name; lower-cased.
    pub name_search: Option<String>,
    /// Drop rows whose step is past its due date at `now`.
    pub non_expired: bool,
    /// The instant expiry is judged at.
    pub now: OffsetDateTime,
}

/// Raw `listSignerTasks` parameters.
#[derive(Debug, Clone, Default)]
pub struct SignerTaskParams {
    /// `personalCode`.
    pub personal_code: Option<String>,
    /// `country`.
    pub country: Option<String>,
    /// `signerId`.
    pub signer_id: Option<EntryId>,
    /// `createdDateBefore`.
    pub created_date_before: Option<Date>,
    /// `createdDateAfter`.
    pub created_date_after: Option<Date>,
    /// `processStatus`.
    pub process_status: Option<ProcessStatus>,
    /// `nameSearch`.
    pub name_search: Option<String>,
    /// `nonExpired`.
    pub non_expired: Option<bool>,
}

impl SignerTaskParams {
    /// A person (`personalCode` and `country`) or an anonymous entry (`signerId` alone).
    pub fn validate(self, now: OffsetDateTime) -> Result<SignerTaskFilter, ValidationErrors> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        let owner = match (
            blank(&self.personal_code),
            blank(&self.country),
            self.signer_id,
        ) {
            (true, true, Some(id)) => TaskOwner::Anonymous(id),
            (true, true, None) => {
                return Err(ValidationErrors::single(
                    "personalCode",
                    "personalCode and country, or signerId alone, are required",
                ));
            }
            _ => TaskOwner::Person {
                person: PersonKey::parse(
                    self.personal_code.as_deref().unwrap_or_default(),
                    self.country.as_deref().unwrap_or_default(),
                )?,
                signer: self.signer_id,
            },
        };
        Ok(SignerTaskFilter {
            owner,
            created_before: self.created_date_before,
            created_after: self.created_date_after,
            status: self.process_status,
            name_search: search_term(self.name_search),
            non_expired: self.non_expired.unwrap_or(false),
            now,
        })
    }
}
