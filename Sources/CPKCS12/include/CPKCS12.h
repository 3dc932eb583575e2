#ifndef CUSTOS_CPKCS12_H
#define CUSTOS_CPKCS12_H

#include <stddef.h>

/// Reading PKCS#12 files with OpenSSL's libcrypto. Used only to import a CA key into the HSM and the
/// certificates of a PKCS#12 bundle; the private key parts live in memory that
/// custos_pkcs12_free clears before freeing.

enum custos_pkcs12_status {
    CUSTOS_PKCS12_OK = 0,
    CUSTOS_PKCS12_NOT_PKCS12 = 1,
    CUSTOS_PKCS12_WRONG_PASSWORD = 2,
    CUSTOS_PKCS12_UNSUPPORTED_KEY = 3,
    CUSTOS_PKCS12_KEY_MISMATCH = 4,
    CUSTOS_PKCS12_FAILED = 5,
};

enum custos_pkcs12_key_kind {
    CUSTOS_PKCS12_NO_KEY = 0,
    CUSTOS_PKCS12_RSA = 1,
    CUSTOS_PKCS12_EC = 2,
};

typedef struct {
    unsigned char *bytes;
    size_t length;
} custos_pkcs12_buffer;

typedef struct {
    int key_kind;
    /// RSA: the modulus size in bits; EC: the field size in bits.
    int key_bits;
    /// EC: the OpenSSL group name ("prime256v1", "secp384r1", "secp521r1").
    char curve[32];
    /// RSA: n, e, d, p, q, d mod (p-1), d mod (q-1), q^-1 mod p (big-endian, unpadded).
    /// EC: the private value, padded to the group order's size.
    custos_pkcs12_buffer key_parts[8];
    size_t key_part_count;
    /// The key's certificate (DER), if the file has one.
    custos_pkcs12_buffer certificate;
    /// The other certificates (DER), in file order.
    custos_pkcs12_buffer *chain;
    size_t chain_count;
} custos_pkcs12;

/// Parses `der` with `password` (NUL-terminated; "" for none). On success `out` owns its buffers
/// until custos_pkcs12_free. On failure `message` says why (no secret in it) and `out` is empty.
int custos_pkcs12_parse(const unsigned char *der, size_t length, const char *password, custos_pkcs12 *out,
                        char *message, size_t message_capacity);

/// Clears the key parts, then frees every buffer of `contents`.
void custos_pkcs12_free(custos_pkcs12 *contents);

/// Clears only the key parts (after they went to the HSM); certificates stay readable.
void custos_pkcs12_clear_key(custos_pkcs12 *contents);

#endif
