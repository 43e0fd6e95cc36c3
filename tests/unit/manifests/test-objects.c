/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "manifests/objects.h"
#include "tests/unit/unit.h"

static void test_bootstrap_token_secret(void **state) {
        (void) state;
        static const char *const usages[] = {"signing", "authentication", NULL};
        static const char *const groups[] = {MF_DEFAULT_NODE_TOKEN_GROUP, NULL};
        struct mf_token t = {.id = "abcdef",
                             .secret = "0123456789abcdef",
                             .description = "x",
                             .expiration = "2030-01-02T03:04:05Z",
                             .usages = usages,
                             .groups = groups};
        _cleanup_(cJSON_Deletep) cJSON *s = mf_bootstrap_token_secret(&t);
        assert_non_null(s);
        assert_string_equal(json_get_string(s, "metadata.name"), "bootstrap-token-abcdef");
        assert_string_equal(json_get_string(s, "metadata.namespace"), "kube-system");
        assert_string_equal(json_get_string(s, "type"), "bootstrap.kubernetes.io/token");
        assert_string_equal(json_get_string(s, "data.token-id"), "YWJjZGVm");
        assert_string_equal(json_get_string(s, "data.token-secret"), "MDEyMzQ1Njc4OWFiY2RlZg==");
        assert_string_equal(json_get_string(s, "data.usage-bootstrap-signing"), "dHJ1ZQ==");
        assert_string_equal(json_get_string(s, "data.expiration"), "MjAzMC0wMS0wMlQwMzowNDowNVo=");
        assert_string_equal(json_get_string(s, "data.auth-extra-groups"),
                            "c3lzdGVtOmJvb3RzdHJhcHBlcnM6a3ViZWFkbTpkZWZhdWx0LW5vZGUtdG9rZW4=");
        assert_string_equal(json_get_string(s, "data.description"), "eA==");

        /* The TTL token of kubeadm-certs: no usages, no groups. */
        struct mf_token ttl = {.id = "ttl001",
                               .secret = "aaaaaaaaaaaaaaaa",
                               .description = "Proxy for managing TTL for the kubeadm-certs secret",
                               .expiration = "2030-01-02T05:04:05Z"};
        _cleanup_(cJSON_Deletep) cJSON *s2 = mf_bootstrap_token_secret(&ttl);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s2, "data")), 4);
}

static void test_rbac_set(void **state) {
        (void) state;
        struct mf_api_object *o = NULL;
        size_t n = 0;
        bool found_anon = false, found_certs = false;

        assert_int_equal(mf_kubeadm_rbac(&o, &n), 0);
        assert_int_equal(n, 15); /* with kubeadm:apiserver-kubelet-client (kubernetes#138957) */
        assert_string_equal(json_get_string(o[0].object, "kind"), "ClusterRole");
        assert_string_equal(o[0].collection, "/apis/rbac.authorization.k8s.io/v1/clusterroles");
        for (size_t i = 0; i < n; i++) {
                const char *name = json_get_string(o[i].object, "metadata.name");
                const char *kind = json_get_string(o[i].object, "kind");
                if (streq(name, "kubeadm:bootstrap-signer-clusterinfo") && streq(kind, "RoleBinding")) {
                        const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(o[i].object, "subjects"), 0);
                        assert_string_equal(json_get_string(s, "name"), "system:anonymous");
                        assert_string_equal(json_get_string(s, "kind"), "User");
                        assert_string_equal(
                                o[i].collection,
                                "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings");
                        found_anon = true;
                }
                if (streq(name, "kubeadm:kubeadm-certs") && streq(kind, "Role")) {
                        const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(o[i].object, "rules"), 0);
                        assert_string_equal(
                                cJSON_GetArrayItem(cJSON_GetObjectItem(r, "resourceNames"), 0)->valuestring,
                                "kubeadm-certs");
                        assert_string_equal(
                                cJSON_GetArrayItem(cJSON_GetObjectItem(r, "apiGroups"), 0)->valuestring, "");
                        found_certs = true;
                }
        }
        assert_true(found_anon && found_certs);
        mf_api_objects_free(o, n);
}

static void test_cluster_info_and_paths(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *ci = mf_cluster_info("apiVersion: v1\n");
        _cleanup_free_ char *p = mf_collection_path(ci);
        char exp[32];
        assert_string_equal(p, "/api/v1/namespaces/kube-public/configmaps");
        assert_string_equal(json_get_string(ci, "data.kubeconfig"), "apiVersion: v1\n");
        assert_int_equal(mf_expiration(7200, exp), 0);
        assert_int_equal(strlen(exp), 20);
        assert_int_equal(exp[19], 'Z');
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bootstrap_token_secret),
                cmocka_unit_test(test_rbac_set),
                cmocka_unit_test(test_cluster_info_and_paths),
        };
        return cmocka_run_group_tests_name("objects", tests, NULL, NULL);
}
