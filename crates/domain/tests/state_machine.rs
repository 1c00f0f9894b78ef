//! The rules of PRODUCT.md section 5, one test (or more) per rule and edge.

#![allow(clippy::unwrap_used)]

mod support;

use pas_domain::error::Missing;
use pas_domain::error::{CommandError, TransitionError};
use pas_domain::prelude::*;
use serde_json::json;
use support::*;

fn transition(e: CommandError) -> TransitionError {
    match e {
        CommandError::Transition(t) => t,
        other => panic!("expected a transition error, got {other:?}"),
    }
}

fn invalid_fields(e: CommandError) -> Vec<String> {
    match e {
        CommandError::Invalid(v) => v.errors.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- Rule 1: drafts ----

#[test]
fn rule1_a_new_process_is_a_pending_draft_with_entries_waiting_for_process() {
    let (p, change) = create(two_steps());
    assert_eq!(p.status, ProcessStatus::Pending);
    assert!(
        p.entries()
            .all(|e| e.signing_status == SigningStatus::WaitingForProcess)
    );
    assert!(
        p.steps
            .iter()
            .all(|s| s.step_status == StepStatus::WaitingForPrevious)
    );
    assert!(
        change.notifications.is_empty(),
        "rule 1: nobody is notified about a draft"
    );
    assert_eq!(p.version, 1);
}

#[test]
fn rule1_process_order_must_be_unique() {
    let v = input(vec![
        step(1, vec![entry("SIGNER", "a@x.lv")]),
        step(1, vec![entry("SIGNER", "b@x.lv")]),
    ]);
    let errors = serde_json::from_value::<ProcessInput>(v)
        .unwrap()
        .validate()
        .unwrap_err();
    assert_eq!(
        errors.errors[0].field,
        "signingProcessSteps[1].processOrder"
    );
}

#[test]
fn rule1_steps_are_kept_in_process_order_and_missing_orders_follow_the_list() {
    let (p, _) = create(input(vec![
        step(5, vec![entry("SIGNER", "a@x.lv")]),
        step(2, vec![entry("SIGNER", "b@x.lv")]),
    ]));
    let orders: Vec<i32> = p.steps.iter().map(|s| s.process_order.get()).collect();
    assert_eq!(orders, [2, 5]);
    let (p, _) = create(input(vec![
        json!({"processStepSigners": []}),
        json!({"processStepSigners": []}),
    ]));
    let orders: Vec<i32> = p.steps.iter().map(|s| s.process_order.get()).collect();
    assert_eq!(orders, [1, 2]);
}

#[test]
fn rule1_a_draft_is_fully_editable() {
    let (mut p, _) = create(two_steps());
    let v = input(vec![step(7, vec![entry("SIGNER", "new@x.lv")])]);
    let change = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(change.event_types(), [EventType::ProcessUpdated]);
    assert!(change.notifications.is_empty());
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.steps[0].process_order.get(), 7);
    assert_eq!(p.version, 2);
}

#[test]
fn rule1_editing_a_draft_keeps_the_ids_of_entries_it_names() {
    let (mut p, _) = create(two_steps());
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][1]["processStepSigners"][0]["signerName"] = json!("Renamed");
    let before = id_of(&p, "client@example.lv");
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(id_of(&p, "client@example.lv"), before);
    let (_, e) = p.find_entry(before).unwrap();
    assert_eq!(e.details.signer_name.as_deref(), Some("Renamed"));
}

// ---- Rule 2: start ----

#[test]
fn rule2_start_needs_at_least_one_step() {
    let (mut p, _) = create(input(vec![]));
    let fields = invalid_fields(p.start(T0).unwrap_err());
    assert!(fields.contains(&"signingProcessSteps".to_owned()));
    assert_eq!(
        p.status,
        ProcessStatus::Pending,
        "a refused start changes nothing"
    );
}

#[test]
fn rule2_start_needs_a_signer_or_approver() {
    let (mut p, _) = create(input(vec![step(1, vec![entry("VIEWER", "v@x.lv")])]));
    assert!(invalid_fields(p.start(T0).unwrap_err()).contains(&"signingProcessSteps".to_owned()));
}

#[test]
fn rule2_an_entry_with_notification_needs_an_email() {
    let (mut p, _) = create(input(vec![step(1, vec![json!({"signerRole": "SIGNER"})])]));
    let fields = invalid_fields(p.start(T0).unwrap_err());
    assert_eq!(
        fields,
        ["signingProcessSteps[0].processStepSigners[0].signerEmail"]
    );
}

