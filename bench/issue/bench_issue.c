/* bench_issue — certificates issued per second through ca_issue (issue 3
 * item 8, R10.1 "issuance bounded by the cryptographic cost").
 *
 *   bench_issue -d DIR --profile ID --subject FILE.json [--csr REQ.pem]
 *               [-n COUNT] [-t THREADS] [--first DNI] [--last-cert OUT.pem]
 *
 * `llave cert issue` starts a process and opens the key store for every
 * certificate, which measures process start-up rather than the CA.  This
 * program opens the configuration, the key store (demo shares) and the CA
 * once, then runs COUNT issuances from THREADS threads, each with its own
 * lv_store as llaved's workers have.  Every issuance is the real one: subject
 * rules, R2.9 check, CSR proof of possession or key generation in the key
 * store, RSA-4096 signature by the issuing CA, certificate row and audit
 * entry in one transaction.
 *
 * R2.9 allows one valid certificate per (subject, subscriber, profile), so
 * each issuance gets its own DNI: FIRST + i with the check letter of R2.3.
 * The subject file is a template whose "id_number" is replaced.
 *
 * The CSR is parsed from its DER bytes for every issuance, as a server would
 * parse each request; one key pair serves every request since the CA only
 * takes the public key and checks the CSR signature.
 *
 * Prints one line: profile=… threads=… issued=… seconds=… rate=…  */
#include "ca/ca.h"
#include "cli/cli.h"
#include "store/store.h"

#include <openssl/pem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define DNI_LETTERS "TRWAGMYFPDXBNJZSQVHLCKE" /* R2.3: letter = n mod 23 */
#define DNI_MIN 10000000u
#define DNI_SPAN 80000000u

typedef struct bench_opts {
    const char *dir;
    const char *profile;
    const char *subject;
    const char *csr;
    const char *last_cert;
    int count;
    int threads;
    long first; /* -1: random */
} bench_opts;

/* What every worker reads; only `next` changes. */
typedef struct bench_shared {
    lv_ca *ca;
    const bench_opts *o;
    unsigned char *csr_der; /* NULL when the profile generates the key */
    long csr_len;
    unsigned first;
    atomic_int next;
    atomic_int failed;
} bench_shared;

typedef struct worker {
    pthread_t tid;
    bench_shared *sh;
    lv_store *st;
    json_t *subject; /* this thread's own copy of the template */
    int issued;
    int rc;
    lv_err err;
    X509 *last;
} worker;

static int usage(void)
{
    fputs("usage: bench_issue -d DIR --profile ID --subject FILE.json "
          "[--csr REQ.pem]\n"
          "                   [-n COUNT] [-t THREADS] [--first DNI] "
          "[--last-cert OUT.pem]\n",
          stderr);
    return 2;
}

/* Every option takes a value: argv holds OPTION VALUE pairs. */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.count = 100, .threads = 2, .first = -1};
    if (argc % 2 == 0)
        return usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "-d") == 0)
            o->dir = v;
        else if (strcmp(k, "--profile") == 0)
            o->profile = v;
        else if (strcmp(k, "--subject") == 0)
            o->subject = v;
        else if (strcmp(k, "--csr") == 0)
            o->csr = v;
        else if (strcmp(k, "--last-cert") == 0)
            o->last_cert = v;
        else if (strcmp(k, "-n") == 0)
            o->count = atoi(v);
        else if (strcmp(k, "-t") == 0)
            o->threads = atoi(v);
        else if (strcmp(k, "--first") == 0)
            o->first = atol(v);
        else
            return usage();
    }
    if (o->dir == NULL || o->profile == NULL || o->subject == NULL ||
        o->count < 1 || o->threads < 1 || o->threads > MAX_THREADS ||
        o->first >= (long)(DNI_MIN + DNI_SPAN))
        return usage();
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The CSR as DER, so that each issuance parses it like a fresh request. */
static int load_csr_der(const char *path, unsigned char **der, long *len,
                        lv_err *err)
{
    FILE *f = fopen(path, "r");
    X509_REQ *req = f ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    int n = req ? i2d_X509_REQ(req, der) : -1;
    X509_REQ_free(req);
    if (n <= 0)
        return lv_fail_ssl(err, LV_EINVAL, "%s is not a PEM PKCS#10 request",
                           path);
    *len = n;
    return 0;
}

