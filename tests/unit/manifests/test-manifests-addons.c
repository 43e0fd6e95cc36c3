/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "manifests/addons.h"
#include "tests/unit/unit.h"

/* What kubeadm stores in kube-system/kube-proxy config.conf for an IPv4 init with podSubnet 10.244.0.0/16
 * and no KubeProxyConfiguration document: Go's zero values plus kubeadm's three defaults. */
static const char default_config[] = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                                     "bindAddress: 0.0.0.0\n"
                                     "bindAddressHardFail: false\n"
                                     "clientConnection:\n"
                                     "  acceptContentTypes: \"\"\n"
                                     "  burst: 0\n"
                                     "  contentType: \"\"\n"
                                     "  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n"
                                     "  qps: 0\n"
                                     "clusterCIDR: 10.244.0.0/16\n"
                                     "configSyncPeriod: 0s\n"
                                     "conntrack:\n"
                                     "  maxPerCore: null\n"
                                     "  min: null\n"
                                     "  tcpBeLiberal: false\n"
                                     "  tcpCloseWaitTimeout: null\n"
                                     "  tcpEstablishedTimeout: null\n"
                                     "  udpStreamTimeout: 0s\n"
                                     "  udpTimeout: 0s\n"
                                     "detectLocal:\n"
                                     "  bridgeInterface: \"\"\n"
                                     "  interfaceNamePrefix: \"\"\n"
                                     "detectLocalMode: \"\"\n"
                                     "enableProfiling: false\n"
                                     "healthzBindAddress: \"\"\n"
                                     "hostnameOverride: \"\"\n"
                                     "iptables:\n"
                                     "  localhostNodePorts: null\n"
                                     "  masqueradeAll: false\n"
                                     "  masqueradeBit: null\n"
                                     "  minSyncPeriod: 0s\n"
                                     "  syncPeriod: 0s\n"
                                     "ipvs:\n"
                                     "  excludeCIDRs: null\n"
                                     "  minSyncPeriod: 0s\n"
                                     "  scheduler: \"\"\n"
                                     "  strictARP: false\n"
                                     "  syncPeriod: 0s\n"
                                     "  tcpFinTimeout: 0s\n"
                                     "  tcpTimeout: 0s\n"
                                     "  udpTimeout: 0s\n"
                                     "kind: KubeProxyConfiguration\n"
                                     "logging:\n"
                                     "  flushFrequency: 0\n"
                                     "  options:\n"
                                     "    json:\n"
                                     "      infoBufferSize: \"0\"\n"
                                     "    text:\n"
                                     "      infoBufferSize: \"0\"\n"
                                     "  verbosity: 0\n"
                                     "metricsBindAddress: \"\"\n"
                                     "mode: \"\"\n"
                                     "nftables:\n"
                                     "  masqueradeAll: false\n"
                                     "  masqueradeBit: null\n"
                                     "  minSyncPeriod: 0s\n"
                                     "  syncPeriod: 0s\n"
                                     "nodePortAddresses: null\n"
                                     "oomScoreAdj: null\n"
                                     "portRange: \"\"\n"
                                     "showHiddenMetricsForVersion: \"\"\n"
                                     "winkernel:\n"
                                     "  enableDSR: false\n"
                                     "  forwardHealthCheckVip: false\n"
                                     "  networkName: \"\"\n"
                                     "  rootHnsEndpointName: \"\"\n"
                                     "  sourceVip: \"\"";

static const char default_kubeconfig[] =
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
        "    server: https://10.0.0.10:6443\n"
        "  name: default\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: default\n"
        "    namespace: default\n"
        "    user: default\n"
        "  name: default\n"
        "current-context: default\n"
        "users:\n"
        "- name: default\n"
        "  user:\n"
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token";

static const char default_corefile[] = ".:53 {\n"
                                       "    errors\n"
                                       "    health {\n"
                                       "       lameduck 5s\n"
                                       "    }\n"
                                       "    ready\n"
                                       "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
                                       "       pods insecure\n"
                                       "       fallthrough in-addr.arpa ip6.arpa\n"
                                       "       ttl 30\n"
                                       "    }\n"
                                       "    prometheus :9153\n"
                                       "    forward . /etc/resolv.conf {\n"
                                       "       max_concurrent 1000\n"
                                       "    }\n"
                                       "    cache 30 {\n"
                                       "       disable success cluster.local\n"
                                       "       disable denial cluster.local\n"
                                       "    }\n"
                                       "    loop\n"
                                       "    reload\n"
                                       "    loadbalance\n"
                                       "}\n";

static struct mf_addons_spec base(const char *version) {
        return (struct mf_addons_spec){
                .kubernetes_version = version,
                .pod_subnet = "10.244.0.0/16",
                .control_plane_url = "https://10.0.0.10:6443",
        };
}

static cJSON *yaml_doc(const char *y) {
        cJSON *docs = NULL;
        assert_int_equal(yaml_parse_documents(y, strlen(y), &docs, NULL), 0);
        cJSON *d = cJSON_DetachItemFromArray(docs, 0);
        cJSON_Delete(docs);
        assert_non_null(d);
        return d;
}

static const cJSON *item(const cJSON *parent, const char *path, int i) {
        const cJSON *a = json_get(parent, path);
        assert_true(cJSON_IsArray(a));
        return cJSON_GetArrayItem(a, i);
}

