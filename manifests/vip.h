/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control-plane VIP (FirstbootConfiguration.controlPlaneVIP) as static pods and their files, the two
 * recipes of kubeadm's HA documentation (kubernetes/kubeadm docs/ha-considerations.md):
 *
 *   keepalived  /etc/kubernetes/manifests/{keepalived,haproxy}.yaml, /etc/keepalived/keepalived.conf
 *               (VRRP, state BACKUP with nopreempt everywhere: the address stays where it is until that node
 *               fails; priorities differ from node to node so that two backups never take over at once),
 * /etc/keepalived/check_apiserver.sh (the local apiserver's /healthz: a node whose apiserver does not answer
 * goes to FAULT and never holds the address), /etc/haproxy/haproxy.cfg (every control plane's apiserver,
 * /healthz checked over TLS) kube-vip /etc/kubernetes/manifests/kube-vip.yaml as kube-vip's "Static Pods"
 * page generates it for ARP with leader election, control plane only; the kubeconfig mounted at
 * /etc/kubernetes/admin.conf is the host's super-admin.conf on the init node until the cluster is up
 * (admin.conf has no rights before kubeadm:cluster-admins exists, kube-vip/kube-vip#684), admin.conf after
 * and on joiners.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MF_KEEPALIVED_IMAGE "osixia/keepalived:2.0.17"
#define MF_HAPROXY_IMAGE    "haproxy:2.8"
#define MF_KUBE_VIP_IMAGE   "ghcr.io/kube-vip/kube-vip:v0.8.2"

#define MF_KEEPALIVED_CONF  "/etc/keepalived/keepalived.conf"
#define MF_KEEPALIVED_CHECK "/etc/keepalived/check_apiserver.sh"
#define MF_HAPROXY_CFG      "/etc/haproxy/haproxy.cfg"

struct mf_vip_spec {
        bool kube_vip;         /* else keepalived + haproxy */
        const char *address;   /* the virtual IP */
        unsigned port;         /* where the endpoint answers (haproxy's port; kube-vip: the apiserver's) */
        const char *interface; /* where the address is announced */
        unsigned virtual_router_id; /* keepalived: 1-255 */
        const char *password;       /* keepalived: auth_pass (a secret), NULL for none */
        const char *node_address;   /* this node's advertise address (its apiserver) */
        unsigned apiserver_port;    /* the apiservers' bindPort */
        char *const *backends;      /* keepalived: the apiservers' addresses haproxy balances across (this
                                     * node's is added when missing); NULL-terminated, NULL for this alone */
        bool kube_vip_super_admin; /* kube-vip: mount super-admin.conf (the init node while bootstrapping) */
        unsigned priority;         /* keepalived: 1-254, different on each node (0: 100) */
};

/* One file to write: the path on the node, its content (owned; wiped when it holds the password) and mode.
 */
struct mf_file {
        const char *path;
        char *content;
        unsigned mode;
};

/*
 * The files of the VIP on this node, static pods last (the kubelet starts them only once their files are
 * there). -EINVAL for a spec without address, interface, node address or ports, or a password keepalived
 * cannot take; -ENOMEM. *ret is written only on success: mf_files_free().
 */
int mf_vip_files(const struct mf_vip_spec *s, struct mf_file **ret, size_t *ret_n);
void mf_files_free(struct mf_file *f, size_t n);

/* The static pods of the spec's provider, by file name ("keepalived.yaml", "haproxy.yaml" or
 * "kube-vip.yaml"), NULL-terminated, static. */
const char *const *mf_vip_pod_names(bool kube_vip);
