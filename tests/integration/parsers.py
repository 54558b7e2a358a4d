"""Independent parsers for what llave emits (issue 13 item 7): helpers any
integration test may import.

Two readers that share no code with OpenSSL (which every other test uses):

* Go's crypto/x509 and golang.org/x/crypto/ocsp, through tests/go/
  parsecheck.go, built once per test run in GOPATH mode against Debian's
  golang-go (1.19) and golang-golang-x-crypto-dev: no module is fetched.
  Go 1.19's encoding/asn1 refuses OID components above 2^31-1, so an arc
  like 2.25.<UUID> makes a certificate or OCSP response unreadable to Go and
  to everything built on it (zlint, Kubernetes, Caddy, Terraform); OpenSSL
  and GnuTLS read such arcs, so only Go catches that.
* GnuTLS (Debian gnutls-bin): `certtool -i` parses a certificate,
  `certtool --verify` builds and checks a chain up to a given root, and
  `ocsptool` parses an OCSP response and checks its signature against the
  issuing CA as the trust anchor (delegated responder included).

Missing tools are a failure unless LLAVE_ALLOW_SKIP=1 (require_tools).
"""
import os
import shutil
import sys
import tempfile

from lvtest import BUILD, SOURCE, run

GO_SRC = os.path.join(SOURCE, "tests", "go", "parsecheck.go")
GOPATH = "/usr/share/gocode"  # Debian's golang-*-dev sources
X_OCSP = os.path.join(GOPATH, "src", "golang.org", "x", "crypto", "ocsp")

_checker = None


def missing_tools():
    """What this machine lacks of go, x/crypto/ocsp, certtool and ocsptool
    (scripts/setup installs them)."""
    missing = [t for t in ("go", "certtool", "ocsptool")
               if shutil.which(t) is None]
    if not os.path.isdir(X_OCSP):
        missing.append(f"golang-golang-x-crypto-dev ({X_OCSP})")
    return missing


def require_tools():
    """Exits 0 with SKIP when tools are missing and LLAVE_ALLOW_SKIP=1 is
    set; exits 1 when they are missing otherwise."""
    missing = missing_tools()
    if not missing:
        return
    if os.environ.get("LLAVE_ALLOW_SKIP") == "1":
        print(f"SKIP: missing {', '.join(missing)} (LLAVE_ALLOW_SKIP=1)")
        sys.exit(0)
    print(f"FAIL missing {', '.join(missing)}: run scripts/setup "
          "(or set LLAVE_ALLOW_SKIP=1 to skip)")
    sys.exit(1)


def go_env():
    """GOPATH mode, no proxy, no network; the build cache in the build
    directory so later runs are quick."""
    return dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOPROXY="off",
                GOFLAGS="", CGO_ENABLED="0",
                GOCACHE=os.path.join(BUILD, "go-cache"))


def checker():
    """Path of parsecheck, built into the build directory once per process
    (under a private name, then renamed: tests running at the same time
    never run a half-written binary)."""
    global _checker
    if _checker is None:
        out = os.path.join(BUILD, "parsecheck")
        tmp = f"{out}.{os.getpid()}"
        rc, o, e = run(["go", "build", "-o", tmp, GO_SRC], env=go_env())
        if rc != 0:
            raise RuntimeError(f"go build {GO_SRC} failed:\n{o}{e}")
        os.replace(tmp, out)
        _checker = out
    return _checker


def go_version():
    return run(["go", "env", "GOVERSION"], env=go_env())[1].strip()


def go_parse(paths, roots=None, intermediates=None):
    """x509.ParseCertificate on each file (PEM or DER); with roots, also
    x509.Verify (any EKU).  Returns (rc, output); rc 0 iff all passed."""
    args = [checker()]
    if roots:
        args += ["--roots", roots]
        if intermediates:
            args += ["--intermediates", intermediates]
    rc, out, err = run([*args, *paths])
    return rc, out + err


def go_ocsp(resp, issuer, cert=None, expect=None):
    """ocsp.ParseResponseForCert with the issuer: signature checked (and a
    delegated responder's OCSPSigning EKU); expect: good|revoked|unknown."""
    args = [checker(), "--ocsp", resp, "--issuer", issuer]
    if cert:
        args += ["--cert", cert]
    if expect:
        args += ["--expect", expect]
    rc, out, err = run(args)
    return rc, out + err


def _is_der(path):
    with open(path, "rb") as f:
        return b"-----BEGIN" not in f.read()


def certtool_info(path):
    """`certtool -i`: GnuTLS parses and prints the (first) certificate."""
    args = ["certtool", "-i", "--infile", path]
    if _is_der(path):
        args.append("--inder")
    rc, out, err = run(args)
    return rc, out + err


def certtool_verify(root, chain, workdir=None):
    """`certtool --verify` of chain (one PEM file, or a list of PEM files
    concatenated leaf first) against root alone, with GnuTLS's medium
    verification profile.  Returns (ok, output)."""
    if not isinstance(chain, str):
        fd, path = tempfile.mkstemp(suffix=".pem", dir=workdir)
        with os.fdopen(fd, "w") as f:
            for p in chain:
                with open(p) as g:
                    f.write(g.read())
        chain = path
    rc, out, err = run(["certtool", "--verify", "--verify-profile", "medium",
                        "--load-ca-certificate", root, "--infile", chain])
    out += err
    return (rc == 0 and "Chain verification output: Verified." in out), out


def ocsptool_verify(resp, issuer):
    """`ocsptool -e` with the issuing CA as the only trust anchor: GnuTLS
    parses the response and checks who signed it.  Returns (ok, output)."""
    rc, out, err = run(["ocsptool", "-e", "--load-trust", issuer,
                        "--infile", resp])
    out += err
    return (rc == 0 and "Verifying OCSP Response: Success" in out), out


def ocsp_fetch(srv, issuer, cert, out, nonce=True):
    """POSTs an `openssl ocsp` request for cert to srv's /ocsp; writes the
    DER answer to out and returns the HTTP status."""
    req = out + ".req"
    run(["openssl", "ocsp", "-issuer", issuer, "-cert", cert, "-reqout", req,
         *([] if nonce else ["-no_nonce"])], check_rc=0)
    with open(req, "rb") as f:
        status, _, body = srv.post("/ocsp", f.read(),
                                   "application/ocsp-request")
    with open(out, "wb") as f:
        f.write(body)
    return status
