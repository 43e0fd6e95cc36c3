/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control-plane VIP's phases (FirstbootConfiguration.controlPlaneVIP, manifests/vip.h), in step with the
 * election: init writes the VIP's static pods with its control plane, so the endpoint answers as soon as its
 * apiserver does (keepalived's check holds the address back until then); a control-plane joiner adds itself
 * once its own apiserver is up (after the kubelet's TLS bootstrap against it), with haproxy balancing across
 * every control plane registered so far and every peer of role auto (FirstbootConfiguration.seed.peers: the
 * control planes there will be, taken in by haproxy's health checks as their apiservers come up). With
 * kube-vip, init mounts super-admin.conf until the cluster's RBAC exists and switches to admin.conf at the
 * end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/flows/flows.h"
#include "firstboot/host/netif.h"
#include "manifests/vip.h"

static const struct fb_firstboot_settings *fbs(const struct fb_node *n) {
        return &fb_config_settings(n->config)->firstboot;
}

bool fb_node_has_vip(const struct fb_node *n) {
        return n->role != FB_ROLE_WORKER && fbs(n)->vip.enabled;
}

/* The interface the address is announced on: configured, else the one carrying the advertise address (this
 * machine's, so only with the host). */
static int vip_interface(const struct fb_node *n, char **ret) {
        const char *ifname = fbs(n)->vip.interface, *adv = n->cp.advertise_address;
        if (ifname)
                return (*ret = strdup(ifname)) ? 0 : -ENOMEM;
        if (!n->host || !adv)
                return -ENODEV;
        return fb_host_interface_of(adv, ret);
}

/* The addresses of the control-plane Nodes registered so far (InternalIP), this node's among them. */
static int control_plane_addresses(struct fb_node *n, char ***ret) {
        _cleanup_(cJSON_Deletep) cJSON *list = NULL;
        _cleanup_strv_free_ char **out = NULL;
        struct kube_client *c;
        const cJSON *item, *a;
        int r = fb_node_admin(n, &c);
        if (r >= 0)
                r = kube_get(c, "/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane",
                             &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(item, json_get(list, "items")) {
                cJSON_ArrayForEach(a, json_get(item, "status.addresses")) {
                        const char *ip = json_get_string(a, "address");
                        if (streq_ptr(json_get_string(a, "type"), "InternalIP") && ip && ip_is_valid(ip) &&
                            !strv_contains(out, ip) && strv_extend(&out, ip) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* The files of the VIP on this node, as rendered now: backends_from_cluster asks the API for the other
 * control planes (a joiner); super_admin mounts super-admin.conf for kube-vip (init while bootstrapping). */
static int vip_files(struct fb_node *n, bool backends_from_cluster, bool super_admin, struct mf_file **ret,
                     size_t *ret_n, struct error *why) {
        const struct fb_firstboot_settings *f = fbs(n);
        _cleanup_free_ char *ifname = NULL;
        _cleanup_strv_free_ char **backends = NULL;
        int r = vip_interface(n, &ifname);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(
                        why, -ENODEV,
                        "no interface for controlPlaneVIP %s: none carries the advertise address %s%s; set FirstbootConfiguration.controlPlaneVIP.interface",
                        f->vip.address, strempty(n->cp.advertise_address),
                        n->host ? "" : " (under --root without --allow-host this machine is not looked at)");
        if (backends_from_cluster && !f->vip.kube_vip && (r = control_plane_addresses(n, &backends)) < 0)
                return error_set(why, r, "cannot list the control planes for haproxy's backends: %s",
                                 strerror(-r));
        /* Role auto's peers are every control plane there will be: haproxy lists them from the start, and
         * its health checks take each in as its apiserver comes up (the seed's haproxy too). */
        for (char *const *p = f->vip.kube_vip ? NULL : fb_config_seed_peers(n->config); p && *p; p++)
                if (!strv_contains(backends, *p) && strv_extend(&backends, *p) < 0)
                        return -ENOMEM;
        /* A priority of this node's own, from its address (FNV-1a), spread over 50-199: a tie only lets two
         * backups take over together for a moment. */
        uint32_t prio_seed = 2166136261u;
        for (const char *p = n->cp.advertise_address; p && *p; p++)
                prio_seed = (prio_seed ^ (unsigned char) *p) * 16777619u;
        struct mf_vip_spec s = {
                .kube_vip = f->vip.kube_vip,
                .address = f->vip.address,
                .port = f->vip.port ?: 6443,
                .interface = ifname,
                .virtual_router_id = f->vip.virtual_router_id,
                .password = f->vip.password,
                .node_address = n->cp.advertise_address,
                .apiserver_port = n->cp.bind_port ?: 6443,
                .backends = backends,
                .kube_vip_super_admin = super_admin,
                .priority = 50 + (prio_seed >> 8) % 150,
        };
        r = mf_vip_files(&s, ret, ret_n);
        if (r < 0)
                return error_set(why, r, "cannot render the controlPlaneVIP files: %s", strerror(-r));
        return 0;
}

static int files_in_place(struct fb_node *n, bool from_cluster, bool super_admin) {
        struct mf_file *files = NULL;
        size_t k = 0;
        struct error why = {};
        int r = vip_files(n, from_cluster, super_admin, &files, &k, &why);
        for (size_t i = 0; r >= 0 && i < k; i++) {
                r = fb_file_has(n->root, files[i].path, files[i].content);
                if (r == 0)
                        break;
        }
        mf_files_free(files, k);
        return r < 0 ? 0 : r;
}

static int write_files(struct fb_node *n, bool from_cluster, bool super_admin, struct error *why) {
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        struct mf_file *files = NULL;
        size_t k = 0;
        int r = vip_files(n, from_cluster, super_admin, &files, &k, why);
        if (r < 0)
                return r;
        r = write_set_new(n->root, &set);
        if (r >= 0)
                r = write_set_mkdir(set, FB_MANIFESTS_DIR, 0700);
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = write_set_add(set, files[i].path, files[i].content, strlen(files[i].content),
                                  files[i].mode);
        if (r >= 0)
                r = write_set_commit(set);
        mf_files_free(files, k);
        if (r < 0)
                return error_set(why, r, "cannot write %s: %s; no file of the VIP was left",
                                 write_set_failed_path(set) ?: FB_MANIFESTS_DIR, strerror(-r));
        return 0;
}

static void describe(struct fb_node *n, FILE *out, const char *when, bool super_admin) {
        const struct fb_firstboot_settings *f = fbs(n);
        _cleanup_free_ char *ifname = NULL;
        const char *const *pods = mf_vip_pod_names(f->vip.kube_vip);
        int r = vip_interface(n, &ifname);
        fprintf(out, "      %s %s:%u on interface %s (%s)\n", when, f->vip.address, f->vip.port,
                r >= 0 ? ifname : "(the one carrying the advertise address, found on the machine)",
                f->vip.kube_vip ? "kube-vip, ARP, leader election" : "keepalived VRRP + haproxy");
        for (const char *const *p = pods; *p; p++)
                fprintf(out, "      write " FB_MANIFESTS_DIR "/%s\n", *p);
        if (!f->vip.kube_vip)
                fprintf(out,
                        "      write " MF_KEEPALIVED_CONF " (router id %u%s), " MF_KEEPALIVED_CHECK
                        ", " MF_HAPROXY_CFG " (apiservers on port %u)\n",
                        f->vip.virtual_router_id, f->vip.password ? ", PASS authentication" : "",
                        n->cp.bind_port ?: 6443);
        else
                fprintf(out, "      kube-vip reads %s\n",
                        super_admin ? "/etc/kubernetes/super-admin.conf until the cluster is up"
                                    : "/etc/kubernetes/admin.conf");
}

/* ---- init: with the control plane ---- */

static int check_vip_init(void *ctx) {
        struct fb_node *n = ctx;
        /* kube-vip's manifest changes at the end of init: either kubeconfig is this phase's work done. */
        return files_in_place(n, false, true) || (fbs(n)->vip.kube_vip && files_in_place(n, false, false));
}
static int run_vip_init(void *ctx, struct error *why) {
        return write_files(ctx, false, true, why);
}
static void describe_vip_init(void *ctx, FILE *out) {
        describe(ctx, out, "announce", true);
}

const struct fb_phase fb_phase_vip_init = {
        "control-plane-vip",
        "the control-plane VIP's static pods, up with this node's apiserver",
        check_vip_init,
        run_vip_init,
        describe_vip_init,
        "Check FirstbootConfiguration.controlPlaneVIP (address, interface) and 'kube-firstboot preflight'.",
};

/* ---- init: kube-vip on admin.conf once the cluster is up ---- */

static int check_vip_admin(void *ctx) {
        return files_in_place(ctx, false, false);
}
static int run_vip_admin(void *ctx, struct error *why) {
        return write_files(ctx, false, false, why);
}
static void describe_vip_admin(void *ctx, FILE *out) {
        (void) ctx;
        fprintf(out, "      rewrite " FB_MANIFESTS_DIR
                     "/kube-vip.yaml: kube-vip reads /etc/kubernetes/admin.conf from now on\n");
}

const struct fb_phase fb_phase_vip_admin = {
        "control-plane-vip-kubeconfig",
        "kube-vip switched from super-admin.conf to admin.conf",
        check_vip_admin,
        run_vip_admin,
        describe_vip_admin,
        "Check /etc/kubernetes/admin.conf and the kubeadm:cluster-admins ClusterRoleBinding.",
};

/* ---- join: once this node's apiserver answers ---- */

static int check_vip_join(void *ctx) {
        return files_in_place(ctx, true, false);
}
static int run_vip_join(void *ctx, struct error *why) {
        return write_files(ctx, true, false, why);
}
static void describe_vip_join(void *ctx, FILE *out) {
        describe(ctx, out, "join the VIP", false);
}

const struct fb_phase fb_phase_vip_join = {
        "control-plane-vip",
        "this control plane added to the VIP, its apiserver healthy",
        check_vip_join,
        run_vip_join,
        describe_vip_join,
        "Check FirstbootConfiguration.controlPlaneVIP (interface) and the control-plane Nodes' addresses.",
};
