/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/cluster/etcd-join.h"
#include "firstboot/cluster/joinqueue.h"
#include "firstboot/cluster/replacement.h"

#define DEFAULT_CALL_TIMEOUT_MS 2000u
#define TCP_TIMEOUT_MS          1000u
#define WAIT_BASE_MS            1000u
#define WAIT_CAP_MS             5000u
/* A quorum that looks lost must stay lost this long before we give up: a leader election (a member back from
 * a partition) makes every voter's /health false for a moment. */
#define QUORUM_CONFIRM_MS 20000ull

void fb_replacement_result_done(struct fb_replacement_result *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_removed; i++) {
                free(r->removed[i].name);
                free(r->removed[i].peer_url);
                free(r->removed[i].reason);
        }
        free(r->removed);
        strv_free(r->healthy_endpoints);
        *r = (struct fb_replacement_result){};
}

/* ---- the decision ---- */

static const char *member_label(const struct etcd_member *m, char buf[32]) {
        if (!isempty(m->name))
                return m->name;
        snprintf(buf, 32, "unstarted %" PRIx64, m->id);
        return buf;
}

/* Why a member that is not healthy must be left alone (it is alive: etcd decides on the add), or NULL. */
static const char *alive_because(const struct fb_member_evidence *e) {
        if (e->answers)
                return "it still accepts connections on its client or peer port";
        if (e->seen_active)
                return "a healthy voter still sees it as an active peer (a partition, not a dead machine)";
        return NULL;
}

/* Why the evidence is not conclusive yet, or NULL: the cluster still saw the machine recently. */
static const char *not_conclusive_because(const struct fb_member_evidence *e) {
        if (e->view_unknown)
                return "a healthy voter's view of it, or its Node, could not be read";
        if (e->lease_moved)
                return "its Node's Lease was renewed while we watched";
        if (e->node_ready)
                return "its Node is still Ready";
        return NULL;
}

enum fb_replacement_verdict fb_replacement_decide(const struct fb_member_evidence *e, size_t n,
                                                  int64_t now_ms, unsigned long long dead_after_ms,
                                                  size_t *ret_index, char *text, size_t len) {
        unsigned voters = 0, healthy = 0;
        bool healthy_learner = false, waiting = false;
        char down[512] = "", lb[32];
        size_t off = 0;

        text[0] = 0;
        for (size_t i = 0; i < n; i++) {
                if (e[i].member->learner) {
                        healthy_learner = healthy_learner || e[i].healthy;
                        continue;
                }
                voters++;
                if (e[i].healthy) {
                        healthy++;
                } else if (off < sizeof(down)) {
                        int k = snprintf(down + off, sizeof(down) - off, "%s'%s'", off ? ", " : "",
                                         member_label(e[i].member, lb));
                        off += k > 0 ? (size_t) k : 0;
                }
        }
        if (voters > 0 && healthy < fb_etcd_quorum(voters)) {
                snprintf(
                        text, len,
                        "etcd has lost its quorum: only %u of %u voters are healthy (%u needed; not healthy: %s). Nothing was removed: etcd cannot commit a member change without a quorum. An operator must bring those members back, or restore etcd from a snapshot on one control plane (etcdutl snapshot restore) and join the others again",
                        healthy, voters, fb_etcd_quorum(voters), down);
                return FB_REPLACE_QUORUM_LOST;
        }

        /* Learners first (removing one never changes the quorum), then voters. */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < n; i++) {
                        const struct fb_member_evidence *x = &e[i];
                        const char *alive, *name = member_label(x->member, lb);
                        bool learner = x->member->learner;
                        if ((pass == 0) != learner || x->healthy || x->ours)
                                continue;
                        if (x->previous_self) {
                                *ret_index = i;
                                snprintf(
                                        text, len,
                                        "etcd member '%s' has this machine's peer URL but this machine has no etcd data: it is this machine's previous incarnation",
                                        name);
                                return FB_REPLACE_REMOVE;
                        }
                        if ((alive = alive_because(x))) {
                                log_info("etcd member '%s' is not healthy but is not removed: %s.", name,
                                         alive);
                                continue;
                        }
                        if ((alive = not_conclusive_because(x))) {
                                snprintf(text, len, "etcd member '%s' does not answer, but %s", name, alive);
                                waiting = true;
                                continue;
                        }
                        int64_t down_ms = now_ms - x->last_alive_ms;
                        if (down_ms < 0 || (unsigned long long) down_ms < dead_after_ms) {
                                snprintf(
                                        text, len,
                                        "etcd member '%s' has been down for %llds of the %llus (replacement.deadAfter) after which it counts as dead",
                                        name, (long long) (down_ms > 0 ? down_ms / 1000 : 0),
                                        dead_after_ms / 1000);
                                waiting = true;
                                continue;
                        }
                        if (!learner && healthy_learner) {
                                snprintf(
                                        text, len,
                                        "etcd member '%s' is dead, but a learner is catching up: a voter is not removed while a learner is in the cluster",
                                        name);
                                waiting = true;
                                continue;
                        }
                        *ret_index = i;
                        snprintf(
                                text, len,
                                "etcd %s '%s' has not answered for %llds (replacement.deadAfter %llus), no healthy voter sees it, %s",
                                learner ? "learner" : "voter", name, (long long) (down_ms / 1000),
                                dead_after_ms / 1000,
                                isempty(x->member->name)
                                        ? "and it never started"
                                        : "and its Node is neither Ready nor renewing its Lease");
                        return FB_REPLACE_REMOVE;
                }
        }
        return waiting ? FB_REPLACE_WAIT : FB_REPLACE_NOTHING;
}

