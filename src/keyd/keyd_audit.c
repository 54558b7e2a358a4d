/* keyd's audit entries (R9.1, CPS §5.4.1): every refusal, with who asked
 * (caller class, peer pid and uid from SO_PEERCRED), what, and why.  Each
 * connection thread has its own store (one lv_store per thread), opened on
 * first use so that a status request costs no database connection. */
#include "audit/audit.h"
#include "keyd/keyd_internal.h"

#include <stdio.h>

int keyd_conn_store(keyd_conn *c, lv_store **st, lv_err *err)
{
    if (!c->st)
        LV_TRY(store_open(c->srv->db_path, &c->st, err));
    *st = c->st;
    return 0;
}

/* "keyd:service", ...: the class the peer declared, as the actor. */
void keyd_actor(const keyd_call *call, char out[64])
{
    snprintf(out, 64, "keyd:%s",
             call ? keyd_caller_name(call->caller) : "peer");
}

json_t *keyd_peer_json(const keyd_call *call)
{
    const keyd_conn *c = call->conn;
    return json_pack("{s:I, s:I, s:s, s:i, s:s, s:I}", "pid",
                     (json_int_t)c->pid, "uid", (json_int_t)c->uid, "caller",
                     keyd_caller_name(call->caller), "kind", call->kind,
                     "kind_name", keyd_kind_name(call->kind), "request",
                     (json_int_t)call->id);
}

void keyd_audit(keyd_conn *c, const char *actor, const char *event,
                const char *object, const char *result, json_t *details)
{
    lv_store *st;
    lv_err err = {0};
    if (keyd_conn_store(c, &st, &err) < 0 ||
        audit_log_standalone(st, actor, event, object, result, details, &err) <
            0)
        lv_log(LV_LOG_ERROR, "llave-keyd: cannot audit %s: %s", event, err.msg);
    json_decref(details);
}

void keyd_audit_refusal(keyd_conn *c, const keyd_call *call, const char *object,
                        int code, const char *reason)
{
    char actor[64];
    keyd_actor(call, actor);
    json_t *d = keyd_peer_json(call);
    json_object_set_new(d, "code", json_string(lv_err_name(code)));
    json_object_set_new(d, "reason", json_string(reason ? reason : ""));
    keyd_audit(c, actor, "keyd.refused", object, LV_AUDIT_FAILURE, d);
}
