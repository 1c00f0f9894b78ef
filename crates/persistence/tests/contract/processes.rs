//! Storing processes: round trips, optimistic concurrency, the one-transaction guarantee and
//! soft delete.

use pas_domain::machine::Action;
use pas_domain::paging::PageRequest;
use pas_domain::ports::RepoError;
use pas_domain::prelude::*;
use pas_domain::query::{PersonKey, ProcessFilter, ProcessSearch, SignerTaskFilter, TaskOwner};
use serde_json::json;

use crate::common::*;

fn two_step_process() -> serde_json::Value {
    json!({
        "documentId": "lease-2026-17",
        "documentName": "Nomas līgums Nr. 17",
        "documentType": "lease",
        "ownerGroup": "sales",
        "initiator": "anna",
        "initiatorName": "Anna Bērziņa",
        "comment": "Please sign by Friday",
        "processInitiatorEmail": "Anna@Example.LV",
        "signingProcessSteps": [
            {"processOrder": 1, "dueDate": "2026-03-04T15:00:00.123456Z", "processStepSigners": [
                {"signerRole": "APPROVER", "signerName": "Jānis Ozols", "signerEmail": "janis@example.lv",
                 "signerCountry": "lv", "signerPersonalCode": LV_CODE, "signerLanguage": "lv",
                 "commentForSigner": "Check page 2"},
                {"signerRole": "VIEWER", "signerName": "Viewer", "signerEmail": "viewer@example.lv"},
                {"signerRole": "INITIATOR", "signerEmail": "Anna@Example.LV", "signerNotification": false}
            ]},
            {"processOrder": 5, "processStepSigners": [
                {"signerRole": "SIGNER", "signerName": "Mari Tamm", "signerEmail": "mari@example.ee",
                 "signerCountry": "EE", "signerPersonalCode": EE_CODE, "signerLanguage": "en-GB"},
                {"signerRole": "SIGNER", "signerName": "Walk-in client", "signerNotification": false}
            ]}
        ]
    })
}

