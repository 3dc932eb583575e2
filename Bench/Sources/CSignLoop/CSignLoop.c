#include "CSignLoop.h"
#include "LoopSupport.h"

#include <p11-kit-1/p11-kit/pkcs11.h>
#include <pthread.h>
#include <string.h>

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
    CK_RV rv = csl_session_with_key(s->f, s->slot, s->pin, CKO_PRIVATE_KEY, s->key_label, &session, &key);
    w->setup_failed = rv != CKR_OK;
    pthread_barrier_wait(&s->ready);
    pthread_barrier_wait(&s->go);
    if (w->setup_failed) return NULL;

    CK_MECHANISM mechanism = {s->mechanism, NULL, 0};
    unsigned char signature[1024];
    while (csl_now() < s->deadline) {
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
    struct shared s;
    memset(&s, 0, sizeof(s));
    int opened = csl_open_token(module, token_label, &s.f, &s.slot);
    if (opened != 0) return opened;

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
    double start = csl_now();
    s.deadline = start + seconds;
    pthread_barrier_wait(&s.go);
    for (int i = 0; i < threads; i++) pthread_join(workers[i].thread, NULL);
    out->seconds = csl_now() - start;
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
