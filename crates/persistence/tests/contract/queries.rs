//! The list and search queries of PRODUCT.md section 6: every filter and sort of
//! `listProcesses`, paging edges, `findProcesses`, the portal's person queries, signer tasks
//! and reminder candidates.

use pas_domain::machine::Action;
use pas_domain::paging::{Direction, PageRequest, ProcessSort, TaskSort};
use pas_domain::prelude::*;
use pas_domain::query::{
    PersonKey, ProcessFilter, ProcessFilterParams, ProcessSearch, SignerTaskFilter,
    SignerTaskParams, TaskOwner,
};
use pas_domain::task::SignerTask;
use serde_json::json;
use time::macros::{date, datetime};

use crate::common::*;

/// Four processes that differ in every filtered and sorted field, in creation order.
struct Fixture {
    /// STARTED, created 2026-03-01 23:59:59, "Ābolu līgums", sales/contract, signer Čaks
    /// with the hyphenated Latvian code.
    p1: SigningProcess,
    /// PENDING, created 2026-03-02 00:00:00, "beta 50%_off", sales/invoice, anonymous signer.
    p2: SigningProcess,
    /// COMPLETED, created 2026-03-03, no document name, hr/contract, signer with the new
    /// Latvian code written plainly.
    p3: SigningProcess,
    /// CANCELED, created 2026-03-04, "Gamma", sales/contract, Estonian signer.
    p4: SigningProcess,
}

async fn fixture(ctx: &Ctx) -> Fixture {
    let p1 = insert_started(
        ctx,
        process_json(
            json!({"documentName": "Ābolu līgums", "initiatorName": "Zane",
                   "processInitiatorEmail": "zane@firma.lv"}),
            vec![signer("Aleksandrs Čaks", "CAKS@Example.lv", "LV", LV_CODE)],
        ),
        datetime!(2026-03-01 23:59:59 UTC),
    )
    .await;
    let p2 = insert(
        ctx,
        process_json(
            json!({"documentName": "beta 50%_off", "documentType": "invoice",
                   "initiatorName": "anna", "processInitiatorEmail": "anna@firma.lv"}),
            vec![anonymous("Guest")],
        ),
        datetime!(2026-03-02 00:00:00 UTC),
    )
    .await;
    let mut p3 = insert_started(
        ctx,
        process_json(
            json!({"documentName": null, "initiatorName": null, "ownerGroup": "hr",
                   "documentId": "doc-3", "processInitiatorEmail": "hr@corp.ee"}),
            vec![signer("Ēriks", "eriks@example.lv", "LV", LV_NEW_CODE)],
        ),
        datetime!(2026-03-03 10:00 UTC),
    )
    .await;
    let entry = p3.steps[0].entries[0].id;
    apply(ctx, &mut p3, |p| {
        p.act(entry, Action::Sign, None, datetime!(2026-03-03 11:00 UTC))
            .unwrap()
    })
    .await;
    let mut p4 = insert_started(
        ctx,
        process_json(
            json!({"documentName": "Gamma", "initiatorName": "Bruno",
                   "processInitiatorEmail": "office@corp.ee"}),
            vec![signer("Mari Tamm", "mari@example.ee", "EE", EE_CODE)],
        ),
        datetime!(2026-03-04 09:00 UTC),
    )
    .await;
    apply(ctx, &mut p4, |p| {
        p.cancel(false, datetime!(2026-03-04 10:00 UTC)).unwrap()
    })
    .await;
    Fixture { p1, p2, p3, p4 }
}

/// The filter as the HTTP edge builds it (trimmed, lower-cased, normalised), as an admin.
fn filter(params: ProcessFilterParams) -> ProcessFilter {
    ProcessFilterParams {
        is_admin: Some(true),
        ..params
    }
    .validate()
    .unwrap()
}

