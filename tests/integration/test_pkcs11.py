"""Issue 16 items 2, 5 and 6: a llave install whose keys live on a PKCS#11
token (SoftHSM2), judged with tools nobody here wrote.

- `pkcs11-tool -O` (OpenSC) lists the CA, TSA, OCSP-responder and
  audit-seal keys and the citizen-key wrapping key: sensitive, never
  extractable, private (invisible before login), labelled, and the CKA_ID
  of each is the public key of its certificate; reading CKA_VALUE fails.
- the certificate, the CRL, an OCSP response, a time-stamp and a CSC
  signHash made on the token verify with the openssl command line.
- a removed object, a wrong PIN, a missing token and a full token give
  clear errors and change nothing stored.
- a backup names the token objects it depends on; a restore where the
  token lacks them is refused.

The test makes its own token directory (SOFTHSM2_CONF, lvtest.softhsm_home)
and initialises its tokens with softhsm2-util --init-token --free."""
import base64
import ctypes
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

os.environ["LLAVE_TEST_KEYSTORE"] = "pkcs11"  # before lvtest reads it

import lvtest  # noqa: E402
from lvtest import (LLAVE, P11_MODULE, P11_PIN, Server, accept_certificate,  # noqa: E402
                    check, cleanup, finish, llave, openssl, run, sql,
                    workdir)
from test_sign import (Api, b64url, csc_authorize, csc_login, der_to_pem,  # noqa: E402
                       install, pkcs1_ok)
from test_custody import ts_query, ts_status  # noqa: E402

SHA256 = "2.16.840.1.101.3.4.2.1"
RSA = "1.2.840.113549.1.1.1"


# ---- the token seen with pkcs11-tool ---------------------------------------

def p11tool(label, *args, login=True, pin=P11_PIN):
    a = ["pkcs11-tool", "--module", P11_MODULE, "--token-label", label]
    if login:
        a += ["--login", "--pin", pin]
    return run(a + list(args))


def objects(label, login=True):
    """pkcs11-tool -O as a list of {kind, label, id, access, usage}."""
    rc, out, err = p11tool(label, "-O", login=login)
    objs = []
    for line in out.splitlines():
        m = re.match(r"(Private|Public|Secret) Key Object;?\s*(.*)", line)
        if m:
            objs.append({"kind": m.group(1).lower(), "type": m.group(2),
                         "label": "", "id": "", "access": "", "usage": ""})
            continue
        m = re.match(r"\s+(label|ID|Access|Usage):\s*(.*)", line)
        if m and objs:
            objs[-1][m.group(1).lower()] = m.group(2).strip()
    return rc, objs


def spki_der(path, cert=True):
    """DER SubjectPublicKeyInfo of a PEM certificate."""
    args = ["x509", "-in", path, "-pubkey", "-noout"] if cert else []
    rc, pub, _ = openssl(*args, check_rc=0)
    p = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                       input=pub.encode(), capture_output=True)
    return p.stdout


def token_spki(tmp, label, oid):
    out = os.path.join(tmp, f"pub-{oid}.der")
    rc, _, _ = p11tool(label, "--read-object", "--type", "pubkey", "--id",
                       oid, "-o", out)
    if rc != 0:
        return b""
    with open(out, "rb") as f:
        return f.read()


