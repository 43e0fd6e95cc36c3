/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The role decision: the configured role, or for `auto` (identical user-data on every control plane) the
 * seed rule plus what the network says — exactly one node inits. A machine that already started keeps
 * the role its journal records.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "firstboot/config/config.h"
#include "metadata/metadata.h"

struct fb_role_decision {
        enum fb_role role; /* init, control-plane or worker */
        char reason[256];  /* why, for the log and plan */
};

/*
 * The journal's part of the decision, without I/O: a machine whose journal records a role resumes as that
 * role. -EBADMSG when journaled is not init, control-plane or worker; -ESTALE when the configured role
 * contradicts it (auto and control-plane over init are fine). -errno with *why on failure.
 */
int fb_role_resume(enum fb_role configured, const char *journaled, struct fb_role_decision *ret,
                   struct error *why);

/* dry_run (plan): decide without waiting on the network. -errno with *why on failure. */
int fb_role_decide(const char *root, const struct fb_config *c, const struct md_instance *inst, bool dry_run,
                   struct fb_role_decision *ret, struct error *why);