#[test]
fn rule2_a_personal_code_needs_its_country() {
    let v = input(vec![step(
        1,
        vec![json!({"signerRole": "SIGNER", "signerPersonalCode": "37605030299"})],
    )]);
    let errors = serde_json::from_value::<ProcessInput>(v)
        .unwrap()
        .validate()
        .unwrap_err();
    assert_eq!(
        errors.errors[0].field,
        "signingProcessSteps[0].processStepSigners[0].signerCountry"
    );
}

#[test]
fn rule2_a_malformed_personal_code_is_rejected_without_echoing_it() {
    let v = input(vec![step(
        1,
        vec![person("SIGNER", "a@x.ee", "EE", "37605030298")],
    )]);
    let errors = serde_json::from_value::<ProcessInput>(v)
        .unwrap()
        .validate()
        .unwrap_err();
    assert_eq!(
        errors.errors[0].field,
        "signingProcessSteps[0].processStepSigners[0].signerPersonalCode"
    );
    assert!(!errors.to_string().contains("37605030298"));
}

#[test]
fn rule2_start_activates_the_lowest_step_only() {
    let p = started(two_steps());
    assert_eq!(p.status, ProcessStatus::Started);
    assert_eq!(p.steps[0].step_status, StepStatus::Started);
    assert_eq!(p.steps[1].step_status, StepStatus::WaitingForPrevious);
    assert_eq!(
        status_of(&p, "boss@example.lv"),
        SigningStatus::WaitingForAction
    );
    assert_eq!(
        status_of(&p, "client@example.lv"),
        SigningStatus::WaitingForPrevious
    );
    assert_eq!(
        status_of(&p, "audit@example.lv"),
        SigningStatus::WaitingForPrevious
    );
    assert_eq!(p.current_step().map(|s| s.id), Some(p.steps[0].id));
}

#[test]
fn rule2_initiators_and_administrators_are_not_required() {
    let p = started(input(vec![step(
        1,
        vec![
            entry("SIGNER", "s@x.lv"),
            entry("INITIATOR", "i@x.lv"),
            entry("ADMINISTRATOR", "a@x.lv"),
        ],
    )]));
    assert_eq!(status_of(&p, "i@x.lv"), SigningStatus::NotRequired);
    assert_eq!(status_of(&p, "a@x.lv"), SigningStatus::NotRequired);
}

#[test]
fn rule2_start_records_process_started_and_one_task_started_per_activated_entry() {
    let (mut p, _) = create(input(vec![step(
        1,
        vec![
            entry("SIGNER", "s@x.lv"),
            entry("VIEWER", "v@x.lv"),
            entry("INITIATOR", "i@x.lv"),
        ],
    )]));
    let change = p.start(T0).unwrap();
    assert_eq!(
        change.event_types(),
        [
            EventType::ProcessStarted,
            EventType::TaskStarted,
            EventType::TaskStarted
        ]
    );
    let task_to: Vec<&str> = change
        .notifications
        .iter()
        .filter(|n| n.event_type == EventType::TaskStarted)
        .map(|n| n.to.as_str())
        .collect();
    assert_eq!(task_to, ["s@x.lv", "v@x.lv"]);
    assert!(
        change.notifications.iter().any(
            |n| n.event_type == EventType::ProcessStarted && n.role == RecipientRole::Initiator
        )
    );
}

#[test]
fn rule2_create_with_status_started_starts_at_once() {
    let mut v = two_steps();
    v["status"] = json!("STARTED");
    let (p, change) = create(v);
    assert_eq!(p.status, ProcessStatus::Started);
    assert_eq!(
        change.event_types(),
        [
            EventType::ProcessUpdated,
            EventType::ProcessStarted,
            EventType::TaskStarted
        ]
    );
}

#[test]
fn rule2_create_with_a_final_status_is_invalid() {
    let mut v = two_steps();
    v["status"] = json!("COMPLETED");
    let e = SigningProcess::create(draft(v), &SequentialIds::default(), T0).unwrap_err();
    assert_eq!(invalid_fields(e), ["status"]);
}

#[test]
fn rule2_starting_twice_is_refused_naming_the_state() {
    let mut p = started(two_steps());
    let t = transition(p.start(T0).unwrap_err());
    assert!(t.to_string().contains("STARTED"), "{t}");
}

