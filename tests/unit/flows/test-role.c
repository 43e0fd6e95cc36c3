/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The role decision (firstboot/flows/role.c): the configured role, the journal's role on a resume and what
 * contradicts it, and auto's seed rule with what the network says, over loopback addresses only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/role.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

/* Addresses of the loopback net (all of 127/8 answers on Linux) that nothing else listens on: the peers
 * listen on the fixed ports 6443 and 2379, so each run picks its own 127.x.y (from its pid) in main(), and
 * two runs at once (two worktrees) do not hear each other. PEER_A < PEER_B < SELF < PEER_C. */
static char PEER_A[32], PEER_B[32], SELF[32], PEER_C[32];

static int setup(void **state) {
        return unit_node_env_setup(state, "i-0002", "cp-2", SELF);
}

static int teardown(void **state) {
        return unit_node_env_teardown(state);
}

/* Loads a FirstbootConfiguration whose body (after kind) is fb_body, and a ClusterConfiguration with
 * controlPlaneEndpoint cpe unless NULL; the instance is e->inst. */
static const struct fb_config *configure_with(struct unit_node_env *e, const char *fb_body,
                                              const char *cpe) {
        _cleanup_free_ char *cluster =
                cpe ? strdupf("---\napiVersion: kubeadm.k8s.io/v1beta4\n"
                              "kind: ClusterConfiguration\ncontrolPlaneEndpoint: '%s'\n",
                              cpe)
                    : strdup("");
        _cleanup_free_ char *text = strdupf("apiVersion: kube-firstboot.io/v1alpha1\n"
                                            "kind: FirstbootConfiguration\n%s%s",
                                            fb_body, cluster);
        return unit_node_env_configure(e, text);
}

static const struct fb_config *configure(struct unit_node_env *e, const char *fb_body) {
        return configure_with(e, fb_body, NULL);
}

static void journal(struct unit_node_env *e, const char *text) {
        unit_write(e->root, FB_JOURNAL_PATH, text);
}

static unsigned long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000ull + (unsigned long long) ts.tv_nsec / 1000000ull;
}

/* ---- the journal's part, without I/O ---- */

static void test_resume_keeps_the_journaled_role(void **state) {
        static const struct {
                enum fb_role configured;
                const char *journaled;
                int expect; /* 0, or the error */
        } cases[] = {
                {FB_ROLE_AUTO, "init", 0},
                {FB_ROLE_AUTO, "control-plane", 0},
                {FB_ROLE_AUTO, "worker", 0},
                {FB_ROLE_INIT, "init", 0},
                {FB_ROLE_CONTROL_PLANE, "control-plane", 0},
                {FB_ROLE_WORKER, "worker", 0},
                /* The one change tolerated: a control plane configured over an init journal. */
                {FB_ROLE_CONTROL_PLANE, "init", 0},
                {FB_ROLE_INIT, "control-plane", -ESTALE},
                {FB_ROLE_INIT, "worker", -ESTALE},
                {FB_ROLE_CONTROL_PLANE, "worker", -ESTALE},
                {FB_ROLE_WORKER, "init", -ESTALE},
                {FB_ROLE_WORKER, "control-plane", -ESTALE},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fb_role_decision d = {.role = 99};
                struct error why = {};
                int r = fb_role_resume(cases[i].configured, cases[i].journaled, &d, &why);
                assert_int_equal(r, cases[i].expect);
                if (r == 0) {
                        assert_int_equal(d.role, fb_role_from_string(cases[i].journaled));
                        _cleanup_free_ char *want =
                                strdupf("resuming as %s, as the journal records", cases[i].journaled);
                        assert_string_equal(d.reason, want);
                        continue;
                }
                assert_int_equal(d.role, 99); /* untouched on failure */
                _cleanup_free_ char *want =
                        strdupf("this machine already started as %s (journal " FB_JOURNAL_PATH
                                "); the configuration now says %s",
                                cases[i].journaled, fb_role_to_string(cases[i].configured));
                assert_string_equal(why.message, want);
        }
}

static void test_resume_refuses_an_unknown_journaled_role(void **state) {
        static const char *const bad[] = {"auto", "Init", "", "master", NULL};
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct fb_role_decision d = {.role = 99};
                struct error why = {};
                assert_int_equal(fb_role_resume(FB_ROLE_AUTO, bad[i], &d, &why), -EBADMSG);
                assert_int_equal(d.role, 99);
                _cleanup_free_ char *want = strdupf(
                        "the journal " FB_JOURNAL_PATH " records an unknown role '%s'", strempty(bad[i]));
                assert_string_equal(why.message, want);
        }
}

/* ---- fb_role_decide ---- */

