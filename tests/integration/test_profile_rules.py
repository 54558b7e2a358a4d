"""Issue 13 item 7: the website certificates, the TLS CA and the
configuration rules, clause by clause, read back with `openssl x509 -text`
and `openssl asn1parse -strparse`.

test_ca checks every profile against its table (policy order, no userNotice,
no SKI) and test_parsers has Go and GnuTLS parse every certificate; this
test judges what issue 13 changed:

* Production `llave init` (no --demo) refuses a configuration whose
  certificates would break the rules (placeholder or Go-unreadable arc,
  https status links, http documents) before anything is written, and
  accepts the operator's own arc with http status_url and https
  documents_url; the URLs in a certificate of that install are read back
  (CRL DP, AIA, CPS qualifier, QcPDS).  A --demo init warns of the
  placeholder arc.
* On a demo install: web-ov, web-ov-wildcard, web-ev and web-ev-psd2 for an
  RSA key and a P-256 key (two subscribers): keyUsage by key type (BR
  §7.1.2.7.11; keyEncipherment for RSA only when tls_rsa_key_encipherment),
  EKU serverAuth alone, validity per the SC-081 schedule (BR §6.3.2), issued
  by the TLS CA, subject RDN order (BR §7.1.4.2), cabfOrganizationIdentifier
  on EV (EVG §9.8.2) as DER, `openssl verify -purpose sslserver` and GnuTLS
  `certtool --verify` with purpose serverAuth and the host name.
* The CAs' EKUs (serverAuth in the TLS CA only, none in the root) and the
  OCSP responders (no certificatePolicies, OCSPSigning, ocsp-nocheck,
  C, L, O, ..., CN).
* The SC-081 steps of 2027 and 2029 through an injectable clock: Debian's
  faketime (libfaketime is preloaded into llave and the llave-keyd it
  starts).
* `llave ca add-tls` on an install without a TLS CA (made by removing it
  from a demo install's store): issuance names the command, two operators
  must confirm, the new CA issues and verifies, a second run is refused,
  the audit trail names both operators.

Missing certtool or faketime fail the test unless LLAVE_ALLOW_SKIP=1."""
import datetime
import json
import os
import re
import shutil
import sys

from lvtest import (LLAVE, SOURCE, SUBJECTS, Server, check, cleanup, finish,
                    llave, new_csr, openssl, operator_lines, run, set_config,
                    sql, two_person, workdir, x509_text)
from parsers import certtool_verify, ocsp_fetch

WEB = ("web-ov", "web-ov-wildcard", "web-ev", "web-ev-psd2")
EV = ("web-ev", "web-ev-psd2")
PLACEHOLDER_ARC = "1.3.6.1.4.1.32473"  # RFC 5612
UUID_ARC = "2.25.329800735698586629295641978511506172918"
OWN_ARC = "1.3.6.1.4.1.59999.13"
STATUS_URL = "http://status.example.test"
DOCUMENTS_URL = "https://docs.example.test"
SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
OID_CABF_ORG_ID = "2.23.140.3.1"
DAY = 86400

# BR §6.3.2 as amended by ballot SC-081: maximum validity by issuance date.
SC081 = ((datetime.datetime(2029, 3, 15), 47),
         (datetime.datetime(2027, 3, 15), 100),
         (datetime.datetime(2026, 3, 15), 200))

# BR §7.1.4.2: the relative order of these subject attributes.
BR_ORDER = ["domainComponent", "countryName", "stateOrProvinceName",
            "localityName", "postalCode", "streetAddress", "organizationName",
            "surname", "givenName", "organizationalUnitName", "commonName"]

# The second, third... subscribers (CPS §3.1.5: one valid certificate per
# subscriber and profile): other names, other organization, other NIF.
OTHER_NIF = "A58818501"


def require_tools():
    missing = [t for t in ("certtool", "faketime", "sqlite3")
               if shutil.which(t) is None]
    if not missing:
        return
    if os.environ.get("LLAVE_ALLOW_SKIP") == "1":
        print(f"SKIP: missing {', '.join(missing)} (LLAVE_ALLOW_SKIP=1)")
        sys.exit(0)
    print(f"FAIL missing {', '.join(missing)}: run scripts/setup "
          "(or set LLAVE_ALLOW_SKIP=1 to skip)")
    sys.exit(1)


