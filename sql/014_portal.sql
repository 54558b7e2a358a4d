-- 014_portal: the citizen portal (issue 15 item 4; rules in
-- src/auth/auth_portal.c, pages in web/portal/).  Portable like 008.
--
-- A portal session is opened with password AND an SMS code bound to the
-- login (R3.4), so it is a kind of its own: a session opened with the
-- password alone (the signing page, POST /api/v1/auth/login) can never
-- act in the portal.  SQLite cannot alter a CHECK constraint, so the table
-- is rebuilt; its rows are copied.
CREATE TABLE sessions_v14 (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('operator', 'citizen', 'portal')),
    principal TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT ''
);
INSERT INTO sessions_v14 (token_hash, kind, principal, created_at, expires_at,
                          ip)
    SELECT token_hash, kind, principal, created_at, expires_at, ip
    FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_v14 RENAME TO sessions;
CREATE INDEX sessions_by_principal ON sessions (kind, principal);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- The citizen's signature history, newest first.
CREATE INDEX sign_transactions_by_citizen
    ON sign_transactions (citizen_id, created_at);