static void test_explicit_roles(void **state) {
        struct unit_node_env *e = *state;
        static const char *const roles[] = {"init", "control-plane", "worker"};
        for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
                _cleanup_free_ char *body = strdupf("role: %s\n", roles[i]);
                const struct fb_config *c = configure(e, body);
                struct fb_role_decision d = {};
                struct error why = {};
                /* No instance: an explicit role needs none. */
                assert_int_equal(fb_role_decide(e->root, c, NULL, false, false, &d, &why), 0);
                assert_int_equal(d.role, fb_role_from_string(roles[i]));
                _cleanup_free_ char *want = strdupf("FirstbootConfiguration.role is %s", roles[i]);
                assert_string_equal(d.reason, want);
        }
}

static void test_journal_comes_first(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};

        /* auto with no instance cannot be decided, unless the journal already says. */
        const struct fb_config *c =
                configure(e, "role: auto\nseed: {rule: instanceId, instanceId: i-0002}\n");
        assert_int_equal(fb_role_decide(e->root, c, NULL, true, false, &d, &why), -EINVAL);
        journal(e, "{\"version\": 1, \"role\": \"worker\", \"done\": {}}");
        assert_int_equal(fb_role_decide(e->root, c, NULL, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_WORKER);
        assert_string_equal(d.reason, "resuming as worker, as the journal records");

        /* An explicit role that contradicts it. */
        c = configure(e, "role: init\n");
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), -ESTALE);
        assert_non_null(strstr(why.message, "already started as worker"));
        assert_non_null(strstr(why.message, "now says init"));
}

static void test_unreadable_journal(void **state) {
        struct unit_node_env *e = *state;
        const struct fb_config *c = configure(e, "role: init\n");
        struct fb_role_decision d = {.role = 99};
        struct error why = {};

        journal(e, "{\"version\": 1, \"role\": \"auto\", \"done\": {}}");
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), -EBADMSG);
        assert_string_equal(why.message, "the journal " FB_JOURNAL_PATH " records an unknown role 'auto'");

        journal(e, "{\"version\": 1, \"done\": {}}");
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), -EBADMSG);
        assert_non_null(startswith(why.message, "cannot read the journal " FB_JOURNAL_PATH ": "));

        journal(e, "{not json");
        assert_true(fb_role_decide(e->root, c, e->inst, false, false, &d, &why) < 0);
        assert_non_null(startswith(why.message, "cannot read the journal " FB_JOURNAL_PATH ": "));
        assert_int_equal(d.role, 99);
}

static void test_auto_not_the_seed_joins(void **state) {
        struct unit_node_env *e = *state;
        const struct fb_config *c =
                configure(e, "role: auto\nseed: {rule: instanceId, instanceId: i-0001}\n");
        struct fb_role_decision d = {};
        struct error why = {};
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        assert_string_equal(d.reason, "role auto: this node is not the seed; it joins");
}

static void test_auto_undecidable_seed(void **state) {
        struct unit_node_env *e = *state;
        const struct fb_config *c =
                configure(e, "role: auto\nseed: {rule: instanceId, instanceId: i-0002}\n");
        struct fb_role_decision d = {.role = 99};
        struct error why = {};

        assert_int_equal(fb_role_decide(e->root, c, NULL, true, false, &d, &why), -EINVAL);
        assert_non_null(strstr(why.message, "the seed rule cannot be decided on this instance"));
        /* An instance without the value the rule compares. */
        free(e->inst->instance_id);
        e->inst->instance_id = NULL;
        error_clear(&why);
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), -EINVAL);
        assert_non_null(strstr(why.message, "the seed rule cannot be decided on this instance"));
        assert_int_equal(d.role, 99);
}

/* The seed with peers and a control-plane endpoint; grace NULL: the default (dry runs wait none). */
static const struct fb_config *configure_seed(struct unit_node_env *e, const char *cpe, const char *grace) {
        _cleanup_free_ char *body =
                strdupf("role: auto\n"
                        "seed: {rule: instanceId, instanceId: i-0002, peers: [%s, %s, %s]}\n%s%s%s",
                        PEER_A, PEER_B, SELF, grace ? "timeouts: {seedGrace: " : "", strempty(grace),
                        grace ? "}\n" : "");
        return configure_with(e, body, cpe);
}

/* host:port of a port just released on 127.0.0.1: a control-plane endpoint that refuses. */
static char *refusing_endpoint(void) {
        _cleanup_(unit_server_stopp) struct unit_server *s =
                unit_server_start("127.0.0.1", NULL, NULL, NULL, NULL);
        return strdupf("127.0.0.1:%u", unit_server_port(s));
}

static void test_auto_seed_inits_into_silence(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_free_ char *cpe = refusing_endpoint();
        struct fb_role_decision d = {};
        struct error why = {};

        /* Its own address answering does not count: that is this node. */
        _cleanup_close_ int self = unit_listen(SELF, 6443);
        if (self < 0)
                skip();
        const struct fb_config *c = configure_seed(e, cpe, NULL);
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_INIT);
        assert_string_equal(
                d.reason,
                "role auto: this node is the seed and the control-plane endpoint and peers stayed silent for 0s");
}

