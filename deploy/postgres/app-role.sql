-- The role the Consentry server runs as on PostgreSQL, separate from the role that
-- owns the schema and runs migrations. Run as the owner, in the Consentry database,
-- after `consentry migrate`:
--
--   psql -d consentry -f deploy/postgres/app-role.sql
--   psql -d consentry -c "ALTER ROLE consentry_app PASSWORD 'a long random password'"
--
-- then serve with CONSENTRY_DATABASE_URL=postgres://consentry_app:...@host/consentry
-- and run later migrations with the owner's URL (`consentry migrate`) before starting
-- a new version.
--
-- The server may only add to the audit trail: it inserts events and reads them, but
-- cannot change or remove one, even with its own credentials and the triggers gone.
-- The chain heads it moves forward on each append; a head moved back is found by the
-- signed checkpoints. The approval history is kept the same way.

CREATE ROLE consentry_app LOGIN;
DO $$ BEGIN
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO consentry_app', current_database());
END $$;
GRANT USAGE ON SCHEMA public TO consentry_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO consentry_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO consentry_app;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM consentry_app;
REVOKE DELETE, TRUNCATE ON audit_chain_heads FROM consentry_app;
REVOKE UPDATE, DELETE, TRUNCATE ON study_approvals FROM consentry_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON seaql_migrations FROM consentry_app;
