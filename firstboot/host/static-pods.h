/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restarting a static pod through the kubelet, as kubeadm's documentation has operators do after 'kubeadm
 * certs renew': its manifest is moved out of the manifests directory, the kubelet stops the pod, the
 * manifest is put back and the kubelet starts it again. There is no other way without a container runtime
 * client: the kubelet restarts a static pod only when its manifest goes away or changes, and a changed
 * manifest would no longer be kubeadm's.
 *
 * While out, a manifest waits in /etc/kubernetes/tmp/kube-firstboot-restart/ (kubeadm keeps its own
 * manifest backups in /etc/kubernetes/tmp); fb_static_pods_put_back() returns any that a crash left there,
 * so a component is never left stopped for longer than until the next refresh or boot.
 */
#pragma once

#include "common/error.h"

#define FB_STATIC_POD_PARKING_DIR "/etc/kubernetes/tmp/kube-firstboot-restart"

/* The URL of a static pod manifest's liveness probe (httpGet: scheme, host, port by number or by name of
 * the container's ports, path); -ENOENT when it has none, -EBADMSG when it is not a Pod. */
int fb_static_pod_probe_url(const char *manifest_yaml, size_t len, char **ret);

struct fb_static_pod_restart {
        const char *root;
        const char *manifests_dir;          /* /etc/kubernetes/manifests */
        const char *name;                   /* kube-apiserver: the manifest is <name>.yaml */
        unsigned long long stop_timeout_ms; /* for the kubelet to stop the pod once its manifest is out */
        unsigned long long
                healthy_timeout_ms; /* for the pod to answer its probe once the manifest is back */
};

/*
 * Restarts one static pod: its manifest out, its probe no longer answering (nothing listens), its manifest
 * back, its probe answering 200. -ETIMEDOUT when the pod did not stop (the manifest is put back at once:
 * the old pod keeps running) or did not come back healthy in time; -ENOENT without its manifest; -errno
 * of a rename. The manifest is back in place on every return.
 */
int fb_static_pod_restart(const struct fb_static_pod_restart *r, struct error *why);

/* Puts back every manifest a crashed restart left parked (one whose manifest is in place again is
 * dropped: the one in place is newer). *ret_n: how many were put back. -errno of the first that failed,
 * named in *why. */
int fb_static_pods_put_back(const char *root, const char *manifests_dir, unsigned *ret_n, struct error *why);
