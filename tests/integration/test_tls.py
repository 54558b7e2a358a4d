"""Issue 17 item 4: llaved's own https.

A demo install given a certificate and key serves https beside plain http:
the status services stay on http (the certificates name them by http URL),
everything else moves to https; operators log in with the client
certificate our CA issued them, and a citizen registers telematically with
a recognised certificate presented as TLS client certificate (R2.2).  Judged
with tools nobody here wrote: curl and `openssl s_client` for TLS, `openssl
ocsp` for status, sqlite3 for the store."""
import json
import os
import socket
import time

from lvtest import (Server, check, cleanup, demo_install, finish, llave,
                    openssl, run, set_config, sql, workdir)
from test_ra import ThrowawayCA, dni

SUBJECTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "examples", "subjects")


def server_cert(d):
    """The https certificate: any the operator buys; here a self-signed one
    for 127.0.0.1 that the clients below are told to trust."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            os.path.join(d, "tls.key"), "-out", os.path.join(d, "tls.crt"),
            "-days", "3650", "-subj", "/CN=127.0.0.1", "-addext",
            "subjectAltName=IP:127.0.0.1", check_rc=0)
    os.chmod(os.path.join(d, "tls.key"), 0o600)
    return os.path.join(d, "tls.crt")


class TlsServer(Server):
    """Server, and the https URL of the second line llaved prints."""

    def __init__(self, d, extra=(), prefix=()):
        super().__init__(d, extra, prefix)
        line = self.proc.stdout.readline()
        self.https = line.strip().split(" on ", 1)[1] if " on https" in line \
            else None


def curl(url, *args, method="GET", body=None, cacert=None, cert=None,
         key=None, token=None):
    """curl's view: (status, headers text, body as JSON or text)."""
    cmd = ["curl", "-sS", "-X", method, "-D", "-", "--max-time", "30", url]
    if cacert:
        cmd += ["--cacert", cacert]
    if cert:
        cmd += ["--cert", cert, "--key", key]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary",
                body if isinstance(body, str) else json.dumps(body)]
    cmd += list(args)
    rc, out, err = run(cmd)
    if rc != 0:
        return None, err, {}
    # text mode reads "\r\n" as "\n"
    head, _, payload = out.partition("\n\n")
    while head.startswith("HTTP/1.1 100"):
        head, _, payload = payload.partition("\n\n")
    status = int(head.split()[1])
    try:
        return status, head, json.loads(payload)
    except ValueError:
        return status, head, payload


def audit_count(d, where):
    return int(sql(d, f"select count(*) from audit_log where {where}"))


def issue_operator_cert(d, tmp, name, number):
    """A linked-person (public employee) certificate of ours on a CSR: what
    an operator holds (CPS §5.2.3)."""
    with open(os.path.join(SUBJECTS, "linked-person.json")) as f:
        subject = json.load(f)
    subject["id_number"] = dni(number)
    spath = os.path.join(tmp, f"{name}.json")
    with open(spath, "w") as f:
        json.dump(subject, f)
    key = os.path.join(tmp, f"{name}.key")
    csr = os.path.join(tmp, f"{name}.csr")
    pem = os.path.join(tmp, f"{name}.pem")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-subj", "/CN=ignored", "-out", csr, check_rc=0)
    rc, _, err = llave(d, "cert", "issue", "linked-person", "--subject", spath,
                       "--csr", csr, "--out", pem)
    if rc != 0:
        raise RuntimeError(f"issue {name}: {err}")
    serial = openssl("x509", "-in", pem, "-noout", "-serial",
                     check_rc=0)[1].strip().split("=")[1]
    return pem, key, serial


# ---- the two ports ---------------------------------------------------------

def check_handshake(srv, ca_pem):
    hostport = srv.https.split("//")[1]
    rc, out, err = run(["openssl", "s_client", "-connect", hostport,
                        "-CAfile", ca_pem, "-verify_return_error", "-brief"],
                       input="")
    check(rc == 0 and "Verification: OK" in err and
          ("TLSv1.3" in err or "TLSv1.2" in err),
          f"https handshake verifies with openssl s_client ({err[:160]!r})")
    rc, out, _ = run(["openssl", "s_client", "-connect", hostport, "-showcerts"],
                     input="")
    check("Acceptable client certificate CA names" in out and
          "llave Root CA" in out and "Recognised Citizen CA" in out,
          "the server asks for client certificates of our CAs and of the "
          "recognised e-certificate issuers")
    rc, out, err = run(["openssl", "s_client", "-connect", hostport,
                        "-tls1_1"], input="")
    check("Cipher is (NONE)" in out or "Cipher    : 0000" in out or rc != 0,
          "TLS 1.1 is refused")
    rc, out, err = run(["openssl", "s_client", "-connect", hostport,
                        "-tls1_2", "-cipher", "AES128-SHA"], input="")
    check(rc != 0 or "Cipher is (NONE)" in out,
          "a CBC suite with RSA key exchange is refused")


