"""Issue 6 part A: operators (password + TOTP), roles, sessions, citizens'
activation / login / history / expiry / lock / unlock, the published
policy, and the SMS gateways (outbox directory and HTTP).  Issue 11 changed
the lockout: failures throttle, never lock an operator, and lock a citizen
only after lockout_failures_24h (3 here) within 24 hours;
test_frontdoor_auth.py tests the throttle itself.

TOTP codes are computed here with Python's hmac (RFC 6238), activation codes
are read from the SMS the service wrote to DIR/outbox/ (or POSTed to a small
HTTP server started by this test), and the store is inspected with the
sqlite3 command line, never through llave."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import stat
import struct
import threading
import time
import urllib.parse

from lvtest import (LLAVE, Server, check, cleanup, finish, llave, run,
                    set_config, sql, workdir)

FAST = {"argon2_memory_mib": 1, "argon2_time": 1, "lockout_failures_24h": 3}
PW1 = "Primera-clave-2026"
PW2 = "Segunda-clave-2026"
PW3 = "Tercera-clave-2026"

# ---- helpers ---------------------------------------------------------------


def totp(secret_b32, step):
    """RFC 6238 with HMAC-SHA1, 6 digits, computed independently of llave."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


class Api:
    def __init__(self, srv):
        self.srv = srv

    def call(self, method, path, body=None, token=None, raw=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        status, hdrs, out = self.srv.request(method, path, data, headers)
        try:
            j = json.loads(out) if out else {}
        except ValueError:
            j = {"_raw": out}
        return status, j, hdrs

    def post(self, path, body=None, token=None, raw=None):
        return self.call("POST", path, body if body is not None else {},
                         token, raw)

    def get(self, path, token=None):
        return self.call("GET", path, None, token)


class Operators:
    """Logs operators in with a TOTP step never used before for that login
    (the service refuses a replayed step), waiting when needed."""

    def __init__(self, api, accounts):
        self.api = api
        self.acc = {a["login"]: a for a in accounts if a.get("kind") ==
                    "operator"}
        self.last = {}

    def fresh_step(self, login):
        now = int(time.time()) // 30
        step = max(now - 1, self.last.get(login, 0) + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.last[login] = step
        return step

    def login(self, login, password=None, step=None):
        a = self.acc[login]
        if step is None:
            step = self.fresh_step(login)
        code = totp(a["totp_secret"], step)
        return self.api.post("/api/v1/operators/login", {
            "login": login, "password": password or a["password"],
            "totp": code})

    def token(self, login):
        status, j, _ = self.login(login)
        if status != 200:
            raise RuntimeError(f"{login} cannot log in: {status} {j}")
        return j["token"]


def audit_count(d, event, result, like=None):
    q = (f"select count(*) from audit_log where event='{event}' "
         f"and result='{result}'")
    if like:
        q += f" and details like '%{like}%'"
    return int(sql(d, q))


def counts(d):
    return sql(d, "select (select count(*) from operators) || ',' ||"
                  " (select count(*) from sessions) || ',' ||"
                  " (select count(*) from citizen_credentials) || ',' ||"
                  " (select group_concat(password_hash || locked ||"
                  "  failed_attempts) from citizen_credentials)")


def outbox_messages(d):
    box = os.path.join(d, "outbox")
    if not os.path.isdir(box):
        return []
    out = []
    for name in sorted(os.listdir(box)):
        path = os.path.join(box, name)
        with open(path) as f:
            m = json.load(f)
        m["_mode"] = stat.S_IMODE(os.stat(path).st_mode)
        m["_name"] = name
        out.append(m)
    return out


def last_code(d, mobile, digits):
    msgs = [m for m in outbox_messages(d) if m["to"] == mobile]
    m = re.search(r"\b(\d{%d})\b" % digits, msgs[-1]["text"]) if msgs else None
    return m.group(1) if m else None, (msgs[-1] if msgs else None)


def install(tmp):
    d = os.path.join(tmp, "demo")
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump(FAST, f)
    run([LLAVE, "init", d, "--demo", "--config", cfg], check_rc=0)
    with open(os.path.join(d, "demo-credentials.json")) as f:
        creds = json.load(f)
    return d, creds


# ---- checks -----------------------------------------------------------------

ROLES = ["auditor", "sysadmin", "ca_admin", "ca_operator", "ra_admin",
         "ra_officer", "revocation_officer", "security_officer",
         "validation_officer"]


def check_demo_accounts(d, creds):
    ops = [a for a in creds["accounts"] if a.get("kind") == "operator"]
    check(sorted(r for a in ops for r in a["roles"]) == sorted(ROLES),
          "demo ceremony: one operator per role of R1.4 in "
          "demo-credentials.json")
    check(all(len(a["password"]) >= 12 and
              re.fullmatch(r"[A-Z2-7]{32}", a["totp_secret"]) for a in ops),
          "demo operators have a password and a base32 TOTP secret")
    check(sql(d, "select count(*) from operators where enabled=1") == "9",
          "nine enabled operators in the store")
    check(not any(a["password"] in sql(d, "select group_concat("
                                          "password_hash) from operators")
                  for a in ops), "passwords are not stored in clear")
    check(sql(d, "select count(*) from operators where password_hash "
                 "like '$argon2id$v=19$m=1024,t=1,p=1$%'") == "9",
          "password hashes are Argon2id with the configured parameters")
    mode = stat.S_IMODE(os.stat(os.path.join(d, "auth.key")).st_mode)
    check(mode == 0o600, f"DIR/auth.key is mode 0600 ({oct(mode)})")


def check_cli(d):
    rc, out, err = llave(d, "operator", "add", "marta.lopez", "--role",
                         "ra_officer", "--role", "auditor", "--json")
    check(rc == 0, f"operator add exits 0 ({err.strip()})")
    j = json.loads(out) if rc == 0 else {}
    uri = urllib.parse.urlparse(j.get("totp_uri", ""))
    q = urllib.parse.parse_qs(uri.query)
    check(uri.scheme == "otpauth" and uri.netloc == "totp" and
          uri.path.endswith(":marta.lopez") and
          q.get("secret") == [j.get("totp_secret")] and
          q.get("algorithm") == ["SHA1"] and q.get("digits") == ["6"] and
          q.get("period") == ["30"],
          f"operator add prints an otpauth://totp URI: {j.get('totp_uri')}")
    check(sorted(j.get("roles", [])) == ["auditor", "ra_officer"],
          "operator add: both roles")
    check(audit_count(d, "operator.add", "success") == 10,
          "operator.add audited (9 demo + 1)")
    before = counts(d)
    rc, _, err = llave(d, "operator", "add", "x.y", "--role", "root")
    check(rc == 2 and "unknown role" in err,
          f"unknown role refused: {err.strip()}")
    rc, _, err = llave(d, "operator", "add", "marta.lopez", "--role",
                       "auditor")
    check(rc == 1 and "already exists" in err, "duplicate login refused")
    rc, _, err = llave(d, "operator", "add", "Bad Name", "--role", "auditor")
    check(rc == 1 and "login" in err, "malformed login refused")
    check(counts(d) == before, "refused operator adds change nothing")
    rc, out, _ = llave(d, "operator", "list")
    check(rc == 0 and "marta.lopez" in out and "demo-auditor" in out and
          "auditor,ra_officer" in out, "operator list shows the accounts")
    return j


def check_operator_login(d, api, ops):
    lg = "demo-ra-admin"
    a = ops.acc[lg]
    step = ops.fresh_step(lg)
    status, j, _ = ops.login(lg, step=step)
    check(status == 200 and len(j.get("token", "")) == 64 and
          j.get("roles") == ["ra_admin"] and 0 < j.get("expires_in", 0) <= 900,
          f"operator login with password + TOTP: 200, token, roles ({status})")
    status, j, _ = ops.login(lg, step=step)
    check(status == 401 and j.get("error") == "unauthorized",
          f"replayed TOTP code: 401 JSON ({status} {j})")
    status, j, _ = ops.login(lg, password="Wrong-password-99")
    check(status == 401 and "login failed" in j.get("message", ""),
          "wrong password: 401 JSON")
    wrong = totp(a["totp_secret"], step + 5)
    status, j, _ = api.post("/api/v1/operators/login",
                            {"login": lg, "password": a["password"],
                             "totp": wrong})
    check(status == 401, "wrong TOTP code: 401")
    status, j, _ = api.post("/api/v1/operators/login",
                            {"login": "nobody", "password": "x",
                             "totp": "123456"})
    check(status == 401, "unknown operator: 401")
    for reason in ("replayed TOTP code", "wrong password", "wrong TOTP code"):
        check(audit_count(d, "operator.login", "failure", reason) >= 1,
              f"failed login audited with reason '{reason}'")
    check(audit_count(d, "operator.login", "failure", "unknown") == 0,
          "an unknown login writes no row of its own (issue 11: aggregated)")
    check(audit_count(d, "operator.login", "success") == 1,
          "successful login audited")
    before = counts(d)
    status, j, _ = api.post("/api/v1/operators/login", {"login": lg})
    check(status == 400 and "password" in j.get("message", ""),
          f"missing fields: 400 naming the field ({j})")
    status, j, _ = api.post("/api/v1/operators/login", raw=b"{not json")
    check(status == 400 and j.get("error") == "invalid_request",
          "malformed JSON: 400")
    status, j, _ = api.post("/api/v1/operators/login", raw=b"x" * 5000)
    check(status == 413, f"oversized body: 413 ({status})")
    check(counts(d) == before, "refused requests change nothing stored")
    # Three failures so far on this account (replay, wrong password, wrong
    # code); before issue 11 the third locked it.  A fourth: still within
    # the 5 free ones, and no lock: the right credentials get in.
    ops.login(lg, password="Wrong-password-99")
    status, _, _ = ops.login(lg)
    check(status == 200 and sql(d, "select locked from operators where "
                                   f"login='{lg}'") == "0",
          "4 failures lock no operator (issue 11): the holder logs in")


def check_sessions_and_roles(d, api, ops):
    auditor = ops.token("demo-auditor")
    status, j, _ = api.get("/api/v1/auth/session", auditor)
    check(status == 200 and j.get("kind") == "operator" and
          j.get("roles") == ["auditor"], "session shows the principal")
    status, j, _ = api.get("/api/v1/operators", auditor)
    check(status == 200 and len(j.get("operators", [])) == 10,
          "auditor reads the operator list")
    status, j, _ = api.post("/api/v1/operators/demo-ca-operator/disable",
                            {}, auditor)
    check(status == 403 and j.get("error") == "forbidden",
          "auditor cannot disable an operator: 403 (auditors never write)")
    status, j, _ = api.post("/api/v1/ra/citizens", {"level": "advanced"},
                            auditor)
    check(status == 403, f"auditor on an RA write endpoint: 403 ({status})")
    check(audit_count(d, "auth.denied", "failure") >= 2,
          "role refusals audited as auth.denied")
    status, j, hdrs = api.get("/api/v1/auth/session", "0" * 64)
    check(status == 401 and "Bearer" in hdrs.get("WWW-Authenticate", ""),
          "unknown token: 401 with WWW-Authenticate")
    status, j, _ = api.get("/api/v1/operators")
    check(status == 401, "no token: 401")
    # Expiry: age the session behind llave's back.
    sec = ops.token("demo-security-officer")
    h = hashlib.sha256(sec.encode()).hexdigest()
    sql(d, f"update sessions set expires_at=1 where token_hash='{h}'")
    status, j, _ = api.get("/api/v1/operators", sec)
    check(status == 401 and "expired" in j.get("message", ""),
          f"expired token: 401 ({j})")
    check(audit_count(d, "auth.session", "failure", "token expired") == 1,
          "expired token use audited once")
    sec = ops.token("demo-security-officer")
    status, j, _ = api.post("/api/v1/operators/demo-ca-admin/disable", {},
                            sec)
    check(status == 200 and j.get("enabled") is False,
          "security officer disables an operator")
    status, _, _ = ops.login("demo-ca-admin")
    check(status == 401 and audit_count(d, "operator.login", "failure",
                                        "account disabled") == 1,
          "disabled account: 401, audited")
    status, _, _ = api.post("/api/v1/operators/nobody/enable", {}, sec)
    check(status == 404, "enabling an unknown operator: 404")
    status, j, _ = api.post("/api/v1/auth/logout", {}, sec)
    check(status == 200, "logout")
    status, _, _ = api.get("/api/v1/operators", sec)
    check(status == 401, "token dead after logout")


def register_citizen(api, officer, number, mobile):
    body = {"level": "advanced", "given_name": "Lucía",
            "surname": "García Pérez", "country": "ES",
            "birth_date": "1985-03-14", "mobile": mobile,
            "email": "lucia@example.es", "evidence_ref": "EXP-2026-001",
            "document": {"type": "DNI", "number": number, "country": "ES",
                         "expiry": "2031-05-01"}}
    return api.post("/api/v1/ra/citizens", body, officer)


def check_citizen(d, api, ops):
    officer = ops.token("demo-ra-officer")
    mobile = "+34611000001"
    status, j, _ = register_citizen(api, officer, "12345678Z", mobile)
    check(status == 201 and j.get("activation") == "sent",
          f"RA officer registers a citizen, activation sent ({status} {j})")
    cid, uid = j.get("id", ""), j.get("user_id", "12345678Z")
    code, msg = last_code(d, mobile, 8)
    check(code is not None, "activation code SMS in DIR/outbox (R3.1, R3.7)")
    check(msg is not None and msg["_mode"] == 0o640 and
          msg["channel"] == "sms" and
          re.fullmatch(r"\d{8}T\d{9}Z-\d{6}-[0-9a-f]{8}\.json", msg["_name"]),
          "outbox file: mode 0640, time-ordered name, channel sms")
    before = counts(d)
    for pw, why in (("short-1A", "too short"), ("alllowercase-only", "weak"),
                    (f"Aa-{uid}-x", "user id")):
        status, j, _ = api.post("/api/v1/citizens/activate",
                                {"user_id": uid, "code": code,
                                 "password": pw})
        check(status == 400 and why in j.get("message", ""),
              f"weak password refused at activation: {why}")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    status, j, _ = api.post("/api/v1/citizens/activate",
                            {"user_id": uid, "code": wrong, "password": PW1})
    check(status == 401, "wrong activation code: 401")
    check(sql(d, f"select password_hash from citizen_credentials where "
                 f"citizen_id='{cid}'") == "",
          "no password set by refused activations")
    check(counts(d).split(",")[:3] == before.split(",")[:3],
          "refused activations add nothing")
    status, j, _ = api.post("/api/v1/citizens/activate",
                            {"user_id": uid, "code": code, "password": PW1})
    check(status == 200 and j.get("citizen_id") == cid,
          f"activation with the SMS code: 200 ({j})")
    check(PW1 not in json.dumps(outbox_messages(d)),
          "no SMS ever contains the password (R3.7)")
    status, j, _ = api.post("/api/v1/citizens/activate",
                            {"user_id": uid, "code": code, "password": PW2})
    check(status == 401, "activation code is single-use")
    status, j, _ = api.post("/api/v1/auth/login",
                            {"user_id": uid, "password": PW1})
    check(status == 200 and j.get("roles") == ["citizen"],
          "citizen login: 200, citizen token")
    ctok = j.get("token")
    status, j, _ = api.get("/api/v1/auth/session", ctok)
    check(status == 200 and j.get("kind") == "citizen" and j.get("id") == cid,
          "citizen session names the citizen")
    status, _, _ = api.post(f"/api/v1/ra/citizens/{cid}/unlock", {}, ctok)
    check(status == 403, "citizen token on an officer endpoint: 403")
    status, _, _ = api.get("/api/v1/operators", ctok)
    check(status == 403, "citizen token cannot list operators: 403")
    # R3.2: history.
    status, j, _ = api.post("/api/v1/auth/password",
                            {"user_id": uid, "password": PW1,
                             "new_password": PW1})
    check(status == 400 and "used recently" in j.get("message", ""),
          "reusing the current password refused")
    status, j, _ = api.post("/api/v1/auth/password",
                            {"user_id": uid, "password": PW1,
                             "new_password": PW2})
    check(status == 200, "password change")
    status, j, _ = api.post("/api/v1/auth/password",
                            {"user_id": uid, "password": PW2,
                             "new_password": PW1})
    check(status == 400, "an earlier password is refused (history)")
    # R3.2: expiry.
    sql(d, f"update citizen_credentials set password_expires_at=1 "
           f"where citizen_id='{cid}'")
    status, j, _ = api.post("/api/v1/auth/login",
                            {"user_id": uid, "password": PW2})
    check(status == 401 and "expired" in j.get("message", ""),
          "expired password: login refused with a clear message")
    status, j, _ = api.post("/api/v1/auth/password",
                            {"user_id": uid, "password": PW2,
                             "new_password": PW3})
    check(status == 200, "an expired password can still be changed")
    # R3.5: lockout and officer unlock.
    for i in range(3):
        status, j, _ = api.post("/api/v1/auth/login",
                                {"user_id": uid, "password": "Wrong-clave-1"})
    check(status == 401, "wrong citizen password: 401")
    status, j, _ = api.post("/api/v1/auth/login",
                            {"user_id": uid, "password": PW3})
    check(status == 403 and "locked" in j.get("message", ""),
          f"locked after 3 failures, even with the right password ({j})")
    check(audit_count(d, "citizen.login", "failure", "wrong password") == 3
          and audit_count(d, "citizen.login", "failure", "account locked")
          == 1, "citizen login failures and lockout audited")
    auditor = ops.token("demo-auditor")
    status, _, _ = api.post(f"/api/v1/ra/citizens/{cid}/unlock", {}, auditor)
    check(status == 403, "auditor cannot unlock: 403")
    status, _, _ = api.post("/api/v1/ra/citizens/nobody/unlock", {}, officer)
    check(status == 404, "unlock of an unknown citizen: 404")
    status, j, _ = api.post(f"/api/v1/ra/citizens/{cid}/unlock", {}, officer)
    check(status == 200, "registration officer unlocks (R3.5)")
    check(audit_count(d, "citizen.unlock", "success") == 1, "unlock audited")
    status, j, _ = api.post("/api/v1/auth/login",
                            {"user_id": uid, "password": PW3})
    check(status == 200, "login after unlock")
    return cid, uid, mobile


def check_policy(api):
    status, j, hdrs = api.get("/api/v1/policy")
    pw = j.get("password", {})
    check(status == 200 and pw.get("min_length") == 12 and
          pw.get("storage") == "argon2id" and
          j.get("lockout", {}).get("threshold") == 3 and
          j.get("otp", {}).get("ttl_seconds") == 300 and
          j.get("otp", {}).get("max_attempts") == 3,
          f"GET /api/v1/policy publishes the configured rules ({j})")


class Gateway(http.server.BaseHTTPRequestHandler):
    """A stand-in SMS provider: records each POST, answers `status`."""
    received = []
    status = 200

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Gateway.received.append({"auth": self.headers.get("Authorization"),
                                 "type": self.headers.get("Content-Type"),
                                 "body": json.loads(self.rfile.read(n))})
        self.send_response(Gateway.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def check_http_gateway(d, tmp, ops, cid, uid, mobile):
    gw = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gw.serve_forever, daemon=True).start()
    pwfile = os.path.join(tmp, "gateway.secret")
    with open(pwfile, "w") as f:
        f.write("s3cret-gw\n")
    set_config(d, notify_backend="http",
               notify_url=f"http://127.0.0.1:{gw.server_port}/send",
               notify_user="llave", notify_password_file=pwfile)
    srv = Server(d)
    try:
        api = Api(srv)
        ops.api = api  # same TOTP steps bookkeeping as before the restart
        officer = ops.token("demo-ra-officer")
        outbox_before = len(outbox_messages(d))
        status, j, _ = api.post(f"/api/v1/ra/citizens/{cid}/activation", {},
                                officer)
        check(status in (200, 201) and len(Gateway.received) == 1,
              f"activation resend goes to the HTTP gateway ({status} {j})")
        m = Gateway.received[-1] if Gateway.received else {"body": {}}
        want = "Basic " + base64.b64encode(b"llave:s3cret-gw").decode()
        check(m.get("auth") == want and m.get("type") == "application/json",
              "gateway POST: JSON with basic credentials from the file")
        body = m["body"]
        check(body.get("channel") == "sms" and body.get("to") == mobile and
              re.search(r"\b\d{8}\b", body.get("text", "")),
              "gateway message: channel, number, text with the code")
        check(len(outbox_messages(d)) == outbox_before,
              "nothing written to the outbox with the HTTP back end")
        # Re-activation with the new code sets a new password (R3.5).
        m = re.search(r"\b(\d{8})\b", body.get("text", ""))
        code = m.group(1) if m else "00000000"
        status, j, _ = api.post("/api/v1/citizens/activate",
                                {"user_id": uid, "code": code,
                                 "password": "Cuarta-clave-2026"})
        check(status == 200, "re-activation with the code from the gateway")
        Gateway.status = 503
        status, j, _ = api.post(f"/api/v1/ra/citizens/{cid}/activation", {},
                                officer)
        check(status >= 400 and "gateway" in j.get("message", ""),
              f"gateway refusal reported, not hidden ({status} {j})")
        check(audit_count(d, "citizen.activation_start", "failure") == 1,
              "failed SMS delivery audited")
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
        gw.shutdown()


def main():
    tmp = workdir("auth")
    d, creds = install(tmp)
    check_demo_accounts(d, creds)
    check_cli(d)
    srv = Server(d)
    try:
        api = Api(srv)
        ops = Operators(api, creds["accounts"])
        check_policy(api)
        check_operator_login(d, api, ops)
        check_sessions_and_roles(d, api, ops)
        cid, uid, mobile = check_citizen(d, api, ops)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    check_http_gateway(d, tmp, ops, cid, uid, mobile)
    check(audit_count(d, "auth.failures_aggregate", "failure") >= 1,
          "anonymous failures written as aggregate entries (issue 11)")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0, f"audit chain intact after all of it: {out.strip()}")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
