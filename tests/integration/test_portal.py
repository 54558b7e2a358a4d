"""Issue 15 item 4: the citizen portal's API (/api/v1/portal/...) against a
real llaved.  Login with user id + password + an SMS code bound to the
login; the session cookie (HttpOnly, SameSite=Strict) and X-CSRF-Token;
my data; my certificates (download checked with `openssl x509`); my
signature history with a receipt time-stamped by the TSA (checked with
`openssl ts -verify`); revocation with password + an OTP bound to the
certificate (checked with `openssl ocsp`); password change.  Every refusal
leaves the store as it was."""
import http.client
import json
import os
import re
import urllib.request

from lvtest import (accept_certificate, outbox_otp, check, cleanup, finish,
                    llave, openssl, sql, workdir, Server)
from test_sign import PW, Api, dni, install, outbox, register

COOKIE = "llave_portal"


class Portal:
    """A browser's view of the portal: the cookie jar and the CSRF token."""

    def __init__(self, srv):
        self.srv = srv
        self.cookie = None
        self.csrf = None

    def call(self, method, path, body=None, raw=None, csrf=True,
             cookie=None):
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
        if raw is not None:
            data = raw
        if data is not None:
            h["Content-Type"] = "application/json"
        c = cookie if cookie is not None else self.cookie
        if c:
            h["Cookie"] = f"{COOKIE}={c}"
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        st, headers, out = self.srv.request(method, path, data, h)
        return st, headers, out

    def json(self, method, path, body=None, **kw):
        st, headers, out = self.call(method, path, body, **kw)
        try:
            return st, json.loads(out or b"{}"), headers
        except ValueError:
            return st, {"_raw": out}, headers

    def login(self, d, citizen, password=None):
        pw = password or citizen["password"]
        st, o, _ = self.json("POST", "/api/v1/portal/login/otp",
                             {"user_id": citizen["user_id"], "password": pw})
        assert st == 200, (st, o)
        code = outbox_otp(d, citizen["mobile"], "portal")
        st, r, h = self.json("POST", "/api/v1/portal/login",
                             {"user_id": citizen["user_id"], "password": pw,
                              "otp_id": o["otp_id"], "otp": code})
        assert st == 200, (st, r)
        self.cookie = re.search(COOKIE + r"=([0-9a-f]{64})",
                                h.get("Set-Cookie", "")).group(1)
        self.csrf = r["csrf"]
        return h


def count(d, table, where="1=1"):
    return sql(d, f"select count(*) from {table} where {where}")


def snapshot(d):
    """What a refusal must not change."""
    return (count(d, "sessions"), count(d, "certs", "status=1"),
            sql(d, "select group_concat(password_hash) from citizen_credentials"))


