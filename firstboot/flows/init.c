/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The init flow: kubeadm init --upload-certs, phase by phase (../shared/spec/kubeadm-compat.md §7.1), each
 * with a check that verifies its effect so a re-run after a crash skips what is done and goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/flows/flows.h"
#include "firstboot/cluster/upload-certs.h"
#include "manifests/objects.h"
#include "pki/encoding.h"
#include "pki/kubeconfig.h"
#include "pki/token.h"

/* ---- certs, kubeconfig ---- */

static int pki_in_place(struct fb_node *n, bool kubeconfigs) {
        _cleanup_(pki_report_done) struct pki_report rep = {};
        int r = pki_node_plan(n->root, &n->pki, &rep);
        if (r < 0)
                return 0;
        for (size_t i = 0; i < rep.n; i++)
                if (endswith(rep.results[i].name, ".conf") == kubeconfigs &&
                    rep.results[i].action != PKI_ACTION_KEPT)
                        return 0;
        return 1;
}

static int check_certs(void *ctx) {
        return pki_in_place(ctx, false);
}
static int check_kubeconfigs(void *ctx) {
        return pki_in_place(ctx, true);
}

static int run_pki(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(pki_report_done) struct pki_report rep = {};
        int r = pki_node_ensure(n->root, &n->pki, &rep);
        if (r < 0)
                return error_set(why, r, "%s", rep.error[0] ? rep.error : strerror(-r));
        for (size_t i = 0; i < rep.n; i++)
                log_debug("%s %s (%s)", pki_action_to_string(rep.results[i].action), rep.results[i].path,
                          rep.results[i].name);
        return 0;
}

static void describe_pki(void *ctx, FILE *out, bool kubeconfigs) {
        struct fb_node *n = ctx;
        _cleanup_(pki_report_done) struct pki_report rep = {};
        int r = pki_node_plan(n->root, &n->pki, &rep);
        if (r < 0) {
                fprintf(out, "      (cannot plan: %s)\n", rep.error);
                if (!n->plan_error.code)
                        error_set(&n->plan_error, r, "%s", rep.error[0] ? rep.error : strerror(-r));
                return;
        }
        for (size_t i = 0; i < rep.n; i++)
                if (endswith(rep.results[i].name, ".conf") == kubeconfigs)
                        fprintf(out, "      %s %s\n", pki_action_to_string(rep.results[i].action),
                                rep.results[i].path);
}
static void describe_certs(void *ctx, FILE *out) {
        describe_pki(ctx, out, false);
}
static void describe_kubeconfigs(void *ctx, FILE *out) {
        describe_pki(ctx, out, true);
}

/* ---- etcd ---- */

static const enum mf_component etcd_pod[] = {MF_ETCD};

static int check_etcd(void *ctx) {
        return fb_static_pods_in_place(ctx, etcd_pod, 1);
}
static int run_etcd(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        const char *dir = n->cp.etcd_data_dir ?: "/var/lib/etcd";
        int r = mkdir_p(n->root, dir, 0700);
        if (r < 0)
                return error_set(why, r, "cannot create the etcd data directory %s: %s", dir, strerror(-r));
        return fb_static_pods_write(n, etcd_pod, 1, why);
}
static void describe_etcd(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      write " FB_MANIFESTS_DIR "/etcd.yaml (etcd %s, data in %s, a new cluster of one)\n",
                n->cp.etcd_image_tag ?: n->versions->etcd_tag, n->cp.etcd_data_dir ?: "/var/lib/etcd");
}

/* ---- upload-config ---- */

static int add_object(struct mf_api_object **objs, size_t *k, cJSON *o) {
        struct mf_api_object *m;
        if (!o)
                return -ENOMEM;
        m = reallocarray(*objs, *k + 1, sizeof(**objs));
        if (!m) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        *objs = m;
        m[*k].object = o;
        m[*k].collection = mf_collection_path(o);
        if (!m[*k].collection) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        (*k)++;
        return 0;
}

