DROP INDEX audit_events_customer_pseudonym;
ALTER TABLE audit_events DROP COLUMN customer_pseudonym;
