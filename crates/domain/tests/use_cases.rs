//! The use cases of `service`, against mockall mocks of the ports (rule 10, section 7, 8).

#![allow(clippy::unwrap_used)]

mod support;

use pas_domain::error::Missing;
use std::sync::{Arc, Mutex};

use pas_domain::audit::Caller;
use pas_domain::auth::{Operation, Principal};
use pas_domain::ids::AttributeId;
use pas_domain::paging::{Page, PageRequest};
use pas_domain::ports::{
    ChangeSet, FixedClock, MailError, MockCatalogStore, MockMailer, MockProcessRepository,
    RepoError,
};
use pas_domain::prelude::*;
use pas_domain::query::PersonKey;
use pas_domain::query::ProcessFilter;
use pas_domain::service::{
    CatalogError, CatalogService, Conflict, MessageError, MessageService, Precondition,
    ProcessError, ProcessService, ReadAudit, ReadError, SourceChain,
};
use support::*;

fn service(repo: MockProcessRepository) -> ProcessService {
    ProcessService::new(
        Arc::new(repo),
        Arc::new(FixedClock(at(5))),
        Arc::new(SequentialIds::default()),
        pii_key(),
    )
}

/// The address is only recorded on audit rows, never dialled.
fn caller() -> Caller {
    Caller::new(
        Principal::development("anna", Some("portal".into())),
        // Recorded on audit rows as text: parsed, never dialled.
        Some("192.0.2.7".into()),
    )
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

#[test]
fn rule10_create_inserts_state_audit_rows_and_emails_together() {
    let mut repo = MockProcessRepository::new();
    let seen: Arc<Mutex<Option<ChangeSet>>> = Arc::default();
    let keep = seen.clone();
    repo.expect_insert().times(1).returning(move |_, c| {
        *keep.lock().unwrap() = Some(c.clone());
        Ok(())
    });
    let mut v = two_steps();
    v["status"] = serde_json::json!("STARTED");
    let p = block(service(repo).create(process_input(v), &caller())).unwrap();
    let changes = seen.lock().unwrap().clone().unwrap();
    let types: Vec<EventType> = changes.audit.iter().map(|a| a.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::ProcessUpdated,
            EventType::ProcessStarted,
            EventType::TaskStarted
        ]
    );
    assert!(
        changes
            .audit
            .iter()
            .all(|a| a.creator.as_deref() == Some("anna")
                && a.client_app_name.as_deref() == Some("portal"))
    );
    assert!(
        changes
            .audit
            .iter()
            .all(|a| a.process_id == Some(p.id) && a.method.as_deref() == Some("createProcess"))
    );
    assert_eq!(
        changes.change.notifications.len(),
        2,
        "initiator + first approver"
    );
}

#[test]
fn rule10_a_client_id_already_used_is_a_conflict() {
    let mut repo = MockProcessRepository::new();
    repo.expect_insert()
        .returning(|_, _| Err(RepoError::Duplicate("process")));
    let e = block(service(repo).create(process_input(two_steps()), &caller())).unwrap_err();
    assert!(
        matches!(e, ProcessError::Conflict(Conflict::IdInUse(_))),
        "{e:?}"
    );
}

#[test]
fn rule10_a_concurrent_change_is_retried_on_the_fresh_state() {
    let p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get_by_entry()
        .times(2)
        .returning(move |_| Ok(Some(loaded.clone())));
    let mut first = true;
    repo.expect_save()
        .times(2)
        .returning(move |before, after, _| {
            assert_eq!(before.version, 2);
            assert_eq!(after.version, 3);
            if std::mem::take(&mut first) {
                Err(RepoError::VersionConflict {
                    expected: before.version,
                })
            } else {
                Ok(())
            }
        });
    let out = block(service(repo).act(boss, Action::Approve, None, None, &caller())).unwrap();
    assert_eq!(out.process.version, 3);
}

#[test]
fn rule10_a_stale_if_match_is_a_failed_precondition_and_saves_nothing() {
    let p = started(two_steps());
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().never();
    let e =
        block(service(repo).cancel(p.id, false, Precondition::Version(1), &caller())).unwrap_err();
    assert_eq!(e, ProcessError::PreconditionFailed { current: 2 });
}

#[test]
fn rule10_a_conflict_under_if_match_is_not_retried() {
    let p = started(two_steps());
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .times(1)
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().times(1).returning(|before, _, _| {
        Err(RepoError::VersionConflict {
            expected: before.version,
        })
    });
    let e =
        block(service(repo).cancel(p.id, false, Precondition::Version(2), &caller())).unwrap_err();
    assert!(matches!(e, ProcessError::PreconditionFailed { .. }));
}