# ---- reading certificates ---------------------------------------------------

def ext_block(text, name):
    """The header line and the lines below it of one extension in
    `openssl x509 -text`; "" when absent."""
    m = re.search(r"\n( +)" + re.escape(name) +
                  r"(: critical|:)[^\n]*\n((?:\1 +[^\n]*\n)*)", text)
    return m.group(0).strip("\n") if m else ""


def ext_values(text, name):
    """(critical, [comma-separated values of the first value line]) or
    (None, []) when the extension is absent."""
    block = ext_block(text, name)
    if not block:
        return None, []
    lines = block.split("\n")
    values = [v.strip() for v in lines[1].split(",")] if len(lines) > 1 else []
    return lines[0].rstrip().endswith("critical"), values


def ext_der(pem, oid):
    """(critical, asn1parse of the extension's value) of the extension whose
    extnID asn1parse prints as `oid`; None when absent."""
    lines = openssl("asn1parse", "-in", pem, check_rc=0)[1].splitlines()
    for i, line in enumerate(lines):
        if re.search(r"prim: OBJECT +:" + re.escape(oid) + r"\s*$", line):
            j = i + 1
            critical = "prim: BOOLEAN" in lines[j]
            if critical:
                j += 1
            if "OCTET STRING" not in lines[j]:
                return None
            off = re.match(r"\s*(\d+):", lines[j]).group(1)
            return critical, openssl("asn1parse", "-in", pem, "-strparse",
                                     off, check_rc=0)[1]
    return None


def prims(asn1):
    """[(type, value)] of the primitive items of an asn1parse listing."""
    return re.findall(r"prim: (\S+) +:(.*)$", asn1, re.M)


def subject_attrs(pem, which="-subject"):
    """[(long name, value)] of a certificate's subject, in DER order."""
    out = openssl("x509", "-in", pem, "-noout", which, "-nameopt",
                  "multiline,utf8,-esc_msb", check_rc=0)[1]
    return re.findall(r"^\s+(\w+)\s+= (.*)$", out, re.M)


def br_order_ok(attrs):
    """BR §7.1.4.2: the attributes it lists appear in its relative order."""
    ranks = [BR_ORDER.index(n) for n, _ in attrs if n in BR_ORDER]
    return ranks == sorted(ranks)


def dates(pem):
    out = openssl("x509", "-in", pem, "-noout", "-startdate", "-enddate",
                  check_rc=0)[1]
    fmt = "%b %d %H:%M:%S %Y %Z"

    def one(key):
        v = re.search(rf"{key}=(.*)", out).group(1)
        return datetime.datetime.strptime(re.sub(r" +", " ", v), fmt)
    return one("notBefore"), one("notAfter")


def max_days(issued):
    return next((d for start, d in SC081 if issued >= start), 398)


def serial_of(pem):
    return openssl("x509", "-in", pem, "-noout", "-serial",
                   check_rc=0)[1].strip().split("=")[1]


def urls(text):
    return re.findall(r"URI:(\S+)", text)


# ---- subjects and issuance --------------------------------------------------

def subscriber(tmp, profile, tag=None, nif=OTHER_NIF):
    """The example subject of `profile`, or with tag another subscriber: DNS
    names under TAG.example.es, its own organization and NIF."""
    with open(os.path.join(SUBJECTS, f"{profile}.json")) as f:
        s = json.load(f)
    if tag is None:
        return os.path.join(SUBJECTS, f"{profile}.json"), s
    s["dns_names"] = [n.replace("pruebas.example.es", f"{tag}.example.es")
                      for n in s["dns_names"]]
    s["organization"] = f"Organization {tag.capitalize()}"
    for k in ("organization_id", "registration_number"):
        if k in s:
            s[k] = nif
    if "psd2" in s:
        s["psd2"]["authorization_number"] = f"DE{tag.upper()[:8]}"
    path = os.path.join(tmp, f"{profile}-{tag}.json")
    with open(path, "w") as f:
        json.dump(s, f)
    return path, s


def p256(tmp):
    path = os.path.join(tmp, "p256.param")
    if not os.path.exists(path):
        openssl("ecparam", "-name", "prime256v1", "-out", path, check_rc=0)
    return "ec:" + path


