/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/role.h"

/*
 * Whether a cluster or a starting peer answers: an apiserver at the control-plane endpoint (any HTTP answer:
 * a load balancer that accepts and drops the connection is not one), or an apiserver or etcd port open on a
 * peer. what names it for the log.
 */
static bool someone_answers(const struct fb_config *c, const struct md_instance *inst, char *what,
                            size_t len) {
        const struct fb_cluster_settings *cluster = fb_config_settings(c)->cluster;
        const char *cpe = cluster ? cluster->control_plane_endpoint : NULL;
        if (cpe) {
                _cleanup_free_ char *host = NULL, *url = NULL;
                _cleanup_(http_response_freep) struct http_response *resp = NULL;
                unsigned port = 6443;
                if (split_host_port(cpe, &host, &port) >= 0 &&
                    (url = ip_is_ipv6(host) ? strdupf("https://[%s]:%u/healthz", host, port ?: 6443)
                                            : strdupf("https://%s:%u/healthz", host, port ?: 6443))) {
                        struct http_request req = {
                                .url = url, .insecure = true, .timeout_ms = 3000, .no_proxy = true};
                        if (http_request(&req, &resp) >= 0) {
                                snprintf(what, len,
                                         "an apiserver answers at the control-plane endpoint %s (HTTP %ld)",
                                         cpe, resp->status);
                                return true;
                        }
                }
        }
        for (char *const *p = fb_config_seed_peers(c); p && *p; p++) {
                if (inst && ((inst->local_ipv4 && streq(*p, inst->local_ipv4)) ||
                             (inst->local_ipv6 && streq(*p, inst->local_ipv6))))
                        continue;
                static const unsigned ports[] = {6443, 2379};
                for (size_t i = 0; i < ELEMENTSOF(ports); i++)
                        if (tcp_answers(*p, ports[i], 1000)) {
                                snprintf(what, len, "peer %s answers on port %u", *p, ports[i]);
                                return true;
                        }
        }
        return false;
}

int fb_role_resume(enum fb_role configured, const char *journaled, struct fb_role_decision *ret,
                   struct error *why) {
        struct fb_role_decision d = {.role = fb_role_from_string(journaled)};
        if (d.role < 0 || d.role == FB_ROLE_AUTO) {
                return error_set(why, -EBADMSG,
                                 "the journal " FB_JOURNAL_PATH " records an unknown role '%s'",
                                 strempty(journaled));
        }
        /* The one change tolerated: control-plane configured over an init journal (init makes a control
         * plane). */
        if (configured != FB_ROLE_AUTO && configured != d.role &&
            !(configured == FB_ROLE_CONTROL_PLANE && d.role == FB_ROLE_INIT)) {
                return error_set(why, -ESTALE,
                                 "this machine already started as %s (journal " FB_JOURNAL_PATH
                                 "); the configuration now says %s",
                                 journaled, fb_role_to_string(configured));
        }
        snprintf(d.reason, sizeof(d.reason), "resuming as %s, as the journal records", journaled);
        *ret = d;
        return 0;
}

int fb_role_decide(const char *root, const struct fb_config *c, const struct md_instance *inst, bool dry_run,
                   struct fb_role_decision *ret, struct error *why) {
        struct fb_role_decision d = {.role = fb_config_role(c)};
        _cleanup_free_ char *journaled = NULL;
        int r;

        /* A machine that started keeps its role: a resumed auto node must not change its mind. */
        r = fb_journal_role(root, &journaled);
        if (r >= 0)
                return fb_role_resume(d.role, journaled, ret, why);
        if (r != -ENOENT) {
                return error_set(why, r, "cannot read the journal " FB_JOURNAL_PATH ": %s", strerror(-r));
        }

        if (d.role != FB_ROLE_AUTO) {
                snprintf(d.reason, sizeof(d.reason), "FirstbootConfiguration.role is %s",
                         fb_role_to_string(d.role));
                *ret = d;
                return 0;
        }

        r = inst ? fb_config_is_seed(c, inst) : -EINVAL;
        if (r < 0) {
                return error_set(
                        why, -EINVAL,
                        "role auto: the seed rule cannot be decided on this instance (it lacks the instance id, hostname or address the rule compares)");
        }
        if (!r) {
                d.role = FB_ROLE_CONTROL_PLANE;
                snprintf(d.reason, sizeof(d.reason), "role auto: this node is not the seed; it joins");
                *ret = d;
                return 0;
        }
        /* The seed inits only into silence: the endpoint and every peer quiet for the whole grace period.
         * A seed replaced after the cluster exists (an autoscaling group) finds it answering and joins. */
        unsigned long long grace = dry_run ? 0 : fb_config_settings(c)->firstboot.timeouts.seed_grace;
        unsigned long long t0 = clock_now_ms();
        for (;;) {
                char what[200];
                if (someone_answers(c, inst, what, sizeof(what))) {
                        d.role = FB_ROLE_CONTROL_PLANE;
                        snprintf(d.reason, sizeof(d.reason),
                                 "role auto: this node is the seed, but %s: it joins", what);
                        *ret = d;
                        return 0;
                }
                if (clock_now_ms() - t0 >= grace)
                        break;
                clock_sleep_ms(1000);
        }
        d.role = FB_ROLE_INIT;
        snprintf(
                d.reason, sizeof(d.reason),
                "role auto: this node is the seed and the control-plane endpoint and peers stayed silent for %llus",
                grace / 1000);
        *ret = d;
        return 0;
}
