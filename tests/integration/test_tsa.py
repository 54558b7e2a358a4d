"""Issue 5: the RFC 3161 time-stamp authority (R7.1, R7.2).

Requests are made with `openssl ts -query` (or, for the malformed ones the
openssl command refuses to write, with `openssl asn1parse -genconf`), sent
to a real llaved, and the replies are judged with `openssl ts -verify`,
`openssl ts -reply -text`, `openssl cms` and `openssl asn1parse`."""
import json
import os
import re
import shutil

from lvtest import (LLAVE, Server, check, cleanup, demo_install, finish, llave,
                    openssl, run, set_config, sql, tsa_refusing, workdir)

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"
BTSP = "0.4.0.2023.1.1"  # EN 319 421 5.2: best practices time-stamp policy
QTST = "0.4.0.19422.1.1"  # EN 319 422 Annex B: esi4-qtstStatement-1


# ---- helpers -----------------------------------------------------------------

def query(tmp, name, *opts, data=None):
    """A TimeStampReq written by `openssl ts -query`."""
    out = os.path.join(tmp, f"{name}.tsq")
    openssl("ts", "-query", "-data", data or os.path.join(tmp, "doc.txt"),
            *opts, "-out", out, check_rc=0)
    return out


def genconf(tmp, name, conf):
    """DER written by openssl's own ASN.1 generator from a description."""
    cfg = os.path.join(tmp, f"{name}.cnf")
    out = os.path.join(tmp, f"{name}.der")
    with open(cfg, "w") as f:
        f.write(conf)
    openssl("asn1parse", "-genconf", cfg, "-out", out, "-noout", check_rc=0)
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def post(srv, tmp, name, body, path="/tsa", ctype=QUERY):
    """POSTs a body; returns (status, headers, reply path)."""
    status, headers, data = srv.post(path, body, ctype)
    out = os.path.join(tmp, f"{name}.tsr")
    with open(out, "wb") as f:
        f.write(data)
    return status, headers, out


def reply_text(tsr):
    return openssl("ts", "-reply", "-in", tsr, "-text")[1]


def verify(tsr, pem, *extra, data=None, queryfile=None):
    args = ["ts", "-verify", "-in", tsr, "-CAfile",
            os.path.join(pem, "chain.pem"), *extra]
    args += ["-queryfile", queryfile] if queryfile else ["-data", data]
    rc, out, err = openssl(*args)
    return rc == 0 and "Verification: OK" in out + err


def field(text, name):
    m = re.search(r"^" + re.escape(name) + r": (.*)$", text, re.M)
    return m.group(1).strip() if m else None


def token_der(tmp, tsr):
    out = tsr + ".token"
    openssl("ts", "-reply", "-in", tsr, "-token_out", "-out", out, check_rc=0)
    return out


def tstinfo(tok):
    """`openssl asn1parse` of the TSTInfo (the eContent OCTET STRING) and
    the -strparse arguments that reach it."""
    _, out, _ = openssl("asn1parse", "-inform", "DER", "-in", tok, check_rc=0)
    m = re.search(r"id-smime-ct-TSTInfo\n\s*(\d+):d=\d+\s+hl=\d+ l=\s*\d+ "
                  r"cons: cont \[ 0 \]\s*\n\s*(\d+):", out)
    path = ["-strparse", m.group(2)]
    _, inner, _ = openssl("asn1parse", "-inform", "DER", "-in", tok, *path,
                          check_rc=0)
    return inner, path


def gen_time(tmp, tsr):
    """The raw GeneralizedTime of the TSTInfo (inside the eContent)."""
    inner, _ = tstinfo(token_der(tmp, tsr))
    return re.search(r"GENERALIZEDTIME\s+:(\S+)", inner).group(1)