static const cJSON *container(const cJSON *workload) {
        return item(workload, "spec.template.spec.containers", 0);
}

static const char *str_at(const cJSON *parent, const char *path, int i) {
        const cJSON *s = item(parent, path, i);
        assert_true(cJSON_IsString(s));
        return s->valuestring;
}

static double num(const cJSON *o, const char *path) {
        const cJSON *n = json_get(o, path);
        assert_true(cJSON_IsNumber(n));
        return n->valuedouble;
}

static const cJSON *find(const struct mf_api_object *o, size_t n, const char *kind, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(json_get_string(o[i].object, "kind"), kind) &&
                    streq(json_get_string(o[i].object, "metadata.name"), name))
                        return o[i].object;
        fail_msg("no %s %s", kind, name);
        return NULL;
}

static void test_coredns_order_and_paths(void **state) {
        (void) state;
        static const struct {
                const char *kind, *name, *collection;
        } want[] = {
                {"ConfigMap", "coredns", "/api/v1/namespaces/kube-system/configmaps"},
                {"ClusterRole", "system:coredns", "/apis/rbac.authorization.k8s.io/v1/clusterroles"},
                {"ClusterRoleBinding", "system:coredns",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"},
                {"ServiceAccount", "coredns", "/api/v1/namespaces/kube-system/serviceaccounts"},
                {"Deployment", "coredns", "/apis/apps/v1/namespaces/kube-system/deployments"},
                {"Service", "kube-dns", "/api/v1/namespaces/kube-system/services"},
        };
        struct mf_addons_spec s = base("v1.34.2");
        struct mf_api_object *o = NULL;
        size_t n = 0;

        assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(json_get_string(o[i].object, "kind"), want[i].kind);
                assert_string_equal(json_get_string(o[i].object, "metadata.name"), want[i].name);
                assert_string_equal(o[i].collection, want[i].collection);
        }

        /* ClusterRole: two rules, resources in kubeadm's order. */
        const cJSON *rules = json_get(o[1].object, "rules");
        assert_int_equal(cJSON_GetArraySize(rules), 2);
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 0), "apiGroups", 0), "");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 0), "resources", 0), "endpoints");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 0), "resources", 3), "namespaces");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 0), "verbs", 1), "watch");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 1), "apiGroups", 0), "discovery.k8s.io");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 1), "resources", 0), "endpointslices");
        assert_string_equal(str_at(cJSON_GetArrayItem(rules, 1), "verbs", 0), "list");

        const cJSON *sub = item(o[2].object, "subjects", 0);
        assert_string_equal(json_get_string(o[2].object, "roleRef.name"), "system:coredns");
        assert_string_equal(json_get_string(sub, "kind"), "ServiceAccount");
        assert_string_equal(json_get_string(sub, "name"), "coredns");
        assert_string_equal(json_get_string(sub, "namespace"), "kube-system");
        assert_null(json_get(o[3].object, "metadata.labels"));
        mf_api_objects_free(o, n);
}