class Token:
    """The PKCS#11 C API of the module through ctypes, for what
    pkcs11-tool does not show: the boolean attributes themselves and the
    token's answer to a read of a secret value (pkcs11-tool refuses to try
    for private keys)."""
    CKA_PRIVATE, CKA_VALUE, CKA_SENSITIVE = 0x2, 0x11, 0x103
    CKA_EXTRACTABLE, CKA_PRIVATE_EXPONENT, CKA_ID = 0x162, 0x123, 0x102
    CKA_CLASS = 0x0
    CKR_ATTRIBUTE_SENSITIVE = 0x11

    class Attr(ctypes.Structure):
        _fields_ = [("type", ctypes.c_ulong), ("value", ctypes.c_void_p),
                    ("len", ctypes.c_ulong)]

    def __init__(self, label, pin=P11_PIN):
        self.m = ctypes.CDLL(P11_MODULE)
        self.m.C_Initialize(None)
        n = ctypes.c_ulong(0)
        self.m.C_GetSlotList(ctypes.c_ubyte(1), None, ctypes.byref(n))
        slots = (ctypes.c_ulong * n.value)()
        self.m.C_GetSlotList(ctypes.c_ubyte(1), slots, ctypes.byref(n))
        slot = None
        for sl in slots:
            info = ctypes.create_string_buffer(1024)
            self.m.C_GetTokenInfo(ctypes.c_ulong(sl), info)
            if info.raw[:32].decode().rstrip() == label:
                slot = sl
        self.s = ctypes.c_ulong(0)
        self.m.C_OpenSession(ctypes.c_ulong(slot), ctypes.c_ulong(4),
                             None, None, ctypes.byref(self.s))
        pin_b = pin.encode()
        self.m.C_Login(self.s, ctypes.c_ulong(1), pin_b,
                       ctypes.c_ulong(len(pin_b)))

    def close(self):
        self.m.C_CloseSession(self.s)
        self.m.C_Finalize(None)

    def handle(self, cls, hex_id):
        raw = bytes.fromhex(hex_id)
        c = ctypes.c_ulong(cls)
        idbuf = ctypes.create_string_buffer(raw, len(raw))
        t = (self.Attr * 2)(
            self.Attr(self.CKA_CLASS, ctypes.cast(ctypes.byref(c),
                                                  ctypes.c_void_p),
                      ctypes.sizeof(c)),
            self.Attr(self.CKA_ID, ctypes.cast(idbuf, ctypes.c_void_p),
                      len(raw)))
        h, n = ctypes.c_ulong(0), ctypes.c_ulong(0)
        self.m.C_FindObjectsInit(self.s, t, ctypes.c_ulong(2))
        self.m.C_FindObjects(self.s, ctypes.byref(h), ctypes.c_ulong(1),
                             ctypes.byref(n))
        self.m.C_FindObjectsFinal(self.s)
        return h if n.value == 1 else None

    def bools(self, h):
        """{CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE} of an object."""
        out = {}
        for name, a in (("sensitive", self.CKA_SENSITIVE),
                        ("extractable", self.CKA_EXTRACTABLE),
                        ("private", self.CKA_PRIVATE)):
            v = ctypes.c_ubyte(0xFF)
            t = self.Attr(a, ctypes.cast(ctypes.byref(v), ctypes.c_void_p), 1)
            rv = self.m.C_GetAttributeValue(self.s, h, ctypes.byref(t),
                                            ctypes.c_ulong(1))
            out[name] = bool(v.value) if rv == 0 else None
        return out

    def read_secret(self, h, attr):
        """C_GetAttributeValue of a secret part: (rv, length)."""
        buf = ctypes.create_string_buffer(8192)
        t = self.Attr(attr, ctypes.cast(buf, ctypes.c_void_p), 8192)
        rv = self.m.C_GetAttributeValue(self.s, h, ctypes.byref(t),
                                        ctypes.c_ulong(1))
        return rv, t.len


def check_attributes(label, priv, secret):
    """CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_PRIVATE true, read
    through the C API; CKA_VALUE / CKA_PRIVATE_EXPONENT are refused."""
    tok = Token(label)
    try:
        for o in priv + secret:
            cls = 3 if o["kind"] == "private" else 4
            h = tok.handle(cls, o["id"])
            b = tok.bools(h) if h else {}
            check(b == {"sensitive": True, "extractable": False,
                        "private": True},
                  f"'{o['label']}': CKA_SENSITIVE true, CKA_EXTRACTABLE "
                  f"false, CKA_PRIVATE true ({b})")
            attr = tok.CKA_PRIVATE_EXPONENT \
                if o["type"].startswith("RSA") else tok.CKA_VALUE
            rv, n = tok.read_secret(h, attr) if h else (None, None)
            check(rv == tok.CKR_ATTRIBUTE_SENSITIVE,
                  f"'{o['label']}': reading its secret value fails with "
                  f"CKR_ATTRIBUTE_SENSITIVE (rv 0x{rv or 0:x})")
    finally:
        tok.close()


