"""Issue 14 items 1, 2 and 5: the CSC API v2.0.0.2 to the letter, with the
production configuration that unchanged clients use, and XAdES from
signatures/signDoc, against a real llaved on a demo install.

Each deviation the issue lists has its check here, named by the section of
the CSC API v2.0.0.2 text it follows.  Signatures are judged by tools nobody
here wrote: openssl pkeyutl / cms / ts / ocsp / crl, xmlsec1 and xmllint;
the store is read with sqlite3 to show that refusals change nothing."""
import base64
import hashlib
import json
import os
import re
import subprocess

from lvtest import (Server, accept_certificate, check, cleanup, finish, llave,
                    openssl, sql, tsa_refusing, workdir)
from test_sign import (Api, b64, b64url, csc_login, der_to_pem, install,
                       last_otp, pkcs1_ok)

SHA256 = "2.16.840.1.101.3.4.2.1"
RSA = "1.2.840.113549.1.1.1"
RSA_SHA384 = "1.2.840.113549.1.1.12"
RSA_PSS = "1.2.840.113549.1.1.10"
NS_XADES = "http://uri.etsi.org/01903/v1.3.2#"
XMLSEC_ID = ["--id-attr:Id", f"{NS_XADES}:SignedProperties"]


def h(text):
    return hashlib.sha256(text.encode()).digest()


def raw(srv, method, path, body=None, headers=None):
    """(status, headers, body bytes) of one request, as sent."""
    data = body if isinstance(body, (bytes, type(None))) else \
        json.dumps(body).encode()
    hd = dict(headers or {})
    if data is not None:
        hd.setdefault("Content-Type", "application/json")
    return srv.request(method, path, data, hd)


def csc_error_shape(o):
    return isinstance(o, dict) and set(o) == {"error", "error_description"}


def authorize(api, d, tok, serial, hashes, mobile, pin, num=None,
              send_hashes=False, ver="v2"):
    """sendOTP as an unchanged client sends it (credentialID only), then
    authorize with PIN + OTP."""
    body = {"credentialID": serial}
    if send_hashes:
        body.update(hashes=[b64url(x) for x in hashes],
                    hashAlgorithmOID=SHA256)
    st, o = api.call("POST", f"/csc/{ver}/credentials/sendOTP", body,
                     token=tok)
    if st != 204:
        return st, o
    otp = last_otp(d, mobile)
    if ver == "v1":
        return api.call("POST", "/csc/v1/credentials/authorize",
                        {"credentialID": serial,
                         "numSignatures": str(num or len(hashes)),
                         "hash": [b64(x) for x in hashes], "PIN": pin,
                         "OTP": otp}, token=tok)
    return api.call("POST", "/csc/v2/credentials/authorize",
                    {"credentialID": serial,
                     "numSignatures": num or len(hashes),
                     "hashes": [b64url(x) for x in hashes],
                     "hashAlgorithmOID": SHA256,
                     "authData": [{"id": "PIN", "value": pin},
                                  {"id": "OTP", "value": otp}]}, token=tok)


def sign_hash(api, tok, serial, sad, hashes, **extra):
    body = {"credentialID": serial, "SAD": sad,
            "hashes": [b64url(x) for x in hashes],
            "hashAlgorithmOID": SHA256, "signAlgo": RSA}
    body.update(extra)
    return api.call("POST", "/csc/v2/signatures/signHash", body, token=tok)


def stored(d):
    """What a refusal must not change: SADs and their budgets, acceptances,
    certificates, activation records, CSC OTP bindings."""
    return sql(d, "select (select count(*) || '/' || ifnull(sum(remaining), 0)"
                  " from sign_sads) || ';' || (select count(*) from "
                  "sign_acceptances) || ';' || (select count(*) from certs) "
                  "|| ';' || (select count(*) from sign_activations) || ';' ||"
                  " (select count(*) from sign_csc_otps)")


# ---- item 1: one production configuration ----------------------------------

def check_default(d, api, cz, serial, cert_pem, tmp):
    with open(os.path.join(d, "llave.json")) as f:
        cfg = json.load(f)
    check(cfg.get("csc_otp_hashes", False) is False,
          "--demo changes no CSC setting: csc_otp_hashes is the default, "
          f"false ({cfg.get('csc_otp_hashes')})")
    # v1, as pyHanko's CSCSigner: sendOTP with the credentialID only
    st, v1tok = csc_login(api, "v1", cz["user_id"], cz["password"])
    doc = h("v1 unchanged client")
    st, o = authorize(api, d, v1tok, serial, [doc], cz["mobile"],
                      cz["password"], ver="v1")
    sad = o.get("SAD")
    check(st == 200 and sad, f"v1: sendOTP {{credentialID}} then authorize "
                             f"with PIN and OTP gives a SAD ({st} {o})")
    st, o = api.call("POST", "/csc/v1/signatures/signHash",
                     {"credentialID": serial, "SAD": sad, "hash": [b64(doc)],
                      "hashAlgo": SHA256, "signAlgo": RSA}, token=v1tok)
    check(st == 200 and pkcs1_ok(tmp, cert_pem, doc,
                                 base64.b64decode(o["signatures"][0])),
          "v1: signHash verifies (openssl pkeyutl)")
    # v2 from the text: sendOTP {credentialID}, authorize with the hashes
    st, tok = csc_login(api, "v2", cz["user_id"], cz["password"])
    a, b = h("v2 contract a"), h("v2 contract b")
    st, o = authorize(api, d, tok, serial, [a], cz["mobile"], cz["password"])
    sad = o.get("SAD")
    check(st == 200 and sad, f"v2: the explicit flow gives a SAD ({st} {o})")
    st, o = sign_hash(api, tok, serial, sad, [b])
    check(st == 400 and "not one the SAD authorizes" in
          o.get("error_description", ""),
          f"SCAL2: the SAD signs only the hashes sent with authorize ({o})")
    st, o = sign_hash(api, tok, serial, sad, [a])
    check(st == 200 and pkcs1_ok(tmp, cert_pem, a,
                                 base64.b64decode(o["signatures"][0])),
          "v2: signHash of the authorized hash verifies")
    return tok


