/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "manifests/addons.h"
#include "manifests/versions.h"

#define NS                 "kube-system"
#define DEFAULT_REPOSITORY "registry.k8s.io"
#define KUBE_PROXY_API     "kubeproxy.config.k8s.io/v1alpha1"
#define KUBE_PROXY_KIND    "KubeProxyConfiguration"
#define SA_DIR             "/var/run/secrets/kubernetes.io/serviceaccount"

/* The built object with its keys sorted as Go's printer sorts them, or NULL after any failure. */
static cJSON *sorted(struct json_builder *b, cJSON *o) {
        o = jb_result(b, o);
        mf_sort_keys(o);
        return o;
}

static cJSON *service_account(const char *name) {
        struct json_builder b = {};
        cJSON *meta;
        return sorted(&b, mf_object_head(&b, "v1", "ServiceAccount", NS, name, &meta));
}

/* Image tags cannot hold "+": kubeadm writes "_" (v1.34.0+build -> v1.34.0_build). */
static char *image_tag(const char *version) {
        char *t = strdup(version);
        for (char *p = t; p && *p; p++)
                if (*p == '+')
                        *p = '_';
        return t;
}

/* networking.dnsDomain must be a lower-case DNS-1123 subdomain (kubeadm validates it so). */
static bool dns_domain_valid(const char *d) {
        size_t n = strlen(d);
        if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || d[n - 1] == '-')
                return false;
        return strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

/* ---- CoreDNS ---- */

char *mf_corefile(const char *dns_domain) {
        const char *d = isempty(dns_domain) ? "cluster.local" : dns_domain;
        /* kubeadm's template; inner blocks are indented by three spaces relative to their plugin. */
        return strdupf(".:53 {\n"
                       "    errors\n"
                       "    health {\n"
                       "       lameduck 5s\n"
                       "    }\n"
                       "    ready\n"
                       "    kubernetes %s in-addr.arpa ip6.arpa {\n"
                       "       pods insecure\n"
                       "       fallthrough in-addr.arpa ip6.arpa\n"
                       "       ttl 30\n"
                       "    }\n"
                       "    prometheus :9153\n"
                       "    forward . /etc/resolv.conf {\n"
                       "       max_concurrent 1000\n"
                       "    }\n"
                       "    cache 30 {\n"
                       "       disable success %s\n"
                       "       disable denial %s\n"
                       "    }\n"
                       "    loop\n"
                       "    reload\n"
                       "    loadbalance\n"
                       "}\n",
                       d, d, d);
}

static cJSON *coredns_configmap(const char *corefile) {
        struct json_builder b = {};
        cJSON *meta, *o = mf_object_head(&b, "v1", "ConfigMap", NS, "coredns", &meta);
        jb_str(&b, jb_obj(&b, o, "data"), "Corefile", corefile);
        return sorted(&b, o);
}

static cJSON *coredns_cluster_role(void) {
        static const char *const list_watch[] = {"list", "watch", NULL}, *const core[] = {"", NULL};
        static const char *const core_resources[] = {"endpoints", "services", "pods", "namespaces", NULL};
        struct json_builder b = {};
        cJSON *o =
                mf_role(NULL, "system:coredns", &(struct mf_rule){list_watch, core, core_resources, NULL});
        cJSON *rule = jb_obj(&b, cJSON_GetObjectItem(o, "rules"), NULL);

        if (!o)
                return NULL;
        jb_strs(&b, rule, "apiGroups", (const char *const[]){"discovery.k8s.io", NULL});
        jb_strs(&b, rule, "resources", (const char *const[]){"endpointslices", NULL});
        jb_strs(&b, rule, "verbs", list_watch);
        return sorted(&b, o);
}

static void add_container_port(struct json_builder *b, cJSON *ports, unsigned port, const char *name,
                               const char *proto) {
        cJSON *p = jb_obj(b, ports, NULL);
        jb_num(b, p, "containerPort", port);
        jb_str(b, p, "name", name);
        jb_str(b, p, "protocol", proto);
}

static void add_http_get(struct json_builder *b, cJSON *probe, const char *path, const char *port) {
        cJSON *g = jb_obj(b, probe, "httpGet");
        jb_str(b, g, "path", path);
        jb_str(b, g, "port", port);
        jb_str(b, g, "scheme", "HTTP");
}

