use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::auth::{Operation, Principal};
use crate::error::{Missing, ValidationErrors};
use crate::ids::SubscriptionId;
use crate::outbox::OutboxPayload;
use crate::paging::{AttemptSort, Page, PageRequest, WebhookSort};
use crate::ports::{
    Clock, Delivered, Deliverer, IdSource, OutboxMessage, WebhookSender, WebhookStore,
};
use crate::status::{OutboxState, WebhookEventType};
use crate::webhook::{
    AttemptEffect, DeliveryAttempt, Resolver, Subscription, SubscriptionInput, TargetPolicy,
    WebhookAnswer, WebhookRequest, WebhookSecret, ping_body, signature_header,
};

use super::WebhookError;

/// Webhook subscriptions (PRODUCT.md section 12) for `pas-admin` (every subscription) and
/// `pas-user` (those of its groups), and the delivery of the outbox's webhook rows (as the
/// dispatcher's [`Deliverer`]).
///
/// Every delivery, a ping included, resolves the target again and checks the address with
/// the [`TargetPolicy`] before it connects, signs with the secrets of the moment (both
/// during a rotation's overlap), and records the attempt with its effect on the
/// subscription (disabled after 72 h of failures, or at once by a 410).
#[derive(Clone)]
pub struct WebhookService {
    store: Arc<dyn WebhookStore>,
    resolver: Arc<dyn Resolver>,
    sender: Arc<dyn WebhookSender>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    policy: TargetPolicy,
}

/// A subscription just created or rotated, with the secret shown this once.
#[derive(Clone, PartialEq, Eq)]
pub struct WithSecret {
    /// The subscription.
    pub subscription: Subscription,
    /// Its signing secret (`whsec_…`).
    pub secret: String,
}

impl std::fmt::Debug for WithSecret {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithSecret")
            .field("subscription", &self.subscription)
            .finish_non_exhaustive()
    }
}

impl WebhookService {
    /// Wires the use cases to their ports; `policy` is `WEBHOOK_ALLOW_HTTP` and
    /// `WEBHOOK_ALLOW_PRIVATE`.
    pub fn new(
        store: Arc<dyn WebhookStore>,
        resolver: Arc<dyn Resolver>,
        sender: Arc<dyn WebhookSender>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        policy: TargetPolicy,
    ) -> Self {
        Self {
            store,
            resolver,
            sender,
            clock,
            ids,
            policy,
        }
    }

    /// `POST /webhooks`. A `pas-user` subscribes to one of its groups (403 otherwise; left
    /// out with exactly one group, that group); only an administrator subscribes to every
    /// process (no `ownerGroup`). The target must pass the policy now (422 on `url`) and
    /// passes it again at each delivery.
    pub async fn create(
        &self,
        mut input: SubscriptionInput,
        principal: &Principal,
    ) -> Result<WithSecret, WebhookError> {
        principal.require(Operation::CreateWebhook)?;
        input.owner_group = self.owner_group(input.owner_group.as_deref(), principal)?;
        let draft = input.validate(self.policy)?;
        self.check_target(&draft.url).await?;
        let secret = self.new_secret()?;
        let subscription = Subscription {
            id: SubscriptionId::from_uuid(self.ids.new_id()),
            url: draft.url,
            events: draft.events,
            owner_group: draft.owner_group,
            description: draft.description,
            enabled: draft.enabled.unwrap_or(true),
            secret,
            previous_secret: None,
            failing_since: None,
        };
        self.store.insert(&subscription, self.clock.now()).await?;
        Ok(WithSecret {
            secret: subscription.secret.expose(),
            subscription,
        })
    }

    /// `GET /webhooks`: every subscription for an administrator, its groups' for a
    /// `pas-user`.
    pub async fn list(
        &self,
        page: &PageRequest<WebhookSort>,
        principal: &Principal,
    ) -> Result<Page<Subscription>, WebhookError> {
        principal.require(Operation::ListWebhooks)?;
        let groups = (!principal.is_admin()).then_some(principal.groups.as_slice());
        Ok(self.store.list(groups, page).await?)
    }

    /// `GET /webhooks/{id}` (404 outside the caller's reach).
    pub async fn get(
        &self,
        id: SubscriptionId,
        principal: &Principal,
    ) -> Result<Subscription, WebhookError> {
        principal.require(Operation::GetWebhook)?;
        self.reachable(id, principal).await
    }

