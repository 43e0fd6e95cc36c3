/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "tests/unit/unit.h"

static int setup(void **state) {
        *state = unit_mkdtemp();
        return *state ? 0 : -1;
}

static int teardown(void **state) {
        unit_rm_rf(*state);
        free(*state);
        return 0;
}

static void test_root_path(void **state) {
        (void) state;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        char *untouched = (char *) "x";

        assert_int_equal(root_path(NULL, "/etc/kubernetes", &a), 0);
        assert_string_equal(a, "/etc/kubernetes");
        assert_int_equal(root_path("/tmp/r", "/etc/kubernetes", &b), 0);
        assert_string_equal(b, "/tmp/r/etc/kubernetes");
        assert_int_equal(root_path("/tmp/r/", "/etc", &c), 0);
        assert_string_equal(c, "/tmp/r/etc");
        assert_int_equal(root_path("/tmp/r", "etc/x", &untouched), -EINVAL);
        assert_int_equal(root_path("/tmp/r", "/etc/../../x", &untouched), -EINVAL);
        assert_int_equal(root_path("/tmp/r", "/..", &untouched), -EINVAL);
        assert_string_equal(untouched, "x");
}

static void test_atomic_write_mode_and_content(void **state) {
        const char *root = *state;
        _cleanup_free_ char *full = NULL, *back = NULL;
        struct stat st;
        size_t len;

        /* umask must not widen or narrow the final mode. */
        mode_t old = umask(0077);
        assert_int_equal(
                write_string_atomic(root, "/etc/kubernetes/pki/ca.crt", "CERT\n", 0644, WRITE_MKDIR_PARENTS),
                0);
        umask(0);
        assert_int_equal(
                write_string_atomic(root, "/etc/kubernetes/pki/ca.key", "KEY\n", 0600, WRITE_MKDIR_PARENTS),
                0);
        umask(old);

        assert_int_equal(root_path(root, "/etc/kubernetes/pki/ca.crt", &full), 0);
        assert_int_equal(stat(full, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        free(full);
        assert_int_equal(root_path(root, "/etc/kubernetes/pki/ca.key", &full), 0);
        assert_int_equal(stat(full, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        assert_int_equal(read_file(root, "/etc/kubernetes/pki/ca.key", 0, &back, &len), 0);
        assert_string_equal(back, "KEY\n");
        assert_int_equal(len, 4);
}

static void test_replace_and_keep_existing(void **state) {
        const char *root = *state;
        _cleanup_free_ char *back = NULL;

        assert_int_equal(write_string_atomic(root, "/f", "one", 0644, 0), 0);
        assert_int_equal(write_string_atomic(root, "/f", "two", 0644, 0), 0);
        assert_int_equal(write_string_atomic(root, "/f", "three", 0644, WRITE_KEEP_EXISTING), -EEXIST);
        assert_int_equal(read_file(root, "/f", 0, &back, NULL), 0);
        assert_string_equal(back, "two");
}

static void test_no_temp_files_left(void **state) {
        const char *root = *state;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        assert_int_equal(write_string_atomic(root, "/a", "x", 0644, 0), 0);
        /* A missing parent without WRITE_MKDIR_PARENTS fails and leaves nothing behind. */
        assert_int_equal(write_string_atomic(root, "/missing/b", "x", 0644, 0), -ENOENT);
        d = opendir(root);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || de->d_name[1] == '#')
                        n++;
        assert_int_equal(n, 1);
}

static void test_read_cap(void **state) {
        const char *root = *state;
        char *out = NULL;
        char big[10000];

        memset(big, 'a', sizeof(big));
        assert_int_equal(write_file_atomic(root, "/big", big, sizeof(big), 0644, 0), 0);
        assert_int_equal(read_file(root, "/big", 9999, &out, NULL), -EFBIG);
        assert_null(out);
        assert_int_equal(read_file(root, "/big", 10000, &out, NULL), 0);
        assert_int_equal(strlen(out), 10000);
        free(out);
        assert_int_equal(read_file(root, "/nope", 0, &out, NULL), -ENOENT);
}

/* A node's absolute symlinks point inside the node (the kubelet's kubelet-client-current.pem): read under
 * --root they resolve there, never on the host. */
static void test_read_follows_absolute_symlinks_inside_root(void **state) {
        const char *root = *state;
        _cleanup_free_ char *link = strdupf("%s/current.pem", root);
        char *out = NULL;

        assert_int_equal(write_file_atomic(root, "/pki-2026.pem", "node", 4, 0600, 0), 0);
        assert_int_equal(symlink("/pki-2026.pem", link), 0);
        assert_int_equal(read_file(root, "/current.pem", 0, &out, NULL), 0);
        assert_string_equal(out, "node");
        free(out);
        out = NULL;
        /* A link that leaves the node stays inside it: /etc/hostname under the root does not exist. */
        _cleanup_free_ char *escape = strdupf("%s/escape", root);
        assert_int_equal(symlink("/../../../../etc/hostname", escape), 0);
        assert_int_equal(read_file(root, "/escape", 0, &out, NULL), -ENOENT);
        assert_null(out);
}

static void test_mkdir_p_and_exists(void **state) {
        const char *root = *state;
        assert_int_equal(path_exists(root, "/var/lib/kube-firstboot"), -ENOENT);
        assert_int_equal(mkdir_p(root, "/var/lib/kube-firstboot", 0700), 0);
        assert_int_equal(mkdir_p(root, "/var/lib/kube-firstboot", 0700), 0);
        assert_int_equal(path_exists(root, "/var/lib/kube-firstboot"), 0);
        assert_int_equal(unlink_file(root, "/var/lib/nothing"), 0);
}

static void test_clean_dir_keeps_dir_and_never_leaves_root(void **state) {
        const char *root = *state;
        _cleanup_free_ char *outside = NULL, *link = NULL, *link2 = NULL, *failed = NULL;
        unsigned long removed = 99;

        /* A file outside the directory, reached by a symlink inside it: the link goes, the file stays. */
        assert_int_equal(write_string_atomic(root, "/keep/precious", "x", 0644, WRITE_MKDIR_PARENTS), 0);
        assert_int_equal(write_string_atomic(root, "/d/a/b/c", "x", 0644, WRITE_MKDIR_PARENTS), 0);
        assert_int_equal(write_string_atomic(root, "/d/top", "x", 0600, 0), 0);
        assert_int_equal(root_path(root, "/keep", &outside), 0);
        assert_int_equal(root_path(root, "/d/link", &link), 0);
        assert_int_equal(symlink(outside, link), 0);
        assert_int_equal(root_path(root, "/d/a/abs", &link2), 0);
        assert_int_equal(symlink("/keep", link2), 0);

        assert_int_equal(clean_dir(root, "/d", &failed, &removed), 0);
        assert_null(failed);
        assert_int_equal(removed, 6); /* top, link, a, a/b, a/b/c, a/abs */
        assert_int_equal(path_exists(root, "/d"), 0);
        assert_int_equal(path_exists(root, "/d/a"), -ENOENT);
        assert_int_equal(path_exists(root, "/keep/precious"), 0);
        /* Missing: emptied already. */
        assert_int_equal(clean_dir(root, "/nothing/here", NULL, &removed), 0);
        assert_int_equal(removed, 0);
        assert_int_equal(clean_dir(root, "relative", NULL, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root_path),
                cmocka_unit_test_setup_teardown(test_atomic_write_mode_and_content, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replace_and_keep_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_temp_files_left, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_cap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_follows_absolute_symlinks_inside_root, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_mkdir_p_and_exists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clean_dir_keeps_dir_and_never_leaves_root, setup,
                                                teardown),
        };
        return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
