/* SPDX-License-Identifier: Apache-2.0 */
/* Phases both flows use (init and control-plane join, or every role): preflight, the etcd data disk, the
 * control-plane static pods, kubelet-start, wait-control-plane, mark-control-plane, the addons. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/flows/flows.h"
#include "firstboot/host/etcd-disk.h"
#include "firstboot/host/preflight.h"
#include "manifests/addons.h"

/* ---- the host room's specs, from the configuration ---- */

static void add_family(const char *addr_or_cidrs, bool *v4, bool *v6) {
        _cleanup_free_ char *copy = addr_or_cidrs ? strdup(addr_or_cidrs) : NULL;
        char *save = NULL;
        for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save)) {
                p[strcspn(p, "/")] = 0;
                if (!ip_is_valid(p))
                        continue;
                if (ip_is_ipv6(p))
                        *v6 = true;
                else
                        *v4 = true;
        }
}

static enum fb_preflight_role preflight_role(enum fb_role role) {
        switch (role) {
        case FB_ROLE_INIT:
                return FB_PREFLIGHT_INIT;
        case FB_ROLE_CONTROL_PLANE:
                return FB_PREFLIGHT_CONTROL_PLANE;
        case FB_ROLE_WORKER:
                return FB_PREFLIGHT_WORKER;
        default:
                return 0;
        }
}

/* The role's nodeRegistration: InitConfiguration's for init, JoinConfiguration's for the joiners. */
static const struct fb_registration_settings *registration_of(const struct fb_settings *set,
                                                              enum fb_role role) {
        if (role == FB_ROLE_INIT)
                return set->init ? &set->init->registration : NULL;
        return set->join ? &set->join->registration : NULL;
}

int fb_preflight_spec_from_config(const struct fb_config *c, enum fb_role role,
                                  struct fb_preflight_spec *ret) {
        const struct fb_settings *set = fb_config_settings(c);
        const struct fb_cluster_settings *cluster = set->cluster;
        const struct fb_registration_settings *reg = registration_of(set, role);
        struct fb_preflight_spec s = {.role = preflight_role(role)};
        bool fail_swap_on = true;

        if (s.role == 0)
                return -EINVAL;
        s.bind_port = fb_config_bind_port(c);
        s.local_etcd = role != FB_ROLE_WORKER && !(cluster && cluster->etcd.external);
        s.etcd_data_dir = cluster ? cluster->etcd.data_dir : NULL;
        s.cri_socket = reg ? reg->cri_socket : NULL;
        s.ca_cert_path = set->join ? set->join->ca_cert_path : NULL;
        s.kubernetes_version = cluster ? cluster->kubernetes_version : NULL;
        /* KubeletConfiguration is passed on whole; preflight reads its one field. */
        if (json_get_bool(set->kubelet_configuration, "failSwapOn", &fail_swap_on) >= 0)
                s.kubelet_allows_swap = !fail_swap_on;
        if (role != FB_ROLE_WORKER && set->firstboot.vip.enabled) {
                s.vip_address = set->firstboot.vip.address;
                s.vip_interface = set->firstboot.vip.interface;
                s.vip_port = set->firstboot.vip.port;
                s.vip_haproxy = !set->firstboot.vip.kube_vip;
                s.advertise_address = fb_config_advertise_address(c);
        }
        if (role == FB_ROLE_INIT) {
                /* As kubeadm init: the families of the service and pod subnets and of the advertise address.
                 */
                if (cluster) {
                        add_family(cluster->networking.service_subnet, &s.ipv4, &s.ipv6);
                        add_family(cluster->networking.pod_subnet, &s.ipv4, &s.ipv6);
                }
                add_family(fb_config_advertise_address(c), &s.ipv4, &s.ipv6);
        } else {
                /* As kubeadm join: the family of the discovery endpoint, when it is an address. */
                _cleanup_free_ char *host = NULL;
                unsigned port;
                const char *ep = set->join ? set->join->discovery.api_server_endpoint : NULL;
                if (ep && split_host_port(ep, &host, &port) >= 0)
                        add_family(host, &s.ipv4, &s.ipv6);
        }
        *ret = s;
        return 0;
}