def issue(d, tmp, profile, subj, label, keyspec="rsa:2048", prefix=(),
          env=None, share_args=()):
    out = os.path.join(tmp, f"{label}.pem")
    csr = new_csr(tmp, label, keyspec)
    rc, so, err = run([*prefix, LLAVE, "-d", d, *share_args, "cert", "issue",
                       profile, "--subject", subj, "--csr", csr, "--out",
                       out], env=env)
    return rc, out, (so + err).strip()


def verify_sslserver(pem, chain, cert):
    rc, out, err = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                           "-CAfile", f"{pem}/root.pem", "-untrusted",
                           chain, cert)
    return rc == 0 and f"{cert}: OK" in out, (out + err).strip()


def certtool_purpose(root, chain, host, purpose=SERVER_AUTH):
    """GnuTLS: the chain (leaf first, one file) against the root alone, for
    a purpose and a host name.  Returns (ok, last line of the verdict)."""
    rc, out, err = run(["certtool", "--verify", "--verify-profile", "medium",
                        "--load-ca-certificate", root, "--infile", chain,
                        f"--verify-purpose={purpose}",
                        f"--verify-hostname={host}"])
    out += err
    verdict = re.findall(r"Chain verification output: (.*)", out)
    ok = rc == 0 and verdict and verdict[-1].startswith("Verified.")
    return ok, (verdict[-1] if verdict else out.strip()[-200:])


def concat(tmp, name, *paths):
    out = os.path.join(tmp, name)
    with open(out, "w") as f:
        for p in paths:
            with open(p) as g:
                f.write(g.read())
    return out


# ---- production init --------------------------------------------------------

def init_refused(tmp, label, config, wants):
    d = os.path.join(tmp, label)
    args = [LLAVE, "init", d]
    if config is not None:
        path = os.path.join(tmp, f"{label}.json")
        with open(path, "w") as f:
            json.dump(config, f)
        args += ["--config", path]
    rc, out, err = run(args)
    said = [w for w in wants if w in err]
    last = err.strip().splitlines()[-1] if err.strip() else out.strip()
    check(rc != 0 and said == list(wants) and
          not os.path.exists(os.path.join(d, "llave.db")),
          f"production init refused ({label}): stderr names "
          f"{', '.join(wants)}; no llave.db: {last}")
    return err


def check_production(tmp):
    err = init_refused(tmp, "no-config", None, ("documents_url", "oid_arc"))
    check("placeholder" in err and "status_url" not in err,
          "no config: the default arc is called a placeholder; the http "
          "default status link is fine")
    good = {"status_url": STATUS_URL, "documents_url": DOCUMENTS_URL}
    init_refused(tmp, "uuid-arc", dict(good, oid_arc=UUID_ARC),
                 ("oid_arc", "2^31-1", "Go"))
    init_refused(tmp, "https-status", dict(good, oid_arc=OWN_ARC,
                                           status_url="https://status."
                                           "example.test"),
                 ("status_url", "https://status.example.test", "is not http"))
    init_refused(tmp, "http-documents", dict(good, oid_arc=OWN_ARC,
                                             documents_url="http://docs."
                                             "example.test"),
                 ("documents_url", "is not https"))
    # a good configuration: the operator's own arc, both URLs right
    d = os.path.join(tmp, "prod")
    conf = os.path.join(tmp, "prod-config.json")
    with open(conf, "w") as f:
        json.dump(dict(good, oid_arc=OWN_ARC, tsa_require_clock_sync=False),
                  f)
    rc, out, err = run([LLAVE, "init", d, "--config", conf])
    shares = re.findall(r"custodian \d: (llave-share-\S+)", out)
    check(rc == 0 and os.path.exists(os.path.join(d, "llave.db")) and
          len(shares) == 3 and "configuration:" not in err,
          f"production init accepted (own arc {OWN_ARC}, http status_url, "
          "https documents_url), no finding, three custodian shares")
    if rc != 0:
        print(out, err)
        return
    with open(os.path.join(d, "llave.json")) as f:
        cfg = json.load(f)
    check((cfg.get("oid_arc"), cfg.get("status_url"),
           cfg.get("documents_url")) == (OWN_ARC, STATUS_URL, DOCUMENTS_URL),
          "llave.json keeps the arc and both URLs")
    files = []
    for i, s in enumerate(shares[:2]):
        files += ["--share", os.path.join(tmp, f"share-{i}")]
        with open(files[-1], "w") as f:
            f.write(s + "\n")
    pem = os.path.join(tmp, "prod-pem")
    llave(d, *files, "ca", "export", pem, check_rc=0)
    check_urls(d, tmp, pem, files)


