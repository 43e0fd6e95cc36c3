/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/log.h"
#include "common/strutil.h"
#include "manifests/staticpod.h"

#define DEFAULT_PKI "/etc/kubernetes/pki"

static const char *const component_names[_MF_COMPONENT_MAX] = {
        [MF_ETCD] = "etcd",
        [MF_KUBE_APISERVER] = "kube-apiserver",
        [MF_KUBE_CONTROLLER_MANAGER] = "kube-controller-manager",
        [MF_KUBE_SCHEDULER] = "kube-scheduler",
};

const char *mf_component_name(enum mf_component c) {
        return c >= 0 && c < _MF_COMPONENT_MAX ? component_names[c] : NULL;
}

/* ---- small owned lists ---- */

struct kv {
        char *name, *value;
};

struct kvlist {
        struct kv *items;
        size_t n;
        bool oom;
};

static void kvlist_done(struct kvlist *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].value);
        }
        free(l->items);
        *l = (struct kvlist){};
}

static void kvlist_add(struct kvlist *l, const char *name, const char *value) {
        struct kv *t;
        if (l->oom)
                return;
        t = realloc(l->items, sizeof(*t) * (l->n + 1));
        if (!t) {
                l->oom = true;
                return;
        }
        l->items = t;
        t[l->n].name = strdup(name);
        t[l->n].value = strdup(value ?: "");
        if (!t[l->n].name || !t[l->n].value) {
                free(t[l->n].name);
                free(t[l->n].value);
                l->oom = true;
                return;
        }
        l->n++;
}

_printf_(3, 4) static void kvlist_addf(struct kvlist *l, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *v = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                v = NULL;
        va_end(ap);
        if (!v)
                l->oom = true;
        else
                kvlist_add(l, name, v);
}

static void kvlist_remove(struct kvlist *l, const char *name) {
        size_t o = 0;
        for (size_t i = 0; i < l->n; i++) {
                if (streq(l->items[i].name, name)) {
                        free(l->items[i].name);
                        free(l->items[i].value);
                        continue;
                }
                l->items[o++] = l->items[i];
        }
        l->n = o;
}

static int kv_cmp(const void *a, const void *b) {
        const struct kv *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r ? r : strcmp(x->value, y->value);
}

/* An extra argument replaces every default of its name; extras may repeat a name. The defaults are
 * sorted by name (then value); the extras follow in the user's order where kubeadm keeps it (some flags,
 * such as --service-account-issuer, mean something by their order), else everything is sorted. */
static void kvlist_merge_extras(struct kvlist *l, const struct mf_arg *extra, size_t n, bool user_order) {
        for (size_t i = 0; i < n; i++)
                kvlist_remove(l, extra[i].name);
        if (user_order)
                qsort_safe(l->items, l->n, sizeof(struct kv), kv_cmp);
        for (size_t i = 0; i < n; i++)
                kvlist_add(l, extra[i].name, extra[i].value);
        if (!user_order)
                qsort_safe(l->items, l->n, sizeof(struct kv), kv_cmp);
}

static const char *kvlist_get(const struct kvlist *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name))
                        return l->items[i].value;
        return NULL;
}

/* ---- JSON building ---- */

static bool is_ipv6(const char *a) {
        return a && strchr(a, ':');
}

char *mf_url(const char *scheme, const char *host, unsigned port) {
        return is_ipv6(host) ? strdupf("%s://[%s]:%u", scheme, host, port)
                             : strdupf("%s://%s:%u", scheme, host, port);
}

static int volume_cmp(const void *a, const void *b) {
        return strcmp(((const struct mf_volume *) a)->name, ((const struct mf_volume *) b)->name);
}

static cJSON *probe(const char *host, const char *path, const char *scheme, unsigned port, bool named_port,
                    int delay, int timeout, int failures, int period) {
        struct json_builder b = {};
        cJSON *p = jb_object(&b), *get;

        jb_num(&b, p, "failureThreshold", failures);
        get = jb_obj(&b, p, "httpGet");
        if (host)
                jb_str(&b, get, "host", host);
        jb_str(&b, get, "path", path);
        if (named_port)
                jb_str(&b, get, "port", "probe-port");
        else
                jb_num(&b, get, "port", port);
        jb_str(&b, get, "scheme", scheme);
        if (delay > 0)
                jb_num(&b, p, "initialDelaySeconds", delay);
        jb_num(&b, p, "periodSeconds", period);
        jb_num(&b, p, "timeoutSeconds", timeout);
        return jb_result(&b, p);
}

