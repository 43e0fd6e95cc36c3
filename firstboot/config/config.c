/* SPDX-License-Identifier: Apache-2.0 */
/* Loading, converting, merging and defaulting the configuration; accessors. See config.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config-internal.h"
#include "firstboot/config/config.h"
#include "metadata/decode.h"
#include "metadata/userdata.h"
#include "pki/cert.h"
#include "pki/key.h"

#define EFFECTIVE "the effective configuration"

struct fb_config {
        cJSON *docs; /* kind -> document (v1beta4 for kubeadm kinds) */
        enum fb_role role;
        char *bootstrap_token; /* secret: resolved from secrets.bootstrapToken */
        char *certificate_key; /* secret */
        char *ca_cert;
        char *ca_key;        /* secret */
        char *vrrp_password; /* secret: controlPlaneVIP.authentication */
        char **hashes;
        char **peers;
        struct fb_secret_info secret_info[4]; /* as fb_secret_names */
        char **userdata_secrets;              /* fields with a secret value given in user-data or a tag */
        size_t n_secret_info;
        struct fb_settings *settings; /* the typed view, made last */
};

static const char *const kind_order[] = {"FirstbootConfiguration", "InitConfiguration",
                                         "ClusterConfiguration",   "JoinConfiguration",
                                         "KubeletConfiguration",   "KubeProxyConfiguration"};

static char *erase_str(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
        return NULL;
}

struct fb_config *fb_config_free(struct fb_config *c) {
        if (!c)
                return NULL;
        fb_settings_free(c->settings); /* borrows from docs */
        json_delete_wiped(c->docs);
        erase_str(c->bootstrap_token);
        erase_str(c->certificate_key);
        free(c->ca_cert);
        erase_str(c->ca_key);
        erase_str(c->vrrp_password);
        strv_free(c->hashes);
        strv_free(c->peers);
        for (size_t i = 0; i < c->n_secret_info; i++)
                free(c->secret_info[i].source);
        strv_free(c->userdata_secrets);
        free(c);
        return NULL;
}

/* ---- small tree helpers ---- */

/* The object at a dotted path, created when missing (intermediate objects too); NULL on OOM or when a
 * non-object is in the way. */
static cJSON *obj_at(cJSON *root, const char *path) {
        cJSON *cur = root;
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return NULL;
        for (char *save = NULL, *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
                cJSON *n = cJSON_GetObjectItemCaseSensitive(cur, k);
                if (!n || cJSON_IsNull(n)) {
                        if (n)
                                cJSON_DeleteItemFromObjectCaseSensitive(cur, k);
                        n = cJSON_AddObjectToObject(cur, k);
                }
                if (!cJSON_IsObject(n))
                        return NULL;
                cur = n;
        }
        return cur;
}

/*
 * The object that holds the last key of a dotted path, created as needed, and that key. *buf holds the
 * copy of path the key points into; NULL with *buf unset on OOM.
 */
static cJSON *parent_of(cJSON *root, const char *path, char **buf, const char **ret_key) {
        char *dot;
        *buf = strdup(path);
        if (!*buf)
                return NULL;
        dot = strrchr(*buf, '.');
        if (!dot) {
                *ret_key = path;
                return root;
        }
        *dot = 0;
        *ret_key = dot + 1;
        return obj_at(root, *buf);
}

/* Sets path (a.b.c) to item unless a non-null value is there; takes ownership of item. */
static int set_default_item(cJSON *root, const char *path, cJSON *item) {
        _cleanup_free_ char *buf = NULL;
        const char *key = NULL;
        cJSON *p = item ? parent_of(root, path, &buf, &key) : NULL;
        if (!p) {
                cJSON_Delete(item);
                return -ENOMEM;
        }
        cJSON *old = cJSON_GetObjectItemCaseSensitive(p, key);
        if (old && !cJSON_IsNull(old)) {
                cJSON_Delete(item);
                return 0;
        }
        if (old)
                cJSON_DeleteItemFromObjectCaseSensitive(p, key);
        struct json_builder b = {.wipe = true};
        jb_add(&b, p, key, item);
        return jb_error(&b);
}

static int set_default(cJSON *root, const char *path, const char *value) {
        return set_default_item(root, path, cJSON_CreateString(value));
}

static int set_value(cJSON *root, const char *path, cJSON *item) {
        _cleanup_free_ char *buf = NULL;
        const char *key = NULL;
        cJSON *p = item ? parent_of(root, path, &buf, &key) : NULL;
        if (!p) {
                cJSON_Delete(item);
                return !item || !buf ? -ENOMEM : -EINVAL;
        }
        struct json_builder b = {.wipe = true};
        json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(p, key));
        jb_add(&b, p, key, item);
        return jb_error(&b);
}

/* Mappings merge key by key, later wins; lists and scalars are replaced; null leaves the value alone. */
static void merge_into(struct json_builder *b, cJSON *dst, const cJSON *src) {
        const cJSON *s;
        cJSON_ArrayForEach(s, src) {
                cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, s->string);
                if (cJSON_IsNull(s))
                        continue;
                if (cJSON_IsObject(s) && cJSON_IsObject(d)) {
                        merge_into(b, d, s);
                        if (jb_error(b) < 0)
                                return;
                        continue;
                }
                cJSON *copy = cJSON_Duplicate(s, true);
                if (!copy) {
                        jb_fail(b, -ENOMEM);
                        return;
                }
                if (d)
                        json_delete_wiped(cJSON_DetachItemViaPointer(dst, d));
                if (!jb_add(b, dst, s->string, copy))
                        return;
        }
}

static int merge(cJSON *dst, const cJSON *src) {
        struct json_builder b = {.wipe = true};
        merge_into(&b, dst, src);
        return jb_error(&b);
}

static cJSON *doc_of(const struct fb_config *c, const char *kind) {
        return cJSON_GetObjectItemCaseSensitive(c->docs, kind);
}

static cJSON *doc_get(struct fb_config *c, const char *kind) {
        cJSON *d = doc_of(c, kind);
        if (d)
                return d;
        const char *api = streq(kind, "FirstbootConfiguration")   ? FB_API_VERSION
                          : streq(kind, "KubeletConfiguration")   ? "kubelet.config.k8s.io/v1beta1"
                          : streq(kind, "KubeProxyConfiguration") ? "kubeproxy.config.k8s.io/v1alpha1"
                                                                  : FB_KUBEADM_V1BETA4;
        struct json_builder b = {};
        d = jb_object(&b);
        jb_str(&b, d, "apiVersion", api);
        jb_str(&b, d, "kind", kind);
        d = jb_result(&b, d);
        return d ? jb_add(&b, c->docs, kind, d) : NULL;
}

/* ---- v1beta3 -> v1beta4 ---- */

static int args_map_to_list(cJSON *parent, const char *key) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(parent, key), *list, *e;
        struct json_builder b = {.wipe = true};
        if (!cJSON_IsObject(m))
                return 0;
        /* kubeadm sorts the converted flags by name. */
        size_t n = (size_t) cJSON_GetArraySize(m);
        _cleanup_free_ const cJSON **items = calloc(n + 1, sizeof(*items));
        size_t k = 0;
        if (!items)
                return -ENOMEM;
        cJSON_ArrayForEach(e, m)
                items[k++] = e;
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (strcmp(items[j]->string, items[i]->string) < 0) {
                                const cJSON *t = items[i];
                                items[i] = items[j];
                                items[j] = t;
                        }
        list = jb_array(&b);
        for (size_t i = 0; list && i < n; i++) {
                cJSON *a = jb_obj(&b, list, NULL);
                jb_str(&b, a, "name", items[i]->string);
                jb_str(&b, a, "value", strempty(json_scalar_text(items[i])));
        }
        list = jb_result(&b, list);
        if (!list)
                return -ENOMEM;
        json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(parent, key));
        jb_add(&b, parent, key, list);
        return jb_error(&b);
}

static int move_item(cJSON *from, const char *key, cJSON *to_root, const char *to_path) {
        cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(from, key);
        if (!it)
                return 0;
        return set_default_item(to_root, to_path, it);
}

/* Converts a valid v1beta3 document in place. ClusterConfiguration's apiServer.timeoutForControlPlane
 * moves to InitConfiguration.timeouts.controlPlaneComponentHealthCheck: it is parked in *pending. */
static int convert_v1beta3(cJSON *doc, cJSON *pending) {
        const char *kind = json_get_string(doc, "kind");
        int r = 0;
        if (!streq_ptr(json_get_string(doc, "apiVersion"), FB_KUBEADM_V1BETA3))
                return 0;
        if (json_set_string(doc, "apiVersion", FB_KUBEADM_V1BETA4) < 0)
                return -ENOMEM;
        if (streq(kind, "ClusterConfiguration")) {
                static const char *const comps[] = {"apiServer", "controllerManager", "scheduler"};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(comps); i++)
                        r = args_map_to_list(cJSON_GetObjectItemCaseSensitive(doc, comps[i]), "extraArgs");
                if (r >= 0)
                        r = args_map_to_list((cJSON *) json_get(doc, "etcd.local"), "extraArgs");
                if (r >= 0)
                        r = move_item(cJSON_GetObjectItemCaseSensitive(doc, "apiServer"),
                                      "timeoutForControlPlane", pending, "controlPlaneComponentHealthCheck");
        } else {
                r = args_map_to_list(cJSON_GetObjectItemCaseSensitive(doc, "nodeRegistration"),
                                     "kubeletExtraArgs");
                if (r >= 0 && streq(kind, "JoinConfiguration"))
                        r = move_item(cJSON_GetObjectItemCaseSensitive(doc, "discovery"), "timeout", doc,
                                      "timeouts.discovery");
        }
        return r;
}