static int set_dni(json_t *subject, unsigned n)
{
    char dni[16];
    snprintf(dni, sizeof dni, "%08u%c", n, DNI_LETTERS[n % 23]);
    return json_object_set_new(subject, "id_number", json_string(dni)) == 0
               ? 0
               : LV_ENOMEM;
}

/* One issuance with the index-th DNI of this run. */
static int issue_one(bench_shared *sh, worker *w, int index)
{
    lv_issue_result r;
    X509_REQ *csr = NULL;
    LV_TRY(set_dni(w->subject, sh->first + (unsigned)index));
    if (sh->csr_der != NULL) {
        const unsigned char *p = sh->csr_der;
        csr = d2i_X509_REQ(NULL, &p, sh->csr_len);
        if (csr == NULL)
            return lv_fail_ssl(&w->err, LV_EINVAL, "CSR does not parse");
    }
    lv_issue_req req = {.profile_id = sh->o->profile,
                        .subject = w->subject,
                        .csr = csr,
                        .actor = "bench:issue"};
    int rc = ca_issue(sh->ca, w->st, &req, &r, &w->err);
    X509_REQ_free(csr);
    if (rc < 0)
        return rc;
    X509_free(w->last);
    w->last = r.cert; /* kept for --last-cert */
    r.cert = NULL;
    ca_issue_result_free(&r);
    w->issued++;
    return 0;
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    bench_shared *sh = w->sh;
    while (!atomic_load(&sh->failed)) {
        int i = atomic_fetch_add(&sh->next, 1);
        if (i > sh->o->count) /* index 0 is the warm-up */
            break;
        w->rc = issue_one(sh, w, i);
        if (w->rc < 0) {
            atomic_store(&sh->failed, 1);
            break;
        }
    }
    return NULL;
}

static int write_pem(const char *path, X509 *cert, lv_err *err)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && PEM_write_X509(f, cert);
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : lv_fail(err, LV_EIO, "cannot write %s", path);
}

static unsigned first_dni(long first)
{
    unsigned r = 0;
    if (first >= 0)
        return (unsigned)first;
    /* a random start, so that runs on the same install do not meet R2.9 */
    if (lv_random(&r, sizeof r) < 0)
        r = (unsigned)time(NULL);
    return DNI_MIN + r % (DNI_SPAN / 2);
}

static int open_workers(bench_shared *sh, const char *db, json_t *tmpl,
                        worker *ws, lv_err *err)
{
    for (int t = 0; t < sh->o->threads; t++) {
        ws[t].sh = sh;
        ws[t].subject = json_deep_copy(tmpl);
        if (ws[t].subject == NULL)
            return LV_ENOMEM;
        LV_TRY(store_open(db, &ws[t].st, err));
    }
    return 0;
}

/* Runs the timed part: every worker until COUNT issuances are done. */
static int run_workers(bench_shared *sh, worker *ws, double *seconds,
                       lv_err *err)
{
    int started = 0, rc = 0;
    double t0 = now_seconds();
    for (; started < sh->o->threads; started++)
        if (pthread_create(&ws[started].tid, NULL, worker_run, &ws[started]) !=
            0)
            break;
    if (started < sh->o->threads) {
        atomic_store(&sh->failed, 1);
        rc = lv_fail(err, LV_EINTERNAL, "cannot start thread %d", started);
    }
    for (int t = 0; t < started; t++)
        pthread_join(ws[t].tid, NULL);
    *seconds = now_seconds() - t0;
    for (int t = 0; rc == 0 && t < started; t++)
        if (ws[t].rc < 0) {
            *err = ws[t].err;
            rc = ws[t].rc;
        }
    return rc;
}

