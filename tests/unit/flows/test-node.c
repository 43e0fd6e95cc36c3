/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One node's run (firstboot/flows/node.c, fb_node_new): what a node takes from its configuration, its
 * instance and, for a joiner, the cluster's documents; and the errors that name the field at fault.
 */
#include <errno.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config.h"
#include "firstboot/flows/node.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "tests/unit/unit.h"

#define CERTKEY "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204"
#define JOINKEY "0000000000000000000000000000000000000000000000000000000000000001"

static int setup(void **state) {
        return unit_node_env_setup(state, "i-0002", "cp-2", "10.0.0.11");
}

static int teardown(void **state) {
        return unit_node_env_teardown(state);
}

/* Loads yaml (kubeadm's documents and ours) over e->inst, as a partial configuration. */
static const struct fb_config *configure(struct unit_node_env *e, const char *yaml) {
        return unit_node_env_configure(e, yaml);
}

/* The one document of a YAML text. */
static cJSON *yaml(const char *text) {
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        struct yaml_error err = {};
        if (yaml_parse_documents(text, strlen(text), &docs, &err) < 0)
                fail_msg("yaml line %u: %s", err.line, err.message);
        assert_int_equal(cJSON_GetArraySize(docs), 1);
        return cJSON_DetachItemFromArray(docs, 0);
}

static int64_t max_pods(const cJSON *kubelet) {
        int64_t v = -1;
        assert_int_equal(json_get_int64(kubelet, "maxPods", &v), 0);
        return v;
}

/* fb_node_new expecting failure r with why naming what; *ret untouched. */
static void node_fails(struct unit_node_env *e, enum fb_role role, const struct fb_cluster_view *view, int r,
                       const char *what) {
        struct fb_node *n = (struct fb_node *) 0x1;
        struct error why = {};
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, role, view, &n, &why), r);
        if (!strstr(why.message, what))
                fail_msg("'%s' does not say '%s'", why.message, what);
        assert_ptr_equal(n, (struct fb_node *) 0x1);
}

static const struct mf_arg *arg(const struct mf_arg *a, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(a[i].name, name))
                        return &a[i];
        return NULL;
}

static const char init_yaml[] =
        "apiVersion: kube-firstboot.io/v1alpha1\n"
        "kind: FirstbootConfiguration\n"
        "role: init\n"
        "secrets: {certificateKey: {value: " CERTKEY "}}\n"
        "kubelet: {startCommand: [/bin/true, --started]}\n"
        "---\n"
        "apiVersion: kubeadm.k8s.io/v1beta4\n"
        "kind: InitConfiguration\n"
        "localAPIEndpoint: {bindPort: 7443}\n"
        "timeouts: {controlPlaneComponentHealthCheck: 7m}\n"
        "nodeRegistration:\n"
        "  criSocket: unix:///run/crio/crio.sock\n"
        "  taints:\n"
        "  - {key: dedicated, value: infra, effect: NoSchedule}\n"
        "  - {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}\n"
        "  - {key: no-effect}\n"
        "  kubeletExtraArgs:\n"
        "  - {name: node-labels, value: 'tier=cp'}\n"
        "  - {name: v, value: '4'}\n"
        "---\n"
        "apiVersion: kubeadm.k8s.io/v1beta4\n"
        "kind: ClusterConfiguration\n"
        "kubernetesVersion: v1.34.1\n"
        "clusterName: prod\n"
        "controlPlaneEndpoint: k8s.example.com:6443\n"
        "imageRepository: mirror.example.com/k8s\n"
        "networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.112.0.0/12, dnsDomain: corp.local}\n"
        "etcd:\n"
        "  local:\n"
        "    dataDir: /srv/etcd\n"
        "    imageTag: 3.5.99-0\n"
        "    extraArgs: [{name: quota-backend-bytes, value: '8589934592'}]\n"
        "apiServer:\n"
        "  extraArgs: [{name: audit-log-path, value: /var/log/audit.log}, {name: profiling, value: 'false'}]\n"
        "  extraVolumes:\n"
        "  - {name: audit, hostPath: /var/log, mountPath: /var/log, readOnly: true, pathType: Directory}\n"
        "  - {name: incomplete, hostPath: /x}\n"
        "  extraEnvs: [{name: GOMAXPROCS, value: '2'}]\n"
        "controllerManager:\n"
        "  extraArgs: [{name: node-cidr-mask-size, value: '25'}]\n"
        "---\n"
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "maxPods: 42\n";

