"""Issue 11 items 3-6, against a real llaved: the attacks of the issue, run
as bounded tests on loopback, now fail.

- Lockout as a weapon: 25 wrong logins on demo-security-officer from
  127.0.0.1 leave the account usable; its holder logs in from 127.0.0.2
  with password + TOTP at once, while 127.0.0.1 is answered 429.
- Enumeration: unknown id, wrong password on an active citizen, on a
  not-activated one and on a locked one give byte-identical answers.
- Audit flooding: 3 000 anonymous activations with unknown ids add at most
  10 audit rows (counted with the sqlite3 command line).
- SMS: OTP sends beyond the limit get 429 + Retry-After and put nothing
  more in the outbox.
- Administrators: the last security officer cannot be disabled, and
  disabling an administrator needs a second administrator.

llaved listens on 127.0.0.1, which accepts connections from any 127.x
source; each client binds its socket to the source address it plays."""
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import time
import urllib.parse

from lvtest import (LLAVE, Server, check, cleanup, finish, llave, run, sql,
                    workdir)

FAST = {"argon2_memory_mib": 1, "argon2_time": 1}
PW = "Una-clave-2026-ok"


# ---- helpers ---------------------------------------------------------------

class Client:
    """HTTP from a chosen loopback source address (one connection each)."""

    def __init__(self, srv, source):
        u = urllib.parse.urlparse(srv.url)
        self.host, self.port, self.source = u.hostname, u.port, source

    def raw(self, method, path, body=None, token=None, basic=None):
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        if basic:
            h["Authorization"] = "Basic " + base64.b64encode(
                f"{basic[0]}:{basic[1]}".encode()).decode()
        c = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                       source_address=(self.source, 0))
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def call(self, method, path, body=None, token=None, basic=None):
        st, hdrs, data = self.raw(method, path, body, token, basic)
        try:
            return st, (json.loads(data) if data else {}), hdrs
        except ValueError:
            return st, {"_raw": data}, hdrs


