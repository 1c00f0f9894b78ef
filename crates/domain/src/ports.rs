//! The ports: what the domain needs from the outside world, as traits. Adapters implement
//! them (`pas-persistence` the stores, the app the clock and ids); tests use the mockall mocks
//! that the `mocks` feature exposes (`MockProcessRepository`, …).

use crate::error::Missing;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{AuditFilter, AuditTrail, AuditingEvent, CheckpointChain, NewAuditEvent};
use crate::catalog::{DocumentAttribute, DocumentProfile};
use crate::contact::{Contact, ContactFilter};
use crate::erasure::{ErasedElsewhere, Erasure};
use crate::events::Change;
use crate::ids::{
    AttributeId, ContactId, EntryId, ProcessId, ProfileId, StepId, SubscriptionId, TemplateId,
};
use crate::notify::{NotificationIntent, RecipientRole};
use crate::outbox::{CheckpointMail, OutboxEntry, OutboxFilter, OutboxPayload};
use crate::paging::{
    AttemptSort, AuditSort, ContactSort, OutboxSort, Page, PageRequest, ProcessSort, TaskSort,
    TemplateSort, WebhookSort,
};
use crate::process::ProcessData;
use crate::process::SigningProcess;
use crate::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter};
use crate::status::EventType;
use crate::task::SignerTask;
use crate::template::{Template, TemplateFilter};
use crate::webhook::{AttemptEffect, DeliveryAttempt, Subscription, WebhookAnswer, WebhookRequest};

/// Why a store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// Another change of the same process committed first (optimistic concurrency).
    #[error("the process was changed concurrently (expected version {expected})")]
    VersionConflict {
        /// The version the change was based on.
        expected: i64,
    },
    /// An id or unique key is already used.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// A row is still referenced (e.g. an attribute used by a profile).
    #[error("{0} is still in use")]
    InUse(&'static str),
    /// The row does not exist (for updates and deletes).
    #[error("{0} not found")]
    NotFound(Missing),
    /// The database failed; the text is for logs, never for clients.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The database is unreachable, did not answer within the configured bound, or is
    /// locked by someone else: a temporary condition worth retrying (503 with
    /// `Retry-After`). The text is for logs, never for clients.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// Current time. Implementations return UTC truncated to microseconds.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        crate::timestamp::truncate(OffsetDateTime::now_utc())
    }
}

/// A clock that always answers the same instant (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// New ids.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait IdSource: Send + Sync {
    /// A new, never used id.
    fn new_id(&self) -> Uuid;

    /// A new id that is a secret too: an entry's id is the key of an anonymous portal link,
    /// so it carries 122 random bits (UUID v4), not a timestamp (PRODUCT.md section 10).
    fn new_secret_id(&self) -> Uuid;

    /// 32 bytes for a webhook signing secret: two secret ids, 244 random bits.
    fn new_secret_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(32);
        bytes.extend_from_slice(self.new_secret_id().as_bytes());
        bytes.extend_from_slice(self.new_secret_id().as_bytes());
        bytes
    }
}

/// Time-ordered UUID v7 ids: index-friendly and unguessable enough for portal links.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdSource for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn new_secret_id(&self) -> Uuid {
        Uuid::new_v4()
    }
}

/// Deterministic ids `00000000-0000-7000-8000-000000000001`, `…2`, … for tests and examples.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
    }

    /// The same sequence, shaped as version 4 (`…-4000-8000-…`), so that tests stay
    /// deterministic.
    fn new_secret_id(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
    }
}

/// A change to save: the events become audit rows (with the caller's details) and the
/// notifications become outbox rows, in the same transaction as the state (rule 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// Audit rows to append, in order.
    pub audit: Vec<NewAuditEvent>,
    /// The command's change.
    pub change: Change,
    /// When set, the store records the key and refuses (`Duplicate`) a second change with
    /// the same key: what makes reminders idempotent per day.
    pub idempotency_key: Option<String>,
}

