"""Issue 14 item 4: the transaction API takes whole PDF documents and
returns them signed (PAdES, ETSI EN 319 142-1), against a real llaved.

An application creates a transaction with four PDFs (B-B, B-T, B-LT,
B-LTA) and one digest; the citizen reviews it through the API the signing
page uses (the PDF as sent, served as an attachment that is never rendered
in the origin), asks for the OTP, confirms with password + OTP, and the
application downloads each signed PDF.  The signed PDFs are judged by
tools nobody here wrote: poppler's pdfsig with an NSS database trusting only
the root (made with certutil), openssl cms -verify over the /ByteRange
bytes, openssl ocsp on the DSS, openssl ts -verify on the document
time-stamp, qpdf --check, and the input must be an exact prefix (the checks
of test_pades_sign.py).  Refusals (not a PDF, encrypted, too big, both a
digest and a PDF, another application, a download before signing) answer
the right status and store nothing (read with sqlite3); the purge deletes
the stored PDFs with their transaction."""
import hashlib
import json
import os
import re
import time

from lvtest import (Server, check, cleanup, finish, llave, set_config, sql,
                    tsa_refusing, workdir)
from test_pades_sign import PDF_SRC, check_level, make_pdf, nss_db, run
from test_sign import Api, b64, install, last_otp, pkcs1_ok

MAX_PDF = 200 * 1024  # sign_max_pdf_kib 200 in this test
MAX_TX = 300 * 1024  # sign_max_tx_kib 300
LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]


def pdf_doc(i, pdf, level="B-B", **extra):
    d = {"id": f"pdf-{i}", "name": f"contrato {i}.pdf",
         "title": f"Contrato {i}", "content": b64(pdf), "format": "PAdES",
         "conformance_level": level}
    d.update(extra)
    return d


def tx_body(owner, docs):
    return {"owner": owner, "digest_algorithm": "SHA-256", "documents": docs,
            "redirect_ok_url": "https://app.example/ok",
            "redirect_error_url": "https://app.example/error"}


def stored(d):
    return (sql(d, "select count(*) from sign_transactions") + "/" +
            sql(d, "select count(*) from sign_pdfs") + "/" +
            sql(d, "select count(*) from sign_documents"))


def fetch(srv, path, token=None, basic=None):
    import base64
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(
            f"{basic[0]}:{basic[1]}".encode()).decode()
    return srv.request("GET", path, None, h)


def safe_headers(h):
    low = {k.lower(): v for k, v in h.items()}
    return (low.get("content-type") == "application/pdf" and
            low.get("content-disposition", "").startswith("attachment;") and
            low.get("x-content-type-options") == "nosniff" and
            "sandbox" in low.get("content-security-policy", "") and
            "default-src 'none'" in low.get("content-security-policy", ""))