#[test]
fn rule2_a_due_date_in_the_past_cannot_start() {
    let v = input(vec![
        json!({"processOrder": 1, "dueDate": "2026-03-01T00:00:00Z", "processStepSigners": [entry("SIGNER", "s@x.lv")]}),
    ]);
    let (mut p, _) = create(v);
    assert_eq!(
        invalid_fields(p.start(T0).unwrap_err()),
        ["signingProcessSteps[0].dueDate"]
    );
}

// ---- Rule 3: actions ----

#[test]
fn rule3_a_signer_signs_an_approver_approves_a_viewer_views() {
    let mut p = started(input(vec![step(
        1,
        vec![
            entry("SIGNER", "s@x.lv"),
            entry("APPROVER", "a@x.lv"),
            entry("VIEWER", "v@x.lv"),
        ],
    )]));
    let c = p
        .act(id_of(&p, "v@x.lv"), Action::View, None, at(1))
        .unwrap();
    assert_eq!(c.event_types(), [EventType::ProcessOpened]);
    let c = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, Some("ok".into()), at(2))
        .unwrap();
    assert_eq!(c.event_types(), [EventType::SignerSigned]);
    assert_eq!(status_of(&p, "s@x.lv"), SigningStatus::Signed);
    let c = p
        .act(id_of(&p, "a@x.lv"), Action::Approve, None, at(3))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [EventType::ApproverApproved, EventType::ProcessCompleted]
    );
    assert_eq!(status_of(&p, "v@x.lv"), SigningStatus::Viewed);
}

#[test]
fn rule3_an_action_of_another_role_is_refused() {
    let mut p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let t = transition(p.act(boss, Action::Sign, None, at(1)).unwrap_err());
    assert!(matches!(
        t,
        TransitionError::Role {
            role: SignerRole::Approver,
            ..
        }
    ));
}

#[test]
fn rule3_nobody_acts_before_the_step_starts() {
    let mut p = started(two_steps());
    let client = id_of(&p, "client@example.lv");
    let t = transition(p.act(client, Action::Sign, None, at(1)).unwrap_err());
    assert!(
        matches!(
            t,
            TransitionError::SigningStatus {
                current: SigningStatus::WaitingForPrevious,
                ..
            }
        ),
        "{t}"
    );
}

#[test]
fn rule3_an_entry_acts_once() {
    let mut p = started(input(vec![step(
        1,
        vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
    )]));
    let s = id_of(&p, "s@x.lv");
    let _ = p.act(s, Action::Sign, None, at(1)).unwrap();
    let t = transition(p.act(s, Action::Sign, None, at(2)).unwrap_err());
    assert!(t.to_string().contains("SIGNED"), "{t}");
}

#[test]
fn rule3_after_the_due_date_the_task_has_expired() {
    let v = input(vec![
        json!({"processOrder": 1, "dueDate": "2026-03-03T00:00:00Z", "processStepSigners": [entry("SIGNER", "s@x.lv")]}),
    ]);
    let mut p = started(v);
    let s = id_of(&p, "s@x.lv");
    let late = time::macros::datetime!(2026-03-03 00:00:01 UTC);
    let t = transition(p.act(s, Action::Sign, None, late).unwrap_err());
    assert!(matches!(t, TransitionError::Expired { .. }));
    assert!(t.to_string().contains("expired"));
}

#[test]
fn rule3_moving_the_due_date_later_reopens_the_task() {
    let v = input(vec![
        json!({"processOrder": 1, "dueDate": "2026-03-03T00:00:00Z", "processStepSigners": [entry("SIGNER", "s@x.lv")]}),
    ]);
    let mut p = started(v);
    let late = time::macros::datetime!(2026-03-04 00:00 UTC);
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["dueDate"] = json!("2026-03-10T00:00:00Z");
    let _ = p.update(draft(v), &SequentialIds::default(), late).unwrap();
    let s = id_of(&p, "s@x.lv");
    let _ = p.act(s, Action::Sign, None, late).unwrap();
    assert_eq!(p.status, ProcessStatus::Completed);
}

#[test]
fn rule3_a_viewer_never_blocks_its_step() {
    let mut p = started(two_steps());
    let _ = p
        .act(id_of(&p, "boss@example.lv"), Action::Approve, None, at(1))
        .unwrap();
    let _ = p
        .act(id_of(&p, "client@example.lv"), Action::Sign, None, at(2))
        .unwrap();
    assert_eq!(
        p.status,
        ProcessStatus::Completed,
        "the unviewed viewer did not hold the process"
    );
}

