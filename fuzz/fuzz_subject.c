/* libFuzzer target: the subject builder (profile_subject_build,
 * src/profile/subject.c), which turns the JSON subject of a certificate request
 * (RA officers' requests, organizations' requests, R2.7, R2.8, R4.3) into a
 * distinguished name and subjectAltName under a profile's rules.  The first
 * input byte picks the profile of profile_table(); the rest is the subject
 * as JSON (duplicate keys refused, as the body reader does).  Invariants
 * checked on every input:
 *   - the answer is 0 or LV_EINVAL with a message;
 *   - accepted: a DN with a commonName, every entry's value valid UTF-8
 *     without NUL; the DN (and the SAN, when any) re-encode in DER and
 *     decode to an equal value; subject_id and subscriber_id are set;
 *   - the result depends only on the JSON value: the subject written out
 *     again (json_dumps) and read back builds the same DN, SAN and ids.
 * Seeds: fuzz/corpus/fuzz_subject/ (subjects of docs/API.md for natural
 * persons, representatives, organizations, PSD2 and web profiles). */
#include "profile/profile.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *
der_of(const void *v, int (*i2d)(const void *, unsigned char **), int *len)
{
    unsigned char *der = NULL;
    *len = i2d(v, &der);
    if (*len <= 0)
        abort();
    return der;
}

static int name_i2d(const void *v, unsigned char **out)
{
    return i2d_X509_NAME((X509_NAME *)v, out);
}

static int san_i2d(const void *v, unsigned char **out)
{
    return i2d_GENERAL_NAMES((GENERAL_NAMES *)v, out);
}

static int utf8_ok(const unsigned char *s, int n)
{
    for (int i = 0; i < n;) {
        unsigned char c = s[i];
        int k = c < 0x80         ? 0
                : (c >> 5) == 6  ? 1
                : (c >> 4) == 14 ? 2
                : (c >> 3) == 30 ? 3
                                 : -1;
        if (c == 0 || k < 0 || i + k >= n)
            return 0;
        for (int j = 1; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

static void check_name(const X509_NAME *dn)
{
    int cn = 0, len = 0;
    for (int i = 0; i < X509_NAME_entry_count(dn); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(dn, i);
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n < 0 || !utf8_ok(utf8, n))
            abort();
        OPENSSL_free(utf8);
        cn |= OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) == NID_commonName;
    }
    unsigned char *der = der_of(dn, name_i2d, &len);
    const unsigned char *p = der;
    X509_NAME *back = d2i_X509_NAME(NULL, &p, len);
    if (!cn || !back || p != der + len || X509_NAME_cmp(back, dn) != 0)
        abort();
    X509_NAME_free(back);
    OPENSSL_free(der);
}

static void same_result(const lv_subject *a, const lv_subject *b)
{
    int la = 0, lb = 0;
    unsigned char *da = der_of(a->dn, name_i2d, &la);
    unsigned char *db = der_of(b->dn, name_i2d, &lb);
    if (la != lb || memcmp(da, db, (size_t)la) != 0 ||
        strcmp(a->subject_id, b->subject_id) != 0 ||
        strcmp(a->subscriber_id, b->subscriber_id) != 0 || !a->san != !b->san ||
        a->test != b->test || a->not_after_cap != b->not_after_cap ||
        a->psd2_roles != b->psd2_roles)
        abort();
    OPENSSL_free(da);
    OPENSSL_free(db);
    if (a->san) {
        da = der_of(a->san, san_i2d, &la);
        db = der_of(b->san, san_i2d, &lb);
        if (la != lb || memcmp(da, db, (size_t)la) != 0)
            abort();
        OPENSSL_free(da);
        OPENSSL_free(db);
    }
}

/* The subject as JSON again, read back and built again. */
static void rebuild(const lv_profile *p, const json_t *subject,
                    const lv_subject *first)
{
    char *text = json_dumps(subject, JSON_COMPACT);
    json_t *again =
        text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    lv_subject s = {0};
    lv_err err = {0};
    if (!again || profile_subject_build(p, again, &s, &err) != 0)
        abort();
    same_result(first, &s);
    profile_subject_free(&s);
    json_decref(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    const lv_profile *profiles = profile_table(&count);
    if (size < 1 || count == 0)
        return 0;
    const lv_profile *p = &profiles[data[0] % count];
    json_t *subject = json_loadb((const char *)data + 1, size - 1,
                                 JSON_REJECT_DUPLICATES, NULL);
    if (!subject)
        return 0;
    lv_subject s = {0};
    lv_err err = {0};
    int rc = profile_subject_build(p, subject, &s, &err);
    if (rc == 0) {
        if (!s.dn || !s.subject_id[0] || !s.subscriber_id[0])
            abort();
        check_name(s.dn);
        if (s.san) {
            int len = 0;
            unsigned char *der = der_of(s.san, san_i2d, &len);
            const unsigned char *q = der;
            GENERAL_NAMES *back = d2i_GENERAL_NAMES(NULL, &q, len);
            if (!back || q != der + len)
                abort();
            GENERAL_NAMES_free(back);
            OPENSSL_free(der);
        }
        rebuild(p, subject, &s);
    } else if (rc != LV_EINVAL || !err.msg[0]) {
        abort();
    }
    profile_subject_free(&s);
    json_decref(subject);
    ERR_clear_error(); /* OpenSSL's queue would grow the heap run by run */
    return 0;
}
