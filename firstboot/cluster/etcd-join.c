/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/etcd-join.h"

/* Backoff between attempts (clock_backoff_ms). The cap stays small because the usual wait (another learner
 * being promoted, etcd's 5 s strict-reconfig window after a change) is short. */
#define BACKOFF_BASE_MS    200u
#define BACKOFF_CAP_MS     3000u
#define PROMOTE_BASE_MS    250u
#define PROMOTE_CAP_MS     2000u
#define QUORUM_RECHECK_MS  1000u /* a "no quorum" verdict must hold twice, this far apart */
#define QUORUM_INTERVAL_MS 2000u /* voters' health is looked at no more often while add is refused */
#define MIN_CALL_MS        250u  /* no call is started with less time than this left */

void fb_etcd_join_state_done(struct fb_etcd_join_state *s) {
        if (!s)
                return;
        free(s->initial_cluster);
        *s = (struct fb_etcd_join_state){};
}

/* ---- the pure parts ---- */

int fb_etcd_member_find(const struct etcd_member *m, size_t n, const char *name, const char *peer_url,
                        size_t *ret_index, struct error *why) {
        size_t found = n;

        for (size_t i = 0; i < n; i++) {
                bool has_url = strv_contains(m[i].peer_urls, peer_url);
                if (has_url && found == n)
                        found = i;
                if (!has_url && !isempty(name) && streq(m[i].name, name)) {
                        return error_set(
                                why, -EADDRINUSE,
                                "etcd member '%s' (%" PRIx64
                                ") has started with peer URL '%s', not '%s': a stale member of this node? Remove it first (kube-firstboot etcd member remove %016" PRIx64
                                ")",
                                name, m[i].id, m[i].peer_urls && m[i].peer_urls[0] ? m[i].peer_urls[0] : "",
                                peer_url, m[i].id);
                }
        }
        if (found == n)
                return FB_ETCD_MEMBER_ABSENT;
        if (!isempty(m[found].name) && !streq(m[found].name, name)) {
                return error_set(
                        why, -EADDRINUSE,
                        "peer URL '%s' belongs to etcd member '%s' (%" PRIx64
                        "), which has started under that name: a stale member? Remove it first (kube-firstboot etcd member remove %016" PRIx64
                        ")",
                        peer_url, m[found].name, m[found].id, m[found].id);
        }
        if (ret_index)
                *ret_index = found;
        if (m[found].learner)
                return isempty(m[found].name) ? FB_ETCD_MEMBER_LEARNER : FB_ETCD_MEMBER_LEARNER_STARTED;
        return isempty(m[found].name) ? FB_ETCD_MEMBER_VOTER_UNSTARTED : FB_ETCD_MEMBER_VOTER;
}

char *fb_etcd_initial_cluster(const struct etcd_member *m, size_t n, const char *name,
                              const char *peer_url) {
        _cleanup_strv_free_ char **parts = NULL;

        for (size_t i = 0; i < n; i++) {
                bool ours = strv_contains(m[i].peer_urls, peer_url);
                char hex[17];
                const char *mname = m[i].name;

                /* kubeadm: this member by the name it will start with; a member that has not started has no
                 * name yet, so its ID in hex stands in (etcd matches the others by peer URL, not name). */
                if (ours)
                        mname = name;
                else if (isempty(mname)) {
                        snprintf(hex, sizeof(hex), "%" PRIx64, m[i].id);
                        mname = hex;
                }
                for (char **u = m[i].peer_urls; u && *u; u++)
                        if (strv_consume(&parts, strdupf("%s=%s", mname, *u)) < 0)
                                return NULL;
        }
        return strjoin_sep((const char *const *) parts, strv_length(parts), ",");
}

/* ---- one operation against the cluster ---- */

struct run {
        const struct fb_etcd_join_spec *spec;
        struct etcd_client *client;
        unsigned long long deadline;
        unsigned call_timeout_ms;
        struct error last;       /* the last busy or transport condition, for a timeout's message */
        const char *last_logged; /* the condition announced at info level, to announce each once */
};

static void run_done(struct run *r) {
        r->client = etcd_client_free(r->client);
}