async fn listed(
    ctx: &Ctx,
    filter: &ProcessFilter,
    sort: Vec<(ProcessSort, Direction)>,
) -> Vec<ProcessId> {
    let page = PageRequest {
        page: 0,
        size: 200,
        sort,
    };
    ids(&ctx.processes().list(filter, &page).await.unwrap().content)
}

async fn matching(ctx: &Ctx, params: ProcessFilterParams) -> Vec<ProcessId> {
    listed(
        ctx,
        &filter(params),
        vec![(ProcessSort::CreatedAt, Direction::Asc)],
    )
    .await
}

fn tasks_filter(owner: TaskOwner, now: time::OffsetDateTime) -> SignerTaskFilter {
    SignerTaskFilter {
        owner,
        created_before: None,
        created_after: None,
        status: None,
        name_search: None,
        non_expired: false,
        now,
    }
}

/// The person of the task tests, their processes and the other entries around them.
struct Tasks {
    /// STARTED, created T0; the person (hyphenated code) and an anonymous guest in step 1,
    /// due 2026-03-05 12:00.
    a: SigningProcess,
    /// STARTED, created T0+1h, "Īres līgums"; another signer in step 1 (due 03-08), the
    /// person (plain code, country written "lv") in step 2 (due 03-10).
    b: SigningProcess,
    /// PENDING (a draft) with the person: never listed.
    c: SigningProcess,
    /// CANCELED, created T0+3h, with the person.
    d: SigningProcess,
}

async fn tasks_fixture(ctx: &Ctx) -> Tasks {
    let person = || signer("Jānis Ozols", "janis@example.lv", "LV", LV_CODE);
    let a = insert_started(
        ctx,
        process_json(json!({}), vec![person(), anonymous("Guest")]),
        T0,
    )
    .await;
    let b = insert_started(
        ctx,
        json!({
            "documentId": "doc-b", "documentName": "Īres līgums", "ownerGroup": "sales",
            "initiatorName": "Office", "processInitiatorEmail": "office@example.lv",
            "signingProcessSteps": [
                {"processOrder": 1, "dueDate": "2026-03-08T12:00:00Z",
                 "processStepSigners": [signer("Mari", "mari@example.ee", "EE", EE_CODE)]},
                {"processOrder": 2, "dueDate": "2026-03-10T12:00:00Z",
                 "processStepSigners": [signer("Jānis", "janis@example.lv", "lv", LV_CODE_PLAIN)]}
            ]
        }),
        at(1),
    )
    .await;
    let c = insert(
        ctx,
        process_json(json!({"documentId": "doc-c"}), vec![person()]),
        at(2),
    )
    .await;
    let mut d = insert_started(
        ctx,
        process_json(json!({"documentId": "doc-d"}), vec![person()]),
        at(3),
    )
    .await;
    apply(ctx, &mut d, |p| p.cancel(false, at(4)).unwrap()).await;
    Tasks { a, b, c, d }
}

fn task_processes(page: &pas_domain::paging::Page<SignerTask>) -> Vec<ProcessId> {
    page.content.iter().map(|t| t.process_id).collect()
}