/* The RBAC objects of mf_kubeadm_rbac() with these names, in its order. */
static int add_rbac(struct mf_api_object **objs, size_t *k, const char *const *names) {
        struct mf_api_object *all = NULL;
        size_t n = 0;
        int r = mf_kubeadm_rbac(&all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                if (strv_contains((char *const *) names, json_get_string(all[i].object, "metadata.name"))) {
                        r = add_object(objs, k, all[i].object);
                        all[i].object = NULL;
                }
        mf_api_objects_free(all, n);
        return r;
}

static cJSON *config_map(const char *ns, const char *name, const char *key, const char *text) {
        struct json_builder b = {};
        cJSON *o = mf_object_head(&b, "v1", "ConfigMap", ns, name, NULL);
        jb_str(&b, jb_obj(&b, o, "data"), key, text);
        return jb_result(&b, o);
}

/* kubeadm annotates the component-config ConfigMaps it generated with their checksum. */
static int sign_config_map(cJSON *cm) {
        _cleanup_free_ char *sum = NULL;
        struct json_builder b = {};
        int r = fb_configmap_checksum(cm, &sum);
        if (r < 0)
                return r;
        jb_str(&b, jb_obj_at(&b, cJSON_GetObjectItem(cm, "metadata"), "annotations"),
               "kubeadm.kubernetes.io/component-config.hash", sum);
        return jb_error(&b);
}

/* The ClusterConfiguration as kubeadm uploads it: v1beta4, the resolved version, keys sorted. */
int fb_cluster_configuration_yaml(const struct fb_node *n, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *doc =
                n->cluster->document ? cJSON_Duplicate(n->cluster->document, true) : cJSON_CreateObject();
        if (!doc)
                return -ENOMEM;
        if (json_set_string(doc, "apiVersion", "kubeadm.k8s.io/v1beta4") < 0 ||
            json_set_string(doc, "kubernetesVersion", n->kubernetes_version) < 0)
                return -ENOMEM;
        mf_sort_keys(doc);
        return yaml_emit(doc, ret);
}

static int upload_config_objects(struct fb_node *n, struct mf_api_object **ret, size_t *ret_n) {
        _cleanup_free_ char *cluster = NULL, *kubelet = NULL;
        _cleanup_(cJSON_Deletep) cJSON *kc = NULL;
        struct mf_api_object *objs = NULL;
        size_t k = 0;
        /* From 1.37 kubeadm keeps this node's systemd-resolved resolvConf out of the cluster-wide copy. */
        struct mf_kubelet_spec cluster_wide = n->kubelet;
        if (!n->versions->kubelet_config_map_resolv_conf)
                cluster_wide.resolved_active = false;
        int r = fb_cluster_configuration_yaml(n, &cluster);
        if (r >= 0)
                r = mf_kubelet_config(&cluster_wide, n->kubelet_user_config, &kc);
        if (r >= 0)
                r = yaml_emit(kc, &kubelet);
        if (r >= 0)
                r = add_object(&objs, &k,
                               config_map("kube-system", "kubeadm-config", "ClusterConfiguration", cluster));
        if (r >= 0)
                r = add_rbac(&objs, &k, (const char *const[]){"kubeadm:nodes-kubeadm-config", NULL});
        if (r >= 0) {
                cJSON *cm = config_map("kube-system", "kubelet-config", "kubelet", kubelet);
                r = cm ? sign_config_map(cm) : -ENOMEM;
                if (r >= 0)
                        r = add_object(&objs, &k, cm);
                else
                        cJSON_Delete(cm);
        }
        if (r >= 0)
                r = add_rbac(&objs, &k, (const char *const[]){"kubeadm:kubelet-config", NULL});
        if (r < 0) {
                mf_api_objects_free(objs, k);
                return r;
        }
        *ret = objs;
        *ret_n = k;
        return 0;
}

/* kubeadm:cluster-admins makes admin.conf an admin; until it exists only super-admin.conf
 * (system:masters) can create it. */
static int ensure_cluster_admins(struct fb_node *n, struct error *why) {
        _cleanup_(kube_client_freep) struct kube_client *super = NULL;
        struct mf_api_object *objs = NULL;
        size_t k = 0;
        int r = add_rbac(&objs, &k, (const char *const[]){"kubeadm:cluster-admins", NULL});
        if (r < 0)
                return r;
        r = fb_node_client(n, "super-admin.conf", true, &super);
        if (r < 0) {
                mf_api_objects_free(objs, k);
                return error_set(why, r, "cannot use /etc/kubernetes/super-admin.conf: %s", strerror(-r));
        }
        r = fb_objects_apply(super, objs, k, NULL);
        if (r < 0)
                error_set(why, r, "cannot create the kubeadm:cluster-admins ClusterRoleBinding at %s: %s",
                          n->local_api_url, kube_client_error(super));
        mf_api_objects_free(objs, k);
        return r;
}

#define OBJECT_PHASE(name, build)                                                                           \
        static int check_##name(void *ctx) {                                                                \
                struct fb_node *n = ctx;                                                                    \
                struct kube_client *c;                                                                      \
                struct mf_api_object *o = NULL;                                                             \
                size_t k = 0;                                                                               \
                int r = fb_node_admin(n, &c);                                                               \
                if (r < 0)                                                                                  \
                        return 0;                                                                           \
                r = build(n, &o, &k);                                                                       \
                if (r < 0)                                                                                  \
                        return r;                                                                           \
                r = fb_objects_in_place(c, o, k);                                                           \
                mf_api_objects_free(o, k);                                                                  \
                return r < 0 ? 0 : r;                                                                       \
        }                                                                                                   \
        static int apply_##name(struct fb_node *n, struct error *why) {                                     \
                struct kube_client *c;                                                                      \
                struct mf_api_object *o = NULL;                                                             \
                size_t k = 0;                                                                               \
                const char *failed = NULL;                                                                  \
                int r = fb_node_admin(n, &c);                                                               \
                if (r < 0)                                                                                  \
                        return error_set(why, r, "cannot use /etc/kubernetes/admin.conf: %s",               \
                                         strerror(-r));                                                     \
                r = build(n, &o, &k);                                                                       \
                if (r < 0)                                                                                  \
                        return error_set(why, r, "cannot build the objects: %s", strerror(-r));             \
                r = fb_objects_apply(c, o, k, &failed);                                                     \
                if (r < 0)                                                                                  \
                        error_set(why, r, "cannot create or update %s at %s: %s", failed ?: "an object",    \
                                  kube_client_server(c), kube_client_error(c));                             \
                mf_api_objects_free(o, k);                                                                  \
                return r;                                                                                   \
        }                                                                                                   \
        static void describe_##name(void *ctx, FILE *out) {                                                 \
                struct mf_api_object *o = NULL;                                                             \
                size_t k = 0;                                                                               \
                if (build(ctx, &o, &k) >= 0)                                                                \
                        fb_objects_describe(o, k, out);                                                     \
                mf_api_objects_free(o, k);                                                                  \
        }