static int cmp_child_keys(const void *a, const void *b) {
        const cJSON *x = *(const cJSON *const *) a, *y = *(const cJSON *const *) b;
        return strcmp(x->string, y->string);
}

void mf_sort_keys(cJSON *j) {
        size_t n = 0, i = 0;
        cJSON **v;

        if (!j)
                return;
        for (cJSON *c = j->child; c; c = c->next) {
                mf_sort_keys(c);
                n++;
        }
        if (!cJSON_IsObject(j) || n < 2)
                return;
        v = malloc(sizeof(*v) * n);
        if (!v)
                return; /* unsorted is still valid YAML */
        for (cJSON *c = j->child; c; c = c->next)
                v[i++] = c;
        qsort_safe(v, n, sizeof(*v), cmp_child_keys);
        for (i = 0; i < n; i++) {
                v[i]->prev = i > 0 ? v[i - 1] : v[n - 1]; /* cJSON keeps the last item in child->prev */
                v[i]->next = i + 1 < n ? v[i + 1] : NULL;
        }
        j->child = v[0];
        free(v);
}

static bool host_dir_exists(const char *root, const char *path) {
        _cleanup_free_ char *full = NULL;
        struct stat st;
        return root_path(root, path, &full) >= 0 && stat(full, &st) == 0 && S_ISDIR(st.st_mode);
}

struct pod_parts {
        struct kvlist args;
        struct mf_volume volumes[32];
        size_t n_volumes;
        const char *image_name, *image_tag;
        const char *cpu, *memory;
        cJSON *liveness, *readiness, *startup;
        unsigned probe_port;
        const char *annotation_key;
        char *annotation_value;
        char *etcd_dirs[3];  /* host dirs of external etcd files, owned */
        bool flexvolume_dir; /* the controller-manager's flexvolume plugin dir (kubeadm before 1.36) */
        char *owned[48];     /* paths under certificatesDir the volumes point at */
        size_t n_owned;
        bool mounts_in_order; /* etcd: mounts as listed, not sorted (kubeadm's GetEtcdPodSpec) */
        const char *cert_dir;
        const char *probe_host_override, *probe_scheme; /* etcd's, from listen-metrics-urls */
};

static void pod_parts_done(struct pod_parts *p) {
        kvlist_done(&p->args);
        cJSON_Delete(p->liveness);
        cJSON_Delete(p->readiness);
        cJSON_Delete(p->startup);
        free(p->annotation_value);
        for (size_t i = 0; i < ELEMENTSOF(p->etcd_dirs); i++)
                free(p->etcd_dirs[i]);
        for (size_t i = 0; i < p->n_owned; i++)
                free(p->owned[i]);
}

/* "<certificatesDir>/<name>", owned by the parts (NULL on OOM, which the callers' lists record). */
static const char *pki(struct pod_parts *p, const char *name) {
        char *v = p->n_owned < ELEMENTSOF(p->owned) ? strdupf("%s/%s", p->cert_dir, name) : NULL;
        if (!v) {
                p->args.oom = true;
                return NULL;
        }
        p->owned[p->n_owned++] = v;
        return v;
}

static void add_volume(struct pod_parts *p, const char *name, const char *path, bool ro, const char *type) {
        if (p->n_volumes < ELEMENTSOF(p->volumes))
                p->volumes[p->n_volumes++] = (struct mf_volume){.name = name,
                                                                .host_path = path,
                                                                .mount_path = path,
                                                                .read_only = ro,
                                                                .path_type = type};
}

/* CA trust dirs of RHEL/Debian hosts (kubeadm's caCertsExtraVolumePaths): mounted only when present. */
static const struct {
        const char *name, *path;
} ca_trust_dirs[] = {
        {"etc-ca-certificates", "/etc/ca-certificates"},
        {"etc-pki-ca-trust", "/etc/pki/ca-trust"},
        {"etc-pki-tls-certs", "/etc/pki/tls/certs"},
        {"usr-local-share-ca-certificates", "/usr/local/share/ca-certificates"},
        {"usr-share-ca-certificates", "/usr/share/ca-certificates"},
};

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* CA trust dirs of RHEL/Debian hosts: mounted only when present, as kubeadm does. */
static void add_ca_trust_volumes(struct pod_parts *p, const char *root) {
        add_volume(p, "ca-certs", "/etc/ssl/certs", true, "DirectoryOrCreate");
        add_volume(p, "k8s-certs", p->cert_dir, true, "DirectoryOrCreate");
        for (size_t i = 0; i < ELEMENTSOF(ca_trust_dirs); i++)
                if (host_dir_exists(root, ca_trust_dirs[i].path))
                        add_volume(p, ca_trust_dirs[i].name, ca_trust_dirs[i].path, true,
                                   "DirectoryOrCreate");
}

