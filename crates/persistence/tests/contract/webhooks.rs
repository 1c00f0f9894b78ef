//! Webhooks (PRODUCT.md section 12): subscriptions and their log, the deliveries a change
//! writes in its own transaction, and how those outbox rows are settled, given up and sent
//! again.

use std::collections::HashSet;

use pas_domain::error::Missing;
use pas_domain::ids::SubscriptionId;
use pas_domain::outbox::{OutboxFilter, OutboxPayload};
use pas_domain::paging::{AttemptSort, Direction, OutboxSort, PageRequest, WebhookSort};
use pas_domain::ports::{OutboxLease, OutboxMessage, RepoError};
use pas_domain::prelude::*;
use pas_domain::status::{OutboxChannel, OutboxKind, OutboxState, WebhookEventType as T};
use pas_domain::webhook::{
    AttemptEffect, DeliveryAttempt, Subscription, WebhookDelivery, WebhookSecret,
};
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

/// An attempt at a delivery queued at `at`.
fn queued(at: time::OffsetDateTime) -> AttemptEffect {
    AttemptEffect::Delivery { queued_at: at }
}

/// An enabled subscription of `group` (`None`: every process) to `events` (empty: all),
/// with a fresh id and secret.
fn subscription(group: Option<&str>, events: &[T]) -> Subscription {
    let id = Uuid::now_v7();
    Subscription {
        id: SubscriptionId::from_uuid(id),
        url: format!("https://hooks.example.com/{id}"),
        events: events.to_vec(),
        owner_group: group.map(str::to_owned),
        description: None,
        enabled: true,
        secret: WebhookSecret::from_bytes(id.as_bytes().repeat(2)).unwrap(),
        previous_secret: None,
        failing_since: None,
    }
}

/// Stores `subscriptions`.
async fn subscribe(ctx: &Ctx, subscriptions: &[&Subscription]) {
    for s in subscriptions {
        ctx.webhooks().insert(s, T0).await.unwrap();
    }
}

/// The webhook deliveries among `messages`, with their row ids.
fn deliveries(messages: &[OutboxMessage]) -> Vec<(Uuid, WebhookDelivery)> {
    messages
        .iter()
        .filter_map(|m| match &m.payload {
            OutboxPayload::Webhook(d) => Some((m.id, d.clone())),
            _ => None,
        })
        .collect()
}

/// The deliveries of `subscription` among `messages`, in claim order.
fn ids_of(messages: &[OutboxMessage], subscription: &Subscription) -> Vec<Uuid> {
    deliveries(messages)
        .into_iter()
        .filter(|(_, d)| d.subscription_id == subscription.id)
        .map(|(id, _)| id)
        .collect()
}

/// A claim of `owner` under a fresh fencing token.
fn lease(owner: &str) -> OutboxLease {
    OutboxLease {
        owner: owner.into(),
        token: Uuid::now_v7(),
    }
}

/// An attempt at `at` answered with `status` (`None`: no answer came).
fn attempt(s: &Subscription, at: time::OffsetDateTime, status: Option<u16>) -> DeliveryAttempt {
    DeliveryAttempt {
        id: Uuid::now_v7(),
        delivery_id: Uuid::now_v7(),
        subscription_id: s.id,
        event_type: Some(T::ProcessCompleted),
        attempted_at: at,
        succeeded: status.is_some_and(|c| (200..300).contains(&c)),
        status_code: status,
        duration_ms: 42,
        answer: status.map(|c| format!("answer {c}")),
        error: status.is_none().then(|| "connection refused".to_owned()),
    }
}

/// A started process of group `sales` with one signer who has a personal code.
fn signed_process_json() -> serde_json::Value {
    process_json(
        json!({}),
        vec![signer("Jānis Bērziņš", "janis@example.lv", "LV", LV_CODE)],
    )
}

/// Every page of `list` large enough for a test.
fn big<S: pas_domain::paging::SortField>(sort: Vec<(S, Direction)>) -> PageRequest<S> {
    PageRequest {
        page: 0,
        size: 200,
        sort,
    }
}

