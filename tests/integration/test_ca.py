"""Issue 3: ceremony, every certificate profile, issuance and its refusals.

Every certificate is verified with `openssl verify -x509_strict` and its
fields are read back with `openssl x509 -text` / `openssl asn1parse` and
compared with the profile table (`llave profile show`)."""
import json
import os
import re

from lvtest import (SUBJECTS, LLAVE, LLAVED, Server, check, cleanup, demo_install,
                    finish, llave, new_csr, openssl, run, sql, workdir,
                    x509_text)

KU_TEXT = {"digitalSignature": "Digital Signature",
           "nonRepudiation": "Non Repudiation",
           "keyEncipherment": "Key Encipherment"}
EKU_TEXT = {"clientAuth": "TLS Web Client Authentication",
            "emailProtection": "E-mail Protection",
            "serverAuth": "TLS Web Server Authentication",
            "timeStamping": "Time Stamping"}
QCTYPE_OID = {"esign": "0.4.0.1862.1.6.1", "eseal": "0.4.0.1862.1.6.2",
              "web": "0.4.0.1862.1.6.3"}
DEMO_ARC = "1.3.6.1.4.1.32473"  # RFC 5612, the demo placeholder (issue 13)
SUBSCRIBER_KEY = {"linked-person", "eseal", "eseal-psd2", "web-ev",
                  "web-ev-psd2", "web-ov", "web-ov-wildcard"}


def ext_block(text, name):
    """Lines of one extension in `openssl x509 -text` output."""
    m = re.search(r"\n( +)" + re.escape(name) + r"[^\n]*\n((?:\1 +[^\n]*\n)*)",
                  text)
    return (m.group(0).strip("\n") if m else "")


def qc_objects(pem):
    _, out, _ = openssl("asn1parse", "-in", pem, check_rc=0)
    m = re.search(r"OBJECT +:qcStatements\n *(\d+):", out)
    if not m:
        return [], ""
    _, inner, _ = openssl("asn1parse", "-in", pem, "-strparse", m.group(1),
                          check_rc=0)
    return re.findall(r"OBJECT +:(\S+)", inner), inner


def policies(text):
    return re.findall(r"Policy: (\S+)", text)


def validity_days(pem):
    _, out, _ = openssl("x509", "-in", pem, "-noout", "-startdate", "-enddate",
                        check_rc=0)
    import datetime
    fmt = "%b %d %H:%M:%S %Y %Z"
    nb = re.search(r"notBefore=(.*)", out).group(1).replace("  ", " ")
    na = re.search(r"notAfter=(.*)", out).group(1).replace("  ", " ")
    d0 = datetime.datetime.strptime(nb, fmt)
    d1 = datetime.datetime.strptime(na, fmt)
    return (d1 - d0).total_seconds() / 86400


def subject_fields(pem):
    _, out, _ = openssl("x509", "-in", pem, "-noout", "-subject", "-nameopt",
                        "multiline,utf8,-esc_msb", check_rc=0)
    return dict(re.findall(r"^\s+(\w+)\s+= (.*)$", out, re.M))