# ---- item 2: the deviations ------------------------------------------------

def check_info(srv, api):
    st, o = api.call("POST", "/csc/v2/info", {})
    logo = o.get("logo", "")
    check(st == 200 and re.match(r"https?://", logo) and
          logo.endswith("/csc/logo.png"),
          f"§11.1 info.logo is a URI ({logo})")
    path = re.sub(r"^https?://[^/]+", "", logo)
    st, hd, body = srv.get(path)
    check(st == 200 and body.startswith(b"\x89PNG\r\n\x1a\n") and
          hd.get("Content-Type") == "image/png",
          f"the logo is served, a PNG ({st} {hd.get('Content-Type')})")
    check(o.get("validationInfo") is True and
          o.get("asynchronousOperationMode") is False and
          "signatures/timestamp" not in o.get("methods", []),
          "info advertises validationInfo, no asynchronous mode, and only "
          "the methods it serves")
    check(o.get("signature_formats") == {
        "formats": ["C", "X", "P"],
        "envelope_properties": [["Attached", "Detached"],
                                ["Enveloped", "Detached"], ["Revision"]]},
          f"info: CAdES, XAdES and PAdES formats "
          f"({o.get('signature_formats')})")
    st, es = api.call("POST", "/csc/v2/info", {"lang": "es-ES"})
    check(es.get("lang") == "es-ES" and "firma" in es.get("description", ""),
          f"info.lang: es answers in Spanish ({es.get('lang')})")
    st, fr = api.call("POST", "/csc/v2/info", {"lang": "fr-FR"})
    check(fr.get("lang") == "en-US",
          "info.lang: a language without a translation answers en-US")


def issuer_rfc2253(cert_pem, what="-issuer"):
    _, out, _ = openssl("x509", "-in", cert_pem, "-noout", what, "-nameopt",
                        "RFC2253", check_rc=0)
    return out.strip().split("=", 1)[1]


def check_dns(api, d, tok, serial, cert_pem):
    st, ci = api.call("POST", "/csc/v2/credentials/info",
                      {"credentialID": serial, "certInfo": True}, token=tok)
    cert = ci.get("cert", {})
    iss, sub = issuer_rfc2253(cert_pem), issuer_rfc2253(cert_pem, "-subject")
    check(cert.get("issuerDN") == iss and cert.get("subjectDN") == sub,
          f"§11.4 RFC 4514 issuerDN and subjectDN ({cert.get('issuerDN')!r} "
          f"{cert.get('subjectDN')!r}; openssl: {iss!r} {sub!r})")
    sheet = sql(d, f"select sheet from sign_acceptances where serial="
                   f"'{serial}'")
    check(f"Emisor / Issuer: {iss}\n" in sheet + "\n" and
          f"Titular / Holder: {sub}\n" in sheet,
          "the acceptance sheet names holder and issuer in RFC 4514 too")
    check(ci.get("multisign", 0) >= 2, f"multisign ({ci.get('multisign')})")
    auth = ci.get("auth", {})
    check(auth.get("mode") == "explicit" and auth.get("objects"),
          f"§11.5 auth/mode is REQUIRED, so it comes without authInfo too "
          f"({auth})")
    check(cert.get("status") in ("valid", "expired", "revoked", "suspended"),
          f"cert/status is one of §11.4's values ({cert.get('status')})")
    st, o = api.call("POST", "/csc/v2/credentials/list",
                     {"credentialInfo": True}, token=tok)
    infos = o.get("credentialInfos", [{}])
    check(st == 200 and infos[0].get("auth", {}).get("mode") == "explicit",
          f"credentials/list credentialInfos carry auth/mode ({st})")
    return ci.get("multisign")


