-- 008_sign: remote signing (issue 7; rules in src/sign, SQL in
-- src/store/store_sign.c).  Portable to PostgreSQL (BIGINT, BYTEA, TEXT).

-- Relying applications of the transaction API (R5.6).  secret_hash: SHA-256
-- (hex) of the 256-bit random client secret, shown once at registration.
CREATE TABLE sign_apps (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Signature transactions (R5.6, modelled on the Cl@ve Firma gateway).
-- cert_serial: the signing credential; '' while the certificate is to be
-- generated at this first signature (R5.3).  accept_serial: the
-- certificate whose acceptance sheet (R5.4) is signed in this batch, ''
-- when none.  otp_id: the OTP bound to the batch (R3.3), '' until sent.
CREATE TABLE sign_transactions (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES sign_apps (client_id),
    citizen_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    digest_alg TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'otp_sent', 'signed',
                                         'failed', 'ended')),
    cert_serial TEXT NOT NULL DEFAULT '',
    accept_serial TEXT NOT NULL DEFAULT '',
    redirect_ok TEXT NOT NULL,
    redirect_error TEXT NOT NULL,
    otp_id TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    signed_at BIGINT NOT NULL DEFAULT 0,
    ended_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sign_transactions_by_app ON sign_transactions (app_id, created_at);

-- The documents of a transaction, in order; signature is the raw PKCS#1
-- v1.5 signature over digest once the citizen authorized (R5.7).
CREATE TABLE sign_documents (
    tx_id TEXT NOT NULL REFERENCES sign_transactions (id),
    seq INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    digest BYTEA NOT NULL,
    signature BYTEA,
    PRIMARY KEY (tx_id, seq)
);

-- CSC signature activation data (R10.4): only SHA-256 of the SAD is kept,
-- with the credential (certificate serial), the digests it authorizes
-- (laid end to end) and how many signatures it still allows.  Shared by
-- every llaved on the database, so a SAD issued by one is honoured, once,
-- by another.
CREATE TABLE sign_sads (
    sad_hash TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    digest_alg TEXT NOT NULL,
    hashes BYTEA NOT NULL,
    remaining INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The OTP sent for a CSC credential (credentials/sendOTP), one per citizen
-- and credential.  hashes: the digests the OTP is bound to (empty when the
-- client named none, see csc_otp_hashes).
CREATE TABLE sign_csc_otps (
    citizen_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    otp_id TEXT NOT NULL,
    digest_alg TEXT NOT NULL,
    hashes BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (citizen_id, serial)
);

-- Certificate acceptance (R5.4, CPS §4.4.2): the acceptance sheet the
-- citizen signed with the certificate's own key under password + OTP.
CREATE TABLE sign_acceptances (
    serial TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    sheet TEXT NOT NULL,
    digest_alg TEXT NOT NULL,
    signature BYTEA NOT NULL,
    channel TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);
