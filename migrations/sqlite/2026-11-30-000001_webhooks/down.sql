CREATE TABLE outbox_old (
    id              TEXT PRIMARY KEY,
    event_type      TEXT,
    role            TEXT,
    to_email        TEXT NOT NULL,
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
    CONSTRAINT outbox_kind_columns CHECK (
        (kind = 'NOTIFICATION' AND event_type IS NOT NULL AND role IS NOT NULL
            AND process_id IS NOT NULL AND body IS NULL)
        OR (kind = 'AUDIT_CHECKPOINT' AND event_type IS NULL AND role IS NULL
            AND process_id IS NULL AND body IS NOT NULL)
    )
);
INSERT INTO outbox_old (id, event_type, role, to_email, language, process_id, step_id,
    signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, last_error,
    created_at, sent_at, channel, lease_token, queued_at, kind, body)
SELECT id, event_type, role, to_email, language, process_id, step_id,
    signer_id, status, attempts, next_attempt_at, lease_owner, lease_until, last_error,
    created_at, sent_at, channel, lease_token, queued_at, kind, body
FROM outbox WHERE kind <> 'WEBHOOK_EVENT';
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_lease_token ON outbox (lease_token);
CREATE INDEX outbox_listing ON outbox (status, channel, created_at);
CREATE INDEX outbox_sent ON outbox (status, sent_at);
DROP TABLE webhook_attempts;
DROP TABLE webhook_subscriptions;
