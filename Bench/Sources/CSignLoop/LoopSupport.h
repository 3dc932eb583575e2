#ifndef CSL_LOOP_SUPPORT_H
#define CSL_LOOP_SUPPORT_H

// What the raw loops share: the clock, loading the module and finding the token by label, and a
// worker's logged-in session with its key. Internal to this target.

#include <p11-kit-1/p11-kit/pkcs11.h>

double csl_now(void);

/// Loads `module` (dlopen), initialises it unless someone in the process already did, and finds the
/// slot of the token labelled `token_label`. Returns 0, or -2 to -6 naming the step that failed.
int csl_open_token(const char *module, const char *token_label, CK_FUNCTION_LIST_PTR *functions, CK_SLOT_ID *slot);

/// Opens a session, logs in (a user already logged in is fine) and finds the one object of `cls`
/// labelled `label`. Returns CKR_OK, the failing call's CK_RV, or CKR_GENERAL_ERROR without one object.
CK_RV csl_session_with_key(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, const char *pin, CK_OBJECT_CLASS cls,
                           const char *label, CK_SESSION_HANDLE *session, CK_OBJECT_HANDLE *key);

#endif
