//! The audit trail (PRODUCT.md sections 8 and 11): events with the caller's details, and the
//! per-process keyed hash chain (HMAC-SHA256) that makes a changed, removed, reordered or
//! truncated row detectable. Keys come in as values ([`AuditKeys`]); this module does no I/O.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::{Principal, client_may_record};
use crate::error::ValidationErrors;
use crate::events::DomainEvent;
use crate::ids::{AuditEventId, EntryId, ProcessId};
use crate::input::{MAX_COMMENT, MAX_TEXT, text};
use crate::process::ProcessData;
use crate::pseudonym::{PiiKey, mask_personal_code};
use crate::query::PersonKey;
use crate::status::EventType;
use crate::values::{CountryCode, normalize_personal_code};

/// Who asks: the authenticated [`Principal`] and the client address, recorded on every
/// audit row. Built in one place at the HTTP edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who the request acts as, and what it may do.
    pub principal: Principal,
    /// Client address.
    pub ip_address: Option<String>,
}

impl Caller {
    /// The service itself, named `name` (scheduled jobs): an administrator.
    pub fn system(name: &str) -> Self {
        Self::new(Principal::system(name), None)
    }

    /// A principal calling from an address.
    pub fn new(principal: Principal, ip_address: Option<String>) -> Self {
        Self {
            principal,
            ip_address,
        }
    }

    /// The acting user (`creator` on audit rows).
    pub fn user(&self) -> &str {
        &self.principal.subject
    }

    /// The acting user as audit rows record it (`creator`): [`Caller::user`], masked like a
    /// personal code when it contains the caller's own personal code (eID logins often use
    /// `PNOLV-161175-19997` as the username), so that no audit row holds a code in plaintext.
    ///
    /// ```
    /// use pas_domain::audit::Caller;
    /// use pas_domain::auth::{Principal, Role, Roles};
    /// use pas_domain::query::PersonKey;
    /// let person = PersonKey::parse("161175-19997", "LV").unwrap();
    /// let signer = Principal::new("PNOLV-161175-19997", Roles::of(&[Role::Signer]))
    ///     .with_person(Some(person));
    /// assert_eq!(Caller::new(signer, None).recorded_user(), "PNOLV-******-*****");
    /// assert_eq!(Caller::system("reminder-job").recorded_user(), "reminder-job");
    /// ```
    pub fn recorded_user(&self) -> String {
        let user = self.user();
        match &self.principal.person {
            Some(person) if normalize_personal_code(user).contains(&person.code) => {
                mask_personal_code(user)
            }
            _ => user.to_owned(),
        }
    }

    /// The client application (`clientAppName` on audit rows).
    pub fn client_app(&self) -> Option<&str> {
        self.principal.client.as_deref()
    }
}

/// Where events made by this service come from.
pub const EVENT_ORIGIN: &str = "process-and-auditing-service";

/// An audit row before it is chained. Its `Serialize` is the canonical form the hash chain
/// covers ([`canonical`]): stored chains depend on it byte for byte, so it is not a wire
/// shape and must not change with one.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAuditEvent {
    /// Id.
    pub id: AuditEventId,
    /// When it happened.
    #[serde(serialize_with = "ser_time")]
    pub created_at: OffsetDateTime,
    /// Type.
    pub event_type: EventType,
    /// Which system recorded it.
    pub event_origin: Option<String>,
    /// Acting user.
    pub creator: Option<String>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry concerned.
    pub signer_id: Option<EntryId>,
    /// The person concerned, as shown: the masked code
    /// ([`crate::pseudonym::mask_personal_code`]). Rows
    /// written before pseudonymisation hold the code as it was given.
    pub customer_personal_code: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// Process (the chain it belongs to).
    pub process_id: Option<ProcessId>,
    /// Client address.
    pub ip_address: Option<String>,
    /// Signature container.
    pub container_id: Option<String>,
    /// Operation name.
    pub method: Option<String>,
    /// Client application.
    pub client_app_name: Option<String>,
    /// The person concerned, as found: the keyed pseudonym ([`PiiKey::pseudonym`]). Left out
    /// of the canonical form when absent, so rows written before it keep their hashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_pseudonym: Option<String>,
}

