DROP TABLE job_runs;
DROP TABLE auth_attempts;
