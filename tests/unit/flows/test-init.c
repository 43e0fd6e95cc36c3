/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The init flow's decisions (firstboot/flows/init.c): which phases a node's configuration gives it
 * (fb_init_phases), a resume that skips what is done, and plan over this machine's journal.
 */
#include <errno.h>
#include <stdio.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/flows.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

static int setup(void **state) {
        return unit_node_env_setup(state, "i-0001", "cp-1", "127.0.0.1");
}

static int teardown(void **state) {
        return unit_node_env_teardown(state);
}

/* A port on 127.0.0.1 that nothing listens on (just released): the apiserver of a node not yet up. */
static unsigned closed_port(void) {
        _cleanup_(unit_server_stopp) struct unit_server *s =
                unit_server_start("127.0.0.1", NULL, NULL, NULL, NULL);
        return unit_server_port(s);
}

/* The init node of a configuration: our document with role init, then extra (kubeadm's documents). ECDSA
 * keys keep the PKI fast; the apiserver's port refuses. */
static struct fb_node *init_node(struct unit_node_env *e, const char *fb_extra, const char *cluster_extra) {
        _cleanup_free_ char *text = strdupf("apiVersion: kube-firstboot.io/v1alpha1\n"
                                            "kind: FirstbootConfiguration\n"
                                            "role: init\n"
                                            "%s"
                                            "---\n"
                                            "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                            "kind: InitConfiguration\n"
                                            "localAPIEndpoint: {bindPort: %u}\n"
                                            "---\n"
                                            "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                            "kind: ClusterConfiguration\n"
                                            "encryptionAlgorithm: ECDSA-P256\n"
                                            "%s",
                                            strempty(fb_extra), closed_port(), strempty(cluster_extra));
        struct error why = {};
        unit_node_env_configure(e, text);
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_INIT, NULL, &e->node, &why), 0);
        return e->node;
}

static char *init_phase_names(struct fb_node *n) {
        _cleanup_free_ struct fb_phase *p = NULL;
        size_t k = 0;
        assert_int_equal(fb_init_phases(n, &p, &k), 0);
        return unit_phase_names(p, k);
}

#define ALL_AFTER_ETCD                                                                                      \
        "control-plane kubelet-start wait-control-plane upload-config upload-certs mark-control-plane "     \
        "bootstrap-token kubelet-finalize"

static void test_init_phases_per_configuration(void **state) {
        struct unit_node_env *e = *state;
        static const struct {
                const char *fb, *cluster, *phases;
        } cases[] = {
                /* kubeadm init's phases, stacked etcd. */
                {NULL, NULL, "preflight certs kubeconfig etcd " ALL_AFTER_ETCD " addon show-join-command"},
                /* etcd's data disk first, when one is configured. */
                {"etcd: {dataDevice: /dev/vdb}\n", NULL,
                 "preflight etcd-disk certs kubeconfig etcd " ALL_AFTER_ETCD " addon show-join-command"},
                /* External etcd: neither etcd nor its disk. */
                {"etcd: {dataDevice: /dev/vdb}\n",
                 "etcd: {external: {endpoints: [https://10.1.0.1:2379]}}\n",
                 "preflight certs kubeconfig " ALL_AFTER_ETCD " addon show-join-command"},
                /* The addons: only when both are off does the phase go. */
                {NULL, "dns: {disabled: true}\n",
                 "preflight certs kubeconfig etcd " ALL_AFTER_ETCD " addon show-join-command"},
                {NULL, "proxy: {disabled: true}\n",
                 "preflight certs kubeconfig etcd " ALL_AFTER_ETCD " addon show-join-command"},
                {NULL, "dns: {disabled: true}\nproxy: {disabled: true}\n",
                 "preflight certs kubeconfig etcd " ALL_AFTER_ETCD " show-join-command"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = init_phase_names(init_node(e, cases[i].fb, cases[i].cluster));
                if (!streq(got, cases[i].phases))
                        fail_msg("case %zu:\n got  %s\n want %s", i, got, cases[i].phases);
        }
}

/* The phases of the table with these names, in its order. */
static size_t pick(const struct fb_phase *all, size_t n, const char *const *want, struct fb_phase *ret) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strv_contains((char *const *) want, all[i].name))
                        ret[k++] = all[i];
        return k;
}

/* The phases picked, with their runs counted: which one ran, not only how many. */
static struct fb_phase counted_orig[3];
static unsigned counted_runs[3];
#define COUNTED_RUN(i)                                                                                      \
        static int counted_run##i(void *ctx, struct error *why) {                                           \
                counted_runs[i]++;                                                                          \
                return counted_orig[i].run(ctx, why);                                                       \
        }
COUNTED_RUN(0)
COUNTED_RUN(1)
COUNTED_RUN(2)

static void count_runs(struct fb_phase p[3]) {
        int (*const runs[3])(void *, struct error *) = {counted_run0, counted_run1, counted_run2};
        for (size_t i = 0; i < 3; i++) {
                counted_orig[i] = p[i];
                p[i].run = runs[i];
                counted_runs[i] = 0;
        }
}

