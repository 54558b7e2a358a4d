"""Issue 14 item 4: PAdES (ETSI EN 319 142-1) from CSC signatures/signDoc
with signature_format "P", B-B, B-T, B-LT and B-LTA, against a real llaved
on a demo install, the demo citizen's credential authorized with the
SHA-256 of the PDF exactly as sent.

The signed PDFs are judged by tools nobody here wrote: poppler's pdfsig
(the chain trusted through an NSS database made with certutil), openssl cms
-verify on the /Contents over the /ByteRange bytes (both read back with
qpdf --json), openssl ts -verify for the document time-stamp, qpdf
--check; the store is read with sqlite3 to show that a refused PDF consumes
nothing."""
import base64
import hashlib
import os
import re
import subprocess

from lvtest import (accept_certificate, Server, check, cleanup, finish, llave, openssl, sql,
                    workdir)
from test_csc_v2 import authorize
from test_sign import Api, b64, csc_login, install

PDF_SRC = b"""%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]
  /Contents 4 0 R /Resources << >> >> endobj
4 0 obj << /Length 0 >> stream
endstream endobj
trailer << /Root 1 0 R /Size 5 >>
%%EOF
"""

LEVELS = ["Ades-B-B", "Ades-B-T", "Ades-B-LT", "Ades-B-LTA"]
TST_OID = "1.2.840.113549.1.9.16.2.14"  # id-aa-signatureTimeStampToken


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def make_pdf(tmp, name, text):
    """A one-page PDF written by hand, then rewritten by qpdf (which
    repairs the missing cross-reference table): the input is qpdf's."""
    src, out = os.path.join(tmp, name + ".src.pdf"), os.path.join(tmp, name)
    with open(src, "wb") as f:
        f.write(PDF_SRC.replace(b"/Length 0 >> stream\n",
                                b"/Length %d >> stream\n%s\n" %
                                (len(text) + 1, text)))
    rc, _, err = run(["qpdf", src, out])
    check(rc in (0, 3) and os.path.exists(out),
          f"qpdf writes the test PDF {name} ({rc} {err.strip()[:200]})")
    rc, _, err = run(["qpdf", "--check", out])
    check(rc == 0, f"the test PDF {name} passes qpdf --check")
    with open(out, "rb") as f:
        return f.read()


def nss_db(tmp, pem):
    """The root trusted (CT,C,C), nothing else: the signature carries the
    issuing CA."""
    db = os.path.join(tmp, "nss")
    os.makedirs(db, exist_ok=True)
    rc, _, err = run(["certutil", "-N", "-d", f"sql:{db}",
                      "--empty-password"])
    check(rc == 0, f"certutil -N ({err.strip()[:200]})")
    rc, _, err = run(["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i",
                      f"{pem}/root.pem", "-d", f"sql:{db}"])
    check(rc == 0, f"certutil -A the root ({err.strip()[:200]})")
    return db


def qpdf_objects(path):
    import json
    rc, out, err = run(["qpdf", "--json=2", "--json-key=qpdf",
                        "--json-stream-data=inline", path])
    if rc not in (0, 3):
        return {}
    return json.loads(out)["qpdf"][1]


def values(objs):
    for k, o in objs.items():
        v = o.get("value") if isinstance(o, dict) else None
        if isinstance(v, dict):
            yield k, v


def der_prefix(b):
    """The DER object at the start of b (the /Contents padding dropped)."""
    if b[1] < 0x80:
        return b[:2 + b[1]]
    n = b[1] & 0x7f
    return b[:2 + n + int.from_bytes(b[2:2 + n], "big")]


