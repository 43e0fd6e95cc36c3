/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration model: merge order, v1beta3 conversion, defaults, strict validation, secrets. */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

#define TOKEN   "abcdef.0123456789abcdef"
#define CERTKEY "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"
#define HASH    "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static struct md_instance *instance_with(const char *userdata) {
        struct md_instance *i = md_instance_new();
        assert_non_null(i);
        md_set(&i->instance_id, "i-0002");
        md_set(&i->hostname, "cp-2");
        md_set(&i->local_ipv4, "10.0.0.11");
        if (userdata) {
                md_set_userdata(i, strdup(userdata), strlen(userdata));
                assert_int_equal(md_userdata_decode(i->userdata, i->userdata_len, &i->ud), 0);
        }
        return i;
}

static const char auto_ud[] = "#cloud-config\n"
                              "kube_firstboot:\n"
                              "  - apiVersion: kube-firstboot.io/v1alpha1\n"
                              "    kind: FirstbootConfiguration\n"
                              "    role: auto\n"
                              "    seed: {rule: lowestAddress, peers: [10.0.0.12, 10.0.0.10, 10.0.0.11]}\n"
                              "    secrets:\n"
                              "      bootstrapToken: {value: " TOKEN "}\n"
                              "      certificateKey: {value: " CERTKEY "}\n"
                              "  - apiVersion: kubeadm.k8s.io/v1beta3\n"
                              "    kind: ClusterConfiguration\n"
                              "    controlPlaneEndpoint: k8s.example.com\n"
                              "    kubernetesVersion: 1.36.2\n"
                              "    networking: {podSubnet: 10.244.0.0/16}\n"
                              "    apiServer:\n"
                              "      extraArgs: {z-flag: '1', audit-log-path: /var/log/a.log}\n"
                              "      timeoutForControlPlane: 7m\n"
                              "  - apiVersion: kubeadm.k8s.io/v1beta3\n"
                              "    kind: JoinConfiguration\n"
                              "    discovery:\n"
                              "      timeout: 9m\n"
                              "      bootstrapToken: {caCertHashes: ['" HASH "']}\n";

static struct fb_config *load(const struct fb_config_sources *src, char ***problems) {
        struct fb_config *c = NULL;
        int r = fb_config_load(src, &c, problems);
        if (r < 0) {
                for (char **p = *problems; p && *p; p++)
                        print_message("problem: %s\n", *p);
                fail_msg("fb_config_load: %d", r);
        }
        return c;
}