def never_extractable(access):
    words = [w.strip() for w in access.split(",")]
    return ("sensitive" in words and "never extractable" in words
            and "extractable" not in words)


def check_objects(tmp, label, pem):
    rc, objs = objects(label)
    check(rc == 0, f"pkcs11-tool -O lists token {label} ({len(objs)} objects)")
    priv = [o for o in objs if o["kind"] == "private"]
    secret = [o for o in objs if o["kind"] == "secret"]
    want = {"ca": ["root", "qualified", "standard", "tls"],
            "service": ["tsa", "ocsp-responder", "audit-seal"]}
    for cls, names in want.items():
        for n in names:
            hit = [o for o in priv
                   if re.match(rf"llave {cls} [0-9a-f]{{8}} {n}$", o["label"])]
            check(hit, f"private key '{cls} ... {n}' is on the token")
    check(all(never_extractable(o["access"]) for o in priv + secret),
          "every private and secret key: CKA_SENSITIVE true, CKA_EXTRACTABLE "
          "false (" + "; ".join(sorted({o["access"] for o in priv})) + ")")
    check(all(re.fullmatch(r"[0-9a-f]{32}", o["id"]) and o["label"]
              for o in priv + secret),
          "every key carries a label and a 16-byte CKA_ID (the key id)")
    check(len(secret) == 1 and secret[0]["label"] ==
          "llave citizen-key wrapping key" and "unwrap" in secret[0]["usage"],
          f"one AES wrapping key for citizens' keys ({secret})")
    rc, public = objects(label, login=False)
    check(rc == 0 and public and not [o for o in public
                                      if o["kind"] != "public"],
          "before login only public keys are visible: the private and "
          "secret keys have CKA_PRIVATE true")
    # pkcs11-tool reads a secret key's CKA_VALUE, the token refuses
    rc, out, err = p11tool(label, "--read-object", "--type", "secrkey",
                           "--id", secret[0]["id"] if secret else "00",
                           "-o", os.path.join(tmp, "leak.bin"))
    check(rc != 0 and "CKR_ATTRIBUTE_SENSITIVE" in out + err,
          "pkcs11-tool --read-object of the wrapping key's CKA_VALUE fails "
          "(CKR_ATTRIBUTE_SENSITIVE)")
    check_attributes(label, priv, secret)
    # CKA_ID links each key to its certificate: the token's public key with
    # the private key's CKA_ID is the certificate's public key
    by_label = {o["label"].split(" ", 3)[-1]: o for o in priv}
    for cert, name in [("root.pem", "root"), ("qualified.pem", "qualified"),
                       ("standard.pem", "standard"), ("tls.pem", "tls"),
                       ("tsa.pem", "tsa"), ("audit-seal.pem", "audit-seal")]:
        o = by_label.get(name)
        check(o and token_spki(tmp, label, o["id"]) ==
              spki_der(os.path.join(pem, cert)),
              f"{cert}: its public key is the token's key with CKA_ID "
              f"{o and o['id']}")
    return priv, secret


# ---- signatures made on the token, verified with openssl --------------------

def crl_pem(srv, tmp, name):
    st, _, body = srv.get(f"/crl/{name}.crl")
    der = os.path.join(tmp, f"{name}.crl.der")
    with open(der, "wb") as f:
        f.write(body)
    out = os.path.join(tmp, f"{name}.crl.pem")
    rc, _, _ = openssl("crl", "-inform", "DER", "-in", der, "-out", out)
    return st, rc, out


