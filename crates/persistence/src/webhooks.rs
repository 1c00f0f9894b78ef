//! `WebhookStore` (PRODUCT.md section 12): subscriptions and the log of their delivery
//! attempts, and [`deliveries`], which the process store calls to write a change's webhook
//! deliveries in the change's own transaction.
//!
//! A delivery is an outbox row of channel `WEBHOOK` (kind `WEBHOOK_EVENT`): one per event
//! subscribers hear about and enabled subscription that [`Subscription::wants`] it, with the
//! body fixed when the change is written, so every attempt sends the same bytes under the
//! same `webhook-id` (the row's id). The dispatcher leases, retries and gives them up like
//! emails (`outbox.rs`).
//!
//! What changes a subscription's delivery state runs in one write transaction with the
//! subscription's row locked (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's write
//! transaction already holds the database's write lock): recording an attempt, which may
//! disable it, and deleting it, so that an attempt is never logged for a subscription being
//! deleted (its foreign key would refuse the delete).

use async_trait::async_trait;
use diesel::QueryResult;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::serialize::ToSql;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use diesel_async::methods::LoadQuery;
use pas_domain::audit::AuditingEvent;
use pas_domain::error::Missing;
use pas_domain::events::DomainEvent;
use pas_domain::ids::SubscriptionId;
use pas_domain::paging::{AttemptSort, Page, PageRequest, WebhookSort};
use pas_domain::ports::{RepoError, SubscriptionChange, WebhookStore};
use pas_domain::process::ProcessData;
use pas_domain::status::{OutboxState, WebhookEventType};
use pas_domain::webhook::{
    AttemptEffect, DeliveryAttempt, Subscription, WebhookDelivery, event_body,
};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::columns::DbId;
use crate::db::{Concrete, Conn, Db, Sql};
use crate::error::{Classify, Error};
use crate::models::{
    AttemptRow, FAILED, OutboxRow, PENDING, SubscriptionChanges, SubscriptionRow, db_time,
    outbox_state,
};
use crate::outbox::no_lease;
use crate::paging::{page_of, sorted, total};
use crate::schema::{outbox, webhook_attempts, webhook_subscriptions};

const SUBSCRIPTION: &str = "webhook subscription";
const ATTEMPT: &str = "webhook attempt";

/// Why a subscription's pending deliveries were given up (`last_error` of their rows).
const DELETED_ERROR: &str = "the subscription was deleted";

/// The enabled subscriptions that may hear about a process of the owner group `group`:
/// those of that group and those for every process. (`owner_group = NULL` is never true,
/// so a process without a group gets only the latter.)
#[dsl::auto_type]
fn deliverable(group: Option<String>) -> _ {
    let enabled: bool = true;
    webhook_subscriptions::table
        .filter(webhook_subscriptions::enabled.eq(enabled))
        .filter(
            webhook_subscriptions::owner_group
                .is_null()
                .or(webhook_subscriptions::owner_group.eq(group)),
        )
}

diesel::alias!(webhook_attempts as old_attempts: OldAttempts);

/// Up to `limit` ids of attempts logged before `cut` (one batch of the retention purge),
/// read through an alias: the DELETE it feeds is on the same table.
#[dsl::auto_type]
fn attempts_before(cut: PrimitiveDateTime, limit: i64) -> _ {
    old_attempts
        .filter(old_attempts.field(webhook_attempts::attempted_at).lt(cut))
        .select(old_attempts.field(webhook_attempts::id))
        .limit(limit)
}