static void test_auto_role_effective(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(auto_ud);
        _cleanup_strv_free_ char **problems = NULL;
        struct fb_config_sources src = {.root = "/nonexistent", .instance = i};
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        (void) state;
        c = load(&src, &problems);
        assert_int_equal(fb_config_role(c), FB_ROLE_AUTO);
        assert_int_equal(fb_config_seed_rule(c), FB_SEED_LOWEST_ADDRESS);
        assert_int_equal(fb_config_is_seed(c, i), 0); /* 10.0.0.10 is lower */
        assert_string_equal(fb_config_node_name(c), "cp-2");
        assert_string_equal(fb_config_advertise_address(c), "10.0.0.11");
        assert_int_equal(fb_config_bind_port(c), 6443);
        const struct fb_settings *set = fb_config_settings(c);
        assert_non_null(set->cluster);
        assert_non_null(set->init);
        assert_non_null(set->join);
        assert_string_equal(set->cluster->control_plane_endpoint, "k8s.example.com");
        assert_string_equal(set->cluster->kubernetes_version, "1.36.2");
        assert_string_equal(set->cluster->networking.pod_subnet, "10.244.0.0/16");
        assert_string_equal(set->cluster->networking.service_subnet, "10.96.0.0/12");
        assert_string_equal(set->cluster->networking.dns_domain, "cluster.local");
        assert_false(set->cluster->etcd.external);
        assert_string_equal(set->cluster->etcd.data_dir, "/var/lib/etcd");
        /* v1beta3's extraArgs map, converted and sorted, as the static pods get it. */
        assert_int_equal(set->cluster->extras[MF_KUBE_APISERVER].n_args, 2);
        assert_string_equal(set->cluster->extras[MF_KUBE_APISERVER].args[0].name, "audit-log-path");
        assert_string_equal(set->cluster->extras[MF_KUBE_APISERVER].args[1].value, "1");
        assert_string_equal(fb_config_bootstrap_token(c), TOKEN);
        assert_string_equal(set->init->bootstrap_tokens[0].token, TOKEN);
        assert_string_equal(set->init->bootstrap_tokens[0].ttl, "24h0m0s");
        assert_string_equal(set->join->discovery.token, TOKEN);
        assert_string_equal(set->join->tls_bootstrap_token, TOKEN);
        assert_string_equal(fb_config_certificate_key(c), CERTKEY);
        assert_string_equal(set->join->certificate_key, CERTKEY);
        assert_string_equal(set->join->discovery.ca_cert_hashes[0], HASH);
        assert_string_equal(set->join->discovery.api_server_endpoint, "k8s.example.com:6443");
        assert_true(set->join->control_plane);
        assert_string_equal(set->join->registration.taints[0],
                            "node-role.kubernetes.io/control-plane:NoSchedule");
        assert_null(set->join->registration.taints[1]);
        assert_null(set->firstboot.etcd.data_device);
        assert_null(set->firstboot.kubelet_start_command);
        assert_int_equal(set->firstboot.timeouts.seed_grace, 15000);
        assert_false(set->firstboot.timeouts.etcd_join_set);
        /* v1beta3's timeouts in their v1beta4 homes, in milliseconds. */
        assert_int_equal(set->init->timeouts.control_plane_component_health_check, 7 * 60000);
        assert_int_equal(set->join->timeouts.discovery, 9 * 60000);
        assert_int_equal(set->join->timeouts.tls_bootstrap, 5 * 60000);

        /* v1beta3 converted: extraArgs as a sorted list, timeouts moved to their v1beta4 homes. */
        const cJSON *cl = fb_config_document(c, "ClusterConfiguration");
        assert_string_equal(json_get_string(cl, "apiVersion"), FB_KUBEADM_V1BETA4);
        const cJSON *args = json_get(cl, "apiServer.extraArgs");
        assert_true(cJSON_IsArray(args));
        assert_string_equal(json_get_string(cJSON_GetArrayItem(args, 0), "name"), "audit-log-path");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(args, 1), "name"), "z-flag");
        assert_null(json_get(cl, "apiServer.timeoutForControlPlane"));
        assert_string_equal(json_get_string(fb_config_document(c, "InitConfiguration"),
                                            "timeouts.controlPlaneComponentHealthCheck"),
                            "7m");
        assert_string_equal(
                json_get_string(fb_config_document(c, "JoinConfiguration"), "timeouts.discovery"), "9m");
        assert_null(json_get(fb_config_document(c, "JoinConfiguration"), "discovery.timeout"));

        /* Printed: every secret redacted. */
        _cleanup_free_ char *yaml = NULL;
        assert_int_equal(fb_config_print(c, true, &yaml), 0);
        assert_null(strstr(yaml, "0123456789abcdef"));
        assert_null(strstr(yaml, CERTKEY));
        assert_non_null(strstr(yaml, FB_REDACTED));
        assert_non_null(strstr(yaml, "kind: JoinConfiguration"));
}

