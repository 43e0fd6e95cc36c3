/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/flows/node.h"
#include "firstboot/config/pki-config.h"
#include "firstboot/engine/phases.h"
#include "pki/cert.h"
#include "pki/kubeconfig.h"
#include "pki/token.h"

/* ---- construction ---- */

/* kubeadm passes the proxy settings of its own environment to the control-plane pods. */
static int proxy_env(struct fb_node *n) {
        static const char *const names[] = {"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
                                            "https_proxy", "NO_PROXY",   "no_proxy"};
        size_t k = 0;
        n->proxy_env = calloc(ELEMENTSOF(names), sizeof(*n->proxy_env));
        if (!n->proxy_env)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *v = getenv(names[i]);
                if (v)
                        n->proxy_env[k++] = (struct mf_arg){names[i], v};
        }
        n->cp.proxy_env = n->proxy_env;
        n->cp.n_proxy_env = k;
        return 0;
}

static const struct fb_kubeadm_timeouts default_timeouts = {
        .control_plane_component_health_check = 240000,
        .kubelet_health_check = 240000,
        .kubernetes_api_call = 60000,
        .etcd_api_call = 120000,
        .tls_bootstrap = 300000,
        .discovery = 300000,
        .upgrade_manifests = 300000,
};

/* The ClusterConfiguration in force: a joiner's is the cluster's; without one (plan, before discovery),
 * kubeadm's defaults. Also the cluster's KubeletConfiguration, copied. */
static int node_cluster(struct fb_node *n, const struct fb_cluster_view *view, struct error *why) {
        const struct fb_cluster_settings *cluster = fb_config_settings(n->config)->cluster;
        int r;

        if ((view && view->cluster_configuration) || !cluster) {
                r = fb_cluster_settings_from_json(view ? view->cluster_configuration : NULL,
                                                  &n->cluster_owned);
                if (r == -EBADMSG)
                        return error_set(why, r, "the cluster's ClusterConfiguration is not a mapping");
                if (r < 0)
                        return r;
                cluster = n->cluster_owned;
        }
        if (view && view->kubelet_configuration &&
            !(n->kubelet_owned = cJSON_Duplicate(view->kubelet_configuration, true)))
                return -ENOMEM;
        n->cluster = cluster;
        return 0;
}

/* nodeRegistration and kubeadm's timeouts: InitConfiguration's for init, JoinConfiguration's for joiners. */
static void node_registration(struct fb_node *n) {
        static const struct fb_registration_settings no_registration = {};
        const struct fb_settings *set = fb_config_settings(n->config);

        if (n->role == FB_ROLE_INIT && set->init) {
                n->registration = &set->init->registration;
                n->timeouts = set->init->timeouts;
        } else if (n->role != FB_ROLE_INIT && set->join) {
                n->registration = &set->join->registration;
                n->timeouts = set->join->timeouts;
        } else {
                n->registration = &no_registration;
                n->timeouts = default_timeouts;
        }
}

/* The Kubernetes version: the cluster's (a joiner replaces it with the cluster's kubeadm-config). */
static int node_version(struct fb_node *n, struct error *why) {
        const char *kv = n->cluster->kubernetes_version;
        int r = mf_versions_resolve(kv, &n->kubernetes_version);
        if (r == -EOPNOTSUPP || r == -EINVAL) {
                _cleanup_free_ char *bad = NULL;
                if (fb_kubernetes_version_check(kv, &bad) < 0 && bad)
                        return error_set(why, -EINVAL, "ClusterConfiguration.kubernetesVersion: %s", bad);
        }
        if (r < 0)
                return r;
        if (r > 0)
                log_debug("kubernetesVersion '%s' resolved to %s (the newest patch this build knows)", kv,
                          n->kubernetes_version);
        return mf_versions_for(n->kubernetes_version, &n->versions);
}

