/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "pki/encoding.h"
#include "pki/kubeconfig.h"

static cJSON *named(const char *name, const char *field, cJSON *value) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !value) {
                cJSON_Delete(o);
                cJSON_Delete(value);
                return NULL;
        }
        /* clientcmd.Write sorts keys: "cluster"/"context" before "name", "name" before "user". */
        if (streq(field, "user")) {
                cJSON_AddStringToObject(o, "name", name);
                cJSON_AddItemToObject(o, field, value);
        } else {
                cJSON_AddItemToObject(o, field, value);
                cJSON_AddStringToObject(o, "name", name);
        }
        return o;
}

static cJSON *list_of(cJSON *item) {
        cJSON *a = cJSON_CreateArray();
        if (!a || !item || !cJSON_AddItemToArray(a, item)) {
                cJSON_Delete(a);
                cJSON_Delete(item);
                return NULL;
        }
        return a;
}

int pki_kubeconfig_render(const char *server, const char *cluster, const char *user, const char *ca_pem,
                          const char *cert_pem, const char *key_pem, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *doc = cJSON_CreateObject();
        _cleanup_free_ char *ca64 = pki_base64_encode(ca_pem, strlen(ca_pem));
        _cleanup_free_ char *cert64 = pki_base64_encode(cert_pem, strlen(cert_pem));
        _cleanup_erase_ char *key64 = pki_base64_encode(key_pem, strlen(key_pem));
        _cleanup_free_ char *context = strdupf("%s@%s", user, cluster);
        cJSON *c, *ctx, *u, *tmp;
        int r;

        if (!doc || !ca64 || !cert64 || !key64 || !context)
                return -ENOMEM;
        c = cJSON_CreateObject();
        if (c) {
                cJSON_AddStringToObject(c, "certificate-authority-data", ca64);
                cJSON_AddStringToObject(c, "server", server);
        }
        ctx = cJSON_CreateObject();
        if (ctx) {
                cJSON_AddStringToObject(ctx, "cluster", cluster);
                cJSON_AddStringToObject(ctx, "user", user);
        }
        u = cJSON_CreateObject();
        if (u) {
                cJSON_AddStringToObject(u, "client-certificate-data", cert64);
                cJSON_AddStringToObject(u, "client-key-data", key64);
        }
        cJSON_AddStringToObject(doc, "apiVersion", "v1");
        if ((tmp = list_of(named(cluster, "cluster", c))))
                cJSON_AddItemToObject(doc, "clusters", tmp);
        if ((tmp = list_of(named(context, "context", ctx))))
                cJSON_AddItemToObject(doc, "contexts", tmp);
        cJSON_AddStringToObject(doc, "current-context", context);
        cJSON_AddStringToObject(doc, "kind", "Config");
        cJSON_AddItemToObject(doc, "preferences", cJSON_CreateObject());
        if ((tmp = list_of(named(user, "user", u))))
                cJSON_AddItemToObject(doc, "users", tmp);
        if (cJSON_GetArraySize(doc) != 7)
                return -ENOMEM;

        r = yaml_emit(doc, ret);
        /* The key's base64 lives in the tree too: wipe it before the tree goes. */
        const cJSON *kd = json_get(cJSON_GetArrayItem(json_get(doc, "users"), 0), "user.client-key-data");
        if (kd && kd->valuestring)
                OPENSSL_cleanse(kd->valuestring, strlen(kd->valuestring));
        return r;
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
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        struct pki_kubeconfig k = {};
        const cJSON *doc, *ctx, *cluster, *user;
        const char *current, *cname, *uname;
        int r;

        r = yaml_parse_documents(yaml, len, &docs, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        doc = cJSON_GetArrayItem(docs, 0);
        current = json_get_string(doc, "current-context");
        ctx = current ? find_named(json_get(doc, "contexts"), current) : NULL;
        cname = json_get_string(ctx, "context.cluster");
        uname = json_get_string(ctx, "context.user");
        cluster = cname ? find_named(json_get(doc, "clusters"), cname) : NULL;
        user = uname ? find_named(json_get(doc, "users"), uname) : NULL;
        /* cluster-info's kubeconfig: one cluster named "", no context, no user. */
        if (!ctx && cJSON_GetArraySize(json_get(doc, "clusters")) == 1)
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
