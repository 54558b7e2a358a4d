"""Issue 6 part B: the registration authority over a real llaved.

Citizens registered face to face and telematically (R2.1-R2.6, R2.9),
organizations, representatives and linked persons (R2.7), requests decided
by a second person (R1.5, R2.8) and revocation requests (R6.1, R6.2).
Certificates and CRLs are judged with the openssl command line, the store
with sqlite3, messages in DIR/outbox; every refusal must answer a JSON
error with the right status and leave the tables as they were."""
import base64
import datetime
import glob
import hashlib
import hmac
import json
import os
import re
import struct
import time

from lvtest import (outbox_otp, Server, check, cleanup, demo_install, finish, llave,
                    new_csr, openssl, run, sql, workdir, x509_text)

TABLES = ("citizens", "identity_documents", "registrations", "organizations",
          "org_persons", "cert_requests", "revocation_requests", "certs")


# ---- identifiers with valid check characters ---------------------------------

def dni(n):
    return f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]


def nie(prefix, n):
    lead = "XYZ".index(prefix)
    return f"{prefix}{n:07d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[
        int(f"{lead}{n:07d}") % 23]


def cif(letter, seven):
    s = 0
    for i, ch in enumerate(seven):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d // 10 + d % 10
        s += d
    return f"{letter}{seven}{(10 - s % 10) % 10}"


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


# ---- HTTP and credentials ---------------------------------------------------------

