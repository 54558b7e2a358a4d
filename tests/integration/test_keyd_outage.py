#!/usr/bin/env python3
"""llaved without its key service (issue 12 items 1, 2 and 10).

A demo llaved starts its own llave-keyd as a child process.  The test
checks that llaved itself holds no key: no descriptor of it points into
DIR/keys/, and the binary has no symbol of src/keys/ (tests/nm_llaved.sh
checks that on every build too).  Then it kills keyd with SIGKILL, as a
crash or the OOM killer would: key operations (a time-stamp, keyd's status
relay) answer 503 with Retry-After at once, while a pre-signed OCSP
response, the CRLs, the repository and /healthz keep answering 200.  llaved
restarts keyd (a demo keyd opens the store again from the demo shares),
signing works again, and stopping llaved stops its keyd and removes the
socket.
"""
import base64
import os
import signal
import time

from lvtest import (Server, check, cleanup, demo_install, finish, openssl,
                    sql, workdir)


def children(pid):
    """Direct children of pid (every thread's list)."""
    out = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def keyd_of(pid):
    for c in children(pid):
        try:
            with open(f"/proc/{c}/cmdline", "rb") as f:
                if b"llave-keyd" in f.read():
                    return c
        except OSError:
            pass
    return None


def open_files(pid):
    fds = f"/proc/{pid}/fd"
    out = []
    for fd in os.listdir(fds):
        try:
            out.append(os.readlink(os.path.join(fds, fd)))
        except OSError:
            pass
    return out


def ts_query(tmp):
    data = os.path.join(tmp, "data.txt")
    with open(data, "w") as f:
        f.write("keyd outage\n")
    q = os.path.join(tmp, "q.tsq")
    openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", q,
            check_rc=0)
    with open(q, "rb") as f:
        return f.read()


def ocsp_path(tmp, pem, d):
    """GET path of an OCSP request for the demo citizen's certificate, whose
    response the refresher pre-signed."""
    serial, ca = sql(d, "select serial, ca from certs order by rowid limit 1"
                     ).strip().split("|")
    req = os.path.join(tmp, "ocsp.der")
    openssl("ocsp", "-issuer", os.path.join(pem, f"{ca}.pem"), "-serial",
            "0x" + serial, "-no_nonce", "-reqout", req, check_rc=0)
    with open(req, "rb") as f:
        return "/ocsp/" + base64.b64encode(f.read()).decode().replace(
            "/", "%2F").replace("+", "%2B").replace("=", "%3D"), ca


def serving(srv, ocsp, ca, what):
    st, h, _ = srv.get(ocsp)
    check(st == 200 and h.get("Content-Type") == "application/ocsp-response",
          f"{what}: the pre-signed OCSP response is served ({st})")
    st, _, _ = srv.get(f"/crl/{ca}.crl")
    check(st == 200, f"{what}: the CRL downloads ({st})")
    st, _, _ = srv.get("/repository/")
    check(st == 200, f"{what}: the repository answers ({st})")
    st, _, _ = srv.get("/healthz")
    check(st == 200, f"{what}: /healthz answers ({st})")


def tsa(srv, q):
    return srv.post("/tsa", q, "application/timestamp-query")


def granted(body, tmp="/tmp"):
    path = os.path.join(tmp, f"reply-{os.getpid()}.tsr")
    with open(path, "wb") as f:
        f.write(body)
    rc, out, _ = openssl("ts", "-reply", "-in", path, "-text")
    os.unlink(path)
    return rc == 0 and "Status: Granted." in out


def main():
    tmp = workdir("keyd-outage")
    try:
        d, pem = demo_install(tmp)
        keys_dir = os.path.realpath(os.path.join(d, "keys"))
        q = ts_query(tmp)
        ocsp, ca = ocsp_path(tmp, pem, d)
        srv = Server(d)
        try:
            pid = srv.proc.pid
            keyd = keyd_of(pid)
            check(keyd is not None, f"llaved started llave-keyd as its child "
                                    f"(pid {keyd})")
            sock = os.path.join(d, "keyd.sock")
            check(os.path.exists(sock), "keyd listens on DIR/keyd.sock")
            st, _, body = tsa(srv, q)
            check(st == 200 and granted(body), "a time-stamp is granted")
            files = open_files(pid)
            check(not any(f.startswith(keys_dir) for f in files),
                  f"llaved has no file of DIR/keys/ open ({len(files)} fds)")
            kfiles = open_files(keyd) if keyd else []
            check(not any(f.startswith(keys_dir + "/") and
                          f.endswith(".key") for f in files),
                  "no key file among llaved's descriptors")
            print(f"     keyd holds {len(kfiles)} descriptors")
            with open(f"/proc/{pid}/maps") as f:
                check("libgfshare" not in f.read(),
                      "llaved has not loaded libgfshare (no share code)")

            # the key service dies
            os.kill(keyd, signal.SIGKILL)
            t0 = time.monotonic()
            st, h, _ = tsa(srv, q)
            dt = time.monotonic() - t0
            check(st == 503 and h.get("Retry-After") == "1",
                  f"keyd killed: POST /tsa answers 503 + Retry-After at once "
                  f"({st} in {dt * 1000:.0f} ms)")
            check(dt < 2, "the 503 comes at once, not after a timeout")
            st, _, _ = srv.get("/api/v1/unseal")
            check(st in (200, 503),
                  f"keyd's status relay answers ({st}: 503 while it is away)")
            serving(srv, ocsp, ca, "keyd away")

            # llaved restarts it (demo: unsealed again from the shares file)
            new = None
            for _ in range(100):
                new = keyd_of(pid)
                if new and new != keyd:
                    break
                time.sleep(0.1)
            check(new is not None and new != keyd,
                  f"llaved restarted llave-keyd (pid {new})")
            ok = False
            for _ in range(50):
                st, _, body = tsa(srv, q)
                if st == 200 and granted(body):
                    ok = True
                    break
                time.sleep(0.1)
            check(ok, "signing works again: a time-stamp is granted")
            serving(srv, ocsp, ca, "keyd back")
            check(not any(f.startswith(keys_dir) for f in open_files(pid)),
                  "still no file of DIR/keys/ open in llaved")
            log = srv.read_log()
            check("llave-keyd restarted" in log,
                  "llaved logs the restart")
        finally:
            check(srv.stop() == 0, "llaved stops cleanly")
        time.sleep(0.2)
        gone = True
        try:
            os.kill(new, 0)
            gone = False
        except (OSError, TypeError):
            pass
        check(gone and not os.path.exists(os.path.join(d, "keyd.sock")),
              "llaved stopped its keyd: no process, no socket")
        restarts = sql(d, "select count(*) from audit_log where event = "
                          "'keyd.start' and details like '%keyd.sock%'")
        check(restarts.strip() == "2",
              f"both keyd starts are in the audit trail ({restarts.strip()})")
    finally:
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