/* ---- sources ---- */

struct loader {
        struct fb_config *c;
        /* Node name and advertise address from tags and flags: they go into whichever of Init and Join
         * the role needs, so they are applied once the role is known. */
        cJSON *node_name, *advertise; /* {"value", "source"} of the last setter */
        char ***problems;
        cJSON *pending; /* converted values for other documents */
        bool partial;
        bool role_given; /* FirstbootConfiguration.role was set by some source (not defaulted to auto) */
        bool complete_for_role;
        size_t problems_before;           /* problems already there when the load began */
        struct fb_secret_context secrets; /* the store session, made at the first store secret */
        struct error *error;              /* fb_config_sources.error */
        int r;
};

/* String fields that YAML reads as numbers ("kubernetesVersion: 1.30", a numeric instance id) keep their
 * source text as a string, the way the user wrote it. */
static int stringify_numbers(cJSON *doc) {
        static const char *const paths[] = {
                "kubernetesVersion", "etcd.local.imageTag", "dns.imageTag", "nodeRegistration.name",
                "seed.instanceId",   "seed.hostname",       "clusterName"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                const cJSON *j = json_get(doc, paths[i]);
                const char *text = json_scalar_text(j);
                if (!j || cJSON_IsString(j) || !text || cJSON_IsBool(j))
                        continue;
                cJSON *parent = (cJSON *) doc;
                const char *dot = strrchr(paths[i], '.');
                if (dot) {
                        _cleanup_free_ char *pp = strndup(paths[i], (size_t) (dot - paths[i]));
                        if (!pp)
                                return -ENOMEM;
                        parent = (cJSON *) json_get(doc, pp);
                }
                struct json_builder b = {};
                if (!jb_set(&b, parent, dot ? dot + 1 : paths[i], cJSON_CreateString(text)))
                        return jb_error(&b);
        }
        return 0;
}

/*
 * Which earlier document of this source has the same kind: one source (a user-data, a file, a tag) says
 * each kind once, as kubeadm wants of a file. Two would be merged silently and one of them is a mistake
 * (a copied block, two roles). NULL when there is none.
 */
static const char *same_kind_before(cJSON *wrapped, const cJSON *upto) {
        const char *kind = json_get_string(json_get(upto, "document"), "kind");
        const cJSON *w;
        if (!kind)
                return NULL;
        cJSON_ArrayForEach(w, wrapped) {
                if (w == upto)
                        break;
                if (streq_ptr(json_get_string(json_get(w, "document"), "kind"), kind))
                        return json_get_string(w, "source");
        }
        return NULL;
}

/* Fields that say the same thing different ways: a later source that sets one replaces the others, so that a
 * value in the image defaults never outlives a file or a secret store named in the user-data (or the
 * reverse). */
static void drop_replaced_alternatives(cJSON *target, const cJSON *doc) {
        static const char *const secret_sources[] = {
                "value",         "file", "awsSecretsManager", "awsSsmParameter", "gcpSecretManager",
                "azureKeyVault", NULL};
        static const char *const ca_cert[] = {"cert", "certFile", NULL}, *const ca_key[] = {"key", "keyFile",
                                                                                            NULL};
        static const struct {
                const char *path;
                const char *const *group;
        } groups[] = {
                {"secrets.bootstrapToken", secret_sources},
                {"secrets.certificateKey", secret_sources},
                {"secrets.caKey", secret_sources},
                {"controlPlaneVIP.authentication", secret_sources},
                {"ca", ca_cert},
                {"ca", ca_key},
        };
        if (!streq_ptr(json_get_string(doc, "kind"), "FirstbootConfiguration"))
                return;
        for (size_t i = 0; i < ELEMENTSOF(groups); i++) {
                const cJSON *src = json_get(doc, groups[i].path);
                cJSON *dst = (cJSON *) json_get(target, groups[i].path);
                for (const char *const *set = groups[i].group; dst && *set; set++) {
                        const cJSON *s = cJSON_GetObjectItemCaseSensitive(src, *set);
                        if (!s || cJSON_IsNull(s))
                                continue;
                        for (const char *const *other = groups[i].group; *other; other++)
                                if (!streq(*other, *set))
                                        json_delete_wiped(
                                                cJSON_DetachItemFromObjectCaseSensitive(dst, *other));
                }
        }
}

/* Notes the fields of doc that hold a secret's value when doc comes from the user-data or a metadata tag:
 * what the metadata service hands out for the machine's life (the exposure warning of run and plan). */
