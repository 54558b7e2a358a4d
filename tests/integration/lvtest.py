"""Shared helpers for llave's integration tests.

Tests drive the real `llave` and `llaved` binaries and judge their outputs
with tools nobody on the team wrote: the openssl command line and sqlite3.
"""
import atexit
import base64
import contextlib
import hashlib
import hmac
import json
import itertools
import os
import struct
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ.get("LLAVE_BUILD_DIR", os.path.join(os.getcwd(), "build"))
SOURCE = os.environ.get("LLAVE_SOURCE_DIR", os.getcwd())
LLAVE = os.path.join(BUILD, "llave")
LLAVED = os.path.join(BUILD, "llaved")
SUBJECTS = os.path.join(SOURCE, "examples", "subjects")

FAILURES = []

# issue 16: LLAVE_TEST_KEYSTORE=pkcs11 runs the test on the PKCS#11 back end
# (CTest label integration-p11).  The test process gets a SoftHSM2 token
# directory of its own through SOFTHSM2_CONF (inherited by every llave,
# llave-keyd and llaved it starts), and every `llave init` it runs gets a
# fresh token (softhsm2-util --init-token --free) and the --keystore pkcs11
# flags, the user PIN in LLAVE_PKCS11_PIN.
KEYSTORE = os.environ.get("LLAVE_TEST_KEYSTORE", "file")
P11_MODULE = os.environ.get("LLAVE_TEST_PKCS11_MODULE",
                            "/usr/lib/softhsm/libsofthsm2.so")
P11_PIN = "llave-user-pin"
P11_SO_PIN = "llave-so-pin"
_P11 = {"home": None, "tokens": 0}