def check_login(d, srv, citizen):
    p = Portal(srv)
    sms_before = len(outbox(d))
    before = snapshot(d)
    logins = int(count(d, "audit_log", "event='citizen.portal_login' and "
                       "result='success'"))
    # one answer for every failure: unknown id, wrong password
    st1, _, b1 = p.call("POST", "/api/v1/portal/login/otp",
                        {"user_id": citizen["user_id"], "password": "Wrong-1234567"})
    st2, _, b2 = p.call("POST", "/api/v1/portal/login/otp",
                        {"user_id": "99999999R", "password": "Wrong-1234567"})
    check(st1 == 401 and st2 == 401 and b1 == b2,
          f"wrong password and unknown id get one answer ({st1} {st2})")
    check(len(outbox(d)) == sms_before, "a wrong password sends no SMS")
    st, _, _ = p.call("POST", "/api/v1/portal/login/otp", raw=b"{\"user_id\":")
    check(st == 400, f"malformed JSON is 400 ({st})")
    st, _, _ = p.call("POST", "/api/v1/portal/login/otp",
                      {"user_id": citizen["user_id"], "password": "x",
                       "extra": 1})
    check(st == 400, f"an unknown field is 400 ({st})")
    # the SMS names the portal, never an internal operation
    st, o, _ = p.json("POST", "/api/v1/portal/login/otp",
                      {"user_id": citizen["user_id"],
                       "password": citizen["password"]})
    check(st == 200 and len(o.get("otp_id", "")) == 32,
          f"the right password sends a code ({st} {o})")
    sms = outbox(d)[-1]
    check(sms["to"] == citizen["mobile"] and "para entrar" in sms["text"],
          f"the SMS says what the code is for: {sms['text']!r}")
    code = outbox_otp(d, citizen["mobile"], "portal")
    wrong = "000000" if code != "000000" else "111111"
    body = {"user_id": citizen["user_id"], "password": citizen["password"],
            "otp_id": o["otp_id"], "otp": wrong}
    st, r, _ = p.json("POST", "/api/v1/portal/login", body)
    check(st == 401, f"a wrong SMS code is refused ({st} {r})")
    st, r, _ = p.json("POST", "/api/v1/portal/login",
                      dict(body, otp=code, password="Wrong-1234567"))
    check(st == 401, f"the right code with a wrong password is refused ({st})")
    check(snapshot(d) == before, "the refusals opened no session")
    st, r, h = p.json("POST", "/api/v1/portal/login", dict(body, otp=code))
    cookie = h.get("Set-Cookie", "")
    check(st == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
          and "Path=/" in cookie and len(r.get("csrf", "")) == 64,
          f"password + code open a session cookie ({st} {cookie!r})")
    check("Secure" not in cookie, "no Secure flag on an http public_url")
    check("token" not in r, "the session token is never in the body")
    st, r, _ = p.json("POST", "/api/v1/portal/login", dict(body, otp=code))
    check(st == 401, f"a replayed code is refused ({st})")
    check(int(count(d, "audit_log", "event='citizen.portal_login' and "
                    "result='success'")) == logins + 1, "the login is audited")


def check_session(d, srv, api, citizen):
    p = Portal(srv)
    st, _, _ = p.call("GET", "/api/v1/portal/me")
    check(st == 401, f"no cookie: 401 ({st})")
    # a session opened with the password alone is not a portal session
    st, o = api.call("POST", "/api/v1/auth/login",
                     {"user_id": citizen["user_id"],
                      "password": citizen["password"]})
    st, _, _ = p.call("GET", "/api/v1/portal/me", cookie=o["token"])
    check(st == 403, f"a password-only session cannot open the portal ({st})")
    st, _, _ = p.call("GET", "/api/v1/portal/me", cookie="0" * 64)
    check(st == 401, f"an unknown cookie: 401 ({st})")
    p.login(d, citizen)
    st, me, _ = p.json("GET", "/api/v1/portal/me")
    check(st == 200 and me.get("user_id") == citizen["user_id"]
          and me.get("given_name") and me.get("csrf") == p.csrf,
          f"my data ({st} {me})")
    check(citizen["mobile"] not in json.dumps(me, ensure_ascii=False)
          and "\u2022" in me.get("mobile", "")
          and me["mobile"].endswith(citizen["mobile"][-3:]),
          f"the mobile is masked: {me.get('mobile')!r}")
    check(me.get("document") and me["document"].get("expiry"),
          f"the identity document's expiry is shown: {me.get('document')}")
    # CSRF: the cookie alone changes nothing
    before = snapshot(d)
    st, o, _ = p.json("POST", "/api/v1/portal/password",
                      {"password": citizen["password"],
                       "new_password": "Nueva-clave-2027-x"}, csrf=False)
    check(st == 403 and o.get("error") == "csrf",
          f"no X-CSRF-Token: 403 csrf ({st} {o})")
    st, o, _ = p.json("POST", "/api/v1/portal/logout", csrf=False)
    check(st == 403, f"logout without X-CSRF-Token: 403 ({st})")
    check(snapshot(d) == before, "the refused requests changed nothing")
    return p


