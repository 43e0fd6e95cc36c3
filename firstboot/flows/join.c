/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The join flows: kubeadm join --control-plane (1.33+ order, ControlPlaneKubeletLocalMode: the kubelet
 * bootstraps against its own apiserver, which comes up once etcd-join has added the member) and the worker
 * join (../shared/spec/kubeadm-compat.md §6). Resumable like init: each phase verifies its effect.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/cluster/discovery.h"
#include "firstboot/cluster/etcd-join.h"
#include "firstboot/flows/flows.h"
#include "firstboot/cluster/joinqueue.h"
#include "firstboot/cluster/membership.h"
#include "firstboot/cluster/replacement.h"
#include "firstboot/cluster/upload-certs.h"
#include "pki/cert.h"
#include "pki/envelope.h"
#include "pki/kubeconfig.h"

#define BOOTSTRAP_KUBECONFIG "/etc/kubernetes/bootstrap-kubelet.conf"
#define KUBELET_KUBECONFIG   "/etc/kubernetes/kubelet.conf"

/* ---- discovery, before the phases ---- */

void fb_join_discovery_done(struct fb_join_discovery *d) {
        free(d->server);
        free(d->ca_pem);
        free(d->ca_hash);
        cJSON_Delete(d->cluster_configuration);
        cJSON_Delete(d->kubelet_configuration);
        *d = (struct fb_join_discovery){};
}

/* A ConfigMap's data key parsed as one YAML document. */
static int config_map_document(struct kube_client *k, const char *name, const char *key, cJSON **ret) {
        _cleanup_free_ char *path = strdupf("/api/v1/namespaces/kube-system/configmaps/%s", name);
        _cleanup_(cJSON_Deletep) cJSON *cm = NULL, *docs = NULL;
        const char *text;
        int r;
        if (!path)
                return -ENOMEM;
        r = kube_get(k, path, &cm);
        if (r < 0)
                return r;
        text = json_get_string(json_get(cm, "data"), key);
        if (!text)
                return -EBADMSG;
        r = yaml_parse_documents(text, strlen(text), &docs, NULL);
        if (r < 0)
                return r;
        cJSON *doc = cJSON_DetachItemFromArray(docs, 0);
        if (!doc)
                return -EBADMSG;
        *ret = doc;
        return 0;
}

int fb_join_discover(const char *root, const struct fb_config *c, unsigned timeout_ms,
                     struct fb_join_discovery *ret, struct error *why) {
        static const struct fb_join_settings no_join = {
                .timeouts = {.discovery = 300000},
        };
        const struct fb_settings *set = fb_config_settings(c);
        const struct fb_join_settings *join = set->join ?: &no_join;
        _cleanup_(fb_join_discovery_done) struct fb_join_discovery d = {};
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_strv_free_ char **pins = NULL;
        struct fb_discovery_result res = {};
        int r;

        for (char *const *h = join->discovery.ca_cert_hashes; h && *h; h++)
                if (strv_extend(&pins, *h) < 0)
                        return -ENOMEM;
        /* A CA given in the configuration pins itself. */
        if (set->firstboot.ca_cert_pem) {
                _cleanup_(X509_freep) X509 *ca = NULL;
                _cleanup_free_ char *pin = NULL;
                const char *pem = set->firstboot.ca_cert_pem;
                if (pki_cert_from_pem(pem, strlen(pem), &ca) >= 0 && pki_cert_ca_pin(ca, &pin) >= 0 &&
                    strv_consume(&pins, TAKE_PTR(pin)) < 0)
                        return -ENOMEM;
        }
        /* JoinConfiguration.timeouts.discovery: the same for either kind of joiner. */
        unsigned discovery_ms = (unsigned) join->timeouts.discovery;
        const char *token = fb_config_bootstrap_token(c) ?: join->discovery.token;
        const char *tls_token = join->tls_bootstrap_token ?: token;
        struct fb_discovery_opts o = {
                .endpoint = join->discovery.api_server_endpoint,
                .token = token,
                .ca_cert_hashes = (const char *const *) pins,
                .unsafe_skip_ca_verification = join->discovery.unsafe_skip_ca_verification,
                .timeout_ms = timeout_ms ?: discovery_ms,
        };
        unsigned long long deadline = clock_now_ms() + o.timeout_ms;
        (void) root;
        r = fb_discover(&o, &res, why);
        if (r < 0)
                return r;
        d.server = TAKE_PTR(res.server);
        d.ca_pem = TAKE_PTR(res.ca_pem);
        d.ca_hash = TAKE_PTR(res.ca_hash);
        d.token = tls_token;
        fb_discovery_result_done(&res);

        /* The cluster's configuration, read as kubeadm's joiner does: with the bootstrap token. */
        r = kube_client_new(d.server, d.ca_pem, false, &k);
        if (r >= 0)
                r = kube_client_set_token(k, tls_token);
        if (r < 0)
                return r;
        /* Within the same deadline as discovery: behind a load balancer the answer may come from a
         * control plane (or an etcd) that is restarting, as a resumed joiner's own one is. */
        for (;;) {
                r = config_map_document(k, "kubeadm-config", "ClusterConfiguration",
                                        &d.cluster_configuration);
                if (r >= 0) {
                        r = config_map_document(k, "kubelet-config", "kubelet", &d.kubelet_configuration);
                        if (r == -ENOENT)
                                r = 0;
                }
                if (r >= 0 || !kube_error_is_transient(r) || clock_now_ms() >= deadline)
                        break;
                log_debug("Reading the cluster's configuration at %s failed (%s); retrying.", d.server,
                          kube_client_error(k));
                cJSON_Delete(TAKE_PTR(d.cluster_configuration));
                clock_sleep_about_ms(2000);
        }
        if (r < 0 && !d.cluster_configuration)
                return error_set(
                        why, r, "cannot read kube-system/kubeadm-config at %s with the bootstrap token: %s",
                        d.server, r == -EBADMSG ? "it holds no ClusterConfiguration" : kube_client_error(k));
        if (r < 0)
                return error_set(why, r, "cannot read kube-system/kubelet-config at %s: %s", d.server,
                                 kube_client_error(k));
        *ret = d;
        d = (struct fb_join_discovery){};
        return 0;
}

