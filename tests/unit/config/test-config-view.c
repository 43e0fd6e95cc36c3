/* SPDX-License-Identifier: Apache-2.0 */
/* The typed view: fb_cluster_settings_from_json() on no document, on external etcd, and on the
 * ClusterConfiguration a joiner reads from the kubeadm-config ConfigMap. */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/config/config-view.h"
#include "tests/unit/unit.h"

static cJSON *yaml(const char *text) {
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        assert_int_equal(yaml_parse_documents(text, strlen(text), &docs, NULL), 0);
        cJSON *doc = cJSON_DetachItemFromArray(docs, 0);
        assert_non_null(doc);
        return doc;
}

static void test_defaults(void **state) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL, *e = NULL;
        _cleanup_(cJSON_Deletep) cJSON *empty =
                yaml("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n");
        (void) state;

        /* No document: kubeadm's defaults alone. */
        assert_int_equal(fb_cluster_settings_from_json(NULL, &s), 0);
        assert_null(s->document);
        assert_string_equal(s->kubernetes_version, "stable-1");
        assert_null(s->control_plane_endpoint);
        assert_string_equal(s->cluster_name, "kubernetes");
        assert_string_equal(s->certificates_dir, "/etc/kubernetes/pki");
        assert_string_equal(s->image_repository, "registry.k8s.io");
        assert_null(s->networking.pod_subnet);
        assert_string_equal(s->networking.service_subnet, "10.96.0.0/12");
        assert_string_equal(s->networking.dns_domain, "cluster.local");
        assert_false(s->etcd.external);
        assert_string_equal(s->etcd.data_dir, "/var/lib/etcd");
        assert_null(s->etcd.image_tag);
        assert_null(s->etcd.endpoints);
        assert_false(s->dns.disabled);
        assert_null(s->dns.image_repository);
        assert_false(s->proxy.disabled);
        for (size_t i = 0; i < _MF_COMPONENT_MAX; i++) {
                assert_int_equal(s->extras[i].n_args, 0);
                assert_int_equal(s->extras[i].n_volumes, 0);
                assert_int_equal(s->extras[i].n_envs, 0);
        }

        /* An empty document: the same defaults, and the document kept (a copy). */
        assert_int_equal(fb_cluster_settings_from_json(empty, &e), 0);
        assert_non_null(e->document);
        assert_ptr_not_equal(e->document, empty);
        assert_string_equal(e->certificates_dir, "/etc/kubernetes/pki");
        assert_string_equal(e->etcd.data_dir, "/var/lib/etcd");

        /* Not a mapping: refused, *ret untouched. */
        _cleanup_(cJSON_Deletep) cJSON *list = cJSON_CreateArray();
        struct fb_cluster_settings *untouched = (struct fb_cluster_settings *) 0x1;
        assert_int_equal(fb_cluster_settings_from_json(list, &untouched), -EBADMSG);
        assert_ptr_equal(untouched, (struct fb_cluster_settings *) 0x1);
}

static void test_external_etcd(void **state) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc =
                yaml("apiVersion: kubeadm.k8s.io/v1beta4\n"
                     "kind: ClusterConfiguration\n"
                     "etcd:\n"
                     "  external:\n"
                     "    endpoints: [https://10.0.0.5:2379, https://10.0.0.6:2379]\n"
                     "    caFile: /etc/etcd/ca.crt\n"
                     "    certFile: /etc/etcd/client.crt\n"
                     "    keyFile: /etc/etcd/client.key\n"
                     "dns: {disabled: true}\n"
                     "proxy: {disabled: true}\n");
        (void) state;

        assert_int_equal(fb_cluster_settings_from_json(doc, &s), 0);
        assert_true(s->etcd.external);
        assert_null(s->etcd.data_dir); /* no local etcd, no data dir */
        assert_int_equal(strv_length(s->etcd.endpoints), 2);
        assert_string_equal(s->etcd.endpoints[0], "https://10.0.0.5:2379");
        assert_string_equal(s->etcd.endpoints[1], "https://10.0.0.6:2379");
        assert_string_equal(s->etcd.ca_file, "/etc/etcd/ca.crt");
        assert_string_equal(s->etcd.cert_file, "/etc/etcd/client.crt");
        assert_string_equal(s->etcd.key_file, "/etc/etcd/client.key");
        assert_true(s->dns.disabled);
        assert_true(s->proxy.disabled);
}

/* What kubeadm uploads to kube-system/kubeadm-config (data.ClusterConfiguration), as the joiner parses it.
 */