fn ser_time<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    time::serde::rfc3339::serialize(t, s)
}

impl std::fmt::Debug for NewAuditEvent {
    // The personal code stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuditEvent")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("process_id", &self.process_id)
            .field("signer_id", &self.signer_id)
            .finish_non_exhaustive()
    }
}

impl NewAuditEvent {
    /// The audit row of a domain event, with the caller's details and `method` (the
    /// operation). The person concerned is the entry's, if it has a personal code, stored
    /// pseudonymised under `pii`.
    pub fn from_domain(
        id: AuditEventId,
        event: &DomainEvent,
        process: &ProcessData,
        caller: &Caller,
        method: &str,
        pii: &PiiKey,
    ) -> Self {
        let person = event
            .signer_id
            .and_then(|s| process.find_entry(s))
            .and_then(|(_, e)| {
                let code = e.details.signer_personal_code.as_ref()?;
                Some(pii.pseudonymise(code.as_str(), e.details.signer_country))
            });
        Self {
            id,
            created_at: event.occurred_at,
            event_type: event.event_type,
            event_origin: Some(EVENT_ORIGIN.to_owned()),
            creator: Some(caller.recorded_user()),
            document_id: Some(process.header.document_id.clone()),
            signer_id: event.signer_id,
            customer_personal_code: person.as_ref().map(|p| p.masked.clone()),
            note: event.note.clone(),
            process_id: Some(process.id),
            ip_address: caller.ip_address.clone(),
            container_id: None,
            method: Some(method.to_owned()),
            client_app_name: caller.client_app().map(str::to_owned),
            customer_pseudonym: person.map(|p| p.pseudonym),
        }
    }
}

/// A stored audit row: the event, its position in its process's chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditingEvent {
    /// The event.
    pub event: NewAuditEvent,
    /// Position in the chain, from 0.
    pub sequence: i64,
    /// Hash of the previous event of the chain.
    pub previous_hash: Option<String>,
    /// HMAC-SHA256 (hex) under the key `key_id` of the previous hash and this event's
    /// canonical form ([`keyed_hash`]); for a row written before keying (`key_id` `None`),
    /// plain SHA-256 ([`unkeyed_hash`]).
    pub hash: String,
    /// The id of the key the hash was made with ([`AuditKey::id`]); `None` for rows written
    /// before keying.
    pub key_id: Option<String>,
}

/// Shortest accepted audit key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// An audit or PII key shorter than [`MIN_KEY_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key must have at least {MIN_KEY_BYTES} bytes (this one has {0})")]
pub struct ShortKey(pub usize);

/// An HMAC-SHA256 key and its id: what an audit key and the PII key
/// ([`crate::pseudonym::PiiKey`]) both are. `Debug` shows the id only, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HmacKey {
    id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl HmacKey {
    /// `secret`, at least [`MIN_KEY_BYTES`] long; its id is the first 8 hex digits of its
    /// SHA-256.
    pub(crate) fn new(secret: Vec<u8>) -> Result<Self, ShortKey> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(ShortKey(secret.len()));
        }
        let digest = hex::encode(Sha256::digest(&secret));
        Ok(Self {
            id: digest[..8].to_owned(),
            secret,
        })
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 (hex) under this key over `parts`, concatenated.
    pub(crate) fn hmac_hex(&self, parts: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A secret key of the audit chain and its id. `Debug` shows the id only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditKey(HmacKey);

impl AuditKey {
    /// The key `secret` (at least [`MIN_KEY_BYTES`] bytes). Its id is the first 8 hex
    /// digits of the SHA-256 of the secret: short, stable, and it reveals nothing useful.
    ///
    /// ```
    /// use pas_domain::audit::AuditKey;
    /// let key = AuditKey::new(vec![7; 32]).unwrap();
    /// assert_eq!(key.id().len(), 8);
    /// assert!(AuditKey::new(vec![7; 31]).is_err());
    /// ```
    pub fn new(secret: Vec<u8>) -> Result<Self, ShortKey> {
        HmacKey::new(secret).map(Self)
    }

    /// The key's id, stored on every row it hashed.
    pub fn id(&self) -> &str {
        self.0.id()
    }
}

/// The keys of the audit chain: the current one signs new rows; retired ones
/// (`AUDIT_OLD_KEYS_FILE`) only verify the rows they hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditKeys {
    current: AuditKey,
    retired: Vec<AuditKey>,
}

