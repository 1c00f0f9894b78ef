//! Shared test helpers: a real SMTP server on loopback (mailin-embedded), an in-memory
//! outbox honouring leases and owners, a settable clock, process builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pas_domain::error::Missing;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pas_domain::ids::ProcessId;
use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::outbox::{CheckpointMail, OutboxEntry, OutboxFilter, OutboxPayload};
use pas_domain::paging::{OutboxSort, Page, PageRequest};
use pas_domain::ports::{
    Clock, MockProcessRepository, Outbox, OutboxLease, OutboxMessage, ProcessRepository, RepoError,
};
use pas_domain::prelude::*;
use pas_domain::status::OutboxState;
use pas_domain::values::Email;
use pas_domain::webhook::WebhookDelivery;
use pas_smtp::{
    DispatchSettings, Dispatcher, MailSettings, Matrix, Renderer, SmtpMailer, Transport,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

pub const T0: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

// ---------------------------------------------------------------------------------------
// SMTP server

#[path = "../support/smtp_server.rs"]
mod smtp_server;
pub use smtp_server::{SmtpServer, free_port};

// ---------------------------------------------------------------------------------------
// Outbox

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub message: OutboxMessage,
    pub status: RowStatus,
    pub next_attempt_at: OffsetDateTime,
    pub lease_owner: Option<String>,
    pub lease_token: Option<Uuid>,
    pub lease_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

/// The outbox port in memory: claims honour `next_attempt_at` and leases; renewing,
/// holding, releasing and settling require the claim's token (fencing). `retry_later` and
/// `mark_failed` count the failed attempt; `mark_failed` queues its notice with it;
/// `mark_sent` records the send time that `purge_sent` goes by.
#[derive(Default)]
pub struct MemoryOutbox {
    rows: Mutex<Vec<Row>>,
}

impl MemoryOutbox {
    pub fn with(intents: Vec<NotificationIntent>) -> Arc<Self> {
        let outbox = Arc::new(Self::default());
        outbox.push(intents, T0);
        outbox
    }

    pub fn push(&self, intents: Vec<NotificationIntent>, now: OffsetDateTime) -> Vec<Uuid> {
        let mut rows = self.rows.lock().unwrap();
        Self::push_locked(&mut rows, intents, now)
    }

    fn push_locked(
        rows: &mut Vec<Row>,
        intents: Vec<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Vec<Uuid> {
        intents
            .into_iter()
            .map(|intent| {
                let id = Uuid::now_v7();
                Self::push_payload(rows, id, OutboxPayload::Notification(intent), now);
                id
            })
            .collect()
    }

    fn push_payload(rows: &mut Vec<Row>, id: Uuid, payload: OutboxPayload, now: OffsetDateTime) {
        rows.push(Row {
            message: OutboxMessage {
                id,
                payload,
                attempts: 0,
                created_at: now,
                queued_at: now,
            },
            status: RowStatus::Pending,
            next_attempt_at: now,
            lease_owner: None,
            lease_token: None,
            lease_until: None,
            last_error: None,
            sent_at: None,
        });
    }

    /// Queues a webhook delivery at `now`; its row id (the `webhook-id`).
    pub fn push_webhook(&self, delivery: WebhookDelivery, now: OffsetDateTime) -> Uuid {
        let id = Uuid::now_v7();
        let mut rows = self.rows.lock().unwrap();
        Self::push_payload(&mut rows, id, OutboxPayload::Webhook(delivery), now);
        id
    }

    /// The notification of row `index` (panics for another kind of row).
    pub fn intent(&self, index: usize) -> NotificationIntent {
        self.rows()[index]
            .message
            .payload
            .notification()
            .expect("a notification row")
            .clone()
    }

    /// Leases row `id` to a new claim whatever its lease, as another dispatcher does once
    /// the holder's lease ran out during a stall (the test's clock need not move); the new
    /// claim's token.
    pub fn take_over(&self, id: Uuid, until: OffsetDateTime) -> Uuid {
        let token = Uuid::now_v7();
        let mut rows = self.rows.lock().unwrap();
        let row = rows
            .iter_mut()
            .find(|r| r.message.id == id)
            .expect("row exists");
        row.lease_owner = Some("another instance".into());
        row.lease_token = Some(token);
        row.lease_until = Some(until);
        token
    }

    pub fn rows(&self) -> Vec<Row> {
        self.rows.lock().unwrap().clone()
    }

    pub fn row(&self, id: Uuid) -> Row {
        self.rows()
            .into_iter()
            .find(|r| r.message.id == id)
            .expect("row exists")
    }

    fn settle(
        &self,
        id: Uuid,
        token: Uuid,
        change: impl FnOnce(&mut Row) -> Vec<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let mut rows = self.rows.lock().unwrap();
        let row = rows
            .iter_mut()
            .find(|r| {
                r.message.id == id && r.lease_token == Some(token) && r.status == RowStatus::Pending
            })
            .ok_or(RepoError::NotFound(Missing::OutboxLease))?;
        row.lease_owner = None;
        row.lease_token = None;
        row.lease_until = None;
        let more = change(row);
        Self::push_locked(&mut rows, more, now);
        Ok(())
    }

    fn entry(row: &Row) -> OutboxEntry {
        OutboxEntry {
            id: row.message.id,
            channel: row.message.payload.channel(),
            state: match row.status {
                RowStatus::Pending => OutboxState::Pending,
                RowStatus::Sent => OutboxState::Sent,
                RowStatus::Failed => OutboxState::Failed,
            },
            kind: row.message.payload.kind(),
            event_type: row.message.payload.notification().map(|i| i.event_type),
            role: row.message.payload.notification().map(|i| i.role),
            to: row.message.payload.to().cloned(),
            subscription_id: match &row.message.payload {
                OutboxPayload::Webhook(delivery) => Some(delivery.subscription_id),
                _ => None,
            },
            process_id: row.message.payload.process_id(),
            attempts: row.message.attempts,
            created_at: row.message.created_at,
            queued_at: row.message.queued_at,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error.clone(),
            sent_at: row.sent_at,
        }
    }
}

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn enqueue(
        &self,
        intents: Vec<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.push(intents, now);
        Ok(())
    }

    async fn enqueue_checkpoint(
        &self,
        id: Uuid,
        mail: &CheckpointMail,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        let mut rows = self.rows.lock().unwrap();
        if rows.iter().any(|r| r.message.id == id) {
            return Ok(false);
        }
        Self::push_payload(
            &mut rows,
            id,
            OutboxPayload::AuditCheckpoint(mail.clone()),
            now,
        );
        Ok(true)
    }

    async fn claim(
        &self,
        lease: OutboxLease,
        limit: u32,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<OutboxMessage>, RepoError> {
        tokio::task::yield_now().await;
        let mut rows = self.rows.lock().unwrap();
        let mut out = Vec::new();
        for row in rows.iter_mut() {
            if out.len() >= limit as usize {
                break;
            }
            let free = row.lease_until.is_none_or(|until| until <= now);
            if row.status == RowStatus::Pending && row.next_attempt_at <= now && free {
                row.lease_owner = Some(lease.owner.clone());
                row.lease_token = Some(lease.token);
                row.lease_until = Some(lease_until);
                out.push(row.message.clone());
            }
        }
        Ok(out)
    }

    async fn renew(
        &self,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Vec<Uuid>, RepoError> {
        let mut rows = self.rows.lock().unwrap();
        let mut renewed = Vec::new();
        for row in rows.iter_mut() {
            let live = row.lease_until.is_some_and(|until| until > now);
            if row.lease_token == Some(token) && row.status == RowStatus::Pending && live {
                row.lease_until = Some(lease_until);
                renewed.push(row.message.id);
            }
        }
        Ok(renewed)
    }

    async fn hold(
        &self,
        id: Uuid,
        token: Uuid,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let mut rows = self.rows.lock().unwrap();
        let row = rows
            .iter_mut()
            .find(|r| {
                r.message.id == id
                    && r.lease_token == Some(token)
                    && r.status == RowStatus::Pending
                    && r.lease_until.is_some_and(|until| until > now)
            })
            .ok_or(RepoError::NotFound(Missing::OutboxLease))?;
        row.lease_until = Some(lease_until);
        Ok(())
    }

    async fn mark_sent(&self, id: Uuid, token: Uuid, now: OffsetDateTime) -> Result<(), RepoError> {
        self.settle(
            id,
            token,
            |row| {
                row.message.attempts += 1;
                row.status = RowStatus::Sent;
                row.sent_at = Some(now);
                vec![]
            },
            now,
        )
    }

    async fn retry_later(
        &self,
        id: Uuid,
        token: Uuid,
        next_attempt_at: OffsetDateTime,
        error: String,
    ) -> Result<(), RepoError> {
        self.settle(
            id,
            token,
            |row| {
                row.message.attempts += 1;
                row.next_attempt_at = next_attempt_at;
                row.last_error = Some(error);
                vec![]
            },
            next_attempt_at,
        )
    }

    async fn mark_failed(
        &self,
        id: Uuid,
        token: Uuid,
        error: String,
        notice: Option<NotificationIntent>,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        self.settle(
            id,
            token,
            |row| {
                row.message.attempts += 1;
                row.status = RowStatus::Failed;
                row.last_error = Some(error);
                notice.into_iter().collect()
            },
            now,
        )
    }

    async fn release(&self, token: Uuid) -> Result<u64, RepoError> {
        let mut rows = self.rows.lock().unwrap();
        let mut n = 0;
        for row in rows.iter_mut() {
            if row.lease_token == Some(token) && row.status == RowStatus::Pending {
                row.lease_owner = None;
                row.lease_token = None;
                row.lease_until = None;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn list(
        &self,
        filter: &OutboxFilter,
        page: &PageRequest<OutboxSort>,
    ) -> Result<Page<OutboxEntry>, RepoError> {
        let all: Vec<OutboxEntry> = self
            .rows()
            .iter()
            .map(Self::entry)
            .filter(|e| filter.state.is_none_or(|s| s == e.state))
            .filter(|e| filter.channel.is_none_or(|c| c == e.channel))
            .collect();
        let total = all.len() as u64;
        let content = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.size as usize)
            .collect();
        Ok(Page::new(content, total, page))
    }

    async fn get(&self, id: Uuid) -> Result<Option<OutboxEntry>, RepoError> {
        Ok(self
            .rows()
            .iter()
            .find(|r| r.message.id == id)
            .map(Self::entry))
    }

    async fn requeue(&self, id: Uuid, now: OffsetDateTime) -> Result<bool, RepoError> {
        let mut rows = self.rows.lock().unwrap();
        let Some(row) = rows
            .iter_mut()
            .find(|r| r.message.id == id && r.status == RowStatus::Failed)
        else {
            return Ok(false);
        };
        row.status = RowStatus::Pending;
        row.next_attempt_at = now;
        row.message.queued_at = now;
        Ok(true)
    }

    async fn purge_sent(
        &self,
        sent_before: OffsetDateTime,
        _batch: NonZeroU32,
    ) -> Result<u64, RepoError> {
        // One lock, so batches make no difference here.
        let mut rows = self.rows.lock().unwrap();
        let before = rows.len();
        rows.retain(|r| {
            !(r.status == RowStatus::Sent && r.sent_at.is_some_and(|at| at < sent_before))
        });
        Ok((before - rows.len()) as u64)
    }
}

// ---------------------------------------------------------------------------------------
// Clock

/// A clock the test moves by hand.
pub struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    pub fn at(now: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(now)))
    }

    pub fn set(&self, now: OffsetDateTime) {
        *self.0.lock().unwrap() = now;
    }

    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// Processes

/// The standard process: step 1 (due 2026-03-05 12:00 UTC) holds a Latvian signer, an
/// en-GB approver and a French-speaking viewer; step 2 a signer without a language.
pub fn standard_input() -> Value {
    json!({
        "documentId": "doc-17",
        "documentName": "Lease 17",
        "initiatorName": "Office Manager",
        "processInitiatorEmail": "office@example.lv",
        "comment": "Please sign soon",
        "signingProcessSteps": [
            {"processOrder": 1, "dueDate": "2026-03-05T12:00:00Z", "processStepSigners": [
                {"signerRole": "SIGNER", "signerName": "Anna Bērziņa", "signerEmail": "anna@example.lv",
                 "signerLanguage": "lv", "commentForSigner": "See page 3"},
                {"signerRole": "APPROVER", "signerName": "Ben Boss", "signerEmail": "boss@example.co.uk",
                 "signerLanguage": "en-GB"},
                {"signerRole": "VIEWER", "signerName": "Claire", "signerEmail": "claire@example.fr",
                 "signerLanguage": "fr"}
            ]},
            {"processOrder": 2, "processStepSigners": [
                {"signerRole": "SIGNER", "signerName": "Dan", "signerEmail": "dan@example.lv"}
            ]}
        ]
    })
}

pub fn create(input: Value) -> SigningProcess {
    let draft = serde_json::from_value::<ProcessInput>(input)
        .expect("input parses")
        .validate()
        .expect("input is valid");
    let (process, _) =
        SigningProcess::create(draft, &SequentialIds::default(), T0).expect("create");
    process
}

pub fn started(input: Value) -> SigningProcess {
    let mut process = create(input);
    let _ = process.start(T0).expect("start");
    process
}

pub fn entry_id(process: &ProcessData, email: &str) -> EntryId {
    process
        .entries()
        .find(|e| e.details.signer_email.as_ref().map(Email::as_str) == Some(email))
        .map(|e| e.id)
        .expect("entry exists")
}

/// The intent of `event` to the entry with `email`.
pub fn entry_intent(process: &ProcessData, event: EventType, email: &str) -> NotificationIntent {
    let id = entry_id(process, email);
    let (step, entry) = process.find_entry(id).expect("entry");
    NotificationIntent {
        event_type: event,
        role: entry.role().into(),
        to: entry.details.signer_email.clone().expect("email"),
        language: entry.details.signer_language.clone(),
        process_id: process.id,
        step_id: Some(step.id),
        signer_id: Some(id),
    }
}

pub fn initiator_intent(process: &ProcessData, event: EventType) -> NotificationIntent {
    NotificationIntent {
        event_type: event,
        role: RecipientRole::Initiator,
        to: process
            .header
            .process_initiator_email
            .clone()
            .expect("initiator email"),
        language: None,
        process_id: process.id,
        step_id: None,
        signer_id: None,
    }
}

pub fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid email")
}

/// A repository that knows these processes (deleted ones included).
pub fn repo(processes: Vec<SigningProcess>) -> Arc<dyn ProcessRepository> {
    let by_id: HashMap<ProcessId, SigningProcess> =
        processes.into_iter().map(|p| (p.id, p)).collect();
    let mut mock = MockProcessRepository::new();
    mock.expect_get_including_deleted()
        .returning(move |id| Ok(by_id.get(&id).cloned()));
    Arc::new(mock)
}

// ---------------------------------------------------------------------------------------
// Wiring

pub fn settings() -> MailSettings {
    MailSettings {
        from: "Signing Service <noreply@signing.example.lv>"
            .parse()
            .expect("from"),
        reply_to_initiator: false,
        portal_url: "https://portal.example.lv/".into(),
        timezone: jiff::tz::TimeZone::get("Europe/Riga").expect("tz"),
        default_language: pas_domain::language::Language::parse("en").expect("en"),
    }
}

pub fn renderer() -> Arc<Renderer> {
    Arc::new(Renderer::new(
        Matrix::builtin().expect("built-in matrix"),
        settings(),
    ))
}

pub fn smtp(url: &str) -> Arc<Transport> {
    Arc::new(Transport::smtp(url).expect("smtp transport"))
}

pub fn dispatch_settings(owner: &str) -> DispatchSettings {
    DispatchSettings {
        owner: owner.into(),
        batch: 10,
        concurrency: DispatchSettings::DEFAULT_CONCURRENCY,
        lease: Duration::from_secs(300),
        first_retry: Duration::from_secs(10),
        give_up_after: Duration::from_secs(72 * 3600),
        poll_interval: Duration::from_millis(20),
        admin_email: Some(email("admin@example.lv")),
    }
}

pub fn dispatcher(
    outbox: Arc<MemoryOutbox>,
    processes: Arc<dyn ProcessRepository>,
    transport: Arc<Transport>,
    clock: Arc<TestClock>,
    settings: DispatchSettings,
) -> Dispatcher {
    Dispatcher::new(outbox, processes, renderer(), transport, clock, settings)
}

pub fn mailer(transport: Arc<Transport>) -> SmtpMailer {
    SmtpMailer::new(renderer(), transport)
}
