/* SPDX-License-Identifier: Apache-2.0 */
/* kubeadm reset for our nodes: see reset.h for the order and the rules. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/cluster/etcd-remove.h"
#include "firstboot/cluster/kubeapi.h"
#include "firstboot/engine/phases.h"
#include "firstboot/engine/status.h"
#include "firstboot/flows/node.h"
#include "firstboot/flows/reset.h"
#include "firstboot/host/mounts.h"
#include "firstboot/host/preflight.h"
#include "firstboot/host/spawn.h"
#include "pki/cert.h"

#define ETCD_MANIFEST       FB_MANIFESTS_DIR "/etcd.yaml"
#define ADMIN_CONF          "/etc/kubernetes/admin.conf"
#define DEFAULT_CERT_DIR    "/etc/kubernetes/pki"
#define DEFAULT_ETCD_DATA   "/var/lib/etcd"
#define TMP_DIR             "/etc/kubernetes/tmp"
#define KUBELET_HEALTHZ     10248
#define POD_STOP_WAIT_MS    90000ull
#define NODE_DELETE_WAIT_MS 60000ull

static const char *const kubelet_stop_command[] = {"systemctl", "disable", "--now", "kubelet", NULL};

static const char *const kubeconfig_files[] = {
        "/etc/kubernetes/admin.conf",
        "/etc/kubernetes/super-admin.conf",
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/bootstrap-kubelet.conf",
        "/etc/kubernetes/controller-manager.conf",
        "/etc/kubernetes/scheduler.conf",
};

/* What this node's own files say. */
struct facts {
        bool etcd_manifest;
        char *etcd_name, *peer_url, *data_dir, *cert_dir, *node_name;
        char **etcd_endpoints;
        char **manifests;  /* file names in /etc/kubernetes/manifests */
        unsigned ports[8]; /* what the static pods listen on */
        size_t n_ports;
        char *ca, *cert, *key; /* etcd CA and healthcheck-client; key wiped */
};

static void facts_done(struct facts *f) {
        free(f->etcd_name);
        free(f->peer_url);
        free(f->data_dir);
        free(f->cert_dir);
        free(f->node_name);
        strv_free(f->etcd_endpoints);
        strv_free(f->manifests);
        free(f->ca);
        free(f->cert);
        erase_and_free(f->key);
}

/* The first document of a static pod manifest under root; -ENOENT when there is none. */
static int read_manifest(const char *root, const char *path, cJSON **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        size_t len;
        int r = read_file(root, path, 1024 * 1024, &text, &len);
        if (r < 0)
                return r;
        r = yaml_parse_documents(text, len, &docs, NULL);
        if (r < 0)
                return r;
        cJSON *first = cJSON_DetachItemFromArray(docs, 0);
        if (!first)
                return -EBADMSG;
        *ret = first;
        return 0;
}

/* The value of --name=VALUE in the first container's command; NULL when absent. */
static const char *manifest_flag(const cJSON *pod, const char *name) {
        const cJSON *c = cJSON_GetArrayItem(json_get(pod, "spec.containers"), 0), *e;
        size_t l = strlen(name);
        cJSON_ArrayForEach(e, json_get(c, "command")) {
                const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
                if (s && startswith(s, "--") && strncmp(s + 2, name, l) == 0 && s[2 + l] == '=')
                        return s + 3 + l;
        }
        return NULL;
}

/* The hostPath of the pod's volume with this name; NULL when absent. */
static const char *manifest_volume(const cJSON *pod, const char *name) {
        const cJSON *v;
        cJSON_ArrayForEach(v, json_get(pod, "spec.volumes"))
                if (streq_ptr(json_get_string(v, "name"), name))
                        return json_get_string(v, "hostPath.path");
        return NULL;
}

/* The port of a URL's authority ("https://10.0.0.1:2379" -> 2379); 0 when none. */
static unsigned url_port(const char *url) {
        const char *p = url ? strrchr(url, ':') : NULL;
        unsigned port;
        if (!p || strchr(p, '/') || safe_atou(p + 1, &port) < 0 || port == 0 || port > 65535)
                return 0;
        return port;
}

