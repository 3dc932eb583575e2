#include "CSignLoop.h"
#include "LoopSupport.h"

#include <p11-kit-1/p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// The vault's raw limit: AES-GCM C_Encrypt or C_Decrypt in a plain C loop, sharing no code with Custos.

struct gcm_shared {
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    const char *pin;
    const char *key_label;
    int decrypt;
    unsigned long data_len;
    struct csl_race race;
};

struct gcm_worker {
    struct csl_worker base;
    struct gcm_shared *s;
};

static void *gcm_work(void *arg) {
    struct gcm_worker *w = arg;
    struct gcm_shared *s = w->s;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key = 0;
    unsigned char iv[12], aad[40];
    memset(iv, 0x11, sizeof(iv));
    memset(aad, 0x22, sizeof(aad));
    CK_GCM_PARAMS params;
    memset(&params, 0, sizeof(params));
    params.iv_ptr = iv;
    params.iv_len = sizeof(iv);
    params.iv_bits = sizeof(iv) * 8;
    params.aad_ptr = aad;
    params.aad_len = sizeof(aad);
    params.tag_bits = 128;
    CK_MECHANISM mechanism = {CKM_AES_GCM, &params, sizeof(params)};
    unsigned char *plain = calloc(1, s->data_len + 16);
    unsigned char *sealed = calloc(1, s->data_len + 16);
    unsigned char *out = calloc(1, s->data_len + 16);
    CK_ULONG sealed_len = s->data_len + 16;

    CK_RV rv = csl_session_with_key(s->f, s->slot, s->pin, CKO_SECRET_KEY, s->key_label, &session, &key);
    // The ciphertext a decrypting worker opens again and again.
    if (rv == CKR_OK) rv = s->f->C_EncryptInit(session, &mechanism, key);
    if (rv == CKR_OK) rv = s->f->C_Encrypt(session, plain, s->data_len, sealed, &sealed_len);
    w->base.setup_failed = rv != CKR_OK;
    csl_race_ready(&s->race);
    if (!w->base.setup_failed) {
        while (csl_now() < s->race.deadline) {
            CK_ULONG length = s->data_len + 16;
            if (s->decrypt) {
                rv = s->f->C_DecryptInit(session, &mechanism, key);
                if (rv == CKR_OK) rv = s->f->C_Decrypt(session, sealed, sealed_len, out, &length);
            } else {
                rv = s->f->C_EncryptInit(session, &mechanism, key);
                if (rv == CKR_OK) rv = s->f->C_Encrypt(session, plain, s->data_len, out, &length);
            }
            csl_count(&w->base, rv);
        }
    }
    s->f->C_CloseSession(session);
    free(plain);
    free(sealed);
    free(out);
    return NULL;
}

int csl_run_gcm(const char *module, const char *token_label, const char *pin, const char *key_label, int decrypt,
                unsigned long data_len, int threads, double seconds, csl_result *out) {
    memset(out, 0, sizeof(*out));
    if (threads < 1 || threads > 64) return -1;
    struct gcm_shared s;
    memset(&s, 0, sizeof(s));
    int opened = csl_open_token(module, token_label, &s.f, &s.slot);
    if (opened != 0) return opened;
    s.pin = pin;
    s.key_label = key_label;
    s.decrypt = decrypt;
    s.data_len = data_len;
    struct gcm_worker workers[64];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < threads; i++) workers[i].s = &s;
    return csl_race_run(&s.race, threads, seconds, workers, sizeof(struct gcm_worker), gcm_work, out);
}
