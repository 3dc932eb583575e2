#ifndef CPKCS11_H
#define CPKCS11_H

// pkcs11.h from p11-kit (libp11-kit-dev), compatibility names (CK_ATTRIBUTE, pValue, ...).
#include <p11-kit-1/p11-kit/pkcs11.h>

/// Opens a PKCS#11 module with dlopen and resolves C_GetFunctionList.
/// On failure returns NULL and copies a message (dlerror or the failing step) into `error`.
void *cpkcs11_open(const char *path, CK_FUNCTION_LIST_PTR *functions, char *error, unsigned long error_len);

/// Closes a handle returned by cpkcs11_open.
void cpkcs11_close(void *handle);

/// Resolves a symbol in an open module (used by tests to reach the fault module's controls).
void *cpkcs11_symbol(void *handle, const char *name);

/// The C_Initialize arguments for a multi-threaded application that lets the module use OS locking.
CK_C_INITIALIZE_ARGS cpkcs11_os_locking_args(void);

#endif