/* FirstbootConfiguration.timeouts.etcdJoin, or def for this wait when unset. */
static unsigned long long etcd_join_ms(const struct fb_node *n, unsigned long long def) {
        const struct fb_firstboot_settings *f = &fb_config_settings(n->config)->firstboot;
        return f->timeouts.etcd_join_set ? f->timeouts.etcd_join : def;
}

/* ---- download-certs ---- */

static const char *shared_files[] = {"ca.key", "sa.key", "sa.pub", "front-proxy-ca.key",
                                     "front-proxy-ca.crt"};

static int check_download_certs(void *ctx) {
        struct fb_node *n = ctx;
        for (size_t i = 0; i < ELEMENTSOF(shared_files); i++) {
                _cleanup_free_ char *p = strdupf("%s/%s", n->pki.cert_dir, shared_files[i]);
                if (!p)
                        return -ENOMEM;
                if (path_exists(n->root, p) < 0)
                        return 0;
        }
        _cleanup_free_ char *ca = strdupf("%s/ca.crt", n->pki.cert_dir);
        return ca && n->join ? fb_file_has(n->root, ca, n->join->ca_pem) : 0;
}

/* GET kube-system/kubeadm-certs, waiting until the deadline for a control plane to upload it. */
static int get_kubeadm_certs(struct fb_node *n, struct kube_client *k, unsigned long long wait_ms,
                             unsigned long long deadline, cJSON **ret, struct error *why) {
        _cleanup_(cJSON_Deletep) cJSON *secret = NULL;
        int r;

        for (bool said = false;;) {
                r = kube_get(k, FB_KUBEADM_CERTS_PATH, &secret);
                if ((r != -ENOENT && !kube_error_is_transient(r)) || clock_now_ms() >= deadline)
                        break;
                if (r != -ENOENT) {
                        log_debug("Reading kubeadm-certs at %s failed (%s); retrying.", n->join->server,
                                  kube_client_error(k));
                        clock_sleep_about_ms(2000);
                        continue;
                }
                if (!said)
                        log_warning(
                                "Secret kube-system/kubeadm-certs is not in the cluster at %s (it lives 2 hours after an upload); waiting up to %llus for a control plane to upload it ('kube-firstboot refresh' does).",
                                n->join->server, wait_ms / 1000);
                said = true;
                clock_sleep_about_ms(5000);
        }
        if (r == -ENOENT)
                return error_set(
                        why, r,
                        "Secret kube-system/kubeadm-certs was not found at %s: it expires 2 hours after an upload. Remedy: run 'kube-firstboot refresh' (or 'kubeadm init phase upload-certs --upload-certs --certificate-key KEY') on a control plane, then run this again",
                        n->join->server);
        if (r < 0)
                return error_set(why, r,
                                 "cannot read kube-system/kubeadm-certs at %s with the bootstrap token: %s",
                                 n->join->server, kube_client_error(k));
        *ret = TAKE_PTR(secret);
        return 0;
}

/* Where the certificate key is kept when it is read at run time (a file, a secret store), else NULL: such a
 * key may have been rotated since this run read it. */
static const char *stored_certificate_key(const struct fb_node *n) {
        const struct fb_secret_info *info;
        size_t nn;

        if (!n->secrets)
                return NULL;
        info = fb_config_secret_info(n->config, &nn);
        for (size_t i = 0; i < nn; i++)
                if (streq(info[i].name, "certificateKey") && info[i].elsewhere)
                        return info[i].source;
        return NULL;
}

/* The certificate key read again from where it is kept. */
static int reread_certificate_key(struct fb_node *n, struct error *why) {
        _cleanup_erase_ char *key = NULL;
        int r = fb_config_read_secret(n->config, n->secrets, n->root, "certificateKey", &key, why);
        if (r < 0)
                return r;
        if (!streq(key, n->certificate_key))
                log_info("The stored certificate key changed since this run read it: trying the new one.");
        erase_and_free(n->certificate_key);
        n->certificate_key = TAKE_PTR(key);
        return 0;
}