def check_plain_http(srv, d, tmp, pem):
    st, head, _ = curl(srv.url + "/healthz")
    check(st == 200, f"/healthz on plain http for the load balancer ({st})")
    for path in ("/ca/root.crt", "/crl/qualified.crl", "/repository/", "/"):
        st, _, _ = srv.get(path)
        check(st == 200, f"{path} stays on plain http ({st})")
    rc, out, err = openssl(
        "ocsp", "-issuer", os.path.join(pem, "qualified.pem"), "-cert",
        os.path.join(pem, "qualified-ocsp.pem"), "-url", srv.url + "/ocsp",
        "-CAfile", os.path.join(pem, "chain.pem"), "-resp_text")
    check(rc == 0 and "Response verify OK" in err + out,
          "OCSP over plain http verifies with openssl ocsp")
    st, head, _ = curl(srv.url + "/console/")
    port = srv.https.rsplit(":", 1)[1]
    check(st == 308 and f"location: https://127.0.0.1:{port}/console/" in
          head.lower(), f"a page on plain http is sent to https ({st})")
    before = audit_count(d, "1=1")
    st, _, out = curl(srv.url + "/api/v1/operators/login", method="POST",
                      body={"login": "demo-auditor", "password": "x",
                            "totp": "000000"})
    check(st == 403 and "https" in out.get("message", "") and
          audit_count(d, "1=1") == before,
          f"a login on plain http is refused before any check ({st})")


# ---- operators by client certificate -------------------------------------

def cert_login(srv, tls_crt, cert=None, key=None):
    return curl(srv.https + "/api/v1/operators/login/certificate",
                method="POST", cacert=tls_crt, cert=cert, key=key)


def check_operator_certs(srv, d, tmp, tls_crt, stranger):
    pem, key, serial = issue_operator_cert(d, tmp, "auditor", 41000001)
    rc, out, err = llave(d, "operator", "cert", "demo-auditor", pem)
    check(rc == 0 and "bound" in out, f"llave operator cert binds ({err})")
    rc, _, err = llave(d, "operator", "cert", "demo-auditor", tls_crt)
    check(rc != 0 and "refused" in err,
          f"a certificate not of ours is not bound ({err.strip()})")
    rc, _, err = llave(d, "operator", "cert", "nobody-here", pem)
    check(rc != 0, "a certificate is bound to an existing operator only")
    check(sql(d, "select login from operator_certificates") ==
          "demo-auditor", "one binding stored")

    st, _, out = cert_login(srv, tls_crt, pem, key)
    check(st == 200 and out.get("roles") == ["auditor"],
          f"the auditor logs in with the certificate ({st} {out})")
    st, _, who = curl(srv.https + "/api/v1/auth/session", cacert=tls_crt,
                      token=out.get("token"))
    check(st == 200 and who.get("id") == "demo-auditor",
          f"the session is the bound operator's ({st} {who})")
    check(audit_count(d, "event='operator.login' and result='success' and "
                         "details like '%certificate%'") == 1,
          "the certificate login is audited with its method")
    st, _, out = curl(srv.https + "/api/v1/operators/login/certificate",
                      method="POST", cacert=tls_crt)
    check(st == 401, f"no client certificate: 401 ({st} {out})")
    st, _, out = cert_login(srv, tls_crt, tls_crt,
                            os.path.join(d, "tls.key"))
    check(st == 401 and "login failed" in out.get("message", ""),
          f"a self-signed certificate: 401 ({st})")
    st, _, out = cert_login(srv, tls_crt, *stranger)
    check(st == 401 and "login failed" in out.get("message", ""),
          f"a certificate of another CA: 401 ({st})")
    st, _, out = curl(srv.url + "/api/v1/operators/login/certificate",
                      method="POST")
    check(st == 403, f"the certificate login is not on plain http ({st})")

    # unbound, then bound to a disabled operator
    other, okey, _ = issue_operator_cert(d, tmp, "unbound", 41000002)
    st, _, out = cert_login(srv, tls_crt, other, okey)
    check(st == 401, f"a certificate of ours bound to nobody: 401 ({st})")
    rc, _, _ = llave(d, "operator", "add", "tls-officer", "--role",
                     "revocation_officer")
    rc2, _, _ = llave(d, "operator", "cert", "tls-officer", other)
    rc3, _, _ = llave(d, "operator", "disable", "tls-officer")
    st, _, out = cert_login(srv, tls_crt, other, okey)
    check(rc == rc2 == rc3 == 0 and st == 401 and
          audit_count(d, "event='operator.login' and result='failure' and "
                         "details like '%account disabled%'") == 1,
          f"a disabled operator's certificate: 401, audited ({st})")

    # revoked: refused at once, by our store, not a CRL hours old
    rc, _, err = llave(d, "cert", "revoke", serial, "--reason",
                       "keyCompromise")
    st, _, out = cert_login(srv, tls_crt, pem, key)
    check(rc == 0 and st == 401 and
          audit_count(d, "event='operator.login' and result='failure' and "
                         "details like '%certificate revoked%'") == 1,
          f"a revoked certificate: 401 at once, audited ({st})")
    rc, out, _ = llave(d, "operator", "cert", "demo-auditor", "--remove")
    check(rc == 0 and "1 certificate" in out and
          sql(d, "select count(*) from operator_certificates where login="
                 "'demo-auditor'") == "0", "--remove unbinds")
    return other, okey