def check_urls(d, tmp, pem, share_args):
    """Status links over status_url (http), documents over documents_url
    (https), in the CA certificates and in a website and a seal
    certificate; nothing from public_url."""
    tls = x509_text(f"{pem}/tls.pem")
    want = [f"{STATUS_URL}/crl/root.crl", f"{STATUS_URL}/ocsp",
            f"{STATUS_URL}/ca/root.crt"]
    check(urls(tls) == want, "TLS CA: CRL DP and AIA of the root on "
                             f"status_url: {urls(tls)}")
    for profile, ca, label in (("web-ev-psd2", "tls", "prod-qwac"),
                               ("eseal", "qualified", "prod-eseal")):
        subj, _ = subscriber(tmp, profile)
        rc, cert, err = issue(d, tmp, profile, subj, label,
                              share_args=share_args)
        if not check(rc == 0, f"{label}: {profile} issued with two "
                              f"custodian shares: {err}"):
            continue
        text = x509_text(cert)
        check(urls(text) == [f"{STATUS_URL}/crl/{ca}.crl",
                             f"{STATUS_URL}/ocsp",
                             f"{STATUS_URL}/ca/{ca}.crt"],
              f"{label}: CRL DP, AIA OCSP and caIssuers are http on "
              f"status_url: {urls(text)}")
        got = ext_der(cert, "X509v3 Certificate Policies")
        cps = [v for t, v in prims(got[1]) if t == "IA5STRING"] if got else []
        check(cps == [f"{DOCUMENTS_URL}/repository/"],
              f"{label}: CPS qualifier on documents_url (asn1parse): {cps}")
        got = ext_der(cert, "qcStatements")
        pds = prims(got[1]) if got else []
        locs = [(v, pds[i + 1][1]) for i, (t, v) in enumerate(pds)
                if t == "IA5STRING" and i + 1 < len(pds)]
        check(locs == [(f"{DOCUMENTS_URL}/repository/pds-en.pdf", "en"),
                       (f"{DOCUMENTS_URL}/repository/pds-es.pdf", "es")],
              f"{label}: QcPDS (EN 319 412-5 §4.3.4) https on documents_url "
              f"(asn1parse): {locs}")
        check("127.0.0.1" not in text,
              f"{label}: nothing from the default public_url")


def demo_init(tmp):
    """`llave init --demo` with its messages kept; returns (dir, pem)."""
    d = os.path.join(tmp, "demo")
    rc, out, err = run([LLAVE, "init", d, "--demo"])
    check(rc == 0 and re.search(r"WARN configuration: oid_arc "
                                rf"{re.escape(PLACEHOLDER_ARC)} .*placeholder",
                                err),
          f"demo init with the placeholder arc {PLACEHOLDER_ARC}: "
          "succeeds, warns")
    if rc != 0:
        print(out, err)
        finish()
    pem = os.path.join(tmp, "pem")
    llave(d, "ca", "export", pem, check_rc=0)
    return d, pem


# ---- the CAs and responders -------------------------------------------------

