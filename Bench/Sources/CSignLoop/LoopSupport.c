#include "LoopSupport.h"

#include <dlfcn.h>
#include <string.h>
#include <time.h>

double csl_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int csl_open_token(const char *module, const char *token_label, CK_FUNCTION_LIST_PTR *functions, CK_SLOT_ID *slot) {
    void *handle = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return -2;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR f = NULL;
    if (!get || get(&f) != CKR_OK) return -3;
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return -4;
    CK_SLOT_ID slots[64];
    CK_ULONG count = 64;
    if (f->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return -5;
    // Token labels are 32 bytes padded with spaces.
    char padded[32];
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, token_label, strlen(token_label) < 32 ? strlen(token_label) : 32);
    for (CK_ULONG i = 0; i < count; i++) {
        CK_TOKEN_INFO info;
        if (f->C_GetTokenInfo(slots[i], &info) == CKR_OK && memcmp(info.label, padded, 32) == 0) {
            *functions = f;
            *slot = slots[i];
            return 0;
        }
    }
    return -6;
}

CK_RV csl_session_with_key(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, const char *pin, CK_OBJECT_CLASS cls,
                           const char *label, CK_SESSION_HANDLE *session, CK_OBJECT_HANDLE *key) {
    CK_ULONG found = 0;
    CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, session);
    if (rv == CKR_OK) {
        rv = f->C_Login(*session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
        if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
    }
    if (rv == CKR_OK) rv = f->C_FindObjectsInit(*session, query, 2);
    if (rv == CKR_OK) rv = f->C_FindObjects(*session, key, 1, &found);
    if (rv == CKR_OK) rv = f->C_FindObjectsFinal(*session);
    if (rv == CKR_OK && found != 1) rv = CKR_GENERAL_ERROR;
    return rv;
}

void csl_race_ready(struct csl_race *race) {
    pthread_barrier_wait(&race->ready);
    pthread_barrier_wait(&race->go);
}

int csl_race_run(struct csl_race *race, int threads, double seconds, void *workers, size_t stride,
                 void *(*work)(void *), csl_result *out) {
    pthread_barrier_init(&race->ready, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&race->go, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        struct csl_worker *w = (struct csl_worker *)((char *)workers + (size_t)i * stride);
        pthread_create(&w->thread, NULL, work, w);
    }
    pthread_barrier_wait(&race->ready);
    double start = csl_now();
    race->deadline = start + seconds;
    pthread_barrier_wait(&race->go);
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        struct csl_worker *w = (struct csl_worker *)((char *)workers + (size_t)i * stride);
        pthread_join(w->thread, NULL);
        out->operations += w->operations;
        out->errors += w->errors;
        if (!out->first_error) out->first_error = w->first_error;
        failed |= w->setup_failed;
    }
    out->seconds = csl_now() - start;
    pthread_barrier_destroy(&race->ready);
    pthread_barrier_destroy(&race->go);
    return failed ? -7 : 0;
}

void csl_count(struct csl_worker *w, CK_RV rv) {
    if (rv == CKR_OK) {
        w->operations++;
    } else if (w->errors++ == 0) {
        w->first_error = rv;
    }
}
