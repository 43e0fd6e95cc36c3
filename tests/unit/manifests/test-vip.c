/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control-plane VIP's files (manifests/vip.c).
 *
 * kube-vip's manifest is checked field by field against kube-vip's own documentation: the "Example ARP
 * Manifest" of its "Static Pods" page (kube-vip/website, content/docs/installation/static.md, commit
 * 023e95dee8589560394c86012903bb7b2840e4ea), which is what `kube-vip manifest pod --interface $INTERFACE
 * --address $VIP --controlplane --services --arp --leaderElection` prints, and kubeadm's HA page
 * (kubernetes/kubeadm docs/ha-considerations.md, "kube-vip", the same example without svc_enable). Where
 * ours differs, on purpose, the test says so:
 *   - no svc_enable: control plane only (no --services; the kubeadm page's example has none either);
 *   - imagePullPolicy IfNotPresent instead of Always: a first boot from an image with the image pulled
 *     beforehand must not need the registry;
 *   - the image tag (the page shows v0.4.0);
 *   - the kubeconfig's hostPath: /etc/kubernetes/super-admin.conf on the init node until the cluster's RBAC
 *     exists (kube-vip/kube-vip#684: from Kubernetes 1.29 admin.conf has no rights until
 * kubeadm:cluster-admins is bound), admin.conf after and on joiners; the mountPath stays
 * /etc/kubernetes/admin.conf, where kube-vip reads it;
 *   - the volume's mount is readOnly (kube-vip only reads it).
 */
#include <errno.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "manifests/vip.h"
#include "tests/unit/unit.h"

static cJSON *parse(const char *yaml) {
        cJSON *docs = NULL;
        struct yaml_error err = {};
        assert_int_equal(yaml_parse_documents(yaml, strlen(yaml), &docs, &err), 0);
        cJSON *pod = cJSON_DetachItemFromArray(docs, 0);
        cJSON_Delete(docs);
        assert_non_null(pod);
        return pod;
}

static const char *file_of(struct mf_file *f, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (streq(f[i].path, path))
                        return f[i].content;
        return NULL;
}

static void check_strs(const cJSON *list, const char *const *want) {
        size_t n = 0;
        for (; want[n]; n++)
                assert_string_equal(cJSON_GetArrayItem(list, (int) n)->valuestring, want[n]);
        assert_int_equal(cJSON_GetArraySize(list), (int) n);
}

static void check_kube_vip(bool super_admin) {
        struct mf_vip_spec s = {.kube_vip = true,
                                .address = "192.168.0.40",
                                .port = 6443,
                                .interface = "ens192",
                                .node_address = "192.168.0.11",
                                .apiserver_port = 6443,
                                .kube_vip_super_admin = super_admin};
        struct mf_file *files = NULL;
        size_t n = 0;
        assert_int_equal(mf_vip_files(&s, &files, &n), 0);
        assert_int_equal(n, 1);
        const char *yaml = file_of(files, n, "/etc/kubernetes/manifests/kube-vip.yaml");
        assert_non_null(yaml);
        _cleanup_(cJSON_Deletep) cJSON *pod = parse(yaml);
        mf_files_free(files, n);

        /* apiVersion: v1, kind: Pod, metadata: {creationTimestamp: null, name: kube-vip, namespace:
         * kube-system} */
        assert_string_equal(json_get_string(pod, "apiVersion"), "v1");
        assert_string_equal(json_get_string(pod, "kind"), "Pod");
        assert_true(cJSON_IsNull(json_get(pod, "metadata.creationTimestamp")));
        assert_string_equal(json_get_string(pod, "metadata.name"), "kube-vip");
        assert_string_equal(json_get_string(pod, "metadata.namespace"), "kube-system");
        /* spec.containers: exactly one, args [manager] */
        const cJSON *cs = json_get(pod, "spec.containers");
        assert_int_equal(cJSON_GetArraySize(cs), 1);
        const cJSON *c = cJSON_GetArrayItem(cs, 0);
        check_strs(json_get(c, "args"), (const char *const[]){"manager", NULL});
        assert_null(json_get(c, "command")); /* the image's entrypoint (/kube-vip) runs "manager" */
        /* env, in the page's order, svc_enable left out (control plane only) */
        static const char *const env[][2] = {
                {"vip_arp", "true"},         {"port", "6443"},
                {"vip_interface", "ens192"}, {"vip_cidr", "32"},
                {"cp_enable", "true"},       {"cp_namespace", "kube-system"},
                {"vip_ddns", "false"},       {"vip_leaderelection", "true"},
                {"vip_leaseduration", "5"},  {"vip_renewdeadline", "3"},
                {"vip_retryperiod", "1"},    {"address", "192.168.0.40"},
        };
        const cJSON *e = json_get(c, "env");
        assert_int_equal(cJSON_GetArraySize(e), (int) ELEMENTSOF(env));
        for (size_t i = 0; i < ELEMENTSOF(env); i++) {
                const cJSON *v = cJSON_GetArrayItem(e, (int) i);
                assert_string_equal(json_get_string(v, "name"), env[i][0]);
                /* every value a string, as the page quotes "true" and "6443" */
                assert_true(cJSON_IsString(json_get(v, "value")));
                assert_string_equal(json_get_string(v, "value"), env[i][1]);
        }
        /* image ghcr.io/kube-vip/kube-vip:<tag>, name kube-vip, resources {} */
        assert_true(startswith(json_get_string(c, "image"), "ghcr.io/kube-vip/kube-vip:v"));
        assert_string_equal(json_get_string(c, "imagePullPolicy"), "IfNotPresent"); /* page: Always */
        assert_string_equal(json_get_string(c, "name"), "kube-vip");
        assert_true(cJSON_IsObject(json_get(c, "resources")));
        assert_int_equal(cJSON_GetArraySize(json_get(c, "resources")), 0);
        /* securityContext.capabilities.add [NET_ADMIN, NET_RAW, SYS_TIME] */
        check_strs(json_get(c, "securityContext.capabilities.add"),
                   (const char *const[]){"NET_ADMIN", "NET_RAW", "SYS_TIME", NULL});
        /* volumeMounts: [{mountPath: /etc/kubernetes/admin.conf, name: kubeconfig}] */
        const cJSON *m = json_get(c, "volumeMounts");
        assert_int_equal(cJSON_GetArraySize(m), 1);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(m, 0), "mountPath"),
                            "/etc/kubernetes/admin.conf");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(m, 0), "name"), "kubeconfig");
        /* hostAliases: [{hostnames: [kubernetes], ip: 127.0.0.1}], hostNetwork: true */
        const cJSON *ha = json_get(pod, "spec.hostAliases");
        assert_int_equal(cJSON_GetArraySize(ha), 1);
        check_strs(json_get(cJSON_GetArrayItem(ha, 0), "hostnames"),
                   (const char *const[]){"kubernetes", NULL});
        assert_string_equal(json_get_string(cJSON_GetArrayItem(ha, 0), "ip"), "127.0.0.1");
        assert_true(cJSON_IsTrue(json_get(pod, "spec.hostNetwork")));
        /* volumes: [{hostPath: {path: <the phase's kubeconfig>}, name: kubeconfig}] */
        const cJSON *v = json_get(pod, "spec.volumes");
        assert_int_equal(cJSON_GetArraySize(v), 1);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 0), "name"), "kubeconfig");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 0), "hostPath.path"),
                            super_admin ? "/etc/kubernetes/super-admin.conf" : "/etc/kubernetes/admin.conf");
        assert_null(json_get(cJSON_GetArrayItem(v, 0), "hostPath.type"));
        /* status: {} */
        assert_true(cJSON_IsObject(json_get(pod, "status")));
}

