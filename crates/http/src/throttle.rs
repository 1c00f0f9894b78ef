//! Slowing down guesses in the signer portal: after `AUTH_FAILURES_PER_MINUTE` failed
//! authorizations within a sliding minute for one signer id or one client address, further
//! attempts for that key are refused with 429 and `Retry-After`, without reaching the use
//! case (so a refused attempt writes no audit row).
//!
//! [`FailureWindow`] is the pure counting (it takes `now` as an argument). [`AuthThrottle`]
//! counts either in one window shared by the workers of this instance (SQLite: one instance)
//! or in an [`AttemptLedger`] of the database, so that instances sharing a PostgreSQL
//! database share the limit (PRODUCT.md section 13; see docs/DECISIONS.md).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pas_domain::ports::{Admission, AttemptLedger, RepoError};
use pas_domain::service::ReadError;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::metrics::AuthFailure;
use crate::problem::ApiError;

/// The sliding window of the limit.
const WINDOW: Duration = Duration::from_secs(60);

/// What failures are counted for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttemptKey {
    /// The entry whose identity was tried.
    Signer(Uuid),
    /// The client address (after `TRUSTED_PROXIES`).
    Address(String),
}

impl AttemptKey {
    /// The key as a shared ledger stores it: SHA-256 (hex) of its kind and value, so that
    /// an anonymous entry's id (a portal secret) is not written anywhere else.
    fn hashed(&self) -> String {
        let text = match self {
            Self::Signer(id) => format!("signer:{id}"),
            Self::Address(a) => format!("address:{a}"),
        };
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Attempts per key within a sliding window.
///
/// An attempt is counted when it is admitted, before its outcome is known, and taken back
/// ([`FailureWindow::forgive`]) when it did not fail. Counting up front is what keeps
/// concurrent attempts from all passing the check before any of them has failed.
#[derive(Debug)]
pub struct FailureWindow {
    limit: usize,
    window: Duration,
    attempts: HashMap<AttemptKey, VecDeque<Instant>>,
    last_sweep: Option<Instant>,
}

impl FailureWindow {
    /// At most `limit` failures per key within `window` (a limit of 0 is taken as 1).
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: usize::try_from(limit.max(1)).unwrap_or(usize::MAX),
            window,
            attempts: HashMap::new(),
            last_sweep: None,
        }
    }

    /// Admits an attempt for every key at `now` and counts it, or refuses it with how long
    /// until the fullest key has room again (nothing is counted then).
    pub fn admit(&mut self, keys: &[AttemptKey], now: Instant) -> Result<(), Duration> {
        self.sweep(now);
        let mut wait = None;
        for key in keys {
            let Some(times) = self.attempts.get_mut(key) else {
                continue;
            };
            expire(times, now, self.window);
            if times.len() >= self.limit {
                // The oldest counted attempt leaves the window first.
                let free_at = times
                    .front()
                    .and_then(|t| t.checked_add(self.window))
                    .unwrap_or(now);
                let w = free_at.saturating_duration_since(now);
                wait = Some(wait.map_or(w, |prev: Duration| prev.max(w)));
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        for key in keys {
            self.attempts.entry(key.clone()).or_default().push_back(now);
        }
        Ok(())
    }

    /// Takes back an attempt admitted at `at` that did not fail.
    pub fn forgive(&mut self, keys: &[AttemptKey], at: Instant) {
        for key in keys {
            if let Some(times) = self.attempts.get_mut(key) {
                if let Some(pos) = times.iter().rposition(|t| *t == at) {
                    times.remove(pos);
                }
                if times.is_empty() {
                    self.attempts.remove(key);
                }
            }
        }
    }

    /// Whether `key` has used up its attempts at `now`.
    pub fn is_full(&mut self, key: &AttemptKey, now: Instant) -> bool {
        self.attempts.get_mut(key).is_some_and(|times| {
            expire(times, now, self.window);
            times.len() >= self.limit
        })
    }

    /// How many keys are held (tests: memory is bounded by recent failures).
    pub fn keys(&self) -> usize {
        self.attempts.len()
    }

    /// Once per window, drops every key without a recent attempt, so that keys tried once
    /// (random signer ids, say) do not pile up.
    fn sweep(&mut self, now: Instant) {
        let due = self
            .last_sweep
            .is_none_or(|last| now.saturating_duration_since(last) >= self.window);
        if !due {
            return;
        }
        self.last_sweep = Some(now);
        let window = self.window;
        self.attempts.retain(|_, times| {
            expire(times, now, window);
            !times.is_empty()
        });
    }
}

/// Drops the attempts that left the window.
fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// The failed-authorization limiter, shared by the workers of this instance and, with a
/// ledger, by every instance of the database.
#[derive(Clone)]
pub struct AuthThrottle {
    counts: Counts,
    limit: u32,
}

#[derive(Clone)]
enum Counts {
    /// In memory, for this instance.
    Local(Arc<Mutex<FailureWindow>>),
    /// In the database, for every instance.
    Shared(Arc<dyn AttemptLedger>),
}

/// An admitted attempt, to settle once its outcome is known.
enum Ticket {
    Local(Instant),
    Shared { attempt: Uuid, fills: Vec<bool> },
}

impl std::fmt::Debug for AuthThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthThrottle").finish_non_exhaustive()
    }
}