static void test_merge_order(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_instance_freep) struct md_instance *i = NULL;
        _cleanup_strv_free_ char **problems = NULL, **set = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        (void) state;
        /* Image defaults: two files, applied in name order. */
        assert_int_equal(
                write_string_atomic(root, "/etc/kube-firstboot/10-base.yaml",
                                    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                                    "networking: {podSubnet: 10.1.0.0/16, dnsDomain: base.local}\n"
                                    "clusterName: base\nkubernetesVersion: v1.35.1\n",
                                    0644, WRITE_MKDIR_PARENTS),
                0);
        assert_int_equal(
                write_string_atomic(root, "/etc/kube-firstboot/20-more.yaml",
                                    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                                    "clusterName: more\n---\n"
                                    "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                                    "role: init\n",
                                    0644, 0),
                0);
        /* User-data beats image defaults; a tag beats user-data; a flag beats the tag. */
        i = instance_with("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
                          "networking: {podSubnet: 10.2.0.0/16}\ncontrolPlaneEndpoint: ud.example:6443\n");
        md_tag(i, "kube-firstboot-control-plane-endpoint", "tag.example:6443");
        md_tag(i, "kube-firstboot-config",
               "YXBpVmVyc2lvbjoga3ViZWFkbS5rOHMuaW8vdjFiZXRhNApraW5kOiBDbHVzdGVyQ29uZmlndXJhdGlvbgpjbHVzdGVy"
               "TmFtZTogZnJvbS10YWcK");
        strv_extend(&set, "ClusterConfiguration.kubernetesVersion=v1.37.1");
        struct fb_config_sources src = {
                .root = root,
                .instance = i,
                .flags = {.control_plane_endpoint = "flag.example", .set = set, .node_name = "node-x"},
        };
        c = load(&src, &problems);
        assert_int_equal(fb_config_role(c), FB_ROLE_INIT);
        const struct fb_cluster_settings *cl = fb_config_settings(c)->cluster;
        assert_string_equal(cl->networking.pod_subnet, "10.2.0.0/16");
        assert_string_equal(cl->networking.dns_domain, "base.local");
        assert_string_equal(cl->cluster_name, "from-tag");
        assert_string_equal(cl->control_plane_endpoint, "flag.example");
        assert_string_equal(cl->kubernetes_version, "v1.37.1");
        assert_string_equal(fb_config_node_name(c), "node-x");
        assert_null(fb_config_document(c, "JoinConfiguration")); /* init only */
        assert_null(fb_config_settings(c)->join);
        unit_rm_rf(root);
}

static void test_problems_name_path_and_source(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "#cloud-config\nkube_firstboot:\n"
                "  - apiVersion: kubeadm.k8s.io/v1beta4\n    kind: ClusterConfiguration\n"
                "    kubernetesVersion: 1.30\n"
                "    networking: {podSubnet: 10.244.0.0/33, bogus: 1}\n"
                "  - apiVersion: kube-firstboot.io/v1alpha1\n    kind: FirstbootConfiguration\n"
                "    role: leader\n");
        _cleanup_strv_free_ char **problems = NULL;
        struct fb_config *c = NULL;
        struct fb_config_sources src = {.root = "/nonexistent", .instance = i};
        (void) state;
        md_tag(i, "kube-firstboot-role", "sometimes");
        assert_int_equal(fb_config_load(&src, &c, &problems), -EINVAL);
        assert_null(c);
        assert_int_equal(strv_length(problems), 5);
        /* YAML reads 1.30 as a number: the message keeps the text as written. */
        assert_string_equal(
                problems[0],
                "ClusterConfiguration.kubernetesVersion: '1.30' is not a version such as v1.38.0 or "
                "a label (stable, stable-1, stable-1.38) (from user-data (text/cloud-config) "
                "kube_firstboot, document 1)");
        problems++;
        assert_string_equal(
                problems[0],
                "ClusterConfiguration.networking.podSubnet: '10.244.0.0/33' is not a CIDR such as "
                "10.244.0.0/16 (from user-data (text/cloud-config) kube_firstboot, document 1)");
        assert_true(startswith(problems[1], "ClusterConfiguration.networking.bogus: unknown field"));
        assert_true(startswith(problems[2], "FirstbootConfiguration.role: 'leader' is not one of"));
        assert_non_null(strstr(problems[3], "(from metadata tag 'kube-firstboot-role')"));
        problems--;
}