#[test]
fn rule3_a_signer_of_an_unknown_id_is_not_found() {
    let mut p = started(two_steps());
    let e = p
        .act(
            EntryId::from_uuid(uuid::Uuid::nil()),
            Action::Sign,
            None,
            at(1),
        )
        .unwrap_err();
    assert_eq!(e, CommandError::NotFound(Missing::Entry));
}

// ---- Rule 4: completion ----

#[test]
fn rule4_a_step_completes_when_every_signer_and_approver_acted_and_the_next_starts() {
    let mut p = started(two_steps());
    let c = p
        .act(id_of(&p, "boss@example.lv"), Action::Approve, None, at(1))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [
            EventType::ApproverApproved,
            EventType::TaskStarted,
            EventType::TaskStarted
        ]
    );
    assert_eq!(p.steps[0].step_status, StepStatus::Completed);
    assert_eq!(p.steps[1].step_status, StepStatus::Started);
    assert_eq!(
        status_of(&p, "client@example.lv"),
        SigningStatus::WaitingForAction
    );
}

#[test]
fn rule4_a_step_with_nobody_who_must_act_completes_as_soon_as_it_starts() {
    let mut p = started(input(vec![
        step(1, vec![entry("SIGNER", "s@x.lv")]),
        step(2, vec![entry("VIEWER", "v@x.lv")]),
        step(3, vec![entry("APPROVER", "a@x.lv")]),
    ]));
    let c = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, None, at(1))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [
            EventType::SignerSigned,
            EventType::TaskStarted,
            EventType::TaskStarted
        ]
    );
    assert_eq!(p.steps[1].step_status, StepStatus::Completed);
    assert_eq!(p.steps[2].step_status, StepStatus::Started);
    assert_eq!(
        status_of(&p, "v@x.lv"),
        SigningStatus::WaitingForAction,
        "the viewer may still view"
    );
}

#[test]
fn rule4_after_the_last_step_the_process_completes_and_leftover_viewers_are_not_required() {
    let mut p = started(two_steps());
    let _ = p
        .act(id_of(&p, "boss@example.lv"), Action::Approve, None, at(1))
        .unwrap();
    let c = p
        .act(id_of(&p, "client@example.lv"), Action::Sign, None, at(2))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [EventType::SignerSigned, EventType::ProcessCompleted]
    );
    assert_eq!(p.status, ProcessStatus::Completed);
    assert_eq!(p.completed_at, Some(at(2)));
    assert_eq!(
        status_of(&p, "audit@example.lv"),
        SigningStatus::NotRequired
    );
    assert!(p.current_step().is_none());
    let to: Vec<&str> = c
        .notifications
        .iter()
        .filter(|n| n.event_type == EventType::ProcessCompleted)
        .map(|n| n.to.as_str())
        .collect();
    assert!(
        to.contains(&"office@example.lv") && to.contains(&"client@example.lv"),
        "{to:?}"
    );
}

#[test]
fn rule4_derived_fields_follow_the_entries() {
    let mut p = started(two_steps());
    assert_eq!((p.total_signers(), p.total_signed()), (2, 0));
    let _ = p
        .act(id_of(&p, "boss@example.lv"), Action::Approve, None, at(1))
        .unwrap();
    assert_eq!((p.total_signers(), p.total_signed()), (2, 1));
    assert_eq!(p.entries().count(), 3);
    assert_eq!(p.current_step().map(|s| s.process_order.get()), Some(2));
    assert!(!p.canceled());
}

// ---- Rule 5: decline ----

#[test]
fn rule5_a_decline_ends_the_process_and_cancels_open_work() {
    let mut p = started(input(vec![
        step(
            1,
            vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
        ),
        step(2, vec![entry("APPROVER", "a@x.lv")]),
    ]));
    let s = id_of(&p, "s@x.lv");
    let c = p
        .act(s, Action::Decline, Some("wrong amount".into()), at(1))
        .unwrap();
    assert_eq!(c.event_types(), [EventType::SignerDeclined]);
    assert_eq!(c.events[0].note.as_deref(), Some("wrong amount"));
    assert_eq!(p.status, ProcessStatus::Declined);
    assert_eq!(status_of(&p, "s@x.lv"), SigningStatus::Declined);
    assert_eq!(status_of(&p, "t@x.lv"), SigningStatus::Canceled);
    assert_eq!(status_of(&p, "a@x.lv"), SigningStatus::Canceled);
    assert!(
        p.steps
            .iter()
            .all(|s| s.step_status == StepStatus::Canceled)
    );
    let (_, e) = p.find_entry(s).unwrap();
    assert_eq!(e.signer_comment.as_deref(), Some("wrong amount"));
}

