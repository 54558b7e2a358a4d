-- 011_activation: signature activation records (issue 12; R5.2, CEN EN
-- 419 241-1 "SAD": signature activation data).  The front end writes one
-- after it verified the citizen's password and an OTP bound to the digests
-- (src/store/store_activation.c: store_activation_create); llave-keyd, the
-- signature activation module, consumes it with one conditional UPDATE
-- before it signs (src/keyd/keyd_activation.c).  Portable like 001
-- (BIGINT Unix seconds, BYTEA, TEXT).
--
-- id: SHA-256 (hex) of the 256-bit random reference handed to keyd; the
-- reference itself is never stored.  binding: SHA-256 over
-- "llave-activation-v2" 0 key_id 0 md 0 n (8 bytes big-endian) digests,
-- so the record authorizes exactly one key, one algorithm and one list of
-- digests in one order.  used_at/used_by: when keyd consumed it and for
-- whom (NULL while unused); refusal: why a presentation that did not
-- match burnt it (NULL when it signed).
CREATE TABLE sign_activations (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    md TEXT NOT NULL CHECK (md IN ('sha256', 'sha384', 'sha512')),
    n INTEGER NOT NULL CHECK (n BETWEEN 1 AND 1000),
    binding BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    used_at BIGINT,
    used_by TEXT,
    refusal TEXT
);
CREATE INDEX sign_activations_by_expiry ON sign_activations (expires_at);