contract_tests! {
    /// A subscription comes back field for field, secrets and a rotation included; lists
    /// are scoped by owner groups (those for every process only in the unscoped list);
    /// update replaces every field and refuses a missing subscription.
    async fn subscriptions_round_trip_and_lists_are_scoped_by_group(ctx: Ctx) {
        let mut sales = subscription(Some("sales"), &[T::ProcessCompleted, T::SignerSigned]);
        sales.description = Some("CRM".into());
        sales.rotate(WebhookSecret::from_bytes(vec![9; 32]).unwrap(), at(1));
        let legal = subscription(Some("legal"), &[]);
        let everywhere = subscription(None, &[]);
        ctx.webhooks().insert(&sales, T0).await.unwrap();
        ctx.webhooks().insert(&legal, at(1)).await.unwrap();
        ctx.webhooks().insert(&everywhere, at(2)).await.unwrap();

        assert_eq!(ctx.webhooks().get(sales.id).await.unwrap(), Some(sales.clone()));
        assert_eq!(ctx.webhooks().get(everywhere.id).await.unwrap(), Some(everywhere.clone()));
        let unknown = SubscriptionId::from_uuid(Uuid::now_v7());
        assert_eq!(ctx.webhooks().get(unknown).await.unwrap(), None);
        let again = ctx.webhooks().insert(&sales, T0).await;
        assert_eq!(again, Err(RepoError::Duplicate("webhook subscription")));

        let newest_first = big(vec![(WebhookSort::CreatedAt, Direction::Desc)]);
        let ids = |page: pas_domain::paging::Page<Subscription>| {
            page.content.into_iter().map(|s| s.id).collect::<Vec<_>>()
        };
        let all = ctx.webhooks().list(None, &newest_first).await.unwrap();
        assert_eq!(all.total_elements, 3);
        assert_eq!(ids(all), [everywhere.id, legal.id, sales.id]);
        let groups = ["sales".to_owned(), "legal".to_owned()];
        let both = ctx.webhooks().list(Some(&groups), &newest_first).await.unwrap();
        assert_eq!(ids(both), [legal.id, sales.id], "none for every process");
        let one = ctx.webhooks().list(Some(&groups[..1]), &newest_first).await.unwrap();
        assert_eq!(one.content, vec![sales.clone()]);
        let none = ctx.webhooks().list(Some(&[]), &newest_first).await.unwrap();
        assert_eq!((none.total_elements, none.empty), (0, true));
        let by_url = big(vec![(WebhookSort::Url, Direction::Asc)]);
        let urls: Vec<String> = ctx.webhooks().list(None, &by_url).await.unwrap()
            .content.into_iter().map(|s| s.url).collect();
        let mut sorted = urls.clone();
        sorted.sort();
        assert_eq!(urls, sorted);
        let paged = PageRequest { page: 1, size: 2, sort: newest_first.sort.clone() };
        let second = ctx.webhooks().list(None, &paged).await.unwrap();
        assert_eq!((second.number_of_elements, second.last), (1, true));
        assert_eq!(ids(second), [sales.id]);

        let mut changed = sales.clone();
        changed.url = "https://other.example.com/in".into();
        changed.events = vec![];
        changed.owner_group = Some("legal".into());
        changed.description = None;
        changed.enabled = false;
        changed.previous_secret = None;
        changed.failing_since = Some(at(3) + time::Duration::microseconds(7));
        let written = changed.clone();
        let modified = ctx.webhooks().modify(sales.id, Box::new(move |s| *s = written)).await.unwrap();
        assert_eq!(modified, changed);
        assert_eq!(ctx.webhooks().get(sales.id).await.unwrap(), Some(changed.clone()));
        let created_asc = big(vec![(WebhookSort::CreatedAt, Direction::Asc)]);
        let first = ctx.webhooks().list(None, &created_asc).await.unwrap();
        assert_eq!(first.content[0].id, sales.id, "an update keeps the creation time");
        let gone = ctx.webhooks().modify(unknown, Box::new(|s| s.enabled = true)).await;
        assert_eq!(gone, Err(RepoError::NotFound(Missing::Subscription)));
        assert!(!ctx.webhooks().delete(unknown, at(4)).await.unwrap());
    }

    /// A save writes, with its audit rows, one delivery per event and enabled subscription
    /// that wants it: the body names the event type and carries the sequence of the event's
    /// audit row, and no personal data. Subscriptions of other events, of another group or
    /// disabled get none. Claims and `GET /outbox` show the rows as webhook deliveries.
    async fn a_save_writes_one_delivery_per_event_and_wanting_subscription(ctx: Ctx) {
        let all_sales = subscription(Some("sales"), &[]);
        let completed = subscription(Some("sales"), &[T::ProcessCompleted]);
        let signed_anywhere = subscription(None, &[T::SignerSigned]);
        let legal = subscription(Some("legal"), &[]);
        let mut off = subscription(Some("sales"), &[]);
        off.enabled = false;
        subscribe(&ctx, &[&all_sales, &completed, &signed_anywhere, &legal, &off]).await;

        // The creation's events (started at once) reach the subscription to every event.
        let mut process = insert_started(&ctx, signed_process_json(), T0).await;
        let created = ctx.pending_outbox().await;
        let created_deliveries = deliveries(&created);
        assert!(!created_deliveries.is_empty());
        assert!(created_deliveries.iter().all(|(_, d)| d.subscription_id == all_sales.id));
        assert!(created.iter().any(|m| m.payload.notification().is_some()), "and the emails");

        let signer_id = process.steps[0].entries[0].id;
        let read = process.clone();
        let change = process.act(signer_id, Action::Sign, None, at(1)).unwrap();
        let heard: Vec<T> = change.events.iter().filter_map(|e| T::of(e.event_type)).collect();
        assert!(heard.contains(&T::SignerSigned) && heard.contains(&T::ProcessCompleted), "{heard:?}");
        ctx.processes().save(&read, &process, &change_set(&process, change)).await.unwrap();

        let signed = deliveries(&ctx.pending_outbox().await);
        let mut got: Vec<(SubscriptionId, T)> = signed.iter().map(|(_, d)| (d.subscription_id, d.event_type)).collect();
        let mut want: Vec<(SubscriptionId, T)> = Vec::new();
        for &t in &heard {
            want.push((all_sales.id, t));
            if t == T::ProcessCompleted {
                want.push((completed.id, t));
            }
            if t == T::SignerSigned {
                want.push((signed_anywhere.id, t));
            }
        }
        got.sort();
        want.sort();
        assert_eq!(got, want);

        let trail = ctx.trail(process.id).await;
        for (_, d) in &signed {
            assert_eq!(d.process_id, process.id);
            let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
            assert_eq!(body["type"], d.event_type.as_str());
            assert_eq!(body["data"]["processId"], process.id.to_string());
            assert_eq!(body["data"]["ownerGroup"], "sales");
            let audit = trail.events.iter()
                .rfind(|e| e.event.event_type.as_str() == d.event_type.as_str())
                .unwrap();
            assert_eq!(body["data"]["sequence"], audit.sequence, "{}", d.body);
            for personal in [LV_CODE, LV_CODE_PLAIN, "janis@example.lv", "Jānis"] {
                assert!(!d.body.contains(personal), "{personal} in {}", d.body);
            }
        }
        let signer_signed = signed.iter().find(|(_, d)| d.event_type == T::SignerSigned).unwrap();
        let body: serde_json::Value = serde_json::from_str(&signer_signed.1.body).unwrap();
        assert_eq!(body["data"]["entryId"], signer_id.to_string());

        let webhooks_only = OutboxFilter { state: None, channel: Some(OutboxChannel::Webhook) };
        let listed = ctx.outbox().list(&webhooks_only, &big(vec![(OutboxSort::CreatedAt, Direction::Asc)])).await.unwrap();
        assert_eq!(listed.total_elements as usize, created_deliveries.len() + signed.len());
        for entry in &listed.content {
            assert_eq!((entry.kind, entry.channel, entry.state), (OutboxKind::WebhookEvent, OutboxChannel::Webhook, OutboxState::Pending));
            assert_eq!((entry.to.as_ref(), entry.role), (None, None));
            assert!(entry.subscription_id.is_some() && entry.process_id == Some(process.id));
        }
        let emails_only = OutboxFilter { state: None, channel: Some(OutboxChannel::Email) };
        let emails = ctx.outbox().list(&emails_only, &big(vec![(OutboxSort::CreatedAt, Direction::Asc)])).await.unwrap();
        assert!(emails.total_elements > 0);
        assert!(emails.content.iter().all(|e| e.to.is_some() && e.subscription_id.is_none()));
    }

    /// A change fanning out to more deliveries than one statement can bind (22 columns a
    /// row; SQLite binds at most 32 766 values) still writes every one of them.
    async fn a_change_fanning_out_to_many_subscriptions_writes_every_delivery(ctx: Ctx) {
        let many: Vec<Subscription> = (0..700).map(|_| subscription(Some("sales"), &[])).collect();
        subscribe(&ctx, &many.iter().collect::<Vec<_>>()).await;
        let process = insert_started(&ctx, signed_process_json(), T0).await;
        let events = ctx.trail(process.id).await.events.len();
        assert!(events * many.len() * 22 > 32_766, "{events} events");
        let webhooks_only = OutboxFilter { state: None, channel: Some(OutboxChannel::Webhook) };
        let page = PageRequest { page: 0, size: 1, sort: vec![(OutboxSort::CreatedAt, Direction::Asc)] };
        let listed = ctx.outbox().list(&webhooks_only, &page).await.unwrap();
        assert_eq!(listed.total_elements as usize, events * many.len());
    }

    /// A save refused for a version conflict writes no delivery (nor anything else); a
    /// change recorded without the process (a reminder) has no event subscribers hear about
    /// and writes emails only.
    async fn a_refused_save_writes_no_delivery_and_a_reminder_none(ctx: Ctx) {
        let everything = subscription(None, &[]);
        subscribe(&ctx, &[&everything]).await;
        let process = insert_started(&ctx, signed_process_json(), T0).await;
        assert!(!deliveries(&ctx.pending_outbox().await).is_empty());
        let signer_id = process.steps[0].entries[0].id;
        let trail_before = ctx.trail(process.id).await.events.len();

        let mut first = process.clone();
        let change = first.act(signer_id, Action::Sign, None, at(1)).unwrap();
        ctx.processes().save(&process, &first, &change_set(&first, change)).await.unwrap();
        assert!(!deliveries(&ctx.pending_outbox().await).is_empty());
        let trail_after = ctx.trail(process.id).await.events.len();
        assert!(trail_after > trail_before);

        let mut late = process.clone();
        let change = late.act(signer_id, Action::Decline, Some("no".into()), at(2)).unwrap();
        let refused = ctx.processes().save(&process, &late, &change_set(&late, change)).await;
        assert!(matches!(refused, Err(RepoError::VersionConflict { .. })), "{refused:?}");
        assert!(ctx.pending_outbox().await.is_empty(), "nothing of the refused save");
        assert_eq!(ctx.trail(process.id).await.events.len(), trail_after);

        let open = insert_started(&ctx, signed_process_json(), at(3)).await;
        ctx.pending_outbox().await;
        let open_signer = open.steps[0].entries[0].id;
        let reminder = open.remind(open_signer, at(4)).unwrap();
        ctx.processes().record(open.id, &change_set(&open, reminder)).await.unwrap();
        let reminded = ctx.pending_outbox().await;
        assert!(!reminded.is_empty(), "the reminder email");
        assert!(deliveries(&reminded).is_empty());
    }

    /// Delivery rows are leased, retried and settled like emails: a claim hands out the
    /// webhook payload with the body as written, a retry keeps it, a purge deletes it once
    /// sent.
    async fn deliveries_are_claimed_retried_sent_and_purged_like_emails(ctx: Ctx) {
        let everything = subscription(None, &[]);
        subscribe(&ctx, &[&everything]).await;
        insert_started(&ctx, signed_process_json(), T0).await;
        let a = lease("a");
        let claimed = ctx.outbox().claim(a.clone(), 100, at(1), at(2)).await.unwrap();
        let mine = deliveries(&claimed);
        assert!(!mine.is_empty());
        let (id, delivery) = mine[0].clone();
        ctx.outbox().retry_later(id, a.token, at(3), "the target answered 503".into()).await.unwrap();
        ctx.outbox().release(a.token).await.unwrap();
        let b = lease("b");
        let again = ctx.outbox().claim(b.clone(), 100, at(3), at(4)).await.unwrap();
        let row = again.iter().find(|m| m.id == id).unwrap();
        assert_eq!((row.attempts, row.created_at), (1, T0));
        assert_eq!(row.payload, OutboxPayload::Webhook(delivery), "the same bytes on every attempt");
        assert_eq!(row.payload.channel(), OutboxChannel::Webhook);
        ctx.outbox().mark_sent(id, b.token, at(3)).await.unwrap();
        let sent = ctx.outbox().get(id).await.unwrap().unwrap();
        assert_eq!((sent.state, sent.sent_at), (OutboxState::Sent, Some(at(3))));
        let purged = ctx.outbox().purge_sent(at(5), std::num::NonZeroU32::new(100).unwrap()).await.unwrap();
        assert!(purged >= 1);
        assert!(ctx.outbox().get(id).await.unwrap().is_none());
    }

    /// Failed deliveries disable a subscription after 72 h (a success in between starts the
    /// period anew), a 410 at once; the answer says when this attempt disabled it. The log
    /// keeps every field, newest first by default; an attempt for a deleted subscription is
    /// neither logged nor an error.
    async fn recorded_attempts_disable_after_72_hours_or_at_once_when_gone(ctx: Ctx) {
        let flaky = subscription(Some("sales"), &[]);
        let gone = subscription(Some("sales"), &[]);
        subscribe(&ctx, &[&flaky, &gone]).await;
        let webhooks = ctx.webhooks();

        let first = attempt(&flaky, T0, Some(500));
        assert!(!webhooks.record_attempt(&first, queued(T0)).await.unwrap());
        let stored = webhooks.get(flaky.id).await.unwrap().unwrap();
        assert_eq!((stored.enabled, stored.failing_since), (true, Some(T0)));
        assert!(!webhooks.record_attempt(&attempt(&flaky, at(71), None), queued(at(71))).await.unwrap());
        // A success clears the failing period…
        assert!(!webhooks.record_attempt(&attempt(&flaky, at(72), Some(204)), queued(at(72))).await.unwrap());
        assert_eq!(webhooks.get(flaky.id).await.unwrap().unwrap().failing_since, None);
        // …so 72 h count from the next failure.
        assert!(!webhooks.record_attempt(&attempt(&flaky, at(73), Some(502)), queued(at(73))).await.unwrap());
        assert!(!webhooks.record_attempt(&attempt(&flaky, at(144), Some(502)), queued(at(144))).await.unwrap());
        assert!(webhooks.get(flaky.id).await.unwrap().unwrap().enabled);
        assert!(webhooks.record_attempt(&attempt(&flaky, at(145), Some(502)), queued(at(145))).await.unwrap());
        let disabled = webhooks.get(flaky.id).await.unwrap().unwrap();
        assert_eq!((disabled.enabled, disabled.failing_since), (false, Some(at(73))));
        assert!(!webhooks.record_attempt(&attempt(&flaky, at(146), Some(502)), queued(at(146))).await.unwrap(), "once");

        assert!(webhooks.record_attempt(&attempt(&gone, at(1), Some(410)), AttemptEffect::Gone).await.unwrap());
        assert!(!webhooks.get(gone.id).await.unwrap().unwrap().enabled);
        assert!(!webhooks.record_attempt(&attempt(&gone, at(2), Some(410)), AttemptEffect::Gone).await.unwrap());

        let log = webhooks.attempts(flaky.id, &PageRequest::<AttemptSort>::default()).await.unwrap();
        assert_eq!(log.total_elements, 7);
        assert_eq!(log.content[0].attempted_at, at(146), "newest first");
        assert_eq!(log.content.last(), Some(&first), "every field");
        let mut ping = attempt(&flaky, at(147), None);
        ping.event_type = None;
        webhooks.record_attempt(&ping, AttemptEffect::Ping).await.unwrap();
        let oldest_first = PageRequest { page: 0, size: 3, sort: vec![(AttemptSort::AttemptedAt, Direction::Asc)] };
        let page = webhooks.attempts(flaky.id, &oldest_first).await.unwrap();
        assert_eq!((page.total_elements, page.total_pages), (8, 3));
        assert_eq!(page.content[0], first);
        let last = PageRequest { page: 2, ..oldest_first };
        assert_eq!(webhooks.attempts(flaky.id, &last).await.unwrap().content.last(), Some(&ping));
        assert_eq!(webhooks.attempts(gone.id, &PageRequest::default()).await.unwrap().total_elements, 2);

        // The log is kept as long as sent outbox rows: the retention purge deletes older
        // attempts (in batches, here of two).
        ctx.outbox().purge_sent(at(100), std::num::NonZeroU32::new(2).unwrap()).await.unwrap();
        let kept = webhooks.attempts(flaky.id, &PageRequest::default()).await.unwrap();
        assert_eq!(kept.total_elements, 4, "the attempts at 0, 71, 72 and 73 h are gone");
        assert!(kept.content.iter().all(|a| a.attempted_at >= at(100)));
        assert_eq!(webhooks.attempts(gone.id, &PageRequest::default()).await.unwrap().total_elements, 0);

        let vanished = subscription(Some("sales"), &[]);
        assert!(!webhooks.record_attempt(&attempt(&vanished, at(1), Some(500)), queued(at(1))).await.unwrap());
        assert!(webhooks.delete(gone.id, at(3)).await.unwrap());
        assert!(!webhooks.record_attempt(&attempt(&gone, at(4), Some(500)), AttemptEffect::Gone).await.unwrap());
        assert_eq!(webhooks.attempts(gone.id, &PageRequest::default()).await.unwrap().total_elements, 0);
    }

    /// Deleting a subscription deletes its log and fails its pending deliveries at once,
    /// leased ones included (their holder cannot settle them any more); sent ones and other
    /// subscriptions' deliveries are left as they are.
    async fn deleting_a_subscription_fails_its_pending_deliveries(ctx: Ctx) {
        let doomed = subscription(Some("sales"), &[]);
        let kept = subscription(Some("sales"), &[]);
        subscribe(&ctx, &[&doomed, &kept]).await;
        insert_started(&ctx, signed_process_json(), T0).await;
        let a = lease("a");
        let claimed = ctx.outbox().claim(a.clone(), 100, T0, at(1)).await.unwrap();
        let doomed_rows = ids_of(&claimed, &doomed);
        let kept_rows = ids_of(&claimed, &kept);
        assert!(doomed_rows.len() >= 2 && kept_rows.len() == doomed_rows.len());
        ctx.outbox().mark_sent(doomed_rows[0], a.token, T0).await.unwrap();
        ctx.webhooks().record_attempt(&attempt(&doomed, T0, Some(200)), queued(T0)).await.unwrap();

        assert!(ctx.webhooks().delete(doomed.id, at(1)).await.unwrap());
        assert_eq!(ctx.webhooks().get(doomed.id).await.unwrap(), None);
        assert_eq!(ctx.webhooks().attempts(doomed.id, &PageRequest::default()).await.unwrap().total_elements, 0);
        let late = ctx.outbox().mark_sent(doomed_rows[1], a.token, at(1)).await;
        assert_eq!(late, Err(RepoError::NotFound(Missing::OutboxLease)));
        for &id in &doomed_rows[1..] {
            let row = ctx.outbox().get(id).await.unwrap().unwrap();
            assert_eq!(row.state, OutboxState::Failed);
            assert_eq!(row.last_error.as_deref(), Some("the subscription was deleted"));
        }
        assert_eq!(ctx.outbox().get(doomed_rows[0]).await.unwrap().unwrap().state, OutboxState::Sent);
        assert!(!ctx.webhooks().delete(doomed.id, at(2)).await.unwrap(), "gone already");

        // The other subscription's deliveries are still delivered; the failed ones are not.
        ctx.outbox().release(a.token).await.unwrap();
        let later = ctx.outbox().claim(lease("b"), 100, at(2), at(3)).await.unwrap();
        let later_ids: HashSet<Uuid> = later.iter().map(|m| m.id).collect();
        assert!(kept_rows.iter().all(|id| later_ids.contains(id)));
        assert!(doomed_rows.iter().all(|id| !later_ids.contains(id)));
    }

    /// `POST /webhooks/{id}/deliveries/{deliveryId}/retry`: a sent or failed delivery of the
    /// subscription becomes pending, due and queued anew; a pending one stays as it is; a
    /// delivery of another subscription, or none, is not found. The answer is the state
    /// before.
    async fn requeue_sends_a_sent_or_failed_delivery_again(ctx: Ctx) {
        let mine = subscription(Some("sales"), &[]);
        let other = subscription(Some("sales"), &[]);
        subscribe(&ctx, &[&mine, &other]).await;
        insert_started(&ctx, signed_process_json(), T0).await;
        let a = lease("a");
        let claimed = ctx.outbox().claim(a.clone(), 100, T0, at(1)).await.unwrap();
        let rows = ids_of(&claimed, &mine);
        assert!(rows.len() >= 3);
        let (sent, failed, pending) = (rows[0], rows[1], rows[2]);
        ctx.outbox().mark_sent(sent, a.token, T0).await.unwrap();
        ctx.outbox().mark_failed(failed, a.token, "the target answered 500".into(), None, T0).await.unwrap();
        ctx.outbox().release(a.token).await.unwrap();
        let webhooks = ctx.webhooks();

        let foreign = ids_of(&claimed, &other)[0];
        assert_eq!(webhooks.requeue(mine.id, foreign, at(5)).await.unwrap(), None);
        assert_eq!(webhooks.requeue(mine.id, Uuid::now_v7(), at(5)).await.unwrap(), None);
        assert_eq!(webhooks.requeue(mine.id, sent, at(5)).await.unwrap(), Some(OutboxState::Sent));
        assert_eq!(webhooks.requeue(mine.id, failed, at(5)).await.unwrap(), Some(OutboxState::Failed));
        assert_eq!(webhooks.requeue(mine.id, pending, at(5)).await.unwrap(), Some(OutboxState::Pending));
        for id in [sent, failed] {
            let row = ctx.outbox().get(id).await.unwrap().unwrap();
            assert_eq!((row.state, row.queued_at, row.next_attempt_at, row.sent_at), (OutboxState::Pending, at(5), at(5), None));
        }
        let untouched = ctx.outbox().get(pending).await.unwrap().unwrap();
        assert_eq!((untouched.state, untouched.queued_at), (OutboxState::Pending, T0));
        assert_eq!(webhooks.requeue(mine.id, sent, at(6)).await.unwrap(), Some(OutboxState::Pending), "once");

        let b = lease("b");
        let due = ctx.outbox().claim(b, 100, at(5), at(6)).await.unwrap();
        let due: HashSet<Uuid> = due.iter().map(|m| m.id).collect();
        assert!(due.contains(&sent) && due.contains(&failed) && due.contains(&pending));
    }
}
