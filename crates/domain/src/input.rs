//! What clients send, as plain values with every field optional and read-only fields
//! left out, and their validation into typed drafts. The HTTP adapter parses its JSON bodies
//! into these; with the `serde` feature they also read the seed's JSON directly (for
//! embedders). A draft holds only well-formed values;
//! whether it is complete enough to start is the state machine's question (rule 2).

use std::collections::HashSet;
use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ValidationErrors;
use crate::ids::{EntryId, ProcessId, StepId};
use crate::language::Language;
use crate::process::{ProcessHeader, ProcessOrder, SignerDetails};
use crate::status::{ProcessStatus, SignerRole, SigningStatus};
use crate::timestamp::truncate;
use crate::values::{CountryCode, Email, PersonalCode};

/// Longest accepted short text (names, ids, types, groups).
pub const MAX_TEXT: usize = 255;
/// Longest accepted comment.
pub const MAX_COMMENT: usize = 4000;
/// Most steps in one process, and most entries in one step.
pub const MAX_ITEMS: usize = 100;

/// A signing process as a client writes it (create, update, test email). Read-only fields of
/// the seed (`createdAt`, `totalSigners`, `signers`, `canceled`, …) are not read at all.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct ProcessInput {
    /// A client-chosen id (create only; must not be in use).
    pub id: Option<Uuid>,
    /// The steps.
    #[cfg_attr(feature = "serde", serde(default))]
    pub signing_process_steps: Vec<StepInput>,
    /// Initiator's email.
    pub process_initiator_email: Option<String>,
    /// The document.
    pub document_id: Option<String>,
    /// Display name of the document.
    pub document_name: Option<String>,
    /// Username or code of the initiator.
    pub initiator: Option<String>,
    /// General comment.
    pub comment: Option<String>,
    /// PENDING (draft) or STARTED on create; on update a change means start or cancel.
    pub status: Option<ProcessStatus>,
    /// Document type.
    pub document_type: Option<String>,
    /// Owner group.
    pub owner_group: Option<String>,
    /// Display name of the initiator.
    pub initiator_name: Option<String>,
}

/// A step as a client writes it (`stepStatus` is read-only and not read).
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct StepInput {
    /// Id of an existing step (update); absent for a new one.
    pub id: Option<Uuid>,
    /// Position; defaults to the step's 1-based position in the list.
    pub process_order: Option<i32>,
    /// When the step's tasks expire.
    #[cfg_attr(
        feature = "serde",
        serde(default, with = "time::serde::rfc3339::option")
    )]
    pub due_date: Option<OffsetDateTime>,
    /// The entries.
    #[cfg_attr(feature = "serde", serde(default))]
    pub process_step_signers: Vec<EntryInput>,
}

/// An entry as a client writes it (`anonymous` is derived and not read).
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct EntryInput {
    /// Id of an existing entry (update); absent for a new one.
    pub id: Option<Uuid>,
    /// Display name.
    pub signer_name: Option<String>,
    /// ISO country code of the personal code.
    pub signer_country: Option<String>,
    /// Personal code; empty or absent makes the entry anonymous.
    pub signer_personal_code: Option<String>,
    /// Email.
    pub signer_email: Option<String>,
    /// Role (required).
    pub signer_role: Option<SignerRole>,
    /// The person's own comment; the decline reason in `updateProcessStep`.
    pub signer_comment: Option<String>,
    /// A note to the person.
    pub comment_for_signer: Option<String>,
    /// Read only by `updateProcessStep`, where a change is applied as an action (rule 8).
    pub signing_status: Option<SigningStatus>,
    /// Whether the entry gets emails; defaults to `true`.
    pub signer_notification: Option<bool>,
    /// Language tag of the entry's emails.
    pub signer_language: Option<String>,
}

impl fmt::Debug for EntryInput {
    // The personal code never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryInput")
            .field("id", &self.id)
            .field("signer_role", &self.signer_role)
            .field("signing_status", &self.signing_status)
            .finish_non_exhaustive()
    }
}

/// A validated process as a client wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessDraft {
    /// Client-chosen id (create only).
    pub id: Option<ProcessId>,
    /// Text fields.
    pub header: ProcessHeader,
    /// Requested status, if any.
    pub status: Option<ProcessStatus>,
    /// Steps, in the order given.
    pub steps: Vec<StepDraft>,
}