/// Deletes up to `batch` attempts logged before `cut`, in a transaction of its own (the
/// retention job, `Outbox::purge_sent`); answers how many.
pub(crate) async fn purge_attempts_batch(
    db: &Db,
    cut: PrimitiveDateTime,
    batch: std::num::NonZeroU32,
) -> Result<u64, RepoError> {
    let limit = i64::from(batch.get());
    with_db!(db, Write, async |conn| {
        let deleted = match conn.concrete() {
            // As the outbox purge: another instance's batch is skipped, not waited for.
            Concrete::Postgres(pg) => {
                let ids = attempts_before(cut, limit).for_update().skip_locked();
                diesel::delete(webhook_attempts::table.filter(webhook_attempts::id.eq_any(ids)))
                    .execute(pg)
                    .await?
            }
            Concrete::Sqlite(lite) => {
                let ids = attempts_before(cut, limit);
                diesel::delete(webhook_attempts::table.filter(webhook_attempts::id.eq_any(ids)))
                    .execute(lite)
                    .await?
            }
        };
        Ok(u64::try_from(deleted).unwrap_or(0))
    })
    .await
}

/// [`deliverable`] selecting its rows on the backend `DB`.
pub(crate) type Deliverable<DB> = dsl::Select<deliverable, dsl::AsSelect<SubscriptionRow, DB>>;

/// The webhook deliveries of a change, as outbox rows due at `now`: for each event of
/// `events` that subscribers hear about, one row per enabled subscription that wants it,
/// with the body of [`event_body`] about `process` (its state after the change) carrying
/// the `sequence` of the event's audit row. `chained` are the change's audit rows as
/// appended, in the order of `events` (one per event). The subscriptions are read once,
/// and only when some event is one subscribers hear about.
pub(crate) async fn deliveries<C>(
    conn: &mut C,
    process: &ProcessData,
    events: &[DomainEvent],
    chained: &[AuditingEvent],
    now: OffsetDateTime,
) -> Result<Vec<OutboxRow>, Error>
where
    C: Conn,
    for<'q> Deliverable<C::Backend>: LoadQuery<'q, C, SubscriptionRow>,
{
    let heard: Vec<(WebhookEventType, &DomainEvent, &AuditingEvent)> = events
        .iter()
        .zip(chained)
        .filter_map(|(event, audit)| {
            WebhookEventType::of(event.event_type).map(|t| (t, event, audit))
        })
        .collect();
    if heard.is_empty() {
        return Ok(Vec::new());
    }
    // The sequence in a body must be its own event's: a change whose audit rows are not
    // its events one for one is a wiring mistake, refused rather than mis-numbered.
    let aligned = events.len() == chained.len()
        && heard
            .iter()
            .all(|(_, event, audit)| event.event_type == audit.event.event_type);
    if !aligned {
        return Err(Error::Repo(RepoError::Storage(
            "the audit rows of a change do not match its events".into(),
        )));
    }
    let group = process.header.owner_group.clone();
    let subscriptions = deliverable(group.clone())
        .select(SubscriptionRow::as_select())
        .load::<SubscriptionRow>(conn)
        .await?
        .into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (event_type, event, audit) in heard {
        let mut wanting = subscriptions
            .iter()
            .filter(|s| s.wants(event_type, group.as_deref()))
            .peekable();
        if wanting.peek().is_none() {
            continue;
        }
        let Some(body) = event_body(event, process, audit.sequence) else {
            continue;
        };
        let body = body.to_string();
        rows.extend(wanting.map(|s| {
            let delivery = WebhookDelivery {
                subscription_id: s.id,
                event_type,
                process_id: process.id,
                body: body.clone(),
            };
            OutboxRow::webhook(&delivery, now)
        }));
    }
    Ok(rows)
}

/// The subscription `id`, locked until the transaction ends on PostgreSQL (SQLite's write
/// transaction holds the write lock already); `None` when there is none.
async fn lock_subscription(conn: &mut impl Conn, id: &str) -> QueryResult<Option<SubscriptionRow>> {
    let row = webhook_subscriptions::table.find(id.to_owned());
    // `as_select` is typed by its backend: one per arm.
    match conn.concrete() {
        Concrete::Postgres(pg) => {
            row.select(SubscriptionRow::as_select())
                .for_update()
                .get_result(pg)
                .await
        }
        Concrete::Sqlite(lite) => {
            row.select(SubscriptionRow::as_select())
                .get_result(lite)
                .await
        }
    }
    .optional()
}