static void test_incomplete_roles(void **state) {
        static const struct {
                const char *role;
                int problems;
        } cases[] = {{"worker", 3}, {"control-plane", 4}, {"auto", 6}, {"init", 0}};
        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                _cleanup_strv_free_ char **problems = NULL;
                _cleanup_(fb_config_freep) struct fb_config *c = NULL;
                struct fb_config_sources src = {.root = "/nonexistent", .flags = {.role = cases[k].role}};
                int r = fb_config_load(&src, &c, &problems);
                if ((int) strv_length(problems) != cases[k].problems) {
                        for (char **p = problems; p && *p; p++)
                                print_message("%s: %s\n", cases[k].role, *p);
                        fail();
                }
                assert_int_equal(r, cases[k].problems ? -EINVAL : 0);
                /* Partial validation does not ask for completeness. */
                _cleanup_strv_free_ char **none = NULL;
                _cleanup_(fb_config_freep) struct fb_config *p = NULL;
                src.partial = true;
                assert_int_equal(fb_config_load(&src, &p, &none), 0);
        }
}

static void test_secret_files_and_worker(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: worker\n"
                "secrets: {bootstrapToken: {file: /run/secrets/token}}\n---\n"
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
                "discovery: {bootstrapToken: {apiServerEndpoint: '[fd00::1]:6443', "
                "unsafeSkipCAVerification: true}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        struct fb_config_sources src = {.root = root, .instance = i};
        (void) state;
        assert_int_equal(
                write_string_atomic(root, "/run/secrets/token", TOKEN "\n", 0600, WRITE_MKDIR_PARENTS), 0);
        c = load(&src, &problems);
        assert_int_equal(fb_config_role(c), FB_ROLE_WORKER);
        assert_string_equal(fb_config_bootstrap_token(c), TOKEN);
        assert_null(json_get(fb_config_document(c, "JoinConfiguration"), "controlPlane"));
        assert_null(json_get(fb_config_document(c, "JoinConfiguration"), "nodeRegistration.taints"));
        assert_null(fb_config_document(c, "InitConfiguration"));
        assert_null(fb_config_certificate_key(c));
        _cleanup_free_ char *yaml = NULL;
        assert_int_equal(fb_config_print(c, true, &yaml), 0);
        assert_null(strstr(yaml, "0123456789abcdef"));
        assert_non_null(strstr(yaml, "file: /run/secrets/token"));
        /* A missing secret file is a problem that names the field. */
        _cleanup_strv_free_ char **p2 = NULL;
        struct fb_config *c2 = NULL;
        struct fb_config_sources s2 = {.root = "/nonexistent", .instance = i};
        assert_int_equal(fb_config_load(&s2, &c2, &p2), -EINVAL);
        assert_true(startswith(
                p2[0],
                "FirstbootConfiguration.secrets.bootstrapToken.file: '/run/secrets/token' cannot be read"));
        unit_rm_rf(root);
}

/* The secret stores in the schema: each accepted with what it needs, and every rule a problem naming its
 * field. */