def check_ceremony(d, pem):
    root = x509_text(f"{pem}/root.pem")
    check("Public-Key: (4096 bit)" in root, "root CA key is RSA-4096")
    check(abs(validity_days(f"{pem}/root.pem") / 365.2425 - 25) < 0.01,
          "root CA valid 25 years")
    check("CA:TRUE" in ext_block(root, "X509v3 Basic Constraints: critical"),
          "root basicConstraints CA:TRUE critical")
    for ca in ("qualified", "standard"):
        t = x509_text(f"{pem}/{ca}.pem")
        check("Public-Key: (4096 bit)" in t, f"{ca} CA key is RSA-4096")
        check("pathlen:0" in t, f"{ca} CA has pathlen 0")
        check(abs(validity_days(f"{pem}/{ca}.pem") / 365.2425 - 13) < 0.01,
              f"{ca} CA valid 13 years")
        check("Certificate Sign, CRL Sign" in t, f"{ca} CA keyCertSign+cRLSign")
        rc, out, _ = openssl("verify", "-x509_strict", "-CAfile",
                             f"{pem}/root.pem", f"{pem}/{ca}.pem")
        check(rc == 0, f"{ca} CA verifies under the root")
    tsa = x509_text(f"{pem}/tsa.pem")
    check("Public-Key: (4096 bit)" in tsa, "TSA key is RSA-4096")
    check(abs(validity_days(f"{pem}/tsa.pem") / 365.2425 - 5) < 0.01,
          "TSA certificate valid 5 years")
    eku = ext_block(tsa, "X509v3 Extended Key Usage: critical")
    check("Time Stamping" in eku and "," not in eku,
          "TSA EKU is timeStamping only, critical")
    ku = ext_block(tsa, "X509v3 Key Usage: critical")
    check("Non Repudiation" in ku and "Digital" not in ku,
          "TSA key usage is contentCommitment")
    rc, _, _ = openssl("verify", "-x509_strict", "-purpose", "timestampsign",
                       "-CAfile", f"{pem}/root.pem", "-untrusted",
                       f"{pem}/chain.pem", f"{pem}/tsa.pem")
    check(rc == 0, "TSA certificate verifies for timestampsign")
    for ca in ("root", "qualified", "standard"):
        t = x509_text(f"{pem}/{ca}-ocsp.pem")
        check("OCSP No Check" in t and "OCSP Signing" in t,
              f"{ca} OCSP responder has ocsp-nocheck and OCSPSigning")
    # the transcript is signed with the root key: check with openssl dgst
    openssl("x509", "-in", f"{pem}/root.pem", "-pubkey", "-noout",
            "-out", f"{pem}/root-pub.pem", check_rc=0)
    rc, out, _ = openssl("dgst", "-sha256", "-verify", f"{pem}/root-pub.pem",
                         "-signature", f"{d}/ceremony/transcript.sig",
                         f"{d}/ceremony/transcript.json")
    check(rc == 0 and "Verified OK" in out, "ceremony transcript signature")
    with open(f"{d}/ceremony/transcript.json") as f:
        transcript = json.load(f)
    check(sum(1 for s in transcript["steps"] if s["action"] == "key.generate")
          == 9, "transcript records the 9 key generations")
    with open(f"{d}/demo-credentials.json") as f:
        check("accounts" in json.load(f), "demo-credentials.json written")


def issue(d, tmp, profile, subject_path, extra=()):
    out = os.path.join(tmp, f"{profile}.pem")
    args = ["cert", "issue", profile, "--subject", subject_path, "--out", out]
    if profile in SUBSCRIBER_KEY and "--p12" not in extra:
        args += ["--csr", new_csr(tmp, profile)]
    rc, _, err = llave(d, *args, *extra)
    return rc, out, err


def check_tls_policies(profile, table, text):
    """BR §7.1.2.7.9: the reserved CA/B policy first, only the CPS
    qualifier; R4.7 marks a test certificate with <arc>.9.3 instead of a
    notice.  §7.1.2.7.6: no subjectKeyIdentifier."""
    cabf = [o for o in table["extra_policies"] if o.startswith("2.23.140.1.")]
    rest = [o for o in table["extra_policies"] if o not in cabf]
    want = [*cabf, table["oid"], table["etsi_policy"], *rest,
            DEMO_ARC + ".9.3"]
    check(len(cabf) == 1 and policies(text) == want,
          f"{profile}: policies {policies(text)}, CA/B reserved first")
    check("User Notice" not in text and "Explicit Text" not in text,
          f"{profile}: no userNotice qualifier (BR 7.1.2.7.9)")
    check("Subject Key Identifier" not in text,
          f"{profile}: no subjectKeyIdentifier (BR 7.1.2.7.6)")