static void test_auto_seed_joins_when_a_peer_answers(void **state) {
        struct unit_node_env *e = *state;
        static const struct {
                const char *ip;
                unsigned port;
        } answering[] = {{PEER_A, 6443}, {PEER_B, 2379}};
        for (size_t i = 0; i < ELEMENTSOF(answering); i++) {
                _cleanup_close_ int fd = unit_listen(answering[i].ip, answering[i].port);
                struct fb_role_decision d = {};
                struct error why = {};
                if (fd < 0)
                        skip();
                const struct fb_config *c = configure_seed(e, NULL, NULL);
                assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
                assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
                _cleanup_free_ char *want =
                        strdupf("role auto: this node is the seed, but peer %s answers on port %u: it joins",
                                answering[i].ip, answering[i].port);
                assert_string_equal(d.reason, want);
        }
}

static void respond_unauthorized(void *userdata, unsigned no, const char *method, const char *path,
                                 int *ret_status, char **ret_body) {
        (void) userdata, (void) no, (void) method, (void) path;
        *ret_status = 401;
        *ret_body = strdup("{\"kind\": \"Status\", \"code\": 401}");
}

static void test_auto_seed_joins_when_an_apiserver_answers(void **state) {
        struct unit_node_env *e = *state;
        struct unit_pki pki;
        struct fb_role_decision d = {};
        struct error why = {};

        unit_pki_make(&pki);
        _cleanup_(unit_server_stopp) struct unit_server *api =
                unit_server_start("127.0.0.1", pki.cert_pem, pki.key_pem, respond_unauthorized, NULL);
        _cleanup_free_ char *cpe = strdupf("127.0.0.1:%u", unit_server_port(api));
        const struct fb_config *c = configure_seed(e, cpe, NULL);
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        _cleanup_free_ char *want =
                strdupf("role auto: this node is the seed, but an apiserver answers at the "
                        "control-plane endpoint %s (HTTP 401): it joins",
                        cpe);
        assert_string_equal(d.reason, want);
        assert_int_equal(unit_server_count(api), 1);
        unit_pki_done(&pki);
}

static void test_auto_seed_ignores_a_load_balancer_without_backends(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};

        /* It accepts the connection and drops it: no HTTP answer, so no cluster yet. */
        _cleanup_(unit_server_stopp) struct unit_server *lb =
                unit_server_start("127.0.0.1", NULL, NULL, NULL, NULL);
        _cleanup_free_ char *cpe = strdupf("127.0.0.1:%u", unit_server_port(lb));
        const struct fb_config *c = configure_seed(e, cpe, NULL);
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_INIT);
        assert_true(unit_server_count(lb) >= 1);
}

/* Starts listening on PEER_A:2379 after a delay, as a peer that boots a moment later. */
static void *late_peer(void *p) {
        int *fd = p;
        usleep(1200 * 1000);
        *fd = unit_listen(PEER_A, 2379);
        return NULL;
}

static void test_auto_seed_waits_the_whole_grace(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};
        unsigned long long t0;

        /* Silence for the whole grace period: init, after it. */
        const struct fb_config *c = configure_seed(e, NULL, "1s");
        t0 = now_ms();
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        assert_true(now_ms() - t0 >= 1000);
        assert_int_equal(d.role, FB_ROLE_INIT);
        assert_non_null(strstr(d.reason, "stayed silent for 1s"));

        /* A peer that answers during the grace period: join. */
        int fd = -1;
        pthread_t t;
        c = configure_seed(e, NULL, "4s");
        assert_int_equal(pthread_create(&t, NULL, late_peer, &fd), 0);
        t0 = now_ms();
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        if (fd < 0)
                skip();
        close(fd);
        assert_true(now_ms() - t0 < 4000);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        _cleanup_free_ char *want = strdupf("peer %s answers on port 2379", PEER_A);
        assert_non_null(strstr(d.reason, want));
}

/* ---- the contest between seeds: lines and tie-break, without I/O ---- */

