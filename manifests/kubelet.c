/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "manifests/kubelet.h"

#define DEFAULT_CRI "unix:///var/run/containerd/containerd.sock"

const char *mf_kubelet_cri_socket(const struct mf_kubelet_spec *s) {
        return s->cri_socket ?: DEFAULT_CRI;
}

static void merge_json(struct json_builder *b, cJSON *dst, const cJSON *src) {
        for (const cJSON *c = src->child; c; c = c->next) {
                cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, c->string);
                if (have && cJSON_IsObject(have) && cJSON_IsObject(c))
                        merge_json(b, have, c);
                else
                        jb_set(b, dst, c->string, cJSON_Duplicate(c, true));
        }
}

int mf_merge_json(cJSON *dst, const cJSON *src) {
        struct json_builder b = {};
        merge_json(&b, dst, src);
        return jb_error(&b);
}

int mf_kubelet_config(const struct mf_kubelet_spec *s, const cJSON *user, cJSON **ret) {
        const struct mf_versions *v;
        struct json_builder b = {};
        char dns[IP_STRING_MAX];
        cJSON *k, *o, *a;
        int r;

        r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;
        r = cidr_nth_ip(s->service_subnet ?: "10.96.0.0/12", 10, dns);
        if (r < 0)
                return r;

        k = jb_object(&b);
        jb_str(&b, k, "apiVersion", "kubelet.config.k8s.io/v1beta1");
        o = jb_obj(&b, k, "authentication");
        jb_bool(&b, jb_obj(&b, o, "anonymous"), "enabled", false);
        a = jb_obj(&b, o, "webhook");
        jb_str(&b, a, "cacheTTL", "0s");
        jb_bool(&b, a, "enabled", true);
        jb_strf(&b, jb_obj(&b, o, "x509"), "clientCAFile", "%s/ca.crt",
                s->cert_dir ?: "/etc/kubernetes/pki");
        o = jb_obj(&b, k, "authorization");
        jb_str(&b, o, "mode", "Webhook");
        a = jb_obj(&b, o, "webhook");
        jb_str(&b, a, "cacheAuthorizedTTL", "0s");
        jb_str(&b, a, "cacheUnauthorizedTTL", "0s");
        jb_str(&b, k, "cgroupDriver", "systemd");
        jb_str(&b, jb_arr(&b, k, "clusterDNS"), NULL, dns);
        jb_str(&b, k, "clusterDomain", s->dns_domain ?: "cluster.local");
        if (v->node_local_cri_socket)
                jb_str(&b, k, "containerRuntimeEndpoint", mf_kubelet_cri_socket(s));
        jb_str(&b, k, "healthzBindAddress", "127.0.0.1");
        jb_num(&b, k, "healthzPort", 10248);
        jb_str(&b, k, "kind", "KubeletConfiguration");
        if (s->resolved_active)
                jb_str(&b, k, "resolvConf", "/run/systemd/resolve/resolv.conf");
        jb_bool(&b, k, "rotateCertificates", true);
        jb_str(&b, k, "staticPodPath", "/etc/kubernetes/manifests");
        if (user && k)
                merge_json(&b, k, user);
        mf_sort_keys(k);
        return jb_finish(&b, k, ret);
}

int mf_kubelet_instance_config(const struct mf_kubelet_spec *s, cJSON **ret) {
        const struct mf_versions *v;
        struct json_builder b = {};
        cJSON *k;
        int r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;
        if (!v->node_local_cri_socket)
                return -ENOENT;
        k = jb_object(&b);
        jb_str(&b, k, "apiVersion", "kubelet.config.k8s.io/v1beta1");
        jb_str(&b, k, "containerRuntimeEndpoint", mf_kubelet_cri_socket(s));
        jb_str(&b, k, "kind", "KubeletConfiguration");
        return jb_finish(&b, k, ret);
}