static void test_secret_store_schema(void **state) {
        static const struct {
                const char *secret, *problem; /* NULL: valid */
        } cases[] = {
                {"{awsSecretsManager: {secretId: prod/k8s/ck, region: eu-west-1, versionStage: AWSCURRENT, "
                 "jsonKey: key, endpoint: 'https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com'}}",
                 NULL},
                {"{awsSsmParameter: {name: /k8s/ck}}", NULL},
                {"{gcpSecretManager: {name: projects/p/secrets/s/versions/latest}}", NULL},
                {"{gcpSecretManager: {name: projects/p/secrets/s}}", NULL},
                {"{gcpSecretManager: {name: projects/p/locations/europe-west1/secrets/s/versions/3, "
                 "endpoint: 'https://secretmanager.europe-west1.rep.googleapis.com'}}",
                 NULL},
                {"{azureKeyVault: {vaultUrl: 'https://kv.vault.azure.net', name: k8s-ck, version: abc123, "
                 "clientId: 6f3c1a2b-0d4e-4f5a-9b8c-7d6e5f4a3b2c}}",
                 NULL},
                {"{value: " CERTKEY ", awsSsmParameter: {name: /k8s/ck}}",
                 "FirstbootConfiguration.secrets.certificateKey: needs exactly one of value, file, awsSecretsManager, "
                 "awsSsmParameter, gcpSecretManager and azureKeyVault"},
                {"{}", "FirstbootConfiguration.secrets.certificateKey: needs exactly one of"},
                /* One document may name the endpoint, another the secret: checked on the merge (below). */
                {"{awsSecretsManager: {region: eu-west-1}}", NULL},
                {"{awsSecretsManager: {secretId: x, region: 'EU west'}}",
                 "FirstbootConfiguration.secrets.certificateKey.awsSecretsManager: region: 'EU west' is not an AWS region"},
                {"{awsSecretsManager: {secretId: x, endpoint: 'ftp://example.com'}}",
                 "FirstbootConfiguration.secrets.certificateKey.awsSecretsManager.endpoint: 'ftp://example.com' is not an http:// or https:// URL"},
                {"{awsSecretsManager: {secretId: x, endpoint: 'https://user@example.com'}}",
                 "awsSecretsManager.endpoint: 'https://user@example.com' is not an http"},
                {"{awsSsmParameter: {name: /x, secretId: y}}",
                 "FirstbootConfiguration.secrets.certificateKey.awsSsmParameter.secretId: unknown field"},
                {"{gcpSecretManager: {name: 'projects/p/secrets/../versions/1'}}",
                 "is not a secret's resource name"},
                {"{gcpSecretManager: {name: my-secret}}", "is not a secret's resource name"},
                {"{gcpSecretManager: {name: 'projects/p/secrets/s/versions/1:access'}}",
                 "is not a secret's resource name"},
                {"{azureKeyVault: {name: x}}", NULL},
                {"{azureKeyVault: {vaultUrl: 'https://kv.vault.azure.net', name: 'a/b'}}",
                 "azureKeyVault: name: 'a/b' is not a Key Vault secret name"},
                {"{azureKeyVault: {vaultUrl: 'https://kv.vault.azure.net', name: a, version: '../x'}}",
                 "azureKeyVault: version: '../x' is not a Key Vault secret version"},
        };
        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                _cleanup_free_ char *text =
                        strdupf("apiVersion: kube-firstboot.io/v1alpha1\n"
                                "kind: FirstbootConfiguration\nsecrets:\n  certificateKey: %s\n",
                                cases[k].secret);
                _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
                _cleanup_strv_free_ char **problems = NULL;
                assert_int_equal(yaml_parse_documents(text, strlen(text), &docs, NULL), 0);
                assert_int_equal(fb_config_validate_document(cJSON_GetArrayItem(docs, 0), "test", &problems),
                                 0);
                if (!cases[k].problem) {
                        if (problems)
                                fail_msg("%s: %s", cases[k].secret, problems[0]);
                        continue;
                }
                if (strv_length(problems) != 1 || !strstr(problems[0], cases[k].problem))
                        fail_msg("%s: wanted '%s', got '%s'", cases[k].secret, cases[k].problem,
                                 problems ? problems[0] : "nothing");
        }
}

/* A store named by a later source replaces a value of an earlier one (and the reverse); with partial nothing
 * is read and a store counts as given; the store's fields are printed, never a value. */