def asn1_lines(text):
    """(offset, depth, what) of each `openssl asn1parse` line, blanks
    squeezed: (138, 3, 'OCTET STRING [HEX DUMP]:300B...')."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*(\d+):d=(\d+)\s+hl=\s*\d+ l=\s*\d+ "
                     r"(?:prim|cons):\s*(.*?)\s*$", line)
        if m:
            rows.append((m.group(1), int(m.group(2)),
                         re.sub(r"\s+", " ", m.group(3))))
    return rows


def qc_statements(tmp, tsr):
    """TSTInfo.extensions read with asn1parse alone: None without any, else
    {count: extensions, qc: qcStatements present, critical: its flag,
    statements: [(depth, what)] of the QCStatements it holds}."""
    tok = token_der(tmp, tsr)
    inner, path = tstinfo(tok)
    rows = asn1_lines(inner)
    start = [i for i, (_, d, w) in enumerate(rows)
             if d == 1 and w.startswith("cont [ 1 ]")]
    if not start:
        return None
    exts = rows[start[0] + 1:]
    out = {"count": sum(1 for _, d, _ in exts if d == 2), "qc": False,
           "critical": False, "statements": []}
    for i, (_, d, w) in enumerate(exts):
        if d == 3 and w == "OBJECT :qcStatements":
            out["qc"] = True
            rest = [r for r in exts[i + 1:i + 3] if r[1] == 3]
            out["critical"] = any(w2 == "BOOLEAN :255" for _, _, w2 in rest)
            value = [o for o, _, w2 in rest if w2.startswith("OCTET STRING")]
            _, text, _ = openssl("asn1parse", "-inform", "DER", "-in", tok,
                                 *path, "-strparse", value[0], check_rc=0)
            out["statements"] = [(d2, w2) for _, d2, w2 in asn1_lines(text)
                                 if d2 > 0]
    return out


def check_qualified(tmp, tsr, what):
    """EN 319 422 9.1: one non-critical qcStatements (RFC 3739 syntax) that
    holds one esi4-qtstStatement-1, which has no statementInfo."""
    text = reply_text(tsr)
    check(re.search(r"^Extensions:\nqcStatements:\s*\n", text, re.M),
          f"{what}: openssl ts -reply -text lists a non-critical "
          f"qcStatements extension")
    qc = qc_statements(tmp, tsr)
    check(qc is not None and qc["count"] == 1 and qc["qc"] and
          not qc["critical"] and
          qc["statements"] == [(1, "SEQUENCE"), (2, f"OBJECT :{QTST}")],
          f"{what}: TSTInfo.extensions = qcStatements {{ {QTST} }}, "
          f"non-critical (asn1parse): {qc}")


def serial_of(tsr):
    return field(reply_text(tsr), "Serial number")


def rejected(tsr, failure):
    text = reply_text(tsr)
    return (field(text, "Status") == "Rejected." and
            failure in (field(text, "Failure info") or ""))


# ---- the checks ----------------------------------------------------------------

def check_cli(d, pem, tmp):
    doc = os.path.join(tmp, "doc.txt")
    rc, out, err = llave(d, "tsa", "stamp", doc)
    check(rc == 0 and os.path.exists(doc + ".tsr"),
          f"llave tsa stamp writes FILE.tsr: {out} {err}")
    check(verify(doc + ".tsr", pem, data=doc),
          "CLI token: openssl ts -verify -data -CAfile chain.pem")
    check_qualified(tmp, doc + ".tsr", "CLI token")
    out_path = os.path.join(tmp, "cli384.tsr")
    rc, _, _ = llave(d, "tsa", "stamp", doc, "--digest", "sha384",
                     "--out", out_path, "--no-cert")
    check(rc == 0 and verify(out_path, pem, "-untrusted",
                             os.path.join(pem, "tsa.pem"), data=doc),
          "CLI --digest sha384 --no-cert verifies with -untrusted tsa.pem")
    rc, _, err = llave(d, "tsa", "stamp", doc, "--digest", "sha1",
                       "--out", os.path.join(tmp, "cli1.tsr"))
    check(rc == 1 and "badAlg" in err and
          not os.path.exists(os.path.join(tmp, "cli1.tsr")),
          f"CLI SHA-1 refused with badAlg, nothing written: {err.strip()}")
    rc, out, _ = llave(d, "tsa", "units")
    check(rc == 0 and re.search(r"^\* tsa +active +RSA-4096", out, re.M),
          "tsa units lists the ceremony's RSA-4096 unit as the default")


def check_granted(srv, pem, tmp, policy):
    doc = os.path.join(tmp, "doc.txt")
    q = query(tmp, "ok", "-sha256", "-cert")
    status, headers, tsr = post(srv, tmp, "ok", read(q))
    check(status == 200 and headers.get("Content-Type") == REPLY,
          f"POST /tsa: 200 {REPLY}")
    check(verify(tsr, pem, data=doc),
          "token verifies: openssl ts -verify -data FILE -CAfile chain.pem")
    check(verify(tsr, pem, queryfile=q),
          "token matches its query (imprint, nonce): -queryfile")
    text = reply_text(tsr)
    qtext = openssl("ts", "-query", "-in", q, "-text")[1]
    check(field(text, "Nonce") == field(qtext, "Nonce") and field(text, "Nonce"),
          f"nonce echoed: {field(text, 'Nonce')}")
    check(field(text, "Policy OID") == policy,
          f"default TSA policy {policy} (EN 319 421 5.2)")
    check_qualified(tmp, tsr, "qualified unit tsa")
    check((field(text, "Accuracy") or "").startswith("0x01 seconds"),
          f"accuracy declared: {field(text, 'Accuracy')}")
    check(field(text, "Ordering") == "no", "ordering false")
    check(field(text, "TSA") == "unspecified", "tsa name absent by default")
    gt = gen_time(tmp, tsr)
    check(re.fullmatch(r"\d{14}(\.\d{0,5}[1-9])?Z", gt) is not None,
          f"genTime {gt}: fraction without trailing zeros (RFC 3161 2.4.2)")
    check(len(serial_of(tsr)) <= 2 + 40, "serial at most 160 bits")

    tok = token_der(tmp, tsr)
    _, cms, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in",
                        tok, check_rc=0)
    tsa_der = os.path.join(tmp, "tsa.der")
    openssl("x509", "-in", os.path.join(pem, "tsa.pem"), "-outform", "DER",
            "-out", tsa_der, check_rc=0)
    cert_hash = openssl("dgst", "-sha256", "-r", tsa_der,
                        check_rc=0)[1].split()[0].upper()
    check("id-smime-aa-signingCertificateV2" in cms and cert_hash in cms,
          "ESSCertIDv2 signing-certificate-v2 with the SHA-256 of the TSU "
          "certificate")
    check(re.search(r"signedData: \n\s+version: 3", cms) is not None,
          "SignedData version 3 (RFC 5652 5.1)")
    check("llave Demo Trust Services TSU 1" in cms,
          "certReq true: the TSU certificate is in the token")

    q = query(tmp, "nocert", "-sha256")
    _, _, tsr = post(srv, tmp, "nocert", read(q))
    _, cms, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in",
                        token_der(tmp, tsr), check_rc=0)
    check("TSU 1" not in cms.split("signerInfos")[0],
          "certReq false: no certificate in the token")
    check(verify(tsr, pem, "-untrusted", os.path.join(pem, "tsa.pem"),
                 data=doc), "certReq false: verifies with -untrusted tsa.pem")
    check_qualified(tmp, tsr, "certReq false")

    q = query(tmp, "pol", "-sha256", "-cert", "-tspolicy", policy)
    _, _, tsr = post(srv, tmp, "pol", read(q))
    check(verify(tsr, pem, queryfile=q) and
          field(reply_text(tsr), "Policy OID") == policy,
          "requested policy round-trips")
    for alg in ("sha384", "sha512"):
        q = query(tmp, alg, f"-{alg}", "-cert")
        _, _, tsr = post(srv, tmp, alg, read(q))
        check(verify(tsr, pem, data=doc) and
              field(reply_text(tsr), "Hash Algorithm") == alg,
              f"{alg.upper()} imprint accepted and verified")
    q = query(tmp, "nonce-no", "-sha256", "-cert", "-no_nonce")
    _, _, tsr = post(srv, tmp, "nonce-no", read(q))
    check(verify(tsr, pem, queryfile=q) and
          field(reply_text(tsr), "Nonce") == "unspecified",
          "a request without nonce gets a token without nonce")


D32 = "11" * 32


def crafted(tmp, name, version=1, oid="sha256", digest=D32, param="p=NULL",
            exts=False):
    """A TimeStampReq `openssl ts -query` would never write, described for
    openssl's ASN.1 generator."""
    req = f"version=INT:{version}\nimprint=SEQUENCE:imprint\n"
    if exts:
        req += "exts=IMPLICIT:0,SEQUENCE:exts\n"
    conf = (f"asn1=SEQUENCE:req\n[req]\n{req}"
            f"[imprint]\nalg=SEQUENCE:alg\ndigest=FORMAT:HEX,OCT:{digest}\n"
            f"[alg]\noid=OID:{oid}\n{param}\n")
    if exts:
        conf += ("[exts]\next=SEQUENCE:ext\n"
                 "[ext]\noid=OID:1.2.3.4\nvalue=FORMAT:HEX,OCT:0500\n")
    return read(genconf(tmp, name, conf))