static void test_init_node_from_configuration_and_instance(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        struct error why = {};
        char hn[256] = "";

        configure(e, init_yaml);
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_INIT, NULL, &n, &why), 0);
        assert_int_equal(n->role, FB_ROLE_INIT);
        assert_ptr_equal(n->config, e->config);
        assert_ptr_equal(n->instance, e->inst);
        assert_string_equal(n->root, e->root);

        /* The version and its row. */
        assert_string_equal(n->kubernetes_version, "v1.34.1");
        assert_int_equal(n->versions->minor, 34);

        /* The PKI: the node name and address from the instance, the port from InitConfiguration. */
        assert_string_equal(n->pki.node_name, "cp-2");
        assert_string_equal(n->pki.advertise_address, "10.0.0.11");
        assert_int_equal(n->pki.bind_port, 7443);
        assert_string_equal(n->pki.cluster_name, "prod");
        assert_false(n->pki.external_etcd);
        assert_string_equal(n->local_api_url, "https://10.0.0.11:7443");
        assert_string_equal(n->api_url, "https://k8s.example.com:6443");

        /* The static pods. */
        assert_string_equal(n->cp.kubernetes_version, "v1.34.1");
        assert_string_equal(n->cp.image_repository, "mirror.example.com/k8s");
        assert_string_equal(n->cp.node_name, "cp-2");
        assert_string_equal(n->cp.advertise_address, "10.0.0.11");
        assert_int_equal(n->cp.bind_port, 7443);
        assert_string_equal(n->cp.cluster_name, "prod");
        assert_string_equal(n->cp.service_subnet, "10.112.0.0/12");
        assert_string_equal(n->cp.pod_subnet, "10.244.0.0/16");
        assert_string_equal(n->cp.dns_domain, "corp.local");
        assert_int_equal(n->cp.health_check_timeout_s, 420);
        assert_string_equal(n->cp.etcd_data_dir, "/srv/etcd");
        assert_string_equal(n->cp.etcd_image_tag, "3.5.99-0");
        assert_null(n->cp.etcd_external_endpoints);
        assert_string_equal(n->cp.root, e->root);

        const struct mf_component_extras *api = &n->cp.extras[MF_KUBE_APISERVER];
        assert_int_equal(api->n_args, 2);
        assert_string_equal(arg(api->args, api->n_args, "audit-log-path")->value, "/var/log/audit.log");
        assert_string_equal(arg(api->args, api->n_args, "profiling")->value, "false");
        assert_int_equal(api->n_volumes, 1); /* the incomplete one is left out */
        assert_string_equal(api->volumes[0].name, "audit");
        assert_string_equal(api->volumes[0].host_path, "/var/log");
        assert_string_equal(api->volumes[0].mount_path, "/var/log");
        assert_true(api->volumes[0].read_only);
        assert_string_equal(api->volumes[0].path_type, "Directory");
        assert_int_equal(api->n_envs, 1);
        assert_string_equal(api->envs[0].value, "2");
        const struct mf_component_extras *kcm = &n->cp.extras[MF_KUBE_CONTROLLER_MANAGER];
        assert_int_equal(kcm->n_args, 1);
        assert_string_equal(kcm->args[0].value, "25");
        assert_int_equal(n->cp.extras[MF_KUBE_SCHEDULER].n_args, 0);
        assert_int_equal(n->cp.extras[MF_ETCD].n_args, 1);
        assert_string_equal(n->cp.extras[MF_ETCD].args[0].name, "quota-backend-bytes");

        /* The kubelet. */
        assert_string_equal(n->kubelet.kubernetes_version, "v1.34.1");
        assert_string_equal(n->kubelet.image_repository, "mirror.example.com/k8s");
        assert_string_equal(n->kubelet.node_name, "cp-2");
        assert_int_equal(gethostname(hn, sizeof(hn)), 0);
        assert_string_equal(n->kubelet.hostname, hn);
        assert_string_equal(n->kubelet.cri_socket, "unix:///run/crio/crio.sock");
        assert_string_equal(n->kubelet.service_subnet, "10.112.0.0/12");
        assert_string_equal(n->kubelet.dns_domain, "corp.local");
        assert_false(n->kubelet.worker);
        assert_false(n->kubelet.resolved_active); /* no systemd-resolved under this root */
        assert_non_null(n->kubelet.taints);
        assert_string_equal(n->kubelet.taints[0], "dedicated=infra:NoSchedule");
        assert_string_equal(n->kubelet.taints[1], "node-role.kubernetes.io/control-plane:NoSchedule");
        assert_null(n->kubelet.taints[2]); /* a taint without an effect is left out */
        assert_int_equal(n->kubelet.n_extra_args, 2);
        assert_string_equal(arg(n->kubelet.extra_args, 2, "node-labels")->value, "tier=cp");
        assert_int_equal(max_pods(n->kubelet_user_config), 42);
        assert_ptr_equal(n->kubelet_user_config, fb_config_settings(e->config)->kubelet_configuration);
        assert_ptr_equal(n->cluster, fb_config_settings(e->config)->cluster);
        assert_int_equal(strv_length(n->kubelet_start_command), 2);
        assert_string_equal(n->kubelet_start_command[0], "/bin/true");
        assert_string_equal(n->kubelet_start_command[1], "--started");

        /* The configured certificate key. */
        assert_string_equal(n->certificate_key, CERTKEY);
        assert_false(n->certificate_key_generated);
        assert_null(n->join);
        assert_null(n->admin);
}