#[test]
fn rule7_a_forbidden_transition_reaches_the_caller_and_saves_nothing() {
    let mut p = started(two_steps());
    let _ = p.cancel(true, at(1)).unwrap();
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().never();
    let e = block(service(repo).start(p.id, Precondition::None, &caller())).unwrap_err();
    assert!(matches!(e, ProcessError::Transition(_)));
}

#[test]
fn section8_the_portal_acts_only_with_a_matching_identity() {
    let p = started(input(vec![step(
        1,
        vec![person("SIGNER", "s@x.lv", "LV", "161175-19997")],
    )]));
    let s = p.entries().next().unwrap().id;
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get_by_entry()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let svc = service(repo);
    let wrong = PersonKey::parse("010101-10000", "LV").unwrap();
    assert_eq!(
        block(svc.act(s, Action::Sign, None, Some(wrong), &caller())).unwrap_err(),
        ProcessError::Forbidden
    );
    assert_eq!(
        block(svc.act(s, Action::Sign, None, None, &caller())).unwrap_err(),
        ProcessError::Forbidden
    );
    let right = PersonKey::parse("16117519997", "lv").unwrap();
    assert_eq!(
        block(svc.act(s, Action::Sign, None, Some(right), &caller()))
            .unwrap()
            .process
            .status,
        ProcessStatus::Completed
    );
}

#[test]
fn section8_an_unknown_signer_is_forbidden_like_a_wrong_identity() {
    let mut repo = MockProcessRepository::new();
    repo.expect_get_by_entry().returning(|_| Ok(None));
    let e = block(service(repo).act(
        EntryId::from_uuid(uuid::Uuid::nil()),
        Action::Sign,
        None,
        None,
        &caller(),
    ))
    .unwrap_err();
    assert_eq!(e, ProcessError::Forbidden);
}

#[test]
fn section8_an_anonymous_entry_is_reached_by_its_id_alone() {
    let p = started(input(vec![step(1, vec![entry("SIGNER", "anon@x.lv")])]));
    let s = p.entries().next().unwrap().id;
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get_by_entry()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().returning(|_, _, _| Ok(()));
    assert!(block(service(repo).act(s, Action::Sign, None, None, &caller())).is_ok());
}

#[test]
fn section8_authorize_records_auth_completed_or_login_fault() {
    let p = started(input(vec![step(
        1,
        vec![
            person("SIGNER", "s@x.lv", "EE", "37605030299"),
            entry("SIGNER", "anon@x.lv"),
        ],
    )]));
    let s = id_of(&p, "s@x.lv");
    let recorded: Arc<Mutex<Vec<EventType>>> = Arc::default();
    let keep = recorded.clone();
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get_by_entry()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_record().returning(move |_, c| {
        keep.lock()
            .unwrap()
            .extend(c.audit.iter().map(|a| a.event_type));
        Ok(())
    });
    let svc = service(repo);
    let view = block(svc.authorize(
        s,
        &PersonKey::parse("376 0503 0299", "ee").unwrap(),
        &caller(),
    ))
    .unwrap();
    // Section 10: only the caller's own entry is shown in full (which fields the others
    // keep is the HTTP adapter's wire conversion, tested there).
    assert_eq!(view.own, [s]);
    for e in view.process.entries() {
        assert_eq!(view.shows_in_full(e), e.id == s, "entry {}", e.id);
    }
    let e = block(svc.authorize(
        s,
        &PersonKey::parse("49403136515", "EE").unwrap(),
        &caller(),
    ))
    .unwrap_err();
    assert_eq!(e, ReadError::Forbidden);
    assert_eq!(
        *recorded.lock().unwrap(),
        [EventType::AuthCompleted, EventType::AuditLoginFault]
    );
}

