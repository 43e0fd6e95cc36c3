/* SPDX-License-Identifier: Apache-2.0 */
/* User-data decoding: base64, gzip, MIME, cloud-config, our documents; fixtures from real sources. */
#include <errno.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "metadata/decode.h"
#include "metadata/userdata.h"
#include "tests/unit/unit.h"

#define FIX "tests/fixtures/metadata/"

static char *fixture(const char *name, size_t *len) {
        char *s = NULL;
        _cleanup_free_ char *p = strdupf(FIX "%s", name);
        assert_int_equal(read_file(NULL, p, 0, &s, len), 0);
        return s;
}

static void test_base64(void **state) {
        _cleanup_erase_ char *out = NULL;
        size_t n;
        (void) state;
        assert_int_equal(md_base64_decode("aGVsbG8=", 8, true, &out, &n), 0);
        assert_int_equal(n, 5);
        assert_string_equal(out, "hello");
        out = erase_and_free(out);
        /* The Azure doc's CustomData has one '=' too many: lenient decoders (cloud-init) accept it. */
        assert_int_equal(md_base64_decode("dGhpcyBpcyBteSB1c2VyZGF0YQ===", 29, true, &out, &n), -EBADMSG);
        assert_int_equal(md_base64_decode("dGhpcyBpcyBteSB1c2VyZGF0YQ===", 29, false, &out, &n), 0);
        assert_string_equal(out, "this is my userdata");
        out = erase_and_free(out);
        assert_int_equal(md_base64_decode("aGVsbG8", 7, false, &out, &n), 0);
        assert_string_equal(out, "hello");
        out = erase_and_free(out);
        assert_int_equal(md_base64_decode("aGV*bG8=", 8, false, &out, &n), -EBADMSG);
        assert_int_equal(md_base64_decode("a", 1, false, &out, &n), -EBADMSG);
        assert_true(md_is_base64("aGVsbG8gd29ybGQgaGVsbG8g\n", 25, 16));
        assert_false(md_is_base64("#cloud-config\n", 14, 4));
}

static void test_gzip_fixture(void **state) {
        _cleanup_free_ char *gz = NULL, *plain = NULL;
        _cleanup_erase_ char *out = NULL;
        size_t gzlen, plen, n;
        (void) state;
        gz = fixture("userdata/derived-awsdocs-mime.txt.gz", &gzlen);
        plain = fixture("userdata/awsdocs-mime-cloudconfig-and-shellscript.txt", &plen);
        assert_true(md_is_gzip(gz, gzlen));
        assert_int_equal(md_gunzip(gz, gzlen, 0, &out, &n), 0);
        assert_int_equal(n, plen);
        assert_memory_equal(out, plain, plen);
        out = erase_and_free(out);
        /* A flipped byte fails the CRC or the stream. */
        gz[gzlen / 2] ^= 0x55;
        assert_true(md_gunzip(gz, gzlen, 0, &out, &n) < 0);
        gz[gzlen / 2] ^= 0x55;
        /* The cap stops a bomb. */
        assert_int_equal(md_gunzip(gz, gzlen, 100, &out, &n), -EFBIG);
        /* Truncated. */
        assert_int_equal(md_gunzip(gz, gzlen - 4, 0, &out, &n), -EBADMSG);
}

static void test_gzip_stored_and_multi_member(void **state) {
        /* gzip -c0 of "abc" would use a stored block; built by hand: header, stored block, crc, size. */
        uint8_t m[] = {0x1f, 0x8b, 8,   0,   0,   0, 0, 0, 0, 3, 0x01, 3, 0,
                       0xfc, 0xff, 'a', 'b', 'c', 0, 0, 0, 0, 3, 0,    0, 0};
        uint32_t crc = md_crc32(0, "abc", 3);
        uint8_t two[sizeof(m) * 2];
        _cleanup_erase_ char *out = NULL;
        size_t n;
        (void) state;
        m[18] = (uint8_t) crc, m[19] = (uint8_t) (crc >> 8), m[20] = (uint8_t) (crc >> 16),
        m[21] = (uint8_t) (crc >> 24);
        assert_int_equal(md_gunzip(m, sizeof(m), 0, &out, &n), 0);
        assert_string_equal(out, "abc");
        out = erase_and_free(out);
        memcpy(two, m, sizeof(m));
        memcpy(two + sizeof(m), m, sizeof(m));
        assert_int_equal(md_gunzip(two, sizeof(two), 0, &out, &n), 0);
        assert_string_equal(out, "abcabc");
}

