/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "pki/encoding.h"
#include "pki/envelope.h"
#include "pki/key.h"

int pki_envelope_seal(const unsigned char key[PKI_CERT_KEY_SIZE], const void *plain, size_t len,
                      unsigned char **ret, size_t *ret_len) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        _cleanup_free_ unsigned char *out = NULL;
        int n = 0, fin = 0;

        if (len > INT32_MAX - 64)
                return -EFBIG;
        out = malloc(PKI_ENVELOPE_NONCE_SIZE + len + PKI_ENVELOPE_TAG_SIZE);
        if (!ctx || !out)
                return -ENOMEM;
        if (RAND_bytes(out, PKI_ENVELOPE_NONCE_SIZE) != 1 ||
            !EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, out, NULL) ||
            !EVP_EncryptUpdate(ctx, out + PKI_ENVELOPE_NONCE_SIZE, &n, plain, (int) len) ||
            !EVP_EncryptFinal_ex(ctx, out + PKI_ENVELOPE_NONCE_SIZE + n, &fin) ||
            !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PKI_ENVELOPE_TAG_SIZE,
                                 out + PKI_ENVELOPE_NONCE_SIZE + len)) {
                ERR_clear_error();
                return -EIO;
        }
        *ret = TAKE_PTR(out);
        *ret_len = PKI_ENVELOPE_NONCE_SIZE + len + PKI_ENVELOPE_TAG_SIZE;
        return 0;
}

int pki_envelope_open(const unsigned char key[PKI_CERT_KEY_SIZE], const void *sealed, size_t len,
                      unsigned char **ret, size_t *ret_len) {
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        _cleanup_erase_ unsigned char *out = NULL;
        const unsigned char *in = sealed;
        unsigned char tag[PKI_ENVELOPE_TAG_SIZE];
        size_t clen;
        int n = 0, fin = 0;

        if (!ctx)
                return -ENOMEM;
        if (len < PKI_ENVELOPE_NONCE_SIZE + PKI_ENVELOPE_TAG_SIZE)
                return -EBADMSG;
        if (len > INT32_MAX)
                return -EFBIG;
        clen = len - PKI_ENVELOPE_NONCE_SIZE - PKI_ENVELOPE_TAG_SIZE;
        out = malloc(clen + 1);
        if (!out)
                return -ENOMEM;
        memcpy(tag, in + len - PKI_ENVELOPE_TAG_SIZE, sizeof(tag));
        if (!EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, in, NULL) ||
            !EVP_DecryptUpdate(ctx, out, &n, in + PKI_ENVELOPE_NONCE_SIZE, (int) clen) ||
            !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) ||
            EVP_DecryptFinal_ex(ctx, out + n, &fin) <= 0) {
                ERR_clear_error();
                return -EBADMSG;
        }
        out[clen] = 0;
        *ret = TAKE_PTR(out);
        *ret_len = clen;
        return 0;
}

void pki_secret_entries_free(struct pki_secret_entry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++)
                free(e[i].path);
        free(e);
}

int pki_kubeadm_certs_entries(const char *cert_dir, const struct pki_external_etcd *ext,
                              struct pki_secret_entry **ret, size_t *ret_n) {
        static const char *const shared[][2] = {
                {"ca.crt", "ca.crt"},
                {"ca.key", "ca.key"},
                {"front-proxy-ca.crt", "front-proxy-ca.crt"},
                {"front-proxy-ca.key", "front-proxy-ca.key"},
                {"sa.pub", "sa.pub"},
                {"sa.key", "sa.key"},
                {"etcd-ca.crt", "etcd/ca.crt"},
                {"etcd-ca.key", "etcd/ca.key"},
        };
        struct pki_secret_entry *e = calloc(ELEMENTSOF(shared) + 1, sizeof(*e));
        size_t n = 0;

        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(shared) - (ext ? 2 : 0); i++) {
                e[n].name = shared[i][0];
                e[n].path = strdupf("%s/%s", cert_dir, shared[i][1]);
                if (!e[n++].path)
                        goto oom;
        }
        if (ext) {
                const char *names[] = {"external-etcd-ca.crt", "external-etcd.crt", "external-etcd.key"};
                const char *paths[] = {ext->ca_file, ext->cert_file, ext->key_file};
                /* kubeadm lists all three even when a path is not configured; that entry stays empty. */
                for (size_t i = 0; i < 3; i++) {
                        e[n].name = names[i];
                        if (!isempty(paths[i]) && !(e[n].path = strdup(paths[i])))
                                goto oom;
                        n++;
                }
        }
        *ret = e;
        *ret_n = n;
        return 0;
oom:
        pki_secret_entries_free(e, n);
        return -ENOMEM;
}

