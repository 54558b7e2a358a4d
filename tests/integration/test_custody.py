"""Issue 8: audit seals and API, two-of-three activation of a sealed llaved,
share rotation, backup custody, archive and retention, termination export.

A production install (no demo share file) is made with `llave init` and its
printed shares.  Outputs are judged with openssl (dgst, ts, cms, ocsp,
verify), sqlite3, tar and an independent recomputation of the hash chain."""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import time

from lvtest import (LLAVE, SUBJECTS, Server, check, cleanup, finish, llave,
                    openssl, operator_lines, run, sql, two_person, workdir)


# ---- helpers ---------------------------------------------------------------

def production_install(tmp):
    """`llave init` without --demo; returns (dir, [three shares])."""
    conf = os.path.join(tmp, "conf.json")
    with open(conf, "w") as f:
        # the test machine's clock is not NTP-synchronized (R7.2 guard);
        # issue 13: a production ceremony wants the operator's own arc, an
        # http status_url and an https documents_url
        json.dump({"tsa_require_clock_sync": False,
                   "oid_arc": "1.3.6.1.4.1.59999.13",
                   "status_url": "http://status.pruebas.example.es",
                   "documents_url": "https://www.pruebas.example.es"}, f)
    d = os.path.join(tmp, "prod")
    rc, out, err = run([LLAVE, "init", d, "--config", conf])
    check(rc == 0, f"production ceremony ({err.strip()[-200:]})")
    shares = re.findall(r"custodian \d: (llave-share-\S+)", out)
    check(len(shares) == 3, "the ceremony prints three custodian shares")
    check(not os.path.exists(os.path.join(d, "demo-shares.INSECURE")),
          "no share file is kept on a production install")
    return d, shares


def share_files(tmp, shares, tag):
    paths = []
    for i, s in enumerate(shares):
        p = os.path.join(tmp, f"share-{tag}-{i + 1}.txt")
        with open(p, "w") as f:
            f.write(s + "\n")
        paths.append(p)
    return paths


def with_shares(files):
    return [a for f in files for a in ("--share", f)]


def forged_share(n):
    """A well-formed share (valid checksum) that belongs to no store."""
    body = os.urandom(32)
    check_ = hashlib.sha256(b"llave-share" + bytes([n]) + body).digest()[:4]
    return f"llave-share-{n}-{body.hex()}-{check_.hex()}"