/// Signing processes.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ProcessRepository: Send + Sync {
    /// Stores a new process with its change. `Duplicate` when the id is used.
    async fn insert(&self, process: &SigningProcess, changes: &ChangeSet) -> Result<(), RepoError>;
    /// Stores `after`, the process `before` became by a command, if the stored version is
    /// still `before.version` (else `VersionConflict`), with its change, in one
    /// transaction. Knowing both states lets a store write only the rows that differ.
    async fn save(
        &self,
        before: &SigningProcess,
        after: &SigningProcess,
        changes: &ChangeSet,
    ) -> Result<(), RepoError>;
    /// Appends audit rows and outbox rows for a process without changing it (reminders,
    /// resent emails, authorisations).
    async fn record(&self, process: ProcessId, changes: &ChangeSet) -> Result<(), RepoError>;
    /// A process that is not deleted.
    async fn get(&self, id: ProcessId) -> Result<Option<SigningProcess>, RepoError>;
    /// A process even if it was deleted: the outbox dispatcher renders emails queued before
    /// a delete (a cancel's emails, say) from it.
    async fn get_including_deleted(
        &self,
        id: ProcessId,
    ) -> Result<Option<SigningProcess>, RepoError>;
    /// The process holding a step.
    async fn get_by_step(&self, step: StepId) -> Result<Option<SigningProcess>, RepoError>;
    /// The process holding an entry.
    async fn get_by_entry(&self, signer: EntryId) -> Result<Option<SigningProcess>, RepoError>;
    /// `listProcesses`.
    async fn list(
        &self,
        filter: &ProcessFilter,
        page: &PageRequest<ProcessSort>,
    ) -> Result<Page<SigningProcess>, RepoError>;
    /// `findProcesses`, `listProcessesByDocumentId`: newest first.
    async fn search(&self, search: &ProcessSearch) -> Result<Vec<SigningProcess>, RepoError>;
    /// Non-draft processes where the person has an entry, newest first
    /// (`listSignerSteps`, `listSignerDocuments`).
    async fn for_person(&self, person: &PersonKey) -> Result<Vec<SigningProcess>, RepoError>;
    /// `listSignerTasks`.
    async fn signer_tasks(
        &self,
        filter: &SignerTaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> Result<Page<SignerTask>, RepoError>;
    /// STARTED processes with an open SIGNER or APPROVER entry in a step due between the two
    /// instants (candidates for reminders).
    async fn due_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<SigningProcess>, RepoError>;
}

/// The audit log.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one event from another system, chained like every other event.
    async fn append(&self, event: &NewAuditEvent) -> Result<AuditingEvent, RepoError>;
    /// `GET /audit-events`.
    async fn list(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
    ) -> Result<Page<AuditingEvent>, RepoError>;
    /// Every event of a process, oldest first, with the verdict of the hash chain.
    async fn trail(&self, process: ProcessId) -> Result<AuditTrail, RepoError>;
    /// The stored head (length and last hash) of every non-empty chain, for a checkpoint.
    async fn chain_heads(&self) -> Result<Vec<CheckpointChain>, RepoError>;
}

/// The answer of [`AttemptLedger::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The attempt is counted for every key under the id `attempt`; `fills[i]` says that key
    /// `i` is at its limit with it (should the attempt fail).
    Admitted {
        /// The id to take the attempt back with ([`AttemptLedger::forgive`]).
        attempt: Uuid,
        /// Per key, in the order given: the attempt fills the key's window.
        fills: Vec<bool>,
    },
    /// A key is at its limit: nothing was counted; the wait until it has room again.
    Refused(std::time::Duration),
}

/// Failed portal authorizations within a sliding window, counted for every instance that
/// shares the store (PRODUCT.md sections 8 and 13). Keys are opaque to the store.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AttemptLedger: Send + Sync {
    /// Counts an attempt at `now` for every key, unless one of them already has `limit`
    /// attempts within `window` before `now`. Two instances admitting for the same key at
    /// once are serialised, so a limit is never passed by a race.
    async fn admit(
        &self,
        keys: &[String],
        limit: u32,
        window: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Admission, RepoError>;
    /// Takes back an admitted attempt that did not fail.
    async fn forgive(&self, attempt: Uuid) -> Result<(), RepoError>;
}

/// Scheduled jobs of instances sharing one store (PRODUCT.md section 13).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait JobRuns: Send + Sync {
    /// Claims the run `run` of the job `job` (the reminders of one day): `true` for the first
    /// claimer, `false` when another instance claimed it before.
    async fn claim_run(&self, job: &str, run: &str, now: OffsetDateTime)
    -> Result<bool, RepoError>;
}

/// Erasure of a person's data (PRODUCT.md section 11).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Every process with an entry of `person`, deleted ones and drafts included.
    async fn processes_of_person(
        &self,
        person: &PersonKey,
    ) -> Result<Vec<SigningProcess>, RepoError>;
    /// Writes `erasure` in one transaction: each process at the version it was read at
    /// (`VersionConflict` otherwise), the person's code, name, email and phone erased in
    /// contacts, the address of the erased entries' outbox rows erased, the audit rows
    /// appended.
    async fn erase(&self, erasure: &Erasure) -> Result<ErasedElsewhere, RepoError>;
}