/* Certificates, the API URLs and the host name. */
static int node_pki(struct fb_node *n, struct error *why) {
        const struct fb_settings *set = fb_config_settings(n->config);
        enum pki_role pki_role = n->role == FB_ROLE_INIT            ? PKI_ROLE_INIT
                                 : n->role == FB_ROLE_CONTROL_PLANE ? PKI_ROLE_CONTROL_PLANE
                                                                    : PKI_ROLE_WORKER;
        char hn[256];
        int r;

        r = pki_node_spec_init(&n->pki);
        if (r < 0)
                return r;
        r = fb_pki_spec_from_config(n->config, pki_role, n->root, n->cluster, &n->pki, why);
        if (r < 0)
                return r;
        /* A joiner without the cluster's ClusterConfiguration (plan, when discovery cannot reach it) talks
         * to where discovery would have gone. */
        const char *discovery_ep = set->join ? set->join->discovery.api_server_endpoint : NULL;
        if (n->role != FB_ROLE_INIT && !n->pki.control_plane_endpoint && discovery_ep &&
            !(n->pki.control_plane_endpoint = strdup(discovery_ep)))
                return -ENOMEM;
        if (n->role != FB_ROLE_WORKER) {
                r = pki_local_api_url(&n->pki, &n->local_api_url);
                if (r < 0)
                        return r;
        }
        r = pki_control_plane_url(&n->pki, &n->api_url);
        if (r < 0)
                return r;

        if (gethostname(hn, sizeof(hn)) < 0)
                hn[0] = 0;
        hn[sizeof(hn) - 1] = 0;
        n->hostname = strdup(n->instance && n->instance->hostname && !hn[0] ? n->instance->hostname : hn);
        return n->hostname ? 0 : -ENOMEM;
}

/* The static pods' spec. */
static int node_static_pods(struct fb_node *n, struct error *why) {
        const struct fb_cluster_settings *cluster = n->cluster;

        n->cp = (struct mf_control_plane_spec){
                .kubernetes_version = n->kubernetes_version,
                .image_repository = cluster->image_repository,
                .node_name = n->pki.node_name,
                .advertise_address = n->pki.advertise_address,
                .bind_port = n->pki.bind_port,
                .cluster_name = n->pki.cluster_name,
                .service_subnet = cluster->networking.service_subnet,
                .pod_subnet = cluster->networking.pod_subnet,
                .dns_domain = cluster->networking.dns_domain,
                .health_check_timeout_s =
                        (unsigned) (n->timeouts.control_plane_component_health_check / 1000),
                .etcd_data_dir = cluster->etcd.data_dir,
                .etcd_image_tag = cluster->etcd.image_tag,
                .cert_dir = n->pki.cert_dir,
                .external_ca = false,
                .root = n->root,
        };
        if (n->pki.external_etcd) {
                if (!cluster->etcd.endpoints)
                        return error_set(
                                why, -EINVAL,
                                "ClusterConfiguration.etcd.external.endpoints: at least one endpoint is needed");
                n->cp.etcd_external_endpoints = (const char *const *) cluster->etcd.endpoints;
                n->cp.etcd_external_ca_file = n->pki.external_etcd_ca_file;
                n->cp.etcd_external_cert_file = n->pki.external_etcd_cert_file;
                n->cp.etcd_external_key_file = n->pki.external_etcd_key_file;
        }
        for (size_t i = 0; i < _MF_COMPONENT_MAX; i++)
                n->cp.extras[i] = cluster->extras[i];
        return proxy_env(n);
}

/* The kubelet's spec, its configuration, and how it is started. */
static int node_kubelet(struct fb_node *n) {
        const struct fb_settings *set = fb_config_settings(n->config);
        static const char *const default_cmd[] = {"systemctl", "enable", "--now", "kubelet", NULL};
        char *const *cmd = set->firstboot.kubelet_start_command;

        n->kubelet = (struct mf_kubelet_spec){
                .kubernetes_version = n->kubernetes_version,
                .image_repository = n->cp.image_repository,
                .node_name = n->pki.node_name,
                .hostname = n->hostname,
                .cri_socket = n->registration->cri_socket,
                .service_subnet = n->cp.service_subnet,
                .dns_domain = n->cp.dns_domain,
                .cert_dir = n->pki.cert_dir,
                .resolved_active = path_exists(n->root, "/run/systemd/resolve/resolv.conf") >= 0,
                .worker = n->role == FB_ROLE_WORKER,
                .taints = (const char *const *) n->registration->taints,
                .extra_args = n->registration->kubelet_extra_args,
                .n_extra_args = n->registration->n_kubelet_extra_args,
        };
        n->kubelet_user_config = n->kubelet_owned ?: set->kubelet_configuration;
        for (char *const *e = cmd ?: (char *const *) default_cmd; *e; e++)
                if (strv_extend(&n->kubelet_start_command, *e) < 0)
                        return -ENOMEM;
        return 0;
}

