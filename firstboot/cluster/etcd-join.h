/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Joining this node's stacked etcd member to an existing cluster, as kubeadm's etcd-join phase does, but
 * idempotent and resumable: add this node as a learner (or find it, from an earlier run), write the
 * manifest with the initial-cluster string it returns, start etcd, then promote the learner once it is in
 * sync. Every call has its own timeout (etcd's gateway can hang forever on a dropped conf change), every
 * busy answer (another learner joining, cluster not healthy yet, leader changed, learner not in sync) is
 * retried with exponential backoff and full jitter until the whole operation's deadline, and a call that
 * timed out is followed by a fresh member list, never by a blind repeat.
 *
 * Quorum safety: no learner is added while the voters that answer /health on their own client URL are
 * fewer than a quorum (member changes would hang, and the promotion would add a voter to a cluster that
 * cannot commit); that is waited out (a voter rebooting comes back) until the deadline, whose -ETIMEDOUT
 * says which voters were down. A voter that is down while a quorum still answers makes etcd refuse member
 * changes ("unhealthy cluster"); that is retried until the deadline and then reported naming the voter.
 *
 * Errors (with why, a human sentence naming the member, URL or endpoint):
 *   -EADDRINUSE   this peer URL belongs to a started member of another name, or a started member has this
 *                 node's name but another peer URL (a stale member: remove it first)
 *   -ENOENT       promote: no member has this peer URL
 *   -ETIMEDOUT    the deadline passed while etcd stayed busy or unreachable (why says with what)
 *   -EINVAL       a bad spec (peer URL, name, endpoints, credentials)
 *   other -errno  from firstboot/cluster/etcd.h (transport, TLS, protocol)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "firstboot/cluster/etcd.h"

#define FB_ETCD_JOIN_DEFAULT_TIMEOUT_MS      120000ull /* kubeadm's EtcdAPICallTimeout */
#define FB_ETCD_JOIN_DEFAULT_CALL_TIMEOUT_MS 5000u

struct fb_etcd_join_spec {
        const char *const *endpoints; /* client URLs of existing members, NULL-terminated */
        const char *ca_pem, *cert_pem,
                *key_pem;              /* etcd CA + healthcheck-client (or apiserver-etcd-client) */
        const char *name;              /* this member's name (the node name) */
        const char *peer_url;          /* https://<adv>:2380 */
        unsigned long long timeout_ms; /* whole operation; 0 = 2 min */
        unsigned call_timeout_ms;      /* each call; 0 = 5 s */
        /*
         * 0: never. Else: an unstarted learner with another peer URL that blocks this join ("too many
         * learner members") and stays unstarted for this long while we wait is an abandoned join (its
         * node died between add and start) and is removed. Only set while holding the join queue, so that
         * the learner's owner cannot be between its own add and start.
         */
        unsigned abandoned_learner_ms;
        unsigned *round_trips; /* optional: etcd calls made are added here (bench figures) */
};

struct fb_etcd_join_state {
        uint64_t member_id;
        bool added;            /* this call added the learner; false: found (an earlier run, or done) */
        bool learner;          /* still a learner; false: already a voter */
        bool started;          /* the member has run (etcd publishes its name once it starts) */
        char *initial_cluster; /* "name1=https://..,name2=https://..": for --initial-cluster; owned */
};

void fb_etcd_join_state_done(struct fb_etcd_join_state *s);

/*
 * Adds this node's learner unless a member with this peer URL exists (then reports whether it is a
 * learner or a voter, started or not), and returns the initial-cluster string for the etcd manifest:
 * every member in etcd's order, this one named spec->name, others by their name or, when they have not
 * started yet, by their member ID in hex (kubeadm's rule). *ret written only on success.
 */
int fb_etcd_join_add(const struct fb_etcd_join_spec *s, struct fb_etcd_join_state *ret, struct error *why);

/*
 * Promotes this node's learner once it is in sync: retries "not in sync" and busy answers until the
 * deadline. Already a voter (a re-run, or an earlier promote that timed out after etcd applied it) is
 * success.
 */
int fb_etcd_join_promote(const struct fb_etcd_join_spec *s, struct error *why);

/* 1 when this peer URL is a started voter, 0 when not (absent, learner, or not started), -errno. */
int fb_etcd_join_check(const struct fb_etcd_join_spec *s);

/* ---- the pure parts, exposed for the unit tests ---- */

enum fb_etcd_member_state {
        FB_ETCD_MEMBER_ABSENT,
        FB_ETCD_MEMBER_LEARNER,         /* added, not started: start etcd, then promote */
        FB_ETCD_MEMBER_LEARNER_STARTED, /* running as a learner: promote */
        FB_ETCD_MEMBER_VOTER_UNSTARTED, /* a voter that never ran (pre-learner join): start etcd */
        FB_ETCD_MEMBER_VOTER,           /* joined */
};

/*
 * What a member list says about the member with this name and peer URL: its state and index
 * (*ret_index, when not absent). -EADDRINUSE (why filled) for a stale member: this peer URL started under
 * another name, or this name started with other peer URLs.
 */
int fb_etcd_member_find(const struct etcd_member *m, size_t n, const char *name, const char *peer_url,
                        size_t *ret_index, struct error *why);

/* The --initial-cluster value for this member list (see fb_etcd_join_add); NULL on OOM. */
char *fb_etcd_initial_cluster(const struct etcd_member *m, size_t n, const char *name, const char *peer_url);

/* Majority of n voters. */
static inline unsigned fb_etcd_quorum(unsigned voters) {
        return voters / 2 + 1;
}