    /// `PUT /webhooks/{id}`: replaces url, events, owner group and description, and
    /// `enabled` when given (the secret stays). Switching a disabled subscription on starts
    /// a new failing period. Written over the subscription as stored at the write, so a
    /// rotation or a disabling in between is kept.
    pub async fn update(
        &self,
        id: SubscriptionId,
        mut input: SubscriptionInput,
        principal: &Principal,
    ) -> Result<Subscription, WebhookError> {
        principal.require(Operation::UpdateWebhook)?;
        self.reachable(id, principal).await?;
        input.owner_group = self.owner_group(input.owner_group.as_deref(), principal)?;
        let draft = input.validate(self.policy)?;
        self.check_target(&draft.url).await?;
        Ok(self
            .store
            .modify(id, Box::new(move |stored| draft.apply(stored)))
            .await?)
    }

    /// `DELETE /webhooks/{id}`: the subscription, its log and its pending deliveries go.
    pub async fn delete(
        &self,
        id: SubscriptionId,
        principal: &Principal,
    ) -> Result<(), WebhookError> {
        principal.require(Operation::DeleteWebhook)?;
        self.reachable(id, principal).await?;
        if self.store.delete(id, self.clock.now()).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound(Missing::Subscription))
        }
    }

    /// `POST /webhooks/{id}/rotate-secret`: a new secret, shown once; the old one signs
    /// beside it for 24 h.
    pub async fn rotate_secret(
        &self,
        id: SubscriptionId,
        principal: &Principal,
    ) -> Result<WithSecret, WebhookError> {
        principal.require(Operation::RotateWebhookSecret)?;
        self.reachable(id, principal).await?;
        let (secret, now) = (self.new_secret()?, self.clock.now());
        let subscription = self
            .store
            .modify(id, Box::new(move |stored| stored.rotate(secret, now)))
            .await?;
        Ok(WithSecret {
            secret: subscription.secret.expose(),
            subscription,
        })
    }

    /// `GET /webhooks/{id}/deliveries`: the attempts, newest first by default.
    pub async fn deliveries(
        &self,
        id: SubscriptionId,
        page: &PageRequest<AttemptSort>,
        principal: &Principal,
    ) -> Result<Page<DeliveryAttempt>, WebhookError> {
        principal.require(Operation::ListWebhookDeliveries)?;
        self.reachable(id, principal).await?;
        Ok(self.store.attempts(id, page).await?)
    }

    /// `POST /webhooks/{id}/deliveries/{deliveryId}/retry`: a sent or failed delivery is
    /// sent again (same `webhook-id` and body) by the dispatcher, with a whole retry period.
    /// 409 while it is still pending, 404 for a delivery the subscription does not have.
    pub async fn retry(
        &self,
        id: SubscriptionId,
        delivery: Uuid,
        principal: &Principal,
    ) -> Result<(), WebhookError> {
        principal.require(Operation::RetryWebhookDelivery)?;
        self.reachable(id, principal).await?;
        match self.store.requeue(id, delivery, self.clock.now()).await? {
            None => Err(WebhookError::NotFound(Missing::WebhookDelivery)),
            Some(OutboxState::Pending) => Err(WebhookError::StillPending),
            Some(_) => Ok(()),
        }
    }

    /// `POST /webhooks/{id}/ping`: sends `{type: "PING"}` now, whether the subscription is
    /// enabled or not (a ping is how a target is tried before switching it back on), and
    /// answers the attempt as the log records it. A ping changes nothing else: it neither
    /// ends nor extends a failing period, and never disables.
    pub async fn ping(
        &self,
        id: SubscriptionId,
        principal: &Principal,
    ) -> Result<DeliveryAttempt, WebhookError> {
        principal.require(Operation::PingWebhook)?;
        let subscription = self.reachable(id, principal).await?;
        let body = ping_body(self.clock.now()).to_string();
        let (attempt, _) = self
            .attempt(&subscription, self.ids.new_id(), None, &body, None)
            .await;
        Ok(attempt)
    }

    async fn reachable(
        &self,
        id: SubscriptionId,
        principal: &Principal,
    ) -> Result<Subscription, WebhookError> {
        let subscription = self
            .store
            .get(id)
            .await?
            .ok_or(WebhookError::NotFound(Missing::Subscription))?;
        let reaches = principal.is_admin()
            || subscription
                .owner_group
                .as_deref()
                .is_some_and(|g| principal.in_group(g));
        if reaches {
            Ok(subscription)
        } else {
            Err(WebhookError::NotFound(Missing::Subscription))
        }
    }

    /// The owner group a subscription gets: a group the caller is in (the only one when it
    /// names none and has one), or none for an administrator.
    fn owner_group(
        &self,
        named: Option<&str>,
        principal: &Principal,
    ) -> Result<Option<String>, WebhookError> {
        let named = named.map(str::trim).filter(|g| !g.is_empty());
        let group = principal.owner_group_for(named)?;
        if group.is_none() && !principal.is_admin() {
            return Err(
                ValidationErrors::single("ownerGroup", "must name one of your groups").into(),
            );
        }
        Ok(group)
    }

    async fn check_target(&self, url: &str) -> Result<(), WebhookError> {
        self.policy
            .check(url, self.resolver.as_ref())
            .await
            .map(|_| ())
            .map_err(|e| ValidationErrors::single("url", e.to_string()).into())
    }

    fn new_secret(&self) -> Result<WebhookSecret, WebhookError> {
        WebhookSecret::from_bytes(self.ids.new_secret_bytes())
            .map_err(|e| WebhookError::Storage(crate::ports::RepoError::Storage(e.to_string())))
    }

    /// One attempt: resolve and check the target, sign, send, record. `queued_at` is the
    /// delivery's (`None` for a ping). Answers the attempt and whether recording it
    /// disabled the subscription (`None` when it could not be recorded).
    async fn attempt(
        &self,
        subscription: &Subscription,
        delivery_id: Uuid,
        event_type: Option<WebhookEventType>,
        body: &str,
        queued_at: Option<time::OffsetDateTime>,
    ) -> (DeliveryAttempt, Option<bool>) {
        let now = self.clock.now();
        let answer = match self
            .policy
            .check(&subscription.url, self.resolver.as_ref())
            .await
        {
            Ok(target) => {
                let id = delivery_id.to_string();
                let timestamp = now.unix_timestamp();
                let request = WebhookRequest {
                    signature: signature_header(
                        subscription.signing_secrets(now),
                        &id,
                        timestamp,
                        body.as_bytes(),
                    ),
                    target,
                    id,
                    timestamp,
                    body: body.to_owned(),
                };
                self.sender.send(&request).await
            }
            Err(refused) => WebhookAnswer {
                status: None,
                duration: std::time::Duration::ZERO,
                body: None,
                error: Some(format!("target refused: {refused}")),
            },
        };
        let attempt = DeliveryAttempt {
            id: self.ids.new_id(),
            delivery_id,
            subscription_id: subscription.id,
            event_type,
            attempted_at: now,
            succeeded: answer.succeeded(),
            status_code: answer.status,
            duration_ms: u64::try_from(answer.duration.as_millis()).unwrap_or(u64::MAX),
            answer: answer.body.clone(),
            error: answer.error.clone(),
        };
        let effect = match queued_at {
            None => AttemptEffect::Ping,
            Some(_) if answer.gone() => AttemptEffect::Gone,
            Some(queued_at) => AttemptEffect::Delivery { queued_at },
        };
        let disabled = self.store.record_attempt(&attempt, effect).await.ok();
        (attempt, disabled)
    }
}