def check_refusals(srv, tmp, policy):
    cases = [
        ("sha1", read(query(tmp, "sha1", "-sha1")), "unsupported algorithm"),
        ("md5", read(query(tmp, "md5", "-md5")), "unsupported algorithm"),
        ("policy", read(query(tmp, "badpol", "-sha256", "-tspolicy",
                              "1.2.3.4")), "policy is not supported"),
        ("garbage", b"this is not DER", "wrong format"),
        ("empty", b"", "wrong format"),
        ("truncated", read(query(tmp, "trunc", "-sha256"))[:-3],
         "wrong format"),
        ("trailing", read(query(tmp, "trail", "-sha256")) + b"\x00\x00",
         "wrong format"),
        ("short imprint", crafted(tmp, "short", digest="00112233"),
         "wrong format"),
        ("unknown algorithm", crafted(tmp, "unkalg", oid="1.2.3.4"),
         "unsupported algorithm"),
        ("algorithm parameters", crafted(tmp, "params",
                                         param="p=INT:5"),
         "unsupported algorithm"),
        ("version 2", crafted(tmp, "v2", version=2),
         "transaction not permitted"),
        ("extension", crafted(tmp, "ext", exts=True),
         "extension is not supported"),
    ]
    for name, body, failure in cases:
        status, headers, tsr = post(srv, tmp, "bad-" + name.replace(" ", "-"),
                                    body)
        ok = status == 200 and headers.get("Content-Type") == REPLY
        check(ok and rejected(tsr, failure),
              f"{name}: TimeStampResp rejection, failInfo '{failure}'")

    doc = read(os.path.join(tmp, "doc.txt"))
    for name, ctype in (("text/plain", "text/plain"),
                        ("none", ""),
                        ("ocsp", "application/ocsp-request")):
        status, headers, body = srv.post("/tsa", doc, ctype)
        check(status == 415 and json.loads(body).get("error") ==
              "invalid_request", f"content type {name}: 415 JSON error")
    good = read(query(tmp, "ctype", "-sha256"))
    status, _, _ = srv.post("/tsa", good,
                            "Application/TimeStamp-Query; charset=binary")
    check(status == 200, "media type compared case-insensitively, "
                         "parameters ignored")
    status, _, body = srv.post("/tsa", b"\x30" * 5000, QUERY)
    check(status == 413 and json.loads(body).get("error") == "too_large",
          "oversized body: 413 JSON error")
    status, _, body = srv.post("/tsa/nope", good, QUERY)
    check(status == 404 and "nope" in json.loads(body).get("message"),
          "unknown unit: 404 JSON error")
    status, _, body = srv.post("/tsa/Bad%21", good, QUERY)
    check(status == 404 and "Bad" not in body.decode(),
          "bad unit name: 404, not echoed")
    status, _, _ = srv.get("/tsa")
    check(status == 405, "GET /tsa: 405")
    status, _, tsr = post(srv, tmp, "after", good)
    check(status == 200 and field(reply_text(tsr), "Status") == "Granted.",
          "the server keeps serving after every bad request")


