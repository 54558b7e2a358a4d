/* auth/ — who is calling and what they may do: operator accounts and their
 * roles (R1.4, R3.6), citizens' "Cl@ve permanente" credentials (R3.1-R3.5),
 * one-time codes bound to an operation (R3.3), bearer sessions, and the
 * front door that keeps them usable under attack (issue 11).
 *
 * - Passwords are stored only as Argon2id hashes (libargon2, parameters from
 *   the configuration: argon2_memory_mib / argon2_time /
 *   argon2_parallelism); verification is constant-time and a missing account
 *   costs the same as a wrong password.
 * - Operators log in with login + password + TOTP (RFC 6238, HMAC-SHA1,
 *   30 s, 6 digits, +-1 step, a used step is never accepted again).  TOTP
 *   secrets are kept encrypted (AES-256-GCM, AAD = login) under the 256-bit
 *   key in DIR/auth.key (mode 0600, created on first use); every llaved
 *   sharing one database needs the same file.
 * - One-time codes (activation codes, OTPs) are stored as HMAC-SHA256 under
 *   the same key, so a copy of the database alone does not reveal them.
 * - Session tokens are 256 random bits, given out once as 64 hex characters
 *   and stored as their SHA-256; a session names its principal (operator
 *   login or citizen id) and kind, and expires after session_ttl_seconds.
 *   Roles and the enabled/locked state are read again on every check, so
 *   disabling an operator ends their sessions at once.
 *
 * - Failed logins slow the attacker, not the holder (issue 11): every
 *   attempt is charged to (id as typed, source address; IPv6 by /64) and
 *   to the source alone; after auth_throttle_free failures a pair waits 1 s,
 *   2 s, 4 s ... up to auth_throttle_max_delay, and a source has
 *   auth_source_failures per auth_source_window.  A throttled attempt is
 *   LV_ELIMIT (429 + Retry-After) before any lookup or Argon2id, the same
 *   for ids that exist and ids that do not.  Operators are never locked by
 *   failures; a citizen is, after lockout_failures_24h wrong passwords in
 *   24 hours (more than one address can make under the throttle), or by an
 *   officer (auth_citizen_lock).
 * - Every failed login answers the same (unknown id, wrong password, not
 *   activated, locked): only someone who proved the password learns that
 *   the account is locked or the password expired.
 *
 * Every state change and every refusal that concerns a real account (bad
 * password, bad TOTP, replay, OTP failure, missing role) writes an audit
 * entry (CPS §5.4.1), in the same store transaction as the change it
 * records.  Failures that name no existing account, and refusals made
 * before any lookup, are counted per source and written as periodic
 * "auth.failures_aggregate" entries (auth_reporter_start).
 *
 * Threading: an lv_auth is read-only after auth_open but for its throttle
 * and failure counters, which lock internally; it may be shared by
 * threads; each thread passes its own lv_store.
 *
 * Depends on core/, store/, audit/, notify/. */
#ifndef LLAVE_AUTH_H
#define LLAVE_AUTH_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* ---- roles (R1.4, CPS §5.2.1) -----------------------------------------
 * A bit set.  Endpoints name the roles allowed to call them; a principal
 * holding any one of them passes.  Auditors are only ever listed on read
 * endpoints ("auditors read, never write").  LV_ROLE_CITIZEN is not an
 * operator role: every citizen session carries it and nothing else. */
enum {
    LV_ROLE_AUDITOR = 1u << 0,            /* Auditor interno */
    LV_ROLE_SYSADMIN = 1u << 1,           /* Administrador de sistemas */
    LV_ROLE_CA_ADMIN = 1u << 2,           /* Administrador de CA */
    LV_ROLE_CA_OPERATOR = 1u << 3,        /* Operador de CA */
    LV_ROLE_RA_ADMIN = 1u << 4,           /* Administrador de registro */
    LV_ROLE_RA_OFFICER = 1u << 5,         /* Oficial de registro */
    LV_ROLE_REVOCATION_OFFICER = 1u << 6, /* Oficial de revocación */
    LV_ROLE_SECURITY_OFFICER = 1u << 7,   /* Responsable de seguridad */
    LV_ROLE_VALIDATION_OFFICER = 1u << 8, /* Responsable de validación */
    /* a citizen's portal session: password AND an SMS code (issue 15
     * item 4); it also holds LV_ROLE_CITIZEN */
    LV_ROLE_PORTAL = 1u << 14,
    LV_ROLE_CITIZEN = 1u << 15, /* a citizen's own session */
};
#define LV_ROLES_OPERATOR 0x1ffu /* every operator role */

