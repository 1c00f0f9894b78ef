//! The signing process aggregate: its stored state, the fields derived from it, and its JSON
//! form (the seed's `SigningProcess`, `SigningProcessStep` and `ProcessStepSigner`).
//!
//! A [`SigningProcess`] is read through [`ProcessData`] (it derefs to it) and changed only
//! through the commands of [`crate::machine`], so that every change passes the state machine.

use std::ops::Deref;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::ids::{EntryId, ProcessId, StepId};
use crate::language::Language;
use crate::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};
use crate::values::{CountryCode, Email, PersonalCode};

/// Position of a step in its process; steps run in ascending order. Unique within a process
/// (rule 1) and never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProcessOrder(i32);

impl ProcessOrder {
    /// Accepts 0 and positive numbers.
    ///
    /// ```
    /// use pas_domain::process::ProcessOrder;
    /// assert_eq!(ProcessOrder::new(2).map(|o| o.get()), Some(2));
    /// assert!(ProcessOrder::new(-1).is_none());
    /// ```
    pub const fn new(value: i32) -> Option<Self> {
        if value >= 0 { Some(Self(value)) } else { None }
    }

    /// The number.
    pub const fn get(self) -> i32 {
        self.0
    }
}

/// What a client describes about a person in a step: everything of an entry except its id,
/// its status and the comment it leaves when it acts. Two entries with equal details are the
/// same to rule 8 ("an entry that already acted cannot change").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerDetails {
    /// Display name.
    pub signer_name: Option<String>,
    /// Country of the personal code.
    pub signer_country: Option<CountryCode>,
    /// National identification code; `None` makes the entry anonymous.
    pub signer_personal_code: Option<PersonalCode>,
    /// Where the entry's emails go.
    pub signer_email: Option<Email>,
    /// What the entry does.
    pub signer_role: SignerRole,
    /// A note from the initiator to this person.
    pub comment_for_signer: Option<String>,
    /// Whether the entry gets emails at all.
    pub signer_notification: bool,
    /// Language of the entry's emails.
    pub signer_language: Option<Language>,
}

/// One person in a role in a step (the seed's `ProcessStepSigner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Server-made id; the portal link carries it.
    pub id: EntryId,
    /// Who and in which role.
    pub details: SignerDetails,
    /// Where the entry stands.
    pub signing_status: SigningStatus,
    /// What the person wrote when acting (the decline reason, rule 5).
    pub signer_comment: Option<String>,
}

impl Entry {
    /// True exactly when the entry has no personal code (PRODUCT.md section 5).
    pub fn anonymous(&self) -> bool {
        self.details.signer_personal_code.is_none()
    }

    /// The entry's role.
    pub fn role(&self) -> SignerRole {
        self.details.signer_role
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EntryJson {
            entry: self,
            full: true,
        }
        .serialize(serializer)
    }
}

/// An entry's JSON: in full, or as another person's portal answer shows it (role, status,
/// and the name unless anonymous; no id, personal code, email or comments).
struct EntryJson<'a> {
    entry: &'a Entry,
    full: bool,
}

impl Serialize for EntryJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.entry;
        let d = &e.details;
        fn shown<T>(full: bool, v: Option<T>) -> Option<T> {
            v.filter(|_| full)
        }
        let full = self.full;
        let mut s = serializer.serialize_struct("ProcessStepSigner", 12)?;
        s.serialize_field("id", &shown(full, Some(e.id)))?;
        s.serialize_field(
            "signerName",
            &d.signer_name.as_ref().filter(|_| full || !e.anonymous()),
        )?;
        s.serialize_field("signerCountry", &shown(full, d.signer_country))?;
        s.serialize_field(
            "signerPersonalCode",
            &shown(full, d.signer_personal_code.as_ref()),
        )?;
        s.serialize_field("signerEmail", &shown(full, d.signer_email.as_ref()))?;
        s.serialize_field("signerRole", &d.signer_role)?;
        s.serialize_field("signerComment", &shown(full, e.signer_comment.as_ref()))?;
        s.serialize_field(
            "commentForSigner",
            &shown(full, d.comment_for_signer.as_ref()),
        )?;
        s.serialize_field("signingStatus", &e.signing_status)?;
        s.serialize_field("signerNotification", &d.signer_notification)?;
        s.serialize_field("signerLanguage", &shown(full, d.signer_language.as_ref()))?;
        s.serialize_field("anonymous", &e.anonymous())?;
        s.end()
    }
}

/// Whose entries a portal answer shows in full: `None` shows every entry in full.
type Own<'a> = Option<&'a [EntryId]>;

fn shows_in_full(own: Own<'_>, entry: &Entry) -> bool {
    own.is_none_or(|own| own.contains(&entry.id))
}

struct EntriesJson<'a> {
    entries: &'a [Entry],
    own: Own<'a>,
}

impl Serialize for EntriesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.entries.iter().map(|entry| EntryJson {
            entry,
            full: shows_in_full(self.own, entry),
        }))
    }
}

