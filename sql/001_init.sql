-- 001_init: certification authorities, certificates and the audit trail.
--
-- Written once for both back ends (R10.2): BIGINT for 64-bit integers
-- (times are Unix seconds), BYTEA for DER (SQLite stores bound blobs as
-- blobs whatever the declared type; BLOB would not exist in PostgreSQL),
-- no rowid, no AUTOINCREMENT.

-- The CA hierarchy and service certificates written by the ceremony.
-- seq keeps creation order portably (created_at has one-second ties).
CREATE TABLE cas (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    issuer TEXT NOT NULL,
    key_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    status TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    cert_der BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- End-entity certificates.  status: 0 valid, 1 revoked; revocation_reason
-- is the RFC 5280 CRLReason code, -1 while valid.
CREATE TABLE certs (
    serial TEXT PRIMARY KEY,
    ca TEXT NOT NULL REFERENCES cas (name),
    profile TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subscriber_id TEXT NOT NULL,
    subject_dn TEXT NOT NULL,
    key_id TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    status INTEGER NOT NULL CHECK (status IN (0, 1)),
    revoked_at BIGINT NOT NULL DEFAULT 0,
    revocation_reason INTEGER NOT NULL DEFAULT -1,
    test INTEGER NOT NULL DEFAULT 0 CHECK (test IN (0, 1)),
    der BYTEA NOT NULL
);

-- R2.9: "how many valid certificates of this profile does this subject
-- hold for this subscriber" is answered from the index alone.
CREATE INDEX certs_by_subject
    ON certs (subject_id, subscriber_id, profile, status, not_after);
-- CRL generation: the revoked certificates of one CA.
CREATE INDEX certs_by_ca_status ON certs (ca, status);

-- The hash-chained audit trail (R9.1; chain logic in src/audit).  seq is
-- assigned by the writer inside its transaction, never by the database, so
-- that a gap always means a deleted entry.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    object TEXT NOT NULL,
    result TEXT NOT NULL,
    details TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