static void test_secret_store_merge_and_partial(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: control-plane\n"
                "secrets:\n  certificateKey: {awsSecretsManager: {secretId: prod/ck, region: eu-west-1}}\n"
                "  bootstrapToken: {gcpSecretManager: {name: projects/p/secrets/token}}\n---\n"
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
                "discovery: {bootstrapToken: {apiServerEndpoint: 'k8s.example:6443', caCertHashes: ['" HASH
                "']}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        struct fb_config_sources src = {
                .root = root, .instance = i, .partial = true, .complete_for_role = true};
        _cleanup_free_ char *yaml = NULL;
        const struct fb_secret_info *info;
        size_t n;
        (void) state;

        assert_int_equal(
                write_string_atomic(root, "/etc/kube-firstboot/10-defaults.yaml",
                                    "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                                    "secrets: {certificateKey: {value: " CERTKEY "}}\n",
                                    0644, WRITE_MKDIR_PARENTS),
                0);
        c = load(&src, &problems);
        assert_null(fb_config_certificate_key(c)); /* not read: partial */
        assert_int_equal(fb_config_print(c, true, &yaml), 0);
        assert_null(strstr(yaml, CERTKEY));
        assert_null(strstr(yaml, "value:"));
        assert_non_null(strstr(yaml, "secretId: prod/ck"));
        assert_non_null(strstr(yaml, "name: projects/p/secrets/token"));
        info = fb_config_secret_info(c, &n);
        assert_int_equal(n, 2);
        assert_string_equal(info[0].name, "bootstrapToken");
        assert_string_equal(info[0].source, "gcpSecretManager name 'projects/p/secrets/token'");
        assert_string_equal(info[1].source, "awsSecretsManager secretId 'prod/ck' (region eu-west-1)");
        assert_string_equal(info[1].fingerprint, "");
        unit_rm_rf(root);
}

/* What a store needs is checked on the merge: the image names the secret, the user-data its endpoint; and a
 * store without its name is a problem of the effective configuration. */
static void test_secret_store_needs_on_the_merge(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n"
                "secrets:\n  certificateKey: {awsSecretsManager: {endpoint: 'http://127.0.0.1:9'}}\n"
                "  bootstrapToken: {azureKeyVault: {name: tok}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        struct fb_config *c2 = NULL;
        struct fb_config_sources src = {.root = root, .instance = i, .partial = true};
        (void) state;

        assert_int_equal(fb_config_load(&src, &c2, &problems), -EINVAL);
        assert_int_equal(strv_length(problems), 2);
        assert_true(startswith(
                problems[0], "FirstbootConfiguration.secrets.bootstrapToken.azureKeyVault: needs vaultUrl"));
        assert_true(startswith(
                problems[1],
                "FirstbootConfiguration.secrets.certificateKey.awsSecretsManager: needs secretId"));
        problems = strv_free(problems);
        assert_int_equal(
                write_string_atomic(
                        root, "/etc/kube-firstboot/10-defaults.yaml",
                        "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                        "secrets:\n  certificateKey: {awsSecretsManager: {secretId: k8s/ck}}\n"
                        "  bootstrapToken: {azureKeyVault: {vaultUrl: 'https://kv.vault.azure.net'}}\n",
                        0644, WRITE_MKDIR_PARENTS),
                0);
        c = load(&src, &problems);
        size_t n;
        const struct fb_secret_info *info = fb_config_secret_info(c, &n);
        assert_int_equal(n, 2);
        assert_string_equal(info[0].source,
                            "azureKeyVault name 'tok' (vaultUrl https://kv.vault.azure.net)");
        assert_string_equal(info[1].source,
                            "awsSecretsManager secretId 'k8s/ck' (endpoint http://127.0.0.1:9)");
        unit_rm_rf(root);
}

