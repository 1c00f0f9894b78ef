//! Reminder selection (section 7), portal matching (section 8), scope visibility
//! (section 5), paging (section 4) and the audit hash chain (section 8).

#![allow(clippy::unwrap_used)]

mod support;

use pas_domain::audit::{
    AuditKey, AuditKeys, AuditingEvent, BreakKind, ChainBreak, ChainHead, Checkpoint,
    CheckpointChain, NewAuditEvent, chain, unkeyed_hash, verify_chain,
};
use pas_domain::ids::AuditEventId;
use pas_domain::matching::is_person;
use pas_domain::paging::{Direction, Page, PageRequest, ProcessSort, TaskSort};
use pas_domain::prelude::*;
use pas_domain::query::{PersonKey, ProcessFilterParams, SignerTaskParams, TaskOwner};
use pas_domain::reminder::due_reminders;
use pas_domain::status::Scope;
use pas_domain::visibility::Viewer;
use serde_json::json;
use support::*;
use time::macros::date;

fn due_process(due: &str) -> SigningProcess {
    started(input(vec![
        json!({"processOrder": 1, "dueDate": due, "processStepSigners": [
        entry("SIGNER", "s@x.lv"), entry("APPROVER", "a@x.lv"), entry("VIEWER", "v@x.lv")]}),
    ]))
}

#[test]
fn section7_reminders_go_to_open_signers_and_approvers_exactly_n_days_before() {
    let p = due_process("2026-03-05T12:00:00Z");
    let due = due_reminders(&p, date!(2026 - 03 - 02), &[1, 3, 5], |t| t.date());
    assert_eq!(due.len(), 2, "signer and approver, not the viewer");
    assert!(due.iter().all(|d| d.days_before == 3));
    assert!(
        due_reminders(&p, date!(2026 - 03 - 03), &[1, 3, 5], |t| t.date()).is_empty(),
        "2 days is not an offset"
    );
}

#[test]
fn section7_reminder_days_are_calendar_days_in_the_service_time_zone() {
    // 23:30 UTC on the 4th is already the 5th in Riga (UTC+2).
    let p = due_process("2026-03-04T23:30:00Z");
    let riga = |t: time::OffsetDateTime| t.to_offset(time::macros::offset!(+2)).date();
    let due = due_reminders(&p, date!(2026 - 03 - 04), &[1], riga);
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].due_date, date!(2026 - 03 - 05));
}

#[test]
fn section7_entries_that_acted_get_no_reminder() {
    let mut p = due_process("2026-03-05T12:00:00Z");
    let _ = p
        .act(id_of(&p, "s@x.lv"), Action::Sign, None, at(1))
        .unwrap();
    let due = due_reminders(&p, date!(2026 - 03 - 04), &[1], |t| t.date());
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].signer_id, id_of(&p, "a@x.lv"));
}

#[test]
fn section8_a_person_matches_without_spaces_hyphens_or_case() {
    let p = started(input(vec![step(
        1,
        vec![person("SIGNER", "s@x.lv", "LV", "161175-19997")],
    )]));
    let e = p.entries().next().unwrap();
    assert!(is_person(
        e,
        &PersonKey::parse("161175 19997", "lv").unwrap()
    ));
    assert!(is_person(
        e,
        &PersonKey::parse("16117519997", "LV").unwrap()
    ));
    assert!(
        !is_person(e, &PersonKey::parse("16117519997", "EE").unwrap()),
        "the country matters"
    );
}

#[test]
fn section8_an_anonymous_entry_never_matches_a_person() {
    let p = started(input(vec![step(1, vec![entry("SIGNER", "anon@x.lv")])]));
    let e = p.entries().next().unwrap();
    assert!(e.anonymous());
    assert!(!is_person(
        e,
        &PersonKey::parse("16117519997", "LV").unwrap()
    ));
}

