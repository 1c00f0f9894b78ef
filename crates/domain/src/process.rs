//! The signing process aggregate: its stored state and the fields derived from it (the
//! seed's `SigningProcess`, `SigningProcessStep` and `ProcessStepSigner`). Their JSON is the
//! HTTP adapter's (`crates/http/src/wire`); what a portal caller may see of it is decided
//! here ([`PortalView::shows_in_full`]).
//!
//! A [`SigningProcess`] is read through [`ProcessData`] (it derefs to it) and changed only
//! through the commands of [`crate::machine`], so that every change passes the state machine.

use std::ops::Deref;

use time::OffsetDateTime;

use crate::ids::{EntryId, ProcessId, StepId};
use crate::language::Language;
use crate::status::{ProcessStatus, SignerRole, SigningStatus, StepStatus};
use crate::values::{CountryCode, Email, PersonalCode};

/// Position of a step in its process; steps run in ascending order. Unique within a process
/// (rule 1) and never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
/// let view = PortalView::new(process.into_data(), vec![anna]);
/// let [own, other] = &view.process.steps[0].entries[..] else { unreachable!() };
/// assert!(view.shows_in_full(own) && !view.shows_in_full(other));
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

    /// Whether the caller sees `entry` in full: only its own entries. Of every other entry
    /// an answer shows the role, the status and, unless the entry is anonymous, the name.
    pub fn shows_in_full(&self, entry: &Entry) -> bool {
        self.own.contains(&entry.id)
    }
}
