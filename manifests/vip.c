/* SPDX-License-Identifier: Apache-2.0 */
/* The control-plane VIP's static pods and files (vip.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonbuild.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "manifests/vip.h"

#define KUBE_VIP_KUBECONFIG "/etc/kubernetes/admin.conf" /* where kube-vip reads it, in the container */

static const char *const keepalived_pods[] = {"keepalived.yaml", "haproxy.yaml", NULL};
static const char *const kube_vip_pods[] = {"kube-vip.yaml", NULL};

const char *const *mf_vip_pod_names(bool kube_vip) {
        return kube_vip ? kube_vip_pods : keepalived_pods;
}

void mf_files_free(struct mf_file *f, size_t n) {
        for (size_t i = 0; f && i < n; i++)
                if (f[i].content) {
                        explicit_bzero(f[i].content, strlen(f[i].content));
                        free(f[i].content);
                }
        free(f);
}

static bool vrrp_password_ok(const char *s) {
        size_t n = strlen(s);
        if (n < 1 || n > 8)
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p > '~' || strchr("\"'\\!#", *p))
                        return false;
        return true;
}

static bool is_ipv6(const char *a) {
        return strchr(a, ':') != NULL;
}

/* The head every VIP pod has: kube-system, hostNetwork, system-node-critical, one container. */
static cJSON *pod_head(struct json_builder *b, const char *name, const char *image, cJSON **ret_ctr,
                       cJSON **ret_spec) {
        cJSON *pod = jb_object(b), *meta, *labels, *spec, *ctr;
        jb_str(b, pod, "apiVersion", "v1");
        jb_str(b, pod, "kind", "Pod");
        meta = jb_obj(b, pod, "metadata");
        jb_null(b, meta, "creationTimestamp");
        labels = jb_obj(b, meta, "labels");
        jb_str(b, labels, "component", name);
        jb_str(b, labels, "tier", "control-plane");
        jb_str(b, meta, "name", name);
        jb_str(b, meta, "namespace", "kube-system");
        spec = jb_obj(b, pod, "spec");
        ctr = jb_obj(b, jb_arr(b, spec, "containers"), NULL);
        jb_str(b, ctr, "image", image);
        jb_str(b, ctr, "imagePullPolicy", "IfNotPresent");
        jb_str(b, ctr, "name", name);
        jb_obj(b, ctr, "resources");
        *ret_ctr = ctr;
        *ret_spec = spec;
        return pod;
}

static void add_caps(struct json_builder *b, cJSON *ctr, const char *const *caps) {
        jb_strs(b, jb_obj(b, jb_obj(b, ctr, "securityContext"), "capabilities"), "add", caps);
}

static void add_mount(struct json_builder *b, cJSON *spec, cJSON *ctr, const char *name,
                      const char *host_path, const char *mount_path, const char *type) {
        cJSON *mounts =
                cJSON_GetObjectItemCaseSensitive(ctr, "volumeMounts") ?: jb_arr(b, ctr, "volumeMounts");
        cJSON *vols = cJSON_GetObjectItemCaseSensitive(spec, "volumes") ?: jb_arr(b, spec, "volumes");
        cJSON *m = jb_obj(b, mounts, NULL), *v = jb_obj(b, vols, NULL), *hp;
        jb_str(b, m, "mountPath", mount_path);
        jb_str(b, m, "name", name);
        jb_bool(b, m, "readOnly", true);
        hp = jb_obj(b, v, "hostPath");
        jb_str(b, hp, "path", host_path);
        if (type)
                jb_str(b, hp, "type", type);
        jb_str(b, v, "name", name);
}

static void pod_tail(struct json_builder *b, cJSON *pod, cJSON *spec) {
        jb_bool(b, spec, "hostNetwork", true);
        jb_str(b, spec, "priorityClassName", "system-node-critical");
        jb_obj(b, pod, "status");
}

static int emit(struct json_builder *b, cJSON *pod, char **ret) {
        cJSON *p = NULL;
        int r = jb_finish(b, pod, &p);
        if (r < 0)
                return r;
        r = yaml_emit(p, ret);
        cJSON_Delete(p);
        return r;
}

