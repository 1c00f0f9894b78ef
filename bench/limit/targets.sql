-- What the limit scripts pick from (bench/vs-limit.sh): one row per seeded process, numbered,
-- with its first step's first signer and that signer's personal code, and the owner groups.
-- Built from the service's own tables after seeding, so the limit runs on the same data.
DROP TABLE IF EXISTS bench_targets, bench_groups;
CREATE TABLE bench_targets AS
SELECT row_number() OVER (ORDER BY p.created_at, p.id) AS n,
       p.id AS process_id, e.id AS entry_id, e.personal_code_norm AS code, e.signer_country AS country
  FROM processes p
  JOIN steps s ON s.process_id = p.id AND s.process_order = 1
  JOIN entries e ON e.step_id = s.id AND e.position = 0
 WHERE p.deleted_at IS NULL;
ALTER TABLE bench_targets ADD PRIMARY KEY (n);
CREATE TABLE bench_groups AS
SELECT row_number() OVER (ORDER BY owner_group) AS n, owner_group
  FROM (SELECT DISTINCT owner_group FROM processes WHERE owner_group IS NOT NULL) g;
ALTER TABLE bench_groups ADD PRIMARY KEY (n);
ANALYZE bench_targets;
ANALYZE bench_groups;