def check_refusals(srv, api, d, tok, serial, cz, multisign):
    """Every refusal of §11 this service must give: 400 invalid_request in
    the CSC shape, and nothing stored changes."""
    before = stored(d)
    doc = h("refused")
    cases = [
        ("credentials/list", {"userID": cz["user_id"]}, "userID"),
        ("credentials/list", {"credentialInfo": True, "certificates": "all"},
         "certificates"),
        ("credentials/info", {"credentialID": serial, "certificates": "all"},
         "certificates"),
        ("credentials/authorize",
         {"credentialID": serial, "numSignatures": 1, "hashes": [b64(doc)],
          "authData": [{"id": "PIN", "value": "x"}, {"id": "OTP",
                                                     "value": "1"}]},
         "hashAlgorithmOID"),
        ("credentials/authorize",
         {"credentialID": serial, "numSignatures": multisign + 1,
          "hashes": [b64(doc)], "hashAlgorithmOID": SHA256,
          "authData": [{"id": "PIN", "value": "x"}, {"id": "OTP",
                                                     "value": "1"}]},
         "too high"),
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "signAlgo": RSA}, "hashAlgorithmOID"),
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256, "signAlgo": RSA,
          "operationMode": "A"},
         "operationMode"),
        # §11.10: signAlgo REQUIRED, one of key/algo; signAlgoParams only
        # where the algorithm has parameters (PKCS#1 v1.5: none or NULL)
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256}, "signAlgo"),
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256, "signAlgo": RSA_PSS},
         "Invalid parameter signAlgo"),
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256, "signAlgo": RSA_SHA384},
         "contradicts"),
        ("signatures/signHash",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256, "signAlgo": RSA,
          "signAlgoParams": "MAA="}, "signAlgoParams"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32, "operationMode": "A",
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA}]},
         "operationMode"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documentDigests": [{"hashes": [b64(doc)], "signAlgo": RSA,
                               "signature_format": "C"}]},
         "hashAlgorithmOID"),
        ("signatures/signDoc",
         {"SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA}]},
         "signatureQualifier"),
        ("signatures/signDoc",
         {"signatureQualifier": "za_ecta_aes", "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA}]},
         "signatureQualifier"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "X",
                         "signAlgo": RSA,
                         "signed_envelope_property": "Attached"}]},
         "signed_envelope_property"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "J",
                         "signAlgo": RSA}]},
         "signature_format"),
        # §11.11: signAlgo REQUIRED per document; values exactly as the
        # table spells them; signed_props are {attribute_name,
        # attribute_value}, refused by name since none is offered
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C"}]},
         "documents[0].signAlgo"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA, "conformance_level": "ades-b-b"}]},
         "conformance_level"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA, "conformance_level": "Ades-B"}]},
         "conformance_level"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA,
                         "signed_envelope_property": "attached"}]},
         "signed_envelope_property"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA,
                         "signed_envelope_property": "Parallel"}]},
         "Parallel is not offered"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA, "signed_props": [
                             {"attribute_name": "commitment-type-indication",
                              "attribute_value": "MAA="},
                             {"attribute_name": "signer-location"}]}]},
         "(commitment-type-indication, signer-location)"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documents": [{"document": b64(b"x"), "signature_format": "C",
                         "signAlgo": RSA, "signed_props": [
                             {"attribute": "x", "value": "y"}]}]},
         "signed_props[0].attribute"),
        ("signatures/signDoc",
         {"credentialID": serial, "SAD": "ab" * 32,
          "documentDigests": [{"hashes": [b64(doc)],
                               "hashAlgorithmOID": SHA256,
                               "signAlgo": RSA_SHA384,
                               "signature_format": "C"}]},
         "contradicts"),
        ("credentials/extendTransaction",
         {"credentialID": serial, "SAD": "ab" * 32, "hashes": [b64(doc)]},
         "hashAlgorithmOID"),
        # §11.9: a SCAL 2 credential's new SAD needs its hashes
        ("credentials/extendTransaction",
         {"credentialID": serial, "SAD": "ab" * 32}, "hashes"),
        # §11.6: numSignatures >= 1; description at most 500 characters
        ("credentials/authorize",
         {"credentialID": serial, "numSignatures": 0, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256,
          "authData": [{"id": "PIN", "value": "x"}, {"id": "OTP",
                                                     "value": "1"}]},
         "Invalid value for parameter numSignatures"),
        ("credentials/authorize",
         {"credentialID": serial, "numSignatures": 1, "hashes": [b64(doc)],
          "hashAlgorithmOID": SHA256, "description": "é" * 501,
          "authData": [{"id": "PIN", "value": "x"}, {"id": "OTP",
                                                     "value": "1"}]},
         "description"),
        ("auth/revoke", {}, "token"),
    ]
    for method, body, want in cases:
        st, o = api.call("POST", f"/csc/v2/{method}", body, token=tok)
        check(st == 400 and o.get("error") == "invalid_request" and
              want in o.get("error_description", "") and csc_error_shape(o),
              f"{method} {sorted(body)}: 400 naming {want} ({st} {o})")
    st, o = api.call("POST", "/csc/v1/credentials/list",
                     {"userID": cz["user_id"]}, token=tok)
    check(st == 400 and "userID" in o.get("error_description", ""),
          "v1 credentials/list with a userID: 400 too")
    st, o = api.call("POST", "/csc/v2/credentials/list", {"userID": None},
                     token=tok)
    check(st == 200, f"userID null is absent (§7.1): 200 ({st} {o})")
    # malformed JSON and wrong types on every method
    for method in ("info", "auth/login", "auth/revoke", "credentials/list",
                   "credentials/info", "credentials/sendOTP",
                   "credentials/authorize", "credentials/extendTransaction",
                   "signatures/signHash", "signatures/signDoc"):
        for ver in ("v1", "v2"):
            if ver == "v1" and method == "signatures/signDoc":
                continue
            hd = {"Authorization": "Bearer " + tok}
            if method == "auth/login":
                hd = {"Authorization": "Basic " + base64.b64encode(
                    f"{cz['user_id']}:{cz['password']}".encode()).decode()}
            for body, what in ((b'{"credentialID": ', "malformed JSON"),
                               (b'{"clientData": 7}', "a number for a "
                                                       "string")):
                st, _, out = raw(srv, "POST", f"/csc/{ver}/{method}", body,
                                 hd)
                o = json.loads(out or b"{}")
                check(st == 400 and o.get("error") == "invalid_request" and
                      csc_error_shape(o),
                      f"/csc/{ver}/{method}: {what} -> 400 invalid_request "
                      f"({st} {o})")
    check(stored(d) == before, f"none of the refusals changed anything "
                               f"stored ({before} {stored(d)})")


