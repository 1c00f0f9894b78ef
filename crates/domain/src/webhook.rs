//! Webhooks (PRODUCT.md section 12): how a delivery is signed (Standard Webhooks 1.0), what
//! its body says, and which targets may be called.
//!
//! Pure like the rest of the domain: secrets come in as values (their randomness from the
//! caller), and a target's addresses from a [`Resolver`] the adapter provides, so that the
//! address checked is the address connected to (no second lookup a DNS answer could change
//! in between).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::error::ValidationErrors;
use crate::events::DomainEvent;
use crate::ids::{ProcessId, SubscriptionId};
use crate::process::ProcessData;
use crate::status::WebhookEventType;

/// The fewest secret bytes a signing secret may have (the Standard Webhooks range is 24–64).
pub const MIN_SECRET_BYTES: usize = 24;
/// The most secret bytes a signing secret may have.
pub const MAX_SECRET_BYTES: usize = 64;

/// A subscription's signing secret. Shown once, as `whsec_` + base64 ([`WebhookSecret::expose`]);
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

/// Why a text or some bytes are not a signing secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not `whsec_` followed by base64.
    #[error("a webhook secret is whsec_ followed by base64")]
    Format,
    /// Too few or too many bytes.
    #[error("a webhook secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {0}")]
    Length(usize),
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// What the text form starts with.
    pub const PREFIX: &'static str = "whsec_";

    /// The secret `bytes` (e.g. 32 random bytes from the adapter).
    ///
    /// ```
    /// use pas_domain::webhook::WebhookSecret;
    /// assert!(WebhookSecret::from_bytes(vec![7; 32]).is_ok());
    /// assert!(WebhookSecret::from_bytes(vec![7; 8]).is_err());
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            Ok(Self(bytes))
        } else {
            Err(SecretError::Length(bytes.len()))
        }
    }

    /// The secret of its text form, `whsec_` + base64 (as stored, and as a subscriber holds it).
    ///
    /// ```
    /// use pas_domain::webhook::WebhookSecret;
    /// let secret = WebhookSecret::from_bytes(vec![7; 32]).unwrap();
    /// assert_eq!(WebhookSecret::parse(&secret.expose()), Ok(secret));
    /// assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(Self::PREFIX).ok_or(SecretError::Format)?;
        let bytes = BASE64.decode(encoded).map_err(|_| SecretError::Format)?;
        Self::from_bytes(bytes)
    }

    /// The text form, `whsec_` + base64: answered once when the secret is made.
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, BASE64.encode(&self.0))
    }

    /// The Standard Webhooks signature of one delivery: `v1,` + base64 of the HMAC-SHA256,
    /// under this secret, of `id.timestamp.body`.
    ///
    /// ```
    /// use pas_domain::webhook::WebhookSecret;
    /// // The specification's published test vector.
    /// let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// assert_eq!(
    ///     secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#),
    ///     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    /// );
    /// ```
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // The key is 24–64 bytes, which HMAC takes whatever its length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC-SHA256 accepts keys of any length")
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header of one delivery: one signature per secret, separated by
/// spaces (two while a rotated secret's 24 hours of overlap last).
///
/// ```
/// use pas_domain::webhook::{WebhookSecret, signature_header};
/// let old = WebhookSecret::from_bytes(vec![1; 32]).unwrap();
/// let new = WebhookSecret::from_bytes(vec![2; 32]).unwrap();
/// let header = signature_header([&new, &old], "msg_1", 1_700_000_000, b"{}");
/// assert_eq!(header.split(' ').count(), 2);
/// assert!(header.split(' ').all(|s| s.starts_with("v1,")));
/// ```
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a WebhookSecret>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .into_iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long a rotated-out secret still signs, beside the new one (PRODUCT.md section 12).
pub const ROTATION_OVERLAP: time::Duration = time::Duration::hours(24);

/// How long a subscription's deliveries may fail before it is disabled.
pub const DISABLE_AFTER: time::Duration = time::Duration::hours(72);

/// A webhook subscription: where deliveries go, about what, and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Server-made id.
    pub id: SubscriptionId,
    /// The target, as given (checked with [`TargetPolicy`] when written and before each
    /// delivery).
    pub url: String,
    /// The event types delivered; empty means every one.
    pub events: Vec<WebhookEventType>,
    /// Whose processes: one owner group, or `None` for every process (administrators only).
    pub owner_group: Option<String>,
    /// Free text for the subscriber's own use.
    pub description: Option<String>,
    /// Whether deliveries are made; a subscription failing for [`DISABLE_AFTER`] is
    /// switched off.
    pub enabled: bool,
    /// The signing secret.
    pub secret: WebhookSecret,
    /// The secret before the last rotation and until when it still signs.
    pub previous_secret: Option<(WebhookSecret, OffsetDateTime)>,
    /// Since when every delivery failed (cleared by a success).
    pub failing_since: Option<OffsetDateTime>,
}

