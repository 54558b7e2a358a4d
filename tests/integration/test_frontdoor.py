"""Issue 11: the front door holds under attack (connections, CPU, framing).

Every attack here runs as a bounded test against a real llaved on loopback.
The attacker speaks from 127.0.0.1; the honest client binds 127.0.0.2 (a
different source address to the server's per-source limits).
"""
import json
import os
import resource
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from lvtest import (Server, check, cleanup, demo_install, finish, llave,  # noqa
                    openssl, run, set_config, workdir)

SUBJECTS = os.path.join(os.environ.get("LLAVE_SOURCE_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..")), "examples", "subjects")


def raise_fd_limit(want=8192):
    """Inside the test, not on the machine (issue 11 item 9)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def port_of(srv):
    return int(srv.url.rsplit(":", 1)[1])


def raw(port, data, source="127.0.0.2", timeout=5.0, until_close=False):
    """Sends bytes, returns the server's answer: the first complete response
    or, with until_close, everything until the server closes."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if not until_close and content_complete(out):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def content_complete(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def timed_get(port, path, source="127.0.0.2", body=None, ctype=None):
    """One request on a fresh connection from `source`: (status, seconds)."""
    t0 = time.monotonic()
    if body is None:
        req = (f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
               .encode())
    else:
        req = (f"POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
               f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
               .encode() + body)
    try:
        out = raw(port, req, source=source, timeout=5.0)
    except OSError:
        return 0, time.monotonic() - t0
    status = int(out.split(b" ")[1]) if out.startswith(b"HTTP/1.1 ") else 0
    return status, time.monotonic() - t0


def status_of(resp):
    return int(resp.split(b" ")[1]) if resp.startswith(b"HTTP/1.") else 0


def header_block_count(resp):
    return resp.count(b"HTTP/1.1 ")


# ---- framing and paths ------------------------------------------------------

def check_framing(port):
    r = raw(port, b"POST /ocsp HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n"
            b"\r\n")
    check(status_of(r) == 400 and header_block_count(r) == 1,
          "Content-Length: -1 gets a plain 400 with one header block")
    r = raw(port, b"POST /ocsp HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n"
            b"\r\n")
    check(status_of(r) == 400, "Content-Length: 1x gets 400")
    r = raw(port, b"POST /ocsp HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
            b"Content-Length: 4\r\n\r\nabcd")
    check(status_of(r) == 400, "two different Content-Length get 400")
    r = raw(port, b"POST /ocsp HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check(status_of(r) == 400,
          "Content-Length with Transfer-Encoding (smuggling) gets 400")
    r = raw(port, b"GET /healthz HTTP/1.1\r\n\r\n")
    check(status_of(r) == 400, "HTTP/1.1 without Host gets 400")
    r = raw(port, b"GET /healthz HTTP/1.0\r\n\r\n")
    check(status_of(r) == 200, "HTTP/1.0 without Host is still served")
    r = raw(port, b"GET /repository/cps-en.pdf%00.txt HTTP/1.1\r\nHost: t"
            b"\r\n\r\n")
    check(status_of(r) == 400 and b"%PDF" not in r,
          "%00 in the path is refused before routing (no PDF served)")
    r = raw(port, b"GET /repository/%0a HTTP/1.1\r\nHost: t\r\n\r\n")
    check(status_of(r) == 400, "%0a in the path gets 400")
    # the second request of a keep-alive connection goes through the same
    # checks (libmicrohttpd parses it, the router refuses it)
    r = raw(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /repository/cps-en.pdf%00.txt HTTP/1.1\r\nHost: t\r\n"
            b"Connection: close\r\n\r\n", until_close=True)
    check(r.count(b"HTTP/1.1 200") == 1 and b"HTTP/1.1 400" in r and
          b"%PDF" not in r, "a keep-alive follow-up with %00 gets 400")
    r = raw(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
            until_close=True)
    check(b"HTTP/1.1 400" in r, "a keep-alive follow-up without Host gets 400")


def check_headers(srv):
    for path in ("/repository/", "/sign/" + "0123456789abcdef" * 2):
        status, h, _ = srv.get(path)
        low = {k.lower(): v for k, v in h.items()}
        check("content-security-policy" in low and
              low.get("x-frame-options") == "DENY" and
              low.get("x-content-type-options") == "nosniff",
              f"{path} ({status}) carries CSP, X-Frame-Options and nosniff")
    _, h, _ = srv.get("/healthz")
    check({k.lower(): v for k, v in h.items()}.get(
        "x-content-type-options") == "nosniff", "JSON answers carry nosniff")


# ---- connections --------------------------------------------------------------

