-- Substring search (nameSearch, emailSearch, contact and template names) through trigram
-- indexes, when the server has pg_trgm and this role may create it. Without it the searches
-- still work (the same LIKE), only without an index.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm is available but this role may not create it: substring search runs without trigram indexes';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS processes_search_names_trgm ON processes USING gin (search_names gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS processes_search_emails_trgm ON processes USING gin (search_emails gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS contacts_name_lower_trgm ON contacts USING gin (name_lower gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS contacts_email_lower_trgm ON contacts USING gin (email_lower gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS templates_name_lower_trgm ON templates USING gin (name_lower gin_trgm_ops);
    END IF;
END
$$;
