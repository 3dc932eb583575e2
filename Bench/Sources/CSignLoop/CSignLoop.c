#include "CSignLoop.h"

#include <dlfcn.h>
#include <p11-kit-1/p11-kit/pkcs11.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct shared {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    const char *pin;
    const char *key_label;
    unsigned long mechanism;
    const unsigned char *data;
    unsigned long data_len;
    double deadline;
    pthread_barrier_t ready;  // every worker has its session, login and key
    pthread_barrier_t go;     // the deadline is set
};

struct worker {
    struct shared *s;
    pthread_t thread;
    unsigned long operations, errors, first_error;
    int setup_failed;
};

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *s = w->s;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key = 0;
    CK_ULONG found = 0;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)s->key_label, strlen(s->key_label)}};
    CK_RV rv = s->f->C_OpenSession(s->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
    if (rv == CKR_OK) {
        rv = s->f->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)s->pin, strlen(s->pin));
        if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
    }
    if (rv == CKR_OK) rv = s->f->C_FindObjectsInit(session, query, 2);
    if (rv == CKR_OK) rv = s->f->C_FindObjects(session, &key, 1, &found);
    if (rv == CKR_OK) rv = s->f->C_FindObjectsFinal(session);
    w->setup_failed = rv != CKR_OK || found != 1;
    pthread_barrier_wait(&s->ready);
    pthread_barrier_wait(&s->go);
    if (w->setup_failed) return NULL;

    CK_MECHANISM mechanism = {s->mechanism, NULL, 0};
    unsigned char signature[1024];
    while (now() < s->deadline) {
        CK_ULONG length = sizeof(signature);
        rv = s->f->C_SignInit(session, &mechanism, key);
        if (rv == CKR_OK) rv = s->f->C_Sign(session, (CK_BYTE_PTR)s->data, s->data_len, signature, &length);
        if (rv == CKR_OK) {
            w->operations++;
        } else {
            if (w->errors++ == 0) w->first_error = rv;
        }
    }
    s->f->C_CloseSession(session);
    return NULL;
}

int csl_run(const char *module, const char *token_label, const char *pin, const char *key_label,
            unsigned long mechanism, const unsigned char *data, unsigned long data_len, int threads, double seconds,
            csl_result *out) {
    memset(out, 0, sizeof(*out));
    if (threads < 1 || threads > 64) return -1;
    void *handle = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return -2;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
    struct shared s;
    memset(&s, 0, sizeof(s));
    if (!get || get(&s.f) != CKR_OK) return -3;
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = s.f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return -4;

    CK_SLOT_ID slots[64];
    CK_ULONG count = 64;
    if (s.f->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return -5;
    char padded[32];
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, token_label, strlen(token_label) < 32 ? strlen(token_label) : 32);
    int found = 0;
    for (CK_ULONG i = 0; i < count && !found; i++) {
        CK_TOKEN_INFO info;
        if (s.f->C_GetTokenInfo(slots[i], &info) == CKR_OK && memcmp(info.label, padded, 32) == 0) {
            s.slot = slots[i];
            found = 1;
        }
    }
    if (!found) return -6;

    s.pin = pin;
    s.key_label = key_label;
    s.mechanism = mechanism;
    s.data = data;
    s.data_len = data_len;
    pthread_barrier_init(&s.ready, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&s.go, NULL, (unsigned)threads + 1);
    struct worker workers[64];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < threads; i++) {
        workers[i].s = &s;
        pthread_create(&workers[i].thread, NULL, work, &workers[i]);
    }
    // Setup (sessions, login, key search) is outside the measured window, as it is for the pool.
    pthread_barrier_wait(&s.ready);
    double start = now();
    s.deadline = start + seconds;
    pthread_barrier_wait(&s.go);
    for (int i = 0; i < threads; i++) pthread_join(workers[i].thread, NULL);
    out->seconds = now() - start;
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        out->operations += workers[i].operations;
        out->errors += workers[i].errors;
        if (!out->first_error) out->first_error = workers[i].first_error;
        failed |= workers[i].setup_failed;
    }
    pthread_barrier_destroy(&s.ready);
    pthread_barrier_destroy(&s.go);
    return failed ? -7 : 0;
}
