"""llave-keyd, the signature activation module (issue 12; R5.1, R5.2, CEN
EN 419 241-1 SAM), driven as a compromised front end would drive it.

A demo install, then `llave-keyd -d DIR --sealed`: the socket is mode 0600
and keyd holds no TCP/UDP socket; custodians unseal it with the demo shares
through `unseal_share`.  Then, from keyd_probe (a client that can send what
keyc never would): a citizen's key asked to sign without an activation,
with a used one, one bound to other digests, an expired one, one for
another key; kinds outside the request table (an "export key"), another
protocol version, malformed and oversized frames, a caller class not
allowed.  Every one is refused, audited with its reason (read with the
sqlite3 CLI) and signs nothing; a valid activation signs once and the
signatures verify with `openssl pkeyutl -verify` against the key
`public_key` returned.  Killing keyd gives 503 (busy) at once; a new keyd
replaces the stale socket.
"""
import hashlib
import json
import os
import re
import signal
import stat
import subprocess

from lvtest import (BUILD, check, cleanup, demo_install, finish, openssl, run,
                    sql, store_location, workdir)

KEYD = os.path.join(BUILD, "llave-keyd")
PROBE = os.path.join(BUILD, "tests", "keyd_probe")


class Keyd:
    """A real llave-keyd, stopped by PID; its log goes to a file."""

    def __init__(self, d, *extra):
        self.log = open(os.path.join(d, "keyd-test.log"), "a")
        self.proc = subprocess.Popen([KEYD, "-d", d, *extra],
                                     stdout=subprocess.PIPE, stderr=self.log,
                                     text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (\S+) \((sealed|unsealed)\)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"llave-keyd did not start: {line!r}")
        self.socket, self.sealed = m.group(1), m.group(2) == "sealed"

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.log.close()
        return self.proc.returncode


def probe(sock, caller, *args):
    rc, out, err = run([PROBE, sock, caller, *args])
    lines = out.strip().splitlines()
    if not lines:
        return {"rc": None, "error": "no output", "message": err}
    return json.loads(lines[-1])


def refused(r, error, text, what):
    """A refusal with the expected error name and reason."""
    return check(r.get("rc", 0) < 0 and r["error"] == error
                 and text in r.get("message", ""),
                 f"{what}: refused ({r.get('error')}: {r.get('message')})")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(m.group(1))
    return inodes


def network_inodes(pid):
    """Inodes of every TCP, UDP and raw socket of the process's namespace."""
    found = set()
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        path = f"/proc/{pid}/net/{table}"
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if len(cols) > 9:
                    found.add(cols[9])
    return found


def check_socket(k, d):
    st = os.lstat(k.socket)
    check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
          and st.st_uid == os.geteuid(),
          f"socket {k.socket} is mode 0600, owned by keyd's user "
          f"({oct(stat.S_IMODE(st.st_mode))})")
    mine = socket_inodes(k.proc.pid)
    check(len(mine) >= 1 and not mine & network_inodes(k.proc.pid),
          f"keyd holds {len(mine)} socket(s), none TCP/UDP/raw")
    rc, out, _ = run(["ss", "-xlpn"])
    check(any(k.socket in l and f"pid={k.proc.pid}," in l
              for l in out.splitlines()),
          "ss -xlpn lists keyd.sock as keyd's listening UNIX socket")
    rc, out, _ = run(["ss", "-tulpn"])
    check(f"pid={k.proc.pid}," not in out, "ss -tulpn lists no socket of keyd")


