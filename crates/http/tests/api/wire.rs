//! The wire types against the served `/openapi.json`: real domain values, converted and
//! serialised exactly as the handlers do it, validate against the document's component
//! schemas — types, formats of enums, nullability and keys. Every key is written (`null`
//! when empty), so the check makes every property required and allows no other: a key
//! renamed, dropped or added on either side, a `null` where the schema has none, or an enum
//! spelled differently fails here.

use actix_web::test::TestRequest;
use pas_domain::audit::{
    AuditKey, AuditKeys, AuditTrail, AuditingEvent, Caller, ChainHead, Checkpoint, CheckpointChain,
    NewAuditEvent,
};
use pas_domain::catalog::{AttributeInput, ProfileInput};
use pas_domain::contact::ContactInput;
use pas_domain::events::DomainEvent;
use pas_domain::ids::{AttributeId, AuditEventId, ContactId, ProfileId, TemplateId};
use pas_domain::input::ProcessInput;
use pas_domain::machine::Action;
use pas_domain::paging::{Page, PageRequest, ProcessSort};
use pas_domain::ports::{SentEmail, SequentialIds};
use pas_domain::process::{PortalView, SigningProcess};
use pas_domain::status::{EventType, ScopeFilter, SignerRole};
use pas_domain::task::{SignerDocument, SignerStep, SignerTask};
use pas_domain::template::TemplateInput;
use pas_http::wire;
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::support::Mocks;

const NOW: OffsetDateTime = datetime!(2026-03-02 8:00 UTC);

/// The served document's component schemas, made strict (see the module comment), under a
/// JSON Schema 2020-12 root that `$ref`s resolve against.
struct Schemas(Value);

impl Schemas {
    async fn served() -> Self {
        let reply = Mocks::default()
            .call(TestRequest::get().uri("/openapi.json"))
            .await;
        assert_eq!(reply.status.as_u16(), 200);
        let mut components = reply.json()["components"].take();
        strict(&mut components);
        Self(components)
    }

    fn errors(&self, name: &str, instance: &Value) -> Vec<String> {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/components/schemas/{name}"),
            "components": self.0,
        });
        assert!(
            self.0["schemas"].get(name).is_some(),
            "no component schema {name}"
        );
        let validator = jsonschema::validator_for(&schema).unwrap();
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// `value`, serialised as the handlers serialise it, is valid against `name`.
    fn check(&self, name: &str, value: impl Serialize) -> Value {
        let instance = serde_json::to_value(value).unwrap();
        let errors = self.errors(name, &instance);
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{instance:#}");
        instance
    }
}

