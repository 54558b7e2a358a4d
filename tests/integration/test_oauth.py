"""Issue 14 item 3: OAuth 2.0 for the CSC API (CSC API v2.0.0.2 §8) against
a real llaved: registered clients (`llave app add --redirect-uri`),
oauth2/authorize with PKCE S256 required (RFC 7636), the citizen's page
driven over HTTP as the page drives it (login, the OTP read from
DIR/outbox, approve or deny), oauth2/token (RFC 6749 §4.1.3, every §5.2
error, nothing stored changed by a refusal), the credential-scope token
used as the SAD of signatures/signHash (verified with openssl pkeyutl),
a reused code revoking its token, and oauth2/revoke (RFC 7009).  The
store is read with sqlite3."""
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import urllib.parse

from lvtest import (outbox_otp, store_dump, LLAVE, Server, check, cleanup, finish, llave, openssl,
                    run, sql, workdir)

FAST = {"argon2_memory_mib": 1, "argon2_time": 1,
        "otp_send_per_operation": 20, "otp_send_per_citizen": 200,
        "otp_send_per_source": 1000}
SHA256 = "2.16.840.1.101.3.4.2.1"
CB = "http://127.0.0.1:9/cb"
CB2 = "https://rp.example/oauth/cb?tenant=1"


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def pkce():
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


class Http:
    """Raw HTTP without following redirects, from `source` (another
    loopback address is another client address to llaved)."""

    def __init__(self, url, source=None):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.source = (source, 0) if source else None

    def req(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                       source_address=self.source)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        h = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, h, data

    def json(self, method, path, body=None, token=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        st, _, data = self.req(method, path,
                               json.dumps(body).encode() if body is not None
                               else None, h)
        try:
            return st, json.loads(data) if data else {}
        except ValueError:
            return st, {"_raw": data}

    def form(self, path, fields, basic=None, ctype=None):
        body = fields if isinstance(fields, str) else \
            urllib.parse.urlencode(fields)
        h = {"Content-Type": ctype or "application/x-www-form-urlencoded"}
        if basic:
            h["Authorization"] = "Basic " + base64.b64encode(
                f"{basic[0]}:{basic[1]}".encode()).decode()
        st, hd, data = self.req("POST", path, body.encode(), h)
        try:
            return st, hd, json.loads(data) if data else {}
        except ValueError:
            return st, hd, {"_raw": data}


def install(tmp):
    d = os.path.join(tmp, "demo")
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump(FAST, f)
    run([LLAVE, "init", d, "--demo", "--config", cfg], check_rc=0)
    pem = os.path.join(tmp, "pem")
    llave(d, "ca", "export", pem, check_rc=0)
    with open(os.path.join(d, "demo-credentials.json")) as f:
        acc = json.load(f)["accounts"]
    return d, pem, [a for a in acc if a["kind"] == "citizen"][0]


def last_otp(d, mobile, purpose):
    return outbox_otp(d, mobile, purpose)


def audit(d, event, result="success"):
    return int(sql(d, f"select count(*) from audit_log where event='{event}'"
                      f" and result='{result}'"))


def stored(d):
    """What a refused token request must leave alone."""
    return sql(d, "select count(*), coalesce(sum(revoked_at), 0) from"
                  " oauth_tokens") + "|" + sql(
        d, "select group_concat(code_used_at) from oauth_authorizations")


def register(d):
    rc, out, err = llave(d, "app", "add", "Portal del Ciudadano",
                         "--redirect-uri", CB, "--redirect-uri", CB2,
                         "--json")
    check(rc == 0, f"llave app add --redirect-uri registers a client ({err})")
    client = json.loads(out)
    rc, out, _ = llave(d, "app", "add", "Other RP", "--redirect-uri",
                       "https://other.example/cb", "--json")
    other = json.loads(out)
    rc, out, err = llave(d, "app", "add", "Bad", "--redirect-uri",
                         "http://rp.example/cb")
    check(rc != 0 and "https" in err,
          "a plain-http redirect URI off loopback is refused")
    rc, out, err = llave(d, "app", "add", "Bad", "--redirect-uri",
                         "https://rp.example/cb#frag")
    check(rc != 0, "a redirect URI with a fragment is refused")
    rc, out, _ = llave(d, "app", "list")
    apps = {a["client_id"]: a for a in json.loads(out)}
    check(apps[client["client_id"]]["redirect_uris"] == [CB, CB2],
          "llave app list shows the client's redirect URIs")
    h = sql(d, "select secret_hash from sign_apps where client_id="
               f"'{client['client_id']}'")
    check(h == hashlib.sha256(client["client_secret"].encode()).hexdigest()
          and client["client_secret"] not in store_dump(d),
          "the client secret is stored as SHA-256 only")
    return client, other


def authorize(h, params):
    st, hd, body = h.req("GET", "/csc/v2/oauth2/authorize?" +
                         urllib.parse.urlencode(params))
    return st, hd.get("location", ""), body


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))