static cJSON *coredns_deployment(const char *image, unsigned replicas) {
        struct json_builder b = {};
        cJSON *meta, *o = mf_object_head(&b, "apps/v1", "Deployment", NS, "coredns", &meta);
        cJSON *spec, *strategy, *tmpl, *ps, *term, *pat, *expr, *c, *ports, *probe, *res, *sc, *caps, *t,
                *vol, *item;

        jb_str(&b, jb_obj(&b, meta, "labels"), "k8s-app", "kube-dns");
        spec = jb_obj(&b, o, "spec");
        jb_num(&b, spec, "replicas", replicas);
        jb_str(&b, jb_obj(&b, jb_obj(&b, spec, "selector"), "matchLabels"), "k8s-app", "kube-dns");
        strategy = jb_obj(&b, spec, "strategy");
        jb_num(&b, jb_obj(&b, strategy, "rollingUpdate"), "maxUnavailable", 1);
        jb_str(&b, strategy, "type", "RollingUpdate");
        tmpl = jb_obj(&b, spec, "template");
        jb_str(&b, jb_obj(&b, jb_obj(&b, tmpl, "metadata"), "labels"), "k8s-app", "kube-dns");
        ps = jb_obj(&b, tmpl, "spec");

        /* Spread the replicas over nodes when there are several. */
        term = jb_obj(&b,
                      jb_arr(&b, jb_obj(&b, jb_obj(&b, ps, "affinity"), "podAntiAffinity"),
                             "preferredDuringSchedulingIgnoredDuringExecution"),
                      NULL);
        pat = jb_obj(&b, term, "podAffinityTerm");
        expr = jb_obj(&b, jb_arr(&b, jb_obj(&b, pat, "labelSelector"), "matchExpressions"), NULL);
        jb_str(&b, expr, "key", "k8s-app");
        jb_str(&b, expr, "operator", "In");
        jb_strs(&b, expr, "values", (const char *const[]){"kube-dns", NULL});
        jb_str(&b, pat, "topologyKey", "kubernetes.io/hostname");
        jb_num(&b, term, "weight", 100);

        c = jb_obj(&b, jb_arr(&b, ps, "containers"), NULL);
        jb_strs(&b, c, "args", (const char *const[]){"-conf", "/etc/coredns/Corefile", NULL});
        jb_str(&b, c, "image", image);
        jb_str(&b, c, "imagePullPolicy", "IfNotPresent");
        probe = jb_obj(&b, c, "livenessProbe");
        jb_num(&b, probe, "failureThreshold", 5);
        add_http_get(&b, probe, "/health", "liveness-probe");
        jb_num(&b, probe, "initialDelaySeconds", 60);
        jb_num(&b, probe, "successThreshold", 1);
        jb_num(&b, probe, "timeoutSeconds", 5);
        jb_str(&b, c, "name", "coredns");
        ports = jb_arr(&b, c, "ports");
        add_container_port(&b, ports, 53, "dns", "UDP");
        add_container_port(&b, ports, 53, "dns-tcp", "TCP");
        add_container_port(&b, ports, 9153, "metrics", "TCP");
        add_container_port(&b, ports, 8080, "liveness-probe", "TCP");
        add_container_port(&b, ports, 8181, "readiness-probe", "TCP");
        add_http_get(&b, jb_obj(&b, c, "readinessProbe"), "/ready", "readiness-probe");
        res = jb_obj(&b, c, "resources");
        jb_str(&b, jb_obj(&b, res, "limits"), "memory", "170Mi");
        t = jb_obj(&b, res, "requests");
        jb_str(&b, t, "cpu", "100m");
        jb_str(&b, t, "memory", "70Mi");
        sc = jb_obj(&b, c, "securityContext");
        jb_bool(&b, sc, "allowPrivilegeEscalation", false);
        caps = jb_obj(&b, sc, "capabilities");
        jb_strs(&b, caps, "add", (const char *const[]){"NET_BIND_SERVICE", NULL});
        jb_strs(&b, caps, "drop", (const char *const[]){"ALL", NULL});
        jb_bool(&b, sc, "readOnlyRootFilesystem", true);
        item = jb_obj(&b, jb_arr(&b, c, "volumeMounts"), NULL);
        jb_str(&b, item, "mountPath", "/etc/coredns");
        jb_str(&b, item, "name", "config-volume");
        jb_bool(&b, item, "readOnly", true);

        /* CoreDNS resolves upstream names through the node's resolv.conf, not through itself. */
        jb_str(&b, ps, "dnsPolicy", "Default");
        jb_str(&b, jb_obj(&b, ps, "nodeSelector"), "kubernetes.io/os", "linux");
        jb_str(&b, ps, "priorityClassName", "system-cluster-critical");
        jb_str(&b, ps, "serviceAccountName", "coredns");
        t = jb_arr(&b, ps, "tolerations");
        item = jb_obj(&b, t, NULL);
        jb_str(&b, item, "key", "CriticalAddonsOnly");
        jb_str(&b, item, "operator", "Exists");
        item = jb_obj(&b, t, NULL);
        jb_str(&b, item, "effect", "NoSchedule");
        jb_str(&b, item, "key", "node-role.kubernetes.io/control-plane");
        vol = jb_obj(&b, jb_arr(&b, ps, "volumes"), NULL);
        t = jb_obj(&b, vol, "configMap");
        item = jb_obj(&b, jb_arr(&b, t, "items"), NULL);
        jb_str(&b, item, "key", "Corefile");
        jb_str(&b, item, "path", "Corefile");
        jb_str(&b, t, "name", "coredns");
        jb_str(&b, vol, "name", "config-volume");
        return sorted(&b, o);
}

static void add_service_port(struct json_builder *b, cJSON *ports, const char *name, unsigned port,
                             const char *proto) {
        cJSON *p = jb_obj(b, ports, NULL);
        jb_str(b, p, "name", name);
        jb_num(b, p, "port", port);
        jb_str(b, p, "protocol", proto);
        jb_num(b, p, "targetPort", port);
}

static cJSON *kube_dns_service(const char *cluster_ip) {
        struct json_builder b = {};
        cJSON *meta, *o = mf_object_head(&b, "v1", "Service", NS, "kube-dns", &meta), *t, *spec, *ports;

        t = jb_obj(&b, meta, "annotations");
        jb_str(&b, t, "prometheus.io/port", "9153");
        jb_str(&b, t, "prometheus.io/scrape", "true");
        t = jb_obj(&b, meta, "labels");
        jb_str(&b, t, "k8s-app", "kube-dns");
        jb_str(&b, t, "kubernetes.io/cluster-service", "true");
        jb_str(&b, t, "kubernetes.io/name", "CoreDNS");
        /* kubeadm sends "0" so that a later update of the Service is unconditional; a create treats it as
         * unset. */
        jb_str(&b, meta, "resourceVersion", "0");
        spec = jb_obj(&b, o, "spec");
        jb_str(&b, spec, "clusterIP", cluster_ip);
        ports = jb_arr(&b, spec, "ports");
        add_service_port(&b, ports, "dns", 53, "UDP");
        add_service_port(&b, ports, "dns-tcp", 53, "TCP");
        add_service_port(&b, ports, "metrics", 9153, "TCP");
        jb_str(&b, jb_obj(&b, spec, "selector"), "k8s-app", "kube-dns");
        return sorted(&b, o);
}

static char *coredns_image(const struct mf_addons_spec *s, const struct mf_versions *v) {
        const char *repo = !isempty(s->dns_image_repository) ? s->dns_image_repository
                           : !isempty(s->image_repository)   ? s->image_repository
                                                             : DEFAULT_REPOSITORY;
        const char *tag = !isempty(s->dns_image_tag) ? s->dns_image_tag : v->coredns_tag;
        /* The official image lives one level down; other registries are taken as given. */
        return streq(repo, DEFAULT_REPOSITORY) ? strdupf("%s/coredns/coredns:%s", repo, tag)
                                               : strdupf("%s/coredns:%s", repo, tag);
}

int mf_coredns_objects(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n) {
        const struct mf_versions *v;
        char dns_ip[IP_STRING_MAX];
        int r;

        r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;
        if (!isempty(s->dns_domain) && !dns_domain_valid(s->dns_domain))
                return log_debug_errno(EINVAL, "networking.dnsDomain '%s' is not a DNS subdomain",
                                       s->dns_domain);
        r = cidr_nth_ip(isempty(s->service_subnet) ? "10.96.0.0/12" : s->service_subnet, 10, dns_ip);
        if (r < 0)
                return log_debug_errno(r, "networking.serviceSubnet '%s' has no 10th address for kube-dns",
                                       s->service_subnet);

        _cleanup_free_ char *corefile = mf_corefile(s->dns_domain), *image = coredns_image(s, v);
        if (!corefile || !image)
                return -ENOMEM;
        cJSON *objs[] = {
                coredns_configmap(corefile),
                coredns_cluster_role(),
                mf_role_binding(NULL, "system:coredns", "ClusterRole", "system:coredns",
                                &(struct mf_subject){"ServiceAccount", "coredns", NS}, 1),
                service_account("coredns"),
                coredns_deployment(image, s->coredns_replicas ?: 2),
                kube_dns_service(dns_ip),
        };
        return mf_api_objects_collect(objs, ELEMENTSOF(objs), ret, ret_n);
}