def totp(secret_b32, step=None):
    """RFC 6238 with HMAC-SHA1, 30 s, 6 digits, computed here independently."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int(time.time() // 30) if step is None else step
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    code = (struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000
    return f"{code:06d}"


class Api:
    def __init__(self, srv):
        self.srv = srv

    def call(self, method, path, body=None, token=None, raw=None,
             ctype="application/json"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = raw if raw is not None else (
            json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = ctype
        status, _, out = self.srv.request(method, path, data, headers)
        try:
            return status, json.loads(out)
        except ValueError:
            return status, {"raw": out[:200]}


def operator_token(api, acct):
    st, out = api.call("POST", "/api/v1/operators/login",
                       {"login": acct["login"], "password": acct["password"],
                        "totp": totp(acct["totp_secret"])})
    if st != 200:
        raise RuntimeError(f"operator login {acct['login']}: {st} {out}")
    return out["token"]


def outbox(d):
    msgs = []
    for p in sorted(glob.glob(os.path.join(d, "outbox", "*.json"))):
        with open(p) as f:
            msgs.append(json.load(f))
    return msgs


def last_code(d, to, pattern=r"(?:cuenta es|code is) (\d+)"):
    for m in reversed(outbox(d)):
        if m["to"] == to and re.search(pattern, m["text"]):
            return re.search(pattern, m["text"]).group(1)
    return None


def same(got, want, what):
    """check() that shows what was found when it differs."""
    return check(got == want, what if got == want
                 else f"{what}: got {got!r}, want {want!r}")


def counts(d):
    return {t: int(sql(d, f"select count(*) from {t}")) for t in TABLES}


def refused(api, d, label, method, path, body, token, status, words,
            raw=None, ctype="application/json"):
    """A refusal: the status, a JSON error naming the problem, and not one
    row changed in any RA table (nor a certificate issued)."""
    before = counts(d)
    st, out = api.call(method, path, body, token, raw, ctype)
    after = counts(d)
    msg = out.get("message", "")
    ok = (st == status and out.get("error") and
          all(w.lower() in msg.lower() for w in words) and before == after)
    check(ok, f"refused {label}: {st} {out.get('error')}: {msg}"
              + ("" if before == after else f" CHANGED {before} {after}"))
    return out


# ---- citizens ------------------------------------------------------------------

def registration(number, mobile, doc_type="DNI", expiry=None, **extra):
    r = {"given_name": "Ana", "surname": "Garcia Lopez",
         "birth_date": "1985-03-14", "mobile": mobile,
         "email": "ana@example.es", "evidence_ref": "F-2026-0001",
         "document": {"type": doc_type, "number": number,
                      "expiry": expiry or day(100)}}
    r.update(extra)
    return r


def activate(api, d, reg, password):
    code = last_code(d, reg["mobile"])
    st, out = api.call("POST", "/api/v1/citizens/activate",
                       {"user_id": reg["user_id"], "code": code,
                        "password": password})
    check(st == 200, f"citizen {reg['user_id']} activated with the SMS code "
                     f"({st} {out})")
    st, out = api.call("POST", "/api/v1/auth/login",
                       {"user_id": reg["user_id"], "password": password})
    check(st == 200, f"citizen {reg['user_id']} logs in")
    return out.get("token")


def check_citizens(api, d, tok, pem, tmp):
    officer, auditor = tok["ra_officer"], tok["auditor"]
    ana = registration(dni(12345678), "+34600111001")
    st, out = api.call("POST", "/api/v1/ra/citizens", ana, officer)
    check(st == 201 and out.get("activation") == "sent",
          f"face-to-face registration: 201, activation code sent ({out})")
    ana.update(id=out.get("id"), user_id=out.get("user_id"))
    row = sql(d, "select level, person_id, mobile from citizens "
                 f"where id='{ana['id']}'")
    check(row == f"advanced|IDCES-{dni(12345678)}|+34600111001",
          f"citizen stored at the advanced level with IDCES-… ({row})")
    reg = sql(d, "select actor, method, evidence_ref, "
                 "retain_until - created_at from registrations "
                 f"where citizen_id='{ana['id']}'").split("|")
    check(reg[:3] == ["operator:demo-ra-officer", "face_to_face",
                      "F-2026-0001"] and
          abs(int(reg[3]) / 86400 / 365.2425 - 15) < 0.01,
          f"registration evidence: who, how, evidence, kept 15 years {reg}")
    check(int(sql(d, "select count(*) from audit_log where "
                     f"event='citizen.register' and object='{ana['id']}'"))
          == 1, "registration audited")

    refused(api, d, "wrong DNI letter", "POST", "/api/v1/ra/citizens",
            registration("12345678A", "+34600111002"), officer, 400,
            ["wrong check letter"])
    refused(api, d, "expired identity document", "POST",
            "/api/v1/ra/citizens",
            registration(dni(22222222), "+34600111002", expiry="2020-01-01"),
            officer, 400, ["expired"])
    refused(api, d, "same person twice", "POST", "/api/v1/ra/citizens",
            registration(dni(12345678), "+34600111002"), officer, 409,
            ["already registered"])
    refused(api, d, "EU registration without passport", "POST",
            "/api/v1/ra/citizens",
            registration(nie("X", 1234567), "+34600111002",
                         doc_type="EU_REGISTRATION", country="FR"),
            officer, 400, ["companion"])
    refused(api, d, "mobile not E.164", "POST", "/api/v1/ra/citizens",
            registration(dni(22222222), "600111002"), officer, 400, [])
    refused(api, d, "unknown field", "POST", "/api/v1/ra/citizens",
            dict(registration(dni(22222222), "+34600111002"), pseudonym="x"),
            officer, 400, ["unknown field 'pseudonym'"])
    refused(api, d, "body not JSON", "POST", "/api/v1/ra/citizens", None,
            officer, 400, ["not JSON"], raw=b"{nope")
    refused(api, d, "auditor registering (reads, never writes)", "POST",
            "/api/v1/ra/citizens",
            registration(dni(22222222), "+34600111002"), auditor, 403, [])
    refused(api, d, "no session", "POST", "/api/v1/ra/citizens",
            registration(dni(22222222), "+34600111002"), None, 401, [])

    eu = registration(nie("Y", 7654321), "+34600111003",
                      doc_type="EU_REGISTRATION", given_name="Marie",
                      surname="Dupont")
    eu["document"].pop("expiry")
    eu["document"]["companion"] = {"type": "PASSPORT", "number": "15AB12345",
                                   "country": "FR", "expiry": day(60)}
    st, out = api.call("POST", "/api/v1/ra/citizens", eu, officer)
    check(st == 201 and out.get("person_id") == f"IDCES-{nie('Y', 7654321)}",
          f"EU citizen: registration certificate + passport ({st} {out})")
    st, out = api.call("GET", f"/api/v1/ra/citizens/{out.get('id')}",
                       None, auditor)
    check(st == 200 and out["country"] == "FR" and
          out["documents"][0]["valid_until"].startswith(day(60)),
          "auditor reads; the passport's expiry bounds the document")

    ana_tok = activate(api, d, ana, "Correct-Horse-42")
    basic = registration(dni(33333333), "+34600111004", level="basic")
    st, out = api.call("POST", "/api/v1/ra/citizens", basic, officer)
    basic.update(id=out.get("id"), user_id=out.get("user_id"))
    basic_tok = activate(api, d, basic, "Basic-Level-77x")

    # R5.3 / R2.4: the citizen's own certificate, capped at the document
    st, out = api.call("POST", f"/api/v1/citizens/{ana['id']}/certificates",
                       {}, ana_tok)
    cert = os.path.join(tmp, "ana.pem")
    with open(cert, "w") as f:
        f.write(out.get("certificate") or "")
    check(st == 201, f"citizen gets a signing certificate ({st})")
    rc, vout, verr = openssl("verify", "-x509_strict", "-CAfile",
                             f"{pem}/root.pem", "-untrusted",
                             f"{pem}/chain.pem", cert)
    check(rc == 0, f"openssl verifies the citizen's certificate {verr}")
    text = x509_text(cert)
    check(f"serialNumber = IDCES-{dni(12345678)}" in text,
          "subject serialNumber from the registered document")
    _, end, _ = openssl("x509", "-in", cert, "-noout", "-enddate")
    na = datetime.datetime.strptime(end.strip().split("=")[1].replace(
        "  ", " "), "%b %d %H:%M:%S %Y %Z").date()
    check(na <= datetime.date.fromisoformat(day(100)),
          f"notAfter {na} capped at the document's expiry {day(100)} (R2.4)")
    ana["serial"] = out.get("serial")

    refused(api, d, "duplicate valid certificate (R2.9)", "POST",
            f"/api/v1/citizens/{ana['id']}/certificates", {}, ana_tok, 409,
            ["already holds a valid"])
    keys_before = len(os.listdir(f"{d}/keys"))
    refused(api, d, "basic-level citizen asking for a signing certificate",
            "POST", f"/api/v1/citizens/{basic['id']}/certificates", {},
            basic_tok, 403, ["basic level"])
    check(len(os.listdir(f"{d}/keys")) == keys_before,
          "no key generated for the basic-level citizen")
    same(sql(d, "select count(*) from audit_log where "
                "event='ra.citizen_issue' and result='failure'"), "1",
         "the basic-level refusal is audited")
    refused(api, d, "citizen reading another citizen's record", "GET",
            f"/api/v1/citizens/{ana['id']}", None, basic_tok, 403,
            ["own record"])
    refused(api, d, "citizen asking a certificate for another", "POST",
            f"/api/v1/citizens/{ana['id']}/certificates", {}, basic_tok,
            403, [])
    refused(api, d, "citizen calling an officer endpoint", "POST",
            "/api/v1/ra/citizens",
            registration(dni(22222222), "+34600111002"), ana_tok, 403, [])
    refused(api, d, "OTP to revoke another citizen's certificate", "POST",
            f"/api/v1/citizens/{basic['id']}/revocations/otp",
            {"serial": ana["serial"]}, basic_tok, 403, ["neither yours"])
    st, out = api.call("GET", f"/api/v1/citizens/{ana['id']}", None, ana_tok)
    check(st == 200 and out["certificates"][0]["serial"] == ana["serial"] and
          out["credential"]["active"], "a citizen reads their own record")

    check_documents(api, d, tok, ana, ana_tok)
    return ana, ana_tok


def check_documents(api, d, tok, ana, ana_tok):
    officer = tok["ra_officer"]
    dup = {"reason": "loss", "evidence_ref": "F-2026-0002",
           "document": {"type": "DNI", "number": dni(12345678),
                        "expiry": day(3000), "support_number": "BAA123456"}}
    st, out = api.call("POST", f"/api/v1/ra/citizens/{ana['id']}/documents",
                       dup, officer)
    docs = out.get("documents", [])
    check(st == 200 and [x["status"] for x in docs] == ["replaced",
                                                         "current"],
          f"duplicate document replaces the current one ({st})")
    same(sql(d, f"select status from certs where serial='{ana['serial']}'"),
         "0", "certificates issued with the old document are kept (R2.5)")
    refused(api, d, "replacement naming another person", "POST",
            f"/api/v1/ra/citizens/{ana['id']}/documents",
            dict(dup, document=dict(dup["document"], number=dni(44444444))),
            officer, 400, ["same identity number"])
    refused(api, d, "replacement without reason", "POST",
            f"/api/v1/ra/citizens/{ana['id']}/documents",
            {k: v for k, v in dup.items() if k != "reason"}, officer, 400,
            ["reason"])
    # R2.4: once the document has expired the citizen cannot sign; the
    # check refuses a new signing certificate the same way
    sql(d, "update identity_documents set expiry=1000 "
           f"where citizen_id='{ana['id']}' and status='current'")
    refused(api, d, "expired document blocks signing (R2.4)", "POST",
            f"/api/v1/citizens/{ana['id']}/certificates",
            {"profile": "natural-person-cloud"}, ana_tok, 409, ["expired"])
    sql(d, f"update identity_documents set expiry={int(time.time()) + 10**8} "
           f"where citizen_id='{ana['id']}' and status='current'")


# ---- organizations and two-person approval --------------------------------------

def csr_pem(tmp, name):
    with open(new_csr(tmp, name)) as f:
        return f.read()


def check_organizations(api, d, tok, pem, tmp, extra_ops):
    officer, admin = tok["ra_officer"], tok["ra_admin"]
    nif = cif("B", "1234567")
    org = {"legal_name": "Ejemplo Servicios SL", "nif": nif,
           "locality": "Madrid", "contact_email": "certs@ejemplo.es",
           "contact_mobile": "+34600222001",
           "business_category": "Private Organization"}
    refused(api, d, "organization NIF with a wrong control character",
            "POST", "/api/v1/ra/organizations",
            dict(org, nif=nif[:-1] + str((int(nif[-1]) + 1) % 10)), officer,
            400, ["wrong control character"])
    st, out = api.call("POST", "/api/v1/ra/organizations", org, officer)
    check(st == 201 and out.get("org_identifier") == f"VATES-{nif}",
          f"organization registered as VATES-{nif} ({st} {out})")
    org_id = out.get("id")
    rep_dni = dni(55555555)
    rep = {"given_name": "Luis", "surname": "Martin Ruiz", "id_type": "DNI",
           "id_number": rep_dni, "email": "luis@ejemplo.es",
           "title": "Administrador unico",
           "powers": {"scope": "total", "from": day(-30), "until": day(700),
                      "document": "Escritura de apoderamiento n. 77, Notario "
                                  "de Madrid; RM Madrid hoja M-1"}}
    st, out = api.call("POST",
                       f"/api/v1/ra/organizations/{org_id}/representatives",
                       rep, officer)
    check(st == 201, f"representative with powers added ({st} {out})")
    rep_id = out.get("id")
    refused(api, d, "representative without powers", "POST",
            f"/api/v1/ra/organizations/{org_id}/representatives",
            {k: v for k, v in rep.items() if k != "powers"}, officer, 400,
            ["powers"])
    member = {"given_name": "Eva", "surname": "Sanz Gil", "id_type": "NIE",
              "id_number": nie("X", 2345678), "email": "eva@ejemplo.es",
              "unit": "Contabilidad", "title": "Responsable de facturas"}
    st, out = api.call("POST", f"/api/v1/ra/organizations/{org_id}/members",
                       member, officer)
    check(st == 201, f"linked person added ({st} {out})")
    member_id = out.get("id")

    # requests: an officer prepares, a registration administrator decides
    req = {"org_id": org_id, "profile": "legal-representative-cloud",
           "person": rep_id}
    refused(api, d, "linked-person profile for a representative", "POST",
            "/api/v1/ra/requests", dict(req, profile="linked-person-cloud"),
            officer, 400, ["linked person"])
    refused(api, d, "subscriber-key profile without CSR", "POST",
            "/api/v1/ra/requests",
            {"org_id": org_id, "profile": "eseal"}, officer, 400, ["csr"])
    refused(api, d, "auditor creating a request", "POST",
            "/api/v1/ra/requests", req, tok["auditor"], 403, [])
    st, out = api.call("POST", "/api/v1/ra/requests", req, officer)
    check(st == 201 and out.get("status") == "pending",
          f"representative certificate request pending ({st} {out})")
    req_id = out.get("id")
    refused(api, d, "registration officer approving (role it lacks)", "POST",
            f"/api/v1/ra/requests/{req_id}/approve", {}, officer, 403, [])

    # R1.5: the same person cannot prepare and approve, whatever roles
    both = extra_ops["both"]
    st, out = api.call("POST", "/api/v1/ra/requests",
                       {"org_id": org_id, "profile": "eseal-cloud",
                        "common_name": "Sello de facturas"}, both)
    own_id = out.get("id")
    check(st == 201, f"officer holding both roles creates a request ({st})")
    refused(api, d, "officer approving their own request (R1.5)", "POST",
            f"/api/v1/ra/requests/{own_id}/approve", {}, both, 403,
            ["two-person rule"])
    check(int(sql(d, "select count(*) from audit_log where "
                     "event='ra.request.approve' and result='failure' and "
                     f"object='{own_id}'")) == 1,
          "the self-approval attempt is audited")
    refused(api, d, "rejection without a reason", "POST",
            f"/api/v1/ra/requests/{own_id}/reject", {}, admin, 400,
            ["reason"])
    st, out = api.call("POST", f"/api/v1/ra/requests/{own_id}/reject",
                       {"reason": "El sello ya existe en papel"}, admin)
    check(st == 200 and out.get("status") == "rejected" and
          out.get("decided_by") == "operator:demo-ra-admin",
          f"a second officer rejects with a reason ({st} {out})")
    check(any(m["to"] == "certs@ejemplo.es" and "ha sido rechazada" in m["text"] and
              "El sello ya existe" in m["text"] for m in outbox(d)),
          "the applicant is told of the rejection and why (R2.8)")
    refused(api, d, "deciding a decided request", "POST",
            f"/api/v1/ra/requests/{own_id}/approve", {}, admin, 409,
            ["already rejected"])

    st, out = api.call("POST", f"/api/v1/ra/requests/{req_id}/approve", {},
                       admin)
    check(st == 200 and out.get("serial"),
          f"registration administrator approves: certificate issued ({st})")
    rep_pem = os.path.join(tmp, "rep.pem")
    with open(rep_pem, "w") as f:
        f.write(out.get("certificate") or "")
    rc, _, verr = openssl("verify", "-x509_strict", "-CAfile",
                          f"{pem}/root.pem", "-untrusted", f"{pem}/chain.pem",
                          rep_pem)
    check(rc == 0, f"openssl verifies the representative's certificate {verr}")
    text = x509_text(rep_pem)
    check(f"organizationIdentifier = VATES-{nif}" in text and
          f"(R: {nif})" in text and "Escritura de apoderamiento" in text,
          "subject from the stored data: VATES id, CN (R: NIF), powers "
          "document as description (R2.7)")
    check(sql(d, f"select status, decided_by, cert_serial from cert_requests "
                 f"where id='{req_id}'") ==
          f"approved|operator:demo-ra-admin|{out.get('serial')}",
          "request recorded as approved with its certificate")
    check(any(m["to"] == "certs@ejemplo.es" and "ha sido aprobada" in m["text"]
              and m.get("subject") == "Su solicitud de certificado"
              for m in outbox(d)), "the applicant is told of the approval")
    refused(api, d, "a second valid certificate of the same type (R2.9)",
            "POST", "/api/v1/ra/requests", req, officer, 409,
            ["already holds a valid"])

    # a linked person's seal-less certificate with a subscriber key (CSR)
    st, out = api.call("POST", "/api/v1/ra/requests",
                       {"org_id": org_id, "profile": "linked-person",
                        "person": member_id, "csr": csr_pem(tmp, "member")},
                       officer)
    lreq = out.get("id")
    check(st == 201, f"linked person's request with a CSR ({st} {out})")
    st, out = api.call("POST", f"/api/v1/ra/requests/{lreq}/approve", {},
                       admin)
    lpem = os.path.join(tmp, "linked.pem")
    with open(lpem, "w") as f:
        f.write(out.get("certificate") or "")
    text = x509_text(lpem) if st == 200 else ""
    check(st == 200 and "OU = Contabilidad" in text and
          "title = Responsable de facturas" in text,
          f"linked person's certificate with unit and title ({st})")
    # a web certificate: DNS names from the request, O/L/C from the record
    st, out = api.call("POST", "/api/v1/ra/requests",
                       {"org_id": org_id, "profile": "web-ov",
                        "dns_names": ["www.ejemplo.es", "ejemplo.es"],
                        "csr": csr_pem(tmp, "web")}, officer)
    check(st == 201 and out.get("subject", {}).get("organization") ==
          "Ejemplo Servicios SL", f"web-ov request ({st})")
    st, out = api.call("POST", f"/api/v1/ra/requests/{out.get('id')}/approve",
                       {}, admin)
    web = os.path.join(tmp, "web.pem")
    with open(web, "w") as f:
        f.write(out.get("certificate") or "")
    rc, _, verr = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                          "-CAfile", f"{pem}/root.pem", "-untrusted",
                          f"{pem}/chain.pem", web) if st == 200 else (1, "", "")
    check(rc == 0 and "DNS:www.ejemplo.es" in x509_text(web),
          f"web-ov certificate verifies for sslserver with its DNS names "
          f"{verr}")
    refused(api, d, "DNS names on a seal request", "POST",
            "/api/v1/ra/requests",
            {"org_id": org_id, "profile": "eseal-cloud",
             "dns_names": ["a.es"]}, officer, 400, ["dns_names"])
    check_psd2(api, d, tok, tmp)
    st, out = api.call("GET", "/api/v1/ra/requests?status=pending", None,
                       tok["auditor"])
    check(st == 200 and out["requests"] == [],
          "auditor lists requests; none left pending")
    return {"org_id": org_id, "nif": nif, "rep_serial":
            sql(d, f"select cert_serial from cert_requests where id='{req_id}'"),
            "rep_dni": rep_dni}


def qc_statements(pem):
    """The QCStatements extension as `openssl asn1parse -strparse` shows it."""
    _, out, _ = openssl("asn1parse", "-in", pem, check_rc=0)
    m = re.search(r"OBJECT +:qcStatements\n *(\d+):", out)
    if not m:
        return ""
    return openssl("asn1parse", "-in", pem, "-strparse", m.group(1))[1]


def check_psd2(api, d, tok, tmp):
    """A payment service provider's seal carries its NCA data (R2.7)."""
    org = {"legal_name": "Pagos Rapidos SA", "nif": cif("A", "7654321"),
           "locality": "Bilbao", "contact_email": "psd2@pagos.es",
           "psd2": {"nca_name": "Banco de Espana", "nca_id": "ES-BE",
                    "roles": ["PSP_PI", "PSP_AI"],
                    "authorization_number": "6789"}}
    refused(api, d, "PSD2 NCA id without country", "POST",
            "/api/v1/ra/organizations",
            dict(org, psd2=dict(org["psd2"], nca_id="BE")), tok["ra_officer"],
            400, ["nca_id"])
    st, out = api.call("POST", "/api/v1/ra/organizations", org,
                       tok["ra_officer"])
    check(st == 201 and out.get("psd2", {}).get("roles") ==
          ["PSP_PI", "PSP_AI"], f"PSD2 organization with NCA data ({st})")
    org_id = out.get("id")
    refused(api, d, "PSD2 profile for an organization without PSD2 data",
            "POST", "/api/v1/ra/requests",
            {"org_id": sql(d, "select id from organizations where "
                              "psd2_nca_id = '' limit 1"),
             "profile": "eseal-psd2", "csr": csr_pem(tmp, "nopsd2")},
            tok["ra_officer"], 400, ["PSD2"])
    st, out = api.call("POST", "/api/v1/ra/requests",
                       {"org_id": org_id, "profile": "eseal-psd2",
                        "common_name": "Pagos Rapidos API",
                        "csr": csr_pem(tmp, "psd2")}, tok["ra_officer"])
    st, out = api.call("POST", f"/api/v1/ra/requests/{out.get('id')}/approve",
                       {}, tok["ra_admin"])
    path = os.path.join(tmp, "psd2.pem")
    with open(path, "w") as f:
        f.write(out.get("certificate") or "")
    text = x509_text(path) if st == 200 else ""
    qc = qc_statements(path) if st == 200 else ""
    check("organizationIdentifier = PSDES-BE-6789" in text and
          "Banco de Espana" in qc and "ES-BE" in qc and
          "0.4.0.19495.2" in qc,
          f"PSD2 seal: PSDES-BE-… identifier and NCA roles ({st})")