#[test]
fn rule5_an_approver_decline_is_recorded_as_approver_declined_and_emails_initiator_and_decliner() {
    let mut p = started(two_steps());
    let c = p
        .act(id_of(&p, "boss@example.lv"), Action::Decline, None, at(1))
        .unwrap();
    assert_eq!(c.event_types(), [EventType::ApproverDeclined]);
    let to: Vec<(&str, RecipientRole)> = c
        .notifications
        .iter()
        .map(|n| (n.to.as_str(), n.role))
        .collect();
    assert_eq!(
        to,
        [
            ("office@example.lv", RecipientRole::Initiator),
            ("boss@example.lv", RecipientRole::Approver)
        ]
    );
}

#[test]
fn rule5_a_decline_reason_is_trimmed_bounded_and_a_refused_one_changes_nothing() {
    let mut p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let before = p.clone();
    let e = p
        .act(boss, Action::Decline, Some("x".repeat(4001)), at(1))
        .unwrap_err();
    assert_eq!(invalid_fields(e), ["comment"]);
    assert_eq!(p, before);
    let _ = p
        .act(boss, Action::Decline, Some("  too late  ".into()), at(1))
        .unwrap();
    assert_eq!(
        p.find_entry(boss).unwrap().1.signer_comment.as_deref(),
        Some("too late")
    );
}

#[test]
fn rule5_a_viewer_cannot_decline() {
    let mut p = started(input(vec![step(
        1,
        vec![entry("SIGNER", "s@x.lv"), entry("VIEWER", "v@x.lv")],
    )]));
    let t = transition(
        p.act(id_of(&p, "v@x.lv"), Action::Decline, None, at(1))
            .unwrap_err(),
    );
    assert!(matches!(
        t,
        TransitionError::Role {
            role: SignerRole::Viewer,
            ..
        }
    ));
}

// ---- Rule 6: cancel ----

#[test]
fn rule6_cancel_emails_the_initiator_and_everyone_the_process_reached() {
    let mut p = started(two_steps());
    let c = p.cancel(false, at(1)).unwrap();
    assert_eq!(c.event_types(), [EventType::ProcessCanceled]);
    let to: Vec<&str> = c.notifications.iter().map(|n| n.to.as_str()).collect();
    assert_eq!(
        to,
        ["office@example.lv", "boss@example.lv"],
        "step 2 was never reached"
    );
    assert_eq!(p.status, ProcessStatus::Canceled);
    assert!(p.canceled());
    assert!(
        p.steps
            .iter()
            .all(|s| s.step_status == StepStatus::Canceled)
    );
    assert!(
        p.entries()
            .all(|e| e.signing_status == SigningStatus::Canceled)
    );
}

#[test]
fn rule6_cancel_with_disabled_messages_records_the_event_but_emails_nobody() {
    let mut p = started(two_steps());
    let c = p.cancel(true, at(1)).unwrap();
    assert_eq!(c.event_types(), [EventType::ProcessCanceled]);
    assert!(c.notifications.is_empty());
}

#[test]
fn rule6_canceling_a_draft_emails_nobody() {
    let (mut p, _) = create(two_steps());
    let c = p.cancel(false, at(1)).unwrap();
    assert!(c.notifications.is_empty());
    assert_eq!(p.status, ProcessStatus::Canceled);
}

#[test]
fn rule6_only_pending_or_started_can_be_canceled() {
    let mut p = started(input(vec![step(1, vec![entry("SIGNER", "s@x.lv")])]));
    let _ = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, None, at(1))
        .unwrap();
    let t = transition(p.cancel(false, at(2)).unwrap_err());
    assert!(t.to_string().contains("COMPLETED"), "{t}");
}

// ---- Rule 7: final states ----

#[test]
fn rule7_final_processes_refuse_every_change() {
    for end in ["complete", "cancel", "decline"] {
        let mut p = started(input(vec![step(
            1,
            vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
        )]));
        let s = id_of(&p, "s@x.lv");
        match end {
            "complete" => {
                let _ = p.act(s, Action::Sign, None, at(1)).unwrap();
                let _ = p
                    .act(id_of(&p, "t@x.lv"), Action::Sign, None, at(1))
                    .unwrap();
            }
            "cancel" => drop(p.cancel(false, at(1)).unwrap()),
            _ => drop(p.act(s, Action::Decline, None, at(1)).unwrap()),
        }
        assert!(p.status.is_final());
        let version = p.version;
        let ids = SequentialIds::default();
        assert!(
            matches!(
                p.update(draft(as_draft_json(&p)), &ids, at(2)),
                Err(CommandError::Transition(_))
            ),
            "{end}: update"
        );
        assert!(
            matches!(p.start(at(2)), Err(CommandError::Transition(_))),
            "{end}: start"
        );
        assert!(
            matches!(p.cancel(true, at(2)), Err(CommandError::Transition(_))),
            "{end}: cancel"
        );
        assert!(
            matches!(
                p.act(id_of(&p, "t@x.lv"), Action::Sign, None, at(2)),
                Err(CommandError::Transition(_))
            ),
            "{end}: act"
        );
        assert_eq!(p.version, version, "{end}: nothing changed");
    }
}