int pki_kubeadm_certs_secret(const unsigned char key[PKI_CERT_KEY_SIZE], const char *root,
                             const char *cert_dir, const struct pki_external_etcd *ext, char **ret_json) {
        _cleanup_(cJSON_Deletep) cJSON *secret = NULL;
        struct pki_secret_entry *e = NULL;
        struct json_builder b = {};
        cJSON *o, *meta, *data;
        size_t n = 0;
        int r;

        r = pki_kubeadm_certs_entries(cert_dir, ext, &e, &n);
        if (r < 0)
                return r;
        o = jb_object(&b);
        jb_str(&b, o, "apiVersion", "v1");
        jb_str(&b, o, "kind", "Secret");
        meta = jb_obj(&b, o, "metadata");
        jb_str(&b, meta, "name", "kubeadm-certs");
        jb_str(&b, meta, "namespace", "kube-system");
        data = jb_obj(&b, o, "data");
        r = jb_finish(&b, o, &secret);
        if (r < 0)
                goto done;
        for (size_t i = 0; i < n; i++) {
                _cleanup_erase_ char *plain = NULL;
                _cleanup_free_ unsigned char *sealed = NULL;
                _cleanup_free_ char *b64 = NULL;
                size_t plain_len = 0, sealed_len = 0;

                r = e[i].path ? read_file(root, e[i].path, PKI_FILE_MAX, &plain, &plain_len) : -ENOENT;
                if (r == -ENOENT) {
                        r = jb_str(&b, data, e[i].name, "") ? 0 : jb_error(&b);
                        if (r < 0)
                                goto done;
                        continue;
                }
                if (r < 0) {
                        log_debug_errno(r, "Cannot read '%s': %m", e[i].path);
                        goto done;
                }
                r = pki_envelope_seal(key, plain, plain_len, &sealed, &sealed_len);
                if (r < 0)
                        goto done;
                b64 = base64_encode(sealed, sealed_len);
                if (!jb_str(&b, data, e[i].name, b64)) {
                        r = jb_error(&b);
                        goto done;
                }
        }
        *ret_json = json_to_string_pretty(secret);
        r = *ret_json ? 0 : -ENOMEM;
done:
        pki_secret_entries_free(e, n);
        return r;
}

void pki_secret_files_free(struct pki_secret_file *f, size_t n) {
        for (size_t i = 0; f && i < n; i++) {
                free(f[i].path);
                if (f[i].data) {
                        OPENSSL_cleanse(f[i].data, f[i].len);
                        free(f[i].data);
                }
        }
        free(f);
}

int pki_kubeadm_certs_open(const unsigned char key[PKI_CERT_KEY_SIZE], const char *json, size_t len,
                           const char *cert_dir, const struct pki_external_etcd *ext,
                           struct pki_secret_file **ret, size_t *ret_n, const char **ret_failed) {
        _cleanup_(cJSON_Deletep) cJSON *secret = NULL;
        struct pki_secret_entry *e = NULL;
        struct pki_secret_file *out = NULL;
        const cJSON *data;
        size_t n = 0, n_out = 0;
        int r;

        r = json_parse(json, len, PKI_SECRET_JSON_MAX, &secret, NULL);
        if (r < 0)
                return r == -EBADMSG ? -EINVAL : r;
        data = json_get(secret, "data");
        if (!cJSON_IsObject(secret) || !cJSON_IsObject(data))
                return -EINVAL;
        r = pki_kubeadm_certs_entries(cert_dir, ext, &e, &n);
        if (r < 0)
                return r;
        out = calloc(n, sizeof(*out));
        if (!out) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, e[i].name);
                _cleanup_free_ void *sealed = NULL;
                unsigned char *plain = NULL;
                size_t sealed_len = 0, plain_len = 0;

                if (ret_failed)
                        *ret_failed = e[i].name;
                if (!cJSON_IsString(v)) {
                        r = cJSON_IsNull(v) ? 0
                                            : -ENOENT; /* null: an empty value, as Go marshals nil bytes */
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (isempty(v->valuestring))
                        continue;
                if (!e[i].path) { /* an external etcd file this node has no path for */
                        r = -ENOENT;
                        goto fail;
                }
                r = pki_base64_decode(v->valuestring, strlen(v->valuestring), &sealed, &sealed_len);
                if (r < 0) {
                        r = -EBADMSG;
                        goto fail;
                }
                r = pki_envelope_open(key, sealed, sealed_len, &plain, &plain_len);
                if (r < 0)
                        goto fail;
                out[n_out].data = plain;
                out[n_out].len = plain_len;
                switch (pki_pem_classify(plain, plain_len)) {
                case PKI_PEM_KEY_MATERIAL:
                        out[n_out].mode = 0600;
                        break;
                case PKI_PEM_CERTIFICATES:
                        out[n_out].mode = 0644;
                        break;
                default:
                        n_out++;
                        r = -EBADMSG;
                        goto fail;
                }
                out[n_out].path = TAKE_PTR(e[i].path);
                n_out++;
        }
        if (ret_failed)
                *ret_failed = NULL;
        pki_secret_entries_free(e, n);
        *ret = out;
        *ret_n = n_out;
        return 0;
fail:
        pki_secret_files_free(out, n_out);
        pki_secret_entries_free(e, n);
        return r;
}

int pki_secret_files_install(const char *root, const struct pki_secret_file *f, size_t n,
                             char **ret_failed) {
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        int r = write_set_new(root, &set);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = write_set_add(set, f[i].path, f[i].data, f[i].len, f[i].mode);
        if (r >= 0)
                r = write_set_commit(set);
        if (r < 0) {
                const char *p = write_set_failed_path(set);
                log_debug_errno(r, "Cannot write '%s': %m", p ?: "?");
                if (ret_failed && p && !(*ret_failed = strdup(p)))
                        return -ENOMEM;
        }
        return r;
}

int pki_secret_files_write(const char *root, const struct pki_secret_file *f, size_t n) {
        return pki_secret_files_install(root, f, n, NULL);
}