/* ---- Go's time.Duration text: metav1.Duration fields are parsed and re-printed by kubeadm ---- */

#define DUR_MAX ((uint64_t) 1 << 63)

/* time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0". */
static int go_duration_parse(const char *s, int64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = {
                {"ns", 1},           {"us", 1000},      {"\xc2\xb5s", 1000}, /* U+00B5 */
                {"\xce\xbcs", 1000},                                         /* U+03BC */
                {"ms", 1000000},     {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000},
        };
        uint64_t d = 0;
        bool neg = false;

        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        if (!*s)
                return -EINVAL;
        while (*s) {
                uint64_t v = 0, f = 0, unit = 0;
                double scale = 1;
                bool pre = false, post = false, overflow = false;
                size_t ul;

                if (!(*s == '.' || (*s >= '0' && *s <= '9')))
                        return -EINVAL;
                for (; *s >= '0' && *s <= '9'; s++, pre = true) {
                        if (v > DUR_MAX / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*s - '0');
                        if (v > DUR_MAX)
                                return -ERANGE;
                }
                if (*s == '.')
                        /* Digits past what fits are consumed and ignored, as Go does. */
                        for (s++; *s >= '0' && *s <= '9'; s++, post = true) {
                                if (overflow || f > (DUR_MAX - 1) / 10 ||
                                    f * 10 + (uint64_t) (*s - '0') > DUR_MAX) {
                                        overflow = true;
                                        continue;
                                }
                                f = f * 10 + (uint64_t) (*s - '0');
                                scale *= 10;
                        }
                if (!pre && !post)
                        return -EINVAL;
                ul = strcspn(s, ".0123456789");
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].unit) == ul && strncmp(s, units[i].unit, ul) == 0)
                                unit = units[i].ns;
                if (unit == 0)
                        return -EINVAL; /* missing or unknown unit */
                s += ul;
                if (v > DUR_MAX / unit)
                        return -ERANGE;
                v *= unit;
                if (f > 0) {
                        v += (uint64_t) ((double) f * ((double) unit / scale));
                        if (v > DUR_MAX)
                                return -ERANGE;
                }
                d += v;
                if (d > DUR_MAX)
                        return -ERANGE;
        }
        if (neg) {
                *ret = d == DUR_MAX ? INT64_MIN : -(int64_t) d;
                return 0;
        }
        if (d > DUR_MAX - 1)
                return -ERANGE;
        *ret = (int64_t) d;
        return 0;
}

/* Writes the fraction v / 10^prec right-aligned before *w, without trailing zeros; returns v / 10^prec. */
static uint64_t fmt_frac(char *buf, size_t *w, uint64_t v, int prec) {
        bool print = false;
        for (int i = 0; i < prec; i++) {
                unsigned digit = (unsigned) (v % 10);
                print = print || digit != 0;
                if (print)
                        buf[--*w] = (char) ('0' + digit);
                v /= 10;
        }
        if (print)
                buf[--*w] = '.';
        return v;
}

static void fmt_int(char *buf, size_t *w, uint64_t v) {
        do {
                buf[--*w] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
}

/* time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
static void go_duration_format(int64_t d, char ret[32]) {
        char buf[32];
        size_t w = sizeof(buf);
        uint64_t u = d < 0 ? (uint64_t) 0 - (uint64_t) d : (uint64_t) d;

        if (u < 1000000000) {
                int prec = 0;
                buf[--w] = 's';
                if (u == 0) {
                        strcpy(ret, "0s");
                        return;
                } else if (u < 1000)
                        buf[--w] = 'n';
                else if (u < 1000000) {
                        prec = 3;
                        w -= 2;
                        memcpy(buf + w, "\xc2\xb5", 2); /* U+00B5, as Go prints it */
                } else {
                        prec = 6;
                        buf[--w] = 'm';
                }
                u = fmt_frac(buf, &w, u, prec);
                fmt_int(buf, &w, u);
        } else {
                buf[--w] = 's';
                u = fmt_frac(buf, &w, u, 9);
                fmt_int(buf, &w, u % 60);
                u /= 60;
                if (u > 0) {
                        buf[--w] = 'm';
                        fmt_int(buf, &w, u % 60);
                        u /= 60;
                        if (u > 0) {
                                buf[--w] = 'h';
                                fmt_int(buf, &w, u);
                        }
                }
        }
        if (d < 0)
                buf[--w] = '-';
        memcpy(ret, buf + w, sizeof(buf) - w);
        ret[sizeof(buf) - w] = 0;
}

/* ---- KubeProxyConfiguration v1alpha1 as kubeadm 1.33-1.35 decodes and marshals it ---- */

enum field_kind {
        FK_OBJECT,
        FK_STRING,
        FK_BOOL,
        FK_INT32,
        FK_UINT32,
        FK_FLOAT32,
        FK_DURATION,      /* metav1.Duration: a Go duration string */
        FK_TIME_DURATION, /* logs TimeOrMetaDuration: nanoseconds, or a duration string kept as a string */
        FK_QUANTITY,      /* resource.QuantityValue: always a string, "0" when zero */
        FK_STRING_LIST,
        FK_GATES,       /* map[string]bool */
        FK_OBJECT_LIST, /* []struct */
};

#define F_POINTER   1u /* a Go pointer or slice: zero marshals as null */
#define F_OMITEMPTY 2u /* json omitempty on a scalar, map or slice: zero is left out */

struct field {
        const char *name;
        enum field_kind kind;
        unsigned flags;
        const struct field *sub; /* FK_OBJECT, FK_OBJECT_LIST */
};