/* The etcd probe's host, port and scheme: the first URL of listen-metrics-urls when set (kubeadm's
 * GetEtcdProbeEndpoint), else http://<localhost of the advertise address's family>:2381. */
static int etcd_probe_endpoint(const char *v, const char *lo, struct pod_parts *p) {
        _cleanup_free_ char *url = NULL;
        char *host, *end, *port;

        p->probe_scheme = "HTTP";
        p->probe_port = 2381;
        p->probe_host_override = lo;
        if (!v)
                return 0;
        url = strndup(v, strcspn(v, ","));
        if (!url)
                return -ENOMEM;
        host = strstr(url, "://");
        if (!host)
                return 0; /* no scheme: Go's url.Parse sees a path, no host */
        *host = 0;
        if (streq(url, "https"))
                p->probe_scheme = "HTTPS";
        host += 3;
        host[strcspn(host, "/?#")] = 0;
        if (strchr(host, '@'))
                host = strrchr(host, '@') + 1;
        if (*host == '[') {
                end = strchr(host, ']');
                if (!end)
                        return 0;
                *end = 0;
                port = end[1] == ':' ? end + 2 : NULL;
                host++;
        } else {
                port = strrchr(host, ':');
                if (port)
                        *port++ = 0;
        }
        if (port && *port) {
                char *e;
                unsigned long n = strtoul(port, &e, 10);
                if (*e == 0 && n >= 1 && n <= 65535)
                        p->probe_port = (unsigned) n;
        }
        if (*host) {
                char *h = strdup(host);
                if (!h || p->n_owned >= ELEMENTSOF(p->owned)) {
                        free(h);
                        return -ENOMEM;
                }
                p->owned[p->n_owned++] = h;
                p->probe_host_override = h;
        }
        return 0;
}

static int etcd_parts(const struct mf_control_plane_spec *s, const struct mf_versions *v,
                      struct pod_parts *p) {
        const char *adv = s->advertise_address;
        const char *lo = is_ipv6(adv) ? "::1" : "127.0.0.1";
        _cleanup_free_ char *client = mf_url("https", adv, 2379), *peer = mf_url("https", adv, 2380),
                            *lo_client = mf_url("https", lo, 2379), *metrics = mf_url("http", lo, 2381);
        const char *data_dir = s->etcd_data_dir ?: "/var/lib/etcd";

        if (!client || !peer || !lo_client || !metrics)
                return -ENOMEM;
        kvlist_add(&p->args, "advertise-client-urls", client);
        kvlist_add(&p->args, "cert-file", pki(p, "etcd/server.crt"));
        kvlist_add(&p->args, "client-cert-auth", "true");
        kvlist_add(&p->args, "data-dir", data_dir);
        const char *tag = s->etcd_image_tag ?: v->etcd_tag;
        if (mf_versions_etcd_36_flags(v, tag)) {
                kvlist_add(&p->args, "feature-gates", "InitialCorruptCheck=true");
                kvlist_add(&p->args, "watch-progress-notify-interval", "5s");
        } else {
                kvlist_add(&p->args, "experimental-initial-corrupt-check", "true");
                kvlist_add(&p->args, "experimental-watch-progress-notify-interval", "5s");
        }
        kvlist_add(&p->args, "initial-advertise-peer-urls", peer);
        if (s->etcd_initial_cluster)
                kvlist_add(&p->args, "initial-cluster", s->etcd_initial_cluster);
        else
                kvlist_addf(&p->args, "initial-cluster", "%s=%s", s->node_name, peer);
        if (s->etcd_join)
                kvlist_add(&p->args, "initial-cluster-state", "existing");
        kvlist_add(&p->args, "key-file", pki(p, "etcd/server.key"));
        kvlist_addf(&p->args, "listen-client-urls", "%s,%s", lo_client, client);
        kvlist_add(&p->args, "listen-metrics-urls", metrics);
        kvlist_add(&p->args, "listen-peer-urls", peer);
        kvlist_add(&p->args, "name", s->node_name);
        kvlist_add(&p->args, "peer-cert-file", pki(p, "etcd/peer.crt"));
        kvlist_add(&p->args, "peer-client-cert-auth", "true");
        kvlist_add(&p->args, "peer-key-file", pki(p, "etcd/peer.key"));
        kvlist_add(&p->args, "peer-trusted-ca-file", pki(p, "etcd/ca.crt"));
        kvlist_add(&p->args, "snapshot-count", "10000");
        kvlist_add(&p->args, "trusted-ca-file", pki(p, "etcd/ca.crt"));

        add_volume(p, "etcd-data", data_dir, false, "DirectoryOrCreate");
        add_volume(p, "etcd-certs", pki(p, "etcd"), false, "DirectoryOrCreate");
        p->mounts_in_order = true;
        p->image_name = "etcd";
        p->image_tag = tag;
        p->cpu = "100m";
        p->memory = "100Mi";
        p->probe_port = 2381;
        p->annotation_key = "kubeadm.kubernetes.io/etcd.advertise-client-urls";
        p->annotation_value = strdup(client);
        return p->annotation_value ? 0 : -ENOMEM;
}

