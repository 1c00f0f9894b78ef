//! PRODUCT.md section 10: who may do what. The role table is checked against the contract's
//! wording role by role; the use cases are checked to refuse before they change anything.

#![allow(clippy::unwrap_used)]

mod support;

use pas_domain::audit::Caller;
use pas_domain::auth::{Operation, Principal, Role, Roles};
use pas_domain::error::Missing;
use pas_domain::machine::Action;
use pas_domain::paging::PageRequest;
use pas_domain::ports::{FixedClock, MockProcessRepository};
use pas_domain::prelude::*;
use pas_domain::query::{PersonKey, ProcessFilter};
use pas_domain::service::{Precondition, ProcessError, ProcessService, ReadError};
use serde_json::json;
use std::sync::Arc;
use support::*;

fn only(role: Role) -> Principal {
    Principal::new("someone", Roles::of(&[role])).with_groups(["sales"])
}

fn as_caller(p: Principal) -> Caller {
    Caller::new(p, Some("127.0.0.1".into()))
}

fn allowed(role: Role) -> Vec<&'static str> {
    Operation::ALL
        .iter()
        .filter(|op| only(role).require(**op).is_ok())
        .map(|op| op.id())
        .collect()
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn service(repo: MockProcessRepository) -> ProcessService {
    ProcessService::new(
        Arc::new(repo),
        Arc::new(FixedClock(at(5))),
        Arc::new(SequentialIds::default()),
        pii_key(),
    )
}

const PORTAL_OPS: [&str; 8] = [
    "authorizeProcessAccess",
    "listSignerTasks",
    "listSignerSteps",
    "listSignerDocuments",
    "signProcessStep",
    "approveProcessStep",
    "viewProcessStep",
    "declineProcessStep",
];

#[test]
fn section10_an_admin_may_do_everything_but_act_for_a_signer() {
    let refused: Vec<&str> = Operation::ALL
        .iter()
        .filter(|op| only(Role::Admin).require(**op).is_err())
        .map(|op| op.id())
        .collect();
    assert_eq!(
        refused,
        [
            "signProcessStep",
            "approveProcessStep",
            "viewProcessStep",
            "declineProcessStep"
        ]
    );
}

#[test]
fn section10_an_auditor_reads_processes_and_the_audit_log_and_writes_nothing() {
    assert_eq!(
        allowed(Role::Auditor),
        [
            "getProcessById",
            "listProcesses",
            "findProcesses",
            "listProcessesByStepSignerId",
            "listProcessesByDocumentId",
            "listAuditEvents",
            "getProcessAuditTrail",
            "getAuditCheckpoint"
        ]
    );
}

#[test]
fn section10_an_audit_writer_only_adds_events() {
    assert_eq!(allowed(Role::AuditWriter), ["createAuditingEvent"]);
}

#[test]
fn section10_portal_and_signer_roles_only_reach_the_portal_operations() {
    for role in [Role::Portal, Role::Signer] {
        assert_eq!(allowed(role), PORTAL_OPS, "{role}");
    }
    for op in Operation::ALL {
        assert_eq!(op.is_portal(), PORTAL_OPS.contains(&op.id()), "{op}");
    }
}

#[test]
fn section10_a_user_works_on_processes_contacts_and_templates_and_reads_the_catalog() {
    let user = allowed(Role::User);
    for admin_only in [
        "createDocumentProfile",
        "updateDocumentProfile",
        "deleteDocumentProfile",
        "createDocumentAttribute",
        "updateDocumentAttribute",
        "deleteDocumentAttribute",
        "sendTestEmail",
        "sendReminders",
        "createAuditingEvent",
    ] {
        assert!(!user.contains(&admin_only), "{admin_only}");
    }
    for op in [
        "createProcess",
        "updateProcess",
        "startProcess",
        "cancelProcess",
        "deleteProcess",
        "sendSignerEmail",
        "getProcessAuditTrail",
        "createContact",
        "deleteTemplate",
        "getDocumentProfileById",
        "listDocumentAttributes",
        "updateProcessStep",
    ] {
        assert!(user.contains(&op), "{op}");
    }
    assert!(PORTAL_OPS.iter().all(|op| !user.contains(op)));
}

#[test]
fn section10_role_names_are_exact() {
    let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "pas-admin",
            "pas-user",
            "pas-auditor",
            "pas-audit-writer",
            "pas-portal",
            "pas-signer"
        ]
    );
    assert_eq!(Roles::parse_names(["PAS-ADMIN", "admin"]), Roles::NONE);
}