def softhsm_home():
    """This process's SoftHSM2 token directory (made once, removed at
    exit); sets SOFTHSM2_CONF for the children."""
    if _P11["home"] is None:
        home = tempfile.mkdtemp(prefix="llave-softhsm-")
        os.mkdir(os.path.join(home, "tokens"))
        conf = os.path.join(home, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {home}/tokens\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = conf
        _P11["home"] = home
        atexit.register(lambda: cleanup(home))
    return _P11["home"]


def softhsm_token(label=None, pin=P11_PIN):
    """Initializes a fresh SoftHSM2 token; returns its label."""
    softhsm_home()
    if label is None:
        _P11["tokens"] += 1
        label = f"llave-{os.getpid()}-{_P11['tokens']}"
    run(["softhsm2-util", "--init-token", "--free", "--label", label,
         "--so-pin", P11_SO_PIN, "--pin", pin], check_rc=0)
    _P11["label"] = label
    return label


def softhsm_label():
    """The label of the token made last (that of the last `llave init`)."""
    return _P11.get("label")


def _keystore_args(args, env):
    """`llave init ...` on the PKCS#11 back end when the run asks for it;
    `llave restore` of such an install gets the token PIN (it checks the
    token's objects) unless the caller chose the environment itself."""
    if KEYSTORE != "pkcs11" or len(args) < 2 or args[0] != LLAVE:
        return args, env
    if args[1] == "restore" and env is None:
        return args, dict(os.environ, LLAVE_PKCS11_PIN=P11_PIN)
    if args[1] != "init" or "--keystore" in args:
        return args, env
    label = softhsm_token()
    print(f"(PKCS#11 back end: SoftHSM2 token {label})")
    env = dict(env if env is not None else os.environ)
    env["LLAVE_PKCS11_PIN"] = P11_PIN
    return [*args, "--keystore", "pkcs11", "--pkcs11-module", P11_MODULE,
            "--pkcs11-token", label], env


if KEYSTORE == "pkcs11":
    softhsm_home()


def check(cond, what):
    """Records one assertion; the test exits non-zero if any failed."""
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        FAILURES.append(what)
    return cond


def finish():
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:")
        for f in FAILURES:
            print(f"  - {f}")
        sys.exit(1)
    print("\nall checks passed")


# LLAVE_TEST_STORE=postgresql runs the tests on PostgreSQL (issue 17 item
# 1): every `llave init` gets a fresh database of a throw-away cluster
# (lvpg.py, one per test process) through the store keys of its
# configuration, and sql() reads it with psql instead of sqlite3.
STORE = os.environ.get("LLAVE_TEST_STORE", "sqlite")
_PG_COUNT = [0]


def _pg_init(args):
    """`llave init DIR [...]` with the store keys of a new database."""
    import lvpg
    cluster = lvpg.shared()
    args = list(args)
    config = {}
    if "--config" in args:
        i = args.index("--config")
        with open(args[i + 1]) as f:
            config = json.load(f)
        del args[i:i + 2]
    _PG_COUNT[0] += 1
    db = f"t{os.getpid()}_{_PG_COUNT[0]}"
    config["store_driver"] = "postgresql"
    config["store_conninfo"] = cluster.create_db(db, sqlite_compat=True)
    fd, path = tempfile.mkstemp(prefix="llave-pgconf-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    return args + ["--config", path]


def lvpg_sql(query):
    import lvpg
    return lvpg.sqlite_to_pg(query)


def store_conninfo(d):
    """The PostgreSQL connection string of the install in d, or None."""
    try:
        with open(os.path.join(d, "llave.json")) as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return None
    if cfg.get("store_driver") == "postgresql":
        return cfg.get("store_conninfo")
    return None


def store_location(d):
    """What llave's store_open opens for the install in d (as
    lv_config_store_location): DIR/llave.db, or pg: and the conninfo."""
    conninfo = store_conninfo(d)
    if conninfo and not conninfo.startswith(("postgres://",
                                             "postgresql://")):
        return "pg:" + conninfo
    return conninfo or os.path.join(d, "llave.db")


def store_dump(d):
    """Everything the store holds, as text: the SQLite file's bytes, or
    pg_dump's data (to show that a secret is stored nowhere)."""
    conninfo = store_conninfo(d)
    if conninfo:
        return run(["pg_dump", "--data-only", "-d", conninfo],
                   check_rc=0)[1]
    with open(os.path.join(d, "llave.db"), "rb") as f:
        return f.read().decode("latin-1")


def run(args, input=None, check_rc=None, env=None):
    """Runs a command; returns (rc, stdout, stderr) as text."""
    args, env = _keystore_args(list(args), env)
    if (STORE == "postgresql" and len(args) > 2 and args[0] == LLAVE and
            args[1] == "init"):
        args = _pg_init(args)
    p = subprocess.run(args, input=input, capture_output=True, text=True,
                       env=env)
    if check_rc is not None and p.returncode != check_rc:
        raise RuntimeError(f"{args} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr


def llave(d, *args, **kw):
    return run([LLAVE, "-d", d, *args], **kw)


def openssl(*args, **kw):
    return run(["openssl", *args], **kw)


def workdir(name):
    path = tempfile.mkdtemp(prefix=f"llave-{name}-")
    return path


def demo_install(parent, name="demo"):
    d = os.path.join(parent, name)
    run([LLAVE, "init", d, "--demo"], check_rc=0)
    out = os.path.join(parent, "pem")
    llave(d, "ca", "export", out, check_rc=0)
    return d, out


def set_config(d, **keys):
    """Sets keys of DIR/llave.json (read by the next llaved start)."""
    path = os.path.join(d, "llave.json")
    with open(path) as f:
        c = json.load(f)
    c.update(keys)
    with open(path, "w") as f:
        json.dump(c, f)



@contextlib.contextmanager
def tsa_refusing(d, serve=True):
    """Within it, llaved and llave on DIR refuse every time-stamp (R7.2:
    the clock guard on, the clock forced unsynchronized through
    LLAVE_TSA_TEST_CLOCK_UNSYNC); yields a Server started so (None when
    serve is false), stopped on the way out, and turns the guard off."""
    set_config(d, tsa_require_clock_sync=True)
    os.environ["LLAVE_TSA_TEST_CLOCK_UNSYNC"] = "1"
    srv = None
    try:
        srv = Server(d) if serve else None
        yield srv
    finally:
        if srv:
            srv.stop()
        del os.environ["LLAVE_TSA_TEST_CLOCK_UNSYNC"]
        set_config(d, tsa_require_clock_sync=False)

def sql(d, query):
    """Reads the store with the sqlite3 CLI (psql on PostgreSQL), not
    through llave; rows as lines, columns separated by |."""
    conninfo = store_conninfo(d)
    if conninfo:
        # lv_test: lvpg's stand-ins for the SQLite functions tests use
        rc, out, err = run(["psql", "-X", "-A", "-t", "-F", "|", "-q",
                            "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                            "-c", "SET search_path = public, lv_test",
                            "-c", lvpg_sql(query)])
    else:
        rc, out, err = run(["sqlite3", os.path.join(d, "llave.db"), query])
    if rc != 0:
        raise RuntimeError(err)
    return out.strip()


def x509_text(pem_path):
    return openssl("x509", "-in", pem_path, "-noout", "-text", check_rc=0)[1]


def new_csr(dirpath, name, keyspec="rsa:2048"):
    key = os.path.join(dirpath, f"{name}.key")
    csr = os.path.join(dirpath, f"{name}.csr")
    openssl("req", "-new", "-newkey", keyspec, "-nodes", "-keyout", key,
            "-subj", "/CN=ignored by the CA", "-out", csr, check_rc=0)
    return csr


_SERVER_SEQ = itertools.count(1)


class Server:
    """A real llaved on 127.0.0.1 and a free port, stopped by PID.  Its log
    goes to a file (a pipe nobody reads could fill up and block it)."""

    def __init__(self, d, extra=(), prefix=()):
        """prefix: a command llaved runs under (faketime, for one)."""
        # one log per server: several may run on one directory at once
        self.log_path = os.path.join(
            d, f"llaved-test-{os.getpid()}-{next(_SERVER_SEQ)}.log")
        self.log = open(self.log_path, "w")
        # Under a wrapper (faketime forks llaved and waits for it) the PID
        # is the wrapper's: llaved and its keyd are reached as its process
        # group, so that no stop leaves them running.
        self.group = bool(prefix)
        self.proc = subprocess.Popen(
            [*prefix, LLAVED, "-d", d, "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            start_new_session=self.group)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (http://[0-9.]+:\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"llaved did not start: {line!r} "
                               f"{self.read_log()}")
        self.url = m.group(1)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout=60):
        """Waits until the log has a line matching pattern (a background
        pass finished, for example); True if it came within timeout s."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.read_log()):
                return True
            time.sleep(0.1)
        return False

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url + path, data=body,
                                     method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, content_type="application/json", headers=None):
        h = {"Content-Type": content_type, **(headers or {})}
        return self.request("POST", path, body, h)

    def stop(self):
        """SIGTERM; returns the exit status (llaved exits 0 on a clean stop)."""
        send = os.killpg if self.group else os.kill
        if self.proc.poll() is None:
            send(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10 if self.group else 60)
            except subprocess.TimeoutExpired:
                print("llaved did not stop in time; killing it")
                send(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.group:  # what the wrapper left behind (llaved, keyd)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        if self.proc.returncode != 0:
            print(f"llaved exited {self.proc.returncode}; its log:\n"
                  f"{self.read_log()}")
        return self.proc.returncode


# The one-time code SMS (issue 15 item 1): "<provider>: su clave es 123456,
# para firmar 2 documentos de <app>. ..." or, in English, "your code is
# 123456, to sign 2 documents for <app>. ...": the verb says what the code
# authorizes, never an internal operation name.
OTP_VERBS = {"sign": ("para firmar", "to sign"),
             "oauth": ("para autorizar", "to authorize"),
             "revoke": ("para revocar", "to revoke"),
             "portal": ("para entrar", "to open")}


def sms_otp(text, purpose):
    """The code of an OTP SMS for purpose (sign, oauth, revoke), else None."""
    m = re.search(r"(?:su clave es|your code is) (\d+), (.*)", text)
    if not m or not m.group(2).startswith(OTP_VERBS[purpose]):
        return None
    return m.group(1)


def outbox_otp(d, mobile, purpose):
    """The code of the last OTP SMS for purpose sent to mobile."""
    box = os.path.join(d, "outbox")
    for name in sorted(os.listdir(box), reverse=True) \
            if os.path.isdir(box) else []:
        with open(os.path.join(box, name)) as f:
            m = json.load(f)
        code = sms_otp(m["text"], purpose) if m["to"] == mobile else None
        if code:
            return code
    return None


def cleanup(path):
    if os.environ.get("LLAVE_KEEP_TMP"):
        print(f"kept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


# ---- two-person confirmation of custody commands (issue 12 item 5) ----------

def totp_at(secret_b32, step):
    """RFC 6238 with SHA-1, 6 digits, 30 s steps (what llave enrols)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10**6
    return f"{code:06d}"


_OPERATORS = {}  # (dir, login) -> {"password", "totp_secret", "last"}


_CUSTODY_ROLES = {"demo-ca-admin": "ca_admin", "demo-ca-operator": "ca_operator"}


def _demo_account(d, login):
    try:
        with open(os.path.join(d, "demo-credentials.json")) as f:
            return next((x for x in json.load(f)["accounts"]
                         if x.get("login") == login), None)
    except FileNotFoundError:
        return None


def _operator(d, login, role=None):
    """A demo operator's credentials, or a new operator of `role` added for
    the test (a production install has no demo accounts)."""
    key = (d, login)
    if key not in _OPERATORS:
        a = _demo_account(d, login)
        if a is None:
            rc, out, err = run([LLAVE, "-d", d, "operator", "add", login,
                                "--role", role or _CUSTODY_ROLES[login],
                                "--json"])
            if rc != 0:
                raise RuntimeError(err)
            a = json.loads(out)
        _OPERATORS[key] = {"password": a["password"],
                           "totp_secret": a["totp_secret"], "last": -1}
    return _OPERATORS[key]


def _free_step(op):
    """The next TOTP step this operator may use without waiting, or None."""
    now = int(time.time()) // 30
    step = max(now, op["last"] + 1)
    return step if step <= now + 1 else None


def operator_lines(d, login, role=None):
    """login, password and a TOTP code never used before by this login
    (llave refuses a replayed step), waiting for the next step if needed."""
    op = _operator(d, login, role)
    while _free_step(op) is None:
        time.sleep(1)
    op["last"] = _free_step(op)
    return f"{login}\n{op['password']}\n{totp_at(op['totp_secret'], op['last'])}\n"


def _custody_operator(d, base, role):
    """base (a demo login) or, when its TOTP steps are spent for now, one
    more operator of the same role added for the test."""
    n = 0
    login = base
    while True:
        op = _operator(d, login, role)
        if _free_step(op) is not None:
            return login
        n += 1
        login = f"{base}-{n}"


def two_person(d):
    """Standard input confirming a custody command with two operators: a CA
    administrator and a CA operator."""
    a = _custody_operator(d, "demo-ca-admin", "ca_admin")
    b = _custody_operator(d, "demo-ca-operator", "ca_operator")
    return operator_lines(d, a) + operator_lines(d, b)


def accept_certificate(srv, d, citizen, app):
    """The citizen accepts the certificate as a citizen does (R5.4, CPS
    4.4.2): a transaction of one digest on the signing page's API, whose
    view carries the acceptance sheet, then the SMS code and the
    confirmation.  A CSC client cannot accept it (issue 15 item 3), so the
    tests that drive CSC first do this.  Returns the view's acceptance."""
    basic = base64.b64encode(
        f"{app['client_id']}:{app['client_secret']}".encode()).decode()

    def call(method, path, body=None, token=None, auth=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        if auth:
            h["Authorization"] = "Basic " + auth
        data = json.dumps(body).encode() if body is not None else None
        st, _, out = srv.request(method, path, data, h)
        return st, json.loads(out or b"{}")

    digest = base64.b64encode(hashlib.sha256(b"acceptance").digest()).decode()
    st, tx = call("POST", "/api/v1/transactions", {
        "owner": citizen["user_id"], "digest_algorithm": "SHA-256",
        "documents": [{"id": "d0", "name": "acceptance.txt",
                       "title": "Acceptance", "digest": digest}],
        "redirect_ok_url": "https://app.example/ok",
        "redirect_error_url": "https://app.example/error"}, auth=basic)
    assert st == 201, (st, tx)
    path = f"/api/v1/transactions/{tx['id']}"
    st, view = call("POST", path + "/login", {
        "user_id": citizen["user_id"], "password": citizen["password"]})
    assert st == 200, (st, view)
    tok = view["token"]
    st, o = call("POST", path + "/otp", token=tok)
    assert st == 200 and o.get("acceptance"), (st, o)
    code = outbox_otp(d, citizen["mobile"], "sign")
    st, r = call("POST", path + "/confirm",
                 {"password": citizen["password"], "otp": code}, token=tok)
    assert st == 200, (st, r)
    return o["acceptance"]
