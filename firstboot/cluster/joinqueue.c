/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/cluster/joinqueue.h"
#include "manifests/objects.h"

#define GROUP_VERSION  "coordination.k8s.io/v1"
#define WAIT_BASE_MS   250u
#define WAIT_CAP_MS    2000u
#define CONFLICT_TRIES 5u

/* ---- the pure parts ---- */

int fb_join_queue_parse_time(const char *s, int64_t *ret_us) {
        struct tm tm = {};
        const char *p;
        int64_t us = 0, scale = 100000, offset_s = 0;
        time_t t;

        if (isempty(s))
                return -EINVAL;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        us += (*p - '0') * scale; /* digits past microseconds add 0 */
                        scale /= 10;
                }
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                unsigned hh, mm;
                int n = 0;
                if (sscanf(p + 1, "%2u:%2u%n", &hh, &mm, &n) != 2 || n != 5 || hh > 23 || mm > 59)
                        return -EINVAL;
                offset_s = (int64_t) (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret_us = ((int64_t) t - offset_s) * 1000000 + us;
        return 0;
}

void fb_join_queue_format_time(int64_t us, char *buf, size_t len) {
        time_t t = (time_t) (us / 1000000);
        struct tm tm;
        char base[32];

        if (!gmtime_r(&t, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
                return;
        }
        snprintf(buf, len, "%s.%06dZ", base, (int) (us % 1000000));
}

/* The node part of "<node>/<run id>": everything before the last '/', or all of it. */
static size_t node_len(const char *h) {
        const char *slash = strrchr(h, '/');
        return slash ? (size_t) (slash - h) : strlen(h);
}

bool fb_join_queue_same_node(const char *a, const char *b) {
        size_t la, lb;
        if (isempty(a) || isempty(b))
                return false;
        la = node_len(a);
        lb = node_len(b);
        return la > 0 && la == lb && strncmp(a, b, la) == 0;
}

void fb_join_queue_info_done(struct fb_join_queue_info *i) {
        if (!i)
                return;
        free(i->holder);
        free(i->resource_version);
        *i = (struct fb_join_queue_info){};
}

int fb_join_queue_info_from_lease(const cJSON *lease, int64_t now_us, struct fb_join_queue_info *ret) {
        struct fb_join_queue_info i = {};
        const char *holder = json_get_string(lease, "spec.holderIdentity");
        const char *rv = json_get_string(lease, "metadata.resourceVersion");
        const char *at = json_get_string(lease, "spec.acquireTime"),
                   *rt = json_get_string(lease, "spec.renewTime");
        int64_t v;

        if (!cJSON_IsObject(lease))
                return -EBADMSG;
        if (json_get_int64(lease, "spec.leaseDurationSeconds", &v) == 0 && v > 0 && v < 1000000)
                i.lease_s = (unsigned) v;
        if (json_get_int64(lease, "spec.leaseTransitions", &v) == 0 && v >= 0 && v < INT32_MAX)
                i.transitions = (unsigned) v;
        if (at && fb_join_queue_parse_time(at, &i.acquire_time_us) < 0)
                i.acquire_time_us = 0;
        if (rt && fb_join_queue_parse_time(rt, &i.renew_time_us) < 0)
                i.renew_time_us = 0;
        if (!isempty(holder)) {
                i.holder = strdup(holder);
                if (!i.holder)
                        return -ENOMEM;
                /* A hold without a renew time or a duration cannot be judged: it has no claim. */
                i.expired = i.renew_time_us == 0 || i.lease_s == 0 ||
                            i.renew_time_us + (int64_t) i.lease_s * 1000000 < now_us;
        }
        if (rv) {
                i.resource_version = strdup(rv);
                if (!i.resource_version) {
                        fb_join_queue_info_done(&i);
                        return -ENOMEM;
                }
        }
        *ret = i;
        return 0;
}

int fb_join_queue_holder_new(const char *node, char **ret) {
        uint8_t id[8];
        _cleanup_free_ char *hex = NULL;
        char *h;

        if (isempty(node) || strchr(node, '/'))
                return -EINVAL;
        if (getrandom(id, sizeof(id), 0) != sizeof(id))
                return -EIO;
        hex = hex_encode(id, sizeof(id));
        if (!hex)
                return -ENOMEM;
        h = strdupf("%s/%s", node, hex);
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}

/* ---- talking to the API ---- */

static char *lease_path(void) {
        return kube_path(GROUP_VERSION, FB_JOIN_QUEUE_NAMESPACE, "leases", FB_JOIN_QUEUE_NAME);
}

/* Sets spec to a hold by holder (NULL: released) at now. */
static int set_spec(cJSON *lease, const char *holder, unsigned lease_s, int64_t acquire_us, int64_t now_us,
                    unsigned transitions) {
        struct json_builder b = {};
        char at[32], rt[32];
        cJSON *spec = jb_object(&b);

        fb_join_queue_format_time(acquire_us, at, sizeof(at));
        fb_join_queue_format_time(now_us, rt, sizeof(rt));
        if (holder)
                jb_str(&b, spec, "holderIdentity", holder);
        jb_num(&b, spec, "leaseDurationSeconds", lease_s);
        jb_str(&b, spec, "acquireTime", at);
        jb_str(&b, spec, "renewTime", rt);
        jb_num(&b, spec, "leaseTransitions", transitions);
        if (jb_error(&b) < 0) {
                cJSON_Delete(spec);
                return jb_error(&b);
        }
        cJSON_DeleteItemFromObject(lease, "spec");
        jb_add(&b, lease, "spec", spec);
        return jb_error(&b);
}

static int create_lease(struct kube_client *c, const char *holder, unsigned lease_s) {
        _cleanup_(cJSON_Deletep) cJSON *obj = NULL;
        _cleanup_free_ char *coll = kube_path(GROUP_VERSION, FB_JOIN_QUEUE_NAMESPACE, "leases", NULL);
        struct json_builder b = {};
        int64_t now = clock_wall_us();
        int r;

        if (!coll)
                return -ENOMEM;
        r = jb_finish(&b,
                      mf_object_head(&b, GROUP_VERSION, "Lease", FB_JOIN_QUEUE_NAMESPACE, FB_JOIN_QUEUE_NAME,
                                     NULL),
                      &obj);
        if (r < 0)
                return r;
        r = set_spec(obj, holder, lease_s, now, now, 0);
        if (r < 0)
                return r;
        return kube_create(c, coll, obj, NULL);
}

/* Writes lease (as read, resourceVersion kept) with a new spec; -ESTALE when it changed meanwhile. */
static int update_lease(struct kube_client *c, const cJSON *read, const char *holder, unsigned lease_s,
                        int64_t acquire_us, unsigned transitions) {
        _cleanup_(cJSON_Deletep) cJSON *obj = cJSON_Duplicate(read, true);
        _cleanup_free_ char *path = lease_path();
        int r;

        if (!obj || !path)
                return -ENOMEM;
        r = set_spec(obj, holder, lease_s, acquire_us, clock_wall_us(), transitions);
        if (r < 0)
                return r;
        return kube_update(c, path, obj, NULL);
}

static int get_lease(struct kube_client *c, cJSON **ret) {
        _cleanup_free_ char *path = lease_path();
        if (!path)
                return -ENOMEM;
        return kube_get(c, path, ret);
}

int fb_join_queue_show(struct kube_client *c, struct fb_join_queue_info *ret) {
        _cleanup_(cJSON_Deletep) cJSON *lease = NULL;
        int r = get_lease(c, &lease);
        if (r < 0)
                return r;
        return fb_join_queue_info_from_lease(lease, clock_wall_us(), ret);
}

static void describe_holder(const struct fb_join_queue_info *i, char *buf, size_t len) {
        char since[32];
        int64_t now = clock_wall_us();
        fb_join_queue_format_time(i->acquire_time_us, since, sizeof(since));
        snprintf(buf, len, "'%s' (since %s, renewed %" PRId64 " s ago, lease %u s)", strempty(i->holder),
                 since, i->renew_time_us ? (now - i->renew_time_us) / 1000000 : -1, i->lease_s);
}

int fb_join_queue_acquire(struct kube_client *c, const char *holder, unsigned lease_s,
                          unsigned long long wait_ms, struct error *why) {
        unsigned long long deadline = clock_now_ms() + wait_ms, seen_since = 0;
        _cleanup_free_ char *seen_rv = NULL;
        char last[512] = "";
        bool announced = false;
        int r;

        if (isempty(holder) || lease_s == 0) {
                return error_set(why, -EINVAL,
                                 "join queue: a holder identity and a lease duration are needed");
        }

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(cJSON_Deletep) cJSON *lease = NULL;
                _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info i = {};
                bool pause = true;

                r = get_lease(c, &lease);
                if (r == -ENOENT) {
                        r = create_lease(c, holder, lease_s);
                        if (r >= 0) {
                                log_debug("join queue: created %s/%s for %s", FB_JOIN_QUEUE_NAMESPACE,
                                          FB_JOIN_QUEUE_NAME, holder);
                                return 0;
                        }
                        if (r == -EEXIST)
                                pause = false; /* someone created it first: read theirs */
                }
                if (r >= 0) {
                        r = fb_join_queue_info_from_lease(lease, clock_wall_us(), &i);
                        if (r < 0) {
                                return error_set(why, r, "join queue: %s/%s is not a Lease we can read",
                                                 FB_JOIN_QUEUE_NAMESPACE, FB_JOIN_QUEUE_NAME);
                        }
                        /* Watch the record: unchanged for a whole lease duration = expired, whatever the
                         * clocks say. */
                        if (!streq_ptr(seen_rv, i.resource_version)) {
                                free(seen_rv);
                                seen_rv = i.resource_version ? strdup(i.resource_version) : NULL;
                                seen_since = clock_now_ms();
                        }
                        bool stale = i.holder && seen_since && i.lease_s &&
                                     clock_now_ms() - seen_since >= (unsigned long long) i.lease_s * 1000ull;
                        bool ours = i.holder && streq(i.holder, holder);
                        if (!i.holder || ours || fb_join_queue_same_node(i.holder, holder) || i.expired ||
                            stale) {
                                r = update_lease(c, lease, holder, lease_s,
                                                 ours ? i.acquire_time_us : clock_wall_us(),
                                                 i.transitions + (i.holder && !ours ? 1 : 0));
                                if (r >= 0) {
                                        if (i.holder && !ours)
                                                log_notice("join queue: took over from '%s' (%s)", i.holder,
                                                           i.expired || stale
                                                                   ? "its lease expired"
                                                                   : "an earlier run of this node");
                                        return 0;
                                }
                                if (r == -ESTALE || r == -ENOENT)
                                        pause = r == -ESTALE; /* lost the race; or deleted: create */
                        } else {
                                char h[384];
                                describe_holder(&i, h, sizeof(h));
                                snprintf(last, sizeof(last), "join queue %s/%s is held by %s",
                                         FB_JOIN_QUEUE_NAMESPACE, FB_JOIN_QUEUE_NAME, h);
                                if (!announced) {
                                        log_info("%s; waiting", last);
                                        announced = true;
                                }
                                r = 0;
                        }
                }
                if (r < 0 && r != -ESTALE && r != -ENOENT && r != -EEXIST) {
                        if (!kube_error_is_transient(r)) {
                                return error_set(why, r, "join queue %s/%s: %s", FB_JOIN_QUEUE_NAMESPACE,
                                                 FB_JOIN_QUEUE_NAME, kube_client_error(c));
                        }
                        snprintf(last, sizeof(last), "the API server did not answer: %s",
                                 kube_client_error(c));
                        log_debug("join queue: %s", last);
                }

                unsigned long long d = pause ? clock_backoff_ms(WAIT_BASE_MS, WAIT_CAP_MS, attempt) : 0,
                                   now = clock_now_ms();
                if (now + d > deadline) {
                        return error_set(why, -ETIMEDOUT, "gave up waiting %llu s for the join queue: %s",
                                         wait_ms / 1000, last[0] ? last : "it stayed busy");
                }
                clock_sleep_ms(d);
        }
}