static void test_coredns_service(void **state) {
        (void) state;
        static const struct {
                const char *subnet, *ip;
        } cases[] = {
                {NULL, "10.96.0.10"},
                {"10.96.0.0/12", "10.96.0.10"},
                {"172.20.0.0/16", "172.20.0.10"},
                {"fd00:10:96::/112", "fd00:10:96::a"},
                {"10.96.0.0/12,fd00:10:96::/112", "10.96.0.10"},
                {"fd00:10:96::/108,10.96.0.0/12", "fd00:10:96::a"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct mf_addons_spec s = base("v1.33.4");
                struct mf_api_object *o = NULL;
                size_t n = 0;
                s.service_subnet = cases[i].subnet;
                assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
                const cJSON *svc = find(o, n, "Service", "kube-dns");
                assert_string_equal(json_get_string(svc, "spec.clusterIP"), cases[i].ip);
                if (i == 0) {
                        assert_string_equal(json_get_string(svc, "metadata.namespace"), "kube-system");
                        assert_string_equal(json_get_string(svc, "metadata.resourceVersion"), "0");
                        assert_string_equal(json_get_string(svc, "metadata.labels.k8s-app"), "kube-dns");
                        const cJSON *labels = json_get(svc, "metadata.labels");
                        assert_string_equal(
                                cJSON_GetObjectItem(labels, "kubernetes.io/cluster-service")->valuestring,
                                "true");
                        assert_string_equal(cJSON_GetObjectItem(labels, "kubernetes.io/name")->valuestring,
                                            "CoreDNS");
                        const cJSON *ann = json_get(svc, "metadata.annotations");
                        assert_string_equal(cJSON_GetObjectItem(ann, "prometheus.io/port")->valuestring,
                                            "9153");
                        assert_string_equal(cJSON_GetObjectItem(ann, "prometheus.io/scrape")->valuestring,
                                            "true");
                        assert_string_equal(json_get_string(svc, "spec.selector.k8s-app"), "kube-dns");
                        const cJSON *ports = json_get(svc, "spec.ports");
                        assert_int_equal(cJSON_GetArraySize(ports), 3);
                        const char *names[] = {"dns", "dns-tcp", "metrics"},
                                   *protos[] = {"UDP", "TCP", "TCP"};
                        const int nums[] = {53, 53, 9153};
                        for (int k = 0; k < 3; k++) {
                                const cJSON *p = cJSON_GetArrayItem(ports, k);
                                assert_string_equal(json_get_string(p, "name"), names[k]);
                                assert_string_equal(json_get_string(p, "protocol"), protos[k]);
                                assert_int_equal(num(p, "port"), nums[k]);
                                assert_int_equal(num(p, "targetPort"), nums[k]);
                        }
                }
                mf_api_objects_free(o, n);
        }
}

static void test_corefile(void **state) {
        (void) state;
        _cleanup_free_ char *def = mf_corefile(NULL), *custom = mf_corefile("corp.example");
        assert_string_equal(def, default_corefile);
        assert_non_null(strstr(custom, "    kubernetes corp.example in-addr.arpa ip6.arpa {\n"));
        assert_non_null(strstr(custom, "    cache 30 {\n       disable success corp.example\n"
                                       "       disable denial corp.example\n    }\n    loop\n"));
        assert_null(strstr(custom, "cluster.local"));

        /* The ConfigMap carries exactly that text under "Corefile". */
        struct mf_addons_spec s = base("v1.35.0");
        struct mf_api_object *o = NULL;
        size_t n = 0;
        s.dns_domain = "corp.example";
        assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
        assert_string_equal(json_get_string(o[0].object, "data.Corefile"), custom);
        assert_int_equal(cJSON_GetArraySize(json_get(o[0].object, "data")), 1);
        mf_api_objects_free(o, n);

        s.dns_domain = "Bad Domain";
        assert_int_equal(mf_coredns_objects(&s, &o, &n), -EINVAL);
}

static void test_coredns_images(void **state) {
        (void) state;
        static const struct {
                const char *version, *repo, *dns_repo, *dns_tag, *image;
        } cases[] = {
                {"v1.33.4", NULL, NULL, NULL, "registry.k8s.io/coredns/coredns:v1.12.0"},
                {"v1.34.2", NULL, NULL, NULL, "registry.k8s.io/coredns/coredns:v1.12.1"},
                {"v1.35.0", NULL, NULL, NULL, "registry.k8s.io/coredns/coredns:v1.13.1"},
                {"1.34.0", "registry.k8s.io", NULL, NULL, "registry.k8s.io/coredns/coredns:v1.12.1"},
                {"v1.34.2", "mirror.example/k8s", NULL, NULL, "mirror.example/k8s/coredns:v1.12.1"},
                {"v1.34.2", "mirror.example/k8s", "dns.example/coredns", NULL,
                 "dns.example/coredns/coredns:v1.12.1"},
                {"v1.34.2", "mirror.example/k8s", "registry.k8s.io", NULL,
                 "registry.k8s.io/coredns/coredns:v1.12.1"},
                {"v1.33.1", NULL, NULL, "v1.11.3", "registry.k8s.io/coredns/coredns:v1.11.3"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct mf_addons_spec s = base(cases[i].version);
                struct mf_api_object *o = NULL;
                size_t n = 0;
                s.image_repository = cases[i].repo;
                s.dns_image_repository = cases[i].dns_repo;
                s.dns_image_tag = cases[i].dns_tag;
                assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
                assert_string_equal(json_get_string(container(find(o, n, "Deployment", "coredns")), "image"),
                                    cases[i].image);
                mf_api_objects_free(o, n);
        }
}

static void test_coredns_deployment(void **state) {
        (void) state;
        struct mf_addons_spec s = base("v1.34.2");
        struct mf_api_object *o = NULL;
        size_t n = 0;

        assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
        const cJSON *d = o[4].object, *c = container(d), *ps = json_get(d, "spec.template.spec");
        assert_string_equal(json_get_string(d, "apiVersion"), "apps/v1");
        assert_string_equal(json_get_string(d, "metadata.labels.k8s-app"), "kube-dns");
        assert_int_equal(num(d, "spec.replicas"), 2);
        assert_string_equal(json_get_string(d, "spec.selector.matchLabels.k8s-app"), "kube-dns");
        assert_string_equal(json_get_string(d, "spec.strategy.type"), "RollingUpdate");
        assert_int_equal(num(d, "spec.strategy.rollingUpdate.maxUnavailable"), 1);
        assert_string_equal(json_get_string(d, "spec.template.metadata.labels.k8s-app"), "kube-dns");

        assert_string_equal(json_get_string(ps, "priorityClassName"), "system-cluster-critical");
        assert_string_equal(json_get_string(ps, "serviceAccountName"), "coredns");
        assert_string_equal(json_get_string(ps, "dnsPolicy"), "Default");
        assert_string_equal(
                cJSON_GetObjectItem(json_get(ps, "nodeSelector"), "kubernetes.io/os")->valuestring, "linux");
        const cJSON *pref =
                item(ps, "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", 0);
        assert_int_equal(num(pref, "weight"), 100);
        assert_string_equal(json_get_string(pref, "podAffinityTerm.topologyKey"), "kubernetes.io/hostname");
        const cJSON *expr = item(pref, "podAffinityTerm.labelSelector.matchExpressions", 0);
        assert_string_equal(json_get_string(expr, "key"), "k8s-app");
        assert_string_equal(json_get_string(expr, "operator"), "In");
        assert_string_equal(str_at(expr, "values", 0), "kube-dns");
        assert_int_equal(cJSON_GetArraySize(json_get(ps, "tolerations")), 2);
        assert_string_equal(json_get_string(item(ps, "tolerations", 0), "key"), "CriticalAddonsOnly");
        assert_string_equal(json_get_string(item(ps, "tolerations", 0), "operator"), "Exists");
        assert_string_equal(json_get_string(item(ps, "tolerations", 1), "key"),
                            "node-role.kubernetes.io/control-plane");
        assert_string_equal(json_get_string(item(ps, "tolerations", 1), "effect"), "NoSchedule");
        assert_null(json_get(item(ps, "tolerations", 1), "operator"));
        const cJSON *vol = item(ps, "volumes", 0);
        assert_string_equal(json_get_string(vol, "name"), "config-volume");
        assert_string_equal(json_get_string(vol, "configMap.name"), "coredns");
        assert_string_equal(json_get_string(item(vol, "configMap.items", 0), "key"), "Corefile");
        assert_string_equal(json_get_string(item(vol, "configMap.items", 0), "path"), "Corefile");

        assert_string_equal(json_get_string(c, "name"), "coredns");
        assert_string_equal(json_get_string(c, "imagePullPolicy"), "IfNotPresent");
        assert_string_equal(str_at(c, "args", 0), "-conf");
        assert_string_equal(str_at(c, "args", 1), "/etc/coredns/Corefile");
        assert_string_equal(json_get_string(c, "resources.limits.memory"), "170Mi");
        assert_string_equal(json_get_string(c, "resources.requests.cpu"), "100m");
        assert_string_equal(json_get_string(c, "resources.requests.memory"), "70Mi");
        assert_null(json_get(c, "resources.limits.cpu"));
        const cJSON *ports = json_get(c, "ports");
        assert_int_equal(cJSON_GetArraySize(ports), 5);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(ports, 3), "name"), "liveness-probe");
        assert_int_equal(num(cJSON_GetArrayItem(ports, 3), "containerPort"), 8080);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(ports, 4), "name"), "readiness-probe");
        assert_int_equal(num(cJSON_GetArrayItem(ports, 4), "containerPort"), 8181);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(ports, 0), "protocol"), "UDP");
        assert_string_equal(json_get_string(c, "livenessProbe.httpGet.path"), "/health");
        assert_string_equal(json_get_string(c, "livenessProbe.httpGet.port"), "liveness-probe");
        assert_string_equal(json_get_string(c, "livenessProbe.httpGet.scheme"), "HTTP");
        assert_int_equal(num(c, "livenessProbe.initialDelaySeconds"), 60);
        assert_int_equal(num(c, "livenessProbe.timeoutSeconds"), 5);
        assert_int_equal(num(c, "livenessProbe.successThreshold"), 1);
        assert_int_equal(num(c, "livenessProbe.failureThreshold"), 5);
        assert_string_equal(json_get_string(c, "readinessProbe.httpGet.path"), "/ready");
        assert_string_equal(json_get_string(c, "readinessProbe.httpGet.port"), "readiness-probe");
        assert_null(json_get(c, "readinessProbe.periodSeconds"));
        bool b;
        assert_int_equal(json_get_bool(c, "securityContext.allowPrivilegeEscalation", &b), 0);
        assert_false(b);
        assert_int_equal(json_get_bool(c, "securityContext.readOnlyRootFilesystem", &b), 0);
        assert_true(b);
        assert_string_equal(str_at(c, "securityContext.capabilities.add", 0), "NET_BIND_SERVICE");
        assert_string_equal(str_at(c, "securityContext.capabilities.drop", 0), "ALL");
        assert_string_equal(json_get_string(item(c, "volumeMounts", 0), "mountPath"), "/etc/coredns");
        assert_int_equal(json_get_bool(item(c, "volumeMounts", 0), "readOnly", &b), 0);
        assert_true(b);
        mf_api_objects_free(o, n);

        /* A re-run keeps the running Deployment's replica count. */
        s.coredns_replicas = 3;
        assert_int_equal(mf_coredns_objects(&s, &o, &n), 0);
        assert_int_equal(num(o[4].object, "spec.replicas"), 3);
        mf_api_objects_free(o, n);
}

