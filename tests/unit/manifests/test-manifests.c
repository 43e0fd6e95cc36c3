/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/yamlutil.h"
#include "manifests/kubelet.h"
#include "manifests/staticpod.h"
#include "tests/unit/unit.h"

static struct mf_control_plane_spec base(const char *version) {
        return (struct mf_control_plane_spec){
                .kubernetes_version = version,
                .node_name = "cp-1",
                .advertise_address = "10.0.0.11",
                .pod_subnet = "10.244.0.0/16",
                .root = "/nonexistent-root",
        };
}

static const cJSON *container(const cJSON *pod) {
        return cJSON_GetArrayItem(json_get(pod, "spec.containers"), 0);
}

/* The command line as one string, "kube-apiserver --a=b --c=d". */
static char *command_line(const cJSON *pod) {
        const cJSON *cmd = json_get(container(pod), "command"), *c;
        size_t n = 0;
        char *s;
        cJSON_ArrayForEach(c, cmd)
                n += strlen(c->valuestring) + 1;
        s = calloc(1, n + 1);
        cJSON_ArrayForEach(c, cmd) {
                if (*s)
                        strcat(s, " ");
                strcat(s, c->valuestring);
        }
        return s;
}

/* kubeadm sorts flags by name (then value): "--initial-cluster" before "--initial-cluster-state". */
static void assert_sorted_flags(const cJSON *pod) {
        const cJSON *cmd = json_get(container(pod), "command");
        for (int i = 2; i < cJSON_GetArraySize(cmd); i++) {
                const char *a = cJSON_GetArrayItem(cmd, i - 1)->valuestring;
                const char *b = cJSON_GetArrayItem(cmd, i)->valuestring;
                size_t la = strcspn(a, "="), lb = strcspn(b, "=");
                int r = strncmp(a, b, la < lb ? la : lb);
                assert_true(r < 0 || (r == 0 && (la < lb || (la == lb && strcmp(a, b) <= 0))));
        }
}

static void test_apiserver_defaults_133(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.33.4");
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
        _cleanup_free_ char *cmd = NULL;

        assert_int_equal(mf_static_pod(&s, MF_KUBE_APISERVER, &pod), 0);
        cmd = command_line(pod);
        assert_non_null(
                strstr(cmd, "kube-apiserver --advertise-address=10.0.0.11 --allow-privileged=true "
                            "--authorization-mode=Node,RBAC --client-ca-file=/etc/kubernetes/pki/ca.crt"));
        assert_non_null(strstr(cmd, "--etcd-servers=https://127.0.0.1:2379"));
        assert_non_null(strstr(cmd, "--secure-port=6443"));
        assert_non_null(
                strstr(cmd, "--service-account-issuer=https://kubernetes.default.svc.cluster.local"));
        assert_non_null(strstr(cmd, "--service-cluster-ip-range=10.96.0.0/12"));
        assert_sorted_flags(pod);
        assert_string_equal(json_get_string(container(pod), "image"),
                            "registry.k8s.io/kube-apiserver:v1.33.4");
        const cJSON *ann = json_get(pod, "metadata.annotations");
        assert_string_equal(
                cJSON_GetObjectItem(ann, "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint")
                        ->valuestring,
                "10.0.0.11:6443");
        /* 1.33: numeric probe ports, no container ports. */
        int64_t port;
        assert_int_equal(json_get_int64(container(pod), "livenessProbe.httpGet.port", &port), 0);
        assert_int_equal(port, 6443);
        assert_null(json_get(container(pod), "ports"));
        assert_string_equal(json_get_string(container(pod), "startupProbe.httpGet.path"), "/livez");
        int64_t ft;
        assert_int_equal(json_get_int64(container(pod), "startupProbe.failureThreshold", &ft), 0);
        assert_int_equal(ft, 24);
        assert_string_equal(json_get_string(pod, "spec.priorityClassName"), "system-node-critical");
}

static void test_probe_port_names_from_134(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.34.1");
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;

        assert_int_equal(mf_static_pod(&s, MF_KUBE_SCHEDULER, &pod), 0);
        assert_string_equal(json_get_string(container(pod), "livenessProbe.httpGet.port"), "probe-port");
        const cJSON *port = cJSON_GetArrayItem(json_get(container(pod), "ports"), 0);
        int64_t n;
        assert_int_equal(json_get_int64(port, "containerPort", &n), 0);
        assert_int_equal(n, 10259);
        assert_string_equal(json_get_string(port, "name"), "probe-port");
}

/* kubeadm's ArgumentsToCommand since kubernetes#135400 (backported to every branch we set up): an extra
 * argument replaces every default of its name, the remaining defaults are sorted, and the extras follow in
 * the user's order (--service-account-issuer means something by its order). */
