/* bench_p11 — the bare PKCS#11 module doing the calls llave-keyd makes for
 * one signature, without llave (issue 16 item 7): the peer that shows our
 * overhead per PKCS#11 call, which the file store cannot show because
 * SoftHSM2 itself is several times slower than OpenSSL (it rebuilds the
 * OpenSSL key at every C_SignInit).
 *
 *   bench_p11 --module PATH --token LABEL (--key TEXT [--key-type rsa|ec]
 *             | --unwrap) [--batch N] [-t THREADS] [-s SECONDS]
 *
 * The user PIN comes from LLAVE_PKCS11_PIN, as for llave init.  One login,
 * then THREADS threads, each with its own R/W session (keyd pools one per
 * concurrent signature), loop for SECONDS over exactly what
 * src/keys/keys_p11_ops.c does per request:
 *
 *   --key TEXT  a token key (CA, TSA, OCSP: class CKO_PRIVATE_KEY, the one
 *               whose CKA_LABEL contains TEXT and, with --key-type, of
 *               that CKA_KEY_TYPE), its handle found once as
 *               keyd caches it: C_SignInit + C_Sign per signature.
 *   --unwrap    a citizen's key: C_UnwrapKey (CKM_AES_KEY_WRAP_PAD under
 *               the token's wrapping key, llave's template) into a session
 *               object, BATCH x (C_SignInit + C_Sign), C_DestroyObject.
 *               The blob is an RSA-2048 key generated and wrapped here
 *               under the install's wrapping key (a citizen's own blob is
 *               sealed under keyd's master key): same module path, same
 *               key size.
 *
 * RSA signs CKM_RSA_PKCS over a SHA-256 DigestInfo, EC CKM_ECDSA over a
 * 32-byte digest, as keyd does.  Prints one line:
 *   mode=… batch=… threads=… signatures=… seconds=… cpu_ms=… rate=…
 * cpu_ms: this process's CPU time (user + system) per signature, which a
 * machine busy with other work changes less than the rate. */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SIG_MAX 1024
#define WRAP_LABEL "llave citizen-key wrapping key" /* keys_p11.c */

typedef struct {
    const char *module, *token, *key, *key_type;
    int unwrap, batch, threads;
    double seconds;
} opts;

typedef struct {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    CK_OBJECT_HANDLE key; /* --key: the token key */
    CK_MECHANISM_TYPE mech;
    CK_OBJECT_HANDLE wrap; /* --unwrap: the wrapping key and the blob */
    CK_BYTE blob[8192];
    CK_ULONG blob_len;
    int batch;
    atomic_int stop;
    atomic_int failed;
} shared;

typedef struct {
    pthread_t tid;
    shared *sh;
    long sigs;
} worker;

/* DigestInfo of SHA-256 (RFC 8017 §9.2 note 1) over a fixed digest: keyd
 * encodes it per signature with X509_SIG, which is our overhead. */
static const CK_BYTE digest_info[51] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
    0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0xa5, 0xa5, 0xa5};

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "bench_p11: %s failed (0x%lx)\n", what, (unsigned long)rv);
    exit(1);
}

/* ---- module, token, login ------------------------------------------------ */
static CK_FUNCTION_LIST_PTR load(const char *module)
{
    CK_C_GetFunctionList get = NULL;
    CK_FUNCTION_LIST_PTR f = NULL;
    void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "bench_p11: %s\n", dlerror());
        exit(1);
    }
    *(void **)&get = dlsym(dl, "C_GetFunctionList");
    if (!get || get(&f) != CKR_OK)
        die("C_GetFunctionList", CKR_GENERAL_ERROR);
    /* keyd signs from several threads: the same flag as keys_p11.c */
    CK_C_INITIALIZE_ARGS args = {0};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f->C_Initialize(&args);
    if (rv != CKR_OK)
        die("C_Initialize", rv);
    return f;
}

static int label_is(const CK_UTF8CHAR label[32], const char *want)
{
    size_t n = strlen(want), end = 32;
    while (end > 0 && label[end - 1] == ' ')
        end--;
    return n == end && memcmp(label, want, n) == 0;
}

static CK_SLOT_ID find_slot(CK_FUNCTION_LIST_PTR f, const char *token)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64;
    CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        die("C_GetSlotList", rv);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            label_is(ti.label, token))
            return slots[i];
    }
    fprintf(stderr, "bench_p11: no token labelled %s\n", token);
    exit(1);
}

