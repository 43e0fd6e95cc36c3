/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base64.h"
#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "manifests/objects.h"

cJSON *mf_object_head(struct json_builder *b, const char *api_version, const char *kind, const char *ns,
                      const char *name, cJSON **ret_meta) {
        cJSON *o = jb_object(b), *meta;

        jb_str(b, o, "apiVersion", api_version);
        jb_str(b, o, "kind", kind);
        meta = jb_obj(b, o, "metadata");
        jb_str(b, meta, "name", name);
        if (ns)
                jb_str(b, meta, "namespace", ns);
        if (ret_meta)
                *ret_meta = meta;
        return o;
}

cJSON *mf_role(const char *ns, const char *name, const struct mf_rule *rule) {
        struct json_builder b = {};
        cJSON *o = mf_object_head(&b, MF_RBAC_GROUP "/v1", ns ? "Role" : "ClusterRole", ns, name, NULL);
        cJSON *r = jb_obj(&b, jb_arr(&b, o, "rules"), NULL);

        jb_strs(&b, r, "apiGroups", rule->api_groups);
        if (rule->resource_names)
                jb_strs(&b, r, "resourceNames", rule->resource_names);
        jb_strs(&b, r, "resources", rule->resources);
        jb_strs(&b, r, "verbs", rule->verbs);
        return jb_result(&b, o);
}

cJSON *mf_role_binding(const char *ns, const char *name, const char *role_kind, const char *role_name,
                       const struct mf_subject *subjects, size_t n) {
        struct json_builder b = {};
        cJSON *o = mf_object_head(&b, MF_RBAC_GROUP "/v1", ns ? "RoleBinding" : "ClusterRoleBinding", ns,
                                  name, NULL);
        cJSON *ref = jb_obj(&b, o, "roleRef"), *subs = jb_arr(&b, o, "subjects");

        jb_str(&b, ref, "apiGroup", MF_RBAC_GROUP);
        jb_str(&b, ref, "kind", role_kind);
        jb_str(&b, ref, "name", role_name);
        for (size_t i = 0; i < n; i++) {
                cJSON *s = jb_obj(&b, subs, NULL);
                /* ServiceAccount subjects carry a namespace and no apiGroup, as the API defaults them. */
                if (!streq(subjects[i].kind, "ServiceAccount"))
                        jb_str(&b, s, "apiGroup", MF_RBAC_GROUP);
                jb_str(&b, s, "kind", subjects[i].kind);
                jb_str(&b, s, "name", subjects[i].name);
                if (subjects[i].ns)
                        jb_str(&b, s, "namespace", subjects[i].ns);
        }
        return jb_result(&b, o);
}

static void add_b64(struct json_builder *b, cJSON *data, const char *key, const char *value) {
        _cleanup_erase_ char *out = base64_encode(value, strlen(value));
        jb_str(b, data, key, out);
}

cJSON *mf_bootstrap_token_secret(const struct mf_token *t) {
        _cleanup_free_ char *name = strdupf("bootstrap-token-%s", t->id);
        struct json_builder b = {};
        cJSON *o, *data;

        if (!name)
                return NULL;
        o = mf_object_head(&b, "v1", "Secret", "kube-system", name, NULL);
        jb_str(&b, o, "type", "bootstrap.kubernetes.io/token");
        data = jb_obj(&b, o, "data");
        if (t->groups && t->groups[0]) {
                _cleanup_free_ char *g = strjoin_sep(t->groups, strv_length((char *const *) t->groups), ",");
                if (g)
                        add_b64(&b, data, "auth-extra-groups", g);
                else
                        jb_fail(&b, -ENOMEM);
        }
        if (!isempty(t->description))
                add_b64(&b, data, "description", t->description);
        if (t->expiration)
                add_b64(&b, data, "expiration", t->expiration);
        add_b64(&b, data, "token-id", t->id);
        add_b64(&b, data, "token-secret", t->secret);
        for (const char *const *u = t->usages; u && *u; u++) {
                _cleanup_free_ char *k = strdupf("usage-bootstrap-%s", *u);
                if (k)
                        add_b64(&b, data, k, "true");
                else
                        jb_fail(&b, -ENOMEM);
        }
        return jb_result(&b, o);
}

cJSON *mf_cluster_info(const char *kubeconfig) {
        struct json_builder b = {};
        cJSON *o = mf_object_head(&b, "v1", "ConfigMap", "kube-public", "cluster-info", NULL);
        jb_str(&b, jb_obj(&b, o, "data"), "kubeconfig", kubeconfig);
        return jb_result(&b, o);
}

int mf_expiration(long long seconds, char ret[32]) {
        return mf_expiration_at(time(NULL), seconds, ret);
}