def big_pdf(tmp, name, size):
    """A valid one-page PDF of about size bytes: a long content stream of
    real drawing operators (which qpdf --check parses), written by qpdf
    uncompressed so that the size is the size."""
    ops = b"0 0 m 10 10 l S\n" * (size // 16)
    src, out = os.path.join(tmp, name + ".src"), os.path.join(tmp, name)
    with open(src, "wb") as f:
        f.write(PDF_SRC.replace(b"/Length 0 >> stream\n",
                                b"/Length %d >> stream\n%s\n" %
                                (len(ops) + 1, ops)))
    rc, _, err = run(["qpdf", "--compress-streams=n", src, out])
    check(rc in (0, 3), f"qpdf writes the large test PDF ({err[:200]})")
    with open(out, "rb") as f:
        return f.read()


def check_refusals(api, d, tmp, creds, owner, pdf):
    before = stored(d)
    notpdf = b"%PDF-1.7\nno es un PDF de verdad\n%%EOF\n"
    enc = os.path.join(tmp, "enc.pdf")
    src = os.path.join(tmp, "plain.pdf")
    with open(src, "wb") as f:
        f.write(pdf)
    rc, _, err = run(["qpdf", "--encrypt", "usuario", "propietario", "256",
                      "--", src, enc])
    check(rc == 0, f"qpdf encrypts a test PDF ({err.strip()[:200]})")
    with open(enc, "rb") as f:
        encrypted = f.read()
    too_big = big_pdf(tmp, "grande.pdf", MAX_PDF + 4096)
    half = big_pdf(tmp, "mitad.pdf", MAX_TX // 2 + 4096)
    cases = [
        ([pdf_doc(0, b"Hola, esto es texto.")], 400, "not a PDF",
         "a document that is not a PDF"),
        ([pdf_doc(0, notpdf)], 400, "PDF", "a PDF qpdf cannot read"),
        ([pdf_doc(0, encrypted)], 400, "encrypted", "an encrypted PDF"),
        ([pdf_doc(0, too_big)], 413, "sign_max_pdf_kib",
         f"a PDF over sign_max_pdf_kib ({len(too_big)} bytes)"),
        ([pdf_doc(0, half), pdf_doc(1, half)], 413, "sign_max_tx_kib",
         "PDFs over sign_max_tx_kib together"),
        ([pdf_doc(0, pdf, digest=b64(hashlib.sha256(pdf).digest()))], 400,
         "not both", "a digest and a content"),
        ([pdf_doc(0, pdf, format="CAdES")], 400, "PAdES", "format CAdES"),
        ([pdf_doc(0, pdf, conformance_level="B-X")], 400, "B-LTA",
         "an unknown conformance_level"),
        ([pdf_doc(0, pdf, content="%%%not base64%%%")], 400, "base64",
         "content that is not base64"),
        ([pdf_doc(0, pdf), pdf_doc(0, pdf)], 400, "same",
         "two documents with one id"),
        ([{"id": "x", "name": "x.pdf", "format": "PAdES"}], 400, "content",
         "format without content"),
    ]
    for docs, status, text, what in cases:
        st, o = api.call("POST", "/api/v1/transactions",
                         tx_body(owner, docs), basic=creds)
        msg = o.get("message", "")
        check(st == status and text in msg and stored(d) == before,
              f"{what}: {status} with a clear message, nothing stored "
              f"({st} {msg[:160]})")
    # over the route's body limit: refused from Content-Length, unparsed
    limit = (MAX_TX + 2) // 3 * 4 + 256 * 1024
    st, o = api.call("POST", "/api/v1/transactions", raw=b"{" +
                     b" " * limit + b"}", basic=creds)
    check(st == 413 and stored(d) == before,
          f"a body over the route's limit (sign_max_tx_kib in base64 + "
          f"256 KiB): 413 before parsing ({st})")
    st, o = api.call("POST", "/api/v1/ra/citizens", raw=b"{" +
                     b" " * (128 * 1024) + b"}", basic=creds)
    check(st == 413, f"other routes keep their small limit: 413 ({st})")


def check_review(srv, api, d, tx, citizen, pdfs):
    st, o = api.call("POST", f"/api/v1/transactions/{tx}/login",
                     {"user_id": citizen["user_id"],
                      "password": citizen["password"]})
    tok = o.get("token")
    docs = o.get("documents", [])
    shown = [x for x in docs if x.get("format") == "PAdES"]
    check(st == 200 and len(shown) == 4 and
          all(x.get("pages") == 1 and x.get("size") == len(pdfs[i]) and
              x.get("conformance_level") == LEVELS[i] and
              x.get("name") == f"contrato {i}.pdf"
              for i, x in enumerate(shown)),
          f"the page's view: each PDF's name, size, page count and level "
          f"({st} {[(x.get('name'), x.get('size')) for x in docs]})")
    check(all(x.get("digest") == b64(hashlib.sha256(pdfs[i]).digest())
              for i, x in enumerate(shown)),
          "the digest shown (and bound by the OTP) is the PDF's SHA-256")
    st, h, body = fetch(srv, f"/api/v1/transactions/{tx}/pdf?document=pdf-1",
                        token=tok)
    check(st == 200 and body == pdfs[1] and safe_headers(h) and
          'filename="contrato_1.pdf"' in h.get("Content-Disposition", ""),
          f"the citizen downloads the PDF as sent: attachment, nosniff, "
          f"CSP sandbox ({st} {h})")
    st, _, _ = fetch(srv, f"/api/v1/transactions/{tx}/pdf?document=pdf-1")
    check(st == 401, f"the PDF without the citizen's session: 401 ({st})")
    st, _, _ = fetch(srv, f"/api/v1/transactions/{tx}/pdf?document=nada",
                     token=tok)
    check(st == 404, f"an unknown document: 404 ({st})")
    return tok


def check_downloads(srv, api, d, tmp, pem, tx, creds, other, pdfs, cert_pem):
    db = nss_db(tmp, pem)
    st, o = api.call("GET", f"/api/v1/transactions/{tx}", basic=creds)
    docs = {x["id"]: x for x in o.get("documents", [])}
    check(st == 200 and o.get("state") == "signed" and
          all(docs.get(f"pdf-{i}", {}).get("signed") is True
              for i in range(4)) and
          "signature" not in docs.get("pdf-0", {}),
          f"GET the transaction: signed, each PDF marked signed ({st})")
    dig = docs.get("hash-0", {})
    sig = dig.get("signature")
    import base64
    check(sig and pkcs1_ok(tmp, cert_pem, base64.b64decode(dig["digest"]),
                           base64.b64decode(sig)),
          "the digest document in the same batch: PKCS#1 verifies "
          "(openssl pkeyutl)")
    for i, level in enumerate(LEVELS):
        st, h, signed = fetch(
            srv, f"/api/v1/transactions/{tx}/signed?document=pdf-{i}",
            basic=creds)
        check(st == 200 and safe_headers(h) and
              f'filename="contrato_{i}-signed.pdf"' in
              h.get("Content-Disposition", ""),
              f"{level}: the application downloads the signed PDF "
              f"(attachment, nosniff, CSP sandbox) ({st})")
        if st == 200:
            check_level(tmp, pem, db, pdfs[i], "Ades-" + level, signed)
    st, _, _ = fetch(srv, f"/api/v1/transactions/{tx}/signed?document=pdf-0",
                     basic=other)
    check(st == 404, f"another application's transaction: 404 ({st})")
    st, _, _ = fetch(srv,
                     f"/api/v1/transactions/{tx}/signed?document=hash-0",
                     basic=creds)
    check(st == 404, f"a digest document has no signed PDF: 404 ({st})")
    st, _, _ = fetch(srv, f"/api/v1/transactions/{tx}/signed", basic=creds)
    check(st == 400, f"no ?document=: 400 ({st})")


def check_retry_after_tsa_failure(d, creds, citizen, pdf):
    """A B-T PDF whose time-stamp fails at confirmation (the TSA refuses:
    the clock guard on and the clock forced unsynchronized, as
    test_tsa.py's check) leaves nothing signed and gives the citizen's code
    back (auth_otp_release, audited otp.release); once the TSA answers
    again, the same code signs the batch, and only once."""
    with tsa_refusing(d) as srv:
        api = Api(srv)
        st, o = api.call("POST", "/api/v1/transactions",
                         tx_body(citizen["user_id"], [pdf_doc(9, pdf, "B-T")]),
                         basic=creds)
        tx = o.get("id")
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/login",
                         {"user_id": citizen["user_id"],
                          "password": citizen["password"]})
        tok = o.get("token")
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/otp", token=tok)
        code = last_otp(d, citizen["mobile"])
        confirm = {"password": citizen["password"], "otp": code}
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/confirm",
                         confirm, token=tok)
        check(st == 503 and sql(d, "select state from sign_transactions "
                                   f"where id='{tx}'") == "otp_sent" and
              sql(d, "select count(*) from sign_pdfs where tx_id="
                     f"'{tx}' and signed_pdf is not null") == "0",
              f"the TSA refusing: the confirmation fails and nothing is "
              f"signed ({st} {o})")
        otp_id = sql(d, f"select otp_id from sign_transactions where "
                        f"id='{tx}'")
        check(sql(d, f"select used from otps where id='{otp_id}'") == "0" and
              sql(d, "select count(*) from audit_log where event="
                     f"'otp.release' and details like '%{otp_id}%'") == "1",
              "the code is given back, audited as otp.release")
    srv = Server(d)
    try:
        api = Api(srv)
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/login",
                         {"user_id": citizen["user_id"],
                          "password": citizen["password"]})
        tok = o.get("token")
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/confirm",
                         confirm, token=tok)
        check(st == 200 and o.get("state") == "signed",
              f"the TSA back: the same code signs the batch ({st} {o})")
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/confirm",
                         confirm, token=tok)
        check(st >= 400 and sql(d, f"select used from otps where "
                                   f"id='{otp_id}'") == "1",
              f"and only once ({st})")
    finally:
        srv.stop()


