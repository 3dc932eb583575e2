#include "CSignLoop.h"
#include "LoopSupport.h"

#include <p11-kit-1/p11-kit/pkcs11.h>
#include <pthread.h>
#include <string.h>

// The raw limit of device keys: C_GenerateKeyPair of P-256 session objects and C_DestroyObject of both,
// in a plain C loop sharing no code with Custos.

struct keygen_shared {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    const char *pin;
    struct csl_race race;
};

struct keygen_worker {
    struct csl_worker base;
    struct keygen_shared *s;
};

static void *keygen_work(void *arg) {
    struct keygen_worker *w = arg;
    struct keygen_shared *s = w->s;
    CK_SESSION_HANDLE session;
    CK_RV rv = s->f->C_OpenSession(s->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
    if (rv == CKR_OK) {
        rv = s->f->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)s->pin, strlen(s->pin));
        if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
    }
    w->base.setup_failed = rv != CKR_OK;
    // prime256v1
    CK_BYTE params[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
    CK_ATTRIBUTE public_template[] = {
        {CKA_EC_PARAMS, params, sizeof(params)}, {CKA_TOKEN, &no, sizeof(no)}, {CKA_VERIFY, &no, sizeof(no)}};
    CK_ATTRIBUTE private_template[] = {{CKA_TOKEN, &no, sizeof(no)}, {CKA_PRIVATE, &yes, sizeof(yes)},
                                       {CKA_SENSITIVE, &yes, sizeof(yes)}, {CKA_EXTRACTABLE, &yes, sizeof(yes)},
                                       {CKA_SIGN, &no, sizeof(no)}};
    CK_MECHANISM mechanism = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    csl_race_ready(&s->race);
    if (!w->base.setup_failed) {
        while (csl_now() < s->race.deadline) {
            CK_OBJECT_HANDLE public_key, private_key;
            rv = s->f->C_GenerateKeyPair(session, &mechanism, public_template, 3, private_template, 5, &public_key,
                                         &private_key);
            if (rv == CKR_OK) {
                s->f->C_DestroyObject(session, private_key);
                s->f->C_DestroyObject(session, public_key);
            }
            csl_count(&w->base, rv);
        }
    }
    s->f->C_CloseSession(session);
    return NULL;
}

int csl_run_keygen(const char *module, const char *token_label, const char *pin, int threads, double seconds,
                   csl_result *out) {
    memset(out, 0, sizeof(*out));
    if (threads < 1 || threads > 64) return -1;
    struct keygen_shared s;
    memset(&s, 0, sizeof(s));
    int opened = csl_open_token(module, token_label, &s.f, &s.slot);
    if (opened != 0) return opened;
    s.pin = pin;
    struct keygen_worker workers[64];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < threads; i++) workers[i].s = &s;
    return csl_race_run(&s.race, threads, seconds, workers, sizeof(struct keygen_worker), keygen_work, out);
}