def check_expired(d, tmp, tls_crt, pem, key):
    """Three years on (faketime), the two-year certificate has expired while
    our CAs have not: refused."""
    # libfaketime is preloaded ahead of the ASan runtime of a sanitized
    # build: ASan must then be told not to insist on coming first
    asan = os.environ.get("ASAN_OPTIONS", "")
    asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    srv = TlsServer(d, prefix=["env", f"ASAN_OPTIONS={asan}", "faketime",
                               "-f", "+1100d"])
    try:
        st, _, out = cert_login(srv, tls_crt, pem, key)
        check(st == 401 and
              audit_count(d, "event='operator.login' and result='failure' "
                             "and details like '%expired%'") == 1,
              f"an expired certificate: 401, audited ({st} {out})")
    finally:
        # libfaketime's wrapped clock calls keep llaved's signal wait from
        # seeing SIGTERM; its clean stop is checked on the real clock above
        srv.stop()


# ---- telematic registration by client certificate (R2.2) ------------------

def check_telematic(srv, d, tmp, tls_crt, fnmt, stranger):
    path = srv.https + "/api/v1/register/ecert/tls"
    number = dni(42000001)
    crt, key = fnmt.issue("lucia", number, "Lucia", "Martin Ruiz")
    body = {"mobile": "+34600555001", "email": "lucia@example.es"}
    before = sql(d, "select count(*) from citizens")
    st, _, out = curl(path, method="POST", body=body, cacert=tls_crt,
                      cert=stranger[0], key=stranger[1])
    check(st == 401 and sql(d, "select count(*) from citizens") == before,
          f"a certificate of an unrecognised issuer: 401, nothing stored "
          f"({st} {out})")
    st, _, out = curl(path, method="POST", body="{not json", cacert=tls_crt,
                      cert=crt, key=key)
    check(st == 400 and sql(d, "select count(*) from citizens") == before,
          f"malformed JSON: 400, nothing stored ({st})")
    st, _, out = curl(path, method="POST", body=body, cacert=tls_crt)
    check(st == 401, f"no client certificate: 401 ({st})")
    st, _, out = curl(srv.url + "/api/v1/register/ecert/tls", method="POST",
                      body=body)
    check(st == 403, f"not on plain http ({st})")
    st, _, out = curl(path, method="POST", body=body, cacert=tls_crt,
                      cert=crt, key=key)
    check(st == 201 and out.get("person_id") == f"IDCES-{number}",
          f"registered with the recognised certificate over TLS ({st} {out})")
    row = sql(d, "select c.level, c.given_name, r.method, "
                 "substr(r.evidence_ref, 1, 11) from citizens c join "
                 "registrations r on r.citizen_id = c.id where c.person_id = "
                 f"'IDCES-{number}'")
    check(row == "advanced|Lucia|ecert-tls|tls-sha256:",
          f"advanced level, method ecert-tls, evidence by digest ({row})")
    st, _, out = curl(path, method="POST", body=body, cacert=tls_crt,
                      cert=crt, key=key)
    check(st == 409, f"the same person again: 409 ({st})")


# ---- the gate on the https port -------------------------------------------

def check_gate(srv):
    host, port = srv.https.split("//")[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    try:
        closed = s.recv(100) == b""
    except ConnectionResetError:
        closed = True
    s.close()
    check(closed, "plain HTTP on the https port is dropped")
    s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        data = s.recv(100)
    except socket.timeout:
        data = None
    waited = time.monotonic() - t0
    s.close()
    check(data == b"" and waited < 6,
          f"a silent connection is dropped at the head deadline ({waited:.1f}"
          " s)")


def main():
    tmp = workdir("tls")
    d, pem = demo_install(tmp)
    tls_crt = server_cert(d)
    fnmt = ThrowawayCA(tmp, "Recognised")
    other_ca = ThrowawayCA(tmp, "Unknown")
    stranger = other_ca.issue("eve", dni(77777777), "Eve", "Intrusa")
    with open(os.path.join(d, "ecert-trust.pem"), "w") as f:
        f.write(fnmt.pem() + fnmt.crl())
    set_config(d, tls_cert_file="tls.crt", tls_key_file="tls.key", tls_port=0,
              ecert_trust_file="ecert-trust.pem", http_head_timeout_s=3)
    srv = TlsServer(d)
    try:
        check(srv.https is not None and srv.https.startswith("https://"),
              f"llaved prints its https address ({srv.https})")
        check_handshake(srv, tls_crt)
        check_plain_http(srv, d, tmp, pem)
        other, okey = check_operator_certs(srv, d, tmp, tls_crt, stranger)
        check_telematic(srv, d, tmp, tls_crt, fnmt, stranger)
        check_gate(srv)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    rc, _, _ = llave(d, "operator", "enable", "tls-officer")
    check_expired(d, tmp, tls_crt, other, okey)
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit trail intact: {out.strip()}")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