def unseal(k, d):
    with open(os.path.join(d, "demo-shares.INSECURE")) as f:
        shares = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    s = k.socket
    refused(probe(s, "service", "unseal", shares[0]), "forbidden",
            "not permitted", "a share through the front end's class")
    r = probe(s, "custodian", "unseal", shares[0])
    check(r["rc"] == 0 and r["received"] == 1 and r["sealed"],
          "first custodian share: 1 of 2, still sealed")
    refused(probe(s, "custodian", "unseal", shares[0]), "conflict",
            "already received", "the same share twice")
    r = probe(s, "custodian", "unseal", shares[1])
    check(r["rc"] == 0 and not r["sealed"], "second share opens the store")
    r = probe(s, "service", "status")
    check(r["rc"] == 0 and not r["sealed"] and r["signer_keys"] >= 1
          and r["ca_keys"] >= 3, f"status: unsealed, keys by class {r}")
    check(int(sql(d, "SELECT count(*) FROM audit_log WHERE event = "
                     "'keys.unseal' AND actor = 'keyd:custodian'")) == 1,
          "keys.unseal audited once, by the custodian class")
    for sh in shares:
        check(sql(d, f"SELECT count(*) FROM audit_log WHERE details LIKE "
                     f"'%{sh[14:40]}%'") == "0", "no share text in the trail")


class Front:
    """The front end's half: activation records as written after password +
    OTP, and requests to keyd."""

    def __init__(self, tmp, d, sock, key):
        self.tmp, self.d, self.sock, self.key = tmp, d, sock, key
        self.n = 0

    def activate(self, digests, key=None, ttl="60"):
        r = probe(store_location(self.d), "-", "activate",
                  key or self.key, "sha256", ttl, "citizen:demo-test",
                  *digests)
        assert r["rc"] == 0, r
        return r["ref"]

    def sign(self, ref, digests, key=None, caller="service"):
        self.n += 1
        out = os.path.join(self.tmp, f"sigs-{self.n}.bin")
        r = probe(self.sock, caller, "sign-digests", key or self.key,
                  "sha256", ref, out, *digests)
        r["out"] = out
        return r


def verify_pkcs1(tmp, pub_pem, digest_hex, sig):
    dg, sg = os.path.join(tmp, "d.bin"), os.path.join(tmp, "s.bin")
    with open(dg, "wb") as f:
        f.write(bytes.fromhex(digest_hex))
    with open(sg, "wb") as f:
        f.write(sig)
    rc, out, _ = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub_pem,
                         "-in", dg, "-sigfile", sg, "-pkeyopt",
                         "digest:sha256")
    return rc == 0 and "Signature Verified Successfully" in out


def public_pem(tmp, sock, key, name):
    der, pem = (os.path.join(tmp, f"{name}.der"),
                os.path.join(tmp, f"{name}.pem"))
    r = probe(sock, "service", "pubkey", key, der)
    check(r["rc"] == 0, f"public_key of the {name} key ({r.get('class')})")
    openssl("pkey", "-pubin", "-inform", "DER", "-in", der, "-out", pem,
            check_rc=0)
    rc, _, _ = openssl("pkey", "-inform", "DER", "-in", der, "-noout")
    check(rc != 0, f"{name}: the answer holds no private key")
    return pem, r


