/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The role decision: the configured role, or for `auto` (identical user-data on every control plane) the
 * seed rule plus what the network says — exactly one node inits. A machine that already started keeps
 * the role its journal records.
 *
 * Two nodes may both compute themselves the seed (peers lists that differ while a launch template changes).
 * While a seed listens for silence it is audible itself: on its addresses, at the apiserver's port (free
 * before init), it answers every connection with one line, "kube-firstboot-seed <address> <instance-id>
 * <lowest-address> <lowest-instance-id>\n" (itself, then the lowest seed it knows of), and reads one such
 * line back. A seed that probes a peer and reads that line answers with its own. The lower seed (address,
 * then instance id) wins; every other seed joins. A real apiserver speaks TLS and never sends first: what
 * answers there without that line is a cluster.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/netutil.h"
#include "firstboot/config/config.h"
#include "metadata/metadata.h"

struct fb_role_decision {
        enum fb_role role; /* init, control-plane or worker */
        char reason[512];  /* why, for the log and plan */
};

/*
 * The journal's part of the decision, without I/O: a machine whose journal records a role resumes as that
 * role. -EBADMSG when journaled is not init, control-plane or worker; -ESTALE when the configured role
 * contradicts it (auto and control-plane over init are fine). -errno with *why on failure.
 */
int fb_role_resume(enum fb_role configured, const char *journaled, struct fb_role_decision *ret,
                   struct error *why);

/*
 * dry_run (plan): decide without waiting on the network, and without answering other seeds. host: this
 * machine is the node (no --root, or --allow-host), so the seed may listen on its addresses; under a --root
 * sandbox it only probes. -errno with *why on failure.
 */
int fb_role_decide(const char *root, const struct fb_config *c, const struct md_instance *inst, bool dry_run,
                   bool host, struct fb_role_decision *ret, struct error *why);

/* ---- the contest between seeds (pure, for the tests) ---- */

#define FB_SEED_BANNER      "kube-firstboot-seed"
#define FB_SEED_ID_MAX      128 /* bytes of an instance id in a line */
#define FB_SEED_NO_INSTANCE "-" /* an instance without an id, or with one that cannot go in a line */
#define FB_SEED_LINE_MAX    (sizeof(FB_SEED_BANNER) + 2 * (IP_STRING_MAX + FB_SEED_ID_MAX + 2) + 2)
#define FB_SEED_LINE_WAIT_MS                                                                                \
        1000u /* how long a probe waits for a seed's line, and a seed for the answer                        \
               */

/* A seed as the contest knows it: its address (canonical text) and instance id. */
struct fb_seed_id {
        char address[IP_STRING_MAX];
        char instance_id[FB_SEED_ID_MAX + 1];
};

/* One line: who says it, and the lowest seed it knows of (itself when it knows none lower). */
struct fb_seed_line {
        struct fb_seed_id from;
        struct fb_seed_id lowest;
};

/*
 * The tie-break, the same on every seed: the lower address wins (numerically, IPv4 before IPv6), then the
 * lower instance id (bytewise). <0 when a wins, 0 for the same seed, >0 when b wins.
 */
int fb_seed_id_cmp(const struct fb_seed_id *a, const struct fb_seed_id *b);

/*
 * A seed's identity from an address and an instance id (NULL, or one that cannot go in a line: longer than
 * FB_SEED_ID_MAX or not printable ASCII without spaces, becomes FB_SEED_NO_INSTANCE). -EINVAL when address
 * is not an IP address.
 */
int fb_seed_id_make(const char *address, const char *instance_id, struct fb_seed_id *ret);

/* The line for l, with its newline, into buf (FB_SEED_LINE_MAX bytes). */
void fb_seed_line_format(const struct fb_seed_line *l, char buf[static FB_SEED_LINE_MAX]);

/*
 * Parses one line (len bytes, its newline included) as fb_seed_line_format() writes it: the banner word,
 * four fields separated by one space, addresses that parse (kept canonical), instance ids
 * of 1..FB_SEED_ID_MAX printable bytes without spaces, and the newline. -EBADMSG for anything else (a TLS
 * record, an HTTP answer, a truncated or longer line).
 */
int fb_seed_line_parse(const char *s, size_t len, struct fb_seed_line *ret);