#[test]
fn section7_reminders_are_sent_once_per_entry_and_offset() {
    let v = input(vec![
        serde_json::json!({"processOrder": 1, "dueDate": "2026-03-05T12:00:00Z",
        "processStepSigners": [entry("SIGNER", "s@x.lv"), entry("VIEWER", "v@x.lv")]}),
    ]);
    let p = started(v);
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_due_between()
        .returning(move |_, _| Ok(vec![loaded.clone()]));
    let keys: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = keys.clone();
    repo.expect_record().returning(move |_, c| {
        let key = c.idempotency_key.clone().unwrap();
        let mut seen = keep.lock().unwrap();
        if seen.contains(&key) {
            return Err(RepoError::Duplicate("idempotency key"));
        }
        seen.push(key);
        assert_eq!(c.change.notifications[0].event_type, EventType::Reminder);
        Ok(())
    });
    let svc = service(repo);
    let today = time::macros::date!(2026 - 03 - 02);
    let local = |t: time::OffsetDateTime| t.date();
    assert_eq!(
        block(svc.send_reminders(today, &[1, 3, 5], &local, &Caller::system("scheduler"))).unwrap(),
        1
    );
    assert_eq!(
        block(svc.send_reminders(today, &[1, 3, 5], &local, &Caller::system("scheduler"))).unwrap(),
        0,
        "twice a day sends nothing new"
    );
}

#[test]
fn storage_failures_surface_as_storage_errors() {
    let mut repo = MockProcessRepository::new();
    repo.expect_get()
        .returning(|_| Err(RepoError::Storage("connection reset".into())));
    let e = block(service(repo).get(ProcessId::from_uuid(uuid::Uuid::nil()))).unwrap_err();
    // The port's error is kept as the source, for the log.
    assert_eq!(
        e,
        ReadError::Storage(RepoError::Storage("connection reset".into()))
    );
    assert!(std::error::Error::source(&e).is_some());
}

/// A repository that answers `p` for `get`, `list`, `search` and `get_by_entry`, and keeps
/// the audit rows of every `record`.
fn reading_repo(p: &SigningProcess) -> (MockProcessRepository, Arc<Mutex<Vec<ChangeSet>>>) {
    let recorded: Arc<Mutex<Vec<ChangeSet>>> = Arc::default();
    let keep = recorded.clone();
    let mut repo = MockProcessRepository::new();
    let (a, b, c, d) = (p.clone(), p.clone(), p.clone(), p.clone());
    repo.expect_get().returning(move |_| Ok(Some(a.clone())));
    repo.expect_list()
        .returning(move |_, page| Ok(Page::new(vec![b.clone(), b.clone()], 2, page)));
    repo.expect_search().returning(move |_| Ok(vec![c.clone()]));
    repo.expect_get_by_entry()
        .returning(move |_| Ok(Some(d.clone())));
    repo.expect_record().returning(move |_, c| {
        keep.lock().unwrap().push(c.clone());
        Ok(())
    });
    (repo, recorded)
}

fn admin_filter() -> ProcessFilter {
    pas_domain::query::ProcessFilterParams {
        is_admin: Some(true),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

#[test]
fn audit_a_single_read_records_process_getone_by_default() {
    let p = started(two_steps());
    let (repo, recorded) = reading_repo(&p);
    let svc = service(repo);
    assert_eq!(svc.read_audit(), ReadAudit::Single);
    let read = block(svc.get_audited(p.id, &caller())).unwrap();
    assert_eq!(read.version, p.version, "a read changes nothing");
    block(svc.list(&admin_filter(), &PageRequest::default(), &caller())).unwrap();
    let recorded = recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1, "lists are not audited by default");
    let row = &recorded[0].audit[0];
    assert_eq!(row.event_type, EventType::ProcessGetone);
    assert_eq!(row.process_id, Some(p.id));
    assert_eq!(row.method.as_deref(), Some("getProcessById"));
    assert_eq!(row.creator.as_deref(), Some("anna"));
    // The recorded caller address (parsed text, never dialled).
    assert_eq!(row.ip_address.as_deref(), Some("192.0.2.7")); // parsed, never dialled
    assert_eq!(row.created_at, at(5));
    assert!(recorded[0].change.notifications.is_empty());
}

#[test]
fn audit_reads_off_records_nothing() {
    let p = started(two_steps());
    let (repo, recorded) = reading_repo(&p);
    let svc = service(repo).with_read_audit(ReadAudit::Off);
    block(svc.get_audited(p.id, &caller())).unwrap();
    block(svc.list(&admin_filter(), &PageRequest::default(), &caller())).unwrap();
    assert!(recorded.lock().unwrap().is_empty());
}

#[test]
fn audit_all_reads_record_process_getall_once_per_listed_process() {
    let p = started(two_steps());
    let (repo, recorded) = reading_repo(&p);
    let svc = service(repo).with_read_audit(ReadAudit::All);
    block(svc.get_audited(p.id, &caller())).unwrap();
    let page = block(svc.list(&admin_filter(), &PageRequest::default(), &caller())).unwrap();
    assert_eq!(page.content.len(), 2);
    let search = pas_domain::query::ProcessSearch {
        document_id: Some("doc".into()),
        personal_code: None,
    };
    block(svc.search(&search, &caller(), Operation::FindProcesses)).unwrap();
    let s = p.entries().next().unwrap().id;
    block(svc.by_signer(s, &caller())).unwrap();
    let rows: Vec<(EventType, String)> = recorded
        .lock()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c.audit
                .iter()
                .map(|a| (a.event_type, a.method.clone().unwrap()))
        })
        .collect();
    assert_eq!(
        rows,
        [
            (EventType::ProcessGetone, "getProcessById".to_owned()),
            (EventType::ProcessGetall, "listProcesses".to_owned()),
            (EventType::ProcessGetall, "listProcesses".to_owned()),
            (EventType::ProcessGetall, "findProcesses".to_owned()),
            (
                EventType::ProcessGetall,
                "listProcessesByStepSignerId".to_owned()
            ),
        ]
    );
}

