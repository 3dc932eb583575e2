#ifndef CSIGNLOOP_H
#define CSIGNLOOP_H

/// What one raw run measured.
typedef struct {
    double seconds;             // wall time of the measured loop
    unsigned long operations;   // successful C_Sign calls, all threads together
    unsigned long errors;       // failed calls
    unsigned long first_error;  // the first CK_RV that was not CKR_OK
} csl_result;

/// Signs `data` with the private key labelled `key_label` on the token labelled `token_label`, from
/// `threads` threads, each with its own session, for `seconds`. The module is loaded with dlopen; it is
/// initialised unless someone in the process already did, and never finalized (others may use it).
/// Returns 0, or a negative number naming the setup step that failed.
int csl_run(const char *module, const char *token_label, const char *pin, const char *key_label,
            unsigned long mechanism, const unsigned char *data, unsigned long data_len, int threads, double seconds,
            csl_result *out);

/// AES-GCM in the HSM with the secret key labelled `key_label`: C_EncryptInit/C_Encrypt (or, with
/// `decrypt`, C_DecryptInit/C_Decrypt of a ciphertext made once per thread) of `data_len` bytes with
/// 40 bytes of associated data and a 128-bit tag, from `threads` threads with a session each, for
/// `seconds`. The vault's raw limit. Returns 0 or a negative setup step, like csl_run.
int csl_run_gcm(const char *module, const char *token_label, const char *pin, const char *key_label, int decrypt,
                unsigned long data_len, int threads, double seconds, csl_result *out);

/// P-256 key pairs generated as session objects (private: sensitive, extractable, as device keys are
/// made) and destroyed again, from `threads` threads with a session each, for `seconds`: the raw limit
/// of device keys. Returns 0 or a negative setup step, like csl_run.
int csl_run_keygen(const char *module, const char *token_label, const char *pin, int threads, double seconds,
                   csl_result *out);

#endif
