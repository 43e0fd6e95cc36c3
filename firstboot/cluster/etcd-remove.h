/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Removing this node's own etcd member, as kubeadm reset's remove-etcd-member phase does (the member found
 * by its peer URL; none = already removed; the last member is never removed), with one rule kubeadm does
 * not have: the removal must leave the cluster healthy. The voters other than this one that answer
 * /health on their own client URLs must be a quorum of the voters left. A learner votes on nothing and is
 * always removable. etcd's own check (strict reconfiguration) only counts started members, and a member
 * removing itself while a peer is down is refused by etcd too, but by then our caller has already said it
 * would go ahead: deciding first lets reset refuse before it changes anything.
 *
 * Errors: -ETIMEDOUT no endpoint answered (why names them) or etcd stayed busy until the deadline; other
 * -errno from firstboot/cluster/etcd.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "firstboot/cluster/etcd.h"

struct fb_etcd_remove_spec {
        const char *const *endpoints; /* client URLs to ask first (this node's, the other members'),
                                         NULL-terminated */
        const char *ca_pem, *cert_pem, *key_pem; /* etcd CA and healthcheck-client */
        const char *peer_url;                    /* this member's: https://<advertise address>:2380 */
        unsigned call_timeout_ms;                /* each call; 0 = 3 s */
        unsigned long long timeout_ms;           /* the removal's retries in all; 0 = 60 s */
};

enum fb_etcd_remove_verdict {
        FB_ETCD_REMOVE_GONE,   /* no member has this peer URL: removed already */
        FB_ETCD_REMOVE_LAST,   /* the only member: left alone (kubeadm's rule) */
        FB_ETCD_REMOVE_SAFE,   /* a learner, or the other healthy voters are a quorum of those left */
        FB_ETCD_REMOVE_UNSAFE, /* removing it would leave fewer healthy voters than a quorum */
};

struct fb_etcd_remove_plan {
        enum fb_etcd_remove_verdict verdict;
        uint64_t id;      /* the member's, unless GONE */
        char name[128];   /* its name ("" when it never started) */
        bool learner;     /* it is a learner */
        char text[1024];  /* why, one sentence naming the voters counted */
        char **endpoints; /* client URLs of the healthy other voters (owned): where to send the removal */
};
void fb_etcd_remove_plan_done(struct fb_etcd_remove_plan *p);

/* Lists the members, checks the health of every other voter, and decides. Changes nothing. */
int fb_etcd_remove_check(const struct fb_etcd_remove_spec *s, struct fb_etcd_remove_plan *ret,
                         struct error *why);

/* Removes the member of a SAFE plan, retrying etcd's busy answers until the deadline; "member not found"
 * (also after a call that timed out) is success. */
int fb_etcd_remove_member(const struct fb_etcd_remove_spec *s, const struct fb_etcd_remove_plan *p,
                          struct error *why);

/* ---- the decision, pure, for the unit tests ---- */

/*
 * healthy[i]: member i answers /health (only voters other than this one are looked at). *ret_index is
 * this member's index unless GONE. text says why.
 */
enum fb_etcd_remove_verdict fb_etcd_remove_decide(const struct etcd_member *m, size_t n, const bool *healthy,
                                                  const char *peer_url, size_t *ret_index, char *text,
                                                  size_t len);
