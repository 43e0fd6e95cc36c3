/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/engine/phases.h"

#define JOURNAL_MAX (256u * 1024u)

static int journal_load(const char *root, cJSON **ret) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(root, FB_JOURNAL_PATH, JOURNAL_MAX, &text, &len);
        if (r < 0)
                return r;
        r = json_parse(text, len, JOURNAL_MAX, ret, NULL);
        if (r < 0)
                return log_debug_errno(r, "The phase journal " FB_JOURNAL_PATH " is not valid JSON");
        return 0;
}

static int journal_new(const char *role, cJSON **ret) {
        struct json_builder b = {};
        cJSON *j = jb_object(&b);

        jb_num(&b, j, "version", 1);
        jb_str(&b, j, "role", role);
        jb_obj(&b, j, "done");
        return jb_finish(&b, j, ret);
}

static int journal_save(const char *root, const cJSON *j) {
        _cleanup_free_ char *text = json_to_string_pretty(j);
        int r;
        if (!text)
                return -ENOMEM;
        r = mkdir_p(root, "/var/lib/kube-firstboot", 0700);
        if (r < 0)
                return r;
        return write_string_atomic(root, FB_JOURNAL_PATH, text, 0600, 0);
}

static bool journal_done(const cJSON *j, const char *phase) {
        return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(j, "done"), phase) != NULL;
}

static int journal_mark(const char *root, cJSON *j, const char *phase) {
        cJSON *done = cJSON_GetObjectItem(j, "done");
        char buf[32];
        time_t t = time(NULL);
        struct tm tm;
        int r;

        gmtime_r(&t, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        r = json_set_string(done, phase, buf);
        if (r < 0)
                return r;
        return journal_save(root, j);
}

int fb_journal_role(const char *root, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *role;
        char *copy;
        int r = journal_load(root, &j);
        if (r < 0)
                return r;
        role = json_get_string(j, "role");
        if (!role)
                return -EBADMSG;
        copy = strdup(role);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/* The journal for this role: loaded, or new when there is none. */
static int journal_for_role(const char *root, const char *role, cJSON **ret) {
        _cleanup_(cJSON_Deletep) cJSON *j = NULL;
        const char *have;
        int r = journal_load(root, &j);
        if (r == -ENOENT)
                return journal_new(role, ret);
        if (r < 0)
                return r;
        have = json_get_string(j, "role");
        if (!have || !cJSON_IsObject(cJSON_GetObjectItem(j, "done")))
                return log_debug_errno(EBADMSG, "The phase journal has no role or phase list");
        if (!streq(have, role))
                return log_debug_errno(ESTALE, "The phase journal is for role '%s', not '%s'", have, role);
        *ret = TAKE_PTR(j);
        return 0;
}

int fb_phases_run(const char *root, const char *role, const struct fb_phase *phases, size_t n, void *ctx,
                  struct fb_status *status, struct fb_phases_result *ret_result) {
        _cleanup_(cJSON_Deletep) cJSON *journal = NULL;
        struct fb_phases_result res = {};
        struct error why = {};
        int r;

        r = journal_for_role(root, role, &journal);
        if (r < 0) {
                if (ret_result)
                        *ret_result = res;
                return r;
        }

        for (size_t i = 0; i < n; i++) {
                const struct fb_phase *p = &phases[i];
                bool journaled = journal_done(journal, p->name);
                int in_place = journaled && !p->check ? 1 : 0;

                if (p->check) {
                        in_place = p->check(ctx);
                        if (in_place < 0) {
                                r = in_place;
                                goto fail;
                        }
                }
                if (in_place > 0) {
                        log_debug("Phase %s: already done%s", p->name,
                                  journaled ? "" : " (not journaled yet)");
                        res.skipped++;
                        if (status)
                                (void) fb_status_phase(status, p->name, FB_PHASE_SKIPPED);
                        if (!journaled) {
                                r = journal_mark(root, journal, p->name);
                                if (r < 0)
                                        goto fail;
                        }
                        continue;
                }
                if (journaled) {
                        /* The journal says done but the effect is gone (a file deleted, a disk replaced). */
                        log_debug("Phase %s: journaled as done but its check says not, doing it again",
                                  p->name);
                        res.redone++;
                }

                log_debug("Phase %s: running", p->name);
                if (status) {
                        r = fb_status_phase(status, p->name, FB_PHASE_RUNNING);
                        if (r < 0)
                                goto fail;
                }
                error_clear(&why);
                r = p->run(ctx, &why);
                if (r < 0)
                        goto fail;
                r = journal_mark(root, journal, p->name);
                if (r < 0)
                        goto fail;
                res.ran++;
                if (status)
                        (void) fb_status_phase(status, p->name, FB_PHASE_DONE);
                continue;
        fail:
                res.failed_phase = p->name;
                snprintf(res.message, sizeof(res.message), "%s", error_message(&why, r));
                if (status) {
                        /* status.json: "phase: why". */
                        (void) error_wrap(&why, r, "%s", p->name);
                        (void) fb_status_fail(status, p->name, r, why.message, p->remedy);
                }
                if (ret_result)
                        *ret_result = res;
                return r;
        }
        if (ret_result)
                *ret_result = res;
        return 0;
}

int fb_phases_plan(const char *root, const char *role, const struct fb_phase *phases, size_t n, void *ctx,
                   FILE *out) {
        _cleanup_(cJSON_Deletep) cJSON *journal = NULL;
        int r = journal_for_role(root, role, &journal);
        if (r < 0)
                return r;

        fprintf(out, "role: %s\n", role);
        for (size_t i = 0; i < n; i++) {
                const struct fb_phase *p = &phases[i];
                int in_place = p->check ? p->check(ctx) : journal_done(journal, p->name);
                fprintf(out, "%2zu. %-24s %s\n", i + 1, p->name,
                        in_place > 0   ? "(done: will be verified and skipped)"
                        : in_place < 0 ? "(cannot tell whether done)"
                                       : "");
                if (p->summary)
                        fprintf(out, "    %s\n", p->summary);
                if (p->describe && in_place <= 0)
                        p->describe(ctx, out);
        }
        return 0;
}
