"""Issue 4 part A: revocation, CRL v2, the CRL keeper, the compromise drill,
key change-over and the public repository.

CRLs are fetched over HTTP from a real llaved and judged with `openssl crl`
and `openssl verify -crl_check_all`; OCSP after the compromise drill with
`openssl ocsp`; stored state with the sqlite3 CLI."""
import datetime
import hashlib
import json
import os
import re
import subprocess
import time

from lvtest import (SUBJECTS, Server, check, cleanup, demo_install, finish,
                    llave, new_csr, openssl, operator_lines, run, sql,
                    two_person, workdir, x509_text)

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(n):
    return f"{n:08d}{DNI_LETTERS[n % 23]}"


def serial_of(pem):
    out = openssl("x509", "-in", pem, "-noout", "-serial", check_rc=0)[1]
    return out.strip().split("=")[1]


def issue_person(d, tmp, n, profile="natural-person-cloud"):
    with open(os.path.join(SUBJECTS, f"{profile}.json")) as f:
        subject = json.load(f)
    subject["id_number"] = dni(n)
    path = os.path.join(tmp, f"subject-{profile}-{n}.json")
    with open(path, "w") as f:
        json.dump(subject, f)
    out = os.path.join(tmp, f"{profile}-{n}.pem")
    rc, _, err = llave(d, "cert", "issue", profile, "--subject", path,
                       "--out", out)
    if rc != 0:
        raise RuntimeError(f"issue {profile} {n}: {err}")
    return out, serial_of(out)


def issue_web(d, tmp, host):
    subject = {"country": "ES", "locality": "Madrid",
               "organization": "Ejemplo SA", "dns_names": [host]}
    path = os.path.join(tmp, f"web-{host}.json")
    with open(path, "w") as f:
        json.dump(subject, f)
    out = os.path.join(tmp, f"web-{host}.pem")
    rc, _, err = llave(d, "cert", "issue", "web-ov", "--subject", path,
                       "--csr", new_csr(tmp, host), "--out", out)
    if rc != 0:
        raise RuntimeError(f"issue web-ov {host}: {err}")
    return out, serial_of(out)


def fetch_crl(srv, tmp, ca):
    """GET /crl/{ca}.crl; returns (status, headers, path of a PEM copy)."""
    status, headers, body = srv.get(f"/crl/{ca}.crl")
    der = os.path.join(tmp, f"{ca}.crl.der")
    pem = os.path.join(tmp, f"{ca}.crl.pem")
    with open(der, "wb") as f:
        f.write(body)
    if status == 200:
        openssl("crl", "-inform", "DER", "-in", der, "-out", pem, check_rc=0)
    return status, headers, pem


def crl_text(pem):
    return openssl("crl", "-in", pem, "-noout", "-text", check_rc=0)[1]


def crl_number(text):
    m = re.search(r"X509v3 CRL Number: *\n *(\d+)", text)
    return int(m.group(1)) if m else -1


def verify(pem, cert, crls):
    args = ["verify", "-crl_check_all", "-CAfile", f"{pem}/root.pem",
            "-untrusted", f"{pem}/chain.pem"]
    for c in crls:
        args += ["-CRLfile", c]
    rc, out, err = openssl(*args, cert)
    return rc, out + err


def state(d):
    """Everything a refused operation must leave as it was."""
    return (sql(d, "select group_concat(serial||status||revoked_at||"
                   "revocation_reason, ',') from certs"),
            sql(d, "select count(*) from crls"),
            sql(d, "select group_concat(name||status, ',') from cas"))


def refused(d, label, args, expect, stdin=None):
    before = state(d)
    rc, out, err = llave(d, *args, input=stdin)
    check(rc != 0 and expect in err and state(d) == before,
          f"refused, nothing changed: {label}: {err.strip()}")


# ---- CRLs over HTTP --------------------------------------------------------