static CK_SESSION_HANDLE open_session(shared *sh)
{
    CK_SESSION_HANDLE s;
    CK_RV rv = sh->f->C_OpenSession(
        sh->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        die("C_OpenSession", rv);
    return s;
}

static void login(shared *sh, CK_SESSION_HANDLE s)
{
    const char *pin = getenv("LLAVE_PKCS11_PIN");
    if (!pin) {
        fputs("bench_p11: LLAVE_PKCS11_PIN is not set\n", stderr);
        exit(1);
    }
    CK_RV rv = sh->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        die("C_Login", rv);
}

/* ---- objects ------------------------------------------------------------- */
static CK_ULONG find(shared *sh, CK_SESSION_HANDLE s, CK_ATTRIBUTE *t,
                     CK_ULONG nt, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG n = 0;
    CK_RV rv = sh->f->C_FindObjectsInit(s, t, nt);
    if (rv == CKR_OK)
        rv = sh->f->C_FindObjects(s, out, max, &n);
    sh->f->C_FindObjectsFinal(s);
    if (rv != CKR_OK)
        die("C_FindObjects", rv);
    return n;
}

static int label_has(shared *sh, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                     const char *text)
{
    char label[256] = "";
    CK_ATTRIBUTE a = {CKA_LABEL, label, sizeof label - 1};
    if (sh->f->C_GetAttributeValue(s, h, &a, 1) != CKR_OK)
        return 0;
    label[a.ulValueLen < sizeof label ? a.ulValueLen : 0] = '\0';
    return strstr(label, text) != NULL;
}

static CK_KEY_TYPE key_type(shared *sh, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_KEY_TYPE kt = CKK_VENDOR_DEFINED;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof kt};
    CK_RV rv = sh->f->C_GetAttributeValue(s, h, &a, 1);
    if (rv != CKR_OK)
        die("C_GetAttributeValue (CKA_KEY_TYPE)", rv);
    return kt;
}

/* type NULL (any), "rsa" or "ec". */
static int type_is(CK_KEY_TYPE kt, const char *type)
{
    return !type || (strcmp(type, "rsa") == 0 && kt == CKK_RSA) ||
           (strcmp(type, "ec") == 0 && kt == CKK_EC);
}

/* The one private token key whose label contains text (TSA units share
 * the label "llave service <id> tsa": type tells them apart); its
 * mechanism from CKA_KEY_TYPE. */
static void find_key(shared *sh, CK_SESSION_HANDLE s, const char *text,
                     const char *type)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_TOKEN, &yes, 1}};
    CK_OBJECT_HANDLE all[256];
    CK_ULONG n = find(sh, s, t, 2, all, 256), hits = 0;
    for (CK_ULONG i = 0; i < n; i++)
        if (label_has(sh, s, all[i], text) &&
            type_is(key_type(sh, s, all[i]), type)) {
            sh->key = all[i];
            hits++;
        }
    if (hits != 1) {
        fprintf(stderr, "bench_p11: %lu private keys labelled *%s*\n",
                (unsigned long)hits, text);
        exit(1);
    }
    sh->mech = key_type(sh, s, sh->key) == CKK_RSA ? CKM_RSA_PKCS : CKM_ECDSA;
}

static void find_wrap_key(shared *sh, CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof cls},
                        {CKA_LABEL, WRAP_LABEL, strlen(WRAP_LABEL)}};
    if (find(sh, s, t, 2, &sh->wrap, 1) != 1) {
        fputs("bench_p11: no citizen-key wrapping key on the token\n", stderr);
        exit(1);
    }
}

/* An RSA-2048 key pair as session objects with keys_p11.c's template for a
 * citizen's key, its private half wrapped into sh->blob, both destroyed. */
static void make_blob(shared *sh, CK_SESSION_HANDLE s)
{
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits = 2048;
    CK_BYTE e[] = {1, 0, 1};
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &no, 1},
                          {CKA_VERIFY, &yes, 1},
                          {CKA_MODULUS_BITS, &bits, sizeof bits},
                          {CKA_PUBLIC_EXPONENT, e, sizeof e}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &no, 1},      {CKA_PRIVATE, &yes, 1},
                           {CKA_SENSITIVE, &yes, 1}, {CKA_EXTRACTABLE, &yes, 1},
                           {CKA_SIGN, &yes, 1},      {CKA_DECRYPT, &no, 1}};
    CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_MECHANISM wrap = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    CK_OBJECT_HANDLE hpub, hpriv;
    CK_RV rv =
        sh->f->C_GenerateKeyPair(s, &gen, pub, 4, priv, 6, &hpub, &hpriv);
    if (rv != CKR_OK)
        die("C_GenerateKeyPair", rv);
    sh->blob_len = sizeof sh->blob;
    rv = sh->f->C_WrapKey(s, &wrap, sh->wrap, hpriv, sh->blob, &sh->blob_len);
    if (rv != CKR_OK)
        die("C_WrapKey", rv);
    sh->f->C_DestroyObject(s, hpriv);
    sh->f->C_DestroyObject(s, hpub);
    sh->mech = CKM_RSA_PKCS;
}

/* ---- the measured calls -------------------------------------------------- */
static CK_RV sign(shared *sh, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_MECHANISM m = {sh->mech, NULL, 0};
    CK_BYTE out[SIG_MAX];
    CK_ULONG n = sizeof out;
    /* ECDSA signs the bare digest: the last 32 bytes of the DigestInfo */
    CK_BYTE_PTR in = (CK_BYTE_PTR)digest_info;
    CK_ULONG in_len = sizeof digest_info;
    if (sh->mech == CKM_ECDSA) {
        in += in_len - 32;
        in_len = 32;
    }
    CK_RV rv = sh->f->C_SignInit(s, &m, h);
    if (rv == CKR_OK)
        rv = sh->f->C_Sign(s, in, in_len, out, &n);
    return rv;
}