/* "auditor", "sysadmin", "ca_admin", "ca_operator", "ra_admin",
 * "ra_officer", "revocation_officer", "security_officer",
 * "validation_officer", "citizen".  NULL for a value that is not exactly
 * one known role. */
const char *auth_role_name(unsigned role);
/* One role name to its bit; LV_EINVAL (message lists the valid names). */
int auth_role_parse(const char *name, unsigned *role, lv_err *err) LV_MUST_USE;
/* JSON array of the names of the bits set in roles (new reference). */
json_t *auth_roles_json(unsigned roles);

/* ---- context ------------------------------------------------------------ */
typedef struct lv_auth lv_auth;

/* Copies cfg (policy, Argon2 parameters, TTLs, notify settings) and loads
 * DIR/auth.key, creating it when the installation has none yet. */
int auth_open(const lv_config *cfg, lv_auth **out, lv_err *err) LV_MUST_USE;
void auth_close(lv_auth *auth); /* wipes the key; NULL accepted */
const lv_config *auth_config(const lv_auth *auth);

/* ---- principals and sessions -------------------------------------------- */
typedef enum {
    LV_PRINCIPAL_OPERATOR = 1,
    LV_PRINCIPAL_CITIZEN = 2,
} lv_principal_kind;

#define LV_AUTH_ID_MAX 72    /* operator login / citizen id, NUL included */
#define LV_AUTH_TOKEN_LEN 64 /* hex characters of a bearer token */

typedef struct lv_principal {
    lv_principal_kind kind;
    char id[LV_AUTH_ID_MAX]; /* operator login, or citizen id */
    unsigned roles;          /* operator roles, or LV_ROLE_CITIZEN */
    int64_t expires_at;      /* session end, Unix seconds */
    char actor[96];          /* "operator:<login>" / "citizen:<id>": the
                                actor to write in audit entries */
} lv_principal;

/* Checks a bearer token.  LV_EAUTH (401) when the token is unknown,
 * malformed or expired, or its account is disabled or locked; LV_EPERM (403,
 * audited as "auth.denied") when required_roles != 0 and the principal holds
 * none of them.  required_roles == 0 accepts any valid session.  out may be
 * NULL. */
int auth_session_check(lv_auth *auth, lv_store *st, const char *token,
                       unsigned required_roles, lv_principal *out,
                       lv_err *err) LV_MUST_USE;
/* A caller whose session is valid but who may not act on `object` (a
 * citizen naming another citizen's record, R1.1): audited as "auth.denied"
 * with `reason`, on its own transaction; best effort (a failure to audit
 * is logged), as the refusal stands either way. */
void auth_session_denied(lv_store *st, const lv_principal *who,
                         const char *object, const char *reason);
/* Ends a session (logout).  Audited. */
int auth_session_end(lv_auth *auth, lv_store *st, const char *token,
                     lv_err *err) LV_MUST_USE;

/* A fresh bearer token as returned by the login functions. */
typedef struct lv_session_token {
    char token[LV_AUTH_TOKEN_LEN + 1];
    int64_t expires_at;
    unsigned roles;
} lv_session_token;
void auth_token_wipe(lv_session_token *t);

/* ---- operators (R1.4, R3.6) --------------------------------------------- */
/* Login names: 3 to 64 characters of a-z, 0-9, '.', '_', '-'. */
#define LV_AUTH_PASSWORD_MAX 128

/* What an operator is given once, at creation or reset: the initial
 * password, the TOTP secret (base32, RFC 4648 §6, no padding) and the
 * otpauth:// URI an authenticator app imports.  Wipe with
 * auth_operator_secret_wipe once shown. */
typedef struct lv_operator_secret {
    char password[LV_AUTH_PASSWORD_MAX + 1];
    char totp_secret[64];
    char totp_uri[1024];
} lv_operator_secret;
void auth_operator_secret_wipe(lv_operator_secret *s);

typedef struct lv_operator_info {
    char login[LV_AUTH_ID_MAX];
    unsigned roles;
    int enabled;
    int locked; /* set before issue 11 by failures; cleared by enable */
    int64_t created_at;
    char created_by[128];
} lv_operator_info;

