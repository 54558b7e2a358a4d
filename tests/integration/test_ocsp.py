"""Issue 4 items 3 and 7: the OCSP responder (R6.4, RFC 6960) of a real
llaved, judged with the `openssl ocsp` client: good / revoked / unknown,
delegated responder signatures checked against the root, nonces, the
pre-signed answers of the hot path (R10.1), several certificates in one
request, RFC 6960 A.1 GET requests, saved responses read back with
`-respin`, and bad requests refused while the server keeps serving."""
import base64
import calendar
import json
import os
import re
import shutil
import socket
import time
import urllib.parse

from lvtest import (SUBJECTS, Server, check, cleanup, demo_install, finish,
                    llave, new_csr, openssl, run, set_config, sql, workdir)

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(n):
    return f"{n:08d}{DNI_LETTERS[n % 23]}"


def issue_person(d, tmp, n):
    with open(os.path.join(SUBJECTS, "natural-person-cloud.json")) as f:
        subject = json.load(f)
    subject["id_number"] = dni(n)
    subject["given_name"] = f"Persona{n}"
    path = os.path.join(tmp, f"subject-{n}.json")
    with open(path, "w") as f:
        json.dump(subject, f)
    out = os.path.join(tmp, f"person-{n}.pem")
    llave(d, "cert", "issue", "natural-person-cloud", "--subject", path,
          "--out", out, check_rc=0)
    return out


def serial_of(pem):
    out = openssl("x509", "-in", pem, "-noout", "-serial", check_rc=0)[1]
    return out.strip().split("=")[1]


class Ocsp:
    """`openssl ocsp` against one server, trusting only the root: the
    delegated responder must chain to it through the issuing CA."""

    def __init__(self, srv, pem, tmp):
        self.srv, self.pem, self.tmp = srv, pem, tmp

    def ask(self, issuer, certs=(), serials=(), extra=(), trust="chain"):
        # options first: a digest (-sha256) must precede -cert/-serial
        args = ["ocsp", *extra, "-issuer",
                os.path.join(self.pem, f"{issuer}.pem"),
                "-url", self.srv.url + "/ocsp"]
        for c in certs:
            args += ["-cert", c]
        for s in serials:
            args += ["-serial", "0x" + s]
        if trust == "chain":
            args += ["-CAfile", os.path.join(self.pem, "root.pem"),
                     "-verify_other", os.path.join(self.pem, "chain.pem")]
        else:
            args += ["-VAfile", os.path.join(self.pem, f"{issuer}-ocsp.pem")]
        rc, out, err = openssl(*args)
        return rc, out + err


def openssl_time(text):
    """'Nov  4 23:55:55 2026 GMT' -> Unix time."""
    return calendar.timegm(time.strptime(" ".join(text.split()),
                                         "%b %d %H:%M:%S %Y GMT"))


def statuses(text):
    """{name: status} from `openssl ocsp` output lines "name: status"."""
    return dict(re.findall(r"^(\S+): (good|revoked|unknown)$", text, re.M))


def check_statuses(o, d, pem, tmp, good, revoked, web, revoked_serial):
    rc, out = o.ask("qualified", [good])
    check(rc == 0 and "Response verify OK" in out
          and statuses(out).get(good) == "good",
          "good certificate: good, responder verified up to the root")
    check("nonce" not in out.lower(),
          "openssl checked the nonce without complaint (echoed)")
    rc, out = o.ask("qualified", [good], trust="va")
    check(rc == 0 and "Response verify OK" in out, "verifies with -VAfile too")

    rc, out = o.ask("qualified", [revoked])
    check(statuses(out).get(revoked) == "revoked"
          and "Reason: keyCompromise" in out, "revoked: with its reason")
    m = re.search(r"Revocation Time: (.+)", out)
    db_time = int(sql(d, "SELECT revoked_at FROM certs WHERE serial = "
                         f"'{revoked_serial}'"))
    check(m and openssl_time(m.group(1)) == db_time,
          f"revocation time is the recorded one ({db_time})")

    rc, out = o.ask("qualified", serials=["7A00000000000000000000000000DEAD"])
    check(rc == 0 and "Response verify OK" in out
          and "0x7A00000000000000000000000000DEAD: unknown" in out,
          "serial never issued: unknown (signed)")

    rc, out = o.ask("tls", [web])
    check(statuses(out).get(web) == "good",
          "TLS CA (website certificates): answered by its own responder")
    rc, out = o.ask("root", [os.path.join(pem, "qualified.pem")])
    check(statuses(out).get(os.path.join(pem, "qualified.pem")) == "good",
          "root responder answers for the issuing CA certificate")
    rc, out = o.ask("qualified", [good], extra=["-sha256"])
    check(statuses(out).get(good) == "good", "SHA-256 CertID: good")

    rc, out = o.ask("qualified", [good, revoked])
    s = statuses(out)
    check(rc == 0 and "Response verify OK" in out
          and s.get(good) == "good" and s.get(revoked) == "revoked",
          "two certificates in one request, answered together")


