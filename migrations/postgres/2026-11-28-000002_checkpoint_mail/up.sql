-- Audit checkpoint emails (AUDIT_CHECKPOINT_CRON, PRODUCT.md section 11) go through the
-- outbox like notifications, so they get the same leases, retries and give-up rules.
-- kind: NOTIFICATION (rendered from the notification matrix about a process) or
-- AUDIT_CHECKPOINT (no process, no matrix: body holds the published checkpoint
-- {createdAt, chainCount, root} as JSON, rendered as plain text by the smtp adapter).
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'NOTIFICATION';
ALTER TABLE outbox ADD COLUMN body TEXT;
ALTER TABLE outbox ALTER COLUMN event_type DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN role DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN process_id DROP NOT NULL;
-- Each kind has exactly the columns it needs.
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_columns CHECK (
    (kind = 'NOTIFICATION' AND event_type IS NOT NULL AND role IS NOT NULL
        AND process_id IS NOT NULL AND body IS NULL)
    OR (kind = 'AUDIT_CHECKPOINT' AND event_type IS NULL AND role IS NULL
        AND process_id IS NULL AND body IS NOT NULL)
);
