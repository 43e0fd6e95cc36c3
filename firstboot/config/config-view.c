/* SPDX-License-Identifier: Apache-2.0 */
/* The typed view of the configuration, parsed once from the effective documents. See config-view.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/config/config-internal.h"
#include "firstboot/config/config.h"

/* ---- small readers ---- */

/* A scalar's text (a YAML number such as kubernetesVersion 1.30 is kept as written); def when unset or
 * empty. */
static const char *text_or(const cJSON *doc, const char *path, const char *def) {
        const char *v = json_get_scalar_text(doc, path);
        return v && *v ? v : def;
}

static bool bool_at(const cJSON *doc, const char *path) {
        bool v = false;
        (void) json_get_bool(doc, path, &v);
        return v;
}

/* The item when it is a list, else NULL (nothing to iterate: a mapping's members are not list items). */
static const cJSON *list_at(const cJSON *doc, const char *path) {
        const cJSON *l = json_get(doc, path);
        return cJSON_IsArray(l) ? l : NULL;
}

/* A list of strings as a NULL-terminated copy (NULL when empty); other items are skipped. */
static int strv_from_list(const cJSON *list, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
                if (!cJSON_IsString(e))
                        continue;
                if (strv_extend(&l, e->valuestring) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* A v1beta4 list of {name, value} (extraArgs, extraEnvs, kubeletExtraArgs) as mf_args borrowing the
 * document's strings. */
static int args_from_list(const cJSON *list, struct mf_arg **ret, size_t *ret_n) {
        size_t n = 0, i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list)
                n++;
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        struct mf_arg *a = calloc(n, sizeof(*a));
        if (!a)
                return -ENOMEM;
        cJSON_ArrayForEach(e, list) {
                const char *name = json_get_string(e, "name"), *value = json_get_scalar_text(e, "value");
                if (!name)
                        continue;
                a[i].name = name;
                a[i].value = value ?: "";
                i++;
        }
        *ret = a;
        *ret_n = i;
        return 0;
}

static int volumes_from_list(const cJSON *list, struct mf_volume **ret, size_t *ret_n) {
        size_t n = 0, i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list)
                n++;
        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        struct mf_volume *v = calloc(n, sizeof(*v));
        if (!v)
                return -ENOMEM;
        cJSON_ArrayForEach(e, list) {
                v[i] = (struct mf_volume){
                        .name = json_get_string(e, "name"),
                        .host_path = json_get_string(e, "hostPath"),
                        .mount_path = json_get_string(e, "mountPath"),
                        .read_only = bool_at(e, "readOnly"),
                        .path_type = json_get_string(e, "pathType"),
                };
                if (v[i].name && v[i].host_path && v[i].mount_path)
                        i++;
        }
        *ret = v;
        *ret_n = i;
        return 0;
}

static int extras_from(const cJSON *obj, struct mf_component_extras *x) {
        struct mf_arg *args = NULL, *envs = NULL;
        struct mf_volume *volumes = NULL;
        int r = args_from_list(list_at(obj, "extraArgs"), &args, &x->n_args);
        if (r >= 0)
                r = volumes_from_list(list_at(obj, "extraVolumes"), &volumes, &x->n_volumes);
        if (r >= 0)
                r = args_from_list(list_at(obj, "extraEnvs"), &envs, &x->n_envs);
        /* Stored even on failure: the caller frees them. */
        x->args = args;
        x->volumes = volumes;
        x->envs = envs;
        return r;
}

/* ---- ClusterConfiguration ---- */

struct fb_cluster_settings *fb_cluster_settings_free(struct fb_cluster_settings *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < _MF_COMPONENT_MAX; i++) {
                free((void *) s->extras[i].args);
                free((void *) s->extras[i].volumes);
                free((void *) s->extras[i].envs);
        }
        strv_free(s->etcd.endpoints);
        json_delete_wiped(s->document);
        free(s);
        return NULL;
}

