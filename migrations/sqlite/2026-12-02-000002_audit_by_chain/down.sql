CREATE INDEX audit_events_process_id ON audit_events (process_id);
