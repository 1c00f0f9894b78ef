-- Saves update the rows a command changed in place (issue 15). Room left on each page lets
-- PostgreSQL keep the new version of a row on its page (a HOT update): no new entry in any
-- index, the trigram ones included, when no indexed column changed.
ALTER TABLE processes SET (fillfactor = 80);
ALTER TABLE steps SET (fillfactor = 80);
ALTER TABLE entries SET (fillfactor = 80);

-- A list's count and page of a group read only this index (index-only once vacuum has
-- marked the pages all-visible), never the heap pages of deleted processes.
CREATE INDEX processes_live_group ON processes (owner_group, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