/* ---- gathering the evidence ---- */

/* What we remember of a member across rounds. */
struct sighting {
        uint64_t id;
        int64_t first_down_ms;
        int64_t lease_renew_us;
        bool lease_moved;
};

struct run {
        const struct fb_replacement_spec *spec;
        struct etcd_client *client;
        unsigned call_timeout_ms;
        struct sighting *seen;
        size_t n_seen;
};

static void run_done(struct run *r) {
        r->client = etcd_client_free(r->client);
        free(r->seen);
}

static int64_t now_ms(const struct run *r) {
        return r->spec->api ? (int64_t) kube_client_now(r->spec->api) * 1000 : clock_wall_us() / 1000;
}

static struct sighting *sighting(struct run *r, uint64_t id) {
        for (size_t i = 0; i < r->n_seen; i++)
                if (r->seen[i].id == id)
                        return &r->seen[i];
        struct sighting *s = reallocarray(r->seen, r->n_seen + 1, sizeof(*s));
        if (!s)
                return NULL;
        r->seen = s;
        s[r->n_seen] = (struct sighting){.id = id};
        return &s[r->n_seen++];
}

static bool url_answers(const char *url) {
        _cleanup_free_ char *host = NULL;
        unsigned port = 0;
        const char *rest = strstr(url, "://");
        if (!rest || split_host_port(rest + 3, &host, &port) < 0 || port == 0)
                return false;
        return tcp_answers(host, port, TCP_TIMEOUT_MS);
}

static bool member_answers(const struct etcd_member *m) {
        for (char **u = m->client_urls; u && *u; u++)
                if (url_answers(*u))
                        return true;
        for (char **u = m->peer_urls; u && *u; u++)
                if (url_answers(*u))
                        return true;
        return false;
}

static int member_client(const struct run *r, const struct etcd_member *m, struct etcd_client **ret) {
        if (!m->client_urls || !m->client_urls[0])
                return -ENOENT;
        int k = etcd_client_new((const char *const *) m->client_urls, r->spec->ca_pem, r->spec->cert_pem,
                                r->spec->key_pem, ret);
        if (k >= 0)
                etcd_client_set_timeout(*ret, r->call_timeout_ms);
        return k;
}

static bool member_healthy(const struct run *r, const struct etcd_member *m) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        return member_client(r, m, &c) >= 0 && etcd_health(c) >= 0;
}