/// A validated step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDraft {
    /// Existing step, or `None` for a new one.
    pub id: Option<StepId>,
    /// Position.
    pub process_order: ProcessOrder,
    /// Due date, truncated to microseconds.
    pub due_date: Option<OffsetDateTime>,
    /// Entries, in the order given.
    pub entries: Vec<EntryDraft>,
}

/// A validated entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    /// Existing entry, or `None` for a new one.
    pub id: Option<EntryId>,
    /// Who and in which role.
    pub details: SignerDetails,
    /// The person's comment (decline reason).
    pub signer_comment: Option<String>,
    /// A status the client asks for (`updateProcessStep` only).
    pub signing_status: Option<SigningStatus>,
}

/// Trims, turns blank into `None`, and checks the length.
pub(crate) fn text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    let value = value?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters long"));
        return None;
    }
    Some(trimmed.to_owned())
}

/// Parses an optional email, recording a failure.
pub(crate) fn email(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<String>,
) -> Option<Email> {
    let raw = text(errors, field, value, 254)?;
    Email::parse(&raw)
        .map_err(|e| errors.push(field, e.to_string()))
        .ok()
}

/// Parses an optional country and personal code pair, recording failures.
pub(crate) fn identity(
    errors: &mut ValidationErrors,
    country_field: &str,
    code_field: &str,
    country: Option<String>,
    code: Option<String>,
) -> (Option<CountryCode>, Option<PersonalCode>) {
    let country = text(errors, country_field, country, 8).and_then(|raw| {
        CountryCode::parse(&raw)
            .map_err(|e| errors.push(country_field, e.to_string()))
            .ok()
    });
    let code = match (text(errors, code_field, code, 64), country) {
        (None, _) => None,
        (Some(raw), Some(country)) => PersonalCode::parse(&raw, country)
            .map_err(|e| errors.push(code_field, e.to_string()))
            .ok(),
        (Some(_), None) => {
            errors.push(country_field, "is required with a personal code");
            None
        }
    };
    (country, code)
}

impl ProcessInput {
    /// Checks every field's format and rule 1 (unique `processOrder`), collecting every
    /// failure with its JSON path.
    ///
    /// ```
    /// use pas_domain::input::ProcessInput;
    /// let input: ProcessInput = serde_json::from_value(serde_json::json!({
    ///     "documentId": "doc-1",
    ///     "processInitiatorEmail": "not an email",
    /// })).unwrap();
    /// let errors = input.validate().unwrap_err();
    /// assert_eq!(errors.errors[0].field, "processInitiatorEmail");
    /// ```
    pub fn validate(self) -> Result<ProcessDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let document_id = text(&mut errors, "documentId", self.document_id, MAX_TEXT);
        if document_id.is_none() && !errors.errors.iter().any(|e| e.field == "documentId") {
            errors.push("documentId", "is required");
        }
        let header = ProcessHeader {
            process_initiator_email: email(
                &mut errors,
                "processInitiatorEmail",
                self.process_initiator_email,
            ),
            document_id: document_id.unwrap_or_default(),
            document_name: text(&mut errors, "documentName", self.document_name, MAX_TEXT),
            initiator: text(&mut errors, "initiator", self.initiator, MAX_TEXT),
            comment: text(&mut errors, "comment", self.comment, MAX_COMMENT),
            document_type: text(&mut errors, "documentType", self.document_type, MAX_TEXT),
            owner_group: text(&mut errors, "ownerGroup", self.owner_group, MAX_TEXT),
            initiator_name: text(&mut errors, "initiatorName", self.initiator_name, MAX_TEXT),
        };
        if self.signing_process_steps.len() > MAX_ITEMS {
            errors.push("signingProcessSteps", format!("at most {MAX_ITEMS} steps"));
        }
        let mut orders = HashSet::new();
        let mut steps = Vec::with_capacity(self.signing_process_steps.len());
        for (i, step) in self.signing_process_steps.into_iter().enumerate() {
            let path = format!("signingProcessSteps[{i}]");
            if let Some(step) = step.validate(&mut errors, &path, i) {
                if !orders.insert(step.process_order) {
                    errors.push(
                        format!("{path}.processOrder"),
                        "must be unique within the process (rule 1)",
                    );
                }
                steps.push(step);
            }
        }
        errors.into_result(ProcessDraft {
            id: self.id.map(ProcessId::from_uuid),
            header,
            status: self.status,
            steps,
        })
    }
}