def check_crl_service(srv, tmp, pem, good, revoked_cert, d):
    for ca in ("root", "qualified", "standard"):
        status, headers, crl = fetch_crl(srv, tmp, ca)
        check(status == 200 and
              headers.get("Content-Type") == "application/pkix-crl",
              f"GET /crl/{ca}.crl serves DER application/pkix-crl")
        text = crl_text(crl)
        check("Version 2" in text and crl_number(text) >= 1,
              f"{ca} CRL is v2 with a CRL number")
    status, headers, crl = fetch_crl(srv, tmp, "qualified")
    age = re.search(r"max-age=(\d+)", headers.get("Cache-Control", ""))
    check(age and 0 < int(age.group(1)) <= 300 and headers.get("ETag") and
          headers.get("Last-Modified") and headers.get("Expires"),
          f"CRL caching headers: {headers.get('Cache-Control')} "
          f"ETag {headers.get('ETag')}")
    st, _, body = srv.request("GET", "/crl/qualified.crl",
                              headers={"If-None-Match": headers["ETag"]})
    check(st == 304 and body == b"", "If-None-Match with the ETag: 304")
    st, _, _ = srv.request("GET", "/crl/qualified.crl",
                           headers={"If-Modified-Since":
                                    headers["Last-Modified"]})
    check(st == 304, "If-Modified-Since: 304")
    st, _, body = srv.get("/crl/nope.crl")
    check(st == 404 and json.loads(body).get("error") == "not_found",
          "unknown CA: 404 JSON error")
    st, _, body = srv.get("/crl/QUALIFIED.crl")
    check(st == 404, "CRL names are the configured short names only")
    # the CRL DP in the certificates names exactly this path
    text = x509_text(good)
    check("URI:http://127.0.0.1:8080/crl/qualified.crl" in text,
          "CRL DP of the certificate is {public_url}/crl/qualified.crl")
    return crl


def check_revocation(d, srv, tmp, pem, good, bad, bad_serial):
    _, _, before = fetch_crl(srv, tmp, "qualified")
    n_before = crl_number(crl_text(before))
    rc, out, err = llave(d, "cert", "revoke", bad_serial.lower(), "--reason",
                         "keyCompromise", "--requester", "subject")
    check(rc == 0 and "CRL qualified number" in out,
          f"cert revoke (lower-case serial) regenerates the CRL: {out.strip()}")
    row = sql(d, "select status||'|'||revocation_reason||'|'||"
                 "revocation_requester||'|'||revocation_authority from certs "
                 f"where serial='{bad_serial}'")
    check(row.startswith("1|1|subject|console:"),
          f"status, reason, requester and authority recorded (R6.1): {row}")
    audit = sql(d, "select count(*) from audit_log where event='cert.revoke'"
                   f" and object='{bad_serial}' and result='success'")
    check(audit == "1", "the revocation is audited")
    _, _, q = fetch_crl(srv, tmp, "qualified")
    _, _, r = fetch_crl(srv, tmp, "root")
    text = crl_text(q)
    check(crl_number(text) > n_before,
          f"CRL number increased {n_before} -> {crl_number(text)}")
    check(f"Serial Number: {bad_serial}" in text and "Key Compromise" in text,
          "the revoked certificate is on the CRL with reason keyCompromise")
    ski = re.search(r"Subject Key Identifier: *\n *(\S+)",
                    x509_text(f"{pem}/qualified.pem")).group(1)
    check(re.search(r"Authority Key Identifier: *\n *(keyid:)?" +
                    re.escape(ski), text) is not None,
          "CRL AKI is the qualified CA's SKI")
    m1 = re.search(r"Last Update: (.*)", text).group(1)
    m2 = re.search(r"Next Update: (.*)", text).group(1)
    fmt = "%b %d %H:%M:%S %Y %Z"
    lu = datetime.datetime.strptime(m1.replace("  ", " "), fmt)
    nu = datetime.datetime.strptime(m2.replace("  ", " "), fmt)
    check(nu - lu == datetime.timedelta(hours=24),
          "nextUpdate = thisUpdate + crl_interval_hours (24 h)")
    rc, out = verify(pem, bad, [q, r])
    check(rc != 0 and "certificate revoked" in out,
          f"openssl verify -crl_check_all: revoked is revoked")
    rc, out = verify(pem, good, [q, r])
    check(rc == 0, f"openssl verify -crl_check_all: good is good {out}")
    # unspecified: RFC 5280 §5.3.1 says omit the reasonCode
    return q, r


