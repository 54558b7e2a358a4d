"""Issue 11 item 7, issue 12 item 7: every JSON request body is read by one
strict routine (src/http/http_body.c).  Against a real llaved, for every
POST route that takes JSON:

  - malformed JSON, a value of the wrong type and an unknown member (at the
    top and inside objects and arrays) are answered 400 invalid_request, in
    the CSC error shape under /csc/, naming the fault;
  - nothing stored changes: the row count of every table of the store (read
    with the sqlite3 command line), the failure counters and the SMS outbox
    are the same before and after all of it.

The list of routes is checked against the route tables in src/http/, so a
new POST route cannot escape this test.  Then the limits docs/API.md states
in characters are shown to count characters (a transaction's document name
of 255 two-byte characters is taken, 256 are not), and the leniencies kept
on purpose still work (an empty CSC info body, v1 booleans as strings)."""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import time
import urllib.request

from lvtest import (LLAVE, SOURCE, Server, check, cleanup, finish, outbox_otp,
                    run, sql, workdir)

FAST = {"argon2_memory_mib": 1, "argon2_time": 1}
ID = "0123456789abcdef0123456789abcdef"  # well formed, names nothing
UNKNOWN = "zz_unknown"
SHA256_OID = "2.16.840.1.101.3.4.2.1"
HASH = base64.b64encode(hashlib.sha256(b"strict input").digest()).decode()

# POST routes whose body is not JSON (and the reader that judges it).
NOT_JSON = {
    "/ocsp": "DER OCSPRequest (RFC 6960), fuzz/fuzz_ocsp_request.c",
    "/tsa": "DER TimeStampReq (RFC 3161), fuzz/fuzz_ts_request.c",
    "/tsa/{unit}": "DER TimeStampReq (RFC 3161), fuzz/fuzz_ts_request.c",
    "/api/v1/register/ecert": "CMS SignedData; its JSON content is read "
                              "strictly by ra/ecert.c",
    "/csc/v2/oauth2/token": "application/x-www-form-urlencoded (RFC 6749 "
                            "§4.1.3) read by oauth/oauth_form.c "
                            "(tests/unit/test_oauth.c, test_oauth.py), or "
                            "JSON against its table",
    "/csc/v2/oauth2/revoke": "application/x-www-form-urlencoded (RFC 7009 "
                             "§2.1), as oauth2/token",
}


def totp(secret_b32):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30),
                   hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


class Api:
    def __init__(self, srv):
        self.url = srv.url

    def call(self, path, raw=None, body=None, auth=None, method="POST"):
        h = {"Content-Type": "application/json"}
        if isinstance(auth, dict):  # the portal: cookie and CSRF token
            h.update(auth)
        elif auth:
            h["Authorization"] = auth
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text) if text else {}
        except ValueError:
            return status, {"_raw": text}


def basic(user, password):
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def install(tmp):
    d = os.path.join(tmp, "demo")
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump(FAST, f)
    run([LLAVE, "init", d, "--demo", "--config", cfg], check_rc=0)
    with open(os.path.join(d, "demo-credentials.json")) as f:
        return d, json.load(f)["accounts"]


def credentials(api, accounts):
    """Bearer and Basic headers for every kind of caller."""
    ops = {a["login"]: a for a in accounts if a["kind"] == "operator"}
    citizen = [a for a in accounts if a["kind"] == "citizen"][0]
    app = [a for a in accounts if a["kind"] == "application"][0]
    auth = {"app": basic(app["client_id"], app["client_secret"]),
            "basic_citizen": basic(citizen["user_id"], citizen["password"])}
    for role in ("ra-officer", "ra-admin", "revocation-officer",
                 "security-officer"):
        a = ops[f"demo-{role}"]
        st, o = api.call("/api/v1/operators/login",
                         body={"login": a["login"], "password": a["password"],
                               "totp": totp(a["totp_secret"])})
        check(st == 200, f"{a['login']} logs in ({st} {o})")
        auth[role] = "Bearer " + o.get("token", "")
    st, o = api.call("/api/v1/auth/login",
                     body={"user_id": citizen["user_id"],
                           "password": citizen["password"]})
    check(st == 200, f"the demo citizen logs in ({st} {o})")
    auth["citizen"] = "Bearer " + o.get("token", "")
    return auth, citizen