static int run_init(struct run *r, const struct fb_etcd_join_spec *s, struct error *why) {
        int k;

        *r = (struct run){.spec = s};
        if (!s || isempty(s->name) || isempty(s->peer_url) || !s->endpoints || !s->endpoints[0] ||
            (!startswith(s->peer_url, "https://") && !startswith(s->peer_url, "http://"))) {
                return error_set(
                        why, -EINVAL,
                        "etcd join: a name, a peer URL (https://ADDRESS:2380) and endpoints are needed");
        }
        k = etcd_client_new(s->endpoints, s->ca_pem, s->cert_pem, s->key_pem, &r->client);
        if (k < 0) {
                return error_set(why, k, "etcd join: cannot set up the etcd client (credentials missing?)");
        }
        r->deadline = clock_now_ms() + (s->timeout_ms ?: FB_ETCD_JOIN_DEFAULT_TIMEOUT_MS);
        r->call_timeout_ms = s->call_timeout_ms ?: FB_ETCD_JOIN_DEFAULT_CALL_TIMEOUT_MS;
        return 0;
}

/* The per-call timeout, never past the deadline; 0 when too little is left for a call to mean anything (its
 * timeout would hide the reason we were waiting for). */
static unsigned call_budget(const struct run *r) {
        unsigned long long now = clock_now_ms();
        if (now + MIN_CALL_MS > r->deadline)
                return 0;
        return r->deadline - now < r->call_timeout_ms ? (unsigned) (r->deadline - now) : r->call_timeout_ms;
}

static void count_call(const struct run *r) {
        if (r->spec->round_trips)
                (*r->spec->round_trips)++;
}

/* Remembers why we wait; the first time a kind of wait appears, says so at info level. */
static void note(struct run *r, int error, const char *kind, const char *detail) {
        (void) error_set(&r->last, error, "%s%s%s", kind, isempty(detail) ? "" : ": ", strempty(detail));
        if (r->last_logged != kind) {
                log_info("etcd: %s, retrying until the deadline", kind);
                r->last_logged = kind;
        }
        log_debug("etcd: %s", r->last.message);
}

static int give_up(const struct run *r, const char *what, struct error *why) {
        return error_set(why, -ETIMEDOUT, "etcd: gave up %s: %s", what,
                         r->last.message[0] ? r->last.message : "no answer in time");
}

/* Sleeps before the next attempt; -ETIMEDOUT (why filled) when no call would fit after it. */
static int wait_next(struct run *r, unsigned base, unsigned cap, unsigned attempt, const char *what,
                     struct error *why) {
        unsigned long long d = clock_backoff_ms(base, cap, attempt), now = clock_now_ms();
        if (now + d + MIN_CALL_MS > r->deadline)
                return give_up(r, what, why);
        clock_sleep_ms(d);
        return 0;
}

static int list_members(struct run *r, struct etcd_member **ret, size_t *ret_n) {
        unsigned t = call_budget(r);
        if (t == 0)
                return -ETIMEDOUT;
        etcd_client_set_timeout(r->client, t);
        count_call(r);
        return etcd_member_list(r->client, ret, ret_n);
}

/* Whether one voter answers /health with "true" on its own client URLs; why not in err. */
static bool voter_healthy(struct run *r, const struct etcd_member *m, char *err, size_t len) {
        _cleanup_(etcd_client_freep) struct etcd_client *c = NULL;
        unsigned t = call_budget(r);

        if (!m->client_urls || !m->client_urls[0]) {
                snprintf(err, len, "never started (no client URL)");
                return false;
        }
        if (t == 0 || etcd_client_new((const char *const *) m->client_urls, r->spec->ca_pem,
                                      r->spec->cert_pem, r->spec->key_pem, &c) < 0) {
                snprintf(err, len, "not checked");
                return false;
        }
        etcd_client_set_timeout(c, t);
        count_call(r);
        if (etcd_health(c) < 0) {
                snprintf(err, len, "%s", etcd_client_error(c));
                log_debug("etcd: voter '%s' is not healthy: %s", m->name, err);
                return false;
        }
        return true;
}

/*
 * Counts the voters that are healthy. Returns 1 when they are fewer than a quorum, with the details in
 * text, 0 when a quorum is healthy (text then names the voters that are not, if any).
 */