def check_authorize_errors(h, d, client, challenge):
    base = {"response_type": "code", "client_id": client["client_id"],
            "redirect_uri": CB, "scope": "service", "state": "st 1/x",
            "code_challenge": challenge, "code_challenge_method": "S256"}
    before = sql(d, "select count(*) from oauth_authorizations")
    cases = [
        ("no code_challenge", {"code_challenge": None}, "invalid_request"),
        ("code_challenge_method plain", {"code_challenge_method": "plain"},
         "invalid_request"),
        ("no code_challenge_method", {"code_challenge_method": None},
         "invalid_request"),
        ("a malformed challenge", {"code_challenge": "short"},
         "invalid_request"),
        ("response_type token", {"response_type": "token"},
         "unsupported_response_type"),
        ("an unknown scope", {"scope": "admin"}, "invalid_scope"),
        ("scope credential without hashes",
         {"scope": "credential", "credentialID": "01"}, "invalid_request"),
    ]
    for what, change, error in cases:
        p = {k: v for k, v in {**base, **change}.items() if v is not None}
        st, loc, _ = authorize(h, p)
        q = query_of(loc)
        check(st == 302 and loc.startswith(CB + "?") and
              q.get("error") == error and q.get("state") == "st 1/x",
              f"authorize with {what}: back to the client with {error} and "
              f"the state ({st} {loc})")
    for what, change in [("an unknown client", {"client_id": "app-nobody"}),
                         ("an unregistered redirect_uri",
                          {"redirect_uri": CB + "/other"}),
                         ("a redirect_uri differing by a slash",
                          {"redirect_uri": CB + "/"})]:
        st, loc, body = authorize(h, {**base, **change})
        o = json.loads(body)
        check(st == 400 and not loc and o.get("error") == "invalid_request",
              f"authorize with {what}: told to the user, no redirect "
              f"({st} {o})")
    check(sql(d, "select count(*) from oauth_authorizations") == before,
          "refused authorization requests record nothing")


def page_flow(h, d, citizen, loc, purpose, deny=False):
    """What web/oauth/oauth.js does."""
    st, _, body = h.req("GET", loc)
    check(st == 200 and b"/web/oauth/oauth.js" in body,
          f"{loc} serves the authorization page")
    rid = loc.rsplit("/", 1)[1]
    api = f"/api/v1/oauth/{rid}"
    st, info = h.json("GET", api)
    check(st == 200 and info.get("application") == "Portal del Ciudadano",
          f"the page names the application ({info})")
    st, o = h.json("POST", api + "/login", {"user_id": citizen["user_id"],
                                           "password": "Not-the-pass-1"})
    check(st == 401, f"login with a wrong password: 401 ({st} {o})")
    st, view = h.json("POST", api + "/login", {
        "user_id": citizen["user_id"], "password": citizen["password"]})
    check(st == 200 and view.get("token"), f"login ({st} {view})")
    tok = view["token"]
    if deny:
        st, o = h.json("POST", api + "/deny", {}, token=tok)
        return view, o.get("redirect", "")
    st, o = h.json("POST", api + "/approve",
                   {"password": citizen["password"], "otp": "123456"},
                   token=tok)
    check(st == 409, f"approve before the OTP is sent: refused ({st} {o})")
    st, o = h.json("POST", api + "/otp", {}, token=tok)
    check(st == 200, f"the OTP is sent ({st} {o})")
    code = last_otp(d, citizen["mobile"], purpose)
    st, o = h.json("POST", api + "/approve",
                   {"password": citizen["password"], "otp": "000001"},
                   token=tok)
    check(st in (400, 401) and o.get("error") == "invalid_otp",
          f"approve with a wrong OTP: invalid_otp ({st} {o})")
    st, o = h.json("POST", api + "/approve",
                   {"password": citizen["password"], "otp": code}, token=tok)
    check(st == 200 and o.get("redirect"), f"approve ({st} {o})")
    st, o2 = h.json("POST", api + "/approve",
                    {"password": citizen["password"], "otp": code}, token=tok)
    check(st == 409, "an approved request cannot be approved again")
    return view, o.get("redirect", "")