/* kubeadm's HA documentation, "Option 2: Run the services as static pods": keepalived's manifest, with the
 * command the image's entrypoint would run made explicit (foreground, logs on the console). */
static int keepalived_pod(char **ret) {
        static const char *const caps[] = {"NET_ADMIN", "NET_BROADCAST", "NET_RAW", NULL};
        static const char *const cmd[] = {"keepalived",
                                          "--dont-fork",
                                          "--log-console",
                                          "--log-detail",
                                          "--use-file=/usr/local/etc/keepalived/keepalived.conf",
                                          NULL};
        struct json_builder b = {};
        cJSON *ctr, *spec, *pod = pod_head(&b, "keepalived", MF_KEEPALIVED_IMAGE, &ctr, &spec);
        jb_strs(&b, ctr, "command", cmd);
        add_caps(&b, ctr, caps);
        add_mount(&b, spec, ctr, "config", MF_KEEPALIVED_CONF, "/usr/local/etc/keepalived/keepalived.conf",
                  "File");
        add_mount(&b, spec, ctr, "check", MF_KEEPALIVED_CHECK, MF_KEEPALIVED_CHECK, "File");
        pod_tail(&b, pod, spec);
        return emit(&b, pod, ret);
}

/* The same page's haproxy manifest: its liveness probe asks /healthz through haproxy's own port. */
static int haproxy_pod(const struct mf_vip_spec *s, const char *cfg, char **ret) {
        static const char *const cmd[] = {"haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg",
                                          NULL};
        struct json_builder b = {};
        cJSON *ctr, *spec, *pod = pod_head(&b, "haproxy", MF_HAPROXY_IMAGE, &ctr, &spec), *probe, *hg;
        /* The kubelet restarts a static pod whose manifest changed: the backends' list is in it. */
        unsigned long long h = 1469598103934665603ULL;
        for (const char *p = cfg; *p; p++)
                h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        jb_strf(&b, jb_obj(&b, cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "annotations"),
                "kube-firstboot.io/haproxy-cfg", "%016llx", h);
        jb_strs(&b, ctr, "command", cmd);
        probe = jb_obj(&b, ctr, "livenessProbe");
        jb_num(&b, probe, "failureThreshold", 8);
        hg = jb_obj(&b, probe, "httpGet");
        jb_str(&b, hg, "host", is_ipv6(s->node_address) ? "::1" : "127.0.0.1");
        jb_str(&b, hg, "path", "/healthz");
        jb_num(&b, hg, "port", s->port);
        jb_str(&b, hg, "scheme", "HTTPS");
        add_mount(&b, spec, ctr, "haproxyconf", MF_HAPROXY_CFG, "/usr/local/etc/haproxy/haproxy.cfg",
                  "FileOrCreate");
        pod_tail(&b, pod, spec);
        return emit(&b, pod, ret);
}

/* kube-vip's "Static Pods" page, the ARP example of `kube-vip manifest pod --controlplane --arp
 * --leaderElection`: without --services (control plane only), its env in the page's order. */
static int kube_vip_pod(const struct mf_vip_spec *s, char **ret) {
        static const char *const caps[] = {"NET_ADMIN", "NET_RAW", "SYS_TIME", NULL};
        struct json_builder b = {};
        cJSON *ctr, *spec, *pod = pod_head(&b, "kube-vip", MF_KUBE_VIP_IMAGE, &ctr, &spec), *env, *ha;
        char port[8];
        const struct {
                const char *name, *value;
        } vars[] = {
                {"vip_arp", "true"},
                {"port", port},
                {"vip_interface", s->interface},
                {"vip_cidr", is_ipv6(s->address) ? "128" : "32"},
                {"cp_enable", "true"},
                {"cp_namespace", "kube-system"},
                {"vip_ddns", "false"},
                {"vip_leaderelection", "true"},
                {"vip_leaseduration", "5"},
                {"vip_renewdeadline", "3"},
                {"vip_retryperiod", "1"},
                {"address", s->address},
        };
        snprintf(port, sizeof(port), "%u", s->port);
        jb_strs(&b, ctr, "args", (const char *const[]){"manager", NULL});
        env = jb_arr(&b, ctr, "env");
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                cJSON *e = jb_obj(&b, env, NULL);
                jb_str(&b, e, "name", vars[i].name);
                jb_str(&b, e, "value", vars[i].value);
        }
        add_caps(&b, ctr, caps);
        add_mount(&b, spec, ctr, "kubeconfig",
                  s->kube_vip_super_admin ? "/etc/kubernetes/super-admin.conf"
                                          : "/etc/kubernetes/admin.conf",
                  KUBE_VIP_KUBECONFIG, NULL);
        ha = jb_obj(&b, jb_arr(&b, spec, "hostAliases"), NULL);
        jb_strs(&b, ha, "hostnames", (const char *const[]){"kubernetes", NULL});
        jb_str(&b, ha, "ip", "127.0.0.1");
        pod_tail(&b, pod, spec);
        return emit(&b, pod, ret);
}