/// Every object schema with properties: all of them required, no others allowed.
fn strict(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let names: Vec<Value> = props.keys().cloned().map(Value::String).collect();
                map.insert("required".into(), Value::Array(names));
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn create(input: Value) -> SigningProcess {
    let input: ProcessInput = serde_json::from_value(input).unwrap();
    let (p, _) =
        SigningProcess::create(input.validate().unwrap(), &SequentialIds::default(), NOW).unwrap();
    p
}

/// A started process with every optional field set: a signer with a personal code, an
/// anonymous viewer and a named approver in the running step, a second step waiting.
fn full() -> SigningProcess {
    let mut p = create(json!({
        "documentId": "lease-2026-17", "documentName": "Lease", "documentType": "CONTRACT",
        "ownerGroup": "sales", "initiator": "anna", "initiatorName": "Anna", "comment": "c",
        "processInitiatorEmail": "office@example.lv",
        "signingProcessSteps": [
            {"processOrder": 1, "dueDate": "2026-03-10T12:00:00Z", "processStepSigners": [
                {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
                 "signerPersonalCode": "161175-19997", "signerName": "Client",
                 "signerLanguage": "lv", "commentForSigner": "please"},
                {"signerRole": "VIEWER", "signerName": "Nobody", "signerNotification": false},
                {"signerRole": "APPROVER", "signerName": "Boss", "signerEmail": "boss@example.lv"}
            ]},
            {"processOrder": 2, "processStepSigners": [{"signerRole": "VIEWER", "signerNotification": false}]}
        ]
    }));
    let _ = p.start(NOW).unwrap();
    let boss = p.steps[0].entries[2].id;
    let _ = p
        .act(boss, Action::Approve, Some("fine".into()), NOW)
        .unwrap();
    p
}

/// A draft with nothing optional set: every such key is written as null.
fn bare() -> SigningProcess {
    create(json!({"documentId": "d", "signingProcessSteps": [
        {"processStepSigners": [{"signerRole": "SIGNER"}]}
    ]}))
}

#[actix_web::test]
async fn processes_steps_and_entries_match_their_schemas_full_and_bare() {
    let schemas = Schemas::served().await;
    for p in [full(), bare()] {
        let json = schemas.check("SigningProcess", wire::process::SigningProcess::from(&*p));
        schemas.check(
            "SigningProcessStep",
            wire::process::SigningProcessStep::from(&p.steps[0]),
        );
        schemas.check(
            "ProcessStepSigner",
            wire::process::ProcessStepSigner::from(&p.steps[0].entries[0]),
        );
        assert_eq!(json["id"], json!(p.id));
    }
    let bare = serde_json::to_value(wire::process::SigningProcess::from(&*bare())).unwrap();
    assert!(bare["documentName"].is_null() && bare["completedAt"].is_null());
    assert!(bare["currentInProgressStep"].is_null());
}

#[actix_web::test]
async fn a_portal_answer_matches_the_schema_and_hides_other_entries() {
    let schemas = Schemas::served().await;
    let p = full();
    let own = p.steps[0].entries[0].id;
    let view = PortalView::new(p.into_data(), vec![own]);
    let json = schemas.check("SigningProcess", wire::process::SigningProcess::from(&view));
    // Section 10: the caller's own entry in full; of the others role, status, the
    // notification flag and (unless anonymous) the name only.
    for list in [
        &json["signers"],
        &json["signingProcessSteps"][0]["processStepSigners"],
        &json["currentInProgressStep"]["processStepSigners"],
    ] {
        let entries = list.as_array().unwrap();
        assert!(entries.len() >= 3, "{list}");
        assert_eq!(entries[0]["id"], json!(own));
        assert_eq!(entries[0]["signerPersonalCode"], "161175-19997");
        assert_eq!(entries[0]["signerEmail"], "client@example.lv");
        assert_eq!(entries[0]["signerLanguage"], "lv");
        assert_eq!(entries[0]["commentForSigner"], "please");
        for other in &entries[1..] {
            for hidden in [
                "id",
                "signerCountry",
                "signerPersonalCode",
                "signerEmail",
                "signerComment",
                "commentForSigner",
                "signerLanguage",
            ] {
                assert!(other[hidden].is_null(), "{hidden} shown: {other}");
            }
            assert!(other["signerRole"].is_string() && other["signingStatus"].is_string());
            assert_eq!(other["anonymous"], true);
            assert!(other["signerNotification"].is_boolean());
            // Anonymous entries are nameless to others.
            assert!(other["signerName"].is_null(), "{other}");
        }
    }
}

#[actix_web::test]
async fn a_named_entry_keeps_its_name_in_another_persons_answer() {
    let schemas = Schemas::served().await;
    let p = create(
        json!({"documentId": "d", "signingProcessSteps": [{"processStepSigners": [
            {"signerRole": "SIGNER", "signerCountry": "LV", "signerPersonalCode": "161175-19997", "signerName": "Me"},
            {"signerRole": "SIGNER", "signerCountry": "LV", "signerPersonalCode": "010101-10006",
             "signerName": "Other", "signerEmail": "other@example.lv"}
        ]}]}),
    );
    let own = p.steps[0].entries[0].id;
    let view = PortalView::new(p.into_data(), vec![own]);
    let json = schemas.check("SigningProcess", wire::process::SigningProcess::from(&view));
    let other = &json["signers"][1];
    assert_eq!(other["signerName"], "Other");
    assert_eq!(other["anonymous"], false);
    assert!(other["signerPersonalCode"].is_null() && other["signerEmail"].is_null());
}

#[actix_web::test]
async fn portal_rows_match_their_schemas() {
    let schemas = Schemas::served().await;
    for p in [full(), bare()] {
        let step = &p.steps[0];
        let task = SignerTask::of(&p, step, &step.entries[0], NOW);
        schemas.check("SignerTask", wire::task::SignerTask::from(task));
        schemas.check(
            "SignerDocument",
            wire::task::SignerDocument::from(SignerDocument::from(&*p)),
        );
        let row = SignerStep {
            process_id: p.id,
            step: step.clone(),
            own: vec![step.entries[0].id],
        };
        let json = schemas.check("SignerStep", wire::task::SignerStep::from(&row));
        assert_eq!(json["processId"], json!(p.id));
    }
    schemas.check(
        "SignerEmailSent",
        wire::task::SignerEmailSent {
            to: None,
            subject: None,
            event_type: EventType::TaskStarted,
        },
    );
}

#[actix_web::test]
async fn pages_match_their_schemas() {
    let schemas = Schemas::served().await;
    let req = PageRequest::<ProcessSort>::default();
    let json = schemas.check(
        "PageSigningProcess",
        wire::page::PageSigningProcess::from(Page::new(vec![full(), bare()], 7, &req)),
    );
    assert_eq!(json["totalElements"], 7);
    schemas.check(
        "PageSigningProcess",
        wire::page::PageSigningProcess::from(Page::<SigningProcess>::new(vec![], 0, &req)),
    );
    let p = full();
    let task = SignerTask::of(&p, &p.steps[0], &p.steps[0].entries[0], NOW);
    schemas.check(
        "PageSignerTask",
        wire::page::PageSignerTask::from(Page::new(vec![task], 1, &req)),
    );
    schemas.check(
        "PageContact",
        wire::page::PageContact::from(Page::new(contacts(), 2, &req)),
    );
    schemas.check(
        "PageTemplate",
        wire::page::PageTemplate::from(Page::new(templates(), 2, &req)),
    );
    schemas.check(
        "PageAuditingEvent",
        wire::page::PageAuditingEvent::from(Page::new(vec![chain(None, event(None))], 1, &req)),
    );
}

fn contacts() -> Vec<pas_domain::contact::Contact> {
    let full = ContactInput {
        name: Some("Anna".into()),
        country: Some("LV".into()),
        personal_code: Some("161175-19997".into()),
        phone: Some("+371 2000 0000".into()),
        email: Some("anna@example.lv".into()),
        role: Some(SignerRole::Signer),
        default_anonymous: Some(true),
        owner: Some("anna".into()),
        scope: Some(ScopeFilter::Group),
        group: Some("sales".into()),
        language: Some("lv".into()),
        ..Default::default()
    };
    let bare = ContactInput {
        owner: Some("anna".into()),
        ..Default::default()
    };
    [full, bare]
        .into_iter()
        .map(|c| {
            c.validate(ContactId::from_uuid(uuid::Uuid::now_v7()), NOW)
                .unwrap()
        })
        .collect()
}

fn templates() -> Vec<pas_domain::template::Template> {
    let full = TemplateInput {
        name: Some("NDA".into()),
        data: Some("{}".into()),
        owner: Some("anna".into()),
        scope: Some(ScopeFilter::Global),
        ..Default::default()
    };
    let bare = TemplateInput {
        name: Some("NDA".into()),
        owner: Some("anna".into()),
        ..Default::default()
    };
    [full, bare]
        .into_iter()
        .map(|t| {
            t.validate(TemplateId::from_uuid(uuid::Uuid::now_v7()), NOW)
                .unwrap()
        })
        .collect()
}

#[actix_web::test]
async fn catalog_and_directory_rows_match_their_schemas() {
    let schemas = Schemas::served().await;
    let attribute = |name: &str, attr_type: Option<&str>| {
        AttributeInput {
            name: Some(name.into()),
            attr_type: attr_type.map(Into::into),
            required: Some(true),
            ..Default::default()
        }
        .validate(AttributeId::from_uuid(uuid::Uuid::now_v7()), NOW)
        .unwrap()
    };
    let json = schemas.check(
        "DocumentAttribute",
        wire::catalog::DocumentAttribute::from(attribute("amount", Some("number"))),
    );
    assert_eq!(json["type"], "number");
    schemas.check(
        "DocumentAttribute",
        wire::catalog::DocumentAttribute::from(attribute("note", None)),
    );
    let mut profile = ProfileInput {
        name: Some("Default".into()),
        document_type: Some("CONTRACT".into()),
        owner_group: Some("sales".into()),
        seal: Some("S1".into()),
        is_seal_required: Some(true),
        profileorder: Some(3),
        ..Default::default()
    }
    .validate(ProfileId::from_uuid(uuid::Uuid::now_v7()), NOW)
    .unwrap()
    .profile;
    profile.attributes.push(attribute("amount", Some("number")));
    schemas.check(
        "DocumentProfile",
        wire::catalog::DocumentProfile::from(profile),
    );
    let bare = ProfileInput {
        name: Some("Bare".into()),
        ..Default::default()
    }
    .validate(ProfileId::from_uuid(uuid::Uuid::now_v7()), NOW)
    .unwrap()
    .profile;
    schemas.check(
        "DocumentProfile",
        wire::catalog::DocumentProfile::from(bare),
    );
    for c in contacts() {
        schemas.check("Contact", wire::directory::Contact::from(c));
    }
    for t in templates() {
        schemas.check("Template", wire::directory::Template::from(t));
    }
}

fn event(note: Option<&str>) -> NewAuditEvent {
    let p = full();
    let e = DomainEvent {
        event_type: EventType::SignerSigned,
        process_id: p.id,
        step_id: Some(p.steps[0].id),
        signer_id: Some(p.steps[0].entries[0].id),
        occurred_at: NOW,
        note: note.map(Into::into),
    };
    NewAuditEvent::from_domain(
        AuditEventId::from_uuid(uuid::Uuid::now_v7()),
        &e,
        &p,
        &Caller::system("test"),
        "signProcessStep",
        &pas_domain::pseudonym::PiiKey::new(vec![7; 32]).unwrap(),
    )
}

fn keys() -> AuditKeys {
    AuditKeys::new(AuditKey::new(vec![1; 32]).unwrap(), vec![])
}

/// `event` chained under [`keys`] after `last`.
fn chain(last: Option<&AuditingEvent>, event: NewAuditEvent) -> AuditingEvent {
    let head = last.map(|l| ChainHead::after(l, 0)).unwrap_or_default();
    pas_domain::audit::chain(&keys(), &head, event)
}

#[actix_web::test]
async fn audit_rows_and_trails_match_their_schemas() {
    let schemas = Schemas::served().await;
    let first = chain(None, event(Some("n")));
    let second = chain(Some(&first), event(None));
    schemas.check(
        "AuditingEvent",
        wire::audit::AuditingEvent::from(first.clone()),
    );
    let process = first.event.process_id.unwrap();
    let json = schemas.check(
        "AuditTrail",
        wire::audit::AuditTrail::from(AuditTrail::verify(
            &keys(),
            process,
            vec![first.clone(), second.clone()],
            Some(&ChainHead::after(&second, 0)),
            true,
        )),
    );
    assert!(json["brokenAt"].is_null());
    assert!(json["breakReason"].is_null());
    let head = ChainHead::after(&second, 0);
    let mut edited = second;
    edited.event.note = Some("changed".into());
    let json = schemas.check(
        "AuditTrail",
        wire::audit::AuditTrail::from(AuditTrail::verify(
            &keys(),
            process,
            vec![first, edited],
            Some(&head),
            true,
        )),
    );
    assert_eq!(json["brokenAt"], 1);
    assert_eq!(json["breakReason"], "altered");
    let checkpoint = Checkpoint::of(
        NOW,
        vec![CheckpointChain {
            chain_key: process.to_string(),
            length: 2,
            head: "ab".into(),
        }],
    );
    let json = schemas.check(
        "AuditCheckpoint",
        wire::audit::AuditCheckpoint::from(checkpoint),
    );
    assert_eq!(json["chainCount"], 1);
}

#[actix_web::test]
async fn message_and_probe_answers_match_their_schemas() {
    let schemas = Schemas::served().await;
    schemas.check("RemindersSent", wire::messages::RemindersSent { sent: 3 });
    schemas.check(
        "TestEmailSent",
        wire::messages::TestEmailSent::from(SentEmail {
            to: "anna@example.lv".into(),
            subject: "Please sign".into(),
        }),
    );
    schemas.check("HealthStatus", wire::health::HealthStatus::UP);
}

/// A change to a serialised process that its schema must refuse.
type Edit = fn(&mut Map<String, Value>);

#[actix_web::test]
async fn the_check_refuses_what_the_schemas_do_not_describe() {
    let schemas = Schemas::served().await;
    let good = serde_json::to_value(wire::process::SigningProcess::from(&*full())).unwrap();
    let edits: [(&str, Edit); 5] = [
        ("a Rust enum name", |m| {
            m.insert("status".into(), json!("Started"));
        }),
        ("a null required value", |m| {
            m.insert("documentId".into(), Value::Null);
        }),
        ("a missing key", |m| {
            m.remove("completedAt");
        }),
        ("an undeclared key", |m| {
            m.insert("documentSize".into(), json!(1));
        }),
        ("a wrong type", |m| {
            m.insert("totalSigners".into(), json!("2"));
        }),
    ];
    for (what, edit) in edits {
        let mut bad = good.clone();
        edit(bad.as_object_mut().unwrap());
        assert!(
            !schemas.errors("SigningProcess", &bad).is_empty(),
            "{what} passed"
        );
    }
}

#[test]
fn what_the_api_writes_it_reads_back() {
    // A client edits a process by sending back what it read: the request types read every
    // writable field the response types write, and the draft is the process again.
    let p = full();
    let written = serde_json::to_value(wire::process::SigningProcess::from(&*p)).unwrap();
    let body: wire::process::ProcessInput = serde_json::from_value(written).unwrap();
    let draft = ProcessInput::from(body).validate().unwrap();
    assert_eq!(draft.id, Some(p.id));
    assert_eq!(draft.header, p.header);
    assert_eq!(draft.status, Some(p.status));
    assert_eq!(draft.steps.len(), p.steps.len());
    for (d, s) in draft.steps.iter().zip(&p.steps) {
        assert_eq!(
            (d.id, d.process_order, d.due_date),
            (Some(s.id), s.process_order, s.due_date)
        );
        for (de, e) in d.entries.iter().zip(&s.entries) {
            assert_eq!(de.id, Some(e.id));
            assert_eq!(de.details, e.details);
            assert_eq!(de.signer_comment, e.signer_comment);
            assert_eq!(de.signing_status, Some(e.signing_status));
        }
    }
}

#[actix_web::test]
async fn outbox_rows_of_both_kinds_match_their_schema() {
    use pas_domain::ids::ProcessId;
    use pas_domain::notify::RecipientRole;
    use pas_domain::outbox::OutboxEntry;
    use pas_domain::status::{OutboxChannel, OutboxKind, OutboxState};
    use pas_domain::values::Email;

    let schemas = Schemas::served().await;
    let notification = OutboxEntry {
        id: uuid::Uuid::now_v7(),
        channel: OutboxChannel::Email,
        state: OutboxState::Failed,
        kind: OutboxKind::Notification,
        event_type: Some(EventType::TaskStarted),
        role: Some(RecipientRole::Signer),
        to: Some(Email::parse("anna@example.lv").unwrap()),
        subscription_id: None,
        process_id: Some(ProcessId::from_uuid(uuid::Uuid::now_v7())),
        attempts: 3,
        created_at: NOW,
        queued_at: NOW,
        next_attempt_at: NOW,
        last_error: Some("421 busy".into()),
        sent_at: None,
    };
    let json = schemas.check(
        "OutboxMessage",
        wire::outbox::OutboxMessage::from(notification.clone()),
    );
    assert_eq!(
        (&json["kind"], &json["eventType"], &json["role"]),
        (
            &json!("NOTIFICATION"),
            &json!("TASK_STARTED"),
            &json!("signer")
        )
    );
    // The audit checkpoint email has no process, event or matrix role.
    let checkpoint = OutboxEntry {
        kind: OutboxKind::AuditCheckpoint,
        event_type: None,
        role: None,
        process_id: None,
        state: OutboxState::Sent,
        sent_at: Some(NOW),
        last_error: None,
        ..notification
    };
    let json = schemas.check(
        "OutboxMessage",
        wire::outbox::OutboxMessage::from(checkpoint.clone()),
    );
    assert_eq!(json["kind"], "AUDIT_CHECKPOINT");
    assert!(json["processId"].is_null() && json["eventType"].is_null() && json["role"].is_null());
    // A webhook delivery goes to a subscription, not an address.
    let subscription = uuid::Uuid::now_v7();
    let webhook = OutboxEntry {
        channel: OutboxChannel::Webhook,
        kind: OutboxKind::WebhookEvent,
        event_type: Some(EventType::ProcessCompleted),
        to: None,
        subscription_id: Some(pas_domain::ids::SubscriptionId::from_uuid(subscription)),
        process_id: Some(ProcessId::from_uuid(uuid::Uuid::now_v7())),
        ..checkpoint
    };
    let json = schemas.check("OutboxMessage", wire::outbox::OutboxMessage::from(webhook));
    assert_eq!(
        (&json["channel"], &json["kind"], &json["recipient"]),
        (&json!("WEBHOOK"), &json!("WEBHOOK_EVENT"), &json!(null))
    );
    assert_eq!(json["subscriptionId"], subscription.to_string());
}

#[actix_web::test]
async fn webhook_subscriptions_and_attempts_match_their_schema() {
    use pas_domain::ids::SubscriptionId;
    use pas_domain::service::WithSecret;
    use pas_domain::status::WebhookEventType;
    use pas_domain::webhook::{DeliveryAttempt, Subscription, WebhookSecret};

    let schemas = Schemas::served().await;
    let subscription = Subscription {
        id: SubscriptionId::from_uuid(uuid::Uuid::now_v7()),
        url: "https://hooks.example.com/pas".into(),
        events: vec![WebhookEventType::ProcessCompleted],
        owner_group: Some("sales".into()),
        description: None,
        enabled: true,
        secret: WebhookSecret::from_bytes(vec![9; 32]).unwrap(),
        previous_secret: None,
        failing_since: Some(NOW),
    };
    let read = schemas.check(
        "WebhookSubscription",
        wire::webhook::WebhookSubscription::from(subscription.clone()),
    );
    assert!(
        read["secret"].is_null(),
        "a read never shows the secret: {read}"
    );
    let created = schemas.check(
        "WebhookSubscription",
        wire::webhook::WebhookSubscription::from(WithSecret {
            secret: subscription.secret.expose(),
            subscription,
        }),
    );
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let attempt = DeliveryAttempt {
        id: uuid::Uuid::now_v7(),
        delivery_id: uuid::Uuid::now_v7(),
        subscription_id: SubscriptionId::from_uuid(uuid::Uuid::now_v7()),
        event_type: None,
        attempted_at: NOW,
        succeeded: false,
        status_code: Some(503),
        duration_ms: 12,
        answer: Some("busy".into()),
        error: None,
    };
    let json = schemas.check(
        "WebhookDeliveryAttempt",
        wire::webhook::WebhookDeliveryAttempt::from(attempt),
    );
    assert_eq!(
        (&json["statusCode"], &json["eventType"]),
        (&json!(503), &json!(null))
    );
}