/* fb_phases_run over p, then which of the three ran ("certs kubeconfig"), and the counts. */
static void resume(struct unit_node_env *e, struct fb_node *n, struct fb_phase p[3], const char *want_ran,
                   size_t skipped, size_t redone) {
        struct fb_phases_result res;
        char ran[128] = "";
        size_t nran = 0;
        for (size_t i = 0; i < 3; i++)
                counted_runs[i] = 0;
        assert_int_equal(fb_phases_run(e->root, "init", p, 3, n, NULL, &res), 0);
        for (size_t i = 0; i < 3; i++) {
                if (!counted_runs[i])
                        continue;
                nran++;
                (void) snprintf(ran + strlen(ran), sizeof(ran) - strlen(ran), "%s%s", ran[0] ? " " : "",
                                p[i].name);
        }
        assert_string_equal(ran, want_ran);
        assert_int_equal(res.ran, nran);
        assert_int_equal(res.skipped, skipped);
        assert_int_equal(res.redone, redone);
}

static void test_init_resume_skips_done_phases(void **state) {
        struct unit_node_env *e = *state;
        struct fb_node *n = init_node(e, NULL, NULL);
        _cleanup_free_ struct fb_phase *all = NULL;
        struct fb_phase p[3];
        size_t k = 0;

        assert_int_equal(fb_init_phases(n, &all, &k), 0);
        assert_int_equal(pick(all, k, (const char *const[]){"preflight", "certs", "kubeconfig", NULL}, p),
                         3);

        count_runs(p);

        /* A journal that says preflight is done (it has no check: the journal is trusted, so it is not run
         * again on this machine, which would fail its checks). certs writes the kubeconfigs too: the
         * kubeconfig phase finds them in place. */
        unit_write(
                e->root, FB_JOURNAL_PATH,
                "{\"version\": 1, \"role\": \"init\", \"done\": {\"preflight\": \"2026-01-01T00:00:00Z\"}}");
        resume(e, n, p, "certs", 2, 0);
        assert_int_equal(path_exists(e->root, "/etc/kubernetes/pki/ca.key"), 0);
        assert_int_equal(path_exists(e->root, "/etc/kubernetes/admin.conf"), 0);

        /* Again: everything verified and skipped. */
        resume(e, n, p, "", 3, 0);

        /* A kubeconfig lost since: that phase is done again, the others skipped. */
        _cleanup_free_ char *admin = strdupf("%s/etc/kubernetes/admin.conf", e->root);
        assert_int_equal(unlink(admin), 0);
        resume(e, n, p, "kubeconfig", 2, 1);
        assert_int_equal(path_exists(e->root, "/etc/kubernetes/admin.conf"), 0);

        /* A certificate lost: the certs phase again, the kubeconfigs found in place. */
        _cleanup_free_ char *crt = strdupf("%s/etc/kubernetes/pki/apiserver.crt", e->root);
        assert_int_equal(unlink(crt), 0);
        resume(e, n, p, "certs", 2, 1);
        assert_int_equal(path_exists(e->root, "/etc/kubernetes/pki/apiserver.crt"), 0);

        /* plan, after that: the done phases marked, the rest described. The phases that ask the apiserver
         * are left out: with none up, each check waits out the client's retries (about 3 s). */
        struct fb_phase q[8];
        size_t m =
                pick(all, k,
                     (const char *const[]){"preflight", "certs", "kubeconfig", "etcd", "control-plane",
                                           "kubelet-start", "kubelet-finalize", "show-join-command", NULL},
                     q);
        assert_int_equal(m, 8);
        _cleanup_free_ char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        assert_non_null(f);
        assert_int_equal(fb_phases_plan(e->root, "init", q, m, n, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(startswith(out, "role: init\n"));
        assert_non_null(strstr(out, " 1. preflight                (done: will be verified and skipped)\n"));
        assert_non_null(strstr(out, " 2. certs                    (done: will be verified and skipped)\n"));
        assert_non_null(strstr(out, " 3. kubeconfig               (done: will be verified and skipped)\n"));
        assert_non_null(strstr(out, " 4. etcd                     \n"));
        assert_non_null(strstr(out, "      write /etc/kubernetes/manifests/etcd.yaml (etcd "));
        assert_non_null(strstr(out, " 6. kubelet-start            \n"));
        assert_non_null(strstr(out, " 8. show-join-command        \n"));
        /* What is done is not described again. */
        assert_null(strstr(out, "/etc/kubernetes/pki/ca.crt"));
}

static void test_plan_of_a_journal_for_another_role(void **state) {
        struct unit_node_env *e = *state;
        struct fb_node *n = init_node(e, NULL, NULL);
        _cleanup_free_ struct fb_phase *all = NULL;
        _cleanup_free_ char *out = NULL;
        size_t k = 0, out_len = 0;

        assert_int_equal(fb_init_phases(n, &all, &k), 0);
        unit_write(
                e->root, FB_JOURNAL_PATH,
                "{\"version\": 1, \"role\": \"worker\", \"done\": {\"preflight\": \"2026-01-01T00:00:00Z\"}}");
        FILE *f = open_memstream(&out, &out_len);
        assert_non_null(f);
        assert_int_equal(fb_phases_plan(e->root, "init", all, k, n, f), -ESTALE);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(out_len, 0); /* nothing printed for a plan that cannot be */

        /* run refuses as well, and touches nothing. */
        struct fb_phases_result res;
        assert_int_equal(fb_phases_run(e->root, "init", all, k, n, NULL, &res), -ESTALE);
        assert_int_equal(res.ran + res.skipped + res.redone, 0);
        assert_int_equal(path_exists(e->root, "/etc/kubernetes/pki"), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_init_phases_per_configuration, setup, teardown),
                cmocka_unit_test_setup_teardown(test_init_resume_skips_done_phases, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_of_a_journal_for_another_role, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
