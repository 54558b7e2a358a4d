"""bench/sign helper: logs the demo citizen in through CSC v2, obtains one
SAD per batch size (sendOTP with the hashes, the OTP read from DIR/outbox,
authorize with PIN + OTP), writes the signHash request bodies, verifies one
signature of each batch with `openssl pkeyutl -verify`, and times one
authorization (Argon2id-dominated) and one single-hash signature.

usage: prepare.py URL DIR OUTDIR BATCH... ; prints "token auth_ms sign_ms"."""
import base64
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

OID = "2.16.840.1.101.3.4.2.1"
# the one-time code SMS to sign, in Spanish or English
SIGN_OTP = r"(?:su clave es|your code is) (\d+), (?:para firmar|to sign)"


def call(url, path, body, token=None, basic=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(
            ":".join(basic).encode()).decode()
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 headers=h, method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read()
    return json.loads(text) if text else {}


def last_otp(d, mobile):
    box = os.path.join(d, "outbox")
    for name in sorted(os.listdir(box), reverse=True):
        m = json.load(open(os.path.join(box, name)))
        code = re.search(SIGN_OTP, m["text"])
        if m["to"] == mobile and code:
            return code.group(1)
    sys.exit("no OTP in the outbox")


def authorize(url, d, tok, cred, hashes, citizen, num):
    enc = [base64.b64encode(h).decode() for h in hashes]
    call(url, "/csc/v2/credentials/sendOTP",
         {"credentialID": cred, "hashes": enc, "hashAlgorithmOID": OID}, tok)
    otp = last_otp(d, citizen["mobile"])
    t0 = time.monotonic()
    o = call(url, "/csc/v2/credentials/authorize",
             {"credentialID": cred, "numSignatures": num, "hashes": enc,
              "hashAlgorithmOID": OID,
              "authData": [{"id": "PIN", "value": citizen["password"]},
                           {"id": "OTP", "value": otp}]}, tok)
    return o["SAD"], (time.monotonic() - t0) * 1000


def accept(url, d, citizen, app):
    """The citizen accepts the certificate on the signing page's API first
    (R5.4: a CSC client shows no acceptance sheet, so CSC refuses a
    certificate not yet accepted): one transaction of one digest."""
    digest = base64.b64encode(hashlib.sha256(b"accept").digest()).decode()
    tx = call(url, "/api/v1/transactions", {
        "owner": citizen["user_id"], "digest_algorithm": "SHA-256",
        "documents": [{"id": "d0", "name": "acceptance.txt",
                       "title": "Acceptance", "digest": digest}],
        "redirect_ok_url": "https://app.example/ok",
        "redirect_error_url": "https://app.example/error"},
        basic=(app["client_id"], app["client_secret"]))
    path = "/api/v1/transactions/" + tx["id"]
    tok = call(url, path + "/login", {"user_id": citizen["user_id"],
                                      "password": citizen["password"]})["token"]
    call(url, path + "/otp", {}, tok)
    call(url, path + "/confirm", {"password": citizen["password"],
                                  "otp": last_otp(d, citizen["mobile"])}, tok)


def verify(outdir, cert_der, digest, sig):
    paths = {}
    for name, data in (("c.der", cert_der), ("d.bin", digest),
                       ("s.bin", sig)):
        paths[name] = os.path.join(outdir, name)
        open(paths[name], "wb").write(data)
    pub = os.path.join(outdir, "pub.pem")
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in",
                    paths["c.der"], "-pubkey", "-noout", "-out", pub],
                   check=True)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                        pub, "-in", paths["d.bin"], "-sigfile",
                        paths["s.bin"], "-pkeyopt", "digest:sha256"],
                       capture_output=True, text=True)
    if "Signature Verified Successfully" not in r.stdout:
        sys.exit("a signature does not verify with openssl pkeyutl")


def main():
    url, d, outdir = sys.argv[1:4]
    batches = [int(b) for b in sys.argv[4:]]
    accounts = json.load(open(os.path.join(d, "demo-credentials.json")))
    citizen = [a for a in accounts["accounts"] if a["kind"] == "citizen"][0]
    app = [a for a in accounts["accounts"] if a["kind"] == "application"][0]
    accept(url, d, citizen, app)
    tok = call(url, "/csc/v2/auth/login", {},
               basic=(citizen["user_id"], citizen["password"]))["access_token"]
    cred = call(url, "/csc/v2/credentials/list", {}, tok)["credentialIDs"][0]
    info = call(url, "/csc/v2/credentials/info", {"credentialID": cred}, tok)
    cert = base64.b64decode(info["cert"]["certificates"][0])
    auth_ms = []
    for b in batches:
        hashes = [hashlib.sha256(f"bench {b} {i}".encode()).digest()
                  for i in range(b)]
        sad, ms = authorize(url, d, tok, cred, hashes, citizen, 100000)
        auth_ms.append(ms)
        body = {"credentialID": cred, "SAD": sad, "hashAlgorithmOID": OID,
                "signAlgo": "1.2.840.113549.1.1.1",
                "hashes": [base64.b64encode(h).decode() for h in hashes]}
        path = os.path.join(outdir, f"signhash-{b}.json")
        json.dump(body, open(path, "w"))
        sigs = call(url, "/csc/v2/signatures/signHash", body, tok)
        verify(outdir, cert, hashes[-1],
               base64.b64decode(sigs["signatures"][-1]))
    # latency of one signature: 50 sequential single-hash signHash calls
    body = json.load(open(os.path.join(outdir, f"signhash-{batches[0]}.json")))
    body["hashes"] = body["hashes"][:1]
    one = []
    for _ in range(50):
        t0 = time.monotonic()
        call(url, "/csc/v2/signatures/signHash", body, tok)
        one.append((time.monotonic() - t0) * 1000)
    print(tok, f"{statistics.median(auth_ms):.1f}",
          f"{statistics.median(one):.2f}")


main()