int mf_expiration_at(time_t base, long long seconds, char ret[32]) {
        time_t t = base + (time_t) seconds;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(ret, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        return 0;
}

void mf_api_objects_free(struct mf_api_object *o, size_t n) {
        for (size_t i = 0; o && i < n; i++) {
                free(o[i].collection);
                cJSON_Delete(o[i].object);
        }
        free(o);
}

int mf_api_objects_collect(cJSON **objs, size_t n, struct mf_api_object **ret, size_t *ret_n) {
        struct mf_api_object *out = calloc(n, sizeof(*out));
        int r = out ? 0 : -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                if (r == 0 && objs[i]) {
                        out[i].object = objs[i];
                        out[i].collection = mf_collection_path(objs[i]);
                        if (!out[i].collection)
                                r = -ENOMEM;
                } else {
                        cJSON_Delete(objs[i]);
                        r = -ENOMEM;
                }
        }
        if (r < 0) {
                mf_api_objects_free(out, out ? n : 0);
                return r;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}

char *mf_collection_path(const cJSON *obj) {
        static const struct {
                const char *kind, *prefix, *resource;
        } kinds[] = {
                {"Role", "/apis/" MF_RBAC_GROUP "/v1", "roles"},
                {"RoleBinding", "/apis/" MF_RBAC_GROUP "/v1", "rolebindings"},
                {"ClusterRole", "/apis/" MF_RBAC_GROUP "/v1", "clusterroles"},
                {"ClusterRoleBinding", "/apis/" MF_RBAC_GROUP "/v1", "clusterrolebindings"},
                {"Secret", "/api/v1", "secrets"},
                {"ConfigMap", "/api/v1", "configmaps"},
                {"ServiceAccount", "/api/v1", "serviceaccounts"},
                {"Service", "/api/v1", "services"},
                {"Deployment", "/apis/apps/v1", "deployments"},
                {"DaemonSet", "/apis/apps/v1", "daemonsets"},
        };
        const char *kind = json_get_string(obj, "kind"), *ns = json_get_string(obj, "metadata.namespace");
        for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
                if (streq(kind, kinds[i].kind))
                        return ns ? strdupf("%s/namespaces/%s/%s", kinds[i].prefix, ns, kinds[i].resource)
                                  : strdupf("%s/%s", kinds[i].prefix, kinds[i].resource);
        return NULL;
}

int mf_kubeadm_rbac(struct mf_api_object **ret, size_t *ret_n) {
        static const char *const get[] = {"get", NULL}, *const core[] = {"", NULL};
        static const char *const nodes[] = {"nodes", NULL}, *const cms[] = {"configmaps", NULL};
        static const char *const secrets[] = {"secrets", NULL};
        static const char *const cluster_info[] = {"cluster-info", NULL};
        static const char *const kubeadm_config[] = {"kubeadm-config", NULL};
        static const char *const kubelet_config[] = {"kubelet-config", NULL};
        static const char *const kubeadm_certs[] = {"kubeadm-certs", NULL};
        const struct mf_subject tokens = {"Group", MF_DEFAULT_NODE_TOKEN_GROUP, NULL};
        const struct mf_subject nodes_group = {"Group", "system:nodes", NULL};
        const struct mf_subject anonymous = {"User", "system:anonymous", NULL};
        const struct mf_subject admins = {"Group", "kubeadm:cluster-admins", NULL};
        const struct mf_subject kubelet_client = {"User", "kube-apiserver-kubelet-client", NULL};
        const struct mf_subject tokens_and_nodes[] = {tokens, nodes_group};
        const struct mf_subject nodes_and_tokens[] = {nodes_group, tokens};
        cJSON *objs[] = {
                mf_role(NULL, "kubeadm:get-nodes", &(struct mf_rule){get, core, nodes, NULL}),
                mf_role_binding(NULL, "kubeadm:get-nodes", "ClusterRole", "kubeadm:get-nodes", &tokens, 1),
                mf_role_binding(NULL, "kubeadm:kubelet-bootstrap", "ClusterRole", "system:node-bootstrapper",
                                &tokens, 1),
                mf_role_binding(NULL, "kubeadm:node-autoapprove-bootstrap", "ClusterRole",
                                "system:certificates.k8s.io:certificatesigningrequests:nodeclient", &tokens,
                                1),
                mf_role_binding(NULL, "kubeadm:node-autoapprove-certificate-rotation", "ClusterRole",
                                "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                                &nodes_group, 1),
                mf_role("kube-public", "kubeadm:bootstrap-signer-clusterinfo",
                        &(struct mf_rule){get, core, cms, cluster_info}),
                mf_role_binding("kube-public", "kubeadm:bootstrap-signer-clusterinfo", "Role",
                                "kubeadm:bootstrap-signer-clusterinfo", &anonymous, 1),
                mf_role("kube-system", "kubeadm:nodes-kubeadm-config",
                        &(struct mf_rule){get, core, cms, kubeadm_config}),
                mf_role_binding("kube-system", "kubeadm:nodes-kubeadm-config", "Role",
                                "kubeadm:nodes-kubeadm-config", tokens_and_nodes, 2),
                mf_role("kube-system", "kubeadm:kubelet-config",
                        &(struct mf_rule){get, core, cms, kubelet_config}),
                mf_role_binding("kube-system", "kubeadm:kubelet-config", "Role", "kubeadm:kubelet-config",
                                nodes_and_tokens, 2),
                mf_role("kube-system", "kubeadm:kubeadm-certs",
                        &(struct mf_rule){get, core, secrets, kubeadm_certs}),
                mf_role_binding("kube-system", "kubeadm:kubeadm-certs", "Role", "kubeadm:kubeadm-certs",
                                &tokens, 1),
                mf_role_binding(NULL, "kubeadm:cluster-admins", "ClusterRole", "cluster-admin", &admins, 1),
                /* kubernetes#138957: the apiserver's kubelet client by its user, not kubeadm:cluster-admins.
                 */
                mf_role_binding(NULL, "kubeadm:apiserver-kubelet-client", "ClusterRole",
                                "system:kubelet-api-admin", &kubelet_client, 1),
        };
        return mf_api_objects_collect(objs, ELEMENTSOF(objs), ret, ret_n);
}
