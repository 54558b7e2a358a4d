"""Issue 17 item 1: `llave -d DIR store migrate --to CONNINFO` moves an
SQLite install into a throw-away PostgreSQL (lvpg.py), judged with sqlite3,
psql and the openssl command line.

- refusals, each leaving the target database and llave.json unchanged: a
  target that already holds a table, a source table the schema lacks (it
  would be left behind), llaved running on DIR, a source whose
  audit row was rewritten by someone holding the file (the SQLite no-update
  trigger dropped first);
- the migration: every table's rows counted with sqlite3 and psql (the
  audit trail one more: the migration's own entry), certificate DER and
  audit hashes byte for byte, `llave audit verify` on PostgreSQL, llave.json
  switched with the old one kept as llave.json.sqlite;
- llaved on the migrated store: `openssl ocsp -respin` with -VAfile states
  the migrated revocation, the CRL verifies with `openssl verify
  -crl_check`, a new issuance gets a serial none of the migrated ones has.
"""
import json
import os
import re

import lvpg
from lvtest import (SUBJECTS, Server, check, cleanup, demo_install, finish,
                    llave, openssl, run, sql, workdir)

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def issue(d, tmp, n):
    with open(os.path.join(SUBJECTS, "natural-person-cloud.json")) as f:
        subject = json.load(f)
    subject["id_number"] = f"{n:08d}{DNI_LETTERS[n % 23]}"
    path = os.path.join(tmp, f"subject-{n}.json")
    with open(path, "w") as f:
        json.dump(subject, f)
    out = os.path.join(tmp, f"cert-{n}.pem")
    llave(d, "cert", "issue", "natural-person-cloud", "--subject", path,
          "--out", out, check_rc=0)
    serial = openssl("x509", "-in", out, "-noout", "-serial",
                     check_rc=0)[1].strip().split("=")[1]
    return out, serial


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tables(pg, db):
    return pg.psql(db, "SELECT string_agg(tablename, ',' ORDER BY tablename)"
                   " FROM pg_tables WHERE schemaname = 'public'")[1]


def migrate(d, conninfo):
    rc, out, err = llave(d, "store", "migrate", "--to", conninfo)
    return rc, out + err


def check_refused(pg, d, db, what, reason):
    """A refused migration: non-zero, the reason said, llave.json and the
    target as they were."""
    conninfo = pg.conninfo(db)
    before_cfg = read(os.path.join(d, "llave.json"))
    before_tables = tables(pg, db)
    rc, out = migrate(d, conninfo)
    check(rc != 0 and re.search(reason, out),
          f"refused: {what} ({out.strip().splitlines()[-1:]})")
    check(read(os.path.join(d, "llave.json")) == before_cfg and
          not os.path.exists(os.path.join(d, "llave.json.sqlite")),
          f"refused ({what}): llave.json unchanged")
    check(tables(pg, db) == before_tables,
          f"refused ({what}): the target database unchanged")