static void test_seed_line_parse(void **state) {
        static const struct {
                const char *line;
                const char *from, *from_id, *lowest, *lowest_id; /* NULL: -EBADMSG */
        } cases[] = {
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1 i-0001\n", "10.0.0.2", "i-0002", "10.0.0.1",
                 "i-0001"},
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.2 i-0002\n", "10.0.0.2", "i-0002", "10.0.0.2",
                 "i-0002"},
                /* Addresses kept canonical; an instance without an id. */
                {"kube-firstboot-seed 2001:0DB8:0::2 - 2001:db8:0:0::1 iid-cp-1\n", "2001:db8::2", "-",
                 "2001:db8::1", "iid-cp-1"},
                {"kube-firstboot-seed 2001:db8::2 i-2 10.0.0.9 i-9\n", "2001:db8::2", "i-2", "10.0.0.9",
                 "i-9"},
                /* What else answers at the apiserver's port, or a broken line. */
                {"", NULL},
                {"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n", NULL},
                {"HTTP/1.1 400 Bad Request\r\n", NULL},
                {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", NULL},
                {"kube-firstboot-seed\n", NULL},
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1 i-0001", NULL},     /* no newline */
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1 i-0001\r\n", NULL}, /* CR in the id */
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1\n", NULL},          /* three fields */
                {"kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1 i-0001 x\n", NULL}, /* five */
                {"kube-firstboot-seed 10.0.0.2  i-0002 10.0.0.1 i-0001\n", NULL},  /* two spaces */
                {" kube-firstboot-seed 10.0.0.2 i-0002 10.0.0.1 i-0001\n", NULL},  /* a leading space */
                {"kube-firstboot-seeds 10.0.0.2 i-0002 10.0.0.1 i-0001\n", NULL},  /* another word */
                {"KUBE-FIRSTBOOT-SEED 10.0.0.2 i-0002 10.0.0.1 i-0001\n", NULL},
                {"kube-firstboot-seed 10.0.0.256 i-0002 10.0.0.1 i-0001\n", NULL}, /* not an address */
                {"kube-firstboot-seed cp-2 i-0002 10.0.0.1 i-0001\n", NULL},       /* a name */
                {"kube-firstboot-seed 10.0.0.2:6443 i-0002 10.0.0.1 i-0001\n", NULL},
                {"kube-firstboot-seed [::1] i-0002 10.0.0.1 i-0001\n", NULL},
                {"kube-firstboot-seed 10.0.0.2 i-\x01 10.0.0.1 i-0001\n", NULL},     /* a control byte */
                {"kube-firstboot-seed 10.0.0.2 i-\xc3\xa9 10.0.0.1 i-0001\n", NULL}, /* not ASCII */
                /* The lowest a seed knows of is never above itself. */
                {"kube-firstboot-seed 10.0.0.1 i-0001 10.0.0.2 i-0002\n", NULL},
                {"kube-firstboot-seed 10.0.0.1 i-0001 10.0.0.1 i-0002\n", NULL},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fb_seed_line l = {.from.address = "x"};
                int r = fb_seed_line_parse(cases[i].line, strlen(cases[i].line), &l);
                if (!cases[i].from) {
                        if (r != -EBADMSG)
                                fail_msg("case %zu parsed: %s", i, cases[i].line);
                        assert_string_equal(l.from.address, "x"); /* untouched */
                        continue;
                }
                if (r != 0)
                        fail_msg("case %zu refused: %s", i, cases[i].line);
                assert_string_equal(l.from.address, cases[i].from);
                assert_string_equal(l.from.instance_id, cases[i].from_id);
                assert_string_equal(l.lowest.address, cases[i].lowest);
                assert_string_equal(l.lowest.instance_id, cases[i].lowest_id);
        }

        /* Instance ids of 128 bytes at most; the length given, not the NUL, ends the line. */
        char long_id[FB_SEED_ID_MAX + 1];
        struct fb_seed_line l;
        memset(long_id, 'i', FB_SEED_ID_MAX);
        long_id[FB_SEED_ID_MAX] = 0;
        _cleanup_free_ char *ok = strdupf("kube-firstboot-seed 10.0.0.2 %s 10.0.0.1 i-1\n", long_id);
        _cleanup_free_ char *too_long = strdupf("kube-firstboot-seed 10.0.0.2 %sc 10.0.0.1 i-1\n", long_id);
        assert_int_equal(fb_seed_line_parse(ok, strlen(ok), &l), 0);
        assert_string_equal(l.from.instance_id, long_id);
        assert_int_equal(fb_seed_line_parse(too_long, strlen(too_long), &l), -EBADMSG);
        static const char with_nul[] = "kube-firstboot-seed 10.0.0.2\0 i-2 10.0.0.1 i-1\n";
        assert_int_equal(fb_seed_line_parse(with_nul, sizeof(with_nul) - 1, &l), -EBADMSG);
        static const char two[] =
                "kube-firstboot-seed 10.0.0.2 i-2 10.0.0.1 i-1\nkube-firstboot-seed 10.0.0.2 i-2 "
                "10.0.0.1 i-1\n";
        assert_int_equal(fb_seed_line_parse(two, sizeof(two) - 1, &l), -EBADMSG);
        assert_int_equal(fb_seed_line_parse(two, sizeof(two) / 2, &l), 0);
}