/* The Go types' fields (k8s.io/kube-proxy/config/v1alpha1, component-base config and logs API). */
static const struct field client_connection[] = {
        {"acceptContentTypes", FK_STRING, 0, NULL},
        {"burst", FK_INT32, 0, NULL},
        {"contentType", FK_STRING, 0, NULL},
        {"kubeconfig", FK_STRING, 0, NULL},
        {"qps", FK_FLOAT32, 0, NULL},
        {},
};
static const struct field output_routing[] = {
        {"infoBufferSize", FK_QUANTITY, 0, NULL}, /* omitempty, but a struct: never left out */
        {"splitStream", FK_BOOL, F_OMITEMPTY, NULL},
        {},
};
static const struct field log_format_options[] = {
        {"json", FK_OBJECT, 0, output_routing},
        {"text", FK_OBJECT, 0, output_routing},
        {},
};
static const struct field vmodule_item[] = {
        {"filePattern", FK_STRING, 0, NULL},
        {"verbosity", FK_UINT32, 0, NULL},
        {},
};
static const struct field logging[] = {
        {"flushFrequency", FK_TIME_DURATION, 0, NULL},          {"format", FK_STRING, F_OMITEMPTY, NULL},
        {"options", FK_OBJECT, 0, log_format_options},          {"verbosity", FK_UINT32, 0, NULL},
        {"vmodule", FK_OBJECT_LIST, F_OMITEMPTY, vmodule_item}, {},
};
static const struct field iptables[] = {
        {"localhostNodePorts", FK_BOOL, F_POINTER, NULL},
        {"masqueradeAll", FK_BOOL, 0, NULL},
        {"masqueradeBit", FK_INT32, F_POINTER, NULL},
        {"minSyncPeriod", FK_DURATION, 0, NULL},
        {"syncPeriod", FK_DURATION, 0, NULL},
        {},
};
static const struct field ipvs[] = {
        {"excludeCIDRs", FK_STRING_LIST, F_POINTER, NULL},
        {"minSyncPeriod", FK_DURATION, 0, NULL},
        {"scheduler", FK_STRING, 0, NULL},
        {"strictARP", FK_BOOL, 0, NULL},
        {"syncPeriod", FK_DURATION, 0, NULL},
        {"tcpFinTimeout", FK_DURATION, 0, NULL},
        {"tcpTimeout", FK_DURATION, 0, NULL},
        {"udpTimeout", FK_DURATION, 0, NULL},
        {},
};
static const struct field nftables[] = {
        {"masqueradeAll", FK_BOOL, 0, NULL},         {"masqueradeBit", FK_INT32, F_POINTER, NULL},
        {"minSyncPeriod", FK_DURATION, 0, NULL},     {"syncPeriod", FK_DURATION, 0, NULL},
        {"tableName", FK_STRING, F_OMITEMPTY, NULL}, {},
};
static const struct field winkernel[] = {
        {"enableDSR", FK_BOOL, 0, NULL},     {"forwardHealthCheckVip", FK_BOOL, 0, NULL},
        {"networkName", FK_STRING, 0, NULL}, {"rootHnsEndpointName", FK_STRING, 0, NULL},
        {"sourceVip", FK_STRING, 0, NULL},   {},
};
static const struct field detect_local[] = {
        {"bridgeInterface", FK_STRING, 0, NULL},
        {"interfaceNamePrefix", FK_STRING, 0, NULL},
        {},
};
static const struct field conntrack[] = {
        {"maxPerCore", FK_INT32, F_POINTER, NULL},
        {"min", FK_INT32, F_POINTER, NULL},
        {"tcpBeLiberal", FK_BOOL, 0, NULL},
        {"tcpCloseWaitTimeout", FK_DURATION, F_POINTER, NULL},
        {"tcpEstablishedTimeout", FK_DURATION, F_POINTER, NULL},
        {"udpStreamTimeout", FK_DURATION, 0, NULL},
        {"udpTimeout", FK_DURATION, 0, NULL},
        {},
};
static const struct field kube_proxy_configuration[] = {
        {"bindAddress", FK_STRING, 0, NULL},
        {"bindAddressHardFail", FK_BOOL, 0, NULL},
        {"clientConnection", FK_OBJECT, 0, client_connection},
        {"clusterCIDR", FK_STRING, 0, NULL},
        {"configSyncPeriod", FK_DURATION, 0, NULL},
        {"conntrack", FK_OBJECT, 0, conntrack},
        {"detectLocal", FK_OBJECT, 0, detect_local},
        {"detectLocalMode", FK_STRING, 0, NULL},
        {"enableProfiling", FK_BOOL, 0, NULL},
        {"featureGates", FK_GATES, F_OMITEMPTY, NULL},
        {"healthzBindAddress", FK_STRING, 0, NULL},
        {"hostnameOverride", FK_STRING, 0, NULL},
        {"iptables", FK_OBJECT, 0, iptables},
        {"ipvs", FK_OBJECT, 0, ipvs},
        {"logging", FK_OBJECT, 0, logging},
        {"metricsBindAddress", FK_STRING, 0, NULL},
        {"mode", FK_STRING, 0, NULL},
        {"nftables", FK_OBJECT, 0, nftables},
        {"nodePortAddresses", FK_STRING_LIST, F_POINTER, NULL},
        {"oomScoreAdj", FK_INT32, F_POINTER, NULL},
        {"portRange", FK_STRING, 0, NULL},
        {"serviceProxyName", FK_STRING, F_OMITEMPTY, NULL},
        {"showHiddenMetricsForVersion", FK_STRING, 0, NULL},
        {"windowsRunAsService", FK_BOOL, F_OMITEMPTY, NULL},
        {"winkernel", FK_OBJECT, 0, winkernel},
        {},
};

static void add_zero_fields(struct json_builder *b, cJSON *obj, const struct field *fields);

/* Adds field f to obj with its zero value as Go marshals it; nothing for a field left out (omitempty). */
static void add_zero_value(struct json_builder *b, cJSON *obj, const struct field *f) {
        if (f->flags & F_OMITEMPTY)
                return;
        if (f->flags & F_POINTER) {
                jb_null(b, obj, f->name);
                return;
        }
        switch (f->kind) {
        case FK_OBJECT:
                add_zero_fields(b, jb_obj(b, obj, f->name), f->sub);
                break;
        case FK_STRING:
                jb_str(b, obj, f->name, "");
                break;
        case FK_BOOL:
                jb_bool(b, obj, f->name, false);
                break;
        case FK_DURATION:
                jb_str(b, obj, f->name, "0s");
                break;
        case FK_QUANTITY:
                jb_str(b, obj, f->name, "0");
                break;
        default: /* numbers; lists and maps are pointers or omitempty */
                jb_num(b, obj, f->name, 0);
                break;
        }
}

static void add_zero_fields(struct json_builder *b, cJSON *obj, const struct field *fields) {
        for (const struct field *f = fields; obj && f->name; f++)
                add_zero_value(b, obj, f);
}