def check_auth_data(api, d, tok, serial, cz):
    before = stored(d)
    doc = h("wrong pin")
    st, o = authorize(api, d, tok, serial, [doc], cz["mobile"], "Wrong-pin-1")
    check(st == 400 and o.get("error") == "invalid_authentication_data",
          f"§11.6 wrong PIN on v2: invalid_authentication_data ({st} {o})")
    st, o = api.call("POST", "/csc/v2/credentials/sendOTP",
                     {"credentialID": serial}, token=tok)
    st, o = api.call("POST", "/csc/v2/credentials/authorize",
                     {"credentialID": serial, "numSignatures": 1,
                      "hashes": [b64(doc)], "hashAlgorithmOID": SHA256,
                      "authData": [{"id": "PIN", "value": cz["password"]},
                                   {"id": "OTP", "value": "000000"}]},
                     token=tok)
    check(st == 400 and o.get("error") == "invalid_authentication_data",
          f"wrong OTP on v2: invalid_authentication_data ({st} {o})")
    st, v1 = csc_login(api, "v1", cz["user_id"], cz["password"])
    api.call("POST", "/csc/v1/credentials/sendOTP", {"credentialID": serial},
             token=v1)
    st, o = api.call("POST", "/csc/v1/credentials/authorize",
                     {"credentialID": serial, "numSignatures": 1,
                      "hash": [b64(doc)], "PIN": cz["password"],
                      "OTP": "000000"}, token=v1)
    check(st == 400 and o.get("error") == "invalid_otp",
          f"v1 keeps its names: invalid_otp ({st} {o})")
    after = stored(d).split(";")
    check(after[:4] == before.split(";")[:4],
          "wrong authentication data: no SAD, no acceptance, nothing "
          "signed")


def check_extend(api, d, tok, serial, cz, cert_pem, tmp):
    """§11.9 and §13.12: the PDF multi-signature flow."""
    h1, h2, h3 = h("pdf rev 1"), h("pdf rev 2"), h("pdf rev 3")
    st, o = authorize(api, d, tok, serial, [h1], cz["mobile"],
                      cz["password"], num=3)
    sad1 = o.get("SAD")
    st, o = sign_hash(api, tok, serial, sad1, [h1])
    check(st == 200, "signature 1 under SAD 1")
    st, o = api.call("POST", "/csc/v2/credentials/extendTransaction",
                     {"credentialID": serial, "SAD": sad1,
                      "hashes": [b64(h2), b64(h3)],
                      "hashAlgorithmOID": SHA256}, token=tok)
    check(st == 200 and o.get("SAD") not in (None, sad1) and
          o.get("expiresIn", 0) > 0,
          f"extendTransaction with new hashes: a new SAD ({st})")
    sad2 = o.get("SAD")
    st, o = sign_hash(api, tok, serial, sad1, [h2])
    check(st == 400, "the old SAD is used up once extended")
    st, o = sign_hash(api, tok, serial, sad2, [h1])
    check(st == 400 and "not one the SAD authorizes" in
          o.get("error_description", ""),
          "the new SAD is bound to the new hashes, not the old ones")
    st, o = sign_hash(api, tok, serial, sad2, [h2])
    check(st == 200 and pkcs1_ok(tmp, cert_pem, h2,
                                 base64.b64decode(o["signatures"][0])),
          "signature 2 (a hash computed after signature 1) under SAD 2")
    # §11.9: hashes are REQUIRED for a SCAL 2 credential: no plain
    # refresh on v2, and the refusal leaves SAD 2 as it was
    st, o = api.call("POST", "/csc/v2/credentials/extendTransaction",
                     {"credentialID": serial, "SAD": sad2}, token=tok)
    check(st == 400 and "hashes" in o.get("error_description", ""),
          f"v2 extendTransaction without hashes: 400 naming hashes ({st} "
          f"{o})")
    st, o = api.call("POST", "/csc/v2/credentials/extendTransaction",
                     {"credentialID": serial, "SAD": sad2,
                      "hashes": [b64(h1), b64(h2)],
                      "hashAlgorithmOID": SHA256}, token=tok)
    check(st == 400 and "too high" in o.get("error_description", ""),
          f"more new hashes than signatures left: 400 ({st} {o})")
    st, o = api.call("POST", "/csc/v2/credentials/extendTransaction",
                     {"credentialID": serial, "SAD": sad2,
                      "hashes": [b64(h3)], "hashAlgorithmOID": SHA256},
                     token=tok)
    sad3 = o.get("SAD")
    check(st == 200 and sad3 not in (None, sad2),
          f"extendTransaction with the last hash: a new SAD ({st} {o})")
    st, o = sign_hash(api, tok, serial, sad3, [h3], signAlgoParams="BQA=")
    check(st == 200, f"signature 3 under SAD 3, signAlgoParams the ASN.1 "
                     f"NULL ({st} {o})")
    st, o = api.call("POST", "/csc/v2/credentials/extendTransaction",
                     {"credentialID": serial, "SAD": sad3,
                      "hashes": [b64(h3)], "hashAlgorithmOID": SHA256},
                     token=tok)
    check(st == 400, "a used-up SAD is not extended")