static int note_userdata_secrets(struct fb_config *c, const cJSON *doc, const char *source) {
        static const struct {
                const char *kind, *path;
        } fields[] = {
                {"FirstbootConfiguration", "secrets.bootstrapToken.value"},
                {"FirstbootConfiguration", "secrets.certificateKey.value"},
                {"FirstbootConfiguration", "secrets.caKey.value"},
                {"FirstbootConfiguration", "controlPlaneVIP.authentication.value"},
                {"FirstbootConfiguration", "ca.key"},
                {"InitConfiguration", "certificateKey"},
                {"InitConfiguration", "bootstrapTokens"},
                {"JoinConfiguration", "controlPlane.certificateKey"},
                {"JoinConfiguration", "discovery.bootstrapToken.token"},
                {"JoinConfiguration", "discovery.tlsBootstrapToken"},
        };
        const char *kind = json_get_string(doc, "kind");
        if (!kind || !source || (!startswith(source, "user-data") && !startswith(source, "metadata tag")))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const cJSON *v = streq(kind, fields[i].kind) ? json_get(doc, fields[i].path) : NULL, *e;
                bool set = cJSON_IsString(v);
                if (cJSON_IsArray(v))
                        cJSON_ArrayForEach(e, v)
                                set = set || cJSON_IsString(json_get(e, "token"));
                if (!set)
                        continue;
                _cleanup_free_ char *name =
                        strdupf("%s.%s%s", kind, fields[i].path, cJSON_IsArray(v) ? "[].token" : "");
                if (!name)
                        return -ENOMEM;
                if (!strv_contains(c->userdata_secrets, name) && strv_extend(&c->userdata_secrets, name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Takes documents wrapped as {source, document}, all from one source; validates each and merges the valid
 * ones. */
static int add_documents(struct loader *l, cJSON *wrapped) {
        cJSON *w;
        cJSON_ArrayForEach(w, wrapped) {
                const char *source = json_get_string(w, "source");
                cJSON *doc = cJSON_GetObjectItemCaseSensitive(w, "document");
                size_t before = strv_length(*l->problems);
                const char *first = same_kind_before(wrapped, w);
                int r = fb_config_validate_document(doc, source, l->problems);
                if (r < 0)
                        return r;
                if (first &&
                    (r = fb_problem(l->problems, source,
                                    "%s: given twice in one source (first in %s); say each kind once",
                                    json_get_string(doc, "kind"), first)) < 0)
                        return r;
                if (strv_length(*l->problems) != before)
                        continue; /* merging a bad document would only add follow-on noise */
                r = convert_v1beta3(doc, l->pending);
                if (r >= 0)
                        r = stringify_numbers(doc);
                if (r >= 0)
                        r = note_userdata_secrets(l->c, doc, source);
                if (r < 0)
                        return r;
                cJSON *target = doc_get(l->c, json_get_string(doc, "kind"));
                if (!target)
                        return -ENOMEM;
                /* apiVersion of the target stays v1beta4 for converted kubeadm kinds. */
                drop_replaced_alternatives(target, doc);
                r = merge(target, doc);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_text(struct loader *l, const char *text, size_t len, const char *source) {
        _cleanup_(json_delete_wipedp) cJSON *docs = cJSON_CreateArray();
        int r;
        if (!docs)
                return -ENOMEM;
        r = md_config_documents_from_text(text, len, source, docs, l->problems);
        if (r < 0)
                return r;
        return add_documents(l, docs);
}

/* Why a file of ours could not be read, with the limit when it was the size. */
static const char *read_error(int r, char *buf, size_t len) {
        if (r == -EFBIG)
                snprintf(buf, len, "is larger than %u MiB, the limit", MD_USERDATA_MAX / (1024u * 1024u));
        else
                snprintf(buf, len, "cannot be read: %s", strerror(-r));
        return buf;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int load_image_defaults(struct loader *l, const char *root) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        int r;

        r = root_path(root, FB_CONFIG_DIR, &dir);
        if (r < 0)
                return r;
        d = opendir(dir);
        if (!d) {
                char why[128];
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOMEM)
                        return -ENOMEM;
                return fb_problem(l->problems, "image defaults", FB_CONFIG_DIR ": %s",
                                  read_error(-errno, why, sizeof(why)));
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && (endswith(de->d_name, ".yaml") || endswith(de->d_name, ".yml")))
                        if (strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
        if (!names)
                return 0;
        qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = strdupf(FB_CONFIG_DIR "/%s", *n), *label = NULL;
                _cleanup_erase_ char *text = NULL;
                size_t len;
                if (!path || !(label = strdupf("image defaults %s", path)))
                        return -ENOMEM;
                r = read_file(root, path, MD_USERDATA_MAX, &text, &len);
                if (r < 0) {
                        char why[128];
                        r = fb_problem(l->problems, label, "%s", read_error(r, why, sizeof(why)));
                        if (r < 0)
                                return r;
                        continue;
                }
                r = add_text(l, text, len, label);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_userdata(struct loader *l, const struct md_userdata *ud, const char *source) {
        _cleanup_(json_delete_wipedp) cJSON *docs = NULL;
        int r = md_userdata_config(ud, source, &docs, l->problems);
        if (r < 0)
                return r;
        return add_documents(l, docs);
}

static int load_file(struct loader *l, const char *path) {
        _cleanup_erase_ char *text = NULL;
        _cleanup_(md_userdata_freep) struct md_userdata *ud = NULL;
        size_t len;
        struct md_userdata_error err;
        char why[128];
        int r = read_file(NULL, path, MD_USERDATA_MAX, &text, &len);
        if (r < 0)
                return fb_problem(l->problems, NULL, "%s: %s", path, read_error(r, why, sizeof(why)));
        r = md_userdata_parse(text, len, &ud, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* "user-data part 2 (...), line 3: ..." with the file's name in place of "user-data". */
                _cleanup_free_ char *msg = md_userdata_error_to_string(&err);
                if (!msg)
                        return -ENOMEM;
                return fb_problem(l->problems, NULL, "%s%s", path, msg + strlen("user-data"));
        }
        _cleanup_(json_delete_wipedp) cJSON *docs = NULL;
        size_t before = strv_length(*l->problems);
        r = md_userdata_config(ud, path, &docs, l->problems);
        if (r < 0)
                return r;
        if (cJSON_GetArraySize(docs) == 0 && strv_length(*l->problems) == before)
                return fb_problem(
                        l->problems, NULL,
                        "%s: holds no configuration documents (YAML documents with apiVersion and kind, a #cloud-config with kube_firstboot:, or a MIME part of type " MD_MIME_KUBE_FIRSTBOOT
                        ")",
                        path);
        return add_documents(l, docs);
}

/* One small document built from a tag or a flag: {apiVersion, kind, path: value}. */
static int add_setting(struct loader *l, const char *kind, const char *path, cJSON *value,
                       const char *source) {
        _cleanup_(json_delete_wipedp) cJSON *wrapped = NULL;
        struct json_builder b = {.wipe = true};
        cJSON *list = jb_array(&b), *w = jb_obj(&b, list, NULL), *doc = jb_obj(&b, w, "document");
        int r;

        jb_str(&b, w, "source", source);
        jb_str(&b, doc, "apiVersion",
               streq(kind, "FirstbootConfiguration") ? FB_API_VERSION : FB_KUBEADM_V1BETA4);
        jb_str(&b, doc, "kind", kind);
        r = jb_finish(&b, list, &wrapped);
        if (r < 0) {
                json_delete_wiped(value);
                return r;
        }
        r = set_value(doc, path, value);
        if (r < 0)
                return r;
        return add_documents(l, wrapped);
}

static int add_string_setting(struct loader *l, const char *kind, const char *path, const char *value,
                              const char *source) {
        return add_setting(l, kind, path, cJSON_CreateString(value), source);
}

static int remember(cJSON **slot, const char *value, const char *source) {
        struct json_builder b = {.wipe = true};
        cJSON *n = jb_object(&b);
        int r;

        jb_str(&b, n, "value", value);
        jb_str(&b, n, "source", source);
        r = jb_finish(&b, n, &n);
        if (r < 0)
                return r;
        json_delete_wiped(*slot);
        *slot = n;
        return 0;
}

static int load_tags(struct loader *l, const cJSON *tags) {
        const cJSON *t;
        int r = 0;
        cJSON_ArrayForEach(t, tags) {
                const char *k = t->string, *v = t->valuestring;
                _cleanup_free_ char *label = strdupf("metadata tag '%s'", k);
                if (!label)
                        return -ENOMEM;
                if (!v || !startswith(k, "kube-firstboot-"))
                        continue;
                if (streq(k, "kube-firstboot-role"))
                        r = add_string_setting(l, "FirstbootConfiguration", "role", v, label);
                else if (streq(k, "kube-firstboot-control-plane-endpoint"))
                        r = add_string_setting(l, "ClusterConfiguration", "controlPlaneEndpoint", v, label);
                else if (streq(k, "kube-firstboot-node-name"))
                        r = remember(&l->node_name, v, label);
                else if (streq(k, "kube-firstboot-config")) {
                        _cleanup_erase_ char *dec = NULL;
                        size_t n = strlen(v);
                        if (md_is_base64(v, n, 4) && md_base64_decode(v, n, true, &dec, &n) >= 0)
                                v = dec;
                        else
                                n = strlen(v);
                        r = add_text(l, v, n, label);
                } else
                        r = fb_problem(
                                l->problems, label,
                                "unknown kube-firstboot tag (known: kube-firstboot-role, kube-firstboot-control-plane-endpoint, kube-firstboot-node-name, kube-firstboot-config)");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_flags(struct loader *l, const struct fb_flags *f) {
        int r = 0;
        if (f->role)
                r = add_string_setting(l, "FirstbootConfiguration", "role", f->role, "--role");
        if (r >= 0 && f->control_plane_endpoint)
                r = add_string_setting(l, "ClusterConfiguration", "controlPlaneEndpoint",
                                       f->control_plane_endpoint, "--control-plane-endpoint");
        if (r >= 0 && f->node_name)
                r = remember(&l->node_name, f->node_name, "--node-name");
        if (r >= 0 && f->advertise_address) {
                /* Checked here, as the field would be: an IP address. */
                struct in6_addr a;
                if (inet_pton(AF_INET, f->advertise_address, &a) != 1 &&
                    inet_pton(AF_INET6, f->advertise_address, &a) != 1)
                        r = fb_problem(l->problems, "--advertise-address", "'%s' is not an IP address",
                                       f->advertise_address);
                else
                        r = remember(&l->advertise, f->advertise_address, "--advertise-address");
        }
        for (char **s = f->set; r >= 0 && s && *s; s++) {
                /* The label names the field, never the value: it may be a token. */
                _cleanup_free_ char *label = strdupf("--set %.*s", (int) strcspn(*s, "="), *s), *kind = NULL;
                _cleanup_(json_delete_wipedp) cJSON *parsed = NULL;
                const char *eq = strchr(*s, '='), *dot = strchr(*s, '.');
                if (!label)
                        return -ENOMEM;
                if (!eq || !dot || dot > eq || dot + 1 == eq) {
                        r = fb_problem(
                                l->problems, label,
                                "takes Kind.path=value, e.g. ClusterConfiguration.networking.podSubnet=10.244.0.0/16");
                        continue;
                }
                kind = strndup(*s, (size_t) (dot - *s));
                _cleanup_free_ char *path = strndup(dot + 1, (size_t) (eq - dot - 1));
                if (!kind || !path)
                        return -ENOMEM;
                if (!fb_known_kind(kind)) {
                        r = fb_problem(l->problems, label, "'%s' is not a kind kube-firstboot reads", kind);
                        continue;
                }
                /* The value is read as YAML, so numbers, booleans and [lists] work. */
                r = yaml_parse_documents(eq + 1, strlen(eq + 1), &parsed, NULL);
                if (r >= 0 && cJSON_GetArraySize(parsed) == 0 && eq[1]) {
                        /* Kind.path=null removes the field, so that defaults (or nothing) apply. */
                        cJSON *d = doc_of(l->c, kind);
                        const char *last = strrchr(path, '.');
                        _cleanup_free_ char *parent = last ? strndup(path, (size_t) (last - path)) : NULL;
                        cJSON *obj = last ? (cJSON *) json_get(d, parent) : d;
                        if (obj)
                                json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(
                                        obj, last ? last + 1 : path));
                        r = 0;
                        continue;
                }
                cJSON *value = r >= 0 && cJSON_GetArraySize(parsed) == 1
                                       ? cJSON_DetachItemFromArray(parsed, 0)
                                       : cJSON_CreateString(eq + 1);
                r = add_setting(l, kind, path, value, label);
        }
        return r;
}

/* ---- secrets, defaults, derivations ---- */

/* One secret from its source into *ret (left NULL when it has none, or when it is read later: partial). A
 * file that cannot be read is a problem of the input; a store that cannot be read a failure (l->error). */
static int read_secret(struct loader *l, const char *root, const cJSON *src, const char *name, char **ret) {
        const char *v = json_get_string(src, "value"), *f = json_get_string(src, "file");
        const char *kind = fb_secret_source_kind(src);
        _cleanup_free_ char *label = strdupf("FirstbootConfiguration.%s", strempty(fb_secret_path(name)));
        struct fb_config *c = l->c;
        int r;

        if (!label)
                return -ENOMEM;
        if (kind) {
                struct fb_secret_info *info = &c->secret_info[c->n_secret_info];
                *info = (struct fb_secret_info){.name = name,
                                                .source = fb_secret_source_describe(src),
                                                .elsewhere = fb_secret_source_elsewhere(src)};
                if (!info->source)
                        return -ENOMEM;
                c->n_secret_info++;
        }
        if (v) {
                *ret = strdup(v);
                return *ret ? 0 : -ENOMEM;
        }
        if (!kind || l->partial)
                return 0; /* checking documents alone: the file or the store belongs to the node, not to us
                           */
        _cleanup_erase_ char *data = NULL;
        if (f) {
                r = read_file(root, f, 64 * 1024, &data, NULL);
                if (r < 0)
                        return fb_problem(l->problems, EFFECTIVE, "%s.file: '%s' cannot be read: %s", label,
                                          f, strerror(-r));
                /* A trailing newline is how files end, not part of the secret. */
                for (size_t n = strlen(data); n > 0 && isspace((unsigned char) data[n - 1]);)
                        data[--n] = 0;
        } else {
                /* A store is asked only for a configuration that is otherwise fine. */
                if (strv_length(*l->problems) != l->problems_before)
                        return 0;
                struct error why = {};
                r = fb_secret_read(&l->secrets, root, name, src, &data, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (l->error)
                                *l->error = why;
                        return r;
                }
        }
        *ret = TAKE_PTR(data);
        return 0;
}

static int read_pem(struct loader *l, const char *root, const cJSON *ca, const char *inline_key,
                    const char *file_key, char **ret) {
        const char *v = json_get_string(ca, inline_key), *f = json_get_string(ca, file_key);
        if (v)
                return (*ret = strdup(v)) ? 0 : -ENOMEM;
        if (!f || l->partial)
                return 0;
        int r = read_file(root, f, 64 * 1024, ret, NULL);
        if (r < 0)
                return fb_problem(l->problems, EFFECTIVE,
                                  "FirstbootConfiguration.ca.%s: '%s' cannot be read: %s", file_key, f,
                                  strerror(-r));
        return 0;
}

static char *endpoint_with_port(const char *ep) {
        /* kubeadm's discovery endpoint wants host:port; 6443 when the CPE has none. */
        const char *close = strchr(ep, ']');
        const char *colon = strrchr(close ?: ep, ':');
        unsigned char buf[16];
        if (close ? colon != NULL : (colon && inet_pton(AF_INET6, ep, buf) != 1))
                return strdup(ep);
        if (!close && inet_pton(AF_INET6, ep, buf) == 1)
                return strdupf("[%s]:6443", ep);
        return strdupf("%s:6443", ep);
}

/* kubeadm taints control-plane nodes when nodeRegistration.taints is unset (an empty list means none). */
static int default_control_plane_taint(cJSON *doc) {
        struct json_builder b = {};
        cJSON *t = jb_array(&b), *e = jb_obj(&b, t, NULL);

        jb_str(&b, e, "key", "node-role.kubernetes.io/control-plane");
        jb_str(&b, e, "effect", "NoSchedule");
        t = jb_result(&b, t);
        return t ? set_default_item(doc, "nodeRegistration.taints", t) : -ENOMEM;
}

/* Defaults given as path and string, set in this order (the order of the effective configuration's keys). */
struct default_value {
        const char *path, *value;
};

static int set_defaults(cJSON *doc, const struct default_value *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = set_default(doc, d[i].path, d[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct default_value cluster_defaults[] = {
        {"networking.serviceSubnet", "10.96.0.0/12"},
        {"networking.dnsDomain", "cluster.local"},
        {"kubernetesVersion", "stable-1"},
        {"certificatesDir", "/etc/kubernetes/pki"},
        {"imageRepository", "registry.k8s.io"},
        {"clusterName", "kubernetes"},
        {"encryptionAlgorithm", "RSA-2048"},
        {"certificateValidityPeriod", "8760h0m0s"},
        {"caCertificateValidityPeriod", "87600h0m0s"},
};

/* kubeadm's timeouts, the same for InitConfiguration and JoinConfiguration. */
static const struct default_value kubeadm_timeouts[] = {
        {"timeouts.controlPlaneComponentHealthCheck", "4m0s"},
        {"timeouts.kubeletHealthCheck", "4m0s"},
        {"timeouts.kubernetesAPICall", "1m0s"},
        {"timeouts.etcdAPICall", "2m0s"},
        {"timeouts.tlsBootstrap", "5m0s"},
        {"timeouts.discovery", "5m0s"},
        {"timeouts.upgradeManifests", "5m0s"},
};

/* What names and addresses the node: the command line's overrides, then the instance's. */
struct node_identity {
        const char *name_override, *address_override;
        const char *hostname; /* lower-cased: kubeadm takes the host name so (a DNS-1123 subdomain) */
        const char *address;
};

/* FirstbootConfiguration.role: auto when unset, and the effective configuration says so. */
static int default_role(struct loader *l, cJSON *fb) {
        const char *rs = json_get_string(fb, "role");

        l->role_given = rs != NULL;
        l->c->role = rs ? fb_role_from_string(rs) : FB_ROLE_AUTO;
        if (l->c->role < 0)
                l->c->role = FB_ROLE_AUTO; /* already reported by the schema */
        if (!rs && json_set_string(fb, "role", "auto") < 0)
                return -ENOMEM;
        return 0;
}

/* Where a secret read at run time came from (a file, a store), for messages; NULL for a value. */
static const char *secret_from(const struct fb_config *c, const char *name) {
        const cJSON *src = json_get(doc_of(c, "FirstbootConfiguration"), fb_secret_path(name));
        if (!fb_secret_source_elsewhere(src))
                return NULL;
        for (size_t i = 0; i < c->n_secret_info; i++)
                if (streq(c->secret_info[i].name, name))
                        return c->secret_info[i].source;
        return NULL;
}

static int fingerprint_secrets(struct fb_config *c) {
        for (size_t i = 0; i < c->n_secret_info; i++) {
                struct fb_secret_info *info = &c->secret_info[i];
                const char *v = streq(info->name, "bootstrapToken")   ? c->bootstrap_token
                                : streq(info->name, "certificateKey") ? c->certificate_key
                                : streq(info->name, "vrrpPassword")   ? c->vrrp_password
                                                                      : c->ca_key;
                if (v && fb_secret_fingerprint(v, info->fingerprint) < 0)
                        return -EIO;
        }
        return 0;
}

/* What each store needs, on the effective configuration (sources may name a secret and its endpoint apart).
 */
static int check_secret_stores(struct loader *l, const cJSON *fb) {
        static const struct {
                const char *kind, *field, *what;
        } needs[] = {
                {"awsSecretsManager", "secretId", "the secret's name or ARN"},
                {"awsSsmParameter", "name", "the parameter's name or ARN"},
                {"gcpSecretManager", "name", "projects/P/secrets/S/versions/V"},
                {"azureKeyVault", "vaultUrl", "https://NAME.vault.azure.net"},
                {"azureKeyVault", "name", "the secret's name"},
        };
        int r;

        for (const char *const *name = fb_secret_names; *name; name++) {
                const cJSON *src = json_get(fb, fb_secret_path(*name));
                for (size_t i = 0; i < ELEMENTSOF(needs); i++) {
                        const cJSON *store = cJSON_GetObjectItemCaseSensitive(src, needs[i].kind);
                        if (cJSON_IsObject(store) && !json_get_string(store, needs[i].field) &&
                            (r = fb_problem(l->problems, EFFECTIVE,
                                            "FirstbootConfiguration.%s.%s: needs %s (%s)",
                                            fb_secret_path(*name), needs[i].kind, needs[i].field,
                                            needs[i].what)) < 0)
                                return r;
                }
        }
        return 0;
}

/* The secrets and the CA material, read from where they are, the secrets checked for form. */
static int read_secrets(struct loader *l, const char *root, const cJSON *fb) {
        struct fb_config *c = l->c;
        int r;

        r = check_secret_stores(l, fb);
        if (r < 0)
                return r;

        r = read_secret(l, root, json_get(fb, "secrets.bootstrapToken"), "bootstrapToken",
                        &c->bootstrap_token);
        if (r >= 0)
                r = read_secret(l, root, json_get(fb, "secrets.certificateKey"), "certificateKey",
                                &c->certificate_key);
        if (r >= 0)
                r = read_pem(l, root, json_get(fb, "ca"), "cert", "certFile", &c->ca_cert);
        if (r >= 0)
                r = read_pem(l, root, json_get(fb, "ca"), "key", "keyFile", &c->ca_key);
        if (r >= 0 && json_get(fb, "secrets.caKey")) {
                if (json_get(fb, "ca.key") || json_get(fb, "ca.keyFile"))
                        return fb_problem(
                                l->problems, EFFECTIVE,
                                "FirstbootConfiguration.secrets.caKey: the CA key is given twice (and as ca.key or ca.keyFile): give it once");
                r = read_secret(l, root, json_get(fb, "secrets.caKey"), "caKey", &c->ca_key);
                /* PEM ends with a newline; the trailing one was dropped with the whitespace. */
                if (r >= 0 && c->ca_key) {
                        char *pem = strdupf("%s\n", c->ca_key);
                        if (!pem)
                                return -ENOMEM;
                        erase_str(c->ca_key);
                        c->ca_key = pem;
                }
        }
        if (r >= 0)
                r = read_secret(l, root, json_get(fb, "controlPlaneVIP.authentication"), "vrrpPassword",
                                &c->vrrp_password);
        if (r < 0)
                return r;
        if (c->vrrp_password && !fb_valid_vrrp_password(c->vrrp_password) &&
            (r = fb_problem(
                     l->problems, EFFECTIVE,
                     "FirstbootConfiguration.controlPlaneVIP.authentication: the value%s%s is not a VRRP password (1 to 8 printable characters, none of space, quotes, backslash, ! or #)",
                     secret_from(c, "vrrpPassword") ? " from " : "",
                     strempty(secret_from(c, "vrrpPassword")))) < 0)
                return r;
        if (c->bootstrap_token && !fb_valid_token(c->bootstrap_token) &&
            (r = fb_problem(
                     l->problems, EFFECTIVE,
                     "FirstbootConfiguration.secrets.bootstrapToken: %s%s is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}",
                     secret_from(c, "bootstrapToken") ? "the value from " : "",
                     strempty(secret_from(c, "bootstrapToken")))) < 0)
                return r;
        if (c->certificate_key && !fb_valid_certificate_key(c->certificate_key) &&
            (r = fb_problem(
                     l->problems, EFFECTIVE,
                     "FirstbootConfiguration.secrets.certificateKey: %s%s is not a certificate key of 64 hex digits (32 bytes; 'kube-firstboot pki certificate-key' makes one)",
                     secret_from(c, "certificateKey") ? "the value from " : "",
                     strempty(secret_from(c, "certificateKey")))) < 0)
                return r;
        return fingerprint_secrets(c);
}

/* The instance's host name, lower-cased; NULL without one. */
static int lowercase_hostname(const struct md_instance *inst, char **ret) {
        char *h = inst && inst->hostname ? strdup(inst->hostname) : NULL;

        if (inst && inst->hostname && !h)
                return -ENOMEM;
        for (char *p = h; p && *p; p++)
                *p = (char) tolower((unsigned char) *p);
        *ret = h;
        return 0;
}

/* ClusterConfiguration: kubeadm's defaults, and the component sections the manifests fill in. */
static int default_cluster(struct fb_config *c, cJSON **ret) {
        cJSON *cluster = doc_get(c, "ClusterConfiguration");
        int r;

        if (!cluster)
                return -ENOMEM;
        r = set_defaults(cluster, cluster_defaults, ELEMENTSOF(cluster_defaults));
        if (r < 0)
                return r;
        if (!json_get(cluster, "etcd.external") &&
            (r = set_default(cluster, "etcd.local.dataDir", "/var/lib/etcd")) < 0)
                return r;
        if (!obj_at(cluster, "apiServer") || !obj_at(cluster, "controllerManager") ||
            !obj_at(cluster, "scheduler") || !obj_at(cluster, "dns"))
                return -ENOMEM;
        *ret = cluster;
        return 0;
}

/* InitConfiguration.bootstrapTokens: at least one, the first with the configured token, each with kubeadm's
 * ttl, usages and groups. */
static int default_bootstrap_tokens(const struct fb_config *c, cJSON *init) {
        static const char *const usages[] = {"signing", "authentication"};
        static const char *const groups[] = {"system:bootstrappers:kubeadm:default-node-token"};
        cJSON *tokens = cJSON_GetObjectItemCaseSensitive(init, "bootstrapTokens"), *t;
        int r;

        if (!cJSON_IsArray(tokens) || cJSON_GetArraySize(tokens) == 0) {
                struct json_builder b = {};
                if (tokens)
                        cJSON_DeleteItemFromObjectCaseSensitive(init, "bootstrapTokens");
                tokens = jb_arr(&b, init, "bootstrapTokens");
                if (!jb_obj(&b, tokens, NULL))
                        return jb_error(&b);
        }
        t = cJSON_GetArrayItem(tokens, 0);
        if (c->bootstrap_token && !json_get(t, "token") &&
            (r = set_default(t, "token", c->bootstrap_token)) < 0)
                return r;
        /* Each list is made only when it is set, so that an earlier failure leaks nothing. */
        cJSON_ArrayForEach(t, tokens)
                if ((r = set_default(t, "ttl", "24h0m0s")) < 0 ||
                    (r = set_default_item(t, "usages", cJSON_CreateStringArray(usages, 2))) < 0 ||
                    (r = set_default_item(t, "groups", cJSON_CreateStringArray(groups, 1))) < 0)
                        return r;
        return 0;
}

/* nodeRegistration's container runtime and image pulls, as kubeadm defaults them. */
static int default_node_registration(cJSON *doc) {
        int r;

        if ((r = set_default(doc, "nodeRegistration.criSocket",
                             "unix:///var/run/containerd/containerd.sock")) < 0 ||
            (r = set_default(doc, "nodeRegistration.imagePullPolicy", "IfNotPresent")) < 0 ||
            (r = set_default_item(doc, "nodeRegistration.imagePullSerial", cJSON_CreateTrue())) < 0)
                return r;
        return 0;
}

/* InitConfiguration: the pending timeout, the tokens, the certificate key, the node's registration and
 * endpoint (overrides first, then the instance's), kubeadm's timeouts. */
static int default_init(struct loader *l, const struct node_identity *id, cJSON **ret) {
        struct fb_config *c = l->c;
        cJSON *init = doc_get(c, "InitConfiguration");
        const cJSON *pending = json_get(l->pending, "controlPlaneComponentHealthCheck");
        int r;

        if (!init)
                return -ENOMEM;
        if (pending && (r = set_default_item(init, "timeouts.controlPlaneComponentHealthCheck",
                                             cJSON_Duplicate(pending, true))) < 0)
                return r;
        if ((r = default_bootstrap_tokens(c, init)) < 0)
                return r;
        if (c->certificate_key && (r = set_default(init, "certificateKey", c->certificate_key)) < 0)
                return r;
        if ((r = default_control_plane_taint(init)) < 0 || (r = default_node_registration(init)) < 0 ||
            (r = set_default_item(init, "localAPIEndpoint.bindPort", cJSON_CreateNumber(6443))) < 0)
                return r;
        if ((id->name_override &&
             (r = set_value(init, "nodeRegistration.name", cJSON_CreateString(id->name_override))) < 0) ||
            (id->address_override && (r = set_value(init, "localAPIEndpoint.advertiseAddress",
                                                    cJSON_CreateString(id->address_override))) < 0))
                return r;
        if (id->hostname && (r = set_default(init, "nodeRegistration.name", id->hostname)) < 0)
                return r;
        if (id->address && (r = set_default(init, "localAPIEndpoint.advertiseAddress", id->address)) < 0)
                return r;
        if ((r = set_defaults(init, kubeadm_timeouts, ELEMENTSOF(kubeadm_timeouts))) < 0)
                return r;
        *ret = init;
        return 0;
}

/* JoinConfiguration.discovery without a discovery file: the token (configured, or init's) and the
 * control-plane endpoint with its port. */
static int default_discovery(const struct fb_config *c, cJSON *join, const cJSON *cluster,
                             const cJSON *init) {
        const char *cpe = cluster ? json_get_string(cluster, "controlPlaneEndpoint") : NULL;
        const char *init_token =
                init ? json_get_string(cJSON_GetArrayItem(json_get(init, "bootstrapTokens"), 0), "token")
                     : NULL;
        const char *tok = c->bootstrap_token ?: init_token, *dt;
        int r = 0;

        if (json_get(join, "discovery.file"))
                return 0;
        if (tok && (r = set_default(join, "discovery.bootstrapToken.token", tok)) < 0)
                return r;
        if (cpe && !json_get(join, "discovery.bootstrapToken.apiServerEndpoint")) {
                _cleanup_free_ char *ep = endpoint_with_port(cpe);
                if (!ep || (r = set_default(join, "discovery.bootstrapToken.apiServerEndpoint", ep)) < 0)
                        return r ?: -ENOMEM;
        }
        dt = json_get_string(join, "discovery.bootstrapToken.token");
        if (dt && (r = set_default(join, "discovery.tlsBootstrapToken", dt)) < 0)
                return r;
        return 0;
}

/* JoinConfiguration.controlPlane for a control-plane joiner, and the control-plane taint. */
static int default_join_control_plane(const struct fb_config *c, cJSON *join, const cJSON *init,
                                      const struct node_identity *id) {
        const char *ck = c->certificate_key ?: (init ? json_get_string(init, "certificateKey") : NULL);
        int r;

        if ((r = default_control_plane_taint(join)) < 0)
                return r;
        if (ck && (r = set_default(join, "controlPlane.certificateKey", ck)) < 0)
                return r;
        if ((r = set_default_item(join, "controlPlane.localAPIEndpoint.bindPort",
                                  cJSON_CreateNumber(6443))) < 0)
                return r;
        if (id->address &&
            (r = set_default(join, "controlPlane.localAPIEndpoint.advertiseAddress", id->address)) < 0)
                return r;
        return 0;
}

/* JoinConfiguration: discovery, the CA path, the node's registration (override first), the control plane's
 * part, kubeadm's timeouts. */
static int default_join(struct fb_config *c, const struct node_identity *id, const cJSON *cluster,
                        const cJSON *init, cJSON **ret) {
        cJSON *join = doc_get(c, "JoinConfiguration");
        int r;

        if (!join)
                return -ENOMEM;
        if ((r = default_discovery(c, join, cluster, init)) < 0)
                return r;
        if ((r = set_default(join, "caCertPath", "/etc/kubernetes/pki/ca.crt")) < 0 ||
            (r = default_node_registration(join)) < 0)
                return r;
        if (id->name_override &&
            (r = set_value(join, "nodeRegistration.name", cJSON_CreateString(id->name_override))) < 0)
                return r;
        if (id->hostname && (r = set_default(join, "nodeRegistration.name", id->hostname)) < 0)
                return r;
        if (c->role != FB_ROLE_WORKER && (r = default_join_control_plane(c, join, init, id)) < 0)
                return r;
        if ((r = set_defaults(join, kubeadm_timeouts, ELEMENTSOF(kubeadm_timeouts))) < 0)
                return r;
        *ret = join;
        return 0;
}

/* The lists the accessors hand out: the CA pins (lower-cased) and the seed's peers. */
static int collect_lists(struct fb_config *c, const cJSON *fb, const cJSON *join) {
        const cJSON *e;

        cJSON_ArrayForEach(e, json_get(join, "discovery.bootstrapToken.caCertHashes"))
                if (cJSON_IsString(e)) {
                        _cleanup_free_ char *lower = strdup(e->valuestring);
                        if (!lower)
                                return -ENOMEM;
                        for (char *p = lower; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        if (strv_consume(&c->hashes, TAKE_PTR(lower)) < 0)
                                return -ENOMEM;
                }
        cJSON_ArrayForEach(e, json_get(fb, "seed.peers"))
                if (cJSON_IsString(e) && strv_extend(&c->peers, e->valuestring) < 0)
                        return -ENOMEM;
        return 0;
}

/*
 * The effective configuration: the role, the secrets, then kubeadm's defaults for the documents the role
 * needs (ClusterConfiguration when init may run or one was given, InitConfiguration for init and auto,
 * JoinConfiguration for every role but init), filled from the node's identity.
 */
/* controlPlaneVIP: the provider, router id and port; ClusterConfiguration.controlPlaneEndpoint defaults to
 * address:port (cluster may be NULL: a joiner without one). */
static int default_vip(struct loader *l, cJSON *fb, cJSON *cluster) {
        cJSON *vip = (cJSON *) json_get(fb, "controlPlaneVIP");
        const char *addr = json_get_string(vip, "address"), *provider;
        int64_t port = 0, bind_port = 6443;
        int r;

        if (!vip)
                return 0;
        if (!addr)
                return fb_problem(
                        l->problems, EFFECTIVE,
                        "FirstbootConfiguration.controlPlaneVIP.address: required with controlPlaneVIP");
        if ((r = set_default(vip, "provider", "keepalived")) < 0)
                return r;
        provider = json_get_string(vip, "provider");
        (void) json_get_int64(doc_of(l->c, "InitConfiguration"), "localAPIEndpoint.bindPort", &bind_port);
        if (json_get_int64(vip, "port", &port) < 0) {
                port = streq_ptr(provider, "kube-vip") ? bind_port : 8443;
                if ((r = set_default_item(vip, "port", cJSON_CreateNumber((double) port))) < 0)
                        return r;
        }
        if (streq_ptr(provider, "keepalived") && port == bind_port)
                return fb_problem(
                        l->problems, EFFECTIVE,
                        "FirstbootConfiguration.controlPlaneVIP.port: %lld is the apiserver's bindPort; with keepalived, haproxy listens on every control plane beside the apiserver and needs a port of its own (8443 by default)",
                        (long long) port);
        if (streq_ptr(provider, "keepalived") &&
            (r = set_default_item(vip, "virtualRouterId", cJSON_CreateNumber(51))) < 0)
                return r;
        if (!cluster || json_get(cluster, "controlPlaneEndpoint"))
                return 0;
        _cleanup_free_ char *ep = strchr(addr, ':') ? strdupf("[%s]:%lld", addr, (long long) port)
                                                    : strdupf("%s:%lld", addr, (long long) port);
        return ep ? set_default(cluster, "controlPlaneEndpoint", ep) : -ENOMEM;
}

static int apply_defaults(struct loader *l, const struct fb_config_sources *src) {
        struct fb_config *c = l->c;
        const struct md_instance *inst = src->instance;
        cJSON *fb = doc_get(c, "FirstbootConfiguration"), *init = NULL, *cluster = NULL, *join = NULL;
        _cleanup_free_ char *hostname = NULL;
        int r;

        if (!fb)
                return -ENOMEM;
        if ((r = default_role(l, fb)) < 0 || (r = read_secrets(l, src->root, fb)) < 0)
                return r;
        bool need_init = c->role == FB_ROLE_INIT || c->role == FB_ROLE_AUTO;
        bool need_join = c->role != FB_ROLE_INIT;
        if ((need_init || doc_of(c, "ClusterConfiguration")) && (r = default_cluster(c, &cluster)) < 0)
                return r;
        if ((r = default_vip(l, fb, cluster)) < 0)
                return r;
        if ((r = lowercase_hostname(inst, &hostname)) < 0)
                return r;
        const struct node_identity id = {
                .name_override = json_get_string(l->node_name, "value"),
                .address_override = json_get_string(l->advertise, "value"),
                .hostname = hostname,
                .address = inst ? (inst->local_ipv4 ?: inst->local_ipv6) : NULL,
        };
        if (need_init && (r = default_init(l, &id, &init)) < 0)
                return r;
        if (need_join && (r = default_join(c, &id, cluster, init, &join)) < 0)
                return r;
        return collect_lists(c, fb, join);
}

static int check_complete(struct loader *l) {
        struct fb_config *c = l->c;
        const cJSON *fb = doc_of(c, "FirstbootConfiguration"), *join = doc_of(c, "JoinConfiguration"),
                    *cluster = doc_of(c, "ClusterConfiguration");
        char ***p = l->problems;
        int r = 0;

#define NEED(cond, ...)                                                                                     \
        if (r >= 0 && !(cond))                                                                              \
                r = fb_problem(p, EFFECTIVE, __VA_ARGS__);

        /* Checking documents alone (config validate FILE): a secret named by file or store, or a CA named by
         * file, counts as given. */
        bool token_file = l->partial && fb_secret_source_elsewhere(json_get(fb, "secrets.bootstrapToken"));
        bool key_file = l->partial && fb_secret_source_elsewhere(json_get(fb, "secrets.certificateKey"));
        bool ca_file = l->partial && json_get(fb, "ca.certFile");

        if (c->role != FB_ROLE_INIT && join && !json_get(join, "discovery.file")) {
                bool skip =
                        cJSON_IsTrue(json_get(join, "discovery.bootstrapToken.unsafeSkipCAVerification"));
                NEED(json_get(join, "discovery.bootstrapToken.token") || token_file,
                     "JoinConfiguration.discovery.bootstrapToken.token: required to join (or FirstbootConfiguration.secrets.bootstrapToken, or discovery.file)");
                NEED(json_get(join, "discovery.bootstrapToken.apiServerEndpoint"),
                     "JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint: required to join (or ClusterConfiguration.controlPlaneEndpoint)");
                NEED(c->hashes || skip || c->ca_cert || ca_file,
                     "JoinConfiguration.discovery.bootstrapToken.caCertHashes: required to join safely (or FirstbootConfiguration.ca, or unsafeSkipCAVerification: true)");
        }
        if (c->role == FB_ROLE_CONTROL_PLANE || c->role == FB_ROLE_AUTO)
                NEED(json_get(join, "controlPlane.certificateKey") || key_file,
                     "JoinConfiguration.controlPlane.certificateKey: required for a control-plane join (or FirstbootConfiguration.secrets.certificateKey)");
        if (c->role == FB_ROLE_WORKER && join)
                NEED(!json_get(join, "controlPlane"),
                     "JoinConfiguration.controlPlane: set, but the role is worker");
        if (c->role == FB_ROLE_AUTO) {
                const char *rule = json_get_string(fb, "seed.rule");
                NEED(cluster && json_get(cluster, "controlPlaneEndpoint"),
                     "ClusterConfiguration.controlPlaneEndpoint: required with role auto (the other control planes join there)");
                NEED(rule,
                     "FirstbootConfiguration.seed.rule: required with role auto (instanceId, hostname, address or lowestAddress)");
                if (rule && streq(rule, "lowestAddress"))
                        NEED(c->peers,
                             "FirstbootConfiguration.seed.peers: required with seed rule lowestAddress");
                if (rule && streq(rule, "instanceId"))
                        NEED(json_get(fb, "seed.instanceId"),
                             "FirstbootConfiguration.seed.instanceId: required with seed rule instanceId");
                if (rule && streq(rule, "hostname"))
                        NEED(json_get(fb, "seed.hostname"),
                             "FirstbootConfiguration.seed.hostname: required with seed rule hostname");
                if (rule && streq(rule, "address"))
                        NEED(json_get(fb, "seed.address"),
                             "FirstbootConfiguration.seed.address: required with seed rule address");
        }
#undef NEED
        return r;
}

/* ---- consistency of the effective values: every verb, documents alone too ---- */

struct cidr {
        int family; /* 4 or 6 */
        unsigned char addr[16];
        unsigned prefix;
        char text[64];
};

/* The CIDRs of a comma-separated list (at most 2, the schema checked the syntax). */
static size_t parse_cidrs(const char *s, struct cidr out[2]) {
        size_t n = 0;
        for (const char *p = s; p && *p && n < 2;) {
                size_t len = strcspn(p, ",");
                struct cidr c = {};
                char addr[64];
                const char *slash = memchr(p, '/', len);
                if (slash && len < sizeof(c.text) && (size_t) (slash - p) < sizeof(addr)) {
                        memcpy(c.text, p, len);
                        memcpy(addr, p, (size_t) (slash - p));
                        addr[slash - p] = 0;
                        c.family = inet_pton(AF_INET, addr, c.addr) == 1    ? 4
                                   : inet_pton(AF_INET6, addr, c.addr) == 1 ? 6
                                                                            : 0;
                        if (c.family && safe_atou(c.text + (slash - p) + 1, &c.prefix) >= 0)
                                out[n++] = c;
                }
                p += len;
                if (*p == ',')
                        p++;
        }
        return n;
}

static bool cidr_overlap(const struct cidr *a, const struct cidr *b) {
        unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
        if (a->family != b->family)
                return false;
        for (unsigned bit = 0; bit < p; bit++) {
                unsigned char m = (unsigned char) (0x80 >> (bit % 8));
                if ((a->addr[bit / 8] & m) != (b->addr[bit / 8] & m))
                        return false;
        }
        return true;
}

/* The controller-manager's node-cidr-mask-size for a family, as kubeadm reads it (24 and 64 by default). */
static unsigned node_mask(const cJSON *cluster, int family) {
        const char *names[] = {family == 4 ? "node-cidr-mask-size-ipv4" : "node-cidr-mask-size-ipv6",
                               "node-cidr-mask-size"};
        const cJSON *e;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                cJSON_ArrayForEach(e, json_get(cluster, "controllerManager.extraArgs")) {
                        unsigned v;
                        if (streq_ptr(json_get_string(e, "name"), names[i]) &&
                            safe_atou(strempty(json_get_string(e, "value")), &v) >= 0)
                                return v;
                }
        return family == 4 ? 24 : 64;
}

static int check_networking(struct loader *l, const cJSON *cluster) {
        struct cidr svc[2], pod[2];
        size_t ns = parse_cidrs(json_get_string(cluster, "networking.serviceSubnet"), svc);
        size_t np = parse_cidrs(json_get_string(cluster, "networking.podSubnet"), pod);
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ns; i++)
                for (size_t k = 0; r >= 0 && k < np; k++)
                        if (cidr_overlap(&svc[i], &pod[k]))
                                r = fb_problem(
                                        l->problems, EFFECTIVE,
                                        "ClusterConfiguration.networking.serviceSubnet: %s overlaps the podSubnet %s; services and pods need address ranges of their own",
                                        svc[i].text, pod[k].text);
        for (size_t k = 0; r >= 0 && k < np; k++) {
                /* kubeadm: the pod subnet holds whole node ranges, at most 2^16 of them. */
                unsigned mask = node_mask(cluster, pod[k].family);
                if (pod[k].prefix > mask)
                        r = fb_problem(
                                l->problems, EFFECTIVE,
                                "ClusterConfiguration.networking.podSubnet: %s is smaller than one node's range (/%u, the controller-manager's node-cidr-mask-size)",
                                pod[k].text, mask);
                else if (mask - pod[k].prefix > 16)
                        r = fb_problem(
                                l->problems, EFFECTIVE,
                                "ClusterConfiguration.networking.podSubnet: %s holds more than 2^16 node ranges of /%u, the most kubeadm allows",
                                pod[k].text, mask);
        }
        return r;
}

/* The CA the configuration gives: PEM, a CA, its key matching; and a key wherever this node may run init. */
static int check_ca(struct loader *l, bool may_init) {
        struct fb_config *c = l->c;
        const cJSON *ca = json_get(doc_of(c, "FirstbootConfiguration"), "ca");
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        bool has_cert = json_get(ca, "cert") || json_get(ca, "certFile");
        const cJSON *fb = doc_of(c, "FirstbootConfiguration");
        bool has_key = json_get(ca, "key") || json_get(ca, "keyFile") || json_get(fb, "secrets.caKey");
        const char *key_field = json_get(ca, "key")       ? "ca.key"
                                : json_get(ca, "keyFile") ? "ca.keyFile"
                                                          : "secrets.caKey";
        int r;

        if (c->ca_cert && pki_cert_from_pem(c->ca_cert, strlen(c->ca_cert), &cert) < 0)
                return fb_problem(l->problems, EFFECTIVE,
                                  "FirstbootConfiguration.ca.%s: is not a PEM certificate",
                                  json_get(ca, "cert") ? "cert" : "certFile");
        if (cert && !pki_cert_is_ca(cert))
                return fb_problem(l->problems, EFFECTIVE,
                                  "FirstbootConfiguration.ca.%s: is a certificate, but not a CA's",
                                  json_get(ca, "cert") ? "cert" : "certFile");
        if (c->ca_key && pki_key_from_pem(c->ca_key, strlen(c->ca_key), &key) < 0)
                return fb_problem(l->problems, EFFECTIVE,
                                  "FirstbootConfiguration.%s: is not a PEM private key (RSA or ECDSA)",
                                  key_field);
        if (cert && key && !pki_key_public_equal(key, X509_get0_pubkey(cert)))
                return fb_problem(l->problems, EFFECTIVE,
                                  "FirstbootConfiguration.%s: does not match the CA certificate", key_field);
        if (has_key && !has_cert)
                return fb_problem(
                        l->problems, EFFECTIVE,
                        "FirstbootConfiguration.ca: a key without its certificate (ca.cert or ca.certFile)");
        if (may_init && has_cert && !has_key &&
            (r = fb_problem(
                     l->problems, EFFECTIVE,
                     "FirstbootConfiguration.ca: a CA certificate without its key, but role %s may run init, which signs with it: give ca.key, ca.keyFile or secrets.caKey (or no ca, for a new CA)",
                     fb_role_to_string(c->role))) < 0)
                return r;
        return 0;
}

static int check_consistent(struct loader *l) {
        struct fb_config *c = l->c;
        const cJSON *cluster = doc_of(c, "ClusterConfiguration");
        int r = 0;

        if (cluster && json_get(cluster, "etcd.local") && json_get(cluster, "etcd.external"))
                r = fb_problem(l->problems, EFFECTIVE,
                               "ClusterConfiguration.etcd: local and external are mutually exclusive");
        if (r >= 0 && cluster)
                r = check_networking(l, cluster);
        if (r >= 0)
                r = check_ca(l, (c->role == FB_ROLE_INIT || c->role == FB_ROLE_AUTO) &&
                                        (!l->partial || (l->complete_for_role && l->role_given)));
        return r;
}

int fb_config_load(const struct fb_config_sources *src, struct fb_config **ret, char ***problems) {
        _cleanup_(fb_config_freep) struct fb_config *c = calloc(1, sizeof(*c));
        _cleanup_(json_delete_wipedp) cJSON *pending = cJSON_CreateObject();
        struct loader l = {.c = c,
                           .problems = problems,
                           .pending = pending,
                           .partial = src->partial,
                           .complete_for_role = src->complete_for_role,
                           .problems_before = strv_length(*problems),
                           .secrets = {.md = src->md,
                                       .datasource = src->instance && src->instance->datasource
                                                             ? src->instance->datasource
                                                     : src->md ? src->md->datasource
                                                               : NULL},
                           .error = src->error};
        _cleanup_(json_delete_wipedp) cJSON *node_name_slot = NULL, *advertise_slot = NULL;
        size_t before = strv_length(*problems);
        int r;

        if (!c || !pending || !(c->docs = cJSON_CreateObject()))
                return -ENOMEM;
        if (!src->skip_image_defaults && (r = load_image_defaults(&l, src->root)) < 0)
                return r;
        if (src->instance && src->instance->ud && (r = add_userdata(&l, src->instance->ud, "user-data")) < 0)
                return r;
        if (src->instance && src->instance->userdata_error &&
            (r = fb_problem(problems, src->instance->userdata_source, "%s", src->instance->userdata_error)) <
                    0)
                return r;
        for (char **f = src->files; f && *f; f++)
                if ((r = load_file(&l, *f)) < 0)
                        return r;
        if (src->instance && (r = load_tags(&l, src->instance->tags)) < 0)
                return r;
        if ((r = load_flags(&l, &src->flags)) < 0)
                return r;
        node_name_slot = l.node_name;
        advertise_slot = l.advertise;
        r = apply_defaults(&l, src);
        fb_secret_context_done(&l.secrets);
        if (r < 0)
                return r;
        if (strv_length(*problems) == before && (r = check_consistent(&l)) < 0)
                return r;
        /* Documents alone are complete for their role when they name one. */
        if ((!src->partial || (src->complete_for_role && l.role_given)) &&
            strv_length(*problems) == before && (r = check_complete(&l)) < 0)
                return r;
        if (strv_length(*problems) != before)
                return -EINVAL;
        r = fb_settings_new(
                &(struct fb_settings_documents){.firstboot = doc_of(c, "FirstbootConfiguration"),
                                                .init = doc_of(c, "InitConfiguration"),
                                                .cluster = doc_of(c, "ClusterConfiguration"),
                                                .join = doc_of(c, "JoinConfiguration"),
                                                .kubelet = doc_of(c, "KubeletConfiguration"),
                                                .kube_proxy = doc_of(c, "KubeProxyConfiguration"),
                                                .ca_cert_pem = c->ca_cert,
                                                .ca_key_pem = c->ca_key,
                                                .vrrp_password = c->vrrp_password,
                                                .ca_cert_hashes = c->hashes},
                &c->settings);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- printing ---- */

static void redact(struct json_builder *b, cJSON *j, bool under_secret) {
        for (cJSON *e = j ? j->child : NULL, *next; e; e = next) {
                next = e->next; /* e may be replaced below */
                bool secret =
                        e->string &&
                        (streq(e->string, "token") || streq(e->string, "tlsBootstrapToken") ||
                         streq(e->string, "certificateKey") || (under_secret && streq(e->string, "value")));
                if (secret && cJSON_IsString(e)) {
                        explicit_bzero(e->valuestring, strlen(e->valuestring));
                        jb_set(b, j, e->string, cJSON_CreateString(FB_REDACTED));
                        continue;
                }
                redact(b, e,
                       e->string &&
                               (streq(e->string, "secrets") || streq(e->string, "bootstrapToken") ||
                                streq(e->string, "certificateKey") || streq(e->string, "authentication") ||
                                (under_secret && !streq(e->string, "file"))));
        }
}

int fb_config_print(const struct fb_config *c, bool redact_secrets, char **ret) {
        _cleanup_(json_delete_wipedp) cJSON *out = NULL;
        struct json_builder b = {.wipe = true};
        cJSON *list = jb_array(&b);
        int r;

        for (size_t i = 0; list && i < ELEMENTSOF(kind_order); i++) {
                const cJSON *d = doc_of(c, kind_order[i]);
                cJSON *copy = d ? jb_copy(&b, list, NULL, d) : NULL;
                if (!copy || !redact_secrets)
                        continue;
                redact(&b, copy, false);
                cJSON *ca = (cJSON *) json_get(copy, "ca");
                if (streq(kind_order[i], "FirstbootConfiguration") && json_get_string(ca, "key")) {
                        json_delete_wiped(cJSON_DetachItemFromObjectCaseSensitive(ca, "key"));
                        jb_str(&b, ca, "key", FB_REDACTED);
                }
        }
        r = jb_finish(&b, list, &out);
        if (r < 0)
                return r;
        return yaml_emit(out, ret);
}

/* ---- accessors ---- */

const char *fb_role_to_string(enum fb_role r) {
        static const char *const names[] = {"auto", "init", "control-plane", "worker"};
        return r >= 0 && (size_t) r < ELEMENTSOF(names) ? names[r] : NULL;
}

enum fb_role fb_role_from_string(const char *s) {
        for (enum fb_role r = FB_ROLE_AUTO; r <= FB_ROLE_WORKER; r++)
                if (streq_ptr(s, fb_role_to_string(r)))
                        return r;
        return _FB_ROLE_INVALID;
}

enum fb_role fb_config_role(const struct fb_config *c) {
        return c->role;
}

enum fb_seed_rule fb_config_seed_rule(const struct fb_config *c) {
        const char *r = json_get_string(doc_of(c, "FirstbootConfiguration"), "seed.rule");
        if (c->role != FB_ROLE_AUTO || !r)
                return FB_SEED_NONE;
        return streq(r, "instanceId") ? FB_SEED_INSTANCE_ID
               : streq(r, "hostname") ? FB_SEED_HOSTNAME
               : streq(r, "address")  ? FB_SEED_ADDRESS
                                      : FB_SEED_LOWEST_ADDRESS;
}

/* The value the rule compares with (instance id, hostname or address); NULL for lowestAddress. */
static const char *seed_value(const struct fb_config *c) {
        const cJSON *fb = doc_of(c, "FirstbootConfiguration");
        switch (fb_config_seed_rule(c)) {
        case FB_SEED_INSTANCE_ID:
                return json_get_string(fb, "seed.instanceId");
        case FB_SEED_HOSTNAME:
                return json_get_string(fb, "seed.hostname");
        case FB_SEED_ADDRESS:
                return json_get_string(fb, "seed.address");
        default:
                return NULL;
        }
}

char *const *fb_config_seed_peers(const struct fb_config *c) {
        return c->peers;
}

int fb_config_is_seed(const struct fb_config *c, const struct md_instance *inst) {
        const char *v = seed_value(c);
        switch (fb_config_seed_rule(c)) {
        case FB_SEED_INSTANCE_ID:
                return inst->instance_id ? streq_ptr(v, inst->instance_id) : -EINVAL;
        case FB_SEED_HOSTNAME: {
                const char *name = fb_config_node_name(c) ?: inst->hostname;
                return name || inst->hostname ? streq_ptr(v, inst->hostname) || streq_ptr(v, name) : -EINVAL;
        }
        case FB_SEED_ADDRESS:
                if (!inst->local_ipv4 && !inst->local_ipv6)
                        return -EINVAL;
                return (inst->local_ipv4 && ip_cmp(v, inst->local_ipv4) == 0) ||
                       (inst->local_ipv6 && ip_cmp(v, inst->local_ipv6) == 0);
        case FB_SEED_LOWEST_ADDRESS: {
                const char *lowest = NULL, *mine = inst->local_ipv4 ?: inst->local_ipv6;
                if (!mine || !c->peers)
                        return -EINVAL;
                for (char *const *p = c->peers; *p; p++)
                        if (!lowest || ip_cmp(*p, lowest) == -1)
                                lowest = *p;
                return ip_cmp(lowest, mine) == 0;
        }
        default:
                return -EINVAL;
        }
}

const struct fb_settings *fb_config_settings(const struct fb_config *c) {
        return c->settings;
}

/* InitConfiguration's for role init and auto, else JoinConfiguration's. */
#define INIT_OR_JOIN(c, field)                                                                              \
        ({                                                                                                  \
                const struct fb_settings *_s = (c)->settings;                                               \
                const char *_v = NULL;                                                                      \
                if (_s->init && ((c)->role == FB_ROLE_INIT || (c)->role == FB_ROLE_AUTO))                   \
                        _v = _s->init->field;                                                               \
                if (!_v && _s->join)                                                                        \
                        _v = _s->join->field;                                                               \
                _v;                                                                                         \
        })

const char *fb_config_node_name(const struct fb_config *c) {
        return INIT_OR_JOIN(c, registration.name);
}

const char *fb_config_advertise_address(const struct fb_config *c) {
        return INIT_OR_JOIN(c, advertise_address);
}

unsigned fb_config_bind_port(const struct fb_config *c) {
        const struct fb_settings *s = c->settings;
        return s->init ? s->init->bind_port : s->join ? s->join->bind_port : 6443;
}

const char *fb_config_bootstrap_token(const struct fb_config *c) {
        const struct fb_settings *s = c->settings;
        const char *t = NULL;
        if ((c->role == FB_ROLE_INIT || c->role == FB_ROLE_AUTO) && s->init &&
            s->init->n_bootstrap_tokens > 0)
                t = s->init->bootstrap_tokens[0].token;
        return t ?: s->join ? s->join->discovery.token : NULL;
}

const char *fb_config_certificate_key(const struct fb_config *c) {
        return INIT_OR_JOIN(c, certificate_key);
}

const struct fb_secret_info *fb_config_secret_info(const struct fb_config *c, size_t *ret_n) {
        *ret_n = c->n_secret_info;
        return c->secret_info;
}

char *const *fb_config_userdata_secrets(const struct fb_config *c) {
        return c->userdata_secrets;
}

int fb_config_read_secret(const struct fb_config *c, struct fb_secret_context *ctx, const char *root,
                          const char *name, char **ret, struct error *why) {
        const cJSON *src = json_get(doc_of(c, "FirstbootConfiguration"), fb_secret_path(name));
        _cleanup_erase_ char *value = NULL;
        int r;

        if (!fb_secret_source_kind(src))
                return -ENXIO;
        r = fb_secret_read(ctx, root, name, src, &value, why);
        if (r < 0)
                return r;
        bool ok;
        if (streq(name, "caKey")) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                ok = pki_key_from_pem(value, strlen(value), &key) >= 0;
        } else if (streq(name, "vrrpPassword"))
                ok = fb_valid_vrrp_password(value);
        else
                ok = streq(name, "bootstrapToken") ? fb_valid_token(value) : fb_valid_certificate_key(value);
        if (!ok) {
                _cleanup_free_ char *where = fb_secret_source_describe(src);
                return error_set(why, -EBADMSG,
                                 "FirstbootConfiguration.secrets.%s from %s: the value is not %s", name,
                                 strempty(where),
                                 streq(name, "bootstrapToken")
                                         ? "a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}"
                                 : streq(name, "certificateKey") ? "a certificate key of 64 hex digits"
                                                                 : "a PEM private key (RSA or ECDSA)");
        }
        *ret = TAKE_PTR(value);
        return 0;
}

const cJSON *fb_config_document(const struct fb_config *c, const char *kind) {
        return doc_of(c, kind);
}
