#include "CSignLoop.h"
#include "LoopSupport.h"

#include <p11-kit-1/p11-kit/pkcs11.h>
#include <string.h>

struct shared {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    const char *pin;
    const char *key_label;
    unsigned long mechanism;
    const unsigned char *data;
    unsigned long data_len;
    struct csl_race race;
};

struct worker {
    struct csl_worker base;
    struct shared *s;
};

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *s = w->s;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key = 0;
    CK_RV rv = csl_session_with_key(s->f, s->slot, s->pin, CKO_PRIVATE_KEY, s->key_label, &session, &key);
    w->base.setup_failed = rv != CKR_OK;
    csl_race_ready(&s->race);
    if (w->base.setup_failed) return NULL;

    CK_MECHANISM mechanism = {s->mechanism, NULL, 0};
    unsigned char signature[1024];
    while (csl_now() < s->race.deadline) {
        CK_ULONG length = sizeof(signature);
        rv = s->f->C_SignInit(session, &mechanism, key);
        if (rv == CKR_OK) rv = s->f->C_Sign(session, (CK_BYTE_PTR)s->data, s->data_len, signature, &length);
        csl_count(&w->base, rv);
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
    struct worker workers[64];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < threads; i++) workers[i].s = &s;
    return csl_race_run(&s.race, threads, seconds, workers, sizeof(struct worker), work, out);
}