static void add_port(struct facts *f, unsigned port) {
        for (size_t i = 0; i < f->n_ports; i++)
                if (f->ports[i] == port)
                        return;
        if (port && f->n_ports < ELEMENTSOF(f->ports))
                f->ports[f->n_ports++] = port;
}

/* The first item of a comma-separated list, owned. */
static char *first_of(const char *list) {
        return list ? strndup(list, strcspn(list, ",")) : NULL;
}

/* Client URLs to ask etcd at: this member's advertised ones, then the members it was started with (their
 * peer URL with the client port 2379, kubeadm's layout). */
static int etcd_endpoints(const cJSON *pod, char ***ret) {
        _cleanup_strv_free_ char **eps = NULL;
        const char *adv = manifest_flag(pod, "advertise-client-urls"),
                   *ic = manifest_flag(pod, "initial-cluster");
        for (const char *p = adv; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
                _cleanup_free_ char *u = strndup(p, strcspn(p, ","));
                if (!u || (!isempty(u) && !strv_contains(eps, u) && strv_extend(&eps, u) < 0))
                        return -ENOMEM;
        }
        for (const char *p = ic; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
                _cleanup_free_ char *item = strndup(p, strcspn(p, ","));
                const char *eq = item ? strchr(item, '=') : NULL;
                if (!item)
                        return -ENOMEM;
                if (!eq || url_port(eq + 1) != 2380)
                        continue;
                _cleanup_free_ char *u = strndup(eq + 1, strlen(eq + 1) - 4);
                _cleanup_free_ char *c = u ? strdupf("%s2379", u) : NULL;
                if (!c || (!strv_contains(eps, c) && strv_extend(&eps, c) < 0))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(eps);
        return 0;
}

/* A directory we may empty: absolute, at least two levels deep ("/etc/kubernetes/pki", not "/etc"). */
static bool cleanable_dir(const char *d) {
        const char *s;
        if (isempty(d) || d[0] != '/' || strstr(d, "/../") || endswith(d, "/.."))
                return false;
        s = strchr(d + 1, '/');
        return s && s[1] && s[1] != '/';
}

/* dirname of a file path (owned); NULL when it has none. */
static char *parent_of(const char *path) {
        const char *s = path ? strrchr(path, '/') : NULL;
        return s && s != path ? strndup(path, (size_t) (s - path)) : NULL;
}

static int gather_etcd(const char *root, struct facts *f) {
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
        int r = read_manifest(root, ETCD_MANIFEST, &pod);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        f->etcd_manifest = true;
        f->peer_url = first_of(manifest_flag(pod, "initial-advertise-peer-urls"));
        const char *name = manifest_flag(pod, "name");
        const char *data = manifest_volume(pod, "etcd-data") ?: manifest_flag(pod, "data-dir");
        f->data_dir = data ? strdup(data) : NULL;
        f->etcd_name = name ? strdup(name) : NULL;
        /* kubeadm's etcd CA is <certificatesDir>/etcd/ca.crt. */
        _cleanup_free_ char *etcd_pki = parent_of(manifest_flag(pod, "trusted-ca-file"));
        if (etcd_pki && endswith(etcd_pki, "/etcd"))
                f->cert_dir = parent_of(etcd_pki);
        _cleanup_free_ char *client = first_of(manifest_flag(pod, "advertise-client-urls"));
        add_port(f, url_port(client) ?: 2379);
        add_port(f, url_port(f->peer_url) ?: 2380);
        return etcd_endpoints(pod, &f->etcd_endpoints);
}

/* The names in the manifests directory, and the ports of the control-plane pods among them. */
static int gather_manifests(const char *root, struct facts *f) {
        static const struct {
                const char *file;
                unsigned port;
        } pods[] = {
                {"kube-apiserver.yaml", 6443},
                {"kube-controller-manager.yaml", 10257},
                {"kube-scheduler.yaml", 10259},
        };
        _cleanup_free_ char *full = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r = root_path(root, FB_MANIFESTS_DIR, &full);
        if (r < 0)
                return r;
        d = opendir(full);
        for (struct dirent *e; d && (e = readdir(d));)
                if (!streq(e->d_name, ".") && !streq(e->d_name, "..") &&
                    strv_extend(&f->manifests, e->d_name) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(pods); i++) {
                _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
                _cleanup_free_ char *path = strdupf(FB_MANIFESTS_DIR "/%s", pods[i].file);
                unsigned port;
                if (!path)
                        return -ENOMEM;
                if (read_manifest(root, path, &pod) < 0)
                        continue;
                const char *sp = manifest_flag(pod, "secure-port");
                add_port(f, sp && safe_atou(sp, &port) >= 0 ? port : pods[i].port);
                if (i == 0 && !f->cert_dir)
                        f->cert_dir = parent_of(manifest_flag(pod, "client-ca-file"));
        }
        return 0;
}

/* The kubelet's node name, from its client certificate (CN system:node:NAME). */
static char *kubelet_node_name(const char *root) {
        _cleanup_free_ char *pem = NULL, *cn = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        size_t len;
        const char *name;
        if (read_file(root, FB_KUBELET_CLIENT_CURRENT, 1024 * 1024, &pem, &len) < 0 ||
            pki_cert_from_pem(pem, len, &x) < 0 || pki_cert_common_name(x, &cn) < 0)
                return NULL;
        name = startswith(cn, "system:node:");
        return name && *name ? strdup(name) : NULL;
}

/* The certificates dir from the kubelet's config (authentication.x509.clientCAFile). */
static char *kubelet_cert_dir(const char *root) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        size_t len;
        if (read_file(root, FB_KUBELET_DIR "/config.yaml", 1024 * 1024, &text, &len) < 0 ||
            yaml_parse_documents(text, len, &docs, NULL) < 0)
                return NULL;
        return parent_of(json_get_string(cJSON_GetArrayItem(docs, 0), "authentication.x509.clientCAFile"));
}

