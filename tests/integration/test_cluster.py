"""Issue 17 item 6 (cluster part): two llaved + keyd nodes on one PostgreSQL
behind HAProxy, as `scripts/cluster up` starts them.

  - a storm of registrations, issuances and revocations from three operator
    sessions, threads hitting node1, node2 and HAProxy at once: serials
    unique in PostgreSQL (psql), one audit chain (`llave audit verify`),
    each node's CRL (`openssl crl`) and OCSP answers (`openssl ocsp
    -respin`) agreeing with the database;
  - a second storm through HAProxy and the nodes during which the node
    holding the background jobs gets `kill -9`: every request answered 2xx
    is in the database afterwards, HAProxy marks the node down and answers
    every request started after its health checks (2 x 2 s) had time, the
    job leases move to the survivor within 15 s;
  - `scripts/cluster status` sees it, `down` leaves no process behind.

The other node's OCSP answer for a fresh revocation may lag by the refresh
bound (ocsp_refresh_interval here 1 s, plus the change poll of the node's
OCSP cache): the OCSP check retries for up to OCSP_BOUND seconds."""
import glob
import itertools
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import urllib.request

from lvtest import (BUILD, LLAVE, SOURCE, check, cleanup, finish, openssl, run,
                    workdir)
from test_ra import cif, totp

CLUSTER = os.path.join(SOURCE, "scripts", "cluster")
OCSP_BOUND = 10    # s: a revocation reaches the other node's OCSP answers
JOBS_BOUND = 15    # s: the survivor holds every job lease after a kill -9
JOBS = {"CRL keeper", "OCSP refresher", "audit sealer", "sign: purge"}


def cluster(env, *args):
    p = subprocess.run([CLUSTER, *args], env=env, capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


class Cluster:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "cluster")
        conf = os.path.join(tmp, "extra.json")
        with open(conf, "w") as f:
            # jobs every second, so that a takeover shows within the test
            json.dump({"crl_check_seconds": 1, "ocsp_refresh_interval": 1,
                       "purge_interval_seconds": 1, "audit_seal_minutes": 1,
                       "argon2_memory_mib": 1, "argon2_time": 1}, f)
        self.env = dict(os.environ, LLAVE_CLUSTER_DIR=self.dir,
                        LLAVE_CLUSTER_CONFIG=conf)
        rc, self.banner, err = cluster(self.env, "up")
        if rc != 0:
            raise RuntimeError(f"scripts/cluster up: {rc}\n{err}")
        self.rows = {}
        with open(os.path.join(self.dir, "pids")) as f:
            for line in f:
                name, pid, port = line.split()
                self.rows[name] = (pid, port)
        http, https = self.rows["haproxy"][1].split(",")
        self.http = f"http://127.0.0.1:{http}"
        self.https = f"https://127.0.0.1:{https}"
        self.nodes = {n: f"http://127.0.0.1:{self.rows[n][1]}"
                      for n in ("node1", "node2")}
        self.pg = (f"host=127.0.0.1 port={self.rows['postgresql'][1]} "
                   "dbname=llave user=llave")
        self.ctx = ssl.create_default_context(
            cafile=os.path.join(self.dir, "haproxy", "proxy.crt"))
        self.pem = os.path.join(self.dir, "pem")
        self.node_dir = os.path.join(self.dir, "node1")

    def pid(self, name):
        return int(self.rows[name][0])

    def psql(self, query):
        rc, out, err = run(["psql", "-X", "-A", "-t", "-F", "|", "-q", "-v",
                            "ON_ERROR_STOP=1", "-d", self.pg, "-c", query])
        if rc != 0:
            raise RuntimeError(err)
        return out.strip()

    def call(self, base, method, path, body=None, token=None):
        """(status, JSON) of one API call; status 0 when no answer came."""
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers=h)
        ctx = self.ctx if base.startswith("https") else None
        try:
            with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}
        except (OSError, ValueError) as e:
            return 0, {"error": str(e)}


# ---- the storm ---------------------------------------------------------------