def portal_auth(api, d, citizen):
    """The citizen portal's session (issue 15 item 4): password, then the
    SMS code; its cookie and CSRF token as the page sends them."""
    st, o = api.call("/api/v1/portal/login/otp",
                     body={"user_id": citizen["user_id"],
                           "password": citizen["password"]})
    check(st == 200, f"the demo citizen asks for a portal code ({st} {o})")
    code = outbox_otp(d, citizen["mobile"], "portal")
    req = urllib.request.Request(
        api.url + "/api/v1/portal/login", method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"user_id": citizen["user_id"],
                         "password": citizen["password"],
                         "otp_id": o.get("otp_id"), "otp": code}).encode())
    with urllib.request.urlopen(req, timeout=60) as r:
        cookie = r.headers["Set-Cookie"].split(";")[0]
        csrf = json.loads(r.read())["csrf"]
    return {"Cookie": cookie, "X-CSRF-Token": csrf}


def routes(cz):
    """(route pattern, path, caller, a body of the right shape).  The
    bodies are never sent as they are: only broken copies of them."""
    cid, uid, serial = cz["citizen_id"], cz["user_id"], cz["signing_certificate"]
    doc = {"type": "DNI", "number": uid, "expiry": "2031-01-01"}
    person = {"given_name": "Eva", "surname": "Ruiz", "id_type": "DNI",
              "id_number": "12345678Z", "email": "eva@example.es"}
    revoke = {"serial": serial, "reason": "keyCompromise", "comment": "c",
              "contact": "c@example.es"}
    v2_doc = {"document": HASH, "signature_format": "C"}
    return [
        ("/api/v1/operators/login", "/api/v1/operators/login", None,
         {"login": "demo-ra-officer", "password": "x", "totp": "000000"}),
        ("/api/v1/operators/login/certificate",
         "/api/v1/operators/login/certificate", None, {}),
        ("/api/v1/register/ecert/tls", "/api/v1/register/ecert/tls", None,
         {"mobile": "+34600999002", "email": "t@example.es"}),
        ("/api/v1/operators/{login}/disable",
         "/api/v1/operators/demo-auditor/disable", "security-officer", {}),
        ("/api/v1/operators/{login}/enable",
         "/api/v1/operators/demo-auditor/enable", "security-officer", {}),
        ("/api/v1/auth/login", "/api/v1/auth/login", None,
         {"user_id": uid, "password": "x"}),
        ("/api/v1/auth/logout", "/api/v1/auth/logout", "citizen", {}),
        ("/api/v1/auth/password", "/api/v1/auth/password", None,
         {"user_id": uid, "password": "x", "new_password": "y"}),
        ("/api/v1/citizens/activate", "/api/v1/citizens/activate", None,
         {"user_id": uid, "code": "12345678", "password": "x"}),
        ("/api/v1/ra/citizens/{id}/unlock",
         f"/api/v1/ra/citizens/{cid}/unlock", "ra-officer", {}),
        ("/api/v1/ra/citizens/{id}/lock",
         f"/api/v1/ra/citizens/{cid}/lock", "ra-officer", {}),
        ("/api/v1/ra/citizens", "/api/v1/ra/citizens", "ra-officer",
         {"given_name": "Luis", "surname": "Martin", "mobile": "+34600999001",
          "email": "l@example.es", "evidence_ref": "E-1",
          "document": dict(doc, number="12345678Z")}),
        ("/api/v1/ra/citizens/{id}/documents",
         f"/api/v1/ra/citizens/{cid}/documents", "ra-officer",
         {"reason": "loss", "evidence_ref": "E-2", "document": doc}),
        ("/api/v1/ra/citizens/{id}/activation",
         f"/api/v1/ra/citizens/{cid}/activation", "ra-officer", {}),
        ("/api/v1/citizens/{id}/certificates",
         f"/api/v1/citizens/{cid}/certificates", "citizen",
         {"profile": "natural-person-cloud"}),
        ("/api/v1/citizens/{id}/revocations/otp",
         f"/api/v1/citizens/{cid}/revocations/otp", "citizen",
         {"serial": serial}),
        ("/api/v1/citizens/{id}/revocations",
         f"/api/v1/citizens/{cid}/revocations", "citizen",
         dict(revoke, password="x", otp_id=ID, otp="000000")),
        ("/api/v1/portal/login/otp", "/api/v1/portal/login/otp", None,
         {"user_id": uid, "password": "x"}),
        ("/api/v1/portal/login", "/api/v1/portal/login", None,
         {"user_id": uid, "password": "x", "otp_id": ID, "otp": "000000"}),
        ("/api/v1/portal/logout", "/api/v1/portal/logout", "portal", {}),
        ("/api/v1/portal/password", "/api/v1/portal/password", "portal",
         {"password": "x", "new_password": "y"}),
        ("/api/v1/portal/certificates/{serial}/revocation/otp",
         f"/api/v1/portal/certificates/{serial}/revocation/otp", "portal", {}),
        ("/api/v1/portal/certificates/{serial}/revocation",
         f"/api/v1/portal/certificates/{serial}/revocation", "portal",
         {"password": "x", "otp_id": ID, "otp": "000000"}),
        ("/api/v1/portal/certificates/{serial}/acceptance/otp",
         f"/api/v1/portal/certificates/{serial}/acceptance/otp", "portal", {}),
        ("/api/v1/portal/certificates/{serial}/acceptance",
         f"/api/v1/portal/certificates/{serial}/acceptance", "portal",
         {"password": "x", "otp_id": ID, "otp": "000000"}),
        ("/api/v1/ra/organizations", "/api/v1/ra/organizations",
         "ra-officer",
         {"legal_name": "Ejemplo SL", "nif": "B12345674",
          "locality": "Madrid", "contact_email": "c@example.es"}),
        ("/api/v1/ra/organizations/{id}/representatives",
         f"/api/v1/ra/organizations/{ID}/representatives", "ra-officer",
         dict(person, powers={"scope": "total", "from": "2026-01-01",
                              "until": "2028-01-01", "document": "E-3"})),
        ("/api/v1/ra/organizations/{id}/members",
         f"/api/v1/ra/organizations/{ID}/members", "ra-officer", person),
        ("/api/v1/ra/requests", "/api/v1/ra/requests", "ra-officer",
         {"org_id": ID, "profile": "eseal", "csr": "x"}),
        ("/api/v1/ra/requests/{id}/approve",
         f"/api/v1/ra/requests/{ID}/approve", "ra-admin", {}),
        ("/api/v1/ra/requests/{id}/reject",
         f"/api/v1/ra/requests/{ID}/reject", "ra-admin", {"reason": "no"}),
        ("/api/v1/ra/revocations", "/api/v1/ra/revocations",
         "revocation-officer", revoke),
        ("/api/v1/transactions", "/api/v1/transactions", "app",
         {"owner": uid, "digest_algorithm": "SHA-256",
          "documents": [{"id": "d1", "name": "n", "digest": HASH}],
          "redirect_ok_url": "https://app.example/ok",
          "redirect_error_url": "https://app.example/error"}),
        ("/api/v1/transactions/{id}/login",
         f"/api/v1/transactions/{ID}/login", None,
         {"user_id": uid, "password": "x"}),
        ("/api/v1/transactions/{id}/otp", f"/api/v1/transactions/{ID}/otp",
         "citizen", {}),
        ("/api/v1/oauth/{id}/login", f"/api/v1/oauth/{ID}/login", None,
         {"user_id": uid, "password": "x"}),
        ("/api/v1/oauth/{id}/otp", f"/api/v1/oauth/{ID}/otp", "citizen", {}),
        ("/api/v1/oauth/{id}/approve", f"/api/v1/oauth/{ID}/approve",
         "citizen", {"password": "x", "otp": "000000"}),
        ("/api/v1/oauth/{id}/deny", f"/api/v1/oauth/{ID}/deny", "citizen",
         {}),
        ("/api/v1/transactions/{id}/confirm",
         f"/api/v1/transactions/{ID}/confirm", "citizen",
         {"password": "x", "otp": "000000"}),
        ("/api/v1/transactions/{id}/cancel",
         f"/api/v1/transactions/{ID}/cancel", "citizen", {}),
        ("/csc/v2/info", "/csc/v2/info", None, {"lang": "en-US"}),
        ("/csc/v2/auth/login", "/csc/v2/auth/login", "basic_citizen",
         {"clientData": "x"}),
        ("/csc/v2/auth/revoke", "/csc/v2/auth/revoke", "citizen",
         {"token": "x"}),
        ("/csc/v2/credentials/list", "/csc/v2/credentials/list", "citizen",
         {"credentialInfo": True}),
        ("/csc/v2/credentials/info", "/csc/v2/credentials/info", "citizen",
         {"credentialID": serial, "certInfo": True}),
        ("/csc/v2/credentials/sendOTP", "/csc/v2/credentials/sendOTP",
         "citizen", {"credentialID": serial, "hashes": [HASH],
                     "hashAlgorithmOID": SHA256_OID}),
        ("/csc/v2/credentials/authorize", "/csc/v2/credentials/authorize",
         "citizen", {"credentialID": serial, "numSignatures": 1,
                     "hashes": [HASH], "hashAlgorithmOID": SHA256_OID,
                     "authData": [{"id": "PIN", "value": "x"}]}),
        ("/csc/v2/credentials/extendTransaction",
         "/csc/v2/credentials/extendTransaction", "citizen",
         {"credentialID": serial, "SAD": "x"}),
        ("/csc/v2/signatures/signHash", "/csc/v2/signatures/signHash",
         "citizen", {"credentialID": serial, "SAD": "x", "hashes": [HASH]}),
        ("/csc/v2/signatures/signDoc", "/csc/v2/signatures/signDoc",
         "citizen", {"credentialID": serial, "SAD": "x",
                     "documents": [v2_doc]}),
        ("/csc/v1/info", "/csc/v1/info", None, {"lang": "en-US"}),
        ("/csc/v1/auth/login", "/csc/v1/auth/login", "basic_citizen",
         {"clientData": "x"}),
        ("/csc/v1/auth/revoke", "/csc/v1/auth/revoke", "citizen",
         {"token": "x"}),
        ("/csc/v1/credentials/list", "/csc/v1/credentials/list", "citizen",
         {"maxResults": 10}),
        ("/csc/v1/credentials/info", "/csc/v1/credentials/info", "citizen",
         {"credentialID": serial, "certInfo": True}),
        ("/csc/v1/credentials/sendOTP", "/csc/v1/credentials/sendOTP",
         "citizen", {"credentialID": serial, "hash": [HASH],
                     "hashAlgo": SHA256_OID}),
        ("/csc/v1/credentials/authorize", "/csc/v1/credentials/authorize",
         "citizen", {"credentialID": serial, "numSignatures": 1,
                     "hash": [HASH], "PIN": "x", "OTP": "000000"}),
        ("/csc/v1/credentials/extendTransaction",
         "/csc/v1/credentials/extendTransaction", "citizen",
         {"credentialID": serial, "hash": [HASH], "SAD": "x"}),
        ("/csc/v1/signatures/signHash", "/csc/v1/signatures/signHash",
         "citizen", {"credentialID": serial, "SAD": "x", "hash": [HASH]}),
    ]