static int run_download_certs(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        unsigned char key[PKI_CERT_KEY_SIZE];
        struct pki_external_etcd ext = {n->pki.external_etcd_ca_file, n->pki.external_etcd_cert_file,
                                        n->pki.external_etcd_key_file};
        struct pki_secret_file *files = NULL;
        const char *failed = NULL, *stored = stored_certificate_key(n);
        unsigned rereads = 0;
        size_t nf = 0;
        int r;

        if (!n->certificate_key)
                return error_set(
                        why, -EINVAL,
                        "no certificate key: set FirstbootConfiguration.secrets.certificateKey (or JoinConfiguration.controlPlane.certificateKey)");
        r = kube_client_new(n->join->server, n->join->ca_pem, false, &k);
        if (r >= 0)
                r = kube_client_set_token(k, n->join->token);
        if (r < 0)
                return r;

        unsigned long long wait_ms = fb_config_settings(n->config)->firstboot.timeouts.discovery;
        unsigned long long deadline = clock_now_ms() + wait_ms;
        for (;;) {
                _cleanup_(cJSON_Deletep) cJSON *secret = NULL;
                r = get_kubeadm_certs(n, k, wait_ms, deadline, &secret, why);
                if (r < 0)
                        return r;
                _cleanup_erase_ char *text = cJSON_PrintUnformatted(secret);
                if (!text)
                        return -ENOMEM;
                r = pki_certificate_key_parse(n->certificate_key, key);
                if (r < 0)
                        return error_set(why, r, "the certificate key is not 64 hex digits");
                r = pki_kubeadm_certs_open(key, text, strlen(text), n->pki.cert_dir,
                                           n->pki.external_etcd ? &ext : NULL, &files, &nf, &failed);
                OPENSSL_cleanse(key, sizeof(key));
                /* A key kept in a store may be mid-rotation: the stored value changed after this run read
                 * it, or before a control plane's refresh sealed kubeadm-certs under it. Read both again. */
                if (r != -EBADMSG || !stored || clock_now_ms() + 10000 >= deadline)
                        break;
                log_warning(
                        "The certificate key does not open kube-system/kubeadm-certs: reading it again from %s in 10 s (a rotation under way? 'kube-firstboot refresh' on a control plane seals kubeadm-certs under the stored key).",
                        stored);
                clock_sleep_about_ms(10000);
                r = reread_certificate_key(n, why);
                if (r < 0)
                        return r;
                rereads++;
        }
        if (r == -EBADMSG)
                return error_set(
                        why, r,
                        "the certificate key does not open kube-system/kubeadm-certs (AES-GCM authentication of '%s' failed): a wrong certificate key%s%s%s; nothing was written",
                        failed ?: "an entry", rereads ? ", still after it was read again from " : "",
                        rereads ? stored : "", rereads ? " until the discovery timeout" : "");
        if (r == -ENOENT)
                return error_set(why, r, "kube-system/kubeadm-certs lacks '%s'; nothing was written",
                                 failed ?: "an entry");
        if (r < 0)
                return error_set(why, r, "kube-system/kubeadm-certs cannot be used: %s; nothing was written",
                                 strerror(-r));

        /* The CA inside must be the CA discovery pinned: a Secret cannot swap the trust root. */
        _cleanup_free_ char *ca_path = strdupf("%s/ca.crt", n->pki.cert_dir);
        for (size_t i = 0; r >= 0 && i < nf; i++)
                if (ca_path && streq(files[i].path, ca_path) &&
                    (files[i].len != strlen(n->join->ca_pem) ||
                     memcmp(files[i].data, n->join->ca_pem, files[i].len)))
                        r = error_set(
                                why, -EKEYREJECTED,
                                "the ca.crt in kubeadm-certs is not the CA discovery verified; nothing was written");
        if (r >= 0) {
                _cleanup_free_ char *failed_path = NULL;
                r = pki_secret_files_install(n->root, files, nf, &failed_path);
                if (r < 0)
                        error_set(why, r, "cannot write %s: %s; no file of kubeadm-certs was left",
                                  failed_path ?: n->pki.cert_dir, strerror(-r));
        }
        pki_secret_files_free(files, nf);
        return r;
}

static void describe_download_certs(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out,
                "      GET kube-system/kubeadm-certs with the bootstrap token; open it with the certificate key; write the shared CA keys under %s\n",
                n->pki.cert_dir);
}

/* ---- kubelet-start (join) ---- */

static char *bootstrap_kubeconfig(const char *server, const char *ca_pem, const char *token) {
        _cleanup_free_ char *ca = base64_encode(ca_pem, strlen(ca_pem));
        if (!ca)
                return NULL;
        return strdupf("apiVersion: v1\n"
                       "clusters:\n"
                       "- cluster:\n"
                       "    certificate-authority-data: %s\n"
                       "    server: %s\n"
                       "  name: kubernetes\n"
                       "contexts:\n"
                       "- context:\n"
                       "    cluster: kubernetes\n"
                       "    user: tls-bootstrap-token-user\n"
                       "  name: tls-bootstrap-token-user@kubernetes\n"
                       "current-context: tls-bootstrap-token-user@kubernetes\n"
                       "kind: Config\n"
                       "preferences: {}\n"
                       "users:\n"
                       "- name: tls-bootstrap-token-user\n"
                       "  user:\n"
                       "    token: %s\n",
                       ca, server, token);
}

/* Control planes bootstrap against their own apiserver (ControlPlaneKubeletLocalMode), workers against the
 * cluster's endpoint. */
static const char *bootstrap_server(const struct fb_node *n) {
        return n->role == FB_ROLE_CONTROL_PLANE ? n->local_api_url : n->join->server;
}

static int check_join_kubelet_start(void *ctx) {
        struct fb_node *n = ctx;
        if (path_exists(n->root, KUBELET_KUBECONFIG) < 0 && path_exists(n->root, BOOTSTRAP_KUBECONFIG) < 0)
                return 0;
        return fb_check_kubelet_start(n);
}