/* The certificate key: the configured one, else a fresh one for this run (init only). */
static int node_certificate_key(struct fb_node *n) {
        const struct fb_settings *set = fb_config_settings(n->config);
        const char *ck = fb_config_certificate_key(n->config);

        if (!ck && n->role == FB_ROLE_INIT && set->init)
                ck = set->init->certificate_key;
        if (!ck && n->role == FB_ROLE_CONTROL_PLANE && set->join)
                ck = set->join->certificate_key;
        if (ck) {
                n->certificate_key = strdup(ck);
                return n->certificate_key ? 0 : -ENOMEM;
        }
        if (n->role != FB_ROLE_INIT)
                return 0;
        char buf[2 * PKI_CERT_KEY_SIZE + 1];
        int r = pki_certificate_key_generate(buf);
        if (r < 0)
                return r;
        n->certificate_key = strdup(buf);
        OPENSSL_cleanse(buf, sizeof(buf));
        if (!n->certificate_key)
                return -ENOMEM;
        n->certificate_key_generated = true;
        return 0;
}

int fb_node_new(const char *root, const struct fb_config *c, const struct md_instance *inst,
                enum fb_role role, const struct fb_cluster_view *view, struct fb_node **ret,
                struct error *why) {
        _cleanup_(fb_node_freep) struct fb_node *n = calloc(1, sizeof(*n));
        int r;

        if (!n)
                return -ENOMEM;
        n->config = c;
        r = node_cluster(n, view, why);
        if (r < 0)
                return r;
        if (role == FB_ROLE_AUTO || role < 0)
                return error_set(why, -EINVAL, "the role must be decided before the node is set up");
        n->root = root;
        n->host = isempty(root) || streq(root, "/");
        n->instance = inst;
        n->role = role;
        node_registration(n);
        if ((r = node_version(n, why)) < 0 || (r = node_pki(n, why)) < 0 ||
            (r = node_static_pods(n, why)) < 0 || (r = node_kubelet(n)) < 0 ||
            (r = node_certificate_key(n)) < 0)
                return r;
        *ret = TAKE_PTR(n);
        return 0;
}