static int quorum_at_risk(struct run *r, const struct etcd_member *m, size_t n, char *text, size_t len) {
        unsigned voters = 0, healthy = 0;
        char bad[384] = "";
        size_t off = 0;

        for (size_t i = 0; i < n; i++) {
                char err[160];
                if (m[i].learner)
                        continue;
                voters++;
                if (voter_healthy(r, &m[i], err, sizeof(err))) {
                        healthy++;
                        continue;
                }
                if (off < sizeof(bad)) {
                        int k = snprintf(bad + off, sizeof(bad) - off, "%s'%s' (%s)", off ? ", " : "",
                                         isempty(m[i].name) ? "unnamed" : m[i].name, err);
                        off += k > 0 ? (size_t) k : 0;
                }
        }
        if (healthy >= fb_etcd_quorum(voters)) {
                if (healthy < voters)
                        (void) snprintf(text, len, "%u of %u voters healthy (a quorum); not healthy: %s",
                                        healthy, voters, bad);
                else
                        text[0] = 0;
                return 0;
        }
        (void) snprintf(
                text, len,
                "etcd quorum at risk: only %u of %u voters healthy (%u needed); not healthy: %s. Adding a member now could leave the cluster unable to commit: bring those members back or remove them (kube-firstboot etcd member remove ID) first",
                healthy, voters, fb_etcd_quorum(voters), bad);
        return 1;
}

/* The unstarted learner of another peer URL that holds etcd's single learner slot, if any. */
static const struct etcd_member *blocking_learner(const struct etcd_member *m, size_t n,
                                                  const char *peer_url) {
        for (size_t i = 0; i < n; i++)
                if (m[i].learner && isempty(m[i].name) && !strv_contains(m[i].peer_urls, peer_url))
                        return &m[i];
        return NULL;
}

static int fill_state(const struct run *r, const struct etcd_member *m, size_t n, size_t idx, bool added,
                      struct fb_etcd_join_state *ret) {
        char *ic = fb_etcd_initial_cluster(m, n, r->spec->name, r->spec->peer_url);
        if (!ic)
                return -ENOMEM;
        *ret = (struct fb_etcd_join_state){
                .member_id = m[idx].id,
                .added = added,
                .learner = m[idx].learner,
                .started = !isempty(m[idx].name),
                .initial_cluster = ic,
        };
        return 0;
}

/* An attempt's steps say: go on to the next step, try again (after the backoff, or at once), or done. */
enum { STEP_NEXT, STEP_AGAIN, STEP_DONE };

/* fb_etcd_join_add() across its attempts. */
struct add {
        struct run r;
        char quorum_text[1024]; /* room for quorum_at_risk()'s longest */
        unsigned long long quorum_checked, risk_seen, blocker_since;
        uint64_t blocker_id;
        bool added;      /* this call's add succeeded (the learner is ours) */
        bool tried;      /* this call sent an add (its answer may have been lost) */
        bool quorum_due; /* voters' health is looked at before the first add and while etcd refuses adds */
        bool at_once;    /* the next attempt lists without the backoff */
};

static void add_done(struct add *a) {
        run_done(&a->r);
}

struct member_list {
        struct etcd_member *m;
        size_t n;
};

static void member_list_done(struct member_list *l) {
        etcd_members_free(l->m, l->n);
        *l = (struct member_list){};
}

/* The member list into *l; a failure worth waiting out is noted (STEP_AGAIN), another is -errno. */
static int list_members_step(struct run *r, struct member_list *l, struct error *why) {
        int k = list_members(r, &l->m, &l->n);
        if (k >= 0)
                return STEP_NEXT;
        if (!etcd_error_is_retryable(k) && k != -EHOSTUNREACH)
                return error_set(why, k, "etcd: cannot list members: %s", etcd_client_error(r->client));
        note(r, k, "etcd member list failed", etcd_client_error(r->client));
        return STEP_AGAIN;
}

/* A member with this peer URL is there: its state in *ret, done. An add of ours that is gone again is said.
 */