static void test_extra_args_replace_defaults_in_user_order(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.35.0");
        const struct mf_arg extra[] = {
                {"service-account-issuer", "https://new.example"},
                {"authorization-config", "/etc/kubernetes/authz.yaml"},
                {"enable-admission-plugins", "NodeRestriction,PodSecurity"},
                {"service-account-issuer", "https://kubernetes.default.svc.cluster.local"},
                {"audit-log-path", "/var/log/a.log"}};
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
        _cleanup_free_ char *cmd = NULL;

        s.extras[MF_KUBE_APISERVER] =
                (struct mf_component_extras){.args = extra, .n_args = ELEMENTSOF(extra)};
        assert_int_equal(mf_static_pod(&s, MF_KUBE_APISERVER, &pod), 0);
        cmd = command_line(pod);
        assert_null(strstr(cmd, "--authorization-mode"));
        assert_null(strstr(cmd, "--enable-admission-plugins=NodeRestriction "));
        assert_non_null(strstr(cmd, "kube-apiserver --advertise-address=10.0.0.11 --allow-privileged=true "
                                    "--client-ca-file="));
        assert_non_null(strstr(cmd, " --tls-private-key-file=/etc/kubernetes/pki/apiserver.key "
                                    "--service-account-issuer=https://new.example "
                                    "--authorization-config=/etc/kubernetes/authz.yaml "
                                    "--enable-admission-plugins=NodeRestriction,PodSecurity "
                                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local "
                                    "--audit-log-path=/var/log/a.log"));
}

static void test_etcd_init_and_join_by_version(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.33.0");
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL, *pod36 = NULL;
        _cleanup_free_ char *cmd = NULL, *cmd36 = NULL;

        assert_int_equal(mf_static_pod(&s, MF_ETCD, &pod), 0);
        cmd = command_line(pod);
        assert_non_null(strstr(cmd, "--initial-cluster=cp-1=https://10.0.0.11:2380 "));
        assert_null(strstr(cmd, "initial-cluster-state"));
        assert_non_null(strstr(cmd, "--experimental-initial-corrupt-check=true"));
        assert_non_null(strstr(cmd, "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379"));
        assert_string_equal(json_get_string(container(pod), "image"), "registry.k8s.io/etcd:3.5.24-0");
        assert_string_equal(json_get_string(container(pod), "resources.requests.memory"), "100Mi");

        s.kubernetes_version = "v1.35.2";
        s.node_name = "cp-2";
        s.advertise_address = "10.0.0.12";
        s.etcd_join = true;
        s.etcd_initial_cluster = "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380";
        assert_int_equal(mf_static_pod(&s, MF_ETCD, &pod36), 0);
        cmd36 = command_line(pod36);
        assert_non_null(strstr(cmd36, "--feature-gates=InitialCorruptCheck=true"));
        assert_non_null(strstr(cmd36, "--watch-progress-notify-interval=5s"));
        assert_non_null(strstr(cmd36, "--initial-cluster-state=existing"));
        assert_non_null(
                strstr(cmd36, "--initial-cluster=cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380"));
        assert_sorted_flags(pod36);
}

static void test_ipv6_and_external_etcd(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.34.0");
        const char *const eps[] = {"https://10.1.0.1:2379", "https://10.1.0.2:2379", NULL};
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL, *etcd = NULL;
        _cleanup_free_ char *cmd = NULL;

        s.advertise_address = "fd00::11";
        s.etcd_external_endpoints = eps;
        s.etcd_external_ca_file = "/etc/etcd/ca.crt";
        s.etcd_external_cert_file = "/etc/etcd/client.crt";
        s.etcd_external_key_file = "/etc/kubernetes/pki/etcd-client.key";
        assert_int_equal(mf_static_pod(&s, MF_KUBE_APISERVER, &pod), 0);
        cmd = command_line(pod);
        assert_non_null(strstr(cmd, "--etcd-servers=https://10.1.0.1:2379,https://10.1.0.2:2379"));
        assert_non_null(strstr(cmd, "--etcd-cafile=/etc/etcd/ca.crt"));
        const cJSON *ann = json_get(pod, "metadata.annotations");
        assert_string_equal(ann->child->valuestring, "[fd00::11]:6443");
        /* One extra mount for /etc/etcd; the key under the cert dir needs none. */
        int extra = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, json_get(pod, "spec.volumes"))
                extra += strncmp(json_get_string(v, "name"), "etcd-certs", 10) == 0;
        assert_int_equal(extra, 1);
        assert_int_equal(mf_static_pod(&s, MF_ETCD, &etcd), -EINVAL);
}