static int apiserver_parts(const struct mf_control_plane_spec *s, struct pod_parts *p) {
        const char *adv = s->advertise_address;
        unsigned port = s->bind_port ?: 6443;

        kvlist_add(&p->args, "advertise-address", adv);
        kvlist_add(&p->args, "allow-privileged", "true");
        kvlist_add(&p->args, "authorization-mode", "Node,RBAC");
        kvlist_add(&p->args, "client-ca-file", pki(p, "ca.crt"));
        kvlist_add(&p->args, "enable-admission-plugins", "NodeRestriction");
        kvlist_add(&p->args, "enable-bootstrap-token-auth", "true");
        if (s->etcd_external_endpoints) {
                _cleanup_free_ char *eps =
                        strjoin_sep((const char *const *) s->etcd_external_endpoints,
                                    strv_length((char *const *) s->etcd_external_endpoints), ",");
                if (!eps)
                        return -ENOMEM;
                if (s->etcd_external_ca_file)
                        kvlist_add(&p->args, "etcd-cafile", s->etcd_external_ca_file);
                if (s->etcd_external_cert_file && s->etcd_external_key_file) { /* both or neither */
                        kvlist_add(&p->args, "etcd-certfile", s->etcd_external_cert_file);
                        kvlist_add(&p->args, "etcd-keyfile", s->etcd_external_key_file);
                }
                kvlist_add(&p->args, "etcd-servers", eps);
        } else {
                kvlist_add(&p->args, "etcd-cafile", pki(p, "etcd/ca.crt"));
                kvlist_add(&p->args, "etcd-certfile", pki(p, "apiserver-etcd-client.crt"));
                kvlist_add(&p->args, "etcd-keyfile", pki(p, "apiserver-etcd-client.key"));
                kvlist_add(&p->args, "etcd-servers",
                           is_ipv6(adv) ? "https://[::1]:2379" : "https://127.0.0.1:2379");
        }
        kvlist_add(&p->args, "kubelet-client-certificate", pki(p, "apiserver-kubelet-client.crt"));
        kvlist_add(&p->args, "kubelet-client-key", pki(p, "apiserver-kubelet-client.key"));
        kvlist_add(&p->args, "kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname");
        kvlist_add(&p->args, "proxy-client-cert-file", pki(p, "front-proxy-client.crt"));
        kvlist_add(&p->args, "proxy-client-key-file", pki(p, "front-proxy-client.key"));
        kvlist_add(&p->args, "requestheader-allowed-names", "front-proxy-client");
        kvlist_add(&p->args, "requestheader-client-ca-file", pki(p, "front-proxy-ca.crt"));
        kvlist_add(&p->args, "requestheader-extra-headers-prefix", "X-Remote-Extra-");
        kvlist_add(&p->args, "requestheader-group-headers", "X-Remote-Group");
        kvlist_add(&p->args, "requestheader-username-headers", "X-Remote-User");
        kvlist_addf(&p->args, "secure-port", "%u", port);
        kvlist_addf(&p->args, "service-account-issuer", "https://kubernetes.default.svc.%s",
                    s->dns_domain ?: "cluster.local");
        kvlist_add(&p->args, "service-account-key-file", pki(p, "sa.pub"));
        kvlist_add(&p->args, "service-account-signing-key-file", pki(p, "sa.key"));
        kvlist_add(&p->args, "service-cluster-ip-range", s->service_subnet ?: "10.96.0.0/12");
        kvlist_add(&p->args, "tls-cert-file", pki(p, "apiserver.crt"));
        kvlist_add(&p->args, "tls-private-key-file", pki(p, "apiserver.key"));

        add_ca_trust_volumes(p, s->root);
        /* External etcd's files get read-only mounts of their directories (kubeadm's getEtcdCertVolumes):
         * none for files under /etc/ssl/certs, the CA trust dirs or certificatesDir (already mounted,
         * compared as string prefixes), one per top-most directory, named etcd-certs-<i> in sorted order. */
        if (s->etcd_external_endpoints) {
                static const char *const names[] = {"etcd-certs-0", "etcd-certs-1", "etcd-certs-2"};
                const char *files[] = {s->etcd_external_ca_file, s->etcd_external_cert_file,
                                       s->etcd_external_key_file};
                size_t k = 0;
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        const char *slash = files[i] ? strrchr(files[i], '/') : NULL;
                        bool skip = false;
                        char *dir;
                        if (!slash)
                                continue;
                        dir = slash == files[i] ? strdup("/")
                                                : strndup(files[i], (size_t) (slash - files[i]));
                        if (!dir)
                                return -ENOMEM;
                        skip = startswith(dir, "/etc/ssl/certs") || startswith(dir, p->cert_dir);
                        for (size_t j = 0; j < ELEMENTSOF(ca_trust_dirs); j++)
                                skip |= startswith(dir, ca_trust_dirs[j].path) != NULL;
                        for (size_t j = 0; !skip && j < k; j++) {
                                if (startswith(p->etcd_dirs[j],
                                               dir)) { /* a parent of a known one replaces it */
                                        free(p->etcd_dirs[j]);
                                        p->etcd_dirs[j--] = p->etcd_dirs[--k];
                                        p->etcd_dirs[k] = NULL;
                                } else if (startswith(dir, p->etcd_dirs[j]))
                                        skip = true;
                        }
                        if (skip) {
                                free(dir);
                                continue;
                        }
                        p->etcd_dirs[k++] = dir;
                }
                qsort_safe(p->etcd_dirs, k, sizeof(char *), cmp_strp);
                for (size_t i = 0; i < k; i++)
                        add_volume(p, names[i], p->etcd_dirs[i], true, "DirectoryOrCreate");
        }

        p->image_name = "kube-apiserver";
        p->cpu = "250m";
        p->probe_port = port;
        p->annotation_key = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint";
        p->annotation_value = is_ipv6(adv) ? strdupf("[%s]:%u", adv, port) : strdupf("%s:%u", adv, port);
        return p->annotation_value ? 0 : -ENOMEM;
}