static int run_join_kubelet_start(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_free_ char *ca_path = strdupf("%s/ca.crt", n->pki.cert_dir);
        int r;
        if (!ca_path)
                return -ENOMEM;
        if (path_exists(n->root, ca_path) < 0) {
                r = fb_file_put(n->root, ca_path, n->join->ca_pem, 0644, 0);
                if (r < 0)
                        return error_set(why, r, "cannot write %s: %s", ca_path, strerror(-r));
        }
        if (path_exists(n->root, KUBELET_KUBECONFIG) < 0) {
                _cleanup_erase_ char *kc =
                        bootstrap_kubeconfig(bootstrap_server(n), n->join->ca_pem, n->join->token);
                if (!kc)
                        return -ENOMEM;
                r = write_string_atomic(n->root, BOOTSTRAP_KUBECONFIG, kc, 0600, WRITE_MKDIR_PARENTS);
                if (r < 0)
                        return error_set(why, r, "cannot write " BOOTSTRAP_KUBECONFIG ": %s", strerror(-r));
        }
        return fb_run_kubelet_start(n, why);
}

static void describe_join_kubelet_start(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out, "      write " BOOTSTRAP_KUBECONFIG " (server %s, the bootstrap token)\n",
                n->join ? bootstrap_server(n) : "?");
        fb_describe_kubelet_start(ctx, out);
}

/* ---- etcd-join ---- */

static int etcd_spec(struct fb_node *n, struct fb_etcd_join_spec *s, char ***endpoints, char **ca,
                     char **cert, char **key, char **peer_url, struct error *why) {
        _cleanup_free_ char *dir = strdupf("%s/etcd", n->pki.cert_dir), *p1 = NULL, *p2 = NULL, *p3 = NULL;
        int r;
        if (!dir || !(p1 = strdupf("%s/ca.crt", dir)) || !(p2 = strdupf("%s/healthcheck-client.crt", dir)) ||
            !(p3 = strdupf("%s/healthcheck-client.key", dir)))
                return -ENOMEM;
        if ((r = read_file(n->root, p1, 1 << 20, ca, NULL)) < 0 ||
            (r = read_file(n->root, p2, 1 << 20, cert, NULL)) < 0 ||
            (r = read_file(n->root, p3, 1 << 20, key, NULL)) < 0)
                return error_set(why, r, "cannot read the etcd client certificate under %s: %s", dir,
                                 strerror(-r));
        *peer_url = mf_url("https", n->pki.advertise_address, 2380);
        if (!*peer_url)
                return -ENOMEM;
        *s = (struct fb_etcd_join_spec){
                .endpoints = (const char *const *) *endpoints,
                .ca_pem = *ca,
                .cert_pem = *cert,
                .key_pem = *key,
                .name = n->pki.node_name,
                .peer_url = *peer_url,
                .timeout_ms = etcd_join_ms(n, FB_ETCD_JOIN_DEFAULT_TIMEOUT_MS),
        };
        return 0;
}

static int check_etcd_join(void *ctx) {
        struct fb_node *n = ctx;
        _cleanup_strv_free_ char **eps = NULL;
        _cleanup_free_ char *ca = NULL, *cert = NULL, *peer = NULL, *mine = NULL;
        _cleanup_erase_ char *key = NULL;
        struct fb_etcd_join_spec s;
        if (path_exists(n->root, FB_MANIFESTS_DIR "/etcd.yaml") < 0)
                return 0;
        /* This node's own member answers once it runs: ask it. */
        mine = mf_url("https", n->pki.advertise_address, 2379);
        if (!mine || strv_extend(&eps, mine) < 0)
                return -ENOMEM;
        if (etcd_spec(n, &s, &eps, &ca, &cert, &key, &peer, NULL) < 0)
                return 0;
        s.timeout_ms = 3000;
        s.call_timeout_ms = 2000;
        return fb_etcd_join_check(&s) > 0;
}

/* The join queue's lease, and the longest etcd step taken without renewing it (well inside the lease). */
#define QUEUE_LEASE_S   120u
#define RELEASE_WAIT_MS 20000ull /* giving the queue back outlasts a short apiserver outage */
#define QUEUE_SLICE_MS  90000ull

/*
 * Adds (st != NULL) or promotes this member in slices shorter than the queue's lease, renewing our hold
 * between slices, until timeout_ms has passed: a slow etcd (a large database for the learner to catch up
 * with, a leader election) never lets the lease lapse under a member change.
 */
static int etcd_step_holding_queue(struct kube_client *k, const char *holder, struct fb_etcd_join_spec *s,
                                   unsigned long long timeout_ms, struct fb_etcd_join_state *st,
                                   struct error *why) {
        unsigned long long deadline = clock_now_ms() + timeout_ms;
        for (;;) {
                unsigned long long now = clock_now_ms(), left = deadline > now ? deadline - now : 0;
                s->timeout_ms = left < QUEUE_SLICE_MS ? left : QUEUE_SLICE_MS;
                int r = st ? fb_etcd_join_add(s, st, why) : fb_etcd_join_promote(s, why);
                if (r != -ETIMEDOUT || clock_now_ms() + 1000 >= deadline)
                        return r;
                int q = fb_join_queue_renew(k, holder, QUEUE_LEASE_S);
                if (q < 0)
                        /* Going on is still right: etcd's one-learner rule guards the member change. */
                        log_warning("Cannot renew the join queue (Lease kube-system/" FB_JOIN_QUEUE_NAME
                                    "): %s; going on with this member's %s.",
                                    q == -EBUSY ? "another node holds it now" : strerror(-q),
                                    st ? "addition" : "promotion");
        }
}

struct queue_keepalive {
        struct kube_client *k;
        const char *holder;
        unsigned long long renewed_ms;
};