impl Subscription {
    /// Whether an event of `event_type` on a process of `owner_group` is delivered here.
    ///
    /// ```
    /// # use pas_domain::webhook::{Subscription, WebhookSecret};
    /// # use pas_domain::ids::SubscriptionId;
    /// use pas_domain::status::WebhookEventType as T;
    /// let sales = Subscription {
    ///     id: SubscriptionId::from_uuid(uuid::Uuid::nil()),
    ///     url: "https://hooks.example.com/pas".into(),
    ///     events: vec![T::ProcessCompleted],
    ///     owner_group: Some("sales".into()),
    ///     description: None,
    ///     enabled: true,
    ///     secret: WebhookSecret::from_bytes(vec![1; 32]).unwrap(),
    ///     previous_secret: None,
    ///     failing_since: None,
    /// };
    /// assert!(sales.wants(T::ProcessCompleted, Some("sales")));
    /// assert!(!sales.wants(T::ProcessStarted, Some("sales")));
    /// assert!(!sales.wants(T::ProcessCompleted, Some("legal")));
    /// assert!(!sales.wants(T::ProcessCompleted, None));
    /// ```
    pub fn wants(&self, event_type: WebhookEventType, owner_group: Option<&str>) -> bool {
        self.enabled
            && (self.events.is_empty() || self.events.contains(&event_type))
            && match &self.owner_group {
                None => true,
                Some(group) => owner_group == Some(group.as_str()),
            }
    }

    /// The secrets a delivery at `now` is signed with: the current one, and the previous
    /// one during the [`ROTATION_OVERLAP`] after a rotation.
    pub fn signing_secrets(&self, now: OffsetDateTime) -> Vec<&WebhookSecret> {
        let previous = self
            .previous_secret
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(secret, _)| secret);
        std::iter::once(&self.secret).chain(previous).collect()
    }

    /// Switches deliveries back on with a new failing period: the failures before the
    /// subscription was disabled do not count against it again.
    pub fn enable(&mut self) {
        self.enabled = true;
        self.failing_since = None;
    }

    /// Replaces the secret by `new`; the old one signs beside it for [`ROTATION_OVERLAP`].
    /// A second rotation within that time ends the first one's overlap at once: only the
    /// secret just replaced keeps signing (rotating again is what one does when a secret
    /// leaked, and the leaked one must stop).
    ///
    /// ```
    /// # use pas_domain::webhook::{Subscription, WebhookSecret};
    /// # use pas_domain::ids::SubscriptionId;
    /// # use time::macros::datetime;
    /// # let mut s = Subscription {
    /// #     id: SubscriptionId::from_uuid(uuid::Uuid::nil()),
    /// #     url: "https://hooks.example.com/pas".into(), events: vec![], owner_group: None,
    /// #     description: None, enabled: true,
    /// #     secret: WebhookSecret::from_bytes(vec![1; 32]).unwrap(),
    /// #     previous_secret: None, failing_since: None,
    /// # };
    /// let now = datetime!(2026-11-28 10:00 UTC);
    /// s.rotate(WebhookSecret::from_bytes(vec![2; 32]).unwrap(), now);
    /// assert_eq!(s.signing_secrets(now).len(), 2);
    /// assert_eq!(s.signing_secrets(datetime!(2026-11-29 10:00 UTC)).len(), 1);
    /// ```
    pub fn rotate(&mut self, new: WebhookSecret, now: OffsetDateTime) {
        let old = std::mem::replace(&mut self.secret, new);
        self.previous_secret = Some((old, now + ROTATION_OVERLAP));
    }

    /// Records what an attempt at `now` tells about the target; true when this attempt
    /// disabled the subscription. A success ends the failing period; a failure of a
    /// delivery queued at `queued_at` starts it (when none runs) at `queued_at`, since the
    /// delivery has failed from then: the attempt that gives a delivery up after
    /// `MAIL_GIVE_UP_AFTER` (72 h) also disables the subscription. A 410 disables it at
    /// once. A ping has no effect.
    ///
    /// ```
    /// # use pas_domain::webhook::{AttemptEffect, Subscription, WebhookSecret};
    /// # use pas_domain::ids::SubscriptionId;
    /// # use time::macros::datetime;
    /// # let mut s = Subscription {
    /// #     id: SubscriptionId::from_uuid(uuid::Uuid::nil()),
    /// #     url: "https://hooks.example.com/pas".into(), events: vec![], owner_group: None,
    /// #     description: None, enabled: true,
    /// #     secret: WebhookSecret::from_bytes(vec![1; 32]).unwrap(),
    /// #     previous_secret: None, failing_since: None,
    /// # };
    /// let queued = datetime!(2026-11-01 00:00 UTC);
    /// let failed = AttemptEffect::Delivery { queued_at: queued };
    /// assert!(!s.record_attempt(false, failed, datetime!(2026-11-01 00:01 UTC)));
    /// assert_eq!(s.failing_since, Some(queued));
    /// assert!(!s.record_attempt(false, failed, datetime!(2026-11-03 23:00 UTC)));
    /// assert!(s.record_attempt(false, failed, datetime!(2026-11-04 00:00 UTC)));
    /// assert!(!s.enabled);
    /// ```
    pub fn record_attempt(
        &mut self,
        succeeded: bool,
        effect: AttemptEffect,
        now: OffsetDateTime,
    ) -> bool {
        let queued_at = match effect {
            AttemptEffect::Ping => return false,
            AttemptEffect::Gone => {
                self.failing_since.get_or_insert(now);
                return std::mem::replace(&mut self.enabled, false);
            }
            AttemptEffect::Delivery { queued_at } => queued_at,
        };
        if succeeded {
            self.failing_since = None;
            return false;
        }
        let since = *self.failing_since.get_or_insert(queued_at.min(now));
        if self.enabled && now - since >= DISABLE_AFTER {
            self.enabled = false;
            return true;
        }
        false
    }
}