#[test]
fn section10_a_process_of_another_group_is_not_found_and_nothing_is_written() {
    let p = started(two_steps()); // ownerGroup "sales"
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().never();
    repo.expect_record().never();
    let svc = service(repo);
    let stranger =
        as_caller(Principal::new("juris", Roles::of(&[Role::User])).with_groups(["legal"]));
    assert_eq!(
        block(svc.get_audited(p.id, &stranger)).unwrap_err(),
        ReadError::NotFound(Missing::Process)
    );
    assert_eq!(
        block(svc.cancel(p.id, true, Precondition::None, &stranger)).unwrap_err(),
        ProcessError::NotFound(Missing::Process)
    );
}

#[test]
fn section10_the_role_is_checked_before_anything_is_loaded() {
    // No expectation on the repository: any call would panic.
    let svc = service(MockProcessRepository::new());
    let auditor = as_caller(only(Role::Auditor));
    let id = ProcessId::from_uuid(uuid::Uuid::nil());
    assert_eq!(
        block(svc.cancel(id, false, Precondition::None, &auditor)).unwrap_err(),
        ProcessError::Forbidden
    );
    let admin = as_caller(only(Role::Admin));
    let entry = EntryId::from_uuid(uuid::Uuid::nil());
    assert_eq!(
        block(svc.act(entry, Action::Sign, None, None, &admin)).unwrap_err(),
        ProcessError::Forbidden,
        "an administrator never signs for a person"
    );
}

#[test]
fn section10_a_user_creates_and_lists_only_in_its_groups() {
    let mut repo = MockProcessRepository::new();
    repo.expect_insert().times(1).returning(|_, _| Ok(()));
    repo.expect_list().never();
    let svc = service(repo);
    let user = as_caller(only(Role::User));
    let mut foreign = two_steps();
    foreign["ownerGroup"] = json!("legal");
    assert_eq!(
        block(svc.create(process_input(foreign), &user)).unwrap_err(),
        ProcessError::Forbidden
    );
    assert_eq!(
        block(svc.create(process_input(json!({"ownerGroup": "legal"})), &user)).unwrap_err(),
        ProcessError::Forbidden,
        "the group is checked before the body"
    );
    let mut unnamed = two_steps();
    unnamed.as_object_mut().unwrap().remove("ownerGroup");
    let created = block(svc.create(process_input(unnamed), &user)).unwrap();
    assert_eq!(created.header.owner_group.as_deref(), Some("sales"));

    let every_group = ProcessFilter::default();
    let page = PageRequest::default();
    assert_eq!(
        block(svc.list(&every_group, &page, &user)).unwrap_err(),
        ReadError::Forbidden,
        "isAdmin=true is for those who see everything"
    );
    let legal = ProcessFilter {
        owner_group: Some("legal".into()),
        ..ProcessFilter::default()
    };
    assert_eq!(
        block(svc.list(&legal, &page, &user)).unwrap_err(),
        ReadError::Forbidden
    );
}

#[test]
fn section10_a_signer_acts_only_as_itself_and_a_user_cannot_correct_a_status() {
    let p = started(input(vec![step(
        1,
        vec![person("SIGNER", "s@x.lv", "LV", "161175-19997")],
    )]));
    let entry = p.entries().next().unwrap().id;
    let mut repo = MockProcessRepository::new();
    let loaded = p.clone();
    repo.expect_get_by_entry()
        .returning(move |_| Ok(Some(loaded.clone())));
    let loaded = p.clone();
    repo.expect_get_by_step()
        .returning(move |_| Ok(Some(loaded.clone())));
    repo.expect_save().times(1).returning(|_, _, _| Ok(()));
    let svc = service(repo);

    let me = PersonKey::parse("161175-19997", "LV").unwrap();
    let other = PersonKey::parse("010101-10000", "LV").unwrap();
    let signer = as_caller(only(Role::Signer).with_person(Some(me.clone())));
    assert_eq!(
        block(svc.act(entry, Action::Sign, None, Some(other), &signer)).unwrap_err(),
        ProcessError::Forbidden,
        "a signer token naming another person"
    );

    let user = as_caller(only(Role::User));
    let mut correction = step_json(&p.steps[0]);
    correction["processStepSigners"][0]["signingStatus"] = json!("SIGNED");
    assert_eq!(
        block(svc.update_step(
            p.steps[0].id,
            serde_json::from_value(correction).unwrap(),
            &user
        ))
        .unwrap_err(),
        ProcessError::Forbidden,
        "a signingStatus correction is for administrators"
    );

    // Naming no person, the signer acts as itself: the one save expected above.
    let view = block(svc.act(entry, Action::Sign, None, None, &signer)).unwrap();
    assert_eq!(view.process.status, ProcessStatus::Completed);
}

#[test]
fn section10_the_matrix_in_security_md_is_the_code_s() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/SECURITY.md"
    ))
    .unwrap();
    assert!(
        doc.contains(&Operation::matrix_markdown()),
        "docs/SECURITY.md's role matrix differs from Operation::roles; paste:\n{}",
        Operation::matrix_markdown()
    );
}