/* Creates an enabled operator with the given roles (at least one operator
 * role), a random initial password and TOTP secret.  LV_EEXISTS for a
 * login in use.  Audited as "operator.add" by actor. */
int auth_operator_add(lv_auth *auth, lv_store *st, const char *login,
                      unsigned roles, const char *actor,
                      lv_operator_secret *secret_out, lv_err *err) LV_MUST_USE;
/* Login with password and the current TOTP code (R3.6).  Wrong password,
 * wrong or replayed code, unknown, disabled or locked account: LV_EAUTH
 * with a message that does not say which factor failed; the failure is
 * audited ("operator.login" failure, with the reason in details; an
 * unknown login only in the aggregate) and throttled per (login, ip):
 * LV_ELIMIT while the pair or the source must wait.  Failures never lock
 * an operator.  ip is recorded in the audit entry (may be NULL). */
int auth_operator_login(lv_auth *auth, lv_store *st, const char *login,
                        const char *password, const char *totp_code,
                        const char *ip, lv_session_token *out,
                        lv_err *err) LV_MUST_USE;
/* Enable / disable (disabling ends every session of the account at once;
 * enabling also clears a lockout).  Audited.  The console's path (`llave
 * operator`), run by whoever holds the data directory; the API disables
 * through auth_operator_disable. */
int auth_operator_set_enabled(lv_auth *auth, lv_store *st, const char *login,
                              int enabled, const char *actor,
                              lv_err *err) LV_MUST_USE;
/* Disabling over the API (R1.4, CPS §5.2.4), by administrator `by` (a
 * security officer or system administrator):
 * - the last active (enabled, not locked) holder of the security officer
 *   or the sysadmin role is never disabled: LV_ESTATE (409);
 * - another operator is disabled at once (*pending = 0);
 * - an administrator needs two: the first request is recorded (*pending =
 *   1, audited "operator.disable_request"), the same request by a second,
 *   different administrator within AUTH_APPROVAL_TTL executes it (audited
 *   "operator.disable" naming both); the same administrator asking again
 *   changes nothing.
 * LV_ENOTFOUND for an unknown login. */
#define AUTH_APPROVAL_TTL 86400 /* seconds a first request waits */
int auth_operator_disable(lv_auth *auth, lv_store *st, const char *login,
                          const lv_principal *by, int *pending,
                          lv_err *err) LV_MUST_USE;
/* New random password and TOTP secret, lockout cleared, sessions ended. */
int auth_operator_reset(lv_auth *auth, lv_store *st, const char *login,
                        const char *actor, lv_operator_secret *secret_out,
                        lv_err *err) LV_MUST_USE;
int auth_operator_get(lv_store *st, const char *login, lv_operator_info *out,
                      lv_err *err) LV_MUST_USE;
/* Calls fn for every operator in login order. */
int auth_operator_foreach(lv_store *st,
                          int (*fn)(const lv_operator_info *, void *),
                          void *ctx, lv_err *err) LV_MUST_USE;

/* ---- operators' client certificates (issue 17 item 4, CPS §5.2.3) ---------
 * A certificate our CA issued to an operator opens a session over llaved's
 * https as password + TOTP does, once bound to the account.  ca/ judges the
 * certificate (ours, current, not revoked: ca_client_cert_check); these
 * only map it to the account and audit. */
typedef struct lv_operator_cert {
    char fingerprint[65]; /* SHA-256 of the DER, lower hex */
    char serial[65];
    char subject[256]; /* RFC 4514 */
    int64_t not_after;
} lv_operator_cert;
/* Audited "operator.cert_bind"; LV_ENOTFOUND unknown login, LV_EEXISTS a
 * certificate already bound. */
int auth_operator_cert_bind(lv_auth *auth, lv_store *st, const char *login,
                            const lv_operator_cert *c, const char *actor,
                            lv_err *err) LV_MUST_USE;
/* Removes every certificate of login (*count of them); audited. */
int auth_operator_cert_unbind(lv_auth *auth, lv_store *st, const char *login,
                              const char *actor, int *count,
                              lv_err *err) LV_MUST_USE;
/* A session for the operator the certificate is bound to.  refusal: ca/'s
 * reason to refuse the certificate, or NULL.  Every failure is LV_EAUTH
 * with one message (throttled like the password login: LV_ELIMIT). */
int auth_operator_login_cert(lv_auth *auth, lv_store *st,
                             const lv_operator_cert *c, const char *refusal,
                             const char *ip, lv_session_token *out,
                             lv_err *err) LV_MUST_USE;

