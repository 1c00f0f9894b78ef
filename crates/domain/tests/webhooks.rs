//! The webhook use cases over mock ports (PRODUCT.md section 12): who may subscribe to
//! what, the target policy at subscription and at every delivery, signing with both secrets
//! during a rotation, and how a delivery's outcome settles its outbox row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use pas_domain::auth::{Principal, Role, Roles};
use pas_domain::error::Missing;
use pas_domain::ids::{ProcessId, SubscriptionId};
use pas_domain::outbox::OutboxPayload;
use pas_domain::ports::{
    Delivered, Deliverer, FixedClock, MockWebhookSender, MockWebhookStore, OutboxMessage,
    SequentialIds,
};
use pas_domain::service::{WebhookError, WebhookService};
use pas_domain::status::WebhookEventType;
use pas_domain::webhook::{
    AttemptEffect, Resolver, Subscription, SubscriptionInput, TargetPolicy, WebhookAnswer,
    WebhookDelivery, WebhookRequest, WebhookSecret,
};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-28 10:00 UTC);

/// `hooks.example.com` is public, `db.corp` private; nothing else resolves. The addresses
/// are parsed and judged by the policy, never dialled: the sender in these tests is a mock
/// (one that panics when called, unless a test expects a send).
struct Dns;

#[async_trait::async_trait]
impl Resolver for Dns {
    async fn resolve(&self, host: &str) -> Vec<IpAddr> {
        match host {
            "hooks.example.com" => vec!["93.184.216.34".parse().unwrap()],
            "db.corp" => vec!["10.1.2.3".parse().unwrap()], // parsed, never dialled
            _ => Vec::new(),
        }
    }
}

fn service(store: MockWebhookStore, sender: MockWebhookSender) -> WebhookService {
    WebhookService::new(
        Arc::new(store),
        Arc::new(Dns),
        Arc::new(sender),
        Arc::new(FixedClock(NOW)),
        Arc::new(SequentialIds::default()),
        TargetPolicy::default(),
    )
}

fn user(groups: &[&str]) -> Principal {
    Principal::new("anna", Roles::of(&[Role::User])).with_groups(groups.iter().copied())
}

fn admin() -> Principal {
    Principal::new("root", Roles::of(&[Role::Admin]))
}

fn input(url: &str) -> SubscriptionInput {
    SubscriptionInput {
        url: url.into(),
        ..SubscriptionInput::default()
    }
}

fn subscription(group: Option<&str>) -> Subscription {
    Subscription {
        id: SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
        url: "https://hooks.example.com/pas".into(),
        events: Vec::new(),
        owner_group: group.map(str::to_owned),
        description: None,
        enabled: true,
        secret: WebhookSecret::from_bytes(vec![1; 32]).unwrap(),
        previous_secret: None,
        failing_since: None,
    }
}

fn stored(s: Subscription) -> MockWebhookStore {
    let mut store = MockWebhookStore::new();
    store.expect_get().returning(move |_| Ok(Some(s.clone())));
    store
}

#[test]
fn a_user_subscribes_its_only_group_and_sees_the_secret_once() {
    let mut store = MockWebhookStore::new();
    store
        .expect_insert()
        .withf(|s, _| s.owner_group.as_deref() == Some("sales") && s.enabled)
        .times(1)
        .returning(|_, _| Ok(()));
    let created = pollster::block_on(
        service(store, MockWebhookSender::new())
            .create(input("https://hooks.example.com/pas"), &user(&["sales"])),
    )
    .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    assert_eq!(created.secret, created.subscription.secret.expose());
}

