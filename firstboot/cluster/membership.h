/* SPDX-License-Identifier: Apache-2.0 */
/*
 * This control plane's place in etcd, seen from the cluster: the client URLs of the members, from the etcd
 * mirror pods' kubeadm.kubernetes.io/etcd.advertise-client-urls annotation as kubeadm finds them, and
 * whether a peer URL is still a member. A control plane whose member was removed (replaced as dead while it
 * was down) must not carry on with its stale etcd data: its etcd would be refused by its peers forever.
 */
#pragma once

#include "common/error.h"
#include "firstboot/cluster/kubeapi.h"

/* The etcd client URLs of the control planes' etcd pods, except exclude (this node's own; may be NULL).
 * -ENOENT (why filled) when no pod carries the annotation. */
int fb_etcd_endpoints_from_pods(struct kube_client *k, const char *exclude, char ***ret, struct error *why);

enum fb_membership {
        FB_MEMBERSHIP_MEMBER,  /* a member (voter or learner) has this peer URL */
        FB_MEMBERSHIP_REMOVED, /* the member list, read from a peer, has no such peer URL */
};

/* Reads the member list through endpoints (etcd CA and a client certificate). -errno (why filled) when no
 * endpoint answers. */
int fb_etcd_membership(const char *const *endpoints, const char *ca_pem, const char *cert_pem,
                       const char *key_pem, const char *peer_url, unsigned timeout_ms, struct error *why);
