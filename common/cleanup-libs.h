/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cleanup helpers for the foreign types we use: OpenSSL, libcurl, cJSON, libyaml, libblkid.
 * Header-only: including it links nothing.
 */
#pragma once

#include <blkid.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <yaml.h>

#include "cleanup.h"

DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(X509_REQ, X509_REQ_free)
DEFINE_POINTER_CLEANUP(X509_NAME, X509_NAME_free)
DEFINE_POINTER_CLEANUP(X509_EXTENSION, X509_EXTENSION_free)
DEFINE_POINTER_CLEANUP(X509_STORE, X509_STORE_free)
DEFINE_POINTER_CLEANUP(X509_STORE_CTX, X509_STORE_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)
DEFINE_POINTER_CLEANUP(EVP_MAC, EVP_MAC_free)
DEFINE_POINTER_CLEANUP(EVP_MAC_CTX, EVP_MAC_CTX_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free_all)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)
DEFINE_POINTER_CLEANUP(ASN1_INTEGER, ASN1_INTEGER_free)
DEFINE_POINTER_CLEANUP(ASN1_TIME, ASN1_TIME_free)
DEFINE_POINTER_CLEANUP(ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)
DEFINE_POINTER_CLEANUP(GENERAL_NAMES, GENERAL_NAMES_free)
DEFINE_POINTER_CLEANUP(AUTHORITY_KEYID, AUTHORITY_KEYID_free)
DEFINE_POINTER_CLEANUP(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free)
DEFINE_POINTER_CLEANUP(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
static inline void sk_X509_pop_freep(STACK_OF(X509) * *s) {
        if (*s)
                sk_X509_pop_free(*s, X509_free);
}

DEFINE_POINTER_CLEANUP(CURL, curl_easy_cleanup)
DEFINE_POINTER_CLEANUP(struct curl_slist, curl_slist_free_all)

DEFINE_POINTER_CLEANUP(cJSON, cJSON_Delete)

/* For zero-initialised embedded structs: libyaml's delete functions accept those. */
static inline void yaml_parser_deletep(yaml_parser_t *p) {
        yaml_parser_delete(p);
}
static inline void yaml_emitter_deletep(yaml_emitter_t *e) {
        yaml_emitter_delete(e);
}
static inline void yaml_event_deletep(yaml_event_t *e) {
        yaml_event_delete(e);
}

DEFINE_POINTER_CLEANUP(struct blkid_struct_probe, blkid_free_probe)
DEFINE_POINTER_CLEANUP(struct blkid_struct_cache, blkid_put_cache)