def check_expired(o, d, tmp):
    """R6.4: status is kept after expiry."""
    cert = issue_person(d, tmp, 7)
    serial = serial_of(cert)
    sql(d, f"UPDATE certs SET not_after = {int(time.time()) - 86400} "
           f"WHERE serial = '{serial}'")
    rc, out = o.ask("qualified", [cert])
    check(statuses(out).get(cert) == "good",
          "expired certificate still answered (good)")


def check_presigned(o, d, tmp, good):
    """R10.1: requests without nonce get the pre-signed bytes."""
    serial = serial_of(good)
    r1, r2, n1, n2 = (os.path.join(tmp, f"resp-{i}.der")
                      for i in ("a", "b", "n1", "n2"))
    o.ask("qualified", [good], extra=["-no_nonce", "-respout", r1])
    o.ask("qualified", [good], extra=["-no_nonce", "-respout", r2])
    stored = sql(d, "SELECT hex(response) FROM ocsp_responses "
                    f"WHERE serial = '{serial}' AND hash_alg = 'SHA1'")
    with open(r1, "rb") as f:
        a = f.read()
    with open(r2, "rb") as f:
        b = f.read()
    check(a == b and a.hex().upper() == stored,
          "no-nonce requests served the stored pre-signed response")
    o.ask("qualified", [good], extra=["-respout", n1])
    o.ask("qualified", [good], extra=["-respout", n2])
    with open(n1, "rb") as f:
        c = f.read()
    with open(n2, "rb") as f:
        e = f.read()
    check(c != e and c != a, "nonce requests get fresh signatures")
    rc, out, err = openssl("ocsp", "-respin", r1, "-resp_text", "-noverify")
    check("Responder Id: " in out and "Next Update:" in out
          and "OCSP Nonce" not in out, "-respin: pre-signed, no nonce")
    rc, out, err = openssl("ocsp", "-respin", n1, "-resp_text", "-noverify")
    check("OCSP Nonce" in out, "-respin: nonce response carries the nonce")
    this = re.search(r"This Update: (.+)", out)
    nxt = re.search(r"Next Update: (.+)", out)
    check(openssl_time(nxt.group(1)) - openssl_time(this.group(1))
          == 24 * 3600, "nextUpdate = thisUpdate + 24 h (default)")


