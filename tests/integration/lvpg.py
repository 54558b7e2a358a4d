"""A throw-away PostgreSQL for llave's tests (issue 17 item 1).

Starts Debian's own PostgreSQL binaries (/usr/lib/postgresql/<v>/bin:
initdb, pg_ctl; never whatever /usr/local/bin holds) on a temporary data
directory, a free port on 127.0.0.1 and a unix socket inside that
directory, and removes it all when stopped (at exit at the latest).

PostgreSQL refuses to run as root, and CI runs as root: then the server
runs as `nobody` (runuser, or setpriv where runuser is missing) and the
temporary directory is chowned to it.  As a normal user it runs as that
user.  The cluster trusts local connections and has one superuser,
`llave`; each test database is created with `create_db()`.

    with lvpg.Cluster() as pg:
        conninfo = pg.create_db("t1")
        pg.psql("t1", "SELECT 1")
"""
import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

SUPERUSER = "llave"


def pg_bindir():
    """The newest Debian PostgreSQL's bin directory, or None."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4])
                  if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(dirs[-1]) if dirs else None


def available():
    return pg_bindir() is not None and shutil.which("psql") is not None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    def __init__(self):
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL in /usr/lib/postgresql/*/bin "
                               "(Debian package postgresql)")
        self.tmp = tempfile.mkdtemp(prefix="llave-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.sock = self.tmp
        self.log = os.path.join(self.tmp, "server.log")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
            os.chmod(self.tmp, 0o700)
            if shutil.which("runuser"):
                self.as_user = ["runuser", "-u", "nobody", "--"]
            else:
                self.as_user = ["setpriv", f"--reuid={nobody.pw_uid}",
                                f"--regid={nobody.pw_gid}", "--clear-groups"]
        self.started = False
        self.start()
        atexit.register(self.stop)

    def _run(self, args, **kw):
        # The server's programs run from a directory they may read.
        return subprocess.run(self.as_user + args, cwd=self.tmp,
                              capture_output=True, text=True, **kw)

    def start(self):
        p = self._run([os.path.join(self.bindir, "initdb"), "-D", self.data,
                       "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                       "--locale=C", "--no-sync"])
        if p.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{p.stdout}\n{p.stderr}")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.sock} -c fsync=off "
                f"-c max_connections=200 -c shared_buffers=32MB")
        p = self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                       "-l", self.log, "-o", opts, "-w", "-t", "60", "start"])
        if p.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log) as f:
                    log = f.read()
            raise RuntimeError(f"pg_ctl start failed:\n{p.stderr}\n{log}")
        self.started = True

    def stop(self):
        if self.started:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                       "-m", "immediate", "-w", "stop"])
            self.started = False
        if os.environ.get("LLAVE_KEEP_TMP"):
            print(f"kept {self.tmp}")
        elif os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def conninfo(self, db, user=SUPERUSER):
        return (f"host={self.sock} port={self.port} dbname={db} "
                f"user={user}")

    def psql(self, db, query, user=SUPERUSER, check=True):
        """Runs query with psql; returns (rc, rows as 'a|b' lines, stderr)."""
        p = subprocess.run(["psql", "-X", "-A", "-t", "-F", "|", "-q",
                            "-v", "ON_ERROR_STOP=1", "-d",
                            self.conninfo(db, user), "-c", query],
                           capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"psql {query!r}: {p.stderr}")
        return p.returncode, p.stdout.strip(), p.stderr

    def create_db(self, db, sqlite_compat=False):
        """A new database; with sqlite_compat, the SQLite functions the
        tests' own queries use (hex, group_concat, ifnull), for the tests
        only: llave's SQL needs none of them."""
        self.psql("postgres", f'CREATE DATABASE "{db}"')
        if sqlite_compat:
            self.psql(db, SQLITE_COMPAT)
        return self.conninfo(db)

    def __del__(self):
        pass