def post_json(srv, path, obj, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    status, _, body = srv.post(path, json.dumps(obj).encode(), headers=h)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {}


def get_json(srv, path, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    status, headers, body = srv.request("GET", path, headers=h)
    try:
        return status, json.loads(body), headers
    except ValueError:
        return status, {}, headers


def ts_query(tmp, name):
    data = os.path.join(tmp, f"{name}.txt")
    with open(data, "w") as f:
        f.write(name)
    q = os.path.join(tmp, f"{name}.tsq")
    openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", q,
            check_rc=0)
    with open(q, "rb") as f:
        return f.read()


def ts_status(srv, query):
    status, _, body = srv.post("/tsa", query, "application/timestamp-query")
    # PKIStatus is the first INTEGER of the TimeStampResp
    p = subprocess.run(["openssl", "asn1parse", "-inform", "DER"],
                       input=body, capture_output=True)
    m = re.search(rb"INTEGER\s+:(\d+)", p.stdout)
    return status, int(m.group(1)) if m else -1


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


def operator_token(srv, d, login, role):
    rc, out, err = llave(d, "operator", "add", login, "--role", role,
                         "--json")
    if rc != 0:
        raise RuntimeError(err)
    a = json.loads(out)
    status, j = post_json(srv, "/api/v1/operators/login", {
        "login": login, "password": a["password"],
        "totp": totp(a["totp_secret"], int(time.time()) // 30)})
    if status != 200:
        raise RuntimeError(f"login {login}: {status} {j}")
    return j["token"]


def canonical(e):
    o = {k: e[k] for k in ("seq", "time", "actor", "event", "object",
                           "result", "details")}
    return json.dumps(o, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def chain_ok(lines):
    """Recomputes every entry hash from the export (audit.h's definition)."""
    prev = "0" * 64
    for e in (x for x in lines if x["type"] == "entry"):
        want = hashlib.sha256((prev + canonical(e)).encode()).hexdigest()
        if e["prev_hash"] != prev or e["hash"] != want:
            return e["seq"]
        prev = e["hash"]
    return 0


def drop_guards(db):
    names = subprocess.run(
        ["sqlite3", db, "select name from sqlite_master where type='trigger'"],
        capture_output=True, text=True).stdout.split()
    return "".join(f"DROP TRIGGER {n};" for n in names)


def tampered_copy(d, tmp, name, statement):
    c = os.path.join(tmp, name)
    shutil.copytree(d, c)
    db = os.path.join(c, "llave.db")
    rc, _, err = run(["sqlite3", db, drop_guards(db) + statement])
    if rc != 0:
        raise RuntimeError(err)
    return c


# ---- the sealed service ------------------------------------------------------

def unseal(d, tmp, share):
    path = os.path.join(tmp, "one-share")
    with open(path, "w") as f:
        f.write(share + "\n")
    return llave(d, "--share", path, "unseal")


def wait_unsealed(srv):
    # llaved learns keyd's state from keyd (at most once a second)
    for _ in range(30):
        st, j, _ = get_json(srv, "/healthz")
        if j.get("sealed") is False:
            return
        time.sleep(0.2)


def check_unseal(d, tmp, shares, files):
    # the console's own keyds audited the shares of earlier commands
    start = sql(d, "select max(seq) from audit_log")
    srv = Server(d)
    try:
        st, j, _ = get_json(srv, "/healthz")
        check(j.get("sealed") is True, "production llaved starts sealed")
        q = ts_query(tmp, "while-sealed")
        status, pki = ts_status(srv, q)
        check(pki == 2, f"sealed: the TSA signs nothing (PKIStatus {pki})")
        st, j, _ = get_json(srv, "/api/v1/unseal")
        check(st == 200 and j.get("received") == 0 and j.get("sealed"),
              f"unseal progress starts at 0: {j}")

        # shares go to llave-keyd's socket through `llave unseal`, never
        # over HTTP (issue 12 item 2)
        st, j = post_json(srv, "/api/v1/unseal", {"share": shares[0]})
        check(st == 405, f"no share is taken over HTTP: POST 405 ({st})")
        rc, out, err = unseal(d, tmp, "llave-share-1-00")
        check(rc != 0 and "share" in err,
              f"malformed share refused: {err.strip()[-120:]}")
        rc, out, err = unseal(d, tmp, forged_share(2))
        check(rc != 0 and "does not belong" in err,
              f"wrong share refused: {err.strip()[-120:]}")

        rc, out, err = unseal(d, tmp, shares[0])
        check(rc == 0 and "1 of 2 shares received" in out,
              f"one share is not enough: {out.strip()} {err.strip()}")
        rc, out, err = unseal(d, tmp, shares[0])
        check(rc != 0 and "already received" in err,
              f"the same share twice refused: {err.strip()[-120:]}")
        st, j, _ = get_json(srv, "/api/v1/unseal")
        check(st == 200 and j.get("sealed") and j.get("received") == 1,
              f"progress from keyd: 1 share held: {j}")
        st, j, _ = get_json(srv, "/healthz")
        check(j.get("sealed") is True, "still sealed with one share")
        status, pki = ts_status(srv, q)
        check(pki == 2, "one share: the TSA still signs nothing")

        # the second custodian with a share file
        rc, out, err = llave(d, "--share", files[2], "unseal")
        check(rc == 0 and "key store unsealed" in out,
              f"llave unseal submits the second share: {out.strip()} "
              f"{err.strip()}")
        wait_unsealed(srv)
        st, j, _ = get_json(srv, "/healthz")
        check(j.get("sealed") is False, "two distinct shares unseal llaved")
        status, pki = ts_status(srv, q)
        check(pki == 0, f"unsealed: the TSA grants tokens (PKIStatus {pki})")
        rc, out, err = unseal(d, tmp, shares[1])
        check(rc != 0 and "already unsealed" in err,
              f"unseal once unsealed refused: {err.strip()[-120:]}")

        check_audit_api(srv, d)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")
    ev = sql(d, "select result || ':' || object from audit_log where "
                f"event = 'keys.unseal_share' and seq > {start} order by seq")
    check(ev.split() == ["failure:share:unparsable", "failure:share:2",
                         "success:share:1", "failure:share:1",
                         "success:share:3"],
          f"every share submitted is audited by number: {ev.split()}")
    check(sql(d, "select count(*) from audit_log where event = "
                 f"'keys.unseal' and result = 'success' and seq > {start}")
          == "1",
          "the unseal itself is audited")
    dump = sql(d, ".dump")
    check(not any(s.split("-")[3] in dump for s in shares),
          "no share (or its bytes) is ever stored")


def check_audit_api(srv, d):
    st, j, _ = get_json(srv, "/api/v1/audit")
    check(st == 401, f"audit API without a session: 401 ({st})")
    officer = operator_token(srv, d, "rita.officer", "ra_officer")
    st, j, _ = get_json(srv, "/api/v1/audit", officer)
    check(st == 403, f"audit API for a non-auditor: 403 ({st})")
    auditor = operator_token(srv, d, "ana.auditor", "auditor")
    st, j, _ = get_json(srv, "/api/v1/audit?from=1&limit=5", auditor)
    items = j.get("items", [])
    check(st == 200 and len(items) == 5 and items[0]["seq"] == 1 and
          j.get("next_from") == 6,
          f"auditor reads a page: {st} {len(items)} next {j.get('next_from')}")
    st, _, h = get_json(srv, "/api/v1/audit?from=6&limit=3&format=jsonl",
                        auditor)
    status, headers, body = srv.request(
        "GET", "/api/v1/audit?from=6&limit=3&format=jsonl",
        headers={"Authorization": f"Bearer {auditor}"})
    lines = [json.loads(x) for x in body.decode().splitlines()]
    check(status == 200 and [x["seq"] for x in lines if x["type"] ==
                             "entry"] == [6, 7, 8] and
          headers.get("X-Next-From") == "9",
          f"JSON lines page with X-Next-From ({headers.get('X-Next-From')})")
    st, j, _ = get_json(srv, "/api/v1/audit?limit=5000", auditor)
    check(st == 400 and j.get("error") == "invalid_request",
          f"limit out of range: 400 ({st})")


# ---- seals, export, tampering ------------------------------------------------

def issue_and_revoke(d, tmp, files):
    out = os.path.join(tmp, "c1.pem")
    rc, _, err = llave(d, *with_shares(files), "cert", "issue",
                       "natural-person-cloud", "--subject",
                       os.path.join(SUBJECTS, "natural-person-cloud.json"),
                       "--out", out)
    check(rc == 0, f"certificate issued ({err.strip()[-200:]})")
    serial = openssl("x509", "-in", out, "-noout", "-serial",
                     check_rc=0)[1].strip().split("=")[1]
    rc, _, err = llave(d, *with_shares(files), "cert", "revoke", serial,
                       "--reason", "keyCompromise")
    check(rc == 0, f"certificate revoked ({err.strip()[-200:]})")
    return out, serial


KEYD_OWN_EVENTS = {"keyd.start", "keyd.stop", "keys.unseal_share",
                   "keys.unseal", "audit.seal", "archive.record"}


def check_seals(d, tmp, files, pem):
    rc, out, err = llave(d, "audit", "seal")
    check(rc != 0, "sealing needs the key store (no shares: refused)")
    rc, out, err = llave(d, *with_shares(files), "audit", "seal")
    check(rc == 0 and "seal 1 covers" in out,
          f"audit seal: {out.strip()} {err.strip()[-200:]}")
    sealed = int(sql(d, "select max(seq) from audit_seals"))
    rc, out, _ = llave(d, *with_shares(files), "audit", "seal")
    # issue 12: the command's own llave-keyd audits its start, the shares
    # it was handed and the unseal, so a second run seals those and nothing
    # else
    since = set(sql(d, "select distinct event from audit_log where seq > "
                       f"{sealed}").split())
    check(rc == 0 and since <= KEYD_OWN_EVENTS,
          f"no new entries but the console keyd's own: {sorted(since)}")
    nseals = int(sql(d, "select count(*) from audit_seals"))
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and f"{nseals} seal(s)" in out, f"verify: {out.strip()}")

    rc, text, _ = llave(d, "audit", "export")
    lines = [json.loads(x) for x in text.splitlines()]
    seals = [x for x in lines if x["type"] == "seal"]
    entries = [x for x in lines if x["type"] == "entry"]
    check(rc == 0 and len(seals) == nseals and entries[0]["seq"] == 1,
          "export: JSON lines of every entry plus the seals")
    check(chain_ok(lines) == 0, "the exported chain recomputes (sha256)")
    s = seals[0]
    sealed = [e for e in entries if e["seq"] == s["seq"]][0]
    check(s["message"] == f"llave-audit-seal/1 seq={s['seq']} "
                          f"hash={sealed['hash']}",
          "the seal message names the sealed entry's hash")
    msg, sig, cert, tsr = (os.path.join(tmp, n) for n in
                           ("seal.msg", "seal.sig", "seal.pem", "seal.tsr"))
    with open(msg, "w") as f:
        f.write(s["message"])
    with open(sig, "wb") as f:
        f.write(base64.b64decode(s["signature"]))
    with open(cert, "w") as f:
        f.write(s["certificate"])
    with open(tsr, "wb") as f:
        f.write(base64.b64decode(s["tst"]))
    pub = os.path.join(tmp, "seal-pub.pem")
    openssl("x509", "-in", cert, "-pubkey", "-noout", "-out", pub, check_rc=0)
    rc, out, err = openssl("dgst", "-sha256", "-verify", pub, "-signature",
                           sig, msg)
    check(rc == 0 and "Verified OK" in out, "openssl dgst -verify: seal OK")
    rc, out, err = openssl("verify", "-CAfile", f"{pem}/root.pem",
                           "-untrusted", f"{pem}/standard.pem", cert)
    check(rc == 0, f"the seal certificate chains to the root {out}{err}")
    chain = os.path.join(tmp, "tsa-chain.pem")
    with open(chain, "w") as f:
        for n in ("root", "qualified"):
            f.write(open(f"{pem}/{n}.pem").read())
    rc, out, err = openssl("ts", "-verify", "-data", msg, "-in", tsr,
                           "-CAfile", chain)
    check(rc == 0 and "Verification: OK" in out,
          f"openssl ts -verify: the seal's token ({out.strip()}{err[-150:]})")
    bad = os.path.join(tmp, "seal-bad.msg")
    with open(bad, "w") as f:
        f.write(s["message"].replace("seq=", "seq=1"))
    rc, _, _ = openssl("dgst", "-sha256", "-verify", pub, "-signature", sig,
                       bad)
    check(rc != 0, "openssl refuses the signature over another head")
    rc, out, _ = llave(d, "audit", "export", "--from", str(s["seq"]))
    first = json.loads(out.splitlines()[0])
    check(first["seq"] == s["seq"] and out.count('"type":"seal"') == nseals,
          "export --from starts at that entry")
    return s


def check_tampering(d, tmp, seal):
    n = seal["seq"]
    last = int(sql(d, "select max(seq) from audit_log"))
    cases = [
        ("edit", f"UPDATE audit_log SET actor='mallory' WHERE seq={n - 3};",
         n - 3, "edited"),
        ("delete", f"DELETE FROM audit_log WHERE seq={n - 2};", n - 1,
         "deleted"),
        ("truncate", f"DELETE FROM audit_log WHERE seq>={n - 1};", n - 1,
         "truncated"),
        ("seal", "UPDATE audit_seals SET signature=randomblob(256);", n,
         "signature does not verify"),
        ("token", "UPDATE audit_seals SET tst=substr(tst,1,length(tst)-1)"
                  " || CASE WHEN substr(tst,-1)=x'00' THEN x'01' ELSE x'00' "
                  "END WHERE id=(SELECT min(id) FROM audit_seals);", n,
         "time-stamp token"),
    ]
    for name, stmt, bad, needle in cases:
        c = tampered_copy(d, tmp, f"tamper-{name}", stmt)
        rc, out, _ = llave(c, "audit", "verify")
        check(rc == 1 and f"BROKEN at entry {bad}:" in out and needle in out,
              f"{name}: verify names entry {bad}: {out.strip()}")
    # a whole-tail truncation that also drops the seals is caught with the
    # auditor's own record of the last sealed entry
    c = tampered_copy(d, tmp, "tamper-tail",
                      f"DELETE FROM audit_seals; DELETE FROM audit_log "
                      f"WHERE seq>{n - 5};")
    rc, out, _ = llave(c, "audit", "verify", "--expect-seq", str(last))
    check(rc == 1 and "truncated" in out and
          f"BROKEN at entry {n - 4}:" in out,
          f"tail removed with its seals: caught by --expect-seq: {out.strip()}")


# ---- archive, retention ----------------------------------------------------

def check_archive(d, tmp, serial):
    rc, out, err = llave(d, "archive", "sync")
    check(rc == 0 and "archived" in out, f"archive sync: {out.strip()}")
    rc, out, _ = llave(d, "archive", "verify")
    check(rc == 0 and "archive intact" in out, f"archive verify: {out}")
    kinds = sql(d, "select group_concat(distinct kind) from archive_items")
    check({"cert", "ca", "crl"} <= set(kinds.split(",")),
          f"certificates, CA certificates and CRLs are archived: {kinds}")
    years = int(sql(d, f"select (a.retain_until - c.not_after) / 86400 from "
                       f"archive_items a join certs c on c.serial = a.ref "
                       f"where a.kind='cert' and a.ref='{serial}'"))
    check(years == 5478, f"a certificate is retained 15 years after expiry "
                         f"({years} days)")
    rc, _, err = run(["sqlite3", os.path.join(d, "llave.db"),
                      f"DELETE FROM certs WHERE serial='{serial}'"])
    check(rc != 0 and "retained" in err,
          f"deleting a certificate before its date is refused: {err.strip()}")
    rc, _, err = run(["sqlite3", os.path.join(d, "llave.db"),
                      "UPDATE audit_log SET actor='x' WHERE seq=1"])
    check(rc != 0 and "never rewritten" in err, "audit rows are never updated")
    c = tampered_copy(d, tmp, "archive-edit",
                      f"UPDATE certs SET der=x'3000' WHERE serial='{serial}';")
    rc, out, _ = llave(c, "archive", "verify")
    check(rc == 1 and f"MISMATCH cert {serial}" in out,
          f"an altered certificate is reported: {out.strip()}")
    c = tampered_copy(d, tmp, "archive-both",
                      f"UPDATE certs SET der=x'3000' WHERE serial='{serial}';"
                      f"UPDATE archive_items SET sha256='{'0' * 64}' "
                      f"WHERE ref='{serial}';")
    rc, out, _ = llave(c, "archive", "verify")
    check(rc == 1 and "MISMATCH batch" in out,
          f"altering the record and its hash breaks the batch: {out.strip()}")


# ---- shares, backup, restore -------------------------------------------------

def check_rotation(d, tmp, files):
    rc, out, err = llave(d, *with_shares(files[:2]), "shares", "rotate",
                         input=operator_lines(d, "demo-ca-admin") * 2)
    check(rc != 0 and "two different operators" in err and
          "custodian" not in out,
          f"shares rotate confirmed by one operator twice is refused: "
          f"{err.strip()}")
    rc, out, err = llave(d, *with_shares(files[:2]), "shares", "rotate",
                         input=two_person(d))
    fresh = re.findall(r"custodian \d: (llave-share-\S+)", out)
    check(rc == 0 and len(fresh) == 3, f"shares rotate ({err.strip()})")
    rc, _, err = llave(d, *with_shares(files[1:]), "audit", "seal")
    check(rc != 0 and "does not belong" in err,
          f"old shares stop working: {err.strip()}")
    new = share_files(tmp, fresh, "rotated")
    rc, out, err = llave(d, *with_shares([new[0], new[2]]), "audit", "seal")
    check(rc == 0 and "seal" in out,
          f"the new shares open the same keys ({err.strip()[-200:]})")
    return new


def check_backup(d, tmp, files, cert_pem):
    key = os.path.join(tmp, "custodian.key")
    crt = os.path.join(tmp, "custodian.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-out", crt, "-subj", "/CN=Backup Custodian (GISS)", "-days", "30",
            check_rc=0)
    bundle = os.path.join(tmp, "backup.p7m")
    rc, out, err = llave(d, "backup", "create", bundle, "--recipient", crt)
    check(rc == 0, f"backup create: {out.strip()} {err.strip()}")
    rc, out, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in",
                         bundle)
    check("id-smime-ct-authEnvelopedData" in out and "aes-256-gcm" in out,
          "the bundle is CMS AuthEnvelopedData with AES-256-GCM")
    p = subprocess.run(
        f"openssl cms -decrypt -inform DER -in {bundle} -recip {crt} "
        f"-inkey {key} | tar t", shell=True, capture_output=True, text=True)
    names = p.stdout.split()
    check("llave.db" in names and "keys/keystore.json" in names and
          "manifest.json" in names and
          not any("INSECURE" in n for n in names),
          f"the custodian inspects it with openssl cms -decrypt | tar "
          f"({len(names)} files)")

    busy = os.path.join(tmp, "busy")
    os.makedirs(busy)
    open(os.path.join(busy, "x"), "w").close()
    rc, _, err = run([LLAVE, "restore", bundle, busy, "--key", key])
    check(rc == 1 and "not empty" in err, "restore onto a non-empty directory "
                                          "is refused")
    bad = os.path.join(tmp, "tampered.p7m")
    data = bytearray(open(bundle, "rb").read())
    data[len(data) // 2] ^= 0x01
    open(bad, "wb").write(data)
    target = os.path.join(tmp, "restored-bad")
    rc, _, err = run([LLAVE, "restore", bad, target, "--key", key])
    check(rc == 1 and "integrity" in err and not os.path.exists(target),
          f"a tampered bundle is refused and nothing is written: "
          f"{err.strip()}")

    r = os.path.join(tmp, "restored")
    rc, out, err = run([LLAVE, "restore", bundle, r, "--key", key])
    check(rc == 0, f"restore: {out.strip()} {err.strip()}")
    q = "select serial, status, revoked_at, revocation_reason, hex(der) " \
        "from certs order by serial"
    check(sql(r, q) == sql(d, q), "restored certificates: same DER, same "
                                  "status (sqlite3)")
    check(sql(r, "select count(*) from audit_log where event="
                 "'backup.restore'") == "1", "the restore is audited")
    rc, out, _ = llave(r, "audit", "verify")
    check(rc == 0 and "intact" in out, f"restored audit chain: {out.strip()}")
    rc, _, err = llave(r, "audit", "seal")
    check(rc != 0, "the restored key store is sealed (needs shares)")
    rc, out, err = llave(r, *with_shares(files[:2]), "ca", "export",
                         os.path.join(tmp, "restored-pem"))
    rc2, out2, _ = llave(r, *with_shares(files[:2]), "audit", "seal")
    check(rc2 == 0 and "seal" in out2,
          f"the restored install opens with the custodians' shares "
          f"({err.strip()[-200:]})")
    rc, out, _ = openssl("verify", "-CAfile",
                         os.path.join(tmp, "restored-pem", "root.pem"),
                         "-untrusted",
                         os.path.join(tmp, "restored-pem", "qualified.pem"),
                         cert_pem)
    check(rc == 0, "certificates issued before the backup verify against "
                   "the restored CAs")


# ---- termination ---------------------------------------------------------------

def check_termination(d, tmp, files, cert_pem, serial, pem):
    out_dir = os.path.join(tmp, "termination")
    rc, out, err = llave(d, *with_shares(files[:2]), "termination", "export",
                         out_dir)
    check(rc != 0 and not os.path.exists(os.path.join(out_dir,
                                                      "manifest.json")),
          f"termination export without two operators is refused: "
          f"{err.strip()}")
    rc, out, err = llave(d, *with_shares(files[:2]), "termination", "export",
                         out_dir, input=two_person(d))
    check(rc == 0 and "revoked" in out, f"termination export: {out.strip()} "
                                        f"{err.strip()[-200:]}")
    m = json.load(open(os.path.join(out_dir, "manifest.json")))
    signer = os.path.join(out_dir, "ca", m["signer"] + ".pem")
    pub = os.path.join(tmp, "term-pub.pem")
    openssl("x509", "-in", signer, "-pubkey", "-noout", "-out", pub,
            check_rc=0)
    rc, out, _ = openssl("dgst", "-sha256", "-verify", pub, "-signature",
                         os.path.join(out_dir, "manifest.sig"),
                         os.path.join(out_dir, "manifest.json"))
    check(rc == 0 and "Verified OK" in out, "the manifest signature verifies")
    ok = all(hashlib.sha256(open(os.path.join(out_dir, f["path"]),
                                 "rb").read()).hexdigest() == f["sha256"]
             for f in m["files"])
    check(ok and len(m["files"]) > 10, "every file matches the manifest")
    certs = [json.loads(x) for x in
             open(os.path.join(out_dir, "certificates.jsonl"))]
    mine = [c for c in certs if c["serial"] == serial]
    check(mine and mine[0]["status"] == "revoked" and
          mine[0]["reason"] == "keyCompromise",
          "certificates.jsonl carries status and reason")
    der = open(os.path.join(out_dir, "certs", serial + ".der"), "rb").read()
    check(hashlib.sha256(der).hexdigest() == mine[0]["sha256"],
          "the exported DER is the issued certificate")
    check(os.path.exists(os.path.join(out_dir, "crl", "qualified.crl")) and
          os.path.exists(os.path.join(out_dir, "ocsp", "qualified-ocsp.pem")),
          "last CRLs and OCSP signer certificates are exported")
    rc, out, _ = openssl("crl", "-inform", "DER", "-in",
                         os.path.join(out_dir, "crl", "qualified.crl"),
                         "-noout", "-text")
    check(serial in out, "the exported CRL lists the revoked certificate")

    # another provider serves the index with its own responder key
    rkey, rcrt = (os.path.join(tmp, n) for n in ("resp.key", "resp.pem"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rkey,
            "-out", rcrt, "-subj", "/CN=Successor OCSP", "-days", "30",
            check_rc=0)
    ca = os.path.join(out_dir, "ca", "qualified.pem")
    req, resp = (os.path.join(tmp, n) for n in ("term.ocq", "term.ocs"))
    openssl("ocsp", "-issuer", ca, "-cert", cert_pem, "-no_nonce", "-reqout",
            req, check_rc=0)
    rc, out, err = openssl("ocsp", "-index",
                           os.path.join(out_dir, "index", "qualified.txt"),
                           "-CA", ca, "-rsigner", rcrt, "-rkey", rkey,
                           "-reqin", req, "-respout", resp)
    rc, out, err = openssl("ocsp", "-respin", resp, "-issuer", ca, "-cert",
                           cert_pem, "-VAfile", rcrt, "-no_nonce")
    check("revoked" in out and "keyCompromise" in out,
          f"openssl ocsp -index answers revoked for it: {out.strip()[-120:]}")
    tsa = os.path.join(out_dir, "ca", "tsa.pem")
    openssl("ocsp", "-issuer", ca, "-cert", tsa, "-no_nonce", "-reqout", req,
            check_rc=0)
    openssl("ocsp", "-index", os.path.join(out_dir, "index", "qualified.txt"),
            "-CA", ca, "-rsigner", rcrt, "-rkey", rkey, "-reqin", req,
            "-respout", resp)
    rc, out, _ = openssl("ocsp", "-respin", resp, "-issuer", ca, "-cert", tsa,
                         "-VAfile", rcrt, "-no_nonce")
    check(": good" in out, "and good for a valid one")


def main():
    tmp = workdir("custody")
    try:
        d, shares = production_install(tmp)
        files = share_files(tmp, shares, "orig")
        pem = os.path.join(tmp, "pem")
        llave(d, "ca", "export", pem, check_rc=0)
        check_unseal(d, tmp, shares, files)
        cert_pem, serial = issue_and_revoke(d, tmp, files)
        seal = check_seals(d, tmp, files, pem)
        check_tampering(d, tmp, seal)
        check_archive(d, tmp, serial)
        new = check_rotation(d, tmp, files)
        check_backup(d, tmp, new, cert_pem)
        check_termination(d, tmp, new, cert_pem, serial, pem)
    finally:
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
