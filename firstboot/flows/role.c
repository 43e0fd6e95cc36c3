/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/role.h"

#define SEED_ROUND_MS       1000ull /* between two rounds of probes */
#define SEED_SETTLE_MS      3000ull /* after news of a seed, three more rounds before deciding */
#define SEED_CONTENDERS_MAX 16      /* seeds remembered; further ones still lower the lowest known */
#define SEED_LISTENERS_MAX  3       /* the instance's IPv4 and IPv6 address and the advertise address */
#define SEED_CONNS_MAX      8       /* connections a listener reads an answer from at once */

/* ---- the contest's lines and tie-break ---- */

static bool instance_id_ok(const char *s, size_t len) {
        if (len == 0 || len > FB_SEED_ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] >= 0x7f)
                        return false;
        return true;
}

int fb_seed_id_cmp(const struct fb_seed_id *a, const struct fb_seed_id *b) {
        int r = ip_cmp(a->address, b->address);
        if (r == -2) /* only for an id that fb_seed_id_make() or a parse did not make: still a total order */
                r = strcmp(a->address, b->address);
        if (r == 0)
                r = strcmp(a->instance_id, b->instance_id);
        return r < 0 ? -1 : r > 0;
}

int fb_seed_id_make(const char *address, const char *instance_id, struct fb_seed_id *ret) {
        struct fb_seed_id id = {};
        if (ip_canonical(address, id.address) < 0)
                return -EINVAL;
        if (instance_id && instance_id_ok(instance_id, strlen(instance_id)))
                memcpy(id.instance_id, instance_id, strlen(instance_id));
        else
                memcpy(id.instance_id, FB_SEED_NO_INSTANCE, sizeof(FB_SEED_NO_INSTANCE));
        *ret = id;
        return 0;
}

void fb_seed_line_format(const struct fb_seed_line *l, char buf[static FB_SEED_LINE_MAX]) {
        (void) snprintf(buf, FB_SEED_LINE_MAX, FB_SEED_BANNER " %s %s %s %s\n", l->from.address,
                        l->from.instance_id, l->lowest.address, l->lowest.instance_id);
}

/* One "<address> <instance-id>" pair of a line at *p, followed by sep; *p moves past sep. */
static int parse_seed_id(const char **p, const char *end, char sep, struct fb_seed_id *ret) {
        const char *a = *p, *a_end = memchr(a, ' ', (size_t) (end - a));
        if (!a_end || a_end == a || (size_t) (a_end - a) >= IP_STRING_MAX)
                return -EBADMSG;
        const char *i = a_end + 1, *i_end = memchr(i, sep, (size_t) (end - i));
        if (!i_end || !instance_id_ok(i, (size_t) (i_end - i)))
                return -EBADMSG;
        char address[IP_STRING_MAX] = {};
        struct fb_seed_id id = {};
        memcpy(address, a, (size_t) (a_end - a));
        if (ip_canonical(address, id.address) < 0)
                return -EBADMSG;
        memcpy(id.instance_id, i, (size_t) (i_end - i));
        *p = i_end + 1;
        *ret = id;
        return 0;
}

