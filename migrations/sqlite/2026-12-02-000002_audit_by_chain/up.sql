-- A process's audit events are found by their chain (audit_events_chain_key_sequence_key:
-- the chain key is the process id of every row that has one), so process_id needs no index
-- of its own, which every appended row paid for (issue 15).
DROP INDEX audit_events_process_id;