contract_tests! {
    /// Every field of a process, its steps and entries survives a round trip: personal codes
    /// as written, anonymous entries, languages, due dates with microseconds (section 5).
    async fn process_round_trip_keeps_steps_entries_codes_and_anonymous_entries(ctx: Ctx) {
        let mut process = insert(&ctx, two_step_process(), T0).await;
        let stored = ctx.processes().get(process.id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&process));

        apply(&ctx, &mut process, |p| p.start(at(1)).unwrap()).await;
        let stored = ctx.processes().get(process.id).await.unwrap().unwrap();
        assert_eq!(stored, process);
        let anonymous = stored.steps[1].entries[1].clone();
        assert!(anonymous.anonymous());
        assert_eq!(
            stored.steps[0].entries[0].details.signer_personal_code.as_ref().map(|c| c.as_str()),
            Some(LV_CODE)
        );

        let by_step = ctx.processes().get_by_step(process.steps[1].id).await.unwrap();
        assert_eq!(by_step.as_ref(), Some(&process));
        let by_signer = ctx.processes().get_by_entry(anonymous.id).await.unwrap();
        assert_eq!(by_signer.as_ref(), Some(&process));
        let unknown = ProcessId::from_uuid(uuid::Uuid::now_v7());
        assert_eq!(ctx.processes().get(unknown).await.unwrap(), None);
    }

    /// A client id on create is kept when unused and a 409 when used (section 4).
    async fn insert_of_a_used_id_is_a_duplicate_process(ctx: Ctx) {
        let first = insert(&ctx, two_step_process(), T0).await;
        let mut again = two_step_process();
        again["id"] = first.id.to_string().into();
        let (copy, changes) = create(again, at(1));
        let result = ctx.processes().insert(&copy, &changes).await;
        assert_eq!(result, Err(RepoError::Duplicate("process")));
        assert_eq!(ctx.processes().get(first.id).await.unwrap(), Some(first));
    }

    /// Commands saved one after another: each adds one to the version (rule 10), and
    /// completing the process is stored with `completedAt` (rule 4).
    async fn saves_apply_commands_and_bump_the_version(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let mut process = insert_started(&ctx, json, T0).await;
        assert_eq!(process.version, 1);
        let signer = process.steps[0].entries[0].id;
        apply(&ctx, &mut process, |p| p.act(signer, Action::Sign, None, at(1)).unwrap()).await;
        let stored = ctx.processes().get(process.id).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored.status, ProcessStatus::Completed);
        assert_eq!(stored.completed_at, Some(at(1)));
        assert_eq!(stored, process);
    }

    /// A save based on an old version is refused and changes nothing (rule 10).
    async fn save_with_a_stale_version_is_a_version_conflict(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let mut process = insert(&ctx, json, T0).await;
        let stale = process.clone();
        apply(&ctx, &mut process, |p| p.start(at(1)).unwrap()).await;

        let mut late = stale.clone();
        let change = late.cancel(false, at(2)).unwrap();
        let changes = change_set(&late, change);
        let result = ctx.processes().save(&stale, &late, &changes).await;
        assert_eq!(result, Err(RepoError::VersionConflict { expected: stale.version }));
        assert_eq!(ctx.processes().get(process.id).await.unwrap(), Some(process.clone()));
        let trail = ctx.trail(process.id).await;
        assert!(trail.events.iter().all(|e| e.event.event_type != EventType::ProcessCanceled));
    }

    /// Several requests save from the same loaded version at once: exactly one wins, the
    /// others get VersionConflict, and the loser's audit rows are not written (rule 10).
    async fn concurrent_saves_of_one_version_let_exactly_one_win(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let loaded = insert(&ctx, json, T0).await;
        let before = ctx.trail(loaded.id).await.events.len();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = ctx.db.clone();
            let read = loaded.clone();
            let mut process = loaded.clone();
            tasks.push(tokio::spawn(async move {
                let change = if i % 2 == 0 {
                    process.start(at(1)).unwrap()
                } else {
                    process.cancel(false, at(1)).unwrap()
                };
                let changes = change_set(&process, change);
                pas_domain::ports::ProcessRepository::save(&db, &read, &process, &changes).await
            }));
        }
        let results: Vec<_> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| **r == Err(RepoError::VersionConflict { expected: 1 }))
            .count();
        assert_eq!((wins, conflicts), (1, 7), "{results:?}");
        let stored = ctx.processes().get(loaded.id).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        let trail = ctx.trail(loaded.id).await;
        assert!(trail.valid);
        // The winner wrote PROCESS_STARTED + TASK_STARTED or PROCESS_CANCELED, nobody else.
        let added = trail.events.len() - before;
        assert!(added == 1 || added == 2, "{added}");
    }

    /// A change whose idempotency key was recorded before is refused as a whole: no audit
    /// row, no email, no state (what keeps reminders to one per day, section 7).
    async fn duplicate_idempotency_key_writes_nothing_of_the_change(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let process = insert_started(&ctx, json, T0).await;
        let signer = process.steps[0].entries[0].id;
        ctx.pending_outbox().await;
        let trail_before = ctx.trail(process.id).await.events.len();

        let reminder = |process: &SigningProcess| {
            let mut changes = change_set(process, process.remind(signer, at(1)).unwrap());
            changes.idempotency_key = Some(format!("reminder:{signer}:2026-03-05:3"));
            changes
        };
        ctx.processes().record(process.id, &reminder(&process)).await.unwrap();
        assert_eq!(ctx.pending_outbox().await.len(), 1);
        let second = ctx.processes().record(process.id, &reminder(&process)).await;
        assert_eq!(second, Err(RepoError::Duplicate("idempotency key")));
        assert!(ctx.pending_outbox().await.is_empty());
        assert_eq!(ctx.trail(process.id).await.events.len(), trail_before + 1);

        // The same for a save: the process stays as it was.
        let mut canceled = process.clone();
        let change = canceled.cancel(false, at(2)).unwrap();
        let mut changes = change_set(&canceled, change);
        changes.idempotency_key = Some(format!("reminder:{signer}:2026-03-05:3"));
        let result = ctx.processes().save(&process, &canceled, &changes).await;
        assert_eq!(result, Err(RepoError::Duplicate("idempotency key")));
        assert_eq!(ctx.processes().get(process.id).await.unwrap(), Some(process.clone()));
        assert!(ctx.pending_outbox().await.is_empty());
    }

    /// A save whose audit insert fails (an audit id that is already used) leaves the process
    /// as it was and writes no outbox row (rule 10).
    async fn failed_audit_insert_rolls_back_the_whole_save(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let process = insert(&ctx, json, T0).await;
        assert!(ctx.pending_outbox().await.is_empty());
        let used_id = ctx.trail(process.id).await.events[0].event.id;

        let mut started = process.clone();
        let change = started.start(at(1)).unwrap();
        let mut changes = change_set(&started, change);
        assert!(!changes.change.notifications.is_empty());
        changes.audit[0].id = used_id;
        let result = ctx.processes().save(&process, &started, &changes).await;
        assert_eq!(result, Err(RepoError::Duplicate("auditing event")));
        assert_eq!(ctx.processes().get(process.id).await.unwrap(), Some(process.clone()));
        assert!(ctx.pending_outbox().await.is_empty());
        assert_eq!(ctx.trail(process.id).await.events.len(), 1);
    }

    /// The audit rows and emails of a change are stored with it, in order (rule 10, section 7).
    async fn save_writes_the_audit_and_outbox_rows_of_its_change(ctx: Ctx) {
        let json = process_json(json!({}), vec![
            signer("Jānis", "janis@example.lv", "LV", LV_CODE),
            role("VIEWER", "viewer@example.lv"),
        ]);
        let mut process = insert(&ctx, json, T0).await;
        let before = process.clone();
        let change = process.start(at(1)).unwrap();
        let notifications = change.notifications.clone();
        let changes = change_set(&process, change);
        ctx.processes().save(&before, &process, &changes).await.unwrap();

        let trail = ctx.trail(process.id).await;
        assert!(trail.valid);
        let types: Vec<EventType> = trail.events.iter().map(|e| e.event.event_type).collect();
        assert_eq!(types, [
            EventType::ProcessUpdated,
            EventType::ProcessStarted,
            EventType::TaskStarted,
            EventType::TaskStarted,
        ]);
        assert_eq!(trail.events[1].event, changes.audit[0]);
        let mut sent: Vec<_> = ctx.pending_outbox().await.into_iter().map(|m| m.payload.notification().cloned().unwrap()).collect();
        let mut wanted = notifications;
        sent.sort_by(|a, b| a.to.cmp(&b.to));
        wanted.sort_by(|a, b| a.to.cmp(&b.to));
        assert_eq!(sent, wanted);
    }

    /// An update of a draft may replace its steps and entries (rule 1); the stored process
    /// then has exactly the new ones.
    async fn save_replaces_the_steps_and_entries(ctx: Ctx) {
        let mut process = insert(&ctx, two_step_process(), T0).await;
        let mut update = two_step_process();
        update["signingProcessSteps"] = json!([
            {"processOrder": 2, "processStepSigners": [signer("Mari", "mari@example.ee", "EE", EE_CODE)]},
            {"processOrder": 1, "processStepSigners": [anonymous("Guest"), anonymous("Guest 2")]}
        ]);
        let input: ProcessInput = serde_json::from_value(update).unwrap();
        let draft = input.validate().unwrap();
        apply(&ctx, &mut process, |p| p.update(draft, &pas_domain::ports::UuidV7Ids, at(1)).unwrap()).await;
        let stored = ctx.processes().get(process.id).await.unwrap().unwrap();
        assert_eq!(stored, process);
        assert_eq!(stored.steps.len(), 2);
        assert_eq!(stored.steps[0].entries.len(), 2);
        assert_eq!(stored.steps[0].process_order.get(), 1);
    }

    /// A save writes the rows its change touched and no other (issue 15): a value put
    /// behind the store's back into rows the sign did not change is still there after it,
    /// and the signed entry is stored as signed.
    async fn a_save_writes_only_the_rows_its_change_touched(ctx: Ctx) {
        let json = process_json(json!({}), vec![
            signer("Jānis", "janis@example.lv", "LV", LV_CODE),
            signer("Mari", "mari@example.ee", "EE", EE_CODE),
        ]);
        let mut process = insert_started(&ctx, json, T0).await;
        let (signed, other) = (process.steps[0].entries[0].id, process.steps[0].entries[1].id);
        let marked = format!("UPDATE entries SET comment_for_signer = 'untouched' WHERE id = '{other}'");
        assert_eq!(ctx.execute(&marked).await, 1);
        let step = process.steps[0].id;
        let marked = format!("UPDATE steps SET due_date = '2030-01-01 00:00:00' WHERE id = '{step}'");
        assert_eq!(ctx.execute(&marked).await, 1);

        apply(&ctx, &mut process, |p| p.act(signed, Action::Sign, None, at(1)).unwrap()).await;

        let stored = ctx.processes().get(process.id).await.unwrap().unwrap();
        assert_eq!(stored.version, process.version);
        let entry = |id| stored.steps[0].entries.iter().find(|e| e.id == id).unwrap();
        assert_eq!(entry(signed).signing_status, SigningStatus::Signed);
        assert_eq!(entry(other).details.comment_for_signer.as_deref(), Some("untouched"));
        assert_eq!(entry(other).signing_status, SigningStatus::WaitingForAction);
        assert_eq!(stored.steps[0].due_date.map(|d| d.year()), Some(2030), "the step was not rewritten");
    }

    /// An update that keeps some steps and entries by id, edits, drops and adds others, with
    /// and without reordering the steps, is stored exactly (rule 1; both ways of writing a
    /// save: row by row, and all rows again when steps swap places).
    async fn a_save_of_kept_edited_dropped_and_added_rows_stores_exactly_the_new_process(ctx: Ctx) {
        for swap in [false, true] {
            let mut process = insert(&ctx, two_step_process(), T0).await;
            let (first, second) = (&process.steps[0], &process.steps[1]);
            let (first_order, second_order) = if swap { (5, 1) } else { (1, 5) };
            let mut update = two_step_process();
            update["signingProcessSteps"] = json!([
                {"id": first.id.to_string(), "processOrder": first_order, "processStepSigners": [
                    {"id": first.entries[0].id.to_string(), "signerRole": "APPROVER",
                     "signerName": "Jānis Ozols", "signerEmail": "janis@example.lv",
                     "signerCountry": "LV", "signerPersonalCode": LV_CODE,
                     "commentForSigner": "Check page 3 too"},
                    anonymous("Newcomer")
                ]},
                {"id": second.id.to_string(), "processOrder": second_order, "processStepSigners": [
                    {"id": second.entries[1].id.to_string(), "signerRole": "SIGNER",
                     "signerName": "Walk-in client", "signerNotification": false}
                ]},
                {"processOrder": 9, "processStepSigners": [role("VIEWER", "late@example.lv")]}
            ]);
            let draft = serde_json::from_value::<ProcessInput>(update).unwrap().validate().unwrap();
            apply(&ctx, &mut process, |p| p.update(draft, &pas_domain::ports::UuidV7Ids, at(1)).unwrap()).await;
            let stored = ctx.processes().get(process.id).await.unwrap().unwrap();
            assert_eq!(stored, process, "swap: {swap}");
            assert_eq!(stored.steps.len(), 3);
            assert_eq!(stored.entries().count(), 4);
        }
    }

    /// A deleted process is hidden from every read and keeps its audit trail (rule 9).
    async fn soft_deleted_process_is_hidden_from_every_read(ctx: Ctx) {
        let json = process_json(json!({}), vec![
            signer("Jānis", "janis@example.lv", "LV", LV_CODE),
            anonymous("Guest"),
        ]);
        let mut process = insert_started(&ctx, json, T0).await;
        let step = process.steps[0].id;
        let named = process.steps[0].entries[0].id;
        let guest = process.steps[0].entries[1].id;
        apply(&ctx, &mut process, |p| p.cancel(true, at(1)).unwrap()).await;
        apply(&ctx, &mut process, |p| p.delete(at(2)).unwrap()).await;

        let repo = ctx.processes();
        assert_eq!(repo.get(process.id).await.unwrap(), None);
        assert_eq!(repo.get_by_step(step).await.unwrap(), None);
        assert_eq!(repo.get_by_entry(named).await.unwrap(), None);
        let admin = ProcessFilter::default();
        assert_eq!(repo.list(&admin, &PageRequest::default()).await.unwrap().total_elements, 0);
        let search = ProcessSearch { document_id: Some("doc-1".into()), personal_code: None };
        assert!(repo.search(&search).await.unwrap().is_empty());
        let person = PersonKey::parse(LV_CODE, "LV").unwrap();
        assert!(repo.for_person(&person).await.unwrap().is_empty());
        for owner in [TaskOwner::Person { person, signer: None }, TaskOwner::Anonymous(guest)] {
            let filter = SignerTaskFilter {
                owner, created_before: None, created_after: None, status: None,
                name_search: None, non_expired: false, now: at(3),
            };
            let tasks = repo.signer_tasks(&filter, &PageRequest::default()).await.unwrap();
            assert!(tasks.empty);
        }
        // Still there for the outbox dispatcher, with its audit trail.
        let deleted = repo.get_including_deleted(process.id).await.unwrap().unwrap();
        assert_eq!(deleted, process);
        let trail = ctx.trail(process.id).await;
        assert!(trail.valid);
        assert_eq!(trail.events.last().map(|e| e.event.event_type), Some(EventType::ProcessDeleted));
    }

    /// A request abandoned half-way (its future dropped, as when an HTTP client goes away)
    /// leaves no open transaction behind: later writes of the same process go through at
    /// once and the audit chain stays whole (rule 10).
    async fn abandoned_saves_leave_no_locks_behind(ctx: Ctx) {
        let json = process_json(json!({}), vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)]);
        let id = insert(&ctx, json.clone(), T0).await.id;
        let patience = std::time::Duration::from_secs(4);
        for i in 0..40u64 {
            let current = tokio::time::timeout(patience, ctx.processes().get(id))
                .await
                .expect("reads are never blocked")
                .unwrap()
                .unwrap();
            let mut next = current.clone();
            let mut edit = json.clone();
            edit["comment"] = format!("edit {i}").into();
            let draft = serde_json::from_value::<ProcessInput>(edit).unwrap().validate().unwrap();
            let change = next.update(draft, &pas_domain::ports::UuidV7Ids, at(1)).unwrap();
            let changes = change_set(&next, change);
            let save = ctx.processes().save(&current, &next, &changes);
            let cut = std::time::Duration::from_micros(100 * (i % 20));
            let _ = tokio::time::timeout(cut, save).await;
        }
        let mut process = ctx.processes().get(id).await.unwrap().unwrap();
        let before = process.clone();
        let change = process.start(at(2)).unwrap();
        let changes = change_set(&process, change);
        tokio::time::timeout(patience, ctx.processes().save(&before, &process, &changes))
            .await
            .expect("no abandoned transaction holds a lock")
            .unwrap();
        let trail = ctx.trail(id).await;
        assert!(trail.valid);
        assert_eq!(trail.events.len() as i64, process.version + 1);
    }

    /// Writers of different processes at the same moment all succeed: SQLite queues them
    /// (BEGIN IMMEDIATE + busy_timeout) instead of failing with "database is locked".
    async fn concurrent_writers_of_different_processes_all_succeed(ctx: Ctx) {
        let mut tasks = Vec::new();
        for i in 0..16 {
            let ctx = ctx.clone();
            tasks.push(tokio::spawn(async move {
                let json = process_json(
                    json!({"documentId": format!("doc-{i}")}),
                    vec![signer("Jānis", "janis@example.lv", "LV", LV_CODE)],
                );
                let mut process = insert(&ctx, json, T0).await;
                apply(&ctx, &mut process, |p| p.start(at(1)).unwrap()).await;
                let signer = process.steps[0].entries[0].id;
                ctx.processes()
                    .record(process.id, &change_set(&process, process.remind(signer, at(2)).unwrap()))
                    .await
                    .unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let all = ctx.processes().list(&ProcessFilter::default(), &PageRequest::default()).await.unwrap();
        assert_eq!(all.total_elements, 16);
        assert!(all.content.iter().all(|p| p.status == ProcessStatus::Started));
    }
}