def check_profile(d, pem, tmp, profile):
    rc, out, _ = llave(d, "profile", "show", profile)
    table = json.loads(out)
    subject_path = os.path.join(SUBJECTS, f"{profile}.json")
    rc, cert, err = issue(d, tmp, profile, subject_path)
    if not check(rc == 0, f"{profile}: issued ({err.strip()})"):
        return
    purpose = {"timeStamping": ["-purpose", "timestampsign"]}.get(
        table["ext_key_usage"], [])
    if table["ext_key_usage"].startswith("serverAuth"):
        purpose = ["-purpose", "sslserver"]
    rc, vout, verr = openssl("verify", "-x509_strict", *purpose, "-CAfile",
                             f"{pem}/root.pem", "-untrusted",
                             f"{pem}/chain.pem", cert)
    check(rc == 0, f"{profile}: openssl verify -x509_strict {vout}{verr}")
    text = x509_text(cert)
    issuer_cn = subject_fields(f"{pem}/{table['issuer']}.pem")["commonName"]
    check(f"CN = {issuer_cn}" in text.split("Issuer:")[1].split("\n")[0],
          f"{profile}: issued by the {table['issuer']} CA")
    if table["tls"]:
        check_tls_policies(profile, table, text)
    else:
        want = [table["oid"], table["etsi_policy"], *table["extra_policies"]]
        check(policies(text) == want, f"{profile}: policies {policies(text)}")
        check("Explicit Text: CERTIFICADO DE PRUEBAS" in text,
              f"{profile}: test certificate says so in its user notice (R4.7)")
    ku = ext_block(text, "X509v3 Key Usage: critical")
    want_ku = [KU_TEXT[k] for k in table["key_usage"].split(",")]
    got_ku = [k.strip() for k in ku.split("\n")[1].split(",")] if ku else []
    check(got_ku == want_ku, f"{profile}: key usage {got_ku}")
    crit = ": critical" if table["eku_critical"] else ":"
    eku = ext_block(text, "X509v3 Extended Key Usage" + crit)
    want_eku = [EKU_TEXT[k] for k in table["ext_key_usage"].split(",")]
    got_eku = [k.strip() for k in eku.split("\n")[1].split(",")] if eku else []
    check(got_eku == want_eku, f"{profile}: extended key usage {got_eku}")
    issuer = table["issuer"]
    check(f"URI:http://127.0.0.1:8080/crl/{issuer}.crl" in text,
          f"{profile}: CRL distribution point of the {issuer} CA")
    check("OCSP - URI:http://127.0.0.1:8080/ocsp" in text and
          f"CA Issuers - URI:http://127.0.0.1:8080/ca/{issuer}.crt" in text,
          f"{profile}: AIA OCSP + caIssuers")
    oids, inner = qc_objects(cert)
    check(("0.4.0.1862.1.1" in oids) == table["qualified"],
          f"{profile}: QcCompliance iff qualified")
    check(("0.4.0.1862.1.4" in oids) == table["qscd"],
          f"{profile}: QcSSCD iff Cloud HSM (R4.3)")
    if table["qctype"]:
        check(QCTYPE_OID[table["qctype"]] in oids,
              f"{profile}: QcType {table['qctype']}")
    check(("0.4.0.19495.2" in oids) == table["psd2"],
          f"{profile}: PSD2 statement iff PSD2")
    if table["psd2"]:
        check("PSP_AS" in inner and "ES-BE" in inner and
              "Banco de Espana" in inner, f"{profile}: PSD2 roles and NCA")
    days = validity_days(cert)
    check(abs(days - table["validity_days"]) < 0.01,
          f"{profile}: valid {table['validity_days']} days")
    serial = openssl("x509", "-in", cert, "-noout", "-serial",
                     check_rc=0)[1].strip().split("=")[1]
    check(len(serial) >= 16, f"{profile}: serial has >= 64 bits (R4.5)")
    stored = sql(d, f"select profile||'|'||key_id from certs "
                    f"where serial='{serial}'")
    check(stored.startswith(profile + "|"),
          f"{profile}: stored under the hex serial openssl prints")
    key_id = stored.split("|")[1]
    check(bool(key_id) == table["cloud"] or profile == "tsa",
          f"{profile}: key kept in the key store iff cloud (R5.1)")
    if key_id:
        check(os.path.exists(f"{d}/keys/{key_id}.key"),
              f"{profile}: encrypted key file exists")
    check_subject(profile, subject_fields(cert))


def check_subject(profile, s):
    if "person" in profile or "representative" in profile:
        check(s.get("serialNumber") == "IDCES-00000000T",
              f"{profile}: serialNumber IDCES-00000000T (ETSI EN 319 412-1)")
        check(s.get("givenName") == "Pruebas" and
              s.get("surname") == "Primero Segundo", f"{profile}: GN/SN")
    if "representative" in profile:
        check("description" in s and "(R: " in s.get("commonName", ""),
              f"{profile}: description and CN with the represented NIF")
    if profile.startswith("eseal") or profile.startswith("linked") or \
            "representative" in profile:
        want = "PSDES-BE-DEPRUEBAS" if "psd2" in profile else None
        oi = s.get("organizationIdentifier", "")
        check(oi == want if want else oi.startswith("VATES-"),
              f"{profile}: organizationIdentifier {oi}")
    if profile.startswith("web"):
        check(s.get("commonName", "").endswith("pruebas.example.es"),
              f"{profile}: CN is a SAN DNS name")
        check("organizationalUnitName" not in s, f"{profile}: no OU (CABF)")


