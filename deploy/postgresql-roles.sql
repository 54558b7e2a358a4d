-- PostgreSQL roles for llave (issue 17 item 1; docs/OPERATIONS.md
-- "PostgreSQL").  Run with psql as the database's owner, after `llave
-- init` (or `llave` of a new version) created or migrated the schema as
-- that owner:
--
--   psql -d llave -v service=llave_service -f deploy/postgresql-roles.sql
--
-- The owner role runs migrations only (llave init, upgrades).  llaved,
-- llave-keyd and the day-to-day `llave` commands connect as :service,
-- which may read and write every table but never UPDATE, DELETE or
-- TRUNCATE the records kept for 15 years: the audit trail and its seals,
-- the archive, published CRLs, registration evidence and revocation
-- requests (R9.2, R9.3, R2.6).  The triggers of sql/pg/009_retention.sql
-- refuse those changes for every role; without the privileges a service
-- role cannot even drop the triggers (it owns nothing).  Set its password
-- (or use peer/cert authentication in pg_hba.conf) separately.

SELECT format('CREATE ROLE %I LOGIN', :'service')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'service')
\gexec

GRANT USAGE ON SCHEMA public TO :"service";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO :"service";
-- The records that are appended and never changed.
REVOKE UPDATE, DELETE, TRUNCATE
    ON audit_log, audit_seals, archive_items, crls, registrations,
       revocation_requests
    FROM :"service";
-- Certificates and CAs change status, never their DER, and stay 15 years
-- after expiry (the triggers say so); the service may update them.
REVOKE DELETE, TRUNCATE ON certs, cas, cert_requests FROM :"service";
-- Migrations are the owner's: the service reads which ones ran.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM :"service";