def token(h, client, code, verifier, redirect_uri=CB, basic=True, **extra):
    f = {"grant_type": "authorization_code", "code": code,
         "redirect_uri": redirect_uri, "code_verifier": verifier, **extra}
    f = {k: v for k, v in f.items() if v is not None}
    if basic:
        return h.form("/csc/v2/oauth2/token", f,
                      basic=(client["client_id"], client["client_secret"]))
    return h.form("/csc/v2/oauth2/token",
                  {**f, "client_id": client["client_id"],
                   "client_secret": client["client_secret"]})


def check_token_errors(h, d, client, other, code, verifier):
    snap = stored(d)
    cases = [
        ("no code_verifier (PKCE required)", dict(verifier=None), 400,
         "invalid_request"),
        ("a wrong code_verifier", dict(verifier=pkce()[0]), 400,
         "invalid_grant"),
        ("another registered redirect_uri", dict(redirect_uri=CB2), 400,
         "invalid_grant"),
        ("no redirect_uri", dict(redirect_uri=None), 400, "invalid_grant"),
        ("an unknown code", dict(code="ab" * 32), 400, "invalid_grant"),
        ("grant_type password", dict(grant_type="password"), 400,
         "unsupported_grant_type"),
    ]
    for what, kw, status, error in cases:
        args = dict(code=code, verifier=verifier)
        extra = {}
        for k, v in kw.items():
            if k in args:
                args[k] = v
            else:
                extra[k] = v
        st, hd, o = token(h, client, args["code"], args["verifier"], **extra)
        check(st == status and o.get("error") == error and
              "error_description" in o and hd.get("cache-control") ==
              "no-store",
              f"token with {what}: {status} {error} ({st} {o})")
    good = dict(grant_type="authorization_code", code=code,
                redirect_uri=CB, code_verifier=verifier)
    st, hd, o = h.form("/csc/v2/oauth2/token", good,
                       basic=("app-0000000000000000", "00" * 32))
    check(st == 401 and o.get("error") == "invalid_client" and
          "Basic" in hd.get("www-authenticate", ""),
          f"token for an unknown client: 401 invalid_client ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/token", good,
                       basic=(client["client_id"], "00" * 32))
    check(st == 401 and o.get("error") == "invalid_client",
          f"token with a wrong secret: 401 invalid_client ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/token", {
        **good, "client_id": client["client_id"], "client_secret": "0" * 64})
    check(st == 401 and o.get("error") == "invalid_client",
          f"token with a wrong client_secret in the body: 401 ({st} {o})")
    st, hd, o = token(h, other, code, verifier)
    check(st == 400 and o.get("error") == "invalid_grant",
          f"another client's code: invalid_grant ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/token",
                       urllib.parse.urlencode(good) + "&code=" + code,
                       basic=(client["client_id"], client["client_secret"]))
    check(st == 400 and o.get("error") == "invalid_request",
          f"a repeated parameter: invalid_request ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/token", "grant_type=%zz",
                       basic=(client["client_id"], client["client_secret"]))
    check(st == 400 and o.get("error") == "invalid_request",
          f"a malformed form body: invalid_request ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/token", "a=b", ctype="text/plain")
    check(st == 400 and o.get("error") == "invalid_request",
          f"a body that is not a form: invalid_request ({st} {o})")
    check(stored(d) == snap, "the refused token requests changed nothing "
                             "stored: the code is still unused, no token")
    check(audit(d, "oauth.token", "failure") >= 6,
          "refusals of known clients are audited")


def pkcs1_ok(tmp, cert_pem, digest, sig):
    pub = os.path.join(tmp, "pub.pem")
    openssl("x509", "-in", cert_pem, "-pubkey", "-noout", "-out", pub,
            check_rc=0)
    dg, sg = os.path.join(tmp, "dg.bin"), os.path.join(tmp, "sg.bin")
    with open(dg, "wb") as f:
        f.write(digest)
    with open(sg, "wb") as f:
        f.write(sig)
    rc, out, _ = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub,
                         "-in", dg, "-sigfile", sg, "-pkeyopt",
                         "digest:sha256")
    return rc == 0 and "Signature Verified Successfully" in out