/* A store that cannot be reached is a failure with the store's errno and its words, not a problem. */
static void test_secret_store_failure_is_no_problem(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n"
                "secrets:\n  certificateKey: {awsSsmParameter: {name: /k8s/ck, region: eu-west-1}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        struct fb_config *c = NULL;
        struct md_options md = {
                .datasource = "ec2", .endpoint = "http://127.0.0.1:1", .timeout_ms = 1000, .retries = 1};
        struct error why = {};
        struct fb_config_sources src = {.root = "/nonexistent", .instance = i, .md = &md, .error = &why};
        (void) state;
        md_set(&i->datasource, "ec2"); /* the endpoint is this datasource's */

        assert_int_equal(fb_config_load(&src, &c, &problems), -ECONNREFUSED);
        assert_null(c);
        assert_null(problems);
        assert_int_equal(why.code, -ECONNREFUSED);
        assert_true(startswith(
                why.message,
                "FirstbootConfiguration.secrets.certificateKey from awsSsmParameter "
                "name '/k8s/ck' (region eu-west-1): the instance's identity failed: "
                "the instance metadata service (IMDSv2): PUT http://127.0.0.1:1/latest/api/token"));
}

/* The fields holding a secret's value that came from user-data or a metadata tag (the exposure warning),
 * not those of image defaults, files or flags. */
static void test_userdata_secrets(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
                "bootstrapTokens: [{description: none}, {token: " TOKEN "}]\n---\n"
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n"
                "secrets: {certificateKey: {awsSsmParameter: {name: /k}}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        struct fb_config_sources src = {.root = root, .instance = i, .partial = true};
        (void) state;

        assert_int_equal(
                write_string_atomic(root, "/etc/kube-firstboot/10-defaults.yaml",
                                    "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                                    "secrets: {bootstrapToken: {value: " TOKEN "}}\n",
                                    0644, WRITE_MKDIR_PARENTS),
                0);
        md_tag(i, "kube-firstboot-config",
               "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
               "discovery: {tlsBootstrapToken: " TOKEN "}\n");
        c = load(&src, &problems);
        char *const *f = fb_config_userdata_secrets(c);
        assert_non_null(f);
        assert_int_equal(strv_length(f), 2);
        assert_string_equal(f[0], "InitConfiguration.bootstrapTokens[].token");
        assert_string_equal(f[1], "JoinConfiguration.discovery.tlsBootstrapToken");
        unit_rm_rf(root);
}

/* The CA key once: ca.key or ca.keyFile, or secrets.caKey. */
static void test_ca_key_given_twice(void **state) {
        _cleanup_(md_instance_freep) struct md_instance *i = instance_with(
                "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n"
                "ca: {certFile: /etc/ca.crt, keyFile: /etc/ca.key}\n"
                "secrets: {caKey: {awsSecretsManager: {secretId: ca-key}}}\n");
        _cleanup_strv_free_ char **problems = NULL;
        struct fb_config *c = NULL;
        struct fb_config_sources src = {.root = "/nonexistent", .instance = i, .partial = true};
        (void) state;

        assert_int_equal(fb_config_load(&src, &c, &problems), -EINVAL);
        assert_int_equal(strv_length(problems), 1);
        assert_true(
                startswith(problems[0], "FirstbootConfiguration.secrets.caKey: the CA key is given twice"));
}

static void test_seed_rules(void **state) {
        static const struct {
                const char *seed;
                int expect;
        } cases[] = {
                {"{rule: instanceId, instanceId: i-0002}", 1},
                {"{rule: instanceId, instanceId: i-0001}", 0},
                {"{rule: hostname, hostname: cp-2}", 1},
                {"{rule: address, address: 10.0.0.11}", 1},
                {"{rule: lowestAddress, peers: [10.0.0.11, 10.0.0.100, 10.0.0.9x]}", -1},
                {"{rule: lowestAddress, peers: [10.0.0.11, 10.0.0.100, 10.0.0.12]}", 1},
                {"{rule: lowestAddress, peers: [10.0.0.11, 10.0.0.100, 10.0.0.2]}", 0},
        };
        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                _cleanup_free_ char *ud =
                        strdupf("apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\n"
                                "role: auto\nseed: %s\n",
                                cases[k].seed);
                _cleanup_(md_instance_freep) struct md_instance *i = instance_with(ud);
                _cleanup_strv_free_ char **problems = NULL;
                _cleanup_(fb_config_freep) struct fb_config *c = NULL;
                struct fb_config_sources src = {.root = "/nonexistent", .instance = i, .partial = true};
                int r = fb_config_load(&src, &c, &problems);
                if (cases[k].expect < 0) {
                        assert_int_equal(r, -EINVAL); /* 10.0.0.9x is not an address */
                        continue;
                }
                assert_int_equal(r, 0);
                assert_int_equal(fb_config_is_seed(c, i), cases[k].expect);
        }
}