int fb_cluster_settings_from_json(const cJSON *cluster_configuration, struct fb_cluster_settings **ret) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL;
        const cJSON *doc;
        int r;

        if (cluster_configuration && !cJSON_IsObject(cluster_configuration))
                return -EBADMSG;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (cluster_configuration && !(s->document = cJSON_Duplicate(cluster_configuration, true)))
                return -ENOMEM;
        doc = s->document;

        s->kubernetes_version = text_or(doc, "kubernetesVersion", "stable-1");
        s->control_plane_endpoint = text_or(doc, "controlPlaneEndpoint", NULL);
        s->cluster_name = text_or(doc, "clusterName", "kubernetes");
        s->certificates_dir = text_or(doc, "certificatesDir", "/etc/kubernetes/pki");
        s->image_repository = text_or(doc, "imageRepository", "registry.k8s.io");
        s->networking.pod_subnet = text_or(doc, "networking.podSubnet", NULL);
        s->networking.service_subnet = text_or(doc, "networking.serviceSubnet", "10.96.0.0/12");
        s->networking.dns_domain = text_or(doc, "networking.dnsDomain", "cluster.local");

        const cJSON *local = json_get(doc, "etcd.local"), *external = json_get(doc, "etcd.external");
        s->etcd.external = external != NULL;
        if (external) {
                r = strv_from_list(list_at(external, "endpoints"), &s->etcd.endpoints);
                if (r < 0)
                        return r;
                s->etcd.ca_file = text_or(external, "caFile", NULL);
                s->etcd.cert_file = text_or(external, "certFile", NULL);
                s->etcd.key_file = text_or(external, "keyFile", NULL);
        } else {
                s->etcd.data_dir = text_or(local, "dataDir", "/var/lib/etcd");
                s->etcd.image_tag = text_or(local, "imageTag", NULL);
        }

        s->dns.disabled = bool_at(doc, "dns.disabled");
        s->dns.image_repository = text_or(doc, "dns.imageRepository", NULL);
        s->dns.image_tag = text_or(doc, "dns.imageTag", NULL);
        s->proxy.disabled = bool_at(doc, "proxy.disabled");

        static const struct {
                enum mf_component c;
                const char *path;
        } components[] = {
                {MF_ETCD, "etcd.local"},
                {MF_KUBE_APISERVER, "apiServer"},
                {MF_KUBE_CONTROLLER_MANAGER, "controllerManager"},
                {MF_KUBE_SCHEDULER, "scheduler"},
        };
        for (size_t i = 0; i < ELEMENTSOF(components); i++)
                if ((r = extras_from(json_get(doc, components[i].path), &s->extras[components[i].c])) < 0)
                        return r;

        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- InitConfiguration, JoinConfiguration ---- */

static unsigned long long duration_or(const cJSON *doc, const char *path, unsigned long long def) {
        unsigned long long ms;
        const char *v = json_get_scalar_text(doc, path);
        return v && fb_parse_duration_ms(v, &ms) >= 0 ? ms : def;
}

static void kubeadm_timeouts(const cJSON *t, struct fb_kubeadm_timeouts *ret) {
        *ret = (struct fb_kubeadm_timeouts){
                .control_plane_component_health_check =
                        duration_or(t, "controlPlaneComponentHealthCheck", 240000),
                .kubelet_health_check = duration_or(t, "kubeletHealthCheck", 240000),
                .kubernetes_api_call = duration_or(t, "kubernetesAPICall", 60000),
                .etcd_api_call = duration_or(t, "etcdAPICall", 120000),
                .tls_bootstrap = duration_or(t, "tlsBootstrap", 300000),
                .discovery = duration_or(t, "discovery", 300000),
                .upgrade_manifests = duration_or(t, "upgradeManifests", 300000),
        };
}

static unsigned port_or_default(const cJSON *doc, const char *path) {
        int64_t p;
        return json_get_int64(doc, path, &p) >= 0 && p > 0 && p <= 65535 ? (unsigned) p : 6443;
}

static void registration_done(struct fb_registration_settings *g) {
        strv_free(g->taints);
        free(g->kubelet_extra_args);
        strv_free(g->ignore_preflight_errors);
}