int fb_preflight_ignore_list(const struct fb_config *c, enum fb_role role, char ***ret) {
        const struct fb_registration_settings *reg = registration_of(fb_config_settings(c), role);
        _cleanup_strv_free_ char **l = NULL;

        for (char **e = reg ? reg->ignore_preflight_errors : NULL; e && *e; e++)
                if (strv_extend(&l, *e) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int fb_etcd_disk_spec_from_config(const struct fb_config *c, struct fb_etcd_disk_spec *ret) {
        const struct fb_settings *set = fb_config_settings(c);
        const char *dev = set->firstboot.etcd.data_device;
        if (!dev)
                return -ENOENT;
        *ret = (struct fb_etcd_disk_spec){
                .device = dev,
                .data_dir = set->cluster ? set->cluster->etcd.data_dir : NULL,
                .fstype = set->firstboot.etcd.filesystem,
                .label = set->firstboot.etcd.label,
        };
        return 0;
}

/* ---- preflight ---- */

static int run_preflight(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_strv_free_ char **ignore = NULL;
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report rep = {};
        struct fb_preflight_spec s = {};
        int r;

        r = fb_preflight_spec_from_config(n->config, n->role, &s);
        if (r >= 0)
                r = fb_preflight_ignore_list(n->config, n->role, &ignore);
        if (r < 0)
                return error_set(why, r, "cannot prepare the checks: %s", strerror(-r));
        s.root = n->root;
        s.files_only = !n->host;
        s.ignore = ignore;
        s.resuming = path_exists(n->root, FB_JOURNAL_PATH) >= 0;
        if (n->kubernetes_version)
                s.kubernetes_version = n->kubernetes_version;
        r = fb_preflight_run(&s, &rep);
        if (r < 0)
                return error_set(why, r, "%s", fb_preflight_ignore_problem(ignore) ?: strerror(-r));
        for (size_t i = 0; i < rep.n; i++) {
                if (rep.findings[i].error)
                        log_error("[ERROR %s]: %s", rep.findings[i].check, rep.findings[i].message);
                else
                        log_warning("[WARNING %s]%s: %s", rep.findings[i].check,
                                    rep.findings[i].ignored ? " (ignored)" : "", rep.findings[i].message);
        }
        if (rep.errors == 0)
                return 0;
        /* The status file names every failed check; nothing was written. */
        char list[ERROR_MESSAGE_MAX];
        size_t off =
                (size_t) snprintf(list, sizeof(list), "%zu check%s failed, nothing was written:", rep.errors,
                                  rep.errors == 1 ? "" : "s");
        for (size_t i = 0; i < rep.n && off < sizeof(list); i++)
                if (rep.findings[i].error)
                        off += (size_t) snprintf(list + off, sizeof(list) - off, " [%s] %s;",
                                                 rep.findings[i].check, rep.findings[i].message);
        return error_set(why, -EPERM, "%s", list);
}

static void describe_preflight(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      kubeadm's %s checks (ports, files of another cluster, CRI socket, swap, tools, CPUs, memory, clock); 'kube-firstboot preflight' runs them alone\n",
                fb_role_to_string(n->role));
}

const struct fb_phase fb_phase_preflight = {
        "preflight",
        "kubeadm's checks before anything is written",
        NULL,
        run_preflight,
        describe_preflight,
        "Fix what the [ERROR ...] lines name, or list the check in nodeRegistration.ignorePreflightErrors.",
};

/* ---- etcd-disk ---- */

static int disk_spec(const struct fb_node *n, struct fb_etcd_disk_spec *s) {
        int r = fb_etcd_disk_spec_from_config(n->config, s);
        if (r < 0)
                return r;
        s->root = n->root;
        if (n->cp.etcd_data_dir)
                s->data_dir = n->cp.etcd_data_dir;
        return 0;
}

static int check_etcd_disk(void *ctx) {
        struct fb_etcd_disk_spec s;
        if (disk_spec(ctx, &s) < 0)
                return 0;
        int r = fb_etcd_disk_check(&s);
        return r < 0 ? 0 : r;
}

static int run_etcd_disk(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(fb_etcd_disk_result_done) struct fb_etcd_disk_result res = {};
        struct fb_etcd_disk_spec s;
        int r = disk_spec(n, &s);
        if (r < 0)
                return error_set(why, r, "FirstbootConfiguration.etcd.dataDevice: %s", strerror(-r));
        if (!n->host)
                return error_set(
                        why, -EPERM,
                        "under --root, %s is not formatted or mounted on this machine: add --allow-host when the root is this machine's own",
                        s.device);
        r = fb_etcd_disk_prepare(&s, &res, why);
        if (r < 0)
                return r;
        log_info("etcd data disk: %s (%s%s) mounted at %s%s.", res.device, res.fstype,
                 res.formatted ? ", formatted now" : "", s.data_dir ?: "/var/lib/etcd",
                 res.mounted ? "" : " already");
        return 0;
}

static void describe_etcd_disk(void *ctx, FILE *out) {
        struct fb_etcd_disk_spec s;
        if (disk_spec(ctx, &s) >= 0)
                fb_etcd_disk_describe(&s, out);
}

const struct fb_phase fb_phase_etcd_disk = {
        "etcd-disk",
        "etcd's data disk found, formatted only if blank, mounted at the data dir, kept across reboots",
        check_etcd_disk,
        run_etcd_disk,
        describe_etcd_disk,
        "Check FirstbootConfiguration.etcd.dataDevice ('kube-firstboot etcd disk --dry-run' says what it finds).",
};

/* ---- static pods ---- */

int fb_static_pods_in_place(struct fb_node *n, const enum mf_component *cs, size_t k) {
        for (size_t i = 0; i < k; i++) {
                _cleanup_free_ char *yaml = NULL, *path = fb_node_manifest_path(cs[i]);
                int r = path ? fb_node_static_pod_yaml(n, cs[i], &yaml) : -ENOMEM;
                if (r >= 0)
                        r = fb_file_has(n->root, path, yaml);
                if (r <= 0)
                        return r;
        }
        return 1;
}

int fb_static_pods_write(struct fb_node *n, const enum mf_component *cs, size_t k, struct error *why) {
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        int r = write_set_new(n->root, &set);
        if (r < 0)
                return r;
        /* The manifests of a phase are one set: the kubelet never finds some of them. */
        r = write_set_mkdir(set, FB_MANIFESTS_DIR, 0700);
        for (size_t i = 0; r >= 0 && i < k; i++) {
                _cleanup_free_ char *yaml = NULL, *path = fb_node_manifest_path(cs[i]);
                r = path ? fb_node_static_pod_yaml(n, cs[i], &yaml) : -ENOMEM;
                if (r < 0)
                        return error_set(why, r, "cannot render the %s manifest: %s",
                                         mf_component_name(cs[i]), strerror(-r));
                r = write_set_add(set, path, yaml, strlen(yaml), 0600);
        }
        if (r >= 0)
                r = write_set_commit(set);
        if (r < 0)
                return error_set(why, r, "cannot write %s: %s; no manifest of this phase was left",
                                 write_set_failed_path(set) ?: FB_MANIFESTS_DIR, strerror(-r));
        return 0;
}

static const enum mf_component control_plane_pods[] = {MF_KUBE_APISERVER, MF_KUBE_CONTROLLER_MANAGER,
                                                       MF_KUBE_SCHEDULER};

int fb_check_control_plane_pods(void *ctx) {
        return fb_static_pods_in_place(ctx, control_plane_pods, ELEMENTSOF(control_plane_pods));
}
int fb_run_control_plane_pods(void *ctx, struct error *why) {
        return fb_static_pods_write(ctx, control_plane_pods, ELEMENTSOF(control_plane_pods), why);
}
void fb_describe_control_plane_pods(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      write " FB_MANIFESTS_DIR
                "/{kube-apiserver,kube-controller-manager,kube-scheduler}.yaml (Kubernetes %s)\n",
                n->kubernetes_version);
}

