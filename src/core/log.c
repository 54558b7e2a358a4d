/* Operational log: one line per call on stderr, "TIME LEVEL message". */
#include "core/core.h"

#include <stdatomic.h>
#include <stdio.h>

static atomic_int log_level = LV_LOG_INFO;

void lv_log_set_level(lv_log_level level)
{
    atomic_store(&log_level, (int)level);
}

static const char *log_level_name(lv_log_level level)
{
    switch (level) {
    case LV_LOG_DEBUG:
        return "DEBUG";
    case LV_LOG_INFO:
        return "INFO";
    case LV_LOG_WARN:
        return "WARN";
    case LV_LOG_ERROR:
        return "ERROR";
    }
    return "?";
}

void lv_log(lv_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&log_level))
        return;
    int64_t ms = lv_now_ms();
    char stamp[32];
    lv_time_iso(ms / 1000, stamp);
    stamp[19] = '\0'; /* drop the 'Z' to insert milliseconds */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* flockfile keeps lines of concurrent threads from interleaving. */
    flockfile(stderr);
    fprintf(stderr, "%s.%03dZ %s %s\n", stamp, (int)(ms % 1000),
            log_level_name(level), msg);
    fflush(stderr);
    funlockfile(stderr);
}