def attacks(tmp, d, fe, docs):
    """The compromised front end: nothing of this may sign."""
    s = fe.sock
    r = fe.sign(os.urandom(32).hex(), docs[:1])
    refused(r, "forbidden", "no such activation", "no activation at all")
    ref = fe.activate(docs[:1])
    r = fe.sign(ref, docs[2:3])
    refused(r, "forbidden", "other digests", "activation bound to other digests")
    r = fe.sign(ref, docs[:1])
    refused(r, "forbidden", "already used",
            "the same activation after a mismatching presentation (burnt)")
    ref = fe.activate(docs[:2])
    r = fe.sign(ref, docs[1::-1])
    refused(r, "forbidden", "other digests", "the same digests in another order")
    ref = fe.activate(docs[:1])
    rid = sha256_hex(bytes.fromhex(ref))
    sql(d, f"UPDATE sign_activations SET expires_at = 1 WHERE id = '{rid}'")
    refused(fe.sign(ref, docs[:1]), "forbidden", "expired",
            "an expired activation")
    gen = probe(s, "service", "generate", "rsa2048", "other citizen")
    check(gen["rc"] == 0, "generate_citizen_key: a second citizen's key")
    ref = fe.activate(docs[:1])
    refused(fe.sign(ref, docs[:1], key=gen["key_id"]), "forbidden",
            "another key", "an activation for another citizen's key")
    ref = fe.activate(docs[:1])
    refused(fe.sign(ref, docs[:1], caller="console"), "forbidden",
            "not permitted", "citizen signing through the console's class")
    refused(probe(s, "service", "sign-tbs", fe.key, "sha256",
                  os.path.join(d, "llave.json"), os.path.join(tmp, "x.sig")),
            "forbidden", "citizen", "sign_tbs with a citizen's key")
    refused(probe(s, "service", "sign-digest", fe.key, "sha256", docs[0],
                  os.path.join(tmp, "y.sig")),
            "forbidden", "citizen", "a raw digest signature by a citizen's key")
    for kind, name in ((99, "export_key"), (0, "kind 0"), (9, "kind 9")):
        refused(probe(s, "service", "raw", str(kind), "1", "3000"),
                "forbidden", "not in keyd's request table",
                f"{name}: outside the request table")
    refused(probe(s, "9", "raw", "1", "1"), "forbidden", "caller class",
            "an unknown caller class")
    refused(probe(s, "service", "raw", "1", "2"), "invalid_request",
            "version 2", "another protocol version")
    refused(probe(s, "service", "raw", "1", "1", "3000"), "invalid_request",
            "takes no body", "a status request with a body")
    refused(probe(s, "service", "bytes", "3003020101"), "invalid_request",
            "not DER", "a malformed request")
    refused(probe(s, "service", "stream", "ffffffff00"), "too_large",
            "at most", "an oversized frame")
    refused(probe(s, "service", "stream", "0000006430"), "io_error",
            "mid-frame", "a truncated frame")
    nothing = [f for f in os.listdir(tmp) if f.startswith("sigs-")
               or f in ("x.sig", "y.sig")]
    check(not nothing, f"no signature was written by any refused request "
                       f"{nothing}")
    return 6  # sign.activation_use refusals above


def audit_checks(d, expected_use_failures):
    failures = sql(d, "SELECT json_extract(details, '$.reason') FROM "
                      "audit_log WHERE event = 'sign.activation_use' AND "
                      "result = 'failure'").splitlines()
    check(len(failures) == expected_use_failures and all(failures),
          f"{len(failures)} refused activations audited, each with a reason")
    refusals = sql(d, "SELECT object || ': ' || json_extract(details, "
                      "'$.reason') FROM audit_log WHERE event = "
                      "'keyd.refused'").splitlines()
    for want in ("not in keyd's request table", "version 2", "not DER",
                 "at most", "mid-frame", "caller class", "not permitted",
                 "sign_tbs"):
        check(any(want in r for r in refusals),
              f"keyd.refused audited: {want}")
    check(sql(d, "SELECT count(*) FROM audit_log WHERE event = "
                 "'sign.activation_use' AND result = 'success'") == "0",
          "no activation was used successfully by the attacks")
    unused = sql(d, "SELECT count(*) FROM sign_activations WHERE used_at IS "
                    "NULL")
    # two were never presented to the check: the one refused while sealed
    # and the one refused by the table (console class)
    check(unused == "2", "every activation that reached the check is used "
                         f"up ({unused} unused)")