def check_http_shapes(srv, api, tok, cz, serial):
    for path, status in (("/csc/v2/signatures/timestamp", 501),
                         ("/csc/v2/credentials/getChallenge", 501),
                         ("/csc/v2/credentials/authorizeCheck", 501),
                         ("/csc/v2/signatures/signPolling", 501),
                         ("/csc/v1/signatures/timestamp", 501),
                         ("/csc/v2/no/such/method", 404),
                         ("/csc/v1/signatures/signDoc", 404)):
        st, hd, out = raw(srv, "POST", path, {}, {"Authorization":
                                                  "Bearer " + tok})
        o = json.loads(out or b"{}")
        check(st == status and csc_error_shape(o),
              f"POST {path}: {status} with a CSC error body ({st} {o})")
    st, hd, out = raw(srv, "GET", "/csc/v2/credentials/list")
    o = json.loads(out or b"{}")
    check(st == 405 and hd.get("Allow") == "POST" and csc_error_shape(o),
          f"GET credentials/list: 405, Allow POST, CSC body ({st} {hd} {o})")
    st, hd, out = raw(srv, "DELETE", "/csc/v2/info")
    o = json.loads(out or b"{}")
    check(st == 405 and csc_error_shape(o), f"DELETE info: 405 ({st} {o})")
    # malformed Authorization: 400; none: 401
    for value in ("Bearer", "Bearer a b", "Token " + tok, "Bearer " + tok +
                  " x"):
        st, hd, out = raw(srv, "POST", "/csc/v2/credentials/list", {},
                          {"Authorization": value})
        o = json.loads(out or b"{}")
        check(st == 400 and o.get("error") == "invalid_request" and
              "Malformed authorization header" in
              o.get("error_description", ""),
              f"Authorization {value[:12]!r}...: 400 ({st} {o})")
    st, hd, out = raw(srv, "POST", "/csc/v2/credentials/list", {})
    check(st == 401 and json.loads(out).get("error") == "invalid_token",
          f"no Authorization: 401 invalid_token ({st})")
    # 204 answers: no body, no Content-Type
    st, hd, out = raw(srv, "POST", "/csc/v2/credentials/sendOTP",
                      {"credentialID": serial},
                      {"Authorization": "Bearer " + tok})
    check(st == 204 and out == b"" and "Content-Type" not in hd,
          f"sendOTP: 204 without body or Content-Type ({st} {hd})")
    st, tok2 = csc_login(api, "v2", cz["user_id"], cz["password"])
    st, hd, out = raw(srv, "POST", "/csc/v2/auth/revoke", {"token": tok2},
                      {"Authorization": "Bearer " + tok})
    check(st == 204 and out == b"" and "Content-Type" not in hd,
          f"auth/revoke: 204 without body or Content-Type ({st} {hd})")
    st, o = api.call("POST", "/csc/v2/credentials/list", {}, token=tok2)
    check(st == 401, "the revoked token is refused")
    # §11.2: a wrong password is "Authentication error", 400 on v2; v1
    # keeps the 401 its clients were given
    for ver, status in (("v2", 400), ("v1", 401)):
        st, o = api.call("POST", f"/csc/{ver}/auth/login", {},
                         basic=(cz["user_id"], "wrong-password-1"))
        check(st == status and o.get("error") == "authentication_error" and
              csc_error_shape(o),
              f"{ver} auth/login with a wrong password: {status} "
              f"authentication_error ({st} {o})")


# ---- signDoc: CAdES defaults, signatureQualifier, validationInfo -----------