static void test_kube_proxy_order_and_paths(void **state) {
        (void) state;
        static const struct {
                const char *kind, *name, *collection;
        } want[] = {
                {"ConfigMap", "kube-proxy", "/api/v1/namespaces/kube-system/configmaps"},
                {"DaemonSet", "kube-proxy", "/apis/apps/v1/namespaces/kube-system/daemonsets"},
                {"ServiceAccount", "kube-proxy", "/api/v1/namespaces/kube-system/serviceaccounts"},
                {"ClusterRoleBinding", "kubeadm:node-proxier",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"},
                {"Role", "kube-proxy", "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles"},
                {"RoleBinding", "kube-proxy",
                 "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings"},
        };
        struct mf_addons_spec s = base("v1.35.0");
        struct mf_api_object *o = NULL;
        size_t n = 0;

        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), 0);
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(json_get_string(o[i].object, "kind"), want[i].kind);
                assert_string_equal(json_get_string(o[i].object, "metadata.name"), want[i].name);
                assert_string_equal(o[i].collection, want[i].collection);
        }
        assert_string_equal(json_get_string(o[3].object, "roleRef.kind"), "ClusterRole");
        assert_string_equal(json_get_string(o[3].object, "roleRef.name"), "system:node-proxier");
        assert_string_equal(json_get_string(item(o[3].object, "subjects", 0), "kind"), "ServiceAccount");
        assert_string_equal(json_get_string(item(o[3].object, "subjects", 0), "name"), "kube-proxy");
        assert_string_equal(json_get_string(item(o[3].object, "subjects", 0), "namespace"), "kube-system");
        const cJSON *rule = item(o[4].object, "rules", 0);
        assert_string_equal(str_at(rule, "verbs", 0), "get");
        assert_string_equal(str_at(rule, "apiGroups", 0), "");
        assert_string_equal(str_at(rule, "resources", 0), "configmaps");
        assert_string_equal(str_at(rule, "resourceNames", 0), "kube-proxy");
        assert_string_equal(json_get_string(o[5].object, "roleRef.kind"), "Role");
        assert_string_equal(json_get_string(o[5].object, "roleRef.name"), "kube-proxy");
        assert_string_equal(json_get_string(item(o[5].object, "subjects", 0), "kind"), "Group");
        assert_string_equal(json_get_string(item(o[5].object, "subjects", 0), "name"),
                            "system:bootstrappers:kubeadm:default-node-token");
        mf_api_objects_free(o, n);
}

