DROP INDEX IF EXISTS templates_name_lower_trgm;
DROP INDEX IF EXISTS contacts_email_lower_trgm;
DROP INDEX IF EXISTS contacts_name_lower_trgm;
DROP INDEX IF EXISTS processes_search_emails_trgm;
DROP INDEX IF EXISTS processes_search_names_trgm;
