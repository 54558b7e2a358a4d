"""bench/sign, PAdES part (issue 14 item 7): PAdES-B-T signatures per
second of a 1 MB PDF through CSC signatures/signDoc (signature_format "P",
conformance_level Ades-B-T), next to the two ceilings such a signature
meets: the RSA-2048 signing ceiling (one private-key operation with the
citizen's key per document) and the rate of our own TSA measured in the
same run on the same server (one RFC 3161 token per document: the
signature time-stamp).  The peer is the lower of the two (see
bench/README.md).

usage:
  pades.py measure URL DIR TMP SECONDS CPUS   -> prints "ours tsa"
  pades.py report OURS TSA RSA2048            -> the figures, then
      RESULT sign_pades_bt ours=<n> peer=<n> ratio=<ours/peer> unit=docs/s

measure logs the demo citizen in through CSC v2, authorizes the PDF's
SHA-256 for 100 000 signatures, signs it once and checks the result
(the input is an exact prefix, poppler's pdfsig finds the signature valid,
the CMS carries a signature time-stamp), then runs wrk against signDoc and
against POST /tsa, and checks afterwards that the SAD was consumed at least
once per counted request, so that failing signatures cannot pass for fast
ones."""
import base64
import hashlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

OID = "2.16.840.1.101.3.4.2.1"
# the one-time code SMS to sign, in Spanish or English
SIGN_OTP = r"(?:su clave es|your code is) (\d+), (?:para firmar|to sign)"
# id-aa-signatureTimeStampToken (RFC 3161 App. A), as DER in the CMS hex
TST_OID_HEX = "060b2a864886f70d010910020e"
PDF_SRC = b"""%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]
  /Contents 4 0 R /Resources << >> >> endobj
4 0 obj << /Length 0 >> stream
endstream endobj
trailer << /Root 1 0 R /Size 5 >>
%%EOF
"""


def log(msg):
    print(f"[sign] {msg}", file=sys.stderr)


def call(url, path, body, token=None, basic=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(
            ":".join(basic).encode()).decode()
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            text = r.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"{path}: {e.code} {e.read()[:300]!r}")
    return json.loads(text) if text else {}


def make_pdf(tmp, size=1 << 20):
    """A one-page PDF of about size bytes: a content stream of random line
    segments (real operators qpdf --check parses), written uncompressed by
    qpdf so that its size is the size signed."""
    rnd = random.Random(14)
    ops, n = [], 0
    while n < size - 400:
        line = "%d %d m %d %d l S\n" % tuple(rnd.randrange(1000)
                                             for _ in range(4))
        ops.append(line)
        n += len(line)
    ops = "".join(ops).encode()
    src, out = os.path.join(tmp, "pades-src.pdf"), os.path.join(tmp,
                                                                "pades.pdf")
    with open(src, "wb") as f:
        f.write(PDF_SRC.replace(b"/Length 0 >> stream\n",
                                b"/Length %d >> stream\n%s\n" %
                                (len(ops) + 1, ops)))
    r = subprocess.run(["qpdf", "--compress-streams=n", src, out],
                       capture_output=True, text=True)
    if r.returncode not in (0, 3):
        sys.exit(f"qpdf cannot write the bench PDF: {r.stderr}")
    with open(out, "rb") as f:
        return f.read()


def last_otp(d, mobile):
    box = os.path.join(d, "outbox")
    for name in sorted(os.listdir(box), reverse=True):
        with open(os.path.join(box, name)) as f:
            m = json.load(f)
        code = re.search(SIGN_OTP, m["text"])
        if m["to"] == mobile and code:
            return code.group(1)
    sys.exit("no OTP in the outbox")


def authorize(url, d, tok, cred, digest, citizen):
    enc = [base64.b64encode(digest).decode()]
    call(url, "/csc/v2/credentials/sendOTP",
         {"credentialID": cred, "hashes": enc, "hashAlgorithmOID": OID}, tok)
    o = call(url, "/csc/v2/credentials/authorize",
             {"credentialID": cred, "numSignatures": 100000, "hashes": enc,
              "hashAlgorithmOID": OID,
              "authData": [{"id": "PIN", "value": citizen["password"]},
                           {"id": "OTP",
                            "value": last_otp(d, citizen["mobile"])}]}, tok)
    return o["SAD"]


def check_signed(tmp, pdf, signed):
    if not (len(signed) > len(pdf) and signed.startswith(pdf)):
        sys.exit("the signed PDF does not start with the input")
    path = os.path.join(tmp, "pades-signed.pdf")
    with open(path, "wb") as f:
        f.write(signed)
    r = subprocess.run(["pdfsig", "-nocert", "-no-ocsp", path],
                       capture_output=True, text=True)
    if "Signature is Valid." not in r.stdout + r.stderr:
        sys.exit(f"pdfsig does not find the signature valid: {r.stdout}")
    tail = signed[len(pdf):].decode("latin-1").lower()
    if TST_OID_HEX not in tail:
        sys.exit("the signature carries no signature time-stamp (B-T)")


