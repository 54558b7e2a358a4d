/* UTC time: formatting and strict parsing of the two ISO-8601 forms llave
 * accepts from users and files. */
#include "core/core.h"

#include <string.h>

int64_t lv_now(void)
{
    return (int64_t)time(NULL);
}

int64_t lv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lv_time_iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        strcpy(out, "1970-01-01T00:00:00Z");
}

/* Reads exactly n decimal digits. */
static int parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return LV_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Layouts by position: "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SSZ". */
static int parse_fields(const char *s, size_t len, struct tm *tm)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (len != 10 && len != 20)
        return LV_EINVAL;
    LV_TRY(parse_digits(s, 4, &y));
    LV_TRY(parse_digits(s + 5, 2, &mo));
    LV_TRY(parse_digits(s + 8, 2, &d));
    if (s[4] != '-' || s[7] != '-')
        return LV_EINVAL;
    if (len == 20) {
        if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
            return LV_EINVAL;
        LV_TRY(parse_digits(s + 11, 2, &h));
        LV_TRY(parse_digits(s + 14, 2, &mi));
        LV_TRY(parse_digits(s + 17, 2, &sec));
    }
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 59)
        return LV_EINVAL;
    *tm = (struct tm){.tm_year = y - 1900,
                      .tm_mon = mo - 1,
                      .tm_mday = d,
                      .tm_hour = h,
                      .tm_min = mi,
                      .tm_sec = sec};
    return 0;
}

int lv_time_parse(const char *s, int64_t *out)
{
    struct tm tm, back;
    if (!s)
        return LV_EINVAL;
    LV_TRY(parse_fields(s, strlen(s), &tm));
    struct tm want = tm;
    time_t t = timegm(&tm);
    /* timegm normalizes 2026-02-30 into March; a round trip that changes
     * the day means the date does not exist. */
    if (!gmtime_r(&t, &back) || back.tm_mday != want.tm_mday ||
        back.tm_mon != want.tm_mon || back.tm_year != want.tm_year)
        return LV_EINVAL;
    *out = (int64_t)t;
    return 0;
}
