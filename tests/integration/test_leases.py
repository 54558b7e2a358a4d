"""Issue 17 item 2: several llaved on one database run each background job
on exactly one node at a time, and a survivor takes a job over when the
node holding it dies.

Two real llaved on one data directory (one database), jobs every second or
two; the job_leases table is read with sqlite3, the nodes are stopped by
PID (SIGTERM, and SIGKILL for a crash)."""
import json
import os
import signal
import time

from lvtest import Server, check, cleanup, demo_install, finish, sql, workdir

JOBS = ("CRL keeper", "OCSP refresher", "audit sealer", "sign: purge")


def configure(d):
    path = os.path.join(d, "llave.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg.update({"crl_check_seconds": 1, "ocsp_refresh_interval": 1,
                "purge_interval_seconds": 1, "audit_seal_minutes": 1})
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


def holders(d):
    """{job: (holder pid, expires_at)} as the database has it."""
    out = sql(d, "select job || '|' || holder || '|' || expires_at "
                 "from job_leases")
    rows = {}
    for line in filter(None, out.splitlines()):
        job, holder, expires = line.split("|")
        parts = holder.split(":")  # host:pid:random (lv_node_id)
        local = len(parts) == 3 and parts[0] != "elsewhere"
        rows[job] = (int(parts[1]) if local else holder, int(expires))
    return rows


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.3)
    return pred()


def job_names(d):
    return set(holders(d))


def main():
    tmp = workdir("leases")
    d, _ = demo_install(tmp)
    configure(d)
    a = Server(d)
    b = Server(d)
    try:
        names = wait_for(lambda: job_names(d) >= {"OCSP refresher"}, 20)
        rows = holders(d)
        check(set(rows) & set(JOBS) == set(rows),
              f"the leases name the background jobs ({sorted(rows)})")
        pids = {a.proc.pid, b.proc.pid}
        check(all(h in pids for h, _ in rows.values()),
              f"each lease is held by one of the two nodes ({rows})")
        # renewed, not taken over, while its holder lives
        first = {j: h for j, (h, _) in rows.items()}
        time.sleep(4)
        rows2 = holders(d)
        check(all(rows2[j][0] == first[j] for j in first),
              f"a living holder keeps its jobs ({first} -> {rows2})")
        check(all(rows2[j][1] > rows[j][1] for j in first),
              "and renews its leases at every pass")

        # a crash: the other node takes every job of the dead one over
        victim = a if a.proc.pid in first.values() else b
        survivor = b if victim is a else a
        check("OCSP refresher: " in victim.read_log() and
              "OCSP refresher: " not in survivor.read_log(),
              "only the holder's refresher signed responses (the logs)")
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        t0 = time.monotonic()
        moved = wait_for(lambda: all(
            h == survivor.proc.pid for h, _ in holders(d).values()), 15)
        took = time.monotonic() - t0
        check(moved, f"after kill -9 of a node the survivor holds every "
                     f"job within {took:.1f} s ({holders(d)})")

        # another host's lease (not checkable by pid) is waited out, then
        # taken over
        now = int(time.time())
        sql(d, "update job_leases set holder='elsewhere:1:00000000', "
               f"expires_at={now + 4} where job='CRL keeper'")
        time.sleep(2)
        still = holders(d)["CRL keeper"][0]
        check(still == "elsewhere:1:00000000",
              f"an unexpired lease of another host is respected ({still})")
        back = wait_for(lambda: holders(d)["CRL keeper"][0] ==
                        survivor.proc.pid, 12)
        check(back, "once it ran out, the survivor takes the job "
                    f"({holders(d)['CRL keeper']})")

        # a clean stop hands the jobs over at once (lease ended now)
        c = Server(d)
        try:
            check(survivor.stop() == 0, "the survivor stops cleanly")
            # the audit sealer passes every 10 s, the others every second
            gone = wait_for(lambda: all(
                h == c.proc.pid for h, _ in holders(d).values()), 15)
            check(gone, f"after a clean stop the next node holds every job "
                        f"at its next pass ({holders(d)})")
        finally:
            check(c.stop() == 0, "the third node stops cleanly")
    finally:
        for s in (a, b):
            if s.proc.poll() is None:
                s.stop()
            else:
                s.log.close()
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