def wrk(url, body, ctype, tmp, seconds, cpus, headers=()):
    """wrk POSTing body (as bench/lib.sh's bench_wrk_post): (rate,
    requests)."""
    lua = os.path.join(tmp, "pades-post.lua")
    with open(lua, "w") as f:
        f.write(f'local f = assert(io.open("{body}", "rb"))\n'
                'wrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
                f'wrk.headers["Content-Type"] = "{ctype}"\n')
    args = ["wrk", "--latency", "-t", str(cpus), "-c", str(cpus * 4), "-d",
            f"{seconds}s", "-s", lua]
    for h in headers:
        args += ["-H", h]
    r = subprocess.run(args + [url], capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode != 0 or "Non-2xx" in out:
        sys.exit(f"wrk failed or got error answers from {url}: {out}")
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    count = re.search(r"(\d+) requests in", out)
    if not rate or not count:
        sys.exit(f"wrk printed no rate: {out}")
    return float(rate.group(1)), int(count.group(1))


def remaining(d, sad):
    h = hashlib.sha256(sad.encode()).hexdigest()
    with sqlite3.connect(os.path.join(d, "llave.db")) as db:
        return db.execute("select remaining from sign_sads where sad_hash=?",
                          (h,)).fetchone()[0]


def measure(url, d, tmp, seconds, cpus):
    with open(os.path.join(d, "demo-credentials.json")) as f:
        accounts = json.load(f)["accounts"]
    citizen = [a for a in accounts if a["kind"] == "citizen"][0]
    tok = call(url, "/csc/v2/auth/login", {},
               basic=(citizen["user_id"], citizen["password"]))["access_token"]
    cred = call(url, "/csc/v2/credentials/list", {}, tok)["credentialIDs"][0]
    pdf = make_pdf(tmp)
    sad = authorize(url, d, tok, cred, hashlib.sha256(pdf).digest(), citizen)
    body = {"credentialID": cred, "SAD": sad, "documents": [{
        "document": base64.b64encode(pdf).decode(),
        "signature_format": "P", "conformance_level": "Ades-B-T",
        "signed_envelope_property": "Revision",
        "signAlgo": "1.2.840.113549.1.1.1"}]}
    path = os.path.join(tmp, "signdoc-pades.json")
    with open(path, "w") as f:
        json.dump(body, f)
    o = call(url, "/csc/v2/signatures/signDoc", body, tok)
    check_signed(tmp, pdf, base64.b64decode(o["DocumentWithSignature"][0]))
    log(f"PAdES-B-T of a {len(pdf)}-byte PDF verified (pdfsig, prefix, "
        f"time-stamp); wrk: signDoc for {seconds}s")
    before = remaining(d, sad)
    ours, n = wrk(url + "/csc/v2/signatures/signDoc", path,
                  "application/json", tmp, seconds, cpus,
                  ["Authorization: Bearer " + tok])
    used = before - remaining(d, sad)
    if used < n:
        sys.exit(f"wrk counted {n} signDoc answers but the SAD was "
                 f"consumed {used} times")
    log(f"signDoc PAdES-B-T: {ours} docs/s ({n} requests, {used} "
        f"signatures counted)")
    tsq = os.path.join(tmp, "pades-tsq.der")
    subprocess.run(["openssl", "ts", "-query", "-data", path, "-sha256",
                    "-cert", "-out", tsq], check=True, capture_output=True)
    log(f"wrk: POST /tsa for {seconds}s (the time-stamp every B-T needs)")
    tsa, _ = wrk(url + "/tsa", tsq, "application/timestamp-query", tmp,
                 seconds, cpus)
    log(f"TSA: {tsa} tokens/s")
    print(f"{ours:.2f} {tsa:.2f}")


def report(ours, tsa, rsa):
    ours, tsa, rsa = float(ours), float(tsa), float(rsa)
    peer = min(rsa, tsa)
    ratio = ours / peer if peer > 0 else 0.0
    bound = "the TSA" if tsa <= rsa else "RSA-2048"
    print(f"PAdES-B-T signDoc, 1 MB PDF (docs/s) {ours:10.2f} docs/s   "
          f"TSA tokens/s: {tsa:.2f}   openssl speed rsa2048: {rsa:.2f}   "
          f"peer (min, {bound}): {peer:.2f}   ratio {ratio:.3f}")
    print(f"RESULT sign_pades_bt ours={ours:.2f} peer={peer:.2f} "
          f"ratio={ratio:.3f} unit=docs/s")


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "measure":
        measure(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                int(sys.argv[6]))
    elif len(sys.argv) == 5 and sys.argv[1] == "report":
        report(*sys.argv[2:])
    else:
        sys.exit(__doc__)


main()
