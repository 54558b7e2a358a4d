"""Issue 13 item 7: parsers that share no code with OpenSSL read what llave
produces.

On one demo install: one certificate of every issuable profile (`llave
profile list`; RSA CSRs, EC CSRs for two website profiles, keys in the key
store for the cloud profiles), every CA and service certificate of the
ceremony (`llave ca list` / `ca export`: CAs, TSA, OCSP responders, audit
seal), and real OCSP responses from llaved's /ocsp (good with and without a
nonce, revoked, a CA certificate at the root's responder).  Then:

* Go 1.19 (tests/go/parsecheck.go): x509.ParseCertificate and x509.Verify
  up to the root on every certificate; ocsp.ParseResponseForCert with the
  issuer (signature, delegated responder) on every response.  Go's
  encoding/asn1 refuses OID components above 2^31-1, which the old default
  arc 2.25.<UUID> had, making every certificate and response unreadable to
  Go-based tools (zlint, Kubernetes, Caddy, Terraform).  A control
  certificate with such an arc shows the checker still catches that.
* GnuTLS as a second verifier: `certtool -i` parses every certificate,
  `certtool --verify` checks every chain (certificate + issuing CA) against
  the root alone, `ocsptool -e` checks every response against its issuing
  CA.

The TLS-specific rules (purpose sslserver, the TLS CA's EKU) are not judged
here: every chain must just parse and verify.  Missing tools fail the test
unless LLAVE_ALLOW_SKIP=1 (then SKIP)."""
import json
import os
import re

from lvtest import (SUBJECTS, Server, check, cleanup, demo_install, finish,
                    llave, new_csr, openssl, workdir)
from parsers import (certtool_info, certtool_verify, go_ocsp, go_parse,
                     go_version, ocsp_fetch, ocsptool_verify, require_tools)

ARC_2_25 = "2.25.329800735698586629295641978511506172918"
EC_VARIANTS = ("web-ov", "web-ev")  # also issued for a P-256 key
OTHER_NIF = "A58818501"  # a second subscriber (CPS §3.1.5: one valid each)


def control(tmp):
    """A certificate whose policy is under 2.25.<UUID>: Go must refuse it
    while GnuTLS reads it, or the Go checks below prove nothing."""
    cert = os.path.join(tmp, "control-2.25.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            os.path.join(tmp, "control.key"), "-subj", "/CN=control",
            "-days", "1", "-addext",
            f"certificatePolicies={ARC_2_25}.1", "-out", cert, check_rc=0)
    rc, out = go_parse([cert])
    why = out.strip().rsplit(": ", 1)[-1]
    check(rc != 0 and "invalid certificate policies" in out,
          f"control: {go_version()} refuses a {ARC_2_25[:8]}… policy: {why}")
    rc, _ = certtool_info(cert)
    check(rc == 0, "control: GnuTLS reads the same certificate")


def components_fit(oid):
    return all(int(c) <= 2**31 - 1 for c in oid.split("."))


def ec_subject(tmp, profile, path):
    """The example subject as another subscriber: other names, other NIF."""
    with open(path) as f:
        subject = json.load(f)
    subject["dns_names"] = ["ec-" + n for n in subject["dns_names"]]
    for k in ("organization_id", "registration_number"):
        if k in subject:
            subject[k] = OTHER_NIF
    out = os.path.join(tmp, f"{profile}-ec.json")
    with open(out, "w") as f:
        json.dump(subject, f)
    return out


def issue_all(d, tmp):
    """One certificate per profile (+ EC variants); [(label, path, CA)]."""
    profiles = [l.split()[0] for l in
                llave(d, "profile", "list", check_rc=0)[1].splitlines()]
    check(len(profiles) >= 18, f"{len(profiles)} profiles listed")
    issued = []
    for p in profiles:
        table = json.loads(llave(d, "profile", "show", p, check_rc=0)[1])
        check(components_fit(table["oid"]),
              f"{p}: policy OID {table['oid']} has no component > 2^31-1")
        subject = os.path.join(SUBJECTS, f"{p}.json")
        if not check(os.path.exists(subject), f"{p}: example subject"):
            continue
        keys = [("rsa", "rsa:2048")]
        if p in EC_VARIANTS:
            keys.append(("ec", "ec:" + ec_params(tmp)))
        for kind, spec in keys:
            label = p if kind == "rsa" else f"{p}-ec"
            out = os.path.join(tmp, f"{label}.pem")
            subj = subject if kind == "rsa" else ec_subject(tmp, p, subject)
            args = ["cert", "issue", p, "--subject", subj, "--out", out]
            csr = [] if table["cloud"] else \
                ["--csr", new_csr(tmp, label, spec)]
            rc, _, err = llave(d, *args, *csr)
            if rc != 0 and csr and "CSR is not accepted" in err:
                rc, _, err = llave(d, *args)  # key made by llave (tsa)
            if check(rc == 0, f"{label}: issued ({err.strip()})"):
                issued.append((label, out, table["issuer"]))
    return issued


def ec_params(tmp):
    path = os.path.join(tmp, "p256.param")
    if not os.path.exists(path):
        openssl("ecparam", "-name", "prime256v1", "-out", path, check_rc=0)
    return path