/* The last value an extra argument list gives NAME, or NULL. */
static const char *extra_arg(const struct mf_component_extras *x, const char *name) {
        const char *v = NULL;
        for (size_t i = 0; i < x->n_args; i++)
                if (streq(x->args[i].name, name))
                        v = x->args[i].value ?: "";
        return v;
}

static int controller_manager_parts(const struct mf_control_plane_spec *s, const struct mf_versions *v,
                                    struct pod_parts *p) {
        const char *kc = "/etc/kubernetes/controller-manager.conf";

        if (s->pod_subnet) {
                kvlist_add(&p->args, "allocate-node-cidrs", "true");
                kvlist_add(&p->args, "cluster-cidr", s->pod_subnet);
                kvlist_add(&p->args, "service-cluster-ip-range", s->service_subnet ?: "10.96.0.0/12");
        }
        kvlist_add(&p->args, "authentication-kubeconfig", kc);
        kvlist_add(&p->args, "authorization-kubeconfig", kc);
        kvlist_add(&p->args, "bind-address", "127.0.0.1");
        kvlist_add(&p->args, "client-ca-file", pki(p, "ca.crt"));
        kvlist_add(&p->args, "cluster-name", s->cluster_name ?: "kubernetes");
        /* With an external CA there is no ca.key here: kubeadm leaves the signer flags empty. */
        kvlist_add(&p->args, "cluster-signing-cert-file", s->external_ca ? "" : pki(p, "ca.crt"));
        kvlist_add(&p->args, "cluster-signing-key-file", s->external_ca ? "" : pki(p, "ca.key"));
        kvlist_add(&p->args, "controllers", "*,bootstrapsigner,tokencleaner");
        kvlist_add(&p->args, "kubeconfig", kc);
        kvlist_add(&p->args, "leader-elect", "true");
        kvlist_add(&p->args, "requestheader-client-ca-file", pki(p, "front-proxy-ca.crt"));
        kvlist_add(&p->args, "root-ca-file", pki(p, "ca.crt"));
        kvlist_add(&p->args, "service-account-private-key-file", pki(p, "sa.key"));
        kvlist_add(&p->args, "use-service-account-credentials", "true");

        add_ca_trust_volumes(p, s->root);
        add_volume(p, "kubeconfig", kc, true, "FileOrCreate");
        p->image_name = "kube-controller-manager";
        p->flexvolume_dir = v->kcm_flexvolume_dir;
        p->cpu = "200m";
        p->probe_port = 10257;
        return 0;
}