def check_invalidity_and_unspecified(d, srv, tmp):
    out, serial = issue_person(d, tmp, 30)
    today = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    rc, _, err = llave(d, "cert", "revoke", serial, "--reason",
                       "affiliationChanged", "--invalidity-date", today)
    check(rc == 0, f"revoke with an invalidity date {err.strip()}")
    out2, serial2 = issue_person(d, tmp, 31)
    rc, _, err = llave(d, "cert", "revoke", serial2, "--reason", "unspecified")
    check(rc == 0, "revoke with reason unspecified")
    _, _, q = fetch_crl(srv, tmp, "qualified")
    text = crl_text(q)
    if not check(f"Serial Number: {serial}" in text and
                 f"Serial Number: {serial2}" in text,
                 "both are on the regenerated CRL"):
        print(text)
        return
    block = text.split(f"Serial Number: {serial}")[1].split("Serial Number")[0]
    check("Affiliation Changed" in block and "Invalidity Date" in block,
          "CRL entry has reasonCode and invalidityDate")
    block = text.split(f"Serial Number: {serial2}")[1].split("Serial Number")[0]
    check("CRL Reason Code" not in block.split("Signature Algorithm")[0],
          "reason unspecified: no reasonCode extension (RFC 5280 §5.3.1)")


def check_refusals(d, tmp, bad_serial, good_serial):
    refused(d, "unknown serial", ["cert", "revoke", "00AB", "--reason",
                                  "superseded"], "no certificate with serial")
    refused(d, "not hex", ["cert", "revoke", "xyz", "--reason", "superseded"],
            "hex digits")
    refused(d, "double revocation", ["cert", "revoke", bad_serial, "--reason",
                                     "superseded"], "already revoked")
    refused(d, "reactivation (removeFromCRL)",
            ["cert", "revoke", bad_serial, "--reason", "removeFromCRL"],
            "a revocation is final")
    refused(d, "suspension (certificateHold)",
            ["cert", "revoke", good_serial, "--reason", "certificateHold"],
            "never suspended")
    refused(d, "unknown reason", ["cert", "revoke", good_serial, "--reason",
                                  "bored"], "unknown revocation reason")
    refused(d, "invalidity date in the future",
            ["cert", "revoke", good_serial, "--reason", "keyCompromise",
             "--invalidity-date", "2999-01-01"], "invalidity date")
    refused(d, "missing --reason", ["cert", "revoke", good_serial], "--reason")
    n = sql(d, "select count(*) from audit_log where event='cert.revoke' and "
               "result='failure'")
    check(int(n) >= 6, f"refused revocations are audited ({n})")
    # an expired certificate is not revocable, and the refusal says so
    out, serial = issue_person(d, tmp, 40)
    sql(d, "update certs set not_after = strftime('%s','now') - 60 "
           f"where serial = '{serial}'")
    refused(d, "expired certificate", ["cert", "revoke", serial, "--reason",
                                       "keyCompromise"], "expired")


def check_expired_leave_crl(d, srv, tmp):
    out, serial = issue_person(d, tmp, 50)
    llave(d, "cert", "revoke", serial, "--reason", "superseded", check_rc=0)
    _, _, q = fetch_crl(srv, tmp, "qualified")
    check(f"Serial Number: {serial}" in crl_text(q),
          "a revoked certificate is listed while it is valid")
    sql(d, "update certs set not_after = strftime('%s','now') - 60 "
           f"where serial = '{serial}'")
    rc, out, _ = llave(d, "crl", "generate", "qualified")
    _, _, q = fetch_crl(srv, tmp, "qualified")
    check(rc == 0 and f"Serial Number: {serial}" not in crl_text(q),
          "after it expires it is no longer listed (R6.3)")