static void test_kube_proxy_configmap(void **state) {
        (void) state;
        struct mf_addons_spec s = base("v1.34.2");
        struct mf_api_object *o = NULL;
        size_t n = 0;
        _cleanup_free_ char *text = NULL;

        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_string_equal(text, default_config);

        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), 0);
        const cJSON *cm = o[0].object, *data = json_get(cm, "data");
        assert_int_equal(cJSON_GetArraySize(data), 2);
        assert_string_equal(cJSON_GetObjectItem(data, "config.conf")->valuestring, default_config);
        assert_string_equal(cJSON_GetObjectItem(data, "kubeconfig.conf")->valuestring, default_kubeconfig);
        assert_string_equal(json_get_string(cm, "metadata.labels.app"), "kube-proxy");
        assert_string_equal(json_get_string(cm, "metadata.namespace"), "kube-system");
        /* Generated, not user supplied: signed so that kubeadm upgrade regenerates it. The value is sha256
         * over config.conf then kubeconfig.conf, computed independently. */
        assert_string_equal(
                cJSON_GetObjectItem(json_get(cm, "metadata.annotations"), MF_COMPONENT_CONFIG_HASH)
                        ->valuestring,
                "sha256:02802c0f8c68324dbbdd8e4d08c77bad8fa476a1a1a7af112a0841e1ec28bd81");
        mf_api_objects_free(o, n);

        /* IPv6: bindAddress "::" (single-quoted by the YAML printer); no pod subnet: clusterCIDR empty. */
        s.ipv6 = true;
        s.pod_subnet = NULL;
        free(text);
        text = NULL;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_true(startswith(text, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: '::'\n"));
        assert_non_null(strstr(text, "\nclusterCIDR: \"\"\n"));

        /* Dual-stack pod subnets go in whole. */
        s.pod_subnet = "10.244.0.0/16,fd00:244::/56";
        free(text);
        text = NULL;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_non_null(strstr(text, "\nclusterCIDR: 10.244.0.0/16,fd00:244::/56\n"));
}

static void test_kube_proxy_user_config(void **state) {
        (void) state;
        _cleanup_(cJSON_Deletep) cJSON *user = yaml_doc("apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                                                        "kind: KubeProxyConfiguration\n"
                                                        "mode: ipvs\n"
                                                        "ipvs:\n"
                                                        "  scheduler: rr\n"
                                                        "  strictARP: true\n"
                                                        "  syncPeriod: 1m\n"
                                                        "  excludeCIDRs: [10.0.0.0/8]\n"
                                                        "conntrack:\n"
                                                        "  maxPerCore: 0\n"
                                                        "  tcpEstablishedTimeout: 86400s\n"
                                                        "featureGates:\n"
                                                        "  Gate10: true\n"
                                                        "  Gate9: false\n"
                                                        "  AB: true\n"
                                                        "  A_b: true\n"
                                                        "metricsBindAddress: 0.0.0.0:10249\n"
                                                        "clientConnection:\n"
                                                        "  qps: 0.1\n"
                                                        "  burst: 20\n"
                                                        "logging:\n"
                                                        "  format: json\n"
                                                        "  flushFrequency: 5s\n"
                                                        "  options:\n"
                                                        "    json:\n"
                                                        "      infoBufferSize: 2000\n"
                                                        "unknownField: 1\n"
                                                        "BindAddress: 1.2.3.4\n"
                                                        "serviceProxyName: \"\"\n");
        struct mf_addons_spec s = base("v1.34.2");
        struct mf_api_object *o = NULL;
        size_t n = 0;
        _cleanup_free_ char *text = NULL;

        s.kube_proxy_config = user;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        /* The user's values, re-printed as Go prints them. */
        assert_non_null(strstr(text, "\nmode: ipvs\n"));
        assert_non_null(strstr(text, "\nipvs:\n  excludeCIDRs:\n  - 10.0.0.0/8\n  minSyncPeriod: 0s\n"
                                     "  scheduler: rr\n  strictARP: true\n  syncPeriod: 1m0s\n"));
        assert_non_null(strstr(text, "\nconntrack:\n  maxPerCore: 0\n  min: null\n"));
        assert_non_null(strstr(text, "  tcpEstablishedTimeout: 24h0m0s\n"));
        /* Keys in the Go YAML printer's order, not byte order: '_' before letters, 9 before 10. */
        assert_non_null(
                strstr(text, "\nfeatureGates:\n  A_b: true\n  AB: true\n  Gate9: false\n  Gate10: true\n"));
        assert_non_null(strstr(text, "\nmetricsBindAddress: 0.0.0.0:10249\n"));
        assert_non_null(strstr(text, "\nclientConnection:\n  acceptContentTypes: \"\"\n  burst: 20\n"));
        assert_non_null(strstr(text, "  qps: 0.1\n"));
        assert_non_null(strstr(text,
                               "\nlogging:\n  flushFrequency: 5s\n  format: json\n  options:\n    json:\n"
                               "      infoBufferSize: 2k\n    text:\n      infoBufferSize: \"0\"\n"));
        /* kubeadm's defaults still fill what the user left empty. */
        assert_non_null(strstr(text, "\nclusterCIDR: 10.244.0.0/16\n"));
        assert_non_null(strstr(text, "\nbindAddress: 0.0.0.0\n"));
        assert_non_null(strstr(text, "  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n"));
        /* Unknown fields (also wrong case) are dropped; empty omitempty fields are left out. */
        assert_null(strstr(text, "unknownField"));
        assert_null(strstr(text, "\nBindAddress"));
        assert_null(strstr(text, "1.2.3.4"));
        assert_null(strstr(text, "serviceProxyName"));
        /* The result reads back as YAML with the same values. */
        _cleanup_(cJSON_Deletep) cJSON *back = yaml_doc(text);
        assert_string_equal(json_get_string(back, "ipvs.scheduler"), "rr");
        assert_int_equal(num(back, "conntrack.maxPerCore"), 0);

        /* User supplied: not signed, as kubeadm leaves it to the user on upgrade. */
        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), 0);
        assert_null(json_get(o[0].object, "metadata.annotations"));
        assert_string_equal(cJSON_GetObjectItem(json_get(o[0].object, "data"), "config.conf")->valuestring,
                            text);
        mf_api_objects_free(o, n);

        /* The user's own values for kubeadm's defaults are kept (kubeadm only warns). */
        _cleanup_(cJSON_Deletep) cJSON *own = yaml_doc("clusterCIDR: 192.168.0.0/16\nbindAddress: 10.1.1.1\n"
                                                       "clientConnection:\n  kubeconfig: /etc/kp.conf\n");
        s.kube_proxy_config = own;
        free(text);
        text = NULL;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_non_null(strstr(text, "\nclusterCIDR: 192.168.0.0/16\n"));
        assert_non_null(strstr(text, "\nbindAddress: 10.1.1.1\n"));
        assert_non_null(strstr(text, "  kubeconfig: /etc/kp.conf\n"));

        /* Explicitly empty values get kubeadm's defaults, as kubeadm's defaulting sees "" as unset. */
        _cleanup_(cJSON_Deletep) cJSON *empty =
                yaml_doc("clusterCIDR: \"\"\nbindAddress: \"\"\nmode: null\n");
        s.kube_proxy_config = empty;
        free(text);
        text = NULL;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_string_equal(text, default_config);
}