/* The HA documentation's keepalived.conf: one VRRP instance tracking the apiserver check. Every node starts
 * BACKUP with nopreempt: the first whose check passes takes the address (the init node, whose apiserver is
 * the first), and the address moves only when its holder fails. The priorities differ so that the backups'
 * timers (3 adverts and a skew of (256 - priority) / 256 of one) run out one after the other, not together.
 */
static char *keepalived_conf(const struct mf_vip_spec *s) {
        _cleanup_free_ char *auth = s->password ? strdupf("    authentication {\n"
                                                          "        auth_type PASS\n"
                                                          "        auth_pass %s\n"
                                                          "    }\n",
                                                          s->password)
                                                : strdup("");
        char *out;
        if (!auth)
                return NULL;
        out = strdupf(
                "! keepalived.conf written by kube-firstboot (FirstbootConfiguration.controlPlaneVIP)\n"
                "global_defs {\n"
                "    router_id kube_apiserver_%u\n"
                "    enable_script_security\n"
                "    script_user root\n"
                "}\n"
                "vrrp_script check_apiserver {\n"
                "    script \"" MF_KEEPALIVED_CHECK "\"\n"
                "    interval 1\n"
                "    timeout 3\n"
                "    fall 3\n"
                "    rise 1\n"
                "}\n"
                "vrrp_instance kube_apiserver {\n"
                "    state BACKUP\n"
                "    nopreempt\n"
                "    interface %s\n"
                "    virtual_router_id %u\n"
                "    priority %u\n"
                "    advert_int 1\n"
                "%s    virtual_ipaddress {\n"
                "        %s\n"
                "    }\n"
                "    track_script {\n"
                "        check_apiserver\n"
                "    }\n"
                "}\n",
                s->virtual_router_id, s->interface, s->virtual_router_id, s->priority ?: 100, auth,
                s->address);
        explicit_bzero(auth, strlen(auth));
        return out;
}

static char *url_host(const char *a) {
        return is_ipv6(a) ? strdupf("[%s]", a) : strdup(a);
}

/* The HA documentation's check_apiserver.sh: this node's apiserver, and the VIP's port when it holds the
 * address. */
static char *check_script(const struct mf_vip_spec *s) {
        _cleanup_free_ char *node = url_host(s->node_address), *vip = url_host(s->address);
        if (!node || !vip)
                return NULL;
        return strdupf(
                "#!/bin/sh\n"
                "# Written by kube-firstboot: keepalived holds %s only where this succeeds.\n"
                "errorExit() {\n"
                "    echo \"*** $*\" 1>&2\n"
                "    exit 1\n"
                "}\n"
                "curl --silent --fail --max-time 2 --insecure https://%s:%u/healthz -o /dev/null || errorExit \"Error GET https://%s:%u/healthz\"\n"
                "if ip addr | grep -q ' %s/'; then\n"
                "    curl --silent --fail --max-time 2 --insecure https://%s:%u/healthz -o /dev/null || errorExit \"Error GET https://%s:%u/healthz\"\n"
                "fi\n",
                s->address, node, s->apiserver_port, node, s->apiserver_port, s->address, vip, s->port, vip,
                s->port);
}

static int append_server(char **servers, const char *a, unsigned port) {
        _cleanup_free_ char *host = url_host(a), *name = strdup(a);
        char *more;
        if (!host || !name)
                return -ENOMEM;
        for (char *p = name; *p; p++)
                if (*p == '.' || *p == ':')
                        *p = '-';
        more = strdupf("%s    server apiserver-%s %s:%u\n", *servers, name, host, port);
        if (!more)
                return -ENOMEM;
        free(*servers);
        *servers = more;
        return 0;
}