static void test_seed_line_format(void **state) {
        struct fb_seed_line l, back;
        char buf[FB_SEED_LINE_MAX];
        (void) state;

        assert_int_equal(fb_seed_id_make("2001:0db8::0002", "i-0002", &l.from), 0);
        assert_int_equal(fb_seed_id_make("10.0.0.1", NULL, &l.lowest), 0);
        fb_seed_line_format(&l, buf);
        assert_string_equal(buf, "kube-firstboot-seed 2001:db8::2 i-0002 10.0.0.1 -\n");
        assert_int_equal(fb_seed_line_parse(buf, strlen(buf), &back), 0);
        assert_memory_equal(&back, &l, sizeof(l));

        /* The longest line fits. */
        char id[FB_SEED_ID_MAX + 1];
        memset(id, 'i', FB_SEED_ID_MAX);
        id[FB_SEED_ID_MAX] = 0;
        assert_int_equal(fb_seed_id_make("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", id, &l.from), 0);
        l.lowest = l.from;
        fb_seed_line_format(&l, buf);
        assert_int_equal(buf[strlen(buf) - 1], '\n');
        assert_int_equal(fb_seed_line_parse(buf, strlen(buf), &back), 0);
        assert_string_equal(back.from.instance_id, id);

        /* An id that cannot go in a line is none; an address must be one. */
        static const char *const no_id[] = {NULL, "", "i 2", "i-\n", "i-\x7f", "\xc3\xa9"};
        for (size_t i = 0; i < ELEMENTSOF(no_id); i++) {
                assert_int_equal(fb_seed_id_make("10.0.0.1", no_id[i], &l.from), 0);
                assert_string_equal(l.from.instance_id, FB_SEED_NO_INSTANCE);
        }
        char longer[FB_SEED_ID_MAX + 2];
        memset(longer, 'i', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = 0;
        assert_int_equal(fb_seed_id_make("10.0.0.1", longer, &l.from), 0);
        assert_string_equal(l.from.instance_id, FB_SEED_NO_INSTANCE);
        struct fb_seed_id untouched = {.address = "x"};
        assert_int_equal(fb_seed_id_make("cp-1", "i-1", &untouched), -EINVAL);
        assert_int_equal(fb_seed_id_make(NULL, "i-1", &untouched), -EINVAL);
        assert_string_equal(untouched.address, "x");
}

static void test_seed_tie_break(void **state) {
        static const struct {
                const char *a, *a_id, *b, *b_id;
                int expect; /* <0: a wins */
        } cases[] = {
                {"10.0.0.9", "i-1", "10.0.0.10", "i-0", -1}, /* numerically, not as text */
                {"10.0.0.2", "i-9", "10.0.0.10", "i-0", -1}, /* the address before the instance id */
                {"10.0.1.1", "i-1", "10.0.0.255", "i-1", 1},
                {"10.0.0.1", "i-9", "10.0.0.1", "i-1", 1}, /* the same address: the instance id */
                {"10.0.0.1", "-", "10.0.0.1", "i-1", -1},
                {"10.0.0.1", "i-10", "10.0.0.1", "i-9", -1},      /* bytewise */
                {"192.168.0.1", "i-1", "2001:db8::1", "i-0", -1}, /* IPv4 before IPv6 */
                {"::ffff:10.0.0.1", "i-1", "10.0.0.2", "i-1", 1}, /* a mapped address is IPv6 */
                {"2001:db8::9", "i-1", "2001:db8::10", "i-1", -1},
                {"2001:db8::a", "i-1", "2001:db8::9", "i-1", 1},
                {"fe80::1", "i-1", "2001:db8::1", "i-1", 1},
                {"2001:db8::1", "i-1", "2001:DB8:0::1", "i-1", 0}, /* one seed, however written */
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fb_seed_id a, b;
                assert_int_equal(fb_seed_id_make(cases[i].a, cases[i].a_id, &a), 0);
                assert_int_equal(fb_seed_id_make(cases[i].b, cases[i].b_id, &b), 0);
                if (fb_seed_id_cmp(&a, &b) != cases[i].expect || fb_seed_id_cmp(&b, &a) != -cases[i].expect)
                        fail_msg("case %zu: %s %s against %s %s", i, cases[i].a, cases[i].a_id, cases[i].b,
                                 cases[i].b_id);
        }
}

/* ---- the contest on loopback ---- */

enum fake_mode {
        FAKE_SEED,    /* a seed: its line, then reads one */
        FAKE_GARBAGE, /* another server that speaks first */
        FAKE_CLOSE,   /* accepts and closes at once */
};

/* A peer on a thread: a contending seed (that learns of lower seeds from the lines it reads, unless deaf),
 * or another server. */
struct fake {
        int fd;
        unsigned port;
        enum fake_mode mode;
        bool deaf;
        struct fb_seed_id id, lowest;
        pthread_t thread;
        pthread_mutex_t lock;
        atomic_bool stop;
        atomic_uint conns;
        char last[FB_SEED_LINE_MAX]; /* the last line it read */
};

static void *fake_serve(void *p) {
        struct fake *f = p;
        while (!atomic_load(&f->stop)) {
                struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
                if (poll(&pfd, 1, 50) != 1)
                        continue;
                _cleanup_close_ int fd = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                atomic_fetch_add(&f->conns, 1);
                if (f->mode == FAKE_GARBAGE)
                        (void) !write(fd, "SSH-2.0-OpenSSH_9.2p1\r\n", 23);
                if (f->mode != FAKE_SEED)
                        continue;
                char buf[FB_SEED_LINE_MAX];
                struct fb_seed_line l;
                pthread_mutex_lock(&f->lock);
                l = (struct fb_seed_line){f->id, f->lowest};
                pthread_mutex_unlock(&f->lock);
                fb_seed_line_format(&l, buf);
                (void) !write(fd, buf, strlen(buf));
                ssize_t n = tcp_read_line(fd, buf, sizeof(buf), 2000);
                pthread_mutex_lock(&f->lock);
                if (n > 0) {
                        memcpy(f->last, buf, sizeof(buf));
                        if (!f->deaf && fb_seed_line_parse(buf, (size_t) n, &l) >= 0 &&
                            fb_seed_id_cmp(&l.lowest, &f->lowest) < 0)
                                f->lowest = l.lowest;
                }
                pthread_mutex_unlock(&f->lock);
        }
        return NULL;
}

/* NULL when ip:port cannot be listened on (the test skips). port 0: a free one. */
static struct fake *fake_start(const char *ip, unsigned port, enum fake_mode mode, const char *address,
                               const char *instance_id) {
        struct fake *f = calloc(1, sizeof(*f));
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        assert_non_null(f);
        f->fd = unit_listen(ip, port);
        if (f->fd < 0) {
                free(f);
                return NULL;
        }
        assert_int_equal(getsockname(f->fd, (struct sockaddr *) &ss, &len), 0);
        f->port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        f->mode = mode;
        if (address)
                assert_int_equal(fb_seed_id_make(address, instance_id, &f->id), 0);
        f->lowest = f->id;
        pthread_mutex_init(&f->lock, NULL);
        assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
        return f;
}

static void fake_stop(struct fake **p) {
        struct fake *f = *p;
        if (!f)
                return;
        atomic_store(&f->stop, true);
        pthread_join(f->thread, NULL);
        close(f->fd);
        pthread_mutex_destroy(&f->lock);
        free(f);
}

static char *fake_last(struct fake *f) {
        pthread_mutex_lock(&f->lock);
        char *s = strdup(f->last);
        pthread_mutex_unlock(&f->lock);
        return s;
}

/* The seed (i-0002 at SELF) with PEER_A, PEER_B and PEER_C as peers. */
static const struct fb_config *configure_contest(struct unit_node_env *e, const char *cpe,
                                                 const char *grace) {
        _cleanup_free_ char *body =
                strdupf("role: auto\n"
                        "seed: {rule: instanceId, instanceId: i-0002, peers: [%s, %s, %s, %s]}\n"
                        "timeouts: {seedGrace: %s}\n",
                        PEER_A, PEER_B, SELF, PEER_C, grace);
        return configure_with(e, body, cpe);
}

static void test_auto_seed_yields_to_a_lower_seed(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};
        _cleanup_(fake_stop) struct fake *lower = fake_start(PEER_A, 6443, FAKE_SEED, PEER_A, "i-0001");
        if (!lower)
                skip();
        _cleanup_free_ char *want =
                strdupf("role auto: this node is the seed, but so is %s (i-0001), which wins the "
                        "tie-break (the lower address, then instance id): it joins",
                        PEER_A);

        /* plan: the same verdict, and it says nothing to the other seed. */
        const struct fb_config *c = configure_contest(e, NULL, "1s");
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        assert_string_equal(d.reason, want);
        _cleanup_free_ char *heard = fake_last(lower);
        assert_string_equal(heard, "");

        /* run: it answers with its own line, which names the lower seed; it still waits its grace period. */
        unsigned long long t0 = now_ms();
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        assert_true(now_ms() - t0 >= 1000);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        assert_string_equal(d.reason, want);
        free(heard);
        heard = fake_last(lower);
        _cleanup_free_ char *line = strdupf("kube-firstboot-seed %s i-0002 %s i-0001\n", SELF, PEER_A);
        assert_string_equal(heard, line);
}