static int scheduler_parts(struct pod_parts *p) {
        const char *kc = "/etc/kubernetes/scheduler.conf";
        kvlist_add(&p->args, "authentication-kubeconfig", kc);
        kvlist_add(&p->args, "authorization-kubeconfig", kc);
        kvlist_add(&p->args, "bind-address", "127.0.0.1");
        kvlist_add(&p->args, "kubeconfig", kc);
        kvlist_add(&p->args, "leader-elect", "true");
        add_volume(p, "kubeconfig", kc, true, "FileOrCreate");
        p->image_name = "kube-scheduler";
        p->cpu = "100m";
        p->probe_port = 10259;
        return 0;
}

/* The probe host follows an overridden bind address; 0.0.0.0 and :: mean the pod IP (no host). */
static const char *probe_host(const struct kvlist *args, const char *flag, const char *dflt) {
        const char *v = kvlist_get(args, flag);
        if (!v)
                return dflt;
        if (streq(v, "0.0.0.0") || streq(v, "::"))
                return NULL;
        return v;
}

static int make_probes(const struct mf_control_plane_spec *s, const struct mf_versions *v,
                       enum mf_component c, struct pod_parts *p) {
        unsigned t = s->health_check_timeout_s ?: 240;
        int startup_failures = (int) ((t + 9) / 10);
        bool named = v->probe_port_names;
        const char *host;

        switch (c) {
        case MF_ETCD:
                host = p->probe_host_override;
                p->liveness = probe(host, "/livez", p->probe_scheme, p->probe_port, named, 10, 15, 8, 10);
                p->readiness = probe(host, "/readyz", p->probe_scheme, p->probe_port, named, 0, 15, 3, 1);
                p->startup = probe(host, "/readyz", p->probe_scheme, p->probe_port, named, 10, 15,
                                   startup_failures, 10);
                break;
        case MF_KUBE_APISERVER:
                /* The local API endpoint's address, not an advertise-address extra argument
                 * (GetAPIServerProbeAddress). */
                host = s->advertise_address;
                if (streq(host, "0.0.0.0") || streq(host, "::"))
                        host = NULL;
                p->liveness = probe(host, "/livez", "HTTPS", p->probe_port, named, 10, 15, 8, 10);
                p->readiness = probe(host, "/readyz", "HTTPS", p->probe_port, named, 0, 15, 3, 1);
                p->startup =
                        probe(host, "/livez", "HTTPS", p->probe_port, named, 10, 15, startup_failures, 10);
                break;
        case MF_KUBE_SCHEDULER:
                /* /livez and /readyz since kubeadm 1.32 (PR #126945). */
                host = probe_host(&p->args, "bind-address", "127.0.0.1");
                p->liveness = probe(host, "/livez", "HTTPS", p->probe_port, named, 10, 15, 8, 10);
                p->readiness = probe(host, "/readyz", "HTTPS", p->probe_port, named, 0, 15, 3, 1);
                p->startup =
                        probe(host, "/livez", "HTTPS", p->probe_port, named, 10, 15, startup_failures, 10);
                break;
        default:
                host = probe_host(&p->args, "bind-address", "127.0.0.1");
                p->liveness = probe(host, "/healthz", "HTTPS", p->probe_port, named, 10, 15, 8, 10);
                p->startup =
                        probe(host, "/healthz", "HTTPS", p->probe_port, named, 10, 15, startup_failures, 10);
                break;
        }
        if (!p->liveness || !p->startup || (c != MF_KUBE_CONTROLLER_MANAGER && !p->readiness))
                return -ENOMEM;
        return 0;
}