def check_keeper(d, srv, tmp):
    _, _, s = fetch_crl(srv, tmp, "standard")
    before = crl_number(crl_text(s))
    # a status change whose own CRL was not made (e.g. the key store was
    # sealed) leaves the CA's status revision ahead of its CRL; published
    # CRLs cannot be edited (R9.3), so the age rule is unit-tested
    sql(d, "update cas set status_revision = status_revision + 1 "
           "where name='standard'")
    after = before
    for _ in range(40):
        time.sleep(0.25)
        _, _, s = fetch_crl(srv, tmp, "standard")
        after = crl_number(crl_text(s))
        if after > before:
            break
    check(after > before,
          f"llaved's CRL keeper republished a CRL behind a status change "
          f"({before} -> {after})")
    n = sql(d, "select count(*) from audit_log where actor='llaved' and "
               "event='crl.generate' and object='standard'")
    check(int(n) >= 2, "scheduled CRLs are audited as llaved")


# ---- repository ------------------------------------------------------------

def check_repository(d, srv, tmp, good, good_serial, bad_serial):
    st, headers, body = srv.get("/repository/")
    html = body.decode()
    check(st == 200 and headers["Content-Type"].startswith("text/html") and
          "pds-en.pdf" in html and "/crl/qualified.crl" in html,
          "GET /repository/ is HTML linking documents and CRLs")
    check("llave Root CA" in html and "cps-es.pdf" in html,
          "the HTML index lists CA certificates and documents")
    st, headers, body = srv.get("/repository/?format=json")
    idx = json.loads(body)
    check(st == 200 and {c["name"] for c in idx["ca_certificates"]} >=
          {"root", "qualified", "standard"},
          "JSON index lists the CA certificates")
    check({c["ca"] for c in idx["crls"]} >= {"root", "qualified", "standard"}
          and all(c["url"].endswith(f"/crl/{c['ca']}.crl")
                  for c in idx["crls"]), "JSON index lists the CRLs")
    st2, _, body2 = srv.request("GET", "/repository/",
                                headers={"Accept": "application/json"})
    check(st2 == 200 and json.loads(body2)["documents"],
          "Accept: application/json gives the JSON index")
    root_der = srv.get("/ca/root.crt")[2]
    root = [c for c in idx["ca_certificates"] if c["name"] == "root"][0]
    check(root["sha256"] == hashlib.sha256(root_der).hexdigest(),
          "R8.2: the index carries the SHA-256 of each CA certificate")
    docs = {x["name"]: x for x in idx["documents"]}
    check(set(docs) == {"cps-es.pdf", "cps-en.pdf", "pds-es.pdf",
                        "pds-en.pdf"}, "CPS and PDS in Spanish and English")
    for name, want in (("pds-en.pdf", "PKI Disclosure Statement"),
                       ("pds-es.pdf", "Declaración Informativa"),
                       ("cps-es.pdf", "Declaración de Prácticas")):
        st, headers, body = srv.get(f"/repository/{name}")
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(body)
        rc, text, _ = run(["pdftotext", path, "-"])
        check(st == 200 and headers["Content-Type"] == "application/pdf" and
              rc == 0 and want in text and
              hashlib.sha256(body).hexdigest() == docs[name]["sha256"],
              f"GET /repository/{name}: a PDF (pdftotext reads it), SHA-256 "
              f"as listed")
    # the QcPDS URLs in qualified certificates point to these paths
    rc, dump, _ = run(["sh", "-c", f"openssl x509 -in {good} -outform DER |"
                       " strings"])
    check("/repository/pds-en.pdf" in dump and "/repository/pds-es.pdf" in dump,
          "QcPDS URLs of the certificate are the served paths")
    # consent (R8.1): nothing is published without it
    check(idx["certificates"] == [], "no certificate is published by default")
    st, _, _ = srv.get(f"/repository/cert/{good_serial}.crt")
    check(st == 404, "an unconsented certificate is not downloadable")
    before = state(d)
    rc, _, err = llave(d, "cert", "publish", good_serial)
    check(rc != 0 and state(d) == before, "cert publish needs --consent")
    llave(d, "cert", "publish", good_serial, "--consent", check_rc=0)
    idx = json.loads(srv.get("/repository/?format=json")[2])
    check([c["serial"] for c in idx["certificates"]] == [good_serial],
          "after consent the certificate is listed")
    st, headers, body = srv.get(f"/repository/cert/{good_serial.lower()}.crt")
    mine = subprocess.run(["openssl", "x509", "-in", good, "-outform", "DER"],
                          capture_output=True).stdout
    check(st == 200 and body == mine and
          headers["Content-Type"] == "application/pkix-cert",
          "and downloadable as DER")
    rc, _, err = llave(d, "cert", "publish", good_serial, "--consent")
    check(rc != 0 and "already published" in err, "publishing twice refused")
    llave(d, "cert", "publish", good_serial, "--withdraw", check_rc=0)
    st, _, _ = srv.get(f"/repository/cert/{good_serial}.crt")
    check(st == 404, "after withdrawal it is gone")
    n = sql(d, "select count(*) from audit_log where event in "
               "('cert.publish','cert.unpublish')")
    check(n == "2", "consent and withdrawal are audited")
    # bad input: clear errors, nothing served that should not be
    for path, code in (("/repository/?format=xml", 400),
                       ("/repository/?limit=-1", 400),
                       ("/repository/?limit=100000", 400),
                       ("/repository/llave.db", 404),
                       ("/repository/..%2Fllave.json", 404),
                       ("/repository/cert/zz.crt", 404),
                       ("/repository/cert/" + "A" * 100 + ".crt", 404)):
        st, headers, body = srv.get(path)
        ok = st == code and headers.get("Content-Type") == "application/json"
        check(ok and json.loads(body).get("error"),
              f"GET {path}: {code} with a JSON error")
    # R8.2: an operator replaces a document through the console, audited
    mine_pdf = os.path.join(tmp, "my-pds.pdf")
    with open(mine_pdf, "wb") as f:
        f.write(srv.get("/repository/cps-en.pdf")[2])
    rc, _, err = llave(d, "repository", "put", "pds-en.pdf", mine_pdf)
    st, _, body = srv.get("/repository/pds-en.pdf")
    check(rc == 0 and body == open(mine_pdf, "rb").read(),
          "repository put replaces a policy document")
    rc, _, err = llave(d, "repository", "put", "pds-en.pdf", good)
    check(rc != 0 and "must be a PDF" in err, "a non-PDF is refused")
    check(sql(d, "select count(*) from audit_log where "
                 "event='repository.put'") == "1",
          "the replacement is audited")