def collect_serials(srv, tmp, n, tag, path="/tsa"):
    body = read(query(tmp, "ser", "-sha256"))
    serials = []
    for i in range(n):
        status, _, data = srv.post(path, body, QUERY)
        tsr = os.path.join(tmp, f"ser-{tag}.tsr")
        with open(tsr, "wb") as f:
            f.write(data)
        serials.append(serial_of(tsr))
    return serials


def check_serials(d, tmp, first):
    """Unique across a restart and across two llaved on one database."""
    second = Server(d)
    try:
        after = collect_serials(second, tmp, 40, "b")
    finally:
        second.stop()
    a, b = Server(d), Server(d)
    try:
        both = collect_serials(a, tmp, 20, "c") + collect_serials(b, tmp, 20,
                                                                 "d")
    finally:
        a.stop()
        b.stop()
    every = first + after + both
    check(None not in every and len(set(every)) == len(every) == 120,
          "120 serials unique before/after a restart and across two llaved "
          "on one database")


def check_configured_policy(d, pem, tmp, cps):
    """EN 319 422 Annex A: tsa_policy_oid names the CPS's own policy, which
    then replaces EN 319 421's in every token and is the only one a request
    may ask for."""
    set_config(d, tsa_policy_oid=cps)
    try:
        srv = Server(d)
        try:
            q = query(tmp, "cps", "-sha256", "-cert")
            _, _, tsr = post(srv, tmp, "cps", read(q))
            check(field(reply_text(tsr), "Policy OID") == cps and
                  verify(tsr, pem, queryfile=q),
                  f"tsa_policy_oid {cps}: the token's policy, verifies")
            check_qualified(tmp, tsr, "configured policy")
            q = query(tmp, "cps-asked", "-sha256", "-cert", "-tspolicy", cps)
            _, _, tsr = post(srv, tmp, "cps-asked", read(q))
            check(verify(tsr, pem, queryfile=q),
                  "reqPolicy = tsa_policy_oid: granted, verifies")
            q = query(tmp, "btsp-asked", "-sha256", "-tspolicy", BTSP)
            _, _, tsr = post(srv, tmp, "btsp-asked", read(q))
            check(rejected(tsr, "policy is not supported"),
                  f"reqPolicy {BTSP} while {cps} is configured: "
                  f"unacceptedPolicy")
        finally:
            srv.stop()
        rc, out, _ = llave(d, "tsa", "units")
        check(rc == 0 and f"policy {cps} " in out,
              "tsa units shows the configured policy")
    finally:
        set_config(d, tsa_policy_oid="")


