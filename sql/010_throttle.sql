-- 010_throttle: failed logins slow the attacker, not the holder (issue 11;
-- rules in src/auth, SQL in src/store/store_auth.c).  Portable to
-- PostgreSQL (BIGINT, TEXT, ADD COLUMN with a constant default).

-- R3.5 as rebuilt by issue 11: a citizen is locked by lockout_failures_24h
-- wrong passwords within 24 hours, no longer by a few in a row.
-- failed_attempts counts the failures since failures_since (the start of
-- the current 24-hour window; 0 = no window open).  The per-address
-- throttle keeps one address far below the threshold (docs/ARCHITECTURE.md
-- "Failed logins").
ALTER TABLE citizen_credentials ADD COLUMN failures_since BIGINT NOT NULL
    DEFAULT 0;

-- Activation codes sent to this citizen since codes_since (a 24-hour
-- window): activation_codes_per_day caps them, on every node alike.
ALTER TABLE citizen_credentials ADD COLUMN codes_since BIGINT NOT NULL
    DEFAULT 0;
ALTER TABLE citizen_credentials ADD COLUMN codes_sent INTEGER NOT NULL
    DEFAULT 0;

-- The two-person rule for disabling an administrator (CPS §5.2.4): the
-- first administrator's request waits here until a second, different
-- administrator makes the same request.  action: 'disable'; target: the
-- operator login; requested_by: the first administrator's login.
CREATE TABLE operator_approvals (
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (action, target)
);