# Unknown members below the top level: (path, body, where the member is).
def nested_unknowns(table):
    bodies = {pattern: (path, body) for pattern, path, _, body in table}
    out = []
    for pattern, key, index in (
            ("/api/v1/ra/citizens", "document", None),
            ("/api/v1/ra/organizations/{id}/representatives", "powers", None),
            ("/api/v1/transactions", "documents", 0),
            ("/csc/v2/credentials/authorize", "authData", 0),
            ("/csc/v2/signatures/signDoc", "documents", 0)):
        path, body = bodies[pattern]
        body = json.loads(json.dumps(body))
        target = body[key] if index is None else body[key][index]
        target[UNKNOWN] = 1
        where = key if index is None else f"{key}[{index}]"
        out.append((pattern, path, body, f"{where}.{UNKNOWN}"))
    return out


def source_post_routes():
    found = set()
    src = os.path.join(SOURCE, "src", "http")
    for name in sorted(os.listdir(src)):
        if name.endswith(".c"):
            with open(os.path.join(src, name)) as f:
                found |= set(re.findall(r'\{\s*"POST",\s*"([^"]+)"', f.read()))
    return found


def stored_state(d):
    """Row counts of every table, failure counters, SMS sent."""
    tables = sql(d, "select name from sqlite_master where type='table' "
                    "order by name").split()
    counts = sql(d, "select " + " || ',' || ".join(
        f"(select count(*) from \"{t}\")" for t in tables))
    counters = sql(d, "select (select group_concat(failed_attempts || '/' || "
                      "locked) from citizen_credentials) || ';' || "
                      "(select group_concat(enabled || '/' || locked || '/' "
                      "|| failed_attempts) from operators)")
    box = os.path.join(d, "outbox")
    sms = len(os.listdir(box)) if os.path.isdir(box) else 0
    return dict(zip(tables, counts.split(","))), counters, sms


