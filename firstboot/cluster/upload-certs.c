/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/upload-certs.h"
#include "manifests/objects.h"
#include "pki/encoding.h"
#include "pki/token.h"

/* Six base-36 characters from the node name: the same node always owns kubeadm-certs with the same token. */
static int owner_token_id(const char *owner, char id[PKI_TOKEN_ID_LEN + 1]) {
        static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
        unsigned char md[32];
        unsigned len = 0;
        _cleanup_free_ char *in = strdupf("kube-firstboot kubeadm-certs owner %s", owner ?: "");
        if (!in || EVP_Digest(in, strlen(in), md, &len, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        for (size_t i = 0; i < PKI_TOKEN_ID_LEN; i++)
                id[i] = alphabet[md[i] % 36];
        id[PKI_TOKEN_ID_LEN] = 0;
        return 0;
}

static int parse_key(const char *hex, unsigned char key[PKI_CERT_KEY_SIZE]) {
        return hex ? pki_certificate_key_parse(hex, key) : -EINVAL;
}

/* Parses an RFC 3339 UTC time as bootstrap tokens carry it. */
static time_t parse_rfc3339(const char *s) {
        struct tm tm = {};
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        if (!end || *end)
                return 0;
        return timegm(&tm);
}

int fb_certs_upload(struct kube_client *c, const struct fb_certs_upload *u, struct error *why) {
        unsigned char key[PKI_CERT_KEY_SIZE];
        _cleanup_erase_ char *secret_json = NULL;
        _cleanup_free_ char *owner = NULL, *path = NULL, *exp64 = NULL;
        _cleanup_(cJSON_Deletep) cJSON *secret = NULL, *token_obj = NULL, *created = NULL;
        char token[PKI_TOKEN_LEN + 1], id[PKI_TOKEN_ID_LEN + 1], unused_id[PKI_TOKEN_ID_LEN + 1],
                sec[PKI_TOKEN_SECRET_LEN + 1], exp[32];
        int r;

        r = parse_key(u->certificate_key, key);
        if (r < 0)
                return error_set(why, r, "the certificate key is not 64 hex digits");

        /* The owner: a token that can neither authenticate nor sign, only expire. Its id is fixed per node,
         * so a re-run after a crash, or a refresh, renews the same token instead of leaving orphans. */
        r = owner_token_id(u->owner, id);
        if (r >= 0)
                r = pki_token_generate(token);
        if (r >= 0)
                r = pki_token_parse(token, unused_id, sec);
        if (r >= 0)
                r = mf_expiration_at(kube_client_now(c), FB_CERTS_TOKEN_TTL_S, exp);
        if (r < 0)
                goto out;
        token_obj = mf_bootstrap_token_secret(&(struct mf_token){
                .id = id, .secret = sec, .description = FB_CERTS_TOKEN_DESC, .expiration = exp});
        if (!token_obj) {
                r = -ENOMEM;
                goto out;
        }
        path = strdupf("/api/v1/namespaces/kube-system/secrets/bootstrap-token-%s", id);
        exp64 = base64_encode(exp, strlen(exp));
        if (!path || !exp64) {
                r = -ENOMEM;
                goto out;
        }
        /* Created, or ours from before renewed: a new expiry, the same uid (kubeadm-certs may already point
         * at it). An expired one can vanish between the two (the token cleaner): then it is created again.
         */
        for (int attempt = 0; attempt < 5; attempt++) {
                cJSON_Delete(created);
                created = NULL;
                r = kube_create(c, "/api/v1/namespaces/kube-system/secrets", token_obj, &created);
                if (r != -EEXIST)
                        break;
                cJSON_Delete(created);
                created = NULL;
                r = kube_get(c, path, &created);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        break;
                cJSON *data = cJSON_GetObjectItem(created, "data");
                if (!data || json_set_string(data, "expiration", exp64) < 0) {
                        r = -EBADMSG;
                        break;
                }
                _cleanup_(cJSON_Deletep) cJSON *updated = NULL;
                r = kube_update(c, path, created, &updated);
                if (r >= 0) {
                        cJSON_Delete(created);
                        created = TAKE_PTR(updated);
                }
                if (r != -ESTALE && r != -ENOENT)
                        break;
        }
        if (r < 0) {
                r = error_set(why, r, "cannot create or renew the kubeadm-certs owner token: %s",
                              kube_client_error(c));
                goto out;
        }
        const char *uid = json_get_string(created, "metadata.uid");
        if (!uid) {
                r = error_set(why, -EBADMSG, "the API returned the owner token without a uid");
                goto out;
        }

        r = pki_kubeadm_certs_secret(key, u->root, u->cert_dir, u->ext, &secret_json);
        if (r < 0) {
                r = error_set(why, r, "cannot seal the shared keys under %s: %s", u->cert_dir, strerror(-r));
                goto out;
        }
        r = json_parse(secret_json, strlen(secret_json), 8 * 1024 * 1024, &secret, NULL);
        if (r < 0)
                goto out;
        struct json_builder b = {};
        cJSON *ref =
                jb_obj(&b, jb_arr(&b, cJSON_GetObjectItem(secret, "metadata"), "ownerReferences"), NULL);
        owner = strdupf("bootstrap-token-%s", id);
        jb_str(&b, ref, "apiVersion", "v1");
        jb_str(&b, ref, "kind", "Secret");
        jb_str(&b, ref, "name", owner);
        jb_str(&b, ref, "uid", uid);
        jb_bool(&b, ref, "controller", true);
        jb_bool(&b, ref, "blockOwnerDeletion", true);
        r = jb_error(&b);
        if (r < 0)
                goto out;
        r = kube_apply(c, "/api/v1/namespaces/kube-system/secrets", secret);
        if (r < 0) {
                r = error_set(why, r, "cannot create or update kube-system/kubeadm-certs: %s",
                              kube_client_error(c));
                goto out;
        }

        /* The joiners' read access, created after the Secret as kubeadm does. */
        static const char *const get[] = {"get", NULL}, *const core[] = {"", NULL};
        static const char *const secrets[] = {"secrets", NULL}, *const names[] = {"kubeadm-certs", NULL};
        const struct mf_subject tokens = {"Group", MF_DEFAULT_NODE_TOKEN_GROUP, NULL};
        cJSON *rbac[2] = {
                mf_role("kube-system", "kubeadm:kubeadm-certs",
                        &(struct mf_rule){get, core, secrets, names}),
                mf_role_binding("kube-system", "kubeadm:kubeadm-certs", "Role", "kubeadm:kubeadm-certs",
                                &tokens, 1),
        };
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *col = rbac[i] ? mf_collection_path(rbac[i]) : NULL;
                if (r >= 0)
                        r = col ? kube_apply(c, col, rbac[i]) : -ENOMEM;
                if (r < 0 && r != -ENOMEM)
                        r = error_set(why, r, "cannot create or update the kubeadm:kubeadm-certs RBAC: %s",
                                      kube_client_error(c));
                cJSON_Delete(rbac[i]);
        }
out:
        OPENSSL_cleanse(key, sizeof(key));
        OPENSSL_cleanse(token, sizeof(token));
        OPENSSL_cleanse(sec, sizeof(sec));
        return r;
}

int fb_certs_uploaded(struct kube_client *c, const struct fb_certs_upload *u, long long min_left_s,
                      time_t *ret_expires) {
        _cleanup_(cJSON_Deletep) cJSON *secret = NULL, *owner = NULL;
        _cleanup_erase_ char *text = NULL;
        unsigned char key[PKI_CERT_KEY_SIZE];
        struct pki_secret_file *files = NULL;
        size_t n = 0;
        time_t expires = 0;
        int r;

        r = kube_get(c, FB_KUBEADM_CERTS_PATH, &secret);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = parse_key(u->certificate_key, key);
        if (r < 0)
                return r;
        text = cJSON_PrintUnformatted(secret);
        if (!text) {
                OPENSSL_cleanse(key, sizeof(key));
                return -ENOMEM;
        }
        r = pki_kubeadm_certs_open(key, text, strlen(text), u->cert_dir, u->ext, &files, &n, NULL);
        OPENSSL_cleanse(key, sizeof(key));
        pki_secret_files_free(files, n);
        if (r == -EBADMSG || r == -ENOENT || r == -EINVAL)
                return 0; /* another key, or not complete: upload again */
        if (r < 0)
                return r;

        const cJSON *ref = cJSON_GetArrayItem(json_get(secret, "metadata.ownerReferences"), 0);
        const char *name = json_get_string(ref, "name");
        if (!name)
                return 0;
        _cleanup_free_ char *path = strdupf("/api/v1/namespaces/kube-system/secrets/%s", name);
        if (!path)
                return -ENOMEM;
        r = kube_get(c, path, &owner);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        const char *b64 = json_get_string(owner, "data.expiration");
        if (b64) {
                _cleanup_free_ char *exp = NULL;
                void *raw = NULL;
                size_t len;
                if (pki_base64_decode(b64, strlen(b64), &raw, &len) >= 0) {
                        exp = strndup(raw, len);
                        free(raw);
                        if (exp)
                                expires = parse_rfc3339(exp);
                }
        }
        if (ret_expires)
                *ret_expires = expires;
        if (expires == 0)
                return 0;
        return (long long) (expires - kube_client_now(c)) >= min_left_s;
}

void fb_certs_upload_describe(const struct fb_certs_upload *u, FILE *out) {
        fprintf(out,
                "      create Secret kube-system/bootstrap-token-<new id> (%s, expires in 2h)\n"
                "      create or update Secret kube-system/kubeadm-certs (files of %s sealed with the certificate key, owned by that token)\n"
                "      create or update Role and RoleBinding kube-system/kubeadm:kubeadm-certs\n",
                FB_CERTS_TOKEN_DESC, u->cert_dir);
}
