DROP TABLE outbox;
DROP TABLE audit_chains;
DROP TABLE audit_events;