/// What a logged attempt does to its subscription ([`Subscription::record_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEffect {
    /// An attempt at a delivery queued at `queued_at`: a success ends the failing period, a
    /// failure counts towards [`DISABLE_AFTER`].
    Delivery {
        /// When the delivery was queued.
        queued_at: OffsetDateTime,
    },
    /// The target answered `410 Gone`: the subscription is disabled at once.
    Gone,
    /// A ping: logged, nothing else (it is how a target is tried, disabled or not).
    Ping,
}

/// How long a target has to answer a delivery (PRODUCT.md section 12).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a target's answer the delivery log keeps.
pub const ANSWER_BYTES: usize = 1024;

/// The longest target URL (characters).
pub const MAX_URL_CHARS: usize = 2048;

/// The longest description (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A subscription as a client writes it (`POST /webhooks`, and `PUT /webhooks/{id}`, which
/// replaces every field). Checked by [`SubscriptionInput::validate`] after the caller's
/// role and group were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase", default))]
pub struct SubscriptionInput {
    /// The target URL.
    pub url: String,
    /// The event types delivered; empty means every one.
    pub events: Vec<WebhookEventType>,
    /// Whose processes; `None` for every process (administrators only).
    pub owner_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Whether deliveries are made (left out: `true` for a new subscription, unchanged for
    /// an edited one).
    pub enabled: Option<bool>,
}

/// A valid [`SubscriptionInput`]: what a store writes besides the id and secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionDraft {
    /// The target URL, trimmed; its form passed [`TargetPolicy::parse_url`].
    pub url: String,
    /// The event types, without repeats, in the order given.
    pub events: Vec<WebhookEventType>,
    /// Whose processes.
    pub owner_group: Option<String>,
    /// Free text, trimmed; `None` when blank.
    pub description: Option<String>,
    /// Whether deliveries are made; `None` when left out (a new subscription is enabled,
    /// an edited one keeps its state).
    pub enabled: Option<bool>,
}

impl SubscriptionDraft {
    /// Writes the draft over `subscription`'s fields (its id and secrets stay). Switching
    /// a disabled subscription on starts a new failing period.
    pub fn apply(self, subscription: &mut Subscription) {
        match self.enabled {
            Some(true) if !subscription.enabled => subscription.enable(),
            Some(enabled) => subscription.enabled = enabled,
            None => {}
        }
        subscription.url = self.url;
        subscription.events = self.events;
        subscription.owner_group = self.owner_group;
        subscription.description = self.description;
    }
}