def check_certificates(d, srv, tmp, pem, p, other):
    st, o, _ = p.json("GET", "/api/v1/portal/certificates")
    certs = o.get("certificates", [])
    check(st == 200 and certs and certs[0]["status"] == "valid"
          and certs[0]["not_after"], f"my certificates ({st} {o})")
    serial = certs[0]["serial"]
    st, h, out = p.call("GET", f"/api/v1/portal/certificates/{serial}")
    path = os.path.join(tmp, "mine.pem")
    with open(path, "wb") as f:
        f.write(out)
    rc, text, _ = openssl("x509", "-in", path, "-noout", "-serial")
    check(st == 200 and rc == 0 and serial.upper() in text.upper()
          and "attachment" in h.get("Content-Disposition", ""),
          f"the PEM download is the certificate ({st} {text.strip()} {out[:80]})")
    st, _, out = p.call("GET",
                        f"/api/v1/portal/certificates/{serial}?format=der")
    der = os.path.join(tmp, "mine.cer")
    with open(der, "wb") as f:
        f.write(out)
    rc, _, _ = openssl("x509", "-inform", "DER", "-in", der, "-noout")
    check(st == 200 and rc == 0, f"the DER download parses ({st})")
    st, _, _ = p.call("GET", f"/api/v1/portal/certificates/{other['serial']}")
    check(st == 404, f"another citizen's certificate: 404 ({st})")
    st, _, _ = p.call("POST", f"/api/v1/portal/certificates/"
                      f"{other['serial']}/revocation/otp")
    check(st in (403, 404), f"another citizen's revocation code: refused ({st})")
    return serial, path


def check_history(d, tmp, pem, p, other):
    st, o, _ = p.json("GET", "/api/v1/portal/history")
    txs = o.get("transactions", [])
    check(st == 200 and txs and txs[0]["state"] == "signed"
          and txs[0]["application"] and txs[0]["documents"],
          f"my signature history ({st} {txs[:1]})")
    tx = txs[0]["id"]
    st, h, body = p.call("GET", f"/api/v1/portal/history/{tx}/receipt")
    r = json.loads(body)
    check(st == 200 and r["transaction"] == tx and r["documents"][0]["digest"]
          and r["certificate"]["serial"] and r["application"]["name"]
          and r["signed_at"], f"the receipt ({st} {r})")
    st2, _, body2 = p.call("GET", f"/api/v1/portal/history/{tx}/receipt")
    check(body == body2, "the receipt is the same bytes every time")
    st, _, tsr = p.call("GET", f"/api/v1/portal/history/{tx}/receipt.tsr")
    data, tsr_path = os.path.join(tmp, "receipt.json"), \
        os.path.join(tmp, "receipt.tsr")
    with open(data, "wb") as f:
        f.write(body)
    with open(tsr_path, "wb") as f:
        f.write(tsr)
    rc, out, err = openssl("ts", "-verify", "-data", data, "-in", tsr_path,
                           "-CAfile", os.path.join(pem, "chain.pem"))
    check(st == 200 and rc == 0 and "Verification: OK" in out + err,
          f"openssl ts -verify checks the receipt ({st} {err.strip()})")
    with open(data, "ab") as f:
        f.write(b" ")
    rc, out, err = openssl("ts", "-verify", "-data", data, "-in", tsr_path,
                           "-CAfile", os.path.join(pem, "chain.pem"))
    check(rc != 0, "a changed receipt does not verify")
    for suffix in ("receipt", "receipt.tsr"):
        st, _, _ = p.call("GET", f"/api/v1/portal/history/{other['tx']}/{suffix}")
        check(st == 404, f"another citizen's {suffix}: 404 ({st})")
    st, _, _ = p.call("GET", "/api/v1/portal/history/" + "0" * 32 + "/receipt")
    check(st == 404, f"an unknown transaction: 404 ({st})")


def check_password(d, p, citizen):
    before = snapshot(d)
    st, o, _ = p.json("POST", "/api/v1/portal/password",
                      {"password": "Wrong-1234567",
                       "new_password": "Nueva-clave-2027-x"})
    check(st == 401, f"a wrong current password is refused ({st} {o})")
    st, o, _ = p.json("POST", "/api/v1/portal/password",
                      {"password": citizen["password"], "new_password": "short"})
    check(st == 400, f"a password against the policy is refused ({st} {o})")
    check(snapshot(d) == before, "the refusals changed no password")
    st, o, _ = p.json("POST", "/api/v1/portal/password",
                      {"password": citizen["password"],
                       "new_password": "Nueva-clave-2027-x"})
    check(st == 200 and o.get("changed"), f"the password changes ({st} {o})")
    check(snapshot(d)[2] != before[2], "a new hash is stored")
    check(int(count(d, "audit_log", "event='citizen.password_change'")) >= 1,
          "the change is audited")
    citizen["password"] = "Nueva-clave-2027-x"


