-- Keyed audit chain and stored heads (PRODUCT.md section 11).
-- Every row records the id of the key its HMAC was made with; rows written before this
-- migration keep NULL and their plain SHA-256 hash.
ALTER TABLE audit_events ADD COLUMN key_id TEXT;

-- audit_chains now holds each chain's head: the number of rows and the last row's hash,
-- updated in the same transaction as the rows. unkeyed_length is the prefix of rows written
-- before keying, recorded here once: only those rows may verify as plain SHA-256.
ALTER TABLE audit_chains ADD COLUMN length BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_chains ADD COLUMN head_hash TEXT;
ALTER TABLE audit_chains ADD COLUMN unkeyed_length BIGINT NOT NULL DEFAULT 0;

-- Every chain that has rows, and every process (a process's chain must exist), gets a head.
INSERT OR IGNORE INTO audit_chains (chain_key)
SELECT DISTINCT chain_key FROM audit_events;
INSERT OR IGNORE INTO audit_chains (chain_key)
SELECT id FROM processes;

UPDATE audit_chains
SET length = (SELECT MAX(sequence) + 1 FROM audit_events e WHERE e.chain_key = audit_chains.chain_key),
    head_hash = (SELECT hash FROM audit_events e WHERE e.chain_key = audit_chains.chain_key
                 ORDER BY sequence DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM audit_events e WHERE e.chain_key = audit_chains.chain_key);
UPDATE audit_chains SET unkeyed_length = length;