def error_of(path, o):
    """(error, text) of an answer, CSC shape under /csc/."""
    if path.startswith("/csc/"):
        return o.get("error"), o.get("error_description", ""), \
            "message" not in o
    return o.get("error"), o.get("message", ""), "error_description" not in o


def refused(api, auth, path, caller, raw, want, what):
    st, o = api.call(path, raw=raw, auth=auth.get(caller))
    err, text, shape = error_of(path, o)
    return check(st == 400 and err == "invalid_request" and want in text and
                 shape, f"{path}: {what} -> 400 invalid_request ({st} {o})")


def wrong_type(body):
    """The body with its first member given a value of another type (an
    array for a number or a boolean: a v1 string would be taken)."""
    if not body:
        return None, b'"a string"'
    key = next(iter(body))
    bad = dict(body)
    bad[key] = 12345 if isinstance(body[key], str) else ["x"]
    return key, json.dumps(bad).encode()


def check_sweep(api, auth, table):
    for pattern, path, caller, body in table:
        refused(api, auth, path, caller, b'{"a": ', "not JSON",
                "malformed JSON")
        refused(api, auth, path, caller, b'{"a": "\xff"}', "not JSON",
                "text that is not UTF-8")
        refused(api, auth, path, caller, b'{"a": "x\\u0000y"}',
                "not JSON", "a NUL character")
        key, raw = wrong_type(body)
        want = f"field '{key}' must be" if key else "must be a JSON object"
        refused(api, auth, path, caller, raw, want,
                f"wrong type of {key or 'the body'}")
        refused(api, auth, path, caller,
                json.dumps(dict(body, **{UNKNOWN: 1})).encode(),
                f"unknown field '{UNKNOWN}'", "an unknown field")
    for pattern, path, body, where in nested_unknowns(table):
        caller = [c for p, _, c, _ in table if p == pattern][0]
        refused(api, auth, path, caller, json.dumps(body).encode(),
                f"unknown field '{where}'", f"an unknown field {where}")
    # CSC v1 clients may send numbers and booleans as strings, not words
    v1_auth = [b for p, _, _, b in table
               if p == "/csc/v1/credentials/authorize"][0]
    refused(api, auth, "/csc/v1/credentials/authorize", "citizen",
            json.dumps(dict(v1_auth, numSignatures="one")).encode(),
            "numSignatures", "v1 numSignatures \"one\"")
    refused(api, auth, "/csc/v1/credentials/info", "citizen",
            json.dumps({"credentialID": v1_auth["credentialID"],
                        "certInfo": "yes"}).encode(),
            "certInfo", "v1 certInfo \"yes\"")