def check_signatures(srv, d, tmp, pem, citizen, app):
    api = Api(srv)
    st, tok = csc_login(api, "v2", citizen["user_id"], citizen["password"])
    serial = citizen["signing_certificate"]
    st, ci = api.call("POST", "/csc/v2/credentials/info",
                      {"credentialID": serial, "certificates": "single"},
                      token=tok)
    signer = der_to_pem(tmp, base64.b64decode(ci["cert"]["certificates"][0]),
                        "signer.pem")
    st1, rc1, qcrl = crl_pem(srv, tmp, "qualified")
    st2, rc2, rcrl = crl_pem(srv, tmp, "root")
    check(st1 == st2 == 200 and rc1 == rc2 == 0, "CRLs served and parsed")
    rc, out, err = openssl("crl", "-in", qcrl, "-noout", "-CAfile",
                           os.path.join(pem, "qualified.pem"))
    check(rc == 0 and "verify OK" in out + err,
          "the qualified CA's CRL (signed on the token) verifies")
    rc, out, err = openssl("verify", "-x509_strict", "-crl_check", "-CAfile",
                           os.path.join(pem, "root.pem"), "-untrusted",
                           os.path.join(pem, "chain.pem"), "-CRLfile", qcrl,
                           signer)
    check(rc == 0, "openssl verify -x509_strict -crl_check: the citizen's "
          f"certificate (issued on the token) is good ({(out + err).strip()})")
    rc, out, err = openssl("verify", "-x509_strict", "-crl_check", "-CAfile",
                           os.path.join(pem, "root.pem"), "-CRLfile", rcrl,
                           os.path.join(pem, "qualified.pem"))
    check(rc == 0, "... and the qualified CA against the root's CRL "
          f"({(out + err).strip()})")

    resp = os.path.join(tmp, "ocsp.der")
    base = ["-issuer", os.path.join(pem, "qualified.pem"), "-cert", signer,
            "-CAfile", os.path.join(pem, "root.pem"), "-verify_other",
            os.path.join(pem, "chain.pem")]
    rc, out, err = openssl("ocsp", *base, "-url", srv.url + "/ocsp",
                           "-respout", resp)
    # the request carried a nonce (a fresh signature on the token); the
    # saved response is checked on its own, without a new nonce
    rc, out, err = openssl("ocsp", "-respin", resp, "-no_nonce", *base)
    check(rc == 0 and "Response verify OK" in out + err and
          f"{signer}: good" in out,
          "openssl ocsp -respin: the responder's answer (signed on the "
          f"token) verifies: good ({(out + err).strip()[-200:]})")

    q = ts_query(tmp, "hsm-stamp")
    st, _, body = srv.post("/tsa", q, "application/timestamp-query")
    tsr, tsq = os.path.join(tmp, "hsm.tsr"), os.path.join(tmp, "hsm.tsq")
    with open(tsr, "wb") as f:
        f.write(body)
    with open(tsq, "wb") as f:
        f.write(q)
    rc, out, err = openssl("ts", "-verify", "-in", tsr, "-queryfile", tsq,
                           "-CAfile", os.path.join(pem, "chain.pem"))
    check(st == 200 and rc == 0 and "Verification: OK" in out + err,
          "openssl ts -verify: the time-stamp (signed on the token) verifies")

    accept_certificate(srv, d, citizen, app)
    digest = hashlib.sha256(b"signed on the HSM").digest()
    st, o = csc_authorize(api, d, tok, serial, [digest], citizen["mobile"],
                          pin=citizen["password"])
    sad = o.get("SAD")
    st, o = api.call("POST", "/csc/v2/signatures/signHash",
                     {"credentialID": serial, "SAD": sad,
                      "hashes": [b64url(digest)], "hashAlgorithmOID": SHA256,
                      "signAlgo": RSA}, token=tok)
    sig = base64.b64decode(o["signatures"][0]) if st == 200 else b""
    check(st == 200 and pkcs1_ok(tmp, signer, digest, sig),
          "CSC signHash with the citizen's key (unwrapped on the token for "
          "this signature only) verifies with the certificate's public key")
    return api, tok, serial, signer


