-- Webhooks (PRODUCT.md section 12): subscriptions, the log of their delivery attempts, and
-- outbox rows of a second channel. A delivery is an outbox row written in the transaction of
-- the change it tells about, so it gets the leases, retries, give-up and retention rules of
-- emails, and none exists for a change that rolled back.

-- events: the subscribed event types' names separated by commas; '' means every type.
-- secret: the signing secret in its whsec_ form. Signing needs it in clear (an HMAC key
-- cannot be stored as a hash), so it is protected as the service's other secrets are: by
-- whoever may read this database. previous_secret signs beside it until
-- previous_secret_until (the 24 h after a rotation).
-- failing_since: when the current run of failed deliveries began (NULL after a success);
-- 72 h of it disables the subscription.
CREATE TABLE webhook_subscriptions (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    events                TEXT NOT NULL,
    owner_group           TEXT,
    description           TEXT,
    enabled               BOOLEAN NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until TIMESTAMP,
    failing_since         TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    -- A previous secret always has the end of its overlap.
    CONSTRAINT webhook_subscriptions_previous_secret
        CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL))
);
-- Every change with a webhook event reads the enabled subscriptions of its owner group and
-- those for every process (owner_group NULL).
CREATE INDEX webhook_subscriptions_delivery ON webhook_subscriptions (enabled, owner_group);

-- One row per attempt (GET /webhooks/{id}/deliveries). delivery_id is the webhook-id: the
-- outbox row's id, or a ping's own id (event_type NULL). status_code is NULL when no answer
-- came; answer holds the first 1 KiB of the target's body. Deleted with the subscription.
CREATE TABLE webhook_attempts (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    delivery_id     TEXT NOT NULL,
    event_type      TEXT,
    attempted_at    TIMESTAMP NOT NULL,
    succeeded       BOOLEAN NOT NULL,
    status_code     INTEGER,
    duration_ms     BIGINT NOT NULL,
    answer          TEXT,
    error           TEXT
);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts (subscription_id, attempted_at);
-- The log is kept as long as sent outbox rows (OUTBOX_KEEP_SENT): the hourly purge deletes
-- attempts by age.
CREATE INDEX webhook_attempts_age ON webhook_attempts (attempted_at);

-- A webhook row has a subscription instead of a recipient address (subscription_id, no
-- foreign key: a delivery stays listed, failed, after its subscription is deleted, until
-- retention). SQLite can neither drop a NOT NULL constraint nor replace a check
-- constraint, so the table is rebuilt as 2026-11-28-000002_checkpoint_mail rebuilt it:
-- with every column and every index of the earlier migrations (outbox_sent of
-- 2026-11-29-000001_outbox_retention included; a later column or index of outbox must be
-- added here too if this migration is reordered after it).
CREATE TABLE outbox_new (
    id              TEXT PRIMARY KEY,
    event_type      TEXT,
    role            TEXT,
    to_email        TEXT,
    language        TEXT,
    process_id      TEXT,
    step_id         TEXT,
    signer_id       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    channel         TEXT NOT NULL DEFAULT 'EMAIL',
    lease_token     TEXT,
    queued_at       TIMESTAMP NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'NOTIFICATION',
    body            TEXT,
    subscription_id TEXT,
    -- Each kind has exactly the columns it needs: emails an address and no subscription,
    -- webhook deliveries the event, its process, the body as sent and the subscription.
    CONSTRAINT outbox_kind_columns CHECK (
        (kind = 'NOTIFICATION' AND event_type IS NOT NULL AND role IS NOT NULL
            AND process_id IS NOT NULL AND body IS NULL
            AND to_email IS NOT NULL AND subscription_id IS NULL AND channel = 'EMAIL')
        OR (kind = 'AUDIT_CHECKPOINT' AND event_type IS NULL AND role IS NULL
            AND process_id IS NULL AND body IS NOT NULL
            AND to_email IS NOT NULL AND subscription_id IS NULL AND channel = 'EMAIL')
        OR (kind = 'WEBHOOK_EVENT' AND event_type IS NOT NULL AND role IS NULL
            AND process_id IS NOT NULL AND body IS NOT NULL
            AND to_email IS NULL AND subscription_id IS NOT NULL AND channel = 'WEBHOOK')
    )
);
INSERT INTO outbox_new (id, event_type, role, to_email, language, process_id, step_id,
    signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, last_error,
    created_at, sent_at, channel, lease_token, queued_at, kind, body)
SELECT id, event_type, role, to_email, language, process_id, step_id,
    signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, last_error,
    created_at, sent_at, channel, lease_token, queued_at, kind, body
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_lease_token ON outbox (lease_token);
CREATE INDEX outbox_listing ON outbox (status, channel, created_at);
CREATE INDEX outbox_sent ON outbox (status, sent_at);
-- Deleting a subscription fails its pending deliveries; a retry finds a delivery by id and
-- subscription. Emails stay out of the index.
CREATE INDEX outbox_subscription ON outbox (subscription_id, status)
    WHERE subscription_id IS NOT NULL;