static void test_auto_seed_beats_a_higher_seed_that_heard_it(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};
        _cleanup_(fake_stop) struct fake *higher = fake_start(PEER_C, 6443, FAKE_SEED, PEER_C, "i-0009");
        if (!higher)
                skip();

        const struct fb_config *c = configure_contest(e, NULL, "1s");
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_INIT);
        _cleanup_free_ char *want = strdupf(
                "role auto: this node is the seed, and so is %s (i-0009), but this one wins the tie-break (the "
                "lower address, then instance id) and no cluster answered for 1s",
                PEER_C);
        assert_string_equal(d.reason, want);
        /* The other seed heard this one, and said so on a later connection. */
        _cleanup_free_ char *heard = fake_last(higher);
        _cleanup_free_ char *line = strdupf("kube-firstboot-seed %s i-0002 %s i-0002\n", SELF, SELF);
        assert_string_equal(heard, line);
        assert_true(atomic_load(&higher->conns) >= 2);
}

static void test_auto_seed_joins_when_a_higher_seed_never_hears_it(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};
        _cleanup_(fake_stop) struct fake *higher = fake_start(PEER_C, 6443, FAKE_SEED, PEER_C, "i-0009");
        if (!higher)
                skip();
        higher->deaf = true; /* it keeps saying it knows of no seed lower than itself */

        const struct fb_config *c = configure_contest(e, NULL, "1s");
        unsigned long long t0 = now_ms();
        assert_int_equal(fb_role_decide(e->root, c, e->inst, false, false, &d, &why), 0);
        /* Waited for: the grace period, then twice the patience (3 s at least). */
        assert_true(now_ms() - t0 >= 7000);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        _cleanup_free_ char *want =
                strdupf("role auto: this node is the seed, but so is %s (i-0009), which never said "
                        "it heard this one: it joins rather than init twice",
                        PEER_C);
        assert_string_equal(d.reason, want);
}

