/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON builder, and every builder of what kube-firstboot writes or sends under allocation failure:
 * cJSON's allocator (cJSON_InitHooks) fails its Nth allocation, for every N up to the number a build
 * makes; the build must return -ENOMEM (or NULL) with nothing written to its output, never an object with
 * members missing. LeakSanitizer checks that nothing leaks on the way out.
 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "manifests/addons.h"
#include "manifests/kubelet.h"
#include "manifests/objects.h"
#include "manifests/staticpod.h"
#include "metadata/metadata.h"
#include "tests/unit/unit.h"

/* ---- the builder itself ---- */

static void test_builder_records_the_first_failure(void **state) {
        struct json_builder b = {};
        cJSON *o, *ret = (cJSON *) 0x1;
        (void) state;

        o = jb_object(&b);
        assert_non_null(jb_str(&b, o, "a", "x"));
        assert_int_equal(jb_error(&b), 0);
        /* A NULL value (an allocation of the caller's that failed) is a failure, and so is a NULL parent. */
        assert_null(jb_str(&b, o, "b", NULL));
        assert_int_equal(jb_error(&b), -ENOMEM);
        assert_null(jb_str(&b, NULL, "c", "y"));
        jb_fail(&b, -EINVAL);
        assert_int_equal(jb_error(&b), -ENOMEM); /* the first one stays */
        /* The root is freed and the output left alone. */
        assert_int_equal(jb_finish(&b, o, &ret), -ENOMEM);
        assert_ptr_equal(ret, (cJSON *) 0x1);
}

static void test_builder_builds(void **state) {
        _cleanup_(cJSON_Deletep) cJSON *o = NULL;
        _cleanup_free_ char *text = NULL;
        struct json_builder b = {};
        cJSON *root = jb_object(&b), *meta;
        (void) state;

        meta = jb_obj(&b, root, "metadata");
        jb_str(&b, meta, "name", "n");
        jb_strf(&b, meta, "namespace", "%s-%d", "ns", 1);
        jb_strs(&b, root, "list", (const char *const[]){"a", "b", NULL});
        jb_num(&b, root, "n", 3);
        jb_bool(&b, root, "t", true);
        jb_null(&b, root, "z");
        /* jb_obj_at() finds what is there; jb_set() replaces in place. */
        jb_str(&b, jb_obj_at(&b, root, "metadata"), "uid", "u");
        jb_set(&b, root, "n", cJSON_CreateString("three"));
        jb_set(&b, root, "new", cJSON_CreateNumber(1));
        jb_add(&b, jb_arr(&b, root, "arr"), "ignored", cJSON_CreateNumber(7));
        assert_int_equal(jb_finish(&b, root, &o), 0);
        text = json_to_string(o);
        assert_string_equal(text, "{\"metadata\":{\"name\":\"n\",\"namespace\":\"ns-1\",\"uid\":\"u\"},"
                                  "\"list\":[\"a\",\"b\"],\"n\":\"three\",\"t\":true,\"z\":null,\"new\":1,"
                                  "\"arr\":[7]}");
}

/* ---- allocation failure: cJSON's allocator fails its Nth allocation ---- */

static long allocations, fail_at = -1;
static bool fail_after; /* every allocation from fail_at on fails, not only that one */
static bool paused;     /* the test's own steps: neither counted nor failed */

static void *counting_malloc(size_t n) {
        if (paused)
                return malloc(n);
        long i = allocations++;
        if (fail_at >= 0 && (i == fail_at || (fail_after && i > fail_at)))
                return NULL;
        return malloc(n);
}

static int setup_hooks(void **state) {
        (void) state;
        cJSON_InitHooks(&(cJSON_Hooks){.malloc_fn = counting_malloc, .free_fn = free});
        return 0;
}

static int teardown_hooks(void **state) {
        (void) state;
        cJSON_InitHooks(NULL);
        return 0;
}

/* One build: 0 and the result as text (built with a working allocator), or the error. */
typedef int (*build_fn)(const void *ctx, char **ret_text);

/* Runs build once to count its allocations, then once per allocation with that one failing (and once
 * with every allocation from it on failing): each must fail with -ENOMEM and leave its output alone.
 * Returns the number of allocations a build makes. */
