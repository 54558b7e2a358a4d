/* The clock guard (R7.2, ETSI EN 319 421 §7.7.2): a token is issued only
 * while the kernel reports the system clock synchronized (NTP discipline,
 * STA_UNSYNC clear) and its error bounds within the accuracy the tokens
 * declare.  Otherwise the answer is timeNotAvailable.  Every change of the
 * judgement — loss of synchronization and its recovery — is audited
 * (tsa.clock), not every request: the trail stays readable and the hot
 * path does no write while nothing changes.
 *
 * Test hook: LLAVE_TSA_TEST_CLOCK_UNSYNC (any non-empty value) in the
 * environment of the process that opens the CA context makes the clock read
 * as unsynchronized.  It can only make the TSA refuse, never accept. */
#include "tsa/tsa_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

int tsa_clock_judge(int state, int status, long maxerror_us, long esterror_us,
                    long accuracy_us, char *why, size_t cap)
{
    if (state < 0) {
        snprintf(why, cap, "ntp_adjtime failed: the clock state is unknown");
        return 0;
    }
    if (state == TIME_ERROR || (status & STA_UNSYNC)) {
        snprintf(why, cap,
                 "the kernel reports the clock unsynchronized "
                 "(no NTP discipline)");
        return 0;
    }
    if (maxerror_us > accuracy_us || esterror_us > accuracy_us) {
        snprintf(why, cap,
                 "clock error bound %ld us (estimated %ld us) exceeds the "
                 "declared accuracy of %ld us",
                 maxerror_us, esterror_us, accuracy_us);
        return 0;
    }
    why[0] = '\0';
    return 1;
}

int tsa_clock(lv_ca *ca, lv_tsa_clock *out)
{
    tsa_state *tsa = NULL;
    struct timex tx;
    memset(&tx, 0, sizeof tx); /* modes 0: read only, no privilege needed */
    memset(out, 0, sizeof *out);
    out->state = ntp_adjtime(&tx);
    out->status = tx.status;
    out->maxerror_us = tx.maxerror;
    out->esterror_us = tx.esterror;
    if (tsa_state_get(ca, &tsa, NULL) == 0 && tsa->force_unsync) {
        snprintf(out->reason, sizeof out->reason,
                 "forced unsynchronized by %s (test hook)", LV_TSA_CLOCK_HOOK);
        return 0;
    }
    out->usable = tsa_clock_judge(out->state, out->status, out->maxerror_us,
                                  out->esterror_us,
                                  1000L * ca_config(ca)->tsa_accuracy_ms,
                                  out->reason, sizeof out->reason);
    return 0;
}

/* Best effort: a busy store must not turn the refusal into a failure; the
 * operational log keeps the event when the audit cannot. */
static int audit_change(lv_store *st, const lv_config *cfg,
                        const lv_tsa_clock *c)
{
    lv_err err = {0};
    json_t *details = json_pack(
        "{s:b, s:i, s:i, s:I, s:I, s:i, s:s}", "synchronized", c->usable,
        "state", c->state, "status", c->status, "maxerror_us",
        (json_int_t)c->maxerror_us, "esterror_us", (json_int_t)c->esterror_us,
        "accuracy_ms", cfg->tsa_accuracy_ms, "reason", c->reason);
    int rc = st == NULL ? 0
                        : audit_log_standalone(
                              st, "tsa", "tsa.clock", "system clock",
                              c->usable ? LV_AUDIT_SUCCESS : LV_AUDIT_FAILURE,
                              details, &err);
    json_decref(details);
    lv_log(c->usable ? LV_LOG_INFO : LV_LOG_WARN, "tsa: clock %s%s%s",
           c->usable ? "synchronized" : "NOT usable: ", c->reason,
           rc < 0 ? " (not audited yet: store busy)" : "");
    return rc;
}

int tsa_clock_guard(lv_ca *ca, lv_store *st, tsa_refusal *why)
{
    lv_tsa_clock c;
    tsa_state *tsa = NULL;
    if (!ca_config(ca)->tsa_require_clock_sync)
        return 1; /* demo and tests: switched off in the configuration */
    tsa_clock(ca, &c);
    int now = c.usable ? TSA_CLOCK_USABLE : TSA_CLOCK_UNUSABLE;
    /* one audit entry per change; retried while it cannot be written */
    if (tsa_state_get(ca, &tsa, NULL) == 0 &&
        atomic_exchange(&tsa->clock_state, now) != now &&
        audit_change(st, ca_config(ca), &c) < 0)
        atomic_store(&tsa->clock_state, TSA_CLOCK_UNKNOWN);
    if (c.usable)
        return 1;
    why->failure = TS_INFO_TIME_NOT_AVAILABLE;
    snprintf(why->text, sizeof why->text, "time not available: %s", c.reason);
    return 0;
}