OBJECT_PHASE(upload_config, upload_config_objects)

static int run_upload_config(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        int r = ensure_cluster_admins(n, why);
        if (r < 0)
                return r;
        return apply_upload_config(n, why);
}

/* ---- upload-certs ---- */

static void certs_upload_spec(const struct fb_node *n, struct fb_certs_upload *u,
                              struct pki_external_etcd *ext) {
        *ext = (struct pki_external_etcd){n->pki.external_etcd_ca_file, n->pki.external_etcd_cert_file,
                                          n->pki.external_etcd_key_file};
        *u = (struct fb_certs_upload){
                .root = n->root,
                .cert_dir = n->pki.cert_dir,
                .ext = n->pki.external_etcd ? ext : NULL,
                .certificate_key = n->certificate_key,
                .owner = n->pki.node_name,
        };
}

static int check_upload_certs(void *ctx) {
        struct fb_node *n = ctx;
        struct fb_certs_upload u;
        struct pki_external_etcd ext;
        struct kube_client *c;
        if (fb_node_admin(n, &c) < 0)
                return 0;
        certs_upload_spec(n, &u, &ext);
        /* Done when it opens with this run's key and has most of its 2 hours left. */
        int r = fb_certs_uploaded(c, &u, FB_CERTS_TOKEN_TTL_S / 2, NULL);
        return r < 0 ? 0 : r;
}

static int run_upload_certs(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        struct fb_certs_upload u;
        struct pki_external_etcd ext;
        struct kube_client *c;
        int r = fb_node_admin(n, &c);
        if (r < 0)
                return error_set(why, r, "cannot use /etc/kubernetes/admin.conf: %s", strerror(-r));
        certs_upload_spec(n, &u, &ext);
        return fb_certs_upload(c, &u, why);
}