static int gather(const char *root, struct facts *f, struct error *why) {
        int r = gather_etcd(root, f);
        if (r < 0)
                return error_set(why, r, "cannot read " ETCD_MANIFEST ": %s", strerror(-r));
        r = gather_manifests(root, f);
        if (r < 0)
                return error_set(why, r, "cannot read " FB_MANIFESTS_DIR ": %s", strerror(-r));
        if (!f->cert_dir)
                f->cert_dir = kubelet_cert_dir(root);
        if (f->cert_dir && !cleanable_dir(f->cert_dir))
                return error_set(
                        why, -EINVAL,
                        "the certificates directory '%s' (from this node's manifests or kubelet configuration) is not one reset would empty",
                        f->cert_dir);
        if (!f->cert_dir && !(f->cert_dir = strdup(DEFAULT_CERT_DIR)))
                return -ENOMEM;
        if (f->data_dir && !cleanable_dir(f->data_dir))
                return error_set(why, -EINVAL,
                                 "the etcd data directory '%s' (" ETCD_MANIFEST
                                 ") is not one reset would empty",
                                 f->data_dir);
        if (!f->data_dir && path_exists(root, DEFAULT_ETCD_DATA) >= 0 &&
            !(f->data_dir = strdup(DEFAULT_ETCD_DATA)))
                return -ENOMEM;
        f->node_name = f->etcd_name ? strdup(f->etcd_name) : kubelet_node_name(root);
        return 0;
}

/* ---- step 1: the etcd member ---- */

struct etcd_step {
        struct fb_etcd_remove_spec spec;
        struct fb_etcd_remove_plan plan;
        bool checked;         /* plan holds etcd's answer */
        struct error problem; /* why it is not safe, or could not be asked */
};