def certs_count(d):
    return int(sql(d, "select count(*) from certs"))


def refused(d, tmp, label, args, expect, subject=None, base="natural-person-cloud"):
    """A bad request fails with a clear message and stores nothing."""
    before = (certs_count(d), len(os.listdir(f"{d}/keys")))
    subj = os.path.join(SUBJECTS, f"{base}.json")
    if subject is not None:
        subj = os.path.join(tmp, f"bad-{len(os.listdir(tmp))}.json")
        with open(subj, "w") as f:
            f.write(subject if isinstance(subject, str) else json.dumps(subject))
    rc, _, err = llave(d, "cert", "issue", *args, "--subject", subj)
    after = (certs_count(d), len(os.listdir(f"{d}/keys")))
    check(rc != 0 and expect in err and before == after,
          f"refused: {label}: {err.strip()}")


def check_refusals(d, tmp):
    with open(os.path.join(SUBJECTS, "natural-person-cloud.json")) as f:
        person = json.load(f)
    other_seal = {"organization": "Otra SL", "organization_id": "B12345674",
                  "locality": "Madrid", "country": "ES", "common_name": "S"}
    garbage = os.path.join(tmp, "garbage.csr")
    with open(garbage, "wb") as f:
        f.write(os.urandom(300))
    refused(d, tmp, "malformed CSR", ["eseal", "--csr", garbage],
            "not a PKCS#10 request", other_seal)
    csr = new_csr(tmp, "tampered")
    der = os.path.join(tmp, "tampered.der")
    openssl("req", "-in", csr, "-outform", "DER", "-out", der, check_rc=0)
    with open(der, "r+b") as f:
        f.seek(-5, 2)
        b = f.read(1)
        f.seek(-5, 2)
        f.write(bytes([b[0] ^ 0x55]))
    refused(d, tmp, "CSR signature mismatch", ["eseal", "--csr", der],
            "does not verify", other_seal)
    weak = new_csr(tmp, "weak", "rsa:1024")
    refused(d, tmp, "RSA-1024 key", ["eseal", "--csr", weak],
            "RSA key of 1024 bits", other_seal)
    refused(d, tmp, "missing given_name", ["natural-person-cloud"],
            "'given_name' is required",
            {k: v for k, v in person.items() if k != "given_name"})
    refused(d, tmp, "wrong DNI letter", ["natural-person-cloud"],
            "wrong check letter", dict(person, id_number="12345678A"))
    refused(d, tmp, "expired identity document", ["natural-person-cloud"],
            "expired", dict(person, id_number="12345678Z",
                            document_expiry="2020-01-01"))
    refused(d, tmp, "duplicate valid certificate (R2.9)",
            ["natural-person-cloud"], "already holds a valid")
    refused(d, tmp, "CSR for a cloud profile (R5.1)",
            ["natural-person-cloud", "--csr", new_csr(tmp, "cloud")],
            "a CSR is not accepted", dict(person, id_number="12345678Z"))
    refused(d, tmp, "unknown profile", ["no-such-profile"], "unknown profile")
    refused(d, tmp, "subject not JSON", ["natural-person-cloud"], "",
            "{not json")
    refused(d, tmp, "wildcard outside web-ov-wildcard", ["web-ov", "--csr",
            new_csr(tmp, "wild")], "web-ov-wildcard",
            {"country": "ES", "locality": "Madrid", "organization": "X",
             "dns_names": ["*.example.es"]}, base="web-ov")
    refused(d, tmp, "bad organization NIF control", ["eseal-cloud"],
            "wrong control character",
            {"organization": "X", "organization_id": "B00000001",
             "locality": "Madrid", "country": "ES", "common_name": "Y"})
    refused(d, tmp, "field the profile does not use", ["natural-person-cloud"],
            "not used by profile",
            dict(person, id_number="12345678Z", dns_names=["a.es"]))
    refused(d, tmp, "wrong type", ["natural-person-cloud"], "must be a string",
            dict(person, id_number=12345678))


