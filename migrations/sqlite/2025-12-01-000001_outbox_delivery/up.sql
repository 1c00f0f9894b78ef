-- Delivery by age, short fenced leases and channels (PRODUCT.md section 14).
-- channel: how a row is delivered (EMAIL; webhooks get their own).
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'EMAIL';
-- lease_token: the fencing token of the claim holding the row (fresh per claim); settling,
-- renewing and releasing a row require it.
ALTER TABLE outbox ADD COLUMN lease_token TEXT;
-- queued_at: when delivery (re)started; MAIL_GIVE_UP_AFTER counts from here. (SQLite adds a
-- NOT NULL column only with a default; every row gets its created_at right after.)
ALTER TABLE outbox ADD COLUMN queued_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE outbox SET queued_at = created_at;
CREATE INDEX outbox_lease_token ON outbox (lease_token);
CREATE INDEX outbox_listing ON outbox (status, channel, created_at);