contract_tests! {
    /// `createdDateAfter`/`createdDateBefore` are UTC dates, both inclusive (section 4).
    async fn list_filters_by_created_dates_inclusive_by_utc_day(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let after = ProcessFilterParams { created_date_after: Some(date!(2026-03-02)), ..Default::default() };
        assert_eq!(matching(&ctx, after).await, vec![f.p2.id, f.p3.id, f.p4.id]);
        let before = ProcessFilterParams { created_date_before: Some(date!(2026-03-02)), ..Default::default() };
        assert_eq!(matching(&ctx, before).await, vec![f.p1.id, f.p2.id]);
        let one_day = ProcessFilterParams {
            created_date_after: Some(date!(2026-03-03)),
            created_date_before: Some(date!(2026-03-03)),
            ..Default::default()
        };
        assert_eq!(matching(&ctx, one_day).await, vec![f.p3.id]);
    }

    /// `processStatus` is exact (section 6).
    async fn list_filters_by_status(ctx: Ctx) {
        let f = fixture(&ctx).await;
        for (status, expected) in [
            (ProcessStatus::Started, &f.p1),
            (ProcessStatus::Pending, &f.p2),
            (ProcessStatus::Completed, &f.p3),
            (ProcessStatus::Canceled, &f.p4),
        ] {
            let params = ProcessFilterParams { process_status: Some(status), ..Default::default() };
            assert_eq!(matching(&ctx, params).await, vec![expected.id], "{status}");
        }
        let declined = ProcessFilterParams { process_status: Some(ProcessStatus::Declined), ..Default::default() };
        assert!(matching(&ctx, declined).await.is_empty());
    }

    /// `nameSearch` matches case-insensitively inside the document name, the initiator name
    /// or any signer's name, Latvian letters included (section 6).
    async fn list_name_search_matches_document_initiator_and_signer_names_in_any_case(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let search = |term: &str| ProcessFilterParams { name_search: Some(term.into()), ..Default::default() };
        assert_eq!(matching(&ctx, search("ĀBOLU")).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, search("līg")).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, search("čaks")).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, search("ANNA")).await, vec![f.p2.id]);
        assert_eq!(matching(&ctx, search("ēri")).await, vec![f.p3.id]);
        assert_eq!(matching(&ctx, search("a")).await, vec![f.p1.id, f.p2.id, f.p4.id]);
        assert!(matching(&ctx, search("nobody")).await.is_empty());
    }

    /// `%`, `_` and `\` in a search term are literal characters, not wildcards.
    async fn list_name_search_treats_like_wildcards_literally(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let search = |term: &str| ProcessFilterParams { name_search: Some(term.into()), ..Default::default() };
        assert_eq!(matching(&ctx, search("%")).await, vec![f.p2.id]);
        assert_eq!(matching(&ctx, search("_")).await, vec![f.p2.id]);
        assert_eq!(matching(&ctx, search("50%_o")).await, vec![f.p2.id]);
        assert!(matching(&ctx, search("\\")).await.is_empty());
        assert!(matching(&ctx, search("b_ta")).await.is_empty());
    }

    /// `emailSearch` matches inside the initiator email or any signer email, in any case.
    async fn list_email_search_matches_initiator_and_signer_emails(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let search = |term: &str| ProcessFilterParams { email_search: Some(term.into()), ..Default::default() };
        assert_eq!(matching(&ctx, search("Example.LV")).await, vec![f.p1.id, f.p3.id]);
        assert_eq!(matching(&ctx, search("caks@")).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, search("corp.ee")).await, vec![f.p3.id, f.p4.id]);
        assert_eq!(matching(&ctx, search("anna@firma")).await, vec![f.p2.id]);
    }

    /// `personalCode` equals any signer's code after normalisation, whichever way either was
    /// written (section 8).
    async fn list_personal_code_matches_normalised_codes(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let code = |c: &str| ProcessFilterParams { personal_code: Some(c.into()), ..Default::default() };
        assert_eq!(matching(&ctx, code(LV_CODE_PLAIN)).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, code("161175 19997")).await, vec![f.p1.id]);
        assert_eq!(matching(&ctx, code("321234-56789")).await, vec![f.p3.id]);
        assert_eq!(matching(&ctx, code(EE_CODE)).await, vec![f.p4.id]);
        assert!(matching(&ctx, code("1611751999")).await.is_empty());
    }

    /// `ownerGroup` and `docType` are exact, and all filters combine (section 6).
    async fn list_filters_by_owner_group_and_doc_type_and_combines_filters(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let group = |g: &str| ProcessFilterParams { owner_group: Some(g.into()), ..Default::default() };
        assert_eq!(matching(&ctx, group("hr")).await, vec![f.p3.id]);
        assert!(matching(&ctx, group("HR")).await.is_empty());
        let doc_type = ProcessFilterParams { doc_type: Some("invoice".into()), ..Default::default() };
        assert_eq!(matching(&ctx, doc_type).await, vec![f.p2.id]);
        let combined = ProcessFilterParams {
            owner_group: Some("sales".into()),
            doc_type: Some("contract".into()),
            ..Default::default()
        };
        assert_eq!(matching(&ctx, combined).await, vec![f.p1.id, f.p4.id]);
        let narrower = ProcessFilterParams {
            owner_group: Some("sales".into()),
            doc_type: Some("contract".into()),
            process_status: Some(ProcessStatus::Canceled),
            email_search: Some("corp".into()),
            created_date_after: Some(date!(2026-03-04)),
            ..Default::default()
        };
        assert_eq!(matching(&ctx, narrower).await, vec![f.p4.id]);
    }

    /// Every whitelisted sort field in both directions; NULLs last; text case-insensitive and
    /// byte-wise the same on both backends (section 4).
    async fn list_sorts_by_every_whitelisted_field(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let (p1, p2, p3, p4) = (f.p1.id, f.p2.id, f.p3.id, f.p4.id);
        let all = ProcessFilter::default();
        use Direction::{Asc, Desc};
        use ProcessSort::*;
        let cases = [
            (vec![(CreatedAt, Asc)], [p1, p2, p3, p4]),
            (vec![(CreatedAt, Desc)], [p4, p3, p2, p1]),
            // "beta 50%_off" < "gamma" < "ābolu līgums" (ā is U+0101), no name last.
            (vec![(DocumentName, Asc)], [p2, p4, p1, p3]),
            (vec![(DocumentName, Desc)], [p1, p4, p2, p3]),
            (vec![(Status, Asc)], [p4, p3, p2, p1]),
            (vec![(Status, Desc)], [p1, p2, p3, p4]),
            (vec![(DocumentType, Asc), (CreatedAt, Asc)], [p1, p3, p4, p2]),
            (vec![(DocumentType, Desc), (CreatedAt, Desc)], [p2, p4, p3, p1]),
            (vec![(CompletedAt, Asc), (CreatedAt, Asc)], [p3, p1, p2, p4]),
            (vec![(CompletedAt, Desc), (CreatedAt, Desc)], [p3, p4, p2, p1]),
            (vec![(InitiatorName, Asc)], [p2, p4, p1, p3]),
            (vec![(InitiatorName, Desc)], [p1, p4, p2, p3]),
        ];
        for (sort, expected) in cases {
            assert_eq!(listed(&ctx, &all, sort.clone()).await, expected, "{sort:?}");
        }
    }

    /// Paging edges: an empty result, size 1, the last page, a page past the end (section 4).
    async fn list_pages_have_correct_edges(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let all = ProcessFilter::default();
        let page = |page, size| PageRequest { page, size, sort: vec![(ProcessSort::CreatedAt, Direction::Asc)] };
        let repo = ctx.processes();

        let first = repo.list(&all, &page(0, 1)).await.unwrap();
        assert_eq!(ids(&first.content), vec![f.p1.id]);
        assert_eq!((first.total_elements, first.total_pages, first.number_of_elements), (4, 4, 1));
        assert!(first.first && !first.last && !first.empty);

        let last = repo.list(&all, &page(3, 1)).await.unwrap();
        assert_eq!(ids(&last.content), vec![f.p4.id]);
        assert!(last.last && !last.first);

        let partial = repo.list(&all, &page(1, 3)).await.unwrap();
        assert_eq!(ids(&partial.content), vec![f.p4.id]);
        assert_eq!((partial.total_pages, partial.number_of_elements), (2, 1));
        assert!(partial.last);

        let past = repo.list(&all, &page(9, 2)).await.unwrap();
        assert!(past.empty && past.content.is_empty());
        assert_eq!((past.total_elements, past.number), (4, 9));

        let none = filter(ProcessFilterParams { owner_group: Some("nobody".into()), ..Default::default() });
        let empty = repo.list(&none, &page(0, 20)).await.unwrap();
        assert_eq!((empty.total_elements, empty.total_pages), (0, 0));
        assert!(empty.empty && empty.first && empty.last);

        // The processes of a page come back whole (steps and entries loaded per page).
        let whole = repo.list(&all, &page(0, 200)).await.unwrap();
        assert_eq!(whole.content[0], f.p1);
        assert_eq!(whole.content[2], f.p3);
    }

    /// `findProcesses` and `listProcessesByDocumentId`: exact document id and/or normalised
    /// personal code, newest first.
    async fn search_by_document_id_and_personal_code_newest_first(ctx: Ctx) {
        let f = fixture(&ctx).await;
        let repo = ctx.processes();
        let by_doc = ProcessSearch { document_id: Some("doc-1".into()), personal_code: None };
        assert_eq!(ids(&repo.search(&by_doc).await.unwrap()), vec![f.p4.id, f.p2.id, f.p1.id]);
        let by_code = ProcessSearch { document_id: None, personal_code: Some(LV_NEW_CODE.into()) };
        assert_eq!(repo.search(&by_code).await.unwrap(), vec![f.p3.clone()]);
        let both = ProcessSearch { document_id: Some("doc-1".into()), personal_code: Some(EE_CODE.into()) };
        assert_eq!(ids(&repo.search(&both).await.unwrap()), vec![f.p4.id]);
        let neither = ProcessSearch { document_id: Some("doc-3".into()), personal_code: Some(EE_CODE.into()) };
        assert!(repo.search(&neither).await.unwrap().is_empty());
    }

    /// `listSignerSteps`/`listSignerDocuments`: the person's non-draft processes, newest
    /// first, whatever way the code and country were written (section 8).
    async fn for_person_returns_the_persons_non_draft_processes(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        for (code, country) in [(LV_CODE, "LV"), (LV_CODE_PLAIN, "lv"), ("161175 19997", " Lv ")] {
            let person = PersonKey::parse(code, country).unwrap();
            let found = ctx.processes().for_person(&person).await.unwrap();
            assert_eq!(ids(&found), vec![t.d.id, t.b.id, t.a.id]);
        }
        assert!(!ids(&ctx.processes().for_person(&PersonKey::parse(LV_CODE, "LV").unwrap()).await.unwrap()).contains(&t.c.id));
        let wrong_country = PersonKey::parse(LV_CODE, "EE").unwrap();
        assert!(ctx.processes().for_person(&wrong_country).await.unwrap().is_empty());
    }

    /// `listSignerTasks` for a person: one row per entry across processes, codes hyphenated
    /// or not, country in any case, drafts left out (section 6).
    async fn signer_tasks_for_a_person_across_processes(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        let now = at(5);
        let params = |code: &str, country: &str| SignerTaskParams {
            personal_code: Some(code.into()),
            country: Some(country.into()),
            ..Default::default()
        };
        let sort = PageRequest { page: 0, size: 20, sort: vec![(TaskSort::CreatedAt, Direction::Asc)] };
        for (code, country) in [(LV_CODE, "LV"), (LV_CODE_PLAIN, "lv")] {
            let filter = params(code, country).validate(now).unwrap();
            let page = ctx.processes().signer_tasks(&filter, &sort).await.unwrap();
            assert_eq!(task_processes(&page), vec![t.a.id, t.b.id, t.d.id]);
            assert_eq!(page.total_elements, 3);
        }
        let filter = params(LV_CODE, "LV").validate(now).unwrap();
        // A page counts every task, also a short page and one past the last task.
        for (number, size, tasks) in [(1, 2, 1), (3, 1, 0)] {
            let part = PageRequest { page: number, size, sort: sort.sort.clone() };
            let page = ctx.processes().signer_tasks(&filter, &part).await.unwrap();
            assert_eq!((page.content.len(), page.total_elements), (tasks, 3));
        }
        let page = ctx.processes().signer_tasks(&filter, &sort).await.unwrap();
        let (step, entry) = (&t.b.steps[1], &t.b.steps[1].entries[0]);
        assert_eq!(page.content[1], SignerTask::of(&t.b, step, entry, now));
        assert_eq!(page.content[0].signing_status, SigningStatus::WaitingForAction);
        assert_eq!(page.content[1].signing_status, SigningStatus::WaitingForPrevious);
        assert_eq!(page.content[2].process_status, ProcessStatus::Canceled);

        // Narrowed to one of the person's entries.
        let mut one = params(LV_CODE, "LV");
        one.signer_id = Some(t.a.steps[0].entries[0].id);
        let page = ctx.processes().signer_tasks(&one.validate(now).unwrap(), &sort).await.unwrap();
        assert_eq!(task_processes(&page), vec![t.a.id]);
        // Someone else's entry id with the person's identity finds nothing.
        let mut other = params(LV_CODE, "LV");
        other.signer_id = Some(t.b.steps[0].entries[0].id);
        let page = ctx.processes().signer_tasks(&other.validate(now).unwrap(), &sort).await.unwrap();
        assert!(page.empty);
    }

    /// An anonymous entry is reached by its signer id alone, and a signer id alone never
    /// reaches an entry that has a personal code (section 8).
    async fn signer_tasks_reach_anonymous_entries_only_by_signer_id(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        let guest = t.a.steps[0].entries[1].id;
        let named = t.a.steps[0].entries[0].id;
        let page = PageRequest::default();
        let params = |id| SignerTaskParams { signer_id: Some(id), ..Default::default() };
        let found = ctx.processes().signer_tasks(&params(guest).validate(at(5)).unwrap(), &page).await.unwrap();
        assert_eq!(found.content.len(), 1);
        assert_eq!(found.content[0].signer_id, guest);
        let found = ctx.processes().signer_tasks(&params(named).validate(at(5)).unwrap(), &page).await.unwrap();
        assert!(found.empty);
        let filter = tasks_filter(TaskOwner::Anonymous(guest), at(5));
        assert_eq!(ctx.processes().signer_tasks(&filter, &page).await.unwrap().total_elements, 1);
    }

    /// `nonExpired=true` drops rows whose step's due date has passed; without it they are
    /// listed with `expired: true` (section 6, rule 3).
    async fn signer_tasks_non_expired_drops_rows_past_their_due_date(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        let person = PersonKey::parse(LV_CODE, "LV").unwrap();
        let now = datetime!(2026-03-06 00:00 UTC);
        let sort = PageRequest { page: 0, size: 20, sort: vec![(TaskSort::CreatedAt, Direction::Asc)] };
        let mut filter = tasks_filter(TaskOwner::Person { person, signer: None }, now);
        let all = ctx.processes().signer_tasks(&filter, &sort).await.unwrap();
        let expired: Vec<bool> = all.content.iter().map(|t| t.expired).collect();
        assert_eq!(expired, [true, false, true]);
        filter.non_expired = true;
        let open = ctx.processes().signer_tasks(&filter, &sort).await.unwrap();
        assert_eq!(task_processes(&open), vec![t.b.id]);
        assert_eq!(open.total_elements, 1);
        // Exactly at the due date the task has not expired yet.
        filter.now = datetime!(2026-03-05 12:00 UTC);
        let at_due = ctx.processes().signer_tasks(&filter, &sort).await.unwrap();
        assert_eq!(at_due.total_elements, 3);
    }

    /// The other task filters (status, name, created dates), sorts and paging.
    async fn signer_tasks_filter_sort_and_page(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        let person = || TaskOwner::Person { person: PersonKey::parse(LV_CODE, "LV").unwrap(), signer: None };
        let repo = ctx.processes();
        let sort = |sort| PageRequest { page: 0, size: 20, sort };
        let by_created = sort(vec![(TaskSort::CreatedAt, Direction::Asc)]);

        let mut started = tasks_filter(person(), at(5));
        started.status = Some(ProcessStatus::Started);
        assert_eq!(task_processes(&repo.signer_tasks(&started, &by_created).await.unwrap()), vec![t.a.id, t.b.id]);

        let mut named = tasks_filter(person(), at(5));
        named.name_search = Some("īres".into());
        assert_eq!(task_processes(&repo.signer_tasks(&named, &by_created).await.unwrap()), vec![t.b.id]);
        named.name_search = Some("office".into());
        assert_eq!(repo.signer_tasks(&named, &by_created).await.unwrap().total_elements, 3);

        let mut dated = tasks_filter(person(), at(5));
        dated.created_after = Some(date!(2026-03-02));
        dated.created_before = Some(date!(2026-03-02));
        assert_eq!(repo.signer_tasks(&dated, &by_created).await.unwrap().total_elements, 3);
        dated.created_after = Some(date!(2026-03-03));
        assert!(repo.signer_tasks(&dated, &by_created).await.unwrap().empty);

        let all = tasks_filter(person(), at(5));
        let due_desc = sort(vec![(TaskSort::DueDate, Direction::Desc), (TaskSort::CreatedAt, Direction::Asc)]);
        assert_eq!(task_processes(&repo.signer_tasks(&all, &due_desc).await.unwrap()), vec![t.b.id, t.a.id, t.d.id]);
        let by_status = sort(vec![(TaskSort::ProcessStatus, Direction::Asc), (TaskSort::CreatedAt, Direction::Desc)]);
        assert_eq!(task_processes(&repo.signer_tasks(&all, &by_status).await.unwrap()), vec![t.d.id, t.b.id, t.a.id]);
        let by_name = sort(vec![(TaskSort::DocumentName, Direction::Desc), (TaskSort::CreatedAt, Direction::Asc)]);
        // "īres līgums" > "contract" byte-wise.
        assert_eq!(task_processes(&repo.signer_tasks(&all, &by_name).await.unwrap()), vec![t.b.id, t.a.id, t.d.id]);

        let paged = PageRequest { page: 1, size: 2, sort: vec![(TaskSort::CreatedAt, Direction::Asc)] };
        let second = repo.signer_tasks(&all, &paged).await.unwrap();
        assert_eq!(task_processes(&second), vec![t.d.id]);
        assert_eq!((second.total_elements, second.total_pages), (3, 2));
        assert!(second.last);
    }

    /// Reminder candidates: STARTED processes with an open SIGNER or APPROVER entry in a
    /// step due inside the window (section 7).
    async fn due_between_finds_started_processes_with_open_signers_due_in_the_window(ctx: Ctx) {
        let t = tasks_fixture(&ctx).await;
        let mut done = insert_started(
            &ctx,
            process_json(json!({"documentId": "doc-e"}), vec![signer("Ēriks", "eriks@example.lv", "LV", LV_NEW_CODE)]),
            at(5),
        ).await;
        let entry = done.steps[0].entries[0].id;
        apply(&ctx, &mut done, |p| p.act(entry, Action::Sign, None, at(6)).unwrap()).await;

        let repo = ctx.processes();
        let window = |from, to| repo.due_between(from, to);
        let found = window(datetime!(2026-03-05 00:00 UTC), datetime!(2026-03-05 23:59 UTC)).await.unwrap();
        assert_eq!(found, vec![t.a.clone()]);
        let found = window(datetime!(2026-03-01 00:00 UTC), datetime!(2026-03-31 00:00 UTC)).await.unwrap();
        assert_eq!(ids(&found), vec![t.a.id, t.b.id]);
        // Step 2 of b is due on 03-10; its entry waits for step 1 and is still open.
        let found = window(datetime!(2026-03-09 00:00 UTC), datetime!(2026-03-11 00:00 UTC)).await.unwrap();
        assert_eq!(ids(&found), vec![t.b.id]);
        let found = window(datetime!(2026-03-05 12:00:01 UTC), datetime!(2026-03-07 00:00 UTC)).await.unwrap();
        assert!(found.is_empty());
    }
}