/// The fields of a step, written into a struct being serialised (a step of its own, or
/// flattened into a signer's step with its process id).
pub(crate) fn step_fields<S: SerializeStruct>(
    s: &mut S,
    step: &ProcessStep,
    own: Own<'_>,
) -> Result<(), S::Error> {
    s.serialize_field("id", &step.id)?;
    s.serialize_field("processOrder", &step.process_order)?;
    s.serialize_field("stepStatus", &step.step_status)?;
    s.serialize_field("dueDate", &step.due_date.map(Rfc3339))?;
    s.serialize_field(
        "processStepSigners",
        &EntriesJson {
            entries: &step.entries,
            own,
        },
    )
}

struct StepJson<'a> {
    step: &'a ProcessStep,
    own: Own<'a>,
}

impl Serialize for StepJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SigningProcessStep", 5)?;
        step_fields(&mut s, self.step, self.own)?;
        s.end()
    }
}

/// One recipient group of a process (the seed's `SigningProcessStep`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStep {
    /// Server-made id.
    pub id: StepId,
    /// Position in the process.
    pub process_order: ProcessOrder,
    /// Where the step stands.
    pub step_status: StepStatus,
    /// After this instant the step's tasks have expired (rule 3).
    pub due_date: Option<OffsetDateTime>,
    /// The people of the step, acting in parallel.
    pub entries: Vec<Entry>,
}

impl Serialize for ProcessStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StepJson {
            step: self,
            own: None,
        }
        .serialize(serializer)
    }
}

impl ProcessStep {
    /// The step's tasks expired: its due date is before `now` (rule 3).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.due_date.is_some_and(|due| due < now)
    }

    /// Every SIGNER and APPROVER entry has signed or approved (rule 4); true for a step
    /// without any.
    pub fn all_required_done(&self) -> bool {
        self.entries
            .iter()
            .filter(|e| e.role().must_act())
            .all(|e| {
                matches!(
                    e.signing_status,
                    SigningStatus::Signed | SigningStatus::Approved
                )
            })
    }
}

/// The text fields of a process: what a client writes, apart from its steps and status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessHeader {
    /// Email of the initiator; PROCESS_* emails go there.
    pub process_initiator_email: Option<Email>,
    /// The document being signed (stored elsewhere). Fixed once the process starts.
    pub document_id: String,
    /// Display name of the document.
    pub document_name: Option<String>,
    /// Username or code of the initiator.
    pub initiator: Option<String>,
    /// General comment.
    pub comment: Option<String>,
    /// Type or classification of the document.
    pub document_type: Option<String>,
    /// Owner group; lists of non-admins are filtered by it.
    pub owner_group: Option<String>,
    /// Display name of the initiator.
    pub initiator_name: Option<String>,
}

/// Everything stored about a process. Read it through a [`SigningProcess`]; persistence
/// adapters build one with [`SigningProcess::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessData {
    /// Server-made id (or a client UUID not used before).
    pub id: ProcessId,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Client-written text fields.
    pub header: ProcessHeader,
    /// The steps, in ascending `process_order`.
    pub steps: Vec<ProcessStep>,
    /// Where the process stands.
    pub status: ProcessStatus,
    /// When it completed (rule 4).
    pub completed_at: Option<OffsetDateTime>,
    /// Optimistic-concurrency version; every successful command adds one. Backs the `ETag`.
    pub version: i64,
    /// Set by delete (rule 9): the process is hidden from every read.
    pub deleted_at: Option<OffsetDateTime>,
}

impl ProcessData {
    /// Every entry, in step order (the derived `signers` list).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.steps.iter().flat_map(|s| s.entries.iter())
    }

    /// Count of SIGNER and APPROVER entries (derived `totalSigners`).
    pub fn total_signers(&self) -> usize {
        self.entries().filter(|e| e.role().must_act()).count()
    }

    /// Count of those that signed or approved (derived `totalSigned`).
    pub fn total_signed(&self) -> usize {
        self.entries()
            .filter(|e| {
                matches!(
                    e.signing_status,
                    SigningStatus::Signed | SigningStatus::Approved
                )
            })
            .count()
    }

    /// The STARTED step, if any (derived `currentInProgressStep`).
    pub fn current_step(&self) -> Option<&ProcessStep> {
        self.steps
            .iter()
            .find(|s| s.step_status == StepStatus::Started)
    }

    /// Derived `canceled`.
    pub fn canceled(&self) -> bool {
        self.status == ProcessStatus::Canceled
    }

    /// The step holding an entry, and the entry.
    pub fn find_entry(&self, id: EntryId) -> Option<(&ProcessStep, &Entry)> {
        self.steps
            .iter()
            .find_map(|s| s.entries.iter().find(|e| e.id == id).map(|e| (s, e)))
    }

    /// A step by id.
    pub fn find_step(&self, id: StepId) -> Option<&ProcessStep> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The `ETag` of this version: a quoted strong validator.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A signing process: an ordered list of steps whose entries act in parallel.