impl SubscriptionInput {
    /// The draft, or every rule the input broke. The URL's form is checked with `policy`
    /// (scheme, no credentials); whether its host resolves to allowed addresses is the
    /// use case's next step, since it needs the resolver.
    ///
    /// ```
    /// use pas_domain::webhook::{SubscriptionInput, TargetPolicy};
    /// use pas_domain::status::WebhookEventType as T;
    /// let input = SubscriptionInput {
    ///     url: " https://hooks.example.com/pas ".into(),
    ///     events: vec![T::ProcessCompleted, T::ProcessCompleted],
    ///     ..SubscriptionInput::default()
    /// };
    /// let draft = input.clone().validate(TargetPolicy::default()).unwrap();
    /// assert_eq!(draft.url, "https://hooks.example.com/pas");
    /// assert_eq!(draft.events, vec![T::ProcessCompleted]);
    /// assert_eq!(draft.enabled, None);
    ///
    /// let plain = SubscriptionInput { url: "http://hooks.example.com".into(), ..input };
    /// let errors = plain.validate(TargetPolicy::default()).unwrap_err();
    /// assert_eq!(errors.errors[0].field, "url");
    /// ```
    pub fn validate(self, policy: TargetPolicy) -> Result<SubscriptionDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let url = self.url.trim().to_owned();
        if url.is_empty() {
            errors.push("url", "must not be empty");
        } else if url.chars().count() > MAX_URL_CHARS {
            errors.push(
                "url",
                format!("must be at most {MAX_URL_CHARS} characters long"),
            );
        } else if let Err(e) = policy.parse_url(&url) {
            errors.push("url", e.to_string());
        }
        let mut events = Vec::with_capacity(self.events.len());
        for event in self.events {
            if !events.contains(&event) {
                events.push(event);
            }
        }
        let description = self
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            errors.push(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters long"),
            );
        }
        errors.into_result(SubscriptionDraft {
            url,
            events,
            owner_group: self.owner_group,
            description,
            enabled: self.enabled,
        })
    }
}

/// A delivery waiting in the outbox: one event for one subscription. Its row id is the
/// `webhook-id`, the same on every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The subscription it goes to.
    pub subscription_id: SubscriptionId,
    /// The event.
    pub event_type: WebhookEventType,
    /// The process it is about.
    pub process_id: ProcessId,
    /// The body as it is sent: fixed when the change was written ([`event_body`]), so that
    /// every attempt sends the same bytes.
    pub body: String,
}

/// One attempt to deliver, as `GET /webhooks/{id}/deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// Id of the attempt.
    pub id: uuid::Uuid,
    /// The delivery: its `webhook-id` (the outbox row's id; a ping has its own).
    pub delivery_id: uuid::Uuid,
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The event type; `None` for a ping.
    pub event_type: Option<WebhookEventType>,
    /// When the attempt started.
    pub attempted_at: OffsetDateTime,
    /// The target answered 2xx in time.
    pub succeeded: bool,
    /// The target's status code; `None` when no answer came (refused, timed out, target
    /// not allowed).
    pub status_code: Option<u16>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// The first [`ANSWER_BYTES`] of the answer's body.
    pub answer: Option<String>,
    /// Why it failed, when no status code tells.
    pub error: Option<String>,
}

/// What the sender adapter is asked to send: the checked target and the signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Where: the URL and the one checked address to connect to.
    pub target: CheckedTarget,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (seconds since the epoch).
    pub timestamp: i64,
    /// `webhook-signature` ([`signature_header`]).
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// What came back from a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    /// The status code, when an answer came.
    pub status: Option<u16>,
    /// How long it took.
    pub duration: Duration,
    /// The first [`ANSWER_BYTES`] of the body (lossy UTF-8).
    pub body: Option<String>,
    /// Why no answer came (refused, [`TIMEOUT`], TLS), when none did.
    pub error: Option<String>,
}

impl WebhookAnswer {
    /// A 2xx status: the delivery succeeded.
    ///
    /// ```
    /// # use pas_domain::webhook::WebhookAnswer;
    /// let answer = |status| WebhookAnswer {
    ///     status, duration: std::time::Duration::ZERO, body: None, error: None,
    /// };
    /// assert!(answer(Some(204)).succeeded());
    /// assert!(!answer(Some(302)).succeeded());
    /// assert!(!answer(None).succeeded());
    /// ```
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// A 410 Gone: the target says the subscription is gone for good, so it is disabled at
    /// once instead of retried for 72 h (as Standard Webhooks recommends).
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }
}