def check_per_source_limit(port, limit):
    socks = []
    for _ in range(limit + 40):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.connect(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    check(closed >= 40, f"connections over the per-source limit ({limit}) "
          f"are closed at once ({closed} of {len(socks)} closed)")
    status, secs = timed_get(port, "/healthz")
    check(status == 200, "another source is still served meanwhile")
    for s in socks:
        s.close()


def slowloris(port, n, stop, opened):
    """n connections from 127.0.0.1 sending one header byte every 2 s."""
    socks = []
    for _ in range(n):
        try:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            break
    opened.append(len(socks))
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 1000
    pos = 0
    while not stop.is_set() and pos < len(head):
        for s in socks:
            try:
                s.send(head[pos:pos + 1])
            except OSError:
                pass
        pos += 1
        stop.wait(2.0)
    for s in socks:
        s.close()


def check_slowloris(srv, pem, tmp, ocsp_req):
    port = port_of(srv)
    stop = threading.Event()
    opened = []
    t = threading.Thread(target=slowloris, args=(port, 3000, stop, opened))
    t.start()
    time.sleep(3)
    health, ocsp = [], []
    for _ in range(20):
        status, secs = timed_get(port, "/healthz")
        health.append((status, secs))
        status, secs = timed_get(port, "/ocsp", body=ocsp_req,
                                 ctype="application/ocsp-request")
        ocsp.append((status, secs))
        time.sleep(0.2)
    stop.set()
    t.join()
    worst_h = max(s for _, s in health)
    worst_o = max(s for _, s in ocsp)
    check(opened and opened[0] >= 2900,
          f"the attacker opened {opened[0] if opened else 0} slow connections")
    check(all(st == 200 for st, _ in health) and worst_h < 0.1,
          f"/healthz from 127.0.0.2 answers within 100 ms during 3000 slow "
          f"connections (worst {worst_h * 1000:.1f} ms)")
    check(all(st == 200 for st, _ in ocsp) and worst_o < 0.1,
          f"pre-signed OCSP from 127.0.0.2 answers within 100 ms during "
          f"3000 slow connections (worst {worst_o * 1000:.1f} ms)")


def check_head_deadline(port, deadline_s):
    """The head deadline is not reset by each byte."""
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(0.5)
    t0 = time.monotonic()
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 400
    closed_at = None
    for i in range(len(head)):
        try:
            s.send(head[i:i + 1])
            if s.recv(1) == b"":
                closed_at = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except OSError:
            closed_at = time.monotonic() - t0
            break
        if time.monotonic() - t0 > deadline_s + 10:
            break
    s.close()
    check(closed_at is not None and closed_at < deadline_s + 2,
          f"a head trickled a byte every 0.5 s is cut at the head deadline "
          f"({deadline_s} s; cut after "
          f"{closed_at if closed_at is None else round(closed_at, 1)} s)")


# ---- CPU --------------------------------------------------------------------

def login_loop(port, stop, counts, i):
    body = json.dumps({"user_id": f"0000{i:04d}X", "password": "wrong-"
                       "password-123"}).encode()
    while not stop.is_set():
        try:
            src = "127.0.0.1"
            st, _ = timed_get(port, "/api/v1/auth/login", source=src,
                              body=body, ctype="application/json")
            counts[st] = counts.get(st, 0) + 1
        except OSError:
            pass


def check_cpu(srv, ocsp_req):
    port = port_of(srv)
    stop = threading.Event()
    counts = {}
    threads = [threading.Thread(target=login_loop,
                                args=(port, stop, counts, i))
               for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(2)
    lat = []
    t_end = time.monotonic() + 8
    while time.monotonic() < t_end:
        st, secs = timed_get(port, "/ocsp", body=ocsp_req,
                             ctype="application/ocsp-request")
        if st == 200:
            lat.append(secs)
    hst, hsecs = timed_get(port, "/healthz")
    stop.set()
    for t in threads:
        t.join()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else 99
    print(f"login loops' answers: {counts}; OCSP samples {len(lat)}, "
          f"median {statistics.median(lat) * 1000 if lat else 0:.2f} ms")
    check(len(lat) > 100 and p99 < 0.010,
          f"OCSP p99 stays under 10 ms during 16 anonymous login loops "
          f"(p99 {p99 * 1000:.2f} ms over {len(lat)} requests)")
    check(hst == 200 and hsecs < 0.1,
          f"/healthz answers within 100 ms during the loops "
          f"({hsecs * 1000:.1f} ms)")


def check_busy_queue(d):
    """A full password queue answers 503 + Retry-After at once, and other
    work classes keep answering."""
    set_config(d, http_password_threads=1, http_password_queue=1)
    srv = Server(d)
    try:
        port = port_of(srv)
        body = json.dumps({"user_id": "00000001R",
                           "password": "wrong-password-123"}).encode()
        answers = []

        def one(i):
            req = (f"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                   f"Connection: close\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            src = f"127.0.1.{i + 1}"  # no throttle: every source is new
            t0 = time.monotonic()
            r = raw(port, req, source=src, timeout=10)
            answers.append((status_of(r), b"Retry-After:" in r,
                            time.monotonic() - t0))

        ts = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        busy = [a for a in answers if a[0] == 503]
        check(busy and all(a[1] for a in busy) and
              all(a[2] < 0.2 for a in busy),
              f"a full password queue answers 503 + Retry-After at once "
              f"({len(busy)} of {len(answers)}: "
              f"{sorted(a[0] for a in answers)})")
        st, _ = timed_get(port, "/healthz")
        check(st == 200, "/healthz still answers")
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")


# ---- orphan keys (item 8) -------------------------------------------------------

def key_files(d):
    kdir = os.path.join(d, "keys")
    return {f[:-4] for f in os.listdir(kdir) if f.endswith(".key")}


def named_keys(d):
    out = run(["sqlite3", os.path.join(d, "llave.db"),
               "SELECT key_id FROM cas UNION SELECT key_id FROM certs "
               "WHERE key_id <> ''"])[1]
    return {line for line in out.split() if line}


def check_orphans(d):
    """`llave cert issue` killed at random moments, then llaved's start-up
    sweep: afterwards every key file is named by a CA or certificate row."""
    import random
    import signal
    import subprocess
    from lvtest import LLAVE
    subj = os.path.join(SUBJECTS, "natural-person-cloud.json")
    for i in range(12):
        p = subprocess.Popen([LLAVE, "-d", d, "cert", "issue",
                              "natural-person-cloud", "--subject", subj,
                              "--out", os.devnull],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0.02, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
    # one orphan for certain: a key file copied under an id no row names
    kdir = os.path.join(d, "keys")
    some = sorted(key_files(d) - named_keys(d) or key_files(d))[0]
    young = "f" * 32
    with open(os.path.join(kdir, some + ".key"), "rb") as f:
        blob = f.read()
    for name in ("e" * 32, young):
        with open(os.path.join(kdir, name + ".key"), "wb") as f:
            f.write(blob)
    old = time.time() - 3600
    for k in key_files(d) - {young}:
        os.utime(os.path.join(kdir, k + ".key"), (old, old))
    orphans = key_files(d) - named_keys(d)
    print(f"orphan key files before the sweep: {len(orphans)}")
    srv = Server(d)
    srv.stop()
    left = key_files(d) - named_keys(d)
    check(left == {young}, f"the start-up sweep removed every orphan older "
          f"than the grace period and kept the young one (left: {left})")
    audited = run(["sqlite3", os.path.join(d, "llave.db"),
                   "SELECT count(*) FROM audit_log WHERE "
                   "event='key.orphan_remove' AND result='success'"])[1]
    check(int(audited.strip() or 0) == len(orphans) - 1,
          f"each removal is audited ({audited.strip()} entries for "
          f"{len(orphans) - 1} removed)")


# ---- set-up -------------------------------------------------------------------

def presigned_request(srv, d, pem, tmp):
    """A certificate, its pre-signed response, and a no-nonce request."""
    cert = os.path.join(tmp, "person.pem")
    llave(d, "cert", "issue", "natural-person-cloud", "--subject",
          os.path.join(SUBJECTS, "natural-person-cloud.json"), "--out", cert,
          check_rc=0)
    req = os.path.join(tmp, "req.der")
    openssl("ocsp", "-issuer", os.path.join(pem, "qualified.pem"), "-cert",
            cert, "-no_nonce", "-reqout", req, check_rc=0)
    with open(req, "rb") as f:
        body = f.read()
    # the first answer is signed on a signing thread and stored; the next
    # ones are served ready from the I/O threads
    port = port_of(srv)
    st, _ = timed_get(port, "/ocsp", body=body,
                      ctype="application/ocsp-request")
    check(st == 200, "OCSP answers (first answer signed in the sign pool)")
    for _ in range(50):
        st, secs = timed_get(port, "/ocsp", body=body,
                             ctype="application/ocsp-request")
        if secs < 0.01:
            break
    return body


def main():
    fd_limit = raise_fd_limit()
    print(f"open-file limit of the test: {fd_limit}")
    tmp = workdir("frontdoor")
    try:
        d, pem = demo_install(tmp)
        set_config(d, access_log=False, http_head_timeout_s=5)
        srv = Server(d)
        try:
            port = port_of(srv)
            check_framing(port)
            check_headers(srv)
            ocsp_req = presigned_request(srv, d, pem, tmp)
            check_per_source_limit(port, 64)
            check_head_deadline(port, 5)
            if fd_limit >= 3300:
                check_slowloris(srv, pem, tmp, ocsp_req)
            else:
                check(False, f"the test needs 3300 file descriptors "
                      f"(has {fd_limit})")
            check_cpu(srv, ocsp_req)
        finally:
            check(srv.stop() == 0, "llaved stops cleanly")
        check_busy_queue(d)
        check_orphans(d)
    finally:
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