static int read_etcd_creds(const char *root, struct facts *f, struct error *why) {
        _cleanup_free_ char *ca = strdupf("%s/etcd/ca.crt", f->cert_dir),
                            *crt = strdupf("%s/etcd/healthcheck-client.crt", f->cert_dir),
                            *key = strdupf("%s/etcd/healthcheck-client.key", f->cert_dir);
        const char *bad = NULL;
        int r;
        if (!ca || !crt || !key)
                return -ENOMEM;
        if ((r = read_file(root, ca, 1024 * 1024, &f->ca, NULL)) < 0)
                bad = ca;
        else if ((r = read_file(root, crt, 1024 * 1024, &f->cert, NULL)) < 0)
                bad = crt;
        else if ((r = read_file(root, key, 1024 * 1024, &f->key, NULL)) < 0)
                bad = key;
        if (bad)
                return error_set(why, r, "cannot read %s: %s", bad, strerror(-r));
        return 0;
}

/* Asks etcd what removing this member would do; a refusal is kept in e->problem. -errno only on OOM. */
static int etcd_check(const struct fb_reset_spec *s, struct facts *f, struct etcd_step *e) {
        int r;
        if (!f->etcd_manifest)
                return 0;
        if (isempty(f->peer_url) || !f->etcd_endpoints || !f->etcd_endpoints[0]) {
                (void) error_set(
                        &e->problem, -EHOSTDOWN,
                        ETCD_MANIFEST
                        " names no peer URL (--initial-advertise-peer-urls) or client URL (--advertise-client-urls) to find this node's etcd member by");
                return 0;
        }
        r = read_etcd_creds(s->root, f, &e->problem);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        e->spec = (struct fb_etcd_remove_spec){
                .endpoints = (const char *const *) f->etcd_endpoints,
                .ca_pem = f->ca,
                .cert_pem = f->cert,
                .key_pem = f->key,
                .peer_url = f->peer_url,
        };
        r = fb_etcd_remove_check(&e->spec, &e->plan, &e->problem);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        e->checked = true;
        if (e->plan.verdict == FB_ETCD_REMOVE_UNSAFE)
                (void) error_set(&e->problem, -EHOSTDOWN, "etcd member %s (%016" PRIx64 ", %s): %s",
                                 e->plan.name[0] ? e->plan.name : "(not started)", e->plan.id, f->peer_url,
                                 e->plan.text);
        return 0;
}

static int etcd_step(const struct fb_reset_spec *s, const struct facts *f, struct etcd_step *e,
                     struct error *why) {
        const char *w = s->dry_run ? "Would remove" : "Removed";
        int r;

        if (!f->etcd_manifest) {
                printf("[reset] No etcd member on this node (no " ETCD_MANIFEST
                       "): nothing to remove from etcd\n");
                return 0;
        }
        if (e->problem.code) {
                printf("[reset] %s: leaving this node's etcd member in the etcd cluster (%s); remove it from a control plane once etcd is healthy: kube-firstboot etcd member remove ID\n",
                       s->dry_run ? "Would ignore the etcd quorum" : "Ignoring the etcd quorum",
                       e->problem.message);
                return 0;
        }
        switch (e->plan.verdict) {
        case FB_ETCD_REMOVE_GONE:
                printf("[reset] The etcd member of this node is not in the etcd cluster: %s\n",
                       e->plan.text);
                return 0;
        case FB_ETCD_REMOVE_LAST:
                printf("[reset] %s%s\n", s->dry_run ? "Would skip removing the etcd member: " : "",
                       e->plan.text);
                return 0;
        default:
                break;
        }
        if (!s->dry_run) {
                r = fb_etcd_remove_member(&e->spec, &e->plan, why);
                if (r < 0)
                        return r;
        }
        printf("[reset] %s the etcd member on this node from the etcd cluster: %s (%016" PRIx64
               ", %s%s); %s\n",
               w, e->plan.name[0] ? e->plan.name : "(not started)", e->plan.id, f->peer_url,
               e->plan.learner ? ", a learner" : "", e->plan.text);
        return 0;
}

/* ---- step 2: the Node ---- */