def valid_signature(tmp, d, fe, docs, pub_pem):
    ref = fe.activate(docs[:2])
    r = fe.sign(ref, docs[:2])
    check(r["rc"] == 0 and r.get("sig_len") == 256,
          f"a valid activation signs ({r.get('error')} {r.get('message')})")
    with open(r["out"], "rb") as f:
        sigs = f.read()
    check(len(sigs) == 512 and all(verify_pkcs1(tmp, pub_pem, docs[i],
                                                 sigs[256 * i:256 * (i + 1)])
                                   for i in range(2)),
          "both signatures verify with openssl pkeyutl -verify against the "
          "key public_key returned")
    refused(fe.sign(ref, docs[:2]), "forbidden", "already used",
            "the valid activation a second time")
    rows = sql(d, "SELECT actor FROM audit_log WHERE event = "
                  "'sign.activation_use' AND result = 'success'")
    check(rows == "citizen:demo-test",
          "sign.activation_use audited once, with the citizen as actor")


def ca_signature(tmp, d, pem, sock):
    key = sql(d, "SELECT key_id FROM cas WHERE name = 'qualified'")
    pub, r = public_pem(tmp, sock, key, "qualified")
    check(r.get("class") == "ca", "the qualified CA key is of class ca")
    cert_pub = os.path.join(tmp, "qualified-cert.pub")
    rc, out, _ = openssl("x509", "-in", os.path.join(pem, "qualified.pem"),
                         "-pubkey", "-noout")
    with open(cert_pub, "w") as f:
        f.write(out)
    with open(pub) as a, open(cert_pub) as b:
        check(a.read() == b.read(), "it is the key of the qualified CA "
                                    "certificate")
    tbs, sig = os.path.join(tmp, "tbs.bin"), os.path.join(tmp, "tbs.sig")
    with open(tbs, "wb") as f:
        f.write(b"a TBSCertificate, as the CA would assemble it")
    r = probe(sock, "console", "sign-tbs", key, "sha256", tbs, sig)
    rc, out, _ = openssl("dgst", "-sha256", "-verify", cert_pub,
                         "-signature", sig, tbs)
    check(r["rc"] == 0 and rc == 0, "sign_tbs with the CA key verifies with "
                                    "openssl dgst -verify")


def restart(d, k):
    k.stop(signal.SIGKILL)
    r = probe(k.socket, "service", "status")
    check(r["error"] == "busy" and os.path.exists(k.socket),
          f"keyd killed: busy (503) at once ({r.get('message')})")
    k2 = Keyd(d)
    check(not k2.sealed, "a new keyd replaces the stale socket (demo shares)")
    r = probe(k2.socket, "service", "status")
    check(r["rc"] == 0 and not r["sealed"], "the new keyd answers")
    check(k2.stop() == 0 and not os.path.exists(k2.socket),
          "SIGTERM: exit 0, socket removed")
    # the ceremony's own keyd (the console's) stopped on another socket
    check(sql(d, "SELECT count(*) FROM audit_log WHERE event = 'keyd.stop' "
                 f"AND details LIKE '%{k2.socket}%'") == "1",
          "keyd.stop audited")


def main():
    tmp = workdir("keyd")
    k = None
    try:
        d, pem = demo_install(tmp)
        k = Keyd(d, "--sealed")
        check(k.sealed and k.socket == os.path.join(d, "keyd.sock"),
              "llave-keyd --sealed listens on DIR/keyd.sock, sealed")
        check_socket(k, d)
        key = sql(d, "SELECT key_id FROM certs WHERE profile LIKE "
                     "'natural-person-cloud%' AND key_id <> '' LIMIT 1")
        docs = [sha256_hex(f"document {i}".encode()) for i in range(3)]
        fe = Front(tmp, d, k.socket, key)
        refused(fe.sign(fe.activate(docs[:1]), docs[:1]), "sealed", "sealed",
                "a citizen signature while sealed")
        unseal(k, d)
        pub_pem, r = public_pem(tmp, k.socket, key, "citizen")
        check(r.get("class") == "signer", "the demo citizen's key is a "
                                          "signer key")
        n = attacks(tmp, d, fe, docs)
        audit_checks(d, n)
        valid_signature(tmp, d, fe, docs, pub_pem)
        ca_signature(tmp, d, pem, k.socket)
        restart(d, k)
    finally:
        if k:
            k.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