/// Document profiles and attributes.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Inserts a profile and its attribute links.
    async fn insert_profile(&self, profile: &DocumentProfile) -> Result<(), RepoError>;
    /// Replaces a profile and its attribute links.
    async fn update_profile(&self, profile: &DocumentProfile) -> Result<(), RepoError>;
    /// Deletes a profile.
    async fn delete_profile(&self, id: ProfileId) -> Result<(), RepoError>;
    /// A profile with its attributes.
    async fn get_profile(&self, id: ProfileId) -> Result<Option<DocumentProfile>, RepoError>;
    /// A profile by exact name.
    async fn profile_by_name(&self, name: String) -> Result<Option<DocumentProfile>, RepoError>;
    /// Profiles, by `profileorder`, optionally of one owner group.
    async fn list_profiles(&self, group: Option<String>)
    -> Result<Vec<DocumentProfile>, RepoError>;
    /// Inserts an attribute.
    async fn insert_attribute(&self, attribute: &DocumentAttribute) -> Result<(), RepoError>;
    /// Replaces an attribute.
    async fn update_attribute(&self, attribute: &DocumentAttribute) -> Result<(), RepoError>;
    /// Deletes an attribute; `InUse` while a profile references it.
    async fn delete_attribute(&self, id: AttributeId) -> Result<(), RepoError>;
    /// An attribute.
    async fn get_attribute(&self, id: AttributeId) -> Result<Option<DocumentAttribute>, RepoError>;
    /// Every attribute, by name.
    async fn list_attributes(&self) -> Result<Vec<DocumentAttribute>, RepoError>;
}

/// Contacts.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Inserts.
    async fn insert(&self, contact: &Contact) -> Result<(), RepoError>;
    /// Replaces.
    async fn update(&self, contact: &Contact) -> Result<(), RepoError>;
    /// Deletes.
    async fn delete(&self, id: ContactId) -> Result<(), RepoError>;
    /// One contact.
    async fn get(&self, id: ContactId) -> Result<Option<Contact>, RepoError>;
    /// Visible contacts matching the filter.
    async fn list(
        &self,
        filter: &ContactFilter,
        page: &PageRequest<ContactSort>,
    ) -> Result<Page<Contact>, RepoError>;
}

/// Process templates.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Inserts.
    async fn insert(&self, template: &Template) -> Result<(), RepoError>;
    /// Deletes.
    async fn delete(&self, id: TemplateId) -> Result<(), RepoError>;
    /// One template.
    async fn get(&self, id: TemplateId) -> Result<Option<Template>, RepoError>;
    /// Visible templates matching the filter.
    async fn list(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest<TemplateSort>,
    ) -> Result<Page<Template>, RepoError>;
}

/// One email waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Row id; also the stable `Message-ID` local part.
    pub id: Uuid,
    /// What to render and to whom.
    pub payload: OutboxPayload,
    /// Send attempts made so far.
    pub attempts: u32,
    /// When the row was written.
    pub created_at: OffsetDateTime,
    /// When its delivery started (the write, or the last `POST /outbox/{id}/retry`):
    /// `MAIL_GIVE_UP_AFTER` counts from here.
    pub queued_at: OffsetDateTime,
}

impl OutboxMessage {
    /// The stable `Message-ID` of this email: the same on every attempt, so a receiver can
    /// drop a duplicate delivery.
    pub fn message_id(&self, host: &str) -> String {
        format!("<{}@{}>", self.id, host)
    }
}

/// A lease on claimed outbox rows: who holds them and the fencing token of this one claim.
/// Every claim has a fresh token; a row is settled, renewed or released only with the token
/// of the claim that holds it, so a dispatcher whose lease ran out (and whose rows another
/// one claimed since) cannot overwrite the other's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxLease {
    /// The instance (readable in the table, for operators).
    pub owner: String,
    /// The fencing token of the claim.
    pub token: Uuid,
}