def check_sign_doc(api, d, tok, serial, cz, pem, tmp):
    doc = b"Acta de la junta, texto definitivo.\n" * 10
    path = os.path.join(tmp, "acta.txt")
    with open(path, "wb") as f:
        f.write(doc)
    st, o = authorize(api, d, tok, serial, [hashlib.sha256(doc).digest()],
                      cz["mobile"], cz["password"], num=2)
    sad = o.get("SAD")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"signatureQualifier": "eu_eidas_qes", "SAD": sad,
                      "documents": [{"document": b64(doc),
                                     "signature_format": "C",
                                     "signAlgo": RSA}]}, token=tok)
    ws = o.get("DocumentWithSignature", [])
    check(st == 200 and len(ws) == 1 and not o.get("SignatureObject"),
          f"§11.11 CAdES defaults to Attached; signatureQualifier without "
          f"credentialID selects the credential ({st})")
    if ws:
        p7m, outp = os.path.join(tmp, "acta.p7m"), os.path.join(tmp, "out")
        with open(p7m, "wb") as f:
            f.write(base64.b64decode(ws[0]))
        rc, _, err = openssl("cms", "-verify", "-binary", "-inform", "DER",
                             "-in", p7m, "-CAfile", f"{pem}/root.pem",
                             "-certfile", f"{pem}/chain.pem", "-purpose",
                             "any", "-out", outp)
        with open(outp, "rb") as f:
            check(rc == 0 and f.read() == doc,
                  "openssl cms -verify gives the document back")
        rc, out, _ = openssl("cms", "-cmsout", "-print", "-inform", "DER",
                             "-in", p7m)
        check(serial.lower().lstrip("0") in out.replace(":", "").lower(),
              "signed with the demo citizen's credential")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "returnValidationInfo": True,
                      "documents": [{"document": b64(doc),
                                     "signature_format": "C",
                                     "signAlgo": RSA,
                                     "conformance_level": "Ades-B-T",
                                     "signed_envelope_property":
                                         "Detached"}]}, token=tok)
    vi = o.get("validationInfo", {})
    check(st == 200 and len(o.get("SignatureObject", [])) == 1 and
          vi.get("certificates") and vi.get("ocsp") and vi.get("crl"),
          f"returnValidationInfo: certificates, OCSP responses, CRLs ({st} "
          f"{ {k: len(v) for k, v in vi.items()} })")
    check_validation_info(tmp, pem, vi, o.get("SignatureObject", [None])[0])


def check_validation_info(tmp, pem, vi, sig_b64):
    root = open(f"{pem}/root.pem").read()
    pems = []
    for i, c in enumerate(vi.get("certificates", [])):
        p = der_to_pem(tmp, base64.b64decode(c), f"vi-cert-{i}.pem")
        pems.append(open(p).read())
    check(root in pems, "validationInfo.certificates has the root, which "
                        "the signature does not carry")
    tsu_serial = openssl("x509", "-in", f"{pem}/tsa.pem", "-noout", "-serial",
                         check_rc=0)[1].strip().split("=")[1].upper()
    serials = []
    for i, r in enumerate(vi.get("ocsp", [])):
        path = os.path.join(tmp, f"vi-{i}.ocsp")
        with open(path, "wb") as f:
            f.write(base64.b64decode(r))
        rc, out, _ = openssl("ocsp", "-respin", path, "-resp_text",
                             "-noverify")
        serials += [line.split(":", 1)[1].strip().upper() for line in
                    out.splitlines() if "Serial Number:" in line]
        check(rc == 0 and "Cert Status: good" in out and
              "Response Status: successful" in out,
              "validationInfo.ocsp: a successful OCSP response, status good "
              "(openssl ocsp)")
    check(tsu_serial in serials, "validationInfo.ocsp covers the time-stamp "
          f"unit's certificate too (EN 319 142-1 B-LT) ({tsu_serial} in "
          f"{serials})")
    for i, c in enumerate(vi.get("crl", [])):
        path = os.path.join(tmp, f"vi-{i}.crl")
        with open(path, "wb") as f:
            f.write(base64.b64decode(c))
        rc, out, _ = openssl("crl", "-inform", "DER", "-in", path, "-noout",
                             "-issuer")
        check(rc == 0 and "issuer=" in out,
              f"validationInfo.crl[{i}] is a DER CRL ({out.strip()})")


# ---- item 5: XAdES -----------------------------------------------------------

INVOICE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<Factura xmlns="urn:example:factura">\n'
           b'  <Numero>2026-0042</Numero>\n'
           b'  <Importe moneda="EUR">1210.00</Importe>\n'
           b'</Factura>\n')


def xmlsec_ok(tmp, path, pem):
    """xmlsec1 resolves a detached reference against its working
    directory: it runs in the signature's."""
    p = subprocess.run(["xmlsec1", "--verify", "--trusted-pem",
                        f"{pem}/root.pem", "--untrusted-pem",
                        f"{pem}/chain.pem", *XMLSEC_ID, path],
                       capture_output=True, text=True,
                       cwd=os.path.dirname(path))
    out = p.stdout + p.stderr
    return p.returncode == 0 and out.lstrip().startswith("OK"), out


def signature_value_c14n(tmp, xml):
    """The exclusive canonical form of ds:SignatureValue (what the
    SignatureTimeStamp covers), made by xmllint."""
    m = re.search(rb"<(\w+):SignatureValue\b[^>]*>[^<]*</\1:SignatureValue>",
                  xml)
    el = m.group(0)
    prefix = m.group(1)
    ns = re.search(rb'xmlns:' + prefix + rb'="([^"]+)"', xml).group(1)
    if b"xmlns:" + prefix not in el:
        el = el.replace(b"<" + prefix + b":SignatureValue",
                        b"<" + prefix + b":SignatureValue xmlns:" + prefix +
                        b'="' + ns + b'"', 1)
    path = os.path.join(tmp, "sigval.xml")
    with open(path, "wb") as f:
        f.write(el)
    p = subprocess.run(["xmllint", "--exc-c14n", path], capture_output=True)
    return p.stdout