/* Whether any healthy voter sees m as an active peer; *unknown when a view could not be read. */
static bool seen_by_others(const struct run *r, const struct etcd_member *all, size_t n,
                           const struct fb_member_evidence *e, const struct etcd_member *m, bool *unknown) {
        for (size_t j = 0; j < n; j++) {
                _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
                if (&all[j] == m || all[j].learner || !e[j].healthy)
                        continue;
                int k = member_client(r, &all[j], &c);
                if (k >= 0)
                        k = etcd_peer_active(c, m->id);
                if (k < 0) {
                        log_debug("replacement: cannot read member '%s''s view: %s", all[j].name,
                                  c ? etcd_client_error(c) : strerror(-k));
                        *unknown = true;
                } else if (k > 0)
                        return true;
        }
        return false;
}

/* The Node's Lease and Ready condition; -errno other than "not found" makes the evidence unknown. */
static int node_evidence(struct run *r, const struct etcd_member *m, struct sighting *s,
                         struct fb_member_evidence *e) {
        struct kube_client *api = r->spec->api;
        _cleanup_free_ char *lp = NULL, *np = NULL;
        _cleanup_(cJSON_Deletep) cJSON *lease = NULL, *node = NULL;
        int k;

        if (!api || isempty(m->name))
                return 0;
        lp = kube_path("coordination.k8s.io/v1", "kube-node-lease", "leases", m->name);
        np = kube_path("v1", NULL, "nodes", m->name);
        if (!lp || !np)
                return -ENOMEM;
        k = kube_get(api, lp, &lease);
        if (k >= 0) {
                _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info i = {};
                if (fb_join_queue_info_from_lease(lease, clock_wall_us(), &i) >= 0 && i.renew_time_us > 0) {
                        if (s->lease_renew_us && s->lease_renew_us != i.renew_time_us)
                                s->lease_moved = true;
                        s->lease_renew_us = i.renew_time_us;
                        e->last_alive_ms = i.renew_time_us / 1000;
                }
        } else if (k != -ENOENT)
                return k;
        e->lease_moved = s->lease_moved;
        k = kube_get(api, np, &node);
        if (k >= 0) {
                const cJSON *c;
                cJSON_ArrayForEach(c, json_get(node, "status.conditions")) {
                        if (streq(json_get_string(c, "type"), "Ready") &&
                            streq(json_get_string(c, "status"), "True"))
                                e->node_ready = true;
                }
        } else if (k != -ENOENT)
                return k;
        return 0;
}

static int gather(struct run *r, const struct etcd_member *m, size_t n, struct fb_member_evidence *e) {
        const struct fb_replacement_spec *s = r->spec;
        int64_t now = now_ms(r);

        for (size_t i = 0; i < n; i++) {
                bool mine = strv_contains(m[i].peer_urls, s->self_peer_url);
                e[i] = (struct fb_member_evidence){.member = &m[i]};
                e[i].previous_self = mine && !isempty(m[i].name) && s->self_data_empty;
                e[i].ours = mine && !e[i].previous_self;
                if (!e[i].ours && !e[i].previous_self)
                        e[i].healthy = member_healthy(r, &m[i]);
        }
        for (size_t i = 0; i < n; i++) {
                struct sighting *st;
                if (e[i].healthy || e[i].ours || e[i].previous_self)
                        continue;
                if (!(st = sighting(r, m[i].id)))
                        return -ENOMEM;
                if (!st->first_down_ms)
                        st->first_down_ms = now;
                e[i].last_alive_ms = st->first_down_ms;
                e[i].answers = member_answers(&m[i]);
                if (e[i].answers)
                        continue;
                e[i].seen_active = seen_by_others(r, m, n, e, &m[i], &e[i].view_unknown);
                int k = node_evidence(r, &m[i], st, &e[i]);
                if (k < 0) {
                        log_debug("replacement: cannot read the Node or Lease of '%s': %s", m[i].name,
                                  kube_client_error(s->api));
                        e[i].view_unknown = true;
                }
        }
        return 0;
}

/* ---- acting ---- */