/// The outbox: emails written with the change that caused them, sent later by a dispatcher
/// (PRODUCT.md sections 7 and 14). Several dispatchers may run at once; a claimed row is
/// leased to one claim (an [`OutboxLease`]) until the lease expires, and the holder renews
/// it while it works.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Writes emails that no process change caused.
    async fn enqueue(
        &self,
        intents: Vec<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// Writes the audit checkpoint email `mail` as the pending row `id`, due at `now`, in
    /// one transaction. `false`, and nothing written, when a row `id` exists already: the
    /// same scheduled run was queued before (by another instance), so it is not sent twice.
    async fn enqueue_checkpoint(
        &self,
        id: Uuid,
        mail: &CheckpointMail,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError>;
    /// Leases up to `limit` due rows (pending, next attempt reached, lease free or expired) to
    /// `lease` until `lease_until`. Two claimers never get the same row.
    async fn claim(
        &self,
        lease: OutboxLease,
        limit: u32,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<OutboxMessage>, RepoError>;
    /// Extends to `lease_until` every unsettled row of the claim `token` whose lease is still
    /// live at `now`; answers their ids. A row whose lease ran out is not renewed (another
    /// claim may hold it by now), and the claim's rows missing from the answer are no
    /// longer its to send: a send of one still in flight must be cut off.
    async fn renew(
        &self,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Uuid>, RepoError>;
    /// Right before a send: the row is still pending and leased to `token` with a live lease
    /// at `now`; its lease is extended to `lease_until`. `NotFound(OutboxLease)` otherwise.
    async fn hold(
        &self,
        id: Uuid,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// The row was delivered. `NotFound(OutboxLease)` unless `token` still holds it.
    async fn mark_sent(&self, id: Uuid, token: Uuid, now: OffsetDateTime) -> Result<(), RepoError>;
    /// The attempt failed; try again at `next_attempt_at`. `NotFound(OutboxLease)` unless
    /// `token` still holds it.
    async fn retry_later(
        &self,
        id: Uuid,
        token: Uuid,
        next_attempt_at: OffsetDateTime,
        error: String,
    ) -> Result<(), RepoError>;
    /// The row is given up; `notice` (the FAILURE email to `ADMIN_EMAIL`) is queued in the
    /// same transaction. `NotFound(OutboxLease)` (and no notice) unless `token` still holds
    /// it.
    async fn mark_failed(
        &self,
        id: Uuid,
        token: Uuid,
        error: String,
        notice: Option<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// Frees the unsettled rows of the claim `token` (a stopping dispatcher's rows it did not
    /// start), so that another instance takes them at once; answers how many.
    async fn release(&self, token: Uuid) -> Result<u64, RepoError>;
    /// `GET /outbox`.
    async fn list(
        &self,
        filter: &OutboxFilter,
        page: &PageRequest<OutboxSort>,
    ) -> Result<Page<OutboxEntry>, RepoError>;
    /// One row.
    async fn get(&self, id: Uuid) -> Result<Option<OutboxEntry>, RepoError>;
    /// `POST /outbox/{id}/retry`: a FAILED row becomes PENDING, due and queued at `now`.
    /// `false` when the row is not FAILED (or does not exist).
    async fn requeue(&self, id: Uuid, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Retention (`OUTBOX_KEEP_SENT`): deletes SENT rows sent before `sent_before`, at most
    /// `batch` of them per statement, each statement its own transaction, until one deletes
    /// fewer than `batch`; answers how many in all. Pending and failed rows, and rows without
    /// a send time, are never deleted. An error after some batches leaves those deleted.
    async fn purge_sent(
        &self,
        sent_before: OffsetDateTime,
        batch: NonZeroU32,
    ) -> Result<u64, RepoError>;
}

/// A change of a stored subscription, applied by [`WebhookStore::modify`] to the row as
/// stored (an edit's new fields, or a rotation).
pub type SubscriptionChange = Box<dyn FnOnce(&mut Subscription) + Send>;

/// Webhook subscriptions and their delivery log (PRODUCT.md section 12). The deliveries
/// themselves are outbox rows: the process store writes them with the change that caused
/// them, for every enabled subscription that [`Subscription::wants`] the event.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new subscription.
    async fn insert(
        &self,
        subscription: &Subscription,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// One subscription.
    async fn get(&self, id: SubscriptionId) -> Result<Option<Subscription>, RepoError>;
    /// Subscriptions of the owner groups `groups` (`None`: every subscription, those for
    /// every process included).
    async fn list<'a>(
        &self,
        groups: Option<&'a [String]>,
        page: &PageRequest<WebhookSort>,
    ) -> Result<Page<Subscription>, RepoError>;
    /// Applies `change` to the subscription as stored, with its row locked, and stores the
    /// result in the same transaction, so that a concurrent rotation, edit or disabling is
    /// never overwritten; answers the stored result. `NotFound(Subscription)` when it is
    /// gone.
    async fn modify(
        &self,
        id: SubscriptionId,
        change: SubscriptionChange,
    ) -> Result<Subscription, RepoError>;
    /// Deletes a subscription with its delivery log; its deliveries still pending are
    /// marked failed in the same transaction. `false` when there was none.
    async fn delete(&self, id: SubscriptionId, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Appends `attempt` to the log and, in the same transaction, applies
    /// [`Subscription::record_attempt`] with `effect` to the locked subscription. Answers
    /// whether this attempt disabled it; `false` (and nothing logged) when the subscription
    /// is gone.
    async fn record_attempt(
        &self,
        attempt: &DeliveryAttempt,
        effect: AttemptEffect,
    ) -> Result<bool, RepoError>;
    /// `POST /webhooks/{id}/deliveries/{deliveryId}/retry`: the subscription's delivery,
    /// sent or failed, becomes pending, due and queued at `now` (a whole retry period
    /// again). Answers the state it was in (a pending one is left as it is), `None` when
    /// the subscription has no such delivery (or it was purged).
    async fn requeue(
        &self,
        id: SubscriptionId,
        delivery: Uuid,
        now: OffsetDateTime,
    ) -> Result<Option<crate::status::OutboxState>, RepoError>;
    /// The attempts of a subscription, newest first by default.
    async fn attempts(
        &self,
        id: SubscriptionId,
        page: &PageRequest<AttemptSort>,
    ) -> Result<Page<DeliveryAttempt>, RepoError>;
}

/// Sends one signed webhook request to its checked address (the adapter: no redirects,
/// [`crate::webhook::TIMEOUT`], the answer cut at [`crate::webhook::ANSWER_BYTES`]).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Sends `request`; every failure is in the answer, none is an error.
    async fn send(&self, request: &WebhookRequest) -> WebhookAnswer;
}

/// How the delivery of an outbox row of another channel than email ended; the dispatcher
/// settles the row from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Delivered: the row is sent.
    Sent,
    /// Worth another attempt on the retry schedule (given up, with a FAILURE notice, once
    /// `MAIL_GIVE_UP_AFTER` has passed).
    Retry(String),
    /// Will fail again: given up now, with a FAILURE notice to `ADMIN_EMAIL`.
    GiveUp(String),
    /// Nowhere to deliver any more (the subscription was deleted or disabled): given up
    /// without a notice.
    Dropped(String),
}

/// Delivers outbox rows of a channel the dispatcher does not handle itself (webhooks).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Deliverer: Send + Sync {
    /// One attempt at `row`.
    async fn deliver(&self, row: &OutboxMessage) -> Delivered;
}

/// An email as sent: recipient and rendered subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// Recipient address.
    pub to: String,
    /// Rendered subject.
    pub subject: String,
}

/// Why the mail adapter could not render or send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The matrix has no (or a blank) template for this event and role.
    #[error("no email is configured for {event} to the {role}")]
    NoTemplate {
        /// Event.
        event: EventType,
        /// Matrix role.
        role: RecipientRole,
    },
    /// The process has no address for that role.
    #[error("the process has no {0} with an email address")]
    NoRecipient(RecipientRole),
    /// A template failed to render (the text is for logs).
    #[error("template error: {0}")]
    Render(String),
    /// The transport refused or failed (the text is for logs).
    #[error("mail transport error: {0}")]
    Transport(String),
}

/// Which languages `sendTestEmail` renders (its `language` query parameter).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TestLanguages {
    /// Each address in its own `signerLanguage`, through the fallback chain: exactly what a
    /// real notification would look like (no `language` parameter).
    #[default]
    Recipients,
    /// Every language the matrix has for the event and role: one email per language to each
    /// address, so that an operator can review every translation (`language=all`).
    All,
    /// This language for every address, through the fallback chain: what a recipient with
    /// this `signerLanguage` would get (`language=lt`).
    Only(crate::language::Language),
}

/// The mail adapter as the use cases and the HTTP edge need it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// `sendTestEmail`: renders the matrix entry of `event` for `role` with `process` in
    /// `languages` and sends it right away to that role's addresses in it, storing nothing.
    async fn send_test(
        &self,
        process: ProcessData,
        event: EventType,
        role: RecipientRole,
        languages: TestLanguages,
    ) -> Result<Vec<SentEmail>, MailError>;
    /// The subject the email of `intent` would have (used to answer `sendSignerEmail`);
    /// `None` when the matrix suppresses it.
    fn subject(
        &self,
        intent: &NotificationIntent,
        process: &ProcessData,
    ) -> Result<Option<String>, MailError>;
}