static void add_env(struct json_builder *b, cJSON *ctr, const struct mf_control_plane_spec *s,
                    const struct mf_component_extras *x) {
        _cleanup_(kvlist_done) struct kvlist env = {};
        cJSON *ea;

        /* The proxy variables, then extraEnvs overriding by name, sorted by name. */
        for (size_t i = 0; i < s->n_proxy_env; i++)
                kvlist_add(&env, s->proxy_env[i].name, s->proxy_env[i].value);
        for (size_t i = 0; i < x->n_envs; i++) {
                kvlist_remove(&env, x->envs[i].name);
                kvlist_add(&env, x->envs[i].name, x->envs[i].value);
        }
        if (env.oom) {
                jb_fail(b, -ENOMEM);
                return;
        }
        if (env.n == 0)
                return;
        qsort_safe(env.items, env.n, sizeof(struct kv), kv_cmp);
        ea = jb_arr(b, ctr, "env");
        for (size_t i = 0; ea && i < env.n; i++) {
                cJSON *e = jb_obj(b, ea, NULL);
                jb_str(b, e, "name", env.items[i].name);
                jb_str(b, e, "value", env.items[i].value);
        }
}

/* Volumes: the defaults plus extraVolumes, sorted by name; mount paths as given. The mounts are sorted too,
 * except etcd's, which kubeadm lists as the container has them (etcd-data, etcd-certs). */
static void add_volumes(struct json_builder *b, cJSON *spec, cJSON *ctr, const struct mf_component_extras *x,
                        struct pod_parts *p) {
        struct mf_volume in_order[ELEMENTSOF(p->volumes)];
        cJSON *mounts, *vols;

        for (size_t i = 0; i < x->n_volumes && p->n_volumes < ELEMENTSOF(p->volumes); i++)
                p->volumes[p->n_volumes++] = x->volumes[i];
        memcpy(in_order, p->volumes, sizeof(in_order[0]) * p->n_volumes);
        qsort_safe(p->volumes, p->n_volumes, sizeof(struct mf_volume), volume_cmp);
        mounts = jb_arr(b, ctr, "volumeMounts");
        jb_bool(b, spec, "hostNetwork", true);
        jb_num(b, spec, "priority", 2000001000);
        jb_str(b, spec, "priorityClassName", "system-node-critical");
        jb_str(b, jb_obj(b, jb_obj(b, spec, "securityContext"), "seccompProfile"), "type", "RuntimeDefault");
        vols = jb_arr(b, spec, "volumes");
        for (size_t i = 0; mounts && i < p->n_volumes; i++) {
                const struct mf_volume *vol = p->mounts_in_order ? &in_order[i] : &p->volumes[i];
                cJSON *m = jb_obj(b, mounts, NULL);
                jb_str(b, m, "mountPath", vol->mount_path ?: vol->host_path);
                jb_str(b, m, "name", vol->name);
                if (vol->read_only)
                        jb_bool(b, m, "readOnly", true);
        }
        for (size_t i = 0; vols && i < p->n_volumes; i++) {
                const struct mf_volume *vol = &p->volumes[i];
                cJSON *vj = jb_obj(b, vols, NULL), *hp = jb_obj(b, vj, "hostPath");
                jb_str(b, hp, "path", vol->host_path);
                if (vol->path_type)
                        jb_str(b, hp, "type", vol->path_type);
                jb_str(b, vj, "name", vol->name);
        }
}