static void test_kube_proxy_user_config_errors(void **state) {
        (void) state;
        static const struct {
                const char *yaml, *problem;
        } cases[] = {
                {"conntrack:\n  maxPerCore: lots\n", "conntrack.maxPerCore: not a 32-bit integer"},
                {"conntrack:\n  min: 1.5\n", "conntrack.min: not a 32-bit integer"},
                {"iptables:\n  masqueradeBit: 4294967296\n", "iptables.masqueradeBit: not a 32-bit integer"},
                {"iptables:\n  syncPeriod: 30\n", "iptables.syncPeriod: not a duration string like '30s'"},
                {"iptables:\n  syncPeriod: null\n", "iptables.syncPeriod: not a duration string like '30s'"},
                {"ipvs:\n  tcpTimeout: 5 minutes\n",
                 "ipvs.tcpTimeout: '5 minutes' is not a duration like '30s' or '1h2m'"},
                {"mode: 1\n", "mode: not a string"},
                {"bindAddressHardFail: maybe\n", "bindAddressHardFail: not a boolean"},
                {"nodePortAddresses: 10.0.0.0/8\n", "nodePortAddresses: not a list of strings"},
                {"nodePortAddresses: [1, 2]\n", "nodePortAddresses: not a list of strings"},
                {"featureGates:\n  A: on-ish\n", "featureGates: 'A' is not a boolean"},
                {"logging:\n  verbosity: -1\n", "logging.verbosity: not an unsigned 32-bit integer"},
                {"logging:\n  vmodule:\n  - filePattern: x\n    verbosity: high\n",
                 "logging.vmodule[0].verbosity: not an unsigned 32-bit integer"},
                {"ipvs: [1]\n", "ipvs: not a mapping"},
                {"apiVersion: kubeproxy.config.k8s.io/v1alpha2\n",
                 "apiVersion: 'kubeproxy.config.k8s.io/v1alpha2' is not kubeproxy.config.k8s.io/v1alpha1, "
                 "the only "
                 "version kubeadm reads"},
                {"kind: KubeletConfiguration\n",
                 "kind: 'KubeletConfiguration' is not KubeProxyConfiguration"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cJSON_Deletep) cJSON *doc = yaml_doc(cases[i].yaml);
                _cleanup_free_ char *problem = NULL, *text = NULL;
                struct mf_addons_spec s = base("v1.34.2");
                struct mf_api_object *o = NULL;
                size_t n = 0;

                assert_int_equal(mf_kube_proxy_config_check(doc, &problem), -EINVAL);
                assert_string_equal(problem, cases[i].problem);
                s.kube_proxy_config = doc;
                assert_int_equal(mf_kube_proxy_config_text(&s, &text), -EINVAL);
                assert_null(text);
                assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), -EINVAL);
                assert_null(o);
        }
        _cleanup_(cJSON_Deletep) cJSON *ok = yaml_doc("mode: nftables\nnftables:\n  masqueradeBit: 14\n");
        _cleanup_free_ char *problem = NULL;
        assert_int_equal(mf_kube_proxy_config_check(ok, &problem), 0);
        assert_null(problem);
}

