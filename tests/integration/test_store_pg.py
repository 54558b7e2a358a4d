"""Issue 17 item 1: the PostgreSQL back end of store/, through the real
`llave` commands on a throw-away PostgreSQL (lvpg.py), judged with psql and
the openssl command line.

- `llave init` with "store": {"driver": "postgresql", ...} creates the
  schema in an empty database (every migration, sql/pg/009's PL/pgSQL
  triggers) and no DIR/llave.db; a second init on the same database is
  refused.
- issuance, revocation and a CRL: the certificate verifies against the
  exported chain, psql sees its row and its revocation, the CRL lists it.
- the audit trail: `llave audit verify` intact; an UPDATE, DELETE or
  TRUNCATE of audit rows through psql fails (R9.2), as do deleting a
  recent certificate and rewriting its DER (R9.3), even as superuser.
- two `llave` processes issuing at once: distinct serials, one audit chain.
- the service role of deploy/postgresql-roles.sql issues and verifies, but
  may not DELETE audit rows (permission denied before any trigger).
- an unreachable server is a clear error.
- inside a transaction a refused insert (unique violation) fails that
  statement only, as on SQLite, and the transaction goes on and commits
  (store_probe, through the driver's pipelined savepoint).
"""
import json
import os
import subprocess
import sys

import lvpg
from lvtest import (LLAVE, SOURCE, SUBJECTS, check, cleanup, finish, llave,
                    openssl, run, workdir)

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(n):
    return f"{n:08d}{DNI_LETTERS[n % 23]}"


def issue(d, tmp, n):
    with open(os.path.join(SUBJECTS, "natural-person-cloud.json")) as f:
        subject = json.load(f)
    subject["id_number"] = dni(n)
    path = os.path.join(tmp, f"subject-{n}.json")
    with open(path, "w") as f:
        json.dump(subject, f)
    out = os.path.join(tmp, f"cert-{n}.pem")
    rc, _, err = llave(d, "cert", "issue", "natural-person-cloud",
                       "--subject", path, "--out", out)
    return rc, out, err


def serial_of(pem):
    out = openssl("x509", "-in", pem, "-noout", "-serial", check_rc=0)[1]
    return out.strip().split("=")[1]


def init_pg(pg, tmp, db, name):
    conninfo = pg.create_db(db)
    cfg = os.path.join(tmp, f"{name}.json")
    with open(cfg, "w") as f:
        json.dump({"store": {"driver": "postgresql", "conninfo": conninfo}}, f)
    d = os.path.join(tmp, name)
    # run() would give this init a database of its own under
    # LLAVE_TEST_STORE=postgresql; this test names its own.
    p = subprocess.run([LLAVE, "init", d, "--demo", "--config", cfg],
                       capture_output=True, text=True)
    return p.returncode, p.stderr, d, cfg


def check_init(pg, tmp):
    rc, err, d, cfg = init_pg(pg, tmp, "llave", "demo")
    check(rc == 0, f"llave init on an empty PostgreSQL database: {err[-300:]}")
    check(not os.path.exists(os.path.join(d, "llave.db")),
          "no DIR/llave.db on PostgreSQL")
    with open(os.path.join(d, "llave.json")) as f:
        saved = json.load(f)
    check(saved.get("store_driver") == "postgresql" and
          "dbname=llave" in saved.get("store_conninfo", ""),
          "llave.json keeps the store's driver and conninfo")
    _, versions, _ = pg.psql("llave", "SELECT string_agg(name, ',' ORDER BY"
                             " version) FROM schema_migrations")
    names = sorted(f[:-4] for f in os.listdir(os.path.join(SOURCE, "sql"))
                   if f.endswith(".sql"))
    check(versions == ",".join(names),
          f"every migration recorded ({len(names)})")
    _, trig, _ = pg.psql("llave", "SELECT count(*) FROM pg_trigger WHERE "
                         "tgname = 'audit_log_no_update'")
    check(trig == "1", "sql/pg/009_retention.sql's triggers are installed")
    _, n, _ = pg.psql("llave", "SELECT count(*) FROM cas")
    check(int(n) >= 4, f"the ceremony's CAs are in PostgreSQL ({n})")
    # the ceremony runs once per database
    d2 = os.path.join(tmp, "again")
    p = subprocess.run([LLAVE, "init", d2, "--demo", "--config", cfg],
                       capture_output=True, text=True)
    check(p.returncode != 0 and "already holds" in p.stderr,
          "a second init on the same database is refused")
    return d


