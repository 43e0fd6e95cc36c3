/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "pki/encoding.h"
#include "pki/kubeconfig.h"

/* A name as a YAML scalar: plain when it reads back as the same string, double-quoted otherwise. */
static char *yaml_scalar(const char *s) {
        bool plain = !isempty(s) && !yaml_plain_scalar_is_typed(s) &&
                     strchr(" -?:,[]{}#&*!|>'\"%@`", s[0]) == NULL && !strstr(s, ": ") && !strstr(s, " #") &&
                     !endswith(s, ":") && !endswith(s, " ");
        size_t n = 3;
        char *out, *o;

        for (const char *p = s; plain && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        plain = false;
        if (plain)
                return strdup(s);
        for (const char *p = s; *p; p++)
                n += (unsigned char) *p < 0x20 || *p == '"' || *p == '\\' ? 4 : 1;
        o = out = malloc(n);
        if (!out)
                return NULL;
        *o++ = '"';
        for (const char *p = s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = *p;
                } else if ((unsigned char) *p < 0x20)
                        o += sprintf(o, "\\x%02x", (unsigned char) *p);
                else
                        *o++ = *p;
        }
        *o++ = '"';
        *o = 0;
        return out;
}

int pki_kubeconfig_render(const char *server, const char *cluster, const char *user, const char *ca_pem,
                          const char *cert_pem, const char *key_pem, char **ret) {
        static const char fmt[] = "apiVersion: v1\n"
                                  "clusters:\n"
                                  "- cluster:\n"
                                  "    certificate-authority-data: %s\n"
                                  "    server: %s\n"
                                  "  name: %s\n"
                                  "contexts:\n"
                                  "- context:\n"
                                  "    cluster: %s\n"
                                  "    user: %s\n"
                                  "  name: %s\n"
                                  "current-context: %s\n"
                                  "kind: Config\n"
                                  "preferences: {}\n"
                                  "users:\n"
                                  "- name: %s\n"
                                  "  user:\n"
                                  "    client-certificate-data: %s\n"
                                  "    client-key-data: %s\n";
        _cleanup_free_ char *ca64 = base64_encode(ca_pem, strlen(ca_pem));
        _cleanup_free_ char *cert64 = base64_encode(cert_pem, strlen(cert_pem));
        _cleanup_erase_ char *key64 = base64_encode(key_pem, strlen(key_pem));
        _cleanup_free_ char *context = strdupf("%s@%s", user, cluster);
        _cleanup_free_ char *q_server = yaml_scalar(server), *q_cluster = yaml_scalar(cluster),
                            *q_user = yaml_scalar(user), *q_context = context ? yaml_scalar(context) : NULL;
        char *out;
        int n;

        if (!ca64 || !cert64 || !key64 || !context || !q_server || !q_cluster || !q_user || !q_context)
                return -ENOMEM;
        /* Measured first and written once: the key never sits in a buffer that is reallocated and left
         * behind unwiped. */
        n = snprintf(NULL, 0, fmt, ca64, q_server, q_cluster, q_cluster, q_user, q_context, q_context,
                     q_user, cert64, key64);
        if (n < 0)
                return -EINVAL;
        out = malloc((size_t) n + 1);
        if (!out)
                return -ENOMEM;
        (void) snprintf(out, (size_t) n + 1, fmt, ca64, q_server, q_cluster, q_cluster, q_user, q_context,
                        q_context, q_user, cert64, key64);
        *ret = out;
        return 0;
}

static const cJSON *find_named(const cJSON *list, const char *name) {
        const cJSON *i;
        cJSON_ArrayForEach(i, list) {
                const char *n = json_get_string(i, "name");
                if (n && streq(n, name))
                        return i;
        }
        return NULL;
}

/* The current context of a kubeconfig document and the cluster and user entries it names (NULL members
 * when absent). The entries are the document's own: renewal edits them in place. */
struct current_context {
        const cJSON *context;
        const char *cluster_name, *user_name;
        cJSON *cluster, *user;
};

static struct current_context find_current(const cJSON *doc) {
        struct current_context c = {};
        const char *current = json_get_string(doc, "current-context");

        c.context = current ? find_named(json_get(doc, "contexts"), current) : NULL;
        c.cluster_name = json_get_string(c.context, "context.cluster");
        c.user_name = json_get_string(c.context, "context.user");
        c.cluster = c.cluster_name ? (cJSON *) find_named(json_get(doc, "clusters"), c.cluster_name) : NULL;
        c.user = c.user_name ? (cJSON *) find_named(json_get(doc, "users"), c.user_name) : NULL;
        return c;
}

static int take_data(const cJSON *obj, const char *field, char **ret, size_t *ret_len) {
        const char *v = json_get_string(obj, field);
        void *p = NULL;
        if (!v)
                return 0;
        if (pki_base64_decode(v, strlen(v), &p, ret_len) < 0)
                return -EBADMSG;
        *ret = p;
        return 0;
}