#[test]
fn audit_an_unknown_process_is_not_found_and_records_nothing() {
    let mut repo = MockProcessRepository::new();
    repo.expect_get().returning(|_| Ok(None));
    repo.expect_record().never();
    let e = block(service(repo).get_audited(ProcessId::from_uuid(uuid::Uuid::nil()), &caller()))
        .unwrap_err();
    assert_eq!(e, ReadError::NotFound(Missing::Process));
}

#[test]
fn audit_a_read_that_cannot_be_recorded_fails() {
    let p = started(two_steps());
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_record()
        .returning(|_, _| Err(RepoError::Storage("audit table locked".into())));
    let e = block(service(repo).get_audited(p.id, &caller())).unwrap_err();
    assert!(
        matches!(e, ReadError::Storage(RepoError::Storage(_))),
        "{e:?}"
    );
}

#[test]
fn rule10_a_change_that_keeps_losing_the_race_is_a_version_conflict() {
    let p = started(two_steps());
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().times(5).returning(|before, _, _| {
        Err(RepoError::VersionConflict {
            expected: before.version,
        })
    });
    let e = block(service(repo).cancel(p.id, false, Precondition::None, &caller())).unwrap_err();
    assert_eq!(e, ProcessError::Conflict(Conflict::VersionChanged));
}

#[test]
fn an_attribute_a_profile_uses_is_a_typed_conflict() {
    let mut store = MockCatalogStore::new();
    store
        .expect_delete_attribute()
        .returning(|_| Err(RepoError::InUse("document attribute")));
    let catalog = CatalogService::new(
        Arc::new(store),
        Arc::new(FixedClock(at(5))),
        Arc::new(SequentialIds::default()),
    );
    let admin = Principal::system("catalog-admin");
    let e = block(catalog.delete_attribute(AttributeId::from_uuid(uuid::Uuid::nil()), &admin))
        .unwrap_err();
    assert_eq!(
        e,
        CatalogError::Conflict(Conflict::InUse("document attribute"))
    );
}

#[test]
fn a_mail_failure_keeps_the_mailer_s_error_as_its_source() {
    let p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let mut mailer = MockMailer::new();
    mailer
        .expect_subject()
        .returning(|_, _| Err(MailError::Transport("421 try later".into())));
    let messages = MessageService::new(
        Arc::new(mailer),
        Arc::new(FixedClock(at(5))),
        Arc::new(SequentialIds::default()),
    );
    let e = messages.task_subject(&p, boss).unwrap_err();
    assert_eq!(
        e,
        MessageError::Transport(MailError::Transport("421 try later".into()))
    );
    assert_eq!(
        SourceChain(&e).to_string(),
        "the mail server did not accept the email: mail transport error: 421 try later"
    );
}

#[test]
fn a_missing_email_template_is_invalid_for_the_event_type() {
    let p = started(two_steps());
    let boss = id_of(&p, "boss@example.lv");
    let mut mailer = MockMailer::new();
    mailer.expect_subject().returning(|intent, _| {
        Err(MailError::NoTemplate {
            event: intent.event_type,
            role: intent.role,
        })
    });
    let messages = MessageService::new(
        Arc::new(mailer),
        Arc::new(FixedClock(at(5))),
        Arc::new(SequentialIds::default()),
    );
    let MessageError::Invalid(v) = messages.task_subject(&p, boss).unwrap_err() else {
        panic!("not a validation failure");
    };
    assert_eq!(v.errors[0].field, "eventType");
}