def totp(secret_b32, step):
    """RFC 6238 (HMAC-SHA1, 6 digits), computed independently of llave."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


class Operators:
    """Operator logins with a TOTP step never used before for that login."""

    def __init__(self, accounts):
        self.acc = {a["login"]: a for a in accounts}
        self.last = {}

    def login(self, client, login, password=None):
        a = self.acc[login]
        step = max(int(time.time()) // 30 - 1, self.last.get(login, 0) + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.last[login] = step
        return client.call("POST", "/api/v1/operators/login",
                           {"login": login,
                            "password": password or a["password"],
                            "totp": totp(a["totp_secret"], step)})

    def token(self, client, login):
        st, o, _ = self.login(client, login)
        if st != 200:
            raise RuntimeError(f"{login} cannot log in: {st} {o}")
        return o["token"]


def dni(n):
    return f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def outbox(d):
    box = os.path.join(d, "outbox")
    out = []
    for name in sorted(os.listdir(box)) if os.path.isdir(box) else []:
        with open(os.path.join(box, name)) as f:
            out.append(json.load(f))
    return out


def last_code(d, mobile, digits):
    msgs = [m for m in outbox(d) if m["to"] == mobile]
    m = re.search(r"\b(\d{%d})\b" % digits, msgs[-1]["text"]) if msgs \
        else None
    return m.group(1) if m else None


def audit_rows(d):
    """Audit entries other than service start and stop."""
    return int(sql(d, "select count(*) from audit_log where event not like "
                      "'service.%'"))


def install(tmp):
    d = os.path.join(tmp, "demo")
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump(FAST, f)
    run([LLAVE, "init", d, "--demo", "--config", cfg], check_rc=0)
    # a second security officer, so that the two-person rule can be shown
    rc, out, err = llave(d, "operator", "add", "so-two", "--role",
                         "security_officer", "--json")
    if rc != 0:
        raise RuntimeError(err)
    with open(os.path.join(d, "demo-credentials.json")) as f:
        creds = json.load(f)
    ops = [a for a in creds["accounts"] if a.get("kind") == "operator"]
    ops.append(dict(json.loads(out), login="so-two"))
    return d, creds, ops


# ---- item 3: failed logins slow the attacker, not the holder ----------------

def check_no_lockout_weapon(d, srv, ops):
    attacker, holder = Client(srv, "127.0.0.1"), Client(srv, "127.0.0.2")
    lg = "demo-security-officer"
    answers = []
    for i in range(25):
        st, o, h = attacker.call("POST", "/api/v1/operators/login",
                                 {"login": lg, "password": f"Guess-{i}-x1A",
                                  "totp": "123456"})
        answers.append((st, h.get("Retry-After")))
    n401 = sum(1 for st, _ in answers if st == 401)
    n429 = [ra for st, ra in answers if st == 429]
    check(answers[:5] == [(401, None)] * 5,
          f"the first 5 wrong logins: 401 ({answers[:5]})")
    check(len(n429) >= 15 and n401 + len(n429) == 25 and
          all(ra and ra.isdigit() and int(ra) >= 1 for ra in n429),
          f"then 429 with Retry-After ({n401} x 401, {len(n429)} x 429)")
    check(sql(d, f"select locked || '' || enabled from operators where "
                 f"login='{lg}'") == "01",
          "the security officer is neither locked nor disabled")
    check(int(sql(d, "select count(*) from audit_log where event="
                     f"'operator.login' and object='{lg}' and "
                     "result='failure'")) == n401,
          "only the attempts that ran are audited one by one")
    st, _, _ = ops.login(attacker, lg)
    check(st == 429, "even the right secrets wait at the attacker's address")
    t0 = time.monotonic()
    st, o, _ = ops.login(holder, lg)
    took = time.monotonic() - t0
    check(st == 200 and o.get("token") and took < 5,
          f"the holder logs in from 127.0.0.2 with password + TOTP at once "
          f"({st}, {took:.2f} s)")
    return o.get("token")


# ---- item 4: one answer for every failed login -------------------------------

def register(client, officer, number, mobile):
    body = {"level": "advanced", "given_name": "Ana", "surname": "Ruiz Gil",
            "country": "ES", "birth_date": "1984-02-11", "mobile": mobile,
            "email": "ana@example.es", "evidence_ref": "EXP-11",
            "document": {"type": "DNI", "number": number, "country": "ES",
                         "expiry": "2032-01-01"}}
    st, o, _ = client.call("POST", "/api/v1/ra/citizens", body, officer)
    check(st == 201, f"citizen {number} registered ({st} {o})")
    return o.get("id")


def activate(d, client, number, mobile):
    code = last_code(d, mobile, 8)
    st, o, _ = client.call("POST", "/api/v1/citizens/activate",
                           {"user_id": number, "code": code, "password": PW})
    check(st == 200, f"citizen {number} activated ({st} {o})")


def check_one_answer(d, srv, ops):
    office = Client(srv, "127.0.0.3")
    officer = ops.token(office, "demo-ra-officer")
    active, inactive, locked = dni(41000001), dni(41000002), dni(41000003)
    register(office, officer, active, "+34611100001")
    activate(d, office, active, "+34611100001")
    register(office, officer, inactive, "+34611100002")
    lid = register(office, officer, locked, "+34611100003")
    activate(d, office, locked, "+34611100003")
    st, o, _ = office.call("POST", f"/api/v1/ra/citizens/{lid}/lock", None,
                           officer)
    check(st == 200 and o.get("locked") is True,
          f"an officer locks a citizen ({st} {o})")
    guesser = Client(srv, "127.0.0.4")
    seen = {}
    for kind, uid in (("unknown id", dni(49999999)), ("active", active),
                      ("not activated", inactive), ("locked", locked)):
        st, _, body = guesser.raw("POST", "/api/v1/auth/login",
                                  {"user_id": uid, "password": "Wrong-1-clave"})
        seen[kind] = (st, body)
    first = seen["unknown id"]
    check(first[0] == 401 and all(v == first for v in seen.values()),
          f"the four login failure kinds: byte-identical answers ({seen})")
    csc = {}
    for kind, uid in (("unknown id", dni(49999998)), ("not activated",
                                                     inactive),
                      ("locked", locked)):
        st, _, body = guesser.raw("POST", "/csc/v2/auth/login", {},
                                  basic=(uid, "Wrong-1-clave"))
        csc[kind] = (st, body)
    check(len(set(csc.values())) == 1 and
          list(csc.values())[0][0] == 400,  # CSC v2 §11.2
          f"CSC auth/login: the same answer too ({csc})")
    st, o, _ = guesser.call("POST", "/api/v1/auth/login",
                            {"user_id": locked, "password": PW})
    check(st == 403 and "locked" in o.get("message", ""),
          f"only the holder, with the password, learns of the lock ({st})")


# ---- item 5: the audit trail cannot be flooded ------------------------------

def check_audit_flood(d, tmp, ops):
    # a fresh start: whatever was counted before is written at the stop
    srv = Server(d)
    try:
        flood = Client(srv, "127.0.0.5")
        before = audit_rows(d)
        seq = int(sql(d, "select max(seq) from audit_log"))

        def one(i):
            st, _, _ = flood.raw("POST", "/api/v1/citizens/activate",
                                 {"user_id": dni(50000000 + i),
                                  "code": f"{i:08d}", "password": PW})
            return st

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(3000)))
    finally:
        check(srv.stop() == 0, "llaved stops cleanly (and writes the "
                               "last aggregate)")
    added = audit_rows(d) - before
    check(set(statuses) <= {401, 429} and statuses.count(429) >= 2800,
          f"3 000 anonymous activations: 401, then 429 once the source "
          f"used its 100 failures ({statuses.count(401)} x 401, "
          f"{statuses.count(429)} x 429)")
    check(added <= 10, f"3 000 anonymous activations added {added} audit "
                       "rows (at most 10)")
    total = sql(d, "select sum(json_extract(details, '$.count')) from "
                   f"audit_log where seq > {seq} and event="
                   "'auth.failures_aggregate' and object='127.0.0.5'")
    check(total == "3000", f"the aggregate entries account for all 3 000 "
                           f"({total})")
    check(sql(d, f"select count(*) from audit_log where seq > {seq} and "
                 f"details like '%{dni(50000001)}%'") == "0",
          "no unknown id is written in the trail")


# ---- item 6: rate limits on what costs money ------------------------------

def check_otp_limits(d, srv, creds):
    acc = creds["accounts"]
    citizen = [a for a in acc if a["kind"] == "citizen"][0]
    app = [a for a in acc if a["kind"] == "application"][0]
    c = Client(srv, "127.0.0.6")
    digest = base64.b64encode(hashlib.sha256(b"factura").digest()).decode()
    st, o, _ = c.call("POST", "/api/v1/transactions",
                      {"owner": citizen["user_id"],
                       "digest_algorithm": "SHA-256",
                       "documents": [{"id": "d1", "name": "factura.pdf",
                                      "digest": digest}],
                       "redirect_ok_url": "https://app.example/ok",
                       "redirect_error_url": "https://app.example/error"},
                      basic=(app["client_id"], app["client_secret"]))
    tx = o.get("id")
    check(st == 201 and tx, f"a transaction for the demo citizen ({st} {o})")
    st, o, _ = c.call("POST", f"/api/v1/transactions/{tx}/login",
                      {"user_id": citizen["user_id"],
                       "password": citizen["password"]})
    tok = o.get("token")
    check(st == 200 and tok, f"the citizen logs in to it ({st})")
    sent = []
    for i in range(3):
        st, o, _ = c.call("POST", f"/api/v1/transactions/{tx}/otp", None, tok)
        sent.append(st)
    check(sent == [200, 200, 200], f"3 OTPs for one transaction ({sent})")
    n = len(outbox(d))
    otps = sql(d, "select count(*) from otps")
    st, o, h = c.call("POST", f"/api/v1/transactions/{tx}/otp", None, tok)
    ra = h.get("Retry-After", "")
    check(st == 429 and ra.isdigit() and 1 <= int(ra) <= 300,
          f"the 4th within 5 minutes: 429 with Retry-After ({st} {ra} {o})")
    check(len(outbox(d)) == n and sql(d, "select count(*) from otps") == otps,
          "no SMS sent and no code stored for the refused one")


# ---- item 3 end: administrators ----------------------------------------------

def check_admins(d, srv, ops, so_token):
    c = Client(srv, "127.0.0.7")
    sysadmin = ops.token(c, "demo-sysadmin")
    st, o, _ = c.call("POST", "/api/v1/operators/so-two/disable", None,
                      so_token)
    check(st == 202 and o.get("pending") is True,
          f"disabling an administrator: the first request waits ({st} {o})")
    st, o, _ = c.call("POST", "/api/v1/operators/so-two/disable", None,
                      so_token)
    check(st == 202 and sql(d, "select enabled from operators where "
                               "login='so-two'") == "1",
          "the same administrator asking again changes nothing")
    st, o, _ = c.call("POST", "/api/v1/operators/so-two/disable", None,
                      sysadmin)
    check(st == 200 and o.get("enabled") is False and
          sql(d, "select enabled from operators where login='so-two'") == "0",
          f"a second administrator's request disables it ({st} {o})")
    check(sql(d, "select count(*) from audit_log where event="
                 "'operator.disable' and object='so-two' and details like "
                 "'%demo-security-officer%' and details like "
                 "'%demo-sysadmin%'") == "1",
          "the audit entry names both administrators (CPS §5.2.4)")
    for who, tok in (("the sysadmin", sysadmin), ("itself", so_token)):
        st, o, _ = c.call("POST", "/api/v1/operators/demo-security-officer/"
                          "disable", None, tok)
        check(st == 409 and "last active security_officer" in
              o.get("message", ""),
              f"the last security officer cannot be disabled by {who} "
              f"({st} {o})")
    st, o, _ = c.call("POST", "/api/v1/operators/demo-sysadmin/disable", None,
                      so_token)
    check(st == 409, f"nor the last sysadmin ({st} {o})")
    check(sql(d, "select count(*) from operators where enabled=1 and login "
                 "in ('demo-security-officer', 'demo-sysadmin')") == "2",
          "both remain enabled")


# ---- the application secret (HTTP Basic) is throttled like a login -------

def check_app_secret_throttle(d, srv, creds):
    app = [a for a in creds["accounts"] if a.get("kind") == "application"][0]
    cid, secret = app["client_id"], app["client_secret"]
    guesser, owner = Client(srv, "127.0.0.8"), Client(srv, "127.0.0.9")
    before = audit_rows(d)
    got = [guesser.call("GET", "/api/v1/transactions/" + "0" * 32, None,
                        basic=(cid, "wrong-secret-%d" % i))
           for i in range(8)]
    statuses = [st for st, _, _ in got]
    check(statuses[:5] == [401] * 5 and set(statuses[5:]) == {429} and
          all("Retry-After" in h for st, _, h in got if st == 429),
          f"wrong application secrets: 401 five times, then 429 with "
          f"Retry-After ({statuses})")
    st, _, _ = guesser.call("GET", "/api/v1/transactions/" + "0" * 32, None,
                            basic=(cid, secret))
    check(st == 429, f"while throttled, even the right secret waits from "
                     f"that source ({st})")
    st, o, _ = owner.call("GET", "/api/v1/transactions/" + "0" * 32, None,
                          basic=(cid, secret))
    check(st == 404, f"the application itself, from its own address, is not "
                     f"slowed: its request reaches the handler ({st} {o})")
    check(audit_rows(d) == before, "no audit row per failed secret (the "
                                   "aggregate is written later)")


def main():
    tmp = workdir("frontdoor-auth")
    d, creds, accounts = install(tmp)
    ops = Operators(accounts)
    srv = Server(d)
    try:
        so_token = check_no_lockout_weapon(d, srv, ops)
        check_one_answer(d, srv, ops)
        check_otp_limits(d, srv, creds)
        check_admins(d, srv, ops, so_token)
        check_app_secret_throttle(d, srv, creds)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    check_audit_flood(d, tmp, ops)
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0, f"audit chain intact after all of it: {out.strip()}")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