static int registration_from(const cJSON *reg, struct fb_registration_settings *g) {
        const cJSON *t;
        int r;

        g->name = text_or(reg, "name", NULL);
        g->cri_socket = text_or(reg, "criSocket", NULL);
        cJSON_ArrayForEach(t, list_at(reg, "taints")) {
                const char *key = json_get_string(t, "key"), *value = json_get_string(t, "value"),
                           *effect = json_get_string(t, "effect");
                if (!key || !effect)
                        continue;
                char *s = value && *value ? strdupf("%s=%s:%s", key, value, effect)
                                          : strdupf("%s:%s", key, effect);
                if (!s || strv_consume(&g->taints, s) < 0)
                        return -ENOMEM;
        }
        r = args_from_list(list_at(reg, "kubeletExtraArgs"), &g->kubelet_extra_args,
                           &g->n_kubelet_extra_args);
        if (r < 0)
                return r;
        return strv_from_list(list_at(reg, "ignorePreflightErrors"), &g->ignore_preflight_errors);
}

static void init_free(struct fb_init_settings *s) {
        if (!s)
                return;
        registration_done(&s->registration);
        for (size_t i = 0; i < s->n_bootstrap_tokens; i++) {
                strv_free(s->bootstrap_tokens[i].usages);
                strv_free(s->bootstrap_tokens[i].groups);
        }
        free(s->bootstrap_tokens);
        free(s);
}

static int init_from(const cJSON *doc, struct fb_init_settings **ret) {
        struct fb_init_settings *s = calloc(1, sizeof(*s));
        const cJSON *tokens = list_at(doc, "bootstrapTokens"), *t;
        int r;

        if (!s)
                return -ENOMEM;
        *ret = s; /* freed by the caller, also on failure */
        s->advertise_address = text_or(doc, "localAPIEndpoint.advertiseAddress", NULL);
        s->bind_port = port_or_default(doc, "localAPIEndpoint.bindPort");
        s->certificate_key = json_get_string(doc, "certificateKey");
        kubeadm_timeouts(json_get(doc, "timeouts"), &s->timeouts);
        r = registration_from(json_get(doc, "nodeRegistration"), &s->registration);
        if (r < 0)
                return r;
        size_t n = (size_t) cJSON_GetArraySize(tokens);
        if (n == 0)
                return 0;
        s->bootstrap_tokens = calloc(n, sizeof(*s->bootstrap_tokens));
        if (!s->bootstrap_tokens)
                return -ENOMEM;
        cJSON_ArrayForEach(t, tokens) {
                struct fb_bootstrap_token_settings *b = &s->bootstrap_tokens[s->n_bootstrap_tokens++];
                b->token = json_get_string(t, "token");
                b->description = json_get_string(t, "description");
                b->expires = json_get_string(t, "expires");
                b->ttl = json_get_scalar_text(t, "ttl");
                if ((r = strv_from_list(list_at(t, "usages"), &b->usages)) < 0 ||
                    (r = strv_from_list(list_at(t, "groups"), &b->groups)) < 0)
                        return r;
        }
        return 0;
}

static void join_free(struct fb_join_settings *s) {
        if (!s)
                return;
        registration_done(&s->registration);
        free(s);
}

static int join_from(const cJSON *doc, char *const *hashes, struct fb_join_settings **ret) {
        struct fb_join_settings *s = calloc(1, sizeof(*s));
        const cJSON *bt = json_get(doc, "discovery.bootstrapToken"), *cp = json_get(doc, "controlPlane");

        if (!s)
                return -ENOMEM;
        *ret = s; /* freed by the caller, also on failure */
        s->ca_cert_path = text_or(doc, "caCertPath", NULL);
        s->discovery.token = json_get_string(bt, "token");
        s->discovery.api_server_endpoint = json_get_string(bt, "apiServerEndpoint");
        s->discovery.unsafe_skip_ca_verification = bool_at(bt, "unsafeSkipCAVerification");
        s->tls_bootstrap_token = json_get_string(doc, "discovery.tlsBootstrapToken");
        s->control_plane = cp && !cJSON_IsNull(cp);
        s->advertise_address = text_or(cp, "localAPIEndpoint.advertiseAddress", NULL);
        s->bind_port = port_or_default(cp, "localAPIEndpoint.bindPort");
        s->certificate_key = json_get_string(cp, "certificateKey");
        kubeadm_timeouts(json_get(doc, "timeouts"), &s->timeouts);
        s->discovery.ca_cert_hashes = hashes;
        return registration_from(json_get(doc, "nodeRegistration"), &s->registration);
}

