/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The join flows' decisions (firstboot/flows/join.c): which phases a control-plane or worker joiner has
 * (fb_join_phases) per configuration and Kubernetes minor, and plan over this machine's journal.
 */
#include <errno.h>
#include <stdio.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/flows.h"
#include "manifests/versions.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

#define CP_PHASES                                                                                           \
        "preflight download-certs certs control-plane kubelet-start etcd-join kubelet-wait-bootstrap "      \
        "mark-control-plane wait-control-plane"
#define WORKER_PHASES "preflight kubelet-start kubelet-wait-bootstrap node-registered"

static int setup(void **state) {
        return unit_node_env_setup(state, "i-0003", "node-3", "127.0.0.1");
}

static int teardown(void **state) {
        return unit_node_env_teardown(state);
}

/* A joiner of role ("control-plane" or "worker") from its own documents: ClusterConfiguration gets
 * cluster_extra. */
static struct fb_node *join_node(struct unit_node_env *e, const char *role, const char *cluster_extra) {
        _cleanup_free_ char *text = strdupf("apiVersion: kube-firstboot.io/v1alpha1\n"
                                            "kind: FirstbootConfiguration\n"
                                            "role: %s\n"
                                            "---\n"
                                            "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                            "kind: ClusterConfiguration\n"
                                            "controlPlaneEndpoint: lb.example.com:6443\n"
                                            "%s",
                                            role, strempty(cluster_extra));
        struct error why = {};
        unit_node_env_configure(e, text);
        assert_int_equal(
                fb_node_new(e->root, e->config, e->inst, fb_role_from_string(role), NULL, &e->node, &why),
                0);
        return e->node;
}

static char *join_phase_names(const struct fb_node *n) {
        _cleanup_free_ struct fb_phase *p = NULL;
        size_t k = 0;
        assert_int_equal(fb_join_phases(n, &p, &k), 0);
        return unit_phase_names(p, k);
}

static void expect_phases(const struct fb_node *n, const char *want) {
        _cleanup_free_ char *got = join_phase_names(n);
        if (!streq(got, want))
                fail_msg("\n got  %s\n want %s", got, want);
}

static void test_join_phases_per_role(void **state) {
        struct unit_node_env *e = *state;
        expect_phases(join_node(e, "control-plane", NULL), CP_PHASES);
        expect_phases(join_node(e, "worker", NULL), WORKER_PHASES);
        /* External etcd: the control plane has no member to add. */
        expect_phases(
                join_node(e, "control-plane", "etcd: {external: {endpoints: [https://10.1.0.1:2379]}}\n"),
                "preflight download-certs certs control-plane kubelet-start kubelet-wait-bootstrap "
                "mark-control-plane wait-control-plane");
        expect_phases(join_node(e, "worker", "etcd: {external: {endpoints: [https://10.1.0.1:2379]}}\n"),
                      WORKER_PHASES);
}

static void test_join_phases_per_minor(void **state) {
        struct unit_node_env *e = *state;
        size_t k;
        const struct mf_versions *all = mf_versions_all(&k);

        /* Every minor this build knows, as its table says. */
        for (size_t i = 0; i < k; i++) {
                _cleanup_free_ char *cluster = strdupf("kubernetesVersion: %s\n", all[i].newest_patch);
                struct fb_node *n = join_node(e, "control-plane", cluster);
                assert_int_equal(n->versions->minor, all[i].minor);
                _cleanup_free_ char *got = join_phase_names(n);
                assert_int_equal(endswith(got, " wait-control-plane"), all[i].join_wait_control_plane);
                expect_phases(join_node(e, "worker", cluster), WORKER_PHASES);
        }

        /* A minor whose kubeadm ends its join without waiting on the local components. */
        struct fb_node *n = join_node(e, "control-plane", NULL);
        struct mf_versions older = *n->versions;
        older.join_wait_control_plane = false;
        n->versions = &older;
        expect_phases(n, "preflight download-certs certs control-plane kubelet-start etcd-join "
                         "kubelet-wait-bootstrap mark-control-plane");
}

static char *plan(struct unit_node_env *e, const char *role, int expect) {
        _cleanup_free_ struct fb_phase *p = NULL;
        char *out = NULL;
        size_t k = 0, len = 0;
        assert_int_equal(fb_join_phases(e->node, &p, &k), 0);
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        assert_int_equal(fb_phases_plan(e->root, role, p, k, e->node, f), expect);
        assert_int_equal(fclose(f), 0);
        return out;
}

static void test_join_plan_and_the_journal(void **state) {
        struct unit_node_env *e = *state;
        join_node(e, "worker", NULL);

        /* A fresh machine: every phase to do. */
        {
                _cleanup_free_ char *out = plan(e, "worker", 0);
                assert_non_null(startswith(out, "role: worker\n"));
                assert_non_null(strstr(out, " 1. preflight                \n"));
                assert_non_null(strstr(out, " 4. node-registered          \n"));
                assert_null(strstr(out, "(done"));
        }
        /* A resumed one: what the journal records (preflight has no check of its own) is marked done. */
        unit_write(
                e->root, FB_JOURNAL_PATH,
                "{\"version\": 1, \"role\": \"worker\", \"done\": {\"preflight\": \"2026-01-01T00:00:00Z\"}}");
        {
                _cleanup_free_ char *out = plan(e, "worker", 0);
                assert_non_null(
                        strstr(out, " 1. preflight                (done: will be verified and skipped)\n"));
                assert_non_null(strstr(out, " 2. kubelet-start            \n"));
        }
        /* A machine that started as something else: no plan at all. */
        unit_write(
                e->root, FB_JOURNAL_PATH,
                "{\"version\": 1, \"role\": \"init\", \"done\": {\"preflight\": \"2026-01-01T00:00:00Z\"}}");
        {
                _cleanup_free_ char *out = plan(e, "worker", -ESTALE);
                assert_string_equal(out, "");
        }
        join_node(e, "control-plane", NULL);
        {
                _cleanup_free_ char *out = plan(e, "control-plane", -ESTALE);
                assert_string_equal(out, "");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_join_phases_per_role, setup, teardown),
                cmocka_unit_test_setup_teardown(test_join_phases_per_minor, setup, teardown),
                cmocka_unit_test_setup_teardown(test_join_plan_and_the_journal, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