static int take_found_member(struct add *a, const struct member_list *l, struct fb_etcd_join_state *ret,
                             struct error *why) {
        const struct fb_etcd_join_spec *s = a->r.spec;
        size_t idx = 0;
        int state, k;

        state = fb_etcd_member_find(l->m, l->n, s->name, s->peer_url, &idx, why);
        if (state < 0)
                return state;
        if (state != FB_ETCD_MEMBER_ABSENT) {
                /* an add whose answer was lost (timeout) that etcd applied is still ours */
                k = fill_state(&a->r, l->m, l->n, idx,
                               a->added || (a->tried && state == FB_ETCD_MEMBER_LEARNER), ret);
                if (k < 0)
                        return k;
                log_debug("etcd: member %" PRIx64 " with peer URL %s is %s", l->m[idx].id, s->peer_url,
                          l->m[idx].learner ? "a learner" : "a voter");
                return STEP_DONE;
        }
        if (a->added) /* added, then gone: removed by someone in between; add again */
                log_warning("etcd: the learner added for %s is gone from the member list, adding again",
                            s->peer_url);
        a->added = false;
        return STEP_NEXT;
}

/* Quorum, looked at when due and not too often: a "too few voters healthy" verdict must hold twice,
 * QUORUM_RECHECK_MS apart, before the join gives up (-EHOSTDOWN). */
static int check_quorum(struct add *a, const struct member_list *l, struct error *why) {
        if (!a->quorum_due ||
            (a->quorum_checked != 0 && clock_now_ms() - a->quorum_checked < QUORUM_INTERVAL_MS))
                return STEP_NEXT;
        a->quorum_checked = clock_now_ms();
        if (!quorum_at_risk(&a->r, l->m, l->n, a->quorum_text, sizeof(a->quorum_text))) {
                a->risk_seen = 0;
                a->quorum_due = false;
                return STEP_NEXT;
        }
        if (a->risk_seen && clock_now_ms() - a->risk_seen >= QUORUM_RECHECK_MS)
                return error_set(why, -EHOSTDOWN, "%s", a->quorum_text);
        if (!a->risk_seen)
                a->risk_seen = clock_now_ms();
        note(&a->r, -EHOSTDOWN, "too few etcd voters are healthy", a->quorum_text);
        a->quorum_checked = 0; /* confirm once more before refusing */
        return STEP_AGAIN;
}

/* An unstarted learner of another node keeps etcd's one learner slot: wait, or after the configured time,
 * treat it as an abandoned join and remove it. */
static int remove_abandoned_learner(struct add *a, const struct member_list *l) {
        const struct fb_etcd_join_spec *s = a->r.spec;
        const struct etcd_member *b = blocking_learner(l->m, l->n, s->peer_url);
        unsigned t;
        int k;

        if (b && b->id != a->blocker_id) {
                a->blocker_id = b->id;
                a->blocker_since = clock_now_ms();
        } else if (!b)
                a->blocker_id = 0;
        if (!b || s->abandoned_learner_ms == 0 ||
            clock_now_ms() - a->blocker_since < s->abandoned_learner_ms)
                return STEP_NEXT;
        t = call_budget(&a->r);
        if (t == 0)
                return STEP_AGAIN;
        etcd_client_set_timeout(a->r.client, t);
        count_call(&a->r);
        k = etcd_member_remove(a->r.client, b->id);
        if (k >= 0 || k == -ENOENT)
                log_notice("etcd: removed learner %016" PRIx64
                           " (%s): added by a join that never started it within %u s",
                           b->id, b->peer_urls && b->peer_urls[0] ? b->peer_urls[0] : "",
                           s->abandoned_learner_ms / 1000);
        else
                note(&a->r, k, "removing an abandoned learner failed", etcd_client_error(a->r.client));
        a->blocker_id = 0;
        return STEP_AGAIN;
}