def check_cas(pem):
    crit, eku = ext_values(x509_text(f"{pem}/tls.pem"),
                           "X509v3 Extended Key Usage")
    check(eku == ["TLS Web Server Authentication"],
          f"TLS CA: EKU serverAuth only (BR 7.1.2.10.6): {eku}")
    for ca in ("qualified", "standard"):
        _, eku = ext_values(x509_text(f"{pem}/{ca}.pem"),
                            "X509v3 Extended Key Usage")
        check(eku and "TLS Web Server Authentication" not in eku and
              "OCSP Signing" not in eku,
              f"{ca} CA: EKU without serverAuth (and OCSPSigning): {eku}")
    # OpenSSL's own judgment of each CA for TLS servers (X509_check_purpose
    # with ca=1 reads the CA's EKU)
    for ca, want in (("tls", "Yes"), ("qualified", "No"), ("standard", "No")):
        out = openssl("x509", "-in", f"{pem}/{ca}.pem", "-noout", "-purpose",
                      check_rc=0)[1]
        got = re.search(r"^SSL server CA : (\w+)", out, re.M)
        check(got and got.group(1) == want,
              f"openssl x509 -purpose: {ca} CA is an SSL server CA: {want}")
    check(ext_values(x509_text(f"{pem}/root.pem"),
                     "X509v3 Extended Key Usage") == (None, []),
          "root CA: no EKU (BR 7.1.2.1.2)")
    attrs = subject_attrs(f"{pem}/tls.pem")
    check(br_order_ok(attrs), "TLS CA subject in BR 7.1.4.2 order: "
                              f"{[n for n, _ in attrs]}")
    for ca in ("root", "qualified", "standard", "tls"):
        path = f"{pem}/{ca}-ocsp.pem"
        text = x509_text(path)
        issuer = subject_attrs(path, "-issuer")
        check(issuer == subject_attrs(f"{pem}/{ca}.pem"),
              f"{ca}-ocsp: issued by the {ca} CA")
        check("Certificate Policies" not in text,
              f"{ca}-ocsp: no certificatePolicies (BR 7.1.2.8.2)")
        _, eku = ext_values(text, "X509v3 Extended Key Usage")
        check(eku == ["OCSP Signing"], f"{ca}-ocsp: EKU OCSPSigning: {eku}")
        check("OCSP No Check" in text, f"{ca}-ocsp: id-pkix-ocsp-nocheck")
        names = [n for n, _ in subject_attrs(path)]
        check(names[:3] == ["countryName", "localityName", "organizationName"]
              and names[-1] == "commonName" and br_order_ok(
                  subject_attrs(path)),
              f"{ca}-ocsp: subject C, L, O, ..., CN (BR 7.1.4.2): "
              f"{', '.join(names)}")


# ---- website certificates ---------------------------------------------------

def host_for(s):
    """A host name the certificate must match (a wildcard's label filled)."""
    name = s["dns_names"][0]
    return "host" + name[1:] if name.startswith("*.") else name


def check_cabf(label, profile, cert):
    got = ext_der(cert, OID_CABF_ORG_ID)
    if profile not in EV:
        check(got is None, f"{label}: no cabfOrganizationIdentifier (OV)")
        return
    if not check(got is not None,
                 f"{label}: cabfOrganizationIdentifier (EVG 9.8.2) present"):
        return
    critical, asn1 = got
    check(not critical, f"{label}: cabfOrganizationIdentifier non-critical")
    items = prims(asn1)
    seq = re.match(r"\s*0:d=0 .*cons: SEQUENCE", asn1)
    types = [t for t, _ in items]
    values = [v.strip() for _, v in items]
    scheme = "PSD" if profile == "web-ev-psd2" else "VAT"
    oi = dict(subject_attrs(cert)).get("organizationIdentifier", "")
    check(seq and types == ["PRINTABLESTRING", "PRINTABLESTRING",
                            "UTF8STRING"] and values[:2] == [scheme, "ES"],
          f"{label}: SEQUENCE {{PrintableString {scheme}, PrintableString "
          f"ES, UTF8String}}: {list(zip(types, values))}")
    check(len(values) == 3 and f"{values[0]}{values[1]}-{values[2]}" == oi,
          f"{label}: the extension matches organizationIdentifier {oi}")