/// The first [`ANSWER_BYTES`] of an answer body as text (cut on a character boundary).
///
/// ```
/// use pas_domain::webhook::{ANSWER_BYTES, cut_answer};
/// assert_eq!(cut_answer(b"ok"), "ok");
/// assert_eq!(cut_answer(&[b'a'; 5000]).len(), ANSWER_BYTES);
/// ```
pub fn cut_answer(body: &[u8]) -> String {
    let head = &body[..body.len().min(ANSWER_BYTES)];
    let text = String::from_utf8_lossy(head);
    let mut cut = text.into_owned();
    while cut.len() > ANSWER_BYTES {
        cut.pop();
    }
    cut
}

/// The body of a delivery about an event, `{type, timestamp, data}` (PRODUCT.md section 12):
/// the process, the acting entry's id and role, and the audit `sequence` of the event (for
/// ordering: delivery is at least once and may be out of order). No personal code, name or
/// email, so a subscriber learns nothing about a person it could not read in the process.
/// `None` for event types subscribers do not hear about.
///
/// ```
/// use pas_domain::prelude::*;
/// use pas_domain::webhook::event_body;
/// use time::macros::datetime;
///
/// let input: ProcessInput = serde_json::from_value(serde_json::json!({
///     "documentId": "contract-7", "status": "STARTED", "ownerGroup": "sales",
///     "signingProcessSteps": [{"processStepSigners": [{
///         "signerRole": "SIGNER", "signerCountry": "EE",
///         "signerPersonalCode": "37605030299", "signerEmail": "mari@example.ee"
///     }]}]
/// })).unwrap();
/// let ids = SequentialIds::default();
/// let (mut process, _) =
///     SigningProcess::create(input.validate().unwrap(), &ids, datetime!(2026-03-01 9:00 UTC)).unwrap();
/// let signer = process.entries().next().unwrap().id;
/// let change = process.act(signer, Action::Sign, None, datetime!(2026-03-01 9:05 UTC)).unwrap();
///
/// let body = event_body(&change.events[0], &process, 7).unwrap();
/// assert_eq!(body["type"], "SIGNER_SIGNED");
/// assert_eq!(body["data"]["entryId"], signer.to_string());
/// assert_eq!(body["data"]["signerRole"], "SIGNER");
/// assert_eq!(body["data"]["sequence"], 7);
/// assert!(!body.to_string().contains("37605030299"));
/// ```
pub fn event_body(
    event: &DomainEvent,
    process: &ProcessData,
    sequence: i64,
) -> Option<serde_json::Value> {
    let event_type = WebhookEventType::of(event.event_type)?;
    let entry = event
        .signer_id
        .and_then(|id| process.find_entry(id))
        .map(|(_, entry)| entry);
    Some(serde_json::json!({
        "type": event_type.as_str(),
        "timestamp": rfc3339(event.occurred_at),
        "data": {
            "processId": process.id.to_string(),
            "documentId": process.header.document_id,
            "documentName": process.header.document_name,
            "status": process.status.as_str(),
            "ownerGroup": process.header.owner_group,
            "entryId": entry.map(|e| e.id.to_string()),
            "signerRole": entry.map(|e| e.details.signer_role.as_str()),
            "sequence": sequence,
        }
    }))
}

/// The body of `POST /webhooks/{id}/ping`: `{type: "PING", timestamp, data: {}}`.
///
/// ```
/// let body = pas_domain::webhook::ping_body(time::macros::datetime!(2026-11-28 10:00 UTC));
/// assert_eq!(body["type"], "PING");
/// ```
pub fn ping_body(now: OffsetDateTime) -> serde_json::Value {
    serde_json::json!({"type": "PING", "timestamp": rfc3339(now), "data": {}})
}

fn rfc3339(at: OffsetDateTime) -> String {
    crate::timestamp::rfc3339(at)
}

/// Which targets may be called (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOW_PRIVATE`): by default
/// `https` to public addresses only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// `http://` targets are allowed too.
    pub allow_http: bool,
    /// Targets may resolve to loopback, private, link-local and other non-public addresses.
    pub allow_private: bool,
}

/// Why a target may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    NotAUrl,
    /// Neither `https` nor (when allowed) `http`.
    #[error("the scheme must be https{}", if *.allow_http { " or http" } else { "" })]
    Scheme {
        /// Whether `http` was allowed.
        allow_http: bool,
    },
    /// User name or password in the URL: they would be sent to whoever answers.
    #[error("a target URL carries no user name or password")]
    Credentials,
    /// The host resolves to no address.
    #[error("the host {host} does not resolve")]
    Unresolved {
        /// The host.
        host: String,
    },
    /// The host resolves to an address that is not public.
    /// The message leaves the address out: it would tell a subscriber the internal address
    /// of a name (`db.corp` is 10.1.2.3); the adapter may log it.
    #[error("the host {host} resolves to an address that is not public")]
    NotPublic {
        /// The host.
        host: String,
        /// The first address that is not public.
        address: IpAddr,
    },
}