static struct md_userdata *decode_fixture(const char *name) {
        _cleanup_free_ char *d = NULL;
        struct md_userdata *ud = NULL;
        size_t n;
        d = fixture(name, &n);
        assert_int_equal(md_userdata_decode(d, n, &ud), 0);
        return ud;
}

static void test_mime_fixtures(void **state) {
        _cleanup_(md_userdata_freep) struct md_userdata *a = NULL, *b = NULL, *c = NULL, *g = NULL,
                                                        *h = NULL;
        (void) state;
        a = decode_fixture("userdata/awsdocs-mime-cloudconfig-and-shellscript.txt");
        assert_int_equal(a->n_parts, 2);
        assert_string_equal(a->parts[0].type, "text/cloud-config");
        assert_string_equal(a->parts[0].filename, "cloud-config.txt");
        assert_true(startswith(a->parts[0].data, "#cloud-config"));
        assert_string_equal(a->parts[1].type, "text/x-shellscript");

        b = decode_fixture("userdata/cloudinit-doc-mime-multipart.txt");
        assert_int_equal(b->n_parts, 2);
        assert_string_equal(b->parts[0].type, "text/cloud-boothook");
        assert_string_equal(b->parts[1].type, "text/cloud-config");

        /* gzip and base64 wrappers around the same archive. */
        g = decode_fixture("userdata/derived-awsdocs-mime.txt.gz");
        assert_int_equal(g->n_parts, 2);
        assert_string_equal(g->parts[1].type, "text/x-shellscript");
        h = decode_fixture("userdata/derived-awsdocs-mime.txt.base64");
        assert_int_equal(h->n_parts, 2);
        assert_string_equal(h->parts[0].type, "text/cloud-config");

        /* A single part with an mbox From line and a Launch-Index header; text/plain refined by content. */
        c = decode_fixture("userdata/cloudinit-test-filter_cloud_multipart_header.email");
        assert_int_equal(c->n_parts, 1);
        assert_string_equal(c->parts[0].type, "text/cloud-config");
}

static void test_single_types(void **state) {
        static const struct {
                const char *file, *type;
        } cases[] = {
                {"userdata/cloudinit-example-cloud-config-archive.txt", "text/cloud-config-archive"},
                {"userdata/cloudinit-example-include.txt", "text/x-include-url"},
                {"userdata/cloudinit-example-user-script.txt", "text/x-shellscript"},
                {"userdata/cloudinit-example-boothook.txt", "text/cloud-boothook"},
                {"userdata/cloudinit-example-cloud-config-run-cmds.txt", "text/cloud-config"},
                {"userdata/cloudinit-example-cloud-config-write-files.txt", "text/cloud-config"},
                {"nocloud/seed-dir-example/user-data", "text/cloud-config"},
                {"ignition/example-write-file.ign", "application/vnd.coreos.ignition+json"},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(md_userdata_freep) struct md_userdata *u = decode_fixture(cases[i].file);
                assert_int_equal(u->n_parts, 1);
                assert_string_equal(u->parts[0].type, cases[i].type);
        }
}

static const char ours[] = "Content-Type: multipart/mixed; boundary=\"XX\"\n"
                           "MIME-Version: 1.0\n"
                           "\n"
                           "--XX\n"
                           "Content-Type: text/cloud-config\n"
                           "\n"
                           "#cloud-config\n"
                           "hostname: cp-1\n"
                           "kube_firstboot:\n"
                           "  role: auto\n"
                           "  seed: {rule: hostname, hostname: cp-1}\n"
                           "--XX\n"
                           "Content-Type: multipart/alternative; boundary=YY\n"
                           "\n"
                           "--YY\n"
                           "Content-Type: application/vnd.kube-firstboot+yaml\n"
                           "Content-Transfer-Encoding: base64\n"
                           "\n"
                           "YXBpVmVyc2lvbjoga3ViZWFkbS5rOHMuaW8vdjFiZXRhNApraW5kOiBDbHVzdGVyQ29uZmlndXJh\n"
                           "dGlvbgpjb250cm9sUGxhbmVFbmRwb2ludDogazhzLmV4YW1wbGU6NjQ0Mwo=\n"
                           "--YY--\n"
                           "--XX--\n";