def check_website(d, label, profile, kind, cert, s, pem, tmp, ke=False):
    text = x509_text(cert)
    crit, ku = ext_values(text, "X509v3 Key Usage")
    want = ["Digital Signature"]
    if ke and kind == "rsa":
        want.append("Key Encipherment")
    check(crit and ku == want,
          f"{label}: keyUsage critical, exactly {', '.join(want)}: {ku}")
    crit, eku = ext_values(text, "X509v3 Extended Key Usage")
    check(crit is False and eku == ["TLS Web Server Authentication"],
          f"{label}: EKU exactly serverAuth, non-critical: {eku}")
    nb, na = dates(cert)
    days = max_days(nb)
    secs = (na - nb).total_seconds() + 1
    check(secs == days * DAY,
          f"{label}: notAfter - notBefore + 1 s = {secs / DAY:g} days = the "
          f"SC-081 maximum for {nb:%Y-%m-%d} ({days})")
    ca = sql(d, f"select ca from certs where serial='{serial_of(cert)}'")
    check(subject_attrs(cert, "-issuer") == subject_attrs(f"{pem}/tls.pem")
          and ca == "tls", f"{label}: issued by the CA named tls ({ca})")
    attrs = subject_attrs(cert)
    check(br_order_ok(attrs) and attrs[-1][0] == "commonName",
          f"{label}: subject in BR 7.1.4.2 order: "
          f"{', '.join(n for n, _ in attrs)}")
    bad = [u for u in urls(text) if not u.startswith("http://")]
    check(len(urls(text)) == 3 and not bad,
          f"{label}: CRL DP and AIA are http (BR 7.1.2.7.7, 7.1.2.11.2)")
    check_cabf(label, profile, cert)
    ok, out = verify_sslserver(pem, f"{pem}/tls.pem", cert)
    check(ok, f"{label}: openssl verify -x509_strict -purpose sslserver "
              f"via the TLS CA: {out}")
    ok, out = verify_sslserver(pem, f"{pem}/qualified.pem", cert)
    why = re.findall(r"^error \d+ at \d+ depth lookup: (.*)$", out, re.M)
    check(not ok, f"{label}: ... and fails with the qualified CA as the "
                  f"chain instead (sanity): {', '.join(why) or out}")
    chain = concat(tmp, f"{label}-chain.pem", cert, f"{pem}/tls.pem")
    host = host_for(s)
    ok, out = certtool_purpose(f"{pem}/root.pem", chain, host)
    check(ok, f"{label}: certtool --verify serverAuth, host {host}, root "
              f"the only anchor: {out}")


def check_websites(d, pem, tmp):
    ec = p256(tmp)
    first = None
    for profile in WEB:
        for kind, keyspec, tag in (("rsa", "rsa:2048", None),
                                   ("ec", ec, "segundo")):
            subj, s = subscriber(tmp, profile, tag)
            label = f"{profile}-{kind}"
            rc, cert, err = issue(d, tmp, profile, subj, label, keyspec)
            if not check(rc == 0, f"{label}: issued ({err})"):
                continue
            check_website(d, label, profile, kind, cert, s, pem, tmp)
            first = first or (cert, s)
    if first:
        # the verifiers' options have teeth: a wrong purpose, a wrong name
        cert, s = first
        chain = concat(tmp, "control-chain.pem", cert, f"{pem}/tls.pem")
        ok, out = certtool_purpose(f"{pem}/root.pem", chain, host_for(s),
                                   CLIENT_AUTH)
        check(not ok and "purpose" in out,
              f"control: certtool refuses purpose clientAuth: {out}")
        ok, out = certtool_purpose(f"{pem}/root.pem", chain,
                                   "other.example.org")
        check(not ok and "name" in out,
              f"control: certtool refuses another host name: {out}")
        ok, out = certtool_verify(f"{pem}/root.pem", chain, tmp)
        check(ok, "parsers.certtool_verify: the chain, root alone")


def check_key_encipherment(d, pem, tmp):
    """BR §7.1.2.7.11: keyEncipherment for RSA when the operator asks,
    never for EC (RFC 8813 §3)."""
    set_config(d, tls_rsa_key_encipherment=True)
    try:
        for kind, keyspec, tag in (("rsa", "rsa:2048", "tercero"),
                                   ("ec", p256(tmp), "cuarto")):
            subj, s = subscriber(tmp, "web-ov", tag)
            label = f"web-ov-{kind}-ke"
            rc, cert, err = issue(d, tmp, "web-ov", subj, label, keyspec)
            if check(rc == 0, f"{label}: issued with tls_rsa_key_"
                              f"encipherment true ({err})"):
                check_website(d, label, "web-ov", kind, cert, s, pem, tmp,
                              ke=True)
    finally:
        set_config(d, tls_rsa_key_encipherment=False)


# ---- SC-081 through an injectable clock -------------------------------------