///
/// Reading goes through `Deref` to [`ProcessData`]; changing goes through the commands of
/// [`crate::machine`], which return the events each change produced.
///
/// ```
/// use pas_domain::prelude::*;
///
/// let ids = SequentialIds::default();
/// let now = time::macros::datetime!(2026-03-01 10:00 UTC);
/// let input: ProcessInput = serde_json::from_value(serde_json::json!({
///     "documentId": "doc-1",
///     "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
///         {"signerRole": "SIGNER", "signerName": "Anna", "signerNotification": false}
///     ]}]
/// })).unwrap();
/// let (process, _change) = SigningProcess::create(input.validate().unwrap(), &ids, now).unwrap();
/// assert_eq!(process.status, ProcessStatus::Pending);
/// assert_eq!(process.total_signers(), 1);
/// assert!(process.entries().all(|s| s.anonymous()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningProcess {
    pub(crate) data: ProcessData,
}

impl SigningProcess {
    /// Rebuilds a process from storage. The data is trusted: it was produced by the commands.
    pub fn restore(data: ProcessData) -> Self {
        Self { data }
    }

    /// Gives up the aggregate for its data.
    pub fn into_data(self) -> ProcessData {
        self.data
    }
}

impl Deref for SigningProcess {
    type Target = ProcessData;
    fn deref(&self) -> &ProcessData {
        &self.data
    }
}

impl Serialize for ProcessData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProcessJson {
            data: self,
            own: None,
        }
        .serialize(serializer)
    }
}

/// A process as a portal caller sees it (PRODUCT.md section 10): the caller's own entries
/// in full, every other entry with its role, status and (unless anonymous) name only, so
/// that no answer gives one person another entry's id, personal code or email.
///
/// ```
/// use pas_domain::prelude::*;
/// use pas_domain::process::PortalView;
///
/// let ids = SequentialIds::default();
/// let now = time::macros::datetime!(2026-03-01 10:00 UTC);
/// let input: ProcessInput = serde_json::from_value(serde_json::json!({
///     "documentId": "doc-1",
///     "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
///         {"signerRole": "SIGNER", "signerName": "Anna", "signerEmail": "anna@example.lv", "signerNotification": false},
///         {"signerRole": "SIGNER", "signerName": "Juris", "signerEmail": "juris@example.lv", "signerNotification": false}
///     ]}]
/// })).unwrap();
/// let (process, _) = SigningProcess::create(input.validate().unwrap(), &ids, now).unwrap();
/// let anna = process.steps[0].entries[0].id;
/// let json = serde_json::to_value(PortalView::new(process.into_data(), vec![anna])).unwrap();
/// let juris = &json["signingProcessSteps"][0]["processStepSigners"][1];
/// assert!(juris["id"].is_null() && juris["signerEmail"].is_null());
/// assert_eq!(json["signingProcessSteps"][0]["processStepSigners"][0]["signerEmail"], "anna@example.lv");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalView {
    /// The whole process.
    pub process: ProcessData,
    /// The caller's own entries.
    pub own: Vec<EntryId>,
}

impl PortalView {
    /// The process as the owner of the entries `own` sees it.
    pub fn new(process: ProcessData, own: Vec<EntryId>) -> Self {
        Self { process, own }
    }
}

impl Serialize for PortalView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProcessJson {
            data: &self.process,
            own: Some(&self.own),
        }
        .serialize(serializer)
    }
}

struct ProcessJson<'a> {
    data: &'a ProcessData,
    own: Own<'a>,
}

impl Serialize for ProcessJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (p, own) = (self.data, self.own);
        let h = &p.header;
        let steps: Vec<StepJson<'_>> = p.steps.iter().map(|step| StepJson { step, own }).collect();
        let signers: Vec<EntryJson<'_>> = p
            .entries()
            .map(|entry| EntryJson {
                entry,
                full: shows_in_full(own, entry),
            })
            .collect();
        let current = p.current_step().map(|step| StepJson { step, own });
        let mut s = serializer.serialize_struct("SigningProcess", 18)?;
        s.serialize_field("id", &p.id)?;
        s.serialize_field("createdAt", &Rfc3339(p.created_at))?;
        s.serialize_field("signingProcessSteps", &steps)?;
        s.serialize_field("processInitiatorEmail", &h.process_initiator_email)?;
        s.serialize_field("documentId", &h.document_id)?;
        s.serialize_field("documentName", &h.document_name)?;
        s.serialize_field("initiator", &h.initiator)?;
        s.serialize_field("comment", &h.comment)?;
        s.serialize_field("canceled", &p.canceled())?;
        s.serialize_field("status", &p.status)?;
        s.serialize_field("documentType", &h.document_type)?;
        s.serialize_field("ownerGroup", &h.owner_group)?;
        s.serialize_field("completedAt", &p.completed_at.map(Rfc3339))?;
        s.serialize_field("initiatorName", &h.initiator_name)?;
        s.serialize_field("totalSigners", &p.total_signers())?;
        s.serialize_field("totalSigned", &p.total_signed())?;
        s.serialize_field("signers", &signers)?;
        s.serialize_field("currentInProgressStep", &current)?;
        s.end()
    }
}

impl Serialize for SigningProcess {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.data.serialize(serializer)
    }
}

/// Serialises a timestamp as RFC 3339.
pub(crate) struct Rfc3339(pub(crate) OffsetDateTime);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(&self.0, serializer)
    }
}