mod erasure {
    use super::*;
    use pas_domain::erasure::ErasedElsewhere;
    use pas_domain::ports::MockErasureStore;
    use pas_domain::service::{Conflict, ErasureError, ErasureService};

    const CODE: &str = "161175-19997";

    fn with_person() -> serde_json::Value {
        input(vec![step(
            1,
            vec![
                person("SIGNER", "client@example.lv", "LV", CODE),
                entry("VIEWER", "viewer@example.lv"),
            ],
        )])
    }

    fn canceled() -> SigningProcess {
        let mut p = started(with_person());
        let _ = p.cancel(false, at(1)).unwrap();
        p
    }

    fn service(store: MockErasureStore) -> ErasureService {
        ErasureService::new(
            Arc::new(store),
            Arc::new(FixedClock(at(5))),
            Arc::new(SequentialIds::default()),
            pii_key(),
        )
    }

    #[test]
    fn section11_a_running_process_blocks_the_erasure_and_nothing_is_written() {
        let mut store = MockErasureStore::new();
        let running = started(with_person());
        let running_id = running.id;
        let finished = canceled();
        store
            .expect_processes_of_person()
            .returning(move |_| Ok(vec![running.clone(), finished.clone()]));
        store.expect_erase().never();
        let err = block(service(store).erase(CODE, "LV", &caller())).unwrap_err();
        assert_eq!(err, ErasureError::StillRunning(vec![running_id]));
    }

    #[test]
    fn section11_erases_the_person_only_and_records_person_erased_under_the_pseudonym() {
        let mut store = MockErasureStore::new();
        let p = canceled();
        let version = p.version;
        store
            .expect_processes_of_person()
            .returning(move |_| Ok(vec![p.clone()]));
        let written = Arc::new(Mutex::new(None));
        let keep = written.clone();
        store.expect_erase().times(1).returning(move |e| {
            *keep.lock().unwrap() = Some(e.clone());
            Ok(ErasedElsewhere {
                contacts: 1,
                messages: 2,
            })
        });
        let counts = block(service(store).erase("16117519997", "lv", &caller())).unwrap();
        assert_eq!(
            (
                counts.processes,
                counts.entries,
                counts.contacts,
                counts.messages
            ),
            (1, 1, 1, 2)
        );
        let erasure = written.lock().unwrap().clone().unwrap();
        let (erased, read_at) = &erasure.processes[0];
        assert_eq!(*read_at, version);
        assert_eq!(erased.version, version + 1);
        let entries: Vec<_> = erased.entries().collect();
        assert!(entries[0].details.signer_personal_code.is_none());
        assert!(entries[0].details.signer_email.is_none());
        assert_eq!(
            entries[1].details.signer_email.as_ref().map(|e| e.as_str()),
            Some("viewer@example.lv")
        );
        // One row outside any process, one in the process's chain; never the plain code.
        assert_eq!(erasure.audit.len(), 2);
        let pseudonym = pii_key().pseudonym(CODE, Some("LV".parse().unwrap()));
        for row in &erasure.audit {
            assert_eq!(row.event_type, EventType::PersonErased);
            assert_eq!(row.customer_pseudonym.as_deref(), Some(pseudonym.as_str()));
            assert_eq!(row.customer_personal_code.as_deref(), Some("161175*****"));
        }
        assert_eq!(erasure.audit[1].process_id, Some(erased.id));
    }

    #[test]
    fn section11_a_concurrent_change_is_planned_again_then_reported() {
        let mut store = MockErasureStore::new();
        let p = canceled();
        store
            .expect_processes_of_person()
            .times(4)
            .returning(move |_| Ok(vec![p.clone()]));
        store
            .expect_erase()
            .times(4)
            .returning(|_| Err(RepoError::VersionConflict { expected: 3 }));
        let err = block(service(store).erase(CODE, "LV", &caller())).unwrap_err();
        assert_eq!(err, ErasureError::Conflict(Conflict::VersionChanged));
    }

    #[test]
    fn section11_only_administrators_erase() {
        let store = MockErasureStore::new();
        let user = Caller::new(
            Principal::new(
                "juris",
                pas_domain::auth::Roles::of(&[pas_domain::auth::Role::User]),
            ),
            None,
        );
        let err = block(service(store).erase(CODE, "LV", &user)).unwrap_err();
        assert_eq!(err, ErasureError::Forbidden);
    }
}