def check_schedule(d, tmp):
    env = dict(os.environ, TZ="UTC")
    # under LLAVE_SANITIZE=1 libfaketime is preloaded before the ASan
    # runtime, which ASan refuses unless told the order is deliberate
    asan = env.get("ASAN_OPTIONS")
    if asan is not None:
        env["ASAN_OPTIONS"] = asan + ":verify_asan_link_order=0"
    for when, tag, days in (("2027-04-01 12:00:00", "abril2027", 100),
                            ("2029-06-01 00:00:00", "junio2029", 47)):
        subj, _ = subscriber(tmp, "web-ov", tag)
        label = f"web-ov-{tag}"
        rc, cert, err = issue(d, tmp, "web-ov", subj, label,
                              prefix=("faketime", when), env=env)
        if not check(rc == 0, f"faketime '{when}' llave cert issue web-ov "
                              f"(llave and its llave-keyd): {err}"):
            continue
        keyd = sql(d, "select time from audit_log where event='keyd.start' "
                      "order by seq desc limit 1")
        check(keyd.startswith(when[:10]),
              "the llave-keyd it started ran on the injected clock too "
              f"(keyd.start at {keyd})")
        nb, na = dates(cert)
        at = datetime.datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
        check(0 <= (nb - at).total_seconds() < 60,
              f"{label}: notBefore {nb} is the injected clock's")
        secs = (na - nb).total_seconds() + 1
        check(secs == days * DAY,
              f"{label}: issued {when[:10]}: {secs / DAY:g} days "
              f"(SC-081: {days})")


# ---- llave ca add-tls -------------------------------------------------------

def retention_triggers(names):
    """The CREATE TRIGGER statements of sql/009_retention.sql for names."""
    with open(os.path.join(SOURCE, "sql", "009_retention.sql")) as f:
        text = f.read()
    out = []
    for n in names:
        m = re.search(rf"CREATE TRIGGER {n} .*?END;", text, re.S)
        out.append(m.group(0))
    return out


def remove_tls_ca(d):
    """An install made before issue 13 has no TLS CA.  The retention
    triggers (sql/009) refuse to delete CA and certificate rows, so they are
    dropped for the one transaction and re-created as sql/009 has them."""
    db = os.path.join(d, "llave.db")
    rc, _, err = run(["sqlite3", db, "DELETE FROM certs WHERE ca='tls'; "
                      "DELETE FROM cas WHERE name IN ('tls','tls-ocsp');"])
    check(rc != 0 and "retained" in err,
          f"the retention triggers refuse the plain DELETE: {err.strip()}")
    names = ("certs_retained", "cas_retained", "crls_retained")
    script = "BEGIN;\n" + "".join(f"DROP TRIGGER {n};\n" for n in names) + \
        "DELETE FROM ocsp_responses WHERE ca = 'tls' OR serial IN " \
        "(SELECT serial FROM certs WHERE ca = 'tls');\n" \
        "DELETE FROM crls WHERE ca = 'tls';\n" \
        "DELETE FROM certs WHERE ca = 'tls';\n" \
        "DELETE FROM cas WHERE name IN ('tls', 'tls-ocsp');\n" + \
        "\n".join(retention_triggers(names)) + "\nCOMMIT;\n"
    rc, _, err = run(["sqlite3", db], input=script)
    back = sql(d, "select count(*) from sqlite_master where type='trigger' "
                  "and name in ('certs_retained','cas_retained',"
                  "'crls_retained')")
    left = sql(d, "select count(*) from cas where role='tls' or "
                  "name='tls-ocsp'")
    check(rc == 0 and back == "3" and left == "0",
          "TLS CA removed from the store, retention triggers back: "
          f"{err.strip()}")


def add_tls_refused(d, label, stdin, expect):
    before = sql(d, "select count(*) from cas")
    rc, out, err = llave(d, "ca", "add-tls", input=stdin)
    check(rc != 0 and expect in err and
          sql(d, "select count(*) from cas") == before,
          f"ca add-tls refused ({label}): {err.strip()}")