static void describe_upload_certs(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        struct fb_certs_upload u;
        struct pki_external_etcd ext;
        certs_upload_spec(n, &u, &ext);
        fb_certs_upload_describe(&u, out);
        fprintf(out, "      certificate key: %s\n",
                n->certificate_key_generated ? "a fresh one, reported at the end" : "the configured one");
}

/* ---- bootstrap-token ---- */

#define GENERATED_TOKEN_DESC "The default bootstrap token generated by 'kubeadm init'."

/* The init tokens: as configured; when the first has none, one from an earlier run of this node (found
 * by its description on a token we made) or a fresh one. */
static const struct fb_init_settings *init_settings(const struct fb_node *n) {
        static const struct fb_init_settings none = {};
        return fb_config_settings(n->config)->init ?: &none;
}

static int init_tokens(struct fb_node *n, struct kube_client *c) {
        const struct fb_init_settings *init = init_settings(n);
        if (n->tokens)
                return 0;
        for (size_t ti = 0; ti < init->n_bootstrap_tokens; ti++) {
                const char *tok = init->bootstrap_tokens[ti].token;
                if (tok) {
                        if (strv_extend(&n->tokens, tok) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (ti > 0)
                        continue; /* kubeadm generates only the first */
                char buf[PKI_TOKEN_LEN + 1] = "";
                _cleanup_(cJSON_Deletep) cJSON *list = NULL;
                if (c &&
                    kube_get(
                            c,
                            "/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken",
                            &list) >= 0) {
                        const cJSON *s;
                        cJSON_ArrayForEach(s, json_get(list, "items")) {
                                const cJSON *d = cJSON_GetObjectItemCaseSensitive(
                                        json_get(s, "metadata.annotations"), "kube-firstboot.io/generated");
                                const char *id = json_get_string(s, "data.token-id");
                                const char *sec = json_get_string(s, "data.token-secret");
                                _cleanup_free_ void *rid = NULL, *rsec = NULL;
                                size_t li, ls;
                                if (!d || !id || !sec || pki_base64_decode(id, strlen(id), &rid, &li) < 0 ||
                                    pki_base64_decode(sec, strlen(sec), &rsec, &ls) < 0 || li != 6 ||
                                    ls != 16)
                                        continue;
                                snprintf(buf, sizeof(buf), "%.6s.%.16s", (char *) rid, (char *) rsec);
                                OPENSSL_cleanse(rsec, ls);
                                break;
                        }
                }
                if (!buf[0]) {
                        int r = pki_token_generate(buf);
                        if (r < 0)
                                return r;
                }
                n->token_generated = true;
                int r = strv_extend(&n->tokens, buf);
                OPENSSL_cleanse(buf, sizeof(buf));
                if (r < 0)
                        return -ENOMEM;
        }
        return 0;
}

static cJSON *token_secret(const struct fb_node *n, const struct fb_bootstrap_token_settings *t,
                           const char *token, time_t now) {
        char id[PKI_TOKEN_ID_LEN + 1], sec[PKI_TOKEN_SECRET_LEN + 1], exp[32] = "";
        cJSON *o = NULL;

        if (pki_token_parse(token, id, sec) < 0)
                return NULL;
        const char *expires = t->expires, *ttl = t->ttl;
        unsigned long long ms = 24ull * 3600 * 1000;
        if (ttl)
                (void) fb_parse_duration_ms(ttl, &ms);
        if (expires)
                snprintf(exp, sizeof(exp), "%s", expires);
        else if (ms > 0 && mf_expiration_at(now, (long long) (ms / 1000), exp) < 0)
                exp[0] = 0;
        o = mf_bootstrap_token_secret(&(struct mf_token){
                .id = id,
                .secret = sec,
                .description = t->description ?: (t->token ? NULL : GENERATED_TOKEN_DESC),
                .expiration = exp[0] ? exp : NULL,
                .usages = (const char *const *) t->usages,
                .groups = (const char *const *) t->groups,
        });
        if (o && n->token_generated && !t->token) {
                /* Lets a re-run after a crash find the token it generated instead of making another. */
                struct json_builder b = {};
                jb_str(&b, jb_obj_at(&b, cJSON_GetObjectItem(o, "metadata"), "annotations"),
                       "kube-firstboot.io/generated", "true");
                o = jb_result(&b, o);
        }
        OPENSSL_cleanse(sec, sizeof(sec));
        return o;
}

static int cluster_info_kubeconfig(struct fb_node *n, char **ret) {
        _cleanup_free_ char *path = strdupf("%s/ca.crt", n->pki.cert_dir), *ca = NULL, *b64 = NULL;
        size_t len;
        int r = path ? read_file(n->root, path, 1024 * 1024, &ca, &len) : -ENOMEM;
        if (r < 0)
                return r;
        b64 = base64_encode(ca, len);
        if (!b64)
                return -ENOMEM;
        /* client-go's clientcmd.Write of kubeadm's cluster-info: one unnamed cluster, nothing else. */
        *ret = strdupf("apiVersion: v1\n"
                       "clusters:\n"
                       "- cluster:\n"
                       "    certificate-authority-data: %s\n"
                       "    server: %s\n"
                       "  name: \"\"\n"
                       "contexts: null\n"
                       "current-context: \"\"\n"
                       "kind: Config\n"
                       "users: null\n",
                       b64, n->api_url);
        return *ret ? 0 : -ENOMEM;
}

static int bootstrap_token_objects(struct fb_node *n, struct mf_api_object **ret, size_t *ret_n) {
        const struct fb_init_settings *init = init_settings(n);
        struct kube_client *c = NULL;
        struct mf_api_object *objs = NULL;
        _cleanup_free_ char *kc = NULL;
        size_t k = 0, i = 0;
        int r;

        (void) fb_node_admin(n, &c);
        r = init_tokens(n, c);
        for (size_t ti = 0; ti < init->n_bootstrap_tokens; ti++) {
                if (r < 0 || !n->tokens || !n->tokens[i])
                        break;
                r = add_object(
                        &objs, &k,
                        token_secret(n, &init->bootstrap_tokens[ti], n->tokens[i++], kube_client_now(c)));
        }
        if (r >= 0)
                r = add_rbac(&objs, &k,
                             (const char *const[]){"kubeadm:get-nodes", "kubeadm:kubelet-bootstrap",
                                                   "kubeadm:node-autoapprove-bootstrap",
                                                   "kubeadm:node-autoapprove-certificate-rotation", NULL});
        if (r >= 0 && n->versions->kubelet_api_admin_binding)
                r = add_rbac(&objs, &k, (const char *const[]){"kubeadm:apiserver-kubelet-client", NULL});
        if (r >= 0)
                r = cluster_info_kubeconfig(n, &kc);
        if (r >= 0)
                r = add_object(&objs, &k, mf_cluster_info(kc));
        if (r >= 0)
                r = add_rbac(&objs, &k, (const char *const[]){"kubeadm:bootstrap-signer-clusterinfo", NULL});
        if (r < 0) {
                mf_api_objects_free(objs, k);
                return r;
        }
        *ret = objs;
        *ret_n = k;
        return 0;
}

OBJECT_PHASE(bootstrap_token, bootstrap_token_objects)

static int run_bootstrap_token(void *ctx, struct error *why) {
        return apply_bootstrap_token(ctx, why);
}

/* ---- kubelet-finalize ---- */

static int kubelet_conf_rotating(struct fb_node *n) {
        _cleanup_erase_ char *text = NULL;
        struct pki_kubeconfig k = {};
        size_t len;
        int r = read_file(n->root, "/etc/kubernetes/kubelet.conf", 1024 * 1024, &text, &len);
        if (r < 0)
                return 0;
        r = pki_kubeconfig_parse(text, len, &k);
        if (r < 0)
                return 0;
        r = k.cert_file && streq(k.cert_file, FB_KUBELET_CLIENT_CURRENT) && k.key_file &&
            streq(k.key_file, FB_KUBELET_CLIENT_CURRENT);
        pki_kubeconfig_done(&k);
        return r;
}

/* kubelet-client-current.pem is a symlink with an absolute target: resolved under the root. */
static bool kubelet_store_ready(const struct fb_node *n) {
        _cleanup_free_ char *full = NULL;
        char target[PATH_MAX];
        ssize_t len;
        if (root_path(n->root, FB_KUBELET_CLIENT_CURRENT, &full) < 0)
                return false;
        len = readlink(full, target, sizeof(target) - 1);
        if (len < 0)
                return path_exists(n->root, FB_KUBELET_CLIENT_CURRENT) >= 0;
        target[len] = 0;
        if (target[0] != '/')
                return access(full, R_OK) >= 0;
        return path_exists(n->root, target) >= 0;
}

static int check_kubelet_finalize(void *ctx) {
        return kubelet_conf_rotating(ctx);
}

/* kubeadm's enable-client-cert-rotation: once the kubelet keeps its client certificate in its own store,
 * kubelet.conf points there so rotated certificates are used. */
static int run_kubelet_finalize(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_erase_ char *text = NULL;
        _cleanup_free_ char *out = NULL, *user = NULL;
        struct pki_kubeconfig k = {};
        unsigned long long ms = n->timeouts.tls_bootstrap;
        unsigned long long deadline = clock_now_ms() + ms;
        size_t len;
        int r;

        while (!kubelet_store_ready(n)) {
                if (clock_now_ms() >= deadline)
                        return error_set(why, -ETIMEDOUT,
                                         "the kubelet did not write " FB_KUBELET_CLIENT_CURRENT
                                         " within %llus",
                                         ms / 1000);
                clock_sleep_about_ms(500);
        }
        r = read_file(n->root, "/etc/kubernetes/kubelet.conf", 1024 * 1024, &text, &len);
        if (r < 0)
                return error_set(why, r, "cannot read /etc/kubernetes/kubelet.conf: %s", strerror(-r));
        r = pki_kubeconfig_parse(text, len, &k);
        if (r < 0)
                return error_set(why, r, "/etc/kubernetes/kubelet.conf is not a kubeconfig");
        _cleanup_free_ char *ca_b64 = k.ca_pem ? base64_encode(k.ca_pem, k.ca_len) : NULL;
        user = strdupf("system:node:%s", n->pki.node_name);
        if (ca_b64 && user)
                out = strdupf("apiVersion: v1\n"
                              "clusters:\n"
                              "- cluster:\n"
                              "    certificate-authority-data: %s\n"
                              "    server: %s\n"
                              "  name: %s\n"
                              "contexts:\n"
                              "- context:\n"
                              "    cluster: %s\n"
                              "    user: %s\n"
                              "  name: %s@%s\n"
                              "current-context: %s@%s\n"
                              "kind: Config\n"
                              "preferences: {}\n"
                              "users:\n"
                              "- name: %s\n"
                              "  user:\n"
                              "    client-certificate: " FB_KUBELET_CLIENT_CURRENT "\n"
                              "    client-key: " FB_KUBELET_CLIENT_CURRENT "\n",
                              ca_b64, k.server, n->pki.cluster_name, n->pki.cluster_name, user, user,
                              n->pki.cluster_name, user, n->pki.cluster_name, user);
        pki_kubeconfig_done(&k);
        if (!out)
                return -ENOMEM;
        r = write_string_atomic(n->root, "/etc/kubernetes/kubelet.conf", out, 0600, 0);
        if (r < 0)
                return error_set(why, r, "cannot write /etc/kubernetes/kubelet.conf: %s", strerror(-r));
        return 0;
}

static void describe_kubelet_finalize(void *ctx, FILE *out) {
        (void) ctx;
        fprintf(out, "      wait for " FB_KUBELET_CLIENT_CURRENT
                     ", then point /etc/kubernetes/kubelet.conf at it\n");
}

/* ---- show-join-command ---- */

static int run_show_join(void *ctx, struct error *why) {
        return fb_report_join_info(ctx, why);
}

static void describe_show_join(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        const char *file = fb_config_settings(n->config)->firstboot.join_file;
        fprintf(out, "      write " FB_JOIN_INFO_PATH " (endpoint, CA pin, token id: no secrets)%s%s%s\n",
                file ? " and " : "", file ?: "", file ? " (0600, with the token and certificate key)" : "");
}

static int check_never(void *ctx) {
        (void) ctx;
        return 0;
}

/* ---- the table ---- */

int fb_init_phases(const struct fb_node *n, struct fb_phase **ret, size_t *ret_n) {
        bool dns_off = n->cluster->dns.disabled, proxy_off = n->cluster->proxy.disabled;
        const struct fb_phase all[] = {
                fb_phase_preflight,
                fb_phase_etcd_disk,
                {"certs", "the cluster CAs, the service-account key and this node's certificates",
                 check_certs, run_pki, describe_certs,
                 "Check the CA files given in FirstbootConfiguration.ca and the free space in /etc/kubernetes/pki."},
                {"kubeconfig", "admin, super-admin, kubelet, controller-manager and scheduler kubeconfigs",
                 check_kubeconfigs, run_pki, describe_kubeconfigs, "Check /etc/kubernetes is writable."},
                {"etcd", "the local etcd static pod", check_etcd, run_etcd, describe_etcd,
                 "Check etcd.local in ClusterConfiguration."},
                {"control-plane", "the apiserver, controller-manager and scheduler static pods",
                 fb_check_control_plane_pods, fb_run_control_plane_pods, fb_describe_control_plane_pods,
                 "Check apiServer/controllerManager/scheduler extraArgs and extraVolumes."},
                fb_phase_vip_init,
                {"kubelet-start", "the kubelet's files, then the kubelet started", fb_check_kubelet_start,
                 fb_run_kubelet_start, fb_describe_kubelet_start,
                 "Install the kubelet (and its systemd unit), or set FirstbootConfiguration.kubelet.startCommand."},
                {"wait-control-plane", "the kubelet, apiserver, controller-manager and scheduler healthy",
                 fb_check_wait_control_plane, fb_run_wait_control_plane, fb_describe_wait_control_plane,
                 "Look at the kubelet's log (journalctl -u kubelet) and the static pods' logs (crictl ps -a; crictl logs ID); raise InitConfiguration.timeouts.controlPlaneComponentHealthCheck on slow machines."},
                {"upload-config", "kubeadm-config and kubelet-config ConfigMaps and their RBAC",
                 check_upload_config, run_upload_config, describe_upload_config,
                 "Check the apiserver (kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz)."},
                {"upload-certs", "the kubeadm-certs Secret for control-plane joiners (2-hour TTL)",
                 check_upload_certs, run_upload_certs, describe_upload_certs,
                 "Check the apiserver and the files in /etc/kubernetes/pki."},
                {"mark-control-plane", "this Node labelled and tainted as a control plane",
                 fb_check_mark_control_plane, fb_run_mark_control_plane, fb_describe_mark_control_plane,
                 "Check that the kubelet registered the Node (kubectl get nodes; journalctl -u kubelet)."},
                {"bootstrap-token", "bootstrap tokens, node-bootstrap RBAC and the cluster-info ConfigMap",
                 check_bootstrap_token, run_bootstrap_token, describe_bootstrap_token,
                 "Check InitConfiguration.bootstrapTokens and the apiserver."},
                {"kubelet-finalize", "kubelet.conf switched to the kubelet's rotating client certificate",
                 check_kubelet_finalize, run_kubelet_finalize, describe_kubelet_finalize,
                 "Check that the kubelet runs with rotateCertificates (journalctl -u kubelet)."},
                fb_phase_addon,
                fb_phase_vip_admin,
                {"show-join-command", "how other nodes join: endpoint, CA pin, token", check_never,
                 run_show_join, describe_show_join, "Check FirstbootConfiguration.reporting.joinFile."},
        };
        struct fb_phase *p = calloc(ELEMENTSOF(all), sizeof(*p));
        size_t k = 0;
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                if (!all[i].name)
                        continue;
                if (streq(all[i].name, "etcd-disk") &&
                    !fb_config_settings(n->config)->firstboot.etcd.data_device)
                        continue;
                if ((streq(all[i].name, "etcd") || streq(all[i].name, "etcd-disk")) && n->pki.external_etcd)
                        continue;
                if (streq(all[i].name, "addon") && dns_off && proxy_off)
                        continue;
                if (streq(all[i].name, "control-plane-vip") && !fb_node_has_vip(n))
                        continue;
                if (streq(all[i].name, "control-plane-vip-kubeconfig") &&
                    !(fb_node_has_vip(n) && fb_config_settings(n->config)->firstboot.vip.kube_vip))
                        continue;
                p[k++] = all[i];
        }
        *ret = p;
        *ret_n = k;
        return 0;
}