static int build_pod(const struct mf_control_plane_spec *s, const struct mf_versions *v, enum mf_component c,
                     struct pod_parts *p, cJSON **ret) {
        const struct mf_component_extras *x = &s->extras[c];
        const char *name = component_names[c];
        const char *repo = s->image_repository ?: "registry.k8s.io";
        _cleanup_free_ char *tag = strdup(p->image_tag ?: s->kubernetes_version);
        struct json_builder b = {};
        cJSON *pod, *meta, *labels, *spec, *ctr, *cmd, *res;

        if (!tag)
                return -ENOMEM;
        /* Image tags cannot hold "+": kubeadm writes "_" (v1.34.0+build -> v1.34.0_build). */
        for (char *q = tag; *q; q++)
                if (*q == '+')
                        *q = '_';

        pod = jb_object(&b);
        jb_str(&b, pod, "apiVersion", "v1");
        jb_str(&b, pod, "kind", "Pod");
        meta = jb_obj(&b, pod, "metadata");
        if (p->annotation_key)
                jb_str(&b, jb_obj(&b, meta, "annotations"), p->annotation_key, p->annotation_value);
        jb_null(&b, meta, "creationTimestamp");
        labels = jb_obj(&b, meta, "labels");
        jb_str(&b, labels, "component", name);
        jb_str(&b, labels, "tier", "control-plane");
        jb_str(&b, meta, "name", name);
        jb_str(&b, meta, "namespace", "kube-system");

        spec = jb_obj(&b, pod, "spec");
        ctr = jb_obj(&b, jb_arr(&b, spec, "containers"), NULL);
        cmd = jb_arr(&b, ctr, "command");
        jb_str(&b, cmd, NULL, name);
        for (size_t i = 0; cmd && i < p->args.n; i++)
                jb_strf(&b, cmd, NULL, "--%s=%s", p->args.items[i].name, p->args.items[i].value);
        add_env(&b, ctr, s, x);

        jb_strf(&b, ctr, "image", "%s/%s:%s", repo, p->image_name, tag);
        jb_str(&b, ctr, "imagePullPolicy", "IfNotPresent");
        jb_add(&b, ctr, "livenessProbe", TAKE_PTR(p->liveness));
        jb_str(&b, ctr, "name", name);
        if (v->probe_port_names) {
                cJSON *port = jb_obj(&b, jb_arr(&b, ctr, "ports"), NULL);
                jb_num(&b, port, "containerPort", p->probe_port);
                jb_str(&b, port, "name", "probe-port");
                jb_str(&b, port, "protocol", "TCP");
        }
        if (p->readiness)
                jb_add(&b, ctr, "readinessProbe", TAKE_PTR(p->readiness));
        res = jb_obj(&b, jb_obj(&b, ctr, "resources"), "requests");
        jb_str(&b, res, "cpu", p->cpu);
        if (p->memory)
                jb_str(&b, res, "memory", p->memory);
        jb_add(&b, ctr, "startupProbe", TAKE_PTR(p->startup));
        add_volumes(&b, spec, ctr, x, p);
        jb_obj(&b, pod, "status");
        mf_sort_keys(pod);
        return jb_finish(&b, pod, ret);
}

int mf_static_pod(const struct mf_control_plane_spec *s, enum mf_component c, cJSON **ret) {
        _cleanup_(pod_parts_done) struct pod_parts p = {};
        const struct mf_versions *v;
        int r;

        if (c < 0 || c >= _MF_COMPONENT_MAX || isempty(s->node_name) || isempty(s->advertise_address))
                return -EINVAL;
        r = mf_versions_for(s->kubernetes_version, &v);
        if (r < 0)
                return r;
        if (c == MF_ETCD && s->etcd_external_endpoints)
                return -EINVAL; /* no local etcd with external etcd */
        p.cert_dir = s->cert_dir ?: DEFAULT_PKI;

        switch (c) {
        case MF_ETCD:
                r = etcd_parts(s, v, &p);
                break;
        case MF_KUBE_APISERVER:
                r = apiserver_parts(s, &p);
                break;
        case MF_KUBE_CONTROLLER_MANAGER:
                r = controller_manager_parts(s, v, &p);
                break;
        default:
                r = scheduler_parts(&p);
                break;
        }
        if (r < 0)
                return r;
        /* With an authorization-config extra argument kubeadm sets no default authorization-mode; one given
         * as an extra argument stays (TestGetAPIServerCommand). */
        if (c == MF_KUBE_APISERVER && extra_arg(&s->extras[c], "authorization-config"))
                kvlist_remove(&p.args, "authorization-mode");
        kvlist_merge_extras(&p.args, s->extras[c].args, s->extras[c].n_args, v->extra_args_in_user_order);
        if (p.args.oom)
                return -ENOMEM;
        /* The flexvolume dir follows the controller-manager's flex-volume-plugin-dir, extraArgs included. */
        if (p.flexvolume_dir)
                add_volume(&p, "flexvolume-dir",
                           kvlist_get(&p.args, "flex-volume-plugin-dir")
                                   ?: "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                           false, "DirectoryOrCreate");
        if (c == MF_ETCD) {
                r = etcd_probe_endpoint(extra_arg(&s->extras[c], "listen-metrics-urls"),
                                        is_ipv6(s->advertise_address) ? "::1" : "127.0.0.1", &p);
                if (r < 0)
                        return r;
        }
        r = make_probes(s, v, c, &p);
        if (r < 0)
                return r;
        return build_pod(s, v, c, &p, ret);
}
