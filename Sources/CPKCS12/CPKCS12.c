#include "CPKCS12.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t providers_once = PTHREAD_ONCE_INIT;
/// Loaded once for the life of the process (never unloaded: other threads may be reading a file).
static OSSL_PROVIDER *default_provider;
static OSSL_PROVIDER *legacy_provider;

/// Files exported by older tools (Windows, Java, OpenSSL 1.1) use RC2 or 3DES with SHA-1, which OpenSSL
/// 3 keeps in its legacy provider. Loading any provider explicitly stops the implicit default one,
/// so both are loaded. A missing legacy module only means such files cannot be read.
static void load_providers(void) {
    default_provider = OSSL_PROVIDER_load(NULL, "default");
    legacy_provider = OSSL_PROVIDER_load(NULL, "legacy");
    ERR_clear_error();
}

static int fail(int status, char *message, size_t capacity, const char *text) {
    unsigned long code = ERR_peek_last_error();
    if (code != 0) {
        char detail[160];
        ERR_error_string_n(code, detail, sizeof detail);
        snprintf(message, capacity, "%s (%s)", text, detail);
    } else {
        snprintf(message, capacity, "%s", text);
    }
    ERR_clear_error();
    return status;
}

static int copy_der(X509 *certificate, custos_pkcs12_buffer *out) {
    unsigned char *der = NULL;
    int length = i2d_X509(certificate, &der);
    if (length <= 0) return 0;
    out->bytes = der;
    out->length = (size_t)length;
    return 1;
}

/// `number` as big-endian bytes, `padded` to a length or unpadded when 0.
static int copy_number(const BIGNUM *number, size_t padded, custos_pkcs12_buffer *out) {
    size_t length = padded ? padded : (size_t)BN_num_bytes(number);
    if (length == 0) length = 1;
    unsigned char *bytes = OPENSSL_secure_zalloc(length);
    if (bytes == NULL) return 0;
    if (BN_bn2binpad(number, bytes, (int)length) < 0) {
        OPENSSL_secure_clear_free(bytes, length);
        return 0;
    }
    out->bytes = bytes;
    out->length = length;
    return 1;
}

static int copy_parameter(EVP_PKEY *key, const char *name, size_t padded, custos_pkcs12_buffer *out) {
    BIGNUM *number = NULL;
    if (!EVP_PKEY_get_bn_param(key, name, &number)) return 0;
    int copied = copy_number(number, padded, out);
    BN_clear_free(number);
    return copied;
}

static int copy_key(EVP_PKEY *key, custos_pkcs12 *out) {
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
        static const char *names[8] = {
            OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,         OSSL_PKEY_PARAM_RSA_D,
            OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
            OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
        };
        out->key_kind = CUSTOS_PKCS12_RSA;
        out->key_bits = EVP_PKEY_get_bits(key);
        for (size_t index = 0; index < 8; index++) {
            if (!copy_parameter(key, names[index], 0, &out->key_parts[index])) return 0;
            out->key_part_count = index + 1;
        }
        return 1;
    }
    case EVP_PKEY_EC: {
        size_t length = 0;
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, out->curve, sizeof out->curve,
                                            &length))
            return 0;
        out->key_kind = CUSTOS_PKCS12_EC;
        out->key_bits = EVP_PKEY_get_bits(key);
        if (!copy_parameter(key, OSSL_PKEY_PARAM_PRIV_KEY, (size_t)(out->key_bits + 7) / 8, &out->key_parts[0]))
            return 0;
        out->key_part_count = 1;
        return 1;
    }
    default:
        return -1;
    }
}

int custos_pkcs12_parse(const unsigned char *der, size_t length, const char *password, custos_pkcs12 *out,
                        char *message, size_t message_capacity) {
    memset(out, 0, sizeof *out);
    pthread_once(&providers_once, load_providers);
    ERR_clear_error();
    const unsigned char *cursor = der;
    PKCS12 *file = d2i_PKCS12(NULL, &cursor, (long)length);
    if (file == NULL || cursor != der + length) {
        PKCS12_free(file);
        return fail(CUSTOS_PKCS12_NOT_PKCS12, message, message_capacity, "not a DER PKCS#12 file");
    }
    if (PKCS12_mac_present(file)) {
        int verified = PKCS12_verify_mac(file, password, -1) ||
                       (password[0] == 0 && PKCS12_verify_mac(file, NULL, 0));
        if (!verified) {
            PKCS12_free(file);
            return fail(CUSTOS_PKCS12_WRONG_PASSWORD, message, message_capacity,
                        "the password is wrong (the PKCS#12 integrity check fails)");
        }
    }
    EVP_PKEY *key = NULL;
    X509 *certificate = NULL;
    STACK_OF(X509) *others = NULL;
    int parsed = PKCS12_parse(file, password, &key, &certificate, &others);
    PKCS12_free(file);
    if (!parsed) {
        return fail(CUSTOS_PKCS12_WRONG_PASSWORD, message, message_capacity,
                    "the PKCS#12 contents cannot be decrypted with this password or are damaged");
    }
    int status = CUSTOS_PKCS12_OK;
    if (key != NULL && certificate != NULL && !X509_check_private_key(certificate, key)) {
        status = fail(CUSTOS_PKCS12_KEY_MISMATCH, message, message_capacity,
                      "the private key does not belong to the certificate");
    }
    if (status == CUSTOS_PKCS12_OK && key != NULL) {
        int copied = copy_key(key, out);
        if (copied < 0) {
            status = fail(CUSTOS_PKCS12_UNSUPPORTED_KEY, message, message_capacity,
                          "the private key is neither RSA nor EC");
        } else if (copied == 0) {
            status = fail(CUSTOS_PKCS12_FAILED, message, message_capacity, "the private key cannot be read");
        }
    }
    if (status == CUSTOS_PKCS12_OK && certificate != NULL && !copy_der(certificate, &out->certificate)) {
        status = fail(CUSTOS_PKCS12_FAILED, message, message_capacity, "the certificate cannot be encoded");
    }
    int count = others ? sk_X509_num(others) : 0;
    if (status == CUSTOS_PKCS12_OK && count > 0) {
        out->chain = OPENSSL_zalloc(sizeof(custos_pkcs12_buffer) * (size_t)count);
        for (int index = 0; out->chain != NULL && index < count; index++) {
            if (!copy_der(sk_X509_value(others, index), &out->chain[index])) break;
            out->chain_count = (size_t)index + 1;
        }
        if (out->chain_count != (size_t)count) {
            status = fail(CUSTOS_PKCS12_FAILED, message, message_capacity, "a certificate cannot be encoded");
        }
    }
    EVP_PKEY_free(key); // frees the key's numbers with BN_clear_free
    X509_free(certificate);
    sk_X509_pop_free(others, X509_free);
    if (status != CUSTOS_PKCS12_OK) custos_pkcs12_free(out);
    return status;
}

void custos_pkcs12_clear_key(custos_pkcs12 *contents) {
    for (size_t index = 0; index < contents->key_part_count; index++) {
        OPENSSL_secure_clear_free(contents->key_parts[index].bytes, contents->key_parts[index].length);
        contents->key_parts[index].bytes = NULL;
        contents->key_parts[index].length = 0;
    }
    contents->key_part_count = 0;
}

void custos_pkcs12_free(custos_pkcs12 *contents) {
    custos_pkcs12_clear_key(contents);
    OPENSSL_free(contents->certificate.bytes);
    for (size_t index = 0; index < contents->chain_count; index++) OPENSSL_free(contents->chain[index].bytes);
    OPENSSL_free(contents->chain);
    memset(contents, 0, sizeof *contents);
}