def check_characters(api, auth, d, cz):
    """docs/API.md: name and title of 1-255 characters, id of 1-128."""
    def tx(name, title, doc_id="d1"):
        return api.call("/api/v1/transactions", auth=auth["app"], body={
            "owner": cz["user_id"], "digest_algorithm": "SHA-256",
            "documents": [{"id": doc_id, "name": name, "title": title,
                           "digest": HASH}],
            "redirect_ok_url": "https://app.example/ok",
            "redirect_error_url": "https://app.example/error"})
    st, o = tx("ñ" * 255, "€" * 255, "ü" * 128)
    check(st == 201, f"a document name of 255 two-byte characters (510 "
                     f"bytes), a title of 255 three-byte ones and an id of "
                     f"128 are taken ({st} {o})")
    if st == 201:
        got = sql(d, "select length(doc_id) || ',' || length(name) || ',' || "
                     "length(title) || ',' || length(cast(title as blob)) "
                     f"from sign_documents where tx_id='{o['id']}'")
        check(got == "128,255,255,765", f"and stored whole ({got})")
    for name, title, doc_id, what in (("ñ" * 256, "t", "d1", "name"),
                                      ("n", "€" * 256, "d1", "title"),
                                      ("n", "t", "ü" * 129, "id")):
        st, o = tx(name, title, doc_id)
        check(st == 400 and "characters" in o.get("message", ""),
              f"one character more in the {what}: 400 ({st} {o})")