static void test_durations(void **state) {
        unsigned long long ms;
        (void) state;
        assert_int_equal(fb_parse_duration_ms("1h30m", &ms), 0);
        assert_int_equal(ms, 5400000);
        assert_int_equal(fb_parse_duration_ms("300ms", &ms), 0);
        assert_int_equal(ms, 300);
        assert_int_equal(fb_parse_duration_ms("1.5s", &ms), 0);
        assert_int_equal(ms, 1500);
        assert_int_equal(fb_parse_duration_ms("0", &ms), 0);
        assert_int_equal(fb_parse_duration_ms("5", &ms), -EINVAL);
        assert_int_equal(fb_parse_duration_ms("5 m", &ms), -EINVAL);
        assert_int_equal(fb_parse_duration_ms("", &ms), -EINVAL);
}

static void test_validate_document_versions(void **state) {
        static const struct {
                const char *yaml;
                int problems;
        } cases[] = {
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer: {extraArgs: "
                 "[{name: a, value: b}]}\n",
                 0},
                {"apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer: {extraArgs: "
                 "{a: b}}\n",
                 0},
                {"apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer: {extraArgs: "
                 "[{name: a}]}\n",
                 1},
                {"apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nproxy: {disabled: true}\n",
                 1},
                {"apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n", 1},
                {"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nanything: goes\n",
                 0},
                {"kind: InitConfiguration\n", 1},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery: {bootstrapToken: "
                 "{caCertHashes: [sha256:abc], apiServerEndpoint: 'a b'}}\n",
                 2},
                {"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking: "
                 "{podSubnet: '10.244.0.0/16,fd00::/56', serviceSubnet: '10.96.0.0/12,10.97.0.0/16'}\n",
                 1},
        };
        (void) state;
        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                _cleanup_(cJSON_Deletep) cJSON *docs = cJSON_CreateArray();
                _cleanup_strv_free_ char **problems = NULL, **none = NULL;
                assert_int_equal(md_config_documents_from_text(cases[k].yaml, strlen(cases[k].yaml), "t",
                                                               docs, &none),
                                 0);
                assert_int_equal(fb_config_validate_document(
                                         json_get(cJSON_GetArrayItem(docs, 0), "document"), "t", &problems),
                                 0);
                if ((int) strv_length(problems) != cases[k].problems) {
                        for (char **p = problems; p && *p; p++)
                                print_message("%zu: %s\n", k, *p);
                        fail_msg("case %zu", k);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auto_role_effective),
                cmocka_unit_test(test_merge_order),
                cmocka_unit_test(test_problems_name_path_and_source),
                cmocka_unit_test(test_incomplete_roles),
                cmocka_unit_test(test_secret_files_and_worker),
                cmocka_unit_test(test_secret_store_schema),
                cmocka_unit_test(test_secret_store_merge_and_partial),
                cmocka_unit_test(test_secret_store_needs_on_the_merge),
                cmocka_unit_test(test_secret_store_failure_is_no_problem),
                cmocka_unit_test(test_userdata_secrets),
                cmocka_unit_test(test_ca_key_given_twice),
                cmocka_unit_test(test_seed_rules),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_validate_document_versions),
        };
        return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