/* Go's %q for the printable ASCII kubelet flags hold: backslash and quote escaped. */
static char *go_quote(const char *s) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 3;
        char *q, *p;
        for (const char *c = s; *c; c++)
                n += (*c == '"' || *c == '\\') ? 2 : ((unsigned char) *c < 0x20 ? 4 : 1);
        q = p = calloc(n, 1);
        if (!q)
                return NULL;
        *p++ = '"';
        for (const char *c = s; *c; c++) {
                if (*c == '"' || *c == '\\') {
                        *p++ = '\\';
                        *p++ = *c;
                } else if ((unsigned char) *c < 0x20) {
                        *p++ = '\\';
                        *p++ = 'x';
                        *p++ = hex[(unsigned char) *c >> 4];
                        *p++ = hex[*c & 15];
                } else
                        *p++ = *c;
        }
        *p++ = '"';
        *p = 0;
        return q;
}

struct flag {
        const char *name;
        char *value;
};

static int flag_cmp(const void *a, const void *b) {
        const struct flag *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r ? r : strcmp(x->value, y->value);
}

int mf_kubeadm_flags_env(const struct mf_kubelet_spec *s, char **ret) {
        const struct mf_versions *v;
        struct flag flags[64];
        size_t n = 0, len = 0;
        _cleanup_free_ char *line = NULL, *quoted = NULL;
        int r;

        r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;

#define ADD(nm, ...)                                                                                        \
        do {                                                                                                \
                if (n >= ELEMENTSOF(flags)) {                                                               \
                        r = -E2BIG;                                                                         \
                        goto out;                                                                           \
                }                                                                                           \
                flags[n].name = (nm);                                                                       \
                flags[n].value = strdupf(__VA_ARGS__);                                                      \
                if (!flags[n].value) {                                                                      \
                        r = -ENOMEM;                                                                        \
                        goto out;                                                                           \
                }                                                                                           \
                n++;                                                                                        \
        } while (0)

        if (!v->node_local_cri_socket)
                ADD("container-runtime-endpoint", "%s", mf_kubelet_cri_socket(s));
        if (s->hostname && s->node_name && !streq(s->hostname, s->node_name))
                ADD("hostname-override", "%s", s->node_name);
        if (v->pause_image_flag)
                ADD("pod-infra-container-image", "%s/pause:%s", s->image_repository ?: "registry.k8s.io",
                    v->pause_tag);
        if (s->worker && s->taints && s->taints[0]) {
                _cleanup_free_ char *t = strjoin_sep(s->taints, strv_length((char *const *) s->taints), ",");
                if (!t) {
                        r = -ENOMEM;
                        goto out;
                }
                ADD("register-with-taints", "%s", t);
        }
        /* kubeletExtraArgs replace defaults of the same name. */
        for (size_t i = 0; i < s->n_extra_args; i++)
                for (size_t j = 0; j < n; j++)
                        if (streq(flags[j].name, s->extra_args[i].name)) {
                                free(flags[j].value);
                                flags[j] = flags[--n];
                                j--;
                        }
        for (size_t i = 0; i < s->n_extra_args; i++)
                ADD(s->extra_args[i].name, "%s", s->extra_args[i].value ?: "");
#undef ADD
        qsort_safe(flags, n, sizeof(flags[0]), flag_cmp);

        for (size_t i = 0; i < n; i++)
                len += strlen(flags[i].name) + strlen(flags[i].value) + 4;
        line = malloc(len + 1);
        if (!line) {
                r = -ENOMEM;
                goto out;
        }
        line[0] = 0;
        for (size_t i = 0, off = 0; i < n; i++)
                off += (size_t) sprintf(line + off, "%s--%s=%s", i ? " " : "", flags[i].name,
                                        flags[i].value);
        quoted = go_quote(line);
        if (!quoted) {
                r = -ENOMEM;
                goto out;
        }
        char *env = strdupf("KUBELET_KUBEADM_ARGS=%s\n", quoted);
        if (!env) {
                r = -ENOMEM;
                goto out;
        }
        *ret = env;
        r = 0;
out:
        for (size_t i = 0; i < n; i++)
                free(flags[i].value);
        return r;
}