def csc_session(h, citizen):
    st, _, data = h.req("POST", "/csc/v2/auth/login", b"{}", {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(
            f"{citizen['user_id']}:{citizen['password']}".encode()).decode()})
    return json.loads(data).get("access_token")


def sign_hash(h, session, serial, sad, digests):
    return h.json("POST", "/csc/v2/signatures/signHash", {
        "credentialID": serial, "SAD": sad,
        "hashes": [b64url(x) for x in digests], "hashAlgorithmOID": SHA256,
        "signAlgo": "1.2.840.113549.1.1.1"}, token=session)


def sign_hash_bearer(h, tok, serial, digests):
    """CSC v2 §8: the scope-credential token as the Bearer, no SAD."""
    return h.json("POST", "/csc/v2/signatures/signHash", {
        "credentialID": serial,
        "hashes": [b64url(x) for x in digests], "hashAlgorithmOID": SHA256,
        "signAlgo": "1.2.840.113549.1.1.1"}, token=tok)


def check_info(h):
    st, o = h.json("POST", "/csc/v2/info", {})
    check(st == 200 and o.get("authType") == ["basic", "oauth2code"] and
          o.get("oauth2", "").endswith("/csc/v2") and
          {"oauth2/authorize", "oauth2/token", "oauth2/revoke"} <=
          set(o.get("methods", [])),
          f"info advertises oauth2code, the oauth2 base and its methods "
          f"({o.get('authType')} {o.get('oauth2')})")


def check_credential_flow(h, d, tmp, client, other, citizen):
    serial = citizen["signing_certificate"]
    docs = [hashlib.sha256(f"factura {i}".encode()).digest()
            for i in range(2)]
    verifier, challenge = pkce()
    check_authorize_errors(h, d, client, challenge)
    st, loc, _ = authorize(h, {
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": CB, "scope": "credential", "state": "xyz-42",
        "code_challenge": challenge, "code_challenge_method": "S256",
        "credentialID": serial, "numSignatures": "2",
        "hashes": ",".join(b64url(x) for x in docs),
        "hashAlgorithmOID": SHA256, "description": "Facturas de enero"})
    check(st == 302 and re.fullmatch(r"/oauth/[0-9a-f]{32}", loc),
          f"authorize (scope credential) sends the browser to the page "
          f"({st} {loc})")
    view, redirect = page_flow(h, d, citizen, loc, "sign")
    check([x["hash"] for x in view.get("documents", [])] ==
          [x.hex() for x in docs] and view.get("num_signatures") == 2 and
          view.get("description") == "Facturas de enero" and
          view.get("credential", {}).get("id") == serial,
          "the page shows the credential, the hashes in hex, the count and "
          "the description")
    q = query_of(redirect)
    check(redirect.startswith(CB + "?") and q.get("state") == "xyz-42" and
          re.fullmatch(r"[0-9a-f]{64}", q.get("code", "")),
          f"approval redirects with code and state ({redirect})")
    code = q["code"]
    check(sql(d, "select count(*) from oauth_authorizations where code_hash="
                 f"'{hashlib.sha256(code.encode()).hexdigest()}'") == "1" and
          code not in store_dump(d),
          "the code is stored as SHA-256 only")
    check_token_errors(h, d, client, other, code, verifier)
    st, hd, o = token(h, client, code, verifier, basic=False)
    tok = o.get("access_token", "")
    check(st == 200 and o.get("token_type") == "Bearer" and
          0 < o.get("expires_in", 0) <= 300 and
          o.get("scope") == "credential" and
          o.get("credentialID") == serial and
          hd.get("cache-control") == "no-store" and
          hd.get("pragma") == "no-cache",
          f"the code + verifier buy a credential token ({st} {o})")
    check(sql(d, "select count(*) from sign_sads where sad_hash="
                 f"'{hashlib.sha256(tok.encode()).hexdigest()}'") == "1",
          "the credential token is the SAD of the citizen's authorization")
    # the token acts as the SAD for exactly those hashes
    session = csc_session(h, citizen)
    st, ci = h.json("POST", "/csc/v2/credentials/info",
                    {"credentialID": serial, "certificates": "single"},
                    token=session)
    cert_pem = os.path.join(tmp, "signer.pem")
    with open(cert_pem + ".der", "wb") as f:
        f.write(base64.b64decode(ci["cert"]["certificates"][0]))
    openssl("x509", "-inform", "DER", "-in", cert_pem + ".der", "-out",
            cert_pem, check_rc=0)
    other_doc = hashlib.sha256(b"not authorized").digest()
    st, o = sign_hash(h, session, serial, tok, [other_doc])
    check(st == 400, f"the token signs no other hash ({st} {o})")
    st, o = sign_hash(h, session, serial, tok, [docs[0]])
    sigs = o.get("signatures", [])
    check(st == 200 and len(sigs) == 1 and
          pkcs1_ok(tmp, cert_pem, docs[0], base64.b64decode(sigs[0])),
          "signHash with the credential token as the SAD: the signature "
          "verifies with openssl pkeyutl")
    st, o = h.json("POST", "/csc/v2/credentials/list", {}, token=tok)
    check(st == 401 and o.get("error") == "invalid_token",
          f"a credential token is no session for other methods ({st} {o})")
    st, o = sign_hash_bearer(h, tok, serial, [docs[1]])
    sigs = o.get("signatures", [])
    check(st == 200 and len(sigs) == 1 and
          pkcs1_ok(tmp, cert_pem, docs[1], base64.b64decode(sigs[0])),
          f"signHash with the credential token as the Bearer and no SAD "
          f"signs the second approved hash ({st})")
    st, o = sign_hash_bearer(h, tok, serial, [docs[1]])
    check(st in (400, 401),
          f"numSignatures 2 spent: a third signature is refused ({st} {o})")
    # RFC 6749 §4.1.2: the code again is refused and revokes the token
    st, hd, o = token(h, client, code, verifier)
    check(st == 400 and o.get("error") == "invalid_grant",
          f"a reused code: invalid_grant ({st} {o})")
    check(sql(d, "select count(*) from oauth_tokens where revoked_at > 0")
          == "1" and audit(d, "oauth.revoke") == 1,
          "the reused code revoked the token it bought (audited)")
    st, o = sign_hash(h, session, serial, tok, [docs[1]])
    check(st == 400, f"the revoked token signs nothing more ({st} {o})")
    return session