impl AuditKeys {
    /// `current` signs; `retired` keys verify only.
    pub fn new(current: AuditKey, retired: Vec<AuditKey>) -> Self {
        Self { current, retired }
    }

    /// The signing key.
    pub fn current(&self) -> &AuditKey {
        &self.current
    }

    /// The key with the id `id`, current or retired.
    pub fn find(&self, id: &str) -> Option<&AuditKey> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id() == id)
    }
}

/// The canonical form hashed: the event's JSON with fields in declaration order.
pub fn canonical(event: &NewAuditEvent) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// The hash of `event` chained after `previous`, under `key`: HMAC-SHA256 over the previous
/// hash, a newline and the canonical form, in hex.
///
/// ```
/// use pas_domain::audit::{chain, verify_chain, AuditKey, AuditKeys, ChainHead, BreakKind};
/// # use pas_domain::{audit::NewAuditEvent, ids::AuditEventId, status::EventType};
/// # let event = |n: u128| NewAuditEvent { id: AuditEventId::from_uuid(uuid::Uuid::from_u128(n)),
/// #     created_at: time::macros::datetime!(2026-01-01 0:00 UTC), event_type: EventType::ProcessStarted,
/// #     event_origin: None, creator: None, document_id: None, signer_id: None, customer_personal_code: None,
/// #     note: None, process_id: None, ip_address: None, container_id: None, method: None, client_app_name: None,
/// #     customer_pseudonym: None };
/// let keys = AuditKeys::new(AuditKey::new(vec![1; 32]).unwrap(), vec![]);
/// let mut head = ChainHead::default();
/// let mut rows = Vec::new();
/// for n in 1..=2 {
///     let row = chain(&keys, &head, event(n));
///     head = ChainHead::after(&row, 0);
///     rows.push(row);
/// }
/// assert_eq!(verify_chain(&keys, &rows, Some(&head), false), None);
/// let mut edited = rows.clone();
/// edited[1].event.note = Some("changed".into());
/// let broken = verify_chain(&keys, &edited, Some(&head), false).unwrap();
/// assert_eq!((broken.position, broken.kind), (1, BreakKind::Altered));
/// ```
pub fn keyed_hash(key: &AuditKey, previous: Option<&str>, event: &NewAuditEvent) -> String {
    key.0.hmac_hex(&[
        previous.unwrap_or("").as_bytes(),
        b"\n",
        canonical(event).as_bytes(),
    ])
}

/// The hash of rows written before keying: plain SHA-256 over the previous hash, a newline
/// and the canonical form. Such rows verify only within the unkeyed prefix of their chain
/// ([`ChainHead::unkeyed_length`]).
pub fn unkeyed_hash(previous: Option<&str>, event: &NewAuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(previous.unwrap_or("").as_bytes());
    h.update(b"\n");
    h.update(canonical(event).as_bytes());
    hex::encode(h.finalize())
}

/// The stored head of a chain: how many rows it has, the hash of its last row, and how many
/// of its first rows were written before keying (recorded once by the keying migration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainHead {
    /// Rows in the chain.
    pub length: i64,
    /// Hash of the last row; `None` for an empty chain.
    pub hash: Option<String>,
    /// Rows `0..unkeyed_length` may carry plain SHA-256 hashes.
    pub unkeyed_length: i64,
}

impl ChainHead {
    /// The head after `row`, for a chain whose unkeyed prefix is `unkeyed_length`.
    pub fn after(row: &AuditingEvent, unkeyed_length: i64) -> Self {
        Self {
            length: row.sequence + 1,
            hash: Some(row.hash.clone()),
            unkeyed_length,
        }
    }
}

/// Chains `event` after the chain's head under the current key of `keys`.
pub fn chain(keys: &AuditKeys, head: &ChainHead, event: NewAuditEvent) -> AuditingEvent {
    let key = keys.current();
    let hash = keyed_hash(key, head.hash.as_deref(), &event);
    AuditingEvent {
        event,
        sequence: head.length,
        previous_hash: head.hash.clone(),
        hash,
        key_id: Some(key.id().to_owned()),
    }
}

