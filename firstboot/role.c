/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/phases.h"
#include "firstboot/role.h"

int fb_role_decide(const char *root, const struct fb_config *c, const struct md_instance *inst, bool dry_run,
                   struct fb_role_decision *ret, char *why, size_t why_len) {
        struct fb_role_decision d = {.role = fb_config_role(c)};
        _cleanup_free_ char *journaled = NULL;
        int r;

        (void) dry_run;
        /* A machine that started keeps its role: a resumed auto node must not change its mind. */
        r = fb_journal_role(root, &journaled);
        if (r >= 0) {
                enum fb_role jr = fb_role_from_string(journaled);
                if (jr < 0 || jr == FB_ROLE_AUTO) {
                        snprintf(why, why_len,
                                 "the journal " FB_JOURNAL_PATH " records an unknown role '%s'", journaled);
                        return -EBADMSG;
                }
                if (d.role != FB_ROLE_AUTO && d.role != jr &&
                    !(d.role == FB_ROLE_CONTROL_PLANE && jr == FB_ROLE_INIT)) {
                        snprintf(why, why_len,
                                 "this machine already started as %s (journal " FB_JOURNAL_PATH
                                 "); the configuration now says %s",
                                 journaled, fb_role_to_string(d.role));
                        return -ESTALE;
                }
                d.role = jr;
                snprintf(d.reason, sizeof(d.reason), "resuming as %s, as the journal records", journaled);
                *ret = d;
                return 0;
        }
        if (r != -ENOENT) {
                snprintf(why, why_len, "cannot read the journal " FB_JOURNAL_PATH ": %s", strerror(-r));
                return r;
        }

        if (d.role != FB_ROLE_AUTO) {
                snprintf(d.reason, sizeof(d.reason), "FirstbootConfiguration.role is %s",
                         fb_role_to_string(d.role));
                *ret = d;
                return 0;
        }

        r = inst ? fb_config_is_seed(c, inst) : -EINVAL;
        if (r < 0) {
                snprintf(why, why_len,
                         "role auto: the seed rule cannot be decided on this instance (it lacks the "
                         "instance id, "
                         "hostname or address the rule compares)");
                return -EINVAL;
        }
        d.role = r ? FB_ROLE_INIT : FB_ROLE_CONTROL_PLANE;
        snprintf(d.reason, sizeof(d.reason), "role auto: this node is %sthe seed", r ? "" : "not ");
        *ret = d;
        return 0;
}