def check_refusals(pg, tmp, d):
    pg.create_db("busy")
    pg.psql("busy", "CREATE TABLE mine (x INTEGER); INSERT INTO mine"
            " VALUES (1)")
    check_refused(pg, d, "busy", "non-empty target", "not empty")
    check(pg.psql("busy", "SELECT x FROM mine")[1] == "1",
          "the non-empty target keeps its row")

    # A table of the source the schema does not know is not left behind.
    sql(d, "CREATE TABLE stray (x INTEGER); INSERT INTO stray VALUES (1)")
    pg.create_db("stray")
    check_refused(pg, d, "stray", "a source table the schema lacks",
                  "table stray the target's schema lacks")
    sql(d, "DROP TABLE stray")

    pg.create_db("while_running")
    srv = Server(d)
    try:
        check_refused(pg, d, "while_running", "llaved running",
                      r"llaved \(pid \d+\) is running")
    finally:
        srv.stop()

    # Someone holding the file rewrites an entry: SQLite's no-update
    # trigger is in the file too, so they drop it first.
    other = os.path.join(tmp, "other")  # its own pem/ beside it
    os.makedirs(other)
    t, _ = demo_install(other, "tampered")
    sql(t, "DROP TRIGGER audit_log_no_update;"
        " UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    pg.create_db("from_tampered")
    check_refused(pg, t, "from_tampered", "tampered source audit row",
                  "BROKEN at entry 3")


def sqlite_tables(d):
    return sql(d, "SELECT name FROM sqlite_master WHERE type = 'table' AND"
               " name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'"
               " ORDER BY name").split()


def check_copy(pg, d, entries):
    for t in sqlite_tables(d):
        a = int(sql(d, f"SELECT COUNT(*) FROM {t}"))
        b = int(pg.psql("llave", f"SELECT COUNT(*) FROM {t}")[1])
        want = a + 1 if t == "audit_log" else a
        check(b == want, f"{t}: {a} row(s) in SQLite, {b} in PostgreSQL")
    a = sql(d, "SELECT serial || ':' || hex(der) FROM certs ORDER BY serial")
    b = pg.psql("llave", "SELECT serial || ':' || upper(encode(der, 'hex'))"
                " FROM certs ORDER BY serial")[1]
    check(a == b and len(a) > 1000, "certificate DER byte for byte")
    a = sql(d, "SELECT seq || ':' || hash || ':' || COALESCE(details, '')"
            " FROM audit_log ORDER BY seq")
    b = pg.psql("llave", "SELECT seq || ':' || hash || ':' ||"
                " COALESCE(details, '') FROM audit_log WHERE seq <= "
                f"{entries} ORDER BY seq")[1]
    check(a == b, "audit rows (hashes, details) as they were")
    last = pg.psql("llave", "SELECT event || '|' || object || '|' || details"
                   " FROM audit_log ORDER BY seq DESC LIMIT 1")[1]
    check(last.startswith("store.migrate|") and "llave.db" in last and
          '"certs"' in last, f"the migration is audited: {last[:120]}")


def check_migrated(pg, tmp, d, revoked, revoked_serial, good):
    entries = int(sql(d, "SELECT COUNT(*) FROM audit_log"))
    old_cfg = read(os.path.join(d, "llave.json"))
    conninfo = pg.create_db("llave")
    rc, out = migrate(d, conninfo)
    check(rc == 0, f"store migrate: {out[-400:]}")
    for line in ("audit trail in SQLite intact", "committed:",
                 "audit trail on PostgreSQL intact", "row counts match",
                 "llave.json now names the postgresql driver"):
        check(line in out, f"migrate says: {line}")
    check(read(os.path.join(d, "llave.json.sqlite")) == old_cfg,
          "the old llave.json is kept as llave.json.sqlite")
    with open(os.path.join(d, "llave.json")) as f:
        cfg = json.load(f)
    check(cfg.get("store_driver") == "postgresql" and
          cfg.get("store_conninfo") == conninfo,
          "llave.json names the postgresql driver and the target")
    # sql() follows llave.json; the SQLite file is read directly now
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    os.symlink(os.path.join(d, "llave.db"), os.path.join(src, "llave.db"))
    check_copy(pg, src, entries)
    rc, out, err = llave(d, "audit", "verify")
    check(rc == 0 and f"intact: {entries + 1} entries" in out,
          f"llave audit verify on PostgreSQL: {out}{err}")
    rc, out = migrate(d, pg.conninfo("llave"))
    check(rc != 0 and "already uses PostgreSQL" in out,
          "a second migrate is refused")
    check_serve(tmp, d, revoked, revoked_serial, good)


def check_serve(tmp, d, revoked, revoked_serial, good):
    pem = os.path.join(tmp, "pem")
    srv = Server(d)
    try:
        req = os.path.join(tmp, "req.der")
        openssl("ocsp", "-issuer", f"{pem}/qualified.pem", "-cert", revoked,
                "-no_nonce", "-reqout", req, check_rc=0)
        st, _, body = srv.post("/ocsp", read(req), "application/ocsp-request")
        resp = os.path.join(tmp, "resp.der")
        with open(resp, "wb") as f:
            f.write(body)
        rc, out, err = openssl("ocsp", "-respin", resp, "-issuer",
                               f"{pem}/qualified.pem", "-cert", revoked,
                               "-VAfile", f"{pem}/qualified-ocsp.pem")
        check(st == 200 and rc == 0 and "Response verify OK" in out + err and
              f"{revoked}: revoked" in out and "keyCompromise" in out,
              f"OCSP on the migrated store: revoked ({out}{err})")
        st, _, body = srv.get("/crl/qualified.crl")
        der = os.path.join(tmp, "qualified.crl.der")
        with open(der, "wb") as f:
            f.write(body)
        crl = os.path.join(tmp, "qualified.crl.pem")
        openssl("crl", "-inform", "DER", "-in", der, "-out", crl, check_rc=0)
        args = ["verify", "-crl_check", "-CAfile", f"{pem}/root.pem",
                "-untrusted", f"{pem}/chain.pem", "-CRLfile", crl]
        rc, out, err = openssl(*args, good)
        check(st == 200 and rc == 0, f"CRL verifies, good is good {out}{err}")
        rc, out, err = openssl(*args, revoked)
        check(rc != 0 and "certificate revoked" in out + err,
              "openssl verify -crl_check: the revoked one is revoked")
        before = set(sql(d, "SELECT serial FROM certs").split())
        _, serial = issue(d, tmp, 99)
        check(serial.upper() not in {s.upper() for s in before} and
              int(sql(d, "SELECT COUNT(*) FROM certs")) == len(before) + 1,
              f"a new issuance on PostgreSQL: serial {serial} is new")
        check(revoked_serial.upper() in {s.upper() for s in before},
              "the revoked serial was migrated")
    finally:
        srv.stop()


def main():
    if not lvpg.available():
        print("SKIP: no PostgreSQL in /usr/lib/postgresql/*/bin")
        return 0
    tmp = workdir("migrate")
    try:
        with lvpg.Cluster() as pg:
            d, _ = demo_install(tmp)
            good, _ = issue(d, tmp, 1)
            revoked, revoked_serial = issue(d, tmp, 2)
            issue(d, tmp, 3)
            llave(d, "cert", "revoke", revoked_serial, "--reason",
                  "keyCompromise", check_rc=0)
            llave(d, "crl", "generate", check_rc=0)
            check_refusals(pg, tmp, d)
            check_migrated(pg, tmp, d, revoked, revoked_serial, good)
    finally:
        cleanup(tmp)
    return finish()


if __name__ == "__main__":
    raise SystemExit(main())