/// The stored status of the delivery `delivery` of the subscription `subscription`, its row
/// locked like [`lock_subscription`]'s (so that neither a purge nor a claim moves it
/// between this read and the requeue's write); `None` when the subscription has no such
/// delivery.
async fn lock_delivery(
    conn: &mut impl Conn,
    delivery: DbId,
    subscription: &str,
) -> QueryResult<Option<String>> {
    let status = outbox::table
        .filter(outbox::id.eq(delivery))
        .filter(outbox::subscription_id.eq(subscription.to_owned()))
        .select(outbox::status);
    match conn.concrete() {
        Concrete::Postgres(pg) => status.for_update().get_result(pg).await.optional(),
        Concrete::Sqlite(lite) => status.get_result(lite).await.optional(),
    }
}

/// `q` (`webhook_subscriptions`, boxed) narrowed to the owner groups `groups` (`None`:
/// every subscription; those for every process have no group and match no list).
fn scoped<'a, DB>(
    q: webhook_subscriptions::BoxedQuery<'a, DB>,
    groups: Option<&[String]>,
) -> webhook_subscriptions::BoxedQuery<'a, DB>
where
    DB: Sql,
    str: ToSql<Text, DB>,
    dsl::EqAny<webhook_subscriptions::owner_group, Vec<String>>: QueryFragment<DB>,
{
    match groups {
        Some(groups) => q.filter(webhook_subscriptions::owner_group.eq_any(groups.to_vec())),
        None => q,
    }
}