# ---- compromise and change-over ------------------------------------------

def ocsp_status(srv, pem, issuer, cert, nonce=False):
    args = ["ocsp", "-issuer", f"{pem}/{issuer}.pem", "-cert", cert, "-url",
            f"{srv.url}/ocsp", "-VAfile", f"{pem}/{issuer}-ocsp.pem"]
    if not nonce:
        args.append("-no_nonce")
    rc, out, err = openssl(*args)
    return rc, out + err


def check_compromise(d, tmp, pem):
    webs = [issue_web(d, tmp, f"h{i}.pruebas.example.es") for i in range(3)]
    # R1.5, CPS §5.2.4: two distinct operators with CA custody roles
    refused(d, "compromise confirmed by nobody",
            ["ca", "compromise", "tls"], "two operators must confirm")
    one = operator_lines(d, "demo-ca-admin")
    refused(d, "compromise confirmed by one operator only",
            ["ca", "compromise", "tls"], "two operators must confirm",
            stdin=one)
    refused(d, "compromise confirmed by the same operator twice",
            ["ca", "compromise", "tls"], "two different operators",
            stdin=operator_lines(d, "demo-ca-admin") * 2)
    refused(d, "compromise confirmed by operators without custody roles",
            ["ca", "compromise", "tls"], "CA administrator",
            stdin=operator_lines(d, "demo-ca-admin") +
            operator_lines(d, "demo-auditor"))
    bad = "demo-ca-admin\nwrong-password-1A\n000000\n" + \
        operator_lines(d, "demo-ca-operator")
    refused(d, "compromise with a wrong password", ["ca", "compromise",
            "tls"], "", stdin=bad)
    refused(d, "compromise of the root", ["ca", "compromise", "root"],
            "not an issuing CA", stdin=two_person(d))
    rc, out, err = llave(d, "ca", "compromise", "tls",
                         input=two_person(d))
    # the 3 website certificates (issue 13: the TLS CA issues only those;
    # its OCSP responder goes on signing)
    check(rc == 0 and "3 certificate(s) revoked" in out,
          f"ca compromise: {out.strip()} {err.strip()}")
    actors = sql(d, "select actor from audit_log where event='ca.compromise'"
                    " and result='success'")
    check("operator:demo-ca-admin" in actors and
          "operator:demo-ca-operator" in actors,
          f"the compromise entry names both operators ({actors})")
    left = sql(d, "select count(*) from certs where ca='tls' and "
                  "status=0 and serial not in (select serial from cas)")
    check(left == "0", "every end-entity certificate of the CA is revoked")
    check(sql(d, "select status||revocation_reason from cas "
                 "where name='tls'") == "compromised2",
          "the CA is marked compromised (cACompromise)")
    srv = Server(d)
    try:
        _, _, s = fetch_crl(srv, tmp, "tls")
        _, _, r = fetch_crl(srv, tmp, "root")
        text = crl_text(s)
        check("Next Update: NONE" in text,
              "the final CRL has no nextUpdate (R6.5)")
        check(all(f"Serial Number: {w[1]}" in text for w in webs) and
              text.count("Key Compromise") >= 3,
              "the final CRL lists every certificate as keyCompromise")
        rtext = crl_text(r)
        tls_serial = serial_of(f"{pem}/tls.pem")
        check(f"Serial Number: {tls_serial}" in rtext and
              "CA Compromise" in rtext,
              "the root CRL lists the CA as cACompromise")
        rc, out = verify(pem, webs[0][0], [s, r])
        check(rc != 0 and "revoked" in out,
              f"openssl verify: the CA's certificates are revoked")
        for cert, serial in webs[:2]:
            rc, out = ocsp_status(srv, pem, "tls", cert)
            check(rc == 0 and ": revoked" in out and "keyCompromise" in out,
                  f"OCSP answers revoked (keyCompromise): {out.strip()[:120]}")
        rc, out = ocsp_status(srv, pem, "tls", webs[2][0], nonce=True)
        check(": revoked" in out, "OCSP with a nonce answers revoked too")
    finally:
        srv.stop()
    refused(d, "a second final CRL", ["crl", "generate", "tls"],
            "final CRL")
    refused(d, "a second compromise", ["ca", "compromise", "tls"],
            "already compromised", stdin=two_person(d))
    rc, _, err = llave(d, "cert", "issue", "web-ov", "--subject",
                       os.path.join(SUBJECTS, "web-ov.json"), "--csr",
                       new_csr(tmp, "after"))
    check(rc != 0, f"a compromised CA issues nothing: {err.strip()}")


