-- 003_ocsp: pre-signed OCSP responses (R6.4, R10.1; DESIGN.md "Status").
--
-- The responder answers a single-certificate request without nonce from this
-- table: one indexed lookup joined to certs (so a status change that has not
-- been re-signed yet is noticed) and no private-key operation.  Rows are
-- derived data: src/ca/ocsp.c signs them lazily on the first request, the
-- refresher in llaved fills missing ones and re-signs them well before
-- next_update, and a revocation re-signs its certificate's row at once.
--
-- One row per certificate and CertID hash algorithm: the CertID inside a
-- response must equal the request's (RFC 6960 §4.1.1, §4.2.1), and clients
-- use SHA-1 (the default nearly everywhere) or SHA-256.  cert_id keeps the
-- DER CertID signed into the response so that a request whose CertID differs
-- in encoding is never served a response that would not match it.
CREATE TABLE ocsp_responses (
    serial TEXT NOT NULL REFERENCES certs (serial),
    hash_alg TEXT NOT NULL,
    ca TEXT NOT NULL,
    cert_id BYTEA NOT NULL,
    cert_status INTEGER NOT NULL CHECK (cert_status IN (0, 1)),
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    response BYTEA NOT NULL,
    PRIMARY KEY (serial, hash_alg)
);

-- The refresher: responses whose nextUpdate comes closest.
CREATE INDEX ocsp_by_next_update ON ocsp_responses (next_update);
-- The refresher: certificates issued since its last pass that have no
-- response yet, without scanning the whole certs table each time.
CREATE INDEX ocsp_certs_by_created ON certs (created_at);
-- The refresher: certificates revoked since its last pass whose response
-- still says good (a revocation re-signed nothing while sealed, say).
CREATE INDEX ocsp_certs_by_revoked_at ON certs (revoked_at);
-- Re-signing every response of one CA (compromise drill, R6.5) pages
-- through its serials in order.
CREATE INDEX ocsp_certs_by_ca_serial ON certs (ca, serial);