def check_lenient(api, auth, cz):
    for ver in ("v1", "v2"):
        st, o = api.call(f"/csc/{ver}/info", raw=b"")
        check(st == 200 and o.get("specs"),
              f"CSC {ver} info with an empty body: 200 ({st})")
    st, o = api.call("/csc/v2/info", method="GET")
    check(st == 200, f"GET /csc/v2/info: 200 ({st})")
    st, o = api.call("/csc/v1/credentials/info", auth=auth["citizen"],
                     body={"credentialID": cz["signing_certificate"],
                           "certInfo": "true", "authInfo": "false"})
    check(st == 200 and "serialNumber" in o.get("cert", {}) and
          "PIN" not in o,
          f"v1 credentials/info with \"true\"/\"false\" strings ({st} {o})")


def main():
    tmp = workdir("strict")
    srv = None
    try:
        d, accounts = install(tmp)
        srv = Server(d)
        api = Api(srv)
        auth, citizen = credentials(api, accounts)
        auth["portal"] = portal_auth(api, d, citizen)
        table = routes(citizen)
        covered = {p for p, _, _, _ in table}
        in_source = source_post_routes()
        check(in_source == covered | set(NOT_JSON),
              "every POST route of src/http/ is covered here or listed as "
              f"not JSON (missing: {sorted(in_source - covered - set(NOT_JSON))}"
              f", stale: {sorted((covered | set(NOT_JSON)) - in_source)})")
        # the OCSP refresher's first pass (at nice 10, so late on a busy
        # machine) writes responses and an audit entry: not the sweep's
        check(srv.wait_log(r"OCSP refresher: \d+ response"),
              "the OCSP refresher's first pass is done")
        before = stored_state(d)
        check_sweep(api, auth, table)
        after = stored_state(d)
        changed = {t: (before[0][t], after[0].get(t)) for t in before[0]
                   if before[0][t] != after[0].get(t)}
        check(not changed and before[1:] == after[1:],
              f"{len(table)} routes refused every broken body and nothing "
              f"stored changed: row counts of {len(before[0])} tables, "
              f"failure counters, SMS outbox ({changed} {before[1:]} "
              f"{after[1:]})")
        check_characters(api, auth, d, citizen)
        check_lenient(api, auth, citizen)
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