static bool value_is_zero(const cJSON *v) {
        if (cJSON_IsNull(v) || cJSON_IsFalse(v))
                return true;
        if (cJSON_IsString(v))
                return !*v->valuestring;
        if (cJSON_IsNumber(v))
                return v->valuedouble == 0;
        if (cJSON_IsObject(v) || cJSON_IsArray(v))
                return !v->child;
        return false;
}

struct decode {
        char *problem;          /* the first problem, "path: what" */
        struct json_builder jb; /* the zero values; an OOM anywhere is recorded here */
};

_printf_(3, 4) static int decode_fail(struct decode *d, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                what = NULL;
        va_end(ap);
        if (!what) {
                jb_fail(&d->jb, -ENOMEM);
                return -ENOMEM;
        }
        if (!d->problem)
                d->problem = strdupf("%s: %s", path, what);
        if (!d->problem) {
                jb_fail(&d->jb, -ENOMEM);
                return -ENOMEM;
        }
        return log_debug_errno(EINVAL, "KubeProxyConfiguration %s", d->problem);
}

/* A whole number within [min, max] (YAML 1.1 hex/octal already resolved by the parser). */
static bool number_in(const cJSON *v, double min, double max) {
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= min &&
               v->valuedouble <= max;
}

/* A float32 as Go's encoder and then the YAML printer write it: whole numbers as integers, others with the
 * fewest digits that give the same float32 back. */
static cJSON *float32_value(double d) {
        float f = (float) d;
        char buf[48];
        int p, exp;

        if (f == floorf(f) && fabsf(f) < 1e15f)
                return cJSON_CreateNumber((double) f);
        for (p = 1; p < 9; p++) {
                snprintf(buf, sizeof(buf), "%.*g", p, (double) f);
                if ((float) strtod(buf, NULL) == f)
                        break;
        }
        snprintf(buf, sizeof(buf), "%.*e", p - 1, (double) f);
        exp = atoi(strchr(buf, 'e') + 1);
        /* Go's shortest %g: the exponent form below 1e-4 and from 1e6 on. */
        if (exp >= -4 && exp < 6)
                snprintf(buf, sizeof(buf), "%.*g", p, (double) f);
        return cJSON_CreateRaw(buf);
}

/* resource.Quantity from a JSON number: decimal, canonical with the largest SI suffix that keeps it whole.
 */
static cJSON *quantity_value(const cJSON *v) {
        static const char *const suffixes[] = {"", "k", "M", "G", "T", "P", "E"};
        int64_t n = (int64_t) v->valuedouble;
        size_t i = 0;
        if (n == 0)
                return cJSON_CreateString("0");
        while (i + 1 < ELEMENTSOF(suffixes) && n % 1000 == 0) {
                n /= 1000;
                i++;
        }
        _cleanup_free_ char *s = strdupf("%" PRId64 "%s", n, suffixes[i]);
        return s ? cJSON_CreateString(s) : NULL;
}

static int decode_object(struct decode *d, const struct field *fields, cJSON *dst, const cJSON *src,
                         const char *prefix);

/*
 * The value Go would hold after decoding v into field f, as it marshals it. *ret NULL: the field keeps its
 * current value (JSON null into a non-pointer does nothing).
 */
static int decode_value(struct decode *d, const struct field *f, const cJSON *v, const char *path,
                        cJSON **ret) {
        char text[32];
        int64_t ns;
        cJSON *out = NULL;
        int r;

        *ret = NULL;
        if (cJSON_IsNull(v) && f->kind != FK_DURATION && f->kind != FK_QUANTITY) {
                if (f->flags & F_POINTER)
                        out = cJSON_CreateNull();
                else if (f->kind == FK_GATES || f->kind == FK_OBJECT_LIST)
                        out = cJSON_CreateObject(); /* a nil map or slice: left out (omitempty) */
                else
                        return 0;
                goto done;
        }
        switch (f->kind) {
        case FK_STRING:
                if (!cJSON_IsString(v))
                        return decode_fail(d, path, "not a string");
                out = cJSON_CreateString(v->valuestring);
                break;
        case FK_BOOL:
                if (!cJSON_IsBool(v))
                        return decode_fail(d, path, "not a boolean");
                out = cJSON_CreateBool(cJSON_IsTrue(v));
                break;
        case FK_INT32:
                if (!number_in(v, INT32_MIN, INT32_MAX))
                        return decode_fail(d, path, "not a 32-bit integer");
                out = cJSON_CreateNumber(v->valuedouble);
                break;
        case FK_UINT32:
                if (!number_in(v, 0, UINT32_MAX))
                        return decode_fail(d, path, "not an unsigned 32-bit integer");
                out = cJSON_CreateNumber(v->valuedouble);
                break;
        case FK_FLOAT32:
                if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > FLT_MAX)
                        return decode_fail(d, path, "not a 32-bit float");
                out = float32_value(v->valuedouble);
                break;
        case FK_DURATION:
                if (cJSON_IsNull(v) && (f->flags & F_POINTER)) {
                        out = cJSON_CreateNull();
                        break;
                }
                /* A null or a number reaches metav1.Duration's decoder, which takes strings only. */
                if (!cJSON_IsString(v))
                        return decode_fail(d, path, "not a duration string like '30s'");
                r = go_duration_parse(v->valuestring, &ns);
                if (r < 0)
                        return decode_fail(d, path, "'%s' is not a duration like '30s' or '1h2m'",
                                           v->valuestring);
                go_duration_format(ns, text);
                out = cJSON_CreateString(text);
                break;
        case FK_TIME_DURATION:
                if (cJSON_IsString(v)) {
                        r = go_duration_parse(v->valuestring, &ns);
                        if (r < 0)
                                return decode_fail(d, path, "'%s' is not a duration like '5s'",
                                                   v->valuestring);
                        go_duration_format(ns, text);
                        out = cJSON_CreateString(text);
                } else if (number_in(v, -9007199254740992.0, 9007199254740992.0))
                        out = cJSON_CreateNumber(v->valuedouble);
                else
                        return decode_fail(d, path, "not a duration (nanoseconds or a string like '5s')");
                break;
        case FK_QUANTITY:
                if (cJSON_IsNull(v))
                        out = cJSON_CreateString("0");
                else if (cJSON_IsString(v) && *v->valuestring)
                        out = cJSON_CreateString(v->valuestring);
                else if (number_in(v, -9007199254740992.0, 9007199254740992.0))
                        out = quantity_value(v);
                else
                        return decode_fail(d, path, "not a quantity like '1Mi'");
                break;
        case FK_STRING_LIST: {
                const cJSON *c;
                if (!cJSON_IsArray(v))
                        return decode_fail(d, path, "not a list of strings");
                cJSON_ArrayForEach(c, v)
                        if (!cJSON_IsString(c))
                                return decode_fail(d, path, "not a list of strings");
                out = cJSON_Duplicate(v, true);
                break;
        }
        case FK_GATES: {
                const cJSON *c;
                if (!cJSON_IsObject(v))
                        return decode_fail(d, path, "not a map of feature names to booleans");
                cJSON_ArrayForEach(c, v)
                        if (!cJSON_IsBool(c))
                                return decode_fail(d, path, "'%s' is not a boolean", c->string);
                out = cJSON_CreateObject();
                cJSON_ArrayForEach(c, v)
                        if (out &&
                            !cJSON_AddItemToObject(out, c->string, cJSON_CreateBool(cJSON_IsTrue(c)))) {
                                cJSON_Delete(out);
                                out = NULL;
                        }
                break;
        }
        case FK_OBJECT_LIST: {
                const cJSON *c;
                size_t i = 0;
                if (!cJSON_IsArray(v))
                        return decode_fail(d, path, "not a list");
                out = cJSON_CreateArray();
                cJSON_ArrayForEach(c, v) {
                        _cleanup_free_ char *p = strdupf("%s[%zu]", path, i++);
                        cJSON *item = jb_obj(&d->jb, out, NULL);
                        add_zero_fields(&d->jb, item, f->sub);
                        if (!p || !out || jb_error(&d->jb) < 0) {
                                cJSON_Delete(out);
                                return -ENOMEM;
                        }
                        if (!cJSON_IsObject(c)) {
                                cJSON_Delete(out);
                                return decode_fail(d, p, "not a mapping");
                        }
                        r = decode_object(d, f->sub, item, c, p);
                        if (r < 0) {
                                cJSON_Delete(out);
                                return r;
                        }
                }
                break;
        }
        case FK_OBJECT:
                return -EINVAL; /* handled by decode_object */
        }
