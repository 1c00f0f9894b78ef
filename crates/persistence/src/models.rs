//! Rows of the tables and their conversions to and from domain types. Writing converts the
//! domain's values to text (`as_str`) and adds the lower-cased and normalised copies the
//! queries search; reading trusts what was written (`PersonalCode::from_stored`) but still
//! parses enums, emails and countries, and a value that does not parse is a storage failure
//! naming the column, never the value. Ids and digests come typed (`crate::columns`).

use std::collections::HashMap;
use std::str::FromStr;

use diesel::prelude::*;
use pas_domain::audit::{AuditingEvent, NewAuditEvent};
use pas_domain::catalog::{DocumentAttribute, DocumentProfile};
use pas_domain::contact::Contact;
use pas_domain::ids::ProcessId;
use pas_domain::notify::NotificationIntent;
use pas_domain::outbox::{CheckpointMail, OutboxEntry, OutboxPayload, truncate_error};
use pas_domain::ports::OutboxMessage;
use pas_domain::process::{
    Entry, ProcessData, ProcessHeader, ProcessOrder, ProcessStep, SignerDetails, SigningProcess,
};
use pas_domain::status::{OutboxChannel, OutboxKind, OutboxState, WebhookEventType};
use pas_domain::template::Template;
use pas_domain::values::{Email, PersonalCode};
use pas_domain::webhook::{DeliveryAttempt, Subscription, WebhookDelivery, WebhookSecret};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::columns::{DbDigest, DbId};
use crate::error::{Error, corrupt};
use crate::schema::{
    audit_events, contacts, document_attributes, document_profiles, entries, outbox, processes,
    profile_attributes, steps, templates, webhook_attempts, webhook_subscriptions,
};
use crate::search::{combined, lower};

/// An instant as stored: UTC, microseconds (what both backends keep exactly).
pub(crate) fn db_time(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = pas_domain::timestamp::truncate(t);
    PrimitiveDateTime::new(t.date(), t.time())
}