/// A target that passed the policy: the URL, and the one address to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedTarget {
    /// The URL as given (its host goes into `Host` and TLS's server name).
    pub url: url::Url,
    /// The checked address and the port.
    pub address: SocketAddr,
}

/// Looks up the addresses of a host (the adapter's DNS; a stub in tests).
#[async_trait]
pub trait Resolver: Send + Sync {
    /// The addresses of `host`; empty when it does not resolve.
    async fn resolve(&self, host: &str) -> Vec<IpAddr>;
}

impl TargetPolicy {
    /// The URL of a target, when its form is allowed (`POST`/`PUT /webhooks` check this
    /// before resolving).
    ///
    /// ```
    /// use pas_domain::webhook::{TargetError, TargetPolicy};
    /// let strict = TargetPolicy::default();
    /// assert!(strict.parse_url("https://hooks.example.com/pas").is_ok());
    /// assert_eq!(
    ///     strict.parse_url("http://hooks.example.com/pas"),
    ///     Err(TargetError::Scheme { allow_http: false })
    /// );
    /// ```
    pub fn parse_url(&self, text: &str) -> Result<url::Url, TargetError> {
        let url = url::Url::parse(text).map_err(|_| TargetError::NotAUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => {
                return Err(TargetError::Scheme {
                    allow_http: self.allow_http,
                });
            }
        }
        if url.host().is_none() {
            return Err(TargetError::NotAUrl);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        Ok(url)
    }

    /// The target of `text` resolved with `resolver` and checked: every address the host
    /// has must be public (unless private ones are allowed), and the first is the one to
    /// connect to. Run before every delivery, not only when subscribing: a name's addresses
    /// can change.
    ///
    /// ```
    /// use std::net::IpAddr;
    /// use pas_domain::webhook::{Resolver, TargetError, TargetPolicy};
    /// struct Fixed(Vec<IpAddr>);
    /// #[async_trait::async_trait]
    /// impl Resolver for Fixed {
    ///     async fn resolve(&self, _host: &str) -> Vec<IpAddr> { self.0.clone() }
    /// }
    /// let private = Fixed(vec!["10.1.2.3".parse().unwrap()]);
    /// let checked = pollster::block_on(
    ///     TargetPolicy::default().check("https://hooks.example.com/x", &private),
    /// );
    /// assert!(matches!(checked, Err(TargetError::NotPublic { .. })));
    /// ```
    pub async fn check(
        &self,
        text: &str,
        resolver: &dyn Resolver,
    ) -> Result<CheckedTarget, TargetError> {
        let url = self.parse_url(text)?;
        let port = url.port_or_known_default().ok_or(TargetError::NotAUrl)?;
        let (host, addresses) = match url.host() {
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), vec![IpAddr::V4(ip)]),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), vec![IpAddr::V6(ip)]),
            Some(url::Host::Domain(name)) => (name.to_owned(), resolver.resolve(name).await),
            None => return Err(TargetError::NotAUrl),
        };
        let Some(&first) = addresses.first() else {
            return Err(TargetError::Unresolved { host });
        };
        if !self.allow_private
            && let Some(&address) = addresses.iter().find(|a| !is_public(**a))
        {
            return Err(TargetError::NotPublic { host, address });
        }
        Ok(CheckedTarget {
            url,
            address: SocketAddr::new(first, port),
        })
    }
}

