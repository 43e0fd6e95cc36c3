/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The join queue: one etcd member change at a time, cluster-wide. A coordination.k8s.io/v1 Lease in
 * kube-system used as a mutex with expiry, taken with the admin credentials a control-plane joiner holds
 * once it has downloaded the certificates. Etcd's own one-learner rule stays the last guard; the queue
 * turns a crowd of joiners retrying "too many learner members" into an orderly line with a clear answer
 * to "who is joining now".
 *
 * Taking it: create the Lease, or update it (with its resourceVersion, so that of two writers one gets
 * a 409 and waits) when it is free, expired, already ours, or held by an earlier run of this same node.
 * A holder identity is "<node>/<run id>": a node restarted mid-join takes over its own stale hold at once
 * instead of waiting for it to expire. Expired means renewTime + leaseDurationSeconds is in the past by
 * this machine's clock, or the record has not changed for leaseDurationSeconds while we watched (the
 * rule client-go's leader election uses; it tolerates a holder whose clock runs ahead).
 *
 * Errors (why names the holder, the Lease and the API server's answer):
 *   -ETIMEDOUT  the wait ran out while someone else held it
 *   -EPERM / -EACCES  the credentials may not read or write Leases in kube-system
 *   -EBUSY      renew: someone else holds it now (the hold was lost)
 *   other -errno from firstboot/cluster/kubeapi.h
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "firstboot/cluster/kubeapi.h"

#define FB_JOIN_QUEUE_NAMESPACE       "kube-system"
#define FB_JOIN_QUEUE_NAME            "kube-firstboot-etcd-join"
#define FB_JOIN_QUEUE_DEFAULT_LEASE_S 60u

/* A holder identity for this run: "<node>/<16 hex digits>". *ret owned by the caller. */
int fb_join_queue_holder_new(const char *node, char **ret);

/* Takes the queue for holder, waiting up to wait_ms (with backoff and jitter) while another holds it. */
int fb_join_queue_acquire(struct kube_client *c, const char *holder, unsigned lease_s,
                          unsigned long long wait_ms, struct error *why);
/* Renews our hold (for long steps: renew well within lease_s); -EBUSY when someone else holds it now,
 * -ENOENT when the Lease is gone. */
int fb_join_queue_renew(struct kube_client *c, const char *holder, unsigned lease_s);
/* Releases our hold (holderIdentity cleared); 0 too when it is not ours (anymore) or absent. holder NULL
 * releases whoever holds it: the operator's force-release of a stuck queue. */
int fb_join_queue_release(struct kube_client *c, const char *holder);

struct fb_join_queue_info {
        char *holder;            /* NULL when free */
        int64_t acquire_time_us; /* since the epoch; 0 when absent */
        int64_t renew_time_us;
        unsigned lease_s;
        unsigned transitions;
        bool expired; /* renewTime + leaseDurationSeconds before now, by this machine's clock */
        char *resource_version;
};
void fb_join_queue_info_done(struct fb_join_queue_info *i);

/* Reads the queue's Lease: -ENOENT when it was never taken. */
int fb_join_queue_show(struct kube_client *c, struct fb_join_queue_info *ret);

/* ---- the pure parts, exposed for the unit tests ---- */

/* The Lease object as we read it, judged at now_us (microseconds since the epoch). */
int fb_join_queue_info_from_lease(const cJSON *lease, int64_t now_us, struct fb_join_queue_info *ret);
/* Kubernetes MicroTime: "2006-01-02T15:04:05.000000Z" (RFC 3339, any fraction, Z or an offset). */
int fb_join_queue_parse_time(const char *s, int64_t *ret_us);
/* Formats microseconds since the epoch as MicroTime; buf of at least 32 bytes. */
void fb_join_queue_format_time(int64_t us, char *buf, size_t len);
/* Whether two holder identities are runs of the same node ("cp-1/ab12" and "cp-1/cd34"). */
bool fb_join_queue_same_node(const char *a, const char *b);