def check_clock_guard(d, tmp):
    """R7.2: the guard on and the clock forced unsynchronized."""
    with tsa_refusing(d, serve=False):
        srv = Server(d)
        try:
            body = read(query(tmp, "clock", "-sha256"))
            refusals = 0
            for i in range(3):
                _, _, tsr = post(srv, tmp, f"clock{i}", body)
                refusals += rejected(tsr, "time source is not available")
            check(refusals == 3, "clock not synchronized: timeNotAvailable")
            status, _, _ = srv.get("/healthz")
            check(status == 200, "the server keeps serving")
        finally:
            srv.stop()
        rc, _, err = llave(d, "tsa", "stamp", os.path.join(tmp, "doc.txt"),
                           "--out", os.path.join(tmp, "clock-cli.tsr"))
        check(rc == 1 and "timeNotAvailable" in err,
              f"llave tsa stamp refused too: {err.strip()}")
        rc, out, _ = llave(d, "tsa", "units")
        check("NOT usable" in out and "guard on" in out,
              "tsa units reports the clock not usable")
    rows = sql(d, "select count(*) from audit_log where event='tsa.clock' "
                  "and result='failure'")
    check(rows == "2", f"loss of synchronization audited once per process "
                       f"(server, CLI), not per request: {rows}")


def check_ec_unit(d, pem, tmp):
    rc, out, err = llave(d, "tsa", "add-unit", "tsa-ec", "--key-type",
                         "ec-p256")
    check(rc == 0, f"tsa add-unit tsa-ec --key-type ec-p256: {out}{err}")
    for args, why in ((["tsa-ec", "--key-type", "ec-p256", "--cn", "Other"],
                       "exists"),
                      (["tsa-rsa2k", "--key-type", "rsa2048"], "RSA 4096"),
                      (["Bad_Name"], "a-z"),
                      (["tsa-dup", "--cn",
                        "llave Demo Trust Services TSU tsa-ec"], "already")):
        rc, _, err = llave(d, "tsa", "add-unit", *args)
        check(rc == 1 and why in err, f"add-unit {args[0]} refused: "
                                      f"{err.strip()}")
    shutil.rmtree(pem)
    llave(d, "ca", "export", pem, check_rc=0)
    text = openssl("x509", "-in", os.path.join(pem, "tsa-ec.pem"), "-noout",
                   "-text", check_rc=0)[1]
    check("ASN1 OID: prime256v1" in text and
          re.search(r"Extended Key Usage: critical\s+Time Stamping", text),
          "ECDSA P-256 TSU certificate with critical EKU timeStamping")
    events = sql(d, "select group_concat(event) from audit_log "
                    "where object='tsa-ec' and result='success'")
    check(events == "key.generate,ca.create",
          f"add-unit audited: {events}")
    refused = sql(d, "select count(*) from audit_log where result='failure' "
                     "and event in ('ca.create', 'cert.issue')")
    check(refused == "4", f"the 4 refused add-unit audited: {refused}")
    set_config(d, tsa_include_name=True)
    srv = Server(d)
    try:
        doc = os.path.join(tmp, "doc.txt")
        q = query(tmp, "ec", "-sha256", "-cert")
        status, _, tsr = post(srv, tmp, "ec", read(q), path="/tsa/tsa-ec")
        check(status == 200 and verify(tsr, pem, data=doc) and
              verify(tsr, pem, queryfile=q),
              "POST /tsa/tsa-ec: ECDSA token verifies")
        _, cms, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER",
                            "-in", token_der(tmp, tsr), check_rc=0)
        check("ecdsa-with-SHA256" in cms, "signed with ecdsa-with-SHA256")
        check("TSU tsa-ec" in (field(reply_text(tsr), "TSA") or ""),
              "tsa_include_name: TSTInfo.tsa names the unit")
        check_qualified(tmp, tsr, "added unit tsa-ec (\"tsa\" profile)")
        _, _, tsr = post(srv, tmp, "rsa-again", read(q))
        _, cms, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER",
                            "-in", token_der(tmp, tsr), check_rc=0)
        check(verify(tsr, pem, data=doc) and "rsaEncryption" in cms,
              "POST /tsa still answers with the default RSA unit")
    finally:
        srv.stop()
        set_config(d, tsa_include_name=False)