def check_rollover(d, tmp, pem, old_cert, old_serial):
    refused(d, "rollover confirmed by the same operator twice",
            ["ca", "rollover", "qualified"], "two different operators",
            stdin=operator_lines(d, "demo-ca-operator") * 2)
    running = Server(d)  # issue 12 item 5: picks the change-over up live
    try:
        status, _, _ = running.get("/ca/qualified-g2.crt")
        check(status == 404, "before the change-over there is no G2")
        rc, out, err = llave(d, "ca", "rollover", "qualified",
                             input=two_person(d))
        check(rc == 0 and "qualified-g2" in out,
              f"ca rollover qualified: {out.strip()} {err.strip()}")
        for _ in range(30):
            if "llaved: the CA rows changed" in running.read_log():
                break
            time.sleep(0.5)
        check("llaved: the CA rows changed" in running.read_log(),
              "a running llaved loads the new CA context without a restart "
              "(within 15 s) and says so in its log")
        pem_live = os.path.join(tmp, "pem-live")
        llave(d, "ca", "export", pem_live, check_rc=0)
        live, _ = issue_person(d, tmp, 59)
        rc, out = ocsp_status(running, pem_live, "qualified-g2", live)
        check(rc == 0 and ": good" in out,
              f"its OCSP responder answers for the new CA at once: "
              f"{out.strip()[:160]}")
    finally:
        running.stop()
    refused(d, "rollover of a retired CA", ["ca", "rollover", "qualified"],
            "already retired", stdin=two_person(d))
    pem2 = os.path.join(tmp, "pem2")
    llave(d, "ca", "export", pem2, check_rc=0)
    g2 = x509_text(f"{pem2}/qualified-g2.pem")
    check("CN = llave Qualified CA G2" in g2 and
          "pathlen:0" in g2 and "Certificate Sign, CRL Sign" in g2,
          "the new CA has a new DN and the issuing-CA extensions")
    old_key = sql(d, "select key_id from cas where name='qualified'")
    new_key = sql(d, "select key_id from cas where name='qualified-g2'")
    check(old_key != new_key and os.path.exists(f"{d}/keys/{new_key}.key"),
          "and a new key in the key store")
    rc, _, _ = openssl("verify", "-x509_strict", "-CAfile", f"{pem2}/root.pem",
                       f"{pem2}/qualified-g2.pem")
    check(rc == 0, "the new CA verifies under the root")
    check(sql(d, "select status from cas where name='qualified'") == "retired",
          "the old CA is retired")
    new, serial = issue_person(d, tmp, 60)
    text = x509_text(new)
    check("Issuer: C = ES, O = llave Demo Trust Services, "
          "organizationIdentifier = VATES-B00000000, CN = llave Qualified CA G2"
          in text and "/crl/qualified-g2.crl" in text,
          "new issuance uses the new CA (R6.6)")
    check(sql(d, f"select ca from certs where serial='{serial}'") ==
          "qualified-g2", "and is recorded under it")
    # the old CA still publishes CRLs while its certificates live
    rc, out, _ = llave(d, "cert", "revoke", old_serial, "--reason",
                       "cessationOfOperation")
    check(rc == 0 and "CRL qualified number" in out,
          "the retired CA still signs CRLs")
    srv = Server(d)
    try:
        _, _, q = fetch_crl(srv, tmp, "qualified")
        _, _, q2 = fetch_crl(srv, tmp, "qualified-g2")
        _, _, r = fetch_crl(srv, tmp, "root")
        qt = crl_text(q)
        check(f"Serial Number: {old_serial}" in qt and
              re.search(r"Issuer: .*CN = llave Qualified CA$", qt, re.M),
              "the old CA's CRL lists its revocation")
        rc, out = verify(pem2, new, [q2, r, q])
        check(rc == 0, f"a certificate of the new CA verifies with CRLs {out}")
        rc, out = verify(pem2, old_cert, [q2, r, q])
        check(rc != 0 and "revoked" in out,
              "a revoked certificate of the old CA is still revoked")
        st, _, body = srv.get("/ca/qualified-g2.crt")
        check(st == 200, "GET /ca/qualified-g2.crt")
        rc, out = ocsp_status(srv, pem2, "qualified-g2", new)
        check(rc == 0 and ": good" in out,
              f"OCSP of the new CA's responder: good {out.strip()[:100]}")
    finally:
        srv.stop()