static void test_unsupported_version(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.30.0");
        cJSON *pod = NULL;
        assert_int_equal(mf_static_pod(&s, MF_KUBE_APISERVER, &pod), -EOPNOTSUPP);
        s.kubernetes_version = "latest";
        assert_int_equal(mf_static_pod(&s, MF_KUBE_APISERVER, &pod), -EINVAL);
        assert_null(pod);
}

static void test_yaml_output_is_kubeadm_shaped(void **state) {
        (void) state;
        struct mf_control_plane_spec s = base("v1.34.0");
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
        _cleanup_free_ char *y = NULL;

        assert_int_equal(mf_static_pod(&s, MF_KUBE_CONTROLLER_MANAGER, &pod), 0);
        assert_int_equal(yaml_emit(pod, &y), 0);
        const char *head = "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n";
        assert_true(strncmp(y, head, strlen(head)) == 0);
        assert_non_null(strstr(
                y, "\n  - command:\n    - kube-controller-manager\n    - --allocate-node-cidrs=true\n"));
        assert_non_null(strstr(y, "status: {}\n"));
        assert_non_null(strstr(y, "- --cluster-signing-key-file=/etc/kubernetes/pki/ca.key\n"));
}

static void test_kubelet_files(void **state) {
        (void) state;
        struct mf_kubelet_spec k = {
                .kubernetes_version = "v1.33.1", .node_name = "cp-1", .hostname = "ip-10-0-0-11"};
        const struct mf_arg extra[] = {{"node-ip", "10.0.0.11"},
                                       {"pod-infra-container-image", "my/pause:1"}};
        _cleanup_free_ char *env = NULL, *env34 = NULL, *wenv = NULL;
        _cleanup_(cJSON_Deletep) cJSON *cfg = NULL, *user = NULL, *inst = NULL;
        const char *const taints[] = {"dedicated=infra:NoSchedule", NULL};

        k.extra_args = extra;
        k.n_extra_args = 2;
        assert_int_equal(mf_kubeadm_flags_env(&k, &env), 0);
        assert_string_equal(env,
                            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/containerd/"
                            "containerd.sock --hostname-override=cp-1 --node-ip=10.0.0.11 "
                            "--pod-infra-container-image=my/pause:1\"\n");
        k.kubernetes_version = "v1.34.0";
        k.extra_args = NULL;
        k.n_extra_args = 0;
        k.hostname = "cp-1";
        assert_int_equal(mf_kubeadm_flags_env(&k, &env34), 0);
        assert_string_equal(
                env34,
                "KUBELET_KUBEADM_ARGS=\"--pod-infra-container-image=registry.k8s.io/pause:3.10.1\"\n");
        k.worker = true;
        k.taints = taints;
        assert_int_equal(mf_kubeadm_flags_env(&k, &wenv), 0);
        assert_non_null(strstr(wenv, "--register-with-taints=dedicated=infra:NoSchedule"));

        const char *u = "clusterDomain: example.internal\nauthentication:\n  anonymous:\n    enabled: "
                        "true\nmaxPods: 50\n";
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        assert_int_equal(yaml_parse_documents(u, strlen(u), &docs, NULL), 0);
        k.service_subnet = "10.100.0.0/16";
        assert_int_equal(mf_kubelet_config(&k, cJSON_GetArrayItem(docs, 0), &cfg), 0);
        assert_string_equal(json_get_string(cfg, "clusterDomain"), "example.internal");
        assert_string_equal(cJSON_GetArrayItem(json_get(cfg, "clusterDNS"), 0)->valuestring, "10.100.0.10");
        bool b;
        assert_int_equal(json_get_bool(cfg, "authentication.anonymous.enabled", &b), 0);
        assert_true(b);
        assert_int_equal(json_get_bool(cfg, "authentication.webhook.enabled", &b), 0);
        assert_true(b);
        assert_string_equal(json_get_string(cfg, "containerRuntimeEndpoint"),
                            "unix:///var/run/containerd/containerd.sock");
        assert_int_equal(mf_kubelet_instance_config(&k, &inst), 0);
        k.kubernetes_version = "v1.33.0";
        cJSON *none = NULL;
        assert_int_equal(mf_kubelet_instance_config(&k, &none), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_apiserver_defaults_133),
                cmocka_unit_test(test_probe_port_names_from_134),
                cmocka_unit_test(test_extra_args_replace_defaults_in_user_order),
                cmocka_unit_test(test_etcd_init_and_join_by_version),
                cmocka_unit_test(test_ipv6_and_external_etcd),
                cmocka_unit_test(test_unsupported_version),
                cmocka_unit_test(test_yaml_output_is_kubeadm_shaped),
                cmocka_unit_test(test_kubelet_files),
        };
        return cmocka_run_group_tests_name("manifests", tests, NULL, NULL);
}
