-- 007_audit_seal: signed seals over the audit chain and the archive of
-- records kept for 15 years (issue 8: R9.1-R9.3, CPS §5.4, §5.5).
-- Portable like 001 (BIGINT Unix seconds, BYTEA, TEXT, no AUTOINCREMENT).

-- A seal covers the audit trail up to entry `seq`: `hash` is that entry's
-- hash (the chain head), `signature` is the audit-seal key's signature over
-- the seal message "llave-audit-seal/1 seq=<seq> hash=<hash>" and `tst` an
-- RFC 3161 TimeStampResp of our own TSA over the same message (src/ca/
-- audit_seal.c writes them, src/audit/audit_seal.c verifies them).  `signer`
-- names the cas row of the audit-seal certificate.  id is 1, 2, 3, ...
-- assigned by the writer inside its transaction, so a gap means a deleted
-- seal.
CREATE TABLE audit_seals (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    sealed_at BIGINT NOT NULL,
    signer TEXT NOT NULL,
    signature BYTEA NOT NULL,
    tst BYTEA NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX audit_seals_by_seq ON audit_seals (seq);

-- R9.3, CPS §5.5: every archived record (certificates, CA certificates,
-- CRLs, registration evidence, certificate and revocation requests) with
-- the SHA-256 of its content when it was archived and the date before
-- which it must not be deleted.  `batch` is the sequence number of the
-- audit entry ("archive.record") that lists the batch's digest, so the
-- hashes themselves are covered by the sealed audit trail.
CREATE TABLE archive_items (
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    archived_at BIGINT NOT NULL,
    retain_until BIGINT NOT NULL,
    batch BIGINT NOT NULL,
    PRIMARY KEY (kind, ref)
);
CREATE INDEX archive_items_by_batch ON archive_items (batch);
