//! Webhook subscriptions and their delivery log (PRODUCT.md section 12).

use pas_domain::status::WebhookEventType;
use pas_domain::webhook as domain;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A webhook subscription: where deliveries go and about what.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSubscription {
    /// Resource identificator.
    pub id: Uuid,
    /// The target (`https`, resolving to public addresses, unless the service allows
    /// otherwise).
    #[schema(example = "https://hooks.example.com/pas")]
    pub url: String,
    /// The event types delivered; empty means every one.
    pub events: Vec<WebhookEventType>,
    /// Whose processes; `null` for every process (administrators only).
    pub owner_group: Option<String>,
    /// Free text for the subscriber's own use.
    pub description: Option<String>,
    /// Whether deliveries are made; a subscription whose deliveries failed for 72 h, or
    /// whose target answered 410, is switched off.
    pub enabled: bool,
    /// Since when every delivery failed; `null` while deliveries succeed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    /// The signing secret (`whsec_` + base64): only in the answers of create and
    /// rotate-secret, shown this once; `null` everywhere else.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for WebhookSubscription {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSubscription")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl From<domain::Subscription> for WebhookSubscription {
    fn from(s: domain::Subscription) -> Self {
        Self {
            id: s.id.as_uuid(),
            url: s.url,
            events: s.events,
            owner_group: s.owner_group,
            description: s.description,
            enabled: s.enabled,
            failing_since: s.failing_since,
            secret: None,
        }
    }
}

impl From<pas_domain::service::WithSecret> for WebhookSubscription {
    fn from(created: pas_domain::service::WithSecret) -> Self {
        Self {
            secret: Some(created.secret),
            ..Self::from(created.subscription)
        }
    }
}

/// A webhook subscription as a client writes it (`PUT` replaces every field).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSubscriptionInput {
    /// The target URL.
    #[schema(example = "https://hooks.example.com/pas")]
    pub url: String,
    /// The event types delivered; empty or left out means every one.
    #[serde(default)]
    pub events: Vec<WebhookEventType>,
    /// Whose processes: one of the caller's groups (left out with exactly one group, that
    /// group); left out by an administrator, every process.
    pub owner_group: Option<String>,
    /// Free text (at most 500 characters).
    pub description: Option<String>,
    /// Whether deliveries are made (left out: true for a new subscription, unchanged by a
    /// `PUT`). Switching a disabled subscription back on starts a new failing period.
    pub enabled: Option<bool>,
}

impl From<WebhookSubscriptionInput> for domain::SubscriptionInput {
    fn from(w: WebhookSubscriptionInput) -> Self {
        Self {
            url: w.url,
            events: w.events,
            owner_group: w.owner_group,
            description: w.description,
            enabled: w.enabled,
        }
    }
}

/// One attempt to deliver to a subscription.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryAttempt {
    /// Id of the attempt.
    pub id: Uuid,
    /// The delivery: its `webhook-id`, the same on every attempt (retry it with
    /// `POST /webhooks/{id}/deliveries/{deliveryId}/retry`).
    pub delivery_id: Uuid,
    /// The event type; `null` for a ping.
    pub event_type: Option<WebhookEventType>,
    /// When the attempt started.
    #[serde(with = "time::serde::rfc3339")]
    pub attempted_at: OffsetDateTime,
    /// The target answered 2xx within 10 s.
    pub succeeded: bool,
    /// The target's status code; `null` when no answer came.
    pub status_code: Option<u16>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// The first 1 KiB of the answer's body.
    pub answer: Option<String>,
    /// Why it failed when no status code tells (refused, timed out, target not allowed).
    pub error: Option<String>,
}

impl From<domain::DeliveryAttempt> for WebhookDeliveryAttempt {
    fn from(a: domain::DeliveryAttempt) -> Self {
        Self {
            id: a.id,
            delivery_id: a.delivery_id,
            event_type: a.event_type,
            attempted_at: a.attempted_at,
            succeeded: a.succeeded,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            answer: a.answer,
            error: a.error,
        }
    }
}