class Storm:
    """Registrations, issuances and revocations from several threads; what
    was answered 2xx is recorded to be looked for in the database."""
    seq = itertools.count(1)

    def __init__(self, c, tokens, tmp):
        self.c, self.tok, self.tmp = c, tokens, tmp
        self.lock = threading.Lock()
        self.orgs, self.issued, self.revoked = [], [], []
        self.calls = []   # (start time, base, status)

    def next_n(self):
        # one numbering for every storm of the test: an organization's NIF
        # is unique
        return next(Storm.seq)

    def call(self, base, method, path, body, role):
        t = time.monotonic()
        st, out = self.c.call(base, method, path, body, self.tok[role])
        with self.lock:
            self.calls.append((t, base, st))
        return st, out

    def one(self, base, n, revoke):
        """An organization, a web certificate for it (officer prepares,
        administrator approves: two persons), and maybe its revocation."""
        nif = cif("B", f"{5000000 + n:07d}")
        st, org = self.call(base, "POST", "/api/v1/ra/organizations", {
            "legal_name": f"Nodo {n} SL", "nif": nif, "locality": "Madrid",
            "contact_email": f"c{n}@ejemplo.es",
            "contact_mobile": f"+3460033{n:04d}",
            "business_category": "Private Organization"}, "ra_officer")
        if st == 0:
            time.sleep(0.2)  # a dead node refuses at once: do not spin
        if st != 201:
            return
        with self.lock:
            self.orgs.append(org["id"])
        with open(os.path.join(self.tmp, f"csr{n % 8}.pem")) as f:
            csr = f.read()
        st, req = self.call(base, "POST", "/api/v1/ra/requests", {
            "org_id": org["id"], "profile": "web-ov",
            "dns_names": [f"n{n}.ejemplo.es"], "csr": csr}, "ra_officer")
        if st != 201:
            return
        st, out = self.call(base, "POST",
                            f"/api/v1/ra/requests/{req['id']}/approve", {},
                            "ra_admin")
        if st != 200 or not out.get("serial"):
            return
        with self.lock:
            self.issued.append(out["serial"])
        if revoke:
            st, _ = self.call(base, "POST", "/api/v1/ra/revocations",
                              {"serial": out["serial"],
                               "reason": "superseded"}, "revocation_officer")
            if st == 200:
                with self.lock:
                    self.revoked.append(out["serial"])

    def run(self, bases, seconds, per_thread=None):
        end = time.monotonic() + seconds

        def worker(base):
            i = 0
            while time.monotonic() < end and (per_thread is None or
                                              i < per_thread):
                n = self.next_n()
                self.one(base, n, revoke=n % 2 == 0)
                i += 1

        threads = [threading.Thread(target=worker, args=(b,)) for b in bases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def login_operators(c):
    with open(os.path.join(c.node_dir, "demo-credentials.json")) as f:
        accounts = json.load(f)["accounts"]
    tokens = {}
    for role in ("ra_officer", "ra_admin", "revocation_officer"):
        login = "demo-" + role.replace("_", "-")
        a = next(x for x in accounts if x.get("login") == login)
        # once through HAProxy: the session lives in the database and
        # serves on either node
        st, out = c.call(c.https, "POST", "/api/v1/operators/login",
                         {"login": login, "password": a["password"],
                          "totp": totp(a["totp_secret"])})
        if st != 200:
            raise RuntimeError(f"login {login}: {st} {out}")
        tokens[role] = out["token"]
    return tokens


# ---- what the database says, and what each node says ------------------------

def check_store(c, storm, what):
    rows = c.psql("select serial || '|' || status from certs").splitlines()
    status = dict(r.split("|") for r in rows)
    check(len(rows) == len(status) and int(c.psql(
        "select count(distinct serial) from certs")) == len(rows),
          f"{what}: {len(rows)} certificates, every serial unique")
    missing = [s for s in storm.issued if s not in status]
    check(not missing and len(storm.issued) > 0,
          f"{what}: each of {len(storm.issued)} issuances answered 2xx is in "
          f"PostgreSQL (missing {missing})")
    unrevoked = [s for s in storm.revoked if status.get(s) != "1"]
    check(not unrevoked and len(storm.revoked) > 0,
          f"{what}: each of {len(storm.revoked)} revocations answered 2xx "
          f"is recorded (not revoked: {unrevoked})")
    ids = set(c.psql("select id from organizations").splitlines())
    lost = [o for o in storm.orgs if o not in ids]
    check(not lost, f"{what}: each of {len(storm.orgs)} registered "
                    f"organizations is stored (lost {lost})")
    rc, out, err = run([LLAVE, "-d", c.node_dir, "audit", "verify"])
    check(rc == 0, f"{what}: llave audit verify: one chain "
                   f"({(out + err).strip()[-160:]})")


def issuer_pem(c, serial, tmp):
    """The certificate (from PostgreSQL) and its CA's PEM file."""
    ca = c.psql(f"select ca from certs where serial='{serial}'")
    cert = os.path.join(tmp, f"{serial}.der")
    hexder = c.psql(f"select encode(der, 'hex') from certs "
                    f"where serial='{serial}'")
    with open(cert, "wb") as f:
        f.write(bytes.fromhex(hexder))
    return ca, cert, os.path.join(c.pem, f"{ca}.pem")


def crl_serials(url, tmp, name):
    path = os.path.join(tmp, name)
    try:
        with urllib.request.urlopen(url, timeout=10) as r, \
                open(path, "wb") as f:
            f.write(r.read())
    except OSError:
        return None
    rc, out, _ = openssl("crl", "-inform", "DER", "-in", path, "-noout",
                         "-text")
    return set(re.findall(r"Serial Number: ([0-9A-F]+)", out)) if rc == 0 \
        else None


def check_crls(c, tmp, nodes):
    """Each node serves its CA's CRL listing exactly what PostgreSQL has
    revoked of that CA (the keeper runs on one node; both serve it)."""
    some = c.psql("select serial from certs where profile='web-ov' limit 1")
    ca, cert, _ = issuer_pem(c, some, tmp)
    rc, out, _ = openssl("x509", "-inform", "DER", "-in", cert, "-noout",
                         "-ext", "crlDistributionPoints")
    m = re.search(r"URI:https?://[^/]+(/\S+)", out)
    check(m is not None, f"the certificates name a CRL ({out.strip()})")
    if not m:
        return
    want = set(c.psql(f"select upper(serial) from certs where ca='{ca}' and "
                      "status=1").splitlines())
    for node, base in nodes.items():
        got, end = None, time.monotonic() + OCSP_BOUND
        while time.monotonic() < end:
            got = crl_serials(base + m.group(1), tmp, f"{node}.crl")
            if got == want:
                break
            time.sleep(0.5)
        check(got == want, f"{node}: {m.group(1)} (openssl crl) lists the "
                           f"{len(want)} revoked of CA {ca} in PostgreSQL "
                           f"(extra {sorted((got or set()) - want)[:3]}, "
                           f"missing {sorted(want - (got or set()))[:3]})")


def ocsp_status(c, base, serial, tmp):
    """The status openssl reads from the node's OCSP answer (-respin, with
    the signature checked against our root), or None."""
    ca, cert, issuer = issuer_pem(c, serial, tmp)
    req, resp = (os.path.join(tmp, f"{serial}.{x}") for x in ("req", "resp"))
    openssl("ocsp", "-issuer", issuer, "-cert", cert, "-no_nonce", "-reqout",
            req, check_rc=0)
    with open(req, "rb") as f:
        body = f.read()
    try:
        r = urllib.request.Request(
            base + "/ocsp", data=body,
            headers={"Content-Type": "application/ocsp-request"})
        with urllib.request.urlopen(r, timeout=10) as a, \
                open(resp, "wb") as f:
            f.write(a.read())
    except OSError:
        return None
    rc, out, err = openssl("ocsp", "-respin", resp, "-issuer", issuer,
                           "-cert", cert, "-CAfile",
                           os.path.join(c.pem, "root.pem"), "-verify_other",
                           os.path.join(c.pem, "chain.pem"))
    m = re.search(r": (good|revoked|unknown)", out)
    return m.group(1) if rc == 0 and "Response verify OK" in err + out and m \
        else None


def check_ocsp(c, storm, tmp, nodes):
    sample = storm.revoked[:3] + [s for s in storm.issued
                                  if s not in storm.revoked][:3]
    for node, base in nodes.items():
        wrong, end = sample, time.monotonic() + OCSP_BOUND
        while wrong and time.monotonic() < end:
            want = {s: "revoked" if c.psql(
                f"select status from certs where serial='{s}'") == "1"
                else "good" for s in wrong}
            wrong = [s for s in wrong
                     if ocsp_status(c, base, s, tmp) != want[s]]
            if wrong:
                time.sleep(0.5)
        check(not wrong, f"{node}: OCSP (openssl ocsp -respin, verified) "
                         f"agrees with PostgreSQL for {len(sample)} "
                         f"certificates within {OCSP_BOUND} s (wrong {wrong})")


# ---- kill -9 during the storm -----------------------------------------------

def lease_holders(c):
    out = c.psql("select job || '|' || holder from job_leases")
    return {j: h.split(":")[1] for j, h in
            (line.split("|") for line in out.splitlines())}


def check_kill(c, tokens, tmp):
    holders = lease_holders(c)
    pids = {str(c.pid(n)): n for n in ("node1", "node2")}
    check(holders and all(p in pids for p in holders.values()),
          f"the job leases are held by the nodes ({holders})")
    victim = pids.get(next(iter(holders.values()), ""), "node1")
    survivor = "node2" if victim == "node1" else "node1"
    storm = Storm(c, tokens, tmp)
    bases = [c.https, c.https, c.nodes[survivor], c.nodes[victim]]
    t = threading.Thread(target=storm.run, args=(bases, 14))
    t.start()
    time.sleep(4)
    killed_at = time.monotonic()
    os.kill(c.pid(victim), signal.SIGKILL)
    moved, took = False, None
    while time.monotonic() < killed_at + JOBS_BOUND:
        h = lease_holders(c)
        if set(h) >= JOBS - {"audit sealer"} and \
                all(p == str(c.pid(survivor)) for p in h.values()):
            moved, took = True, time.monotonic() - killed_at
            break
        time.sleep(0.3)
    t.join()
    check(moved, f"after kill -9 of {victim} (the jobs' holder) {survivor} "
                 f"holds every job lease within {JOBS_BOUND} s "
                 f"({took and round(took, 1)} s: {lease_holders(c)})")
    late = [st for t0, base, st in storm.calls
            if base == c.https and t0 > killed_at + 5]
    early = [st for t0, base, st in storm.calls
             if base == c.https and t0 <= killed_at]
    check(late and all(200 <= s < 300 for s in late),
          f"through HAProxy, each of {len(late)} requests started 5 s or "
          f"more after the kill succeeded ({sorted(set(late))}); "
          f"{len(early)} before it")
    lost = [st for t0, base, st in storm.calls if base == c.nodes[victim]
            and t0 > killed_at + 1 and st != 0]
    check(not lost, "the killed node answers nothing afterwards")
    check_store(c, storm, "after kill -9")
    # the survivor's keeper and refresher now publish what the storm did
    check_crls(c, tmp, {survivor: c.nodes[survivor]})
    check_ocsp(c, storm, tmp, {survivor: c.nodes[survivor]})
    rc, out, _ = cluster(c.env, "status")
    check(rc == 0 and re.search(rf"{victim}\s+pid \d+\s+port \d+\s+dead", out)
          and re.search(rf"{survivor}\s+pid \d+\s+port \d+\s+running", out)
          and f"{victim}=DOWN" in out and f"{survivor}=UP" in out,
          f"scripts/cluster status: {victim} dead and DOWN in HAProxy, "
          f"{survivor} up\n{out}")


# ---- the database restarts ----------------------------------------------------

def pg_ctl(c, *args):
    """Debian's pg_ctl on the cluster's data directory, as the user the
    server runs as (nobody under root, as scripts/cluster starts it)."""
    bindir = os.path.dirname(sorted(glob.glob(
        "/usr/lib/postgresql/*/bin/pg_ctl"))[-1])
    pg = os.path.join(c.dir, "pg")
    user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    return subprocess.run(user + [os.path.join(bindir, "pg_ctl"), "-D",
                                  os.path.join(pg, "data"), *args], cwd=pg,
                          capture_output=True, text=True, timeout=120)


def check_db_restart(c, tokens, tmp):
    """PostgreSQL stopped: writes fail (never a 2xx); started again: every
    node answers again without being restarted itself (store_pg reconnects
    a connection the server closed)."""
    survivor = next(n for n in ("node1", "node2")
                    if os.path.exists(f"/proc/{c.pid(n)}/cmdline") and
                    open(f"/proc/{c.pid(n)}/cmdline").read())
    check(pg_ctl(c, "-m", "fast", "-w", "stop").returncode == 0,
          "PostgreSQL stopped (pg_ctl stop -m fast)")
    storm = Storm(c, tokens, tmp)
    storm.run([c.https, c.nodes[survivor]], 60, per_thread=2)
    codes = sorted({st for _, _, st in storm.calls})
    check(storm.calls and all(not 200 <= s < 300 for s in codes),
          f"with the database down, no write is acknowledged ({codes})")
    port = c.rows["postgresql"][1]
    p = pg_ctl(c, "-l", os.path.join(c.dir, "pg", "server.log"), "-o",
               f"-c listen_addresses=127.0.0.1 -c port={port} "
               f"-c unix_socket_directories={os.path.join(c.dir, 'pg')}",
               "-w", "start")
    check(p.returncode == 0, f"PostgreSQL started again {p.stderr}")
    storm = Storm(c, tokens, tmp)
    storm.run([c.https, c.nodes[survivor]], 60, per_thread=2)
    bad = [st for _, _, st in storm.calls if not 200 <= st < 300]
    check(storm.calls and not bad,
          f"after the restart {survivor} and HAProxy serve again without "
          f"restarting the node: {len(storm.calls)} calls, all 2xx ({bad})")
    check_store(c, storm, "after the database restart")
    check_ocsp(c, storm, tmp, {survivor: c.nodes[survivor]})


# ---- main ----------------------------------------------------------------------

def check_down(c):
    pids = [c.pid(n) for n in ("postgresql", "node1", "node2", "haproxy")]
    with open(os.path.join(c.dir, "pg", "data", "postmaster.pid")) as f:
        pids.append(int(f.readline()))  # restarted by check_db_restart
    for n in ("node1", "node2"):
        with open(os.path.join(c.dir, f"{n}.log")) as f:
            pids += [int(p) for p in
                     re.findall(r"llave-keyd started \(pid (\d+)", f.read())]
    rc, out, err = cluster(c.env, "down")
    time.sleep(0.5)
    alive = [p for p in pids if os.path.exists(f"/proc/{p}/cmdline") and
             open(f"/proc/{p}/cmdline").read()]
    check(rc == 0 and not alive and not os.path.exists(c.dir),
          f"scripts/cluster down: no process left ({alive}), directory "
          f"removed ({out.strip()} {err.strip()})")
    rc, out, _ = cluster(c.env, "down")
    check(rc == 0 and "not up" in out, "down again: nothing to do")


def main():
    tmp = workdir("cluster")
    os.chmod(tmp, 0o755)  # PostgreSQL runs as nobody under root
    for i in range(8):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                os.path.join(tmp, f"k{i}.pem"), "-subj", "/CN=ignored",
                "-out", os.path.join(tmp, f"csr{i}.pem"), check_rc=0)
    c = None
    try:
        c = Cluster(tmp)
        check(c.https in c.banner and all(u in c.banner
                                          for u in c.nodes.values()),
              "scripts/cluster up prints HAProxy's and each node's URL")
        rc, _, err = cluster(c.env, "up")
        check(rc != 0 and "already up" in err,
              f"up twice: refused ({err.strip()})")
        rc, out, _ = cluster(c.env, "status")
        check(rc == 0 and len(re.findall(r"\brunning\b", out)) == 6 and
              "node1=UP node2=UP" in out,
              f"status: PostgreSQL, 2 llaved, 2 keyd, HAProxy running\n{out}")
        tokens = login_operators(c)
        storm = Storm(c, tokens, tmp)
        storm.run([c.nodes["node1"], c.nodes["node2"], c.https], 120,
                  per_thread=6)
        bad = [st for _, _, st in storm.calls if not 200 <= st < 300]
        check(not bad, f"storm on node1, node2 and HAProxy at once: "
                       f"{len(storm.calls)} calls, all 2xx ({bad[:5]})")
        check_store(c, storm, "storm")
        check_crls(c, tmp, c.nodes)
        check_ocsp(c, storm, tmp, c.nodes)
        check_kill(c, tokens, tmp)
        check_db_restart(c, tokens, tmp)
        check_down(c)
    finally:
        if c and os.path.exists(c.dir):
            cluster(c.env, "down")
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