def ocsp(srv, pem, cert):
    issuer = "qualified"
    rc, out, err = openssl("ocsp", "-issuer", f"{pem}/{issuer}.pem", "-cert",
                           cert, "-url", f"{srv.url}/ocsp", "-VAfile",
                           f"{pem}/{issuer}-ocsp.pem", "-no_nonce")
    return out + err


def check_revocation(d, srv, pem, p, citizen, serial, cert):
    out = ocsp(srv, pem, cert)
    check(": good" in out, f"OCSP says good before ({out.strip()})")
    base = f"/api/v1/portal/certificates/{serial}/revocation"
    st, o, _ = p.json("POST", base + "/otp")
    check(st == 200 and o.get("otp_id"), f"a revocation code is sent ({st} {o})")
    sms = outbox(d)[-1]
    check("para revocar" in sms["text"] and serial[-8:].upper() in
          sms["text"].upper(), f"the SMS names the certificate: {sms['text']!r}")
    code = outbox_otp(d, citizen["mobile"], "revoke")
    before = snapshot(d)
    body = {"password": citizen["password"], "otp_id": o["otp_id"],
            "otp": "000000" if code != "000000" else "111111"}
    st, r, _ = p.json("POST", base, body)
    check(st == 401, f"a wrong code revokes nothing ({st} {r})")
    st, r, _ = p.json("POST", base, dict(body, otp=code, password="Wrong-1234567"))
    check(st == 401, f"a wrong password revokes nothing ({st} {r})")
    st, r, _ = p.json("POST", base, dict(body, otp=code), csrf=False)
    check(st == 403, f"no CSRF token revokes nothing ({st})")
    check(snapshot(d) == before, "the certificate is still valid")
    st, r, _ = p.json("POST", base, dict(body, otp=code))
    check(st == 200 and r.get("status") == "revoked", f"revoked ({st} {r})")
    check(": revoked" in ocsp(srv, pem, cert), "OCSP says revoked")
    st, r, _ = p.json("POST", base, dict(body, otp=code))
    check(st in (401, 409), f"the code is not used twice ({st})")
    check(int(count(d, "audit_log", "event='cert.revoke'")) >= 1,
          "the revocation is audited")
    st, o, _ = p.json("GET", "/api/v1/portal/certificates")
    check([c["status"] for c in o["certificates"] if c["serial"] == serial]
          == ["revoked"], "my certificates show it revoked")


def check_acceptance(d, api, p, citizen, other):
    """Issue 15 item 3: a certificate not yet accepted is accepted here,
    after its sheet is shown, with password + a code bound to the sheet."""
    st, o = api.call("POST", "/api/v1/auth/login",
                     {"user_id": citizen["user_id"],
                      "password": citizen["password"]})
    tok = o["token"]
    st, who = api.call("GET", "/api/v1/auth/session", token=tok)
    st, o = api.call("POST", f"/api/v1/citizens/{who['id']}/certificates", {},
                     token=tok)
    check(st == 201, f"a certificate issued outside a signature ({st} {o})")
    st, o, _ = p.json("GET", "/api/v1/portal/certificates")
    new = [c for c in o["certificates"] if c["status"] == "valid"]
    check(new and new[0]["accepted"] is False,
          f"the new certificate is not accepted yet ({new})")
    serial = new[0]["serial"]
    base = f"/api/v1/portal/certificates/{serial}/acceptance"
    st, sheet, _ = p.json("GET", base)
    check(st == 200 and not sheet["accepted"] and serial in sheet["sheet"]
          and "ACEPTACI" in sheet["sheet"], f"the sheet is shown first ({st})")
    st, _, _ = p.call("GET", f"/api/v1/portal/certificates/{other['serial']}"
                      "/acceptance")
    check(st == 404, f"another citizen's sheet: 404 ({st})")
    st, o, _ = p.json("POST", base + "/otp")
    check(st == 200 and o.get("otp_id"), f"an acceptance code is sent ({st} {o})")
    sms = outbox(d)[-1]
    check("para aceptar" in sms["text"] and serial[-8:] in sms["text"],
          f"the SMS names the certificate: {sms['text']!r}")
    code = re.search(r"su clave es (\d+)", sms["text"]).group(1)
    body = {"password": citizen["password"], "otp_id": o["otp_id"],
            "otp": "000000" if code != "000000" else "111111"}
    st, r, _ = p.json("POST", base, body)
    accepted = "select count(*) from sign_acceptances where channel='portal'"
    check(st == 401 and sql(d, accepted) == "0",
          f"a wrong code accepts nothing ({st} {r})")
    st, r, _ = p.json("POST", base, dict(body, otp=code))
    check(st == 200 and r.get("accepted"), f"accepted ({st} {r})")
    check(sql(d, accepted) == "1", "the signed sheet is kept (channel portal)")
    st, o, _ = p.json("GET", "/api/v1/portal/certificates")
    check([c["accepted"] for c in o["certificates"] if c["serial"] == serial]
          == [True], "my certificates show it accepted")
    st, r, _ = p.json("POST", base + "/otp")
    check(st == 409, f"an accepted certificate asks for no code ({st})")


