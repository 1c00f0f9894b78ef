//! `DATABASE_READ_URL` (PRODUCT.md section 13) against a real streaming replica made by
//! `tests/scripts/pg-replica.sh` (which sets `TEST_PRIMARY_URL`, `TEST_REPLICA_URL` and
//! `TEST_REPLICA_CLUSTER`); skipped, saying so, without it. With the replica's replay
//! paused, a new process is found by id (the primary) and not yet in the list (the
//! replica); with the replica stopped, lists fall back to the primary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pas_domain::audit::{AuditKey, AuditKeys, Caller, NewAuditEvent};
use pas_domain::ids::AuditEventId;
use pas_domain::paging::{PageRequest, ProcessSort};
use pas_domain::ports::{ChangeSet, ProcessRepository, UuidV7Ids};
use pas_domain::prelude::*;
use pas_domain::pseudonym::PiiKey;
use pas_domain::query::ProcessFilter;
use pas_persistence::{Db, DbOptions};

struct Cluster {
    primary: String,
    replica: String,
    /// `VERSION/NAME` of the replica's cluster, for `pg_ctlcluster`.
    replica_cluster: String,
}

fn cluster() -> Option<Cluster> {
    match (
        std::env::var("TEST_PRIMARY_URL"),
        std::env::var("TEST_REPLICA_URL"),
        std::env::var("TEST_REPLICA_CLUSTER"),
    ) {
        (Ok(primary), Ok(replica), Ok(replica_cluster)) => Some(Cluster {
            primary,
            replica,
            replica_cluster,
        }),
        _ => {
            eprintln!(
                "TEST_REPLICA_URL unset: skipping the read-replica test (run tests/scripts/pg-replica.sh)"
            );
            None
        }
    }
}

async fn sql(url: &str, statement: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
}

fn new_process(n: u32) -> (SigningProcess, ChangeSet) {
    let input: ProcessInput = serde_json::from_value(serde_json::json!({
        "documentId": format!("replica-{n}"),
        "ownerGroup": "sales",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerEmail": "anna@example.lv"}
        ]}]
    }))
    .unwrap();
    let now = pas_domain::timestamp::truncate(time::OffsetDateTime::now_utc());
    let (process, change) =
        SigningProcess::create(input.validate().unwrap(), &UuidV7Ids, now).unwrap();
    let key = PiiKey::new(vec![7; 32]).unwrap();
    let audit = change
        .events
        .iter()
        .map(|e| {
            NewAuditEvent::from_domain(
                AuditEventId::from_uuid(uuid::Uuid::now_v7()),
                e,
                &process,
                &Caller::system("replica-test"),
                "test",
                &key,
            )
        })
        .collect();
    let changes = ChangeSet {
        audit,
        change,
        idempotency_key: None,
    };
    (process, changes)
}

async fn listed(db: &Db) -> Vec<ProcessId> {
    db.list(
        &ProcessFilter::default(),
        &PageRequest::<ProcessSort>::parse(Some(0), Some(100), &[]).unwrap(),
    )
    .await
    .unwrap()
    .content
    .into_iter()
    .map(|p| p.id)
    .collect()
}

/// Waits until the replica has replayed everything the primary wrote so far (the schema
/// too: until then the list fails).
async fn caught_up(db: &Db, expected: usize) {
    let page = PageRequest::<ProcessSort>::parse(Some(0), Some(100), &[]).unwrap();
    for _ in 0..100 {
        let listed = db.list(&ProcessFilter::default(), &page).await;
        if listed.is_ok_and(|p| p.content.len() >= expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the replica did not catch up within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_read_the_replica_by_id_reads_the_primary_and_a_stopped_replica_falls_back() {
    let Some(c) = cluster() else { return };
    let keys = AuditKeys::new(AuditKey::new(vec![3; 32]).unwrap(), vec![]);
    let primary = Db::connect(&c.primary, 2).await.unwrap();
    primary.migrate().await.unwrap();
    let db = primary
        .with_replica(&c.replica, DbOptions::with_pool_size(2))
        .unwrap()
        .with_audit_keys(keys);

    let (first, changes) = new_process(1);
    db.insert(&first, &changes).await.unwrap();
    caught_up(&db, 1).await;
    assert_eq!(db.read_fallbacks(), 0);

    // Replay paused: the primary has the second process, the replica does not yet.
    sql(&c.replica, "SELECT pg_wal_replay_pause()").await;
    let (second, changes) = new_process(2);
    db.insert(&second, &changes).await.unwrap();
    assert!(
        db.get(second.id).await.unwrap().is_some(),
        "a read by id goes to the primary"
    );
    assert_eq!(
        listed(&db).await,
        vec![first.id],
        "a list reads the replica, which has not replayed the second process"
    );
    sql(&c.replica, "SELECT pg_wal_replay_resume()").await;
    caught_up(&db, 2).await;
    assert_eq!(db.read_fallbacks(), 0);

    // The replica stopped: lists still answer, from the primary, and say so.
    let (version, name) = c.replica_cluster.split_once('/').unwrap();
    let stopped = std::process::Command::new("pg_ctlcluster")
        .args([version, name, "stop", "-m", "fast"])
        .status()
        .unwrap();
    assert!(stopped.success());
    let mut all = listed(&db).await;
    all.sort();
    let mut expected = vec![first.id, second.id];
    expected.sort();
    assert_eq!(all, expected);
    assert!(db.read_fallbacks() >= 1);
}