static void test_defaults(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        struct error why = {};

        /* systemd-resolved runs on this root. */
        unit_write(e->root, "/run/systemd/resolve/resolv.conf", "nameserver 127.0.0.53\n");
        configure(e, "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n");
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_INIT, NULL, &n, &why), 0);
        assert_true(n->kubelet.resolved_active);

        /* The newest minor this build knows; no endpoint: the API is this node's. */
        size_t k;
        const struct mf_versions *all = mf_versions_all(&k);
        assert_string_equal(n->kubernetes_version, all[k - 1].newest_patch);
        assert_int_equal(n->pki.bind_port, 6443);
        assert_string_equal(n->api_url, "https://10.0.0.11:6443");
        assert_string_equal(n->local_api_url, "https://10.0.0.11:6443");
        assert_int_equal(n->cp.health_check_timeout_s, 240);
        assert_null(n->kubelet.taints == NULL ? NULL : n->kubelet.taints[1]);
        assert_int_equal(n->kubelet.n_extra_args, 0);
        for (size_t c = 0; c < _MF_COMPONENT_MAX; c++)
                assert_int_equal(n->cp.extras[c].n_args + n->cp.extras[c].n_volumes + n->cp.extras[c].n_envs,
                                 0);

        /* kubeadm's way to start the kubelet. */
        assert_int_equal(strv_length(n->kubelet_start_command), 4);
        assert_string_equal(n->kubelet_start_command[0], "systemctl");
        assert_string_equal(n->kubelet_start_command[3], "kubelet");

        /* init without a certificate key makes one for this run. */
        assert_non_null(n->certificate_key);
        assert_int_equal(strlen(n->certificate_key), 64);
        assert_int_equal(strspn(n->certificate_key, "0123456789abcdef"), 64);
        assert_true(n->certificate_key_generated);
}

static void test_proxy_environment(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        static const char *const names[] = {"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
                                            "https_proxy", "NO_PROXY",   "no_proxy"};
        struct error why = {};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                assert_int_equal(unsetenv(names[i]), 0);
        assert_int_equal(setenv("HTTPS_PROXY", "http://proxy:3128", 1), 0);
        assert_int_equal(setenv("no_proxy", "10.0.0.0/8", 1), 0);
        configure(e, "apiVersion: kube-firstboot.io/v1alpha1\nkind: FirstbootConfiguration\nrole: init\n");
        int r = fb_node_new(e->root, e->config, e->inst, FB_ROLE_INIT, NULL, &n, &why);
        (void) unsetenv("HTTPS_PROXY");
        (void) unsetenv("no_proxy");
        assert_int_equal(r, 0);
        assert_int_equal(n->cp.n_proxy_env, 2);
        assert_string_equal(n->cp.proxy_env[0].name, "HTTPS_PROXY");
        assert_string_equal(n->cp.proxy_env[0].value, "http://proxy:3128");
        assert_string_equal(n->cp.proxy_env[1].name, "no_proxy");
        assert_string_equal(n->cp.proxy_env[1].value, "10.0.0.0/8");
}