static int take_string(const cJSON *obj, const char *field, char **ret) {
        const char *v = json_get_string(obj, field);
        if (!v)
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

int pki_kubeconfig_parse(const char *yaml, size_t len, struct pki_kubeconfig *ret) {
        _cleanup_(json_delete_wipedp) cJSON *docs = NULL; /* holds the client key */
        struct pki_kubeconfig k = {};
        const cJSON *doc, *cluster, *user;
        int r;

        r = yaml_parse_documents(yaml, len, &docs, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        doc = cJSON_GetArrayItem(docs, 0);
        struct current_context cur = find_current(doc);
        cluster = cur.cluster;
        user = cur.user;
        /* cluster-info's kubeconfig: one cluster named "", no context, no user. */
        if (!cur.context && cJSON_GetArraySize(json_get(doc, "clusters")) == 1)
                cluster = cJSON_GetArrayItem(json_get(doc, "clusters"), 0);
        if (!cluster)
                return -EBADMSG;
        cluster = json_get(cluster, "cluster");
        user = json_get(user, "user");

        r = take_string(cluster, "server", &k.server);
        if (r == 0)
                r = take_data(cluster, "certificate-authority-data", &k.ca_pem, &k.ca_len);
        if (r == 0 && user)
                r = take_data(user, "client-certificate-data", &k.cert_pem, &k.cert_len);
        if (r == 0 && user)
                r = take_data(user, "client-key-data", &k.key_pem, &k.key_len);
        if (r == 0 && user)
                r = take_string(user, "client-certificate", &k.cert_file);
        if (r == 0 && user)
                r = take_string(user, "client-key", &k.key_file);
        if (r < 0) {
                pki_kubeconfig_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

void pki_kubeconfig_done(struct pki_kubeconfig *k) {
        free(k->server);
        free(k->ca_pem);
        free(k->cert_pem);
        erase_and_free(k->key_pem);
        free(k->cert_file);
        free(k->key_file);
        *k = (struct pki_kubeconfig){};
}

/* Whether doc is exactly what pki_kubeconfig_render() writes (kubeadm's shape), apart from the data. */
static bool kubeadm_shaped(const cJSON *doc, const cJSON *ctx, const char *cname, const char *uname) {
        _cleanup_free_ char *want = strdupf("%s@%s", uname, cname);
        const cJSON *c = cJSON_GetArrayItem(json_get(doc, "clusters"), 0);
        const cJSON *u = cJSON_GetArrayItem(json_get(doc, "users"), 0);
        const cJSON *prefs = json_get(doc, "preferences");

        return want && streq(json_get_string(ctx, "name") ?: "", want) && cJSON_GetArraySize(doc) == 7 &&
               cJSON_IsObject(prefs) && cJSON_GetArraySize(prefs) == 0 &&
               cJSON_GetArraySize(json_get(doc, "clusters")) == 1 &&
               cJSON_GetArraySize(json_get(doc, "contexts")) == 1 &&
               cJSON_GetArraySize(json_get(doc, "users")) == 1 &&
               cJSON_GetArraySize(json_get(c, "cluster")) == 2 &&
               cJSON_GetArraySize(json_get(u, "user")) == 2 &&
               cJSON_GetArraySize(json_get(ctx, "context")) == 2;
}

static int set_data(cJSON *obj, const char *field, const char *pem) {
        _cleanup_erase_ char *b64 = base64_encode(pem, strlen(pem));
        cJSON *old = cJSON_GetObjectItem(obj, field);

        if (!b64)
                return -ENOMEM;
        if (cJSON_IsString(old))
                OPENSSL_cleanse(old->valuestring, strlen(old->valuestring));
        return json_set_string(obj, field, b64);
}

int pki_kubeconfig_renew(const char *yaml, size_t len, const char *ca_pem, const char *cert_pem,
                         const char *key_pem, char **ret) {
        _cleanup_(json_delete_wipedp) cJSON *docs = NULL;
        const cJSON *doc;
        const char *server;
        int r;

        r = yaml_parse_documents(yaml, len, &docs, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        doc = cJSON_GetArrayItem(docs, 0);
        struct current_context cur = find_current(doc);
        cJSON *cluster = cur.cluster, *user = cur.user;
        server = json_get_string(cluster, "cluster.server");
        if (!cluster || !user || !server || !cJSON_IsObject(json_get(cluster, "cluster")) ||
            !cJSON_IsObject(json_get(user, "user")))
                return -EBADMSG;
        if (kubeadm_shaped(doc, cur.context, cur.cluster_name, cur.user_name))
                return pki_kubeconfig_render(server, cur.cluster_name, cur.user_name, ca_pem, cert_pem,
                                             key_pem, ret);
        /* Anything else is kept as it is (kubeadm's kubeConfigReadWriter.Write: "all the other attributes
         * are preserved"); only the three data fields change. */
        if ((r = set_data(cJSON_GetObjectItem(cluster, "cluster"), "certificate-authority-data", ca_pem)) <
                    0 ||
            (r = set_data(cJSON_GetObjectItem(user, "user"), "client-certificate-data", cert_pem)) < 0 ||
            (r = set_data(cJSON_GetObjectItem(user, "user"), "client-key-data", key_pem)) < 0)
                return r;
        return yaml_emit(docs, ret);
}