static int node_step(const struct fb_reset_spec *s, const struct facts *f, struct kube_client *api,
                     struct error *why) {
        _cleanup_free_ char *path = NULL;
        unsigned long long deadline = clock_now_ms() + NODE_DELETE_WAIT_MS;
        int r;

        if (!s->delete_node)
                return 0;
        if (s->dry_run) {
                printf("[reset] Would delete the Node %s (with " ADMIN_CONF ")\n", f->node_name);
                return 0;
        }
        path = kube_path("v1", NULL, "nodes", f->node_name);
        if (!path)
                return -ENOMEM;
        /* Right after this node's etcd member went, its own apiserver fails until the endpoint's load
         * balancer takes it out: transient answers are retried. */
        for (unsigned attempt = 0;; attempt++) {
                r = kube_delete(api, path);
                if (r == -ENOENT) {
                        printf("[reset] The Node %s does not exist (deleted already)\n", f->node_name);
                        return 0;
                }
                if (r >= 0) {
                        printf("[reset] Deleted the Node %s\n", f->node_name);
                        return 0;
                }
                unsigned long long d = clock_backoff_ms(500, 5000, attempt);
                if (!kube_error_is_transient(r) || clock_now_ms() + d > deadline)
                        return error_set(why, r, "cannot delete the Node %s at %s: %s", f->node_name,
                                         kube_client_server(api), kube_client_error(api));
                clock_sleep_ms(d);
        }
}

/* ---- step 3: the static pods ---- */

static char *joined(char *const *l, const char *prefix) {
        _cleanup_strv_free_ char **full = NULL;
        for (char *const *p = l; p && *p; p++)
                if (strv_consume(&full, strdupf("%s%s", prefix, *p)) < 0)
                        return NULL;
        return strjoin_sep((const char *const *) full, strv_length(full), " ") ?: strdup("");
}

/* The ports still held, "2379 6443", or "" when all are free. */
static void busy_ports(const struct facts *f, char *buf, size_t len) {
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < f->n_ports && off < len; i++)
                if (fb_host_port_free(f->ports[i]) < 0)
                        off += (size_t) snprintf(buf + off, len - off, "%s%u", off ? " " : "", f->ports[i]);
}

static int static_pods_step(const struct fb_reset_spec *s, const struct facts *f, struct error *why) {
        _cleanup_free_ char *list = joined(f->manifests, FB_MANIFESTS_DIR "/"), *failed = NULL;
        char busy[128];
        int r;

        if (!list)
                return -ENOMEM;
        if (!f->manifests) {
                printf("[reset] No static pod manifests in " FB_MANIFESTS_DIR "\n");
                return 0;
        }
        if (s->dry_run) {
                printf("[reset] Would remove the static pod manifests [%s] and %s\n", list,
                       s->host ? "wait for the kubelet to stop their pods"
                               : "not wait for their pods to stop (under --root without --allow-host)");
                return 0;
        }
        r = clean_dir(s->root, FB_MANIFESTS_DIR, &failed, NULL);
        if (r < 0)
                return error_set(why, r, "cannot remove %s: %s", failed ?: FB_MANIFESTS_DIR, strerror(-r));
        if (!s->host) {
                printf("[reset] Removed the static pod manifests [%s]\n", list);
                return 0;
        }
        unsigned long long deadline = clock_now_ms() + POD_STOP_WAIT_MS;
        for (busy_ports(f, busy, sizeof(busy)); busy[0] && clock_now_ms() < deadline;
             busy_ports(f, busy, sizeof(busy))) {
                if (!tcp_answers("127.0.0.1", KUBELET_HEALTHZ, 1000))
                        break;
                clock_sleep_ms(500);
        }
        if (!busy[0])
                printf("[reset] Removed the static pod manifests [%s]; their pods are stopped\n", list);
        else
                log_warning(
                        "Removed the static pod manifests [%s], but ports %s are still in use%s: stop what holds them (crictl rm -f) before setting this node up again.",
                        list, busy,
                        tcp_answers("127.0.0.1", KUBELET_HEALTHZ, 1000)
                                ? ""
                                : " and the kubelet does not answer on 127.0.0.1:10248 to stop their pods");
        return 0;
}