# ---- errors that change nothing ----------------------------------------------

def tree_digest(path):
    """SHA-256 over the names and contents of every file under path."""
    h = hashlib.sha256()
    for p in sorted(glob.glob(os.path.join(path, "**"), recursive=True)):
        if os.path.isfile(p):
            h.update(p.encode())
            with open(p, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def stored(d):
    """What the install holds that an error must not change."""
    return (tree_digest(os.path.join(d, "keys")),
            sql(d, "select count(*) from certs"),
            sql(d, "select count(*) from sign_sads"),
            sql(d, "select count(*) from sign_documents where signature "
                   "is not null"))


def check_removed_object(srv, d, tmp, label, priv, secret, api, tok, serial,
                         citizen):
    tsa = [o for o in priv if o["label"].endswith(" tsa")][0]
    before = stored(d)
    rc, _, err = p11tool(label, "--delete-object", "--type", "privkey",
                         "--id", tsa["id"])
    check(rc == 0, f"pkcs11-tool --delete-object removes the TSA key ({err})")
    q = ts_query(tmp, "after-removal")
    st, pki = ts_status(srv, q)
    log = srv.read_log()
    check(pki == 2 and "missing from token" in log,
          f"time-stamp with the TSA key removed: rejected (HTTP {st}, "
          f"PKIStatus {pki}) and the log names the missing object")
    rc, _, err = p11tool(label, "--delete-object", "--type", "secrkey",
                         "--id", secret[0]["id"])
    digest = hashlib.sha256(b"after the wrapping key went").digest()
    st, o = csc_authorize(api, d, tok, serial, [digest], citizen["mobile"],
                          pin=citizen["password"])
    sad = o.get("SAD")
    st, o = api.call("POST", "/csc/v2/signatures/signHash",
                     {"credentialID": serial, "SAD": sad,
                      "hashes": [b64url(digest)], "hashAlgorithmOID": SHA256,
                      "signAlgo": RSA}, token=tok)
    check(st >= 500 and isinstance(o, dict) and o.get("error") and
          "wrapping key is missing" in o.get("error_description", ""),
          f"signHash with the wrapping key removed: HTTP {st} with a JSON "
          f"error ({o})")
    after = stored(d)
    check(before[0:2] == after[0:2] and before[3] == after[3],
          "the removals changed no key file, certificate or signature")


def unseal_with(d, tmp, shares, env=None):
    outs = []
    for i, s in enumerate(shares):
        path = os.path.join(tmp, f"share-{i}")
        with open(path, "w") as f:
            f.write(s + "\n")
        outs.append(run([LLAVE, "-d", d, "--share", path, "unseal"], env=env))
    return outs


def check_sealed_errors(d, tmp, label, shares):
    """A production-style start (no demo share file): the custodians'
    shares meet a token that refuses them."""
    demo = os.path.join(d, "demo-shares.INSECURE")
    os.rename(demo, demo + ".aside")
    before = stored(d)
    try:
        # wrong PIN: the token's user PIN was changed behind llave's back
        rc, out, err = p11tool(label, "--change-pin", "--new-pin", "other-pin")
        check(rc == 0, "the user PIN is changed on the token")
        srv = Server(d)
        try:
            outs = unseal_with(d, tmp, shares)
            rc, out, err = outs[-1]
            check(rc != 0 and "CKR_PIN_INCORRECT" in err,
                  f"unseal with a token that refuses the PIN: "
                  f"{err.strip()[-160:]}")
            st, _, body = srv.get("/api/v1/unseal")
            j = json.loads(body or b"{}")
            check(st == 200 and j.get("sealed") is True,
                  f"GET /api/v1/unseal: still sealed ({st} {j})")
            st, _, body = srv.get("/healthz")
            check(st == 200 and json.loads(body or b"{}").get("sealed"),
                  f"GET /healthz: sealed ({st} {body[:80]})")
            st, pki = ts_status(srv, ts_query(tmp, "wrong-pin"))
            check(pki == 2, f"the TSA signs nothing (HTTP {st}, PKIStatus "
                  f"{pki})")
        finally:
            check(srv.stop() == 0, "llaved stops cleanly")
        rc, _, _ = p11tool(label, "--change-pin", "--new-pin", P11_PIN,
                           pin="other-pin")
        # missing token: keyd sees a token directory without it
        empty = os.path.join(tmp, "no-tokens")
        os.makedirs(empty, exist_ok=True)
        conf = os.path.join(tmp, "empty-softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {empty}\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")
        saved = os.environ["SOFTHSM2_CONF"]
        os.environ["SOFTHSM2_CONF"] = conf
        try:
            srv = Server(d)
            try:
                outs = unseal_with(d, tmp, shares)
                rc, out, err = outs[-1]
                check(rc != 0 and "no initialized token labelled" in err,
                      f"unseal with the token missing: {err.strip()[-160:]}")
                st, _, body = srv.get("/api/v1/unseal")
                check(json.loads(body or b"{}").get("sealed") is True,
                      "still sealed")
            finally:
                check(srv.stop() == 0, "llaved stops cleanly")
        finally:
            os.environ["SOFTHSM2_CONF"] = saved
    finally:
        os.rename(demo + ".aside", demo)
    check(stored(d) == before,
          "wrong PIN and missing token changed nothing stored")


def check_full_token(d, tokens_dir, label):
    """A token with no room left: SoftHSM2 keeps objects as files, so a
    token directory on a small tmpfs that is filled up is a full token."""
    filler = os.path.join(tokens_dir, "filler")
    before = stored(d)
    units = sql(d, "select count(*) from cas")
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    try:
        rc, out, err = llave(d, "tsa", "add-unit", "tsa-full")
        check(rc != 0 and "PKCS#11" in err,
              f"a key on a full token: refused ({err.strip()[-160:]})")
    finally:
        os.unlink(filler)
    check(stored(d) == before and sql(d, "select count(*) from cas") == units,
          "the full token changed nothing stored")


def mount_small_tmpfs(path):
    """A 16 MiB tmpfs for the token directory (root only; CI runs as root
    in its container).  False when it cannot be mounted."""
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs",
                        path], capture_output=True)
    return p.returncode == 0


