#!/usr/bin/env python3
"""Issue 14 item 6: what remote signing leaves behind is purged on a
schedule, and the audit trail keeps every event.

Against a real llaved with purge_interval_seconds 1 and sign_keep_hours 0:
an ended transaction and one past its expiry disappear with their
documents (GET answers 404), a pending one stays; expired SADs, CSC OTP
bindings, activation records and one-time codes old enough go; one
"sign.purge" audit entry counts them, the transactions' own audit entries
are still there and `llave audit verify` finds the chain intact."""
import base64
import hashlib
import json
import os
import time
import urllib.request

from lvtest import (LLAVE, Server, check, cleanup, demo_install, finish, llave,
                    set_config, sql, workdir)


def demo_account(d, kind):
    with open(os.path.join(d, "demo-credentials.json")) as f:
        return next(a for a in json.load(f)["accounts"] if a["kind"] == kind)


def call(srv, method, path, body=None, basic=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if basic:
        raw = f"{basic[0]}:{basic[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    data = json.dumps(body).encode() if body is not None else None
    status, _, payload = srv.request(method, path, data, headers)
    try:
        return status, json.loads(payload or b"{}")
    except ValueError:
        return status, {}


def new_transaction(srv, app, owner, tag):
    digest = base64.b64encode(hashlib.sha256(tag.encode()).digest()).decode()
    body = {"owner": owner, "digest_algorithm": "SHA-256",
            "documents": [{"id": tag, "name": f"{tag}.pdf", "title": tag,
                           "digest": digest}],
            "redirect_ok_url": "https://app.example/ok",
            "redirect_error_url": "https://app.example/error"}
    st, o = call(srv, "POST", "/api/v1/transactions", body,
                 basic=(app["client_id"], app["client_secret"]))
    check(st == 201 and o.get("id"), f"transaction {tag} created ({st})")
    return o.get("id")


def wait_for(cond, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.25)
    return cond()


def count(d, table, where="1=1"):
    return int(sql(d, f"select count(*) from {table} where {where}"))


def seed_oauth(d, client_id):
    """An access token of oauth2/token that expired two hours ago, and a
    live one."""
    old, now = int(time.time()) - 7200, int(time.time())
    for th, exp in (("t-old", old), ("t-live", now + 600)):
        sql(d, "insert into oauth_tokens (token_hash, kind, client_id,"
               " citizen_id, serial, code_hash, created_at, expires_at)"
               f" values ('{th}', 'service', '{client_id}', 'c', '', 'x',"
               f" {old}, {exp})")


def seed_leftovers(d):
    """Rows a busy service leaves behind, aged by hand: the store has no
    API to backdate them, and waiting hours is not a test."""
    old = int(time.time()) - 7200
    sql(d, "insert into sign_sads values ('aa', 'c', 's', 'sha256', x'00',"
           f" 1, {old}, {old + 60})")
    sql(d, "insert into sign_sads values ('bb', 'c', 's', 'sha256', x'00',"
           f" 1, {old}, {old + 86400 * 2})")
    sql(d, "insert into sign_csc_otps values ('c', 's', 'o', 'sha256', NULL,"
           f" {old})")
    sql(d, "insert into sign_activations (id, key_id, md, n, binding,"
           " created_at, expires_at, actor) values ('ac', 'k', 'sha256', 1,"
           f" x'00', {old}, {old + 300}, 'llaved')")
    sql(d, "insert into otps values ('o1', 'c', 'sign', 'b', 'h', "
           f"{old - 86400}, {old - 86400 + 300}, 0, 0)")
    sql(d, "insert into otps values ('o2', 'c', 'sign', 'b', 'h', "
           f"{int(time.time())}, {int(time.time()) + 300}, 0, 0)")


def main():
    tmp = workdir("purge")
    try:
        d, _ = demo_install(tmp)
        set_config(d, purge_interval_seconds=1, sign_keep_hours=0)
        app = demo_account(d, "application")
        citizen = demo_account(d, "citizen")
        seed_leftovers(d)
        seed_oauth(d, app["client_id"])
        audit_before = count(d, "audit_log")
        srv = Server(d)
        try:
            ended = new_transaction(srv, app, citizen["user_id"], "ended")
            expired = new_transaction(srv, app, citizen["user_id"], "expired")
            pending = new_transaction(srv, app, citizen["user_id"], "pending")
            creds = (app["client_id"], app["client_secret"])
            st, _ = call(srv, "DELETE", f"/api/v1/transactions/{ended}",
                         basic=creds)
            check(st in (200, 204), f"the application ends one ({st})")
            sql(d, "update sign_transactions set expires_at = "
                   f"{int(time.time()) - 10} where id = '{expired}'")
            gone = wait_for(lambda: count(
                d, "sign_transactions",
                f"id in ('{ended}', '{expired}')") == 0)
            check(gone, "ended and expired transactions are purged within "
                  "seconds (purge_interval_seconds 1, sign_keep_hours 0)")
            check(count(d, "sign_documents",
                        f"tx_id in ('{ended}', '{expired}')") == 0,
                  "their documents go with them")
            st, _ = call(srv, "GET", f"/api/v1/transactions/{ended}",
                         basic=creds)
            check(st == 404, f"a purged transaction answers 404 ({st})")
            st, o = call(srv, "GET", f"/api/v1/transactions/{pending}",
                         basic=creds)
            check(st == 200 and count(d, "sign_transactions",
                                      f"id = '{pending}'") == 1,
                  "a pending transaction within its life stays")
            check(count(d, "sign_sads", "sad_hash = 'aa'") == 0 and
                  count(d, "sign_sads", "sad_hash = 'bb'") == 1,
                  "an expired SAD goes, a live one stays")
            check(count(d, "sign_csc_otps") == 0,
                  "an old CSC OTP binding goes")
            check(count(d, "sign_activations", "id = 'ac'") == 0,
                  "an expired activation record goes")
            check(count(d, "oauth_tokens", "token_hash = 't-old'") == 0 and
                  count(d, "oauth_tokens", "token_hash = 't-live'") == 1,
                  "an expired OAuth access token goes, a live one stays")
            check(count(d, "otps", "id = 'o1'") == 0 and
                  count(d, "otps", "id = 'o2'") == 1,
                  "a one-time code older than the sending limits look back "
                  "goes; a fresh one stays (the limits still count it)")
        finally:
            srv.stop()
        purges = sql(d, "select details from audit_log where "
                        "event = 'sign.purge'").splitlines()
        total = {}
        for line in purges:
            for k, v in json.loads(line).items():
                if k != "before":
                    total[k] = total.get(k, 0) + v
        check(total.get("transactions") == 2 and total.get("sads") == 1 and
              total.get("activations") == 1 and total.get("otps") >= 1 and
              total.get("oauth", 0) >= 1,
              f"sign.purge audit entries count what went ({total})")
        for tx in (ended, expired):
            check(count(d, "audit_log", f"object = '{tx}'") >= 1,
                  f"the audit entries of purged transaction {tx} stay")
        check(count(d, "audit_log") > audit_before,
              "the purge added to the trail and removed nothing from it")
        rc, out, err = llave(d, "audit", "verify")
        check(rc == 0, f"llave audit verify: the chain is intact {out}{err}")
    finally:
        cleanup(tmp)
    finish()


if __name__ == "__main__":
    main()