/* ---- kubelet-start ---- */

int fb_check_kubelet_start(void *ctx) {
        struct fb_node *n = ctx;
        _cleanup_(fb_kubelet_files_done) struct fb_kubelet_files f = {};
        int r = fb_node_kubelet_files(n, &f);
        if (r < 0)
                return r;
        r = fb_kubelet_files_in_place(n->root, &f);
        if (r <= 0)
                return r;
        return fb_kubelet_healthy(n);
}

int fb_run_kubelet_start(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(fb_kubelet_files_done) struct fb_kubelet_files f = {};
        int r = fb_node_kubelet_files(n, &f);
        if (r < 0)
                return error_set(why, r, "cannot render the kubelet configuration: %s", strerror(-r));
        _cleanup_free_ char *failed_path = NULL;
        r = fb_kubelet_files_write(n->root, &f, &failed_path);
        if (r < 0)
                return error_set(why, r, "cannot write %s: %s; none of the kubelet's files was left",
                                 failed_path ?: FB_KUBELET_DIR, strerror(-r));
        return fb_node_start_kubelet(n, why);
}

void fb_describe_kubelet_start(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        _cleanup_free_ char *cmd = strjoin_sep((const char *const *) n->kubelet_start_command,
                                               strv_length(n->kubelet_start_command), " ");
        fprintf(out,
                "      write " FB_KUBELET_DIR "/config.yaml, " FB_KUBELET_DIR "/kubeadm-flags.env%s\n"
                "      run '%s'%s\n",
                n->versions->minor >= 34 ? ", " FB_KUBELET_DIR "/instance-config.yaml" : "", cmd ?: "?",
                n->host ? "" : " (not under --root without --allow-host: run would stop here)");
}