/* Keeps our hold on the join queue while the replacement waits for conclusive evidence. */
static void renew_queue(void *data) {
        struct queue_keepalive *q = data;
        if (clock_now_ms() - q->renewed_ms < QUEUE_SLICE_MS / 3)
                return;
        if (fb_join_queue_renew(q->k, q->holder, QUEUE_LEASE_S) >= 0)
                q->renewed_ms = clock_now_ms();
}

/* Whether this machine has any etcd data: without it, a started member with our peer URL is a previous
 * incarnation of this machine, not ours to resume. */
static bool etcd_data_empty(const struct fb_node *n) {
        _cleanup_free_ char *wal = strdupf("%s/member", n->cp.etcd_data_dir ?: "/var/lib/etcd");
        return wal && path_exists(n->root, wal) < 0;
}

/* Removes the etcd members of dead control planes (replacement.*), holding the join queue. */
static int replace_dead_members(struct fb_node *n, struct kube_client *k, const char *holder,
                                const struct fb_etcd_join_spec *js, unsigned long long wait_ms,
                                char ***ret_endpoints, struct error *why) {
        _cleanup_(fb_replacement_result_done) struct fb_replacement_result res = {};
        unsigned long long dead_after_ms = fb_config_settings(n->config)->firstboot.replacement.dead_after;
        struct queue_keepalive q = {.k = k, .holder = holder, .renewed_ms = clock_now_ms()};

        if (!fb_config_settings(n->config)->firstboot.replacement.enabled)
                return 0;
        struct fb_replacement_spec rs = {
                .endpoints = js->endpoints,
                .ca_pem = js->ca_pem,
                .cert_pem = js->cert_pem,
                .key_pem = js->key_pem,
                .api = k,
                .self_name = js->name,
                .self_peer_url = js->peer_url,
                .self_data_empty = etcd_data_empty(n),
                .dead_after_ms = dead_after_ms,
                .timeout_ms = wait_ms,
                .keepalive = renew_queue,
                .keepalive_data = &q,
        };
        int r = fb_replacement_run(&rs, &res, why);
        for (size_t i = 0; i < res.n_removed; i++) {
                const struct fb_replaced_member *m = &res.removed[i];
                struct fb_status_replacement x = {.name = m->name,
                                                  .member_id = m->id,
                                                  .peer_url = m->peer_url,
                                                  .learner = m->learner,
                                                  .reason = m->reason};
                (void) fb_status_add_replacement(n->status, &x);
        }
        if (r >= 0 && res.healthy_endpoints) {
                strv_free(*ret_endpoints);
                *ret_endpoints = TAKE_PTR(res.healthy_endpoints);
        }
        return r;
}

/* The cluster's apiservers as the "kubernetes" Endpoints lists them ("https://ip:port"), read while the API
 * answers, for a release that must get through when the load balancer does not. */
static char **apiserver_urls(struct kube_client *k) {
        _cleanup_(cJSON_Deletep) cJSON *ep = NULL;
        _cleanup_strv_free_ char **urls = NULL;
        const cJSON *sub, *a, *p;

        if (kube_get(k, "/api/v1/namespaces/default/endpoints/kubernetes", &ep) < 0)
                return NULL;
        cJSON_ArrayForEach(sub, json_get(ep, "subsets")) {
                int64_t port = 0;
                cJSON_ArrayForEach(p, json_get(sub, "ports"))
                        if (streq(json_get_string(p, "name") ?: "", "https"))
                                (void) json_get_int64(p, "port", &port);
                cJSON_ArrayForEach(a, json_get(sub, "addresses")) {
                        const char *ip = json_get_string(a, "ip");
                        _cleanup_free_ char *u =
                                ip && port > 0 ? mf_url("https", ip, (unsigned) port) : NULL;
                        if (u && !strv_contains(urls, u))
                                (void) strv_extend(&urls, u);
                }
        }
        return TAKE_PTR(urls);
}

/*
 * Gives the join queue back: through the cluster's endpoint, and when that does not answer (no apiserver
 * healthy behind the load balancer, as when a voter just lost power) through each apiserver directly, this
 * node's own included, for up to RELEASE_WAIT_MS. A hold that cannot be given back expires after its lease.
 */
static void release_queue(struct fb_node *n, struct kube_client *k, const char *holder, char *const *urls) {
        _cleanup_free_ char *admin = strdupf("%s/admin.conf", n->pki.kubeconfig_dir ?: "/etc/kubernetes");
        unsigned long long deadline = clock_now_ms() + RELEASE_WAIT_MS;
        int r = fb_join_queue_release(k, holder);

        for (unsigned attempt = 0; r < 0 && admin && clock_now_ms() < deadline; attempt++) {
                /* this node's own apiserver first (it may be the only one up), then the others */
                for (size_t i = 0; r < 0 && (i == 0 || (urls && urls[i - 1])); i++) {
                        const char *u = i == 0 ? n->local_api_url : urls[i - 1];
                        _cleanup_(kube_client_freep) struct kube_client *c = NULL;
                        if (!u || (i > 0 && n->local_api_url && streq(u, n->local_api_url)) ||
                            kube_client_from_kubeconfig_server(n->root, admin, u, &c) < 0)
                                continue;
                        kube_client_set_timeouts(c, 3000, 0);
                        r = fb_join_queue_release(c, holder);
                        if (r >= 0)
                                log_info(
                                        "Released the etcd join queue through %s (the cluster's endpoint did not answer).",
                                        u);
                }
                if (r < 0)
                        clock_sleep_about_ms(clock_backoff_ms(500, 3000, attempt));
        }
        if (r < 0)
                log_warning("Cannot release the etcd join queue (Lease kube-system/" FB_JOIN_QUEUE_NAME
                            "): %s; it frees itself %u s after its last renewal.",
                            strerror(-r), QUEUE_LEASE_S);
}