impl StepInput {
    /// Validates a step sent on its own (`updateProcessStep`), collecting every failure with
    /// its JSON path relative to the step. `processOrder` is required here: a default would
    /// silently move the step.
    ///
    /// ```
    /// use pas_domain::input::StepInput;
    /// let input: StepInput = serde_json::from_value(serde_json::json!({
    ///     "processOrder": 2,
    ///     "processStepSigners": [{"signerRole": "SIGNER", "signerEmail": "nope"}]
    /// })).unwrap();
    /// let errors = input.into_draft().unwrap_err();
    /// assert_eq!(errors.errors[0].field, "processStepSigners[0].signerEmail");
    /// ```
    pub fn into_draft(self) -> Result<StepDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.process_order.is_none() {
            errors.push("processOrder", "is required");
        }
        let draft = self.validate(&mut errors, "", 0);
        for e in &mut errors.errors {
            if let Some(relative) = e.field.strip_prefix('.') {
                e.field = relative.to_owned();
            }
        }
        match draft {
            Some(draft) if errors.is_empty() => Ok(draft),
            _ => Err(errors),
        }
    }

    /// Validates one step; `position` gives the default order.
    pub(crate) fn validate(
        self,
        errors: &mut ValidationErrors,
        path: &str,
        position: usize,
    ) -> Option<StepDraft> {
        let default_order = i32::try_from(position + 1).unwrap_or(i32::MAX);
        let order = ProcessOrder::new(self.process_order.unwrap_or(default_order));
        if order.is_none() {
            errors.push(format!("{path}.processOrder"), "must not be negative");
        }
        if self.process_step_signers.len() > MAX_ITEMS {
            errors.push(
                format!("{path}.processStepSigners"),
                format!("at most {MAX_ITEMS} entries"),
            );
        }
        let mut seen = HashSet::new();
        let signers: Vec<EntryDraft> = self
            .process_step_signers
            .into_iter()
            .enumerate()
            .filter_map(|(j, s)| {
                let spath = format!("{path}.processStepSigners[{j}]");
                if let Some(id) = s.id {
                    if !seen.insert(id) {
                        errors.push(format!("{spath}.id"), "appears twice");
                    }
                }
                s.validate(errors, &spath)
            })
            .collect();
        Some(StepDraft {
            id: self.id.map(StepId::from_uuid),
            process_order: order?,
            due_date: self.due_date.map(truncate),
            entries: signers,
        })
    }
}

impl EntryInput {
    fn validate(self, errors: &mut ValidationErrors, path: &str) -> Option<EntryDraft> {
        let (country, code) = identity(
            errors,
            &format!("{path}.signerCountry"),
            &format!("{path}.signerPersonalCode"),
            self.signer_country,
            self.signer_personal_code,
        );
        let language_field = format!("{path}.signerLanguage");
        let language = text(errors, &language_field, self.signer_language, 35).and_then(|raw| {
            Language::parse(&raw)
                .map_err(|e| errors.push(language_field.as_str(), e.to_string()))
                .ok()
        });
        let role = self.signer_role;
        if role.is_none() {
            errors.push(format!("{path}.signerRole"), "is required");
        }
        let details = SignerDetails {
            signer_name: text(
                errors,
                &format!("{path}.signerName"),
                self.signer_name,
                MAX_TEXT,
            ),
            signer_country: country,
            signer_personal_code: code,
            signer_email: email(errors, &format!("{path}.signerEmail"), self.signer_email),
            signer_role: role?,
            comment_for_signer: text(
                errors,
                &format!("{path}.commentForSigner"),
                self.comment_for_signer,
                MAX_COMMENT,
            ),
            signer_notification: self.signer_notification.unwrap_or(true),
            signer_language: language,
        };
        Some(EntryDraft {
            id: self.id.map(EntryId::from_uuid),
            details,
            signer_comment: text(
                errors,
                &format!("{path}.signerComment"),
                self.signer_comment,
                MAX_COMMENT,
            ),
            signing_status: self.signing_status,
        })
    }
}