/* ---- wait-control-plane ---- */

struct component_health {
        const char *name, *url;
        bool verify; /* the apiserver's cert is ours; KCM and scheduler serve self-signed ones */
};

static int control_plane_health(struct fb_node *n, unsigned long long timeout_ms, struct error *why) {
        _cleanup_free_ char *livez = strdupf("%s/livez", n->local_api_url);
        _cleanup_free_ char *ca = NULL, *ca_path = strdupf("%s/ca.crt", n->pki.cert_dir);
        const struct component_health cs[] = {
                {"kube-apiserver", livez, true},
                {"kube-controller-manager", "https://127.0.0.1:10257/healthz", false},
                {"kube-scheduler", "https://127.0.0.1:10259/livez", false},
        };
        unsigned long long deadline = clock_now_ms() + timeout_ms;
        int r;

        if (!livez || !ca_path)
                return -ENOMEM;
        r = read_file(n->root, ca_path, 1024 * 1024, &ca, NULL);
        if (r < 0)
                return error_set(why, r, "cannot read %s: %s", ca_path, strerror(-r));
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                unsigned long long now = clock_now_ms(), left = deadline > now ? deadline - now : 0;
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                if (!cs[i].verify) {
                        /* kubeadm checks these without verifying the serving certificate. */
                        unsigned long long end = clock_now_ms() + left;
                        for (;;) {
                                struct http_request req = {.url = cs[i].url,
                                                           .insecure = true,
                                                           .timeout_ms = 5000,
                                                           .no_proxy = true};
                                http_response_free(resp);
                                resp = NULL;
                                r = http_request(&req, &resp);
                                if (r >= 0 && resp->status == 200)
                                        break;
                                if (clock_now_ms() >= end)
                                        return error_set(why, -ETIMEDOUT,
                                                         "%s is not healthy at %s after %llus: %s",
                                                         cs[i].name, cs[i].url, timeout_ms / 1000,
                                                         r < 0 ? strerror(-r) : "not HTTP 200");
                                clock_sleep_about_ms(500);
                        }
                        continue;
                }
                r = fb_wait_healthy(cs[i].url, ca, NULL, NULL, left, why);
                if (r < 0)
                        return error_wrap(why, r, "%s is not healthy after %llus", cs[i].name,
                                          timeout_ms / 1000);
        }
        return 0;
}

