#include "CFaultPKCS11.h"
#include "CPKCS11.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RULES 64

struct rule {
    char function[48];
    unsigned long rv;
    unsigned long remaining;  // injected failures left
    unsigned long micros;     // latency per call
    unsigned long calls;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int rule_count;
static unsigned long removed_rv;  // non-zero: the device is gone until C_Initialize
static char target_path[4096];
static void *target_handle;
static CK_FUNCTION_LIST_PTR target;
static CK_FUNCTION_LIST wrapped;

static struct rule *rule_for(const char *function) {
    for (int i = 0; i < rule_count; i++)
        if (strcmp(rules[i].function, function) == 0) return &rules[i];
    if (rule_count == MAX_RULES) return NULL;
    struct rule *r = &rules[rule_count++];
    memset(r, 0, sizeof(*r));
    strncpy(r->function, function, sizeof(r->function) - 1);
    return r;
}

void custos_fault_set_target(const char *path) {
    pthread_mutex_lock(&lock);
    strncpy(target_path, path, sizeof(target_path) - 1);
    pthread_mutex_unlock(&lock);
}

void custos_fault_inject(const char *function, unsigned long rv, unsigned long count) {
    pthread_mutex_lock(&lock);
    struct rule *r = rule_for(function);
    if (r) { r->rv = rv; r->remaining = count; }
    pthread_mutex_unlock(&lock);
}

void custos_fault_remove_device(unsigned long rv) {
    pthread_mutex_lock(&lock);
    removed_rv = rv;
    pthread_mutex_unlock(&lock);
}

void custos_fault_latency(const char *function, unsigned long micros) {
    pthread_mutex_lock(&lock);
    struct rule *r = rule_for(function);
    if (r) r->micros = micros;
    pthread_mutex_unlock(&lock);
}

unsigned long custos_fault_calls(const char *function) {
    pthread_mutex_lock(&lock);
    struct rule *r = rule_for(function);
    unsigned long calls = r ? r->calls : 0;
    pthread_mutex_unlock(&lock);
    return calls;
}

void custos_fault_reset(void) {
    pthread_mutex_lock(&lock);
    rule_count = 0;
    removed_rv = 0;
    pthread_mutex_unlock(&lock);
}

// Returns 1 and sets *rv when the call must fail; sleeps for configured latency otherwise.
static int fault(const char *function, CK_RV *rv) {
    unsigned long micros = 0;
    int fail = 0;
    pthread_mutex_lock(&lock);
    struct rule *r = rule_for(function);
    struct rule *any = NULL;
    for (int i = 0; i < rule_count; i++)
        if (strcmp(rules[i].function, "*") == 0) any = &rules[i];
    if (r) {
        r->calls++;
        micros = r->micros;
    }
    if (strcmp(function, "C_Initialize") == 0) removed_rv = 0;
    if (removed_rv != 0 && strcmp(function, "C_Finalize") != 0) {
        *rv = removed_rv;
        fail = 1;
    } else if (r && r->remaining > 0) {
        r->remaining--;
        *rv = r->rv;
        fail = 1;
    } else if (any && any->remaining > 0) {
        any->remaining--;
        *rv = any->rv;
        fail = 1;
    }
    pthread_mutex_unlock(&lock);
    if (!fail && micros > 0) usleep((useconds_t)micros);
    return fail;
}

#define WRAP(name, params, args)                        \
    static CK_RV fault_##name params {                  \
        CK_RV rv;                                       \
        if (fault(#name, &rv)) return rv;               \
        return target->name args;                       \
    }

WRAP(C_Initialize, (void *a), (a))
WRAP(C_Finalize, (void *a), (a))
WRAP(C_GetInfo, (CK_INFO_PTR i), (i))
WRAP(C_GetSlotList, (CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR c), (p, l, c))
WRAP(C_GetSlotInfo, (CK_SLOT_ID s, CK_SLOT_INFO_PTR i), (s, i))
WRAP(C_GetTokenInfo, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), (s, i))
WRAP(C_GetMechanismList, (CK_SLOT_ID s, CK_MECHANISM_TYPE_PTR l, CK_ULONG_PTR c), (s, l, c))
WRAP(C_GetMechanismInfo, (CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i), (s, t, i))
WRAP(C_InitToken, (CK_SLOT_ID s, CK_UTF8CHAR_PTR p, CK_ULONG l, CK_UTF8CHAR_PTR b), (s, p, l, b))
WRAP(C_InitPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR p, CK_ULONG l), (s, p, l))
WRAP(C_OpenSession, (CK_SLOT_ID s, CK_FLAGS f, void *a, CK_NOTIFY n, CK_SESSION_HANDLE_PTR h), (s, f, a, n, h))
WRAP(C_CloseSession, (CK_SESSION_HANDLE s), (s))
WRAP(C_CloseAllSessions, (CK_SLOT_ID s), (s))
WRAP(C_GetSessionInfo, (CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR i), (s, i))
WRAP(C_Login, (CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG l), (s, u, p, l))
WRAP(C_Logout, (CK_SESSION_HANDLE s), (s))
WRAP(C_CreateObject, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR o), (s, t, c, o))
WRAP(C_DestroyObject, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o), (s, o))
WRAP(C_GetAttributeValue, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG c), (s, o, t, c))
WRAP(C_SetAttributeValue, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG c), (s, o, t, c))
WRAP(C_FindObjectsInit, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG c), (s, t, c))
WRAP(C_FindObjects, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG m, CK_ULONG_PTR c), (s, o, m, c))
WRAP(C_FindObjectsFinal, (CK_SESSION_HANDLE s), (s))
WRAP(C_EncryptInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k))
WRAP(C_Encrypt, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR e, CK_ULONG_PTR el), (s, d, dl, e, el))
WRAP(C_DecryptInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k))
WRAP(C_Decrypt, (CK_SESSION_HANDLE s, CK_BYTE_PTR e, CK_ULONG el, CK_BYTE_PTR d, CK_ULONG_PTR dl), (s, e, el, d, dl))
WRAP(C_SignInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k))
WRAP(C_Sign, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR g, CK_ULONG_PTR gl), (s, d, dl, g, gl))
WRAP(C_VerifyInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k))
WRAP(C_Verify, (CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR g, CK_ULONG gl), (s, d, dl, g, gl))
WRAP(C_GenerateKey, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG c, CK_OBJECT_HANDLE_PTR k),
     (s, m, t, c, k))