#[test]
fn section6_signer_tasks_need_a_person_or_a_signer_id_alone() {
    assert!(SignerTaskParams::default().validate(T0).is_err());
    let id = EntryId::from_uuid(uuid::Uuid::nil());
    let f = SignerTaskParams {
        signer_id: Some(id),
        ..Default::default()
    }
    .validate(T0)
    .unwrap();
    assert_eq!(f.owner, TaskOwner::Anonymous(id));
    let f = SignerTaskParams {
        personal_code: Some("161175-19997".into()),
        country: Some("lv".into()),
        ..Default::default()
    }
    .validate(T0)
    .unwrap();
    assert!(matches!(f.owner, TaskOwner::Person { .. }));
}

#[test]
fn section6_non_admin_process_lists_need_an_owner_group() {
    assert!(ProcessFilterParams::default().validate().is_err());
    assert!(
        ProcessFilterParams {
            is_admin: Some(true),
            ..Default::default()
        }
        .validate()
        .is_ok()
    );
    let f = ProcessFilterParams {
        owner_group: Some("g".into()),
        personal_code: Some("161175-19997".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(f.personal_code.as_deref(), Some("16117519997"));
}

#[test]
fn section5_personal_rows_are_their_owners_group_rows_their_groups_global_rows_everyones() {
    let anna = Viewer::new("anna", "sales");
    assert!(
        anna.can_see(Scope::Personal, "anna", None)
            && anna.can_change(Scope::Personal, "anna", None)
    );
    assert!(!anna.can_see(Scope::Personal, "juris", Some("sales")));
    assert!(
        anna.can_see(Scope::Group, "juris", Some("sales"))
            && anna.can_change(Scope::Group, "juris", Some("sales"))
    );
    assert!(!anna.can_see(Scope::Group, "juris", Some("legal")));
    assert!(
        anna.can_see(Scope::Global, "juris", None)
            && !anna.can_change(Scope::Global, "juris", None)
    );
}

#[test]
fn section4_paging_defaults_caps_and_whitelists() {
    let d = PageRequest::<ProcessSort>::parse(None, None, &[]).unwrap();
    assert_eq!(
        (d.page, d.size, d.sort.clone()),
        (0, 20, vec![(ProcessSort::CreatedAt, Direction::Desc)])
    );
    assert_eq!(
        PageRequest::<ProcessSort>::parse(None, Some(10_000), &[])
            .unwrap()
            .size,
        200
    );
    assert!(PageRequest::<ProcessSort>::parse(Some(-1), None, &[]).is_err());
    assert!(PageRequest::<ProcessSort>::parse(None, Some(0), &[]).is_err());
    let e =
        PageRequest::<TaskSort>::parse(None, None, &["id;drop table x,asc".into()]).unwrap_err();
    assert_eq!(e.errors[0].field, "sort");
    let two = PageRequest::<ProcessSort>::parse(
        None,
        None,
        &["status,desc".into(), "documentName".into()],
    )
    .unwrap();
    assert_eq!(
        two.sort,
        vec![
            (ProcessSort::Status, Direction::Desc),
            (ProcessSort::DocumentName, Direction::Asc)
        ]
    );
}

#[test]
fn section4_page_metadata_matches_spring() {
    let req = PageRequest::<ProcessSort>::parse(Some(0), Some(20), &[]).unwrap();
    let empty: Page<u8> = Page::new(vec![], 0, &req);
    assert!(empty.empty && empty.first && empty.last);
    assert_eq!(empty.total_pages, 0);
    let page = Page::new(vec![1, 2], 2, &req);
    assert_eq!(page.content, [1, 2]);
    assert_eq!((page.total_elements, page.total_pages), (2, 1));
    assert_eq!(
        (page.number, page.size, page.number_of_elements),
        (0, 20, 2)
    );
    assert!(page.first && page.last && !page.empty);
}

fn audit_row(n: u128) -> NewAuditEvent {
    NewAuditEvent {
        id: AuditEventId::from_uuid(uuid::Uuid::from_u128(n)),
        created_at: at(i64::try_from(n).unwrap()),
        event_type: EventType::TaskStarted,
        event_origin: None,
        creator: Some("anna".into()),
        document_id: Some("doc".into()),
        signer_id: None,
        customer_personal_code: None,
        note: None,
        process_id: None,
        ip_address: None,
        container_id: None,
        method: None,
        client_app_name: None,
        customer_pseudonym: None,
    }
}

fn key(byte: u8) -> AuditKey {
    AuditKey::new(vec![byte; 32]).unwrap()
}

fn keys() -> AuditKeys {
    AuditKeys::new(key(1), vec![])
}

/// `n` rows chained under `keys`' current key after `head`; answers them and the new head.
fn extend(
    keys: &AuditKeys,
    head: ChainHead,
    from: u128,
    n: u128,
) -> (Vec<AuditingEvent>, ChainHead) {
    let mut head = head;
    let mut rows = Vec::new();
    for i in from..from + n {
        let next = chain(keys, &head, audit_row(i));
        head = ChainHead::after(&next, head.unkeyed_length);
        rows.push(next);
    }
    (rows, head)
}

fn chain_of(n: u128) -> (Vec<AuditingEvent>, ChainHead) {
    extend(&keys(), ChainHead::default(), 1, n)
}

fn broken(position: usize, kind: BreakKind) -> Option<ChainBreak> {
    Some(ChainBreak { position, kind })
}

#[test]
fn section8_an_intact_chain_verifies() {
    let (rows, head) = chain_of(5);
    assert_eq!(verify_chain(&keys(), &rows, Some(&head), true), None);
    assert_eq!(
        verify_chain(&keys(), &[], Some(&ChainHead::default()), true),
        None
    );
    assert_eq!(verify_chain(&keys(), &[], None, false), None);
}

#[test]
fn section8_an_edited_row_breaks_the_chain_at_its_position() {
    let (mut rows, head) = chain_of(5);
    rows[2].event.creator = Some("mallory".into());
    assert_eq!(
        verify_chain(&keys(), &rows, Some(&head), true),
        broken(2, BreakKind::Altered)
    );
}

#[test]
fn section8_a_removed_or_reordered_row_breaks_the_chain() {
    let (mut removed, head) = chain_of(5);
    removed.remove(1);
    assert_eq!(
        verify_chain(&keys(), &removed, Some(&head), true),
        broken(1, BreakKind::Altered)
    );
    let (mut swapped, head) = chain_of(5);
    swapped.swap(3, 4);
    assert_eq!(
        verify_chain(&keys(), &swapped, Some(&head), true),
        broken(3, BreakKind::Altered)
    );
}

#[test]
fn section11_rows_hashed_under_another_key_do_not_verify() {
    let (rows, head) = chain_of(3);
    // A forger with database access but not the key re-keys the chain with a key of their
    // own: its id is unknown.
    let forged = AuditKeys::new(key(9), vec![]);
    let (forged_rows, forged_head) = extend(&forged, ChainHead::default(), 1, 3);
    assert_eq!(
        verify_chain(&keys(), &forged_rows, Some(&forged_head), true),
        broken(0, BreakKind::UnknownKey)
    );
    // Keeping the real key id does not help: the HMAC does not match.
    let mut relabelled = forged_rows.clone();
    for r in &mut relabelled {
        r.key_id = rows[0].key_id.clone();
    }
    assert_eq!(
        verify_chain(&keys(), &relabelled, Some(&forged_head), true),
        broken(0, BreakKind::Altered)
    );
    assert_eq!(verify_chain(&keys(), &rows, Some(&head), true), None);
}

#[test]
fn section11_rows_under_a_retired_key_verify_after_rotation() {
    let old = AuditKeys::new(key(1), vec![]);
    let (mut rows, head) = extend(&old, ChainHead::default(), 1, 3);
    let rotated = AuditKeys::new(key(2), vec![key(1)]);
    let (more, head) = extend(&rotated, head, 4, 2);
    rows.extend(more);
    assert_ne!(rows[0].key_id, rows[4].key_id);
    assert_eq!(verify_chain(&rotated, &rows, Some(&head), true), None);
    // Without the retired key the old rows name an unknown key.
    let forgotten = AuditKeys::new(key(2), vec![]);
    assert_eq!(
        verify_chain(&forgotten, &rows, Some(&head), true),
        broken(0, BreakKind::UnknownKey)
    );
}

/// A chain written before keying: plain SHA-256, no key id.
fn unkeyed(n: u128) -> Vec<AuditingEvent> {
    let mut rows: Vec<AuditingEvent> = Vec::new();
    for i in 1..=n {
        let previous = rows.last().map(|r| r.hash.clone());
        let hash = unkeyed_hash(previous.as_deref(), &audit_row(i));
        rows.push(AuditingEvent {
            event: audit_row(i),
            sequence: i64::try_from(i - 1).unwrap(),
            previous_hash: previous,
            hash,
            key_id: None,
        });
    }
    rows
}

#[test]
fn section11_unkeyed_rows_verify_only_within_the_recorded_prefix() {
    let legacy = unkeyed(3);
    let head = ChainHead::after(&legacy[2], 3);
    assert_eq!(verify_chain(&keys(), &legacy, Some(&head), true), None);
    // Keyed rows continue the chain.
    let (more, head) = extend(&keys(), head, 4, 2);
    let mut rows = legacy.clone();
    rows.extend(more);
    assert_eq!(verify_chain(&keys(), &rows, Some(&head), true), None);
    // An attacker recomputing plain SHA-256 beyond the prefix is caught at the first such row.
    let rewritten = unkeyed(5);
    let head = ChainHead::after(&rewritten[4], 3);
    assert_eq!(
        verify_chain(&keys(), &rewritten, Some(&head), true),
        broken(3, BreakKind::Unkeyed)
    );
    // A chain created after keying has no unkeyed prefix at all.
    let head = ChainHead::after(&legacy[2], 0);
    assert_eq!(
        verify_chain(&keys(), &legacy, Some(&head), true),
        broken(0, BreakKind::Unkeyed)
    );
}

#[test]
fn section11_the_stored_head_reveals_truncation_and_deletion() {
    let (rows, head) = chain_of(5);
    assert_eq!(
        verify_chain(&keys(), &rows[..3], Some(&head), true),
        broken(3, BreakKind::Truncated)
    );
    assert_eq!(
        verify_chain(&keys(), &[], Some(&head), true),
        broken(0, BreakKind::Truncated)
    );
    // Head and rows gone while the process exists.
    assert_eq!(
        verify_chain(&keys(), &[], None, true),
        broken(0, BreakKind::Missing)
    );
    // Rows without a head.
    assert_eq!(
        verify_chain(&keys(), &rows, None, true),
        broken(5, BreakKind::HeadMissing)
    );
    // A head that does not name the last row.
    let (_, short_head) = chain_of(4);
    assert_eq!(
        verify_chain(&keys(), &rows, Some(&short_head), true),
        broken(4, BreakKind::HeadMismatch)
    );
}

#[test]
fn section11_checkpoint_root_covers_every_chain_line() {
    let chain = |k: &str, length, head: &str| CheckpointChain {
        chain_key: k.into(),
        length,
        head: head.into(),
    };
    let t = at(0);
    let one = Checkpoint::of(
        t,
        vec![chain("b", 2, "x"), chain("a", 1, "y"), chain("c", 0, "")],
    );
    assert_eq!(one.chains.len(), 2, "empty chains are left out");
    assert_eq!(one.chains[0].line(), "a 1 y\n");
    let other = Checkpoint::of(t, vec![chain("a", 1, "y"), chain("b", 3, "x")]);
    assert_ne!(one.root, other.root);
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"a 1 y\nb 2 x\n"))
    };
    assert_eq!(one.root, expected);
}