def other_citizen(api, d, tmp, srv, app):
    """A second citizen with a certificate and a signed transaction."""
    number = dni(31415926)
    mobile = "+34600111222"
    register(api, d, tmp, number, mobile)
    cit = {"user_id": number, "password": PW, "mobile": mobile}
    accept_certificate(srv, d, cit, app)
    p = Portal(srv)
    p.login(d, cit)
    _, o, _ = p.json("GET", "/api/v1/portal/certificates")
    _, h, _ = p.json("GET", "/api/v1/portal/history")
    return {"serial": o["certificates"][0]["serial"],
            "tx": h["transactions"][0]["id"], "citizen": cit}


def check_rate_limit(d, srv, cit):
    """Issue 11 item 6: the login's SMS codes are limited as the signing
    page's (here otp_send_per_operation = 20, FAST in test_sign.py): then
    429 with Retry-After, and no SMS more."""
    p = Portal(srv)
    mine = lambda: sum(1 for m in outbox(d) if m["to"] == cit["mobile"])
    st, h = 200, {}
    for _ in range(25):
        st, h, _ = p.call("POST", "/api/v1/portal/login/otp",
                          {"user_id": cit["user_id"],
                           "password": cit["password"]})
        if st != 200:
            break
    sent = mine()
    check(st == 429 and h.get("Retry-After"),
          f"too many login codes: 429 with Retry-After ({st})")
    st, _, _ = p.call("POST", "/api/v1/portal/login/otp",
                      {"user_id": cit["user_id"], "password": cit["password"]})
    check(st == 429 and mine() == sent, "and no SMS is sent past the limit")


def check_page(srv):
    st, h, body = srv.get("/portal/")
    check(st == 200 and "script-src 'self'" in h.get("Content-Security-Policy", "")
          and b"<script" in body and b"<script>" not in body,
          f"/portal/ is served under the strict CSP ({st})")
    host, port = srv.url.split("//")[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request("GET", "/portal")
    r = c.getresponse()
    check(r.status == 301 and r.getheader("Location") == "/portal/",
          f"/portal redirects ({r.status})")
    c.close()
    st, _, body = srv.get("/")
    check(b'href="/portal/"' in body, "the landing page links to the portal")


def main():
    tmp = workdir("portal")
    srv = None
    try:
        d, pem, citizen, app = install(tmp)
        srv = Server(d)
        api = Api(srv)
        check_page(srv)
        accept_certificate(srv, d, citizen, app)
        other = other_citizen(api, d, tmp, srv, app)
        check_login(d, srv, citizen)
        p = check_session(d, srv, api, citizen)
        serial, cert = check_certificates(d, srv, tmp, pem, p, other)
        check_history(d, tmp, pem, p, other)
        check_password(d, p, citizen)
        check_revocation(d, srv, pem, p, citizen, serial, cert)
        check_acceptance(d, api, p, citizen, other)
        check_rate_limit(d, srv, other["citizen"])
        st, _, h = p.json("POST", "/api/v1/portal/logout")
        check(st == 200 and "Max-Age=0" in h.get("Set-Cookie", ""),
              f"logout clears the cookie ({st})")
        st, _, _ = p.call("GET", "/api/v1/portal/me")
        check(st == 401, f"the session is over ({st})")
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
        rc, _, _ = llave(d, "audit", "verify")
        check(rc == 0, "the audit chain verifies")
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