/* The etcd members' client URLs from the etcd pods. The API may be gone for a while (a voter lost power, the
 * quorum with it): it is waited for as the queue is, not given up at once. */
static int etcd_endpoints_waiting(struct fb_node *n, struct kube_client *k, const char *mine, char ***ret,
                                  struct error *why) {
        unsigned long long deadline = clock_now_ms() + etcd_join_ms(n, 600000);
        int r;

        for (unsigned attempt = 0;; attempt++) {
                r = fb_etcd_endpoints_from_pods(k, mine, ret, why);
                if (r >= 0 || !kube_error_is_transient(r) || clock_now_ms() >= deadline)
                        return r;
                if (attempt == 0)
                        log_info("The API does not answer (%s); waiting for it.", error_message(why, r));
                clock_sleep_about_ms(clock_backoff_ms(500, 5000, attempt));
        }
}

static int run_etcd_join(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_strv_free_ char **eps = NULL;
        _cleanup_free_ char *ca = NULL, *cert = NULL, *peer = NULL, *holder = NULL, *yaml = NULL;
        _cleanup_erase_ char *key = NULL;
        _cleanup_(fb_etcd_join_state_done) struct fb_etcd_join_state st = {};
        struct fb_etcd_join_spec s;
        int r;

        /* The cluster's endpoint: this node's apiserver cannot run before its etcd member does. */
        r = fb_node_client(n, "admin.conf", false, &k);
        if (r < 0)
                return error_set(why, r, "cannot use /etc/kubernetes/admin.conf: %s", strerror(-r));
        _cleanup_free_ char *mine = mf_url("https", n->pki.advertise_address, 2379);
        if (!mine)
                return -ENOMEM;
        r = etcd_endpoints_waiting(n, k, mine, &eps, why);
        if (r < 0)
                return r;
        r = etcd_spec(n, &s, &eps, &ca, &cert, &key, &peer, why);
        if (r < 0)
                return r;
        unsigned long long step_ms = s.timeout_ms;

        /* A machine whose member was removed while it was down (replaced as dead) must not carry on with its
         * etcd data: its peers refuse that member for ever, and a new member needs an empty data dir. */
        if (!etcd_data_empty(n)) {
                struct error e = {};
                r = fb_etcd_membership(s.endpoints, ca, cert, key, peer, 5000, &e);
                if (r == FB_MEMBERSHIP_REMOVED)
                        return error_set(
                                why, -ESTALE,
                                "this node's etcd member (%s) was removed from the cluster (replaced as dead while this machine was down?), but %s still holds its data: to join again as a new member run 'kube-firstboot reset --force', then 'kube-firstboot run'",
                                peer, n->cp.etcd_data_dir ?: "/var/lib/etcd");
        }

        /* One member change at a time, cluster-wide. */
        r = fb_join_queue_holder_new(n->pki.node_name, &holder);
        if (r < 0)
                return r;
        unsigned long long queue_ms = etcd_join_ms(n, 600000);
        r = fb_join_queue_acquire(k, holder, QUEUE_LEASE_S, queue_ms, why);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **apiservers = apiserver_urls(k);
        s.abandoned_learner_ms = 60000;

        /* A replacement booted right after a death waits out deadAfter: unless timeouts.etcdJoin says
         * otherwise, give it that long and a minute more. */
        const struct fb_firstboot_settings *fs = &fb_config_settings(n->config)->firstboot;
        unsigned long long replace_ms = etcd_join_ms(n, 0);
        if (replace_ms == 0)
                replace_ms = fs->replacement.enabled && fs->replacement.dead_after + 60000 > step_ms
                                     ? fs->replacement.dead_after + 60000
                                     : step_ms;
        r = replace_dead_members(n, k, holder, &s, replace_ms, &eps, why);
        s.endpoints = (const char *const *) eps;
        if (r >= 0)
                r = etcd_step_holding_queue(k, holder, &s, step_ms, &st, why);
        if (r >= 0) {
                n->cp.etcd_initial_cluster = st.initial_cluster;
                n->cp.etcd_join = true;
                const char *dir = n->cp.etcd_data_dir ?: "/var/lib/etcd";
                r = mkdir_p(n->root, dir, 0700);
                if (r >= 0)
                        r = fb_node_static_pod_yaml(n, MF_ETCD, &yaml);
                if (r >= 0)
                        r = fb_file_put(n->root, FB_MANIFESTS_DIR "/etcd.yaml", yaml, 0600, 0700);
                n->cp.etcd_initial_cluster = NULL;
                if (r < 0)
                        error_set(why, r, "cannot write " FB_MANIFESTS_DIR "/etcd.yaml: %s", strerror(-r));
        }
        if (r >= 0) {
                (void) fb_join_queue_renew(k, holder, QUEUE_LEASE_S);
                r = etcd_step_holding_queue(k, holder, &s, step_ms, NULL, why);
        }
        release_queue(n, k, holder, apiservers);
        return r;
}

