//! What instances sharing a database coordinate through (PRODUCT.md section 13): the ledger
//! of failed portal authorizations.

use std::time::Duration;

use pas_domain::ports::{Admission, AttemptLedger};
use time::macros::datetime;

const NOW: time::OffsetDateTime = datetime!(2026-11-28 10:00 UTC);
const WINDOW: Duration = Duration::from_secs(60);

contract_tests! {
    /// Concurrent admissions of one key never pass more than the limit: each is counted
    /// under the key's lock (section 8's limit holds however many requests race).
    async fn concurrent_admissions_of_one_key_never_exceed_the_limit(ctx: Ctx) {
        let keys = vec!["person:abc".to_owned(), "ip:127.0.0.1".to_owned()];
        let ledger: &dyn AttemptLedger = &ctx.db;
        let answers = futures::future::join_all(
            (0..12).map(|_| ledger.admit(&keys, 5, WINDOW, NOW)),
        )
        .await;
        let admitted = answers
            .iter()
            .filter(|a| matches!(a, Ok(Admission::Admitted { .. })))
            .count();
        let refused = answers
            .iter()
            .filter(|a| matches!(a, Ok(Admission::Refused(_))))
            .count();
        assert_eq!((admitted, refused), (5, 7), "{answers:?}");
    }

    /// A forgiven attempt (the identity matched) frees its place; attempts older than the
    /// window stop counting, and keys share no counts.
    async fn forgiven_and_expired_attempts_stop_counting(ctx: Ctx) {
        let ledger: &dyn AttemptLedger = &ctx.db;
        let keys = vec!["person:abc".to_owned()];
        let mut last = None;
        for _ in 0..3 {
            match ledger.admit(&keys, 3, WINDOW, NOW).await.unwrap() {
                Admission::Admitted { attempt, .. } => last = Some(attempt),
                refused => panic!("{refused:?}"),
            }
        }
        assert!(matches!(
            ledger.admit(&keys, 3, WINDOW, NOW).await.unwrap(),
            Admission::Refused(_)
        ));
        assert!(matches!(
            ledger.admit(&["person:other".to_owned()], 3, WINDOW, NOW).await.unwrap(),
            Admission::Admitted { .. }
        ));
        ledger.forgive(last.unwrap()).await.unwrap();
        assert!(matches!(
            ledger.admit(&keys, 3, WINDOW, NOW).await.unwrap(),
            Admission::Admitted { .. }
        ));
        let later = NOW + time::Duration::seconds(61);
        assert!(matches!(
            ledger.admit(&keys, 3, WINDOW, later).await.unwrap(),
            Admission::Admitted { .. }
        ));
    }
}
