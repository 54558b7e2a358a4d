-- 002_status: revocation details, CA revocation and change-over, CRLs and
-- the repository consent flag (issue 4: R6.1-R6.3, R6.5, R6.6, R8.1).
--
-- Portable to PostgreSQL like 001: ADD COLUMN with NOT NULL DEFAULT, BIGINT
-- Unix seconds, BYTEA for DER.

-- R6.1: who asked for a revocation and who processed it, and the optional
-- invalidity date (RFC 5280 §5.3.2).  0 / '' while the certificate is valid.
ALTER TABLE certs ADD COLUMN revocation_requester TEXT NOT NULL DEFAULT '';
ALTER TABLE certs ADD COLUMN revocation_authority TEXT NOT NULL DEFAULT '';
ALTER TABLE certs ADD COLUMN invalidity_date BIGINT NOT NULL DEFAULT 0;
-- R8.1: an issued certificate appears in the public repository only when
-- the person named consented; the time of that consent, 0 when none.
ALTER TABLE certs ADD COLUMN publish_consent_at BIGINT NOT NULL DEFAULT 0;

-- A subordinate CA revoked by its issuer (compromise, R6.5) is listed on
-- the issuer's CRL; reason is the RFC 5280 CRLReason code, -1 while valid.
ALTER TABLE cas ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cas ADD COLUMN revocation_reason INTEGER NOT NULL DEFAULT -1;
-- Incremented in the transaction of every status change a CA's CRL must
-- show; a CRL records the revision it covers, so "is the CRL behind?" is one
-- comparison (the CRL keeper of llaved uses it).
ALTER TABLE cas ADD COLUMN status_revision BIGINT NOT NULL DEFAULT 0;

-- Every CRL ever published, kept for the archive (R9.3).  crl_number is
-- monotonic per CA (RFC 5280 §5.2.3); next_update 0 marks the final CRL of a
-- compromised CA, which has no nextUpdate (R6.5).
CREATE TABLE crls (
    ca TEXT NOT NULL REFERENCES cas (name),
    crl_number BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    der BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ca, crl_number)
);

-- CRL generation reads the revoked, unexpired certificates of one CA from
-- the index alone.
CREATE INDEX certs_crl
    ON certs (ca, status, not_after, serial, revoked_at, revocation_reason,
              invalidity_date);
-- The repository lists consented certificates only.
CREATE INDEX certs_published ON certs (publish_consent_at);