def get_request(srv, pem, tmp, cert, issuer="qualified", quote=True):
    req = os.path.join(tmp, "get-req.der")
    openssl("ocsp", "-issuer", os.path.join(pem, f"{issuer}.pem"), "-cert",
            cert, "-no_nonce", "-reqout", req, check_rc=0)
    with open(req, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    path = urllib.parse.quote(b64, safe="") if quote else b64
    return srv.get("/ocsp/" + path), b64


def check_get(srv, pem, tmp, good):
    """RFC 6960 A.1: GET {url}/{url-encoded base64 of the DER request}."""
    (status, headers, body), b64 = get_request(srv, pem, tmp, good)
    check(status == 200
          and headers.get("Content-Type") == "application/ocsp-response",
          "GET /ocsp/{base64}: 200 application/ocsp-response")
    resp = os.path.join(tmp, "get-resp.der")
    with open(resp, "wb") as f:
        f.write(body)
    rc, out, err = openssl("ocsp", "-respin", resp, "-issuer",
                           os.path.join(pem, "qualified.pem"), "-cert", good,
                           "-CAfile", os.path.join(pem, "root.pem"),
                           "-verify_other", os.path.join(pem, "chain.pem"))
    check(rc == 0 and "Response verify OK" in out + err
          and f"{good}: good" in out, "GET response verifies: good")
    cc = headers.get("Cache-Control", "")
    m = re.search(r"max-age=(\d+)", cc)
    check(m and 0 < int(m.group(1)) <= 86400 and "public" in cc
          and "Expires" in headers and "Last-Modified" in headers
          and "ETag" in headers, f"RFC 5019 caching headers ({cc})")
    st2, _, body2 = srv.get("/ocsp/" + b64)  # '/' and '+' left unencoded
    check(st2 == 200 and body2 == body,
          "GET with unencoded '/' and '+' in the path: same answer")
    url_safe = b64.replace("+", "-").replace("/", "_").rstrip("=")
    st3, _, body3 = srv.get("/ocsp/" + url_safe)
    check(st3 == 200 and body3 == body, "GET in base64url without padding")


def responder_error(tmp, body):
    path = os.path.join(tmp, "err.der")
    with open(path, "wb") as f:
        f.write(body)
    rc, out, err = openssl("ocsp", "-respin", path, "-resp_text", "-noverify")
    m = re.search(r"Responder Error: (\S+)", out + err)
    return m.group(1) if m else (out + err)[:200]


def post_raw(srv, body, content_type="application/ocsp-request"):
    return srv.post("/ocsp", body, content_type)


def raw_huge_post(srv, size):
    """1 MB body; the server may answer 413 and close before reading it
    all, which the client sees as a reset: both are a clean refusal."""
    host, port = srv.url.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    head = (f"POST /ocsp HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
            f"application/ocsp-request\r\nContent-Length: {size}\r\n"
            "Connection: close\r\n\r\n")
    reply = b""
    try:
        s.sendall(head.encode())
        chunk = b"\x30" * 65536
        sent = 0
        while sent < size:
            s.sendall(chunk[:min(len(chunk), size - sent)])
            sent += min(len(chunk), size - sent)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            reply += data
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return reply


def check_bad_requests(srv, pem, tmp, good):
    req = os.path.join(tmp, "good-req.der")
    openssl("ocsp", "-issuer", os.path.join(pem, "qualified.pem"), "-cert",
            good, "-reqout", req, check_rc=0)
    with open(req, "rb") as f:
        der = f.read()
    st, h, body = post_raw(srv, b"\x30\x82\x01\x00 not DER at all")
    check(st == 200 and responder_error(tmp, body) == "malformedrequest",
          "malformed DER: malformedRequest")
    st, h, body = post_raw(srv, der[: len(der) // 2])
    check(st == 200 and responder_error(tmp, body) == "malformedrequest",
          "truncated request: malformedRequest")
    st, h, body = post_raw(srv, b"")
    check(st == 200 and responder_error(tmp, body) == "malformedrequest",
          "empty body: malformedRequest")
    st, h, body = post_raw(srv, der + b"\x00")
    check(st == 200 and responder_error(tmp, body) == "malformedrequest",
          "trailing byte after the request: malformedRequest")
    st, h, body = post_raw(srv, der, "text/plain")
    check(st == 415 and json.loads(body)["error"] == "invalid_request",
          "wrong content type: 415 with a JSON error")
    st, h, body = srv.get("/ocsp/%25%25%25")
    check(st == 200 and responder_error(tmp, body) == "malformedrequest",
          "GET with a path that is not base64: malformedRequest")
    st, h, body = srv.get("/ocsp")
    check(st == 405, "GET /ocsp without a request: 405")
    reply = raw_huge_post(srv, 1024 * 1024)
    check(reply == b"" or reply.startswith(b"HTTP/1.1 413"),
          f"1 MB body refused ({reply[:40]!r})")
    st, h, body = srv.request("POST", "/ocsp", b"x" * 9000,
                              {"Content-Type": "application/ocsp-request"})
    check(st == 413, "body over the 8 KiB limit: 413")
    st, h, body = srv.get("/healthz")
    check(st == 200, "still serving /healthz after the bad requests")


def check_foreign(o, pem, tmp):
    """A CA that is not ours: unauthorized (RFC 6960 §2.3)."""
    key = os.path.join(tmp, "foreign.key")
    ca = os.path.join(tmp, "foreign.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
            "/CN=Foreign CA", "-days", "30", "-out", ca, check_rc=0)
    args = ["ocsp", "-issuer", ca, "-serial", "0x1234", "-url",
            o.srv.url + "/ocsp", "-noverify"]
    rc, out, err = openssl(*args)
    check("Responder Error: unauthorized" in out + err,
          "foreign issuer: unauthorized")


def revoke(d, serial, reason):
    rc, out, err = llave(d, "cert", "revoke", serial, "--reason", reason)
    return rc, err


def check_revocation_reaches_ocsp(o, d, tmp, good2):
    """R6.2: the status change reaches OCSP at once, even for a response
    that was pre-signed; and a revocation written behind llave's back
    (no re-signing) is still never answered from the stale response."""
    serial = serial_of(good2)
    o.ask("qualified", [good2], extra=["-no_nonce"])
    check(sql(d, "SELECT cert_status FROM ocsp_responses WHERE serial = "
                 f"'{serial}'") == "0", "pre-signed: good")
    rc, err = revoke(d, serial, "superseded")
    check(rc == 0, f"llave cert revoke {serial} ({err.strip()})")
    rc, out = o.ask("qualified", [good2], extra=["-no_nonce"])
    check(statuses(out).get(good2) == "revoked"
          and "Reason: superseded" in out,
          "revoked at once, also without nonce")
    check(sql(d, "SELECT cert_status FROM ocsp_responses WHERE serial = "
                 f"'{serial}' AND hash_alg = 'SHA1'") == "1",
          "the pre-signed response was re-signed on revocation")

    good3 = issue_person(d, tmp, 9)
    serial3 = serial_of(good3)
    o.ask("qualified", [good3], extra=["-no_nonce"])
    sql(d, "UPDATE certs SET status = 1, revocation_reason = 1, "
           f"revoked_at = {int(time.time())} WHERE serial = '{serial3}'")
    # issue 17: a write no llave process announces is seen by llaved's
    # cache watcher within its bound (1 s poll; docs/OPERATIONS.md)
    deadline = time.time() + 3
    while True:
        rc, out = o.ask("qualified", [good3], extra=["-no_nonce"])
        if statuses(out).get(good3) == "revoked" or time.time() > deadline:
            break
        time.sleep(0.2)
    check(statuses(out).get(good3) == "revoked",
          "stale pre-signed response not served past the watcher's bound")


def check_sealed(d, pem, tmp, good):
    """A sealed llaved (no shares) serves the pre-signed responses and
    answers tryLater where it would need the responder key."""
    shares = os.path.join(d, "demo-shares.INSECURE")
    aside = os.path.join(tmp, "shares-aside")
    shutil.move(shares, aside)
    set_config(d, access_log=False)
    srv = Server(d)
    try:
        o = Ocsp(srv, pem, tmp)
        rc, out = o.ask("qualified", [good], extra=["-no_nonce"])
        check(statuses(out).get(good) == "good"
              and "Response verify OK" in out,
              "sealed: the pre-signed response is served")
        rc, out = o.ask("qualified", serials=["7A0000000000000000000000000BEEF1"])
        check("Responder Error: trylater" in out,
              "sealed: a response needing a signature gets tryLater")
    finally:
        srv.stop()
        shutil.move(aside, shares)
    log = srv.read_log()
    check("http POST /ocsp" not in log and "llaved: signal" in log,
          "access_log false: no line per answered request")


def missing_responses(d):
    return sql(d, "SELECT COUNT(*) FROM certs c WHERE NOT EXISTS (SELECT 1"
                  " FROM ocsp_responses o WHERE o.serial = c.serial AND"
                  " o.hash_alg = 'SHA1')")


def check_refresher(d):
    """The refresher (every 2 s here) pre-signs what requests did not:
    the ceremony's own certificates, those only asked for with a nonce."""
    for _ in range(20):
        if missing_responses(d) == "0":
            break
        time.sleep(0.5)
    check(missing_responses(d) == "0",
          "every certificate has a pre-signed response")
    n = int(sql(d, "SELECT COUNT(*) FROM audit_log WHERE event = 'ocsp.sign'"))
    check(n > 0, f"pre-signing audited ({n} ocsp.sign entries)")
    rc, out, err = llave(d, "audit", "verify")
    check(rc == 0, "audit chain intact")


def main():
    tmp = workdir("ocsp")
    d, pem = demo_install(tmp)
    good = issue_person(d, tmp, 1)
    revoked = issue_person(d, tmp, 2)
    good2 = issue_person(d, tmp, 3)
    csr = new_csr(tmp, "web")
    web = os.path.join(tmp, "web.pem")
    llave(d, "cert", "issue", "web-ov", "--subject",
          os.path.join(SUBJECTS, "web-ov.json"), "--csr", csr, "--out", web,
          check_rc=0)
    revoked_serial = serial_of(revoked)
    set_config(d, ocsp_refresh_interval=2)
    srv = Server(d)
    try:
        o = Ocsp(srv, pem, tmp)
        rc, err = revoke(d, revoked_serial, "keyCompromise")
        check(rc == 0, f"llave cert revoke ({err.strip()})")
        check_statuses(o, d, pem, tmp, good, revoked, web, revoked_serial)
        check_expired(o, d, tmp)
        check_presigned(o, d, tmp, good)
        check_get(srv, pem, tmp, good)
        check_bad_requests(srv, pem, tmp, good)
        check_foreign(o, pem, tmp)
        check_revocation_reaches_ocsp(o, d, tmp, good2)
        rc, out = o.ask("qualified", [good])
        check(statuses(out).get(good) == "good",
              "a good query still answered after everything above")
        time.sleep(0.5)
        check_refresher(d)
    finally:
        check(srv.stop() == 0, "llaved stopped cleanly")
    check_sealed(d, pem, tmp, good)
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