def check_expired_code(h, d, client, citizen):
    verifier, challenge = pkce()
    st, loc, _ = authorize(h, {
        "response_type": "code", "client_id": client["client_id"],
        "scope": "service", "redirect_uri": CB2,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    _, redirect = page_flow(h, d, citizen, loc, "oauth")
    q = query_of(redirect)
    check(redirect.startswith(CB2 + "&code="),
          f"a redirect URI with a query gets '&code=' ({redirect})")
    sql(d, "update oauth_authorizations set code_expires_at = 1 where"
           f" code_hash = '{hashlib.sha256(q['code'].encode()).hexdigest()}'")
    snap = stored(d)
    st, hd, o = token(h, client, q["code"], verifier, redirect_uri=CB2)
    check(st == 400 and o.get("error") == "invalid_grant" and
          "expired" in o.get("error_description", ""),
          f"an expired code: invalid_grant ({st} {o})")
    check(stored(d) == snap, "the expired code changed nothing stored")


def check_service_flow(h, d, client, citizen):
    verifier, challenge = pkce()
    st, loc, _ = authorize(h, {
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": CB, "scope": "service", "state": "s2",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    check(st == 302, "authorize (scope service)")
    _, redirect = page_flow(h, d, citizen, loc, "oauth")
    q = query_of(redirect)
    st, hd, o = token(h, client, q.get("code"), verifier)
    tok = o.get("access_token", "")
    check(st == 200 and o.get("scope") == "service" and
          o.get("expires_in", 0) > 0 and "credentialID" not in o,
          f"scope service: a bearer token ({st} {o})")
    st, o = h.json("POST", "/csc/v2/credentials/list", {}, token=tok)
    check(st == 200 and citizen["signing_certificate"] in
          o.get("credentialIDs", []),
          f"the service token is the citizen's session for CSC ({st} {o})")
    th = hashlib.sha256(tok.encode()).hexdigest()
    check(sql(d, f"select kind, citizen_id from oauth_tokens where "
                 f"token_hash='{th}'") == f"service|{citizen['citizen_id']}",
          "the token is stored as SHA-256, for the citizen")
    st, hd, o = h.form("/csc/v2/oauth2/revoke", {"token": tok})
    check(st == 401 and o.get("error") == "invalid_client",
          f"revoke without client authentication: 401 ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/revoke", {"token": "cd" * 32},
                       basic=(client["client_id"], client["client_secret"]))
    check(st == 200, f"revoking an unknown token: 200 (RFC 7009 §2.2) ({st})")
    st, hd, o = h.form("/csc/v2/oauth2/revoke",
                       {"token": tok, "token_type_hint": "access_token"},
                       basic=(client["client_id"], client["client_secret"]))
    check(st == 200 and sql(d, "select case when revoked_at > 0 then 1 "
                               "else 0 end from oauth_tokens "
                               f"where token_hash='{th}'") == "1",
          f"revoke: 200 and the token is revoked ({st} {o})")
    st, hd, o = h.form("/csc/v2/oauth2/revoke", {"token": tok},
                       basic=(client["client_id"], client["client_secret"]))
    check(st == 200, "revoking it again: 200")


def check_deny(h, d, client, citizen):
    verifier, challenge = pkce()
    st, loc, _ = authorize(h, {
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": CB, "scope": "service", "state": "no thanks",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    _, redirect = page_flow(h, d, citizen, loc, "oauth", deny=True)
    q = query_of(redirect)
    check(q.get("error") == "access_denied" and q.get("state") == "no thanks"
          and "code" not in q,
          f"refusing redirects with error=access_denied and the state "
          f"({redirect})")
    check(audit(d, "oauth.deny") == 1, "the refusal is audited")


def check_authorization_details(h, d, client, citizen):
    verifier, challenge = pkce()
    dg = hashlib.sha256(b"contrato").digest()
    details = [{"type": "credential",
                "credentialID": citizen["signing_certificate"],
                "documentDigests": [{"hash": base64.b64encode(dg).decode(),
                                     "label": "contrato.pdf"}],
                "hashAlgorithmOID": SHA256}]
    st, loc, _ = authorize(h, {
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": CB, "authorization_details": json.dumps(details),
        "code_challenge": challenge, "code_challenge_method": "S256"})
    check(st == 302 and loc.startswith("/oauth/"),
          f"authorize with authorization_details ({st} {loc})")
    rid = loc.rsplit("/", 1)[1]
    st, view = h.json("POST", f"/api/v1/oauth/{rid}/login", {
        "user_id": citizen["user_id"], "password": citizen["password"]})
    check(st == 200 and view.get("documents") ==
          [{"label": "contrato.pdf", "hash": dg.hex()}] and
          view.get("num_signatures") == 1,
          f"the page shows the document's label and hash ({view})")


def check_signature_qualifier(h, d, tmp, client, citizen):
    """CSC v2 §8.3.2: signatureQualifier instead of credentialID; the page
    picks the citizen's credential at login and the token is bound to it."""
    serial = citizen["signing_certificate"]
    dg = hashlib.sha256(b"qualifier").digest()
    verifier, challenge = pkce()
    base = {"response_type": "code", "client_id": client["client_id"],
            "redirect_uri": CB, "scope": "credential", "state": "q-1",
            "code_challenge": challenge, "code_challenge_method": "S256",
            "numSignatures": "1", "hashes": b64url(dg),
            "hashAlgorithmOID": SHA256}
    before = sql(d, "select count(*) from oauth_authorizations")
    for what, extra in [("an unknown signatureQualifier",
                         {"signatureQualifier": "eu_eidas_aes"}),
                        ("neither credentialID nor signatureQualifier", {})]:
        st, loc, _ = authorize(h, {**base, **extra})
        q = query_of(loc)
        check(st == 302 and q.get("error") == "invalid_request" and
              q.get("state") == "q-1",
              f"authorize with {what}: invalid_request ({st} {loc})")
    check(sql(d, "select count(*) from oauth_authorizations") == before,
          "the refused qualifier requests record nothing")
    st, loc, _ = authorize(h, {**base, "signatureQualifier": "eu_eidas_qes"})
    check(st == 302 and loc.startswith("/oauth/"),
          f"authorize with signatureQualifier and no credentialID ({st} "
          f"{loc})")
    rid = loc.rsplit("/", 1)[1]
    check(sql(d, f"select serial from oauth_authorizations where id='{rid}'")
          == "", "no credential is chosen before the citizen logs in")
    view, redirect = page_flow(h, d, citizen, loc, "sign")
    check(view.get("credential", {}).get("id") == serial and
          sql(d, "select serial from oauth_authorizations where "
                 f"id='{rid}'") == serial,
          "at login the page picks the citizen's qualified credential")
    st, _, o = token(h, client, query_of(redirect).get("code", ""), verifier)
    check(st == 200 and o.get("credentialID") == serial,
          f"the token names the chosen credential ({st} {o})")
    st, o = sign_hash_bearer(h, o.get("access_token", ""), serial, [dg])
    sigs = o.get("signatures", [])
    cert_pem = os.path.join(tmp, "signer.pem")
    check(st == 200 and len(sigs) == 1 and
          pkcs1_ok(tmp, cert_pem, dg, base64.b64decode(sigs[0])),
          f"it signs the approved hash with that credential ({st})")


def check_client_throttle(srv, h, d, client, other):
    """A client's secret is throttled as a password is (auth_client_gate):
    per (client_id, source) after auth_throttle_free failures, 429 with
    Retry-After before any lookup; the holder on another address is not
    slowed; the flood writes no audit row (only the aggregate later)."""
    rows_sql = ("select count(*) from audit_log where event != "
                "'auth.failures_aggregate'")
    rows = int(sql(d, rows_sql))
    good = dict(grant_type="authorization_code", code="ab" * 32,
                redirect_uri="https://other.example/cb",
                code_verifier=pkce()[0])
    answers = []
    for _ in range(12):
        st, hd, o = h.form("/csc/v2/oauth2/token", good,
                           basic=(other["client_id"], "00" * 32))
        answers.append((st, o.get("error"), hd.get("retry-after")))
        if st == 429:
            break
    st, err, retry = answers[-1]
    check([a[0] for a in answers[:-1]] == [401] * 5 and st == 429 and
          err == "too_many_requests" and retry and int(retry) >= 1,
          f"a wrong secret: 401 five times (auth_throttle_free), then 429 "
          f"with Retry-After ({answers})")
    st, hd, o = h.form("/csc/v2/oauth2/token", good,
                       basic=(other["client_id"], other["client_secret"]))
    check(st == 429, f"while throttled, even the right secret from that "
                     f"address waits: nothing is looked up ({st} {o})")
    h2 = Http(srv.url, source="127.0.0.2")
    st, hd, o = h2.form("/csc/v2/oauth2/token", good,
                        basic=(other["client_id"], other["client_secret"]))
    check(st == 400 and o.get("error") == "invalid_grant",
          f"the right secret from another address is checked at once "
          f"(invalid_grant for the made-up code, not 401 or 429) ({st} {o})")
    st, hd, o = h2.form("/csc/v2/oauth2/revoke", {"token": "ab" * 32},
                        basic=(other["client_id"], other["client_secret"]))
    check(st == 200, f"and oauth2/revoke too ({st} {o})")
    for _ in range(6):
        st, hd, o = h.form("/csc/v2/oauth2/revoke", {"token": "ab" * 32},
                           basic=(client["client_id"], "11" * 32))
    check(st == 429 and hd.get("retry-after"),
          f"oauth2/revoke's client secret is throttled the same way ({st})")
    after = int(sql(d, rows_sql))
    check(after - rows <= 1,
          f"the wrong secrets and the 429s wrote no audit row each "
          f"({after - rows} rows; the invalid_grant is its own)")


def main():
    tmp = workdir("oauth")
    srv = None
    try:
        d, pem, citizen = install(tmp)
        client, other = register(d)
        srv = Server(d)
        h = Http(srv.url)
        check_info(h)
        check_credential_flow(h, d, tmp, client, other, citizen)
        check_expired_code(h, d, client, citizen)
        check_service_flow(h, d, client, citizen)
        check_deny(h, d, client, citizen)
        check_authorization_details(h, d, client, citizen)
        check_signature_qualifier(h, d, tmp, client, citizen)
        check(audit(d, "oauth.token") == 3 and audit(d, "oauth.approve") >= 3,
              "exchanges and approvals are audited")
        check_client_throttle(srv, h, d, client, other)
        log = srv.read_log()
        check(client["client_secret"] not in log,
              "the client secret is in no log line")
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