#[test]
fn only_an_administrator_subscribes_to_every_process() {
    let refused = pollster::block_on(
        service(MockWebhookStore::new(), MockWebhookSender::new()).create(
            input("https://hooks.example.com/pas"),
            &user(&["sales", "legal"]),
        ),
    );
    let Err(WebhookError::Invalid(errors)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(errors.errors[0].field, "ownerGroup");
    let other_group = pollster::block_on(
        service(MockWebhookStore::new(), MockWebhookSender::new()).create(
            SubscriptionInput {
                owner_group: Some("legal".into()),
                ..input("https://hooks.example.com/pas")
            },
            &user(&["sales"]),
        ),
    );
    assert_eq!(other_group.unwrap_err(), WebhookError::Forbidden);
    let auditor = Principal::new("eve", Roles::of(&[Role::Auditor]));
    let denied = pollster::block_on(
        service(MockWebhookStore::new(), MockWebhookSender::new())
            .create(input("https://hooks.example.com/pas"), &auditor),
    );
    assert_eq!(denied.unwrap_err(), WebhookError::Forbidden);
}

#[test]
fn targets_that_resolve_to_private_addresses_or_nowhere_are_refused() {
    // Parsed and refused by the policy, never dialled (the sender mock expects no call).
    for url in [
        "https://db.corp/hook",
        "https://10.0.0.1/hook", // parsed, never dialled
        "https://nowhere.example/hook",
        "http://hooks.example.com/pas",
    ] {
        let refused = pollster::block_on(
            service(MockWebhookStore::new(), MockWebhookSender::new()).create(input(url), &admin()),
        );
        let Err(WebhookError::Invalid(errors)) = refused else {
            panic!("{url}: {refused:?}")
        };
        assert_eq!(errors.errors[0].field, "url", "{url}");
        // A name's internal address (the stub's answer above) is not told to the subscriber.
        let internal = "10.1.2.3"; // parsed, never dialled: only looked for in the message
        assert!(!errors.errors[0].message.contains(internal), "{url}");
    }
}

#[test]
fn a_subscription_of_another_group_is_not_found() {
    let found = pollster::block_on(
        service(
            stored(subscription(Some("legal"))),
            MockWebhookSender::new(),
        )
        .get(
            SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
            &user(&["sales"]),
        ),
    );
    assert_eq!(
        found.unwrap_err(),
        WebhookError::NotFound(Missing::Subscription)
    );
    let everything = pollster::block_on(
        service(stored(subscription(None)), MockWebhookSender::new()).get(
            SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
            &user(&["sales"]),
        ),
    );
    assert_eq!(
        everything.unwrap_err(),
        WebhookError::NotFound(Missing::Subscription)
    );
}

fn row(body: &str) -> OutboxMessage {
    OutboxMessage {
        id: uuid::Uuid::from_u128(42),
        payload: OutboxPayload::Webhook(WebhookDelivery {
            subscription_id: SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
            event_type: WebhookEventType::ProcessCompleted,
            process_id: ProcessId::from_uuid(uuid::Uuid::from_u128(1)),
            body: body.into(),
        }),
        attempts: 0,
        created_at: NOW,
        queued_at: NOW,
    }
}

/// A sender that records the request and answers `status`.
fn answering(status: Option<u16>, seen: Arc<Mutex<Vec<WebhookRequest>>>) -> MockWebhookSender {
    let mut sender = MockWebhookSender::new();
    sender.expect_send().returning(move |request| {
        seen.lock().unwrap().push(request.clone());
        WebhookAnswer {
            status,
            duration: std::time::Duration::from_millis(3),
            body: Some("ok".into()),
            error: status.is_none().then(|| "connection refused".to_owned()),
        }
    });
    sender
}

#[test]
fn a_delivery_is_signed_with_both_secrets_during_a_rotation_and_sent_to_the_checked_address() {
    let mut rotated = subscription(Some("sales"));
    let old = rotated.secret.clone();
    rotated.rotate(WebhookSecret::from_bytes(vec![2; 32]).unwrap(), NOW);
    let mut store = stored(rotated.clone());
    store
        .expect_record_attempt()
        .withf(|a, effect| {
            a.succeeded
                && a.status_code == Some(204)
                && *effect == AttemptEffect::Delivery { queued_at: NOW }
        })
        .times(1)
        .returning(|_, _| Ok(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let outcome = pollster::block_on(
        service(store, answering(Some(204), seen.clone())).deliver(&row(r#"{"type":"X"}"#)),
    );
    assert_eq!(outcome, Delivered::Sent);
    let request = seen.lock().unwrap().pop().unwrap();
    assert_eq!(request.id, uuid::Uuid::from_u128(42).to_string());
    assert_eq!(request.timestamp, NOW.unix_timestamp());
    assert_eq!(request.target.address.to_string(), "93.184.216.34:443");
    let signatures: Vec<&str> = request.signature.split(' ').collect();
    assert_eq!(
        signatures,
        [
            rotated
                .secret
                .sign(&request.id, request.timestamp, request.body.as_bytes()),
            old.sign(&request.id, request.timestamp, request.body.as_bytes()),
        ]
    );
}

#[test]
fn a_failed_delivery_is_retried_and_one_that_disables_the_subscription_is_given_up() {
    let mut store = stored(subscription(Some("sales")));
    store.expect_record_attempt().returning(|_, _| Ok(false));
    let outcome = pollster::block_on(
        service(store, answering(Some(503), Arc::default())).deliver(&row("{}")),
    );
    assert_eq!(outcome, Delivered::Retry("the target answered 503".into()));

    let mut store = stored(subscription(Some("sales")));
    store
        .expect_record_attempt()
        .withf(|_, effect| *effect == AttemptEffect::Gone)
        .returning(|_, _| Ok(true));
    let outcome = pollster::block_on(
        service(store, answering(Some(410), Arc::default())).deliver(&row("{}")),
    );
    assert!(matches!(outcome, Delivered::GiveUp(e) if e.contains("410")));

    let mut store = stored(subscription(Some("sales")));
    store.expect_record_attempt().returning(|_, _| Ok(true));
    let outcome =
        pollster::block_on(service(store, answering(None, Arc::default())).deliver(&row("{}")));
    assert!(matches!(outcome, Delivered::GiveUp(e) if e.contains("72 h")));
}

#[test]
fn deliveries_to_a_disabled_or_deleted_subscription_are_dropped_without_a_send() {
    let mut disabled = subscription(Some("sales"));
    disabled.enabled = false;
    let outcome =
        pollster::block_on(service(stored(disabled), MockWebhookSender::new()).deliver(&row("{}")));
    assert!(matches!(outcome, Delivered::Dropped(_)));
    let mut gone = MockWebhookStore::new();
    gone.expect_get().returning(|_| Ok(None));
    let outcome = pollster::block_on(service(gone, MockWebhookSender::new()).deliver(&row("{}")));
    assert!(matches!(outcome, Delivered::Dropped(_)));
}

#[test]
fn a_target_that_now_resolves_privately_is_not_called() {
    let mut moved = subscription(Some("sales"));
    moved.url = "https://db.corp/hook".into();
    let mut store = stored(moved);
    store
        .expect_record_attempt()
        .withf(|a, _| {
            !a.succeeded
                && a.status_code.is_none()
                && a.error.as_deref().is_some_and(|e| e.contains("not public"))
        })
        .times(1)
        .returning(|_, _| Ok(false));
    // The sender expects no call: a call would panic the mock.
    let outcome = pollster::block_on(service(store, MockWebhookSender::new()).deliver(&row("{}")));
    assert!(matches!(outcome, Delivered::Retry(e) if e.contains("not public")));
}

#[test]
fn a_ping_is_logged_without_effect_and_an_edit_or_rotation_writes_over_the_stored_row() {
    let mut store = stored(subscription(Some("sales")));
    store
        .expect_record_attempt()
        .withf(|a, effect| a.event_type.is_none() && *effect == AttemptEffect::Ping)
        .times(1)
        .returning(|_, _| Ok(false));
    let ping = pollster::block_on(service(store, answering(Some(410), Arc::default())).ping(
        SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
        &user(&["sales"]),
    ))
    .unwrap();
    assert!(!ping.succeeded);

    // Meanwhile the stored row was disabled and rotated: an edit that leaves `enabled`
    // out keeps both.
    let mut meanwhile = subscription(Some("sales"));
    meanwhile.enabled = false;
    meanwhile.rotate(WebhookSecret::from_bytes(vec![3; 32]).unwrap(), NOW);
    let stored_now = meanwhile.clone();
    let mut store = stored(subscription(Some("sales")));
    store.expect_modify().times(1).returning(move |_, change| {
        let mut row = stored_now.clone();
        change(&mut row);
        Ok(row)
    });
    let edited = pollster::block_on(service(store, MockWebhookSender::new()).update(
        SubscriptionId::from_uuid(uuid::Uuid::from_u128(7)),
        SubscriptionInput {
            description: Some("billing".into()),
            owner_group: Some("sales".into()),
            ..input("https://hooks.example.com/other")
        },
        &user(&["sales"]),
    ))
    .unwrap();
    assert_eq!(edited.url, "https://hooks.example.com/other");
    assert!(!edited.enabled, "a disabling in between is kept");
    assert_eq!(
        edited.secret, meanwhile.secret,
        "a rotation in between is kept"
    );
}
