/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/engine/status.h"

#define STATUS_MAX (1024u * 1024u)

struct fb_status {
        char *root;
        cJSON *doc; /* the status document as written */
        fb_status_count_fn count;
};

static const char *const state_names[] = {
        [FB_PHASE_PENDING] = "pending", [FB_PHASE_RUNNING] = "running", [FB_PHASE_DONE] = "done",
        [FB_PHASE_SKIPPED] = "skipped", [FB_PHASE_FAILED] = "failed",
};

static char *now_rfc3339(void) {
        struct timespec ts;
        struct tm tm;
        char buf[64];
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return strdup(buf);
}

static int set_now(cJSON *obj, const char *key) {
        _cleanup_free_ char *t = now_rfc3339();
        return t ? json_set_string(obj, key, t) : -ENOMEM;
}

/* The requests this run has sent so far, as the caller counts them. */
static int set_requests(struct fb_status *s) {
        struct fb_status_requests n = {};
        struct json_builder b = {};
        cJSON *o = jb_object(&b);

        if (s->count)
                s->count(&n);
        jb_num(&b, o, "api", (double) n.api);
        jb_num(&b, o, "etcd", (double) n.etcd);
        o = jb_result(&b, o);
        if (!o)
                return jb_error(&b);
        cJSON_DeleteItemFromObject(s->doc, "requests");
        jb_add(&b, s->doc, "requests", o);
        return jb_error(&b);
}

static int write_status(struct fb_status *s) {
        _cleanup_free_ char *text = NULL;
        int r = set_now(s->doc, "updated");
        if (r >= 0)
                r = set_requests(s);
        if (r < 0)
                return r;
        text = json_to_string_pretty(s->doc);
        if (!text)
                return -ENOMEM;
        /* World-readable: it holds no secrets, and monitoring agents read it. */
        return write_string_atomic(s->root, FB_STATUS_PATH, text, 0644, WRITE_MKDIR_PARENTS);
}