def main():
    tmp = workdir("tx-pdf")
    srv = None
    try:
        d, pem, citizen, app = install(tmp)
        set_config(d, sign_max_pdf_kib=MAX_PDF // 1024,
                   sign_max_tx_kib=MAX_TX // 1024)
        rc, out, err = llave(d, "app", "add", "Otra Sede", "--json")
        check(rc == 0, f"a second application ({err.strip()})")
        o2 = json.loads(out or "{}")
        other = (o2.get("client_id"), o2.get("client_secret"))
        srv = Server(d)
        api = Api(srv)
        creds = (app["client_id"], app["client_secret"])
        owner = citizen["user_id"]
        pdfs = [make_pdf(tmp, f"c{i}.pdf",
                         b"BT /F1 12 Tf 72 720 Td (Contrato %d) Tj ET" % i)
                for i in range(4)]
        check_refusals(api, d, tmp, creds, owner, pdfs[0])
        n_audit = int(sql(d, "select count(*) from audit_log where "
                             "event='sign.tx.create'"))
        digest = hashlib.sha256(b"factura 7").digest()
        docs = [pdf_doc(i, p, LEVELS[i]) for i, p in enumerate(pdfs)]
        docs.append({"id": "hash-0", "name": "factura.xml",
                     "digest": b64(digest)})
        st, o = api.call("POST", "/api/v1/transactions", tx_body(owner, docs),
                         basic=creds)
        tx = o.get("id")
        check(st == 201 and tx, f"a transaction with four PDFs and a digest "
                                f"({st} {o})")
        rows = sql(d, "select seq || ':' || level || ':' || pages || ':' || "
                      "size || ':' || (case when signed_pdf is null then 1 "
                      "else 0 end) from sign_pdfs "
                      f"where tx_id='{tx}' order by seq")
        check(rows.split() == [f"{i}:{LEVELS[i]}:1:{len(p)}:1"
                               for i, p in enumerate(pdfs)],
              f"the PDFs are stored with level, pages and size ({rows})")
        check(int(sql(d, "select count(*) from audit_log where "
                         "event='sign.tx.create'")) == n_audit + 1,
              "one sign.tx.create audit entry")
        st, h, _ = fetch(srv,
                         f"/api/v1/transactions/{tx}/signed?document=pdf-0",
                         basic=creds)
        check(st == 409, f"a download before signing: 409 ({st})")
        tok = check_review(srv, api, d, tx, citizen, pdfs)
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/otp", token=tok)
        check(st == 200 and o.get("state") == "otp_sent", f"OTP sent ({st})")
        st, o = api.call("POST", f"/api/v1/transactions/{tx}/confirm",
                         {"password": citizen["password"],
                          "otp": last_otp(d, citizen["mobile"])}, token=tok)
        check(st == 200 and o.get("state") == "signed",
              f"password + OTP: the batch is signed ({st} {o})")
        act = sql(d, "select count(*) from sign_activations where used_at "
                     "is not null")
        check(int(act or 0) >= 5, f"keyd consumed an activation record per "
                                  f"PDF and one for the digests ({act})")
        cert_pem = os.path.join(tmp, "signer.pem")
        st, o = api.call("GET", f"/api/v1/transactions/{tx}", basic=creds)
        import base64
        with open(cert_pem + ".der", "wb") as f:
            f.write(base64.b64decode(o.get("certificate", "")))
        run(["openssl", "x509", "-inform", "DER", "-in", cert_pem + ".der",
             "-out", cert_pem])
        check_downloads(srv, api, d, tmp, pem, tx, creds, other, pdfs,
                        cert_pem)
        st, _, _ = fetch(srv, f"/api/v1/transactions/{tx}/pdf?document=pdf-0",
                         token=tok)
        check(st == 409, f"the citizen's review link once signed: 409 ({st})")
        st, _ = api.call("DELETE", f"/api/v1/transactions/{tx}", basic=creds)
        st, _, _ = fetch(srv,
                         f"/api/v1/transactions/{tx}/signed?document=pdf-0",
                         basic=creds)
        check(st == 409, f"an ended transaction serves no PDF: 409 ({st})")
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
        # the purge takes the PDFs with their transaction
        set_config(d, purge_interval_seconds=1, sign_keep_hours=0)
        srv = Server(d)
        gone = False
        for _ in range(30):
            gone = sql(d, "select count(*) from sign_pdfs where "
                          f"tx_id='{tx}'") == "0"
            if gone:
                break
            time.sleep(0.5)
        check(gone and sql(d, "select count(*) from sign_transactions where "
                              f"id='{tx}'") == "0",
              "the purge deleted the stored PDFs with the transaction")
        det = sql(d, "select details from audit_log where event='sign.purge'"
                     " order by seq desc limit 1")
        check(re.search(r'"pdfs":\s*4', det or ""),
              f"sign.purge counts the PDFs ({det})")
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
        check_retry_after_tsa_failure(d, creds, citizen, pdfs[0])
        rc, out, _ = llave(d, "audit", "verify")
        check(rc == 0, "the audit chain verifies after all of it")
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