int fb_seed_line_parse(const char *s, size_t len, struct fb_seed_line *ret) {
        static const char word[] = FB_SEED_BANNER " ";
        const char *p, *end;
        struct fb_seed_line l;

        if (!s || len >= FB_SEED_LINE_MAX || len < sizeof(word) - 1 ||
            memcmp(s, word, sizeof(word) - 1) != 0 || memchr(s, 0, len))
                return -EBADMSG;
        p = s + sizeof(word) - 1;
        end = s + len;
        if (parse_seed_id(&p, end, ' ', &l.from) < 0 || parse_seed_id(&p, end, '\n', &l.lowest) < 0 ||
            p != end)
                return -EBADMSG;
        /* The lowest seed a seed knows of is never above itself. */
        if (fb_seed_id_cmp(&l.lowest, &l.from) > 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

/* ---- one seed's view of the contest, shared by its probes and its listener ---- */

struct contender {
        struct fb_seed_id id;
        struct fb_seed_id lowest;   /* the lowest seed it knew of when it last spoke */
        unsigned long long said_ms; /* when it last spoke */
};

struct contest {
        pthread_mutex_t lock;
        bool ranked;              /* self is known: this node has an address to be ranked by */
        struct fb_seed_id self;   /* this node */
        struct fb_seed_id lowest; /* the lowest seed known: self, one heard, or one a seed heard knows */
        bool have_lowest;         /* always when ranked */
        struct contender seeds[SEED_CONTENDERS_MAX];
        size_t n_seeds;
        unsigned long long news_ms; /* when a seed, or a lower lowest, was last learnt of; 0: never */
        int listeners[SEED_LISTENERS_MAX];
        size_t n_listeners;
        int stop[2]; /* the listener thread's stop pipe */
        pthread_t thread;
        bool serving;
};

/* What a seed said (in a line read by a probe or by the listener). */
static void contest_hear(struct contest *k, const struct fb_seed_line *l) {
        unsigned long long now = clock_now_ms();
        struct contender *c = NULL;

        (void) pthread_mutex_lock(&k->lock);
        if (k->ranked && fb_seed_id_cmp(&l->from, &k->self) == 0)
                goto out; /* this node's own line, through a load balancer */
        for (size_t i = 0; i < k->n_seeds && !c; i++)
                if (fb_seed_id_cmp(&k->seeds[i].id, &l->from) == 0)
                        c = &k->seeds[i];
        if (!c && k->n_seeds < SEED_CONTENDERS_MAX) {
                c = &k->seeds[k->n_seeds++];
                c->id = l->from;
                k->news_ms = now;
                log_debug("Another seed: %s (%s), which knows of %s (%s) as the lowest", l->from.address,
                          l->from.instance_id, l->lowest.address, l->lowest.instance_id);
        }
        if (c) {
                c->lowest = l->lowest;
                c->said_ms = now;
        }
        /* l->lowest is never above l->from (the parse refuses that). */
        if (!k->have_lowest || fb_seed_id_cmp(&l->lowest, &k->lowest) < 0) {
                k->lowest = l->lowest;
                k->have_lowest = true;
                k->news_ms = now;
        }
out:
        (void) pthread_mutex_unlock(&k->lock);
}

/* This node's line: itself and the lowest seed it knows of. Only for a ranked contest. */
static void contest_line(struct contest *k, char buf[static FB_SEED_LINE_MAX]) {
        (void) pthread_mutex_lock(&k->lock);
        struct fb_seed_line l = {k->self, k->lowest};
        (void) pthread_mutex_unlock(&k->lock);
        fb_seed_line_format(&l, buf);
}

struct conn {
        int fd;
        unsigned long long deadline;
        size_t len;
        char buf[FB_SEED_LINE_MAX];
};

/* Every waiting connection gets this node's line at once, then has FB_SEED_LINE_WAIT_MS to answer with one.
 */
static void contest_accept(struct contest *k, int listener, struct conn *conns) {
        for (;;) {
                char line[FB_SEED_LINE_MAX];
                _cleanup_close_ int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return;
                }
                contest_line(k, line);
                (void) send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
                for (size_t i = 0; i < SEED_CONNS_MAX; i++)
                        if (conns[i].fd < 0) {
                                conns[i] = (struct conn){.fd = TAKE_FD(fd),
                                                         .deadline = clock_now_ms() + FB_SEED_LINE_WAIT_MS};
                                break;
                        }
                /* Too many at once: this one had the line, its answer is not read. */
        }
}

static void conn_read(struct contest *k, struct conn *c) {
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
        if (n > 0) {
                struct fb_seed_line l;
                c->len += (size_t) n;
                const char *nl = memchr(c->buf, '\n', c->len);
                if (!nl && c->len < sizeof(c->buf) - 1)
                        return;
                if (nl && fb_seed_line_parse(c->buf, (size_t) (nl + 1 - c->buf), &l) >= 0)
                        contest_hear(k, &l);
        }
        c->fd = safe_close(c->fd);
}

/* The listener thread: answers every connection with this node's line until the stop pipe is closed. */
static void *contest_serve(void *userdata) {
        struct contest *k = userdata;
        struct conn conns[SEED_CONNS_MAX];

        for (size_t i = 0; i < SEED_CONNS_MAX; i++)
                conns[i].fd = -EBADF;
        for (;;) {
                struct pollfd p[1 + SEED_LISTENERS_MAX + SEED_CONNS_MAX];
                size_t n = 0;
                unsigned long long now = clock_now_ms(), next = now + 10000;

                p[n++] = (struct pollfd){.fd = k->stop[0], .events = POLLIN};
                for (size_t i = 0; i < k->n_listeners; i++)
                        p[n++] = (struct pollfd){.fd = k->listeners[i], .events = POLLIN};
                for (size_t i = 0; i < SEED_CONNS_MAX; i++) {
                        p[n++] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                        if (conns[i].fd >= 0 && conns[i].deadline < next)
                                next = conns[i].deadline;
                }
                if (poll(p, n, next > now ? (int) (next - now) : 0) < 0 && errno != EINTR)
                        break;
                if (p[0].revents)
                        break;
                now = clock_now_ms();
                for (size_t i = 0; i < SEED_CONNS_MAX; i++) {
                        struct conn *c = &conns[i];
                        if (c->fd >= 0 && p[1 + k->n_listeners + i].revents)
                                conn_read(k, c);
                        if (c->fd >= 0 && now >= c->deadline)
                                c->fd = safe_close(c->fd);
                }
                for (size_t i = 0; i < k->n_listeners; i++)
                        if (p[1 + i].revents & POLLIN)
                                contest_accept(k, k->listeners[i], conns);
        }
        for (size_t i = 0; i < SEED_CONNS_MAX; i++)
                conns[i].fd = safe_close(conns[i].fd);
        return NULL;
}

/*
 * Listens on each address (the first that cannot be listened on is logged; the others still serve) at port
 * and serves from a thread. 0 when at least one listener serves, -errno otherwise.
 */
static int contest_listen(struct contest *k, char *const *addresses, unsigned port) {
        int r = -EADDRNOTAVAIL;
        for (char *const *a = addresses; a && *a && k->n_listeners < SEED_LISTENERS_MAX; a++) {
                int fd;
                r = tcp_listen(*a, port, &fd);
                if (r < 0) {
                        log_warning(
                                "Role auto: cannot answer other seeds on %s port %u (%s); they do not hear this one there",
                                *a, port, strerror(-r));
                        continue;
                }
                k->listeners[k->n_listeners++] = fd;
        }
        if (k->n_listeners == 0)
                return r;
        if (pipe2(k->stop, O_CLOEXEC) < 0)
                return -errno;
        r = pthread_create(&k->thread, NULL, contest_serve, k);
        if (r != 0)
                return -r;
        k->serving = true;
        return 0;
}

/* Stops the listener thread and closes every listener: the apiserver's port is free again. */
static void contest_done(struct contest *k) {
        if (k->serving) {
                /* Closing the pipe's write end wakes the thread's poll (POLLHUP). */
                k->stop[1] = safe_close(k->stop[1]);
                (void) pthread_join(k->thread, NULL);
                k->serving = false;
        }
        for (size_t i = 0; i < k->n_listeners; i++)
                k->listeners[i] = safe_close(k->listeners[i]);
        k->n_listeners = 0;
        k->stop[0] = safe_close(k->stop[0]);
        k->stop[1] = safe_close(k->stop[1]);
        (void) pthread_mutex_destroy(&k->lock);
}

enum probe {
        PROBE_SILENT,  /* refused, nothing, or closed without a word */
        PROBE_SEED,    /* a contending seed's line */
        PROBE_ANSWERS, /* a server that is not a seed: it waits for its client, or says something else */
};

/*
 * Connects to ip:port and reads what comes first. A seed's line is heard, and when talk this node's own line
 * goes back (the other seed learns of this one on the same connection). A real apiserver speaks TLS and
 * never sends first: a connection that stays quiet, or says anything but a line, is a server. A connection
 * closed or reset before a word is a listener going away or a load balancer without a backend: silence.
 */
static enum probe probe_port(struct contest *k, const char *ip, unsigned port, bool talk) {
        _cleanup_close_ int fd = -EBADF;
        char buf[FB_SEED_LINE_MAX];
        struct fb_seed_line l;

        if (tcp_connect(ip, port, 1000, &fd) < 0)
                return PROBE_SILENT;
        ssize_t n = tcp_read_line(fd, buf, sizeof(buf), FB_SEED_LINE_WAIT_MS);
        if (n == 0)
                return PROBE_SILENT;
        if (n < 0 || fb_seed_line_parse(buf, (size_t) n, &l) < 0)
                return PROBE_ANSWERS;
        contest_hear(k, &l);
        if (talk && k->ranked) {
                contest_line(k, buf);
                (void) send(fd, buf, strlen(buf), MSG_NOSIGNAL);
                (void) shutdown(fd, SHUT_WR);
        }
        return PROBE_SEED;
}

/*
 * One round: whether a cluster answers (an apiserver at the control-plane endpoint: any HTTP answer, a load
 * balancer that accepts and drops the connection is not one; or on a peer something that is not a seed at
 * the apiserver's port, or etcd's port open), what names it for the log. Contending seeds met on the way (at
 * a peer, or at an endpoint given by address whose load balancer sends to one) are heard.
 */
static bool cluster_answers(struct contest *k, const struct fb_config *c, const struct md_instance *inst,
                            bool talk, char *what, size_t len) {
        const struct fb_cluster_settings *cluster = fb_config_settings(c)->cluster;
        const char *cpe = cluster ? cluster->control_plane_endpoint : NULL;
        unsigned api_port = fb_config_bind_port(c) ?: 6443;
        if (cpe) {
                _cleanup_free_ char *host = NULL, *url = NULL;
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                unsigned port = 6443;
                if (split_host_port(cpe, &host, &port) >= 0 &&
                    (url = ip_is_ipv6(host) ? strdupf("https://[%s]:%u/healthz", host, port ?: 6443)
                                            : strdupf("https://%s:%u/healthz", host, port ?: 6443))) {
                        struct http_request req = {
                                .url = url, .insecure = true, .timeout_ms = 3000, .no_proxy = true};
                        if (http_request(&req, &resp) >= 0) {
                                snprintf(what, len,
                                         "an apiserver answers at the control-plane endpoint %s (HTTP %ld)",
                                         cpe, resp->status);
                                return true;
                        }
                        /* A load balancer with TCP health checks sends to a seed's listener. */
                        if (ip_is_valid(host))
                                (void) probe_port(k, host, port ?: 6443, talk);
                }
        }
        for (char *const *p = fb_config_seed_peers(c); p && *p; p++) {
                if (inst && ((inst->local_ipv4 && ip_cmp(*p, inst->local_ipv4) == 0) ||
                             (inst->local_ipv6 && ip_cmp(*p, inst->local_ipv6) == 0)))
                        continue;
                if (probe_port(k, *p, api_port, talk) == PROBE_ANSWERS) {
                        snprintf(what, len, "peer %s answers on port %u", *p, api_port);
                        return true;
                }
                if (tcp_answers(*p, 2379, 1000)) {
                        snprintf(what, len, "peer %s answers on port %u", *p, 2379u);
                        return true;
                }
        }
        return false;
}

enum verdict {
        VERDICT_WAIT,
        VERDICT_INIT,         /* no seed heard is lower, and every one heard knows of this node */
        VERDICT_JOIN_LOWER,   /* a lower seed is known */
        VERDICT_JOIN_UNHEARD, /* a seed heard never said it heard this node: it may init, this one must not
                               */
};

/*
 * The contest's verdict at now. A seed decides once its grace period is over and SEED_SETTLE_MS passed since
 * it last learnt of a seed (so that news reaches every seed before any decides). It joins when it knows of a
 * lower seed. It inits when every seed it heard (in the last patience ms) said it knows of this node as the
 * lowest: the other one joins. A seed that keeps speaking without saying so is waited for until limit_ms,
 * then this node joins rather than risk a second init. dry_run (plan): decide at once, without waiting on
 * anyone. *ret_other: the seed the verdict is about (the lowest known, the one not heard from, or one
 * beaten).
 */
static enum verdict contest_verdict(struct contest *k, unsigned long long t0, unsigned long long grace,
                                    bool dry_run, struct fb_seed_id *ret_other, size_t *ret_n) {
        unsigned long long now = clock_now_ms(), patience = grace > SEED_SETTLE_MS ? grace : SEED_SETTLE_MS;
        unsigned long long limit_ms = grace + 2 * patience;
        enum verdict v = VERDICT_WAIT;

        (void) pthread_mutex_lock(&k->lock);
        *ret_n = k->n_seeds;
        if (!dry_run && (now - t0 < grace || (k->news_ms && now - k->news_ms < SEED_SETTLE_MS)))
                goto out;
        if (k->have_lowest && (!k->ranked || fb_seed_id_cmp(&k->lowest, &k->self) < 0)) {
                *ret_other = k->lowest;
                v = VERDICT_JOIN_LOWER;
                goto out;
        }
        v = VERDICT_INIT;
        for (size_t i = 0; i < k->n_seeds; i++) {
                const struct contender *c = &k->seeds[i];
                if (dry_run || fb_seed_id_cmp(&c->lowest, &k->self) == 0 || now - c->said_ms >= patience)
                        continue;
                *ret_other = c->id;
                v = now - t0 >= limit_ms ? VERDICT_JOIN_UNHEARD : VERDICT_WAIT;
                goto out;
        }
        if (k->n_seeds > 0)
                *ret_other = k->seeds[0].id;
out:
        (void) pthread_mutex_unlock(&k->lock);
        return v;
}

/* This node's address for the contest (the one the seed rule compares), and every address it answers on. */
static int seed_addresses(const struct fb_config *c, const struct md_instance *inst, char ***ret) {
        const char *candidates[] = {inst->local_ipv4, inst->local_ipv6, fb_config_advertise_address(c)};
        _cleanup_strv_free_ char **l = NULL;
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                char canonical[IP_STRING_MAX];
                if (ip_canonical(candidates[i], canonical) < 0 || strv_contains(l, canonical))
                        continue;
                if (strv_extend(&l, canonical) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int seed_decide(const struct fb_config *c, const struct md_instance *inst, bool dry_run, bool host,
                       struct fb_role_decision *ret) {
        _cleanup_(contest_done) struct contest k = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                                    .stop = {-EBADF, -EBADF}};
        _cleanup_strv_free_ char **addresses = NULL;
        struct fb_role_decision d = {.role = FB_ROLE_CONTROL_PLANE};
        unsigned long long grace = dry_run ? 0 : fb_config_settings(c)->firstboot.timeouts.seed_grace;
        unsigned long long t0 = clock_now_ms();
        unsigned port = fb_config_bind_port(c) ?: 6443;
        struct fb_seed_id other = {};
        size_t n_seeds;
        enum verdict v;
        char what[200];

        if (seed_addresses(c, inst, &addresses) < 0)
                return -ENOMEM;
        if (addresses && fb_seed_id_make(addresses[0], inst->instance_id, &k.self) >= 0) {
                k.ranked = k.have_lowest = true;
                k.lowest = k.self;
        }
        /* Audible while it listens (not for plan, nor on a machine that is not the node: --root). */
        if (k.ranked && !dry_run && host && contest_listen(&k, addresses, port) >= 0)
                log_debug("Role auto: this seed answers other seeds on port %u of %s for at least %llus",
                          port, addresses[0], grace / 1000);

        for (;;) {
                if (cluster_answers(&k, c, inst, !dry_run, what, sizeof(what))) {
                        snprintf(d.reason, sizeof(d.reason),
                                 "role auto: this node is the seed, but %s: it joins", what);
                        *ret = d;
                        return 0;
                }
                v = contest_verdict(&k, t0, grace, dry_run, &other, &n_seeds);
                if (v != VERDICT_WAIT)
                        break;
                clock_sleep_ms(SEED_ROUND_MS);
        }
        switch (v) {
        case VERDICT_JOIN_LOWER:
                snprintf(
                        d.reason, sizeof(d.reason),
                        "role auto: this node is the seed, but so is %s (%s), which wins the tie-break (the lower address, then instance id): it joins",
                        other.address, other.instance_id);
                break;
        case VERDICT_JOIN_UNHEARD:
                snprintf(
                        d.reason, sizeof(d.reason),
                        "role auto: this node is the seed, but so is %s (%s), which never said it heard this one: it joins rather than init twice",
                        other.address, other.instance_id);
                break;
        default:
                d.role = FB_ROLE_INIT;
                if (n_seeds == 0)
                        snprintf(
                                d.reason, sizeof(d.reason),
                                "role auto: this node is the seed and the control-plane endpoint and peers stayed silent for %llus",
                                grace / 1000);
                else
                        snprintf(
                                d.reason, sizeof(d.reason),
                                "role auto: this node is the seed, and so is %s (%s)%s, but this one wins the tie-break (the lower address, then instance id) and no cluster answered for %llus",
                                other.address, other.instance_id, n_seeds > 1 ? " among others" : "",
                                grace / 1000);
                break;
        }
        *ret = d;
        return 0;
}

int fb_role_resume(enum fb_role configured, const char *journaled, struct fb_role_decision *ret,
                   struct error *why) {
        struct fb_role_decision d = {.role = fb_role_from_string(journaled)};
        if (d.role < 0 || d.role == FB_ROLE_AUTO) {
                return error_set(why, -EBADMSG,
                                 "the journal " FB_JOURNAL_PATH " records an unknown role '%s'",
                                 strempty(journaled));
        }
        /* The one change tolerated: control-plane configured over an init journal (init makes a control
         * plane). */
        if (configured != FB_ROLE_AUTO && configured != d.role &&
            !(configured == FB_ROLE_CONTROL_PLANE && d.role == FB_ROLE_INIT)) {
                return error_set(why, -ESTALE,
                                 "this machine already started as %s (journal " FB_JOURNAL_PATH
                                 "); the configuration now says %s",
                                 journaled, fb_role_to_string(configured));
        }
        snprintf(d.reason, sizeof(d.reason), "resuming as %s, as the journal records", journaled);
        *ret = d;
        return 0;
}

int fb_role_decide(const char *root, const struct fb_config *c, const struct md_instance *inst, bool dry_run,
                   bool host, struct fb_role_decision *ret, struct error *why) {
        struct fb_role_decision d = {.role = fb_config_role(c)};
        _cleanup_free_ char *journaled = NULL;
        int r;

        /* A machine that started keeps its role: a resumed auto node must not change its mind. */
        r = fb_journal_role(root, &journaled);
        if (r >= 0)
                return fb_role_resume(d.role, journaled, ret, why);
        if (r != -ENOENT) {
                return error_set(why, r, "cannot read the journal " FB_JOURNAL_PATH ": %s", strerror(-r));
        }

        if (d.role != FB_ROLE_AUTO) {
                snprintf(d.reason, sizeof(d.reason), "FirstbootConfiguration.role is %s",
                         fb_role_to_string(d.role));
                *ret = d;
                return 0;
        }

        r = inst ? fb_config_is_seed(c, inst) : -EINVAL;
        if (r < 0) {
                return error_set(
                        why, -EINVAL,
                        "role auto: the seed rule cannot be decided on this instance (it lacks the instance id, hostname or address the rule compares)");
        }
        if (!r) {
                d.role = FB_ROLE_CONTROL_PLANE;
                snprintf(d.reason, sizeof(d.reason), "role auto: this node is not the seed; it joins");
                *ret = d;
                return 0;
        }
        /* The seed inits only into silence: the endpoint and every peer quiet for the whole grace period.
         * A seed replaced after the cluster exists (an autoscaling group) finds it answering and joins.
         * Another seed is no cluster: the two agree on one (the contest above). */
        r = seed_decide(c, inst, dry_run, host, ret);
        if (r < 0)
                return error_set(why, r, "role auto: cannot listen for other seeds: %s", strerror(-r));
        return 0;
}