static void test_config_documents(void **state) {
        _cleanup_(md_userdata_freep) struct md_userdata *u = NULL;
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        _cleanup_strv_free_ char **problems = NULL;
        (void) state;
        assert_int_equal(md_userdata_decode(ours, strlen(ours), &u), 0);
        assert_int_equal(u->n_parts, 2);
        assert_string_equal(u->parts[1].type, MD_MIME_KUBE_FIRSTBOOT);
        assert_int_equal(md_userdata_config(u, "user-data", &docs, &problems), 0);
        assert_null(problems);
        assert_int_equal(cJSON_GetArraySize(docs), 2);
        assert_string_equal(json_get_string(cJSON_GetArrayItem(docs, 0), "document.kind"),
                            "FirstbootConfiguration");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(docs, 0), "document.seed.rule"), "hostname");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(docs, 0), "source"),
                            "user-data part 1 (text/cloud-config) kube_firstboot");
        assert_string_equal(json_get_string(cJSON_GetArrayItem(docs, 1), "document.controlPlaneEndpoint"),
                            "k8s.example:6443");
}

static void test_config_forms(void **state) {
        static const char list_form[] =
                "#cloud-config\nkube_firstboot:\n"
                "  - {apiVersion: kube-firstboot.io/v1alpha1, kind: FirstbootConfiguration}\n"
                "  - {apiVersion: kubeadm.k8s.io/v1beta4, kind: InitConfiguration}\n";
        static const char string_form[] =
                "#cloud-config\nkube_firstboot: |\n"
                "  apiVersion: kubeadm.k8s.io/v1beta3\n  kind: JoinConfiguration\n"
                "  ---\n  apiVersion: kubeadm.k8s.io/v1beta3\n  kind: ClusterConfiguration\n";
        static const char plain[] = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\n"
                                    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n";
        static const char bad[] = "#cloud-config\nkube_firstboot: 42\n";
        static const char bad_yaml[] = "#cloud-config\nkube_firstboot: [\n";
        const struct {
                const char *text;
                int docs, problems;
        } cases[] = {{list_form, 2, 0}, {string_form, 2, 0}, {plain, 2, 0}, {bad, 0, 1}, {bad_yaml, 0, 1}};
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(md_userdata_freep) struct md_userdata *u = NULL;
                _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
                _cleanup_strv_free_ char **problems = NULL;
                assert_int_equal(md_userdata_decode(cases[i].text, strlen(cases[i].text), &u), 0);
                assert_int_equal(md_userdata_config(u, "user-data", &docs, &problems), 0);
                assert_int_equal(cJSON_GetArraySize(docs), cases[i].docs);
                assert_int_equal(strv_length(problems), cases[i].problems);
        }
}

static void test_mime_limits(void **state) {
        _cleanup_free_ char *deep = NULL;
        _cleanup_(md_userdata_freep) struct md_userdata *u = NULL;
        (void) state;
        /* Twenty nested multiparts: over the depth cap. */
        deep = strdup("");
        for (int i = 0; i < 20; i++) {
                char *t = strdupf("Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n%s\n--b%d--\n", i,
                                  i, deep, i);
                free(deep);
                deep = t;
        }
        assert_int_equal(md_userdata_decode(deep, strlen(deep), &u), -E2BIG);
        assert_null(u);
        /* Empty user-data: no parts. */
        assert_int_equal(md_userdata_decode("", 0, &u), 0);
        assert_int_equal(u->n_parts, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_gzip_fixture),
                cmocka_unit_test(test_gzip_stored_and_multi_member),
                cmocka_unit_test(test_mime_fixtures),
                cmocka_unit_test(test_single_types),
                cmocka_unit_test(test_config_documents),
                cmocka_unit_test(test_config_forms),
                cmocka_unit_test(test_mime_limits),
        };
        return cmocka_run_group_tests_name("userdata", tests, NULL, NULL);
}