static char *haproxy_cfg(const struct mf_vip_spec *s) {
        _cleanup_free_ char *servers = strdup(""), *bind = NULL;
        bool self = false;
        if (!servers)
                return NULL;
        for (char *const *a = s->backends; a && *a; a++) {
                self = self || streq(*a, s->node_address);
                if (append_server(&servers, *a, s->apiserver_port) < 0)
                        return NULL;
        }
        if (!self && append_server(&servers, s->node_address, s->apiserver_port) < 0)
                return NULL;
        bind = strdupf("%s:%u", is_ipv6(s->address) ? ":::" : "*", s->port);
        if (!bind)
                return NULL;
        return strdupf(
                "# haproxy.cfg written by kube-firstboot (FirstbootConfiguration.controlPlaneVIP): the\n"
                "# control planes' apiservers behind %s:%u, as kubeadm's HA documentation configures it.\n"
                "global\n"
                "    log stdout format raw local0 info\n"
                "    maxconn 4000\n"
                "defaults\n"
                "    mode tcp\n"
                "    log global\n"
                "    option tcplog\n"
                "    option dontlognull\n"
                "    option redispatch\n"
                "    retries 1\n"
                "    timeout connect 5s\n"
                "    timeout client 60s\n"
                "    timeout server 60s\n"
                "    timeout tunnel 1h\n"
                "    timeout check 5s\n"
                "frontend apiserver\n"
                "    bind %s\n"
                "    default_backend apiserverbackend\n"
                "backend apiserverbackend\n"
                "    balance roundrobin\n"
                "    option httpchk\n"
                "    http-check send meth GET uri /healthz\n"
                "    http-check expect status 200\n"
                "    default-server check check-ssl verify none inter 2s fall 2 rise 1\n"
                "%s",
                s->address, s->port, bind, servers);
}

static int add_file(struct mf_file *files, size_t *n, const char *path, char *content, unsigned mode) {
        if (!content)
                return -ENOMEM;
        files[(*n)++] = (struct mf_file){.path = path, .content = content, .mode = mode};
        return 0;
}

int mf_vip_files(const struct mf_vip_spec *s, struct mf_file **ret, size_t *ret_n) {
        struct mf_file *files;
        size_t n = 0;
        char *yaml = NULL;
        int r;

        if (!s->address || !s->interface || !s->node_address || s->port == 0 || s->apiserver_port == 0)
                return log_debug_errno(EINVAL, "controlPlaneVIP spec incomplete");
        if (!s->kube_vip && (s->virtual_router_id < 1 || s->virtual_router_id > 255 || s->priority > 254 ||
                             (s->password && !vrrp_password_ok(s->password))))
                return log_debug_errno(EINVAL, "controlPlaneVIP: bad router id or password");
        files = calloc(5, sizeof(*files));
        if (!files)
                return -ENOMEM;
        if (s->kube_vip) {
                r = kube_vip_pod(s, &yaml);
                if (r >= 0)
                        r = add_file(files, &n, "/etc/kubernetes/manifests/kube-vip.yaml", yaml, 0600);
        } else {
                r = add_file(files, &n, MF_KEEPALIVED_CONF, keepalived_conf(s), 0600);
                if (r >= 0)
                        r = add_file(files, &n, MF_KEEPALIVED_CHECK, check_script(s), 0755);
                if (r >= 0)
                        r = add_file(files, &n, MF_HAPROXY_CFG, haproxy_cfg(s), 0644);
                if (r >= 0 && (r = keepalived_pod(&yaml)) >= 0)
                        r = add_file(files, &n, "/etc/kubernetes/manifests/keepalived.yaml", yaml, 0600);
                if (r >= 0 && (r = haproxy_pod(s, files[2].content, &yaml)) >= 0)
                        r = add_file(files, &n, "/etc/kubernetes/manifests/haproxy.yaml", yaml, 0600);
        }
        if (r < 0) {
                mf_files_free(files, n);
                return r;
        }
        *ret = files;
        *ret_n = n;
        return 0;
}
