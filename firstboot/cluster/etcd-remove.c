/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/etcd-join.h"
#include "firstboot/cluster/etcd-remove.h"

#define DEFAULT_CALL_MS    3000u
#define DEFAULT_TIMEOUT_MS 60000ull

void fb_etcd_remove_plan_done(struct fb_etcd_remove_plan *p) {
        if (!p)
                return;
        strv_free(p->endpoints);
        p->endpoints = NULL;
}

static bool has_peer_url(const struct etcd_member *m, const char *peer_url) {
        for (char **u = m->peer_urls; u && *u; u++)
                if (streq(*u, peer_url))
                        return true;
        return false;
}

static const char *member_label(const struct etcd_member *m) {
        return isempty(m->name) ? "(not started)" : m->name;
}

enum fb_etcd_remove_verdict fb_etcd_remove_decide(const struct etcd_member *m, size_t n, const bool *healthy,
                                                  const char *peer_url, size_t *ret_index, char *text,
                                                  size_t len) {
        size_t self = n, off = 0;
        unsigned voters = 0, healthy_others = 0;
        char bad[512] = "";

        for (size_t i = 0; i < n; i++)
                if (self == n && has_peer_url(&m[i], peer_url))
                        self = i;
        if (self == n) {
                (void) snprintf(text, len, "no etcd member has the peer URL %s: it was removed already",
                                peer_url);
                return FB_ETCD_REMOVE_GONE;
        }
        *ret_index = self;
        if (n == 1) {
                (void) snprintf(
                        text, len,
                        "this is the only remaining etcd member in the etcd cluster, skip removing it");
                return FB_ETCD_REMOVE_LAST;
        }
        if (m[self].learner) {
                (void) snprintf(text, len, "a learner: it does not vote, removing it changes no quorum");
                return FB_ETCD_REMOVE_SAFE;
        }
        for (size_t i = 0; i < n; i++) {
                if (m[i].learner || i == self)
                        continue;
                voters++;
                if (healthy && healthy[i])
                        healthy_others++;
                else if (off < sizeof(bad))
                        off += (size_t) snprintf(bad + off, sizeof(bad) - off, "%s%s", off ? ", " : "",
                                                 member_label(&m[i]));
        }
        if (healthy_others >= fb_etcd_quorum(voters)) {
                (void) snprintf(text, len,
                                "%u of the %u voters left are healthy (%u needed for a quorum)%s%s",
                                healthy_others, voters, fb_etcd_quorum(voters),
                                bad[0] ? "; not healthy: " : "", bad);
                return FB_ETCD_REMOVE_SAFE;
        }
        (void) snprintf(
                text, len,
                "removing it would leave %u healthy of %u voters, fewer than a quorum (%u); not healthy: %s",
                healthy_others, voters, fb_etcd_quorum(voters), bad[0] ? bad : "none");
        return FB_ETCD_REMOVE_UNSAFE;
}

static int new_client(const struct fb_etcd_remove_spec *s, const char *const *endpoints, unsigned timeout_ms,
                      struct etcd_client **ret) {
        int r = etcd_client_new(endpoints, s->ca_pem, s->cert_pem, s->key_pem, ret);
        if (r >= 0)
                etcd_client_set_timeout(*ret, timeout_ms);
        return r;
}

static bool member_healthy(const struct fb_etcd_remove_spec *s, const struct etcd_member *m, unsigned t) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        if (!m->client_urls || !m->client_urls[0])
                return false;
        if (new_client(s, (const char *const *) m->client_urls, t, &c) < 0)
                return false;
        if (etcd_health(c) < 0) {
                log_debug("etcd: voter '%s' is not healthy: %s", member_label(m), etcd_client_error(c));
                return false;
        }
        return true;
}

static int list(const struct fb_etcd_remove_spec *s, unsigned t, struct etcd_member **ret, size_t *ret_n,
                struct error *why) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        _cleanup_free_ char *eps = NULL;
        int r = new_client(s, s->endpoints, t, &c);
        if (r < 0)
                return error_set(why, r, "cannot set up the etcd client (credentials missing?)");
        r = etcd_member_list(c, ret, ret_n);
        if (r < 0) {
                eps = strjoin_sep(s->endpoints, strv_length((char *const *) s->endpoints), ", ");
                return error_set(why, r, "cannot list the etcd members at %s: %s", strempty(eps),
                                 etcd_client_error(c));
        }
        return 0;
}