def extract(tmp, out, sig, prefix):
    """<prefix>.der (/Contents) and <prefix>.bin (the /ByteRange bytes)."""
    r = sig.get("/ByteRange", [])
    hx = sig.get("/Contents", "")
    end = r[2] + r[3] if len(r) == 4 else 0
    ok = (len(r) == 4 and r[0] == 0 and end <= len(out) and
          out[end - 6:end] == b"%%EOF\n" and
          out[r[1]:r[1] + 1] == b"<" and out[r[2] - 1:r[2]] == b">" and
          hx.startswith("b:"))
    if not check(ok, f"{prefix}: the /ByteRange covers a whole revision "
                     f"but the /Contents hole ({r})"):
        return None, None
    der, data = der_prefix(bytes.fromhex(hx[2:])), out[:r[1]] + out[r[2]:end]
    dp, bp = os.path.join(tmp, prefix + ".der"), os.path.join(tmp,
                                                              prefix + ".bin")
    with open(dp, "wb") as f:
        f.write(der)
    with open(bp, "wb") as f:
        f.write(data)
    return dp, bp


def sign_doc(api, tok, serial, sad, doc, level=None, env="Revision",
             fmt="P", **extra):
    d = {"document": b64(doc), "signature_format": fmt,
         "signAlgo": "1.2.840.113549.1.1.1"}  # CSC v2 §11.11: REQUIRED
    if level:
        d["conformance_level"] = level
    if env:
        d["signed_envelope_property"] = env
    body = {"credentialID": serial, "SAD": sad, "documents": [d]}
    body.update(extra)
    return api.call("POST", "/csc/v2/signatures/signDoc", body, token=tok)


def pdfsig(db, path):
    """-no-ocsp: the certificates' AIA names the demo's public URL
    (127.0.0.1:8080), where this test's llaved (on a free port) does not
    listen; the OCSP responses in the DSS are checked with openssl ocsp."""
    rc, out, err = run(["pdfsig", "-nssdir", f"sql:{db}", "-no-ocsp", path])
    return out + err


def check_level(tmp, pem, db, pdf, level, signed):
    name = level.lower()
    path = os.path.join(tmp, f"signed-{name}.pdf")
    with open(path, "wb") as f:
        f.write(signed)
    check(signed.startswith(pdf) and len(signed) > len(pdf),
          f"{level}: the input PDF is an exact prefix of the output")
    rc, out, err = run(["qpdf", "--check", path])
    check(rc == 0, f"{level}: qpdf --check passes ({(out + err)[-300:]})")
    said = pdfsig(db, path)
    # pdfsig cannot check an ETSI.RFC3161 document time-stamp ("Unable
    # to validate this type of signature"): openssl ts -verify does, below
    check(said.count("Signature is Valid.") == 1 and
          said.count("Certificate is Trusted.") == 1 and
          "ETSI.CAdES.detached" in said,
          f"{level}: pdfsig says every signature is Valid and the signer's "
          f"certificate Trusted (NSS db with the root) ({said[-800:]})")
    objs = qpdf_objects(path)
    sigs = [v for _, v in values(objs) if v.get("/Type") == "/Sig"]
    check(len(sigs) == 1 and sigs[0].get("/SubFilter") ==
          "/ETSI.CAdES.detached",
          f"{level}: one /Sig, /SubFilter /ETSI.CAdES.detached")
    if sigs:
        dp, bp = extract(tmp, signed, sigs[0], f"sig-{name}")
        if dp:
            rc, _, err = openssl("cms", "-verify", "-binary", "-inform",
                                 "DER", "-in", dp, "-content", bp, "-CAfile",
                                 f"{pem}/root.pem", "-certfile",
                                 f"{pem}/chain.pem", "-purpose", "any",
                                 "-out", os.devnull)
            check(rc == 0, f"{level}: openssl cms -verify of /Contents over "
                           f"the /ByteRange bytes ({err.strip()[:300]})")
            rc, out, _ = openssl("cms", "-cmsout", "-print", "-inform",
                                 "DER", "-in", dp)
            has_ts = ("id-smime-aa-timeStampToken" in out or TST_OID in out)
            check(has_ts == (level != "Ades-B-B"),
                  f"{level}: a signature time-stamp exactly from B-T up")
            check("signingCertificateV2" in out or
                  "id-smime-aa-signingCertificateV2" in out,
                  f"{level}: signing-certificate-v2")
    catalog = [v for _, v in values(objs) if v.get("/Type") == "/Catalog"]
    dss = [v for _, v in values(objs) if "/Certs" in v and "/OCSPs" in v]
    want_dss = level in ("Ades-B-LT", "Ades-B-LTA")
    check(bool(catalog and "/DSS" in catalog[0]) == want_dss,
          f"{level}: a /DSS in the catalog exactly from B-LT up")
    if want_dss:
        check(len(dss) == 1 and dss[0].get("/CRLs"),
              f"{level}: the DSS has /Certs, /OCSPs and /CRLs ({dss})")
        for i, ref in enumerate(dss[0].get("/OCSPs", []) if dss else []):
            st = objs.get("obj:" + ref, {}).get("stream", {})
            rp = os.path.join(tmp, f"dss-{name}-{i}.ocsp")
            with open(rp, "wb") as f:
                f.write(base64.b64decode(st.get("data", "")))
            rc, out, err = openssl("ocsp", "-respin", rp, "-resp_text",
                                   "-CAfile", f"{pem}/root.pem",
                                   "-verify_other", f"{pem}/chain.pem")
            check(rc == 0 and "Cert Status: good" in out and
                  "Response verify OK" in err + out,
                  f"{level}: DSS OCSP response {i} verifies, status good "
                  f"(openssl ocsp) ({err.strip()[:200]})")
    dts = [v for _, v in values(objs) if v.get("/Type") == "/DocTimeStamp"]
    check(bool(dts) == (level == "Ades-B-LTA"),
          f"{level}: a document time-stamp exactly at B-LTA")
    if dts:
        check(dts[0].get("/SubFilter") == "/ETSI.RFC3161",
              "B-LTA: /SubFilter /ETSI.RFC3161")
        dp, bp = extract(tmp, signed, dts[0], "doc-ts")
        if dp:
            rc, out, err = openssl("ts", "-verify", "-data", bp, "-in", dp,
                                   "-token_in", "-CAfile",
                                   f"{pem}/root.pem", "-untrusted",
                                   f"{pem}/chain.pem")
            check(rc == 0 and "Verification: OK" in out,
                  f"B-LTA: openssl ts -verify of the document time-stamp "
                  f"over its /ByteRange ({out.strip()} {err.strip()[:200]})")


