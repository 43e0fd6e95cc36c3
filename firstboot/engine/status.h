/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress and result reporting: /run/kube-firstboot/status.json (rewritten atomically at every
 * change), STATUS= lines to systemd's notify socket when $NOTIFY_SOCKET is set, and on success the
 * Cluster API sentinel /run/cluster-api/bootstrap-success.complete.
 */
#pragma once

#include <stdbool.h>

#define FB_STATUS_PATH   "/run/kube-firstboot/status.json"
#define FB_SENTINEL_PATH "/run/cluster-api/bootstrap-success.complete"

enum fb_phase_state {
        FB_PHASE_PENDING,
        FB_PHASE_RUNNING,
        FB_PHASE_DONE,    /* done in this run */
        FB_PHASE_SKIPPED, /* found done (journal and check agree) */
        FB_PHASE_FAILED,
};

struct fb_status;

/* status.json's "requests": how many requests this run has sent to the API and to etcd so far (an operator
 * sees how chatty a join was; the bench reads them). The status file knows no clients: the caller passes a
 * function that fills in the counts, called at every write. */
struct fb_status_requests {
        unsigned long api, etcd;
};
typedef void (*fb_status_count_fn)(struct fb_status_requests *ret);

/* role: "init", "control-plane", "worker". phases: the names, in order. count: NULL counts nothing. */
int fb_status_new(const char *root, const char *role, const char *const *phases, fb_status_count_fn count,
                  struct fb_status **ret);
struct fb_status *fb_status_free(struct fb_status *s);
static inline void fb_status_freep(struct fb_status **s) {
        *s = fb_status_free(*s);
}

int fb_status_phase(struct fb_status *s, const char *phase, enum fb_phase_state state);
/* The run failed in a phase: the message, the errno cause, and what the operator can do. */
int fb_status_fail(struct fb_status *s, const char *phase, int error, const char *message,
                   const char *remedy);
/* The run finished: result "success"; writes the Cluster API sentinel. */
int fb_status_succeed(struct fb_status *s);

/* Sends one message ("STATUS=...", "READY=1") to $NOTIFY_SOCKET; 0 when there is none. */
int fb_sd_notify(const char *message);