#[async_trait]
impl WebhookStore for Db {
    async fn insert(
        &self,
        subscription: &Subscription,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let row = SubscriptionRow::of(subscription, now);
        with_db!(self, None, async |conn| {
            diesel::insert_into(webhook_subscriptions::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(SUBSCRIPTION)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: SubscriptionId) -> Result<Option<Subscription>, RepoError> {
        let id = id.to_string();
        with_db!(self, ReadOne, async |conn| {
            let row = webhook_subscriptions::table
                .find(&id)
                .select(SubscriptionRow::as_select())
                .first::<SubscriptionRow>(conn)
                .await
                .optional()?;
            row.map(SubscriptionRow::into_subscription).transpose()
        })
        .await
    }

    async fn list<'a>(
        &self,
        groups: Option<&'a [String]>,
        page: &PageRequest<WebhookSort>,
    ) -> Result<Page<Subscription>, RepoError> {
        with_db!(self, Replica, async |conn| {
            let all = || scoped(webhook_subscriptions::table.into_boxed::<Backend>(), groups);
            let count: i64 = all().count().get_result(conn).await?;
            let mut q = all().select(SubscriptionRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    WebhookSort::CreatedAt => sorted(q, dir, webhook_subscriptions::created_at),
                    WebhookSort::Url => sorted(q, dir, webhook_subscriptions::url),
                };
            }
            let rows = page_of(q, webhook_subscriptions::id, page)
                .load::<SubscriptionRow>(conn)
                .await?;
            let content = rows
                .into_iter()
                .map(SubscriptionRow::into_subscription)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }

    async fn modify(
        &self,
        id: SubscriptionId,
        change: SubscriptionChange,
    ) -> Result<Subscription, RepoError> {
        let id = id.to_string();
        // The body runs once; the `Option` lets the closure be moved out of it.
        let mut change = Some(change);
        with_db!(self, Write, async |conn| {
            let Some(stored) = lock_subscription(conn, &id).await? else {
                return Err(RepoError::NotFound(Missing::Subscription).into());
            };
            let mut subscription = stored.into_subscription()?;
            if let Some(change) = change.take() {
                change(&mut subscription);
            }
            diesel::update(webhook_subscriptions::table.find(&id))
                .set(&SubscriptionChanges::of(&subscription))
                .execute(conn)
                .await?;
            Ok(subscription)
        })
        .await
    }

    async fn delete(&self, id: SubscriptionId, _now: OffsetDateTime) -> Result<bool, RepoError> {
        let id = id.to_string();
        with_db!(self, Write, async |conn| {
            // Locked first: an attempt being recorded finishes before, or finds it gone.
            if lock_subscription(conn, &id).await?.is_none() {
                return Ok(false);
            }
            diesel::delete(
                webhook_attempts::table.filter(webhook_attempts::subscription_id.eq(&id)),
            )
            .execute(conn)
            .await?;
            diesel::delete(webhook_subscriptions::table.find(&id))
                .execute(conn)
                .await?;
            // Nowhere to deliver them any more. A dispatcher holding one of them cuts its
            // delivery off when its next renewal no longer names the row, or finds its lease
            // gone when it settles it.
            let pending: &'static str = PENDING;
            diesel::update(
                outbox::table
                    .filter(outbox::subscription_id.eq(&id))
                    .filter(outbox::status.eq(pending)),
            )
            .set((
                outbox::status.eq(FAILED),
                outbox::last_error.eq(Some(DELETED_ERROR)),
                no_lease(),
            ))
            .execute(conn)
            .await?;
            Ok(true)
        })
        .await
    }

    async fn record_attempt(
        &self,
        attempt: &DeliveryAttempt,
        effect: AttemptEffect,
    ) -> Result<bool, RepoError> {
        let row = AttemptRow::of(attempt);
        let id = attempt.subscription_id.to_string();
        with_db!(self, Write, async |conn| {
            let Some(stored) = lock_subscription(conn, &id).await? else {
                return Ok(false);
            };
            let mut subscription = stored.into_subscription()?;
            diesel::insert_into(webhook_attempts::table)
                .values(&row)
                .execute(conn)
                .await
                .unique_as(ATTEMPT)?;
            let disabled =
                subscription.record_attempt(attempt.succeeded, effect, attempt.attempted_at);
            diesel::update(webhook_subscriptions::table.find(&id))
                .set((
                    webhook_subscriptions::enabled.eq(subscription.enabled),
                    webhook_subscriptions::failing_since
                        .eq(subscription.failing_since.map(db_time)),
                ))
                .execute(conn)
                .await?;
            Ok(disabled)
        })
        .await
    }

    async fn requeue(
        &self,
        id: SubscriptionId,
        delivery: Uuid,
        now: OffsetDateTime,
    ) -> Result<Option<OutboxState>, RepoError> {
        let (id, delivery, now) = (id.to_string(), DbId(delivery), db_time(now));
        with_db!(self, Write, async |conn| {
            let Some(status) = lock_delivery(conn, delivery, &id).await? else {
                return Ok(None);
            };
            let state = outbox_state(&status)?;
            // A pending delivery is on its way already: left as it is.
            if state != OutboxState::Pending {
                diesel::update(outbox::table.find(delivery))
                    .set((
                        outbox::status.eq(PENDING),
                        outbox::next_attempt_at.eq(now),
                        outbox::queued_at.eq(now),
                        outbox::sent_at.eq(None::<time::PrimitiveDateTime>),
                        no_lease(),
                    ))
                    .execute(conn)
                    .await?;
            }
            Ok(Some(state))
        })
        .await
    }

    async fn attempts(
        &self,
        id: SubscriptionId,
        page: &PageRequest<AttemptSort>,
    ) -> Result<Page<DeliveryAttempt>, RepoError> {
        let id = id.to_string();
        with_db!(self, Replica, async |conn| {
            let all = || {
                webhook_attempts::table
                    .filter(webhook_attempts::subscription_id.eq(id.clone()))
                    .into_boxed::<Backend>()
            };
            let count: i64 = all().count().get_result(conn).await?;
            let mut q = all().select(AttemptRow::as_select());
            for &(field, dir) in &page.sort {
                q = match field {
                    AttemptSort::AttemptedAt => sorted(q, dir, webhook_attempts::attempted_at),
                };
            }
            let rows = page_of(q, webhook_attempts::id, page)
                .load::<AttemptRow>(conn)
                .await?;
            let content = rows
                .into_iter()
                .map(AttemptRow::into_attempt)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::new(content, total(count), page))
        })
        .await
    }
}