static int report(const bench_shared *sh, worker *ws, double seconds,
                  lv_err *err)
{
    int issued = 0;
    X509 *last = NULL;
    for (int t = 0; t < sh->o->threads; t++) {
        issued += ws[t].issued;
        if (ws[t].last != NULL)
            last = ws[t].last;
    }
    issued -= 1; /* the warm-up ran before the clock started */
    printf("profile=%s mode=%s threads=%d issued=%d seconds=%.3f "
           "rate=%.2f\n",
           sh->o->profile, sh->csr_der ? "csr" : "keygen", sh->o->threads,
           issued, seconds, issued / seconds);
    if (sh->o->last_cert != NULL && last != NULL)
        return write_pem(sh->o->last_cert, last, err);
    return 0;
}

/* db: the store llave.json names (SQLite or PostgreSQL, bench/store). */
static int bench(const bench_opts *o, const char *db, lv_ca *ca, json_t *tmpl,
                 lv_err *err)
{
    worker ws[MAX_THREADS];
    bench_shared sh = {.ca = ca, .o = o, .first = first_dni(o->first)};
    double seconds = 0;
    memset(ws, 0, sizeof ws);
    int rc = 0;
    if (o->csr != NULL)
        rc = load_csr_der(o->csr, &sh.csr_der, &sh.csr_len, err);
    if (rc == 0)
        rc = open_workers(&sh, db, tmpl, ws, err);
    /* warm-up: loads the issuing CA key into the key store's cache */
    if (rc == 0 &&
        (rc = issue_one(&sh, &ws[0], atomic_fetch_add(&sh.next, 1))) < 0)
        *err = ws[0].err;
    if (rc == 0)
        rc = run_workers(&sh, ws, &seconds, err);
    if (rc == 0)
        rc = report(&sh, ws, seconds, err);
    for (int t = 0; t < o->threads; t++) {
        X509_free(ws[t].last);
        json_decref(ws[t].subject);
        store_close(ws[t].st);
    }
    OPENSSL_free(sh.csr_der);
    return rc;
}

static int open_and_bench(const bench_opts *o, lv_err *err)
{
    lv_config cfg;
    lv_store *st = NULL;
    pid_t keyd = -1;
    lv_ca *ca = NULL;
    json_t *tmpl = NULL;
    char db[1024];
    int rc = lv_config_load(&cfg, o->dir, err);
    if (rc == 0)
        rc = lv_json_load_file(o->subject, &tmpl, err);
    if (rc == 0 && !json_is_string(json_object_get(tmpl, "id_number")))
        rc = lv_fail(err, LV_EINVAL, "%s has no \"id_number\" to vary",
                     o->subject);
    if (rc == 0 && lv_config_store_location(&cfg, db, sizeof db) < 0)
        rc = lv_fail(err, LV_EINVAL, "store location too long");
    /* store_open would create an empty SQLite database anywhere */
    if (rc == 0 && !lv_config_store_is_pg(&cfg) && access(db, F_OK) != 0)
        rc = lv_fail(err, LV_ENOTFOUND,
                     "%s is not a llave installation (llave init DIR --demo)",
                     o->dir);
    if (rc == 0)
        rc = store_open(db, &st, err);
    /* the CA key is in llave-keyd, as in llaved: a keyd of this bench's
     * own, opened with the demo shares, reached per thread through keyc */
    if (rc == 0)
        rc = cli_keyd_child(&cfg, NULL, 0, &keyd, err);
    if (rc == 0)
        rc = ca_open(&cfg, st, KEYD_CALLER_SERVICE, &ca, err);
    if (rc == 0)
        rc = bench(o, db, ca, tmpl, err);
    ca_close(ca);
    keyc_child_stop(keyd);
    store_close(st);
    json_decref(tmpl);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts o;
    lv_err err = {0};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    int rc = open_and_bench(&o, &err);
    if (rc < 0) {
        fprintf(stderr, "bench_issue: %s\n",
                err.msg[0] ? err.msg : lv_err_name(rc));
        return 1;
    }
    return 0;
}