def check_issue_revoke_crl(pg, d, tmp):
    pem = os.path.join(tmp, "pem")
    llave(d, "ca", "export", pem, check_rc=0)
    rc, cert, err = issue(d, tmp, 1)
    check(rc == 0, f"cert issue on PostgreSQL {err[-200:]}")
    if rc != 0:
        return
    chain = os.path.join(tmp, "chain.pem")
    with open(chain, "w") as out:
        for name in ("qualified",):
            with open(os.path.join(pem, f"{name}.pem")) as f:
                out.write(f.read())
    rc, out, err = openssl("verify", "-x509_strict", "-CAfile",
                           os.path.join(pem, "root.pem"), "-untrusted", chain,
                           cert)
    check(rc == 0, f"openssl verifies the certificate: {out}{err}")
    serial = serial_of(cert)
    _, row, _ = pg.psql("llave", "SELECT status, profile FROM certs WHERE "
                        f"upper(serial) = upper('{serial}')")
    check(row == "0|natural-person-cloud", f"psql sees the certificate: {row}")
    rc, _, err = llave(d, "cert", "revoke", serial, "--reason",
                       "keyCompromise")
    check(rc == 0, f"cert revoke {err[-200:]}")
    _, row, _ = pg.psql("llave", "SELECT status, revocation_reason FROM certs "
                        f"WHERE upper(serial) = upper('{serial}')")
    check(row == "1|1", f"psql sees the revocation (status 1, reason 1): {row}")
    _, audit, _ = pg.psql("llave", "SELECT count(*) FROM audit_log WHERE "
                          "event = 'cert.revoke' AND result = 'success'")
    check(audit == "1", "the revocation and its audit entry committed together")
    rc, _, err = llave(d, "crl", "generate", "qualified")
    check(rc == 0, f"crl generate {err[-200:]}")
    crl = os.path.join(tmp, "qualified.crl")
    rc, _, err = llave(d, "crl", "export", "qualified", crl)
    check(rc == 0, f"crl export {err[-200:]}")
    text = ""
    for form in ("DER", "PEM"):
        rc, text, _ = openssl("crl", "-inform", form, "-in", crl, "-noout",
                              "-text")
        if rc == 0:
            break
    plain = serial.upper().lstrip("0")
    check(plain in text.replace(":", "").upper(),
          "openssl reads the CRL and it lists the revoked serial")
    rc, _, _ = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                       "-CAfile", chain)
    _, n, _ = pg.psql("llave", "SELECT count(*) FROM crls WHERE ca = "
                      "'qualified'")
    check(int(n) >= 1, f"the CRL is archived in PostgreSQL ({n})")


def refused(pg, query, what, user=lvpg.SUPERUSER, needle=None):
    rc, _, err = pg.psql("llave", query, user=user, check=False)
    ok = rc != 0 and (needle is None or needle in err)
    check(ok, f"{what}: {err.strip()[:120]}")


def check_guards(pg, d):
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit verify: {out.strip()}")
    refused(pg, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 5",
            "psql UPDATE of an audit row fails (R9.2)", needle="never rewritten")
    refused(pg, "DELETE FROM audit_log WHERE seq = 5",
            "psql DELETE of a recent audit row fails (R9.2)",
            needle="retained 15 years")
    refused(pg, "TRUNCATE audit_log", "psql TRUNCATE of the audit trail fails",
            needle="retained")
    refused(pg, "DELETE FROM certs", "recent certificates are not deleted "
            "(R9.3)", needle="retained 15 years")
    refused(pg, "UPDATE certs SET der = '\\x00'::bytea",
            "an issued certificate's DER is never rewritten (R9.3)",
            needle="never rewritten")
    refused(pg, "DELETE FROM crls", "published CRLs are kept (R9.3)",
            needle="retained")
    _, n, _ = pg.psql("llave", "SELECT count(*) FROM audit_log WHERE "
                      "actor = 'mallory'")
    check(n == "0", "nothing was rewritten")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, "audit trail still intact")
    # an attacker who owns the tables drops the trigger: verify notices
    pg.psql("llave", "DROP TRIGGER audit_log_no_update ON audit_log; "
            "UPDATE audit_log SET actor = 'mallory' WHERE seq = 5")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc != 0 and "entry 5" in out, f"edited audit entry found: {out}")