// ---- Rule 8: updates of a running process ----

#[test]
fn rule8_text_fields_of_a_running_process_can_change() {
    let mut p = started(two_steps());
    let mut v = as_draft_json(&p);
    v["documentName"] = json!("Lease v2");
    v["comment"] = json!("see annex");
    let c = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(c.event_types(), [EventType::ProcessUpdated]);
    assert_eq!(p.header.document_name.as_deref(), Some("Lease v2"));
    assert_eq!(p.status, ProcessStatus::Started);
}

#[test]
fn rule8_the_document_of_a_running_process_is_fixed() {
    let mut p = started(two_steps());
    let mut v = as_draft_json(&p);
    v["documentId"] = json!("other-doc");
    let t = transition(
        p.update(draft(v), &SequentialIds::default(), at(1))
            .unwrap_err(),
    );
    assert!(matches!(
        t,
        TransitionError::Frozen {
            field: "documentId",
            ..
        }
    ));
}

#[test]
fn rule8_an_entry_added_to_the_running_step_gets_its_task_at_once() {
    let mut p = started(two_steps());
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"]
        .as_array_mut()
        .unwrap()
        .push(entry("APPROVER", "deputy@x.lv"));
    let c = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [EventType::ProcessUpdated, EventType::TaskStarted]
    );
    assert_eq!(
        status_of(&p, "deputy@x.lv"),
        SigningStatus::WaitingForAction
    );
}

#[test]
fn rule8_an_entry_that_acted_cannot_change() {
    let mut p = started(input(vec![step(
        1,
        vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
    )]));
    let _ = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, None, at(1))
        .unwrap();
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"][0]["signerName"] = json!("Someone else");
    let t = transition(
        p.update(draft(v), &SequentialIds::default(), at(2))
            .unwrap_err(),
    );
    assert!(
        matches!(
            t,
            TransitionError::EntryLocked {
                current: SigningStatus::Signed,
                ..
            }
        ),
        "{t}"
    );
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    assert!(matches!(
        p.update(draft(v), &SequentialIds::default(), at(2)),
        Err(CommandError::Transition(
            TransitionError::EntryLocked { .. }
        ))
    ));
}

#[test]
fn rule8_an_entry_that_has_not_acted_can_be_edited_or_removed() {
    let mut p = started(input(vec![step(
        1,
        vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
    )]));
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"][1]["signerName"] = json!("Tom");
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(2))
        .unwrap();
    assert_eq!(p.total_signers(), 1);
}

#[test]
fn rule8_removing_the_last_open_signer_completes_the_step() {
    let mut p = started(input(vec![
        step(
            1,
            vec![entry("SIGNER", "s@x.lv"), entry("SIGNER", "t@x.lv")],
        ),
        step(2, vec![entry("SIGNER", "u@x.lv")]),
    ]));
    let _ = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, None, at(1))
        .unwrap();
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["processStepSigners"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let c = p
        .update(draft(v), &SequentialIds::default(), at(2))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [EventType::ProcessUpdated, EventType::TaskStarted]
    );
    assert_eq!(p.steps[0].step_status, StepStatus::Completed);
}

#[test]
fn rule8_a_finished_step_can_neither_change_nor_go() {
    let mut p = started(two_steps());
    let _ = p
        .act(id_of(&p, "boss@example.lv"), Action::Approve, None, at(1))
        .unwrap();
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][0]["dueDate"] = json!("2027-01-01T00:00:00Z");
    let t = transition(
        p.update(draft(v), &SequentialIds::default(), at(2))
            .unwrap_err(),
    );
    assert!(
        matches!(
            t,
            TransitionError::StepLocked {
                current: StepStatus::Completed,
                ..
            }
        ),
        "{t}"
    );
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"].as_array_mut().unwrap().remove(0);
    let t = transition(
        p.update(draft(v), &SequentialIds::default(), at(2))
            .unwrap_err(),
    );
    assert!(t.to_string().contains("cannot be removed"), "{t}");
}