def main():
    tmp = workdir("revocation")
    d, pem = demo_install(tmp)
    with open(f"{d}/llave.json") as f:
        cfg = json.load(f)
    cfg["crl_check_seconds"] = 1  # the keeper test below waits for it
    with open(f"{d}/llave.json", "w") as f:
        json.dump(cfg, f)
    good, good_serial = issue_person(d, tmp, 10)
    bad, bad_serial = issue_person(d, tmp, 11)
    srv = Server(d)
    try:
        check_crl_service(srv, tmp, pem, good, bad, d)
        check_revocation(d, srv, tmp, pem, good, bad, bad_serial)
        check_invalidity_and_unspecified(d, srv, tmp)
        check_refusals(d, tmp, bad_serial, good_serial)
        check_expired_leave_crl(d, srv, tmp)
        check_keeper(d, srv, tmp)
        check_repository(d, srv, tmp, good, good_serial, bad_serial)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    check_compromise(d, tmp, pem)
    check_rollover(d, tmp, pem, good, good_serial)
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit trail intact: {out.strip()}")
    events = sql(d, "select group_concat(distinct event) from audit_log")
    for e in ("cert.revoke", "crl.generate", "ca.compromise", "ca.rollover",
              "cert.publish", "repository.put"):
        check(e in events, f"audit event {e}")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
