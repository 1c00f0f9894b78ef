DROP INDEX processes_live_group;
ALTER TABLE entries RESET (fillfactor);
ALTER TABLE steps RESET (fillfactor);
ALTER TABLE processes RESET (fillfactor);
