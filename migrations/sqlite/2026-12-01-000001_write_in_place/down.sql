DROP INDEX processes_live_group;