/// Why a chain does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// A row's hash, position or link to its predecessor does not hold: it was edited, or
    /// a row before it was removed, or rows were reordered or inserted.
    Altered,
    /// A row names a key id that is neither the current key nor a retired one.
    UnknownKey,
    /// A row without a key id after the chain's unkeyed prefix.
    Unkeyed,
    /// The stored head counts more rows than there are: the newest rows (or all of them)
    /// were removed.
    Truncated,
    /// There are rows after the stored head, or the head's hash is not the last row's.
    HeadMismatch,
    /// The chain has rows but no stored head.
    HeadMissing,
    /// The process exists but its chain (rows and head) does not.
    Missing,
}

impl BreakKind {
    /// The kebab-case name used in answers and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Altered => "altered",
            Self::UnknownKey => "unknown-key",
            Self::Unkeyed => "unkeyed",
            Self::Truncated => "truncated",
            Self::HeadMismatch => "head-mismatch",
            Self::HeadMissing => "head-missing",
            Self::Missing => "missing",
        }
    }
}

impl std::fmt::Display for BreakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where and why a chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first position that does not hold (for a truncated chain: the first missing row).
    pub position: usize,
    /// Why.
    pub kind: BreakKind,
}

/// Verifies a chain: `rows` oldest first, its stored `head` (`None` when there is none), and
/// whether the chain must exist (its process exists: every process has a head from its
/// creation). Answers the first break, or `None` when the chain holds.
pub fn verify_chain(
    keys: &AuditKeys,
    rows: &[AuditingEvent],
    head: Option<&ChainHead>,
    must_exist: bool,
) -> Option<ChainBreak> {
    let at = |position, kind| Some(ChainBreak { position, kind });
    let unkeyed_length = head.map_or(0, |h| h.unkeyed_length);
    let mut previous: Option<&str> = None;
    for (i, row) in rows.iter().enumerate() {
        let index = i64::try_from(i).unwrap_or(i64::MAX);
        if row.sequence != index || row.previous_hash.as_deref() != previous {
            return at(i, BreakKind::Altered);
        }
        let expected = match row.key_id.as_deref() {
            Some(id) => match keys.find(id) {
                Some(key) => keyed_hash(key, previous, &row.event),
                None => return at(i, BreakKind::UnknownKey),
            },
            None if index < unkeyed_length => unkeyed_hash(previous, &row.event),
            None => return at(i, BreakKind::Unkeyed),
        };
        if row.hash != expected {
            return at(i, BreakKind::Altered);
        }
        previous = Some(&row.hash);
    }
    let count = rows.len();
    let Some(head) = head else {
        return if count > 0 {
            at(count, BreakKind::HeadMissing)
        } else if must_exist {
            at(0, BreakKind::Missing)
        } else {
            None
        };
    };
    let length = usize::try_from(head.length).unwrap_or(0);
    if length > count {
        at(count, BreakKind::Truncated)
    } else if length < count || head.hash.as_deref() != previous {
        at(length.min(count.saturating_sub(1)), BreakKind::HeadMismatch)
    } else {
        None
    }
}

/// `GET /processes/{id}/audit-trail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTrail {
    /// The process.
    pub process_id: ProcessId,
    /// The chain holds.
    pub valid: bool,
    /// First broken position, when not valid.
    pub broken_at: Option<usize>,
    /// Why it breaks, when not valid.
    pub break_kind: Option<BreakKind>,
    /// Events, oldest first.
    pub events: Vec<AuditingEvent>,
}

impl AuditTrail {
    /// Verifies `events` (oldest first) against the chain's stored `head` (see
    /// [`verify_chain`]; `process_exists`: the chain must exist).
    pub fn verify(
        keys: &AuditKeys,
        process_id: ProcessId,
        events: Vec<AuditingEvent>,
        head: Option<&ChainHead>,
        process_exists: bool,
    ) -> Self {
        let broken = verify_chain(keys, &events, head, process_exists);
        Self {
            process_id,
            valid: broken.is_none(),
            broken_at: broken.map(|b| b.position),
            break_kind: broken.map(|b| b.kind),
            events,
        }
    }
}