/// A stored instant.
pub(crate) fn utc(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

/// Midnight UTC starting `date`.
pub(crate) fn day_start(date: time::Date) -> PrimitiveDateTime {
    PrimitiveDateTime::new(date, time::Time::MIDNIGHT)
}

/// Midnight UTC ending `date` (the start of the next day), for inclusive date filters.
pub(crate) fn day_end(date: time::Date) -> PrimitiveDateTime {
    date.next_day().map_or(PrimitiveDateTime::MAX, day_start)
}

fn parse<T: FromStr>(raw: &str, column: &'static str) -> Result<T, Error> {
    raw.parse().map_err(|_| corrupt(column))
}

fn parse_opt<T: FromStr>(raw: Option<&str>, column: &'static str) -> Result<Option<T>, Error> {
    raw.map(|r| parse(r, column)).transpose()
}

fn text(value: Option<&impl AsRef<str>>) -> Option<String> {
    value.map(|v| v.as_ref().to_owned())
}

/// The key of the audit chain an event belongs to: its process, or the nil UUID.
pub(crate) fn chain_key(process: Option<ProcessId>) -> DbId {
    DbId(process.map_or(Uuid::nil(), |p| p.as_uuid()))
}

// ---------------------------------------------------------------------------------------
// Processes

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = processes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct ProcessRow {
    pub id: DbId,
    pub created_at: PrimitiveDateTime,
    pub status: String,
    pub completed_at: Option<PrimitiveDateTime>,
    pub version: i64,
    pub deleted_at: Option<PrimitiveDateTime>,
    pub initiator_email: Option<String>,
    pub document_id: String,
    pub document_name: Option<String>,
    pub initiator: Option<String>,
    pub comment: Option<String>,
    pub document_type: Option<String>,
    pub owner_group: Option<String>,
    pub initiator_name: Option<String>,
    pub document_name_lower: Option<String>,
    pub initiator_name_lower: Option<String>,
    pub search_names: String,
    pub search_emails: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = steps, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct StepRow {
    pub id: DbId,
    pub process_id: DbId,
    pub process_order: i32,
    pub step_status: String,
    pub due_date: Option<PrimitiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = entries, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct EntryRow {
    pub id: DbId,
    pub process_id: DbId,
    pub step_id: DbId,
    pub position: i32,
    pub signer_name: Option<String>,
    pub signer_country: Option<String>,
    pub personal_code: Option<String>,
    pub personal_code_norm: Option<String>,
    pub signer_email: Option<String>,
    pub signer_role: String,
    pub comment_for_signer: Option<String>,
    pub signer_notification: bool,
    pub signer_language: Option<String>,
    pub signing_status: String,
    pub signer_comment: Option<String>,
}

/// The rows of a process: the process, its steps and its entries.
pub(crate) struct ProcessRows {
    pub process: ProcessRow,
    pub steps: Vec<StepRow>,
    pub entries: Vec<EntryRow>,
}

impl ProcessRows {
    /// The rows that store `p`.
    pub(crate) fn of(p: &ProcessData) -> Self {
        let h = &p.header;
        let id = DbId::from(p.id);
        let process = ProcessRow {
            id,
            created_at: db_time(p.created_at),
            status: p.status.as_str().to_owned(),
            completed_at: p.completed_at.map(db_time),
            version: p.version,
            deleted_at: p.deleted_at.map(db_time),
            initiator_email: text(h.process_initiator_email.as_ref()),
            document_id: h.document_id.clone(),
            document_name: h.document_name.clone(),
            initiator: h.initiator.clone(),
            comment: h.comment.clone(),
            document_type: h.document_type.clone(),
            owner_group: h.owner_group.clone(),
            initiator_name: h.initiator_name.clone(),
            document_name_lower: lower(h.document_name.as_deref()),
            initiator_name_lower: lower(h.initiator_name.as_deref()),
            search_names: combined(
                [h.document_name.as_deref(), h.initiator_name.as_deref()]
                    .into_iter()
                    .chain(p.entries().map(|e| e.details.signer_name.as_deref())),
            ),
            search_emails: combined(
                [h.process_initiator_email.as_ref().map(Email::as_str)]
                    .into_iter()
                    .chain(
                        p.entries()
                            .map(|e| e.details.signer_email.as_ref().map(Email::as_str)),
                    ),
            ),
        };
        let mut steps = Vec::with_capacity(p.steps.len());
        let mut entries = Vec::new();
        for step in &p.steps {
            let step_id = DbId::from(step.id);
            steps.push(StepRow {
                id: step_id,
                process_id: id,
                process_order: step.process_order.get(),
                step_status: step.step_status.as_str().to_owned(),
                due_date: step.due_date.map(db_time),
            });
            for (position, e) in step.entries.iter().enumerate() {
                let (d, code) = (&e.details, e.details.signer_personal_code.as_ref());
                entries.push(EntryRow {
                    id: e.id.into(),
                    process_id: id,
                    step_id,
                    position: i32::try_from(position).unwrap_or(i32::MAX),
                    signer_name: d.signer_name.clone(),
                    signer_country: d.signer_country.map(|c| c.as_str().to_owned()),
                    personal_code: code.map(|c| c.as_str().to_owned()),
                    personal_code_norm: code.map(PersonalCode::normalized),
                    signer_email: text(d.signer_email.as_ref()),
                    signer_role: d.signer_role.as_str().to_owned(),
                    comment_for_signer: d.comment_for_signer.clone(),
                    signer_notification: d.signer_notification,
                    signer_language: d.signer_language.as_ref().map(|l| l.as_str().to_owned()),
                    signing_status: e.signing_status.as_str().to_owned(),
                    signer_comment: e.signer_comment.clone(),
                });
            }
        }
        Self {
            process,
            steps,
            entries,
        }
    }
}

impl ProcessRow {
    /// The process without its steps.
    pub(crate) fn into_data(self) -> Result<ProcessData, Error> {
        Ok(ProcessData {
            id: self.id.to(),
            created_at: utc(self.created_at),
            header: ProcessHeader {
                process_initiator_email: parse_opt(
                    self.initiator_email.as_deref(),
                    "processes.initiator_email",
                )?,
                document_id: self.document_id,
                document_name: self.document_name,
                initiator: self.initiator,
                comment: self.comment,
                document_type: self.document_type,
                owner_group: self.owner_group,
                initiator_name: self.initiator_name,
            },
            steps: Vec::new(),
            status: parse(&self.status, "processes.status")?,
            completed_at: self.completed_at.map(utc),
            version: self.version,
            deleted_at: self.deleted_at.map(utc),
        })
    }
}

impl StepRow {
    /// The step with `signers`.
    pub(crate) fn into_step(self, signers: Vec<Entry>) -> Result<ProcessStep, Error> {
        Ok(ProcessStep {
            id: self.id.to(),
            process_order: ProcessOrder::new(self.process_order)
                .ok_or_else(|| corrupt("steps.process_order"))?,
            step_status: parse(&self.step_status, "steps.step_status")?,
            due_date: self.due_date.map(utc),
            entries: signers,
        })
    }
}

impl EntryRow {
    /// The entry.
    pub(crate) fn into_entry(self) -> Result<Entry, Error> {
        Ok(Entry {
            id: self.id.to(),
            details: SignerDetails {
                signer_name: self.signer_name,
                signer_country: parse_opt(
                    self.signer_country.as_deref(),
                    "entries.signer_country",
                )?,
                signer_personal_code: self.personal_code.map(PersonalCode::from_stored),
                signer_email: parse_opt(self.signer_email.as_deref(), "entries.signer_email")?,
                signer_role: parse(&self.signer_role, "entries.signer_role")?,
                comment_for_signer: self.comment_for_signer,
                signer_notification: self.signer_notification,
                signer_language: parse_opt(
                    self.signer_language.as_deref(),
                    "entries.signer_language",
                )?,
            },
            signing_status: parse(&self.signing_status, "entries.signing_status")?,
            signer_comment: self.signer_comment,
        })
    }
}

/// Builds processes from their rows, keeping the order of `processes`. `steps` must be
/// ordered by `process_order` and `entries` by `position` within each step.
pub(crate) fn assemble(
    processes: Vec<ProcessRow>,
    steps: Vec<StepRow>,
    entries: Vec<EntryRow>,
) -> Result<Vec<SigningProcess>, Error> {
    let mut entries_of: HashMap<DbId, Vec<Entry>> = HashMap::new();
    for e in entries {
        let step = e.step_id;
        entries_of.entry(step).or_default().push(e.into_entry()?);
    }
    let mut steps_of: HashMap<DbId, Vec<ProcessStep>> = HashMap::new();
    for s in steps {
        let process = s.process_id;
        let signers = entries_of.remove(&s.id).unwrap_or_default();
        steps_of
            .entry(process)
            .or_default()
            .push(s.into_step(signers)?);
    }
    processes
        .into_iter()
        .map(|row| {
            let steps = steps_of.remove(&row.id).unwrap_or_default();
            let mut data = row.into_data()?;
            data.steps = steps;
            Ok(SigningProcess::restore(data))
        })
        .collect()
}

/// Adds the rows of steps left-joined with their entries (ordered by step) to `steps` and
/// `entries`: a step repeats on each row of its entries and comes once.
pub(crate) fn split_children(
    rows: impl IntoIterator<Item = (StepRow, Option<EntryRow>)>,
    steps: &mut Vec<StepRow>,
    entries: &mut Vec<EntryRow>,
) {
    for (step, entry) in rows {
        if steps.last().is_none_or(|last| last.id != step.id) {
            steps.push(step);
        }
        entries.extend(entry);
    }
}

/// The process of the rows of one process left-joined with its steps and their entries
/// (ordered by step, then entry); `None` for no rows.
pub(crate) fn assemble_joined(
    rows: Vec<(ProcessRow, Option<StepRow>, Option<EntryRow>)>,
) -> Result<Option<SigningProcess>, Error> {
    let mut rows = rows.into_iter().peekable();
    let Some(process) = rows.peek().map(|(p, _, _)| p.clone()) else {
        return Ok(None);
    };
    let (mut steps, mut entries) = (Vec::new(), Vec::new());
    let children = rows.filter_map(|(_, step, entry)| step.map(|s| (s, entry)));
    split_children(children, &mut steps, &mut entries);
    Ok(assemble(vec![process], steps, entries)?.pop())
}

// ---------------------------------------------------------------------------------------
// Audit

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub(crate) struct AuditRow {
    pub id: DbId,
    pub chain_key: DbId,
    pub sequence: i64,
    pub previous_hash: Option<DbDigest>,
    pub hash: DbDigest,
    pub created_at: PrimitiveDateTime,
    pub event_type: String,
    pub event_origin: Option<String>,
    pub creator: Option<String>,
    pub document_id: Option<String>,
    pub signer_id: Option<DbId>,
    pub customer_personal_code: Option<String>,
    pub note: Option<String>,
    pub process_id: Option<DbId>,
    pub ip_address: Option<String>,
    pub container_id: Option<String>,
    pub method: Option<String>,
    pub client_app_name: Option<String>,
    pub key_id: Option<String>,
    pub customer_pseudonym: Option<DbDigest>,
}

impl AuditRow {
    /// The row of a chained event.
    pub(crate) fn of(e: &AuditingEvent) -> Self {
        let ev = &e.event;
        Self {
            id: ev.id.into(),
            chain_key: chain_key(ev.process_id),
            sequence: e.sequence,
            previous_hash: e.previous_hash.clone().map(DbDigest),
            hash: DbDigest(e.hash.clone()),
            created_at: db_time(ev.created_at),
            event_type: ev.event_type.as_str().to_owned(),
            event_origin: ev.event_origin.clone(),
            creator: ev.creator.clone(),
            document_id: ev.document_id.clone(),
            signer_id: ev.signer_id.map(DbId::from),
            customer_personal_code: ev.customer_personal_code.clone(),
            note: ev.note.clone(),
            process_id: ev.process_id.map(DbId::from),
            ip_address: ev.ip_address.clone(),
            container_id: ev.container_id.clone(),
            method: ev.method.clone(),
            client_app_name: ev.client_app_name.clone(),
            key_id: e.key_id.clone(),
            customer_pseudonym: ev.customer_pseudonym.clone().map(DbDigest),
        }
    }

    /// The chained event.
    pub(crate) fn into_event(self) -> Result<AuditingEvent, Error> {
        let event = NewAuditEvent {
            id: self.id.to(),
            created_at: utc(self.created_at),
            event_type: parse(&self.event_type, "audit_events.event_type")?,
            event_origin: self.event_origin,
            creator: self.creator,
            document_id: self.document_id,
            signer_id: self.signer_id.map(DbId::to),
            customer_personal_code: self.customer_personal_code,
            note: self.note,
            process_id: self.process_id.map(DbId::to),
            ip_address: self.ip_address,
            container_id: self.container_id,
            method: self.method,
            client_app_name: self.client_app_name,
            customer_pseudonym: self.customer_pseudonym.map(|d| d.0),
        };
        Ok(AuditingEvent {
            event,
            sequence: self.sequence,
            previous_hash: self.previous_hash.map(|d| d.0),
            hash: self.hash.0,
            key_id: self.key_id,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Outbox

/// Outbox row states.
pub(crate) const PENDING: &str = "pending";
pub(crate) const SENT: &str = "sent";
pub(crate) const FAILED: &str = "failed";

/// The state of a stored `outbox.status`.
pub(crate) fn outbox_state(stored: &str) -> Result<OutboxState, Error> {
    match stored {
        PENDING => Ok(OutboxState::Pending),
        SENT => Ok(OutboxState::Sent),
        FAILED => Ok(OutboxState::Failed),
        _ => Err(corrupt("outbox.status")),
    }
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub(crate) struct OutboxRow {
    pub id: DbId,
    pub event_type: Option<String>,
    pub role: Option<String>,
    /// The recipient of an email (`None` for a webhook delivery).
    pub to_email: Option<String>,
    pub language: Option<String>,
    pub process_id: Option<DbId>,
    pub step_id: Option<DbId>,
    pub signer_id: Option<DbId>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: PrimitiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<PrimitiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub sent_at: Option<PrimitiveDateTime>,
    pub channel: String,
    pub lease_token: Option<String>,
    pub queued_at: PrimitiveDateTime,
    /// `NOTIFICATION`, `AUDIT_CHECKPOINT` or `WEBHOOK_EVENT` (`OutboxKind`); the table's
    /// check constraint ties it to the columns each kind fills.
    pub kind: String,
    /// An audit checkpoint row's checkpoint (`CheckpointSummary` as JSON), or a webhook
    /// delivery's body as it is sent.
    pub body: Option<String>,
    /// The subscription a webhook delivery goes to (`None` for an email).
    pub subscription_id: Option<String>,
}

impl OutboxRow {
    /// A new pending row for `intent`, due at once.
    pub(crate) fn pending(intent: &NotificationIntent, now: OffsetDateTime) -> Self {
        Self {
            event_type: Some(intent.event_type.as_str().to_owned()),
            role: Some(intent.role.as_str().to_owned()),
            language: intent.language.as_ref().map(|l| l.as_str().to_owned()),
            process_id: Some(intent.process_id.into()),
            step_id: intent.step_id.map(DbId::from),
            signer_id: intent.signer_id.map(DbId::from),
            ..Self::due(
                Uuid::now_v7(),
                OutboxKind::Notification,
                Some(&intent.to),
                None,
                now,
            )
        }
    }

    /// A new pending row delivering `delivery` to its subscription, due at once. Its fresh
    /// id is the delivery's `webhook-id`, the same on every attempt.
    pub(crate) fn webhook(delivery: &WebhookDelivery, now: OffsetDateTime) -> Self {
        Self {
            event_type: Some(delivery.event_type.as_str().to_owned()),
            process_id: Some(delivery.process_id.into()),
            subscription_id: Some(delivery.subscription_id.to_string()),
            ..Self::due(
                Uuid::now_v7(),
                OutboxKind::WebhookEvent,
                None,
                Some(delivery.body.clone()),
                now,
            )
        }
    }

    /// A new pending row `id` carrying the audit checkpoint email `mail`, due at once.
    pub(crate) fn checkpoint(
        id: Uuid,
        mail: &CheckpointMail,
        now: OffsetDateTime,
    ) -> Result<Self, Error> {
        let body = serde_json::to_string(&mail.checkpoint).map_err(|_| corrupt("outbox.body"))?;
        Ok(Self::due(
            id,
            OutboxKind::AuditCheckpoint,
            Some(&mail.to),
            Some(body),
            now,
        ))
    }

    /// A pending row of `kind` to `to` (an email; `None` for a webhook delivery), due at
    /// `now`, on the channel of its kind, with none of a notification's or a delivery's
    /// columns.
    fn due(
        id: Uuid,
        kind: OutboxKind,
        to: Option<&Email>,
        body: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        let now = db_time(now);
        let channel = match kind {
            OutboxKind::Notification | OutboxKind::AuditCheckpoint => OutboxChannel::Email,
            OutboxKind::WebhookEvent => OutboxChannel::Webhook,
        };
        Self {
            id: id.into(),
            event_type: None,
            role: None,
            to_email: to.map(|to| to.as_str().to_owned()),
            language: None,
            process_id: None,
            step_id: None,
            signer_id: None,
            status: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: now,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            channel: channel.as_str().to_owned(),
            lease_token: None,
            queued_at: now,
            kind: kind.as_str().to_owned(),
            body,
            subscription_id: None,
        }
    }

    /// The row as `GET /outbox` shows it.
    pub(crate) fn into_entry(self) -> Result<OutboxEntry, Error> {
        let state = outbox_state(&self.status)?;
        Ok(OutboxEntry {
            id: self.id.0,
            channel: parse(&self.channel, "outbox.channel")?,
            state,
            kind: parse(&self.kind, "outbox.kind")?,
            event_type: parse_opt(self.event_type.as_deref(), "outbox.event_type")?,
            role: parse_opt(self.role.as_deref(), "outbox.role")?,
            to: parse_opt(self.to_email.as_deref(), "outbox.to_email")?,
            subscription_id: parse_opt(self.subscription_id.as_deref(), "outbox.subscription_id")?,
            process_id: self.process_id.map(DbId::to),
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("outbox.attempts"))?,
            created_at: utc(self.created_at),
            queued_at: utc(self.queued_at),
            next_attempt_at: utc(self.next_attempt_at),
            last_error: self.last_error.as_deref().map(truncate_error),
            sent_at: self.sent_at.map(utc),
        })
    }

    /// The message handed to a dispatcher.
    pub(crate) fn into_message(self) -> Result<OutboxMessage, Error> {
        fn required<T>(value: Option<T>, column: &'static str) -> Result<T, Error> {
            value.ok_or_else(|| corrupt(column))
        }
        let payload = match parse(&self.kind, "outbox.kind")? {
            OutboxKind::Notification => OutboxPayload::Notification(NotificationIntent {
                event_type: parse(
                    required(self.event_type.as_deref(), "outbox.event_type")?,
                    "outbox.event_type",
                )?,
                role: parse(
                    required(self.role.as_deref(), "outbox.role")?,
                    "outbox.role",
                )?,
                to: parse(
                    required(self.to_email.as_deref(), "outbox.to_email")?,
                    "outbox.to_email",
                )?,
                language: parse_opt(self.language.as_deref(), "outbox.language")?,
                process_id: required(self.process_id, "outbox.process_id")?.to(),
                step_id: self.step_id.map(DbId::to),
                signer_id: self.signer_id.map(DbId::to),
            }),
            OutboxKind::AuditCheckpoint => OutboxPayload::AuditCheckpoint(CheckpointMail {
                to: parse(
                    required(self.to_email.as_deref(), "outbox.to_email")?,
                    "outbox.to_email",
                )?,
                checkpoint: serde_json::from_str(required(self.body.as_deref(), "outbox.body")?)
                    .map_err(|_| corrupt("outbox.body"))?,
            }),
            OutboxKind::WebhookEvent => OutboxPayload::Webhook(WebhookDelivery {
                subscription_id: parse(
                    required(self.subscription_id.as_deref(), "outbox.subscription_id")?,
                    "outbox.subscription_id",
                )?,
                event_type: parse(
                    required(self.event_type.as_deref(), "outbox.event_type")?,
                    "outbox.event_type",
                )?,
                process_id: required(self.process_id, "outbox.process_id")?.to(),
                body: required(self.body.as_deref(), "outbox.body")?.to_owned(),
            }),
        };
        Ok(OutboxMessage {
            id: self.id.0,
            payload,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("outbox.attempts"))?,
            created_at: utc(self.created_at),
            queued_at: utc(self.queued_at),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Catalog

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = document_attributes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct AttributeRow {
    pub id: String,
    pub created_at: PrimitiveDateTime,
    pub attr_type: Option<String>,
    pub name: String,
    pub required: bool,
}

impl AttributeRow {
    pub(crate) fn of(a: &DocumentAttribute) -> Self {
        Self {
            id: a.id.to_string(),
            created_at: db_time(a.created_at),
            attr_type: a.attr_type.clone(),
            name: a.name.clone(),
            required: a.required,
        }
    }

    pub(crate) fn into_attribute(self) -> Result<DocumentAttribute, Error> {
        Ok(DocumentAttribute {
            id: parse(&self.id, "document_attributes.id")?,
            created_at: utc(self.created_at),
            attr_type: self.attr_type,
            name: self.name,
            required: self.required,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = document_profiles, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct ProfileRow {
    pub id: String,
    pub created_at: PrimitiveDateTime,
    pub name: String,
    pub document_type: Option<String>,
    pub owner_group: Option<String>,
    pub seal: Option<String>,
    pub is_seal_required: bool,
    pub profileorder: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = profile_attributes, treat_none_as_default_value = false)]
pub(crate) struct LinkRow {
    pub profile_id: String,
    pub attribute_id: String,
}

impl ProfileRow {
    /// The profile row and its attribute links.
    pub(crate) fn of(p: &DocumentProfile) -> (Self, Vec<LinkRow>) {
        let id = p.id.to_string();
        let links = p
            .attributes
            .iter()
            .map(|a| LinkRow {
                profile_id: id.clone(),
                attribute_id: a.id.to_string(),
            })
            .collect();
        let row = Self {
            id,
            created_at: db_time(p.created_at),
            name: p.name.clone(),
            document_type: p.document_type.clone(),
            owner_group: p.owner_group.clone(),
            seal: p.seal.clone(),
            is_seal_required: p.is_seal_required,
            profileorder: p.profileorder,
        };
        (row, links)
    }

    pub(crate) fn into_profile(
        self,
        attributes: Vec<DocumentAttribute>,
    ) -> Result<DocumentProfile, Error> {
        Ok(DocumentProfile {
            id: parse(&self.id, "document_profiles.id")?,
            created_at: utc(self.created_at),
            name: self.name,
            document_type: self.document_type,
            owner_group: self.owner_group,
            attributes,
            seal: self.seal,
            is_seal_required: self.is_seal_required,
            profileorder: self.profileorder,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Contacts and templates

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contacts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct ContactRow {
    pub id: String,
    pub created_at: PrimitiveDateTime,
    pub name: Option<String>,
    pub name_lower: Option<String>,
    pub country: Option<String>,
    pub personal_code: Option<String>,
    pub personal_code_norm: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub email_lower: Option<String>,
    pub role: Option<String>,
    pub default_anonymous: bool,
    pub owner: String,
    pub scope: String,
    pub group_name: Option<String>,
    pub language: Option<String>,
}

impl ContactRow {
    pub(crate) fn of(c: &Contact) -> Self {
        Self {
            id: c.id.to_string(),
            created_at: db_time(c.created_at),
            name: c.name.clone(),
            name_lower: lower(c.name.as_deref()),
            country: c.country.map(|c| c.as_str().to_owned()),
            personal_code: c.personal_code.as_ref().map(|p| p.as_str().to_owned()),
            personal_code_norm: c.personal_code.as_ref().map(PersonalCode::normalized),
            phone: c.phone.clone(),
            email: text(c.email.as_ref()),
            email_lower: lower(c.email.as_ref().map(Email::as_str)),
            role: c.role.map(|r| r.as_str().to_owned()),
            default_anonymous: c.default_anonymous,
            owner: c.owner.clone(),
            scope: c.scope.as_str().to_owned(),
            group_name: c.group.clone(),
            language: c.language.as_ref().map(|l| l.as_str().to_owned()),
        }
    }

    pub(crate) fn into_contact(self) -> Result<Contact, Error> {
        Ok(Contact {
            id: parse(&self.id, "contacts.id")?,
            created_at: utc(self.created_at),
            name: self.name,
            country: parse_opt(self.country.as_deref(), "contacts.country")?,
            personal_code: self.personal_code.map(PersonalCode::from_stored),
            phone: self.phone,
            email: parse_opt(self.email.as_deref(), "contacts.email")?,
            role: parse_opt(self.role.as_deref(), "contacts.role")?,
            default_anonymous: self.default_anonymous,
            owner: self.owner,
            scope: parse(&self.scope, "contacts.scope")?,
            group: self.group_name,
            language: parse_opt(self.language.as_deref(), "contacts.language")?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = templates, treat_none_as_default_value = false)]
pub(crate) struct TemplateRow {
    pub id: String,
    pub created_at: PrimitiveDateTime,
    pub name: String,
    pub name_lower: String,
    pub data: Option<String>,
    pub owner: String,
    pub scope: String,
    pub group_name: Option<String>,
}

impl TemplateRow {
    pub(crate) fn of(t: &Template) -> Self {
        Self {
            id: t.id.to_string(),
            created_at: db_time(t.created_at),
            name: t.name.clone(),
            name_lower: t.name.to_lowercase(),
            data: t.data.clone(),
            owner: t.owner.clone(),
            scope: t.scope.as_str().to_owned(),
            group_name: t.group.clone(),
        }
    }

    pub(crate) fn into_template(self) -> Result<Template, Error> {
        Ok(Template {
            id: parse(&self.id, "templates.id")?,
            created_at: utc(self.created_at),
            name: self.name,
            data: self.data,
            owner: self.owner,
            scope: parse(&self.scope, "templates.scope")?,
            group: self.group_name,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Webhooks

/// A subscription as stored. No `Debug`: it holds the signing secrets in clear.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_default_value = false)]
pub(crate) struct SubscriptionRow {
    pub id: String,
    /// Everything an update writes.
    #[diesel(embed)]
    pub fields: SubscriptionChanges,
    pub created_at: PrimitiveDateTime,
}

/// What an update of a subscription writes: every column but the id and the creation time
/// (which `Subscription` does not carry). No `Debug`, as [`SubscriptionRow`].
#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(
    table_name = webhook_subscriptions,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub(crate) struct SubscriptionChanges {
    pub url: String,
    /// The event types' names separated by commas; empty for every type.
    pub events: String,
    pub owner_group: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// `whsec_` + base64: signing needs the secret itself.
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<PrimitiveDateTime>,
    pub failing_since: Option<PrimitiveDateTime>,
}

/// The stored form of a subscription's event types: their names separated by commas (no
/// name contains one), the empty text for every type.
fn event_list(events: &[WebhookEventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The event types of their stored form.
fn parse_event_list(raw: &str) -> Result<Vec<WebhookEventType>, Error> {
    raw.split(',')
        .filter(|name| !name.is_empty())
        .map(|name| parse(name, "webhook_subscriptions.events"))
        .collect()
}

fn parse_secret(raw: &str, column: &'static str) -> Result<WebhookSecret, Error> {
    WebhookSecret::parse(raw).map_err(|_| corrupt(column))
}

impl SubscriptionChanges {
    /// The columns of `s`.
    pub(crate) fn of(s: &Subscription) -> Self {
        let (previous_secret, previous_secret_until) = match &s.previous_secret {
            Some((secret, until)) => (Some(secret.expose()), Some(db_time(*until))),
            None => (None, None),
        };
        Self {
            url: s.url.clone(),
            events: event_list(&s.events),
            owner_group: s.owner_group.clone(),
            description: s.description.clone(),
            enabled: s.enabled,
            secret: s.secret.expose(),
            previous_secret,
            previous_secret_until,
            failing_since: s.failing_since.map(db_time),
        }
    }
}

impl SubscriptionRow {
    /// The row of a new subscription `s`, created at `created_at`.
    pub(crate) fn of(s: &Subscription, created_at: OffsetDateTime) -> Self {
        Self {
            id: s.id.to_string(),
            fields: SubscriptionChanges::of(s),
            created_at: db_time(created_at),
        }
    }

    /// The subscription. A secret that does not parse is a storage failure naming the
    /// column, never the secret.
    pub(crate) fn into_subscription(self) -> Result<Subscription, Error> {
        let f = self.fields;
        let previous_secret = match (f.previous_secret, f.previous_secret_until) {
            (Some(secret), Some(until)) => Some((
                parse_secret(&secret, "webhook_subscriptions.previous_secret")?,
                utc(until),
            )),
            (None, None) => None,
            _ => return Err(corrupt("webhook_subscriptions.previous_secret_until")),
        };
        Ok(Subscription {
            id: parse(&self.id, "webhook_subscriptions.id")?,
            url: f.url,
            events: parse_event_list(&f.events)?,
            owner_group: f.owner_group,
            description: f.description,
            enabled: f.enabled,
            secret: parse_secret(&f.secret, "webhook_subscriptions.secret")?,
            previous_secret,
            failing_since: f.failing_since.map(utc),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts, treat_none_as_default_value = false)]
pub(crate) struct AttemptRow {
    pub id: String,
    pub subscription_id: String,
    pub delivery_id: String,
    /// `None` for a ping.
    pub event_type: Option<String>,
    pub attempted_at: PrimitiveDateTime,
    pub succeeded: bool,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub answer: Option<String>,
    pub error: Option<String>,
}

impl AttemptRow {
    /// The row of `a`.
    pub(crate) fn of(a: &DeliveryAttempt) -> Self {
        Self {
            id: a.id.to_string(),
            subscription_id: a.subscription_id.to_string(),
            delivery_id: a.delivery_id.to_string(),
            event_type: a.event_type.map(|t| t.as_str().to_owned()),
            attempted_at: db_time(a.attempted_at),
            succeeded: a.succeeded,
            status_code: a.status_code.map(i32::from),
            // Beyond 292 million years: kept as the longest that fits.
            duration_ms: i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            answer: a.answer.clone(),
            error: a.error.clone(),
        }
    }

    /// The attempt.
    pub(crate) fn into_attempt(self) -> Result<DeliveryAttempt, Error> {
        Ok(DeliveryAttempt {
            id: parse(&self.id, "webhook_attempts.id")?,
            delivery_id: parse(&self.delivery_id, "webhook_attempts.delivery_id")?,
            subscription_id: parse(&self.subscription_id, "webhook_attempts.subscription_id")?,
            event_type: parse_opt(self.event_type.as_deref(), "webhook_attempts.event_type")?,
            attempted_at: utc(self.attempted_at),
            succeeded: self.succeeded,
            status_code: self
                .status_code
                .map(|c| u16::try_from(c).map_err(|_| corrupt("webhook_attempts.status_code")))
                .transpose()?,
            duration_ms: u64::try_from(self.duration_ms)
                .map_err(|_| corrupt("webhook_attempts.duration_ms"))?,
            answer: self.answer,
            error: self.error,
        })
    }
}