#[async_trait]
impl Deliverer for WebhookService {
    /// Delivers a webhook row: dropped when its subscription is gone or disabled; sent on a
    /// 2xx; given up (with a FAILURE notice) when this attempt disabled the subscription;
    /// retried otherwise. A send that succeeded counts as sent even when its attempt could
    /// not be logged (sending it again would deliver it twice).
    async fn deliver(&self, row: &OutboxMessage) -> Delivered {
        let OutboxPayload::Webhook(delivery) = &row.payload else {
            return Delivered::GiveUp("not a webhook delivery".into());
        };
        let subscription = match self.store.get(delivery.subscription_id).await {
            Ok(Some(subscription)) => subscription,
            Ok(None) => return Delivered::Dropped("the subscription was deleted".into()),
            Err(e) => return Delivered::Retry(format!("loading the subscription failed: {e}")),
        };
        if !subscription.enabled {
            return Delivered::Dropped("the subscription is disabled".into());
        }
        let (attempt, disabled) = self
            .attempt(
                &subscription,
                row.id,
                Some(delivery.event_type),
                &delivery.body,
                Some(row.queued_at),
            )
            .await;
        if attempt.succeeded {
            return Delivered::Sent;
        }
        let error = describe(&attempt);
        match disabled {
            Some(true) if attempt.status_code == Some(410) => Delivered::GiveUp(format!(
                "{error}; the target is gone, the subscription was disabled"
            )),
            Some(true) => Delivered::GiveUp(format!(
                "{error}; the subscription was disabled after 72 h of failures"
            )),
            _ => Delivered::Retry(error),
        }
    }
}

/// An attempt's failure in words, for the outbox row's `last_error`.
fn describe(attempt: &DeliveryAttempt) -> String {
    match (attempt.status_code, &attempt.error) {
        (Some(status), _) => format!("the target answered {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    }
}
