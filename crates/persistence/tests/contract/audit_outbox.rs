//! The audit log (hash chains, PRODUCT.md section 8) and the outbox (section 7).

use pas_domain::error::Missing;
use std::collections::HashSet;

use pas_domain::audit::{AuditEventInput, AuditFilter, Caller, NewAuditEvent};
use pas_domain::ids::{AuditEventId, EntryId, StepId};
use pas_domain::language::Language;
use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::paging::{AuditSort, Direction, PageRequest};
use pas_domain::ports::RepoError;
use pas_domain::prelude::*;
use pas_domain::values::Email;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

use crate::common::*;

/// A claim of `owner` under a fresh fencing token.
fn lease(owner: &str) -> pas_domain::ports::OutboxLease {
    pas_domain::ports::OutboxLease {
        owner: owner.into(),
        token: Uuid::now_v7(),
    }
}

/// An event from another system, as `createAuditingEvent` validates it.
fn external_event(
    process: Option<ProcessId>,
    note: &str,
    at: time::OffsetDateTime,
) -> NewAuditEvent {
    let input: AuditEventInput = serde_json::from_value(json!({
        "eventType": "DOCUMENT_DOWNLOAD",
        "eventOrigin": "portal",
        "creator": "jānis",
        "documentId": "doc-1",
        "signerId": Uuid::now_v7(),
        "customerPersonalCode": LV_CODE,
        "note": note,
        "processId": process.map(|p| p.as_uuid()),
        // Stored as text on the audit row: parsed, never dialled.
        "ipAddress": "192.0.2.7",
        "containerId": "container-1",
        "method": "download",
        "clientAppName": "portal/2.1",
    }))
    .unwrap();
    let caller = Caller::system("api");
    input
        .validate(
            AuditEventId::from_uuid(Uuid::now_v7()),
            at,
            &caller,
            &pii_key(),
            Some(pas_domain::values::CountryCode::LV),
        )
        .unwrap()
}

fn intent(to: &str, process: ProcessId, full: bool) -> NotificationIntent {
    NotificationIntent {
        event_type: if full {
            EventType::TaskStarted
        } else {
            EventType::Failure
        },
        role: if full {
            RecipientRole::Approver
        } else {
            RecipientRole::Administrator
        },
        to: Email::parse(to).unwrap(),
        language: full.then(|| Language::parse("en-GB").unwrap()),
        process_id: process,
        step_id: full.then(|| StepId::from_uuid(Uuid::now_v7())),
        signer_id: full.then(|| EntryId::from_uuid(Uuid::now_v7())),
    }
}

/// How a row made by [`outbox_row`] ends.
#[derive(Clone, Copy)]
enum Ends {
    /// Never claimed: PENDING.
    Pending,
    /// Claimed and given up at the claim's time: FAILED.
    Failed,
    /// Claimed and marked sent at this instant: SENT.
    SentAt(time::OffsetDateTime),
}

/// One email to `to`, queued at `queued` and settled as `ends`; its id. Every row made
/// before it must be settled already (the claim takes what is due).
async fn outbox_row(ctx: &Ctx, to: &str, queued: time::OffsetDateTime, ends: Ends) -> Uuid {
    let process = ProcessId::from_uuid(Uuid::now_v7());
    ctx.outbox()
        .enqueue(vec![intent(to, process, true)], queued)
        .await
        .unwrap();
    let claim_at = match ends {
        Ends::SentAt(at) => at,
        _ => queued,
    };
    let holder = lease("maker");
    let claimed = ctx
        .outbox()
        .claim(
            holder.clone(),
            10,
            claim_at,
            claim_at + time::Duration::minutes(1),
        )
        .await
        .unwrap();
    let id = claimed
        .iter()
        .find(|m| m.payload.to().map(|e| e.as_str()) == Some(to))
        .unwrap()
        .id;
    match ends {
        Ends::Pending => ctx.outbox().release(holder.token).await.map(drop).unwrap(),
        Ends::Failed => ctx
            .outbox()
            .mark_failed(id, holder.token, "550 no such user".into(), None, queued)
            .await
            .unwrap(),
        Ends::SentAt(at) => ctx.outbox().mark_sent(id, holder.token, at).await.unwrap(),
    }
    id
}

/// The ids of every outbox row.
async fn outbox_ids(ctx: &Ctx) -> HashSet<Uuid> {
    use pas_domain::outbox::OutboxFilter;
    use pas_domain::paging::OutboxSort;
    let page = PageRequest::<OutboxSort> {
        size: 200,
        ..PageRequest::default()
    };
    let rows = ctx
        .outbox()
        .list(&OutboxFilter::default(), &page)
        .await
        .unwrap();
    assert!(rows.last, "more than a page of rows");
    rows.content.iter().map(|r| r.id).collect()
}

