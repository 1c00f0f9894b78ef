DROP INDEX outbox_subscription;
DELETE FROM outbox WHERE kind = 'WEBHOOK_EVENT';
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_columns;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_columns CHECK (
    (kind = 'NOTIFICATION' AND event_type IS NOT NULL AND role IS NOT NULL
        AND process_id IS NOT NULL AND body IS NULL)
    OR (kind = 'AUDIT_CHECKPOINT' AND event_type IS NULL AND role IS NULL
        AND process_id IS NULL AND body IS NOT NULL)
);
ALTER TABLE outbox ALTER COLUMN to_email SET NOT NULL;
ALTER TABLE outbox DROP COLUMN subscription_id;
DROP TABLE webhook_attempts;
DROP TABLE webhook_subscriptions;