def service_certs(d, pem):
    """{name: (path, issuer, is_ca)} of the ceremony's certificates, from
    `llave ca list` and the files `llave ca export` wrote."""
    out = {}
    for line in llave(d, "ca", "list", check_rc=0)[1].splitlines():
        m = re.match(r"(\S+)\s+(\S+)\s+(\S+)\s+issuer=(\S+)", line)
        if not m or m.group(3) != "active":
            continue
        name, path = m.group(1), os.path.join(pem, f"{m.group(1)}.pem")
        if check(os.path.exists(path), f"{name}: exported"):
            bc = openssl("x509", "-in", path, "-noout", "-ext",
                         "basicConstraints")[1]
            out[name] = (path, m.group(4), "CA:TRUE" in bc)
    return out


def check_go(pem, tmp, services, issued):
    """Every certificate read by Go and verified up to the root alone; the
    exported bundle (chain.pem) parsed whole."""
    inter = os.path.join(tmp, "intermediates.pem")
    with open(inter, "w") as f:
        for name, (path, _, is_ca) in services.items():
            if is_ca and name != "root":
                with open(path) as g:
                    f.write(g.read())
    every = [(f"ceremony {n}", p) for n, (p, _, _) in services.items()] + \
        [(f"profile {label}", p) for label, p, _ in issued]
    paths = [p for _, p in every] + [os.path.join(pem, "chain.pem")]
    rc, out = go_parse(paths, roots=os.path.join(pem, "root.pem"),
                       intermediates=inter)
    print(out.rstrip())
    check(rc == 0, f"Go reads and verifies all {len(paths)} files")
    for label, path in every:
        ok = re.search(rf"^cert {re.escape(path)}: subject=", out, re.M)
        check(ok and f"FAIL {path}" not in out, f"Go: {label}")
    check("unhandled critical extension" not in out,
          "Go: no unhandled critical extension anywhere")


def check_gnutls(pem, tmp, services, issued):
    """certtool -i on each certificate; certtool --verify on each chain
    (certificate + issuing CA) with only the root trusted."""
    root = os.path.join(pem, "root.pem")
    every = [(f"ceremony {n}", p, i) for n, (p, i, _) in services.items()] + \
        [(f"profile {label}", p, i) for label, p, i in issued]
    for label, path, issuer in every:
        rc, out = certtool_info(path)
        check(rc == 0 and "Subject:" in out, f"certtool -i: {label}")
        if path == root:
            continue
        if not check(issuer in services, f"{label}: issuing CA {issuer} "
                                         "exported"):
            continue
        chain = [path] if issuer == "root" else [path, services[issuer][0]]
        via = "" if issuer == "root" else f" + the {issuer} CA"
        ok, out = certtool_verify(root, chain, tmp)
        if not check(ok, f"certtool --verify: {label}{via}, root trusted"):
            print(out)


def revoke(d, path):
    serial = openssl("x509", "-in", path, "-noout", "-serial",
                     check_rc=0)[1].strip().split("=")[1]
    rc, _, err = llave(d, "cert", "revoke", serial, "--reason",
                       "keyCompromise")
    check(rc == 0, f"revoked {serial} (keyCompromise) {err.strip()}")


def check_ocsp(d, pem, tmp, services, issued):
    """Real responses of llaved's /ocsp, read by Go and by GnuTLS."""
    leaves = {label: (p, i) for label, p, i in issued}
    leaves["qualified CA"] = services["qualified"][:2]
    if "eseal" in leaves:
        revoke(d, leaves["eseal"][0])
    cases = [("natural-person-cloud", True, "good"),
             ("natural-person-cloud", False, "good"),
             ("web-ov", True, "good"),
             ("eseal", False, "revoked"),
             ("eseal", True, "revoked"),
             ("qualified CA", True, "good")]
    srv = Server(d)
    try:
        for name, nonce, want in cases:
            label = f"OCSP {name} ({'nonce' if nonce else 'pre-signed'})"
            if name not in leaves:  # its issuance failed above
                continue
            cert, issuer = leaves[name]
            issuer_pem = services[issuer][0]
            resp = os.path.join(tmp, f"ocsp-{name.replace(' ', '-')}-"
                                     f"{'nonce' if nonce else 'presigned'}.der")
            status = ocsp_fetch(srv, issuer_pem, cert, resp, nonce)
            if not check(status == 200, f"{label}: HTTP {status}"):
                continue
            rc, out = go_ocsp(resp, issuer_pem, cert, want)
            print(out.rstrip())
            reason = "reason=1 " if want == "revoked" else ""
            check(rc == 0 and f"status={want}" in out and reason in out,
                  f"{label}: Go parses it, signature checked: {want}"
                  + (" (keyCompromise)" if reason else ""))
            ok, out = ocsptool_verify(resp, issuer_pem)
            if not check(ok and f"Certificate Status: {want}" in out,
                         f"{label}: GnuTLS ocsptool verifies it: {want}"):
                print(out)
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")


def main():
    require_tools()
    tmp = workdir("parsers")
    control(tmp)
    d, pem = demo_install(tmp)
    with open(os.path.join(d, "llave.json")) as f:
        arc = json.load(f)["oid_arc"]
    check(components_fit(arc), f"demo oid_arc {arc}: every component fits "
                               "Go 1.19's encoding/asn1 (< 2^31)")
    services = service_certs(d, pem)
    check({"root", "tsa"} <= set(services)
          and any(n.endswith("-ocsp") for n in services),
          f"ceremony certificates: {', '.join(services)}")
    issued = issue_all(d, tmp)
    check_go(pem, tmp, services, issued)
    check_gnutls(pem, tmp, services, issued)
    check_ocsp(d, pem, tmp, services, issued)
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