def check_levels(api, d, tok, serial, cz, pem, tmp, db, pdf):
    st, o = authorize(api, d, tok, serial, [hashlib.sha256(pdf).digest()],
                      cz["mobile"], cz["password"], num=len(LEVELS))
    sad = o.get("SAD")
    check(st == 200 and sad, f"authorize with the PDF's SHA-256 ({st} {o})")
    for level in LEVELS:
        st, o = sign_doc(api, tok, serial, sad, pdf, level,
                         returnValidationInfo=level == "Ades-B-LT")
        ws = o.get("DocumentWithSignature", [])
        check(st == 200 and len(ws) == 1 and not o.get("SignatureObject"),
              f"signDoc P {level}: the signed PDF in DocumentWithSignature "
              f"({st} {o if st != 200 else ''})")
        if ws:
            check_level(tmp, pem, db, pdf, level, base64.b64decode(ws[0]))
        if level == "Ades-B-LT":
            vi = o.get("validationInfo", {})
            check(vi.get("ocsp") and vi.get("crl"),
                  "returnValidationInfo with P: OCSP responses and CRLs")


def check_default_level(api, d, tok, serial, cz, pdf):
    st, o = authorize(api, d, tok, serial, [hashlib.sha256(pdf).digest()],
                      cz["mobile"], cz["password"])
    st, o = sign_doc(api, tok, serial, o.get("SAD"), pdf, level=None)
    ws = o.get("DocumentWithSignature", [])
    signed = base64.b64decode(ws[0]) if ws else b""
    check(st == 200 and b"/DSS" not in signed[len(pdf):] and
          b"/DocTimeStamp" not in signed,
          f"no conformance_level: Ades-B-B, the CSC default ({st})")