int fb_etcd_remove_check(const struct fb_etcd_remove_spec *s, struct fb_etcd_remove_plan *ret,
                         struct error *why) {
        struct fb_etcd_remove_plan p = {};
        struct etcd_member *m = NULL;
        _cleanup_free_ bool *healthy = NULL;
        unsigned t = s->call_timeout_ms ?: DEFAULT_CALL_MS;
        size_t n = 0, self = 0;
        int r;

        if (!s->endpoints || !s->endpoints[0] || isempty(s->peer_url))
                return error_set(why, -EINVAL, "no etcd endpoint or peer URL to find this node's member by");
        r = list(s, t, &m, &n, why);
        if (r < 0)
                return r;
        healthy = calloc(n ?: 1, sizeof(bool));
        if (!healthy) {
                etcd_members_free(m, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (!m[i].learner && !has_peer_url(&m[i], s->peer_url))
                        healthy[i] = member_healthy(s, &m[i], t);

        p.verdict = fb_etcd_remove_decide(m, n, healthy, s->peer_url, &self, p.text, sizeof(p.text));
        if (p.verdict != FB_ETCD_REMOVE_GONE) {
                p.id = m[self].id;
                p.learner = m[self].learner;
                (void) snprintf(p.name, sizeof(p.name), "%s", strempty(m[self].name));
        }
        for (size_t i = 0; i < n && r >= 0; i++)
                if (healthy[i])
                        for (char **u = m[i].client_urls; u && *u && r >= 0; u++)
                                r = strv_extend(&p.endpoints, *u);
        etcd_members_free(m, n);
        if (r < 0) {
                fb_etcd_remove_plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* After a call that failed or timed out: whether the member is gone now (1), still there (0), -errno. */
static int still_there(const struct fb_etcd_remove_spec *s, const char *const *eps, uint64_t id,
                       unsigned t) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        struct etcd_member *m = NULL;
        size_t n = 0;
        bool found = false;
        int r = new_client(s, eps, t, &c);
        if (r < 0)
                return r;
        r = etcd_member_list(c, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                found = found || m[i].id == id;
        etcd_members_free(m, n);
        return found ? 0 : 1;
}

int fb_etcd_remove_member(const struct fb_etcd_remove_spec *s, const struct fb_etcd_remove_plan *p,
                          struct error *why) {
        /* Sent to the healthy other voters first: this member stops itself once it is removed. */
        const char *const *eps =
                p->endpoints && p->endpoints[0] ? (const char *const *) p->endpoints : s->endpoints;
        unsigned t = s->call_timeout_ms ?: DEFAULT_CALL_MS;
        unsigned long long deadline = clock_now_ms() + (s->timeout_ms ?: DEFAULT_TIMEOUT_MS);
        char last[256] = "";

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
                int r = new_client(s, eps, t, &c);
                if (r < 0)
                        return error_set(why, r, "cannot set up the etcd client (credentials missing?)");
                r = etcd_member_remove(c, p->id);
                if (r >= 0 || r == -ENOENT)
                        return 0;
                (void) snprintf(last, sizeof(last), "%s", etcd_client_error(c));
                if (!etcd_error_is_retryable(r))
                        return error_set(why, r, "etcd refused to remove member %016" PRIx64 ": %s", p->id,
                                         last);
                if (still_there(s, eps, p->id, t) == 1)
                        return 0;
                unsigned long long d = clock_backoff_ms(500, 5000, attempt);
                if (clock_now_ms() + d + t > deadline)
                        return error_set(why, -ETIMEDOUT,
                                         "etcd did not remove member %016" PRIx64 " in time: %s", p->id,
                                         last[0] ? last : "no answer");
                log_debug("etcd: removing member %016" PRIx64 ": %s; retrying", p->id, last);
                clock_sleep_ms(d);
        }
}