int fb_check_wait_control_plane(void *ctx) {
        struct fb_node *n = ctx;
        return control_plane_health(n, 0, NULL) >= 0;
}

int fb_run_wait_control_plane(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        unsigned long long kubelet_ms = n->timeouts.kubelet_health_check;
        unsigned long long cp_ms = n->timeouts.control_plane_component_health_check;
        unsigned long long deadline = clock_now_ms() + kubelet_ms;

        while (fb_kubelet_healthy(n) <= 0) {
                if (clock_now_ms() >= deadline)
                        return error_set(
                                why, -ETIMEDOUT,
                                "the kubelet is not healthy at http://127.0.0.1:10248/healthz after %llus (is it installed and running? 'systemctl status kubelet', 'journalctl -u kubelet')",
                                kubelet_ms / 1000);
                clock_sleep_about_ms(500);
        }
        return control_plane_health(n, cp_ms, why);
}

void fb_describe_wait_control_plane(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      wait for http://127.0.0.1:10248/healthz, %s/livez, https://127.0.0.1:10257/healthz, https://127.0.0.1:10259/livez\n",
                n->local_api_url);
}

/* ---- mark-control-plane ---- */

static int mark_patch(const struct fb_node *n, const cJSON *node, cJSON **ret) {
        struct json_builder b = {};
        cJSON *p = jb_object(&b), *meta = jb_obj(&b, p, "metadata"), *labels, *taints, *t;

        labels = jb_obj(&b, meta, "labels");
        jb_str(&b, labels, "node-role.kubernetes.io/control-plane", "");
        jb_str(&b, labels, "node.kubernetes.io/exclude-from-external-load-balancers", "");
        taints = jb_arr(&b, jb_obj(&b, p, "spec"), "taints");
        if (!n->versions->node_local_cri_socket)
                jb_str(&b, jb_obj(&b, meta, "annotations"), MF_CRI_SOCKET_ANNOTATION,
                       mf_kubelet_cri_socket(&n->kubelet));
        /* Existing taints are kept; the configured ones are added when missing. */
        cJSON_ArrayForEach(t, (cJSON *) json_get(node, "spec.taints")) {
                jb_copy(&b, taints, NULL, t);
        }
        for (char **s = n->registration->taints; taints && s && *s; s++) {
                _cleanup_free_ char *key = strdup(*s);
                char *colon = key ? strrchr(key, ':') : NULL, *eq;
                bool have = false;
                if (!key) {
                        jb_fail(&b, -ENOMEM);
                        break;
                }
                if (!colon)
                        continue;
                *colon = 0;
                eq = strchr(key, '=');
                if (eq)
                        *eq = 0;
                cJSON_ArrayForEach(t, taints)
                        if (streq(json_get_string(t, "key") ?: "", key) &&
                            streq(json_get_string(t, "effect") ?: "", colon + 1))
                                have = true;
                if (have)
                        continue;
                cJSON *o = jb_obj(&b, taints, NULL);
                jb_str(&b, o, "key", key);
                if (eq)
                        jb_str(&b, o, "value", eq + 1);
                jb_str(&b, o, "effect", colon + 1);
        }
        return jb_finish(&b, p, ret);
}

static int node_labels_ok(const struct fb_node *n, const cJSON *node) {
        const cJSON *labels = json_get(node, "metadata.labels");
        return cJSON_GetObjectItemCaseSensitive(labels, "node-role.kubernetes.io/control-plane") &&
               cJSON_GetObjectItemCaseSensitive(labels,
                                                "node.kubernetes.io/exclude-from-external-load-balancers") &&
               fb_node_cri_socket_annotated(n, node);
}

