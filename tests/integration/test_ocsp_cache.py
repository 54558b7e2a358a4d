"""Issue 17 item 5: llaved's per-node cache of OCSP answers (ocsp_cache_mib,
src/ocsp/ocsp_cache.c) with real llaved processes and the `openssl ocsp`
client as judge:
  - a revocation made on this data directory (`llave cert revoke`) is
    answered revoked at once by both nodes running on it, although both
    had the good answer cached;
  - a revocation no llave process announces (written with sqlite3/psql,
    as a node on another host would) reaches both nodes within the
    watcher's bound (1 s poll; 3 s allowed here);
  - on PostgreSQL: with the database server stopped under a running
    llaved, cached serials keep their signed answers (verified again with
    `openssl ocsp -respin`), other serials and nonce requests get tryLater
    (RFC 6960 §2.3), and llaved keeps running."""
import json
import os
import time

import lvpg
from lvtest import (LLAVE, Server, check, cleanup, demo_install, finish, run,
                    sql, workdir)
from test_ocsp import Ocsp, issue_person, revoke, serial_of, statuses

BOUND = 3  # seconds allowed for the watcher's 1 s poll


def ask_until(o, cert, want, timeout):
    """Asks until the answer states `want` or timeout s passed; returns
    (seconds it took, last output)."""
    start = time.monotonic()
    while True:
        rc, out = o.ask("qualified", [cert], extra=["-no_nonce"])
        took = time.monotonic() - start
        if statuses(out).get(cert) == want or took > timeout:
            return took, out
        time.sleep(0.1)


def good_everywhere(nodes, cert):
    return all(statuses(o.ask("qualified", [cert], extra=["-no_nonce"])[1])
               .get(cert) == "good" for o in nodes)


def check_two_nodes(tmp):
    d, pem = demo_install(tmp)
    a, b = Server(d), Server(d)
    try:
        oa, ob = Ocsp(a, pem, tmp), Ocsp(b, pem, tmp)
        c1, c2 = issue_person(d, tmp, 1), issue_person(d, tmp, 2)
        # twice each: the first fills the cache (lazy signature or stored
        # response), the second is a hit
        check(good_everywhere([oa, ob, oa, ob], c1)
              and good_everywhere([oa, ob, oa, ob], c2),
              "both nodes answer good (and keep the answer)")
        rc, err = revoke(d, serial_of(c1), "keyCompromise")
        check(rc == 0, f"llave cert revoke ({err.strip()})")
        for name, o in (("this node", oa), ("the other node", ob)):
            rc, out = o.ask("qualified", [c1], extra=["-no_nonce"])
            check(statuses(out).get(c1) == "revoked"
                  and "Response verify OK" in out,
                  f"{name}: revoked at once after llave cert revoke")
        # the revocation above made both nodes read the database until
        # their watchers caught up (a second); then c2 is served from memory
        time.sleep(2)
        check(good_everywhere([oa, ob], c2), "c2 still good on both nodes")
        sql(d, "UPDATE certs SET status = 1, revocation_reason = 1, "
               f"revoked_at = {int(time.time())} "
               f"WHERE serial = '{serial_of(c2)}'")
        for name, o in (("node a", oa), ("node b", ob)):
            took, out = ask_until(o, c2, "revoked", BOUND + 2)
            check(statuses(out).get(c2) == "revoked" and took <= BOUND,
                  f"{name}: an unannounced revocation is seen within "
                  f"{BOUND} s (took {took:.1f} s)")
    finally:
        check(a.stop() == 0 and b.stop() == 0, "both nodes stop cleanly")


def pg_install(tmp, cluster):
    conf = os.path.join(tmp, "pg.json")
    with open(conf, "w") as f:
        json.dump({"store_driver": "postgresql",
                   "store_conninfo": cluster.create_db("ocspcache",
                                                       sqlite_compat=True)},
                  f)
    d = os.path.join(tmp, "pgdemo")
    run([LLAVE, "init", d, "--demo", "--config", conf], check_rc=0)
    pem = os.path.join(tmp, "pgpem")
    run([LLAVE, "-d", d, "ca", "export", pem], check_rc=0)
    return d, pem


def check_database_loss(tmp):
    if not lvpg.available():
        print("skip database loss: no PostgreSQL (Debian postgresql)")
        return
    cluster = lvpg.Cluster()
    d, pem = pg_install(tmp, cluster)
    srv = Server(d)
    try:
        o = Ocsp(srv, pem, tmp)
        cached, other = issue_person(d, tmp, 3), issue_person(d, tmp, 4)
        check(good_everywhere([o, o], cached), "PostgreSQL: answered good")
        cluster.stop()  # pg_ctl -m immediate: the connections die
        saved = os.path.join(tmp, "saved.der")
        rc, out = o.ask("qualified", [cached],
                        extra=["-no_nonce", "-respout", saved])
        check(statuses(out).get(cached) == "good"
              and "Response verify OK" in out,
              "database stopped: a cached serial is still answered, signed")
        rc, out, err = run(["openssl", "ocsp", "-respin", saved,
                            "-issuer", os.path.join(pem, "qualified.pem"),
                            "-cert", cached,
                            "-CAfile", os.path.join(pem, "root.pem"),
                            "-verify_other", os.path.join(pem, "chain.pem")])
        check(rc == 0 and "Response verify OK" in out + err
              and f"{cached}: good" in out,
              "that answer verifies with openssl ocsp -respin")
        rc, out = o.ask("qualified", [other], extra=["-no_nonce"])
        check("Responder Error: trylater" in out,
              "database stopped: an uncached serial gets tryLater")
        rc, out = o.ask("qualified", [cached])
        check("Responder Error: trylater" in out
              or statuses(out).get(cached) == "good",
              "database stopped: a nonce request gets tryLater (or the "
              f"cached answer): {out[-300:]}")
        check(srv.proc.poll() is None, "llaved keeps running")
    finally:
        srv.stop()
        cluster.stop()


def main():
    tmp = workdir("ocsp-cache")
    try:
        check_two_nodes(tmp)
        check_database_loss(tmp)
    finally:
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