impl Default for AuthThrottle {
    /// 10 failures per minute.
    fn default() -> Self {
        Self::per_minute(10)
    }
}

impl AuthThrottle {
    /// At most `failures` failed attempts per signer id and per client address within a
    /// sliding minute (`AUTH_FAILURES_PER_MINUTE`).
    pub fn per_minute(failures: u32) -> Self {
        Self {
            counts: Counts::Local(Arc::new(Mutex::new(FailureWindow::new(failures, WINDOW)))),
            limit: failures,
        }
    }

    /// The same limit counted in `ledger`, shared by every instance that uses it.
    pub fn shared(failures: u32, ledger: Arc<dyn AttemptLedger>) -> Self {
        Self {
            counts: Counts::Shared(ledger),
            limit: failures,
        }
    }

    /// Admits an attempt for `keys`, or refuses it with 429.
    async fn admit(&self, keys: &[AttemptKey]) -> Result<Ticket, ApiError> {
        match &self.counts {
            Counts::Local(window) => {
                let at = Instant::now();
                lock(window).admit(keys, at).map_err(too_many)?;
                Ok(Ticket::Local(at))
            }
            Counts::Shared(ledger) => {
                let hashed: Vec<String> = keys.iter().map(AttemptKey::hashed).collect();
                let now = OffsetDateTime::now_utc();
                match ledger
                    .admit(&hashed, self.limit, WINDOW, now)
                    .await
                    .map_err(ledger_error)?
                {
                    Admission::Admitted { attempt, fills } => Ok(Ticket::Shared { attempt, fills }),
                    Admission::Refused(wait) => Err(too_many(wait)),
                }
            }
        }
    }

    /// Which of `keys` are at their limit after the failed attempt `ticket`.
    fn filled(&self, keys: &[AttemptKey], ticket: &Ticket) -> Vec<bool> {
        match (&self.counts, ticket) {
            (Counts::Local(window), _) => {
                let mut window = lock(window);
                keys.iter()
                    .map(|k| window.is_full(k, Instant::now()))
                    .collect()
            }
            (Counts::Shared(_), Ticket::Shared { fills, .. }) => fills.clone(),
            (Counts::Shared(_), Ticket::Local(_)) => Vec::new(),
        }
    }

    /// Takes back the attempt `ticket`, which did not fail.
    async fn forgive(&self, keys: &[AttemptKey], ticket: Ticket) {
        match (&self.counts, ticket) {
            (Counts::Local(window), Ticket::Local(at)) => lock(window).forgive(keys, at),
            (Counts::Shared(ledger), Ticket::Shared { attempt, .. }) => {
                if let Err(e) = ledger.forgive(attempt).await {
                    // Counted once too often for a minute: safe, worth a line.
                    tracing::warn!(error = %e, "could not take back a portal authorization attempt");
                }
            }
            _ => {}
        }
    }

