/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress and result reporting: /run/kube-firstboot/status.json (rewritten atomically at every
 * change), STATUS= lines to systemd's notify socket when $NOTIFY_SOCKET is set, and on success the
 * Cluster API sentinel /run/cluster-api/bootstrap-success.complete.
 */
#pragma once

#include <stdbool.h>
#include <time.h>

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

/* status.json's "certificates": the certificate and the CA that expire first, as the caller read them
 * ('kube-firstboot certs check-expiration' lists them all). The status file knows no certificates. */
struct fb_status_expiry {
        const char *name; /* kubeadm's name: "apiserver", "admin.conf", "ca"...; NULL: none was read */
        time_t not_after;
};
/* Records them in the run's status (written at once): "certificates": {"checked", "nearestExpiry":
 * {"name", "notAfter"}, "nearestCAExpiry": {...}}; a NULL or nameless entry is left out. */
int fb_status_set_certificates(struct fb_status *s, const struct fb_status_expiry *nearest,
                               const struct fb_status_expiry *nearest_ca);
/*
 * The same into the status file under root, outside a run (refresh): the rest of the document is kept.
 * With no status file (it lives in /run, which a reboot empties) and role_if_new set, writes a new one for
 * a node that finished its setup earlier: that role, result "success", no phases; without role_if_new
 * returns -ENOENT and writes nothing.
 */
int fb_status_record_certificates(const char *root, const char *role_if_new,
                                  const struct fb_status_expiry *nearest,
                                  const struct fb_status_expiry *nearest_ca);

/* Sends one message ("STATUS=...", "READY=1") to $NOTIFY_SOCKET; 0 when there is none. */
/* This control plane's etcd membership as refresh last saw it: status.json's "etcdMembership". */
struct fb_status_membership {
        const char *state;   /* "member", "removed" */
        const char *message; /* optional */
        const char *remedy;  /* optional */
};
int fb_status_record_membership(const char *root, const char *role_if_new,
                                const struct fb_status_membership *m);

/* The last certificate renewal of refresh: status.json's "certificateRenewal" {checked, renewed, restarted,
 * caExpiring (CAs near their end: never renewed automatically), nextDue, error}. */
struct fb_status_renewal {
        char *const *renewed, *const *restarted, *const *ca_expiring; /* NULL: empty lists */
        time_t next_due;                                              /* 0: left out */
        const char *error;                                            /* NULL: left out */
};
int fb_status_record_renewal(const char *root, const char *role_if_new, const struct fb_status_renewal *x);

/* A dead member this run removed from etcd (replacement): appended to status.json's "replacements". */
struct fb_status_replacement {
        const char *name; /* member and Node name; "" for an unstarted member */
        unsigned long long member_id;
        const char *peer_url;
        bool learner;
        const char *reason;
};
int fb_status_add_replacement(struct fb_status *s, const struct fb_status_replacement *x);

/* A warning of this run, written at once: "warnings": [{"message", "remedy"}]. */
int fb_status_add_warning(struct fb_status *s, const char *message, const char *remedy);

int fb_sd_notify(const char *message);