def check_add_tls(d, pem, tmp):
    old_serial = serial_of(f"{pem}/tls.pem")
    remove_tls_ca(d)
    _, out, _ = llave(d, "ca", "list", check_rc=0)
    check(not re.search(r"^tls", out, re.M), "ca list: no TLS CA")
    subj, s = subscriber(tmp, "web-ov", "antes")
    rc, _, err = issue(d, tmp, "web-ov", subj, "web-ov-antes")
    check(rc != 0 and "llave ca add-tls" in err,
          f"web-ov without a TLS CA: refused, naming the command: {err}")
    add_tls_refused(d, "confirmed by nobody", "",
                    "two operators must confirm")
    add_tls_refused(d, "the same operator twice",
                    operator_lines(d, "demo-ca-admin") * 2,
                    "two different operators")
    stdin = two_person(d)
    logins = stdin.split("\n")[0::3][:2]
    rc, out, err = llave(d, "ca", "add-tls", input=stdin)
    check(rc == 0 and "TLS CA tls" in out,
          f"ca add-tls confirmed by {' and '.join(logins)}: {out.strip()} "
          f"{err.strip()[-200:] if rc else ''}")
    _, out, _ = llave(d, "ca", "list", check_rc=0)
    rows = {m.group(1): m.groups() for m in re.finditer(
        r"^(\S+)\s+(\S+)\s+(\S+)\s+issuer=(\S+)", out, re.M)}
    check(rows.get("tls", ())[1:] == ("tls", "active", "root") and
          rows.get("tls-ocsp", ())[1:] == ("ocsp", "active", "tls"),
          "ca list: tls (issuer root) and tls-ocsp (issuer tls) active: "
          f"{rows.get('tls')} {rows.get('tls-ocsp')}")
    pem2 = os.path.join(tmp, "pem-add-tls")
    llave(d, "ca", "export", pem2, check_rc=0)
    check(serial_of(f"{pem2}/tls.pem") != old_serial,
          "a new TLS CA certificate (new serial)")
    _, eku = ext_values(x509_text(f"{pem2}/tls.pem"),
                        "X509v3 Extended Key Usage")
    check(eku == ["TLS Web Server Authentication"],
          f"the new TLS CA: EKU serverAuth only: {eku}")
    rc, cert, err = issue(d, tmp, "web-ov", subj, "web-ov-after-add-tls")
    if check(rc == 0, f"web-ov issued by the new TLS CA: {err}"):
        check_website(d, "web-ov after add-tls", "web-ov", "rsa", cert, s,
                      pem2, tmp)
        check_served(d, pem2, tmp, cert)
    add_tls_refused(d, "a second time", two_person(d), "exists already")
    actors = sql(d, "select actor from audit_log where event='ca.create' "
                    "and object='tls' and result='success' and "
                    "actor like 'operator:%'").splitlines()
    check(len(actors) == 1 and all(f"operator:{x}" in actors[0]
                                   for x in logins),
          f"audit: ca.create tls names both operators: {actors}")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit trail intact: {out.strip()}")


def check_served(d, pem, tmp, cert):
    """llaved serves the new CA: its certificate, its CRL, OCSP for what it
    issued (signed by its new responder)."""
    srv = Server(d)
    try:
        status, _, body = srv.get("/ca/tls.crt")
        der = os.path.join(tmp, "served-tls.der")
        with open(der, "wb") as f:
            f.write(body)
        a = openssl("x509", "-inform", "DER", "-in", der, "-noout",
                    "-fingerprint", "-sha256")[1]
        b = openssl("x509", "-in", f"{pem}/tls.pem", "-noout", "-fingerprint",
                    "-sha256")[1]
        check(status == 200 and a == b and a,
              "llaved: GET /ca/tls.crt is the new TLS CA")
        status, _, body = srv.get("/crl/tls.crl")
        crl = os.path.join(tmp, "tls.crl")
        with open(crl, "wb") as f:
            f.write(body)
        rc, _, err = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                             "-CAfile", f"{pem}/tls.pem")
        check(status == 200 and rc == 0 and "verify OK" in err,
              f"llaved: GET /crl/tls.crl, signed by the new CA: HTTP {status} "
              f"{err.strip()}")
        resp = os.path.join(tmp, "add-tls-ocsp.der")
        status = ocsp_fetch(srv, f"{pem}/tls.pem", cert, resp)
        rc, out, err = openssl("ocsp", "-respin", resp, "-issuer",
                               f"{pem}/tls.pem", "-cert", cert, "-VAfile",
                               f"{pem}/tls-ocsp.pem", "-no_nonce")
        check(status == 200 and rc == 0 and "Response verify OK" in err and
              f"{cert}: good" in out,
              "llaved: OCSP good, signed by the new tls-ocsp: "
              f"{err.strip()} {out.strip().splitlines()[0] if out else ''}")
    finally:
        check(srv.stop() == 0, "llaved stops cleanly")


def main():
    require_tools()
    tmp = workdir("profile-rules")
    check_production(tmp)
    d, pem = demo_init(tmp)
    check_cas(pem)
    check_websites(d, pem, tmp)
    check_key_encipherment(d, pem, tmp)
    check_schedule(d, tmp)
    check_add_tls(d, pem, tmp)
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