# ---- backup / restore (issue 16 item 5) --------------------------------------

def check_backup(d, tmp, label, priv, secret):
    key = os.path.join(tmp, "custodian.key")
    cert = os.path.join(tmp, "custodian.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-subj", "/CN=backup custodian", "-days", "2", "-out", cert,
            check_rc=0)
    bundle = os.path.join(tmp, "backup.bin")
    rc, out, err = llave(d, "backup", "create", bundle, "--recipient", cert)
    check(rc == 0, f"backup of the PKCS#11 install ({err.strip()[-160:]})")
    p = subprocess.run(["openssl", "cms", "-decrypt", "-inform", "DER", "-in",
                        bundle, "-recip", cert, "-inkey", key],
                       capture_output=True)
    q = subprocess.run(["tar", "xO", "manifest.json"], input=p.stdout,
                       capture_output=True)
    ks = json.loads(q.stdout or b"{}").get("keystore", {})
    named = {(o["label"], o["id"]) for o in ks.get("objects", [])}
    want = {(o["label"], o["id"]) for o in priv + secret}
    check(ks.get("backend") == "pkcs11" and ks.get("token") == label and
          ks.get("module") == P11_MODULE and named == want,
          f"the manifest names the token and its {len(want)} objects "
          f"(labels, CKA_ID) ({len(named)} named)")
    env = dict(os.environ, LLAVE_PKCS11_PIN=P11_PIN)
    noenv = {k: v for k, v in os.environ.items() if k != "LLAVE_PKCS11_PIN"}
    target = os.path.join(tmp, "restored")
    rc, out, err = run([LLAVE, "restore", bundle, target, "--key", key,
                        "--cert", cert], env=noenv)
    check(rc != 0 and "LLAVE_PKCS11_PIN" in err and not os.path.exists(target),
          f"restore without the token PIN: refused ({err.strip()[-120:]})")
    # another token directory whose token has the label but not the keys
    other = os.path.join(tmp, "other-tokens")
    os.makedirs(other)
    conf = os.path.join(tmp, "other-softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {other}\n"
                "objectstore.backend = file\nlog.level = ERROR\n")
    env_other = dict(env, SOFTHSM2_CONF=conf)
    run(["softhsm2-util", "--init-token", "--free", "--label", label,
         "--so-pin", lvtest.P11_SO_PIN, "--pin", P11_PIN], env=env_other,
        check_rc=0)
    rc, out, err = run([LLAVE, "restore", bundle, target, "--key", key,
                        "--cert", cert], env=env_other)
    check(rc != 0 and f"lacks {len(want)} of the {len(want)} object(s)" in err
          and "CKA_ID" in err and not os.path.exists(target) and
          not glob.glob(os.path.join(tmp, ".llave-restore-*")),
          f"restore where the token lacks the objects: refused, nothing "
          f"written ({err.strip()[-200:]})")
    pinfile = os.path.join(tmp, "pin.txt")
    with open(pinfile, "w") as f:
        f.write(P11_PIN + "\n")
    rc, out, err = run([LLAVE, "restore", bundle, target, "--key", key,
                        "--cert", cert, "--pkcs11-pin-file", pinfile],
                       env=noenv)
    check(rc == 0 and os.path.exists(os.path.join(target, "keys",
                                                  "pkcs11.json")),
          f"restore on the token the backup depends on (PIN from a file) "
          f"({err.strip()[-160:]})")
    rc, out, err = llave(target, "audit", "verify")
    check(rc == 0, "the restored install's audit trail verifies")
    shutil.rmtree(target, ignore_errors=True)