/// Whether `address` is a public (globally routed unicast) address: not loopback,
/// unspecified, private (RFC 1918, unique local), shared (CGNAT), link-local, multicast,
/// broadcast, documentation, benchmarking or reserved, and not one of those wrapped in an
/// IPv6 form (mapped, compatible, NAT64, 6to4).
///
/// ```
/// use pas_domain::webhook::is_public;
/// assert!(is_public("93.184.216.34".parse().unwrap()));
/// for private in ["127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
///                 "100.64.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"] {
///     assert!(!is_public(private.parse().unwrap()), "{private}");
/// }
/// ```
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let [first, second, ..] = ip.segments();
    // Only global unicast (2000::/3) is routed on the internet: everything else (loopback,
    // unique and link local, multicast, NAT64 prefixes such as 64:ff9b:1::/48, translated
    // and compatible forms) is refused without naming each range.
    (first & 0xe000) == 0x2000
        && !(first == 0x2001 && second == 0x0db8) // documentation
        && !(first == 0x2001 && second < 0x0200) // IETF assignments (Teredo, ORCHID …)
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail()),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail()),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard Webhooks' published vector, verified here by an implementation written apart
    /// from [`WebhookSecret::sign`] (the `hmac` crate straight on the decoded key).
    #[test]
    fn signatures_reproduce_the_published_test_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signed = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

        let key = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.");
        mac.update(body);
        let expected = BASE64
            .decode("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
            .unwrap();
        assert!(mac.verify_slice(&expected).is_ok());
    }

    #[test]
    fn secrets_round_trip_and_refuse_bad_forms() {
        let secret = WebhookSecret::from_bytes((0..32).collect()).unwrap();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_eq!(WebhookSecret::parse("whsec_!!!"), Err(SecretError::Format));
        assert_eq!(
            WebhookSecret::parse("whsec_AAAA"),
            Err(SecretError::Length(3))
        );
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn a_rotated_subscription_signs_with_both_secrets() {
        let old = WebhookSecret::from_bytes(vec![1; 32]).unwrap();
        let new = WebhookSecret::from_bytes(vec![2; 32]).unwrap();
        let header = signature_header([&new, &old], "msg_x", 1_700_000_000, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [
                new.sign("msg_x", 1_700_000_000, b"{}"),
                old.sign("msg_x", 1_700_000_000, b"{}")
            ]
        );
        assert_ne!(parts[0], parts[1]);
    }

    fn subscription(events: Vec<WebhookEventType>, group: Option<&str>) -> Subscription {
        Subscription {
            id: SubscriptionId::from_uuid(uuid::Uuid::nil()),
            url: "https://hooks.example.com/pas".into(),
            events,
            owner_group: group.map(str::to_owned),
            description: None,
            enabled: true,
            secret: WebhookSecret::from_bytes(vec![1; 32]).unwrap(),
            previous_secret: None,
            failing_since: None,
        }
    }

    #[test]
    fn an_empty_event_list_is_every_event_and_no_group_is_every_process() {
        let all = subscription(vec![], None);
        for event in WebhookEventType::ALL {
            assert!(all.wants(*event, Some("sales")));
            assert!(all.wants(*event, None));
        }
        let mut off = subscription(vec![], None);
        off.enabled = false;
        assert!(!off.wants(WebhookEventType::ProcessStarted, Some("sales")));
    }

    #[test]
    fn enabling_again_starts_a_new_failing_period() {
        use time::macros::datetime;
        let mut s = subscription(vec![], None);
        assert!(!s.record_delivery(false, datetime!(2026-11-01 00:00 UTC)));
        assert!(s.record_delivery(false, datetime!(2026-11-04 00:00 UTC)));
        s.enable();
        assert!(s.enabled);
        assert!(
            !s.record_delivery(false, datetime!(2026-11-10 00:00 UTC)),
            "not at once"
        );
        assert!(s.enabled);
        // A 410 disables at once, once; a ping changes nothing.
        let now = datetime!(2026-11-10 01:00 UTC);
        assert!(!s.record_attempt(false, AttemptEffect::Ping, now));
        assert!(s.record_attempt(false, AttemptEffect::Gone, now));
        assert!(!s.record_attempt(false, AttemptEffect::Gone, now));
        assert!(!s.enabled);
        assert!(!s.record_attempt(true, AttemptEffect::Ping, now));
        assert!(
            s.failing_since.is_some(),
            "a ping does not end the failing period"
        );
    }

    #[test]
    fn the_refusal_does_not_tell_the_internal_address() {
        let stub = Stub(ips(&["10.1.2.3"]));
        let err = check(TargetPolicy::default(), "https://db.corp/x", &stub).unwrap_err();
        assert!(!err.to_string().contains("10.1.2.3"), "{err}");
    }

    #[test]
    fn a_success_clears_the_failing_period() {
        use time::macros::datetime;
        let mut s = subscription(vec![], Some("sales"));
        assert!(!s.record_delivery(false, datetime!(2026-11-01 00:00 UTC)));
        assert!(!s.record_delivery(true, datetime!(2026-11-02 00:00 UTC)));
        assert_eq!(s.failing_since, None);
        // Failing again starts a new period: 72 h from the first failure after the success.
        assert!(!s.record_delivery(false, datetime!(2026-11-04 00:00 UTC)));
        assert!(!s.record_delivery(false, datetime!(2026-11-06 23:59 UTC)));
        assert!(s.enabled);
        assert!(s.record_delivery(false, datetime!(2026-11-07 00:00 UTC)));
        assert!(!s.enabled);
        assert!(
            !s.record_delivery(false, datetime!(2026-11-08 00:00 UTC)),
            "disabled once"
        );
    }

    #[test]
    fn a_delivery_failing_since_it_was_queued_disables_when_it_is_given_up() {
        use time::macros::datetime;
        let mut s = subscription(vec![], Some("sales"));
        let queued = datetime!(2026-11-01 00:00 UTC);
        let delivery = AttemptEffect::Delivery { queued_at: queued };
        // First tried a while after it was queued (a dispatcher round later).
        assert!(!s.record_attempt(false, delivery, datetime!(2026-11-01 00:05 UTC)));
        // Its last attempt, at queued + 72 h (MAIL_GIVE_UP_AFTER), disables.
        assert!(s.record_attempt(false, delivery, datetime!(2026-11-04 00:00 UTC)));
    }

    impl Subscription {
        /// An attempt at a delivery queued right then.
        fn record_delivery(&mut self, succeeded: bool, now: OffsetDateTime) -> bool {
            self.record_attempt(succeeded, AttemptEffect::Delivery { queued_at: now }, now)
        }
    }

    struct Stub(Vec<IpAddr>);

    #[async_trait]
    impl Resolver for Stub {
        async fn resolve(&self, _host: &str) -> Vec<IpAddr> {
            self.0.clone()
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn check(policy: TargetPolicy, url: &str, stub: &Stub) -> Result<CheckedTarget, TargetError> {
        pollster::block_on(policy.check(url, stub))
    }

    #[test]
    fn targets_must_be_https_to_public_addresses_by_default() {
        let strict = TargetPolicy::default();
        let public = Stub(ips(&["93.184.216.34"]));
        let checked = check(strict, "https://hooks.example.com/in", &public).unwrap();
        assert_eq!(checked.address, "93.184.216.34:443".parse().unwrap());
        assert_eq!(
            check(strict, "http://hooks.example.com/in", &public),
            Err(TargetError::Scheme { allow_http: false })
        );
        assert_eq!(
            check(strict, "ftp://hooks.example.com/in", &public),
            Err(TargetError::Scheme { allow_http: false })
        );
        assert_eq!(
            check(strict, "https://user:pw@hooks.example.com/in", &public),
            Err(TargetError::Credentials)
        );
        assert_eq!(
            check(strict, "hooks.example.com/in", &public),
            Err(TargetError::NotAUrl)
        );
        assert_eq!(
            check(strict, "https://nowhere.example/in", &Stub(vec![])),
            Err(TargetError::Unresolved {
                host: "nowhere.example".into()
            })
        );
    }

    /// Every non-public range is refused, from a resolver stub (no address is contacted),
    /// and so is a name with one public and one private address (a rebinding set-up).
    #[test]
    fn non_public_addresses_are_refused_without_the_allow_flag() {
        let strict = TargetPolicy::default();
        for address in [
            "127.0.0.1",
            "127.0.0.2",
            "0.0.0.0",
            "10.20.30.40",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.0.10",
            "169.254.169.254",
            "100.64.1.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:192.168.1.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::a00:5",
            "::ffff:0:a00:5",
            "::101",
            "2002:c0a8:101::1",
            "2001::1",
        ] {
            let stub = Stub(ips(&[address]));
            assert!(
                matches!(
                    check(strict, "https://hooks.example.com/", &stub),
                    Err(TargetError::NotPublic { .. })
                ),
                "{address} must be refused"
            );
        }
        let mixed = Stub(ips(&["93.184.216.34", "10.0.0.1"]));
        assert!(matches!(
            check(strict, "https://hooks.example.com/", &mixed),
            Err(TargetError::NotPublic { .. })
        ));
        for literal in [
            "https://127.0.0.2/in",
            "https://[::1]/in",
            "https://10.0.0.1/in",
        ] {
            assert!(matches!(
                check(strict, literal, &Stub(vec![])),
                Err(TargetError::NotPublic { .. })
            ));
        }
    }

    #[test]
    fn public_addresses_pass_including_v6_and_mapped_forms() {
        for address in [
            "93.184.216.34",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(is_public(address.parse().unwrap()), "{address}");
        }
    }

    #[test]
    fn the_allow_flags_lift_the_scheme_and_address_rules() {
        let open = TargetPolicy {
            allow_http: true,
            allow_private: true,
        };
        let local = Stub(ips(&["127.0.0.1"]));
        let checked = check(open, "http://localhost:8099/hook", &local).unwrap();
        assert_eq!(checked.address, "127.0.0.1:8099".parse().unwrap());
        assert_eq!(checked.url.host_str(), Some("localhost"));
    }
}