def check_refusals(api, d, tok, serial, cz, pdf, other_pdf):
    notpdf = b"Esto no es un PDF, aunque lo parezca.\n"
    st, o = authorize(api, d, tok, serial,
                      [hashlib.sha256(notpdf).digest(),
                       hashlib.sha256(pdf).digest()],
                      cz["mobile"], cz["password"], num=2)
    sad = o.get("SAD")
    check(st == 200 and sad, f"authorize a non-PDF and a PDF ({st} {o})")
    before = sql(d, "select sum(remaining) || '/' || (select count(*) from "
                    "sign_activations) from sign_sads")
    st, o = sign_doc(api, tok, serial, sad, notpdf, "Ades-B-B")
    after = sql(d, "select sum(remaining) || '/' || (select count(*) from "
                   "sign_activations) from sign_sads")
    check(st == 400 and o.get("error") == "invalid_request" and
          before == after,
          f"a document that is not a PDF (its hash authorized): 400, the SAD "
          f"not consumed ({st} {o} {before} -> {after})")
    for body, what in [
            (dict(env="Certification"), "Certification"),
            (dict(env=None), "no signed_envelope_property (Certification)"),
            (dict(level="Ades-B-LTX"), "an unknown conformance_level"),
            (dict(fmt="C", level="Ades-B-LT", env=None),
             "B-LT for CAdES")]:
        st, o = sign_doc(api, tok, serial, sad, pdf,
                         **{"level": "Ades-B-B", **body})
        check(st == 400 and o.get("error") == "invalid_request" and
              sql(d, "select sum(remaining) || '/' || (select count(*) "
                     "from sign_activations) from sign_sads") == before,
              f"{what}: 400, nothing consumed ({st} "
              f"{o.get('error_description')})")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "documentDigests": [{
                          "hashes": [b64(hashlib.sha256(pdf).digest())],
                          "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                          "signature_format": "P",
                          "signAlgo": "1.2.840.113549.1.1.1",
                          "signed_envelope_property": "Revision"}]},
                     token=tok)
    check(st == 400, f"P over documentDigests: 400 ({st})")
    st, o = sign_doc(api, tok, serial, sad, other_pdf, "Ades-B-B")
    check(st == 400 and o.get("error") == "invalid_request",
          f"a PDF whose SHA-256 the SAD does not authorize: refused ({st} "
          f"{o.get('error_description')})")
    st, o = sign_doc(api, tok, serial, sad, pdf, "Ades-B-B")
    ws = o.get("DocumentWithSignature", [])
    check(st == 200 and ws and base64.b64decode(ws[0]).startswith(pdf),
          f"then the authorized PDF with the same SAD: "
          f"signed ({st} {o.get('error_description')})")


def main():
    tmp = workdir("pades-sign")
    srv = None
    try:
        d, pem, cz, app = install(tmp)
        srv = Server(d)
        api = Api(srv)
        serial = cz["signing_certificate"]
        accept_certificate(srv, d, cz, app)  # R5.4 (test_sign.py)
        st, tok = csc_login(api, "v2", cz["user_id"], cz["password"])
        check(st == 200 and tok, f"auth/login ({st})")
        st, info = api.call("POST", "/csc/v2/info", {})
        check("P" in info.get("signature_formats", {}).get("formats", []) and
              "Ades-B-LTA" in info.get("conformance_levels", []),
              f"info offers P and up to Ades-B-LTA ({info})")
        db = nss_db(tmp, pem)
        pdf = make_pdf(tmp, "acta.pdf", b"BT /F1 12 Tf 72 720 Td (Acta) Tj ET")
        other = make_pdf(tmp, "otra.pdf", b"BT /F1 12 Tf 72 720 Td (Otra) Tj ET")
        check_levels(api, d, tok, serial, cz, pem, tmp, db, pdf)
        check_default_level(api, d, tok, serial, cz, pdf)
        check_refusals(api, d, tok, serial, cz, pdf, other)
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
        rc, out, _ = llave(d, "audit", "verify")
        check(rc == 0, "the audit chain verifies after all of it")
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
