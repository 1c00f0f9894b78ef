-- Keyed audit chain and stored heads (PRODUCT.md section 11).
-- Every row records the id of the key its HMAC was made with; rows written before this
-- migration keep NULL and their plain SHA-256 hash.
ALTER TABLE audit_events ADD COLUMN key_id TEXT;

-- audit_chains, until now only the lock row of a chain, also holds its head: the number of
-- rows and the last row's hash, updated in the same transaction as the rows. unkeyed_length
-- is the prefix of rows written before keying, recorded here once: only those rows may verify
-- as plain SHA-256.
ALTER TABLE audit_chains ADD COLUMN length BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_chains ADD COLUMN head_hash TEXT;
ALTER TABLE audit_chains ADD COLUMN unkeyed_length BIGINT NOT NULL DEFAULT 0;

-- Every chain that has rows, and every process (a process's chain must exist), gets a head.
INSERT INTO audit_chains (chain_key)
SELECT DISTINCT chain_key FROM audit_events
ON CONFLICT DO NOTHING;
INSERT INTO audit_chains (chain_key)
SELECT id FROM processes
ON CONFLICT DO NOTHING;

UPDATE audit_chains c
SET length = t.length, unkeyed_length = t.length, head_hash = t.hash
FROM (
    SELECT e.chain_key, e.sequence + 1 AS length, e.hash
    FROM audit_events e
    JOIN (SELECT chain_key, MAX(sequence) AS last FROM audit_events GROUP BY chain_key) m
      ON m.chain_key = e.chain_key AND m.last = e.sequence
) t
WHERE t.chain_key = c.chain_key;