done:
        if (!out) {
                jb_fail(&d->jb, -ENOMEM);
                return -ENOMEM;
        }
        *ret = out;
        return 0;
}

/* Decodes src's fields into dst (which holds every non-omitempty field), dropping unknown ones. */
static int decode_object(struct decode *d, const struct field *fields, cJSON *dst, const cJSON *src,
                         const char *prefix) {
        const cJSON *c;

        cJSON_ArrayForEach(c, src) {
                const struct field *f = NULL;
                cJSON *have, *v;
                int r;

                for (const struct field *i = fields; i->name && !f; i++)
                        if (streq(i->name, c->string))
                                f = i;
                if (!f) {
                        /* kubeadm warns about unknown fields and drops them; its decoder is case-sensitive.
                         */
                        if (!(prefix == NULL &&
                              (streq(c->string, "apiVersion") || streq(c->string, "kind"))))
                                log_debug("KubeProxyConfiguration: unknown field '%s%s%s' dropped",
                                          strempty(prefix), prefix ? "." : "", c->string);
                        continue;
                }
                _cleanup_free_ char *path = prefix ? strdupf("%s.%s", prefix, f->name) : strdup(f->name);
                if (!path)
                        return -ENOMEM;
                have = cJSON_GetObjectItemCaseSensitive(dst, f->name);
                if (f->kind == FK_OBJECT) {
                        if (cJSON_IsNull(c))
                                continue;
                        if (!cJSON_IsObject(c))
                                return decode_fail(d, path, "not a mapping");
                        r = decode_object(d, f->sub, have, c, path);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = decode_value(d, f, c, path, &v);
                if (r < 0)
                        return r;
                if (!v)
                        continue;
                if (have)
                        cJSON_Delete(cJSON_DetachItemViaPointer(dst, have));
                if ((f->flags & F_OMITEMPTY) && value_is_zero(v)) {
                        cJSON_Delete(v);
                        continue;
                }
                if (!cJSON_AddItemToObject(dst, f->name, v)) {
                        cJSON_Delete(v);
                        return -ENOMEM;
                }
        }
        return 0;
}

static bool is_letter(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; /* non-ASCII: as letters */
}

static bool is_digit(unsigned char c) {
        return c >= '0' && c <= '9';
}

/* The order the Go YAML printer (yaml.v2 keyList) gives map keys: letters by code, a non-letter before a
 * letter, digit runs by their value ("Gate9" before "Gate10"), a prefix first. */
static int go_yaml_key_cmp(const void *pa, const void *pb) {
        const unsigned char *a = (const unsigned char *) (*(const cJSON *const *) pa)->string;
        const unsigned char *b = (const unsigned char *) (*(const cJSON *const *) pb)->string;
        size_t i = 0;

        for (; a[i] && b[i]; i++) {
                size_t ai, bi;
                int64_t an = 0, bn = 0;
                bool al, bl;

                if (a[i] == b[i])
                        continue;
                al = is_letter(a[i]);
                bl = is_letter(b[i]);
                if (al && bl)
                        return a[i] < b[i] ? -1 : 1;
                if (al || bl)
                        return bl ? -1 : 1;
                /* A run of zeros inside a number counts as part of it. */
                if (a[i] == '0' || b[i] == '0')
                        for (size_t j = i; j > 0 && is_digit(a[j - 1]); j--)
                                if (a[j - 1] != '0') {
                                        an = bn = 1;
                                        break;
                                }
                for (ai = i; is_digit(a[ai]); ai++)
                        an = an * 10 + (a[ai] - '0');
                for (bi = i; is_digit(b[bi]); bi++)
                        bn = bn * 10 + (b[bi] - '0');
                if (an != bn)
                        return an < bn ? -1 : 1;
                if (ai != bi)
                        return ai < bi ? -1 : 1;
                return a[i] < b[i] ? -1 : 1;
        }
        return a[i] ? 1 : b[i] ? -1 : 0;
}

/* Sorts every mapping of the tree as the Go YAML printer does (config.conf is marshalled by kubeadm). */
static int go_yaml_sort(cJSON *j) {
        size_t n = 0, i = 0;
        cJSON **v;

        for (cJSON *c = j->child; c; c = c->next) {
                int r = go_yaml_sort(c);
                if (r < 0)
                        return r;
                n++;
        }
        if (!cJSON_IsObject(j) || n < 2)
                return 0;
        v = malloc(sizeof(*v) * n);
        if (!v)
                return -ENOMEM;
        for (cJSON *c = j->child; c; c = c->next)
                v[i++] = c;
        qsort(v, n, sizeof(*v), go_yaml_key_cmp);
        for (i = 0; i < n; i++) {
                v[i]->prev = i > 0 ? v[i - 1] : v[n - 1]; /* cJSON keeps the last item in child->prev */
                v[i]->next = i + 1 < n ? v[i + 1] : NULL;
        }
        j->child = v[0];
        free(v);
        return 0;
}

static int set_if_empty(cJSON *obj, const char *key, const char *value) {
        const char *have = json_get_string(obj, key);
        if (!isempty(have) || isempty(value))
                return 0;
        return json_set_string(obj, key, value);
}

/* kubeadm's KubeProxyConfiguration: the user's document decoded over Go's zero values, then kubeadm's
 * defaults for what is still empty. */
static int kube_proxy_config(const struct mf_addons_spec *s, cJSON **ret, char **ret_problem) {
        struct decode d = {};
        _cleanup_(cJSON_Deletep) cJSON *k = jb_object(&d.jb);
        const cJSON *u = s->kube_proxy_config;
        const char *api, *kind;
        int r = 0;

        add_zero_fields(&d.jb, k, kube_proxy_configuration);
        if (jb_error(&d.jb) < 0)
                return -ENOMEM;
        if (u) {
                if (!cJSON_IsObject(u))
                        r = decode_fail(&d, "KubeProxyConfiguration", "not a mapping");
                else if ((api = json_get_string(u, "apiVersion")) && !streq(api, KUBE_PROXY_API))
                        r = decode_fail(&d, "apiVersion", "'%s' is not %s, the only version kubeadm reads",
                                        api, KUBE_PROXY_API);
                else if ((kind = json_get_string(u, "kind")) && !streq(kind, KUBE_PROXY_KIND))
                        r = decode_fail(&d, "kind", "'%s' is not %s", kind, KUBE_PROXY_KIND);
                else
                        r = decode_object(&d, kube_proxy_configuration, k, u, NULL);
        }
        if (r < 0 || jb_error(&d.jb) < 0) {
                if (ret_problem && d.problem)
                        *ret_problem = TAKE_PTR(d.problem);
                free(d.problem);
                return jb_error(&d.jb) ?: r;
        }
        if (json_set_string(k, "apiVersion", KUBE_PROXY_API) < 0 ||
            json_set_string(k, "kind", KUBE_PROXY_KIND) < 0)
                return -ENOMEM;
        /* kubeadm's defaults fill what the user left empty (a different value only draws a warning). */
        if (set_if_empty(k, "bindAddress", s->ipv6 ? "::" : "0.0.0.0") < 0 ||
            set_if_empty(k, "clusterCIDR", s->pod_subnet) < 0 ||
            set_if_empty(cJSON_GetObjectItemCaseSensitive(k, "clientConnection"), "kubeconfig",
                         "/var/lib/kube-proxy/kubeconfig.conf") < 0)
                return -ENOMEM;
        /* From 1.37 kubeadm writes the proxy mode out instead of leaving kube-proxy to pick one. */
        const struct mf_versions *v;
        if (s->kubernetes_version && mf_versions_for(s->kubernetes_version, &v) >= 0 &&
            set_if_empty(k, "mode", v->kube_proxy_mode) < 0)
                return -ENOMEM;
        r = go_yaml_sort(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

int mf_kube_proxy_config_check(const cJSON *doc, char **ret_problem) {
        struct mf_addons_spec s = {.kube_proxy_config = doc};
        _cleanup_(cJSON_Deletep) cJSON *k = NULL;
        return kube_proxy_config(&s, &k, ret_problem);
}

int mf_kube_proxy_config_text(const struct mf_addons_spec *s, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *k = NULL;
        char *text;
        size_t n;
        int r;

        r = kube_proxy_config(s, &k, NULL);
        if (r < 0)
                return r;
        r = yaml_emit(k, &text);
        if (r < 0)
                return r;
        /* The ConfigMap holds it as a "|-" block: without the final newline. */
        n = strlen(text);
        while (n > 0 && text[n - 1] == '\n')
                text[--n] = 0;
        *ret = text;
        return 0;
}

static char *kube_proxy_kubeconfig(const char *server) {
        /* kubeadm's template text, stored as a "|-" block (no final newline); not re-marshalled. */
        return strdupf("apiVersion: v1\n"
                       "kind: Config\n"
                       "clusters:\n"
                       "- cluster:\n"
                       "    certificate-authority: " SA_DIR "/ca.crt\n"
                       "    server: %s\n"
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
                       "    tokenFile: " SA_DIR "/token",
                       server);
}

/* kubeadm's ChecksumForConfigMap: SHA-256 over the values in key order (keys themselves not hashed). */
static char *configmap_checksum(const char *const *values_in_key_order, size_t n) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;

        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (EVP_DigestUpdate(ctx, values_in_key_order[i], strlen(values_in_key_order[i])) != 1)
                        return NULL;
        if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
                return NULL;
        _cleanup_free_ char *hex = hex_encode(md, md_len);
        return hex ? strdupf("sha256:%s", hex) : NULL;
}

static cJSON *kube_proxy_configmap(const char *config, const char *kubeconfig, bool sign) {
        struct json_builder b = {};
        cJSON *meta, *o = mf_object_head(&b, "v1", "ConfigMap", NS, "kube-proxy", &meta), *data;

        if (sign) {
                _cleanup_free_ char *sum = configmap_checksum((const char *const[]){config, kubeconfig}, 2);
                if (!sum)
                        jb_fail(&b, -ENOMEM);
                else
                        jb_str(&b, jb_obj(&b, meta, "annotations"), MF_COMPONENT_CONFIG_HASH, sum);
        }
        jb_str(&b, jb_obj(&b, meta, "labels"), "app", "kube-proxy");
        data = jb_obj(&b, o, "data");
        jb_str(&b, data, "config.conf", config);
        jb_str(&b, data, "kubeconfig.conf", kubeconfig);
        return sorted(&b, o);
}

static int env_cmp(const void *a, const void *b) {
        return strcmp(((const struct mf_arg *) a)->name, ((const struct mf_arg *) b)->name);
}

static cJSON *kube_proxy_daemonset(const char *image, const struct mf_arg *proxy_env, size_t n_env) {
        struct json_builder b = {};
        cJSON *meta, *o = mf_object_head(&b, "apps/v1", "DaemonSet", NS, "kube-proxy", &meta);
        cJSON *spec, *tmpl, *ps, *c, *env, *e, *mounts, *m, *vols, *v, *hp;
        _cleanup_free_ struct mf_arg *envs = NULL;
        size_t n = 0;

        jb_str(&b, jb_obj(&b, meta, "labels"), "k8s-app", "kube-proxy");
        spec = jb_obj(&b, o, "spec");
        jb_str(&b, jb_obj(&b, jb_obj(&b, spec, "selector"), "matchLabels"), "k8s-app", "kube-proxy");
        tmpl = jb_obj(&b, spec, "template");
        jb_str(&b, jb_obj(&b, jb_obj(&b, tmpl, "metadata"), "labels"), "k8s-app", "kube-proxy");
        jb_str(&b, jb_obj(&b, spec, "updateStrategy"), "type", "RollingUpdate");
        ps = jb_obj(&b, tmpl, "spec");

        c = jb_obj(&b, jb_arr(&b, ps, "containers"), NULL);
        jb_strs(&b, c, "command",
                (const char *const[]){"/usr/local/bin/kube-proxy",
                                      "--config=/var/lib/kube-proxy/config.conf",
                                      "--hostname-override=$(NODE_NAME)", NULL});
        env = jb_arr(&b, c, "env");
        e = jb_obj(&b, env, NULL);
        jb_str(&b, e, "name", "NODE_NAME");
        jb_str(&b, jb_obj(&b, jb_obj(&b, e, "valueFrom"), "fieldRef"), "fieldPath", "spec.nodeName");
        /* kubeadm appends its own *_proxy environment: the last value of a name wins, sorted by name. */
        if (n_env > 0) {
                envs = calloc(n_env, sizeof(*envs));
                if (!envs)
                        jb_fail(&b, -ENOMEM);
                for (size_t i = 0; envs && i < n_env; i++) {
                        size_t j = 0;
                        while (j < n && !streq(envs[j].name, proxy_env[i].name))
                                j++;
                        envs[j] = proxy_env[i];
                        n += j == n;
                }
                qsort_safe(envs, n, sizeof(*envs), env_cmp);
        }
        for (size_t i = 0; i < n; i++) {
                e = jb_obj(&b, env, NULL);
                jb_str(&b, e, "name", envs[i].name);
                jb_str(&b, e, "value", strempty(envs[i].value));
        }
        jb_str(&b, c, "image", image);
        jb_str(&b, c, "imagePullPolicy", "IfNotPresent");
        jb_str(&b, c, "name", "kube-proxy");
        jb_bool(&b, jb_obj(&b, c, "securityContext"), "privileged", true);
        mounts = jb_arr(&b, c, "volumeMounts");
        m = jb_obj(&b, mounts, NULL);
        jb_str(&b, m, "mountPath", "/var/lib/kube-proxy");
        jb_str(&b, m, "name", "kube-proxy");
        m = jb_obj(&b, mounts, NULL); /* readOnly: false in the template, omitted on the wire */
        jb_str(&b, m, "mountPath", "/run/xtables.lock");
        jb_str(&b, m, "name", "xtables-lock");
        m = jb_obj(&b, mounts, NULL);
        jb_str(&b, m, "mountPath", "/lib/modules");
        jb_str(&b, m, "name", "lib-modules");
        jb_bool(&b, m, "readOnly", true);

        jb_bool(&b, ps, "hostNetwork", true);
        jb_str(&b, jb_obj(&b, ps, "nodeSelector"), "kubernetes.io/os", "linux");
        jb_str(&b, ps, "priorityClassName", "system-node-critical");
        jb_str(&b, ps, "serviceAccountName", "kube-proxy");
        /* Every node, whatever its taints. */
        jb_str(&b, jb_obj(&b, jb_arr(&b, ps, "tolerations"), NULL), "operator", "Exists");
        vols = jb_arr(&b, ps, "volumes");
        v = jb_obj(&b, vols, NULL);
        jb_str(&b, jb_obj(&b, v, "configMap"), "name", "kube-proxy");
        jb_str(&b, v, "name", "kube-proxy");
        v = jb_obj(&b, vols, NULL);
        hp = jb_obj(&b, v, "hostPath");
        jb_str(&b, hp, "path", "/run/xtables.lock");
        jb_str(&b, hp, "type", "FileOrCreate");
        jb_str(&b, v, "name", "xtables-lock");
        v = jb_obj(&b, vols, NULL);
        jb_str(&b, jb_obj(&b, v, "hostPath"), "path", "/lib/modules");
        jb_str(&b, v, "name", "lib-modules");
        return sorted(&b, o);
}

int mf_kube_proxy_objects(const struct mf_addons_spec *s, struct mf_api_object **ret, size_t *ret_n) {
        static const char *const get[] = {"get", NULL}, *const core[] = {"", NULL};
        static const char *const cms[] = {"configmaps", NULL}, *const kube_proxy[] = {"kube-proxy", NULL};
        _cleanup_free_ char *config = NULL, *kubeconfig = NULL, *tag = NULL, *image = NULL;
        const struct mf_versions *v;
        int r;

        r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;
        if (isempty(s->control_plane_url) || strpbrk(s->control_plane_url, "\n\r"))
                return log_debug_errno(EINVAL, "kube-proxy needs the control plane URL for its kubeconfig");
        r = mf_kube_proxy_config_text(s, &config);
        if (r < 0)
                return r;
        kubeconfig = kube_proxy_kubeconfig(s->control_plane_url);
        tag = image_tag(s->kubernetes_version);
        if (!kubeconfig || !tag)
                return -ENOMEM;
        image = strdupf("%s/kube-proxy:%s",
                        isempty(s->image_repository) ? DEFAULT_REPOSITORY : s->image_repository, tag);
        if (!image)
                return -ENOMEM;

        cJSON *objs[] = {
                kube_proxy_configmap(config, kubeconfig, !s->kube_proxy_config),
                kube_proxy_daemonset(image, s->proxy_env, s->n_proxy_env),
                service_account("kube-proxy"),
                mf_role_binding(NULL, "kubeadm:node-proxier", "ClusterRole", "system:node-proxier",
                                &(struct mf_subject){"ServiceAccount", "kube-proxy", NS}, 1),
                /* Joining nodes read the kube-proxy configuration with their bootstrap token. */
                mf_role(NS, "kube-proxy", &(struct mf_rule){get, core, cms, kube_proxy}),
                mf_role_binding(NS, "kube-proxy", "Role", "kube-proxy",
                                &(struct mf_subject){"Group", MF_DEFAULT_NODE_TOKEN_GROUP, NULL}, 1),
        };
        return mf_api_objects_collect(objs, ELEMENTSOF(objs), ret, ret_n);
}