/* etcd refused the add: what to wait for (STEP_AGAIN), or -errno with why when waiting cannot help. */
static int add_refused(struct add *a, int k, struct error *why) {
        struct run *r = &a->r;

        switch (k) {
        case -EEXIST: /* added by an earlier call whose answer we lost: the list shows it */
                note(r, k, "the peer URL is being added", etcd_client_error(r->client));
                return STEP_AGAIN;
        case -ETIMEDOUT: /* the conf change may or may not have been applied: list again */
                note(r, k, "adding the learner timed out", etcd_client_error(r->client));
                return STEP_AGAIN;
        case -EBUSY:
                note(r, k, "another member is joining (etcd allows one learner at a time)",
                     etcd_client_error(r->client));
                return STEP_AGAIN;
        case -EAGAIN:
                note(r, k, "etcd refuses member changes for now (unhealthy cluster or leader change)",
                     etcd_client_error(r->client));
                a->quorum_due = true;
                if (a->quorum_text[0]) {
                        /* a voter is down: say so in the final message */
                        struct error both = {};
                        (void) error_set(&both, r->last.code, "%s; %s", r->last.message, a->quorum_text);
                        r->last = both;
                }
                return STEP_AGAIN;
        case -EINVAL:
                return error_set(why, k, "etcd refused peer URL '%s': %s", r->spec->peer_url,
                                 etcd_client_error(r->client));
        default:
                if (!etcd_error_is_retryable(k) && k != -EHOSTUNREACH)
                        return error_set(why, k, "etcd: adding learner %s failed: %s", r->spec->peer_url,
                                         etcd_client_error(r->client));
                note(r, k, "etcd unreachable", etcd_client_error(r->client));
                return STEP_AGAIN;
        }
}

/* The add itself; on success the next attempt lists at once (etcd.c does not keep the answer's list). */
static int add_learner(struct add *a, struct error *why) {
        const struct fb_etcd_join_spec *s = a->r.spec;
        unsigned t = call_budget(&a->r);
        uint64_t id = 0;
        int k;

        if (t == 0)
                return STEP_AGAIN; /* wait_next reports the timeout */
        etcd_client_set_timeout(a->r.client, t);
        count_call(&a->r);
        a->tried = true;
        k = etcd_member_add_learner(a->r.client, s->peer_url, &id);
        if (k < 0)
                return add_refused(a, k, why);
        log_info("etcd: added %s (%s) as learner %016" PRIx64, s->name, s->peer_url, id);
        a->added = true;
        a->at_once = true;
        return STEP_AGAIN;
}

/* One attempt: the member list, then this member's state if it is there, else quorum, the learner slot, the
 * add. */
static int add_attempt(struct add *a, struct fb_etcd_join_state *ret, struct error *why) {
        _cleanup_(member_list_done) struct member_list l = {};
        int k;

        if ((k = list_members_step(&a->r, &l, why)) != STEP_NEXT ||
            (k = take_found_member(a, &l, ret, why)) != STEP_NEXT ||
            (k = check_quorum(a, &l, why)) != STEP_NEXT ||
            (k = remove_abandoned_learner(a, &l)) != STEP_NEXT)
                return k;
        member_list_done(&l);
        return add_learner(a, why);
}

int fb_etcd_join_add(const struct fb_etcd_join_spec *s, struct fb_etcd_join_state *ret, struct error *why) {
        _cleanup_(add_done) struct add a = {};
        int k;

        k = run_init(&a.r, s, why);
        if (k < 0)
                return k;
        a.quorum_due = true;
        for (unsigned attempt = 0;; attempt++) {
                if (attempt > 0 && !a.at_once) {
                        k = wait_next(&a.r, BACKOFF_BASE_MS, BACKOFF_CAP_MS, attempt - 1,
                                      "adding this member", why);
                        if (k < 0)
                                return k;
                }
                a.at_once = false;
                if (call_budget(&a.r) == 0)
                        return give_up(&a.r, "adding this member", why);
                k = add_attempt(&a, ret, why);
                if (k != STEP_AGAIN)
                        return k < 0 ? k : 0;
        }
}

/* This member's state in the list: done when a voter, STEP_NEXT with *ret_id when a started learner. */
static int learner_to_promote(struct run *r, const struct member_list *l, uint64_t *ret_id,
                              struct error *why) {
        const struct fb_etcd_join_spec *s = r->spec;
        size_t idx = 0;
        int state = fb_etcd_member_find(l->m, l->n, s->name, s->peer_url, &idx, why);

        switch (state) {
        case FB_ETCD_MEMBER_ABSENT:
                return error_set(
                        why, -ENOENT,
                        "etcd has no member with peer URL '%s' to promote (removed? add it again first)",
                        s->peer_url);
        case FB_ETCD_MEMBER_VOTER:
        case FB_ETCD_MEMBER_VOTER_UNSTARTED:
                log_debug("etcd: %s is a voter", s->peer_url);
                return STEP_DONE;
        case FB_ETCD_MEMBER_LEARNER:
                /* etcd would answer "not in sync": no need to ask until it has started */
                note(r, -EAGAIN, "waiting for the learner to start",
                     "it has no name yet: etcd on this node has not joined");
                return STEP_AGAIN;
        case FB_ETCD_MEMBER_LEARNER_STARTED:
                *ret_id = l->m[idx].id;
                return STEP_NEXT;
        default:
                return state; /* -EADDRINUSE, why filled */
        }
}

