/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "firstboot/engine/phases.h"
#include "firstboot/engine/status.h"
#include "tests/unit/unit.h"

/* Fake phases: each "writes" a file under the root; a phase can be told to fail once. */
struct ctx {
        const char *root;
        int runs[4];
        int fail_at; /* index of the phase that fails, -1 for none */
};

static int check_file(struct ctx *c, int i) {
        char path[64];
        snprintf(path, sizeof(path), "/out/%d", i);
        return path_exists(c->root, path) == 0 ? 1 : 0;
}

static int run_file(struct ctx *c, int i) {
        char path[64];
        c->runs[i]++;
        if (c->fail_at == i) {
                c->fail_at = -1; /* fails once, like a crash part-way */
                return -EIO;
        }
        snprintf(path, sizeof(path), "/out/%d", i);
        return write_string_atomic(c->root, path, "x", 0644, WRITE_MKDIR_PARENTS);
}

#define PHASE_FNS(i)                                                                                        \
        static int check##i(void *c) {                                                                      \
                return check_file(c, i);                                                                    \
        }                                                                                                   \
        static int run##i(void *c, struct error *why) {                                                     \
                (void) why;                                                                                 \
                return run_file(c, i);                                                                      \
        }
PHASE_FNS(0)
PHASE_FNS(1)
PHASE_FNS(2)

static int run_nocheck(void *c, struct error *why) {
        (void) why;
        ((struct ctx *) c)->runs[3]++;
        return 0;
}

static const struct fb_phase phases[] = {
        {.name = "zero", .check = check0, .run = run0, .remedy = "fix zero"},
        {.name = "one", .check = check1, .run = run1, .remedy = "fix one"},
        {.name = "two", .check = check2, .run = run2, .remedy = "fix two"},
        {.name = "three", .run = run_nocheck},
};
static const char *const names[] = {"zero", "one", "two", "three", NULL};

static int setup(void **state) {
        *state = unit_mkdtemp();
        return *state ? 0 : -1;
}

static int teardown(void **state) {
        unit_rm_rf(*state);
        free(*state);
        return 0;
}

static cJSON *read_status(const char *root) {
        _cleanup_free_ char *t = NULL;
        cJSON *j = NULL;
        size_t n;
        assert_int_equal(read_file(root, FB_STATUS_PATH, 0, &t, &n), 0);
        assert_int_equal(json_parse(t, n, 0, &j, NULL), 0);
        return j;
}

/* status.json's request counts come from the caller. */
static unsigned long fake_requests;
static void count_fake(struct fb_status_requests *ret) {
        *ret = (struct fb_status_requests){.api = fake_requests, .etcd = 2 * fake_requests};
}

static void test_crash_then_resume(void **state) {
        const char *root = *state;
        struct ctx c = {.root = root, .fail_at = 2};
        struct fb_phases_result res;
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;

        assert_int_equal(fb_status_new(root, "init", names, NULL, &st), 0);
        assert_int_equal(fb_phases_run(root, "init", phases, 4, &c, st, &res), -EIO);
        assert_string_equal(res.failed_phase, "two");
        assert_int_equal(res.ran, 2);

        _cleanup_(cJSON_Deletep) cJSON *s1 = read_status(root);
        assert_string_equal(json_get_string(s1, "result"), "failure");
        assert_string_equal(json_get_string(s1, "error.phase"), "two");
        assert_string_equal(json_get_string(s1, "error.remedy"), "fix two");
        assert_string_equal(json_get_string(s1, "error.cause"), strerror(EIO));

        /* The re-run skips zero and one (verified by their checks), redoes two, runs three. */
        st = fb_status_free(st);
        assert_int_equal(fb_status_new(root, "init", names, count_fake, &st), 0);
        assert_int_equal(fb_phases_run(root, "init", phases, 4, &c, st, &res), 0);
        assert_int_equal(res.skipped, 2);
        assert_int_equal(res.ran, 2);
        assert_int_equal(c.runs[0], 1);
        assert_int_equal(c.runs[1], 1);
        assert_int_equal(c.runs[2], 2);
        assert_int_equal(c.runs[3], 1);
        fake_requests = 7;
        assert_int_equal(fb_status_succeed(st), 0);
        _cleanup_(cJSON_Deletep) cJSON *s2 = read_status(root);
        assert_string_equal(json_get_string(s2, "result"), "success");
        assert_null(json_get(s2, "error"));
        assert_true(cJSON_GetNumberValue(json_get(s2, "requests.api")) == 7);
        assert_true(cJSON_GetNumberValue(json_get(s2, "requests.etcd")) == 14);
        assert_true(cJSON_GetNumberValue(json_get(s1, "requests.api")) == 0);
        assert_int_equal(path_exists(root, FB_SENTINEL_PATH), 0);

        /* A third run does nothing; the check-less phase trusts the journal. */
        assert_int_equal(fb_phases_run(root, "init", phases, 4, &c, NULL, &res), 0);
        assert_int_equal(res.skipped, 4);
        assert_int_equal(c.runs[3], 1);
}

static void test_journaled_but_gone_is_redone(void **state) {
        const char *root = *state;
        struct ctx c = {.root = root, .fail_at = -1};
        struct fb_phases_result res;

        assert_int_equal(fb_phases_run(root, "worker", phases, 4, &c, NULL, &res), 0);
        assert_int_equal(unlink_file(root, "/out/1"), 0);
        assert_int_equal(fb_phases_run(root, "worker", phases, 4, &c, NULL, &res), 0);
        assert_int_equal(res.redone, 1);
        assert_int_equal(c.runs[1], 2);
        assert_int_equal(path_exists(root, "/out/1"), 0);
}

static void test_other_role_is_refused(void **state) {
        const char *root = *state;
        struct ctx c = {.root = root, .fail_at = -1};
        _cleanup_free_ char *role = NULL;

        assert_int_equal(fb_journal_role(root, &role), -ENOENT);
        assert_int_equal(fb_phases_run(root, "init", phases, 1, &c, NULL, NULL), 0);
        assert_int_equal(fb_journal_role(root, &role), 0);
        assert_string_equal(role, "init");
        assert_int_equal(fb_phases_run(root, "worker", phases, 1, &c, NULL, NULL), -ESTALE);
}

static void test_plan_touches_nothing(void **state) {
        const char *root = *state;
        struct ctx c = {.root = root, .fail_at = -1};
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_int_equal(fb_phases_plan(root, "init", phases, 4, &c, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, " 1. zero"));
        assert_non_null(strstr(buf, " 4. three"));
        free(buf);
        assert_int_equal(path_exists(root, "/var/lib/kube-firstboot"), -ENOENT);
        assert_int_equal(path_exists(root, "/out"), -ENOENT);
}

static void test_sd_notify_status_lines(void **state) {
        const char *root = *state;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;
        char buf[256];
        ssize_t n;
        int fd;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", root);
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        setenv("NOTIFY_SOCKET", sa.sun_path, 1);

        assert_int_equal(fb_status_new(root, "control-plane", names, NULL, &st), 0);
        assert_int_equal(fb_status_phase(st, "one", FB_PHASE_RUNNING), 0);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "STATUS=control-plane: one");
        assert_int_equal(fb_status_fail(st, "one", -ETIMEDOUT, "the API did not answer", "check the LB"), 0);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, "STATUS=failed in one: the API did not answer");
        unsetenv("NOTIFY_SOCKET");
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_crash_then_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_journaled_but_gone_is_redone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_role_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_touches_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sd_notify_status_lines, setup, teardown),
        };
        return cmocka_run_group_tests_name("phases", tests, NULL, NULL);
}