/* ---- password policy (R3.1, R3.2) ------------------------------------------
 * At least password_min_length characters (default 12), at most
 * LV_AUTH_PASSWORD_MAX bytes, three of the four classes lower / upper /
 * digit / other, not containing the user id, not one of the last
 * password_history passwords; passwords expire after password_expiry_days.
 * The same rules as JSON, for GET /api/v1/policy (new reference). */
json_t *auth_password_policy_json(const lv_auth *auth);
/* Checks the rules that need no history; user_id may be NULL. */
int auth_password_check(const lv_auth *auth, const char *password,
                        const char *user_id, lv_err *err) LV_MUST_USE;

/* ---- citizens' credentials (R3.1-R3.5) ------------------------------------
 * A credential record is keyed by the citizen id that ra/ assigns; auth/
 * keeps the user id the citizen logs in with (Cl@ve: the document number),
 * the mobile number one-time codes go to (R3.3: the one registered at
 * registration), the password hash and its history, expiry, failure count
 * and lock. */
typedef enum {
    LV_ACTIVATION_SMS,    /* code sent to the registered mobile */
    LV_ACTIVATION_LETTER, /* code returned to the caller for a letter */
} lv_activation_channel;

#define LV_AUTH_CODE_MAX 16 /* activation code / OTP text, NUL included */

/* Creates the credential record if needed (user_id must then be unique:
 * LV_EEXISTS otherwise) or updates user id and mobile, and issues a new
 * activation code valid for activation_ttl_hours.  A new code replaces any
 * earlier one and a successful activation clears a lockout (R3.5:
 * "unlock ... by re-activation").  With LV_ACTIVATION_SMS the code goes to
 * mobile through notify/ and code_out may be NULL; with
 * LV_ACTIVATION_LETTER nothing is sent and code_out receives it.  Audited
 * as "citizen.activation_start".  At most activation_codes_per_day codes
 * per citizen in 24 hours (counted in the citizen's row, so every node
 * agrees): LV_ELIMIT with retry_after, nothing sent or stored. */
int auth_citizen_activation_start(
    lv_auth *auth, lv_store *st, const char *citizen_id, const char *user_id,
    const char *mobile, lv_activation_channel channel, const char *actor,
    char code_out[LV_AUTH_CODE_MAX], lv_err *err) LV_MUST_USE;
/* The citizen proves the code and sets a password (policy checked first:
 * a weak password is LV_EINVAL and does not use up an attempt).  A wrong
 * or expired code, or an unknown user id, is LV_EAUTH with one message and
 * the same Argon2id work; after activation_max_attempts wrong codes the
 * code dies.  Throttled per (user id, ip) like a login.  On success the
 * citizen's id is written to citizen_id_out (may be NULL; LV_AUTH_ID_MAX
 * bytes). */
int auth_citizen_activate(lv_auth *auth, lv_store *st, const char *user_id,
                          const char *code, const char *new_password,
                          const char *ip, char *citizen_id_out,
                          lv_err *err) LV_MUST_USE;
/* Login with user id and password: a citizen session (LV_ROLE_CITIZEN).
 * Unknown id, wrong password, not activated, locked with a wrong
 * password: LV_EAUTH "wrong user id or password", all alike.  With the
 * right password: expired, LV_EAUTH "password expired" (change it with
 * auth_citizen_password_change); locked, LV_EPERM.  Throttled: LV_ELIMIT. */
int auth_citizen_login(lv_auth *auth, lv_store *st, const char *user_id,
                       const char *password, const char *ip,
                       lv_session_token *out, lv_err *err) LV_MUST_USE;
/* Verifies a citizen's password (constant time), throttled per (citizen
 * id, ip).  A failure is audited and counted; lockout_failures_24h of them
 * within 24 hours lock the account (LV_EPERM to the holder from then on)
 * until an officer unlocks it or the citizen re-activates (R3.5).  An
 * expired password still verifies here: expiry gates login, not the proof
 * of knowledge. */
int auth_verify_password(lv_auth *auth, lv_store *st, const char *citizen_id,
                         const char *password, const char *ip,
                         lv_err *err) LV_MUST_USE;
/* Changes the password (also when expired), checking policy and history
 * (R3.2).  Audited as "citizen.password_change". */