static const char configmap_text[] = "apiServer:\n"
                                     "  certSANs:\n"
                                     "  - lb.example.com\n"
                                     "  extraArgs:\n"
                                     "  - name: audit-log-path\n"
                                     "    value: /var/log/audit.log\n"
                                     "  extraVolumes:\n"
                                     "  - name: audit\n"
                                     "    hostPath: /var/log\n"
                                     "    mountPath: /var/log\n"
                                     "    readOnly: false\n"
                                     "    pathType: DirectoryOrCreate\n"
                                     "  - name: no-paths\n"
                                     "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                     "caCertificateValidityPeriod: 87600h0m0s\n"
                                     "certificateValidityPeriod: 8760h0m0s\n"
                                     "certificatesDir: /srv/pki\n"
                                     "clusterName: prod\n"
                                     "controlPlaneEndpoint: lb.example.com:6443\n"
                                     "controllerManager:\n"
                                     "  extraArgs:\n"
                                     "  - name: bind-address\n"
                                     "    value: 0.0.0.0\n"
                                     "dns:\n"
                                     "  imageRepository: mirror.example.com/coredns\n"
                                     "  imageTag: v1.12.0\n"
                                     "encryptionAlgorithm: RSA-2048\n"
                                     "etcd:\n"
                                     "  local:\n"
                                     "    dataDir: /data/etcd\n"
                                     "    imageTag: 3.5.21-0\n"
                                     "    extraEnvs:\n"
                                     "    - name: ETCD_QUOTA\n"
                                     "      value: \"8589934592\"\n"
                                     "imageRepository: mirror.example.com\n"
                                     "kind: ClusterConfiguration\n"
                                     "kubernetesVersion: v1.35.2\n"
                                     "networking:\n"
                                     "  dnsDomain: corp.local\n"
                                     "  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n"
                                     "  serviceSubnet: 10.96.0.0/16\n"
                                     "proxy: {}\n"
                                     "scheduler: {}\n";

static void test_configmap_document(void **state) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL;
        cJSON *doc = yaml(configmap_text);
        (void) state;

        assert_int_equal(fb_cluster_settings_from_json(doc, &s), 0);
        /* The settings own their copy: the joiner frees the ConfigMap's document. */
        cJSON_Delete(doc);
        assert_string_equal(json_get_string(s->document, "clusterName"), "prod");

        assert_string_equal(s->kubernetes_version, "v1.35.2");
        assert_string_equal(s->control_plane_endpoint, "lb.example.com:6443");
        assert_string_equal(s->cluster_name, "prod");
        assert_string_equal(s->certificates_dir, "/srv/pki");
        assert_string_equal(s->image_repository, "mirror.example.com");
        assert_string_equal(s->networking.pod_subnet, "10.244.0.0/16,fd00:10:244::/56");
        assert_string_equal(s->networking.service_subnet, "10.96.0.0/16");
        assert_string_equal(s->networking.dns_domain, "corp.local");
        assert_false(s->etcd.external);
        assert_string_equal(s->etcd.data_dir, "/data/etcd");
        assert_string_equal(s->etcd.image_tag, "3.5.21-0");
        assert_false(s->dns.disabled);
        assert_string_equal(s->dns.image_repository, "mirror.example.com/coredns");
        assert_string_equal(s->dns.image_tag, "v1.12.0");
        assert_false(s->proxy.disabled);

        const struct mf_component_extras *api = &s->extras[MF_KUBE_APISERVER];
        assert_int_equal(api->n_args, 1);
        assert_string_equal(api->args[0].name, "audit-log-path");
        assert_string_equal(api->args[0].value, "/var/log/audit.log");
        assert_int_equal(api->n_volumes, 1); /* the volume without paths is dropped */
        assert_string_equal(api->volumes[0].host_path, "/var/log");
        assert_string_equal(api->volumes[0].path_type, "DirectoryOrCreate");
        assert_false(api->volumes[0].read_only);
        assert_int_equal(s->extras[MF_KUBE_CONTROLLER_MANAGER].n_args, 1);
        assert_string_equal(s->extras[MF_KUBE_CONTROLLER_MANAGER].args[0].value, "0.0.0.0");
        assert_int_equal(s->extras[MF_KUBE_SCHEDULER].n_args, 0);
        assert_int_equal(s->extras[MF_ETCD].n_envs, 1);
        assert_string_equal(s->extras[MF_ETCD].envs[0].name, "ETCD_QUOTA");
        assert_string_equal(s->extras[MF_ETCD].envs[0].value, "8589934592");
}

/* A version YAML reads as a number is kept as written, as kubeadm reads it. */
static void test_numeric_version(void **state) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc = yaml("kind: ClusterConfiguration\nkubernetesVersion: 1.30\n");
        (void) state;

        assert_int_equal(fb_cluster_settings_from_json(doc, &s), 0);
        assert_string_equal(s->kubernetes_version, "1.30");
}

/* A cluster's document is not checked by our schema: values of the wrong type count as unset. */
static void test_wrong_types(void **state) {
        _cleanup_(fb_cluster_settings_freep) struct fb_cluster_settings *s = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc = yaml("kind: ClusterConfiguration\n"
                                                   "certificatesDir: [a, b]\n"
                                                   "networking: five\n"
                                                   "etcd: {external: {endpoints: {a: b}, caFile: [x]}}\n"
                                                   "dns: {disabled: maybe}\n"
                                                   "apiServer: {extraArgs: {name: x}, extraVolumes: 7}\n");
        (void) state;

        assert_int_equal(fb_cluster_settings_from_json(doc, &s), 0);
        assert_string_equal(s->certificates_dir, "/etc/kubernetes/pki");
        assert_string_equal(s->networking.service_subnet, "10.96.0.0/12");
        assert_true(s->etcd.external);
        assert_null(s->etcd.endpoints);
        assert_null(s->etcd.ca_file);
        assert_false(s->dns.disabled);
        assert_int_equal(s->extras[MF_KUBE_APISERVER].n_volumes, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),           cmocka_unit_test(test_external_etcd),
                cmocka_unit_test(test_configmap_document), cmocka_unit_test(test_numeric_version),
                cmocka_unit_test(test_wrong_types),
        };
        return cmocka_run_group_tests_name("config-view", tests, NULL, NULL);
}