struct decide_args {
        struct unit_node_env *e;
        const struct fb_config *c;
        bool host;
        int r;
        struct fb_role_decision d;
};

static void *decide(void *p) {
        struct decide_args *a = p;
        struct error why = {};
        a->r = fb_role_decide(a->e->root, a->c, a->e->inst, false, a->host, &a->d, &why);
        return NULL;
}

/* Connects to SELF's apiserver port, retrying for up to 1.5 s: the fd, or -1. */
static int connect_self(void) {
        for (int i = 0; i < 30; i++) {
                int fd;
                if (tcp_connect(SELF, 6443, 500, &fd) >= 0)
                        return fd;
                usleep(50 * 1000);
        }
        return -1;
}

static void test_auto_seed_answers_other_seeds(void **state) {
        struct unit_node_env *e = *state;
        static const struct {
                const char *from, *from_id, *lowest, *lowest_id;
                enum fb_role expect;
        } cases[] = {
                /* A higher seed that probes this one: its answer names this seed as the lowest. */
                {PEER_C, "i-0009", SELF, "i-0002", FB_ROLE_INIT},
                /* A lower one. */
                {PEER_A, "i-0001", PEER_A, "i-0001", FB_ROLE_CONTROL_PLANE},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct decide_args a = {.e = e, .host = true};
                pthread_t t;
                char buf[FB_SEED_LINE_MAX];
                /* SELF's apiserver port can be listened on (else skip), and nothing listens there yet. */
                int probe = unit_listen(SELF, 6443);
                if (probe < 0)
                        skip();
                close(probe);
                a.c = configure_seed(e, NULL, "2s");
                assert_int_equal(pthread_create(&t, NULL, decide, &a), 0);
                _cleanup_close_ int fd = connect_self();
                if (fd < 0)
                        pthread_join(t, NULL);
                assert_true(fd >= 0);
                /* It speaks first: itself, and itself as the lowest it knows of. */
                assert_true(tcp_read_line(fd, buf, sizeof(buf), 2000) > 0);
                _cleanup_free_ char *own = strdupf("kube-firstboot-seed %s i-0002 %s i-0002\n", SELF, SELF);
                assert_string_equal(buf, own);
                _cleanup_free_ char *answer = strdupf("kube-firstboot-seed %s %s %s %s\n", cases[i].from,
                                                      cases[i].from_id, cases[i].lowest, cases[i].lowest_id);
                assert_int_equal(write(fd, answer, strlen(answer)), (ssize_t) strlen(answer));
                fd = safe_close(fd);
                /* Later connections: the line names the lowest seed it knows of now (one accepted while the
                 * answer was on its way may not yet). */
                _cleanup_free_ char *now = strdupf("kube-firstboot-seed %s i-0002 %s %s\n", SELF,
                                                   cases[i].expect == FB_ROLE_INIT ? SELF : PEER_A,
                                                   cases[i].expect == FB_ROLE_INIT ? "i-0002" : "i-0001");
                for (int k = 0; k < 20; k++) {
                        fd = connect_self();
                        assert_true(fd >= 0);
                        assert_true(tcp_read_line(fd, buf, sizeof(buf), 2000) > 0);
                        fd = safe_close(fd);
                        if (streq(buf, now))
                                break;
                        usleep(50 * 1000);
                }
                assert_string_equal(buf, now);

                assert_int_equal(pthread_join(t, NULL), 0);
                assert_int_equal(a.r, 0);
                assert_int_equal(a.d.role, cases[i].expect);
                _cleanup_free_ char *want =
                        cases[i].expect == FB_ROLE_INIT
                                ? strdupf("role auto: this node is the seed, and so is %s (%s), but this one wins",
                                          cases[i].from, cases[i].from_id)
                                : strdupf("role auto: this node is the seed, but so is %s (%s), which wins",
                                          cases[i].from, cases[i].from_id);
                assert_non_null(startswith(a.d.reason, want));
                /* The apiserver's port is free again once the decision is made. */
                int after;
                assert_int_equal(tcp_connect(SELF, 6443, 500, &after), -ECONNREFUSED);
        }
}