/* Durations are parsed and printed back the way Go's time package does. */
static void test_go_durations(void **state) {
        (void) state;
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"0", "0s"},
                {"0s", "0s"},
                {"30s", "30s"},
                {"1m", "1m0s"},
                {"90s", "1m30s"},
                {"1.5h", "1h30m0s"},
                {"1h0m", "1h0m0s"},
                {"2h45m30.5s", "2h45m30.5s"},
                {"500ms", "500ms"},
                {"1500ms", "1.5s"},
                {"0.5s", "500ms"},
                {"2us", "2\xc2\xb5s"},
                {"3\xce\xbcs", "3\xc2\xb5s"},
                {"1.5\xc2\xb5s", "1.5\xc2\xb5s"},
                {"100ns", "100ns"},
                {"-1m", "-1m0s"},
                {"+5s", "5s"},
                {"1.000000001s", "1.000000001s"},
                {".5m", "30s"},
                {"1h1ns", "1h0m0.000000001s"},
                {"2562047h47m16.854775807s", "2562047h47m16.854775807s"},
        };
        static const char *const bad[] = {"", "1", "s", "1x", ".s", "-", "1.2.3s", "1 s", "2562047h48m"};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *y = strdupf("iptables:\n  syncPeriod: \"%s\"\n", cases[i].in),
                                    *text = NULL;
                _cleanup_(cJSON_Deletep) cJSON *doc = yaml_doc(y);
                struct mf_addons_spec s = base("v1.34.2");
                s.kube_proxy_config = doc;
                assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
                _cleanup_(cJSON_Deletep) cJSON *back = yaml_doc(text);
                assert_string_equal(json_get_string(back, "iptables.syncPeriod"), cases[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *y = strdupf("iptables:\n  syncPeriod: \"%s\"\n", bad[i]),
                                    *problem = NULL;
                _cleanup_(cJSON_Deletep) cJSON *doc = yaml_doc(y);
                assert_int_equal(mf_kube_proxy_config_check(doc, &problem), -EINVAL);
                assert_non_null(problem);
        }
        /* logging.flushFrequency: a string stays a string, a number stays nanoseconds. */
        _cleanup_(cJSON_Deletep) cJSON *num_doc = yaml_doc("logging:\n  flushFrequency: 5000000000\n");
        _cleanup_free_ char *text = NULL;
        struct mf_addons_spec s = base("v1.34.2");
        s.kube_proxy_config = num_doc;
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
        assert_non_null(strstr(text, "\n  flushFrequency: 5000000000\n"));
}