/// One chain's line of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointChain {
    /// The chain: its process id, or the nil UUID for events without a process.
    pub chain_key: String,
    /// Rows in the chain.
    pub length: i64,
    /// Hash of its last row.
    pub head: String,
}

impl CheckpointChain {
    /// The line the root covers: `chainKey length head` and a newline.
    pub fn line(&self) -> String {
        format!("{} {} {}\n", self.chain_key, self.length, self.head)
    }
}

/// A checkpoint: every non-empty chain's length and head at one moment, and the root over
/// them (SHA-256, hex, of the chains' lines sorted by chain key, concatenated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// When it was taken.
    pub created_at: OffsetDateTime,
    /// The chains, sorted by chain key.
    pub chains: Vec<CheckpointChain>,
    /// SHA-256 over the sorted lines.
    pub root: String,
}

impl Checkpoint {
    /// The checkpoint of `chains` (any order; empty chains are left out) at `created_at`.
    ///
    /// ```
    /// use pas_domain::audit::{Checkpoint, CheckpointChain};
    /// let chain = |k: &str| CheckpointChain { chain_key: k.into(), length: 1, head: "ab".into() };
    /// let t = time::macros::datetime!(2026-01-01 0:00 UTC);
    /// let a = Checkpoint::of(t, vec![chain("b"), chain("a")]);
    /// let b = Checkpoint::of(t, vec![chain("a"), chain("b")]);
    /// assert_eq!(a.root, b.root);
    /// assert_eq!(a.chains[0].chain_key, "a");
    /// ```
    pub fn of(created_at: OffsetDateTime, mut chains: Vec<CheckpointChain>) -> Self {
        chains.retain(|c| c.length > 0);
        chains.sort_by(|a, b| a.chain_key.cmp(&b.chain_key));
        let root = checkpoint_root(&chains);
        Self {
            created_at,
            chains,
            root,
        }
    }
}

impl Checkpoint {
    /// What is published of it: `GET /audit-checkpoint`'s answer and the
    /// `AUDIT_CHECKPOINT_CRON` email.
    ///
    /// ```
    /// use pas_domain::audit::{Checkpoint, CheckpointChain};
    /// let chain = CheckpointChain { chain_key: "a".into(), length: 2, head: "ab".into() };
    /// let checkpoint = Checkpoint::of(time::macros::datetime!(2026-01-01 0:00 UTC), vec![chain]);
    /// let summary = checkpoint.summary();
    /// assert_eq!((summary.chain_count, summary.root), (1, checkpoint.root));
    /// ```
    pub fn summary(&self) -> CheckpointSummary {
        CheckpointSummary {
            created_at: self.created_at,
            chain_count: self.chains.len(),
            root: self.root.clone(),
        }
    }
}

/// The published part of a checkpoint: when it was taken, how many non-empty chains it
/// covers, and their root. Its JSON (`{createdAt, chainCount, root}`) is what
/// `GET /audit-checkpoint` answers and what the `AUDIT_CHECKPOINT_CRON` email carries. Kept
/// outside the service, the root lets an auditor check that a checkpoint file of
/// `app audit checkpoint` taken at that moment is the one published (its root matches).
///
/// ```
/// use pas_domain::audit::CheckpointSummary;
/// let summary = CheckpointSummary {
///     created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
///     chain_count: 3,
///     root: "ab".into(),
/// };
/// let json = serde_json::to_string(&summary).unwrap();
/// assert_eq!(json, r#"{"createdAt":"2026-01-01T00:00:00Z","chainCount":3,"root":"ab"}"#);
/// assert_eq!(serde_json::from_str::<CheckpointSummary>(&json).unwrap(), summary);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointSummary {
    /// When the checkpoint was taken.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Non-empty chains covered.
    pub chain_count: usize,
    /// SHA-256 (hex) over the chains' lines ([`checkpoint_root`]).
    pub root: String,
}

/// SHA-256 (hex) over the lines of `chains` in the order given.
pub fn checkpoint_root(chains: &[CheckpointChain]) -> String {
    let mut h = Sha256::new();
    for c in chains {
        h.update(c.line().as_bytes());
    }
    hex::encode(h.finalize())
}