/// A purge batch of `n` rows.
fn batch(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n).unwrap()
}

contract_tests! {
    /// An appended event comes back field for field; events without a process share one
    /// chain (keyed by the nil UUID), which verifies (section 8).
    async fn audit_event_round_trip_and_events_without_a_process_share_one_chain(ctx: Ctx) {
        // Nanoseconds are dropped before hashing, so the stored row still verifies.
        let first = external_event(None, "first", datetime!(2026-03-02 08:00:00.123456789 UTC));
        let stored = ctx.audit().append(&first).await.unwrap();
        assert_eq!(stored.sequence, 0);
        assert_eq!(stored.previous_hash, None);
        assert_eq!(stored.event.created_at, datetime!(2026-03-02 08:00:00.123456 UTC));
        let second = ctx.audit().append(&external_event(None, "second", at(1))).await.unwrap();
        assert_eq!(second.sequence, 1);
        assert_eq!(second.previous_hash.as_deref(), Some(stored.hash.as_str()));

        let nil = ctx.trail(ProcessId::from_uuid(Uuid::nil())).await;
        assert!(nil.valid, "{nil:?}");
        assert_eq!(nil.events, vec![stored.clone(), second.clone()]);

        let filter = AuditFilter { signer_id: first.signer_id, ..Default::default() };
        let listed = ctx.audit().list(&filter, &PageRequest::default()).await.unwrap();
        assert_eq!(listed.content, vec![stored]);
        // Listing by process finds a process's chain; the nil key's chain is no process's.
        let by_nil = AuditFilter { process_id: Some(ProcessId::from_uuid(Uuid::nil())), ..Default::default() };
        let listed = ctx.audit().list(&by_nil, &PageRequest::default()).await.unwrap();
        assert_eq!(listed.total_elements, 0, "{listed:?}");

        let again = ctx.audit().append(&first).await;
        assert_eq!(again, Err(RepoError::Duplicate("auditing event")));
    }

    /// Twenty concurrent appends to one process's chain, through `record` and `append`,
    /// never fork it: the trail stays valid with sequences 0..n (section 8).
    async fn audit_chain_stays_unbroken_under_concurrent_appends(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let process = insert_started(&ctx, json, T0).await;
        let signer = process.steps[0].entries[0].id;
        let before = ctx.trail(process.id).await.events.len();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let ctx = ctx.clone();
            let process = process.clone();
            tasks.push(tokio::spawn(async move {
                if i % 4 == 3 {
                    let event = external_event(Some(process.id), &format!("external {i}"), at(2));
                    ctx.audit().append(&event).await.map(drop)
                } else {
                    let change = process.remind(signer, at(1)).unwrap();
                    ctx.processes().record(process.id, &change_set(&process, change)).await
                }
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let trail = ctx.trail(process.id).await;
        assert!(trail.valid, "broken at {:?}", trail.broken_at);
        assert_eq!(trail.events.len(), before + 20);
        let sequences: Vec<i64> = trail.events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, (0..(before as i64 + 20)).collect::<Vec<_>>());
    }

    /// A row edited in the database is found by the audit-trail check (section 8).
    async fn audit_trail_detects_an_edited_row(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let process = insert_started(&ctx, json, T0).await;
        assert!(ctx.trail(process.id).await.valid);
        let edited = ctx
            .execute(&format!(
                "UPDATE audit_events SET note = 'rewritten' WHERE chain_key = '{}' AND sequence = 1",
                process.id
            ))
            .await;
        assert_eq!(edited, 1);
        let trail = ctx.trail(process.id).await;
        assert!(!trail.valid);
        assert_eq!(trail.broken_at, Some(1));
    }

    /// The stored head follows every append in the same transaction; removing the newest
    /// row, or the whole chain with its head, is found (section 11).
    async fn audit_heads_reveal_truncation_and_a_deleted_chain(ctx: Ctx) {
        use pas_domain::audit::BreakKind;
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let process = insert_started(&ctx, json, T0).await;
        let trail = ctx.trail(process.id).await;
        assert!(trail.valid);
        let stored = ctx.db.stored_chain(&process.id.to_string()).await.unwrap();
        let head = stored.head.clone().unwrap();
        assert_eq!(head.length, trail.events.len() as i64);
        assert_eq!(head.hash.as_deref(), trail.events.last().map(|e| e.hash.as_str()));
        // Read in a batch (`app audit verify`), chains come back in the order asked, an
        // unknown one empty.
        let other = insert_started(&ctx, process_json(json!({}), vec![signer("Anna", "anna@example.lv", "LV", LV_CODE)]), T0).await;
        let unknown = Uuid::now_v7().to_string();
        let batch = ctx.db.stored_chains(&[other.id.to_string(), unknown, process.id.to_string()]).await.unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[2].rows, stored.rows);
        assert_eq!(batch[2].head, stored.head);
        assert!(batch[0].process_exists && batch[2].process_exists && !batch[1].process_exists);
        assert!(batch[1].rows.is_empty() && batch[1].head.is_none());
        assert!(batch[0].rows.iter().all(|r| r.event.process_id == Some(other.id)) && !batch[0].rows.is_empty());
        let last = trail.events.len() - 1;
        let removed = ctx
            .execute(&format!(
                "DELETE FROM audit_events WHERE chain_key = '{}' AND sequence = {last}",
                process.id
            ))
            .await;
        assert_eq!(removed, 1);
        let trail = ctx.trail(process.id).await;
        assert_eq!((trail.broken_at, trail.break_kind), (Some(last), Some(BreakKind::Truncated)));
        ctx.execute(&format!("DELETE FROM audit_events WHERE chain_key = '{}'", process.id)).await;
        ctx.execute(&format!("DELETE FROM audit_chains WHERE chain_key = '{}'", process.id)).await;
        let trail = ctx.trail(process.id).await;
        assert_eq!((trail.broken_at, trail.break_kind), (Some(0), Some(BreakKind::Missing)));
        // A process created PENDING has no rows yet, but a head: its empty chain holds.
        let pending_json = process_json(json!({}), vec![signer("Anna", "anna@example.lv", "LV", LV_CODE)]);
        let pending = insert(&ctx, pending_json, at(1)).await;
        let trail = ctx.trail(pending.id).await;
        assert!(trail.valid, "{:?}", trail.break_kind);
    }

    /// Rows carry the id of the key that hashed them; after a rotation (the old key
    /// retired) the chain verifies across both keys (section 11).
    async fn audit_rows_verify_across_a_key_rotation(ctx: Ctx) {
        use pas_domain::audit::{AuditKey, AuditKeys};
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        // Written under the retired key of the suite…
        let old = ctx.db.clone().with_audit_keys(AuditKeys::new(AuditKey::new(vec![2; 32]).unwrap(), vec![]));
        let process = {
            let json = json.clone();
            let ctx = Ctx { db: old, url: ctx.url.clone() };
            insert_started(&ctx, json, T0).await
        };
        // …then continued under the current one.
        ctx.audit().append(&external_event(Some(process.id), "after rotation", at(2))).await.unwrap();
        let trail = ctx.trail(process.id).await;
        assert!(trail.valid, "{:?} at {:?}", trail.break_kind, trail.broken_at);
        let ids: Vec<_> = trail.events.iter().map(|e| e.key_id.clone().unwrap()).collect();
        assert_ne!(ids.first(), ids.last());
        assert_eq!(ids.last().map(String::as_str), Some(crate::common::test_keys().current().id()));
    }

    /// `GET /audit-events`: every filter, both sorts, paging.
    async fn audit_list_filters_sorts_and_pages(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let one = insert_started(&ctx, json.clone(), T0).await;
        let two = insert(&ctx, json, at(1)).await;
        ctx.audit().append(&external_event(Some(two.id), "x", at(2))).await.unwrap();
        let audit = ctx.audit();
        let all = |filter: AuditFilter, sort: Vec<(AuditSort, Direction)>| async move {
            let page = PageRequest { page: 0, size: 200, sort };
            audit.list(&filter, &page).await.unwrap()
        };
        let created_asc = vec![(AuditSort::CreatedAt, Direction::Asc)];

        let of_one = all(AuditFilter { process_id: Some(one.id), ..Default::default() }, created_asc.clone()).await;
        let types: Vec<EventType> = of_one.content.iter().map(|e| e.event.event_type).collect();
        assert_eq!(types, [EventType::ProcessUpdated, EventType::ProcessStarted, EventType::TaskStarted]);

        let task_started = all(AuditFilter { event_type: Some(EventType::TaskStarted), ..Default::default() }, created_asc.clone()).await;
        assert_eq!(task_started.total_elements, 1);
        let signer = one.steps[0].entries[0].id;
        let by_signer = all(AuditFilter { signer_id: Some(signer), ..Default::default() }, created_asc.clone()).await;
        assert_eq!(by_signer.content, task_started.content);
        let by_document = all(AuditFilter { document_id: Some("doc-1".into()), ..Default::default() }, created_asc.clone()).await;
        assert_eq!(by_document.total_elements, 5);
        let window = AuditFilter { from: Some(at(1)), to: Some(at(2)), ..Default::default() };
        let in_window = all(window, created_asc.clone()).await;
        assert_eq!(in_window.content.len(), 1);
        assert_eq!(in_window.content[0].event.process_id, Some(two.id));

        let by_type = all(AuditFilter::default(), vec![(AuditSort::EventType, Direction::Asc), (AuditSort::CreatedAt, Direction::Asc)]).await;
        let types: Vec<&str> = by_type.content.iter().map(|e| e.event.event_type.as_str()).collect();
        let mut sorted = types.clone();
        sorted.sort();
        assert_eq!(types, sorted);
        let newest_first = all(AuditFilter::default(), vec![(AuditSort::CreatedAt, Direction::Desc)]).await;
        assert_eq!(newest_first.content[0].event.event_type, EventType::DocumentDownload);
        // Events of one instant keep their chain order (descending here).
        let same_instant: Vec<i64> = newest_first.content.iter()
            .filter(|e| e.event.process_id == Some(one.id) && e.event.created_at == T0)
            .map(|e| e.sequence)
            .collect();
        assert_eq!(same_instant, [2, 1, 0]);

        let page = audit.list(&AuditFilter::default(), &PageRequest { page: 2, size: 2, sort: created_asc }).await.unwrap();
        assert_eq!((page.total_elements, page.number_of_elements, page.last), (5, 1, true));
    }

    /// An enqueued email comes back from a claim with every field of its intent.
    async fn outbox_rows_carry_every_intent_field(ctx: Ctx) {
        let process = ProcessId::from_uuid(Uuid::now_v7());
        let intents = vec![intent("Jane@example.lv", process, true), intent("admin@example.lv", process, false)];
        ctx.outbox().enqueue(intents.clone(), T0).await.unwrap();
        let claimed = ctx.outbox().claim(lease("worker"), 10, at(1), at(2)).await.unwrap();
        let got: HashSet<_> = claimed.iter().map(|m| format!("{:?}", m.payload.notification().unwrap())).collect();
        let want: HashSet<_> = intents.iter().map(|i| format!("{i:?}")).collect();
        assert_eq!(got, want);
        assert!(claimed.iter().all(|m| m.attempts == 0 && m.created_at == T0));
        assert_ne!(claimed[0].id, claimed[1].id);
        assert_ne!(claimed[0].message_id("example.lv"), claimed[1].message_id("example.lv"));
    }

    /// Two dispatchers claiming at the same time never get the same row (section 7).
    async fn outbox_claims_of_two_concurrent_claimers_never_overlap(ctx: Ctx) {
        let process = ProcessId::from_uuid(Uuid::now_v7());
        let intents: Vec<_> = (0..60).map(|i| intent(&format!("r{i}@example.lv"), process, i % 2 == 0)).collect();
        ctx.outbox().enqueue(intents, T0).await.unwrap();
        let claimer = |name: &'static str| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = ctx.outbox().claim(lease(name), 7, at(1), at(3)).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|m| m.id));
                    tokio::task::yield_now().await;
                }
            })
        };
        let (a, b) = (claimer("a"), claimer("b"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let a_set: HashSet<_> = a.iter().collect();
        let b_set: HashSet<_> = b.iter().collect();
        assert_eq!(a.len() + b.len(), 60);
        assert_eq!(a_set.len() + b_set.len(), 60, "a row was claimed twice");
        assert!(a_set.is_disjoint(&b_set));
    }

    /// A lease that expired is claimable again; only the lease holder marks a row; retried
    /// rows wait for their next attempt; sent and failed rows are done (section 7).
    async fn outbox_leases_expire_and_only_the_holder_marks_a_row(ctx: Ctx) {
        let process = ProcessId::from_uuid(Uuid::now_v7());
        let outbox = ctx.outbox();
        outbox.enqueue(vec![intent("a@example.lv", process, true)], T0).await.unwrap();
        outbox.enqueue(vec![intent("later@example.lv", process, true)], at(10)).await.unwrap();
        let minute = time::Duration::minutes(1);

        let a = lease("a");
        let first = outbox.claim(a.clone(), 10, T0, T0 + minute).await.unwrap();
        assert_eq!(first.len(), 1, "the row due later is not claimed yet");
        let id = first[0].id;
        assert_eq!(first[0].queued_at, T0);
        assert!(outbox.claim(lease("b"), 10, T0 + minute / 2, T0 + minute * 3).await.unwrap().is_empty());
        let b = lease("b");
        let again = outbox.claim(b.clone(), 10, T0 + minute * 2, T0 + minute * 3).await.unwrap();
        assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);

        let lost = outbox.mark_sent(id, a.token, T0 + minute * 2).await;
        assert_eq!(lost, Err(RepoError::NotFound(Missing::OutboxLease)));
        outbox.retry_later(id, b.token, at(1), "421 try later".into()).await.unwrap();
        assert!(outbox.claim(lease("c"), 10, at(1) - minute, at(2)).await.unwrap().is_empty());
        let c = lease("c");
        let retried = outbox.claim(c.clone(), 10, at(1), at(2)).await.unwrap();
        assert_eq!((retried[0].id, retried[0].attempts), (id, 1));
        outbox.mark_failed(id, c.token, "550 no such user".into(), None, at(1)).await.unwrap();
        assert!(outbox.claim(lease("c"), 10, at(5), at(6)).await.unwrap().is_empty());

        let d = lease("d");
        let later = outbox.claim(d.clone(), 10, at(10), at(11)).await.unwrap();
        assert_eq!(later.len(), 1);
        outbox.mark_sent(later[0].id, d.token, at(10)).await.unwrap();
        assert!(outbox.claim(lease("e"), 10, at(20), at(21)).await.unwrap().is_empty());
        let twice = outbox.mark_sent(later[0].id, d.token, at(10)).await;
        assert_eq!(twice, Err(RepoError::NotFound(Missing::OutboxLease)));
    }

    /// Fencing (section 14): once a lease ran out and another claim took the row, the first
    /// claim can neither renew, hold, settle nor release it; the holder's renewals keep it
    /// from every other claimer past the original lease and name the rows they renewed; a
    /// release frees unsettled rows at once.
    async fn outbox_leases_are_fenced_by_the_claim_token(ctx: Ctx) {
        let process = ProcessId::from_uuid(Uuid::now_v7());
        let outbox = ctx.outbox();
        let intents: Vec<_> = (0..3).map(|i| intent(&format!("f{i}@example.lv"), process, true)).collect();
        outbox.enqueue(intents, T0).await.unwrap();
        let s = time::Duration::seconds(1);

        // A claims all three for 30 s and renews at 20 s: nobody else gets them at 40 s.
        let a = lease("a");
        let rows = outbox.claim(a.clone(), 10, T0, T0 + s * 30).await.unwrap();
        assert_eq!(rows.len(), 3);
        let all: HashSet<Uuid> = rows.iter().map(|m| m.id).collect();
        let renewed = outbox.renew(a.token, T0 + s * 20, T0 + s * 50).await.unwrap();
        assert_eq!(renewed.len(), 3);
        assert_eq!(renewed.into_iter().collect::<HashSet<_>>(), all);
        assert!(outbox.claim(lease("b"), 10, T0 + s * 40, T0 + s * 70).await.unwrap().is_empty());
        outbox.hold(rows[0].id, a.token, T0 + s * 45, T0 + s * 75).await.unwrap();
        outbox.mark_sent(rows[0].id, a.token, T0 + s * 46).await.unwrap();
        // A renewal answers the rows it renewed: a settled row is no longer the claim's.
        let renewed = outbox.renew(a.token, T0 + s * 47, T0 + s * 50).await.unwrap();
        assert_eq!(renewed.len(), 2);
        assert_eq!(renewed.into_iter().collect::<HashSet<_>>(), HashSet::from([rows[1].id, rows[2].id]));

        // A stalls: its lease runs out at 50 s; B takes the rest at 60 s.
        let b = lease("b");
        let taken = outbox.claim(b.clone(), 10, T0 + s * 60, T0 + s * 90).await.unwrap();
        let taken: HashSet<Uuid> = taken.iter().map(|m| m.id).collect();
        assert_eq!(taken, HashSet::from([rows[1].id, rows[2].id]));
        assert_eq!(outbox.renew(a.token, T0 + s * 61, T0 + s * 91).await.unwrap(), Vec::<Uuid>::new());
        let stale = outbox.hold(rows[1].id, a.token, T0 + s * 61, T0 + s * 91).await;
        assert_eq!(stale, Err(RepoError::NotFound(Missing::OutboxLease)));
        let stale = outbox.mark_failed(rows[1].id, a.token, "late".into(), Some(intent("admin@example.lv", process, false)), T0 + s * 61).await;
        assert_eq!(stale, Err(RepoError::NotFound(Missing::OutboxLease)));
        assert_eq!(outbox.release(a.token).await.unwrap(), 0);

        // B releases what it did not start: claimable at once, by anyone.
        outbox.mark_sent(rows[1].id, b.token, T0 + s * 62).await.unwrap();
        assert_eq!(outbox.release(b.token).await.unwrap(), 1);
        let d = lease("d");
        let freed = outbox.claim(d.clone(), 10, T0 + s * 63, T0 + s * 93).await.unwrap();
        assert_eq!(freed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![rows[2].id]);
        // A renewal after the lease ran out does not revive it.
        assert_eq!(outbox.renew(d.token, T0 + s * 94, T0 + s * 124).await.unwrap(), Vec::<Uuid>::new());
        let hold = outbox.hold(rows[2].id, d.token, T0 + s * 94, T0 + s * 124).await;
        assert_eq!(hold, Err(RepoError::NotFound(Missing::OutboxLease)));
        // Its token still settles it while nobody else claimed it (fencing is by token).
        outbox.mark_sent(rows[2].id, d.token, T0 + s * 95).await.unwrap();
    }

    /// A given-up row and its FAILURE notice are written together; `GET /outbox` lists rows
    /// by state and channel; a retry puts a FAILED row back, due and queued anew.
    async fn outbox_failure_rows_listing_and_retry(ctx: Ctx) {
        use pas_domain::outbox::OutboxFilter;
        use pas_domain::paging::OutboxSort;
        use pas_domain::status::{OutboxChannel, OutboxState};

        let process = ProcessId::from_uuid(Uuid::now_v7());
        let outbox = ctx.outbox();
        outbox.enqueue(vec![intent("x@example.lv", process, true), intent("y@example.lv", process, true)], T0).await.unwrap();
        let a = lease("a");
        let rows = outbox.claim(a.clone(), 10, at(1), at(2)).await.unwrap();
        let notice = intent("admin@example.lv", process, false);
        let long_error = format!("421 {}", "busy ".repeat(200));
        outbox.mark_failed(rows[0].id, a.token, long_error, Some(notice), at(1)).await.unwrap();
        outbox.mark_sent(rows[1].id, a.token, at(1)).await.unwrap();

        let page = PageRequest::<OutboxSort>::default();
        let failed = OutboxFilter { state: Some(OutboxState::Failed), channel: Some(OutboxChannel::Email) };
        let list = outbox.list(&failed, &page).await.unwrap();
        assert_eq!(list.total_elements, 1);
        let row = &list.content[0];
        assert_eq!((row.id, row.state, row.channel, row.attempts), (rows[0].id, OutboxState::Failed, OutboxChannel::Email, 1));
        assert!(row.last_error.as_ref().unwrap().chars().count() <= 301);
        let pending = OutboxFilter { state: Some(OutboxState::Pending), channel: None };
        let list = outbox.list(&pending, &page).await.unwrap();
        assert_eq!(list.total_elements, 1, "the FAILURE notice, queued with the failure");
        assert_eq!(list.content[0].event_type, Some(EventType::Failure));
        assert_eq!(list.content[0].queued_at, at(1));
        let sent = outbox.list(&OutboxFilter { state: Some(OutboxState::Sent), channel: None }, &page).await.unwrap();
        assert_eq!(sent.content[0].sent_at, Some(at(1)));
        assert_eq!(outbox.list(&OutboxFilter::default(), &page).await.unwrap().total_elements, 3);

        assert!(!outbox.requeue(rows[1].id, at(5)).await.unwrap(), "a SENT row stays sent");
        assert!(!outbox.requeue(Uuid::now_v7(), at(5)).await.unwrap());
        assert!(outbox.requeue(rows[0].id, at(5)).await.unwrap());
        let back = outbox.get(rows[0].id).await.unwrap().unwrap();
        assert_eq!((back.state, back.queued_at, back.next_attempt_at), (OutboxState::Pending, at(5), at(5)));
        assert!(!outbox.requeue(rows[0].id, at(6)).await.unwrap(), "only once");
        let again = outbox.claim(lease("b"), 10, at(5), at(6)).await.unwrap();
        let mine = again.iter().find(|m| m.id == rows[0].id).unwrap();
        assert_eq!((mine.queued_at, mine.created_at), (at(5), T0));
    }

    /// An audit checkpoint email (PRODUCT.md section 11) is one row without a process,
    /// claimed and listed like any other; its id is the scheduled run's, so a second insert
    /// of the same run writes nothing.
    async fn an_audit_checkpoint_row_is_written_once_per_run_and_claimed_like_any_email(ctx: Ctx) {
        use pas_domain::audit::CheckpointSummary;
        use pas_domain::outbox::{CheckpointMail, OutboxFilter, OutboxPayload};
        use pas_domain::paging::OutboxSort;
        use pas_domain::status::{OutboxKind, OutboxState};

        let outbox = ctx.outbox();
        let mail = CheckpointMail {
            to: Email::parse("auditor@example.lv").unwrap(),
            checkpoint: CheckpointSummary { created_at: T0, chain_count: 3, root: "ab".repeat(32) },
        };
        let id = CheckpointMail::row_id(T0);
        assert!(outbox.enqueue_checkpoint(id, &mail, T0).await.unwrap());
        let other = CheckpointMail { checkpoint: CheckpointSummary { chain_count: 4, ..mail.checkpoint.clone() }, ..mail.clone() };
        assert!(!outbox.enqueue_checkpoint(id, &other, at(1)).await.unwrap(), "the same run again");

        let page = PageRequest::<OutboxSort>::default();
        let list = outbox.list(&OutboxFilter::default(), &page).await.unwrap();
        assert_eq!(list.total_elements, 1);
        let row = &list.content[0];
        assert_eq!((row.id, row.kind, row.state), (id, OutboxKind::AuditCheckpoint, OutboxState::Pending));
        assert_eq!((row.event_type, row.role, row.process_id), (None, None, None));
        assert_eq!(row.to.as_ref().map(|e| e.as_str()), Some("auditor@example.lv"));
        assert_eq!(row.subscription_id, None);

        let claimed = outbox.claim(lease("a"), 10, at(1), at(2)).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, id);
        assert_eq!(claimed[0].payload, OutboxPayload::AuditCheckpoint(mail), "the first run's checkpoint");
    }

    /// Retention (`OUTBOX_KEEP_SENT`): a purge deletes exactly the SENT rows sent before the
    /// cut, whatever their kind and however long ago they were queued, and counts them;
    /// pending and failed rows stay however old, and so does a row sent at the cut itself.
    async fn a_purge_deletes_only_sent_rows_sent_before_the_cut(ctx: Ctx) {
        use pas_domain::audit::CheckpointSummary;
        use pas_domain::outbox::CheckpointMail;

        let cut = at(24 * 30);
        let day = time::Duration::days(1);
        let old_sent = outbox_row(&ctx, "old@example.lv", T0, Ends::SentAt(cut - day)).await;
        let just_before = outbox_row(&ctx, "edge@example.lv", T0, Ends::SentAt(cut - time::Duration::microseconds(1))).await;
        let at_cut = outbox_row(&ctx, "cut@example.lv", T0, Ends::SentAt(cut)).await;
        let queued_long_ago = outbox_row(&ctx, "slow@example.lv", T0, Ends::SentAt(cut + day)).await;
        let young = outbox_row(&ctx, "young@example.lv", cut, Ends::SentAt(cut + day)).await;
        let failed = outbox_row(&ctx, "failed@example.lv", T0, Ends::Failed).await;
        let pending = outbox_row(&ctx, "pending@example.lv", T0, Ends::Pending).await;
        // An audit checkpoint email is an outbox row like any other.
        let mail = CheckpointMail {
            to: Email::parse("auditor@example.lv").unwrap(),
            checkpoint: CheckpointSummary { created_at: T0, chain_count: 1, root: "ab".repeat(32) },
        };
        let checkpoint = CheckpointMail::row_id(T0);
        assert!(ctx.outbox().enqueue_checkpoint(checkpoint, &mail, T0).await.unwrap());
        let holder = lease("maker");
        assert_eq!(ctx.outbox().claim(holder.clone(), 10, cut - day, cut).await.unwrap().len(), 2, "with the pending row");
        ctx.outbox().mark_sent(checkpoint, holder.token, cut - day).await.unwrap();
        ctx.outbox().release(holder.token).await.unwrap();

        assert_eq!(ctx.outbox().purge_sent(cut, batch(1000)).await.unwrap(), 3);
        let kept = HashSet::from([at_cut, queued_long_ago, young, failed, pending]);
        assert_eq!(outbox_ids(&ctx).await, kept);
        assert!(ctx.outbox().get(old_sent).await.unwrap().is_none());
        assert!(ctx.outbox().get(just_before).await.unwrap().is_none());
        assert_eq!(ctx.outbox().purge_sent(cut, batch(1000)).await.unwrap(), 0, "nothing left to purge");
        // The pending row is still delivered.
        let due = ctx.outbox().claim(lease("dispatcher"), 10, cut + day, cut + day * 2).await.unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), vec![pending]);
    }

    /// A purge of more rows than one batch loops until a batch comes back short: seven
    /// rows in batches of three (3 + 3 + 1), then six (3 + 3 + an empty one), each counted
    /// once; a younger sent row stays throughout.
    async fn a_purge_larger_than_a_batch_deletes_every_old_row_in_batches(ctx: Ctx) {
        let cut = at(24 * 30);
        let young = outbox_row(&ctx, "young@example.lv", cut, Ends::SentAt(cut + time::Duration::hours(1))).await;
        for (rows, want) in [(7, 7), (6, 6)] {
            for i in 0..rows {
                let sent = at(i);
                outbox_row(&ctx, &format!("r{i}@example.lv"), T0, Ends::SentAt(sent)).await;
            }
            assert_eq!(ctx.outbox().purge_sent(cut, batch(3)).await.unwrap(), want, "{rows} rows");
            assert_eq!(outbox_ids(&ctx).await, HashSet::from([young]));
        }
    }

    /// An erasure gives up the pending emails to the erased entries (and erases the address
    /// of every email to them); a sent one keeps its state, other recipients' rows are left
    /// alone (PRODUCT.md section 11).
    async fn an_erasure_gives_up_pending_emails_to_the_erased_entries(ctx: Ctx) {
        use pas_domain::erasure::Erasure;
        use pas_domain::ports::ErasureStore;
        use pas_domain::query::PersonKey;
        use pas_domain::status::OutboxState;

        let process = ProcessId::from_uuid(Uuid::now_v7());
        let erased = intent("erased@example.lv", process, true);
        let other = intent("other@example.lv", process, true);
        ctx.outbox().enqueue(vec![erased.clone(), erased.clone(), other], T0).await.unwrap();
        let a = lease("a");
        let rows = ctx.outbox().claim(a.clone(), 10, T0, at(1)).await.unwrap();
        let to = |m: &pas_domain::ports::OutboxMessage| m.payload.to().map(|e| e.as_str().to_owned());
        let mine: Vec<Uuid> = rows.iter().filter(|m| to(m).as_deref() == Some("erased@example.lv")).map(|m| m.id).collect();
        let theirs = rows.iter().find(|m| to(m).as_deref() == Some("other@example.lv")).unwrap().id;
        ctx.outbox().mark_sent(mine[0], a.token, T0).await.unwrap();
        ctx.outbox().release(a.token).await.unwrap();

        let erasure = Erasure {
            person: PersonKey { code: LV_CODE_PLAIN.into(), country: pas_domain::values::CountryCode::LV },
            processes: vec![],
            entries: vec![erased.signer_id.unwrap()],
            audit: vec![],
        };
        let done = ErasureStore::erase(&ctx.db, &erasure).await.unwrap();
        assert_eq!(done.messages, 2);
        let sent = ctx.outbox().get(mine[0]).await.unwrap().unwrap();
        assert_eq!(sent.state, OutboxState::Sent);
        let given_up = ctx.outbox().get(mine[1]).await.unwrap().unwrap();
        assert_eq!(given_up.state, OutboxState::Failed);
        assert!(given_up.last_error.as_deref().unwrap().contains("erased"));
        for id in [mine[0], mine[1]] {
            let row = ctx.outbox().get(id).await.unwrap().unwrap();
            assert_eq!(row.to.as_ref().map(|e| e.as_str()), Some("erased@erased.invalid"));
        }
        let untouched = ctx.outbox().get(theirs).await.unwrap().unwrap();
        assert_eq!((untouched.state, untouched.to.as_ref().map(|e| e.as_str())), (OutboxState::Pending, Some("other@example.lv")));
    }

    /// Instances purge at the same moment (each an hour after its start): concurrent purges
    /// of the same rows neither fail (no deadlock between their batches) nor count a row
    /// twice.
    async fn concurrent_purges_delete_each_row_once_without_failing(ctx: Ctx) {
        let cut = at(24 * 30);
        for i in 0..40 {
            outbox_row(&ctx, &format!("r{i}@example.lv"), T0, Ends::SentAt(at(i))).await;
        }
        let (a, b, c) = tokio::join!(
            ctx.outbox().purge_sent(cut, batch(4)),
            ctx.outbox().purge_sent(cut, batch(4)),
            ctx.outbox().purge_sent(cut, batch(4)),
        );
        assert_eq!(a.unwrap() + b.unwrap() + c.unwrap(), 40);
        assert!(outbox_ids(&ctx).await.is_empty());
    }
}
