/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/joinqueue.h"
#include "firstboot/config/config-view.h"
#include "firstboot/config/pki-config.h"
#include "firstboot/flows/cert-renewal.h"
#include "firstboot/flows/node.h"
#include "firstboot/host/static-pods.h"
#include "pki/expiry.h"
#include "pki/renewal.h"

/* Static pods that a crash or a failure left to restart: one name a line. Written before the renewal, so
 * that certificates renewed on disk are never left unread by their component. */
#define RESTART_PENDING_PATH FB_STATE_DIR "/restart-pending"
#define QUEUE_WAIT_MS        (15ull * 60 * 1000)

/* kubeadm's renewCertsByComponent, in the order the components restart. */
static const struct {
        const char *pod;
        const char *certs[4];
} readers[] = {
        {"kube-apiserver",
         {"apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "front-proxy-client"}},
        {"kube-controller-manager", {"controller-manager.conf"}},
        {"kube-scheduler", {"scheduler.conf"}},
};

void fb_cert_renewal_result_done(struct fb_cert_renewal_result *r) {
        strv_free(r->renewed);
        strv_free(r->restarted);
        strv_free(r->ca_expiring);
        *r = (struct fb_cert_renewal_result){};
}

static char *rfc3339(time_t t) {
        struct tm tm;
        char buf[32];
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return strdup("?");
        return strdup(buf);
}

static int read_pending(const char *root, char ***ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r = read_file(root, RESTART_PENDING_PATH, 4096, &text, NULL);

        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n"))
                for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                        if (streq(s, readers[i].pod) && !strv_contains(l, s) && strv_extend(&l, s) < 0)
                                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int write_pending(const char *root, char *const *pods) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        for (char *const *p = pods; p && *p; p++)
                n++;
        if (n == 0) {
                int r = unlink_file(root, RESTART_PENDING_PATH);
                return r == -ENOENT ? 0 : r;
        }
        text = strjoin_sep((const char *const *) pods, n, "\n");
        if (!text)
                return -ENOMEM;
        return write_string_atomic(root, RESTART_PENDING_PATH, text, 0644, 0);
}

/* The CAs with less than the renewal's part of their lifetime left: reported, never renewed. */
static int check_cas(const struct fb_cert_renewal *req, const struct pki_node_spec *spec, unsigned pct,
                     struct fb_cert_renewal_result *res) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info info = {};
        struct timespec ts = {.tv_sec = req->now};
        int r = pki_expiration_info(req->root, spec, &ts, &info);

        if (r < 0)
                return r;
        for (size_t i = 0; i < info.n_cas; i++) {
                const struct pki_expiration *e = &info.cas[i];
                _cleanup_free_ char *when = NULL, *line = NULL;
                char left[PKI_HUMAN_DURATION_MAX];

                if (!e->read || !pki_renewal_due(e->not_before, e->not_after, req->now, pct))
                        continue;
                when = rfc3339(e->not_after);
                line = when ? strdupf("%s (expires %s)", e->name, when) : NULL;
                if (!line || strv_extend(&res->ca_expiring, line) < 0)
                        return -ENOMEM;
                (void) pki_human_duration(pki_residual_seconds(e->not_after, &ts) * INT64_C(1000000000),
                                          left);
                log_warning(
                        "[certs] The %s CA (%s) expires %s, in %s: CAs are never renewed automatically. Rotate it before then: https://kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/",
                        e->name, e->path, when, left);
        }
        return 0;
}

/* The static pods that read what was renewed, added to *pods once each. */
static int pods_for(const struct pki_renewal_report *rep, char ***pods) {
        for (size_t i = 0; i < ELEMENTSOF(readers); i++)
                for (size_t k = 0; k < rep->n; k++) {
                        bool reads = false;
                        for (size_t c = 0; c < ELEMENTSOF(readers[i].certs) && readers[i].certs[c]; c++)
                                reads = reads || streq(readers[i].certs[c], rep->items[k].name);
                        if (reads && rep->items[k].outcome == PKI_RENEWAL_RENEWED &&
                            !strv_contains(*pods, readers[i].pod) && strv_extend(pods, readers[i].pod) < 0)
                                return -ENOMEM;
                }
        return 0;
}

/* Restarts the pending pods in kubeadm's order, under the join queue; each done one leaves the pending
 * file. */
static int restart_pods(const struct fb_cert_renewal *req, char ***pending,
                        struct fb_cert_renewal_result *res, struct error *why) {
        _cleanup_free_ char *holder = NULL;
        bool held = false;
        int r = 0;

        if (req->admin) {
                r = fb_join_queue_holder_new(req->node_name, &holder);
                if (r >= 0)
                        r = fb_join_queue_acquire(req->admin, holder, FB_JOIN_QUEUE_DEFAULT_LEASE_S * 5,
                                                  QUEUE_WAIT_MS, why);
                if (r < 0)
                        return error_wrap(
                                why, r,
                                "cannot take the join queue to restart the control plane one node at a time (the renewed certificates are in place; the next refresh restarts %s)",
                                (*pending)[0]);
                held = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(readers) && r >= 0; i++) {
                const char *pod = readers[i].pod;
                _cleanup_free_ char *manifest = strdupf("%s/%s.yaml", FB_MANIFESTS_DIR, pod);
                unsigned long long start = clock_now_ms();

                if (!strv_contains(*pending, pod))
                        continue;
                if (!manifest)
                        r = -ENOMEM;
                else if (path_exists(req->root, manifest) < 0)
                        printf("[certs] No %s on this node: %s not restarted\n", manifest, pod);
                else {
                        printf("[certs] Restarting %s (one at a time) to load its new certificates\n", pod);
                        fflush(stdout);
                        r = fb_static_pod_restart(
                                &(struct fb_static_pod_restart){.root = req->root,
                                                                .manifests_dir = FB_MANIFESTS_DIR,
                                                                .name = pod,
                                                                .stop_timeout_ms = req->stop_timeout_ms,
                                                                .healthy_timeout_ms =
                                                                        req->healthy_timeout_ms},
                                why);
                        if (r >= 0) {
                                printf("[certs] %s is healthy again after %.1fs\n", pod,
                                       (double) (clock_now_ms() - start) / 1000.0);
                                r = strv_extend(&res->restarted, pod);
                        }
                }
                if (r >= 0) {
                        char **kept = NULL;
                        for (char **p = *pending; p && *p; p++)
                                if (!streq(*p, pod) && strv_extend(&kept, *p) < 0)
                                        r = -ENOMEM;
                        strv_free(*pending);
                        *pending = kept;
                        int w = write_pending(req->root, *pending);
                        if (w < 0 && r >= 0)
                                r = error_set(why, w, "cannot write %s: %s", RESTART_PENDING_PATH,
                                              strerror(-w));
                }
                if (r >= 0 && held)
                        (void) fb_join_queue_renew(req->admin, holder, FB_JOIN_QUEUE_DEFAULT_LEASE_S * 5);
        }
        if (held)
                (void) fb_join_queue_release(req->admin, holder);
        return r;
}

/* When the first certificate left alone becomes due. */
static time_t next_due(const struct pki_renewal_report *rep, unsigned pct) {
        time_t best = 0;
        for (size_t i = 0; i < rep->n; i++) {
                const struct pki_renewal *it = &rep->items[i];
                time_t nb = it->outcome == PKI_RENEWAL_RENEWED ? 0 : it->old_not_before;
                time_t na = it->outcome == PKI_RENEWAL_RENEWED ? it->new_not_after : it->old_not_after;
                if (it->outcome == PKI_RENEWAL_MISSING || it->outcome == PKI_RENEWAL_EXTERNAL_CA || !nb)
                        continue;
                time_t due = na - (time_t) ((long double) (na - nb) * pct / 100);
                if (!best || due < best)
                        best = due;
        }
        return best;
}

int fb_certificates_renew(const struct fb_cert_renewal *req, struct fb_cert_renewal_result *ret,
                          struct error *why) {
        const struct fb_settings *set = fb_config_settings(req->config);
        unsigned pct = set->firstboot.certificate_renewal.renew_before_percentage;
        _cleanup_(pki_node_spec_done) struct pki_node_spec spec = {};
        _cleanup_(pki_renewal_report_done) struct pki_renewal_report rep = {};
        _cleanup_(fb_cert_renewal_result_done) struct fb_cert_renewal_result res = {};
        _cleanup_strv_free_ char **pending = NULL, **due_pods = NULL;
        int r;

        r = pki_node_spec_init(&spec);
        if (r < 0)
                return r;
        r = fb_pki_spec_from_cluster(req->cluster, &spec, why);
        if (r < 0)
                return r;
        r = check_cas(req, &spec, pct, &res);
        if (r < 0)
                return r;
        r = read_pending(req->root, &pending);
        if (r < 0)
                return error_set(why, r, "cannot read %s: %s", RESTART_PENDING_PATH, strerror(-r));

        /* What is due, first without writing: the components to restart are on record before any
         * certificate changes on disk. */
        r = pki_renew(req->root, &spec, req->now, pct, true, &rep);
        if (r < 0)
                return error_set(why, r, "%s", rep.error);
        if (pods_for(&rep, &due_pods) < 0)
                return -ENOMEM;
        for (char **p = due_pods; p && *p; p++)
                if (!strv_contains(pending, *p) && strv_extend(&pending, *p) < 0)
                        return -ENOMEM;
        if (req->dry_run) {
                for (size_t i = 0; i < rep.n; i++)
                        if (rep.items[i].outcome == PKI_RENEWAL_RENEWED)
                                printf("[certs] Would renew %s (%s)\n", rep.items[i].name,
                                       rep.items[i].path);
                for (char **p = pending; p && *p; p++)
                        printf("[certs] Would restart %s\n", *p);
                res.next_due = next_due(&rep, pct);
                *ret = res;
                res = (struct fb_cert_renewal_result){};
                return 0;
        }
        if (rep.n_renewed > 0) {
                r = write_pending(req->root, pending);
                if (r < 0)
                        return error_set(why, r, "cannot write %s: %s", RESTART_PENDING_PATH, strerror(-r));
                pki_renewal_report_done(&rep);
                r = pki_renew(req->root, &spec, req->now, pct, false, &rep);
                if (r < 0)
                        return error_set(why, r, "%s", rep.error);
        }
        for (size_t i = 0; i < rep.n; i++) {
                const struct pki_renewal *it = &rep.items[i];
                _cleanup_free_ char *was = rfc3339(it->old_not_after), *now = rfc3339(it->new_not_after);
                if (it->outcome == PKI_RENEWAL_EXTERNAL_CA)
                        printf("[certs] Detected external %s, %s can't be renewed\n", it->ca_name, it->name);
                if (it->outcome != PKI_RENEWAL_RENEWED)
                        continue;
                printf("[certs] Renewed %s (valid until %s, was %s)\n", it->name, now ?: "?", was ?: "?");
                if (strv_extend(&res.renewed, it->name) < 0)
                        return -ENOMEM;
        }
        res.next_due = next_due(&rep, pct);
        if (pending)
                r = restart_pods(req, &pending, &res, why);
        *ret = res;
        res = (struct fb_cert_renewal_result){};
        return r;
}