int auth_citizen_password_change(lv_auth *auth, lv_store *st,
                                 const char *user_id, const char *old_password,
                                 const char *new_password, const char *ip,
                                 lv_err *err) LV_MUST_USE;
/* Officer unlock (R3.5).  LV_ENOTFOUND for an unknown citizen.  Audited. */
int auth_citizen_unlock(lv_auth *auth, lv_store *st, const char *citizen_id,
                        const char *actor, lv_err *err) LV_MUST_USE;
/* Officer lock (R3.5, issue 11: "a true lock only by an officer's
 * decision"): until unlock or re-activation.  Audited "citizen.lock". */
int auth_citizen_lock(lv_auth *auth, lv_store *st, const char *citizen_id,
                      const char *actor, lv_err *err) LV_MUST_USE;
/* Changes the mobile one-time codes go to (after ra/ updated the
 * registration record).  Audited. */
int auth_citizen_set_mobile(lv_auth *auth, lv_store *st, const char *citizen_id,
                            const char *mobile, const char *actor,
                            lv_err *err) LV_MUST_USE;

typedef struct lv_citizen_cred {
    char citizen_id[LV_AUTH_ID_MAX];
    char user_id[LV_AUTH_ID_MAX];
    char mobile[24];
    int active; /* a password has been set */
    int locked;
    int failed_attempts; /* wrong passwords in the current 24 h window */
    int64_t password_expires_at; /* 0 while not active */
} lv_citizen_cred;
/* LV_ENOTFOUND when the citizen has no credential record yet. */
int auth_citizen_get(lv_store *st, const char *citizen_id, lv_citizen_cred *out,
                     lv_err *err) LV_MUST_USE;

/* ---- one-time codes bound to an operation (R3.3, R3.4) --------------------
 * purpose names the operation ("sign", "revoke", ...: 1 to 32 characters of
 * a-z, 0-9, '_', '.', '-') and data is its exact content (for signing, the
 * document digests in order).  auth/ stores SHA-256(purpose, data) and an
 * HMAC of the code; a code verifies only for the same citizen, purpose and
 * bytes, once, before otp_ttl_seconds (default 300) and within
 * otp_max_attempts (default 3) tries; a failed try of any kind (wrong code,
 * wrong data, other citizen) uses up an attempt and is audited. */
#define LV_AUTH_OTP_ID_LEN 32 /* hex characters */

/* Sends a 6-digit code by SMS to the citizen's registered mobile.  The
 * citizen must be active and not locked.  otp_id_out receives the id the
 * caller keeps (e.g. in its transaction record).  Rate limits (issue 11):
 * otp_send_per_operation codes for the same purpose and data (one
 * transaction, one CSC batch, one revocation) per
 * otp_send_operation_window, otp_send_per_citizen per
 * otp_send_citizen_window (both counted in the otps table, so every node
 * agrees) and otp_send_per_source per otp_send_source_window from ip's
 * source (in memory); beyond them LV_ELIMIT with retry_after, and nothing
 * is sent or stored. */
/* What the SMS says (issue 15 item 1): the catalogue text
 * sms.otp.<purpose> in lang, naming the provider, the application that
 * asks (app) and the number of documents the code authorizes (n), never
 * an internal operation name.  NULL: Spanish, no application, no count. */
typedef struct lv_otp_sms {
    const char *lang; /* NULL: Spanish */
    const char *app;  /* the relying application's name, or NULL */
    int n;            /* documents (hashes) authorized; 0: none named */
} lv_otp_sms;
int auth_otp_send(lv_auth *auth, lv_store *st, const char *citizen_id,
                  const char *purpose, const unsigned char *data,
                  size_t data_len, const char *ip, const lv_otp_sms *sms,
                  char otp_id_out[LV_AUTH_OTP_ID_LEN + 1],
                  lv_err *err) LV_MUST_USE;
int auth_otp_verify(lv_auth *auth, lv_store *st, const char *otp_id,
                    const char *citizen_id, const char *purpose,
                    const unsigned char *data, size_t data_len,
                    const char *code, lv_err *err) LV_MUST_USE;
/* Gives back a code that auth_otp_verify (or auth_citizen_authorize)
 * accepted when the operation it authorized then failed on the service's
 * side before anything was signed or stored (a time-stamp unit refusing,
 * keyd unreachable): the citizen may retry the same operation with the
 * same code for the rest of its life instead of asking for another SMS.
 * The code is still bound to the same data, so it authorizes nothing else.
 * Audited as otp.release naming `reason`.  LV_ESTATE when the code is not
 * a used, unexpired code of citizen_id. */