def check_sealed(tmp):
    """A production install starts sealed: systemFailure, not a crash."""
    d = os.path.join(tmp, "prod")
    # a production init refuses the demo's placeholder arc and an http
    # documents_url (issue 13): a fictional provider's own values
    conf = os.path.join(tmp, "prod.json")
    with open(conf, "w") as f:
        json.dump({"oid_arc": "1.3.6.1.4.1.99999",
                   "documents_url": "https://pki.example.test"}, f)
    run([LLAVE, "init", d, "--config", conf], check_rc=0)
    with open(os.path.join(d, "llave.json")) as f:
        cfg = json.load(f)
    check(cfg.get("tsa_require_clock_sync") is True,
          "production install: clock guard on by default")
    srv = Server(d)
    try:
        body = read(query(tmp, "sealed", "-sha256"))
        _, _, tsr = post(srv, tmp, "sealed", body)
        check(rejected(tsr, "system failure") and
              "sealed" in (field(reply_text(tsr), "Status description") or ""),
              "sealed key store: rejection systemFailure 'sealed'")
    finally:
        srv.stop()


def main():
    tmp = workdir("tsa")
    d, pem = demo_install(tmp)
    with open(os.path.join(tmp, "doc.txt"), "w") as f:
        f.write("a document to time-stamp\n")
    with open(os.path.join(d, "llave.json")) as f:
        cfg = json.load(f)
    check(cfg.get("tsa_require_clock_sync") is False,
          "demo install: clock guard switched off in llave.json")
    check(cfg.get("tsa_policy_oid", "") == "",
          "demo install: tsa_policy_oid empty (EN 319 421's policy)")
    policy = BTSP
    check_cli(d, pem, tmp)
    rc, out, _ = llave(d, "tsa", "units")
    check(rc == 0 and f"policy {BTSP} " in out,
          f"tsa units shows the default policy {BTSP}")
    srv = Server(d)
    try:
        check_granted(srv, pem, tmp, policy)
        check_refusals(srv, tmp, policy)
        first = collect_serials(srv, tmp, 40, "a")
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    check_serials(d, tmp, first)
    check_configured_policy(d, pem, tmp, cfg["oid_arc"] + ".1.5.1.1")
    check_clock_guard(d, tmp)
    check_ec_unit(d, pem, tmp)
    check_sealed(tmp)
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0, "audit chain intact after all of it")
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