int fb_join_release_stale_queue_hold(struct fb_node *n) {
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info q = {};
        _cleanup_free_ char *mine = NULL;
        int r;

        if (n->role != FB_ROLE_CONTROL_PLANE || n->pki.external_etcd)
                return 0;
        r = fb_node_client(n, "admin.conf", false, &k);
        if (r >= 0)
                r = fb_join_queue_show(k, &q);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = fb_join_queue_holder_new(n->pki.node_name, &mine); /* this run's identity: same node part */
        if (r < 0)
                return r;
        if (!q.holder || !fb_join_queue_same_node(q.holder, mine))
                return 0;
        log_info("Releasing the etcd join queue still held by an earlier run of this node (%s).", q.holder);
        return fb_join_queue_release(k, q.holder);
}

static void describe_etcd_join(void *ctx, FILE *out) {
        (void) ctx;
        fprintf(out,
                "      take the join queue (Lease kube-system/" FB_JOIN_QUEUE_NAME
                "), add this member as an etcd learner, write " FB_MANIFESTS_DIR
                "/etcd.yaml (initial-cluster-state existing), promote it once in sync, release the queue\n");
}

/* ---- kubelet-wait-bootstrap ---- */

static int check_wait_bootstrap(void *ctx) {
        struct fb_node *n = ctx;
        return path_exists(n->root, KUBELET_KUBECONFIG) >= 0 &&
               path_exists(n->root, BOOTSTRAP_KUBECONFIG) < 0 && fb_kubelet_healthy(n) > 0;
}

static int run_wait_bootstrap(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        unsigned long long ms = n->timeouts.tls_bootstrap;
        unsigned long long deadline = clock_now_ms() + ms;
        while (path_exists(n->root, KUBELET_KUBECONFIG) < 0 || fb_kubelet_healthy(n) <= 0) {
                if (clock_now_ms() >= deadline)
                        return error_set(
                                why, -ETIMEDOUT,
                                "the kubelet did not finish its TLS bootstrap (no " KUBELET_KUBECONFIG
                                " or no healthz) within %llus: check 'journalctl -u kubelet', the bootstrap token and that %s answers",
                                ms / 1000, bootstrap_server(n));
                clock_sleep_about_ms(500);
        }
        int r = unlink_file(n->root, BOOTSTRAP_KUBECONFIG);
        if (r < 0 && r != -ENOENT)
                return error_set(why, r, "cannot remove " BOOTSTRAP_KUBECONFIG ": %s", strerror(-r));
        return 0;
}

static void describe_wait_bootstrap(void *ctx, FILE *out) {
        (void) ctx;
        fprintf(out, "      wait for the kubelet's TLS bootstrap (" KUBELET_KUBECONFIG
                     "), then remove " BOOTSTRAP_KUBECONFIG "\n");
}

/* ---- worker: the Node registered ---- */

static int check_node_registered(void *ctx) {
        struct fb_node *n = ctx;
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_free_ char *path = strdupf("/api/v1/nodes/%s", n->pki.node_name);
        _cleanup_(cJSON_Deletep) cJSON *node = NULL;
        if (!path)
                return -ENOMEM;
        /* With the bootstrap token: kubeadm:get-nodes lets it read Nodes (kubeadm's joiner does the same).
         */
        if (!n->join || kube_client_new(n->join->server, n->join->ca_pem, false, &k) < 0 ||
            kube_client_set_token(k, n->join->token) < 0)
                return 0;
        kube_client_set_timeouts(k, 5000, 1);
        return kube_get(k, path, &node) >= 0 && fb_node_cri_socket_annotated(n, node);
}

/* kubeadm before NodeLocalCRISocket records the CRI socket on its own Node, with the kubelet's client
 * (the Node authorizer lets a node annotate itself). */
static int annotate_cri_socket(struct fb_node *n) {
        _cleanup_(kube_client_freep) struct kube_client *k = NULL;
        _cleanup_free_ char *path = strdupf("/api/v1/nodes/%s", n->pki.node_name);
        _cleanup_(cJSON_Deletep) cJSON *p = NULL;
        struct json_builder b = {};
        cJSON *o = jb_object(&b);
        int r;

        jb_str(&b, jb_obj(&b, jb_obj(&b, o, "metadata"), "annotations"), MF_CRI_SOCKET_ANNOTATION,
               mf_kubelet_cri_socket(&n->kubelet));
        r = jb_finish(&b, o, &p);
        if (r < 0)
                return r;
        if (!path)
                return -ENOMEM;
        r = fb_node_client(n, "kubelet.conf", false, &k);
        if (r < 0)
                return r;
        kube_client_set_timeouts(k, 5000, 1);
        return kube_patch(k, path, "application/merge-patch+json", p, NULL);
}

static int run_node_registered(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        unsigned long long ms = n->timeouts.kubernetes_api_call * 4;
        unsigned long long deadline = clock_now_ms() + ms;
        while (check_node_registered(n) <= 0) {
                if (!n->versions->node_local_cri_socket)
                        (void) annotate_cri_socket(n); /* refused until the Node exists: retried */
                if (clock_now_ms() >= deadline)
                        return error_set(
                                why, -ETIMEDOUT,
                                "the Node %s did not register within %llus ('journalctl -u kubelet')",
                                n->pki.node_name, ms / 1000);
                clock_sleep_about_ms(1000);
        }
        return 0;
}

static void describe_node_registered(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        fprintf(out, "      wait for Node %s (read with the bootstrap token)\n", n->pki.node_name);
        if (!n->versions->node_local_cri_socket)
                fprintf(out,
                        "      PATCH /api/v1/nodes/%s: annotation " MF_CRI_SOCKET_ANNOTATION
                        "=%s (kubelet.conf)\n",
                        n->pki.node_name, mf_kubelet_cri_socket(&n->kubelet));
}