/* ---- the whole view ---- */

struct fb_settings *fb_settings_free(struct fb_settings *s) {
        if (!s)
                return NULL;
        fb_cluster_settings_free((struct fb_cluster_settings *) s->cluster);
        init_free((struct fb_init_settings *) s->init);
        join_free((struct fb_join_settings *) s->join);
        strv_free(s->firstboot.kubelet_start_command);
        free(s);
        return NULL;
}

int fb_settings_new(const struct fb_settings_documents *d, struct fb_settings **ret) {
        _cleanup_(fb_settings_freep) struct fb_settings *s = calloc(1, sizeof(*s));
        struct fb_cluster_settings *cluster = NULL;
        struct fb_init_settings *init = NULL;
        struct fb_join_settings *join = NULL;
        int r = 0;

        if (!s)
                return -ENOMEM;
        if (d->cluster) {
                r = fb_cluster_settings_from_json(d->cluster, &cluster);
                s->cluster = cluster;
        }
        if (r >= 0 && d->init) {
                r = init_from(d->init, &init);
                s->init = init;
        }
        if (r >= 0 && d->join) {
                r = join_from(d->join, d->ca_cert_hashes, &join);
                s->join = join;
        }
        if (r < 0)
                return r;

        struct fb_firstboot_settings *f = &s->firstboot;
        f->ca_cert_pem = d->ca_cert_pem;
        f->ca_key_pem = d->ca_key_pem;
        f->etcd.data_device = json_get_string(d->firstboot, "etcd.dataDevice");
        f->etcd.filesystem = json_get_string(d->firstboot, "etcd.filesystem");
        f->etcd.label = json_get_string(d->firstboot, "etcd.label");
        f->join_file = json_get_string(d->firstboot, "reporting.joinFile");
        f->timeouts.discovery = duration_or(d->firstboot, "timeouts.discovery", 300000);
        f->timeouts.seed_grace = duration_or(d->firstboot, "timeouts.seedGrace", 15000);
        f->timeouts.etcd_join_set = json_get_scalar_text(d->firstboot, "timeouts.etcdJoin") != NULL;
        f->timeouts.etcd_join = duration_or(d->firstboot, "timeouts.etcdJoin", 0);
        f->replacement.enabled = true;
        (void) json_get_bool(d->firstboot, "replacement.enabled", &f->replacement.enabled);
        f->replacement.dead_after = duration_or(d->firstboot, "replacement.deadAfter", 300000);
        f->certificate_renewal.enabled = true;
        (void) json_get_bool(d->firstboot, "certificateRenewal.enabled", &f->certificate_renewal.enabled);
        int64_t pct = 20;
        (void) json_get_int64(d->firstboot, "certificateRenewal.renewBeforePercentage", &pct);
        f->certificate_renewal.renew_before_percentage = pct >= 1 && pct <= 99 ? (unsigned) pct : 20;
        const cJSON *vip = json_get(d->firstboot, "controlPlaneVIP");
        if (cJSON_IsObject(vip)) {
                int64_t port = 0, vrid = 51;
                f->vip.enabled = true;
                f->vip.kube_vip = streq_ptr(json_get_string(vip, "provider"), "kube-vip");
                f->vip.address = json_get_string(vip, "address");
                f->vip.interface = json_get_string(vip, "interface");
                (void) json_get_int64(vip, "port", &port);
                (void) json_get_int64(vip, "virtualRouterId", &vrid);
                f->vip.port = port >= 1 && port <= 65535 ? (unsigned) port : 0;
                f->vip.virtual_router_id = vrid >= 1 && vrid <= 255 ? (unsigned) vrid : 51;
                f->vip.password = d->vrrp_password;
        }
        r = strv_from_list(list_at(d->firstboot, "kubelet.startCommand"), &f->kubelet_start_command);
        if (r < 0)
                return r;
        s->kubelet_configuration = d->kubelet;
        s->kube_proxy_configuration = d->kube_proxy;
        *ret = TAKE_PTR(s);
        return 0;
}
