/* SPDX-License-Identifier: Apache-2.0 */
/* firstboot/engine/status: the certificates' nearest expiry in status.json, during a run and after it. */
#include <errno.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/engine/status.h"
#include "tests/unit/unit.h"

static cJSON *load_status(const char *root) {
        _cleanup_free_ char *text = NULL;
        cJSON *doc = NULL;
        size_t len;
        assert_int_equal(read_file(root, FB_STATUS_PATH, 0, &text, &len), 0);
        assert_int_equal(json_parse(text, len, 0, &doc, NULL), 0);
        return doc;
}

static void counts(struct fb_status_requests *ret) {
        *ret = (struct fb_status_requests){.api = 7, .etcd = 3};
}

static void test_set_during_a_run(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(fb_status_freep) struct fb_status *st = NULL;
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        const char *phases[] = {"preflight", NULL};
        struct fb_status_expiry leaf = {"apiserver", 1787130210}, ca = {"ca", 2070954210};
        (void) state;

        assert_int_equal(fb_status_new(root, "init", phases, counts, &st), 0);
        assert_int_equal(fb_status_set_certificates(st, &leaf, &ca), 0);
        doc = load_status(root);
        assert_string_equal(json_get_string(doc, "certificates.nearestExpiry.name"), "apiserver");
        assert_string_equal(json_get_string(doc, "certificates.nearestExpiry.notAfter"),
                            "2026-08-19T09:03:30Z");
        assert_string_equal(json_get_string(doc, "certificates.nearestCAExpiry.name"), "ca");
        assert_string_equal(json_get_string(doc, "certificates.nearestCAExpiry.notAfter"),
                            "2035-08-17T09:03:30Z");
        assert_non_null(json_get_string(doc, "certificates.checked"));
        assert_string_equal(
                json_get_string(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "phases"), 0), "name"),
                "preflight");
        cJSON_Delete(doc);

        /* Set again: replaced, not added; an entry without a name is left out. */
        leaf = (struct fb_status_expiry){};
        assert_int_equal(fb_status_set_certificates(st, &leaf, &ca), 0);
        assert_int_equal(fb_status_succeed(st), 0);
        doc = load_status(root);
        assert_null(json_get(doc, "certificates.nearestExpiry"));
        assert_string_equal(json_get_string(doc, "certificates.nearestCAExpiry.name"), "ca");
        assert_string_equal(json_get_string(doc, "result"), "success");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "phases")), 1);
        unit_rm_rf(root);
}

static void test_record_after_the_run(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        struct fb_status_expiry leaf = {"admin.conf", 1787130210}, ca = {"front-proxy-ca", 2070954210};
        (void) state;

        /* The run's document keeps everything it said; only "certificates" and "updated" change. */
        unit_write(
                root, FB_STATUS_PATH,
                "{\"role\": \"control-plane\", \"phase\": \"mark-control-plane\", \"phases\": [{\"name\": \"preflight\", \"state\": \"done\"}],"
                " \"result\": \"success\", \"requests\": {\"api\": 40, \"etcd\": 6}, \"updated\": \"2025-01-01T00:00:00Z\","
                " \"certificates\": {\"nearestExpiry\": {\"name\": \"old\", \"notAfter\": \"2025-01-01T00:00:00Z\"}}}");
        assert_int_equal(fb_status_record_certificates(root, "init", &leaf, &ca), 0);
        doc = load_status(root);
        assert_string_equal(json_get_string(doc, "role"), "control-plane");
        assert_string_equal(json_get_string(doc, "phase"), "mark-control-plane");
        assert_string_equal(
                json_get_string(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "phases"), 0), "state"), "done");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "phases")), 1);
        assert_int_equal((int) cJSON_GetNumberValue(json_get(doc, "requests.api")), 40);
        assert_string_equal(json_get_string(doc, "certificates.nearestExpiry.name"), "admin.conf");
        assert_string_equal(json_get_string(doc, "certificates.nearestCAExpiry.name"), "front-proxy-ca");
        assert_string_not_equal(json_get_string(doc, "updated"), "2025-01-01T00:00:00Z");
        unit_rm_rf(root);
}

static void test_record_without_a_status_file(void **state) {
        _cleanup_free_ char *root = unit_mkdtemp();
        _cleanup_(cJSON_Deletep) cJSON *doc = NULL;
        struct fb_status_expiry leaf = {"apiserver", 1787130210};
        (void) state;

        /* Not known to be set up: nothing is written. */
        assert_int_equal(fb_status_record_certificates(root, NULL, &leaf, NULL), -ENOENT);
        assert_int_equal(path_exists(root, FB_STATUS_PATH), -ENOENT);
        /* Set up by an earlier boot (a reboot emptied /run): the status a finished run leaves. */
        assert_int_equal(fb_status_record_certificates(root, "worker", &leaf, NULL), 0);
        doc = load_status(root);
        assert_string_equal(json_get_string(doc, "role"), "worker");
        assert_string_equal(json_get_string(doc, "result"), "success");
        assert_true(cJSON_IsNull(json_get(doc, "phase")));
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "phases")), 0);
        assert_string_equal(json_get_string(doc, "certificates.nearestExpiry.notAfter"),
                            "2026-08-19T09:03:30Z");
        assert_null(json_get(doc, "certificates.nearestCAExpiry"));

        /* A status file that is not JSON is left alone. */
        unit_write(root, FB_STATUS_PATH, "{not json");
        assert_int_equal(fb_status_record_certificates(root, "worker", &leaf, NULL), -EBADMSG);
        {
                _cleanup_free_ char *text = NULL;
                assert_int_equal(read_file(root, FB_STATUS_PATH, 0, &text, NULL), 0);
                assert_string_equal(text, "{not json");
        }
        unit_rm_rf(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_during_a_run),
                cmocka_unit_test(test_record_after_the_run),
                cmocka_unit_test(test_record_without_a_status_file),
        };
        return cmocka_run_group_tests_name("engine-status", tests, NULL, NULL);
}
