/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's kubeadm PKI: the certificate list of phases/certs and the kubeconfig files of
 * phases/kubeconfig, for an init node, a control-plane joiner or a worker, with local or external etcd.
 *
 * pki_node_ensure() makes what is missing and keeps what is good, as a re-run of kubeadm would: a CA found
 * on disk (or given as PEM) is used and never replaced; a certificate that is valid now, signed by the
 * current CA, matches its key and has every wanted SAN and usage is kept; any other is issued anew. A
 * control-plane joiner never makes a CA or the service-account key: those come from the kubeadm-certs
 * Secret. A CA certificate without its key (kubeadm's external CA mode) is fine as long as nothing has to
 * be signed with it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "pki/key.h"

enum pki_role {
        PKI_ROLE_INIT,
        PKI_ROLE_CONTROL_PLANE, /* kubeadm join --control-plane */
        PKI_ROLE_WORKER,
        _PKI_ROLE_MAX,
        _PKI_ROLE_INVALID = -EINVAL,
};
const char *pki_role_to_string(enum pki_role r); /* "init", "control-plane", "worker" */
int pki_role_from_string(const char *s, enum pki_role *ret);

enum pki_ca {
        PKI_CA_KUBERNETES, /* ca */
        PKI_CA_FRONT_PROXY,
        PKI_CA_ETCD,
        _PKI_CA_MAX,
};

/* Everything the PKI of a node depends on. Strings and lists are owned (pki_node_spec_done frees them). */
struct pki_node_spec {
        enum pki_role role;
        char *node_name;
        char *advertise_address;
        unsigned bind_port;
        char *control_plane_endpoint; /* host[:port]; NULL: none */
        char *service_subnet;         /* the first CIDR of a comma-separated list counts */
        char *dns_domain;
        char *cluster_name;
        char **apiserver_cert_sans;
        char **etcd_server_cert_sans;
        char **etcd_peer_cert_sans;
        bool external_etcd;
        char *external_etcd_ca_file, *external_etcd_cert_file, *external_etcd_key_file;
        char *cert_dir;       /* /etc/kubernetes/pki */
        char *kubeconfig_dir; /* /etc/kubernetes */
        enum pki_key_type key_type;
        uint64_t cert_validity_s;
        uint64_t ca_validity_s;
        time_t now; /* 0: the current time */
        /* apiserver-kubelet-client.crt without the Organization kubeadm:cluster-admins (kubeadm with
         * kubernetes#138957 binds its user to system:kubelet-api-admin instead). */
        bool kubelet_client_without_org;
        /* A CA given in the configuration, written when its files are absent. */
        char *ca_cert_pem[_PKI_CA_MAX], *ca_key_pem[_PKI_CA_MAX];
};

/* kubeadm's defaults: port 6443, 10.96.0.0/12, cluster.local, cluster "kubernetes", RSA-2048, 8760h and
 * 87600h, /etc/kubernetes[/pki], role init. */
int pki_node_spec_init(struct pki_node_spec *s);
void pki_node_spec_done(struct pki_node_spec *s);

enum pki_action {
        PKI_ACTION_CREATED,
        PKI_ACTION_KEPT,
        PKI_ACTION_REPLACED,
};
const char *pki_action_to_string(enum pki_action a);

struct pki_result {
        char *name; /* "ca", "apiserver", "sa", "admin.conf", ... */
        char *path; /* node path of the certificate, sa.key or kubeconfig */
        enum pki_action action;
        const char *reason; /* static text: why it was replaced, or a note on what was kept */
};

struct pki_report {
        struct pki_result *results;
        size_t n;
        char error[256]; /* on failure: what and which file */
};
void pki_report_done(struct pki_report *r);

/* Writes what the node's role needs under root. On failure report->error says what. */
int pki_node_ensure(const char *root, const struct pki_node_spec *spec, struct pki_report *report);
/* The same decisions without generating a key or writing a file: what pki_node_ensure() would create,
 * keep or replace, and the error it would stop at (for 'plan' and 'pki certs --dry-run'). */
int pki_node_plan(const char *root, const struct pki_node_spec *spec, struct pki_report *report);

/* URLs kubeconfigs point at: the control-plane endpoint (https://cpe[:bindPort]) or, without one, the
 * local endpoint https://advertiseAddress:bindPort. */
int pki_control_plane_url(const struct pki_node_spec *s, char **ret);
int pki_local_api_url(const struct pki_node_spec *s, char **ret);
/* The first address of the service subnet (10.96.0.1 for 10.96.0.0/12). */
int pki_service_first_ip(const char *subnets, char **ret);

/* One line of 'pki check': a certificate on disk and what holds for it. */
struct pki_check {
        char *name, *path;
        bool present;
        char *cn;
        time_t not_after;
        int key_ok;  /* 1 matches its key, 0 does not, -1 no key to compare (or a kubeconfig file path) */
        int ca_ok;   /* 1 signed by its CA, 0 not, -1 no CA on disk or it is a CA itself */
        int time_ok; /* 1 valid now, 0 expired or not yet valid */
        const char *problem; /* static text, NULL when all is well */
};
/* Every certificate and kubeconfig client certificate kubeadm could have on a node, present or not. */
int pki_node_check(const char *root, const struct pki_node_spec *spec, struct pki_check **ret,
                   size_t *ret_n);
void pki_checks_free(struct pki_check *c, size_t n);