    /// Runs `work` (an identity check of `signer` by a caller at `address`) unless either key
    /// is over its limit, in which case the answer is 429 without running it. A 403 from
    /// `work` counts as a failure; any other outcome does not. A request dropped half-way
    /// stays counted, which errs on the safe side.
    pub(crate) async fn guard<T, F>(
        &self,
        signer: Uuid,
        address: Option<&str>,
        work: F,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, ApiError>>,
    {
        let mut keys = vec![AttemptKey::Signer(signer)];
        if let Some(a) = address {
            keys.push(AttemptKey::Address(a.to_owned()));
        }
        let ticket = self.admit(&keys).await.inspect_err(|e| {
            if matches!(e, ApiError::TooManyRequests { .. }) {
                crate::metrics::auth_failed(AuthFailure::Throttled);
            }
        })?;
        let result = work.await;
        let failed = result.as_ref().is_err_and(ApiError::is_forbidden);
        if failed {
            crate::metrics::auth_failed(AuthFailure::IdentityMismatch);
            for (key, full) in keys.iter().zip(self.filled(&keys, &ticket)) {
                if full {
                    // Never the signer id: for anonymous entries it is the portal secret.
                    match key {
                        AttemptKey::Signer(_) => tracing::warn!(
                            "failed authorizations of one signer id reached the limit; \
                             further attempts answer 429"
                        ),
                        AttemptKey::Address(a) => tracing::warn!(
                            address = %a,
                            "failed authorizations from one address reached the limit; \
                             further attempts answer 429"
                        ),
                    }
                }
            }
        } else {
            self.forgive(&keys, ticket).await;
        }
        result
    }
}

fn lock(window: &Mutex<FailureWindow>) -> std::sync::MutexGuard<'_, FailureWindow> {
    // The window holds plain counts: one left by a panicking holder is still usable.
    window.lock().unwrap_or_else(PoisonError::into_inner)
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after: retry_after_secs(wait),
    }
}

/// A ledger that cannot count refuses the attempt: guessing must not get easier when the
/// database struggles.
fn ledger_error(e: RepoError) -> ApiError {
    match e {
        RepoError::Unavailable(_) => ApiError::DatabaseUnavailable,
        other => ApiError::Read(ReadError::Storage(other)),
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn signer(n: u128) -> AttemptKey {
        AttemptKey::Signer(Uuid::from_u128(n))
    }

    fn addr(a: &str) -> AttemptKey {
        AttemptKey::Address(a.to_owned())
    }

    #[test]
    fn the_attempt_after_the_limit_waits_until_the_oldest_leaves_the_window() {
        let t0 = Instant::now();
        let mut w = FailureWindow::new(3, MINUTE);
        let keys = [signer(1), addr("192.0.2.1")];
        for s in 0..3 {
            assert_eq!(w.admit(&keys, t0 + Duration::from_secs(s * 10)), Ok(()));
        }
        let at = t0 + Duration::from_secs(30);
        assert_eq!(w.admit(&keys, at), Err(Duration::from_secs(30)));
        assert_eq!(
            w.admit(&keys, t0 + MINUTE),
            Ok(()),
            "the first attempt left the window: the window slides"
        );
        assert!(
            w.admit(&keys, t0 + MINUTE + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn either_key_over_its_limit_refuses_and_refusals_do_not_count() {
        let t0 = Instant::now();
        let mut w = FailureWindow::new(2, MINUTE);
        for n in 0..2 {
            assert!(w.admit(&[signer(n), addr("192.0.2.1")], t0).is_ok());
        }
        assert!(
            w.admit(&[signer(9), addr("192.0.2.1")], t0).is_err(),
            "a fresh signer id from a full address"
        );
        assert!(
            w.admit(&[signer(0), addr("198.51.100.7")], t0).is_ok(),
            "signer 0 has one attempt, the other address none"
        );
        assert!(w.admit(&[signer(0), addr("203.0.113.1")], t0).is_err());
        assert!(
            w.admit(&[signer(5), addr("203.0.113.1")], t0).is_ok(),
            "the refused attempt did not count for its address"
        );
    }

    #[test]
    fn a_forgiven_attempt_does_not_count() {
        let t0 = Instant::now();
        let mut w = FailureWindow::new(2, MINUTE);
        let keys = [signer(1)];
        for s in 0..5 {
            let at = t0 + Duration::from_secs(s);
            assert!(w.admit(&keys, at).is_ok());
            w.forgive(&keys, at);
        }
        assert!(!w.is_full(&signer(1), t0 + Duration::from_secs(5)));
        assert_eq!(w.keys(), 0);
    }

    #[test]
    fn keys_without_recent_attempts_are_swept() {
        let t0 = Instant::now();
        let mut w = FailureWindow::new(10, MINUTE);
        for n in 0..100 {
            assert!(w.admit(&[signer(n)], t0).is_ok());
        }
        assert_eq!(w.keys(), 100);
        assert!(w.admit(&[signer(1000)], t0 + 2 * MINUTE).is_ok());
        assert_eq!(w.keys(), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