WRAP(C_GenerateKeyPair,
     (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt, CK_ULONG pc, CK_ATTRIBUTE_PTR vt, CK_ULONG vc,
      CK_OBJECT_HANDLE_PTR pk, CK_OBJECT_HANDLE_PTR vk),
     (s, m, pt, pc, vt, vc, pk, vk))
WRAP(C_WrapKey,
     (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE w, CK_OBJECT_HANDLE k, CK_BYTE_PTR o, CK_ULONG_PTR ol),
     (s, m, w, k, o, ol))
WRAP(C_UnwrapKey,
     (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE u, CK_BYTE_PTR w, CK_ULONG wl, CK_ATTRIBUTE_PTR t,
      CK_ULONG c, CK_OBJECT_HANDLE_PTR k),
     (s, m, u, w, wl, t, c, k))
WRAP(C_GenerateRandom, (CK_SESSION_HANDLE s, CK_BYTE_PTR b, CK_ULONG l), (s, b, l))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    pthread_mutex_lock(&lock);
    if (target == NULL) {
        const char *path = target_path[0] ? target_path : getenv("CUSTOS_FAULT_TARGET");
        char error[512];
        if (path != NULL) target_handle = cpkcs11_open(path, &target, error, sizeof(error));
        if (target == NULL) {
            pthread_mutex_unlock(&lock);
            return CKR_GENERAL_ERROR;
        }
        // Functions not listed below go straight to the real module.
        wrapped = *target;
#define USE(name) wrapped.name = fault_##name;
        USE(C_Initialize) USE(C_Finalize) USE(C_GetInfo) USE(C_GetSlotList) USE(C_GetSlotInfo)
        USE(C_GetTokenInfo) USE(C_GetMechanismList) USE(C_GetMechanismInfo) USE(C_InitToken) USE(C_InitPIN)
        USE(C_OpenSession) USE(C_CloseSession) USE(C_CloseAllSessions) USE(C_GetSessionInfo) USE(C_Login)
        USE(C_Logout) USE(C_CreateObject) USE(C_DestroyObject) USE(C_GetAttributeValue) USE(C_SetAttributeValue)
        USE(C_FindObjectsInit) USE(C_FindObjects) USE(C_FindObjectsFinal) USE(C_EncryptInit) USE(C_Encrypt)
        USE(C_DecryptInit) USE(C_Decrypt) USE(C_SignInit) USE(C_Sign) USE(C_VerifyInit) USE(C_Verify)
        USE(C_GenerateKey) USE(C_GenerateKeyPair) USE(C_WrapKey) USE(C_UnwrapKey) USE(C_GenerateRandom)
#undef USE
    }
    pthread_mutex_unlock(&lock);
    *list = &wrapped;
    return CKR_OK;
}
