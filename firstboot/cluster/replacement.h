/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replacing dead control planes: before a joiner adds its etcd member, it removes the members of machines
 * that are gone for good, one at a time, under the join queue, so that an autoscaling group's replacement
 * joins with no operator step.
 *
 * A member is dead only when all of these hold (the cluster's evidence, not only this machine's):
 *   - it answers on neither its client nor its peer URL from here (TCP), or it never started;
 *   - no healthy voter's transport sees it as an active peer (etcd_network_active_peers on /metrics): a
 *     voter that answers some peers is partitioned from us, not dead;
 *   - its Node's heartbeat Lease (kube-node-lease/<name>) has not been renewed for deadAfter by the
 *     apiserver's clock, and did not move while we watched; its Node is not Ready. Without a Lease (the
 *     Node was deleted, e.g. by a cloud controller) the time counts from this joiner's first observation.
 *     An unstarted member has no Node: it counts from our first observation too.
 * and removing it is safe: the healthy voters stay a quorum of the voters left, and stay a quorum after this
 * node's own member is added (counted as not healthy until it runs), as Cluster API's control-plane
 * controller requires. Learners go first (they do not vote); a voter is never removed while another
 * learner is in the cluster. With quorum lost nothing is changed: etcd could not commit a removal, and an
 * operator must restore the cluster from a snapshot.
 *
 * After a removal: the dead machine's Node is deleted, an Event (reason EtcdMemberReplaced) is recorded in
 * kube-system, and the caller is told (status.json, log). A member with this joiner's own peer URL that
 * started but whose data this machine no longer has (its data dir is empty) is this machine's previous
 * incarnation: it is dead by definition and removed under the same quorum rule.
 *
 * Errors (with why): -EHOSTDOWN quorum lost (nothing changed; why says what an operator must do);
 * -ETIMEDOUT evidence still not conclusive at the deadline (why names the member and what keeps it alive);
 * other -errno from etcd.h or kubeapi.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "firstboot/cluster/etcd.h"
#include "firstboot/cluster/kubeapi.h"

struct fb_replacement_spec {
        const char *const *endpoints; /* client URLs of existing members, NULL-terminated */
        const char *ca_pem, *cert_pem, *key_pem;
        struct kube_client *api; /* admin client: Leases, Nodes, Events */
        const char *self_name, *self_peer_url;
        bool self_data_empty; /* this machine has no etcd data: a started member with our peer
                                 URL is our previous incarnation */
        unsigned long long dead_after_ms;
        unsigned long long timeout_ms; /* how long to wait for the evidence to be conclusive */
        unsigned call_timeout_ms;      /* each call; 0 = 3 s */
        void (*keepalive)(void *data); /* optional: called while waiting (the caller renews its join
                                          queue hold) */
        void *keepalive_data;
};

struct fb_replaced_member {
        uint64_t id;
        char *name; /* member (and Node) name; "" for an unstarted member */
        char *peer_url;
        bool learner;
        char *reason; /* the evidence, one sentence */
};

struct fb_replacement_result {
        struct fb_replaced_member *removed;
        size_t n_removed;
        char **healthy_endpoints; /* client URLs of the voters found healthy last: the join's endpoints,
                                     a dead member's URL (still in its mirror pod) no longer first */
};
void fb_replacement_result_done(struct fb_replacement_result *r);

/* Removes dead members until none is left (0), or fails as above. *ret filled in either case with what
 * was removed (a failure may come after a removal). */
int fb_replacement_run(const struct fb_replacement_spec *s, struct fb_replacement_result *ret,
                       struct error *why);

/* ---- the decision, pure, for the unit tests ---- */

struct fb_member_evidence {
        const struct etcd_member *member;
        bool ours;             /* has our peer URL and is this run's (an earlier try's) member: never a
                                  candidate */
        bool previous_self;    /* has our peer URL, started, but this machine has no etcd data */
        bool healthy;          /* answers /health on its client URL */
        bool answers;          /* something accepts TCP on its client or peer port */
        bool seen_active;      /* some healthy voter's transport sees it active */
        bool view_unknown;     /* a healthy voter's view could not be read */
        bool node_ready;       /* its Node's Ready condition is True */
        bool lease_moved;      /* its Lease's renewTime changed while we watched */
        int64_t last_alive_ms; /* the Lease's renewTime, else our first sight of it down (epoch ms) */
};

enum fb_replacement_verdict {
        FB_REPLACE_NOTHING, /* every member healthy, or only members we must leave alone */
        FB_REPLACE_REMOVE,  /* remove *ret_index */
        FB_REPLACE_WAIT,    /* a member is down but the evidence is not conclusive yet */
        FB_REPLACE_QUORUM_LOST,
};

/* Decides on one step; text says why (the member and the evidence). */
enum fb_replacement_verdict fb_replacement_decide(const struct fb_member_evidence *e, size_t n,
                                                  int64_t now_ms, unsigned long long dead_after_ms,
                                                  size_t *ret_index, char *text, size_t len);