def check_document_cap_and_p12(d, pem, tmp):
    import datetime
    expiry = (datetime.date.today() + datetime.timedelta(days=100)).isoformat()
    subj = os.path.join(tmp, "capped.json")
    with open(subj, "w") as f:
        json.dump({"given_name": "Ana", "surname": "Garcia Lopez",
                   "id_type": "DNI", "id_number": "12345678Z", "country": "ES",
                   "document_expiry": expiry}, f)
    rc, cert, err = issue(d, tmp, "natural-person-cloud-hsm", subj)
    check(rc == 0 and validity_days(cert) < 101,
          "notAfter capped at the identity document's expiry (R2.4)")
    text = x509_text(cert)
    check("PRUEBAS" not in text and "Explicit Text: Certificado cualificado"
          in text, "a production certificate carries the profile notice")
    pw = os.path.join(tmp, "p12pass")
    with open(pw, "w") as f:
        f.write("correct horse battery\n")
    p12 = os.path.join(tmp, "seal.p12")
    seal = os.path.join(tmp, "seal.json")
    with open(seal, "w") as f:
        json.dump({"organization": "Ejemplo SA", "organization_id": "A58818501",
                   "locality": "Madrid", "country": "ES",
                   "common_name": "Sello de facturas"}, f)
    rc, cert, err = issue(d, tmp, "eseal", seal,
                          ["--p12", p12, "--p12-password-file", pw])
    check(rc == 0, f"eseal delivered as PKCS#12 {err.strip()}")
    rc, keys, _ = openssl("pkcs12", "-in", p12, "-passin", f"file:{pw}",
                          "-nodes", "-nocerts")
    k = os.path.join(tmp, "p12key.pem")
    with open(k, "w") as f:
        f.write(keys)
    a = openssl("pkey", "-in", k, "-pubout")[1]
    b = openssl("x509", "-in", cert, "-pubkey", "-noout")[1]
    check(rc == 0 and a == b and a, "PKCS#12 key matches the certificate")
    rc, _, _ = openssl("pkcs12", "-in", p12, "-passin", "pass:wrong", "-noout")
    check(rc != 0, "PKCS#12 refuses a wrong password")


def check_audit(d):
    rc, out, _ = llave(d, "audit", "verify")
    check(rc == 0 and "intact" in out, f"audit trail intact: {out.strip()}")
    failures = int(sql(d, "select count(*) from audit_log "
                          "where event='cert.issue' and result='failure'"))
    check(failures >= 10, "refused issuances are audited as failures")
    # sql/009's guard refuses the edit; an attacker with the file drops it
    sql(d, "drop trigger audit_log_no_update; "
           "update audit_log set actor='mallory' where seq=5")
    rc, out, _ = llave(d, "audit", "verify")
    check(rc != 0 and "entry 5" in out, f"edited audit entry found: {out}")


def check_service(d, pem):
    if not os.path.exists(LLAVED):
        check(False, "llaved binary exists")
        return
    srv = Server(d)
    try:
        status, headers, body = srv.get("/ca/root.crt")
        check(status == 200 and
              headers.get("Content-Type") == "application/pkix-cert",
              "GET /ca/root.crt serves DER")
        with open(f"{pem}/root.der", "wb") as f:
            f.write(body)
        rc, out, _ = openssl("x509", "-inform", "DER", "-in", f"{pem}/root.der",
                             "-noout", "-fingerprint", "-sha256")
        rc2, out2, _ = openssl("x509", "-in", f"{pem}/root.pem", "-noout",
                               "-fingerprint", "-sha256")
        check(rc == 0 and out == out2, "served root equals the exported root")
        status, _, _ = srv.get("/ca/qualified.crt")
        check(status == 200, "GET /ca/qualified.crt")
        status, headers, body = srv.get("/ca/nope.crt")
        check(status == 404 and json.loads(body).get("error"),
              "unknown CA: 404 with a JSON error")
    finally:
        check(srv.stop() == 0, "llaved stops cleanly on SIGTERM")
    # llaved also audits what its keepers do (crl.generate, ...)
    events = sql(d, "select group_concat(event) from audit_log "
                    "where actor='llaved' and event like 'service.%'")
    check(events == "service.start,service.stop",
          f"service start and stop are audited (R9.1): {events}")


def main():
    tmp = workdir("ca")
    d, pem = demo_install(tmp)
    check_ceremony(d, pem)
    profiles = [l.split()[0] for l in
                llave(d, "profile", "list", check_rc=0)[1].splitlines()]
    check(len(profiles) == 18, f"18 profiles of CPS 1.2.1 listed")
    for p in profiles:
        check_profile(d, pem, tmp, p)
    check_refusals(d, tmp)
    check_document_cap_and_p12(d, pem, tmp)
    check_service(d, pem)
    check_audit(d)
    cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