def main():
    tmp = workdir("pkcs11")
    home = lvtest.softhsm_home()
    tokens_dir = os.path.join(home, "tokens")
    mounted = mount_small_tmpfs(tokens_dir)
    srv = None
    try:
        d, pem, citizen, app = install(tmp)
        label = lvtest.softhsm_label()
        with open(os.path.join(d, "llave.json")) as f:
            cfg = json.load(f)
        check(cfg.get("keystore") == "pkcs11" and
              cfg.get("pkcs11_token") == label and
              cfg.get("pkcs11_module") == P11_MODULE,
              "llave.json records the PKCS#11 back end, module and token")
        priv, secret = check_objects(tmp, label, pem)
        with open(os.path.join(d, "demo-shares.INSECURE")) as f:
            shares = re.findall(r"^llave-share-\S+", f.read(), re.M)

        srv = Server(d)
        api, tok, serial, signer = check_signatures(srv, d, tmp, pem, citizen,
                                                    app)
        rc, out, err = llave(d, "audit", "seal")
        check(rc == 0, f"audit seal on the token ({err.strip()[-120:]})")
        rc, out, err = llave(d, "audit", "verify")
        check(rc == 0, "the audit trail and its seals verify")
        check(srv.stop() == 0, "llaved stops cleanly")
        srv = None
        check_backup(d, tmp, label, priv, secret)

        check_sealed_errors(d, tmp, label, shares)
        if mounted:
            check_full_token(d, tokens_dir, label)
        else:
            print("skip full token: cannot mount a small tmpfs (not root)")

        srv = Server(d)
        check_removed_object(srv, d, tmp, label, priv, secret, Api(srv), tok,
                             serial, citizen)
        check(srv.stop() == 0, "llaved stops cleanly")
        srv = None
    finally:
        if srv:
            srv.stop()
        if mounted:
            subprocess.run(["umount", tokens_dir])
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