static const char join_yaml[] = "apiVersion: kube-firstboot.io/v1alpha1\n"
                                "kind: FirstbootConfiguration\n"
                                "role: control-plane\n"
                                "---\n"
                                "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                "kind: JoinConfiguration\n"
                                "nodeRegistration:\n"
                                "  criSocket: unix:///run/join.sock\n"
                                "  taints: [{key: joined, effect: NoExecute}]\n"
                                "controlPlane:\n"
                                "  localAPIEndpoint: {bindPort: 8443}\n"
                                "  certificateKey: '" JOINKEY "'\n"
                                "timeouts: {controlPlaneComponentHealthCheck: 1m30s}\n"
                                "---\n"
                                "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                "kind: ClusterConfiguration\n"
                                "kubernetesVersion: v1.36.1\n"
                                "controlPlaneEndpoint: own.example.com:6443\n"
                                "---\n"
                                "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                "kind: KubeletConfiguration\n"
                                "maxPods: 42\n";

/* What the cluster says (kubeadm-config and kubelet-config) wins over the joiner's own documents. */
static void test_joiner_takes_the_cluster_view(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        _cleanup_(cJSON_Deletep) cJSON *cluster = yaml("apiVersion: kubeadm.k8s.io/v1beta4\n"
                                                       "kind: ClusterConfiguration\n"
                                                       "kubernetesVersion: v1.35.2\n"
                                                       "clusterName: theirs\n"
                                                       "controlPlaneEndpoint: lb.example.com:6443\n"
                                                       "networking: {serviceSubnet: 10.200.0.0/16}\n"
                                                       "scheduler: {extraArgs: [{name: v, value: '2'}]}\n");
        _cleanup_(cJSON_Deletep) cJSON *kubelet =
                yaml("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 7\n");
        struct fb_cluster_view view = {cluster, kubelet};
        struct error why = {};

        configure(e, join_yaml);
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_CONTROL_PLANE, &view, &n, &why),
                         0);
        assert_string_equal(n->kubernetes_version, "v1.35.2");
        assert_int_equal(n->versions->minor, 35);
        assert_string_equal(n->pki.cluster_name, "theirs");
        assert_string_equal(n->cp.service_subnet, "10.200.0.0/16");
        assert_string_equal(n->api_url, "https://lb.example.com:6443");
        assert_int_equal(n->cp.extras[MF_KUBE_SCHEDULER].n_args, 1);
        /* Copies: the caller may free the view. */
        assert_ptr_not_equal(n->cluster->document, cluster);
        assert_ptr_not_equal(n->cluster, fb_config_settings(e->config)->cluster);
        assert_string_equal(n->cluster->cluster_name, "theirs");
        assert_string_equal(json_get_string(n->cluster->document, "clusterName"), "theirs");
        assert_int_equal(max_pods(n->kubelet_user_config), 7);
        assert_ptr_not_equal(n->kubelet_user_config, kubelet);

        /* Its own node: JoinConfiguration's registration, port, timeout and certificate key. */
        assert_string_equal(n->pki.node_name, "cp-2");
        assert_string_equal(n->pki.advertise_address, "10.0.0.11");
        assert_int_equal(n->pki.bind_port, 8443);
        assert_string_equal(n->local_api_url, "https://10.0.0.11:8443");
        assert_string_equal(n->kubelet.cri_socket, "unix:///run/join.sock");
        assert_string_equal(n->kubelet.taints[0], "joined:NoExecute");
        assert_int_equal(n->cp.health_check_timeout_s, 90);
        assert_false(n->kubelet.worker);
        assert_string_equal(n->certificate_key, JOINKEY);
        assert_false(n->certificate_key_generated);
}

static void test_joiner_without_a_view_uses_its_own_documents(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        struct error why = {};

        configure(e, join_yaml);
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_CONTROL_PLANE, NULL, &n, &why), 0);
        assert_string_equal(n->kubernetes_version, "v1.36.1");
        assert_string_equal(n->api_url, "https://own.example.com:6443");
        assert_ptr_equal(n->cluster, fb_config_settings(e->config)->cluster);
        assert_ptr_equal(n->kubelet_user_config, fb_config_settings(e->config)->kubelet_configuration);
}

static void test_worker(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        struct error why = {};

        configure(e, "apiVersion: kube-firstboot.io/v1alpha1\n"
                     "kind: FirstbootConfiguration\n"
                     "role: worker\n"
                     "---\n"
                     "apiVersion: kubeadm.k8s.io/v1beta4\n"
                     "kind: JoinConfiguration\n"
                     "nodeRegistration: {taints: [{key: gpu, value: 'true', effect: NoSchedule}]}\n"
                     "---\n"
                     "apiVersion: kubeadm.k8s.io/v1beta4\n"
                     "kind: ClusterConfiguration\n"
                     "controlPlaneEndpoint: lb.example.com:6443\n"
                     "kubernetesVersion: v1.33.3\n");
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_WORKER, NULL, &n, &why), 0);
        assert_true(n->kubelet.worker);
        assert_string_equal(n->kubelet.taints[0], "gpu=true:NoSchedule");
        assert_null(n->local_api_url); /* no apiserver of its own */
        assert_string_equal(n->api_url, "https://lb.example.com:6443");
        assert_null(n->certificate_key); /* a worker never sees one */
        assert_false(n->certificate_key_generated);
        assert_int_equal(n->versions->minor, 33);
}

