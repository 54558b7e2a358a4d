-- 005_auth: operator accounts, citizens' credentials, sessions and one-time
-- codes (issue 6; rules in src/auth, SQL in src/store/store_auth.c).
-- Portable to PostgreSQL (BIGINT, BYTEA, TEXT; no AUTOINCREMENT).

-- Trusted-role operators (R1.4, R3.6).  roles: comma-separated role names.
-- password_hash: Argon2id encoded string ($argon2id$v=19$m=...).
-- totp_secret: AES-256-GCM nonce || ciphertext || tag under DIR/auth.key,
-- AAD = login.  totp_last_step: the newest RFC 6238 time step accepted, so
-- a code is never accepted twice.
CREATE TABLE operators (
    login TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    totp_secret BYTEA NOT NULL,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Citizens' "Cl@ve permanente" credentials (R3.1-R3.5), keyed by the
-- citizen id ra/ assigns (no foreign key: 006_ra comes later and auth/
-- does not depend on ra/).  password_hash is '' until activation;
-- activation_hash is the HMAC-SHA256 (hex) of the pending activation code,
-- '' when none.
CREATE TABLE citizen_credentials (
    citizen_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE,
    mobile TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    password_set_at BIGINT NOT NULL DEFAULT 0,
    password_expires_at BIGINT NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    activation_hash TEXT NOT NULL DEFAULT '',
    activation_expires_at BIGINT NOT NULL DEFAULT 0,
    activation_attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Previous passwords (R3.2: no reuse).  seq grows per citizen.
CREATE TABLE password_history (
    citizen_id TEXT NOT NULL REFERENCES citizen_credentials (citizen_id),
    seq BIGINT NOT NULL,
    password_hash TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (citizen_id, seq)
);

-- Bearer sessions.  Only SHA-256 of the token is stored.
-- kind: 'operator' or 'citizen'; principal: login or citizen id.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('operator', 'citizen')),
    principal TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_principal ON sessions (kind, principal);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- One-time codes bound to an operation (R3.3).  binding: SHA-256 (hex) of
-- the purpose and the exact data; code_hash: HMAC-SHA256 (hex) of the code.
CREATE TABLE otps (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    binding TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX otps_by_citizen ON otps (citizen_id, created_at);
