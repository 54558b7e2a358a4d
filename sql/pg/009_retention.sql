-- 009_retention, PostgreSQL variant of sql/009_retention.sql (R10.2, issue
-- 17 item 1): the same rules as PL/pgSQL triggers.  Nothing archived is
-- deleted before its retention date and nothing of the audit trail is
-- rewritten (R9.2, R9.3, R2.6; issue 8).  The PostgreSQL driver runs this
-- file instead of sql/009_retention.sql; keep the two in step.
--
-- PostgreSQL adds what SQLite has not: TRUNCATE skips row triggers, so the
-- tables that are never rewritten refuse TRUNCATE as well; and the service
-- may run as a role without UPDATE, DELETE or TRUNCATE on the audit tables
-- (deploy/postgresql-roles.sql, docs/OPERATIONS.md), so that not even a
-- bug of llave's can drop these triggers.  As in SQLite, someone who owns
-- the tables can drop a trigger: that is what the sealed audit chain and
-- `llave archive verify` detect.
--
-- 15 years = 473354280 s (15 x 365.2425 days), CPS §4.2.1 / §5.5.2.

-- BEFORE UPDATE / TRUNCATE: refuses with the message TG_ARGV[0].
CREATE FUNCTION lv_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;

-- BEFORE DELETE: refuses with TG_ARGV[2] while the Unix time in column
-- TG_ARGV[0] plus TG_ARGV[1] seconds is still in the future.
CREATE FUNCTION lv_retained() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    until BIGINT := (to_jsonb(OLD) ->> TG_ARGV[0])::BIGINT
                    + TG_ARGV[1]::BIGINT;
BEGIN
    IF until > EXTRACT(EPOCH FROM now())::BIGINT THEN
        RAISE EXCEPTION '%', TG_ARGV[2] USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;

-- audit_log.time is ISO 8601 text in UTC ("2026-01-01T00:00:00.000Z").
CREATE FUNCTION lv_audit_retained() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.time::timestamptz > now() - interval '5478.6375 days' THEN
        RAISE EXCEPTION 'audit entries are retained 15 years (R9.2)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;

-- The audit trail is append-only (R9.2): never updated; an entry may go
-- only 15 years after it was written.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('audit entries are never rewritten (R9.2)');
CREATE TRIGGER audit_log_retained BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION lv_audit_retained();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION
    lv_refuse('audit entries are retained 15 years (R9.2)');
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('audit seals are never rewritten (R9.2)');
CREATE TRIGGER audit_seals_retained BEFORE DELETE ON audit_seals
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('sealed_at', '473354280',
                'audit seals are retained 15 years (R9.2)');
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
FOR EACH STATEMENT EXECUTE FUNCTION
    lv_refuse('audit seals are retained 15 years (R9.2)');

CREATE TRIGGER archive_items_no_update BEFORE UPDATE ON archive_items
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('archive records are never rewritten (R9.3)');
CREATE TRIGGER archive_items_retained BEFORE DELETE ON archive_items
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('retain_until', '0',
                'archived until its retention date (R9.3)');
CREATE TRIGGER archive_items_no_truncate BEFORE TRUNCATE ON archive_items
FOR EACH STATEMENT EXECUTE FUNCTION
    lv_refuse('archived until its retention date (R9.3)');

-- Certificates: status kept 15 years after expiry (R6.4, CPS §4.9.9); the
-- DER itself never changes.
CREATE TRIGGER certs_retained BEFORE DELETE ON certs
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('not_after', '473354280',
                'certificates are retained 15 years after expiry (R9.3)');
CREATE TRIGGER certs_der_fixed BEFORE UPDATE OF der ON certs
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('an issued certificate is never rewritten (R9.3)');
CREATE TRIGGER cas_retained BEFORE DELETE ON cas
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('not_after', '473354280',
                'CA certificates are retained 15 years after expiry (R9.3)');
CREATE TRIGGER cas_der_fixed BEFORE UPDATE OF cert_der ON cas
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('a CA certificate is never rewritten (R9.3)');
CREATE TRIGGER crls_retained BEFORE DELETE ON crls
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('this_update', '473354280', 'CRLs are retained 15 years (R9.3)');
CREATE TRIGGER crls_no_update BEFORE UPDATE ON crls
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('a published CRL is never rewritten (R9.3)');

-- Registration evidence (R2.6, CPS §4.2.1) and requests (CPS §5.5.1).
CREATE TRIGGER registrations_retained BEFORE DELETE ON registrations
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('retain_until', '0',
                'registration evidence is retained 15 years (R2.6)');
CREATE TRIGGER registrations_no_update BEFORE UPDATE ON registrations
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('registration evidence is never rewritten (R2.6)');
CREATE TRIGGER cert_requests_retained BEFORE DELETE ON cert_requests
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('created_at', '473354280',
                'certificate requests are retained 15 years (R9.3)');
CREATE TRIGGER revocation_requests_retained BEFORE DELETE ON revocation_requests
FOR EACH ROW EXECUTE FUNCTION
    lv_retained('created_at', '473354280',
                'revocation requests are retained 15 years (R9.3)');
CREATE TRIGGER revocation_requests_no_update BEFORE UPDATE ON revocation_requests
FOR EACH ROW EXECUTE FUNCTION
    lv_refuse('revocation requests are never rewritten (R9.3)');