int fb_status_new(const char *root, const char *role, const char *const *phases, fb_status_count_fn count,
                  struct fb_status **ret) {
        _cleanup_(fb_status_freep) struct fb_status *s = calloc(1, sizeof(*s));
        struct json_builder b = {};
        cJSON *list;
        int r;

        if (!s)
                return -ENOMEM;
        s->root = root ? strdup(root) : NULL;
        s->doc = jb_object(&b);
        s->count = count;
        if ((root && !s->root) || !s->doc)
                return -ENOMEM;
        jb_str(&b, s->doc, "role", role);
        r = set_now(s->doc, "started");
        if (r < 0)
                return r;
        jb_null(&b, s->doc, "phase");
        list = jb_arr(&b, s->doc, "phases");
        for (const char *const *p = phases; list && p && *p; p++) {
                cJSON *o = jb_obj(&b, list, NULL);
                jb_str(&b, o, "name", *p);
                jb_str(&b, o, "state", "pending");
        }
        r = jb_error(&b);
        if (r < 0)
                return r;
        r = write_status(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

struct fb_status *fb_status_free(struct fb_status *s) {
        if (!s)
                return NULL;
        free(s->root);
        cJSON_Delete(s->doc);
        free(s);
        return NULL;
}

static cJSON *phase_entry(struct fb_status *s, const char *phase) {
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(s->doc, "phases")) {
                const char *n = json_get_string(p, "name");
                if (n && streq(n, phase))
                        return p;
        }
        return NULL;
}

int fb_status_phase(struct fb_status *s, const char *phase, enum fb_phase_state state) {
        cJSON *p = phase_entry(s, phase);
        _cleanup_free_ char *msg = NULL;
        int r;

        if (!p)
                return -ENOENT;
        r = json_set_string(p, "state", state_names[state]);
        if (r == 0 && state == FB_PHASE_RUNNING)
                r = set_now(p, "started");
        if (r == 0 && (state == FB_PHASE_DONE || state == FB_PHASE_SKIPPED || state == FB_PHASE_FAILED))
                r = set_now(p, "finished");
        if (r == 0)
                r = json_set_string(s->doc, "phase", phase);
        if (r < 0)
                return r;
        if (state == FB_PHASE_RUNNING) {
                msg = strdupf("STATUS=%s: %s", json_get_string(s->doc, "role"), phase);
                if (msg)
                        (void) fb_sd_notify(msg);
        }
        return write_status(s);
}

int fb_status_fail(struct fb_status *s, const char *phase, int error, const char *message,
                   const char *remedy) {
        _cleanup_free_ char *msg = NULL;
        struct json_builder b = {};
        cJSON *e;
        int r;

        if (phase) {
                r = fb_status_phase(s, phase, FB_PHASE_FAILED);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        cJSON_DeleteItemFromObject(s->doc, "error");
        e = jb_obj(&b, s->doc, "error");
        if (phase)
                jb_str(&b, e, "phase", phase);
        if (message)
                jb_str(&b, e, "message", message);
        if (error != 0) {
                jb_num(&b, e, "errno", error < 0 ? -error : error);
                jb_str(&b, e, "cause", strerror(error < 0 ? -error : error));
        }
        if (remedy)
                jb_str(&b, e, "remedy", remedy);
        r = jb_error(&b);
        if (r < 0)
                return r;
        r = json_set_string(s->doc, "result", "failure");
        if (r < 0)
                return r;
        r = set_now(s->doc, "finished");
        if (r < 0)
                return r;
        msg = strdupf("STATUS=failed in %s: %s", phase ?: "setup", message);
        if (msg)
                (void) fb_sd_notify(msg);
        return write_status(s);
}

int fb_status_succeed(struct fb_status *s) {
        int r;

        cJSON_DeleteItemFromObject(s->doc, "error");
        r = json_set_string(s->doc, "result", "success");
        if (r == 0)
                r = set_now(s->doc, "finished");
        if (r == 0)
                r = write_status(s);
        if (r < 0)
                return r;
        /* Cluster API's bootstrap contract: this file says the node bootstrapped. */
        r = write_string_atomic(s->root, FB_SENTINEL_PATH, "success\n", 0644, WRITE_MKDIR_PARENTS);
        if (r < 0)
                return r;
        (void) fb_sd_notify("STATUS=done");
        return 0;
}

static char *rfc3339(time_t t) {
        struct tm tm;
        char buf[64];
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        return strdup(buf);
}

/* doc's "certificates", replaced. */
static int set_certificates(cJSON *doc, const struct fb_status_expiry *nearest,
                            const struct fb_status_expiry *nearest_ca) {
        const struct fb_status_expiry *e[] = {nearest, nearest_ca};
        const char *keys[] = {"nearestExpiry", "nearestCAExpiry"};
        _cleanup_free_ char *checked = now_rfc3339();
        struct json_builder b = {};
        cJSON *o = jb_object(&b);

        jb_str(&b, o, "checked", checked);
        for (size_t i = 0; i < ELEMENTSOF(e); i++) {
                _cleanup_free_ char *when = NULL;
                cJSON *x;

                if (!e[i] || !e[i]->name)
                        continue;
                when = rfc3339(e[i]->not_after);
                x = jb_obj(&b, o, keys[i]);
                jb_str(&b, x, "name", e[i]->name);
                jb_str(&b, x, "notAfter", when);
        }
        o = jb_result(&b, o);
        if (!o)
                return jb_error(&b);
        jb_set(&b, doc, "certificates", o);
        return jb_error(&b);
}

int fb_status_set_certificates(struct fb_status *s, const struct fb_status_expiry *nearest,
                               const struct fb_status_expiry *nearest_ca) {
        int r = set_certificates(s->doc, nearest, nearest_ca);
        return r < 0 ? r : write_status(s);
}

int fb_status_add_replacement(struct fb_status *s, const struct fb_status_replacement *x) {
        _cleanup_free_ char *at = now_rfc3339();
        char id[17];
        struct json_builder b = {};
        cJSON *list, *o;

        if (!s)
                return 0;
        list = cJSON_GetObjectItem(s->doc, "replacements");
        if (!list)
                list = jb_arr(&b, s->doc, "replacements");
        snprintf(id, sizeof(id), "%016llx", (unsigned long long) x->member_id);
        o = jb_obj(&b, list, NULL);
        jb_str(&b, o, "removedMember", x->name);
        jb_str(&b, o, "memberID", id);
        jb_str(&b, o, "peerURL", x->peer_url);
        jb_bool(&b, o, "learner", x->learner);
        jb_str(&b, o, "reason", x->reason);
        jb_str(&b, o, "at", at);
        int r = jb_error(&b);
        return r < 0 ? r : write_status(s);
}

int fb_status_add_warning(struct fb_status *s, const char *message, const char *remedy) {
        struct json_builder b = {};
        cJSON *list, *o;

        if (!s)
                return 0;
        list = cJSON_GetObjectItem(s->doc, "warnings");
        if (!list)
                list = jb_arr(&b, s->doc, "warnings");
        o = jb_obj(&b, list, NULL);
        jb_str(&b, o, "message", message);
        if (remedy)
                jb_str(&b, o, "remedy", remedy);
        int r = jb_error(&b);
        return r < 0 ? r : write_status(s);
}

/* Sets doc's key (an object built by fill) in status.json as it is on disk, made when absent for a node set
 * up by an earlier boot (role_if_new; NULL: only update an existing file). */
static int record(const char *root, const char *role_if_new, int (*fill)(cJSON *doc, const void *data),
                  const void *data) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        size_t len;
        int r = read_file(root, FB_STATUS_PATH, STATUS_MAX, &text, &len);

        if (r >= 0) {
                r = json_parse(text, len, 0, &doc, NULL);
                if (r >= 0 && !cJSON_IsObject(doc))
                        r = -EBADMSG;
        } else if (r == -ENOENT && role_if_new) {
                /* A node set up by an earlier boot: what status.json said at the end of its run. */
                struct json_builder b = {};
                doc = jb_object(&b);
                jb_str(&b, doc, "role", role_if_new);
                jb_null(&b, doc, "phase");
                (void) jb_arr(&b, doc, "phases");
                jb_str(&b, doc, "result", "success");
                r = jb_error(&b);
        }
        if (r < 0)
                return r;
        r = fill(doc, data);
        if (r >= 0)
                r = set_now(doc, "updated");
        if (r < 0)
                return r;
        free(text);
        text = json_to_string_pretty(doc);
        if (!text)
                return -ENOMEM;
        return write_string_atomic(root, FB_STATUS_PATH, text, 0644, WRITE_MKDIR_PARENTS);
}

struct expiries {
        const struct fb_status_expiry *nearest, *nearest_ca;
};

static int fill_certificates(cJSON *doc, const void *data) {
        const struct expiries *e = data;
        return set_certificates(doc, e->nearest, e->nearest_ca);
}

int fb_status_record_certificates(const char *root, const char *role_if_new,
                                  const struct fb_status_expiry *nearest,
                                  const struct fb_status_expiry *nearest_ca) {
        struct expiries e = {nearest, nearest_ca};
        return record(root, role_if_new, fill_certificates, &e);
}

static int fill_membership(cJSON *doc, const void *data) {
        const struct fb_status_membership *m = data;
        _cleanup_free_ char *checked = now_rfc3339();
        struct json_builder b = {};
        cJSON *o = jb_object(&b);

        jb_str(&b, o, "state", m->state);
        jb_str(&b, o, "checked", checked);
        if (m->message)
                jb_str(&b, o, "message", m->message);
        if (m->remedy)
                jb_str(&b, o, "remedy", m->remedy);
        o = jb_result(&b, o);
        if (!o)
                return jb_error(&b);
        jb_set(&b, doc, "etcdMembership", o);
        return jb_error(&b);
}

int fb_status_record_membership(const char *root, const char *role_if_new,
                                const struct fb_status_membership *m) {
        return record(root, role_if_new, fill_membership, m);
}

static int fill_renewal(cJSON *doc, const void *data) {
        const struct fb_status_renewal *x = data;
        _cleanup_free_ char *checked = now_rfc3339(), *next = x->next_due ? rfc3339(x->next_due) : NULL;
        struct json_builder b = {};
        cJSON *o = jb_object(&b);

        jb_str(&b, o, "checked", checked);
        jb_strs(&b, o, "renewed", (const char *const *) x->renewed);
        jb_strs(&b, o, "restarted", (const char *const *) x->restarted);
        jb_strs(&b, o, "caExpiring", (const char *const *) x->ca_expiring);
        if (next)
                jb_str(&b, o, "nextDue", next);
        if (x->error)
                jb_str(&b, o, "error", x->error);
        o = jb_result(&b, o);
        if (!o)
                return jb_error(&b);
        jb_set(&b, doc, "certificateRenewal", o);
        return jb_error(&b);
}

int fb_status_record_renewal(const char *root, const char *role_if_new, const struct fb_status_renewal *x) {
        return record(root, role_if_new, fill_renewal, x);
}

int fb_sd_notify(const char *message) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        size_t len;

        if (isempty(path))
                return 0;
        len = strlen(path);
        if (len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
                return -EINVAL;
        memcpy(sa.sun_path, path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0; /* abstract namespace */
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) < 0)
                return log_debug_errno(errno, "Cannot notify systemd: %m");
        return 0;
}
