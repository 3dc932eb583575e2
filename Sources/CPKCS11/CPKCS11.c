#include "CPKCS11.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *cpkcs11_open(const char *path, CK_FUNCTION_LIST_PTR *functions, char *error, unsigned long error_len) {
    *functions = NULL;
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *message = dlerror();
        snprintf(error, error_len, "%s", message ? message : "dlopen failed");
        return NULL;
    }
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
    if (get == NULL) {
        snprintf(error, error_len, "%s does not export C_GetFunctionList: not a PKCS#11 module", path);
        dlclose(handle);
        return NULL;
    }
    CK_RV rv = get(functions);
    if (rv != CKR_OK || *functions == NULL) {
        snprintf(error, error_len, "C_GetFunctionList failed with 0x%lx", (unsigned long)rv);
        dlclose(handle);
        return NULL;
    }
    return handle;
}

void cpkcs11_close(void *handle) {
    if (handle != NULL) dlclose(handle);
}

void *cpkcs11_symbol(void *handle, const char *name) { return dlsym(handle, name); }

CK_C_INITIALIZE_ARGS cpkcs11_os_locking_args(void) {
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof(args));
    args.flags = CKF_OS_LOCKING_OK;
    return args;
}
