-- 009_retention: nothing archived is deleted before its retention date and
-- nothing of the audit trail is rewritten (R9.2, R9.3, R2.6; issue 8).
--
-- SQLite dialect: triggers cannot be written once for both back ends.  The
-- PostgreSQL back end (R10.2) runs sql/pg/009_retention.sql instead, the
-- same rules as PL/pgSQL trigger functions; keep the two in step.  The guards stop mistakes
-- and casual edits; someone who can drop a trigger can also edit the file,
-- which is what the sealed audit chain and `llave archive verify` detect.
--
-- 15 years = 473354280 s (15 x 365.2425 days), CPS §4.2.1 / §5.5.2.

-- The audit trail is append-only (R9.2): never updated; an entry may go
-- only 15 years after it was written.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit entries are never rewritten (R9.2)'); END;
CREATE TRIGGER audit_log_retained BEFORE DELETE ON audit_log
WHEN julianday(OLD.time) > julianday('now') - 5478.6375
BEGIN SELECT RAISE(ABORT, 'audit entries are retained 15 years (R9.2)'); END;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit seals are never rewritten (R9.2)'); END;
CREATE TRIGGER audit_seals_retained BEFORE DELETE ON audit_seals
WHEN OLD.sealed_at + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'audit seals are retained 15 years (R9.2)'); END;

CREATE TRIGGER archive_items_no_update BEFORE UPDATE ON archive_items
BEGIN SELECT RAISE(ABORT, 'archive records are never rewritten (R9.3)'); END;
CREATE TRIGGER archive_items_retained BEFORE DELETE ON archive_items
WHEN OLD.retain_until > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'archived until its retention date (R9.3)'); END;

-- Certificates: status kept 15 years after expiry (R6.4, CPS §4.9.9); the
-- DER itself never changes.
CREATE TRIGGER certs_retained BEFORE DELETE ON certs
WHEN OLD.not_after + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'certificates are retained 15 years after expiry (R9.3)'); END;
CREATE TRIGGER certs_der_fixed BEFORE UPDATE OF der ON certs
BEGIN SELECT RAISE(ABORT, 'an issued certificate is never rewritten (R9.3)'); END;
CREATE TRIGGER cas_retained BEFORE DELETE ON cas
WHEN OLD.not_after + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'CA certificates are retained 15 years after expiry (R9.3)'); END;
CREATE TRIGGER cas_der_fixed BEFORE UPDATE OF cert_der ON cas
BEGIN SELECT RAISE(ABORT, 'a CA certificate is never rewritten (R9.3)'); END;
CREATE TRIGGER crls_retained BEFORE DELETE ON crls
WHEN OLD.this_update + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'CRLs are retained 15 years (R9.3)'); END;
CREATE TRIGGER crls_no_update BEFORE UPDATE ON crls
BEGIN SELECT RAISE(ABORT, 'a published CRL is never rewritten (R9.3)'); END;

-- Registration evidence (R2.6, CPS §4.2.1) and requests (CPS §5.5.1).
CREATE TRIGGER registrations_retained BEFORE DELETE ON registrations
WHEN OLD.retain_until > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'registration evidence is retained 15 years (R2.6)'); END;
CREATE TRIGGER registrations_no_update BEFORE UPDATE ON registrations
BEGIN SELECT RAISE(ABORT, 'registration evidence is never rewritten (R2.6)'); END;
CREATE TRIGGER cert_requests_retained BEFORE DELETE ON cert_requests
WHEN OLD.created_at + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'certificate requests are retained 15 years (R9.3)'); END;
CREATE TRIGGER revocation_requests_retained BEFORE DELETE ON revocation_requests
WHEN OLD.created_at + 473354280 > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN SELECT RAISE(ABORT, 'revocation requests are retained 15 years (R9.3)'); END;
CREATE TRIGGER revocation_requests_no_update BEFORE UPDATE ON revocation_requests
BEGIN SELECT RAISE(ABORT, 'revocation requests are never rewritten (R9.3)'); END;