/* ---- steps 4 and 5: the kubelet, its mounts ---- */

static void kubelet_step(const struct fb_reset_spec *s) {
        _cleanup_free_ char *out = NULL;
        const char *cmd = "systemctl disable --now kubelet";
        int status = 0, r;

        if (s->dry_run) {
                printf("[reset] Would stop the kubelet service ('%s')%s\n", cmd,
                       s->host ? "" : ": not under --root without --allow-host");
                return;
        }
        if (!s->host) {
                printf("[reset] Not stopping the kubelet: under --root, '%s' is not run on this machine (add --allow-host when the root is this machine's own)\n",
                       cmd);
                return;
        }
        r = fb_spawn_capture((char *const *) kubelet_stop_command, 60000, 4096, &out, &status);
        if (r >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                printf("[reset] Stopped the kubelet service ('%s')\n", cmd);
                return;
        }
        /* As kubeadm: a kubelet that cannot be stopped is a warning, not a failure. */
        if (r < 0)
                log_warning("The kubelet could not be stopped: '%s' could not run: %s", cmd, strerror(-r));
        else
                log_warning("The kubelet could not be stopped: '%s' failed (%s %d)%s%s", cmd,
                            WIFEXITED(status) ? "exit status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                            isempty(out) ? "" : ": ", isempty(out) ? "" : strstrip(out));
}

static int unmount_step(const struct fb_reset_spec *s, struct error *why) {
        _cleanup_free_ char *full = NULL, *failed = NULL;
        char real[PATH_MAX];
        unsigned n = 0;
        int r;

        if (!s->host)
                return 0;
        if (s->dry_run) {
                printf("[reset] Would unmount mounted directories in \"" FB_KUBELET_DIR "\"\n");
                return 0;
        }
        r = root_path(s->root, FB_KUBELET_DIR, &full);
        if (r < 0)
                return r;
        if (!realpath(full, real))
                return 0; /* no kubelet directory: nothing mounted in it */
        r = fb_unmount_below(real, &n, &failed);
        if (r < 0)
                return error_set(why, r, "cannot unmount %s: %s; " FB_KUBELET_DIR " is left as it is",
                                 failed ?: "the mounts in " FB_KUBELET_DIR, strerror(-r));
        printf("[reset] Unmounted %u mounted director%s in \"" FB_KUBELET_DIR "\"\n", n,
               n == 1 ? "y" : "ies");
        return 0;
}

/* ---- step 6: files ---- */

/* Empties each directory; a failure is reported (naming the entry) and the rest still done. */
static int clean_dirs(const struct fb_reset_spec *s, const char *const *dirs, size_t n, const char *what,
                      struct error *why) {
        _cleanup_free_ char *list = strjoin_sep(dirs, n, " ");
        int ret = 0;

        if (!list)
                return -ENOMEM;
        if (s->dry_run) {
                printf("[reset] Would delete %s: [%s]\n", what, list);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *failed = NULL;
                int r = clean_dir(s->root, dirs[i], &failed, NULL);
                if (r < 0) {
                        log_error("Cannot delete %s: %s", failed ?: dirs[i],
                                  r == -EXDEV ? "another file system is mounted there" : strerror(-r));
                        if (ret == 0)
                                ret = error_set(why, r, "cannot delete %s: %s", failed ?: dirs[i],
                                                r == -EXDEV ? "another file system is mounted there"
                                                            : strerror(-r));
                }
        }
        if (ret == 0)
                printf("[reset] Deleted %s: [%s]\n", what, list);
        return ret;
}

static int delete_files(const struct fb_reset_spec *s, const char *const *files, size_t n, const char *what,
                        struct error *why) {
        _cleanup_free_ char *list = strjoin_sep(files, n, " ");
        int ret = 0;

        if (!list)
                return -ENOMEM;
        if (s->dry_run) {
                printf("[reset] Would delete %s: [%s]\n", what, list);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                int r = unlink_file(s->root, files[i]);
                if (r < 0) {
                        log_error("Cannot delete %s: %s", files[i], strerror(-r));
                        if (ret == 0)
                                ret = error_set(why, r, "cannot delete %s: %s", files[i], strerror(-r));
                }
        }
        if (ret == 0)
                printf("[reset] Deleted %s: [%s]\n", what, list);
        return ret;
}

static int files_step(const struct fb_reset_spec *s, const struct facts *f, struct error *why) {
        const char *dirs[4] = {FB_MANIFESTS_DIR, FB_KUBELET_DIR, f->cert_dir};
        const char *state_files[] = {FB_STATUS_PATH, FB_SENTINEL_PATH};
        const char *state_dir[] = {FB_STATE_DIR};
        size_t nd = 3;
        int r, ret = 0;

        if (s->cleanup_tmp_dir)
                dirs[nd++] = TMP_DIR;
        if (f->data_dir) {
                r = clean_dirs(s, (const char *const *) &f->data_dir, 1,
                               "contents of the etcd data directory", why);
                ret = ret ?: r;
        }
        r = clean_dirs(s, dirs, nd, "contents of directories", why);
        ret = ret ?: r;
        r = delete_files(s, kubeconfig_files, ELEMENTSOF(kubeconfig_files), "files", why);
        ret = ret ?: r;
        /* Last: while any of the above failed, a later 'run' still finds this node set up. */
        if (ret < 0)
                return ret;
        r = clean_dirs(s, state_dir, 1, "kube-firstboot's state (journal, done marker, join-info)", why);
        ret = ret ?: r;
        r = delete_files(s, state_files, ELEMENTSOF(state_files), "kube-firstboot's status files", why);
        return ret ?: r;
}

/* ---- the whole ---- */

static int refuse(const struct etcd_step *e, struct error *why) {
        return error_set(
                why, -EHOSTDOWN,
                "%s. Nothing was changed. Bring the unhealthy etcd members back (or remove them) and run reset again; when the etcd cluster is lost for good, --ignore-etcd-quorum resets this node anyway and leaves its member in etcd",
                e->problem.message);
}

int fb_reset(const struct fb_reset_spec *s, struct error *why) {
        _cleanup_(facts_done) struct facts f = {};
        _cleanup_(kube_client_freep) struct kube_client *api = NULL;
        struct etcd_step e = {};
        int r;

        r = gather(s->root, &f, why);
        if (r < 0)
                return r;
        if (s->delete_node) {
                r = kube_client_from_kubeconfig(s->root, ADMIN_CONF, &api);
                if (r < 0)
                        return error_set(
                                why, -EINVAL,
                                "--delete-node needs " ADMIN_CONF
                                " (%s); on a worker, delete the Node from a control plane instead: kubectl delete node %s",
                                strerror(-r), f.node_name ?: "NAME");
                if (!f.node_name)
                        return error_set(why, -EINVAL,
                                         "--delete-node: this node's name is unknown (no " ETCD_MANIFEST
                                         " and no " FB_KUBELET_CLIENT_CURRENT ")");
        }
        r = etcd_check(s, &f, &e);
        if (r < 0)
                return r;
        if (e.problem.code && !s->ignore_quorum) {
                r = refuse(&e, why);
                fb_etcd_remove_plan_done(&e.plan);
                return r;
        }

        if (s->dry_run)
                printf("[reset] Dry run: nothing is changed\n");
        r = etcd_step(s, &f, &e, why);
        fb_etcd_remove_plan_done(&e.plan);
        if (r >= 0)
                r = node_step(s, &f, api, why);
        if (r >= 0)
                r = static_pods_step(s, &f, why);
        if (r < 0)
                return r;
        kubelet_step(s);
        r = unmount_step(s, why);
        if (r < 0)
                return r;
        return files_step(s, &f, why);
}
