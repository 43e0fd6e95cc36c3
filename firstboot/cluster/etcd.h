/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An etcd v3 client over the JSON gateway (HTTPS with client certificates): member list, add as learner,
 * promote, remove, and health. No gRPC dependency. Every call has a client timeout (etcd's gateway can
 * hang forever on a dropped conf change), endpoints are tried in turn, and the errors etcd returns while
 * busy map to codes the caller can retry:
 *   -EAGAIN  unhealthy cluster, learner not in sync yet, leader changed, too many requests
 *   -EBUSY   too many learner members (another join is in progress)
 *   -EEXIST  the peer URL or member ID already exists      -ENOENT  member not found
 *   -EALREADY the member is already a voter                 -EINVAL  bad peer URLs
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd_member {
        uint64_t id;
        char *name; /* empty until the member has started */
        char **peer_urls;
        char **client_urls;
        bool learner;
};

void etcd_members_free(struct etcd_member *m, size_t n);

struct etcd_client;

/* endpoints: "https://host:2379", NULL-terminated. PEMs are copied; the key is wiped on free. */
int etcd_client_new(const char *const *endpoints, const char *ca_pem, const char *cert_pem,
                    const char *key_pem, struct etcd_client **ret);
struct etcd_client *etcd_client_free(struct etcd_client *c);
static inline void etcd_client_freep(struct etcd_client **c) {
        *c = etcd_client_free(*c);
}
/* Per-call timeout (default 10 s). */
void etcd_client_set_timeout(struct etcd_client *c, unsigned timeout_ms);
/* Why the last call failed, for the report; "" when none. */
const char *etcd_client_error(const struct etcd_client *c);

int etcd_member_list(struct etcd_client *c, struct etcd_member **ret, size_t *ret_n);
/* Adds a learner with this peer URL; *ret_id its ID. */
int etcd_member_add_learner(struct etcd_client *c, const char *peer_url, uint64_t *ret_id);
int etcd_member_promote(struct etcd_client *c, uint64_t id);
int etcd_member_remove(struct etcd_client *c, uint64_t id);
/* 0 when the endpoint answers /health with "true". */
int etcd_health(struct etcd_client *c);

/*
 * Whether the member behind the client's first answering endpoint sees the member remote as an active peer
 * (its transport's etcd_network_active_peers gauge, from /metrics on the client URL): 1 active, 0 not (the
 * gauge is 0, or absent: never active since that member started). -errno when no endpoint answers.
 */
int etcd_peer_active(struct etcd_client *c, uint64_t remote);
/* The pure part: reads the gauge for remote from a /metrics text. */
int etcd_metrics_peer_active(const char *text, size_t len, uint64_t remote);

/* How many etcd calls this process has made so far (all clients, each endpoint tried counts). */
unsigned long etcd_requests_made(void);

/* Whether an error is one of etcd's "busy, try again" answers. */
static inline bool etcd_error_is_retryable(int r) {
        return r == -EAGAIN || r == -EBUSY || r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ECONNRESET ||
               r == -EIO;
}