int fb_check_mark_control_plane(void *ctx) {
        struct fb_node *n = ctx;
        _cleanup_(cJSON_Deletep) cJSON *node = NULL, *p = NULL;
        _cleanup_free_ char *path = strdupf("/api/v1/nodes/%s", n->pki.node_name);
        struct kube_client *c;
        if (!path)
                return -ENOMEM;
        if (fb_node_admin(n, &c) < 0 || kube_get(c, path, &node) < 0)
                return 0;
        if (!node_labels_ok(n, node) || mark_patch(n, node, &p) < 0)
                return 0;
        return cJSON_GetArraySize(json_get(p, "spec.taints")) ==
               cJSON_GetArraySize(json_get(node, "spec.taints"));
}

int fb_run_mark_control_plane(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_free_ char *path = strdupf("/api/v1/nodes/%s", n->pki.node_name);
        unsigned long long ms = n->timeouts.kubernetes_api_call * 4;
        unsigned long long deadline = clock_now_ms() + ms;
        struct kube_client *c;
        int r;

        if (!path)
                return -ENOMEM;
        r = fb_node_admin(n, &c);
        if (r < 0)
                return error_set(why, r, "cannot use /etc/kubernetes/admin.conf: %s", strerror(-r));
        for (;;) {
                _cleanup_(cJSON_Deletep) cJSON *node = NULL, *p = NULL;
                r = kube_get(c, path, &node);
                if (r >= 0) {
                        r = mark_patch(n, node, &p);
                        if (r < 0)
                                return r;
                        /* A merge patch replaces the taint list: the node's resourceVersion guards it. */
                        const char *rv = json_get_string(node, "metadata.resourceVersion");
                        if (rv &&
                            json_set_string(cJSON_GetObjectItem(p, "metadata"), "resourceVersion", rv) < 0)
                                return -ENOMEM;
                        r = kube_patch(c, path, "application/merge-patch+json", p, NULL);
                        if (r >= 0)
                                return 0;
                }
                if (r != -ENOENT && r != -ESTALE && !kube_error_is_transient(r))
                        return error_set(why, r, "cannot label and taint Node %s: %s", n->pki.node_name,
                                         kube_client_error(c));
                if (clock_now_ms() >= deadline)
                        return error_set(
                                why, r,
                                "the Node %s did not appear (or could not be patched) within %llus: %s",
                                n->pki.node_name, ms / 1000,
                                r == -ENOENT ? "has the kubelet registered? 'journalctl -u kubelet'"
                                             : kube_client_error(c));
                clock_sleep_about_ms(1000);
        }
}

void fb_describe_mark_control_plane(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      wait for Node %s, then label it node-role.kubernetes.io/control-plane, node.kubernetes.io/exclude-from-external-load-balancers",
                n->pki.node_name);
        for (char **t = n->registration->taints; t && *t; t++)
                fprintf(out, "%s%s", t == n->registration->taints ? " and taint it " : ", ", *t);
        if (!n->versions->node_local_cri_socket)
                fprintf(out, "; annotate it " MF_CRI_SOCKET_ANNOTATION "=%s",
                        mf_kubelet_cri_socket(&n->kubelet));
        fputc('\n', out);
}

/* ---- addon ---- */

/* The replica count of a CoreDNS Deployment already in the cluster (0 when none): kubeadm keeps it, so that
 * an operator's scaling survives a re-run. */
static unsigned running_coredns_replicas(struct kube_client *c) {
        _cleanup_(cJSON_Deletep) cJSON *d = NULL;
        double v;
        if (!c || kube_get(c, "/apis/apps/v1/namespaces/kube-system/deployments/coredns", &d) < 0)
                return 0;
        const cJSON *r = json_get(d, "spec.replicas");
        v = cJSON_IsNumber(r) ? r->valuedouble : 0;
        return v >= 1 && v <= 1000 ? (unsigned) v : 0;
}