def check_concurrent(pg, tmp):
    """Two processes issue at once: begin's advisory lock keeps serials
    unique and the audit chain one chain."""
    rc, err, d, _ = init_pg(pg, tmp, "busy", "busy")
    check(rc == 0, f"second install for the concurrency check {err[-200:]}")
    if rc != 0:
        return
    script = ("import json,os,subprocess,sys\n"
              "d,tmp,subj,base=sys.argv[1:5]\n"
              "s=json.load(open(subj))\n"
              "bad=0\n"
              "for i in range(6):\n"
              "  n=int(base)+i\n"
              "  s['id_number']='%08d%s'%(n,'TRWAGMYFPDXBNJZSQVHLCKE'[n%23])\n"
              "  p=os.path.join(tmp,'s%d.json'%n)\n"
              "  json.dump(s,open(p,'w'))\n"
              "  r=subprocess.run([sys.argv[5],'-d',d,'cert','issue',"
              "'natural-person-cloud','--subject',p,'--out',"
              "os.path.join(tmp,'c%d.pem'%n)],capture_output=True)\n"
              "  bad+=r.returncode!=0\n"
              "sys.exit(bad)\n")
    subj = os.path.join(SUBJECTS, "natural-person-cloud.json")
    procs = [subprocess.Popen([sys.executable, "-c", script, d, tmp, subj,
                               str(base), LLAVE])
             for base in (100, 200)]
    codes = [p.wait(timeout=600) for p in procs]
    check(codes == [0, 0], f"two concurrent issuers succeed ({codes})")
    _, n, _ = pg.psql("busy", "SELECT count(*), count(DISTINCT serial) FROM "
                      "certs WHERE profile = 'natural-person-cloud'")
    check(n == "12|12", f"12 certificates, 12 distinct serials ({n})")
    _, gaps, _ = pg.psql("busy", "SELECT max(seq) - count(*) + 1 FROM "
                         "audit_log")
    check(gaps == "1", "audit sequence has no gaps")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"one audit chain: {out.strip()}")


def check_service_role(pg, d, tmp):
    roles = os.path.join(SOURCE, "deploy", "postgresql-roles.sql")
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v",
                        "service=llave_service", "-d", pg.conninfo("llave"),
                        "-f", roles], capture_output=True, text=True)
    check(p.returncode == 0, f"deploy/postgresql-roles.sql applies {p.stderr}")
    # the same install, connecting as the service role
    path = os.path.join(d, "llave.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["store_conninfo"] = pg.conninfo("llave", user="llave_service")
    with open(path, "w") as f:
        json.dump(cfg, f)
    rc, cert, err = issue(d, tmp, 7)
    check(rc == 0, f"the service role issues a certificate {err[-200:]}")
    refused(pg, "DELETE FROM audit_log WHERE seq = 1",
            "the service role may not DELETE audit rows",
            user="llave_service", needle="permission denied")
    refused(pg, "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
            "the service role may not UPDATE audit rows",
            user="llave_service", needle="permission denied")
    refused(pg, "DROP TRIGGER audit_log_retained ON audit_log",
            "the service role may not drop the guards",
            user="llave_service")


def check_statement_failure(pg):
    probe = os.path.join(os.environ.get("LLAVE_BUILD_DIR", ""), "tests",
                         "store_probe")
    conninfo = pg.create_db("probe")  # store_open migrates it
    p = subprocess.run([probe, "pg:" + conninfo], capture_output=True,
                       text=True)
    check(p.returncode == 0,
          "a refused insert inside a transaction fails that statement "
          f"only:\n{p.stdout}{p.stderr}")


def check_unreachable(tmp):
    d = os.path.join(tmp, "nowhere")
    cfg = os.path.join(tmp, "nowhere.json")
    with open(cfg, "w") as f:
        json.dump({"store_driver": "postgresql",
                   "store_conninfo": "host=127.0.0.1 port=1 dbname=x "
                   "connect_timeout=3"}, f)
    p = subprocess.run([LLAVE, "init", d, "--demo", "--config", cfg],
                       capture_output=True, text=True)
    check(p.returncode != 0 and "postgresql" in p.stderr,
          f"an unreachable server is a clear error: {p.stderr.strip()[-150:]}")
    with open(cfg, "w") as f:
        json.dump({"store_driver": "postgresql"}, f)
    p = subprocess.run([LLAVE, "init", d, "--demo", "--config", cfg],
                       capture_output=True, text=True)
    check(p.returncode != 0 and "store_conninfo" in p.stderr,
          "the postgresql driver without store_conninfo is refused")


def main():
    if not lvpg.available():
        print("SKIP: no PostgreSQL in /usr/lib/postgresql/*/bin")
        sys.exit(0)
    tmp = workdir("store-pg")
    pg = lvpg.Cluster()
    try:
        d = check_init(pg, tmp)
        check_issue_revoke_crl(pg, d, tmp)
        check_guards(pg, d)
        check_service_role(pg, d, tmp)
        check_concurrent(pg, tmp)
        check_unreachable(tmp)
        check_statement_failure(pg)
    finally:
        pg.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