static int record_event(struct run *r, const struct etcd_member *m, const char *reason) {
        struct json_builder b = {};
        _cleanup_(cJSON_Deletep) cJSON *ev = NULL;
        char ts[40], name[256];
        int64_t now_us = clock_wall_us();

        fb_join_queue_format_time(now_us, ts, sizeof(ts));
        ts[19] = 'Z'; /* Event timestamps are whole seconds (metav1.Time) */
        ts[20] = 0;
        snprintf(name, sizeof(name), "%s.%" PRIx64, m->name, (uint64_t) now_us * 1000);
        cJSON *o = jb_object(&b), *meta = jb_obj(&b, o, "metadata"), *inv, *src;
        jb_str(&b, o, "apiVersion", "v1");
        jb_str(&b, o, "kind", "Event");
        jb_str(&b, meta, "name", name);
        jb_str(&b, meta, "namespace", "kube-system");
        inv = jb_obj(&b, o, "involvedObject");
        jb_str(&b, inv, "apiVersion", "v1");
        jb_str(&b, inv, "kind", "Node");
        jb_str(&b, inv, "name", m->name);
        jb_str(&b, o, "reason", "EtcdMemberReplaced");
        jb_str(&b, o, "message", reason);
        jb_str(&b, o, "type", "Warning");
        src = jb_obj(&b, o, "source");
        jb_str(&b, src, "component", "kube-firstboot");
        jb_str(&b, src, "host", r->spec->self_name);
        jb_str(&b, o, "firstTimestamp", ts);
        jb_str(&b, o, "lastTimestamp", ts);
        jb_num(&b, o, "count", 1);
        jb_str(&b, o, "reportingComponent", "kube-firstboot");
        jb_str(&b, o, "reportingInstance", r->spec->self_name);
        int k = jb_finish(&b, o, &ev);
        if (k < 0)
                return k;
        return kube_create(r->spec->api, "/api/v1/namespaces/kube-system/events", ev, NULL);
}