/* keys_p11_ops.c unwrap(): the same template. */
static CK_RV unwrap(shared *sh, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &no, 1},           {CKA_PRIVATE, &yes, 1},
        {CKA_SENSITIVE, &yes, 1},      {CKA_EXTRACTABLE, &no, 1},
        {CKA_SIGN, &yes, 1},           {CKA_DECRYPT, &no, 1}};
    CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    return sh->f->C_UnwrapKey(s, &m, sh->wrap, sh->blob, sh->blob_len, t,
                              sizeof t / sizeof t[0], h);
}

/* One request: the signatures made, or -1. */
static int request(shared *sh, CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE h = sh->key;
    CK_RV rv = CKR_OK;
    int done = 0;
    if (sh->wrap && (rv = unwrap(sh, s, &h)) != CKR_OK)
        die("C_UnwrapKey", rv);
    for (int i = 0; i < (sh->wrap ? sh->batch : 1) && rv == CKR_OK; i++)
        if ((rv = sign(sh, s, h)) == CKR_OK)
            done++;
    if (sh->wrap && sh->f->C_DestroyObject(s, h) != CKR_OK)
        rv = CKR_GENERAL_ERROR;
    if (rv != CKR_OK)
        fprintf(stderr, "bench_p11: a signature failed (0x%lx)\n",
                (unsigned long)rv);
    return rv == CKR_OK ? done : -1;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    CK_SESSION_HANDLE s = open_session(sh);
    while (!atomic_load(&sh->stop)) {
        int n = request(sh, s);
        if (n < 0) {
            atomic_store(&sh->failed, 1);
            break;
        }
        w->sigs += n;
    }
    sh->f->C_CloseSession(s);
    return NULL;
}

/* ---- main ---------------------------------------------------------------- */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* One option that takes a value. */
static int set_opt(opts *o, const char *a, const char *v)
{
    if (strcmp(a, "--module") == 0)
        o->module = v;
    else if (strcmp(a, "--token") == 0)
        o->token = v;
    else if (strcmp(a, "--key") == 0)
        o->key = v;
    else if (strcmp(a, "--key-type") == 0)
        o->key_type = v;
    else if (strcmp(a, "--batch") == 0)
        o->batch = atoi(v);
    else if (strcmp(a, "-t") == 0)
        o->threads = atoi(v);
    else if (strcmp(a, "-s") == 0)
        o->seconds = atof(v);
    else
        return -1;
    return 0;
}

static int parse(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--unwrap") == 0) {
            o->unwrap = 1;
            continue;
        }
        if (i + 1 >= argc || set_opt(o, argv[i], argv[i + 1]) < 0)
            return -1;
        i++;
    }
    return o->module && o->token && (!o->key != !o->unwrap) && o->batch > 0 &&
                   o->threads > 0 && o->threads <= MAX_THREADS && o->seconds > 0
               ? 0
               : -1;
}

static long run(shared *sh, int threads, double seconds, double *secs,
                double *cpu)
{
    worker w[MAX_THREADS] = {0};
    long total = 0;
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < threads; i++) {
        w[i].sh = sh;
        pthread_create(&w[i].tid, NULL, work, &w[i]);
    }
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&sh->stop, 1);
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].tid, NULL);
        total += w[i].sigs;
    }
    *secs = now_s() - t0;
    *cpu = cpu_s() - c0;
    return total;
}

int main(int argc, char **argv)
{
    opts o = {.batch = 1, .threads = 2, .seconds = 5};
    static shared sh;
    if (parse(argc, argv, &o) < 0) {
        fputs("usage: bench_p11 --module PATH --token LABEL (--key TEXT "
              "[--key-type rsa|ec] | --unwrap) [--batch N] [-t THREADS] "
              "[-s SECONDS]\n",
              stderr);
        return 2;
    }
    sh.f = load(o.module);
    sh.slot = find_slot(sh.f, o.token);
    sh.batch = o.batch;
    CK_SESSION_HANDLE s = open_session(&sh);
    login(&sh, s); /* kept open: the login lasts while a session does */
    if (o.unwrap) {
        find_wrap_key(&sh, s);
        make_blob(&sh, s);
    } else {
        find_key(&sh, s, o.key, o.key_type);
    }
    double secs = 0, cpu = 0;
    long total = run(&sh, o.threads, o.seconds, &secs, &cpu);
    printf("mode=%s batch=%d threads=%d signatures=%ld seconds=%.3f "
           "cpu_ms=%.3f rate=%.2f\n",
           o.unwrap ? "unwrap" : "token-key", o.unwrap ? o.batch : 1, o.threads,
           total, secs, total ? 1e3 * cpu / (double)total : 0,
           (double)total / secs);
    sh.f->C_CloseSession(s);
    sh.f->C_Finalize(NULL);
    return atomic_load(&sh.failed) ? 1 : 0;
}
