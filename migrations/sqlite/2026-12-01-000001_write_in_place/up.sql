-- A list's count and page of a group read only this index, never the rows of deleted
-- processes (issue 15; PostgreSQL's migration of the same name also leaves room on its
-- pages for updates in place, which SQLite has no setting for).
CREATE INDEX processes_live_group ON processes (owner_group, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
