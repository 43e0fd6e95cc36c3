/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The role decision (firstboot/flows/role.c): the configured role, the journal's role on a resume and what
 * contradicts it, and auto's seed rule with what the network says, over loopback addresses only.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/role.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

/* Addresses of the loopback net (all of 127/8 answers on Linux) that nothing else listens on: the peers
 * listen on the fixed ports 6443 and 2379, so each run picks its own 127.x.y (from its pid) in main(), and
 * two runs at once (two worktrees) do not hear each other. */
static char PEER_A[32], PEER_B[32], SELF[32];

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

int main(void) {
        unsigned x = (unsigned) getpid();
        (void) snprintf(PEER_A, sizeof(PEER_A), "127.%u.%u.2", 100 + x % 150, (x / 150) % 250);
        (void) snprintf(PEER_B, sizeof(PEER_B), "127.%u.%u.3", 100 + x % 150, (x / 150) % 250);
        (void) snprintf(SELF, sizeof(SELF), "127.%u.%u.4", 100 + x % 150, (x / 150) % 250);
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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