int fb_join_queue_renew(struct kube_client *c, const char *holder, unsigned lease_s) {
        int r = -ESTALE;

        if (isempty(holder) || lease_s == 0)
                return -EINVAL;
        for (unsigned n = 0; n < CONFLICT_TRIES && r == -ESTALE; n++) {
                _cleanup_(cJSON_Deletep) cJSON *lease = NULL;
                _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info i = {};

                r = get_lease(c, &lease);
                if (r < 0)
                        return r;
                r = fb_join_queue_info_from_lease(lease, clock_wall_us(), &i);
                if (r < 0)
                        return r;
                if (!i.holder || !streq(i.holder, holder))
                        return -EBUSY;
                r = update_lease(c, lease, holder, lease_s, i.acquire_time_us, i.transitions);
        }
        return r;
}

int fb_join_queue_release(struct kube_client *c, const char *holder) {
        int r = -ESTALE;

        for (unsigned n = 0; n < CONFLICT_TRIES && r == -ESTALE; n++) {
                _cleanup_(cJSON_Deletep) cJSON *lease = NULL;
                _cleanup_(fb_join_queue_info_done) struct fb_join_queue_info i = {};

                r = get_lease(c, &lease);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                r = fb_join_queue_info_from_lease(lease, clock_wall_us(), &i);
                if (r < 0)
                        return r;
                if (!i.holder || (holder && !streq(i.holder, holder)))
                        return 0; /* not ours (anymore): nothing to give back */
                /* client-go's release: no holder, a 1 s duration, so that readers see it free either way */
                r = update_lease(c, lease, NULL, 1, clock_wall_us(), i.transitions);
                if (r == -ENOENT)
                        return 0;
        }
        return r;
}