static long check_every_failure(build_fn build, const void *ctx) {
        _cleanup_free_ char *good = NULL;
        long total;

        allocations = 0;
        fail_at = -1;
        assert_int_equal(build(ctx, &good), 0);
        total = allocations;
        assert_true(total > 0);
        for (int mode = 0; mode < 2; mode++)
                for (long n = 0; n < total; n++) {
                        char *text = (char *) 0x1;
                        allocations = 0;
                        fail_at = n;
                        fail_after = mode == 1;
                        int r = build(ctx, &text);
                        fail_at = -1;
                        if (r != -ENOMEM)
                                fail_msg("allocation %ld of %ld failing%s: %d, not -ENOMEM", n + 1, total,
                                         mode ? " (and every one after)" : "", r);
                        assert_ptr_equal(text, (char *) 0x1);
                }
        /* And with nothing failing, the same object as the first time. */
        _cleanup_free_ char *again = NULL;
        allocations = 0;
        assert_int_equal(build(ctx, &again), 0);
        assert_string_equal(good, again);
        return total;
}

/* The text of a built tree, with cJSON's allocator working again; the tree is freed. */
static int text_of(int r, cJSON *j, char **ret_text) {
        if (r < 0)
                return r;
        if (!j)
                return -ENOMEM;
        paused = true;
        *ret_text = json_to_string(j);
        cJSON_Delete(j);
        paused = false;
        return *ret_text ? 0 : -EIO;
}

struct pod_case {
        struct mf_control_plane_spec spec;
        enum mf_component component;
};

static int build_static_pod(const void *ctx, char **ret_text) {
        const struct pod_case *c = ctx;
        cJSON *pod = (cJSON *) 0x1;
        int r = mf_static_pod(&c->spec, c->component, &pod);
        if (r < 0) {
                assert_ptr_equal(pod, (cJSON *) 0x1); /* no partial pod handed out */
                return r;
        }
        return text_of(r, pod, ret_text);
}

static void test_static_pods_under_allocation_failure(void **state) {
        static const struct mf_arg proxy[] = {{"HTTPS_PROXY", "http://proxy:3128"},
                                              {"NO_PROXY", "10.0.0.0/8"}};
        static const struct mf_arg envs[] = {{"GOMAXPROCS", "2"}};
        static const struct mf_arg args[] = {{"v", "2"}, {"listen-metrics-urls", "http://127.0.0.1:2381"}};
        static const struct mf_volume vols[] = {
                {"audit", "/var/log/audit", "/var/log/audit", false, "DirectoryOrCreate"}};
        static const char *const versions[] = {"v1.33.4", "v1.36.1"};
        (void) state;

        for (size_t v = 0; v < ELEMENTSOF(versions); v++)
                for (int c = 0; c < _MF_COMPONENT_MAX; c++) {
                        struct pod_case pc = {
                                .spec = {.kubernetes_version = versions[v],
                                         .node_name = "cp-1",
                                         .advertise_address = "10.0.0.11",
                                         .pod_subnet = "10.244.0.0/16",
                                         .root = "/nonexistent-root",
                                         .proxy_env = proxy,
                                         .n_proxy_env = ELEMENTSOF(proxy)},
                                .component = c,
                        };
                        pc.spec.extras[c] = (struct mf_component_extras){
                                .args = args,
                                .n_args = ELEMENTSOF(args),
                                .volumes = vols,
                                .n_volumes = ELEMENTSOF(vols),
                                .envs = envs,
                                .n_envs = ELEMENTSOF(envs),
                        };
                        long n = check_every_failure(build_static_pod, &pc);
                        print_message("static pod %s %s: %ld allocations, each failed in turn\n",
                                      versions[v], mf_component_name(c), n);
                }
}

static int build_kubelet_config(const void *ctx, char **ret_text) {
        const struct mf_kubelet_spec *s = ctx;
        _cleanup_(cJSON_Deletep) cJSON *user = NULL;
        cJSON *k = (cJSON *) 0x1;
        int r;

        /* The user's document, made with a working allocator: the merge is what is tested. */
        paused = true;
        static const char doc[] = "{\"maxPods\":50,\"authentication\":{\"webhook\":{\"cacheTTL\":\"1m\"}}}";
        r = json_parse(doc, strlen(doc), 0, &user, NULL);
        paused = false;
        assert_int_equal(r, 0);
        r = mf_kubelet_config(s, user, &k);
        if (r < 0) {
                assert_ptr_equal(k, (cJSON *) 0x1);
                return r;
        }
        return text_of(r, k, ret_text);
}