/* c: the cluster, to keep CoreDNS's running replica count; NULL (plan) for kubeadm's default. */
static int addon_objects(struct fb_node *n, struct kube_client *c, struct mf_api_object **ret,
                         size_t *ret_n) {
        bool dns_off = n->cluster->dns.disabled, proxy_off = n->cluster->proxy.disabled;
        struct mf_api_object *a = NULL, *b = NULL, *all;
        size_t na = 0, nb = 0;
        int r = 0;

        struct mf_addons_spec s = {
                .kubernetes_version = n->kubernetes_version,
                .image_repository = n->cp.image_repository,
                .dns_image_repository = n->cluster->dns.image_repository,
                .dns_image_tag = n->cluster->dns.image_tag,
                .service_subnet = n->cp.service_subnet,
                .dns_domain = n->cp.dns_domain,
                .pod_subnet = n->cp.pod_subnet,
                .control_plane_url = n->api_url,
                .kube_proxy_config = fb_config_settings(n->config)->kube_proxy_configuration,
                .ipv6 = n->pki.advertise_address && ip_is_ipv6(n->pki.advertise_address),
                .proxy_env = n->cp.proxy_env,
                .n_proxy_env = n->cp.n_proxy_env,
                .coredns_replicas = dns_off ? 0 : running_coredns_replicas(c),
        };
        if (!dns_off)
                r = mf_coredns_objects(&s, &a, &na);
        if (r >= 0 && !proxy_off)
                r = mf_kube_proxy_objects(&s, &b, &nb);
        if (r < 0) {
                mf_api_objects_free(a, na);
                return r;
        }
        all = calloc(na + nb + 1, sizeof(*all));
        if (!all) {
                mf_api_objects_free(a, na);
                mf_api_objects_free(b, nb);
                return -ENOMEM;
        }
        if (na)
                memcpy(all, a, na * sizeof(*a));
        if (nb)
                memcpy(all + na, b, nb * sizeof(*b));
        free(a);
        free(b);
        *ret = all;
        *ret_n = na + nb;
        return 0;
}

static int check_addon(void *ctx) {
        struct fb_node *n = ctx;
        struct kube_client *c;
        struct mf_api_object *o = NULL;
        size_t k = 0;
        if (fb_node_admin(n, &c) < 0 || addon_objects(n, c, &o, &k) < 0)
                return 0;
        int r = fb_objects_in_place(c, o, k);
        mf_api_objects_free(o, k);
        return r < 0 ? 0 : r;
}

static int run_addon(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        struct kube_client *c;
        struct mf_api_object *o = NULL;
        const char *failed = NULL;
        size_t k = 0;
        int r = fb_node_admin(n, &c);
        if (r < 0)
                return error_set(why, r, "cannot use /etc/kubernetes/admin.conf: %s", strerror(-r));
        r = addon_objects(n, c, &o, &k);
        if (r < 0)
                return error_set(
                        why, r,
                        "cannot build the CoreDNS and kube-proxy objects: %s (check KubeProxyConfiguration and ClusterConfiguration.dns)",
                        strerror(-r));
        r = fb_objects_apply(c, o, k, &failed);
        if (r < 0)
                error_set(why, r, "cannot create or update %s at %s: %s", failed ?: "an addon object",
                          kube_client_server(c), kube_client_error(c));
        mf_api_objects_free(o, k);
        return r;
}

static void describe_addon(void *ctx, FILE *out) {
        struct mf_api_object *o = NULL;
        size_t k = 0;
        if (addon_objects(ctx, NULL, &o, &k) >= 0)
                fb_objects_describe(o, k, out);
        mf_api_objects_free(o, k);
}

const struct fb_phase fb_phase_addon = {
        "addon",        "CoreDNS and kube-proxy, unless disabled",
        check_addon,    run_addon,
        describe_addon, "Check ClusterConfiguration.dns / proxy and the KubeProxyConfiguration document.",
};
