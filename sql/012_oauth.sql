-- 012_oauth: OAuth 2.0 for the CSC API (CSC API v2.0.0.2 §8; RFC 6749,
-- RFC 7636 PKCE, RFC 7009 revocation; issue 14 item 3).  Rules in
-- src/oauth, SQL in src/store/store_oauth.c.  Portable like 008 (BIGINT
-- Unix seconds, BYTEA, TEXT, INTEGER 0/1).
--
-- An OAuth client is a relying application of sign_apps (the same client
-- id and SHA-256 of the secret) with one redirect URI or more, compared
-- exactly (RFC 6749 §3.1.2.3; the security BCP's exact matching); seq
-- keeps the order they were given in.
CREATE TABLE oauth_redirect_uris (
    client_id TEXT NOT NULL REFERENCES sign_apps (client_id),
    uri TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, uri)
);

-- One authorization request (oauth2/authorize) and, once the citizen
-- approved it, its authorization code.  id: 128 random bits (hex), the
-- page's address /oauth/{id}.  citizen_id: '' until the citizen logged in
-- on the page.  scope 'credential' carries the credential (serial), the
-- digests laid end to end (hashes, of digest_alg), their labels (a JSON
-- array of text, '[]' when the client named none) and numSignatures.
-- code_challenge: RFC 7636 S256 (BASE64URL(SHA-256(code_verifier)), 43
-- characters).  code_hash: SHA-256 (hex) of the code, '' until approved;
-- the code itself is never stored.  sad_enc (scope credential): the SAD
-- that the citizen's authorization produced, XOR SHA-256("llave-oauth-
-- sad-v1" 0 code), so that only whoever holds the code recovers it.
-- code_used_at: 0 until the code is exchanged (single use).
CREATE TABLE oauth_authorizations (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES sign_apps (client_id),
    redirect_uri TEXT NOT NULL,
    redirect_given INTEGER NOT NULL CHECK (redirect_given IN (0, 1)),
    scope TEXT NOT NULL CHECK (scope IN ('service', 'credential')),
    state TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    lang TEXT NOT NULL,
    serial TEXT NOT NULL,
    digest_alg TEXT NOT NULL,
    hashes BYTEA,
    labels TEXT NOT NULL,
    num_signatures INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    citizen_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'otp_sent', 'approved',
                                           'denied')),
    otp_id TEXT NOT NULL DEFAULT '',
    code_hash TEXT NOT NULL DEFAULT '',
    code_expires_at BIGINT NOT NULL DEFAULT 0,
    code_used_at BIGINT NOT NULL DEFAULT 0,
    sad_enc BYTEA
);
CREATE INDEX oauth_authorizations_by_code ON oauth_authorizations (code_hash);
CREATE INDEX oauth_authorizations_by_expiry ON oauth_authorizations
    (expires_at);

-- Access tokens (oauth2/token): 256 random bits given out once as 64 hex
-- characters; only SHA-256 (hex) of that text is kept.  kind 'service': a
-- bearer for the CSC service methods, for citizen_id.  kind 'credential':
-- the token is the SAD of sign_sads (the same hash) for one credential
-- (serial) and exactly the authorized hashes.  code_hash: the code it was
-- issued for (a code presented twice revokes it, RFC 6749 §4.1.2).
CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'credential')),
    client_id TEXT NOT NULL REFERENCES sign_apps (client_id),
    citizen_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oauth_tokens_by_code ON oauth_tokens (code_hash);