static int append_removed(struct fb_replacement_result *res, const struct etcd_member *m,
                          const char *reason) {
        struct fb_replaced_member *a = reallocarray(res->removed, res->n_removed + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        res->removed = a;
        a[res->n_removed] = (struct fb_replaced_member){
                .id = m->id,
                .name = strdup(strempty(m->name)),
                .peer_url = strdup(m->peer_urls && m->peer_urls[0] ? m->peer_urls[0] : ""),
                .learner = m->learner,
                .reason = strdup(reason),
        };
        res->n_removed++;
        if (!a[res->n_removed - 1].name || !a[res->n_removed - 1].peer_url || !a[res->n_removed - 1].reason)
                return -ENOMEM;
        return 0;
}

static int remove_member(struct run *r, const struct etcd_member *m, bool previous_self, const char *reason,
                         struct fb_replacement_result *res, struct error *why) {
        char lb[32];
        int k = etcd_member_remove(r->client, m->id);
        if (k < 0 && k != -ENOENT)
                return error_set(why, k, "etcd: removing member '%s' (%016" PRIx64 ") failed: %s",
                                 member_label(m, lb), m->id, etcd_client_error(r->client));
        log_notice("etcd: removed member '%s' (%016" PRIx64 ", %s): %s.", member_label(m, lb), m->id,
                   m->peer_urls && m->peer_urls[0] ? m->peer_urls[0] : "no peer URL", reason);
        k = append_removed(res, m, reason);
        if (k < 0)
                return k;
        if (!r->spec->api || isempty(m->name) || previous_self)
                return 0;
        _cleanup_free_ char *np = kube_path("v1", NULL, "nodes", m->name);
        if (!np)
                return -ENOMEM;
        k = kube_delete(r->spec->api, np);
        if (k < 0 && k != -ENOENT)
                log_warning("Cannot delete the Node '%s' of the removed etcd member: %s.", m->name,
                            kube_client_error(r->spec->api));
        else
                log_notice("Deleted the Node '%s' of the removed etcd member.", m->name);
        k = record_event(r, m, reason);
        if (k < 0)
                log_warning("Cannot record the Event of the removed etcd member '%s': %s.", m->name,
                            kube_client_error(r->spec->api));
        return 0;
}

static int remember_healthy(const struct etcd_member *m, size_t n, const struct fb_member_evidence *e,
                            struct fb_replacement_result *res) {
        _cleanup_strv_free_ char **eps = NULL;
        for (size_t i = 0; i < n; i++)
                for (char **u = m[i].client_urls; e[i].healthy && !m[i].learner && u && *u; u++)
                        if (strv_extend(&eps, *u) < 0)
                                return -ENOMEM;
        strv_free(res->healthy_endpoints);
        res->healthy_endpoints = TAKE_PTR(eps);
        return 0;
}

/*
 * One look at the cluster: lists the members, gathers the evidence, and removes one dead member. Returns the
 * verdict (text says why), or -errno with why filled.
 */
static int one_round(struct run *r, struct fb_replacement_result *res, char *text, size_t len,
                     struct error *why) {
        struct etcd_member *m = NULL;
        size_t n = 0, idx = 0;
        int k;

        k = etcd_member_list(r->client, &m, &n);
        if (k < 0) {
                snprintf(text, len, "cannot list etcd members: %s", etcd_client_error(r->client));
                if (!etcd_error_is_retryable(k) && k != -EHOSTUNREACH)
                        return error_set(why, k, "replacement: %s", text);
                return FB_REPLACE_WAIT;
        }
        _cleanup_free_ struct fb_member_evidence *e = calloc(n ?: 1, sizeof(*e));
        if (!e || gather(r, m, n, e) < 0) {
                etcd_members_free(m, n);
                return -ENOMEM;
        }
        enum fb_replacement_verdict v =
                fb_replacement_decide(e, n, now_ms(r), r->spec->dead_after_ms, &idx, text, len);
        if (v == FB_REPLACE_NOTHING && remember_healthy(m, n, e, res) < 0) {
                etcd_members_free(m, n);
                return -ENOMEM;
        }
        if (v == FB_REPLACE_REMOVE)
                k = remove_member(r, &m[idx], e[idx].previous_self, text, res, why);
        etcd_members_free(m, n);
        return k < 0 ? k : (int) v;
}

int fb_replacement_run(const struct fb_replacement_spec *s, struct fb_replacement_result *ret,
                       struct error *why) {
        _cleanup_(run_done) struct run r = {.spec = s};
        char text[1024] = "", said[1024] = "";
        unsigned long long deadline, quorum_lost_since = 0;
        int k;

        if (!s || !s->endpoints || !s->endpoints[0] || isempty(s->self_peer_url) || isempty(s->self_name))
                return error_set(why, -EINVAL,
                                 "replacement: endpoints, this node's name and peer URL are needed");
        r.call_timeout_ms = s->call_timeout_ms ?: DEFAULT_CALL_TIMEOUT_MS;
        k = etcd_client_new(s->endpoints, s->ca_pem, s->cert_pem, s->key_pem, &r.client);
        if (k < 0)
                return error_set(why, k, "replacement: cannot set up the etcd client");
        etcd_client_set_timeout(r.client, r.call_timeout_ms);
        deadline = clock_now_ms() + s->timeout_ms;

        for (unsigned attempt = 0;; attempt++) {
                k = one_round(&r, ret, text, sizeof(text), why);
                if (k < 0)
                        return k;
                if (k == FB_REPLACE_NOTHING)
                        return 0;
                if (k == FB_REPLACE_REMOVE) {
                        attempt = 0;
                        continue; /* a fresh member list before anything else */
                }
                if (k != FB_REPLACE_QUORUM_LOST)
                        quorum_lost_since = 0;
                else if (!quorum_lost_since)
                        quorum_lost_since = clock_now_ms();
                else if (clock_now_ms() - quorum_lost_since >= QUORUM_CONFIRM_MS)
                        return error_set(why, -EHOSTDOWN, "%s", text);
                if (!streq(text, said)) {
                        log_info("Replacement: %s; waiting.", text);
                        snprintf(said, sizeof(said), "%s", text);
                }
                unsigned long long d = clock_backoff_ms(WAIT_BASE_MS, WAIT_CAP_MS, attempt);
                if (clock_now_ms() + d >= deadline)
                        return error_set(why, k == FB_REPLACE_QUORUM_LOST ? -EHOSTDOWN : -ETIMEDOUT,
                                         "gave up waiting to replace a dead etcd member: %s", text);
                clock_sleep_ms(d);
                if (s->keepalive)
                        s->keepalive(s->keepalive_data);
        }
}