/// `GET /audit-events` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Process.
    pub process_id: Option<ProcessId>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry.
    pub signer_id: Option<EntryId>,
    /// Type.
    pub event_type: Option<EventType>,
    /// On or after.
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub to: Option<OffsetDateTime>,
    /// Only events of processes owned by one of these groups (`None`: every event). Set by
    /// the use case from the principal, never by a client.
    pub owner_groups: Option<Vec<String>>,
    /// The person concerned (`personalCode` and `country`).
    pub person: Option<PersonKey>,
    /// Only events stored under one of these pseudonyms (`None`: every event). Set by the
    /// use case from `person`, never by a client.
    pub customer_pseudonyms: Option<Vec<String>>,
}

/// An event from another system (`createAuditingEvent`).
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AuditEventInput {
    /// Client id (must be unused).
    pub id: Option<Uuid>,
    /// Type (required).
    pub event_type: Option<EventType>,
    /// Ignored: the origin is the caller's client application.
    pub event_origin: Option<String>,
    /// Ignored: the acting user is the caller's subject.
    pub creator: Option<String>,
    /// Document.
    pub document_id: Option<String>,
    /// Entry.
    pub signer_id: Option<Uuid>,
    /// Person concerned.
    pub customer_personal_code: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Process.
    pub process_id: Option<Uuid>,
    /// Client address as the other system saw it.
    pub ip_address: Option<String>,
    /// Container.
    pub container_id: Option<String>,
    /// Operation.
    pub method: Option<String>,
    /// Ignored: the client application is the caller's.
    pub client_app_name: Option<String>,
}

impl AuditEventInput {
    /// Validates into a row; `createdAt` is always the service's time. Only the event types
    /// of [`client_may_record`] are accepted (422 for the service's own types). `creator`,
    /// `clientAppName` and `eventOrigin` come from the caller's principal, whatever the body
    /// says: a client can record what it saw, never who it was. The personal code is stored
    /// pseudonymised under `pii` with `country` (the country of the entry that names the
    /// person, when the use case found one).
    pub fn validate(
        self,
        id: AuditEventId,
        now: OffsetDateTime,
        caller: &Caller,
        pii: &PiiKey,
        country: Option<CountryCode>,
    ) -> Result<NewAuditEvent, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match self.event_type {
            None => errors.push("eventType", "is required"),
            Some(t) if !client_may_record(t) => errors.push(
                "eventType",
                format!("{} is recorded by the service itself", t.as_str()),
            ),
            Some(_) => {}
        }
        let mut t = |field: &str, v: Option<String>, max| text(&mut errors, field, v, max);
        let person = t("customerPersonalCode", self.customer_personal_code, 64)
            .map(|code| pii.pseudonymise(&code, country));
        let event = NewAuditEvent {
            id,
            created_at: now,
            event_type: self.event_type.unwrap_or(EventType::Failure),
            event_origin: Some(client_origin(caller)),
            creator: Some(caller.recorded_user()),
            document_id: t("documentId", self.document_id, MAX_TEXT),
            signer_id: self.signer_id.map(EntryId::from_uuid),
            customer_personal_code: person.as_ref().map(|p| p.masked.clone()),
            note: t("note", self.note, MAX_COMMENT),
            process_id: self.process_id.map(ProcessId::from_uuid),
            ip_address: t("ipAddress", self.ip_address, 64).or_else(|| caller.ip_address.clone()),
            container_id: t("containerId", self.container_id, MAX_TEXT),
            method: t("method", self.method, MAX_TEXT),
            client_app_name: caller.client_app().map(str::to_owned),
            customer_pseudonym: person.map(|p| p.pseudonym),
        };
        errors.into_result(event)
    }
}

/// The `eventOrigin` of a client's event: its client application (else its subject), never
/// the service's own [`EVENT_ORIGIN`], which a client named so is recorded under a prefix.
fn client_origin(caller: &Caller) -> String {
    let origin = caller.client_app().unwrap_or(caller.user());
    if origin == EVENT_ORIGIN {
        format!("client:{origin}")
    } else {
        origin.to_owned()
    }
}