int auth_otp_release(lv_store *st, const char *otp_id, const char *citizen_id,
                     const char *reason, lv_err *err) LV_MUST_USE;
/* Issue 14 item 6, in the caller's transaction: deletes the one-time codes
 * that expired longer ago than the sending limits look back (so the counts
 * stay right) and the expired sessions; *otps: how many codes. */
int auth_purge(const lv_config *cfg, lv_store *st, int64_t now, int *otps,
               lv_err *err) LV_MUST_USE;

/* The reinforced mode (R3.4, Cl@ve): password AND the OTP bound to data,
 * both checked; any failure is LV_EAUTH / LV_EPERM and nothing is
 * consumed except failed attempts.  Password first, so that a wrong
 * password does not burn the OTP.  This is what sign/ (R5.2) and
 * self-service revocation (R6.1) call before acting. */
int auth_citizen_authorize(lv_auth *auth, lv_store *st, const char *citizen_id,
                           const char *password, const char *otp_id,
                           const char *purpose, const unsigned char *data,
                           size_t data_len, const char *code, const char *ip,
                           lv_err *err) LV_MUST_USE;

/* ---- the citizen portal (issue 15 item 4) ----------------------------
 * The portal opens with user id + password + an SMS code bound to the
 * login (R3.4, as the signing page's confirmation): auth_portal_otp proves
 * the password exactly as auth_citizen_login does (throttle, one answer
 * for every failure, lockout count) and sends the code (purpose
 * "portal.login", bound to the citizen id; the OTP send limits apply);
 * auth_portal_login proves the password again and the code, and opens a
 * session of kind "portal" (roles LV_ROLE_CITIZEN | LV_ROLE_PORTAL).  A
 * session opened with the password alone never holds LV_ROLE_PORTAL.
 * Audited: each password proof "citizen.portal_password", the session
 * "citizen.portal_login". */
#define LV_AUTH_PORTAL_PURPOSE "portal.login"
int auth_portal_otp(lv_auth *auth, lv_store *st, const char *user_id,
                    const char *password, const char *ip, const char *lang,
                    char otp_id_out[LV_AUTH_OTP_ID_LEN + 1],
                    lv_err *err) LV_MUST_USE;
int auth_portal_login(lv_auth *auth, lv_store *st, const char *user_id,
                      const char *password, const char *otp_id, const char *otp,
                      const char *ip, lv_session_token *out,
                      lv_err *err) LV_MUST_USE;

/* ---- client secrets (issue 14 items 2, 3) ----------------------------
 * A relying application's or OAuth client's secret is throttled as a
 * password is: each attempt is charged to (client id as sent, source
 * address) and to the source alone, so that after auth_throttle_free
 * failures the pair waits 1 s, 2 s, 4 s ... and a source has
 * auth_source_failures per auth_source_window whatever ids it tries.  A
 * holder on another address is not slowed.  auth_client_gate runs before
 * any lookup or hash: LV_ELIMIT (429, Retry-After) while throttled.
 * Failures are counted in the anonymous aggregate ("auth.failures_
 * aggregate"), never one audit row each, so a flood writes nothing more. */
int auth_client_gate(lv_auth *auth, const char *client_id, const char *ip,
                     lv_err *err) LV_MUST_USE;
/* The outcome of the secret's check: ok (the pair starts afresh) or not. */
void auth_client_result(lv_auth *auth, const char *client_id, const char *ip,
                        int ok);

/* ---- the anonymous-failure reporter (issue 11, llaved) -------------------
 * A job (lv_job_stop stops it) with its own store that writes the aggregate
 * audit entries of anonymous failures every auth_report_seconds; stopping
 * writes what is left. */
int auth_reporter_start(lv_auth *auth, lv_job **out, lv_err *err) LV_MUST_USE;

/* ---- TOTP primitive (RFC 6238 / RFC 4226), exposed for tests ------------ */
/* The code for time step `step` (= unix time / 30) with HMAC over md
 * ("SHA1" for authenticator apps, "SHA256", "SHA512") and `digits` digits
 * (6..8). */
int auth_totp_code(const unsigned char *secret, size_t secret_len,
                   uint64_t step, const char *md_name, int digits, char out[16],
                   lv_err *err) LV_MUST_USE;

#endif