# ---- revocation requests ------------------------------------------------------------

def crl_lists(api, pem, tmp, ca, serial):
    st, _, der = api.srv.get(f"/crl/{ca}.crl")
    path = os.path.join(tmp, f"{ca}-{serial[:8]}.crl")
    with open(path, "wb") as f:
        f.write(der)
    rc, text, _ = openssl("crl", "-inform", "DER", "-in", path, "-noout",
                          "-text")
    return st == 200 and rc == 0 and f"Serial Number: {serial}" in text


def check_revocations(api, d, tok, pem, tmp, ana, ana_tok, org):
    revoker = tok["revocation_officer"]
    refused(api, d, "registration officer revoking (role it lacks)", "POST",
            "/api/v1/ra/revocations",
            {"serial": org["rep_serial"], "reason": "superseded"},
            tok["ra_officer"], 403, [])
    refused(api, d, "suspension (certificateHold) refused", "POST",
            "/api/v1/ra/revocations",
            {"serial": org["rep_serial"], "reason": "certificateHold"},
            revoker, 400, [])

    # the citizen: password + an OTP bound to this serial (R6.1, R3.4)
    st, out = api.call("POST",
                       f"/api/v1/citizens/{ana['id']}/revocations/otp",
                       {"serial": ana["serial"]}, ana_tok)
    check(st == 201 and out.get("otp_id"), f"OTP sent for revocation ({st})")
    otp_id = out.get("otp_id")
    code = outbox_otp(d, ana["mobile"], "revoke")
    body = {"serial": ana["serial"], "reason": "keyCompromise",
            "comment": "perdi el movil", "password": "Correct-Horse-42",
            "otp_id": otp_id, "otp": code}
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    refused(api, d, "revocation with a wrong OTP", "POST",
            f"/api/v1/citizens/{ana['id']}/revocations",
            dict(body, otp=wrong), ana_tok, 401, [])
    refused(api, d, "revocation with a wrong password", "POST",
            f"/api/v1/citizens/{ana['id']}/revocations",
            dict(body, password="Wrong-Horse-42"), ana_tok, 401, [])
    st, out = api.call("POST", f"/api/v1/citizens/{ana['id']}/revocations",
                       body, ana_tok)
    check(st == 200 and out.get("status") == "revoked",
          f"the citizen revokes their certificate ({st} {out})")
    same(sql(d, f"select status, revocation_reason from certs where "
                f"serial='{ana['serial']}'"), "1|1",
         "revoked at once with reason keyCompromise (R6.2)")
    check(sql(d, "select capacity, requester, comment from "
                 f"revocation_requests where serial='{ana['serial']}'") ==
          f"holder|citizen:{ana['id']}|perdi el movil",
          "revocation request recorded (CPS 4.9.3.1)")
    check(crl_lists(api, pem, tmp, "qualified", ana["serial"]),
          "openssl crl shows the serial on the qualified CA's CRL")
    check(any(m["to"] == ana["mobile"] and ana["serial"] in m["text"] and
              "ha sido revocado" in m["text"] for m in outbox(d)),
          "the holder is notified by SMS, in Spanish (R6.2)")
    refused(api, d, "replaying the used OTP", "POST",
            f"/api/v1/citizens/{ana['id']}/revocations", body, ana_tok, 401,
            ["already used"])

    # the subscriber's representative, as a registered citizen, revokes a
    # certificate of the organization that names someone else
    linked = sql(d, "select serial from certs where profile='linked-person'")
    rep = registration(org["rep_dni"], "+34600222002", given_name="Luis",
                       surname="Martin Ruiz")
    st, out = api.call("POST", "/api/v1/ra/citizens", rep, tok["ra_officer"])
    rep.update(id=out.get("id"), user_id=out.get("user_id"))
    rep_tok = activate(api, d, rep, "Representa-2026x")
    st, out = api.call("POST", f"/api/v1/citizens/{rep['id']}/revocations/otp",
                       {"serial": linked}, rep_tok)
    code = outbox_otp(d, rep["mobile"], "revoke")
    st, out = api.call("POST", f"/api/v1/citizens/{rep['id']}/revocations",
                       {"serial": linked, "reason": "affiliationChanged",
                        "password": "Representa-2026x",
                        "otp_id": out.get("otp_id"), "otp": code}, rep_tok)
    check(st == 200, f"the representative revokes the linked person's "
                     f"certificate ({st} {out})")
    same(sql(d, "select capacity, requester from revocation_requests "
                f"where serial='{linked}'"),
         f"representative|citizen:{rep['id']}",
         "recorded as asked by the subscriber's representative")
    check(crl_lists(api, pem, tmp, "standard", linked) or
          crl_lists(api, pem, tmp, "qualified", linked),
          "openssl crl lists the linked person's certificate")
    check(any(m["to"] == "certs@ejemplo.es" and linked in m["text"]
              for m in outbox(d)), "the subscriber organization is notified")

    # a revocation officer, serial typed in lower case
    st, out = api.call("POST", "/api/v1/ra/revocations",
                       {"serial": org["rep_serial"].lower(), "reason":
                        "cessationOfOperation", "comment": "company closed"},
                       revoker)
    check(st == 200, f"a revocation officer revokes ({st} {out})")
    same(sql(d, "select capacity, requester from revocation_requests where "
                f"serial='{org['rep_serial']}'"),
         "officer|operator:demo-revocation-officer",
         "recorded as the revocation officer's")
    refused(api, d, "unknown serial", "POST", "/api/v1/ra/revocations",
            {"serial": "0123456789ABCDEF", "reason": "superseded"}, revoker,
            404, [])


