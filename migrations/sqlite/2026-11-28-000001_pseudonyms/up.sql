-- Audit rows name a person by a keyed pseudonym (PII_KEY) and a masked code, never by the
-- plaintext code (PRODUCT.md section 11). Rows written before this keep what they hold:
-- rewriting them would break their chains.
ALTER TABLE audit_events ADD COLUMN customer_pseudonym TEXT;
CREATE INDEX audit_events_customer_pseudonym ON audit_events (customer_pseudonym)
    WHERE customer_pseudonym IS NOT NULL;