/* ---- certs (join) ---- */

static int check_join_pki(void *ctx) {
        struct fb_node *n = ctx;
        _cleanup_(pki_report_done) struct pki_report rep = {};
        if (pki_node_plan(n->root, &n->pki, &rep) < 0)
                return 0;
        for (size_t i = 0; i < rep.n; i++)
                if (rep.results[i].action != PKI_ACTION_KEPT)
                        return 0;
        return 1;
}

static int run_join_pki(void *ctx, struct error *why) {
        struct fb_node *n = ctx;
        _cleanup_(pki_report_done) struct pki_report rep = {};
        int r = pki_node_ensure(n->root, &n->pki, &rep);
        if (r < 0)
                return error_set(why, r, "%s", rep.error[0] ? rep.error : strerror(-r));
        return 0;
}

static void describe_join_pki(void *ctx, FILE *out) {
        struct fb_node *n = ctx;
        _cleanup_(pki_report_done) struct pki_report rep = {};
        if (pki_node_plan(n->root, &n->pki, &rep) < 0) {
                fprintf(out, "      (after download-certs) this node's certificates and kubeconfigs\n");
                return;
        }
        for (size_t i = 0; i < rep.n; i++)
                fprintf(out, "      %s %s\n", pki_action_to_string(rep.results[i].action),
                        rep.results[i].path);
}

/* ---- the tables ---- */

int fb_join_phases(const struct fb_node *n, struct fb_phase **ret, size_t *ret_n) {
        const struct fb_phase cp[] = {
                fb_phase_preflight,
                {"download-certs", "the shared CA keys from kubeadm-certs, opened with the certificate key",
                 check_download_certs, run_download_certs, describe_download_certs,
                 "Check the certificate key, or upload kubeadm-certs again on a control plane ('kube-firstboot refresh')."},
                {"certs", "this node's certificates and kubeconfigs", check_join_pki, run_join_pki,
                 describe_join_pki, "Check /etc/kubernetes/pki."},
                {"control-plane", "the apiserver, controller-manager and scheduler static pods",
                 fb_check_control_plane_pods, fb_run_control_plane_pods, fb_describe_control_plane_pods,
                 "Check the cluster's ClusterConfiguration (kube-system/kubeadm-config)."},
                {"kubelet-start", "bootstrap kubeconfig, kubelet files, the kubelet started",
                 check_join_kubelet_start, run_join_kubelet_start, describe_join_kubelet_start,
                 "Install the kubelet (and its systemd unit), or set FirstbootConfiguration.kubelet.startCommand."},
                fb_phase_etcd_join,
                {"kubelet-wait-bootstrap", "the kubelet's TLS bootstrap against the local apiserver",
                 check_wait_bootstrap, run_wait_bootstrap, describe_wait_bootstrap,
                 "Check the kubelet's log (journalctl -u kubelet) and the local apiserver."},
                {"mark-control-plane", "this Node labelled and tainted as a control plane",
                 fb_check_mark_control_plane, fb_run_mark_control_plane, fb_describe_mark_control_plane,
                 "Check that the kubelet registered the Node."},
                {"wait-control-plane", "the local apiserver, controller-manager and scheduler healthy",
                 fb_check_wait_control_plane, fb_run_wait_control_plane, fb_describe_wait_control_plane,
                 "Look at the static pods' logs (crictl ps -a; crictl logs ID)."},
                fb_phase_vip_join,
        };
        const struct fb_phase worker[] = {
                fb_phase_preflight,
                {"kubelet-start", "bootstrap kubeconfig, kubelet files, the kubelet started",
                 check_join_kubelet_start, run_join_kubelet_start, describe_join_kubelet_start,
                 "Install the kubelet (and its systemd unit), or set FirstbootConfiguration.kubelet.startCommand."},
                {"kubelet-wait-bootstrap", "the kubelet's TLS bootstrap", check_wait_bootstrap,
                 run_wait_bootstrap, describe_wait_bootstrap,
                 "Check the kubelet's log (journalctl -u kubelet) and the bootstrap token."},
                {"node-registered", "the Node object registered by the kubelet", check_node_registered,
                 run_node_registered, describe_node_registered,
                 "Check the kubelet's log (journalctl -u kubelet)."},
        };
        const struct fb_phase *src = n->role == FB_ROLE_WORKER ? worker : cp;
        size_t total = n->role == FB_ROLE_WORKER ? ELEMENTSOF(worker) : ELEMENTSOF(cp), k = 0;
        struct fb_phase *p = calloc(total, sizeof(*p));
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < total; i++) {
                if (streq(src[i].name, "etcd-join") && n->pki.external_etcd)
                        continue;
                /* kubeadm's join checks the local components only where this minor's kubeadm does. */
                if (streq(src[i].name, "wait-control-plane") && !n->versions->join_wait_control_plane)
                        continue;
                if (streq(src[i].name, "control-plane-vip") && !fb_node_has_vip(n))
                        continue;
                p[k++] = src[i];
        }
        *ret = p;
        *ret_n = k;
        return 0;
}

const struct fb_phase fb_phase_etcd_join = {
        "etcd-join",
        "this node's etcd member added as a learner, started, promoted (one at a time, cluster-wide)",
        check_etcd_join,
        run_etcd_join,
        describe_etcd_join,
        "Check etcd health on the control planes ('kube-firstboot etcd member list'); 'kube-firstboot etcd queue show' says who holds the join queue.",
};