#[test]
fn rule8_a_step_that_has_not_started_can_be_removed_or_rewritten() {
    let mut p = started(two_steps());
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"][1]["processStepSigners"] = json!([entry("SIGNER", "other@x.lv")]);
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(
        status_of(&p, "other@x.lv"),
        SigningStatus::WaitingForPrevious
    );
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"].as_array_mut().unwrap().remove(1);
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(2))
        .unwrap();
    assert_eq!(p.steps.len(), 1);
}

#[test]
fn rule8_a_new_step_must_come_after_the_running_step() {
    let mut p = started(input(vec![step(5, vec![entry("SIGNER", "s@x.lv")])]));
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"]
        .as_array_mut()
        .unwrap()
        .push(step(3, vec![entry("SIGNER", "t@x.lv")]));
    assert!(matches!(
        p.update(draft(v), &SequentialIds::default(), at(1)),
        Err(CommandError::Transition(TransitionError::StepLocked { .. }))
    ));
    let mut v = as_draft_json(&p);
    v["signingProcessSteps"]
        .as_array_mut()
        .unwrap()
        .push(step(9, vec![entry("SIGNER", "t@x.lv")]));
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(status_of(&p, "t@x.lv"), SigningStatus::WaitingForPrevious);
}

#[test]
fn rule8_a_changed_status_in_update_process_starts_or_cancels() {
    let (mut p, _) = create(two_steps());
    let mut v = as_draft_json(&p);
    v["status"] = json!("STARTED");
    let c = p
        .update(draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [
            EventType::ProcessUpdated,
            EventType::ProcessStarted,
            EventType::TaskStarted
        ]
    );
    let mut v = as_draft_json(&p);
    v["status"] = json!("COMPLETED");
    let t = transition(
        p.update(draft(v), &SequentialIds::default(), at(2))
            .unwrap_err(),
    );
    assert!(matches!(
        t,
        TransitionError::StatusChange {
            field: "status",
            ..
        }
    ));
    let mut v = as_draft_json(&p);
    v["status"] = json!("CANCELED");
    let _ = p
        .update(draft(v), &SequentialIds::default(), at(3))
        .unwrap();
    assert_eq!(p.status, ProcessStatus::Canceled);
}