static void test_kube_proxy_daemonset(void **state) {
        (void) state;
        static const struct mf_arg env[] = {
                {"https_proxy", "http://p:3128"},
                {"NO_PROXY", "10.0.0.0/8"},
                {"HTTPS_PROXY", "http://old:3128"},
                {"HTTPS_PROXY", "http://p:3128"},
        };
        struct mf_addons_spec s = base("v1.34.0+build.1");
        struct mf_api_object *o = NULL;
        size_t n = 0;
        bool b;

        s.image_repository = "mirror.example/k8s";
        s.proxy_env = env;
        s.n_proxy_env = ELEMENTSOF(env);
        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), 0);
        const cJSON *ds = o[1].object, *c = container(ds), *ps = json_get(ds, "spec.template.spec");
        assert_string_equal(json_get_string(ds, "apiVersion"), "apps/v1");
        assert_string_equal(json_get_string(ds, "metadata.labels.k8s-app"), "kube-proxy");
        assert_string_equal(json_get_string(ds, "spec.selector.matchLabels.k8s-app"), "kube-proxy");
        assert_string_equal(json_get_string(ds, "spec.template.metadata.labels.k8s-app"), "kube-proxy");
        assert_string_equal(json_get_string(ds, "spec.updateStrategy.type"), "RollingUpdate");
        assert_string_equal(json_get_string(c, "image"), "mirror.example/k8s/kube-proxy:v1.34.0_build.1");
        assert_string_equal(json_get_string(c, "imagePullPolicy"), "IfNotPresent");
        assert_string_equal(str_at(c, "command", 0), "/usr/local/bin/kube-proxy");
        assert_string_equal(str_at(c, "command", 1), "--config=/var/lib/kube-proxy/config.conf");
        assert_string_equal(str_at(c, "command", 2), "--hostname-override=$(NODE_NAME)");
        assert_int_equal(json_get_bool(c, "securityContext.privileged", &b), 0);
        assert_true(b);
        /* NODE_NAME first, then the proxy variables: last value of a name, sorted by name. */
        const cJSON *e = json_get(c, "env");
        assert_int_equal(cJSON_GetArraySize(e), 4);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 0), "name"), "NODE_NAME");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 0), "valueFrom.fieldRef.fieldPath"),
                            "spec.nodeName");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 1), "name"), "HTTPS_PROXY");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 1), "value"), "http://p:3128");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 2), "name"), "NO_PROXY");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(e, 3), "name"), "https_proxy");
        const cJSON *m = json_get(c, "volumeMounts");
        assert_int_equal(cJSON_GetArraySize(m), 3);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(m, 0), "mountPath"), "/var/lib/kube-proxy");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(m, 1), "name"), "xtables-lock");
        assert_null(json_get(cJSON_GetArrayItem(m, 1), "readOnly"));
        assert_string_equal(json_get_string(cJSON_GetArrayItem(m, 2), "mountPath"), "/lib/modules");
        assert_int_equal(json_get_bool(cJSON_GetArrayItem(m, 2), "readOnly", &b), 0);
        assert_true(b);

        assert_int_equal(json_get_bool(ps, "hostNetwork", &b), 0);
        assert_true(b);
        assert_string_equal(json_get_string(ps, "priorityClassName"), "system-node-critical");
        assert_string_equal(json_get_string(ps, "serviceAccountName"), "kube-proxy");
        assert_string_equal(
                cJSON_GetObjectItem(json_get(ps, "nodeSelector"), "kubernetes.io/os")->valuestring, "linux");
        assert_int_equal(cJSON_GetArraySize(json_get(ps, "tolerations")), 1);
        assert_string_equal(json_get_string(item(ps, "tolerations", 0), "operator"), "Exists");
        assert_null(json_get(item(ps, "tolerations", 0), "key"));
        const cJSON *v = json_get(ps, "volumes");
        assert_int_equal(cJSON_GetArraySize(v), 3);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 0), "configMap.name"), "kube-proxy");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 1), "hostPath.path"), "/run/xtables.lock");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 1), "hostPath.type"), "FileOrCreate");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(v, 2), "hostPath.path"), "/lib/modules");
        assert_null(json_get(cJSON_GetArrayItem(v, 2), "hostPath.type"));
        mf_api_objects_free(o, n);

        /* Default registry, plain tag, per minor. */
        static const char *const versions[] = {"v1.33.4", "v1.34.2", "v1.35.0"};
        for (size_t i = 0; i < ELEMENTSOF(versions); i++) {
                struct mf_addons_spec t = base(versions[i]);
                _cleanup_free_ char *want = strdupf("registry.k8s.io/kube-proxy:%s", versions[i]);
                assert_int_equal(mf_kube_proxy_objects(&t, &o, &n), 0);
                assert_string_equal(json_get_string(container(o[1].object), "image"), want);
                assert_int_equal(cJSON_GetArraySize(json_get(container(o[1].object), "env")), 1);
                mf_api_objects_free(o, n);
        }
}

static void test_refusals(void **state) {
        (void) state;
        static const char *const unsupported[] = {"v1.32.9", "v1.39.0", "v2.0.0"};
        struct mf_api_object *o = NULL;
        size_t n = 0;
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; i < ELEMENTSOF(unsupported); i++) {
                struct mf_addons_spec s = base(unsupported[i]);
                assert_int_equal(mf_coredns_objects(&s, &o, &n), -EOPNOTSUPP);
                assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), -EOPNOTSUPP);
                assert_null(o);
        }
        struct mf_addons_spec s = base(NULL);
        assert_int_equal(mf_coredns_objects(&s, &o, &n), -EINVAL);
        s = base("v1.34.2");
        s.service_subnet = "10.96.0.0/30";
        assert_int_equal(mf_coredns_objects(&s, &o, &n), -ERANGE);
        s.service_subnet = "not-a-subnet";
        assert_int_equal(mf_coredns_objects(&s, &o, &n), -EINVAL);
        s = base("v1.34.2");
        s.control_plane_url = NULL;
        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), -EINVAL);
        s.control_plane_url = "https://x:6443\nevil: 1";
        assert_int_equal(mf_kube_proxy_objects(&s, &o, &n), -EINVAL);
        assert_null(o);
        assert_int_equal(n, 0);
        /* The config text alone needs no endpoint. */
        assert_int_equal(mf_kube_proxy_config_text(&s, &text), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_coredns_order_and_paths),
                cmocka_unit_test(test_coredns_service),
                cmocka_unit_test(test_corefile),
                cmocka_unit_test(test_coredns_images),
                cmocka_unit_test(test_coredns_deployment),
                cmocka_unit_test(test_kube_proxy_order_and_paths),
                cmocka_unit_test(test_kube_proxy_configmap),
                cmocka_unit_test(test_kube_proxy_user_config),
                cmocka_unit_test(test_kube_proxy_user_config_errors),
                cmocka_unit_test(test_go_durations),
                cmocka_unit_test(test_kube_proxy_daemonset),
                cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests_name("manifests-addons", tests, NULL, NULL);
}
