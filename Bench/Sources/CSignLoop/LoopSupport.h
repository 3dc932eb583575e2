#ifndef CSL_LOOP_SUPPORT_H
#define CSL_LOOP_SUPPORT_H

// What the raw loops share: the clock, loading the module and finding the token by label, and a
// worker's logged-in session with its key. Internal to this target.

#include <p11-kit-1/p11-kit/pkcs11.h>
#include <pthread.h>
#include <stddef.h>

#include "CSignLoop.h"

double csl_now(void);

/// Loads `module` (dlopen), initialises it unless someone in the process already did, and finds the
/// slot of the token labelled `token_label`. Returns 0, or -2 to -6 naming the step that failed.
int csl_open_token(const char *module, const char *token_label, CK_FUNCTION_LIST_PTR *functions, CK_SLOT_ID *slot);

/// Opens a session, logs in (a user already logged in is fine) and finds the one object of `cls`
/// labelled `label`. Returns CKR_OK, the failing call's CK_RV, or CKR_GENERAL_ERROR without one object.
CK_RV csl_session_with_key(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, const char *pin, CK_OBJECT_CLASS cls,
                           const char *label, CK_SESSION_HANDLE *session, CK_OBJECT_HANDLE *key);

/// What each worker thread of a raw loop counts; the first member of every loop's worker struct.
struct csl_worker {
    pthread_t thread;
    unsigned long operations, errors, first_error;
    int setup_failed;
};

/// The start line of one run's workers: each calls csl_race_ready once its session is set up (outside
/// the measured window, as for the pool), then works while csl_now() < deadline.
struct csl_race {
    double deadline;
    pthread_barrier_t ready;
    pthread_barrier_t go;
};

void csl_race_ready(struct csl_race *race);

/// Runs `work` on `threads` workers (`workers`, one every `stride` bytes, each starting with a
/// struct csl_worker), starts the clock when all are ready, joins them and adds up their counts in
/// `out`. Returns 0, or -7 when a worker's setup failed.
int csl_race_run(struct csl_race *race, int threads, double seconds, void *workers, size_t stride,
                 void *(*work)(void *), csl_result *out);

/// Counts one call's result in `w`.
void csl_count(struct csl_worker *w, CK_RV rv);

#endif