def check_tst(tmp, pem, xml, name):
    m = re.search(rb"<(\w+):EncapsulatedTimeStamp[^>]*>([^<]+)<", xml)
    if not check(m is not None, f"{name}: a SignatureTimeStamp (B-T)"):
        return
    tok = os.path.join(tmp, f"{name}.tst")
    with open(tok, "wb") as f:
        f.write(base64.b64decode(m.group(2)))
    digest = hashlib.sha256(signature_value_c14n(tmp, xml)).hexdigest()
    rc, out, err = openssl("ts", "-verify", "-digest", digest, "-sha256",
                           "-token_in", "-in", tok, "-CAfile",
                           f"{pem}/root.pem", "-untrusted",
                           f"{pem}/chain.pem")
    check(rc == 0 and "Verification: OK" in out,
          f"{name}: openssl ts -verify, the time-stamp covers the canonical "
          f"SignatureValue ({out.strip()} {err.strip()[:200]})")


def check_xades(api, d, tok, serial, cz, pem, tmp):
    other = b"Contrato en PDF o cualquier cosa: \x00\x01\x02 bytes.\n"
    digests = [hashlib.sha256(INVOICE).digest(),
               hashlib.sha256(other).digest()]
    st, o = authorize(api, d, tok, serial, digests, cz["mobile"],
                      cz["password"], num=3)
    sad = o.get("SAD")
    # a document that is not XML: refused, the SAD not consumed
    remaining = sql(d, "select sum(remaining) from sign_sads")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "documents": [{"document": b64(other),
                                     "signature_format": "X",
                                     "signAlgo": RSA}]}, token=tok)
    check(st == 400 and o.get("error") == "invalid_request" and
          sql(d, "select sum(remaining) from sign_sads") == remaining,
          f"XAdES enveloped of bytes that are not XML: 400, nothing "
          f"consumed ({st} {o})")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "documents": [{"document": b64(INVOICE),
                                     "signature_format": "X",
                                     "signAlgo": RSA,
                                     "conformance_level": "Ades-B-T",
                                     "signed_envelope_property":
                                         "Enveloped"}]}, token=tok)
    ws = o.get("DocumentWithSignature", [])
    check(st == 200 and len(ws) == 1,
          f"signDoc X Enveloped Ades-B-T: DocumentWithSignature ({st} {o})")
    if ws:
        xml = base64.b64decode(ws[0])
        path = os.path.join(tmp, "factura-signed.xml")
        with open(path, "wb") as f:
            f.write(xml)
        ok, out = xmlsec_ok(tmp, path, pem)
        check(ok, f"xmlsec1 --verify: the enveloped XAdES verifies with the "
                  f"root as the only trust anchor ({out.strip()[:300]})")
        check(b"SigningCertificateV2" in xml and b"SigningTime" in xml and
              b"<Numero>2026-0042</Numero>" in xml,
              "enveloped: the document, SigningTime, SigningCertificateV2")
        check_tst(tmp, pem, xml, "enveloped")
        bad = xml.replace(b"1210.00", b"9210.00")
        with open(path, "wb") as f:
            f.write(bad)
        check(not xmlsec_ok(tmp, path, pem)[0],
              "a changed amount no longer verifies")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "documents": [{"document": b64(other),
                                     "signature_format": "X",
                                     "signAlgo": RSA,
                                     "conformance_level": "AdES-B-B",
                                     "signed_envelope_property":
                                         "Detached"}]}, token=tok)
    so = o.get("SignatureObject", [])
    check(st == 200 and len(so) == 1,
          f"signDoc X Detached AdES-B-B (the spelling of §11.11's default "
          f"and sample): SignatureObject ({st} {o})")
    if so:
        xml = base64.b64decode(so[0])
        sdir = os.path.join(tmp, "detached")
        os.makedirs(sdir, exist_ok=True)
        with open(os.path.join(sdir, "document"), "wb") as f:
            f.write(other)
        path = os.path.join(sdir, "signature.xml")
        with open(path, "wb") as f:
            f.write(xml)
        ok, out = xmlsec_ok(tmp, path, pem)
        check(ok and b'URI="document"' in xml,
              f"xmlsec1 --verify: the detached XAdES over the document "
              f"stored as \"document\" verifies ({out.strip()[:300]})")
        check(b"EncapsulatedTimeStamp" not in xml, "B-B has no time-stamp")
    st, o = api.call("POST", "/csc/v2/signatures/signDoc",
                     {"credentialID": serial, "SAD": sad,
                      "documents": [{"document": b64(b"<a>not this</a>"),
                                     "signature_format": "X",
                                     "signAlgo": RSA}]}, token=tok)
    check(st == 400, "XAdES of a document the SAD does not cover: refused")


# ---- signDoc's signatures given back when the answer is an error ----------

def b_t_doc(api, tok, serial, sad, doc, first=None):
    """signDoc of doc as CAdES B-T; with first, a B-B document before it."""
    docs = [{"document": b64(doc), "signature_format": "C", "signAlgo": RSA,
             "conformance_level": "Ades-B-T"}]
    if first:
        docs.insert(0, {"document": b64(first), "signature_format": "C",
                        "signAlgo": RSA, "conformance_level": "Ades-B-B"})
    return api.call("POST", "/csc/v2/signatures/signDoc",
                    {"credentialID": serial, "SAD": sad, "documents": docs},
                    token=tok)