static void test_external_etcd(void **state) {
        struct unit_node_env *e = *state;
        _cleanup_(fb_node_freep) struct fb_node *n = NULL;
        struct error why = {};

        configure(e, "apiVersion: kube-firstboot.io/v1alpha1\n"
                     "kind: FirstbootConfiguration\n"
                     "role: init\n"
                     "---\n"
                     "apiVersion: kubeadm.k8s.io/v1beta4\n"
                     "kind: ClusterConfiguration\n"
                     "etcd:\n"
                     "  external:\n"
                     "    endpoints: [https://10.1.0.1:2379, https://10.1.0.2:2379]\n"
                     "    caFile: /etc/etcd/ca.crt\n"
                     "    certFile: /etc/etcd/client.crt\n"
                     "    keyFile: /etc/etcd/client.key\n");
        assert_int_equal(fb_node_new(e->root, e->config, e->inst, FB_ROLE_INIT, NULL, &n, &why), 0);
        assert_true(n->pki.external_etcd);
        assert_non_null(n->cp.etcd_external_endpoints);
        assert_string_equal(n->cp.etcd_external_endpoints[0], "https://10.1.0.1:2379");
        assert_string_equal(n->cp.etcd_external_endpoints[1], "https://10.1.0.2:2379");
        assert_null(n->cp.etcd_external_endpoints[2]);
        assert_string_equal(n->cp.etcd_external_ca_file, "/etc/etcd/ca.crt");
        assert_string_equal(n->cp.etcd_external_cert_file, "/etc/etcd/client.crt");
        assert_string_equal(n->cp.etcd_external_key_file, "/etc/etcd/client.key");
}

/* The errors name the field: the cases a configuration that passed validation can still meet (a role not
 * yet decided, what the cluster's own kubeadm-config says). */
static void test_errors_name_the_field(void **state) {
        struct unit_node_env *e = *state;
        configure(e, join_yaml);

        node_fails(e, FB_ROLE_AUTO, NULL, -EINVAL, "the role must be decided before the node is set up");
        node_fails(e, (enum fb_role) - EINVAL, NULL, -EINVAL, "the role must be decided");

        static const struct {
                const char *cluster, *what;
        } cases[] = {
                {"kubernetesVersion: v1.29.4\n", "ClusterConfiguration.kubernetesVersion: "},
                {"kubernetesVersion: banana\n", "ClusterConfiguration.kubernetesVersion: "},
                {"etcd: {external: {caFile: /ca.crt}}\n",
                 "ClusterConfiguration.etcd.external.endpoints: at least one endpoint is needed"},
                {"etcd: {external: {endpoints: []}}\n", "ClusterConfiguration.etcd.external.endpoints"},
                {"etcd: {local: {dataDir: /a}, external: {endpoints: [https://e:2379]}}\n",
                 "'etcd.local' and 'etcd.external' exclude each other."},
                {"certificatesDir: relative/pki\n",
                 "'certificatesDir' must be an absolute path, not 'relative/pki'."},
                {"encryptionAlgorithm: DSA-1024\n", "'encryptionAlgorithm' takes RSA-2048"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = strdupf("apiVersion: kubeadm.k8s.io/v1beta4\n"
                                                    "kind: ClusterConfiguration\n%s",
                                                    cases[i].cluster);
                _cleanup_(cJSON_Deletep) cJSON *cluster = yaml(text);
                struct fb_cluster_view view = {cluster, NULL};
                node_fails(e, FB_ROLE_CONTROL_PLANE, &view, -EINVAL, cases[i].what);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_init_node_from_configuration_and_instance, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proxy_environment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_joiner_takes_the_cluster_view, setup, teardown),
                cmocka_unit_test_setup_teardown(test_joiner_without_a_view_uses_its_own_documents, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_worker, setup, teardown),
                cmocka_unit_test_setup_teardown(test_external_etcd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors_name_the_field, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
