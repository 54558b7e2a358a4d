/* libFuzzer target: the reader of custodian shares (keys_share_parse and
 * keys_share_check, src/keys/keys_share.c), which reads every share typed
 * or pasted into `llave unseal` and sent to llave-keyd's unseal_share
 * before any combination is attempted.  The input is the share text.
 * Invariants checked on every input:
 *   - keys_share_parse and keys_share_check agree;
 *   - accepted: the share number is 1..LV_SHARES_TOTAL; the share printed
 *     again (keys_share_format) is the input without its surrounding white
 *     space, hex digits in lower case, and is read back to the same share;
 *     changing any one digit of its check value makes it refused;
 *   - refused: LV_EINVAL with a message of printable ASCII (custodians
 *     read it; it never quotes the share), and nothing of the share is
 *     left in the output.
 * Seeds: fuzz/corpus/fuzz_share/ (shares of a demo ceremony: pasted with
 * a newline, upper case, typos, other numbers, truncated). */
#include "keys/keys_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_refusal(const lv_err *err, const lv_share *s)
{
    static const lv_share zero;
    size_t hex_run = 0;
    if (err->code != LV_EINVAL || !err->msg[0] ||
        memcmp(s, &zero, sizeof *s) != 0)
        abort();
    for (const char *m = err->msg; *m; m++) {
        if ((unsigned char)*m < 0x20 || (unsigned char)*m >= 0x7f)
            abort();
        hex_run = isxdigit((unsigned char)*m) ? hex_run + 1 : 0;
        if (hex_run >= 16) /* a piece of the share */
            abort();
    }
}

/* The input without surrounding white space, in lower case. */
static int same_text(const char *in, const char *printed)
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n > 0 && isspace((unsigned char)in[n - 1]))
        n--;
    if (n != strlen(printed))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)in[i]) != printed[i])
            return 0;
    return 1;
}

static void check_accepted(const char *text, const lv_share *s)
{
    char printed[LV_SHARE_TEXT_MAX];
    lv_share again;
    lv_err err = {0};
    if (s->index < 1 || s->index > LV_SHARES_TOTAL)
        abort();
    keys_share_format(s, printed);
    if (!same_text(text, printed) || keys_share_parse(printed, &again, &err) ||
        memcmp(&again, s, sizeof again) != 0)
        abort();
    /* a typo in the check value (its last 8 hex digits) is caught */
    size_t n = strlen(printed);
    for (size_t i = n - 8; i < n; i++) {
        char keep = printed[i];
        printed[i] = keep == '0' ? '1' : '0';
        if (keys_share_check(printed, &err) != LV_EINVAL)
            abort();
        printed[i] = keep;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    lv_share s;
    lv_err err = {0}, err2 = {0};
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&s, 0xa5, sizeof s);
    int rc = keys_share_parse(text, &s, &err);
    if ((keys_share_check(text, &err2) == 0) != (rc == 0))
        abort();
    if (rc == 0)
        check_accepted(text, &s);
    else
        check_refusal(&err, &s);
    free(text);
    return 0;
}