static void test_kubelet_config_under_allocation_failure(void **state) {
        const struct mf_kubelet_spec s = {.kubernetes_version = "v1.36.1", .resolved_active = true};
        (void) state;
        check_every_failure(build_kubelet_config, &s);
}

/* Objects built as a list (RBAC, CoreDNS, kube-proxy): the list as one text. */
static int text_of_objects(int r, struct mf_api_object *o, size_t n, char **ret_text) {
        cJSON *all;
        if (r < 0)
                return r;
        paused = true;
        all = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(all, cJSON_Duplicate(o[i].object, true));
        mf_api_objects_free(o, n);
        *ret_text = json_to_string(all);
        cJSON_Delete(all);
        paused = false;
        return *ret_text ? 0 : -EIO;
}

/* The builders of object lists: RBAC, CoreDNS, kube-proxy. */
struct objects_case {
        int (*build)(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n);
        const struct mf_addons_spec *spec;
};

static int build_objects(const void *ctx, char **ret_text) {
        const struct objects_case *c = ctx;
        struct mf_api_object *o = (struct mf_api_object *) 0x1;
        size_t n = 0;
        int r = c->build(c->spec, &o, &n);
        if (r < 0)
                assert_ptr_equal(o, (struct mf_api_object *) 0x1);
        return text_of_objects(r, o, n, ret_text);
}

static int kubeadm_rbac(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n) {
        (void) s;
        return mf_kubeadm_rbac(ret, ret_n);
}

static int build_token_secret(const void *ctx, char **ret_text) {
        (void) ctx;
        return text_of(0,
                       mf_bootstrap_token_secret(&(struct mf_token){
                               .id = "abcdef",
                               .secret = "0123456789abcdef",
                               .description = "d",
                               .expiration = "2030-01-01T00:00:00Z",
                               .usages = (const char *const[]){"signing", "authentication", NULL},
                               .groups = (const char *const[]){"system:bootstrappers:x", NULL},
                       }),
                       ret_text);
}

static int build_instance_json(const void *ctx, char **ret_text) {
        return text_of(0, md_instance_to_json(ctx), ret_text);
}

static void test_instance_view_under_allocation_failure(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = NULL;
        (void) state;

        /* Made with a working allocator: only md_instance_to_json() is tested. */
        paused = true;
        i = md_instance_new();
        assert_non_null(i);
        i->platform = strdup("ec2");
        i->instance_id = strdup("i-0123");
        i->hostname = strdup("cp-1");
        assert_int_equal(json_set_string(i->tags, "role", "control-plane"), 0);
        assert_int_equal(json_set_string(i->tags, "bootstrap-token", "secret"), 0);
        i->userdata_error = strdup("not MIME");
        paused = false;
        check_every_failure(build_instance_json, i);
}

static void test_cluster_objects_under_allocation_failure(void **state) {
        static const struct mf_arg proxy[] = {{"HTTPS_PROXY", "http://proxy:3128"}};
        const struct mf_addons_spec s = {
                .kubernetes_version = "v1.36.1",
                .control_plane_url = "https://10.0.0.11:6443",
                .pod_subnet = "10.244.0.0/16",
                .proxy_env = proxy,
                .n_proxy_env = ELEMENTSOF(proxy),
        };
        (void) state;
        check_every_failure(build_objects, &(struct objects_case){kubeadm_rbac, &s});
        check_every_failure(build_objects, &(struct objects_case){mf_coredns_objects, &s});
        check_every_failure(build_objects, &(struct objects_case){mf_kube_proxy_objects, &s});
        check_every_failure(build_token_secret, NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_builder_records_the_first_failure),
                cmocka_unit_test(test_builder_builds),
                cmocka_unit_test_setup_teardown(test_static_pods_under_allocation_failure, setup_hooks,
                                                teardown_hooks),
                cmocka_unit_test_setup_teardown(test_kubelet_config_under_allocation_failure, setup_hooks,
                                                teardown_hooks),
                cmocka_unit_test_setup_teardown(test_cluster_objects_under_allocation_failure, setup_hooks,
                                                teardown_hooks),
                cmocka_unit_test_setup_teardown(test_instance_view_under_allocation_failure, setup_hooks,
                                                teardown_hooks),
        };
        return cmocka_run_group_tests_name("jsonbuild", tests, NULL, NULL);
}