/* The promotion itself: done, or what to wait for (STEP_AGAIN), or -errno when waiting cannot help. */
static int promote_learner(struct run *r, uint64_t id, struct error *why) {
        unsigned t = call_budget(r);
        int k;

        if (t == 0)
                return STEP_AGAIN;
        etcd_client_set_timeout(r->client, t);
        count_call(r);
        k = etcd_member_promote(r->client, id);
        if (k >= 0 || k == -EALREADY) {
                /* "can only promote a learner member": a voter already, e.g. an earlier call that timed out
                 * after etcd applied it */
                log_info("etcd: promoted %s (%016" PRIx64 ") to voter", r->spec->name, id);
                return STEP_DONE;
        }
        switch (k) {
        case -ETIMEDOUT:
                note(r, k, "promoting timed out", etcd_client_error(r->client));
                return STEP_AGAIN;
        case -ENOENT:
                note(r, k, "the learner is gone", etcd_client_error(r->client));
                return STEP_AGAIN;
        case -EAGAIN:
        case -EBUSY:
                note(r, k, "the learner is not in sync with the leader yet", etcd_client_error(r->client));
                return STEP_AGAIN;
        default:
                if (!etcd_error_is_retryable(k) && k != -EHOSTUNREACH)
                        return error_set(why, k, "etcd: promoting %016" PRIx64 " failed: %s", id,
                                         etcd_client_error(r->client));
                note(r, k, "etcd unreachable", etcd_client_error(r->client));
                return STEP_AGAIN;
        }
}

/* One attempt: the member list, this member's state, the promotion. */
static int promote_attempt(struct run *r, struct error *why) {
        _cleanup_(member_list_done) struct member_list l = {};
        uint64_t id = 0;
        int k;

        if ((k = list_members_step(r, &l, why)) != STEP_NEXT ||
            (k = learner_to_promote(r, &l, &id, why)) != STEP_NEXT)
                return k;
        member_list_done(&l);
        return promote_learner(r, id, why);
}

int fb_etcd_join_promote(const struct fb_etcd_join_spec *s, struct error *why) {
        _cleanup_(run_done) struct run r = {};
        int k;

        k = run_init(&r, s, why);
        if (k < 0)
                return k;
        for (unsigned attempt = 0;; attempt++) {
                if (attempt > 0) {
                        k = wait_next(&r, PROMOTE_BASE_MS, PROMOTE_CAP_MS, attempt - 1,
                                      "promoting this member", why);
                        if (k < 0)
                                return k;
                }
                if (call_budget(&r) == 0)
                        return give_up(&r, "promoting this member", why);
                k = promote_attempt(&r, why);
                if (k != STEP_AGAIN)
                        return k < 0 ? k : 0;
        }
}

int fb_etcd_join_check(const struct fb_etcd_join_spec *s) {
        _cleanup_(run_done) struct run r = {};
        int k;

        k = run_init(&r, s, NULL);
        if (k < 0)
                return k;
        for (unsigned attempt = 0;; attempt++) {
                struct etcd_member *m = NULL;
                size_t n = 0;
                int state;

                if (attempt > 0) {
                        k = wait_next(&r, BACKOFF_BASE_MS, BACKOFF_CAP_MS, attempt - 1, "checking", NULL);
                        if (k < 0)
                                return r.last.code ?: k;
                }
                if (call_budget(&r) == 0)
                        return r.last.code ?: -ETIMEDOUT;
                k = list_members(&r, &m, &n);
                if (k < 0) {
                        if (!etcd_error_is_retryable(k) && k != -EHOSTUNREACH)
                                return k;
                        note(&r, k, "etcd member list failed", etcd_client_error(r.client));
                        continue;
                }
                state = fb_etcd_member_find(m, n, s->name, s->peer_url, NULL, NULL);
                etcd_members_free(m, n);
                if (state < 0)
                        return state;
                return state == FB_ETCD_MEMBER_VOTER ? 1 : 0;
        }
}