#[test]
fn rule8_update_step_with_signed_status_is_the_sign_action() {
    let mut p = started(input(vec![step(1, vec![entry("SIGNER", "s@x.lv")])]));
    let mut twin = p.clone();
    let s = id_of(&p, "s@x.lv");
    let step_id = p.steps[0].id;
    let mut v = step_json(&p.steps[0]);
    v["processStepSigners"][0]["signingStatus"] = json!("SIGNED");
    let c = p
        .update_step(step_id, step_draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    let direct = twin.act(s, Action::Sign, None, at(1)).unwrap();
    assert_eq!(
        c.event_types()[1..],
        direct.event_types()[..],
        "the same events as the sign action"
    );
    assert_eq!(p.status, twin.status);
    assert_eq!(p.steps, twin.steps);
}

#[test]
fn rule8_update_step_with_declined_status_declines_with_the_comment_as_reason() {
    let mut p = started(two_steps());
    let step_id = p.steps[0].id;
    let mut v = step_json(&p.steps[0]);
    v["processStepSigners"][0]["signingStatus"] = json!("DECLINED");
    v["processStepSigners"][0]["signerComment"] = json!("not today");
    let c = p
        .update_step(step_id, step_draft(v), &SequentialIds::default(), at(1))
        .unwrap();
    assert_eq!(
        c.event_types(),
        [EventType::ProcessUpdated, EventType::ApproverDeclined]
    );
    assert_eq!(p.status, ProcessStatus::Declined);
    assert_eq!(c.events[1].note.as_deref(), Some("not today"));
}

#[test]
fn rule8_update_step_to_a_status_no_action_reaches_is_refused() {
    let mut p = started(two_steps());
    let step_id = p.steps[0].id;
    let mut v = step_json(&p.steps[0]);
    v["processStepSigners"][0]["signingStatus"] = json!("CANCELED");
    let t = transition(
        p.update_step(step_id, step_draft(v), &SequentialIds::default(), at(1))
            .unwrap_err(),
    );
    assert!(matches!(
        t,
        TransitionError::StatusChange {
            field: "signingStatus",
            ..
        }
    ));
}

#[test]
fn rule8_update_step_with_a_wrong_role_status_changes_nothing() {
    let mut p = started(two_steps());
    let before = p.clone();
    let step_id = p.steps[0].id;
    let mut v = step_json(&p.steps[0]);
    v["processStepSigners"][0]["signingStatus"] = json!("SIGNED");
    v["dueDate"] = json!("2027-01-01T00:00:00Z");
    assert!(
        p.update_step(step_id, step_draft(v), &SequentialIds::default(), at(1))
            .is_err()
    );
    assert_eq!(
        p, before,
        "a refused command changes nothing, not even the due date"
    );
}

#[test]
fn rule8_update_step_of_an_unknown_step_is_not_found() {
    let mut p = started(two_steps());
    let v = step_json(&p.steps[0]);
    let e = p
        .update_step(
            StepId::from_uuid(uuid::Uuid::nil()),
            step_draft(v),
            &SequentialIds::default(),
            at(1),
        )
        .unwrap_err();
    assert_eq!(e, CommandError::NotFound(Missing::Step));
}

// ---- Rule 9: delete ----

#[test]
fn rule9_a_running_process_must_be_canceled_before_delete() {
    let mut p = started(two_steps());
    let t = transition(p.delete(at(1)).unwrap_err());
    assert!(t.to_string().contains("cancel it first"), "{t}");
}

#[test]
fn rule9_delete_hides_the_process_and_records_process_deleted() {
    let (mut p, _) = create(two_steps());
    let c = p.delete(at(1)).unwrap();
    assert_eq!(c.event_types(), [EventType::ProcessDeleted]);
    assert!(c.notifications.is_empty());
    assert_eq!(p.deleted_at, Some(at(1)));
    assert_eq!(
        p.start(at(2)).unwrap_err(),
        CommandError::NotFound(Missing::Process)
    );
}

#[test]
fn rule9_final_processes_can_be_deleted() {
    let mut p = started(two_steps());
    let _ = p.cancel(true, at(1)).unwrap();
    assert!(p.delete(at(2)).is_ok());
}

// ---- Rule 10: every change is one versioned unit ----

#[test]
fn rule10_each_successful_command_adds_one_version_and_a_refused_one_none() {
    let (mut p, _) = create(two_steps());
    assert_eq!(p.version, 1);
    let _ = p.start(at(1)).unwrap();
    assert_eq!(p.version, 2);
    assert!(p.start(at(2)).is_err());
    assert_eq!(p.version, 2);
    assert_eq!(p.etag(), "\"2\"");
}

// ---- Notifications (section 7) ----

#[test]
fn section7_entries_with_signer_notification_false_get_no_email() {
    let mut p = started(input(vec![step(
        1,
        vec![
            json!({"signerRole": "SIGNER", "signerEmail": "quiet@x.lv", "signerNotification": false}),
            entry("SIGNER", "loud@x.lv"),
        ],
    )]));
    let c = p.cancel(false, at(1)).unwrap();
    let to: Vec<&str> = c.notifications.iter().map(|n| n.to.as_str()).collect();
    assert!(
        !to.contains(&"quiet@x.lv") && to.contains(&"loud@x.lv"),
        "{to:?}"
    );
}

#[test]
fn section7_the_recipient_language_and_the_initiator_entry_language_are_used() {
    let v = input(vec![step(
        1,
        vec![
            json!({"signerRole": "SIGNER", "signerEmail": "s@x.lv", "signerLanguage": "LV"}),
            json!({"signerRole": "INITIATOR", "signerEmail": "office@example.lv", "signerLanguage": "en"}),
        ],
    )]);
    let (mut p, _) = create(v);
    let c = p.start(at(0)).unwrap();
    let lang = |role| {
        c.notifications
            .iter()
            .find(|n| n.role == role)
            .and_then(|n| n.language.as_ref())
            .map(|l| l.as_str().to_owned())
    };
    assert_eq!(lang(RecipientRole::Signer).as_deref(), Some("lv"));
    assert_eq!(lang(RecipientRole::Initiator).as_deref(), Some("en"));
}

#[test]
fn section7_resend_task_is_refused_unless_the_entry_waits_for_action() {
    let p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let c = p.resend_task(boss, at(1)).unwrap();
    assert_eq!(c.event_types(), [EventType::AuditEmailReminder]);
    assert_eq!(c.notifications[0].event_type, EventType::TaskStarted);
    let client = id_of(&p, "client@example.lv");
    assert!(matches!(
        p.resend_task(client, at(1)),
        Err(CommandError::Transition(_))
    ));
}