SQLITE_COMPAT = """
CREATE SCHEMA lv_test;
CREATE FUNCTION lv_test.hex(bytea) RETURNS text IMMUTABLE LANGUAGE sql
    AS $$ SELECT upper(encode($1, 'hex')) $$;
CREATE FUNCTION lv_test.hex(text) RETURNS text IMMUTABLE LANGUAGE sql
    AS $$ SELECT upper(encode(convert_to($1, 'UTF8'), 'hex')) $$;
CREATE FUNCTION lv_test.ifnull(anycompatible, anycompatible)
    RETURNS anycompatible IMMUTABLE LANGUAGE sql
    AS $$ SELECT COALESCE($1, $2) $$;
CREATE FUNCTION lv_test.json_extract(doc text, path text) RETURNS text
    IMMUTABLE LANGUAGE sql AS $$
    SELECT doc::jsonb #>> string_to_array(substr(path, 3), '.') $$;
CREATE FUNCTION lv_test.sum_text(acc numeric, v text) RETURNS numeric
    IMMUTABLE LANGUAGE sql AS $$
    SELECT CASE WHEN v IS NULL THEN acc ELSE COALESCE(acc, 0) + v::numeric
           END $$;
CREATE AGGREGATE lv_test.sum(text) (SFUNC = lv_test.sum_text,
                                    STYPE = numeric);
CREATE VIEW lv_test.sqlite_master AS
    SELECT 'table'::text AS type, tablename::text AS name,
           tablename::text AS tbl_name
    FROM pg_tables WHERE schemaname = 'public'
    UNION ALL
    SELECT 'trigger', t.tgname::text, c.relname::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal;
CREATE FUNCTION lv_test.gc(acc text, v text, sep text) RETURNS text
    IMMUTABLE LANGUAGE sql AS $$
    SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v
                ELSE acc || sep || v END $$;
CREATE FUNCTION lv_test.gc1(acc text, v text) RETURNS text
    IMMUTABLE LANGUAGE sql AS $$ SELECT lv_test.gc(acc, v, ',') $$;
CREATE FUNCTION lv_test.gc1(acc text, v bigint) RETURNS text
    IMMUTABLE LANGUAGE sql AS $$ SELECT lv_test.gc(acc, v::text, ',') $$;
CREATE FUNCTION lv_test.gc2(acc text, v bigint, sep text) RETURNS text
    IMMUTABLE LANGUAGE sql AS $$ SELECT lv_test.gc(acc, v::text, sep) $$;
CREATE FUNCTION lv_test.strftime(fmt text, t text) RETURNS bigint
    STABLE LANGUAGE sql AS $$
    SELECT CASE WHEN fmt = '%s' AND t = 'now'
                THEN EXTRACT(EPOCH FROM now())::bigint END $$;
CREATE AGGREGATE lv_test.group_concat(text)
    (SFUNC = lv_test.gc1, STYPE = text);
CREATE AGGREGATE lv_test.group_concat(bigint)
    (SFUNC = lv_test.gc1, STYPE = text);
CREATE AGGREGATE lv_test.group_concat(text, text)
    (SFUNC = lv_test.gc, STYPE = text);
CREATE AGGREGATE lv_test.group_concat(bigint, text)
    (SFUNC = lv_test.gc2, STYPE = text);
"""


def sqlite_to_pg(query):
    """The few SQLite-only statements of the tests' own SQL, in
    PostgreSQL's syntax: DROP TRIGGER names its table (sql/009's triggers
    are named <table>_<rule>); x'..' blob literals become bytea; ORDER BY
    rowid becomes ctid; CAST(x AS BLOB) convert_to(x, 'UTF8')."""
    query = re.sub(r"(?i)drop trigger (\w+?)_(no_update|retained|der_fixed)\b",
                   r"drop trigger \1_\2 on \1", query)
    # a text's UTF-8 bytes
    query = re.sub(r"(?i)cast\((\w+) as blob\)", r"convert_to(\1, 'UTF8')",
                   query)
    # insertion order: ctid, for tables that only grew
    query = re.sub(r"(?i)\border by rowid\b", "order by ctid", query)
    # blob literals: x'00ff' is a bit string in PostgreSQL
    return re.sub(r"(?<![\w'])[xX]'([0-9a-fA-F]*)'", r"'\\x\1'::bytea", query)


_shared = None


def shared():
    """One cluster per test process, started on first use."""
    global _shared
    if _shared is None:
        _shared = Cluster()
    return _shared


def wait_ready(cluster, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cluster.psql("postgres", "SELECT 1", check=False)[0] == 0:
            return True
        time.sleep(0.2)
    return False