int fb_node_check(const char *root, const struct fb_config *c, const struct md_instance *inst,
                  char ***problems) {
        enum fb_role role = fb_config_role(c);
        _cleanup_free_ char *journaled = NULL;
        _cleanup_(fb_node_freep) struct fb_node *node = NULL;
        struct error why = {};
        int r;

        if (role == FB_ROLE_AUTO) {
                /* A machine that started keeps its journaled role: the seed rule no longer matters. */
                if (fb_journal_role(root, &journaled) < 0 && (!inst || fb_config_is_seed(c, inst) < 0)) {
                        char *p = strdupf(
                                "FirstbootConfiguration.seed.rule: role auto cannot decide on this instance: its metadata lacks the %s the rule compares",
                                fb_config_seed_rule(c) == FB_SEED_INSTANCE_ID ? "instance id"
                                : fb_config_seed_rule(c) == FB_SEED_HOSTNAME  ? "hostname"
                                                                              : "address");
                        if (!p || strv_consume(problems, p) < 0)
                                return -ENOMEM;
                }
        }
        /* A joiner's node is made from the cluster's ClusterConfiguration, which only discovery brings:
         * its own documents are checked by the configuration. init (and auto, which may init) is made
         * from this configuration alone. */
        if (role != FB_ROLE_INIT && role != FB_ROLE_AUTO)
                return 0;
        r = fb_node_new(root, c, inst, FB_ROLE_INIT, NULL, &node, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char *p = role == FB_ROLE_AUTO
                                  ? strdupf("%s (role auto: as the seed, this node would run init)",
                                            error_message(&why, r))
                                  : strdup(error_message(&why, r));
                if (!p || strv_consume(problems, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

struct fb_node *fb_node_free(struct fb_node *n) {
        if (!n)
                return NULL;
        free(n->kubernetes_version);
        fb_cluster_settings_free(n->cluster_owned);
        cJSON_Delete(n->kubelet_owned);
        pki_node_spec_done(&n->pki);
        free(n->local_api_url);
        free(n->api_url);
        strv_free(n->kubelet_start_command);
        free(n->hostname);
        erase_and_free(n->certificate_key);
        for (char **t = n->tokens; t && *t; t++)
                OPENSSL_cleanse(*t, strlen(*t));
        strv_free(n->tokens);
        kube_client_free(n->admin);
        free(n->ca_pin);
        free(n->proxy_env);
        free(n);
        return NULL;
}

/* ---- files ---- */

char *fb_node_manifest_path(enum mf_component c) {
        return strdupf(FB_MANIFESTS_DIR "/%s.yaml", mf_component_name(c));
}

int fb_node_static_pod_yaml(const struct fb_node *n, enum mf_component c, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *pod = NULL;
        _cleanup_free_ char *ca_crt = NULL, *ca_key = NULL;
        struct mf_control_plane_spec cp = n->cp;
        const char *dir = n->pki.cert_dir ?: "/etc/kubernetes/pki";
        int r;

        /* kubeadm's UsingExternalCA, as the control-plane phase finds the disk: ca.crt without ca.key. */
        ca_crt = strdupf("%s/ca.crt", dir);
        ca_key = strdupf("%s/ca.key", dir);
        if (!ca_crt || !ca_key)
                return -ENOMEM;
        cp.external_ca = path_exists(n->root, ca_crt) >= 0 && path_exists(n->root, ca_key) == -ENOENT;
        r = mf_static_pod(&cp, c, &pod);
        if (r < 0)
                return r;
        return yaml_emit(pod, ret);
}

int fb_file_has(const char *root, const char *path, const char *text) {
        _cleanup_erase_ char *have = NULL;
        size_t len;
        int r = read_file(root, path, 4 * 1024 * 1024, &have, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return len == strlen(text) && memcmp(have, text, len) == 0;
}

int fb_file_put(const char *root, const char *path, const char *text, mode_t mode, mode_t dir_mode) {
        if (dir_mode) {
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (!dir)
                        return -ENOMEM;
                if (slash && slash != dir) {
                        *slash = 0;
                        int r = mkdir_p(root, dir, dir_mode);
                        if (r < 0)
                                return r;
                }
        }
        return write_string_atomic(root, path, text, mode, WRITE_MKDIR_PARENTS);
}

void fb_kubelet_files_done(struct fb_kubelet_files *f) {
        free(f->config_yaml);
        free(f->flags_env);
        free(f->instance_yaml);
        *f = (struct fb_kubelet_files){};
}

int fb_node_kubelet_files(const struct fb_node *n, struct fb_kubelet_files *ret) {
        _cleanup_(fb_kubelet_files_done) struct fb_kubelet_files f = {};
        _cleanup_(cJSON_Deletep) cJSON *config = NULL, *instance = NULL;
        int r = mf_kubelet_config(&n->kubelet, n->kubelet_user_config, &config);
        if (r < 0)
                return r;
        r = yaml_emit(config, &f.config_yaml);
        if (r < 0)
                return r;
        r = mf_kubeadm_flags_env(&n->kubelet, &f.flags_env);
        if (r < 0)
                return r;
        r = mf_kubelet_instance_config(&n->kubelet, &instance);
        if (r >= 0)
                r = yaml_emit(instance, &f.instance_yaml);
        if (r < 0 && r != -ENOENT)
                return r;
        *ret = f;
        f = (struct fb_kubelet_files){};
        return 0;
}

int fb_kubelet_files_in_place(const char *root, const struct fb_kubelet_files *f) {
        int r = fb_file_has(root, FB_KUBELET_DIR "/config.yaml", f->config_yaml);
        if (r > 0)
                r = fb_file_has(root, FB_KUBELET_DIR "/kubeadm-flags.env", f->flags_env);
        if (r > 0 && f->instance_yaml)
                r = fb_file_has(root, FB_KUBELET_DIR "/instance-config.yaml", f->instance_yaml);
        return r;
}

int fb_kubelet_files_write(const char *root, const struct fb_kubelet_files *f, char **ret_failed) {
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        int r = write_set_new(root, &set);
        /* One set, put in place in this order: config.yaml last, so that a kubelet that waits for it then
         * finds everything else in place; a failure leaves none of them. */
        if (r >= 0 && f->instance_yaml)
                r = write_set_add(set, FB_KUBELET_DIR "/instance-config.yaml", f->instance_yaml,
                                  strlen(f->instance_yaml), 0644);
        if (r >= 0)
                r = write_set_add(set, FB_KUBELET_DIR "/kubeadm-flags.env", f->flags_env,
                                  strlen(f->flags_env), 0644);
        if (r >= 0)
                r = write_set_add(set, FB_KUBELET_DIR "/config.yaml", f->config_yaml, strlen(f->config_yaml),
                                  0644);
        if (r >= 0)
                r = write_set_commit(set);
        if (r < 0 && set && ret_failed && write_set_failed_path(set))
                *ret_failed = strdup(write_set_failed_path(set));
        return r;
}

int fb_node_start_kubelet(const struct fb_node *n, struct error *why) {
        _cleanup_free_ char *line = strjoin_sep((const char *const *) n->kubelet_start_command,
                                                strv_length(n->kubelet_start_command), " ");
        _cleanup_close_ int out_fd = -EBADF;
        char out[512];
        ssize_t len;
        int status;
        pid_t pid;

        if (!line)
                return -ENOMEM;
        if (!n->host)
                return error_set(
                        why, -EPERM,
                        "under --root, '%s' is not run on this machine: add --allow-host when the root is this machine's own (a chroot, a simulated node)",
                        line);
        /* Output goes to a memory file, not a pipe: a daemon the command leaves behind may keep it open. */
        out_fd = memfd_create("kubelet-start", MFD_CLOEXEC);
        if (out_fd < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        (void) dup2(null, STDIN_FILENO);
                (void) dup2(out_fd, STDOUT_FILENO);
                (void) dup2(out_fd, STDERR_FILENO);
                execvp(n->kubelet_start_command[0], n->kubelet_start_command);
                dprintf(STDERR_FILENO, "%s: %s", n->kubelet_start_command[0], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        len = pread(out_fd, out, sizeof(out) - 1, 0);
        if (len < 0)
                len = 0;
        out[len] = 0;
        for (ssize_t i = 0; i < len; i++)
                if (i < len - 1 && out[i] == '\n')
                        out[i] = ' ';
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
                out[--len] = 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                log_debug("kubelet start command '%s' succeeded%s%s", line, len ? ": " : "", out);
                return 0;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return error_set(why, -ENOENT, "the kubelet start command '%s' could not run: %s", line,
                                 out);
        return error_set(why, -EIO, "the kubelet start command '%s' failed (%s %d)%s%s", line,
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), len ? ": " : "", out);
}

int fb_kubelet_healthy(const struct fb_node *n) {
        _cleanup_(cJSON_Deletep) cJSON *cfg = NULL;
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        _cleanup_free_ char *url = NULL;
        const char *addr = "127.0.0.1";
        double port = 10248;

        if (n->kubelet_user_config) {
                const char *a = json_get_string(n->kubelet_user_config, "healthzBindAddress");
                const cJSON *p = json_get(n->kubelet_user_config, "healthzPort");
                if (a && *a && !streq(a, "0.0.0.0") && !streq(a, "::"))
                        addr = a;
                if (cJSON_IsNumber(p) && p->valuedouble > 0)
                        port = p->valuedouble;
        }
        url = ip_is_ipv6(addr) ? strdupf("http://[%s]:%.0f/healthz", addr, port)
                               : strdupf("http://%s:%.0f/healthz", addr, port);
        if (!url)
                return -ENOMEM;
        struct http_request req = {.url = url, .timeout_ms = 2000, .no_proxy = true};
        if (http_request(&req, &resp) < 0)
                return 0;
        return resp->status == 200;
}

/* ---- the cluster ---- */

int fb_node_client(const struct fb_node *n, const char *kubeconfig, bool local, struct kube_client **ret) {
        _cleanup_free_ char *path = strdupf("%s/%s", n->pki.kubeconfig_dir ?: "/etc/kubernetes", kubeconfig);
        struct kube_client *c = NULL;
        int r;
        if (!path)
                return -ENOMEM;
        r = kube_client_from_kubeconfig_server(n->root, path, local ? n->local_api_url : NULL, &c);
        if (r < 0)
                return log_debug_errno(r, "Cannot make an API client from %s: %m", path);
        *ret = c;
        return 0;
}

int fb_node_admin(struct fb_node *n, struct kube_client **ret) {
        if (!n->admin) {
                int r = fb_node_client(n, "admin.conf", n->role != FB_ROLE_WORKER, &n->admin);
                if (r < 0)
                        return r;
                unsigned long long ms = n->timeouts.kubernetes_api_call;
                kube_client_set_timeouts(n->admin, ms > 15000 ? 15000 : (unsigned) ms, 5);
        }
        *ret = n->admin;
        return 0;
}

bool fb_node_cri_socket_annotated(const struct fb_node *n, const cJSON *node) {
        const cJSON *ann = json_get(node, "metadata.annotations");
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(ann, MF_CRI_SOCKET_ANNOTATION);
        if (n->versions->node_local_cri_socket)
                return true;
        return cJSON_IsString(have) && streq(have->valuestring, mf_kubelet_cri_socket(&n->kubelet));
}

int fb_node_ca_pin(struct fb_node *n, const char **ret) {
        if (!n->ca_pin) {
                _cleanup_free_ char *path = strdupf("%s/ca.crt", n->pki.cert_dir ?: "/etc/kubernetes/pki");
                _cleanup_free_ char *pem = NULL;
                _cleanup_(X509_freep) X509 *ca = NULL;
                size_t len;
                int r;
                if (!path)
                        return -ENOMEM;
                r = read_file(n->root, path, 1024 * 1024, &pem, &len);
                if (r < 0)
                        return r;
                r = pki_cert_from_pem(pem, len, &ca);
                if (r < 0)
                        return r;
                r = pki_cert_ca_pin(ca, &n->ca_pin);
                if (r < 0)
                        return r;
        }
        *ret = n->ca_pin;
        return 0;
}

static char *object_path(const struct mf_api_object *o) {
        const char *name = json_get_string(o->object, "metadata.name");
        return name ? strdupf("%s/%s", o->collection, name) : NULL;
}

int fb_objects_apply(struct kube_client *c, const struct mf_api_object *o, size_t n,
                     const char **ret_failed) {
        for (size_t i = 0; i < n; i++) {
                int r = kube_apply(c, o[i].collection, o[i].object);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = json_get_string(o[i].object, "metadata.name");
                        return log_debug_errno(
                                r, "Cannot create or update %s %s: %s", json_get_string(o[i].object, "kind"),
                                json_get_string(o[i].object, "metadata.name"), kube_client_error(c));
                }
        }
        return 0;
}

/* Whether everything in want is in have (objects key by key, lists item by item, scalars equal). */
static bool json_subset(const cJSON *want, const cJSON *have) {
        if (!have)
                return false;
        if (cJSON_IsObject(want)) {
                const cJSON *w;
                if (!cJSON_IsObject(have))
                        return false;
                cJSON_ArrayForEach(w, want) {
                        if (!json_subset(w, cJSON_GetObjectItemCaseSensitive(have, w->string)))
                                return false;
                }
                return true;
        }
        if (cJSON_IsArray(want)) {
                if (!cJSON_IsArray(have) || cJSON_GetArraySize(want) != cJSON_GetArraySize(have))
                        return false;
                for (const cJSON *w = want->child, *h = have->child; w; w = w->next, h = h->next)
                        if (!json_subset(w, h))
                                return false;
                return true;
        }
        return cJSON_Compare(want, have, true);
}

int fb_objects_in_place(struct kube_client *c, const struct mf_api_object *o, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = object_path(&o[i]);
                _cleanup_(cJSON_Deletep) cJSON *have = NULL;
                const cJSON *w;
                int r;
                if (!path)
                        return -ENOMEM;
                r = kube_get(c, path, &have);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                cJSON_ArrayForEach(w, o[i].object) {
                        if (streq(w->string, "metadata")) {
                                const cJSON *labels = cJSON_GetObjectItemCaseSensitive(w, "labels");
                                if (labels && !json_subset(labels, json_get(have, "metadata.labels")))
                                        return 0;
                                continue;
                        }
                        if (streq(w->string, "status"))
                                continue;
                        if (streq(w->string, "data") && streq_ptr(json_get_string(o[i].object, "type"),
                                                                  "bootstrap.kubernetes.io/token")) {
                                /* A token is in place with any expiry: the one set when it was made stands.
                                 */
                                _cleanup_(cJSON_Deletep) cJSON *d = cJSON_Duplicate(w, true);
                                if (!d)
                                        return -ENOMEM;
                                cJSON_DeleteItemFromObjectCaseSensitive(d, "expiration");
                                if (!json_subset(d, json_get(have, "data")))
                                        return 0;
                                continue;
                        }
                        if (!json_subset(w, cJSON_GetObjectItemCaseSensitive(have, w->string))) {
                                log_debug("%s differs in '%s'", path, w->string);
                                return 0;
                        }
                }
        }
        return 1;
}

void fb_objects_describe(const struct mf_api_object *o, size_t n, FILE *out) {
        for (size_t i = 0; i < n; i++) {
                const char *ns = json_get_string(o[i].object, "metadata.namespace");
                fprintf(out, "      create or update %s %s%s%s\n", json_get_string(o[i].object, "kind"),
                        ns ?: "", ns ? "/" : "", json_get_string(o[i].object, "metadata.name"));
        }
}

int fb_wait_healthy(const char *url, const char *ca_pem, const char *cert_pem, const char *key_pem,
                    unsigned long long timeout_ms, struct error *why) {
        unsigned long long deadline = clock_now_ms() + timeout_ms;
        char err[HTTP_ERROR_MAX] = "";
        long last_status = 0;

        for (;;) {
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                struct http_request req = {
                        .url = url,
                        .ca_pem = ca_pem,
                        .client_cert_pem = cert_pem,
                        .client_key_pem = key_pem,
                        .timeout_ms = 5000,
                        .no_proxy = true,
                        .error = err,
                };
                int r = http_request(&req, &resp);
                if (r >= 0 && resp->status == 200)
                        return 0;
                if (r >= 0)
                        last_status = resp->status;
                if (clock_now_ms() >= deadline) {
                        if (r >= 0)
                                return error_set(why, -ETIMEDOUT, "%s answered HTTP %ld, not 200", url,
                                                 last_status);
                        return error_set(why, -ETIMEDOUT, "%s did not answer: %s", url,
                                         err[0] ? err : strerror(-r));
                }
                clock_sleep_about_ms(500);
        }
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int fb_configmap_checksum(const cJSON *cm, char **ret) {
        const cJSON *data = json_get(cm, "data"), *e;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        size_t n = 0;

        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        cJSON_ArrayForEach(e, data)
                n++;
        _cleanup_free_ const char **keys = calloc(n + 1, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        n = 0;
        cJSON_ArrayForEach(e, data)
                keys[n++] = e->string;
        qsort(keys, n, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < n; i++) {
                const char *v = json_get_string(data, keys[i]);
                if (EVP_DigestUpdate(ctx, v ?: "", strlen(v ?: "")) != 1)
                        return -EIO;
        }
        if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
                return -EIO;
        _cleanup_free_ char *hex = hex_encode(md, md_len);
        if (!hex)
                return -ENOMEM;
        *ret = strdupf("sha256:%s", hex);
        return *ret ? 0 : -ENOMEM;
}