static void test_kube_vip_init_phase_super_admin(void **state) {
        (void) state;
        check_kube_vip(true);
}

static void test_kube_vip_after_init_and_joiners_admin(void **state) {
        (void) state;
        check_kube_vip(false);
}

static void test_keepalived_files(void **state) {
        (void) state;
        char *const backends[] = {"10.0.0.12", "10.0.0.13", NULL};
        struct mf_vip_spec s = {.address = "10.0.0.50",
                                .port = 8443,
                                .interface = "eth0",
                                .virtual_router_id = 51,
                                .password = "s3cret",
                                .node_address = "10.0.0.11",
                                .apiserver_port = 6443,
                                .backends = backends,
                                .priority = 120};
        struct mf_file *files = NULL;
        size_t n = 0;
        assert_int_equal(mf_vip_files(&s, &files, &n), 0);
        assert_int_equal(n, 5);
        const char *conf = file_of(files, n, MF_KEEPALIVED_CONF), *cfg = file_of(files, n, MF_HAPROXY_CFG),
                   *check = file_of(files, n, MF_KEEPALIVED_CHECK);
        assert_non_null(strstr(conf, "    interface eth0\n"));
        assert_non_null(strstr(conf, "    virtual_router_id 51\n"));
        assert_non_null(strstr(conf, "    priority 120\n"));
        assert_non_null(strstr(conf, "    state BACKUP\n    nopreempt\n"));
        assert_non_null(strstr(conf, "        auth_type PASS\n        auth_pass s3cret\n"));
        assert_non_null(strstr(conf, "    virtual_ipaddress {\n        10.0.0.50\n    }\n"));
        assert_non_null(strstr(check, "https://10.0.0.11:6443/healthz"));
        assert_non_null(strstr(check, "https://10.0.0.50:8443/healthz"));
        /* every backend and this node, once */
        assert_non_null(strstr(cfg, "    bind *:8443\n"));
        assert_non_null(strstr(cfg, "server apiserver-10-0-0-12 10.0.0.12:6443\n"));
        assert_non_null(strstr(cfg, "server apiserver-10-0-0-13 10.0.0.13:6443\n"));
        assert_non_null(strstr(cfg, "server apiserver-10-0-0-11 10.0.0.11:6443\n"));
        for (size_t i = 0; i < n; i++) {
                if (streq(files[i].path, MF_KEEPALIVED_CONF))
                        assert_int_equal(files[i].mode, 0600);
                else
                        assert_null(strstr(files[i].content, "s3cret")); /* the password only there */
        }
        _cleanup_(cJSON_Deletep) cJSON *kp =
                parse(file_of(files, n, "/etc/kubernetes/manifests/keepalived.yaml"));
        _cleanup_(cJSON_Deletep) cJSON *hp =
                parse(file_of(files, n, "/etc/kubernetes/manifests/haproxy.yaml"));
        /* kubeadm's HA page: keepalived's capabilities and mounts, hostNetwork; haproxy's probe on its port
         */
        check_strs(json_get(cJSON_GetArrayItem(json_get(kp, "spec.containers"), 0),
                            "securityContext.capabilities.add"),
                   (const char *const[]){"NET_ADMIN", "NET_BROADCAST", "NET_RAW", NULL});
        assert_true(cJSON_IsTrue(json_get(kp, "spec.hostNetwork")));
        const cJSON *hc = cJSON_GetArrayItem(json_get(hp, "spec.containers"), 0);
        int64_t port = 0;
        assert_int_equal(json_get_int64(hc, "livenessProbe.httpGet.port", &port), 0);
        assert_int_equal(port, 8443);
        assert_string_equal(json_get_string(hc, "livenessProbe.httpGet.scheme"), "HTTPS");
        mf_files_free(files, n);

        /* keepalived's auth_pass takes 8 characters at most */
        s.password = "longer-than-8";
        assert_int_equal(mf_vip_files(&s, &files, &n), -EINVAL);
        s.password = NULL;
        s.interface = NULL;
        assert_int_equal(mf_vip_files(&s, &files, &n), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kube_vip_init_phase_super_admin),
                cmocka_unit_test(test_kube_vip_after_init_and_joiners_admin),
                cmocka_unit_test(test_keepalived_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