static void test_auto_seed_listens_only_on_the_node(void **state) {
        struct unit_node_env *e = *state;
        struct decide_args a = {.e = e, .host = false};
        pthread_t t;
        int fd;

        /* Under --root without --allow-host, this machine is not the node: nothing listens. */
        a.c = configure_seed(e, NULL, "1s");
        assert_int_equal(pthread_create(&t, NULL, decide, &a), 0);
        usleep(500 * 1000);
        assert_int_equal(tcp_connect(SELF, 6443, 500, &fd), -ECONNREFUSED);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(a.d.role, FB_ROLE_INIT);
}

static void test_auto_seed_tells_a_seed_from_a_cluster(void **state) {
        struct unit_node_env *e = *state;
        static const struct {
                enum fake_mode mode;
                enum fb_role expect;
        } cases[] = {
                {FAKE_GARBAGE,
                 FB_ROLE_CONTROL_PLANE},    /* a server that speaks first, not a seed: a cluster */
                {FAKE_CLOSE, FB_ROLE_INIT}, /* closed without a word: silence */
                {FAKE_SEED, FB_ROLE_INIT},  /* a higher seed (plan waits on no one) */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct fb_role_decision d = {};
                struct error why = {};
                _cleanup_(fake_stop) struct fake *f =
                        fake_start(PEER_C, 6443, cases[i].mode, PEER_C, "i-0009");
                if (!f)
                        skip();
                const struct fb_config *c = configure_contest(e, NULL, "1s");
                assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
                assert_int_equal(d.role, cases[i].expect);
                assert_true(atomic_load(&f->conns) >= 1);
                if (cases[i].mode == FAKE_GARBAGE) {
                        _cleanup_free_ char *want = strdupf(
                                "role auto: this node is the seed, but peer %s answers on port 6443: it joins",
                                PEER_C);
                        assert_string_equal(d.reason, want);
                }
        }
}

static void test_auto_seed_hears_a_seed_behind_the_endpoint(void **state) {
        struct unit_node_env *e = *state;
        struct fb_role_decision d = {};
        struct error why = {};

        /* A load balancer with TCP health checks sends the endpoint's connections to a seed's listener. */
        _cleanup_(fake_stop) struct fake *f = fake_start("127.0.0.1", 0, FAKE_SEED, PEER_A, "i-0001");
        assert_non_null(f);
        _cleanup_free_ char *cpe = strdupf("127.0.0.1:%u", f->port);
        const struct fb_config *c = configure_seed(e, cpe, NULL);
        assert_int_equal(fb_role_decide(e->root, c, e->inst, true, false, &d, &why), 0);
        assert_int_equal(d.role, FB_ROLE_CONTROL_PLANE);
        _cleanup_free_ char *want =
                strdupf("role auto: this node is the seed, but so is %s (i-0001), which wins", PEER_A);
        assert_non_null(startswith(d.reason, want));
}

int main(void) {
        unsigned x = (unsigned) getpid();
        (void) snprintf(PEER_A, sizeof(PEER_A), "127.%u.%u.2", 100 + x % 150, (x / 150) % 250);
        (void) snprintf(PEER_B, sizeof(PEER_B), "127.%u.%u.3", 100 + x % 150, (x / 150) % 250);
        (void) snprintf(SELF, sizeof(SELF), "127.%u.%u.4", 100 + x % 150, (x / 150) % 250);
        (void) snprintf(PEER_C, sizeof(PEER_C), "127.%u.%u.5", 100 + x % 150, (x / 150) % 250);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resume_keeps_the_journaled_role),
                cmocka_unit_test(test_resume_refuses_an_unknown_journaled_role),
                cmocka_unit_test_setup_teardown(test_explicit_roles, setup, teardown),
                cmocka_unit_test_setup_teardown(test_journal_comes_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_not_the_seed_joins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_undecidable_seed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_inits_into_silence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_joins_when_a_peer_answers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_joins_when_an_apiserver_answers, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_ignores_a_load_balancer_without_backends,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_waits_the_whole_grace, setup, teardown),
                cmocka_unit_test(test_seed_line_parse),
                cmocka_unit_test(test_seed_line_format),
                cmocka_unit_test(test_seed_tie_break),
                cmocka_unit_test_setup_teardown(test_auto_seed_yields_to_a_lower_seed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_beats_a_higher_seed_that_heard_it, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_joins_when_a_higher_seed_never_hears_it,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_answers_other_seeds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_listens_only_on_the_node, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_tells_a_seed_from_a_cluster, setup, teardown),
                cmocka_unit_test_setup_teardown(test_auto_seed_hears_a_seed_behind_the_endpoint, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