# ---- telematic registration (R2.2) -----------------------------------------------------

CA_CNF = """[ca]
default_ca = throwaway
[throwaway]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
certificate = {dir}/ca.pem
private_key = {dir}/ca.key
serial = {dir}/serial
crlnumber = {dir}/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 7
policy = anything
unique_subject = no
[anything]
serialNumber = optional
givenName = optional
surname = optional
commonName = supplied
countryName = optional
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[user_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class ThrowawayCA:
    """A citizen-certificate CA of someone else, made with openssl."""

    def __init__(self, tmp, name):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.cnf = os.path.join(self.dir, "ca.cnf")
        with open(self.cnf, "w") as f:
            f.write(CA_CNF.format(dir=self.dir))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(self.dir, "crlnumber"), "w") as f:
            f.write("01\n")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                f"{self.dir}/ca.key", "-out", f"{self.dir}/ca.pem", "-days",
                "30", "-subj", f"/C=ES/O={name}/CN={name} Citizen CA",
                "-config", self.cnf, "-extensions", "ca_ext", check_rc=0)

    def issue(self, name, number, given, surname):
        key, csr = f"{self.dir}/{name}.key", f"{self.dir}/{name}.csr"
        crt = f"{self.dir}/{name}.pem"
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", csr, "-subj",
                f"/C=ES/serialNumber=IDCES-{number}/GN={given}/SN={surname}"
                f"/CN={given} {surname}", check_rc=0)
        openssl("ca", "-batch", "-config", self.cnf, "-in", csr, "-out", crt,
                "-extensions", "user_ext", "-notext", check_rc=0)
        return crt, key

    def revoke(self, crt):
        openssl("ca", "-batch", "-config", self.cnf, "-revoke", crt,
                "-crl_reason", "keyCompromise", check_rc=0)

    def crl(self):
        out = f"{self.dir}/ca.crl"
        openssl("ca", "-batch", "-config", self.cnf, "-gencrl", "-out", out,
                check_rc=0)
        with open(out) as f:
            return f.read()

    def pem(self):
        with open(f"{self.dir}/ca.pem") as f:
            return f.read()


def signed_request(tmp, name, crt, key, content, detached=False):
    """`openssl cms -sign`: attached content (-nodetach) unless detached."""
    src = os.path.join(tmp, f"{name}.json")
    out = os.path.join(tmp, f"{name}.p7m")
    with open(src, "w") as f:
        f.write(json.dumps(content))
    openssl("cms", "-sign", "-in", src, "-signer", crt, "-inkey", key,
            *([] if detached else ["-nodetach"]), "-outform", "DER", "-out",
            out, check_rc=0)
    with open(out, "rb") as f:
        return f.read()


def check_telematic(api, d, tmp):
    path = "/api/v1/register/ecert"
    ctype = "application/pkcs7-mime"
    fnmt = ThrowawayCA(tmp, "Recognised")
    other = ThrowawayCA(tmp, "Unknown")
    number = dni(66666666)
    crt, key = fnmt.issue("juan", number, "Juan", "Perez Gomez")
    content = {"mobile": "+34600333001", "email": "juan@example.es",
               "birth_date": "1970-07-07"}
    body = signed_request(tmp, "juan", crt, key, content)
    refused(api, d, "telematic registration without a trust list", "POST",
            path, None, None, 409, ["not configured"], raw=body, ctype=ctype)
    with open(f"{d}/ecert-trust.pem", "w") as f:
        f.write(fnmt.pem() + fnmt.crl())

    ucrt, ukey = other.issue("eve", dni(77777777), "Eve", "Intrusa")
    refused(api, d, "certificate of an untrusted CA", "POST", path, None, None,
            401, ["not recognised"],
            raw=signed_request(tmp, "eve", ucrt, ukey, content), ctype=ctype)
    rcrt, rkey = fnmt.issue("rita", dni(88888888), "Rita", "Revocada")
    fnmt.revoke(rcrt)
    with open(f"{d}/ecert-trust.pem", "w") as f:
        f.write(fnmt.pem() + fnmt.crl())
    refused(api, d, "revoked certificate (CRL of the issuer)", "POST", path,
            None, None, 401, ["revoked"],
            raw=signed_request(tmp, "rita", rcrt, rkey, content), ctype=ctype)
    refused(api, d, "detached signature", "POST", path, None, None, 400,
            ["content"], raw=signed_request(tmp, "juan-d", crt, key, content,
                                            detached=True), ctype=ctype)
    refused(api, d, "not CMS", "POST", path, None, None, 400, ["CMS"],
            raw=os.urandom(200), ctype=ctype)
    refused(api, d, "signed content without a mobile", "POST", path, None,
            None, 400, ["mobile"],
            raw=signed_request(tmp, "juan-nomobile", crt, key,
                               {"email": "juan@example.es"}), ctype=ctype)
    failures = int(sql(d, "select count(*) from audit_log where "
                          "event='citizen.register' and result='failure'"))
    check(failures >= 2, "failed telematic authentications are audited")

    st, out = api.call("POST", path, None, None, body, ctype)
    check(st == 201 and out.get("person_id") == f"IDCES-{number}" and
          out.get("activation") == "sent",
          f"telematic registration with a recognised certificate ({st} "
          f"{out})")
    row = sql(d, "select c.level, c.given_name, c.surname, r.method, r.actor,"
                 " substr(r.evidence_ref, 1, 11) from citizens c join "
                 "registrations r on r.citizen_id = c.id where c.person_id = "
                 f"'IDCES-{number}'")
    check(row == f"advanced|Juan|Perez Gomez|ecert|ecert:IDCES-{number}|"
                 "cms-sha256:", f"advanced level from the certificate ({row})")
    refused(api, d, "the same person again", "POST", path, None, None, 409,
            ["already registered"], raw=body, ctype=ctype)


# ---- console --------------------------------------------------------------------------

def check_console(d, tmp):
    path = os.path.join(tmp, "console.json")
    with open(path, "w") as f:
        json.dump(registration(dni(99000001), "+34600444001"), f)
    rc, out, err = llave(d, "citizen", "add", "--json", path)
    check(rc == 0 and "registered citizen" in out,
          f"llave citizen add registers from the console {err.strip()}")
    check(sql(d, "select method, substr(actor, 1, 8) from registrations r "
                 "join citizens c on c.id = r.citizen_id where c.person_id = "
                 f"'IDCES-{dni(99000001)}'") == "console|console:",
          "console registration recorded as console:<user>")
    with open(path, "w") as f:
        json.dump(registration("99000001A", "+34600444002"), f)
    rc, out, err = llave(d, "citizen", "add", "--json", path)
    check(rc != 0 and "wrong check letter" in err,
          f"console refuses a wrong DNI letter {err.strip()}")


def extra_operator(d, login, *roles):
    args = ["operator", "add", login, "--json"]
    for r in roles:
        args += ["--role", r]
    _, out, _ = llave(d, *args, check_rc=0)
    return json.loads(out)


def main():
    tmp = workdir("ra")
    d, pem = demo_install(tmp)
    with open(f"{d}/demo-credentials.json") as f:
        accounts = json.load(f)["accounts"]
    ops = {a["roles"][0]: a for a in accounts if a["kind"] == "operator"}
    citizen = [a for a in accounts if a["kind"] == "citizen"]
    check(len(citizen) == 1 and citizen[0]["level"] == "advanced",
          "the demo lists one advanced-level citizen")
    both = extra_operator(d, "ra-both", "ra_officer", "ra_admin")
    srv = Server(d)
    try:
        api = Api(srv)
        st, out = api.call("POST", "/api/v1/auth/login",
                           {"user_id": citizen[0]["user_id"],
                            "password": citizen[0]["password"]})
        check(st == 200, "the demo citizen logs in with the listed password")
        tok = {role: operator_token(api, ops[role]) for role in
               ("ra_officer", "ra_admin", "auditor", "revocation_officer")}
        extra = {"both": operator_token(api, both)}
        ana, ana_tok = check_citizens(api, d, tok, pem, tmp)
        ana["mobile"] = "+34600111001"
        org = check_organizations(api, d, tok, pem, tmp, extra)
        check_revocations(api, d, tok, pem, tmp, ana, ana_tok, org)
        check_telematic(api, d, tmp)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    check_console(d, tmp)
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit trail intact: {out.strip()}")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