def remaining(d, sad):
    h = hashlib.sha256(sad.encode()).hexdigest()
    return sql(d, f"select remaining from sign_sads where sad_hash = '{h}'")


def check_sad_given_back(d, tok, serial, cz, pem, tmp):
    """A CAdES B-T signDoc whose time-stamp the TSA refuses (clock guard on,
    the clock forced unsynchronized, as test_tsa.py does) answers 503 and
    gives the SAD's signature back (sign.csc.sad_release, audited): once
    the TSA answers again the same SAD signs, with no new OTP, and only
    once."""
    doc = b"Resolucion firmada tras un fallo del sello de tiempo.\n" * 8
    sad_row = None
    with tsa_refusing(d) as srv:
        api = Api(srv)
        st, o = authorize(api, d, tok, serial, [hashlib.sha256(doc).digest()],
                          cz["mobile"], cz["password"], num=1)
        sad = o.get("SAD", "")
        sad_row = f"sad_hash = '{hashlib.sha256(sad.encode()).hexdigest()}'"
        st, o = b_t_doc(api, tok, serial, sad, doc)
        check(st == 503 and sql(d, "select remaining from sign_sads where "
                                   + sad_row) == "1"
              and sql(d, "select count(*) from audit_log where event = "
                         "'sign.csc.sad_release'") == "1",
              f"the TSA refusing: 503, the SAD's signature given back and "
              f"audited ({st} {o})")
        # two documents, the first signed (B-B) before the second's
        # time-stamp fails: the answer carries neither, both are given back
        first = b"Anexo I, sin sello de tiempo.\n" * 8
        st, o = authorize(api, d, tok, serial,
                          [hashlib.sha256(x).digest() for x in (first, doc)],
                          cz["mobile"], cz["password"], num=2)
        sad2 = o.get("SAD", "")
        st, o = b_t_doc(api, tok, serial, sad2, doc, first=first)
        check(st == 503 and remaining(d, sad2) == "2",
              f"two documents, the second refused its time-stamp: 503 and "
              f"both signatures given back ({st}, remaining "
              f"{remaining(d, sad2)})")
    srv = Server(d)
    try:
        api = Api(srv)
        st, o = b_t_doc(api, tok, serial, sad, doc)
        ws = o.get("DocumentWithSignature", [])
        p7m, outp = os.path.join(tmp, "retry.p7m"), os.path.join(tmp, "rout")
        with open(p7m, "wb") as f:
            f.write(base64.b64decode(ws[0]) if ws else b"")
        rc, _, _ = openssl("cms", "-verify", "-binary", "-inform", "DER",
                           "-in", p7m, "-CAfile", f"{pem}/root.pem",
                           "-certfile", f"{pem}/chain.pem", "-purpose", "any",
                           "-out", outp)
        check(st == 200 and rc == 0,
              f"the TSA back: the same SAD signs, openssl cms -verify ({st})")
        st, o = b_t_doc(api, tok, serial, sad, doc)
        check(st >= 400 and sql(d, "select remaining from sign_sads where "
                                   + sad_row) == "0",
              f"and only once ({st} {o.get('error')})")
        st, o = b_t_doc(api, tok, serial, sad2, doc, first=first)
        check(st == 200 and len(o.get("DocumentWithSignature", [])) == 2
              and remaining(d, sad2) == "0",
              f"the two documents signed with their SAD once the TSA "
              f"answers ({st})")
    finally:
        check(srv.stop() == 0, "llaved stopped cleanly")


def main():
    tmp = workdir("csc-v2")
    srv = None
    try:
        d, pem, cz, app = install(tmp)
        srv = Server(d)
        api = Api(srv)
        serial = cz["signing_certificate"]
        # a CSC client shows no acceptance sheet: the citizen accepts the
        # certificate on the signing page first (R5.4, test_sign.py)
        accept_certificate(srv, d, cz, app)
        st, tok = csc_login(api, "v2", cz["user_id"], cz["password"])
        st, ci = api.call("POST", "/csc/v2/credentials/info",
                          {"credentialID": serial}, token=tok)
        cert_pem = der_to_pem(tmp, base64.b64decode(
            ci["cert"]["certificates"][0]), "signer.pem")
        tok = check_default(d, api, cz, serial, cert_pem, tmp)
        check_info(srv, api)
        multisign = check_dns(api, d, tok, serial, cert_pem)
        check_refusals(srv, api, d, tok, serial, cz, multisign or 1)
        check_auth_data(api, d, tok, serial, cz)
        check_extend(api, d, tok, serial, cz, cert_pem, tmp)
        check_sign_doc(api, d, tok, serial, cz, pem, tmp)
        check_xades(api, d, tok, serial, cz, pem, tmp)
        check_http_shapes(srv, api, tok, cz, serial)
        check(srv.stop() == 0, "llaved stopped cleanly")
        srv = None
        check_sad_given_back(d, tok, serial, cz, pem, tmp)
        rc, out, _ = llave(d, "audit", "verify")
        check(rc == 0, "the audit chain verifies after all of it")
    finally:
        if srv:
            srv.stop()
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
