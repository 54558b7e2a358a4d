"""Issue 17 item 3: the shipped deployment files work as shipped.

  - deploy/systemd/*.service: `systemd-analyze verify` finds nothing to say
    (the binaries' paths pointed at this build), and `systemd-analyze
    security --offline` rates keyd's sandbox at most 1.0 and llaved's at
    most 2.0 (0 = locked down, 10 = exposed);
  - deploy/haproxy/llave.cfg passes `haproxy -c` and, run as shipped (only
    its environment set), fronts two real llaved nodes on one data
    directory: https for the APIs and pages (HSTS), plain http for the
    status services only (an OCSP request answered and verified with
    `openssl ocsp`), everything else redirected to https; both nodes serve;
    after `kill -9` of one node every request still succeeds (HAProxy
    redispatches refused connections and its health check takes the node
    out); failed logins are cut at the proxy with 429 per client."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

from lvtest import (BUILD, LLAVE, LLAVED, SOURCE, check, cleanup, finish,
                    openssl, run, workdir)

DEPLOY = os.path.join(SOURCE, "deploy")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- systemd ---------------------------------------------------------------

def analyze(cwd, *args):
    p = subprocess.run(["systemd-analyze", *args], cwd=cwd,
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check_units(tmp):
    units = ["llave-keyd.service", "llaved.service"]
    for u in units:
        with open(os.path.join(DEPLOY, "systemd", u)) as f:
            text = f.read().replace("/usr/lib/llave/", BUILD + "/")
        with open(os.path.join(tmp, u), "w") as f:
            f.write(text)
    rc, out, err = analyze(tmp, "verify", "--man=no", *units)
    check(rc == 0 and not err.strip(),
          f"systemd-analyze verify: the units are clean ({rc} {err.strip()})")
    for u, most in (("llave-keyd.service", 1.0), ("llaved.service", 2.0)):
        rc, out, err = analyze(tmp, "security", "--offline=true", u)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out + err)
        level = float(m.group(1)) if m else 99
        check(level <= most, f"{u}: exposure {level} (at most {most})")
        with open(os.path.join(tmp, u)) as f:
            text = f.read()
        check(all(k in text for k in ("ProtectSystem=strict",
                                      "NoNewPrivileges=yes", "User=llave",
                                      "PrivateTmp=yes")),
              f"{u}: ProtectSystem=strict, NoNewPrivileges, its own user, "
              "PrivateTmp")


# ---- two nodes behind HAProxy ---------------------------------------------

class Node:
    def __init__(self, d, port, name):
        self.log_path = os.path.join(d, f"node-{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [LLAVED, "-d", d, "--port", str(port)], stdout=subprocess.PIPE,
            stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"node {name} did not start: {line!r}")

    def served(self, path):
        with open(self.log_path) as f:
            return len(re.findall(rf"http GET {re.escape(path)} 200", f.read()))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        self.log.close()
        return self.proc.returncode


def install(tmp):
    d = os.path.join(tmp, "demo")
    cfg = os.path.join(tmp, "config.json")
    # behind a proxy every client is one source to llaved: the proxy's
    # maxconn per server must fit, and the proxy counts failed logins per
    # client instead (docs/OPERATIONS.md §8)
    with open(cfg, "w") as f:
        json.dump({"argon2_memory_mib": 1, "argon2_time": 1,
                   "http_max_per_source": 2000,
                   "auth_source_failures": 65535}, f)
    run([LLAVE, "init", d, "--demo", "--config", cfg], check_rc=0)
    run([LLAVE, "-d", d, "ca", "export", os.path.join(tmp, "pem")],
        check_rc=0)
    return d


def tls_pair(tmp):
    key, crt = os.path.join(tmp, "proxy.key"), os.path.join(tmp, "proxy.crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
            "-subj", "/CN=127.0.0.1", "-days", "2", "-addext",
            "subjectAltName=IP:127.0.0.1", check_rc=0)
    pem = os.path.join(tmp, "proxy.pem")
    with open(pem, "w") as out:
        for p in (crt, key):
            with open(p) as f:
                out.write(f.read())
    return pem, crt


def start_proxy(tmp, env):
    cfg = os.path.join(DEPLOY, "haproxy", "llave.cfg")
    rc, out, err = run(["haproxy", "-c", "-f", cfg], env=env)
    check(rc == 0, f"haproxy -c: the shipped configuration is valid "
                   f"({(out + err).strip()[-200:]})")
    log = open(os.path.join(tmp, "haproxy.log"), "w")
    proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], env=env,
                            stdout=log, stderr=log)
    return proc, log


def wait_up(url, ctx, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2, context=ctx) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


def fetch(url, ctx=None, data=None, headers=None):
    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=ctx))
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_split(http, https, ctx, tmp):
    st, h, _ = fetch(https + "/healthz", ctx)
    check(st == 200 and "max-age" in h.get("Strict-Transport-Security", ""),
          f"https: /healthz 200 with HSTS ({st})")
    st, h, _ = fetch(http + "/api/v1/policy")
    check(st == 301 and h.get("Location", "").startswith("https://"),
          f"http: the APIs redirect to https ({st} {h.get('Location')})")
    st, h, body = fetch(http + "/crl/qualified.crl")
    check(st == 200 and h.get("Content-Type") == "application/pkix-crl",
          f"http: the CRL is served in the clear, as its URL in every "
          f"certificate says ({st})")
    pem = os.path.join(tmp, "pem")
    rc, out, err = openssl(
        "ocsp", "-issuer", os.path.join(pem, "root.pem"), "-cert",
        os.path.join(pem, "qualified.pem"), "-url", http + "/ocsp",
        "-CAfile", os.path.join(pem, "root.pem"), "-no_nonce")
    check(rc == 0 and "Response verify OK" in err + out and
          "qualified.pem: good" in out,
          f"http: OCSP through the proxy, verified by openssl ocsp "
          f"({(out + err).strip()[-160:]})")


def check_failover(https, ctx, nodes):
    for _ in range(40):
        fetch(https + "/api/v1/policy", ctx)
    served = [n.served("/api/v1/policy") for n in nodes]
    check(all(s > 0 for s in served),
          f"both nodes serve (leastconn): {served}")
    nodes[1].stop(signal.SIGKILL)
    results = [fetch(https + "/api/v1/policy", ctx)[0] for _ in range(60)]
    check(set(results) == {200},
          f"after kill -9 of node 2, every one of 60 requests succeeds "
          f"({sorted(set(results))})")


def check_login_cut(https, ctx):
    statuses = []
    for i in range(106):
        body = json.dumps({"user_id": f"{40000000 + i}X",
                           "password": "wrong"}).encode()
        statuses.append(fetch(https + "/api/v1/auth/login", ctx, body,
                              {"Content-Type": "application/json"}))
    codes = [s for s, _, _ in statuses]
    last = statuses[-1]
    check(codes[:100] == [401] * 100 and last[0] == 429 and
          b"too many requests" in last[2].lower() and
          not last[2].lstrip().startswith(b"{"),
          f"101 failed logins from one client: 401 each, then the proxy "
          f"itself answers 429 ({codes[98:]})")


def main():
    tmp = workdir("deploy")
    nodes, proxy = [], None
    try:
        check_units(tmp)
        d = install(tmp)
        pem, crt = tls_pair(tmp)
        p1, p2, ph, phs = (free_port() for _ in range(4))
        nodes = [Node(d, p1, "1"), Node(d, p2, "2")]
        env = dict(os.environ, LLAVE_HTTP_BIND=f"127.0.0.1:{ph}",
                   LLAVE_HTTPS_BIND=f"127.0.0.1:{phs}", LLAVE_CERT=pem,
                   LLAVE_NODE1=f"127.0.0.1:{p1}",
                   LLAVE_NODE2=f"127.0.0.1:{p2}")
        proxy, log = start_proxy(tmp, env)
        ctx = ssl.create_default_context(cafile=crt)
        http, https = f"http://127.0.0.1:{ph}", f"https://127.0.0.1:{phs}"
        check(wait_up(https + "/healthz", ctx), "the proxy is up and "
                                                  "trusted through its cert")
        check_split(http, https, ctx, tmp)
        check_failover(https, ctx, nodes)
        check_login_cut(https, ctx)
    finally:
        if proxy:
            proxy.terminate()
            proxy.wait(timeout=20)
        for n in nodes:
            n.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
